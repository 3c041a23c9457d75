/* test_keyspace_model.c - the compact keyspace entry (key and small string in
 * one allocation, TTLs in a side index) against a reference model: seeded
 * random inserts, overwrites across the inline/out-of-entry boundary, string
 * growth in place, TTL set/persist/expiry, renames, deletes and slot
 * deletes while the table grows, rehashes and shrinks; after every step the
 * keyspace must agree with the model key by key, and a SCAN must report
 * every key. Also the TTL index on its own, and the bytes one small string
 * key costs. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "actors/config/config.h"
#include "actors/types/hash.h"
#include "actors/types/set.h"
#include "actors/types/types.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/ttl_index.h"
#include "proto/slot.h"
#include "tests/unit/unit.h"

#define NOW 1700000000000LL

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void put_plain(struct keyspace *ks, const char *k)
{
    ks_set_string(ks, (const uint8_t *)k, strlen(k), "v", 1, KS_NO_EXPIRE, NOW);
}

/* ---- TTL index alone ---- */

TEST(ttl_index_random_against_reference)
{
    enum { N = 5000, OPS = 400000 };
    static char objs[N];                  /* their addresses are the keys */
    static long long ref[N];              /* 0: absent */
    ttl_index_t t = { 0 };
    size_t present = 0;
    rng_state = 42;
    int bad = 0;
    for (int op = 0; op < OPS; op++) {
        size_t i = rnd() % N;
        /* Phases that fill up and drain the index, so it grows and shrinks. */
        bool filling = (op / 50000) % 2 == 0;
        unsigned r = (unsigned)(rnd() % 100);
        if (r < (filling ? 60u : 25u)) {
            long long w = (long long)(rnd() % 1000000) + 1;
            if (!ref[i]) present++;
            ref[i] = w;
            ttl_index_put(&t, &objs[i], w);
        } else if (r < 95) {
            long long w = 0;
            bool had = ttl_index_del(&t, &objs[i], &w);
            if (had != (ref[i] != 0) || (had && w != ref[i])) bad++;
            if (ref[i]) present--;
            ref[i] = 0;
        } else if (t.len) {
            const ttl_slot_t *s = ttl_index_sample(&t, rnd());
            size_t j = (size_t)((const char *)s->key - objs);
            if (j >= N || ref[j] != s->when) bad++;
        }
        if (t.len != present) bad++;
        if (op % 9973 == 0) {
            for (size_t j = 0; j < N; j++) {
                long long *w = ttl_index_find(&t, &objs[j]);
                if ((w == NULL) != (ref[j] == 0) || (w && *w != ref[j])) bad++;
            }
            /* Load stays within 1/8 .. 1/2 once grown past the minimum. */
            if (t.cap && (t.len * 2 > t.cap || (t.cap > 16 && t.len * 8 < t.cap))) bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
    for (size_t j = 0; j < N; j++)
        if (ref[j]) ttl_index_del(&t, &objs[j], NULL);
    CHECK_EQ_INT(t.len, 0);
    ttl_index_clear(&t);
}

/* ---- keyspace against a model ---- */

enum { MK = 600, MAXV = 1400 };

typedef struct model_key {
    bool present;
    bool is_obj;                 /* a fake object rather than a string */
    size_t vlen;
    uint8_t val[MAXV];
    long long expire;            /* KS_NO_EXPIRE or absolute ms */
} model_key_t;

static model_key_t model[MK];
static int fake_live;

static void fake_free(void *o) { fake_live--; free(o); }
static size_t fake_mem(const void *o) { (void)o; return 100; }
static const ks_object_ops_t fake_ops = { .type_name = "list", .free_value = fake_free, .mem_usage = fake_mem };

static int key_name(int i, char *buf)
{
    /* Several lengths, and hash tags so some slots hold many keys. */
    if (i % 5 == 0) return sprintf(buf, "{tag%d}k%d", i % 3, i);
    if (i % 7 == 0) return sprintf(buf, "a-rather-long-key-name-to-cross-size-classes:%d", i);
    return sprintf(buf, "key:%d", i);
}

static void fill_value(uint8_t *v, size_t n)
{
    for (size_t j = 0; j < n; j++) v[j] = (uint8_t)rnd();
}

static size_t pick_len(void)
{
    switch (rnd() % 4) {
    case 0: return rnd() % 8;            /* shorter than a pointer */
    case 1: return rnd() % 40;
    case 2: return 400 + rnd() % 200;    /* around the inline limit */
    default: return rnd() % MAXV;
    }
}

struct scan_hits { unsigned char hit[MK]; int unknown; };
static void scan_cb(const uint8_t *key, size_t len, void *arg)
{
    struct scan_hits *h = arg;
    char buf[128];
    for (int i = 0; i < MK; i++) {
        int l = key_name(i, buf);
        if ((size_t)l == len && memcmp(buf, key, len) == 0) {
            h->hit[i] = 1;
            return;
        }
    }
    h->unknown++;
}

/* Compares every key with the model; returns the number of differences. */
static int check_all(struct keyspace *ks, long long now)
{
    int bad = 0;
    size_t live = 0, ttls = 0;
    char k[128];
    for (int i = 0; i < MK; i++) {
        int l = key_name(i, k);
        ks_entry_t *e = ks_peek(ks, (const uint8_t *)k, (size_t)l);
        model_key_t *m = &model[i];
        if (!m->present) {
            if (e) bad++;
            continue;
        }
        live++;
        if (m->expire != KS_NO_EXPIRE) ttls++;
        if (!e) { bad++; continue; }
        if (ks_entry_expire(ks, e) != m->expire) bad++;
        if (ks_entry_slot(e) != slot_of_key((const uint8_t *)k, (size_t)l)) bad++;
        if (m->is_obj) {
            if (ks_entry_type(e) != KS_TYPE_LIST) bad++;
            continue;
        }
        size_t n;
        const uint8_t *v = ks_entry_str(e, &n);
        if (ks_entry_type(e) != KS_TYPE_STRING || n != m->vlen || (n && memcmp(v, m->val, n) != 0)) bad++;
    }
    (void)now;
    if (ks_size(ks) != live) bad++;
    if (ks_expires_count(ks) != ttls) bad++;
    size_t in_slots = 0;
    for (unsigned s = 0; s < SLOT_COUNT; s++) in_slots += ks_count_in_slot(ks, s);
    if (in_slots != live) bad++;
    return bad;
}

TEST(ks_random_ops_against_model)
{
    struct keyspace *ks = ks_create();
    memset(model, 0, sizeof model);
    for (int i = 0; i < MK; i++) model[i].expire = KS_NO_EXPIRE;
    rng_state = 7;
    size_t base = ks_used_bytes(ks);
    int bad = 0, scans_bad = 0;
    char k[128], k2[128];
    long long now = NOW;
    uint64_t cursor = 0;
    struct scan_hits hits;
    memset(&hits, 0, sizeof hits);
    unsigned char present_at_start[MK];
    for (int i = 0; i < MK; i++) present_at_start[i] = model[i].present;
    bool present_whole[MK];
    for (int i = 0; i < MK; i++) present_whole[i] = model[i].present;
    for (int op = 0; op < 60000; op++) {
        int i = (int)(rnd() % MK);
        int l = key_name(i, k);
        model_key_t *m = &model[i];
        /* Fill-heavy and delete-heavy phases: the table doubles and halves. */
        bool filling = (op / 6000) % 2 == 0;
        unsigned r = (unsigned)(rnd() % 100);
        if (r < (filling ? 40u : 15u)) {                 /* SET, keeping or dropping the TTL */
            size_t n = pick_len();
            uint8_t v[MAXV];
            fill_value(v, n);
            long long exp = KS_NO_EXPIRE;
            unsigned how = (unsigned)(rnd() % 3);
            if (how == 1) exp = now + 1 + (long long)(rnd() % 50);
            if (how == 2) exp = KS_KEEP_TTL;
            ks_set_string(ks, (const uint8_t *)k, (size_t)l, v, n, exp, now);
            if (m->present && m->expire != KS_NO_EXPIRE && now > m->expire) m->present = false;
            if (how == 2) {
                if (!m->present) m->expire = KS_NO_EXPIRE;
            } else {
                m->expire = exp;
            }
            m->present = true;
            m->is_obj = false;
            m->vlen = n;
            memcpy(m->val, v, n);
        } else if (r < 50) {                             /* an object value */
            ks_object_t *o = malloc(sizeof *o);
            o->ops = &fake_ops;
            fake_live++;
            ks_set_object(ks, (const uint8_t *)k, (size_t)l, KS_TYPE_LIST, o, KS_KEEP_TTL, now);
            if (m->present && m->expire != KS_NO_EXPIRE && now > m->expire) m->present = false;
            if (!m->present) m->expire = KS_NO_EXPIRE;
            m->present = true;
            m->is_obj = true;
        } else if (r < 58) {                             /* SETRANGE/APPEND-like growth */
            ks_entry_t *e = ks_lookup(ks, (const uint8_t *)k, (size_t)l, now);
            if (m->present && m->expire != KS_NO_EXPIRE && now > m->expire) m->present = false;
            if ((e != NULL) != m->present) bad++;
            if (e && !m->is_obj) {
                size_t n = m->vlen + rnd() % 300;
                if (n > MAXV) n = MAXV;
                uint8_t *d = ks_str_resize(ks, e, n);
                memset(m->val + m->vlen, 0, n - m->vlen);
                if (n > m->vlen && rnd() % 2) {           /* write into the new tail */
                    d[n - 1] = 'z';
                    m->val[n - 1] = 'z';
                }
                m->vlen = n;
            }
        } else if (r < (filling ? 66u : 85u)) {          /* DEL */
            bool had = ks_delete(ks, (const uint8_t *)k, (size_t)l, now);
            bool want = m->present && !(m->expire != KS_NO_EXPIRE && now > m->expire);
            if (had != want) bad++;
            m->present = false;
            present_whole[i] = false;
        } else if (r < 74) {                             /* EXPIRE / PERSIST */
            ks_entry_t *e = ks_lookup(ks, (const uint8_t *)k, (size_t)l, now);
            if (m->present && m->expire != KS_NO_EXPIRE && now > m->expire) m->present = false;
            if ((e != NULL) != m->present) bad++;
            if (e) {
                if (rnd() % 3 == 0) {
                    bool had = ks_persist(ks, e);
                    if (had != (m->expire != KS_NO_EXPIRE)) bad++;
                    m->expire = KS_NO_EXPIRE;
                } else {
                    m->expire = now + 1 + (long long)(rnd() % 80);
                    ks_set_expire(ks, e, m->expire);
                }
            }
        } else if (r < 80) {                             /* RENAME to another key */
            int j = (int)(rnd() % MK);
            int l2 = key_name(j, k2);
            ks_entry_t *e = ks_lookup(ks, (const uint8_t *)k, (size_t)l, now);
            if (m->present && m->expire != KS_NO_EXPIRE && now > m->expire) m->present = false;
            if ((e != NULL) != m->present) bad++;
            if (e) {
                ks_entry_t *d = ks_rename(ks, e, (const uint8_t *)k2, (size_t)l2);
                if (j != i) {
                    model[j] = *m;
                    m->present = false;
                    present_whole[i] = false;
                    present_whole[j] = false;      /* its old value was replaced */
                }
                if (ks_entry_expire(ks, d) != model[j].expire) bad++;
            }
        } else if (r < 81) {                             /* lose a slot */
            unsigned s = slot_of_key((const uint8_t *)k, (size_t)l);
            size_t want = 0;
            for (int j = 0; j < MK; j++) {
                char kb[128];
                int lj = key_name(j, kb);
                if (model[j].present && slot_of_key((const uint8_t *)kb, (size_t)lj) == s) {
                    want++;
                    model[j].present = false;
                    present_whole[j] = false;
                }
            }
            if (ks_delete_slot(ks, s, NULL, NULL) != want) bad++;
        } else if (r < 90) {                             /* time passes; active expiry */
            now += (long long)(rnd() % 20);
            ks_active_expire(ks, now, 1000);
            for (int j = 0; j < MK; j++) {
                if (!model[j].present || model[j].expire == KS_NO_EXPIRE || now <= model[j].expire) continue;
                /* Expired: gone, or still there until met; either way it no
                 * longer counts as present for the whole scan. */
                present_whole[j] = false;
                char kb[128];
                int lj = key_name(j, kb);
                if (!ks_peek(ks, (const uint8_t *)kb, (size_t)lj)) model[j].present = false;
            }
        } else {                                         /* a SCAN step */
            cursor = ks_scan(ks, cursor, NULL, 0, 5, NULL, 0, now, scan_cb, &hits, NULL, NULL);
            if (cursor == 0) {
                for (int j = 0; j < MK; j++)
                    if (present_at_start[j] && present_whole[j] && !hits.hit[j]) scans_bad++;
                if (hits.unknown) scans_bad++;
                memset(&hits, 0, sizeof hits);
                /* A key already expired (not yet deleted) is not live: the
                 * scan need not report it. */
                for (int j = 0; j < MK; j++)
                    present_at_start[j] = present_whole[j] =
                        model[j].present && !(model[j].expire != KS_NO_EXPIRE && now > model[j].expire);
            }
        }
        if (op % 997 == 0) bad += check_all(ks, now);
    }
    bad += check_all(ks, now);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(scans_bad, 0);
    /* Deleting everything gives every byte back (table aside). */
    for (int i = 0; i < MK; i++) {
        int l = key_name(i, k);
        ks_entry_t *e = ks_peek(ks, (const uint8_t *)k, (size_t)l);
        if (e) ks_delete_entry(ks, e);
    }
    CHECK_EQ_INT(ks_size(ks), 0);
    CHECK_EQ_INT(fake_live, 0);
    ks_stats_t st = ks_stats(ks);
    CHECK_EQ_INT(ks_used_bytes(ks), base + st.buckets * sizeof(void *));
    ks_free(ks);
}

/* A small string key is one allocation: header, key and value together, no
 * TTL field, no stored hash. 1000 keys like the memory bench's cost at most
 * 72 bytes each besides the bucket array (what glibc's 80-byte chunk holds;
 * the entry before was 64 bytes of header alone, plus the key, plus a
 * separate string block: over 100 bytes in two chunks). */
TEST(ks_small_string_key_is_one_small_block)
{
    struct keyspace *ks = ks_create();
    size_t base = ks_used_bytes(ks);
    char k[32], v[32];
    enum { N = 1000 };
    for (int i = 0; i < N; i++) {
        int kl = snprintf(k, sizeof k, "key:%d", 100000 + i);
        int vl = snprintf(v, sizeof v, "value:%d", 100000 + i);
        ks_set_string(ks, (const uint8_t *)k, (size_t)kl, v, (size_t)vl, KS_NO_EXPIRE, NOW);
    }
    ks_stats_t st = ks_stats(ks);
    size_t per_key = (ks_used_bytes(ks) - base - st.buckets * sizeof(void *)) / N;
    printf("  small string key: %zu bytes in its entry\n", per_key);
    CHECK(per_key <= 72);
    CHECK(sizeof(ks_entry_t) <= 40);
    /* A TTL costs a slot in the side index, not a field in every entry. */
    size_t before = ks_used_bytes(ks);
    ks_set_expire(ks, ks_lookup(ks, (const uint8_t *)"key:100000", 10, NOW), NOW + 1000);
    CHECK(ks_used_bytes(ks) - before <= 16 * sizeof(ttl_slot_t));
    CHECK_EQ_INT(ks_entry_expire(ks, ks_peek(ks, (const uint8_t *)"key:100000", 10)), NOW + 1000);
    CHECK_EQ_INT(ks_entry_expire(ks, ks_peek(ks, (const uint8_t *)"key:100001", 10)), KS_NO_EXPIRE);
    ks_free(ks);
}

/* Hashes and sets are embedded: the value word inside the entry is the
 * whole hash_t/set_t, so a small hash costs its entry and its listpack and
 * nothing else. The word moves with RENAME, COPY makes an independent one,
 * overwriting or deleting releases what it points to, and the byte count
 * balances. */
TEST(ks_embedded_hash_and_set_live_in_the_entry)
{
    config_reset_defaults();        /* 7.0.15's encoding thresholds, whatever ran before */
    struct keyspace *ks = ks_create();
    put_plain(ks, "base");
    size_t base = ks_used_bytes(ks);
    ks_entry_t *e = ks_set_object(ks, (const uint8_t *)"h", 1, KS_TYPE_HASH, hash_new(), KS_NO_EXPIRE, NOW);
    hash_t *h = ks_entry_obj(e);
    CHECK((void *)h == (void *)&e->value);
    CHECK(ks_entry_flags(e) & KS_EF_EMBED);
    size_t before = hash_ops.mem_usage(h);
    hash_set(h, (const uint8_t *)"f1", 2, (const uint8_t *)"v1", 2);
    hash_set(h, (const uint8_t *)"f2", 2, (const uint8_t *)"v2", 2);
    ks_mem_adjust(ks, (long long)hash_ops.mem_usage(h) - (long long)before);
    CHECK_EQ_STR(ks_type_name(e), "hash");
    CHECK_EQ_STR(types_encoding(e), "listpack");
    CHECK(ks_entry_ops(e) == &hash_ops);
    /* RENAME moves the word; the listpack is the same block. */
    uint8_t *lp = hash_lp(h);
    ks_entry_t *r = ks_rename(ks, e, (const uint8_t *)"h2", 2);
    hash_t *h2 = ks_entry_obj(r);
    CHECK(hash_lp(h2) == lp);
    uint8_t nb[21];
    size_t vl = 0;
    const uint8_t *v = hash_get(h2, (const uint8_t *)"f2", 2, nb, &vl);
    CHECK(v && vl == 2 && memcmp(v, "v2", 2) == 0);
    /* COPY: a deep copy in a shell, consumed by ks_set_object. */
    ks_entry_t *c = ks_set_object(ks, (const uint8_t *)"h3", 2, KS_TYPE_HASH, ks_entry_ops(r)->dup(h2), KS_NO_EXPIRE, NOW);
    hash_t *h3 = ks_entry_obj(c);
    CHECK(hash_lp(h3) != hash_lp(h2));
    before = hash_ops.mem_usage(h3);
    hash_to_table(h3);
    ks_mem_adjust(ks, (long long)hash_ops.mem_usage(h3) - (long long)before);
    CHECK_EQ_STR(types_encoding(c), "hashtable");
    CHECK_EQ_STR(types_encoding(r), "listpack");
    v = hash_get(h3, (const uint8_t *)"f1", 2, nb, &vl);
    CHECK(v && vl == 2 && memcmp(v, "v1", 2) == 0);
    /* A string over an embedded hash releases it (ASan would see a leak). */
    ks_set_string(ks, (const uint8_t *)"h3", 2, "s", 1, KS_NO_EXPIRE, NOW);
    CHECK(!(ks_entry_flags(ks_peek(ks, (const uint8_t *)"h3", 2)) & KS_EF_EMBED));
    /* Sets: an intset, then a table once a member is not an integer. */
    ks_entry_t *se = ks_set_object(ks, (const uint8_t *)"s", 1, KS_TYPE_SET, set_new(NULL, 0), KS_NO_EXPIRE, NOW);
    set_t *s = ks_entry_obj(se);
    before = set_ops.mem_usage(s);
    for (int i = 0; i < 50; i++) {
        char m[8];
        int ml = snprintf(m, sizeof m, "%d", i);
        set_add(s, (const uint8_t *)m, (size_t)ml);
    }
    CHECK_EQ_STR(types_encoding(se), "intset");
    set_add(s, (const uint8_t *)"x", 1);
    CHECK_EQ_STR(types_encoding(se), "hashtable");
    CHECK_EQ_INT(set_len(s), 51);
    ks_mem_adjust(ks, (long long)set_ops.mem_usage(s) - (long long)before);
    CHECK(ks_delete(ks, (const uint8_t *)"s", 1, NOW));
    CHECK(ks_delete(ks, (const uint8_t *)"h2", 2, NOW));
    CHECK(ks_delete(ks, (const uint8_t *)"h3", 2, NOW));
    CHECK_EQ_INT(ks_used_bytes(ks), base);       /* at most 4 keys at once: the table kept its size */
    ks_free(ks);
}

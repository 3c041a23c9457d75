/* test_keyspace.c - the per-worker keyspace: table growth with incremental
 * rehash at 1M keys, the per-slot index, lazy and active expiry, the SCAN
 * guarantee across resizes, random keys, memory and TTL statistics. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "actors/worker/keyspace.h"
#include "proto/slot.h"
#include "tests/unit/unit.h"

#define NOW 1700000000000LL

static const uint8_t *K(const char *s) { return (const uint8_t *)s; }

static ks_entry_t *get(struct keyspace *ks, const char *k, long long now)
{
    return ks_lookup(ks, K(k), strlen(k), now);
}

static void put(struct keyspace *ks, const char *k, const char *v, long long expire)
{
    ks_set_string(ks, K(k), strlen(k), v, strlen(v), expire, NOW);
}

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

TEST(ks_basic_set_get_delete)
{
    struct keyspace *ks = ks_create();
    put(ks, "a", "1", KS_NO_EXPIRE);
    put(ks, "b", "22", KS_NO_EXPIRE);
    CHECK_EQ_INT(ks_size(ks), 2);
    ks_entry_t *e = get(ks, "b", NOW);
    REQUIRE(e != NULL);
    size_t n;
    const uint8_t *v = ks_entry_str(e, &n);
    CHECK_EQ_INT(n, 2);
    CHECK_MEM(v, "22", 2);
    CHECK_EQ_STR(ks_type_name(e), "string");
    put(ks, "b", "a much longer value than before", KS_NO_EXPIRE);
    v = ks_entry_str(get(ks, "b", NOW), &n);
    CHECK_EQ_INT(n, 31);
    CHECK(ks_delete(ks, K("a"), 1, NOW));
    CHECK(!ks_delete(ks, K("a"), 1, NOW));
    CHECK(get(ks, "a", NOW) == NULL);
    CHECK_EQ_INT(ks_size(ks), 1);
    ks_free(ks);
}

TEST(ks_binary_keys_and_values)
{
    struct keyspace *ks = ks_create();
    const uint8_t k1[] = { 'x', 0, 'y' }, k2[] = { 'x', 0, 'z' };
    const char val[] = { 0, 1, 0, 2 };
    ks_set_string(ks, k1, 3, val, 4, KS_NO_EXPIRE, NOW);
    ks_set_string(ks, k2, 3, "", 0, KS_NO_EXPIRE, NOW);
    ks_set_string(ks, K(""), 0, "empty key", 9, KS_NO_EXPIRE, NOW);
    CHECK_EQ_INT(ks_size(ks), 3);
    ks_entry_t *e = ks_lookup(ks, k1, 3, NOW);
    REQUIRE(e);
    size_t n;
    const uint8_t *v = ks_entry_str(e, &n);
    CHECK_EQ_INT(n, 4);
    CHECK_MEM(v, val, 4);
    e = ks_lookup(ks, k2, 3, NOW);
    REQUIRE(e);
    ks_entry_str(e, &n);
    CHECK_EQ_INT(n, 0);
    CHECK(ks_lookup(ks, K(""), 0, NOW) != NULL);
    ks_free(ks);
}

struct collect { int n; char keys[64][64]; };
static void collect_cb(const uint8_t *key, size_t len, void *arg)
{
    struct collect *c = arg;
    if (c->n < 64 && len < 64) {
        memcpy(c->keys[c->n], key, len);
        c->keys[c->n][len] = 0;
    }
    c->n++;
}

TEST(ks_million_keys_incremental_rehash)
{
    struct keyspace *ks = ks_create();
    enum { N = 1000000 };
    char k[32];
    long long worst_us = 0;
    uint64_t worst_visits = 0, worst_moved = 0;
    int resizes = 0, rehash_ops = 0;
    bool was_rehashing = false;
    ks_stats_t before = ks_stats(ks);
    for (int i = 0; i < N; i++) {
        int l = snprintf(k, sizeof k, "key:%d", i);
        long long t0 = now_us();
        ks_set_string(ks, K(k), (size_t)l, "v", 1, KS_NO_EXPIRE, NOW);
        long long dt = now_us() - t0;
        if (dt > worst_us) worst_us = dt;
        ks_stats_t st = ks_stats(ks);
        /* The rehash work this insert did, counted rather than timed: a
         * loaded host or a sanitizer stall inflates the time, not the count. */
        if (st.rehash_visits - before.rehash_visits > worst_visits) worst_visits = st.rehash_visits - before.rehash_visits;
        if (st.rehash_moved - before.rehash_moved > worst_moved) worst_moved = st.rehash_moved - before.rehash_moved;
        before = st;
        if (st.rehashing && !was_rehashing) resizes++;
        if (st.rehashing) rehash_ops++;
        was_rehashing = st.rehashing;
    }
    CHECK_EQ_INT(ks_size(ks), N);
    /* Growth happened in many steps spread over later inserts (each insert
     * moves one bucket), not inside the insert that triggered it. */
    CHECK(resizes >= 15);
    CHECK(rehash_ops > N / 4);
    /* No insert did more than its own step: one bucket moved, after at most
     * 10 empty ones passed (ks_rehash_steps). A whole-table rehash at 1M keys
     * would pass ~500,000 buckets and move as many entries in one insert. The
     * chain of one bucket at load factor <= 1 stays short; 64 is far above it. */
    CHECK(worst_visits <= 11);
    CHECK(worst_moved <= 64);
    CHECK(ks_stats(ks).rehash_moved >= (uint64_t)N / 2);   /* the growth's moves did happen, in steps */
    printf("  1M inserts: worst insert %lld us, at most %llu buckets passed and %llu entries moved by one\n",
           worst_us, (unsigned long long)worst_visits, (unsigned long long)worst_moved);
    int missing = 0;
    for (int i = 0; i < N; i += 7) {
        int l = snprintf(k, sizeof k, "key:%d", i);
        if (!ks_lookup(ks, K(k), (size_t)l, NOW)) missing++;
    }
    CHECK_EQ_INT(missing, 0);
    /* Per-slot counts add up and agree with slot_of_key. */
    size_t total = 0;
    for (unsigned s = 0; s < SLOT_COUNT; s++) total += ks_count_in_slot(ks, s);
    CHECK_EQ_INT(total, N);
    unsigned s42 = slot_of_key(K("key:42"), 6);
    size_t expect = 0;
    for (int i = 0; i < N; i++) {
        int l = snprintf(k, sizeof k, "key:%d", i);
        if (slot_of_key(K(k), (size_t)l) == s42) expect++;
    }
    CHECK_EQ_INT(ks_count_in_slot(ks, s42), expect);
    /* Delete every other key; the rest must still be there. */
    for (int i = 0; i < N; i += 2) {
        int l = snprintf(k, sizeof k, "key:%d", i);
        CHECK(ks_delete(ks, K(k), (size_t)l, NOW) || (missing++, 0));
    }
    CHECK_EQ_INT(ks_size(ks), N / 2);
    for (int i = 1; i < N; i += 2 * 9) {
        int l = snprintf(k, sizeof k, "key:%d", i);
        if (!ks_lookup(ks, K(k), (size_t)l, NOW)) missing++;
    }
    CHECK_EQ_INT(missing, 0);
    size_t bytes_before = ks_used_bytes(ks);
    ks_flush(ks);
    CHECK_EQ_INT(ks_size(ks), 0);
    CHECK(ks_used_bytes(ks) < bytes_before / 10);
    ks_free(ks);
}

TEST(ks_slot_index_newest_first)
{
    struct keyspace *ks = ks_create();
    /* Same hash tag, same slot. */
    put(ks, "{t}1", "v", KS_NO_EXPIRE);
    put(ks, "{t}2", "v", KS_NO_EXPIRE);
    put(ks, "{t}3", "v", KS_NO_EXPIRE);
    put(ks, "other", "v", KS_NO_EXPIRE);
    unsigned s = slot_of_key(K("{t}1"), 4);
    CHECK_EQ_INT(ks_count_in_slot(ks, s), 3);
    struct collect c = { 0 };
    CHECK_EQ_INT(ks_keys_in_slot(ks, s, 10, collect_cb, &c), 3);
    CHECK_EQ_STR(c.keys[0], "{t}3");
    CHECK_EQ_STR(c.keys[1], "{t}2");
    CHECK_EQ_STR(c.keys[2], "{t}1");
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(ks_keys_in_slot(ks, s, 2, collect_cb, &c), 2);
    CHECK_EQ_INT(ks_keys_in_slot(ks, s, 0, collect_cb, &c), 0);
    /* Overwriting a value does not move the key; deleting unlinks it. */
    put(ks, "{t}1", "new", KS_NO_EXPIRE);
    CHECK(ks_delete(ks, K("{t}2"), 4, NOW));
    memset(&c, 0, sizeof c);
    ks_keys_in_slot(ks, s, 10, collect_cb, &c);
    CHECK_EQ_INT(c.n, 2);
    CHECK_EQ_STR(c.keys[0], "{t}3");
    CHECK_EQ_STR(c.keys[1], "{t}1");
    /* Renaming within the slot puts the new name at the head. */
    ks_entry_t *e = get(ks, "{t}1", NOW);
    ks_rename(ks, e, K("{t}9"), 4);
    memset(&c, 0, sizeof c);
    ks_keys_in_slot(ks, s, 10, collect_cb, &c);
    CHECK_EQ_STR(c.keys[0], "{t}9");
    CHECK_EQ_INT(ks_delete_slot(ks, s, NULL, NULL), 2);
    CHECK_EQ_INT(ks_count_in_slot(ks, s), 0);
    CHECK_EQ_INT(ks_size(ks), 1);
    CHECK_EQ_INT(ks_count_in_slot(ks, 99999), 0);
    ks_free(ks);
}

TEST(ks_lazy_expiry)
{
    struct keyspace *ks = ks_create();
    put(ks, "t", "v", NOW + 1000);
    put(ks, "p", "v", KS_NO_EXPIRE);
    CHECK_EQ_INT(ks_expires_count(ks), 1);
    CHECK(get(ks, "t", NOW + 1000) != NULL);      /* alive at exactly its expiry */
    CHECK(ks_exists_noexpire(ks, K("t"), 1, NOW + 1001) == false);
    CHECK_EQ_INT(ks_size(ks), 2);                 /* ... which deleted nothing */
    CHECK(get(ks, "t", NOW + 1001) == NULL);
    CHECK_EQ_INT(ks_size(ks), 1);
    CHECK_EQ_INT(ks_expires_count(ks), 0);
    CHECK_EQ_INT(ks_stats(ks).expired_keys, 1);
    /* KEEPTTL on a stale key: the key is new, without the old TTL. */
    put(ks, "s", "v", NOW + 10);
    ks_set_string(ks, K("s"), 1, "w", 1, KS_KEEP_TTL, NOW + 20);
    ks_entry_t *e = get(ks, "s", NOW + 20);
    REQUIRE(e);
    CHECK_EQ_INT(ks_entry_expire(ks, e), KS_NO_EXPIRE);
    /* KEEPTTL on a live key keeps it. */
    put(ks, "k", "v", NOW + 500);
    ks_set_string(ks, K("k"), 1, "w", 1, KS_KEEP_TTL, NOW);
    CHECK_EQ_INT(ks_entry_expire(ks, get(ks, "k", NOW)), NOW + 500);
    CHECK(ks_persist(ks, get(ks, "k", NOW)));
    CHECK(!ks_persist(ks, get(ks, "k", NOW)));
    ks_free(ks);
}

TEST(ks_active_expiry_and_avg_ttl)
{
    struct keyspace *ks = ks_create();
    char k[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof k, "short:%d", i);
        put(ks, k, "v", NOW + 100);
        snprintf(k, sizeof k, "long:%d", i);
        put(ks, k, "v", NOW + 100000);
        snprintf(k, sizeof k, "none:%d", i);
        put(ks, k, "v", KS_NO_EXPIRE);
    }
    CHECK_EQ_INT(ks_expires_count(ks), 10000);
    /* Average of 100 and 100000 ms. */
    CHECK_EQ_INT(ks_avg_ttl(ks, NOW), 50050);
    CHECK_EQ_INT(ks_active_expire(ks, NOW, 1000), 0);   /* nothing due yet */
    size_t deleted = 0;
    for (int round = 0; round < 200 && ks_expires_count(ks) > 5000; round++)
        deleted += ks_active_expire(ks, NOW + 1000, 100000);
    /* The sweep stops once few samples are stale, so a few may be left. */
    CHECK(deleted >= 4500);
    CHECK(ks_expires_count(ks) >= 5000);
    CHECK_EQ_INT(ks_size(ks), 15000 - deleted);
    CHECK_EQ_INT(ks_stats(ks).expired_keys, deleted);
    snprintf(k, sizeof k, "none:%d", 77);
    CHECK(get(ks, k, NOW + 1000) != NULL);
    CHECK_EQ_INT(ks_avg_ttl(ks, NOW + 1000000), 0);   /* clamped when all are past */
    ks_free(ks);
}

/* Records which of the first N integer keys a scan reported. */
struct seen { unsigned char *hit; int n; long long reports; };
static void seen_cb(const uint8_t *key, size_t len, void *arg)
{
    struct seen *s = arg;
    char buf[32];
    if (len >= sizeof buf) return;
    memcpy(buf, key, len);
    buf[len] = 0;
    int i = atoi(buf + 2);
    if (buf[0] == 'o' && i >= 0 && i < s->n) s->hit[i] = 1;
    s->reports++;
}

TEST(ks_scan_guarantee_under_growth_and_shrink)
{
    struct keyspace *ks = ks_create();
    enum { N = 2000 };
    char k[32];
    for (int i = 0; i < N; i++) {
        int l = snprintf(k, sizeof k, "o:%d", i);
        ks_set_string(ks, K(k), (size_t)l, "v", 1, KS_NO_EXPIRE, NOW);
    }
    struct seen s = { calloc(N, 1), N, 0 };
    uint64_t cur = 0;
    int step = 0, extra = 0;
    do {
        cur = ks_scan(ks, cur, NULL, 0, 10, NULL, 0, NOW, seen_cb, &s, NULL, NULL);
        /* Grow a lot between the first calls: several doublings during the
         * scan (growing forever would keep the cursor from ever finishing). */
        for (int j = 0; j < 500 && step < 40; j++, extra++) {
            int l = snprintf(k, sizeof k, "x:%d", extra);
            ks_set_string(ks, K(k), (size_t)l, "v", 1, KS_NO_EXPIRE, NOW);
        }
        step++;
    } while (cur != 0 && step < 100000);
    int missed = 0;
    for (int i = 0; i < N; i++) missed += !s.hit[i];
    CHECK_EQ_INT(missed, 0);

    /* Now shrink during a scan: delete the x: keys as we go. */
    memset(s.hit, 0, N);
    cur = 0;
    int del = 0;
    step = 0;
    do {
        cur = ks_scan(ks, cur, NULL, 0, 10, NULL, 0, NOW, seen_cb, &s, NULL, NULL);
        for (int j = 0; j < 2000 && del < extra; j++, del++) {
            int l = snprintf(k, sizeof k, "x:%d", del);
            ks_delete(ks, K(k), (size_t)l, NOW);
        }
        ks_active_expire(ks, NOW, 1000);   /* lets the table shrink */
        step++;
    } while (cur != 0 && step < 100000);
    missed = 0;
    for (int i = 0; i < N; i++) missed += !s.hit[i];
    CHECK_EQ_INT(missed, 0);
    free(s.hit);
    ks_free(ks);
}

TEST(ks_scan_filters)
{
    struct keyspace *ks = ks_create();
    put(ks, "user:1", "v", KS_NO_EXPIRE);
    put(ks, "user:2", "v", NOW + 10);
    put(ks, "item:1", "v", KS_NO_EXPIRE);
    struct collect c = { 0 };
    uint64_t cur = 0;
    do cur = ks_scan(ks, cur, K("user:*"), 6, 100, NULL, 0, NOW + 100, collect_cb, &c, NULL, NULL);
    while (cur);
    CHECK_EQ_INT(c.n, 1);                       /* user:2 has expired */
    CHECK_EQ_STR(c.keys[0], "user:1");
    memset(&c, 0, sizeof c);
    cur = 0;
    do cur = ks_scan(ks, cur, NULL, 0, 100, K("STRING"), 6, NOW, collect_cb, &c, NULL, NULL);
    while (cur);
    CHECK_EQ_INT(c.n, 3);
    memset(&c, 0, sizeof c);
    cur = 0;
    do cur = ks_scan(ks, cur, NULL, 0, 100, K("list"), 4, NOW, collect_cb, &c, NULL, NULL);
    while (cur);
    CHECK_EQ_INT(c.n, 0);
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(ks_keys(ks, K("*:1"), 3, NOW, collect_cb, &c), 2);
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(ks_keys(ks, K("*"), 1, NOW + 100, collect_cb, &c), 2);
    ks_free(ks);
}

TEST(ks_random_key)
{
    struct keyspace *ks = ks_create();
    struct collect c = { 0 };
    CHECK(!ks_random_key(ks, NOW, collect_cb, &c));
    char k[32];
    for (int i = 0; i < 50; i++) {
        snprintf(k, sizeof k, "r%d", i);
        put(ks, k, "v", KS_NO_EXPIRE);
    }
    int hits[50] = { 0 };
    for (int t = 0; t < 2000; t++) {
        memset(&c, 0, sizeof c);
        REQUIRE(ks_random_key(ks, NOW, collect_cb, &c));
        CHECK_EQ_INT(c.n, 1);
        int i = atoi(c.keys[0] + 1);
        if (i >= 0 && i < 50) hits[i]++;
    }
    int distinct = 0;
    for (int i = 0; i < 50; i++) distinct += hits[i] > 0;
    CHECK(distinct >= 45);
    /* All expired: the keys are deleted as they are met and nothing is returned. */
    ks_flush(ks);
    for (int i = 0; i < 100; i++) {
        snprintf(k, sizeof k, "e%d", i);
        put(ks, k, "v", NOW + 1);
    }
    put(ks, "alive", "v", KS_NO_EXPIRE);
    memset(&c, 0, sizeof c);
    REQUIRE(ks_random_key(ks, NOW + 5, collect_cb, &c));
    ks_flush(ks);
    for (int i = 0; i < 100; i++) {
        snprintf(k, sizeof k, "e%d", i);
        put(ks, k, "v", NOW + 1);
    }
    CHECK(!ks_random_key(ks, NOW + 5, collect_cb, &c));
    CHECK_EQ_INT(ks_size(ks), 0);
    ks_free(ks);
}

TEST(ks_rename_moves_value_and_ttl)
{
    struct keyspace *ks = ks_create();
    put(ks, "src", "value", NOW + 5000);
    put(ks, "dst", "old", KS_NO_EXPIRE);
    ks_entry_t *e = ks_rename(ks, get(ks, "src", NOW), K("dst"), 3);
    CHECK_EQ_INT(ks_entry_expire(ks, e), NOW + 5000);
    CHECK(get(ks, "src", NOW) == NULL);
    size_t n;
    const uint8_t *v = ks_entry_str(get(ks, "dst", NOW), &n);
    CHECK_EQ_INT(n, 5);
    CHECK_MEM(v, "value", 5);
    CHECK_EQ_INT(ks_size(ks), 1);
    CHECK_EQ_INT(ks_expires_count(ks), 1);
    CHECK_EQ_INT(ks_count_in_slot(ks, slot_of_key(K("src"), 3)), 0);
    CHECK_EQ_INT(ks_count_in_slot(ks, slot_of_key(K("dst"), 3)), 1);
    ks_free(ks);
}

/* What ks_rename takes out and puts in balances: the source's entry and the
 * destination's old value are given back, the moved value counted once. */
TEST(ks_rename_keeps_the_byte_count)
{
    struct keyspace *ks = ks_create();
    put(ks, "base", "v", KS_NO_EXPIRE);      /* the table exists from here on */
    put(ks, "ttl", "v", NOW + 5000);         /* and the TTL index */
    size_t base = ks_used_bytes(ks);
    put(ks, "moved", "a value of some length", KS_NO_EXPIRE);
    size_t one_key = ks_used_bytes(ks) - base;
    put(ks, "other", "an older and much longer value to be dropped", NOW + 5000);
    ks_rename(ks, get(ks, "moved", NOW), K("other"), 5);
    /* "other" holds what "moved" held: one key of the same length and value. */
    CHECK_EQ_INT(ks_used_bytes(ks), base + one_key);
    ks_rename(ks, get(ks, "other", NOW), K("other"), 5);   /* onto itself: nothing moves */
    CHECK_EQ_INT(ks_used_bytes(ks), base + one_key);
    ks_delete(ks, K("other"), 5, NOW);
    CHECK_EQ_INT(ks_used_bytes(ks), base);
    ks_free(ks);
}

/* ks_move (a call over several workers' keys, actors/worker/xcmd.c): the
 * value and TTL go to the other keyspace, expired or not, and each side's
 * counts and bytes follow: moving out and back leaves both as they were. */
TEST(ks_move_between_keyspaces)
{
    struct keyspace *a = ks_create(), *b = ks_create();
    put(a, "base", "v", NOW + 1);            /* tables and TTL indexes exist on both */
    put(b, "base", "v", NOW + 1);
    size_t a0 = ks_used_bytes(a), b0 = ks_used_bytes(b);
    put(a, "k", "a value", NOW + 5000);
    size_t ak = ks_used_bytes(a);
    put(a, "gone", "stale", NOW - 1);        /* expired, not yet deleted */
    ks_entry_t *e = ks_move(a, ks_peek(a, K("k"), 1), b);
    CHECK_EQ_INT(ks_entry_expire(b, e), NOW + 5000);
    CHECK(ks_peek(a, K("k"), 1) == NULL);
    size_t n;
    const uint8_t *v = ks_entry_str(get(b, "k", NOW), &n);
    CHECK_MEM(v, "a value", 7);
    CHECK_EQ_INT(ks_expires_count(b), 2);
    CHECK_EQ_INT(ks_count_in_slot(b, slot_of_key(K("k"), 1)), 1);
    CHECK_EQ_INT(ks_count_in_slot(a, slot_of_key(K("k"), 1)), 0);
    ks_move(a, ks_peek(a, K("gone"), 4), b);
    CHECK(ks_peek(b, K("gone"), 4) != NULL);          /* moved as it was */
    CHECK(get(b, "gone", NOW) == NULL);               /* and expires where it went */
    CHECK_EQ_INT(ks_used_bytes(a), a0);
    ks_move(b, ks_peek(b, K("k"), 1), a);
    CHECK_EQ_INT(ks_used_bytes(b), b0);
    CHECK_EQ_INT(ks_used_bytes(a), ak);
    CHECK_EQ_INT(ks_size(a), 2);
    CHECK_EQ_INT(ks_size(b), 1);
    ks_free(a);
    ks_free(b);
}

static int fake_frees;
static void fake_free(void *o) { fake_frees++; free(o); }
static size_t fake_mem(const void *o) { (void)o; return 1000; }
static const ks_object_ops_t fake_ops = { .type_name = "list", .free_value = fake_free, .mem_usage = fake_mem };

TEST(ks_objects_and_memory)
{
    struct keyspace *ks = ks_create();
    put(ks, "base", "v", KS_NO_EXPIRE);      /* the table exists from here on */
    size_t base = ks_used_bytes(ks);
    ks_object_t *o = malloc(sizeof *o);
    o->ops = &fake_ops;
    ks_set_object(ks, K("l"), 1, KS_TYPE_LIST, o, KS_NO_EXPIRE, NOW);
    CHECK(ks_used_bytes(ks) >= base + 1000);
    ks_entry_t *e = get(ks, "l", NOW);
    CHECK_EQ_INT(ks_entry_type(e), KS_TYPE_LIST);
    CHECK_EQ_STR(ks_type_name(e), "list");
    put(ks, "l", "now a string", KS_NO_EXPIRE);   /* replaces and frees the object */
    CHECK_EQ_INT(fake_frees, 1);
    CHECK_EQ_STR(ks_type_name(get(ks, "l", NOW)), "string");
    o = malloc(sizeof *o);
    o->ops = &fake_ops;
    ks_set_object(ks, K("m"), 1, KS_TYPE_LIST, o, KS_NO_EXPIRE, NOW);
    ks_delete(ks, K("m"), 1, NOW);
    CHECK_EQ_INT(fake_frees, 2);
    ks_delete(ks, K("l"), 1, NOW);
    CHECK_EQ_INT(ks_used_bytes(ks), base);        /* everything given back */
    /* String growth in place. */
    put(ks, "s", "ab", KS_NO_EXPIRE);
    uint8_t *d = ks_str_resize(ks, get(ks, "s", NOW), 5);
    CHECK(d[2] == 0 && d[3] == 0 && d[4] == 0);
    CHECK(d[0] == 'a');
    ks_free(ks);
}

TEST(ks_str_to_ll_rules)
{
    long long v;
    CHECK(ks_str_to_ll(K("0"), 1, &v) && v == 0);
    CHECK(ks_str_to_ll(K("-1"), 2, &v) && v == -1);
    CHECK(ks_str_to_ll(K("9223372036854775807"), 19, &v) && v == 9223372036854775807LL);
    CHECK(ks_str_to_ll(K("-9223372036854775808"), 20, &v) && v == (-9223372036854775807LL - 1));
    CHECK(!ks_str_to_ll(K("9223372036854775808"), 19, &v));
    CHECK(!ks_str_to_ll(K("-9223372036854775809"), 20, &v));
    CHECK(!ks_str_to_ll(K("18446744073709551616"), 20, &v));
    CHECK(!ks_str_to_ll(K("007"), 3, &v));
    CHECK(!ks_str_to_ll(K("-0"), 2, &v));
    CHECK(!ks_str_to_ll(K("+1"), 2, &v));
    CHECK(!ks_str_to_ll(K(" 1"), 2, &v));
    CHECK(!ks_str_to_ll(K("1 "), 2, &v));
    CHECK(!ks_str_to_ll(K(""), 0, &v));
    CHECK(!ks_str_to_ll(K("-"), 1, &v));
    CHECK(!ks_str_to_ll(K("1.5"), 3, &v));
}

/* A load computes each key's hash and slot once (ks_keyref) and inserts with
 * them: the keys must be where plain lookups, the slot index and a second
 * write of the same key find them, through a rehash too. */
TEST(ks_insert_with_precomputed_hash_and_slot)
{
    struct keyspace *ks = ks_create();
    char k[32];
    for (int i = 0; i < 5000; i++) {
        int l = snprintf(k, sizeof k, "key:%d", i);
        int slot = i % 2 ? (int)slot_of_key(K(k), (size_t)l) : -1;   /* given, or left to the keyspace */
        ks_keyref_t ref = ks_keyref(ks, K(k), (size_t)l, slot);
        ks_prefetch_ref(ks, ref);
        ks_prefetch_chain_ref(ks, ref);
        REQUIRE(ks_set_string_ref(ks, K(k), (size_t)l, &ref, k, (size_t)l, i % 3 ? KS_NO_EXPIRE : NOW + 1000, NOW));
    }
    CHECK_EQ_INT(ks_size(ks), 5000);
    size_t total = 0;
    for (unsigned s = 0; s < SLOT_COUNT; s++) total += ks_count_in_slot(ks, s);
    CHECK_EQ_INT(total, 5000);
    for (int i = 0; i < 5000; i++) {
        int l = snprintf(k, sizeof k, "key:%d", i);
        ks_entry_t *e = get(ks, k, NOW);
        REQUIRE(e != NULL);
        size_t n;
        const uint8_t *v = ks_entry_str(e, &n);
        CHECK(n == (size_t)l && !memcmp(v, k, n));
        CHECK_EQ_INT(ks_entry_slot(e), slot_of_key(K(k), (size_t)l));
    }
    unsigned s7 = slot_of_key(K("key:7"), 5);
    size_t expect = 0;
    for (int i = 0; i < 5000; i++) {
        int l = snprintf(k, sizeof k, "key:%d", i);
        if (slot_of_key(K(k), (size_t)l) == s7) expect++;
    }
    CHECK_EQ_INT(ks_count_in_slot(ks, s7), expect);
    /* the same key again through the ref path replaces, not duplicates */
    ks_keyref_t ref = ks_keyref(ks, K("key:7"), 5, (int)s7);
    ks_set_string_ref(ks, K("key:7"), 5, &ref, "new", 3, KS_NO_EXPIRE, NOW);
    CHECK_EQ_INT(ks_size(ks), 5000);
    CHECK_EQ_INT(ks_count_in_slot(ks, s7), expect);
    CHECK(ks_delete(ks, K("key:7"), 5, NOW));
    CHECK_EQ_INT(ks_count_in_slot(ks, s7), expect - 1);
    ks_free(ks);
}

/* A table sized for a load that has not begun (an AOF's incr files, before
 * its RDB base) and shrunk by the cron meanwhile is still sized by the
 * base's RESIZEDB: the load must not grow it by doubling (aof_bench's
 * restart on a rewritten base rehashed one worker's 500,000 keys). */
TEST(ks_expand_an_empty_table_the_cron_is_shrinking)
{
    struct keyspace *ks = ks_create();
    ks_expand(ks, 32768);
    ks_active_expire(ks, NOW, 1000);   /* empty: the cron starts shrinking it */
    CHECK(ks_stats(ks).rehashing);
    ks_expand(ks, 500000);
    ks_stats_t st = ks_stats(ks);
    CHECK(!st.rehashing);
    CHECK_EQ_INT(st.buckets, 524288);
    for (int i = 0; i < 1000; i++) {
        char k[32];
        snprintf(k, sizeof k, "k%d", i);
        put(ks, k, "v", KS_NO_EXPIRE);
    }
    CHECK(!ks_stats(ks).rehashing);
    CHECK_EQ_INT(ks_size(ks), 1000);
    ks_free(ks);
}

/* While a load runs (ks_set_loading) the cron leaves a table sized for it alone. */
TEST(ks_cron_does_not_shrink_while_loading)
{
    struct keyspace *ks = ks_create();
    ks_expand(ks, 32768);
    put(ks, "k", "v", KS_NO_EXPIRE);
    ks_set_loading(true);
    ks_active_expire(ks, NOW, 1000);
    ks_set_loading(false);
    ks_stats_t st = ks_stats(ks);
    CHECK(!st.rehashing);
    CHECK_EQ_INT(st.buckets, 32768);
    ks_active_expire(ks, NOW, 1000);   /* loaded: now it may */
    CHECK(ks_stats(ks).buckets < 32768 || ks_stats(ks).rehashing);
    ks_free(ks);
}

/* keyspace.c - a worker's keys: a chained hash table with incremental
 * rehashing, a TTL vector for sampling expiry, and per-slot key lists.
 *
 * Single-threaded by design (one keyspace per worker thread). Must never
 * block, never do more than a bounded amount of rehash work per call, and
 * never hand out an expired key through ks_lookup.
 *
 * Layout choices:
 * - Two tables while rehashing (old ht[0], new ht[1]); each lookup, insert and
 *   delete moves one bucket, ks_active_expire moves more within its budget.
 *   Large bucket arrays come from calloc, which maps zeroed pages lazily, so
 *   starting a resize is cheap too.
 * - One allocation per key: the entry header, the key and (when it fits) the
 *   string value, with no stored hash (rehashing recomputes it). glibc's
 *   malloc rounds each chunk to 16 bytes with 8 of overhead, so every
 *   separate allocation per key would cost 16-24 bytes more.
 * - Keys with a TTL are flagged and their expiry kept in a side index
 *   (ttl_index.c): a key without one pays nothing, active expiry samples the
 *   index. The sum of the expiry times gives INFO's avg_ttl exactly.
 * - Each slot has a doubly linked list threaded through the entries, newest
 *   at the head, plus a count: COUNTKEYSINSLOT is O(1) and GETKEYSINSLOT
 *   returns the most recently added keys first, as Redis does.
 */
#include <limits.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include "actors/worker/keyspace.h"
#include "actors/worker/keyspace_internal.h"
#include "actors/worker/latency.h"
#include "actors/worker/notify.h"
#include "actors/worker/ttl_index.h"
#include "proto/slot.h"
#include "runtime/xmalloc.h"

#define KS_MIN_TABLE       4
#define KS_SHRINK_PERCENT  10      /* shrink when fewer keys than this % of buckets */
#define KS_CHILD_GROW      6       /* with a fork child alive, grow at this many keys a bucket (keyspace.h) */
#define KS_SAMPLE          20      /* keys per active-expiry sample, as Redis */
#define KS_STALE_PERCENT   10      /* resample while more than this % were expired */
#define KS_INLINE_MAX      512     /* a new string up to this long lives in its entry */

/* ---- hashing and randomness ---- */

static inline uint64_t ks_rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

#define KS_SIPROUND do { \
    v0 += v1; v1 = ks_rotl(v1, 13); v1 ^= v0; v0 = ks_rotl(v0, 32); \
    v2 += v3; v3 = ks_rotl(v3, 16); v3 ^= v2; \
    v0 += v3; v3 = ks_rotl(v3, 21); v3 ^= v0; \
    v2 += v1; v1 = ks_rotl(v1, 17); v1 ^= v2; v2 = ks_rotl(v2, 32); } while (0)

/* SipHash-1-3 with the keyspace's random seed: keys come from clients, so a
 * keyed hash keeps them from forcing long bucket chains. */
static uint64_t ks_hash(const struct keyspace *ks, const uint8_t *in, size_t len)
{
    uint64_t v0 = ks->seed[0] ^ 0x736f6d6570736575ULL, v1 = ks->seed[1] ^ 0x646f72616e646f6dULL;
    uint64_t v2 = ks->seed[0] ^ 0x6c7967656e657261ULL, v3 = ks->seed[1] ^ 0x7465646279746573ULL;
    size_t words = len / 8;
    for (size_t i = 0; i < words; i++, in += 8) {
        uint64_t m;   /* one load in the host's order (a byte loop here did not merge into one): */
        memcpy(&m, in, 8);   /* the hash is this process's own, under a random seed */
        v3 ^= m;
        KS_SIPROUND;
        v0 ^= m;
    }
    uint64_t last = (uint64_t)len << 56;
    for (size_t b = 0; b < (len & 7); b++) last |= (uint64_t)in[b] << (8 * b);
    v3 ^= last;
    KS_SIPROUND;
    v0 ^= last;
    v2 ^= 0xff;
    KS_SIPROUND; KS_SIPROUND; KS_SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static long long ks_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Ops of the embedded types (ks_register_embedded): written at startup
 * before any worker runs, read-only afterwards. */
static const ks_object_ops_t *ks_embedded_ops[KS_TYPE_STREAM + 1];

void ks_register_embedded(int type, const ks_object_ops_t *ops)
{
    if (type >= 0 && type <= KS_TYPE_STREAM) ks_embedded_ops[type] = ops;
}

const ks_object_ops_t *ks_entry_ops(const ks_entry_t *e)
{
    if (ks_entry_flags(e) & KS_EF_EMBED) return ks_embedded_ops[ks_entry_type(e)];
    const ks_object_t *o = e->value;
    return o ? o->ops : NULL;
}

/* ---- lifetime ---- */

struct keyspace *ks_create(void)
{
    struct keyspace *ks = xcalloc(1, sizeof *ks);
    uint64_t seed[3];
    if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
        /* No entropy source: still differ between keyspaces and runs. */
        seed[0] = (uint64_t)ks_mono_us() ^ (uint64_t)(uintptr_t)ks;
        seed[1] = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL;
        seed[2] = seed[0] ^ seed[1];
    }
    ks->seed[0] = seed[0];
    ks->seed[1] = seed[1];
    ks->rng = seed[2];
    ks->rehash_idx = -1;
    ks->slot_head = xcalloc(SLOT_COUNT, sizeof *ks->slot_head);
    ks->slot_count = xcalloc(SLOT_COUNT, sizeof *ks->slot_count);
    ks->used_bytes = sizeof *ks + SLOT_COUNT * (sizeof *ks->slot_head + sizeof *ks->slot_count);
    return ks;
}

/* Bytes the entry's own allocation holds (header, key, an inline string):
 * what malloc really set aside, so the count balances however a string
 * grew or shrank in place. */
static size_t ks_entry_bytes(const ks_entry_t *e)
{
    return malloc_usable_size((void *)e);
}

/* Room for an inline string after the key. */
static size_t ks_inline_cap(const ks_entry_t *e)
{
    return ks_entry_bytes(e) - sizeof *e - e->keylen;
}

/* Bytes of e's value held outside the entry. */
static size_t ks_value_bytes(const ks_entry_t *e)
{
    if (ks_entry_type(e) == KS_TYPE_STRING)
        return ks_entry_flags(e) & KS_EF_STR_HEAP ? sizeof(ks_str_t) + ((const ks_str_t *)e->value)->cap : 0;
    if (!e->value && !(ks_entry_flags(e) & KS_EF_EMBED)) return 0;   /* a value that moved */
    const ks_object_ops_t *ops = ks_entry_ops(e);
    return ops->mem_usage ? ops->mem_usage(ks_entry_obj(e)) : 0;
}

static void ks_value_free_only(ks_entry_t *e)
{
    if (ks_entry_type(e) == KS_TYPE_STRING) {
        if (ks_entry_flags(e) & KS_EF_STR_HEAP) free(e->value);
    } else if (ks_entry_flags(e) & KS_EF_EMBED) {
        ks_embedded_ops[ks_entry_type(e)]->free_value(&e->value);
    } else if (e->value) {
        ks_object_t *o = e->value;
        o->ops->free_value(o);
    }
}

/* Frees e's out-of-entry value and leaves e holding an empty inline string
 * (the state of a fresh entry); used_bytes follows. */
static void ks_value_clear(struct keyspace *ks, ks_entry_t *e)
{
    ks->used_bytes -= ks_value_bytes(e);
    ks_value_free_only(e);
    ks_entry_set_type(e, KS_TYPE_STRING);
    ks_entry_clear_flags(e, (KS_EF_STR_HEAP | KS_EF_EMBED));
    e->value = NULL;
}

static void ks_free_all_entries(struct keyspace *ks)
{
    for (int t = 0; t < 2; t++) {
        for (size_t b = 0; b < ks->ht[t].size; b++) {
            ks_entry_t *e = ks->ht[t].buckets[b];
            while (e) {
                ks_entry_t *next = e->next;
                ks_value_free_only(e);
                free(e);
                e = next;
            }
        }
        free(ks->ht[t].buckets);
        memset(&ks->ht[t], 0, sizeof ks->ht[t]);
    }
    ks->rehash_idx = -1;
}

void ks_free(struct keyspace *ks)
{
    if (!ks) return;
    ks_free_all_entries(ks);
    ttl_index_clear(&ks->ttl);
    free(ks->slot_head);
    free(ks->slot_count);
    free(ks);
}

void ks_flush(struct keyspace *ks)
{
    ks_free_all_entries(ks);
    ttl_index_clear(&ks->ttl);
    ks->ttl_sum = 0;
    memset(ks->slot_head, 0, SLOT_COUNT * sizeof *ks->slot_head);
    memset(ks->slot_count, 0, SLOT_COUNT * sizeof *ks->slot_count);
    ks->used_bytes = sizeof *ks + SLOT_COUNT * (sizeof *ks->slot_head + sizeof *ks->slot_count);
}

/* ---- table mechanics ---- */

static inline uint64_t ks_entry_hash(const struct keyspace *ks, const ks_entry_t *e)
{
    return ks_hash(ks, e->key, e->keylen);
}

static void ks_rehash_steps(struct keyspace *ks, size_t buckets)
{
    size_t empty_visits = buckets * 10;    /* bound the work on sparse tables too */
    while (buckets-- && ks->rehash_idx >= 0) {
        ks_table_t *from = &ks->ht[0], *to = &ks->ht[1];
        while (from->buckets[ks->rehash_idx] == NULL) {
            ks->rehash_idx++;
            ks->stats.rehash_visits++;
            if ((size_t)ks->rehash_idx == from->size) goto done;
            if (--empty_visits == 0) return;
        }
        ks_entry_t *e = from->buckets[ks->rehash_idx];
        while (e) {
            ks_entry_t *next = e->next;
            size_t b = ks_entry_hash(ks, e) & (to->size - 1);
            e->next = to->buckets[b];
            to->buckets[b] = e;
            from->used--;
            to->used++;
            ks->stats.rehash_moved++;
            e = next;
        }
        from->buckets[ks->rehash_idx++] = NULL;
        ks->stats.rehash_visits++;
        if ((size_t)ks->rehash_idx == from->size) goto done;
    }
    return;
done:
    ks->used_bytes -= ks->ht[0].size * sizeof(ks_entry_t *);
    free(ks->ht[0].buckets);
    ks->ht[0] = ks->ht[1];
    memset(&ks->ht[1], 0, sizeof ks->ht[1]);
    ks->rehash_idx = -1;
}

static void ks_resize_to(struct keyspace *ks, size_t want)
{
    size_t size = KS_MIN_TABLE;
    while (size < want) size <<= 1;
    if (size == ks->ht[0].size) return;
    ks_table_t t = { xcalloc(size, sizeof(ks_entry_t *)), size, 0 };
    ks->used_bytes += size * sizeof(ks_entry_t *);
    if (ks->ht[0].size == 0) {
        ks->ht[0] = t;
        return;
    }
    ks->ht[1] = t;
    ks->rehash_idx = 0;
}

static void ks_maybe_grow(struct keyspace *ks)
{
    if (ks->rehash_idx >= 0) return;
    if (ks->ht[0].size == 0) ks_resize_to(ks, KS_MIN_TABLE);
    else if (ks->ht[0].used >= ks->ht[0].size * (ks_fork_child_live() ? KS_CHILD_GROW : 1)) ks_resize_to(ks, ks->ht[0].used * 2);
}

ks_keyref_t ks_keyref(const struct keyspace *ks, const uint8_t *key, size_t len, int slot)
{
    return (ks_keyref_t){ .hash = ks_hash(ks, key, len), .slot = slot };
}

void ks_prefetch_ref(const struct keyspace *ks, ks_keyref_t ref)
{
    const ks_table_t *tb = ks->rehash_idx >= 0 ? &ks->ht[1] : &ks->ht[0];
    if (tb->size == 0) return;
    __builtin_prefetch(&tb->buckets[ref.hash & (tb->size - 1)]);
}

void ks_prefetch_chain_ref(const struct keyspace *ks, ks_keyref_t ref)
{
    const ks_table_t *tb = ks->rehash_idx >= 0 ? &ks->ht[1] : &ks->ht[0];
    if (tb->size == 0) return;
    const ks_entry_t *head = tb->buckets[ref.hash & (tb->size - 1)];
    if (!head) return;
    __builtin_prefetch(head);
    __builtin_prefetch(head->key + 15);   /* keylen and the key's first bytes, in the next line when head straddles one */
    /* the entry's expiry is looked up by its address, which we have now */
    ttl_index_prefetch(&ks->ttl, head);
}

void ks_prefetch(const struct keyspace *ks, const uint8_t *key, size_t len)
{
    ks_prefetch_ref(ks, ks_keyref(ks, key, len, -1));
}

void ks_prefetch_chain(const struct keyspace *ks, const uint8_t *key, size_t len)
{
    ks_prefetch_chain_ref(ks, ks_keyref(ks, key, len, -1));
}

void ks_expand(struct keyspace *ks, size_t n)
{
    /* Empty, even in a resize (the cron shrank a table sized for a load not begun yet): the tables go */
    if (ks->ht[0].used + ks->ht[1].used > 0 || n <= ks->ht[ks->rehash_idx >= 0].size) return;
    for (int t = 0; t < 2; t++) {
        ks->used_bytes -= ks->ht[t].size * sizeof(ks_entry_t *);
        free(ks->ht[t].buckets);
        memset(&ks->ht[t], 0, sizeof ks->ht[t]);
    }
    ks->rehash_idx = -1;
    ks_resize_to(ks, n);
}

static void ks_maybe_shrink(struct keyspace *ks)
{
    if (ks->rehash_idx >= 0 || ks->ht[0].size <= KS_MIN_TABLE || ks_fork_child_live()) return;
    if (ks->ht[0].used * 100 / ks->ht[0].size < KS_SHRINK_PERCENT) ks_resize_to(ks, ks->ht[0].used);
}

/* Finds the entry without any side effect. */
static ks_entry_t *ks_find(const struct keyspace *ks, const uint8_t *key, size_t len, uint64_t h)
{
    for (int t = 0; t < 2; t++) {
        const ks_table_t *tb = &ks->ht[t];
        if (tb->size == 0) continue;
        for (ks_entry_t *e = tb->buckets[h & (tb->size - 1)]; e; e = e->next) {
            if (e->keylen == len && memcmp(e->key, key, len) == 0) return e;
        }
        if (ks->rehash_idx < 0) break;
    }
    return NULL;
}

/* Removes e from its bucket chain (not from the other indexes). */
static void ks_unlink_bucket(struct keyspace *ks, ks_entry_t *e)
{
    uint64_t h = ks_entry_hash(ks, e);
    for (int t = 0; t < 2; t++) {
        ks_table_t *tb = &ks->ht[t];
        if (tb->size == 0) continue;
        ks_entry_t **pp = &tb->buckets[h & (tb->size - 1)];
        while (*pp && *pp != e) pp = &(*pp)->next;
        if (*pp) {
            *pp = e->next;
            tb->used--;
            return;
        }
    }
    abort();   /* an entry that is in no table: memory corruption */
}

/* ---- TTL index ---- */

long long ks_entry_expire(const struct keyspace *ks, const ks_entry_t *e)
{
    if (!(ks_entry_flags(e) & KS_EF_TTL)) return KS_NO_EXPIRE;
    const long long *w = ttl_index_find(&ks->ttl, e);
    return w ? *w : KS_NO_EXPIRE;
}

static void ks_ttl_add(struct keyspace *ks, ks_entry_t *e, long long when)
{
    ks->used_bytes -= ttl_index_bytes(&ks->ttl);
    ttl_index_put(&ks->ttl, e, when);
    ks->used_bytes += ttl_index_bytes(&ks->ttl);
    ks_entry_add_flags(e, KS_EF_TTL);
    ks->ttl_sum += when;
}

static void ks_ttl_remove(struct keyspace *ks, ks_entry_t *e)
{
    long long when = 0;
    ks->used_bytes -= ttl_index_bytes(&ks->ttl);
    if (ttl_index_del(&ks->ttl, e, &when)) ks->ttl_sum -= when;
    ks->used_bytes += ttl_index_bytes(&ks->ttl);
    ks_entry_clear_flags(e, KS_EF_TTL);
}

void ks_set_expire(struct keyspace *ks, ks_entry_t *e, long long when_ms)
{
    if (ks_entry_flags(e) & KS_EF_TTL) {
        if (when_ms != KS_NO_EXPIRE) {
            long long *w = ttl_index_find(&ks->ttl, e);
            ks->ttl_sum += (__int128)when_ms - *w;
            *w = when_ms;
            return;
        }
        ks_ttl_remove(ks, e);
    } else if (when_ms != KS_NO_EXPIRE) {
        ks_ttl_add(ks, e, when_ms);
    }
}

bool ks_persist(struct keyspace *ks, ks_entry_t *e)
{
    if (!(ks_entry_flags(e) & KS_EF_TTL)) return false;
    ks_ttl_remove(ks, e);
    return true;
}

/* ---- entries ---- */

/* A new entry for key with room for an inline string of vroom bytes,
 * linked into the table and its slot's list; it holds an empty string. */
static ks_entry_t *ks_entry_new_at(struct keyspace *ks, const uint8_t *key, size_t len, ks_keyref_t ref,
                                   size_t vroom)
{
    ks_entry_t *e = xmalloc(sizeof *e + len + vroom);
    memset(e, 0, sizeof *e);
    memcpy(e->key, key, len);
    e->keylen = (uint32_t)len;
    uint64_t h = ref.hash;
    unsigned slot = ref.slot >= 0 ? (unsigned)ref.slot : slot_of_key(key, len);
    ks_maybe_grow(ks);
    ks_table_t *tb = ks->rehash_idx >= 0 ? &ks->ht[1] : &ks->ht[0];
    size_t b = h & (tb->size - 1);
    e->next = tb->buckets[b];
    tb->buckets[b] = e;
    tb->used++;
    e->slot_next = ks->slot_head[slot];
    if (e->slot_next) e->slot_next->slot_prev = e;
    ks->slot_head[slot] = e;
    ks->slot_count[slot]++;
    ks->used_bytes += ks_entry_bytes(e);
    return e;
}

static ks_entry_t *ks_entry_new(struct keyspace *ks, const uint8_t *key, size_t len, uint64_t h, size_t vroom)
{
    return ks_entry_new_at(ks, key, len, (ks_keyref_t){ .hash = h, .slot = -1 }, vroom);
}

unsigned ks_entry_slot(const ks_entry_t *e) { return slot_of_key(e->key, e->keylen); }

/* Takes e out of every index and the byte count; its memory stays. */
static void ks_detach_entry(struct keyspace *ks, ks_entry_t *e)
{
    ks_unlink_bucket(ks, e);
    if (ks_entry_flags(e) & KS_EF_TTL) ks_ttl_remove(ks, e);
    unsigned slot = ks_entry_slot(e);      /* not stored: recomputed from the key */
    if (e->slot_prev) e->slot_prev->slot_next = e->slot_next;
    else ks->slot_head[slot] = e->slot_next;
    if (e->slot_next) e->slot_next->slot_prev = e->slot_prev;
    ks->slot_count[slot]--;
    ks->used_bytes -= ks_entry_bytes(e) + ks_value_bytes(e);
}

void ks_delete_entry(struct keyspace *ks, ks_entry_t *e)
{
    ks_detach_entry(ks, e);
    ks_value_free_only(e);
    free(e);
}

void ks_free_detached(ks_entry_t *list)
{
    while (list) {
        ks_entry_t *next = list->next;
        ks_value_free_only(list);
        free(list);
        list = next;
    }
}

/* relaxed: set before the loader's first batch and cleared before clients are let
 * in, each followed by a message (release/acquire) to every worker */
_Atomic bool ks_loading;
void ks_set_loading(bool on) { atomic_store_explicit(&ks_loading, on, memory_order_relaxed); }

/* Deletes an entry because its TTL passed, telling the hook first. */
static void ks_expire_entry(struct keyspace *ks, ks_entry_t *e)
{
    long long t0 = latency_threshold_ms() ? ks_mono_us() : 0;
    if (ks->expired_cb) ks->expired_cb(ks->expired_arg, ks, e->key, e->keylen, ks_entry_expire(ks, e));
    ks_delete_entry(ks, e);
    ks->stats.expired_keys++;
    if (t0) latency_note("expire-del", (ks_mono_us() - t0) / 1000);
}

void ks_set_expired_hook(struct keyspace *ks, ks_expired_cb cb, void *arg)
{
    ks->expired_cb = cb;
    ks->expired_arg = arg;
}

void ks_set_replica_mode(struct keyspace *ks, bool on) { ks->replica_mode = on; }
bool ks_replica_mode(const struct keyspace *ks) { return ks->replica_mode; }
void ks_set_pause_only(struct keyspace *ks, bool on) { ks->pause_only = on; }
bool ks_pause_only(const struct keyspace *ks) { return ks->pause_only; }

ks_entry_t *ks_lookup(struct keyspace *ks, const uint8_t *key, size_t len, long long now_ms)
{
    if (ks->rehash_idx >= 0) ks_rehash_steps(ks, 1);
    ks->stats.lookups++;
    ks_entry_t *e = ks_find(ks, key, len, ks_hash(ks, key, len));
    if (e && ks_is_expired(ks, e, now_ms)) {
        /* A replica waits for its master's DEL; until then the key reads as absent. */
        if (!ks->replica_mode) ks_expire_entry(ks, e);
        return NULL;
    }
    if (e) ks_access_touch(e);
    return e;
}

ks_entry_t *ks_lookup_read(struct keyspace *ks, const uint8_t *key, size_t len, long long now_ms)
{
    ks_entry_t *e = ks_lookup(ks, key, len, now_ms);
    if (e) {
        ks->stats.hits++;
    } else {
        ks->stats.misses++;
        notify_keymiss(key, len);   /* where 7.0.15 counts a miss, it notifies one */
    }
    return e;
}

ks_entry_t *ks_peek(struct keyspace *ks, const uint8_t *key, size_t len)
{
    ks->stats.lookups++;
    return ks_find(ks, key, len, ks_hash(ks, key, len));
}

bool ks_exists_noexpire(const struct keyspace *ks, const uint8_t *key, size_t len, long long now_ms)
{
    const ks_entry_t *e = ks_find(ks, key, len, ks_hash(ks, key, len));
    return e && !ks_is_expired(ks, e, now_ms);
}

static ks_str_t *ks_str_new(const void *val, size_t vlen, size_t cap)
{
    ks_str_t *s = xmalloc(sizeof *s + cap);
    s->len = vlen;
    s->cap = cap;
    if (vlen) memcpy(s->data, val, vlen);
    return s;
}

/* Finds or creates the entry for key, dropping a stale (expired) one, and
 * applies the TTL rule; the caller installs the value. A new entry gets
 * room for vroom bytes of inline string. */
static ks_entry_t *ks_upsert(struct keyspace *ks, const uint8_t *key, size_t klen, const ks_keyref_t *ref,
                             long long expire_ms, long long now_ms, size_t vroom)
{
    if (ks->rehash_idx >= 0) ks_rehash_steps(ks, 1);
    ks_keyref_t r = ref ? *ref : (ks_keyref_t){ .hash = ks_hash(ks, key, klen), .slot = -1 };
    uint64_t h = r.hash;
    ks->stats.lookups++;
    ks_entry_t *e = ks_find(ks, key, klen, h);
    if (e && ks_is_expired(ks, e, now_ms)) {
        /* A stale key is gone: its TTL must not survive into the new value. */
        ks_expire_entry(ks, e);
        e = NULL;
    }
    if (!e) {
        e = ks_entry_new_at(ks, key, klen, r, vroom);
        ks_entry_set_access(e, ks_access_initial());
        if (expire_ms >= 0) ks_ttl_add(ks, e, expire_ms);
        return e;
    }
    ks_access_touch_write(e);
    if (expire_ms != KS_KEEP_TTL) ks_set_expire(ks, e, expire_ms);
    return e;
}

/* Makes e's value the string val (any old value of any type is released). */
static void ks_install_string(struct keyspace *ks, ks_entry_t *e, const void *val, size_t vlen)
{
    ks_entry_clear_flags(e, KS_EF_RAW);   /* a new value, encoded by its length as 7.0.15's */
    if (ks_entry_type(e) == KS_TYPE_STRING && (ks_entry_flags(e) & KS_EF_STR_HEAP)) {
        ks_str_t *s = e->value;
        if (s->cap >= vlen && s->cap <= vlen * 2 + 64) {
            /* Reuse a buffer of about the right size (INCR and friends
             * rewrite small values often); a much larger one is released. */
            if (vlen) memmove(s->data, val, vlen);
            s->len = vlen;
            return;
        }
    }
    if (vlen <= ks_inline_cap(e)) {
        /* val may point into the old inline bytes (a value rewritten from
         * itself): memmove, and clear the old value only after the copy
         * when it lives outside the entry. */
        if (ks_entry_type(e) == KS_TYPE_STRING && !(ks_entry_flags(e) & KS_EF_STR_HEAP)) {
            if (vlen) memmove(e->key + e->keylen, val, vlen);
        } else {
            ks_str_t *old = NULL;
            if (ks_entry_type(e) == KS_TYPE_STRING) {
                old = e->value;
                ks->used_bytes -= sizeof *old + old->cap;
                ks_entry_clear_flags(e, KS_EF_STR_HEAP);
            } else {
                ks_value_clear(ks, e);
            }
            if (vlen) memmove(e->key + e->keylen, val, vlen);
            free(old);
        }
        ks_entry_set_type(e, KS_TYPE_STRING);
        e->value = (void *)(uintptr_t)vlen;
        return;
    }
    ks_str_t *s = ks_str_new(val, vlen, vlen);   /* copy before the old value goes */
    ks_value_clear(ks, e);
    ks_entry_add_flags(e, KS_EF_STR_HEAP);
    e->value = s;
    ks->used_bytes += sizeof *s + s->cap;
}

ks_entry_t *ks_set_string_ref(struct keyspace *ks, const uint8_t *key, size_t klen, const ks_keyref_t *ref,
                              const void *val, size_t vlen, long long expire_ms, long long now_ms)
{
    ks_entry_t *e = ks_upsert(ks, key, klen, ref, expire_ms, now_ms, vlen <= KS_INLINE_MAX ? vlen : 0);
    ks_install_string(ks, e, val, vlen);
    return e;
}

ks_entry_t *ks_set_string(struct keyspace *ks, const uint8_t *key, size_t klen,
                          const void *val, size_t vlen, long long expire_ms, long long now_ms)
{
    return ks_set_string_ref(ks, key, klen, NULL, val, vlen, expire_ms, now_ms);
}


ks_entry_t *ks_set_object(struct keyspace *ks, const uint8_t *key, size_t klen,
                          int type, void *obj, long long expire_ms, long long now_ms)
{
    return ks_set_object_ref(ks, key, klen, NULL, type, obj, expire_ms, now_ms);
}

ks_entry_t *ks_set_object_ref(struct keyspace *ks, const uint8_t *key, size_t klen, const ks_keyref_t *ref,
                              int type, void *obj, long long expire_ms, long long now_ms)
{
    ks_entry_t *e = ks_upsert(ks, key, klen, ref, expire_ms, now_ms, 0);
    ks_value_clear(ks, e);
    ks_entry_set_type(e, type);
    if (type >= 0 && type <= KS_TYPE_STREAM && ks_embedded_ops[type]) {
        memcpy(&e->value, obj, sizeof e->value);   /* the shell's one word */
        free(obj);
        ks_entry_add_flags(e, KS_EF_EMBED);
    } else {
        e->value = obj;
    }
    ks->used_bytes += ks_value_bytes(e);
    return e;
}

bool ks_delete(struct keyspace *ks, const uint8_t *key, size_t len, long long now_ms)
{
    ks_entry_t *e = ks_lookup(ks, key, len, now_ms);
    /* A replica keeps a key past its TTL until its master's DEL (ks_lookup
     * reads it as absent meanwhile): that DEL must remove it, as 7.0.15
     * deletes whatever its master names. */
    if (!e && ks->replica_mode) e = ks_find(ks, key, len, ks_hash(ks, key, len));
    if (!e) return false;
    ks_delete_entry(ks, e);
    return true;
}

bool ks_delete_later(struct keyspace *ks, const uint8_t *key, size_t len, long long now_ms, ks_entry_t **later)
{
    ks_entry_t *e = ks_lookup(ks, key, len, now_ms);
    if (!e && ks->replica_mode) e = ks_find(ks, key, len, ks_hash(ks, key, len));   /* as ks_delete */
    if (!e) return false;
    ks_detach_entry(ks, e);
    e->next = *later;
    *later = e;
    return true;
}

/* Gives e's value and TTL to newkey in keyspace `to` (which may be e's own,
 * `from`) and deletes e. The destination's old entry goes whole, stale or
 * not (its TTL is replaced by e's), and the key is added anew: the newest of
 * its slot, as Redis's delete-then-add. */
static ks_entry_t *ks_transfer(struct keyspace *from, ks_entry_t *e, struct keyspace *to,
                               const uint8_t *newkey, size_t newlen)
{
    uint64_t h = ks_hash(to, newkey, newlen);
    ks_entry_t *old = ks_find(to, newkey, newlen, h);
    if (old) ks_delete_entry(to, old);
    long long expire = ks_entry_expire(from, e);
    ks_entry_t *d;
    if (ks_entry_type(e) == KS_TYPE_STRING && !(ks_entry_flags(e) & KS_EF_STR_HEAP)) {
        size_t vlen;
        const uint8_t *v = ks_entry_str(e, &vlen);
        d = ks_entry_new(to, newkey, newlen, h, vlen);
        ks_install_string(to, d, v, vlen);
        ks_entry_add_flags(d, ks_entry_flags(e) & KS_EF_RAW);   /* the same value object, as in 7.0.15 */
    } else {
        /* Hand the out-of-entry value over, and its bytes with it. */
        d = ks_entry_new(to, newkey, newlen, h, 0);
        size_t vbytes = ks_value_bytes(e);
        from->used_bytes -= vbytes;
        to->used_bytes += vbytes;
        ks_entry_set_type(d, ks_entry_type(e));
        ks_entry_add_flags(d, ks_entry_flags(e) & (KS_EF_STR_HEAP | KS_EF_EMBED | KS_EF_RAW));
        d->value = e->value;      /* an embedded value's word moves as it is */
        ks_entry_set_type(e, KS_TYPE_STRING);
        ks_entry_clear_flags(e, (KS_EF_STR_HEAP | KS_EF_EMBED));
        e->value = NULL;            /* e holds nothing its deletion would count */
    }
    ks_entry_set_access(d, ks_entry_access(e));   /* the value keeps its access clock, as a Redis object does */
    ks_delete_entry(from, e);
    if (expire != KS_NO_EXPIRE) ks_ttl_add(to, d, expire);
    return d;
}

ks_entry_t *ks_rename(struct keyspace *ks, ks_entry_t *e, const uint8_t *newkey, size_t newlen)
{
    if (e->keylen == newlen && memcmp(e->key, newkey, newlen) == 0) return e;
    return ks_transfer(ks, e, ks, newkey, newlen);
}

ks_entry_t *ks_move(struct keyspace *from, ks_entry_t *e, struct keyspace *to)
{
    if (from == to) return e;
    /* The key bytes live in e, which goes last: ks_transfer reads them first. */
    return ks_transfer(from, e, to, e->key, e->keylen);
}

uint8_t *ks_str_resize(struct keyspace *ks, ks_entry_t *e, size_t newlen)
{
    ks_entry_add_flags(e, KS_EF_RAW);     /* changed in place: "raw", as 7.0.15 unshares it */
    if (!(ks_entry_flags(e) & KS_EF_STR_HEAP)) {
        size_t len = (size_t)(uintptr_t)e->value;
        uint8_t *data = e->key + e->keylen;
        if (newlen <= ks_inline_cap(e)) {
            if (newlen > len) memset(data + len, 0, newlen - len);
            e->value = (void *)(uintptr_t)newlen;
            return data;
        }
        /* Out of room in the entry (which must not move): the string goes
         * to its own block, grown geometrically as below. */
        size_t ncap = newlen < 1024 * 1024 ? newlen * 2 : newlen + 1024 * 1024;
        ks_str_t *s = ks_str_new(data, len, ncap);
        ks_entry_add_flags(e, KS_EF_STR_HEAP);
        e->value = s;
        ks->used_bytes += sizeof *s + s->cap;
    }
    ks_str_t *s = e->value;
    if (newlen > s->cap) {
        /* Grow geometrically (APPEND loops), by at most 1 MB at a time past 1 MB. */
        size_t ncap = newlen < 1024 * 1024 ? newlen * 2 : newlen + 1024 * 1024;
        ks->used_bytes -= sizeof *s + s->cap;
        s = xrealloc(s, sizeof *s + ncap);
        s->cap = ncap;
        ks->used_bytes += sizeof *s + s->cap;
        e->value = s;
    }
    if (newlen > s->len) memset(s->data + s->len, 0, newlen - s->len);
    s->len = newlen;
    return s->data;
}

void ks_mem_adjust(struct keyspace *ks, long long delta)
{
    ks->used_bytes = (size_t)((long long)ks->used_bytes + delta);
}

/* ---- expiry ---- */

/* A uniformly random key with a TTL: random slots until one is taken. (The
 * first taken slot after one random position would favour the heads of
 * probe runs; deleting the expired heads would then leave live heads that
 * draw every sample, and the sweep would stop early.) */
static const ttl_slot_t *ks_ttl_pick(struct keyspace *ks)
{
    for (int tries = 0; tries < 64; tries++) {
        const ttl_slot_t *t = ttl_index_at(&ks->ttl, ks_rand(ks));
        if (t->key) return t;
    }
    return ttl_index_sample(&ks->ttl, ks_rand(ks));
}

size_t ks_active_expire_effort(struct keyspace *ks, long long now_ms, const ks_expire_effort_t *eff,
                               ks_expire_report_t *rep)
{
    long long start = ks_mono_us();
    size_t deleted = 0;
    unsigned rounds = 0;
    if (rep) *rep = (ks_expire_report_t){0};
    while (ks->ttl.len > 0 && !ks->replica_mode && !atomic_load_explicit(&ks_loading, memory_order_relaxed)) {
        size_t sample = ks->ttl.len < eff->keys_per_loop ? ks->ttl.len : eff->keys_per_loop;
        size_t expired = 0;
        for (size_t i = 0; i < sample && ks->ttl.len > 0; i++) {
            const ttl_slot_t *t = ks_ttl_pick(ks);
            if (now_ms > t->when) {
                ks_expire_entry(ks, (ks_entry_t *)t->key);
                expired++;
            }
        }
        deleted += expired;
        if (rep) {
            rep->sampled += sample;
            rep->expired += expired;
        }
        if (expired * 100 <= sample * eff->stale_percent) break;
        /* The clock is read every 16 rounds, as 7.0.15's activeExpireCycle. */
        if ((++rounds & 15) == 0 && ks_mono_us() - start > eff->budget_us) {
            if (rep) rep->time_cap = true;
            break;
        }
    }
    if (rep) rep->expire_us = ks_mono_us() - start;
    while (ks->rehash_idx >= 0 && !ks_fork_child_live() && ks_mono_us() - start < eff->budget_us) ks_rehash_steps(ks, 100);
    if (!atomic_load_explicit(&ks_loading, memory_order_relaxed)) ks_maybe_shrink(ks);   /* sized for the load */
    return deleted;
}

size_t ks_active_expire(struct keyspace *ks, long long now_ms, long long budget_us)
{
    ks_expire_effort_t eff = { .keys_per_loop = KS_SAMPLE, .stale_percent = KS_STALE_PERCENT, .budget_us = budget_us };
    return ks_active_expire_effort(ks, now_ms, &eff, NULL);
}

size_t ks_entry_mem(const ks_entry_t *e) { return ks_entry_bytes(e) + ks_value_bytes(e); }

/* ---- statistics ---- */

size_t ks_size(const struct keyspace *ks) { return ks->ht[0].used + ks->ht[1].used; }
size_t ks_expires_count(const struct keyspace *ks) { return ks->ttl.len; }
size_t ks_used_bytes(const struct keyspace *ks) { return ks->used_bytes; }
ks_stats_t ks_stats(const struct keyspace *ks)
{
    ks_stats_t st = ks->stats;
    st.buckets = ks->ht[0].size + ks->ht[1].size;
    st.rehashing = ks->rehash_idx >= 0;
    return st;
}

long long ks_avg_ttl(const struct keyspace *ks, long long now_ms)
{
    if (ks->ttl.len == 0) return 0;
    __int128 avg = ks->ttl_sum / (__int128)ks->ttl.len - now_ms;
    return avg > 0 ? (long long)avg : 0;
}

bool ks_random_key(struct keyspace *ks, long long now_ms, ks_key_cb cb, void *arg)
{
    while (ks_size(ks) > 0) {
        ks_entry_t *e = ks_random_entry(ks);
        if (!e) return false;
        if (!ks_is_expired(ks, e, now_ms)) {
            cb(e->key, e->keylen, arg);
            return true;
        }
        if (ks->replica_mode) {   /* a replica keeps stale keys: report this one */
            cb(e->key, e->keylen, arg);
            return true;
        }
        ks_expire_entry(ks, e);   /* each miss removes a stale key: progress */
    }
    return false;
}

/* ---- per-slot index (the lists: keyspace_scan.c) ---- */

size_t ks_delete_slot_n(struct keyspace *ks, unsigned slot, size_t max, ks_key_cb cb, void *arg)
{
    if (slot >= SLOT_COUNT) return 0;
    size_t n = 0;
    while (ks->slot_head[slot] && n < max) {
        ks_entry_t *e = ks->slot_head[slot];
        if (cb) cb(e->key, e->keylen, arg);
        ks_delete_entry(ks, e);
        n++;
    }
    ks_maybe_shrink(ks);
    return n;
}

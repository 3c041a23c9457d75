/* keyspace_scan.c - walking a worker's keys without changing them: KEYS,
 * SCAN's cursor over the (possibly rehashing) table, ks_foreach, and the
 * per-slot lists (COUNTKEYSINSLOT, GETKEYSINSLOT). Owner thread only, as
 * all of keyspace.h.
 *
 * Must never: modify the keyspace (an expired key is skipped, not deleted;
 * SCAN reports the expired keys its pattern matches for the caller to
 * delete), or let a SCAN call do unbounded work on a sparse table.
 */
#include <string.h>

#include "actors/worker/keyspace.h"
#include "actors/worker/keyspace_internal.h"
#include "proto/glob.h"
#include "proto/slot.h"

static bool ks_pattern_all(const uint8_t *pat, size_t patlen)
{
    return pat == NULL || (patlen == 1 && pat[0] == '*');
}

size_t ks_keys(struct keyspace *ks, const uint8_t *pat, size_t patlen, long long now_ms,
               ks_key_cb cb, void *arg)
{
    bool all = ks_pattern_all(pat, patlen);
    size_t n = 0;
    for (int t = 0; t < 2; t++) {
        for (size_t b = 0; b < ks->ht[t].size; b++) {
            for (ks_entry_t *e = ks->ht[t].buckets[b]; e; e = e->next) {
                if (ks_is_expired(ks, e, now_ms)) continue;
                if (!all && !glob_match((const char *)pat, patlen, (const char *)e->key, e->keylen, 0))
                    continue;
                cb(e->key, e->keylen, arg);
                n++;
            }
        }
    }
    return n;
}

static uint64_t ks_rev(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0fULL) | ((v & 0x0f0f0f0f0f0f0f0fULL) << 4);
    return __builtin_bswap64(v);
}

struct ks_scan_filter {
    const struct keyspace *ks;
    const uint8_t *pat;
    size_t patlen;
    bool all;
    const uint8_t *type;
    size_t typelen;
    long long now_ms;
    ks_key_cb cb;
    void *arg;
    ks_key_cb expired_cb;         /* NULL: expired keys are only skipped */
    void *expired_arg;
    long long seen;
};

static bool ks_type_is(const uint8_t *want, size_t wlen, const char *name)
{
    if (strlen(name) != wlen) return false;
    for (size_t i = 0; i < wlen; i++) {
        int x = (want[i] >= 'A' && want[i] <= 'Z') ? want[i] + 32 : want[i];
        if (x != name[i]) return false;
    }
    return true;
}

static void ks_scan_bucket(ks_entry_t *e, struct ks_scan_filter *f)
{
    for (; e; e = e->next) {
        f->seen++;
        if (!f->all && !glob_match((const char *)f->pat, f->patlen, (const char *)e->key, e->keylen, 0))
            continue;
        if (ks_is_expired(f->ks, e, f->now_ms)) {
            if (f->expired_cb) f->expired_cb(e->key, e->keylen, f->expired_arg);
            continue;
        }
        if (f->type && !ks_type_is(f->type, f->typelen, ks_type_name(e))) continue;
        f->cb(e->key, e->keylen, f->arg);
    }
}

/* Visits the bucket(s) of cursor v and returns the next cursor. The cursor
 * counts in bit-reversed order, so after the table doubles or halves every
 * bucket not yet visited still maps to a cursor value not yet reached. */
static uint64_t ks_scan_step(struct keyspace *ks, uint64_t v, struct ks_scan_filter *f)
{
    if (ks->rehash_idx < 0) {
        uint64_t m = ks->ht[0].size - 1;
        ks_scan_bucket(ks->ht[0].buckets[v & m], f);
        v |= ~m;
        return ks_rev(ks_rev(v) + 1);
    }
    ks_table_t *small = &ks->ht[0], *big = &ks->ht[1];
    if (small->size > big->size) {
        ks_table_t *t = small;
        small = big;
        big = t;
    }
    uint64_t m0 = small->size - 1, m1 = big->size - 1;
    ks_scan_bucket(small->buckets[v & m0], f);
    /* Then every bucket of the big table that the small bucket expands to. */
    do {
        ks_scan_bucket(big->buckets[v & m1], f);
        v |= ~m1;
        v = ks_rev(ks_rev(v) + 1);
    } while (v & (m0 ^ m1));
    return v;
}

uint64_t ks_scan(struct keyspace *ks, uint64_t cursor, const uint8_t *pat, size_t patlen,
                 long long count, const uint8_t *type, size_t typelen, long long now_ms,
                 ks_key_cb cb, void *arg, ks_key_cb expired_cb, void *expired_arg)
{
    if (ks_size(ks) == 0 || ks->ht[0].size == 0) return 0;
    if (count < 1) count = 1;
    if (count > (1LL << 40)) count = 1LL << 40;   /* keeps count * 10 from overflowing */
    struct ks_scan_filter f = { ks, pat, patlen, ks_pattern_all(pat, patlen), type, typelen, now_ms,
                                cb, arg, expired_cb, expired_arg, 0 };
    long long budget = count * 10;   /* buckets, as Redis: bound the work on sparse tables */
    do {
        cursor = ks_scan_step(ks, cursor, &f);
    } while (cursor && --budget > 0 && f.seen < count);
    return cursor;
}

void ks_foreach(struct keyspace *ks, ks_entry_cb cb, void *arg)
{
    for (int t = 0; t < 2; t++)
        for (size_t b = 0; b < ks->ht[t].size; b++)
            for (ks_entry_t *e = ks->ht[t].buckets[b]; e; e = e->next) cb(arg, e, ks_entry_expire(ks, e));
}

/* ---- per-slot index ---- */

size_t ks_count_in_slot(const struct keyspace *ks, unsigned slot)
{
    return slot < SLOT_COUNT ? ks->slot_count[slot] : 0;
}

size_t ks_keys_in_slot(const struct keyspace *ks, unsigned slot, size_t count,
                       ks_key_cb cb, void *arg)
{
    if (slot >= SLOT_COUNT) return 0;
    size_t n = 0;
    for (ks_entry_t *e = ks->slot_head[slot]; e && n < count; e = e->slot_next, n++)
        cb(e->key, e->keylen, arg);
    return n;
}

size_t ks_entries_in_slot(struct keyspace *ks, unsigned slot, ks_entry_cb cb, void *arg)
{
    if (slot >= SLOT_COUNT) return 0;
    size_t n = 0;
    for (ks_entry_t *e = ks->slot_head[slot]; e; e = e->slot_next, n++) cb(arg, e, ks_entry_expire(ks, e));
    return n;
}

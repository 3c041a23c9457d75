/* keyspace_internal.h - the keyspace's own layout, shared by the files that
 * implement it (keyspace.c, keyspace_sample.c, keyspace_scan.c) and nothing
 * else: everyone else goes through keyspace.h. */
#ifndef SHOAL_ACTORS_KEYSPACE_INTERNAL_H
#define SHOAL_ACTORS_KEYSPACE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/worker/keyspace.h"
#include "actors/worker/ttl_index.h"

typedef struct ks_table {
    ks_entry_t **buckets;
    size_t size;                   /* 0 or a power of two */
    size_t used;
} ks_table_t;

struct keyspace {
    ks_table_t ht[2];
    long long rehash_idx;          /* next ht[0] bucket to move, -1 when not rehashing */
    uint64_t seed[2];
    uint64_t rng;
    ttl_index_t ttl;               /* entry -> expiry, for the entries flagged KS_EF_TTL */
    __int128 ttl_sum;              /* sum of their expiry times, for avg_ttl */
    ks_entry_t **slot_head;        /* SLOT_COUNT list heads */
    uint32_t *slot_count;          /* SLOT_COUNT counters */
    size_t used_bytes;
    ks_stats_t stats;
    ks_expired_cb expired_cb;      /* told before an expired key is deleted */
    void *expired_arg;
    bool replica_mode;             /* expired keys read as absent but stay */
    bool pause_only;               /* replica_mode is for a client pause, not a replica role */
};

static inline uint64_t ks_rand(struct keyspace *ks)
{
    /* splitmix64: plenty for sampling, and cheap. */
    uint64_t z = (ks->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Set while a load (AOF replay, dump.rdb) runs: no key reads as expired
 * (ks_set_loading; relaxed, see there). */
extern _Atomic bool ks_loading;

static inline bool ks_is_expired(const struct keyspace *ks, const ks_entry_t *e, long long now_ms)
{
    if (!(ks_entry_flags(e) & KS_EF_TTL) || atomic_load_explicit(&ks_loading, memory_order_relaxed)) return false;
    long long when = ks_entry_expire(ks, e);
    return when != KS_NO_EXPIRE && now_ms > when;
}

/* A random entry, expired or not (a random non-empty bucket's random
 * entry), or NULL when the table is empty. keyspace_sample.c. */
ks_entry_t *ks_random_entry(struct keyspace *ks);

#endif

/* ttl_index.h - the keyspace's side table of expiry times: entry pointer ->
 * absolute expiry (unix ms), for the keys that have a TTL.
 *
 * Keeping TTLs out of the entries means a key without one pays nothing for
 * the feature (most keys in most datasets). Open addressing with linear
 * probing over 16-byte slots, kept between 1/8 and 1/2 full; deletion
 * shifts the following run back, so there are no tombstones and a random
 * occupied slot is found in a few random probes (active expiry samples so).
 *
 * Single-threaded (the keyspace's owner). Growing or shrinking rebuilds the
 * table in one go: O(keys with a TTL), amortised O(1) per insert.
 */
#ifndef SHOAL_ACTORS_TTL_INDEX_H
#define SHOAL_ACTORS_TTL_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ttl_slot {
    const void *key;              /* NULL: free */
    long long when;
} ttl_slot_t;

typedef struct ttl_index {
    ttl_slot_t *slots;
    size_t cap;                   /* 0 or a power of two */
    size_t len;
} ttl_index_t;

/* Releases the slots; the index is empty (and reusable) afterwards. */
void ttl_index_clear(ttl_index_t *t);
/* key's expiry, or NULL if key has none. The pointer is valid until the
 * next put or del. */
long long *ttl_index_find(const ttl_index_t *t, const void *key);
/* Starts fetching the slot where `key` would be found (a lookup a little
 * later: keyspace.c's prefetch of a key's chain). */
void ttl_index_prefetch(const ttl_index_t *t, const void *key);
/* Sets key's expiry (adds it or overwrites). key must not be NULL. */
void ttl_index_put(ttl_index_t *t, const void *key, long long when);
/* Removes key; returns true and its expiry in *when (may be NULL) if it
 * was there. */
bool ttl_index_del(ttl_index_t *t, const void *key, long long *when);
/* The slot at position r (mod cap), occupied or not (key NULL). Drawing
 * random positions until one is occupied samples the keys uniformly; at
 * least 1/8 of the slots are occupied, so that takes a few draws. The index
 * must not be empty. */
static inline const ttl_slot_t *ttl_index_at(const ttl_index_t *t, uint64_t r)
{
    return &t->slots[r & (t->cap - 1)];
}
/* The first occupied slot at or after position r (mod cap). Not uniform (a
 * slot after a long free run is favoured): only a fallback for
 * ttl_index_at. The index must not be empty. */
const ttl_slot_t *ttl_index_sample(const ttl_index_t *t, uint64_t r);
/* Heap bytes of the slot array. */
static inline size_t ttl_index_bytes(const ttl_index_t *t) { return t->cap * sizeof(ttl_slot_t); }

#endif

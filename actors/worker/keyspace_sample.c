/* keyspace_sample.c - drawing keys at random from a keyspace: one fairly
 * (RANDOMKEY, SPOP-like callers) or a handful of neighbours at once
 * (eviction's samples). Owner thread only, as all of keyspace.h; never
 * modifies the keyspace. */
#include "actors/worker/keyspace.h"
#include "actors/worker/keyspace_internal.h"

static ks_entry_t *ks_bucket_pick(struct keyspace *ks, ks_entry_t *head)
{
    size_t len = 0;
    for (ks_entry_t *e = head; e; e = e->next) len++;
    size_t k = ks_rand(ks) % len;
    while (k--) head = head->next;
    return head;
}

/* A uniformly chosen non-empty bucket's random entry, or NULL after too many
 * empty probes (very sparse table). */
ks_entry_t *ks_random_entry(struct keyspace *ks)
{
    for (int tries = 0; tries < 100; tries++) {
        ks_entry_t *head;
        if (ks->rehash_idx >= 0) {
            /* ht[0] buckets below rehash_idx are empty: draw from the rest of
             * ht[0] and all of ht[1]. */
            size_t lo = (size_t)ks->rehash_idx;
            size_t span = ks->ht[0].size - lo + ks->ht[1].size;
            size_t r = lo + ks_rand(ks) % span;
            head = r < ks->ht[0].size ? ks->ht[0].buckets[r] : ks->ht[1].buckets[r - ks->ht[0].size];
        } else {
            head = ks->ht[0].buckets[ks_rand(ks) & (ks->ht[0].size - 1)];
        }
        if (head) return ks_bucket_pick(ks, head);
    }
    /* Walk from a random bucket: always finds an entry when one exists. */
    for (int t = 0; t < 2; t++) {
        size_t size = ks->ht[t].size;
        if (size == 0) continue;
        size_t start = ks_rand(ks) & (size - 1);
        for (size_t i = 0; i < size; i++) {
            ks_entry_t *head = ks->ht[t].buckets[(start + i) & (size - 1)];
            if (head) return ks_bucket_pick(ks, head);
        }
    }
    return NULL;
}

size_t ks_sample(struct keyspace *ks, bool with_ttl, ks_entry_t **out, size_t n)
{
    size_t got = 0;
    if (with_ttl) {
        /* A run of the TTL index from a random place: sequential slots. */
        if (ks->ttl.len == 0) return 0;
        uint64_t r = ks_rand(ks);
        for (size_t step = 0; step < ks->ttl.cap && got < n; step++) {
            const ttl_slot_t *t = ttl_index_at(&ks->ttl, r + step);
            if (t->key) out[got++] = (ks_entry_t *)t->key;
        }
        return got;
    }
    /* As 7.0.15's dictGetSomeKeys: consecutive buckets from a random one (a
     * cache line holds eight), jumping elsewhere after a run of empty ones. */
    if (ks_size(ks) == 0) return 0;
    size_t mask = ks->ht[0].size - 1;
    if (ks->rehash_idx >= 0 && ks->ht[1].size > ks->ht[0].size) mask = ks->ht[1].size - 1;
    size_t i = ks_rand(ks) & mask, empty = 0;
    for (size_t steps = n * 10; got < n && steps > 0; steps--) {
        for (int t = 0; t < (ks->rehash_idx >= 0 ? 2 : 1) && got < n; t++) {
            if (i >= ks->ht[t].size || (t == 0 && ks->rehash_idx >= 0 && (long long)i < ks->rehash_idx)) continue;
            ks_entry_t *e = ks->ht[t].buckets[i];
            if (!e) {
                if (++empty >= 5 && empty > n) {
                    i = ks_rand(ks) & mask;
                    empty = 0;
                }
                continue;
            }
            empty = 0;
            for (; e && got < n; e = e->next) out[got++] = e;
        }
        i = (i + 1) & mask;
    }
    return got;
}


/* ttl_index.c - entry pointer -> expiry, open addressing (see ttl_index.h).
 *
 * Must never leave a gap inside a probe run: lookups stop at the first free
 * slot, so deletion moves later members of the run back (Knuth's algorithm R
 * for linear probing) instead of marking the slot.
 */
#include <stdlib.h>
#include <string.h>
#include "actors/worker/ttl_index.h"
#include "runtime/xmalloc.h"

#define TTL_MIN_CAP 16

/* Fibonacci hashing of the pointer: allocator addresses share their low
 * bits, the multiply spreads every bit into the top ones we keep. */
static inline size_t ttl_home(const ttl_index_t *t, const void *key)
{
    uint64_t h = (uint64_t)(uintptr_t)key * 0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 32) & (t->cap - 1);
}

void ttl_index_clear(ttl_index_t *t)
{
    free(t->slots);
    memset(t, 0, sizeof *t);
}

long long *ttl_index_find(const ttl_index_t *t, const void *key)
{
    if (t->len == 0) return NULL;
    size_t m = t->cap - 1;
    for (size_t i = ttl_home(t, key);; i = (i + 1) & m) {
        if (t->slots[i].key == key) return &t->slots[i].when;
        if (t->slots[i].key == NULL) return NULL;
    }
}

void ttl_index_prefetch(const ttl_index_t *t, const void *key)
{
    if (t->len > 0) __builtin_prefetch(&t->slots[ttl_home(t, key)]);
}

static void ttl_rebuild(ttl_index_t *t, size_t cap)
{
    ttl_slot_t *old = t->slots;
    size_t oldcap = t->cap;
    t->slots = xcalloc(cap, sizeof *t->slots);
    t->cap = cap;
    size_t m = cap - 1;
    for (size_t j = 0; j < oldcap; j++) {
        if (!old[j].key) continue;
        size_t i = ttl_home(t, old[j].key);
        while (t->slots[i].key) i = (i + 1) & m;
        t->slots[i] = old[j];
    }
    free(old);
}

void ttl_index_put(ttl_index_t *t, const void *key, long long when)
{
    long long *w = ttl_index_find(t, key);
    if (w) {
        *w = when;
        return;
    }
    if ((t->len + 1) * 2 > t->cap) ttl_rebuild(t, t->cap ? t->cap * 2 : TTL_MIN_CAP);
    size_t m = t->cap - 1, i = ttl_home(t, key);
    while (t->slots[i].key) i = (i + 1) & m;
    t->slots[i].key = key;
    t->slots[i].when = when;
    t->len++;
}

bool ttl_index_del(ttl_index_t *t, const void *key, long long *when)
{
    if (t->len == 0) return false;
    size_t m = t->cap - 1, i = ttl_home(t, key);
    while (t->slots[i].key != key) {
        if (t->slots[i].key == NULL) return false;
        i = (i + 1) & m;
    }
    if (when) *when = t->slots[i].when;
    /* Close the gap: a later member of the run whose home is not in the
     * cyclic range (i, j] may move into i. */
    for (size_t j = (i + 1) & m; t->slots[j].key; j = (j + 1) & m) {
        size_t h = ttl_home(t, t->slots[j].key);
        bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (stays) continue;
        t->slots[i] = t->slots[j];
        i = j;
    }
    t->slots[i].key = NULL;
    t->len--;
    if (t->len == 0) ttl_index_clear(t);   /* no TTLs left: no slot array either */
    else if (t->cap > TTL_MIN_CAP && t->len * 8 < t->cap) ttl_rebuild(t, t->cap / 2);
    return true;
}

const ttl_slot_t *ttl_index_sample(const ttl_index_t *t, uint64_t r)
{
    size_t m = t->cap - 1;
    for (size_t i = (size_t)r & m;; i = (i + 1) & m)
        if (t->slots[i].key) return &t->slots[i];
}

/* sdict.h - a hash table of binary-safe strings, each with an optional
 * value pointer: the "hashtable" encoding of large hashes and sets, and a
 * per-thread random source for the commands that pick members at random.
 *
 * Owned by one worker thread like the keyspace it lives in; nothing is
 * locked. Buckets are a power of two; the table doubles when it is full and
 * halves when under 1/8 full, all at once (a collection is one key; its
 * resize is bounded by its own size). Keys are hashed with SipHash-1-3
 * under a per-process random key, so clients cannot force long chains.
 *
 * Scanning uses Redis's reverse-binary cursor: every member present for
 * the whole scan is reported at least once even if the table is resized
 * between calls (members may be reported more than once).
 */
#ifndef SHOAL_ACTORS_TYPES_SDICT_H
#define SHOAL_ACTORS_TYPES_SDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sd_entry {
    struct sd_entry *next;
    void *val;                    /* the caller's; sdict never looks at it */
    uint64_t hash;
    uint32_t klen;
    uint8_t key[];
} sd_entry_t;

typedef struct sdict {
    sd_entry_t **buckets;
    size_t size;                  /* buckets, a power of two (0 when empty) */
    size_t used;                  /* entries */
} sdict_t;

/* An empty table sized for about `hint` entries. Aborts on OOM. */
sdict_t *sd_new(size_t hint);
/* Frees the table and its entries, calling free_val (may be NULL) on each value. */
void sd_free(sdict_t *d, void (*free_val)(void *));
static inline size_t sd_size(const sdict_t *d) { return d->used; }
/* The entry for key, or NULL. */
sd_entry_t *sd_find(const sdict_t *d, const uint8_t *key, size_t len);
/* The entry for key, added (with val NULL) when absent; *added says which. */
sd_entry_t *sd_add(sdict_t *d, const uint8_t *key, size_t len, bool *added);
/* Removes key; returns true if it was there, its value in *val (may be NULL). */
bool sd_delete(sdict_t *d, const uint8_t *key, size_t len, void **val);
/* Removes entry e of d, found earlier (no hashing, no comparing of keys). */
void sd_delete_entry(sdict_t *d, sd_entry_t *e);
/* The entry whose key bytes are at key (a pointer to some entry's e->key,
 * as the sorted set's tree keeps them). */
static inline sd_entry_t *sd_entry_of_key(const uint8_t *key)
{
    return (sd_entry_t *)(void *)(key - offsetof(sd_entry_t, key));
}
/* A random entry, taken among up to 20 gathered from the buckets after a
 * random one (uniform for small tables, as 7.0.15's fair pick), or NULL when
 * empty. */
sd_entry_t *sd_random(const sdict_t *d);
/* Bytes held by the table (buckets and entries, values not included). */
size_t sd_mem(const sdict_t *d);

/* Iteration: for (sd_iter_t it = {0}; (e = sd_next(d, &it));) ... The
 * table must not change during an iteration, except sd_delete of the
 * entry just returned. */
typedef struct sd_iter { size_t bucket; sd_entry_t *next; bool started; } sd_iter_t;
sd_entry_t *sd_next(const sdict_t *d, sd_iter_t *it);

/* One SCAN step from cursor (0 starts): calls fn for each entry of one
 * bucket chain (and of the buckets the cursor covers at smaller sizes) and
 * returns the next cursor, 0 when the scan is done. */
uint64_t sd_scan(const sdict_t *d, uint64_t cursor, void (*fn)(void *arg, const sd_entry_t *e), void *arg);

/* A 64-bit random number from the calling thread's generator. */
uint64_t sd_rand(void);

#endif

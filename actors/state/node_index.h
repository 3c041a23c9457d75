/* node_index.h - the state actor's map from a node name (40 bytes) to its
 * index in the node table, so that finding a record costs one hash probe
 * instead of a scan of the table. Every bus frame looks up its sender and
 * each of its gossip entries (up to 65 535 of them), so the lookup is on the
 * hot path of the state actor.
 *
 * Names come from peers, so the hash is keyed (SipHash-1-3 with a key the
 * caller draws at random): a peer cannot choose names that all land in one
 * probe chain. Open addressing with linear probing and backward-shift
 * deletion; the table stays at most half full.
 *
 * Pure data structure: no I/O, no globals, one owner thread. The caller keeps
 * it in step with its table (add, delete, rename, move).
 */
#ifndef SHOAL_ACTORS_NODE_INDEX_H
#define SHOAL_ACTORS_NODE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NODE_INDEX_NAME_LEN 40

typedef struct node_index_entry {
    char name[NODE_INDEX_NAME_LEN];
    int32_t idx;                  /* -1: empty slot */
    uint32_t hash;                /* low bits pick the home slot */
} node_index_entry_t;

typedef struct node_index {
    node_index_entry_t *slots;    /* owned; NULL until the first put */
    uint32_t cap;                 /* 0 or a power of two */
    uint32_t count;
    uint64_t k0, k1;              /* SipHash key */
} node_index_t;

/* An empty index keyed with (k0, k1). Allocates nothing. */
void node_index_init(node_index_t *x, uint64_t k0, uint64_t k1);
/* Frees the slots; the index may be initialised again. */
void node_index_free(node_index_t *x);
/* Makes dst (not initialised) a copy of src with its own slots, which never
 * change again unless dst is written (readers on other threads may then
 * share it). Aborts when memory runs out, as the state actor does. */
void node_index_copy(node_index_t *dst, const node_index_t *src);
/* Forgets every name, keeps the allocation and the key. */
void node_index_clear(node_index_t *x);

/* The index stored for `name` (NODE_INDEX_NAME_LEN bytes), or -1. */
int node_index_find(const node_index_t *x, const char *name);
/* Stores name -> idx (idx >= 0), replacing an earlier index for the same
 * name. 0, or -1 when memory ran out (the index is unchanged). */
int node_index_put(node_index_t *x, const char *name, int idx);
/* Removes `name`; false when it was not there. */
bool node_index_del(node_index_t *x, const char *name);

/* SipHash-2-4 of buf with the 128-bit key (k0, k1) (exposed for tests: the
 * reference vectors check the rounds node_index_name_hash shares). */
uint64_t node_index_siphash(const void *buf, size_t len, uint64_t k0, uint64_t k1);
/* SipHash-1-3 of a name (NODE_INDEX_NAME_LEN bytes): what the index uses. */
uint64_t node_index_name_hash(const char *name, uint64_t k0, uint64_t k1);

#endif

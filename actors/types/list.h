/* list.h - the list value type: a doubly linked chain of compact nodes, each
 * one contiguous block of entries (Redis's quicklist of listpacks, in our
 * own node format).
 *
 * An entry in a node is [length, forward varint][bytes][back length]; the
 * back length lets a walk go from the end of a node to its start, so both
 * ends and any index are reached without a per-entry pointer. A node holds
 * as much as list-max-listpack-size allows (negative: a byte budget of 4 KB
 * to 64 KB, positive: an entry count), as 7.0.15 sizes its quicklist nodes.
 *
 * Owned by one worker's keyspace; no locking. Element views (list_elem_t)
 * point into a node and are valid until the list is next modified.
 * Must never: keep an empty node, or hand out a view across a change.
 */
#ifndef SHOAL_ACTORS_TYPES_LIST_H
#define SHOAL_ACTORS_TYPES_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/worker/keyspace.h"

enum { LIST_HEAD = 0, LIST_TAIL = 1 };

typedef struct list_node list_node_t;

typedef struct list {
    ks_object_t obj;              /* first: the keyspace frees and measures it through obj.ops */
    list_node_t *head, *tail;
    size_t count;                 /* elements */
    size_t nodes;
    size_t bytes;                 /* heap bytes of the nodes and their blocks */
    /* list-max-listpack-size and list-compress-depth as they were when the
     * list was made: 7.0.15 fixes them per list at its creation, so a later
     * CONFIG SET shapes only new lists. */
    int fill;
    int compress;
} list_t;

/* An element: p points into a node, or into num for an element stored as
 * an integer (so a view must not be copied by value while p is used). */
typedef struct list_elem {
    const uint8_t *p;
    size_t len;
    uint8_t num[24];
} list_elem_t;

/* A position in the list, for walks that read or delete as they go. */
typedef struct list_iter {
    list_t *l;
    list_node_t *node;
    size_t off;                   /* byte offset of the next entry in node's block */
    bool forward;
    list_node_t *last;            /* the entry list_iter_next returned last */
    size_t last_off;
} list_iter_t;

extern const ks_object_ops_t list_ops;

/* A new empty list (the caller stores it with ks_set_object), shaped by
 * the configuration now. Aborts on OOM. */
list_t *list_new(void);
/* A new empty list with 7.0.15's built-in shape (fill -2, no compression),
 * as its SORT ... STORE makes, whatever the configuration. */
list_t *list_new_default(void);
/* Pushes a copy of the bytes at one end. */
void list_push(list_t *l, int where, const uint8_t *p, size_t len);
/* Loading: appends at the tail, in a new node / in the tail node whatever
 * its size (an RDB's node boundaries are kept, as 7.0.15 keeps them). */
void list_push_new_node(list_t *l, const uint8_t *p, size_t len);
void list_push_same_node(list_t *l, const uint8_t *p, size_t len);
/* Copies the element at one end into *out (malloc'ed, caller frees), and
 * removes it. False if the list is empty. */
bool list_pop(list_t *l, int where, uint8_t **out, size_t *len);
/* The element at an end (no copy), false if empty. */
bool list_peek(const list_t *l, int where, list_elem_t *e);
/* Normalised index (negative counts from the tail); false if out of range. */
bool list_index(const list_t *l, long long index, list_elem_t *e);
/* Replaces the element at a valid 0-based index with a copy of the bytes. */
void list_set(list_t *l, size_t index, const uint8_t *p, size_t len);
/* Deletes `n` elements from 0-based `start` (the range must be in the list). */
void list_delete_range(list_t *l, size_t start, size_t n);

/* Iteration: from 0-based index `start` toward the tail (forward) or the
 * head. false when start is out of range. */
bool list_iter_at(list_t *l, size_t start, bool forward, list_iter_t *it);
/* Reads the element at the iterator and advances; false at the end. */
bool list_iter_next(list_iter_t *it, list_elem_t *e);
/* Deletes the element list_iter_next just returned; the walk goes on with
 * the one after it in the walk's direction. */
void list_iter_delete_prev(list_iter_t *it);
/* Inserts a copy of the bytes before or after the element list_iter_next
 * just returned (after = toward the tail). Ends the walk. */
void list_iter_insert_prev(list_iter_t *it, bool after, const uint8_t *p, size_t len);

/* Heap bytes the list holds (for memory accounting). */
size_t list_mem(const list_t *l);

/* Nodes for RDB: walks each node's elements in order. */
typedef void (*list_elem_cb)(void *arg, const uint8_t *p, size_t len);
typedef bool (*list_node_cb)(void *arg, const list_node_t *n, size_t count);
size_t list_node_count(const list_node_t *n);
/* The node's bytes as a 7.0.15 listpack (DEBUG OBJECT's ql_uncompressed_size). */
size_t list_node_lpsz(const list_node_t *n);
const list_node_t *list_first_node(const list_t *l);
const list_node_t *list_next_node(const list_node_t *n);
void list_node_foreach(const list_node_t *n, list_elem_cb cb, void *arg);

/* A deep copy (COPY), node boundaries kept. */
list_t *list_dup(const list_t *l);

/* ---- RDB (list_rdb.c) ---- */
struct rdb_encoder;
enum { LIST_LOAD_OK = 0, LIST_LOAD_EMPTY = 1, LIST_LOAD_CORRUPT = -1, LIST_LOAD_UNSUPPORTED = -2 };
/* Builds a list from the RDB bytes of a value of type t (LIST, LIST_ZIPLIST,
 * LIST_QUICKLIST, LIST_QUICKLIST_2). LIST_LOAD_OK: *out is the caller's;
 * LIST_LOAD_EMPTY: no element (7.0.15 skips such a key). */
int list_rdb_load(unsigned t, const uint8_t *val, size_t len, list_t **out);
/* The value as 7.0.15 saves a list: QUICKLIST_2, one listpack per node. */
int list_rdb_save(const list_t *l, struct rdb_encoder *enc);
#define LIST_RDB_TYPE 18          /* RDB_TYPE_LIST_QUICKLIST_2 */

#endif

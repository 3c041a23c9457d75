/* hash.h - the hash type: field -> value maps, as a listpack (fields and
 * values alternating) while small, as an sdict once more than
 * hash-max-listpack-entries fields or any field or value longer than
 * hash-max-listpack-value bytes, the same rules and thresholds as
 * redis-server 7.0.15 so OBJECT ENCODING and the RDB bytes agree with it.
 *
 * Called only on the thread that owns the keyspace holding the hash.
 */
#ifndef SHOAL_ACTORS_TYPES_HASH_H
#define SHOAL_ACTORS_TYPES_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/types/sdict.h"
#include "actors/worker/keyspace.h"
#include "proto/listpack.h"

enum { HASH_LISTPACK = 0, HASH_TABLE = 1 };

/* The table encoding's state, in its own block. */
typedef struct hash_table {
    sdict_t *ht;                  /* values are hash_val_t * */
    size_t val_bytes;             /* bytes of the values, for mem_usage */
} hash_table_t;

/* A hash is one word, embedded in its key's entry (ks_register_embedded):
 * the listpack's address, or the hash_table_t's with the low bit set
 * (malloc'ed blocks are at least 8-aligned, so that bit is free). A small
 * hash thus costs its listpack and nothing else besides its key. */
typedef struct hash {
    uintptr_t w;
} hash_t;

static inline int hash_enc(const hash_t *h) { return (h->w & 1) ? HASH_TABLE : HASH_LISTPACK; }
static inline uint8_t *hash_lp(const hash_t *h) { return (uint8_t *)h->w; }
static inline hash_table_t *hash_tab(const hash_t *h) { return (hash_table_t *)(h->w & ~(uintptr_t)1); }
static inline sdict_t *hash_sd(const hash_t *h) { return hash_tab(h)->ht; }

typedef struct hash_val { uint32_t len; uint8_t data[]; } hash_val_t;

extern const ks_object_ops_t hash_ops;

/* A new empty listpack hash in a malloc'ed shell. Caller owns it: hand it
 * to ks_set_object (which frees the shell; use ks_entry_obj after) or free
 * it with hash_destroy. */
hash_t *hash_new(void);
/* Frees a shell and what it holds (a hash that never reached a keyspace). */
void hash_destroy(hash_t *h);
size_t hash_len(const hash_t *h);
/* The value of field, or NULL. Integers stored in a listpack come back as
 * text in buf. */
const uint8_t *hash_get(const hash_t *h, const uint8_t *f, size_t fl, uint8_t buf[21], size_t *vl);
/* Sets field to value; returns true if the field is new. Converts to a
 * table when the entry count passes the threshold (lengths are checked by
 * hash_convert_for_lengths before, as Redis does). */
bool hash_set(hash_t *h, const uint8_t *f, size_t fl, const uint8_t *v, size_t vl);
/* Removes field; true if it was there. */
bool hash_del(hash_t *h, const uint8_t *f, size_t fl);
/* Converts a listpack hash to a table if any of the n arguments at argv
 * (argvlen) is longer than hash-max-listpack-value. */
void hash_convert_for_lengths(hash_t *h, const uint8_t **argv, const size_t *argvlen, int n);
void hash_to_table(hash_t *h);

/* Iteration over (field, value). Pointers stay valid until the next call. */
typedef struct hash_iter {
    const hash_t *h;
    size_t off;
    sd_iter_t it;
    uint8_t fbuf[21], vbuf[21];
} hash_iter_t;
void hash_iter_init(hash_iter_t *it, const hash_t *h);
bool hash_iter_next(hash_iter_t *it, const uint8_t **f, size_t *fl, const uint8_t **v, size_t *vl);

/* RDB (see types.h). */
int hash_rdb_load(unsigned rdb_type, const uint8_t *val, size_t len, hash_t **out);

#endif

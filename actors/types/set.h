/* set.h - the set type: distinct binary-safe members, as an intset while
 * every member is an integer and there are at most set-max-intset-entries of
 * them, as an sdict otherwise (redis-server 7.0.15's two encodings and
 * rules, so OBJECT ENCODING and the RDB bytes agree with it).
 *
 * Called only on the thread that owns the keyspace holding the set.
 */
#ifndef SHOAL_ACTORS_TYPES_SET_H
#define SHOAL_ACTORS_TYPES_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/types/sdict.h"
#include "actors/worker/keyspace.h"

enum { SET_INTSET = 0, SET_TABLE = 1 };

/* A set is one word, embedded in its key's entry (ks_register_embedded):
 * the intset's address, or the sdict's (values unused) with the low bit set
 * (malloc'ed blocks are at least 8-aligned, so that bit is free). */
typedef struct set {
    uintptr_t w;
} set_t;

static inline int set_enc(const set_t *s) { return (s->w & 1) ? SET_TABLE : SET_INTSET; }
static inline uint8_t *set_is(const set_t *s) { return (uint8_t *)s->w; }
static inline sdict_t *set_sd(const set_t *s) { return (sdict_t *)(s->w & ~(uintptr_t)1); }

extern const ks_object_ops_t set_ops;

/* A new empty set in a malloc'ed shell, an intset if `first` (the first
 * member to be added, may be NULL) is an integer or absent, a table
 * otherwise (Redis's setTypeCreate). Caller owns it: hand it to
 * ks_set_object (which frees the shell; use ks_entry_obj after) or free it
 * with set_destroy. */
set_t *set_new(const uint8_t *first, size_t len);
/* Frees a shell and what it holds (a set that never reached a keyspace). */
void set_destroy(set_t *s);
size_t set_len(const set_t *s);
bool set_has(const set_t *s, const uint8_t *m, size_t len);
/* Adds m; true if it is new. Converts as Redis does. */
bool set_add(set_t *s, const uint8_t *m, size_t len);
/* Removes m; true if it was there. */
bool set_rem(set_t *s, const uint8_t *m, size_t len);
void set_to_table(set_t *s);
/* A random member (the set must not be empty), as text; integers are
 * written into buf. */
const uint8_t *set_random(const set_t *s, uint8_t buf[21], size_t *len);

/* Iteration; pointers valid until the next call. The set must not change. */
typedef struct set_iter {
    const set_t *s;
    size_t i;
    sd_iter_t it;
    uint8_t buf[21];
} set_iter_t;
void set_iter_init(set_iter_t *it, const set_t *s);
bool set_iter_next(set_iter_t *it, const uint8_t **m, size_t *len);

int set_rdb_load(unsigned rdb_type, const uint8_t *val, size_t len, set_t **out);

#endif

/* types.h - what the collection types (hash, set, and the others as they
 * come) share: the encoding thresholds from the configuration, and the
 * doors between the keyspace and the RDB format (loading a decoded key's
 * value into an object, saving any key as a record).
 *
 * Each type lives in its own file (hash.c, set.c, ...) with the ops the
 * keyspace calls; this file only dispatches by type. Runs on whichever
 * thread owns the keyspace (or the loader's staging one); no globals
 * besides cached config indexes.
 */
#ifndef SHOAL_ACTORS_TYPES_TYPES_H
#define SHOAL_ACTORS_TYPES_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/worker/keyspace.h"

struct rdb_encoder;

/* Encoding thresholds, as CONFIG SET last set them. */
enum types_limit {
    TL_HASH_MAX_LISTPACK_ENTRIES = 0,
    TL_HASH_MAX_LISTPACK_VALUE,
    TL_SET_MAX_INTSET_ENTRIES,
    TL_ZSET_MAX_LISTPACK_ENTRIES,
    TL_ZSET_MAX_LISTPACK_VALUE,
    TL_LIST_MAX_LISTPACK_SIZE,
    TL_LIST_COMPRESS_DEPTH,
    TL_STREAM_NODE_MAX_BYTES,
    TL_STREAM_NODE_MAX_ENTRIES,
    TL_COUNT
};
long long types_limit(enum types_limit which);

/* Results of types_rdb_load. */
enum { TYPES_LOAD_OK = 0, TYPES_LOAD_EMPTY = 1, TYPES_LOAD_CORRUPT = -1, TYPES_LOAD_UNSUPPORTED = -2 };

/* Builds the object for a collection value decoded from an RDB file, a
 * full sync or a RESTORE payload (rdb_type and the value's bytes as the
 * decoder delivers them). TYPES_LOAD_OK: *obj and *ks_type are set, the
 * caller owns *obj (hand it to ks_set_object, or types_free_detached). TYPES_LOAD_EMPTY: a collection with no members, which
 * Redis skips. Otherwise the value is refused. */
int types_rdb_load(unsigned rdb_type, const uint8_t *val, size_t len, int *ks_type, void **obj);
/* Frees a value of ks_type that is in no keyspace (a shell for hashes and
 * sets, a ks_object_t otherwise), as types_rdb_load or a type's dup made it.
 * NULL is fine. */
void types_free_detached(int ks_type, void *obj);

/* Stores a decoded key into ks (strings as they are, collections through
 * types_rdb_load), with the access clock its IDLE (idle_s seconds) or FREQ
 * record gives under the current maxmemory-policy (-1: none), as 7.0.15's
 * load. Returns TYPES_LOAD_* (an empty collection stores nothing). */
int types_rdb_store(struct keyspace *ks, const uint8_t *key, size_t klen, unsigned rdb_type,
                    const uint8_t *val, size_t vlen, long long expire_ms, long long now_ms,
                    long long idle_s, int freq);
/* The same with the key's hash and slot already known (ks_keyref; NULL: computed). */
int types_rdb_store_ref(struct keyspace *ks, const uint8_t *key, size_t klen, const ks_keyref_t *ref,
                        unsigned rdb_type, const uint8_t *val, size_t vlen, long long expire_ms, long long now_ms,
                        long long idle_s, int freq);

/* Appends the whole record of e ([EXPIRETIME_MS] type key value) to enc;
 * expire_ms is e's TTL (ks_entry_expire) or KS_NO_EXPIRE.
 * Returns RDB_OK, RDB_ERR_NOMEM, or RDB_ERR_TYPE for a value with no RDB form. */
int types_rdb_save_entry(struct rdb_encoder *enc, const ks_entry_t *e, long long expire_ms);
/* The value of e alone: its RDB type byte in *type, the value's bytes into enc (DUMP). */
int types_rdb_save_value(struct rdb_encoder *enc, const ks_entry_t *e, unsigned *type);

/* OBJECT ENCODING of e: "embstr"/"int"/"raw" for strings, the type's own otherwise. */
const char *types_encoding(const ks_entry_t *e);

#endif

/* types.c - dispatch by value type between the keyspace, the RDB codec and
 * the collection types (see types.h). Knows which type loads which RDB
 * type number; knows nothing of how any type stores its members.
 */
#include <stdatomic.h>
#include "actors/config/config.h"
#include "actors/types/hash.h"
#include "actors/types/list.h"
#include "actors/types/stream.h"
#include "actors/types/set.h"
#include "actors/types/types.h"
#include "actors/types/zset.h"
#include "proto/rdb.h"
#include "proto/strnum.h"

/* Hashes and sets live in their key's entry (one word each): the keyspace
 * learns their ops before main() runs, so every keyspace of the process, a
 * unit test's included, sees the same table. */
__attribute__((constructor)) static void types_register(void)
{
    ks_register_embedded(KS_TYPE_HASH, &hash_ops);
    ks_register_embedded(KS_TYPE_SET, &set_ops);
}

void types_free_detached(int ks_type, void *obj)
{
    if (!obj) return;
    if (ks_type == KS_TYPE_HASH) hash_destroy(obj);
    else if (ks_type == KS_TYPE_SET) set_destroy(obj);
    else ((ks_object_t *)obj)->ops->free_value(obj);
}

static const char *const limit_names[TL_COUNT] = {
    "hash-max-listpack-entries", "hash-max-listpack-value", "set-max-intset-entries",
    "zset-max-listpack-entries", "zset-max-listpack-value", "list-max-listpack-size",
    "list-compress-depth", "stream-node-max-bytes", "stream-node-max-entries",
};
/* Config table indexes, found on first use. -2: not looked up yet. Any
 * thread may race to fill one in; they all store the same number, so relaxed
 * is enough. */
static _Atomic int limit_index[TL_COUNT] = { -2, -2, -2, -2, -2, -2, -2, -2, -2 };

long long types_limit(enum types_limit which)
{
    int i = atomic_load_explicit(&limit_index[which], memory_order_relaxed);
    if (i == -2) {
        i = config_find(limit_names[which]);
        atomic_store_explicit(&limit_index[which], i, memory_order_relaxed);
    }
    return config_get_num_at(i);
}

_Static_assert((int)LIST_LOAD_OK == (int)TYPES_LOAD_OK && (int)LIST_LOAD_EMPTY == (int)TYPES_LOAD_EMPTY &&
               (int)LIST_LOAD_CORRUPT == (int)TYPES_LOAD_CORRUPT &&
               (int)LIST_LOAD_UNSUPPORTED == (int)TYPES_LOAD_UNSUPPORTED,
               "list_rdb_load's results are passed on as they are");

int types_rdb_load(unsigned t, const uint8_t *val, size_t len, int *ks_type, void **obj)
{
    int rc;
    switch (t) {
    case RDB_TYPE_HASH: case RDB_TYPE_HASH_ZIPMAP: case RDB_TYPE_HASH_ZIPLIST: case RDB_TYPE_HASH_LISTPACK: {
        hash_t *h = NULL;
        rc = hash_rdb_load(t, val, len, &h);
        *ks_type = KS_TYPE_HASH;
        *obj = h;
        return rc;
    }
    case RDB_TYPE_SET: case RDB_TYPE_SET_INTSET: {
        set_t *s = NULL;
        rc = set_rdb_load(t, val, len, &s);
        *ks_type = KS_TYPE_SET;
        *obj = s;
        return rc;
    }
    case RDB_TYPE_LIST: case RDB_TYPE_LIST_ZIPLIST: case RDB_TYPE_LIST_QUICKLIST: case RDB_TYPE_LIST_QUICKLIST_2: {
        list_t *l = NULL;
        rc = list_rdb_load(t, val, len, &l);   /* LIST_LOAD_* has TYPES_LOAD_*'s numbers */
        *ks_type = KS_TYPE_LIST;
        *obj = &l->obj;
        return rc;
    }
    case RDB_TYPE_ZSET: case RDB_TYPE_ZSET_2: case RDB_TYPE_ZSET_ZIPLIST: case RDB_TYPE_ZSET_LISTPACK: {
        zset_t *z = NULL;
        rc = zset_rdb_load(t, val, len, &z);
        *ks_type = KS_TYPE_ZSET;
        *obj = z ? &z->base : NULL;
        return rc;
    }
    case RDB_TYPE_STREAM_LISTPACKS: case RDB_TYPE_STREAM_LISTPACKS_2: {
        stream_t *s = NULL;
        *ks_type = KS_TYPE_STREAM;
        if (stream_rdb_load(t, val, len, &s) != 0) return TYPES_LOAD_CORRUPT;
        *obj = &s->obj;
        return TYPES_LOAD_OK;       /* an empty stream is a value: 7.0.15 keeps it */
    }
    default:
        return TYPES_LOAD_UNSUPPORTED;
    }
}

int types_rdb_store(struct keyspace *ks, const uint8_t *key, size_t klen, unsigned t, const uint8_t *val,
                    size_t vlen, long long expire_ms, long long now_ms, long long idle_s, int freq)
{
    return types_rdb_store_ref(ks, key, klen, NULL, t, val, vlen, expire_ms, now_ms, idle_s, freq);
}

int types_rdb_store_ref(struct keyspace *ks, const uint8_t *key, size_t klen, const ks_keyref_t *ref, unsigned t,
                        const uint8_t *val, size_t vlen, long long expire_ms, long long now_ms, long long idle_s,
                        int freq)
{
    ks_entry_t *e;
    if (t == RDB_TYPE_STRING) {
        e = ks_set_string_ref(ks, key, klen, ref, val, vlen, expire_ms, now_ms);
    } else {
        int kt;
        void *o;
        int rc = types_rdb_load(t, val, vlen, &kt, &o);
        if (rc != TYPES_LOAD_OK) return rc;
        e = ks_set_object_ref(ks, key, klen, ref, kt, o, expire_ms, now_ms);
    }
    ks_access_restore(e, idle_s, freq);
    return TYPES_LOAD_OK;
}

int types_rdb_save_value(struct rdb_encoder *enc, const ks_entry_t *e, unsigned *type)
{
    if (ks_entry_type(e) == KS_TYPE_STRING) {
        size_t n;
        const uint8_t *v = ks_entry_str(e, &n);
        *type = RDB_TYPE_STRING;
        return rdb_encode_string(enc, v, n);
    }
    const ks_object_ops_t *ops = ks_entry_ops(e);
    const void *o = ks_entry_obj(e);
    if (!ops->rdb_save) return RDB_ERR_TYPE;
    *type = ops->rdb_type(o);
    return ops->rdb_save(o, enc);
}

int types_rdb_save_entry(struct rdb_encoder *enc, const ks_entry_t *e, long long expire_ms)
{
    size_t klen;
    const uint8_t *key = ks_entry_key(e, &klen);
    int64_t exp = expire_ms == KS_NO_EXPIRE ? -1 : expire_ms;
    long long idle;
    int freq;
    ks_access_rdb_fields(e, &idle, &freq);
    if (ks_entry_type(e) == KS_TYPE_STRING) {
        size_t n;
        const uint8_t *v = ks_entry_str(e, &n);
        if (rdb_encode_key_prefix(enc, exp, idle, freq)) return RDB_ERR_NOMEM;
        return rdb_encode_string_key(enc, key, klen, v, n, -1);
    }
    const ks_object_ops_t *ops = ks_entry_ops(e);
    const void *o = ks_entry_obj(e);
    if (!ops->rdb_save) return RDB_ERR_TYPE;
    if (rdb_encode_key_prefix(enc, exp, idle, freq)) return RDB_ERR_NOMEM;
    int rc = rdb_encode_key_head(enc, ops->rdb_type(o), key, klen, -1);
    return rc ? rc : ops->rdb_save(o, enc);
}

const char *types_encoding(const ks_entry_t *e)
{
    if (ks_entry_type(e) != KS_TYPE_STRING) {
        const ks_object_ops_t *ops = ks_entry_ops(e);
        return ops->encoding ? ops->encoding(ks_entry_obj(e)) : "unknown";
    }
    if (ks_entry_flags(e) & KS_EF_RAW) return "raw";
    size_t n;
    const uint8_t *v = ks_entry_str(e, &n);
    long long x;
    if (n <= 20 && str_to_ll(v, n, &x)) return "int";
    return n <= 44 ? "embstr" : "raw";
}

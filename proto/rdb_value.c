/* rdb_value.c - the shape of every RDB value type redis-server 7.0.15 loads
 * besides strings and modules/streams: finding where a value ends (the
 * decoder's scan pass, resumable so a large collection that arrives in
 * pieces is walked once, not once per piece) and the types' numbers.
 *
 * Which bytes follow the type byte and the key:
 *   LIST, SET, LIST_QUICKLIST    count, then count strings
 *   HASH                         count, then 2 x count strings
 *   ZSET                         count, then (string, score as a short text) pairs
 *   ZSET_2                       count, then (string, 8-byte binary double) pairs
 *   LIST_QUICKLIST_2             count, then (container kind as a length, string) pairs
 *   HASH_ZIPMAP, LIST_ZIPLIST, SET_INTSET, ZSET_ZIPLIST, HASH_ZIPLIST,
 *   HASH_LISTPACK, ZSET_LISTPACK one string (the encoded blob)
 *   STREAM_LISTPACKS(_2)         node count, (master ID, listpack) string pairs,
 *                                the counters as lengths, then each consumer
 *                                group: name, lengths, its PEL (16-byte IDs, 8-byte
 *                                times, lengths), its consumers (name, 8-byte time,
 *                                count, 16-byte IDs)
 * What the strings and blobs mean is the business of the type that loads
 * them (actors/types); here only their extent is checked.
 *
 * Pure: no I/O, no globals; never reads past the length it is given.
 */
#include "proto/rdb.h"

bool rdb_type_is_collection(unsigned t)
{
    switch (t) {
    case RDB_TYPE_LIST: case RDB_TYPE_SET: case RDB_TYPE_ZSET: case RDB_TYPE_HASH: case RDB_TYPE_ZSET_2:
    case RDB_TYPE_HASH_ZIPMAP: case RDB_TYPE_LIST_ZIPLIST: case RDB_TYPE_SET_INTSET: case RDB_TYPE_ZSET_ZIPLIST:
    case RDB_TYPE_HASH_ZIPLIST: case RDB_TYPE_LIST_QUICKLIST: case RDB_TYPE_HASH_LISTPACK:
    case RDB_TYPE_ZSET_LISTPACK: case RDB_TYPE_LIST_QUICKLIST_2: case RDB_TYPE_STREAM_LISTPACKS:
    case RDB_TYPE_STREAM_LISTPACKS_2:
        return true;
    default:
        return false;
    }
}

/* One item of a counted collection of type t at buf[*pos]. */
static int scan_item(unsigned t, const uint8_t *buf, size_t len, size_t *pos, uint64_t max, size_t *need)
{
    int rc;
    uint64_t v;
    switch (t) {
    case RDB_TYPE_HASH:
        rc = rdb_read_string(buf, len, pos, max, NULL, NULL, NULL, need);
        return rc ? rc : rdb_read_string(buf, len, pos, max, NULL, NULL, NULL, need);
    case RDB_TYPE_ZSET:
        if ((rc = rdb_read_string(buf, len, pos, max, NULL, NULL, NULL, need))) return rc;
        if (*pos >= len) { if (need) *need = *pos + 1; return RDB_ERR_TRUNCATED; }
        v = buf[*pos] >= 253 ? 0 : buf[*pos];     /* 253..255: nan, inf, -inf */
        if (len - *pos < 1 + v) { if (need) *need = *pos + 1 + v; return RDB_ERR_TRUNCATED; }
        *pos += 1 + v;
        return RDB_OK;
    case RDB_TYPE_ZSET_2:
        if ((rc = rdb_read_string(buf, len, pos, max, NULL, NULL, NULL, need))) return rc;
        if (len - *pos < 8) { if (need) *need = *pos + 8; return RDB_ERR_TRUNCATED; }
        *pos += 8;
        return RDB_OK;
    case RDB_TYPE_LIST_QUICKLIST_2:
        if ((rc = rdb_read_length(buf, len, pos, &v, need))) return rc;
        return rdb_read_string(buf, len, pos, max, NULL, NULL, NULL, need);
    default:
        return rdb_read_string(buf, len, pos, max, NULL, NULL, NULL, need);
    }
}

/* n raw bytes at buf[*pos]. */
static int skip_raw(size_t len, size_t *pos, size_t n, size_t *need)
{
    if (len - *pos < n) {
        if (need) *need = *pos + n;
        return RDB_ERR_TRUNCATED;
    }
    *pos += n;
    return RDB_OK;
}

static int skip_str(const uint8_t *buf, size_t len, size_t *pos, uint64_t max, size_t *need)
{
    return rdb_read_string(buf, len, pos, max, NULL, NULL, NULL, need);
}

/* One consumer group of a stream value. */
static int scan_group(unsigned t, const uint8_t *buf, size_t len, size_t *pos, uint64_t max, size_t *need)
{
    uint64_t v, n;
    int rc = skip_str(buf, len, pos, max, need);
    for (int i = 0; i < (t == RDB_TYPE_STREAM_LISTPACKS_2 ? 3 : 2) && !rc; i++)
        rc = rdb_read_length(buf, len, pos, &v, need);
    if (!rc) rc = rdb_read_length(buf, len, pos, &n, need);
    for (uint64_t i = 0; i < n && !rc; i++) {
        rc = skip_raw(len, pos, 24, need);
        if (!rc) rc = rdb_read_length(buf, len, pos, &v, need);
    }
    if (!rc) rc = rdb_read_length(buf, len, pos, &n, need);
    for (uint64_t i = 0; i < n && !rc; i++) {
        uint64_t k;
        rc = skip_str(buf, len, pos, max, need);
        if (!rc) rc = skip_raw(len, pos, 8, need);
        if (!rc) rc = rdb_read_length(buf, len, pos, &k, need);
        if (!rc && k > (len - *pos) / 16 + 1) rc = skip_raw(len, pos, (size_t)(len - *pos) + 1, need);
        else if (!rc) rc = skip_raw(len, pos, (size_t)k * 16, need);
    }
    return rc;
}

/* A whole stream value from *pos (not resumable: a short buffer is walked
 * again from the value's start once more bytes came). */
static int scan_stream(unsigned t, const uint8_t *buf, size_t len, size_t *pos, uint64_t max, size_t *need)
{
    uint64_t n, v;
    int rc = rdb_read_length(buf, len, pos, &n, need);
    for (uint64_t i = 0; i < n && !rc; i++) {
        rc = skip_str(buf, len, pos, max, need);
        if (!rc) rc = skip_str(buf, len, pos, max, need);
    }
    int counters = t == RDB_TYPE_STREAM_LISTPACKS_2 ? 8 : 3;
    for (int i = 0; i < counters && !rc; i++) rc = rdb_read_length(buf, len, pos, &v, need);
    if (!rc) rc = rdb_read_length(buf, len, pos, &n, need);
    for (uint64_t i = 0; i < n && !rc; i++) rc = scan_group(t, buf, len, pos, max, need);
    return rc;
}

int rdb_scan_value(unsigned t, const uint8_t *buf, size_t len, uint64_t max_string, rdb_scan_t *st,
                   size_t *need)
{
    int rc;
    if (max_string == 0) max_string = RDB_DEFAULT_MAX_STRING;
    if (st->stage == RDB_SCAN_START) {
        size_t p = st->pos;
        switch (t) {
        case RDB_TYPE_STREAM_LISTPACKS: case RDB_TYPE_STREAM_LISTPACKS_2:
            if ((rc = scan_stream(t, buf, len, &p, max_string, need))) return rc;
            st->pos = p;
            st->stage = RDB_SCAN_DONE;
            return RDB_OK;
        case RDB_TYPE_LIST: case RDB_TYPE_SET: case RDB_TYPE_ZSET: case RDB_TYPE_HASH: case RDB_TYPE_ZSET_2:
        case RDB_TYPE_LIST_QUICKLIST: case RDB_TYPE_LIST_QUICKLIST_2:
            if ((rc = rdb_read_length(buf, len, &p, &st->left, need))) return rc;
            st->pos = p;
            st->stage = RDB_SCAN_ITEMS;
            break;
        default:
            if ((rc = rdb_read_string(buf, len, &p, max_string, NULL, NULL, NULL, need))) return rc;
            st->pos = p;
            st->stage = RDB_SCAN_DONE;
            return RDB_OK;
        }
    }
    while (st->stage == RDB_SCAN_ITEMS && st->left > 0) {
        size_t p = st->pos;
        if ((rc = scan_item(t, buf, len, &p, max_string, need))) {
            /* Every item left takes at least a byte: ask for that much at
             * once rather than one item's worth at a time. */
            if (rc == RDB_ERR_TRUNCATED && need && st->left - 1 < (uint64_t)SIZE_MAX - *need)
                *need += (size_t)(st->left - 1);
            return rc;
        }
        st->pos = p;
        st->left--;
    }
    st->stage = RDB_SCAN_DONE;
    return RDB_OK;
}

/* list_rdb.c - lists in the RDB format, both ways, as redis-server 7.0.15:
 * saved as LIST_QUICKLIST_2 (a node count, then per node its container, 2
 * = packed, and the node's listpack as a string, LZF-compressed when the
 * encoder compresses); loaded from that, from the 6.x LIST_QUICKLIST
 * (ziplist nodes), from LIST_ZIPLIST and from the plain LIST of strings.
 * Node boundaries of a quicklist are kept, as Redis keeps them.
 *
 * Must never: trust a node it did not validate, or hand back an empty list.
 */
#include <stdlib.h>
#include <string.h>

#include "actors/types/list.h"
#include "proto/listpack.h"
#include "proto/rdb.h"
#include "proto/ziplist.h"

#define T_LIST 1
#define T_LIST_ZIPLIST 10
#define T_LIST_QUICKLIST 14
#define T_LIST_QUICKLIST_2 18
#define CONTAINER_PLAIN 1
#define CONTAINER_PACKED 2

/* ---- save ---- */

typedef struct lp_build {
    uint8_t *lp;
} lp_build_t;

static void add_to_lp(void *arg, const uint8_t *p, size_t len)
{
    lp_build_t *b = arg;
    b->lp = lp_append(b->lp, lp_str(p, len));
}

int list_rdb_save(const list_t *l, struct rdb_encoder *enc)
{
    int rc = rdb_encode_length(enc, l->nodes);
    /* The nodes 7.0.15 keeps compressed: all but list-compress-depth nodes
     * at each end, and none unless more than twice that many. */
    size_t depth = l->compress > 0 ? (size_t)l->compress : 0, i = 0;
    bool any = depth && l->nodes > 2 * depth;
    for (const list_node_t *n = list_first_node(l); n && rc == RDB_OK; n = list_next_node(n), i++) {
        lp_build_t b = { lp_new() };
        list_node_foreach(n, add_to_lp, &b);
        rc = rdb_encode_length(enc, CONTAINER_PACKED);
        if (rc == RDB_OK)
            rc = rdb_encode_quicklist_node(enc, b.lp, lp_bytes(b.lp), any && i >= depth && i < l->nodes - depth);
        free(b.lp);
    }
    return rc;
}

/* ---- load ---- */

/* How to walk one container format; listpack and ziplist differ only in
 * where an entry ends and how it is read, so one walker serves both. */
typedef struct packed_fmt {
    size_t (*first)(const uint8_t *);
    bool (*at_end)(const uint8_t *, size_t);
    size_t (*next)(const uint8_t *, size_t);
    lp_val_t (*get)(const uint8_t *, size_t);
} packed_fmt_t;

static const packed_fmt_t LP_FMT = { lp_first, lp_at_end, lp_next, lp_get };
static const packed_fmt_t ZL_FMT = { zl_first, zl_at_end, zl_next, zl_get };

/* Appends every entry of a validated listpack or ziplist, the first one
 * in a node of its own. */
static void push_packed_entries(list_t *l, const packed_fmt_t *f, const uint8_t *c)
{
    bool first = true;
    for (size_t off = f->first(c); !f->at_end(c, off); off = f->next(c, off)) {
        lp_val_t v = f->get(c, off);
        uint8_t num[21];
        size_t n;
        const uint8_t *p = lp_val_bytes(&v, num, &n);
        if (first) list_push_new_node(l, p, n);
        else list_push_same_node(l, p, n);
        first = false;
    }
}

/* One string of the value at *pos, into *s / *n (sb owns decoded ones). */
static bool read_str(const uint8_t *val, size_t len, size_t *pos, rdb_strbuf_t *sb, const uint8_t **s, size_t *n)
{
    return rdb_read_string(val, len, pos, RDB_DEFAULT_MAX_STRING, sb, s, n, NULL) == RDB_OK;
}

static bool load_nodes(unsigned t, const uint8_t *val, size_t len, size_t *pos, list_t *l)
{
    uint64_t nodes;
    if (rdb_read_length(val, len, pos, &nodes, NULL) != RDB_OK) return false;
    rdb_strbuf_t sb = { 0 };
    bool ok = true;
    for (uint64_t i = 0; i < nodes && ok; i++) {
        uint64_t container = CONTAINER_PACKED;
        if (t == T_LIST_QUICKLIST_2 && rdb_read_length(val, len, pos, &container, NULL) != RDB_OK) ok = false;
        const uint8_t *s;
        size_t n;
        if (!ok || !read_str(val, len, pos, &sb, &s, &n)) {
            ok = false;
            break;
        }
        if (t == T_LIST_QUICKLIST_2 && container == CONTAINER_PLAIN) {
            list_push_new_node(l, s, n);
        } else if (t == T_LIST_QUICKLIST_2 && container == CONTAINER_PACKED) {
            size_t count;
            if (!lp_validate(s, n, &count)) ok = false;
            else if (count) push_packed_entries(l, &LP_FMT, s);    /* an empty node is skipped, as Redis does */
        } else if (t == T_LIST_QUICKLIST) {
            size_t count;
            if (!zl_validate(s, n, &count)) ok = false;
            else if (count) push_packed_entries(l, &ZL_FMT, s);
        } else {
            ok = false;
        }
    }
    rdb_strbuf_free(&sb);
    return ok;
}

static bool load_plain(const uint8_t *val, size_t len, size_t *pos, list_t *l)
{
    uint64_t count;
    if (rdb_read_length(val, len, pos, &count, NULL) != RDB_OK) return false;
    rdb_strbuf_t sb = { 0 };
    bool ok = true;
    for (uint64_t i = 0; i < count && ok; i++) {
        const uint8_t *s;
        size_t n;
        if (!read_str(val, len, pos, &sb, &s, &n)) ok = false;
        else list_push(l, LIST_TAIL, s, n);
    }
    rdb_strbuf_free(&sb);
    return ok;
}

int list_rdb_load(unsigned t, const uint8_t *val, size_t len, list_t **out)
{
    if (t != T_LIST && t != T_LIST_ZIPLIST && t != T_LIST_QUICKLIST && t != T_LIST_QUICKLIST_2)
        return LIST_LOAD_UNSUPPORTED;
    list_t *l = list_new();
    size_t pos = 0;
    bool ok;
    if (t == T_LIST) {
        ok = load_plain(val, len, &pos, l);
    } else if (t == T_LIST_ZIPLIST) {
        rdb_strbuf_t sb = { 0 };
        const uint8_t *s;
        size_t n, count;
        ok = read_str(val, len, &pos, &sb, &s, &n) && zl_validate(s, n, &count);
        if (ok && count) push_packed_entries(l, &ZL_FMT, s);
        rdb_strbuf_free(&sb);
    } else {
        ok = load_nodes(t, val, len, &pos, l);
    }
    if (!ok || pos != len) {
        list_ops.free_value(l);
        return LIST_LOAD_CORRUPT;
    }
    if (l->count == 0) {
        list_ops.free_value(l);
        return LIST_LOAD_EMPTY;
    }
    *out = l;
    return LIST_LOAD_OK;
}

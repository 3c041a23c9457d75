/* list.c - see list.h. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/types/list.h"
#include "actors/types/types.h"
#include "proto/listpack.h"
#include "proto/strnum.h"
#include "runtime/xmalloc.h"

struct list_node {
    list_node_t *prev, *next;
    uint8_t *buf;
    size_t used, cap;
    size_t count;
    size_t lpsz;                  /* bytes of the node as a 7.0.15 listpack: Redis sizes nodes by it */
};

#define SIZE_SAFETY_LIMIT 8192   /* 7.0.15's cap on a count-limited node's bytes */

/* A list setting from the configuration (a relaxed atomic load there),
 * read when a list is made. */
static int list_setting(enum types_limit which)
{
    long long v = types_limit(which);
    return v < INT_MIN ? INT_MIN : v > INT_MAX ? INT_MAX : (int)v;
}

/* ---- entry codec ---- */

static size_t varint_size(size_t v)
{
    size_t n = 1;
    while (v >= 128) { v >>= 7; n++; }
    return n;
}

static size_t fwd_write(uint8_t *dst, size_t v)
{
    size_t n = 0;
    do {
        uint8_t g = v & 127;
        v >>= 7;
        dst[n++] = g | (v ? 0x80 : 0);
    } while (v);
    return n;
}

static size_t fwd_read(const uint8_t *src, size_t *v)
{
    size_t val = 0, n = 0;
    unsigned shift = 0;
    for (;;) {
        uint8_t b = src[n++];
        val |= (size_t)(b & 127) << shift;
        shift += 7;
        if (!(b & 0x80)) break;
    }
    *v = val;
    return n;
}

/* The back length is read from the entry's end toward its start: the last
 * byte holds the low 7 bits, and a set high bit means more bytes before. */
static void back_write(uint8_t *dst, size_t v)
{
    size_t n = varint_size(v);
    for (size_t i = 0; i < n; i++) {
        dst[n - 1 - i] = (uint8_t)((v & 127) | (i < n - 1 ? 0x80 : 0));
        v >>= 7;
    }
}

static size_t back_read(const uint8_t *end, size_t *v)
{
    size_t val = 0, i = 0;
    unsigned shift = 0;
    for (;;) {
        uint8_t b = end[-1 - (ptrdiff_t)i];
        val |= (size_t)(b & 127) << shift;
        shift += 7;
        i++;
        if (!(b & 0x80)) break;
    }
    *v = val;
    return i;
}

/* How an element is stored: a canonical integer (what string2ll accepts,
 * which prints back the same) as its value in 1..8 little-endian bytes,
 * anything else as its bytes; the forward varint holds the payload length
 * shifted left once, the low bit set for an integer. Small integers then
 * take 3 to 5 bytes, as in a listpack. */
typedef struct enc {
    bool is_int;
    long long v;
    size_t plen;                  /* payload bytes */
    size_t total;                 /* whole entry */
} enc_t;

static enc_t encode_of(const uint8_t *p, size_t len)
{
    enc_t x = { .is_int = false, .plen = len };
    long long v;
    if (len >= 1 && len <= 20 && str_to_ll(p, len, &v)) {
        x.is_int = true;
        x.v = v;
        x.plen = 1;
        while (x.plen < 8 && (v < -(1LL << (8 * x.plen - 1)) || v >= (1LL << (8 * x.plen - 1)))) x.plen++;
    }
    size_t body = varint_size((x.plen << 1) | x.is_int) + x.plen;
    x.total = body + varint_size(body);
    return x;
}

static size_t entry_write(uint8_t *dst, const uint8_t *p, const enc_t *x)
{
    size_t fs = fwd_write(dst, (x->plen << 1) | x->is_int);
    if (x->is_int) {
        unsigned long long u = (unsigned long long)x->v;
        for (size_t i = 0; i < x->plen; i++) dst[fs + i] = (uint8_t)(u >> (8 * i));
    } else if (x->plen) {
        memcpy(dst + fs, p, x->plen);
    }
    back_write(dst + fs + x->plen, fs + x->plen);
    return x->total;
}

/* The entry at off: its bytes in *e (an integer written out into e->num);
 * returns its whole size. */
static size_t entry_read(const list_node_t *n, size_t off, list_elem_t *e)
{
    size_t h;
    size_t fs = fwd_read(n->buf + off, &h);
    size_t plen = h >> 1;
    const uint8_t *pay = n->buf + off + fs;
    if (e) {
        if (h & 1) {
            unsigned long long u = 0;
            for (size_t i = 0; i < plen; i++) u |= (unsigned long long)pay[i] << (8 * i);
            if (plen < 8 && (u >> (8 * plen - 1)) & 1) u |= ~0ULL << (8 * plen);   /* sign-extend */
            e->len = (size_t)snprintf((char *)e->num, sizeof e->num, "%lld", (long long)u);
            e->p = e->num;
        } else {
            e->p = pay;
            e->len = plen;
        }
    }
    return fs + plen + varint_size(fs + plen);
}

/* Offset of the entry before the one at off (off > 0). */
static size_t entry_prev(const list_node_t *n, size_t off)
{
    size_t body;
    size_t b = back_read(n->buf + off, &body);
    return off - b - body;
}

/* ---- nodes ---- */

#define LP_EMPTY_BYTES 7          /* a listpack's header and end byte */
#define SIZE_ESTIMATE_OVERHEAD 8  /* 7.0.15's guess of an entry's overhead when it sizes a node */

static const size_t optimization_level[] = { 4096, 8192, 16384, 32768, 65536 };

/* Bytes the element takes in a listpack, where a canonical integer is
 * stored as one. */
static size_t lp_size_of(const uint8_t *p, size_t len)
{
    long long v;
    if (len <= 20 && str_to_ll(p, len, &v)) return lp_entry_size(lp_int(v));
    return lp_entry_size(lp_str(p, len));
}

/* 7.0.15's _quicklistNodeAllowInsert: whether an element of len bytes
 * still goes into n, so that our nodes split where Redis's do (and DUMP and
 * RDB bytes come out the same). */
static bool node_allows(const list_t *l, const list_node_t *n, size_t len)
{
    if (!n) return false;
    int fill = l->fill;
    size_t new_sz = n->lpsz + len + SIZE_ESTIMATE_OVERHEAD;
    if (fill < 0) {
        size_t level = (size_t)(-(long long)fill) - 1;
        if (level < 5 && new_sz <= optimization_level[level]) return true;
    }
    if (new_sz > SIZE_SAFETY_LIMIT) return false;
    return fill > 0 && n->count < (size_t)fill;
}

static void node_reserve(list_t *l, list_node_t *n, size_t need)
{
    if (n->used + need <= n->cap) return;
    size_t nc = n->cap ? n->cap : 64;
    while (nc < n->used + need) nc *= 2;
    n->buf = xrealloc(n->buf, nc);
    l->bytes += nc - n->cap;
    n->cap = nc;
}

static void node_shrink(list_t *l, list_node_t *n)
{
    if (n->cap <= 256 || n->used > n->cap / 4) return;
    size_t nc = n->cap / 2;
    n->buf = xrealloc(n->buf, nc);
    l->bytes -= n->cap - nc;
    n->cap = nc;
}

/* A new empty node linked after `after` (NULL: at the head). */
static list_node_t *node_new(list_t *l, list_node_t *after)
{
    list_node_t *n = xcalloc(1, sizeof *n);
    n->lpsz = LP_EMPTY_BYTES;
    n->prev = after;
    n->next = after ? after->next : l->head;
    if (n->prev) n->prev->next = n;
    else l->head = n;
    if (n->next) n->next->prev = n;
    else l->tail = n;
    l->nodes++;
    l->bytes += sizeof *n;
    return n;
}

static void node_unlink_free(list_t *l, list_node_t *n)
{
    if (n->prev) n->prev->next = n->next;
    else l->head = n->next;
    if (n->next) n->next->prev = n->prev;
    else l->tail = n->prev;
    l->nodes--;
    l->bytes -= sizeof *n + n->cap;
    free(n->buf);
    free(n);
}

static void node_insert(list_t *l, list_node_t *n, size_t off, const uint8_t *p, size_t len)
{
    enc_t x = encode_of(p, len);
    size_t es = x.total;
    node_reserve(l, n, es);
    memmove(n->buf + off + es, n->buf + off, n->used - off);
    entry_write(n->buf + off, p, &x);
    n->used += es;
    n->lpsz += lp_size_of(p, len);
    n->count++;
    l->count++;
}

/* Removes `bytes` bytes holding `k` entries at off; frees the node if empty.
 * Returns true if the node is gone. */
static bool node_cut(list_t *l, list_node_t *n, size_t off, size_t bytes, size_t k)
{
    for (size_t o = off; o < off + bytes;) {
        list_elem_t e;
        o += entry_read(n, o, &e);
        n->lpsz -= lp_size_of(e.p, e.len);
    }
    memmove(n->buf + off, n->buf + off + bytes, n->used - off - bytes);
    n->used -= bytes;
    n->count -= k;
    l->count -= k;
    if (n->count == 0) {
        node_unlink_free(l, n);
        return true;
    }
    node_shrink(l, n);
    return false;
}

/* Recomputes n's listpack size from its entries. */
static void node_recount(list_node_t *n)
{
    n->lpsz = LP_EMPTY_BYTES;
    for (size_t off = 0; off < n->used;) {
        list_elem_t e;
        off += entry_read(n, off, &e);
        n->lpsz += lp_size_of(e.p, e.len);
    }
}

/* ---- the list ---- */

static void list_free_value(void *obj)
{
    list_t *l = obj;
    while (l->head) node_unlink_free(l, l->head);
    free(l);
}

size_t list_mem(const list_t *l) { return sizeof *l + l->bytes; }

static size_t list_mem_usage(const void *obj) { return list_mem(obj); }

/* The keyspace's doors (types.c): 7.0.15 reports every list as a quicklist. */
static const char *list_encoding(const void *obj) { (void)obj; return "quicklist"; }
static unsigned list_rdb_type(const void *obj) { (void)obj; return LIST_RDB_TYPE; }
static int list_rdb_save_op(const void *obj, struct rdb_encoder *enc) { return list_rdb_save(obj, enc); }
static void *list_dup_op(const void *obj) { return list_dup(obj); }

const ks_object_ops_t list_ops = {
    .type_name = "list",
    .free_value = list_free_value,
    .mem_usage = list_mem_usage,
    .encoding = list_encoding,
    .rdb_type = list_rdb_type,
    .rdb_save = list_rdb_save_op,
    .dup = list_dup_op,
};

list_t *list_new_default(void)
{
    list_t *l = xcalloc(1, sizeof *l);
    l->obj.ops = &list_ops;
    l->fill = -2;
    return l;
}

list_t *list_new(void)
{
    list_t *l = list_new_default();
    l->fill = list_setting(TL_LIST_MAX_LISTPACK_SIZE);
    l->compress = list_setting(TL_LIST_COMPRESS_DEPTH);
    return l;
}

/* A node that an end push just passed by is full: its block loses the
 * slack that doubling left (pushes at the ends fill nodes one after another,
 * so most of a long list is full nodes). */
static void node_fit(list_t *l, list_node_t *n)
{
    if (!n || n->cap == n->used) return;
    n->buf = xrealloc(n->buf, n->used);
    l->bytes -= n->cap - n->used;
    n->cap = n->used;
}

void list_push(list_t *l, int where, const uint8_t *p, size_t len)
{
    if (where == LIST_HEAD) {
        list_node_t *n = l->head;
        if (!node_allows(l, n, len)) {
            node_fit(l, n);
            n = node_new(l, NULL);
        }
        node_insert(l, n, 0, p, len);
    } else {
        list_node_t *n = l->tail;
        if (!node_allows(l, n, len)) {
            node_fit(l, n);
            n = node_new(l, l->tail);
        }
        node_insert(l, n, n->used, p, len);
    }
}

void list_push_new_node(list_t *l, const uint8_t *p, size_t len)
{
    list_node_t *n = node_new(l, l->tail);
    node_insert(l, n, n->used, p, len);
}

void list_push_same_node(list_t *l, const uint8_t *p, size_t len)
{
    if (!l->tail) {
        list_push_new_node(l, p, len);
        return;
    }
    node_insert(l, l->tail, l->tail->used, p, len);
}

static size_t last_off(const list_node_t *n) { return entry_prev(n, n->used); }

bool list_peek(const list_t *l, int where, list_elem_t *e)
{
    if (!l->count) return false;
    if (where == LIST_HEAD) entry_read(l->head, 0, e);
    else entry_read(l->tail, last_off(l->tail), e);
    return true;
}

bool list_pop(list_t *l, int where, uint8_t **out, size_t *len)
{
    if (!l->count) return false;
    list_node_t *n = where == LIST_HEAD ? l->head : l->tail;
    size_t off = where == LIST_HEAD ? 0 : last_off(n);
    list_elem_t e;
    size_t es = entry_read(n, off, &e);
    *out = xmalloc(e.len ? e.len : 1);
    memcpy(*out, e.p, e.len);
    *len = e.len;
    node_cut(l, n, off, es, 1);
    return true;
}

/* The node and byte offset of 0-based index idx (< count). */
static void locate(const list_t *l, size_t idx, list_node_t **np, size_t *offp)
{
    list_node_t *n;
    size_t in;
    if (idx < l->count / 2) {
        n = l->head;
        while (idx >= n->count) { idx -= n->count; n = n->next; }
        in = idx;
    } else {
        size_t back = l->count - 1 - idx;
        n = l->tail;
        while (back >= n->count) { back -= n->count; n = n->prev; }
        in = n->count - 1 - back;
    }
    size_t off;
    if (in < n->count / 2) {
        off = 0;
        for (size_t i = 0; i < in; i++) off += entry_read(n, off, NULL);
    } else {
        off = last_off(n);
        for (size_t i = n->count - 1; i > in; i--) off = entry_prev(n, off);
    }
    *np = n;
    *offp = off;
}

bool list_index(const list_t *l, long long index, list_elem_t *e)
{
    if (index < 0) index += (long long)l->count;
    if (index < 0 || (size_t)index >= l->count) return false;
    list_node_t *n;
    size_t off;
    locate(l, (size_t)index, &n, &off);
    entry_read(n, off, e);
    return true;
}

void list_set(list_t *l, size_t index, const uint8_t *p, size_t len)
{
    list_node_t *n;
    size_t off;
    locate(l, index, &n, &off);
    enc_t x = encode_of(p, len);
    size_t old = entry_read(n, off, NULL), es = x.total;
    if (es > old) node_reserve(l, n, es - old);
    list_elem_t prev;
    entry_read(n, off, &prev);
    n->lpsz -= lp_size_of(prev.p, prev.len);
    n->lpsz += lp_size_of(p, len);
    memmove(n->buf + off + es, n->buf + off + old, n->used - off - old);
    entry_write(n->buf + off, p, &x);
    n->used = n->used - old + es;   /* in place, whatever the size, as 7.0.15's lpReplace */
}

void list_delete_range(list_t *l, size_t start, size_t n)
{
    if (n == 0) return;
    list_node_t *node;
    size_t off;
    locate(l, start, &node, &off);
    while (n > 0) {
        list_node_t *next = node->next;
        if (off == 0 && node->count <= n) {
            n -= node->count;
            l->count -= node->count;
            node_unlink_free(l, node);
        } else {
            size_t end = off, k = 0;
            while (end < node->used && k < n) { end += entry_read(node, end, NULL); k++; }
            node_cut(l, node, off, end - off, k);
            n -= k;
        }
        node = next;
        off = 0;
    }
}

/* ---- iteration ---- */

bool list_iter_at(list_t *l, size_t start, bool forward, list_iter_t *it)
{
    it->l = l;
    it->forward = forward;
    it->last = NULL;
    if (start >= l->count) {
        it->node = NULL;
        return false;
    }
    locate(l, start, &it->node, &it->off);
    return true;
}

bool list_iter_next(list_iter_t *it, list_elem_t *e)
{
    list_node_t *n = it->node;
    if (!n) return false;
    it->last = n;
    it->last_off = it->off;
    size_t es = entry_read(n, it->off, e);
    if (it->forward) {
        it->off += es;
        if (it->off >= n->used) {
            it->node = n->next;
            it->off = 0;
        }
    } else if (it->off == 0) {
        it->node = n->prev;
        it->off = it->node ? last_off(it->node) : 0;
    } else {
        it->off = entry_prev(n, it->off);
    }
    return true;
}

void list_iter_delete_prev(list_iter_t *it)
{
    list_node_t *n = it->last;
    size_t es = entry_read(n, it->last_off, NULL);
    bool same = it->node == n;
    /* Forward, the next entry moves down by the cut; backward it lies
     * before the cut and does not move. */
    bool gone = node_cut(it->l, n, it->last_off, es, 1);
    if (!gone && same && it->forward) it->off -= es;
    it->last = NULL;
}

/* ---- inserting in the middle, as 7.0.15's _quicklistInsert ---- */

static bool node_allows_merge(const list_t *l, const list_node_t *a, const list_node_t *b)
{
    if (!a || !b) return false;
    int fill = l->fill;
    size_t merge_sz = a->lpsz + b->lpsz - 11;   /* Redis's estimate */
    if (fill < 0) {
        size_t level = (size_t)(-(long long)fill) - 1;
        if (level < 5 && merge_sz <= optimization_level[level]) return true;
    }
    if (merge_sz > SIZE_SAFETY_LIMIT) return false;
    return (long long)(a->count + b->count) <= (long long)fill;
}

/* Moves b's entries to the end of a (b follows a) and frees b. */
static list_node_t *node_merge(list_t *l, list_node_t *a, list_node_t *b)
{
    node_reserve(l, a, b->used);
    memcpy(a->buf + a->used, b->buf, b->used);
    a->used += b->used;
    a->count += b->count;
    a->lpsz += b->lpsz - LP_EMPTY_BYTES;
    node_unlink_free(l, b);       /* the list's element count is unchanged */
    return a;
}

static void merge_around(list_t *l, list_node_t *center)
{
    list_node_t *prev = center->prev, *prev_prev = prev ? prev->prev : NULL;
    list_node_t *next = center->next, *next_next = next ? next->next : NULL;
    if (node_allows_merge(l, prev, prev_prev)) node_merge(l, prev_prev, prev);
    if (node_allows_merge(l, next, next_next)) node_merge(l, next, next_next);
    list_node_t *target = center;
    if (node_allows_merge(l, center, center->prev)) target = node_merge(l, center->prev, center);
    if (node_allows_merge(l, target, target->next)) node_merge(l, target, target->next);
}

/* Cuts n at byte offset b: the part after it (after) or before it (!after)
 * moves to a new node placed on that side. */
static list_node_t *node_split_at(list_t *l, list_node_t *n, size_t b, bool after)
{
    list_node_t *m = node_new(l, after ? n : n->prev);
    size_t from = after ? b : 0, len = after ? n->used - b : b;
    node_reserve(l, m, len);
    memcpy(m->buf, n->buf + from, len);
    m->used = len;
    memmove(n->buf, n->buf + (after ? 0 : b), n->used - len);
    n->used -= len;
    size_t k = 0;
    for (size_t o = 0; o < m->used; k++) o += entry_read(m, o, NULL);
    m->count = k;
    n->count -= k;
    node_recount(m);
    node_recount(n);
    node_shrink(l, n);
    return m;
}

void list_iter_insert_prev(list_iter_t *it, bool after, const uint8_t *p, size_t len)
{
    list_t *l = it->l;
    list_node_t *n = it->last;
    size_t off = it->last_off, idx = 0;
    for (size_t o = 0; o < off; idx++) o += entry_read(n, o, NULL);
    size_t end = off + entry_read(n, off, NULL);
    bool full = !node_allows(l, n, len);
    bool at_tail = after && idx == n->count - 1, at_head = !after && idx == 0;
    bool avail_next = at_tail && node_allows(l, n->next, len);
    bool avail_prev = at_head && node_allows(l, n->prev, len);
    it->node = NULL;
    it->last = NULL;
    if (!full) {
        node_insert(l, n, after ? end : off, p, len);
    } else if (at_tail && avail_next) {
        node_insert(l, n->next, 0, p, len);
    } else if (at_head && avail_prev) {
        node_insert(l, n->prev, n->prev->used, p, len);
    } else if (at_tail || at_head) {
        list_node_t *m = node_new(l, after ? n : n->prev);
        node_insert(l, m, 0, p, len);
    } else {
        list_node_t *m = node_split_at(l, n, after ? end : off, after);
        node_insert(l, m, after ? 0 : m->used, p, len);
        merge_around(l, n);
    }
}

/* ---- nodes for RDB ---- */

size_t list_node_count(const list_node_t *n) { return n->count; }
size_t list_node_lpsz(const list_node_t *n) { return n->lpsz; }
const list_node_t *list_first_node(const list_t *l) { return l->head; }
const list_node_t *list_next_node(const list_node_t *n) { return n->next; }

void list_node_foreach(const list_node_t *n, list_elem_cb cb, void *arg)
{
    size_t off = 0;
    while (off < n->used) {
        list_elem_t e;
        off += entry_read(n, off, &e);
        cb(arg, e.p, e.len);
    }
}

list_t *list_dup(const list_t *l)
{
    list_t *c = list_new_default();
    c->fill = l->fill;            /* a copy keeps the original's shape, as quicklistDup */
    c->compress = l->compress;
    for (const list_node_t *n = l->head; n; n = n->next) {
        list_node_t *m = node_new(c, c->tail);
        node_reserve(c, m, n->used);
        memcpy(m->buf, n->buf, n->used);
        m->used = n->used;
        m->count = n->count;
        m->lpsz = n->lpsz;
        c->count += n->count;
    }
    return c;
}

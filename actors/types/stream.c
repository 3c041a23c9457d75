/* stream.c - the stream type (stream.h): nodes, appends, trims, deletes and
 * iteration, with 7.0.15's node layout and its rules for when a node is
 * full, so that the same commands give the same nodes and the same bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/types/stream.h"
#include "actors/types/stream_cg.h"
#include "actors/types/types.h"
#include "proto/strnum.h"
#include "runtime/xmalloc.h"

#define STREAM_LP_MAX_SIZE ((size_t)1 << 30)   /* 7.0.15's STREAM_LISTPACK_MAX_SIZE */

long long stream_node_max_bytes(void) { return types_limit(TL_STREAM_NODE_MAX_BYTES); }
long long stream_node_max_entries(void) { return types_limit(TL_STREAM_NODE_MAX_ENTRIES); }

/* ---------------- IDs ---------------- */

bool stream_id_incr(stream_id_t *id)
{
    if (id->seq != UINT64_MAX) { id->seq++; return true; }
    if (id->ms != UINT64_MAX) { id->ms++; id->seq = 0; return true; }
    id->ms = id->seq = 0;
    return false;
}

bool stream_id_decr(stream_id_t *id)
{
    if (id->seq != 0) { id->seq--; return true; }
    if (id->ms != 0) { id->ms--; id->seq = UINT64_MAX; return true; }
    id->ms = id->seq = UINT64_MAX;
    return false;
}

size_t stream_id_fmt(const stream_id_t *id, char *buf)
{
    return (size_t)snprintf(buf, 42, "%llu-%llu", (unsigned long long)id->ms, (unsigned long long)id->seq);
}

/* 7.0.15's string2ull on a C string: string2ll's form when it is one (not
 * negative), else what strtoull takes whole (leading blanks, a sign). */
static bool parse_u64(const char *s, uint64_t *out)
{
    long long x;
    if (str_to_ll((const uint8_t *)s, strlen(s), &x)) {
        if (x < 0) return false;
        *out = (uint64_t)x;
        return true;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == EINVAL || errno == ERANGE || !(*s != '\0' && *end == '\0')) return false;
    *out = v;
    return true;
}

bool stream_id_parse(const uint8_t *in, size_t n, uint64_t missing_seq, stream_id_t *id, bool *seq_star)
{
    /* as 7.0.15, the ID is read as a C string: it ends at a NUL byte */
    char buf[128];
    if (n > sizeof buf - 1) return false;
    memcpy(buf, in, n);
    buf[n] = '\0';
    if (seq_star) *seq_star = false;
    char *dash = strchr(buf, '-');
    if (dash) *dash = '\0';
    uint64_t ms, seq = missing_seq;
    if (!parse_u64(buf, &ms)) return false;
    if (dash) {
        if (seq_star && strcmp(dash + 1, "*") == 0) {
            seq = 0;
            *seq_star = true;
        } else if (!parse_u64(dash + 1, &seq)) {
            return false;
        }
    }
    id->ms = ms;
    id->seq = seq;
    return true;
}

/* ---------------- listpack helpers ---------------- */

static int64_t lp_int_at(const uint8_t *lp, size_t off)
{
    lp_val_t v = lp_get(lp, off);
    if (!v.s) return v.v;
    long long x = 0;
    str_to_ll(v.s, v.len, &x);
    return x;
}

int64_t stream_node_live(const uint8_t *lp) { return lp_int_at(lp, lp_first(lp)); }

/* Replaces the integer at *off and keeps *off pointing at it. */
static uint8_t *lp_set_int(uint8_t *lp, size_t off, int64_t v) { return lp_replace(lp, off, lp_int(v)); }

/* Offset of the element after the master entry's terminator (the first
 * entry's flags, or the end), and the master fields. */
static size_t skip_master(const uint8_t *lp, int64_t *mf_count, size_t *mf_start)
{
    size_t p = lp_first(lp);          /* count */
    p = lp_next(lp, p);               /* deleted */
    p = lp_next(lp, p);               /* num fields */
    int64_t n = lp_int_at(lp, p);
    p = lp_next(lp, p);
    if (mf_start) *mf_start = p;
    if (mf_count) *mf_count = n;
    for (int64_t i = 0; i < n; i++) p = lp_next(lp, p);
    return lp_next(lp, p);            /* past the 0 terminator */
}

/* ---------------- the stream object ---------------- */

stream_t *stream_new(void)
{
    stream_t *s = xcalloc(1, sizeof *s);
    s->obj.ops = &stream_ops;
    return s;
}

void stream_free(stream_t *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->nnodes; i++) free(stream_node_at(s, i)->lp);
    free(s->nodes);
    stream_cgs_free(s->cgs);
    free(s);
}

size_t stream_mem(const stream_t *s)
{
    return sizeof *s + s->cap * sizeof(stream_node_t) + s->lp_total + stream_cgs_mem(s->cgs);
}

void stream_add_node(stream_t *s, const stream_id_t *master, uint8_t *lp)
{
    if (s->head + s->nnodes == s->cap) {
        if (s->head > s->cap / 2) {
            memmove(s->nodes, s->nodes + s->head, s->nnodes * sizeof *s->nodes);
            s->head = 0;
        } else {
            s->cap = s->cap ? s->cap * 2 : 4;
            s->nodes = xrealloc(s->nodes, s->cap * sizeof *s->nodes);
        }
    }
    stream_node_t *n = &s->nodes[s->head + s->nnodes++];
    n->master = *master;
    n->lp = lp;
    s->lp_total += lp_bytes(lp);
}

/* Removes node i (index from head). */
static void remove_node(stream_t *s, size_t i)
{
    stream_node_t *n = stream_node_at(s, i);
    s->lp_total -= lp_bytes(n->lp);
    free(n->lp);
    if (i == 0) {
        s->head++;
    } else {
        memmove(n, n + 1, (s->nnodes - i - 1) * sizeof *n);
    }
    s->nnodes--;
    if (s->nnodes == 0) s->head = 0;
}

/* Swaps node i's listpack for lp (after an edit), keeping the byte count. */
static void node_set_lp(stream_t *s, size_t i, uint8_t *lp, size_t old_bytes)
{
    stream_node_t *n = stream_node_at(s, i);
    s->lp_total = s->lp_total - old_bytes + lp_bytes(lp);
    n->lp = lp;
}

/* ---------------- append ---------------- */

static bool fields_match_master(const uint8_t *lp, const uint8_t *const *fv, const size_t *fvlen, size_t nf)
{
    int64_t mfc;
    size_t p;
    skip_master(lp, &mfc, &p);
    if ((size_t)mfc != nf) return false;
    for (size_t i = 0; i < nf; i++, p = lp_next(lp, p)) {
        lp_val_t v = lp_get(lp, p);
        if (!lp_val_eq(&v, fv[2 * i], fvlen[2 * i])) return false;
    }
    return true;
}

/* Whether the tail node takes one more entry of tot bytes (7.0.15's rule:
 * its bytes plus the new elements' stay under stream-node-max-bytes, and
 * its live plus deleted entries under stream-node-max-entries). */
static bool tail_has_room(const uint8_t *lp, size_t tot)
{
    size_t maxb = (size_t)stream_node_max_bytes();
    if (maxb == 0 || maxb > STREAM_LP_MAX_SIZE) maxb = STREAM_LP_MAX_SIZE;
    if (lp_bytes(lp) + tot >= maxb) return false;
    long long maxe = stream_node_max_entries();
    if (maxe) {
        size_t p = lp_first(lp);
        int64_t count = lp_int_at(lp, p) + lp_int_at(lp, lp_next(lp, p));
        if (count >= maxe) return false;
    }
    return true;
}

static uint8_t *new_node_lp(const uint8_t *const *fv, const size_t *fvlen, size_t nf)
{
    uint8_t *lp = lp_new();
    lp = lp_append(lp, lp_int(1));
    lp = lp_append(lp, lp_int(0));
    lp = lp_append(lp, lp_int((long long)nf));
    for (size_t i = 0; i < nf; i++) lp = lp_append(lp, lp_str(fv[2 * i], fvlen[2 * i]));
    return lp_append(lp, lp_int(0));
}

int stream_append(stream_t *s, const uint8_t *const *fv, const size_t *fvlen, size_t nf, const stream_id_t *use,
                  bool seq_given, long long now_ms, stream_id_t *added)
{
    stream_id_t id;
    if (use) {
        if (seq_given) {
            id = *use;
        } else if (s->last_id.ms == use->ms) {
            /* 7.0.15 fails here without setting errno to EDOM, so the
             * client hears "Elements are too large to be stored" */
            if (s->last_id.seq == UINT64_MAX) return -2;
            id = s->last_id;
            id.seq++;
        } else {
            id = *use;
        }
    } else if ((uint64_t)now_ms > s->last_id.ms) {
        id.ms = (uint64_t)now_ms;
        id.seq = 0;
    } else {
        id = s->last_id;
        stream_id_incr(&id);
    }
    if (stream_id_cmp(&id, &s->last_id) <= 0) return -1;
    size_t tot = 0;
    for (size_t i = 0; i < 2 * nf; i++) tot += fvlen[i];
    if (tot > STREAM_LP_MAX_SIZE) return -2;

    int flags = 0;
    stream_node_t *tail = s->nnodes ? stream_node_at(s, s->nnodes - 1) : NULL;
    if (tail && !tail_has_room(tail->lp, tot)) tail = NULL;
    uint8_t *lp;
    size_t old = 0;
    if (!tail) {
        stream_add_node(s, &id, new_node_lp(fv, fvlen, nf));
        tail = stream_node_at(s, s->nnodes - 1);
        lp = tail->lp;
        old = lp_bytes(lp);
        flags = STREAM_FLAG_SAMEFIELDS;
    } else {
        lp = tail->lp;
        old = lp_bytes(lp);
        lp = lp_set_int(lp, lp_first(lp), stream_node_live(lp) + 1);
        if (fields_match_master(lp, fv, fvlen, nf)) flags = STREAM_FLAG_SAMEFIELDS;
    }
    stream_id_t m = tail->master;
    lp = lp_append(lp, lp_int(flags));
    lp = lp_append(lp, lp_int((long long)(id.ms - m.ms)));
    lp = lp_append(lp, lp_int((long long)(id.seq - m.seq)));
    bool same = flags & STREAM_FLAG_SAMEFIELDS;
    if (!same) lp = lp_append(lp, lp_int((long long)nf));
    for (size_t i = 0; i < nf; i++) {
        if (!same) lp = lp_append(lp, lp_str(fv[2 * i], fvlen[2 * i]));
        lp = lp_append(lp, lp_str(fv[2 * i + 1], fvlen[2 * i + 1]));
    }
    long long lpc = (long long)nf + 3 + (same ? 0 : (long long)nf + 1);
    lp = lp_append(lp, lp_int(lpc));
    node_set_lp(s, s->nnodes - 1, lp, old);
    s->length++;
    s->entries_added++;
    s->last_id = id;
    if (s->length == 1) s->first_id = id;
    if (added) *added = id;
    return 0;
}

/* ---------------- iteration ---------------- */

/* The last node whose master ID is <= id, or 0. */
static size_t node_le(const stream_t *s, const stream_id_t *id)
{
    size_t lo = 0, hi = s->nnodes;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (stream_id_cmp(&stream_node_at(s, mid)->master, id) <= 0) lo = mid;
        else hi = mid;
    }
    return lo;
}

void stream_iter_start(stream_iter_t *it, const stream_t *s, const stream_id_t *start, const stream_id_t *end,
                       bool rev)
{
    memset(it, 0, sizeof *it);
    it->s = s;
    it->rev = rev;
    it->skip_tombstones = true;
    if (start) it->start = *start;
    if (end) it->end = *end;
    else it->end.ms = it->end.seq = UINT64_MAX;
    if (!s->nnodes) {
        it->node = SIZE_MAX;
        return;
    }
    if (!rev) it->node = start && !stream_id_zero(start) ? node_le(s, start) : 0;
    else it->node = end && !stream_id_zero(end) ? node_le(s, &it->end) : s->nnodes - 1;
}

/* Enters node it->node: positioned at the master terminator (forward) or
 * the last lp-count (reverse). */
static void enter_node(stream_iter_t *it)
{
    const stream_node_t *n = stream_node_at(it->s, it->node);
    it->lp = n->lp;
    it->master = n->master;
    size_t after = skip_master(it->lp, &it->mf_count, &it->mf_start);
    it->pos = it->rev ? lp_last(it->lp) : lp_prev(it->lp, after);
    it->in_node = true;
}

/* Reads the entry whose flags are at p; returns the offset after the
 * num-fields element (the first field or value). */
static size_t read_entry(stream_iter_t *it, size_t p, stream_id_t *id, int64_t *nf)
{
    const uint8_t *lp = it->lp;
    it->flags_off = p;
    it->flags = (int)lp_int_at(lp, p);
    p = lp_next(lp, p);
    *id = it->master;
    id->ms += (uint64_t)lp_int_at(lp, p);
    p = lp_next(lp, p);
    id->seq += (uint64_t)lp_int_at(lp, p);
    p = lp_next(lp, p);
    if (it->flags & STREAM_FLAG_SAMEFIELDS) {
        *nf = it->mf_count;
    } else {
        *nf = lp_int_at(lp, p);
        p = lp_next(lp, p);
    }
    return p;
}

/* Offset of the lp-count that ends the entry whose fields start at p. */
static size_t skip_fields(const stream_iter_t *it, size_t p, int64_t nf)
{
    int64_t n = (it->flags & STREAM_FLAG_SAMEFIELDS) ? nf : nf * 2;
    for (int64_t i = 0; i < n; i++) p = lp_next(it->lp, p);
    return p;
}

static bool emit_ok(const stream_iter_t *it) { return !it->skip_tombstones || !(it->flags & STREAM_FLAG_DELETED); }

/* 1: an entry; 0: this node is done; -1: past the range. */
static int next_fwd(stream_iter_t *it, stream_id_t *id, int64_t *nf)
{
    for (;;) {
        size_t p = lp_next(it->lp, it->pos);
        if (lp_at_end(it->lp, p)) return 0;
        size_t f = read_entry(it, p, id, nf);
        it->pos = skip_fields(it, f, *nf);
        if (stream_id_cmp(id, &it->start) >= 0 && emit_ok(it)) {
            if (stream_id_cmp(id, &it->end) > 0) return -1;
            it->field_off = f;
            it->mf_ptr = it->mf_start;
            return 1;
        }
    }
}

static int next_rev(stream_iter_t *it, stream_id_t *id, int64_t *nf)
{
    for (;;) {
        int64_t cnt = lp_int_at(it->lp, it->pos);
        if (cnt == 0) return 0;                  /* the master terminator */
        size_t p = it->pos;
        for (int64_t i = 0; i < cnt; i++) p = lp_prev(it->lp, p);
        size_t f = read_entry(it, p, id, nf);
        it->pos = lp_prev(it->lp, p);           /* the previous entry's lp-count */
        if (stream_id_cmp(id, &it->end) <= 0 && emit_ok(it)) {
            if (stream_id_cmp(id, &it->start) < 0) return -1;
            it->field_off = f;
            it->mf_ptr = it->mf_start;
            return 1;
        }
    }
}

bool stream_iter_next(stream_iter_t *it, stream_id_t *id, int64_t *numfields)
{
    while (it->node != SIZE_MAX) {
        if (!it->in_node) {
            if (it->node >= it->s->nnodes) break;
            enter_node(it);
        }
        int r = it->rev ? next_rev(it, id, numfields) : next_fwd(it, id, numfields);
        if (r == 1) return true;
        if (r < 0) break;
        it->in_node = false;
        if (it->rev && it->node == 0) break;
        it->node = it->rev ? it->node - 1 : it->node + 1;
    }
    it->node = SIZE_MAX;
    return false;
}

void stream_iter_field(stream_iter_t *it, const uint8_t **f, size_t *fl, const uint8_t **v, size_t *vl, uint8_t fb[21],
                       uint8_t vb[21])
{
    lp_val_t x;
    if (it->flags & STREAM_FLAG_SAMEFIELDS) {
        x = lp_get(it->lp, it->mf_ptr);
        it->mf_ptr = lp_next(it->lp, it->mf_ptr);
    } else {
        x = lp_get(it->lp, it->field_off);
        it->field_off = lp_next(it->lp, it->field_off);
    }
    *f = lp_val_bytes(&x, fb, fl);
    x = lp_get(it->lp, it->field_off);
    it->field_off = lp_next(it->lp, it->field_off);
    *v = lp_val_bytes(&x, vb, vl);
}

bool stream_edge(const stream_t *s, bool first, bool skip_tombstones, stream_id_t *id)
{
    stream_iter_t it;
    stream_iter_start(&it, s, NULL, NULL, !first);
    it.skip_tombstones = skip_tombstones;
    int64_t nf;
    if (stream_iter_next(&it, id, &nf)) return true;
    if (first) id->ms = id->seq = UINT64_MAX;
    else id->ms = id->seq = 0;
    return false;
}

bool stream_has(const stream_t *s, const stream_id_t *id)
{
    stream_iter_t it;
    stream_iter_start(&it, s, id, id, false);
    stream_id_t got;
    int64_t nf;
    return stream_iter_next(&it, &got, &nf);
}

/* ---------------- delete and trim ---------------- */

/* Marks the entry whose flags are at flags_off in node i deleted and
 * fixes the node's counts; the node goes when it had one live entry. */
static void mark_deleted(stream_t *s, size_t i, size_t flags_off, int flags)
{
    stream_node_t *n = stream_node_at(s, i);
    uint8_t *lp = n->lp;
    size_t old = lp_bytes(lp);
    int64_t live = stream_node_live(lp);
    s->length--;
    if (live == 1) {
        remove_node(s, i);
        return;
    }
    lp = lp_set_int(lp, flags_off, flags | STREAM_FLAG_DELETED);
    size_t p = lp_first(lp);
    lp = lp_set_int(lp, p, live - 1);
    p = lp_next(lp, p);
    lp = lp_set_int(lp, p, lp_int_at(lp, p) + 1);
    node_set_lp(s, i, lp, old);
}

bool stream_delete(stream_t *s, const stream_id_t *id)
{
    stream_iter_t it;
    stream_iter_start(&it, s, id, id, false);
    stream_id_t got;
    int64_t nf;
    if (!stream_iter_next(&it, &got, &nf)) return false;
    mark_deleted(s, it.node, it.flags_off, it.flags);
    return true;
}

/* Exact trimming inside node 0: marks entries deleted from its start
 * until the strategy is met. Returns how many it marked. */
static int64_t trim_in_node(stream_t *s, const stream_trim_t *t)
{
    stream_node_t *n = stream_node_at(s, 0);
    uint8_t *lp = n->lp;
    size_t old = lp_bytes(lp);
    int64_t entries = stream_node_live(lp), mfc, marked = 0;
    size_t p = skip_master(lp, &mfc, NULL);
    while (!lp_at_end(lp, p)) {
        size_t fo = p;
        int64_t flags = lp_int_at(lp, p);
        p = lp_next(lp, p);
        stream_id_t cur = n->master;
        cur.ms += (uint64_t)lp_int_at(lp, p);
        p = lp_next(lp, p);
        cur.seq += (uint64_t)lp_int_at(lp, p);
        p = lp_next(lp, p);
        bool stop = t->strategy == STREAM_TRIM_MAXLEN ? s->length <= (uint64_t)t->maxlen
                                                      : stream_id_cmp(&cur, &t->minid) >= 0;
        if (stop) break;
        int64_t skip = mfc;
        if (!(flags & STREAM_FLAG_SAMEFIELDS)) {
            skip = lp_int_at(lp, p) * 2;
            p = lp_next(lp, p);
        }
        for (int64_t k = 0; k < skip; k++) p = lp_next(lp, p);
        p = lp_next(lp, p);                      /* past lp-count */
        if (!(flags & STREAM_FLAG_DELETED)) {
            size_t before = lp_bytes(lp);
            lp = lp_set_int(lp, fo, flags | STREAM_FLAG_DELETED);
            p = p + lp_bytes(lp) - before;       /* the flags entry may change size */
            marked++;
            s->length--;
        }
    }
    size_t q = lp_first(lp);
    lp = lp_set_int(lp, q, entries - marked);
    q = lp_next(lp, q);
    lp = lp_set_int(lp, q, lp_int_at(lp, q) + marked);
    node_set_lp(s, 0, lp, old);
    return marked;
}

int64_t stream_trim(stream_t *s, const stream_trim_t *t)
{
    if (t->strategy == STREAM_TRIM_NONE) return 0;
    int64_t deleted = 0;
    while (s->nnodes) {
        if (t->strategy == STREAM_TRIM_MAXLEN && s->length <= (uint64_t)t->maxlen) break;
        stream_node_t *n = stream_node_at(s, 0);
        int64_t entries = stream_node_live(n->lp);
        if (t->limit && deleted + entries > t->limit) break;
        bool whole;
        if (t->strategy == STREAM_TRIM_MAXLEN) {
            whole = s->length - (uint64_t)entries >= (uint64_t)t->maxlen;
        } else {
            stream_iter_t it;
            memset(&it, 0, sizeof it);
            it.s = s;
            it.node = 0;
            it.rev = true;
            it.skip_tombstones = false;
            it.end.ms = it.end.seq = UINT64_MAX;
            enter_node(&it);
            stream_id_t last;
            int64_t nf;
            whole = next_rev(&it, &last, &nf) == 1 && stream_id_cmp(&last, &t->minid) < 0;
        }
        if (whole) {
            remove_node(s, 0);
            s->length -= (uint64_t)entries;
            deleted += entries;
            continue;
        }
        if (t->approx) break;
        deleted += trim_in_node(s, t);
        break;
    }
    if (s->length == 0) s->first_id.ms = s->first_id.seq = 0;
    else if (deleted) stream_edge(s, true, true, &s->first_id);
    return deleted;
}

/* ---------------- copy and ops ---------------- */

stream_t *stream_dup(const stream_t *s)
{
    stream_t *d = stream_new();
    for (size_t i = 0; i < s->nnodes; i++) {
        const stream_node_t *n = stream_node_at(s, i);
        stream_add_node(d, &n->master, lp_dup(n->lp, lp_bytes(n->lp)));
    }
    d->length = s->length;
    d->last_id = s->last_id;
    d->first_id = s->first_id;
    d->max_deleted = s->max_deleted;
    d->entries_added = s->entries_added;
    d->cgs = stream_cgs_dup(s->cgs);
    return d;
}

static void op_free(void *o) { stream_free(o); }
static size_t op_mem(const void *o) { return stream_mem(o); }
static const char *op_encoding(const void *o) { (void)o; return "stream"; }
static void *op_dup(const void *o) { return &stream_dup(o)->obj; }
static unsigned op_rdb_type(const void *o) { (void)o; return STREAM_RDB_TYPE; }
static int op_rdb_save(const void *o, struct rdb_encoder *enc) { return stream_rdb_save(o, enc); }

const ks_object_ops_t stream_ops = {
    .type_name = "stream",
    .free_value = op_free,
    .mem_usage = op_mem,
    .encoding = op_encoding,
    .rdb_type = op_rdb_type,
    .rdb_save = op_rdb_save,
    .dup = op_dup,
};

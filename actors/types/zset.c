/* zset.c - the sorted set type (see zset.h): storage in both encodings,
 * conversion between them, rank lookups and iteration, and the RDB forms
 * (ZSET_LISTPACK and ZSET_2 written, as 7.0.15 writes them; ZSET,
 * ZSET_ZIPLIST, ZSET_2 and ZSET_LISTPACK read).
 *
 * Must never hand out a pointer into the listpack across a change to it.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "actors/types/types.h"
#include "actors/types/zset.h"
#include "proto/listpack.h"
#include "proto/rdb.h"
#include "proto/strnum.h"
#include "proto/ziplist.h"
#include "runtime/xmalloc.h"

size_t zset_d2str(char *buf, size_t cap, double v)
{
    int n;
    if (isnan(v)) n = snprintf(buf, cap, "nan");
    else if (isinf(v)) n = snprintf(buf, cap, v < 0 ? "-inf" : "inf");
    else if (v == 0) n = snprintf(buf, cap, 1.0 / v < 0 ? "-0" : "0");
    else if (v >= (double)(-LLONG_MAX / 2) && v <= (double)(LLONG_MAX / 2) && (double)(long long)v == v)
        n = snprintf(buf, cap, "%lld", (long long)v);
    else n = snprintf(buf, cap, "%.17g", v);
    return (size_t)n;
}

bool zset_parse_score(const uint8_t *s, size_t len, double *out)
{
    if (len == 0 || isspace(s[0])) return false;
    char small[128];
    char *b = len < sizeof small ? small : xmalloc(len + 1);
    memcpy(b, s, len);
    b[len] = 0;
    char *end;
    errno = 0;
    double v = strtod(b, &end);
    bool ok = (size_t)(end - b) == len && !isnan(v) &&
              !(errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO));
    if (b != small) free(b);
    if (ok) *out = v;
    return ok;
}

/* The score of a listpack entry (text or integer). */
static double lp_score(const uint8_t *lp, size_t off)
{
    lp_val_t v = lp_get(lp, off);
    if (!v.s) return (double)v.v;
    char buf[128];
    size_t n = v.len < sizeof buf - 1 ? v.len : sizeof buf - 1;
    memcpy(buf, v.s, n);
    buf[n] = 0;
    return strtod(buf, NULL);
}

_Static_assert(sizeof(double) <= sizeof(void *), "a score fits an sdict value word");

static void entry_set_score(sd_entry_t *e, double s)
{
    e->val = NULL;
    memcpy(&e->val, &s, sizeof s);
}

static void zset_free(void *obj)
{
    zset_t *z = obj;
    free(z->lp);
    zt_free(z->zt);
    sd_free(z->d, NULL);
    free(z);
}

static size_t zset_mem(const void *obj)
{
    const zset_t *z = obj;
    if (z->enc == ZSET_LISTPACK) return sizeof *z + lp_bytes(z->lp);
    return sizeof *z + sd_mem(z->d) + zt_mem(z->zt);
}

static const char *zset_encoding(const void *obj)
{
    return ((const zset_t *)obj)->enc == ZSET_LISTPACK ? "listpack" : "skiplist";
}

static unsigned zset_rdb_type(const void *obj)
{
    return ((const zset_t *)obj)->enc == ZSET_LISTPACK ? RDB_TYPE_ZSET_LISTPACK : RDB_TYPE_ZSET_2;
}

static int zset_rdb_save(const void *obj, struct rdb_encoder *enc)
{
    const zset_t *z = obj;
    if (z->enc == ZSET_LISTPACK) return rdb_encode_string(enc, z->lp, lp_bytes(z->lp));
    /* Highest first, as 7.0.15 writes them. */
    int rc = rdb_encode_length(enc, z->zt->len);
    zt_pos_t pos;
    for (bool more = zt_last(z->zt, &pos); more && !rc; more = zt_prev(&pos)) {
        double s;
        const uint8_t *m;
        size_t ml;
        zt_get(&pos, &s, &m, &ml);
        rc = rdb_encode_string(enc, m, ml);
        if (!rc) rc = rdb_encode_double_bin(enc, s);
    }
    return rc;
}

static void *zset_dup(const void *obj)
{
    const zset_t *z = obj;
    zset_t *c = zset_new_enc(z->enc);
    if (z->enc == ZSET_LISTPACK) {
        free(c->lp);
        c->lp = lp_dup(z->lp, lp_bytes(z->lp));
        return c;
    }
    zt_pos_t pos;
    for (bool more = zt_at(z->zt, 1, &pos); more; more = zt_next(&pos)) {
        double s;
        const uint8_t *m;
        size_t ml;
        int out;
        zt_get(&pos, &s, &m, &ml);
        zset_add(c, s, m, ml, 0, &out, NULL);
    }
    return c;
}

const ks_object_ops_t zset_ops = {
    .type_name = "zset",
    .free_value = zset_free,
    .mem_usage = zset_mem,
    .encoding = zset_encoding,
    .rdb_type = zset_rdb_type,
    .rdb_save = zset_rdb_save,
    .dup = zset_dup,
};

zset_t *zset_new_enc(int enc)
{
    zset_t *z = xcalloc(1, sizeof *z);
    z->base.ops = &zset_ops;
    z->enc = (uint8_t)enc;
    if (enc == ZSET_LISTPACK) {
        z->lp = lp_new();
    } else {
        z->d = sd_new(0);
        z->zt = zt_new();
    }
    return z;
}

zset_t *zset_new(size_t first_len)
{
    bool big = types_limit(TL_ZSET_MAX_LISTPACK_ENTRIES) == 0 ||
               (long long)first_len > types_limit(TL_ZSET_MAX_LISTPACK_VALUE);
    return zset_new_enc(big ? ZSET_SKIPLIST : ZSET_LISTPACK);
}

size_t zset_len(const zset_t *z)
{
    return z->enc == ZSET_LISTPACK ? lp_count(z->lp) / 2 : z->zt->len;
}

/* Offset of member m's entry in the listpack, or 0. */
static size_t lp_member(const zset_t *z, const uint8_t *m, size_t ml)
{
    return lp_find(z->lp, lp_first(z->lp), m, ml, 2);
}

bool zset_score(const zset_t *z, const uint8_t *m, size_t ml, double *score)
{
    if (z->enc == ZSET_LISTPACK) {
        size_t off = lp_member(z, m, ml);
        if (!off) return false;
        *score = lp_score(z->lp, lp_next(z->lp, off));
        return true;
    }
    sd_entry_t *e = sd_find(z->d, m, ml);
    if (!e) return false;
    *score = zset_entry_score(e);
    return true;
}

static void sl_insert(zset_t *z, double score, const uint8_t *m, size_t ml)
{
    sd_entry_t *e = sd_add(z->d, m, ml, NULL);
    entry_set_score(e, score);
    zt_insert(z->zt, score, e->key, e->klen);
}

void zset_to_skiplist(zset_t *z)
{
    if (z->enc == ZSET_SKIPLIST) return;
    uint8_t *lp = z->lp;
    z->lp = NULL;
    z->d = sd_new(lp_count(lp) / 2);
    z->zt = zt_new();
    z->enc = ZSET_SKIPLIST;
    for (size_t off = lp_first(lp); !lp_at_end(lp, off);) {
        uint8_t buf[21];
        size_t ml;
        lp_val_t mv = lp_get(lp, off);
        off = lp_next(lp, off);
        double s = lp_score(lp, off);
        off = lp_next(lp, off);
        const uint8_t *m = lp_val_bytes(&mv, buf, &ml);
        sl_insert(z, s, m, ml);
    }
    free(lp);
}

/* Appends (m, score) at the end of the listpack, or before the entry at off. */
static void lp_put(zset_t *z, size_t off, const uint8_t *m, size_t ml, double score)
{
    /* Whole scores (-0 included) go in as integers, others as d2string text. */
    char sb[64];
    lp_val_t sv;
    if (score >= (double)(-LLONG_MAX / 2) && score <= (double)(LLONG_MAX / 2) && (double)(long long)score == score) {
        sv = lp_int((long long)score);
    } else {
        size_t sl = zset_d2str(sb, sizeof sb, score);
        sv = lp_str(sb, sl);
    }
    if (!off || lp_at_end(z->lp, off)) {
        z->lp = lp_append(z->lp, lp_str(m, ml));
        z->lp = lp_append(z->lp, sv);
        return;
    }
    z->lp = lp_insert(z->lp, off, lp_str(m, ml));
    off = lp_next(z->lp, off);
    z->lp = lp_insert(z->lp, off, sv);
}

void zset_maybe_listpack(zset_t *z, size_t maxelelen)
{
    if (z->enc == ZSET_LISTPACK) return;
    if ((long long)z->zt->len > types_limit(TL_ZSET_MAX_LISTPACK_ENTRIES) ||
        (long long)maxelelen > types_limit(TL_ZSET_MAX_LISTPACK_VALUE))
        return;
    zt_t *t = z->zt;
    sdict_t *d = z->d;
    z->lp = lp_new();
    zt_pos_t pos;
    for (bool more = zt_at(t, 1, &pos); more; more = zt_next(&pos)) {
        double s;
        const uint8_t *m;
        size_t ml;
        zt_get(&pos, &s, &m, &ml);
        lp_put(z, 0, m, ml, s);
    }
    zt_free(t);
    sd_free(d, NULL);
    z->zt = NULL;
    z->d = NULL;
    z->enc = ZSET_LISTPACK;
}

/* Listpack insertion in order: before the first entry sorting after it. */
static void lp_insert_sorted(zset_t *z, double score, const uint8_t *m, size_t ml)
{
    size_t off = lp_first(z->lp);
    while (!lp_at_end(z->lp, off)) {
        size_t soff = lp_next(z->lp, off);
        double s = lp_score(z->lp, soff);
        if (s > score) break;
        if (s == score) {
            uint8_t buf[21];
            size_t l;
            lp_val_t v = lp_get(z->lp, off);
            const uint8_t *b = lp_val_bytes(&v, buf, &l);
            if (zset_member_cmp(b, l, m, ml) > 0) break;
        }
        off = lp_next(z->lp, soff);
    }
    lp_put(z, off, m, ml, score);
}

/* A new score for member m, present (its sdict entry is `e`, NULL for a
 * listpack; its score was cur). */
static void set_score(zset_t *z, sd_entry_t *e, double cur, const uint8_t *m, size_t ml, double score)
{
    if (z->enc == ZSET_LISTPACK) {
        z->lp = lp_delete(z->lp, lp_member(z, m, ml), 2);
        lp_insert_sorted(z, score, m, ml);
        return;
    }
    zt_delete(z->zt, cur, e->key, e->klen);
    zt_insert(z->zt, score, e->key, e->klen);
    entry_set_score(e, score);
}

bool zset_add(zset_t *z, double score, const uint8_t *m, size_t ml, int in, int *out, double *newscore)
{
    *out = 0;
    if (isnan(score)) { *out = ZADD_OUT_NAN; return false; }
    double cur;
    sd_entry_t *e = NULL;         /* one member lookup serves the whole update */
    bool present;
    if (z->enc == ZSET_SKIPLIST) {
        e = sd_find(z->d, m, ml);
        present = e != NULL;
        if (present) cur = zset_entry_score(e);
    } else {
        present = zset_score(z, m, ml, &cur);
    }
    if (present) {
        if (in & ZADD_IN_NX) { *out = ZADD_OUT_NOP; return true; }
        if (in & ZADD_IN_INCR) {
            score += cur;
            if (isnan(score)) { *out = ZADD_OUT_NAN; return false; }
        }
        if (((in & ZADD_IN_LT) && score >= cur) || ((in & ZADD_IN_GT) && score <= cur)) {
            *out = ZADD_OUT_NOP;
            return true;
        }
        if (newscore) *newscore = score;
        if (score != cur) {
            set_score(z, e, cur, m, ml, score);
            *out = ZADD_OUT_UPDATED;
        }
        return true;
    }
    if (in & ZADD_IN_XX) { *out = ZADD_OUT_NOP; return true; }
    if (z->enc == ZSET_LISTPACK &&
        ((long long)zset_len(z) + 1 > types_limit(TL_ZSET_MAX_LISTPACK_ENTRIES) ||
         (long long)ml > types_limit(TL_ZSET_MAX_LISTPACK_VALUE)))
        zset_to_skiplist(z);
    if (z->enc == ZSET_LISTPACK) lp_insert_sorted(z, score, m, ml);
    else sl_insert(z, score, m, ml);
    if (newscore) *newscore = score;
    *out = ZADD_OUT_ADDED;
    return true;
}

bool zset_del(zset_t *z, const uint8_t *m, size_t ml)
{
    if (z->enc == ZSET_LISTPACK) {
        size_t off = lp_member(z, m, ml);
        if (!off) return false;
        z->lp = lp_delete(z->lp, off, 2);
        return true;
    }
    sd_entry_t *e = sd_find(z->d, m, ml);
    if (!e) return false;
    zt_delete(z->zt, zset_entry_score(e), e->key, e->klen);
    sd_delete_entry(z->d, e);
    return true;
}

long long zset_rank(const zset_t *z, const uint8_t *m, size_t ml, bool rev)
{
    long long len = (long long)zset_len(z), r = -1;
    if (z->enc == ZSET_LISTPACK) {
        long long i = 0;
        for (size_t off = lp_first(z->lp); !lp_at_end(z->lp, off); i++) {
            lp_val_t v = lp_get(z->lp, off);
            if (lp_val_eq(&v, m, ml)) { r = i; break; }
            off = lp_next(z->lp, lp_next(z->lp, off));
        }
    } else {
        sd_entry_t *e = sd_find(z->d, m, ml);
        if (e) r = (long long)zt_rank(z->zt, zset_entry_score(e), e->key, e->klen) - 1;
    }
    if (r < 0) return -1;
    return rev ? len - 1 - r : r;
}

size_t zset_count_prefix(const zset_t *z, bool (*below)(const void *arg, double s, const uint8_t *m, size_t ml),
                         const void *arg)
{
    if (z->enc == ZSET_SKIPLIST) return zt_count_prefix(z->zt, below, arg);
    size_t n = 0;
    for (size_t off = lp_first(z->lp); !lp_at_end(z->lp, off); n++) {
        uint8_t buf[21];
        size_t ml;
        lp_val_t v = lp_get(z->lp, off);
        const uint8_t *m = lp_val_bytes(&v, buf, &ml);
        off = lp_next(z->lp, off);
        if (!below(arg, lp_score(z->lp, off), m, ml)) break;
        off = lp_next(z->lp, off);
    }
    return n;
}

void zset_del_ranks(zset_t *z, size_t start, size_t end)
{
    if (start > end || start >= zset_len(z)) return;
    if (z->enc == ZSET_LISTPACK) {
        z->lp = lp_delete(z->lp, lp_seek(z->lp, (long long)start * 2), (end - start + 1) * 2);
        return;
    }
    for (size_t k = end - start + 1; k > 0; k--) {
        zt_pos_t pos;
        if (!zt_at(z->zt, start + 1, &pos)) break;
        double s;
        const uint8_t *m;
        size_t ml;
        zt_get(&pos, &s, &m, &ml);
        /* the tree holds the bytes of the member's sdict entry (sl_insert):
         * that is the entry, no lookup needed */
        sd_entry_t *e = sd_entry_of_key(m);
        /* the tree lets go of the member's bytes before the sdict frees them */
        zt_delete_rank(z->zt, start + 1);
        sd_delete_entry(z->d, e);
    }
}

void zset_iter_init(zset_iter_t *it, const zset_t *z, size_t rank, bool rev)
{
    memset(it, 0, sizeof *it);
    it->z = z;
    it->rev = rev;
    if (rank >= zset_len(z)) { it->off = 0; it->pos.leaf = NULL; return; }
    if (z->enc == ZSET_LISTPACK) it->off = lp_seek(z->lp, (long long)rank * 2);
    else zt_at(z->zt, rank + 1, &it->pos);
}

bool zset_iter_next(zset_iter_t *it, const uint8_t **m, size_t *ml, double *score)
{
    const zset_t *z = it->z;
    if (z->enc == ZSET_SKIPLIST) {
        if (!it->pos.leaf) return false;
        zt_get(&it->pos, score, m, ml);
        if (!(it->rev ? zt_prev(&it->pos) : zt_next(&it->pos))) it->pos.leaf = NULL;
        return true;
    }
    if (!it->off || lp_at_end(z->lp, it->off)) return false;
    lp_val_t v = lp_get(z->lp, it->off);
    *m = lp_val_bytes(&v, it->mbuf, ml);
    size_t soff = lp_next(z->lp, it->off);
    *score = lp_score(z->lp, soff);
    if (it->rev) it->off = it->off == lp_first(z->lp) ? 0 : lp_prev(z->lp, lp_prev(z->lp, it->off));
    else it->off = lp_next(z->lp, soff);
    return true;
}

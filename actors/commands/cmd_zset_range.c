/* cmd_zset_range.c - the sorted set commands on ranges: ZRANGE (by rank,
 * score or member, REV, LIMIT, WITHSCORES), ZRANGESTORE, the older ZREVRANGE,
 * Z[REV]RANGEBYSCORE and Z[REV]RANGEBYLEX forms, ZCOUNT, ZLEXCOUNT and
 * ZREMRANGEBYRANK/SCORE/LEX.
 *
 * Every range becomes a span of ranks [lo, hi) through zset_count_prefix,
 * so one walk serves both encodings. Option parsing, error texts and their
 * order follow 7.0.15's zrangeGenericCommand.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/cmd_zset.h"
#include "actors/commands/commands.h"
#include "actors/types/types.h"
#include "runtime/xmalloc.h"

typedef struct zscore_range { double min, max; bool minex, maxex; } zscore_range_t;
/* inf: -1 for "-", +1 for "+", 0 for a member given with ( or [. */
typedef struct zlex_item { const uint8_t *s; size_t len; int inf; bool ex; } zlex_item_t;
typedef struct zlex_range { zlex_item_t min, max; } zlex_range_t;

/* One bound as zslParseRange reads it: "(" for exclusive, strtod's rules,
 * the whole text used, no NaN. */
static bool parse_score_bound(const uint8_t *s, size_t len, double *v, bool *ex)
{
    *ex = len > 0 && s[0] == '(';
    if (*ex) { s++; len--; }
    char small[128];
    char *b = len < sizeof small ? small : xmalloc(len + 1);
    memcpy(b, s, len);
    b[len] = 0;
    char *end;
    *v = strtod(b, &end);
    bool ok = *end == 0 && !isnan(*v);
    if (b != small) free(b);
    return ok;
}

static bool parse_score_range(cmd_ctx_t *ctx, int mi, int ma, zscore_range_t *r)
{
    return parse_score_bound(ctx->argv[mi], ctx->argvlen[mi], &r->min, &r->minex) &&
           parse_score_bound(ctx->argv[ma], ctx->argvlen[ma], &r->max, &r->maxex);
}

static bool parse_lex_item(const uint8_t *s, size_t len, zlex_item_t *it)
{
    memset(it, 0, sizeof *it);
    if (len == 0) return false;
    if (s[0] == '+' || s[0] == '-') {
        if (len != 1) return false;
        it->inf = s[0] == '+' ? 1 : -1;
        it->ex = true;
        return true;
    }
    if (s[0] != '(' && s[0] != '[') return false;
    it->ex = s[0] == '(';
    it->s = s + 1;
    it->len = len - 1;
    return true;
}

static bool parse_lex_range(cmd_ctx_t *ctx, int mi, int ma, zlex_range_t *r)
{
    return parse_lex_item(ctx->argv[mi], ctx->argvlen[mi], &r->min) &&
           parse_lex_item(ctx->argv[ma], ctx->argvlen[ma], &r->max);
}

/* Below-the-range predicates for zset_count_prefix. */
static bool score_below_min(const void *arg, double s, const uint8_t *m, size_t ml)
{
    const zscore_range_t *r = arg;
    (void)m; (void)ml;
    return r->minex ? s <= r->min : s < r->min;
}

static bool score_upto_max(const void *arg, double s, const uint8_t *m, size_t ml)
{
    const zscore_range_t *r = arg;
    (void)m; (void)ml;
    return r->maxex ? s < r->max : s <= r->max;
}

/* Compares member m with a lex bound (which may be - or +). */
static int lex_cmp(const uint8_t *m, size_t ml, const zlex_item_t *it)
{
    if (it->inf) return -it->inf;
    return zset_member_cmp(m, ml, it->s, it->len);
}

static bool lex_below_min(const void *arg, double s, const uint8_t *m, size_t ml)
{
    const zlex_range_t *r = arg;
    (void)s;
    int c = lex_cmp(m, ml, &r->min);
    return r->min.inf == -1 ? false : r->min.inf == 1 ? true : r->min.ex ? c <= 0 : c < 0;
}

static bool lex_upto_max(const void *arg, double s, const uint8_t *m, size_t ml)
{
    const zlex_range_t *r = arg;
    (void)s;
    int c = lex_cmp(m, ml, &r->max);
    return r->max.inf == 1 ? true : r->max.inf == -1 ? false : r->max.ex ? c < 0 : c <= 0;
}

/* Ranks [*lo, *hi) of a score range (empty when min > max). */
static void score_ranks(const zset_t *z, const zscore_range_t *r, size_t *lo, size_t *hi)
{
    *lo = *hi = 0;
    if (r->min > r->max || (r->min == r->max && (r->minex || r->maxex))) return;
    *lo = zset_count_prefix(z, score_below_min, r);
    *hi = zset_count_prefix(z, score_upto_max, r);
    if (*hi < *lo) *hi = *lo;
}

/* Whether a lex range can hold anything, as zslParseLexRange's callers check. */
static bool lex_nonempty(const zlex_range_t *r)
{
    if (r->min.inf == 1 || r->max.inf == -1) return false;
    if (r->min.inf || r->max.inf) return true;
    int c = zset_member_cmp(r->min.s, r->min.len, r->max.s, r->max.len);
    return c < 0 || (c == 0 && !r->min.ex && !r->max.ex);
}

static void lex_ranks(const zset_t *z, const zlex_range_t *r, size_t *lo, size_t *hi)
{
    *lo = *hi = 0;
    if (!lex_nonempty(r)) return;
    *lo = zset_count_prefix(z, lex_below_min, r);
    *hi = zset_count_prefix(z, lex_upto_max, r);
    if (*hi < *lo) *hi = *lo;
}

/* Clamps Redis-style start/end ranks (negative from the end) to [lo, hi);
 * false when the range is empty. */
static bool rank_span(long long start, long long end, size_t len, size_t *lo, size_t *hi)
{
    long long n = (long long)len;
    if (start < 0) start += n;
    if (end < 0) end += n;
    if (start < 0) start = 0;
    if (start > end || start >= n) return false;
    if (end >= n) end = n - 1;
    *lo = (size_t)start;
    *hi = (size_t)end + 1;
    return true;
}

enum { ZR_AUTO = 0, ZR_RANK, ZR_SCORE, ZR_LEX };

typedef struct zrange_req {
    int src;                      /* argv index of the source key */
    bool store, rev, withscores;
    int type;
    long long offset, limit, start, end;
    zscore_range_t sr;
    zlex_range_t lr;
} zrange_req_t;

/* Options after <src> <min> <max>; false after replying the error. */
static bool zrange_options(cmd_ctx_t *ctx, zrange_req_t *q, bool dir_fixed)
{
    for (int j = q->src + 3; j < ctx->argc; j++) {
        int left = ctx->argc - j - 1;
        if (!q->store && arg_is_at(ctx, j, "withscores")) {
            q->withscores = true;
        } else if (arg_is_at(ctx, j, "limit") && left >= 2) {
            if (!arg_ll_at(ctx, j + 1, &q->offset) || !arg_ll_at(ctx, j + 2, &q->limit)) return false;
            j += 2;
        } else if (!dir_fixed && !q->rev && arg_is_at(ctx, j, "rev")) {
            q->rev = true;
        } else if (q->type == ZR_AUTO && arg_is_at(ctx, j, "bylex")) {
            q->type = ZR_LEX;
        } else if (q->type == ZR_AUTO && arg_is_at(ctx, j, "byscore")) {
            q->type = ZR_SCORE;
        } else {
            resp_add_error(ctx->reply, "ERR syntax error");
            return false;
        }
    }
    if (q->type == ZR_AUTO) q->type = ZR_RANK;
    if (q->limit != -1 && q->type == ZR_RANK) {
        resp_add_error(ctx->reply, "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
        return false;
    }
    if (q->withscores && q->type == ZR_LEX) {
        resp_add_error(ctx->reply, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return false;
    }
    return true;
}

static bool zrange_parse(cmd_ctx_t *ctx, zrange_req_t *q, bool dir_fixed)
{
    if (!zrange_options(ctx, q, dir_fixed)) return false;
    int mi = q->src + 1, ma = q->src + 2;
    if (q->rev && q->type != ZR_RANK) { int t = mi; mi = ma; ma = t; }
    if (q->type == ZR_RANK) return arg_ll_at(ctx, mi, &q->start) && arg_ll_at(ctx, ma, &q->end);
    if (q->type == ZR_SCORE && !parse_score_range(ctx, mi, ma, &q->sr)) {
        resp_add_error(ctx->reply, "ERR min or max is not a float");
        return false;
    }
    if (q->type == ZR_LEX && !parse_lex_range(ctx, mi, ma, &q->lr)) {
        resp_add_error(ctx->reply, "ERR min or max not valid string range item");
        return false;
    }
    return true;
}

/* The ranks to emit, in forward rank terms [lo, hi), after LIMIT. For a
 * reverse walk the first emitted is hi - 1. */
static void zrange_span(const zset_t *z, const zrange_req_t *q, size_t *lo, size_t *hi)
{
    size_t len = zset_len(z);
    *lo = *hi = 0;
    if (q->type == ZR_RANK) {
        if (!rank_span(q->start, q->end, len, lo, hi)) return;
        if (q->rev) { size_t l = len - *hi, h = len - *lo; *lo = l; *hi = h; }
        return;
    }
    if (q->type == ZR_SCORE) score_ranks(z, &q->sr, lo, hi);
    else lex_ranks(z, &q->lr, lo, hi);
    if (q->offset < 0 || (unsigned long long)q->offset >= *hi - *lo) { *lo = *hi = 0; return; }
    size_t n = *hi - *lo - (size_t)q->offset;
    if (q->limit >= 0 && (unsigned long long)q->limit < n) n = (size_t)q->limit;
    if (q->rev) { *hi -= (size_t)q->offset; *lo = *hi - n; }
    else { *lo += (size_t)q->offset; *hi = *lo + n; }
}

static void zrange_store(cmd_ctx_t *ctx, const zrange_req_t *q, const zset_t *z, size_t lo, size_t hi)
{
    size_t n = hi - lo;
    if (n == 0) {
        if (ks_delete(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms)) ctx->dirty = true;
        resp_add_int(ctx->reply, 0);
        return;
    }
    long long hint = q->type == ZR_RANK ? (long long)n : -1;
    zset_t *d = zset_new_enc(hint > types_limit(TL_ZSET_MAX_LISTPACK_ENTRIES) ? ZSET_SKIPLIST : ZSET_LISTPACK);
    zset_iter_t it;
    zset_iter_init(&it, z, q->rev ? hi - 1 : lo, q->rev);
    const uint8_t *m;
    size_t ml;
    double s;
    for (size_t i = 0; i < n && zset_iter_next(&it, &m, &ml, &s); i++) {
        int out;
        zset_add(d, s, m, ml, 0, &out, NULL);
    }
    ks_set_object(ctx->ks, ctx->argv[1], ctx->argvlen[1], KS_TYPE_ZSET, &d->base, KS_NO_EXPIRE, ctx->now_ms);
    ctx->dirty = true;
    resp_add_int(ctx->reply, (long long)n);
}

static void zrange_generic(cmd_ctx_t *ctx, int src, bool store, int type, int dir)
{
    zrange_req_t q = { .src = src, .store = store, .type = type, .rev = dir > 0, .limit = -1 };
    if (!zrange_parse(ctx, &q, dir >= 0)) return;
    bool bad;
    zset_t *z = zcmd_lookup_read(ctx, src, &bad);
    if (bad) return;
    size_t lo = 0, hi = 0;
    if (z) zrange_span(z, &q, &lo, &hi);
    if (store) { zrange_store(ctx, &q, z, lo, hi); return; }
    resp_add_array(ctx->reply, (long long)(hi - lo) * (q.withscores && ctx->reply->proto == 2 ? 2 : 1));
    if (hi == lo) return;
    zset_iter_t it;
    zset_iter_init(&it, z, q.rev ? hi - 1 : lo, q.rev);
    const uint8_t *m;
    size_t ml;
    double s;
    for (size_t i = lo; i < hi && zset_iter_next(&it, &m, &ml, &s); i++) zcmd_reply_pair(ctx, m, ml, s, q.withscores);
}

/* dir: -1 = REV may be given, 0 = forward only, 1 = reverse only. */
void cmd_zrange(cmd_ctx_t *ctx) { zrange_generic(ctx, 1, false, ZR_AUTO, -1); }
void cmd_zrangestore(cmd_ctx_t *ctx) { zrange_generic(ctx, 2, true, ZR_AUTO, -1); }
void cmd_zrevrange(cmd_ctx_t *ctx) { zrange_generic(ctx, 1, false, ZR_RANK, 1); }
void cmd_zrangebyscore(cmd_ctx_t *ctx) { zrange_generic(ctx, 1, false, ZR_SCORE, 0); }
void cmd_zrevrangebyscore(cmd_ctx_t *ctx) { zrange_generic(ctx, 1, false, ZR_SCORE, 1); }
void cmd_zrangebylex(cmd_ctx_t *ctx) { zrange_generic(ctx, 1, false, ZR_LEX, 0); }
void cmd_zrevrangebylex(cmd_ctx_t *ctx) { zrange_generic(ctx, 1, false, ZR_LEX, 1); }

void cmd_zcount(cmd_ctx_t *ctx)
{
    zscore_range_t r;
    if (!parse_score_range(ctx, 2, 3, &r)) { resp_add_error(ctx->reply, "ERR min or max is not a float"); return; }
    bool bad;
    zset_t *z = zcmd_lookup_read(ctx, 1, &bad);
    if (bad) return;
    size_t lo = 0, hi = 0;
    if (z) score_ranks(z, &r, &lo, &hi);
    resp_add_int(ctx->reply, (long long)(hi - lo));
}

void cmd_zlexcount(cmd_ctx_t *ctx)
{
    zlex_range_t r;
    if (!parse_lex_range(ctx, 2, 3, &r)) {
        resp_add_error(ctx->reply, "ERR min or max not valid string range item");
        return;
    }
    bool bad;
    zset_t *z = zcmd_lookup_read(ctx, 1, &bad);
    if (bad) return;
    size_t lo = 0, hi = 0;
    if (z) lex_ranks(z, &r, &lo, &hi);
    resp_add_int(ctx->reply, (long long)(hi - lo));
}

static void zremrange_generic(cmd_ctx_t *ctx, int type)
{
    long long start = 0, end = 0;
    zscore_range_t sr;
    zlex_range_t lr;
    if (type == ZR_RANK && (!arg_ll_at(ctx, 2, &start) || !arg_ll_at(ctx, 3, &end))) return;
    if (type == ZR_SCORE && !parse_score_range(ctx, 2, 3, &sr)) {
        resp_add_error(ctx->reply, "ERR min or max is not a float");
        return;
    }
    if (type == ZR_LEX && !parse_lex_range(ctx, 2, 3, &lr)) {
        resp_add_error(ctx->reply, "ERR min or max not valid string range item");
        return;
    }
    ks_entry_t *e = ks_lookup(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    if (!e) { resp_add_int(ctx->reply, 0); return; }
    if (ks_entry_type(e) != KS_TYPE_ZSET) { resp_add_error(ctx->reply, KS_WRONGTYPE_ERR); return; }
    zset_t *z = ks_entry_obj(e);
    size_t lo = 0, hi = 0;
    if (type == ZR_RANK) { if (!rank_span(start, end, zset_len(z), &lo, &hi)) lo = hi = 0; }
    else if (type == ZR_SCORE) score_ranks(z, &sr, &lo, &hi);
    else lex_ranks(z, &lr, &lo, &hi);
    if (hi > lo) {
        size_t before = zset_ops.mem_usage(z);
        zset_del_ranks(z, lo, hi - 1);
        zcmd_written(ctx, e, before);
        ctx->dirty = true;
    }
    resp_add_int(ctx->reply, (long long)(hi - lo));
}

void cmd_zremrangebyrank(cmd_ctx_t *ctx) { zremrange_generic(ctx, ZR_RANK); }
void cmd_zremrangebyscore(cmd_ctx_t *ctx) { zremrange_generic(ctx, ZR_SCORE); }
void cmd_zremrangebylex(cmd_ctx_t *ctx) { zremrange_generic(ctx, ZR_LEX); }

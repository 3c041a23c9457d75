/* cmd_zset_ops.c - the sorted set algebra: ZUNION, ZINTER, ZDIFF, their
 * STORE forms, and ZINTERCARD. Plain sets count as sorted sets whose
 * scores are all 1, as in 7.0.15.
 *
 * Follows 7.0.15's zunionInterDiffGenericCommand: keys are checked for type
 * before the options are read; for union and intersection the inputs are
 * taken smallest first (a stable order), which fixes the order in which
 * weighted scores are summed, so sums round exactly as Redis's do; a sum
 * of +inf and -inf counts as 0. A stored result is a listpack when its size
 * allows, replaces the destination (TTL dropped), or deletes it when empty.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/cmd_zset.h"
#include "actors/commands/commands.h"
#include "actors/types/set.h"
#include "runtime/xmalloc.h"

enum { OP_UNION, OP_INTER, OP_DIFF };
enum { AGG_SUM, AGG_MIN, AGG_MAX };

typedef struct zsrc { const zset_t *z; const set_t *s; double weight; } zsrc_t;

static size_t src_len(const zsrc_t *x) { return x->z ? zset_len(x->z) : x->s ? set_len(x->s) : 0; }

static bool src_find(const zsrc_t *x, const uint8_t *m, size_t ml, double *score)
{
    if (x->z) return zset_score(x->z, m, ml, score);
    if (x->s && set_has(x->s, m, ml)) { *score = 1.0; return true; }
    return false;
}

/* Walks a source's members with their scores. */
typedef struct src_iter { const zsrc_t *x; zset_iter_t zi; set_iter_t si; } src_iter_t;

static void src_iter_init(src_iter_t *it, const zsrc_t *x)
{
    it->x = x;
    if (x->z) zset_iter_init(&it->zi, x->z, 0, false);
    else if (x->s) set_iter_init(&it->si, x->s);
}

static bool src_next(src_iter_t *it, const uint8_t **m, size_t *ml, double *score)
{
    if (it->x->z) return zset_iter_next(&it->zi, m, ml, score);
    if (!it->x->s || !set_iter_next(&it->si, m, ml)) return false;
    *score = 1.0;
    return true;
}

static void aggregate(double *target, double v, int agg)
{
    if (agg == AGG_SUM) {
        *target += v;
        if (isnan(*target)) *target = 0.0;
    } else if (agg == AGG_MIN) {
        *target = v < *target ? v : *target;
    } else {
        *target = v > *target ? v : *target;
    }
}

typedef struct zop {
    int op, agg, first;           /* first: argv index of numkeys */
    long long n, limit;
    bool store, card, withscores;
    zsrc_t *src;
} zop_t;

/* numkeys, the keys (type checked) and the options; false after replying. */
static bool zop_parse(cmd_ctx_t *ctx, zop_t *q)
{
    long long n;
    if (!arg_ll_at(ctx, q->first, &n)) return false;
    if (n < 1) {
        const char *name[] = { "zunion", "zinter", "zdiff" };
        resp_add_errorf(ctx->reply, "ERR at least 1 input key is needed for '%s%s' command",
                        q->card ? "zintercard" : name[q->op], q->card ? "" : q->store ? "store" : "");
        return false;
    }
    if (n > ctx->argc - (q->first + 1)) { resp_add_error(ctx->reply, "ERR syntax error"); return false; }
    q->n = n;
    q->src = xcalloc((size_t)n, sizeof *q->src);
    int j = q->first + 1;
    for (long long i = 0; i < n; i++, j++) {
        q->src[i].weight = 1.0;
        ks_entry_t *e = ks_lookup_read(ctx->ks, ctx->argv[j], ctx->argvlen[j], ctx->now_ms);
        if (!e) continue;
        if (ks_entry_type(e) == KS_TYPE_ZSET) q->src[i].z = ks_entry_obj(e);
        else if (ks_entry_type(e) == KS_TYPE_SET) q->src[i].s = ks_entry_obj(e);
        else { resp_add_error(ctx->reply, KS_WRONGTYPE_ERR); return false; }
    }
    while (j < ctx->argc) {
        int left = ctx->argc - j;
        if (q->op != OP_DIFF && !q->card && left >= n + 1 && arg_is_at(ctx, j, "weights")) {
            j++;
            for (long long i = 0; i < n; i++, j++) {
                if (!zset_parse_score(ctx->argv[j], ctx->argvlen[j], &q->src[i].weight)) {
                    resp_add_error(ctx->reply, "ERR weight value is not a float");
                    return false;
                }
            }
        } else if (q->op != OP_DIFF && !q->card && left >= 2 && arg_is_at(ctx, j, "aggregate")) {
            j++;
            if (arg_is_at(ctx, j, "sum")) q->agg = AGG_SUM;
            else if (arg_is_at(ctx, j, "min")) q->agg = AGG_MIN;
            else if (arg_is_at(ctx, j, "max")) q->agg = AGG_MAX;
            else { resp_add_error(ctx->reply, "ERR syntax error"); return false; }
            j++;
        } else if (!q->store && !q->card && arg_is_at(ctx, j, "withscores")) {
            j++;
            q->withscores = true;
        } else if (q->card && left >= 2 && arg_is_at(ctx, j, "limit")) {
            if (!arg_ll(ctx->argv[j + 1], ctx->argvlen[j + 1], &q->limit) || q->limit < 0) {
                resp_add_error(ctx->reply, "ERR LIMIT can't be negative");
                return false;
            }
            j += 2;
        } else {
            resp_add_error(ctx->reply, "ERR syntax error");
            return false;
        }
    }
    return true;
}

/* Smallest first, keeping the given order among equal sizes. */
static void sort_by_size(zsrc_t *src, long long n)
{
    for (long long i = 1; i < n; i++) {
        zsrc_t x = src[i];
        long long k = i - 1;
        while (k >= 0 && src_len(&src[k]) > src_len(&x)) { src[k + 1] = src[k]; k--; }
        src[k + 1] = x;
    }
}

static void put(zset_t *dst, double score, const uint8_t *m, size_t ml, size_t *maxlen)
{
    int out;
    zset_add(dst, score, m, ml, 0, &out, NULL);
    if (ml > *maxlen) *maxlen = ml;
}

/* The intersection into dst (NULL: only count, up to limit). */
static long long do_inter(const zop_t *q, zset_t *dst, size_t *maxlen)
{
    long long card = 0;
    if (src_len(&q->src[0]) == 0) return 0;
    src_iter_t it;
    src_iter_init(&it, &q->src[0]);
    const uint8_t *m;
    size_t ml;
    double s0;
    while (src_next(&it, &m, &ml, &s0)) {
        double score = q->src[0].weight * s0, v;
        if (isnan(score)) score = 0;
        long long j = 1;
        for (; j < q->n; j++) {
            if (!src_find(&q->src[j], m, ml, &v)) break;
            aggregate(&score, v * q->src[j].weight, q->agg);
        }
        if (j < q->n) continue;
        card++;
        if (dst) put(dst, score, m, ml, maxlen);
        else if (q->limit && card >= q->limit) break;
    }
    return card;
}

static void do_union(const zop_t *q, zset_t *dst, size_t *maxlen)
{
    sdict_t *acc = sd_new(q->n ? src_len(&q->src[q->n - 1]) : 0);
    for (long long i = 0; i < q->n; i++) {
        src_iter_t it;
        src_iter_init(&it, &q->src[i]);
        const uint8_t *m;
        size_t ml;
        double s;
        while (src_next(&it, &m, &ml, &s)) {
            double score = q->src[i].weight * s;
            if (isnan(score)) score = 0;
            bool added;
            sd_entry_t *e = sd_add(acc, m, ml, &added);
            if (added) {
                e->val = xmalloc(sizeof(double));
                *(double *)e->val = score;
            } else {
                aggregate(e->val, score, q->agg);
            }
        }
    }
    sd_iter_t it = {0};
    sd_entry_t *e;
    while ((e = sd_next(acc, &it))) put(dst, *(double *)e->val, e->key, e->klen, maxlen);
    sd_free(acc, free);
}

static void do_diff(const zop_t *q, zset_t *dst, size_t *maxlen)
{
    src_iter_t it;
    src_iter_init(&it, &q->src[0]);
    const uint8_t *m;
    size_t ml;
    double s, v;
    while (src_next(&it, &m, &ml, &s)) {
        long long j = 1;
        while (j < q->n && !src_find(&q->src[j], m, ml, &v)) j++;
        if (j == q->n) put(dst, s, m, ml, maxlen);
    }
}

static void zop_reply(cmd_ctx_t *ctx, const zop_t *q, zset_t *dst, size_t maxlen)
{
    size_t n = zset_len(dst);
    if (q->store) {
        if (n) {
            zset_maybe_listpack(dst, maxlen);
            ks_set_object(ctx->ks, ctx->argv[1], ctx->argvlen[1], KS_TYPE_ZSET, &dst->base, KS_NO_EXPIRE, ctx->now_ms);
            ctx->dirty = true;
        } else {
            zset_ops.free_value(dst);
            if (ks_delete(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms)) ctx->dirty = true;
        }
        resp_add_int(ctx->reply, (long long)n);
        return;
    }
    resp_add_array(ctx->reply, (long long)n * (q->withscores && ctx->reply->proto == 2 ? 2 : 1));
    zset_iter_t it;
    const uint8_t *m;
    size_t ml;
    double s;
    zset_iter_init(&it, dst, 0, false);
    while (zset_iter_next(&it, &m, &ml, &s)) zcmd_reply_pair(ctx, m, ml, s, q->withscores);
    zset_ops.free_value(dst);
}

static void zop_generic(cmd_ctx_t *ctx, int op, bool store, bool card)
{
    zop_t q = { .op = op, .agg = AGG_SUM, .first = store ? 2 : 1, .store = store, .card = card };
    if (!zop_parse(ctx, &q)) { free(q.src); return; }
    if (op != OP_DIFF) sort_by_size(q.src, q.n);
    if (card) {
        resp_add_int(ctx->reply, do_inter(&q, NULL, NULL));
        free(q.src);
        return;
    }
    zset_t *dst = zset_new_enc(ZSET_SKIPLIST);
    size_t maxlen = 0;
    if (op == OP_INTER) do_inter(&q, dst, &maxlen);
    else if (op == OP_UNION) do_union(&q, dst, &maxlen);
    else do_diff(&q, dst, &maxlen);
    free(q.src);
    zop_reply(ctx, &q, dst, maxlen);
}

void cmd_zunion(cmd_ctx_t *ctx) { zop_generic(ctx, OP_UNION, false, false); }
void cmd_zinter(cmd_ctx_t *ctx) { zop_generic(ctx, OP_INTER, false, false); }
void cmd_zdiff(cmd_ctx_t *ctx) { zop_generic(ctx, OP_DIFF, false, false); }
void cmd_zunionstore(cmd_ctx_t *ctx) { zop_generic(ctx, OP_UNION, true, false); }
void cmd_zinterstore(cmd_ctx_t *ctx) { zop_generic(ctx, OP_INTER, true, false); }
void cmd_zdiffstore(cmd_ctx_t *ctx) { zop_generic(ctx, OP_DIFF, true, false); }
void cmd_zintercard(cmd_ctx_t *ctx) { zop_generic(ctx, OP_INTER, false, true); }

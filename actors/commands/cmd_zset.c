/* cmd_zset.c - the sorted set commands on single members: ZADD, ZINCRBY,
 * ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK and ZREVRANK.
 *
 * Each handler runs on the worker owning its key and replies what
 * redis-server 7.0.15 replies, in its order of checks (t_zset.c): options
 * and scores are checked before the key is looked up, so a bad call changes
 * nothing.
 */
#include <stdlib.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/cmd_zset.h"
#include "actors/commands/commands.h"
#include "runtime/xmalloc.h"

zset_t *zcmd_lookup_read(cmd_ctx_t *ctx, int i, bool *bad)
{
    ks_entry_t *e = ks_lookup_read(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms);
    *bad = false;
    if (!e) return NULL;
    if (ks_entry_type(e) != KS_TYPE_ZSET) {
        resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
        *bad = true;
        return NULL;
    }
    return ks_entry_obj(e);
}

void zcmd_written(cmd_ctx_t *ctx, ks_entry_t *e, size_t before)
{
    zset_t *z = ks_entry_obj(e);
    ks_mem_adjust(ctx->ks, (long long)zset_ops.mem_usage(z) - (long long)before);
    if (zset_len(z) == 0) ks_delete_entry(ctx->ks, e);
}

void zcmd_reply_pair(cmd_ctx_t *ctx, const uint8_t *m, size_t ml, double score, bool withscores)
{
    if (withscores && ctx->reply->proto == 3) resp_add_array(ctx->reply, 2);
    resp_add_bulk(ctx->reply, m, ml);
    if (withscores) resp_add_double(ctx->reply, score);
}

/* ZADD's options from argv[2] on; returns the index of the first score. */
static int zadd_options(cmd_ctx_t *ctx, int *flags, bool *ch)
{
    static const struct { const char *word; int flag; } opts[] = {
        { "nx", ZADD_IN_NX }, { "xx", ZADD_IN_XX }, { "ch", 0 },
        { "incr", ZADD_IN_INCR }, { "gt", ZADD_IN_GT }, { "lt", ZADD_IN_LT },
    };
    int i = 2;
    for (; i < ctx->argc; i++) {
        size_t k = 0;
        for (; k < sizeof opts / sizeof opts[0]; k++)
            if (arg_is_at(ctx, i, opts[k].word)) break;
        if (k == sizeof opts / sizeof opts[0]) break;
        if (opts[k].flag) *flags |= opts[k].flag;
        else *ch = true;
    }
    return i;
}

/* Checks ZADD's option combination; false after replying the error. */
static bool zadd_check(cmd_ctx_t *ctx, int flags, int elements)
{
    bool nx = flags & ZADD_IN_NX, xx = flags & ZADD_IN_XX, gt = flags & ZADD_IN_GT, lt = flags & ZADD_IN_LT;
    if (elements % 2 || !elements) { resp_add_error(ctx->reply, "ERR syntax error"); return false; }
    if (nx && xx) {
        resp_add_error(ctx->reply, "ERR XX and NX options at the same time are not compatible");
        return false;
    }
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
        resp_add_error(ctx->reply, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return false;
    }
    if ((flags & ZADD_IN_INCR) && elements > 2) {
        resp_add_error(ctx->reply, "ERR INCR option supports a single increment-element pair");
        return false;
    }
    return true;
}

static void zadd_generic(cmd_ctx_t *ctx, int flags)
{
    bool ch = false;
    int first = zadd_options(ctx, &flags, &ch), elements = ctx->argc - first;
    if (!zadd_check(ctx, flags, elements)) return;
    int n = elements / 2;
    double *scores = xmalloc(sizeof(double) * (size_t)n);
    for (int j = 0; j < n; j++) {
        if (!zset_parse_score(ctx->argv[first + 2 * j], ctx->argvlen[first + 2 * j], &scores[j])) {
            resp_add_error(ctx->reply, "ERR value is not a valid float");
            free(scores);
            return;
        }
    }
    ks_entry_t *e = ks_lookup(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    if (e && ks_entry_type(e) != KS_TYPE_ZSET) {
        resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
        free(scores);
        return;
    }
    long long added = 0, updated = 0, processed = 0;
    double score = 0;
    bool nan = false;
    if (e || !(flags & ZADD_IN_XX)) {
        if (!e) {
            zset_t *z = zset_new(ctx->argvlen[first + 1]);
            e = ks_set_object(ctx->ks, ctx->argv[1], ctx->argvlen[1], KS_TYPE_ZSET, &z->base, KS_NO_EXPIRE,
                              ctx->now_ms);
        }
        size_t before = zset_ops.mem_usage(ks_entry_obj(e));
        for (int j = 0; j < n; j++) {
            int out;
            double ns = 0;
            if (!zset_add(ks_entry_obj(e), scores[j], ctx->argv[first + 2 * j + 1], ctx->argvlen[first + 2 * j + 1], flags,
                          &out, &ns)) {
                nan = true;
                break;
            }
            if (out & ZADD_OUT_ADDED) added++;
            if (out & ZADD_OUT_UPDATED) updated++;
            if (!(out & ZADD_OUT_NOP)) processed++;
            score = ns;
        }
        zcmd_written(ctx, e, before);
    }
    free(scores);
    ctx->dirty = added + updated;   /* 7.0.15 counts each element */
    if (nan) resp_add_error(ctx->reply, "ERR resulting score is not a number (NaN)");
    else if (!(flags & ZADD_IN_INCR)) resp_add_int(ctx->reply, ch ? added + updated : added);
    else if (processed) resp_add_double(ctx->reply, score);
    else resp_add_null(ctx->reply);
}

void cmd_zadd(cmd_ctx_t *ctx) { zadd_generic(ctx, 0); }
void cmd_zincrby(cmd_ctx_t *ctx) { zadd_generic(ctx, ZADD_IN_INCR); }

void cmd_zrem(cmd_ctx_t *ctx)
{
    ks_entry_t *e = ks_lookup(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    if (!e) { resp_add_int(ctx->reply, 0); return; }
    if (ks_entry_type(e) != KS_TYPE_ZSET) { resp_add_error(ctx->reply, KS_WRONGTYPE_ERR); return; }
    zset_t *z = ks_entry_obj(e);
    size_t before = zset_ops.mem_usage(z);
    long long deleted = 0;
    for (int i = 2; i < ctx->argc && zset_len(z) > 0; i++) deleted += zset_del(z, ctx->argv[i], ctx->argvlen[i]);
    if (deleted) zcmd_written(ctx, e, before);
    ctx->dirty = deleted;   /* 7.0.15 counts each member */
    resp_add_int(ctx->reply, deleted);
}

void cmd_zcard(cmd_ctx_t *ctx)
{
    bool bad;
    zset_t *z = zcmd_lookup_read(ctx, 1, &bad);
    if (!bad) resp_add_int(ctx->reply, z ? (long long)zset_len(z) : 0);
}

void cmd_zscore(cmd_ctx_t *ctx)
{
    bool bad;
    zset_t *z = zcmd_lookup_read(ctx, 1, &bad);
    if (bad) return;
    double s;
    if (z && zset_score(z, ctx->argv[2], ctx->argvlen[2], &s)) resp_add_double(ctx->reply, s);
    else resp_add_null(ctx->reply);
}

void cmd_zmscore(cmd_ctx_t *ctx)
{
    bool bad;
    zset_t *z = zcmd_lookup_read(ctx, 1, &bad);
    if (bad) return;
    resp_add_array(ctx->reply, ctx->argc - 2);
    for (int i = 2; i < ctx->argc; i++) {
        double s;
        if (z && zset_score(z, ctx->argv[i], ctx->argvlen[i], &s)) resp_add_double(ctx->reply, s);
        else resp_add_null(ctx->reply);
    }
}

static void rank_generic(cmd_ctx_t *ctx, bool rev)
{
    bool bad;
    zset_t *z = zcmd_lookup_read(ctx, 1, &bad);
    if (bad) return;
    long long r = z ? zset_rank(z, ctx->argv[2], ctx->argvlen[2], rev) : -1;
    if (r >= 0) resp_add_int(ctx->reply, r);
    else resp_add_null(ctx->reply);
}

void cmd_zrank(cmd_ctx_t *ctx) { rank_generic(ctx, false); }
void cmd_zrevrank(cmd_ctx_t *ctx) { rank_generic(ctx, true); }

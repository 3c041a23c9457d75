/* cmd_zset_pop.c - popping the lowest or highest members: ZPOPMIN, ZPOPMAX,
 * ZMPOP, and the blocking BZPOPMIN, BZPOPMAX and BZMPOP (which wait through
 * actors/worker/blocking.c like BLPOP).
 *
 * Reply shapes follow 7.0.15's genericZpopCommand: flat [member, score, ...]
 * for ZPOP* (nested pairs in RESP3 when a count is given), [key, member,
 * score] for BZPOP*, [key, [[member, score], ...]] for Z/BZMPOP. ZMPOP and
 * the blocking forms propagate as ZPOPMIN/ZPOPMAX key [count], as 7.0.15.
 */
#include <stdio.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/cmd_zset.h"
#include "actors/commands/commands.h"
#include "actors/commands/timeout.h"

enum { ZPOP_MIN = 0, ZPOP_MAX = 1 };
/* Reply shapes (genericZpopCommand's emitkey and use_nested_array). */
enum { SHAPE_FLAT = 0, SHAPE_NESTED = 1, SHAPE_KEY = 2, SHAPE_KEY_NESTED = 3 };

/* Pops up to count (-1: one) members of the set at e (argv[keyarg]) and
 * replies them in `shape`. */
static void pop_from(cmd_ctx_t *ctx, ks_entry_t *e, int keyarg, int where, long long count, int shape)
{
    zset_t *z = ks_entry_obj(e);
    long long len = (long long)zset_len(z);
    long long n = count == -1 ? 1 : count > len ? len : count;
    bool nested = shape == SHAPE_NESTED || shape == SHAPE_KEY_NESTED;
    if (shape == SHAPE_FLAT) resp_add_array(ctx->reply, n * 2);
    else if (shape == SHAPE_NESTED) resp_add_array(ctx->reply, n);
    else if (shape == SHAPE_KEY) {
        resp_add_array(ctx->reply, n * 2 + 1);
        resp_add_bulk(ctx->reply, ctx->argv[keyarg], ctx->argvlen[keyarg]);
    } else {
        resp_add_array(ctx->reply, 2);
        resp_add_bulk(ctx->reply, ctx->argv[keyarg], ctx->argvlen[keyarg]);
        resp_add_array(ctx->reply, n);
    }
    size_t before = zset_ops.mem_usage(z);
    zset_iter_t it;
    zset_iter_init(&it, z, where == ZPOP_MAX ? (size_t)len - 1 : 0, where == ZPOP_MAX);
    for (long long i = 0; i < n; i++) {
        const uint8_t *m;
        size_t ml;
        double s;
        zset_iter_next(&it, &m, &ml, &s);
        if (nested) resp_add_array(ctx->reply, 2);
        resp_add_bulk(ctx->reply, m, ml);
        resp_add_double(ctx->reply, s);
    }
    if (where == ZPOP_MAX) zset_del_ranks(z, (size_t)(len - n), (size_t)len - 1);
    else zset_del_ranks(z, 0, (size_t)n - 1);
    zcmd_written(ctx, e, before);
    ctx->dirty = true;
}

/* Propagates the pop as ZPOPMIN/ZPOPMAX key [n]. */
static void prop_pop(cmd_ctx_t *ctx, int where, int keyarg, long long n)
{
    const char *name = where == ZPOP_MAX ? "ZPOPMAX" : "ZPOPMIN";
    ctx->prop_argc = n < 0 ? 2 : 3;
    ctx->prop_argv[0] = (const uint8_t *)name;
    ctx->prop_argvlen[0] = strlen(name);
    ctx->prop_argv[1] = ctx->argv[keyarg];
    ctx->prop_argvlen[1] = ctx->argvlen[keyarg];
    if (n >= 0) {
        int l = snprintf(ctx->prop_num, sizeof ctx->prop_num, "%lld", n);
        ctx->prop_argv[2] = (const uint8_t *)ctx->prop_num;
        ctx->prop_argvlen[2] = (size_t)l;
    }
}

static void zpop_generic(cmd_ctx_t *ctx, int where)
{
    long long count = -1;
    if (ctx->argc > 3) { resp_add_error(ctx->reply, "ERR syntax error"); return; }
    if (ctx->argc == 3) {
        if (!arg_ll(ctx->argv[2], ctx->argvlen[2], &count) || count < 0) { resp_add_error(ctx->reply, "ERR value is out of range, must be positive"); return; }
    }
    ks_entry_t *e = ks_lookup(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    if (e && ks_entry_type(e) != KS_TYPE_ZSET) { resp_add_error(ctx->reply, KS_WRONGTYPE_ERR); return; }
    if (!e || count == 0) { resp_add_array(ctx->reply, 0); return; }
    pop_from(ctx, e, 1, where, count, ctx->reply->proto > 2 && count != -1 ? SHAPE_NESTED : SHAPE_FLAT);
}

void cmd_zpopmin(cmd_ctx_t *ctx) { zpop_generic(ctx, ZPOP_MIN); }
void cmd_zpopmax(cmd_ctx_t *ctx) { zpop_generic(ctx, ZPOP_MAX); }

/* The first non-empty set among argv[first .. first+n): pops from it and
 * propagates the pop. Only the ready key in CMD_BLOCK_SERVE mode. True when
 * it replied (served, or WRONGTYPE). */
static bool pop_first(cmd_ctx_t *ctx, int first, int n, int where, long long count, int shape, bool rewrite)
{
    for (int j = first; j < first + n; j++) {
        if (ctx->block_mode == CMD_BLOCK_SERVE && j != ctx->serve_arg) continue;
        ks_entry_t *e = ks_lookup(ctx->ks, ctx->argv[j], ctx->argvlen[j], ctx->now_ms);
        if (!e) continue;
        if (ks_entry_type(e) != KS_TYPE_ZSET) {
            if (ctx->block_mode == CMD_BLOCK_SERVE) return false;
            resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
            return true;
        }
        long long len = (long long)zset_len(ks_entry_obj(e));
        pop_from(ctx, e, j, where, count, shape);
        if (rewrite) prop_pop(ctx, where, j, count < 0 ? -1 : count > len ? len : count);
        return true;
    }
    return false;
}

/* Waits when the command may block; otherwise answers as a timeout would. */
static void wait_or_null(cmd_ctx_t *ctx, int first, int n, long long timeout_ms)
{
    if (!timeout_block(ctx, first, n, timeout_ms)) resp_add_null_array(ctx->reply);
}

static void bzpop_generic(cmd_ctx_t *ctx, int where)
{
    long long timeout;
    if (!timeout_arg_seconds(ctx, ctx->argc - 1, &timeout)) return;
    if (pop_first(ctx, 1, ctx->argc - 2, where, -1, SHAPE_KEY, true)) return;
    wait_or_null(ctx, 1, ctx->argc - 2, timeout);
}

void cmd_bzpopmin(cmd_ctx_t *ctx) { bzpop_generic(ctx, ZPOP_MIN); }
void cmd_bzpopmax(cmd_ctx_t *ctx) { bzpop_generic(ctx, ZPOP_MAX); }

/* A count-like argument in [1, LLONG_MAX], with `err` for anything else. */
static bool arg_positive(cmd_ctx_t *ctx, int i, const char *err, long long *out)
{
    if (!arg_ll(ctx->argv[i], ctx->argvlen[i], out) || *out < 1) {
        resp_add_error(ctx->reply, err);
        return false;
    }
    return true;
}

/* ZMPOP numkeys key... MIN|MAX [COUNT n]; BZMPOP timeout numkeys ... */
static void zmpop_generic(cmd_ctx_t *ctx, int numkeys_idx, bool blocking)
{
    long long numkeys, count = -1;
    if (!arg_positive(ctx, numkeys_idx, "ERR numkeys should be greater than 0", &numkeys)) return;
    if (numkeys >= ctx->argc - numkeys_idx) { resp_add_error(ctx->reply, "ERR syntax error"); return; }
    int where_idx = numkeys_idx + (int)numkeys + 1, where;
    if (arg_is_at(ctx, where_idx, "min")) where = ZPOP_MIN;
    else if (arg_is_at(ctx, where_idx, "max")) where = ZPOP_MAX;
    else { resp_add_error(ctx->reply, "ERR syntax error"); return; }
    for (int j = where_idx + 1; j < ctx->argc; j++) {
        if (count == -1 && j + 1 < ctx->argc && arg_is_at(ctx, j, "count")) {
            if (!arg_positive(ctx, ++j, "ERR count should be greater than 0", &count)) return;
        } else {
            resp_add_error(ctx->reply, "ERR syntax error");
            return;
        }
    }
    if (count == -1) count = 1;
    long long timeout = 0;
    if (blocking && !timeout_arg_seconds(ctx, 1, &timeout)) return;
    if (pop_first(ctx, numkeys_idx + 1, (int)numkeys, where, count, SHAPE_KEY_NESTED, true)) return;
    if (blocking) wait_or_null(ctx, numkeys_idx + 1, (int)numkeys, timeout);
    else resp_add_null_array(ctx->reply);
}

void cmd_zmpop(cmd_ctx_t *ctx) { zmpop_generic(ctx, 1, false); }
void cmd_bzmpop(cmd_ctx_t *ctx) { zmpop_generic(ctx, 2, true); }

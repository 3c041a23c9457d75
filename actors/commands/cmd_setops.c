/* cmd_setops.c - the set algebra: SMEMBERS, SINTER/SINTERCARD/SINTERSTORE,
 * SUNION/SUNIONSTORE, SDIFF/SDIFFSTORE, with 7.0.15's checks (every source
 * key's type first, a missing key as an empty set), reply shapes (a set in
 * RESP3) and store rules (the destination replaced with no TTL, or deleted
 * when the result is empty). Results are built as new sets the way Redis
 * builds them (an intset first), so their encodings agree with Redis's.
 *
 * All keys are in one slot (one keyspace); must never look at another
 * worker's keys.
 */
#include <stdlib.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/types/set.h"
#include "actors/worker/keyspace.h"
#include "runtime/xmalloc.h"

/* The sets named by argv[first .. first+n): sets[j] is NULL for a missing
 * key. Returns false after replying WRONGTYPE. */
static bool gather(cmd_ctx_t *ctx, int first, int n, set_t **sets)
{
    for (int j = 0; j < n; j++) {
        ks_entry_t *e = ks_lookup_read(ctx->ks, ctx->argv[first + j], ctx->argvlen[first + j], ctx->now_ms);
        sets[j] = NULL;
        if (!e) continue;
        if (ks_entry_type(e) != KS_TYPE_SET) {
            resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
            return false;
        }
        sets[j] = ks_entry_obj(e);
    }
    return true;
}

static int by_size(const void *a, const void *b)
{
    size_t x = set_len(*(set_t *const *)a), y = set_len(*(set_t *const *)b);
    return x < y ? -1 : x > y;
}

/* Stores result at argv[1] (or deletes argv[1] when it is empty) and
 * replies its size. Takes ownership of result. */
static void store(cmd_ctx_t *ctx, set_t *result)
{
    size_t n = set_len(result);
    if (n > 0) {
        ks_set_object(ctx->ks, ctx->argv[1], ctx->argvlen[1], KS_TYPE_SET, result, KS_NO_EXPIRE, ctx->now_ms);
        ctx->dirty = true;
    } else {
        set_destroy(result);
        if (ks_delete(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms)) ctx->dirty = true;
    }
    resp_add_int(ctx->reply, (long long)n);
}

static void reply_set(cmd_ctx_t *ctx, const set_t *s)
{
    resp_add_set(ctx->reply, s ? (long long)set_len(s) : 0);
    if (!s) return;
    set_iter_t it;
    set_iter_init(&it, s);
    const uint8_t *m;
    size_t ml;
    while (set_iter_next(&it, &m, &ml)) resp_add_bulk(ctx->reply, m, ml);
}

enum { INTER_REPLY, INTER_CARD, INTER_STORE };

/* SINTER, SINTERCARD (limit 0 = none) and SINTERSTORE over argv[first..first+n). */
static void inter_generic(cmd_ctx_t *ctx, int first, int n, int mode, long long limit)
{
    set_t **sets = xmalloc(sizeof *sets * (size_t)n);
    if (!gather(ctx, first, n, sets)) { free(sets); return; }
    bool empty = false;
    for (int j = 0; j < n; j++) if (!sets[j]) empty = true;
    if (empty) {
        free(sets);
        if (mode == INTER_STORE) {
            if (ks_delete(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms)) ctx->dirty = true;
            resp_add_int(ctx->reply, 0);
        } else if (mode == INTER_CARD) {
            resp_add_int(ctx->reply, 0);
        } else {
            resp_add_set(ctx->reply, 0);
        }
        return;
    }
    qsort(sets, (size_t)n, sizeof *sets, by_size);
    set_t *dst = mode == INTER_STORE ? set_new(NULL, 0) : NULL;
    size_t deferred = mode == INTER_REPLY ? resp_add_deferred_len(ctx->reply) : 0;
    long long card = 0;
    set_iter_t it;
    set_iter_init(&it, sets[0]);
    const uint8_t *m;
    size_t ml;
    while (set_iter_next(&it, &m, &ml)) {
        int j = 1;
        for (; j < n; j++)
            if (sets[j] != sets[0] && !set_has(sets[j], m, ml)) break;
        if (j < n) continue;
        card++;
        if (mode == INTER_REPLY) resp_add_bulk(ctx->reply, m, ml);
        else if (mode == INTER_STORE) set_add(dst, m, ml);
        else if (limit && card >= limit) break;
    }
    free(sets);
    if (mode == INTER_REPLY) resp_set_deferred_set(ctx->reply, deferred, card);
    else if (mode == INTER_CARD) resp_add_int(ctx->reply, card);
    else store(ctx, dst);
}

void cmd_smembers(cmd_ctx_t *ctx) { inter_generic(ctx, 1, 1, INTER_REPLY, 0); }
void cmd_sinter(cmd_ctx_t *ctx) { inter_generic(ctx, 1, ctx->argc - 1, INTER_REPLY, 0); }
void cmd_sinterstore(cmd_ctx_t *ctx) { inter_generic(ctx, 2, ctx->argc - 2, INTER_STORE, 0); }

void cmd_sintercard(cmd_ctx_t *ctx)
{
    long long numkeys, limit = 0;
    if (!arg_ll(ctx->argv[1], ctx->argvlen[1], &numkeys) || numkeys < 1) {
        resp_add_error(ctx->reply, "ERR numkeys should be greater than 0");
        return;
    }
    if (numkeys > ctx->argc - 2) {
        resp_add_error(ctx->reply, "ERR Number of keys can't be greater than number of args");
        return;
    }
    for (int j = 2 + (int)numkeys; j < ctx->argc; j++) {
        int more = ctx->argc - 1 - j;
        if (arg_is_at(ctx, j, "limit") && more) {
            j++;
            if (!arg_ll(ctx->argv[j], ctx->argvlen[j], &limit) || limit < 0) {
                resp_add_error(ctx->reply, "ERR LIMIT can't be negative");
                return;
            }
        } else {
            resp_add_error(ctx->reply, "ERR syntax error");
            return;
        }
    }
    inter_generic(ctx, 2, (int)numkeys, INTER_CARD, limit);
}

/* SUNION/SDIFF and their STORE forms over argv[first..first+n). */
static void union_diff(cmd_ctx_t *ctx, int first, int n, bool diff, bool to_store)
{
    set_t **sets = xmalloc(sizeof *sets * (size_t)n);
    if (!gather(ctx, first, n, sets)) { free(sets); return; }
    set_t *dst = set_new(NULL, 0);
    set_iter_t it;
    const uint8_t *m;
    size_t ml;
    bool same = false;
    for (int j = 1; j < n; j++) if (sets[j] && sets[j] == sets[0]) same = true;
    if (!diff) {
        for (int j = 0; j < n; j++) {
            if (!sets[j]) continue;
            set_iter_init(&it, sets[j]);
            while (set_iter_next(&it, &m, &ml)) set_add(dst, m, ml);
        }
    } else if (sets[0] && !same) {
        set_iter_init(&it, sets[0]);
        while (set_iter_next(&it, &m, &ml)) {
            int j = 1;
            for (; j < n; j++) if (sets[j] && set_has(sets[j], m, ml)) break;
            if (j == n) set_add(dst, m, ml);
        }
    }
    free(sets);
    if (to_store) {
        store(ctx, dst);
        return;
    }
    reply_set(ctx, dst);
    set_destroy(dst);
}

void cmd_sunion(cmd_ctx_t *ctx) { union_diff(ctx, 1, ctx->argc - 1, false, false); }
void cmd_sunionstore(cmd_ctx_t *ctx) { union_diff(ctx, 2, ctx->argc - 2, false, true); }
void cmd_sdiff(cmd_ctx_t *ctx) { union_diff(ctx, 1, ctx->argc - 1, true, false); }
void cmd_sdiffstore(cmd_ctx_t *ctx) { union_diff(ctx, 2, ctx->argc - 2, true, true); }

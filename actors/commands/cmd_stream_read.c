/* cmd_stream_read.c - XREAD and XREADGROUP, with BLOCK (7.0.15's xreadCommand
 * and serveClientsBlockedOnStreamKey).
 *
 * A reader that finds nothing newer than its IDs and may wait keeps those
 * IDs as its block_state (`$` resolved to the last ID at that moment, `>`
 * kept as the maximal ID: the group's last ID is read again when served);
 * blocking.c runs it again for one key (CMD_BLOCK_SERVE) after each write
 * to that key, and it answers only when the stream's last ID is past the
 * one it waits after, else waits on.
 */
#include <stdlib.h>
#include <string.h>

#include "actors/commands/args.h"
#include "actors/commands/cmd_stream.h"
#include "actors/commands/commands.h"
#include "actors/commands/script.h"
#include "actors/commands/timeout.h"

#define XREAD_BLOCKED_COUNT 1000  /* entries a served wait returns without COUNT (7.0.15) */

typedef struct xread_args {
    long long timeout_ms;         /* -1: no BLOCK */
    long long count;
    int sarg, n;                  /* first key, number of keys */
    int grouparg, consarg;        /* 0: XREAD */
    bool noack;
} xread_args_t;

/* What a waiting reader remembers. */
typedef struct xread_state {
    long long count;
    int n;
    stream_id_t ids[];
} xread_state_t;

static bool parse_opts(cmd_ctx_t *ctx, bool group_cmd, xread_args_t *a)
{
    memset(a, 0, sizeof *a);
    a->timeout_ms = -1;
    for (int i = 1; i < ctx->argc; i++) {
        int more = ctx->argc - i - 1;
        if (arg_is_at(ctx, i, "block") && more) {
            if (script_call_running()) {
                resp_add_errorf(ctx->reply, "ERR %.*s command is not allowed with BLOCK option from scripts",
                                (int)strnlen((const char *)ctx->argv[0], ctx->argvlen[0]), (const char *)ctx->argv[0]);
                return false;
            }
            i++;
            const char *err = timeout_parse(ctx->argv[i], ctx->argvlen[i], TIMEOUT_MILLISECONDS, ctx->now_ms,
                                            &a->timeout_ms);
            if (err) {
                resp_add_error(ctx->reply, err);
                return false;
            }
        } else if (arg_is_at(ctx, i, "count") && more) {
            i++;
            if (!arg_ll_at(ctx, i, &a->count)) return false;
            if (a->count < 0) a->count = 0;
        } else if (arg_is_at(ctx, i, "streams") && more) {
            a->sarg = i + 1;
            int left = ctx->argc - a->sarg;
            if (left % 2) {
                resp_add_error(ctx->reply, "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' "
                                           "must be specified.");
                return false;
            }
            a->n = left / 2;
            break;
        } else if (arg_is_at(ctx, i, "group") && more >= 2) {
            if (!group_cmd) {
                resp_add_error(ctx->reply, "ERR The GROUP option is only supported by XREADGROUP. You called XREAD "
                                           "instead.");
                return false;
            }
            a->grouparg = i + 1;
            a->consarg = i + 2;
            i += 2;
        } else if (arg_is_at(ctx, i, "noack")) {
            if (!group_cmd) {
                resp_add_error(ctx->reply, "ERR The NOACK option is only supported by XREADGROUP. You called XREAD "
                                           "instead.");
                return false;
            }
            a->noack = true;
        } else {
            resp_add_error(ctx->reply, XERR_SYNTAX);
            return false;
        }
    }
    if (a->sarg == 0) {
        resp_add_error(ctx->reply, XERR_SYNTAX);
        return false;
    }
    if (group_cmd && !a->grouparg) {
        resp_add_error(ctx->reply, "ERR Missing GROUP option for XREADGROUP");
        return false;
    }
    return true;
}

/* Resolves each key's ID (and group); false after replying an error. */
static bool resolve_ids(cmd_ctx_t *ctx, const xread_args_t *a, stream_id_t *ids, stream_cg_t **groups)
{
    for (int k = 0; k < a->n; k++) {
        int ka = a->sarg + k, ia = a->sarg + a->n + k;
        bool bad;
        stream_t *s = xs_get(ctx, ka, true, &bad);
        if (bad) return false;
        if (a->grouparg) {
            stream_cg_t *g = s ? stream_cg_find(s, ctx->argv[a->grouparg], ctx->argvlen[a->grouparg]) : NULL;
            if (!g) {
                xs_nogroup_key_or_group(ctx, ka, a->grouparg, " in XREADGROUP with GROUP option");
                return false;
            }
            groups[k] = g;
        }
        const uint8_t *p = ctx->argv[ia];
        size_t pl = ctx->argvlen[ia];
        if (pl == 1 && p[0] == '$') {
            if (a->grouparg) {
                resp_add_error(ctx->reply, "ERR The $ ID is meaningless in the context of XREADGROUP: you want to "
                                           "read the history of this consumer by specifying a proper ID, or use the "
                                           "> ID to get new messages. The $ ID would just return an empty result "
                                           "set.");
                return false;
            }
            ids[k] = s ? s->last_id : (stream_id_t){ 0, 0 };
        } else if (pl == 1 && p[0] == '>') {
            if (!a->grouparg) {
                resp_add_error(ctx->reply, "ERR The > ID can be specified only when calling XREADGROUP using the "
                                           "GROUP <group> <consumer> option.");
                return false;
            }
            ids[k].ms = ids[k].seq = UINT64_MAX;
        } else if (!xs_parse_id_at(ctx, ia, 0, true, &ids[k])) {
            return false;
        }
    }
    return true;
}

/* The consumer argv[consarg] of g, created (and notified) when missing;
 * with NOACK its creation is propagated, as no XCLAIM will make it. */
static stream_consumer_t *consumer_of(cmd_ctx_t *ctx, const xread_args_t *a, stream_cg_t *g, int keyarg)
{
    const uint8_t *cn = ctx->argv[a->consarg];
    size_t cl = ctx->argvlen[a->consarg];
    bool created;
    stream_consumer_t *c = xs_consumer(ctx, g, cn, cl, keyarg, &created);
    if (created && a->noack) xs_prop_createconsumer(ctx, keyarg, ctx->argv[a->grouparg], ctx->argvlen[a->grouparg], cn, cl);
    return c;
}

/* One stream's part of the reply: its name and entries after *gt. */
static void serve_one(cmd_ctx_t *ctx, const xread_args_t *a, stream_t *s, int keyarg, const stream_id_t *gt,
                      stream_cg_t *g, bool history, long long count)
{
    if (ctx->reply->proto == 2) resp_add_array(ctx->reply, 2);
    resp_add_bulk(ctx->reply, ctx->argv[keyarg], ctx->argvlen[keyarg]);
    stream_id_t start = *gt;
    stream_id_incr(&start);
    stream_consumer_t *c = g ? consumer_of(ctx, a, g, keyarg) : NULL;
    size_t m0 = stream_mem(s);
    int flags = (a->noack ? XS_RANGE_NOACK : 0) | (history ? XS_RANGE_HISTORY : 0);
    xs_reply_range(ctx, s, &start, NULL, (size_t)count, false, g, c, flags, keyarg, a->grouparg);
    if (g) {
        ctx->dirty++;
        xs_mem(ctx, s, m0);
    }
}

/* The call once more for the key that a write touched (blocking.c). */
static void serve_waiter(cmd_ctx_t *ctx, const xread_args_t *a)
{
    const xread_state_t *st = ctx->resume;
    int k = ctx->serve_arg - a->sarg;
    bool bad;
    stream_t *s = xs_get(ctx, ctx->serve_arg, false, &bad);
    stream_id_t gt = st->ids[k];
    stream_cg_t *g = NULL;
    if (s && a->grouparg) {
        g = stream_cg_find(s, ctx->argv[a->grouparg], ctx->argvlen[a->grouparg]);
        if (!g) {
            resp_add_error(ctx->reply, "NOGROUP the consumer group this client was blocked on no longer exists");
            return;
        }
        gt = g->last_id;
    }
    if (!s || stream_id_cmp(&s->last_id, &gt) <= 0) {
        ctx->blocked = true;      /* nothing newer: waits on */
        return;
    }
    if (a->grouparg) xs_prop_reset(ctx);
    if (ctx->reply->proto == 2) resp_add_array(ctx->reply, 1);
    else resp_add_map(ctx->reply, 1);
    serve_one(ctx, a, s, ctx->serve_arg, &gt, g, false, st->count);
    if (a->grouparg && !ctx->prop_ncmds) ctx->prop_none = true;
}

static void xread_generic(cmd_ctx_t *ctx, bool group_cmd)
{
    xread_args_t a;
    if (!parse_opts(ctx, group_cmd, &a)) return;
    if (ctx->block_mode == CMD_BLOCK_SERVE && ctx->resume) {
        serve_waiter(ctx, &a);
        return;
    }
    xread_state_t *st = calloc(1, sizeof *st + sizeof(stream_id_t) * (size_t)a.n);
    stream_cg_t **groups = a.grouparg ? calloc((size_t)a.n, sizeof *groups) : NULL;
    st->n = a.n;
    if (!resolve_ids(ctx, &a, st->ids, groups)) goto out;
    if (group_cmd) xs_prop_reset(ctx);
    size_t h = 0;
    int served = 0;
    for (int k = 0; k < a.n; k++) {
        int ka = a.sarg + k;
        bool bad;
        stream_t *s = xs_get(ctx, ka, true, &bad);
        if (!s) continue;
        stream_id_t gt = st->ids[k];
        bool sync = false, history = false;
        if (groups) {
            if (gt.ms != UINT64_MAX || gt.seq != UINT64_MAX) {
                sync = history = true;
            } else if (s->length) {
                stream_id_t maxid;
                stream_edge(s, false, true, &maxid);
                if (stream_id_cmp(&maxid, &groups[k]->last_id) > 0) {
                    sync = true;
                    gt = groups[k]->last_id;
                }
            }
        } else if (s->length) {
            stream_id_t maxid;
            stream_edge(s, false, true, &maxid);
            sync = stream_id_cmp(&maxid, &gt) > 0;
        }
        if (!sync) continue;
        if (served++ == 0) h = resp_add_deferred_len(ctx->reply);
        serve_one(ctx, &a, s, ka, &gt, groups ? groups[k] : NULL, history, a.count);
    }
    if (group_cmd && !ctx->prop_ncmds) ctx->prop_none = true;
    if (served) {
        if (ctx->reply->proto == 2) resp_set_deferred_array(ctx->reply, h, served);
        else resp_set_deferred_map(ctx->reply, h, served);
        goto out;
    }
    if (a.timeout_ms != -1 && ctx->block_mode != CMD_BLOCK_NEVER) {
        st->count = a.count ? a.count : XREAD_BLOCKED_COUNT;
        ctx->blocked = true;
        ctx->block_first = a.sarg;
        ctx->block_nkeys = a.n;
        ctx->block_timeout_ms = a.timeout_ms;
        ctx->block_state = st;
        st = NULL;
        goto out;
    }
    resp_add_null_array(ctx->reply);
out:
    free(st);
    free(groups);
}

void cmd_xread(cmd_ctx_t *ctx) { xread_generic(ctx, false); }
void cmd_xreadgroup(cmd_ctx_t *ctx) { xread_generic(ctx, true); }

/* cmd_stream_cg.c - consumer groups: XGROUP CREATE/SETID/DESTROY/
 * CREATECONSUMER/DELCONSUMER/HELP, XSETID, XACK, XPENDING, XCLAIM and
 * XAUTOCLAIM, as redis-server 7.0.15 (t_stream.c) answers them, in its order
 * of checks.
 *
 * XGROUP, XSETID and XACK propagate as called. XCLAIM and XAUTOCLAIM
 * propagate what they changed: one XCLAIM ... FORCE JUSTID LASTID per entry
 * claimed or dropped, or an XGROUP SETID when only the group's last ID
 * moved, and nothing else, as 7.0.15.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "actors/commands/args.h"
#include "actors/commands/cmd_stream.h"
#include "actors/commands/commands.h"

/* ---------------- XGROUP ---------------- */

typedef struct xg {
    stream_t *s;
    stream_cg_t *g;
    bool mkstream;
    long long entries_read;
} xg_t;

/* 7.0.15's xgroupCommand before its dispatch: the options of CREATE and
 * SETID, the key, and the group the subcommand needs. false: replied. */
static bool xgroup_pre(cmd_ctx_t *ctx, xg_t *x, bool create, bool setid, bool needs_group)
{
    memset(x, 0, sizeof *x);
    x->entries_read = STREAM_CG_INVALID_READ;
    for (int i = 5; i < ctx->argc;) {
        if (create && arg_is_at(ctx, i, "mkstream")) {
            x->mkstream = true;
            i++;
        } else if ((create || setid) && arg_is_at(ctx, i, "entriesread") && i + 1 < ctx->argc) {
            if (!arg_ll_at(ctx, i + 1, &x->entries_read)) return false;
            if (x->entries_read < 0 && x->entries_read != STREAM_CG_INVALID_READ) {
                resp_add_error(ctx->reply, "ERR value for ENTRIESREAD must be positive or -1");
                return false;
            }
            i += 2;
        } else {
            xs_subcommand_error(ctx, "XGROUP");
            return false;
        }
    }
    bool bad;
    x->s = xs_get(ctx, 2, false, &bad);
    if (bad) return false;
    if (x->mkstream) return true;
    if (!x->s) {
        resp_add_error(ctx->reply, "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you "
                                   "may want to use the MKSTREAM option to create an empty stream automatically.");
        return false;
    }
    x->g = stream_cg_find(x->s, ctx->argv[3], ctx->argvlen[3]);
    if (!x->g && needs_group) {
        xs_nogroup_for_key(ctx, 2, 3);
        return false;
    }
    return true;
}

void cmd_xgroup_create(cmd_ctx_t *ctx)
{
    xg_t x;
    if (!xgroup_pre(ctx, &x, true, false, false)) return;
    if (ctx->argc > 8) {
        xs_subcommand_error(ctx, "XGROUP");
        return;
    }
    stream_id_t id = { 0, 0 };
    if (ctx->argvlen[4] == 1 && ctx->argv[4][0] == '$') {
        if (x.s) id = x.s->last_id;
    } else if (!xs_parse_id_at(ctx, 4, 0, true, &id)) {
        return;
    }
    if (!x.s) x.s = xs_create(ctx, 2);
    size_t m0 = stream_mem(x.s);
    if (!stream_cg_create(x.s, ctx->argv[3], ctx->argvlen[3], &id, x.entries_read)) {
        resp_add_error(ctx->reply, "BUSYGROUP Consumer Group name already exists");
        return;
    }
    xs_mem(ctx, x.s, m0);
    resp_add_simple(ctx->reply, "OK");
    ctx->dirty = 1;
    xs_notify(ctx, "xgroup-create", 2);
}

void cmd_xgroup_setid(cmd_ctx_t *ctx)
{
    xg_t x;
    if (!xgroup_pre(ctx, &x, false, true, true)) return;
    if (ctx->argc != 5 && ctx->argc != 7) {
        xs_subcommand_error(ctx, "XGROUP");
        return;
    }
    stream_id_t id;
    if (ctx->argvlen[4] == 1 && ctx->argv[4][0] == '$') id = x.s->last_id;
    else if (!xs_parse_id_at(ctx, 4, 0, false, &id)) return;
    x.g->last_id = id;
    x.g->entries_read = x.entries_read;
    resp_add_simple(ctx->reply, "OK");
    ctx->dirty = 1;
    xs_notify(ctx, "xgroup-setid", 2);
}

void cmd_xgroup_destroy(cmd_ctx_t *ctx)
{
    xg_t x;
    if (!xgroup_pre(ctx, &x, false, false, false)) return;
    if (!x.g) {
        resp_add_int(ctx->reply, 0);
        return;
    }
    size_t m0 = stream_mem(x.s);
    stream_cg_destroy(x.s, ctx->argv[3], ctx->argvlen[3]);
    xs_mem(ctx, x.s, m0);
    resp_add_int(ctx->reply, 1);
    ctx->dirty = 1;               /* also wakes its blocked readers, which answer -NOGROUP */
    xs_notify(ctx, "xgroup-destroy", 2);
}

void cmd_xgroup_createconsumer(cmd_ctx_t *ctx)
{
    xg_t x;
    if (!xgroup_pre(ctx, &x, false, false, true)) return;
    size_t m0 = stream_mem(x.s);
    bool created = !stream_consumer_find(x.g, ctx->argv[4], ctx->argvlen[4]);
    if (created) {
        stream_consumer_create(x.g, ctx->argv[4], ctx->argvlen[4], ctx->now_ms);
        ctx->dirty = 1;
        xs_notify(ctx, "xgroup-createconsumer", 2);
        xs_mem(ctx, x.s, m0);
    }
    resp_add_int(ctx->reply, created);
}

void cmd_xgroup_delconsumer(cmd_ctx_t *ctx)
{
    xg_t x;
    if (!xgroup_pre(ctx, &x, false, false, true)) return;
    stream_consumer_t *c = stream_consumer_find(x.g, ctx->argv[4], ctx->argvlen[4]);
    long long pending = 0;
    if (c) {
        size_t m0 = stream_mem(x.s);
        pending = (long long)stream_consumer_delete(x.g, c);
        xs_mem(ctx, x.s, m0);
        ctx->dirty = 1;
        xs_notify(ctx, "xgroup-delconsumer", 2);
    }
    resp_add_int(ctx->reply, pending);
}

void cmd_xgroup_help(cmd_ctx_t *ctx)
{
    static const char *const lines[] = {
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Prints this help.",
    };
    arg_reply_help(ctx, lines, sizeof lines / sizeof lines[0]);
}

/* ---------------- XSETID ---------------- */

void cmd_xsetid(cmd_ctx_t *ctx)
{
    stream_id_t id, maxdel = { 0, 0 };
    long long added = -1;
    if (!xs_parse_id_at(ctx, 2, 0, true, &id)) return;
    for (int i = 3; i < ctx->argc; i += 2) {
        int more = ctx->argc - 1 - i;
        if (arg_is_at(ctx, i, "entriesadded") && more) {
            if (!arg_ll_at(ctx, i + 1, &added)) return;
            if (added < 0) {
                resp_add_error(ctx->reply, "ERR entries_added must be positive");
                return;
            }
        } else if (arg_is_at(ctx, i, "maxdeletedid") && more) {
            if (!xs_parse_id_at(ctx, i + 1, 0, true, &maxdel)) return;
            if (stream_id_cmp(&id, &maxdel) < 0) {
                resp_add_error(ctx->reply, "ERR The ID specified in XSETID is smaller than the provided "
                                           "max_deleted_entry_id");
                return;
            }
        } else {
            resp_add_error(ctx->reply, XERR_SYNTAX);
            return;
        }
    }
    bool bad;
    stream_t *s = xs_get(ctx, 1, false, &bad);
    if (bad) return;
    if (!s) {
        resp_add_error(ctx->reply, "ERR no such key");
        return;
    }
    if (s->length > 0) {
        stream_id_t maxid;
        stream_edge(s, false, true, &maxid);
        if (stream_id_cmp(&id, &maxid) < 0) {
            resp_add_error(ctx->reply, "ERR The ID specified in XSETID is smaller than the target stream top item");
            return;
        }
        if (added != -1 && s->length > (uint64_t)added) {
            resp_add_error(ctx->reply, "ERR The entries_added specified in XSETID is smaller than the target "
                                       "stream length");
            return;
        }
    }
    s->last_id = id;
    if (added != -1) s->entries_added = (uint64_t)added;
    if (!stream_id_zero(&maxdel)) s->max_deleted = maxdel;
    resp_add_simple(ctx->reply, "OK");
    ctx->dirty = 1;
    xs_notify(ctx, "xsetid", 1);
}

/* ---------------- XACK ---------------- */

void cmd_xack(cmd_ctx_t *ctx)
{
    bool bad;
    stream_t *s = xs_get(ctx, 1, true, &bad);
    if (bad) return;
    stream_cg_t *g = s ? stream_cg_find(s, ctx->argv[2], ctx->argvlen[2]) : NULL;
    if (!g) {
        resp_add_int(ctx->reply, 0);
        return;
    }
    int n = ctx->argc - 3;
    stream_id_t small[16], *ids = n > 16 ? malloc(sizeof *ids * (size_t)n) : small;
    long long acked = 0;
    for (int j = 0; j < n; j++)
        if (!xs_parse_id_at(ctx, j + 3, 0, true, &ids[j])) goto done;
    size_t m0 = stream_mem(s);
    for (int j = 0; j < n; j++) {
        stream_nack_t *nk = stream_pel_find(&g->pel, &ids[j]);
        if (!nk) continue;
        stream_nack_drop(g, nk);
        acked++;
    }
    ctx->dirty = acked;
    xs_mem(ctx, s, m0);
    resp_add_int(ctx->reply, acked);
done:
    if (ids != small) free(ids);
}

/* ---------------- XPENDING ---------------- */

static void pending_summary(cmd_ctx_t *ctx, const stream_cg_t *g)
{
    resp_add_array(ctx->reply, 4);
    resp_add_int(ctx->reply, (long long)g->pel.n);
    if (!g->pel.n) {
        resp_add_null(ctx->reply);
        resp_add_null(ctx->reply);
        resp_add_null_array(ctx->reply);
        return;
    }
    xs_reply_id(ctx, &g->pel.v[0]->id);
    xs_reply_id(ctx, &g->pel.v[g->pel.n - 1]->id);
    size_t h = resp_add_deferred_len(ctx->reply), n = 0;
    for (size_t i = 0; i < g->nconsumers; i++) {
        const stream_consumer_t *c = g->consumers[i];
        if (!c->pel.n) continue;
        resp_add_array(ctx->reply, 2);
        resp_add_bulk(ctx->reply, c->name, c->nlen);
        resp_add_bulk_ll(ctx->reply, (long long)c->pel.n);
        n++;
    }
    resp_set_deferred_array(ctx->reply, h, (long long)n);
}

static void pending_range(cmd_ctx_t *ctx, const stream_pel_t *pel, const stream_id_t *start, const stream_id_t *end,
                          long long count, long long minidle)
{
    size_t h = resp_add_deferred_len(ctx->reply), n = 0;
    for (size_t i = stream_pel_lower(pel, start); count && i < pel->n; i++) {
        const stream_nack_t *nk = pel->v[i];
        if (stream_id_cmp(&nk->id, end) > 0) break;
        long long idle = ctx->now_ms - nk->delivery_time;
        if (minidle && idle < minidle) continue;
        n++;
        count--;
        resp_add_array(ctx->reply, 4);
        xs_reply_id(ctx, &nk->id);
        resp_add_bulk(ctx->reply, nk->consumer->name, nk->consumer->nlen);
        resp_add_int(ctx->reply, idle < 0 ? 0 : idle);
        resp_add_int(ctx->reply, (long long)nk->delivery_count);
    }
    resp_set_deferred_array(ctx->reply, h, (long long)n);
}

/* An interval bound of XPENDING/XAUTOCLAIM: "(" excludes it. */
static bool bound(cmd_ctx_t *ctx, int i, bool start, stream_id_t *id)
{
    const uint8_t *p = ctx->argv[i];
    size_t n = ctx->argvlen[i];
    bool ex = n > 1 && p[0] == '(';
    if (!xs_parse_id(ctx, ex ? p + 1 : p, ex ? n - 1 : n, start ? 0 : UINT64_MAX, ex, id, NULL)) return false;
    if (ex && !(start ? stream_id_incr(id) : stream_id_decr(id))) {
        resp_add_error(ctx->reply, start ? "ERR invalid start ID for the interval" : "ERR invalid end ID for the interval");
        return false;
    }
    return true;
}

void cmd_xpending(cmd_ctx_t *ctx)
{
    bool justinfo = ctx->argc == 3;
    stream_id_t start, end;
    long long count = 0, minidle = 0;
    int cons = 0;
    if (ctx->argc != 3 && (ctx->argc < 6 || ctx->argc > 9)) {
        resp_add_error(ctx->reply, XERR_SYNTAX);
        return;
    }
    if (ctx->argc >= 6) {
        int si = 3;
        if (arg_is_at(ctx, 3, "idle")) {
            if (!arg_ll_at(ctx, 4, &minidle)) return;
            if (ctx->argc < 8) {
                resp_add_error(ctx->reply, XERR_SYNTAX);
                return;
            }
            si += 2;
        }
        if (!arg_ll_at(ctx, si + 2, &count)) return;
        if (count < 0) count = 0;
        if (!bound(ctx, si, true, &start) || !bound(ctx, si + 1, false, &end)) return;
        if (si + 3 < ctx->argc) cons = si + 3;
    }
    bool bad;
    stream_t *s = xs_get(ctx, 1, true, &bad);
    if (bad) return;
    stream_cg_t *g = s ? stream_cg_find(s, ctx->argv[2], ctx->argvlen[2]) : NULL;
    if (!g) {
        xs_nogroup_key_or_group(ctx, 1, 2, "");
        return;
    }
    if (justinfo) {
        pending_summary(ctx, g);
        return;
    }
    const stream_pel_t *pel = &g->pel;
    if (cons) {
        stream_consumer_t *c = stream_consumer_find(g, ctx->argv[cons], ctx->argvlen[cons]);
        if (!c) {
            resp_add_array(ctx->reply, 0);
            return;
        }
        pel = &c->pel;
    }
    pending_range(ctx, pel, &start, &end, count, minidle);
}

/* ---------------- XCLAIM / XAUTOCLAIM ---------------- */

/* Gives nk to c as both claims do: delivered at `when`, its count set or
 * (unless JUSTID) incremented; then the entry (or its ID) is answered. */
static void claim_one(cmd_ctx_t *ctx, stream_t *s, stream_nack_t *nk, stream_consumer_t *c, long long when,
                      long long retry, bool justid)
{
    if (nk->consumer != c && nk->consumer) stream_pel_remove(&nk->consumer->pel, &nk->id);
    nk->delivery_time = when;
    if (retry >= 0) nk->delivery_count = (uint64_t)retry;
    else if (!justid) nk->delivery_count++;
    if (nk->consumer != c) {
        nk->consumer = c;
        stream_pel_insert(&c->pel, nk);
    }
    if (justid) {
        xs_reply_id(ctx, &nk->id);
        return;
    }
    stream_iter_t it;
    stream_iter_start(&it, s, &nk->id, &nk->id, false);
    stream_id_t id;
    int64_t nf;
    stream_iter_next(&it, &id, &nf);
    resp_add_array(ctx->reply, 2);
    xs_reply_id(ctx, &id);
    xs_reply_fields(ctx, &it, nf);
}

typedef struct claim_opts {
    long long when;               /* -1: now */
    long long retry;              /* -1: not given */
    bool force, justid;
    stream_id_t lastid;
} claim_opts_t;

/* XCLAIM's options after its IDs (from argv[j]); false: replied. */
static bool claim_options(cmd_ctx_t *ctx, int j, claim_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->when = o->retry = -1;
    for (; j < ctx->argc; j++) {
        int more = ctx->argc - 1 - j;
        if (arg_is_at(ctx, j, "force")) {
            o->force = true;
        } else if (arg_is_at(ctx, j, "justid")) {
            o->justid = true;
        } else if (arg_is_at(ctx, j, "idle") && more) {
            if (!arg_ll(ctx->argv[j + 1], ctx->argvlen[j + 1], &o->when)) {
                resp_add_error(ctx->reply, "ERR Invalid IDLE option argument for XCLAIM");
                return false;
            }
            o->when = ctx->now_ms - o->when;
            j++;
        } else if (arg_is_at(ctx, j, "time") && more) {
            if (!arg_ll(ctx->argv[j + 1], ctx->argvlen[j + 1], &o->when)) {
                resp_add_error(ctx->reply, "ERR Invalid TIME option argument for XCLAIM");
                return false;
            }
            j++;
        } else if (arg_is_at(ctx, j, "retrycount") && more) {
            if (!arg_ll(ctx->argv[j + 1], ctx->argvlen[j + 1], &o->retry)) {
                resp_add_error(ctx->reply, "ERR Invalid RETRYCOUNT option argument for XCLAIM");
                return false;
            }
            j++;
        } else if (arg_is_at(ctx, j, "lastid") && more) {
            if (!xs_parse_id_at(ctx, j + 1, 0, true, &o->lastid)) return false;
            j++;
        } else {
            resp_add_errorf(ctx->reply, "ERR Unrecognized XCLAIM option '%.*s'",
                            (int)strnlen((const char *)ctx->argv[j], ctx->argvlen[j]), (const char *)ctx->argv[j]);
            return false;
        }
    }
    return true;
}

/* The group of argv[2] in the stream argv[1], or NULL after -NOGROUP. */
static stream_cg_t *claim_group(cmd_ctx_t *ctx, stream_t *s)
{
    stream_cg_t *g = s ? stream_cg_find(s, ctx->argv[2], ctx->argvlen[2]) : NULL;
    if (!g) xs_nogroup_key_or_group(ctx, 1, 2, "");
    return g;
}

/* The claims proper, over the IDs argv[5 .. last]. */
static void claim_ids(cmd_ctx_t *ctx, stream_t *s, stream_cg_t *g, const stream_id_t *ids, int last,
                      const claim_opts_t *o, long long minidle, bool prop_last)
{
    stream_consumer_t *c = NULL;
    size_t h = resp_add_deferred_len(ctx->reply), n = 0;
    for (int j = 5; j <= last; j++) {
        const stream_id_t *id = &ids[j - 5];
        stream_nack_t *nk = stream_pel_find(&g->pel, id);
        if (!stream_has(s, id)) {
            if (nk) {             /* the entry is gone: so goes its pending entry */
                xs_prop_xclaim_id(ctx, 1, ctx->argv[2], ctx->argvlen[2], g, nk, ctx->argv[j], ctx->argvlen[j]);
                prop_last = false;
                ctx->dirty++;
                stream_nack_drop(g, nk);
            }
            continue;
        }
        if (o->force && !nk) {
            nk = stream_nack_new(id, NULL, ctx->now_ms);
            stream_pel_insert(&g->pel, nk);
        }
        if (!nk) continue;
        if (nk->consumer && minidle && ctx->now_ms - nk->delivery_time < minidle) continue;
        bool created;
        if (!c) c = xs_consumer(ctx, g, ctx->argv[3], ctx->argvlen[3], 1, &created);
        claim_one(ctx, s, nk, c, o->when, o->retry, o->justid);
        n++;
        xs_prop_xclaim_id(ctx, 1, ctx->argv[2], ctx->argvlen[2], g, nk, ctx->argv[j], ctx->argvlen[j]);
        prop_last = false;
        ctx->dirty++;
    }
    if (prop_last) {
        xs_prop_setid(ctx, 1, ctx->argv[2], ctx->argvlen[2], g);
        ctx->dirty++;
    }
    resp_set_deferred_array(ctx->reply, h, (long long)n);
}

void cmd_xclaim(cmd_ctx_t *ctx)
{
    bool bad;
    stream_t *s = xs_get(ctx, 1, true, &bad);
    if (bad) return;
    stream_cg_t *g = claim_group(ctx, s);
    if (!g) return;
    long long minidle;
    if (!arg_ll(ctx->argv[4], ctx->argvlen[4], &minidle)) {
        resp_add_error(ctx->reply, "ERR Invalid min-idle-time argument for XCLAIM");
        return;
    }
    if (minidle < 0) minidle = 0;
    int n = ctx->argc - 5, j = 5;
    stream_id_t small[16], *ids = n > 16 ? malloc(sizeof *ids * (size_t)n) : small;
    while (j < ctx->argc && stream_id_parse(ctx->argv[j], ctx->argvlen[j], 0, &ids[j - 5], NULL) &&
           !(ctx->argvlen[j] == 1 && (ctx->argv[j][0] == '-' || ctx->argv[j][0] == '+')))
        j++;
    int last = j - 1;
    claim_opts_t o;
    if (claim_options(ctx, j, &o)) {
        bool prop_last = false;
        if (stream_id_cmp(&o.lastid, &g->last_id) > 0) {
            g->last_id = o.lastid;
            prop_last = true;
        }
        if (o.when == -1 || o.when < 0 || o.when > ctx->now_ms) o.when = ctx->now_ms;
        size_t m0 = stream_mem(s);
        xs_prop_reset(ctx);
        claim_ids(ctx, s, g, ids, last, &o, minidle, prop_last);
        if (!ctx->prop_ncmds) ctx->prop_none = true;
        xs_mem(ctx, s, m0);
    }
    if (ids != small) free(ids);
}

/* XAUTOCLAIM's walk of the group's PEL from index i; returns where it stopped. */
static size_t autoclaim_walk(cmd_ctx_t *ctx, stream_t *s, stream_cg_t *g, size_t i, long long count, long long minidle,
                             bool justid, stream_id_t *deleted, int *ndel, size_t *claimed)
{
    long long attempts = count * 10;
    stream_consumer_t *c = NULL;
    while (attempts-- && count && i < g->pel.n) {
        stream_nack_t *nk = g->pel.v[i];
        if (!stream_has(s, &nk->id)) {
            xs_prop_xclaim(ctx, 1, ctx->argv[2], ctx->argvlen[2], g, nk);
            ctx->dirty++;
            deleted[(*ndel)++] = nk->id;
            stream_nack_drop(g, nk);  /* the next entry moves to index i */
            count--;
            continue;
        }
        if (minidle && ctx->now_ms - nk->delivery_time < minidle) {
            i++;
            continue;
        }
        bool created;
        if (!c) c = xs_consumer(ctx, g, ctx->argv[3], ctx->argvlen[3], 1, &created);
        claim_one(ctx, s, nk, c, ctx->now_ms, -1, justid);
        (*claimed)++;
        count--;
        xs_prop_xclaim(ctx, 1, ctx->argv[2], ctx->argvlen[2], g, nk);
        ctx->dirty++;
        i++;
    }
    return i;
}

void cmd_xautoclaim(cmd_ctx_t *ctx)
{
    long long minidle, count = 100;
    stream_id_t start;
    bool justid = false;
    if (!arg_ll(ctx->argv[4], ctx->argvlen[4], &minidle)) {
        resp_add_error(ctx->reply, "ERR Invalid min-idle-time argument for XAUTOCLAIM");
        return;
    }
    if (minidle < 0) minidle = 0;
    if (!bound(ctx, 5, true, &start)) return;
    for (int j = 6; j < ctx->argc; j++) {
        if (arg_is_at(ctx, j, "count") && ctx->argc - 1 - j) {
            if (!arg_ll(ctx->argv[j + 1], ctx->argvlen[j + 1], &count) || count < 1 || count > LONG_MAX / 16) {
                resp_add_error(ctx->reply, "ERR COUNT must be > 0");
                return;
            }
            j++;
        } else if (arg_is_at(ctx, j, "justid")) {
            justid = true;
        } else {
            resp_add_error(ctx->reply, XERR_SYNTAX);
            return;
        }
    }
    bool bad;
    stream_t *s = xs_get(ctx, 1, true, &bad);
    if (bad) return;
    stream_cg_t *g = claim_group(ctx, s);
    if (!g) return;
    /* 7.0.15 allocates room for COUNT deleted IDs first and answers an
     * error when it cannot (a huge COUNT) */
    stream_id_t *deleted = malloc(sizeof *deleted * (size_t)count);
    if (!deleted) {
        resp_add_error(ctx->reply, "ERR Insufficient memory, failed allocating transient memory, COUNT too high.");
        return;
    }
    size_t m0 = stream_mem(s), claimed = 0;
    int ndel = 0;
    xs_prop_reset(ctx);
    /* the claimed entries come before the cursor is known: built aside */
    resp_buf_t tmp;
    resp_buf_init(&tmp, ctx->reply->proto);
    resp_buf_t *out = ctx->reply;
    ctx->reply = &tmp;
    size_t h = resp_add_deferred_len(ctx->reply);
    size_t i = autoclaim_walk(ctx, s, g, stream_pel_lower(&g->pel, &start), count, minidle, justid, deleted, &ndel,
                              &claimed);
    resp_set_deferred_array(ctx->reply, h, (long long)claimed);
    ctx->reply = out;
    stream_id_t cursor = { 0, 0 };
    if (i < g->pel.n) cursor = g->pel.v[i]->id;
    resp_add_array(out, 3);
    xs_reply_id(ctx, &cursor);
    resp_buf_append(out, tmp.data, tmp.len);
    resp_add_array(out, ndel);
    for (int k = 0; k < ndel; k++) xs_reply_id(ctx, &deleted[k]);
    resp_buf_free(&tmp);
    free(deleted);
    if (!ctx->prop_ncmds) ctx->prop_none = true;
    xs_mem(ctx, s, m0);
}

/* fanout.c - commands that see the whole local keyspace, which is spread over
 * every worker: DBSIZE, KEYS, RANDOMKEY, FLUSHALL, FLUSHDB (one part per
 * worker, merged on the client's worker) and SCAN (one worker per call, the
 * worker index kept in the low 6 bits of the cursor).
 *
 * Parts travel as messages even to the client's own worker, so a fan-out is
 * ordered after every earlier command of the same connection on every worker.
 *
 * Must never: read another worker's keyspace directly.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/repl/repl.h"
#include "actors/repl/repl_internal.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/client.h"
#include "actors/commands/commands.h"
#include "actors/commands/debug_cmds.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "actors/persist/rdb_save.h"
#include "actors/commands/args.h"
#include "runtime/log.h"
#include "proto/slot.h"
#include "proto/strnum.h"
#include "runtime/xmalloc.h"

#define SCAN_WORKER_BITS 6

enum { FAN_DBSIZE = 1, FAN_KEYS, FAN_RANDOMKEY, FAN_FLUSH, FAN_CLIENT_LIST, FAN_CLIENT_KILL, FAN_POPULATE,
       FAN_SPLIT };

static int fan_kind(const cmd_def_t *cmd)
{
    if (cmd->parent && !strcmp(cmd->parent->name, "client"))
        return !strcmp(cmd->name, "list") ? FAN_CLIENT_LIST : FAN_CLIENT_KILL;
    if (!strcmp(cmd->name, "dbsize")) return FAN_DBSIZE;
    if (!strcmp(cmd->name, "debug")) return FAN_POPULATE;   /* the only DEBUG that fans out */
    if (!strcmp(cmd->name, "keys")) return FAN_KEYS;
    if (!strcmp(cmd->name, "randomkey")) return FAN_RANDOMKEY;
    if (!strcmp(cmd->name, "flushall") || !strcmp(cmd->name, "flushdb")) return FAN_FLUSH;
    return 0;
}

static void send_to_worker(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                           const size_t *argvlen, int target)
{
    worker_t *w = c->worker;
    if (target == w->index) {
        dispatch_run_local(w, NULL, cmd, argc, argv, argvlen, client_reply_target(c), rt_now_ms());
        return;
    }
    remote_cmd_t *rc = remote_cmd_one(c, cmd, argc, argv, argvlen, client_defer_reply(c), WMSG_EXEC,
                                      rt_now_ms());
    worker_send(w, target, &rc->hdr);
}

/* Validates SCAN's arguments; returns false after replying an error. */
static bool scan_parse(const cmd_ctx_t *ctx, resp_buf_t *r, unsigned long long *cursor, const uint8_t **pat,
                       size_t *patlen, long long *count, const uint8_t **type, size_t *typelen)
{
    const char *cs = (const char *)ctx->argv[1];
    char *end = NULL;
    char tmp[32];
    size_t n = ctx->argvlen[1];
    if (n == 0 || n >= sizeof tmp) { resp_add_error(r, "ERR invalid cursor"); return false; }
    memcpy(tmp, cs, n);
    tmp[n] = '\0';
    errno = 0;
    *cursor = strtoull(tmp, &end, 10);
    /* The cursor is not a string2ll number in Redis either: 7.0.15 reads it
     * with strtoul, so "+0" and "-1" are cursors, leading blanks are not. */
    if (*end || errno || isspace((unsigned char)tmp[0])) { resp_add_error(r, "ERR invalid cursor"); return false; }
    *pat = NULL; *patlen = 0; *count = 10; *type = NULL; *typelen = 0;
    for (int i = 2; i < ctx->argc; i += 2) {
        if (i + 1 >= ctx->argc) { resp_add_error(r, "ERR syntax error"); return false; }
        if (arg_is(ctx->argv[i], ctx->argvlen[i], "match")) {
            *pat = ctx->argv[i + 1]; *patlen = ctx->argvlen[i + 1];
        } else if (arg_is(ctx->argv[i], ctx->argvlen[i], "count")) {
            long long v;
            if (!str_to_ll(ctx->argv[i + 1], ctx->argvlen[i + 1], &v)) {
                resp_add_error(r, "ERR value is not an integer or out of range");
                return false;
            }
            if (v < 1) { resp_add_error(r, "ERR syntax error"); return false; }
            *count = v;
        } else if (arg_is(ctx->argv[i], ctx->argvlen[i], "type")) {
            *type = ctx->argv[i + 1]; *typelen = ctx->argvlen[i + 1];
        } else {
            resp_add_error(r, "ERR syntax error");
            return false;
        }
    }
    return true;
}

/* SCAN: on the client's worker it forwards itself to the worker named by the
 * cursor; on that worker (client == NULL) it scans its own keyspace. */
void cmd_scan(cmd_ctx_t *ctx)
{
    unsigned long long cursor;
    const uint8_t *pat, *type;
    size_t patlen, typelen;
    long long count;
    if (!scan_parse(ctx, ctx->reply, &cursor, &pat, &patlen, &count, &type, &typelen)) return;
    int widx = (int)(cursor & ((1u << SCAN_WORKER_BITS) - 1)) % g_nworkers;
    if (ctx->client) {
        send_to_worker(ctx->client, dispatch_current_cmd(ctx->client), ctx->argc, ctx->argv, ctx->argvlen, widx);
        return;
    }
    unsigned long long local = cursor >> SCAN_WORKER_BITS;
    resp_buf_t keys;
    resp_buf_init(&keys, ctx->reply->proto);
    resp_bulk_list_t acc = { &keys, 0 };
    unsigned long long next = ks_scan(ctx->ks, local, pat, patlen, count, type, typelen, ctx->now_ms, resp_bulk_collect, &acc);
    unsigned long long gnext;
    if (next != 0) {
        gnext = (next << SCAN_WORKER_BITS) | (unsigned)widx;
    } else {
        /* Skip workers that hold no keys at all: a key that exists for the
         * whole iteration keeps its worker's count above zero. */
        int nw = widx + 1;
        while (nw < g_nworkers && atomic_load_explicit(&g_workers[nw]->stats.keys, memory_order_relaxed) == 0) nw++;
        gnext = nw < g_nworkers ? (unsigned long long)nw : 0;
    }
    resp_add_array(ctx->reply, 2);
    char nb[32];
    int l = snprintf(nb, sizeof nb, "%llu", gnext);
    resp_add_bulk(ctx->reply, nb, (size_t)l);
    resp_add_array(ctx->reply, acc.n);
    resp_buf_append(ctx->reply, keys.data, keys.len);
    resp_buf_free(&keys);
}

void dispatch_fanout(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    if (!strcmp(cmd->name, "scan")) {
        cmd_ctx_t ctx = { .argc = argc, .argv = argv, .argvlen = argvlen, .client = c, .worker = c->worker,
                          .now_ms = rt_now_ms() };
        resp_buf_t tmp;
        resp_buf_init(&tmp, c->proto);
        ctx.reply = &tmp;
        cmd_scan(&ctx);
        if (tmp.len) resp_buf_append(client_reply_target(c), tmp.data, tmp.len);
        resp_buf_free(&tmp);
        return;
    }
    int kind = fan_kind(cmd);
    if (kind == FAN_FLUSH) {
        if (argc > 2 || (argc == 2 && !arg_is(argv[1], argvlen[1], "async") && !arg_is(argv[1], argvlen[1], "sync"))) {
            resp_add_error(client_reply_target(c), "ERR syntax error");
            return;
        }
    }
    if (kind == FAN_FLUSH && repl_worker_propagates(c->worker->ks)) {
        /* With replicas the flush is one point in the stream: the replication
         * actor runs it as a cut across all workers. The client stays blocked
         * (dispatch_defer_nosend) until the cut is done, so its next command
         * sees the empty keyspace, and the slot's completion unblocks it. */
        cmd_ctx_t ctx = { .argc = argc, .argv = argv, .argvlen = argvlen, .client = c, .worker = c->worker,
                          .now_ms = rt_now_ms() };
        remote_cmd_t *rc = dispatch_defer_nosend(&ctx, RM_FLUSH);
        rt_send(repl_actor(), &rc->hdr);
        return;
    }
    reply_slot_t *slot = client_defer_reply(c);
    slot->parts_left = g_nworkers;
    slot->cmd = cmd;
    slot->fanout_kind = kind;
    resp_buf_init(&slot->acc, c->proto);
    for (int i = 0; i < g_nworkers; i++) {
        remote_cmd_t *rc = remote_cmd_one(c, cmd, argc, argv, argvlen, slot, WMSG_FANOUT, rt_now_ms());
        rc->client_id = c->id;
        worker_send(c->worker, i, &rc->hdr);
    }
}

/* ---------------- multi-key commands split by worker ----------------
 *
 * Without cluster mode a client may name keys of any slots in one MGET, MSET,
 * DEL, UNLINK, EXISTS or TOUCH. Each worker gets the same command with its
 * own keys (in their order); the client's worker merges the parts: MGET's
 * elements back in the keys' order, the counts added, MSET's OK. A departure
 * from Redis, stated in docs/design.md: the parts run one after the other on
 * their workers, so another client may see some of an MSET's keys set before
 * the others. */

enum { SPLIT_MGET = 1, SPLIT_COUNT, SPLIT_OK };

typedef struct split_state {
    int how;                      /* SPLIT_* */
    int nkeys;
    uint8_t *order;               /* the worker of each key, in argument order */
    resp_buf_t parts[MAX_WORKERS];
} split_state_t;

static int split_how(const cmd_def_t *cmd)
{
    if (cmd->parent) return 0;
    if (!strcmp(cmd->name, "mget")) return SPLIT_MGET;
    if (!strcmp(cmd->name, "mset")) return SPLIT_OK;
    if (!strcmp(cmd->name, "del") || !strcmp(cmd->name, "unlink") || !strcmp(cmd->name, "exists") ||
        !strcmp(cmd->name, "touch"))
        return SPLIT_COUNT;
    return 0;
}

bool dispatch_split_supported(const cmd_def_t *cmd, int argc)
{
    return split_how(cmd) && cmd->first_key == 1 && cmd->last_key == -1 && cmd->key_step >= 1 &&
           argc > 1 && (argc - 1) % cmd->key_step == 0;
}

void dispatch_split(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    int step = cmd->key_step;
    split_state_t *st = xcalloc(1, sizeof *st);
    st->how = split_how(cmd);
    st->nkeys = (argc - 1) / step;
    st->order = xmalloc((size_t)st->nkeys);
    for (int k = 0; k < st->nkeys; k++)
        st->order[k] = (uint8_t)worker_of_slot(slot_of_key(argv[1 + k * step], argvlen[1 + k * step]));
    reply_slot_t *slot = client_defer_reply(c);
    slot->cmd = cmd;
    slot->fanout_kind = FAN_SPLIT;
    slot->split = st;
    resp_buf_init(&slot->acc, c->proto);
    const uint8_t **sub = xmalloc((size_t)argc * sizeof *sub);
    size_t *sublen = xmalloc((size_t)argc * sizeof *sublen);
    int parts = 0;
    for (int w = 0; w < g_nworkers; w++) {
        int n = 1;
        sub[0] = argv[0];
        sublen[0] = argvlen[0];
        for (int k = 0; k < st->nkeys; k++) {
            if (st->order[k] != w) continue;
            for (int j = 0; j < step; j++) {
                sub[n] = argv[1 + k * step + j];
                sublen[n++] = argvlen[1 + k * step + j];
            }
        }
        if (n == 1) continue;
        remote_cmd_t *rc = remote_cmd_one(c, cmd, n, sub, sublen, slot, WMSG_FANOUT, rt_now_ms());
        rc->client_id = c->id;
        parts++;
        worker_send(c->worker, w, &rc->hdr);
    }
    /* The parts come back as messages to this thread, after this returns. */
    slot->parts_left = parts;
    free(sub);
    free(sublen);
}

/* Length of the RESP element at p (a bulk string or a null, MGET's only kinds). */
static size_t element_len(const char *p, size_t left)
{
    const char *eol = memchr(p, '\n', left);
    if (!eol) return left;
    size_t line = (size_t)(eol - p) + 1;
    if (p[0] != '$') return line;
    long long n = strtoll(p + 1, NULL, 10);
    if (n < 0) return line;
    size_t total = line + (size_t)n + 2;
    return total <= left ? total : left;
}

static void split_part_done(reply_slot_t *s, remote_cmd_t *rc)
{
    split_state_t *st = s->split;
    queued_cmd_t *q = &rc->cmds[0];
    int w = worker_of_slot(slot_of_key(q->argv[1], q->argvlen[1]));
    st->parts[w] = rc->reply;
    resp_buf_init(&rc->reply, 2);
}

static void split_reply(reply_slot_t *s)
{
    split_state_t *st = s->split;
    const resp_buf_t *err = NULL;
    for (int w = 0; w < g_nworkers && !err; w++)
        if (st->parts[w].len && st->parts[w].data[0] == '-') err = &st->parts[w];
    if (err) {
        resp_buf_append(&s->buf, err->data, err->len);
    } else if (st->how == SPLIT_OK) {
        resp_add_simple(&s->buf, "OK");
    } else if (st->how == SPLIT_COUNT) {
        long long sum = 0;
        for (int w = 0; w < g_nworkers; w++)
            if (st->parts[w].len > 1 && st->parts[w].data[0] == ':') sum += strtoll(st->parts[w].data + 1, NULL, 10);
        resp_add_int(&s->buf, sum);
    } else {
        size_t cur[MAX_WORKERS] = { 0 };
        for (int w = 0; w < g_nworkers; w++) {   /* past each part's array header */
            const char *eol = st->parts[w].len ? memchr(st->parts[w].data, '\n', st->parts[w].len) : NULL;
            cur[w] = eol ? (size_t)(eol - st->parts[w].data) + 1 : st->parts[w].len;
        }
        resp_add_array(&s->buf, st->nkeys);
        for (int k = 0; k < st->nkeys; k++) {
            resp_buf_t *p = &st->parts[st->order[k]];
            size_t n = element_len(p->data + cur[st->order[k]], p->len - cur[st->order[k]]);
            resp_buf_append(&s->buf, p->data + cur[st->order[k]], n);
            cur[st->order[k]] += n;
        }
    }
    for (int w = 0; w < g_nworkers; w++) resp_buf_free(&st->parts[w]);
    free(st->order);
    free(st);
    s->split = NULL;
}

/* One worker's share of a fan-out command. */
void dispatch_fanout_part(worker_t *w, remote_cmd_t *rc, queued_cmd_t *q)
{
    /* SAVE/BGSAVE and the startup load use this path to reach every worker
     * (rdb_save.c); not a client call, so no command statistics. */
    if (rdb_save_is_part(rc)) {
        rdb_save_part(w, rc);
        return;
    }
    if (q->cmd->exec == CMD_EXEC_KEYED) {   /* a split multi-key command's part */
        dispatch_run_local(w, NULL, q->cmd, q->argc, q->argv, q->argvlen, &rc->reply, rc->now_ms);
        return;
    }
    switch (fan_kind(q->cmd)) {
    case FAN_DBSIZE:
        rc->keys_delta = (long long)ks_size(w->ks);
        break;
    case FAN_KEYS: {
        resp_bulk_list_t acc = { &rc->reply, 0 };
        ks_keys(w->ks, q->argv[1], q->argvlen[1], rc->now_ms, resp_bulk_collect, &acc);
        rc->keys_delta = acc.n;
        break;
    }
    case FAN_RANDOMKEY: {
        resp_bulk_list_t acc = { &rc->reply, 0 };
        ks_random_key(w->ks, rc->now_ms, resp_bulk_collect, &acc);
        rc->keys_delta = acc.n ? (long long)ks_size(w->ks) : 0;   /* weight by size */
        break;
    }
    case FAN_CLIENT_LIST:
        client_list_part(w, rc, q);
        break;
    case FAN_CLIENT_KILL:
        rc->keys_delta = client_kill_part(w, rc, q);
        break;
    case FAN_POPULATE:
        if (debug_is_digest(q)) debug_digest_part(w, rc);
        else debug_populate_part(w, q, rc->now_ms);
        break;
    case FAN_FLUSH:
        ks_flush(w->ks);
        w->flush_epoch++;
        atomic_store_explicit(&w->stats.keys, 0, memory_order_relaxed);
        atomic_store_explicit(&w->stats.expires, 0, memory_order_relaxed);
        break;
    }
    stats_note_call(w, q->cmd, 0, NULL, 0);
}

/* A part came back to the client's worker: merge, and answer after the last. */
void dispatch_fanout_done(worker_t *w, remote_cmd_t *rc)
{
    if (rdb_save_is_part(rc)) {   /* rdb_save.c gathers its own parts */
        rdb_save_part_done(w, rc);
        return;
    }
    reply_slot_t *s = rc->slot;
    switch (s->fanout_kind) {
    case FAN_SPLIT:
        split_part_done(s, rc);
        break;
    case FAN_DBSIZE:
        s->sum += rc->keys_delta;
        break;
    case FAN_KEYS:
        s->sum += rc->keys_delta;
        resp_buf_append(&s->acc, rc->reply.data, rc->reply.len);
        break;
    case FAN_CLIENT_LIST:
        resp_buf_append(&s->acc, rc->reply.data, rc->reply.len);
        break;
    case FAN_CLIENT_KILL:
        s->sum += rc->keys_delta;
        s->count = rc->cmds[0].argc;
        break;
    case FAN_POPULATE:
        if (debug_is_digest(&rc->cmds[0]) && rc->reply.len == 20) {
            /* DEBUG DIGEST: xor the workers' folds */
            s->count = -1;
            s->sum += rc->keys_delta;
            if (s->acc.len == 0) resp_buf_append(&s->acc, rc->reply.data, 20);
            else for (int i = 0; i < 20; i++) s->acc.data[i] ^= rc->reply.data[i];
        }
        break;
    case FAN_RANDOMKEY:
        /* Reservoir choice weighted by each worker's key count. */
        if (rc->keys_delta > 0) {
            s->sum += rc->keys_delta;
            if (random() % s->sum < rc->keys_delta) {
                resp_buf_reset(&s->acc);
                resp_buf_append(&s->acc, rc->reply.data, rc->reply.len);
            }
        }
        break;
    default:
        break;
    }
    remote_cmd_free(rc);
    if (--s->parts_left > 0) return;
    switch (s->fanout_kind) {
    case FAN_SPLIT: split_reply(s); break;
    case FAN_DBSIZE: resp_add_int(&s->buf, s->sum); break;
    case FAN_KEYS:
        resp_add_array(&s->buf, s->sum);
        resp_buf_append(&s->buf, s->acc.data, s->acc.len);
        break;
    case FAN_RANDOMKEY:
        if (s->acc.len) resp_buf_append(&s->buf, s->acc.data, s->acc.len);
        else resp_add_null(&s->buf);
        break;
    case FAN_FLUSH: resp_add_simple(&s->buf, "OK"); break;
    case FAN_POPULATE:
        if (s->count == -1 && s->acc.len == 20) debug_digest_reply(&s->buf, (const uint8_t *)s->acc.data, s->sum);
        else resp_add_simple(&s->buf, "OK");
        break;
    case FAN_CLIENT_LIST: resp_add_verbatim(&s->buf, s->acc.data, s->acc.len); break;
    case FAN_CLIENT_KILL:
        if (s->count == 3) {   /* old form: CLIENT KILL addr */
            if (s->sum == 0) resp_add_error(&s->buf, "ERR No such client");
            else resp_add_simple(&s->buf, "OK");
        } else {
            resp_add_int(&s->buf, s->sum);
        }
        break;
    }
    client_slot_done(w, s);
}

/* The table names these handlers; they run only through the fan-out path. */
void cmd_dbsize(cmd_ctx_t *ctx) { resp_add_int(ctx->reply, (long long)ks_size(ctx->ks)); }
void cmd_keys(cmd_ctx_t *ctx)
{
    resp_bulk_list_t acc = { NULL, 0 };
    resp_buf_t tmp;
    resp_buf_init(&tmp, ctx->reply->proto);
    acc.buf = &tmp;
    ks_keys(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms, resp_bulk_collect, &acc);
    resp_add_array(ctx->reply, acc.n);
    resp_buf_append(ctx->reply, tmp.data, tmp.len);
    resp_buf_free(&tmp);
}
void cmd_randomkey(cmd_ctx_t *ctx)
{
    resp_bulk_list_t acc = { ctx->reply, 0 };
    ks_random_key(ctx->ks, ctx->now_ms, resp_bulk_collect, &acc);
    if (!acc.n) resp_add_null(ctx->reply);
}
void cmd_flushall(cmd_ctx_t *ctx) { ks_flush(ctx->ks); ctx->dirty = true; resp_add_simple(ctx->reply, "OK"); }
void cmd_flushdb(cmd_ctx_t *ctx) { cmd_flushall(ctx); }

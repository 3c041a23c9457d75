/* cmd_allkeys.c - the commands that see the whole local keyspace, which is
 * spread over every worker: DBSIZE, KEYS, RANDOMKEY, FLUSHALL, FLUSHDB (one
 * part per worker, merged on the client's worker: the fan-out callbacks their
 * table entries name, driven by actors/worker/fanout.c) and SCAN (one worker
 * per call, the worker index kept in the low 6 bits of the cursor).
 *
 * Must never: read another worker's keyspace; a part sees only the worker it
 * runs on.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/repl/repl.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "proto/strnum.h"

#define SCAN_WORKER_BITS 6

/* ---------------- SCAN ---------------- */

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
    int widx = (int)(cursor & ((1u << SCAN_WORKER_BITS) - 1)) % workers_count();
    if (ctx->client) {
        fanout_send_to_worker(ctx->client, dispatch_current_cmd(ctx->client), ctx->argc, ctx->argv, ctx->argvlen,
                              widx);
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
        while (nw < workers_count() && worker_stat(nw, WSTAT_KEYS) == 0) nw++;
        gnext = nw < workers_count() ? (unsigned long long)nw : 0;
    }
    resp_add_array(ctx->reply, 2);
    char nb[32];
    int l = snprintf(nb, sizeof nb, "%llu", gnext);
    resp_add_bulk(ctx->reply, nb, (size_t)l);
    resp_add_array(ctx->reply, acc.n);
    resp_buf_append(ctx->reply, keys.data, keys.len);
    resp_buf_free(&keys);
}

/* SCAN's fan-out is a forward to one worker, done by the handler itself. */
bool cmd_scan_start(cmd_ctx_t *ctx)
{
    cmd_scan(ctx);
    return true;
}

/* ---------------- DBSIZE ---------------- */

void cmd_dbsize(cmd_ctx_t *ctx) { resp_add_int(ctx->reply, (long long)ks_size(ctx->ks)); }

void cmd_dbsize_part(struct worker *w, struct remote_cmd *rc)
{
    rc->keys_delta = (long long)ks_size(worker_keyspace(w));
}

void cmd_dbsize_merge(struct reply_slot *s, const struct remote_cmd *rc) { s->sum += rc->keys_delta; }

void cmd_dbsize_reply(struct reply_slot *s) { resp_add_int(&s->buf, s->sum); }

/* ---------------- KEYS ---------------- */

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

void cmd_keys_part(struct worker *w, struct remote_cmd *rc)
{
    const queued_cmd_t *q = &rc->cmds[0];
    resp_bulk_list_t acc = { &rc->reply, 0 };
    ks_keys(worker_keyspace(w), q->argv[1], q->argvlen[1], rc->now_ms, resp_bulk_collect, &acc);
    rc->keys_delta = acc.n;
}

void cmd_keys_merge(struct reply_slot *s, const struct remote_cmd *rc)
{
    s->sum += rc->keys_delta;
    resp_buf_append(&s->acc, rc->reply.data, rc->reply.len);
}

void cmd_keys_reply(struct reply_slot *s)
{
    resp_add_array(&s->buf, s->sum);
    resp_buf_append(&s->buf, s->acc.data, s->acc.len);
}

/* ---------------- RANDOMKEY ---------------- */

void cmd_randomkey(cmd_ctx_t *ctx)
{
    resp_bulk_list_t acc = { ctx->reply, 0 };
    ks_random_key(ctx->ks, ctx->now_ms, resp_bulk_collect, &acc);
    if (!acc.n) resp_add_null(ctx->reply);
}

void cmd_randomkey_part(struct worker *w, struct remote_cmd *rc)
{
    resp_bulk_list_t acc = { &rc->reply, 0 };
    struct keyspace *ks = worker_keyspace(w);
    ks_random_key(ks, rc->now_ms, resp_bulk_collect, &acc);
    rc->keys_delta = acc.n ? (long long)ks_size(ks) : 0;   /* weight by size */
}

void cmd_randomkey_merge(struct reply_slot *s, const struct remote_cmd *rc)
{
    /* Reservoir choice weighted by each worker's key count. */
    if (rc->keys_delta > 0) {
        s->sum += rc->keys_delta;
        if (random() % s->sum < rc->keys_delta) {
            resp_buf_reset(&s->acc);
            resp_buf_append(&s->acc, rc->reply.data, rc->reply.len);
        }
    }
}

void cmd_randomkey_reply(struct reply_slot *s)
{
    if (s->acc.len) resp_buf_append(&s->buf, s->acc.data, s->acc.len);
    else resp_add_null(&s->buf);
}

/* ---------------- FLUSHALL, FLUSHDB ---------------- */

void cmd_flushall(cmd_ctx_t *ctx) { ks_flush(ctx->ks); ctx->dirty = true; resp_add_simple(ctx->reply, "OK"); }
void cmd_flushdb(cmd_ctx_t *ctx) { cmd_flushall(ctx); }

bool cmd_flush_start(cmd_ctx_t *ctx)
{
    if (ctx->argc > 2 || (ctx->argc == 2 && !arg_is_at(ctx, 1, "async") && !arg_is_at(ctx, 1, "sync"))) {
        resp_add_error(ctx->reply, "ERR syntax error");
        return true;
    }
    if (!repl_worker_propagates(worker_keyspace(ctx->worker))) return false;
    /* With replicas the flush is one point in the stream: the replication
     * actor runs it as a cut across all workers. The client stays blocked
     * (dispatch_defer_nosend) until the cut is done, so its next command
     * sees the empty keyspace, and the slot's completion unblocks it. */
    repl_request_flush(dispatch_defer_nosend(ctx, 0));
    return true;
}

void cmd_flush_part(struct worker *w, struct remote_cmd *rc)
{
    (void)rc;
    worker_flush_keyspace(w, false);
}

void cmd_flush_reply(struct reply_slot *s) { resp_add_simple(&s->buf, "OK"); }

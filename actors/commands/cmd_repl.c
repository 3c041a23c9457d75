/* cmd_repl.c - the client-side commands of replication: REPLCONF, PSYNC,
 * SYNC and WAIT. They run on the client's worker; PSYNC hands the connection
 * to the replication actor, WAIT asks it for a count once every worker has
 * handed over the writes this client made before (see repl.h).
 *
 * Must never: hand over a connection with replies still owed to it, or let
 * WAIT's target offset miss a write the same client made earlier.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/commands/timeout.h"
#include "actors/config/config.h"
#include "actors/repl/repl.h"
#include "actors/repl/standalone.h"
#include "actors/repl/repl_replica.h"
#include "actors/state/state.h"
#include "actors/worker/batch.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

#define PSYNC_PENDING_OUTPUT "ERR SYNC and PSYNC are invalid with pending output"

void cmd_replconf(cmd_ctx_t *ctx)
{
    client_t *c = ctx->client;
    if ((ctx->argc - 1) % 2 != 0 || ctx->argc < 3) {
        resp_add_error(ctx->reply, "ERR syntax error");
        return;
    }
    for (int i = 1; i < ctx->argc; i += 2) {
        const uint8_t *k = ctx->argv[i], *v = ctx->argv[i + 1];
        size_t kl = ctx->argvlen[i], vl = ctx->argvlen[i + 1];
        if (arg_is(k, kl, "listening-port")) {
            long long port;
            if (!arg_ll(v, vl, &port)) {
                resp_add_error(ctx->reply, "ERR value is not an integer or out of range");
                return;
            }
            c->repl_port = (int)port;
        } else if (arg_is(k, kl, "ip-address")) {
            if (vl >= sizeof c->repl_ip) {
                resp_add_errorf(ctx->reply, "ERR REPLCONF ip-address provided by replica instance is too long: %zu bytes",
                                vl);
                return;
            }
            memcpy(c->repl_ip, v, vl);
            c->repl_ip[vl] = '\0';
        } else if (arg_is(k, kl, "capa")) {
            if (arg_is(v, vl, "eof")) c->repl_capa |= REPL_CAPA_EOF;
            else if (arg_is(v, vl, "psync2")) c->repl_capa |= REPL_CAPA_PSYNC2;
        } else if (arg_is(k, kl, "ack") || arg_is(k, kl, "getack")) {
            return;   /* only meaningful on a replication link: no reply, as Redis */
        } else if (arg_is(k, kl, "rdb-only")) {
            /* accepted (tools); the stream is sent anyway */
        } else if (arg_is(k, kl, "rdb-filter-only")) {
            if (vl > 0 && !arg_is(v, vl, "functions")) {
                resp_add_errorf(ctx->reply, "ERR Unsupported rdb-filter-only option: %.*s", (int)vl, (const char *)v);
                return;
            }
        } else {
            resp_add_errorf(ctx->reply, "ERR Unrecognized REPLCONF option: %.*s", (int)kl, (const char *)k);
            return;
        }
    }
    resp_add_simple(ctx->reply, "OK");
}

static void start_sync(cmd_ctx_t *ctx, const char *replid, size_t idlen, long long offset, int extra_capa)
{
    client_t *c = ctx->client;
    const cluster_snapshot_t *s = worker_snapshot(ctx->worker);
    if (s && (s->nodes[s->myself].flags & NODE_SLAVE)) {
        /* A standalone replica serves replicas of its own while its link is
         * up, as Redis does: they get its master's history and stream. Its
         * cut holds the link's stream until the offset is fixed, and the link
         * files what it hands the workers at once (repl.h), so the RDB and
         * the stream after it meet exactly. A cluster replica serves none. */
        repl_replica_status_t st;
        repl_replica_status_get(&st);
        if (config_cluster_enabled() || st.state != RL_CONNECTED) {
            resp_add_error(ctx->reply, "NOMASTERLINK Can't SYNC while not connected with my master");
            return;
        }
    }
    /* As Redis (clientHasPendingReplies): replies owed to this client, or
     * written to its buffer but not yet taken by the socket, refuse the sync.
     * A peer that pipelined large replies and does not read would otherwise
     * hold the handover, and the worker with it. */
    if (c->pending_count > 0 || c->out_sent < c->out.len) {
        resp_add_error(ctx->reply, PSYNC_PENDING_OUTPUT);
        return;
    }
    repl_psync_msg_t *m = xcalloc(1, sizeof *m);
    if (c->repl_ip[0]) {
        snprintf(m->ip, sizeof m->ip, "%s", c->repl_ip);
    } else {   /* the peer address without its port */
        snprintf(m->ip, sizeof m->ip, "%.45s", c->addr);
        char *colon = strrchr(m->ip, ':');
        if (colon) *colon = '\0';
    }
    m->port = c->repl_port;
    m->capa = c->repl_capa | extra_capa;
    if (idlen > REPL_ID_LEN) idlen = REPL_ID_LEN;
    memcpy(m->replid, replid, idlen);
    m->replid[idlen] = '\0';
    m->offset = offset;
    m->client_id = c->id;
    m->conn.id = c->id;
    m->conn.fd = c->fd;
    m->conn.created_ms = c->created_ms;
    snprintf(m->conn.addr, sizeof m->conn.addr, "%s", c->addr);
    snprintf(m->conn.laddr, sizeof m->conn.laddr, "%s", c->laddr);
    snprintf(m->conn.name, sizeof m->conn.name, "%s", c->name);
    snprintf(m->conn.user, sizeof m->conn.user, "%s", c->acl_name ? c->acl_name : "default");
    m->fd = client_detach(c, &m->tls);
    if (m->fd < 0) {
        free(m);
        resp_add_error(ctx->reply, PSYNC_PENDING_OUTPUT);
        return;
    }
    LOG_NOTICE("Replica %s:%d asks for synchronization", m->ip, m->port);
    repl_hand_over_replica(m);
}

/* PSYNC <replid> <offset> FAILOVER from our master handing its role over
 * (7.0.15's coordinated FAILOVER): we become a master (the standalone
 * actor), then serve it as a replica of ours. Meanwhile the client reads no
 * further command. */
typedef struct psync_failover {
    worker_run_t run;             /* back to the client's worker: psync_failover_resume */
    worker_t *w;
    uint64_t client_id;
    long long offset;
    char replid[REPL_ID_LEN + 1];
} psync_failover_t;

static void psync_failover_resume(worker_t *w, rt_msg_t *msg)
{
    psync_failover_t *m = (psync_failover_t *)msg;
    client_t *c = worker_clients(w);
    while (c && c->id != m->client_id) c = c->next;
    if (c && !(c->flags & CLIENT_CLOSED)) {
        c->flags &= ~CLIENT_BLOCKED;
        /* outside a read section: no snapshot, and we are a master now */
        resp_buf_t *reply = client_reply_target(c);
        cmd_ctx_t ctx = { .client = c, .worker = w, .reply = reply, .now_ms = rt_now_ms() };
        start_sync(&ctx, m->replid, strlen(m->replid), m->offset, 0);
        if (!(c->flags & CLIENT_CLOSED) && c->fd >= 0) {
            client_schedule_write(c);
            client_process_input(c);
        }
    }
    free(m);
}

/* On the standalone actor's thread, once promoted. */
static void psync_failover_promoted(void *arg)
{
    psync_failover_t *m = arg;
    m->run.hdr.type = WMSG_RUN;
    m->run.fn = psync_failover_resume;
    worker_post(worker_index(m->w), &m->run.hdr);
}

static bool psync_failover(cmd_ctx_t *ctx, long long offset)
{
    const cluster_snapshot_t *s = worker_snapshot(ctx->worker);
    LOG_WARNING("Failover request received for replid %.*s.", (int)ctx->argvlen[1], (const char *)ctx->argv[1]);
    if (!s || !(s->nodes[s->myself].flags & NODE_SLAVE)) {
        resp_add_error(ctx->reply, "ERR PSYNC FAILOVER can't be sent to a master.");
        return true;
    }
    repl_status_t st;
    repl_status_get(&st);
    if (ctx->argvlen[1] != strlen(st.replid) || strncasecmp((const char *)ctx->argv[1], st.replid, ctx->argvlen[1])) {
        resp_add_error(ctx->reply, "ERR PSYNC FAILOVER replid must match my replid.");
        return true;
    }
    psync_failover_t *m = xcalloc(1, sizeof *m);
    m->w = ctx->worker;
    m->client_id = ctx->client->id;
    m->offset = offset;
    memcpy(m->replid, st.replid, sizeof m->replid);
    ctx->client->flags |= CLIENT_BLOCKED;
    standalone_promote(ctx->client->id, psync_failover_promoted, m);
    return true;
}

void cmd_psync(cmd_ctx_t *ctx)
{
    long long offset;
    if (!arg_ll(ctx->argv[2], ctx->argvlen[2], &offset)) {
        resp_add_error(ctx->reply, "ERR value is not an integer or out of range");
        return;
    }
    if (ctx->argc > 3 && arg_is_at(ctx, 3, "failover") && !config_cluster_enabled() && psync_failover(ctx, offset))
        return;
    if (sa_failover_state() != SA_FO_NONE) {   /* no replica syncs with a master handing over */
        resp_add_error(ctx->reply, "NOMASTERLINK Can't SYNC while failing over");
        return;
    }
    start_sync(ctx, (const char *)ctx->argv[1], ctx->argvlen[1], offset, 0);
}

/* SYNC, the protocol before PSYNC: always a full sync, the RDB sent with
 * its length and no +FULLRESYNC line before it, then the stream (Redis's
 * test suite reads a node's stream so). */
void cmd_sync(cmd_ctx_t *ctx)
{
    if (sa_failover_state() != SA_FO_NONE) {
        resp_add_error(ctx->reply, "NOMASTERLINK Can't SYNC while failing over");
        return;
    }
    start_sync(ctx, "", 0, -1, REPL_CAPA_PRE_PSYNC);
}

/* WAIT: a marker goes to every worker after the commands this client already
 * queued there; each hands over its buffered writes and, when the client's
 * marks count there, reads the mark it noted for the client's last call
 * (worker_woff_mark); the last one to see the marker passes the request on to
 * the replication actor, which turns the marks into the target offset
 * (repl.h, repl_wait_marks_t). */
typedef struct wait_mark {
    worker_run_t run;             /* WMSG_RUN: wait_mark_on_worker */
    _Atomic int *left;
    remote_cmd_t *rc;
    uint64_t client_id;
    bool own;                     /* to the client's own worker */
} wait_mark_t;

_Static_assert(MAX_WORKERS <= REPL_WAIT_WORKERS, "a WAIT mark per worker");

static void wait_mark_on_worker(worker_t *w, rt_msg_t *msg)
{
    wait_mark_t *m = (wait_mark_t *)msg;
    worker_repl_flush(w);
    repl_wait_marks_t *wm = m->rc->wait_marks;
    int i = worker_index(w);
    /* each marker writes its own slot; the acq_rel count below hands them all
     * to the last marker. The client's own worker read its mark in cmd_wait,
     * before WAIT's own call was noted there. */
    if ((wm->mask & (1ull << i)) && !m->own) wm->marks[i] = worker_woff_mark(w, m->client_id);
    if (atomic_fetch_sub_explicit(m->left, 1, memory_order_acq_rel) == 1) {
        free(m->left);
        repl_request_wait(m->rc, 0, 0);
    }
    free(m);
}

/* On the client's worker: the replication actor answered WAIT rc. */
static void wait_done(worker_t *w, rt_msg_t *msg)
{
    remote_cmd_t *rc = (remote_cmd_t *)msg;
    reply_slot_t *s = rc->slot;
    client_t *c = s->client;
    if (c->wait_rc == rc) c->wait_rc = NULL;
    if (!(c->flags & CLIENT_CLOSED)) {
        resp_buf_free(&s->buf);
        s->buf = rc->reply;
        resp_buf_init(&rc->reply, 2);
        if (rc->close_after_reply) c->flags |= CLIENT_CLOSE_AFTER_REPLY;   /* the node turned replica */
    }
    client_slot_done(w, s);
    remote_cmd_free(rc);
}

void cmd_wait(cmd_ctx_t *ctx)
{
    /* Redis's order: the role, the count, then the timeout (timeout.h: the
     * deadline the replication actor computes from it cannot overflow). */
    const cluster_snapshot_t *s = worker_snapshot(ctx->worker);
    if (s && (s->nodes[s->myself].flags & NODE_SLAVE)) {
        resp_add_error(ctx->reply, "ERR WAIT cannot be used with replica instances. Please also note that since "
                                   "Redis 4.0 if a replica is configured to be writable (which is not the default) "
                                   "writes to replicas are just local and are not propagated.");
        return;
    }
    long long n, timeout;
    if (!arg_ll(ctx->argv[1], ctx->argvlen[1], &n)) {
        resp_add_error(ctx->reply, "ERR value is not an integer or out of range");
        return;
    }
    const char *err = timeout_parse(ctx->argv[2], ctx->argvlen[2], TIMEOUT_MILLISECONDS, rt_now_ms(), &timeout);
    if (err) {
        resp_add_error(ctx->reply, err);
        return;
    }
    remote_cmd_t *rc = dispatch_defer_nosend(ctx, 0);   /* repl_request_wait sends it */
    rc->run.fn = wait_done;
    if (rc->slot->txn_part) {
        /* 7.0.15 never blocks inside EXEC: it answers with the replicas that
         * acknowledged the target already. rc is not sent yet: a plain store. */
        atomic_store_explicit(&rc->wait_end, REPL_WAIT_ANSWER_NOW, memory_order_relaxed);
    } else {
        /* 7.0.15 blocks the client: b in CLIENT LIST; its connection closing
         * or CLIENT UNBLOCK end the wait (blocking.c) */
        rc->slot->blocked = true;
        ctx->client->wait_rc = rc;
    }
    /* 7.0.15 waits for the offset the stream had after this client's last
     * called command (its woff, 0 before any): the workers its calls ran on
     * say which of their handovers that was (client.h, woff_workers) */
    rc->wait_marks = xcalloc(1, sizeof *rc->wait_marks);
    rc->wait_marks->whole = ctx->client->woff_whole;
    rc->wait_marks->mask = ctx->client->woff_whole ? 0 : ctx->client->woff_workers;
    /* the client's calls here all ran already (a keyed one of this worker
     * runs inline); read before this WAIT's own call is noted */
    int own = worker_index(ctx->worker);
    rc->wait_marks->marks[own] = worker_woff_mark(ctx->worker, ctx->client->id);
    _Atomic int *left = xmalloc(sizeof *left);
    atomic_init(left, workers_count());
    for (int i = 0; i < workers_count(); i++) {
        wait_mark_t *m = xcalloc(1, sizeof *m);
        m->run.hdr.type = WMSG_RUN;
        m->run.fn = wait_mark_on_worker;
        m->left = left;
        m->rc = rc;
        m->client_id = ctx->client->id;
        m->own = i == own;
        worker_send(ctx->worker, i, &m->run.hdr);
    }
}

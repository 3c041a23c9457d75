/* sa_failover.c - FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms] without
 * cluster mode: 7.0.15's coordinated failover, master side (standalone.h).
 *
 * The master holds its clients' writes (the failover pause, wpause.h), waits
 * until a replica (the one named, or any) has acknowledged the whole stream,
 * then follows it as its master with PSYNC <replid> <offset> FAILOVER, which
 * tells that replica to become a master first (7.0.15's syncCommand). The
 * pause ends when the target accepts the PSYNC; a refusal, ABORT or the
 * timeout (without FORCE) makes this node a master again. INFO shows the state
 * as master_failover_state.
 *
 * Runs on the replication thread, in the standalone actor (its messages and
 * its 100 ms timer) and in the replica link (which shares the thread).
 *
 * Must never: leave the write pause on once no failover is in progress, or
 * run in cluster mode (CLUSTER FAILOVER is the way there).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/failover/wpause.h"
#include "actors/repl/repl.h"
#include "actors/repl/standalone.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

/* relaxed: a state name for INFO and a gate for REPLICAOF; the standalone
 * actor is its one writer */
static _Atomic int g_state;
/* Read by the replica link (same thread) when it sends PSYNC. */
static struct {
    char host[256];               /* the target, "" until known */
    int port;
    long long end_ms;             /* 0: no timeout */
    bool force;
    rt_timer_t timer;
    bool timer_on;
    uint64_t fence_gen;           /* the write fence (repl_fence) that counts */
} F;

typedef struct fenced_msg {
    rt_msg_t hdr;                 /* SA_MSG_FENCED */
    uint64_t gen;
} fenced_msg_t;

int sa_failover_state(void) { return atomic_load_explicit(&g_state, memory_order_relaxed); }

const char *sa_failover_state_name(void)
{
    switch (sa_failover_state()) {
    case SA_FO_WAIT_SYNC: return "waiting-for-sync";
    case SA_FO_IN_PROGRESS: return "failover-in-progress";
    default: return "no-failover";
    }
}

bool sa_failover_psync_flag(void) { return sa_failover_state() == SA_FO_IN_PROGRESS; }

static void set_state(int s) { atomic_store_explicit(&g_state, s, memory_order_relaxed); }

static void clear_state(void)
{
    if (F.timer_on) rt_timer_stop(&F.timer);
    F.timer_on = false;
    F.fence_gen++;                /* a fence still under way no longer counts */
    F.host[0] = '\0';
    F.port = 0;
    F.end_ms = 0;
    F.force = false;
    set_state(SA_FO_NONE);
    wpause_until(0);              /* the clients' writes go on */
}

static void abort_failover(const char *why)
{
    if (sa_failover_state() == SA_FO_NONE) return;
    if (F.host[0]) LOG_NOTICE("FAILOVER to %s:%d aborted: %s", F.host, F.port, why);
    else LOG_NOTICE("FAILOVER to any replica aborted: %s", why);
    if (sa_failover_state() == SA_FO_IN_PROGRESS) standalone_follow(NULL, 0);
    clear_state();
}

void sa_failover_psync_result(bool accepted)
{
    if (sa_failover_state() != SA_FO_IN_PROGRESS) return;
    if (accepted) clear_state();
    else abort_failover("Failover target rejected psync request");
}

/* The replica (by address) and whether its acknowledged offset is ours. */
static const repl_replica_view_t *find_replica(const repl_status_t *st, const char *host, int port)
{
    for (int i = 0; i < st->nreplicas; i++)
        if (!strcasecmp(st->replicas[i].ip, host) && st->replicas[i].port == port) return &st->replicas[i];
    return NULL;
}

static void start_in_progress(const char *why_fmt)
{
    set_state(SA_FO_IN_PROGRESS);
    LOG_NOTICE(why_fmt, F.host, F.port);
    standalone_follow(F.host, F.port);   /* the link sends PSYNC ... FAILOVER */
}

/* 7.0.15's updateFailoverStatus, every 100 ms while waiting. */
static void tick(rt_timer_t *t, void *arg)
{
    (void)t;
    (void)arg;
    if (sa_failover_state() != SA_FO_WAIT_SYNC) return;
    if (F.end_ms && F.end_ms <= rt_now_ms()) {
        if (F.force) start_in_progress("FAILOVER to %s:%d time out exceeded, failing over.");
        else abort_failover("Replica never caught up before timeout");
        return;
    }
    repl_status_t st;
    repl_status_get(&st);
    const repl_replica_view_t *r = NULL;
    if (F.host[0]) {
        r = find_replica(&st, F.host, F.port);
    } else {
        for (int i = 0; i < st.nreplicas && !r; i++)
            if (st.replicas[i].offset == st.master_repl_offset) r = &st.replicas[i];
        if (r) {
            snprintf(F.host, sizeof F.host, "%s", r->ip);
            F.port = r->port;
        }
    }
    if (r && r->offset == st.master_repl_offset) start_in_progress("Failover target %s:%d is synced, failing over.");
}

/* FAILOVER with its arguments checked on the worker (rc->cmds[0]): the
 * checks that need the node's state, then the start. Standalone actor. */
void sa_failover_request(remote_cmd_t *rc, bool is_replica, rt_actor_t *self)
{
    queued_cmd_t *q = &rc->cmds[0];
    if (q->argc == 2 && arg_is(q->argv[1], q->argvlen[1], "abort")) {
        if (sa_failover_state() == SA_FO_NONE) {
            resp_add_error(&rc->reply, "ERR No failover in progress.");
        } else {
            abort_failover("Failover manually aborted");
            resp_add_simple(&rc->reply, "OK");
        }
        worker_reply_async(rc);
        return;
    }
    long long timeout = 0, port = 0;
    bool force = false;
    const uint8_t *host = NULL;
    size_t hostlen = 0;
    for (int j = 1; j < q->argc; j++) {   /* the worker parsed them already */
        if (arg_is(q->argv[j], q->argvlen[j], "timeout") && j + 1 < q->argc && timeout == 0) {
            arg_ll(q->argv[j + 1], q->argvlen[j + 1], &timeout);
            j++;
        } else if (arg_is(q->argv[j], q->argvlen[j], "to") && j + 2 < q->argc && !host) {
            host = q->argv[j + 1];
            hostlen = q->argvlen[j + 1] < sizeof F.host - 1 ? q->argvlen[j + 1] : sizeof F.host - 1;
            arg_ll(q->argv[j + 2], q->argvlen[j + 2], &port);
            j += 2;
        } else {
            force = true;
        }
    }
    repl_status_t st;
    repl_status_get(&st);
    const char *err = NULL;
    if (sa_failover_state() != SA_FO_NONE) err = "ERR FAILOVER already in progress.";
    else if (is_replica) err = "ERR FAILOVER is not valid when server is a replica.";
    else if (st.nreplicas == 0) err = "ERR FAILOVER requires connected replicas.";
    else if (force && (!timeout || !host))
        err = "ERR FAILOVER with force option requires both a timeout and target HOST and IP.";
    char hbuf[256] = "";
    if (!err && host) {
        memcpy(hbuf, host, hostlen);
        hbuf[hostlen] = '\0';
        const repl_replica_view_t *r = find_replica(&st, hbuf, (int)port);
        if (!r) err = "ERR FAILOVER target HOST and PORT is not a replica.";
        else if (strcmp(r->state, "online")) err = "ERR FAILOVER target replica is not online.";
    }
    if (err) {
        resp_add_error(&rc->reply, err);
        worker_reply_async(rc);
        return;
    }
    if (host) {
        snprintf(F.host, sizeof F.host, "%s", hbuf);
        F.port = (int)port;
        LOG_NOTICE("FAILOVER requested to %s:%lld.", hbuf, port);
    } else {
        LOG_NOTICE("FAILOVER requested to any replica.");
    }
    F.end_ms = timeout ? rt_now_ms() + timeout : 0;
    F.force = force;
    set_state(SA_FO_WAIT_SYNC);
    wpause_until(rt_mono_ms() + 100LL * 365 * 24 * 3600 * 1000);   /* until the failover ends */
    /* The wait for a synced replica begins once every write admitted before
     * the pause is in the stream (one may still run on another worker): the
     * offset compared is then final (repl_fence, as for CLUSTER FAILOVER). */
    fenced_msg_t *m = xcalloc(1, sizeof *m);
    m->hdr.type = SA_MSG_FENCED;
    m->gen = ++F.fence_gen;
    repl_fence(self, &m->hdr);
    resp_add_simple(&rc->reply, "OK");
    worker_reply_async(rc);
}

void sa_failover_fenced(rt_msg_t *msg)
{
    uint64_t gen = ((fenced_msg_t *)msg)->gen;
    free(msg);
    if (gen != F.fence_gen || sa_failover_state() != SA_FO_WAIT_SYNC || F.timer_on) return;
    rt_timer_start(&F.timer, repl_thread(), 100, 100, tick, NULL);
    F.timer_on = true;
}

/* The client's worker: 7.0.15's argument checks, in its order. */
void cmd_failover(cmd_ctx_t *ctx)
{
    if (config_cluster_enabled()) {
        resp_add_error(ctx->reply, "ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.");
        return;
    }
    if (!(ctx->argc == 2 && arg_is_at(ctx, 1, "abort"))) {
        long long timeout = 0, port;
        bool host = false, force = false;
        for (int j = 1; j < ctx->argc; j++) {
            if (arg_is_at(ctx, j, "timeout") && j + 1 < ctx->argc && timeout == 0) {
                if (!arg_ll_at(ctx, j + 1, &timeout)) return;
                if (timeout <= 0) {
                    resp_add_error(ctx->reply, "ERR FAILOVER timeout must be greater than 0");
                    return;
                }
                j++;
            } else if (arg_is_at(ctx, j, "to") && j + 2 < ctx->argc && !host) {
                if (!arg_ll_at(ctx, j + 2, &port)) return;
                host = true;
                j += 2;
            } else if (arg_is_at(ctx, j, "force") && !force) {
                force = true;
            } else {
                resp_add_error(ctx->reply, "ERR syntax error");
                return;
            }
        }
    }
    standalone_failover_send(ctx);
}

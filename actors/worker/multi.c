/* multi.c - MULTI / EXEC / DISCARD / WATCH / UNWATCH.
 *
 * In cluster mode every key of a transaction lives in one slot, hence on one
 * worker. EXEC ships the queued keyed commands to that worker as one message,
 * so they run back to back with nothing interleaved, and the WATCH check runs
 * in that same message, on the thread that owns the keys. Commands without
 * keys (e.g. CLUSTER subcommands, as Redis's own test harness sends inside
 * MULTI) run in order on the client's worker; the EXEC reply is assembled when
 * the last part is back.
 *
 * WATCH remembers each key with a version of its hash bucket (65536 buckets
 * per worker, bumped by every write to a key of the bucket), the worker's
 * flush epoch and the time, for the check of watch.h. A collision can only
 * make EXEC fail spuriously, never let a modified key through.
 *
 * Without cluster mode a transaction may use keys of several workers, and
 * WATCH keys of several: then each run of its keyed commands (the first one
 * together with the WATCH check) goes to xcmd.c, which parks those workers
 * and runs the run on the client's worker, atomically. Without cluster mode
 * PUBLISH is propagated; a transaction's PUBLISHes go to the stream with its
 * keyed run, in one MULTI ... EXEC (txn_publishes_travel).
 *
 * Must never: run queued commands of one transaction on two workers at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/repl/repl.h"
#include "actors/worker/acl_gate.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/xscript.h"
#include "actors/worker/client.h"
#include "actors/commands/commands.h"
#include "actors/worker/blocking.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/wdb.h"
#include "actors/worker/evict.h"
#include "actors/worker/pubsub.h"
#include "actors/worker/tracking.h"
#include "actors/worker/xcmd.h"
#include "actors/config/config.h"
#include "actors/state/state.h"
#include "proto/slot.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

typedef struct txn {
    reply_slot_t *exec_slot;      /* the EXEC reply in the client's FIFO */
    resp_buf_t acc;               /* replies of the commands run so far */
    int next;                     /* next queued command to run */
    int replies;
    bool waiting;
    bool running;                 /* handlers are executing synchronously */
    bool aborted;                 /* WATCH failed */
    bool watch_checked;
    bool open_check;              /* the slot is being moved: check key presence first */
    bool route_failed;            /* that check refused: acc holds EXEC's error */
    uint64_t routed_version;      /* the snapshot EXEC was routed with: its parts are checked again */
    uint64_t route_id;            /* the client's id with its caching decision at EXEC (tracking.h) */
    queued_cmd_t *cmds;
    int ncmds;
    int slot;
    watch_list_t watch;
    int watch_slot;
    bool multi;                   /* standalone, keys or WATCHes on several workers: parts run by xcmd.c */
    uint64_t link_floor;          /* a part closed a bus link: links from this id on are newer (0: none) */
    /* Standalone: PUBLISHes alone or around one run of keyed commands,
     * [run_first, run_last] (-1: none), propagated with the run
     * (txn_publishes_travel). carried: they are in the stream or on their way. */
    bool pub_travel, pub_carried;
    int run_first, run_last;
    txn_view_t view;              /* as CLIENT INFO shows the client meanwhile (txn_client_view) */
} txn_t;

static void unwatch(client_t *c)
{
    watch_list_clear(&c->watch);
    c->watch_slot = -1;
    c->watch_multi = false;
}

bool multi_watch_touched(const client_t *c)
{
    /* relaxed reads: each owner bumps its own; a write whose reply the
     * asker has seen is visible here already */
    return watch_list_touched(&c->watch);
}

void multi_reset(client_t *c)
{
    for (int i = 0; i < c->mq_len; i++) queued_cmd_free(&c->mq[i]);
    c->mq_len = 0;
    c->multi_slot = -1;
    c->flags &= ~(CLIENT_MULTI | CLIENT_DIRTY_EXEC);
}

const char *multi_oom_refusal(client_t *c, const cmd_def_t *cmd)
{
    const char *name = cmd->parent ? "" : cmd->name;
    bool exec = strcmp(name, "exec") == 0;
    if (exec || strcmp(name, "discard") == 0 || strcmp(name, "quit") == 0 || strcmp(name, "reset") == 0) {
        bool denyoom = false;
        for (int i = 0; exec && i < c->mq_len; i++) denyoom |= (c->mq[i].cmd->flags & CMD_DENYOOM) != 0;
        if (!denyoom) return NULL;
    }
    if (!evict_refuses(c->worker->cur, true)) return NULL;
    if (!exec) {
        c->flags |= CLIENT_DIRTY_EXEC;
        return EVICT_OOM_ERROR;
    }
    multi_reset(c);
    unwatch(c);
    return "EXECABORT Transaction discarded because of: " EVICT_OOM_ERROR;
}

/* A command refused before it runs (err: -BUSY while a script is busy), as
 * 7.0.15's rejectCommand: inside MULTI the transaction fails at EXEC, and an
 * EXEC refused so discards it, answering EXECABORT with err. Returns the error
 * to answer: err, or the EXECABORT text (a thread-local buffer, valid until the
 * next call on this thread). */
const char *multi_refused(client_t *c, const cmd_def_t *cmd, const char *err)
{
    if (!(c->flags & CLIENT_MULTI)) return err;
    if (!cmd || cmd->parent || strcmp(cmd->name, "exec") != 0) {
        c->flags |= CLIENT_DIRTY_EXEC;
        return err;
    }
    multi_reset(c);
    unwatch(c);
    static _Thread_local char text[256];
    snprintf(text, sizeof text, "EXECABORT Transaction discarded because of: %s", err);
    return text;
}

void multi_queue(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    int slot = -1;
    if (!dispatch_route_for_multi(c, cmd, argc, argv, argvlen, &slot)) {
        c->flags |= CLIENT_DIRTY_EXEC;
        return;
    }
    if (slot >= 0) c->multi_slot = slot;
    if (c->mq_len == c->mq_cap) {
        int ncap = c->mq_cap ? c->mq_cap * 2 : 8;
        queued_cmd_t *n = xrealloc(c->mq, sizeof *n * (size_t)ncap);
        c->mq = n;
        c->mq_cap = ncap;
    }
    queued_cmd_copy(&c->mq[c->mq_len++], cmd, argc, argv, argvlen);
    const cluster_snapshot_t *s = c->worker->cur;
    if (slot >= 0 && s->open_slots > 0 && cmd->exec == CMD_EXEC_KEYED &&
        ((s->slot_owner[slot] == s->myself && s->migrating_to[slot] >= 0) ||
         (s->slot_owner[slot] != s->myself && s->importing_from[slot] >= 0))) {
        /* A slot being moved: whether it queues (+QUEUED) or is refused
         * (-ASK, -TRYAGAIN, dooming the EXEC) depends on its keys, which the
         * slot's worker judges; the client reads nothing more meanwhile. */
        remote_cmd_t *rc = remote_cmd_new(c, 0, client_defer_reply(c), WMSG_EXEC, rt_now_ms());
        rc->queue_check = true;
        rc->ncheck = 1;
        rc->check_cmds = xcalloc(1, sizeof *rc->check_cmds);
        queued_cmd_copy(&rc->check_cmds[0], cmd, argc, argv, argvlen);
        rc->slot->blocks_client = true;
        c->flags |= CLIENT_BLOCKED;
        worker_send(c->worker, worker_of_slot((unsigned)slot), &rc->hdr);
        return;
    }
    resp_add_simple(client_reply_target(c), "QUEUED");
}

void cmd_multi(cmd_ctx_t *ctx)
{
    client_t *c = ctx->client;
    if (c->flags & CLIENT_MULTI) {
        resp_add_error(ctx->reply, "ERR MULTI calls can not be nested");
        return;
    }
    c->flags |= CLIENT_MULTI;
    c->multi_slot = -1;
    resp_add_simple(ctx->reply, "OK");
}

void cmd_discard(cmd_ctx_t *ctx)
{
    client_t *c = ctx->client;
    if (!(c->flags & CLIENT_MULTI)) {
        resp_add_error(ctx->reply, "ERR DISCARD without MULTI");
        return;
    }
    multi_reset(c);
    unwatch(c);
    resp_add_simple(ctx->reply, "OK");
}

void cmd_unwatch(cmd_ctx_t *ctx)
{
    unwatch(ctx->client);
    resp_add_simple(ctx->reply, "OK");
}

void cmd_watch(cmd_ctx_t *ctx)
{
    client_t *c = ctx->client;
    if (c->flags & CLIENT_MULTI) {
        resp_add_error(ctx->reply, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    int slot = -1;
    const cmd_def_t *cmd = dispatch_current_cmd(c);
    if (config_cluster_enabled()) {
        /* WATCH runs on the client's worker (its table entry is not keyed), so
         * routing does not compare its keys: in cluster mode they must share a
         * slot, as 7.0.15 checks every keyed command. */
        unsigned first = slot_of_key(ctx->argv[1], ctx->argvlen[1]);
        for (int i = 2; i < ctx->argc; i++) {
            if (slot_of_key(ctx->argv[i], ctx->argvlen[i]) != first) {
                resp_add_error(ctx->reply, "CROSSSLOT Keys in request don't hash to the same slot");
                return;
            }
        }
    }
    if (!dispatch_route_for_multi(c, cmd, ctx->argc, ctx->argv, ctx->argvlen, &slot)) return;
    if (config_cluster_enabled() && slot >= 0 && c->watch_slot >= 0 && slot != c->watch_slot) {
        resp_add_error(ctx->reply, "CROSSSLOT Keys in request don't hash to the same slot");
        return;
    }
    if (slot < 0) slot = (int)slot_of_key(ctx->argv[1], ctx->argvlen[1]);
    if (c->watch.n == 0) c->watch_slot = slot;
    int first = worker_of_slot((unsigned)c->watch_slot);
    long long now_ms = rt_now_ms();
    for (int i = 1; i < ctx->argc; i++) {
        /* Without cluster mode the keys of one WATCH may live on several
         * workers: each is versioned by its own (one worker in cluster mode). */
        watch_list_add(&c->watch, c->db, ctx->argv[i], ctx->argvlen[i], now_ms);
        if (c->watch.keys[c->watch.n - 1].worker != first) c->watch_multi = true;
    }
    resp_add_simple(ctx->reply, "OK");
}

static bool is_publish(const cmd_def_t *cmd) { return cmd->handler == cmd_publish || cmd->handler == cmd_spublish; }

/* Standalone, a transaction of PUBLISH or SPUBLISH calls, alone or around
 * one run of keyed commands: 7.0.15 wraps all of their effects in one
 * MULTI ... EXEC. Here the PUBLISHes run on the client's worker (they deliver
 * and count from there), the run on its keys' worker, and a PUBLISH that
 * waits for other workers' counts ends the worker's step, so each worker's
 * own wrap would split them. Instead the PUBLISHes are not propagated where
 * they run but all at once, in their places, with the run: by the run's part
 * on the worker that runs it, or here when it runs here (without a run, just
 * before the last one runs). Other shapes keep each part's own wrap. */
static bool txn_publishes_travel(txn_t *t)
{
    if (config_cluster_enabled() || t->multi || t->ncmds < 2) return false;
    int first = -1, last = -1, publishes = 0;
    for (int i = 0; i < t->ncmds; i++) {
        const cmd_def_t *cmd = t->cmds[i].cmd;
        if (cmd->exec == CMD_EXEC_KEYED) {
            if (first >= 0 && last != i - 1) return false;   /* two runs: two parts */
            if (first < 0) first = i;
            last = i;
        } else if (is_publish(cmd)) {
            publishes++;
        } else {
            return false;
        }
    }
    t->run_first = first;
    t->run_last = last;
    return publishes > 0;
}

static queued_cmd_t *copy_cmds(const txn_t *t, int from, int to, int *n)
{
    *n = to > from ? to - from : 0;
    queued_cmd_t *q = *n ? xcalloc((size_t)*n, sizeof *q) : NULL;
    for (int i = 0; i < *n; i++) {
        const queued_cmd_t *s = &t->cmds[from + i];
        queued_cmd_copy(&q[i], s->cmd, s->argc, s->argv, s->argvlen);
    }
    return q;
}

/* The run's part leaves for its keys' worker: it takes the PUBLISHes along. */
static void txn_carry_publishes(txn_t *t, remote_cmd_t *rc)
{
    if (!t->pub_travel || t->pub_carried || rc->ncmds == 0 || t->next != t->run_first) return;
    t->pub_carried = true;
    rc->prop_before = copy_cmds(t, 0, t->run_first, &rc->nprop_before);
    rc->prop_after = copy_cmds(t, t->run_last + 1, t->ncmds, &rc->nprop_after);
}

/* In the client's database `db`, as the PUBLISH running would have been. */
static void propagate_publishes(worker_t *w, int db, const queued_cmd_t *q, int n)
{
    if (n == 0 || !repl_worker_propagates(w->ks)) return;
    int entry_db = wdb_use(w, db);
    for (int i = 0; i < n; i++) repl_propagate_replicas_only(w->repl, q[i].argc, q[i].argv, q[i].argvlen);
    wdb_use(w, entry_db);
}

/* Command `at` runs here (`ran`: it just did), inside this step's MULTI. */
static void txn_publishes_here(client_t *c, txn_t *t, int at, bool ran)
{
    if (!t->pub_travel || t->pub_carried) return;
    if (t->run_first < 0) {                 /* PUBLISHes only: all of them before the last */
        if (ran || at != t->ncmds - 1) return;
        propagate_publishes(c->worker, c->db, t->cmds, t->ncmds);
        t->pub_carried = true;
    } else if (!ran && at == t->run_first) {
        propagate_publishes(c->worker, c->db, t->cmds, t->run_first);
    } else if (ran && at == t->run_last) {
        propagate_publishes(c->worker, c->db, t->cmds + t->run_last + 1, t->ncmds - t->run_last - 1);
        t->pub_carried = true;
    }
}

void txn_part_begin(worker_t *w, const remote_cmd_t *rc)
{
    repl_multi_begin(w->repl);
    propagate_publishes(w, rc->db, rc->prop_before, rc->nprop_before);
}

void txn_part_end(worker_t *w, const remote_cmd_t *rc)
{
    propagate_publishes(w, rc->db, rc->prop_after, rc->nprop_after);
    repl_multi_end(w->repl);
}

void txn_part_free_publishes(remote_cmd_t *rc)
{
    for (int i = 0; i < rc->nprop_before; i++) queued_cmd_free(&rc->prop_before[i]);
    for (int i = 0; i < rc->nprop_after; i++) queued_cmd_free(&rc->prop_after[i]);
    free(rc->prop_before);
    free(rc->prop_after);
}

bool txn_publish_travels(const client_t *c)
{
    return c && c->txn && c->txn->running && c->txn->pub_travel;
}

static void txn_free(txn_t *t)
{
    watch_list_clear(&t->watch);
    for (int i = 0; i < t->ncmds; i++) queued_cmd_free(&t->cmds[i]);
    free(t->cmds);
    resp_buf_free(&t->acc);
    free(t);
}

static void txn_finish(client_t *c)
{
    txn_t *t = c->txn;
    c->txn = NULL;
    reply_slot_t *s = t->exec_slot;
    if (t->route_failed) {
        resp_buf_append(&s->buf, t->acc.data, t->acc.len);
    } else if (t->aborted) {
        resp_add_null_array(&s->buf);
    } else {
        resp_add_array(&s->buf, t->replies);
        resp_buf_append(&s->buf, t->acc.data, t->acc.len);
    }
    txn_free(t);
    client_slot_done(c->worker, s);
}

static void txn_step_inner(client_t *c);

/* Before a part leaves for another worker: the effects of the commands run
 * here so far go to the stream first (a PUBLISH without cluster mode, then
 * a SET of another worker's key: the replicas get them in that order, as
 * 7.0.15's one MULTI ... EXEC has them; parts of several workers are not
 * wrapped together, but PUBLISHes may travel with the part instead:
 * txn_publishes_travel). Nothing to do when nothing ran here. */
static void txn_flush_here(worker_t *w)
{
    repl_multi_end(w->repl);
    repl_flush(w->repl);
    repl_multi_begin(w->repl);
}

/* Sends the transaction's commands [t->next, end) to worker `to` as one part
 * whose replies come back in one slot; with `watch`, that worker checks the
 * WATCHed key versions first (and the part may hold no command at all). */
static void txn_send_part(client_t *c, int to, int end, bool watch, bool check)
{
    txn_t *t = c->txn;
    remote_cmd_t *rc = remote_cmd_new(c, end - t->next, NULL, WMSG_EXEC, rt_now_ms());
    rc->is_exec = true;
    rc->client_id = t->route_id;   /* its reads are the client's, for client-side caching */
    /* Checked again where it runs, as a single command is, while nothing of
     * it has run yet (its -MOVED is then the whole reply, as 7.0.15's). A
     * later part (keyless commands ran here in between) is not: refusing it
     * would answer an error for a transaction partly applied. */
    if (t->replies == 0) rc->routed_version = t->routed_version;
    if (check) {
        /* Every queued command, before any of them moves into the part. */
        rc->ncheck = t->ncmds;
        rc->check_cmds = xcalloc((size_t)t->ncmds, sizeof *rc->check_cmds);
        for (int k = 0; k < t->ncmds; k++)
            queued_cmd_copy(&rc->check_cmds[k], t->cmds[k].cmd, t->cmds[k].argc, t->cmds[k].argv, t->cmds[k].argvlen);
    }
    if (watch) watch_list_copy(&rc->watch, &t->watch);
    for (int k = 0; k < rc->ncmds; k++) {
        rc->cmds[k] = t->cmds[t->next + k];
        t->cmds[t->next + k].argv = NULL;   /* moved */
    }
    txn_carry_publishes(t, rc);
    t->replies += rc->ncmds;
    t->next = end;
    rc->slot = client_defer_reply(c);
    txn_flush_here(c->worker);
    worker_send(c->worker, to, &rc->hdr);
}

/* Standalone, keys on several workers: the run of keyed commands [t->next,
 * end) goes to xcmd.c, which parks every worker keeping one of their keys
 * (and, with `watch`, of the WATCHed keys, checked first) and runs them here
 * as one atomic part. */
static void txn_send_xpart(client_t *c, int end, bool watch)
{
    txn_t *t = c->txn;
    remote_cmd_t *rc = remote_cmd_new(c, end - t->next, NULL, WMSG_RUN, rt_now_ms());
    rc->is_exec = true;
    rc->client_id = t->route_id;
    uint64_t mask = 0;
    if (watch) {
        watch_list_copy(&rc->watch, &t->watch);
        for (int i = 0; i < t->watch.n; i++) mask |= 1ULL << t->watch.keys[i].worker;
    }
    for (int k = 0; k < rc->ncmds; k++) {
        rc->cmds[k] = t->cmds[t->next + k];
        t->cmds[t->next + k].argv = NULL;   /* moved */
        mask |= xcmd_workers_of(&rc->cmds[k]);
    }
    t->replies += rc->ncmds;
    t->next = end;
    rc->slot = client_defer_reply(c);
    txn_flush_here(c->worker);
    xcmd_post(c->worker, c->worker->index, rc, mask);
}

/* Runs the transaction forward until it must wait for another actor or ends.
 * The effects of the commands run here in one go leave as one MULTI ... EXEC
 * (parts run on another worker are wrapped there). */
static void txn_step(client_t *c)
{
    worker_t *w = c->worker;
    repl_multi_begin(w->repl);
    blocking_hold(w, true);       /* waiting clients are served once the commands run here end */
    txn_step_inner(c);
    repl_multi_end(w->repl);
    xscript_end(w);               /* a script of it reached other workers' keys: they go on now */
    blocking_hold(w, false);
}

static void txn_step_inner(client_t *c)
{
    txn_t *t = c->txn;
    worker_t *w = c->worker;
    int owner = t->slot >= 0 ? worker_of_slot((unsigned)t->slot) : -1;
    while (!t->waiting && !t->aborted) {
        if (t->multi) {
            bool need_watch = !t->watch_checked && t->watch.n > 0;
            if (need_watch || (t->next < t->ncmds && t->cmds[t->next].cmd->exec == CMD_EXEC_KEYED)) {
                int j = t->next;
                while (j < t->ncmds && t->cmds[j].cmd->exec == CMD_EXEC_KEYED) j++;
                t->watch_checked = true;
                txn_send_xpart(c, j, need_watch);
                return;
            }
        }
        /* A slot being moved: the keys' presence decides whether the whole
         * transaction runs (-ASK, -TRYAGAIN), before WATCH, on their worker. */
        if (t->open_check) {
            t->open_check = false;
            if (owner == w->index) {
                char err[256];
                if (!dispatch_open_slot_check(w, t->cmds, t->ncmds, err, sizeof err)) {
                    resp_add_error(&t->acc, err);
                    t->route_failed = t->aborted = true;
                    break;
                }
            } else {
                int j = t->next;
                while (j < t->ncmds && t->cmds[j].cmd->exec == CMD_EXEC_KEYED) j++;
                bool watch = !t->watch_checked && t->watch.n > 0 && worker_of_slot((unsigned)t->watch_slot) == owner;
                if (watch) t->watch_checked = true;
                txn_send_part(c, owner, j, watch, true);
                return;
            }
        }
        /* The WATCH check comes first, on the worker that owns the keys. */
        if (!t->watch_checked && t->watch.n > 0) {
            int wowner = worker_of_slot((unsigned)t->watch_slot);
            if (wowner == w->index) {
                t->watch_checked = true;
                if (!watch_list_ok(&t->watch, rt_now_ms(), 1ULL << w->index)) { t->aborted = true; break; }
            } else {
                /* Check there, together with the leading keyed commands if they live there too. */
                int j = t->next;
                if (wowner == owner)
                    while (j < t->ncmds && t->cmds[j].cmd->exec == CMD_EXEC_KEYED) j++;
                t->watch_checked = true;
                txn_send_part(c, wowner, j, true, false);
                return;
            }
        }
        if (t->next >= t->ncmds) break;
        queued_cmd_t *q = &t->cmds[t->next];
        if (q->cmd->exec == CMD_EXEC_KEYED && owner == w->index && t->replies == 0) {
            /* The keys are here, but EXEC was routed a while ago (it waited
             * for a WATCH check elsewhere): checked again, as a part sent to
             * another worker is (txn_send_part). */
            char err[256];
            if (!dispatch_txn_owner_ok(w, t->cmds + t->next, t->ncmds - t->next, t->routed_version, err,
                                       sizeof err)) {
                resp_add_error(&t->acc, err);
                t->route_failed = t->aborted = true;
                break;
            }
        }
        if (q->cmd->exec == CMD_EXEC_KEYED && owner >= 0 && owner != w->index) {
            int j = t->next;
            while (j < t->ncmds && t->cmds[j].cmd->exec == CMD_EXEC_KEYED) j++;
            txn_send_part(c, owner, j, false, false);
            return;
        }
        t->next++;
        t->replies++;
        if (q->cmd->exec == CMD_EXEC_FANOUT) {
            dispatch_fanout(c, q->cmd, q->argc, q->argv, q->argvlen);
            continue;   /* the fan-out deferred a part: waiting is set */
        }
        txn_publishes_here(c, t, t->next - 1, false);
        t->running = true;
        dispatch_run_local(w, c, q->cmd, q->argc, q->argv, q->argvlen, &t->acc, rt_now_ms());
        t->running = false;
        txn_publishes_here(c, t, t->next - 1, true);
    }
    if (!t->waiting) txn_finish(c);
}

/* A deferred part of a running transaction came back. */
void txn_part_done(client_t *c, reply_slot_t *s)
{
    txn_t *t = c->txn;
    if (!t) { resp_buf_free(&s->buf); free(s); return; }
    t->waiting = false;
    /* the first close counts: a link opened after it is newer than the whole transaction */
    if (s->link_floor && !t->link_floor) t->link_floor = s->link_floor;
    if (s->route_failed) {
        resp_buf_reset(&t->acc);
        resp_buf_append(&t->acc, s->buf.data, s->buf.len);
        t->route_failed = t->aborted = true;
    } else if (s->watch_failed) {
        t->aborted = true;
    } else {
        resp_buf_append(&t->acc, s->buf.data, s->buf.len);
    }
    resp_buf_free(&s->buf);
    resp_buf_free(&s->acc);
    free(s);
    /* A client that closed meanwhile is kept until EXEC's slot is done: the
     * rest runs as if it were still there (7.0.15's EXEC runs whole, whatever
     * the client does after sending it), and its replies go nowhere.
     * A part's reply arrives outside any client input pass: the commands run
     * next read the slot table (SPUBLISH's shard, routing), so they get the
     * snapshot a command read from the socket would. */
    worker_snap_enter(c->worker);
    txn_step(c);
    worker_snap_leave(c->worker);
}

/* client.h hooks: while a transaction runs, replies go to its accumulator. */
resp_buf_t *txn_reply_target(client_t *c)
{
    return (c->txn && c->txn->running) ? &c->txn->acc : NULL;
}

uint64_t txn_link_floor(const client_t *c)
{
    return c->txn ? c->txn->link_floor : 0;
}

reply_slot_t *txn_defer(client_t *c)
{
    txn_t *t = c->txn;
    if (!t || t->waiting) return NULL;
    reply_slot_t *s = xcalloc(1, sizeof *s);
    s->client = c;
    s->txn_part = true;
    resp_buf_init(&s->buf, c->proto);
    t->waiting = true;
    return s;
}

/* 7.0.15's multi-mem: each queued command's argument bytes and a pointer per argument. */
size_t multi_mem(const client_t *c)
{
    size_t mem = 0;
    for (int i = 0; (c->flags & CLIENT_MULTI) && i < c->mq_len; i++) {
        mem += sizeof(void *) * (size_t)c->mq[i].argc;
        for (int j = 0; j < c->mq[i].argc; j++) mem += c->mq[i].argvlen[j];
    }
    return mem;
}

bool txn_client_view(const client_t *c, txn_view_t *v)
{
    const txn_t *t = c->txn;
    if (!t) return false;
    *v = t->view;
    /* the array header (the same in RESP3) and the replies so far */
    char head[32];
    v->obl = (size_t)snprintf(head, sizeof head, "*%d\r\n", t->ncmds) + t->acc.len;
    return true;
}

void cmd_exec(cmd_ctx_t *ctx)
{
    client_t *c = ctx->client;
    if (!(c->flags & CLIENT_MULTI)) {
        resp_add_error(ctx->reply, "ERR EXEC without MULTI");
        return;
    }
    /* Routing first (CROSSSLOT, MOVED, READONLY over the queued commands),
     * then EXECABORT: 7.0.15 checks the cluster and replica rules on EXEC
     * before EXEC itself looks at the errors seen while queuing. */
    char err[512];
    if (!dispatch_route_check_exec(c, err, sizeof err)) {
        resp_add_error(ctx->reply, err);
        multi_reset(c);
        unwatch(c);
        return;
    }
    if (c->flags & CLIENT_DIRTY_EXEC) {
        resp_add_error(ctx->reply, "EXECABORT Transaction discarded because of previous errors.");
        multi_reset(c);
        unwatch(c);
        return;
    }
    acl_gate_recheck_exec(c, c->mq, c->mq_len);
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) return;
    txn_t *t = xcalloc(1, sizeof *t);
    resp_buf_init(&t->acc, c->proto);
    t->cmds = c->mq;
    t->ncmds = c->mq_len;
    t->slot = c->multi_slot;
    t->routed_version = c->worker->cur ? c->worker->cur->version : 0;
    t->route_id = tracking_route_id(c);   /* CLIENT CACHING before MULTI covers the whole transaction */
    t->watch = c->watch;          /* moved: unwatch below finds it empty */
    c->watch = (watch_list_t){ 0 };
    t->watch_slot = c->watch_slot;
    /* Without cluster mode a transaction may use keys (and WATCH keys) of
     * several workers: its keyed parts then run with those workers parked. */
    t->multi = !config_cluster_enabled() &&
               (c->multi_slot == -2 ||
                (t->watch.n > 0 && (c->watch_multi || (c->multi_slot >= 0 && worker_of_slot((unsigned)c->watch_slot) !=
                                                                              worker_of_slot((unsigned)c->multi_slot)))));
    if (t->multi) t->slot = -1;
    t->pub_travel = txn_publishes_travel(t);
    if (t->slot >= 0) {
        const cluster_snapshot_t *s = c->worker->cur;
        int owner = s->slot_owner[t->slot];
        t->open_check = s->open_slots > 0 && ((owner == s->myself && s->migrating_to[t->slot] >= 0) ||
                                              (owner != s->myself && s->importing_from[t->slot] >= 0));
    }
    t->view.queued = c->mq_len;
    t->view.multi_mem = multi_mem(c);
    t->view.qbuf = c->qlen - c->qpos;
    t->view.argv_mem = c->argv_mem;
    c->mq = NULL;
    c->mq_len = c->mq_cap = 0;
    multi_reset(c);
    unwatch(c);
    /* The EXEC reply takes its place in the FIFO now; parts fill it later. */
    t->exec_slot = client_defer_reply(c);
    if (t->multi) {
        /* Its parts run when their barrier comes round: the client's next
         * commands, which may run here inline, wait for the EXEC. */
        t->exec_slot->blocks_client = true;
        c->flags |= CLIENT_BLOCKED;
    }
    c->txn = t;
    txn_step(c);
    /* Still waiting for a part run on another worker: the client reads
     * nothing more until the EXEC reply is complete. A pipelined MULTI ...
     * EXEC read meanwhile would start a second transaction over this one. */
    if (c->txn && !t->exec_slot->blocks_client) {
        t->exec_slot->blocks_client = true;
        c->flags |= CLIENT_BLOCKED;
    }
}

uint64_t multi_keys_left_alone(const cmd_def_t *cmd, const cmd_ctx_t *ctx)
{
    if (cmd->handler != cmd_smove || !watch_anyone()) return 0;
    return cmd_smove_dst_has(ctx->ks, ctx->argc, ctx->argv, ctx->argvlen, ctx->now_ms) ? 1ull << 1 : 0;
}

void multi_bump_key_versions(worker_t *w, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                             uint64_t unwritten)
{
    if (!watch_anyone()) return;   /* nobody reads them now (watch.h) */
    int pos[512];
    int n = cmd_get_keys(cmd, argc, argv, argvlen, pos, 512);
    for (int i = 0; i < n; i++) {
        if (i < 64 && (unwritten >> i) & 1) continue;
        uint32_t b = wdb_watch_bucket(w->cur_db, argv[pos[i]], argvlen[pos[i]]);
        /* Only the owner thread writes its versions (others read them relaxed):
         * a plain load and store, no locked read-modify-write on the hot path. */
        _Atomic uint64_t *v = (_Atomic uint64_t *)&w->key_versions[b];
        atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + 1, memory_order_relaxed);
    }
}

uint32_t dispatch_watch_bucket(const uint8_t *key, size_t len)
{
    /* FNV-1a; only needs to spread keys over the buckets. */
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) { h ^= key[i]; h *= 16777619u; }
    return h & 0xffff;
}

/* xcmd.c - standalone mode: a command, or a part of a transaction, whose keys
 * several workers keep, run atomically on one worker while the others wait.
 *
 * Redis without cluster mode runs MSET a 1 b 2, RENAME a b, SUNIONSTORE d a b
 * or MULTI ... EXEC over any keys; here each key belongs to the worker of its
 * slot. Instead of teaching every command about several keyspaces, the
 * dispatcher sends such a call here: every involved worker but one (the
 * executor, the client's worker) gets a park message and, at that point of its
 * mailbox, hands over its buffered replication effects and waits; once all
 * have arrived the executor moves the call's keys from their owners' keyspaces
 * into its own (ks_move), runs the call unchanged, moves the keys back, hands
 * its effects to the replication actor, and releases the others. So the call
 * is atomic for every other client and its effect sits in the stream between
 * the writes made before and after it, as in Redis.
 *
 * Deadlock freedom: every message that parks a worker (these, and the
 * replication actor's cuts) is posted under one lock (workers_barrier_lock),
 * so all workers meet barriers in one global order and the oldest unfinished
 * barrier always completes. A worker only ever waits inside such a message.
 *
 * Must never: touch a worker's keyspace unless that worker is parked at this
 * call's barrier, release a party before the executor's effects are handed
 * over, or post a parking message outside the barrier lock.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/repl/repl.h"
#include "actors/worker/blocking.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/wdb.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/load_apply.h"
#include "actors/worker/tracking.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/xcmd.h"
#include "actors/worker/xscript.h"
#include "actors/worker/xwait.h"
#include "proto/slot.h"
#include "runtime/xmalloc.h"

static pthread_mutex_t g_barrier_mu = PTHREAD_MUTEX_INITIALIZER;

void workers_barrier_lock(void) { pthread_mutex_lock(&g_barrier_mu); }
void workers_barrier_unlock(void) { pthread_mutex_unlock(&g_barrier_mu); }

struct xbar {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int parties;                  /* workers to park (the executor excluded) */
    int arrived;
    bool released;
    uint64_t mask;                /* every worker of it, the executor too (xscript.h) */
    _Atomic int refs;             /* parties + the executor; the last one frees */
};

typedef struct xpark {
    worker_run_t run;
    struct xbar *bar;
} xpark_t;

static void bar_unref(struct xbar *b)
{
    /* acq_rel: the last owner sees every other's use of the barrier done */
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1) return;
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
}

/* ---------------- keys of a call ---------------- */

/* The key positions of one command (all of them, however many). *pos is
 * `stack` or a heap array the caller frees when it is not `stack`. */
static int all_keys(const queued_cmd_t *q, int *stack, int nstack, int **pos)
{
    *pos = stack;
    if (q->cmd->exec != CMD_EXEC_KEYED) return 0;
    if (q->argc > nstack) *pos = xmalloc(sizeof(int) * (size_t)q->argc);
    return cmd_get_keys(q->cmd, q->argc, q->argv, q->argvlen, *pos, q->argc > nstack ? q->argc : nstack);
}

bool xcmd_reads_any_key(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    if (g_nworkers < 2 || config_cluster_enabled()) return false;
    if (cmd->handler != cmd_sort && cmd->handler != cmd_sort_ro) return false;
    return cmd_sort_reads_patterns(argc, argv, argvlen);
}

struct keyspace *xcmd_parked_space(worker_t *w, const uint8_t *key, size_t len)
{
    int o = worker_of_slot(slot_of_key(key, len));
    if (o == w->index || !(w->xcmd_parked & (1ULL << o))) return NULL;
    return wdb_peek(g_workers[o], w->cur_db);
}

void xcmd_expire_parked(worker_t *w, const uint8_t *key, size_t len, long long now_ms)
{
    int o = worker_of_slot(slot_of_key(key, len));
    if (o == w->index || !(w->xcmd_parked & (1ULL << o))) return;
    struct keyspace *theirs = wdb_peek(g_workers[o], w->cur_db);
    /* only what a lookup there would delete: present, past its TTL (now >
     * deadline), on a master not paused */
    if (!theirs || ks_replica_mode(theirs) || !ks_peek(theirs, key, len) || ks_exists_noexpire(theirs, key, len, now_ms))
        return;
    /* moved into w's share, then looked up there: w's expiry hook sends the
     * DEL into w's stream, at this call's place in it */
    worker_move_key(w, g_workers[o], w->cur_db, key, len, true, false);
    (void)ks_lookup(wdb_get(w, w->cur_db), key, len, now_ms);
}

uint64_t xcmd_workers_of(const queued_cmd_t *q)
{
    /* SORT ... BY w_*: any worker may keep a key it reads */
    if (xcmd_reads_any_key(q->cmd, q->argc, q->argv, q->argvlen)) return (1ULL << g_nworkers) - 1;
    int stack[64], *pos;
    int n = all_keys(q, stack, 64, &pos);
    uint64_t mask = 0;
    for (int i = 0; i < n; i++)
        mask |= 1ULL << worker_of_slot(slot_of_key(q->argv[pos[i]], q->argvlen[pos[i]]));
    if (pos != stack) free(pos);
    return mask;
}

void worker_move_key(worker_t *w, worker_t *owner, int db, const uint8_t *key, size_t len, bool in, bool touch)
{
    struct keyspace *mine = wdb_get(w, db), *theirs = wdb_get(owner, db);   /* database db's shares (wdb.h) */
    struct keyspace *from = in ? theirs : mine, *to = in ? mine : theirs;
    ks_entry_t *e = ks_peek(from, key, len);
    if (e) ks_move(from, e, to);
    if (touch) worker_touch_key_in(owner, db, key, len);   /* the owner stands still: its one writer is us now */
}

/* Moves every key of the call's commands that `w` does not own between its
 * owner's keyspace and w's: in (owner -> w) before the run, out after it.
 * With `touch` (out, after a write) the owners' WATCH versions of those keys
 * go up and their waiting clients are told the keys changed. */
static void move_keys(worker_t *w, remote_cmd_t *rc, bool in, bool touch)
{
    for (int c = 0; c < rc->ncmds; c++) {
        const queued_cmd_t *q = &rc->cmds[c];
        int stack[64], *pos;
        int n = all_keys(q, stack, 64, &pos);
        uint64_t owners = 0;
        for (int i = 0; i < n; i++) {
            const uint8_t *key = q->argv[pos[i]];
            size_t len = q->argvlen[pos[i]];
            int o = worker_of_slot(slot_of_key(key, len));
            if (o == w->index) continue;
            owners |= 1ULL << o;
            for (int d = rc->db, other = wdb_cmd_other_db(q); d >= 0; d = d == other ? -1 : other)
                worker_move_key(w, g_workers[o], d, key, len, in, touch);
        }
        if (touch) {
            for (int o = 0; o < g_nworkers; o++)
                if (owners & (1ULL << o)) blocking_note_write(g_workers[o], q->cmd, q->argc, q->argv, q->argvlen);
        }
        if (pos != stack) free(pos);
    }
}

void worker_publish_counts(worker_t *w)
{
    worker_publish_ks_stats(w);
    wdb_publish_all(w, -1);
}

/* ---------------- the two sides of the barrier ---------------- */

/* A parked party (WMSG_RUN): effects out, arrive, wait, then serve waiting
 * clients whose keys the call filled. */
static void park_fn(worker_t *w, rt_msg_t *msg)
{
    struct xbar *b = ((xpark_t *)msg)->bar;
    free(msg);
    worker_repl_flush(w);
    worker_wait_begin(w, b, b->mask);
    pthread_mutex_lock(&b->mu);
    b->arrived++;
    pthread_cond_broadcast(&b->cv);
    while (!b->released) pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
    worker_wait_end(w);
    bar_unref(b);
    worker_publish_counts(w);
    blocking_after_command(w);
}

/* The executor (WMSG_RUN): waits for every party, runs the call over the
 * gathered keys, hands back the keys and the effects, releases, replies. */
static void exec_fn(worker_t *w, rt_msg_t *msg)
{
    remote_cmd_t *rc = (remote_cmd_t *)msg;
    struct xbar *b = rc->xbar;
    rc->xbar = NULL;
    worker_wait_begin(w, b, b->mask);
    pthread_mutex_lock(&b->mu);
    while (b->arrived < b->parties) pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
    worker_wait_end(w);

    worker_snap_enter(w);
    /* WATCHed keys of a transaction kept by several workers: each is read on
     * its owner, parked at this barrier, before any key moves here. */
    bool watch_failed = rc->is_exec && rc->watch.n > 0 && !watch_list_ok(&rc->watch, rt_now_ms(), b->mask | (1ULL << w->index));
    watch_list_clear(&rc->watch);     /* checked: not again where the commands run */
    move_keys(w, rc, true, false);
    w->xcmd_parked = b->mask & ~(1ULL << w->index);   /* their keys may be read (xcmd_parked_space) */
    /* relaxed: only this thread writes it */
    long long dirty0 = atomic_load_explicit(&w->stats.dirty, memory_order_relaxed);
    bool waits = false;
    if (watch_failed) {
        rc->watch_failed = true;
    } else {
        if (!rc->origin) {
            for (int i = 0; i < rc->ncmds; i++) {
                if (rc->from_load) load_apply_one(w, &rc->cmds[i], rc->now_ms);
                else dispatch_apply(w, &rc->cmds[i], rc->now_ms);
            }
        } else if (!rc->is_exec && (rc->cmds[0].cmd->flags & CMD_BLOCKING)) {
            /* BLPOP a b, BLMOVE a b ...: served now when a key holds
             * something, else it waits on the client's worker (xwait.c). */
            queued_cmd_t *q = &rc->cmds[0];
            dispatch_block_t blk = { .mode = CMD_BLOCK_MAY };
            /* A woken waiter takes only the key it was woken for, and only
             * when no older waiter comes first; else it waits on. */
            if (xwait_may_run(w, rc, &blk)) {
                if (blk.mode == CMD_BLOCK_SERVE) blk.resume = rc->block_state;
                dispatch_run_blocking(w, rc->db, q->cmd, q->argc, q->argv, q->argvlen, &rc->reply, rt_now_ms(), &blk);
                /* a stream reader keeps the IDs it waits past while it waits on */
                if (blk.blocked && blk.state && blk.state != rc->block_state) {
                    free(rc->block_state);
                    rc->block_state = blk.state;
                }
            } else {
                blk.blocked = true;
            }
            /* Marked while the keys' owners are parked: no push is missed. */
            if (blk.blocked) waits = xwait_park(w, rc, blk.first, blk.nkeys, blk.timeout_ms);
            /* served: out of the order before the owners serve the next ones */
            else xwait_served(w, rc);
        } else {
            dispatch_execute_batch(w, rc);
        }
    }
    w->xcmd_parked = 0;
    bool wrote = atomic_load_explicit(&w->stats.dirty, memory_order_relaxed) != dirty0 || !rc->origin;
    move_keys(w, rc, false, wrote);
    worker_publish_counts(w);
    worker_snap_leave(w);
    repl_flush(w->repl);          /* the stream has the call before any party's later writes */

    pthread_mutex_lock(&b->mu);
    b->released = true;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    bar_unref(b);
    blocking_after_command(w);

    if (waits) return;            /* rc belongs to the wait now */
    if (!rc->origin) {            /* from our master's stream: no reply */
        remote_cmd_free(rc);
        return;
    }
    rc->hdr.type = WMSG_DONE;
    rt_send(&rc->origin->actor, &rc->hdr);
}

/* ---------------- sending ---------------- */

void xcmd_post(worker_t *from, int executor, remote_cmd_t *rc, uint64_t mask)
{
    mask &= ~(1ULL << executor);
    struct xbar *b = xcalloc(1, sizeof *b);
    b->mask = mask | (1ULL << executor);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->parties = __builtin_popcountll(mask);
    atomic_init(&b->refs, b->parties + 1);
    rc->xbar = b;
    rc->run.hdr.type = WMSG_RUN;
    rc->run.fn = exec_fn;
    workers_barrier_lock();
    for (int i = 0; i < g_nworkers; i++) {
        if (!(mask & (1ULL << i))) continue;
        xpark_t *m = xcalloc(1, sizeof *m);
        m->run.hdr.type = WMSG_RUN;
        m->run.fn = park_fn;
        m->bar = b;
        /* worker_send: after the commands this worker already queued there */
        if (from) worker_send(from, i, &m->run.hdr);
        else worker_post(i, &m->run.hdr);
    }
    if (from) worker_send(from, executor, &rc->hdr);
    else worker_post(executor, &rc->hdr);
    workers_barrier_unlock();
}

void xcmd_dispatch(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    reply_slot_t *s = client_defer_reply(c);
    if (!s->txn_part) {
        /* The client's later commands may run here inline: they must wait
         * for this one, which runs when the barrier message comes round. */
        s->blocks_client = true;
        c->flags |= CLIENT_BLOCKED;
    }
    remote_cmd_t *rc = remote_cmd_one(c, cmd, argc, argv, argvlen, s, WMSG_RUN, rt_now_ms());
    rc->client_id = tracking_route_id(c);   /* with its caching decision (tracking.h) */
    xcmd_post(c->worker, c->worker->index, rc, xcmd_workers_of(&rc->cmds[0]));
}

void xcmd_apply(int executor, int db, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                long long now_ms, bool loading)
{
    remote_cmd_t *rc = xcalloc(1, sizeof *rc);
    rc->db = db;
    rc->from_load = loading;
    rc->ncmds = 1;
    rc->cmds = xcalloc(1, sizeof *rc->cmds);
    rc->now_ms = now_ms;
    resp_buf_init(&rc->reply, 2);
    queued_cmd_copy(&rc->cmds[0], cmd, argc, argv, argvlen);
    xcmd_post(NULL, executor, rc, xcmd_workers_of(&rc->cmds[0]));
}

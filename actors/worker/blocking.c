/* blocking.c - see blocking.h.
 *
 * Owner side: each worker keeps its waiters in blocking order (a list) and,
 * per key waited on, a FIFO of links to them (a small chained hash). A write
 * that touches a key with waiters puts the key on the ready list; once the
 * command (or transaction) ends, ready keys are served, each waiter in turn
 * while the key holds a list. Serving re-runs the waiter's command in
 * CMD_BLOCK_SERVE mode: the handler pops from the ready key only, and its
 * effect is propagated like any write (a BLMOVE's push may make its target
 * key ready in turn). The reply goes back to the client's worker in the
 * waiter's own message, after the stream has the effect (repl_flush).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/config/config.h"
#include "actors/repl/repl.h"
#include "actors/state/state.h"
#include "actors/worker/blocking.h"
#include "actors/worker/wdb.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/latency.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/xwait.h"
#include "proto/slot.h"
#include "actors/worker/slowlog.h"
#include "runtime/xmalloc.h"

#define KEYQ_BUCKETS 1024
#define CHECK_MS 100                 /* slot and role checks while anyone waits */
#define UNBLOCKED_ERR "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)"

typedef struct waiter waiter_t;
typedef struct keyq keyq_t;

typedef struct wlink {               /* one waiter in one key's queue */
    waiter_t *waiter;
    keyq_t *q;
    struct wlink *prev, *next;
} wlink_t;

struct keyq {
    keyq_t *next_bucket;
    wlink_t *head, *tail;
    keyq_t *next_ready;
    bool ready;
    uint32_t hash;
    size_t klen;
    uint8_t key[];
};

struct waiter {
    remote_cmd_t *rc;                /* the command, its reply, the way back */
    uint64_t seq;                    /* its place in the node-wide blocking order */
    waiter_t *prev, *next;           /* the worker's waiters, oldest first */
    long long deadline_ms;           /* absolute, 0 = none */
    int first, nkeys;                /* argv range of the keys */
    wlink_t *links;                  /* nkeys of them */
    unsigned slot;
    void *state;                     /* the command's block_state (XREAD's IDs), passed back when served */
};

typedef struct bstate {
    keyq_t *buckets[KEYQ_BUCKETS];
    waiter_t *head, *tail;
    size_t count;
    keyq_t *ready_head, *ready_tail;
    int hold;                        /* transactions under way */
    bool serving;
    rt_timer_t timeout_timer;
    bool timeout_armed;
    long long timeout_at;
    rt_timer_t check_timer;
    bool check_armed;
} bstate_t;

/* One per worker, touched only by that worker's thread. */
static bstate_t *g_state[MAX_WORKERS];
/* relaxed: statistics for INFO */
static _Atomic long long g_blocked, g_blocked_timeout;
/* relaxed: only uniqueness and the order of waits that start one after the
 * other matter; a wait that starts later (after a barrier or a message)
 * reads a larger number */
static _Atomic uint64_t g_block_seq;

uint64_t blocking_next_seq(void) { return atomic_fetch_add_explicit(&g_block_seq, 1, memory_order_relaxed) + 1; }

long long blocking_count(void) { return atomic_load_explicit(&g_blocked, memory_order_relaxed) + xwait_count(); }
long long blocking_count_with_timeout(void)
{
    return atomic_load_explicit(&g_blocked_timeout, memory_order_relaxed) + xwait_count_with_timeout();
}

static bstate_t *state_of(worker_t *w)
{
    if (!g_state[w->index]) g_state[w->index] = xcalloc(1, sizeof(bstate_t));
    return g_state[w->index];
}

static uint32_t key_hash(const uint8_t *k, size_t n)
{
    uint32_t h = 2166136261u;     /* FNV-1a: spreads keys over the buckets */
    for (size_t i = 0; i < n; i++) { h ^= k[i]; h *= 16777619u; }
    return h;
}

static keyq_t *keyq_find(bstate_t *st, const uint8_t *k, size_t n, bool create)
{
    uint32_t h = key_hash(k, n);
    keyq_t **pp = &st->buckets[h % KEYQ_BUCKETS];
    for (keyq_t *q = *pp; q; q = q->next_bucket)
        if (q->hash == h && q->klen == n && memcmp(q->key, k, n) == 0) return q;
    if (!create) return NULL;
    keyq_t *q = xcalloc(1, sizeof *q + n);
    q->hash = h;
    q->klen = n;
    memcpy(q->key, k, n);
    q->next_bucket = *pp;
    *pp = q;
    return q;
}

/* Frees q once nobody waits on it and it is not on the ready list. */
static void keyq_release(bstate_t *st, keyq_t *q)
{
    if (q->head || q->ready) return;
    for (keyq_t **pp = &st->buckets[q->hash % KEYQ_BUCKETS]; *pp; pp = &(*pp)->next_bucket)
        if (*pp == q) {
            *pp = q->next_bucket;
            break;
        }
    free(q);
}

/* ---------------- client side ---------------- */

void blocking_exec_fn(worker_t *w, rt_msg_t *msg);   /* owner side, below */

/* On the client's worker: the owner is done with the wait. */
static void done_fn(worker_t *w, rt_msg_t *msg)
{
    remote_cmd_t *rc = (remote_cmd_t *)msg;
    reply_slot_t *s = rc->slot;
    client_t *c = s->client;
    c->block_rc = NULL;
    if (rc->usecs && !(c->flags & CLIENT_CLOSED)) slowlog_remote_done(c, rc);
    if (!(c->flags & CLIENT_CLOSED)) {
        resp_buf_free(&s->buf);
        s->buf = rc->reply;
        resp_buf_init(&rc->reply, 2);
        if (rc->close_after_reply) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    }
    client_slot_done(w, s);
    remote_cmd_free(rc);
}

void blocking_send(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                   int slot)
{
    worker_t *w = c->worker;
    reply_slot_t *s = client_defer_reply(c);
    /* Like a blocked Redis client, it reads no further command meanwhile. */
    s->blocks_client = true;
    c->flags |= CLIENT_BLOCKED;
    remote_cmd_t *rc = remote_cmd_one(c, cmd, argc, argv, argvlen, s, WMSG_RUN, rt_now_ms());
    rc->client_id = c->id;
    c->block_rc = rc;
    c->block_worker = worker_of_slot((unsigned)slot);
    rc->run.fn = blocking_exec_fn;
    worker_send(w, c->block_worker, &rc->hdr);
}

typedef struct cancel_msg {
    worker_run_t run;
    remote_cmd_t *rc;          /* compared only: it may already be on its way back */
    int how;                   /* CANCEL_* */
} cancel_msg_t;

enum { CANCEL_CLOSED = 0, CANCEL_TIMEOUT, CANCEL_ERROR };

static void cancel_fn(worker_t *w, rt_msg_t *msg);

static void send_cancel(client_t *c, int how)
{
    cancel_msg_t *m = xcalloc(1, sizeof *m);
    m->run.hdr.type = WMSG_RUN;
    m->run.fn = cancel_fn;
    m->rc = c->block_rc;
    m->how = how;
    worker_send(c->worker, c->block_worker, &m->run.hdr);
}

void blocking_client_closed(client_t *c)
{
    if (c->block_rc) send_cancel(c, CANCEL_CLOSED);
    else xwait_cancel(c, XWAIT_CLOSED);
    if (c->wait_rc) repl_wait_end(c->wait_rc, REPL_WAIT_ANSWER_NOW);
}

bool blocking_unblock_client(client_t *c, bool error)
{
    if (c->wait_rc && !(c->flags & CLIENT_CLOSED))   /* in WAIT (cmd_repl.c) */
        return repl_wait_end(c->wait_rc, error ? REPL_WAIT_UNBLOCKED : REPL_WAIT_ANSWER_NOW);
    if (!c->block_rc && !(c->flags & CLIENT_CLOSED)) return xwait_cancel(c, error ? XWAIT_ERROR : XWAIT_TIMEOUT);
    if (!c->block_rc || (c->flags & CLIENT_CLOSED)) return false;
    send_cancel(c, error ? CANCEL_ERROR : CANCEL_TIMEOUT);
    return true;
}

/* ---------------- owner side ---------------- */

static void arm_timers(worker_t *w, bstate_t *st);

/* A wait that ends without being served (timeout, CLIENT UNBLOCK, a
 * redirection) still counts as a call of its command, as 7.0.15 counts it
 * when it unblocks the client. */
/* The duration the slow log gets for a served wait's call: its client's
 * worker logs it when the reply arrives (done_fn), as 7.0.15 logs a blocked
 * command when it is served, with the time of its runs, not of the wait (a
 * wait that times out is not logged there). */
static void note_duration(remote_cmd_t *rc, long long usec)
{
    if (!rc->usecs) rc->usecs = xmalloc(sizeof *rc->usecs);
    rc->usecs[0] = usec > 0 ? usec : 0;
}

static void note_unserved(worker_t *w, waiter_t *wt)
{
    stats_note_call(w, wt->rc->cmds[0].cmd, 0, &wt->rc->reply, 0);
}

/* Takes wt out of every queue and list, and sends its reply back. */
static void finish(worker_t *w, bstate_t *st, waiter_t *wt)
{
    for (int k = 0; k < wt->nkeys; k++) {
        wlink_t *l = &wt->links[k];
        keyq_t *q = l->q;
        if (!q) continue;
        if (l->prev) l->prev->next = l->next;
        else q->head = l->next;
        if (l->next) l->next->prev = l->prev;
        else q->tail = l->prev;
        keyq_release(st, q);
    }
    if (wt->prev) wt->prev->next = wt->next;
    else st->head = wt->next;
    if (wt->next) wt->next->prev = wt->prev;
    else st->tail = wt->prev;
    st->count--;
    atomic_fetch_sub_explicit(&g_blocked, 1, memory_order_relaxed);
    if (wt->deadline_ms) atomic_fetch_sub_explicit(&g_blocked_timeout, 1, memory_order_relaxed);
    remote_cmd_t *rc = wt->rc;
    free(wt->links);
    free(wt->state);
    free(wt);
    repl_flush(w->repl);          /* the stream has the pop before the client hears of it */
    rc->hdr.type = WMSG_RUN;
    rc->run.fn = done_fn;
    rt_send(&rc->origin->actor, &rc->hdr);
}

/* The reply of a wait that ends without data (timeout, CLIENT UNBLOCK):
 * a null array for every list command, BLMOVE included, as 7.0.15. */
static void reply_timeout(waiter_t *wt)
{
    resp_add_null_array(&wt->rc->reply);
}

static void park(worker_t *w, remote_cmd_t *rc, const dispatch_block_t *blk)
{
    bstate_t *st = state_of(w);
    queued_cmd_t *q = &rc->cmds[0];
    waiter_t *wt = xcalloc(1, sizeof *wt);
    wt->rc = rc;
    wt->state = blk->state;
    wt->seq = blocking_next_seq();
    wt->first = blk->first;
    wt->nkeys = blk->nkeys;
    wt->deadline_ms = blk->timeout_ms ? rt_now_ms() + blk->timeout_ms : 0;
    wt->slot = slot_of_key(q->argv[blk->first], q->argvlen[blk->first]);
    wt->links = xcalloc((size_t)blk->nkeys, sizeof *wt->links);
    for (int k = 0; k < blk->nkeys; k++) {
        int a = blk->first + k;
        keyq_t *kq = keyq_find(st, q->argv[a], q->argvlen[a], true);
        wlink_t *l = &wt->links[k];
        l->waiter = wt;
        l->q = kq;
        /* A key named twice (BLPOP k k 0) waits once on it, as Redis's key dict. */
        bool dup = false;
        for (wlink_t *o = kq->head; o; o = o->next)
            if (o->waiter == wt) dup = true;
        if (dup) {
            l->q = NULL;          /* not linked: finish skips it */
            continue;
        }
        l->prev = kq->tail;
        l->next = NULL;
        if (kq->tail) kq->tail->next = l;
        else kq->head = l;
        kq->tail = l;
    }
    wt->prev = st->tail;
    if (st->tail) st->tail->next = wt;
    else st->head = wt;
    st->tail = wt;
    st->count++;
    atomic_fetch_add_explicit(&g_blocked, 1, memory_order_relaxed);
    if (wt->deadline_ms) atomic_fetch_add_explicit(&g_blocked_timeout, 1, memory_order_relaxed);
    arm_timers(w, st);
}

/* On the owner: a blocking command arrives from a client's worker. */
void blocking_exec_fn(worker_t *w, rt_msg_t *msg)
{
    remote_cmd_t *rc = (remote_cmd_t *)msg;
    queued_cmd_t *q = &rc->cmds[0];
    worker_snap_enter(w);
    dispatch_block_t blk = { .mode = CMD_BLOCK_MAY };
    char err[256];
    /* A slot being moved: missing keys are the target's (-ASK), as for any command. */
    if (!dispatch_open_slot_check(w, q, 1, err, sizeof err)) resp_add_error(&rc->reply, err);
    else dispatch_run_blocking(w, rc->db, q->cmd, q->argc, q->argv, q->argvlen, &rc->reply, rt_now_ms(), &blk);
    worker_snap_leave(w);
    if (blk.blocked) {
        park(w, rc, &blk);
        return;
    }
    repl_flush(w->repl);
    rc->hdr.type = WMSG_RUN;
    rc->run.fn = done_fn;
    rt_send(&rc->origin->actor, &rc->hdr);
}

static void cancel_fn(worker_t *w, rt_msg_t *msg)
{
    cancel_msg_t *m = (cancel_msg_t *)msg;
    bstate_t *st = state_of(w);
    for (waiter_t *wt = st->head; wt; wt = wt->next) {
        if (wt->rc != m->rc) continue;
        if (m->how == CANCEL_TIMEOUT) reply_timeout(wt);
        else if (m->how == CANCEL_ERROR)
            resp_add_error(&wt->rc->reply, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
        if (m->how != CANCEL_CLOSED) note_unserved(w, wt);
        finish(w, st, wt);
        break;
    }
    free(m);
}

/* ---------------- serving ---------------- */

/* Puts q (may be NULL) on the ready list if clients wait on it. */
static void mark_ready(bstate_t *st, keyq_t *q)
{
    if (!q || q->ready || !q->head) return;
    q->ready = true;
    q->next_ready = NULL;
    if (st->ready_tail) st->ready_tail->next_ready = q;
    else st->ready_head = q;
    st->ready_tail = q;
}

void blocking_note_write(worker_t *w, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                         const size_t *argvlen)
{
    bstate_t *st = g_state[w->index];
    if (!st || st->count == 0) return;
    int pos[512];
    int n = cmd_get_keys(cmd, argc, argv, argvlen, pos, 512);
    for (int i = 0; i < n; i++) mark_ready(st, keyq_find(st, argv[pos[i]], argvlen[pos[i]], false));
}

/* The type of value a waiting command pops: sorted sets for BZPOPMIN, BZPOPMAX and BZMPOP. */
int blocking_wanted_type(const cmd_def_t *cmd)
{
    if (cmd->group && strcmp(cmd->group, "stream") == 0) return KS_TYPE_STREAM;
    return cmd->group && strcmp(cmd->group, "sorted-set") == 0 ? KS_TYPE_ZSET : KS_TYPE_LIST;
}

uint64_t blocking_first_seq(worker_t *w, int db, const uint8_t *key, size_t len, int ks_type)
{
    bstate_t *st = g_state[w->index];
    keyq_t *q = st && st->count ? keyq_find(st, key, len, false) : NULL;
    for (wlink_t *l = q ? q->head : NULL; l; l = l->next)
        if (l->waiter->rc->db == db && blocking_wanted_type(l->waiter->rc->cmds[0].cmd) == ks_type)
            return l->waiter->seq;
    return UINT64_MAX;
}

/* Serves q's waiters in order while the key holds a value they pop; a
 * waiter for the other type stays, as 7.0.15 serves by the key's type. */
static bool is_readgroup(const cmd_def_t *cmd) { return strcmp(cmd->name, "xreadgroup") == 0; }

/* The stream an XREADGROUP waits on was deleted or replaced by another type:
 * it answers -UNBLOCKED now, as 7.0.15's unblockDeletedStreamReadgroupClients
 * (other waiters of the key wait on). */
static void end_readgroup(worker_t *w, bstate_t *st, waiter_t *wt)
{
    resp_add_error(&wt->rc->reply, "UNBLOCKED the stream key no longer exists");
    note_unserved(w, wt);
    finish(w, st, wt);
}

static void serve_key(worker_t *w, bstate_t *st, keyq_t *q)
{
    wlink_t *l = q->head;
    while (l) {
        /* waiters of one key name in several databases share the queue:
         * each looks in its own (wdb.h) */
        wlink_t *next = l->next;
        waiter_t *wt = l->waiter;
        ks_entry_t *e = ks_lookup(wdb_get(w, wt->rc->db), q->key, q->klen, rt_now_ms());
        int type = e ? ks_entry_type(e) : -1;
        queued_cmd_t *qc = &wt->rc->cmds[0];
        if (type != KS_TYPE_STREAM && is_readgroup(qc->cmd)) {
            end_readgroup(w, st, wt);
            l = next;
            continue;
        }
        if (type != KS_TYPE_LIST && type != KS_TYPE_ZSET && type != KS_TYPE_STREAM) {
            l = next;             /* nothing here for a pop or a read; XREADGROUPs after it end */
            continue;
        }
        if (blocking_wanted_type(qc->cmd) != type) { l = next; continue; }
        /* A client waiting over several workers on this key of the same
         * database blocked before this one: the key is its first (its wake
         * is on the way, xwait.c); this one and the later ones of that
         * database are served once it has been. */
        if (xwait_older_on_key(wt->rc->db, q->key, q->klen, ks_entry_type(e), wt->seq)) {
            l = next;
            continue;
        }
        dispatch_block_t blk = { .mode = CMD_BLOCK_SERVE, .serve_arg = wt->first + (int)(l - wt->links),
                                 .resume = wt->state };
        long long t0 = latency_threshold_ms() ? rt_now_ms() : 0, us0 = rt_now_us();
        dispatch_run_blocking(w, wt->rc->db, qc->cmd, qc->argc, qc->argv, qc->argvlen, &wt->rc->reply, rt_now_ms(), &blk);
        if (t0) latency_note("command-unblocking", rt_now_ms() - t0);   /* the served call's own time, as 7.0.15 */
        if (!blk.blocked) note_duration(wt->rc, rt_now_us() - us0);
        /* a stream reader finding nothing newer waits on, with its state */
        if (blk.blocked && blk.state && blk.state != wt->state) {
            free(wt->state);
            wt->state = blk.state;
        }
        if (!blk.blocked) finish(w, st, wt);
        l = next;
    }
}

static void serve_ready(worker_t *w, bstate_t *st)
{
    st->serving = true;
    worker_snap_enter(w);
    while (st->ready_head) {
        keyq_t *q = st->ready_head;
        st->ready_head = q->next_ready;
        if (!st->ready_head) st->ready_tail = NULL;
        /* Still marked ready while its waiters are served, so it is not
         * freed under us (and not queued again by its own serving). */
        serve_key(w, st, q);
        q->ready = false;
        keyq_release(st, q);
    }
    worker_snap_leave(w);
    st->serving = false;
}

void blocking_key_gone(worker_t *w, const uint8_t *key, size_t len)
{
    bstate_t *st = g_state[w->index];
    if (st && st->count) mark_ready(st, keyq_find(st, key, len, false));
}

void blocking_recheck_key(worker_t *w, const uint8_t *key, size_t len)
{
    bstate_t *st = g_state[w->index];
    if (st && st->count) mark_ready(st, keyq_find(st, key, len, false));
    blocking_after_command(w);
}

void blocking_after_command(worker_t *w)
{
    bstate_t *st = g_state[w->index];
    if (!st || !st->ready_head || st->hold > 0 || st->serving) return;
    serve_ready(w, st);
}

bool blocking_has_waiters(worker_t *w)
{
    bstate_t *st = g_state[w->index];
    return st && (st->count > 0 || st->ready_head || st->hold > 0);
}

void blocking_hold(worker_t *w, bool on)
{
    bstate_t *st = g_state[w->index];
    if (!st) {
        if (!on) return;
        st = state_of(w);
    }
    if (on) {
        st->hold++;
        return;
    }
    st->hold--;
    blocking_after_command(w);
}

/* ---------------- timeouts and redirections ---------------- */

static void timeout_cb(rt_timer_t *t, void *arg)
{
    (void)t;
    worker_t *w = arg;
    bstate_t *st = state_of(w);
    st->timeout_armed = false;
    long long now = rt_now_ms();
    for (waiter_t *wt = st->head, *next; wt; wt = next) {
        next = wt->next;
        if (wt->deadline_ms && wt->deadline_ms <= now) {
            reply_timeout(wt);
            note_unserved(w, wt);
            finish(w, st, wt);
        }
    }
    arm_timers(w, st);
}

/* The error that ends a wait on `slot` now, or NULL: 7.0.15's
 * clusterRedirectBlockedClientIfNeeded and disconnectAllBlockedClients. */
static const char *redirect_error(worker_t *w, unsigned slot, char *buf, size_t cap, bool *close_after)
{
    const cluster_snapshot_t *s = w->cur;
    *close_after = false;
    if (s->nodes[s->myself].flags & NODE_SLAVE) {
        *close_after = true;
        return UNBLOCKED_ERR;
    }
    if (!config_cluster_enabled()) return NULL;
    if (!s->state_ok) return "CLUSTERDOWN The cluster is down";
    int owner = s->slot_owner[slot];
    if (owner == s->myself || s->importing_from[slot] >= 0) return NULL;
    if (owner < 0) return "CLUSTERDOWN Hash slot not served";
    const node_view_t *o = &s->nodes[owner];
    snprintf(buf, cap, "MOVED %u %s:%d", slot, dispatch_endpoint(o), o->port);
    return buf;
}

static void check_cb(rt_timer_t *t, void *arg)
{
    (void)t;
    worker_t *w = arg;
    bstate_t *st = state_of(w);
    worker_snap_enter(w);
    for (waiter_t *wt = st->head, *next; wt; wt = next) {
        next = wt->next;
        char buf[128];
        bool close_after;
        const char *err = redirect_error(w, wt->slot, buf, sizeof buf, &close_after);
        if (!err) continue;
        resp_add_error(&wt->rc->reply, err);
        wt->rc->close_after_reply = close_after;
        note_unserved(w, wt);
        finish(w, st, wt);
    }
    worker_snap_leave(w);
    if (!st->head && st->check_armed) {
        rt_timer_stop(&st->check_timer);
        st->check_armed = false;
    }
}

static void arm_timers(worker_t *w, bstate_t *st)
{
    long long soonest = 0;
    for (waiter_t *wt = st->head; wt; wt = wt->next)
        if (wt->deadline_ms && (!soonest || wt->deadline_ms < soonest)) soonest = wt->deadline_ms;
    if (st->timeout_armed && (!soonest || soonest != st->timeout_at)) {
        rt_timer_stop(&st->timeout_timer);
        st->timeout_armed = false;
    }
    if (soonest && !st->timeout_armed) {
        long long wait = soonest - rt_now_ms();
        rt_timer_start(&st->timeout_timer, w->thread, wait > 0 ? (double)wait : 0.0, 0, timeout_cb, w);
        st->timeout_armed = true;
        st->timeout_at = soonest;
    }
    if (st->head && !st->check_armed) {
        rt_timer_start(&st->check_timer, w->thread, CHECK_MS, CHECK_MS, check_cb, w);
        st->check_armed = true;
    }
}

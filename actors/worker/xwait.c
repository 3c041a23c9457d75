/* xwait.c - standalone mode: clients blocked (BLPOP a b, BLMOVE a b, ...) on
 * keys that several workers keep.
 *
 * Such a command runs with those workers parked (xcmd.c). When it finds
 * nothing to pop it waits here, on the client's own worker: still inside the
 * barrier (so no push can slip in between), it marks each key's bucket in a
 * shared interest table with its worker's bit. Any worker that then writes a
 * key of a marked bucket sends that worker a wake message with the key; the
 * waiters on that key, oldest first, run again as fresh cross-worker calls,
 * and wait again if someone else took the value first. Timeouts, CLIENT
 * UNBLOCK and a closed connection end a wait here, where the client lives.
 *
 * Order: every wait, here or on one worker (blocking.c), takes a number in
 * the node-wide blocking order when it starts. The keys of a wait here are
 * in a registry (one mutex) with that number, so that a key's owner leaves
 * the key to an older waiter here instead of serving its own (the write
 * that filled the key sent that waiter its wake), and a woken waiter takes
 * the key it was woken for only when no older waiter, of either kind, waits
 * on it. A waiter that leaves without being served tells the owners of its
 * keys to look at them again (the next ones may have been held for it).
 *
 * The table is a hint: a bucket may be shared by other keys (a wake then
 * finds nobody), and a bit is cleared only when its worker waits on no key of
 * the bucket. Waiters on one worker keep their order; across workers, and
 * against clients waiting on one worker (blocking.c), the order numbers
 * decide, as 7.0.15's single order does.
 *
 * Must never: miss a write to a key someone waits on (the mark is set while
 * its owner is parked), answer a wait twice, or touch another worker's wait
 * list.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "actors/state/state.h"
#include "actors/worker/blocking.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/wdb.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/xcmd.h"
#include "actors/worker/xwait.h"
#include "proto/slot.h"
#include "runtime/xmalloc.h"

#define XW_BUCKETS 65536
#define XW_CHECK_MS 100               /* role checks while anyone waits, as blocking.c's */

/* Bit i: worker i waits on a key of this bucket. Set and cleared only by
 * worker i; read by any worker after a write. */
static _Atomic uint64_t g_interest[XW_BUCKETS];
/* Waits under way on every worker (a fast "nobody waits" for writers). */
static _Atomic long long g_waiting;

typedef struct xwaiter {
    struct xwaiter *prev, *next;
    remote_cmd_t *rc;
    int first, nkeys;             /* argv range of the keys waited on */
} xwaiter_t;

typedef struct xwstate {
    xwaiter_t *head, *tail;
    uint32_t *count;              /* this worker's waits per bucket */
    rt_timer_t timer;
    bool timer_on;
    long long timer_at;
    rt_timer_t check_timer;       /* the role check while anyone waits here */
    bool check_on;
} xwstate_t;

static xwstate_t *g_xw[MAX_WORKERS];

/* The registry: one entry per key of each wait here, from its first park
 * until it is served or ends. */
typedef struct xreg {
    struct xreg *next;
    const remote_cmd_t *rc;
    uint64_t seq;
    int type;                     /* KS_TYPE_LIST or KS_TYPE_ZSET: what it pops */
    int db;                       /* the database it waits in */
    size_t len;
    uint8_t key[];
} xreg_t;
static pthread_mutex_t g_reg_mu = PTHREAD_MUTEX_INITIALIZER;
static xreg_t *g_reg[XW_BUCKETS];   /* under g_reg_mu */
/* Waits in the registry (a waiter being retried stays counted, unlike
 * g_waiting), and those of them with a timeout. */
static _Atomic long long g_registered, g_registered_timeout;

static void reg_add(remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    int type = blocking_wanted_type(q->cmd);
    pthread_mutex_lock(&g_reg_mu);
    for (int k = rc->xfirst; k < rc->xfirst + rc->xnkeys; k++) {
        xreg_t *r = xmalloc(sizeof *r + q->argvlen[k]);
        uint32_t b = dispatch_watch_bucket(q->argv[k], q->argvlen[k]);
        r->rc = rc;
        r->seq = rc->block_seq;
        r->type = type;
        r->db = rc->db;
        r->len = q->argvlen[k];
        memcpy(r->key, q->argv[k], r->len);
        r->next = g_reg[b];
        g_reg[b] = r;
    }
    pthread_mutex_unlock(&g_reg_mu);
    rc->xregistered = true;
    atomic_fetch_add_explicit(&g_registered, 1, memory_order_relaxed);
    if (rc->block_deadline_ms > 0) atomic_fetch_add_explicit(&g_registered_timeout, 1, memory_order_relaxed);
}

static void reg_remove(remote_cmd_t *rc)
{
    if (!rc->xregistered) return;
    queued_cmd_t *q = &rc->cmds[0];
    pthread_mutex_lock(&g_reg_mu);
    for (int k = rc->xfirst; k < rc->xfirst + rc->xnkeys; k++) {
        for (xreg_t **pp = &g_reg[dispatch_watch_bucket(q->argv[k], q->argvlen[k])]; *pp; pp = &(*pp)->next) {
            if ((*pp)->rc != rc) continue;
            xreg_t *r = *pp;
            *pp = r->next;
            free(r);
            break;
        }
    }
    pthread_mutex_unlock(&g_reg_mu);
    rc->xregistered = false;
    atomic_fetch_sub_explicit(&g_registered, 1, memory_order_relaxed);
    if (rc->block_deadline_ms > 0) atomic_fetch_sub_explicit(&g_registered_timeout, 1, memory_order_relaxed);
}

/* Whether a registered wait other than `self`, older than seq, waits on key
 * of database db for `type`. */
static bool reg_older(int db, const uint8_t *key, size_t len, int type, uint64_t seq, const remote_cmd_t *self)
{
    bool older = false;
    pthread_mutex_lock(&g_reg_mu);
    for (xreg_t *r = g_reg[dispatch_watch_bucket(key, len)]; r && !older; r = r->next)
        older = r->rc != self && r->seq < seq && r->type == type && r->db == db && r->len == len &&
                memcmp(r->key, key, len) == 0;
    pthread_mutex_unlock(&g_reg_mu);
    return older;
}

bool xwait_older_on_key(int db, const uint8_t *key, size_t len, int ks_type, uint64_t seq)
{
    /* relaxed: a wait that matters registered behind a barrier the caller
     * passed (it parked the caller's worker) */
    if (atomic_load_explicit(&g_registered, memory_order_relaxed) == 0) return false;
    return reg_older(db, key, len, ks_type, seq, NULL);
}

typedef struct xrecheck {
    worker_run_t run;
    size_t len;
    uint8_t key[];
} xrecheck_t;

static void send_wakes(worker_t *w, const uint8_t *key, size_t len);

/* On a key's owner: a waiter over several workers left without being served. */
static void recheck_fn(worker_t *w, rt_msg_t *msg)
{
    xrecheck_t *m = (xrecheck_t *)msg;
    worker_snap_enter(w);
    blocking_recheck_key(w, m->key, m->len);
    worker_snap_leave(w);
    send_wakes(w, m->key, m->len);
    free(m);
}

/* rc leaves the order (served or not): the owners of its keys look at them
 * again, as the next waiters there may have been held for it. */
static void leave_order(worker_t *w, remote_cmd_t *rc)
{
    if (!rc->xregistered) return;
    reg_remove(rc);
    queued_cmd_t *q = &rc->cmds[0];
    for (int k = rc->xfirst; k < rc->xfirst + rc->xnkeys; k++) {
        xrecheck_t *m = xmalloc(sizeof *m + q->argvlen[k]);
        m->run.hdr.type = WMSG_RUN;
        m->run.fn = recheck_fn;
        m->len = q->argvlen[k];
        memcpy(m->key, q->argv[k], m->len);
        worker_send(w, worker_of_slot(slot_of_key(q->argv[k], q->argvlen[k])), &m->run.hdr);
    }
}

bool xwait_may_run(worker_t *w, remote_cmd_t *rc, dispatch_block_t *blk)
{
    int a = rc->xserve_arg;
    rc->xserve_arg = 0;
    blk->mode = CMD_BLOCK_MAY;
    if (!rc->xregistered || a <= 0) return true;
    queued_cmd_t *q = &rc->cmds[0];
    const uint8_t *key = q->argv[a];
    size_t len = q->argvlen[a];
    int type = blocking_wanted_type(q->cmd);
    /* the key is in this worker's keyspace of the call's database for the
     * call (xcmd.c's move_keys), which is not current yet */
    struct keyspace *ks = wdb_peek(w, rc->db);
    ks_entry_t *e = ks ? ks_peek(ks, key, len) : NULL;
    if (!e || !ks_exists_noexpire(ks, key, len, rt_now_ms()) || ks_entry_type(e) != type) return false;
    worker_t *owner = g_workers[worker_of_slot(slot_of_key(key, len))];
    if (blocking_first_seq(owner, rc->db, key, len, type) < rc->block_seq) return false;
    if (reg_older(rc->db, key, len, type, rc->block_seq, rc)) return false;
    blk->mode = CMD_BLOCK_SERVE;
    blk->serve_arg = a;
    return true;
}

void xwait_served(worker_t *w, remote_cmd_t *rc)
{
    leave_order(w, rc);
}

typedef struct xwake {
    worker_run_t run;
    size_t len;
    uint8_t key[];
} xwake_t;

static xwstate_t *state_of(worker_t *w)
{
    if (!g_xw[w->index]) {
        g_xw[w->index] = xcalloc(1, sizeof(xwstate_t));
        g_xw[w->index]->count = xcalloc(XW_BUCKETS, sizeof(uint32_t));
    }
    return g_xw[w->index];
}

/* INFO blocked_clients and clients_in_timeout_table: the registered waits,
 * so that one stays counted while a wake's retry runs (7.0.15 keeps such a
 * client blocked). */
long long xwait_count(void) { return atomic_load_explicit(&g_registered, memory_order_relaxed); }
long long xwait_count_with_timeout(void)
{
    return atomic_load_explicit(&g_registered_timeout, memory_order_relaxed);
}

static void arm_timer(worker_t *w, xwstate_t *st);

/* Takes wt off the list and its buckets' counts. */
static void unlink_waiter(worker_t *w, xwstate_t *st, xwaiter_t *wt)
{
    if (wt->prev) wt->prev->next = wt->next;
    else st->head = wt->next;
    if (wt->next) wt->next->prev = wt->prev;
    else st->tail = wt->prev;
    queued_cmd_t *q = &wt->rc->cmds[0];
    for (int k = wt->first; k < wt->first + wt->nkeys; k++) {
        uint32_t b = dispatch_watch_bucket(q->argv[k], q->argvlen[k]);
        /* release: pairs with nothing in particular; the bit is only a hint
         * once no wait of ours needs it */
        if (--st->count[b] == 0)
            atomic_fetch_and_explicit(&g_interest[b], ~(1ULL << w->index), memory_order_release);
    }
    atomic_fetch_sub_explicit(&g_waiting, 1, memory_order_relaxed);
}

/* Ends a wait with the reply already in rc->reply: back to the client's slot. */
static void finish(worker_t *w, xwstate_t *st, xwaiter_t *wt, bool count)
{
    unlink_waiter(w, st, wt);
    remote_cmd_t *rc = wt->rc;
    free(wt);
    leave_order(w, rc);
    /* a wait that ends unserved counts as a call, as 7.0.15 counts it */
    if (count) stats_note_call(w, rc->cmds[0].cmd, 0, &rc->reply, 0);
    rc->hdr.type = WMSG_DONE;
    rt_send(&rc->origin->actor, &rc->hdr);
}

bool xwait_park(worker_t *w, remote_cmd_t *rc, int first, int nkeys, long long timeout_ms)
{
    /* w is the client's worker (the executor): the slot and client are its */
    client_t *c = rc->slot ? rc->slot->client : NULL;
    if (c && (c->flags & CLIENT_CLOSED)) {
        /* closed before its first park or during a wake's retry, when
         * xwait_cancel found no waiter: nobody is left to wait */
        leave_order(w, rc);
        return false;
    }
    long long now = rt_now_ms();
    if (!rc->block_deadline_ms) rc->block_deadline_ms = timeout_ms > 0 ? now + timeout_ms : -1;
    if (rc->block_deadline_ms > 0 && rc->block_deadline_ms <= now) {
        resp_add_null_array(&rc->reply);    /* its time ran out between two tries */
        leave_order(w, rc);
        return false;
    }
    if (!rc->xregistered) {
        if (!rc->block_seq) rc->block_seq = blocking_next_seq();
        rc->xfirst = first;
        rc->xnkeys = nkeys;
        reg_add(rc);
    }
    first = rc->xfirst;       /* a retry that did not run waits on the same keys */
    nkeys = rc->xnkeys;
    xwstate_t *st = state_of(w);
    xwaiter_t *wt = xcalloc(1, sizeof *wt);
    wt->rc = rc;
    wt->first = first;
    wt->nkeys = nkeys;
    wt->prev = st->tail;
    if (st->tail) st->tail->next = wt;
    else st->head = wt;
    st->tail = wt;
    queued_cmd_t *q = &rc->cmds[0];
    for (int k = first; k < first + nkeys; k++) {
        uint32_t b = dispatch_watch_bucket(q->argv[k], q->argvlen[k]);
        /* relaxed: the owners of these keys are parked at our barrier; they
         * read the bit after its release (the barrier's mutex orders it) */
        if (st->count[b]++ == 0) atomic_fetch_or_explicit(&g_interest[b], 1ULL << w->index, memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&g_waiting, 1, memory_order_relaxed);
    arm_timer(w, st);
    /* blocked until served or ended, retries included: b in CLIENT LIST */
    if (rc->slot && !rc->slot->txn_part) rc->slot->blocked = true;
    return true;
}

/* On a waiting worker: a key of a marked bucket was written; its waiters,
 * oldest first, try again. */
static void wake_fn(worker_t *w, rt_msg_t *msg)
{
    xwake_t *m = (xwake_t *)msg;
    xwstate_t *st = g_xw[w->index];
    for (xwaiter_t *wt = st ? st->head : NULL, *next; wt; wt = next) {
        next = wt->next;
        queued_cmd_t *q = &wt->rc->cmds[0];
        int hit = 0;
        for (int k = wt->first; k < wt->first + wt->nkeys && !hit; k++)
            if (q->argvlen[k] == m->len && memcmp(q->argv[k], m->key, m->len) == 0) hit = k;
        if (!hit) continue;
        unlink_waiter(w, st, wt);
        remote_cmd_t *rc = wt->rc;
        free(wt);
        rc->xserve_arg = hit;     /* it may take this key, if first on it (xwait_may_run) */
        xcmd_post(w, w->index, rc, xcmd_workers_of(&rc->cmds[0]));
    }
    free(m);
    if (st) arm_timer(w, st);
}

void xwait_note_write(worker_t *w, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    /* relaxed: a wait that matters was set up behind a barrier this worker
     * passed (see xwait_park) */
    if (atomic_load_explicit(&g_waiting, memory_order_relaxed) == 0) return;
    int pos[512];
    int n = cmd_get_keys(cmd, argc, argv, argvlen, pos, 512);
    for (int i = 0; i < n; i++) send_wakes(w, argv[pos[i]], argvlen[pos[i]]);
}

void xwait_key_touched(worker_t *w, const uint8_t *key, size_t len)
{
    /* relaxed: as xwait_note_write */
    if (atomic_load_explicit(&g_waiting, memory_order_relaxed) == 0) return;
    send_wakes(w, key, len);
}

/* Wakes the workers that wait on a key of key's bucket. */
static void send_wakes(worker_t *w, const uint8_t *key, size_t len)
{
    uint64_t mask = atomic_load_explicit(&g_interest[dispatch_watch_bucket(key, len)], memory_order_relaxed);
    for (int t = 0; mask; t++, mask >>= 1) {
        if (!(mask & 1)) continue;
        xwake_t *m = xmalloc(sizeof *m + len);
        m->run.hdr.type = WMSG_RUN;
        m->run.fn = wake_fn;
        m->len = len;
        memcpy(m->key, key, len);
        worker_send(w, t, &m->run.hdr);
    }
}

static void timer_cb(rt_timer_t *t, void *arg)
{
    (void)t;
    worker_t *w = arg;
    xwstate_t *st = state_of(w);
    st->timer_on = false;
    long long now = rt_now_ms();
    for (xwaiter_t *wt = st->head, *next; wt; wt = next) {
        next = wt->next;
        if (wt->rc->block_deadline_ms > 0 && wt->rc->block_deadline_ms <= now) {
            resp_add_null_array(&wt->rc->reply);   /* as 7.0.15 times out every list and zset pop */
            finish(w, st, wt, true);
        }
    }
    arm_timer(w, st);
}

/* Every XW_CHECK_MS while waits are here: a node turned replica ends them
 * with -UNBLOCKED and closes their clients after it, as 7.0.15's
 * disconnectAllBlockedClients (blocking.c's check does so for the waits on
 * one worker). A waiter being retried is caught once it waits again. */
static void check_cb(rt_timer_t *t, void *arg)
{
    (void)t;
    worker_t *w = arg;
    xwstate_t *st = state_of(w);
    worker_snap_enter(w);
    const cluster_snapshot_t *s = w->cur;
    bool replica = s && (s->nodes[s->myself].flags & NODE_SLAVE);
    worker_snap_leave(w);
    for (xwaiter_t *wt = replica ? st->head : NULL, *next; wt; wt = next) {
        next = wt->next;
        client_t *c = wt->rc->slot ? wt->rc->slot->client : NULL;   /* ours: w is its worker */
        if (c && !(c->flags & CLIENT_CLOSED)) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
        resp_add_error(&wt->rc->reply,
                       "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)");
        finish(w, st, wt, true);
    }
    arm_timer(w, st);
}

static void arm_timer(worker_t *w, xwstate_t *st)
{
    if (st->head && !st->check_on) {
        rt_timer_start(&st->check_timer, w->thread, XW_CHECK_MS, XW_CHECK_MS, check_cb, w);
        st->check_on = true;
    } else if (!st->head && st->check_on) {
        rt_timer_stop(&st->check_timer);
        st->check_on = false;
    }
    long long soonest = 0;
    for (xwaiter_t *wt = st->head; wt; wt = wt->next)
        if (wt->rc->block_deadline_ms > 0 && (!soonest || wt->rc->block_deadline_ms < soonest))
            soonest = wt->rc->block_deadline_ms;
    if (st->timer_on && soonest != st->timer_at) {
        rt_timer_stop(&st->timer);
        st->timer_on = false;
    }
    if (soonest && !st->timer_on) {
        long long wait = soonest - rt_now_ms();
        rt_timer_start(&st->timer, w->thread, wait > 0 ? (double)wait : 0.0, 0, timer_cb, w);
        st->timer_on = true;
        st->timer_at = soonest;
    }
}

bool xwait_cancel(client_t *c, int how)
{
    worker_t *w = c->worker;
    xwstate_t *st = g_xw[w->index];
    for (xwaiter_t *wt = st ? st->head : NULL; wt; wt = wt->next) {
        if (!wt->rc->slot || wt->rc->slot->client != c) continue;
        if (how == XWAIT_ERROR) resp_add_error(&wt->rc->reply, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
        else if (how == XWAIT_TIMEOUT) resp_add_null_array(&wt->rc->reply);
        finish(w, st, wt, how != XWAIT_CLOSED);
        arm_timer(w, st);
        return true;
    }
    return false;
}

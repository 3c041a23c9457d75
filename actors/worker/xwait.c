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
 * The table is a hint: a bucket may be shared by other keys (a wake then
 * finds nobody), and a bit is cleared only when its worker waits on no key of
 * the bucket. Waiters on one worker keep their order; across workers, and
 * against clients waiting on one worker (blocking.c), whoever runs first is
 * served first (a departure from 7.0.15's single order, docs/types.md §6).
 *
 * Must never: miss a write to a key someone waits on (the mark is set while
 * its owner is parked), answer a wait twice, or touch another worker's wait
 * list.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "actors/worker/blocking.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/xcmd.h"
#include "actors/worker/xwait.h"
#include "runtime/xmalloc.h"

#define XW_BUCKETS 65536

/* Bit i: worker i waits on a key of this bucket. Set and cleared only by
 * worker i; read by any worker after a write. */
static _Atomic uint64_t g_interest[XW_BUCKETS];
/* Waits under way on every worker (a fast "nobody waits" for writers). */
static _Atomic long long g_waiting, g_waiting_timeout;

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
} xwstate_t;

static xwstate_t *g_xw[MAX_WORKERS];

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

long long xwait_count(void) { return atomic_load_explicit(&g_waiting, memory_order_relaxed); }
long long xwait_count_with_timeout(void) { return atomic_load_explicit(&g_waiting_timeout, memory_order_relaxed); }

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
    if (wt->rc->block_deadline_ms > 0) atomic_fetch_sub_explicit(&g_waiting_timeout, 1, memory_order_relaxed);
}

/* Ends a wait with the reply already in rc->reply: back to the client's slot. */
static void finish(worker_t *w, xwstate_t *st, xwaiter_t *wt, bool count)
{
    unlink_waiter(w, st, wt);
    remote_cmd_t *rc = wt->rc;
    free(wt);
    /* a wait that ends unserved counts as a call, as 7.0.15 counts it */
    if (count) stats_note_call(w, rc->cmds[0].cmd, 0, &rc->reply, 0);
    rc->hdr.type = WMSG_DONE;
    rt_send(&rc->origin->actor, &rc->hdr);
}

bool xwait_park(worker_t *w, remote_cmd_t *rc, int first, int nkeys, long long timeout_ms)
{
    long long now = rt_now_ms();
    if (!rc->block_deadline_ms) rc->block_deadline_ms = timeout_ms > 0 ? now + timeout_ms : -1;
    if (rc->block_deadline_ms > 0 && rc->block_deadline_ms <= now) {
        resp_add_null_array(&rc->reply);    /* its time ran out between two tries */
        return false;
    }
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
    if (rc->block_deadline_ms > 0) atomic_fetch_add_explicit(&g_waiting_timeout, 1, memory_order_relaxed);
    arm_timer(w, st);
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
        bool hit = false;
        for (int k = wt->first; k < wt->first + wt->nkeys && !hit; k++)
            hit = q->argvlen[k] == m->len && memcmp(q->argv[k], m->key, m->len) == 0;
        if (!hit) continue;
        unlink_waiter(w, st, wt);
        remote_cmd_t *rc = wt->rc;
        free(wt);
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
    for (int i = 0; i < n; i++) {
        const uint8_t *key = argv[pos[i]];
        size_t len = argvlen[pos[i]];
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

static void arm_timer(worker_t *w, xwstate_t *st)
{
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

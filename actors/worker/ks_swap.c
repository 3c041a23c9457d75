/* ks_swap.c - a node-wide keyspace swap (workers_swap_keyspaces, worker.h):
 * a replica's full sync builds the new data aside and every worker takes its
 * share at one moment, as 7.0.15 swaps its databases in one step. Each
 * worker, on the swap's message, parks until all workers have reached theirs,
 * then drops its keyspace and adopts the new one. SWAPDB (wdb_swap_all,
 * wdb.h) swaps two databases the same way.
 *
 * Must never: post the swap's messages outside the barrier lock (workers
 * would then meet two barriers in different orders and wait forever), or let
 * a worker adopt before every worker has arrived.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "actors/repl/repl.h"
#include "proto/strnum.h"

#include "actors/worker/blocking.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/xwait.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/xscript.h"
#include "actors/worker/wdb.h"
#include "runtime/xmalloc.h"

/* The rendezvous, shared by the swap's messages. */
typedef struct swap_bar {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int parties, arrived;
    _Atomic int refs;             /* one per worker; the last one out frees it */
} swap_bar_t;

typedef struct swap_msg {
    worker_run_t run;             /* first: the worker runs swap_run */
    struct keyspace *ks;
    struct keyspace **rest;       /* databases 1.. (wdb_count() entries, NULL ones empty), or NULL */
    swap_bar_t *bar;
} swap_msg_t;

static void bar_wait(swap_bar_t *b)
{
    pthread_mutex_lock(&b->mu);
    if (++b->arrived == b->parties) pthread_cond_broadcast(&b->cv);
    while (b->arrived < b->parties) pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
    /* acq_rel: the last one out sees every other's use of the barrier done */
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1) return;
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
}

/* On each worker (WMSG_RUN). */
static void swap_run(worker_t *w, rt_msg_t *msg)
{
    swap_msg_t *m = (swap_msg_t *)msg;
    worker_wait_begin(w, m->bar, ~0ULL);   /* every worker's (xscript.h) */
    bar_wait(m->bar);
    worker_wait_end(w);
    /* every database is replaced: the master's RDB is the whole dataset */
    for (int d = 0; d < wdb_top(w); d++) {
        ks_free(w->db[d].ks);
        w->db[d].ks = NULL;
    }
    w->ks = w->db[0].ks = m->ks;
    w->db_top = 1;
    for (int d = 1; m->rest && d < wdb_count(); d++) {
        if (!m->rest[d]) continue;
        w->db[d].ks = m->rest[d];
        w->db_top = d + 1;
    }
    free(m->rest);
    worker_keyspace_adopted(w);
    w->flush_epoch++;             /* every WATCH on this worker is now stale */
    free(m);
}

static swap_bar_t *bar_new(void);

void workers_swap_keyspaces(struct keyspace **ks, struct keyspace ***rest)
{
    swap_bar_t *b = bar_new();
    workers_barrier_lock();       /* one order for every barrier (worker.h) */
    for (int i = 0; i < g_nworkers; i++) {
        swap_msg_t *m = xcalloc(1, sizeof *m);
        m->run.hdr.type = WMSG_RUN;
        m->run.fn = swap_run;
        m->ks = ks[i];
        ks[i] = NULL;             /* the worker owns it now */
        if (rest) {
            m->rest = rest[i];
            rest[i] = NULL;
        }
        m->bar = b;
        worker_post(i, &m->run.hdr);
    }
    workers_barrier_unlock();
}

/* ---------------- SWAPDB ---------------- */

typedef struct swapdb_msg {
    worker_run_t run;
    int a, b;
    swap_bar_t *arrive, *leave;
    remote_cmd_t *rc;             /* the client's part: propagates and answers; else NULL */
} swapdb_msg_t;

static swap_bar_t *bar_new(void)
{
    swap_bar_t *b = xcalloc(1, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->parties = g_nworkers;
    atomic_init(&b->refs, g_nworkers);
    return b;
}

typedef struct swap_touch {
    worker_t *w;
    int a, b;
    bool second;                  /* walking b: its names that a has too were done */
    long long now_ms;
} swap_touch_t;

/* The WATCHes of a name in database x, whose value there (TTL ex, or none:
 * KS_NO_EXPIRE with !hx) gives way to the one of database y, as 7.0.15's
 * touchAllWatchedKeysInDb(x, y): a value expired in x that leaves nothing
 * live behind is no change to a WATCH made once it had expired (watch.h's
 * expired_gone_ms), and an expired value arriving where there was none is
 * none either; anything else live on either side is a change. */
static void touch_side(const swap_touch_t *t, int x, bool hx, long long ex, bool hy, long long ey,
                       const uint8_t *key, size_t n)
{
    bool x_expired = hx && ex != KS_NO_EXPIRE && t->now_ms > ex;
    bool y_live = hy && !(ey != KS_NO_EXPIRE && t->now_ms > ey);
    if (x_expired && !y_live) watch_note_expired_gone(t->w, x, key, n, ex);
    else if ((hx && !x_expired) || y_live) worker_touch_key_in(t->w, x, key, n);
}

static void touch_both(void *arg, ks_entry_t *e, long long expire_ms)
{
    swap_touch_t *t = arg;
    size_t n;
    const uint8_t *key = ks_entry_key(e, &n);
    int here = t->second ? t->b : t->a, there = t->second ? t->a : t->b;
    struct keyspace *other = wdb_peek(t->w, there);
    ks_entry_t *o = other ? ks_peek(other, key, n) : NULL;
    if (t->second && o) return;   /* a name of both: done from a */
    long long other_ms = o ? ks_entry_expire(other, o) : KS_NO_EXPIRE;
    touch_side(t, here, true, expire_ms, o != NULL, other_ms, key, n);
    touch_side(t, there, o != NULL, other_ms, true, expire_ms, key, n);
    /* the name may hold a value for a client blocked in the other database
     * now (7.0.15 scans both for ready keys): its waiters look again once
     * the swap is over */
    blocking_key_gone(t->w, key, n);
    xwait_key_touched(t->w, key, n);
}

/* w's shares of databases a and b change places. A WATCH of a key of
 * either goes stale when that name exists in a or in b, as 7.0.15's
 * touchAllWatchedKeysInDb(a, b) and (b, a): one of a missing name holds, and
 * so, mostly, does one of a name whose values are expired (touch_side). */
static void swap_local(worker_t *w, int a, int b)
{
    swap_touch_t st = { w, a, b, false, rt_now_ms() };
    if (w->db[a].ks) ks_foreach(w->db[a].ks, touch_both, &st);
    st.second = true;
    if (w->db[b].ks) ks_foreach(w->db[b].ks, touch_both, &st);
    wdb_slot_t t = { 0 };
    memcpy(&t, &w->db[a], sizeof t);
    memcpy(&w->db[a], &w->db[b], sizeof t);
    memcpy(&w->db[b], &t, sizeof t);
    int top = 0;
    for (int d = 0; d < wdb_count(); d++)
        if (w->db[d].ks) top = d + 1;
    if (!w->db[0].ks) wdb_get(w, 0);   /* database 0 always has a keyspace */
    w->db_top = top > 1 ? top : 1;
    w->ks = wdb_get(w, w->cur_db);
    wdb_publish_all(w, -1);
}

/* On each worker (WMSG_RUN): what it wrote before goes into the stream,
 * everyone arrives, swaps; the client's part writes SWAPDB into the stream
 * while the others still wait, so no write of after the swap precedes it. */
static void swapdb_run(worker_t *w, rt_msg_t *msg)
{
    swapdb_msg_t *m = (swapdb_msg_t *)msg;
    repl_flush(w->repl);
    worker_wait_begin(w, m->arrive, ~0ULL);   /* every worker's (xscript.h) */
    bar_wait(m->arrive);
    worker_wait_end(w);
    swap_local(w, m->a, m->b);
    remote_cmd_t *rc = m->rc;
    if (rc) {
        if (repl_worker_propagates(w->ks)) {
            int prev = wdb_use(w, rc->db);
            repl_propagate(w->repl, rc->cmds[0].argc, rc->cmds[0].argv, rc->cmds[0].argvlen);
            wdb_use(w, prev);
            repl_flush(w->repl);
        }
        /* relaxed: a statistic with one writer */
        atomic_store_explicit(&w->stats.dirty, atomic_load_explicit(&w->stats.dirty, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    }
    worker_wait_begin(w, m->leave, ~0ULL);
    bar_wait(m->leave);
    worker_wait_end(w);
    free(m);
    blocking_after_command(w);    /* the clients blocked on a name the swap brought */
    if (rc) {
        resp_add_simple(&rc->reply, "OK");
        worker_reply_async(rc);
    }
}

void wdb_swap_all(worker_t *origin, int a, int b, remote_cmd_t *rc)
{
    swap_bar_t *arrive = bar_new(), *leave = bar_new();
    workers_barrier_lock();       /* one order for every barrier (worker.h) */
    for (int i = 0; i < g_nworkers; i++) {
        swapdb_msg_t *m = xcalloc(1, sizeof *m);
        m->run.hdr.type = WMSG_RUN;
        m->run.fn = swapdb_run;
        m->a = a;
        m->b = b;
        m->arrive = arrive;
        m->leave = leave;
        m->rc = origin && i == origin->index ? rc : NULL;
        if (origin) worker_send(origin, i, &m->run.hdr);
        else worker_post(i, &m->run.hdr);
    }
    workers_barrier_unlock();
}

bool wdb_swap_apply(int argc, const uint8_t **argv, const size_t *argvlen)
{
    long long a, b;
    if (argc != 3 || !str_to_ll(argv[1], argvlen[1], &a) || !str_to_ll(argv[2], argvlen[2], &b)) return false;
    if (a < 0 || b < 0 || a >= wdb_count() || b >= wdb_count()) return false;
    if (a != b) wdb_swap_all(NULL, (int)a, (int)b, NULL);
    return true;
}

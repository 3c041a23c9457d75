/* ks_swap.c - a node-wide keyspace swap (workers_swap_keyspaces, worker.h):
 * a replica's full sync builds the new data aside and every worker takes its
 * share at one moment, as 7.0.15 swaps its databases in one step. Each
 * worker, on the swap's message, parks until all workers have reached theirs,
 * then drops its keyspace and adopts the new one.
 *
 * Must never: post the swap's messages outside the barrier lock (workers
 * would then meet two barriers in different orders and wait forever), or let
 * a worker adopt before every worker has arrived.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "actors/worker/keyspace.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/xscript.h"
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
    ks_free(w->ks);
    w->ks = m->ks;
    worker_keyspace_adopted(w);
    w->flush_epoch++;             /* every WATCH on this worker is now stale */
    free(m);
}

void workers_swap_keyspaces(struct keyspace **ks)
{
    swap_bar_t *b = xcalloc(1, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->parties = g_nworkers;
    atomic_init(&b->refs, g_nworkers);
    workers_barrier_lock();       /* one order for every barrier (worker.h) */
    for (int i = 0; i < g_nworkers; i++) {
        swap_msg_t *m = xcalloc(1, sizeof *m);
        m->run.hdr.type = WMSG_RUN;
        m->run.fn = swap_run;
        m->ks = ks[i];
        ks[i] = NULL;             /* the worker owns it now */
        m->bar = b;
        worker_post(i, &m->run.hdr);
    }
    workers_barrier_unlock();
}

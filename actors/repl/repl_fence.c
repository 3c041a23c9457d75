/* repl_fence.c - a barrier of the writes admitted so far (repl.h, repl_fence),
 * for a master whose writes a pause now holds: once it is passed, the
 * stream's offset covers every write any worker admitted before the pause.
 *
 * Why a barrier and not a delay: a write is admitted on the client's worker
 * and may run later on another one (a batch waiting behind a long script
 * there), and a worker's effects reach the stream at the end of its round.
 * A paused master that announced its offset after a fixed delay could leave
 * out a write it had already admitted, and answer it after its replica took
 * over without it (Redis's cluster suite 10-manual-failover lost such a write
 * on a loaded machine).
 *
 * How: every worker gets a first message (A). After handling it a worker
 * admits no write (the pause was set before A was sent); it sends what it
 * batched for each other worker and, behind it, a second message (B) to that
 * worker. A worker that handled its A and the B of every other worker has run
 * every write admitted anywhere before the pause that runs on it (a worker's
 * messages to another arrive in the order they were sent), hands its buffer
 * over (repl_flush) and reports to the replication actor; a borrowed run
 * (dispatch.c) hands its effects over before the borrower handles its own A.
 * The handovers precede the report in the actor's order (the AOF path's
 * queue is taken before each message), so when the last report arrives the
 * offset is final and the caller's message goes out.
 *
 * Must never: park a worker (nothing waits: the messages only count), or
 * report before every worker reported.
 */
#include "actors/repl/repl_actor_internal.h"
#include "actors/worker/worker.h"
#include "runtime/xmalloc.h"

typedef struct repl_fence {
    rt_actor_t *to;               /* gets `done` once the barrier is passed */
    rt_msg_t *done;
    int nworkers;
    int arrived[MAX_WORKERS];     /* entry i: touched only on worker i's thread */
    int reported;                 /* replication thread only */
} repl_fence_t;

typedef struct fence_msg {
    union {
        rt_msg_t hdr;
        worker_run_t run;         /* WMSG_RUN to a worker; RM_FENCE to the actor */
    };
    repl_fence_t *fence;
} fence_msg_t;

static fence_msg_t *fence_msg(repl_fence_t *f, worker_run_fn *fn)
{
    fence_msg_t *m = xcalloc(1, sizeof *m);
    m->hdr.type = fn ? WMSG_RUN : RM_FENCE;
    m->run.fn = fn;
    m->fence = f;
    return m;
}

/* On worker w: one more of the nworkers messages it waits for. */
static void fence_arrive(worker_t *w, repl_fence_t *f)
{
    int i = worker_index(w);
    if (++f->arrived[i] < f->nworkers) return;
    worker_repl_flush(w);
    rt_send(repl_actor(), &fence_msg(f, NULL)->hdr);
}

static void fence_b(worker_t *w, rt_msg_t *msg)
{
    repl_fence_t *f = ((fence_msg_t *)msg)->fence;
    free(msg);
    fence_arrive(w, f);
}

static void fence_a(worker_t *w, rt_msg_t *msg)
{
    repl_fence_t *f = ((fence_msg_t *)msg)->fence;
    free(msg);
    int me = worker_index(w);
    for (int j = 0; j < f->nworkers; j++)
        if (j != me) worker_send(w, j, &fence_msg(f, fence_b)->hdr);   /* behind its batches for j */
    fence_arrive(w, f);
}

void repl_fence(rt_actor_t *to, rt_msg_t *done)
{
    repl_fence_t *f = xcalloc(1, sizeof *f);
    f->to = to;
    f->done = done;
    f->nworkers = workers_count();
    for (int i = 0; i < f->nworkers; i++) worker_post(i, &fence_msg(f, fence_a)->hdr);
}

void ra_fence_reported(repl_actor_state_t *ra, rt_msg_t *msg)
{
    repl_fence_t *f = ((fence_msg_t *)msg)->fence;
    free(msg);
    if (++f->reported < f->nworkers) return;
    ra_publish(ra);               /* g_repl_offset: what the bus header carries */
    rt_send(f->to, f->done);
    free(f);
}

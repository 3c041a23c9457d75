/* xscript.c - a running script that reaches a key another worker keeps.
 *
 * A script runs on one worker (the owner of its declared keys' slot, or the
 * caller's); 7.0.15 lets it touch undeclared keys of any slot the node
 * serves, and in standalone mode any key. Such a key belongs to another
 * worker's keyspace, and the script is in the middle of its run: it cannot
 * wait for a barrier message to come round as xcmd.c's calls do. So the
 * script's worker takes the node's one session: it asks every other worker
 * to stand still (a park message, posted under the barrier lock like every
 * parking message) and waits until each one does; from then until the
 * script ends, each call's keys are moved from their owners' keyspaces into
 * its own, the call runs, and they are moved back (as xcmd.c does).
 *
 * A worker stands still for the session when it is:
 *  - parked at the session's message (its buffered effects handed over first);
 *  - waiting for the session itself (a script of its own wants one): it is
 *    inside a call and touches nothing until it gets the session, which is
 *    after this one ends. So two scripts that want each other's keys run
 *    one after the other instead of waiting for each other forever;
 *  - waiting at a barrier that cannot complete before the session ends: one
 *    of its workers is the holder, or stands still elsewhere.
 * Such a worker is "claimed", and every wait of a worker ends through
 * worker_wait_end, which holds a claimed worker until the session ends: a
 * claim stays true even when the barrier completes meanwhile.
 *
 * Order of effects: a claimed worker's buffered effects go to the stream
 * before the session's (parked workers flush theirs, a claimed one's are
 * flushed for it); the holder's script, wrapped in MULTI/EXEC, goes to the
 * stream before anyone goes on (xscript_end). A script that waited for the
 * session in the middle of its run may have seen, and written, keys the
 * holder then touches (see docs/scripting.md: a script that needed a
 * session takes it before it starts on its next runs).
 *
 * Must never: let a claimed worker run code, move a key of a worker that is
 * not claimed, or release the others before the holder's effects are
 * handed over.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "actors/repl/repl.h"
#include "actors/worker/blocking.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/xscript.h"
#include "proto/slot.h"
#include "runtime/xmalloc.h"

enum { LOC_RUN, LOC_BARRIER, LOC_WAIT_SESSION, LOC_PARKED };

/* Everything below is under g_mu; g_cv is broadcast on every change. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static int g_holder = -1;         /* the worker holding the session */
static _Atomic int g_active;      /* g_holder >= 0, for readers without the lock */
static uint64_t g_gen;            /* sessions started so far */
static uint64_t g_claimed;        /* workers standing still for the session */
static uint64_t g_touched;        /* workers whose keys the session moved */
static struct {
    int loc;                      /* LOC_* */
    const void *bar;              /* LOC_BARRIER: which one */
    uint64_t mask;                /* LOC_BARRIER: its workers */
    uint64_t gen;                 /* LOC_PARKED: the session it parked for */
} g_loc[MAX_WORKERS];

static __thread bool tl_holding;  /* this worker's thread holds the session */

static uint64_t bit(int i) { return 1ULL << i; }

/* A timed wait on g_cv (g_mu held) of about a millisecond. */
static void wait_a_moment(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&g_cv, &g_mu, &ts);
}

/* ---------------- waits of the workers ---------------- */

void worker_wait_begin(worker_t *w, const void *bar, uint64_t mask)
{
    pthread_mutex_lock(&g_mu);
    g_loc[w->index].loc = LOC_BARRIER;
    g_loc[w->index].bar = bar;
    g_loc[w->index].mask = mask;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

void worker_wait_end(worker_t *w)
{
    pthread_mutex_lock(&g_mu);
    while (g_claimed & bit(w->index)) pthread_cond_wait(&g_cv, &g_mu);
    g_loc[w->index].loc = LOC_RUN;
    pthread_mutex_unlock(&g_mu);
}

/* ---------------- claiming ---------------- */

/* Worker i waits at a barrier: it cannot complete while one of its workers
 * stands still elsewhere for the session (in `still`), or is the holder. */
static bool barrier_stuck(int i, uint64_t still)
{
    uint64_t m = g_loc[i].mask & still & ~bit(i);
    for (int p = 0; p < g_nworkers; p++) {
        if (!(m & bit(p))) continue;
        if (p == g_holder || g_loc[p].loc != LOC_BARRIER || g_loc[p].bar != g_loc[i].bar) return true;
    }
    return false;
}

/* Claims every worker that stands still for the session now (g_mu held);
 * returns the workers claimed by this round that waited at a barrier (their
 * buffered effects are still theirs to hand over). */
static uint64_t claim_round(void)
{
    uint64_t still = bit(g_holder) | g_claimed, at_barrier = 0;
    for (bool grew = true; grew;) {
        grew = false;
        for (int i = 0; i < g_nworkers; i++) {
            if (still & bit(i)) continue;
            int loc = g_loc[i].loc;
            bool ok = (loc == LOC_PARKED && g_loc[i].gen == g_gen) || loc == LOC_WAIT_SESSION ||
                      (loc == LOC_BARRIER && barrier_stuck(i, still));
            if (!ok) continue;
            still |= bit(i);
            if (loc == LOC_BARRIER) at_barrier |= bit(i);
            grew = true;
        }
    }
    g_claimed = still & ~bit(g_holder);
    return at_barrier;
}

/* The holder, once every other worker is claimed or the wait was given up:
 * releases them all (g_mu held). */
static void release_locked(void)
{
    g_holder = -1;
    atomic_store_explicit(&g_active, 0, memory_order_relaxed);   /* a hint (xscript_active) */
    g_claimed = 0;
    pthread_cond_broadcast(&g_cv);
}

static void kick_fn(worker_t *w, rt_msg_t *msg)
{
    free(msg);
    worker_publish_counts(w);
    blocking_after_command(w);    /* clients waiting on keys the session filled */
}

/* ---------------- the parked side ---------------- */

typedef struct xs_park {
    worker_run_t run;
    uint64_t gen;
} xs_park_t;

static bool session_on(uint64_t gen) { return g_holder >= 0 && g_gen == gen; }

/* WMSG_RUN on every other worker: hand over effects, stand still until the
 * session ends. While the holder's script is busy, this worker's clients
 * get -BUSY as the holder's do (7.0.15 answers every client so). */
static void park_fn(worker_t *w, rt_msg_t *msg)
{
    uint64_t gen = ((xs_park_t *)msg)->gen;
    free(msg);
    pthread_mutex_lock(&g_mu);
    bool on = session_on(gen);
    pthread_mutex_unlock(&g_mu);
    if (!on) return;              /* over already (this worker was claimed elsewhere) */
    worker_repl_flush(w);
    pthread_mutex_lock(&g_mu);
    g_loc[w->index].loc = LOC_PARKED;
    g_loc[w->index].gen = gen;
    pthread_cond_broadcast(&g_cv);
    bool mirrored = false;
    while (session_on(gen) || (g_claimed & bit(w->index))) {
        int holder = g_holder;
        wait_a_moment();
        /* relaxed: a flag, as the accepting workers read it */
        int busy = holder >= 0 ? atomic_load_explicit(&g_workers[holder]->script_busy, memory_order_relaxed) : 0;
        if (!busy) continue;
        pthread_mutex_unlock(&g_mu);
        if (!mirrored) worker_busy_begin(w, busy == 1);
        mirrored = true;
        worker_busy_poll(w);
        pthread_mutex_lock(&g_mu);
    }
    g_loc[w->index].loc = LOC_RUN;
    pthread_mutex_unlock(&g_mu);
    if (mirrored) worker_busy_end(w);
    worker_publish_counts(w);
    blocking_after_command(w);
}

/* ---------------- the holder's side ---------------- */

/* Waits (g_mu held) until no session runs and w is not claimed, counted as
 * standing still meanwhile. False when tick gave the wait up. */
static bool wait_for_session(worker_t *w, bool (*tick)(void))
{
    bool gave_up = false;
    g_loc[w->index].loc = LOC_WAIT_SESSION;
    pthread_cond_broadcast(&g_cv);
    while (g_holder >= 0 || (g_claimed & bit(w->index))) {
        wait_a_moment();
        if (gave_up || !tick) continue;
        pthread_mutex_unlock(&g_mu);
        gave_up = tick();
        pthread_mutex_lock(&g_mu);
        /* a claimed worker stays until the session ends; else it may go now */
        if (gave_up && !(g_claimed & bit(w->index))) break;
    }
    g_loc[w->index].loc = LOC_RUN;
    return !gave_up;
}

static void post_parks(worker_t *w, uint64_t gen)
{
    workers_barrier_lock();       /* one order for every parking message (xcmd.c) */
    for (int i = 0; i < g_nworkers; i++) {
        if (i == w->index) continue;
        xs_park_t *m = xcalloc(1, sizeof *m);
        m->run.hdr.type = WMSG_RUN;
        m->run.fn = park_fn;
        m->gen = gen;
        /* after the commands of ours queued there: a client's earlier
         * command for that worker's keys runs before the script sees them */
        worker_send(w, i, &m->run.hdr);
    }
    workers_barrier_unlock();
}

bool xscript_acquire(worker_t *w, bool (*tick)(void))
{
    if (tl_holding) return true;
    /* Its own effects first: a session of another worker may touch the
     * keys they wrote (those of an open transaction stay, see the top). */
    repl_flush_before_multi(w->repl);
    pthread_mutex_lock(&g_mu);
    if ((g_holder >= 0 || (g_claimed & bit(w->index))) && !wait_for_session(w, tick)) {
        pthread_mutex_unlock(&g_mu);
        return false;
    }
    g_holder = w->index;
    atomic_store_explicit(&g_active, 1, memory_order_relaxed);   /* a hint (xscript_active) */
    uint64_t gen = ++g_gen;
    g_claimed = 0;
    g_touched = 0;
    pthread_mutex_unlock(&g_mu);
    post_parks(w, gen);

    uint64_t others = (g_nworkers >= 64 ? ~0ULL : (bit(g_nworkers) - 1)) & ~bit(w->index);
    bool ok = true;
    pthread_mutex_lock(&g_mu);
    for (;;) {
        uint64_t flush = claim_round();
        if (flush) {
            /* claimed at a barrier: they touch nothing until the session
             * ends, so their buffered effects may be handed over from here */
            pthread_mutex_unlock(&g_mu);
            for (int i = 0; i < g_nworkers; i++)
                if (flush & bit(i)) repl_flush(g_workers[i]->repl);
            pthread_mutex_lock(&g_mu);
        }
        if ((g_claimed & others) == others) break;
        wait_a_moment();
        if (!tick) continue;
        pthread_mutex_unlock(&g_mu);
        bool gave_up = tick();
        pthread_mutex_lock(&g_mu);
        if (gave_up) {
            ok = false;
            break;
        }
    }
    if (!ok) release_locked();
    pthread_mutex_unlock(&g_mu);
    tl_holding = ok;
    return ok;
}

void xscript_fork_lock(bool lock)
{
    if (lock) pthread_mutex_lock(&g_mu);
    else pthread_mutex_unlock(&g_mu);
}

bool xscript_active(void) { return atomic_load_explicit(&g_active, memory_order_relaxed) != 0; }

bool xscript_held(const worker_t *w)
{
    (void)w;
    return tl_holding;
}

void xscript_end(worker_t *w)
{
    if (!tl_holding || repl_in_multi(w->repl)) return;
    repl_flush(w->repl);          /* the script's effects before anyone goes on */
    tl_holding = false;
    worker_publish_counts(w);
    pthread_mutex_lock(&g_mu);
    uint64_t touched = g_touched;
    release_locked();
    pthread_mutex_unlock(&g_mu);
    for (int i = 0; i < g_nworkers; i++) {
        if (!(touched & bit(i)) || i == w->index) continue;
        worker_run_t *m = xcalloc(1, sizeof *m);
        m->hdr.type = WMSG_RUN;
        m->fn = kick_fn;
        worker_send(w, i, &m->hdr);
    }
}

/* ---------------- running a call ---------------- */

static bool is_here(const xscript_keys_t *here, const uint8_t *key, size_t len)
{
    for (int i = 0; here && i < here->n; i++)
        if (here->argvlen[i] == len && !memcmp(here->argv[i], key, len)) return true;
    return false;
}

/* The key positions of a call; *pos is `stack` or a heap array to free. */
static int call_keys(const struct cmd_def *cmd, int argc, const uint8_t **argv, const size_t *argvlen, int *stack,
                     int nstack, int **pos)
{
    *pos = stack;
    if (argc > nstack) *pos = xmalloc(sizeof(int) * (size_t)argc);
    return cmd_get_keys(cmd, argc, argv, argvlen, *pos, argc > nstack ? argc : nstack);
}

bool xscript_key_is_cross(const worker_t *w, unsigned slot, const uint8_t *key, size_t len,
                          const xscript_keys_t *here)
{
    return g_nworkers >= 2 && worker_of_slot(slot) != w->index && !is_here(here, key, len);
}

/* Moves the call's keys kept by other workers into w's keyspace (in) or
 * back to their owners (out). Out after a write, the owners' WATCH
 * versions go up and their waiting clients are told. Returns the owners. */
static uint64_t move_keys(worker_t *w, const struct cmd_def *cmd, int argc, const uint8_t **argv,
                          const size_t *argvlen, const xscript_keys_t *here, bool in, bool touch)
{
    int stack[32], *pos;
    int n = call_keys(cmd, argc, argv, argvlen, stack, 32, &pos);
    uint64_t owners = 0;
    for (int i = 0; i < n; i++) {
        const uint8_t *key = argv[pos[i]];
        size_t len = argvlen[pos[i]];
        int o = worker_of_slot(slot_of_key(key, len));
        if (o == w->index || is_here(here, key, len)) continue;
        owners |= bit(o);
        worker_move_key(w, g_workers[o], w->cur_db, key, len, in, touch);   /* the owner is claimed */
    }
    if (touch)
        for (int o = 0; o < g_nworkers; o++)
            if (owners & bit(o)) blocking_note_write(g_workers[o], cmd, argc, argv, argvlen);
    if (pos != stack) free(pos);
    return owners;
}

void xscript_run(worker_t *w, const struct cmd_def *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                 resp_buf_t *out, long long now_ms, const xscript_keys_t *here)
{
    /* relaxed: only this thread writes it */
    long long dirty0 = atomic_load_explicit(&w->stats.dirty, memory_order_relaxed);
    uint64_t owners = move_keys(w, cmd, argc, argv, argvlen, here, true, false);
    dispatch_run_for(w, 0, cmd, argc, argv, argvlen, out, now_ms);
    bool wrote = atomic_load_explicit(&w->stats.dirty, memory_order_relaxed) != dirty0;
    move_keys(w, cmd, argc, argv, argvlen, here, false, wrote);
    pthread_mutex_lock(&g_mu);
    g_touched |= owners;
    pthread_mutex_unlock(&g_mu);
}

/* aof_gcommit.c - group commit for appendfsync always: the reply syncer
 * thread (aof-sync), the fsyncs workers run themselves, and when the next
 * fdatasync starts.
 *
 * A worker at the end of its round, with replies to hold, runs the
 * fdatasync itself when none runs and none should wait for more writers
 * (aof_reply_sync_inline), then writes the replies: 7.0.15's order in
 * beforeSleep, with no thread hop (asking this thread and being woken back
 * by a message cost two wake-ups per fsync). It does not when other
 * clients' requests already wait for it (worker.c): this thread then runs
 * the fsync while the worker serves them, so their CPU time overlaps the
 * disk's. Otherwise workers do not wait
 * for the fsync: they hold the replies written after a write
 * (aof_reply_mark) and go on reading and running other clients' commands
 * while this thread runs fdatasync (after the running one, or after its
 * wait), each covering everything every worker wrote before it started;
 * after each one it wakes the workers whose mark it reached. So one fsync
 * answers the clients of all workers.
 *
 * When to start the next fsync (aof_gc_wait_us): clients that send one
 * request at a time split into two groups when each fsync starts as soon
 * as anything is pending: the group an fsync answered turns around while
 * the next fsync runs for the other group, and waits for it to end before
 * its own can start, so every client waits about two fsyncs a request.
 * Right after an fsync this thread knows how many bytes its clients had
 * in flight (what it covered plus what arrived while it ran); while fewer
 * are pending and the wait is shorter than an fsync (the moving average,
 * capped by AOF_GC_MAX_WAIT_US), it lets the answered clients come back
 * first (unless such waits keep running out: a credit, as the workers'
 * spin before sleep has), so one fsync answers both groups (measured: ~26 -> ~36 SETs per
 * fsync at redis-benchmark -c 50 -P 1, see docs/persistence.md).
 * The workers' own fsyncs follow the same policy (one shared aof_gc_t,
 * under the mutex): a worker whose round should wait hands the fsync to
 * this thread; the worker whose round fills the wait runs it itself.
 * Must never: delay an fsync by more than the bound, or let a reply leave
 * before the fsync covering its write (the wait only moves the start).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "actors/persist/aof_internal.h"
#include "actors/worker/worker.h"
#include "runtime/actor.h"
#include "runtime/slice.h"

void aof_gc_fsynced(aof_gc_t *g, uint64_t synced_before, uint64_t written_now, long long start_us,
                    long long end_us)
{
    long long took = end_us - start_us;
    if (took < 0) took = 0;
    g->avg_us = g->avg_us ? (g->avg_us * 7 + took) / 8 : took;
    g->waiting = false;   /* a wait another thread's fsync cut short counts for nothing */
    g->expect = written_now - synced_before;
    g->until_us = end_us + (g->avg_us < AOF_GC_MAX_WAIT_US ? g->avg_us : AOF_GC_MAX_WAIT_US);
}

/* The wait ends (pending reached `expect`, or the bound): a wait that
 * filled up earns a credit, one that ran out costs two. */
static void wait_ended(aof_gc_t *g, bool filled)
{
    g->waiting = false;
    if (filled) {
        g->filled++;
        if (g->credit < AOF_GC_CREDIT_MAX) g->credit++;
    } else if (g->credit > -AOF_GC_CREDIT_MAX) {
        g->credit -= 2;
    }
}

long long aof_gc_wait_us(aof_gc_t *g, uint64_t pending, long long now_us)
{
    if (pending >= g->expect || now_us >= g->until_us) {
        if (g->waiting) wait_ended(g, pending >= g->expect);
        return 0;
    }
    if (!g->waiting) {
        /* Waiting pays where most waits fill up: where they keep running
         * out (the clients take longer to come back than the bound), the
         * disk would only idle; one chance in AOF_GC_PROBE still waits, to
         * notice when it pays again. */
        if (g->credit < 0 && (++g->skipped % AOF_GC_PROBE) != 0) return 0;
        g->waiting = true;
        g->waits++;
    }
    return g->until_us - now_us;
}

/* Who waits for an fsync to release replies: one entry per worker, under
 * the writer's mutex. `wake_at`: the worker is woken once the synced mark
 * reaches it (its oldest held reply's mark; 0: no wake-up wanted); `want`:
 * the newest mark it holds replies for, which the fsyncs go on to reach
 * (0: none). Waking at the oldest lets the replies an fsync covered leave
 * while the next fsync runs, instead of after it. */
#define AOF_MAX_REPLY_WAITERS 64
_Static_assert(AOF_MAX_REPLY_WAITERS >= MAX_WORKERS, "every worker gets a waiter slot (aof_reply_waiter)");
static struct {
    void (*wake)(void *arg);
    void *arg;
    uint64_t wake_at, want;
} waiters[AOF_MAX_REPLY_WAITERS];
static int nwaiters;
/* the syncer's: a waiter asked, or the synced mark moved (under the mutex) */
static pthread_cond_t syncer_cv;

/* Waiters with a mark still to reach, as the syncer last counted them plus
 * those that asked since (under the mutex): an fsync a worker ran itself
 * wakes the syncer only when another worker waits for it. */
static int nwanting;

void aof_gc_kick_locked(void)
{
    if (nwanting) pthread_cond_signal(&syncer_cv);
}

/* When the next fsync starts, shared by the syncer and the workers that
 * run one themselves (aof_reply_sync_inline); under the mutex. */
static aof_gc_t gc;

/* INFO threads' figures (aof_gc_counts); relaxed: counters only read for display */
static _Atomic unsigned long long g_fsyncs, g_fsync_us, g_waits, g_filled, g_inline;

void aof_gc_counts(unsigned long long *fsyncs, unsigned long long *fsync_us, unsigned long long *waits,
                   unsigned long long *filled, unsigned long long *inline_fsyncs)
{
    *fsyncs = atomic_load_explicit(&g_fsyncs, memory_order_relaxed);
    *fsync_us = atomic_load_explicit(&g_fsync_us, memory_order_relaxed);
    *waits = atomic_load_explicit(&g_waits, memory_order_relaxed);
    *filled = atomic_load_explicit(&g_filled, memory_order_relaxed);
    *inline_fsyncs = atomic_load_explicit(&g_inline, memory_order_relaxed);
}

/* Under the mutex, after an fsync that started at start_us with
 * synced_before bytes synced: the policy's figures and INFO's. */
static void fsync_done_locked(uint64_t synced_before, long long start_us, bool by_worker)
{
    long long end = rt_now_us();
    aof_gc_fsynced(&gc, synced_before, aof_written_locked(), start_us, end);
    atomic_fetch_add_explicit(&g_fsyncs, 1, memory_order_relaxed);
    if (by_worker) atomic_fetch_add_explicit(&g_inline, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&g_fsync_us, (unsigned long long)(end - start_us), memory_order_relaxed);
}

static void publish_waits_locked(void)
{
    atomic_store_explicit(&g_waits, gc.waits, memory_order_relaxed);
    atomic_store_explicit(&g_filled, gc.filled, memory_order_relaxed);
}


/* Sleeps on syncer_cv for at most `us` (0: until signalled). */
static void syncer_sleep(long long us)
{
    if (!us) {
        aof_cond_wait_locked(&syncer_cv);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long ns = ts.tv_nsec + us * 1000;
    ts.tv_sec += ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    aof_cond_timedwait_locked(&syncer_cv, &ts);
}

static void *syncer_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "aof-sync");
    /* a thread that only waits (for a worker, for the disk): short slices,
     * so that each wake-up gets a core at once (runtime/slice.h) */
    (void)rt_slice_set(RT_SLICE_SHORT_US);
    void (*wake[AOF_MAX_REPLY_WAITERS])(void *);
    void *wake_arg[AOF_MAX_REPLY_WAITERS];
    aof_lock();
    for (;;) {
        uint64_t synced = aof_synced_locked(), need = 0;
        bool any = false;
        nwanting = 0;
        for (int i = 0; i < nwaiters; i++) {
            if (waiters[i].want && waiters[i].want <= synced) waiters[i].want = 0;
            if (!waiters[i].want && !waiters[i].wake_at) continue;
            any = true;
            nwanting++;
            if (waiters[i].want > need) need = waiters[i].want;
            if (waiters[i].wake_at > need) need = waiters[i].wake_at;
        }
        if (!any) {
            syncer_sleep(0);
            continue;
        }
        if (synced < need) {
            long long now = rt_now_us();
            long long wait = aof_gc_wait_us(&gc, aof_written_locked() - synced, now);
            publish_waits_locked();
            if (wait) {
                syncer_sleep(wait);   /* a worker's next write signals: look again */
                continue;
            }
            if (aof_sync_step_locked()) fsync_done_locked(synced, now, false);
            synced = aof_synced_locked();
        }
        int n = 0;
        for (int i = 0; i < nwaiters; i++) {
            if (!waiters[i].wake_at || waiters[i].wake_at > synced) continue;
            waiters[i].wake_at = 0;
            wake[n] = waiters[i].wake;
            wake_arg[n++] = waiters[i].arg;
        }
        if (!n) continue;
        aof_unlock();
        for (int i = 0; i < n; i++) wake[i](wake_arg[i]);
        aof_lock();
    }
    return NULL;
}

bool aof_reply_sync_inline(int waiter, uint64_t mark)
{
    aof_lock();
    uint64_t synced = aof_synced_locked();
    bool done = synced >= mark;
    if (!done && !aof_syncing_locked()) {
        long long now = rt_now_us();
        long long wait = aof_gc_wait_us(&gc, aof_written_locked() - synced, now);
        if (!wait && aof_sync_step_locked()) fsync_done_locked(synced, now, true);
        publish_waits_locked();
        synced = aof_synced_locked();
        done = synced >= mark;
    }
    /* what the worker asked the syncer for before is covered: no wake-up
     * for it (the caller releases its held replies itself) */
    if (done && waiter >= 0 && waiter < nwaiters) {
        if (waiters[waiter].wake_at <= synced) waiters[waiter].wake_at = 0;
        if (waiters[waiter].want <= synced) waiters[waiter].want = 0;
    }
    aof_unlock();
    return done;
}

int aof_reply_waiter(void (*wake)(void *arg), void *arg)
{
    aof_lock();
    int i = nwaiters < AOF_MAX_REPLY_WAITERS ? nwaiters++ : -1;
    if (i >= 0) {
        waiters[i].wake = wake;
        waiters[i].arg = arg;
        waiters[i].wake_at = waiters[i].want = 0;
    }
    aof_unlock();
    return i;
}

void aof_reply_wait(int waiter, uint64_t oldest, uint64_t newest)
{
    if (waiter < 0) {             /* no slot: wait here, as before group commit went async */
        aof_sync_to(newest > oldest ? newest : oldest);
        return;
    }
    aof_lock();
    bool more = false;
    if (oldest && (!waiters[waiter].wake_at || oldest < waiters[waiter].wake_at)) {
        waiters[waiter].wake_at = oldest;
        more = true;
    }
    if (newest > waiters[waiter].want) {
        waiters[waiter].want = newest;
        more = true;
    }
    if (more) {
        nwanting++;
        pthread_cond_signal(&syncer_cv);
    }
    aof_unlock();
}

int aof_gc_start(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);   /* the bounded wait is not moved by a clock change */
    pthread_cond_init(&syncer_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_t th;
    if (pthread_create(&th, NULL, syncer_main, NULL) != 0) return -1;
    pthread_detach(th);
    return 0;
}

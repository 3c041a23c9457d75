/* actor.c - runtime threads (one pthread + one libev loop each) and the
 * scheduling of the actors bound to them.
 *
 * Scheduling: every thread has a ready queue, itself an MPSC mailbox whose
 * nodes are the actors' sched_link. A send that finds an actor's mailbox
 * marked empty puts the actor on its thread's ready queue; a push that finds
 * the ready queue marked empty wakes the loop with ev_async_send. So a burst
 * of sends costs one wake-up, and an idle thread costs nothing.
 *
 * Fairness: one wake-up serves only the actors that were ready when it began
 * (a marker node is pushed behind them), each for at most RT_BATCH messages;
 * work that remains is re-queued and the loop is woken again, so it polls its
 * sockets and timers between rounds.
 *
 * Spinning (rt_thread_set_spin_us): a thread that just handled work watches
 * its ready queue and sockets a few microseconds before it sleeps; while it
 * does, senders skip the wake-up (see wake_thread and spin_before_sleep for
 * the handshake that keeps a push from being missed).
 *
 * Must never: run an actor on a thread other than its own, touch another
 * thread's loop (except through ev_async_send), or block.
 */
#include "runtime/actor.h"
#include "runtime/pollfd.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <ck_pr.h>

#define RT_MAX_PREPARE_HOOKS 8

struct rt_thread {
    struct ev_loop *loop;
    int poll_fd;                   /* the loop's epoll fd, or -1 (runtime/pollfd.h) */
    ev_async wake;                 /* "the ready queue went non-empty" */
    ev_async stop_async;           /* "rt_thread_stop was called" */
    ev_prepare prepare;            /* runs the prepare hooks */
    rt_mailbox_t ready;            /* actors with messages, via sched_link */
    rt_mailbox_t lazy_ready;       /* actors with lazy messages, via lazy_link (no wake-up) */
    rt_msg_t round_marker;         /* ends the current round in `ready` */
    bool marker_queued;            /* loop thread only */
    int stop_requested;            /* atomic */
    int index;
    bool started;
    pthread_t pthread;
    char name[16];
    struct { rt_hook_fn fn; void *arg; } hooks[RT_MAX_PREPARE_HOOKS];
    int hook_count;
    uint64_t wakeups;              /* written by the loop thread only (atomic store) */
    uint64_t messages;             /* idem */
    uint64_t wake_sends;           /* ev_async_send on `wake` by senders (atomic, any thread) */
    uint64_t lazy_sends;           /* rt_send_lazy pushes that left the thread asleep (atomic) */
    ev_check check;                /* runs what lazy sends queued (drain_lazy) */
    int lazy_wanted;               /* atomic: written by the loop thread, read by lazy senders */
    int spin_us;                   /* spin this long before sleeping after a busy round (0: never) */
    int busy;                      /* rt_thread_note_busy this round (spin after it): the loop thread
                                      writes it (atomic store), others may read it (rt_threads_quiet) */
    uint64_t busy_rounds;          /* rounds with rt_thread_note_busy (loop thread writes, atomic store) */
    int spinning;                  /* atomic: the loop spins in prepare_cb; senders need not wake it */
    uint64_t spins;                /* spins begun (loop thread writes, atomic store) */
    uint64_t spin_catches;         /* spins that ended because work arrived (idem) */
    uint64_t spin_ns;              /* time spent spinning (idem) */
    int spin_credit;               /* loop thread only: how well spinning has paid lately */
    unsigned spin_skipped;         /* loop thread only: busy rounds that did not spin */
    /* rt_thread_enable_borrow: who may touch the thread's lendable data. */
    _Atomic int token;             /* RT_TOKEN_* */
    bool borrowable;               /* rt_thread_enable_borrow was called */
    uint64_t borrows;              /* tokens taken by other threads (atomic add) */
    uint64_t borrow_waits;         /* wake-ups that found the token out (loop thread, atomic store) */
    /* rt_thread_set_linger_us: the loop thread's own, but the counters (atomic stores). */
    int linger_us;                 /* stretch a wake-up cycle of cluster-bus I/O to this (0: never) */
    bool bus_round;                /* rt_thread_note_bus_io this round */
    long long poll_ns, woke_ns;    /* CLOCK_MONOTONIC: the last poll began, it returned */
    uint64_t lingers, linger_ns;   /* lingers made, time spent in them */
};

enum { RT_TOKEN_OWNED = 0, RT_TOKEN_FREE = 1, RT_TOKEN_BORROWED = 2 };
/* An owner waiting for its token back: yields this many times, then sleeps
 * this long between looks. */
#define RT_BORROW_YIELDS 100
#define RT_BORROW_SLEEP_NS 20000

static _Thread_local rt_thread_t *current_thread;
static unsigned next_thread_index;  /* atomic */

/* Every live thread object, for statistics (INFO threads). */
#define RT_MAX_THREADS 256
static rt_thread_t *all_threads[RT_MAX_THREADS];
static pthread_mutex_t all_threads_lock = PTHREAD_MUTEX_INITIALIZER;

static void register_thread(rt_thread_t *t)
{
    pthread_mutex_lock(&all_threads_lock);
    for (int i = 0; i < RT_MAX_THREADS; i++)
        if (all_threads[i] == NULL) {
            all_threads[i] = t;
            break;
        }
    pthread_mutex_unlock(&all_threads_lock);
}

static void unregister_thread(rt_thread_t *t)
{
    pthread_mutex_lock(&all_threads_lock);
    for (int i = 0; i < RT_MAX_THREADS; i++)
        if (all_threads[i] == t)
            all_threads[i] = NULL;
    pthread_mutex_unlock(&all_threads_lock);
}

int rt_thread_stats_all(rt_thread_stats_t *out, int max)
{
    int n = 0;
    pthread_mutex_lock(&all_threads_lock);
    for (int i = 0; i < RT_MAX_THREADS && n < max; i++) {
        rt_thread_t *t = all_threads[i];
        if (t == NULL)
            continue;
        out[n].index = t->index;
        snprintf(out[n].name, sizeof out[n].name, "%s", t->name);
        out[n].wakeups = rt_thread_wakeups(t);
        out[n].messages = rt_thread_messages(t);
        out[n].wake_sends = rt_thread_wake_sends(t);
        out[n].lazy_sends = rt_thread_lazy_sends(t);
        out[n].spins = rt_thread_spins(t);
        out[n].spin_catches = rt_thread_spin_catches(t);
        out[n].spin_ns = rt_thread_spin_ns(t);
        out[n].borrowable = t->borrowable;
        out[n].borrows = ck_pr_load_64(&t->borrows);
        out[n].borrow_waits = ck_pr_load_64(&t->borrow_waits);
        out[n].lingers = ck_pr_load_64(&t->lingers);
        out[n].linger_ns = ck_pr_load_64(&t->linger_ns);
        n++;
    }
    pthread_mutex_unlock(&all_threads_lock);
    return n;
}

#define ACTOR_OF_LINK(link) \
    ((rt_actor_t *)((char *)(link) - offsetof(rt_actor_t, sched_link)))
#define ACTOR_OF_LAZY_LINK(link) \
    ((rt_actor_t *)((char *)(link) - offsetof(rt_actor_t, lazy_link)))

void rt_actor_init(rt_actor_t *actor, rt_thread_t *thread, const char *name,
                   rt_behaviour_fn behaviour, void *state)
{
    memset(&actor->sched_link, 0, sizeof actor->sched_link);
    memset(&actor->lazy_link, 0, sizeof actor->lazy_link);
    rt_mailbox_init(&actor->mailbox);
    rt_mailbox_init(&actor->lazy);
    actor->behaviour = behaviour;
    actor->thread = thread;
    actor->state = state;
    actor->name = name;
}

/* Wakes t's loop, whose ready (or wanted lazy) queue the caller just made
 * non-empty. A loop that is spinning (spin_before_sleep) will see that push
 * itself: no wake request. Otherwise libev writes its eventfd only when that
 * loop is polling or about to poll and no async is pending; the count is of
 * requests, an upper bound of the eventfd writes. */
static void wake_thread(rt_thread_t *t)
{
    /* Full fence (store->load): the caller's push is ordered before the load
     * of `spinning`. Paired with the fence in spin_before_sleep after it
     * clears the flag: either we see the spinner and it sees our push, or it
     * sees our push in its last look, or we wake it. */
    ck_pr_fence_memory();
    if (ck_pr_load_int(&t->spinning))
        return;
    /* Relaxed increment: a statistic. */
    ck_pr_inc_64(&t->wake_sends);
    ev_async_send(t->loop, &t->wake);
}

void rt_send(rt_actor_t *to, rt_msg_t *msg)
{
    if (!rt_mailbox_push(&to->mailbox, msg))
        return;                   /* the actor is already scheduled or running */
    rt_thread_t *t = to->thread;
    if (rt_mailbox_push(&t->ready, &to->sched_link))
        wake_thread(t);
}

void rt_send_lazy(rt_actor_t *to, rt_msg_t *msg)
{
    if (!rt_mailbox_push(&to->lazy, msg))
        return;                   /* already on its thread's lazy queue, or being drained */
    rt_thread_t *t = to->thread;
    if (!rt_mailbox_push(&t->lazy_ready, &to->lazy_link))
        return;                   /* the thread already has lazy work (see drain_lazy) */
    /* Full fence (store->load): our push, which took lazy_ready's "empty"
     * mark, is ordered before the load of lazy_wanted. Paired with the fence
     * in rt_thread_want_lazy_wakeups: either we see the flag and wake the
     * thread, or the thread sees our push before it sleeps. */
    ck_pr_fence_memory();
    if (ck_pr_load_int(&t->lazy_wanted)) {
        wake_thread(t);
        return;
    }
    /* Relaxed increment: a statistic. */
    ck_pr_inc_64(&t->lazy_sends);
}

void rt_thread_want_lazy_wakeups(bool on)
{
    rt_thread_t *t = current_thread;
    if (t == NULL || ck_pr_load_int(&t->lazy_wanted) == (int)on)
        return;
    /* Only this thread writes the flag; senders read it. */
    ck_pr_store_int(&t->lazy_wanted, on);
    if (!on)
        return;
    /* Full fence (store->load), paired with rt_send_lazy's: a lazy push that
     * did not see the flag is visible to the check below. */
    ck_pr_fence_memory();
    if (!rt_mailbox_is_marked_empty(&t->lazy_ready))
        ev_async_send(t->loop, &t->wake);   /* our own running loop: no eventfd write */
}

/* Runs the messages lazy sends queued (rt_send_lazy), each actor for at most
 * RT_BATCH of them; what remains, or a push still in flight, brings the loop
 * back after I/O. Top level of a loop callback only (never inside a
 * behaviour). */
static void drain_lazy(rt_thread_t *t)
{
    bool again = false;
    rt_msg_t *link;
    while (!again && (link = rt_mailbox_pop(&t->lazy_ready)) != NULL) {
        rt_actor_t *a = ACTOR_OF_LAZY_LINK(link);
        int handled = 0;
        rt_msg_t *msg;
        while (handled < RT_BATCH && (msg = rt_mailbox_pop(&a->lazy)) != NULL) {
            a->behaviour(a, msg);
            handled++;
        }
        ck_pr_store_64(&t->messages, t->messages + (uint64_t)handled);
        if (handled == RT_BATCH || !rt_mailbox_mark_empty(&a->lazy)) {
            /* Still ours; lazy_ready is not marked while we drain it. */
            rt_mailbox_push(&t->lazy_ready, &a->lazy_link);
            again = true;
        }
    }
    if (again || !rt_mailbox_mark_empty(&t->lazy_ready))
        ev_async_send(t->loop, &t->wake);
}

/* Runs one actor for at most RT_BATCH messages, then either lets it go idle
 * (mailbox marked empty: the next send reschedules it) or re-queues it. */
static void run_actor(rt_thread_t *t, rt_actor_t *a)
{
    int handled = 0;
    rt_msg_t *msg;
    while (handled < RT_BATCH && (msg = rt_mailbox_pop(&a->mailbox)) != NULL) {
        a->behaviour(a, msg);
        handled++;
    }
    ck_pr_store_64(&t->messages, t->messages + (uint64_t)handled);
    if (handled == RT_BATCH || !rt_mailbox_mark_empty(&a->mailbox)) {
        /* Still ours: it goes behind the round marker, i.e. to the next round.
         * The ready queue is not marked while we drain it, so no wake here. */
        rt_mailbox_push(&t->ready, &a->sched_link);
    }
    /* After a successful mark another thread may already have rescheduled
     * `a`: it must not be touched again here. */
}

static void wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)revents;
    rt_thread_t *t = w->data;
    ck_pr_store_64(&t->wakeups, t->wakeups + 1);
    /* Lazy messages first: a sender's lazy message is then handled before
     * the ordinary ones it sent later (unless those were already queued). */
    if (!rt_mailbox_is_marked_empty(&t->lazy_ready))
        drain_lazy(t);

    if (!t->marker_queued) {
        rt_mailbox_push(&t->ready, &t->round_marker);
        t->marker_queued = true;
    }
    for (;;) {
        rt_msg_t *link = rt_mailbox_pop(&t->ready);
        if (link == NULL) {
            /* A push ahead of the marker is still in flight; poll I/O and
             * come back (the marker stays queued). */
            ev_async_send(loop, &t->wake);
            return;
        }
        if (link == &t->round_marker) {
            t->marker_queued = false;
            break;
        }
        run_actor(t, ACTOR_OF_LINK(link));
    }
    if (!rt_mailbox_mark_empty(&t->ready))
        ev_async_send(loop, &t->wake);   /* more work: next round after I/O */
}


/* After every poll, before the other callbacks: runs what lazy sends queued
 * without waking us, so it comes before the I/O that woke us. */
static long long clock_ns(clockid_t id);

static void check_cb(struct ev_loop *loop, ev_check *w, int revents)
{
    (void)loop;
    (void)revents;
    rt_thread_t *t = w->data;
    if (t->linger_us > 0)
        t->woke_ns = clock_ns(CLOCK_MONOTONIC);
    if (!rt_mailbox_is_marked_empty(&t->lazy_ready))
        drain_lazy(t);
}

static void stop_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

static void token_release(struct ev_loop *loop) EV_NOEXCEPT;
static void token_acquire(struct ev_loop *loop) EV_NOEXCEPT;

/* A sched_yield that returns later than this let another thread run. */
#define RT_SPIN_CONTENDED_NS 20000
/* Bounds of the spin credit, and how often a thread without credit tries. */
#define RT_SPIN_CREDIT_MAX 8
#define RT_SPIN_PROBE 16

/* Work for the loop that a sender may have left without a wake request
 * because we were spinning: ready actors, or lazy messages we wait on. */
static bool spin_found_work(rt_thread_t *t)
{
    if (!rt_mailbox_is_marked_empty(&t->ready) || ck_pr_load_int(&t->stop_requested))
        return true;
    return ck_pr_load_int(&t->lazy_wanted) && !rt_mailbox_is_marked_empty(&t->lazy_ready);
}

/* Last thing before the loop polls: after a round that handled work the
 * thread expects more of (rt_thread_note_busy), watch
 * for more for up to spin_us before sleeping in epoll_wait. A message pushed
 * meanwhile costs its sender no eventfd write and us no sleep and wake-up
 * (the scheduler's latency, on a VM an inter-processor interrupt); socket
 * readiness is peeked at with a non-blocking epoll_wait (level-triggered:
 * the loop still gets the event). sched_yield lets whatever else is
 * runnable on this CPU (another worker, the client on a small machine) go
 * first, so the spin only uses time nobody else wants. libev does not write
 * its eventfd here (it wants a pipe write only once it is about to poll), so
 * a wake-up we ask of ourselves below costs no syscall. */
static void spin_before_sleep(rt_thread_t *t)
{
    if (t->spin_us <= 0 || t->poll_fd < 0 || !t->busy)
        return;
    ck_pr_store_int(&t->busy, 0);
    /* Spin only while it pays: a catch earns a credit, a spin that ran out
     * (or found the CPU wanted) costs two, so spinning goes on where more
     * than two in three spins catch something. Without credit, one busy
     * round in RT_SPIN_PROBE still spins, to notice when it pays again. */
    if (t->spin_credit <= 0 && (++t->spin_skipped % RT_SPIN_PROBE) != 0)
        return;
    /* Relaxed stores: only this thread writes these counters. */
    ck_pr_store_64(&t->spins, t->spins + 1);
    /* The spin runs none of the thread's own code either: its data may be
     * borrowed meanwhile, as while it sleeps (rt_thread_enable_borrow). */
    if (t->borrowable)
        token_release(t->loop);
    ck_pr_store_int(&t->spinning, 1);
    long long start = clock_ns(CLOCK_MONOTONIC);
    long long end = start + (long long)t->spin_us * 1000;
    long long before = start;
    bool caught = false;
    for (;;) {
        if (spin_found_work(t)) {
            caught = true;
            break;
        }
        struct epoll_event ev;
        if (epoll_wait(t->poll_fd, &ev, 1, 0) > 0) {
            caught = true;
            break;
        }
        before = clock_ns(CLOCK_MONOTONIC);
        if (before > end)
            break;
        sched_yield();
        /* A yield that took long ran someone else: the CPU is wanted (more
         * runnable threads than cores). Spinning on would only take turns
         * with them; sleep instead and leave them the CPU. */
        long long after = clock_ns(CLOCK_MONOTONIC);
        if (after - before > RT_SPIN_CONTENDED_NS)
            break;
        before = after;
    }
    ck_pr_store_int(&t->spinning, 0);
    /* Up to the last clock read: a yield that ran someone else is not ours. */
    ck_pr_store_64(&t->spin_ns, t->spin_ns + (uint64_t)(before - start));
    if (t->borrowable)
        token_acquire(t->loop);    /* waits for a borrower to give it back */
    /* Full fence (store->load), paired with wake_thread's: a sender that saw
     * us spinning and skipped its wake request pushed before this look. */
    ck_pr_fence_memory();
    if (spin_found_work(t)) {
        caught = true;
        ev_async_send(t->loop, &t->wake);   /* our own loop: no eventfd write here */
    }
    if (caught) {
        ck_pr_store_64(&t->spin_catches, t->spin_catches + 1);
        if (t->spin_credit < RT_SPIN_CREDIT_MAX)
            t->spin_credit++;
    } else if (t->spin_credit > -RT_SPIN_CREDIT_MAX) {
        t->spin_credit -= 2;
    }
}

/* After a round that only read cluster-bus links (rt_thread_note_bus_io; no
 * client work, which spins instead) when the poll before it slept less than
 * linger_us: the bus wakes the thread faster than once per linger_us, each
 * wake-up for a few links' frames. Sleeping out the rest of linger_us from
 * that wake-up lets more links fill before the next poll, so one wake-up,
 * one read(2) and one write(2) per link carry more frames (each costs the
 * same whatever it carries). Messages and sockets wait at most linger_us;
 * the thread's data may be borrowed meanwhile, as while it polls; a
 * sender seeing `spinning` skips its wake request and the look after the
 * sleep finds its message (the spin's handshake). A bus that wakes the
 * thread less often than that (a steady cluster: a few frames per
 * millisecond at most) never lingers. */
static void linger_before_sleep(rt_thread_t *t)
{
    if (t->linger_us <= 0 || !t->bus_round)
        return;
    t->bus_round = false;
    long long span = (long long)t->linger_us * 1000;
    if (t->busy || t->woke_ns - t->poll_ns >= span)
        return;
    long long now = clock_ns(CLOCK_MONOTONIC);
    long long left = t->woke_ns + span - now;
    if (left <= 0)
        return;
    /* Work already queued (an actor that used up its round's batch, a
     * message sent during the round) runs now: lingering waits only for
     * what has not arrived yet. */
    if (spin_found_work(t))
        return;
    if (t->borrowable)
        token_release(t->loop);
    ck_pr_store_int(&t->spinning, 1);
    struct timespec pause = { 0, left };
    nanosleep(&pause, NULL);
    ck_pr_store_int(&t->spinning, 0);
    long long after = clock_ns(CLOCK_MONOTONIC);
    /* Relaxed stores: only this thread writes these counters. */
    ck_pr_store_64(&t->lingers, t->lingers + 1);
    ck_pr_store_64(&t->linger_ns, t->linger_ns + (uint64_t)(after - now));
    if (t->borrowable)
        token_acquire(t->loop);    /* waits for a borrower to give it back */
    /* Full fence (store->load), paired with wake_thread's, as after a spin. */
    ck_pr_fence_memory();
    if (spin_found_work(t))
        ev_async_send(t->loop, &t->wake);   /* our own loop: no eventfd write here */
}

static void prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)loop;
    (void)revents;
    rt_thread_t *t = w->data;
    for (int i = 0; i < t->hook_count; i++)
        t->hooks[i].fn(t, t->hooks[i].arg);
    linger_before_sleep(t);
    spin_before_sleep(t);
    ck_pr_store_int(&t->busy, 0);   /* "this round": spin_before_sleep clears it only when it may spin */
    if (t->linger_us > 0)
        t->poll_ns = clock_ns(CLOCK_MONOTONIC);
}

/* libev calls these right before and right after the blocking poll
 * (ev_set_loop_release_cb): the only stretch in which the loop thread runs
 * none of its own code, so the only one in which its data may be lent. */
static void token_release(struct ev_loop *loop) EV_NOEXCEPT
{
    rt_thread_t *t = ev_userdata(loop);
    /* Release: everything this thread wrote so far happens before a
     * borrower's acquiring exchange. */
    atomic_store_explicit(&t->token, RT_TOKEN_FREE, memory_order_release);
}

static void token_acquire(struct ev_loop *loop) EV_NOEXCEPT
{
    rt_thread_t *t = ev_userdata(loop);
    int expect = RT_TOKEN_FREE;
    /* Acquire: a borrower's writes (given back with a release store) happen
     * before anything this thread does next. */
    if (atomic_compare_exchange_strong_explicit(&t->token, &expect, RT_TOKEN_OWNED,
                                                memory_order_acquire, memory_order_relaxed))
        return;
    ck_pr_store_64(&t->borrow_waits, t->borrow_waits + 1);
    /* Borrowed: the holder runs one command of ours, usually a few
     * microseconds; yield so that, on a busy CPU, it gets to finish. A
     * long command (a big SORT or union) would make the yields burn a
     * CPU: after a while, sleep between looks instead. */
    for (int looks = 0;; looks++) {
        expect = RT_TOKEN_FREE;
        if (atomic_compare_exchange_weak_explicit(&t->token, &expect, RT_TOKEN_OWNED,
                                                  memory_order_acquire, memory_order_relaxed))
            return;
        if (looks < RT_BORROW_YIELDS) {
            sched_yield();
        } else {
            struct timespec pause = { 0, RT_BORROW_SLEEP_NS };
            nanosleep(&pause, NULL);
        }
    }
}

void rt_thread_enable_borrow(rt_thread_t *t)
{
    atomic_store_explicit(&t->token, RT_TOKEN_OWNED, memory_order_relaxed);
    t->borrowable = true;
    ev_set_loop_release_cb(t->loop, token_release, token_acquire);
}

bool rt_thread_try_borrow(rt_thread_t *t)
{
    /* A plain load first: a thread that is awake costs the caller no
     * locked instruction and the owner no cache-line steal. */
    if (atomic_load_explicit(&t->token, memory_order_relaxed) != RT_TOKEN_FREE)
        return false;
    int expect = RT_TOKEN_FREE;
    /* Acquire: pairs with the owner's (or the last borrower's) release. */
    if (!atomic_compare_exchange_strong_explicit(&t->token, &expect, RT_TOKEN_BORROWED,
                                                 memory_order_acquire, memory_order_relaxed))
        return false;
    ck_pr_inc_64(&t->borrows);     /* a statistic */
    return true;
}

bool rt_thread_borrow_wait(rt_thread_t *t, int max_us)
{
    if (rt_thread_try_borrow(t)) return true;
    long long until = rt_mono_us() + max_us;
    /* relaxed: only a hint of whom the token is with; the CAS acquires */
    while (atomic_load_explicit(&t->token, memory_order_relaxed) == RT_TOKEN_BORROWED && rt_mono_us() < until) {
        sched_yield();     /* the holder may be waiting for this CPU */
        if (rt_thread_try_borrow(t)) return true;
    }
    return rt_thread_try_borrow(t);
}

void rt_thread_unborrow(rt_thread_t *t)
{
    /* Release: our writes to the lent data happen before the owner's (or
     * the next borrower's) acquire. */
    atomic_store_explicit(&t->token, RT_TOKEN_FREE, memory_order_release);
}

bool rt_actor_mailbox_drained(rt_actor_t *actor)
{
    return rt_mailbox_is_marked_empty(&actor->mailbox);
}

void rt_thread_set_spin_us(rt_thread_t *t, int us)
{
    t->spin_us = us;
    t->spin_credit = RT_SPIN_CREDIT_MAX;
}

void rt_thread_note_busy(void)
{
    rt_thread_t *t = current_thread;
    /* Relaxed stores: only this thread writes them; rt_threads_quiet wants
     * a count that moves and a flag, not an order with anything else. */
    if (t != NULL && !t->busy) {
        ck_pr_store_int(&t->busy, 1);
        ck_pr_store_64(&t->busy_rounds, t->busy_rounds + 1);
    }
}

bool rt_threads_quiet(unsigned long long *rounds)
{
    unsigned long long sum = 0;
    bool busy_now = false;
    pthread_mutex_lock(&all_threads_lock);
    for (int i = 0; i < RT_MAX_THREADS; i++)
        if (all_threads[i] != NULL) {
            sum += ck_pr_load_64(&all_threads[i]->busy_rounds);
            if (ck_pr_load_int(&all_threads[i]->busy))
                busy_now = true;
        }
    pthread_mutex_unlock(&all_threads_lock);
    bool quiet = !busy_now && sum == *rounds;
    *rounds = sum;
    return quiet;
}

void rt_thread_set_linger_us(rt_thread_t *t, int us)
{
    t->linger_us = us;
}

void rt_thread_note_bus_io(void)
{
    if (current_thread != NULL)
        current_thread->bus_round = true;
}

bool rt_thread_work_waiting(void)
{
    rt_thread_t *t = current_thread;
    if (t == NULL)
        return false;
    if (spin_found_work(t))
        return true;
    struct epoll_event ev;
    return t->poll_fd >= 0 && epoll_wait(t->poll_fd, &ev, 1, 0) > 0;
}

rt_thread_t *rt_thread_create(const char *name)
{
    rt_thread_t *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    /* NOSIGMASK: signals belong to main's handling, not to worker loops. */
    t->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
    if (t->loop == NULL) {
        free(t);
        return NULL;
    }
    ev_set_userdata(t->loop, t);
    t->poll_fd = rt_pollfd_find(t->loop);   /* before any watcher of ours */
    snprintf(t->name, sizeof t->name, "%s", name ? name : "rt");
    /* Relaxed is enough: the index only needs to be unique. */
    t->index = (int)ck_pr_faa_uint(&next_thread_index, 1);
    rt_mailbox_init(&t->ready);
    rt_mailbox_init(&t->lazy_ready);

    ev_async_init(&t->wake, wake_cb);
    t->wake.data = t;
    ev_async_start(t->loop, &t->wake);
    ev_async_init(&t->stop_async, stop_cb);
    t->stop_async.data = t;
    ev_async_start(t->loop, &t->stop_async);
    ev_prepare_init(&t->prepare, prepare_cb);
    t->prepare.data = t;
    ev_prepare_start(t->loop, &t->prepare);
    ev_check_init(&t->check, check_cb);
    t->check.data = t;
    ev_check_start(t->loop, &t->check);
    register_thread(t);
    return t;
}

struct ev_loop *rt_thread_loop(rt_thread_t *t)
{
    return t->loop;
}

void rt_thread_forget_fd(rt_thread_t *t, int fd)
{
    rt_pollfd_forget(t->poll_fd, fd);
}

static void run_loop(rt_thread_t *t)
{
    current_thread = t;
    /* Acquire: pairs with the store in rt_thread_stop; ev_run only returns
     * early if every watcher stopped, so loop until stop was asked for. */
    while (!ck_pr_load_int(&t->stop_requested))
        ev_run(t->loop, 0);
    current_thread = NULL;
}

/* Not static: with -rdynamic every actor thread's crash trace then names a
 * function of the node (a signal sent with kill may land on any thread). */
void *rt_thread_entry(void *arg)
{
    rt_thread_t *t = arg;
    pthread_setname_np(pthread_self(), t->name);
    run_loop(t);
    return NULL;
}

int rt_spawn_detached(void *(*fn)(void *), void *arg)
{
    pthread_t th;
    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc != 0) return rc;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&th, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    return rc;
}

int rt_thread_start(rt_thread_t *t)
{
    int rc = pthread_create(&t->pthread, NULL, rt_thread_entry, t);
    if (rc == 0)
        t->started = true;
    return rc;
}

void rt_thread_stop(rt_thread_t *t)
{
    /* Store then ev_async_send (which fences): the loop sees the flag when
     * it handles the async event, whichever thread called us. */
    ck_pr_store_int(&t->stop_requested, 1);
    ev_async_send(t->loop, &t->stop_async);
}

void rt_thread_join(rt_thread_t *t)
{
    if (t->started) {
        pthread_join(t->pthread, NULL);
        t->started = false;
    }
}

void rt_thread_destroy(rt_thread_t *t)
{
    if (t == NULL)
        return;
    ev_async_stop(t->loop, &t->wake);
    ev_async_stop(t->loop, &t->stop_async);
    ev_prepare_stop(t->loop, &t->prepare);
    ev_check_stop(t->loop, &t->check);
    unregister_thread(t);
    ev_loop_destroy(t->loop);
    free(t);
}

bool rt_actor_rebind(rt_actor_t *actor, rt_thread_t *to)
{
    if (!rt_actor_is_idle(actor))
        return false;
    /* Plain store: senders read `thread` only after a push that found the
     * mailbox empty, and the caller holds them off until after this (their
     * lock orders it before their push). */
    actor->thread = to;
    return true;
}

bool rt_actor_is_idle(rt_actor_t *actor)
{
    /* run_actor leaves the actor alone once its mailbox is marked empty:
     * the mark is the runtime's last write to it (see run_actor). */
    return rt_mailbox_is_marked_empty(&actor->mailbox) &&
           rt_mailbox_is_marked_empty(&actor->lazy);
}

rt_thread_t *rt_thread_self(void)
{
    return current_thread;
}

int rt_thread_index(const rt_thread_t *t)
{
    return t->index;
}

const char *rt_thread_name(const rt_thread_t *t)
{
    return t->name;
}

unsigned long long rt_thread_wakeups(const rt_thread_t *t)
{
    /* Atomic load of a counter only the loop thread writes. */
    return ck_pr_load_64((uint64_t *)&t->wakeups);
}

unsigned long long rt_thread_messages(const rt_thread_t *t)
{
    return ck_pr_load_64((uint64_t *)&t->messages);
}

unsigned long long rt_thread_wake_sends(const rt_thread_t *t)
{
    return ck_pr_load_64((uint64_t *)&t->wake_sends);
}

unsigned long long rt_thread_lazy_sends(const rt_thread_t *t)
{
    return ck_pr_load_64((uint64_t *)&t->lazy_sends);
}

unsigned long long rt_thread_spins(const rt_thread_t *t)
{
    return ck_pr_load_64((uint64_t *)&t->spins);
}

unsigned long long rt_thread_spin_catches(const rt_thread_t *t)
{
    return ck_pr_load_64((uint64_t *)&t->spin_catches);
}

unsigned long long rt_thread_spin_ns(const rt_thread_t *t)
{
    return ck_pr_load_64((uint64_t *)&t->spin_ns);
}

int rt_thread_add_prepare_hook(rt_thread_t *t, rt_hook_fn fn, void *arg)
{
    if (t->hook_count >= RT_MAX_PREPARE_HOOKS)
        return -1;
    t->hooks[t->hook_count].fn = fn;
    t->hooks[t->hook_count].arg = arg;
    t->hook_count++;
    return 0;
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    rt_timer_t *timer = w->data;
    timer->cb(timer, timer->arg);
}

void rt_timer_start(rt_timer_t *timer, rt_thread_t *t, double after_ms, double repeat_ms,
                    void (*cb)(rt_timer_t *, void *), void *arg)
{
    timer->cb = cb;
    timer->arg = arg;
    timer->thread = t;
    ev_timer_init(&timer->w, timer_cb, after_ms / 1000.0, repeat_ms / 1000.0);
    timer->w.data = timer;
    /* The loop's cached time may be stale after a long batch of messages;
     * refresh it so `after_ms` counts from now. */
    ev_now_update(t->loop);
    ev_timer_start(t->loop, &timer->w);
}

void rt_timer_stop(rt_timer_t *timer)
{
    if (timer->thread != NULL)
        ev_timer_stop(timer->thread->loop, &timer->w);
}

static long long clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long rt_now_ms(void)
{
    return clock_ns(CLOCK_REALTIME) / 1000000LL;
}

long long rt_now_us(void)
{
    return clock_ns(CLOCK_REALTIME) / 1000LL;
}

long long rt_mono_ms(void)
{
    return clock_ns(CLOCK_MONOTONIC) / 1000000LL;
}

long long rt_mono_us(void)
{
    return clock_ns(CLOCK_MONOTONIC) / 1000LL;
}

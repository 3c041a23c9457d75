/* actor.h - actors bound to runtime threads, each thread driving one libev loop.
 *
 * An actor is a behaviour function plus private state plus a mailbox. It is
 * bound to one rt_thread; its behaviour runs only on that thread, one message
 * at a time, so the state needs no locks. An idle actor whose senders the
 * caller holds off may be bound to another thread (rt_actor_rebind). Sending pushes onto the
 * mailbox; when the mailbox goes from empty to non-empty the actor is put on
 * its thread's ready queue and, if that queue was idle, the loop is woken with
 * ev_async_send. Each wake-up drains at most RT_BATCH messages per actor and
 * then yields to I/O, so no actor starves the loop or its neighbours.
 *
 * Must never: run an actor's behaviour on two threads, or block in a behaviour.
 */
#ifndef SHOAL_RUNTIME_ACTOR_H
#define SHOAL_RUNTIME_ACTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <ev.h>
#include "runtime/mailbox.h"

#define RT_BATCH 64

typedef struct rt_thread rt_thread_t;
typedef struct rt_actor rt_actor_t;

/* Handles one message. The message belongs to the behaviour (free it, keep
 * it, or forward it). */
typedef void (*rt_behaviour_fn)(rt_actor_t *self, rt_msg_t *msg);

struct rt_actor {
    rt_msg_t sched_link;      /* link in the thread's ready queue (internal) */
    rt_mailbox_t mailbox;
    rt_msg_t lazy_link;       /* link in the thread's lazy queue (internal) */
    rt_mailbox_t lazy;        /* messages sent with rt_send_lazy */
    rt_behaviour_fn behaviour;
    rt_thread_t *thread;
    void *state;              /* the actor's private state */
    const char *name;
};

/* Binds `actor` (caller-owned storage) to `thread`. Call before any send.
 * The storage must outlive the last message sent to the actor: the runtime
 * touches the actor after its behaviour returns. */
void rt_actor_init(rt_actor_t *actor, rt_thread_t *thread, const char *name,
                   rt_behaviour_fn behaviour, void *state);

/* Binds an idle actor (rt_actor_is_idle) to another thread: its next
 * message runs there. The caller must keep every sender out from before the
 * idle check to after the rebind (a lock that all senders take around
 * rt_send), must not be inside the actor's behaviour, and must have moved
 * the actor's watchers itself (rt_thread_forget_fd); what the actor's state
 * needs on its new thread, it sets up in the first message it gets there.
 * The send that schedules it on the new thread orders the old thread's
 * writes before the new thread's reads (the mailbox's release/acquire).
 * False, changing nothing, when the actor is not idle. */
bool rt_actor_rebind(rt_actor_t *actor, rt_thread_t *to);

/* Any thread. Ownership of `msg` passes to the receiving actor. */
void rt_send(rt_actor_t *to, rt_msg_t *msg);

/* Any thread. As rt_send, but an idle receiving thread is not woken (no
 * eventfd write) unless it asked for it with rt_thread_want_lazy_wakeups:
 * the message waits until anything else wakes the loop (I/O, a timer, an
 * ordinary send) and is handled first in that iteration, before its I/O
 * callbacks and before ordinary messages that arrived while it slept (up to
 * RT_BATCH lazy messages per actor; more wait for the next round). An
 * ordinary message sent later by the same sender can still be handled first
 * when the receiver is busy. For messages nobody but the receiver waits on;
 * the receiver says when it does. */
void rt_send_lazy(rt_actor_t *to, rt_msg_t *msg);

/* On a runtime thread: whether lazy sends to this thread's actors must wake
 * it (true while it waits on one of them). Turning it on while such a
 * message is already queued makes the loop run it without sleeping. */
void rt_thread_want_lazy_wakeups(bool on);

/* Any thread. True once the runtime is done with `actor`: its mailbox is
 * empty and the actor is neither scheduled nor running, and the runtime's
 * last touches of it happen before the caller's next step (acquire). When
 * no one can send to the actor any more, it stays idle for good and its
 * storage may then be freed; until then the answer can go stale at once. */
bool rt_actor_is_idle(rt_actor_t *actor);

/* Creates a thread object with its own ev loop (not started). Returns NULL
 * on allocation failure. `name` is shown in logs and /proc (<= 15 chars). */
rt_thread_t *rt_thread_create(const char *name);

/* The thread's loop, for registering ev_io/ev_timer watchers. Watchers may be
 * started only from the owning thread once it runs (or before it starts). */
struct ev_loop *rt_thread_loop(rt_thread_t *t);

/* Takes `fd` out of the loop's kernel poll set at once. Call on t's thread,
 * after stopping every watcher of fd, before the fd goes to another thread:
 * libev alone would remove it only at its next event, by number, possibly
 * after the new owner closed it and the number was reused (runtime/pollfd.h). */
void rt_thread_forget_fd(rt_thread_t *t, int fd);

/* Starts a detached pthread running fn(arg), for one-off jobs that end on
 * their own (a reload, a save's writer) and that nobody joins. 0 or the
 * errno of pthread_create; on failure fn was not called and arg is still
 * the caller's. */
int rt_spawn_detached(void *(*fn)(void *), void *arg);

/* Starts a pthread that runs the loop until rt_thread_stop. 0 or errno. */
int rt_thread_start(rt_thread_t *t);
/* The start routine of every actor thread (pthread_create); exported so that
 * crash reports name it (runtime/crash.c, -rdynamic). */
void *rt_thread_entry(void *arg);

/* Any thread: asks the loop to exit after its current iteration. */
void rt_thread_stop(rt_thread_t *t);

/* Waits for a started thread to end. */
void rt_thread_join(rt_thread_t *t);

/* Frees the thread object and its loop; the thread must have ended and no
 * one may send to its actors any more. Messages still queued are not freed
 * (only their actors know how). */
void rt_thread_destroy(rt_thread_t *t);

/* The rt_thread running the calling code, or NULL outside runtime threads. */
rt_thread_t *rt_thread_self(void);

/* Index given at creation order (0, 1, ...). */
int rt_thread_index(const rt_thread_t *t);

/* The name given at creation (truncated to 15 chars). */
const char *rt_thread_name(const rt_thread_t *t);

/* Statistics, readable from any thread: how many times the loop was woken to
 * run ready actors, and how many messages its actors handled. Messages per
 * wake-up show how well sends are batched. */
unsigned long long rt_thread_wakeups(const rt_thread_t *t);
unsigned long long rt_thread_messages(const rt_thread_t *t);
/* Wake requests made to t's loop by senders (ev_async_send: libev writes
 * the eventfd only when the loop polls and no wake is pending, so this is
 * an upper bound of eventfd writes), and lazy sends that did not wake it. */
unsigned long long rt_thread_wake_sends(const rt_thread_t *t);
unsigned long long rt_thread_lazy_sends(const rt_thread_t *t);
/* Spins before sleep begun (rt_thread_set_spin_us), and those that ended
 * because work came (a message, a ready socket) instead of running out. */
unsigned long long rt_thread_spins(const rt_thread_t *t);
unsigned long long rt_thread_spin_catches(const rt_thread_t *t);
/* Nanoseconds the thread spent spinning so far (a yield that let another
 * thread run is not counted): CPU time it would have given away asleep. */
unsigned long long rt_thread_spin_ns(const rt_thread_t *t);

/* Statistics of every live thread object, in creation slots; returns how
 * many were written (at most max). Any thread. */
typedef struct rt_thread_stats {
    int index;
    char name[16];
    unsigned long long wakeups, messages, wake_sends, lazy_sends;
    unsigned long long spins, spin_catches;   /* see rt_thread_set_spin_us */
    unsigned long long spin_ns;               /* see rt_thread_spin_ns */
    bool borrowable;                          /* see rt_thread_enable_borrow */
    unsigned long long borrows, borrow_waits;
    unsigned long long lingers, linger_ns;    /* see rt_thread_set_linger_us */
} rt_thread_stats_t;
int rt_thread_stats_all(rt_thread_stats_t *out, int max);

/* Spinning before sleep. After a round in which the thread reported work it
 * expects more of soon (rt_thread_note_busy), the loop watches
 * its ready queue and its sockets for up to `us` microseconds, yielding the
 * CPU between looks, before it sleeps in epoll_wait. Messages sent meanwhile
 * need no wake-up (no eventfd write for the sender, no sleep and wake for
 * us): for threads that answer requests whose next one is likely to come
 * within microseconds. It stops early when a yield let another thread run
 * (the CPU is wanted), and a thread whose spins mostly run out stops
 * spinning but for one busy round in 16, until spins catch work again. A
 * round woken only by a timer does not spin, so an idle thread costs what it
 * did. 0 (the default) never spins. Set before the thread starts. The spins
 * begun, and those that ended because work came, are in rt_thread_stats. */
void rt_thread_set_spin_us(rt_thread_t *t, int us);
/* On a runtime thread: this round handled work of the kind that comes in
 * quick succession (a client request, a batch of them), so the loop may
 * spin before it sleeps. Other work (timers, cluster-bus traffic) does not
 * call it and never makes the thread spin. */
void rt_thread_note_busy(void);
/* Whether no runtime thread did client work (rt_thread_note_busy) since the
 * call that left *rounds as it is, nor is in a round doing it now (a long
 * command), e.g. since a tick a second ago; *rounds becomes the count of
 * such rounds so far (start it at 0: the first call then says "not quiet"
 * once there was any). A hint for work that would get in the way of
 * clients (runtime/memtrim.c). Any thread. */
bool rt_threads_quiet(unsigned long long *rounds);
/* Lingering before sleep, for threads that serve cluster-bus links. After a
 * round in which the thread read bus links (rt_thread_note_bus_io) and no
 * client work (rt_thread_note_busy), when the poll before that round slept
 * less than `us` microseconds, the loop sleeps out the rest of `us` from
 * that wake-up before it polls again: a bus that wakes the thread faster
 * than that (a flood of frames from many links, each wake-up finding a few)
 * is then read in bigger batches, fewer wake-ups, reads and writes per
 * frame. Work arriving meanwhile waits at most `us`; the thread's data may
 * be borrowed (rt_thread_enable_borrow) and messages need no wake-up, as
 * during a spin. A thread woken less often never lingers. 0 (the default)
 * never lingers. Set before the thread starts. Counted in rt_thread_stats. */
void rt_thread_set_linger_us(rt_thread_t *t, int us);
/* On a runtime thread: this round read cluster-bus links (see above). */
void rt_thread_note_bus_io(void);
/* On a runtime thread, before its loop sleeps: true when work already
 * waits for the loop's next round (a message, or an fd of its poll set
 * ready: a non-blocking peek, the loop still gets the event). For a
 * choice between blocking now and going on with that work. */
bool rt_thread_work_waiting(void);

/* Borrowing a sleeping thread's data. A thread that enables it (before it
 * starts) lends out everything only its own code touches while its loop
 * sleeps in the poll: from just before the blocking epoll_wait to just after
 * it, its ownership token is free. Another thread may take the token with
 * rt_thread_try_borrow (it fails unless the owner sleeps), use the owner's
 * data as if it ran on the owner's thread, and give it back with
 * rt_thread_unborrow. An owner that wakes while its token is out waits
 * (yielding the CPU) until it is back before it runs any callback. Taking
 * the token acquires what the owner (or the previous borrower) wrote before
 * letting it go, and giving it back releases the borrower's writes to the
 * next holder, as a lock would; the owner never blocks a borrower, so a
 * borrower must hold the token only briefly and never wait while it does.
 * The owner's loop, timers and actors stay its own: a borrower must not
 * touch them (messages to its actors are fine). Borrows and the owner's
 * waits for a borrowed token are counted in rt_thread_stats. */
void rt_thread_enable_borrow(rt_thread_t *t);
bool rt_thread_try_borrow(rt_thread_t *t);
/* rt_thread_try_borrow, and while the token is out with another borrower
 * (the owner still asleep), yields and tries again, for up to max_us: a
 * borrower holds it for a few tens of microseconds, and a thread that gives
 * up would send the owner a message that wakes it. Holds nothing while it
 * waits. */
bool rt_thread_borrow_wait(rt_thread_t *t, int max_us);
void rt_thread_unborrow(rt_thread_t *t);
/* True when no message waits in the actor's (ordinary) mailbox: everything
 * sent to it so far has been handled. Meaningful to a thread holding the
 * actor's thread token (rt_thread_try_borrow); a racing send may make it
 * stale at once otherwise. */
bool rt_actor_mailbox_drained(rt_actor_t *actor);

/* Hooks run by the loop of `t` once per iteration, before it sleeps (ev_prepare),
 * e.g. to flush client output or quiesce snapshot readers. At most 8: returns
 * 0, or -1 when full. Add them before the thread starts or from the thread. */
typedef void (*rt_hook_fn)(rt_thread_t *t, void *arg);
int rt_thread_add_prepare_hook(rt_thread_t *t, rt_hook_fn fn, void *arg);

/* Convenience timer bound to a thread's loop. `cb` runs on that thread.
 * after_ms/repeat_ms as ev_timer (repeat 0 = one-shot). Caller owns the
 * storage. Start and stop on the owning thread (or before it starts). To
 * restart a running timer, stop it first. rt_timer_stop is a no-op on a
 * stopped timer and on a zero-initialised one. */
typedef struct rt_timer {
    ev_timer w;
    void (*cb)(struct rt_timer *timer, void *arg);
    void *arg;
    rt_thread_t *thread;
} rt_timer_t;
void rt_timer_start(rt_timer_t *timer, rt_thread_t *t, double after_ms, double repeat_ms,
                    void (*cb)(rt_timer_t *, void *), void *arg);
void rt_timer_stop(rt_timer_t *timer);

/* Milliseconds: wall clock (Unix epoch) and monotonic. */
long long rt_now_ms(void);
long long rt_mono_ms(void);
long long rt_now_us(void);
/* Microseconds on the monotonic clock (durations). */
long long rt_mono_us(void);

#endif

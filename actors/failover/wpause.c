/* wpause.c - the pause deadlines (see wpause.h).
 *
 * Must never: block; each pause is one atomic word.
 */
#include <stdatomic.h>

#include "actors/failover/wpause.h"
#include "runtime/actor.h"

/* Failover pause: its deadline, 0 = not paused. Relaxed is enough: the state
 * actor stores it, then sends every worker a fence message (repl_fence); a
 * worker that handled that message sees the store (the mailbox orders them),
 * and the offset a replica waits for is taken only once every worker has. */
static _Atomic long long pause_deadline_ms;

/* CLIENT PAUSE: (end_mono_ms << 2) | mode in one word, so a reader never sees
 * one pause's end with another's mode; 0 = none. Relaxed: workers poll it and
 * need no other memory to be ordered with it. */
static _Atomic long long client_pause;

#define END_MAX (0x7fffffffffffffffLL >> 2)

static long long pack(long long end, int mode)
{
    if (end > END_MAX) end = END_MAX;
    return (end << 2) | (long long)mode;
}

void wpause_until(long long until_mono_ms)
{
    atomic_store_explicit(&pause_deadline_ms, until_mono_ms, memory_order_relaxed);
}

bool wpause_active(void)
{
    long long d = atomic_load_explicit(&pause_deadline_ms, memory_order_relaxed);
    return d != 0 && rt_mono_ms() < d;
}

/* A pause is over once the clock has passed its end (Redis: end < now). */
static bool client_pause_live(long long word, long long now)
{
    return word != 0 && (word >> 2) >= now;
}

void wpause_client_pause(long long until_mono_ms, int mode)
{
    long long now = rt_mono_ms();
    long long old = atomic_load_explicit(&client_pause, memory_order_relaxed);
    for (;;) {
        long long end = until_mono_ms, m = mode;
        if (client_pause_live(old, now)) {
            if ((old >> 2) > end) end = old >> 2;
            if ((old & 3) > m) m = old & 3;
        }
        long long word = pack(end, (int)m);
        /* relaxed: see client_pause; the CAS only merges concurrent pauses */
        if (atomic_compare_exchange_weak_explicit(&client_pause, &old, word, memory_order_relaxed,
                                                  memory_order_relaxed))
            return;
    }
}

void wpause_client_unpause(void)
{
    atomic_store_explicit(&client_pause, 0, memory_order_relaxed);
}

int wpause_mode(void)
{
    int mode = wpause_active() ? WPAUSE_WRITE : WPAUSE_OFF;
    long long word = atomic_load_explicit(&client_pause, memory_order_relaxed);
    /* The clock only when a pause is set: every command of every client
     * asks, and almost always there is none. */
    if (word != 0 && client_pause_live(word, rt_mono_ms()) && (int)(word & 3) > mode) mode = (int)(word & 3);
    return mode;
}

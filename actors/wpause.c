/* wpause.c - the global write-pause deadline (see wpause.h).
 *
 * Must never: block; it is one atomic word.
 */
#include <stdatomic.h>

#include "actors/wpause.h"
#include "runtime/actor.h"

/* 0 = not paused. Relaxed is enough: the pause is advisory timing between
 * the state actor (which sets it before it reports its final offset) and the
 * workers; the offset a replica waits for is sampled after a settle delay. */
static _Atomic long long pause_deadline_ms;

void wpause_until(long long until_mono_ms)
{
    atomic_store_explicit(&pause_deadline_ms, until_mono_ms, memory_order_relaxed);
}

bool wpause_active(void)
{
    long long d = atomic_load_explicit(&pause_deadline_ms, memory_order_relaxed);
    return d != 0 && rt_mono_ms() < d;
}

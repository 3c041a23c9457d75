/* slice.c - see slice.h.
 *
 * Must never: allocate, or touch another thread's scheduling.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/slice.h"

/* The kernel's struct sched_attr (uapi/linux/sched/types.h), version 0
 * (48 bytes): glibc has no wrapper. */
struct slice_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
};

/* this thread's slice as it asked for it (0: the default) */
static _Thread_local unsigned tl_slice_us;
/* this thread ticks (rt_slice_linger_tick), so it may keep a short slice
 * after a brief wait; it keeps one now (the kernel has RT_SLICE_SHORT_US,
 * tl_slice_us is what to give back); a brief wait began since the last tick */
static _Thread_local bool tl_may_linger, tl_lingering, tl_used;
/* set once a request was refused: no more system calls for it; relaxed:
 * a hint, a late sight of it costs one refused call */
static _Atomic bool g_refused;

int rt_slice_set(unsigned us)
{
#ifdef SYS_sched_setattr
    if (atomic_load_explicit(&g_refused, memory_order_relaxed)) return ENOSYS;
    struct slice_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.sched_policy = 0;           /* SCHED_OTHER, as every thread of the process */
    a.sched_runtime = (uint64_t)us * 1000;
    /* the nice value is part of the request: keep the thread's own */
    errno = 0;
    int nice_now = getpriority(PRIO_PROCESS, 0);
    if (errno == 0) a.sched_nice = nice_now;
    if (syscall(SYS_sched_setattr, 0, &a, 0) != 0) {
        int e = errno;
        atomic_store_explicit(&g_refused, true, memory_order_relaxed);
        return e;
    }
    tl_slice_us = us;
    tl_lingering = false;         /* the thread's own slice is what it asked now */
    return 0;
#else
    (void)us;
    return ENOSYS;
#endif
}

void rt_slice_brief_begin(rt_slice_brief_t *was)
{
    was->set = false;
    tl_used = true;
    if (tl_lingering) return;     /* short since an earlier wait: no system call */
    if (tl_slice_us && tl_slice_us <= RT_SLICE_SHORT_US) return;
    if (atomic_load_explicit(&g_refused, memory_order_relaxed)) return;
    unsigned before = tl_slice_us;
    if (rt_slice_set(RT_SLICE_SHORT_US) == 0) {
        was->set = true;
        tl_slice_us = before;     /* what _end gives back */
    }
}

void rt_slice_brief_end(rt_slice_brief_t *was)
{
    if (!was->set) return;
    unsigned before = tl_slice_us;
    if (rt_slice_set(before) != 0) tl_slice_us = RT_SLICE_SHORT_US;
}

void rt_slice_brief_end_linger(rt_slice_brief_t *was)
{
    if (!was->set) return;
    if (!tl_may_linger) {
        rt_slice_brief_end(was);
        return;
    }
    tl_lingering = true;          /* tl_slice_us still holds the slice to give back */
}

bool rt_slice_linger_tick(void)
{
    tl_may_linger = true;
    bool used = tl_used;
    tl_used = false;
    if (!tl_lingering || used) return false;
    unsigned own = tl_slice_us;
    if (rt_slice_set(own) != 0) {     /* refused now: the thread stays as it is */
        tl_lingering = false;
        tl_slice_us = RT_SLICE_SHORT_US;
    }
    return true;
}

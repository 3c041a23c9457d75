/* slice.h - asking the scheduler for short time slices on a thread that
 * waits on the disk.
 *
 * Linux 6.12+ (EEVDF) lets a SCHED_OTHER thread ask for a shorter slice
 * (sched_setattr with sched_runtime, 0.1-100 ms; default here 1.4 ms). Its
 * share of the CPU is unchanged; its deadline comes sooner, so when it
 * wakes it preempts a thread that runs a default slice instead of waiting
 * for that slice to end. An fdatasync on this project's disk is three or
 * four I/Os one after another (data, inode, flush), and its thread must
 * get a core back after each: on a loaded 2-core machine each of those
 * waits was 0.3-1 ms, several times the disk's own 0.05-0.1 ms (perf
 * sched_wakeup to sys_exit_fdatasync; docs/persistence.md §3).
 *
 * Must never: change a thread's policy or nice value, or fail the caller:
 * a kernel that does not know the request (or refuses it) leaves the
 * thread as it was and the call reports it.
 */
#ifndef SHOAL_RUNTIME_SLICE_H
#define SHOAL_RUNTIME_SLICE_H

#include <stdbool.h>

/* The shortest slice the kernel grants (its clamp), in microseconds. */
#define RT_SLICE_SHORT_US 100

/* The calling thread runs slices of `us` microseconds from now on (0: the
 * kernel's default again). Returns 0 or an errno; a kernel before 6.12
 * accepts the call and ignores the length. */
int rt_slice_set(unsigned us);

/* Around one blocking wait on the disk: the short slice while it lasts,
 * then the thread's slice before (a thread that runs short slices all the
 * time, rt_slice_set, keeps them). `was` carries the state between the two
 * calls. Cheap: one system call each, none when the thread is short anyway
 * or the kernel refused once. */
typedef struct rt_slice_brief {
    bool set;
} rt_slice_brief_t;
void rt_slice_brief_begin(rt_slice_brief_t *was);
void rt_slice_brief_end(rt_slice_brief_t *was);

/* The same wait on a thread that waits on the disk again and again (a
 * worker's own fdatasync under appendfsync always, one per loop round at
 * redis-benchmark -P 1): the short slice stays after the wait, so the next
 * waits cost no system call, until rt_slice_linger_tick finds a tick period
 * without one and gives the thread its slice back. Each sched_setattr call
 * is 1.1-3.6 us of CPU here (the task is dequeued, reweighted and queued again):
 * two per fsync were ~0.26 us per SET at -P 1, ~2 % of the worker's CPU
 * (docs/persistence.md §3). A thread that never ticks never lingers (the
 * end of its wait restores the slice as rt_slice_brief_end does). */
void rt_slice_brief_end_linger(rt_slice_brief_t *was);
/* From a periodic timer of the calling thread (a worker's cron): allows
 * that thread to linger from now on, and gives its slice back when no brief
 * wait began since the tick before. True when it did. */
bool rt_slice_linger_tick(void);

#endif

/* memtrim.h - giving the kernel back heap memory that free() kept.
 *
 * glibc keeps freed memory in its arenas (one per thread that allocates):
 * a burst - a thousand peers joining at once, each link and the state
 * actor's mailbox holding frames - leaves tens of MB resident for the life
 * of the process, since main.c sets M_TRIM_THRESHOLD high so that the hot
 * paths never trim (or mmap) buffers that come and go. Instead, a thread
 * with nothing else to do calls rt_memtrim_tick about once a second, and
 * malloc_trim(0) hands the free pages inside every arena back (madvise):
 *  - at once when the resident set has grown by more than `slack` bytes
 *    since the last trim (a burst under way);
 *  - else after `period_min` ticks, then twice as long each time up to
 *    `period_max`: a burst's peak freed after the last trim shows as no
 *    growth at all, and is given back within period_min; a steady node,
 *    whose frames come and go in the same few MB (pages that would fault
 *    back in after every trim), soon trims only every period_max. Growth
 *    starts the short period again.
 * The top of a thread's arena is not something malloc_trim gives back
 * (glibc trims it only in free(), past M_TRIM_THRESHOLD), which is why
 * main.c keeps that threshold at 1 MB rather than out of reach.
 *
 * A trim takes each arena's lock in turn and holds it while it walks that
 * arena's free lists and madvises every free page in it: ~0.2-1 ms at 1,000
 * peers, but 13 ms on a worker's heap holding 500,000 freed keys and 1.3 s
 * (on a loaded 2-core machine) when that heap had just freed 220 MB, and a
 * thread that allocates from the arena meanwhile waits for it (a client
 * stalled 1 s). glibc offers no trim of one arena or of part of one, so a
 * trim waits for quiet: it is made only on a tick that finds no runtime
 * thread did client work (rt_thread_note_busy) since the tick before, nor
 * is in the middle of some (rt_threads_quiet); a due
 * trim is put off (counted in `deferred`) until then. A node that serves
 * clients without a second's pause keeps its freed pages until it pauses
 * (they are reused by its next allocations meanwhile); a request that
 * arrives during a trim still waits for it.
 *
 * Must never: run on a thread whose loop serves clients or links (a trim
 * holds each arena's lock in turn).
 */
#ifndef SHOAL_RUNTIME_MEMTRIM_H
#define SHOAL_RUNTIME_MEMTRIM_H

#include <stdbool.h>
#include <stddef.h>

typedef struct rt_memtrim {
    size_t slack;                 /* growth, in bytes, that is worth a trim at once */
    unsigned period_min, period_max;   /* ticks between trims without growth (0: none) */
    size_t base;                  /* resident bytes after the last trim (0: none yet) */
    unsigned period;              /* the current period (0: period_min) */
    unsigned since;               /* ticks since the last trim */
    unsigned long long trims;     /* trims done */
    unsigned long long deferred;  /* ticks that put a due trim off: clients were served */
    unsigned long long busy_rounds;   /* for rt_threads_quiet: client work seen so far */
} rt_memtrim_t;

/* The process's resident set in bytes (/proc/self/statm), 0 if unknown. The
 * first call opens a descriptor that the process keeps: later calls open
 * none, so that they work, and disturb nothing, when the table is full. */
size_t rt_resident_bytes(void);

/* One tick: trims when the resident set grew by more than t->slack since
 * the last trim (the first time: when it is above t->slack), or when the
 * current period passed since it (see above), and no runtime thread did
 * client work since the last tick. Returns whether it trimmed.
 * One thread at a time per rt_memtrim_t. */
bool rt_memtrim_tick(rt_memtrim_t *t);

#endif

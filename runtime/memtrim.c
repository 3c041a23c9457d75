/* memtrim.c - see memtrim.h.
 *
 * Must never: allocate (it runs to release memory) or block on anything but
 * the allocator's own locks.
 */
#include <fcntl.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/actor.h"
#include "runtime/memtrim.h"

/* /proc/self/statm, opened once and read again with pread at offset 0 (the
 * kernel regenerates it on each read from the start). Opening it on every
 * call took a descriptor and gave it back once a second: in a descriptor
 * shortage that transient one could take the slot the accept path's spare
 * (worker/fdlimit.c) had just freed, or free a slot that let one accept
 * through and start a second shortage. -1 until the first call. */
static _Atomic int statm_fd = -1;

static int statm_open(void)
{
    /* acquire: pairs with the release of the thread that published it */
    int fd = atomic_load_explicit(&statm_fd, memory_order_acquire);
    if (fd >= 0) return fd;
    fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int expected = -1;
    /* acq_rel: one descriptor wins; a loser closes its own and uses the winner's */
    if (!atomic_compare_exchange_strong_explicit(&statm_fd, &expected, fd, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        close(fd);
        fd = expected;
    }
    return fd;
}

size_t rt_resident_bytes(void)
{
    int fd = statm_open();
    if (fd < 0) return 0;
    char buf[128];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = '\0';
    unsigned long long size = 0, resident = 0;
    if (sscanf(buf, "%llu %llu", &size, &resident) != 2) return 0;
    long page = sysconf(_SC_PAGESIZE);
    return (size_t)resident * (size_t)(page > 0 ? page : 4096);
}

bool rt_memtrim_tick(rt_memtrim_t *t)
{
    size_t rss = rt_resident_bytes();
    if (rss == 0) return false;
    if (t->period < t->period_min) t->period = t->period_min;
    t->since++;
    bool grew = rss > t->base + t->slack;
    bool due = t->period_min && t->since >= t->period;
    /* Clients served since the last tick: a trim now would hold the arena
     * of a thread that serves them. Put it off (since keeps counting, so it
     * is still due) until a tick finds no client work since the one before. */
    bool quiet = rt_threads_quiet(&t->busy_rounds);
    if (!grew && !due) return false;
    if (!quiet) {
        t->deferred++;
        return false;
    }
    malloc_trim(0);
    t->base = rt_resident_bytes();
    t->since = 0;
    if (grew) t->period = t->period_min;
    else if (t->period < t->period_max) t->period = t->period * 2 < t->period_max ? t->period * 2 : t->period_max;
    t->trims++;
    return true;
}

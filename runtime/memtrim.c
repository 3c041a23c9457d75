/* memtrim.c - see memtrim.h.
 *
 * Must never: allocate (it runs to release memory) or block on anything but
 * the allocator's own locks.
 */
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/memtrim.h"

size_t rt_resident_bytes(void)
{
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[128];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
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
    if (!grew && !due) return false;
    malloc_trim(0);
    t->base = rt_resident_bytes();
    t->since = 0;
    if (grew) t->period = t->period_min;
    else if (t->period < t->period_max) t->period = t->period * 2 < t->period_max ? t->period * 2 : t->period_max;
    t->trims++;
    return true;
}

/* test_memtrim.c - when the main thread gives freed heap memory back
 * (runtime/memtrim.c): at once after growth past the slack, else on a
 * period that doubles while nothing grows and starts short again after
 * growth. (Under ASan malloc_trim is glibc's and ASan's heap is its own, so
 * what a trim returns is measured in the bench, not here.) */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "runtime/memtrim.h"
#include "tests/unit/unit.h"

TEST(memtrim_resident_bytes_is_known)
{
    CHECK(rt_resident_bytes() > 0);
}

/* After its first call the read takes no descriptor: it works with the
 * table full and leaves the lowest free number where it was. Before, each
 * call opened /proc/self/statm and closed it again, which failed here and,
 * in a node out of descriptors, took and freed a slot the accept path's
 * spare counts on (worker/fdlimit.c). */
TEST(memtrim_resident_bytes_needs_no_descriptor_after_the_first)
{
    CHECK(rt_resident_bytes() > 0);
    int lowest = dup(0);
    CHECK(lowest >= 0);
    close(lowest);
    struct rlimit was;
    CHECK(getrlimit(RLIMIT_NOFILE, &was) == 0);
    struct rlimit full = { .rlim_cur = (rlim_t)lowest, .rlim_max = was.rlim_max };
    CHECK(setrlimit(RLIMIT_NOFILE, &full) == 0);
    CHECK(dup(0) == -1);                        /* the table is full */
    size_t rss = rt_resident_bytes();
    CHECK(setrlimit(RLIMIT_NOFILE, &was) == 0);
    CHECK(rss > 0);
    int after = dup(0);
    CHECK(after == lowest);
    close(after);
}

TEST(memtrim_trims_on_growth_and_on_a_doubling_period)
{
    rt_memtrim_t t = { .slack = 8u << 20, .period_min = 2, .period_max = 8 };
    CHECK(rt_memtrim_tick(&t) == false || t.trims == 1);   /* first tick: only if already past the slack */
    t.base = rt_resident_bytes();
    t.since = 0;
    t.period = 0;
    unsigned long long trims = t.trims;
    /* no growth: a trim after 2 ticks, then 4, then 8, then 8 */
    int gaps[4], k = 0, last = 0;
    for (int tick = 1; tick <= 40 && k < 4; tick++) {
        if (rt_memtrim_tick(&t)) {
            gaps[k++] = tick - last;
            last = tick;
        }
    }
    REQUIRE(k == 4);
    CHECK_EQ_INT(gaps[0], 2);
    CHECK_EQ_INT(gaps[1], 4);
    CHECK_EQ_INT(gaps[2], 8);
    CHECK_EQ_INT(gaps[3], 8);
    CHECK_EQ_INT(t.trims, trims + 4);

    /* 16 MB touched and kept: growth past the slack trims at the next tick
     * and starts the short period again */
    size_t len = 16u << 20;
    char *big = malloc(len);
    REQUIRE(big != NULL);
    memset(big, 1, len);
    CHECK(rt_memtrim_tick(&t));
    CHECK_EQ_INT(t.period, 2);
    CHECK(t.base >= len);
    /* no further growth: nothing until the period is up */
    CHECK(!rt_memtrim_tick(&t));
    CHECK(rt_memtrim_tick(&t));
    free(big);
}

/* test_slice.c - a thread's scheduler slice (runtime/slice.c): set, seen
 * by the kernel (se.slice in /proc/thread-self/sched), put back by the
 * brief form, and left alone by it on a thread that is short anyway.
 * On a kernel without custom slices (before 6.12, or no se.slice line)
 * only the calls' return codes are checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/slice.h"
#include "tests/unit/unit.h"

/* This thread's slice in ns, or -1 when the kernel does not show it. */
static long long my_slice_ns(void)
{
    FILE *f = fopen("/proc/thread-self/sched", "r");
    if (!f) return -1;
    char line[256];
    long long ns = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "se.slice", 8) != 0) continue;
        char *colon = strchr(line, ':');
        if (colon) ns = strtoll(colon + 1, NULL, 10);
        break;
    }
    fclose(f);
    return ns;
}

TEST(slice_set_and_brief_form_put_the_slice_back)
{
    long long before = my_slice_ns();
    int rc = rt_slice_set(RT_SLICE_SHORT_US);
    if (rc != 0 || before < 0) {        /* refused, or not shown: nothing more to see */
        CHECK(rt_slice_set(0) == rc);
        return;
    }
    long long set = my_slice_ns();
    CHECK(rt_slice_set(0) == 0);
    long long dflt = my_slice_ns();
    if (set == before) return;          /* a kernel that takes the call and ignores it */
    CHECK(set == RT_SLICE_SHORT_US * 1000LL);
    CHECK(dflt == before);

    rt_slice_brief_t b;
    rt_slice_brief_begin(&b);
    CHECK(b.set);
    CHECK(my_slice_ns() == RT_SLICE_SHORT_US * 1000LL);
    rt_slice_brief_end(&b);
    CHECK(my_slice_ns() == dflt);

    /* a thread on short slices keeps them through a brief one */
    CHECK(rt_slice_set(RT_SLICE_SHORT_US) == 0);
    rt_slice_brief_begin(&b);
    CHECK(!b.set);
    rt_slice_brief_end(&b);
    CHECK(my_slice_ns() == RT_SLICE_SHORT_US * 1000LL);
    CHECK(rt_slice_set(0) == 0);
    CHECK(my_slice_ns() == dflt);
}

/* test_slice.c - a thread's scheduler slice (runtime/slice.c): set, seen
 * by the kernel (se.slice in /proc/thread-self/sched), put back by the
 * brief form, and left alone by it on a thread that is short anyway.
 * On a kernel without custom slices (before 6.12, or no se.slice line)
 * only the calls' return codes are checked. */
#include <pthread.h>
#include <stdbool.h>
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

/* On a thread of its own: one that never ticked gives the slice back at the
 * end of a lingering wait, as rt_slice_brief_end does. */
static void *no_tick_thread(void *arg)
{
    long long *out = arg;
    rt_slice_brief_t b;
    rt_slice_brief_begin(&b);
    out[0] = my_slice_ns();
    rt_slice_brief_end_linger(&b);
    out[1] = my_slice_ns();
    return NULL;
}

TEST(slice_lingers_between_brief_waits_on_a_ticking_thread_only)
{
    long long before = my_slice_ns();
    int rc = rt_slice_set(0);
    if (rc != 0 || before < 0) return;  /* refused, or not shown */
    long long dflt = my_slice_ns();
    CHECK(rt_slice_set(RT_SLICE_SHORT_US) == 0);
    bool granted = my_slice_ns() == RT_SLICE_SHORT_US * 1000LL;
    CHECK(rt_slice_set(0) == 0);
    if (!granted) return;               /* a kernel that takes the call and ignores it */

    pthread_t th;
    long long seen[2] = { -1, -1 };
    CHECK(pthread_create(&th, NULL, no_tick_thread, seen) == 0);
    pthread_join(th, NULL);
    CHECK(seen[0] == RT_SLICE_SHORT_US * 1000LL);
    CHECK(seen[1] == dflt);

    CHECK(!rt_slice_linger_tick());     /* this thread ticks from now on; nothing to give back */
    rt_slice_brief_t b;
    rt_slice_brief_begin(&b);
    CHECK(b.set);
    rt_slice_brief_end_linger(&b);
    CHECK(my_slice_ns() == RT_SLICE_SHORT_US * 1000LL);   /* kept after the wait */
    rt_slice_brief_begin(&b);           /* the next wait: short already, no call */
    CHECK(!b.set);
    rt_slice_brief_end_linger(&b);
    CHECK(!rt_slice_linger_tick());     /* a wait since the last tick: kept */
    CHECK(my_slice_ns() == RT_SLICE_SHORT_US * 1000LL);
    CHECK(rt_slice_linger_tick());      /* a whole period without one: given back */
    CHECK(my_slice_ns() == dflt);
    CHECK(!rt_slice_linger_tick());

    /* an explicit slice while lingering wins, and is not given back by a tick */
    rt_slice_brief_begin(&b);
    rt_slice_brief_end_linger(&b);
    CHECK(rt_slice_set(RT_SLICE_SHORT_US) == 0);
    CHECK(!rt_slice_linger_tick());
    CHECK(!rt_slice_linger_tick());
    CHECK(my_slice_ns() == RT_SLICE_SHORT_US * 1000LL);
    CHECK(rt_slice_set(0) == 0);
    CHECK(my_slice_ns() == dflt);
}

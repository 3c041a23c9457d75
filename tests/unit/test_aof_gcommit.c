/* test_aof_gcommit.c - when appendfsync always's syncer starts its next
 * fsync (aof_gc_fsynced / aof_gc_wait_us in aof_gcommit.c): it lets the
 * clients an fsync answered come back while fewer bytes are pending than
 * were in flight, never longer than an fsync takes nor AOF_GC_MAX_WAIT_US,
 * and stops waiting where such waits keep running out. */
#include "actors/persist/aof_internal.h"
#include "tests/unit/unit.h"

/* An fsync of 500 us that covered 25 SETs of 40 bytes while 25 more arrived:
 * 50 clients in flight. */
static aof_gc_t two_groups(void)
{
    aof_gc_t g = { 0 };
    aof_gc_fsynced(&g, 1000, 1000 + 50 * 40, 10000, 10500);
    return g;
}

TEST(aof_gc_waits_for_the_answered_group)
{
    aof_gc_t g = two_groups();
    CHECK_EQ_INT(g.expect, 50 * 40);
    /* right after the fsync only the other group is pending: wait, for at
     * most as long as an fsync takes */
    long long w = aof_gc_wait_us(&g, 25 * 40, 10510);
    CHECK(w > 0);
    CHECK_EQ_INT(w, 10500 + 500 - 10510);
    /* the answered clients came back: start now, and the wait counts as filled */
    CHECK_EQ_INT(aof_gc_wait_us(&g, 50 * 40, 10700), 0);
    CHECK_EQ_INT(g.waits, 1);
    CHECK_EQ_INT(g.filled, 1);
    CHECK_EQ_INT(g.credit, 1);
}

TEST(aof_gc_starts_at_once_when_everyone_is_pending)
{
    aof_gc_t g = two_groups();
    CHECK_EQ_INT(aof_gc_wait_us(&g, 50 * 40, 10501), 0);
    CHECK_EQ_INT(aof_gc_wait_us(&g, 60 * 40, 10501), 0);
    CHECK_EQ_INT(g.waits, 0);
    /* one client writing one request at a time: its fsync covered it, nothing came meanwhile */
    aof_gc_t one = { 0 };
    aof_gc_fsynced(&one, 0, 40, 0, 300);
    CHECK_EQ_INT(aof_gc_wait_us(&one, 40, 350), 0);
}

TEST(aof_gc_wait_is_bounded)
{
    aof_gc_t g = two_groups();
    /* past the bound: start with what is pending, and the wait ran out */
    CHECK(aof_gc_wait_us(&g, 10 * 40, 10600) > 0);
    CHECK_EQ_INT(aof_gc_wait_us(&g, 10 * 40, 11000), 0);
    CHECK_EQ_INT(g.filled, 0);
    CHECK_EQ_INT(g.credit, -2);
    /* a slow disk (50 ms fsyncs): never more than AOF_GC_MAX_WAIT_US */
    aof_gc_t slow = { 0 };
    aof_gc_fsynced(&slow, 0, 4000, 0, 50000);
    long long w = aof_gc_wait_us(&slow, 1000, 50000);
    CHECK_EQ_INT(w, AOF_GC_MAX_WAIT_US);
}

TEST(aof_gc_average_follows_the_fsyncs)
{
    aof_gc_t g = { 0 };
    aof_gc_fsynced(&g, 0, 100, 0, 800);
    CHECK_EQ_INT(g.avg_us, 800);
    aof_gc_fsynced(&g, 100, 200, 1000, 1000);
    CHECK_EQ_INT(g.avg_us, 700);   /* 1/8 of the way to 0 */
    CHECK_EQ_INT(g.until_us, 1700);
}

TEST(aof_gc_stops_waiting_where_waits_run_out)
{
    aof_gc_t g = { 0 };
    long long t = 0;
    int waited = 0;
    for (int i = 0; i < 64; i++) {
        aof_gc_fsynced(&g, 0, 2000, t, t + 500);
        t += 500;
        if (aof_gc_wait_us(&g, 1000, t + 1) > 0) {
            waited++;
            CHECK_EQ_INT(aof_gc_wait_us(&g, 1000, t + 600), 0);   /* nobody came */
            t += 600;
        }
    }
    /* the first few wait, then one chance in AOF_GC_PROBE */
    CHECK(waited >= 2);
    CHECK(waited <= 2 + 64 / AOF_GC_PROBE + 1);
    CHECK(g.credit < 0);
    /* waits that fill up win the credit back */
    for (int i = 0; i < 128; i++) {
        aof_gc_fsynced(&g, 0, 2000, t, t + 500);
        t += 500;
        if (aof_gc_wait_us(&g, 1000, t + 1) > 0) CHECK_EQ_INT(aof_gc_wait_us(&g, 2000, t + 100), 0);
        t += 100;
    }
    CHECK(g.credit > 0);
    aof_gc_fsynced(&g, 0, 2000, t, t + 500);
    CHECK(aof_gc_wait_us(&g, 1000, t + 501) > 0);
}

TEST(aof_gc_fsync_by_another_thread_ends_a_wait_without_credit)
{
    aof_gc_t g = two_groups();
    CHECK(aof_gc_wait_us(&g, 10 * 40, 10510) > 0);
    CHECK(g.waiting);
    aof_gc_fsynced(&g, 3000, 3400, 10600, 10900);
    CHECK(!g.waiting);
    CHECK_EQ_INT(g.credit, 0);
}

/* test_cmdhist.c - unit tests for the bucket arithmetic of
 * actors/worker/cmdhist.c against figures redis-server 7.0.15 printed: the
 * percentiles of INFO latencystats for calls of a known duration, and the
 * bucket labels of LATENCY HISTOGRAM. Must never start a worker. */
#include <string.h>
#include "tests/unit/unit.h"
#include "actors/worker/cmdhist.h"

static long long highest_us_x1000(long long usec) { return cmdhist_highest(cmdhist_index_of(usec * 1000)); }

TEST(cmdhist_single_call_percentiles_as_redis)
{
    /* "p50=8.031" for an 8 us SET, and so on, as 7.0.15 printed them */
    CHECK_EQ_INT(highest_us_x1000(2), 2007);
    CHECK_EQ_INT(highest_us_x1000(4), 4015);
    CHECK_EQ_INT(highest_us_x1000(8), 8031);
    CHECK_EQ_INT(highest_us_x1000(35), 35071);
    CHECK_EQ_INT(highest_us_x1000(47), 47103);
    CHECK_EQ_INT(highest_us_x1000(67), 67071);
    CHECK_EQ_INT(highest_us_x1000(76), 76287);
    CHECK_EQ_INT(highest_us_x1000(10158), 10158079);
    CHECK_EQ_INT(cmdhist_index_of(1000000000LL) < CMDHIST_BUCKETS, 1);
    CHECK_EQ_INT(cmdhist_index_of(1), 1);
    CHECK_EQ_INT(cmdhist_lowest(cmdhist_index_of(67000)), 66560);
}

TEST(cmdhist_histogram_labels_as_redis)
{
    /* the labels 7.0.15 prints: the highest value (us) at each doubling from 1024 ns */
    static const long long want[] = { 1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454,
                                      16908, 33816, 67633, 135266, 270532, 541065 };
    for (int k = 0; k < 20; k++) CHECK_EQ_INT(cmdhist_highest(cmdhist_index_of(1024LL << k)) / 1000, want[k]);
    CHECK_EQ_INT(cmdhist_highest(CMDHIST_BUCKETS - 1) / 1000, 1073741);
}

TEST(cmdhist_percentile_over_a_spread)
{
    static unsigned long long counts[CMDHIST_BUCKETS];
    memset(counts, 0, sizeof counts);
    counts[cmdhist_index_of(1000)] = 50;     /* 50 calls of 1 us */
    counts[cmdhist_index_of(100000)] = 50;   /* 50 calls of 100 us */
    CHECK_EQ_INT(cmdhist_value_at_percentile(counts, 100, 50.0), 1003);
    CHECK_EQ_INT(cmdhist_value_at_percentile(counts, 100, 50.6), 100351);
    CHECK_EQ_INT(cmdhist_value_at_percentile(counts, 100, 0.0), 1000);
    CHECK_EQ_INT(cmdhist_value_at_percentile(counts, 100, 100.0), 100351);
    CHECK_EQ_INT(cmdhist_value_at_percentile(counts, 100, 150.0), 100351);
}

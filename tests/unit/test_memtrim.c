/* test_memtrim.c - when the main thread gives freed heap memory back
 * (runtime/memtrim.c): at once after growth past the slack, else on a
 * period that doubles while nothing grows and starts short again after
 * growth. (Under ASan malloc_trim is glibc's and ASan's heap is its own, so
 * what a trim returns is measured in the bench, not here.) */
#include <ck_pr.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "runtime/actor.h"
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
    (void)rt_threads_quiet(&t.busy_rounds);     /* the count so far: as the node's main thread sees it */
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

/* A runtime thread that serves "clients": each message it handles is client
 * work (rt_thread_note_busy), as a worker's request is. */
struct client_load {
    rt_thread_t *thread;
    rt_actor_t worker;
    int handled;                   /* atomic */
    int in_command, release;       /* atomic: a long command runs / may end */
};

static void client_load_behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    struct client_load *cl = self->state;
    rt_thread_note_busy();
    if (msg->type == 1) {          /* a long command: runs until released */
        ck_pr_store_int(&cl->in_command, 1);
        while (!ck_pr_load_int(&cl->release))
            usleep(200);
    }
    ck_pr_inc_int(&cl->handled);
    free(msg);
}

/* Waits until the load thread's round has ended (its prepare hook cleared
 * the round's busy flag) and no round began since: rt_threads_quiet on a
 * count of our own, so t's is left alone. A fixed sleep was not enough on a
 * loaded machine: a thread preempted between the message and its prepare
 * hook for longer than the sleep still counted as busy at the next tick. */
static void wait_round_over(void)
{
    unsigned long long seen = 0;
    (void)rt_threads_quiet(&seen);
    long long deadline = rt_mono_ms() + 5000;
    while (!rt_threads_quiet(&seen) && rt_mono_ms() < deadline)
        usleep(200);
}

static void client_load_send(struct client_load *cl)
{
    int want = ck_pr_load_int(&cl->handled) + 1;
    rt_msg_t *m = calloc(1, sizeof *m);
    REQUIRE(m != NULL);
    rt_send(&cl->worker, m);
    long long deadline = rt_mono_ms() + 5000;
    while (ck_pr_load_int(&cl->handled) < want && rt_mono_ms() < deadline)
        usleep(200);
    REQUIRE(ck_pr_load_int(&cl->handled) == want);
    wait_round_over();             /* the round has ended: its prepare hook counted it */
}

/* A due trim is put off while a thread served clients since the last tick
 * (a trim holds the arena such a thread allocates from: a client stalled
 * 1 s on a 220 MB trim), and made at the first tick after a quiet one.
 * Before, it was made at once whatever the workers did. */
TEST(memtrim_waits_for_a_tick_without_client_work)
{
    struct client_load *cl = calloc(1, sizeof *cl);
    REQUIRE(cl != NULL);
    cl->thread = rt_thread_create("memtrim-load");
    REQUIRE(cl->thread != NULL);
    rt_actor_init(&cl->worker, cl->thread, "worker", client_load_behaviour, cl);
    REQUIRE(rt_thread_start(cl->thread) == 0);

    rt_memtrim_t t = { .slack = (size_t)1 << 40, .period_min = 1, .period_max = 1 };  /* due every tick */
    t.base = rt_resident_bytes();
    (void)rt_threads_quiet(&t.busy_rounds);
    CHECK(rt_memtrim_tick(&t));                   /* quiet since the last tick: trims */
    for (int i = 0; i < 3; i++) {
        client_load_send(cl);                     /* a client served since the last tick */
        CHECK(!rt_memtrim_tick(&t));
    }
    CHECK_EQ_INT(t.trims, 1);
    CHECK_EQ_INT(t.deferred, 3);
    CHECK(rt_memtrim_tick(&t));                   /* nothing since: the trim is made */
    CHECK_EQ_INT(t.trims, 2);
    CHECK(rt_memtrim_tick(&t));
    client_load_send(cl);
    CHECK(!rt_memtrim_tick(&t));
    CHECK_EQ_INT(t.deferred, 4);
    CHECK(rt_memtrim_tick(&t));

    /* A command that began before the last tick and still runs: its round
     * has counted nothing new, but its worker is serving a client. */
    rt_msg_t *m = calloc(1, sizeof *m);
    REQUIRE(m != NULL);
    m->type = 1;
    rt_send(&cl->worker, m);
    long long deadline = rt_mono_ms() + 5000;
    while (!ck_pr_load_int(&cl->in_command) && rt_mono_ms() < deadline)
        usleep(200);
    REQUIRE(ck_pr_load_int(&cl->in_command));
    CHECK(!rt_memtrim_tick(&t));
    CHECK(!rt_memtrim_tick(&t));
    CHECK_EQ_INT(t.deferred, 6);
    ck_pr_store_int(&cl->release, 1);
    deadline = rt_mono_ms() + 5000;
    while (ck_pr_load_int(&cl->handled) < 5 && rt_mono_ms() < deadline)
        usleep(200);
    wait_round_over();
    CHECK(rt_memtrim_tick(&t));

    rt_thread_stop(cl->thread);
    rt_thread_join(cl->thread);
    rt_thread_destroy(cl->thread);
    free(cl);
}

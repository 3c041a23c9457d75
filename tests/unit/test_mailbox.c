/* test_mailbox.c - unit tests for runtime/mailbox.c: the was-empty contract
 * on one thread, and a 4-producer stress run that checks no message is lost,
 * duplicated or reordered per producer, and that the consumer is woken
 * exactly once per empty->non-empty transition.
 *
 * Must never: depend on timing for correctness (only the elapsed time printed
 * is informative).
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <ck_pr.h>
#include "runtime/mailbox.h"
#include "tests/unit/unit.h"

TEST(mailbox_was_empty_contract)
{
    rt_mailbox_t mb;
    rt_msg_t a, b, c;
    rt_mailbox_init(&mb);

    CHECK(rt_mailbox_pop(&mb) == NULL);
    CHECK(rt_mailbox_mark_empty(&mb));            /* a new mailbox is marked */
    CHECK(rt_mailbox_push(&mb, &a) == true);      /* first push wakes */
    CHECK(rt_mailbox_push(&mb, &b) == false);     /* second does not */
    CHECK(rt_mailbox_mark_empty(&mb) == false);   /* messages present */
    CHECK(rt_mailbox_pop(&mb) == &a);
    CHECK(rt_mailbox_mark_empty(&mb) == false);   /* b still queued */
    CHECK(rt_mailbox_pop(&mb) == &b);
    CHECK(rt_mailbox_pop(&mb) == NULL);
    CHECK(rt_mailbox_push(&mb, &c) == false);     /* not marked yet: no wake */
    CHECK(rt_mailbox_pop(&mb) == &c);
    CHECK(rt_mailbox_pop(&mb) == NULL);
    CHECK(rt_mailbox_mark_empty(&mb) == true);
    CHECK(rt_mailbox_push(&mb, &a) == true);      /* after drain+mark: wakes again */
    CHECK(rt_mailbox_push(&mb, &b) == false);
    CHECK(rt_mailbox_pop(&mb) == &a);
    CHECK(rt_mailbox_pop(&mb) == &b);
    CHECK(rt_mailbox_pop(&mb) == NULL);
    CHECK(rt_mailbox_mark_empty(&mb) == true);
}

/* The "empty and not scheduled" mark, as rt_actor_is_idle reads it. */
TEST(mailbox_is_marked_empty_follows_the_mark)
{
    rt_mailbox_t mb;
    rt_msg_t a;
    rt_mailbox_init(&mb);
    CHECK(rt_mailbox_is_marked_empty(&mb));           /* new: marked */
    CHECK(rt_mailbox_push(&mb, &a) == true);
    CHECK(rt_mailbox_is_marked_empty(&mb) == false);  /* a push clears it */
    CHECK(rt_mailbox_pop(&mb) == &a);
    CHECK(rt_mailbox_pop(&mb) == NULL);
    CHECK(rt_mailbox_is_marked_empty(&mb) == false);  /* drained but not marked by the consumer yet */
    CHECK(rt_mailbox_mark_empty(&mb));
    CHECK(rt_mailbox_is_marked_empty(&mb));
}

TEST(mailbox_fifo_and_reuse_single_thread)
{
    /* A handed-out message belongs to the caller: reusing it at once (push it
     * again) must not disturb the queue. */
    enum { N = 1000 };
    static rt_msg_t msgs[N];
    rt_mailbox_t mb;
    rt_mailbox_init(&mb);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            msgs[i].type = (uint32_t)i;
            rt_mailbox_push(&mb, &msgs[i]);
            if (i % 3 == 0) {             /* interleave pops with pushes */
                rt_msg_t *m = rt_mailbox_pop(&mb);
                REQUIRE(m != NULL);
            }
        }
        rt_msg_t *m;
        int n = 0;
        while ((m = rt_mailbox_pop(&mb)) != NULL) n++;
        CHECK_EQ_INT(n, N - (N + 2) / 3);
        CHECK(rt_mailbox_mark_empty(&mb));
    }
    /* Strict FIFO on one thread. */
    for (int i = 0; i < N; i++) rt_mailbox_push(&mb, &msgs[i]);
    for (int i = 0; i < N; i++) {
        rt_msg_t *m = rt_mailbox_pop(&mb);
        REQUIRE(m == &msgs[i]);
    }
    CHECK(rt_mailbox_pop(&mb) == NULL);
}

enum { PRODUCERS = 4, PER_PRODUCER = 1000000 };

struct stress {
    rt_mailbox_t mb;
    rt_msg_t *msgs[PRODUCERS];
    unsigned wake_tokens;             /* pushes that returned true (atomic) */
    unsigned long long wakes[PRODUCERS];
};

struct producer_arg { struct stress *s; int id; };

static void *producer_main(void *p)
{
    struct producer_arg *arg = p;
    struct stress *s = arg->s;
    unsigned long long wakes = 0;
    for (uint32_t i = 0; i < PER_PRODUCER; i++) {
        rt_msg_t *m = &s->msgs[arg->id][i];
        m->type = (uint32_t)arg->id;
        m->flags = i;
        if (rt_mailbox_push(&s->mb, m)) {
            wakes++;
            /* fetch-and-add is a full barrier: the consumer sees the token
             * only after our push is linked. */
            ck_pr_inc_uint(&s->wake_tokens);
        }
    }
    s->wakes[arg->id] = wakes;
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

TEST(mailbox_four_producers_one_consumer)
{
    struct stress *s = calloc(1, sizeof *s);
    REQUIRE(s != NULL);
    rt_mailbox_init(&s->mb);
    for (int p = 0; p < PRODUCERS; p++) {
        s->msgs[p] = calloc(PER_PRODUCER, sizeof(rt_msg_t));
        REQUIRE(s->msgs[p] != NULL);
    }

    double t0 = now_s();
    pthread_t th[PRODUCERS];
    struct producer_arg args[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++) {
        args[p].s = s;
        args[p].id = p;
        REQUIRE(pthread_create(&th[p], NULL, producer_main, &args[p]) == 0);
    }

    /* The consumer plays the actor protocol: it owns the mailbox until a
     * mark_empty succeeds, then waits for a producer's "was empty" token. */
    uint32_t expected[PRODUCERS] = {0};
    unsigned long long received = 0, marks = 0, bad = 0;
    unsigned tokens_used = 0;
    bool scheduled = false;            /* init left it marked */
    bool lost_wakeup = false;
    const unsigned long long total = (unsigned long long)PRODUCERS * PER_PRODUCER;
    double idle_since = 0;             /* a lost wake-up would leave us waiting */
    while (received < total && bad == 0) {
        if (!scheduled) {
            if (ck_pr_load_uint(&s->wake_tokens) == tokens_used) {
                if (idle_since == 0) idle_since = now_s();
                else if (now_s() - idle_since > 10.0) { lost_wakeup = true; break; }
                sched_yield();
                continue;
            }
            idle_since = 0;
            tokens_used++;
            scheduled = true;
        }
        rt_msg_t *m = rt_mailbox_pop(&s->mb);
        if (m == NULL) {
            if (rt_mailbox_mark_empty(&s->mb)) { marks++; scheduled = false; }
            else sched_yield();        /* a push is in flight */
            continue;
        }
        uint32_t p = m->type;
        if (p >= PRODUCERS || m->flags != expected[p] || m != &s->msgs[p][m->flags]) { bad++; break; }
        expected[p]++;
        received++;
    }
    for (int p = 0; p < PRODUCERS; p++) pthread_join(th[p], NULL);
    double elapsed = now_s() - t0;

    CHECK(!lost_wakeup);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(received, total);
    for (int p = 0; p < PRODUCERS; p++) CHECK_EQ_INT(expected[p], PER_PRODUCER);
    /* Nothing left, and the final mark closes the last busy period. */
    CHECK(rt_mailbox_pop(&s->mb) == NULL);
    if (scheduled) { CHECK(rt_mailbox_mark_empty(&s->mb)); marks++; }
    /* Exactly one wake per marked->unmarked transition: every mark but the
     * final one was followed by exactly one push that returned true. */
    unsigned long long wakes = 0;
    for (int p = 0; p < PRODUCERS; p++) wakes += s->wakes[p];
    CHECK_EQ_INT(wakes, marks);
    CHECK_EQ_INT(ck_pr_load_uint(&s->wake_tokens), tokens_used);
    printf("  mailbox stress: %d x %d msgs in %.2f s, %llu wake-ups\n",
           PRODUCERS, PER_PRODUCER, elapsed, wakes);

    for (int p = 0; p < PRODUCERS; p++) free(s->msgs[p]);
    free(s);
}

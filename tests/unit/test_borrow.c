/* test_borrow.c - unit tests for borrowing a sleeping thread's data
 * (rt_thread_enable_borrow, runtime/actor.h): a borrow succeeds only while
 * the owner's loop sleeps (or spins), the owner runs no callback while its
 * token is out and sees what the borrower wrote, and owner and borrowers
 * never overlap (no lost update on data both change without atomics).
 *
 * Must never: hang forever on a bug (waits have deadlines), or assert on
 * speed (only on counts, values and order).
 */
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include <ck_pr.h>
#include "runtime/actor.h"
#include "tests/unit/unit.h"

enum { B_DATA = 1, B_HOLD = 2 };

struct lender {
    rt_thread_t *t;
    rt_actor_t x;
    /* The lent data: written by the owner's handler and by borrowers, with
     * plain loads and stores. */
    long value;
    long seen_by_owner;
    /* Test plumbing (atomic). */
    int handled;
    int holding;        /* the owner is inside a B_HOLD handler */
    int let_go;         /* ... until this is set */
};

/* A read-modify-write slow enough that two overlapping writers would lose
 * updates. */
static void slow_increment(long *v)
{
    long x = *v;
    for (volatile int i = 0; i < 200; i++)
        ;
    *v = x + 1;
}

static void lender_behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    struct lender *l = self->state;
    if (msg->type == B_HOLD) {
        ck_pr_store_int(&l->holding, 1);
        long long deadline = rt_mono_ms() + 5000;
        while (!ck_pr_load_int(&l->let_go) && rt_mono_ms() < deadline)
            sched_yield();
        ck_pr_store_int(&l->holding, 0);
    } else {
        l->seen_by_owner = l->value;
        slow_increment(&l->value);
        rt_thread_note_busy();    /* so that a spinning lender spins after it */
    }
    free(msg);
    ck_pr_inc_int(&l->handled);
}

static rt_msg_t *msg_of(uint32_t type)
{
    rt_msg_t *m = calloc(1, sizeof *m);
    if (m == NULL) abort();
    m->type = type;
    return m;
}

static int wait_handled(struct lender *l, int want, long long timeout_ms)
{
    long long deadline = rt_mono_ms() + timeout_ms;
    while (ck_pr_load_int(&l->handled) < want && rt_mono_ms() < deadline)
        usleep(200);
    return ck_pr_load_int(&l->handled);
}

/* Tries to borrow for up to timeout_ms (the owner may still be finishing a
 * round before it sleeps). */
static bool borrow_within(rt_thread_t *t, long long timeout_ms)
{
    long long deadline = rt_mono_ms() + timeout_ms;
    while (rt_mono_ms() < deadline) {
        if (rt_thread_try_borrow(t))
            return true;
        usleep(200);
    }
    return false;
}

static struct lender *lender_start(const char *name, int spin_us)
{
    struct lender *l = calloc(1, sizeof *l);
    if (l == NULL) abort();
    l->t = rt_thread_create(name);
    if (l->t == NULL) abort();
    if (spin_us) rt_thread_set_spin_us(l->t, spin_us);
    rt_thread_enable_borrow(l->t);
    rt_actor_init(&l->x, l->t, name, lender_behaviour, l);
    if (rt_thread_start(l->t) != 0) abort();
    return l;
}

static void lender_stop(struct lender *l)
{
    rt_thread_stop(l->t);
    rt_thread_join(l->t);
    rt_thread_destroy(l->t);
    free(l);
}

static unsigned long long borrows_of(rt_thread_t *t, unsigned long long *waits)
{
    rt_thread_stats_t st[256];
    int n = rt_thread_stats_all(st, 256);
    for (int i = 0; i < n; i++)
        if (st[i].index == rt_thread_index(t)) {
            if (waits) *waits = st[i].borrow_waits;
            return st[i].borrows;
        }
    return 0;
}

TEST(borrow_only_while_the_owner_sleeps)
{
    struct lender *l = lender_start("lend-sleep", 0);
    /* Idle: the loop sleeps in its poll, so its data may be borrowed. */
    REQUIRE(borrow_within(l->t, 5000));
    CHECK(!rt_thread_try_borrow(l->t));          /* one holder at a time */
    CHECK(rt_actor_mailbox_drained(&l->x));
    l->value = 41;
    /* A message while we hold the token: the owner wakes but runs nothing
     * until it is back. */
    rt_send(&l->x, msg_of(B_DATA));
    usleep(50000);
    CHECK_EQ_INT(ck_pr_load_int(&l->handled), 0);
    CHECK(!rt_actor_mailbox_drained(&l->x));
    slow_increment(&l->value);
    rt_thread_unborrow(l->t);
    REQUIRE(wait_handled(l, 1, 5000) == 1);
    CHECK_EQ_INT(l->seen_by_owner, 42);          /* our write, seen by the owner */
    CHECK_EQ_INT(l->value, 43);
    unsigned long long waits = 0;
    CHECK_EQ_INT(borrows_of(l->t, &waits), 1);
    CHECK(waits >= 1);                           /* the owner woke and waited for us */

    /* While the owner runs a handler its token is not free. */
    rt_send(&l->x, msg_of(B_HOLD));
    long long deadline = rt_mono_ms() + 5000;
    while (!ck_pr_load_int(&l->holding) && rt_mono_ms() < deadline)
        usleep(200);
    REQUIRE(ck_pr_load_int(&l->holding));
    for (int i = 0; i < 100; i++)
        CHECK(!rt_thread_try_borrow(l->t));
    ck_pr_store_int(&l->let_go, 1);
    REQUIRE(wait_handled(l, 2, 5000) == 2);
    /* Asleep again: borrowable again. */
    REQUIRE(borrow_within(l->t, 5000));
    rt_thread_unborrow(l->t);
    lender_stop(l);
}

/* Owner and borrower both change the same data without atomics, the owner
 * in its handlers (and, with spinning on, between them), the borrower
 * whenever it gets the token: no update may be lost. */
static void overlap_run(const char *name, int spin_us)
{
    struct lender *l = lender_start(name, spin_us);
    enum { MSGS = 20000 };
    long borrowed = 0;
    for (int i = 0; i < MSGS; i++) {
        rt_send(&l->x, msg_of(B_DATA));
        if (rt_thread_try_borrow(l->t)) {
            slow_increment(&l->value);
            borrowed++;
            rt_thread_unborrow(l->t);
        }
        if (i % 64 == 0)
            usleep(50);                          /* let the owner go to sleep now and then */
        if (i % 1024 == 1023) {
            /* and for sure now and then: on a loaded machine the owner can
             * fall behind the sends for the whole run, never sleep, and
             * leave every try above to meet it running (none borrowed) */
            REQUIRE(wait_handled(l, i + 1, 20000) == i + 1);
            REQUIRE(borrow_within(l->t, 5000));
            slow_increment(&l->value);
            borrowed++;
            rt_thread_unborrow(l->t);
        }
    }
    REQUIRE(wait_handled(l, MSGS, 20000) == MSGS);
    /* Borrow once more to read the total with the owner's writes visible. */
    REQUIRE(borrow_within(l->t, 5000));
    CHECK_EQ_INT(l->value, MSGS + borrowed);
    rt_thread_unborrow(l->t);
    CHECK(borrowed > 0);
    CHECK_EQ_INT(borrows_of(l->t, NULL), borrowed + 1);
    lender_stop(l);
}

TEST(borrow_and_owner_never_overlap)
{
    overlap_run("lend-race", 0);
}

/* A thread spinning before it sleeps lends its data as well, and takes it
 * back before it runs anything. */
TEST(borrow_and_owner_never_overlap_with_spinning)
{
    overlap_run("lend-spin", 200);
}

/* test_actor.c - unit tests for runtime/actor.c: cross-thread ping-pong with
 * per-sender order, batching of wake-ups, bounded rounds (timers still fire
 * while an actor floods itself), timers, prepare hooks, stop/join, and
 * rt_actor_is_idle (what link and sender teardown wait for before freeing).
 *
 * Must never: hang forever on a bug when a bound can be put on it (waits use a
 * deadline), or assert on speed (only on counts and order).
 */
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ck_pr.h>
#include "runtime/actor.h"
#include "tests/unit/unit.h"

enum { MSG_START = 1, MSG_DATA, MSG_ECHO };
enum { FROM_A = 0, FROM_MAIN = 1 };

typedef struct {
    rt_msg_t hdr;
    uint32_t sender;
    uint32_t seq;
} test_msg_t;

static test_msg_t *new_msg(uint32_t type, uint32_t sender, uint32_t seq)
{
    test_msg_t *m = malloc(sizeof *m);
    if (m == NULL) abort();
    m->hdr.type = type;
    m->sender = sender;
    m->seq = seq;
    return m;
}

/* Waits until *flag != 0 or the deadline passes; returns the flag. */
static int wait_flag(int *flag, long long timeout_ms)
{
    long long deadline = rt_mono_ms() + timeout_ms;
    while (!ck_pr_load_int(flag) && rt_mono_ms() < deadline)
        usleep(1000);
    return ck_pr_load_int(flag);
}

/* ---- ping-pong ---------------------------------------------------------- */

enum { PP_TOTAL = 200000, PP_WINDOW = 500, PP_FROM_MAIN = 50000 };

struct pingpong {
    rt_thread_t *t0, *t1;
    rt_actor_t a, b;
    /* A's state (thread 0) */
    uint32_t a_sent, a_echoes;
    /* B's state (thread 1) */
    uint32_t b_expected[2];
    /* shared, atomic */
    int errors;
    int parts_done;
    int finished;
};

static void pp_part_done(struct pingpong *pp)
{
    /* Fetch-and-add: the second finisher stops both threads. */
    if (ck_pr_faa_int(&pp->parts_done, 1) == 1) {
        ck_pr_store_int(&pp->finished, 1);
        rt_thread_stop(pp->t0);
        rt_thread_stop(pp->t1);
    }
}

static void a_send_window(struct pingpong *pp)
{
    for (int i = 0; i < PP_WINDOW && pp->a_sent < PP_TOTAL; i++) {
        test_msg_t *m = new_msg(MSG_DATA, FROM_A, pp->a_sent++);
        rt_send(&pp->b, &m->hdr);
    }
}

static void actor_a(rt_actor_t *self, rt_msg_t *msg)
{
    struct pingpong *pp = self->state;
    test_msg_t *m = (test_msg_t *)msg;
    if (rt_thread_self() != pp->t0) ck_pr_inc_int(&pp->errors);
    if (msg->type == MSG_START) {
        a_send_window(pp);
    } else if (msg->type == MSG_ECHO) {
        if (m->seq != pp->a_echoes) ck_pr_inc_int(&pp->errors);
        pp->a_echoes++;
        if (pp->a_echoes == pp->a_sent) {
            if (pp->a_sent == PP_TOTAL) pp_part_done(pp);
            else a_send_window(pp);
        }
    } else {
        ck_pr_inc_int(&pp->errors);
    }
    free(m);
}

static void actor_b(rt_actor_t *self, rt_msg_t *msg)
{
    struct pingpong *pp = self->state;
    test_msg_t *m = (test_msg_t *)msg;
    if (rt_thread_self() != pp->t1 || msg->type != MSG_DATA || m->sender > FROM_MAIN ||
        m->seq != pp->b_expected[m->sender]) {
        ck_pr_inc_int(&pp->errors);
        free(m);
        return;
    }
    pp->b_expected[m->sender]++;
    if (m->sender == FROM_A) {
        m->hdr.type = MSG_ECHO;           /* forward the same message back */
        rt_send(&pp->a, &m->hdr);
    } else {
        if (pp->b_expected[FROM_MAIN] == PP_FROM_MAIN) pp_part_done(pp);
        free(m);
    }
}

TEST(actor_pingpong_two_threads)
{
    struct pingpong *pp = calloc(1, sizeof *pp);
    REQUIRE(pp != NULL);
    pp->t0 = rt_thread_create("test-t0");
    pp->t1 = rt_thread_create("test-t1");
    REQUIRE(pp->t0 != NULL && pp->t1 != NULL);
    CHECK(rt_thread_index(pp->t1) == rt_thread_index(pp->t0) + 1);
    CHECK_EQ_STR(rt_thread_name(pp->t0), "test-t0");
    CHECK(rt_thread_self() == NULL);
    rt_actor_init(&pp->a, pp->t0, "a", actor_a, pp);
    rt_actor_init(&pp->b, pp->t1, "b", actor_b, pp);
    REQUIRE(rt_thread_start(pp->t0) == 0);
    REQUIRE(rt_thread_start(pp->t1) == 0);

    rt_send(&pp->a, &new_msg(MSG_START, 0, 0)->hdr);
    /* A second sender from outside the runtime, interleaving with A. */
    for (uint32_t i = 0; i < PP_FROM_MAIN; i++)
        rt_send(&pp->b, &new_msg(MSG_DATA, FROM_MAIN, i)->hdr);

    int finished = wait_flag(&pp->finished, 15000);
    CHECK(finished);
    if (!finished) { rt_thread_stop(pp->t0); rt_thread_stop(pp->t1); }
    rt_thread_join(pp->t0);
    rt_thread_join(pp->t1);

    CHECK_EQ_INT(ck_pr_load_int(&pp->errors), 0);
    CHECK_EQ_INT(pp->a_echoes, PP_TOTAL);
    CHECK_EQ_INT(pp->b_expected[FROM_A], PP_TOTAL);
    CHECK_EQ_INT(pp->b_expected[FROM_MAIN], PP_FROM_MAIN);
    unsigned long long msgs = rt_thread_messages(pp->t0) + rt_thread_messages(pp->t1);
    unsigned long long wakes = rt_thread_wakeups(pp->t0) + rt_thread_wakeups(pp->t1);
    CHECK_EQ_INT(msgs, 2ULL * PP_TOTAL + PP_FROM_MAIN + 1);
    /* How many messages a wake-up carried depends on how the two threads
     * were scheduled (one message per wake when the receiver keeps up), so
     * it is printed, not asserted; actor_burst_to_a_busy_thread checks the
     * batching itself. */
    printf("  actor ping-pong: %llu messages, %llu wake-ups (%.1f msgs/wake)\n",
           msgs, wakes, wakes ? (double)msgs / (double)wakes : 0.0);

    /* Messages left over if the run failed part-way are leaked on purpose:
     * the runtime cannot know how to free them. */
    rt_thread_destroy(pp->t0);
    rt_thread_destroy(pp->t1);
    free(pp);
}

/* ---- batching: a burst to a busy thread sends it no wake-up ------------- */

enum { BURST_MSGS = 6400 };

struct burst {
    rt_thread_t *t;
    rt_actor_t gate, sink;
    int gate_entered;              /* the gate actor is running (main waits) */
    int gate_open;                 /* main lets the gate actor return */
    int received;                  /* messages the sink handled */
};

static void gate_fn(rt_actor_t *self, rt_msg_t *msg)
{
    struct burst *b = self->state;
    free(msg);
    ck_pr_store_int(&b->gate_entered, 1);
    long long deadline = rt_mono_ms() + 15000;
    while (!ck_pr_load_int(&b->gate_open) && rt_mono_ms() < deadline)
        sched_yield();
}

static void sink_fn(rt_actor_t *self, rt_msg_t *msg)
{
    struct burst *b = self->state;
    free(msg);
    ck_pr_store_int(&b->received, ck_pr_load_int(&b->received) + 1);
}

static unsigned long long thread_lingers(const char *name)
{
    rt_thread_stats_t st[256];   /* the runtime's thread limit */
    int n = rt_thread_stats_all(st, 256);
    for (int i = 0; i < n; i++)
        if (strcmp(st[i].name, name) == 0)
            return st[i].lingers;
    return ~0ULL;
}

/* What a burst cost the thread: counted from the moment its gate actor runs
 * until the sink has handled every message. */
struct burst_cost {
    int received;
    unsigned long long wake_sends;     /* during the sends, the thread busy */
    unsigned long long rounds;         /* wake_cb runs, the gate's included */
    unsigned long long lingers;
};

/* Starts a thread named `name` (lingering `linger_us` after bus rounds,
 * 0: never), holds it in the gate actor, sends BURST_MSGS messages to its
 * sink actor (`sink`), opens the gate and waits for the sink to handle all. */
static struct burst_cost run_burst(const char *name, int linger_us, rt_behaviour_fn sink)
{
    struct burst_cost c = { 0 };
    struct burst *b = calloc(1, sizeof *b);
    if (b == NULL || (b->t = rt_thread_create(name)) == NULL)
        abort();
    if (linger_us > 0)
        rt_thread_set_linger_us(b->t, linger_us);
    rt_actor_init(&b->gate, b->t, "gate", gate_fn, b);
    rt_actor_init(&b->sink, b->t, "sink", sink, b);
    if (rt_thread_start(b->t) != 0)
        abort();

    rt_send(&b->gate, &new_msg(MSG_START, FROM_MAIN, 0)->hdr);
    if (wait_flag(&b->gate_entered, 15000)) {
        unsigned long long sends0 = rt_thread_wake_sends(b->t);
        unsigned long long wakes0 = rt_thread_wakeups(b->t);
        unsigned long long lingers0 = thread_lingers(name);
        for (uint32_t i = 0; i < BURST_MSGS; i++)
            rt_send(&b->sink, &new_msg(MSG_DATA, FROM_MAIN, i)->hdr);
        c.wake_sends = rt_thread_wake_sends(b->t) - sends0;
        ck_pr_store_int(&b->gate_open, 1);
        long long deadline = rt_mono_ms() + 15000;
        while (ck_pr_load_int(&b->received) < BURST_MSGS && rt_mono_ms() < deadline)
            usleep(1000);
        c.received = ck_pr_load_int(&b->received);
        c.rounds = rt_thread_wakeups(b->t) - wakes0;
        c.lingers = thread_lingers(name) - lingers0;
    }
    ck_pr_store_int(&b->gate_open, 1);
    rt_thread_stop(b->t);
    rt_thread_join(b->t);
    rt_thread_destroy(b->t);
    free(b);
    return c;
}

/* While a thread is running an actor, messages sent to another actor of that
 * thread queue without waking it (its ready queue is not marked empty), and
 * after the busy actor returns they run in rounds of up to RT_BATCH: the
 * burst costs no wake signal and about BURST_MSGS / RT_BATCH rounds. Counts
 * only, so the thread's scheduling cannot change the result. */
TEST(actor_burst_to_a_busy_thread)
{
    struct burst_cost c = run_burst("test-burst", 0, sink_fn);
    CHECK_EQ_INT(c.received, BURST_MSGS);
    CHECK_EQ_INT(c.wake_sends, 0);
    CHECK(c.rounds <= BURST_MSGS / RT_BATCH + 4);
    printf("  burst to a busy thread: %d messages, %llu wake signals, %llu rounds\n",
           BURST_MSGS, c.wake_sends, c.rounds);
}

/* A thread set to linger after bus rounds does not linger while work is
 * already queued: a burst of bus-round messages (each calls
 * rt_thread_note_bus_io) queued while the thread is busy runs in rounds of
 * RT_BATCH, each ending with the next round already due; lingering there
 * would hold every round for linger_us. At most the last round, after
 * which nothing is queued, may linger. */
static void bus_sink_fn(rt_actor_t *self, rt_msg_t *msg)
{
    rt_thread_note_bus_io();
    sink_fn(self, msg);
}

TEST(actor_no_linger_while_work_is_queued)
{
    struct burst_cost c = run_burst("test-linger", 100, bus_sink_fn);
    CHECK_EQ_INT(c.received, BURST_MSGS);
    CHECK(c.lingers <= 1);
    printf("  bus-round burst: %d messages in rounds of %d, %llu lingers\n",
           BURST_MSGS, RT_BATCH, c.lingers);
}

/* ---- fairness: a flooding actor neither starves others nor timers -------- */

enum { FLOOD_CAP = 2000000, FAIR_MSGS = 1000 };

struct flood {
    rt_thread_t *t;
    rt_actor_t flooder, p, q;
    rt_msg_t ring;                 /* the one message the flooder re-sends */
    test_msg_t pq_msgs[2][FAIR_MSGS];
    uint32_t flood_count;
    int stop_flood;                /* set by the timer (same thread) */
    uint32_t flood_at_timer;
    /* order in which p and q ran */
    char order[2 * FAIR_MSGS];
    int order_len;
    rt_timer_t timer;
    int done;
};

static void flooder_fn(rt_actor_t *self, rt_msg_t *msg)
{
    struct flood *f = self->state;
    f->flood_count++;
    if (!f->stop_flood && f->flood_count < FLOOD_CAP) rt_send(self, msg);
}

static void pq_fn(rt_actor_t *self, rt_msg_t *msg)
{
    struct flood *f = self->state;
    (void)msg;
    f->order[f->order_len++] = self == &f->p ? 'p' : 'q';
    /* On a slow machine the timer may fire first: finish when both are done. */
    if (f->order_len == 2 * FAIR_MSGS && f->stop_flood) {
        ck_pr_store_int(&f->done, 1);
        rt_thread_stop(f->t);
    }
}

static void flood_timer_cb(rt_timer_t *timer, void *arg)
{
    struct flood *f = arg;
    (void)timer;
    f->stop_flood = 1;
    f->flood_at_timer = f->flood_count;
    if (f->order_len == 2 * FAIR_MSGS) {
        ck_pr_store_int(&f->done, 1);
        rt_thread_stop(f->t);
    }
}

TEST(actor_rounds_are_bounded)
{
    struct flood *f = calloc(1, sizeof *f);
    REQUIRE(f != NULL);
    f->t = rt_thread_create("test-flood");
    REQUIRE(f->t != NULL);
    rt_actor_init(&f->flooder, f->t, "flooder", flooder_fn, f);
    rt_actor_init(&f->p, f->t, "p", pq_fn, f);
    rt_actor_init(&f->q, f->t, "q", pq_fn, f);
    /* Sends and timers before start are allowed; all of it is ready at once. */
    rt_send(&f->flooder, &f->ring);
    for (int i = 0; i < FAIR_MSGS; i++) {
        rt_send(&f->p, &f->pq_msgs[0][i].hdr);
        rt_send(&f->q, &f->pq_msgs[1][i].hdr);
    }
    rt_timer_start(&f->timer, f->t, 5, 0, flood_timer_cb, f);
    REQUIRE(rt_thread_start(f->t) == 0);
    CHECK(wait_flag(&f->done, 15000));
    rt_thread_join(f->t);

    /* The timer fired while the flooder still had work: I/O and timers get
     * their turn between rounds. */
    CHECK(f->flood_at_timer < FLOOD_CAP);
    CHECK(f->flood_at_timer > 0);
    /* p and q each ran in slices of at most RT_BATCH, taking turns. */
    CHECK_EQ_INT(f->order_len, 2 * FAIR_MSGS);
    int longest = 0, run = 0;
    for (int i = 0; i < f->order_len; i++) {
        run = (i > 0 && f->order[i] == f->order[i - 1]) ? run + 1 : 1;
        if (run > longest) longest = run;
    }
    CHECK(longest <= RT_BATCH);
    CHECK(longest > 1);            /* and messages are batched, not one per round */
    rt_thread_destroy(f->t);
    free(f);
}

/* ---- timers, hooks, stop ------------------------------------------------- */

struct timing {
    rt_thread_t *t;
    rt_timer_t once, repeat;
    long long started_ms, once_ms;
    int repeat_fires;
    int wrong_thread;
    int done;
};

static void once_cb(rt_timer_t *timer, void *arg)
{
    struct timing *tm = arg;
    if (rt_thread_self() != tm->t || timer != &tm->once) tm->wrong_thread++;
    tm->once_ms = rt_mono_ms();
}

static void repeat_cb(rt_timer_t *timer, void *arg)
{
    struct timing *tm = arg;
    if (rt_thread_self() != tm->t) tm->wrong_thread++;
    if (++tm->repeat_fires == 5) {
        rt_timer_stop(timer);
        ck_pr_store_int(&tm->done, 1);
        rt_thread_stop(tm->t);
    }
}

TEST(actor_timers_fire_on_their_thread)
{
    struct timing tm = {0};
    tm.t = rt_thread_create("test-timer");
    REQUIRE(tm.t != NULL);
    tm.started_ms = rt_mono_ms();
    rt_timer_start(&tm.once, tm.t, 30, 0, once_cb, &tm);
    rt_timer_start(&tm.repeat, tm.t, 10, 10, repeat_cb, &tm);
    REQUIRE(rt_thread_start(tm.t) == 0);
    CHECK(wait_flag(&tm.done, 10000));
    rt_thread_join(tm.t);
    CHECK_EQ_INT(tm.wrong_thread, 0);
    CHECK_EQ_INT(tm.repeat_fires, 5);       /* stopped: no sixth fire */
    CHECK(tm.once_ms != 0);                 /* 30 ms < 5 x 10 ms */
    CHECK(tm.once_ms - tm.started_ms >= 29); /* not early (1 ms clock slack) */
    rt_timer_stop(&tm.once);                /* stopping a fired one-shot is a no-op */
    rt_thread_destroy(tm.t);
}

static void hook_fn(rt_thread_t *t, void *arg)
{
    int *calls = arg;
    if (rt_thread_self() == t && ck_pr_faa_int(calls, 1) == 0)
        rt_thread_stop(t);       /* stop from inside the loop */
}

TEST(actor_prepare_hook_and_stop)
{
    static int calls;
    rt_thread_t *t = rt_thread_create("test-hook");
    REQUIRE(t != NULL);
    for (int i = 0; i < 8; i++) CHECK(rt_thread_add_prepare_hook(t, hook_fn, &calls) == 0);
    CHECK(rt_thread_add_prepare_hook(t, hook_fn, &calls) == -1);   /* at most 8 */
    REQUIRE(rt_thread_start(t) == 0);
    rt_thread_join(t);
    CHECK(ck_pr_load_int(&calls) >= 8);
    rt_thread_destroy(t);

    /* Stop before start: the thread exits at once. */
    t = rt_thread_create("test-early");
    REQUIRE(t != NULL);
    rt_thread_stop(t);
    REQUIRE(rt_thread_start(t) == 0);
    rt_thread_join(t);
    rt_thread_destroy(t);

    /* Stop from another thread while the loop sleeps. */
    t = rt_thread_create("test-sleep");
    REQUIRE(t != NULL);
    REQUIRE(rt_thread_start(t) == 0);
    usleep(20000);
    rt_thread_stop(t);
    rt_thread_join(t);
    rt_thread_destroy(t);
}

TEST(actor_clocks)
{
    long long wall = rt_now_ms(), wall_us = rt_now_us(), mono = rt_mono_ms();
    CHECK(wall > 1600000000000LL);                 /* after 2020 */
    CHECK(wall_us / 1000 - wall >= 0 && wall_us / 1000 - wall < 1000);
    usleep(5000);
    CHECK(rt_mono_ms() - mono >= 4);
}

/* ---- idleness ---------------------------------------------------------- */

static int idle_handled;   /* atomic */

static void idle_behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    (void)self;
    free(msg);
    ck_pr_faa_int(&idle_handled, 1);
}

TEST(actor_is_idle_until_sent_and_again_after_its_run)
{
    rt_thread_t *t = rt_thread_create("idle");
    REQUIRE(t != NULL);
    rt_actor_t a;
    rt_actor_init(&a, t, "idle", idle_behaviour, NULL);
    ck_pr_store_int(&idle_handled, 0);
    CHECK(rt_actor_is_idle(&a));                  /* nothing sent yet */
    rt_send(&a, &new_msg(MSG_DATA, FROM_MAIN, 0)->hdr);
    CHECK(rt_actor_is_idle(&a) == false);         /* scheduled; the thread is not even running */
    REQUIRE(rt_thread_start(t) == 0);
    long long deadline = rt_mono_ms() + 5000;
    while (!rt_actor_is_idle(&a) && rt_mono_ms() < deadline)
        usleep(1000);
    CHECK(rt_actor_is_idle(&a));                  /* ran and marked itself idle */
    CHECK_EQ_INT(ck_pr_load_int(&idle_handled), 1);
    rt_thread_stop(t);
    rt_thread_join(t);
    rt_thread_destroy(t);
}

/* ---- lazy sends ------------------------------------------------------- */

enum { LZ_SENDERS = 3, LZ_PER_SENDER = 20000, LZ_ROUNDS = 2000, MSG_WANT = 10, MSG_ORDINARY };

struct lazy {
    rt_thread_t *t;
    rt_actor_t x;
    /* the actor's state (thread t) */
    uint32_t expected[LZ_SENDERS + 1];
    bool ordinary_seen;
    bool off_after_each;            /* turn lazy wake-ups off again after each lazy message */
    /* shared, atomic */
    int lazy_handled;
    int ordinary_handled;
    int errors;
    int wrong_thread;
};

static void lazy_behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    struct lazy *lz = self->state;
    test_msg_t *m = (test_msg_t *)msg;
    if (rt_thread_self() != lz->t) ck_pr_inc_int(&lz->wrong_thread);
    if (msg->type == MSG_WANT) {
        rt_thread_want_lazy_wakeups(true);
    } else if (msg->type == MSG_ORDINARY) {
        lz->ordinary_seen = true;
        ck_pr_inc_int(&lz->ordinary_handled);
    } else {
        /* Per-sender order, and never after an ordinary message sent later. */
        if (m->seq != lz->expected[m->sender] || lz->ordinary_seen) ck_pr_inc_int(&lz->errors);
        lz->expected[m->sender] = m->seq + 1;
        if (lz->off_after_each) rt_thread_want_lazy_wakeups(false);
        ck_pr_inc_int(&lz->lazy_handled);
    }
    free(msg);
}

static struct lazy *lazy_new(const char *name)
{
    struct lazy *lz = calloc(1, sizeof *lz);
    if (lz == NULL) abort();
    lz->t = rt_thread_create(name);
    if (lz->t == NULL) abort();
    rt_actor_init(&lz->x, lz->t, "lazy", lazy_behaviour, lz);
    return lz;
}

static void lazy_free(struct lazy *lz)
{
    rt_thread_stop(lz->t);
    rt_thread_join(lz->t);
    rt_thread_destroy(lz->t);
    free(lz);
}

/* A lazy send does not wake an idle thread; the next ordinary send does, and
 * the lazy messages (up to RT_BATCH) run first, in order. */
TEST(actor_lazy_send_waits_for_a_wake_and_runs_first)
{
    struct lazy *lz = lazy_new("lazy-order");
    REQUIRE(rt_thread_start(lz->t) == 0);
    usleep(20000);                                   /* let the loop go to sleep */
    unsigned long long wakes_before = rt_thread_wakeups(lz->t);
    for (uint32_t i = 0; i < RT_BATCH; i++)
        rt_send_lazy(&lz->x, &new_msg(MSG_DATA, FROM_MAIN, i)->hdr);
    usleep(50000);
    CHECK_EQ_INT(ck_pr_load_int(&lz->lazy_handled), 0);    /* nobody woke the thread */
    CHECK(rt_thread_wakeups(lz->t) == wakes_before);
    CHECK(rt_thread_lazy_sends(lz->t) == 1);          /* only the first found it idle */
    rt_send(&lz->x, &new_msg(MSG_ORDINARY, FROM_MAIN, 0)->hdr);
    long long deadline = rt_mono_ms() + 5000;
    while (ck_pr_load_int(&lz->ordinary_handled) == 0 && rt_mono_ms() < deadline)
        usleep(1000);
    CHECK_EQ_INT(ck_pr_load_int(&lz->ordinary_handled), 1);
    CHECK_EQ_INT(ck_pr_load_int(&lz->lazy_handled), RT_BATCH);
    CHECK_EQ_INT(ck_pr_load_int(&lz->errors), 0);
    CHECK_EQ_INT(ck_pr_load_int(&lz->wrong_thread), 0);
    lazy_free(lz);
}

/* The receiver turns lazy wake-ups on (an ordinary message) while a lazy
 * message may be on its way; it turns them off again when it got it. Each
 * round must complete without any other wake-up: a lost wake-up hangs the
 * round until the deadline. */
TEST(actor_lazy_send_no_lost_wakeup_when_wanted)
{
    struct lazy *lz = lazy_new("lazy-want");
    lz->off_after_each = true;
    REQUIRE(rt_thread_start(lz->t) == 0);
    int completed = 0;
    for (uint32_t r = 0; r < LZ_ROUNDS; r++) {
        rt_send(&lz->x, &new_msg(MSG_WANT, FROM_MAIN, 0)->hdr);
        if (r % 3 == 1) sched_yield();                 /* vary the race */
        rt_send_lazy(&lz->x, &new_msg(MSG_DATA, FROM_MAIN, r)->hdr);
        long long deadline = rt_mono_ms() + 5000;
        while (ck_pr_load_int(&lz->lazy_handled) <= (int)r && rt_mono_ms() < deadline)
            sched_yield();
        if (ck_pr_load_int(&lz->lazy_handled) <= (int)r) break;
        completed++;
    }
    CHECK_EQ_INT(completed, LZ_ROUNDS);
    CHECK_EQ_INT(ck_pr_load_int(&lz->errors), 0);
    lazy_free(lz);
}

struct lazy_sender { struct lazy *lz; uint32_t id; };

static void *lazy_sender_main(void *arg)
{
    struct lazy_sender *s = arg;
    for (uint32_t i = 0; i < LZ_PER_SENDER; i++)
        rt_send_lazy(&s->lz->x, &new_msg(MSG_DATA, s->id, i)->hdr);
    return NULL;
}

/* Concurrent lazy senders with wake-ups wanted: every message arrives, in
 * per-sender order, without any ordinary send. */
TEST(actor_lazy_send_concurrent_senders_deliver_all_in_order)
{
    struct lazy *lz = lazy_new("lazy-many");
    REQUIRE(rt_thread_start(lz->t) == 0);
    rt_send(&lz->x, &new_msg(MSG_WANT, FROM_MAIN, 0)->hdr);
    pthread_t th[LZ_SENDERS];
    struct lazy_sender snd[LZ_SENDERS];
    for (uint32_t i = 0; i < LZ_SENDERS; i++) {
        snd[i].lz = lz;
        snd[i].id = i;
        REQUIRE(pthread_create(&th[i], NULL, lazy_sender_main, &snd[i]) == 0);
    }
    for (int i = 0; i < LZ_SENDERS; i++) pthread_join(th[i], NULL);
    long long deadline = rt_mono_ms() + 10000;
    while (ck_pr_load_int(&lz->lazy_handled) < LZ_SENDERS * LZ_PER_SENDER && rt_mono_ms() < deadline)
        usleep(1000);
    CHECK_EQ_INT(ck_pr_load_int(&lz->lazy_handled), LZ_SENDERS * LZ_PER_SENDER);
    CHECK_EQ_INT(ck_pr_load_int(&lz->errors), 0);
    CHECK_EQ_INT(ck_pr_load_int(&lz->wrong_thread), 0);
    lazy_free(lz);
}

/* ---- spinning before sleep ------------------------------------------------ */

struct spin {
    rt_thread_t *t;
    rt_actor_t x;
    int handled;                    /* atomic */
    int wrong_thread;               /* atomic */
};

static void spin_behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    struct spin *sp = self->state;
    if (rt_thread_self() != sp->t) ck_pr_inc_int(&sp->wrong_thread);
    if (msg->type == MSG_DATA) rt_thread_note_busy();
    ck_pr_inc_int(&sp->handled);
    free(msg);
}

static int wait_count(int *counter, int want, long long timeout_ms)
{
    long long deadline = rt_mono_ms() + timeout_ms;
    while (ck_pr_load_int(counter) < want && rt_mono_ms() < deadline)
        usleep(200);
    return ck_pr_load_int(counter);
}

/* After a round that handled a message the thread spins; a message sent
 * during the spin is handled without a wake request (no eventfd write). A
 * spin also ends when a yield lets another thread run (a loaded machine):
 * then the send wakes the thread as usual. So try a few times; every
 * message must arrive either way, and at least one must be caught. */
TEST(actor_spin_catches_a_message_without_a_wake)
{
    struct spin *sp = calloc(1, sizeof *sp);
    REQUIRE(sp != NULL);
    sp->t = rt_thread_create("spin-catch");
    REQUIRE(sp->t != NULL);
    /* Long: the spin ends as soon as the message arrives (or at stop). */
    rt_thread_set_spin_us(sp->t, 3000000);
    rt_actor_init(&sp->x, sp->t, "spin", spin_behaviour, sp);
    REQUIRE(rt_thread_start(sp->t) == 0);
    usleep(20000);
    CHECK(rt_thread_spins(sp->t) == 0);            /* nothing handled yet: no spin */
    /* A message whose handler does not call rt_thread_note_busy: no spin. */
    rt_send(&sp->x, &new_msg(MSG_ECHO, FROM_MAIN, 0)->hdr);
    REQUIRE(wait_count(&sp->handled, 1, 5000) == 1);
    usleep(20000);
    CHECK(rt_thread_spins(sp->t) == 0);
    int sent = 1, caught = 0;
    for (int attempt = 0; attempt < 200 && caught == 0; attempt++) {
        unsigned long long spins = rt_thread_spins(sp->t);
        rt_send(&sp->x, &new_msg(MSG_DATA, FROM_MAIN, 0)->hdr);
        sent++;
        REQUIRE(wait_count(&sp->handled, sent, 5000) == sent);
        /* A thread whose spins kept being cut short spins only now and
         * then (credit): without a spin this attempt tests nothing. */
        long long deadline = rt_mono_ms() + 100;
        while (rt_thread_spins(sp->t) == spins && rt_mono_ms() < deadline)
            sched_yield();
        if (rt_thread_spins(sp->t) == spins)
            continue;
        unsigned long long wakes = rt_thread_wake_sends(sp->t);
        unsigned long long catches = rt_thread_spin_catches(sp->t);
        rt_send(&sp->x, &new_msg(MSG_DATA, FROM_MAIN, 1)->hdr);
        sent++;
        REQUIRE(wait_count(&sp->handled, sent, 5000) == sent);
        if (rt_thread_wake_sends(sp->t) == wakes && rt_thread_spin_catches(sp->t) > catches)
            caught++;
        usleep(1000);
    }
    CHECK(caught > 0);
    CHECK_EQ_INT(ck_pr_load_int(&sp->wrong_thread), 0);
    long long t0 = rt_mono_ms();
    rt_thread_stop(sp->t);                          /* ends a spin in progress */
    rt_thread_join(sp->t);
    CHECK(rt_mono_ms() - t0 < 2000);
    rt_thread_destroy(sp->t);
    free(sp);
}

/* A thread woken only by its timers does not spin: an idle node costs what
 * it did without spinning. */
static void spin_timer_cb(rt_timer_t *timer, void *arg)
{
    (void)timer;
    ck_pr_inc_int((int *)arg);
}

TEST(actor_spin_not_after_timer_rounds)
{
    rt_thread_t *t = rt_thread_create("spin-timer");
    REQUIRE(t != NULL);
    rt_thread_set_spin_us(t, 100000);
    int fired = 0;
    rt_timer_t timer = {0};
    rt_timer_start(&timer, t, 1, 1, spin_timer_cb, &fired);
    REQUIRE(rt_thread_start(t) == 0);
    CHECK(wait_count(&fired, 20, 5000) >= 20);
    CHECK(rt_thread_spins(t) == 0);
    rt_thread_stop(t);
    rt_thread_join(t);
    rt_thread_destroy(t);
}

/* One message bounced between two spinning threads with a spin so short
 * that it often runs out just as the message comes: a lost wake-up (the
 * sender skipping its wake because it saw the spin, the receiver missing the
 * push as it stops spinning) would leave the message stuck and the bounce
 * would stop. */
enum { SPIN_BOUNCES = 40000 };

struct bounce {
    rt_thread_t *t[2];
    rt_actor_t a[2];
    int count;                      /* written by whichever thread holds the message */
    int done;                       /* atomic */
    int errors;                     /* atomic */
};

static void bounce_behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    struct bounce *bc = self->state;
    int me = self == &bc->a[0] ? 0 : 1;
    if (rt_thread_self() != bc->t[me]) ck_pr_inc_int(&bc->errors);
    rt_thread_note_busy();
    /* The message carries the hand-over: the count is only touched by the
     * thread that holds it (the mailbox orders the accesses). */
    if (++bc->count >= SPIN_BOUNCES) {
        free(msg);
        ck_pr_store_int(&bc->done, 1);
        return;
    }
    rt_send(&bc->a[1 - me], msg);
}

TEST(actor_spin_bounce_loses_no_wakeup)
{
    struct bounce *bc = calloc(1, sizeof *bc);
    REQUIRE(bc != NULL);
    for (int i = 0; i < 2; i++) {
        bc->t[i] = rt_thread_create(i ? "spin-b1" : "spin-b0");
        REQUIRE(bc->t[i] != NULL);
        rt_thread_set_spin_us(bc->t[i], 1 + i);
        rt_actor_init(&bc->a[i], bc->t[i], "bounce", bounce_behaviour, bc);
    }
    for (int i = 0; i < 2; i++) REQUIRE(rt_thread_start(bc->t[i]) == 0);
    rt_send(&bc->a[0], &new_msg(MSG_DATA, FROM_MAIN, 0)->hdr);
    int done = wait_flag(&bc->done, 60000);
    CHECK(done);
    CHECK_EQ_INT(ck_pr_load_int(&bc->errors), 0);
    unsigned long long spins = 0, catches = 0, wakes = 0;
    for (int i = 0; i < 2; i++) {
        spins += rt_thread_spins(bc->t[i]);
        catches += rt_thread_spin_catches(bc->t[i]);
        wakes += rt_thread_wake_sends(bc->t[i]);
        rt_thread_stop(bc->t[i]);
        rt_thread_join(bc->t[i]);
    }
    CHECK(spins > 0);
    printf("  spin bounce: %d hand-overs, %llu spins, %llu caught, %llu wake requests\n",
           SPIN_BOUNCES, spins, catches, wakes);
    for (int i = 0; i < 2; i++) rt_thread_destroy(bc->t[i]);
    free(bc);
}

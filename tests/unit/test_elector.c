/* test_elector.c - the failover elector's rules (actors/failover/elector_rules.h)
 * against hand-built cluster snapshots: replica rank, the election delay,
 * the election timeout, the preconditions of a failover, the data age rule,
 * the quorum, and replica migration's target and candidate.
 */
#include <stdint.h>
#include <string.h>

#include "actors/failover/elector_rules.h"
#include "tests/unit/unit.h"

#define MAX_FIXTURE_NODES 16
#define NOW 1000000000LL

typedef struct fixture {
    cluster_snapshot_t s;
    node_view_t nodes[MAX_FIXTURE_NODES];
} fixture_t;

static void fixture_init(fixture_t *f)
{
    memset(f, 0, sizeof *f);
    f->s.nodes = f->nodes;
    f->s.myself = -1;
    f->s.state_ok = true;
}

/* Adds a node whose name is 40 times `c` (so names order as their letters);
 * its index. */
static int add(fixture_t *f, char c, uint16_t flags, int master, long long offset, int slots)
{
    int i = f->s.node_count++;
    node_view_t *n = &f->nodes[i];
    memset(n->name, c, NODE_NAME_LEN);
    n->name[NODE_NAME_LEN] = '\0';
    strcpy(n->ip, "127.0.0.1");
    n->hostname = "";
    n->flags = flags;
    n->master = master;
    n->repl_offset = offset;
    n->slot_count = slots;
    if ((flags & NODE_MASTER) && slots > 0) f->s.size++;
    return i;
}

static int add_myself(fixture_t *f, char c, int master)
{
    int i = add(f, c, NODE_SLAVE | NODE_MYSELF, master, 0, 0);
    f->s.myself = i;
    return i;
}

/* ---------------- rank ---------------- */

TEST(elector_rank_counts_siblings_with_larger_offsets_and_ties_with_smaller_names)
{
    fixture_t f;
    fixture_init(&f);
    int m = add(&f, 'm', NODE_MASTER | NODE_FAIL, -1, 0, 100);
    int other = add(&f, 'o', NODE_MASTER, -1, 0, 100);
    add_myself(&f, 'k', m);
    add(&f, 'b', NODE_SLAVE, m, 200, 0);                    /* ahead of us: counts */
    add(&f, 'c', NODE_SLAVE, m, 50, 0);                     /* behind: does not */
    add(&f, 'a', NODE_SLAVE, m, 100, 0);                    /* same offset, smaller name: counts */
    add(&f, 'z', NODE_SLAVE, m, 100, 0);                    /* same offset, larger name: does not */
    add(&f, 'd', NODE_SLAVE | NODE_NOFAILOVER, m, 999, 0);  /* may not fail over: ignored */
    add(&f, 'e', NODE_SLAVE, other, 999, 0);                /* another master's replica: ignored */
    bool final;
    CHECK_EQ_INT(elector_rank(&f.s, m, 100, &final), 2);
    CHECK_EQ_INT(elector_rank(&f.s, m, 201, &final), 0);
    CHECK_EQ_INT(elector_rank(&f.s, m, 0, &final), 4);   /* b, c, a, z ahead; d and e ignored */
}

TEST(elector_rank_zero_is_unique_among_equal_offsets)
{
    fixture_t f;
    fixture_init(&f);
    int m = add(&f, 'm', NODE_MASTER | NODE_FAIL, -1, 0, 100);
    add_myself(&f, 'a', m);
    add(&f, 'b', NODE_SLAVE, m, 100, 0);
    bool final;
    CHECK_EQ_INT(elector_rank(&f.s, m, 100, &final), 0);
    /* The same table seen from 'b': it is rank 1. */
    f.nodes[0].flags = NODE_MASTER | NODE_FAIL;
    f.nodes[1].flags = NODE_SLAVE;
    f.nodes[1].repl_offset = 100;
    f.nodes[2].flags = NODE_SLAVE | NODE_MYSELF;
    f.s.myself = 2;
    CHECK_EQ_INT(elector_rank(&f.s, m, 100, &final), 1);
}

TEST(elector_rank_offsets_are_final_once_every_live_sibling_spoke_after_the_master)
{
    fixture_t f;
    fixture_init(&f);
    int m = add(&f, 'm', NODE_MASTER | NODE_FAIL, -1, 0, 100);
    f.nodes[m].data_received_ms = NOW - 20000;
    add_myself(&f, 'a', m);
    int b = add(&f, 'b', NODE_SLAVE, m, 10, 0);
    int c = add(&f, 'c', NODE_SLAVE | NODE_FAIL, m, 10, 0);
    f.nodes[b].data_received_ms = NOW - 100;
    f.nodes[c].data_received_ms = NOW - 90000;   /* FAIL: it will not speak again */
    bool final = false;
    elector_rank(&f.s, m, 10, &final);
    CHECK(final);
    f.nodes[b].data_received_ms = f.nodes[m].data_received_ms;   /* not after the master */
    elector_rank(&f.s, m, 10, &final);
    CHECK(!final);
}

/* ---------------- delay and timeout ---------------- */

TEST(elector_delay_is_7_0_15s_500_plus_random_plus_rank_seconds)
{
    CHECK_EQ_INT(elector_delay(0, false, false, 15000, 0), 500);
    CHECK_EQ_INT(elector_delay(0, false, false, 15000, 123), 623);
    CHECK_EQ_INT(elector_delay(2, false, false, 15000, 499), 500 + 499 + 2000);
    CHECK_EQ_INT(elector_delay(1, false, false, 15000, 500), 1500);      /* random part is rnd % 500 */
    CHECK_EQ_INT(elector_delay(3, true, false, 15000, 7), 500 + 7 + 3000);   /* final helps rank 0 only */
    for (long rnd = 0; rnd < 3000; rnd += 37)
        for (int rank = 0; rank < 4; rank++) {
            long long d = elector_delay(rank, false, false, 15000, rnd);
            CHECK(d >= 500 + rank * 1000LL && d <= 999 + rank * 1000LL);
        }
}

TEST(elector_delay_manual_is_immediate_and_rank_zero_final_takes_the_shortcut)
{
    CHECK_EQ_INT(elector_delay(0, true, true, 15000, 321), 0);
    CHECK_EQ_INT(elector_delay(0, false, true, 15000, 321), 0);
    CHECK_EQ_INT(elector_delay(0, true, false, 15000, 321), 500);   /* min(500, 15000/30) */
    CHECK_EQ_INT(elector_delay(0, true, false, 3000, 321), 100);    /* min(500, 3000/30) */
    CHECK_EQ_INT(elector_delay(0, true, false, 29, 321), 0);
}

TEST(elector_auth_timeout_is_twice_node_timeout_at_least_two_seconds)
{
    CHECK_EQ_INT(elector_auth_timeout(500), 2000);
    CHECK_EQ_INT(elector_auth_timeout(1000), 2000);
    CHECK_EQ_INT(elector_auth_timeout(1001), 2002);
    CHECK_EQ_INT(elector_auth_timeout(15000), 30000);
}

/* ---------------- preconditions ---------------- */

TEST(elector_may_fail_over_needs_a_failed_master_with_slots_or_a_manual_failover)
{
    node_view_t m;
    memset(&m, 0, sizeof m);
    m.flags = NODE_MASTER | NODE_FAIL;
    m.slot_count = 1;
    CHECK(elector_may_fail_over(&m, false, false));
    CHECK(!elector_may_fail_over(&m, false, true));       /* cluster-replica-no-failover */
    CHECK(elector_may_fail_over(&m, true, true));         /* ... does not stop a manual one */
    m.flags = NODE_MASTER | NODE_PFAIL;                   /* suspected is not failed */
    CHECK(!elector_may_fail_over(&m, false, false));
    CHECK(elector_may_fail_over(&m, true, false));
    m.flags = NODE_MASTER | NODE_FAIL;
    m.slot_count = 0;                                     /* nothing to take over */
    CHECK(!elector_may_fail_over(&m, false, false));
    CHECK(!elector_may_fail_over(&m, true, false));
}

TEST(elector_data_age_subtracts_node_timeout_and_falls_back_to_bus_times)
{
    node_view_t m;
    memset(&m, 0, sizeof m);
    CHECK_EQ_INT(elector_data_age(&m, NOW, 20000, 15000), 5000);
    CHECK_EQ_INT(elector_data_age(&m, NOW, 15000, 15000), 15000);   /* not above: kept whole */
    CHECK_EQ_INT(elector_data_age(&m, NOW, 0, 15000), 0);
    /* Link state unknown: the later of the master's last data and PONG. */
    m.data_received_ms = NOW - 40000;
    m.pong_received_ms = NOW - 30000;
    CHECK_EQ_INT(elector_data_age(&m, NOW, -1, 15000), 15000);
    m.data_received_ms = NOW - 16000;
    CHECK_EQ_INT(elector_data_age(&m, NOW, -1, 15000), 1000);
    memset(&m, 0, sizeof m);                                       /* never heard from it */
    CHECK_EQ_INT(elector_data_age(&m, NOW, -1, 15000), 0);
}

TEST(elector_data_fresh_uses_ping_period_plus_node_timeout_times_validity_factor)
{
    /* 7.0.15 defaults: node timeout 15000, validity factor 10, ping period 10 s. */
    CHECK(elector_data_fresh(160000, 15000, 10, 10));
    CHECK(!elector_data_fresh(160001, 15000, 10, 10));
    CHECK(elector_data_fresh(25000, 2000, 10, 5));
    CHECK(!elector_data_fresh(25001, 2000, 10, 5));
    CHECK(elector_data_fresh(1LL << 40, 15000, 0, 10));            /* factor 0: any age */
}

/* ---------------- winning ---------------- */

TEST(elector_wins_with_acks_from_a_majority_of_slot_serving_masters)
{
    CHECK_EQ_INT(elector_quorum(1), 1);
    CHECK_EQ_INT(elector_quorum(2), 2);
    CHECK_EQ_INT(elector_quorum(3), 2);
    CHECK_EQ_INT(elector_quorum(4), 3);
    CHECK_EQ_INT(elector_quorum(5), 3);
    CHECK(!elector_won(0, 1));
    CHECK(elector_won(1, 1));
    CHECK(!elector_won(1, 3));
    CHECK(elector_won(2, 3));
    CHECK(!elector_won(2, 4));
    CHECK(elector_won(3, 4));
    CHECK(elector_won(4, 3));
}

/* ---------------- replica migration ---------------- */

/* Master 'm' with slots and two working replicas (myself 'k' and 's'),
 * and master 'p', orphaned: slots, MIGRATE_TO, no working replica. */
typedef struct mig { fixture_t f; int m, p, me, sib; } mig_t;

static void mig_init(mig_t *x, char my_name, char sib_name)
{
    fixture_init(&x->f);
    x->m = add(&x->f, 'm', NODE_MASTER, -1, 0, 8000);
    x->p = add(&x->f, 'p', NODE_MASTER | NODE_MIGRATE_TO, -1, 0, 8384);
    x->me = add_myself(&x->f, my_name, x->m);
    x->sib = add(&x->f, sib_name, NODE_SLAVE, x->m, 0, 0);
}

TEST(elector_migration_moves_the_smallest_named_replica_to_the_orphan)
{
    mig_t x;
    int target;
    bool candidate;
    mig_init(&x, 'a', 'b');
    CHECK_EQ_INT(elector_migration(&x.f.s, 1, &target, &candidate), ELECTOR_MIGRATE_TARGET);
    CHECK_EQ_INT(target, x.p);
    CHECK(candidate);
    mig_init(&x, 'c', 'b');   /* the sibling's name is smaller: it moves, we stay */
    CHECK_EQ_INT(elector_migration(&x.f.s, 1, &target, &candidate), ELECTOR_MIGRATE_TARGET);
    CHECK_EQ_INT(target, x.p);
    CHECK(!candidate);
}

TEST(elector_migration_candidate_is_chosen_among_all_best_served_masters)
{
    mig_t x;
    int target;
    bool candidate;
    mig_init(&x, 'c', 'd');
    /* Another master as well served as ours, with a replica named smaller. */
    int q = add(&x.f, 'q', NODE_MASTER, -1, 0, 0);
    add(&x.f, 'b', NODE_SLAVE, q, 0, 0);
    add(&x.f, 'e', NODE_SLAVE, q, 0, 0);
    CHECK_EQ_INT(elector_migration(&x.f.s, 1, &target, &candidate), ELECTOR_MIGRATE_TARGET);
    CHECK(!candidate);
    /* Once 'b' is taken off q, q has one working replica less: we are the smallest left. */
    x.f.nodes[q + 1].master = -1;
    x.f.nodes[q + 1].flags = NODE_MASTER;
    CHECK_EQ_INT(elector_migration(&x.f.s, 1, &target, &candidate), ELECTOR_MIGRATE_TARGET);
    CHECK(candidate);
}

TEST(elector_migration_needs_an_orphan_that_was_meant_to_have_replicas)
{
    mig_t x;
    int target;
    bool candidate;
    mig_init(&x, 'a', 'b');
    x.f.nodes[x.p].flags = NODE_MASTER;                     /* no MIGRATE_TO */
    CHECK_EQ_INT(elector_migration(&x.f.s, 1, &target, &candidate), ELECTOR_MIGRATE_NONE);
    CHECK_EQ_INT(target, -1);
    mig_init(&x, 'a', 'b');
    x.f.nodes[x.p].slot_count = 0;                           /* serves nothing */
    CHECK_EQ_INT(elector_migration(&x.f.s, 1, &target, &candidate), ELECTOR_MIGRATE_NONE);
    mig_init(&x, 'a', 'b');
    x.f.nodes[x.p].flags |= NODE_FAIL;                       /* failed masters are not served */
    CHECK_EQ_INT(elector_migration(&x.f.s, 1, &target, &candidate), ELECTOR_MIGRATE_NONE);
    mig_init(&x, 'a', 'b');
    add(&x.f, 'r', NODE_SLAVE, x.p, 0, 0);                   /* it has a working replica */
    CHECK_EQ_INT(elector_migration(&x.f.s, 1, &target, &candidate), ELECTOR_MIGRATE_NONE);
    mig_init(&x, 'a', 'b');
    add(&x.f, 'r', NODE_SLAVE | NODE_FAIL, x.p, 0, 0);       /* a failed replica does not count */
    CHECK_EQ_INT(elector_migration(&x.f.s, 1, &target, &candidate), ELECTOR_MIGRATE_TARGET);
}

TEST(elector_migration_only_from_a_master_with_the_most_and_at_least_two_replicas)
{
    mig_t x;
    int target;
    bool candidate;
    mig_init(&x, 'a', 'b');
    x.f.nodes[x.sib].flags |= NODE_FAIL;                     /* our master keeps one working replica */
    CHECK_EQ_INT(elector_migration(&x.f.s, 0, &target, &candidate), ELECTOR_MIGRATE_NONE);
    mig_init(&x, 'a', 'b');
    int q = add(&x.f, 'q', NODE_MASTER, -1, 0, 0);           /* a better served master elsewhere */
    add(&x.f, 'c', NODE_SLAVE, q, 0, 0);
    add(&x.f, 'd', NODE_SLAVE, q, 0, 0);
    add(&x.f, 'e', NODE_SLAVE, q, 0, 0);
    CHECK_EQ_INT(elector_migration(&x.f.s, 1, &target, &candidate), ELECTOR_MIGRATE_NONE);
}

TEST(elector_migration_waits_for_a_healthy_cluster_and_the_barrier)
{
    mig_t x;
    int target;
    bool candidate;
    mig_init(&x, 'a', 'b');
    x.f.s.state_ok = false;
    CHECK_EQ_INT(elector_migration(&x.f.s, 1, &target, &candidate), ELECTOR_MIGRATE_WAIT);
    mig_init(&x, 'a', 'b');
    /* cluster-migration-barrier 2: our master would keep one, fewer than 2. */
    CHECK_EQ_INT(elector_migration(&x.f.s, 2, &target, &candidate), ELECTOR_MIGRATE_WAIT);
    CHECK_EQ_INT(elector_migration(&x.f.s, 1, &target, &candidate), ELECTOR_MIGRATE_TARGET);
    /* A PFAIL sibling still counts as working, but not as healthy for the barrier. */
    x.f.nodes[x.sib].flags |= NODE_PFAIL;
    CHECK_EQ_INT(elector_migration(&x.f.s, 1, &target, &candidate), ELECTOR_MIGRATE_WAIT);
    CHECK_EQ_INT(elector_migration(&x.f.s, 0, &target, &candidate), ELECTOR_MIGRATE_TARGET);
}

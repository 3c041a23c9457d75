/* elector_rules.h - the failover elector's decisions as pure functions of a
 * cluster snapshot and plain numbers (docs/cluster-bus.md §5.13, §5.16).
 *
 * The elector actor (elector.c) reads the clock, the configuration, the
 * replication offset and random(), and passes them in; these functions only
 * compute, so the unit tests (tests/unit/test_elector.c) drive them with
 * hand-built snapshots.
 *
 * Must never: read a clock, the configuration or a global, log, or send.
 */
#ifndef SHOAL_ACTORS_ELECTOR_RULES_H
#define SHOAL_ACTORS_ELECTOR_RULES_H

#include <stdbool.h>
#include "actors/state/state.h"

/* The election delay of 7.0.15: a fixed part that lets FAIL reach the
 * voters, a random part that spreads replicas of equal rank, and one step
 * per rank so the most up-to-date replica asks first. */
#define ELECTOR_DELAY_FIXED_MS    500
#define ELECTOR_DELAY_RANDOM_MS   500
#define ELECTOR_DELAY_PER_RANK_MS 1000
/* An election lasts max(2 * node timeout, this); a new one may start after
 * twice that. */
#define ELECTOR_AUTH_TIMEOUT_MIN_MS 2000

/* Our rank among the replicas of node `master` that may fail over (no
 * NOFAILOVER flag), myself excluded: how many have a larger replication
 * offset than `my_offset`, or the same offset and a smaller name (so exactly
 * one replica is rank 0; 7.0.15 counts only larger offsets). *final is set
 * when every non-FAIL sibling was heard from after the master's last data,
 * so the offsets compared are the last they will have. */
int elector_rank(const cluster_snapshot_t *s, int master, long long my_offset, bool *final);

/* Milliseconds to wait before asking for votes. Manual failover: 0. Rank 0
 * with final offsets: min(500, node_timeout / 30) (the shortcut explained at
 * the top of elector.c). Otherwise 7.0.15's 500 + rnd % 500 + rank * 1000;
 * `rnd` is any non-negative number (random()). */
long long elector_delay(int rank, bool final, bool manual, long long node_timeout, long rnd);

/* How long an election may collect votes: max(2 * node_timeout, 2000) ms. */
long long elector_auth_timeout(long long node_timeout);

/* Whether a replica of `master` may fail over at all: the master is FAIL or
 * a manual failover may start, cluster-replica-no-failover is off (ignored
 * for a manual failover), and the master serves at least one slot. */
bool elector_may_fail_over(const node_view_t *master, bool manual, bool replica_no_failover);

/* The data age of 7.0.15, in ms, minus the node timeout when it exceeds it
 * (being cut off while the master was found failing is the baseline).
 * `link_down_ms` is the replication link's answer (repl_replica.h), or -1
 * when unknown: then the master's last data or PONG on the bus stands in
 * (0 age when we never heard from it). */
long long elector_data_age(const node_view_t *master, long long now, long long link_down_ms,
                           long long node_timeout);

/* Whether that age is recent enough to serve: always with a validity factor
 * of 0, else age <= ping_period_s * 1000 + node_timeout * validity_factor. */
bool elector_data_fresh(long long data_age, long long node_timeout, long long validity_factor,
                        long long ping_period_s);

/* Votes needed to win: a majority of the `size` masters that serve slots. */
int elector_quorum(int size);
bool elector_won(int votes, int size);

/* What replica migration (5.16) says for myself in snapshot `s`. */
enum elector_migration {
    ELECTOR_MIGRATE_NONE,         /* no orphaned master we could serve: forget any we tracked */
    ELECTOR_MIGRATE_WAIT,         /* the cluster or our master cannot spare us now: keep tracking */
    ELECTOR_MIGRATE_TARGET,       /* *target is orphaned; *candidate says we are the one to move */
};
/* The rule: some working master serving slots with the MIGRATE_TO flag has
 * no working replica (orphaned); our master has the most working replicas
 * and at least 2; the cluster is ok; more than `barrier` of our master's
 * replicas are neither FAIL nor PFAIL; the target is the first orphaned
 * master in table order, and the replica that moves is the one with the
 * smallest name among the replicas of the masters with the most working
 * replicas. */
enum elector_migration elector_migration(const cluster_snapshot_t *s, long long barrier, int *target,
                                         bool *candidate);

#endif

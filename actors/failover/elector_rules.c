/* elector_rules.c - the failover elector's pure decisions (see
 * elector_rules.h): rank, delay, preconditions, data age, quorum, replica
 * migration.
 *
 * Must never: read a clock, the configuration or a global, log, or send.
 */
#include <string.h>

#include "actors/failover/elector_rules.h"

int elector_rank(const cluster_snapshot_t *s, int master, long long my_offset, bool *final)
{
    const node_view_t *me = &s->nodes[s->myself];
    int rank = 0;
    *final = true;
    for (int i = 0; i < s->node_count; i++) {
        const node_view_t *n = &s->nodes[i];
        if (i == s->myself || !(n->flags & NODE_SLAVE) || n->master != master) continue;
        if (n->flags & NODE_NOFAILOVER) continue;
        /* offsets and data times as links noted them (state.h, node_view_*),
         * not as the snapshot last published them: they move with every
         * frame without a publish */
        long long off = node_view_repl_offset(s, i);
        if (off > my_offset || (off == my_offset && memcmp(n->name, me->name, NODE_NAME_LEN) < 0)) rank++;
        if (!(n->flags & NODE_FAIL) && node_view_data_received(s, i) <= node_view_data_received(s, master))
            *final = false;
    }
    return rank;
}

long long elector_delay(int rank, bool final, bool manual, long long node_timeout, long rnd)
{
    if (manual) return 0;
    if (rank == 0 && final) {
        long long shortcut = node_timeout / 30;
        return shortcut < ELECTOR_DELAY_FIXED_MS ? shortcut : ELECTOR_DELAY_FIXED_MS;
    }
    return ELECTOR_DELAY_FIXED_MS + rnd % ELECTOR_DELAY_RANDOM_MS + (long long)rank * ELECTOR_DELAY_PER_RANK_MS;
}

long long elector_auth_timeout(long long node_timeout)
{
    return node_timeout * 2 > ELECTOR_AUTH_TIMEOUT_MIN_MS ? node_timeout * 2 : ELECTOR_AUTH_TIMEOUT_MIN_MS;
}

bool elector_may_fail_over(const node_view_t *master, bool manual, bool replica_no_failover)
{
    if (!(master->flags & NODE_FAIL) && !manual) return false;
    if (replica_no_failover && !manual) return false;
    return master->slot_count > 0;
}

long long elector_data_age(const node_view_t *master, long long now, long long link_down_ms,
                           long long node_timeout)
{
    long long age = link_down_ms;
    if (age < 0) {
        long long last = master->data_received_ms > master->pong_received_ms ? master->data_received_ms
                                                                             : master->pong_received_ms;
        age = last ? now - last : 0;
    }
    if (age > node_timeout) age -= node_timeout;
    return age;
}

bool elector_data_fresh(long long data_age, long long node_timeout, long long validity_factor,
                        long long ping_period_s)
{
    if (validity_factor == 0) return true;
    return data_age <= ping_period_s * 1000 + node_timeout * validity_factor;
}

int elector_quorum(int size) { return size / 2 + 1; }

bool elector_won(int votes, int size) { return votes >= elector_quorum(size); }

/* Replicas of node `master` that are not FAIL. */
static int working_replicas(const cluster_snapshot_t *s, int master)
{
    int ok = 0;
    for (int j = 0; j < s->node_count; j++)
        if (s->nodes[j].master == master && (s->nodes[j].flags & NODE_SLAVE) && !(s->nodes[j].flags & NODE_FAIL))
            ok++;
    return ok;
}

static bool orphaned(const node_view_t *n, int working)
{
    return working == 0 && n->slot_count > 0 && (n->flags & NODE_MIGRATE_TO);
}

static bool working_master(const node_view_t *n)
{
    return (n->flags & NODE_MASTER) && !(n->flags & NODE_FAIL);
}

/* 7.0.15's cron survey: are there orphaned masters, the most working
 * replicas any master has, and how many our own master has (addressless
 * and handshake records left out). */
static void survey(const cluster_snapshot_t *s, int *orphans, int *max_ok, int *mine_ok)
{
    const node_view_t *me = &s->nodes[s->myself];
    *orphans = *max_ok = *mine_ok = 0;
    for (int i = 0; i < s->node_count; i++) {
        const node_view_t *n = &s->nodes[i];
        if (i == s->myself || (n->flags & (NODE_NOADDR | NODE_HANDSHAKE)) || !working_master(n)) continue;
        int ok = working_replicas(s, i);
        if (orphaned(n, ok)) (*orphans)++;
        if (ok > *max_ok) *max_ok = ok;
        if (i == me->master) *mine_ok = ok;
    }
}

enum elector_migration elector_migration(const cluster_snapshot_t *s, long long barrier, int *target,
                                         bool *candidate)
{
    const node_view_t *me = &s->nodes[s->myself];
    int orphans, max_ok, mine_ok;
    *target = -1;
    *candidate = false;
    survey(s, &orphans, &max_ok, &mine_ok);
    if (!orphans || max_ok < 2 || mine_ok != max_ok) return ELECTOR_MIGRATE_NONE;
    if (!s->state_ok) return ELECTOR_MIGRATE_WAIT;
    int healthy = 0;
    for (int j = 0; j < s->node_count; j++)
        if (s->nodes[j].master == me->master && (s->nodes[j].flags & NODE_SLAVE) &&
            !(s->nodes[j].flags & (NODE_FAIL | NODE_PFAIL)))
            healthy++;
    if (healthy <= barrier) return ELECTOR_MIGRATE_WAIT;
    const char *smallest = me->name;
    for (int i = 0; i < s->node_count; i++) {
        const node_view_t *n = &s->nodes[i];
        if (!working_master(n)) continue;
        int ok = working_replicas(s, i);
        if (orphaned(n, ok) && *target < 0) *target = i;
        if (ok != max_ok) continue;
        for (int j = 0; j < s->node_count; j++)
            if (s->nodes[j].master == i && (s->nodes[j].flags & NODE_SLAVE) &&
                memcmp(s->nodes[j].name, smallest, NODE_NAME_LEN) < 0)
                smallest = s->nodes[j].name;
    }
    if (*target < 0) return ELECTOR_MIGRATE_NONE;
    *candidate = smallest == me->name;
    return ELECTOR_MIGRATE_TARGET;
}

/* elector.h - the failover elector: the replica side of automatic and manual
 * failover and of replica migration (docs/cluster-bus.md §5.13, §5.15, §5.16).
 *
 * It is its own actor. It runs on the state actor's thread (so reading the
 * current snapshot needs no read section: the only writer of that cell, and
 * the only code that frees old snapshots, runs on the same thread and never
 * at the same time as the elector's behaviour). It watches the snapshot for
 * "my master is FAIL" (and is poked when that happens), ranks itself among
 * its master's replicas by replication offset, waits its delay, asks the
 * state actor to broadcast FAILOVER_AUTH_REQUEST, counts the ACKs the state
 * actor forwards, and asks the state actor to promote it once a majority of
 * slot-owning masters voted. It also drives the replica side of CLUSTER
 * FAILOVER (offset wait, 5 s timeout) and replica migration. Its rules
 * (rank, delay, preconditions, data age, quorum, migration) are pure
 * functions in elector_rules.h; the actor feeds them the clock, the
 * configuration and the replication offset, and acts on their answers by
 * messages to the state actor.
 *
 * Must never: change cluster state itself (only the state actor does), send
 * on the bus, or block.
 */
#ifndef SHOAL_ACTORS_ELECTOR_H
#define SHOAL_ACTORS_ELECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include "runtime/actor.h"

enum elector_msg_type {
    ELECTOR_MSG_POKE = 300,       /* something relevant changed: look at the snapshot now */
    ELECTOR_MSG_EPOCH,            /* elector_msg_t: our AUTH_REQUEST left with this epoch (value) */
    ELECTOR_MSG_ACK,              /* elector_msg_t: a counted vote for election epoch (value) */
    ELECTOR_MSG_MASTER_PAUSED,    /* elector_msg_t: our master's PAUSED header, offset (value) */
    ELECTOR_MSG_MF_START,         /* elector_msg_t: CLUSTER FAILOVER accepted; force (flag) */
    ELECTOR_MSG_PROMOTED,         /* the state actor made us a master */
};

typedef struct elector_msg {
    rt_msg_t hdr;                 /* the elector frees it */
    long long value;
    bool flag;
} elector_msg_t;

/* Creates the elector on `thread` (the state actor's thread), before the
 * thread starts. */
void elector_start(rt_thread_t *thread);
rt_actor_t *elector_actor(void);
/* Any thread: sends a bodiless or valued message to the elector. */
void elector_send(int type, long long value, bool flag);

/* Failover on shutdown (cluster-failover-on-shutdown yes): called by main()
 * on its own thread after SIGTERM/SHUTDOWN, before the final save. If we are
 * a master with slots and a reachable replica, asks the most up-to-date
 * replica to run CLUSTER FAILOVER and waits (at most timeout_ms) until we
 * are no longer the owner of our slots. Blocking by design: main() is not an
 * actor, and the process is leaving. Returns true if the handover happened. */
bool elector_failover_on_shutdown(int timeout_ms);

#endif

/* standalone.h - the node's identity when cluster-enabled is no (the
 * default), and REPLICAOF / SLAVEOF.
 *
 * Every reader of the node's role (workers, the replication actor and its
 * cron, the replica link, INFO, ROLE) reads it from the cluster snapshot
 * (state.h). In cluster mode the state actor publishes it; without cluster
 * mode there is no state actor, so this module publishes a snapshot of one
 * node (myself, a master serving every key) or of two when REPLICAOF made us
 * a replica (myself and the master's address, which the replica link
 * follows exactly as it follows a cluster master).
 *
 * Must never: run in cluster mode, publish from more than one thread at a
 * time (the first snapshot is published by main before any reader runs,
 * every later one by this module's actor on the replication thread).
 */
#ifndef SHOAL_ACTORS_STANDALONE_H
#define SHOAL_ACTORS_STANDALONE_H

#include "runtime/actor.h"

/* Main thread, before the replication actor and the workers start: publishes
 * the first snapshot (a replica of the `replicaof` directive's master, if the
 * configuration has one). 0, or -1 when out of memory. */
int standalone_publish_initial(void);

/* Main thread, once the replication thread exists: starts the actor that
 * REPLICAOF talks to. */
void standalone_start(rt_thread_t *thread);

/* cmd_replicaof (commands.h) is the command side, on the client's worker. */

#endif

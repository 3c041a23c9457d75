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

#include <stdbool.h>
#include <stdint.h>
#include "runtime/actor.h"

/* Main thread, before the replication actor and the workers start: publishes
 * the first snapshot (a replica of the `replicaof` directive's master, if the
 * configuration has one). 0, or -1 when out of memory. */
int standalone_publish_initial(void);

/* Main thread, once the replication thread exists: starts the actor that
 * REPLICAOF talks to. */
void standalone_start(rt_thread_t *thread);

/* cmd_replicaof (commands.h) is the command side, on the client's worker. */

/* ---- FAILOVER (sa_failover.c), on the replication thread unless said ---- */
enum { SA_FO_NONE = 0, SA_FO_WAIT_SYNC, SA_FO_IN_PROGRESS };
/* Any thread: the state, and its INFO name (master_failover_state). */
int sa_failover_state(void);
const char *sa_failover_state_name(void);
/* The replica link: its PSYNC carries FAILOVER (we are demoting ourselves
 * to the target), and what the target answered. */
bool sa_failover_psync_flag(void);
void sa_failover_psync_result(bool accepted);
/* The standalone actor (`self`): a FAILOVER request (its arguments checked). */
struct remote_cmd;
void sa_failover_request(struct remote_cmd *rc, bool is_replica, rt_actor_t *self);
/* The standalone actor: the message repl_fence sent it back (SA_MSG_FENCED),
 * which it frees: the pause holds every write and the offset covers those
 * admitted before it, so the wait for a synced replica may begin. */
#define SA_MSG_FENCED 100
void sa_failover_fenced(rt_msg_t *msg);
/* The standalone actor's thread: follow host:port, or be a master (NULL). */
void standalone_follow(const char *host, int port);
/* Any thread: become a master (a PSYNC FAILOVER from our master, client
 * `client_id`), then call done(arg) on the standalone actor's thread. */
void standalone_promote(uint64_t client_id, void (*done)(void *arg), void *arg);
/* A client's worker: FAILOVER's request to the standalone actor, whose
 * answer the client waits for. */
struct cmd_ctx;
void standalone_failover_send(struct cmd_ctx *ctx);

#endif

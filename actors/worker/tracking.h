/* tracking.h - client-side caching (CLIENT TRACKING, default mode), as
 * 7.0.15's tracking.c behaves.
 *
 * A tracking client's state lives in its client_t (its worker only). What
 * other workers need, they read from a node-wide registry: client id ->
 * (worker, flags, redirect), lock-free, written only by the client's own
 * worker. The table of who read a key lives with the key: the worker that
 * keeps the key's keyspace records the ids of tracking clients that read it
 * and, when the key changes, expires or is flushed, sends one invalidation
 * per client to that client's worker (or to the workers that may hold its
 * redirect target), which writes it to its own connection.
 *
 * Must never: touch another worker's clients; take a lock on the read path.
 */
#ifndef SHOAL_ACTORS_WORKER_TRACKING_H
#define SHOAL_ACTORS_WORKER_TRACKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/commands/cmd.h"

struct client;
struct worker;

enum {
    TRK_ON = 1 << 0,
    TRK_NOLOOP = 1 << 1,
};

/* CLIENT TRACKING / GETREDIR / TRACKINGINFO, on the client's worker. */
void tracking_cmd_tracking(cmd_ctx_t *ctx);
void tracking_cmd_getredir(cmd_ctx_t *ctx);
void tracking_cmd_trackinginfo(cmd_ctx_t *ctx);
/* A closing or RESET connection stops tracking. */
void tracking_client_reset(struct client *c);
/* The CLIENT LIST flags and redir= of a client. */
int tracking_client_flags(const struct client *c, char *flags);
long long tracking_client_redir(const struct client *c);

/* Around a command run on worker w for client id cid (dispatch.c run_here):
 * a read remembers its keys for a tracking client, a write that changed
 * something invalidates them. */
void tracking_after_command(struct worker *w, uint64_t cid, const cmd_def_t *cmd, int argc,
                            const uint8_t **argv, const size_t *argvlen, bool dirty);
/* A key of w's keyspace was removed by expiry. */
void tracking_key_gone(struct worker *w, const uint8_t *key, size_t len);
/* FLUSHALL/FLUSHDB's share on worker w: its table is dropped; worker 0's
 * share sends every tracking client a null invalidation. */
void tracking_flushed(struct worker *w);

/* INFO: tracking_clients, tracking_total_keys, tracking_total_items. */
long long tracking_clients_count(void);
long long tracking_total_keys(void);
long long tracking_total_items(void);

#endif

/* tracking.h - client-side caching (CLIENT TRACKING, CACHING, GETREDIR,
 * TRACKINGINFO), as 7.0.15's tracking.c behaves.
 *
 * A tracking client's state lives in its client_t (its worker only). What
 * other workers need, they read from a node-wide registry: client id ->
 * (worker, flags, protocol, redirect), lock-free, written only by the
 * client's own worker.
 *
 * Default mode: the table of who read a key lives with the key: the worker
 * that keeps the key's keyspace records the ids of tracking clients that
 * read it and, when the key changes, expires, is evicted or is flushed,
 * sends one invalidation per client to that client's worker (or to the
 * workers that may hold its redirect target), which writes it to its own
 * connection. OPTIN/OPTOUT and CLIENT CACHING decide on the client's worker,
 * when the command is sent, whether its reads are remembered: the decision
 * travels with the client id (tracking_route_id).
 *
 * BCAST mode (tracking_bcast.c): each worker keeps the prefixes of its own
 * broadcast clients; the thread that changes keys collects their names and,
 * before it sleeps (once per loop round, as 7.0.15 once per event loop
 * cycle), sends them to the workers holding broadcast clients, each of which
 * matches them against its clients' prefixes.
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
    TRK_BCAST = 1 << 2,
    TRK_OPTIN = 1 << 3,
    TRK_OPTOUT = 1 << 4,
    TRK_CACHING = 1 << 5,         /* CLIENT CACHING YES|NO given for the next command (client only) */
    TRK_BROKEN_REDIR = 1 << 6,    /* an invalidation found the redirect target gone (client only) */
};

/* CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO, on the client's worker. */
void tracking_cmd_tracking(cmd_ctx_t *ctx);
void tracking_cmd_caching(cmd_ctx_t *ctx);
void tracking_cmd_getredir(cmd_ctx_t *ctx);
void tracking_cmd_trackinginfo(cmd_ctx_t *ctx);
/* A closing or RESET connection stops tracking. */
void tracking_client_reset(struct client *c);
/* The CLIENT LIST flags and redir= of a client. */
int tracking_client_flags(const struct client *c, char *flags);
long long tracking_client_redir(const struct client *c);
/* After each command of c (on its worker): CLIENT CACHING lasts for the next
 * command, or the next transaction, as 7.0.15's resetClient clears it. */
void tracking_command_done(struct client *c, const uint8_t *name, size_t len);

/* The id a command of c carries to where it runs: c->id, with whether its
 * reads are to be remembered (OPTIN/OPTOUT/CACHING, BCAST) in the top bits.
 * run_here takes the bits off again (tracking_before_command). */
uint64_t tracking_route_id(const struct client *c);
/* The id a script's calls run with: the caller's (a write's NOLOOP spares
 * it), its reads remembered for no one: instead, when a script calls a
 * read-only command, its declared keys are remembered for its caller
 * (routed: the caller's routed id), as 7.0.15's call() remembers the
 * script_caller's command's keys. A key of another worker only when
 * others_parked (the script holds the node's session, xscript.h). */
uint64_t tracking_script_call_id(uint64_t routed);
void tracking_script_read(struct worker *w, uint64_t routed, const uint8_t *const *keys, const size_t *lens, int nkeys,
                          bool others_parked);

/* Around a command run on worker w for client id cid (dispatch.c run_here):
 * before it, the table is kept under tracking-table-max-keys and the plain
 * id returned, with *remember 1 yes, 0 no, -1 not decided (the registry
 * decides); after it, a read remembers its keys for a tracking client, a
 * write that changed something invalidates the keys it modified. */
uint64_t tracking_before_command(struct worker *w, uint64_t routed_id, int *remember);
void tracking_after_command(struct worker *w, uint64_t cid, int remember, const cmd_def_t *cmd, const cmd_ctx_t *ctx,
                            uint64_t existed);
/* Before a write: which of its keys it may signal (bit i: its i-th key):
 * for DEL and UNLINK the keys that exist, for XGROUP CREATE its stream if
 * it does not, for SMOVE not its destination if that holds the member; all
 * bits set otherwise, and while nothing tracks. */
uint64_t tracking_before_write(const cmd_def_t *cmd, const cmd_ctx_t *ctx);
/* A key of w's keyspace was removed by expiry or eviction. */
void tracking_key_gone(struct worker *w, const uint8_t *key, size_t len);
/* FLUSHALL/FLUSHDB's share on worker w: its table is dropped; worker 0's
 * share sends every tracking client a null invalidation. */
void tracking_flushed(struct worker *w);
/* Worker w's loop, before it sleeps: broadcast invalidations of the keys this
 * thread changed in this round; and (from its cron) the table limit. */
void tracking_before_sleep(struct worker *w);
void tracking_cron(struct worker *w);

/* INFO: tracking_clients, tracking_total_keys, tracking_total_items,
 * tracking_total_prefixes. */
long long tracking_clients_count(void);
long long tracking_total_keys(void);
long long tracking_total_items(void);
long long tracking_total_prefixes(void);

#endif

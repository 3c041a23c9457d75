/* dispatch.h - helpers shared by dispatch.c, multi.c, fanout.c and the
 * command handlers that need routing or asynchronous replies. */
#ifndef SHOAL_ACTORS_DISPATCH_H
#define SHOAL_ACTORS_DISPATCH_H

#include "actors/state/state.h"
#include "actors/worker/client.h"

void dispatch_full_name(const cmd_def_t *cmd, char *out, size_t cap);
const char *dispatch_endpoint(const node_view_t *n);
/* The port of `n` to give client `c` (NULL: no client): in a TLS cluster
 * (tls-cluster yes) a plain-text client is given the node's plain port when
 * it announced one, as 7.0.15 does; everyone else the announced port. */
struct client;
int dispatch_port(const struct client *c, const node_view_t *n);
uint32_t dispatch_watch_bucket(const uint8_t *key, size_t len);
/* Forwards the current command to the worker that owns `slot` (or runs it here). */
void dispatch_keyed_at(cmd_ctx_t *ctx, int slot);
const cmd_def_t *dispatch_current_cmd(client_t *c);
/* Sets the command dispatch_current_cmd names on this thread; returns the one before
 * (a caller that runs a handler without run_here: load_apply.c). */
const cmd_def_t *dispatch_swap_current_cmd(const cmd_def_t *cmd);
/* How many microseconds the last call run on this thread took; -1 when it
 * did not end there (it waits, or ends later: cmd_ctx_t.slowlog_later). */
long long dispatch_last_call_usec(void);
bool dispatch_route_for_multi(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                              const size_t *argvlen, int *slot_out);
bool dispatch_route_check_exec(client_t *c, char *err, size_t errcap);

/* multi.c */
void multi_queue(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen);
void multi_reset(client_t *c);
/* 7.0.15's multi-mem of c's queued commands (0 outside MULTI). */
size_t multi_mem(const client_t *c);
/* Inside MULTI, out of memory (evict.h): 7.0.15 refuses every command it
 * would queue (dooming the EXEC), and an EXEC of denyoom commands (ending the
 * transaction); never DISCARD, QUIT or RESET. The error to reply, or NULL. */
const char *multi_oom_refusal(client_t *c, const cmd_def_t *cmd);
const char *multi_refused(client_t *c, const cmd_def_t *cmd, const char *err);
/* After a write by cmd on worker w (its owner thread): the WATCH versions
 * of its keys move on (dispatch_watch_bucket). */
/* A write to these keys but those of `unwritten` (bit i: the i-th key): WATCHes of them see a new version. */
void multi_bump_key_versions(worker_t *w, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                             uint64_t unwritten);
/* Before a write runs: the keys (bit i: the i-th) it will not change whatever it does,
 * as 7.0.15 signals them (SMOVE's destination that already holds the member). */
uint64_t multi_keys_left_alone(const cmd_def_t *cmd, const cmd_ctx_t *ctx);
/* Whether a key c WATCHes has been written (or its worker flushed) since:
 * its next EXEC fails. CLIENT LIST's `d` (7.0.15's CLIENT_DIRTY_CAS). On
 * c's worker; reads the other workers' versions. */
bool multi_watch_touched(const client_t *c);
void txn_part_done(client_t *c, reply_slot_t *s);
/* While c's EXEC runs, CLIENT INFO / LIST show it as 7.0.15's execCommand
 * has the client: still in MULTI (flags x) with its queued commands and their
 * memory, the EXEC's own input bytes and arguments, and the EXEC reply built
 * so far in the output buffer. False when no EXEC of c runs. */
typedef struct txn_view {
    int queued;
    size_t multi_mem, qbuf, argv_mem, obl;
} txn_view_t;
bool txn_client_view(const client_t *c, txn_view_t *v);
/* Inside a running EXEC after a part closed a bus link (DEBUG CLUSTERLINK
 * KILL): links with an id from this on were opened since and are not the
 * transaction's to use; 0 otherwise. */
uint64_t txn_link_floor(const client_t *c);
resp_buf_t *txn_reply_target(client_t *c);
reply_slot_t *txn_defer(client_t *c);
/* A transaction's part on the worker that runs it (in the part's database):
 * opens its MULTI ... EXEC and propagates the PUBLISHes it carries from before
 * its commands; the end propagates those from after them and closes it. */
void txn_part_begin(worker_t *w, const remote_cmd_t *rc);
void txn_part_end(worker_t *w, const remote_cmd_t *rc);
/* Frees the PUBLISH copies a part carries (remote_cmd_free). */
void txn_part_free_publishes(remote_cmd_t *rc);
/* Whether c's PUBLISH running now in its EXEC goes to the stream with the
 * transaction's keyed part instead of from here (multi.c). */
bool txn_publish_travels(const client_t *c);

/* fanout.c */
/* Runs cmd once on every worker as its table entry's `fanout` says (cmd.h);
 * the merged reply goes to c in order. */
void dispatch_fanout(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen);
/* The same with nextra more parts, made into extra[] and left to the caller
 * to send to other actors, which answer each with fanout_part_return. */
void dispatch_fanout_extra(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                           int nextra, remote_cmd_t **extra);
/* One fan-out part on the worker that received it (a WMSG_RUN function). */
void fanout_part_run(worker_t *w, rt_msg_t *msg);
/* Runs a command of client c on worker `target` (here if it is c's own), its
 * reply in c's order (SCAN's cursor names the worker). */
void fanout_send_to_worker(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                           const size_t *argvlen, int target);
#endif

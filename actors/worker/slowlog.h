/* slowlog.h - the slow log, kept per worker (SLOWLOG GET/LEN/RESET).
 *
 * Each worker logs the commands of its own clients that took at least
 * slowlog-log-slower-than microseconds, newest first, at most
 * slowlog-max-len of them, as 7.0.15 keeps its one log: id, unix time,
 * duration, the arguments (at most 32, each cut at 128 bytes, with 7.0.15's
 * "... (N more arguments)" / "... (N more bytes)" markers), the client's
 * address and name. Ids come from one node-wide counter (touched only when an
 * entry is made, never on a fast command's path), so SLOWLOG GET merges the
 * workers' logs by id into the order one log would have had.
 *
 * Must never: be read or written from another worker's thread (each worker
 * reaches its own log through the fan-out parts below).
 */
#ifndef SHOAL_ACTORS_SLOWLOG_H
#define SHOAL_ACTORS_SLOWLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/commands/cmd.h"

struct client;
struct worker;
struct remote_cmd;
struct reply_slot;

/* True when a call of `usec` microseconds belongs in the slow log (one
 * relaxed load of the threshold). */
bool slowlog_wants(long long usec);
/* Logs one call of client c on this worker's log (the caller checked
 * slowlog_wants), with the id `id` (from slowlog_take_id where the call
 * ran, when it is logged elsewhere later), or -1 for the next id. Commands
 * flagged skip_slowlog are not logged; secret arguments (AUTH, HELLO AUTH,
 * MIGRATE AUTH/AUTH2, ACL SETUSER, CONFIG SET of a sensitive directive) are
 * logged as "(redacted)". */
void slowlog_push(const struct client *c, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                  const size_t *argvlen, long long usec, long long id);
/* The next entry id, taken where a call of another worker's client ran:
 * the entry made when its reply is back keeps the order of the calls. */
long long slowlog_take_id(void);

/* A reply that another actor computed is back for client c: DEBUG
 * SLEEP's call ends now (the slow log and the latency monitor take the whole
 * sleep), or a transaction another worker ran brings how long each of its
 * calls took (rc->usecs). */
void slowlog_remote_done(const struct client *c, const struct remote_cmd *rc);

/* SLOWLOG command handlers and its fan-out (cmdtable_ops.c). */
void cmd_slowlog_get(cmd_ctx_t *ctx);
void cmd_slowlog_len(cmd_ctx_t *ctx);
void cmd_slowlog_reset(cmd_ctx_t *ctx);
void cmd_slowlog_help(cmd_ctx_t *ctx);
void slowlog_part(struct worker *w, struct remote_cmd *rc);
void slowlog_merge(struct reply_slot *s, const struct remote_cmd *rc);
void slowlog_reply(struct reply_slot *s);

/* Whether argument i of this call is a secret that logs and MONITOR show
 * as "(redacted)", as 7.0.15's redactClientCommandArgument marks them. */
bool slowlog_arg_redacted(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen, int i);

#endif

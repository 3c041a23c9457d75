/* acl_gate.h - the worker's side of ACLs (actors/acl): which user a
 * connection runs as, the permission check before a command runs, logging a
 * denial, and closing the connections of users that ended. Worker thread
 * only, inside its read section (client_process_input, routed commands). */
#ifndef SHOAL_ACTORS_WORKER_ACL_GATE_H
#define SHOAL_ACTORS_WORKER_ACL_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/commands/cmd.h"

struct client;
struct acl_user;
struct worker;

/* The user c runs as, or NULL when it no longer exists (deleted: the
 * connection is being closed). */
const struct acl_user *acl_gate_user(struct client *c);
/* 7.0.15's authRequired: the default user needs a password (or is off) and
 * c has not authenticated. */
bool acl_gate_auth_required(struct client *c);
/* Puts c in the state of a new connection: default user, authenticated
 * when the default user is nopass and on (RESET, a deleted user). */
void acl_gate_set_default(struct client *c);
/* c now runs as user uid (AUTH, HELLO AUTH). */
void acl_gate_set_user(struct client *c, uint64_t uid);

/* May c run cmd with these arguments (context ACL_CTX_*)? true, or false
 * with the refusal logged (ACL LOG) and the reason in *reason (ACL_DENIED_*)
 * and *errpos. */
bool acl_gate_check(struct client *c, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                    const size_t *argvlen, int context, int *reason, int *errpos);
/* The same for a client known by its user's uid (scripts may run on
 * another worker than their client's): a deleted user is refused. A refusal
 * is logged with c's CLIENT LIST line when c (on this worker) is given,
 * else with an empty one. */
bool acl_gate_check_user(struct worker *w, uint64_t uid, const struct client *c, const cmd_def_t *cmd, int argc,
                         const uint8_t **argv, const size_t *argvlen, int context, int *reason);
/* The same without logging (redis.acl_check_cmd). */
bool acl_gate_allowed(struct worker *w, uint64_t uid, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                      const size_t *argvlen);
/* Stage 2 of a command (dispatch.c), after its lookup and arity, as
 * 7.0.15's processCommand: CLUSTER without cluster support, DEBUG's gate,
 * NOAUTH, then the ACLs (a no-multi command inside MULTI is left to the
 * MULTI rules first). true to go on; false when refused and answered. */
bool acl_gate_admit_command(struct client *c, const cmd_def_t *cmd, const cmd_def_t *top, int argc,
                            const uint8_t **argv, const size_t *argvlen);
/* The check of a command about to run on c's own worker, before routing:
 * true to go on; false when refused (the NOPERM reply is given, stats noted,
 * a MULTI doomed) or when c's user was deleted (no reply; c closes). */
bool acl_gate_admit(struct client *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen);
/* EXEC: each queued command is checked again, as 7.0.15 does in case the
 * rules changed since it was queued; a refused one is logged and replaced
 * by one that answers 7.0.15's "ACLs rules changed ..." error in its place. */
struct queued_cmd;
void acl_gate_recheck_exec(struct client *c, struct queued_cmd *cmds, int n);
/* The top-level NOPERM error of a refusal, without "-". */
void acl_gate_error(int reason, const cmd_def_t *cmd, char *buf, size_t cap);
/* AUTH: true when the pair is right (c now runs as that user), false
 * (logged) when not. */
bool acl_gate_authenticate(struct client *c, const uint8_t *user, size_t ulen, const uint8_t *pass, size_t plen);
/* ACL WHOAMI's reply. */
void acl_gate_whoami(struct client *c, resp_buf_t *r);
/* Logs a failed AUTH of `user` by c. */
void acl_gate_log_auth(struct client *c, const uint8_t *user, size_t ulen);

/* The channel rules of user uid shrank: every worker closes that user's
 * subscribers whose subscriptions are no longer allowed (7.0.15). */
void acl_gate_recheck_subscribers(uint64_t uid);
/* Users that ended (DELUSER, ACL LOAD): every worker closes their
 * connections; `self` (the client that asked, may be NULL) gets its reply
 * first, then closes. */
void acl_gate_end_users(struct client *self, const uint64_t *uids, int n);

#endif

/* debug_cmds.h - DEBUG POPULATE, DIGEST and SET-ACTIVE-EXPIRE (debug_cmds.c). */
#ifndef SHOAL_ACTORS_DEBUG_CMDS_H
#define SHOAL_ACTORS_DEBUG_CMDS_H

#include <stdbool.h>
#include <stdint.h>
#include "actors/worker/client.h"
#include "actors/worker/keyspace.h"

/* DEBUG POPULATE count [prefix] [size] (argc 3..5): validates, then fans
 * out; each worker creates the missing keys whose slot it owns. DEBUG DIGEST
 * (argc 2) fans out the same way: each worker xors its keys' digests, and the
 * reply is 7.0.15's 40 hex digits (cmd_debug_part/merge/reply, commands.h). */
void debug_populate(cmd_ctx_t *ctx);
/* DEBUG SET-ACTIVE-EXPIRE 0|1 (argc 3). */
void debug_set_active_expire(cmd_ctx_t *ctx);
/* DEBUG PROTOCOL type (argc 3): 7.0.15's sample value of each RESP type. */
void debug_protocol(cmd_ctx_t *ctx);
/* DEBUG ERROR string (argc 3): the string as an error reply. */
void debug_error(cmd_ctx_t *ctx);
/* DEBUG LOG message (argc 3): the message in the server log. */
void debug_log(cmd_ctx_t *ctx);
/* d (20 bytes) mixed with what 7.0.15's DEBUG DIGEST-VALUE digests of e's
 * value: type, contents, expire mark. Owner thread of ks. */
struct keyspace;
void debug_value_digest(uint8_t d[20], struct keyspace *ks, ks_entry_t *e);

/* debug_keys.c: DIGEST-VALUE, OBJECT, LISTPACK, QUICKLIST (each worker
 * answers for the keys of its slots), CHANGE-REPL-ID, QUICKLIST-PACKED-
 * THRESHOLD, REPLYBUFFER and STRINGMATCH-TEST. debug_more handles ctx's
 * subcommand if it is one of these (true) or leaves it (false). */
bool debug_more(cmd_ctx_t *ctx);
/* 7.0.15's answer to an unknown DEBUG subcommand or a wrong argument count. */
void debug_syntax_error(cmd_ctx_t *ctx);
/* The fan-out callbacks of the keyed ones (false: not one of them). */
bool debug_keyed_part(struct worker *w, struct remote_cmd *rc);
bool debug_keyed_merge(struct reply_slot *s, const struct remote_cmd *rc);
bool debug_keyed_reply(struct reply_slot *s);

#endif

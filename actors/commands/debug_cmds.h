/* debug_cmds.h - DEBUG POPULATE, DIGEST and SET-ACTIVE-EXPIRE (debug_cmds.c). */
#ifndef SHOAL_ACTORS_DEBUG_CMDS_H
#define SHOAL_ACTORS_DEBUG_CMDS_H

#include "actors/worker/client.h"

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

#endif

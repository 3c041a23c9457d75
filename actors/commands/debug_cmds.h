/* debug_cmds.h - DEBUG POPULATE, DIGEST and SET-ACTIVE-EXPIRE (debug_cmds.c). */
#ifndef SHOAL_ACTORS_DEBUG_CMDS_H
#define SHOAL_ACTORS_DEBUG_CMDS_H

#include "actors/worker/client.h"

/* DEBUG POPULATE count [prefix] [size] (argc 3..5): validates, then fans out. */
void debug_populate(cmd_ctx_t *ctx);
/* One worker's share: creates the missing keys whose slot it owns. */
void debug_populate_part(worker_t *w, const queued_cmd_t *q, long long now_ms);
/* DEBUG DIGEST (argc 2) fans out like POPULATE: true for that form. */
bool debug_is_digest(const queued_cmd_t *q);
/* One worker's share: the xor of its keys' digests (20 bytes appended to
 * rc->reply) and its key count (rc->keys_delta). */
void debug_digest_part(worker_t *w, remote_cmd_t *rc);
/* The reply once every share is xored into fold: 7.0.15's 40 hex digits. */
void debug_digest_reply(resp_buf_t *out, const uint8_t fold[20], long long keys);
/* DEBUG SET-ACTIVE-EXPIRE 0|1 (argc 3). */
void debug_set_active_expire(cmd_ctx_t *ctx);

#endif

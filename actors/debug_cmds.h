/* debug_cmds.h - DEBUG POPULATE and DEBUG SET-ACTIVE-EXPIRE (debug_cmds.c). */
#ifndef SHOAL_ACTORS_DEBUG_CMDS_H
#define SHOAL_ACTORS_DEBUG_CMDS_H

#include "actors/client.h"

/* DEBUG POPULATE count [prefix] [size] (argc 3..5): validates, then fans out. */
void debug_populate(cmd_ctx_t *ctx);
/* One worker's share: creates the missing keys whose slot it owns. */
void debug_populate_part(worker_t *w, const queued_cmd_t *q, long long now_ms);
/* DEBUG SET-ACTIVE-EXPIRE 0|1 (argc 3). */
void debug_set_active_expire(cmd_ctx_t *ctx);

#endif

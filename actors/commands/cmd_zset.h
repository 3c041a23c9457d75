/* cmd_zset.h - what the sorted set command files share (cmd_zset.c,
 * cmd_zset_range.c): key lookups with 7.0.15's WRONGTYPE order, the
 * after-write bookkeeping, and the score reply.
 */
#ifndef SHOAL_ACTORS_COMMANDS_CMD_ZSET_H
#define SHOAL_ACTORS_COMMANDS_CMD_ZSET_H

#include <stdbool.h>
#include "actors/commands/cmd.h"
#include "actors/types/zset.h"
#include "actors/worker/keyspace.h"

/* The set at argv[i] for reading: NULL when absent (*bad false) or not a
 * sorted set (*bad true, WRONGTYPE replied). */
zset_t *zcmd_lookup_read(cmd_ctx_t *ctx, int i, bool *bad);
/* After a change to e's set: memory figure, and the key dropped when empty. */
void zcmd_written(cmd_ctx_t *ctx, ks_entry_t *e, size_t before);
/* A member with its score as 7.0.15 replies it in a WITHSCORES list: flat
 * in RESP2, a [member, score] pair in RESP3. */
void zcmd_reply_pair(cmd_ctx_t *ctx, const uint8_t *m, size_t ml, double score, bool withscores);

#endif

/* script_state.c - what the node's state refuses a script or a write it
 * calls, as 7.0.15's scriptPrepareForRun and scriptVerifyWriteCommandAllow
 * read it: the node being a replica, a failed BGSAVE or AOF write
 * (MISCONF), too few good replicas, memory over maxmemory.
 *
 * Must never: change anything (each check reads published state).
 */
#include <stdio.h>

#include "actors/commands/script.h"
#include "actors/persist/aof.h"
#include "actors/persist/rdb_save.h"
#include "actors/repl/repl.h"
#include "actors/state/state.h"
#include "actors/worker/evict.h"
#include "actors/worker/worker.h"

bool script_node_is_replica(cmd_ctx_t *ctx)
{
    const cluster_snapshot_t *s = worker_snapshot(ctx->worker);
    return s && (s->nodes[s->myself].flags & NODE_SLAVE);
}

bool script_oom(cmd_ctx_t *ctx)
{
    return !ctx->from_master && evict_maxmemory() > 0 && !script_node_is_replica(ctx) && evict_out_of_memory();
}

const char *script_write_refusal(cmd_ctx_t *ctx)
{
    if (script_node_is_replica(ctx)) return "-READONLY You can't write against a read only replica.";
    /* a failed BGSAVE (stop-writes-on-bgsave-error) before a failed AOF
     * write, as any client's write is refused */
    if (rdb_writes_denied()) return "-" RDB_MISCONF_ERROR;
    const char *aof_err = aof_write_refusal();
    if (aof_err) {
        static _Thread_local char coded[256];   /* "-MISCONF ...": the error keeps its code */
        snprintf(coded, sizeof coded, "-%s", aof_err);
        return coded;
    }
    if (!ctx->from_master && !repl_enough_good_replicas()) return "-NOREPLICAS Not enough good replicas to write.";
    return NULL;
}

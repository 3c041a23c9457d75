/* script_state.c - what the node's state refuses a script or a write it
 * calls, as 7.0.15's scriptPrepareForRun and scriptVerifyWriteCommandAllow
 * read it: the node being a replica, a failed BGSAVE or AOF write
 * (MISCONF), too few good replicas, memory over maxmemory; and DEBUG
 * SET-DISABLE-DENY-SCRIPTS, which lets scripts call noscript commands.
 *
 * Must never: change anything (each check reads published state).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <strings.h>

#include "actors/commands/commands.h"
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

/* relaxed: a test switch, read at each call a script makes */
static _Atomic bool deny_disabled;

void script_deny_set_disabled(bool on) { atomic_store_explicit(&deny_disabled, on, memory_order_relaxed); }

bool script_deny_disabled(void) { return atomic_load_explicit(&deny_disabled, memory_order_relaxed); }

bool script_debug_call_ok(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    if (!script_deny_disabled() || cmd->handler != cmd_debug || argc != 3) return false;
    return (argvlen[1] == 8 && !strncasecmp((const char *)argv[1], "protocol", 8)) ||
           (argvlen[1] == 5 && !strncasecmp((const char *)argv[1], "sleep", 5));
}

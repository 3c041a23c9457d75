/* order.c - a connection's order across workers: whether its next command
 * must wait for the commands it sent earlier to other workers
 * (docs/design.md §3.4, "A connection's order across workers"; §5).
 *
 * A keyed command for another worker travels there in a batch (batch.h) and
 * runs later; a fan-out's parts are messages. A command of the same
 * connection that ran meanwhile here, on a borrowed keyspace or in a batch
 * for a third worker would show its effect to other clients before theirs,
 * which redis-server, running one connection's commands one after another,
 * never does. So while some are out, the next command waits unparsed in the
 * query buffer (c->input_held) until they are back (client_slot_done
 * resumes the input), unless it can only run after them anyway.
 *
 * Must never: let a command with an effect run before an earlier command of
 * its connection that went elsewhere; hold a pipeline whose commands stay on
 * one worker; hold a command that must reach a busy script (it would wait
 * for ever).
 */
#include <stdatomic.h>
#include <string.h>

#include "actors/commands/commands.h"
#include "actors/worker/client.h"
#include "actors/worker/pubsub.h"
#include "actors/worker/worker_internal.h"
#include "proto/slot.h"
#include "runtime/actor.h"

/* The worker whose keyspace a plain keyed command cmd of c runs on (its
 * first key's slot, as dispatch.c's route() and exec_at_slot decide), or -1 for any
 * other command: one without keys, a client or fan-out command, WATCH (it
 * acts on the client), a debugger's call (it may run here, ldb_conn.h), or
 * one that will only be refused (wrong arity). A command over keys of
 * several workers (xcmd.c) counts for its first key's: its parking
 * messages leave after the batches queued for each worker (worker_send). */
static int keyed_target(const client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                        const size_t *argvlen)
{
    if (cmd->exec != CMD_EXEC_KEYED || (!cmd->parent && !strcmp(cmd->name, "watch")) || (c->flags & CLIENT_LUA_DEBUG))
        return -1;
    if ((cmd->arity > 0 && argc != cmd->arity) || (cmd->arity < 0 && argc < -cmd->arity)) return -1;
    int pos[1];
    if (cmd_get_keys(cmd, argc, argv, argvlen, pos, 1) < 1) return -1;
    return (int)worker_of_slot(slot_of_key(argv[pos[0]], argvlen[pos[0]]));
}

static bool any_script_busy(void)
{
    for (int i = 0; i < g_nworkers; i++)
        /* relaxed: a flag (busy.c); a command let through on a stale value
         * only runs before the batch it would have waited for */
        if (atomic_load_explicit(&g_workers[i]->script_busy, memory_order_relaxed)) return true;
    return false;
}

bool dispatch_order_must_wait(client_t *c, int argc, const uint8_t **argv, const size_t *argvlen)
{
    /* The fast path: nothing of c out in a batch (every command of a
     * pipeline that stays on c's worker) nor in a fan-out. */
    if (c->batch_open <= 0 && c->fanout_open <= 0) return false;
    /* Our own worker runs a busy script (this is its busy poll): the
     * command is refused -BUSY, which changes nothing, or is allow-busy
     * (worker_busy_refused), as 7.0.15 answers at once; held, it would wait
     * for the script's end (our mailbox is not read meanwhile). relaxed: a
     * flag only this thread sets. */
    if (atomic_load_explicit(&c->worker->script_busy, memory_order_relaxed)) return false;
    const cmd_def_t *cmd = cmd_lookup(argv[0], argvlen[0]);
    if (cmd && cmd->subcommands) cmd = argc >= 2 ? cmd_lookup_sub(cmd, argv[1], argvlen[1]) : NULL;
    /* The next one for the same worker (a pipeline for another worker's
     * keys) joins the batch, or runs on that worker's keyspace borrowed
     * once the batch has run there (run_borrowed); an SPUBLISH still waits
     * for the batch's keyspace events (pubsub.h). */
    if (cmd && c->fanout_open <= 0 && keyed_target(c, cmd, argc, argv, argvlen) == c->batch_target)
        return pubsub_publish_must_wait(c, argv[0], argvlen[0]);
    /* SCRIPT KILL, SHUTDOWN NOSAVE ... behind a command that waits for a
     * busy script's end: they must reach that script (7.0.15 would have
     * refused the earlier command -BUSY, and run them). */
    if (cmd && (cmd->flags & CMD_ALLOW_BUSY) && any_script_busy()) return false;
    /* Else it would run before them: here, on a borrowed keyspace, or in a
     * batch for a third worker that may run first. The batch leaves before
     * the loop sleeps; it is not lent (batch.c), so its return wakes us (as
     * a fan-out's parts do). */
    c->input_held = true;
    if (c->socket_lent) rt_thread_want_lazy_wakeups(true);   /* lent already: its return must wake us */
    return true;
}

/* state_borrow.c - a CLUSTER SETSLOT applied by the client's worker on the
 * state actor's data while the state thread sleeps.
 *
 * Why: `redis-cli --cluster reshard` sends five SETSLOTs per slot, one at a
 * time, and waits for each. Through the mailbox each one cost two thread
 * wake-ups (worker -> state thread -> worker) on top of the client's own;
 * on a loaded machine a wake-up waits for a CPU, and the SETSLOTs were
 * about half of shoal's time per moved slot. The state thread lends its
 * data while it sleeps (rt_thread_enable_borrow, main.c), as the workers
 * lend their keyspaces (dispatch.c): the worker takes the token, runs the
 * command as the state actor would (state_apply_command), then the rest of
 * the state actor's round (state_end_round: publish the snapshot, save
 * nodes.conf), and gives the token back. The reply reaches the client's
 * reply slot by the usual message, which the worker sends to itself.
 *
 * The rules do not change: the same code decides, in the same order, and a
 * reply still waits for its save. What needs the persister (an fsync: a
 * bumped configEpoch) goes to it as before; its answer wakes the state
 * thread, which replies. Not borrowed (the message path instead): when the
 * state thread is awake, has messages not yet handled (an earlier command
 * or frame must be applied first), is slowed by DEBUG STATE-ACTOR-DELAY, or
 * when the command may turn this node into a replica (a SETSLOT NODE that
 * gives away our last slot: that change reaches the replication and
 * failover machinery, which expects the state thread).
 *
 * Must never: run while the state thread runs (the token), or let a
 * message sent to the state actor before the command be applied after it.
 */
#include "actors/commands/args.h"
#include "actors/state/state_internal.h"
#include "runtime/snapshot.h"

/* Whether the command may move this node's last slot away. */
static bool may_turn_replica(const state_t *st, const queued_cmd_t *q)
{
    long long slot;
    if (q->argc != 5 || !arg_is(q->argv[3], q->argvlen[3], "node")) return false;
    if (!arg_ll(q->argv[2], q->argvlen[2], &slot) || slot < 0 || slot >= SLOT_COUNT) return false;
    return st->slot_owner[slot] == st->myself && st->nodes[st->myself].slot_count <= 1;
}

bool state_run_borrowed(struct remote_cmd *rc)
{
    rt_actor_t *a = state_actor();
    state_t *st = a->state;
    if (!rt_thread_try_borrow(a->thread)) return false;
    /* Holding the token: the state thread runs none of its code until we
     * give it back, and everything it did before it slept is visible. */
    if (!rt_actor_mailbox_drained(a) ||
        atomic_load_explicit(&g_state_debug_delay_us, memory_order_relaxed) > 0 ||   /* relaxed: a knob */
        may_turn_replica(st, &rc->cmds[0])) {
        rt_thread_unborrow(a->thread);
        return false;
    }
    rt_snap_lent_t lent;
    rt_snap_writer_borrow(st->cell, &lent);
    /* The state actor's round for one message (state.c: behaviour, then
     * before_sleep). */
    state_busy(st);
    state_apply_command(st, rc);   /* rc belongs to the state actor from here on */
    state_outbox_flush(st);
    state_quiet(st);
    state_end_round(st);
    state_outbox_flush(st);        /* what the save released (a PONG) leaves now, as after a message */
    rt_snap_writer_unborrow(st->cell, &lent);
    rt_thread_unborrow(a->thread);
    return true;
}

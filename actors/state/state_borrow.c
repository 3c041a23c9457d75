/* state_borrow.c - a CLUSTER SETSLOT applied by the client's worker, and a
 * link's bus frames applied by the link's thread, on the state actor's data
 * while the state thread sleeps.
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
 * nodes.conf), and gives the token back. The reply comes back to the
 * worker directly when the command is the last of its client's input
 * (worker_reply_here_begin, cmd_cluster.c), else by the usual message,
 * which the worker sends to itself.
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
 * Bus frames likewise (state_run_borrowed_frame, called by a peer link for
 * the frames of one read): in a reshard the target's PONG that announces a
 * slot's new owner reaches the source and the other master a little before
 * redis-cli's SETSLOT NODE does; sent to the state thread it woke that thread
 * (waiting for a core when the machine is busy) and, until it was applied,
 * the SETSLOT found a message queued and went by message behind it (most of
 * the other master's SETSLOT time under a client's load). Applied on the
 * link's thread, which is awake anyway, the rebind is done when the SETSLOT
 * arrives. Whatever the frame starts that needs another thread (an fsync'd
 * save, a vote's ACK after it, a drop of the slot's keys, PONGs) goes by
 * message from here as it does from the state thread.
 *
 * Must never: run while the state thread runs (the token), or let a
 * message sent to the state actor before the command (or frame) be applied
 * after it.
 */
#include "actors/commands/args.h"
#include "actors/state/state_internal.h"
#include "runtime/snapshot.h"
#include "runtime/xmalloc.h"

/* Whether the command may move this node's last slot away. */
static bool may_turn_replica(const state_t *st, const queued_cmd_t *q)
{
    long long slot;
    if (q->argc != 5 || !arg_is(q->argv[3], q->argvlen[3], "node")) return false;
    if (!arg_ll(q->argv[2], q->argvlen[2], &slot) || slot < 0 || slot >= SLOT_COUNT) return false;
    return st->slot_owner[slot] == st->myself && st->nodes[st->myself].slot_count <= 1;
}

/* How long a SETSLOT waits for the token while another thread holds it for
 * the sleeping state thread (a reshard's PONG announcing the slot, applied
 * by a link's thread, often arrives just before redis-cli's SETSLOT NODE);
 * given up, it goes by message and wakes the state thread. A round takes
 * 10-50 us. A frame does not wait: under a burst of frames on several links
 * their threads would take turns at the token instead of reading. */
#define BORROW_WAIT_US 200

/* Takes the state thread's token when it sleeps with nothing queued,
 * waiting up to wait_us for another borrower; false (token given back)
 * otherwise. */
static bool borrow(rt_actor_t *a, int wait_us)
{
    if (!a->thread) return false;   /* not started (unit tests drive links without it) */
    if (!(wait_us ? rt_thread_borrow_wait(a->thread, wait_us) : rt_thread_try_borrow(a->thread))) return false;
    /* Holding the token: the state thread runs none of its code until we
     * give it back, and everything it did before it slept is visible. */
    if (!rt_actor_mailbox_drained(a) ||
        atomic_load_explicit(&g_state_debug_delay_us, memory_order_relaxed) > 0) {   /* relaxed: a knob */
        rt_thread_unborrow(a->thread);
        return false;
    }
    return true;
}

/* The state actor's round for one message (state.c: behaviour, then
 * before_sleep), the message being applied by apply(st, arg); then the
 * token goes back. */
static void run_round(rt_actor_t *a, void (*apply)(state_t *, void *), void *arg)
{
    state_t *st = a->state;
    rt_snap_lent_t lent;
    rt_snap_writer_borrow(st->cell, &lent);
    state_busy(st);
    apply(st, arg);
    state_outbox_flush(st);
    state_quiet(st);
    state_end_round(st);
    state_outbox_flush(st);        /* what the save released (a PONG) leaves now, as after a message */
    rt_snap_writer_unborrow(st->cell, &lent);
    rt_thread_unborrow(a->thread);
}

static void apply_cmd(state_t *st, void *rc)
{
    state_apply_command(st, rc);   /* rc belongs to the state actor from here on */
}

bool state_run_borrowed(struct remote_cmd *rc)
{
    rt_actor_t *a = state_actor();
    if (!borrow(a, BORROW_WAIT_US)) return false;
    if (may_turn_replica(a->state, &rc->cmds[0])) {
        rt_thread_unborrow(a->thread);
        return false;
    }
    run_round(a, apply_cmd, rc);
    return true;
}

static void apply_owed_pong(state_t *st, void *arg)
{
    (void)arg;
    state_send_owed_pong_now(st);
}

/* The PONG the state actor held until a SETSLOT NODE's reply was written
 * (state_cmds.c, release_then_pong): the worker that wrote the reply sends
 * it, 7.0.15's order (its reply leaves in beforeSleep, the PONG from the
 * links' buffers in the next loop pass). When the state's data cannot be
 * borrowed now, a message asks the state thread. */
void state_send_owed_pong(void)
{
    rt_actor_t *a = state_actor();
    if (borrow(a, BORROW_WAIT_US)) {
        run_round(a, apply_owed_pong, NULL);
        return;
    }
    rt_msg_t *m = xcalloc(1, sizeof *m);
    m->type = STATE_MSG_OWED_PONG;
    rt_send(a, m);
}

static void apply_frame(state_t *st, void *f)
{
    state_apply_frame(st, f);      /* frees f */
}

bool state_run_borrowed_frame(struct link_frame *f)
{
    rt_actor_t *a = state_actor();
    if (!borrow(a, 0)) return false;
    run_round(a, apply_frame, f);
    return true;
}

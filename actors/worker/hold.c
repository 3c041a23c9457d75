/* hold.c - clients held by a pause: CLIENT PAUSE and the manual failover's
 * write pause (wpause.h), and a slot migration's pause of the slots it hands
 * over (state/asm.h). A held client's command stays unparsed in its buffer
 * and the client reads nothing further until what held it changes; a timer
 * of its worker then runs the input again (a command still held waits again).
 *
 * Must never: hold a command that Redis answers at once (unknown, wrong
 * arity, NOAUTH), or a slot migration's own lane.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "actors/commands/commands.h"
#include "actors/failover/wpause.h"
#include "actors/repl/repl_replica.h"
#include "actors/state/asm.h"
#include "actors/worker/asm_lane.h"
#include "actors/worker/acl_gate.h"
#include "actors/worker/client.h"
#include "actors/worker/stats.h"
#include "actors/worker/worker_internal.h"
#include "runtime/xmalloc.h"

/* Whether this call may write, judged as 7.0.15's getCommandFlags does: a
 * script's or function's own flags replace those of EVAL* / FCALL*, so a
 * no-writes function runs through a write pause even by FCALL, and one
 * without that flag waits even by FCALL_RO. */
static bool call_may_write(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    return cmd_call_flags(cmd, argc, argv, argvlen) & (CMD_WRITE | CMD_MAY_REPLICATE);
}

static bool held_by_pause(client_t *c, const cmd_def_t *cmd, int mode, bool slots_paused, int argc,
                          const uint8_t **argv, const size_t *argvlen)
{
    if (slots_paused && asm_write_paused(c, cmd, argc, argv, argvlen)) return true;
    if (mode == WPAUSE_OFF) return false;
    if (mode == WPAUSE_ALL) return true;
    if (call_may_write(cmd, argc, argv, argvlen)) return true;
    if (!strcmp(cmd->name, "exec"))
        for (int i = 0; i < c->mq_len; i++) {
            const queued_cmd_t *q = &c->mq[i];
            if (q->cmd && call_may_write(q->cmd, q->argc, q->argv, q->argvlen)) return true;
        }
    return false;
}

/* A command that the pause in force (wpause.h) holds: the client reads
 * nothing further until the pause lets it through, as Redis postpones it.
 * As in Redis, unknown commands, wrong arity and NOAUTH are answered at once;
 * WRITE holds writes (queued into MULTI or not) and an EXEC with a queued
 * write; ALL holds everything else too. */
bool worker_command_must_wait(client_t *c, int argc, const uint8_t **argv, const size_t *argvlen)
{
    int mode = wpause_mode();
    bool slots_paused = asm_any_paused() && !(c->flags & CLIENT_ASM_LANE);
    if (mode == WPAUSE_OFF && !slots_paused) return false;
    const cmd_def_t *cmd = cmd_lookup(argv[0], argvlen[0]);
    if (!cmd) return false;
    if (cmd->subcommands && argc >= 2) {
        const cmd_def_t *sub = cmd_lookup_sub(cmd, argv[1], argvlen[1]);
        if (!sub) return false;
        cmd = sub;
    }
    if ((cmd->arity > 0 && argc != cmd->arity) || (cmd->arity < 0 && argc < -cmd->arity)) return false;
    const cmd_def_t *top = cmd->parent ? cmd->parent : cmd;
    if (acl_gate_auth_required(c) && !(top->flags & CMD_NO_AUTH) && !(cmd->flags & CMD_NO_AUTH)) return false;
    bool held = held_by_pause(c, cmd, mode, slots_paused, argc, argv, argvlen);
    /* 7.0.15 names the command before it postpones it: CLIENT LIST shows
     * the held command (dispatch sets it again when it runs) */
    if (held) c->last_cmd_def = cmd;
    return held;
}

/* Clients on the workers' paused lists; relaxed: an INFO figure. */
static _Atomic long long g_paused;

long long worker_paused_count(void) { return atomic_load_explicit(&g_paused, memory_order_relaxed); }

void worker_hold_dropped(void) { atomic_fetch_sub_explicit(&g_paused, 1, memory_order_relaxed); }

/* Every few ms while clients wait: once the pause has become less
 * restrictive than when they were held, they all run their input again
 * (and those still held wait again). */
static void pause_timer_cb(rt_timer_t *t, void *arg)
{
    (void)t;
    worker_t *w = arg;
    int mode = wpause_mode();
    /* Nothing that held them changed (pause as restrictive, no slot migration's pause moved). */
    bool wpause_same = w->paused_mode == WPAUSE_OFF || (mode != WPAUSE_OFF && mode >= w->paused_mode);
    if (wpause_same && asm_pause_gen() == w->paused_asm_gen) return;
    rt_timer_stop(&w->pause_timer);
    w->pause_timer_on = false;
    /* w->paused is newest first: turned around, the clients run their
     * input in the order they were held, as 7.0.15 unblocks them (newest
     * first, the writes of two paused clients to a key landed reversed) */
    client_t *list = NULL;
    while (w->paused) {
        client_t *c = w->paused;
        w->paused = c->next_paused;
        c->next_paused = list;
        list = c;
    }
    while (list) {
        client_t *c = list;
        list = c->next_paused;
        c->next_paused = NULL;
        c->flags &= ~CLIENT_PAUSED;
        worker_hold_dropped();
        client_process_input(c);
    }
}

void worker_hold_client(client_t *c, size_t len, int argc, const size_t *argvlen)
{
    worker_t *w = c->worker;
    c->flags |= CLIENT_PAUSED;
    c->held_len = len;
    c->held_argv_mem = 0;
    for (int i = 0; i < argc; i++) c->held_argv_mem += argvlen[i];
    atomic_fetch_add_explicit(&g_paused, 1, memory_order_relaxed);
    c->next_paused = w->paused;
    w->paused = c;
    w->paused_mode = wpause_mode();
    w->paused_asm_gen = asm_pause_gen();
    if (!w->pause_timer_on) {
        rt_timer_start(&w->pause_timer, w->thread, 5, 5, pause_timer_cb, w);
        w->pause_timer_on = true;
    }
}

/* A pause was lifted: held clients look now rather than at the next tick. */
static void on_kick(worker_t *w, rt_msg_t *msg)
{
    free(msg);
    if (w->pause_timer_on) pause_timer_cb(NULL, w);
}

void workers_hold_kick(void)
{
    for (int i = 0; i < g_nworkers; i++) {
        worker_run_t *m = xcalloc(1, sizeof *m);
        m->hdr.type = WMSG_RUN;
        m->fn = on_kick;
        worker_post(i, &m->hdr);
    }
}

bool worker_stale_refused(client_t *c, const cmd_def_t *cmd, uint32_t flags)
{
    if ((flags & CMD_STALE) || !repl_replica_stale()) return false;
    static const char err[] = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
    resp_add_error(client_reply_target(c), err);
    stats_note_rejected(c->worker, cmd, err);
    return true;
}

/* busy.c - a worker while one of its scripts runs past busy-reply-threshold.
 *
 * The script's Lua hook (actors/commands/script_busy.c) marks the worker busy
 * and calls worker_busy_poll, which does for this worker's clients what
 * 7.0.15's processEventsWhileBlocked does for a timed-out script: their input
 * is read and each command refused with -BUSY unless it is allow-busy
 * (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE, AUTH, ...), and the replies
 * go out. Other workers go on; accept_cb deals them no new connection. The
 * cluster bus links of the thread are read and answered too (link_place.h).
 *
 * Must never: run a polled client's command that is not allow-busy, touch
 * the client whose command runs the script, or run a timer or a message.
 */
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "actors/bus/link_place.h"
#include "actors/commands/commands.h"
#include "actors/repl/repl.h"
#include "actors/worker/batch.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/stats.h"
#include "actors/worker/unixsock.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/xscript.h"
#include "runtime/actor.h"

/* While a script is busy (worker_busy_begin): true, with -BUSY replied
 * (EXECABORT for an EXEC, which discards its transaction),
 * for a command that is not allow-busy (SHUTDOWN only with NOSAVE), as
 * 7.0.15's processCommand and shutdownCommand refuse them. */
bool worker_busy_refused(client_t *c, int argc, const uint8_t **argv, const size_t *argvlen)
{
    if (!atomic_load_explicit(&c->worker->script_busy, memory_order_relaxed)) return false;
    const cmd_def_t *cmd = cmd_lookup(argv[0], argvlen[0]);
    if (cmd && cmd->subcommands && argc >= 2) cmd = cmd_lookup_sub(cmd, argv[1], argvlen[1]);
    bool ok = cmd && (cmd->flags & CMD_ALLOW_BUSY);
    if (ok && !cmd->parent && !strcmp(cmd->name, "shutdown")) {
        ok = false;
        for (int i = 1; i < argc; i++)
            if (argvlen[i] == 6 && !strncasecmp((const char *)argv[i], "nosave", 6)) ok = true;
    }
    if (ok) return false;
    const char *e = atomic_load_explicit(&c->worker->script_busy, memory_order_relaxed) == 1 ? WORKER_BUSY_EVAL
                                                                                            : WORKER_BUSY_FUNCTION;
    e = multi_refused(c, cmd, e);      /* inside MULTI: the transaction fails */
    resp_add_error(client_reply_target(c), e);
    stats_note_error_text(c->worker, e);
    return true;
}

/* A connection accept_cb would deal to `target`: a worker in a busy script
 * reads no messages, so one dealt to it would hang until the script ends
 * (7.0.15 answers it -BUSY); this worker takes it instead. So while a
 * script holds the other workers (xscript.h): they read no messages.
 * When this worker is the busy one (its busy poll accepts too, and on a
 * loaded machine it wins the accept race against sleeping workers), the
 * connection goes to the next worker not in a script, which serves it;
 * kept here it would get -BUSY while a core could answer it. */
int worker_busy_retarget(const worker_t *w, int target)
{
    if (target != w->index &&
        (atomic_load_explicit(&g_workers[target]->script_busy, memory_order_relaxed) || xscript_active()))
        return w->index;
    if (target == w->index && atomic_load_explicit(&w->script_busy, memory_order_relaxed) && !xscript_active()) {
        for (int k = 1; k < g_nworkers; k++) {
            int other = (w->index + k) % g_nworkers;
            if (!atomic_load_explicit(&g_workers[other]->script_busy, memory_order_relaxed)) return other;
        }
    }
    return target;
}

/* relaxed, here and where it is read: a flag; a connection dealt on a stale
 * value is only one that waits for the script's end */
void worker_busy_begin(worker_t *w, bool is_eval)
{
    atomic_store_explicit(&w->script_busy, is_eval ? 1 : 2, memory_order_relaxed);
    w->busy_polled_ms = 0;
    batch_release_held(w);        /* replies held for a batch to us go out (batch.h) */
}

void worker_busy_resume_held(worker_t *w)
{
    client_t *next;
    for (client_t *c = w->clients; c; c = next) {
        next = c->next;   /* only c's own command runs: an allow-busy one or one for its batch's worker */
        if (c->input_held && !c->in_input && !(c->flags & CLIENT_CLOSED) && c->qpos < c->qlen)
            client_process_input(c);
    }
}

void worker_busy_end(worker_t *w) { atomic_store_explicit(&w->script_busy, 0, memory_order_relaxed); }

/* What 7.0.15's processEventsWhileBlocked does for a timed-out script, on
 * this worker's clients only: their input is read and answered (-BUSY, or
 * an allow-busy command), and replies go out. At most once a millisecond:
 * the hook comes every 100000 Lua instructions. The client whose command
 * runs the script is inside client_process_input and is left alone (its
 * query buffer holds the script's arguments). No timer, no message: the
 * worker's other work waits for the script, as Redis's does. */
void worker_busy_poll(worker_t *w)
{
    long long now = rt_mono_ms();
    if (now == w->busy_polled_ms) return;
    w->busy_polled_ms = now;
    /* New connections too, as processEventsWhileBlocked accepts them: with
     * every worker in or held by a script (xscript.c) nobody else would,
     * and SCRIPT KILL often comes on a new connection (redis-cli). */
    if (!w->accept_resting) {
        for (int k = 0; k < w->nlisten; k++) worker_accept_cb(NULL, &w->listen_w[k], 0);
        for (int k = 0; k < w->ntls_listen; k++) worker_accept_cb(NULL, &w->tls_listen_w[k], 0);
        if (unixsock_fd() >= 0) worker_accept_cb(NULL, &w->unix_listen_w, 0);
    }
    /* The commands run here are allow-busy ones, which need no key; they
     * leave our keyspace alone (no eviction, no statistics read from it,
     * run_here): while we wait for a script session or stand parked in
     * one (xscript.c), another worker's script uses it. */
    w->busy_polling = true;
    client_t *next;
    for (client_t *c = w->clients; c; c = next) {
        next = c->next;
        if (c->in_input || (c->flags & CLIENT_CLOSED)) continue;
        worker_client_read(c);
    }
    worker_busy_resume_held(w);   /* read before: their batches' answers wait for the script */
    w->busy_polling = false;
    /* The effects of the commands run before the script in its loop round
     * (the script's own stay in their open transaction) reach the AOF and
     * the stream before their replies leave: before, a client's +OK went
     * out here with its write in no file, lost to a kill -9 (appendfsync
     * always included, whose gate saw no bytes to wait for). 7.0.15 writes
     * its AOF buffer here before the replies too. */
    repl_flush_before_multi(w->repl);
    /* the bus links of this thread too, as 7.0.15 serves its bus here (a
     * PUBLISH they bring reaches our subscribers in the write below) */
    link_place_serve_busy();
    worker_write_scheduled(w);
}

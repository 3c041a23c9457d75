/* fanout.c - running one command on every worker. (A command whose keys
 * several workers keep runs whole on one of them: xcmd.c.)
 *
 * A fan-out (DBSIZE, KEYS, FLUSHALL, CLIENT LIST, DEBUG DIGEST, ...) is
 * generic here: what each worker does and how the client's worker merges the
 * answers are the callbacks of the command's table entry (cmd_fanout_t in
 * cmd.h). The parts travel as WMSG_RUN messages even to the client's own
 * worker, so a fan-out is ordered after every earlier command of the same
 * connection on every worker; each part comes back the same way. The
 * client's next command waits until the last part is back
 * (dispatch_order_must_wait), so it comes after the fan-out everywhere.
 *
 * Must never: read another worker's keyspace directly, or know what a
 * particular command's part does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/repl/repl.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/wdb.h"
#include "proto/slot.h"
#include "runtime/xmalloc.h"

void fanout_send_to_worker(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                           const size_t *argvlen, int target)
{
    worker_t *w = c->worker;
    if (target == w->index) {
        dispatch_run_local(w, NULL, cmd, argc, argv, argvlen, client_reply_target(c), rt_now_ms());
        return;
    }
    remote_cmd_t *rc = remote_cmd_one(c, cmd, argc, argv, argvlen, client_defer_reply(c), WMSG_EXEC,
                                      rt_now_ms());
    worker_send(w, target, &rc->hdr);
}

/* ---------------- one part per worker ---------------- */

static void part_back(worker_t *w, rt_msg_t *msg);

/* On each worker (WMSG_RUN): this worker's share, then back to the origin. */
void fanout_part_run(worker_t *w, rt_msg_t *msg)
{
    remote_cmd_t *rc = (remote_cmd_t *)msg;
    const queued_cmd_t *q = &rc->cmds[0];
    worker_snap_enter(w);
    long long t0 = rt_now_us();
    int entry_db = wdb_use(w, rc->db);   /* DBSIZE, KEYS, SCAN, FLUSHDB ...: the client's database */
    q->cmd->fanout.part(w, rc);
    wdb_use(w, entry_db);
    /* A fan-out a client asked for counts as one call of its command, as
     * in 7.0.15: the part on the client's own worker counts it, with its
     * own duration. SAVE's parts (rdb_save.c) have no reply slot and
     * count none; nor do those of a command whose handler started the
     * fan-out (CLIENT LIST, CLIENT UNBLOCK, DEBUG DIGEST ...), which its
     * call counted (dispatch.c). */
    if (rc->slot && w == rc->origin && q->cmd->exec == CMD_EXEC_FANOUT) {
        long long usec = rt_now_us() - t0;
        stats_note_call(w, q->cmd, usec > 0 ? usec : 0, NULL, 0);
    }
    worker_snap_leave(w);
    repl_flush(w->repl);
    rc->run.hdr.type = WMSG_RUN;
    rc->run.fn = part_back;
    rt_send(&rc->origin->actor, &rc->hdr);
}

/* On the client's worker: merge, and answer after the last part. */
static void part_back(worker_t *w, rt_msg_t *msg)
{
    remote_cmd_t *rc = (remote_cmd_t *)msg;
    const cmd_fanout_t *f = &rc->cmds[0].cmd->fanout;
    if (f->gather) {
        f->gather(w, rc);
        return;
    }
    reply_slot_t *s = rc->slot;
    if (f->merge) f->merge(s, rc);
    remote_cmd_free(rc);
    if (--s->parts_left > 0) return;
    f->reply(s);
    client_slot_done(w, s);
}

void fanout_part_return(remote_cmd_t *rc)
{
    rc->run.hdr.type = WMSG_RUN;
    rc->run.fn = part_back;
    rt_send(&rc->origin->actor, &rc->hdr);
}

void dispatch_fanout(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    dispatch_fanout_extra(c, cmd, argc, argv, argvlen, 0, NULL);
}

void dispatch_fanout_extra(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                           int nextra, remote_cmd_t **extra)
{
    const cmd_fanout_t *f = &cmd->fanout;
    if (f->start) {
        /* The reply goes through a buffer of its own: a start that forwards
         * the command defers a slot, and an error must land after it. */
        cmd_ctx_t ctx = { .argc = argc, .argv = argv, .argvlen = argvlen, .client = c, .worker = c->worker,
                          .now_ms = rt_now_ms() };
        resp_buf_t tmp;
        resp_buf_init(&tmp, c->proto);
        ctx.reply = &tmp;
        bool handled = f->start(&ctx);
        if (tmp.len) resp_buf_append(client_reply_target(c), tmp.data, tmp.len);
        resp_buf_free(&tmp);
        if (handled) return;
    }
    /* before its own reply slot exists, as the command sees the client */
    char *own = f->caller_line ? f->caller_line(c) : NULL;
    reply_slot_t *slot = client_defer_reply(c);
    slot->parts_left = g_nworkers + nextra;
    if (!slot->txn_part) {
        /* the client's next command waits for every part (dispatch_order_must_wait):
         * run here at once, SET k v behind FLUSHALL would come before its part here */
        slot->fanout_open = true;
        c->fanout_open++;
    }
    slot->cmd = cmd;
    resp_buf_init(&slot->acc, c->proto);
    /* Every worker meets the parts on the same side of a call that spans
     * workers (xcmd.c): DBSIZE, KEYS, SCAN and SAVE see it whole or not. */
    workers_barrier_lock();
    for (int i = 0; i < g_nworkers; i++) {
        remote_cmd_t *rc = remote_cmd_one(c, cmd, argc, argv, argvlen, slot, WMSG_RUN, rt_now_ms());
        rc->run.fn = fanout_part_run;
        rc->client_id = c->id;
        if (i == c->worker->index) {
            rc->caller_line = own;
            own = NULL;
        }
        worker_send(c->worker, i, &rc->hdr);
    }
    workers_barrier_unlock();
    free(own);
    for (int i = 0; i < nextra; i++) {
        extra[i] = remote_cmd_one(c, cmd, argc, argv, argvlen, slot, WMSG_RUN, rt_now_ms());
        extra[i]->client_id = c->id;
    }
}

/* fanout.c - running one command on every worker, and splitting a multi-key
 * command over the workers that keep its keys.
 *
 * A fan-out (DBSIZE, KEYS, FLUSHALL, CLIENT LIST, DEBUG DIGEST, ...) is
 * generic here: what each worker does and how the client's worker merges the
 * answers are the callbacks of the command's table entry (cmd_fanout_t in
 * cmd.h). The parts travel as WMSG_RUN messages even to the client's own
 * worker, so a fan-out is ordered after every earlier command of the same
 * connection on every worker; each part comes back the same way.
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
    q->cmd->fanout.part(w, rc);
    /* A part a client asked for counts as a call of its command; SAVE's
     * parts (rdb_save.c) have no reply slot and count none. */
    if (rc->slot) stats_note_call(w, q->cmd, 0, NULL, 0);
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

void dispatch_fanout(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
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
    reply_slot_t *slot = client_defer_reply(c);
    slot->parts_left = g_nworkers;
    slot->cmd = cmd;
    resp_buf_init(&slot->acc, c->proto);
    for (int i = 0; i < g_nworkers; i++) {
        remote_cmd_t *rc = remote_cmd_one(c, cmd, argc, argv, argvlen, slot, WMSG_RUN, rt_now_ms());
        rc->run.fn = fanout_part_run;
        rc->client_id = c->id;
        worker_send(c->worker, i, &rc->hdr);
    }
}

/* ---------------- multi-key commands split by worker ----------------
 *
 * Without cluster mode a client may name keys of any slots in one MGET, MSET,
 * DEL, UNLINK, EXISTS or TOUCH. Each worker gets the same command with its
 * own keys (in their order); the client's worker merges the parts as the
 * entry's `split` says: MGET's elements back in the keys' order, the counts
 * added, MSET's OK. A departure from Redis, stated in docs/design.md: the
 * parts run one after the other on their workers, so another client may see
 * some of an MSET's keys set before the others. */

typedef struct split_state {
    int nkeys;
    uint8_t *order;               /* the worker of each key, in argument order */
    resp_buf_t parts[MAX_WORKERS];
} split_state_t;

bool dispatch_split_supported(const cmd_def_t *cmd, int argc)
{
    return cmd->split != CMD_SPLIT_NONE && !cmd->parent && cmd->first_key == 1 && cmd->last_key == -1 &&
           cmd->key_step >= 1 && argc > 1 && (argc - 1) % cmd->key_step == 0;
}

static void split_part_back(worker_t *w, rt_msg_t *msg);

/* On each worker (WMSG_RUN): the command with this worker's keys. */
static void split_part_run(worker_t *w, rt_msg_t *msg)
{
    remote_cmd_t *rc = (remote_cmd_t *)msg;
    const queued_cmd_t *q = &rc->cmds[0];
    worker_snap_enter(w);
    dispatch_run_local(w, NULL, q->cmd, q->argc, q->argv, q->argvlen, &rc->reply, rc->now_ms);
    worker_snap_leave(w);
    repl_flush(w->repl);                /* the stream has these writes before their replies leave */
    rc->run.fn = split_part_back;
    rt_send(&rc->origin->actor, &rc->hdr);
}

void dispatch_split(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    int step = cmd->key_step;
    split_state_t *st = xcalloc(1, sizeof *st);
    st->nkeys = (argc - 1) / step;
    st->order = xmalloc((size_t)st->nkeys);
    for (int k = 0; k < st->nkeys; k++)
        st->order[k] = (uint8_t)worker_of_slot(slot_of_key(argv[1 + k * step], argvlen[1 + k * step]));
    reply_slot_t *slot = client_defer_reply(c);
    slot->cmd = cmd;
    slot->split = st;
    resp_buf_init(&slot->acc, c->proto);
    const uint8_t **sub = xmalloc((size_t)argc * sizeof *sub);
    size_t *sublen = xmalloc((size_t)argc * sizeof *sublen);
    int parts = 0;
    for (int w = 0; w < g_nworkers; w++) {
        int n = cmd_group_args(cmd, argc, argv, argvlen, st->order, w, sub, sublen);
        if (n == 1) continue;
        remote_cmd_t *rc = remote_cmd_one(c, cmd, n, sub, sublen, slot, WMSG_RUN, rt_now_ms());
        rc->run.fn = split_part_run;
        rc->client_id = c->id;
        parts++;
        worker_send(c->worker, w, &rc->hdr);
    }
    /* The parts come back as messages to this thread, after this returns. */
    slot->parts_left = parts;
    free(sub);
    free(sublen);
}

/* Length of the RESP element at p (a bulk string or a null, MGET's only kinds). */
static size_t element_len(const char *p, size_t left)
{
    const char *eol = memchr(p, '\n', left);
    if (!eol) return left;
    size_t line = (size_t)(eol - p) + 1;
    if (p[0] != '$') return line;
    long long n = strtoll(p + 1, NULL, 10);
    if (n < 0) return line;
    size_t total = line + (size_t)n + 2;
    return total <= left ? total : left;
}

/* MGET: each key's element, taken from its worker's part in argument order. */
static void split_reply_array(reply_slot_t *s, split_state_t *st)
{
    size_t cur[MAX_WORKERS] = { 0 };
    for (int w = 0; w < g_nworkers; w++) {   /* past each part's array header */
        const char *eol = st->parts[w].len ? memchr(st->parts[w].data, '\n', st->parts[w].len) : NULL;
        cur[w] = eol ? (size_t)(eol - st->parts[w].data) + 1 : st->parts[w].len;
    }
    resp_add_array(&s->buf, st->nkeys);
    for (int k = 0; k < st->nkeys; k++) {
        resp_buf_t *p = &st->parts[st->order[k]];
        size_t n = element_len(p->data + cur[st->order[k]], p->len - cur[st->order[k]]);
        resp_buf_append(&s->buf, p->data + cur[st->order[k]], n);
        cur[st->order[k]] += n;
    }
}

static void split_reply(reply_slot_t *s)
{
    split_state_t *st = s->split;
    const resp_buf_t *err = NULL;
    for (int w = 0; w < g_nworkers && !err; w++)
        if (st->parts[w].len && st->parts[w].data[0] == '-') err = &st->parts[w];
    if (err) {
        resp_buf_append(&s->buf, err->data, err->len);
    } else if (s->cmd->split == CMD_SPLIT_OK) {
        resp_add_simple(&s->buf, "OK");
    } else if (s->cmd->split == CMD_SPLIT_SUM) {
        long long sum = 0;
        for (int w = 0; w < g_nworkers; w++)
            if (st->parts[w].len > 1 && st->parts[w].data[0] == ':') sum += strtoll(st->parts[w].data + 1, NULL, 10);
        resp_add_int(&s->buf, sum);
    } else {
        split_reply_array(s, st);
    }
    for (int w = 0; w < g_nworkers; w++) resp_buf_free(&st->parts[w]);
    free(st->order);
    free(st);
    s->split = NULL;
}

/* On the client's worker: keep the part by its worker, answer after the last. */
static void split_part_back(worker_t *w, rt_msg_t *msg)
{
    remote_cmd_t *rc = (remote_cmd_t *)msg;
    reply_slot_t *s = rc->slot;
    split_state_t *st = s->split;
    queued_cmd_t *q = &rc->cmds[0];
    int from = worker_of_slot(slot_of_key(q->argv[1], q->argvlen[1]));
    st->parts[from] = rc->reply;
    resp_buf_init(&rc->reply, 2);
    remote_cmd_free(rc);
    if (--s->parts_left > 0) return;
    split_reply(s);
    client_slot_done(w, s);
}

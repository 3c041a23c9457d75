/* repl_replica_stream.c - the replica link's command stream: commands from our
 * master after a sync, routed to the worker of their slot (run with the other
 * workers parked when a command's keys are kept by several, xcmd.c) and sent one read round at a time (see
 * repl_replica.c for the offsets, repl_replica_internal.h for the state).
 *
 * Must never: block, or count a transaction's bytes before its EXEC is here.
 */
#include "actors/repl/repl_replica_internal.h"
#include "actors/commands/args.h"
#include "actors/persist/aof.h"
#include "actors/worker/pubsub.h"
#include "actors/worker/xcmd.h"
#include "actors/worker/wdb.h"
#include "proto/strnum.h"
#include "runtime/xmalloc.h"

/* ---------------- the command stream ---------------- */

static void log_unapplied_once(repl_replica_link_t *rl, const uint8_t *name, size_t n, const char *why)
{
    char s[32];
    size_t c = n < sizeof s - 1 ? n : sizeof s - 1;
    for (size_t i = 0; i < c; i++) s[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
    s[c] = '\0';
    for (int i = 0; i < rl->nunknown_logged; i++)
        if (!strcmp(rl->unknown_logged[i], s)) return;
    if (rl->nunknown_logged < 16) memcpy(rl->unknown_logged[rl->nunknown_logged++], s, sizeof s);
    LOG_WARNING("Command '%s' from MASTER not applied: %s (logged once)", s, why);
}

/* Resolves one stream command to the worker that applies it: >= 0 a worker,
 * -1 skip, -2 every worker (FLUSHALL/FLUSHDB). *out gets the table entry. */
static int route(repl_replica_link_t *rl, int argc, const uint8_t **argv, const size_t *argvlen, const cmd_def_t **out)
{
    const cmd_def_t *cmd = cmd_lookup(argv[0], argvlen[0]);
    if (!cmd) {
        log_unapplied_once(rl, argv[0], argvlen[0], "unknown command");
        return -1;
    }
    if (!cmd->handler && cmd->subcommands) {
        if (argc < 2) return -1;
        const cmd_def_t *sub = cmd_lookup_sub(cmd, argv[1], argvlen[1]);
        if (!sub) {
            log_unapplied_once(rl, argv[0], argvlen[0], "unknown subcommand");
            return -1;
        }
        cmd = sub;
    }
    if ((cmd->arity > 0 && argc != cmd->arity) || (cmd->arity < 0 && argc < -cmd->arity)) {
        log_unapplied_once(rl, argv[0], argvlen[0], "wrong number of arguments");
        return -1;
    }
    *out = cmd;
    if (cmd->exec == CMD_EXEC_FANOUT) {
        if (arg_is(argv[0], argvlen[0], "flushall") || arg_is(argv[0], argvlen[0], "flushdb")) return -2;
        return -1;
    }
    if (cmd_keyless_write(cmd)) return 0;
    if (cmd->exec != CMD_EXEC_KEYED || !cmd->handler) {
        log_unapplied_once(rl, argv[0], argvlen[0], "not a keyed command");
        return -1;
    }
    int pos[4];
    int nk = cmd_get_keys(cmd, argc, argv, argvlen, pos, 4);
    if (nk <= 0) {
        log_unapplied_once(rl, argv[0], argvlen[0], "no key");
        return -1;
    }
    return worker_of_slot(slot_of_key(argv[pos[0]], argvlen[pos[0]]));
}

/* Without cluster mode a master may send one command whose keys we keep on
 * different workers (MSET a 1 b 2, RENAME a b, SUNIONSTORE d a b): it runs
 * whole on the first key's worker with the others parked (xcmd.c), after
 * every command of the stream sent to the workers before it. Returns false
 * when one worker keeps every key. */
static bool apply_across_workers(repl_replica_link_t *rl, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                                 const size_t *argvlen)
{
    if (config_cluster_enabled() || workers_count() < 2) return false;
    queued_cmd_t q = { .cmd = cmd, .argc = argc, .argv = argv, .argvlen = (size_t *)argvlen };
    uint64_t mask = xcmd_workers_of(&q);
    if (!(mask & (mask - 1))) return false;
    int pos[1];
    cmd_get_keys(cmd, argc, argv, argvlen, pos, 1);
    rr_batches_send(rl);
    xcmd_apply(worker_of_slot(slot_of_key(argv[pos[0]], argvlen[pos[0]])), rl->stream_db, cmd, argc, argv, argvlen,
               rt_now_ms(), false);
    return true;
}

/* SELECT of the master's stream: every worker applies what follows in that
 * database (dispatch_apply), after what it was sent before. */
static void stream_select(repl_replica_link_t *rl, int argc, const uint8_t **argv, const size_t *argvlen)
{
    long long db;
    if (argc != 2 || !str_to_ll(argv[1], argvlen[1], &db) || db < 0 || db >= wdb_count()) {
        log_unapplied_once(rl, argv[0], argvlen[0], "database out of range");
        return;
    }
    rl->stream_db = (int)db;
    const cmd_def_t *cmd = cmd_lookup(argv[0], argvlen[0]);
    for (int i = 0; i < workers_count(); i++) {
        queued_cmd_t q;
        queued_cmd_copy(&q, cmd, argc, argv, argvlen);
        rr_batch_add(rl, i, &q);
    }
}

/* PUBLISH or SPUBLISH of the stream (a master without cluster mode sends
 * them, as 7.0.15 does): our subscribers get the message after every write
 * the stream gave before it is on its worker's way, so one who reads a key
 * on hearing of it finds the write applied. True when it was one. */
static bool stream_publish(repl_replica_link_t *rl, int argc, const uint8_t **argv, const size_t *argvlen)
{
    if (argc != 3 || !(arg_is(argv[0], argvlen[0], "publish") || arg_is(argv[0], argvlen[0], "spublish")))
        return false;
    rr_batches_send(rl);
    pubsub_publish_async(argvlen[0] == 8, argv[1], argvlen[1], argv[2], argvlen[2]);
    return true;
}

static void enqueue(repl_replica_link_t *rl, int argc, const uint8_t **argv, const size_t *argvlen)
{
    if (stream_publish(rl, argc, argv, argvlen)) return;
    if (arg_is(argv[0], argvlen[0], "swapdb")) {   /* every worker at one point of the stream */
        rr_batches_send(rl);
        if (!wdb_swap_apply(argc, argv, argvlen)) log_unapplied_once(rl, argv[0], argvlen[0], "bad databases");
        return;
    }
    const cmd_def_t *cmd = NULL;
    int wi = route(rl, argc, argv, argvlen, &cmd);
    if (wi == -1) return;
    if (wi == -2) {
        for (int i = 0; i < workers_count(); i++) {
            queued_cmd_t q;
            queued_cmd_copy(&q, cmd, argc, argv, argvlen);
            rr_batch_add(rl, i, &q);
        }
        return;
    }
    if (apply_across_workers(rl, cmd, argc, argv, argvlen)) return;
    queued_cmd_t q;
    queued_cmd_copy(&q, cmd, argc, argv, argvlen);
    rr_batch_add(rl, wi, &q);
}

/* The applied commands' bytes of this round, for our AOF (the master's
 * PINGs, REPLCONFs and SELECTs left out): the link's thread only. */
static resp_buf_t aof_bytes;
static bool aof_bytes_init;
static int aof_bytes_db;          /* the database aof_bytes start in (their SELECTs are kept) */

/* db: the stream's database before these bytes. */
static void aof_keep(repl_replica_link_t *rl, size_t from, size_t to, int db)
{
    if (!aof_wait_wanted()) return;
    if (!aof_bytes_init) {
        resp_buf_init(&aof_bytes, 2);
        aof_bytes_init = true;
    }
    if (aof_bytes.len == 0) aof_bytes_db = db;
    resp_buf_append(&aof_bytes, rl->in + from, to - from);
}

/* Hands over what this round processed so far: the batches to the workers,
 * the applied commands to our AOF, then bytes in[0..upto) to the
 * replication actor. */
static void round_flush(repl_replica_link_t *rl, size_t upto)
{
    rr_batches_send(rl);
    if (aof_bytes_init && aof_bytes.len) {
        aof_append_stream(aof_bytes.data, aof_bytes.len, aof_bytes_db, rl->stream_db);
        resp_buf_reset(&aof_bytes);
    }
    if (upto == 0) return;
    uint8_t *copy = xmalloc(upto);
    memcpy(copy, rl->in, upto);
    repl_feed_from_master(copy, upto);
    rl->repl_offset += (long long)upto;
    rr_in_consume(rl, upto);
}

#define MAX_ARGS 1024

/* A transaction of the master's stream, held aside until its EXEC: its
 * commands, and where its MULTI began in the input. */
typedef struct held_txn {
    bool on;
    size_t start;
    int start_db;                 /* the stream's database at its MULTI */
    queued_cmd_t *cmds;
    int n, cap;
} held_txn_t;

static void txn_drop(held_txn_t *t)
{
    for (int i = 0; i < t->n; i++) queued_cmd_free(&t->cmds[i]);
    t->n = 0;
    t->on = false;
}

static void txn_keep(held_txn_t *t, int argc, const uint8_t **argv, const size_t *argvlen)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->cmds = xrealloc(t->cmds, (size_t)t->cap * sizeof *t->cmds);
    }
    /* cmd resolved at EXEC; keep the bytes now */
    queued_cmd_copy(&t->cmds[t->n++], NULL, argc, argv, argvlen);
}

/* EXEC: the body goes to its workers in one message each (one worker in
 * cluster mode), routed as single commands are. */
static void txn_exec(repl_replica_link_t *rl, held_txn_t *t)
{
    for (int i = 0; i < t->n; i++) {
        queued_cmd_t *q = &t->cmds[i];
        if (arg_is(q->argv[0], q->argvlen[0], "select") || arg_is(q->argv[0], q->argvlen[0], "swapdb")) {
            if (q->argvlen[0] == 6) stream_select(rl, q->argc, q->argv, q->argvlen);
            else enqueue(rl, q->argc, q->argv, q->argvlen);
            queued_cmd_free(q);
            continue;
        }
        if (stream_publish(rl, q->argc, q->argv, q->argvlen)) {
            queued_cmd_free(q);
            continue;
        }
        const cmd_def_t *cmd = NULL;
        int wi = route(rl, q->argc, q->argv, q->argvlen, &cmd);
        if (wi == -1) { queued_cmd_free(q); continue; }
        if (wi == -2) {
            for (int k = 0; k < workers_count(); k++) {
                queued_cmd_t each;
                queued_cmd_copy(&each, cmd, q->argc, q->argv, q->argvlen);
                rr_batch_add(rl, k, &each);
            }
            queued_cmd_free(q);
            continue;
        }
        if (apply_across_workers(rl, cmd, q->argc, q->argv, q->argvlen)) {
            queued_cmd_free(q);
            continue;
        }
        q->cmd = cmd;
        rr_batch_add(rl, wi, q);
    }
    t->n = 0;
    t->on = false;
}

/* One parsed command of the stream. `done` moves past it once it counts as
 * processed (a transaction's commands do at their EXEC). Returns false when
 * the link dropped (answering a GETACK failed). */
static bool stream_command(repl_replica_link_t *rl, held_txn_t *t, int argc, const uint8_t **argv,
                           const size_t *argvlen, size_t cmd_start, size_t *pos, size_t *done)
{
    const uint8_t *name = argv[0];
    size_t nlen = argvlen[0];
    size_t k = 0;                 /* CLIENT LIST's cmd= of the link (its M line) */
    for (; k < nlen && k + 1 < sizeof rl->last_cmd; k++)
        rl->last_cmd[k] = (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32 : name[k]);
    rl->last_cmd[k] = '\0';
    if (arg_is(name, nlen, "multi") && !t->on) {
        t->on = true;
        t->start = cmd_start;
        t->start_db = rl->stream_db;
    } else if (arg_is(name, nlen, "exec") && t->on) {
        txn_exec(rl, t);
        aof_keep(rl, t->start, *pos, t->start_db);   /* MULTI ... EXEC, as the master sent it */
        *done = *pos;
    } else if (arg_is(name, nlen, "discard") && t->on) {
        txn_drop(t);
        *done = *pos;
    } else if (t->on) {
        if (!arg_is(name, nlen, "ping")) txn_keep(t, argc, argv, argvlen);
    } else if (arg_is(name, nlen, "replconf")) {
        if (argc >= 2 && arg_is(argv[1], argvlen[1], "getack")) {
            /* Everything before the GETACK is processed; the GETACK itself is not
             * yet. The ACK waits until the workers applied it (a marker round). */
            round_flush(rl, cmd_start);
            *pos -= cmd_start;
            *done = *pos;
            rr_ack_when_applied(rl);
            return rl->fd >= 0;
        }
        *done = *pos;
    } else if (arg_is(name, nlen, "select")) {
        aof_keep(rl, cmd_start, *pos, rl->stream_db);
        stream_select(rl, argc, argv, argvlen);
        *done = *pos;
    } else if (arg_is(name, nlen, "ping")) {
        *done = *pos;
    } else if (stream_publish(rl, argc, argv, argvlen)) {
        *done = *pos;             /* to the replicas, not to our AOF (7.0.15's PROPAGATE_REPL) */
    } else {
        aof_keep(rl, cmd_start, *pos, rl->stream_db);
        enqueue(rl, argc, argv, argvlen);
        *done = *pos;
    }
    return true;
}

/* Parses and routes every complete command buffered. */
void rr_stream_round(repl_replica_link_t *rl)
{
    const uint8_t *argv_s[MAX_ARGS];
    size_t argvlen_s[MAX_ARGS];
    size_t pos = 0, done = 0;         /* parse position; end of the last fully processed command */
    held_txn_t txn = { 0 };
    while (pos < rl->in_len) {
        const uint8_t *start = rl->in + pos;
        int r = resp_parse(&rl->parser, start, rl->in_len - pos);
        if (r == RESP_PARSE_MORE) break;
        if (r == RESP_PARSE_ERROR) {
            char why[200];
            snprintf(why, sizeof why, "Protocol error from MASTER: %s", rl->parser.error ? rl->parser.error : "?");
            txn_drop(&txn);
            free(txn.cmds);
            round_flush(rl, done);
            rr_link_drop(rl, why, true);
            return;
        }
        size_t cmd_start = pos;
        pos += rl->parser.consumed;
        if (r == RESP_PARSE_EMPTY) {
            if (!txn.on) done = pos;
            continue;
        }
        int argc = (int)rl->parser.argc;
        const uint8_t **argv = argv_s;
        size_t *argvlen = argvlen_s;
        const uint8_t **argv_h = NULL;
        size_t *argvlen_h = NULL;
        if (argc > MAX_ARGS) {
            argv_h = xmalloc((size_t)argc * sizeof *argv_h);
            argvlen_h = xmalloc((size_t)argc * sizeof *argvlen_h);
            argv = argv_h;
            argvlen = argvlen_h;
        }
        for (int i = 0; i < argc; i++) {
            argv[i] = resp_arg(&rl->parser, start, (size_t)i);
            argvlen[i] = rl->parser.arg_len[i];
        }
        bool alive = stream_command(rl, &txn, argc, argv, argvlen, cmd_start, &pos, &done);
        free(argv_h);
        free(argvlen_h);
        if (!alive) {
            free(txn.cmds);
            return;
        }
    }
    if (txn.on) {
        /* An unfinished transaction: parse it again, whole, next round. */
        txn_drop(&txn);
        resp_parser_reset(&rl->parser);
        done = txn.start;
    }
    free(txn.cmds);
    round_flush(rl, done);
}

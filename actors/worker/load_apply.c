/* load_apply.c - running an AOF's commands at start on their worker (see
 * load_apply.h): the batches the loader builds, and the worker's side.
 *
 * The worker calls each command's handler with no client, as 7.0.15 calls
 * cmd->proc on its fake client while it loads: not counted in INFO
 * commandstats or total_commands_processed, no slow log, latency or
 * keyspace event (no client could be subscribed yet), no WATCH version
 * (no client watches yet), no tracking, no blocked client to serve. The
 * changes count (rdb_changes_since_last_save), as in 7.0.15. The keyspace
 * figures INFO reads are published when the batch leaves a database and at
 * its end, not after every command.
 *
 * Must never: run once clients are let in, or keep a pointer into the
 * batch's arguments after the batch is freed.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "actors/commands/cmd.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/load_apply.h"
#include "actors/worker/wdb.h"
#include "actors/worker/worker_internal.h"
#include "proto/resp.h"
#include "runtime/xmalloc.h"

load_batch_t *load_batch_new(long long now_ms)
{
    load_batch_t *b = xcalloc(1, sizeof *b);
    b->now_ms = now_ms;
    return b;
}

void load_batch_add(load_batch_t *b, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                    int key)
{
    if (b->ncmds == b->capcmds) {
        b->capcmds = b->capcmds ? b->capcmds * 2 : 256;
        b->cmds = xrealloc(b->cmds, (size_t)b->capcmds * sizeof *b->cmds);
    }
    if (b->nargs + (size_t)argc > b->capargs) {
        while (b->nargs + (size_t)argc > b->capargs) b->capargs = b->capargs ? b->capargs * 2 : 1024;
        b->argv = xrealloc(b->argv, b->capargs * sizeof *b->argv);
        b->argvlen = xrealloc(b->argvlen, b->capargs * sizeof *b->argvlen);
    }
    b->cmds[b->ncmds++] = (load_cmd_t){ .cmd = cmd, .argc = argc, .key = key < argc ? key : -1, .first = b->nargs };
    for (int i = 0; i < argc; i++) {
        b->argv[b->nargs] = argv[i];
        b->argvlen[b->nargs++] = argvlen[i];
    }
}

queued_cmd_t load_batch_cmd(const load_batch_t *b, int i)
{
    const load_cmd_t *c = &b->cmds[i];
    return (queued_cmd_t){ .cmd = c->cmd, .argc = c->argc, .argv = b->argv + c->first,
                           .argvlen = b->argvlen + c->first };
}

void load_batch_clear(load_batch_t *b)
{
    b->ncmds = 0;
    b->nargs = 0;
}

void load_batch_free(load_batch_t *b)
{
    if (!b) return;
    free(b->cmds);
    free((void *)b->argv);
    free(b->argvlen);
    free(b);
}

/* ---------------- the worker's side ---------------- */

/* Publishes the figures of database db (its key counts, hits, expired
 * keys, memory: what run_here publishes after each call). */
static void publish_db(worker_t *w, int db)
{
    int entry_db = wdb_use(w, db);
    wdb_publish_current(w);
    worker_publish_ks_stats(w);
    wdb_use(w, entry_db);
}

/* One command: the handler alone (see the top of the file). Returns the
 * database it wrote in, or -1 when it went through dispatch_apply (which
 * publishes what it does itself). */
static int run_one(worker_t *w, const queued_cmd_t *q, long long now_ms, resp_buf_t *scratch)
{
    const cmd_def_t *cmd = q->cmd;
    if (cmd->exec == CMD_EXEC_FANOUT || !((cmd->exec == CMD_EXEC_KEYED && cmd->handler) || cmd_keyless_write(cmd))) {
        dispatch_apply(w, q, now_ms);   /* FLUSHALL/FLUSHDB and nothing of the dataset: as a replica's */
        return -1;
    }
    int db = w->apply_db;
    int entry_db = wdb_use(w, db);
    cmd_ctx_t ctx = {
        .argc = q->argc, .argv = q->argv, .argvlen = q->argvlen, .reply = scratch, .ks = w->ks,
        .worker = w, .now_ms = now_ms, .from_master = true, .block_mode = CMD_BLOCK_NEVER,
        .acl_uid = w->exec_acl_uid,
    };
    const cmd_def_t *was = dispatch_swap_current_cmd(cmd);
    cmd->handler(&ctx);
    dispatch_swap_current_cmd(was);
    free(ctx.block_state);
    if (ctx.dirty) {
        /* owner-only writer, relaxed: a statistic */
        atomic_store_explicit(&w->stats.dirty, atomic_load_explicit(&w->stats.dirty, memory_order_relaxed) + ctx.dirty,
                              memory_order_relaxed);
    }
    scratch->len = 0;             /* nobody reads a loaded command's reply */
    wdb_use(w, entry_db);
    return db;
}

/* The inserts' cache misses (the bucket, then the first entry of its
 * chain) were most of a worker's time: as an RDB load does, the bucket of
 * the key PREFETCH_STEP * 2 commands on is fetched, and the chain's head of
 * the one PREFETCH_STEP on, so that the misses of several inserts overlap.
 * The keyspace is looked up at each step (a FLUSHALL or SWAPDB of the batch
 * may have replaced it) and never created here; a key's hash is the one its
 * insert computes again. */
enum { PREFETCH_STEP = 8, PREFETCH_RING = 2 * PREFETCH_STEP };

typedef struct prefetch {
    ks_keyref_t ref[PREFETCH_RING];
    bool has[PREFETCH_RING];
} prefetch_t;

static void prefetch_bucket(worker_t *w, const load_batch_t *b, prefetch_t *pf, int i)
{
    if (i >= b->ncmds) return;
    int k = i & (PREFETCH_RING - 1);
    const load_cmd_t *c = &b->cmds[i];
    struct keyspace *ks = w->db[w->apply_db].ks;
    pf->has[k] = c->key >= 0 && ks;
    if (!pf->has[k]) return;
    pf->ref[k] = ks_keyref(ks, b->argv[c->first + (size_t)c->key], b->argvlen[c->first + (size_t)c->key], -1);
    ks_prefetch_ref(ks, pf->ref[k]);
}

static void prefetch_chain(worker_t *w, const load_batch_t *b, const prefetch_t *pf, int i)
{
    int k = i & (PREFETCH_RING - 1);
    struct keyspace *ks = w->db[w->apply_db].ks;
    if (i < b->ncmds && pf->has[k] && ks) ks_prefetch_chain_ref(ks, pf->ref[k]);
}

static void batch_run(worker_t *w, rt_msg_t *msg)
{
    load_batch_t *b = (load_batch_t *)msg;
    worker_snap_enter(w);
    resp_buf_t scratch;
    resp_buf_init(&scratch, 2);
    prefetch_t pf;
    for (int i = 0; i < 2 * PREFETCH_STEP; i++) prefetch_bucket(w, b, &pf, i);
    int unpublished = -1;         /* the database run_one wrote in last, its figures not published yet */
    for (int i = 0; i < b->ncmds; i++) {
        prefetch_chain(w, b, &pf, i + PREFETCH_STEP);
        prefetch_bucket(w, b, &pf, i + 2 * PREFETCH_STEP);
        queued_cmd_t q = load_batch_cmd(b, i);
        if (wdb_apply_select(w, &q)) continue;   /* every worker gets the file's SELECTs */
        if (unpublished >= 0 && (unpublished != w->apply_db || q.cmd->exec == CMD_EXEC_FANOUT)) {
            publish_db(w, unpublished);
            unpublished = -1;
        }
        int db = run_one(w, &q, b->now_ms, &scratch);
        if (db >= 0) unpublished = db;
    }
    if (unpublished >= 0) publish_db(w, unpublished);
    resp_buf_free(&scratch);
    worker_snap_leave(w);
    load_batch_free(b);
}

void load_apply_one(worker_t *w, const queued_cmd_t *q, long long now_ms)
{
    resp_buf_t scratch;
    resp_buf_init(&scratch, 2);
    run_one(w, q, now_ms, &scratch);
    resp_buf_free(&scratch);
}

void load_batch_post(int wi, load_batch_t *b)
{
    b->run.hdr.type = WMSG_RUN;
    b->run.fn = batch_run;
    worker_post(wi, &b->run.hdr);
}

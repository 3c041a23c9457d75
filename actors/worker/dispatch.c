/* dispatch.c - what happens to one parsed command: lookup, arity, auth,
 * MULTI queuing, cluster routing from the snapshot (MOVED, CROSSSLOT,
 * CLUSTERDOWN), and execution on the worker that owns the slot.
 *
 * Must never: execute a keyed command on a worker that does not own its slot,
 * or answer out of order on one connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "actors/persist/aof.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/failover/wpause.h"
#include "actors/persist/rdb_save.h"
#include "actors/repl/repl.h"
#include "actors/state/asm.h"
#include "actors/state/state.h"
#include "actors/worker/asm_lane.h"
#include "actors/worker/batch.h"
#include "actors/worker/blocking.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/evict.h"
#include "actors/worker/acl_gate.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/ldb_conn.h"
#include "actors/worker/migrate.h"
#include "actors/worker/notify.h"
#include "actors/worker/tracking.h"
#include "actors/worker/protect.h"
#include "actors/worker/pubsub.h"
#include "actors/worker/slowlog.h"
#include "actors/worker/latency.h"
#include "actors/worker/monitor.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/wdb.h"
#include "actors/worker/xcmd.h"
#include "actors/worker/xscript.h"
#include "actors/worker/xwait.h"
#include "proto/slot.h"
#include "proto/strnum.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

/* ---------------- argument copies ---------------- */

void queued_cmd_copy(queued_cmd_t *dst, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    size_t bytes = 0;
    for (int i = 0; i < argc; i++) bytes += argvlen[i] + 1;
    size_t head = (size_t)argc * (sizeof(uint8_t *) + sizeof(size_t));
    char *blob = xmalloc(head + bytes + 1);
    dst->cmd = cmd;
    dst->argc = argc;
    dst->argv = (const uint8_t **)blob;
    dst->argvlen = (size_t *)(blob + (size_t)argc * sizeof(uint8_t *));
    char *p = blob + head;
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i], argvlen[i]);
        p[argvlen[i]] = '\0';           /* handy for handlers parsing numbers */
        dst->argv[i] = (const uint8_t *)p;
        dst->argvlen[i] = argvlen[i];
        p += argvlen[i] + 1;
    }
}

void queued_cmd_free(queued_cmd_t *q)
{
    free((void *)q->argv);
    q->argv = NULL;
    q->argvlen = NULL;
    q->argc = 0;
}

/* ---------------- naming helpers ---------------- */

/* "get" or "cluster|nodes", as Redis prints a command's full name. */
void dispatch_full_name(const cmd_def_t *cmd, char *out, size_t cap)
{
    if (cmd->parent) snprintf(out, cap, "%s|%s", cmd->parent->name, cmd->name);
    else snprintf(out, cap, "%s", cmd->name);
}

static void reply_arity_error(resp_buf_t *r, const cmd_def_t *cmd)
{
    char name[96];
    dispatch_full_name(cmd, name, sizeof name);
    resp_add_errorf(r, "ERR wrong number of arguments for '%s' command", name);
}

/* User input quoted in an error, as Redis does it: raw bytes up to the
 * first NUL (the writer turns CR/LF into spaces). */
static void printable_copy(char *out, size_t cap, const uint8_t *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap && s[i]; i++) out[k++] = (char)s[i];
    out[k] = '\0';
}

static void reply_unknown_command(resp_buf_t *r, int argc, const uint8_t **argv, const size_t *argvlen)
{
    char name[129], args[256] = "";
    printable_copy(name, sizeof name, argv[0], argvlen[0] > 128 ? 128 : argvlen[0]);
    size_t used = 0;
    for (int i = 1; i < argc && used < 128; i++) {
        char a[129];
        size_t room = 128 - used;
        printable_copy(a, sizeof a, argv[i], argvlen[i] > room ? room : argvlen[i]);
        used += (size_t)snprintf(args + used, sizeof args - used, "'%s' ", a);
    }
    resp_add_errorf(r, "ERR unknown command '%s', with args beginning with: %s", name, args);
}

/* ---------------- routing ---------------- */

bool dispatch_same_worker_standalone(int a, int b)
{
    /* Without cluster mode slots only say which worker keeps a key: keys of
     * different slots on one worker can be used together, as in Redis. Keys
     * on different workers still cannot (one command runs on one worker). */
    return !config_cluster_enabled() && worker_of_slot((unsigned)a) == worker_of_slot((unsigned)b);
}

enum { ROUTE_NOKEYS = 0, ROUTE_SLOT = 1, ROUTE_ERROR = 2, ROUTE_XCMD = 3 };

/* Decides where a command runs. On ROUTE_SLOT *slot_out is the slot; on
 * ROUTE_ERROR `err` holds the error text for the client; ROUTE_XCMD (only
 * without cluster mode) means keys on several workers, run by xcmd.c with
 * those workers parked, as one call. */
static int route(worker_t *w, client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                 const size_t *argvlen, int *slot_out, char *err, size_t errcap)
{
    int stack[512];
    int *pos = stack;
    /* Every key counts (MSET with thousands of keys): one past 512 on
     * another worker must not be run on the first key's. */
    if (argc > 512) pos = xmalloc(sizeof(int) * (size_t)argc);
    int nkeys = cmd_get_keys(cmd, argc, argv, argvlen, pos, argc > 512 ? argc : 512);
    if (nkeys <= 0) {
        if (pos != stack) free(pos);
        return ROUTE_NOKEYS;
    }
    unsigned slot = slot_of_key(argv[pos[0]], argvlen[pos[0]]);
    /* An unserved first slot is reported before any CROSSSLOT, as Redis does. */
    if (config_cluster_enabled() && w->cur->slot_owner[slot] < 0) {
        if (pos != stack) free(pos);
        snprintf(err, errcap, "CLUSTERDOWN Hash slot not served");
        return ROUTE_ERROR;
    }
    bool spans = false;
    for (int i = 1; i < nkeys && !spans; i++) {
        unsigned s = slot_of_key(argv[pos[i]], argvlen[pos[i]]);
        if (s != slot && !dispatch_same_worker_standalone((int)s, (int)slot)) {
            /* MIGRATE talks to its target after the call returns, from the
             * keys' worker: it cannot run with other workers parked. */
            if (!config_cluster_enabled() && !(cmd->flags & CMD_SUSPENDS)) {
                spans = true;
                continue;
            }
            if (pos != stack) free(pos);
            snprintf(err, errcap, "CROSSSLOT Keys in request don't hash to the same slot");
            return ROUTE_ERROR;
        }
    }
    if (pos != stack) free(pos);
    /* SORT ... BY w_* reads keys of any worker: it runs with them parked */
    if (!spans && xcmd_reads_any_key(cmd, argc, argv, argvlen)) spans = true;
    *slot_out = (int)slot;
    uint32_t flags = cmd_call_flags(cmd, argc, argv, argvlen);
    if (!config_cluster_enabled()) {
        /* Every key is ours; a replica (REPLICAOF) refuses writes, as a
         * read-only Redis replica does, instead of redirecting them. */
        if ((flags & CMD_WRITE) && (w->cur->nodes[w->cur->myself].flags & NODE_SLAVE)) {
            snprintf(err, errcap, "READONLY You can't write against a read only replica.");
            return ROUTE_ERROR;
        }
        return spans ? ROUTE_XCMD : ROUTE_SLOT;
    }
    const cluster_snapshot_t *s = w->cur;
    int owner = s->slot_owner[slot];
    if (owner < 0) {
        snprintf(err, errcap, "CLUSTERDOWN Hash slot not served");
        return ROUTE_ERROR;
    }
    if (!s->state_ok) {
        if (!config_cluster_allow_reads_when_down()) {
            snprintf(err, errcap, "CLUSTERDOWN The cluster is down");
            return ROUTE_ERROR;
        }
        if (flags & CMD_WRITE) {
            snprintf(err, errcap, "CLUSTERDOWN The cluster is down and only accepts read commands");
            return ROUTE_ERROR;
        }
    }
    const node_view_t *me = &s->nodes[s->myself];
    if (owner == s->myself) return ROUTE_SLOT;
    /* Importing slot and the client said ASKING: serve here. MIGRATE runs
     * here on an importing slot whatever the flag (step 7: keys must be
     * free to move back, as `redis-cli --cluster fix` does). */
    if (s->importing_from[slot] >= 0 &&
        ((c && (c->flags & CLIENT_ASKING)) || (cmd->flags & CMD_ASKING) ||
         (cmd->parent == NULL && !strcmp(cmd->name, "migrate"))))
        return ROUTE_SLOT;
    /* A slot migration's lane reaching the slots it imports (state/asm.h). */
    if (c && (c->flags & CLIENT_ASM_LANE) && asm_slot_hidden(slot)) return ROUTE_SLOT;
    /* A READONLY client on a replica, reading its master's slot. */
    if (c && (c->flags & CLIENT_READONLY) && !(flags & CMD_WRITE) && (me->flags & NODE_SLAVE) &&
        me->master == owner)
        return ROUTE_SLOT;
    const node_view_t *o = &s->nodes[owner];
    snprintf(err, errcap, "MOVED %u %s:%d", slot, dispatch_endpoint(o), dispatch_port(c, o));
    return ROUTE_ERROR;
}

/* One command's check before it runs here: on refusal the error is its reply. */
static bool open_slot_ok(worker_t *w, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                         const size_t *argvlen, resp_buf_t *reply)
{
    if (w->cur->open_slots == 0 || cmd->exec != CMD_EXEC_KEYED) return true;
    queued_cmd_t q = { .cmd = cmd, .argc = argc, .argv = argv, .argvlen = (size_t *)argvlen };
    char err[256];
    if (dispatch_open_slot_check(w, &q, 1, err, sizeof err)) return true;
    resp_add_error(reply, err);
    stats_note_rejected(w, cmd, err);
    return false;
}

/* The owner check at run time, on the worker that keeps the slot's keys.
 * Routing decided with the routing worker's snapshot; a SETSLOT NODE (or a
 * failover, an UPDATE) published since may have given the slot away, and
 * a write run now would leave a key on a node that no longer serves it.
 * Only when the snapshot changed since routing (versions differ) is the
 * first key's slot looked at again; the rules are route()'s, except that
 * an open import lets the command through (ASKING is not known here, and
 * open_slot_ok judges that case). False with the error (-MOVED or
 * -CLUSTERDOWN) in err when refused. */
static bool owner_check(worker_t *w, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                        uint64_t routed_version, char *err, size_t errcap)
{
    const cluster_snapshot_t *s = w->cur;
    if (routed_version == s->version || cmd->exec != CMD_EXEC_KEYED || !config_cluster_enabled()) return true;
    int pos[1];
    if (cmd_get_keys(cmd, argc, argv, argvlen, pos, 1) <= 0) return true;
    unsigned slot = slot_of_key(argv[pos[0]], argvlen[pos[0]]);
    int owner = s->slot_owner[slot];
    if (owner == s->myself || s->importing_from[slot] >= 0 || asm_slot_hidden(slot)) return true;
    const node_view_t *me = &s->nodes[s->myself];
    if (owner >= 0 && !(cmd->flags & CMD_WRITE) && (me->flags & NODE_SLAVE) && me->master == owner) return true;
    if (owner < 0) {
        snprintf(err, errcap, "CLUSTERDOWN Hash slot not served");
    } else {
        const node_view_t *o = &s->nodes[owner];
        snprintf(err, errcap, "MOVED %u %s:%d", slot, dispatch_endpoint(o), o->port);
    }
    return false;
}

/* owner_check for one command; on refusal the error is its reply. */
static bool owner_still_ok(worker_t *w, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                           const size_t *argvlen, resp_buf_t *reply, uint64_t routed_version)
{
    char err[256];
    if (owner_check(w, cmd, argc, argv, argvlen, routed_version, err, sizeof err)) return true;
    resp_add_error(reply, err);
    stats_note_rejected(w, cmd, err);
    return false;
}

bool dispatch_txn_owner_ok(worker_t *w, const queued_cmd_t *cmds, int n, uint64_t routed_version, char *err,
                           size_t errcap)
{
    if (routed_version == 0 || !config_cluster_enabled()) return true;
    /* The usual case, a transaction run right after its routing: nothing
     * published since, nothing to look at. */
    worker_snap_enter(w);
    bool same = w->cur->version == routed_version;
    worker_snap_leave(w);
    if (same) return true;
    for (int i = 0; i < n; i++) {
        const queued_cmd_t *q = &cmds[i];
        if (q->cmd->exec != CMD_EXEC_KEYED) continue;
        int pos[1];
        if (cmd_get_keys(q->cmd, q->argc, q->argv, q->argvlen, pos, 1) <= 0) continue;
        /* May run outside a read section (a part that came back): one of
         * our own, as sections nest. */
        worker_snap_enter(w);
        bool ok = owner_check(w, q->cmd, q->argc, q->argv, q->argvlen, routed_version, err, errcap);
        worker_snap_leave(w);
        return ok;
    }
    return true;
}

const char *dispatch_endpoint(const node_view_t *n)
{
    int type = config_cluster_preferred_endpoint_type();
    if (type == CONFIG_ENDPOINT_HOSTNAME) return n->hostname[0] ? n->hostname : "?";
    if (type == CONFIG_ENDPOINT_UNKNOWN) return "";
    return n->ip;
}

/* ---------------- execution ---------------- */

/* The command being dispatched on this thread (for handlers that forward themselves). */
static __thread const cmd_def_t *current_cmd;
/* How long the last call run on this thread took (dispatch_last_call_usec). */
static __thread long long last_call_usec;

long long dispatch_last_call_usec(void) { return last_call_usec; }

/* Runs cmd here. `blk` (may be NULL: a call that never waits) gives a
 * blocking command its mode and takes back what it waits for. */
static void run_here(worker_t *w, client_t *c, uint64_t cid, const cmd_def_t *cmd, int argc,
                     const uint8_t **argv, const size_t *argvlen, resp_buf_t *reply, long long now_ms,
                     bool from_master, dispatch_block_t *blk)
{
    /* a client's command runs in its database (wdb.h); a call without one
     * (a script's, a batch's) in the worker's current one */
    int entry_db = w->cur_db;
    if (c && c->db != entry_db) wdb_use(w, c->db);
    cmd_ctx_t ctx = {
        .argc = argc, .argv = argv, .argvlen = argvlen, .reply = reply, .ks = w->ks,
        .client = c, .worker = w, .now_ms = now_ms, .from_master = from_master,
        .block_mode = blk ? blk->mode : CMD_BLOCK_NEVER, .serve_arg = blk ? blk->serve_arg : 0,
        .resume = blk ? blk->resume : NULL,
        .acl_uid = c ? c->acl_uid : w->exec_acl_uid, .routed_id = cid,
    };
    size_t start = reply->len;
    /* A write to a slot being handed over that was routed before the pause
     * began: refused with -MOVED to the new owner (asm_lane.h). */
    if (asm_lane_any(w) && !from_master && asm_lane_refuse(w, cmd, argc, argv, argvlen, reply)) {
        if (blk) {
            blk->blocked = false;
            blk->suspend = NULL;
        }
        stats_note_call(w, cmd, 0, reply, start);
        return;
    }
    int trk_remember;   /* whether a read is remembered (client-side caching) travels with the id */
    cid = tracking_before_command(w, cid, &trk_remember);
    const cmd_def_t *saved = current_cmd;
    current_cmd = cmd;
    /* Timed on the wall clock, as 7.0.15's call() times commands (ustime);
     * a step back of the clock counts as 0 us. */
    long long t0 = rt_now_us();
    if (now_ms == DISPATCH_NOW_AT_CALL) ctx.now_ms = t0 / 1000;
    /* maxmemory: this partition gives back its share first (evict.h); not
     * for a command polled during a busy script (busy.c), as 7.0.15 evicts
     * nothing inside a yielding script */
    if (!from_master && !w->busy_polling && evict_maxmemory() > 0) evict_perform(w);
    notify_pre_t npre;            /* keyspace notifications: which keys exist before (notify.h) */
    notify_before(w->ks, cmd, argc, argv, argvlen, ctx.now_ms, reply, &npre);
    uint64_t trk_existed = tracking_before_write(cmd, &ctx);   /* DEL's keys found (client-side caching) */
    uint64_t unwritten = multi_keys_left_alone(cmd, &ctx);     /* SMOVE's kept destination (WATCH) */
    cmd->handler(&ctx);
    if (npre.on) notify_after(w->ks, cmd, &ctx, &npre);
    current_cmd = saved;
    long long usec = rt_now_us() - t0;
    if (usec < 0) usec = 0;
    if (ctx.dirty) {
        /* owner-only writer, relaxed: a statistic */
        atomic_store_explicit(&w->stats.dirty, atomic_load_explicit(&w->stats.dirty, memory_order_relaxed) + ctx.dirty,
                              memory_order_relaxed);
        /* FLUSHALL/FLUSHDB (the fan-out writes) touched the keys they emptied */
        if (cmd->exec != CMD_EXEC_FANOUT) multi_bump_key_versions(w, cmd, argc, argv, argvlen, unwritten);
        /* relaxed: read by INFO and by CLUSTER RESET/FLUSHSLOTS/REPLICATE, which
         * learn of this command through a later message (release/acquire chain) */
        wdb_publish_current(w);
        /* relaxed: the flag only turns on in the replication actor's cut, which
         * every worker passes through (a message) before it matters */
        if (!from_master && repl_worker_propagates(w->ks))
            repl_propagate_effect(w->repl, w->ks, cmd, &ctx);
        /* and to the target of a slot migration, for a slot whose keys went */
        if (!from_master && asm_lane_any(w)) asm_lane_note_write(w, cmd, &ctx);
        if (cmd->exec == CMD_EXEC_FANOUT && (cmd->flags & CMD_WRITE)) tracking_flushed(w);
        if (cmd->exec == CMD_EXEC_KEYED) {
            blocking_note_write(w, cmd, argc, argv, argvlen);
            xwait_note_write(w, cmd, argc, argv, argvlen);   /* waits over several workers (xwait.c) */
        }
    }
    if (blk) {
        blk->blocked = ctx.blocked;
        blk->first = ctx.block_first;
        blk->nkeys = ctx.block_nkeys;
        blk->timeout_ms = ctx.block_timeout_ms;
        blk->suspend = ctx.suspend;
        blk->state = ctx.blocked ? ctx.block_state : NULL;
    }
    if (!ctx.blocked) free(ctx.block_state);
    /* a call that waits is counted once, when it answers */
    if (!ctx.blocked && !ctx.suspend) {
        /* a call that ends later (DEBUG SLEEP) is counted then, with its
         * whole duration (slowlog_remote_done) */
        if (ctx.rejected) stats_note_rejected_reply(w, cmd, reply, start);
        else if (ctx.error_counted) stats_note_call_counted(w, cmd, usec);
        else if (!ctx.slowlog_later) stats_note_call(w, cmd, usec, reply, start);
        /* the slow log of the client's worker; a call for a client of
         * another worker is logged there when its reply arrives (batch.c) */
        if (c && !ctx.slowlog_later && !ctx.rejected && slowlog_wants(usec))
            slowlog_push(c, cmd, argc, argv, argvlen, usec, -1);
        latency_note((cmd->flags & CMD_FAST) ? "fast-command" : "command", usec / 1000);
    }
    last_call_usec = (ctx.slowlog_later || ctx.blocked || ctx.suspend) ? -1 : usec;
    tracking_after_command(w, cid, trk_remember, cmd, &ctx, trk_existed);
    if (ctx.ks && !w->busy_polling) worker_publish_ks_stats(w);   /* busy.c: maybe in another's session */
    /* back to the caller's database, but a script's SELECT holds for the rest of its script */
    if (w->cur_db != entry_db && (c || cmd->handler != cmd_select)) wdb_use(w, entry_db);
    if (cid) worker_woff_note(w, cid);   /* after its effect was buffered */
    blocking_after_command(w);    /* serves clients waiting on keys this call filled */
}

void dispatch_run_blocking(worker_t *w, int db, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                           const size_t *argvlen, resp_buf_t *reply, long long now_ms, dispatch_block_t *blk)
{
    int entry_db = wdb_use(w, db);
    run_here(w, NULL, 0, cmd, argc, argv, argvlen, reply, now_ms, false, blk);
    wdb_use(w, entry_db);
}

void dispatch_run_local(worker_t *w, client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                        const size_t *argvlen, resp_buf_t *reply, long long now_ms)
{
    run_here(w, c, c ? tracking_route_id(c) : 0, cmd, argc, argv, argvlen, reply, now_ms, false, NULL);
}

void dispatch_run_for(worker_t *w, uint64_t client_id, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                      const size_t *argvlen, resp_buf_t *reply, long long now_ms)
{
    run_here(w, NULL, client_id, cmd, argc, argv, argvlen, reply, now_ms, false, NULL);
}

void dispatch_run_routed(worker_t *w, uint64_t client_id, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                         const size_t *argvlen, resp_buf_t *reply, long long now_ms, uint64_t routed_version)
{
    if (owner_still_ok(w, cmd, argc, argv, argvlen, reply, routed_version) &&
        open_slot_ok(w, cmd, argc, argv, argvlen, reply))
        run_here(w, NULL, client_id, cmd, argc, argv, argvlen, reply, now_ms, false, NULL);
}

static void apply_in_db(worker_t *w, const queued_cmd_t *q, long long now_ms)
{
    if (q->cmd->exec == CMD_EXEC_FANOUT) {
        /* FLUSHALL/FLUSHDB from the master: this worker's share. */
        if (q->cmd->flags & CMD_WRITE) {
            if (!strcasecmp(q->cmd->name, "flushall")) wdb_flush_all(w, false);
            else worker_flush_keyspace(w, false);   /* FLUSHDB: the current database */
        }
        return;
    }
    if ((q->cmd->exec != CMD_EXEC_KEYED || !q->cmd->handler) && !cmd_keyless_write(q->cmd)) return;
    resp_buf_t scratch;
    resp_buf_init(&scratch, 2);
    run_here(w, NULL, 0, q->cmd, q->argc, q->argv, q->argvlen, &scratch, now_ms, true, NULL);
    resp_buf_free(&scratch);
}

void dispatch_apply(worker_t *w, const queued_cmd_t *q, long long now_ms)
{
    if (wdb_apply_select(w, q)) return;   /* every worker gets the stream's SELECTs */
    int entry_db = wdb_use(w, w->apply_db);
    apply_in_db(w, q, now_ms);
    wdb_use(w, entry_db);
}

/* Runs every command of a batch on this worker (the executing side). */
void dispatch_execute_batch(worker_t *w, remote_cmd_t *rc)
{
    if (rc->is_exec && rc->routed_version) {
        /* As a single command is (dispatch_run_routed), and first: 7.0.15
         * routes EXEC before it looks at open slots or WATCHed keys. */
        char err[256];
        if (!dispatch_txn_owner_ok(w, rc->cmds, rc->ncmds, rc->routed_version, err, sizeof err)) {
            resp_add_error(&rc->reply, err);
            rc->route_failed = true;
            return;
        }
    }
    if ((rc->is_exec || rc->queue_check) && rc->ncheck > 0) {
        /* Before the WATCH check, as 7.0.15 routes EXEC before running it. */
        char err[256];
        if (!dispatch_open_slot_check(w, rc->check_cmds, rc->ncheck, err, sizeof err)) {
            resp_add_error(&rc->reply, err);
            rc->route_failed = true;
            return;
        }
        if (rc->queue_check) {
            resp_add_simple(&rc->reply, "QUEUED");
            return;
        }
    }
    if (rc->is_exec && rc->watch.n > 0 && !watch_list_ok(&rc->watch, rt_now_ms(), 1ULL << w->index)) {
        rc->watch_failed = true;
        return;
    }
    int entry_db = wdb_use(w, rc->db);
    if (rc->is_exec) txn_part_begin(w, rc);   /* several effects go out as MULTI ... EXEC */
    blocking_hold(w, true);       /* a transaction serves waiting clients once, at its end */
    if (rc->is_exec && rc->ncmds > 0 && !rc->usecs) rc->usecs = xmalloc(sizeof *rc->usecs * (size_t)rc->ncmds);
    w->exec_acl_uid = rc->acl_uid;
    for (int i = 0; i < rc->ncmds; i++) {
        queued_cmd_t *q = &rc->cmds[i];
        dispatch_run_for(w, rc->client_id, q->cmd, q->argc, q->argv, q->argvlen, &rc->reply, rc->now_ms);
        if (rc->usecs) rc->usecs[i] = last_call_usec;
    }
    w->exec_acl_uid = 0;
    if (rc->is_exec) txn_part_end(w, rc);
    wdb_use(w, entry_db);
    xscript_end(w);               /* a script of it reached other workers' keys: they go on now */
    blocking_hold(w, false);
}

/* Runs a keyed command of client c for worker `target` here, on the
 * target's keyspace, while the target's loop sleeps (docs/design.md §3.4,
 * "Borrowing a sleeping worker"): no message, no wake-up, and the reply
 * goes into c's own FIFO like a local one. False, with nothing done, when
 * the target is awake, has messages not yet handled (which may be earlier
 * commands: they must run first), has clients waiting on its keys, or we
 * hold commands for it in our outbox. */
static bool run_borrowed(client_t *c, int target, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                         const size_t *argvlen, long long now)
{
    worker_t *w = c->worker, *o = g_workers[target];
    if (w->outbox[target] || (cmd->flags & CMD_SCRIPT)) return false;
    if (!rt_thread_try_borrow(o->thread)) return false;
    /* Holding the token: o runs none of its code until we give it back, and
     * everything it did before it slept is visible (acquire). */
    /* A slot migration's lane on o writes to o's loop (asm_lane.h): only o may run it. */
    if (!rt_actor_mailbox_drained(&o->actor) || blocking_has_waiters(o) || asm_lane_any(o)) {
        rt_thread_unborrow(o->thread);
        return false;
    }
    resp_buf_t *reply = client_reply_target(c);
    worker_snap_enter(o);
    /* No client, as in a batch on o: the command sees o's keyspace only
     * (and a slot being moved is judged by the keys there). */
    if (owner_still_ok(o, cmd, argc, argv, argvlen, reply, w->cur->version) &&
        open_slot_ok(o, cmd, argc, argv, argvlen, reply))
    {
        o->exec_acl_uid = c->acl_uid;
        int entry_db = wdb_use(o, c->db);
        run_here(o, NULL, tracking_route_id(c), cmd, argc, argv, argvlen, reply, now, false, NULL);
        wdb_use(o, entry_db);
        o->exec_acl_uid = 0;
        /* on this thread, for the client of this worker: its slow log */
        if (last_call_usec >= 0 && slowlog_wants(last_call_usec))
            slowlog_push(c, cmd, argc, argv, argvlen, last_call_usec, -1);
    }
    worker_snap_leave(o);
    /* the stream has it before its reply leaves; AOF bytes: worker_write_scheduled */
    aof_defer_writes(true);
    repl_flush(o->repl);
    aof_defer_writes(false);
    if (ks_expires_count(o->ks) > 0) worker_cron_poke(o);   /* o's cron may be on its slow pace */
    rt_thread_unborrow(o->thread);
    return true;
}

/* Sends one keyed command to the worker owning `slot`, or runs it here. */
static void exec_at_slot(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                         const size_t *argvlen, int slot)
{
    worker_t *w = c->worker;
    int target = worker_of_slot((unsigned)slot);
    if (target == w->index) {
        resp_buf_t *reply = client_reply_target(c);
        if (open_slot_ok(w, cmd, argc, argv, argvlen, reply))
            dispatch_run_local(w, c, cmd, argc, argv, argvlen, reply, DISPATCH_NOW_AT_CALL);
        return;
    }
    if (run_borrowed(c, target, cmd, argc, argv, argvlen, DISPATCH_NOW_AT_CALL)) return;
    batch_add(w, target, client_defer_reply(c), cmd, argc, argv, argvlen, c->proto, rt_now_ms());
}

void dispatch_keyed_at(cmd_ctx_t *ctx, int slot)
{
    client_t *c = ctx->client;
    /* ctx->reply was picked by the caller as the client's reply target; a
     * command sent elsewhere must not leave an empty ready slot behind, so
     * the caller passes a target obtained lazily (see run_client_cmd). */
    exec_at_slot(c, dispatch_current_cmd(c), ctx->argc, ctx->argv, ctx->argvlen, slot);
}

remote_cmd_t *dispatch_defer(cmd_ctx_t *ctx, rt_actor_t *to, uint32_t msg_type)
{
    remote_cmd_t *rc = dispatch_defer_nosend(ctx, msg_type);
    rt_send(to, &rc->hdr);
    return rc;
}

remote_cmd_t *remote_cmd_new(client_t *c, int ncmds, reply_slot_t *slot, uint32_t msg_type, long long now_ms)
{
    remote_cmd_t *rc = xcalloc(1, sizeof *rc);
    rc->origin = c->worker;
    rc->proto = c->proto;
    rc->acl_uid = c->acl_uid;
    rc->db = c->db;
    rc->now_ms = now_ms;
    rc->ncmds = ncmds;
    rc->cmds = xcalloc((size_t)(ncmds ? ncmds : 1), sizeof *rc->cmds);
    resp_buf_init(&rc->reply, c->proto);
    rc->slot = slot;
    rc->hdr.type = msg_type;
    return rc;
}

remote_cmd_t *remote_cmd_one(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                             const size_t *argvlen, reply_slot_t *slot, uint32_t msg_type,
                             long long now_ms)
{
    remote_cmd_t *rc = remote_cmd_new(c, 1, slot, msg_type, now_ms);
    queued_cmd_copy(&rc->cmds[0], cmd, argc, argv, argvlen);
    return rc;
}

remote_cmd_t *dispatch_defer_nosend(cmd_ctx_t *ctx, uint32_t msg_type)
{
    client_t *c = ctx->client;
    remote_cmd_t *rc = remote_cmd_one(c, dispatch_current_cmd(c), ctx->argc, ctx->argv, ctx->argvlen,
                                      client_defer_reply(c), msg_type, ctx->now_ms);
    if (!rc->slot->txn_part) {
        /* Like Redis, which applies these before it reads the next command:
         * later commands of this client must see the change. */
        rc->slot->blocks_client = true;
        c->flags |= CLIENT_BLOCKED;
    }
    batch_flush(c->worker, -1);
    return rc;
}

const cmd_def_t *dispatch_current_cmd(client_t *c) { (void)c; return current_cmd; }

const cmd_def_t *dispatch_swap_current_cmd(const cmd_def_t *cmd)
{
    const cmd_def_t *was = current_cmd;
    current_cmd = cmd;
    return was;
}

/* Runs a command that executes on the client's own worker. The reply target
 * is taken lazily through a small wrapper buffer so that handlers which
 * forward or defer their reply leave nothing behind. */
static void run_client_cmd(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    worker_t *w = c->worker;
    resp_buf_t tmp;
    resp_buf_init(&tmp, c->proto);
    int pending_before = c->pending_count;
    reply_slot_t *tail_before = c->pending_tail;
    dispatch_run_local(w, c, cmd, argc, argv, argvlen, &tmp, rt_now_ms());
    if (c->flags & CLIENT_CLOSED) { resp_buf_free(&tmp); return; }
    if (tmp.len) {
        /* If the handler deferred part of its reply, its immediate bytes (if
         * any) belong before the deferred slot; handlers never do both. */
        (void)pending_before; (void)tail_before;
        resp_buf_t *out = client_reply_target(c);
        resp_buf_append(out, tmp.data, tmp.len);
    }
    resp_buf_free(&tmp);
}

static void reply_error_now(client_t *c, const cmd_def_t *cmd, const char *err)
{
    resp_add_error(client_reply_target(c), err);
    if (cmd) stats_note_rejected(c->worker, cmd, err);
    else stats_note_error_text(c->worker, err);
}

static bool is_cmd(const cmd_def_t *cmd, const char *name)
{
    return cmd->parent == NULL && strcmp(cmd->name, name) == 0;
}

/* Stage 1: finds the command (and subcommand) argv names and checks its
 * arity. Replies and returns NULL when there is nothing to run. */
static const cmd_def_t *resolve_command(client_t *c, int argc, const uint8_t **argv, const size_t *argvlen)
{
    worker_t *w = c->worker;
    const cmd_def_t *cmd = cmd_lookup(argv[0], argvlen[0]);
    if (!cmd) {
        resp_buf_t tmp;
        resp_buf_init(&tmp, c->proto);
        reply_unknown_command(&tmp, argc, argv, argvlen);
        resp_buf_append(client_reply_target(c), tmp.data, tmp.len);
        stats_note_error_text(w, "ERR");
        resp_buf_free(&tmp);
        return NULL;
    }
    if (cmd->subcommands && !(argc < 2 && cmd->handler)) {
        if (argc < 2) {
            reply_arity_error(client_reply_target(c), cmd);
            stats_note_rejected(w, cmd, "ERR");
            return NULL;
        }
        const cmd_def_t *sub = cmd_lookup_sub(cmd, argv[1], argvlen[1]);
        if (!sub) {
            char err[512], subname[129], upper[32];
            printable_copy(subname, sizeof subname, argv[1], argvlen[1] > 128 ? 128 : argvlen[1]);
            size_t k = 0;
            for (; cmd->name[k] && k < sizeof upper - 1; k++)
                upper[k] = (char)(cmd->name[k] >= 'a' && cmd->name[k] <= 'z' ? cmd->name[k] - 32 : cmd->name[k]);
            upper[k] = '\0';
            snprintf(err, sizeof err, "ERR unknown subcommand '%s'. Try %s HELP.", subname, upper);
            reply_error_now(c, NULL, err);
            return NULL;
        }
        cmd = sub;
    }
    if ((cmd->arity > 0 && argc != cmd->arity) || (cmd->arity < 0 && argc < -cmd->arity)) {
        reply_arity_error(client_reply_target(c), cmd);
        stats_note_rejected(w, cmd, "ERR");
        return NULL;
    }
    return cmd;
}

/* Inside MULTI: the commands that act on the transaction run, the others are
 * queued for EXEC (or refused, which dooms the EXEC). */
static void multi_command(client_t *c, const cmd_def_t *cmd, const cmd_def_t *top, int argc,
                          const uint8_t **argv, const size_t *argvlen)
{
    if (is_cmd(cmd, "exec") || is_cmd(cmd, "discard") || is_cmd(cmd, "multi") || is_cmd(cmd, "watch") ||
        is_cmd(cmd, "quit") || is_cmd(cmd, "reset")) {
        run_client_cmd(c, cmd, argc, argv, argvlen);
        return;
    }
    if ((cmd->flags & CMD_NO_MULTI) || (top->flags & CMD_NO_MULTI)) {
        reply_error_now(c, cmd, "ERR Command not allowed inside a transaction");
        c->flags |= CLIENT_DIRTY_EXEC;
        return;
    }
    multi_queue(c, cmd, argc, argv, argvlen);
}

/* Stage 4, after routing: a write needs no failover pause, a master, and
 * enough good replicas. Replies and returns false when cmd may not write. */
static bool write_allowed(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                          const size_t *argvlen)
{
    uint32_t flags = cmd_call_flags(cmd, argc, argv, argvlen);
    if (evict_refuses(c->worker->cur, flags & CMD_DENYOOM)) {
        reply_error_now(c, cmd, EVICT_OOM_ERROR);
        return false;
    }
    /* 7.0.15 refuses writes, and PING, while the last BGSAVE failed under
     * stop-writes-on-bgsave-error (MISCONF), after routing and before the
     * replica checks; the RDB's reason is checked before the AOF's. */
    if (((flags & CMD_WRITE) || cmd->handler == cmd_ping) && rdb_writes_denied()) {
        reply_error_now(c, cmd, RDB_MISCONF_ERROR);
        return false;
    }
    /* As 7.0.15's processCommand: after a failed AOF write a master refuses
     * writes and PING until a write succeeds again. */
    const char *misconf = aof_write_refusal();
    if (misconf && ((flags & CMD_WRITE) || is_cmd(cmd, "ping")) &&
        !(c->worker->cur->nodes[c->worker->cur->myself].flags & NODE_SLAVE)) {
        reply_error_now(c, cmd, misconf);
        return false;
    }
    if (!(flags & CMD_WRITE)) return !worker_stale_refused(c, cmd, flags);
    if (wpause_active()) {   /* manual failover pause (wpause.h) */
        reply_error_now(c, cmd, WPAUSE_ERROR);
        return false;
    }
    bool replica = c->worker->cur->nodes[c->worker->cur->myself].flags & NODE_SLAVE;
    if (replica) {
        /* A keyed write gets MOVED to the master by routing; one without keys
         * (FLUSHALL, ...) is refused, as on a read-only Redis replica. */
        int pos[1];
        if (cmd_get_keys(cmd, argc, argv, argvlen, pos, 1) == 0) {
            reply_error_now(c, cmd, "READONLY You can't write against a read only replica.");
            return false;
        }
    }
    if (!replica && !repl_enough_good_replicas()) {
        reply_error_now(c, cmd, "NOREPLICAS Not enough good replicas to write.");
        return false;
    }
    return !worker_stale_refused(c, cmd, flags);
}

/* pubsub_context_refusal, replied. */
static bool pubsub_context_refuses(client_t *c, const cmd_def_t *cmd)
{
    char err[256];
    if (!pubsub_context_refusal(c, cmd, err, sizeof err)) return false;
    reply_error_now(c, cmd, err);
    return true;
}

/* Which marks make WAIT's target after this call (client.h, woff_workers):
 * a keyed command run by the worker of its slot, or a command without keys
 * that does not write, run here, is noted by that one worker (run_here); a
 * command split over workers, a blocking or suspending one (its effect comes
 * later), a fan-out or a writing command run elsewhere takes the whole
 * stream, as before marks existed. */
static void woff_after_call(client_t *c, const cmd_def_t *cmd, int rt, int slot)
{
    bool keyed = cmd->exec == CMD_EXEC_KEYED;
    if (keyed && rt == ROUTE_SLOT && !(cmd->flags & (CMD_BLOCKING | CMD_SUSPENDS)))
        c->woff_workers |= 1ull << worker_of_slot((unsigned)slot);
    else if ((cmd->exec == CMD_EXEC_CLIENT || (keyed && rt == ROUTE_NOKEYS)) && !(cmd->flags & CMD_WRITE))
        c->woff_workers |= 1ull << c->worker->index;
    else
        c->woff_whole = true;
}

void dispatch_command(client_t *c, int argc, const uint8_t **argv, size_t *argvlen)
{
    const cmd_def_t *cmd = resolve_command(c, argc, argv, argvlen);
    if (!cmd) {
        if (c->flags & CLIENT_MULTI) c->flags |= CLIENT_DIRTY_EXEC;
        return;
    }
    const cmd_def_t *top = cmd->parent ? cmd->parent : cmd;
    c->last_cmd_def = cmd;
    /* Stage 2: may this client run it (acl_gate.h) */
    if (!acl_gate_admit_command(c, cmd, top, argc, argv, argvlen)) return;
    /* While dump.rdb loads (start, DEBUG RELOAD) only commands flagged "loading" run, as 7.0.15
     * answers the others with -LOADING; a replica's swapdb load refuses those flagged no_async_loading. */
    if ((!(cmd->flags & CMD_LOADING) && rdb_load_refusing()) ||
        ((cmd->flags & CMD_NO_ASYNC_LOADING) && rdb_loading_async())) {
        reply_error_now(c, cmd, RDB_LOADING_ERROR);
        if (c->flags & CLIENT_MULTI) c->flags |= CLIENT_DIRTY_EXEC;
        return;
    }
    current_cmd = cmd;

    if (c->flags & CLIENT_MULTI) {
        const char *oom = multi_oom_refusal(c, cmd);
        if (oom) {
            reply_error_now(c, cmd, oom);
            return;
        }
        /* 7.0.15 sets woff (WAIT's target) after each command it calls, not
         * after one it queues; marking a refused one too only raises the
         * target, which WAIT may do (it never lowers it below the truth). */
        bool queued = !is_cmd(cmd, "exec") && !is_cmd(cmd, "discard") && !is_cmd(cmd, "multi") &&
                      !is_cmd(cmd, "watch") && !is_cmd(cmd, "quit") && !is_cmd(cmd, "reset");
        if (!queued && monitor_any()) monitor_feed_in_multi(c, cmd, argc, argv, argvlen);
        multi_command(c, cmd, top, argc, argv, argvlen);
        if (!queued) c->woff_whole = true;   /* EXEC: its parts ran wherever their keys are */
        /* ASKING lasts as long as the transaction (7.0.15's resetClient). */
        if (!(c->flags & CLIENT_MULTI)) c->flags &= ~CLIENT_ASKING;
        return;
    }
    if (is_cmd(cmd, "watch")) {   /* keyed in the table, but it acts on the client */
        if (pubsub_context_refuses(c, cmd)) return;
        run_client_cmd(c, cmd, argc, argv, argvlen);
        c->woff_workers |= 1ull << c->worker->index;
        return;
    }

    /* Stage 3: which worker owns the keys (or a redirection). */
    int slot = -1;
    int rt = ROUTE_NOKEYS;
    if (cmd->exec == CMD_EXEC_KEYED) {
        char err[512];
        rt = route(c->worker, c, cmd, argc, argv, argvlen, &slot, err, sizeof err);
        if (rt == ROUTE_ERROR) {
            reply_error_now(c, cmd, err);
            c->flags &= ~CLIENT_ASKING;
            return;
        }
    }
    if (!write_allowed(c, cmd, argc, argv, argvlen)) return;
    if (pubsub_context_refuses(c, cmd)) {
        c->flags &= ~CLIENT_ASKING;
        return;
    }

    /* Stage 5: run it where it belongs (and show it to the monitors: what
     * 7.0.15 calls, it shows). */
    if (monitor_any()) monitor_feed(c, cmd, argc, argv, argvlen);
    switch (cmd->exec) {
    case CMD_EXEC_KEYED:   /* a debugger's EVAL runs with its client: here, when its keys are elsewhere (ldb_conn.h) */
        if ((c->flags & CLIENT_LUA_DEBUG) && ldb_conn_keys_away(c, cmd, rt == ROUTE_XCMD, rt == ROUTE_SLOT ? slot : -1))
            run_client_cmd(c, cmd, argc, argv, argvlen);
        else if (rt == ROUTE_XCMD) xcmd_dispatch(c, cmd, argc, argv, argvlen);
        else if (rt == ROUTE_SLOT && (cmd->flags & CMD_BLOCKING)) blocking_send(c, cmd, argc, argv, argvlen, slot);
        else if (rt == ROUTE_SLOT && (cmd->flags & CMD_SUSPENDS)) migrate_send(c, cmd, argc, argv, argvlen, slot);
        else if (rt == ROUTE_SLOT) exec_at_slot(c, cmd, argc, argv, argvlen, slot);
        else run_client_cmd(c, cmd, argc, argv, argvlen);
        break;
    case CMD_EXEC_CLIENT:
        run_client_cmd(c, cmd, argc, argv, argvlen);
        break;
    case CMD_EXEC_FANOUT:
        dispatch_fanout(c, cmd, argc, argv, argvlen);
        break;
    }
    /* After the call: WAIT read the marks as they were before it (cmd_wait). */
    woff_after_call(c, cmd, rt, slot);
    if (!is_cmd(cmd, "asking") && !(c->flags & CLIENT_MULTI)) c->flags &= ~CLIENT_ASKING;
}

/* Routing check for a command being queued inside MULTI; returns false (and
 * replies) when it must be rejected. Records the transaction's slot. */
bool dispatch_route_for_multi(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                              const size_t *argvlen, int *slot_out)
{
    char err[512];
    int slot = -1;
    *slot_out = -1;
    if (cmd->exec != CMD_EXEC_KEYED) return true;
    int rt = route(c->worker, c, cmd, argc, argv, argvlen, &slot, err, sizeof err);
    if (rt == ROUTE_ERROR) {
        reply_error_now(c, cmd, err);
        return false;
    }
    /* Like Redis, each queued command is checked alone; keys of different
     * commands are compared when EXEC runs. -2: keys on several workers. */
    if (rt == ROUTE_SLOT) *slot_out = slot;
    else if (rt == ROUTE_XCMD) *slot_out = -2;
    return true;
}

/* Re-checks routing of a whole queued transaction at EXEC time. */
bool dispatch_route_check_exec(client_t *c, char *err, size_t errcap)
{
    int slot = -1;
    bool multi = false;
    for (int i = 0; i < c->mq_len; i++) {
        queued_cmd_t *q = &c->mq[i];
        if (q->cmd->exec != CMD_EXEC_KEYED) continue;
        int s = -1;
        int rt = route(c->worker, c, q->cmd, q->argc, q->argv, q->argvlen, &s, err, errcap);
        if (rt == ROUTE_ERROR) return false;
        if (rt == ROUTE_XCMD) {
            multi = true;
        } else if (rt == ROUTE_SLOT) {
            if (slot >= 0 && s != slot && !dispatch_same_worker_standalone(s, slot)) {
                if (config_cluster_enabled()) {
                    snprintf(err, errcap, "CROSSSLOT Keys in request don't hash to the same slot");
                    return false;
                }
                multi = true;
            }
            if (slot < 0) slot = s;
        }
    }
    /* -2: standalone, keys on several workers; EXEC parks them (xcmd.c). */
    c->multi_slot = multi ? -2 : slot;
    return true;
}

/* cmd_server.c - connection and server commands that run on the client's own
 * worker: PING, ECHO, QUIT, HELLO, SELECT, AUTH, ASKING, READONLY, READWRITE,
 * CLIENT *, CONFIG *, DEBUG, TIME, LASTSAVE, SHUTDOWN, ROLE, and the
 * replication/pubsub entries that later issues complete.
 *
 * Must never: touch another worker's clients (CLIENT LIST/KILL of other
 * workers' connections go through worker messages in client_cmds.c).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "actors/bus/gossip.h"
#include "actors/bus/link.h"
#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/commands/debug_cmds.h"
#include "actors/commands/script.h"
#include "actors/state/asm.h"
#include "actors/config/config.h"
#include "actors/persist/aof.h"
#include "actors/persist/rdb_save.h"
#include "actors/persist/rdb_load.h"
#include "actors/repl/repl.h"
#include "actors/repl/repl_replica.h"
#include "actors/persist/persister.h"
#include "actors/shutdown.h"
#include "actors/state/state.h"
#include "actors/acl/acl.h"
#include "actors/worker/acl_gate.h"
#include "actors/worker/client.h"
#include "actors/worker/wdb.h"
#include "actors/worker/dispatch.h"
#include "actors/bus/link_place.h"
#include "actors/worker/placement.h"
#include "actors/worker/protect.h"
#include "actors/worker/stats.h"
#include "proto/strnum.h"
#include "runtime/log.h"

#define SHOAL_REDIS_VERSION "7.0.15"

void cmd_ping(cmd_ctx_t *ctx)
{
    if (ctx->argc > 2) {
        resp_add_error(ctx->reply, "ERR wrong number of arguments for 'ping' command");
        return;
    }
    if (ctx->client && (ctx->client->flags & CLIENT_PUBSUB) && ctx->client->proto == 2) {
        /* a subscriber in RESP2 reads pushes: PING answers in their shape */
        resp_add_array(ctx->reply, 2);
        resp_add_bulk(ctx->reply, "pong", 4);
        resp_add_bulk(ctx->reply, ctx->argc == 2 ? ctx->argv[1] : (const uint8_t *)"", ctx->argc == 2 ? ctx->argvlen[1] : 0);
        return;
    }
    if (ctx->argc == 2) resp_add_bulk(ctx->reply, ctx->argv[1], ctx->argvlen[1]);
    else resp_add_simple(ctx->reply, "PONG");
}

void cmd_echo(cmd_ctx_t *ctx) { resp_add_bulk(ctx->reply, ctx->argv[1], ctx->argvlen[1]); }

void cmd_quit(cmd_ctx_t *ctx)
{
    resp_add_simple(ctx->reply, "OK");
    if (ctx->client) ctx->client->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

void cmd_select(cmd_ctx_t *ctx)
{
    long long db;
    if (!arg_int_at(ctx, 1, &db)) return;
    if (config_cluster_enabled() && db != 0) {
        resp_add_error(ctx->reply, "ERR SELECT is not allowed in cluster mode");
        return;
    }
    if (db < 0 || db >= wdb_count()) {
        resp_add_error(ctx->reply, "ERR DB index is out of range");
        return;
    }
    /* A client's database; inside a script (no client) the script's, for
     * its later calls only (wdb.h, dispatch.c) */
    if (ctx->client) ctx->client->db = (int)db;
    else if (ctx->worker) wdb_use(ctx->worker, (int)db);
    resp_add_simple(ctx->reply, "OK");
}

void cmd_auth(cmd_ctx_t *ctx)
{
    client_t *c = ctx->client;
    if (ctx->argc > 3) {
        resp_add_error(ctx->reply, "ERR syntax error");
        return;
    }
    if (ctx->argc == 2 && acl_default_nopass()) {
        resp_add_error(ctx->reply, "ERR AUTH <password> called without any password configured for the default user. "
                                   "Are you sure your configuration is correct?");
        return;
    }
    bool ok = ctx->argc == 2
                  ? acl_gate_authenticate(c, (const uint8_t *)"default", 7, ctx->argv[1], ctx->argvlen[1])
                  : acl_gate_authenticate(c, ctx->argv[1], ctx->argvlen[1], ctx->argv[2], ctx->argvlen[2]);
    if (!ok) {
        resp_add_error(ctx->reply, "WRONGPASS invalid username-password pair or user is disabled.");
        return;
    }
    resp_add_simple(ctx->reply, "OK");
}

void cmd_hello(cmd_ctx_t *ctx)
{
    client_t *c = ctx->client;
    long long ver = c->proto;
    int i = 1;
    if (ctx->argc >= 2) {
        if (!arg_ll(ctx->argv[1], ctx->argvlen[1], &ver)) {
            resp_add_error(ctx->reply, "ERR Protocol version is not an integer or out of range");
            return;
        }
        i = 2;
        if (ver < 2 || ver > 3) {
            resp_add_error(ctx->reply, "NOPROTO unsupported protocol version");
            return;
        }
    }
    /* As 7.0.15: each option acts as it is read (AUTH authenticates, SETNAME
     * names), so a later bad option leaves the earlier ones done. */
    for (; i < ctx->argc; i++) {
        int left = ctx->argc - i - 1;
        if (arg_is(ctx->argv[i], ctx->argvlen[i], "auth") && left >= 2) {
            if (!acl_gate_authenticate(c, ctx->argv[i + 1], ctx->argvlen[i + 1], ctx->argv[i + 2],
                                       ctx->argvlen[i + 2])) {
                resp_add_error(ctx->reply, "WRONGPASS invalid username-password pair or user is disabled.");
                return;
            }
            i += 2;
        } else if (arg_is(ctx->argv[i], ctx->argvlen[i], "setname") && left >= 1) {
            const uint8_t *name = ctx->argv[i + 1];
            size_t len = ctx->argvlen[i + 1];
            for (size_t k = 0; k < len; k++)
                if (name[k] <= ' ' || name[k] > '~') {
                    resp_add_error(ctx->reply,
                                   "ERR Client names cannot contain spaces, newlines or special characters.");
                    return;
                }
            snprintf(c->name, sizeof c->name, "%.*s", (int)len, (const char *)name);
            i += 1;
        } else {
            resp_add_errorf(ctx->reply, "ERR Syntax error in HELLO option '%.*s'", (int)ctx->argvlen[i],
                            (const char *)ctx->argv[i]);
            return;
        }
    }
    if (!(c->flags & CLIENT_AUTHENTICATED)) {
        resp_add_error(ctx->reply, "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
                                   "HELLO AUTH <user> <pass> option can be used to authenticate the client and "
                                   "select the RESP protocol version at the same time");
        return;
    }
    c->proto = (int)ver;
    c->out.proto = (int)ver;
    ctx->reply->proto = (int)ver;
    const cluster_snapshot_t *s = worker_snapshot(ctx->worker);
    bool replica = s && (s->nodes[s->myself].flags & NODE_SLAVE);
    resp_add_map(ctx->reply, 7);
    resp_add_bulk_str(ctx->reply, "server");
    resp_add_bulk_str(ctx->reply, "redis");
    resp_add_bulk_str(ctx->reply, "version");
    resp_add_bulk_str(ctx->reply, SHOAL_REDIS_VERSION);
    resp_add_bulk_str(ctx->reply, "proto");
    resp_add_int(ctx->reply, ver);
    resp_add_bulk_str(ctx->reply, "id");
    resp_add_int(ctx->reply, (long long)c->id);
    resp_add_bulk_str(ctx->reply, "mode");
    resp_add_bulk_str(ctx->reply, config_cluster_enabled() ? "cluster" : "standalone");
    resp_add_bulk_str(ctx->reply, "role");
    resp_add_bulk_str(ctx->reply, replica ? "replica" : "master");
    resp_add_bulk_str(ctx->reply, "modules");
    resp_add_array(ctx->reply, 0);
}

static bool cluster_mode_or_error(cmd_ctx_t *ctx)
{
    if (config_cluster_enabled()) return true;
    resp_add_error(ctx->reply, "ERR This instance has cluster support disabled");
    return false;
}

void cmd_asking(cmd_ctx_t *ctx)
{
    if (!cluster_mode_or_error(ctx)) return;
    ctx->client->flags |= CLIENT_ASKING;
    resp_add_simple(ctx->reply, "OK");
}

void cmd_readonly(cmd_ctx_t *ctx)
{
    if (!cluster_mode_or_error(ctx)) return;
    ctx->client->flags |= CLIENT_READONLY;
    resp_add_simple(ctx->reply, "OK");
}

void cmd_readwrite(cmd_ctx_t *ctx)
{
    if (!cluster_mode_or_error(ctx)) return;
    ctx->client->flags &= ~CLIENT_READONLY;
    resp_add_simple(ctx->reply, "OK");
}

void cmd_time(cmd_ctx_t *ctx)
{
    long long us = rt_now_us();
    resp_add_array(ctx->reply, 2);
    resp_add_bulk_ll(ctx->reply, us / 1000000);
    resp_add_bulk_ll(ctx->reply, us % 1000000);
}

void cmd_lastsave(cmd_ctx_t *ctx)
{
    resp_add_int(ctx->reply, atomic_load_explicit(&g_lastsave, memory_order_relaxed));
}

/* Redis's lines for the DEBUG subcommands we serve, in Redis's order. */
/* 7.0.15's DEBUG HELP, in its order, with the lines of the subcommands we
 * have (a build without jemalloc has no MALLCTL lines there either). */
static const char *const debug_help[] = {
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
    "HELP",
    "    Prints this help.",
};


/* DEBUG SLEEP <seconds>, with 7.0.15's float parsing and range check. */
static void debug_sleep(cmd_ctx_t *ctx)
{
    char buf[64];
    size_t n = ctx->argvlen[2] < sizeof buf - 1 ? ctx->argvlen[2] : sizeof buf - 1;
    memcpy(buf, ctx->argv[2], n);
    buf[n] = '\0';
    char *end;
    double secs = strtod(buf, &end);
    if (ctx->argvlen[2] >= sizeof buf || *end || end == buf || !isfinite(secs) || secs < 0) {
        resp_add_error(ctx->reply, "ERR value is not a valid float");
        return;
    }
    if (secs > (double)(LLONG_MAX / 1000000)) {   /* Redis converts to microseconds in a long long */
        resp_add_error(ctx->reply, "ERR value is out of range");
        return;
    }
    /* Redis truncates to whole microseconds; a pause of none answers at once. */
    long long us = (long long)(secs * 1e6);
    if (us == 0) {
        resp_add_simple(ctx->reply, "OK");
        return;
    }
    if (!ctx->client) {           /* a script's call (script_debug_call_ok): its worker sleeps */
        struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
        resp_add_simple(ctx->reply, "OK");
        return;
    }
    /* The whole node stops, not just this worker: see repl_request_sleep.
     * The client stays blocked until the cut answers +OK. */
    remote_cmd_t *rc = dispatch_defer_nosend(ctx, 0);
    rc->arg_us = us;
    ctx->slowlog_later = true;    /* the call ends when the node wakes (worker.c) */
    repl_request_sleep(rc);
}

/* DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty, load back
 * (rdb_debug_reload); the client waits for the answer. */
static void debug_reload(cmd_ctx_t *ctx)
{
    bool save = true, flush = true, merge = false;
    for (int i = 2; i < ctx->argc; i++) {
        if (arg_is(ctx->argv[i], ctx->argvlen[i], "merge")) merge = true;
        else if (arg_is(ctx->argv[i], ctx->argvlen[i], "noflush")) flush = false;
        else if (arg_is(ctx->argv[i], ctx->argvlen[i], "nosave")) save = false;
        else {
            resp_add_error(ctx->reply, "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
            return;
        }
    }
    rdb_debug_reload(dispatch_defer_nosend(ctx, WMSG_DONE), save, flush, merge);
}

/* DEBUG STATE-ACTOR-DELAY <microseconds>: ours, not Redis's (so not in
 * DEBUG HELP, which keeps 7.0.15's lines): the state actor sleeps that long
 * in every message it handles from now on, 0 stops it. Tests use it to make
 * the links' back-pressure act (docs/cluster-bus.md §1.6). At most 10 s, so
 * that a typo cannot stall the bus for hours. DEBUG PERSISTER-DELAY: the
 * same for the persister, before each nodes.conf write it makes (a slow
 * fsync; test_setslot_path.py). DEBUG STATE-CRON-DELAY: the state actor's
 * cron, once a tick, at the end of its working part (test_bus_digest_stats.py). */
static void debug_actor_delay(cmd_ctx_t *ctx, _Atomic long long *delay_us)
{
    if (ctx->argc != 3) {
        debug_syntax_error(ctx);
        return;
    }
    if (!config_cluster_enabled()) {
        resp_add_error(ctx->reply, "ERR Debug option only available for cluster mode enabled setup!");
        return;
    }
    long long us;
    if (!arg_ll(ctx->argv[2], ctx->argvlen[2], &us) || us < 0 || us > 10000000) {
        resp_add_error(ctx->reply, "ERR value is out of range, must be between 0 and 10000000 microseconds");
        return;
    }
    atomic_store_explicit(delay_us, us, memory_order_relaxed);
    resp_add_simple(ctx->reply, "OK");
}

/* Ours, for tests (not in DEBUG HELP): DEBUG SLOTMIGRATION and DEBUG
 * PLACEMENT. True when ctx was one of them (and is answered). */
/* DEBUG PLACEMENT|BUSPLACEMENT AUTO|PACK|SPREAD: the count of workers to
 * force (0 = auto), or -1 after a syntax error was answered. */
static int debug_placement_mode(cmd_ctx_t *ctx)
{
    if (ctx->argc == 3) {
        if (arg_is(ctx->argv[2], ctx->argvlen[2], "auto")) return 0;
        if (arg_is(ctx->argv[2], ctx->argvlen[2], "pack")) return 1;
        if (arg_is(ctx->argv[2], ctx->argvlen[2], "spread")) return workers_count();
    }
    debug_syntax_error(ctx);
    return -1;
}

static bool debug_test_hook(cmd_ctx_t *ctx)
{
    const uint8_t *sub = ctx->argv[1];
    size_t sublen = ctx->argvlen[1];
    if (arg_is(sub, sublen, "slotmigration")) {
        /* DEBUG SLOTMIGRATION HOLD NONE|SNAPSHOT|STREAM|PAUSED: tests stop
         * a migration at a step (state/asm.h) */
        static const char *const steps[] = { "none", "snapshot", "stream", "paused" };
        int step = -1;
        for (int i = 0; ctx->argc == 4 && i < 4; i++)
            if (arg_is(ctx->argv[3], ctx->argvlen[3], steps[i])) step = i;
        if (step < 0 || !arg_is(ctx->argv[2], ctx->argvlen[2], "hold")) {
            debug_syntax_error(ctx);
            return true;
        }
        asm_set_hold(step);
        resp_add_simple(ctx->reply, "OK");
        return true;
    }
    if (arg_is(sub, sublen, "placement")) {
        /* DEBUG PLACEMENT AUTO|PACK|SPREAD: ours, not Redis's (so not in
         * DEBUG HELP); tests that need connections on every worker (the
         * races between a worker and the borrowers of its keyspace) turn
         * packing off (placement.h) */
        int mode = debug_placement_mode(ctx);
        if (mode < 0) return true;
        placement_force(mode);
        resp_add_simple(ctx->reply, "OK");
        return true;
    }
    if (arg_is(sub, sublen, "busplacement")) {
        /* DEBUG BUSPLACEMENT AUTO|PACK|SPREAD: ours, as PLACEMENT, for the
         * cluster bus links (link_place.h): tests move links with it */
        int mode = debug_placement_mode(ctx);
        if (mode < 0) return true;
        link_place_force(mode);
        resp_add_simple(ctx->reply, "OK");
        return true;
    }
    return false;
}

void cmd_debug(cmd_ctx_t *ctx)
{
    const uint8_t *sub = ctx->argv[1];
    size_t sublen = ctx->argvlen[1];
    if (debug_more(ctx)) return;   /* debug_keys.c */
    if (arg_is(sub, sublen, "sleep") || arg_is(sub, sublen, "drop-cluster-packet-filter")) {
        if (ctx->argc != 3) {
            debug_syntax_error(ctx);
            return;
        }
        if (arg_is(sub, sublen, "sleep")) {
            debug_sleep(ctx);
            return;
        }
        long long t;
        if (!arg_ll(ctx->argv[2], ctx->argvlen[2], &t)) {
            resp_add_error(ctx->reply, "ERR value is not an integer or out of range");
            return;
        }
        atomic_store_explicit(&g_bus_drop_filter, (int)t, memory_order_relaxed);
        resp_add_simple(ctx->reply, "OK");
        return;
    }
    if (arg_is(sub, sublen, "digest") && ctx->argc == 2) {
        /* every worker digests its own keys; the parts are xored together */
        dispatch_fanout(ctx->client, dispatch_current_cmd(ctx->client), ctx->argc, ctx->argv, ctx->argvlen);
        return;
    }
    if (arg_is(sub, sublen, "populate") || arg_is(sub, sublen, "set-active-expire")) {
        bool populate = arg_is(sub, sublen, "populate");
        if (populate ? (ctx->argc < 3 || ctx->argc > 5) : ctx->argc != 3) debug_syntax_error(ctx);
        else if (populate) debug_populate(ctx);
        else debug_set_active_expire(ctx);
        return;
    }
    if (arg_is(sub, sublen, "clusterlink")) {
        if (ctx->argc != 5 || !arg_is(ctx->argv[2], ctx->argvlen[2], "kill")) {
            debug_syntax_error(ctx);
            return;
        }
        if (!config_cluster_enabled()) {
            resp_add_error(ctx->reply, "ERR Debug option only available for cluster mode enabled setup!");
            return;
        }
        /* The state actor owns which link belongs to which node. */
        dispatch_defer(ctx, state_actor(), STATE_MSG_CMD);
        return;
    }
    if (arg_is(sub, sublen, "set-disable-deny-scripts") && ctx->argc == 3) {
        /* 7.0.15 reads the number with atoi: anything but a non-zero number is 0 */
        char num[32];
        size_t n = ctx->argvlen[2] < sizeof num - 1 ? ctx->argvlen[2] : sizeof num - 1;
        memcpy(num, ctx->argv[2], n);
        num[n] = '\0';
        script_deny_set_disabled(atoi(num) != 0);
        resp_add_simple(ctx->reply, "OK");
        return;
    }
    if (arg_is(sub, sublen, "state-actor-delay")) {
        debug_actor_delay(ctx, &g_state_debug_delay_us);
        return;
    }
    if (arg_is(sub, sublen, "state-cron-delay")) {
        debug_actor_delay(ctx, &g_state_debug_cron_delay_us);
        return;
    }
    if (arg_is(sub, sublen, "persister-delay")) {
        debug_actor_delay(ctx, &g_persist_debug_delay_us);
        return;
    }
    if (debug_test_hook(ctx)) return;
    if (arg_is(sub, sublen, "reload")) {
        debug_reload(ctx);
        return;
    }
    if (arg_is(sub, sublen, "loadaof")) {
        aof_debug_loadaof(dispatch_defer_nosend(ctx, WMSG_DONE));
        return;
    }
    if (arg_is(sub, sublen, "protocol") || arg_is(sub, sublen, "error") || arg_is(sub, sublen, "log")) {
        if (ctx->argc != 3) debug_syntax_error(ctx);
        else if (arg_is(sub, sublen, "protocol")) debug_protocol(ctx);
        else if (arg_is(sub, sublen, "error")) debug_error(ctx);
        else debug_log(ctx);
        return;
    }
    if (arg_is(sub, sublen, "help")) {
        arg_reply_help(ctx, debug_help, sizeof debug_help / sizeof debug_help[0]);
        return;
    }
    /* 7.0.15 words an unknown subcommand and a known one with the wrong
     * number of arguments the same way */
    debug_syntax_error(ctx);
}

void cmd_shutdown(cmd_ctx_t *ctx)
{
    int flags = 0;
    bool abort_it = false;
    for (int i = 1; i < ctx->argc; i++) {
        const uint8_t *a = ctx->argv[i];
        size_t n = ctx->argvlen[i];
        if (arg_is(a, n, "nosave")) flags |= SHUTDOWN_NOSAVE;
        else if (arg_is(a, n, "save")) flags |= SHUTDOWN_SAVE;
        else if (arg_is(a, n, "now")) flags |= SHUTDOWN_NOW;
        else if (arg_is(a, n, "force")) flags |= SHUTDOWN_FORCE;
        else if (arg_is(a, n, "abort")) abort_it = true;
        else {
            resp_add_error(ctx->reply, "ERR syntax error");
            return;
        }
    }
    if ((abort_it && flags) || ((flags & SHUTDOWN_NOSAVE) && (flags & SHUTDOWN_SAVE))) {
        resp_add_error(ctx->reply, "ERR syntax error");
        return;
    }
    if (abort_it) {
        if (shutdown_abort()) resp_add_simple(ctx->reply, "OK");
        else resp_add_error(ctx->reply, "ERR No shutdown in progress.");
        return;
    }
    /* The client waits, as 7.0.15 blocks it: it sees the connection close
     * when the node exits, or an error if the shutdown fails or is aborted. */
    shutdown_request(flags, dispatch_defer_nosend(ctx, WMSG_DONE));
}

void cmd_role(cmd_ctx_t *ctx)
{
    const cluster_snapshot_t *s = ctx->worker ? worker_snapshot(ctx->worker) : NULL;
    if (s && (s->nodes[s->myself].flags & NODE_SLAVE) && s->nodes[s->myself].master >= 0) {
        const node_view_t *m = &s->nodes[s->nodes[s->myself].master];
        resp_add_array(ctx->reply, 5);
        resp_add_bulk_str(ctx->reply, "slave");
        resp_add_bulk_str(ctx->reply, m->ip);
        resp_add_int(ctx->reply, m->port);
        repl_replica_status_t rs;
        repl_replica_status_get(&rs);
        /* The link actor learns of a new master within its 100 ms tick: until then, "connect". */
        resp_add_bulk_str(ctx->reply, repl_link_state_name(rs.state == RL_NONE ? RL_CONNECT : rs.state));
        resp_add_int(ctx->reply, rs.state == RL_CONNECTED ? rs.repl_offset : -1);
        return;
    }
    repl_status_t st;
    repl_status_get(&st);
    resp_add_array(ctx->reply, 3);
    resp_add_bulk_str(ctx->reply, "master");
    resp_add_int(ctx->reply, st.master_repl_offset);
    int online = 0;
    for (int i = 0; i < st.nreplicas; i++) online += !strcmp(st.replicas[i].state, "online");
    resp_add_array(ctx->reply, online);
    for (int i = 0; i < st.nreplicas; i++) {
        if (strcmp(st.replicas[i].state, "online")) continue;
        char port[16], off[32];
        snprintf(port, sizeof port, "%d", st.replicas[i].port);
        snprintf(off, sizeof off, "%lld", st.replicas[i].offset);
        resp_add_array(ctx->reply, 3);
        resp_add_bulk_str(ctx->reply, st.replicas[i].ip);
        resp_add_bulk_str(ctx->reply, port);
        resp_add_bulk_str(ctx->reply, off);
    }
}


/* ---- CONFIG ---- */

void cmd_config_get(cmd_ctx_t *ctx) { config_cmd_get(ctx->reply, ctx->argc - 2, ctx->argv + 2, ctx->argvlen + 2); }

void cmd_config_set(cmd_ctx_t *ctx)
{
    resp_buf_t tmp;
    resp_buf_init(&tmp, ctx->reply->proto);
    config_cmd_set(&tmp, ctx->argc - 2, ctx->argv + 2, ctx->argvlen + 2, ctx->client && ctx->client->local);
    bool announce = false;
    for (int i = 2; i < ctx->argc; i += 2)
        if (ctx->argvlen[i] > 16 && !strncasecmp((const char *)ctx->argv[i], "cluster-announce", 16)) announce = true;
    if (announce && config_cluster_enabled() && tmp.len && tmp.data[0] == '+') {
        /* 7.0.15 applies the announce settings to its own record before
         * replying: let the state actor do it, then answer. */
        dispatch_defer(ctx, state_actor(), STATE_MSG_CMD);
    } else {
        resp_buf_append(ctx->reply, tmp.data, tmp.len);
    }
    resp_buf_free(&tmp);
}

void cmd_config_rewrite(cmd_ctx_t *ctx) { config_cmd_rewrite(ctx->reply); }

void cmd_config_resetstat(cmd_ctx_t *ctx)
{
    stats_reset_all();
    rdb_fork_stats_reset();
    resp_add_simple(ctx->reply, "OK");
}

void cmd_config_help(cmd_ctx_t *ctx)
{
    static const char *lines[] = {
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
        "RESETSTAT", "    Reset statistics reported by the INFO command.",
        "REWRITE", "    Rewrite the configuration file.",
        "HELP", "    Print this help.",
    };
    arg_reply_help(ctx, lines, sizeof lines / sizeof lines[0]);
}

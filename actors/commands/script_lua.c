/* script_lua.c - each worker's Lua 5.1 state and what scripts see of Redis.
 *
 * A worker thread makes its state on the first script it runs (and again
 * after SCRIPT FLUSH): base, table, string and math libraries, no os, io,
 * package, loadfile, dofile or print, and the `redis` table. The globals are
 * protected as 7.0.15 protects them: reading an unknown global and writing
 * any global or library field fail with 7.0.15's texts. Debian's Lua has no
 * read-only tables (Redis patches its copy), so the real globals sit in a
 * hidden table and _G, and each library table, is an empty proxy whose
 * metatable reads through and refuses writes.
 *
 * redis.call runs the command here, on the worker that runs the script
 * (dispatch_run_for: its effect is propagated as the command itself, inside
 * the MULTI/EXEC the script is wrapped in), into a scratch buffer that is
 * then parsed into Lua values by 7.0.15's rules (script_conv.c).
 *
 * Must never: run a command of a key that another worker keeps.
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <openssl/sha.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/commands/commands.h"
#include "actors/commands/script.h"
#include "actors/commands/script_ldb.h"
#include "actors/commands/script_lua.h"
#include "actors/commands/script_textload.h"
#include "actors/config/config.h"
#include "actors/repl/repl.h"
#include "actors/repl/repl_replica.h"
#include "actors/state/state.h"
#include "actors/worker/blocking.h"
#include "actors/worker/client.h"
#include "actors/worker/evict.h"
#include "actors/worker/monitor.h"
#include "actors/worker/worker.h"
#include "actors/worker/tracking.h"
#include "actors/worker/xscript.h"
#include "proto/slot.h"
#include "runtime/log.h"
#include "actors/acl/acl.h"
#include "actors/worker/acl_gate.h"
#include "proto/strnum.h"
#include "runtime/xmalloc.h"

/* What redis.call needs of the running script. */
typedef struct run {
    cmd_ctx_t *ctx;
    bool ro;
    int nkeys;                    /* declared keys: argv[3 .. 3+nkeys) */
    int decl_slot;                /* the slot of the first declared key (argv[3]); -1 without keys */
    unsigned flags;               /* SCRIPT_F_*: the shebang's */
    int slot;                     /* with a shebang lacking allow-cross-slot-keys: the slot the calls
                                   * keep to (the declared keys', else the first key a call touched;
                                   * 7.0.15's client slot, which routing set) */
    int resp;                     /* redis.setresp */
    int repl;                     /* redis.set_repl: SCRIPT_REPL_* of the calls from now on */
    bool oom;                     /* out of memory when the script started (7.0.15's pre_command_oom_state) */
    bool dirty;                   /* a write ran: from then on a denyoom call is not refused */
    bool crossed;                 /* a call reached keys of another worker (xscript.h) */
    int here;                     /* declared keys this worker keeps: nkeys, or 0 for a debugger's
                                   * EVAL run away from them (ldb_conn.h) */
} run_t;

static __thread lua_State *tl_lua;
static __thread unsigned long tl_gen;
static __thread int tl_globals_ref;     /* tl_lua's real globals, in its registry */
static __thread run_t *tl_run;
static __thread resp_buf_t tl_out;    /* redis.call's reply buffer (generic_call) */
static __thread bool tl_out_ready;
#define OUT_KEEP (64 * 1024)            /* a reply buffer larger than this is freed after the call */
static __thread int tl_gc_count;        /* scripts since the last collection step */
#define SCRIPT_GC_PERIOD 50

void script_sha1hex(char out[41], const void *bytes, size_t len)
{
    unsigned char d[SHA_DIGEST_LENGTH];
    SHA1(bytes, len, d);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++) {
        out[i * 2] = hex[d[i] >> 4];
        out[i * 2 + 1] = hex[d[i] & 15];
    }
    out[40] = 0;
}

/* ---------------- errors ---------------- */

static int raise_error(lua_State *L, const char *e)
{
    script_push_error(L, e, strlen(e));
    return lua_error(L);
}

/* ---------------- redis.call / redis.pcall ---------------- */

/* Where a key of redis.call, of this slot, may be served; NULL when here,
 * else the error. */
static const char *key_refused(run_t *run, unsigned slot, bool shard_channel)
{
    cmd_ctx_t *ctx = run->ctx;
    if (config_cluster_enabled()) {
        /* A script without a shebang may touch keys of any slot this node
         * serves (7.0.15 gives such scripts allow-cross-slot-keys); one with
         * a shebang keeps to one slot unless its flags allow more. */
        const cluster_snapshot_t *s = worker_snapshot(ctx->worker);
        /* A slot being imported is served to a client that came with ASKING,
         * whose flag 7.0.15 lends the script: here, a script routed to this
         * node by declared keys of that slot (routing let it in for ASKING). */
        bool asked = s && s->importing_from[slot] >= 0 && run->nkeys > 0 && (unsigned)run->decl_slot == slot;
        /* A replica serves its master's slots to reads of a client that sent
         * READONLY, a flag 7.0.15 lends the script too: here, a script routed
         * to this replica by declared keys (routing let it in for READONLY
         * only; a write call was refused before its keys were looked at). */
        /* SPUBLISH's shard channel is served by the slot's replicas too. */
        bool readonly = s && (run->nkeys > 0 || shard_channel) && (s->nodes[s->myself].flags & NODE_SLAVE) &&
                        s->slot_owner[slot] == s->nodes[s->myself].master;
        if (s && s->slot_owner[slot] != s->myself && !asked && !readonly)
            return "Script attempted to access a non local key in a cluster node";
        if (!(run->flags & (SCRIPT_F_COMPAT | SCRIPT_F_CROSS_SLOT))) {
            if (run->slot >= 0 && (unsigned)run->slot != slot)
                return "Script attempted to access keys that do not hash to the same slot";
            run->slot = (int)slot;
        }
    }
    /* A key another worker of this node keeps is reached through the
     * node's cross-worker session (generic_call, actors/worker/xscript.h). */
    return NULL;
}

/* What 7.0.15's getNodeByQuery refuses of one call that key_refused lets
 * through, each reported to a script as a non-local key: the call's own
 * keys in several slots (CROSSSLOT), a missing key of a slot being moved
 * away (ASK, TRYAGAIN). NULL when the call may run. */
static const char *call_slot_refused(run_t *run, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                                     const size_t *argvlen, const unsigned *slots, int n)
{
    for (int i = 1; i < n; i++)
        if (slots[i] != slots[0]) return "Script attempted to access a non local key in a cluster node";
    queued_cmd_t q = { .cmd = cmd, .argc = argc, .argv = argv, .argvlen = (size_t *)argvlen };
    char why[256];
    if (!dispatch_open_slot_check(run->ctx->worker, &q, 1, why, sizeof why))
        return "Script attempted to access a non local key in a cluster node";
    return NULL;
}

/* Client-class commands whose handlers need no client: scripts may call them here. */
static bool client_free_cmd(const cmd_def_t *cmd)
{
    static const char *const ok[] = { "ping", "echo", "time", "select" };
    if (cmd->parent || cmd->exec != CMD_EXEC_CLIENT || !cmd->handler) return false;
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (!strcmp(cmd->name, ok[i])) return true;
    return false;
}

/* The arguments of a redis.call-like function as command arguments: in
 * place up to ARGS_INLINE (the usual call), on the heap beyond. Used where
 * it was declared (it points into itself); args_free after. */
#define ARGS_INLINE 8
typedef struct {
    const uint8_t **argv;
    size_t *argvlen;
    char (*nums)[32];             /* the text of number arguments */
    const uint8_t *argv_in[ARGS_INLINE];
    size_t argvlen_in[ARGS_INLINE];
    char nums_in[ARGS_INLINE][32];
} lua_args_t;

static void args_free(lua_args_t *a)
{
    if (a->argv == a->argv_in) return;
    free(a->argv);
    free(a->argvlen);
    free(a->nums);
}

/* d as printf's %.17g writes it, into out (32 bytes); its length. An
 * integer of at most 17 digits is written so by %.17g (no exponent, no
 * point): the usual argument (a count, a TTL) skips printf's float code. */
static size_t number_text(char out[32], double d)
{
    if (d > -1e17 && d < 1e17 && d == (double)(long long)d && !(d == 0 && signbit(d))) {
        size_t len = ll_to_str(out, (long long)d);
        out[len] = 0;
        return len;
    }
    return (size_t)snprintf(out, 32, "%.17g", d);
}

/* Fills a from the argc values on the stack; the error text when one is
 * neither a string nor a number. */
static const char *args_from_lua(lua_State *L, int argc, lua_args_t *a)
{
    if (argc <= ARGS_INLINE) {
        a->argv = a->argv_in;
        a->argvlen = a->argvlen_in;
        a->nums = a->nums_in;
    } else {
        a->argv = xmalloc(sizeof *a->argv * (size_t)argc);
        a->argvlen = xmalloc(sizeof *a->argvlen * (size_t)argc);
        a->nums = xmalloc(32 * (size_t)argc);
    }
    const char *err = NULL;
    for (int j = 0; j < argc; j++) {
        if (lua_type(L, j + 1) == LUA_TNUMBER) {
            /* %.17g as 7.0.15: Lua's own number format loses precision */
            a->argvlen[j] = number_text(a->nums[j], (double)lua_tonumber(L, j + 1));
            a->argv[j] = (const uint8_t *)a->nums[j];
        } else {
            a->argv[j] = (const uint8_t *)lua_tolstring(L, j + 1, &a->argvlen[j]);
            if (!a->argv[j]) err = "Lua redis lib command arguments must be strings or integers";
        }
    }
    return err;
}

static const cmd_def_t *lookup_with_sub(int argc, const uint8_t **argv, const size_t *argvlen)
{
    const cmd_def_t *cmd = cmd_lookup(argv[0], argvlen[0]);
    if (cmd && cmd->subcommands && argc >= 2) cmd = cmd_lookup_sub(cmd, argv[1], argvlen[1]);
    return cmd;
}

/* The caller's ACL user may run this call? A refusal is logged with the
 * caller's CLIENT LIST line when the script runs on the caller's worker
 * (else that line is not at hand here and stays empty). */
static bool script_acl_ok(cmd_ctx_t *ctx, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                          const size_t *argvlen, int *denied)
{
    return acl_gate_check_user(ctx->worker, ctx->acl_uid, ctx->client, cmd, argc, argv, argvlen, ACL_CTX_LUA, denied);
}

bool script_call_running(void) { return tl_run != NULL; }

/* The checks of a call's keys: each key's slot computed once (the first
 * declared key's, the usual key of a call, was computed when the script
 * started) for 7.0.15's cluster checks and for whether a key sits on
 * another worker (*cross). NULL, or the error. */
static const char *call_keys_refused(run_t *run, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                                     const size_t *argvlen, const xscript_keys_t *here, bool *cross)
{
    enum { KEYS_INLINE = 16 };
    int pos_in[KEYS_INLINE];
    unsigned slots_in[KEYS_INLINE];
    int *pos = pos_in;
    unsigned *slots = slots_in;
    if (argc > KEYS_INLINE) {
        pos = xmalloc(sizeof *pos * (size_t)argc);
        slots = xmalloc(sizeof *slots * (size_t)argc);
    }
    int n = cmd_get_keys(cmd, argc, argv, argvlen, pos, argc > KEYS_INLINE ? argc : KEYS_INLINE);
    const cmd_ctx_t *ctx = run->ctx;
    const char *err = NULL;
    for (int i = 0; i < n && !err; i++) {
        const uint8_t *key = argv[pos[i]];
        size_t len = argvlen[pos[i]];
        bool first = run->nkeys > 0 && len == ctx->argvlen[3] && !memcmp(key, ctx->argv[3], len);
        slots[i] = first ? (unsigned)run->decl_slot : slot_of_key(key, len);
        err = key_refused(run, slots[i], cmd->handler == cmd_spublish);
        if (!*cross && !(first && run->here)) *cross = xscript_key_is_cross(ctx->worker, slots[i], key, len, here);
    }
    if (!err && n > 0 && config_cluster_enabled()) err = call_slot_refused(run, cmd, argc, argv, argvlen, slots, n);
    if (err) *cross = false;      /* a refused call reaches for nothing */
    /* a shard channel is no key to move; other workers' subscribers are
     * counted (or listed) with those workers standing still (pubsub.h) */
    else if (script_pubsub_cmd(cmd)) *cross = script_pubsub_needs_others(ctx->worker, cmd, argv, argvlen);
    if (pos != pos_in) {
        free(pos);
        free(slots);
    }
    return err;
}

void script_run_clock_reset(void)
{
    if (tl_run) tl_run->ctx->now_ms = rt_now_ms();
}

/* Whether every declared key is kept by the worker running the script (a
 * debugger's EVAL may run away from them: ldb_conn.h). */
static bool declared_keys_here(const cmd_ctx_t *ctx, int numkeys)
{
    for (int i = 0; i < numkeys; i++)
        if (worker_of_slot(slot_of_key(ctx->argv[3 + i], ctx->argvlen[3 + i])) != worker_index(ctx->worker))
            return false;
    return true;
}

/* Whether the value at the top is an {err=<string>} table (the script
 * returned an error), which script_lua_to_reply would answer as an error. */
static bool returns_error_table(lua_State *L)
{
    if (!lua_istable(L, -1)) return false;
    lua_pushstring(L, "err");
    lua_rawget(L, -2);
    bool is = lua_type(L, -1) == LUA_TSTRING;
    lua_pop(L, 1);
    return is;
}

/* A call the script may not make counts its error now, as 7.0.15's
 * scriptCall: once, whether the script raises it, catches it or returns it
 * (the error table then says ignore_error_stats_update). An error without a
 * code of its own counts as ERR. */
static void count_refusal(worker_t *w, const cmd_def_t *cmd, const char *err)
{
    if (cmd) stats_note_rejected_quiet(w, cmd);
    stats_note_error_text(w, err[0] == '-' ? err : "ERR");
}

/* Why a script may not make this call now (7.0.15's scriptCall checks, in
 * its order), or NULL when it may. */
static const char *call_refusal(run_t *run, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                                const size_t *argvlen)
{
    int denied = 0;
    if (!cmd) return "Unknown Redis command called from script";
    if ((cmd->arity > 0 && argc != cmd->arity) || (cmd->arity < 0 && argc < -cmd->arity))
        return "Wrong number of args calling Redis command from script";
    if ((cmd->flags & CMD_NOSCRIPT) && !script_deny_disabled()) return "This Redis command is not allowed from script";
    if (!(cmd->flags & CMD_STALE) && !run->ctx->from_master && repl_replica_stale())
        return "Can not execute the command on a stale replica";
    if (run->ctx->acl_uid && !script_acl_ok(run->ctx, cmd, argc, argv, argvlen, &denied))
        return denied == ACL_DENIED_KEY
                   ? "The user executing the script can't access at least one of the keys mentioned in the "
                     "command arguments"
                   : denied == ACL_DENIED_CHANNEL ? "The user executing the script can't publish to the channel "
                                                    "mentioned in the command"
                                                  : "The user executing the script can't run this command or "
                                                    "subcommand";
    if (run->ro && (cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE)))
        return "Write commands are not allowed from read-only scripts.";
    /* as 7.0.15's scriptVerifyWriteCommandAllow: once the script wrote,
     * the node's state can no longer fail its writes */
    const char *state_err = (cmd->flags & CMD_WRITE) && !run->dirty ? script_write_refusal(run->ctx) : NULL;
    if (state_err) return state_err;
    if ((cmd->flags & CMD_DENYOOM) && run->oom && !run->dirty && !(run->flags & SCRIPT_F_ALLOW_OOM))
        return "-" EVICT_OOM_ERROR;   /* 7.0.15 refuses only before the script's first write */
    if ((cmd->exec != CMD_EXEC_KEYED || !cmd->handler) && !client_free_cmd(cmd) && !script_pubsub_cmd(cmd) &&
        !script_debug_call_ok(cmd, argc, argv, argvlen))
        return "This Redis command is not allowed from script";   /* not yet: see docs/scripting.md */
    return NULL;
}

static int generic_call(lua_State *L, bool raise)
{
    run_t *run = tl_run;
    if (!run) return raise_error(L, "redis.call/pcall can only be called inside a script invocation");
    int argc = lua_gettop(L);
    if (argc == 0) {
        script_push_error(L, "Please specify at least one argument for this redis lib call", 60);
        return raise ? lua_error(L) : 1;
    }
    lua_args_t a;
    const char *err = args_from_lua(L, argc, &a);
    const uint8_t **argv = a.argv;
    size_t *argvlen = a.argvlen;
    if (!err && script_ldb_stepping()) script_ldb_log_call(argc, argv, argvlen);
    bool refused = !err;          /* an error from here on is the call's refusal (7.0.15's scriptCall) */
    const cmd_def_t *cmd = NULL;
    if (!err) {
        cmd = lookup_with_sub(argc, argv, argvlen);
        err = call_refusal(run, cmd, argc, argv, argvlen);
    }
    /* Keys another worker keeps: the node's session first (all other
     * workers stand still until the script ends). Declared keys are here. */
    cmd_ctx_t *ctx = run->ctx;
    xscript_keys_t here = { ctx->argv + 3, ctx->argvlen + 3, run->here };
    bool cross = false;
    if (!err) err = call_keys_refused(run, cmd, argc, argv, argvlen, &here, &cross);
    if (cross && !xscript_acquire(ctx->worker, script_busy_tick)) {
        err = SCRIPT_KILLED_TEXT;
        raise = true;             /* a kill is not the call's error: redis.pcall does not take it */
        refused = false;
    }
    run->crossed |= cross;
    if (err) {
        /* a command the script may not call here is a rejected call of it
         * (7.0.15's scriptCall), its error counted now */
        if (refused) count_refusal(run->ctx->worker, cmd, err);
        args_free(&a);
        lua_pop(L, argc);
        if (refused) script_push_call_error(L, err, strlen(err));
        else script_push_error(L, err, strlen(err));
        return raise ? lua_error(L) : 1;
    }
    if (cmd->flags & CMD_WRITE) {
        script_busy_note_write();   /* SCRIPT KILL answers -UNKILLABLE from now on */
        run->dirty = true;
    }
    /* the thread's reply buffer, kept from call to call (a call cannot run
     * another script, so it is never in use twice) */
    resp_buf_t *out = &tl_out;
    if (!tl_out_ready) {
        resp_buf_init(out, run->resp);
        tl_out_ready = true;
    }
    resp_buf_reset(out);
    out->proto = run->resp;
    /* REPL_NONE: what the call appended to the stream is taken back. AOF
     * and replicas share one stream here, so REPL_AOF and REPL_REPLICA
     * propagate to both (docs/scripting.md). */
    struct repl_wbuf *rb = worker_repl(ctx->worker);
    repl_wbuf_pos_t before = repl_wbuf_tell(rb);
    if (cross && !script_pubsub_cmd(cmd)) xscript_run(ctx->worker, cmd, argc, argv, argvlen, out, ctx->now_ms, &here);
    /* for the script's caller, as 7.0.15's script_caller: NOLOOP spares it
     * its own writes (tracking.h: the reads' keys are not remembered) */
    else dispatch_run_for(ctx->worker, ctx->routed_id ? tracking_script_call_id(ctx->routed_id) : 0, cmd, argc, argv,
                          argvlen, out, ctx->now_ms);
    /* a read remembers the script's declared keys for its caller (7.0.15's script_caller) */
    if ((cmd->flags & CMD_READONLY) && ctx->routed_id)
        tracking_script_read(ctx->worker, ctx->routed_id, ctx->argv + 3, ctx->argvlen + 3, run->nkeys,
                             xscript_held(ctx->worker));
    if (run->repl == 0) repl_wbuf_rewind(rb, before);
    if (monitor_any()) monitor_feed_script(cmd, argc, argv, argvlen);   /* after it ran, as 7.0.15's call() */
    args_free(&a);
    lua_pop(L, argc);
    resp_buf_append(out, "", 1);    /* a NUL past the end, for the parser's strchr */
    bool failed = out->data[0] == '-';
    script_reply_to_lua(L, out->data);
    if (script_ldb_stepping()) script_ldb_log_reply(out->data);
    if (out->cap > OUT_KEEP) {       /* a large reply's buffer is not kept */
        resp_buf_free(out);
        tl_out_ready = false;
    }
    if (raise && failed) return lua_error(L);
    return 1;
}

static int l_call(lua_State *L) { return generic_call(L, true); }
static int l_pcall(lua_State *L) { return generic_call(L, false); }

static int l_sha1hex(lua_State *L)
{
    if (lua_gettop(L) != 1) return raise_error(L, "wrong number of arguments");
    size_t n;
    const char *s = lua_tolstring(L, 1, &n);
    char hex[41];
    script_sha1hex(hex, s ? s : "", s ? n : 0);
    lua_pushstring(L, hex);
    return 1;
}

static int l_error_reply(lua_State *L)
{
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
        script_push_error(L, "wrong number or type of arguments", 33);
        return 1;
    }
    size_t n;
    const char *e = lua_tolstring(L, -1, &n);
    if (n > 0 && e[0] == '-') {
        script_push_error(L, e, n);
    } else {
        lua_pushfstring(L, "-%s", e);
        size_t m;
        const char *d = lua_tolstring(L, -1, &m);
        script_push_error(L, d, m);
        lua_remove(L, -2);
    }
    return 1;
}

static int l_status_reply(lua_State *L)
{
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
        script_push_error(L, "wrong number or type of arguments", 33);
        return 1;
    }
    lua_newtable(L);
    lua_pushstring(L, "ok");
    lua_pushvalue(L, -3);
    lua_settable(L, -3);
    return 1;
}

static int l_log(lua_State *L)
{
    int argc = lua_gettop(L);
    if (argc < 2) return raise_error(L, "redis.log() requires two arguments or more.");
    if (!lua_isnumber(L, 1)) return raise_error(L, "First argument must be a number (log level).");
    int level = (int)lua_tonumber(L, 1);
    if (level < 0 || level > 3) return raise_error(L, "Invalid debug level.");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int j = 2; j <= argc; j++) {
        size_t n;
        const char *s = lua_tolstring(L, j, &n);
        if (!s) continue;
        if (j != 2) luaL_addchar(&b, ' ');
        luaL_addlstring(&b, s, n);
    }
    luaL_pushresult(&b);
    static const int levels[4] = { RT_LOG_DEBUG, RT_LOG_VERBOSE, RT_LOG_NOTICE, RT_LOG_WARNING };
    rt_log_raw(levels[level], "%s", lua_tostring(L, -1));
    return 0;
}

static int l_setresp(lua_State *L)
{
    if (!tl_run) return raise_error(L, "redis.setresp can only be called inside a script invocation");
    if (lua_gettop(L) != 1) return raise_error(L, "redis.setresp() requires one argument.");
    int v = (int)lua_tonumber(L, -1);
    if (v != 2 && v != 3) return raise_error(L, "RESP version must be 2 or 3.");
    tl_run->resp = v;
    return 0;
}

static int l_set_repl(lua_State *L)
{
    if (!tl_run) return raise_error(L, "redis.set_repl can only be called inside a script invocation");
    if (lua_gettop(L) != 1) return raise_error(L, "redis.set_repl() requires two arguments.");
    int flags = (int)lua_tonumber(L, -1);
    if (flags & ~(SCRIPT_REPL_AOF | SCRIPT_REPL_REPLICA))
        return raise_error(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
    tl_run->repl = flags;
    return 0;
}

/* Whether the script's caller may run that command with those arguments,
 * by its ACL user (no log entry, as 7.0.15). */
static int l_acl_check_cmd(lua_State *L)
{
    if (!tl_run) return raise_error(L, "redis.acl_check_cmd can only be called inside a script invocation");
    int argc = lua_gettop(L);
    if (argc == 0) return raise_error(L, "Please specify at least one argument for this redis lib call");
    lua_args_t a;
    const char *err = args_from_lua(L, argc, &a);
    const cmd_def_t *cmd = err ? NULL : lookup_with_sub(argc, a.argv, a.argvlen);
    bool known = cmd != NULL;
    cmd_ctx_t *ctx = tl_run->ctx;
    bool allowed = !known || !ctx->acl_uid ||
                   acl_gate_allowed(ctx->worker, ctx->acl_uid, cmd, argc, a.argv, a.argvlen);
    args_free(&a);
    if (err) return raise_error(L, err);
    if (!known) return raise_error(L, "Invalid command passed to redis.acl_check_cmd()");
    lua_pushboolean(L, allowed);
    return 1;
}

/* The global pcall as 7.0.15 replaces it: an error that is an {err=} table
 * (what redis.call raises) is given to the caller as its text. */
static int l_compat_pcall(lua_State *L)
{
    int argc = lua_gettop(L);
    lua_pushboolean(L, 1);
    lua_insert(L, 1);
    if (lua_pcall(L, argc - 1, LUA_MULTRET, 0)) {
        lua_remove(L, 1);
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "err");
            if (lua_isstring(L, -1)) lua_replace(L, -2);
            else lua_pop(L, 1);
        }
        lua_pushboolean(L, 0);
        lua_insert(L, 1);
    }
    return lua_gettop(L);
}

/* math.random and math.randomseed as 7.0.15 replaces them: the 48-bit
 * linear congruential generator of lrand48 (x = x * 0x5DEECE66D + 0xB mod
 * 2^48, 31 bits out), from its classic start, so that a script gets the same
 * numbers on any platform. One sequence per process, as Redis keeps it (and
 * never reseeds between scripts): scripts run one after another see the
 * numbers redis-server gives, whatever worker runs them. */
static _Atomic uint64_t g_rand = 0x1234ABCD330Eull;

static int32_t rand48_next(void)
{
    /* relaxed: the state is the only shared datum, and the CAS makes each
     * step take one value and leave the next, whatever the threads do */
    uint64_t cur = atomic_load_explicit(&g_rand, memory_order_relaxed), next;
    do {
        next = (cur * 0x5DEECE66Dull + 0xB) & 0xFFFFFFFFFFFFull;
    } while (!atomic_compare_exchange_weak_explicit(&g_rand, &cur, next, memory_order_relaxed,
                                                    memory_order_relaxed));
    return (int32_t)(next >> 17);
}

static int l_random(lua_State *L)
{
    if (!tl_run) return luaL_error(L, "math.random can only be called inside a script invocation");
    lua_Number r = (lua_Number)(rand48_next() % INT32_MAX) / (lua_Number)INT32_MAX;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, r);
        break;
    case 1: {
        int u = luaL_checkint(L, 1);
        luaL_argcheck(L, 1 <= u, 1, "interval is empty");
        lua_pushnumber(L, floor(r * u) + 1);
        break;
    }
    case 2: {
        int l = luaL_checkint(L, 1), u = luaL_checkint(L, 2);
        luaL_argcheck(L, l <= u, 2, "interval is empty");
        lua_pushnumber(L, floor(r * (u - l + 1)) + l);
        break;
    }
    default:
        return luaL_error(L, "wrong number of arguments");
    }
    return 1;
}

static int l_randomseed(lua_State *L)
{
    if (!tl_run) return luaL_error(L, "math.randomseed can only be called inside a script invocation");
    uint32_t seed = (uint32_t)luaL_checkint(L, 1);
    atomic_store_explicit(&g_rand, ((uint64_t)seed << 16) | 0x330E, memory_order_relaxed);   /* see rand48_next */
    return 0;
}

static int l_true(lua_State *L) { lua_pushboolean(L, 1); return 1; }

/* ---------------- the state ---------------- */

static const char err_handler[] =
    "local dbg = debug\n"
    "debug = nil\n"
    "function __redis__err__handler(err)\n"
    "  local i = dbg.getinfo(2,'nSl')\n"
    "  if i and i.what == 'C' then\n"
    "    i = dbg.getinfo(3,'nSl')\n"
    "  end\n"
    "  if type(err) ~= 'table' then\n"
    "    err = {err='ERR ' .. tostring(err)}\n"
    "  end\n"
    "  if i then\n"
    "    err['source'] = i.source\n"
    "    err['line'] = i.currentline\n"
    "  end\n"
    "  return err\n"
    "end\n";

/* Debian's lua-cjson and lua-bitop (Redis bundles the same versions, 2.1.0
 * and 1.0.2), linked as shared libraries: the sandbox has no require. */
int luaopen_cjson(lua_State *L);
int luaopen_bit(lua_State *L);

/* Opens a library as 7.0.15 does; name, when not "", is also its global
 * (Debian's cjson does not set one itself, the others set it again). */
static void open_lib(lua_State *L, lua_CFunction f, const char *name)
{
    lua_pushcfunction(L, f);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (name[0] && lua_istable(L, -1)) lua_setglobal(L, name);
    else lua_pop(L, 1);
}

static void set_fn(lua_State *L, const char *name, lua_CFunction f)
{
    lua_pushcfunction(L, f);
    lua_setfield(L, -2, name);
}

/* Builds a state in the order 7.0.15 builds its own (the keys of the
 * globals and of `redis` land in the same hash slots, so pairs meets them in
 * Redis's order): the allow-list guard first, then the libraries, pcall,
 * the redis table, math.random, the debugger's no-ops, the error handler,
 * and last the protection (script_sandbox.c). */
static lua_State *state_new(void)
{
    lua_State *L = script_lua_open();
    script_sandbox_guard(L);
    open_lib(L, luaopen_base, "");
    script_textload_install(L);   /* no bytecode (script_textload.h) */
    open_lib(L, luaopen_table, LUA_TABLIBNAME);
    open_lib(L, luaopen_string, LUA_STRLIBNAME);
    open_lib(L, luaopen_math, LUA_MATHLIBNAME);
    open_lib(L, luaopen_debug, LUA_DBLIBNAME);
    open_lib(L, luaopen_cjson, "cjson");
    open_lib(L, script_open_struct, "struct");
    open_lib(L, script_open_cmsgpack, "cmsgpack");
    open_lib(L, luaopen_bit, "bit");
    lua_pushcfunction(L, l_compat_pcall);
    lua_setglobal(L, "pcall");
    lua_newtable(L);
    set_fn(L, "call", l_call);
    set_fn(L, "pcall", l_pcall);
    set_fn(L, "log", l_log);
    static const struct { const char *name; int v; } levels[] = {
        { "LOG_DEBUG", 0 }, { "LOG_VERBOSE", 1 }, { "LOG_NOTICE", 2 }, { "LOG_WARNING", 3 },
        { "REDIS_VERSION_NUM", 0x07000f },
    };
    for (size_t i = 0; i < sizeof levels / sizeof *levels; i++) {
        lua_pushnumber(L, levels[i].v);
        lua_setfield(L, -2, levels[i].name);
    }
    lua_pushstring(L, "7.0.15");
    lua_setfield(L, -2, "REDIS_VERSION");
    set_fn(L, "setresp", l_setresp);
    set_fn(L, "sha1hex", l_sha1hex);
    set_fn(L, "error_reply", l_error_reply);
    set_fn(L, "status_reply", l_status_reply);
    set_fn(L, "set_repl", l_set_repl);
    static const struct { const char *name; int v; } repl[] = {
        { "REPL_NONE", 0 }, { "REPL_AOF", SCRIPT_REPL_AOF }, { "REPL_SLAVE", SCRIPT_REPL_REPLICA },
        { "REPL_REPLICA", SCRIPT_REPL_REPLICA }, { "REPL_ALL", SCRIPT_REPL_AOF | SCRIPT_REPL_REPLICA },
    };
    for (size_t i = 0; i < sizeof repl / sizeof *repl; i++) {
        lua_pushnumber(L, repl[i].v);
        lua_setfield(L, -2, repl[i].name);
    }
    set_fn(L, "acl_check_cmd", l_acl_check_cmd);
    lua_setglobal(L, "redis");
    lua_getglobal(L, "math");
    set_fn(L, "random", l_random);
    set_fn(L, "randomseed", l_randomseed);
    lua_pop(L, 1);
    lua_getglobal(L, "redis");
    set_fn(L, "breakpoint", script_ldb_breakpoint);
    set_fn(L, "debug", script_ldb_debug);
    set_fn(L, "replicate_commands", l_true);
    lua_pop(L, 1);
    luaL_loadbuffer(L, err_handler, sizeof err_handler - 1, "@err_handler_def");
    lua_pcall(L, 0, 0, 0);
    /* also under a light key: each script fetches it, and the globals' proxy is slower */
    lua_pushlightuserdata(L, (void *)err_handler);
    lua_getglobal(L, "__redis__err__handler");
    lua_rawset(L, LUA_REGISTRYINDEX);
    script_sandbox_lock(L);
    return L;
}

lua_State *script_lua_new_state(void) { return state_new(); }

static lua_State *state_get(void)
{
    unsigned long gen = script_cache_gen();
    if (tl_lua && tl_gen != gen) {
        script_shas_clear();          /* its entries refer to this state */
        script_lua_close(tl_lua);
        tl_lua = NULL;
    }
    if (!tl_lua) {
        tl_lua = state_new();
        tl_gen = gen;
        lua_getfield(tl_lua, LUA_REGISTRYINDEX, "shoal_globals");   /* the real globals (script_sandbox.c) */
        tl_globals_ref = luaL_ref(tl_lua, LUA_REGISTRYINDEX);
    }
    return tl_lua;
}

static bool compile_on(lua_State *L, const char *sha, const char *body, size_t len, resp_buf_t *r)
{
    unsigned flags;
    size_t skip;
    if (!script_shebang(body, len, &flags, &skip, r)) return false;
    /* the shebang line is skipped but its line feed kept: line numbers stay the user's */
    body += skip;
    len -= skip;
    char fflags[43] = "x_";
    memcpy(fflags + 2, sha, 41);
    lua_pushnumber(L, flags);
    lua_setfield(L, LUA_REGISTRYINDEX, fflags);
    if (script_load_text(L, body, len, "@user_script")) {
        resp_add_errorf(r, "ERR Error compiling script (new function): %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return false;
    }
    char fname[43] = "f_";
    memcpy(fname + 2, sha, 41);
    lua_setfield(L, LUA_REGISTRYINDEX, fname);
    return true;
}

bool script_compile(const char *sha, const char *body, size_t len, resp_buf_t *r)
{
    return compile_on(state_get(), sha, body, len, r);
}

void script_vm_measure(struct worker *w)
{
    if (tl_lua) script_vm_publish(worker_index(w), false, (long long)lua_gc(tl_lua, LUA_GCCOUNT, 0) * 1024 +
                                                              lua_gc(tl_lua, LUA_GCCOUNTB, 0));
}


/* What 7.0.15 checks of a script with a shebang before it runs; NULL: run. */
static const char *run_refused(cmd_ctx_t *ctx, unsigned flags, bool ro)
{
    bool stale = !ctx->from_master && repl_replica_stale();
    if (flags & SCRIPT_F_COMPAT)
        return stale ? "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'." : NULL;
    if ((flags & SCRIPT_F_NO_CLUSTER) && config_cluster_enabled())
        return "ERR Can not run script on cluster, 'no-cluster' flag is set.";
    if (stale && !(flags & SCRIPT_F_ALLOW_STALE))
        return "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag "
               "is not set on the script.";
    if (!(flags & SCRIPT_F_NO_WRITES)) {
        if (script_node_is_replica(ctx)) return "READONLY Can not run script with write flag on readonly replica";
        if (ro) return "ERR Can not execute a script with write flag using *_ro command.";
    }
    /* 7.0.15 gives such a script the denyoom flag: refused as any denyoom command */
    if (!(flags & (SCRIPT_F_ALLOW_OOM | SCRIPT_F_NO_WRITES)) && script_oom(ctx)) return EVICT_OOM_ERROR;
    return NULL;
}

static bool learned_of(lua_State *L, const char *name);
static void invoke(cmd_ctx_t *ctx, lua_State *L, const char *name, unsigned flags, int numkeys, bool ro, bool fcall,
                   int learned);

void script_run(cmd_ctx_t *ctx, const char *sha, const char *body, size_t len, int numkeys, bool ro)
{
    lua_State *L = state_get();
    char fname[43] = "f_";
    memcpy(fname + 2, sha, 41);
    lua_pushlightuserdata(L, (void *)err_handler);
    lua_rawget(L, LUA_REGISTRYINDEX);
    unsigned flags;
    bool learned;
    if (script_shas_find(L, sha, &flags, &learned)) {
        invoke(ctx, L, sha, flags, numkeys, ro, false, learned);
        return;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, fname);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        char *cached = NULL;
        if (!body) body = cached = script_cache_get(sha, &len);
        if (!body) {
            lua_pop(L, 1);
            resp_add_error(ctx->reply, "NOSCRIPT No matching script. Please use EVAL.");
            return;
        }
        bool ok = compile_on(L, sha, body, len, ctx->reply);
        if (ok && !cached) script_cache_add(sha, body, len);
        free(cached);
        if (!ok) {
            lua_pop(L, 1);
            return;
        }
        lua_getfield(L, LUA_REGISTRYINDEX, fname);
    }
    char fflags[43] = "x_";
    memcpy(fflags + 2, sha, 41);
    lua_getfield(L, LUA_REGISTRYINDEX, fflags);
    flags = (unsigned)lua_tonumber(L, -1);
    lua_pop(L, 1);
    learned = learned_of(L, sha);
    script_shas_add(L, sha, flags, learned);
    invoke(ctx, L, sha, flags, numkeys, ro, false, learned);
}

/* Pushes a Lua array of n strings. */
static void push_array(lua_State *L, const uint8_t **argv, const size_t *argvlen, int n)
{
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushlstring(L, (const char *)argv[i], argvlen[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

/* KEYS and ARGV: new tables in the real globals (a script may write to
 * them, so each run gets its own, as in 7.0.15). */
static void set_key_arrays(lua_State *L, const cmd_ctx_t *ctx, int numkeys)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, tl_globals_ref);
    lua_pushliteral(L, "KEYS");
    push_array(L, ctx->argv + 3, ctx->argvlen + 3, numkeys);
    lua_rawset(L, -3);
    lua_pushliteral(L, "ARGV");
    push_array(L, ctx->argv + 3 + numkeys, ctx->argvlen + 3 + numkeys, ctx->argc - 3 - numkeys);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* Whether the script (sha) or function (name) needed the node's session on
 * an earlier run of this state. */
static bool learned_of(lua_State *L, const char *name)
{
    char key[300];
    snprintf(key, sizeof key, "xs_%s", name);
    lua_getfield(L, LUA_REGISTRYINDEX, key);
    bool r = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return r;
}

/* script_lua_invoke; learned: learned_of(name) when known, else -1. */
static void invoke(cmd_ctx_t *ctx, lua_State *L, const char *name, unsigned flags, int numkeys, bool ro, bool fcall,
                   int learned)
{
    const char *refuse = run_refused(ctx, flags, ro);
    if (refuse) {
        lua_pop(L, 2);
        resp_add_error(ctx->reply, refuse);
        ctx->rejected = true;
        return;
    }
    if (flags & SCRIPT_F_NO_WRITES) ro = true;
    int nargs = 0;
    if (fcall) {
        /* a function gets its keys and arguments as two tables, not as globals */
        push_array(L, ctx->argv + 3, ctx->argvlen + 3, numkeys);
        push_array(L, ctx->argv + 3 + numkeys, ctx->argvlen + 3 + numkeys, ctx->argc - 3 - numkeys);
        nargs = 2;
    } else {
        set_key_arrays(L, ctx, numkeys);
    }
    int decl_slot = numkeys > 0 ? (int)slot_of_key(ctx->argv[3], ctx->argvlen[3]) : -1;
    run_t run = { .ctx = ctx, .ro = ro, .nkeys = numkeys, .decl_slot = decl_slot, .flags = flags,
                  .slot = config_cluster_enabled() ? decl_slot : -1, .resp = 2,
                  .repl = SCRIPT_REPL_AOF | SCRIPT_REPL_REPLICA, .oom = script_oom(ctx), .here = numkeys };
    bool debugging = script_ldb_active();
    if (debugging && !declared_keys_here(ctx, numkeys)) run.here = 0;
    tl_run = &run;
    /* The script's writes reach replicas and the AOF as its commands, in
     * one MULTI/EXEC when more than one (repl_multi_end), unless the script
     * itself runs inside a transaction that already wraps them. */
    struct repl_wbuf *rb = worker_repl(ctx->worker);
    /* A script that reached another worker's keys before takes the node's
     * session before it starts (xscript.c says why). */
    if (learned < 0) learned = learned_of(L, name);
    if (learned) xscript_acquire(ctx->worker, NULL);
    bool wrap = rb && !repl_in_multi(rb);
    if (wrap) repl_multi_begin(rb);
    blocking_hold(ctx->worker, true);   /* clients waiting on keys are served once, at the end */
    /* the debugger's line hook takes the place of the busy check, as in 7.0.15 */
    if (debugging) script_ldb_hook_on(L);
    else script_busy_start(L, ctx, name, !fcall);
    int err = lua_pcall(L, nargs, 1, -2 - nargs);
    if (debugging) lua_sethook(L, NULL, 0, 0);
    else script_busy_stop(L);
    blocking_hold(ctx->worker, false);
    if (wrap) repl_multi_end(rb);
    xscript_end(ctx->worker);           /* inside a transaction: at its end */
    tl_run = NULL;
    if (run.crossed && !learned) {
        char key[300];
        snprintf(key, sizeof key, "xs_%s", name);
        lua_pushboolean(L, 1);
        lua_setfield(L, LUA_REGISTRYINDEX, key);
        if (!fcall) script_shas_learned(name);
    }
    if (err) {
        if (lua_istable(L, -1)) {
            ctx->error_counted = script_add_error_table(ctx->reply, L, name);
        } else {
            /* eval names its function f_<sha> here, as 7.0.15 */
            resp_add_errorf(ctx->reply, "ERR Error running script %s%s, %.100s\n", fcall ? "" : "f_", name,
                            lua_isstring(L, -1) ? lua_tostring(L, -1) : "execution failure");
            lua_pop(L, 1);
        }
    } else if (returns_error_table(L)) {
        /* a call's error handed back (return redis.pcall(...)) counted where it arose */
        ctx->error_counted = script_add_error_table(ctx->reply, L, NULL);
    } else {
        script_lua_to_reply(ctx->reply, L, run.resp);
    }
    lua_pop(L, 1);                      /* the error handler */
    /* As 7.0.15: a collection step of 50 every 50 scripts of this thread
     * (EVAL and FCALL counted together, as its one counter counts both),
     * not one per script: a forced step on every script keeps the collector
     * marking the whole state over and over. */
    if (++tl_gc_count == SCRIPT_GC_PERIOD) {
        lua_gc(L, LUA_GCSTEP, SCRIPT_GC_PERIOD);
        tl_gc_count = 0;
    }
    script_vm_publish(worker_index(ctx->worker), fcall,
                      (long long)lua_gc(L, LUA_GCCOUNT, 0) * 1024 + lua_gc(L, LUA_GCCOUNTB, 0));
}

void script_lua_invoke(cmd_ctx_t *ctx, lua_State *L, const char *name, unsigned flags, int numkeys, bool ro,
                       bool fcall)
{
    invoke(ctx, L, name, flags, numkeys, ro, fcall, -1);
}

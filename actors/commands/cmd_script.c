/* cmd_script.c - EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD/EXISTS/FLUSH.
 *
 * EVAL is a keyed command: the dispatcher sends it to the worker owning the
 * slot of its declared keys (CROSSSLOT when they span slots, MOVED when
 * another node serves them), and the script runs there in that worker's Lua
 * state (script_lua.c), atomically with the worker's other commands. A
 * keyless script runs on the caller's worker. See docs/scripting.md.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/commands/script.h"
#include "actors/commands/script_ldb.h"
#include "actors/commands/script_lua.h"
#include "actors/worker/client.h"
#include "proto/strnum.h"

/* numkeys of argv[2] checked as 7.0.15 does; -1 after replying an error. */
static int numkeys_of(cmd_ctx_t *ctx)
{
    long long n;
    if (!str_to_ll(ctx->argv[2], ctx->argvlen[2], &n)) {
        resp_add_error(ctx->reply, "ERR value is not an integer or out of range");
        return -1;
    }
    if (n > ctx->argc - 3) {
        resp_add_error(ctx->reply, "ERR Number of keys can't be greater than number of args");
        return -1;
    }
    if (n < 0) {
        resp_add_error(ctx->reply, "ERR Number of keys can't be negative");
        return -1;
    }
    return (int)n;
}

static void eval_plain(cmd_ctx_t *ctx, bool ro)
{
    int numkeys = numkeys_of(ctx);
    if (numkeys < 0) return;
    char sha[41];
    script_sha1hex(sha, ctx->argv[1], ctx->argvlen[1]);
    script_run(ctx, sha, (const char *)ctx->argv[1], ctx->argvlen[1], numkeys, ro);
}

static void eval_generic(cmd_ctx_t *ctx, bool ro)
{
    /* a client in debug mode has it run in a debugger session (it runs with
     * its client then: ldb_conn.h) */
    if (ctx->client && (ctx->client->flags & CLIENT_LUA_DEBUG)) script_ldb_eval(ctx, eval_plain, ro);
    else eval_plain(ctx, ro);
}

static void evalsha_generic(cmd_ctx_t *ctx, bool ro)
{
    if (ctx->client && (ctx->client->flags & CLIENT_LUA_DEBUG)) {
        resp_add_error(ctx->reply, ctx->argvlen[1] != 40 ? "NOSCRIPT No matching script. Please use EVAL."
                                                         : "ERR Please use EVAL instead of EVALSHA for debugging");
        return;
    }
    int numkeys = numkeys_of(ctx);
    if (numkeys < 0) return;
    if (ctx->argvlen[1] != 40) {
        resp_add_error(ctx->reply, "NOSCRIPT No matching script. Please use EVAL.");
        return;
    }
    char sha[41];
    for (int i = 0; i < 40; i++) {
        char ch = (char)ctx->argv[1][i];
        sha[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch | 0x20) : ch;
    }
    sha[40] = 0;
    script_run(ctx, sha, NULL, 0, numkeys, ro);
}

uint32_t script_cmd_flags(uint32_t flags, unsigned f)
{
    /* 7.0.15's scriptFlagsToCmdFlags: the script's flags replace the
     * command's write, deny-oom, stale and may-replicate */
    flags &= ~(uint32_t)(CMD_STALE | CMD_DENYOOM | CMD_WRITE | CMD_MAY_REPLICATE);
    if (!(f & (SCRIPT_F_ALLOW_OOM | SCRIPT_F_NO_WRITES))) flags |= CMD_DENYOOM;
    if (!(f & SCRIPT_F_NO_WRITES)) flags |= CMD_WRITE;
    if (f & SCRIPT_F_ALLOW_STALE) flags |= CMD_STALE;
    return flags;
}

/* 7.0.15's evalGetCommandFlags: a script with a shebang (from the call, or
 * the cache for EVALSHA) is a write unless it says no-writes, so a replica
 * redirects it with -MOVED like any write; without one (compatibility mode)
 * the command's own flags stay. */
uint32_t cmd_eval_flags(uint32_t flags, int argc, const uint8_t **argv, const size_t *argvlen)
{
    if (argc < 2) return flags;
    bool sha = argvlen[0] >= 7 && (argv[0][4] == 's' || argv[0][4] == 'S');
    unsigned f;
    if (sha) {
        /* the cached script's shebang, parsed when it was added */
        if (argvlen[1] != 40) return flags;
        char hex[41];
        for (int i = 0; i < 40; i++) hex[i] = (char)(argv[1][i] | 0x20);
        hex[40] = '\0';
        if (!script_cache_flags(hex, &f)) return flags;
    } else {
        size_t skip;
        if (!script_shebang((const char *)argv[1], argvlen[1], &f, &skip, NULL)) return flags;
    }
    if (f & SCRIPT_F_COMPAT) return flags;
    return script_cmd_flags(flags, f);
}

void cmd_eval(cmd_ctx_t *ctx) { eval_generic(ctx, false); }
void cmd_eval_ro(cmd_ctx_t *ctx) { eval_generic(ctx, true); }
void cmd_evalsha(cmd_ctx_t *ctx) { evalsha_generic(ctx, false); }
void cmd_evalsha_ro(cmd_ctx_t *ctx) { evalsha_generic(ctx, true); }

void cmd_script_load(cmd_ctx_t *ctx)
{
    char sha[41];
    script_sha1hex(sha, ctx->argv[2], ctx->argvlen[2]);
    if (!script_cache_exists(sha, 40)) {
        if (!script_compile(sha, (const char *)ctx->argv[2], ctx->argvlen[2], ctx->reply)) return;
        script_cache_add(sha, (const char *)ctx->argv[2], ctx->argvlen[2]);
        script_vm_measure(ctx->worker);
    }
    resp_add_bulk(ctx->reply, sha, 40);
}

void cmd_script_exists(cmd_ctx_t *ctx)
{
    resp_add_array(ctx->reply, ctx->argc - 2);
    for (int i = 2; i < ctx->argc; i++)
        resp_add_int(ctx->reply, script_cache_exists((const char *)ctx->argv[i], ctx->argvlen[i]));
}

void cmd_script_flush(cmd_ctx_t *ctx)
{
    if (ctx->argc > 3 || (ctx->argc == 3 && !(ctx->argvlen[2] == 5 && !strncasecmp((const char *)ctx->argv[2], "async", 5)) &&
                          !(ctx->argvlen[2] == 4 && !strncasecmp((const char *)ctx->argv[2], "sync", 4)))) {
        resp_add_error(ctx->reply, "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        return;
    }
    script_cache_flush();
    resp_add_simple(ctx->reply, "OK");
}

void cmd_script_kill(cmd_ctx_t *ctx)
{
    const char *err = script_kill(true);
    if (err) resp_add_error(ctx->reply, err);
    else resp_add_simple(ctx->reply, "OK");
}

void cmd_script_help(cmd_ctx_t *ctx)
{
    /* 7.0.15's text */
    static const char *const lines[] = {
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help.",
    };
    arg_reply_help(ctx, lines, sizeof lines / sizeof lines[0]);
}

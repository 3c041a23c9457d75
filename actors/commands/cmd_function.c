/* cmd_function.c - FCALL, FCALL_RO and FUNCTION LOAD/DELETE/FLUSH/LIST/DUMP/
 * RESTORE/STATS/KILL/HELP, with redis-server 7.0.15's replies and texts.
 *
 * FCALL is a keyed command like EVAL: the dispatcher sends it to the worker
 * owning its declared keys' slot (CROSSSLOT, MOVED and ASK as for EVAL), and
 * the function runs there, in that worker's state (function_lua.c). The
 * FUNCTION subcommands run on the client's worker against the node's
 * registry (function_lib.c); those that change it count one change
 * (ctx->dirty), so that they reach replicas and the AOF as sent, as 7.0.15
 * propagates them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/commands/commands.h"
#include "actors/commands/function.h"
#include "actors/commands/script.h"
#include "actors/commands/script_lua.h"
#include "actors/config/config.h"
#include "actors/worker/worker.h"
#include "proto/glob.h"
#include "runtime/xmalloc.h"

#define LOAD_TIMEOUT_MS 500

static bool arg_is(cmd_ctx_t *ctx, int i, const char *word)
{
    return ctx->argvlen[i] == strlen(word) && !strncasecmp((const char *)ctx->argv[i], word, ctx->argvlen[i]);
}

/* 7.0.15's addReplySubcommandSyntaxError. */
static void syntax_error(cmd_ctx_t *ctx)
{
    resp_add_errorf(ctx->reply, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try FUNCTION HELP.",
                    (int)(ctx->argvlen[1] > 128 ? 128 : ctx->argvlen[1]), (const char *)ctx->argv[1]);
}

void cmd_fcall(cmd_ctx_t *ctx) { fn_call(ctx, false); }

uint32_t cmd_fcall_flags(uint32_t flags, int argc, const uint8_t **argv, const size_t *argvlen)
{
    unsigned f;
    if (argc < 2 || !fn_reg_func_flags(argv[1], argvlen[1], &f)) return flags;
    return script_cmd_flags(flags, f);
}
void cmd_fcall_ro(cmd_ctx_t *ctx) { fn_call(ctx, true); }

static bool registry_has(void *arg, const char *name)
{
    (void)arg;
    return fn_reg_has_lib(name);
}

void cmd_function_load(cmd_ctx_t *ctx)
{
    bool replace = false;
    int at = 2;
    for (; at < ctx->argc - 1; at++) {
        if (arg_is(ctx, at, "replace")) {
            replace = true;
            continue;
        }
        resp_add_errorf(ctx->reply, "ERR Unknown option given: %.*s", (int)ctx->argvlen[at], (const char *)ctx->argv[at]);
        return;
    }
    char err[1024];
    /* the master's stream and the AOF are obeyed whatever the time it takes, as 7.0.15 */
    fn_lib_t *lib = fn_lib_build((const char *)ctx->argv[at], ctx->argvlen[at], ctx->from_master ? 0 : LOAD_TIMEOUT_MS,
                                 replace ? NULL : registry_has, NULL, err, sizeof err);
    /* once added, the library is the registry's (another worker may delete it) */
    char *name = lib ? xstrdup(lib->name) : NULL;
    if (!lib || !fn_reg_add(&lib, 1, replace ? FN_REPLACE : FN_APPEND, false, err, sizeof err)) {
        fn_lib_free(lib);
        free(name);
        resp_add_errorf(ctx->reply, "ERR %s", err);
        return;
    }
    resp_add_bulk_str(ctx->reply, name);
    free(name);
    ctx->dirty++;
}

void cmd_function_delete(cmd_ctx_t *ctx)
{
    if (!fn_reg_delete(ctx->argv[2], ctx->argvlen[2])) {
        resp_add_error(ctx->reply, "ERR Library not found");
        return;
    }
    ctx->dirty++;
    resp_add_simple(ctx->reply, "OK");
}

void cmd_function_flush(cmd_ctx_t *ctx)
{
    if (ctx->argc > 3) {
        syntax_error(ctx);
        return;
    }
    if (ctx->argc == 3 && !arg_is(ctx, 2, "sync") && !arg_is(ctx, 2, "async")) {
        resp_add_error(ctx->reply, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    fn_reg_flush();   /* ASYNC too: the libraries are small */
    ctx->dirty++;
    resp_add_simple(ctx->reply, "OK");
}

static const char *const flag_texts[] = { "no-writes", "allow-oom", "allow-stale", "no-cluster",
                                          "allow-cross-slot-keys" };
static const unsigned flag_bits[] = { SCRIPT_F_NO_WRITES, SCRIPT_F_ALLOW_OOM, SCRIPT_F_ALLOW_STALE,
                                      SCRIPT_F_NO_CLUSTER, SCRIPT_F_CROSS_SLOT };

static void reply_library(resp_buf_t *r, const fn_lib_t *lib, bool with_code)
{
    resp_add_map(r, with_code ? 4 : 3);
    resp_add_bulk_str(r, "library_name");
    resp_add_bulk_str(r, lib->name);
    resp_add_bulk_str(r, "engine");
    resp_add_bulk_str(r, "LUA");
    resp_add_bulk_str(r, "functions");
    resp_add_array(r, lib->nfuncs);
    for (int i = 0; i < lib->nfuncs; i++) {
        const fn_func_t *f = &lib->funcs[i];
        resp_add_map(r, 3);
        resp_add_bulk_str(r, "name");
        resp_add_bulk_str(r, f->name);
        resp_add_bulk_str(r, "description");
        resp_add_bulk_str(r, f->desc);
        resp_add_bulk_str(r, "flags");
        int nflags = 0;
        for (size_t k = 0; k < sizeof flag_bits / sizeof *flag_bits; k++) nflags += (f->flags & flag_bits[k]) != 0;
        resp_add_set(r, nflags);
        for (size_t k = 0; k < sizeof flag_bits / sizeof *flag_bits; k++)
            if (f->flags & flag_bits[k]) resp_add_simple(r, flag_texts[k]);
    }
    if (with_code) {
        resp_add_bulk_str(r, "library_code");
        resp_add_bulk(r, lib->code, lib->code_len);
    }
}

void cmd_function_list(cmd_ctx_t *ctx)
{
    bool with_code = false;
    int pattern = -1;
    for (int i = 2; i < ctx->argc; i++) {
        if (!with_code && arg_is(ctx, i, "withcode")) {
            with_code = true;
            continue;
        }
        if (pattern < 0 && arg_is(ctx, i, "libraryname")) {
            if (i >= ctx->argc - 1) {
                resp_add_error(ctx->reply, "ERR library name argument was not given");
                return;
            }
            pattern = ++i;
            continue;
        }
        resp_add_errorf(ctx->reply, "ERR Unknown argument %.*s", (int)ctx->argvlen[i], (const char *)ctx->argv[i]);
        return;
    }
    int n;
    fn_lib_t **libs = fn_reg_snapshot(&n, NULL);
    int shown = 0;
    bool *match = xcalloc((size_t)(n ? n : 1), sizeof *match);
    for (int i = 0; i < n; i++) {
        match[i] = pattern < 0 || glob_match((const char *)ctx->argv[pattern], ctx->argvlen[pattern], libs[i]->name,
                                             strlen(libs[i]->name), 1);
        shown += match[i];
    }
    resp_add_array(ctx->reply, shown);
    for (int i = 0; i < n; i++)
        if (match[i]) reply_library(ctx->reply, libs[i], with_code);
    free(match);
    fn_libs_free(libs, n);
}

static int rdb_compress(void)
{
    char buf[16];
    return !(config_get_by_name("rdbcompression", buf, sizeof buf) >= 0 && !strcasecmp(buf, "no"));
}

void cmd_function_dump(cmd_ctx_t *ctx)
{
    size_t len;
    uint8_t *p = fn_dump_payload(rdb_compress(), &len);
    resp_add_bulk(ctx->reply, p, len);
    free(p);
}

void cmd_function_restore(cmd_ctx_t *ctx)
{
    if (ctx->argc > 4) {
        syntax_error(ctx);
        return;
    }
    enum fn_policy policy = FN_APPEND;
    if (ctx->argc == 4) {
        if (arg_is(ctx, 3, "append")) policy = FN_APPEND;
        else if (arg_is(ctx, 3, "replace")) policy = FN_REPLACE;
        else if (arg_is(ctx, 3, "flush")) policy = FN_FLUSH;
        else {
            resp_add_error(ctx->reply, "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
            return;
        }
    }
    char err[1024];
    int n = 0;
    fn_lib_t **libs = fn_restore_parse(ctx->argv[2], ctx->argvlen[2], &n, err, sizeof err);
    if (!libs || !fn_reg_add(libs, n, policy, true, err, sizeof err)) {
        if (libs) fn_libs_free(libs, n);
        resp_add_errorf(ctx->reply, "ERR %s", err);
        return;
    }
    free(libs);   /* the libraries are the registry's */
    ctx->dirty++;
    resp_add_simple(ctx->reply, "OK");
}

void cmd_function_stats(cmd_ctx_t *ctx)
{
    long long libs, funcs;
    fn_reg_counts(&libs, &funcs);
    resp_buf_t running;
    resp_buf_init(&running, ctx->reply->proto);
    /* a busy script of any worker, so that every client sees it whatever worker serves it */
    int busy = script_busy_running(&running);
    if (busy == 1) {
        resp_buf_free(&running);
        resp_add_error(ctx->reply, WORKER_BUSY_EVAL);
        return;
    }
    resp_add_map(ctx->reply, 2);
    resp_add_bulk_str(ctx->reply, "running_script");
    if (busy) resp_buf_append(ctx->reply, running.data, running.len);
    else resp_add_null(ctx->reply);
    resp_buf_free(&running);
    resp_add_bulk_str(ctx->reply, "engines");
    resp_add_map(ctx->reply, 1);
    resp_add_bulk_str(ctx->reply, "LUA");
    resp_add_map(ctx->reply, 2);
    resp_add_bulk_str(ctx->reply, "libraries_count");
    resp_add_int(ctx->reply, libs);
    resp_add_bulk_str(ctx->reply, "functions_count");
    resp_add_int(ctx->reply, funcs);
}

void cmd_function_kill(cmd_ctx_t *ctx)
{
    const char *err = script_kill(false);   /* script_busy.c: the busy function, if one runs */
    if (err) resp_add_error(ctx->reply, err);
    else resp_add_simple(ctx->reply, "OK");
}

void cmd_function_help(cmd_ctx_t *ctx)
{
    static const char *const lines[] = {
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        "HELP",
        "    Prints this help.",
    };
    size_t n = sizeof lines / sizeof *lines;
    resp_add_array(ctx->reply, (long long)n);
    for (size_t i = 0; i < n; i++) resp_add_simple(ctx->reply, lines[i]);
}

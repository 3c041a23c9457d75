/* cmd_ops_misc.c - LOLWUT, MODULE and SWAPDB, answered as a redis-server
 * 7.0.15 without modules and with one database answers them.
 *
 * LOLWUT's art is our own (a shoal of fish); its last line names the Redis
 * version we speak, as 7.0.15's does. MODULE lists no module and loads none.
 * SWAPDB: this node serves database 0 only (SELECT refuses the others), so
 * the one swap there is, 0 with 0, changes nothing.
 *
 * Must never: load a shared object, or pretend a database other than 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/worker/client.h"
#include "actors/worker/wdb.h"
#include "actors/worker/protect.h"
#include "proto/strnum.h"
#include "runtime/log.h"

#define VERSION_LINE "Redis ver. 7.0.15"

/* ---- LOLWUT ---- */

/* One fish, facing right, with a wave of water under the school. */
static const char *const fish[] = { "  ,/..   ", "<')___><  ", " `\\``    " };

static void draw_school(resp_buf_t *out, long cols, long rows, const char *caption)
{
    size_t cap = (size_t)(cols + 1) * (size_t)(rows * 3 + 2) + 128;
    char *art = malloc(cap), *p = art;
    if (!art) {
        resp_add_error(out, "ERR out of memory");
        return;
    }
    for (long r = 0; r < rows; r++) {
        for (int line = 0; line < 3; line++) {
            /* every other row of fish swims half a fish further on */
            long shift = (r % 2) * 5;
            for (long c = 0; c < cols; c++) {
                long x = (c + 10 - shift) % 10;
                *p++ = x < 9 ? fish[line][x] : ' ';
            }
            *p++ = '\n';
        }
    }
    for (long c = 0; c < cols; c++) *p++ = (c % 4 == 1) ? '~' : '-';
    *p++ = '\n';
    p += snprintf(p, cap - (size_t)(p - art), "%s%s\n", caption, VERSION_LINE);
    resp_add_verbatim(out, art, (size_t)(p - art));
    free(art);
}

void cmd_lolwut(cmd_ctx_t *ctx)
{
    int first = 1;
    unsigned version = 7;
    if (ctx->argc >= 3 && arg_is_at(ctx, 1, "version")) {
        long long v;
        if (!arg_ll_at(ctx, 2, &v)) return;
        version = (unsigned)v;            /* 7.0.15 keeps the low 32 bits */
        first = 3;
    }
    if (version != 5 && version != 6) {
        /* what 7.0.15 shows for its own version (and any other) */
        resp_add_verbatim(ctx->reply, VERSION_LINE "\n", sizeof VERSION_LINE);
        return;
    }
    /* VERSION 5: [columns [fish-per-row [rows]]]; VERSION 6: [columns [rows]] */
    long long nums[3] = { 66, 8, 12 };
    if (version == 6) nums[1] = 40;
    int max = version == 5 ? 3 : 2;
    for (int i = 0; i < max && first + i < ctx->argc; i++)
        if (!arg_ll_at(ctx, first + i, &nums[i])) return;
    long cols = nums[0] < 1 ? 1 : nums[0] > 1000 ? 1000 : (long)nums[0];
    long rows = version == 5 ? nums[2] : nums[1] / 10;
    if (rows < 1) rows = 1;
    if (rows > 20) rows = 20;
    draw_school(ctx->reply, cols, rows,
                version == 5 ? "A shoal keeps together by keeping apart. " : "Many small fish, one shape. ");
}

/* ---- MODULE ---- */

void cmd_module_list(cmd_ctx_t *ctx) { resp_add_array(ctx->reply, 0); }

void cmd_module_help(cmd_ctx_t *ctx)
{
    static const char *const help[] = {
        "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LIST",
        "    Return a list of loaded modules.",
        "LOAD <path> [<arg> ...]",
        "    Load a module library from <path>, passing to it any optional arguments.",
        "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
        "    Load a module library from <path>, while passing it module configurations and optional arguments.",
        "UNLOAD <name>",
        "    Unload a module.",
        "HELP",
        "    Prints this help.",
    };
    arg_reply_help(ctx, help, sizeof help / sizeof help[0]);
}

/* LOAD, LOADEX and UNLOAD are gated by enable-module-command, as 7.0.15
 * gates them before running them. */
static bool module_allowed(cmd_ctx_t *ctx)
{
    int setting = (int)config_get_num_at(config_find("enable-module-command"));
    if (protect_allows(setting, ctx->client->local)) return true;
    resp_add_error(ctx->reply,
                   "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", "
                   "you can run it from a local connection, otherwise you need to set this option "
                   "in the configuration file, and then restart the server.");
    return false;
}

void cmd_module_load(cmd_ctx_t *ctx)
{
    if (!module_allowed(ctx)) return;
    LOG_WARNING("Module %.*s failed to load: this server does not load modules", (int)ctx->argvlen[2],
                (const char *)ctx->argv[2]);
    resp_add_error(ctx->reply, "ERR Error loading the extension. Please check the server logs.");
}

void cmd_module_unload(cmd_ctx_t *ctx)
{
    if (!module_allowed(ctx)) return;
    resp_add_error(ctx->reply, "ERR Error unloading module: no such module with that name");
}

/* ---- SWAPDB ---- */

/* Redis's getIntFromObjectOrReply with a message of its own. */
static bool db_index(cmd_ctx_t *ctx, int i, long long *out, const char *err)
{
    if (str_to_ll(ctx->argv[i], ctx->argvlen[i], out) && *out >= INT32_MIN && *out <= INT32_MAX) return true;
    resp_add_error(ctx->reply, err);
    return false;
}

void cmd_swapdb(cmd_ctx_t *ctx)
{
    if (config_cluster_enabled()) {
        resp_add_error(ctx->reply, "ERR SWAPDB is not allowed in cluster mode");
        return;
    }
    long long a, b;
    if (!db_index(ctx, 1, &a, "ERR invalid first DB index") || !db_index(ctx, 2, &b, "ERR invalid second DB index"))
        return;
    if (a < 0 || a >= wdb_count() || b < 0 || b >= wdb_count()) {
        resp_add_error(ctx->reply, "ERR DB index is out of range");
        return;
    }
    if (a == b) {                 /* nothing moves, but 7.0.15 counts and propagates it */
        ctx->dirty = true;
        resp_add_simple(ctx->reply, "OK");
        return;
    }
    if (!ctx->client) {           /* a script's call: the swap cannot wait inside it */
        resp_add_error(ctx->reply, "ERR SWAPDB is not supported inside a script here");
        return;
    }
    /* Every worker swaps at one moment; the client waits for it (wdb.h). */
    remote_cmd_t *rc = dispatch_defer_nosend(ctx, WMSG_DONE);
    wdb_swap_all(ctx->worker, (int)a, (int)b, rc);
}

/* cmd_acl.c - the ACL command (SETUSER, GETUSER, DELUSER, LIST, USERS,
 * WHOAMI, CAT, GENPASS, LOG, DRYRUN, SAVE, LOAD, HELP) with 7.0.15's
 * replies. Runs on the client's worker; the users are actors/acl's, the
 * connection's user and the closing of ended users' connections are
 * acl_gate's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "actors/acl/acl.h"
#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/worker/acl_gate.h"
#include "actors/worker/client.h"
#include "runtime/random.h"

static bool sub_is(cmd_ctx_t *ctx, const char *name) { return arg_is(ctx->argv[1], ctx->argvlen[1], name); }

static void acl_setuser_cmd(cmd_ctx_t *ctx)
{
    if (acl_has_spaces_pub(ctx->argv[2], ctx->argvlen[2])) {
        resp_add_error(ctx->reply, "ERR Usernames can't contain spaces or null characters");
        return;
    }
    char err[1024];
    uint64_t revoked;
    if (!acl_setuser(ctx->argv[2], ctx->argvlen[2], ctx->argc - 3, ctx->argv + 3, ctx->argvlen + 3, err, sizeof err,
                     &revoked)) {
        resp_add_errorf(ctx->reply, "ERR %s", err);
        return;
    }
    if (revoked) acl_gate_recheck_subscribers(revoked);
    resp_add_simple(ctx->reply, "OK");
}

static void acl_deluser_cmd(cmd_ctx_t *ctx)
{
    for (int j = 2; j < ctx->argc; j++)
        if (ctx->argvlen[j] == 7 && !memcmp(ctx->argv[j], "default", 7)) {
            resp_add_error(ctx->reply, "ERR The 'default' user cannot be removed");
            return;
        }
    uint64_t *ended = malloc(sizeof *ended * (size_t)ctx->argc);
    if (!ended) abort();
    int n = acl_deluser(ctx->argc - 2, ctx->argv + 2, ctx->argvlen + 2, ended);
    acl_gate_end_users(ctx->client, ended, n);
    free(ended);
    resp_add_int(ctx->reply, n);
}

static void add_bulk_free(resp_buf_t *r, char *s)
{
    resp_add_bulk_str(r, s);
    free(s);
}

static void selector_fields(resp_buf_t *r, const acl_selector_t *s)
{
    resp_add_bulk_str(r, "commands");
    add_bulk_free(r, acl_describe_commands(s));
    resp_add_bulk_str(r, "keys");
    add_bulk_free(r, acl_describe_keys(s));
    resp_add_bulk_str(r, "channels");
    add_bulk_free(r, acl_describe_channels(s));
}

struct read_arg { cmd_ctx_t *ctx; };

static void getuser_cb(const acl_snap_t *s, void *arg)
{
    cmd_ctx_t *ctx = arg;
    resp_buf_t *r = ctx->reply;
    const acl_user_t *u = acl_user_by_name(s, ctx->argv[2], ctx->argvlen[2]);
    if (!u) {
        resp_add_null(r);
        return;
    }
    static const struct { uint32_t flag; const char *name; } flags[] = {
        { ACL_USER_ON, "on" }, { ACL_USER_OFF, "off" }, { ACL_USER_NOPASS, "nopass" },
        { ACL_USER_SKIP_SANITIZE, "skip-sanitize-payload" }, { ACL_USER_SANITIZE, "sanitize-payload" },
    };
    resp_add_map(r, 6);
    resp_add_bulk_str(r, "flags");
    int nf = 0;
    for (size_t j = 0; j < sizeof flags / sizeof flags[0]; j++) nf += (u->flags & flags[j].flag) != 0;
    resp_add_set(r, nf);
    for (size_t j = 0; j < sizeof flags / sizeof flags[0]; j++)
        if (u->flags & flags[j].flag) resp_add_bulk_str(r, flags[j].name);
    resp_add_bulk_str(r, "passwords");
    resp_add_array(r, u->npasswords);
    for (int i = 0; i < u->npasswords; i++) resp_add_bulk(r, u->passwords[i], 64);
    selector_fields(r, &u->sel[0]);
    resp_add_bulk_str(r, "selectors");
    resp_add_array(r, u->nsel - 1);
    for (int i = 1; i < u->nsel; i++) {
        resp_add_map(r, 3);
        selector_fields(r, &u->sel[i]);
    }
}

static void list_cb(const acl_snap_t *s, void *arg)
{
    cmd_ctx_t *ctx = arg;
    bool names = sub_is(ctx, "users");
    resp_add_array(ctx->reply, s->nusers);
    for (int i = 0; i < s->nusers; i++) {
        const acl_user_t *u = s->users[i];
        if (names) {
            resp_add_bulk(ctx->reply, u->name, u->namelen);
            continue;
        }
        char *d = acl_describe_user(u);
        size_t len = 5 + u->namelen + 1 + strlen(d);
        char *line = malloc(len + 1);
        if (!line) abort();
        snprintf(line, len + 1, "user %.*s %s", (int)u->namelen, u->name, d);
        resp_add_bulk(ctx->reply, line, len);
        free(line);
        free(d);
    }
}

static void cat_cmd(cmd_ctx_t *ctx)
{
    if (ctx->argc == 2) {
        resp_add_array(ctx->reply, acl_category_count());
        for (int j = 0; j < acl_category_count(); j++) resp_add_bulk_str(ctx->reply, acl_category_name(j));
        return;
    }
    uint32_t bit = acl_category_bit(ctx->argv[2], ctx->argvlen[2]);
    if (!bit) {
        resp_add_errorf(ctx->reply, "ERR Unknown category '%.*s'", (int)(ctx->argvlen[2] > 128 ? 128 : ctx->argvlen[2]),
                        (const char *)ctx->argv[2]);
        return;
    }
    int n = 0;
    /* Entries 7.0.15 has not (CLUSTER's unlisted subcommands) come last and
     * stay out, as they stay out of COMMAND. */
    for (int id = 0; id < acl_cmd_count(); id++)
        if ((acl_cmd_categories(id) & bit) && acl_cmd_listed(id)) n++;
    resp_add_array(ctx->reply, n);
    for (int id = 0; id < acl_cmd_count(); id++) {
        if (!(acl_cmd_categories(id) & bit) || !acl_cmd_listed(id)) continue;
        char name[160];
        size_t len = cmd_fullname(acl_cmd_at(id), name, sizeof name);
        resp_add_bulk(ctx->reply, name, len < sizeof name ? len : sizeof name - 1);
    }
}

static void genpass_cmd(cmd_ctx_t *ctx)
{
    long long bits = 256;
    if (ctx->argc == 3 && !arg_ll(ctx->argv[2], ctx->argvlen[2], &bits)) {
        resp_add_error(ctx->reply, "ERR value is not an integer or out of range");
        return;
    }
    if (bits <= 0 || bits > 4096) {
        resp_add_error(ctx->reply, "ERR ACL GENPASS argument must be the number of bits for the output password, a "
                                   "positive number up to 4096");
        return;
    }
    char pass[4096 / 4 + 1];
    size_t chars = (size_t)(bits + 3) / 4;
    rt_random_hex(pass, chars);
    resp_add_bulk(ctx->reply, pass, chars);
}

static void log_cmd(cmd_ctx_t *ctx)
{
    long long count = 10;
    if (ctx->argc == 3) {
        if (arg_is(ctx->argv[2], ctx->argvlen[2], "reset")) {
            acl_log_reset();
            resp_add_simple(ctx->reply, "OK");
            return;
        }
        if (!arg_ll(ctx->argv[2], ctx->argvlen[2], &count)) {
            resp_add_error(ctx->reply, "ERR value is not an integer or out of range");
            return;
        }
    }
    acl_log_reply(ctx->reply, count < 0 ? 0 : (long)count);
}

static void dryrun_cb(const acl_snap_t *s, void *arg)
{
    cmd_ctx_t *ctx = arg;
    const acl_user_t *u = acl_user_by_name(s, ctx->argv[2], ctx->argvlen[2]);
    if (!u) {
        resp_add_errorf(ctx->reply, "ERR User '%.*s' not found", (int)ctx->argvlen[2], (const char *)ctx->argv[2]);
        return;
    }
    const uint8_t **argv = ctx->argv + 3;
    const size_t *argvlen = ctx->argvlen + 3;
    int argc = ctx->argc - 3;
    const cmd_def_t *cmd = cmd_lookup(argv[0], argvlen[0]);
    if (cmd && cmd->subcommands && argc >= 2) cmd = cmd_lookup_sub(cmd, argv[1], argvlen[1]);
    if (!cmd) {
        resp_add_errorf(ctx->reply, "ERR Command '%.*s' not found", (int)argvlen[0], (const char *)argv[0]);
        return;
    }
    char name[160];
    cmd_fullname(cmd, name, sizeof name);
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        resp_add_errorf(ctx->reply, "ERR wrong number of arguments for '%s' command", name);
        return;
    }
    int pos = 0;
    int rc = acl_check(u, cmd, argc, argv, argvlen, &pos);
    char msg[1024];
    switch (rc) {
    case ACL_OK:
        resp_add_simple(ctx->reply, "OK");
        return;
    case ACL_DENIED_CMD:
        snprintf(msg, sizeof msg, "This user has no permissions to run the '%s' command", name);
        break;
    case ACL_DENIED_KEY:
        snprintf(msg, sizeof msg, "This user has no permissions to access the '%.*s' key", (int)argvlen[pos],
                 (const char *)argv[pos]);
        break;
    default:
        snprintf(msg, sizeof msg, "This user has no permissions to access the '%.*s' channel", (int)argvlen[pos],
                 (const char *)argv[pos]);
        break;
    }
    resp_add_bulk_str(ctx->reply, msg);
}

static void load_save_cmd(cmd_ctx_t *ctx, char *path)
{
    if (sub_is(ctx, "save")) {
        if (acl_save_file(path) == 0) resp_add_simple(ctx->reply, "OK");
        else resp_add_error(ctx->reply, "ERR There was an error trying to save the ACLs. Please check the server "
                                        "logs for more information");
        return;
    }
    char err[8192];
    uint64_t *ended = NULL;
    int n = 0;
    if (acl_load_file(path, err, sizeof err, &ended, &n) != 0) {
        resp_add_errorf(ctx->reply, "ERR %s", err);
        return;
    }
    acl_gate_end_users(ctx->client, ended, n);
    free(ended);
    resp_add_simple(ctx->reply, "OK");
}

static void help_cmd(cmd_ctx_t *ctx)
{
    static const char *const lines[] = {
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        "HELP",
        "    Prints this help.",
    };
    arg_reply_help(ctx, lines, sizeof lines / sizeof lines[0]);
}

void cmd_acl(cmd_ctx_t *ctx)
{
    int argc = ctx->argc;
    if (sub_is(ctx, "setuser")) {
        acl_setuser_cmd(ctx);
    } else if (sub_is(ctx, "deluser")) {
        acl_deluser_cmd(ctx);
    } else if (sub_is(ctx, "getuser")) {
        acl_with_snapshot(getuser_cb, ctx);
    } else if (sub_is(ctx, "list") || sub_is(ctx, "users")) {
        acl_with_snapshot(list_cb, ctx);
    } else if (sub_is(ctx, "whoami")) {
        acl_gate_whoami(ctx->client, ctx->reply);
    } else if (sub_is(ctx, "load") || sub_is(ctx, "save")) {
        char path[1024];
        if (config_get_by_name("aclfile", path, sizeof path) <= 0) {
            resp_add_error(ctx->reply,
                           "ERR This Redis instance is not configured to use an ACL file. You may want to specify "
                           "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
                           "Redis configuration file set) in order to store users in the Redis configuration.");
            return;
        }
        load_save_cmd(ctx, path);
    } else if (sub_is(ctx, "cat") && argc <= 3) {
        cat_cmd(ctx);
    } else if (sub_is(ctx, "genpass") && argc <= 3) {
        genpass_cmd(ctx);
    } else if (sub_is(ctx, "log") && argc <= 3) {
        log_cmd(ctx);
    } else if (sub_is(ctx, "dryrun")) {
        acl_with_snapshot(dryrun_cb, ctx);
    } else if (sub_is(ctx, "help")) {
        help_cmd(ctx);
    } else {
        resp_add_errorf(ctx->reply, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try ACL HELP.",
                        (int)(ctx->argvlen[1] > 128 ? 128 : ctx->argvlen[1]), (const char *)ctx->argv[1]);
    }
}

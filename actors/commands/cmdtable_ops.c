/* cmdtable_ops.c - command table entries for the operators' introspection
 * commands: SLOWLOG and MONITOR.
 *
 * Generated once from the COMMAND INFO / COMMAND DOCS replies of a real
 * redis-server 7.0.15, then kept by hand: arity, flags, key positions, ACL
 * categories, tips and the argument trees are interop facts that clients
 * read, so they must stay identical to 7.0.15. The summary, complexity and
 * history texts are our own words. Data only; no logic here.
 */
#include <stddef.h>
#include "actors/commands/cmd.h"
#include "actors/commands/commands.h"
#include "actors/worker/monitor.h"
#include "actors/worker/slowlog.h"

static const cmd_history_t history_slowlog_get[] = {
    { "4.0.0", "Each entry also gives the client's address and name." },
};

static const cmd_arg_doc_t args_slowlog_get[] = {
    { .name = "count", .type = "integer", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL },
};

#define SLOWLOG_FANOUT { .part = slowlog_part, .merge = slowlog_merge, .reply = slowlog_reply }

static cmd_def_t subcommands_slowlog[] = {
    {
        .name = "get", .arity = -2, .flags = CMD_ADMIN | CMD_LOADING | CMD_STALE, .flag_names = "admin loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .tips = "request_policy:all_nodes nondeterministic_output",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_slowlog_get, .fanout = SLOWLOG_FANOUT,
        .summary = "Lists the newest entries of the slow log",
        .since = "2.2.12", .group = "server", .complexity = "O(N), N being the number of entries listed",
        .history = history_slowlog_get, .history_count = 1,
        .args = args_slowlog_get, .arg_count = 1,
    },
    {
        .name = "reset", .arity = 2, .flags = CMD_ADMIN | CMD_LOADING | CMD_STALE, .flag_names = "admin loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .tips = "request_policy:all_nodes response_policy:all_succeeded",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_slowlog_reset, .fanout = SLOWLOG_FANOUT,
        .summary = "Empties the slow log",
        .since = "2.2.12", .group = "server", .complexity = "O(N), N being the number of entries in the slow log",
    },
    {
        .name = "len", .arity = 2, .flags = CMD_ADMIN | CMD_LOADING | CMD_STALE, .flag_names = "admin loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .tips = "request_policy:all_nodes response_policy:agg_sum nondeterministic_output",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_slowlog_len, .fanout = SLOWLOG_FANOUT,
        .summary = "Counts the entries of the slow log",
        .since = "2.2.12", .group = "server", .complexity = "O(1)",
    },
    {
        .name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_slowlog_help,
        .summary = "Lists the SLOWLOG subcommands with a short description",
        .since = "6.2.0", .group = "server", .complexity = "O(1)",
    },
    { .name = NULL },
};

cmd_def_t cmdtable_ops[] = {
    {
        .name = "slowlog", .arity = -2, .flags = 0, .flag_names = "",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .handler = NULL,
        .subcommands = subcommands_slowlog,
        .summary = "Groups the commands that read and empty the slow log",
        .since = "2.2.12", .group = "server", .complexity = "Varies with the subcommand.",
    },
    {
        .name = "monitor", .arity = 1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_monitor,
        .summary = "Streams every command the server runs to this connection",
        .since = "1.0.0", .group = "server",
    },
    { .name = NULL },
};

/* cmdtable_ops.c - command table entries for the operators' introspection
 * commands: SLOWLOG, MONITOR and LATENCY; MODULE, LOLWUT, SWAPDB and FAILOVER.
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
#include "actors/worker/cmdhist.h"
#include "actors/worker/latency.h"
#include "actors/worker/monitor.h"
#include "actors/worker/slowlog.h"

static const cmd_history_t history_slowlog_get[] = {
    { "4.0.0", "Each entry also gives the client's address and name." },
};

static const cmd_arg_doc_t args_failover_target[] = {
    { .name = "host", .type = "string", .key_spec_index = -1 },
    { .name = "port", .type = "integer", .key_spec_index = -1 },
    { .name = "force", .type = "pure-token", .key_spec_index = -1, .token = "FORCE", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_arg_doc_t args_failover[] = {
    { .name = "target", .type = "block", .key_spec_index = -1, .token = "TO", .flags = CMD_ARG_OPTIONAL,
      .subargs = args_failover_target, .subarg_count = 3 },
    { .name = "abort", .type = "pure-token", .key_spec_index = -1, .token = "ABORT", .flags = CMD_ARG_OPTIONAL },
    { .name = "milliseconds", .type = "integer", .key_spec_index = -1, .token = "TIMEOUT", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_arg_doc_t args_slowlog_get[] = {
    { .name = "count", .type = "integer", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL },
};

static const cmd_arg_doc_t args_latency_reset[] = {
    { .name = "event", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
};

static const cmd_arg_doc_t args_latency_graph[] = {
    { .name = "event", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_latency_history[] = {
    { .name = "event", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_latency_histogram[] = {
    { .name = "command", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
};

static cmd_def_t subcommands_latency[] = {
    {
        .name = "doctor", .arity = 2, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .tips = "nondeterministic_output request_policy:all_nodes response_policy:special",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_latency_doctor,
        .summary = "Writes a report on the latency spikes seen, with advice",
        .since = "2.8.13", .group = "server", .complexity = "O(1)",
    },
    {
        .name = "reset", .arity = -2, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .tips = "request_policy:all_nodes response_policy:all_succeeded",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_latency_reset,
        .summary = "Forgets the samples of some events, or of all",
        .since = "2.8.13", .group = "server", .complexity = "O(1)",
        .args = args_latency_reset, .arg_count = 1,
    },
    {
        .name = "graph", .arity = 3, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .tips = "nondeterministic_output request_policy:all_nodes response_policy:special",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_latency_graph,
        .summary = "Draws an event's samples as an ASCII graph",
        .since = "2.8.13", .group = "server", .complexity = "O(1)",
        .args = args_latency_graph, .arg_count = 1,
    },
    {
        .name = "history", .arity = 3, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .tips = "nondeterministic_output request_policy:all_nodes response_policy:special",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_latency_history,
        .summary = "Lists an event's samples with their times",
        .since = "2.8.13", .group = "server", .complexity = "O(1)",
        .args = args_latency_history, .arg_count = 1,
    },
    {
        .name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_latency_help,
        .summary = "Lists the LATENCY subcommands with a short description",
        .since = "2.8.13", .group = "server", .complexity = "O(1)",
    },
    {
        .name = "latest", .arity = 2, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .tips = "nondeterministic_output request_policy:all_nodes response_policy:special",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_latency_latest,
        .summary = "Gives the newest sample and the worst of every event",
        .since = "2.8.13", .group = "server", .complexity = "O(1)",
    },
    {
        .name = "histogram", .arity = -2, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .tips = "nondeterministic_output request_policy:all_nodes response_policy:special",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_latency_histogram,
        .summary = "Gives the distribution of the latencies of some commands, or of all",
        .since = "7.0.0", .group = "server",
        .complexity = "O(N) where N is the number of commands whose latencies are given.",
        .args = args_latency_histogram, .arg_count = 1,
    },
    { .name = NULL },
};

static const cmd_arg_doc_t args_module_loadex_configs[] = {
    { .name = "name", .type = "string", .key_spec_index = -1 },
    { .name = "value", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_module_loadex_args[] = {
    { .name = "arg", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_module_loadex[] = {
    { .name = "path", .type = "string", .key_spec_index = -1 },
    { .name = "configs", .type = "block", .key_spec_index = -1, .token = "CONFIG", .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE | CMD_ARG_MULTIPLE_TOKEN, .subargs = args_module_loadex_configs, .subarg_count = 2 },
    { .name = "args", .type = "block", .key_spec_index = -1, .token = "ARGS", .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE, .subargs = args_module_loadex_args, .subarg_count = 1 },
};

static const cmd_arg_doc_t args_module_load[] = {
    { .name = "path", .type = "string", .key_spec_index = -1 },
    { .name = "arg", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
};

static const cmd_arg_doc_t args_module_unload[] = {
    { .name = "name", .type = "string", .key_spec_index = -1 },
};

static cmd_def_t subcommands_module[] = {
    {
        .name = "list", .arity = 2, .flags = CMD_ADMIN | CMD_NOSCRIPT, .flag_names = "admin noscript",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .tips = "nondeterministic_output_order",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_module_list,
        .summary = "Lists the loaded modules (none)",
        .since = "4.0.0", .group = "server", .complexity = "O(N), N being the number of modules loaded",
    },
    {
        .name = "loadex", .arity = -3, .flags = CMD_ADMIN | CMD_NOSCRIPT, .flag_names = "admin noscript no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_module_load,
        .summary = "Would load a module with configurations and arguments",
        .since = "7.0.0", .group = "server", .complexity = "O(1)",
        .args = args_module_loadex, .arg_count = 3,
    },
    {
        .name = "load", .arity = -3, .flags = CMD_ADMIN | CMD_NOSCRIPT, .flag_names = "admin noscript no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_module_load,
        .summary = "Would load a module",
        .since = "4.0.0", .group = "server", .complexity = "O(1)",
        .args = args_module_load, .arg_count = 2,
    },
    {
        .name = "unload", .arity = 3, .flags = CMD_ADMIN | CMD_NOSCRIPT, .flag_names = "admin noscript no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_module_unload,
        .summary = "Would unload a module",
        .since = "4.0.0", .group = "server", .complexity = "O(1)",
        .args = args_module_unload, .arg_count = 1,
    },
    {
        .name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_module_help,
        .summary = "Lists the MODULE subcommands with a short description",
        .since = "5.0.0", .group = "server", .complexity = "O(1)",
    },
    { .name = NULL },
};


static const cmd_arg_doc_t args_lolwut[] = {
    { .name = "version", .type = "integer", .key_spec_index = -1, .token = "VERSION", .flags = CMD_ARG_OPTIONAL },
};


static const cmd_arg_doc_t args_swapdb[] = {
    { .name = "index1", .type = "integer", .key_spec_index = -1 },
    { .name = "index2", .type = "integer", .key_spec_index = -1 },
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
        .name = "latency", .arity = -2, .flags = 0, .flag_names = "",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .handler = NULL,
        .summary = "Groups the latency monitor's commands",
        .since = "2.8.13", .group = "server", .complexity = "Varies with the subcommand.",
        .subcommands = subcommands_latency,
    },
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
    {
        .name = "module", .arity = -2, .flags = 0, .flag_names = "",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .handler = NULL,
        .summary = "Groups the module commands",
        .since = "4.0.0", .group = "server", .complexity = "Varies with the subcommand.",
        .subcommands = subcommands_module,
    },
    {
        .name = "failover", .arity = -1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE, .flag_names = "admin noscript stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_failover,
        .summary = "Hands the master role to one of this master's replicas, coordinated",
        .since = "6.2.0", .group = "server", .complexity = "O(1)",
        .args = args_failover, .arg_count = 3,
    },
    {
        .name = "lolwut", .arity = -1, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "read fast",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_lolwut,
        .summary = "Shows a small piece of art and the Redis version",
        .since = "5.0.0", .group = "server",
        .args = args_lolwut, .arg_count = 1,
    },
    {
        .name = "swapdb", .arity = 3, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "keyspace write fast dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_swapdb,
        .summary = "Swaps the contents of two databases",
        .since = "4.0.0", .group = "server", .complexity = "O(N), N being the clients watching or waiting on keys of either database",
        .args = args_swapdb, .arg_count = 2,
    },
    { .name = NULL },
};

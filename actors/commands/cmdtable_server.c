/* cmdtable_server.c - command table entries for connection, server, transaction,
 * replication and pub/sub commands, and the CLIENT, COMMAND and CONFIG containers.
 *
 * Generated once from the COMMAND INFO / COMMAND DOCS replies of a real
 * redis-server 7.0.15, then kept by hand: arity, flags, key positions, key
 * specs, ACL categories, tips and the argument trees are interop facts that
 * clients read (redis-py routes by them), so they must stay identical to
 * 7.0.15. The summary, complexity, history and note texts are our own words.
 * This file holds data only; it must never contain logic (see cmdtable.c).
 */
#include <stddef.h>
#include "actors/commands/cmd.h"
#include "actors/commands/commands.h"
#include "actors/persist/rdb_save.h"
#include "actors/worker/tracking.h"

static const cmd_arg_doc_t args_ping[] = {
    { .name = "message", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL },
};

static const cmd_arg_doc_t args_echo[] = {
    { .name = "message", .type = "string", .key_spec_index = -1 },
};

static const cmd_history_t history_hello[] = {
    { "6.2.0", "The protocol version became optional; without arguments the reply describes the connection." },
};

static const cmd_arg_doc_t args_hello_arguments_username_password[] = {
    { .name = "username", .type = "string", .key_spec_index = -1 },
    { .name = "password", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_hello_arguments[] = {
    { .name = "protover", .type = "integer", .key_spec_index = -1 },
    { .name = "username_password", .type = "block", .key_spec_index = -1, .token = "AUTH", .flags = CMD_ARG_OPTIONAL, .subargs = args_hello_arguments_username_password, .subarg_count = 2 },
    { .name = "clientname", .type = "string", .key_spec_index = -1, .token = "SETNAME", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_arg_doc_t args_hello[] = {
    { .name = "arguments", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_hello_arguments, .subarg_count = 3 },
};

static const cmd_arg_doc_t args_select[] = {
    { .name = "index", .type = "integer", .key_spec_index = -1 },
};

static const cmd_history_t history_auth[] = {
    { "6.0.0", "Accepts a user name as well (ACL)." },
};

static const cmd_arg_doc_t args_auth[] = {
    { .name = "username", .type = "string", .key_spec_index = -1, .since = "6.0.0", .flags = CMD_ARG_OPTIONAL },
    { .name = "password", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_client_setname[] = {
    { .name = "connection-name", .type = "string", .key_spec_index = -1 },
};

static const cmd_history_t history_client_kill[] = {
    { "2.8.12", "New filter syntax." },
    { "2.8.12", "The ID filter." },
    { "3.2.0", "TYPE accepts master." },
    { "5.0.0", "TYPE replica replaces slave (slave still accepted)." },
    { "6.2.0", "The LADDR filter." },
};

static const cmd_arg_doc_t args_client_kill_filter_new_format_normal_master_slave_pubsub[] = {
    { .name = "normal", .type = "pure-token", .key_spec_index = -1, .token = "NORMAL" },
    { .name = "master", .type = "pure-token", .key_spec_index = -1, .token = "MASTER", .since = "3.2.0" },
    { .name = "slave", .type = "pure-token", .key_spec_index = -1, .token = "SLAVE" },
    { .name = "replica", .type = "pure-token", .key_spec_index = -1, .token = "REPLICA", .since = "5.0.0" },
    { .name = "pubsub", .type = "pure-token", .key_spec_index = -1, .token = "PUBSUB" },
};

static const cmd_arg_doc_t args_client_kill_filter_new_format[] = {
    { .name = "client-id", .type = "integer", .key_spec_index = -1, .token = "ID", .since = "2.8.12", .flags = CMD_ARG_OPTIONAL },
    { .name = "normal_master_slave_pubsub", .type = "oneof", .key_spec_index = -1, .token = "TYPE", .since = "2.8.12", .flags = CMD_ARG_OPTIONAL, .subargs = args_client_kill_filter_new_format_normal_master_slave_pubsub, .subarg_count = 5 },
    { .name = "username", .type = "string", .key_spec_index = -1, .token = "USER", .flags = CMD_ARG_OPTIONAL },
    { .name = "ip:port", .type = "string", .key_spec_index = -1, .token = "ADDR", .flags = CMD_ARG_OPTIONAL },
    { .name = "ip:port", .type = "string", .key_spec_index = -1, .token = "LADDR", .since = "6.2.0", .flags = CMD_ARG_OPTIONAL },
    { .name = "yes/no", .type = "string", .key_spec_index = -1, .token = "SKIPME", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_arg_doc_t args_client_kill_filter[] = {
    { .name = "ip:port", .type = "string", .key_spec_index = -1, .deprecated_since = "2.8.12" },
    { .name = "new-format", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE, .subargs = args_client_kill_filter_new_format, .subarg_count = 6 },
};

static const cmd_arg_doc_t args_client_unblock_timeout_error[] = {
    { .name = "timeout", .type = "pure-token", .key_spec_index = -1, .token = "TIMEOUT" },
    { .name = "error", .type = "pure-token", .key_spec_index = -1, .token = "ERROR" },
};

static const cmd_arg_doc_t args_client_unblock[] = {
    { .name = "client-id", .type = "integer", .key_spec_index = -1 },
    { .name = "timeout_error", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_client_unblock_timeout_error, .subarg_count = 2 },
};

static const cmd_arg_doc_t args_client_kill[] = {
    { .name = "filter", .type = "oneof", .key_spec_index = -1, .subargs = args_client_kill_filter, .subarg_count = 2 },
};

static const cmd_history_t history_client_list[] = {
    { "2.8.12", "The id field." },
    { "5.0.0", "The TYPE filter." },
    { "6.0.0", "The user field." },
    { "6.2.0", "The argv-mem, tot-mem, laddr and redir fields and the ID filter." },
    { "7.0.0", "The resp, multi-mem, rbs and rbp fields." },
    { "7.0.3", "The ssub field." },
};

static const cmd_arg_doc_t args_client_list_normal_master_replica_pubsub[] = {
    { .name = "normal", .type = "pure-token", .key_spec_index = -1, .token = "NORMAL" },
    { .name = "master", .type = "pure-token", .key_spec_index = -1, .token = "MASTER" },
    { .name = "replica", .type = "pure-token", .key_spec_index = -1, .token = "REPLICA" },
    { .name = "pubsub", .type = "pure-token", .key_spec_index = -1, .token = "PUBSUB" },
};

static const cmd_arg_doc_t args_client_list_id[] = {
    { .name = "client-id", .type = "integer", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_arg_doc_t args_client_list[] = {
    { .name = "normal_master_replica_pubsub", .type = "oneof", .key_spec_index = -1, .token = "TYPE", .since = "5.0.0", .flags = CMD_ARG_OPTIONAL, .subargs = args_client_list_normal_master_replica_pubsub, .subarg_count = 4 },
    { .name = "id", .type = "block", .key_spec_index = -1, .token = "ID", .since = "6.2.0", .flags = CMD_ARG_OPTIONAL, .subargs = args_client_list_id, .subarg_count = 1 },
};

static const cmd_history_t history_client_pause[] = {
    { "6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option." },
};

static const cmd_arg_doc_t args_client_pause_mode[] = {
    { .name = "write", .type = "pure-token", .key_spec_index = -1, .token = "WRITE" },
    { .name = "all", .type = "pure-token", .key_spec_index = -1, .token = "ALL" },
};

static const cmd_arg_doc_t args_client_pause[] = {
    { .name = "timeout", .type = "integer", .key_spec_index = -1 },
    { .name = "mode", .type = "oneof", .key_spec_index = -1, .since = "6.2.0", .flags = CMD_ARG_OPTIONAL, .subargs = args_client_pause_mode, .subarg_count = 2 },
};

static const cmd_arg_doc_t args_client_reply_on_off_skip[] = {
    { .name = "on", .type = "pure-token", .key_spec_index = -1, .token = "ON" },
    { .name = "off", .type = "pure-token", .key_spec_index = -1, .token = "OFF" },
    { .name = "skip", .type = "pure-token", .key_spec_index = -1, .token = "SKIP" },
};

static const cmd_arg_doc_t args_client_reply[] = {
    { .name = "on_off_skip", .type = "oneof", .key_spec_index = -1, .subargs = args_client_reply_on_off_skip, .subarg_count = 3 },
};

static const cmd_arg_doc_t args_client_no_evict_enabled[] = {
    { .name = "on", .type = "pure-token", .key_spec_index = -1, .token = "ON" },
    { .name = "off", .type = "pure-token", .key_spec_index = -1, .token = "OFF" },
};

static const cmd_arg_doc_t args_client_no_evict[] = {
    { .name = "enabled", .type = "oneof", .key_spec_index = -1, .subargs = args_client_no_evict_enabled, .subarg_count = 2 },
};

static cmd_def_t subcommands_client[] = {
    {
        .name = "reply", .arity = 3, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_client_reply,
        .summary = "Turns the replies to this connection off or on, or skips the next one",
        .since = "3.2.0", .group = "connection", .complexity = "O(1)",
        .args = args_client_reply, .arg_count = 1,
    },
    {
        .name = "no-evict", .arity = 3, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_client_no_evict,
        .summary = "Exempts this connection from client eviction, or ends that",
        .since = "7.0.0", .group = "connection", .complexity = "O(1)",
        .args = args_client_no_evict, .arg_count = 1,
    },
    {
        .name = "id", .arity = 2, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_client_id,
        .summary = "Gives the numeric ID of this connection",
        .since = "5.0.0", .group = "connection", .complexity = "O(1)",
    },
    {
        .name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_client_help,
        .summary = "Lists the CLIENT subcommands with a short description",
        .since = "5.0.0", .group = "connection", .complexity = "O(1)",
    },
    {
        .name = "info", .arity = 2, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .tips = "nondeterministic_output",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_client_info,
        .summary = "Describes this connection in CLIENT LIST format.",
        .since = "6.2.0", .group = "connection", .complexity = "O(1)",
    },
    {
        .name = "setname", .arity = 3, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_client_setname,
        .summary = "Gives this connection a name",
        .since = "2.6.9", .group = "connection", .complexity = "O(1)",
        .args = args_client_setname, .arg_count = 1,
    },
    {
        .name = "kill", .arity = -3, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_client_kill,
        .fanout = { .part = cmd_client_kill_part, .merge = cmd_client_kill_merge, .reply = cmd_client_kill_reply },
        .summary = "Closes one or more client connections",
        .since = "2.4.0", .group = "connection", .complexity = "O(N), N being the number of connected clients",
        .history = history_client_kill, .history_count = 5,
        .args = args_client_kill, .arg_count = 1,
    },
    {
        .name = "unblock", .arity = -3, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_client_unblock,
        .fanout = { .part = cmd_client_unblock_part, .merge = cmd_client_unblock_merge, .reply = cmd_client_unblock_reply },
        .summary = "Ends the wait of a client blocked in a blocking command, from another connection",
        .since = "5.0.0", .group = "connection", .complexity = "O(N), N being the number of client connections",
        .args = args_client_unblock, .arg_count = 2,
    },
    {
        .name = "list", .arity = -2, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous connection",
        .tips = "nondeterministic_output",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_client_list,
        .fanout = { .part = cmd_client_list_part, .merge = cmd_client_list_merge, .reply = cmd_client_list_reply,
                    .caller_line = cmd_client_list_caller_line },
        .summary = "Describes every client connection",
        .since = "2.4.0", .group = "connection", .complexity = "O(N), N being the number of connected clients",
        .history = history_client_list, .history_count = 6,
        .args = args_client_list, .arg_count = 2,
    },
    {
        .name = "pause", .arity = -3, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_client_pause,
        .summary = "Stop processing commands from clients for some time",
        .since = "2.9.50", .group = "connection", .complexity = "O(1)",
        .history = history_client_pause, .history_count = 1,
        .args = args_client_pause, .arg_count = 2,
    },
    {
        .name = "unpause", .arity = 2, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_client_unpause,
        .summary = "Resume processing of clients that were paused",
        .since = "6.2.0", .group = "connection", .complexity = "O(N) Where N is the number of paused clients",
    },
    {
        .name = "getname", .arity = 2, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_client_getname,
        .summary = "Gives the name of this connection",
        .since = "2.6.9", .group = "connection", .complexity = "O(1)",
    },
    {
        .name = "tracking", .arity = -3, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .exec = CMD_EXEC_CLIENT, .handler = tracking_cmd_tracking,
        .summary = "Turns client-side caching (key tracking) on or off for this connection",
        .since = "6.0.0", .group = "connection", .complexity = "O(1). Some options may introduce additional complexity.",
    },
    {
        .name = "caching", .arity = 3, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .exec = CMD_EXEC_CLIENT, .handler = tracking_cmd_caching,
        .summary = "Instruct the server about tracking or not keys in the next request",
        .since = "6.0.0", .group = "connection", .complexity = "O(1)",
    },
    {
        .name = "getredir", .arity = 2, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .exec = CMD_EXEC_CLIENT, .handler = tracking_cmd_getredir,
        .summary = "Gives the client id invalidation messages of this connection are redirected to",
        .since = "6.0.0", .group = "connection", .complexity = "O(1)",
    },
    {
        .name = "trackinginfo", .arity = 2, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .exec = CMD_EXEC_CLIENT, .handler = tracking_cmd_trackinginfo,
        .summary = "Describes this connection's client-side caching settings",
        .since = "6.2.0", .group = "connection", .complexity = "O(1)",
    },
    { .name = NULL },
};

static const cmd_history_t history_command_info[] = {
    { "7.0.0", "May be called without arguments to describe every command." },
};

static const cmd_arg_doc_t args_command_info[] = {
    { .name = "command-name", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
};

static const cmd_arg_doc_t args_command_docs[] = {
    { .name = "command-name", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
};

static const cmd_arg_doc_t args_command_list_filterby[] = {
    { .name = "module-name", .type = "string", .key_spec_index = -1, .token = "MODULE" },
    { .name = "category", .type = "string", .key_spec_index = -1, .token = "ACLCAT" },
    { .name = "pattern", .type = "pattern", .key_spec_index = -1, .token = "PATTERN" },
};

static const cmd_arg_doc_t args_command_list[] = {
    { .name = "filterby", .type = "oneof", .key_spec_index = -1, .token = "FILTERBY", .flags = CMD_ARG_OPTIONAL, .subargs = args_command_list_filterby, .subarg_count = 3 },
};

static cmd_def_t subcommands_command[] = {
    {
        .name = "info", .arity = -2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .tips = "nondeterministic_output_order",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_command_info,
        .summary = "Describes the named commands, or every command when none is named.",
        .since = "2.8.13", .group = "server", .complexity = "O(N), N being the number of commands asked about",
        .history = history_command_info, .history_count = 1,
        .args = args_command_info, .arg_count = 1,
    },
    {
        .name = "docs", .arity = -2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .tips = "nondeterministic_output_order",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_command_docs,
        .summary = "Gives the documentation of the named commands",
        .since = "7.0.0", .group = "server", .complexity = "O(N), N being the number of commands asked about",
        .args = args_command_docs, .arg_count = 1,
    },
    {
        .name = "getkeys", .arity = -4, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_command_getkeys,
        .summary = "Tells which arguments of a complete command line are keys",
        .since = "2.8.13", .group = "server", .complexity = "O(N), N being the argument count of that command",
    },
    {
        .name = "getkeysandflags", .arity = -4, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_command_getkeysandflags,
        .summary = "Tells which arguments of a complete command line are keys, and how the command uses each",
        .since = "7.0.0", .group = "server", .complexity = "O(N), N being the argument count of that command",
    },
    {
        .name = "list", .arity = -2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .tips = "nondeterministic_output_order",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_command_list,
        .summary = "Lists the names of the commands",
        .since = "7.0.0", .group = "server", .complexity = "O(N), N being the number of commands",
        .args = args_command_list, .arg_count = 1,
    },
    {
        .name = "count", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_command_count,
        .summary = "Gives the number of commands the server knows",
        .since = "2.8.13", .group = "server", .complexity = "O(1)",
    },
    {
        .name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_command_help,
        .summary = "Lists the COMMAND subcommands with a short description",
        .since = "5.0.0", .group = "server", .complexity = "O(1)",
    },
    { .name = NULL },
};

static const cmd_history_t history_info[] = {
    { "7.0.0", "Accepts several sections in one call." },
};

static const cmd_arg_doc_t args_info[] = {
    { .name = "section", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
};

static const cmd_history_t history_config_get[] = {
    { "7.0.0", "Accepts several patterns in one call." },
};

static const cmd_arg_doc_t args_config_get_parameter[] = {
    { .name = "parameter", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_config_get[] = {
    { .name = "parameter", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE, .subargs = args_config_get_parameter, .subarg_count = 1 },
};

static const cmd_history_t history_config_set[] = {
    { "7.0.0", "Accepts several parameters in one call." },
};

static const cmd_arg_doc_t args_config_set_parameter_value[] = {
    { .name = "parameter", .type = "string", .key_spec_index = -1 },
    { .name = "value", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_config_set[] = {
    { .name = "parameter_value", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE, .subargs = args_config_set_parameter_value, .subarg_count = 2 },
};

static cmd_def_t subcommands_config[] = {
    {
        .name = "rewrite", .arity = 2, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_config_rewrite,
        .summary = "Writes the running configuration back to the config file",
        .since = "2.8.0", .group = "server", .complexity = "O(1)",
    },
    {
        .name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_config_help,
        .summary = "Lists the CONFIG subcommands with a short description",
        .since = "5.0.0", .group = "server", .complexity = "O(1)",
    },
    {
        .name = "resetstat", .arity = 2, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_config_resetstat,
        .summary = "Zeroes the statistics that INFO reports",
        .since = "2.0.0", .group = "server", .complexity = "O(1)",
    },
    {
        .name = "get", .arity = -3, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_config_get,
        .summary = "Reads configuration parameters",
        .since = "2.0.0", .group = "server", .complexity = "O(N), N being the number of parameters asked for",
        .history = history_config_get, .history_count = 1,
        .args = args_config_get, .arg_count = 1,
    },
    {
        .name = "set", .arity = -4, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .tips = "request_policy:all_nodes response_policy:all_succeeded",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_config_set,
        .summary = "Changes configuration parameters",
        .since = "2.0.0", .group = "server", .complexity = "O(N), N being the number of parameters given",
        .history = history_config_set, .history_count = 1,
        .args = args_config_set, .arg_count = 1,
    },
    { .name = NULL },
};

static const cmd_history_t history_flushall[] = {
    { "4.0.0", "The ASYNC modifier." },
    { "6.2.0", "The SYNC modifier." },
};

static const cmd_arg_doc_t args_flushall_async[] = {
    { .name = "async", .type = "pure-token", .key_spec_index = -1, .token = "ASYNC", .since = "4.0.0" },
    { .name = "sync", .type = "pure-token", .key_spec_index = -1, .token = "SYNC", .since = "6.2.0" },
};

static const cmd_arg_doc_t args_flushall[] = {
    { .name = "async", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_flushall_async, .subarg_count = 2 },
};

static const cmd_history_t history_flushdb[] = {
    { "4.0.0", "The ASYNC modifier." },
    { "6.2.0", "The SYNC modifier." },
};

static const cmd_arg_doc_t args_flushdb_async[] = {
    { .name = "async", .type = "pure-token", .key_spec_index = -1, .token = "ASYNC", .since = "4.0.0" },
    { .name = "sync", .type = "pure-token", .key_spec_index = -1, .token = "SYNC", .since = "6.2.0" },
};

static const cmd_arg_doc_t args_flushdb[] = {
    { .name = "async", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_flushdb_async, .subarg_count = 2 },
};

static const cmd_keyspec_t keyspecs_watch[] = {
    { .flags = "RO", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_watch[] = {
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_history_t history_shutdown[] = {
    { "7.0.0", "The NOW, FORCE and ABORT modifiers." },
};

static const cmd_arg_doc_t args_shutdown_nosave_save[] = {
    { .name = "nosave", .type = "pure-token", .key_spec_index = -1, .token = "NOSAVE" },
    { .name = "save", .type = "pure-token", .key_spec_index = -1, .token = "SAVE" },
};

static const cmd_arg_doc_t args_shutdown[] = {
    { .name = "nosave_save", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_shutdown_nosave_save, .subarg_count = 2 },
    { .name = "now", .type = "pure-token", .key_spec_index = -1, .token = "NOW", .since = "7.0.0", .flags = CMD_ARG_OPTIONAL },
    { .name = "force", .type = "pure-token", .key_spec_index = -1, .token = "FORCE", .since = "7.0.0", .flags = CMD_ARG_OPTIONAL },
    { .name = "abort", .type = "pure-token", .key_spec_index = -1, .token = "ABORT", .since = "7.0.0", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_arg_doc_t args_wait[] = {
    { .name = "numreplicas", .type = "integer", .key_spec_index = -1 },
    { .name = "timeout", .type = "integer", .key_spec_index = -1 },
};

static const cmd_history_t history_bgsave[] = {
    { "3.2.2", "The SCHEDULE option." },
};

static const cmd_arg_doc_t args_bgsave[] = {
    { .name = "schedule", .type = "pure-token", .key_spec_index = -1, .token = "SCHEDULE", .since = "3.2.2", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_arg_doc_t args_psync[] = {
    { .name = "replicationid", .type = "string", .key_spec_index = -1 },
    { .name = "offset", .type = "integer", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_replicaof_host_port[] = {
    { .name = "host", .type = "string", .key_spec_index = -1 },
    { .name = "port", .type = "integer", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_replicaof_no_one[] = {
    { .name = "no", .type = "pure-token", .key_spec_index = -1, .token = "NO" },
    { .name = "one", .type = "pure-token", .key_spec_index = -1, .token = "ONE" },
};

static const cmd_arg_doc_t args_replicaof_args[] = {
    { .name = "host-port", .type = "block", .key_spec_index = -1, .subargs = args_replicaof_host_port, .subarg_count = 2 },
    { .name = "no-one", .type = "block", .key_spec_index = -1, .subargs = args_replicaof_no_one, .subarg_count = 2 },
};

static const cmd_arg_doc_t args_replicaof[] = {
    { .name = "args", .type = "oneof", .key_spec_index = -1, .subargs = args_replicaof_args, .subarg_count = 2 },
};

static const cmd_arg_doc_t args_publish[] = {
    { .name = "channel", .type = "string", .key_spec_index = -1 },
    { .name = "message", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_spublish[] = {
    { .flags = "not_key", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_spublish[] = {
    { .name = "shardchannel", .type = "string", .key_spec_index = -1 },
    { .name = "message", .type = "string", .key_spec_index = -1 },
};

cmd_def_t cmdtable_server[] = {
    {
        .name = "ping", .arity = -1, .flags = CMD_FAST, .flag_names = "fast",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "fast connection",
        .tips = "request_policy:all_shards response_policy:all_succeeded",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_ping,
        .summary = "Checks that the server is alive and answering",
        .since = "1.0.0", .group = "connection", .complexity = "O(1)",
        .args = args_ping, .arg_count = 1,
    },
    {
        .name = "echo", .arity = 2, .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .flag_names = "loading stale fast",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "fast connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_echo,
        .summary = "Replies with the string it was sent",
        .since = "1.0.0", .group = "connection", .complexity = "O(1)",
        .args = args_echo, .arg_count = 1,
    },
    {
        .name = "quit", .arity = -1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY, .flag_names = "noscript loading stale fast no_auth allow_busy",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "fast connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_quit,
        .summary = "Asks the server to close this connection",
        .since = "1.0.0", .group = "connection", .complexity = "O(1)",
    },
    {
        .name = "hello", .arity = -1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY, .flag_names = "noscript loading stale fast no_auth allow_busy",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "fast connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_hello,
        .summary = "Negotiates the protocol version and optionally authenticates",
        .since = "6.0.0", .group = "connection", .complexity = "O(1)",
        .history = history_hello, .history_count = 1,
        .args = args_hello, .arg_count = 1,
    },
    {
        .name = "select", .arity = 2, .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .flag_names = "loading stale fast",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "fast connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_select,
        .summary = "Switches the database used by this connection",
        .since = "1.0.0", .group = "connection", .complexity = "O(1)",
        .args = args_select, .arg_count = 1,
    },
    {
        .name = "auth", .arity = -2, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY, .flag_names = "noscript loading stale fast no_auth allow_busy",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "fast connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_auth,
        .summary = "Authenticates this connection",
        .since = "1.0.0", .group = "connection", .complexity = "O(N), N being the number of passwords the user has",
        .history = history_auth, .history_count = 1,
        .args = args_auth, .arg_count = 2,
    },
    {
        .name = "client", .arity = -2, .flags = 0, .flag_names = "",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .handler = NULL,
        .subcommands = subcommands_client,
        .summary = "Groups the commands that inspect and manage client connections",
        .since = "2.4.0", .group = "connection", .complexity = "Varies with the subcommand.",
    },
    {
        .name = "command", .arity = -1, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .tips = "nondeterministic_output_order",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_command,
        .subcommands = subcommands_command,
        .summary = "Describes every command the server knows",
        .since = "2.8.13", .group = "server", .complexity = "O(N), N being the number of commands",
    },
    {
        .name = "info", .arity = -1, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow dangerous",
        .tips = "nondeterministic_output request_policy:all_shards response_policy:special",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_info,
        .summary = "Reports server information and statistics",
        .since = "1.0.0", .group = "server", .complexity = "O(1)",
        .history = history_info, .history_count = 1,
        .args = args_info, .arg_count = 1,
    },
    {
        .name = "config", .arity = -2, .flags = 0, .flag_names = "",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .handler = NULL,
        .subcommands = subcommands_config,
        .summary = "Groups the commands that read and change the server configuration",
        .since = "2.0.0", .group = "server", .complexity = "Varies with the subcommand.",
    },
    {
        .name = "dbsize", .arity = 1, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "keyspace read fast",
        .tips = "request_policy:all_shards response_policy:agg_sum",
        .exec = CMD_EXEC_FANOUT, .handler = cmd_dbsize,
        .fanout = { .part = cmd_dbsize_part, .merge = cmd_dbsize_merge, .reply = cmd_dbsize_reply },
        .summary = "Counts the keys in the current database",
        .since = "1.0.0", .group = "server", .complexity = "O(1)",
    },
    {
        .name = "flushall", .arity = -1, .flags = CMD_WRITE, .flag_names = "write",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "keyspace write slow dangerous",
        .tips = "request_policy:all_shards response_policy:all_succeeded",
        .exec = CMD_EXEC_FANOUT, .handler = cmd_flushall,
        .fanout = { .start = cmd_flush_start, .part = cmd_flush_part, .reply = cmd_flush_reply },
        .summary = "Deletes every key of every database",
        .since = "1.0.0", .group = "server", .complexity = "O(N), N being the number of keys in all databases",
        .history = history_flushall, .history_count = 2,
        .args = args_flushall, .arg_count = 1,
    },
    {
        .name = "flushdb", .arity = -1, .flags = CMD_WRITE, .flag_names = "write",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "keyspace write slow dangerous",
        .tips = "request_policy:all_shards response_policy:all_succeeded",
        .exec = CMD_EXEC_FANOUT, .handler = cmd_flushdb,
        .fanout = { .start = cmd_flush_start, .part = cmd_flush_part, .reply = cmd_flush_reply },
        .summary = "Deletes every key of the current database",
        .since = "1.0.0", .group = "server", .complexity = "O(N), N being the number of keys in the current database",
        .history = history_flushdb, .history_count = 2,
        .args = args_flushdb, .arg_count = 1,
    },
    {
        .name = "multi", .arity = 1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY, .flag_names = "noscript loading stale fast allow_busy",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "fast transaction",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_multi,
        .summary = "Opens a transaction",
        .since = "1.2.0", .group = "transactions", .complexity = "O(1)",
    },
    {
        .name = "exec", .arity = 1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "noscript loading stale skip_slowlog",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow transaction",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_exec,
        .summary = "Runs the commands queued since MULTI",
        .since = "1.2.0", .group = "transactions", .complexity = "Whatever the queued commands cost",
    },
    {
        .name = "discard", .arity = 1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY, .flag_names = "noscript loading stale fast allow_busy",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "fast transaction",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_discard,
        .summary = "Drops the commands queued since MULTI",
        .since = "2.0.0", .group = "transactions", .complexity = "O(N), N being the number of queued commands",
    },
    {
        .name = "watch", .arity = -2, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY, .flag_names = "noscript loading stale fast allow_busy",
        .first_key = 1, .last_key = -1, .key_step = 1, .acl_categories = "fast transaction",
        .keyspecs = keyspecs_watch, .keyspec_count = 1,
        .exec = CMD_EXEC_CLIENT, .handler = cmd_watch,
        .summary = "Makes the next EXEC conditional on the given keys staying unchanged",
        .since = "2.2.0", .group = "transactions", .complexity = "O(1) per key.",
        .args = args_watch, .arg_count = 1,
    },
    {
        .name = "unwatch", .arity = 1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY, .flag_names = "noscript loading stale fast allow_busy",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "fast transaction",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_unwatch,
        .summary = "Stops watching every key this connection watches",
        .since = "2.2.0", .group = "transactions", .complexity = "O(1)",
    },
    {
        .name = "debug", .arity = -2, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_debug,
        .fanout = { .part = cmd_debug_part, .merge = cmd_debug_merge, .reply = cmd_debug_reply },
        .summary = "Groups internal debugging operations",
        .since = "1.0.0", .group = "server", .complexity = "Varies with the subcommand.",
        .doc_flags = "syscmd",
    },
    {
        .name = "time", .arity = 1, .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .flag_names = "loading stale fast",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "fast",
        .tips = "nondeterministic_output",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_time,
        .summary = "Gives the server clock",
        .since = "2.6.0", .group = "server", .complexity = "O(1)",
    },
    {
        .name = "lastsave", .arity = 1, .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .flag_names = "loading stale fast",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin fast dangerous",
        .tips = "nondeterministic_output",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_lastsave,
        .summary = "Gives the UNIX time of the last successful save to disk",
        .since = "1.0.0", .group = "server", .complexity = "O(1)",
    },
    {
        .name = "shutdown", .arity = -1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_NO_MULTI | CMD_ALLOW_BUSY, .flag_names = "admin noscript loading stale no_multi allow_busy",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_shutdown,
        .summary = "Stops the server, saving the data first when so configured",
        .since = "1.0.0", .group = "server", .complexity = "O(N) when saving (N being the number of keys in all databases), O(1) otherwise",
        .history = history_shutdown, .history_count = 1,
        .args = args_shutdown, .arg_count = 4,
    },
    {
        .name = "wait", .arity = 3, .flags = CMD_NOSCRIPT, .flag_names = "noscript",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow connection",
        .tips = "request_policy:all_shards response_policy:agg_min",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_wait,
        .summary = "Blocks until the writes of this connection reach a number of replicas",
        .since = "3.0.0", .group = "generic", .complexity = "O(1)",
        .args = args_wait, .arg_count = 2,
    },
    {
        .name = "role", .arity = 1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST, .flag_names = "noscript loading stale fast",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin fast dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_role,
        .summary = "Reports the replication role of this server",
        .since = "2.8.12", .group = "server", .complexity = "O(1)",
    },
    {
        .name = "save", .arity = 1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_MULTI, .flag_names = "admin noscript no_async_loading no_multi",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_save,
        .summary = "Saves the dataset to disk, blocking until done",
        .since = "1.0.0", .group = "server", .complexity = "O(N), N being the number of keys in all databases",
    },
    {
        .name = "bgrewriteaof", .arity = 1, .flags = CMD_ADMIN | CMD_NOSCRIPT, .flag_names = "admin noscript no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_bgrewriteaof,
        .summary = "Asynchronously rewrites the append-only file to disk",
        .since = "1.0.0", .group = "server", .complexity = "O(1)",
    },
    {
        .name = "bgsave", .arity = -1, .flags = CMD_ADMIN | CMD_NOSCRIPT, .flag_names = "admin noscript no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_bgsave,
        .summary = "Saves the dataset to disk in the background",
        .since = "1.0.0", .group = "server", .complexity = "O(1)",
        .history = history_bgsave, .history_count = 1,
        .args = args_bgsave, .arg_count = 1,
    },
    {
        .name = "replconf", .arity = -1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_ALLOW_BUSY, .flag_names = "admin noscript loading stale allow_busy",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_replconf,
        .summary = "Internal: set up the replication stream",
        .since = "3.0.0", .group = "server", .complexity = "O(1)",
        .doc_flags = "syscmd",
    },
    {
        .name = "psync", .arity = -3, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_MULTI, .flag_names = "admin noscript no_async_loading no_multi",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_psync,
        .summary = "Internal: start or resume replication",
        .since = "2.8.0", .group = "server", .complexity = NULL,
        .args = args_psync, .arg_count = 2,
    },
    {
        .name = "replicaof", .arity = 3, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE, .flag_names = "admin noscript stale no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_replicaof,
        .summary = "Make the server a replica of another instance, or promote it as master.",
        .since = "5.0.0", .group = "server", .complexity = "O(1)",
        .args = args_replicaof, .arg_count = 1,
    },
    {
        .name = "slaveof", .arity = 3, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE, .flag_names = "admin noscript stale no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_replicaof,
        .summary = "Make the server a replica of another instance, or promote it as master.",
        .since = "1.0.0", .group = "server", .complexity = "O(1)",
        .args = args_replicaof, .arg_count = 1,
        .doc_flags = "deprecated", .deprecated_since = "5.0.0", .replaced_by = "`REPLICAOF`",
    },
    {
        .name = "sync", .arity = 1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_MULTI, .flag_names = "admin noscript no_async_loading no_multi",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_sync,
        .summary = "Internal: start replication (old protocol)",
        .since = "1.0.0", .group = "server", .complexity = NULL,
    },
    {
        .name = "publish", .arity = 3, .flags = CMD_LOADING | CMD_STALE | CMD_FAST | CMD_MAY_REPLICATE, .flag_names = "pubsub loading stale fast",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "pubsub fast",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_publish,
        .summary = "Sends a message to the subscribers of a channel",
        .since = "2.0.0", .group = "pubsub", .complexity = "O(N+M), N being the subscribers of the channel and M the patterns subscribed by all clients.",
        .args = args_publish, .arg_count = 2,
    },
    {
        .name = "spublish", .arity = 3, .flags = CMD_LOADING | CMD_STALE | CMD_FAST | CMD_MAY_REPLICATE, .flag_names = "pubsub loading stale fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "pubsub fast",
        .keyspecs = keyspecs_spublish, .keyspec_count = 1,
        .exec = CMD_EXEC_CLIENT, .handler = cmd_spublish,
        .summary = "Sends a message to the subscribers of a shard channel",
        .since = "7.0.0", .group = "pubsub", .complexity = "O(N), N being the subscribers of the shard channel.",
        .args = args_spublish, .arg_count = 2,
    },
    { .name = NULL },
};

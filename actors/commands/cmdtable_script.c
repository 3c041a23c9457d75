/* cmdtable_script.c - EVAL and SCRIPT entries, as redis-server 7.0.15 lists them (data only). */
#include "actors/commands/commands.h"
#include "actors/commands/script.h"

/* The script's keys: numkeys at argv[2], the keys after it. */
static const cmd_keyspec_t keyspecs_eval[] = {
    { .flags = "RW access update", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1,
      .notes = "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE" },
};
static const cmd_keyspec_t keyspecs_evalsha[] = {
    { .flags = "RW access update", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1 },
};
static const cmd_keyspec_t keyspecs_eval_ro[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1,
      .notes = "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS" },
};
static const cmd_keyspec_t keyspecs_evalsha_ro[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1 },
};

static const cmd_arg_doc_t args_eval[] = {
    { .name = "script", .type = "string", .key_spec_index = -1 },
    { .name = "numkeys", .type = "integer", .key_spec_index = -1 },
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
    { .name = "arg", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
};
static const cmd_arg_doc_t args_evalsha[] = {
    { .name = "sha1", .type = "string", .key_spec_index = -1 },
    { .name = "numkeys", .type = "integer", .key_spec_index = -1 },
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
    { .name = "arg", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
};

static const cmd_arg_doc_t args_script_flush_mode[] = {
    { .name = "async", .type = "pure-token", .key_spec_index = -1, .token = "ASYNC", .since = "6.2.0" },
    { .name = "sync", .type = "pure-token", .key_spec_index = -1, .token = "SYNC", .since = "6.2.0" },
};
static const cmd_arg_doc_t args_script_flush[] = {
    { .name = "async", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_script_flush_mode, .subarg_count = 2 },
};
static const cmd_arg_doc_t args_script_exists[] = {
    { .name = "sha1", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};
static const cmd_arg_doc_t args_script_load[] = {
    { .name = "script", .type = "string", .key_spec_index = -1 },
};
static const cmd_arg_doc_t args_script_debug_mode[] = {
    { .name = "yes", .type = "pure-token", .key_spec_index = -1, .token = "YES" },
    { .name = "sync", .type = "pure-token", .key_spec_index = -1, .token = "SYNC" },
    { .name = "no", .type = "pure-token", .key_spec_index = -1, .token = "NO" },
};
static const cmd_arg_doc_t args_script_debug[] = {
    { .name = "mode", .type = "oneof", .key_spec_index = -1, .subargs = args_script_debug_mode, .subarg_count = 3 },
};
static const cmd_history_t history_script_flush[] = {
    { "6.2.0", "Added the `ASYNC` and `SYNC` flushing mode modifiers." },
};

#define EVAL_FLAGS (CMD_NOSCRIPT | CMD_STALE | CMD_MOVABLE_KEYS | CMD_SCRIPT)

static cmd_def_t subcommands_script[] = {
    {
        .name = "debug", .arity = 3, .flags = CMD_NOSCRIPT, .flag_names = "noscript",
        .acl_categories = "slow scripting", .exec = CMD_EXEC_CLIENT, .handler = cmd_script_debug,
        .summary = "Set the debug mode for executed scripts.", .since = "3.2.0", .group = "scripting",
        .complexity = "O(1)", .args = args_script_debug, .arg_count = 1,
    },
    {
        .name = "exists", .arity = -3, .flags = CMD_NOSCRIPT, .flag_names = "noscript",
        .acl_categories = "slow scripting", .tips = "request_policy:all_shards response_policy:agg_logical_and",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_script_exists,
        .summary = "Check existence of scripts in the script cache.", .since = "2.6.0", .group = "scripting",
        .complexity = "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
        .args = args_script_exists, .arg_count = 1,
    },
    {
        .name = "flush", .arity = -2, .flags = CMD_NOSCRIPT, .flag_names = "noscript",
        .acl_categories = "slow scripting", .tips = "request_policy:all_nodes response_policy:all_succeeded",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_script_flush,
        .summary = "Remove all the scripts from the script cache.", .since = "2.6.0", .group = "scripting",
        .complexity = "O(N) with N being the number of scripts in cache",
        .args = args_script_flush, .arg_count = 1, .history = history_script_flush, .history_count = 1,
    },
    {
        .name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .acl_categories = "slow scripting", .exec = CMD_EXEC_CLIENT, .handler = cmd_script_help,
        .summary = "Show helpful text about the different subcommands", .since = "5.0.0", .group = "scripting",
        .complexity = "O(1)",
    },
    {
        .name = "kill", .arity = 2, .flags = CMD_NOSCRIPT | CMD_ALLOW_BUSY, .flag_names = "noscript allow_busy",
        .acl_categories = "slow scripting", .tips = "request_policy:all_shards response_policy:one_succeeded",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_script_kill,
        .summary = "Kill the script currently in execution.", .since = "2.6.0", .group = "scripting",
        .complexity = "O(1)",
    },
    {
        .name = "load", .arity = 3, .flags = CMD_NOSCRIPT | CMD_STALE, .flag_names = "noscript stale",
        .acl_categories = "slow scripting", .tips = "request_policy:all_nodes response_policy:all_succeeded",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_script_load,
        .summary = "Load the specified Lua script into the script cache.", .since = "2.6.0", .group = "scripting",
        .complexity = "O(N) with N being the length in bytes of the script body.",
        .args = args_script_load, .arg_count = 1,
    },
    { .name = NULL },
};

cmd_def_t cmdtable_script[] = {
    {
        .name = "eval", .arity = -3, .flags = EVAL_FLAGS | CMD_MAY_REPLICATE, .flag_names = "noscript stale skip_monitor no_mandatory_keys movablekeys",
        .acl_categories = "slow scripting", .keyspecs = keyspecs_eval, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_eval, .call_flags = cmd_eval_flags,
        .summary = "Execute a Lua script server side", .since = "2.6.0", .group = "scripting",
        .complexity = "Depends on the script that is executed.", .args = args_eval, .arg_count = 4,
    },
    {
        .name = "evalsha", .arity = -3, .flags = EVAL_FLAGS | CMD_MAY_REPLICATE, .flag_names = "noscript stale skip_monitor no_mandatory_keys movablekeys",
        .acl_categories = "slow scripting", .keyspecs = keyspecs_evalsha, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_evalsha, .call_flags = cmd_eval_flags,
        .summary = "Execute a Lua script server side", .since = "2.6.0", .group = "scripting",
        .complexity = "Depends on the script that is executed.", .args = args_evalsha, .arg_count = 4,
    },
    {
        .name = "eval_ro", .arity = -3, .flags = EVAL_FLAGS | CMD_READONLY,
        .flag_names = "readonly noscript stale skip_monitor no_mandatory_keys movablekeys",
        .acl_categories = "slow scripting", .keyspecs = keyspecs_eval_ro, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_eval_ro, .call_flags = cmd_eval_flags,
        .summary = "Execute a read-only Lua script server side", .since = "7.0.0", .group = "scripting",
        .complexity = "Depends on the script that is executed.", .args = args_eval, .arg_count = 4,
    },
    {
        .name = "evalsha_ro", .arity = -3, .flags = EVAL_FLAGS | CMD_READONLY,
        .flag_names = "readonly noscript stale skip_monitor no_mandatory_keys movablekeys",
        .acl_categories = "slow scripting", .keyspecs = keyspecs_evalsha_ro, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_evalsha_ro, .call_flags = cmd_eval_flags,
        .summary = "Execute a read-only Lua script server side", .since = "7.0.0", .group = "scripting",
        .complexity = "Depends on the script that is executed.", .args = args_evalsha, .arg_count = 4,
    },
    {
        .name = "script", .arity = -2, .flags = 0, .flag_names = "",
        .acl_categories = "slow", .exec = CMD_EXEC_CLIENT, .handler = NULL,
        .subcommands = subcommands_script,
        .summary = "A container for Lua scripts management commands", .since = "2.6.0", .group = "scripting",
        .complexity = "Depends on subcommand.",
    },
    { .name = NULL },
};

/* cmdtable_function.c - FCALL, FCALL_RO and FUNCTION entries, as redis-server 7.0.15 lists them (data only). */
#include "actors/commands/commands.h"

/* The function's keys: numkeys at argv[2], the keys after it. */
static const cmd_keyspec_t keyspecs_fcall[] = {
    { .flags = "RW access update", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1,
      .notes = "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE" },
};
static const cmd_keyspec_t keyspecs_fcall_ro[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1,
      .notes = "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS" },
};

static const cmd_arg_doc_t args_fcall[] = {
    { .name = "function", .type = "string", .key_spec_index = -1 },
    { .name = "numkeys", .type = "integer", .key_spec_index = -1 },
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
    { .name = "arg", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
};

static const cmd_arg_doc_t args_function_list[] = {
    { .name = "library-name-pattern", .type = "string", .key_spec_index = -1, .token = "LIBRARYNAME", .flags = CMD_ARG_OPTIONAL },
    { .name = "withcode", .type = "pure-token", .key_spec_index = -1, .token = "WITHCODE", .flags = CMD_ARG_OPTIONAL },
};
static const cmd_arg_doc_t args_function_restore_policy[] = {
    { .name = "flush", .type = "pure-token", .key_spec_index = -1, .token = "FLUSH" },
    { .name = "append", .type = "pure-token", .key_spec_index = -1, .token = "APPEND" },
    { .name = "replace", .type = "pure-token", .key_spec_index = -1, .token = "REPLACE" },
};
static const cmd_arg_doc_t args_function_restore[] = {
    { .name = "serialized-value", .type = "string", .key_spec_index = -1 },
    { .name = "policy", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_function_restore_policy, .subarg_count = 3 },
};
static const cmd_arg_doc_t args_function_delete[] = {
    { .name = "library-name", .type = "string", .key_spec_index = -1 },
};
static const cmd_arg_doc_t args_function_flush_mode[] = {
    { .name = "async", .type = "pure-token", .key_spec_index = -1, .token = "ASYNC" },
    { .name = "sync", .type = "pure-token", .key_spec_index = -1, .token = "SYNC" },
};
static const cmd_arg_doc_t args_function_flush[] = {
    { .name = "async", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_function_flush_mode, .subarg_count = 2 },
};
static const cmd_arg_doc_t args_function_load[] = {
    { .name = "replace", .type = "pure-token", .key_spec_index = -1, .token = "REPLACE", .flags = CMD_ARG_OPTIONAL },
    { .name = "function-code", .type = "string", .key_spec_index = -1 },
};

#define ALL_SHARDS_OK "request_policy:all_shards response_policy:all_succeeded"

static cmd_def_t subcommands_function[] = {
    {
        .name = "dump", .arity = 2, .flags = CMD_NOSCRIPT, .flag_names = "noscript",
        .acl_categories = "slow scripting", .exec = CMD_EXEC_CLIENT, .handler = cmd_function_dump,
        .summary = "Dump all functions into a serialized binary payload", .since = "7.0.0", .group = "scripting",
        .complexity = "O(N) where N is the number of functions",
    },
    {
        .name = "list", .arity = -2, .flags = CMD_NOSCRIPT, .flag_names = "noscript",
        .acl_categories = "slow scripting", .tips = "nondeterministic_output_order",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_function_list,
        .summary = "List information about all the functions", .since = "7.0.0", .group = "scripting",
        .complexity = "O(N) where N is the number of functions", .args = args_function_list, .arg_count = 2,
    },
    {
        .name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .acl_categories = "slow scripting", .exec = CMD_EXEC_CLIENT, .handler = cmd_function_help,
        .summary = "Show helpful text about the different subcommands", .since = "7.0.0", .group = "scripting",
        .complexity = "O(1)",
    },
    {
        .name = "restore", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_NOSCRIPT, .flag_names = "write denyoom noscript",
        .acl_categories = "write slow scripting", .tips = ALL_SHARDS_OK,
        .exec = CMD_EXEC_CLIENT, .handler = cmd_function_restore,
        .summary = "Restore all the functions on the given payload", .since = "7.0.0", .group = "scripting",
        .complexity = "O(N) where N is the number of functions on the payload", .args = args_function_restore, .arg_count = 2,
    },
    {
        .name = "delete", .arity = 3, .flags = CMD_WRITE | CMD_NOSCRIPT, .flag_names = "write noscript",
        .acl_categories = "write slow scripting", .tips = ALL_SHARDS_OK,
        .exec = CMD_EXEC_CLIENT, .handler = cmd_function_delete,
        .summary = "Delete a function by name", .since = "7.0.0", .group = "scripting",
        .complexity = "O(1)", .args = args_function_delete, .arg_count = 1,
    },
    {
        .name = "kill", .arity = 2, .flags = CMD_NOSCRIPT | CMD_ALLOW_BUSY, .flag_names = "noscript allow_busy",
        .acl_categories = "slow scripting", .tips = "request_policy:all_shards response_policy:one_succeeded",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_function_kill,
        .summary = "Kill the function currently in execution.", .since = "7.0.0", .group = "scripting",
        .complexity = "O(1)",
    },
    {
        .name = "stats", .arity = 2, .flags = CMD_NOSCRIPT | CMD_ALLOW_BUSY, .flag_names = "noscript allow_busy",
        .acl_categories = "slow scripting", .tips = "nondeterministic_output request_policy:all_shards response_policy:special",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_function_stats,
        .summary = "Return information about the function currently running (name, description, duration)",
        .since = "7.0.0", .group = "scripting", .complexity = "O(1)",
    },
    {
        .name = "flush", .arity = -2, .flags = CMD_WRITE | CMD_NOSCRIPT, .flag_names = "write noscript",
        .acl_categories = "write slow scripting", .tips = ALL_SHARDS_OK,
        .exec = CMD_EXEC_CLIENT, .handler = cmd_function_flush,
        .summary = "Deleting all functions", .since = "7.0.0", .group = "scripting",
        .complexity = "O(N) where N is the number of functions deleted", .args = args_function_flush, .arg_count = 1,
    },
    {
        .name = "load", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_NOSCRIPT, .flag_names = "write denyoom noscript",
        .acl_categories = "write slow scripting", .tips = ALL_SHARDS_OK,
        .exec = CMD_EXEC_CLIENT, .handler = cmd_function_load,
        .summary = "Create a function with the given arguments (name, code, description)", .since = "7.0.0",
        .group = "scripting", .complexity = "O(1) (considering compilation time is redundant)",
        .args = args_function_load, .arg_count = 2,
    },
    { .name = NULL },
};

#define FCALL_FLAGS (CMD_NOSCRIPT | CMD_STALE | CMD_MOVABLE_KEYS | CMD_SCRIPT)

cmd_def_t cmdtable_function[] = {
    {
        .name = "fcall", .arity = -3, .flags = FCALL_FLAGS | CMD_MAY_REPLICATE,
        .flag_names = "noscript stale skip_monitor no_mandatory_keys movablekeys",
        .acl_categories = "slow scripting", .keyspecs = keyspecs_fcall, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_fcall, .call_flags = cmd_fcall_flags,
        .summary = "Invoke a function", .since = "7.0.0", .group = "scripting",
        .complexity = "Depends on the function that is executed.", .args = args_fcall, .arg_count = 4,
    },
    {
        .name = "fcall_ro", .arity = -3, .flags = FCALL_FLAGS | CMD_READONLY,
        .flag_names = "readonly noscript stale skip_monitor no_mandatory_keys movablekeys",
        .acl_categories = "slow scripting", .keyspecs = keyspecs_fcall_ro, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_fcall_ro, .call_flags = cmd_fcall_flags,
        .summary = "Invoke a read-only function", .since = "7.0.0", .group = "scripting",
        .complexity = "Depends on the function that is executed.", .args = args_fcall, .arg_count = 4,
    },
    {
        .name = "function", .arity = -2, .flags = 0, .flag_names = "",
        .acl_categories = "slow", .exec = CMD_EXEC_CLIENT, .handler = NULL,
        .subcommands = subcommands_function,
        .summary = "A container for function commands", .since = "7.0.0", .group = "scripting",
        .complexity = "Depends on subcommand.",
    },
    { .name = NULL },
};

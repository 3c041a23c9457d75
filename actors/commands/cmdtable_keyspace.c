/* cmdtable_keyspace.c - command table entries for the generic keyspace commands
 * (DEL, EXPIRE, TTL, RENAME, SCAN, KEYS ...).
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

static const cmd_keyspec_t keyspecs_del[] = {
    { .flags = "RM delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_del[] = {
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_unlink[] = {
    { .flags = "RM delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_unlink[] = {
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_exists[] = {
    { .flags = "RO", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 0 },
};

static const cmd_history_t history_exists[] = {
    { "3.0.3", "Takes several keys." },
};

static const cmd_arg_doc_t args_exists[] = {
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_touch[] = {
    { .flags = "RO", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_touch[] = {
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_type[] = {
    { .flags = "RO", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_type[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_expire[] = {
    { .flags = "RW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_history_t history_expire[] = {
    { "7.0.0", "The NX, XX, GT and LT options." },
};

static const cmd_arg_doc_t args_expire_condition[] = {
    { .name = "nx", .type = "pure-token", .key_spec_index = -1, .token = "NX" },
    { .name = "xx", .type = "pure-token", .key_spec_index = -1, .token = "XX" },
    { .name = "gt", .type = "pure-token", .key_spec_index = -1, .token = "GT" },
    { .name = "lt", .type = "pure-token", .key_spec_index = -1, .token = "LT" },
};

static const cmd_arg_doc_t args_expire[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "seconds", .type = "integer", .key_spec_index = -1 },
    { .name = "condition", .type = "oneof", .key_spec_index = -1, .since = "7.0.0", .flags = CMD_ARG_OPTIONAL, .subargs = args_expire_condition, .subarg_count = 4 },
};

static const cmd_keyspec_t keyspecs_pexpire[] = {
    { .flags = "RW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_history_t history_pexpire[] = {
    { "7.0.0", "The NX, XX, GT and LT options." },
};

static const cmd_arg_doc_t args_pexpire_condition[] = {
    { .name = "nx", .type = "pure-token", .key_spec_index = -1, .token = "NX" },
    { .name = "xx", .type = "pure-token", .key_spec_index = -1, .token = "XX" },
    { .name = "gt", .type = "pure-token", .key_spec_index = -1, .token = "GT" },
    { .name = "lt", .type = "pure-token", .key_spec_index = -1, .token = "LT" },
};

static const cmd_arg_doc_t args_pexpire[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "milliseconds", .type = "integer", .key_spec_index = -1 },
    { .name = "condition", .type = "oneof", .key_spec_index = -1, .since = "7.0.0", .flags = CMD_ARG_OPTIONAL, .subargs = args_pexpire_condition, .subarg_count = 4 },
};

static const cmd_keyspec_t keyspecs_expireat[] = {
    { .flags = "RW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_history_t history_expireat[] = {
    { "7.0.0", "The NX, XX, GT and LT options." },
};

static const cmd_arg_doc_t args_expireat_condition[] = {
    { .name = "nx", .type = "pure-token", .key_spec_index = -1, .token = "NX" },
    { .name = "xx", .type = "pure-token", .key_spec_index = -1, .token = "XX" },
    { .name = "gt", .type = "pure-token", .key_spec_index = -1, .token = "GT" },
    { .name = "lt", .type = "pure-token", .key_spec_index = -1, .token = "LT" },
};

static const cmd_arg_doc_t args_expireat[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "unix-time-seconds", .type = "unix-time", .key_spec_index = -1 },
    { .name = "condition", .type = "oneof", .key_spec_index = -1, .since = "7.0.0", .flags = CMD_ARG_OPTIONAL, .subargs = args_expireat_condition, .subarg_count = 4 },
};

static const cmd_keyspec_t keyspecs_pexpireat[] = {
    { .flags = "RW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_history_t history_pexpireat[] = {
    { "7.0.0", "The NX, XX, GT and LT options." },
};

static const cmd_arg_doc_t args_pexpireat_condition[] = {
    { .name = "nx", .type = "pure-token", .key_spec_index = -1, .token = "NX" },
    { .name = "xx", .type = "pure-token", .key_spec_index = -1, .token = "XX" },
    { .name = "gt", .type = "pure-token", .key_spec_index = -1, .token = "GT" },
    { .name = "lt", .type = "pure-token", .key_spec_index = -1, .token = "LT" },
};

static const cmd_arg_doc_t args_pexpireat[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "unix-time-milliseconds", .type = "unix-time", .key_spec_index = -1 },
    { .name = "condition", .type = "oneof", .key_spec_index = -1, .since = "7.0.0", .flags = CMD_ARG_OPTIONAL, .subargs = args_pexpireat_condition, .subarg_count = 4 },
};

static const cmd_keyspec_t keyspecs_expiretime[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_expiretime[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_pexpiretime[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_pexpiretime[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_ttl[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_history_t history_ttl[] = {
    { "2.8.0", "Replies -2 for a missing key." },
};

static const cmd_arg_doc_t args_ttl[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_pttl[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_history_t history_pttl[] = {
    { "2.8.0", "Replies -2 for a missing key." },
};

static const cmd_arg_doc_t args_pttl[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_persist[] = {
    { .flags = "RW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_persist[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_sort[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "RO access", .bs_type = CMD_KS_UNKNOWN, .fk_type = CMD_KS_UNKNOWN,
      .notes = "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort" },
    { .flags = "OW update", .bs_type = CMD_KS_UNKNOWN, .fk_type = CMD_KS_UNKNOWN,
      .notes = "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array" },
};

static const cmd_arg_doc_t args_sort_limit[] = {
    { .name = "offset", .type = "integer", .key_spec_index = -1 },
    { .name = "count", .type = "integer", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_sort_order[] = {
    { .name = "asc", .type = "pure-token", .key_spec_index = -1, .token = "ASC" },
    { .name = "desc", .type = "pure-token", .key_spec_index = -1, .token = "DESC" },
};

static const cmd_arg_doc_t args_sort[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "pattern", .type = "pattern", .key_spec_index = 1, .token = "BY", .flags = CMD_ARG_OPTIONAL },
    { .name = "offset_count", .type = "block", .key_spec_index = -1, .token = "LIMIT", .flags = CMD_ARG_OPTIONAL, .subargs = args_sort_limit, .subarg_count = 2 },
    { .name = "pattern", .type = "pattern", .key_spec_index = 1, .token = "GET", .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE | CMD_ARG_MULTIPLE_TOKEN },
    { .name = "order", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_sort_order, .subarg_count = 2 },
    { .name = "sorting", .type = "pure-token", .key_spec_index = -1, .token = "ALPHA", .flags = CMD_ARG_OPTIONAL },
    { .name = "destination", .type = "key", .key_spec_index = 2, .token = "STORE", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_keyspec_t keyspecs_rename[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "OW update", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_rename[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "newkey", .type = "key", .key_spec_index = 1 },
};

static const cmd_keyspec_t keyspecs_renamenx[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "OW insert", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_history_t history_renamenx[] = {
    { "3.2.0", "Renaming a key to its own name is no longer an error." },
};

static const cmd_arg_doc_t args_renamenx[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "newkey", .type = "key", .key_spec_index = 1 },
};

static const cmd_keyspec_t keyspecs_move[] = {
    { .flags = "RW access update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_move[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "db", .type = "integer", .key_spec_index = -1 },
};

static const cmd_history_t history_scan[] = {
    { "6.0.0", "The TYPE option." },
};

static const cmd_arg_doc_t args_scan[] = {
    { .name = "cursor", .type = "integer", .key_spec_index = -1 },
    { .name = "pattern", .type = "pattern", .key_spec_index = -1, .token = "MATCH", .flags = CMD_ARG_OPTIONAL },
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "COUNT", .flags = CMD_ARG_OPTIONAL },
    { .name = "type", .type = "string", .key_spec_index = -1, .token = "TYPE", .since = "6.0.0", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_arg_doc_t args_keys[] = {
    { .name = "pattern", .type = "pattern", .key_spec_index = -1 },
};

cmd_def_t cmdtable_keyspace[] = {
    {
        .name = "del", .arity = -2, .flags = CMD_WRITE, .flag_names = "write",
        .first_key = 1, .last_key = -1, .key_step = 1, .acl_categories = "keyspace write slow",
        .tips = "request_policy:multi_shard response_policy:agg_sum",
        .keyspecs = keyspecs_del, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_del,
        .summary = "Deletes keys",
        .since = "1.0.0", .group = "generic", .complexity = "O(N), N being the number of keys deleted; deleting a collection costs O(M) in its number of elements, a string O(1).",
        .args = args_del, .arg_count = 1,
    },
    {
        .name = "unlink", .arity = -2, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = -1, .key_step = 1, .acl_categories = "keyspace write fast",
        .tips = "request_policy:multi_shard response_policy:agg_sum",
        .keyspecs = keyspecs_unlink, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_unlink,
        .summary = "Deletes keys, freeing their memory in the background. Same effect as DEL without blocking on large values.",
        .since = "4.0.0", .group = "generic", .complexity = "O(1) per key at call time; the memory is then reclaimed elsewhere in O(N), N being the number of allocations of the deleted values.",
        .args = args_unlink, .arg_count = 1,
    },
    {
        .name = "exists", .arity = -2, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = -1, .key_step = 1, .acl_categories = "keyspace read fast",
        .tips = "request_policy:multi_shard response_policy:agg_sum",
        .keyspecs = keyspecs_exists, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_exists,
        .summary = "Counts how many of the given keys exist",
        .since = "1.0.0", .group = "generic", .complexity = "O(N), N being the number of keys given.",
        .history = history_exists, .history_count = 1,
        .args = args_exists, .arg_count = 1,
    },
    {
        .name = "touch", .arity = -2, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = -1, .key_step = 1, .acl_categories = "keyspace read fast",
        .tips = "request_policy:multi_shard response_policy:agg_sum",
        .keyspecs = keyspecs_touch, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_touch,
        .summary = "Updates the last access time of keys and counts how many of them exist.",
        .since = "3.2.1", .group = "generic", .complexity = "O(N), N being the number of keys given.",
        .args = args_touch, .arg_count = 1,
    },
    {
        .name = "type", .arity = 2, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "keyspace read fast",
        .keyspecs = keyspecs_type, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_type,
        .summary = "Names the type of the value stored at a key",
        .since = "1.0.0", .group = "generic", .complexity = "O(1)",
        .args = args_type, .arg_count = 1,
    },
    {
        .name = "expire", .arity = -3, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "keyspace write fast",
        .keyspecs = keyspecs_expire, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_expire,
        .summary = "Gives a key a time to live in seconds",
        .since = "1.0.0", .group = "generic", .complexity = "O(1)",
        .history = history_expire, .history_count = 1,
        .args = args_expire, .arg_count = 3,
    },
    {
        .name = "pexpire", .arity = -3, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "keyspace write fast",
        .keyspecs = keyspecs_pexpire, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_pexpire,
        .summary = "Gives a key a time to live in milliseconds",
        .since = "2.6.0", .group = "generic", .complexity = "O(1)",
        .history = history_pexpire, .history_count = 1,
        .args = args_pexpire, .arg_count = 3,
    },
    {
        .name = "expireat", .arity = -3, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "keyspace write fast",
        .keyspecs = keyspecs_expireat, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_expireat,
        .summary = "Makes a key expire at a UNIX time in seconds",
        .since = "1.2.0", .group = "generic", .complexity = "O(1)",
        .history = history_expireat, .history_count = 1,
        .args = args_expireat, .arg_count = 3,
    },
    {
        .name = "pexpireat", .arity = -3, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "keyspace write fast",
        .keyspecs = keyspecs_pexpireat, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_pexpireat,
        .summary = "Makes a key expire at a UNIX time in milliseconds",
        .since = "2.6.0", .group = "generic", .complexity = "O(1)",
        .history = history_pexpireat, .history_count = 1,
        .args = args_pexpireat, .arg_count = 3,
    },
    {
        .name = "expiretime", .arity = 2, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "keyspace read fast",
        .keyspecs = keyspecs_expiretime, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_expiretime,
        .summary = "Gives the UNIX time in seconds at which a key expires",
        .since = "7.0.0", .group = "generic", .complexity = "O(1)",
        .args = args_expiretime, .arg_count = 1,
    },
    {
        .name = "pexpiretime", .arity = 2, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "keyspace read fast",
        .keyspecs = keyspecs_pexpiretime, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_pexpiretime,
        .summary = "Gives the UNIX time in milliseconds at which a key expires",
        .since = "7.0.0", .group = "generic", .complexity = "O(1)",
        .args = args_pexpiretime, .arg_count = 1,
    },
    {
        .name = "ttl", .arity = 2, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "keyspace read fast",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_ttl, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_ttl,
        .summary = "Gives the remaining time to live of a key in seconds",
        .since = "1.0.0", .group = "generic", .complexity = "O(1)",
        .history = history_ttl, .history_count = 1,
        .args = args_ttl, .arg_count = 1,
    },
    {
        .name = "pttl", .arity = 2, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "keyspace read fast",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_pttl, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_pttl,
        .summary = "Gives the remaining time to live of a key in milliseconds",
        .since = "2.6.0", .group = "generic", .complexity = "O(1)",
        .history = history_pttl, .history_count = 1,
        .args = args_pttl, .arg_count = 1,
    },
    {
        .name = "persist", .arity = 2, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "keyspace write fast",
        .keyspecs = keyspecs_persist, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_persist,
        .summary = "Removes the expiry of a key",
        .since = "2.2.0", .group = "generic", .complexity = "O(1)",
        .args = args_persist, .arg_count = 1,
    },
    {
        .name = "rename", .arity = 3, .flags = CMD_WRITE, .flag_names = "write",
        .first_key = 1, .last_key = 2, .key_step = 1, .acl_categories = "keyspace write slow",
        .keyspecs = keyspecs_rename, .keyspec_count = 2,
        .exec = CMD_EXEC_KEYED, .handler = cmd_rename,
        .summary = "Gives a key a new name",
        .since = "1.0.0", .group = "generic", .complexity = "O(1)",
        .args = args_rename, .arg_count = 2,
    },
    {
        .name = "renamenx", .arity = 3, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 2, .key_step = 1, .acl_categories = "keyspace write fast",
        .keyspecs = keyspecs_renamenx, .keyspec_count = 2,
        .exec = CMD_EXEC_KEYED, .handler = cmd_renamenx,
        .summary = "Gives a key a new name unless that name is taken",
        .since = "1.0.0", .group = "generic", .complexity = "O(1)",
        .history = history_renamenx, .history_count = 1,
        .args = args_renamenx, .arg_count = 2,
    },
    {
        .name = "move", .arity = 3, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "keyspace write fast",
        .keyspecs = keyspecs_move, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_move,
        .summary = "Moves a key to another database",
        .since = "1.0.0", .group = "generic", .complexity = "O(1)",
        .args = args_move, .arg_count = 2,
    },
    {
        .name = "scan", .arity = -2, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "keyspace read slow",
        .tips = "nondeterministic_output request_policy:special",
        .exec = CMD_EXEC_FANOUT, .handler = cmd_scan,
        .fanout = { .start = cmd_scan_start, .part = cmd_scan_part, .merge = cmd_scan_merge,
                    .reply = cmd_scan_reply },
        .summary = "Walks the keyspace a few keys at a time with a cursor",
        .since = "2.8.0", .group = "generic", .complexity = "O(1) per call; a full walk, until the cursor comes back to 0, is O(N) in the number of keys.",
        .history = history_scan, .history_count = 1,
        .args = args_scan, .arg_count = 4,
    },
    {
        .name = "keys", .arity = 2, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "keyspace read slow dangerous",
        .tips = "request_policy:all_shards nondeterministic_output_order",
        .exec = CMD_EXEC_FANOUT, .handler = cmd_keys,
        .fanout = { .part = cmd_keys_part, .merge = cmd_keys_merge, .reply = cmd_keys_reply },
        .summary = "Lists the keys that match a glob pattern",
        .since = "1.0.0", .group = "generic", .complexity = "O(N), N being the number of keys in the database (key names and pattern assumed short).",
        .args = args_keys, .arg_count = 1,
    },
    {
        .name = "randomkey", .arity = 1, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "keyspace read slow",
        .tips = "request_policy:all_shards nondeterministic_output",
        .exec = CMD_EXEC_FANOUT, .handler = cmd_randomkey,
        .fanout = { .part = cmd_randomkey_part, .merge = cmd_randomkey_merge, .reply = cmd_randomkey_reply },
        .summary = "Picks a key at random",
        .since = "1.0.0", .group = "generic", .complexity = "O(1)",
    },
    {
        .name = "sort", .arity = -2, .flags = CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS, .flag_names = "write denyoom movablekeys",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write set sortedset list slow dangerous",
        .keyspecs = keyspecs_sort, .keyspec_count = 3, .getkeys = cmd_sort_getkeys,
        .exec = CMD_EXEC_KEYED, .handler = cmd_sort,
        .summary = "Sorts the elements of a list, set or sorted set, optionally storing the result",
        .since = "1.0.0", .group = "generic", .complexity = "O(N+M*log(M)), N being the number of elements to sort and M the number returned; O(N) when nothing is sorted.",
        .args = args_sort, .arg_count = 7,
    },
    {
        .name = "sort_ro", .arity = -2, .flags = CMD_READONLY | CMD_MOVABLE_KEYS, .flag_names = "readonly movablekeys",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read set sortedset list slow dangerous",
        .keyspecs = keyspecs_sort, .keyspec_count = 2, .getkeys = cmd_sort_ro_getkeys,
        .exec = CMD_EXEC_KEYED, .handler = cmd_sort_ro,
        .summary = "Sorts the elements of a list, set or sorted set; the read-only SORT",
        .since = "7.0.0", .group = "generic", .complexity = "O(N+M*log(M)), N being the number of elements to sort and M the number returned; O(N) when nothing is sorted.",
        .args = args_sort, .arg_count = 6,
    },
    { .name = NULL },
};

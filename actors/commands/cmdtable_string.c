/* cmdtable_string.c - command table entries for the string commands.
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

static const cmd_keyspec_t keyspecs_get[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_get[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_set[] = {
    { .flags = "RW access update variable_flags", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0, .notes = "RW and ACCESS due to the optional `GET` argument" },
};

static const cmd_history_t history_set[] = {
    { "2.6.12", "The EX, PX, NX and XX options." },
    { "6.0.0", "The KEEPTTL option." },
    { "6.2.0", "The GET, EXAT and PXAT options." },
    { "7.0.0", "NX and GET may be combined." },
};

static const cmd_arg_doc_t args_set_condition[] = {
    { .name = "nx", .type = "pure-token", .key_spec_index = -1, .token = "NX" },
    { .name = "xx", .type = "pure-token", .key_spec_index = -1, .token = "XX" },
};

static const cmd_arg_doc_t args_set_expiration[] = {
    { .name = "seconds", .type = "integer", .key_spec_index = -1, .token = "EX", .since = "2.6.12" },
    { .name = "milliseconds", .type = "integer", .key_spec_index = -1, .token = "PX", .since = "2.6.12" },
    { .name = "unix-time-seconds", .type = "unix-time", .key_spec_index = -1, .token = "EXAT", .since = "6.2.0" },
    { .name = "unix-time-milliseconds", .type = "unix-time", .key_spec_index = -1, .token = "PXAT", .since = "6.2.0" },
    { .name = "keepttl", .type = "pure-token", .key_spec_index = -1, .token = "KEEPTTL", .since = "6.0.0" },
};

static const cmd_arg_doc_t args_set[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "value", .type = "string", .key_spec_index = -1 },
    { .name = "condition", .type = "oneof", .key_spec_index = -1, .since = "2.6.12", .flags = CMD_ARG_OPTIONAL, .subargs = args_set_condition, .subarg_count = 2 },
    { .name = "get", .type = "pure-token", .key_spec_index = -1, .token = "GET", .since = "6.2.0", .flags = CMD_ARG_OPTIONAL },
    { .name = "expiration", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_set_expiration, .subarg_count = 5 },
};

static const cmd_keyspec_t keyspecs_setnx[] = {
    { .flags = "OW insert", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_setnx[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "value", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_setex[] = {
    { .flags = "OW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_setex[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "seconds", .type = "integer", .key_spec_index = -1 },
    { .name = "value", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_psetex[] = {
    { .flags = "OW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_psetex[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "milliseconds", .type = "integer", .key_spec_index = -1 },
    { .name = "value", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_getset[] = {
    { .flags = "RW access update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_getset[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "value", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_getdel[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_getdel[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_getex[] = {
    { .flags = "RW access update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0, .notes = "RW and UPDATE because it changes the TTL" },
};

static const cmd_arg_doc_t args_getex_expiration[] = {
    { .name = "seconds", .type = "integer", .key_spec_index = -1, .token = "EX" },
    { .name = "milliseconds", .type = "integer", .key_spec_index = -1, .token = "PX" },
    { .name = "unix-time-seconds", .type = "unix-time", .key_spec_index = -1, .token = "EXAT" },
    { .name = "unix-time-milliseconds", .type = "unix-time", .key_spec_index = -1, .token = "PXAT" },
    { .name = "persist", .type = "pure-token", .key_spec_index = -1, .token = "PERSIST" },
};

static const cmd_arg_doc_t args_getex[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "expiration", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_getex_expiration, .subarg_count = 5 },
};

static const cmd_keyspec_t keyspecs_mget[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_mget[] = {
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_mset[] = {
    { .flags = "OW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 2, .fk_c = 0 },
};

static const cmd_arg_doc_t args_mset_key_value[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "value", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_mset[] = {
    { .name = "key_value", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE, .subargs = args_mset_key_value, .subarg_count = 2 },
};

static const cmd_keyspec_t keyspecs_msetnx[] = {
    { .flags = "OW insert", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 2, .fk_c = 0 },
};

static const cmd_arg_doc_t args_msetnx_key_value[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "value", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_msetnx[] = {
    { .name = "key_value", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE, .subargs = args_msetnx_key_value, .subarg_count = 2 },
};

static const cmd_keyspec_t keyspecs_incr[] = {
    { .flags = "RW access update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_incr[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_decr[] = {
    { .flags = "RW access update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_decr[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_incrby[] = {
    { .flags = "RW access update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_incrby[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "increment", .type = "integer", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_decrby[] = {
    { .flags = "RW access update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_decrby[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "decrement", .type = "integer", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_incrbyfloat[] = {
    { .flags = "RW access update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_incrbyfloat[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "increment", .type = "double", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_append[] = {
    { .flags = "RW insert", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_append[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "value", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_strlen[] = {
    { .flags = "RO", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_strlen[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_getrange[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_getrange[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "start", .type = "integer", .key_spec_index = -1 },
    { .name = "end", .type = "integer", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_setrange[] = {
    { .flags = "RW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_setrange[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "offset", .type = "integer", .key_spec_index = -1 },
    { .name = "value", .type = "string", .key_spec_index = -1 },
};

cmd_def_t cmdtable_string[] = {
    {
        .name = "get", .arity = 2, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read string fast",
        .keyspecs = keyspecs_get, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_get,
        .summary = "Reads the string stored at a key",
        .since = "1.0.0", .group = "string", .complexity = "O(1)",
        .args = args_get, .arg_count = 1,
    },
    {
        .name = "set", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write string slow",
        .keyspecs = keyspecs_set, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_set,
        .summary = "Stores a string at a key",
        .since = "1.0.0", .group = "string", .complexity = "O(1)",
        .history = history_set, .history_count = 4,
        .args = args_set, .arg_count = 5,
    },
    {
        .name = "setnx", .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write string fast",
        .keyspecs = keyspecs_setnx, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_setnx,
        .summary = "Stores a string at a key unless the key exists",
        .since = "1.0.0", .group = "string", .complexity = "O(1)",
        .args = args_setnx, .arg_count = 2,
    },
    {
        .name = "setex", .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write string slow",
        .keyspecs = keyspecs_setex, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_setex,
        .summary = "Stores a string at a key with a time to live in seconds",
        .since = "2.0.0", .group = "string", .complexity = "O(1)",
        .args = args_setex, .arg_count = 3,
    },
    {
        .name = "psetex", .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write string slow",
        .keyspecs = keyspecs_psetex, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_psetex,
        .summary = "Stores a string at a key with a time to live in milliseconds",
        .since = "2.6.0", .group = "string", .complexity = "O(1)",
        .args = args_psetex, .arg_count = 3,
    },
    {
        .name = "getset", .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write string fast",
        .keyspecs = keyspecs_getset, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_getset,
        .summary = "Stores a string at a key and returns the previous value",
        .since = "1.0.0", .group = "string", .complexity = "O(1)",
        .doc_flags = "deprecated",
        .deprecated_since = "6.2.0", .replaced_by = "SET with its GET option",
        .args = args_getset, .arg_count = 2,
    },
    {
        .name = "getdel", .arity = 2, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write string fast",
        .keyspecs = keyspecs_getdel, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_getdel,
        .summary = "Reads the string at a key and deletes the key",
        .since = "6.2.0", .group = "string", .complexity = "O(1)",
        .args = args_getdel, .arg_count = 1,
    },
    {
        .name = "getex", .arity = -2, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write string fast",
        .keyspecs = keyspecs_getex, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_getex,
        .summary = "Reads the string at a key and optionally changes its expiry",
        .since = "6.2.0", .group = "string", .complexity = "O(1)",
        .args = args_getex, .arg_count = 2,
    },
    {
        .name = "mget", .arity = -2, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = -1, .key_step = 1, .acl_categories = "read string fast",
        .tips = "request_policy:multi_shard",
        .keyspecs = keyspecs_mget, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_mget,
        .summary = "Reads the strings stored at several keys",
        .since = "1.0.0", .group = "string", .complexity = "O(N), N being the number of keys read.",
        .args = args_mget, .arg_count = 1,
    },
    {
        .name = "mset", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = -1, .key_step = 2, .acl_categories = "write string slow",
        .tips = "request_policy:multi_shard response_policy:all_succeeded",
        .keyspecs = keyspecs_mset, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_mset,
        .summary = "Stores strings at several keys",
        .since = "1.0.1", .group = "string", .complexity = "O(N), N being the number of keys written.",
        .args = args_mset, .arg_count = 1,
    },
    {
        .name = "msetnx", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = -1, .key_step = 2, .acl_categories = "write string slow",
        .tips = "request_policy:multi_shard response_policy:agg_min",
        .keyspecs = keyspecs_msetnx, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_msetnx,
        .summary = "Stores strings at several keys, only when none of them exists",
        .since = "1.0.1", .group = "string", .complexity = "O(N), N being the number of keys written.",
        .args = args_msetnx, .arg_count = 1,
    },
    {
        .name = "incr", .arity = 2, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write string fast",
        .keyspecs = keyspecs_incr, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_incr,
        .summary = "Adds one to the integer stored at a key",
        .since = "1.0.0", .group = "string", .complexity = "O(1)",
        .args = args_incr, .arg_count = 1,
    },
    {
        .name = "decr", .arity = 2, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write string fast",
        .keyspecs = keyspecs_decr, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_decr,
        .summary = "Subtracts one from the integer stored at a key",
        .since = "1.0.0", .group = "string", .complexity = "O(1)",
        .args = args_decr, .arg_count = 1,
    },
    {
        .name = "incrby", .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write string fast",
        .keyspecs = keyspecs_incrby, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_incrby,
        .summary = "Adds an integer to the integer stored at a key",
        .since = "1.0.0", .group = "string", .complexity = "O(1)",
        .args = args_incrby, .arg_count = 2,
    },
    {
        .name = "decrby", .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write string fast",
        .keyspecs = keyspecs_decrby, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_decrby,
        .summary = "Subtracts an integer from the integer stored at a key",
        .since = "1.0.0", .group = "string", .complexity = "O(1)",
        .args = args_decrby, .arg_count = 2,
    },
    {
        .name = "incrbyfloat", .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write string fast",
        .keyspecs = keyspecs_incrbyfloat, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_incrbyfloat,
        .summary = "Adds a floating point number to the number stored at a key",
        .since = "2.6.0", .group = "string", .complexity = "O(1)",
        .args = args_incrbyfloat, .arg_count = 2,
    },
    {
        .name = "append", .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write string fast",
        .keyspecs = keyspecs_append, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_append,
        .summary = "Adds bytes to the end of the string stored at a key",
        .since = "2.0.0", .group = "string", .complexity = "O(1) amortized: the string buffer grows geometrically, so appending a short value is constant time whatever the current length.",
        .args = args_append, .arg_count = 2,
    },
    {
        .name = "strlen", .arity = 2, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read string fast",
        .keyspecs = keyspecs_strlen, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_strlen,
        .summary = "Gives the length of the string stored at a key",
        .since = "2.2.0", .group = "string", .complexity = "O(1)",
        .args = args_strlen, .arg_count = 1,
    },
    {
        .name = "getrange", .arity = 4, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read string slow",
        .keyspecs = keyspecs_getrange, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_getrange,
        .summary = "Reads part of the string stored at a key",
        .since = "2.4.0", .group = "string", .complexity = "O(N), N being the length of the part returned; in practice constant for short ranges, since copying a few bytes is cheap.",
        .args = args_getrange, .arg_count = 3,
    },
    {
        .name = "substr", .arity = 4, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read string slow",
        .keyspecs = keyspecs_getrange, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_getrange,
        .summary = "Reads part of the string stored at a key (old name of GETRANGE)",
        .since = "1.0.0", .group = "string", .complexity = "O(N), N being the length of the part returned.",
        .doc_flags = "deprecated", .deprecated_since = "2.0.0", .replaced_by = "`GETRANGE`",
        .args = args_getrange, .arg_count = 3,
    },
    {
        .name = "setrange", .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write string slow",
        .keyspecs = keyspecs_setrange, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_setrange,
        .summary = "Overwrites part of the string stored at a key, from an offset",
        .since = "2.2.0", .group = "string", .complexity = "O(1) plus the copy of the new bytes, so O(M) for a value of length M; usually M is small and the cost constant.",
        .args = args_setrange, .arg_count = 3,
    },
    { .name = NULL },
};

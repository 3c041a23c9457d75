/* cmdtable_hash.c - command table entries for the hash commands.
 *
 * Arity, flags, key positions, key specs, ACL categories, tips and argument
 * trees are taken from the COMMAND INFO / COMMAND DOCS replies of a real
 * redis-server 7.0.15 (clients route by them); the summary, complexity and
 * history texts are our own words. Data only; no logic (see cmdtable.c).
 */
#include <stddef.h>
#include "actors/commands/cmd.h"
#include "actors/commands/commands.h"

static const cmd_keyspec_t keyspecs_hset[] = {
    { .flags = "RW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_hset_field_value[] = {
    { .name = "field", .type = "string", .key_spec_index = -1 },
    { .name = "value", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_hset[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "field_value", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE, .subargs = args_hset_field_value, .subarg_count = 2 },
};

static const cmd_history_t history_hset[] = {
    { "4.0.0", "Several field/value pairs may be given." },
};

static const cmd_keyspec_t keyspecs_hsetnx[] = {
    { .flags = "RW insert", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_hsetnx[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "field", .type = "string", .key_spec_index = -1 },
    { .name = "value", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_hmset[] = {
    { .flags = "RW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_hmset_field_value[] = {
    { .name = "field", .type = "string", .key_spec_index = -1 },
    { .name = "value", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_hmset[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "field_value", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE, .subargs = args_hmset_field_value, .subarg_count = 2 },
};

static const cmd_keyspec_t keyspecs_hget[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_hget[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "field", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_hmget[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_hmget[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "field", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_hgetall[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_hgetall[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_hdel[] = {
    { .flags = "RW delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_hdel[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "field", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_history_t history_hdel[] = {
    { "2.4.0", "Several fields may be given." },
};

static const cmd_keyspec_t keyspecs_hexists[] = {
    { .flags = "RO", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_hexists[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "field", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_hlen[] = {
    { .flags = "RO", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_hlen[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_hstrlen[] = {
    { .flags = "RO", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_hstrlen[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "field", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_hkeys[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_hkeys[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_hvals[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_hvals[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_hincrby[] = {
    { .flags = "RW access update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_hincrby[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "field", .type = "string", .key_spec_index = -1 },
    { .name = "increment", .type = "integer", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_hincrbyfloat[] = {
    { .flags = "RW access update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_hincrbyfloat[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "field", .type = "string", .key_spec_index = -1 },
    { .name = "increment", .type = "double", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_hrandfield[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_hrandfield_options[] = {
    { .name = "count", .type = "integer", .key_spec_index = -1 },
    { .name = "withvalues", .type = "pure-token", .key_spec_index = -1, .token = "WITHVALUES", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_arg_doc_t args_hrandfield[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "options", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_hrandfield_options, .subarg_count = 2 },
};

static const cmd_keyspec_t keyspecs_hscan[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_hscan[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "cursor", .type = "integer", .key_spec_index = -1 },
    { .name = "pattern", .type = "pattern", .key_spec_index = -1, .token = "MATCH", .flags = CMD_ARG_OPTIONAL },
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "COUNT", .flags = CMD_ARG_OPTIONAL },
};

cmd_def_t cmdtable_hash[] = {
    {
        .name = "hset", .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write hash fast",
        .keyspecs = keyspecs_hset, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_hset,
        .summary = "Sets one or more fields of a hash, creating it if needed",
        .since = "2.0.0", .group = "hash", .complexity = "O(1) per field/value pair given.",
        .history = history_hset, .history_count = 1,
        .args = args_hset, .arg_count = 2,
    },
    {
        .name = "hsetnx", .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write hash fast",
        .keyspecs = keyspecs_hsetnx, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_hsetnx,
        .summary = "Sets a hash field only when the field is absent",
        .since = "2.0.0", .group = "hash", .complexity = "O(1)",
        .args = args_hsetnx, .arg_count = 3,
    },
    {
        .name = "hmset", .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write hash fast",
        .keyspecs = keyspecs_hmset, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_hmset,
        .summary = "Sets several hash fields (the older form of HSET)",
        .since = "2.0.0", .group = "hash", .complexity = "O(N), N being the number of fields given.",
        .doc_flags = "deprecated",
        .deprecated_since = "4.0.0", .replaced_by = "`HSET` with multiple field-value pairs",
        .args = args_hmset, .arg_count = 2,
    },
    {
        .name = "hget", .arity = 3, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read hash fast",
        .keyspecs = keyspecs_hget, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_hget,
        .summary = "Returns the value of one hash field",
        .since = "2.0.0", .group = "hash", .complexity = "O(1)",
        .args = args_hget, .arg_count = 2,
    },
    {
        .name = "hmget", .arity = -3, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read hash fast",
        .keyspecs = keyspecs_hmget, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_hmget,
        .summary = "Returns the values of the given hash fields",
        .since = "2.0.0", .group = "hash", .complexity = "O(N), N being the number of fields asked for.",
        .args = args_hmget, .arg_count = 2,
    },
    {
        .name = "hgetall", .arity = 2, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read hash slow",
        .tips = "nondeterministic_output_order",
        .keyspecs = keyspecs_hgetall, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_hgetall,
        .summary = "Returns every field and value of a hash",
        .since = "2.0.0", .group = "hash", .complexity = "O(N), N being the number of fields in the hash.",
        .args = args_hgetall, .arg_count = 1,
    },
    {
        .name = "hdel", .arity = -3, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write hash fast",
        .keyspecs = keyspecs_hdel, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_hdel,
        .summary = "Removes fields from a hash, and the hash once it is empty",
        .since = "2.0.0", .group = "hash", .complexity = "O(N), N being the number of fields given.",
        .history = history_hdel, .history_count = 1,
        .args = args_hdel, .arg_count = 2,
    },
    {
        .name = "hexists", .arity = 3, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read hash fast",
        .keyspecs = keyspecs_hexists, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_hexists,
        .summary = "Tells whether a hash has a field",
        .since = "2.0.0", .group = "hash", .complexity = "O(1)",
        .args = args_hexists, .arg_count = 2,
    },
    {
        .name = "hlen", .arity = 2, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read hash fast",
        .keyspecs = keyspecs_hlen, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_hlen,
        .summary = "Returns how many fields a hash has",
        .since = "2.0.0", .group = "hash", .complexity = "O(1)",
        .args = args_hlen, .arg_count = 1,
    },
    {
        .name = "hstrlen", .arity = 3, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read hash fast",
        .keyspecs = keyspecs_hstrlen, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_hstrlen,
        .summary = "Returns the length in bytes of a hash field's value",
        .since = "3.2.0", .group = "hash", .complexity = "O(1)",
        .args = args_hstrlen, .arg_count = 2,
    },
    {
        .name = "hkeys", .arity = 2, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read hash slow",
        .tips = "nondeterministic_output_order",
        .keyspecs = keyspecs_hkeys, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_hkeys,
        .summary = "Returns every field of a hash",
        .since = "2.0.0", .group = "hash", .complexity = "O(N), N being the number of fields in the hash.",
        .args = args_hkeys, .arg_count = 1,
    },
    {
        .name = "hvals", .arity = 2, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read hash slow",
        .tips = "nondeterministic_output_order",
        .keyspecs = keyspecs_hvals, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_hvals,
        .summary = "Returns every value of a hash",
        .since = "2.0.0", .group = "hash", .complexity = "O(N), N being the number of fields in the hash.",
        .args = args_hvals, .arg_count = 1,
    },
    {
        .name = "hincrby", .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write hash fast",
        .keyspecs = keyspecs_hincrby, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_hincrby,
        .summary = "Adds an integer to the integer value of a hash field",
        .since = "2.0.0", .group = "hash", .complexity = "O(1)",
        .args = args_hincrby, .arg_count = 3,
    },
    {
        .name = "hincrbyfloat", .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write hash fast",
        .keyspecs = keyspecs_hincrbyfloat, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_hincrbyfloat,
        .summary = "Adds a floating-point number to the value of a hash field",
        .since = "2.6.0", .group = "hash", .complexity = "O(1)",
        .args = args_hincrbyfloat, .arg_count = 3,
    },
    {
        .name = "hrandfield", .arity = -2, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read hash slow",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_hrandfield, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_hrandfield,
        .summary = "Returns one or more fields picked at random from a hash",
        .since = "6.2.0", .group = "hash", .complexity = "O(N), N being the number of fields returned.",
        .args = args_hrandfield, .arg_count = 2,
    },
    {
        .name = "hscan", .arity = -3, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read hash slow",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_hscan, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_hscan,
        .summary = "Walks the fields and values of a hash a few at a time",
        .since = "2.8.0", .group = "hash", .complexity = "O(1) per call; O(N) for a whole walk, N being the number of fields.",
        .args = args_hscan, .arg_count = 4,
    },
    { .name = NULL },
};

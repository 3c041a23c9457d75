/* cmdtable_set.c - command table entries for the set commands.
 *
 * Arity, flags, key positions, key specs, ACL categories, tips and argument
 * trees are taken from the COMMAND INFO / COMMAND DOCS replies of a real
 * redis-server 7.0.15 (clients route by them); the summary, complexity and
 * history texts are our own words. Data only; no logic (see cmdtable.c).
 */
#include <stddef.h>
#include "actors/commands/cmd.h"
#include "actors/commands/commands.h"

static const cmd_keyspec_t keyspecs_sadd[] = {
    { .flags = "RW insert", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_sadd[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "member", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_history_t history_sadd[] = {
    { "2.4.0", "Several members may be given." },
};

static const cmd_keyspec_t keyspecs_srem[] = {
    { .flags = "RW delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_srem[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "member", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_history_t history_srem[] = {
    { "2.4.0", "Several members may be given." },
};

static const cmd_keyspec_t keyspecs_sismember[] = {
    { .flags = "RO", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_sismember[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "member", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_smismember[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_smismember[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "member", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_smembers[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_smembers[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_scard[] = {
    { .flags = "RO", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_scard[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_spop[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_spop[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "count", .type = "integer", .key_spec_index = -1, .since = "3.2.0", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_history_t history_spop[] = {
    { "3.2.0", "The count argument." },
};

static const cmd_keyspec_t keyspecs_srandmember[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_srandmember[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "count", .type = "integer", .key_spec_index = -1, .since = "2.6.0", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_history_t history_srandmember[] = {
    { "2.6.0", "The count argument." },
};

static const cmd_keyspec_t keyspecs_smove[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "RW insert", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_smove[] = {
    { .name = "source", .type = "key", .key_spec_index = 0 },
    { .name = "destination", .type = "key", .key_spec_index = 1 },
    { .name = "member", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_sinter[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_sinter[] = {
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_sintercard[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1 },
};

static const cmd_arg_doc_t args_sintercard[] = {
    { .name = "numkeys", .type = "integer", .key_spec_index = -1 },
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
    { .name = "limit", .type = "integer", .key_spec_index = -1, .token = "LIMIT", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_keyspec_t keyspecs_sinterstore[] = {
    { .flags = "RW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_sinterstore[] = {
    { .name = "destination", .type = "key", .key_spec_index = 0 },
    { .name = "key", .type = "key", .key_spec_index = 1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_sunion[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_sunion[] = {
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_sunionstore[] = {
    { .flags = "OW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_sunionstore[] = {
    { .name = "destination", .type = "key", .key_spec_index = 0 },
    { .name = "key", .type = "key", .key_spec_index = 1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_sdiff[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_sdiff[] = {
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_sdiffstore[] = {
    { .flags = "OW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_sdiffstore[] = {
    { .name = "destination", .type = "key", .key_spec_index = 0 },
    { .name = "key", .type = "key", .key_spec_index = 1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_sscan[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_sscan[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "cursor", .type = "integer", .key_spec_index = -1 },
    { .name = "pattern", .type = "pattern", .key_spec_index = -1, .token = "MATCH", .flags = CMD_ARG_OPTIONAL },
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "COUNT", .flags = CMD_ARG_OPTIONAL },
};

cmd_def_t cmdtable_set[] = {
    {
        .name = "sadd", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write set fast",
        .keyspecs = keyspecs_sadd, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_sadd,
        .summary = "Adds members to a set, creating it if needed",
        .since = "1.0.0", .group = "set", .complexity = "O(1) per member given.",
        .history = history_sadd, .history_count = 1,
        .args = args_sadd, .arg_count = 2,
    },
    {
        .name = "srem", .arity = -3, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write set fast",
        .keyspecs = keyspecs_srem, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_srem,
        .summary = "Removes members from a set, and the set once it is empty",
        .since = "1.0.0", .group = "set", .complexity = "O(N), N being the number of members given.",
        .history = history_srem, .history_count = 1,
        .args = args_srem, .arg_count = 2,
    },
    {
        .name = "sismember", .arity = 3, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read set fast",
        .keyspecs = keyspecs_sismember, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_sismember,
        .summary = "Tells whether a value is a member of a set",
        .since = "1.0.0", .group = "set", .complexity = "O(1)",
        .args = args_sismember, .arg_count = 2,
    },
    {
        .name = "smismember", .arity = -3, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read set fast",
        .keyspecs = keyspecs_smismember, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_smismember,
        .summary = "Tells for each of several values whether it is a member of a set",
        .since = "6.2.0", .group = "set", .complexity = "O(N), N being the number of values given.",
        .args = args_smismember, .arg_count = 2,
    },
    {
        .name = "smembers", .arity = 2, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read set slow",
        .tips = "nondeterministic_output_order",
        .keyspecs = keyspecs_smembers, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_smembers,
        .summary = "Returns every member of a set",
        .since = "1.0.0", .group = "set", .complexity = "O(N), N being the number of members.",
        .args = args_smembers, .arg_count = 1,
    },
    {
        .name = "scard", .arity = 2, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read set fast",
        .keyspecs = keyspecs_scard, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_scard,
        .summary = "Returns how many members a set has",
        .since = "1.0.0", .group = "set", .complexity = "O(1)",
        .args = args_scard, .arg_count = 1,
    },
    {
        .name = "spop", .arity = -2, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write set fast",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_spop, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_spop,
        .summary = "Removes and returns members picked at random from a set",
        .since = "1.0.0", .group = "set", .complexity = "O(1) without a count, else O(N), N being the count.",
        .history = history_spop, .history_count = 1,
        .args = args_spop, .arg_count = 2,
    },
    {
        .name = "srandmember", .arity = -2, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read set slow",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_srandmember, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_srandmember,
        .summary = "Returns members picked at random from a set without removing them",
        .since = "1.0.0", .group = "set", .complexity = "O(1) without a count, else O(N), N being the count's absolute value.",
        .history = history_srandmember, .history_count = 1,
        .args = args_srandmember, .arg_count = 2,
    },
    {
        .name = "smove", .arity = 4, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 2, .key_step = 1, .acl_categories = "write set fast",
        .keyspecs = keyspecs_smove, .keyspec_count = 2,
        .exec = CMD_EXEC_KEYED, .handler = cmd_smove,
        .summary = "Moves a member from one set to another",
        .since = "1.0.0", .group = "set", .complexity = "O(1)",
        .args = args_smove, .arg_count = 3,
    },
    {
        .name = "sinter", .arity = -2, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = -1, .key_step = 1, .acl_categories = "read set slow",
        .tips = "nondeterministic_output_order",
        .keyspecs = keyspecs_sinter, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_sinter,
        .summary = "Returns the intersection of sets",
        .since = "1.0.0", .group = "set", .complexity = "O(N*M) at worst, N being the smallest set's size and M the number of sets.",
        .args = args_sinter, .arg_count = 1,
    },
    {
        .name = "sintercard", .arity = -3, .flags = CMD_READONLY | CMD_MOVABLE_KEYS, .flag_names = "readonly movablekeys",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "read set slow",
        .keyspecs = keyspecs_sintercard, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_sintercard,
        .summary = "Returns the size of the intersection of sets",
        .since = "7.0.0", .group = "set", .complexity = "O(N*M) at worst, N being the smallest set's size and M the number of sets.",
        .args = args_sintercard, .arg_count = 3,
    },
    {
        .name = "sinterstore", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = -1, .key_step = 1, .acl_categories = "write set slow",
        .keyspecs = keyspecs_sinterstore, .keyspec_count = 2,
        .exec = CMD_EXEC_KEYED, .handler = cmd_sinterstore,
        .summary = "Stores the intersection of sets in a key",
        .since = "1.0.0", .group = "set", .complexity = "O(N*M) at worst, N being the smallest set's size and M the number of sets.",
        .args = args_sinterstore, .arg_count = 2,
    },
    {
        .name = "sunion", .arity = -2, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = -1, .key_step = 1, .acl_categories = "read set slow",
        .tips = "nondeterministic_output_order",
        .keyspecs = keyspecs_sunion, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_sunion,
        .summary = "Returns the union of sets",
        .since = "1.0.0", .group = "set", .complexity = "O(N), N being the total number of members of the sets.",
        .args = args_sunion, .arg_count = 1,
    },
    {
        .name = "sunionstore", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = -1, .key_step = 1, .acl_categories = "write set slow",
        .keyspecs = keyspecs_sunionstore, .keyspec_count = 2,
        .exec = CMD_EXEC_KEYED, .handler = cmd_sunionstore,
        .summary = "Stores the union of sets in a key",
        .since = "1.0.0", .group = "set", .complexity = "O(N), N being the total number of members of the sets.",
        .args = args_sunionstore, .arg_count = 2,
    },
    {
        .name = "sdiff", .arity = -2, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = -1, .key_step = 1, .acl_categories = "read set slow",
        .tips = "nondeterministic_output_order",
        .keyspecs = keyspecs_sdiff, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_sdiff,
        .summary = "Returns the members of the first set that no other given set has",
        .since = "1.0.0", .group = "set", .complexity = "O(N), N being the total number of members of the sets.",
        .args = args_sdiff, .arg_count = 1,
    },
    {
        .name = "sdiffstore", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = -1, .key_step = 1, .acl_categories = "write set slow",
        .keyspecs = keyspecs_sdiffstore, .keyspec_count = 2,
        .exec = CMD_EXEC_KEYED, .handler = cmd_sdiffstore,
        .summary = "Stores the difference of sets in a key",
        .since = "1.0.0", .group = "set", .complexity = "O(N), N being the total number of members of the sets.",
        .args = args_sdiffstore, .arg_count = 2,
    },
    {
        .name = "sscan", .arity = -3, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read set slow",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_sscan, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_sscan,
        .summary = "Walks the members of a set a few at a time",
        .since = "2.8.0", .group = "set", .complexity = "O(1) per call; O(N) for a whole walk, N being the number of members.",
        .args = args_sscan, .arg_count = 4,
    },
    { .name = NULL },
};

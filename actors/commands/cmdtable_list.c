/* cmdtable_list.c - command table entries for the list commands.
 *
 * Arity, flags, key positions, key specs, ACL categories and argument trees
 * are taken from the COMMAND INFO / COMMAND DOCS replies of a real
 * redis-server 7.0.15 (clients route by them); the summary, complexity and
 * history texts are our own words. Data only; no logic (see cmdtable.c).
 */
#include <stddef.h>
#include "actors/commands/cmd.h"
#include "actors/commands/commands.h"

static const cmd_keyspec_t keyspecs_lpush[] = {
    { .flags = "RW insert", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_lpush[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "element", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_history_t history_lpush[] = {
    { "2.4.0", "Several elements may be given." },
};

static const cmd_keyspec_t keyspecs_rpush[] = {
    { .flags = "RW insert", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_rpush[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "element", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_history_t history_rpush[] = {
    { "2.4.0", "Several elements may be given." },
};

static const cmd_keyspec_t keyspecs_lpushx[] = {
    { .flags = "RW insert", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_lpushx[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "element", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_history_t history_lpushx[] = {
    { "4.0.0", "Several elements may be given." },
};

static const cmd_keyspec_t keyspecs_rpushx[] = {
    { .flags = "RW insert", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_rpushx[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "element", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_history_t history_rpushx[] = {
    { "4.0.0", "Several elements may be given." },
};

static const cmd_keyspec_t keyspecs_lpop[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_lpop[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "count", .type = "integer", .key_spec_index = -1, .since = "6.2.0", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_history_t history_lpop[] = {
    { "6.2.0", "The count argument." },
};

static const cmd_keyspec_t keyspecs_rpop[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_rpop[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "count", .type = "integer", .key_spec_index = -1, .since = "6.2.0", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_history_t history_rpop[] = {
    { "6.2.0", "The count argument." },
};

static const cmd_keyspec_t keyspecs_llen[] = {
    { .flags = "RO", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_llen[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_lindex[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_lindex[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "index", .type = "integer", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_lset[] = {
    { .flags = "RW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_lset[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "index", .type = "integer", .key_spec_index = -1 },
    { .name = "element", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_lrange[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_lrange[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "start", .type = "integer", .key_spec_index = -1 },
    { .name = "stop", .type = "integer", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_ltrim[] = {
    { .flags = "RW delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_ltrim[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "start", .type = "integer", .key_spec_index = -1 },
    { .name = "stop", .type = "integer", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_lrem[] = {
    { .flags = "RW delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_lrem[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "count", .type = "integer", .key_spec_index = -1 },
    { .name = "element", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_linsert[] = {
    { .flags = "RW insert", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_linsert_where[] = {
    { .name = "before", .type = "pure-token", .key_spec_index = -1, .token = "BEFORE" },
    { .name = "after", .type = "pure-token", .key_spec_index = -1, .token = "AFTER" },
};

static const cmd_arg_doc_t args_linsert[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "where", .type = "oneof", .key_spec_index = -1, .subargs = args_linsert_where, .subarg_count = 2 },
    { .name = "pivot", .type = "string", .key_spec_index = -1 },
    { .name = "element", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_lpos[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_lpos[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "element", .type = "string", .key_spec_index = -1 },
    { .name = "rank", .type = "integer", .key_spec_index = -1, .token = "RANK", .flags = CMD_ARG_OPTIONAL },
    { .name = "num-matches", .type = "integer", .key_spec_index = -1, .token = "COUNT", .flags = CMD_ARG_OPTIONAL },
    { .name = "len", .type = "integer", .key_spec_index = -1, .token = "MAXLEN", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_keyspec_t keyspecs_lmove[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "RW insert", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_lmove_wherefrom[] = {
    { .name = "left", .type = "pure-token", .key_spec_index = -1, .token = "LEFT" },
    { .name = "right", .type = "pure-token", .key_spec_index = -1, .token = "RIGHT" },
};

static const cmd_arg_doc_t args_lmove_whereto[] = {
    { .name = "left", .type = "pure-token", .key_spec_index = -1, .token = "LEFT" },
    { .name = "right", .type = "pure-token", .key_spec_index = -1, .token = "RIGHT" },
};

static const cmd_arg_doc_t args_lmove[] = {
    { .name = "source", .type = "key", .key_spec_index = 0 },
    { .name = "destination", .type = "key", .key_spec_index = 1 },
    { .name = "wherefrom", .type = "oneof", .key_spec_index = -1, .subargs = args_lmove_wherefrom, .subarg_count = 2 },
    { .name = "whereto", .type = "oneof", .key_spec_index = -1, .subargs = args_lmove_whereto, .subarg_count = 2 },
};

static const cmd_keyspec_t keyspecs_rpoplpush[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "RW insert", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_rpoplpush[] = {
    { .name = "source", .type = "key", .key_spec_index = 0 },
    { .name = "destination", .type = "key", .key_spec_index = 1 },
};

static const cmd_keyspec_t keyspecs_lmpop[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1 },
};

static const cmd_arg_doc_t args_lmpop_where[] = {
    { .name = "left", .type = "pure-token", .key_spec_index = -1, .token = "LEFT" },
    { .name = "right", .type = "pure-token", .key_spec_index = -1, .token = "RIGHT" },
};

static const cmd_arg_doc_t args_lmpop[] = {
    { .name = "numkeys", .type = "integer", .key_spec_index = -1 },
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
    { .name = "where", .type = "oneof", .key_spec_index = -1, .subargs = args_lmpop_where, .subarg_count = 2 },
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "COUNT", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_keyspec_t keyspecs_blpop[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = -2, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_blpop[] = {
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
    { .name = "timeout", .type = "double", .key_spec_index = -1 },
};

static const cmd_history_t history_blpop[] = {
    { "6.0.0", "The timeout may be a fractional number of seconds." },
};

static const cmd_keyspec_t keyspecs_brpop[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = -2, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_brpop[] = {
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
    { .name = "timeout", .type = "double", .key_spec_index = -1 },
};

static const cmd_history_t history_brpop[] = {
    { "6.0.0", "The timeout may be a fractional number of seconds." },
};

static const cmd_keyspec_t keyspecs_blmove[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "RW insert", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_blmove_wherefrom[] = {
    { .name = "left", .type = "pure-token", .key_spec_index = -1, .token = "LEFT" },
    { .name = "right", .type = "pure-token", .key_spec_index = -1, .token = "RIGHT" },
};

static const cmd_arg_doc_t args_blmove_whereto[] = {
    { .name = "left", .type = "pure-token", .key_spec_index = -1, .token = "LEFT" },
    { .name = "right", .type = "pure-token", .key_spec_index = -1, .token = "RIGHT" },
};

static const cmd_arg_doc_t args_blmove[] = {
    { .name = "source", .type = "key", .key_spec_index = 0 },
    { .name = "destination", .type = "key", .key_spec_index = 1 },
    { .name = "wherefrom", .type = "oneof", .key_spec_index = -1, .subargs = args_blmove_wherefrom, .subarg_count = 2 },
    { .name = "whereto", .type = "oneof", .key_spec_index = -1, .subargs = args_blmove_whereto, .subarg_count = 2 },
    { .name = "timeout", .type = "double", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_brpoplpush[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "RW insert", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_brpoplpush[] = {
    { .name = "source", .type = "key", .key_spec_index = 0 },
    { .name = "destination", .type = "key", .key_spec_index = 1 },
    { .name = "timeout", .type = "double", .key_spec_index = -1 },
};

static const cmd_history_t history_brpoplpush[] = {
    { "6.0.0", "The timeout may be a fractional number of seconds." },
};

static const cmd_keyspec_t keyspecs_blmpop[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1 },
};

static const cmd_arg_doc_t args_blmpop_where[] = {
    { .name = "left", .type = "pure-token", .key_spec_index = -1, .token = "LEFT" },
    { .name = "right", .type = "pure-token", .key_spec_index = -1, .token = "RIGHT" },
};

static const cmd_arg_doc_t args_blmpop[] = {
    { .name = "timeout", .type = "double", .key_spec_index = -1 },
    { .name = "numkeys", .type = "integer", .key_spec_index = -1 },
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
    { .name = "where", .type = "oneof", .key_spec_index = -1, .subargs = args_blmpop_where, .subarg_count = 2 },
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "COUNT", .flags = CMD_ARG_OPTIONAL },
};

cmd_def_t cmdtable_list[] = {
    {
        .name = "lpush", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write list fast",
        .keyspecs = keyspecs_lpush, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_lpush,
        .summary = "Inserts elements at the head of a list, creating it if needed",
        .since = "1.0.0", .group = "list", .complexity = "O(1) per element inserted.",
        .history = history_lpush, .history_count = 1,
        .args = args_lpush, .arg_count = 2,
    },
    {
        .name = "rpush", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write list fast",
        .keyspecs = keyspecs_rpush, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_rpush,
        .summary = "Inserts elements at the tail of a list, creating it if needed",
        .since = "1.0.0", .group = "list", .complexity = "O(1) per element inserted.",
        .history = history_rpush, .history_count = 1,
        .args = args_rpush, .arg_count = 2,
    },
    {
        .name = "lpushx", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write list fast",
        .keyspecs = keyspecs_lpushx, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_lpushx,
        .summary = "Inserts elements at the head of a list that already exists",
        .since = "2.2.0", .group = "list", .complexity = "O(1) per element inserted.",
        .history = history_lpushx, .history_count = 1,
        .args = args_lpushx, .arg_count = 2,
    },
    {
        .name = "rpushx", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write list fast",
        .keyspecs = keyspecs_rpushx, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_rpushx,
        .summary = "Inserts elements at the tail of a list that already exists",
        .since = "2.2.0", .group = "list", .complexity = "O(1) per element inserted.",
        .history = history_rpushx, .history_count = 1,
        .args = args_rpushx, .arg_count = 2,
    },
    {
        .name = "lpop", .arity = -2, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write list fast",
        .keyspecs = keyspecs_lpop, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_lpop,
        .summary = "Removes and returns elements from the head of a list",
        .since = "1.0.0", .group = "list", .complexity = "O(N), N being the number of elements returned.",
        .history = history_lpop, .history_count = 1,
        .args = args_lpop, .arg_count = 2,
    },
    {
        .name = "rpop", .arity = -2, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write list fast",
        .keyspecs = keyspecs_rpop, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_rpop,
        .summary = "Removes and returns elements from the tail of a list",
        .since = "1.0.0", .group = "list", .complexity = "O(N), N being the number of elements returned.",
        .history = history_rpop, .history_count = 1,
        .args = args_rpop, .arg_count = 2,
    },
    {
        .name = "llen", .arity = 2, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read list fast",
        .keyspecs = keyspecs_llen, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_llen,
        .summary = "Gives the number of elements in a list",
        .since = "1.0.0", .group = "list", .complexity = "O(1)",
        .args = args_llen, .arg_count = 1,
    },
    {
        .name = "lindex", .arity = 3, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read list slow",
        .keyspecs = keyspecs_lindex, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_lindex,
        .summary = "Returns the element at an index of a list",
        .since = "1.0.0", .group = "list", .complexity = "O(N), N being the number of elements passed on the way to the index; O(1) at either end.",
        .args = args_lindex, .arg_count = 2,
    },
    {
        .name = "lset", .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write list slow",
        .keyspecs = keyspecs_lset, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_lset,
        .summary = "Replaces the element at an index of a list",
        .since = "1.0.0", .group = "list", .complexity = "O(N), N being the number of elements passed on the way to the index; O(1) at either end.",
        .args = args_lset, .arg_count = 3,
    },
    {
        .name = "lrange", .arity = 4, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read list slow",
        .keyspecs = keyspecs_lrange, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_lrange,
        .summary = "Returns a range of elements of a list",
        .since = "1.0.0", .group = "list", .complexity = "O(S+N), S being the distance from the nearer end to the start of the range and N the number of elements returned.",
        .args = args_lrange, .arg_count = 3,
    },
    {
        .name = "ltrim", .arity = 4, .flags = CMD_WRITE, .flag_names = "write",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write list slow",
        .keyspecs = keyspecs_ltrim, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_ltrim,
        .summary = "Keeps only a range of a list's elements and removes the rest",
        .since = "1.0.0", .group = "list", .complexity = "O(N), N being the number of elements removed.",
        .args = args_ltrim, .arg_count = 3,
    },
    {
        .name = "lrem", .arity = 4, .flags = CMD_WRITE, .flag_names = "write",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write list slow",
        .keyspecs = keyspecs_lrem, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_lrem,
        .summary = "Removes elements equal to a value from a list",
        .since = "1.0.0", .group = "list", .complexity = "O(N+M), N being the list's length and M the number of elements removed.",
        .args = args_lrem, .arg_count = 3,
    },
    {
        .name = "linsert", .arity = 5, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write list slow",
        .keyspecs = keyspecs_linsert, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_linsert,
        .summary = "Inserts an element before or after another one in a list",
        .since = "2.2.0", .group = "list", .complexity = "O(N), N being the number of elements passed before the pivot is found.",
        .args = args_linsert, .arg_count = 4,
    },
    {
        .name = "lpos", .arity = -3, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read list slow",
        .keyspecs = keyspecs_lpos, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_lpos,
        .summary = "Finds the positions of elements equal to a value in a list",
        .since = "6.0.6", .group = "list", .complexity = "O(N), N being the number of elements compared; O(1) when the match is near the start and COUNT is small.",
        .args = args_lpos, .arg_count = 5,
    },
    {
        .name = "lmove", .arity = 5, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = 2, .key_step = 1, .acl_categories = "write list slow",
        .keyspecs = keyspecs_lmove, .keyspec_count = 2,
        .exec = CMD_EXEC_KEYED, .handler = cmd_lmove,
        .summary = "Pops an element from one list and pushes it onto another, returning it",
        .since = "6.2.0", .group = "list", .complexity = "O(1)",
        .args = args_lmove, .arg_count = 4,
    },
    {
        .name = "rpoplpush", .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = 2, .key_step = 1, .acl_categories = "write list slow",
        .keyspecs = keyspecs_rpoplpush, .keyspec_count = 2,
        .exec = CMD_EXEC_KEYED, .handler = cmd_rpoplpush,
        .summary = "Pops an element from the tail of one list and pushes it onto the head of another, returning it",
        .since = "1.2.0", .group = "list", .complexity = "O(1)",
        .doc_flags = "deprecated", .deprecated_since = "6.2.0", .replaced_by = "`LMOVE` with the `RIGHT` and `LEFT` arguments",
        .args = args_rpoplpush, .arg_count = 2,
    },
    {
        .name = "lmpop", .arity = -4, .flags = CMD_WRITE | CMD_MOVABLE_KEYS, .flag_names = "write movablekeys",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "write list slow",
        .keyspecs = keyspecs_lmpop, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_lmpop,
        .summary = "Pops elements from the first non-empty list among several keys",
        .since = "7.0.0", .group = "list", .complexity = "O(N+M), N being the number of keys given and M the number of elements returned.",
        .args = args_lmpop, .arg_count = 4,
    },
    {
        .name = "blpop", .arity = -3, .flags = CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING, .flag_names = "write noscript blocking",
        .first_key = 1, .last_key = -2, .key_step = 1, .acl_categories = "write list slow blocking",
        .keyspecs = keyspecs_blpop, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_blpop,
        .summary = "Pops an element from the head of the first non-empty list, waiting for one if all are empty",
        .since = "2.0.0", .group = "list", .complexity = "O(N), N being the number of keys given.",
        .history = history_blpop, .history_count = 1,
        .args = args_blpop, .arg_count = 2,
    },
    {
        .name = "brpop", .arity = -3, .flags = CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING, .flag_names = "write noscript blocking",
        .first_key = 1, .last_key = -2, .key_step = 1, .acl_categories = "write list slow blocking",
        .keyspecs = keyspecs_brpop, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_brpop,
        .summary = "Pops an element from the tail of the first non-empty list, waiting for one if all are empty",
        .since = "2.0.0", .group = "list", .complexity = "O(N), N being the number of keys given.",
        .history = history_brpop, .history_count = 1,
        .args = args_brpop, .arg_count = 2,
    },
    {
        .name = "blmove", .arity = 6, .flags = CMD_WRITE | CMD_DENYOOM | CMD_NOSCRIPT | CMD_BLOCKING, .flag_names = "write denyoom noscript blocking",
        .first_key = 1, .last_key = 2, .key_step = 1, .acl_categories = "write list slow blocking",
        .keyspecs = keyspecs_blmove, .keyspec_count = 2,
        .exec = CMD_EXEC_KEYED, .handler = cmd_blmove,
        .summary = "Pops an element from one list and pushes it onto another, waiting for one if the source is empty",
        .since = "6.2.0", .group = "list", .complexity = "O(1)",
        .args = args_blmove, .arg_count = 5,
    },
    {
        .name = "brpoplpush", .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_NOSCRIPT | CMD_BLOCKING, .flag_names = "write denyoom noscript blocking",
        .first_key = 1, .last_key = 2, .key_step = 1, .acl_categories = "write list slow blocking",
        .keyspecs = keyspecs_brpoplpush, .keyspec_count = 2,
        .exec = CMD_EXEC_KEYED, .handler = cmd_brpoplpush,
        .summary = "Pops from the tail of one list onto the head of another, waiting for an element if the source is empty",
        .since = "2.2.0", .group = "list", .complexity = "O(1)",
        .doc_flags = "deprecated", .deprecated_since = "6.2.0", .replaced_by = "`BLMOVE` with the `RIGHT` and `LEFT` arguments",
        .history = history_brpoplpush, .history_count = 1,
        .args = args_brpoplpush, .arg_count = 3,
    },
    {
        .name = "blmpop", .arity = -5, .flags = CMD_WRITE | CMD_BLOCKING | CMD_MOVABLE_KEYS, .flag_names = "write blocking movablekeys",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "write list slow blocking",
        .keyspecs = keyspecs_blmpop, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_blmpop,
        .summary = "Pops elements from the first non-empty list among several keys, waiting for one if all are empty",
        .since = "7.0.0", .group = "list", .complexity = "O(N+M), N being the number of keys given and M the number of elements returned.",
        .args = args_blmpop, .arg_count = 5,
    },
    { .name = NULL },
};

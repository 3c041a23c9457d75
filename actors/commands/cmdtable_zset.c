/* cmdtable_zset.c - command table entries for the sorted set commands.
 *
 * Arity, flags, key positions, key specs, ACL categories, tips and argument
 * trees are taken from the COMMAND INFO / COMMAND DOCS replies of a real
 * redis-server 7.0.15 (clients route by them); the summary, complexity and
 * history texts are our own words. Data only; no logic (see cmdtable.c).
 */
#include <stddef.h>
#include "actors/commands/cmd.h"
#include "actors/commands/commands.h"

static const cmd_keyspec_t keyspecs_zadd[] = {
    { .flags = "RW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zadd_condition[] = {
    { .name = "nx", .type = "pure-token", .key_spec_index = -1, .token = "NX" },
    { .name = "xx", .type = "pure-token", .key_spec_index = -1, .token = "XX" },
};

static const cmd_arg_doc_t args_zadd_comparison[] = {
    { .name = "gt", .type = "pure-token", .key_spec_index = -1, .token = "GT" },
    { .name = "lt", .type = "pure-token", .key_spec_index = -1, .token = "LT" },
};

static const cmd_arg_doc_t args_zadd_score_member[] = {
    { .name = "score", .type = "double", .key_spec_index = -1 },
    { .name = "member", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_zadd[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "condition", .type = "oneof", .key_spec_index = -1, .since = "3.0.2", .flags = CMD_ARG_OPTIONAL, .subargs = args_zadd_condition, .subarg_count = 2 },
    { .name = "comparison", .type = "oneof", .key_spec_index = -1, .since = "6.2.0", .flags = CMD_ARG_OPTIONAL, .subargs = args_zadd_comparison, .subarg_count = 2 },
    { .name = "change", .type = "pure-token", .key_spec_index = -1, .token = "CH", .since = "3.0.2", .flags = CMD_ARG_OPTIONAL },
    { .name = "increment", .type = "pure-token", .key_spec_index = -1, .token = "INCR", .since = "3.0.2", .flags = CMD_ARG_OPTIONAL },
    { .name = "score_member", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE, .subargs = args_zadd_score_member, .subarg_count = 2 },
};

static const cmd_history_t history_zadd[] = {
    { "2.4.0", "Several members may be given." },
    { "3.0.2", "The `XX`, `NX`, `CH` and `INCR` options were added." },
    { "6.2.0", "The `GT` and `LT` options were added." },
};

static const cmd_keyspec_t keyspecs_zincrby[] = {
    { .flags = "RW access update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zincrby[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "increment", .type = "integer", .key_spec_index = -1 },
    { .name = "member", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_zrem[] = {
    { .flags = "RW delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zrem[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "member", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_history_t history_zrem[] = {
    { "2.4.0", "Several members may be given." },
};

static const cmd_keyspec_t keyspecs_zcard[] = {
    { .flags = "RO", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zcard[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_zscore[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zscore[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "member", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_zmscore[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zmscore[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "member", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_zrank[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zrank[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "member", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_zrevrank[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zrevrank[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "member", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_zcount[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zcount[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "min", .type = "double", .key_spec_index = -1 },
    { .name = "max", .type = "double", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_zlexcount[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zlexcount[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "min", .type = "string", .key_spec_index = -1 },
    { .name = "max", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_zrange[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zrange_sortby[] = {
    { .name = "byscore", .type = "pure-token", .key_spec_index = -1, .token = "BYSCORE" },
    { .name = "bylex", .type = "pure-token", .key_spec_index = -1, .token = "BYLEX" },
};

static const cmd_arg_doc_t args_zrange_offset_count[] = {
    { .name = "offset", .type = "integer", .key_spec_index = -1 },
    { .name = "count", .type = "integer", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_zrange[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "start", .type = "string", .key_spec_index = -1 },
    { .name = "stop", .type = "string", .key_spec_index = -1 },
    { .name = "sortby", .type = "oneof", .key_spec_index = -1, .since = "6.2.0", .flags = CMD_ARG_OPTIONAL, .subargs = args_zrange_sortby, .subarg_count = 2 },
    { .name = "rev", .type = "pure-token", .key_spec_index = -1, .token = "REV", .since = "6.2.0", .flags = CMD_ARG_OPTIONAL },
    { .name = "offset_count", .type = "block", .key_spec_index = -1, .token = "LIMIT", .since = "6.2.0", .flags = CMD_ARG_OPTIONAL, .subargs = args_zrange_offset_count, .subarg_count = 2 },
    { .name = "withscores", .type = "pure-token", .key_spec_index = -1, .token = "WITHSCORES", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_history_t history_zrange[] = {
    { "6.2.0", "The `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options were added." },
};

static const cmd_keyspec_t keyspecs_zrangestore[] = {
    { .flags = "OW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zrangestore_sortby[] = {
    { .name = "byscore", .type = "pure-token", .key_spec_index = -1, .token = "BYSCORE" },
    { .name = "bylex", .type = "pure-token", .key_spec_index = -1, .token = "BYLEX" },
};

static const cmd_arg_doc_t args_zrangestore_offset_count[] = {
    { .name = "offset", .type = "integer", .key_spec_index = -1 },
    { .name = "count", .type = "integer", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_zrangestore[] = {
    { .name = "dst", .type = "key", .key_spec_index = 0 },
    { .name = "src", .type = "key", .key_spec_index = 1 },
    { .name = "min", .type = "string", .key_spec_index = -1 },
    { .name = "max", .type = "string", .key_spec_index = -1 },
    { .name = "sortby", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_zrangestore_sortby, .subarg_count = 2 },
    { .name = "rev", .type = "pure-token", .key_spec_index = -1, .token = "REV", .flags = CMD_ARG_OPTIONAL },
    { .name = "offset_count", .type = "block", .key_spec_index = -1, .token = "LIMIT", .flags = CMD_ARG_OPTIONAL, .subargs = args_zrangestore_offset_count, .subarg_count = 2 },
};

static const cmd_keyspec_t keyspecs_zrevrange[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zrevrange[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "start", .type = "integer", .key_spec_index = -1 },
    { .name = "stop", .type = "integer", .key_spec_index = -1 },
    { .name = "withscores", .type = "pure-token", .key_spec_index = -1, .token = "WITHSCORES", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_keyspec_t keyspecs_zrangebyscore[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zrangebyscore_offset_count[] = {
    { .name = "offset", .type = "integer", .key_spec_index = -1 },
    { .name = "count", .type = "integer", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_zrangebyscore[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "min", .type = "double", .key_spec_index = -1 },
    { .name = "max", .type = "double", .key_spec_index = -1 },
    { .name = "withscores", .type = "pure-token", .key_spec_index = -1, .token = "WITHSCORES", .since = "2.0.0", .flags = CMD_ARG_OPTIONAL },
    { .name = "offset_count", .type = "block", .key_spec_index = -1, .token = "LIMIT", .flags = CMD_ARG_OPTIONAL, .subargs = args_zrangebyscore_offset_count, .subarg_count = 2 },
};

static const cmd_history_t history_zrangebyscore[] = {
    { "2.0.0", "The `WITHSCORES` option was added." },
};

static const cmd_keyspec_t keyspecs_zrevrangebyscore[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zrevrangebyscore_offset_count[] = {
    { .name = "offset", .type = "integer", .key_spec_index = -1 },
    { .name = "count", .type = "integer", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_zrevrangebyscore[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "max", .type = "double", .key_spec_index = -1 },
    { .name = "min", .type = "double", .key_spec_index = -1 },
    { .name = "withscores", .type = "pure-token", .key_spec_index = -1, .token = "WITHSCORES", .flags = CMD_ARG_OPTIONAL },
    { .name = "offset_count", .type = "block", .key_spec_index = -1, .token = "LIMIT", .flags = CMD_ARG_OPTIONAL, .subargs = args_zrevrangebyscore_offset_count, .subarg_count = 2 },
};

static const cmd_history_t history_zrevrangebyscore[] = {
    { "2.1.6", "`min` and `max` may be exclusive." },
};

static const cmd_keyspec_t keyspecs_zrangebylex[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zrangebylex_offset_count[] = {
    { .name = "offset", .type = "integer", .key_spec_index = -1 },
    { .name = "count", .type = "integer", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_zrangebylex[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "min", .type = "string", .key_spec_index = -1 },
    { .name = "max", .type = "string", .key_spec_index = -1 },
    { .name = "offset_count", .type = "block", .key_spec_index = -1, .token = "LIMIT", .flags = CMD_ARG_OPTIONAL, .subargs = args_zrangebylex_offset_count, .subarg_count = 2 },
};

static const cmd_keyspec_t keyspecs_zrevrangebylex[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zrevrangebylex_offset_count[] = {
    { .name = "offset", .type = "integer", .key_spec_index = -1 },
    { .name = "count", .type = "integer", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_zrevrangebylex[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "max", .type = "string", .key_spec_index = -1 },
    { .name = "min", .type = "string", .key_spec_index = -1 },
    { .name = "offset_count", .type = "block", .key_spec_index = -1, .token = "LIMIT", .flags = CMD_ARG_OPTIONAL, .subargs = args_zrevrangebylex_offset_count, .subarg_count = 2 },
};

static const cmd_keyspec_t keyspecs_zremrangebyrank[] = {
    { .flags = "RW delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zremrangebyrank[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "start", .type = "integer", .key_spec_index = -1 },
    { .name = "stop", .type = "integer", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_zremrangebyscore[] = {
    { .flags = "RW delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zremrangebyscore[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "min", .type = "double", .key_spec_index = -1 },
    { .name = "max", .type = "double", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_zremrangebylex[] = {
    { .flags = "RW delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zremrangebylex[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "min", .type = "string", .key_spec_index = -1 },
    { .name = "max", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_zpopmin[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zpopmin[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "count", .type = "integer", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL },
};

static const cmd_keyspec_t keyspecs_zpopmax[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zpopmax[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "count", .type = "integer", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL },
};

static const cmd_keyspec_t keyspecs_zmpop[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1 },
};

static const cmd_arg_doc_t args_zmpop_where[] = {
    { .name = "min", .type = "pure-token", .key_spec_index = -1, .token = "MIN" },
    { .name = "max", .type = "pure-token", .key_spec_index = -1, .token = "MAX" },
};

static const cmd_arg_doc_t args_zmpop[] = {
    { .name = "numkeys", .type = "integer", .key_spec_index = -1 },
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
    { .name = "where", .type = "oneof", .key_spec_index = -1, .subargs = args_zmpop_where, .subarg_count = 2 },
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "COUNT", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_keyspec_t keyspecs_bzpopmin[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = -2, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_bzpopmin[] = {
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
    { .name = "timeout", .type = "double", .key_spec_index = -1 },
};

static const cmd_history_t history_bzpopmin[] = {
    { "6.0.0", "The timeout is read as a double, no longer an integer." },
};

static const cmd_keyspec_t keyspecs_bzpopmax[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = -2, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_bzpopmax[] = {
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
    { .name = "timeout", .type = "double", .key_spec_index = -1 },
};

static const cmd_history_t history_bzpopmax[] = {
    { "6.0.0", "The timeout is read as a double, no longer an integer." },
};

static const cmd_keyspec_t keyspecs_bzmpop[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1 },
};

static const cmd_arg_doc_t args_bzmpop_where[] = {
    { .name = "min", .type = "pure-token", .key_spec_index = -1, .token = "MIN" },
    { .name = "max", .type = "pure-token", .key_spec_index = -1, .token = "MAX" },
};

static const cmd_arg_doc_t args_bzmpop[] = {
    { .name = "timeout", .type = "double", .key_spec_index = -1 },
    { .name = "numkeys", .type = "integer", .key_spec_index = -1 },
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
    { .name = "where", .type = "oneof", .key_spec_index = -1, .subargs = args_bzmpop_where, .subarg_count = 2 },
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "COUNT", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_keyspec_t keyspecs_zrandmember[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zrandmember_options[] = {
    { .name = "count", .type = "integer", .key_spec_index = -1 },
    { .name = "withscores", .type = "pure-token", .key_spec_index = -1, .token = "WITHSCORES", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_arg_doc_t args_zrandmember[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "options", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_zrandmember_options, .subarg_count = 2 },
};

static const cmd_keyspec_t keyspecs_zscan[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_zscan[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "cursor", .type = "integer", .key_spec_index = -1 },
    { .name = "pattern", .type = "pattern", .key_spec_index = -1, .token = "MATCH", .flags = CMD_ARG_OPTIONAL },
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "COUNT", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_keyspec_t keyspecs_zunion[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1 },
};

static const cmd_arg_doc_t args_zunion_aggregate[] = {
    { .name = "sum", .type = "pure-token", .key_spec_index = -1, .token = "SUM" },
    { .name = "min", .type = "pure-token", .key_spec_index = -1, .token = "MIN" },
    { .name = "max", .type = "pure-token", .key_spec_index = -1, .token = "MAX" },
};

static const cmd_arg_doc_t args_zunion[] = {
    { .name = "numkeys", .type = "integer", .key_spec_index = -1 },
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
    { .name = "weight", .type = "integer", .key_spec_index = -1, .token = "WEIGHTS", .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
    { .name = "aggregate", .type = "oneof", .key_spec_index = -1, .token = "AGGREGATE", .flags = CMD_ARG_OPTIONAL, .subargs = args_zunion_aggregate, .subarg_count = 3 },
    { .name = "withscores", .type = "pure-token", .key_spec_index = -1, .token = "WITHSCORES", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_keyspec_t keyspecs_zinter[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1 },
};

static const cmd_arg_doc_t args_zinter_aggregate[] = {
    { .name = "sum", .type = "pure-token", .key_spec_index = -1, .token = "SUM" },
    { .name = "min", .type = "pure-token", .key_spec_index = -1, .token = "MIN" },
    { .name = "max", .type = "pure-token", .key_spec_index = -1, .token = "MAX" },
};

static const cmd_arg_doc_t args_zinter[] = {
    { .name = "numkeys", .type = "integer", .key_spec_index = -1 },
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
    { .name = "weight", .type = "integer", .key_spec_index = -1, .token = "WEIGHTS", .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
    { .name = "aggregate", .type = "oneof", .key_spec_index = -1, .token = "AGGREGATE", .flags = CMD_ARG_OPTIONAL, .subargs = args_zinter_aggregate, .subarg_count = 3 },
    { .name = "withscores", .type = "pure-token", .key_spec_index = -1, .token = "WITHSCORES", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_keyspec_t keyspecs_zdiff[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1 },
};

static const cmd_arg_doc_t args_zdiff[] = {
    { .name = "numkeys", .type = "integer", .key_spec_index = -1 },
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
    { .name = "withscores", .type = "pure-token", .key_spec_index = -1, .token = "WITHSCORES", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_keyspec_t keyspecs_zunionstore[] = {
    { .flags = "OW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1 },
};

static const cmd_arg_doc_t args_zunionstore_aggregate[] = {
    { .name = "sum", .type = "pure-token", .key_spec_index = -1, .token = "SUM" },
    { .name = "min", .type = "pure-token", .key_spec_index = -1, .token = "MIN" },
    { .name = "max", .type = "pure-token", .key_spec_index = -1, .token = "MAX" },
};

static const cmd_arg_doc_t args_zunionstore[] = {
    { .name = "destination", .type = "key", .key_spec_index = 0 },
    { .name = "numkeys", .type = "integer", .key_spec_index = -1 },
    { .name = "key", .type = "key", .key_spec_index = 1, .flags = CMD_ARG_MULTIPLE },
    { .name = "weight", .type = "integer", .key_spec_index = -1, .token = "WEIGHTS", .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
    { .name = "aggregate", .type = "oneof", .key_spec_index = -1, .token = "AGGREGATE", .flags = CMD_ARG_OPTIONAL, .subargs = args_zunionstore_aggregate, .subarg_count = 3 },
};

static const cmd_keyspec_t keyspecs_zinterstore[] = {
    { .flags = "OW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1 },
};

static const cmd_arg_doc_t args_zinterstore_aggregate[] = {
    { .name = "sum", .type = "pure-token", .key_spec_index = -1, .token = "SUM" },
    { .name = "min", .type = "pure-token", .key_spec_index = -1, .token = "MIN" },
    { .name = "max", .type = "pure-token", .key_spec_index = -1, .token = "MAX" },
};

static const cmd_arg_doc_t args_zinterstore[] = {
    { .name = "destination", .type = "key", .key_spec_index = 0 },
    { .name = "numkeys", .type = "integer", .key_spec_index = -1 },
    { .name = "key", .type = "key", .key_spec_index = 1, .flags = CMD_ARG_MULTIPLE },
    { .name = "weight", .type = "integer", .key_spec_index = -1, .token = "WEIGHTS", .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
    { .name = "aggregate", .type = "oneof", .key_spec_index = -1, .token = "AGGREGATE", .flags = CMD_ARG_OPTIONAL, .subargs = args_zinterstore_aggregate, .subarg_count = 3 },
};

static const cmd_keyspec_t keyspecs_zdiffstore[] = {
    { .flags = "OW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1 },
};

static const cmd_arg_doc_t args_zdiffstore[] = {
    { .name = "destination", .type = "key", .key_spec_index = 0 },
    { .name = "numkeys", .type = "integer", .key_spec_index = -1 },
    { .name = "key", .type = "key", .key_spec_index = 1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_zintercard[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1 },
};

static const cmd_arg_doc_t args_zintercard[] = {
    { .name = "numkeys", .type = "integer", .key_spec_index = -1 },
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
    { .name = "limit", .type = "integer", .key_spec_index = -1, .token = "LIMIT", .flags = CMD_ARG_OPTIONAL },
};

cmd_def_t cmdtable_zset[] = {
    {
        .name = "zadd", .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write sortedset fast",
        .keyspecs = keyspecs_zadd, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zadd,
        .summary = "Adds members with scores to a sorted set, or changes the scores of members already there",
        .since = "1.2.0", .group = "sorted-set", .complexity = "O(log(N)) per member given, N being the size of the set.",
        .history = history_zadd, .history_count = 3,
        .args = args_zadd, .arg_count = 6,
    },
    {
        .name = "zincrby", .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write sortedset fast",
        .keyspecs = keyspecs_zincrby, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zincrby,
        .summary = "Adds an increment to the score of a member of a sorted set",
        .since = "1.2.0", .group = "sorted-set", .complexity = "O(log(N)), N being the size of the set.",
        .args = args_zincrby, .arg_count = 3,
    },
    {
        .name = "zrem", .arity = -3, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write sortedset fast",
        .keyspecs = keyspecs_zrem, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zrem,
        .summary = "Removes members from a sorted set",
        .since = "1.2.0", .group = "sorted-set", .complexity = "O(M*log(N)), N being the size of the set and M the members removed.",
        .history = history_zrem, .history_count = 1,
        .args = args_zrem, .arg_count = 2,
    },
    {
        .name = "zcard", .arity = 2, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read sortedset fast",
        .keyspecs = keyspecs_zcard, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zcard,
        .summary = "Returns the number of members of a sorted set",
        .since = "1.2.0", .group = "sorted-set", .complexity = "O(1)",
        .args = args_zcard, .arg_count = 1,
    },
    {
        .name = "zscore", .arity = 3, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read sortedset fast",
        .keyspecs = keyspecs_zscore, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zscore,
        .summary = "Returns the score of a member of a sorted set",
        .since = "1.2.0", .group = "sorted-set", .complexity = "O(1)",
        .args = args_zscore, .arg_count = 2,
    },
    {
        .name = "zmscore", .arity = -3, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read sortedset fast",
        .keyspecs = keyspecs_zmscore, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zmscore,
        .summary = "Returns the scores of several members of a sorted set",
        .since = "6.2.0", .group = "sorted-set", .complexity = "O(N), N being the number of members asked for.",
        .args = args_zmscore, .arg_count = 2,
    },
    {
        .name = "zrank", .arity = 3, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read sortedset fast",
        .keyspecs = keyspecs_zrank, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zrank,
        .summary = "Returns the position of a member in a sorted set, lowest score first",
        .since = "2.0.0", .group = "sorted-set", .complexity = "O(log(N))",
        .args = args_zrank, .arg_count = 2,
    },
    {
        .name = "zrevrank", .arity = 3, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read sortedset fast",
        .keyspecs = keyspecs_zrevrank, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zrevrank,
        .summary = "Returns the position of a member in a sorted set, highest score first",
        .since = "2.0.0", .group = "sorted-set", .complexity = "O(log(N))",
        .args = args_zrevrank, .arg_count = 2,
    },
    {
        .name = "zcount", .arity = 4, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read sortedset fast",
        .keyspecs = keyspecs_zcount, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zcount,
        .summary = "Counts the members whose scores fall in a range",
        .since = "2.0.0", .group = "sorted-set", .complexity = "O(log(N)), N being the size of the set.",
        .args = args_zcount, .arg_count = 3,
    },
    {
        .name = "zlexcount", .arity = 4, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read sortedset fast",
        .keyspecs = keyspecs_zlexcount, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zlexcount,
        .summary = "Counts the members between two members of a sorted set whose scores are all equal",
        .since = "2.8.9", .group = "sorted-set", .complexity = "O(log(N)), N being the size of the set.",
        .args = args_zlexcount, .arg_count = 3,
    },
    {
        .name = "zrange", .arity = -4, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read sortedset slow",
        .keyspecs = keyspecs_zrange, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zrange,
        .summary = "Returns the members of a sorted set in a range of ranks, scores or members",
        .since = "1.2.0", .group = "sorted-set", .complexity = "O(log(N)+M), N being the size of the set and M the members returned.",
        .history = history_zrange, .history_count = 1,
        .args = args_zrange, .arg_count = 7,
    },
    {
        .name = "zrangestore", .arity = -5, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = 2, .key_step = 1, .acl_categories = "write sortedset slow",
        .keyspecs = keyspecs_zrangestore, .keyspec_count = 2,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zrangestore,
        .summary = "Stores a range of members of a sorted set in another key",
        .since = "6.2.0", .group = "sorted-set", .complexity = "O(log(N)+M), N being the size of the set and M the members stored.",
        .args = args_zrangestore, .arg_count = 7,
    },
    {
        .name = "zrevrange", .arity = -4, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read sortedset slow",
        .keyspecs = keyspecs_zrevrange, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zrevrange,
        .summary = "Returns the members of a sorted set in a range of ranks, highest score first",
        .since = "1.2.0", .group = "sorted-set", .complexity = "O(log(N)+M), N being the size of the set and M the members returned.",
        .doc_flags = "deprecated", .deprecated_since = "6.2.0", .replaced_by = "`ZRANGE` with the `REV` argument",
        .args = args_zrevrange, .arg_count = 4,
    },
    {
        .name = "zrangebyscore", .arity = -4, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read sortedset slow",
        .keyspecs = keyspecs_zrangebyscore, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zrangebyscore,
        .summary = "Returns the members of a sorted set whose scores fall in a range",
        .since = "1.0.5", .group = "sorted-set", .complexity = "O(log(N)+M), N being the size of the set and M the members returned; O(log(N)) when M is bounded by a small LIMIT.",
        .doc_flags = "deprecated", .deprecated_since = "6.2.0", .replaced_by = "`ZRANGE` with the `BYSCORE` argument",
        .history = history_zrangebyscore, .history_count = 1,
        .args = args_zrangebyscore, .arg_count = 5,
    },
    {
        .name = "zrevrangebyscore", .arity = -4, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read sortedset slow",
        .keyspecs = keyspecs_zrevrangebyscore, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zrevrangebyscore,
        .summary = "Returns the members of a sorted set whose scores fall in a range, highest score first",
        .since = "2.2.0", .group = "sorted-set", .complexity = "O(log(N)+M), N being the size of the set and M the members returned; O(log(N)) when M is bounded by a small LIMIT.",
        .doc_flags = "deprecated", .deprecated_since = "6.2.0", .replaced_by = "`ZRANGE` with the `REV` and `BYSCORE` arguments",
        .history = history_zrevrangebyscore, .history_count = 1,
        .args = args_zrevrangebyscore, .arg_count = 5,
    },
    {
        .name = "zrangebylex", .arity = -4, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read sortedset slow",
        .keyspecs = keyspecs_zrangebylex, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zrangebylex,
        .summary = "Returns the members of a sorted set between two members",
        .since = "2.8.9", .group = "sorted-set", .complexity = "O(log(N)+M), N being the size of the set and M the members returned; O(log(N)) when M is bounded by a small LIMIT.",
        .doc_flags = "deprecated", .deprecated_since = "6.2.0", .replaced_by = "`ZRANGE` with the `BYLEX` argument",
        .args = args_zrangebylex, .arg_count = 4,
    },
    {
        .name = "zrevrangebylex", .arity = -4, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read sortedset slow",
        .keyspecs = keyspecs_zrevrangebylex, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zrevrangebylex,
        .summary = "Returns the members of a sorted set between two members, in reverse order",
        .since = "2.8.9", .group = "sorted-set", .complexity = "O(log(N)+M), N being the size of the set and M the members returned; O(log(N)) when M is bounded by a small LIMIT.",
        .doc_flags = "deprecated", .deprecated_since = "6.2.0", .replaced_by = "`ZRANGE` with the `REV` and `BYLEX` arguments",
        .args = args_zrevrangebylex, .arg_count = 4,
    },
    {
        .name = "zremrangebyrank", .arity = 4, .flags = CMD_WRITE, .flag_names = "write",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write sortedset slow",
        .keyspecs = keyspecs_zremrangebyrank, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zremrangebyrank,
        .summary = "Removes the members of a sorted set in a range of ranks",
        .since = "2.0.0", .group = "sorted-set", .complexity = "O(log(N)+M), N being the size of the set and M the members removed.",
        .args = args_zremrangebyrank, .arg_count = 3,
    },
    {
        .name = "zremrangebyscore", .arity = 4, .flags = CMD_WRITE, .flag_names = "write",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write sortedset slow",
        .keyspecs = keyspecs_zremrangebyscore, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zremrangebyscore,
        .summary = "Removes the members of a sorted set whose scores fall in a range",
        .since = "1.2.0", .group = "sorted-set", .complexity = "O(log(N)+M), N being the size of the set and M the members removed.",
        .args = args_zremrangebyscore, .arg_count = 3,
    },
    {
        .name = "zremrangebylex", .arity = 4, .flags = CMD_WRITE, .flag_names = "write",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write sortedset slow",
        .keyspecs = keyspecs_zremrangebylex, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zremrangebylex,
        .summary = "Removes the members of a sorted set between two members",
        .since = "2.8.9", .group = "sorted-set", .complexity = "O(log(N)+M), N being the size of the set and M the members removed.",
        .args = args_zremrangebylex, .arg_count = 3,
    },
    {
        .name = "zpopmin", .arity = -2, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write sortedset fast",
        .keyspecs = keyspecs_zpopmin, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zpopmin,
        .summary = "Removes and returns the members with the lowest scores",
        .since = "5.0.0", .group = "sorted-set", .complexity = "O(log(N)*M), N being the size of the set and M the members popped.",
        .args = args_zpopmin, .arg_count = 2,
    },
    {
        .name = "zpopmax", .arity = -2, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write sortedset fast",
        .keyspecs = keyspecs_zpopmax, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zpopmax,
        .summary = "Removes and returns the members with the highest scores",
        .since = "5.0.0", .group = "sorted-set", .complexity = "O(log(N)*M), N being the size of the set and M the members popped.",
        .args = args_zpopmax, .arg_count = 2,
    },
    {
        .name = "zmpop", .arity = -4, .flags = CMD_WRITE | CMD_MOVABLE_KEYS, .flag_names = "write movablekeys",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "write sortedset slow",
        .keyspecs = keyspecs_zmpop, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zmpop,
        .summary = "Pops members with the lowest or highest scores from the first non-empty sorted set among several keys",
        .since = "7.0.0", .group = "sorted-set", .complexity = "O(K) + O(M*log(N)), K being the number of keys given, M the members popped and N the size of the set.",
        .args = args_zmpop, .arg_count = 4,
    },
    {
        .name = "bzpopmin", .arity = -3, .flags = CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING | CMD_FAST, .flag_names = "write noscript blocking fast",
        .first_key = 1, .last_key = -2, .key_step = 1, .acl_categories = "write sortedset fast blocking",
        .keyspecs = keyspecs_bzpopmin, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_bzpopmin,
        .summary = "Pops the member with the lowest score from the first non-empty sorted set, waiting for one if all are empty",
        .since = "5.0.0", .group = "sorted-set", .complexity = "O(log(N)), N being the size of the set.",
        .history = history_bzpopmin, .history_count = 1,
        .args = args_bzpopmin, .arg_count = 2,
    },
    {
        .name = "bzpopmax", .arity = -3, .flags = CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING | CMD_FAST, .flag_names = "write noscript blocking fast",
        .first_key = 1, .last_key = -2, .key_step = 1, .acl_categories = "write sortedset fast blocking",
        .keyspecs = keyspecs_bzpopmax, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_bzpopmax,
        .summary = "Pops the member with the highest score from the first non-empty sorted set, waiting for one if all are empty",
        .since = "5.0.0", .group = "sorted-set", .complexity = "O(log(N)), N being the size of the set.",
        .history = history_bzpopmax, .history_count = 1,
        .args = args_bzpopmax, .arg_count = 2,
    },
    {
        .name = "bzmpop", .arity = -5, .flags = CMD_WRITE | CMD_BLOCKING | CMD_MOVABLE_KEYS, .flag_names = "write blocking movablekeys",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "write sortedset slow blocking",
        .keyspecs = keyspecs_bzmpop, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_bzmpop,
        .summary = "Pops members with the lowest or highest scores from the first non-empty sorted set among several keys, waiting for one if all are empty",
        .since = "7.0.0", .group = "sorted-set", .complexity = "O(K) + O(M*log(N)), K being the number of keys given, M the members popped and N the size of the set.",
        .args = args_bzmpop, .arg_count = 5,
    },
    {
        .name = "zrandmember", .arity = -2, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read sortedset slow",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_zrandmember, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zrandmember,
        .summary = "Returns one or more members picked at random from a sorted set",
        .since = "6.2.0", .group = "sorted-set", .complexity = "O(N), N being the number of members returned.",
        .args = args_zrandmember, .arg_count = 2,
    },
    {
        .name = "zscan", .arity = -3, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read sortedset slow",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_zscan, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zscan,
        .summary = "Walks the members and scores of a sorted set a few at a time",
        .since = "2.8.0", .group = "sorted-set", .complexity = "O(1) per call; O(N) for a whole walk, N being the size of the set.",
        .args = args_zscan, .arg_count = 4,
    },
    {
        .name = "zunion", .arity = -3, .flags = CMD_READONLY | CMD_MOVABLE_KEYS, .flag_names = "readonly movablekeys",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "read sortedset slow",
        .keyspecs = keyspecs_zunion, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zunion,
        .summary = "Returns the members any of the given sorted sets has, with combined scores",
        .since = "6.2.0", .group = "sorted-set", .complexity = "O(N)+O(M*log(M)), N being the total of the sets' sizes and M the size of the result.",
        .args = args_zunion, .arg_count = 5,
    },
    {
        .name = "zinter", .arity = -3, .flags = CMD_READONLY | CMD_MOVABLE_KEYS, .flag_names = "readonly movablekeys",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "read sortedset slow",
        .keyspecs = keyspecs_zinter, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zinter,
        .summary = "Returns the members every given sorted set has, with combined scores",
        .since = "6.2.0", .group = "sorted-set", .complexity = "O(N*K)+O(M*log(M)) in the worst case, N being the smallest set's size, K the number of sets and M the size of the result.",
        .args = args_zinter, .arg_count = 5,
    },
    {
        .name = "zdiff", .arity = -3, .flags = CMD_READONLY | CMD_MOVABLE_KEYS, .flag_names = "readonly movablekeys",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "read sortedset slow",
        .keyspecs = keyspecs_zdiff, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zdiff,
        .summary = "Returns the members of the first sorted set that no other given set has",
        .since = "6.2.0", .group = "sorted-set", .complexity = "O(L + (N-K)log(N)) in the worst case, L being the total of the sets' sizes, N the size of the first set and K the size of the result.",
        .args = args_zdiff, .arg_count = 3,
    },
    {
        .name = "zunionstore", .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS, .flag_names = "write denyoom movablekeys",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write sortedset slow",
        .keyspecs = keyspecs_zunionstore, .keyspec_count = 2,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zunionstore,
        .summary = "Stores the members any of the given sorted sets has, with combined scores",
        .since = "2.0.0", .group = "sorted-set", .complexity = "O(N)+O(M*log(M)), N being the total of the sets' sizes and M the size of the result.",
        .args = args_zunionstore, .arg_count = 5,
    },
    {
        .name = "zinterstore", .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS, .flag_names = "write denyoom movablekeys",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write sortedset slow",
        .keyspecs = keyspecs_zinterstore, .keyspec_count = 2,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zinterstore,
        .summary = "Stores the members every given sorted set has, with combined scores",
        .since = "2.0.0", .group = "sorted-set", .complexity = "O(N*K)+O(M*log(M)) in the worst case, N being the smallest set's size, K the number of sets and M the size of the result.",
        .args = args_zinterstore, .arg_count = 5,
    },
    {
        .name = "zdiffstore", .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS, .flag_names = "write denyoom movablekeys",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write sortedset slow",
        .keyspecs = keyspecs_zdiffstore, .keyspec_count = 2,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zdiffstore,
        .summary = "Stores the members of the first sorted set that no other given set has",
        .since = "6.2.0", .group = "sorted-set", .complexity = "O(L + (N-K)log(N)) in the worst case, L being the total of the sets' sizes, N the size of the first set and K the size of the result.",
        .args = args_zdiffstore, .arg_count = 3,
    },
    {
        .name = "zintercard", .arity = -3, .flags = CMD_READONLY | CMD_MOVABLE_KEYS, .flag_names = "readonly movablekeys",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "read sortedset slow",
        .keyspecs = keyspecs_zintercard, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_zintercard,
        .summary = "Counts the members every given sorted set has",
        .since = "7.0.0", .group = "sorted-set", .complexity = "O(N*K) in the worst case, N being the smallest set's size and K the number of sets.",
        .args = args_zintercard, .arg_count = 3,
    },
    { .name = NULL },
};

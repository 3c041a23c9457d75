/* cmdtable_stream.c - command table entries for the stream commands.
 *
 * Arity, flags, key positions, key specs, ACL categories, tips and argument
 * trees are those of redis-server 7.0.15's COMMAND INFO / COMMAND DOCS
 * (clients route by them); the summary, complexity and history texts are
 * our own words. Data only; no logic (see cmdtable.c).
 */
#include <stddef.h>
#include "actors/commands/cmd.h"
#include "actors/commands/commands.h"

static const cmd_keyspec_t keyspecs_xadd[] = {
    { .flags = "RW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0, .notes = "UPDATE instead of INSERT because of the optional trimming feature" },
};

static const cmd_arg_doc_t args_xadd_2_trim_0_strategy[] = {
    { .name = "maxlen", .type = "pure-token", .key_spec_index = -1, .token = "MAXLEN" },
    { .name = "minid", .type = "pure-token", .key_spec_index = -1, .token = "MINID", .since = "6.2.0" },
};

static const cmd_arg_doc_t args_xadd_2_trim_1_operator[] = {
    { .name = "equal", .type = "pure-token", .key_spec_index = -1, .token = "=" },
    { .name = "approximately", .type = "pure-token", .key_spec_index = -1, .token = "~" },
};

static const cmd_arg_doc_t args_xadd_2_trim[] = {
    { .name = "strategy", .type = "oneof", .key_spec_index = -1, .subargs = args_xadd_2_trim_0_strategy, .subarg_count = 2 },
    { .name = "operator", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_xadd_2_trim_1_operator, .subarg_count = 2 },
    { .name = "threshold", .type = "string", .key_spec_index = -1 },
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "LIMIT", .since = "6.2.0", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_arg_doc_t args_xadd_3_id_or_auto[] = {
    { .name = "auto_id", .type = "pure-token", .key_spec_index = -1, .token = "*" },
    { .name = "id", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_xadd_4_field_value[] = {
    { .name = "field", .type = "string", .key_spec_index = -1 },
    { .name = "value", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_xadd[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "nomkstream", .type = "pure-token", .key_spec_index = -1, .token = "NOMKSTREAM", .since = "6.2.0", .flags = CMD_ARG_OPTIONAL },
    { .name = "trim", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_xadd_2_trim, .subarg_count = 4 },
    { .name = "id_or_auto", .type = "oneof", .key_spec_index = -1, .subargs = args_xadd_3_id_or_auto, .subarg_count = 2 },
    { .name = "field_value", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE, .subargs = args_xadd_4_field_value, .subarg_count = 2 },
};

static const cmd_history_t history_xadd[] = {
    { "6.2.0", "NOMKSTREAM, the MINID strategy and LIMIT." },
    { "7.0.0", "IDs of the form <ms>-* (the sequence chosen by the server)." },
};

static const cmd_keyspec_t keyspecs_xlen[] = {
    { .flags = "RO", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_xlen[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_xrange[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_xrange[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "start", .type = "string", .key_spec_index = -1 },
    { .name = "end", .type = "string", .key_spec_index = -1 },
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "COUNT", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_history_t history_xrange[] = {
    { "6.2.0", "Exclusive ranges with the ( prefix." },
};

static const cmd_keyspec_t keyspecs_xrevrange[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_xrevrange[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "end", .type = "string", .key_spec_index = -1 },
    { .name = "start", .type = "string", .key_spec_index = -1 },
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "COUNT", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_history_t history_xrevrange[] = {
    { "6.2.0", "Exclusive ranges with the ( prefix." },
};

static const cmd_keyspec_t keyspecs_xdel[] = {
    { .flags = "RW delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_xdel[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "id", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_xtrim[] = {
    { .flags = "RW delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_xtrim_1_trim_0_strategy[] = {
    { .name = "maxlen", .type = "pure-token", .key_spec_index = -1, .token = "MAXLEN" },
    { .name = "minid", .type = "pure-token", .key_spec_index = -1, .token = "MINID", .since = "6.2.0" },
};

static const cmd_arg_doc_t args_xtrim_1_trim_1_operator[] = {
    { .name = "equal", .type = "pure-token", .key_spec_index = -1, .token = "=" },
    { .name = "approximately", .type = "pure-token", .key_spec_index = -1, .token = "~" },
};

static const cmd_arg_doc_t args_xtrim_1_trim[] = {
    { .name = "strategy", .type = "oneof", .key_spec_index = -1, .subargs = args_xtrim_1_trim_0_strategy, .subarg_count = 2 },
    { .name = "operator", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_xtrim_1_trim_1_operator, .subarg_count = 2 },
    { .name = "threshold", .type = "string", .key_spec_index = -1 },
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "LIMIT", .since = "6.2.0", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_arg_doc_t args_xtrim[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "trim", .type = "block", .key_spec_index = -1, .subargs = args_xtrim_1_trim, .subarg_count = 4 },
};

static const cmd_history_t history_xtrim[] = {
    { "6.2.0", "The MINID strategy and LIMIT." },
};

static const cmd_keyspec_t keyspecs_xread[] = {
    { .flags = "RO access", .bs_type = CMD_KS_KEYWORD, .bs_index = 1, .bs_keyword = "STREAMS", .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 2 },
};

static const cmd_arg_doc_t args_xread_2_streams[] = {
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
    { .name = "id", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_arg_doc_t args_xread[] = {
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "COUNT", .flags = CMD_ARG_OPTIONAL },
    { .name = "milliseconds", .type = "integer", .key_spec_index = -1, .token = "BLOCK", .flags = CMD_ARG_OPTIONAL },
    { .name = "streams", .type = "block", .key_spec_index = -1, .token = "STREAMS", .subargs = args_xread_2_streams, .subarg_count = 2 },
};

static const cmd_keyspec_t keyspecs_xreadgroup[] = {
    { .flags = "RO access", .bs_type = CMD_KS_KEYWORD, .bs_index = 4, .bs_keyword = "STREAMS", .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 2 },
};

static const cmd_arg_doc_t args_xreadgroup_0_group_consumer[] = {
    { .name = "group", .type = "string", .key_spec_index = -1 },
    { .name = "consumer", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_xreadgroup_4_streams[] = {
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
    { .name = "id", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_arg_doc_t args_xreadgroup[] = {
    { .name = "group_consumer", .type = "block", .key_spec_index = -1, .token = "GROUP", .subargs = args_xreadgroup_0_group_consumer, .subarg_count = 2 },
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "COUNT", .flags = CMD_ARG_OPTIONAL },
    { .name = "milliseconds", .type = "integer", .key_spec_index = -1, .token = "BLOCK", .flags = CMD_ARG_OPTIONAL },
    { .name = "noack", .type = "pure-token", .key_spec_index = -1, .token = "NOACK", .flags = CMD_ARG_OPTIONAL },
    { .name = "streams", .type = "block", .key_spec_index = -1, .token = "STREAMS", .subargs = args_xreadgroup_4_streams, .subarg_count = 2 },
};

static const cmd_keyspec_t keyspecs_xack[] = {
    { .flags = "RW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_xack[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "group", .type = "string", .key_spec_index = -1 },
    { .name = "id", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_xpending[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_xpending_2_filters[] = {
    { .name = "min-idle-time", .type = "integer", .key_spec_index = -1, .token = "IDLE", .since = "6.2.0", .flags = CMD_ARG_OPTIONAL },
    { .name = "start", .type = "string", .key_spec_index = -1 },
    { .name = "end", .type = "string", .key_spec_index = -1 },
    { .name = "count", .type = "integer", .key_spec_index = -1 },
    { .name = "consumer", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL },
};

static const cmd_arg_doc_t args_xpending[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "group", .type = "string", .key_spec_index = -1 },
    { .name = "filters", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_xpending_2_filters, .subarg_count = 5 },
};

static const cmd_history_t history_xpending[] = {
    { "6.2.0", "The IDLE filter." },
};

static const cmd_keyspec_t keyspecs_xclaim[] = {
    { .flags = "RW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_xclaim[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "group", .type = "string", .key_spec_index = -1 },
    { .name = "consumer", .type = "string", .key_spec_index = -1 },
    { .name = "min-idle-time", .type = "string", .key_spec_index = -1 },
    { .name = "id", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
    { .name = "ms", .type = "integer", .key_spec_index = -1, .token = "IDLE", .flags = CMD_ARG_OPTIONAL },
    { .name = "unix-time-milliseconds", .type = "unix-time", .key_spec_index = -1, .token = "TIME", .flags = CMD_ARG_OPTIONAL },
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "RETRYCOUNT", .flags = CMD_ARG_OPTIONAL },
    { .name = "force", .type = "pure-token", .key_spec_index = -1, .token = "FORCE", .flags = CMD_ARG_OPTIONAL },
    { .name = "justid", .type = "pure-token", .key_spec_index = -1, .token = "JUSTID", .flags = CMD_ARG_OPTIONAL },
    { .name = "id", .type = "string", .key_spec_index = -1, .token = "LASTID", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_keyspec_t keyspecs_xautoclaim[] = {
    { .flags = "RW delete", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_xautoclaim[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "group", .type = "string", .key_spec_index = -1 },
    { .name = "consumer", .type = "string", .key_spec_index = -1 },
    { .name = "min-idle-time", .type = "string", .key_spec_index = -1 },
    { .name = "start", .type = "string", .key_spec_index = -1 },
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "COUNT", .flags = CMD_ARG_OPTIONAL },
    { .name = "justid", .type = "pure-token", .key_spec_index = -1, .token = "JUSTID", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_history_t history_xautoclaim[] = {
    { "7.0.0", "The reply has a third element: the IDs that no longer exist, deleted from the pending list." },
};

static const cmd_keyspec_t keyspecs_xsetid[] = {
    { .flags = "RW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_xsetid[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "last-id", .type = "string", .key_spec_index = -1 },
    { .name = "entries_added", .type = "integer", .key_spec_index = -1, .token = "ENTRIESADDED", .since = "7.0.0", .flags = CMD_ARG_OPTIONAL },
    { .name = "max_deleted_entry_id", .type = "string", .key_spec_index = -1, .token = "MAXDELETEDID", .since = "7.0.0", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_history_t history_xsetid[] = {
    { "7.0.0", "ENTRIESADDED and MAXDELETEDID." },
};

static const cmd_keyspec_t keyspecs_xgroup_create[] = {
    { .flags = "RW insert", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_xgroup_create_2_id[] = {
    { .name = "id", .type = "string", .key_spec_index = -1 },
    { .name = "new_id", .type = "pure-token", .key_spec_index = -1, .token = "$" },
};

static const cmd_arg_doc_t args_xgroup_create[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "groupname", .type = "string", .key_spec_index = -1 },
    { .name = "id", .type = "oneof", .key_spec_index = -1, .subargs = args_xgroup_create_2_id, .subarg_count = 2 },
    { .name = "mkstream", .type = "pure-token", .key_spec_index = -1, .token = "MKSTREAM", .flags = CMD_ARG_OPTIONAL },
    { .name = "entries_read", .type = "integer", .key_spec_index = -1, .token = "ENTRIESREAD", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_history_t history_xgroup_create[] = {
    { "7.0.0", "ENTRIESREAD." },
};

static const cmd_keyspec_t keyspecs_xgroup_destroy[] = {
    { .flags = "RW delete", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_xgroup_destroy[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "groupname", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_xgroup_delconsumer[] = {
    { .flags = "RW delete", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_xgroup_delconsumer[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "groupname", .type = "string", .key_spec_index = -1 },
    { .name = "consumername", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_xgroup_setid[] = {
    { .flags = "RW update", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_xgroup_setid_2_id[] = {
    { .name = "id", .type = "string", .key_spec_index = -1 },
    { .name = "new_id", .type = "pure-token", .key_spec_index = -1, .token = "$" },
};

static const cmd_arg_doc_t args_xgroup_setid[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "groupname", .type = "string", .key_spec_index = -1 },
    { .name = "id", .type = "oneof", .key_spec_index = -1, .subargs = args_xgroup_setid_2_id, .subarg_count = 2 },
    { .name = "entries_read", .type = "integer", .key_spec_index = -1, .token = "ENTRIESREAD", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_history_t history_xgroup_setid[] = {
    { "7.0.0", "ENTRIESREAD." },
};

static const cmd_keyspec_t keyspecs_xgroup_createconsumer[] = {
    { .flags = "RW insert", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_xgroup_createconsumer[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "groupname", .type = "string", .key_spec_index = -1 },
    { .name = "consumername", .type = "string", .key_spec_index = -1 },
};

static cmd_def_t subcommands_xgroup[] = {
    {
        .name = "create", .arity = -5, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 2, .last_key = 2, .key_step = 1, .acl_categories = "write stream slow",
        .keyspecs = keyspecs_xgroup_create, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xgroup_create,
        .summary = "Creates a consumer group on a stream",
        .since = "5.0.0", .group = "stream", .complexity = "O(1)",
        .history = history_xgroup_create, .history_count = 1,
        .args = args_xgroup_create, .arg_count = 5,
    },
    {
        .name = "destroy", .arity = 4, .flags = CMD_WRITE, .flag_names = "write",
        .first_key = 2, .last_key = 2, .key_step = 1, .acl_categories = "write stream slow",
        .keyspecs = keyspecs_xgroup_destroy, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xgroup_destroy,
        .summary = "Removes a consumer group and its pending entries",
        .since = "5.0.0", .group = "stream", .complexity = "O(N), N being the group's pending entries.",
        .args = args_xgroup_destroy, .arg_count = 2,
    },
    {
        .name = "delconsumer", .arity = 5, .flags = CMD_WRITE, .flag_names = "write",
        .first_key = 2, .last_key = 2, .key_step = 1, .acl_categories = "write stream slow",
        .keyspecs = keyspecs_xgroup_delconsumer, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xgroup_delconsumer,
        .summary = "Removes a consumer from a consumer group",
        .since = "5.0.0", .group = "stream", .complexity = "O(N), N being the consumer's pending entries.",
        .args = args_xgroup_delconsumer, .arg_count = 3,
    },
    {
        .name = "setid", .arity = -5, .flags = CMD_WRITE, .flag_names = "write",
        .first_key = 2, .last_key = 2, .key_step = 1, .acl_categories = "write stream slow",
        .keyspecs = keyspecs_xgroup_setid, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xgroup_setid,
        .summary = "Moves the last delivered ID of a consumer group",
        .since = "5.0.0", .group = "stream", .complexity = "O(1)",
        .history = history_xgroup_setid, .history_count = 1,
        .args = args_xgroup_setid, .arg_count = 4,
    },
    {
        .name = "createconsumer", .arity = 5, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 2, .last_key = 2, .key_step = 1, .acl_categories = "write stream slow",
        .keyspecs = keyspecs_xgroup_createconsumer, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xgroup_createconsumer,
        .summary = "Adds a consumer to a consumer group",
        .since = "6.2.0", .group = "stream", .complexity = "O(1)",
        .args = args_xgroup_createconsumer, .arg_count = 3,
    },
    {
        .name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "stream slow",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_xgroup_help,
        .summary = "Lists the XGROUP subcommands with a short description",
        .since = "5.0.0", .group = "stream", .complexity = "O(1)",
    },
    { .name = NULL },
};

static const cmd_keyspec_t keyspecs_xinfo_groups[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_xinfo_groups[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_history_t history_xinfo_groups[] = {
    { "7.0.0", "The entries-read and lag fields." },
};

static const cmd_keyspec_t keyspecs_xinfo_consumers[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_xinfo_consumers[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "groupname", .type = "string", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_xinfo_stream[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_xinfo_stream_1_full[] = {
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "COUNT", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_arg_doc_t args_xinfo_stream[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "full", .type = "block", .key_spec_index = -1, .token = "FULL", .flags = CMD_ARG_OPTIONAL, .subargs = args_xinfo_stream_1_full, .subarg_count = 1 },
};

static const cmd_history_t history_xinfo_stream[] = {
    { "6.0.0", "FULL." },
    { "7.0.0", "The max-deleted-entry-id, entries-added, recorded-first-entry-id, entries-read and lag fields." },
};

static cmd_def_t subcommands_xinfo[] = {
    {
        .name = "groups", .arity = 3, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 2, .last_key = 2, .key_step = 1, .acl_categories = "read stream slow",
        .keyspecs = keyspecs_xinfo_groups, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xinfo_groups,
        .summary = "Lists the consumer groups of a stream",
        .since = "5.0.0", .group = "stream", .complexity = "O(1) per group.",
        .history = history_xinfo_groups, .history_count = 1,
        .args = args_xinfo_groups, .arg_count = 1,
    },
    {
        .name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "stream slow",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_xinfo_help,
        .summary = "Lists the XINFO subcommands with a short description",
        .since = "5.0.0", .group = "stream", .complexity = "O(1)",
    },
    {
        .name = "consumers", .arity = 4, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 2, .last_key = 2, .key_step = 1, .acl_categories = "read stream slow",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_xinfo_consumers, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xinfo_consumers,
        .summary = "Lists the consumers of a consumer group",
        .since = "5.0.0", .group = "stream", .complexity = "O(1) per consumer.",
        .args = args_xinfo_consumers, .arg_count = 2,
    },
    {
        .name = "stream", .arity = -3, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 2, .last_key = 2, .key_step = 1, .acl_categories = "read stream slow",
        .keyspecs = keyspecs_xinfo_stream, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xinfo_stream,
        .summary = "Describes a stream, in full with its groups when asked",
        .since = "5.0.0", .group = "stream", .complexity = "O(1), or O(N) with FULL for N entries shown.",
        .history = history_xinfo_stream, .history_count = 2,
        .args = args_xinfo_stream, .arg_count = 2,
    },
    { .name = NULL },
};

cmd_def_t cmdtable_stream[] = {
    {
        .name = "xadd", .arity = -5, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write stream fast",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_xadd, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xadd,
        .summary = "Appends an entry to a stream, creating the stream unless told not to",
        .since = "5.0.0", .group = "stream", .complexity = "O(1) per entry added, plus O(N) for N entries trimmed.",
        .history = history_xadd, .history_count = 2,
        .args = args_xadd, .arg_count = 5,
    },
    {
        .name = "xlen", .arity = 2, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read stream fast",
        .keyspecs = keyspecs_xlen, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xlen,
        .summary = "Returns how many entries a stream holds",
        .since = "5.0.0", .group = "stream", .complexity = "O(1)",
        .args = args_xlen, .arg_count = 1,
    },
    {
        .name = "xrange", .arity = -4, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read stream slow",
        .keyspecs = keyspecs_xrange, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xrange,
        .summary = "Returns the entries of a stream between two IDs, oldest first",
        .since = "5.0.0", .group = "stream", .complexity = "O(log N + M), M being the number of entries returned.",
        .history = history_xrange, .history_count = 1,
        .args = args_xrange, .arg_count = 4,
    },
    {
        .name = "xrevrange", .arity = -4, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read stream slow",
        .keyspecs = keyspecs_xrevrange, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xrevrange,
        .summary = "Returns the entries of a stream between two IDs, newest first",
        .since = "5.0.0", .group = "stream", .complexity = "O(log N + M), M being the number of entries returned.",
        .history = history_xrevrange, .history_count = 1,
        .args = args_xrevrange, .arg_count = 4,
    },
    {
        .name = "xdel", .arity = -3, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write stream fast",
        .keyspecs = keyspecs_xdel, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xdel,
        .summary = "Removes entries from a stream by ID and returns how many went",
        .since = "5.0.0", .group = "stream", .complexity = "O(log N) per ID.",
        .args = args_xdel, .arg_count = 2,
    },
    {
        .name = "xtrim", .arity = -4, .flags = CMD_WRITE, .flag_names = "write",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write stream slow",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_xtrim, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xtrim,
        .summary = "Removes the oldest entries of a stream by length or by minimal ID",
        .since = "5.0.0", .group = "stream", .complexity = "O(N), N being the number of entries removed.",
        .history = history_xtrim, .history_count = 1,
        .args = args_xtrim, .arg_count = 2,
    },
    {
        .name = "xread", .arity = -4, .flags = CMD_READONLY | CMD_BLOCKING | CMD_MOVABLE_KEYS, .flag_names = "readonly blocking movablekeys",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "read stream slow blocking",
        .keyspecs = keyspecs_xread, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xread,
        .summary = "Reads entries after given IDs from one or more streams, optionally waiting for new ones",
        .since = "5.0.0", .group = "stream", .complexity = "O(M) for M entries returned, O(1) per stream when nothing is returned.",
        .args = args_xread, .arg_count = 3,
        .getkeys = cmd_xread_getkeys,
    },
    {
        .name = "xreadgroup", .arity = -7, .flags = CMD_WRITE | CMD_BLOCKING | CMD_MOVABLE_KEYS, .flag_names = "write blocking movablekeys",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "write stream slow blocking",
        .keyspecs = keyspecs_xreadgroup, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xreadgroup,
        .summary = "Reads entries of streams on behalf of a consumer of a consumer group, optionally waiting",
        .since = "5.0.0", .group = "stream", .complexity = "O(M) for M entries returned.",
        .args = args_xreadgroup, .arg_count = 5,
        .getkeys = cmd_xread_getkeys,
    },
    {
        .name = "xack", .arity = -4, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write stream fast",
        .keyspecs = keyspecs_xack, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xack,
        .summary = "Marks pending entries of a consumer group as processed",
        .since = "5.0.0", .group = "stream", .complexity = "O(1) per ID.",
        .args = args_xack, .arg_count = 3,
    },
    {
        .name = "xpending", .arity = -3, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read stream slow",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_xpending, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xpending,
        .summary = "Shows the entries a consumer group delivered and that were not acknowledged",
        .since = "5.0.0", .group = "stream", .complexity = "O(N) for N pending entries returned; O(1) for the summary when no consumer is named.",
        .history = history_xpending, .history_count = 1,
        .args = args_xpending, .arg_count = 3,
    },
    {
        .name = "xclaim", .arity = -6, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write stream fast",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_xclaim, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xclaim,
        .summary = "Hands pending entries of a consumer group over to another consumer",
        .since = "5.0.0", .group = "stream", .complexity = "O(log N) per ID.",
        .args = args_xclaim, .arg_count = 11,
    },
    {
        .name = "xautoclaim", .arity = -6, .flags = CMD_WRITE | CMD_FAST, .flag_names = "write fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write stream fast",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_xautoclaim, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xautoclaim,
        .summary = "Hands over pending entries idle long enough, walking the pending list from a start ID",
        .since = "6.2.0", .group = "stream", .complexity = "O(1) per entry looked at (bounded by COUNT).",
        .history = history_xautoclaim, .history_count = 1,
        .args = args_xautoclaim, .arg_count = 7,
    },
    {
        .name = "xsetid", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write stream fast",
        .keyspecs = keyspecs_xsetid, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_xsetid,
        .summary = "Sets the last ID (and optionally the counters) of a stream",
        .since = "5.0.0", .group = "stream", .complexity = "O(1)",
        .history = history_xsetid, .history_count = 1,
        .args = args_xsetid, .arg_count = 4,
    },
    {
        .name = "xgroup", .arity = -2, .flags = 0, .flag_names = "",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .subcommands = subcommands_xgroup,
        .summary = "Container of the consumer group commands",
        .since = "5.0.0", .group = "stream", .complexity = "Depends on the subcommand.",
    },
    {
        .name = "xinfo", .arity = -2, .flags = 0, .flag_names = "",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .subcommands = subcommands_xinfo,
        .summary = "Container of the commands that describe streams and their consumer groups",
        .since = "5.0.0", .group = "stream", .complexity = "Depends on the subcommand.",
    },
    { .name = NULL },
};

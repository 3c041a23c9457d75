/* cmdtable_object.c - command table entries for OBJECT and MEMORY and
 * their subcommands, DUMP, RESTORE, RESTORE-ASKING, MIGRATE and COPY.
 *
 * Arity, flags, key positions, key specs, ACL categories, tips and argument
 * trees are taken from the COMMAND INFO / COMMAND DOCS replies of a real
 * redis-server 7.0.15 (clients route by them); the summary, complexity and
 * history texts are our own words. Data only; no logic (see cmdtable.c).
 */
#include <stddef.h>
#include "actors/commands/cmd.h"
#include "actors/commands/commands.h"

static const cmd_keyspec_t keyspecs_object_encoding[] = {
    { .flags = "RO", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_object_encoding[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_object_freq[] = {
    { .flags = "RO", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_object_freq[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_object_idletime[] = {
    { .flags = "RO", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_object_idletime[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_object_refcount[] = {
    { .flags = "RO", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_object_refcount[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};
static const cmd_keyspec_t keyspecs_dump[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_dump[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
};
static const cmd_keyspec_t keyspecs_restore[] = {
    { .flags = "OW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_restore[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "ttl", .type = "integer", .key_spec_index = -1 },
    { .name = "serialized-value", .type = "string", .key_spec_index = -1 },
    { .name = "replace", .type = "pure-token", .key_spec_index = -1, .token = "REPLACE", .since = "3.0.0", .flags = CMD_ARG_OPTIONAL },
    { .name = "absttl", .type = "pure-token", .key_spec_index = -1, .token = "ABSTTL", .since = "5.0.0", .flags = CMD_ARG_OPTIONAL },
    { .name = "seconds", .type = "integer", .key_spec_index = -1, .token = "IDLETIME", .since = "5.0.0", .flags = CMD_ARG_OPTIONAL },
    { .name = "frequency", .type = "integer", .key_spec_index = -1, .token = "FREQ", .since = "5.0.0", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_history_t history_restore[] = {
    { "3.0.0", "The REPLACE option." },
    { "5.0.0", "The ABSTTL option." },
    { "5.0.0", "The IDLETIME and FREQ options." },
};
static const cmd_keyspec_t keyspecs_migrate[] = {
    { .flags = "RW access delete", .bs_type = CMD_KS_INDEX, .bs_index = 3, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "RW access delete incomplete", .bs_type = CMD_KS_KEYWORD, .bs_index = -2, .bs_keyword = "KEYS",
      .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_migrate_key_or_empty[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "empty_string", .type = "pure-token", .key_spec_index = -1, .token = "" },
};

static const cmd_arg_doc_t args_migrate_auth2[] = {
    { .name = "username", .type = "string", .key_spec_index = -1 },
    { .name = "password", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_migrate_auth[] = {
    { .name = "password", .type = "string", .key_spec_index = -1, .token = "AUTH", .since = "4.0.7", .flags = CMD_ARG_OPTIONAL },
    { .name = "username_password", .type = "block", .key_spec_index = -1, .token = "AUTH2", .since = "6.0.0",
      .flags = CMD_ARG_OPTIONAL, .subargs = args_migrate_auth2, .subarg_count = 2 },
};

static const cmd_arg_doc_t args_migrate[] = {
    { .name = "host", .type = "string", .key_spec_index = -1 },
    { .name = "port", .type = "integer", .key_spec_index = -1 },
    { .name = "key_or_empty_string", .type = "oneof", .key_spec_index = -1, .subargs = args_migrate_key_or_empty, .subarg_count = 2 },
    { .name = "destination-db", .type = "integer", .key_spec_index = -1 },
    { .name = "timeout", .type = "integer", .key_spec_index = -1 },
    { .name = "copy", .type = "pure-token", .key_spec_index = -1, .token = "COPY", .since = "3.0.0", .flags = CMD_ARG_OPTIONAL },
    { .name = "replace", .type = "pure-token", .key_spec_index = -1, .token = "REPLACE", .since = "3.0.0", .flags = CMD_ARG_OPTIONAL },
    { .name = "authentication", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL,
      .subargs = args_migrate_auth, .subarg_count = 2 },
    { .name = "key", .type = "key", .key_spec_index = 1, .token = "KEYS", .since = "3.0.6",
      .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
};

static const cmd_history_t history_migrate[] = {
    { "3.0.0", "The COPY and REPLACE options." },
    { "3.0.6", "The KEYS option." },
    { "4.0.7", "The AUTH option." },
    { "6.0.0", "The AUTH2 option." },
};

static const cmd_keyspec_t keyspecs_copy[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "OW update", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_copy[] = {
    { .name = "source", .type = "key", .key_spec_index = 0 },
    { .name = "destination", .type = "key", .key_spec_index = 1 },
    { .name = "destination-db", .type = "integer", .key_spec_index = -1, .token = "DB", .flags = CMD_ARG_OPTIONAL },
    { .name = "replace", .type = "pure-token", .key_spec_index = -1, .token = "REPLACE", .flags = CMD_ARG_OPTIONAL },
};

static cmd_def_t subcommands_object[] = {
    {
        .name = "encoding", .arity = 3, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 2, .last_key = 2, .key_step = 1, .acl_categories = "keyspace read slow",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_object_encoding, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_object_encoding,
        .summary = "Returns the internal encoding of a key's value",
        .since = "2.2.3", .group = "generic", .complexity = "O(1)",
        .args = args_object_encoding, .arg_count = 1,
    },
    {
        .name = "freq", .arity = 3, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 2, .last_key = 2, .key_step = 1, .acl_categories = "keyspace read slow",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_object_freq, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_object_freq,
        .summary = "Returns the logarithmic access frequency counter of a key (LFU policies only)",
        .since = "4.0.0", .group = "generic", .complexity = "O(1)",
        .args = args_object_freq, .arg_count = 1,
    },
    {
        .name = "idletime", .arity = 3, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 2, .last_key = 2, .key_step = 1, .acl_categories = "keyspace read slow",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_object_idletime, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_object_idletime,
        .summary = "Returns the seconds since a key was last read or written",
        .since = "2.2.3", .group = "generic", .complexity = "O(1)",
        .args = args_object_idletime, .arg_count = 1,
    },
    {
        .name = "refcount", .arity = 3, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 2, .last_key = 2, .key_step = 1, .acl_categories = "keyspace read slow",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_object_refcount, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_object_refcount,
        .summary = "Returns how many references the value of a key has",
        .since = "2.2.3", .group = "generic", .complexity = "O(1)",
        .args = args_object_refcount, .arg_count = 1,
    },
    {
        .name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "keyspace slow",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_object_help,
        .summary = "Lists the OBJECT subcommands with a short description",
        .since = "6.2.0", .group = "generic", .complexity = "O(1)",
    },
    { .name = NULL },
};

static const cmd_keyspec_t keyspecs_memory_usage[] = {
    { .flags = "RO", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_memory_usage[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "SAMPLES", .flags = CMD_ARG_OPTIONAL },
};

#define MEMORY_SHARDS_TIPS "nondeterministic_output request_policy:all_shards response_policy:special"

static cmd_def_t subcommands_memory[] = {
    {
        .name = "doctor", .arity = 2, .flags = 0, .flag_names = "",
        .acl_categories = "slow", .tips = MEMORY_SHARDS_TIPS,
        .exec = CMD_EXEC_CLIENT, .handler = cmd_memory_doctor,
        .summary = "Reports what may be wrong with the node's memory, in words",
        .since = "4.0.0", .group = "server", .complexity = "O(1)",
    },
    {
        .name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_memory_help,
        .summary = "Lists the MEMORY subcommands with a short description",
        .since = "4.0.0", .group = "server", .complexity = "O(1)",
    },
    {
        .name = "malloc-stats", .arity = 2, .flags = 0, .flag_names = "",
        .acl_categories = "slow", .tips = MEMORY_SHARDS_TIPS,
        .exec = CMD_EXEC_CLIENT, .handler = cmd_memory_malloc_stats,
        .summary = "Returns the memory allocator's own statistics",
        .since = "4.0.0", .group = "server", .complexity = "Grows with the memory allocated; may be slow",
    },
    {
        .name = "purge", .arity = 2, .flags = 0, .flag_names = "",
        .acl_categories = "slow", .tips = "request_policy:all_shards response_policy:all_succeeded",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_memory_purge,
        .summary = "Asks the memory allocator to give free pages back to the system",
        .since = "4.0.0", .group = "server", .complexity = "Grows with the memory allocated; may be slow",
    },
    {
        .name = "stats", .arity = 2, .flags = 0, .flag_names = "",
        .acl_categories = "slow", .tips = MEMORY_SHARDS_TIPS,
        .exec = CMD_EXEC_CLIENT, .handler = cmd_memory_stats,
        .summary = "Returns the node's memory figures: totals, overheads, dataset, fragmentation",
        .since = "4.0.0", .group = "server", .complexity = "O(1)",
    },
    {
        .name = "usage", .arity = -3, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 2, .last_key = 2, .key_step = 1, .acl_categories = "read slow",
        .keyspecs = keyspecs_memory_usage, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_memory_usage,
        .summary = "Returns how many bytes a key and its value take",
        .since = "4.0.0", .group = "server", .complexity = "O(N) where N is the number of samples.",
        .args = args_memory_usage, .arg_count = 2,
    },
    { .name = NULL },
};

cmd_def_t cmdtable_object[] = {
    {
        .name = "memory", .arity = -2, .flags = 0, .flag_names = "",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .subcommands = subcommands_memory,
        .summary = "Container of the commands that report on memory",
        .since = "4.0.0", .group = "server", .complexity = "Depends on the subcommand.",
    },
    {
        .name = "object", .arity = -2, .flags = 0, .flag_names = "",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .subcommands = subcommands_object,
        .summary = "Container of the commands that look inside a key's value",
        .since = "2.2.3", .group = "generic", .complexity = "Depends on the subcommand.",
    },
    {
        .name = "dump", .arity = 2, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "keyspace read slow",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_dump, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_dump,
        .summary = "Returns the value of a key serialized in the RDB format",
        .since = "2.6.0", .group = "generic", .complexity = "O(1) to find the key, then O(N*M) to serialize it, N being the number of elements and M their average size.",
        .args = args_dump, .arg_count = 1,
    },
    {
        .name = "restore", .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "keyspace write slow dangerous",
        .keyspecs = keyspecs_restore, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_restore,
        .summary = "Creates a key from a DUMP payload",
        .since = "2.6.0", .group = "generic", .complexity = "O(1) to create the key, then O(N*M) to rebuild the value, N being the number of elements and M their average size (O(N*M*log(N)) for sorted sets).",
        .history = history_restore, .history_count = 3,
        .args = args_restore, .arg_count = 7,
    },
    {
        /* 7.0.15's internal twin of RESTORE that MIGRATE sends in cluster
         * mode: the same call, and it counts as ASKING (routing, CMD_ASKING) */
        .name = "restore-asking", .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_ASKING,
        .flag_names = "write denyoom asking",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "keyspace write slow dangerous",
        .keyspecs = keyspecs_restore, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_restore,
        .summary = "Creates a key from a DUMP payload while a slot is imported (sent by MIGRATE)",
        .since = "3.0.0", .group = "server", .doc_flags = "syscmd",
        .complexity = "O(1) to create the key, then O(N*M) to rebuild the value, N being the number of elements and M their average size (O(N*M*log(N)) for sorted sets).",
        .history = history_restore, .history_count = 3,
        .args = args_restore, .arg_count = 7,
    },
    {
        .name = "migrate", .arity = -6, .flags = CMD_WRITE | CMD_MOVABLE_KEYS | CMD_SUSPENDS,
        .flag_names = "write movablekeys",
        .first_key = 3, .last_key = 3, .key_step = 1, .acl_categories = "keyspace write slow dangerous",
        .tips = "nondeterministic_output",
        .keyspecs = keyspecs_migrate, .keyspec_count = 2, .getkeys = cmd_migrate_getkeys,
        .exec = CMD_EXEC_KEYED, .handler = cmd_migrate,
        .summary = "Moves keys to another instance: sends them and deletes them here once it has them",
        .since = "2.6.0", .group = "generic",
        .complexity = "The DUMP and DEL of the keys here, a RESTORE of each on the target, and the transfer of their payloads.",
        .history = history_migrate, .history_count = 4,
        .args = args_migrate, .arg_count = 9,
    },
    {
        .name = "copy", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = 2, .key_step = 1, .acl_categories = "keyspace write slow",
        .keyspecs = keyspecs_copy, .keyspec_count = 2,
        .exec = CMD_EXEC_KEYED, .handler = cmd_copy,
        .summary = "Copies the value of a key to another key",
        .since = "6.2.0", .group = "generic", .complexity = "O(N) for a collection of N elements, O(1) for a string.",
        .args = args_copy, .arg_count = 4,
    },
    { .name = NULL },
};

/* cmdtable_cluster.c - command table entries for CLUSTER and its subcommands, ASKING,
 * READONLY and READWRITE.
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

static const cmd_arg_doc_t args_cluster_keyslot[] = {
    { .name = "key", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_cluster_replicate[] = {
    { .name = "node-id", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_cluster_failover_options[] = {
    { .name = "force", .type = "pure-token", .key_spec_index = -1, .token = "FORCE" },
    { .name = "takeover", .type = "pure-token", .key_spec_index = -1, .token = "TAKEOVER" },
};

static const cmd_arg_doc_t args_cluster_failover[] = {
    { .name = "options", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_cluster_failover_options, .subarg_count = 2 },
};

static const cmd_arg_doc_t args_cluster_reset_hard_soft[] = {
    { .name = "hard", .type = "pure-token", .key_spec_index = -1, .token = "HARD" },
    { .name = "soft", .type = "pure-token", .key_spec_index = -1, .token = "SOFT" },
};

static const cmd_arg_doc_t args_cluster_reset[] = {
    { .name = "hard_soft", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_cluster_reset_hard_soft, .subarg_count = 2 },
};

static const cmd_arg_doc_t args_cluster_addslots[] = {
    { .name = "slot", .type = "integer", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_history_t history_cluster_meet[] = {
    { "4.0.0", "The optional cluster bus port argument." },
};

static const cmd_arg_doc_t args_cluster_meet[] = {
    { .name = "ip", .type = "string", .key_spec_index = -1 },
    { .name = "port", .type = "integer", .key_spec_index = -1 },
    { .name = "cluster_bus_port", .type = "integer", .key_spec_index = -1, .since = "4.0.0", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_arg_doc_t args_cluster_countkeysinslot[] = {
    { .name = "slot", .type = "integer", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_cluster_getkeysinslot[] = {
    { .name = "slot", .type = "integer", .key_spec_index = -1 },
    { .name = "count", .type = "integer", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_cluster_forget[] = {
    { .name = "node-id", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_cluster_delslotsrange_start_slot_end_slot[] = {
    { .name = "start-slot", .type = "integer", .key_spec_index = -1 },
    { .name = "end-slot", .type = "integer", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_cluster_delslotsrange[] = {
    { .name = "start-slot_end-slot", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE, .subargs = args_cluster_delslotsrange_start_slot_end_slot, .subarg_count = 2 },
};

static const cmd_arg_doc_t args_cluster_set_config_epoch[] = {
    { .name = "config-epoch", .type = "integer", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_cluster_replicas[] = {
    { .name = "node-id", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_cluster_addslotsrange_start_slot_end_slot[] = {
    { .name = "start-slot", .type = "integer", .key_spec_index = -1 },
    { .name = "end-slot", .type = "integer", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_cluster_addslotsrange[] = {
    { .name = "start-slot_end-slot", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE, .subargs = args_cluster_addslotsrange_start_slot_end_slot, .subarg_count = 2 },
};

static const cmd_arg_doc_t args_cluster_delslots[] = {
    { .name = "slot", .type = "integer", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_history_t history_cluster_slots[] = {
    { "4.0.0", "Node IDs in the reply." },
    { "7.0.0", "More networking fields per node." },
};

static const cmd_arg_doc_t args_cluster_slaves[] = {
    { .name = "node-id", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_cluster_count_failure_reports[] = {
    { .name = "node-id", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_cluster_setslot_subcommand[] = {
    { .name = "node-id", .type = "string", .key_spec_index = -1, .token = "IMPORTING" },
    { .name = "node-id", .type = "string", .key_spec_index = -1, .token = "MIGRATING" },
    { .name = "node-id", .type = "string", .key_spec_index = -1, .token = "NODE" },
    { .name = "stable", .type = "pure-token", .key_spec_index = -1, .token = "STABLE" },
};

static const cmd_arg_doc_t args_cluster_setslot[] = {
    { .name = "slot", .type = "integer", .key_spec_index = -1 },
    { .name = "subcommand", .type = "oneof", .key_spec_index = -1, .subargs = args_cluster_setslot_subcommand, .subarg_count = 4 },
};

static cmd_def_t subcommands_cluster[] = {
    {
        .name = "keyslot", .arity = 3, .flags = CMD_STALE, .flag_names = "stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_keyslot,
        .summary = "Computes the hash slot of a key",
        .since = "3.0.0", .group = "cluster", .complexity = "O(N), N being the length of the key",
        .args = args_cluster_keyslot, .arg_count = 1,
    },
    {
        .name = "replicate", .arity = 3, .flags = CMD_ADMIN | CMD_STALE, .flag_names = "admin stale no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_replicate,
        .summary = "Makes this node a replica of the given master",
        .since = "3.0.0", .group = "cluster", .complexity = "O(1)",
        .args = args_cluster_replicate, .arg_count = 1,
    },
    {
        .name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_help,
        .summary = "Lists the CLUSTER subcommands with a short description",
        .since = "5.0.0", .group = "cluster", .complexity = "O(1)",
    },
    {
        .name = "failover", .arity = -2, .flags = CMD_ADMIN | CMD_STALE, .flag_names = "admin stale no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_failover,
        .summary = "Makes this replica take over from its master by a manual failover.",
        .since = "3.0.0", .group = "cluster", .complexity = "O(1)",
        .args = args_cluster_failover, .arg_count = 1,
    },
    {
        .name = "reset", .arity = -2, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE, .flag_names = "admin noscript stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_reset,
        .summary = "Returns this node to a fresh cluster state",
        .since = "3.0.0", .group = "cluster", .complexity = "O(N), N being the number of known nodes; may also flush all keys.",
        .args = args_cluster_reset, .arg_count = 1,
    },
    {
        .name = "addslots", .arity = -3, .flags = CMD_ADMIN | CMD_STALE, .flag_names = "admin stale no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_addslots,
        .summary = "Claims hash slots for this node",
        .since = "3.0.0", .group = "cluster", .complexity = "O(N), N being the number of slots given",
        .args = args_cluster_addslots, .arg_count = 1,
    },
    {
        .name = "info", .arity = 2, .flags = CMD_STALE, .flag_names = "stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .tips = "nondeterministic_output",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_info,
        .summary = "Reports the cluster state as this node sees it",
        .since = "3.0.0", .group = "cluster", .complexity = "O(1)",
    },
    {
        .name = "meet", .arity = -4, .flags = CMD_ADMIN | CMD_STALE, .flag_names = "admin stale no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_meet,
        .summary = "Connects this node to another one so that they join one cluster",
        .since = "3.0.0", .group = "cluster", .complexity = "O(1)",
        .history = history_cluster_meet, .history_count = 1,
        .args = args_cluster_meet, .arg_count = 3,
    },
    {
        .name = "countkeysinslot", .arity = 3, .flags = CMD_STALE, .flag_names = "stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_countkeysinslot,
        .summary = "Counts the keys this node holds in a hash slot",
        .since = "3.0.0", .group = "cluster", .complexity = "O(1)",
        .args = args_cluster_countkeysinslot, .arg_count = 1,
    },
    {
        .name = "flushslots", .arity = 2, .flags = CMD_ADMIN | CMD_STALE, .flag_names = "admin stale no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_flushslots,
        .summary = "Releases every slot this node claims",
        .since = "3.0.0", .group = "cluster", .complexity = "O(1)",
    },
    {
        .name = "shards", .arity = 2, .flags = CMD_STALE, .flag_names = "stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .tips = "nondeterministic_output",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_shards,
        .summary = "Describes the shards of the cluster and their slot ranges",
        .since = "7.0.0", .group = "cluster", .complexity = "O(N), N being the number of nodes",
    },
    {
        .name = "myid", .arity = 2, .flags = CMD_STALE, .flag_names = "stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_myid,
        .summary = "Gives the ID of this node",
        .since = "3.0.0", .group = "cluster", .complexity = "O(1)",
    },
    {
        .name = "getkeysinslot", .arity = 4, .flags = CMD_STALE, .flag_names = "stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .tips = "nondeterministic_output",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_getkeysinslot,
        .summary = "Lists keys this node holds in a hash slot",
        .since = "3.0.0", .group = "cluster", .complexity = "O(log(N)), N being the number of keys asked for",
        .args = args_cluster_getkeysinslot, .arg_count = 2,
    },
    {
        .name = "forget", .arity = 3, .flags = CMD_ADMIN | CMD_STALE, .flag_names = "admin stale no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_forget,
        .summary = "Removes a node from this node's table",
        .since = "3.0.0", .group = "cluster", .complexity = "O(1)",
        .args = args_cluster_forget, .arg_count = 1,
    },
    {
        .name = "nodes", .arity = 2, .flags = CMD_STALE, .flag_names = "stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .tips = "nondeterministic_output",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_nodes,
        .summary = "Describes every node this node knows, in nodes.conf format",
        .since = "3.0.0", .group = "cluster", .complexity = "O(N), N being the number of nodes",
    },
    {
        .name = "links", .arity = 2, .flags = CMD_STALE, .flag_names = "stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .tips = "nondeterministic_output",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_links,
        .summary = "Describes the bus connections to and from peers",
        .since = "7.0.0", .group = "cluster", .complexity = "O(N), N being the number of nodes",
    },
    {
        .name = "delslotsrange", .arity = -4, .flags = CMD_ADMIN | CMD_STALE, .flag_names = "admin stale no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_delslotsrange,
        .summary = "Releases ranges of hash slots on this node",
        .since = "7.0.0", .group = "cluster", .complexity = "O(N), N being the number of slots in the ranges.",
        .args = args_cluster_delslotsrange, .arg_count = 1,
    },
    {
        .name = "set-config-epoch", .arity = 3, .flags = CMD_ADMIN | CMD_STALE, .flag_names = "admin stale no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_set_config_epoch,
        .summary = "Sets the config epoch of a fresh node",
        .since = "3.0.0", .group = "cluster", .complexity = "O(1)",
        .args = args_cluster_set_config_epoch, .arg_count = 1,
    },
    {
        .name = "replicas", .arity = 3, .flags = CMD_ADMIN | CMD_STALE, .flag_names = "admin stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .tips = "nondeterministic_output",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_replicas,
        .summary = "Lists the replicas of a master",
        .since = "5.0.0", .group = "cluster", .complexity = "O(1)",
        .args = args_cluster_replicas, .arg_count = 1,
    },
    {
        .name = "addslotsrange", .arity = -4, .flags = CMD_ADMIN | CMD_STALE, .flag_names = "admin stale no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_addslotsrange,
        .summary = "Claims ranges of hash slots for this node",
        .since = "7.0.0", .group = "cluster", .complexity = "O(N), N being the number of slots in the ranges.",
        .args = args_cluster_addslotsrange, .arg_count = 1,
    },
    {
        .name = "saveconfig", .arity = 2, .flags = CMD_ADMIN | CMD_STALE, .flag_names = "admin stale no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_saveconfig,
        .summary = "Writes the cluster configuration to disk now",
        .since = "3.0.0", .group = "cluster", .complexity = "O(1)",
    },
    {
        .name = "delslots", .arity = -3, .flags = CMD_ADMIN | CMD_STALE, .flag_names = "admin stale no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_delslots,
        .summary = "Releases hash slots on this node",
        .since = "3.0.0", .group = "cluster", .complexity = "O(N), N being the number of slots given",
        .args = args_cluster_delslots, .arg_count = 1,
    },
    {
        .name = "slots", .arity = 2, .flags = CMD_STALE, .flag_names = "stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .tips = "nondeterministic_output",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_slots,
        .summary = "Maps slot ranges to the nodes that serve them",
        .since = "3.0.0", .group = "cluster", .complexity = "O(N), N being the number of nodes",
        .doc_flags = "deprecated",
        .deprecated_since = "7.0.0", .replaced_by = "CLUSTER SHARDS",
        .history = history_cluster_slots, .history_count = 2,
    },
    {
        .name = "slaves", .arity = 3, .flags = CMD_ADMIN | CMD_STALE, .flag_names = "admin stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .tips = "nondeterministic_output",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_slaves,
        .summary = "Lists the replicas of a master",
        .since = "3.0.0", .group = "cluster", .complexity = "O(1)",
        .doc_flags = "deprecated",
        .deprecated_since = "5.0.0", .replaced_by = "CLUSTER REPLICAS",
        .args = args_cluster_slaves, .arg_count = 1,
    },
    {
        .name = "count-failure-reports", .arity = 3, .flags = CMD_ADMIN | CMD_STALE, .flag_names = "admin stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .tips = "nondeterministic_output",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_count_failure_reports,
        .summary = "Counts the live failure reports about a node",
        .since = "3.0.0", .group = "cluster", .complexity = "O(N), N being the number of reports",
        .args = args_cluster_count_failure_reports, .arg_count = 1,
    },
    {
        .name = "bumpepoch", .arity = 2, .flags = CMD_ADMIN | CMD_STALE, .flag_names = "admin stale no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .tips = "nondeterministic_output",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_bumpepoch,
        .summary = "Gives this node a new, higher config epoch",
        .since = "3.0.0", .group = "cluster", .complexity = "O(1)",
    },
    {
        .name = "setslot", .arity = -4, .flags = CMD_ADMIN | CMD_STALE, .flag_names = "admin stale no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_setslot,
        .summary = "Changes the migration state or the owner of a hash slot",
        .since = "3.0.0", .group = "cluster", .complexity = "O(1)",
        .args = args_cluster_setslot, .arg_count = 2,
    },
    { .name = NULL },
};

/* CLUSTER subcommands that 7.0.15 does not have: atomic slot migration
 * between shoal masters (Valkey 9's syntax, arities and flags;
 * docs/migrateslots.md). Served (cmd_lookup_sub finds them) but kept out of
 * CLUSTER's subcommand list, so COMMAND, COMMAND INFO/DOCS/LIST/COUNT keep
 * 7.0.15's shape (cmd_table_init). */
cmd_def_t cmdtable_cluster_unlisted[] = {
    {
        .name = "migrateslots", .arity = -4, .flags = CMD_ADMIN | CMD_STALE,
        .flag_names = "admin stale no_async_loading",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_migrateslots,
        .summary = "Moves slot ranges to another shoal master atomically",
        .since = "9.0.0", .group = "cluster", .complexity = "O(N) where N is the number of slots",
    },
    {
        .name = "getslotmigrations", .arity = 2, .flags = CMD_ADMIN | CMD_STALE,
        .flag_names = "admin stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_getslotmigrations,
        .summary = "Lists in-progress and recent atomic slot migrations",
        .since = "9.0.0", .group = "cluster", .complexity = "O(N) where N is the number of migrations",
    },
    {
        .name = "cancelslotmigrations", .arity = 2, .flags = CMD_ADMIN | CMD_STALE,
        .flag_names = "admin stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_cancelslotmigrations,
        .summary = "Cancels the atomic slot migrations this node exports",
        .since = "9.0.0", .group = "cluster", .complexity = "O(N) where N is the number of migrations",
    },
    {
        .name = "syncslots", .arity = -3, .flags = CMD_ADMIN | CMD_STALE,
        .flag_names = "admin stale",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_cluster_syncslots,
        .summary = "Internal: the conversation of an atomic slot migration",
        .since = "9.0.0", .group = "cluster", .complexity = "O(1)",
    },
    { .name = NULL },
};

cmd_def_t cmdtable_cluster[] = {
    {
        .name = "asking", .arity = 1, .flags = CMD_FAST, .flag_names = "fast",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "fast connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_asking,
        .summary = "Lets the next command reach a slot being imported, after an -ASK redirection",
        .since = "3.0.0", .group = "cluster", .complexity = "O(1)",
    },
    {
        .name = "readonly", .arity = 1, .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .flag_names = "loading stale fast",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "fast connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_readonly,
        .summary = "Lets this connection read from a cluster replica",
        .since = "3.0.0", .group = "cluster", .complexity = "O(1)",
    },
    {
        .name = "readwrite", .arity = 1, .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .flag_names = "loading stale fast",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "fast connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_readwrite,
        .summary = "Ends READONLY mode for this connection",
        .since = "3.0.0", .group = "cluster", .complexity = "O(1)",
    },
    {
        .name = "cluster", .arity = -2, .flags = 0, .flag_names = "",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .handler = NULL,
        .subcommands = subcommands_cluster,
        .summary = "Groups the commands that inspect and manage the cluster",
        .since = "3.0.0", .group = "cluster", .complexity = "Varies with the subcommand.",
    },
    { .name = NULL },
};

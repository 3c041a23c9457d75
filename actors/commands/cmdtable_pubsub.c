/* cmdtable_pubsub.c - table entries (data only) for the publish/subscribe
 * commands other than PUBLISH and SPUBLISH (cmdtable_server.c), and RESET,
 * as redis-server 7.0.15 reports them in COMMAND INFO and COMMAND DOCS. */
#include "actors/commands/cmd.h"
#include "actors/commands/commands.h"
#include "actors/worker/pubsub.h"

#define PS_FLAGS (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
#define PS_FLAG_NAMES "pubsub noscript loading stale"

static const cmd_arg_doc_t args_subscribe[] = {
    { .name = "channel", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};
static const cmd_arg_doc_t args_unsubscribe[] = {
    { .name = "channel", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
};
static const cmd_arg_doc_t args_psubscribe_pattern[] = {
    { .name = "pattern", .type = "pattern", .key_spec_index = -1 },
};
static const cmd_arg_doc_t args_psubscribe[] = {
    { .name = "pattern", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE,
      .subargs = args_psubscribe_pattern, .subarg_count = 1 },
};
static const cmd_arg_doc_t args_punsubscribe[] = {
    { .name = "pattern", .type = "pattern", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
};
static const cmd_arg_doc_t args_ssubscribe[] = {
    { .name = "shardchannel", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};
static const cmd_arg_doc_t args_sunsubscribe[] = {
    { .name = "shardchannel", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
};
static const cmd_keyspec_t keyspecs_shard[] = {
    { .flags = "not_key", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 0 },
};
static const cmd_arg_doc_t args_pattern_opt[] = {
    { .name = "pattern", .type = "pattern", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL },
};
static const cmd_arg_doc_t args_numsub[] = {
    { .name = "channel", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
};
static const cmd_arg_doc_t args_shardnumsub[] = {
    { .name = "shardchannel", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
};

#define PUBSUB_FANOUT(start_fn) \
    { .start = start_fn, .part = pubsub_introspect_part, .merge = pubsub_introspect_merge, .reply = pubsub_introspect_reply }

static cmd_def_t subcommands_pubsub[] = {
    {
        .name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
        .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_pubsub_help,
        .summary = "Show helpful text about the different subcommands",
        .since = "6.2.0", .group = "pubsub", .complexity = "O(1)",
    },
    {
        .name = "channels", .arity = -2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "pubsub loading stale",
        .acl_categories = "pubsub slow",
        .exec = CMD_EXEC_FANOUT, .handler = cmd_pubsub_fanout, .fanout = PUBSUB_FANOUT(cmd_pubsub_start),
        .summary = "List active channels",
        .since = "2.8.0", .group = "pubsub",
        .complexity = "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
        .args = args_pattern_opt, .arg_count = 1,
    },
    {
        .name = "numpat", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "pubsub loading stale",
        .acl_categories = "pubsub slow",
        .exec = CMD_EXEC_FANOUT, .handler = cmd_pubsub_fanout, .fanout = PUBSUB_FANOUT(NULL),
        .summary = "Get the count of unique patterns pattern subscriptions",
        .since = "2.8.0", .group = "pubsub", .complexity = "O(1)",
    },
    {
        .name = "numsub", .arity = -2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "pubsub loading stale",
        .acl_categories = "pubsub slow",
        .exec = CMD_EXEC_FANOUT, .handler = cmd_pubsub_fanout, .fanout = PUBSUB_FANOUT(NULL),
        .summary = "Get the count of subscribers for channels",
        .since = "2.8.0", .group = "pubsub",
        .complexity = "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
        .args = args_numsub, .arg_count = 1,
    },
    {
        .name = "shardchannels", .arity = -2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "pubsub loading stale",
        .acl_categories = "pubsub slow",
        .exec = CMD_EXEC_FANOUT, .handler = cmd_pubsub_fanout, .fanout = PUBSUB_FANOUT(cmd_pubsub_start),
        .summary = "List active shard channels",
        .since = "7.0.0", .group = "pubsub",
        .complexity = "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
        .args = args_pattern_opt, .arg_count = 1,
    },
    {
        .name = "shardnumsub", .arity = -2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "pubsub loading stale",
        .acl_categories = "pubsub slow",
        .exec = CMD_EXEC_FANOUT, .handler = cmd_pubsub_fanout, .fanout = PUBSUB_FANOUT(NULL),
        .summary = "Get the count of subscribers for shard channels",
        .since = "7.0.0", .group = "pubsub",
        .complexity = "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
        .args = args_shardnumsub, .arg_count = 1,
    },
    { .name = NULL },
};

cmd_def_t cmdtable_pubsub[] = {
    {
        .name = "subscribe", .arity = -2, .flags = PS_FLAGS, .flag_names = PS_FLAG_NAMES,
        .acl_categories = "pubsub slow",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_subscribe,
        .summary = "Listen for messages published to the given channels",
        .since = "2.0.0", .group = "pubsub", .complexity = "O(N) where N is the number of channels to subscribe to.",
        .args = args_subscribe, .arg_count = 1,
    },
    {
        .name = "unsubscribe", .arity = -1, .flags = PS_FLAGS, .flag_names = PS_FLAG_NAMES,
        .acl_categories = "pubsub slow",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_unsubscribe,
        .summary = "Stop listening for messages posted to the given channels",
        .since = "2.0.0", .group = "pubsub",
        .complexity = "O(N) where N is the number of clients already subscribed to a channel.",
        .args = args_unsubscribe, .arg_count = 1,
    },
    {
        .name = "psubscribe", .arity = -2, .flags = PS_FLAGS, .flag_names = PS_FLAG_NAMES,
        .acl_categories = "pubsub slow",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_psubscribe,
        .summary = "Listen for messages published to channels matching the given patterns",
        .since = "2.0.0", .group = "pubsub",
        .complexity = "O(N) where N is the number of patterns the client is already subscribed to.",
        .args = args_psubscribe, .arg_count = 1,
    },
    {
        .name = "punsubscribe", .arity = -1, .flags = PS_FLAGS, .flag_names = PS_FLAG_NAMES,
        .acl_categories = "pubsub slow",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_punsubscribe,
        .summary = "Stop listening for messages posted to channels matching the given patterns",
        .since = "2.0.0", .group = "pubsub",
        .complexity = "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
        .args = args_punsubscribe, .arg_count = 1,
    },
    {
        .name = "ssubscribe", .arity = -2, .flags = PS_FLAGS, .flag_names = PS_FLAG_NAMES,
        .first_key = 1, .last_key = -1, .key_step = 1, .acl_categories = "pubsub slow",
        .keyspecs = keyspecs_shard, .keyspec_count = 1,
        .exec = CMD_EXEC_CLIENT, .handler = cmd_ssubscribe,
        .summary = "Listen for messages published to the given shard channels",
        .since = "7.0.0", .group = "pubsub", .complexity = "O(N) where N is the number of shard channels to subscribe to.",
        .args = args_ssubscribe, .arg_count = 1,
    },
    {
        .name = "sunsubscribe", .arity = -1, .flags = PS_FLAGS, .flag_names = PS_FLAG_NAMES,
        .first_key = 1, .last_key = -1, .key_step = 1, .acl_categories = "pubsub slow",
        .keyspecs = keyspecs_shard, .keyspec_count = 1,
        .exec = CMD_EXEC_CLIENT, .handler = cmd_sunsubscribe,
        .summary = "Stop listening for messages posted to the given shard channels",
        .since = "7.0.0", .group = "pubsub",
        .complexity = "O(N) where N is the number of clients already subscribed to a shard channel.",
        .args = args_sunsubscribe, .arg_count = 1,
    },
    {
        .name = "pubsub", .arity = -2, .flags = 0, .flag_names = "",
        .acl_categories = "slow",
        .exec = CMD_EXEC_CLIENT, .handler = NULL,
        .subcommands = subcommands_pubsub,
        .summary = "A container for Pub/Sub commands",
        .since = "2.8.0", .group = "pubsub", .complexity = "Depends on subcommand.",
    },
    {
        .name = "reset", .arity = 1,
        .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY,
        .flag_names = "noscript loading stale fast no_auth allow_busy",
        .acl_categories = "fast connection",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_reset,
        .summary = "Reset the connection",
        .since = "6.2.0", .group = "connection", .complexity = "O(1)",
    },
    { .name = NULL },
};

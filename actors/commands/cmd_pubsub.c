/* cmd_pubsub.c - the publish/subscribe commands and RESET: argument and
 * cluster checks, then actors/worker/pubsub.c does the work.
 *
 * Must never: keep subscription state of its own (pubsub.c owns it).
 */
#include <stdio.h>
#include <string.h>

#include "actors/bus/gossip.h"
#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/repl/repl.h"
#include "actors/state/state.h"
#include "actors/worker/monitor.h"
#include "actors/worker/acl_gate.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/pubsub.h"
#include "actors/worker/tracking.h"
#include "proto/bus.h"
#include "proto/slot.h"

/* The confirmations of (un)subscribing are pushes, which 7.0.15 sends
 * whether the client's replies are on, off or skipped (client_reply_end);
 * not inside a transaction, whose reply is one array. */
static void pushes_only(cmd_ctx_t *ctx)
{
    if (ctx->client && !ctx->client->txn) ctx->client->flags |= CLIENT_PUSHED;
}

void cmd_subscribe(cmd_ctx_t *ctx)
{
    pushes_only(ctx);
    pubsub_subscribe(ctx->client, PUBSUB_CHANNEL, ctx->argc, ctx->argv, ctx->argvlen, ctx->reply);
}

void cmd_psubscribe(cmd_ctx_t *ctx)
{
    pushes_only(ctx);
    pubsub_subscribe(ctx->client, PUBSUB_PATTERN, ctx->argc, ctx->argv, ctx->argvlen, ctx->reply);
}

void cmd_unsubscribe(cmd_ctx_t *ctx)
{
    pushes_only(ctx);
    pubsub_unsubscribe(ctx->client, PUBSUB_CHANNEL, ctx->argc, ctx->argv, ctx->argvlen, ctx->reply);
}

void cmd_punsubscribe(cmd_ctx_t *ctx)
{
    pushes_only(ctx);
    pubsub_unsubscribe(ctx->client, PUBSUB_PATTERN, ctx->argc, ctx->argv, ctx->argvlen, ctx->reply);
}

/* Where a shard channel command may run, as 7.0.15's getNodeByQuery judges
 * SSUBSCRIBE, SUNSUBSCRIBE and SPUBLISH: every channel in one slot, the slot
 * served, the cluster up (or cluster-allow-pubsubshard-when-down), and this
 * node its master or one of the master's replicas; else the error. */
static bool shard_route_ok(cmd_ctx_t *ctx, int first, int last)
{
    if (!config_cluster_enabled() || last < first) return true;
    const cluster_snapshot_t *s = worker_snapshot(ctx->worker);
    if (!s) return true;
    unsigned slot = slot_of_key(ctx->argv[first], ctx->argvlen[first]);
    int owner = s->slot_owner[slot];
    if (owner < 0) {
        resp_add_error(ctx->reply, "CLUSTERDOWN Hash slot not served");
        return false;
    }
    for (int i = first + 1; i <= last; i++)
        if (slot_of_key(ctx->argv[i], ctx->argvlen[i]) != slot) {
            resp_add_error(ctx->reply, "CROSSSLOT Keys in request don't hash to the same slot");
            return false;
        }
    if (!s->state_ok && !config_get_num(CONFIG_CLUSTER_ALLOW_PUBSUBSHARD_WHEN_DOWN)) {
        resp_add_error(ctx->reply, "CLUSTERDOWN The cluster is down");
        return false;
    }
    const node_view_t *me = &s->nodes[s->myself];
    if (owner == s->myself) return true;
    if (s->importing_from[slot] >= 0 && ctx->client && (ctx->client->flags & CLIENT_ASKING)) return true;
    if ((me->flags & NODE_SLAVE) && me->master == owner) return true;
    const node_view_t *o = &s->nodes[owner];
    resp_add_errorf(ctx->reply, "MOVED %u %s:%d", slot, dispatch_endpoint(o), dispatch_port(ctx->client, o));
    return false;
}

void cmd_ssubscribe(cmd_ctx_t *ctx)
{
    if (!shard_route_ok(ctx, 1, ctx->argc - 1)) return;
    pushes_only(ctx);
    pubsub_subscribe(ctx->client, PUBSUB_SHARD, ctx->argc, ctx->argv, ctx->argvlen, ctx->reply);
}

void cmd_sunsubscribe(cmd_ctx_t *ctx)
{
    if (!shard_route_ok(ctx, 1, ctx->argc - 1)) return;
    pushes_only(ctx);
    pubsub_unsubscribe(ctx->client, PUBSUB_SHARD, ctx->argc, ctx->argv, ctx->argvlen, ctx->reply);
}

/* In cluster mode the message also travels the bus as 7.0.15 sends it: to
 * every node (PUBLISH) or to our shard (SPUBLISH), whose subscribers get it
 * there. Without cluster mode it goes down the replication stream instead
 * (to the replicas, not to the AOF: 7.0.15's forceCommandPropagation with
 * PROPAGATE_REPL), so a replica's subscribers get it, in the stream's
 * order. The reply counts this node's receivers only, as 7.0.15's. */
static void publish(cmd_ctx_t *ctx, bool shard)
{
    const cluster_snapshot_t *s = ctx->worker ? worker_snapshot(ctx->worker) : NULL;
    if (config_cluster_enabled()) {
        if (s)
            gossip_publish(s, shard ? BUS_PUBLISHSHARD : BUS_PUBLISH, ctx->argv[1], ctx->argvlen[1], ctx->argv[2],
                           ctx->argvlen[2], ctx->client ? txn_link_floor(ctx->client) : 0);
    } else if (ctx->worker && ctx->ks && !ctx->from_master && repl_worker_propagates(ctx->ks) &&
               !txn_publish_travels(ctx->client)) {   /* else it goes with its transaction's keyed run (multi.c) */
        repl_propagate_replicas_only(worker_repl(ctx->worker), ctx->argc, ctx->argv, ctx->argvlen);
    }
    pubsub_publish_cmd(ctx, shard);
}

void cmd_publish(cmd_ctx_t *ctx) { publish(ctx, false); }

void cmd_spublish(cmd_ctx_t *ctx)
{
    if (!shard_route_ok(ctx, 1, 1)) return;
    publish(ctx, true);
}

void cmd_pubsub_help(cmd_ctx_t *ctx)
{
    static const char *lines[] = {
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    };
    arg_reply_help(ctx, lines, sizeof lines / sizeof lines[0]);
}

/* PUBSUB CHANNELS and SHARDCHANNELS take at most one pattern; 7.0.15 checks
 * that in the command, after the arity, with this error. */
bool cmd_pubsub_start(cmd_ctx_t *ctx)
{
    if (ctx->argc <= 3) return false;
    resp_add_errorf(ctx->reply, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try PUBSUB HELP.",
                    (int)(ctx->argvlen[1] > 128 ? 128 : ctx->argvlen[1]), (const char *)ctx->argv[1]);
    return true;
}

/* A client's PUBSUB subcommand runs as a fan-out (fanout.c), a part per
 * worker; this handler is reached by a script's call only, with every other
 * worker standing still for it (script_pubsub_needs_others), so it reads
 * their tables itself. */
void cmd_pubsub_fanout(cmd_ctx_t *ctx)
{
    const cmd_def_t *cmd = cmd_lookup_sub(cmd_lookup(ctx->argv[0], ctx->argvlen[0]), ctx->argv[1], ctx->argvlen[1]);
    if (cmd->fanout.start && cmd->fanout.start(ctx)) return;
    pubsub_introspect_whole(cmd, ctx->argc, ctx->argv, ctx->argvlen, ctx->reply);
}

bool script_pubsub_cmd(const cmd_def_t *cmd)
{
    return cmd->handler == cmd_publish || cmd->handler == cmd_spublish || cmd->handler == cmd_pubsub_fanout ||
           cmd->handler == cmd_pubsub_help;
}

bool script_pubsub_needs_others(const struct worker *w, const cmd_def_t *cmd, const uint8_t **argv,
                                const size_t *argvlen)
{
    if (workers_count() < 2) return false;
    if (cmd->handler == cmd_publish || cmd->handler == cmd_spublish)
        return pubsub_others_may_hold(w, cmd->handler == cmd_spublish, argv[1], argvlen[1]);
    return cmd->exec == CMD_EXEC_FANOUT;
}

void cmd_reset(cmd_ctx_t *ctx)
{
    client_t *c = ctx->client;
    /* 7.0.15 clearClientConnectionState: transaction and WATCH gone, RESP2,
     * default authentication, no subscription (and no message about it), no
     * name, no ASKING/READONLY. */
    multi_reset(c);
    watch_list_clear(&c->watch);
    c->watch_slot = -1;
    c->watch_multi = false;
    c->proto = 2;
    c->out.proto = 2;
    c->db = 0;                    /* back to database 0, as 7.0.15's RESET */
    acl_gate_set_default(c);      /* the default user, authenticated only when it needs no password */
    pubsub_client_reset(c);
    tracking_client_reset(c);     /* 7.0.15 disables tracking too */
    monitor_remove(c);            /* and ends MONITOR */
    c->name[0] = '\0';
    c->flags &= ~(CLIENT_ASKING | CLIENT_READONLY | CLIENT_PUBSUB | CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP_NEXT);
    ctx->reply->proto = 2;
    resp_add_simple(ctx->reply, "RESET");
}

/* standalone.c - the one-node snapshot of a node without cluster mode, and
 * REPLICAOF / SLAVEOF (see standalone.h).
 *
 * Why a snapshot and not a second code path: the role is read in many places
 * (routing, expiry on replicas, the replication cron, the replica link, INFO,
 * ROLE, HELLO) and all of them already read it from the cluster snapshot.
 * Publishing the same kind of snapshot here keeps one way to ask "am I a
 * replica, and of whom", whatever the mode.
 *
 * Must never: be used in cluster mode (CLUSTER REPLICATE is the way there),
 * or publish from a thread other than main (first snapshot) and this actor.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/worker/client.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "actors/repl/repl.h"
#include "actors/repl/repl_replica.h"
#include "actors/repl/standalone.h"
#include "actors/state/state.h"
#include "actors/worker/worker.h"
#include "actors/commands/args.h"
#include "runtime/log.h"
#include "runtime/random.h"
#include "runtime/xmalloc.h"

enum { SA_MSG_REPLICAOF = 1, SA_MSG_FAILOVER, SA_MSG_PROMOTE };

typedef struct sa_promote_msg {
    rt_msg_t hdr;
    uint64_t client_id;
    void (*done)(void *arg);
    void *arg;
} sa_promote_msg_t;

static struct {
    rt_actor_t actor;
    bool started;
    uint64_t version;
    char my_name[NODE_NAME_LEN + 1];
    char master_name[NODE_NAME_LEN + 1];
    /* who we follow; master_host[0] == '\0' when we are a master */
    char master_host[256];        /* as the user wrote it (compared by REPLICAOF) */
    char master_ip[INET6_ADDRSTRLEN];           /* what the replica link connects to (master_address) */
    int master_port;
} SA;

static void snapshot_free(void *obj)
{
    cluster_snapshot_t *s = obj;
    free(s->nodes);
    free(s);
}

/* The master's address as the replica link, INFO and ROLE show it: the host
 * as the user wrote it (a name is resolved by the link at each connect, as
 * Redis does), or its first address when the name is too long for the
 * field. A name that does not resolve is kept; the link reports it as it
 * retries, as Redis does for an unreachable master. */
static void master_address(const char *host, char *ip, size_t cap)
{
    if (strlen(host) < cap) {
        snprintf(ip, cap, "%s", host);
        return;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) == 0 && res) {
        void *addr = res->ai_family == AF_INET ? (void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr
                                               : (void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
        if (!inet_ntop(res->ai_family, addr, ip, (socklen_t)cap)) snprintf(ip, cap, "%s", host);
        freeaddrinfo(res);
        return;
    }
    snprintf(ip, cap, "%s", host);
}

static void publish(void)
{
    bool replica = SA.master_host[0] != '\0';
    int n = replica ? 2 : 1;
    cluster_snapshot_t *s = xcalloc(1, sizeof *s);
    /* the master's hostname rides after the views, freed with them */
    size_t hl = strlen(SA.master_host);
    s->nodes = xcalloc(1, sizeof *s->nodes * (size_t)n + hl + 1);
    char *host = (char *)(s->nodes + n);
    memcpy(host, SA.master_host, hl + 1);
    s->version = ++SA.version;
    s->myself = 0;
    s->node_count = n;
    node_view_t *me = &s->nodes[0];
    memcpy(me->name, SA.my_name, sizeof me->name);
    me->port = config_port();
    me->flags = NODE_MYSELF | (replica ? NODE_SLAVE : NODE_MASTER);
    me->master = replica ? 1 : -1;
    me->link_connected = true;
    me->hostname = "";
    if (replica) {
        node_view_t *m = &s->nodes[1];
        memcpy(m->name, SA.master_name, sizeof m->name);
        snprintf(m->ip, sizeof m->ip, "%s", SA.master_ip);
        m->hostname = host;
        m->port = SA.master_port;
        m->flags = NODE_MASTER;
        m->master = -1;
        memcpy(me->master_name, SA.master_name, sizeof me->master_name);
    }
    /* No slot belongs to anyone: routing does not look at slots without
     * cluster mode (dispatch.c), and nothing else may. */
    for (int i = 0; i < SLOT_COUNT; i++) s->slot_owner[i] = s->migrating_to[i] = s->importing_from[i] = -1;
    s->state_ok = true;
    s->created_ms = rt_now_ms();
    rt_log_set_role(replica ? 'S' : 'M');
    rt_snap_publish(&g_cluster_snapshot, s);
    repl_replica_check();              /* the replica link follows this master now */
    if (SA.started) repl_role_changed();
}

/* Makes us follow host:port, or a master again when host is NULL. */
static void set_master(const char *host, int port)
{
    /* CONFIG GET replicaof and CONFIG REWRITE show the master we follow now. */
    config_record_replicaof(host, port);
    if (!host) {
        SA.master_host[0] = '\0';
        SA.master_ip[0] = '\0';
        SA.master_port = 0;
    } else {
        snprintf(SA.master_host, sizeof SA.master_host, "%s", host);
        master_address(host, SA.master_ip, sizeof SA.master_ip);
        SA.master_port = port;
        /* A new name per master: the replica link drops its connection and
         * starts over whenever the master it follows changes. */
        rt_random_hex(SA.master_name, NODE_NAME_LEN);
    }
    publish();
}

int standalone_publish_initial(void)
{
    rt_random_hex(SA.my_name, NODE_NAME_LEN);
    rt_snap_init(&g_cluster_snapshot, NULL, snapshot_free);
    /* The replicaof directive: "host port", already checked by the loader. */
    char buf[512] = "";
    if (config_get_by_name("replicaof", buf, sizeof buf) >= 0 && buf[0]) {
        char host[256];
        int port;
        if (sscanf(buf, "%255s %d", host, &port) == 2 && strcasecmp(host, "no") != 0) {
            set_master(host, port);
            goto hand_off;
        }
    }
    set_master(NULL, 0);
hand_off:
    /* Every later snapshot comes from the replication thread, started after this. */
    rt_snap_writer_release(&g_cluster_snapshot);
    return 0;
}

void standalone_follow(const char *host, int port) { set_master(host, port); }

static void behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    if (msg->type == SA_MSG_PROMOTE) {
        sa_promote_msg_t *p = (sa_promote_msg_t *)msg;
        if (SA.master_host[0]) {
            set_master(NULL, 0);
            LOG_NOTICE("MASTER MODE enabled (failover request from 'id=%llu')", (unsigned long long)p->client_id);
        }
        p->done(p->arg);
        free(p);
        return;
    }
    if (msg->type == SA_MSG_FENCED) {
        sa_failover_fenced(msg);
        return;
    }
    remote_cmd_t *rc = (remote_cmd_t *)msg;
    if (msg->type == SA_MSG_FAILOVER) {
        sa_failover_request(rc, SA.master_host[0] != '\0', self);
        return;
    }
    queued_cmd_t *q = &rc->cmds[0];
    char host[256];
    size_t hl = q->argvlen[1] < sizeof host - 1 ? q->argvlen[1] : sizeof host - 1;
    memcpy(host, q->argv[1], hl);
    host[hl] = '\0';
    long long port = 0;
    bool no_one = !strcasecmp(host, "no") && arg_is(q->argv[2], q->argvlen[2], "one");
    if (no_one) {
        if (SA.master_host[0]) {
            set_master(NULL, 0);
            LOG_NOTICE("MASTER MODE enabled (user request from 'id=%llu')", (unsigned long long)rc->client_id);
        }
        resp_add_simple(&rc->reply, "OK");
    } else {
        ks_str_to_ll(q->argv[2], q->argvlen[2], &port);   /* checked on the worker */
        if (SA.master_host[0] && !strcasecmp(SA.master_host, host) && SA.master_port == port) {
            LOG_NOTICE("REPLICAOF would result into synchronization with the master we are already connected "
                       "with. No operation performed.");
            resp_add_simple(&rc->reply, "OK Already connected to specified master");
        } else {
            set_master(host, (int)port);
            LOG_NOTICE("REPLICAOF %s:%d enabled (user request from 'id=%llu')", SA.master_host, SA.master_port,
                       (unsigned long long)rc->client_id);
            resp_add_simple(&rc->reply, "OK");
        }
    }
    worker_reply_async(rc);
}

void standalone_start(rt_thread_t *thread)
{
    rt_actor_init(&SA.actor, thread, "standalone", behaviour, NULL);
    SA.started = true;
}

void cmd_replicaof(cmd_ctx_t *ctx)
{
    if (config_cluster_enabled() || !SA.started) {
        resp_add_error(ctx->reply, "ERR REPLICAOF not allowed in cluster mode.");
        return;
    }
    if (sa_failover_state() != SA_FO_NONE) {
        resp_add_error(ctx->reply, "ERR REPLICAOF not allowed while failing over.");
        return;
    }
    bool no_one = arg_is_at(ctx, 1, "no") && arg_is_at(ctx, 2, "one");
    if (!no_one) {
        long long port;
        if (!ks_str_to_ll(ctx->argv[2], ctx->argvlen[2], &port) || port < 0 || port > 65535) {
            resp_add_error(ctx->reply, "ERR Invalid master port");
            return;
        }
    }
    /* The client waits for the new snapshot: its next command sees the new role. */
    remote_cmd_t *rc = dispatch_defer_nosend(ctx, SA_MSG_REPLICAOF);
    rc->client_id = ctx->client->id;
    rt_send(&SA.actor, &rc->hdr);
}

void standalone_failover_send(cmd_ctx_t *ctx)
{
    remote_cmd_t *rc = dispatch_defer_nosend(ctx, SA_MSG_FAILOVER);
    rc->client_id = ctx->client->id;
    rt_send(&SA.actor, &rc->hdr);
}

void standalone_promote(uint64_t client_id, void (*done)(void *arg), void *arg)
{
    sa_promote_msg_t *p = xcalloc(1, sizeof *p);
    p->hdr.type = SA_MSG_PROMOTE;
    p->client_id = client_id;
    p->done = done;
    p->arg = arg;
    rt_send(&SA.actor, &p->hdr);
}

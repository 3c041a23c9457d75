/* state_bus_cmds.c - the CLUSTER subcommands that manage the node table
 * through the bus, applied by the state actor: MEET (a handshake record and
 * a link to it), FORGET (and its 60 s blacklist), REPLICATE (a role change
 * announced with a PONG broadcast).
 *
 * Must never: reply before the state change it reports is visible in the
 * snapshot (state_reply publishes first).
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "actors/state/state_internal.h"
#include "proto/strnum.h"
#include "runtime/random.h"

static bool parse_port(const uint8_t *s, size_t n, long *out)
{
    long long v;
    if (!str_to_ll(s, n, &v) || v < LONG_MIN || v > LONG_MAX) return false;   /* as getLongLongFromObject */
    *out = (long)v;
    return true;
}

static void cmd_meet(state_t *st, remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    resp_buf_t *r = &rc->reply;
    if (q->argc != 4 && q->argc != 5) {
        resp_add_errorf(r, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try CLUSTER HELP.",
                        (int)q->argvlen[1], (const char *)q->argv[1]);
        state_reply(st, rc);
        return;
    }
    long port, cport;
    if (!parse_port(q->argv[3], q->argvlen[3], &port)) {
        resp_add_errorf(r, "ERR Invalid TCP base port specified: %.*s", (int)q->argvlen[3], (const char *)q->argv[3]);
        state_reply(st, rc);
        return;
    }
    if (q->argc == 5) {
        if (!parse_port(q->argv[4], q->argvlen[4], &cport)) {
            resp_add_errorf(r, "ERR Invalid TCP bus port specified: %.*s", (int)q->argvlen[4], (const char *)q->argv[4]);
            state_reply(st, rc);
            return;
        }
    } else {
        cport = port + BUS_PORT_OFFSET;
    }
    char ipbuf[64], norm[INET6_ADDRSTRLEN];
    size_t l = q->argvlen[2] < sizeof ipbuf - 1 ? q->argvlen[2] : sizeof ipbuf - 1;
    memcpy(ipbuf, q->argv[2], l);
    ipbuf[l] = '\0';
    unsigned char addr[16];
    bool ok = false;
    if (inet_pton(AF_INET, ipbuf, addr) == 1) ok = inet_ntop(AF_INET, addr, norm, sizeof norm) != NULL;
    else if (inet_pton(AF_INET6, ipbuf, addr) == 1) ok = inet_ntop(AF_INET6, addr, norm, sizeof norm) != NULL;
    if (!ok || port <= 0 || port > 65535 || cport <= 0 || cport > 65535) {
        resp_add_errorf(r, "ERR Invalid node address specified: %.*s:%.*s", (int)q->argvlen[2],
                        (const char *)q->argv[2], (int)q->argvlen[3], (const char *)q->argv[3]);
        state_reply(st, rc);
        return;
    }
    for (int i = 0; i < st->node_count; i++) {
        state_node_t *n = &st->nodes[i];
        if ((n->flags & NODE_HANDSHAKE) && !strcmp(n->ip, norm) && n->port == port && n->cport == cport) {
            resp_add_simple(r, "OK");
            state_reply(st, rc);
            return;
        }
    }
    char name[NODE_NAME_LEN + 1];
    rt_random_hex(name, NODE_NAME_LEN);
    int k = state_add_node(st, name, NODE_HANDSHAKE | NODE_MEET);
    if (k < 0) {
        state_table_full(st, "a node named by CLUSTER MEET");
        resp_add_errorf(r, "ERR the node table is full (%d nodes)", STATE_MAX_NODES);
        state_reply(st, rc);
        return;
    }
    state_node_t *n = &st->nodes[k];
    state_set_ip(n->ip, norm);
    n->port = (int)port;
    n->cport = (int)cport;
    n->ctime_ms = rt_now_ms();
    /* Connect now rather than on the next tick. */
    state_out_connect(st, k, rt_now_ms());
    st->dirty_snapshot = true;
    resp_add_simple(r, "OK");
    state_reply(st, rc);
}

static void cmd_forget(state_t *st, remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    resp_buf_t *r = &rc->reply;
    int idx = state_find(st, (const char *)q->argv[2], q->argvlen[2]);
    if (idx < 0) {
        resp_add_errorf(r, "ERR Unknown node %.*s", (int)q->argvlen[2], (const char *)q->argv[2]);
    } else if (idx == st->myself) {
        resp_add_error(r, "ERR I tried hard but I can't forget myself...");
    } else if ((st->nodes[st->myself].flags & NODE_SLAVE) && st->nodes[st->myself].master == idx) {
        resp_add_error(r, "ERR Can't forget my master!");
    } else {
        state_blacklist_add(st, st->nodes[idx].name);
        state_del_node(st, idx);
        state_save_config(st);
        resp_add_simple(r, "OK");
    }
    state_reply(st, rc);
}

static void cmd_replicate(state_t *st, remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    resp_buf_t *r = &rc->reply;
    int idx = state_find(st, (const char *)q->argv[2], q->argvlen[2]);
    state_node_t *me = &st->nodes[st->myself];
    if (idx < 0) {
        resp_add_errorf(r, "ERR Unknown node %.*s", (int)q->argvlen[2], (const char *)q->argv[2]);
    } else if (idx == st->myself) {
        resp_add_error(r, "ERR Can't replicate myself");
    } else if (st->nodes[idx].flags & NODE_SLAVE) {
        resp_add_error(r, "ERR I can only replicate a master, not a replica.");
    } else if ((me->flags & NODE_MASTER) && (me->slot_count > 0 || state_total_keys() > 0)) {
        resp_add_error(r, "ERR To set a master the node must be empty and without assigned slots.");
    } else {
        int old = me->master;
        me->flags = (uint16_t)((me->flags & ~(NODE_MASTER | NODE_MIGRATE_TO)) | NODE_SLAVE);
        me->master = idx;
        state_fo_replica_changed(st, st->myself, old);
        for (int s = 0; s < SLOT_COUNT; s++) { st->migrating_to[s] = -1; st->importing_from[s] = -1; }
        state_save_config(st);   /* without fsync, as 7.0.15's CLUSTER REPLICATE */
        resp_add_simple(r, "OK");
        /* Tell everyone at once (a PONG broadcast), as a role change does. */
        state_broadcast_pong(st);
    }
    state_reply(st, rc);
}

bool state_bus_command(state_t *st, remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    const char *n = q->cmd->name;
    if (!strcmp(n, "meet")) { cmd_meet(st, rc); return true; }
    if (!strcmp(n, "forget")) { cmd_forget(st, rc); return true; }
    if (!strcmp(n, "replicate")) { cmd_replicate(st, rc); return true; }
    return false;
}

/* state_cron.c - the state actor's 100 ms cluster cron (docs/cluster-bus.md §5.10), run by the
 * state actor's timer on the state thread: reconnects, handshake timeouts,
 * the once-a-second random PING, keep-alive PINGs at node_timeout/2,
 * stale-link recycling and PFAIL marking. Frames are built from the freshly
 * published snapshot (gossip.c) and left in the state's outbox, which the
 * actor's timer callback flushes to the links after the tick.
 *
 * Why not an actor of its own (docs/design.md §6): the cron is the state
 * actor's own timer. It needs ping_sent/pong_received/link ids, which the
 * state actor owns, and a separate actor would have to report every PING it
 * sends back to the state actor; keeping it here removes that round trip.
 *
 * Must never: block, or send anywhere but through the outbox (state_outbox.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/config/config.h"
#include "actors/state/state_internal.h"
#include "runtime/log.h"
#include "proto/nodes_conf.h"

void state_send_ping(state_t *st, int idx, unsigned type);

void state_refresh_myself(state_t *st)
{
    state_node_t *me = &st->nodes[st->myself];
    char host[256] = "";
    config_cluster_announce_hostname(host, sizeof host);
    if (strcmp(host, me->hostname) != 0) {
        snprintf(me->hostname, sizeof me->hostname, "%s", host);
        st->dirty_snapshot = true;
        st->save_pending = true;
    }
    /* cluster-replica-no-failover shows as our NOFAILOVER flag (gossiped, 3.8). */
    uint16_t nofailover = config_get_num(CONFIG_CLUSTER_REPLICA_NO_FAILOVER) ? NODE_NOFAILOVER : 0;
    if ((me->flags & NODE_NOFAILOVER) != nofailover) {
        me->flags = (uint16_t)((me->flags & ~NODE_NOFAILOVER) | nofailover);
        st->dirty_snapshot = true;
        st->save_pending = true;
    }
    int port, pport, cport;
    config_cluster_announced_ports(&port, &pport, &cport);
    char ip[NODES_CONF_IP_SIZE] = "";   /* the size of a node's ip field */
    config_cluster_announce_ip(ip, sizeof ip);
    if (me->port != port || me->pport != pport || me->cport != cport || (ip[0] && strcmp(ip, me->ip) != 0)) {
        me->port = port;
        me->pport = pport;
        me->cport = cport;
        if (ip[0]) snprintf(me->ip, sizeof me->ip, "%s", ip);
        st->dirty_snapshot = true;
        st->save_pending = true;
    }
}

/* Faster failure detection: a peer just went PFAIL here. Reports already received
 * from other masters may make the quorum now (7.0.15 checks only when the
 * next gossip entry arrives), and a PING to every master (and to the
 * suspect's replicas) carries our PFAIL entry at once, so their reports
 * come back within a round trip instead of with the next random PINGs.
 * Safe: FAIL still needs the same quorum of masters' reports (5.11); this
 * only changes when it is checked and how soon the reports travel. */
static void speed_up_failure_reports(state_t *st, const int *idx, int n)
{
    for (int k = 0; k < n; k++) state_maybe_mark_fail(st, idx[k]);
    for (int i = 0; i < st->node_count; i++) {
        state_node_t *p = &st->nodes[i];
        if (i == st->myself || !p->out_link || (p->flags & (NODE_HANDSHAKE | NODE_NOADDR | NODE_PFAIL | NODE_FAIL)))
            continue;
        bool wanted = (p->flags & NODE_MASTER) != 0;
        for (int k = 0; k < n && !wanted; k++) wanted = p->master == idx[k];
        if (wanted) state_send_ping(st, i, BUS_PING);
    }
}

void state_tick(state_t *st)
{
    long long now = rt_now_ms();
    long long nt = config_cluster_node_timeout();
    long long handshake_timeout = nt > 1000 ? nt : 1000;
    st->tick++;
    state_refresh_myself(st);
    int pfail = 0;

    for (int i = 0; i < st->node_count; i++) {
        state_node_t *n = &st->nodes[i];
        if (i == st->myself || (n->flags & NODE_NOADDR)) continue;
        if (n->flags & NODE_PFAIL) pfail++;
        if ((n->flags & NODE_HANDSHAKE) && now - n->ctime_ms > handshake_timeout) {
            LOG_VERBOSE("Handshake with %s:%d timed out, forgetting the record", n->ip, n->port);
            state_del_node(st, i);
            i--;
            continue;
        }
        if (!n->out_link && n->ip[0] && n->cport > 0) {
            state_out_connect(st, i, now);
            st->dirty_snapshot = true;
        }
    }
    if (pfail != st->pfail_count) {
        st->pfail_count = pfail;
        st->dirty_snapshot = true;
    }

    /* About once a second, PING the least recently heard of 5 random records. */
    if (st->tick % 10 == 0 && st->node_count > 1) {
        int best = -1;
        for (int k = 0; k < 5; k++) {
            int i = (int)(random() % st->node_count);
            state_node_t *n = &st->nodes[i];
            if (i == st->myself || !n->out_link || n->ping_sent_ms != 0 || (n->flags & NODE_HANDSHAKE)) continue;
            if (best < 0 || n->pong_received_ms < st->nodes[best].pong_received_ms) best = i;
        }
        if (best >= 0) state_send_ping(st, best, BUS_PING);
    }

    bool pfail_set = false;
    int newly_pfail[16];
    int nnew = 0;
    for (int i = 0; i < st->node_count; i++) {
        state_node_t *n = &st->nodes[i];
        if (i == st->myself || (n->flags & (NODE_NOADDR | NODE_HANDSHAKE))) continue;
        if (n->out_link && now - n->out_link_ctime_ms > nt && n->ping_sent_ms && now - n->ping_sent_ms > nt / 2 &&
            now - state_data_received(st, i) > nt / 2) {
            /* The link looks dead although the node may be fine: reconnect. */
            state_out_close(st, n->out_link);
            n->out_link = 0;
            n->link_connected = false;
            st->dirty_snapshot = true;
        }
        if (n->out_link && n->ping_sent_ms == 0 && now - n->pong_received_ms > nt / 2) {
            state_send_ping(st, i, BUS_PING);
            continue;
        }
        if (n->ping_sent_ms == 0) continue;
        long long delay = now - n->ping_sent_ms;
        long long data_delay = now - state_data_received(st, i);
        if (data_delay < delay) delay = data_delay;
        if (delay > nt && !(n->flags & (NODE_PFAIL | NODE_FAIL))) {
            LOG_VERBOSE("*** NODE %.40s possibly failing", n->name);
            n->flags |= NODE_PFAIL;
            st->dirty_snapshot = true;
            pfail_set = true;
            if (nnew < (int)(sizeof newly_pfail / sizeof newly_pfail[0])) newly_pfail[nnew++] = i;
        }
    }
    if (pfail_set) {
        state_update_health(st);
        speed_up_failure_reports(st, newly_pfail, nnew);
    }
    state_fo_tick(st);
    state_asm_tick(st);

    if (st->announce_pending) {
        st->announce_pending = false;
        state_broadcast_pong(st);
    }
}

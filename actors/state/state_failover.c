/* state_failover.c - the state actor's part of failover (see
 * docs/cluster-bus.md §5.13-§5.16): voting on FAILOVER_AUTH_REQUEST, forwarding
 * ACKs to the elector, starting an election (new epoch, AUTH_REQUEST),
 * promotion and TAKEOVER, the master side of a manual failover (MFSTART,
 * write pause, PAUSED headers), CLUSTER FAILOVER, replica migration, and
 * MIGRATE_TO bookkeeping.
 *
 * Durability (docs/design.md §5): a vote's ACK, our own AUTH_REQUEST and
 * a promotion's announcement wait until the persister reports the config
 * version that records them (lastVoteEpoch, currentEpoch, our new role and
 * configEpoch) as durable. A promotion also holds back snapshot publication
 * until then, since links answer PINGs from the snapshot and would otherwise
 * announce the new configEpoch early.
 *
 * Must never: send an ACK, an AUTH_REQUEST or a promoted header before the
 * config that justifies it is on disk; vote twice in one epoch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/config/config.h"
#include "actors/failover/elector.h"
#include "actors/bus/gossip.h"
#include "actors/bus/link.h"
#include "actors/state/state_internal.h"
#include "actors/failover/wpause.h"
#include "actors/commands/args.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

#define MF_TIMEOUT_MS 5000
#define MF_SETTLE_MS 10       /* lets writes that passed the pause check reach the stream */

enum fo_action_kind { FO_ACT_ACK = 1, FO_ACT_AUTH_REQUEST, FO_ACT_ANNOUNCE };

typedef struct fo_action {
    struct fo_action *next;
    uint64_t seq;                 /* config version that must be durable first */
    int kind;
    char node[NODE_NAME_LEN + 1]; /* ACK: the requester; AUTH_REQUEST: the failed master */
    bool force;
} fo_action_t;

static void save_config(void)
{
    S.save_pending = true;
    S.dirty_snapshot = true;
}

/* Queues an action for when the save requested by this message is durable. */
static void after_durable(int kind, const char *node, bool force)
{
    fo_action_t *a = xcalloc(1, sizeof *a);
    a->seq = S.config_seq + 1;    /* the save that before_sleep requests next */
    a->kind = kind;
    if (node) memcpy(a->node, node, NODE_NAME_LEN + 1);
    a->force = force;
    fo_action_t **pp = &S.fo_actions;   /* FIFO */
    while (*pp) pp = &(*pp)->next;
    *pp = a;
    save_config();
}

bool state_fo_publish_held(void)
{
    return S.publish_hold_seq && S.durable_seq < S.publish_hold_seq;
}

void state_fo_header(bus_header_t *h)
{
    if (S.mf_end_ms && S.mf_paused_flag) h->mflags[0] |= BUS_MFLAG_PAUSED;
}

static void send_header_only(int to, unsigned type, uint8_t mflags)
{
    bus_header_t h;
    gossip_header(state_fresh_snapshot(), &h);
    h.mflags[0] |= mflags;
    uint8_t frame[BUS_HEADER_LEN];
    size_t len = 0;
    if (type == BUS_FAILOVER_AUTH_ACK) len = bus_build_auth_ack(frame, sizeof frame, &h);
    else if (type == BUS_MFSTART) len = bus_build_mfstart(frame, sizeof frame, &h);
    else if (type == BUS_FAILOVER_AUTH_REQUEST) len = bus_build_auth_request(frame, sizeof frame, &h);
    if (!len) return;
    if (to >= 0) state_send_to(to, frame, len);
    else state_broadcast(frame, len);
}

static void run_action(fo_action_t *a)
{
    int idx = state_find(a->node, NODE_NAME_LEN);
    switch (a->kind) {
    case FO_ACT_ACK:
        if (idx < 0) return;
        send_header_only(idx, BUS_FAILOVER_AUTH_ACK, 0);
        break;
    case FO_ACT_AUTH_REQUEST:
        /* FAIL goes first on the same links, so every voter has the master
         * FAIL when our request arrives (links deliver in order). */
        if (idx >= 0 && (S.nodes[idx].flags & NODE_FAIL)) state_broadcast_fail(idx);
        send_header_only(-1, BUS_FAILOVER_AUTH_REQUEST, a->force ? BUS_MFLAG_FORCEACK : 0);
        elector_send(ELECTOR_MSG_EPOCH, (long long)S.fo_election_epoch, false);
        break;
    case FO_ACT_ANNOUNCE:
        S.publish_hold_seq = 0;
        state_publish();
        state_broadcast_pong();
        elector_send(ELECTOR_MSG_PROMOTED, 0, false);
        break;
    default:
        break;
    }
}

void state_fo_durable(uint64_t seq)
{
    while (S.fo_actions && S.fo_actions->seq <= seq) {
        fo_action_t *a = S.fo_actions;
        S.fo_actions = a->next;
        run_action(a);
        free(a);
    }
}

/* ---------------- MIGRATE_TO (5.16) ---------------- */

void state_fo_replica_changed(int idx, int old_master)
{
    int m = S.nodes[idx].master;
    if (m >= 0 && m != old_master && !(S.nodes[m].flags & NODE_MIGRATE_TO)) {
        S.nodes[m].flags |= NODE_MIGRATE_TO;
        S.dirty_snapshot = true;
    }
    if (old_master >= 0 && old_master != m && old_master < S.node_count) {
        for (int i = 0; i < S.node_count; i++)
            if (S.nodes[i].master == old_master && i != idx) return;
        S.nodes[old_master].flags &= (uint16_t)~NODE_MIGRATE_TO;
        S.dirty_snapshot = true;
    }
}

/* ---------------- master side of a manual failover (5.15) ---------------- */

void state_fo_lost_mastership(void)
{
    if (!S.mf_end_ms) return;
    S.mf_end_ms = 0;
    S.mf_replica = -1;
    S.mf_paused_flag = false;
    rt_timer_stop(&S.mf_settle);
    wpause_until(0);
    S.dirty_snapshot = true;
}

static void mf_settled(rt_timer_t *t, void *arg)
{
    (void)t; (void)arg;
    if (!S.mf_end_ms || S.mf_replica < 0 || S.mf_replica >= S.node_count) return;
    /* Writes that passed the pause check before it was set have reached the
     * stream by now: our offset (read at publish) is the one to reach. */
    S.mf_paused_flag = true;
    S.dirty_snapshot = true;
    state_publish();
    state_send_ping(S.mf_replica, BUS_PING);
}

static void on_mfstart(int sender)
{
    state_node_t *n = &S.nodes[sender];
    if (!(n->flags & NODE_SLAVE) || n->master != S.myself) return;
    LOG_NOTICE("Manual failover requested by replica %.40s.", n->name);
    state_fo_lost_mastership();
    S.mf_end_ms = rt_now_ms() + MF_TIMEOUT_MS;
    S.mf_replica = sender;
    wpause_until(rt_mono_ms() + 2 * MF_TIMEOUT_MS);
    rt_timer_stop(&S.mf_settle);
    rt_timer_start(&S.mf_settle, S.actor.thread, MF_SETTLE_MS, 0, mf_settled, NULL);
}

void state_fo_tick(void)
{
    static bool migrate_to_loaded;
    if (!migrate_to_loaded) {
        /* MIGRATE_TO is not in nodes.conf: masters with replicas regain it. */
        migrate_to_loaded = true;
        for (int i = 0; i < S.node_count; i++)
            if (S.nodes[i].master >= 0) S.nodes[S.nodes[i].master].flags |= NODE_MIGRATE_TO;
    }
    if (!S.mf_end_ms) return;
    if (rt_now_ms() > S.mf_end_ms || !(S.nodes[S.myself].flags & NODE_MASTER)) {
        LOG_WARNING("Manual failover timed out.");
        state_fo_lost_mastership();
        return;
    }
    if (S.mf_paused_flag && S.mf_replica >= 0 && S.mf_replica < S.node_count) {
        S.dirty_snapshot = true;   /* a fresh offset in every PING */
        state_send_ping(S.mf_replica, BUS_PING);
    }
}

void state_fo_master_header(const bus_header_t *h)
{
    if (h->mflags[0] & BUS_MFLAG_PAUSED) elector_send(ELECTOR_MSG_MASTER_PAUSED, (long long)h->offset, false);
}

void state_fo_note_fail(int idx)
{
    const state_node_t *me = &S.nodes[S.myself];
    if (!(me->flags & NODE_SLAVE) || me->master != idx) return;
    if (S.dirty_snapshot) state_publish();   /* the elector reads the snapshot */
    elector_send(ELECTOR_MSG_POKE, 0, false);
}

/* ---------------- voting (5.14) ---------------- */

static void vote(int sender, const bus_header_t *h)
{
    state_node_t *me = &S.nodes[S.myself];
    state_node_t *n = &S.nodes[sender];
    if (!(me->flags & NODE_MASTER) || me->slot_count == 0) return;
    uint64_t req_epoch = h->current_epoch;
    if (req_epoch < S.current_epoch) {
        LOG_WARNING("Failover auth denied to %.40s: reqEpoch (%llu) < curEpoch(%llu)", n->name,
                    (unsigned long long)req_epoch, (unsigned long long)S.current_epoch);
        return;
    }
    if (S.last_vote_epoch == S.current_epoch) {
        LOG_WARNING("Failover auth denied to %.40s: already voted for epoch %llu", n->name,
                    (unsigned long long)S.current_epoch);
        return;
    }
    bool force = (h->mflags[0] & BUS_MFLAG_FORCEACK) != 0;
    int mi = n->master;
    if ((n->flags & NODE_MASTER) || mi < 0 || (!(S.nodes[mi].flags & NODE_FAIL) && !force)) {
        if (n->flags & NODE_MASTER) LOG_WARNING("Failover auth denied to %.40s: it is a master node", n->name);
        else if (mi < 0) LOG_WARNING("Failover auth denied to %.40s: I don't know its master", n->name);
        else LOG_WARNING("Failover auth denied to %.40s: its master is up", n->name);
        return;
    }
    long long now = rt_now_ms();
    long long nt = config_cluster_node_timeout();
    if (now - S.nodes[mi].voted_time_ms < nt * 2) {
        LOG_WARNING("Failover auth denied to %.40s: can't vote about this master before %lld milliseconds",
                    n->name, nt * 2 - (now - S.nodes[mi].voted_time_ms));
        return;
    }
    for (int s = 0; s < SLOT_COUNT; s++) {
        if (!bus_slot_test(h->myslots, (unsigned)s)) continue;
        int o = S.slot_owner[s];
        if (o < 0 || S.nodes[o].config_epoch <= h->config_epoch) continue;
        LOG_WARNING("Failover auth denied to %.40s: slot %d epoch (%llu) > reqEpoch (%llu)", n->name, s,
                    (unsigned long long)S.nodes[o].config_epoch, (unsigned long long)h->config_epoch);
        return;
    }
    S.last_vote_epoch = S.current_epoch;
    S.nodes[mi].voted_time_ms = now;
    LOG_NOTICE("Failover auth granted to %.40s for epoch %llu", n->name, (unsigned long long)S.current_epoch);
    after_durable(FO_ACT_ACK, n->name, false);   /* the ACK leaves once lastVoteEpoch is on disk */
}

void state_fo_frame(int sender, const bus_msg_t *m)
{
    if (sender < 0) return;
    const bus_header_t *h = &m->hdr;
    state_node_t *n = &S.nodes[sender];
    switch (h->type) {
    case BUS_FAILOVER_AUTH_REQUEST:
        vote(sender, h);
        break;
    case BUS_FAILOVER_AUTH_ACK:
        if ((n->flags & NODE_MASTER) && n->slot_count > 0 && S.fo_election_epoch &&
            h->current_epoch >= S.fo_election_epoch)
            elector_send(ELECTOR_MSG_ACK, (long long)S.fo_election_epoch, false);
        break;
    case BUS_MFSTART:
        on_mfstart(sender);
        break;
    default:
        break;
    }
}

/* ---------------- elections, promotion, migration ---------------- */

/* Takes over our master's slots as a master (5.13 step 6); the new
 * configuration is announced (published, PONG broadcast) once durable. */
static void promote_myself(int old_master)
{
    state_node_t *me = &S.nodes[S.myself];
    me->flags = (uint16_t)((me->flags & ~NODE_SLAVE) | NODE_MASTER);
    me->master = -1;
    for (int s = 0; s < SLOT_COUNT; s++)
        if (S.slot_owner[s] == old_master) {
            S.slot_owner[s] = (int16_t)S.myself;
            S.importing_from[s] = -1;
            S.migrating_to[s] = -1;
        }
    state_recount_slots();
    state_fo_replica_changed(S.myself, old_master);
    S.fo_election_epoch = 0;
    S.publish_hold_seq = S.config_seq + 1;
    S.save_fsync = true;
    after_durable(FO_ACT_ANNOUNCE, NULL, false);
}

/* 5.9 "bump without consensus". */
static void bump_epoch_without_consensus(void)
{
    state_node_t *me = &S.nodes[S.myself];
    uint64_t maxe = S.current_epoch;
    for (int i = 0; i < S.node_count; i++)
        if (S.nodes[i].config_epoch > maxe) maxe = S.nodes[i].config_epoch;
    if (me->config_epoch == 0 || me->config_epoch != maxe) {
        S.current_epoch++;
        me->config_epoch = S.current_epoch;
        S.slot_version++;
        LOG_NOTICE("New configEpoch set to %llu", (unsigned long long)me->config_epoch);
    }
}

void state_fo_request(state_fo_req_t *r)
{
    state_node_t *me = &S.nodes[S.myself];
    int m = r->master[0] ? state_find(r->master, NODE_NAME_LEN) : -1;
    bool my_master = (me->flags & NODE_SLAVE) && m >= 0 && me->master == m;
    switch (r->kind) {
    case STATE_FO_ELECTION:
        if (!my_master) break;
        S.current_epoch++;
        S.fo_election_epoch = S.current_epoch;
        S.save_fsync = true;
        after_durable(FO_ACT_AUTH_REQUEST, r->master, r->force);
        break;
    case STATE_FO_PROMOTE:
        if (!my_master || S.fo_election_epoch != r->epoch) break;
        if (me->config_epoch < r->epoch) me->config_epoch = r->epoch;
        LOG_NOTICE("configEpoch set to %llu after successful failover", (unsigned long long)me->config_epoch);
        promote_myself(m);
        break;
    case STATE_FO_PONG_SIBLINGS:
        if (!(me->flags & NODE_SLAVE) || me->master < 0) break;
        for (int i = 0; i < S.node_count; i++)
            if (i != S.myself && (S.nodes[i].flags & NODE_SLAVE) && S.nodes[i].master == me->master)
                state_send_ping(i, BUS_PONG);
        break;
    case STATE_FO_MIGRATE:
        if (!(me->flags & NODE_SLAVE) || m < 0 || m == S.myself || !(S.nodes[m].flags & NODE_MASTER)) break;
        {
            int old = me->master;
            me->master = m;
            state_fo_replica_changed(S.myself, old);
            save_config();
            S.save_fsync = true;
            state_broadcast_pong();
        }
        break;
    default:
        break;
    }
    free(r);
}

/* ---------------- CLUSTER FAILOVER [FORCE|TAKEOVER] ---------------- */

void state_fo_command(remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    resp_buf_t *r = &rc->reply;
    bool force = false, takeover = false;
    if (q->argc == 3 && arg_is(q->argv[2], q->argvlen[2], "force")) force = true;
    else if (q->argc == 3 && arg_is(q->argv[2], q->argvlen[2], "takeover")) takeover = true;
    else if (q->argc != 2) {
        resp_add_error(r, "ERR syntax error");
        state_reply(rc);
        return;
    }
    state_node_t *me = &S.nodes[S.myself];
    if (me->flags & NODE_MASTER) {
        resp_add_error(r, "ERR You should send CLUSTER FAILOVER to a replica");
    } else if (me->master < 0) {
        resp_add_error(r, "ERR I'm a replica but my master is unknown to me");
    } else if (!force && !takeover &&
               ((S.nodes[me->master].flags & NODE_FAIL) || !S.nodes[me->master].link_connected)) {
        resp_add_error(r, "ERR Master is down or failed, please use CLUSTER FAILOVER FORCE");
    } else if (takeover) {
        LOG_NOTICE("Taking over the master (user request).");
        bump_epoch_without_consensus();
        promote_myself(me->master);
        resp_add_simple(r, "OK");
        /* Answer once the new configuration is durable (and announced). */
        durable_wait_t *w = xcalloc(1, sizeof *w);
        w->seq = S.config_seq + 1;
        w->rc = rc;
        w->next = S.waits;
        S.waits = w;
        return;
    } else {
        if (force) {
            LOG_NOTICE("Forced failover user request accepted.");
        } else {
            LOG_NOTICE("Manual failover user request accepted.");
            send_header_only(me->master, BUS_MFSTART, 0);
        }
        elector_send(ELECTOR_MSG_MF_START, 0, force);
        resp_add_simple(r, "OK");
    }
    state_reply(rc);
}

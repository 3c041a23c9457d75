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
#include "actors/repl/repl.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

#define MF_TIMEOUT_MS 5000

enum fo_action_kind { FO_ACT_ACK = 1, FO_ACT_AUTH_REQUEST, FO_ACT_ANNOUNCE };

typedef struct fo_action {
    struct fo_action *next;
    uint64_t seq;                 /* config version that must be durable first */
    int kind;
    char node[NODE_NAME_LEN + 1]; /* ACK: the requester; AUTH_REQUEST: the failed master */
    bool force;
} fo_action_t;

/* Queues an action for when the save requested by this message is durable. */
static void after_durable(state_t *st, int kind, const char *node, bool force)
{
    fo_action_t *a = xcalloc(1, sizeof *a);
    a->seq = st->config_seq + 1;    /* the save that before_sleep requests next */
    a->kind = kind;
    if (node) memcpy(a->node, node, NODE_NAME_LEN + 1);
    a->force = force;
    fo_action_t **pp = &st->fo_actions;   /* FIFO */
    while (*pp) pp = &(*pp)->next;
    *pp = a;
    state_save_config(st);
    /* A vote, an election's epoch, a promotion: 7.0.15 fsyncs each. */
    st->save_fsync = true;
}

void state_hold_publish_until_saved(state_t *st)
{
    uint64_t seq = st->config_seq + 1;   /* the save requested at the end of this message */
    if (st->publish_hold_seq < seq) st->publish_hold_seq = seq;
    state_save_config(st);
    st->save_fsync = true;
}

bool state_fo_publish_held(state_t *st)
{
    return st->publish_hold_seq && st->durable_seq < st->publish_hold_seq;
}

void state_fo_header(state_t *st, bus_header_t *h)
{
    if (st->mf_end_ms && st->mf_paused_flag) h->mflags[0] |= BUS_MFLAG_PAUSED;
}

static void send_header_only(state_t *st, int to, unsigned type, uint8_t mflags)
{
    bus_header_t h;
    gossip_header(state_fresh_snapshot(st), &h);
    h.mflags[0] |= mflags;
    uint8_t frame[BUS_HEADER_LEN];
    size_t len = 0;
    if (type == BUS_FAILOVER_AUTH_ACK) len = bus_build_auth_ack(frame, sizeof frame, &h);
    else if (type == BUS_MFSTART) len = bus_build_mfstart(frame, sizeof frame, &h);
    else if (type == BUS_FAILOVER_AUTH_REQUEST) len = bus_build_auth_request(frame, sizeof frame, &h);
    if (!len) return;
    if (to >= 0) state_send_to(st, to, frame, len);
    else state_broadcast(st, frame, len);
}

static void run_action(state_t *st, fo_action_t *a)
{
    int idx = state_find(st, a->node, NODE_NAME_LEN);
    switch (a->kind) {
    case FO_ACT_ACK:
        if (idx < 0) return;
        send_header_only(st, idx, BUS_FAILOVER_AUTH_ACK, 0);
        break;
    case FO_ACT_AUTH_REQUEST:
        /* FAIL goes first on the same links, so every voter has the master
         * FAIL when our request arrives (links deliver in order). */
        if (idx >= 0 && (st->nodes[idx].flags & NODE_FAIL)) state_broadcast_fail(st, idx);
        send_header_only(st, -1, BUS_FAILOVER_AUTH_REQUEST, a->force ? BUS_MFLAG_FORCEACK : 0);
        state_out_elector(st, ELECTOR_MSG_EPOCH, (long long)st->fo_election_epoch, false);
        break;
    case FO_ACT_ANNOUNCE:
        if (st->durable_seq >= st->publish_hold_seq) st->publish_hold_seq = 0;   /* not a later bump's hold */
        state_publish(st);
        state_broadcast_pong(st);
        state_out_elector(st, ELECTOR_MSG_PROMOTED, 0, false);
        break;
    default:
        break;
    }
}

int state_fo_pending(const state_t *st)
{
    int n = 0;
    for (const fo_action_t *a = st->fo_actions; a; a = a->next) n++;
    return n;
}

void state_fo_free(state_t *st)
{
    while (st->fo_actions) {
        fo_action_t *a = st->fo_actions;
        st->fo_actions = a->next;
        free(a);
    }
}

void state_fo_durable(state_t *st, uint64_t seq)
{
    while (st->fo_actions && st->fo_actions->seq <= seq) {
        fo_action_t *a = st->fo_actions;
        st->fo_actions = a->next;
        run_action(st, a);
        free(a);
    }
}

/* ---------------- MIGRATE_TO (5.16) ---------------- */

void state_fo_replica_changed(state_t *st, int idx, int old_master)
{
    int m = st->nodes[idx].master;
    if (m >= 0 && m != old_master && !(st->nodes[m].flags & NODE_MIGRATE_TO)) {
        st->nodes[m].flags |= NODE_MIGRATE_TO;
        st->dirty_snapshot = true;
    }
    if (old_master >= 0 && old_master != m && old_master < st->node_count) {
        for (int i = 0; i < st->node_count; i++)
            if (st->nodes[i].master == old_master && i != idx) return;
        st->nodes[old_master].flags &= (uint16_t)~NODE_MIGRATE_TO;
        st->dirty_snapshot = true;
    }
}

/* ---------------- master side of a manual failover (5.15) ---------------- */

void state_fo_lost_mastership(state_t *st)
{
    if (!st->mf_end_ms) return;
    st->mf_end_ms = 0;
    st->mf_replica = -1;
    st->mf_paused_flag = false;
    st->mf_fence_gen++;           /* a fence still under way no longer counts */
    wpause_until(0);
    st->dirty_snapshot = true;
}

/* STATE_FO_MF_FENCED: every write admitted before the pause is in the
 * stream (repl_fence): our offset (read at publish) is the one to reach. */
static void mf_fenced(state_t *st, uint64_t gen)
{
    if (gen != st->mf_fence_gen || !st->mf_end_ms || st->mf_replica < 0 || st->mf_replica >= st->node_count)
        return;
    st->mf_paused_flag = true;
    st->dirty_snapshot = true;
    state_publish(st);
    state_send_ping(st, st->mf_replica, BUS_PING);
}

static void on_mfstart(state_t *st, int sender)
{
    state_node_t *n = &st->nodes[sender];
    if (!(n->flags & NODE_SLAVE) || n->master != st->myself) return;
    LOG_NOTICE("Manual failover requested by replica %.40s.", n->name);
    state_fo_lost_mastership(st);
    st->mf_end_ms = rt_now_ms() + MF_TIMEOUT_MS;
    st->mf_replica = sender;
    wpause_until(rt_mono_ms() + 2 * MF_TIMEOUT_MS);
    state_fo_req_t *done = xcalloc(1, sizeof *done);
    done->hdr.type = STATE_MSG_FAILOVER;
    done->kind = STATE_FO_MF_FENCED;
    done->epoch = ++st->mf_fence_gen;
    repl_fence(&st->actor, &done->hdr);
}

void state_fo_tick(state_t *st)
{
    if (!st->migrate_to_loaded) {
        /* MIGRATE_TO is not in nodes.conf: masters with replicas regain it. */
        st->migrate_to_loaded = true;
        for (int i = 0; i < st->node_count; i++)
            if (st->nodes[i].master >= 0) st->nodes[st->nodes[i].master].flags |= NODE_MIGRATE_TO;
    }
    if (!st->mf_end_ms) return;
    if (rt_now_ms() > st->mf_end_ms || !(st->nodes[st->myself].flags & NODE_MASTER)) {
        LOG_WARNING("Manual failover timed out.");
        state_fo_lost_mastership(st);
        return;
    }
    if (st->mf_paused_flag && st->mf_replica >= 0 && st->mf_replica < st->node_count) {
        st->dirty_snapshot = true;   /* a fresh offset in every PING */
        state_send_ping(st, st->mf_replica, BUS_PING);
    }
}

void state_fo_master_header(state_t *st, const bus_header_t *h)
{
    if (h->mflags[0] & BUS_MFLAG_PAUSED) state_out_elector(st, ELECTOR_MSG_MASTER_PAUSED, (long long)h->offset, false);
}

void state_fo_note_fail(state_t *st, int idx)
{
    const state_node_t *me = &st->nodes[st->myself];
    if (!(me->flags & NODE_SLAVE) || me->master != idx) return;
    if (st->dirty_snapshot) state_publish(st);   /* the elector reads the snapshot */
    state_out_elector(st, ELECTOR_MSG_POKE, 0, false);
}

/* ---------------- voting (5.14) ---------------- */

static void vote(state_t *st, int sender, const bus_header_t *h)
{
    state_node_t *me = &st->nodes[st->myself];
    state_node_t *n = &st->nodes[sender];
    if (!(me->flags & NODE_MASTER) || me->slot_count == 0) return;
    uint64_t req_epoch = h->current_epoch;
    if (req_epoch < st->current_epoch) {
        LOG_WARNING("Failover auth denied to %.40s: reqEpoch (%llu) < curEpoch(%llu)", n->name,
                    (unsigned long long)req_epoch, (unsigned long long)st->current_epoch);
        return;
    }
    if (st->last_vote_epoch == st->current_epoch) {
        LOG_WARNING("Failover auth denied to %.40s: already voted for epoch %llu", n->name,
                    (unsigned long long)st->current_epoch);
        return;
    }
    bool force = (h->mflags[0] & BUS_MFLAG_FORCEACK) != 0;
    int mi = n->master;
    if ((n->flags & NODE_MASTER) || mi < 0 || (!(st->nodes[mi].flags & NODE_FAIL) && !force)) {
        if (n->flags & NODE_MASTER) LOG_WARNING("Failover auth denied to %.40s: it is a master node", n->name);
        else if (mi < 0) LOG_WARNING("Failover auth denied to %.40s: I don't know its master", n->name);
        else LOG_WARNING("Failover auth denied to %.40s: its master is up", n->name);
        return;
    }
    long long now = rt_now_ms();
    long long nt = config_cluster_node_timeout();
    if (now - st->nodes[mi].voted_time_ms < nt * 2) {
        LOG_WARNING("Failover auth denied to %.40s: can't vote about this master before %lld milliseconds",
                    n->name, nt * 2 - (now - st->nodes[mi].voted_time_ms));
        return;
    }
    for (int s = 0; s < SLOT_COUNT; s++) {
        if (!bus_slot_test(h->myslots, (unsigned)s)) continue;
        int o = st->slot_owner[s];
        if (o < 0 || st->nodes[o].config_epoch <= h->config_epoch) continue;
        LOG_WARNING("Failover auth denied to %.40s: slot %d epoch (%llu) > reqEpoch (%llu)", n->name, s,
                    (unsigned long long)st->nodes[o].config_epoch, (unsigned long long)h->config_epoch);
        return;
    }
    st->last_vote_epoch = st->current_epoch;
    st->nodes[mi].voted_time_ms = now;
    LOG_NOTICE("Failover auth granted to %.40s for epoch %llu", n->name, (unsigned long long)st->current_epoch);
    after_durable(st, FO_ACT_ACK, n->name, false);   /* the ACK leaves once lastVoteEpoch is on disk */
}

void state_fo_frame(state_t *st, int sender, const bus_msg_t *m)
{
    if (sender < 0) return;
    const bus_header_t *h = &m->hdr;
    state_node_t *n = &st->nodes[sender];
    switch (h->type) {
    case BUS_FAILOVER_AUTH_REQUEST:
        vote(st, sender, h);
        break;
    case BUS_FAILOVER_AUTH_ACK:
        if ((n->flags & NODE_MASTER) && n->slot_count > 0 && st->fo_election_epoch &&
            h->current_epoch >= st->fo_election_epoch)
            state_out_elector(st, ELECTOR_MSG_ACK, (long long)st->fo_election_epoch, false);
        break;
    case BUS_MFSTART:
        on_mfstart(st, sender);
        break;
    default:
        break;
    }
}

/* ---------------- elections, promotion, migration ---------------- */

/* Takes over our master's slots as a master (5.13 step 6); the new
 * configuration is announced (published, PONG broadcast) once durable. */
static void promote_myself(state_t *st, int old_master)
{
    state_node_t *me = &st->nodes[st->myself];
    me->flags = (uint16_t)((me->flags & ~NODE_SLAVE) | NODE_MASTER);
    me->master = -1;
    for (int s = 0; s < SLOT_COUNT; s++)
        if (st->slot_owner[s] == old_master) {
            st->slot_owner[s] = (int16_t)st->myself;
            st->importing_from[s] = -1;
            st->migrating_to[s] = -1;
        }
    state_recount_slots(st);
    state_fo_replica_changed(st, st->myself, old_master);
    st->fo_election_epoch = 0;
    st->publish_hold_seq = st->config_seq + 1;
    after_durable(st, FO_ACT_ANNOUNCE, NULL, false);
}

/* 5.9 "bump without consensus". */
bool state_bump_epoch_without_consensus(state_t *st)
{
    state_node_t *me = &st->nodes[st->myself];
    uint64_t maxe = st->current_epoch;
    for (int i = 0; i < st->node_count; i++)
        if (st->nodes[i].config_epoch > maxe) maxe = st->nodes[i].config_epoch;
    if (me->config_epoch == 0 || me->config_epoch != maxe) {
        st->current_epoch++;
        me->config_epoch = st->current_epoch;
        st->slot_version++;
        state_hold_publish_until_saved(st);   /* fsynced before announced, as 7.0.15 */
        LOG_NOTICE("New configEpoch set to %llu", (unsigned long long)me->config_epoch);
        return true;
    }
    return false;
}

void state_fo_request(state_t *st, state_fo_req_t *r)
{
    state_node_t *me = &st->nodes[st->myself];
    int m = r->master[0] ? state_find(st, r->master, NODE_NAME_LEN) : -1;
    bool my_master = (me->flags & NODE_SLAVE) && m >= 0 && me->master == m;
    switch (r->kind) {
    case STATE_FO_ELECTION:
        if (!my_master) break;
        st->current_epoch++;
        st->fo_election_epoch = st->current_epoch;
        after_durable(st, FO_ACT_AUTH_REQUEST, r->master, r->force);
        break;
    case STATE_FO_PROMOTE:
        if (!my_master || st->fo_election_epoch != r->epoch) break;
        if (me->config_epoch < r->epoch) me->config_epoch = r->epoch;
        LOG_NOTICE("configEpoch set to %llu after successful failover", (unsigned long long)me->config_epoch);
        promote_myself(st, m);
        break;
    case STATE_FO_PONG_SIBLINGS:
        if (!(me->flags & NODE_SLAVE) || me->master < 0) break;
        for (int i = 0; i < st->node_count; i++)
            if (i != st->myself && (st->nodes[i].flags & NODE_SLAVE) && st->nodes[i].master == me->master)
                state_send_ping(st, i, BUS_PONG);
        break;
    case STATE_FO_MF_FENCED:
        mf_fenced(st, r->epoch);
        break;
    case STATE_FO_MIGRATE:
        if (!(me->flags & NODE_SLAVE) || m < 0 || m == st->myself || !(st->nodes[m].flags & NODE_MASTER)) break;
        {
            int old = me->master;
            me->master = m;
            state_fo_replica_changed(st, st->myself, old);
            state_save_config(st);   /* no fsync: 7.0.15 does not even save here */
            state_broadcast_pong(st);
        }
        break;
    default:
        break;
    }
    free(r);
}

/* ---------------- CLUSTER FAILOVER [FORCE|TAKEOVER] ---------------- */

void state_fo_command(state_t *st, remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    resp_buf_t *r = &rc->reply;
    bool force = false, takeover = false;
    if (q->argc == 3 && arg_is(q->argv[2], q->argvlen[2], "force")) force = true;
    else if (q->argc == 3 && arg_is(q->argv[2], q->argvlen[2], "takeover")) takeover = true;
    else if (q->argc != 2) {
        resp_add_error(r, "ERR syntax error");
        state_reply(st, rc);
        return;
    }
    state_node_t *me = &st->nodes[st->myself];
    if (me->flags & NODE_MASTER) {
        resp_add_error(r, "ERR You should send CLUSTER FAILOVER to a replica");
    } else if (me->master < 0) {
        resp_add_error(r, "ERR I'm a replica but my master is unknown to me");
    } else if (!force && !takeover &&
               ((st->nodes[me->master].flags & NODE_FAIL) || !st->nodes[me->master].link_connected)) {
        resp_add_error(r, "ERR Master is down or failed, please use CLUSTER FAILOVER FORCE");
    } else if (takeover) {
        LOG_NOTICE("Taking over the master (user request).");
        state_bump_epoch_without_consensus(st);
        promote_myself(st, me->master);
        resp_add_simple(r, "OK");
        /* Answer once the new configuration is durable (and announced). */
        durable_wait_t *w = xcalloc(1, sizeof *w);
        w->seq = st->config_seq + 1;
        w->rc = rc;
        w->next = st->waits;
        st->waits = w;
        return;
    } else {
        if (force) {
            LOG_NOTICE("Forced failover user request accepted.");
        } else {
            LOG_NOTICE("Manual failover user request accepted.");
            send_header_only(st, me->master, BUS_MFSTART, 0);
        }
        state_out_elector(st, ELECTOR_MSG_MF_START, 0, force);
        resp_add_simple(r, "OK");
    }
    state_reply(st, rc);
}

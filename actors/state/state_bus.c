/* state_bus.c - the cluster-bus rules the state actor applies to every frame
 * a link forwards (docs/cluster-bus.md §5.2-§5.9, §5.11, §5.18): sender lookup
 * and link binding, epochs, handshake and renaming, address updates, PONG
 * bookkeeping, role updates, slot ownership by configEpoch, UPDATE, FAIL,
 * gossip consumption, failure reports; plus the link events. Every rule takes
 * the state it works on (state_t *) and a decoded frame (state_bus_apply),
 * and leaves what must be sent or connected in the state's outbox.
 *
 * Must never: trust a name it did not validate, or send anything on a link
 * other than through the outbox (state_outbox.c).
 */
#include <stdio.h>
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "actors/bus/gossip.h"
#include "actors/config/config.h"
#include "actors/state/asm.h"
#include "actors/state/state_internal.h"
#include "proto/nodes_conf.h"
#include "runtime/log.h"
#include "runtime/random.h"
#include "runtime/xmalloc.h"

#define BLACKLIST_TTL_MS 60000

/* A gossiped pong time may be this far in our future and still be taken:
 * the clocks of two nodes differ a little (Redis allows the same 500 ms). */
#define GOSSIP_PONG_SKEW_MS 500

/* Copies an address into a node's ip field (an IPv6 text form fits). */
void state_set_ip(char *dst, const char *src)
{
    size_t l = strnlen(src, NODES_CONF_IP_SIZE - 1);
    memcpy(dst, src, l);
    dst[l] = '\0';
}



/* ---------------- node table helpers ---------------- */

int state_node_by_link(state_t *st, uint64_t link_id)
{
    if (!link_id) return -1;
    for (int i = 0; i < st->node_count; i++)
        if (st->nodes[i].out_link == link_id || st->nodes[i].in_link == link_id) return i;
    return -1;
}

static void fix_index(int16_t *v, int from, int to)
{
    if (*v == from) *v = (int16_t)to;
}

/* Removes node idx: closes its links, drops its slots and reports, and moves
 * the last record into its place (every index is fixed up). */
void state_del_node(state_t *st, int idx)
{
    state_node_t *n = &st->nodes[idx];
    if (n->out_link) state_out_close(st, n->out_link);
    if (n->in_link) state_out_close(st, n->in_link);
    free(n->reports);
    free(n->last_claim);
    state_live_release(st, n);
    /* reports by this node about others go too */
    for (int i = 0; i < st->node_count; i++) {
        state_node_t *o = &st->nodes[i];
        for (int k = 0; k < o->nreports; k++)
            if (!memcmp(o->reports[k].reporter, n->name, NODE_NAME_LEN)) {
                o->reports[k] = o->reports[--o->nreports];
                k--;
            }
    }
    for (int s = 0; s < SLOT_COUNT; s++) {
        if (st->slot_owner[s] == idx) st->slot_owner[s] = -1;
        if (st->migrating_to[s] == idx) st->migrating_to[s] = -1;
        if (st->importing_from[s] == idx) st->importing_from[s] = -1;
    }
    for (int i = 0; i < st->node_count; i++)
        if (st->nodes[i].master == idx) st->nodes[i].master = -1;
    node_index_del(&st->names, n->name);
    st->names_changed = true;
    st->names_gen++;
    int last = st->node_count - 1;
    if (idx != last) {
        st->nodes[idx] = st->nodes[last];
        node_index_put(&st->names, st->nodes[idx].name, idx);   /* the name is there: replaced, no allocation */
        for (int s = 0; s < SLOT_COUNT; s++) {
            fix_index(&st->slot_owner[s], last, idx);
            fix_index(&st->migrating_to[s], last, idx);
            fix_index(&st->importing_from[s], last, idx);
        }
        for (int i = 0; i < st->node_count; i++)
            if (st->nodes[i].master == last) st->nodes[i].master = idx;
        if (st->myself == last) st->myself = idx;
    }
    st->node_count--;
    state_recount_slots(st);
    st->dirty_snapshot = true;
}

static bool blacklisted(state_t *st, const char *name)
{
    long long now = rt_now_ms();
    for (int i = 0; i < st->nblacklist; i++) {
        if (st->blacklist[i].expire_ms < now) {
            st->blacklist[i--] = st->blacklist[--st->nblacklist];
            continue;
        }
        if (!memcmp(st->blacklist[i].name, name, NODE_NAME_LEN)) return true;
    }
    return false;
}

void state_blacklist_add(state_t *st, const char *name)
{
    for (int i = 0; i < st->nblacklist; i++)
        if (!memcmp(st->blacklist[i].name, name, NODE_NAME_LEN)) {
            st->blacklist[i].expire_ms = rt_now_ms() + BLACKLIST_TTL_MS;
            return;
        }
    if (st->nblacklist == st->capblacklist) {
        st->capblacklist = st->capblacklist ? st->capblacklist * 2 : 8;
        st->blacklist = xrealloc(st->blacklist, sizeof *st->blacklist * (size_t)st->capblacklist);
    }
    memcpy(st->blacklist[st->nblacklist].name, name, NODE_NAME_LEN + 1);
    st->blacklist[st->nblacklist].expire_ms = rt_now_ms() + BLACKLIST_TTL_MS;
    st->nblacklist++;
}

/* ---------------- sending ---------------- */

void state_send_to(state_t *st, int idx, const uint8_t *frame, size_t len)
{
    if (idx >= 0 && st->nodes[idx].out_link) state_out_send(st, st->nodes[idx].out_link, frame, len);
}

/* To every record with an outbound link that is not in handshake. */
void state_broadcast(state_t *st, const uint8_t *frame, size_t len)
{
    int copy = -1;   /* one copy in the outbox for every link */
    for (int i = 0; i < st->node_count; i++) {
        if (i == st->myself || !st->nodes[i].out_link) continue;
        if (st->nodes[i].flags & (NODE_HANDSHAKE | NODE_NOADDR)) continue;
        state_out_send_shared(st, st->nodes[i].out_link, frame, len, &copy);
    }
}

/* Whether our next own PING or PONG broadcast carries the larger gossip
 * section (gossip.c): while the table is growing, so that nodes that meet
 * learn each other fast. A record added or a handshake completed gives the
 * next FULL_GOSSIP_FRAMES own frames the larger section (the PONG broadcast
 * that announces a newcomer among them). Otherwise we send what 7.0.15
 * sends, max(3, N/10) entries, which in a steady cluster of a few hundred
 * nodes is a fraction of the bytes (N = 100: 10 entries, not 64); except in
 * a cluster small enough for the larger section to list every record (up to
 * GOSSIP_FLOOR + 2 nodes, gossip.c says why). Counted in frames, not time:
 * the state's rules stay a function of what it was given (the digest
 * property test replays one frame sequence into two states and compares
 * their outboxes). */
#define FULL_GOSSIP_FRAMES 16
void state_table_grew(state_t *st)
{
    st->full_gossip_left = FULL_GOSSIP_FRAMES;
}

static bool state_gossip_full(state_t *st)
{
    if (st->node_count <= GOSSIP_FLOOR + 2) return true;   /* small: every record, always (gossip.c) */
    if (st->full_gossip_left <= 0) return false;
    st->full_gossip_left--;
    return true;
}

void state_send_ping(state_t *st, int idx, unsigned type)
{
    uint8_t *frame;
    size_t len = gossip_build_sized(state_fresh_snapshot(st), type, state_gossip_full(st), &frame);
    if (!len) return;
    state_send_to(st, idx, frame, len);
    free(frame);
    if (type == BUS_PING && st->nodes[idx].ping_sent_ms == 0) {
        st->nodes[idx].ping_sent_ms = rt_now_ms();
        st->dirty_soft = true;
    }
}

void state_broadcast_pong(state_t *st)
{
    uint8_t *frame;
    size_t len = gossip_build_sized(state_fresh_snapshot(st), BUS_PONG, state_gossip_full(st), &frame);
    if (!len) return;
    state_broadcast(st, frame, len);
    free(frame);
}

static void send_update(state_t *st, int to, int about)
{
    /* Our own new configEpoch is not announced before it is durable. */
    if (about == st->myself && state_fo_publish_held(st)) return;
    bus_header_t hdr;
    gossip_header(state_fresh_snapshot(st), &hdr);
    uint8_t slots[BUS_SLOT_BYTES];
    memset(slots, 0, sizeof slots);
    for (int s = 0; s < SLOT_COUNT; s++)
        if (st->slot_owner[s] == about) bus_slot_set(slots, (unsigned)s);
    uint8_t frame[BUS_UPDATE_LEN];
    size_t len = bus_build_update(frame, sizeof frame, &hdr, st->nodes[about].config_epoch, st->nodes[about].name, slots);
    if (len) state_send_to(st, to, frame, len);
}

void state_broadcast_fail(state_t *st, int about)
{
    bus_header_t hdr;
    gossip_header(state_fresh_snapshot(st), &hdr);
    uint8_t frame[BUS_FAIL_LEN];
    size_t len = bus_build_fail(frame, sizeof frame, &hdr, st->nodes[about].name);
    if (len) state_broadcast(st, frame, len);
}

/* ---------------- failure reports (5.11) ---------------- */

static void report_add(state_t *st, int about, const char *reporter)
{
    state_node_t *n = &st->nodes[about];
    for (int k = 0; k < n->nreports; k++)
        if (!memcmp(n->reports[k].reporter, reporter, NODE_NAME_LEN)) {
            n->reports[k].time_ms = rt_now_ms();
            return;
        }
    if (n->nreports == n->capreports) {
        n->capreports = n->capreports ? n->capreports * 2 : 4;
        n->reports = xrealloc(n->reports, sizeof *n->reports * (size_t)n->capreports);
    }
    memcpy(n->reports[n->nreports].reporter, reporter, NODE_NAME_LEN + 1);
    n->reports[n->nreports].time_ms = rt_now_ms();
    n->nreports++;
    st->dirty_snapshot = true;
}

static void report_del(state_t *st, int about, const char *reporter)
{
    state_node_t *n = &st->nodes[about];
    for (int k = 0; k < n->nreports; k++)
        if (!memcmp(n->reports[k].reporter, reporter, NODE_NAME_LEN)) {
            n->reports[k] = n->reports[--n->nreports];
            st->dirty_snapshot = true;
            return;
        }
}

int state_count_reports(state_t *st, int about)
{
    state_node_t *n = &st->nodes[about];
    long long maxage = config_cluster_node_timeout() * 2;
    long long now = rt_now_ms();
    for (int k = 0; k < n->nreports; k++)
        if (now - n->reports[k].time_ms > maxage) {
            n->reports[k--] = n->reports[--n->nreports];
            st->dirty_snapshot = true;
        }
    return n->nreports;
}

void state_maybe_mark_fail(state_t *st, int idx)
{
    state_node_t *n = &st->nodes[idx];
    if (!(n->flags & NODE_PFAIL) || (n->flags & NODE_FAIL)) return;
    int quorum = st->size / 2 + 1;
    int votes = state_count_reports(st, idx);
    if (st->nodes[st->myself].flags & NODE_MASTER) votes++;
    if (votes < quorum) return;
    LOG_NOTICE("Marking node %.40s as failing (quorum reached).", n->name);
    n->flags = (uint16_t)((n->flags & ~NODE_PFAIL) | NODE_FAIL);
    n->fail_time_ms = rt_now_ms();
    state_broadcast_fail(st, idx);
    state_save_config(st);
    state_fo_note_fail(st, idx);
}

/* ---------------- roles and slots (5.7, 5.8, 5.9) ---------------- */

static void set_master(state_t *st, int idx)
{
    state_node_t *n = &st->nodes[idx];
    if (n->flags & NODE_MASTER) return;
    int old = n->master;
    n->master = -1;
    state_fo_replica_changed(st, idx, old);
    n->flags = (uint16_t)((n->flags & ~NODE_SLAVE) | NODE_MASTER);
    if (idx != st->myself) n->flags |= NODE_MIGRATE_TO;
    state_save_config(st);
}

static void role_update(state_t *st, int idx, const bus_header_t *h)
{
    state_node_t *n = &st->nodes[idx];
    if (!h->has_master) {
        if (n->flags & NODE_SLAVE) set_master(st, idx);
        return;
    }
    if (n->flags & NODE_MASTER) {
        for (int s = 0; s < SLOT_COUNT; s++)
            if (st->slot_owner[s] == idx) st->slot_owner[s] = -1;
        state_recount_slots(st);
        n->flags = (uint16_t)((n->flags & ~(NODE_MASTER | NODE_MIGRATE_TO)) | NODE_SLAVE);
        state_save_config(st);
    }
    int m = state_find(st, h->slaveof, NODE_NAME_LEN);
    if (m >= 0 && m != idx && n->master != m) {
        int old = n->master;
        n->master = m;
        state_fo_replica_changed(st, idx, old);
        state_save_config(st);
    }
}

/* The rebinding rule R(sender, epoch, bitmap) of 5.8 B. */
static void rebind_slots(state_t *st, int sender, uint64_t epoch, const uint8_t *bitmap)
{
    if (sender == st->myself) return;
    state_node_t *me = &st->nodes[st->myself];
    int cur = (me->flags & NODE_MASTER) ? st->myself : me->master;
    int taken_from_cur = 0;
    bool changed = false;
    uint8_t lost[SLOT_COUNT / 8] = { 0 };   /* ours, taken (7.0.15's dirty slots, keys or not) */
    bool lost_any = false;
    int sender_slots = 0;
    /* The claimed slots only, 64 at a time (this runs for every claim that
     * differs from the table: once per moved slot in a reshard). */
    for (unsigned w = 0; w < BUS_SLOT_BYTES / 8; w++) {
        uint64_t bits;
        memcpy(&bits, bitmap + w * 8, sizeof bits);
        bits = le64toh(bits);         /* bit k of the word is slot w * 64 + k */
        sender_slots += __builtin_popcountll(bits);
        for (; bits; bits &= bits - 1) {
            unsigned s = w * 64 + (unsigned)__builtin_ctzll(bits);
            int owner = st->slot_owner[s];
            if (owner == sender) continue;
            if (st->importing_from[s] >= 0) continue;
            if (owner < 0 || st->nodes[owner].config_epoch < epoch) {
                if (owner >= 0 && owner == cur) taken_from_cur++;
                /* (a slot our migration hands over is dropped by it, a piece at a time) */
                if (owner == st->myself && !asm_slot_paused(s)) {
                    lost[s / 8] = (uint8_t)(lost[s / 8] | (1u << (s % 8)));
                    lost_any = true;
                }
                st->slot_owner[s] = (int16_t)sender;
                changed = true;
            }
        }
    }
    if (changed) {
        state_recount_slots(st);
        state_save_config(st);
        st->save_fsync = true;
    }
    if (cur >= 0 && taken_from_cur > 0 && st->nodes[cur].slot_count == 0 &&
        (config_get_num(CONFIG_CLUSTER_ALLOW_REPLICA_MIGRATION) || sender_slots == taken_from_cur)) {
        /* Our shard's last slot went to a newer configuration (a failover):
         * follow its owner, whether we were that shard's master or one of
         * its replicas. */
        LOG_NOTICE("Configuration change detected. Reconfiguring myself as a replica of %.40s", st->nodes[sender].name);
        int old = me->master;
        if (cur == st->myself) {
            state_fo_lost_mastership(st);
            /* A master turning replica closes its open slots (7.0.15's
             * clusterSetMaster): a reshard that emptied us leaves no mark. */
            for (int s = 0; s < SLOT_COUNT; s++) { st->migrating_to[s] = -1; st->importing_from[s] = -1; }
        }
        me->flags = (uint16_t)((me->flags & ~(NODE_MASTER | NODE_MIGRATE_TO)) | NODE_SLAVE);
        me->master = sender;
        state_fo_replica_changed(st, st->myself, old);
        state_save_config(st);
        st->save_fsync = true;
        /* Tell everyone at once that we follow the winner (a role change, no
         * epoch claimed): views agree a round trip after the failover. */
        state_broadcast_pong(st);
    } else if ((me->flags & NODE_SLAVE) && me->master >= 0 && (st->nodes[me->master].flags & NODE_SLAVE) &&
               st->nodes[me->master].master >= 0 && st->nodes[me->master].master != st->myself) {
        /* Never a replica of a replica: follow our master's master. */
        int old = me->master;
        me->master = st->nodes[old].master;
        LOG_NOTICE("I'm a sub-replica! Reconfiguring myself as a replica of %.40s", st->nodes[me->master].name);
        state_fo_replica_changed(st, st->myself, old);
        state_save_config(st);
        st->save_fsync = true;
    } else if (lost_any) {
        /* Still a master, yet slots of ours went to a newer claim without
         * their keys (an admin's SETSLOT/ADDSLOTS elsewhere): their keys
         * must go, here and on our replicas, or they would linger unreachable
         * and come back if the slots ever returned. The drop follows the
         * publish of the new owner (state_publish). */
        for (int i = 0; i < SLOT_COUNT / 8; i++) st->drop_slots[i] |= lost[i];
        st->drop_pending = true;
        st->dirty_snapshot = true;
    }
}

/* Both masters with the same configEpoch: the smaller name moves on (5.9). */
static void epoch_collision(state_t *st, int sender)
{
    state_node_t *me = &st->nodes[st->myself];
    state_node_t *n = &st->nodes[sender];
    if (!(me->flags & NODE_MASTER) || !(n->flags & NODE_MASTER)) return;
    if (n->config_epoch != me->config_epoch) return;
    if (memcmp(n->name, me->name, NODE_NAME_LEN) <= 0) return;
    st->current_epoch++;
    me->config_epoch = st->current_epoch;
    st->slot_version++;
    state_hold_publish_until_saved(st);
    LOG_VERBOSE("WARNING: configEpoch collision with node %.40s. configEpoch set to %llu", n->name,
                (unsigned long long)me->config_epoch);
}

/* How many slots the table gives record idx: counted once per slot table
 * version (every change to slot_owner bumps slot_version). */
static int owned_slots(state_t *st, int idx)
{
    state_node_t *n = &st->nodes[idx];
    if (n->owned_slots_version != st->slot_version) {
        int k = 0;
        for (int s = 0; s < SLOT_COUNT; s++) k += st->slot_owner[s] == idx;
        n->owned_slots = k;
        n->owned_slots_version = st->slot_version;
    }
    return n->owned_slots;
}

/* Whether `bitmap` names exactly the slots the table gives record idx
 * (what 5.8 calls an unchanged claim): every claimed slot is idx's and there
 * are as many as idx owns. A steady claim costs a pass over its set bits
 * rather than over all 16384 slots. */
static bool claim_matches_table(state_t *st, int idx, const uint8_t *bitmap)
{
    int claimed = 0;
    /* 64 slots at a time: most words of a claim are 0 (a master of 1,000
     * owns ~33 slots), and this runs for every header the rules see */
    for (unsigned w = 0; w < BUS_SLOT_BYTES / 8; w++) {
        uint64_t bits;
        memcpy(&bits, bitmap + w * 8, sizeof bits);
        bits = le64toh(bits);         /* bit k of the word is slot w * 64 + k */
        for (; bits; bits &= bits - 1) {
            unsigned s = w * 64 + (unsigned)__builtin_ctzll(bits);
            if (st->slot_owner[s] != idx) return false;
            claimed++;
        }
    }
    return claimed == owned_slots(st, idx);
}

/* The first owner, in slot order, of a slot `sender` claims that holds it
 * with a greater configEpoch than the claim's (5.8: the sender gets an
 * UPDATE about it), or -1. The claimed slots only, 64 at a time. */
static int first_newer_owner(const state_t *st, int sender, const bus_header_t *h)
{
    for (unsigned w = 0; w < BUS_SLOT_BYTES / 8; w++) {
        uint64_t bits;
        memcpy(&bits, h->myslots + w * 8, sizeof bits);
        bits = le64toh(bits);         /* bit k of the word is slot w * 64 + k */
        for (; bits; bits &= bits - 1) {
            int owner = st->slot_owner[w * 64 + (unsigned)__builtin_ctzll(bits)];
            if (owner >= 0 && owner != sender && st->nodes[owner].config_epoch > h->config_epoch) return owner;
        }
    }
    return -1;
}

static void slot_rules(state_t *st, int sender, const bus_header_t *h)
{
    state_node_t *n = &st->nodes[sender];
    int sm = (n->flags & NODE_MASTER) ? sender : n->master;
    bool dirty = sm >= 0 && !claim_matches_table(st, sm, h->myslots);
    if (!dirty) {
        /* nothing to rebind and nothing stale: no rule acts, nothing to remember */
        free(n->last_claim);
        n->last_claim = NULL;
    } else if (n->last_claim && n->last_claim_version == st->slot_version && n->last_claim_epoch == h->config_epoch &&
               !memcmp(n->last_claim, h->myslots, BUS_SLOT_BYTES)) {
        /* Fast path: the same differing claim with the same epoch against an
         * unchanged slot table and epochs leads to the same conclusion as
         * last time. */
        if (n->last_stale_owner >= 0 && n->last_stale_owner < st->node_count) send_update(st, sender, n->last_stale_owner);
    } else {
        if (n->flags & NODE_MASTER) rebind_slots(st, sender, h->config_epoch, h->myslots);
        int stale_owner = first_newer_owner(st, sender, h);
        if (stale_owner >= 0) send_update(st, sender, stale_owner);
        n = &st->nodes[sender];
        if (!n->last_claim) n->last_claim = xmalloc(BUS_SLOT_BYTES);
        memcpy(n->last_claim, h->myslots, BUS_SLOT_BYTES);
        n->last_claim_version = st->slot_version;
        n->last_claim_epoch = h->config_epoch;
        n->last_stale_owner = stale_owner;
    }
    n = &st->nodes[sender];
    if ((n->flags & NODE_MASTER) && (st->nodes[st->myself].flags & NODE_MASTER) &&
        h->config_epoch == st->nodes[st->myself].config_epoch)
        epoch_collision(st, sender);
}

/* ---------------- gossip (5.6) ---------------- */

static void process_gossip(state_t *st, int sender, const bus_msg_t *m)
{
    bool sender_master = sender >= 0 && (st->nodes[sender].flags & NODE_MASTER);
    long long now = rt_now_ms();
    for (unsigned i = 0; i < m->hdr.count; i++) {
        bus_gossip_t g;
        if (!bus_msg_gossip(m, i, &g)) break;
        if (!g.name_valid) continue;     /* never trust a name we can't look up (8.1) */
        int idx = state_find(st, g.name, NODE_NAME_LEN);
        if (idx >= 0) {
            state_node_t *n = &st->nodes[idx];
            if (sender >= 0 && sender_master && idx != st->myself) {
                if (g.flags & (NODE_PFAIL | NODE_FAIL)) {
                    report_add(st, idx, st->nodes[sender].name);
                    state_maybe_mark_fail(st, idx);
                } else {
                    report_del(st, idx, st->nodes[sender].name);
                }
            }
            n = &st->nodes[idx];
            if (!(g.flags & (NODE_PFAIL | NODE_FAIL)) && n->ping_sent_ms == 0 && n->nreports == 0) {
                long long pongtime = (long long)g.pong_received * 1000;
                if (pongtime <= now + GOSSIP_PONG_SKEW_MS && pongtime > n->pong_received_ms) {
                    n->pong_received_ms = pongtime;
                    st->dirty_soft = true;
                }
            }
            if ((n->flags & (NODE_PFAIL | NODE_FAIL)) && !(g.flags & (NODE_PFAIL | NODE_FAIL | NODE_NOADDR)) &&
                (strcmp(n->ip, g.ip) != 0 || n->port != g.port || n->cport != g.cport)) {
                if (n->out_link) { state_out_close(st, n->out_link); n->out_link = 0; n->link_connected = false; }
                state_set_ip(n->ip, g.ip);
                n->port = g.port;
                n->cport = g.cport;
                n->pport = g.pport;
                n->flags &= (uint16_t)~NODE_NOADDR;
                st->dirty_snapshot = true;
            }
        } else if (sender >= 0 && !(g.flags & NODE_NOADDR) && !blacklisted(st, g.name)) {
            int k = state_add_node(st, g.name, g.flags & (uint16_t)~(NODE_MYSELF));
            if (k < 0) {
                state_table_full(st, "a node learned by gossip");
                continue;
            }
            state_node_t *n = &st->nodes[k];
            state_set_ip(n->ip, g.ip);
            n->port = g.port;
            n->cport = g.cport;
            n->pport = g.pport;
            n->ctime_ms = now;
            st->dirty_snapshot = true;
            /* Connect at once instead of waiting for the next tick: convergence speed. */
            state_out_connect(st, k, now);
        }
    }
}

static void process_extensions(state_t *st, int sender, const bus_msg_t *m)
{
    state_node_t *n = &st->nodes[sender];
    char host[256] = "";
    if ((m->hdr.mflags[0] & BUS_MFLAG_EXT_DATA) && m->u.ping.has_hostname) {
        size_t l = m->u.ping.hostname_len < sizeof host - 1 ? m->u.ping.hostname_len : sizeof host - 1;
        memcpy(host, m->u.ping.hostname, l);
        host[l] = '\0';
    }
    if (strcmp(n->hostname, host) != 0) {
        snprintf(n->hostname, sizeof n->hostname, "%s", host);
        state_save_config(st);
    }
}

/* ---------------- the pipeline (5.2) ---------------- */

static void address_from_header(state_node_t *n, const bus_header_t *h, const char *peer_ip, char *ip_out)
{
    (void)n;
    state_set_ip(ip_out, h->myip[0] ? h->myip : peer_ip);
}

static void address_update(state_t *st, int idx, const bus_header_t *h, const char *peer_ip)
{
    state_node_t *n = &st->nodes[idx];
    char ip[NODES_CONF_IP_SIZE];
    address_from_header(n, h, peer_ip, ip);
    if (!strcmp(n->ip, ip) && n->port == h->port && n->cport == h->cport && n->pport == h->pport) return;
    state_set_ip(n->ip, ip);
    n->port = h->port;
    n->cport = h->cport;
    n->pport = h->pport;
    n->flags &= (uint16_t)~NODE_NOADDR;
    if (n->out_link) { state_out_close(st, n->out_link); n->out_link = 0; n->link_connected = false; }
    LOG_NOTICE("Address updated for node %.40s, now %s:%d", n->name, ip, n->port);
    state_save_config(st);
}

/* Who sent a frame: the record bound to its link, else the record its
 * header names (an inbound link gets bound to that record here), never a
 * record in handshake or myself; -1 when unknown. *bound is the record the
 * link is bound to, whatever the header says (-1 none). */
static int frame_sender(state_t *st, const state_bus_src_t *src, const bus_msg_t *m, int *bound)
{
    const bus_header_t *h = &m->hdr;
    int b = state_node_by_link(st, src->link);
    int sender = -1;
    *bound = b;
    if (b >= 0 && !(st->nodes[b].flags & NODE_HANDSHAKE) && !src->outbound) sender = b;
    else if (b >= 0 && src->outbound && !(st->nodes[b].flags & NODE_HANDSHAKE) &&
             !memcmp(st->nodes[b].name, h->sender, NODE_NAME_LEN)) sender = b;
    else if (m->sender_valid) {
        sender = state_find(st, h->sender, NODE_NAME_LEN);
        if (sender >= 0 && (st->nodes[sender].flags & NODE_HANDSHAKE)) sender = -1;
        if (sender >= 0 && !src->outbound && st->nodes[sender].in_link != src->link) {
            if (st->nodes[sender].in_link) state_out_close(st, st->nodes[sender].in_link);
            st->nodes[sender].in_link = src->link;
            st->dirty_snapshot = true;
        }
    }
    return sender == st->myself ? -1 : sender;
}

/* What every header from a known sender tells us (5.3): it is alive, its
 * epochs, its replication offset. */
static void sender_header(state_t *st, int sender, const bus_header_t *h, long long now)
{
    state_node_t *n = &st->nodes[sender];
    n->data_received_ms = now;
    if (h->current_epoch > st->current_epoch) { st->current_epoch = h->current_epoch; state_save_config(st); }
    if (h->config_epoch > n->config_epoch) {
        n->config_epoch = h->config_epoch;
        st->slot_version++;
        state_save_config(st);
        st->save_fsync = true;   /* a newer configEpoch: 7.0.15 fsyncs it */
    }
    /* the slot too: snapshot readers take the offset from there, so a new
     * one needs no publish (links store the next ones, state_live.h) */
    state_live_set_offset(st, sender, (long long)h->offset);
    if ((st->nodes[st->myself].flags & NODE_SLAVE) && st->nodes[st->myself].master == sender)
        state_fo_master_header(st, h);
}

/* PING or MEET (5.4): learn our own address from the socket, and make a
 * handshake record for the sender of a MEET we do not know. False when the
 * table is full (the frame goes no further). */
static bool ping_or_meet(state_t *st, const state_bus_src_t *src, const bus_msg_t *m, int sender, long long now)
{
    const bus_header_t *h = &m->hdr;
    bool announced = state_announce_ip(st)[0] != '\0';
    state_node_t *me = &st->nodes[st->myself];
    if (!announced && (h->type == BUS_MEET || me->ip[0] == '\0') && strcmp(me->ip, src->local_ip) != 0 &&
        src->local_ip[0]) {
        state_set_ip(me->ip, src->local_ip);
        LOG_NOTICE("IP address for this node updated to %s", me->ip);
        state_save_config(st);
    }
    if (sender < 0 && h->type == BUS_MEET && m->sender_valid) {
        char name[NODE_NAME_LEN + 1];
        rt_random_hex(name, NODE_NAME_LEN);
        int k = state_add_node(st, name, NODE_HANDSHAKE);
        if (k < 0) {
            state_table_full(st, "the sender of a MEET");
            return false;
        }
        state_node_t *n = &st->nodes[k];
        address_from_header(n, h, src->peer_ip, n->ip);
        n->port = h->port;
        n->cport = h->cport;
        n->pport = h->pport;
        n->ctime_ms = now;
        state_save_config(st);
        /* Connect back at once rather than on the next tick. */
        state_out_connect(st, k, now);
        process_gossip(st, -1, m);
    }
    /* the PONG reply was sent by the link already */
    return true;
}

/* A PING, PONG or MEET on our outbound link to record `bound` (5.5): ends
 * its handshake (rename, or drop it when the sender is known under its real
 * name), or takes the address away from a record whose link answers with
 * another name. False when the frame goes no further. */
static bool outbound_reply(state_t *st, const state_bus_src_t *src, const bus_msg_t *m, int bound)
{
    const bus_header_t *h = &m->hdr;
    state_node_t *n = &st->nodes[bound];
    if (n->flags & NODE_HANDSHAKE) {
        int known = m->sender_valid ? state_find(st, h->sender, NODE_NAME_LEN) : -1;
        if (known >= 0 && known != bound) {
            /* Already known under its real name: refresh its address, drop the handshake record. */
            state_node_t *kn = &st->nodes[known];
            if (strcmp(kn->ip, n->ip) || kn->cport != n->cport) {
                char ip[NODES_CONF_IP_SIZE];
                address_from_header(kn, h, src->peer_ip, ip);
                state_set_ip(kn->ip, ip);
                kn->port = h->port;
                kn->cport = h->cport;
                kn->flags &= (uint16_t)~NODE_NOADDR;
                if (kn->out_link) { state_out_close(st, kn->out_link); kn->out_link = 0; kn->link_connected = false; }
            }
            state_del_node(st, bound);
            state_save_config(st);
            return false;
        }
        if (!m->sender_valid) return false;
        state_rename_node(st, bound, h->sender);
        n->flags &= (uint16_t)~(NODE_HANDSHAKE | NODE_MEET);
        n->flags |= h->flags & (NODE_MASTER | NODE_SLAVE);
        LOG_VERBOSE("Handshake with node %.40s completed.", n->name);
        state_table_grew(st);
        state_save_config(st);
        /* Tell every peer about the newcomer soon (the PONG's gossip
         * carries it), instead of waiting for random pings. */
        st->announce_pending = true;
    } else if (memcmp(n->name, h->sender, NODE_NAME_LEN) != 0) {
        LOG_VERBOSE("PONG contains mismatching sender ID. Node %.40s is now without an address.", n->name);
        n->flags |= NODE_NOADDR;
        n->ip[0] = '\0';
        n->port = n->cport = n->pport = 0;
        if (n->out_link) { state_out_close(st, n->out_link); n->out_link = 0; n->link_connected = false; }
        state_save_config(st);
        return false;
    }
    return true;
}

/* A PONG on our outbound link to record idx: it answers our PING, so the
 * node is reachable (clears PFAIL, and FAIL where 5.12 allows it). */
void state_pong_received(state_t *st, int idx, long long now)
{
    state_node_t *n = &st->nodes[idx];
    /* published before links digest again when it goes back (a gossiped
     * time from a clock ahead of ours was later): links compare gossiped
     * times with the snapshot's, which must not be later than ours */
    if (now < n->pong_received_ms) st->dirty_snapshot = true;
    n->pong_received_ms = now;
    n->ping_sent_ms = 0;
    st->dirty_soft = true;
    if (n->flags & NODE_PFAIL) {
        n->flags &= (uint16_t)~NODE_PFAIL;
        state_save_config(st);
    } else if (n->flags & NODE_FAIL) {
        bool clear = (n->flags & NODE_SLAVE) || n->slot_count == 0 ||
                     now - n->fail_time_ms > 2 * config_cluster_node_timeout();
        if (clear) {
            LOG_NOTICE("Clear FAIL state for node %.40s: is reachable again.", n->name);
            n->flags &= (uint16_t)~NODE_FAIL;
            state_save_config(st);
        }
    }
}

/* PING, PONG, MEET after the sender is known. */
static void ping_family(state_t *st, const state_bus_src_t *src, const bus_msg_t *m, int sender, int bound,
                        long long now)
{
    const bus_header_t *h = &m->hdr;
    unsigned type = h->type;
    if (src->outbound && bound >= 0 && !outbound_reply(st, src, m, bound)) return;
    if (sender >= 0) {
        state_node_t *n = &st->nodes[sender];
        uint16_t nofail = h->flags & NODE_NOFAILOVER;
        if ((n->flags & NODE_NOFAILOVER) != nofail) {
            n->flags = (uint16_t)((n->flags & ~NODE_NOFAILOVER) | nofail);
            st->dirty_snapshot = true;
        }
        if (type == BUS_PING && !src->outbound) address_update(st, sender, h, src->peer_ip);
    }
    if (type == BUS_PONG && src->outbound && bound >= 0) {
        /* a PONG its link counted (state_live.h) is applied from the count,
         * once: at the latest by state_busy before this message */
        if (src->pong_noted) state_live_fold_one(st, bound);
        else state_pong_received(st, bound, now);
    }
    if (sender >= 0) {
        role_update(st, sender, h);
        slot_rules(st, sender, h);
        process_gossip(st, sender, m);
        process_extensions(st, sender, m);
    }
}

/* FAIL (5.12): a master's verdict, taken as is from any known sender. */
static void fail_received(state_t *st, int sender, const bus_msg_t *m, long long now)
{
    if (sender < 0 || !m->u.fail.name_valid) return;
    int idx = state_find(st, m->u.fail.name, NODE_NAME_LEN);
    if (idx < 0 || idx == st->myself || (st->nodes[idx].flags & NODE_FAIL)) return;
    LOG_NOTICE("FAIL message received from %.40s about %.40s", st->nodes[sender].name, st->nodes[idx].name);
    st->nodes[idx].flags = (uint16_t)((st->nodes[idx].flags & ~NODE_PFAIL) | NODE_FAIL);
    st->nodes[idx].fail_time_ms = now;
    state_save_config(st);
    state_fo_note_fail(st, idx);
}

/* UPDATE (5.8 C): a newer configuration for the named node's slots. */
static void update_received(state_t *st, int sender, const bus_msg_t *m)
{
    if (sender < 0 || !m->u.update.name_valid) return;
    int idx = state_find(st, m->u.update.name, NODE_NAME_LEN);
    if (idx < 0) return;
    state_bus_update(st, idx, m->u.update.config_epoch, m->u.update.slots);
}

void state_bus_update(state_t *st, int idx, uint64_t epoch, const uint8_t *bitmap)
{
    if (st->nodes[idx].config_epoch >= epoch) return;
    if (st->nodes[idx].flags & NODE_SLAVE) set_master(st, idx);
    st->nodes[idx].config_epoch = epoch;
    st->slot_version++;
    state_save_config(st);
    st->save_fsync = true;
    rebind_slots(st, idx, epoch, bitmap);
}

void state_bus_apply(state_t *st, const state_bus_src_t *src, const bus_msg_t *m)
{
    unsigned type = m->hdr.type;
    long long now = rt_now_ms();
    int bound;
    int sender = frame_sender(st, src, m, &bound);
    if (sender >= 0) sender_header(st, sender, &m->hdr, now);
    if ((type == BUS_PING || type == BUS_MEET) && !ping_or_meet(st, src, m, sender, now)) return;
    switch (type) {
    case BUS_PING:
    case BUS_PONG:
    case BUS_MEET:
        ping_family(st, src, m, sender, bound, now);
        break;
    case BUS_FAIL:
        fail_received(st, sender, m, now);
        break;
    case BUS_UPDATE:
        update_received(st, sender, m);
        break;
    case BUS_FAILOVER_AUTH_REQUEST:
    case BUS_FAILOVER_AUTH_ACK:
    case BUS_MFSTART:
        state_fo_frame(st, sender, m);
        break;
    default:
        /* PUBLISH, MODULE: later issues; unknown types are ignored */
        break;
    }
}

/* A link forwards the frames of one read round together, each already
 * decoded (link.h's link_rec_t): the rules get the link's message as it is. */
void state_bus_frame(state_t *st, link_frame_t *f)
{
    state_bus_src_t src = { .link = f->id, .outbound = f->outbound, .peer_ip = f->peer_ip, .local_ip = f->local_ip };
    for (const link_rec_t *r = link_frame_next(f, NULL); r; r = link_frame_next(f, r)) {
        src.pong_noted = r->pong_noted;
        state_bus_apply(st, &src, &r->msg);
    }
}

/* ---------------- link events ---------------- */

void state_bus_link_event(state_t *st, link_event_t *e)
{
    int idx = state_node_by_link(st, e->id);
    switch (e->kind) {
    case LINK_EV_CONNECTED:
        if (idx < 0 || st->nodes[idx].out_link != e->id) return;
        st->nodes[idx].link_connected = true;
        if (st->nodes[idx].flags & NODE_MEET) {
            state_send_ping(st, idx, BUS_MEET);
            st->nodes[idx].flags &= (uint16_t)~NODE_MEET;
        } else {
            state_send_ping(st, idx, BUS_PING);
        }
        st->dirty_snapshot = true;
        break;
    case LINK_EV_CONNECT_FAILED:
    case LINK_EV_CLOSED:
        if (idx < 0) return;
        if (st->nodes[idx].out_link == e->id) {
            st->nodes[idx].out_link = 0;
            st->nodes[idx].link_connected = false;
            /* 7.0.15 sets ping_sent only when connect() fails synchronously
             * (so failure detection still advances); a refused non-blocking
             * connect fails asynchronously and leaves it alone (1.5). */
            if (e->kind == LINK_EV_CONNECT_FAILED && e->sync_failure && st->nodes[idx].ping_sent_ms == 0) {
                st->nodes[idx].ping_sent_ms = rt_now_ms();
                st->dirty_soft = true;
            }
            /* Faster detection: a lost link (a killed peer closes it
             * at once) starts the failure clock as an unanswered ping would.
             * Safe: PFAIL still needs node_timeout without a pong, and the
             * reconnect's PING gets a PONG that clears it if the peer lives. */
            if (e->kind == LINK_EV_CLOSED && st->nodes[idx].ping_sent_ms == 0 &&
                !(st->nodes[idx].flags & (NODE_HANDSHAKE | NODE_NOADDR))) {
                st->nodes[idx].ping_sent_ms = rt_now_ms();
                st->dirty_soft = true;
            }
        }
        if (st->nodes[idx].in_link == e->id) st->nodes[idx].in_link = 0;
        st->dirty_snapshot = true;
        break;
    default:
        break;
    }
}

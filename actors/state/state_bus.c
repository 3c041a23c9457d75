/* state_bus.c - the cluster-bus rules the state actor applies to every frame
 * a link forwards (docs/cluster-bus.md §5.2-§5.9, §5.11, §5.18): sender lookup
 * and link binding, epochs, handshake and renaming, address updates, PONG
 * bookkeeping, role updates, slot ownership by configEpoch, UPDATE, FAIL,
 * gossip consumption, failure reports; plus the link events and the
 * commands that manage nodes (MEET, FORGET).
 *
 * Must never: trust a name it did not validate, or send anything on a link
 * other than through link_send.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/config/config.h"
#include "actors/bus/gossip.h"
#include "actors/bus/link.h"
#include "actors/state/state_internal.h"
#include "runtime/log.h"
#include "runtime/random.h"
#include "proto/strnum.h"
#include "runtime/xmalloc.h"
#include "proto/nodes_conf.h"

#define BLACKLIST_TTL_MS 60000

static long long now_ms(void) { return rt_now_ms(); }

/* A gossiped pong time may be this far in our future and still be taken:
 * the clocks of two nodes differ a little (Redis allows the same 500 ms). */
#define GOSSIP_PONG_SKEW_MS 500

/* Copies an address into a node's ip field (an IPv6 text form fits). */
static void set_ip(char *dst, const char *src)
{
    size_t l = strnlen(src, NODES_CONF_IP_SIZE - 1);
    memcpy(dst, src, l);
    dst[l] = '\0';
}



/* ---------------- node table helpers ---------------- */

int state_node_by_link(uint64_t link_id)
{
    if (!link_id) return -1;
    for (int i = 0; i < S.node_count; i++)
        if (S.nodes[i].out_link == link_id || S.nodes[i].in_link == link_id) return i;
    return -1;
}

static void fix_index(int16_t *v, int from, int to)
{
    if (*v == from) *v = (int16_t)to;
}

/* Removes node idx: closes its links, drops its slots and reports, and moves
 * the last record into its place (every index is fixed up). */
void state_del_node(int idx)
{
    state_node_t *n = &S.nodes[idx];
    if (n->out_link) link_close(n->out_link);
    if (n->in_link) link_close(n->in_link);
    free(n->reports);
    free(n->last_claim);
    /* reports by this node about others go too */
    for (int i = 0; i < S.node_count; i++) {
        state_node_t *o = &S.nodes[i];
        for (int k = 0; k < o->nreports; k++)
            if (!memcmp(o->reports[k].reporter, n->name, NODE_NAME_LEN)) {
                o->reports[k] = o->reports[--o->nreports];
                k--;
            }
    }
    for (int s = 0; s < SLOT_COUNT; s++) {
        if (S.slot_owner[s] == idx) S.slot_owner[s] = -1;
        if (S.migrating_to[s] == idx) S.migrating_to[s] = -1;
        if (S.importing_from[s] == idx) S.importing_from[s] = -1;
    }
    for (int i = 0; i < S.node_count; i++)
        if (S.nodes[i].master == idx) S.nodes[i].master = -1;
    node_index_del(&S.names, n->name);
    int last = S.node_count - 1;
    if (idx != last) {
        S.nodes[idx] = S.nodes[last];
        node_index_put(&S.names, S.nodes[idx].name, idx);   /* the name is there: replaced, no allocation */
        for (int s = 0; s < SLOT_COUNT; s++) {
            fix_index(&S.slot_owner[s], last, idx);
            fix_index(&S.migrating_to[s], last, idx);
            fix_index(&S.importing_from[s], last, idx);
        }
        for (int i = 0; i < S.node_count; i++)
            if (S.nodes[i].master == last) S.nodes[i].master = idx;
        if (S.myself == last) S.myself = idx;
    }
    S.node_count--;
    state_recount_slots();
    S.dirty_snapshot = true;
}

static bool blacklisted(const char *name)
{
    long long now = now_ms();
    for (int i = 0; i < S.nblacklist; i++) {
        if (S.blacklist[i].expire_ms < now) {
            S.blacklist[i--] = S.blacklist[--S.nblacklist];
            continue;
        }
        if (!memcmp(S.blacklist[i].name, name, NODE_NAME_LEN)) return true;
    }
    return false;
}

static void blacklist_add(const char *name)
{
    for (int i = 0; i < S.nblacklist; i++)
        if (!memcmp(S.blacklist[i].name, name, NODE_NAME_LEN)) {
            S.blacklist[i].expire_ms = now_ms() + BLACKLIST_TTL_MS;
            return;
        }
    if (S.nblacklist == S.capblacklist) {
        S.capblacklist = S.capblacklist ? S.capblacklist * 2 : 8;
        S.blacklist = xrealloc(S.blacklist, sizeof *S.blacklist * (size_t)S.capblacklist);
    }
    memcpy(S.blacklist[S.nblacklist].name, name, NODE_NAME_LEN + 1);
    S.blacklist[S.nblacklist].expire_ms = now_ms() + BLACKLIST_TTL_MS;
    S.nblacklist++;
}

static void save_config(void)
{
    S.save_pending = true;
    S.dirty_snapshot = true;
}

/* ---------------- sending ---------------- */

void state_send_to(int idx, const uint8_t *frame, size_t len)
{
    if (idx >= 0 && S.nodes[idx].out_link) link_send(S.nodes[idx].out_link, frame, len);
}

/* To every record with an outbound link that is not in handshake. */
void state_broadcast(const uint8_t *frame, size_t len)
{
    for (int i = 0; i < S.node_count; i++) {
        if (i == S.myself || !S.nodes[i].out_link) continue;
        if (S.nodes[i].flags & (NODE_HANDSHAKE | NODE_NOADDR)) continue;
        link_send(S.nodes[i].out_link, frame, len);
    }
}

void state_send_ping(int idx, unsigned type)
{
    uint8_t *frame;
    size_t len = gossip_build(state_fresh_snapshot(), type, &frame);
    if (!len) return;
    state_send_to(idx, frame, len);
    free(frame);
    if (type == BUS_PING && S.nodes[idx].ping_sent_ms == 0) {
        S.nodes[idx].ping_sent_ms = now_ms();
        S.dirty_soft = true;
    }
}

void state_broadcast_pong(void)
{
    uint8_t *frame;
    size_t len = gossip_build(state_fresh_snapshot(), BUS_PONG, &frame);
    if (!len) return;
    state_broadcast(frame, len);
    free(frame);
}

static void send_update(int to, int about)
{
    /* Our own new configEpoch is not announced before it is durable. */
    if (about == S.myself && state_fo_publish_held()) return;
    bus_header_t hdr;
    gossip_header(state_fresh_snapshot(), &hdr);
    uint8_t slots[BUS_SLOT_BYTES];
    memset(slots, 0, sizeof slots);
    for (int s = 0; s < SLOT_COUNT; s++)
        if (S.slot_owner[s] == about) bus_slot_set(slots, (unsigned)s);
    uint8_t frame[BUS_UPDATE_LEN];
    size_t len = bus_build_update(frame, sizeof frame, &hdr, S.nodes[about].config_epoch, S.nodes[about].name, slots);
    if (len) state_send_to(to, frame, len);
}

void state_broadcast_fail(int about)
{
    bus_header_t hdr;
    gossip_header(state_fresh_snapshot(), &hdr);
    uint8_t frame[BUS_FAIL_LEN];
    size_t len = bus_build_fail(frame, sizeof frame, &hdr, S.nodes[about].name);
    if (len) state_broadcast(frame, len);
}

/* ---------------- failure reports (5.11) ---------------- */

static void report_add(int about, const char *reporter)
{
    state_node_t *n = &S.nodes[about];
    for (int k = 0; k < n->nreports; k++)
        if (!memcmp(n->reports[k].reporter, reporter, NODE_NAME_LEN)) {
            n->reports[k].time_ms = now_ms();
            return;
        }
    if (n->nreports == n->capreports) {
        n->capreports = n->capreports ? n->capreports * 2 : 4;
        n->reports = xrealloc(n->reports, sizeof *n->reports * (size_t)n->capreports);
    }
    memcpy(n->reports[n->nreports].reporter, reporter, NODE_NAME_LEN + 1);
    n->reports[n->nreports].time_ms = now_ms();
    n->nreports++;
    S.dirty_snapshot = true;
}

static void report_del(int about, const char *reporter)
{
    state_node_t *n = &S.nodes[about];
    for (int k = 0; k < n->nreports; k++)
        if (!memcmp(n->reports[k].reporter, reporter, NODE_NAME_LEN)) {
            n->reports[k] = n->reports[--n->nreports];
            S.dirty_snapshot = true;
            return;
        }
}

int state_count_reports(int about)
{
    state_node_t *n = &S.nodes[about];
    long long maxage = config_cluster_node_timeout() * 2;
    long long now = now_ms();
    for (int k = 0; k < n->nreports; k++)
        if (now - n->reports[k].time_ms > maxage) {
            n->reports[k--] = n->reports[--n->nreports];
            S.dirty_snapshot = true;
        }
    return n->nreports;
}

void state_maybe_mark_fail(int idx)
{
    state_node_t *n = &S.nodes[idx];
    if (!(n->flags & NODE_PFAIL) || (n->flags & NODE_FAIL)) return;
    int quorum = S.size / 2 + 1;
    int votes = state_count_reports(idx);
    if (S.nodes[S.myself].flags & NODE_MASTER) votes++;
    if (votes < quorum) return;
    LOG_NOTICE("Marking node %.40s as failing (quorum reached).", n->name);
    n->flags = (uint16_t)((n->flags & ~NODE_PFAIL) | NODE_FAIL);
    n->fail_time_ms = now_ms();
    state_broadcast_fail(idx);
    save_config();
    state_fo_note_fail(idx);
}

/* ---------------- roles and slots (5.7, 5.8, 5.9) ---------------- */

static void set_master(int idx)
{
    state_node_t *n = &S.nodes[idx];
    if (n->flags & NODE_MASTER) return;
    int old = n->master;
    n->master = -1;
    state_fo_replica_changed(idx, old);
    n->flags = (uint16_t)((n->flags & ~NODE_SLAVE) | NODE_MASTER);
    if (idx != S.myself) n->flags |= NODE_MIGRATE_TO;
    save_config();
}

static void role_update(int idx, const bus_header_t *h)
{
    state_node_t *n = &S.nodes[idx];
    if (!h->has_master) {
        if (n->flags & NODE_SLAVE) set_master(idx);
        return;
    }
    if (n->flags & NODE_MASTER) {
        for (int s = 0; s < SLOT_COUNT; s++)
            if (S.slot_owner[s] == idx) S.slot_owner[s] = -1;
        state_recount_slots();
        n->flags = (uint16_t)((n->flags & ~(NODE_MASTER | NODE_MIGRATE_TO)) | NODE_SLAVE);
        save_config();
    }
    int m = state_find(h->slaveof, NODE_NAME_LEN);
    if (m >= 0 && m != idx && n->master != m) {
        int old = n->master;
        n->master = m;
        state_fo_replica_changed(idx, old);
        save_config();
    }
}

static bool bitmap_differs(int idx, const uint8_t *bitmap)
{
    for (int s = 0; s < SLOT_COUNT; s++)
        if ((S.slot_owner[s] == idx) != bus_slot_test(bitmap, (unsigned)s)) return true;
    return false;
}

/* The rebinding rule R(sender, epoch, bitmap) of 5.8 B. */
static void rebind_slots(int sender, uint64_t epoch, const uint8_t *bitmap)
{
    if (sender == S.myself) return;
    state_node_t *me = &S.nodes[S.myself];
    int cur = (me->flags & NODE_MASTER) ? S.myself : me->master;
    int taken_from_cur = 0;
    bool changed = false;
    for (int s = 0; s < SLOT_COUNT; s++) {
        int owner = S.slot_owner[s];
        if (bus_slot_test(bitmap, (unsigned)s)) {
            if (owner == sender) continue;
            if (S.importing_from[s] >= 0) continue;
            if (owner < 0 || S.nodes[owner].config_epoch < epoch) {
                if (owner >= 0 && owner == cur) taken_from_cur++;
                S.slot_owner[s] = (int16_t)sender;
                changed = true;
            }
        }
    }
    if (changed) {
        state_recount_slots();
        save_config();
        S.save_fsync = true;
    }
    int sender_slots = 0;
    for (int s = 0; s < SLOT_COUNT; s++) sender_slots += bus_slot_test(bitmap, (unsigned)s);
    if (cur >= 0 && taken_from_cur > 0 && S.nodes[cur].slot_count == 0 &&
        (config_get_num(CONFIG_CLUSTER_ALLOW_REPLICA_MIGRATION) || sender_slots == taken_from_cur)) {
        /* Our shard's last slot went to a newer configuration (a failover):
         * follow its owner, whether we were that shard's master or one of
         * its replicas. */
        LOG_NOTICE("Configuration change detected. Reconfiguring myself as a replica of %.40s", S.nodes[sender].name);
        int old = me->master;
        if (cur == S.myself) state_fo_lost_mastership();
        me->flags = (uint16_t)((me->flags & ~(NODE_MASTER | NODE_MIGRATE_TO)) | NODE_SLAVE);
        me->master = sender;
        state_fo_replica_changed(S.myself, old);
        save_config();
        S.save_fsync = true;
        /* Tell everyone at once that we follow the winner (a role change, no
         * epoch claimed): views agree a round trip after the failover. */
        state_broadcast_pong();
    } else if ((me->flags & NODE_SLAVE) && me->master >= 0 && (S.nodes[me->master].flags & NODE_SLAVE) &&
               S.nodes[me->master].master >= 0 && S.nodes[me->master].master != S.myself) {
        /* Never a replica of a replica: follow our master's master. */
        int old = me->master;
        me->master = S.nodes[old].master;
        LOG_NOTICE("I'm a sub-replica! Reconfiguring myself as a replica of %.40s", S.nodes[me->master].name);
        state_fo_replica_changed(S.myself, old);
        save_config();
        S.save_fsync = true;
    }
}

/* Both masters with the same configEpoch: the smaller name moves on (5.9). */
static void epoch_collision(int sender)
{
    state_node_t *me = &S.nodes[S.myself];
    state_node_t *n = &S.nodes[sender];
    if (!(me->flags & NODE_MASTER) || !(n->flags & NODE_MASTER)) return;
    if (n->config_epoch != me->config_epoch) return;
    if (memcmp(n->name, me->name, NODE_NAME_LEN) <= 0) return;
    S.current_epoch++;
    me->config_epoch = S.current_epoch;
    S.slot_version++;
    save_config();
    S.save_fsync = true;
    LOG_VERBOSE("WARNING: configEpoch collision with node %.40s. configEpoch set to %llu", n->name,
                (unsigned long long)me->config_epoch);
}

static void slot_rules(int sender, const bus_header_t *h)
{
    state_node_t *n = &S.nodes[sender];
    /* Fast path: the same claim with the same epoch against an unchanged
     * slot table and epochs leads to the same conclusion as last time. */
    if (n->last_claim && n->last_claim_version == S.slot_version && n->last_claim_epoch == h->config_epoch &&
        !memcmp(n->last_claim, h->myslots, BUS_SLOT_BYTES)) {
        if (n->last_stale_owner >= 0 && n->last_stale_owner < S.node_count) send_update(sender, n->last_stale_owner);
    } else {
        int sm = (n->flags & NODE_MASTER) ? sender : n->master;
        bool dirty = sm >= 0 && bitmap_differs(sm, h->myslots);
        if ((n->flags & NODE_MASTER) && dirty) rebind_slots(sender, h->config_epoch, h->myslots);
        int stale_owner = -1;
        if (dirty) {
            for (int s = 0; s < SLOT_COUNT; s++) {
                if (!bus_slot_test(h->myslots, (unsigned)s)) continue;
                int owner = S.slot_owner[s];
                if (owner < 0 || owner == sender) continue;
                if (S.nodes[owner].config_epoch > h->config_epoch) {
                    stale_owner = owner;
                    send_update(sender, owner);
                    break;
                }
            }
        }
        n = &S.nodes[sender];
        if (!n->last_claim) {
            n->last_claim = xmalloc(BUS_SLOT_BYTES);
        }
        memcpy(n->last_claim, h->myslots, BUS_SLOT_BYTES);
        n->last_claim_version = S.slot_version;
        n->last_claim_epoch = h->config_epoch;
        n->last_stale_owner = stale_owner;
    }
    n = &S.nodes[sender];
    if ((n->flags & NODE_MASTER) && (S.nodes[S.myself].flags & NODE_MASTER) &&
        h->config_epoch == S.nodes[S.myself].config_epoch)
        epoch_collision(sender);
}

/* ---------------- gossip (5.6) ---------------- */

static void process_gossip(int sender, const bus_msg_t *m)
{
    bool sender_master = sender >= 0 && (S.nodes[sender].flags & NODE_MASTER);
    long long now = now_ms();
    for (unsigned i = 0; i < m->hdr.count; i++) {
        bus_gossip_t g;
        if (!bus_msg_gossip(m, i, &g)) break;
        if (!g.name_valid) continue;     /* never trust a name we can't look up (8.1) */
        int idx = state_find(g.name, NODE_NAME_LEN);
        if (idx >= 0) {
            state_node_t *n = &S.nodes[idx];
            if (sender >= 0 && sender_master && idx != S.myself) {
                if (g.flags & (NODE_PFAIL | NODE_FAIL)) {
                    report_add(idx, S.nodes[sender].name);
                    state_maybe_mark_fail(idx);
                } else {
                    report_del(idx, S.nodes[sender].name);
                }
            }
            n = &S.nodes[idx];
            if (!(g.flags & (NODE_PFAIL | NODE_FAIL)) && n->ping_sent_ms == 0 && n->nreports == 0) {
                long long pongtime = (long long)g.pong_received * 1000;
                if (pongtime <= now + GOSSIP_PONG_SKEW_MS && pongtime > n->pong_received_ms) {
                    n->pong_received_ms = pongtime;
                    S.dirty_soft = true;
                }
            }
            if ((n->flags & (NODE_PFAIL | NODE_FAIL)) && !(g.flags & (NODE_PFAIL | NODE_FAIL | NODE_NOADDR)) &&
                (strcmp(n->ip, g.ip) != 0 || n->port != g.port || n->cport != g.cport)) {
                if (n->out_link) { link_close(n->out_link); n->out_link = 0; n->link_connected = false; }
                set_ip(n->ip, g.ip);
                n->port = g.port;
                n->cport = g.cport;
                n->pport = g.pport;
                n->flags &= (uint16_t)~NODE_NOADDR;
                S.dirty_snapshot = true;
            }
        } else if (sender >= 0 && !(g.flags & NODE_NOADDR) && !blacklisted(g.name)) {
            int k = state_add_node(g.name, g.flags & (uint16_t)~(NODE_MYSELF));
            if (k < 0) {
                state_table_full("a node learned by gossip");
                continue;
            }
            state_node_t *n = &S.nodes[k];
            set_ip(n->ip, g.ip);
            n->port = g.port;
            n->cport = g.cport;
            n->pport = g.pport;
            n->ctime_ms = now;
            S.dirty_snapshot = true;
            /* Connect at once instead of waiting for the next tick: convergence speed. */
            n->out_link = link_connect(n->name, n->ip, n->cport);
            n->out_link_ctime_ms = now;
        }
    }
}

static void process_extensions(int sender, const bus_msg_t *m)
{
    state_node_t *n = &S.nodes[sender];
    char host[256] = "";
    if ((m->hdr.mflags[0] & BUS_MFLAG_EXT_DATA) && m->u.ping.has_hostname) {
        size_t l = m->u.ping.hostname_len < sizeof host - 1 ? m->u.ping.hostname_len : sizeof host - 1;
        memcpy(host, m->u.ping.hostname, l);
        host[l] = '\0';
    }
    if (strcmp(n->hostname, host) != 0) {
        snprintf(n->hostname, sizeof n->hostname, "%s", host);
        save_config();
    }
}

/* ---------------- the pipeline (5.2) ---------------- */

static void address_from_header(state_node_t *n, const bus_header_t *h, const char *peer_ip, char *ip_out)
{
    (void)n;
    set_ip(ip_out, h->myip[0] ? h->myip : peer_ip);
}

static void address_update(int idx, const bus_header_t *h, const char *peer_ip)
{
    state_node_t *n = &S.nodes[idx];
    char ip[NODES_CONF_IP_SIZE];
    address_from_header(n, h, peer_ip, ip);
    if (!strcmp(n->ip, ip) && n->port == h->port && n->cport == h->cport && n->pport == h->pport) return;
    set_ip(n->ip, ip);
    n->port = h->port;
    n->cport = h->cport;
    n->pport = h->pport;
    n->flags &= (uint16_t)~NODE_NOADDR;
    if (n->out_link) { link_close(n->out_link); n->out_link = 0; n->link_connected = false; }
    LOG_NOTICE("Address updated for node %.40s, now %s:%d", n->name, ip, n->port);
    save_config();
}

static void process_frame(link_frame_t *f, const uint8_t *data, uint32_t len);

/* A link forwards the frames of one read round together, back to back. */
void state_bus_frame(link_frame_t *f)
{
    uint32_t off = 0;
    while (f->len - off >= BUS_HEADER_LEN) {
        const uint8_t *p = f->data + off;
        uint32_t flen;
        if (!bus_peek_totlen(p, f->len - off, &flen)) break;   /* not reached: a whole header is there */
        if (flen < BUS_HEADER_LEN || flen > f->len - off) break;
        process_frame(f, p, flen);
        off += flen;
    }
}

static void process_frame(link_frame_t *f, const uint8_t *data, uint32_t len)
{
    bus_msg_t m;
    if (bus_decode(data, len, &m) != 0) return;
    const bus_header_t *h = &m.hdr;
    unsigned type = h->type;
    long long now = now_ms();

    /* Who sent it: a bound link's record, else the header name. */
    int bound = state_node_by_link(f->id);
    int sender = -1;
    if (bound >= 0 && !(S.nodes[bound].flags & NODE_HANDSHAKE) && !f->outbound) sender = bound;
    else if (bound >= 0 && f->outbound && !(S.nodes[bound].flags & NODE_HANDSHAKE) &&
             !memcmp(S.nodes[bound].name, h->sender, NODE_NAME_LEN)) sender = bound;
    else if (m.sender_valid) {
        sender = state_find(h->sender, NODE_NAME_LEN);
        if (sender >= 0 && (S.nodes[sender].flags & NODE_HANDSHAKE)) sender = -1;
        if (sender >= 0 && !f->outbound && S.nodes[sender].in_link != f->id) {
            if (S.nodes[sender].in_link) link_close(S.nodes[sender].in_link);
            S.nodes[sender].in_link = f->id;
            S.dirty_snapshot = true;
        }
    }
    if (sender == S.myself) sender = -1;
    if (sender >= 0) {
        state_node_t *n = &S.nodes[sender];
        n->data_received_ms = now;
        if (h->current_epoch > S.current_epoch) { S.current_epoch = h->current_epoch; save_config(); }
        if (h->config_epoch > n->config_epoch) { n->config_epoch = h->config_epoch; S.slot_version++; save_config(); }
        n->repl_offset = (long long)h->offset;
        if ((S.nodes[S.myself].flags & NODE_SLAVE) && S.nodes[S.myself].master == sender) state_fo_master_header(h);
    }

    if (type == BUS_PING || type == BUS_MEET) {
        char ann[64];
        bool announced = config_cluster_announce_ip(ann, sizeof ann) > 0;
        state_node_t *me = &S.nodes[S.myself];
        if (!announced && (type == BUS_MEET || me->ip[0] == '\0') && strcmp(me->ip, f->local_ip) != 0 &&
            f->local_ip[0]) {
            set_ip(me->ip, f->local_ip);
            LOG_NOTICE("IP address for this node updated to %s", me->ip);
            save_config();
        }
        if (sender < 0 && type == BUS_MEET && m.sender_valid) {
            char name[NODE_NAME_LEN + 1];
            rt_random_hex(name, NODE_NAME_LEN);
            int k = state_add_node(name, NODE_HANDSHAKE);
            if (k < 0) {
                state_table_full("the sender of a MEET");
                return;
            }
            state_node_t *n = &S.nodes[k];
            address_from_header(n, h, f->peer_ip, n->ip);
            n->port = h->port;
            n->cport = h->cport;
            n->pport = h->pport;
            n->ctime_ms = now;
            save_config();
            /* Connect back at once rather than on the next tick. */
            n->out_link = link_connect(n->name, n->ip, n->cport);
            n->out_link_ctime_ms = now;
            process_gossip(-1, &m);
        }
        /* the PONG reply was sent by the link already */
    }

    if (type == BUS_PING || type == BUS_PONG || type == BUS_MEET) {
        if (f->outbound && bound >= 0) {
            state_node_t *n = &S.nodes[bound];
            if (n->flags & NODE_HANDSHAKE) {
                int known = m.sender_valid ? state_find(h->sender, NODE_NAME_LEN) : -1;
                if (known >= 0 && known != bound) {
                    /* Already known under its real name: refresh its address, drop the handshake record. */
                    state_node_t *kn = &S.nodes[known];
                    if (strcmp(kn->ip, n->ip) || kn->cport != n->cport) {
                        char ip[NODES_CONF_IP_SIZE];
                        address_from_header(kn, h, f->peer_ip, ip);
                        set_ip(kn->ip, ip);
                        kn->port = h->port;
                        kn->cport = h->cport;
                        kn->flags &= (uint16_t)~NODE_NOADDR;
                        if (kn->out_link) { link_close(kn->out_link); kn->out_link = 0; kn->link_connected = false; }
                    }
                    state_del_node(bound);
                    save_config();
                    return;
                }
                if (!m.sender_valid) return;
                state_rename_node(bound, h->sender);
                n->flags &= (uint16_t)~(NODE_HANDSHAKE | NODE_MEET);
                n->flags |= h->flags & (NODE_MASTER | NODE_SLAVE);
                LOG_VERBOSE("Handshake with node %.40s completed.", n->name);
                save_config();
                /* Tell every peer about the newcomer soon (the PONG's gossip
                 * carries it), instead of waiting for random pings. */
                S.announce_pending = true;
            } else if (memcmp(n->name, h->sender, NODE_NAME_LEN) != 0) {
                LOG_VERBOSE("PONG contains mismatching sender ID. Node %.40s is now without an address.", n->name);
                n->flags |= NODE_NOADDR;
                n->ip[0] = '\0';
                n->port = n->cport = n->pport = 0;
                if (n->out_link) { link_close(n->out_link); n->out_link = 0; n->link_connected = false; }
                save_config();
                return;
            }
        }
        if (sender >= 0) {
            state_node_t *n = &S.nodes[sender];
            uint16_t nofail = h->flags & NODE_NOFAILOVER;
            if ((n->flags & NODE_NOFAILOVER) != nofail) {
                n->flags = (uint16_t)((n->flags & ~NODE_NOFAILOVER) | nofail);
                S.dirty_snapshot = true;
            }
            if (type == BUS_PING && !f->outbound) address_update(sender, h, f->peer_ip);
        }
        if (type == BUS_PONG && f->outbound && bound >= 0) {
            state_node_t *n = &S.nodes[bound];
            n->pong_received_ms = now;
            n->ping_sent_ms = 0;
            S.dirty_soft = true;
            if (n->flags & NODE_PFAIL) {
                n->flags &= (uint16_t)~NODE_PFAIL;
                save_config();
            } else if (n->flags & NODE_FAIL) {
                bool clear = (n->flags & NODE_SLAVE) || n->slot_count == 0 ||
                             now - n->fail_time_ms > 2 * config_cluster_node_timeout();
                if (clear) {
                    LOG_NOTICE("Clear FAIL state for node %.40s: is reachable again.", n->name);
                    n->flags &= (uint16_t)~NODE_FAIL;
                    save_config();
                }
            }
        }
        if (sender >= 0) {
            role_update(sender, h);
            slot_rules(sender, h);
            process_gossip(sender, &m);
            process_extensions(sender, &m);
        }
        return;
    }

    switch (type) {
    case BUS_FAIL: {
        if (sender < 0 || !m.u.fail.name_valid) return;
        int idx = state_find(m.u.fail.name, NODE_NAME_LEN);
        if (idx < 0 || idx == S.myself || (S.nodes[idx].flags & NODE_FAIL)) return;
        LOG_NOTICE("FAIL message received from %.40s about %.40s", S.nodes[sender].name, S.nodes[idx].name);
        S.nodes[idx].flags = (uint16_t)((S.nodes[idx].flags & ~NODE_PFAIL) | NODE_FAIL);
        S.nodes[idx].fail_time_ms = now;
        save_config();
        state_fo_note_fail(idx);
        break;
    }
    case BUS_UPDATE: {
        if (sender < 0 || !m.u.update.name_valid) return;
        int idx = state_find(m.u.update.name, NODE_NAME_LEN);
        if (idx < 0) return;
        if (S.nodes[idx].config_epoch >= m.u.update.config_epoch) return;
        if (S.nodes[idx].flags & NODE_SLAVE) set_master(idx);
        S.nodes[idx].config_epoch = m.u.update.config_epoch;
        S.slot_version++;
        save_config();
        rebind_slots(idx, m.u.update.config_epoch, m.u.update.slots);
        break;
    }
    case BUS_FAILOVER_AUTH_REQUEST:
    case BUS_FAILOVER_AUTH_ACK:
    case BUS_MFSTART:
        state_fo_frame(sender, &m);
        break;
    default:
        /* PUBLISH, MODULE: later issues; unknown types are ignored */
        break;
    }
}

/* ---------------- link events ---------------- */

void state_bus_link_event(link_event_t *e)
{
    int idx = state_node_by_link(e->id);
    switch (e->kind) {
    case LINK_EV_CONNECTED:
        if (idx < 0 || S.nodes[idx].out_link != e->id) return;
        S.nodes[idx].link_connected = true;
        if (S.nodes[idx].flags & NODE_MEET) {
            state_send_ping(idx, BUS_MEET);
            S.nodes[idx].flags &= (uint16_t)~NODE_MEET;
        } else {
            state_send_ping(idx, BUS_PING);
        }
        S.dirty_snapshot = true;
        break;
    case LINK_EV_CONNECT_FAILED:
    case LINK_EV_CLOSED:
        if (idx < 0) return;
        if (S.nodes[idx].out_link == e->id) {
            S.nodes[idx].out_link = 0;
            S.nodes[idx].link_connected = false;
            /* 7.0.15 sets ping_sent only when connect() fails synchronously
             * (so failure detection still advances); a refused non-blocking
             * connect fails asynchronously and leaves it alone (1.5). */
            if (e->kind == LINK_EV_CONNECT_FAILED && e->sync_failure && S.nodes[idx].ping_sent_ms == 0) {
                S.nodes[idx].ping_sent_ms = now_ms();
                S.dirty_soft = true;
            }
            /* Faster detection (issue 5): a lost link (a killed peer closes it
             * at once) starts the failure clock as an unanswered ping would.
             * Safe: PFAIL still needs node_timeout without a pong, and the
             * reconnect's PING gets a PONG that clears it if the peer lives. */
            if (e->kind == LINK_EV_CLOSED && S.nodes[idx].ping_sent_ms == 0 &&
                !(S.nodes[idx].flags & (NODE_HANDSHAKE | NODE_NOADDR))) {
                S.nodes[idx].ping_sent_ms = now_ms();
                S.dirty_soft = true;
            }
        }
        if (S.nodes[idx].in_link == e->id) S.nodes[idx].in_link = 0;
        S.dirty_snapshot = true;
        break;
    default:
        break;
    }
}

/* ---------------- commands ---------------- */

static bool parse_port(const uint8_t *s, size_t n, long *out)
{
    long long v;
    if (!str_to_ll(s, n, &v) || v < LONG_MIN || v > LONG_MAX) return false;   /* as getLongLongFromObject */
    *out = (long)v;
    return true;
}

static void cmd_meet(remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    resp_buf_t *r = &rc->reply;
    if (q->argc != 4 && q->argc != 5) {
        resp_add_errorf(r, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try CLUSTER HELP.",
                        (int)q->argvlen[1], (const char *)q->argv[1]);
        state_reply(rc);
        return;
    }
    long port, cport;
    if (!parse_port(q->argv[3], q->argvlen[3], &port)) {
        resp_add_errorf(r, "ERR Invalid TCP base port specified: %.*s", (int)q->argvlen[3], (const char *)q->argv[3]);
        state_reply(rc);
        return;
    }
    if (q->argc == 5) {
        if (!parse_port(q->argv[4], q->argvlen[4], &cport)) {
            resp_add_errorf(r, "ERR Invalid TCP bus port specified: %.*s", (int)q->argvlen[4], (const char *)q->argv[4]);
            state_reply(rc);
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
        state_reply(rc);
        return;
    }
    for (int i = 0; i < S.node_count; i++) {
        state_node_t *n = &S.nodes[i];
        if ((n->flags & NODE_HANDSHAKE) && !strcmp(n->ip, norm) && n->port == port && n->cport == cport) {
            resp_add_simple(r, "OK");
            state_reply(rc);
            return;
        }
    }
    char name[NODE_NAME_LEN + 1];
    rt_random_hex(name, NODE_NAME_LEN);
    int k = state_add_node(name, NODE_HANDSHAKE | NODE_MEET);
    if (k < 0) {
        state_table_full("a node named by CLUSTER MEET");
        resp_add_errorf(r, "ERR the node table is full (%d nodes)", STATE_MAX_NODES);
        state_reply(rc);
        return;
    }
    state_node_t *n = &S.nodes[k];
    set_ip(n->ip, norm);
    n->port = (int)port;
    n->cport = (int)cport;
    n->ctime_ms = now_ms();
    /* Connect now rather than on the next tick. */
    n->out_link = link_connect(n->name, n->ip, n->cport);
    n->out_link_ctime_ms = now_ms();
    S.dirty_snapshot = true;
    resp_add_simple(r, "OK");
    state_reply(rc);
}

static void cmd_forget(remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    resp_buf_t *r = &rc->reply;
    int idx = state_find((const char *)q->argv[2], q->argvlen[2]);
    if (idx < 0) {
        resp_add_errorf(r, "ERR Unknown node %.*s", (int)q->argvlen[2], (const char *)q->argv[2]);
    } else if (idx == S.myself) {
        resp_add_error(r, "ERR I tried hard but I can't forget myself...");
    } else if ((S.nodes[S.myself].flags & NODE_SLAVE) && S.nodes[S.myself].master == idx) {
        resp_add_error(r, "ERR Can't forget my master!");
    } else {
        blacklist_add(S.nodes[idx].name);
        state_del_node(idx);
        save_config();
        resp_add_simple(r, "OK");
    }
    state_reply(rc);
}

static void cmd_replicate(remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    resp_buf_t *r = &rc->reply;
    int idx = state_find((const char *)q->argv[2], q->argvlen[2]);
    state_node_t *me = &S.nodes[S.myself];
    if (idx < 0) {
        resp_add_errorf(r, "ERR Unknown node %.*s", (int)q->argvlen[2], (const char *)q->argv[2]);
    } else if (idx == S.myself) {
        resp_add_error(r, "ERR Can't replicate myself");
    } else if (S.nodes[idx].flags & NODE_SLAVE) {
        resp_add_error(r, "ERR I can only replicate a master, not a replica.");
    } else if ((me->flags & NODE_MASTER) && (me->slot_count > 0 || state_total_keys() > 0)) {
        resp_add_error(r, "ERR To set a master the node must be empty and without assigned slots.");
    } else {
        int old = me->master;
        me->flags = (uint16_t)((me->flags & ~(NODE_MASTER | NODE_MIGRATE_TO)) | NODE_SLAVE);
        me->master = idx;
        state_fo_replica_changed(S.myself, old);
        for (int s = 0; s < SLOT_COUNT; s++) { S.migrating_to[s] = -1; S.importing_from[s] = -1; }
        save_config();
        S.save_fsync = true;
        resp_add_simple(r, "OK");
        /* Tell everyone at once (a PONG broadcast), as a role change does. */
        state_broadcast_pong();
    }
    state_reply(rc);
}

bool state_bus_command(remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    const char *n = q->cmd->name;
    if (!strcmp(n, "meet")) { cmd_meet(rc); return true; }
    if (!strcmp(n, "forget")) { cmd_forget(rc); return true; }
    if (!strcmp(n, "replicate")) { cmd_replicate(rc); return true; }
    return false;
}

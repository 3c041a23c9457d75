/* state_fixture.h - a state actor's state without the actor, for the unit
 * tests of its rules (test_state_bus.c, test_state_votes.c): a fresh
 * state_t publishing into a cell of the tests' own, records added with
 * made-up link ids, frames built with proto/bus's builders (or read from the
 * captured vectors) and decoded before the rules see them, and readers of
 * the outbox.
 *
 * Never: start a thread, open a socket, or touch the process's own state
 * actor (g_cluster_snapshot); the rules' outbox is read, never flushed.
 */
#ifndef SHOAL_TESTS_UNIT_STATE_FIXTURE_H
#define SHOAL_TESTS_UNIT_STATE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/config/config.h"
#include "actors/state/state_internal.h"
#include "proto/bus.h"
#include "tests/unit/unit.h"

static state_t fx_state;
static rt_snap_cell_t fx_cell;
static bool fx_inited;

/* A valid 40-hex node name made from a number (the same number, the same name). */
static inline void fx_name(char out[NODE_NAME_LEN + 1], unsigned n)
{
    snprintf(out, NODE_NAME_LEN + 1, "%040x", n);
}

/* A fresh state whose myself is a master named fx_name(my_name) at 10.0.0.1:7000. */
static inline state_t *fx_fresh(unsigned my_name)
{
    /* the rules read the configuration (node timeout, announced address):
     * its defaults, whatever an earlier test loaded */
    config_reset_defaults();
    if (fx_inited) state_free(&fx_state);
    state_init(&fx_state, &fx_cell);
    fx_inited = true;
    state_t *st = &fx_state;
    char name[NODE_NAME_LEN + 1];
    fx_name(name, my_name);
    st->myself = state_add_node(st, name, NODE_MYSELF | NODE_MASTER);
    snprintf(st->nodes[st->myself].ip, sizeof st->nodes[st->myself].ip, "10.0.0.1");
    st->nodes[st->myself].port = 7000;
    st->nodes[st->myself].cport = 17000;
    state_publish(st);                 /* frames are built from the published snapshot */
    st->save_pending = false;
    return st;
}

/* Adds a record named fx_name(n) with these flags at 10.0.0.<n>:7000, with an
 * outbound link whose id is 1000 + n and an inbound one 2000 + n (0 = none
 * when `links` is false). Returns its index. */
static inline int fx_add(state_t *st, unsigned n, uint16_t flags, bool links)
{
    char name[NODE_NAME_LEN + 1];
    fx_name(name, n);
    int k = state_add_node(st, name, flags);
    state_node_t *r = &st->nodes[k];
    snprintf(r->ip, sizeof r->ip, "10.0.0.%u", n & 0xff);
    r->port = 7000;
    r->cport = 17000;
    if (links) {
        r->out_link = 1000 + n;
        r->in_link = 2000 + n;
        r->link_connected = true;
    }
    st->dirty_snapshot = true;
    return k;
}

/* Gives slots [from, to] to record idx. */
static inline void fx_own(state_t *st, int idx, int from, int to)
{
    for (int s = from; s <= to; s++) st->slot_owner[s] = (int16_t)idx;
    state_recount_slots(st);
    st->dirty_snapshot = true;
}

/* A header as record idx would send it: its name, flags, epochs, slots. */
static inline void fx_header(const state_t *st, int idx, bus_header_t *h)
{
    const state_node_t *n = &st->nodes[idx];
    memset(h, 0, sizeof *h);
    h->ver = BUS_PROTO_VER;
    memcpy(h->sender, n->name, BUS_NAME_LEN);
    snprintf(h->myip, sizeof h->myip, "%s", n->ip);   /* as announced: no address update */
    h->port = (uint16_t)n->port;
    h->cport = (uint16_t)n->cport;
    h->flags = n->flags & (uint16_t)(NODE_MASTER | NODE_SLAVE | NODE_NOFAILOVER);
    h->config_epoch = n->config_epoch;
    h->current_epoch = st->current_epoch;
    for (int s = 0; s < SLOT_COUNT; s++)
        if (st->slot_owner[s] == idx) bus_slot_set(h->myslots, (unsigned)s);
    if ((n->flags & NODE_SLAVE) && n->master >= 0) {
        memcpy(h->slaveof, st->nodes[n->master].name, BUS_NAME_LEN);
        h->has_master = true;
    }
}

/* A gossip entry about record idx with these flags. */
static inline void fx_entry(const state_t *st, int idx, uint16_t flags, bus_gossip_t *g)
{
    const state_node_t *n = &st->nodes[idx];
    memset(g, 0, sizeof *g);
    memcpy(g->name, n->name, BUS_NAME_LEN);
    snprintf(g->ip, sizeof g->ip, "%s", n->ip);
    g->port = (uint16_t)n->port;
    g->cport = (uint16_t)n->cport;
    g->flags = flags;
}

/* The frame buffer a decoded message points into: kept until the next frame. */
static uint8_t fx_buf[16384];

/* Decodes buf[0..len) into *m (its views point into buf). */
static inline bool fx_decode(const uint8_t *buf, size_t len, bus_msg_t *m)
{
    return len > 0 && bus_decode(buf, len, m) == 0;
}

/* Builds a PING/PONG/MEET with header h and `count` gossip entries, decodes it into *m. */
static inline bool fx_ping(unsigned type, const bus_header_t *h, const bus_gossip_t *g, unsigned count, bus_msg_t *m)
{
    size_t len = bus_build_ping(fx_buf, sizeof fx_buf, h, type, g, count, NULL, 0);
    return fx_decode(fx_buf, len, m);
}

/* Applies a decoded frame as if it came on link `link`. */
static inline void fx_apply(state_t *st, uint64_t link, bool outbound, const bus_msg_t *m)
{
    state_bus_src_t src = { .link = link, .outbound = outbound, .peer_ip = "10.9.9.9", .local_ip = "10.0.0.1" };
    state_bus_apply(st, &src, m);
}

/* How many outbox operations of this kind (to this link, 0 = any). */
static inline int fx_out_count(const state_t *st, int kind, uint64_t link)
{
    int n = 0;
    for (int i = 0; i < st->out.nops; i++)
        if (st->out.ops[i].kind == kind && (!link || st->out.ops[i].link == link)) n++;
    return n;
}

/* The k-th SEND in the outbox, decoded (its views point into the outbox). */
static inline bool fx_out_frame(const state_t *st, int k, uint64_t *link, bus_msg_t *m)
{
    for (int i = 0; i < st->out.nops; i++) {
        const state_out_t *op = &st->out.ops[i];
        if (op->kind != STATE_OUT_SEND || k-- > 0) continue;
        if (link) *link = op->link;
        const shared_frame_t *f = st->out.frames[op->frame];
        return fx_decode(f->data, f->len, m);
    }
    return false;
}

/* Number of SENDs in the outbox whose frame has this type. */
static inline int fx_out_type(const state_t *st, unsigned type)
{
    int n = 0;
    bus_msg_t m;
    for (int k = 0; fx_out_frame(st, k, NULL, &m); k++)
        if (m.hdr.type == type) n++;
    return n;
}

#endif

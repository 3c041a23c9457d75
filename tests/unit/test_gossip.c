/* test_gossip.c - which records go into the gossip section of our PING, PONG
 * and MEET frames (actors/bus/gossip.c, docs/cluster-bus.md §5.5), built from
 * hand-made snapshots and read back with the decoder: never myself, never a
 * record in handshake or without an address, nor one with neither a link nor
 * slots; every PFAIL record always (as 7.0.15); max(3, N/10) random records
 * in a reply to a PING, up to 64 in our own PINGs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/bus/gossip.h"
#include "proto/bus.h"
#include "tests/unit/unit.h"

static uint64_t next_version = 1000000;   /* each snapshot its own version (the reply memo keys on it) */

/* A snapshot of n records: record 0 is myself; every other one a master at
 * 10.0.<i/256>.<i%256>:7000 with an outbound link and no slots. */
static cluster_snapshot_t *snap_new(int n)
{
    cluster_snapshot_t *s = calloc(1, sizeof *s);
    s->nodes = calloc((size_t)n, sizeof *s->nodes);
    s->node_count = n;
    s->myself = 0;
    s->version = next_version++;
    for (int i = 0; i < n; i++) {
        node_view_t *v = &s->nodes[i];
        snprintf(v->name, sizeof v->name, "%040x", i + 1);
        snprintf(v->ip, sizeof v->ip, "10.0.%d.%d", i / 256, i % 256);
        v->port = 7000 + i;
        v->cport = 17000 + i;
        v->flags = NODE_MASTER;
        v->master = -1;
        v->out_link = (uint64_t)(i + 1);
        v->hostname = "";
    }
    s->nodes[0].flags |= NODE_MYSELF;
    s->hdr.ver = BUS_PROTO_VER;
    memcpy(s->hdr.sender, s->nodes[0].name, BUS_NAME_LEN);
    s->hdr.flags = NODE_MASTER;
    return s;
}

static void snap_free(cluster_snapshot_t *s)
{
    free(s->nodes);
    free(s);
}

/* How many times each record appears in the frame's gossip section (counts
 * has node_count slots; a name not in the snapshot counts in *unknown). */
static int gossip_counts(const cluster_snapshot_t *s, const uint8_t *frame, size_t len, unsigned type, int *counts,
                         int *unknown)
{
    bus_msg_t m;
    if (bus_decode(frame, len, &m) != 0 || m.hdr.type != type) return -1;
    memset(counts, 0, sizeof *counts * (size_t)s->node_count);
    *unknown = 0;
    for (unsigned i = 0; i < m.hdr.count; i++) {
        bus_gossip_t g;
        if (!bus_msg_gossip(&m, i, &g)) return -1;
        int k = -1;
        for (int j = 0; j < s->node_count; j++)
            if (!memcmp(s->nodes[j].name, g.name, BUS_NAME_LEN)) k = j;
        if (k < 0) (*unknown)++;
        else counts[k]++;
    }
    return m.hdr.count;
}

/* A small cluster: our own PINGs list every eligible record once, and
 * nothing else. */
TEST(gossip_small_cluster_lists_every_eligible_record)
{
    cluster_snapshot_t *s = snap_new(7);
    s->nodes[2].flags = NODE_SLAVE;
    s->nodes[2].master = 1;
    s->nodes[3].flags |= NODE_HANDSHAKE;
    s->nodes[4].flags |= NODE_NOADDR;
    s->nodes[5].out_link = 0;                 /* no link, no slots */
    s->nodes[6].out_link = 0;                 /* no link, but slots */
    s->nodes[6].slot_count = 10;
    uint8_t *frame;
    size_t len = gossip_build(s, BUS_PING, &frame);
    REQUIRE(len > 0);
    int counts[7], unknown;
    int n = gossip_counts(s, frame, len, BUS_PING, counts, &unknown);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(unknown, 0);
    CHECK_EQ_INT(counts[0], 0);               /* myself */
    CHECK_EQ_INT(counts[1], 1);
    CHECK_EQ_INT(counts[2], 1);
    CHECK_EQ_INT(counts[3], 0);               /* handshake */
    CHECK_EQ_INT(counts[4], 0);               /* no address */
    CHECK_EQ_INT(counts[5], 0);               /* neither link nor slots */
    CHECK_EQ_INT(counts[6], 1);
    free(frame);
    snap_free(s);
}

/* An entry carries the record as the snapshot has it. */
TEST(gossip_entry_describes_the_record)
{
    cluster_snapshot_t *s = snap_new(2);
    node_view_t *v = &s->nodes[1];
    v->flags = NODE_MASTER | NODE_NOFAILOVER;
    v->pong_received_ms = 1700000000123LL;
    v->pport = 6999;
    uint8_t *frame;
    size_t len = gossip_build(s, BUS_MEET, &frame);
    REQUIRE(len > 0);
    bus_msg_t m;
    REQUIRE(bus_decode(frame, len, &m) == 0);
    CHECK_EQ_INT(m.hdr.type, BUS_MEET);
    REQUIRE(m.hdr.count == 1);
    bus_gossip_t g;
    REQUIRE(bus_msg_gossip(&m, 0, &g));
    CHECK(!memcmp(g.name, v->name, BUS_NAME_LEN));
    CHECK_EQ_STR(g.ip, v->ip);
    CHECK_EQ_INT(g.port, v->port);
    CHECK_EQ_INT(g.cport, v->cport);
    CHECK_EQ_INT(g.pport, 6999);
    CHECK_EQ_INT(g.flags, NODE_MASTER | NODE_NOFAILOVER);
    CHECK_EQ_INT(g.pong_received, 1700000000);
    free(frame);
    snap_free(s);
}

/* Every PFAIL record goes into every frame, once, on top of the random
 * ones (7.0.15's wanted + pfail_wanted); one in handshake does not. */
TEST(gossip_always_carries_every_pfail_record)
{
    cluster_snapshot_t *s = snap_new(40);
    s->nodes[7].flags |= NODE_PFAIL;
    s->nodes[23].flags |= NODE_PFAIL;
    s->nodes[31].flags |= NODE_PFAIL | NODE_HANDSHAKE;
    s->pfail_count = 2;                       /* as state_publish counts them */
    int counts[40], unknown;
    for (int round = 0; round < 20; round++) {
        size_t len;
        const uint8_t *frame = gossip_build_reply(s, &len);
        REQUIRE(frame && len > 0);
        int n = gossip_counts(s, frame, len, BUS_PONG, counts, &unknown);
        CHECK_EQ_INT(unknown, 0);
        CHECK_EQ_INT(counts[0], 0);
        CHECK_EQ_INT(counts[7], 1);
        CHECK_EQ_INT(counts[23], 1);
        CHECK_EQ_INT(counts[31], 0);
        int others = 0;
        for (int i = 0; i < 40; i++) {
            CHECK(counts[i] <= 1);
            if (i != 7 && i != 23) others += counts[i];
        }
        /* max(3, 40/10) = 4 random records at most, and some found in 12 tries */
        CHECK(others >= 1 && others <= 4);
        CHECK_EQ_INT(n, others + 2);
    }
    snap_free(s);
}

/* How many: a reply to a PING carries 7.0.15's max(3, N/10); our own PINGs
 * (and PONG broadcasts) up to 64. */
TEST(gossip_counts_follow_the_cluster_size)
{
    cluster_snapshot_t *s = snap_new(200);
    int counts[200], unknown;
    size_t len;
    const uint8_t *reply = gossip_build_reply(s, &len);
    REQUIRE(reply && len > 0);
    CHECK_EQ_INT(gossip_counts(s, reply, len, BUS_PONG, counts, &unknown), 20);
    CHECK_EQ_INT(counts[0], 0);
    for (int i = 0; i < 200; i++) CHECK(counts[i] <= 1);
    uint8_t *frame;
    len = gossip_build(s, BUS_PING, &frame);
    REQUIRE(len > 0);
    CHECK_EQ_INT(gossip_counts(s, frame, len, BUS_PING, counts, &unknown), 64);
    CHECK_EQ_INT(counts[0], 0);
    for (int i = 0; i < 200; i++) CHECK(counts[i] <= 1);
    free(frame);
    snap_free(s);

    /* five nodes: a reply never carries more than N - 2 records (the receiver is left out) */
    s = snap_new(5);
    for (int round = 0; round < 20; round++) {
        reply = gossip_build_reply(s, &len);
        REQUIRE(reply && len > 0);
        int n = gossip_counts(s, reply, len, BUS_PONG, counts, &unknown);
        CHECK(n >= 1 && n <= 3);
        CHECK_EQ_INT(counts[0], 0);
        for (int i = 0; i < 5; i++) CHECK(counts[i] <= 1);
    }
    snap_free(s);
}

/* Our announced hostname travels as an extension on every frame. */
TEST(gossip_frames_carry_our_hostname)
{
    cluster_snapshot_t *s = snap_new(3);
    s->nodes[0].hostname = "node-a.example";
    uint8_t *frame;
    size_t len = gossip_build(s, BUS_PING, &frame);
    REQUIRE(len > 0);
    bus_msg_t m;
    REQUIRE(bus_decode(frame, len, &m) == 0);
    CHECK(m.hdr.mflags[0] & BUS_MFLAG_EXT_DATA);
    REQUIRE(m.u.ping.has_hostname);
    CHECK_EQ_INT(m.u.ping.hostname_len, strlen("node-a.example"));
    CHECK(!memcmp(m.u.ping.hostname, "node-a.example", m.u.ping.hostname_len));
    free(frame);
    snap_free(s);
}

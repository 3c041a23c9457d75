/* test_bus_digest.c - the link's digest of members' frames
 * (actors/bus/bus_digest.c) and the liveness it writes instead
 * (actors/state/state_live.[ch]): for each kind of change (and for none) a
 * PING or PONG judged against a published snapshot yields exactly the items
 * that must go to the state actor; a steady PONG and a new replication
 * offset are liveness only; PONGs noted by links answer pings exactly once;
 * the snapshot's name index; and a property test that applying every frame
 * whole and applying "digest + liveness" (the frame whole only when the
 * digest names something) leave two states with the same node table, ping
 * and pong times, offsets, failure reports, epochs and outbox, over
 * randomized sequences of PINGs, PONGs and our own PINGs.
 */
#include "actors/bus/bus_digest.h"
#include "tests/unit/state_fixture.h"

static const cluster_snapshot_t *published(state_t *st)
{
    state_publish(st);
    return rt_snap_writer_current(st->cell);
}

/* A cluster of myself (1, master, epoch 1, slots 0-99), 2 (master, epoch 2,
 * slots 100-199) with a replica 3, and a master 4 (epoch 4, no slots). */
static state_t *cluster(void)
{
    state_t *st = fx_fresh(1);
    st->nodes[st->myself].config_epoch = 1;
    int a = fx_add(st, 2, NODE_MASTER, true);
    int r = fx_add(st, 3, NODE_SLAVE, true);
    int c = fx_add(st, 4, NODE_MASTER, true);
    st->nodes[a].config_epoch = 2;
    st->nodes[c].config_epoch = 4;
    st->nodes[r].master = a;
    st->nodes[r].config_epoch = 2;       /* a replica's record holds its master's (§5.9) */
    st->current_epoch = 4;
    fx_own(st, st->myself, 0, 99);
    fx_own(st, a, 100, 199);
    return st;
}

static uint32_t judge(state_t *st, int from, const bus_msg_t *m, int *sender)
{
    const cluster_snapshot_t *s = published(st);
    bus_digest_src_t src = { .link = st->nodes[from].in_link, .outbound = false, .peer_ip = "10.9.9.9" };
    bus_digest_cache_t cache;
    memset(&cache, 0, sizeof cache);
    cache.hint = -1;
    return bus_digest(s, &src, m, m->hdr.myslots, rt_now_ms(), &cache, sender);
}

/* The header record idx sends: a replica claims its master's slots (§2.5). */
static void member_header(const state_t *st, int idx, bus_header_t *h)
{
    fx_header(st, idx, h);
    int m = st->nodes[idx].master;
    if ((st->nodes[idx].flags & NODE_SLAVE) && m >= 0) {
        memset(h->myslots, 0, sizeof h->myslots);
        for (int s = 0; s < SLOT_COUNT; s++)
            if (st->slot_owner[s] == m) bus_slot_set(h->myslots, (unsigned)s);
        h->config_epoch = st->nodes[m].config_epoch;
    }
}

/* The PING member idx would send as the state knows it, with `count` entries. */
static bool steady_ping(state_t *st, int idx, const bus_gossip_t *g, unsigned count, bus_msg_t *m, bus_header_t *h)
{
    member_header(st, idx, h);
    return fx_ping(BUS_PING, h, g, count, m);
}

TEST(digest_steady_ping_needs_only_liveness)
{
    state_t *st = cluster();
    bus_header_t h;
    bus_gossip_t g[2];
    fx_entry(st, 3, NODE_SLAVE, &g[0]);
    fx_entry(st, st->myself, NODE_MASTER, &g[1]);
    bus_msg_t m;
    for (int idx = 1; idx <= 3; idx++) {
        REQUIRE(steady_ping(st, idx, g, 2, &m, &h));
        int sender = -1;
        CHECK_EQ_INT(judge(st, idx, &m, &sender), 0);
        CHECK_EQ_INT(sender, idx);
    }
}

/* Each header change names exactly its item. */
TEST(digest_names_each_header_change)
{
    state_t *st = cluster();
    bus_header_t h;
    bus_msg_t m;
    int sender;
#define ONE(idx, edit, item) do { member_header(st, idx, &h); edit; REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m)); \
        CHECK_EQ_INT(judge(st, idx, &m, &sender), (item)); } while (0)
    ONE(1, h.current_epoch = 5, BUS_DG_EPOCH);
    ONE(1, h.config_epoch = 3, BUS_DG_EPOCH);
    ONE(1, h.config_epoch = 1, 0);                            /* an older epoch is not taken */
    st->nodes[st->myself].config_epoch = 2;
    st->dirty_snapshot = true;
    ONE(1, (void)0, BUS_DG_COLLISION);                        /* a master with our configEpoch */
    st->nodes[st->myself].config_epoch = 1;
    st->dirty_snapshot = true;
    ONE(1, h.offset = 77, 0);                                 /* an offset is liveness (state_live.h) */
    ONE(1, h.offset = NODE_LIVE_OFFSET_NONE, BUS_DG_OFFSET);  /* too large for the slot */
    ONE(1, h.flags |= NODE_NOFAILOVER, BUS_DG_FLAGS);
    ONE(1, h.port = 7001, BUS_DG_ADDRESS);
    ONE(1, h.cport = 17001, BUS_DG_ADDRESS);
    ONE(1, h.pport = 6000, BUS_DG_ADDRESS);
    ONE(1, snprintf(h.myip, sizeof h.myip, "10.1.1.1"), BUS_DG_ADDRESS);
    ONE(1, h.myip[0] = '\0', BUS_DG_ADDRESS);                  /* the socket's 10.9.9.9 */
    ONE(1, bus_slot_set(h.myslots, 5000), BUS_DG_SLOTS);
    ONE(1, bus_slot_clear(h.myslots, 150), BUS_DG_SLOTS);
    ONE(2, bus_slot_set(h.myslots, 5000), BUS_DG_SLOTS);       /* a replica claims its master's slots */
    ONE(1, (memcpy(h.slaveof, st->nodes[3].name, NODE_NAME_LEN), h.has_master = true), BUS_DG_ROLE);
    ONE(2, (memset(h.slaveof, 0, sizeof h.slaveof), h.has_master = false), BUS_DG_ROLE);
    ONE(2, memcpy(h.slaveof, st->nodes[3].name, NODE_NAME_LEN), BUS_DG_ROLE);
#undef ONE
    /* a hostname where we have none, and none where we have one */
    fx_header(st, 1, &h);
    const char host[8] = "node-b";
    bus_ext_t ext = { .type = BUS_EXT_HOSTNAME, .payload = (const uint8_t *)host, .len = 8 };
    size_t len = bus_build_ping(fx_buf, sizeof fx_buf, &h, BUS_PING, NULL, 0, &ext, 1);
    REQUIRE(fx_decode(fx_buf, len, &m));
    CHECK_EQ_INT(judge(st, 1, &m, &sender), BUS_DG_HOSTNAME);
    snprintf(st->nodes[1].hostname, sizeof st->nodes[1].hostname, "node-b");
    st->dirty_snapshot = true;
    CHECK_EQ_INT(judge(st, 1, &m, &sender), 0);
    fx_header(st, 1, &h);
    REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m));
    CHECK_EQ_INT(judge(st, 1, &m, &sender), BUS_DG_HOSTNAME);
}

/* Record 1 of cluster() on its inbound link: a PING as it sends them, the
 * link, and the link's cache as a new link starts it. */
typedef struct member_link {
    bus_header_t h;
    bus_msg_t m;
    bus_digest_src_t src;
    bus_digest_cache_t cache;
} member_link_t;

static bool member_link(state_t *st, member_link_t *l)
{
    memset(l, 0, sizeof *l);
    l->src = (bus_digest_src_t){ .link = st->nodes[1].in_link, .outbound = false, .peer_ip = "10.9.9.9" };
    l->cache.hint = -1;
    member_header(st, 1, &l->h);
    return fx_ping(BUS_PING, &l->h, NULL, 0, &l->m);
}

/* A steady member's claim stays steady across ten publishes, and once its
 * master's slots moved the same claim is named a slot change at once; the
 * link keeps no bitmap of its own for this (a 2 KB one per link was 4 MB
 * at 1,000 peers): the claim is compared with the snapshot's owner table. */
TEST(digest_slot_claim_follows_slot_owners_without_a_cached_bitmap)
{
    CHECK(sizeof(bus_digest_cache_t) <= 48);   /* runs, not a 2 KB bitmap */
    state_t *st = cluster();
    member_link_t l;
    REQUIRE(member_link(st, &l));
    bus_msg_t m = l.m;
    bus_digest_src_t src = l.src;
    bus_digest_cache_t cache = l.cache;
    int sender = -1;
    const cluster_snapshot_t *s = published(st);
    CHECK_EQ_INT(bus_digest(s, &src, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), 0);
    for (int k = 0; k < 10; k++) {
        st->nodes[2].pong_received_ms++;       /* a soft change: a new version, the same owners */
        st->dirty_soft = true;
        s = published(st);
        CHECK_EQ_INT(bus_digest(s, &src, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), 0);
    }
    fx_own(st, 1, 200, 299);                   /* record 1 now owns more than it claims */
    st->dirty_snapshot = true;
    s = published(st);
    CHECK_EQ_INT(bus_digest(s, &src, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), BUS_DG_SLOTS);
}

/* bus_digest_claim_is against the plain definition (bit j set exactly
 * where slot j's owner is the record) over random owner tables: ranges and
 * scattered slots, every record (and one owning nothing), and each claim
 * with one bit turned anywhere. */
TEST(digest_claim_is_the_owner_tables_bitmap)
{
    state_t *st = cluster();
    const cluster_snapshot_t *s0 = published(st);
    cluster_snapshot_t *s = malloc(sizeof *s);
    REQUIRE(s != NULL);
    memcpy(s, s0, sizeof *s);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    uint8_t claim[BUS_SLOT_BYTES];
    for (int round = 0; round < 200; round++) {
        for (int j = 0; j < SLOT_COUNT; j++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            int16_t o = (int16_t)((seed >> 33) % 7) - 1;     /* -1 (unassigned) .. 5 */
            /* runs of one owner, as clusters have them, or scattered */
            s->slot_owner[j] = (round & 1) && j > 0 && ((seed >> 20) & 15) ? s->slot_owner[j - 1] : o;
        }
        for (int rec = -1; rec <= 6; rec++) {
            memset(claim, 0, sizeof claim);
            for (int j = 0; j < SLOT_COUNT; j++)
                if (s->slot_owner[j] == rec) claim[j >> 3] |= (uint8_t)(1u << (j & 7));
            CHECK(bus_digest_claim_is(s, rec, claim));
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            int j = (int)((seed >> 33) % SLOT_COUNT);
            claim[j >> 3] ^= (uint8_t)(1u << (j & 7));
            CHECK(!bus_digest_claim_is(s, rec, claim));
        }
    }
    free(s);
}

/* The runs a link keeps of a claim: bus_digest_claim_runs finds them (or
 * says there are too many) and bus_digest_claim_matches_runs accepts that
 * claim and refuses it with any one bit flipped (at random, and at each
 * run's edges inside and out), over random claims of 0 to 6 runs, some
 * touching the ends and word edges. */
TEST(digest_claim_runs_round_trip)
{
    uint64_t seed = 0x2545f4914f6cdd1dull;
    uint8_t claim[BUS_SLOT_BYTES];
    for (int round = 0; round < 3000; round++) {
        memset(claim, 0, sizeof claim);
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        int want = (int)((seed >> 33) % 7), made = 0, at = 0;
        for (int r = 0; r < want && at < SLOT_COUNT; r++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            int gap = r == 0 && (seed & 1) ? 0 : 1 + (int)((seed >> 20) % 3000);
            int len = 1 + (int)((seed >> 40) % ((seed & 2) ? 64 : 4000));
            int from = at + gap, to = from + len - 1;
            if (from >= SLOT_COUNT) break;
            if (to >= SLOT_COUNT) to = SLOT_COUNT - 1;
            for (int j = from; j <= to; j++) claim[j >> 3] |= (uint8_t)(1u << (j & 7));
            made++;
            at = to + 1;
        }
        uint16_t from[BUS_DIGEST_CLAIM_RUNS], to[BUS_DIGEST_CLAIM_RUNS];
        int n = bus_digest_claim_runs(claim, from, to, BUS_DIGEST_CLAIM_RUNS);
        if (made > BUS_DIGEST_CLAIM_RUNS) {
            CHECK_EQ_INT(n, -1);
            continue;
        }
        CHECK_EQ_INT(n, made);
        CHECK(bus_digest_claim_matches_runs(claim, from, to, n));
        /* each run's edges, inside and out (the partial bytes at a range's ends) */
        for (int k = 0; k < n; k++) {
            int edge[4] = { from[k] - 1, from[k], to[k], to[k] + 1 };
            for (int e = 0; e < 4; e++) {
                int j = edge[e];
                if (j < 0 || j >= SLOT_COUNT) continue;
                claim[j >> 3] ^= (uint8_t)(1u << (j & 7));
                CHECK(!bus_digest_claim_matches_runs(claim, from, to, n));
                claim[j >> 3] ^= (uint8_t)(1u << (j & 7));
            }
        }
        CHECK(bus_digest_claim_matches_runs(claim, from, to, n));
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        int j = (int)((seed >> 33) % SLOT_COUNT);
        claim[j >> 3] ^= (uint8_t)(1u << (j & 7));
        CHECK(!bus_digest_claim_matches_runs(claim, from, to, n));
    }
}

/* A member flooding PINGs with one claim while the snapshot stays: the owner
 * table is scanned for the first frame only; a different claim on the same
 * snapshot is still a slot change, and a new snapshot is scanned again. */
TEST(digest_steady_claim_scans_the_owner_table_once_per_snapshot)
{
    state_t *st = cluster();
    member_link_t l;
    REQUIRE(member_link(st, &l));
    bus_msg_t m = l.m;
    bus_digest_src_t src = l.src;
    bus_digest_cache_t cache = l.cache;
    int sender = -1;
    const cluster_snapshot_t *s = published(st);
    unsigned long long scans = bus_digest_owner_scans();
    for (int k = 0; k < 100; k++)
        CHECK_EQ_INT(bus_digest(s, &src, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), 0);
    CHECK(bus_digest_owner_scans() - scans == 1);
    uint8_t other[BUS_SLOT_BYTES];
    memcpy(other, m.hdr.myslots, sizeof other);
    other[BUS_SLOT_BYTES - 1] ^= 0x80;                 /* slot 16383 claimed or dropped */
    CHECK_EQ_INT(bus_digest(s, &src, &m, other, rt_now_ms(), &cache, &sender), BUS_DG_SLOTS);
    CHECK_EQ_INT(bus_digest(s, &src, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), 0);
    st->nodes[2].pong_received_ms++;                   /* a new snapshot, the same owners */
    st->dirty_soft = true;
    s = published(st);
    scans = bus_digest_owner_scans();
    CHECK_EQ_INT(bus_digest(s, &src, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), 0);
    CHECK(bus_digest_owner_scans() - scans == 1);
}

/* Who sends, on which link, and what kind of frame. */
TEST(digest_forwards_what_is_not_a_bound_member_ping)
{
    state_t *st = cluster();
    bus_header_t h;
    bus_msg_t m;
    int sender;
    const cluster_snapshot_t *s = published(st);
    bus_digest_cache_t cache = { .hint = -1 };
    fx_header(st, 1, &h);
    REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m));
    bus_digest_src_t in = { .link = st->nodes[1].in_link, .outbound = false, .peer_ip = "10.9.9.9" };
    bus_digest_src_t out = { .link = st->nodes[1].out_link, .outbound = true, .peer_ip = "10.9.9.9" };
    bus_digest_src_t unbound = { .link = 555, .outbound = false, .peer_ip = "10.9.9.9" };
    CHECK_EQ_INT(bus_digest(s, &in, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), 0);
    CHECK_EQ_INT(bus_digest(s, &out, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), BUS_DG_TYPE);
    CHECK_EQ_INT(bus_digest(s, &unbound, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), BUS_DG_SENDER);
    CHECK_EQ_INT(bus_digest(NULL, &in, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), BUS_DG_SENDER);
    /* another record's name on this record's link */
    fx_header(st, 2, &h);
    REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m));
    CHECK_EQ_INT(bus_digest(s, &in, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), BUS_DG_SENDER);
    /* a PONG on either link (on the inbound one: a broadcast PONG) is judged
     * too; a MEET, and a PING on our own link, go whole */
    fx_header(st, 1, &h);
    REQUIRE(fx_ping(BUS_PONG, &h, NULL, 0, &m));
    CHECK_EQ_INT(bus_digest(s, &in, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), 0);
    CHECK_EQ_INT(bus_digest(s, &out, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), 0);
    CHECK_EQ_INT(bus_digest(s, &unbound, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), BUS_DG_SENDER);
    REQUIRE(fx_ping(BUS_MEET, &h, NULL, 0, &m));
    CHECK_EQ_INT(bus_digest(s, &in, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), BUS_DG_TYPE);
    /* a PONG with another name on our link to 1 (its rule takes the address away) */
    fx_header(st, 2, &h);
    REQUIRE(fx_ping(BUS_PONG, &h, NULL, 0, &m));
    CHECK_EQ_INT(bus_digest(s, &out, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), BUS_DG_SENDER);
    /* a PONG from a node we hold as PFAIL: on our link it clears the flag */
    st->nodes[1].flags |= NODE_PFAIL;
    s = published(st);
    fx_header(st, 1, &h);
    h.flags &= (uint16_t)~NODE_PFAIL;
    REQUIRE(fx_ping(BUS_PONG, &h, NULL, 0, &m));
    CHECK_EQ_INT(bus_digest(s, &out, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), BUS_DG_FAILING);
    CHECK_EQ_INT(bus_digest(s, &in, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), 0);
    st->nodes[1].flags &= (uint16_t)~NODE_PFAIL;
    /* our own IP unknown matters to a PING only (§5.4) */
    st->nodes[st->myself].ip[0] = '\0';
    s = published(st);
    CHECK_EQ_INT(bus_digest(s, &out, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), 0);
    snprintf(st->nodes[st->myself].ip, sizeof st->nodes[st->myself].ip, "10.0.0.1");
    fx_header(st, 1, &h);
    /* a sender in handshake */
    st->nodes[1].flags |= NODE_HANDSHAKE;
    s = published(st);
    REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m));
    CHECK_EQ_INT(bus_digest(s, &in, &m, m.hdr.myslots, rt_now_ms(), &cache, &sender), BUS_DG_SENDER);
    st->nodes[1].flags &= (uint16_t)~NODE_HANDSHAKE;
    /* our own IP unknown; our master's header */
    st->nodes[st->myself].ip[0] = '\0';
    CHECK_EQ_INT(judge(st, 1, &m, &sender), BUS_DG_OWN_IP);
    snprintf(st->nodes[st->myself].ip, sizeof st->nodes[st->myself].ip, "10.0.0.1");
    st->nodes[st->myself].flags = NODE_MYSELF | NODE_SLAVE;
    st->nodes[st->myself].master = 1;
    CHECK_EQ_INT(judge(st, 1, &m, &sender), BUS_DG_OUR_MASTER);
}

/* Gossip: an unknown node, a report, a report to withdraw, a later pong time,
 * a new address for a failing node; and the same entries from a replica. */
TEST(digest_names_each_gossip_change)
{
    state_t *st = cluster();
    bus_header_t h;
    bus_msg_t m;
    bus_gossip_t g;
    int sender;
    long long now = rt_now_ms();
#define GOSSIP(from, edit, item) do { fx_entry(st, 3, NODE_MASTER, &g); edit; \
        REQUIRE(steady_ping(st, from, &g, 1, &m, &h)); CHECK_EQ_INT(judge(st, from, &m, &sender), (item)); } while (0)
    GOSSIP(1, (void)0, 0);
    GOSSIP(1, fx_name(g.name, 99), BUS_DG_GOSSIP_NEW);
    GOSSIP(1, (fx_name(g.name, 99), g.flags |= NODE_NOADDR), 0);     /* the rules ignore it */
    GOSSIP(1, g.name[0] = 'Z', 0);                                   /* an invalid name is skipped */
    GOSSIP(1, g.flags |= NODE_PFAIL, BUS_DG_GOSSIP_REPORT);
    GOSSIP(1, g.flags |= NODE_FAIL, BUS_DG_GOSSIP_REPORT);
    GOSSIP(2, g.flags |= NODE_PFAIL, 0);                             /* a replica's report counts for nothing */
    GOSSIP(1, g.pong_received = (uint32_t)(now / 1000), 0);        /* later than ours: liveness */
    GOSSIP(1, g.pong_received = (uint32_t)(now / 1000 + 60), 0);     /* too far ahead: ignored */
    GOSSIP(1, g.port = 7005, 0);                                     /* not failing here: not taken */
    st->nodes[3].pong_received_ms = now;
    GOSSIP(1, g.pong_received = (uint32_t)(now / 1000), 0);          /* not later than ours */
    st->nodes[3].flags |= NODE_PFAIL;
    GOSSIP(1, g.port = 7005, BUS_DG_GOSSIP_ADDR);
    GOSSIP(1, (g.port = 7005, g.flags |= NODE_NOADDR), 0);
    st->nodes[3].flags &= (uint16_t)~NODE_PFAIL;
    /* a report held by a master that now gossips the node healthy */
    state_node_t *n = &st->nodes[3];
    n->reports = calloc(1, sizeof *n->reports);
    REQUIRE(n->reports);
    n->capreports = n->nreports = 1;
    memcpy(n->reports[0].reporter, st->nodes[1].name, NODE_NAME_LEN + 1);
    n->reports[0].time_ms = now;
    st->dirty_snapshot = true;
    GOSSIP(1, (void)0, BUS_DG_GOSSIP_REPORT);
    GOSSIP(2, (void)0, 0);
#undef GOSSIP
}

/* bus_digest_take on a quiet state (gen even, nothing pending), as a link
 * does it: the snapshot, gen loaded first. */
static enum bus_digest_take take(state_t *st, int from, bool outbound, const bus_msg_t *m, long long now)
{
    if (st->dirty_snapshot || st->dirty_soft) state_publish(st);
    const cluster_snapshot_t *s = rt_snap_writer_current(st->cell);
    state_quiet(st);
    uint64_t g1 = atomic_load(&st->live->gen);
    bus_digest_src_t src = { .link = outbound ? st->nodes[from].out_link : st->nodes[from].in_link,
                             .outbound = outbound, .peer_ip = "10.9.9.9" };
    bus_digest_cache_t cache = { .hint = -1 };
    return bus_digest_take(s, g1, false, &src, m, m->hdr.myslots, now, &cache);
}

/* A steady PONG on our link is liveness only: counted in the sender's slot,
 * shown to snapshot readers at once, applied by the state actor when it next
 * starts anything (ping_sent 0, pong_received the PONG's time). A PONG with
 * a change goes whole and counts nothing. */
TEST(digest_steady_pong_is_liveness_only)
{
    state_t *st = cluster();
    long long t0 = rt_now_ms() - 5000;
    st->nodes[1].ping_sent_ms = t0;
    st->nodes[1].pong_received_ms = t0 - 1000;
    st->dirty_snapshot = true;
    bus_header_t h;
    bus_msg_t m;
    member_header(st, 1, &h);
    REQUIRE(fx_ping(BUS_PONG, &h, NULL, 0, &m));
    long long t1 = rt_now_ms();
    CHECK_EQ_INT(take(st, 1, true, &m, t1), BUS_TAKE_DONE);
    CHECK_EQ_INT(st->nodes[1].ping_sent_ms, t0);              /* not applied yet */
    const cluster_snapshot_t *s = rt_snap_writer_current(st->cell);
    CHECK_EQ_INT(node_view_ping_sent(s, 1), 0);               /* but readers see it */
    CHECK_EQ_INT(node_view_pong_received(s, 1), t1);
    CHECK_EQ_INT(node_view_data_received(s, 1), t1);
    state_busy(st);                                           /* the next message or tick */
    CHECK_EQ_INT(st->nodes[1].ping_sent_ms, 0);
    CHECK_EQ_INT(st->nodes[1].pong_received_ms, t1);
    CHECK_EQ_INT(state_data_received(st, 1), t1);
    CHECK_EQ_INT(st->out.nops, 0);
    /* on the inbound link (a broadcast PONG): data_received, no PONG rule */
    st->nodes[1].ping_sent_ms = t0;
    long long t2 = t1 + 7;
    CHECK_EQ_INT(take(st, 1, false, &m, t2), BUS_TAKE_DONE);
    state_busy(st);
    CHECK_EQ_INT(st->nodes[1].ping_sent_ms, t0);
    CHECK_EQ_INT(state_data_received(st, 1), t2);
    /* with a change (a larger configEpoch): nothing written, the frame goes */
    st->nodes[1].ping_sent_ms = t0;
    h.config_epoch = 9;
    REQUIRE(fx_ping(BUS_PONG, &h, NULL, 0, &m));
    CHECK_EQ_INT(take(st, 1, true, &m, t2 + 1), BUS_TAKE_FORWARD);
    state_busy(st);
    CHECK_EQ_INT(st->nodes[1].ping_sent_ms, t0);
    CHECK_EQ_INT(state_data_received(st, 1), t2);
    fx_apply(st, st->nodes[1].out_link, true, &m);
    CHECK_EQ_INT(st->nodes[1].ping_sent_ms, 0);
    CHECK_EQ_INT(st->nodes[1].config_epoch, 9);
    /* while the state actor is busy (gen odd) a link writes nothing */
    st->nodes[1].ping_sent_ms = t0;
    member_header(st, 1, &h);
    REQUIRE(fx_ping(BUS_PONG, &h, NULL, 0, &m));
    s = published(st);
    state_busy(st);
    bus_digest_src_t out = { .link = st->nodes[1].out_link, .outbound = true, .peer_ip = "10.9.9.9" };
    bus_digest_cache_t cache = { .hint = -1 };
    CHECK_EQ_INT(bus_digest_take(s, atomic_load(&st->live->gen), false, &out, &m, m.hdr.myslots, t2 + 2, &cache),
                 BUS_TAKE_FORWARD);
    CHECK_EQ_INT(node_live_pongs(st->live, st->nodes[1].live_slot, st->nodes[1].live_tag), 1);
}

/* A PONG counted by a link answers the pings sent before it, never one sent
 * after (even in the same millisecond): counts, not times, decide. And the
 * race where the state actor started something while the link wrote: the
 * frame goes too, marked, and its PONG is applied once. */
TEST(digest_noted_pong_answers_each_ping_once)
{
    state_t *st = cluster();
    bus_header_t h;
    bus_msg_t m;
    member_header(st, 1, &h);
    REQUIRE(fx_ping(BUS_PONG, &h, NULL, 0, &m));
    long long now = rt_now_ms();
    CHECK_EQ_INT(take(st, 1, true, &m, now), BUS_TAKE_DONE);
    state_busy(st);
    CHECK_EQ_INT(st->nodes[1].pong_received_ms, now);
    state_send_ping(st, 1, BUS_PING);                         /* a ping in the same ms as the PONG */
    long long sent = st->nodes[1].ping_sent_ms;
    CHECK(sent >= now);
    state_quiet(st);
    state_busy(st);                                           /* nothing new: the ping stays outstanding */
    CHECK_EQ_INT(st->nodes[1].ping_sent_ms, sent);
    state_outbox_clear(st);

    /* the race: gen loaded, then the state actor starts (and folds), then
     * the link writes and finds gen moved */
    const cluster_snapshot_t *s = published(st);
    state_quiet(st);
    uint64_t g1 = atomic_load(&st->live->gen);
    state_busy(st);
    bus_digest_src_t out = { .link = st->nodes[1].out_link, .outbound = true, .peer_ip = "10.9.9.9" };
    bus_digest_cache_t cache = { .hint = -1 };
    CHECK_EQ_INT(bus_digest_take(s, g1, false, &out, &m, m.hdr.myslots, now + 1, &cache), BUS_TAKE_FORWARD_NOTED);
    CHECK_EQ_INT(st->nodes[1].ping_sent_ms, sent);            /* this busy period did not see it */
    state_quiet(st);
    state_busy(st);                                           /* the frame's own message folds it first */
    CHECK_EQ_INT(st->nodes[1].ping_sent_ms, 0);
    state_send_ping(st, 1, BUS_PING);                         /* a new ping before the frame's rules ran */
    sent = st->nodes[1].ping_sent_ms;
    state_bus_src_t src = { .link = out.link, .outbound = true, .peer_ip = "10.9.9.9", .local_ip = "10.0.0.1",
                            .pong_noted = true };
    state_bus_apply(st, &src, &m);
    CHECK_EQ_INT(st->nodes[1].ping_sent_ms, sent);            /* the one PONG did not answer it twice */
    src.pong_noted = false;                                   /* an unnoted PONG is applied by the rule */
    state_bus_apply(st, &src, &m);
    CHECK_EQ_INT(st->nodes[1].ping_sent_ms, 0);
}

/* The cron's PFAIL decision sees the PONGs links noted before it ran: an old
 * ping answered by a noted PONG marks nothing, an unanswered one PFAIL, as
 * 7.0.15 decides with the PONG processed before its cron. */
TEST(digest_noted_pong_counts_for_pfail)
{
    state_t *st = cluster();
    long long now = rt_now_ms();
    long long nt = config_cluster_node_timeout();
    for (int i = 1; i <= 3; i++) {
        st->nodes[i].pong_received_ms = now;
        st->nodes[i].data_received_ms = now - nt - 1000;
        st->nodes[i].ping_sent_ms = now - nt - 1000;
    }
    st->nodes[1].data_received_ms = now - nt - 1000;
    bus_header_t h;
    bus_msg_t m;
    member_header(st, 1, &h);
    REQUIRE(fx_ping(BUS_PONG, &h, NULL, 0, &m));
    /* a PONG noted at a time as old as the ping: data_received stays old too */
    CHECK_EQ_INT(take(st, 1, true, &m, now - nt - 500), BUS_TAKE_DONE);
    state_busy(st);
    state_tick(st);
    CHECK(!(st->nodes[1].flags & (NODE_PFAIL | NODE_FAIL)));
    CHECK(st->nodes[2].flags & (NODE_PFAIL | NODE_FAIL));     /* (FAIL at once: we are the quorum) */
}

/* A later pong time in others' gossip is liveness: the link raises it in
 * that node's slot and the state actor's fold applies the rule of §5.6.2 as
 * the state stands (no ping outstanding, no reports, later than ours); with
 * reports the rule does nothing and nothing is written. */
TEST(digest_gossiped_pong_time_is_liveness)
{
    state_t *st = cluster();
    long long now = rt_now_ms();
    long long later = (now / 1000) * 1000;
    st->nodes[3].pong_received_ms = later - 5000;
    st->dirty_snapshot = true;
    bus_header_t h;
    bus_gossip_t g;
    bus_msg_t m;
    fx_entry(st, 3, NODE_MASTER, &g);
    g.pong_received = (uint32_t)(later / 1000);
    REQUIRE(steady_ping(st, 1, &g, 1, &m, &h));
    CHECK_EQ_INT(take(st, 1, false, &m, now), BUS_TAKE_DONE);
    CHECK_EQ_INT(st->nodes[3].pong_received_ms, later - 5000);
    state_busy(st);
    CHECK_EQ_INT(st->nodes[3].pong_received_ms, later);
    /* a ping outstanding when the state actor folds it: the rule takes nothing */
    st->nodes[3].pong_received_ms = later - 5000;
    st->nodes[3].ping_sent_ms = now;
    st->dirty_snapshot = true;
    CHECK_EQ_INT(take(st, 1, false, &m, now), BUS_TAKE_DONE);
    state_busy(st);
    CHECK_EQ_INT(st->nodes[3].pong_received_ms, later - 5000);
    /* taken once: a later fold, with the ping answered, does not find it again */
    st->nodes[3].ping_sent_ms = 0;
    state_quiet(st);
    state_busy(st);
    CHECK_EQ_INT(st->nodes[3].pong_received_ms, later - 5000);
    /* reports on the node (from a replica's view: the sender is 2): nothing written */
    state_node_t *n = &st->nodes[3];
    n->reports = calloc(1, sizeof *n->reports);
    REQUIRE(n->reports);
    n->capreports = n->nreports = 1;
    memcpy(n->reports[0].reporter, st->nodes[1].name, NODE_NAME_LEN + 1);
    n->reports[0].time_ms = now;
    st->dirty_snapshot = true;
    REQUIRE(steady_ping(st, 2, &g, 1, &m, &h));
    CHECK_EQ_INT(take(st, 2, false, &m, now), BUS_TAKE_DONE);
    CHECK_EQ_INT(atomic_load(&st->live->node[n->live_slot].gossip_pong) & NODE_LIVE_MS_MASK, 0);
    state_busy(st);
    CHECK_EQ_INT(st->nodes[3].pong_received_ms, later - 5000);
}

/* The cron's ping decision (§5.10) sees a pong time that came only through
 * digested gossip, as it sees one from the frame applied whole: a record
 * whose own PONG is older than node_timeout/2 but that others heard from
 * lately is not pinged; without that gossip it is. */
static int cron_pings_after_gossip(int how)
{
    state_t *st = cluster();
    long long now = rt_now_ms();
    long long nt = config_cluster_node_timeout();
    for (int k = 0; k < st->node_count; k++) {
        st->nodes[k].pong_received_ms = now - 1000;
        st->nodes[k].out_link_ctime_ms = now;
    }
    st->nodes[3].pong_received_ms = now - nt / 2 - 2000;
    st->dirty_snapshot = true;
    bus_header_t h;
    bus_gossip_t g;
    bus_msg_t m;
    fx_entry(st, 3, NODE_SLAVE, &g);
    g.pong_received = (uint32_t)(now / 1000);
    if (how == 1) {            /* digested */
        if (!steady_ping(st, 1, &g, 1, &m, &h) || take(st, 1, false, &m, now) != BUS_TAKE_DONE) return -1;
    } else if (how == 2) {     /* applied whole */
        if (!steady_ping(st, 1, &g, 1, &m, &h)) return -1;
        state_bus_src_t src = { .link = st->nodes[1].in_link, .outbound = false, .peer_ip = "10.9.9.9",
                                .local_ip = "10.0.0.1" };
        state_bus_apply(st, &src, &m);
    }
    state_outbox_clear(st);
    st->tick = 0;              /* not the once-a-second random PING's tick */
    state_busy(st);            /* the cron's timer, as cron() in state.c */
    state_tick(st);
    return fx_out_count(st, STATE_OUT_SEND, st->nodes[3].out_link);
}

TEST(digest_gossiped_pong_time_spares_the_cron_ping)
{
    CHECK_EQ_INT(cron_pings_after_gossip(0), 1);   /* no gossip: pinged */
    CHECK_EQ_INT(cron_pings_after_gossip(2), 0);   /* whole frame */
    CHECK_EQ_INT(cron_pings_after_gossip(1), 0);   /* digested: the same */
}

/* A new replication offset needs no publish: the link stores it in the
 * slot, every reader of any snapshot sees it (CLUSTER SHARDS, the elector's
 * rank), the state actor's own frames keep it in step, and an offset too
 * large for the slot goes whole. */
TEST(digest_offset_change_is_liveness)
{
    state_t *st = cluster();
    bus_header_t h;
    bus_msg_t m;
    member_header(st, 2, &h);                                 /* the replica */
    h.offset = 123456;
    REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m));
    uint64_t version = published(st)->version;
    CHECK_EQ_INT(take(st, 2, false, &m, rt_now_ms()), BUS_TAKE_DONE);
    const cluster_snapshot_t *s = rt_snap_writer_current(st->cell);
    CHECK_EQ_INT(s->version, version);                        /* no publish */
    CHECK_EQ_INT(node_view_repl_offset(s, 2), 123456);
    CHECK_EQ_INT(st->nodes[2].repl_offset, 0);                /* the record did not see the frame */
    /* a frame the state actor applies stores its offset in the slot too */
    h.offset = 99;
    h.config_epoch = 7;
    REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m));
    CHECK_EQ_INT(take(st, 2, false, &m, rt_now_ms()), BUS_TAKE_FORWARD);
    fx_apply(st, st->nodes[2].in_link, false, &m);
    CHECK_EQ_INT(node_view_repl_offset(s, 2), 99);
    CHECK_EQ_INT(st->nodes[2].repl_offset, 99);
    /* beyond the slot's range: the record holds it, the frame goes */
    h.offset = NODE_LIVE_OFFSET_NONE + 5;
    REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m));
    CHECK_EQ_INT(take(st, 2, false, &m, rt_now_ms()) != BUS_TAKE_DONE, 1);
    fx_apply(st, st->nodes[2].in_link, false, &m);
    CHECK_EQ_INT(node_view_repl_offset(published(st), 2), (long long)(NODE_LIVE_OFFSET_NONE + 5));
    /* a deleted record's slot is not written through an old snapshot */
    s = published(st);
    state_del_node(st, 2);
    h.offset = 5;
    REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m));
    node_live_offset(st->live, s->nodes[2].live_slot, s->nodes[2].live_tag, 5);
    node_live_pong(st->live, s->nodes[2].live_slot, s->nodes[2].live_tag, rt_now_ms());
    CHECK_EQ_INT(node_live_pongs(st->live, s->nodes[2].live_slot, s->nodes[2].live_tag), 0);
    CHECK_EQ_INT(atomic_load(&st->live->node[s->nodes[2].live_slot].repl_offset) & NODE_LIVE_MS_MASK,
                 (long long)NODE_LIVE_OFFSET_NONE);
}

/* The snapshot's name index: every record by name, -1 for others; shared
 * by snapshots until the names change, and each snapshot's index matches its
 * own table after deletes (which move records) and renames. */
TEST(digest_snapshot_name_index)
{
    state_t *st = cluster();
    for (unsigned n = 10; n < 300; n++) fx_add(st, n, NODE_MASTER, false);
    state_publish(st);
    /* a reader's section keeps the older snapshots alive while new ones come */
    rt_snap_reader_t rd;
    REQUIRE(rt_snap_reader_register(st->cell, &rd) == 0);
    const cluster_snapshot_t *s1 = rt_snap_read_begin(&rd);
    for (int i = 0; i < s1->node_count; i++) CHECK_EQ_INT(cluster_snapshot_find(s1, s1->nodes[i].name), i);
    char name[NODE_NAME_LEN + 1];
    fx_name(name, 5000);
    CHECK_EQ_INT(cluster_snapshot_find(s1, name), -1);
    st->dirty_snapshot = true;
    const cluster_snapshot_t *s2 = published(st);
    CHECK(s2->names == s1->names);                            /* same names: one index */
    char gone[NODE_NAME_LEN + 1];
    memcpy(gone, st->nodes[3].name, sizeof gone);
    state_del_node(st, 3);                                    /* the last record moves to 3 */
    state_rename_node(st, 5, name);
    const cluster_snapshot_t *s3 = published(st);
    CHECK(s3->names != s1->names);
    CHECK_EQ_INT(cluster_snapshot_find(s3, gone), -1);
    CHECK_EQ_INT(cluster_snapshot_find(s3, name), 5);
    for (int i = 0; i < s3->node_count; i++) CHECK_EQ_INT(cluster_snapshot_find(s3, s3->nodes[i].name), i);
    for (int i = 0; i < s1->node_count; i++) CHECK_EQ_INT(cluster_snapshot_find(s1, s1->nodes[i].name), i);
    CHECK_EQ_INT(cluster_snapshot_find(s1, gone), 3);
    rt_snap_read_end(&rd);
    rt_snap_reader_unregister(&rd);
}

/* ---------------- property: full frames == digest + liveness ---------------- */

static state_t prop_a, prop_b;
static rt_snap_cell_t cell_a, cell_b;

#define PROP_NODES 8            /* records in the starting table, myself included */
#define PROP_POOL  12           /* names gossip may use (some unknown at first) */

static unsigned long long prop_rng = 0x9e3779b97f4a7c15ULL;
static unsigned rnd(unsigned n)
{
    prop_rng ^= prop_rng << 13;
    prop_rng ^= prop_rng >> 7;
    prop_rng ^= prop_rng << 17;
    return (unsigned)(prop_rng % n);
}

static void prop_setup(state_t *st, rt_snap_cell_t *cell)
{
    state_init(st, cell);
    char name[NODE_NAME_LEN + 1];
    fx_name(name, 1);
    st->myself = state_add_node(st, name, NODE_MYSELF | NODE_MASTER);
    snprintf(st->nodes[st->myself].ip, sizeof st->nodes[st->myself].ip, "10.0.0.1");
    st->nodes[st->myself].port = 7000;
    st->nodes[st->myself].cport = 17000;
    st->nodes[st->myself].config_epoch = 1;
    for (unsigned n = 2; n <= PROP_NODES; n++) {
        int k = fx_add(st, n, n % 3 == 1 ? NODE_SLAVE : NODE_MASTER, true);
        st->nodes[k].config_epoch = n;
    }
    for (int i = 0; i < st->node_count; i++)
        if (st->nodes[i].flags & NODE_SLAVE) {
            st->nodes[i].master = i - 1;
            st->nodes[i].config_epoch = st->nodes[i - 1].config_epoch;
        }
    st->current_epoch = PROP_NODES;
    for (int i = 0; i < st->node_count; i++)
        if (st->nodes[i].flags & NODE_MASTER)
            for (int s = i * 1000; s < i * 1000 + 500; s++) st->slot_owner[s] = (int16_t)i;
    state_recount_slots(st);
    state_publish(st);
    st->save_pending = false;
}

/* A PING or PONG (`type`) from record `from` as the state knows it, with
 * random changes now and then; a replica's offset moves on most frames, as
 * under write load. */
static size_t prop_frame(state_t *st, int from, unsigned type, long long now)
{
    bus_header_t h;
    member_header(st, from, &h);
    h.offset = (uint64_t)node_live_repl_offset(st->live, st->nodes[from].live_slot, st->nodes[from].live_tag,
                                               st->nodes[from].repl_offset);
    if ((st->nodes[from].flags & NODE_SLAVE) && rnd(4) != 0) h.offset += 1 + rnd(1000);
    unsigned r = rnd(100);
    if (r == 0) h.current_epoch += 1 + rnd(2);
    else if (r == 1) h.config_epoch += 1 + rnd(3);
    else if (r == 2) h.config_epoch = st->nodes[st->myself].config_epoch;
    else if (r == 3) h.offset = rnd(4);
    else if (r == 4) h.flags ^= NODE_NOFAILOVER;
    else if (r == 5) h.port = (uint16_t)(7000 + rnd(2));
    else if (r == 6) h.myip[0] = '\0';
    else if (r == 7) { unsigned s = rnd(8) * 1000 + rnd(600); if (bus_slot_test(h.myslots, s)) bus_slot_clear(h.myslots, s); else bus_slot_set(h.myslots, s); }
    else if (r == 8) { h.has_master = false; memset(h.slaveof, 0, sizeof h.slaveof); }
    else if (r == 9) { int m = (int)rnd((unsigned)st->node_count); if (m != from) { memcpy(h.slaveof, st->nodes[m].name, NODE_NAME_LEN); h.has_master = true; } }
    bus_gossip_t g[4];
    unsigned count = rnd(5);
    for (unsigned i = 0; i < count; i++) {
        memset(&g[i], 0, sizeof g[i]);
        unsigned n = 1 + rnd(PROP_POOL);
        fx_name(g[i].name, n);
        int k = state_find(st, g[i].name, NODE_NAME_LEN);
        snprintf(g[i].ip, sizeof g[i].ip, "10.0.0.%u", n);
        g[i].port = 7000;
        g[i].cport = 17000;
        if (k >= 0) {
            snprintf(g[i].ip, sizeof g[i].ip, "%s", st->nodes[k].ip);
            g[i].port = (uint16_t)st->nodes[k].port;
            g[i].cport = (uint16_t)st->nodes[k].cport;
            g[i].flags = st->nodes[k].flags & (uint16_t)(NODE_MASTER | NODE_SLAVE | NODE_PFAIL | NODE_FAIL);
            g[i].pong_received = (uint32_t)(st->nodes[k].pong_received_ms / 1000);
        }
        unsigned q = rnd(40);
        if (q == 0) g[i].flags |= NODE_PFAIL;
        else if (q == 1) g[i].flags &= (uint16_t)~(NODE_PFAIL | NODE_FAIL);
        else if (q == 2) g[i].pong_received = (uint32_t)(now / 1000 - rnd(30));
        else if (q == 3) g[i].port = (uint16_t)(7000 + rnd(2));
        else if (q == 4) g[i].flags |= NODE_NOADDR;
        else if (q < 9) g[i].pong_received = (uint32_t)(now / 1000);   /* others heard it lately */
    }
    char host[8] = "h";
    bus_ext_t ext = { .type = BUS_EXT_HOSTNAME, .payload = (const uint8_t *)host, .len = 8 };
    bool with_host = st->nodes[from].hostname[0] ? rnd(50) != 0 : rnd(50) == 0;
    return bus_build_ping(fx_buf, sizeof fx_buf, &h, type, g, count, with_host ? &ext : NULL, with_host ? 1 : 0);
}

#define DIFF(what) do { fprintf(stderr, "digest property: %s differs\n", what); return false; } while (0)
static bool same_state(state_t *a, state_t *b, long long slack_ms)
{
    for (int i = 0; i < a->node_count && i < b->node_count; i++)
        if (a->nodes[i].master != b->nodes[i].master || a->nodes[i].config_epoch != b->nodes[i].config_epoch)
            fprintf(stderr, "node %d flags %x/%x master %d/%d epoch %llu/%llu\n", i, a->nodes[i].flags, b->nodes[i].flags,
                    a->nodes[i].master, b->nodes[i].master, (unsigned long long)a->nodes[i].config_epoch,
                    (unsigned long long)b->nodes[i].config_epoch);
    if (a->node_count != b->node_count || a->current_epoch != b->current_epoch || a->myself != b->myself) DIFF("a->node_count != b->node_count || a->current_epoch != b->cur");
    if (memcmp(a->slot_owner, b->slot_owner, sizeof a->slot_owner) != 0) DIFF("memcmp(a->slot_owner, b->slot_owner, sizeof a->slot_owner) !");
    for (int i = 0; i < a->node_count; i++) {
        const state_node_t *x = &a->nodes[i], *y = &b->nodes[i];
        if (strcmp(x->name, y->name) || strcmp(x->ip, y->ip) || strcmp(x->hostname, y->hostname)) DIFF("strcmp(x->name, y->name) || strcmp(x->ip, y->ip) || strcmp(x");
        if (x->port != y->port || x->cport != y->cport || x->pport != y->pport || x->flags != y->flags) DIFF("x->port != y->port || x->cport != y->cport || x->pport != y-");
        if (x->master != y->master || x->config_epoch != y->config_epoch) DIFF("master or configEpoch");
        if (node_live_repl_offset(a->live, x->live_slot, x->live_tag, x->repl_offset) !=
            node_live_repl_offset(b->live, y->live_slot, y->live_tag, y->repl_offset)) DIFF("replication offset");
        if (x->nreports != y->nreports || !x->out_link != !y->out_link || x->in_link != y->in_link) DIFF("x->nreports != y->nreports || !x->out_link != !y->out_link |");
        for (int k = 0; k < x->nreports; k++) {
            bool found = false;
            for (int j = 0; j < y->nreports; j++)
                if (!strcmp(x->reports[k].reporter, y->reports[j].reporter)) found = true;
            if (!found) DIFF("!found");
        }
        /* gossiped times are the same in both; a PONG's is when each state took it */
        if (llabs(x->pong_received_ms - y->pong_received_ms) > (slack_ms < 500 ? slack_ms : 500)) {
            fprintf(stderr, "node %d: pong_received %lld / %lld\n", i, x->pong_received_ms, y->pong_received_ms);
            DIFF("pong_received");
        }
        if ((x->ping_sent_ms == 0) != (y->ping_sent_ms == 0) || llabs(x->ping_sent_ms - y->ping_sent_ms) > slack_ms)
            DIFF("ping_sent");
        if (llabs(state_data_received(a, i) - state_data_received(b, i)) > slack_ms) {
            fprintf(stderr, "node %d (%s, flags %x): data_received %lld / %lld (record %lld / %lld)\n", i, x->name, x->flags,
                    state_data_received(a, i), state_data_received(b, i), x->data_received_ms, y->data_received_ms);
            return false;
        }
    }
    return true;
}

static bool same_outbox(const state_t *a, const state_t *b)
{
    if (a->out.nops != b->out.nops) return false;
    for (int i = 0; i < a->out.nops; i++) {
        const state_out_t *x = &a->out.ops[i], *y = &b->out.ops[i];
        if (x->kind != y->kind) return false;
        /* a CONNECT reserves a fresh link id in each state: compare whom it
         * is for, and for other operations the record holding the link */
        if (x->kind == STATE_OUT_CONNECT ? strcmp(x->node, y->node) != 0
                                         : x->link != y->link && state_node_by_link((state_t *)a, x->link) !=
                                                                     state_node_by_link((state_t *)b, y->link))
            return false;
        if (x->kind == STATE_OUT_SEND) {
            const shared_frame_t *fx = a->out.frames[x->frame], *fy = b->out.frames[y->frame];
            if (fx->len != fy->len || fx->data[12] != fy->data[12] || fx->data[13] != fy->data[13]) return false;
        }
    }
    return true;
}

TEST(digest_property_full_frames_equal_digest_plus_liveness)
{
    config_reset_defaults();
    prop_setup(&prop_a, &cell_a);
    prop_setup(&prop_b, &cell_b);
    /* one link cache per record and direction, as each link keeps its own */
    bus_digest_cache_t cache[2][PROP_NODES + 1];
    memset(cache, 0, sizeof cache);
    for (int d = 0; d < 2; d++)
        for (int i = 0; i <= PROP_NODES; i++) cache[d][i].hint = -1;
    long frames = 0, digested = 0, pongs_noted = 0, races = 0, mismatches = 0;
    for (; frames < 120000; frames++) {
        long long now = rt_now_ms();
        int from = 1 + (int)rnd((unsigned)prop_a.node_count - 1);
        if (from == prop_a.myself) continue;
        /* now and then we PING a record ourselves (both states alike), so
         * that PONGs have pings to answer */
        if (rnd(6) == 0 && prop_a.nodes[from].out_link) {
            state_send_ping(&prop_a, from, BUS_PING);
            state_send_ping(&prop_b, from, BUS_PING);
        }
        /* a PONG on our link to it, or a PING on its link to us */
        bool pong = rnd(3) == 0;
        uint64_t link = pong ? prop_a.nodes[from].out_link : prop_a.nodes[from].in_link;
        /* links a state opened itself have ids of its own: B's link to the same record */
        uint64_t link_b = pong ? prop_b.nodes[from].out_link : prop_b.nodes[from].in_link;
        if (!link || !link_b) continue;
        size_t len = prop_frame(&prop_a, from, pong ? BUS_PONG : BUS_PING, now);
        bus_msg_t m;
        REQUIRE(fx_decode(fx_buf, len, &m));
        state_bus_src_t src = { .link = link, .outbound = pong, .peer_ip = "10.9.9.9", .local_ip = "10.0.0.1" };
        /* A: every frame whole */
        state_bus_apply(&prop_a, &src, &m);
        /* B: its links' publish-old snapshot: hard changes are published
         * before a link digests (state_quiet), soft ones only now and then */
        if (prop_b.dirty_snapshot || rnd(8) == 0) state_publish(&prop_b);
        state_quiet(&prop_b);
        const cluster_snapshot_t *s = rt_snap_writer_current(prop_b.cell);
        uint64_t g1 = atomic_load(&prop_b.live->gen);
        /* sometimes the state actor starts something between the link's
         * load of gen and its writes (the race of docs/cluster-bus.md §1.6) */
        bool race = rnd(16) == 0;
        if (race) state_busy(&prop_b);
        bus_digest_src_t dsrc = { .link = link_b, .outbound = pong, .peer_ip = "10.9.9.9" };
        int slot = from <= PROP_NODES ? from : 0;
        enum bus_digest_take r = bus_digest_take(s, g1, false, &dsrc, &m, m.hdr.myslots, rt_now_ms(), &cache[pong][slot]);
        state_busy(&prop_b);          /* the state actor's next message (folds noted PONGs first) */
        if (r == BUS_TAKE_DONE) {
            digested++;
            pongs_noted += pong;
        } else {
            races += r == BUS_TAKE_FORWARD_NOTED;
            src.pong_noted = r == BUS_TAKE_FORWARD_NOTED;
            src.link = link_b;
            state_bus_apply(&prop_b, &src, &m);
        }
        if (!same_outbox(&prop_a, &prop_b) || !same_state(&prop_a, &prop_b, 2000)) {
            if (mismatches++ < 3) fprintf(stderr, "digest property: states differ after frame %ld (outbox %d/%d, %s)\n",
                                          frames, prop_a.out.nops, prop_b.out.nops,
                                          same_outbox(&prop_a, &prop_b) ? "state" : "outbox");
            break;
        }
        state_outbox_clear(&prop_a);
        state_outbox_clear(&prop_b);
        prop_a.save_pending = prop_b.save_pending = false;
        if (prop_a.dirty_snapshot || prop_a.dirty_soft) state_publish(&prop_a);
    }
    CHECK_EQ_INT(mismatches, 0);
    CHECK(frames >= 100000);
    CHECK(digested > frames / 4);           /* most steady frames need nothing */
    CHECK(digested < frames);               /* and changes were made */
    CHECK(pongs_noted > frames / 20);       /* PONGs were counted as liveness */
    CHECK(races > 0);                       /* and some raced the state actor */
    fprintf(stderr, "digest property: %ld frames, %ld digested (%ld PONGs noted, %ld raced)\n", frames, digested,
            pongs_noted, races);
    state_free(&prop_a);
    state_free(&prop_b);
}

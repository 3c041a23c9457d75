/* test_bus_light.c - the light encoding between shoal peers (proto/bus_light.c,
 * docs/cluster-bus.md §9): a light frame expands into exactly the plain bytes
 * it was made from, over long random sequences; a digest the receiver cannot
 * match, an id it does not hold and a reset are errors or fresh starts, never
 * guesses; and no mutation of a light frame makes the expander read or write
 * outside its buffers (the unit runner is an ASan build). */
#include <stdlib.h>
#include <string.h>
#include "proto/bus.h"
#include "proto/bus_light.h"
#include "proto/bus_stream.h"
#include "tests/unit/unit.h"

static uint64_t rs = 0x1234567;
static uint32_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 16);
}

#define UNIVERSE 300
static bus_gossip_t universe[UNIVERSE];

static void make_universe(void)
{
    for (int i = 0; i < UNIVERSE; i++) {
        bus_gossip_t *g = &universe[i];
        memset(g, 0, sizeof *g);
        for (int k = 0; k < BUS_NAME_LEN; k++) g->name[k] = "0123456789abcdef"[rnd() % 16];
        snprintf(g->ip, sizeof g->ip, "10.%u.%u.%u", rnd() % 256, rnd() % 256, rnd() % 256);
        g->port = (uint16_t)(6000 + i);
        g->cport = (uint16_t)(16000 + i);
        g->pport = 0;
    }
}

static bus_header_t hdr;

static void make_header(void)
{
    memset(&hdr, 0, sizeof hdr);
    memcpy(hdr.sender, "aaaabbbbccccddddeeeeffff0000111122223333", BUS_NAME_LEN);
    hdr.port = 7000;
    hdr.cport = 17000;
    hdr.flags = BUS_NODE_MASTER | BUS_NODE_MYSELF;
    hdr.current_epoch = 5;
    hdr.config_epoch = 3;
    for (unsigned s = 0; s < 5461; s++) bus_slot_set(hdr.myslots, s);
}

/* A random plain frame: sometimes the slots or the header change, gossip is
 * drawn from the universe (sometimes with a changed address), times and
 * flags vary, extension records come and go. */
static size_t random_frame(uint8_t *buf, size_t cap)
{
    if (rnd() % 10 == 0) bus_slot_set(hdr.myslots, 5461 + rnd() % 1000);
    if (rnd() % 10 == 0) bus_slot_clear(hdr.myslots, rnd() % 16384);
    if (rnd() % 7 == 0) hdr.current_epoch++;
    hdr.offset += rnd() % 1000;
    hdr.mflags[0] = (uint8_t)(rnd() % 4 == 0 ? BUS_MFLAG_PAUSED : 0);
    if (rnd() % 50 == 0) {
        /* a node moves: its tuple changes */
        bus_gossip_t *g = &universe[rnd() % UNIVERSE];
        g->port = (uint16_t)(g->port + 1);
    }
    unsigned count = rnd() % 40;
    static bus_gossip_t gs[64];
    for (unsigned i = 0; i < count; i++) {
        gs[i] = universe[rnd() % UNIVERSE];
        gs[i].ping_sent = rnd() % 3 ? 0 : rnd();
        gs[i].pong_received = rnd();
        gs[i].flags = (uint16_t)(rnd() % 2 ? BUS_NODE_MASTER : BUS_NODE_SLAVE | (rnd() % 5 == 0 ? BUS_NODE_PFAIL : 0));
    }
    bus_ext_t exts[2];
    size_t n_ext = 0;
    if (rnd() % 3 == 0) bus_ext_hostname(&exts[n_ext++], "node-a.example");
    static const uint8_t shard[40] = { 1, 2, 3 };
    if (rnd() % 3 == 0) exts[n_ext++] = (bus_ext_t){ .type = BUS_EXT_SHARDID, .payload = shard, .len = 40 };
    unsigned type = rnd() % 3;
    size_t n = bus_build_ping(buf, cap, &hdr, type, gs, count, exts, n_ext);
    if (rnd() % 2) bus_light_advertise(buf, n);
    return n;
}

/* The two ends of one light link: the sender's and the receiver's pools
 * (different processes), the sender's table and the receiver's. */
static bus_light_pool_t ps, pr;
static bus_light_tx_t tx;
static bus_light_rx_t rx;

static void link_open(void)
{
    bus_light_pool_init(&ps);
    bus_light_pool_init(&pr);
    bus_light_tx_init(&tx);
    bus_light_rx_init(&rx);
}

/* Gives every reference back (a second reset is harmless), frees the pools. */
static void link_close(void)
{
    bus_light_tx_reset(&tx, &ps);
    bus_light_rx_reset(&rx, &pr);
    bus_light_pool_free(&ps);
    bus_light_pool_free(&pr);
}

/* The receiver keeps the bitmap the last frame stood for as runs of set
 * slots when it has at most BUS_LIGHT_RX_RUNS of them (a claim at N = 1,000
 * is one run: 2 KB a link was 4 MB at 1,000 peers), the bitmap itself
 * otherwise; either way every later frame that says "unchanged" expands to
 * exactly that bitmap. Runs at both ends of the slot space, byte-aligned or
 * not, single slots, none at all. */
TEST(bus_light_receiver_keeps_slot_runs_not_bitmaps)
{
    CHECK(sizeof(bus_light_rx_t) < BUS_SLOT_BYTES / 4);
    make_universe();
    make_header();
    link_open();
    static uint8_t plain[64 * 1024], light[72 * 1024], back[64 * 1024];
    /* apart from each other, so each is a run of its own */
    static const int runs[][2] = { { 0, 0 }, { 7, 8 }, { 10, 15 }, { 17, 5460 }, { 5470, 5470 },
                                   { 8000, 8191 }, { 10001, 12289 }, { 16383, 16383 }, { 14000, 14002 } };
    for (int nr = 0; nr <= 9; nr++) {
        memset(hdr.myslots, 0, sizeof hdr.myslots);
        for (int r = 0; r < nr; r++)
            for (int j = runs[r][0]; j <= runs[r][1]; j++) bus_slot_set(hdr.myslots, (unsigned)j);
        for (int k = 0; k < 3; k++) {          /* the first frame carries the bitmap, the others its digest */
            size_t n = bus_build_ping(plain, sizeof plain, &hdr, BUS_PING, NULL, 0, NULL, 0);
            REQUIRE(n > 0);
            size_t l = bus_light_encode(&ps, &tx, plain, n, light, sizeof light, NULL, 0);
            REQUIRE(l > 0);
            CHECK(k == 0 ? l > BUS_SLOT_BYTES : l < BUS_SLOT_BYTES);
            size_t bl = 0;
            REQUIRE(bus_light_expand(&pr, &rx, light, l, back, sizeof back, &bl, NULL) == BUS_LIGHT_OK);
            REQUIRE(bl == n);
            CHECK(memcmp(back, plain, n) == 0);
            CHECK(nr <= BUS_LIGHT_RX_RUNS ? rx.full == NULL && rx.nruns == nr : rx.full != NULL);
        }
    }
    link_close();
}

TEST(bus_light_round_trip_random)
{
    make_universe();
    make_header();
    link_open();
    static uint8_t plain[64 * 1024], light[72 * 1024], back[64 * 1024];
    size_t plain_total = 0, light_total = 0;
    int frames = 20000;
    for (int i = 0; i < frames; i++) {
        size_t n = random_frame(plain, sizeof plain);
        REQUIRE(n > 0);
        bus_msg_t m;
        REQUIRE(bus_decode(plain, n, &m) == BUS_OK);
        size_t l = bus_light_encode(&ps, &tx, plain, n, light, sizeof light, NULL, 0);
        REQUIRE(l > 0);
        uint32_t fl;
        REQUIRE(bus_light_frame_check(light, l, &fl) == BUS_LIGHT_OK && fl == l);
        REQUIRE(bus_light_plain_len(light, l) == n);
        size_t bl = 0;
        int r = bus_light_expand(&pr, &rx, light, l, back, sizeof back, &bl, NULL);
        REQUIRE(r == BUS_LIGHT_OK);
        REQUIRE(bl == n);
        REQUIRE(memcmp(back, plain, n) == 0);
        plain_total += n;
        light_total += l;
        if (i % 3000 == 2999) {
            /* a reconnection: both ends start over */
            bus_light_tx_reset(&tx, &ps);
            bus_light_rx_reset(&rx, &pr);
        }
    }
    /* the point of it: steady-state frames are much smaller */
    CHECK(light_total * 3 < plain_total);
    bus_light_tx_reset(&tx, &ps);
    bus_light_rx_reset(&rx, &pr);
    /* every reference was given back */
    CHECK_EQ_INT(ps.live, 0);
    CHECK_EQ_INT(pr.live, 0);
    link_close();
}

/* A link that moves to another thread mid-stream (actors/bus/link_place.c):
 * its receiver's dictionary is exported from one pool and imported into
 * another, its sender starts over with RESET; every frame before and after
 * expands to its exact plain bytes, and the old pools keep no reference. */
TEST(bus_light_link_moves_between_pools)
{
    make_universe();
    make_header();
    link_open();
    bus_light_pool_t ps2, pr2;
    bus_light_pool_init(&ps2);
    bus_light_pool_init(&pr2);
    bus_light_pool_t *send_pool = &ps, *recv_pool = &pr;
    static uint8_t plain[64 * 1024], light[72 * 1024], back[64 * 1024];
    for (int i = 0; i < 6000; i++) {
        size_t n = random_frame(plain, sizeof plain);
        REQUIRE(n > 0);
        size_t l = bus_light_encode(send_pool, &tx, plain, n, light, sizeof light, NULL, 0);
        REQUIRE(l > 0);
        size_t bl = 0;
        REQUIRE(bus_light_expand(recv_pool, &rx, light, l, back, sizeof back, &bl, NULL) == BUS_LIGHT_OK);
        REQUIRE(bl == n && memcmp(back, plain, n) == 0);
        if (i % 1000 == 999) {
            /* the receiving link moves: its tuples go from one pool to the other */
            bus_light_pool_t *to = recv_pool == &pr ? &pr2 : &pr;
            bus_light_rx_keys_t k;
            REQUIRE(bus_light_rx_export(&rx, recv_pool, &k) == 0);
            CHECK_EQ_INT(recv_pool->live, 0);
            REQUIRE(bus_light_rx_import(&rx, to, &k) == 0);
            CHECK(k.key == NULL && k.has == NULL);
            recv_pool = to;
        }
        if (i % 1500 == 1499) {
            /* the sending link moves: it starts over, telling the receiver */
            bus_light_pool_t *to = send_pool == &ps ? &ps2 : &ps;
            bus_light_tx_reset(&tx, send_pool);
            tx.reset_pending = true;
            CHECK_EQ_INT(send_pool->live, 0);
            send_pool = to;
        }
    }
    bus_light_tx_reset(&tx, send_pool);
    bus_light_rx_reset(&rx, recv_pool);
    CHECK_EQ_INT(ps.live + ps2.live + pr.live + pr2.live, 0);
    bus_light_pool_free(&ps2);
    bus_light_pool_free(&pr2);
    link_close();
}

/* Frames with more distinct tuples than ids: the sender resets both
 * dictionaries (F_RESET) and the round trip stays exact. */
TEST(bus_light_ids_run_out)
{
    link_open();
    make_header();
    static bus_gossip_t gs[1000];
    static uint8_t plain[2256 + 104 * 1000], light[2256 + 110 * 1000 + 4096], back[2256 + 104 * 1000];
    int resets = 0;
    for (int f = 0; f < 12; f++) {
        for (int i = 0; i < 1000; i++) {
            memset(&gs[i], 0, sizeof gs[i]);
            snprintf(gs[i].name, sizeof gs[i].name, "%040d", f * 1000 + i);
            snprintf(gs[i].ip, sizeof gs[i].ip, "127.0.0.1");
            gs[i].port = 1;
        }
        size_t n = bus_build_ping(plain, sizeof plain, &hdr, BUS_PING, gs, 1000, NULL, 0);
        size_t l = bus_light_encode(&ps, &tx, plain, n, light, sizeof light, NULL, 0);
        REQUIRE(l > 0);
        if (light[9] & BUS_LIGHT_F_RESET) resets++;
        size_t bl;
        REQUIRE(bus_light_expand(&pr, &rx, light, l, back, sizeof back, &bl, NULL) == BUS_LIGHT_OK);
        REQUIRE(bl == n && memcmp(back, plain, n) == 0);
        CHECK(tx.next_id <= BUS_LIGHT_MAX_IDS);
    }
    CHECK(resets >= 2);
    /* the dictionaries hold at most one epoch's tuples */
    CHECK(pr.live <= BUS_LIGHT_MAX_IDS);
    bus_light_tx_reset(&tx, &ps);
    bus_light_rx_reset(&rx, &pr);
    CHECK_EQ_INT(ps.live, 0);
    CHECK_EQ_INT(pr.live, 0);
    link_close();
}

/* Encodes two frames with the same slots and gossip; the second one is
 * digest-only and compact. */
static size_t two_frames(bus_light_pool_t *ps, bus_light_tx_t *tx, uint8_t *plain, size_t *pn,
                         uint8_t *l1, size_t *n1, uint8_t *l2)
{
    make_header();
    bus_gossip_t g[3] = { universe[0], universe[1], universe[2] };
    *pn = bus_build_ping(plain, 65536, &hdr, BUS_PING, g, 3, NULL, 0);
    *n1 = bus_light_encode(ps, tx, plain, *pn, l1, 65536, NULL, 0);
    return bus_light_encode(ps, tx, plain, *pn, l2, 65536, NULL, 0);
}

TEST(bus_light_digest_and_ids_never_guessed)
{
    make_universe();
    link_open();
    static uint8_t plain[65536], l1[65536], l2[65536], back[65536];
    size_t pn, n1, bl;
    size_t n2 = two_frames(&ps, &tx, plain, &pn, l1, &n1, l2);
    REQUIRE(n1 > 0 && n2 > 0);
    CHECK(l1[9] & BUS_LIGHT_F_SLOTS);
    CHECK(!(l2[9] & BUS_LIGHT_F_SLOTS));
    CHECK_EQ_INT(n2, BUS_LIGHT_HDR_LEN + 3 * BUS_LIGHT_COMPACT_LEN);

    /* the second frame alone, to a receiver that never had the first (a
     * stale or lost bitmap): refused, not expanded with what it holds */
    CHECK_EQ_INT(bus_light_expand(&pr, &rx, l2, n2, back, sizeof back, &bl, NULL), BUS_LIGHT_ERR_DIGEST);
    /* in order, both expand */
    bus_light_rx_reset(&rx, &pr);
    REQUIRE(bus_light_expand(&pr, &rx, l1, n1, back, sizeof back, &bl, NULL) == BUS_LIGHT_OK);
    REQUIRE(bus_light_expand(&pr, &rx, l2, n2, back, sizeof back, &bl, NULL) == BUS_LIGHT_OK);
    CHECK(bl == pn && memcmp(back, plain, pn) == 0);
    /* a digest that does not match the held bitmap */
    l2[20] ^= 1;
    CHECK_EQ_INT(bus_light_expand(&pr, &rx, l2, n2, back, sizeof back, &bl, NULL), BUS_LIGHT_ERR_DIGEST);
    l2[20] ^= 1;
    /* a full bitmap that does not match its own digest */
    l1[BUS_LIGHT_HDR_LEN + 5] ^= 0x10;
    CHECK_EQ_INT(bus_light_expand(&pr, &rx, l1, n1, back, sizeof back, &bl, NULL), BUS_LIGHT_ERR_DIGEST);
    l1[BUS_LIGHT_HDR_LEN + 5] ^= 0x10;

    /* a receiver whose dictionary was reset (a new connection) holds the
     * bitmap of nothing and the ids of nothing */
    bus_light_rx_reset(&rx, &pr);
    CHECK_EQ_INT(bus_light_expand(&pr, &rx, l2, n2, back, sizeof back, &bl, NULL), BUS_LIGHT_ERR_DIGEST);
    /* with the bitmap but not the ids: the compact entries are refused */
    REQUIRE(bus_light_expand(&pr, &rx, l1, n1, back, sizeof back, &bl, NULL) == BUS_LIGHT_OK);
    bus_light_rx_reset(&rx, &pr);
    static uint8_t l3[65536];
    make_header();
    bus_light_tx_t tx2;
    bus_light_tx_init(&tx2);
    size_t n3 = bus_light_encode(&ps, &tx2, plain, pn, l3, sizeof l3, NULL, 0);   /* full slots, full entries */
    REQUIRE(bus_light_expand(&pr, &rx, l3, n3, back, sizeof back, &bl, NULL) == BUS_LIGHT_OK);
    uint32_t held = rx.ref_of_id[1];
    rx.ref_of_id[1] = 0;   /* as if id 1 were never given */
    CHECK_EQ_INT(bus_light_expand(&pr, &rx, l2, n2, back, sizeof back, &bl, NULL), BUS_LIGHT_ERR_ID);
    rx.ref_of_id[1] = held;

    /* the sender's reset: F_RESET empties the receiver's dictionary first */
    tx.reset_pending = true;
    size_t n4 = bus_light_encode(&ps, &tx, plain, pn, l3, sizeof l3, NULL, 0);
    CHECK(l3[9] & BUS_LIGHT_F_RESET);
    CHECK_EQ_INT(n4, BUS_LIGHT_HDR_LEN + 3 * BUS_LIGHT_FULL_LEN);
    bus_light_rx_reset(&rx, &pr);
    bus_light_tx_reset(&tx, &ps);
    bus_light_tx_reset(&tx2, &ps);
    CHECK_EQ_INT(ps.live, 0);
    CHECK_EQ_INT(pr.live, 0);
    link_close();
}

TEST(bus_light_advertisement)
{
    make_header();
    static uint8_t buf[4096];
    size_t n = bus_build_ping(buf, sizeof buf, &hdr, BUS_PING, NULL, 0, NULL, 0);
    CHECK(!bus_light_advertised(buf, n));
    bus_light_advertise(buf, n);
    CHECK(bus_light_advertised(buf, n));
    /* the frame is still one 7.0.15 accepts: only reserved bytes moved */
    bus_msg_t m;
    CHECK_EQ_INT(bus_decode(buf, n, &m), BUS_OK);
    CHECK_EQ_INT(m.hdr.type, BUS_PING);
    for (size_t i = 2216; i < 2246; i++)
        if (i < BUS_LIGHT_ADV_OFF || i >= BUS_LIGHT_ADV_OFF + BUS_LIGHT_ADV_LEN) CHECK(buf[i] == 0);
    /* not a gossip type: nothing to encode */
    static uint8_t fail[BUS_FAIL_LEN], out[8192];
    size_t fn = bus_build_fail(fail, sizeof fail, &hdr, hdr.sender);
    link_open();
    CHECK_EQ_INT(bus_light_encode(&ps, &tx, fail, fn, out, sizeof out, NULL, 0), 0);
    CHECK(!tx.slots_valid);
    link_close();
}

/* Random mutations of valid light frames (bytes flipped, lengths cut,
 * fields set to extremes): each one is refused or expanded into a frame of
 * the length it claims, within the buffers. */
/* Hands a mutated light frame m (freed here) to the expander with r as the
 * framer would (the length the frame claims when that much is there, else
 * whatever is there), counts it in *ok (expanded, to exactly the length it
 * stated) or *refused, and starts the link over: a refused frame closes it,
 * and an accepted mutated one has put the two ends out of step (TCP would
 * never). The unit runner's ASan catches a read or write out of bounds. */
static void try_mutated(bus_light_rx_t *r, uint8_t *m, size_t ml, int *ok, int *refused)
{
    uint32_t fl = 0;
    size_t feed = ml >= 8 && bus_light_frame_check(m, ml, &fl) == BUS_LIGHT_OK ? fl : ml;
    size_t plain_len = bus_light_plain_len(m, feed);
    uint8_t *out = malloc(plain_len ? plain_len : 1);
    size_t bl = 0;
    if (out && bus_light_expand(&pr, r, m, feed, out, plain_len, &bl, NULL) == BUS_LIGHT_OK) {
        ++*ok;
        CHECK(bl == plain_len);
    } else {
        ++*refused;
    }
    free(out);
    free(m);
    bus_light_tx_reset(&tx, &ps);
    bus_light_rx_reset(&rx, &pr);
}

TEST(bus_light_fuzz_expand)
{
    make_universe();
    make_header();
    link_open();
    static uint8_t plain[64 * 1024], light[72 * 1024], back[64 * 1024];
    int ok = 0, refused = 0;
    for (int i = 0; i < 40000; i++) {
        size_t n = random_frame(plain, sizeof plain);
        size_t l = bus_light_encode(&ps, &tx, plain, n, light, sizeof light, NULL, 0);
        REQUIRE(l > 0);
        size_t bl;
        if (rnd() % 10) {
            /* most frames arrive intact, so the receiver holds a bitmap and
             * a dictionary for the mutated ones to hit */
            REQUIRE(bus_light_expand(&pr, &rx, light, l, back, sizeof back, &bl, NULL) == BUS_LIGHT_OK);
            REQUIRE(bl == n && memcmp(back, plain, n) == 0);
            continue;
        }
        uint8_t *m = malloc(l);
        REQUIRE(m);
        memcpy(m, light, l);
        size_t ml = l;
        int k = 1 + (int)(rnd() % 6);
        for (int j = 0; j < k; j++) {
            switch (rnd() % 5) {
            case 0: if (ml) m[rnd() % ml] ^= (uint8_t)(1u << (rnd() % 8)); break;
            case 1: ml = rnd() % (ml + 1); break;
            case 2: if (ml > 32) { m[28 + rnd() % 4] = 0xff; } break;   /* type, count */
            case 3: if (ml > 9) m[9] = (uint8_t)rnd(); break;            /* flags */
            default:
                if (ml > BUS_LIGHT_HDR_LEN + 2) {
                    size_t at = BUS_LIGHT_HDR_LEN + rnd() % (ml - BUS_LIGHT_HDR_LEN - 1);
                    m[at] = (uint8_t)rnd();
                    m[at + 1] = (uint8_t)rnd();
                }
                break;
            }
        }
        try_mutated(&rx, m, ml, &ok, &refused);
    }
    CHECK(refused > 0);
    CHECK(ok > 0);
    bus_light_tx_reset(&tx, &ps);
    bus_light_rx_reset(&rx, &pr);
    CHECK_EQ_INT(ps.live, 0);
    CHECK_EQ_INT(pr.live, 0);
    link_close();
}

/* The stream hands out light frames (framed, not decoded) only when told to
 * accept them, whatever the chunk boundaries; otherwise "RCml" is a bad
 * signature and the stream closes, as for any other. */
TEST(bus_light_stream_framing)
{
    make_universe();
    make_header();
    link_open();
    static uint8_t wire[256 * 1024], plain[64 * 1024];
    size_t wl = 0, lens[40];
    bool light[40];
    for (int i = 0; i < 40; i++) {
        size_t n = random_frame(plain, sizeof plain);
        light[i] = i % 3 != 0;
        if (light[i]) n = bus_light_encode(&ps, &tx, plain, n, wire + wl, sizeof wire - wl, NULL, 0);
        else memcpy(wire + wl, plain, n);
        REQUIRE(n > 0);
        lens[i] = n;
        wl += n;
    }
    for (int round = 0; round < 50; round++) {
        bus_stream_t s;
        bus_stream_init(&s, BUS_DEFAULT_MAX_PAYLOAD);
        bus_stream_accept_light(&s, true);
        size_t pos = 0;
        int got = 0;
        while (pos < wl) {
            size_t chunk = 1 + rnd() % 5000;
            if (chunk > wl - pos) chunk = wl - pos;
            bus_stream_feed(&s, wire + pos, chunk);
            pos += chunk;
            for (;;) {
                bus_stream_frame_t f;
                bus_msg_t m;
                int st = bus_stream_next(&s, &f, &m);
                if (st == BUS_STREAM_MORE) break;
                REQUIRE(st == BUS_STREAM_FRAME);
                REQUIRE(got < 40);
                CHECK(f.light == light[got]);
                CHECK_EQ_INT(f.len, lens[got]);
                CHECK_EQ_INT(f.result, BUS_OK);
                got++;
            }
        }
        CHECK_EQ_INT(got, 40);
        bus_stream_free(&s);
    }
    /* not accepting: the first light frame closes the stream */
    bus_stream_t s;
    bus_stream_init(&s, BUS_DEFAULT_MAX_PAYLOAD);
    bus_stream_feed(&s, wire + lens[0], lens[1]);
    bus_stream_frame_t f;
    bus_msg_t m;
    CHECK_EQ_INT(bus_stream_next(&s, &f, &m), BUS_STREAM_CLOSE);
    CHECK_EQ_INT(f.result, BUS_ERR_SIG);
    bus_stream_free(&s);
    link_close();
}

/* ---- by-view entries (§9.7) ---- */

/* A test view: the universe's tuples as one end's table holds them. */
typedef struct tview {
    uint8_t t[UNIVERSE][BUS_LIGHT_TUPLE_LEN];
    int n;
    bus_light_view_t view;
} tview_t;

static const uint8_t *tview_find(const void *ctx, const uint8_t *fp)
{
    const tview_t *tv = ctx;
    const uint8_t *hit = NULL;
    for (int i = 0; i < tv->n; i++) {
        if (memcmp(tv->t[i], fp, BUS_LIGHT_FP_LEN) != 0) continue;
        if (hit) return NULL;   /* shared fingerprint: names no one */
        hit = tv->t[i];
    }
    return hit;
}

static void tview_build(tview_t *tv)
{
    tv->n = UNIVERSE;
    uint64_t v = 0;
    for (int i = 0; i < UNIVERSE; i++) {
        uint8_t e[BUS_GOSSIP_LEN];
        bus_gossip_encode(e, &universe[i]);
        bus_light_entry_tuple(e, tv->t[i]);
        v ^= bus_light_tuple_hash(tv->t[i]);
    }
    tv->view = (bus_light_view_t){ .v = v ? v : 1, .find = tview_find, .ctx = tv };
}

/* A random frame carrying view digest v, advertised. */
static size_t view_frame(uint8_t *buf, size_t cap, uint64_t v)
{
    size_t n = random_frame(buf, cap);
    bus_light_advertise(buf, n);
    bus_light_put_view(buf, n, v);
    return n;
}

/* How many entries of a light frame went by view. */
static unsigned by_view_count(const uint8_t *l, size_t len)
{
    size_t pos = BUS_LIGHT_HDR_LEN + ((l[9] & BUS_LIGHT_F_SLOTS) ? BUS_SLOT_BYTES : 0);
    unsigned count = (unsigned)(l[24 + 6] << 8 | l[24 + 7]), k = 0;
    for (unsigned i = 0; i < count && pos + 2 <= len; i++) {
        unsigned tag = (unsigned)(l[pos] << 8 | l[pos + 1]);
        if (tag & 0x8000) pos += BUS_LIGHT_FULL_LEN;
        else if (tag == BUS_LIGHT_VIEW_TAG) { pos += BUS_LIGHT_VIEW_LEN; k++; }
        else pos += BUS_LIGHT_COMPACT_LEN;
    }
    return k;
}

TEST(bus_light_by_view_round_trip)
{
    rs = 0x9abcdef1;
    make_universe();
    make_header();
    link_open();
    static tview_t vs, vr;   /* sender's and receiver's tables */
    tview_build(&vs);
    tview_build(&vr);
    CHECK(vs.view.v == vr.view.v);
    static uint8_t plain[64 * 1024], light[72 * 1024], back[64 * 1024];
    unsigned by_view = 0, entries = 0;
    for (int i = 0; i < 4000; i++) {
        if (i % 500 == 499) {
            /* both tables move on together (random_frame moves nodes) */
            tview_build(&vs);
            tview_build(&vr);
        }
        /* the peer told us its digest: usually ours, sometimes an older one */
        uint64_t peer_v = rnd() % 8 ? vr.view.v : vr.view.v ^ 1;
        size_t n = view_frame(plain, sizeof plain, vs.view.v);
        size_t l = bus_light_encode(&ps, &tx, plain, n, light, sizeof light, &vs.view, peer_v);
        REQUIRE(l > 0);
        unsigned k = by_view_count(light, l);
        if (peer_v != vs.view.v) CHECK_EQ_INT(k, 0);
        by_view += k;
        entries += (unsigned)(plain[14] << 8 | plain[15]);
        REQUIRE(bus_light_plain_len(light, l) == n);
        size_t bl = 0;
        REQUIRE(bus_light_expand(&pr, &rx, light, l, back, sizeof back, &bl, &vr.view) == BUS_LIGHT_OK);
        REQUIRE(bl == n && memcmp(back, plain, n) == 0);
    }
    /* most entries go by view from the first frame on: no per-link warm-up */
    CHECK(by_view > entries / 2);
    link_close();
}

TEST(bus_light_by_view_mismatch_closes)
{
    rs = 0x5151;
    make_universe();
    make_header();
    link_open();
    static tview_t vs, vr;
    tview_build(&vs);
    tview_build(&vr);
    static uint8_t plain[64 * 1024], light[72 * 1024], back[64 * 1024];
    size_t n, l;
    do {
        n = view_frame(plain, sizeof plain, vs.view.v);
        bus_light_tx_reset(&tx, &ps);
        l = bus_light_encode(&ps, &tx, plain, n, light, sizeof light, &vs.view, vs.view.v);
    } while (by_view_count(light, l) == 0);
    /* the receiver's table changed meanwhile: one tuple moved */
    vr.t[0][BUS_LIGHT_TUPLE_LEN - 5] ^= 1;
    vr.view.v ^= 0x1234;
    size_t bl;
    CHECK_EQ_INT(bus_light_expand(&pr, &rx, light, l, back, sizeof back, &bl, &vr.view), BUS_LIGHT_ERR_VIEW);
    /* no view at all: the same */
    bus_light_rx_reset(&rx, &pr);
    CHECK_EQ_INT(bus_light_expand(&pr, &rx, light, l, back, sizeof back, &bl, NULL), BUS_LIGHT_ERR_VIEW);
    /* the digest right but the fingerprint names no one here (a lying
     * sender): an error, not a guess */
    bus_light_rx_reset(&rx, &pr);
    tview_build(&vr);
    vr.n = 0;
    CHECK_EQ_INT(bus_light_expand(&pr, &rx, light, l, back, sizeof back, &bl, &vr.view), BUS_LIGHT_ERR_VIEW);
    /* and with the same table it expands */
    bus_light_rx_reset(&rx, &pr);
    tview_build(&vr);
    REQUIRE(bus_light_expand(&pr, &rx, light, l, back, sizeof back, &bl, &vr.view) == BUS_LIGHT_OK);
    CHECK(bl == n && memcmp(back, plain, n) == 0);
    /* a frame whose own view bytes differ from the sender's view: no by-view entries */
    bus_light_put_view(plain, n, vs.view.v ^ 7);
    l = bus_light_encode(&ps, &tx, plain, n, light, sizeof light, &vs.view, vs.view.v);
    CHECK_EQ_INT(by_view_count(light, l), 0);
    link_close();
}

TEST(bus_light_by_view_fingerprint_collision_goes_full)
{
    rs = 0x7777;
    make_universe();
    make_header();
    /* nodes 0 and 1 share the first 8 bytes of their names */
    memcpy(universe[1].name, universe[0].name, BUS_LIGHT_FP_LEN);
    link_open();
    static tview_t vs, vr;
    tview_build(&vs);
    tview_build(&vr);
    CHECK(tview_find(&vs, (const uint8_t *)universe[0].name) == NULL);
    static uint8_t plain[64 * 1024], light[72 * 1024], back[64 * 1024];
    bus_gossip_t gs[3] = { universe[0], universe[1], universe[2] };
    size_t n = bus_build_ping(plain, sizeof plain, &hdr, BUS_PING, gs, 3, NULL, 0);
    bus_light_advertise(plain, n);
    bus_light_put_view(plain, n, vs.view.v);
    size_t l = bus_light_encode(&ps, &tx, plain, n, light, sizeof light, &vs.view, vs.view.v);
    CHECK_EQ_INT(by_view_count(light, l), 1);   /* only node 2 */
    size_t bl;
    REQUIRE(bus_light_expand(&pr, &rx, light, l, back, sizeof back, &bl, &vr.view) == BUS_LIGHT_OK);
    CHECK(bl == n && memcmp(back, plain, n) == 0);
    link_close();
}

/* ---- light PUBLISH / PUBLISHSHARD (§9.8) ---- */

/* A random PUBLISH or PUBLISHSHARD from the current header (which
 * random_frame moves on: epochs, offset, bitmap, mflags). */
static size_t random_publish(uint8_t *buf, size_t cap, size_t *body)
{
    static uint8_t payload[4096];
    size_t chlen = 1 + rnd() % 40, mlen = rnd() % (rnd() % 8 ? 100 : sizeof payload);
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 7 + chlen);
    unsigned type = rnd() % 2 ? BUS_PUBLISH : BUS_PUBLISHSHARD;
    *body = 8 + chlen + mlen;
    return bus_build_publish(buf, cap, &hdr, type, payload, chlen, payload + 1, mlen);
}

/* PUBLISH frames between PINGs on one link come back byte for byte; a
 * PUBLISH whose header and bitmap the link already carried costs 24 bytes
 * beside its body; a type change between PUBLISH and PUBLISHSHARD resends
 * nothing. */
/* A fresh link with the header and universe the random frames start from. */
static void link_start(void)
{
    make_universe();
    make_header();
    link_open();
}

TEST(bus_light_publish_round_trip)
{
    link_start();
    static uint8_t plain[64 * 1024], light[72 * 1024], back[72 * 1024];
    int pubs = 0, short_ones = 0;
    for (int i = 0; i < 20000; i++) {
        size_t body = 0, n;
        bool pub = rnd() % 4 != 0;
        if (pub) {
            if (rnd() % 20 == 0) hdr.offset += 1 + rnd() % 100;   /* the header moves now and then */
            n = random_publish(plain, sizeof plain, &body);
        } else {
            n = random_frame(plain, sizeof plain);
        }
        REQUIRE(n > 0);
        bus_msg_t m;
        REQUIRE(bus_decode(plain, n, &m) == BUS_OK);
        size_t l = bus_light_encode(&ps, &tx, plain, n, light, sizeof light, NULL, 0);
        REQUIRE(l > 0 && l <= bus_light_bound(n, pub ? 0 : m.hdr.count));
        uint32_t fl;
        REQUIRE(bus_light_frame_check(light, l, &fl) == BUS_LIGHT_OK && fl == l);
        REQUIRE(bus_light_type(light) == (unsigned)(plain[12] << 8 | plain[13]));
        REQUIRE(bus_light_plain_len(light, l) == n);
        size_t bl = 0;
        REQUIRE(bus_light_expand(&pr, &rx, light, l, back, sizeof back, &bl, NULL) == BUS_LIGHT_OK);
        REQUIRE(bl == n && memcmp(back, plain, n) == 0);
        if (pub) {
            pubs++;
            CHECK(l <= BUS_LIGHT_PUB_HDR_LEN + BUS_LIGHT_PUB_HEAD_LEN + BUS_SLOT_BYTES + body);
            if (l == BUS_LIGHT_PUB_HDR_LEN + body) short_ones++;
        }
        if (i % 5000 == 4999) {
            bus_light_tx_reset(&tx, &ps);
            bus_light_rx_reset(&rx, &pr);
        }
    }
    /* most PUBLISHes find header and bitmap held: the short form */
    CHECK(short_ones > pubs / 2);
    link_close();
}

/* The encoder hashes a slot bitmap only when it differs from the one it
 * hashed last (the pool's memo): PUBLISH and PING frames with one bitmap,
 * through several links of one thread, cost one hash; a changed bitmap is
 * hashed again; and every frame still expands to the plain one. */
TEST(bus_light_digest_memo)
{
    link_start();
    bus_light_tx_t tx2;
    bus_light_rx_t rx2;
    bus_light_tx_init(&tx2);
    bus_light_rx_init(&rx2);
    static uint8_t plain[8 * 1024], light[16 * 1024], back[16 * 1024];
    uint64_t hashed = ps.digests;
    for (int i = 0; i < 200; i++) {
        if (i == 100) bus_slot_set(hdr.myslots, 9000);   /* the claim changes once */
        size_t body, n = random_publish(plain, sizeof plain, &body);
        REQUIRE(n > 0 && n <= sizeof plain);
        for (int k = 0; k < 2; k++) {   /* two links of the thread, one pool */
            bus_light_tx_t *t = k ? &tx2 : &tx;
            bus_light_rx_t *r = k ? &rx2 : &rx;
            size_t l = bus_light_encode(&ps, t, plain, n, light, sizeof light, NULL, 0);
            REQUIRE(l > 0);
            size_t bl = 0;
            REQUIRE(bus_light_expand(&pr, r, light, l, back, sizeof back, &bl, NULL) == BUS_LIGHT_OK);
            REQUIRE(bl == n && memcmp(back, plain, n) == 0);
        }
    }
    CHECK(ps.digests - hashed == 2);
    CHECK(ps.memo_digest == bus_light_slots_digest(hdr.myslots));
    bus_light_tx_reset(&tx2, &ps);
    bus_light_rx_reset(&rx2, &pr);
    link_close();
}

/* A light PUBLISH is never expanded from header bytes or a bitmap the
 * receiver does not hold; other types are refused in its layout; one above
 * BUS_LIGHT_PUB_MAX stays plain; the framer caps the layout's length. */
TEST(bus_light_publish_never_guessed)
{
    link_start();
    static uint8_t plain[BUS_LIGHT_PUB_MAX + 4096], light[BUS_LIGHT_PUB_MAX + 8192], back[BUS_LIGHT_PUB_MAX + 8192];
    size_t n = bus_build_publish(plain, sizeof plain, &hdr, BUS_PUBLISH, "ch", 2, "hello", 5);
    size_t l1 = bus_light_encode(&ps, &tx, plain, n, light, sizeof light, NULL, 0);
    REQUIRE(l1 == BUS_LIGHT_PUB_HDR_LEN + BUS_LIGHT_PUB_HEAD_LEN + BUS_SLOT_BYTES + 8 + 2 + 5);
    size_t bl;
    REQUIRE(bus_light_expand(&pr, &rx, light, l1, back, sizeof back, &bl, NULL) == BUS_LIGHT_OK);
    /* the second one is short; a fresh receiver cannot expand it */
    size_t l2 = bus_light_encode(&ps, &tx, plain, n, light, sizeof light, NULL, 0);
    REQUIRE(l2 == BUS_LIGHT_PUB_HDR_LEN + 8 + 2 + 5);
    bus_light_rx_t fresh;
    bus_light_rx_init(&fresh);
    CHECK_EQ_INT(bus_light_expand(&pr, &fresh, light, l2, back, sizeof back, &bl, NULL), BUS_LIGHT_ERR_HEAD);
    fresh.head_valid = true;   /* header bytes held, but no bitmap */
    CHECK_EQ_INT(bus_light_expand(&pr, &fresh, light, l2, back, sizeof back, &bl, NULL), BUS_LIGHT_ERR_DIGEST);
    /* a changed bitmap under an unchanged digest field is refused */
    light[16] ^= 1;
    CHECK_EQ_INT(bus_light_expand(&pr, &rx, light, l2, back, sizeof back, &bl, NULL), BUS_LIGHT_ERR_DIGEST);
    light[16] ^= 1;
    /* a PING type in the PUBLISH layout */
    light[11] = BUS_PING;
    CHECK_EQ_INT(bus_light_expand(&pr, &rx, light, l2, back, sizeof back, &bl, NULL), BUS_LIGHT_ERR_TYPE);
    light[11] = BUS_PUBLISH;
    REQUIRE(bus_light_expand(&pr, &rx, light, l2, back, sizeof back, &bl, NULL) == BUS_LIGHT_OK);
    REQUIRE(bl == n && memcmp(back, plain, n) == 0);
    /* too big to go light: sent plain (encode declines) */
    static uint8_t big[BUS_LIGHT_PUB_MAX];
    size_t nb = bus_build_publish(plain, sizeof plain, &hdr, BUS_PUBLISH, "ch", 2, big, sizeof big);
    REQUIRE(nb > BUS_LIGHT_PUB_MAX);
    CHECK_EQ_INT(bus_light_encode(&ps, &tx, plain, nb, light, sizeof light, NULL, 0), 0);
    /* the framer: a light PUBLISH claiming more than the cap, or less than its minimum */
    uint8_t head[16] = { 'R', 'C', 'm', 'l', 0x7f, 0, 0, 0, 1, BUS_LIGHT_F_PUB, 0, BUS_PUBLISH };
    uint32_t fl;
    CHECK_EQ_INT(bus_light_frame_check(head, sizeof head, &fl), BUS_LIGHT_ERR_TOO_BIG);
    head[4] = 0, head[7] = 20;
    CHECK_EQ_INT(bus_light_frame_check(head, sizeof head, &fl), BUS_LIGHT_ERR_SHORT);
    link_close();
}

/* Mutated light PUBLISH frames never make the expander read or write out of
 * bounds (ASan), and are either refused or expand to their stated length. */
TEST(bus_light_publish_fuzz_expand)
{
    link_start();
    static uint8_t plain[64 * 1024], light[72 * 1024];
    int ok = 0, refused = 0;
    for (int i = 0; i < 20000; i++) {
        size_t body;
        size_t n = random_publish(plain, sizeof plain, &body);
        size_t l = bus_light_encode(&ps, &tx, plain, n, light, sizeof light, NULL, 0);
        REQUIRE(l > 0);
        uint8_t *m = malloc(l);
        REQUIRE(m);
        memcpy(m, light, l);
        size_t ml = l;
        for (int j = 0, k = 1 + (int)(rnd() % 4); j < k; j++) {
            switch (rnd() % 4) {
            case 0: if (ml) m[rnd() % ml] ^= (uint8_t)(1u << (rnd() % 8)); break;
            case 1: ml = rnd() % (ml + 1); break;
            case 2: if (ml > 9) m[9] = (uint8_t)(BUS_LIGHT_F_PUB | (rnd() & 0x0f)); break;
            default: if (ml > 8) m[4 + rnd() % 4] = (uint8_t)rnd(); break;   /* totlen */
            }
        }
        bus_light_rx_t fresh;   /* sometimes a receiver that holds nothing yet */
        bus_light_rx_init(&fresh);
        try_mutated(rnd() % 2 ? &rx : &fresh, m, ml, &ok, &refused);
    }
    CHECK(refused > 0);
    CHECK(ok > 0);
    link_close();
}

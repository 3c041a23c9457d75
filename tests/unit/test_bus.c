/* test_bus.c - unit tests of the cluster-bus codec (proto/bus.h) against the
 * frames captured from redis-server 7.0.15 (tests/vectors/README.md lists the
 * field values checked here), the two multi-frame streams through the framer,
 * byte-identical re-encoding and malformed input (the in-place peeks are
 * in test_bus_peek.c).
 *
 * Never depends on the current time or on anything but the vector files.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/bus.h"
#include "tests/unit/unit.h"
#include "tests/unit/bus_vectors.h"

#define N_A1 "eb3938ffaa6a205239dd91f8145c3f327e0aed81" /* :22641 */
#define N_A2 "028dbb0bf84c2ec704883c586cb97287dd575e62" /* :22642 */
#define N_A3 "1dd2b7c63b877e58c58f59df03efdd4867800265" /* :22643 */
#define N_R4 "ed9fc6c507fcfecf119acbfc94561b0f6cda355c" /* :22644 */
#define N_R5 "2a81ae60b6f61acb922915e25d7d7218b60b50bf" /* :22645 */
#define N_R6 "54315d8bb5b3fdc994fea3db5c1f1cdb61162453" /* :22646 */

/* single_vectors, N_SINGLE and load() come from bus_vectors.h */


/* Exactly slots lo..hi are set. */
static bool slots_are_range(const uint8_t *bm, unsigned lo, unsigned hi)
{
    for (unsigned s = 0; s < BUS_SLOTS; s++) {
        if (bus_slot_test(bm, s) != (s >= lo && s <= hi)) return false;
    }
    return bus_slot_count(bm) == hi - lo + 1;
}

/* Common header fields every captured frame shares (README "Per-file decoding"). */
static void check_common(const bus_msg_t *m)
{
    CHECK_EQ_INT(m->hdr.ver, 1);
    CHECK_EQ_STR(m->hdr.myip, "");
    CHECK_EQ_INT(m->hdr.pport, 0);
    CHECK_EQ_INT(m->hdr.mflags[1], 0);
    CHECK_EQ_INT(m->hdr.mflags[2], 0);
    CHECK(m->sender_valid);
    CHECK_EQ_INT(m->hdr.cport, m->hdr.port + 10000);
}

typedef struct { const char *name; uint16_t flags, port; uint32_t ping_sent, pong_received; } exp_gossip_t;

static void check_gossip(const bus_msg_t *m, const exp_gossip_t *exp, unsigned n)
{
    CHECK_EQ_INT(m->hdr.count, n);
    CHECK(m->u.ping.gossip_names_valid);
    for (unsigned i = 0; i < n; i++) {
        bus_gossip_t g;
        REQUIRE(bus_msg_gossip(m, i, &g));
        CHECK_EQ_STR(g.name, exp[i].name);
        CHECK(g.name_valid);
        CHECK_EQ_INT(g.flags, exp[i].flags);
        CHECK_EQ_STR(g.ip, "127.0.0.1");
        CHECK_EQ_INT(g.port, exp[i].port);
        CHECK_EQ_INT(g.cport, exp[i].port + 10000);
        CHECK_EQ_INT(g.pport, 0);
        CHECK_EQ_INT(g.ping_sent, exp[i].ping_sent);
        CHECK_EQ_INT(g.pong_received, exp[i].pong_received);
    }
    bus_gossip_t g;
    CHECK(!bus_msg_gossip(m, n, &g));
}

typedef struct {
    const char *file;
    unsigned type, count, flags, state, mflags0, port;
    uint64_t cur, cfg, offset;
    const char *sender, *slaveof;
    unsigned slot_lo, slot_hi;
} exp_header_t;

static const exp_header_t exp_headers[] = {
    { "bus-meet.bin", BUS_MEET, 0, 17, 1, 0, 22642, 2, 2, 0, N_A2, NULL, 5461, 10922 },
    { "bus-pong-0gossip-meet-reply.bin", BUS_PONG, 0, 17, 1, 0, 22641, 1, 1, 0, N_A1, NULL, 0, 5460 },
    { "bus-ping-3gossip.bin", BUS_PING, 3, 273, 0, 0, 22641, 6, 1, 0, N_A1, NULL, 0, 5460 },
    { "bus-pong.bin", BUS_PONG, 3, 273, 0, 0, 22642, 6, 2, 0, N_A2, NULL, 5461, 10922 },
    { "bus-ping-replica-3gossip.bin", BUS_PING, 3, 18, 0, 0, 22646, 6, 3, 0, N_R6, N_A3, 10923, 16383 },
    { "bus-ping-4gossip-pfail.bin", BUS_PING, 4, 273, 0, 0, 22642, 6, 2, 28, N_A2, NULL, 5461, 10922 },
    { "bus-ping-hostname-ext.bin", BUS_PING, 3, 273, 0, 4, 22642, 6, 2, 14, N_A2, NULL, 5461, 10922 },
    { "bus-pong-hostname-ext.bin", BUS_PONG, 3, 273, 0, 4, 22642, 6, 2, 14, N_A2, NULL, 5461, 10922 },
    { "bus-fail.bin", BUS_FAIL, 0, 273, 0, 0, 22643, 6, 3, 28, N_A3, NULL, 10923, 16383 },
    { "bus-failover-auth-request.bin", BUS_FAILOVER_AUTH_REQUEST, 0, 18, 1, 0, 22644, 7, 1, 28, N_R4, N_A1, 0, 5460 },
    { "bus-failover-auth-ack.bin", BUS_FAILOVER_AUTH_ACK, 0, 273, 1, 0, 22643, 7, 3, 28, N_A3, NULL, 10923, 16383 },
    { "bus-ping-stale-master.bin", BUS_PING, 3, 273, 1, 0, 22641, 7, 1, 0, N_A1, NULL, 0, 5460 },
    { "bus-update.bin", BUS_UPDATE, 0, 18, 0, 0, 22646, 7, 3, 42, N_R6, N_A3, 10923, 16383 },
    { "bus-mfstart.bin", BUS_MFSTART, 0, 18, 0, 0, 22641, 7, 7, 42, N_A1, N_R4, 0, 5460 },
    { "bus-ping-paused.bin", BUS_PING, 3, 273, 0, 1, 22644, 7, 7, 42, N_R4, NULL, 0, 5460 },
    { "bus-failover-auth-request-forceack.bin", BUS_FAILOVER_AUTH_REQUEST, 0, 18, 0, 2, 22641, 8, 7, 42, N_A1, N_R4, 0, 5460 },
    { "bus-publish.bin", BUS_PUBLISH, 0, 273, 0, 0, 22641, 6, 1, 14, N_A1, NULL, 0, 5460 },
    { "bus-publishshard.bin", BUS_PUBLISHSHARD, 0, 273, 0, 0, 22643, 6, 3, 14, N_A3, NULL, 10923, 16383 },
};

TEST(bus_vectors_headers)
{
    for (size_t i = 0; i < sizeof exp_headers / sizeof exp_headers[0]; i++) {
        const exp_header_t *e = &exp_headers[i];
        size_t len;
        uint8_t *buf = load(e->file, &len);
        REQUIRE(buf);
        bus_msg_t m;
        int r = bus_decode(buf, len, &m);
        if (r != BUS_OK) printf("  %s: %s\n", e->file, bus_result_str(r));
        CHECK_EQ_INT(r, BUS_OK);
        CHECK_EQ_INT(m.hdr.totlen, len);
        CHECK_EQ_INT(m.hdr.type, e->type);
        CHECK_EQ_INT(m.hdr.count, e->count);
        CHECK_EQ_INT(m.hdr.flags, e->flags);
        CHECK_EQ_INT(m.hdr.state, e->state);
        CHECK_EQ_INT(m.hdr.mflags[0], e->mflags0);
        CHECK_EQ_INT(m.hdr.port, e->port);
        CHECK_EQ_INT(m.hdr.current_epoch, e->cur);
        CHECK_EQ_INT(m.hdr.config_epoch, e->cfg);
        CHECK_EQ_INT(m.hdr.offset, e->offset);
        CHECK_EQ_STR(m.hdr.sender, e->sender);
        CHECK_EQ_INT(m.hdr.has_master, e->slaveof != NULL);
        CHECK_EQ_STR(m.hdr.slaveof, e->slaveof ? e->slaveof : "");
        CHECK_EQ_INT(m.hdr.extensions, e->mflags0 == 4 ? 1 : 0);
        CHECK(slots_are_range(m.hdr.myslots, e->slot_lo, e->slot_hi));
        check_common(&m);
        free(buf);
    }
}

TEST(bus_vectors_gossip)
{
    static const exp_gossip_t ping3[] = {
        { N_R5, 2, 22645, 1795597172, 1795597171 }, { N_R4, 2, 22644, 1795597172, 1795597171 },
        { N_A2, 257, 22642, 1795597172, 1795597171 } };
    static const exp_gossip_t pong3[] = {
        { N_A3, 257, 22643, 0, 1795597172 }, { N_A1, 257, 22641, 0, 1795597172 },
        { N_R4, 2, 22644, 0, 1795597172 } };
    static const exp_gossip_t replica3[] = {
        { N_R5, 2, 22645, 0, 1795597171 }, { N_A3, 257, 22643, 0, 1795597171 },
        { N_R4, 2, 22644, 0, 1795597171 } };
    static const exp_gossip_t pfail4[] = {
        { N_A3, 257, 22643, 1795597188, 1795597187 }, { N_R4, 2, 22644, 0, 1795597187 },
        { N_R6, 2, 22646, 0, 1795597187 }, { N_A1, 261, 22641, 1795597186, 1795597186 } };
    static const exp_gossip_t hostping[] = {
        { N_A1, 257, 22641, 0, 1795597178 }, { N_A3, 257, 22643, 1795597178, 1795597178 },
        { N_R4, 2, 22644, 0, 1795597178 } };
    static const exp_gossip_t hostpong[] = {
        { N_R4, 2, 22644, 0, 1795597178 }, { N_A1, 257, 22641, 0, 1795597178 },
        { N_R5, 2, 22645, 0, 1795597178 } };
    static const exp_gossip_t stale[] = {
        { N_A3, 257, 22643, 0, 1795597194 }, { N_A2, 257, 22642, 1795597194, 1795597194 },
        { N_R4, 2, 22644, 0, 1795597194 } };
    static const exp_gossip_t paused[] = {
        { N_R5, 2, 22645, 0, 1795597202 }, { N_A3, 257, 22643, 0, 1795597202 },
        { N_R6, 2, 22646, 0, 1795597202 } };
    static const struct { const char *file; const exp_gossip_t *g; unsigned n; } cases[] = {
        { "bus-ping-3gossip.bin", ping3, 3 }, { "bus-pong.bin", pong3, 3 },
        { "bus-ping-replica-3gossip.bin", replica3, 3 }, { "bus-ping-4gossip-pfail.bin", pfail4, 4 },
        { "bus-ping-hostname-ext.bin", hostping, 3 }, { "bus-pong-hostname-ext.bin", hostpong, 3 },
        { "bus-ping-stale-master.bin", stale, 3 }, { "bus-ping-paused.bin", paused, 3 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        uint8_t *buf = load(cases[i].file, &len);
        REQUIRE(buf);
        bus_msg_t m;
        CHECK_EQ_INT(bus_decode(buf, len, &m), BUS_OK);
        check_gossip(&m, cases[i].g, cases[i].n);
        free(buf);
    }
}

TEST(bus_vectors_hostname_extension)
{
    const char *files[] = { "bus-ping-hostname-ext.bin", "bus-pong-hostname-ext.bin" };
    for (int f = 0; f < 2; f++) {
        size_t len;
        uint8_t *buf = load(files[f], &len);
        REQUIRE(buf);
        bus_msg_t m;
        REQUIRE(bus_decode(buf, len, &m) == BUS_OK);
        CHECK_EQ_INT(len, 2600);
        CHECK(m.hdr.mflags[0] & BUS_MFLAG_EXT_DATA);
        CHECK_EQ_INT(m.u.ping.ext_count, 1);
        CHECK_EQ_INT(m.u.ping.unknown_ext_count, 0);
        REQUIRE(m.u.ping.has_hostname);
        CHECK_EQ_INT(m.u.ping.hostname_len, 17);
        CHECK(memcmp(m.u.ping.hostname, "redis-node-2.test", 17) == 0);
        CHECK(!m.u.ping.has_human_nodename);
        CHECK(m.u.ping.shard_id == NULL);
        CHECK(m.u.ping.ext == buf + 2568);
        bus_ext_iter_t it;
        bus_ext_t e;
        bus_ext_iter_init(&it, &m);
        REQUIRE(bus_ext_iter_next(&it, &e));
        CHECK_EQ_INT(e.type, BUS_EXT_HOSTNAME);
        CHECK_EQ_INT(e.len, 24);
        CHECK(!bus_ext_iter_next(&it, &e));
        free(buf);
    }
    /* A frame without the extension reports no hostname (which makes a
     * 7.0.15 receiver clear the stored one, docs/cluster-bus.md §4.8). */
    size_t len;
    uint8_t *buf = load("bus-ping-3gossip.bin", &len);
    REQUIRE(buf);
    bus_msg_t m;
    REQUIRE(bus_decode(buf, len, &m) == BUS_OK);
    CHECK(!m.u.ping.has_hostname);
    CHECK_EQ_INT(m.u.ping.ext_count, 0);
    free(buf);
}

TEST(bus_vectors_bodies)
{
    size_t len;
    bus_msg_t m;
    uint8_t *buf = load("bus-fail.bin", &len);
    REQUIRE(buf);
    REQUIRE(bus_decode(buf, len, &m) == BUS_OK);
    CHECK_EQ_STR(m.u.fail.name, N_A1);
    CHECK(m.u.fail.name_valid);
    free(buf);

    buf = load("bus-publish.bin", &len);
    REQUIRE(buf);
    REQUIRE(bus_decode(buf, len, &m) == BUS_OK);
    CHECK_EQ_INT(m.u.publish.channel_len, 5);
    CHECK_EQ_INT(m.u.publish.message_len, 11);
    CHECK(memcmp(m.u.publish.channel, "chan1", 5) == 0);
    CHECK(memcmp(m.u.publish.message, "hello-world", 11) == 0);
    CHECK(m.u.publish.message + 11 == buf + len);
    free(buf);

    buf = load("bus-publishshard.bin", &len);
    REQUIRE(buf);
    REQUIRE(bus_decode(buf, len, &m) == BUS_OK);
    CHECK_EQ_INT(len, 2277);
    CHECK_EQ_INT(m.u.publish.channel_len, 4);
    CHECK_EQ_INT(m.u.publish.message_len, 9);
    CHECK(memcmp(m.u.publish.channel, "sch1", 4) == 0);
    CHECK(memcmp(m.u.publish.message, "shard-msg", 9) == 0);
    free(buf);

    buf = load("bus-update.bin", &len);
    REQUIRE(buf);
    REQUIRE(bus_decode(buf, len, &m) == BUS_OK);
    CHECK_EQ_INT(m.u.update.config_epoch, 7);
    CHECK_EQ_STR(m.u.update.name, N_R4);
    CHECK(m.u.update.name_valid);
    CHECK(slots_are_range(m.u.update.slots, 0, 5460));
    free(buf);
}

/* Decodes a frame and rebuilds it from the decoded values with the builder of
 * its type; returns the rebuilt length (0 on failure) and the bytes in out. */
static size_t rebuild(const uint8_t *buf, size_t len, uint8_t *out, size_t cap)
{
    bus_msg_t m;
    if (bus_decode(buf, len, &m) != BUS_OK) return 0;
    const bus_header_t *h = &m.hdr;
    switch (h->type) {
    case BUS_PING: case BUS_PONG: case BUS_MEET: {
        bus_gossip_t g[8];
        bus_ext_t e[8];
        size_t ne = 0;
        if (h->count > 8) return 0;
        for (unsigned i = 0; i < h->count; i++) bus_msg_gossip(&m, i, &g[i]);
        bus_ext_iter_t it;
        bus_ext_iter_init(&it, &m);
        while (ne < 8 && bus_ext_iter_next(&it, &e[ne])) ne++;
        return bus_build_ping(out, cap, h, h->type, g, h->count, e, ne);
    }
    case BUS_FAIL: return bus_build_fail(out, cap, h, m.u.fail.name);
    case BUS_PUBLISH: case BUS_PUBLISHSHARD:
        return bus_build_publish(out, cap, h, h->type, m.u.publish.channel, m.u.publish.channel_len,
                                 m.u.publish.message, m.u.publish.message_len);
    case BUS_UPDATE:
        return bus_build_update(out, cap, h, m.u.update.config_epoch, m.u.update.name, m.u.update.slots);
    case BUS_FAILOVER_AUTH_REQUEST: return bus_build_auth_request(out, cap, h);
    case BUS_FAILOVER_AUTH_ACK: return bus_build_auth_ack(out, cap, h);
    case BUS_MFSTART: return bus_build_mfstart(out, cap, h);
    case BUS_MODULE:
        return bus_build_module(out, cap, h, m.u.module.module_id, m.u.module.type,
                                m.u.module.payload, m.u.module.len);
    default: return 0;
    }
}

TEST(bus_vectors_reencode_identical)
{
    for (size_t i = 0; i < N_SINGLE; i++) {
        size_t len;
        uint8_t *buf = load(single_vectors[i], &len);
        REQUIRE(buf);
        uint8_t *out = malloc(len);  /* exact size: ASan catches any overrun */
        REQUIRE(out);
        size_t n = rebuild(buf, len, out, len);
        if (n != len || memcmp(out, buf, len) != 0) printf("  re-encode differs: %s\n", single_vectors[i]);
        CHECK_EQ_INT(n, len);
        CHECK(n == len && memcmp(out, buf, len) == 0);
        /* One byte less room must be refused, not overrun. */
        CHECK_EQ_INT(rebuild(buf, len, out, len - 1), 0);
        free(out);
        free(buf);
    }
}

/* ---- streams through the framer ---- */

typedef struct { unsigned type; uint32_t totlen; uint16_t flags; uint8_t mflags0; } exp_frame_t;

static const exp_frame_t meet_stream[] = {
    { BUS_MEET, 2256, 17, 0 }, { BUS_PING, 2256, 17, 0 }, { BUS_PING, 2568, 17, 0 },
    { BUS_PING, 2568, 17, 0 }, { BUS_PING, 2568, 17, 0 }, { BUS_PING, 2568, 273, 0 },
};
static const exp_frame_t seg_stream[] = {
    { BUS_FAILOVER_AUTH_REQUEST, 2256, 18, 2 }, { BUS_PONG, 2568, 273, 1 }, { BUS_UPDATE, 4352, 273, 0 },
};

static uint32_t lcg(uint32_t *s) { *s = *s * 1103515245u + 12345u; return *s >> 8; }

/* Feeds the stream in chunks (chunk 0 = random 1..5000 bytes), as a link's
 * read handler would, and checks every frame that comes out. */
static void run_stream(const char *file, const exp_frame_t *exp, unsigned n_exp, unsigned chunk,
                       uint32_t seed)
{
    size_t len;
    uint8_t *stream = load(file, &len);
    REQUIRE(stream);
    uint8_t *rb = malloc(len);
    REQUIRE(rb);
    size_t have = 0, fed = 0;
    unsigned frames = 0;
    bool bad = false;
    while (fed < len && !bad) {
        size_t c = chunk ? chunk : 1 + lcg(&seed) % 5000;
        if (c > len - fed) c = len - fed;
        memcpy(rb + have, stream + fed, c);
        have += c;
        fed += c;
        for (;;) {
            uint32_t flen;
            int r = bus_frame_check(rb, have, BUS_DEFAULT_MAX_PAYLOAD, &flen);
            if (r == BUS_NEED_MORE) {
                if (have >= 8) CHECK(flen >= BUS_HEADER_LEN && flen > have);
                break;
            }
            if (r != BUS_OK) { CHECK_EQ_INT(r, BUS_OK); bad = true; break; }
            bus_msg_t m;
            CHECK_EQ_INT(bus_decode(rb, flen, &m), BUS_OK);
            if (frames < n_exp) {
                CHECK_EQ_INT(m.hdr.type, exp[frames].type);
                CHECK_EQ_INT(flen, exp[frames].totlen);
                CHECK_EQ_INT(m.hdr.flags, exp[frames].flags);
                CHECK_EQ_INT(m.hdr.mflags[0], exp[frames].mflags0);
                if (m.hdr.type == BUS_UPDATE) {
                    CHECK_EQ_INT(m.u.update.config_epoch, 8);
                    CHECK_EQ_STR(m.u.update.name, N_A1);
                    CHECK(slots_are_range(m.u.update.slots, 0, 5460));
                }
                if (bus_type_has_gossip(m.hdr.type)) CHECK(m.u.ping.gossip_names_valid);
            }
            frames++;
            memmove(rb, rb + flen, have - flen);
            have -= flen;
        }
    }
    CHECK_EQ_INT(frames, n_exp);
    CHECK_EQ_INT(have, 0);
    free(rb);
    free(stream);
}

TEST(bus_stream_byte_by_byte)
{
    run_stream("bus-stream-meet-link-first6.bin", meet_stream, 6, 1, 0);
    run_stream("bus-stream-3frames-one-segment.bin", seg_stream, 3, 1, 0);
}

TEST(bus_stream_random_chunks)
{
    for (uint32_t seed = 1; seed <= 40; seed++) {
        run_stream("bus-stream-meet-link-first6.bin", meet_stream, 6, 0, seed);
        run_stream("bus-stream-3frames-one-segment.bin", seg_stream, 3, 0, seed * 7919);
    }
    run_stream("bus-stream-meet-link-first6.bin", meet_stream, 6, 14784, 0);  /* all at once */
    run_stream("bus-stream-3frames-one-segment.bin", seg_stream, 3, 9176, 0);
}

TEST(bus_stream_first_frame_is_meet_vector)
{
    size_t sl, ml;
    uint8_t *s = load("bus-stream-meet-link-first6.bin", &sl);
    uint8_t *m = load("bus-meet.bin", &ml);
    REQUIRE(s && m);
    uint32_t flen;
    CHECK_EQ_INT(bus_frame_check(s, sl, 0, &flen), BUS_OK);
    CHECK_EQ_INT(flen, ml);
    CHECK(memcmp(s, m, ml) == 0);
    free(s);
    free(m);
}

/* ---- malformed input ---- */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* A valid header to build test frames from: myself = :22641 of the capture. */
static void sample_header(bus_header_t *h)
{
    memset(h, 0, sizeof *h);
    h->ver = 1;
    h->port = 22641;
    h->cport = 32641;
    h->current_epoch = 6;
    h->config_epoch = 1;
    memcpy(h->sender, N_A1, 40);
    for (unsigned s = 0; s <= 5460; s++) bus_slot_set(h->myslots, s);
    h->flags = BUS_NODE_MASTER | BUS_NODE_MYSELF;
}

static void sample_gossip(bus_gossip_t *g, const char *name, uint16_t port, uint16_t flags)
{
    memset(g, 0, sizeof *g);
    memcpy(g->name, name, 40);
    strcpy(g->ip, "127.0.0.1");
    g->port = port;
    g->cport = (uint16_t)(port + 10000);
    g->flags = flags;
    g->pong_received = 1795597171;
}

TEST(bus_bad_signature)
{
    size_t len;
    uint8_t *buf = load("bus-ping-3gossip.bin", &len);
    REQUIRE(buf);
    uint32_t flen;
    bus_msg_t m;
    buf[2] = 'M';
    CHECK_EQ_INT(bus_frame_check(buf, len, 0, &flen), BUS_ERR_SIG);
    CHECK_EQ_INT(bus_frame_check(buf, 3, 0, &flen), BUS_ERR_SIG);  /* refused before 8 bytes */
    CHECK_EQ_INT(bus_frame_check(buf, 2, 0, &flen), BUS_NEED_MORE);
    CHECK_EQ_INT(bus_decode(buf, len, &m), BUS_ERR_SIG);
    CHECK(bus_result_closes_link(BUS_ERR_SIG));
    CHECK_EQ_INT(bus_frame_check(buf, 0, 0, &flen), BUS_NEED_MORE);
    free(buf);
}

TEST(bus_bad_short_totlen)
{
    uint8_t b[BUS_HEADER_LEN] = { 'R', 'C', 'm', 'b' };
    uint32_t flen;
    bus_msg_t m;
    const uint32_t lens[] = { 0, 7, 8, 16, 100, BUS_HEADER_LEN - 1 };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        put32(b + 4, lens[i]);
        CHECK_EQ_INT(bus_frame_check(b, 8, 0, &flen), BUS_ERR_SHORT);
        CHECK_EQ_INT(bus_decode(b, sizeof b, &m), BUS_ERR_SHORT);
    }
    CHECK(bus_result_closes_link(BUS_ERR_SHORT));
    /* 2256 itself is fine for framing; with 8 bytes we learn the length. */
    put32(b + 4, BUS_HEADER_LEN);
    CHECK_EQ_INT(bus_frame_check(b, 8, 0, &flen), BUS_NEED_MORE);
    CHECK_EQ_INT(flen, BUS_HEADER_LEN);
    CHECK_EQ_INT(bus_frame_check(b, 7, 0, &flen), BUS_NEED_MORE);
    CHECK_EQ_INT(flen, 0);
}

TEST(bus_bad_truncated)
{
    size_t len;
    uint8_t *buf = load("bus-ping-4gossip-pfail.bin", &len);
    REQUIRE(buf);
    bus_msg_t m;
    uint32_t flen;
    for (size_t cut = 0; cut < len; cut += 97) {
        uint8_t *t = malloc(cut ? cut : 1);  /* exact size: ASan catches any over-read */
        REQUIRE(t);
        memcpy(t, buf, cut);
        int r = bus_decode(t, cut, &m);
        CHECK(r == BUS_ERR_TRUNCATED);
        CHECK_EQ_INT(bus_frame_check(t, cut, 0, &flen), BUS_NEED_MORE);
        CHECK(!bus_result_closes_link(r));
        free(t);
    }
    /* Extra bytes after the frame are not read and not an error. */
    uint8_t *big = calloc(1, len + 50);
    REQUIRE(big);
    memcpy(big, buf, len);
    CHECK_EQ_INT(bus_decode(big, len + 50, &m), BUS_OK);
    CHECK_EQ_INT(bus_frame_check(big, len + 50, 0, &flen), BUS_OK);
    CHECK_EQ_INT(flen, len);
    free(big);
    free(buf);
}

TEST(bus_bad_version)
{
    size_t len;
    uint8_t *buf = load("bus-fail.bin", &len);
    REQUIRE(buf);
    bus_msg_t m;
    put16(buf + 8, 2);
    CHECK_EQ_INT(bus_decode(buf, len, &m), BUS_ERR_VERSION);
    CHECK_EQ_INT(m.hdr.type, BUS_FAIL);   /* header still readable for logging */
    CHECK(!bus_result_closes_link(BUS_ERR_VERSION));
    free(buf);
}

TEST(bus_bad_count_and_totlen)
{
    size_t len;
    uint8_t *buf = load("bus-ping-3gossip.bin", &len);
    REQUIRE(buf);
    bus_msg_t m;
    put16(buf + 14, 4);                      /* count says 4, totlen holds 3 */
    CHECK_EQ_INT(bus_decode(buf, len, &m), BUS_ERR_LENGTH);
    put16(buf + 14, 2);                      /* count says 2: 104 bytes left over */
    CHECK_EQ_INT(bus_decode(buf, len, &m), BUS_ERR_LENGTH);
    put16(buf + 14, 65535);                  /* gossip section far beyond totlen */
    buf[2253] = BUS_MFLAG_EXT_DATA;
    CHECK_EQ_INT(bus_decode(buf, len, &m), BUS_ERR_LENGTH);
    free(buf);

    /* Fixed-size types demand their exact totlen (docs/cluster-bus.md §3.10). */
    static const struct { const char *file; uint32_t bad; } fixed[] = {
        { "bus-fail.bin", 2304 }, { "bus-failover-auth-ack.bin", 2264 },
        { "bus-mfstart.bin", 2296 }, { "bus-failover-auth-request.bin", 4352 },
        { "bus-update.bin", 4344 }, { "bus-publish.bin", 2288 },
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        buf = load(fixed[i].file, &len);
        REQUIRE(buf);
        uint8_t *b = calloc(1, 4400);
        REQUIRE(b);
        memcpy(b, buf, len < 4400 ? len : 4400);
        put32(b + 4, fixed[i].bad);
        uint32_t flen;
        CHECK_EQ_INT(bus_frame_check(b, fixed[i].bad, BUS_DEFAULT_MAX_PAYLOAD, &flen), BUS_OK);
        CHECK_EQ_INT(bus_decode(b, fixed[i].bad, &m), BUS_ERR_LENGTH);
        free(b);
        free(buf);
    }
}

TEST(bus_bad_publish_lengths)
{
    size_t len;
    uint8_t *buf = load("bus-publish.bin", &len);
    REQUIRE(buf);
    bus_msg_t m;
    /* 2264 + 0xffffffff + 25 wraps to 2288 in 32 bits; must not pass. */
    uint8_t b[2288] = { 0 };
    memcpy(b, buf, len);
    put32(b + 4, 2288);
    put32(b + 2256, 0xffffffffu);
    put32(b + 2260, 25);
    CHECK_EQ_INT(bus_decode(b, sizeof b, &m), BUS_ERR_LENGTH);
    /* A PUBLISH too short to hold its two lengths. */
    put32(b + 4, 2260);
    CHECK_EQ_INT(bus_decode(b, 2260, &m), BUS_ERR_LENGTH);
    /* Channel longer than the frame. */
    memcpy(b, buf, len);
    put32(b + 2256, 6);
    CHECK_EQ_INT(bus_decode(b, len, &m), BUS_ERR_LENGTH);
    free(buf);
}

TEST(bus_unknown_type_accepted)
{
    size_t len;
    uint8_t *buf = load("bus-ping-3gossip.bin", &len);
    REQUIRE(buf);
    bus_msg_t m;
    uint32_t flen;
    put16(buf + 12, 42);
    CHECK_EQ_INT(bus_frame_check(buf, len, 0, &flen), BUS_OK);
    CHECK_EQ_INT(bus_decode(buf, len, &m), BUS_OK);
    CHECK(!bus_type_is_known(m.hdr.type));
    CHECK_EQ_STR(bus_type_name(m.hdr.type), "unknown");
    CHECK_EQ_INT(m.body_len, len - BUS_HEADER_LEN);
    CHECK(m.body == buf + BUS_HEADER_LEN);
    CHECK(!bus_msg_gossip(&m, 0, &(bus_gossip_t){0}));
    free(buf);
}

TEST(bus_oversize_frames)
{
    uint8_t b[16] = { 'R', 'C', 'm', 'b' };
    uint32_t flen;
    put16(b + 8, 1);
    put16(b + 12, BUS_PING);
    put32(b + 4, BUS_MAX_GOSSIP_FRAME);
    CHECK_EQ_INT(bus_frame_check(b, 16, 0, &flen), BUS_NEED_MORE);
    CHECK_EQ_INT(flen, BUS_MAX_GOSSIP_FRAME);
    put32(b + 4, BUS_MAX_GOSSIP_FRAME + 1);
    CHECK_EQ_INT(bus_frame_check(b, 16, 0, &flen), BUS_ERR_TOO_BIG);
    put32(b + 4, 0xffffffffu);
    CHECK_EQ_INT(bus_frame_check(b, 16, 0, &flen), BUS_ERR_TOO_BIG);
    /* 8..15 bytes: length known, type not yet: wait. */
    CHECK_EQ_INT(bus_frame_check(b, 12, 0, &flen), BUS_NEED_MORE);
    CHECK(bus_result_closes_link(BUS_ERR_TOO_BIG));

    put16(b + 12, BUS_FAIL);
    put32(b + 4, BUS_FULL_LEN);
    CHECK_EQ_INT(bus_frame_check(b, 16, 0, &flen), BUS_NEED_MORE);
    put32(b + 4, BUS_FULL_LEN + 1);
    CHECK_EQ_INT(bus_frame_check(b, 16, 0, &flen), BUS_ERR_TOO_BIG);

    put16(b + 12, BUS_PUBLISH);
    put32(b + 4, 2264 + 1000);
    CHECK_EQ_INT(bus_frame_check(b, 16, 1000, &flen), BUS_NEED_MORE);
    CHECK_EQ_INT(bus_frame_check(b, 16, 999, &flen), BUS_ERR_TOO_BIG);
    put32(b + 4, 0xffffffffu);
    CHECK_EQ_INT(bus_frame_check(b, 16, 0xffffffffu, &flen), BUS_NEED_MORE);  /* no overflow */

    put16(b + 12, BUS_MODULE);
    put32(b + 4, 2269 + 10);
    CHECK_EQ_INT(bus_frame_check(b, 16, 10, &flen), BUS_NEED_MORE);
    CHECK_EQ_INT(bus_frame_check(b, 16, 9, &flen), BUS_ERR_TOO_BIG);

    put16(b + 12, 77);
    put32(b + 4, BUS_MAX_UNKNOWN_FRAME);
    CHECK_EQ_INT(bus_frame_check(b, 16, 0, &flen), BUS_NEED_MORE);
    put32(b + 4, BUS_MAX_UNKNOWN_FRAME + 1);
    CHECK_EQ_INT(bus_frame_check(b, 16, 0, &flen), BUS_ERR_TOO_BIG);
}

/* Builds a PING with one gossip entry and one hostname record, then lets the
 * caller corrupt it. Layout: header 2256, gossip 2256..2360, record at 2360. */
static size_t ext_frame(uint8_t *b, size_t cap)
{
    bus_header_t h;
    bus_gossip_t g;
    bus_ext_t e;
    sample_header(&h);
    sample_gossip(&g, N_A2, 22642, BUS_NODE_MASTER);
    bus_ext_hostname(&e, "node-b.test");
    return bus_build_ping(b, cap, &h, BUS_PING, &g, 1, &e, 1);
}

TEST(bus_bad_extensions)
{
    uint8_t b[4096];
    bus_msg_t m;
    size_t n = ext_frame(b, sizeof b);
    CHECK_EQ_INT(n, 2360 + 24);
    CHECK_EQ_INT(bus_decode(b, n, &m), BUS_OK);
    CHECK(m.u.ping.has_hostname && m.u.ping.hostname_len == 11);

    put32(b + 2360, 27);                      /* not a multiple of 8 (docs/cluster-bus.md §4.7) */
    CHECK_EQ_INT(bus_decode(b, n, &m), BUS_ERR_EXT_PADDING);
    put32(b + 2360, 0);                       /* 7.0.15 would spin on it */
    CHECK_EQ_INT(bus_decode(b, n, &m), BUS_ERR_EXT_PADDING);
    put32(b + 2360, 64);                      /* 64 with 24 bytes left (docs/cluster-bus.md §4.7) */
    CHECK_EQ_INT(bus_decode(b, n, &m), BUS_ERR_EXT_OVERRUN);
    put32(b + 2360, 0x10000u + 24);           /* 7.0.15 truncates this to 24 */
    CHECK_EQ_INT(bus_decode(b, n, &m), BUS_ERR_EXT_OVERRUN);
    put32(b + 2360, 16);                      /* too short: 8 bytes trail the record */
    CHECK_EQ_INT(bus_decode(b, n, &m), BUS_ERR_LENGTH);
    put32(b + 2360, 24);
    CHECK_EQ_INT(bus_decode(b, n, &m), BUS_OK);

    put16(b + 2214, 2);                       /* two announced, one present */
    CHECK_EQ_INT(bus_decode(b, n, &m), BUS_ERR_EXT_OVERRUN);
    put16(b + 2214, 0);                       /* none announced, bytes present */
    CHECK_EQ_INT(bus_decode(b, n, &m), BUS_ERR_LENGTH);
    put16(b + 2214, 1);
    b[2253] = 0;                              /* record without EXT_DATA (docs/cluster-bus.md §4.7) */
    CHECK_EQ_INT(bus_decode(b, n, &m), BUS_ERR_LENGTH);
    /* Without EXT_DATA the count is ignored, like 7.0.15's validator. */
    put32(b + 4, 2360);
    CHECK_EQ_INT(bus_decode(b, 2360, &m), BUS_OK);
    CHECK_EQ_INT(m.u.ping.ext_count, 0);
    CHECK(!m.u.ping.has_hostname);
    bus_ext_iter_t it;
    bus_ext_t e;
    bus_ext_iter_init(&it, &m);
    CHECK(!bus_ext_iter_next(&it, &e));
    /* EXT_DATA with no room for even one record header. */
    b[2253] = BUS_MFLAG_EXT_DATA;
    CHECK_EQ_INT(bus_decode(b, 2360, &m), BUS_ERR_EXT_OVERRUN);
}

TEST(bus_hostname_without_nul)
{
    /* A record whose payload has no NUL: the view stops at the record end. */
    uint8_t b[4096];
    size_t n = ext_frame(b, sizeof b);
    memset(b + 2368, 'x', 16);
    bus_msg_t m;
    REQUIRE(bus_decode(b, n, &m) == BUS_OK);
    CHECK_EQ_INT(m.u.ping.hostname_len, 16);
}

TEST(bus_invalid_names_flagged)
{
    size_t len;
    uint8_t *buf = load("bus-ping-3gossip.bin", &len);
    REQUIRE(buf);
    bus_msg_t m;
    memcpy(buf + 2256 + 104, "ABCDEF0123456789ABCDEF0123456789ABCDEF01", 40);  /* docs/cluster-bus.md §8.1 */
    REQUIRE(bus_decode(buf, len, &m) == BUS_OK);
    CHECK(!m.u.ping.gossip_names_valid);
    bus_gossip_t g;
    REQUIRE(bus_msg_gossip(&m, 1, &g));
    CHECK(!g.name_valid);
    CHECK_EQ_STR(g.name, "ABCDEF0123456789ABCDEF0123456789ABCDEF01");
    REQUIRE(bus_msg_gossip(&m, 0, &g));
    CHECK(g.name_valid);
    /* Bytes that are not even text, and a NUL in the middle. */
    memset(buf + 40, 0xff, 40);
    buf[2256 + 10] = 0;
    REQUIRE(bus_decode(buf, len, &m) == BUS_OK);
    CHECK(!m.sender_valid);
    REQUIRE(bus_msg_gossip(&m, 0, &g));
    CHECK(!g.name_valid);
    free(buf);

    CHECK(bus_name_is_valid(N_A1));
    CHECK(bus_name_is_valid("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz0099"));  /* a-z, not only hex */
    CHECK(!bus_name_is_valid("eb3938ffaa6a205239dd91f8145c3f327e0aed8G"));
    CHECK(!bus_name_is_valid("eb3938ffaa6a205239dd91f8145c3f327e0aed8-"));
    static const uint8_t zero[40];
    CHECK(!bus_name_is_valid(zero));
    CHECK(bus_name_is_null(zero));
    CHECK(!bus_name_is_null(N_A1));
    /* read as words: one non-zero byte anywhere, at any alignment, is seen */
    uint8_t one[48];
    int missed = 0;
    for (int at = 0; at < 8; at++)
        for (int i = 0; i < 40; i++) {
            memset(one, 0, sizeof one);
            one[at + i] = (uint8_t)(1u << (i % 8));
            if (bus_name_is_null(one + at)) missed++;
            one[at + i] = 0;
            if (!bus_name_is_null(one + at)) missed++;
        }
    CHECK_EQ_INT(missed, 0);
}

/* bus_name_is_valid against the rule byte by byte: every byte value at every
 * one of the 40 positions of a good name (the vector path reads them in
 * three overlapping pieces), and a good name in a buffer at every alignment. */
TEST(bus_name_valid_every_byte_everywhere)
{
    uint8_t buf[48];
    memcpy(buf, "0123456789abcdefghijklmnopqrstuvwxyz0a9z", 40);
    CHECK(bus_name_is_valid(buf));
    for (int at = 0; at < 40; at++) {
        uint8_t keep = buf[at];
        for (int c = 0; c < 256; c++) {
            buf[at] = (uint8_t)c;
            bool want = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
            if (bus_name_is_valid(buf) != want) {
                CHECK(bus_name_is_valid(buf) == want);
                break;
            }
        }
        buf[at] = keep;
    }
    for (int off = 0; off < 8; off++) {
        memmove(buf + off, "0123456789abcdefghijklmnopqrstuvwxyz0a9z", 40);
        CHECK(bus_name_is_valid(buf + off));
    }
}

TEST(bus_random_bytes)
{
    uint32_t seed = 12345;
    uint8_t *b = malloc(6000);
    REQUIRE(b);
    int ok = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = lcg(&seed) % 6000;
        for (size_t i = 0; i < len; i++) b[i] = (uint8_t)lcg(&seed);
        /* Most of the time give it a plausible prefix so it gets past framing. */
        if (len >= 16 && iter % 4 != 0) {
            memcpy(b, "RCmb", 4);
            put32(b + 4, (uint32_t)(BUS_HEADER_LEN + lcg(&seed) % 3000));
            put16(b + 8, 1);
            put16(b + 12, (uint16_t)(lcg(&seed) % 13));
            if (iter % 3 == 0) put16(b + 14, (uint16_t)(lcg(&seed) % 8));
        }
        uint32_t flen;
        int fr = bus_frame_check(b, len, BUS_DEFAULT_MAX_PAYLOAD, &flen);
        CHECK(fr >= BUS_OK && fr <= BUS_ERR_TOO_BIG);
        bus_msg_t m;
        int r = bus_decode(b, len, &m);
        CHECK(r >= BUS_OK && r <= BUS_ERR_EXT_OVERRUN && r != BUS_NEED_MORE);
        if (r == BUS_OK) {
            ok++;
            CHECK(m.hdr.totlen <= len);
            bus_gossip_t g;
            for (unsigned i = 0; bus_msg_gossip(&m, i, &g); i++) CHECK(i < m.hdr.count);
            bus_ext_iter_t it;
            bus_ext_t e;
            bus_ext_iter_init(&it, &m);
            while (bus_ext_iter_next(&it, &e)) CHECK(e.payload + e.len <= b + len);
        }
    }
    CHECK(ok > 0);  /* some frames of header-only or unknown type got through */
    free(b);
}

/* ---- encoders ---- */

TEST(bus_build_ping_with_72_extensions)
{
    bus_header_t h;
    sample_header(&h);
    h.mflags[0] = BUS_MFLAG_PAUSED;
    bus_gossip_t g[2];
    sample_gossip(&g[0], N_A2, 22642, BUS_NODE_MASTER | BUS_NODE_MIGRATE_TO);
    sample_gossip(&g[1], N_R4, 22644, BUS_NODE_SLAVE);
    uint8_t forgotten[48];
    memcpy(forgotten, N_R5, 40);
    memset(forgotten + 40, 0, 8);
    forgotten[47] = 59;
    static const uint8_t odd[3] = { 1, 2, 3 };
    bus_ext_t e[5];
    bus_ext_hostname(&e[0], "node-b.test");
    e[1] = (bus_ext_t){ BUS_EXT_SHARDID, (const uint8_t *)N_R6, 40 };
    e[2] = (bus_ext_t){ BUS_EXT_FORGOTTEN_NODE, forgotten, 48 };
    e[3] = (bus_ext_t){ BUS_EXT_HUMAN_NODENAME, (const uint8_t *)"primary-1", 10 };
    e[4] = (bus_ext_t){ 99, odd, 3 };
    size_t want = bus_ping_len(2, e, 5);
    CHECK_EQ_INT(want, 2256 + 208 + 24 + 48 + 56 + 24 + 16);
    uint8_t *b = malloc(want);
    REQUIRE(b);
    CHECK_EQ_INT(bus_build_ping(b, want - 1, &h, BUS_PONG, g, 2, e, 5), 0);
    REQUIRE(bus_build_ping(b, want, &h, BUS_PONG, g, 2, e, 5) == want);
    bus_msg_t m;
    REQUIRE(bus_decode(b, want, &m) == BUS_OK);
    CHECK_EQ_INT(m.hdr.type, BUS_PONG);
    CHECK_EQ_INT(m.hdr.mflags[0], BUS_MFLAG_PAUSED | BUS_MFLAG_EXT_DATA);
    CHECK_EQ_INT(m.hdr.extensions, 5);
    CHECK_EQ_INT(m.u.ping.ext_count, 5);
    CHECK_EQ_INT(m.u.ping.unknown_ext_count, 1);
    CHECK(m.u.ping.has_hostname && m.u.ping.hostname_len == 11);
    CHECK(m.u.ping.has_human_nodename && m.u.ping.human_nodename_len == 9);
    CHECK(memcmp(m.u.ping.human_nodename, "primary-1", 9) == 0);
    REQUIRE(m.u.ping.shard_id);
    CHECK(memcmp(m.u.ping.shard_id, N_R6, 40) == 0);
    CHECK_EQ_INT(m.u.ping.forgotten_count, 1);
    bus_ext_iter_t it;
    bus_ext_t x;
    bus_ext_iter_init(&it, &m);
    unsigned n = 0, forgot = 0;
    while (bus_ext_iter_next(&it, &x)) {
        char name[41];
        uint64_t ttl;
        if (bus_ext_forgotten(&x, name, &ttl)) {
            CHECK_EQ_STR(name, N_R5);
            CHECK_EQ_INT(ttl, 59);
            forgot++;
        }
        if (x.type == 99) {
            CHECK_EQ_INT(x.len, 8);  /* padded */
            CHECK(memcmp(x.payload, "\1\2\3\0\0\0\0\0", 8) == 0);
        }
        n++;
    }
    CHECK_EQ_INT(n, 5);
    CHECK_EQ_INT(forgot, 1);
    check_gossip(&m, (const exp_gossip_t[]){ { N_A2, 257, 22642, 0, 1795597171 },
                                            { N_R4, 2, 22644, 0, 1795597171 } }, 2);
    /* Records too long for 7.0.15's 16-bit check are refused. */
    e[4].len = 65521;
    CHECK_EQ_INT(bus_ping_len(2, e, 5), 0);
    e[4].len = 65520;
    CHECK(bus_ping_len(2, e, 5) > 0);
    CHECK_EQ_INT(bus_build_ping(b, want, &h, BUS_FAIL, g, 2, e, 0), 0);
    free(b);
}

TEST(bus_build_clears_ext_data_without_records)
{
    bus_header_t h;
    sample_header(&h);
    h.mflags[0] = BUS_MFLAG_EXT_DATA | BUS_MFLAG_PAUSED;
    h.extensions = 3;
    h.count = 9;
    memcpy(h.slaveof, N_R4, 40);              /* ignored: has_master is false */
    uint8_t b[BUS_HEADER_LEN];
    REQUIRE(bus_build_ping(b, sizeof b, &h, BUS_MEET, NULL, 0, NULL, 0) == BUS_HEADER_LEN);
    bus_msg_t m;
    REQUIRE(bus_decode(b, sizeof b, &m) == BUS_OK);
    CHECK_EQ_INT(m.hdr.mflags[0], BUS_MFLAG_PAUSED);
    CHECK_EQ_INT(m.hdr.extensions, 0);
    CHECK_EQ_INT(m.hdr.count, 0);
    CHECK_EQ_INT(m.hdr.type, BUS_MEET);
    for (int i = 2216; i < 2246; i++) CHECK(b[i] == 0);   /* reserved */
    CHECK(!m.hdr.has_master);
    for (int i = 2128; i < 2168; i++) CHECK(b[i] == 0);   /* slaveof: "I am a master" */
}

TEST(bus_build_module_little_endian_id)
{
    bus_header_t h;
    sample_header(&h);
    uint8_t b[2300];
    size_t n = bus_build_module(b, sizeof b, &h, 0x0102030405060708ull, 7, "payload", 7);
    CHECK_EQ_INT(n, 2269 + 7);
    static const uint8_t id_le[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
    CHECK(memcmp(b + 2256, id_le, 8) == 0);
    CHECK(memcmp(b + 2264, "\0\0\0\7", 4) == 0);
    CHECK_EQ_INT(b[2268], 7);
    bus_msg_t m;
    REQUIRE(bus_decode(b, n, &m) == BUS_OK);
    CHECK(m.u.module.module_id == 0x0102030405060708ull);
    CHECK_EQ_INT(m.u.module.type, 7);
    CHECK_EQ_INT(m.u.module.len, 7);
    CHECK(memcmp(m.u.module.payload, "payload", 7) == 0);
    uint8_t again[2300];
    CHECK_EQ_INT(rebuild(b, n, again, sizeof again), n);
    CHECK(memcmp(again, b, n) == 0);
    put32(b + 2264, 8);
    CHECK_EQ_INT(bus_decode(b, n, &m), BUS_ERR_LENGTH);
    put32(b + 4, 2268);
    CHECK_EQ_INT(bus_decode(b, 2268, &m), BUS_ERR_LENGTH);
    CHECK_EQ_INT(bus_build_module(b, 2275, &h, 1, 1, "payload", 7), 0);
}

TEST(bus_build_header_fields)
{
    bus_header_t h;
    sample_header(&h);
    strcpy(h.myip, "10.0.0.1");
    h.pport = 6379;
    h.has_master = true;
    memcpy(h.slaveof, N_R4, 40);
    h.mflags[0] = BUS_MFLAG_FORCEACK;
    uint8_t b[BUS_HEADER_LEN];
    REQUIRE(bus_build_auth_request(b, sizeof b, &h) == BUS_HEADER_LEN);
    CHECK(memcmp(b, "RCmb\0\0\x08\xd0\0\1", 10) == 0);
    CHECK(memcmp(b + 2168, "10.0.0.1\0", 9) == 0);
    CHECK(memcmp(b + 2128, N_R4, 40) == 0);
    CHECK_EQ_INT(b[2253], BUS_MFLAG_FORCEACK);
    CHECK_EQ_INT(b[80], 0xff);
    bus_msg_t m;
    REQUIRE(bus_decode(b, sizeof b, &m) == BUS_OK);
    CHECK_EQ_STR(m.hdr.myip, "10.0.0.1");
    CHECK_EQ_INT(m.hdr.pport, 6379);
    CHECK_EQ_STR(m.hdr.slaveof, N_R4);
    CHECK_EQ_INT(m.hdr.type, BUS_FAILOVER_AUTH_REQUEST);
    CHECK_EQ_INT(bus_build_auth_ack(b, sizeof b - 1, &h), 0);
    CHECK_EQ_INT(bus_build_mfstart(b, sizeof b, &h), BUS_HEADER_LEN);
    CHECK_EQ_INT(b[13], BUS_MFSTART);
    CHECK_EQ_INT(bus_build_publish(b, sizeof b, &h, BUS_PING, "", 0, "", 0), 0);
    CHECK_EQ_INT(bus_build_fail(b, sizeof b, &h, N_A2), 0);  /* 2296 does not fit */
}

TEST(bus_slot_bitmap_bit_order)
{
    uint8_t bm[BUS_SLOT_BYTES] = { 0 };
    bus_slot_set(bm, 0);
    CHECK_EQ_INT(bm[0], 0x01);
    bus_slot_set(bm, 7);
    CHECK_EQ_INT(bm[0], 0x81);
    bus_slot_set(bm, 8);
    bus_slot_set(bm, 9);
    CHECK_EQ_INT(bm[1], 0x03);              /* docs/cluster-bus.md §2.3: slots 8-9 gave byte 81 = 03 */
    bus_slot_set(bm, 16383);
    CHECK_EQ_INT(bm[2047], 0x80);
    CHECK(bus_slot_test(bm, 16383) && !bus_slot_test(bm, 16382));
    CHECK_EQ_INT(bus_slot_count(bm), 5);
    bus_slot_clear(bm, 7);
    CHECK_EQ_INT(bm[0], 0x01);
    CHECK(!bus_slot_test(bm, 7));
    CHECK_EQ_INT(bus_slot_count(bm), 4);
}

TEST(bus_names_and_results)
{
    CHECK_EQ_STR(bus_type_name(BUS_PING), "ping");
    CHECK_EQ_STR(bus_type_name(BUS_FAILOVER_AUTH_REQUEST), "auth-req");
    CHECK_EQ_STR(bus_type_name(BUS_PUBLISHSHARD), "publishshard");
    CHECK_EQ_STR(bus_type_name(11), "unknown");
    CHECK(!bus_result_closes_link(BUS_ERR_LENGTH));
    CHECK(!bus_result_closes_link(BUS_ERR_EXT_PADDING));
    CHECK(!bus_result_closes_link(BUS_ERR_EXT_OVERRUN));
    CHECK(!bus_result_closes_link(BUS_OK));
    for (int r = BUS_OK; r <= BUS_ERR_EXT_OVERRUN; r++) CHECK(strcmp(bus_result_str(r), "unknown result") != 0);
    CHECK_EQ_INT(BUS_NODE_NOFAILOVER, 512);
    CHECK_EQ_INT(BUS_NODE_MIGRATE_TO, 256);
}

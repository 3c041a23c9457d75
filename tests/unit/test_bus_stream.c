/* test_bus_stream.c - the link's frame splitter with skipping on
 * (bus_stream_skip_unused): frames whose body we do not use come out as
 * their head and their body is skipped as it arrives, never held; the head
 * is judged as the whole frame would be (bus_decode_head), and decodes to
 * the body-less header the state actor gets.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/bus.h"
#include "proto/bus_stream.h"
#include "tests/unit/unit.h"

#define SENDER "e7d5c0ef1f8f6fd8df3b0ab1e64c3a1f2d5c7a9b"

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static void header(bus_header_t *h, unsigned type, uint32_t totlen)
{
    memset(h, 0, sizeof *h);
    h->ver = 1;
    h->type = (uint16_t)type;
    h->totlen = totlen;
    h->port = 30001;
    h->cport = 40001;
    h->current_epoch = 9;
    h->config_epoch = 3;
    memcpy(h->sender, SENDER, 40);
    h->flags = BUS_NODE_MASTER;
}

/* The head of a PUBLISH announcing channel_len + message_len bytes of body. */
static void publish_head(uint8_t *b, uint32_t channel_len, uint32_t message_len)
{
    bus_header_t h;
    header(&h, BUS_PUBLISH, BUS_PUBLISH_MIN_LEN + channel_len + message_len);
    bus_header_encode(b, &h);
    put32(b + BUS_HEADER_LEN, channel_len);
    put32(b + BUS_HEADER_LEN + 4, message_len);
}

static size_t valid_ping(uint8_t *b, size_t cap)
{
    bus_header_t h;
    header(&h, BUS_PING, 0);
    return bus_build_ping(b, cap, &h, BUS_PING, NULL, 0, NULL, 0);
}

typedef struct got {
    unsigned frames, heads;
    uint16_t type[8];
    int result[8];
    uint32_t len[8], totlen[8];
    size_t max_alloc;
    bool closed;
} got_t;

static void drain(bus_stream_t *s, got_t *g, bus_msg_t *m)
{
    for (;;) {
        bus_stream_frame_t f;
        int st = bus_stream_next(s, &f, m);
        if (bus_stream_allocated(s) > g->max_alloc) g->max_alloc = bus_stream_allocated(s);
        if (st == BUS_STREAM_MORE) return;
        if (st == BUS_STREAM_CLOSE) { g->closed = true; return; }
        if (g->frames < 8) {
            g->type[g->frames] = f.type;
            g->result[g->frames] = f.result;
            g->len[g->frames] = f.len;
            g->totlen[g->frames] = f.totlen;
        }
        g->frames++;
        if (f.head_only) g->heads++;
    }
}

/* A 1 GiB PUBLISH streamed through in 64 KiB chunks (the link's read size),
 * then a PING: the PUBLISH comes out once, as its 2264-byte head, judged
 * valid; the stream never holds more than a few KiB; the PING after it comes
 * out whole. The same 1 GiB without skipping is gathered (that is what the
 * link did before). */
TEST(bus_stream_skips_a_large_publish_without_holding_it)
{
    enum { CHUNK = 64 * 1024 };
    const uint32_t total = 1024u * 1024u * 1024u;      /* channel 5 + message */
    uint8_t *chunk = calloc(1, CHUNK);
    uint8_t ping[4096];
    size_t ping_len = valid_ping(ping, sizeof ping);
    REQUIRE(chunk && ping_len == BUS_HEADER_LEN);
    bus_msg_t *m = malloc(sizeof *m);
    REQUIRE(m);

    bus_stream_t s;
    bus_stream_init(&s, BUS_DEFAULT_MAX_PAYLOAD);
    bus_stream_skip_unused(&s, true);
    got_t g = { 0 };
    /* the head cut in three pieces, the first too short to read the type */
    uint8_t head[BUS_PUBLISH_MIN_LEN];
    publish_head(head, 5, total - 5);
    bus_stream_feed(&s, head, 10);
    drain(&s, &g, m);
    bus_stream_feed(&s, head + 10, 2000);
    drain(&s, &g, m);
    CHECK_EQ_INT(g.frames, 0);
    bus_stream_feed(&s, head + 2010, sizeof head - 2010);
    drain(&s, &g, m);
    CHECK_EQ_INT(g.frames, 1);
    CHECK_EQ_INT(g.heads, 1);
    CHECK_EQ_INT(g.type[0], BUS_PUBLISH);
    CHECK_EQ_INT(g.result[0], BUS_OK);
    CHECK_EQ_INT(g.len[0], BUS_PUBLISH_MIN_LEN);
    CHECK_EQ_INT(g.totlen[0], BUS_PUBLISH_MIN_LEN + total);
    CHECK_EQ_INT(m->hdr.type, BUS_PUBLISH);
    CHECK_EQ_STR(m->hdr.sender, SENDER);
    CHECK_EQ_INT(m->hdr.current_epoch, 9);
    CHECK_EQ_INT(m->u.publish.channel_len, 5);
    CHECK(m->u.publish.channel == NULL && m->body == NULL);
    /* the body: exactly `total` bytes, the last chunk followed by the PING */
    uint64_t left = total;
    while (left > CHUNK) {
        bus_stream_feed(&s, chunk, CHUNK);
        drain(&s, &g, m);
        left -= CHUNK;
    }
    uint8_t *tail = malloc((size_t)left + ping_len);
    REQUIRE(tail);
    memset(tail, 0, (size_t)left);
    memcpy(tail + left, ping, ping_len);
    bus_stream_feed(&s, tail, (size_t)left + ping_len);
    drain(&s, &g, m);
    CHECK(!g.closed);
    CHECK_EQ_INT(g.frames, 2);
    CHECK_EQ_INT(g.heads, 1);
    CHECK_EQ_INT(g.type[1], BUS_PING);
    CHECK_EQ_INT(g.result[1], BUS_OK);
    CHECK_EQ_INT(g.len[1], ping_len);
    CHECK(g.max_alloc <= BUS_STREAM_KEEP_CAP);
    CHECK_EQ_INT(s.skipped_bytes, total);
    bus_stream_free(&s);

    /* Without skipping the same frame is gathered as it arrives: 16 MiB of
     * its body are held after 16 MiB were fed. */
    bus_stream_init(&s, BUS_DEFAULT_MAX_PAYLOAD);
    got_t g2 = { 0 };
    bus_stream_feed(&s, head, sizeof head);
    drain(&s, &g2, m);
    for (int i = 0; i < 256; i++) {
        bus_stream_feed(&s, chunk, CHUNK);
        drain(&s, &g2, m);
    }
    CHECK_EQ_INT(g2.frames, 0);
    CHECK(bus_stream_buffered(&s) >= 16u * 1024 * 1024);
    bus_stream_free(&s);

    free(tail);
    free(chunk);
    free(m);
}

/* Heads are judged as the whole frame: bad lengths, wrong version, fixed
 * types sent too long (7.0.15 reads and drops them, keeping the link), types
 * it does not know; and no size closes a skipping stream, except for the
 * types that must be read whole (PING/PONG/MEET). */
TEST(bus_stream_skip_judges_heads)
{
    bus_msg_t *m = malloc(sizeof *m);
    REQUIRE(m);
    uint8_t b[BUS_MODULE_MIN_LEN];
    bus_header_t h;
    struct { unsigned type; uint32_t totlen; int result; uint32_t head; } cases[] = {
        { BUS_FAIL, BUS_FAIL_LEN + 1, BUS_ERR_LENGTH, BUS_HEADER_LEN },
        { BUS_UPDATE, 0xfffffff0u, BUS_ERR_LENGTH, BUS_HEADER_LEN },
        { BUS_MFSTART, BUS_HEADER_LEN + 8, BUS_ERR_LENGTH, BUS_HEADER_LEN },
        { BUS_FAILOVER_AUTH_ACK, 100000, BUS_ERR_LENGTH, BUS_HEADER_LEN },
        { 42, 0x7fffffffu, BUS_OK, BUS_HEADER_LEN },
        { BUS_MODULE, BUS_MODULE_MIN_LEN + 50000000u, BUS_OK, BUS_MODULE_MIN_LEN },
        { BUS_MODULE, BUS_MODULE_MIN_LEN + 7, BUS_ERR_LENGTH, BUS_MODULE_MIN_LEN },
        { BUS_PUBLISHSHARD, 0xffffffffu, BUS_ERR_LENGTH, BUS_PUBLISH_MIN_LEN },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(b, 0, sizeof b);
        header(&h, cases[i].type, cases[i].totlen);
        bus_header_encode(b, &h);
        if (cases[i].type == BUS_MODULE)
            put32(b + BUS_HEADER_LEN + 8, cases[i].result == BUS_OK ? cases[i].totlen - BUS_MODULE_MIN_LEN : 1);
        if (cases[i].type == BUS_PUBLISHSHARD) { put32(b + BUS_HEADER_LEN, 0xfffffff0u); put32(b + BUS_HEADER_LEN + 4, 0x20u); }
        CHECK_EQ_INT(bus_judge_len(cases[i].type, cases[i].totlen), cases[i].head);
        bus_stream_t s;
        bus_stream_init(&s, 64);
        bus_stream_skip_unused(&s, true);
        got_t g = { 0 };
        bus_stream_feed(&s, b, cases[i].head);
        drain(&s, &g, m);
        CHECK(!g.closed);
        CHECK_EQ_INT(g.heads, 1);
        CHECK_EQ_INT(g.result[0], cases[i].result);
        CHECK_EQ_INT(g.totlen[0], cases[i].totlen);
        bus_stream_free(&s);
    }
    /* the version is judged from the head too */
    header(&h, BUS_PUBLISH, BUS_PUBLISH_MIN_LEN + 100);
    bus_header_encode(b, &h);
    b[9] = 2;                           /* ver (the encoder always writes 1) */
    put32(b + BUS_HEADER_LEN, 50);
    put32(b + BUS_HEADER_LEN + 4, 50);
    CHECK_EQ_INT(bus_decode_head(b, BUS_PUBLISH_MIN_LEN, m), BUS_ERR_VERSION);
    /* a PING is never skipped: too big still closes */
    header(&h, BUS_PING, BUS_MAX_GOSSIP_FRAME + 1);
    bus_header_encode(b, &h);
    bus_stream_t s;
    bus_stream_init(&s, 64);
    bus_stream_skip_unused(&s, true);
    got_t g = { 0 };
    bus_stream_feed(&s, b, 16);
    drain(&s, &g, m);
    CHECK(g.closed);
    bus_stream_free(&s);
    /* nor a head shorter than what decides it */
    CHECK_EQ_INT(bus_judge_len(BUS_PING, 0xffffffffu), 0);
    CHECK_EQ_INT(bus_judge_len(BUS_FAIL, BUS_FAIL_LEN), 0);
    CHECK_EQ_INT(bus_judge_len(BUS_PUBLISH, BUS_PUBLISH_MIN_LEN), 0);
    publish_head(b, 10, 10);
    CHECK_EQ_INT(bus_decode_head(b, BUS_PUBLISH_MIN_LEN - 1, m), BUS_ERR_TRUNCATED);
    free(m);
}

/* A head decodes to the whole header and no body, which is what the state
 * actor is given (the link adds the slot bitmap, bus_decode_slots). */
TEST(bus_stream_head_keeps_the_header)
{
    bus_msg_t *m = malloc(sizeof *m);
    REQUIRE(m);
    uint8_t b[BUS_MODULE_MIN_LEN];
    publish_head(b, 7, 123456);
    CHECK_EQ_INT(bus_decode_head(b, BUS_PUBLISH_MIN_LEN, m), BUS_OK);
    CHECK_EQ_INT(m->hdr.type, BUS_PUBLISH);
    CHECK_EQ_INT(m->hdr.totlen, BUS_PUBLISH_MIN_LEN + 7 + 123456);
    CHECK(m->body == NULL && m->body_len == 0);
    CHECK(m->u.publish.channel == NULL && m->u.publish.message == NULL);
    CHECK_EQ_STR(m->hdr.sender, SENDER);
    CHECK_EQ_INT(m->hdr.current_epoch, 9);
    CHECK_EQ_INT(m->hdr.config_epoch, 3);

    bus_header_t h;
    header(&h, BUS_MODULE, BUS_MODULE_MIN_LEN + 99);
    bus_header_encode(b, &h);
    put32(b + BUS_HEADER_LEN + 8, 99);
    CHECK_EQ_INT(bus_decode_head(b, BUS_MODULE_MIN_LEN, m), BUS_OK);
    CHECK(m->u.module.payload == NULL && m->body == NULL);
    CHECK_EQ_STR(m->hdr.sender, SENDER);

    header(&h, 42, 1u << 30);
    bus_header_encode(b, &h);
    CHECK_EQ_INT(bus_decode_head(b, BUS_HEADER_LEN, m), BUS_OK);
    CHECK_EQ_INT(m->hdr.type, 42);
    CHECK(m->body == NULL);
    free(m);
}

/* bus_stream_skip_body tells the link when a skipped frame has ended (the
 * link acts on the head only then, as 7.0.15 acts on a frame once read
 * whole): false while body bytes are still to come, true once the last one
 * is dropped, even when the frame's end and the next frame share a chunk;
 * the next frame then comes out whole. */
TEST(bus_stream_skip_body_says_when_the_frame_ends)
{
    bus_msg_t *m = malloc(sizeof *m);
    REQUIRE(m);
    uint8_t ping[4096];
    size_t ping_len = valid_ping(ping, sizeof ping);
    enum { BODY = 3000 };
    uint8_t *wire = calloc(1, BUS_PUBLISH_MIN_LEN + BODY + ping_len);
    REQUIRE(wire);
    publish_head(wire, 5, BODY - 5);
    memcpy(wire + BUS_PUBLISH_MIN_LEN + BODY, ping, ping_len);

    bus_stream_t s;
    bus_stream_init(&s, BUS_DEFAULT_MAX_PAYLOAD);
    bus_stream_skip_unused(&s, true);
    CHECK(bus_stream_skip_body(&s));                 /* nothing pending yet */
    /* the head and 1000 body bytes */
    bus_stream_feed(&s, wire, BUS_PUBLISH_MIN_LEN + 1000);
    bus_stream_frame_t f;
    CHECK_EQ_INT(bus_stream_next(&s, &f, m), BUS_STREAM_FRAME);
    CHECK(f.head_only);
    CHECK_EQ_INT(f.type, BUS_PUBLISH);
    CHECK(!bus_stream_skip_body(&s));                /* 2000 still to come */
    /* 1999 more: not yet */
    bus_stream_feed(&s, wire + BUS_PUBLISH_MIN_LEN + 1000, 1999);
    CHECK(!bus_stream_skip_body(&s));
    /* the last body byte and the PING in one chunk */
    bus_stream_feed(&s, wire + BUS_PUBLISH_MIN_LEN + 2999, 1 + ping_len);
    CHECK(bus_stream_skip_body(&s));
    CHECK(bus_stream_skip_body(&s));                 /* idempotent: the PING is not eaten */
    CHECK_EQ_INT(bus_stream_next(&s, &f, m), BUS_STREAM_FRAME);
    CHECK(!f.head_only);
    CHECK_EQ_INT(f.type, BUS_PING);
    CHECK_EQ_INT(f.result, BUS_OK);
    CHECK_EQ_INT(bus_stream_next(&s, &f, m), BUS_STREAM_MORE);
    bus_stream_free(&s);
    free(wire);
    free(m);
}

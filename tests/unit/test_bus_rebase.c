/* test_bus_rebase.c - keeping a decoded bus message apart from its frame,
 * as a link does when it forwards what it decoded to the state actor:
 * bus_decode_slots completes a frame judged without its slot bitmap, and
 * bus_msg_rebase moves the views onto a copy of the body. The frame is freed
 * before the message is read, so AddressSanitizer reports any view left
 * behind.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/bus.h"
#include "tests/unit/bus_msg_same.h"
#include "tests/unit/bus_vectors.h"
#include "tests/unit/unit.h"

#define SENDER "e7d5c0ef1f8f6fd8df3b0ab1e64c3a1f2d5c7a9b"
#define OTHER  "0123456789abcdef0123456789abcdef01234567"

static void header(bus_header_t *h)
{
    memset(h, 0, sizeof *h);
    h->ver = BUS_PROTO_VER;
    h->port = 30001;
    h->cport = 40001;
    h->current_epoch = 9;
    h->config_epoch = 3;
    memcpy(h->sender, SENDER, 40);
    for (unsigned s = 100; s < 5000; s += 3) bus_slot_set(h->myslots, s);
    h->flags = BUS_NODE_MASTER;
}

/* Judges frame[0..len) as the link does (no slot bitmap), completes it,
 * copies its body, moves the views onto the copy, wipes and frees the
 * frame; then the message must say what bus_decode says of the frame. */
static bool kept_apart_same(const uint8_t *frame, size_t len)
{
    bool ok = false;
    uint8_t *whole = malloc(len), *copy = malloc(len);
    bus_msg_t *m = malloc(sizeof *m), *ref = malloc(sizeof *ref);
    uint8_t *body = NULL;
    if (!whole || !copy || !m || !ref) goto out;
    memcpy(whole, frame, len);
    memcpy(copy, frame, len);
    if (bus_decode(copy, len, ref) != BUS_OK) goto out;
    memset(m->hdr.myslots, 0xa5, BUS_SLOT_BYTES);
    if (bus_decode_noslots(whole, len, m) != BUS_OK) goto out;
    if (!bus_decode_slots(whole, len, m)) goto out;
    body = malloc(m->body_len ? m->body_len : 1);
    if (!body) goto out;
    memcpy(body, m->body, m->body_len);
    bus_msg_rebase(m, m->body, body);
    memset(whole, 0xee, len);
    free(whole);
    whole = NULL;
    ok = m->body == body && bus_msg_same(m, ref);
out:
    free(whole);
    free(copy);
    free(body);
    free(m);
    free(ref);
    return ok;
}

TEST(bus_msg_rebase_keeps_every_captured_frame_apart)
{
    for (size_t i = 0; i < N_SINGLE; i++) {
        size_t len;
        uint8_t *buf = load(single_vectors[i], &len);
        REQUIRE(buf);
        if (!kept_apart_same(buf, len)) unit_fail(__FILE__, __LINE__, single_vectors[i]);
        free(buf);
    }
}

/* Every view kind: gossip, each extension string and record (7.2's shard
 * id, human nodename and forgotten node too), UPDATE's slots, MODULE's
 * payload, PUBLISH's channel and message, an unknown type's body. */
TEST(bus_msg_rebase_moves_every_kind_of_view)
{
    bus_header_t h;
    header(&h);
    bus_gossip_t g[2];
    memset(g, 0, sizeof g);
    memcpy(g[0].name, OTHER, 40);
    strcpy(g[0].ip, "10.0.0.2");
    g[0].port = 7002;
    memcpy(g[1].name, SENDER, 40);
    g[1].flags = BUS_NODE_PFAIL;
    uint8_t forgotten[48] = { 0 };
    memcpy(forgotten, OTHER, 40);
    forgotten[47] = 30;
    static const uint8_t odd[3] = { 1, 2, 3 };
    bus_ext_t e[5];
    bus_ext_hostname(&e[0], "node-a.test");
    e[1] = (bus_ext_t){ BUS_EXT_SHARDID, (const uint8_t *)OTHER, 40 };
    e[2] = (bus_ext_t){ BUS_EXT_FORGOTTEN_NODE, forgotten, 48 };
    e[3] = (bus_ext_t){ BUS_EXT_HUMAN_NODENAME, (const uint8_t *)"primary-1", 10 };
    e[4] = (bus_ext_t){ 77, odd, 3 };
    uint8_t *b = malloc(BUS_FULL_LEN * 2);
    REQUIRE(b);
    size_t n = bus_build_ping(b, BUS_FULL_LEN * 2, &h, BUS_PONG, g, 2, e, 5);
    REQUIRE(n > 0);
    CHECK(kept_apart_same(b, n));

    uint8_t slots[BUS_SLOT_BYTES] = { 0 };
    bus_slot_set(slots, 16383);
    n = bus_build_update(b, BUS_FULL_LEN * 2, &h, 12, OTHER, slots);
    REQUIRE(n > 0);
    CHECK(kept_apart_same(b, n));

    n = bus_build_module(b, BUS_FULL_LEN * 2, &h, 0x1122334455667788ull, 5, "payload!", 8);
    REQUIRE(n > 0);
    CHECK(kept_apart_same(b, n));

    n = bus_build_publish(b, BUS_FULL_LEN * 2, &h, BUS_PUBLISHSHARD, "chan", 4, "hello", 5);
    REQUIRE(n > 0);
    CHECK(kept_apart_same(b, n));

    n = bus_build_fail(b, BUS_FULL_LEN * 2, &h, OTHER);
    REQUIRE(n > 0);
    CHECK(kept_apart_same(b, n));

    /* a type 7.0.15 does not know, with a body of its own */
    h.type = 42;
    h.totlen = BUS_HEADER_LEN + 24;
    bus_header_encode(b, &h);
    memset(b + BUS_HEADER_LEN, 0x3c, 24);
    CHECK(kept_apart_same(b, BUS_HEADER_LEN + 24));
    free(b);
}

/* The slot bitmap is the one thing bus_decode_noslots leaves out: once
 * added, the header is bus_decode's; a buffer shorter than a header adds
 * nothing. */
TEST(bus_decode_slots_completes_a_judged_header)
{
    bus_header_t h;
    header(&h);
    uint8_t b[BUS_FULL_LEN];
    size_t n = bus_build_auth_request(b, sizeof b, &h);
    REQUIRE(n == BUS_HEADER_LEN);
    bus_msg_t *m = malloc(sizeof *m), *ref = malloc(sizeof *ref);
    REQUIRE(m && ref);
    REQUIRE(bus_decode(b, n, ref) == BUS_OK);
    memset(m->hdr.myslots, 0xa5, BUS_SLOT_BYTES);
    REQUIRE(bus_decode_noslots(b, n, m) == BUS_OK);
    CHECK_EQ_INT(m->hdr.myslots[0], 0xa5);                  /* left as it was */
    CHECK(!bus_decode_slots(b, BUS_HEADER_LEN - 1, m));
    CHECK_EQ_INT(m->hdr.myslots[0], 0xa5);
    CHECK(bus_decode_slots(b, n, m));
    CHECK(same_header(&m->hdr, &ref->hdr));
    CHECK(bus_slot_test(m->hdr.myslots, 103) && !bus_slot_test(m->hdr.myslots, 104));
    free(m);
    free(ref);
}

/* A head whose body is skipped has no body views: rebasing leaves them NULL
 * and the header (slots added) is whole. */
TEST(bus_msg_rebase_leaves_a_bodyless_head_alone)
{
    bus_header_t h;
    header(&h);
    uint8_t *b = malloc(BUS_PUBLISH_MIN_LEN + 1000);
    REQUIRE(b);
    size_t n = bus_build_publish(b, BUS_PUBLISH_MIN_LEN + 1000, &h, BUS_PUBLISH, "c", 1, NULL, 0);
    REQUIRE(n == BUS_PUBLISH_MIN_LEN + 1);
    /* announce a large message, give only the head */
    uint32_t big = 1000000;
    uint8_t *p = b + BUS_HEADER_LEN + 4;
    p[0] = (uint8_t)(big >> 24); p[1] = (uint8_t)(big >> 16); p[2] = (uint8_t)(big >> 8); p[3] = (uint8_t)big;
    uint32_t tot = BUS_PUBLISH_MIN_LEN + 1 + big;
    b[4] = (uint8_t)(tot >> 24); b[5] = (uint8_t)(tot >> 16); b[6] = (uint8_t)(tot >> 8); b[7] = (uint8_t)tot;
    bus_msg_t *m = malloc(sizeof *m);
    REQUIRE(m);
    REQUIRE(bus_decode_head(b, BUS_PUBLISH_MIN_LEN, m) == BUS_OK);
    CHECK(bus_decode_slots(b, BUS_PUBLISH_MIN_LEN, m));
    uint8_t other[8];
    bus_msg_rebase(m, b + BUS_HEADER_LEN, other);
    CHECK(m->body == NULL && m->body_len == 0);
    CHECK(m->u.publish.channel == NULL && m->u.publish.message == NULL);
    CHECK_EQ_INT(m->u.publish.message_len, big);
    CHECK_EQ_INT(m->hdr.totlen, tot);
    CHECK_EQ_STR(m->hdr.sender, SENDER);
    CHECK(bus_slot_test(m->hdr.myslots, 100));
    free(m);
    free(b);
}

/* test_bus_peek.c - unit tests of the bus codec's in-place peeks
 * (bus_peek_totlen/type/sender in proto/bus.h): they agree with the decoder on
 * every captured frame, need only their own field, and split the captured
 * streams by length alone.
 *
 * Never depends on the current time or on anything but the vector files.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/bus.h"
#include "tests/unit/unit.h"
#include "tests/unit/bus_vectors.h"

/* ---- peeking ---- */

/* Every captured frame: the peeks give what the decoder gives. */
TEST(bus_peek_matches_decode_on_vectors)
{
    for (size_t i = 0; i < N_SINGLE; i++) {
        size_t len;
        uint8_t *buf = load(single_vectors[i], &len);
        REQUIRE(buf);
        bus_msg_t m;
        REQUIRE(bus_decode(buf, len, &m) == BUS_OK);
        uint32_t totlen = 0;
        unsigned type = 99;
        CHECK(bus_peek_totlen(buf, len, &totlen));
        CHECK_EQ_INT(totlen, len);
        CHECK(bus_peek_type(buf, len, &type));
        CHECK_EQ_INT(type, m.hdr.type);
        const uint8_t *sender = bus_peek_sender(buf, len);
        CHECK(sender != NULL && memcmp(sender, m.hdr.sender, BUS_NAME_LEN) == 0);
        free(buf);
    }
}

/* Each peek needs only its own field, and refuses a buffer one byte short. */
TEST(bus_peek_needs_only_its_field)
{
    size_t len;
    uint8_t *buf = load("bus-fail.bin", &len);   /* FAIL (type 3), sender :22642's view */
    REQUIRE(buf);
    uint32_t totlen = 0;
    unsigned type = 0;
    CHECK(!bus_peek_totlen(buf, 7, &totlen));
    CHECK(bus_peek_totlen(buf, 8, &totlen));
    CHECK_EQ_INT(totlen, BUS_FAIL_LEN);
    CHECK(!bus_peek_type(buf, 13, &type));
    CHECK(bus_peek_type(buf, 14, &type));
    CHECK_EQ_INT(type, BUS_FAIL);
    CHECK(bus_peek_sender(buf, 79) == NULL);
    CHECK(bus_peek_sender(buf, 80) == buf + 40);
    free(buf);
}

/* The stream captures split by their announced lengths alone, as the state
 * actor splits a link's read round: the frames tile the file exactly. */
TEST(bus_peek_totlen_walks_streams)
{
    static const struct { const char *file; int frames; unsigned first_type; } streams[] = {
        { "bus-stream-meet-link-first6.bin", 6, BUS_MEET },
        { "bus-stream-3frames-one-segment.bin", 3, BUS_FAILOVER_AUTH_REQUEST },
    };
    for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++) {
        size_t len;
        uint8_t *buf = load(streams[i].file, &len);
        REQUIRE(buf);
        unsigned type = 99;
        CHECK(bus_peek_type(buf, len, &type));
        CHECK_EQ_INT(type, streams[i].first_type);
        size_t off = 0;
        int frames = 0;
        uint32_t flen;
        while (off < len && bus_peek_totlen(buf + off, len - off, &flen) && flen >= BUS_HEADER_LEN && flen <= len - off) {
            bus_msg_t m;
            CHECK_EQ_INT(bus_decode(buf + off, flen, &m), BUS_OK);
            off += flen;
            frames++;
        }
        CHECK_EQ_INT(off, len);
        CHECK_EQ_INT(frames, streams[i].frames);
        free(buf);
    }
}


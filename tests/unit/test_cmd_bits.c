/* test_cmd_bits.c - the bitmap, HyperLogLog and LCS handlers against keys of
 * another type (no such type is served yet, so a stand-in object plays a
 * list) and the propagation decisions (ctx->dirty) 7.0.15 makes. Every
 * expected reply was recorded from redis-server 7.0.15 for the same
 * commands on a list key. */
#include "tests/unit/cmd_fixture.h"

#define OFFSET "-ERR bit offset is not an integer or out of range\r\n"

TEST(cmd_bits_wrongtype_in_redis_order)
{
    config_reset_defaults();
    struct keyspace *ks = ks_create();
    make_list(ks, "l");
    CHECK_EQ_STR(R(ks, cmd_setbit, "setbit", "l", "0", "1"), WRONGTYPE);
    CHECK_EQ_STR(R(ks, cmd_getbit, "getbit", "l", "0"), WRONGTYPE);
    CHECK_EQ_STR(R(ks, cmd_bitcount, "bitcount", "l"), WRONGTYPE);
    CHECK_EQ_STR(R(ks, cmd_bitcount, "bitcount", "l", "x"), WRONGTYPE);
    CHECK_EQ_STR(R(ks, cmd_bitpos, "bitpos", "l", "1"), WRONGTYPE);
    CHECK_EQ_STR(R(ks, cmd_bitpos, "bitpos", "l", "2"), "-ERR The bit argument must be 1 or 0.\r\n");
    CHECK_EQ_STR(R(ks, cmd_bitop, "bitop", "AND", "d", "l"), WRONGTYPE);
    CHECK_EQ_STR(R(ks, cmd_bitop, "bitop", "AND", "d", "missing", "l"), WRONGTYPE);
    CHECK_EQ_STR(R(ks, cmd_bitfield, "bitfield", "l", "GET", "u8", "0"), WRONGTYPE);
    CHECK_EQ_STR(R(ks, cmd_bitfield, "bitfield", "l", "SET", "u8", "0", "1"), WRONGTYPE);
    CHECK_EQ_STR(R(ks, cmd_bitfield, "bitfield", "l", "GET", "u8", "x"), OFFSET);
    CHECK_EQ_STR(R(ks, cmd_bitfield_ro, "bitfield_ro", "l", "GET", "u8", "0"), WRONGTYPE);
    CHECK_EQ_STR(R(ks, cmd_bitfield_ro, "bitfield_ro", "l", "SET", "u8", "0", "1"),
                 "-ERR BITFIELD_RO only supports the GET subcommand\r\n");
    CHECK_EQ_STR(R(ks, cmd_setbit, "setbit", "l", "x", "1"), OFFSET);
    CHECK_EQ_STR(R(ks, cmd_lcs, "lcs", "l", "x"), "-ERR The specified keys must contain string values\r\n");
    CHECK_EQ_STR(R(ks, cmd_lcs, "lcs", "x", "l", "BOGUS"), "-ERR The specified keys must contain string values\r\n");
    CHECK_EQ_STR(R(ks, cmd_pfadd, "pfadd", "l", "a"), WRONGTYPE);
    CHECK_EQ_STR(R(ks, cmd_pfcount, "pfcount", "l"), WRONGTYPE);
    CHECK_EQ_STR(R(ks, cmd_pfcount, "pfcount", "missing", "l"), WRONGTYPE);
    CHECK_EQ_STR(R(ks, cmd_pfmerge, "pfmerge", "d", "l"), WRONGTYPE);
    CHECK_EQ_STR(R(ks, cmd_pfmerge, "pfmerge", "l"), WRONGTYPE);
    CHECK_EQ_STR(R(ks, cmd_pfdebug, "pfdebug", "ENCODING", "l"), WRONGTYPE);
    CHECK_EQ_STR(R(ks, cmd_pfdebug, "pfdebug", "FOO", "l"), WRONGTYPE);
    CHECK(ks_size(ks) == 1);       /* nothing created on the way */
    ks_free(ks);
}

/* What gets propagated: exactly the calls redis-server counts as changes. */
TEST(cmd_bits_dirty_as_redis)
{
    config_reset_defaults();
    struct keyspace *ks = ks_create();
    CHECK_EQ_STR(R(ks, cmd_setbit, "setbit", "b", "3", "0"), ":0\r\n");
    CHECK(fx_last_dirty);             /* created */
    CHECK_EQ_STR(R(ks, cmd_setbit, "setbit", "b", "3", "0"), ":0\r\n");
    CHECK(!fx_last_dirty);            /* no change */
    CHECK_EQ_STR(R(ks, cmd_setbit, "setbit", "b", "30", "0"), ":0\r\n");
    CHECK(fx_last_dirty);             /* grown */
    CHECK_EQ_STR(R(ks, cmd_bitfield, "bitfield", "f", "OVERFLOW", "FAIL", "SET", "i8", "0", "1000"), "*1\r\n$-1\r\n");
    CHECK(!fx_last_dirty);            /* created, yet nothing written: not propagated */
    CHECK_EQ_STR(R(ks, cmd_bitfield, "bitfield", "f", "SET", "u8", "0", "0"), "*1\r\n:0\r\n");
    CHECK(!fx_last_dirty);
    CHECK_EQ_STR(R(ks, cmd_bitfield, "bitfield", "f", "SET", "u8", "8", "0"), "*1\r\n:0\r\n");
    CHECK(fx_last_dirty);             /* grown */
    CHECK_EQ_STR(R(ks, cmd_bitop, "bitop", "OR", "d", "nope"), ":0\r\n");
    CHECK(!fx_last_dirty);
    CHECK_EQ_STR(R(ks, cmd_pfadd, "pfadd", "h", "a"), ":1\r\n");
    CHECK(fx_last_dirty);
    CHECK_EQ_STR(R(ks, cmd_pfadd, "pfadd", "h", "a"), ":0\r\n");
    CHECK(!fx_last_dirty);
    CHECK_EQ_STR(R(ks, cmd_pfcount, "pfcount", "h"), ":1\r\n");
    CHECK(fx_last_dirty);             /* the cached estimate was written */
    CHECK_EQ_STR(R(ks, cmd_pfcount, "pfcount", "h"), ":1\r\n");
    CHECK(!fx_last_dirty);
    CHECK_EQ_STR(R(ks, cmd_pfcount, "pfcount", "h", "h"), ":1\r\n");
    CHECK(!fx_last_dirty);
    CHECK_EQ_STR(R(ks, cmd_pfdebug, "pfdebug", "todense", "h"), ":1\r\n");
    CHECK(fx_last_dirty);
    CHECK_EQ_STR(R(ks, cmd_pfdebug, "pfdebug", "todense", "h"), ":0\r\n");
    CHECK(!fx_last_dirty);
    ks_free(ks);
}

/* test_cmd_bits.c - the bitmap, HyperLogLog and LCS handlers against keys of
 * another type (no such type is served yet, so a stand-in object plays a
 * list) and the propagation decisions (ctx->dirty) 7.0.15 makes. Every
 * expected reply was recorded from redis-server 7.0.15 for the same
 * commands on a list key. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/worker/keyspace.h"
#include "tests/unit/unit.h"

#define T0 1700000000000LL

static resp_buf_t reply;
static char last[4096];
static bool last_dirty;

static const char *run(struct keyspace *ks, cmd_fn fn, ...)
{
    const uint8_t *argv[32];
    size_t argvlen[32];
    int argc = 0;
    va_list ap;
    va_start(ap, fn);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && argc < 32) {
        argv[argc] = (const uint8_t *)a;
        argvlen[argc++] = strlen(a);
    }
    va_end(ap);
    if (!reply.data) resp_buf_init(&reply, 2);
    resp_buf_reset(&reply);
    cmd_ctx_t ctx = { .argc = argc, .argv = argv, .argvlen = argvlen, .reply = &reply, .ks = ks, .now_ms = T0 };
    fn(&ctx);
    last_dirty = ctx.dirty;
    size_t n = reply.len < sizeof last - 1 ? reply.len : sizeof last - 1;
    memcpy(last, reply.data, n);
    last[n] = 0;
    return last;
}

#define R(ks, fn, ...) run(ks, fn, __VA_ARGS__, (const char *)NULL)

static void obj_free(void *o) { free(o); }
static size_t obj_mem(const void *o) { (void)o; return 16; }
static const ks_object_ops_t list_ops = { .type_name = "list", .free_value = obj_free, .mem_usage = obj_mem };

static void make_list(struct keyspace *ks, const char *key)
{
    ks_object_t *o = malloc(sizeof *o);
    o->ops = &list_ops;
    ks_set_object(ks, (const uint8_t *)key, strlen(key), KS_TYPE_LIST, o, KS_NO_EXPIRE, T0);
}

#define WRONGTYPE "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
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
    CHECK(last_dirty);             /* created */
    CHECK_EQ_STR(R(ks, cmd_setbit, "setbit", "b", "3", "0"), ":0\r\n");
    CHECK(!last_dirty);            /* no change */
    CHECK_EQ_STR(R(ks, cmd_setbit, "setbit", "b", "30", "0"), ":0\r\n");
    CHECK(last_dirty);             /* grown */
    CHECK_EQ_STR(R(ks, cmd_bitfield, "bitfield", "f", "OVERFLOW", "FAIL", "SET", "i8", "0", "1000"), "*1\r\n$-1\r\n");
    CHECK(!last_dirty);            /* created, yet nothing written: not propagated */
    CHECK_EQ_STR(R(ks, cmd_bitfield, "bitfield", "f", "SET", "u8", "0", "0"), "*1\r\n:0\r\n");
    CHECK(!last_dirty);
    CHECK_EQ_STR(R(ks, cmd_bitfield, "bitfield", "f", "SET", "u8", "8", "0"), "*1\r\n:0\r\n");
    CHECK(last_dirty);             /* grown */
    CHECK_EQ_STR(R(ks, cmd_bitop, "bitop", "OR", "d", "nope"), ":0\r\n");
    CHECK(!last_dirty);
    CHECK_EQ_STR(R(ks, cmd_pfadd, "pfadd", "h", "a"), ":1\r\n");
    CHECK(last_dirty);
    CHECK_EQ_STR(R(ks, cmd_pfadd, "pfadd", "h", "a"), ":0\r\n");
    CHECK(!last_dirty);
    CHECK_EQ_STR(R(ks, cmd_pfcount, "pfcount", "h"), ":1\r\n");
    CHECK(last_dirty);             /* the cached estimate was written */
    CHECK_EQ_STR(R(ks, cmd_pfcount, "pfcount", "h"), ":1\r\n");
    CHECK(!last_dirty);
    CHECK_EQ_STR(R(ks, cmd_pfcount, "pfcount", "h", "h"), ":1\r\n");
    CHECK(!last_dirty);
    CHECK_EQ_STR(R(ks, cmd_pfdebug, "pfdebug", "todense", "h"), ":1\r\n");
    CHECK(last_dirty);
    CHECK_EQ_STR(R(ks, cmd_pfdebug, "pfdebug", "todense", "h"), ":0\r\n");
    CHECK(!last_dirty);
    ks_free(ks);
}

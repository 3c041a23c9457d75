/* test_hll.c - proto/hll.c: the HyperLogLog layout, updates and estimator,
 * checked against bytes and counts recorded from redis-server 7.0.15 for the
 * same inputs (PFADD/GET/PFCOUNT/PFDEBUG on the real server). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/hll.h"
#include "tests/unit/unit.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = 0;
}

static void add_str(hll_buf_t *b, const char *s)
{
    hll_add(b, (const uint8_t *)s, strlen(s), 3000);
}

TEST(hll_empty_is_one_xzero)
{
    hll_buf_t b;
    REQUIRE(hll_init(&b));
    char h[128];
    hex(b.data, b.len, h);
    CHECK_EQ_STR(h, "48594c4c010000000000000000000000" "7fff");
    CHECK(hll_header_ok(b.data, b.len));
    bool invalid = false;
    CHECK_EQ_INT(hll_count(b.data, b.len, &invalid), 0);
    CHECK(!invalid);
    free(b.data);
}

/* PFADD h a b c on redis-server 7.0.15, then GET h, PFCOUNT h, GET h. */
TEST(hll_sparse_bytes_match_redis)
{
    hll_buf_t b;
    hll_init(&b);
    add_str(&b, "a");
    add_str(&b, "b");
    add_str(&b, "c");
    char h[256];
    hex(b.data, b.len, h);
    CHECK_EQ_STR(h, "48594c4c01000000000000000000008060f38050b1844bfb80425a");
    CHECK(!hll_cache_valid(b.data));
    bool invalid = false;
    uint64_t n = hll_count(b.data, b.len, &invalid);
    CHECK_EQ_INT(n, 3);
    hll_cache_put(b.data, n);
    hex(b.data, b.len, h);
    CHECK_EQ_STR(h, "48594c4c01000000030000000000000060f38050b1844bfb80425a");
    CHECK(hll_cache_valid(b.data));
    CHECK_EQ_INT(hll_cache_get(b.data), 3);
    /* adding one already there changes nothing */
    CHECK_EQ_INT(hll_add(&b, (const uint8_t *)"a", 1, 3000), 0);
    free(b.data);
}

/* 100 elements u0..u99: PFCOUNT 99, 279 bytes, this DECODE prefix. */
TEST(hll_sparse_hundred_elements)
{
    hll_buf_t b;
    hll_init(&b);
    char s[16];
    for (int i = 0; i < 100; i++) {
        snprintf(s, sizeof s, "u%d", i);
        add_str(&b, s);
    }
    CHECK_EQ_INT(b.len, 279);
    CHECK_EQ_INT(hll_count(b.data, b.len, NULL), 99);
    char *d = hll_sparse_describe(b.data, b.len);
    REQUIRE(d != NULL);
    CHECK(strncmp(d, "v:1,1 Z:251 v:4,1 z:14 v:5,1 z:35 v:1,1 Z:160 v:1,1 Z:151 v:4,1 z:55 v:1,1 Z:98 ", 80) == 0);
    free(d);
    free(b.data);
}

/* 5000 elements u0..u4999: dense, PFCOUNT 4971; the sparse and dense
 * estimates of the same registers agree. */
TEST(hll_promotes_to_dense_and_counts_as_redis)
{
    hll_buf_t b;
    hll_init(&b);
    char s[16];
    for (int i = 0; i < 5000; i++) {
        snprintf(s, sizeof s, "u%d", i);
        add_str(&b, s);
    }
    CHECK_EQ_INT(b.data[4], HLL_DENSE);
    CHECK_EQ_INT(b.len, HLL_DENSE_SIZE);
    CHECK(hll_header_ok(b.data, b.len));
    CHECK_EQ_INT(hll_count(b.data, b.len, NULL), 4971);
    static uint8_t max[HLL_REGISTERS];
    memset(max, 0, sizeof max);
    CHECK(hll_merge(max, b.data, b.len));
    CHECK_EQ_INT(hll_count_raw(max), 4971);
    free(b.data);
}

TEST(hll_sparse_and_dense_agree)
{
    hll_buf_t sp, de;
    hll_init(&sp);
    hll_init(&de);
    REQUIRE(hll_to_dense(&de));
    for (uint64_t i = 1; i <= 2000; i++) {
        uint64_t v = i * 0x9e3779b97f4a7c15ULL;
        hll_add(&sp, (const uint8_t *)&v, sizeof v, 1 << 20);   /* stays sparse */
        hll_add(&de, (const uint8_t *)&v, sizeof v, 1 << 20);
        if (i % 250 == 0) CHECK_EQ_INT(hll_count(sp.data, sp.len, NULL), hll_count(de.data, de.len, NULL));
    }
    CHECK_EQ_INT(sp.data[4], HLL_SPARSE);
    REQUIRE(hll_to_dense(&sp));
    CHECK_EQ_INT(sp.len, de.len);
    CHECK(memcmp(sp.data + HLL_HDR_SIZE, de.data + HLL_HDR_SIZE, HLL_DENSE_BYTES) == 0);
    free(sp.data);
    free(de.data);
}

TEST(hll_dense_registers_do_not_disturb_neighbours)
{
    static uint8_t regs[HLL_DENSE_BYTES];
    static uint8_t want[HLL_REGISTERS];
    memset(regs, 0, sizeof regs);
    srand(3);
    for (int round = 0; round < 3; round++) {
        for (unsigned i = 0; i < HLL_REGISTERS; i++) {
            want[i] = (uint8_t)(rand() & 63);
            hll_dense_put(regs, i, want[i]);
        }
        int bad = 0;
        for (unsigned i = 0; i < HLL_REGISTERS; i++) bad += hll_dense_get(regs, i) != want[i];
        CHECK_EQ_INT(bad, 0);
    }
}

TEST(hll_header_checks)
{
    uint8_t v[HLL_DENSE_SIZE + 1];
    memset(v, 0, sizeof v);
    memcpy(v, "HYLL", 4);
    v[4] = HLL_SPARSE;
    CHECK(hll_header_ok(v, 16));
    CHECK(!hll_header_ok(v, 15));
    v[4] = 2;
    CHECK(!hll_header_ok(v, 16));
    v[4] = HLL_DENSE;
    CHECK(!hll_header_ok(v, 16));
    CHECK(hll_header_ok(v, HLL_DENSE_SIZE));
    CHECK(!hll_header_ok(v, HLL_DENSE_SIZE + 1));
    v[0] = 'h';
    CHECK(!hll_header_ok(v, HLL_DENSE_SIZE));
}

/* Sparse opcodes covering fewer or more than 16384 registers are corrupt:
 * counting flags it, conversion and merging refuse it, an update whose
 * register lies past the end fails. */
TEST(hll_corrupt_sparse_detected)
{
    uint8_t v[20] = "HYLL\x01";
    v[HLL_HDR_SIZE] = 0x7f;            /* XZERO 16383: one register short */
    v[HLL_HDR_SIZE + 1] = 0xfe;
    bool invalid = false;
    hll_count(v, 18, &invalid);
    CHECK(invalid);
    static uint8_t max[HLL_REGISTERS];
    CHECK(!hll_merge(max, v, 18));
    hll_buf_t b = { malloc(18), 18, 18 };
    memcpy(b.data, v, 18);
    CHECK(!hll_to_dense(&b));
    CHECK_EQ_INT(hll_set(&b, 16383, 1, 3000), -1);
    free(b.data);
    /* a VAL after a full XZERO: corrupt too (the CVE-2025-32023 rule of the
     * redis-server we compare with; the original 7.0.15 source let it pass) */
    uint8_t x[20] = "HYLL\x01";
    memcpy(x + HLL_HDR_SIZE, "\x7f\xff\xcb", 3);
    hll_buf_t c = { malloc(19), 19, 19 };
    memcpy(c.data, x, 19);
    CHECK(!hll_to_dense(&c));
    memset(max, 0, sizeof max);
    CHECK(!hll_merge(max, x, 19));
    invalid = false;
    hll_count(x, 19, &invalid);
    CHECK(invalid);
    free(c.data);
    /* two XZERO 16384: too many */
    uint8_t w[20] = "HYLL\x01";
    memcpy(w + HLL_HDR_SIZE, "\x7f\xff\x7f\xff", 4);
    invalid = false;
    hll_count(w, 20, &invalid);
    CHECK(invalid);
}

/* MurmurHash64A with Redis's seed, through the element -> register mapping:
 * "a" lands where redis-server 7.0.15 put it (the VAL after the first run). */
TEST(hll_pattern_of_known_elements)
{
    unsigned idx;
    unsigned v = hll_pattern((const uint8_t *)"a", 1, &idx);
    hll_buf_t b;
    hll_init(&b);
    add_str(&b, "a");
    static uint8_t max[HLL_REGISTERS];
    memset(max, 0, sizeof max);
    CHECK(hll_merge(max, b.data, b.len));
    CHECK_EQ_INT(max[idx], v);
    int nonzero = 0;
    for (unsigned i = 0; i < HLL_REGISTERS; i++) nonzero += max[i] != 0;
    CHECK_EQ_INT(nonzero, 1);
    free(b.data);
    /* endianness-neutral and length-sensitive */
    CHECK(hll_murmur64a("abcdefgh", 8, 0) != hll_murmur64a("abcdefg", 7, 0));
    CHECK(hll_murmur64a("", 0, 0xadc83b19ULL) == hll_murmur64a("", 0, 0xadc83b19ULL));
}

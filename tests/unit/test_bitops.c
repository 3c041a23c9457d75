/* test_bitops.c - proto/bitops.c: bit counting and searching over ranges,
 * BITOP, BITFIELD integer access and overflow rules, with expectations
 * recorded from redis-server 7.0.15 (BITCOUNT/BITPOS/BITFIELD replies for
 * the same strings and arguments). */
#include <stdint.h>
#include <string.h>
#include "proto/bitops.h"
#include "tests/unit/unit.h"

static const uint8_t foobar[] = "foobar";

TEST(bitops_popcount)
{
    CHECK_EQ_INT(bits_popcount(foobar, 6), 26);
    uint8_t ones[100];
    memset(ones, 0xff, sizeof ones);
    CHECK_EQ_INT(bits_popcount(ones, 100), 800);
    CHECK_EQ_INT(bits_popcount(ones + 3, 0), 0);
    CHECK_EQ_INT(bits_popcount(ones + 1, 13), 104);
}

TEST(bitops_count_ranges)
{
    CHECK_EQ_INT(bits_count_range(foobar, 6, 0, 0, false), 4);
    CHECK_EQ_INT(bits_count_range(foobar, 6, 1, 1, false), 6);
    CHECK_EQ_INT(bits_count_range(foobar, 6, 5, 30, true), 17);
    CHECK_EQ_INT(bits_count_range(foobar, 6, -2, -1, true), 1);
    CHECK_EQ_INT(bits_count_range(foobar, 6, -100, 100, false), 26);
    CHECK_EQ_INT(bits_count_range(foobar, 6, 3, 1, false), 0);
    CHECK_EQ_INT(bits_count_range(foobar, 6, 47, 47, true), 0);
    CHECK_EQ_INT(bits_count_range(foobar, 6, 7, 9, true), 1);
    CHECK_EQ_INT(bits_count_range(foobar, 0, 0, -1, true), 0);
}

TEST(bitops_first_bit)
{
    const uint8_t s[] = { 0xff, 0xf0, 0x00 };
    CHECK_EQ_INT(bits_first(s, 3, 0), 12);
    CHECK_EQ_INT(bits_first(s, 3, 1), 0);
    CHECK_EQ_INT(bits_first(s + 2, 1, 1), -1);
    const uint8_t ones[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                               0xff, 0xff, 0xff, 0xff };
    CHECK_EQ_INT(bits_first(ones, 16, 0), 128);       /* padded with zeros on the right */
    CHECK_EQ_INT(bits_first(ones, 0, 0), 0);
    CHECK_EQ_INT(bits_first(ones, 0, 1), -1);
}

TEST(bitops_pos_ranges)
{
    const uint8_t s[] = { 0xff, 0xf0, 0x00 };
    CHECK_EQ_INT(bits_pos_range(s, 3, 0, false, 0, 0, false, false), 12);
    CHECK_EQ_INT(bits_pos_range(s, 3, 1, true, 2, 0, false, false), -1);
    CHECK_EQ_INT(bits_pos_range(s, 3, 0, true, 2, 0, false, false), 16);
    CHECK_EQ_INT(bits_pos_range(s, 3, 1, true, 7, 15, true, true), 7);
    CHECK_EQ_INT(bits_pos_range(s, 3, 0, true, 0, 11, true, true), -1);   /* explicit end: no padding */
    CHECK_EQ_INT(bits_pos_range(s, 3, 0, true, 0, 12, true, true), 12);
    CHECK_EQ_INT(bits_pos_range(s, 3, 1, true, 12, -1, true, true), -1);
    CHECK_EQ_INT(bits_pos_range(s, 3, 0, true, 5, 2, true, false), -1);
    const uint8_t ones[] = { 0xff, 0xff };
    CHECK_EQ_INT(bits_pos_range(ones, 2, 0, false, 0, 0, false, false), 16);
    CHECK_EQ_INT(bits_pos_range(ones, 2, 0, true, 0, -1, true, false), -1);
    CHECK_EQ_INT(bits_pos_range(ones, 2, 0, true, 1, 0, false, false), 16);
}

TEST(bitops_op)
{
    const uint8_t a[] = "foobar", b[] = "abcdef", c[] = { 0xff };
    const uint8_t *src[3] = { a, b, c };
    size_t lens[3] = { 6, 6, 1 };
    uint8_t out[6];
    bits_op(BITS_AND, out, 6, src, lens, 2);
    CHECK(memcmp(out, "`bc`ab", 6) == 0);
    bits_op(BITS_AND, out, 6, (const uint8_t *const[]){ a, c }, (size_t[]){ 6, 1 }, 2);
    CHECK(memcmp(out, "f\0\0\0\0\0", 6) == 0);
    bits_op(BITS_OR, out, 6, (const uint8_t *const[]){ c, a }, (size_t[]){ 1, 6 }, 2);
    CHECK(memcmp(out, "\xffoobar", 6) == 0);
    bits_op(BITS_XOR, out, 6, src, lens, 3);
    CHECK_EQ_INT(out[0], ('f' ^ 'a' ^ 0xff));
    CHECK_EQ_INT(out[5], ('r' ^ 'f'));
    bits_op(BITS_NOT, out, 1, (const uint8_t *const[]){ c }, (size_t[]){ 1 }, 1);
    CHECK_EQ_INT(out[0], 0);
}

TEST(bitops_fields)
{
    uint8_t p[16] = { 0 };
    bits_set_u(p, 7, 5, 23);
    CHECK_EQ_INT(p[0], 0x01);
    CHECK_EQ_INT(p[1], 0x70);
    CHECK_EQ_INT(bits_get_u(p, 2, 7, 5), 23);
    CHECK_EQ_INT(bits_get_i(p, 2, 7, 5), 23 - 32);
    bits_set_u(p, 3, 64, UINT64_MAX);
    CHECK_EQ_INT(bits_get_i(p, 16, 3, 64), -1);
    CHECK(bits_get_u(p, 16, 3, 63) == (UINT64_MAX >> 1));
    /* bits past the string's end read as zero */
    CHECK_EQ_INT(bits_get_u(p, 1, 0, 16), (p[0] << 8));
    CHECK_EQ_INT(bits_get_u(NULL, 0, 100, 8), 0);
}

TEST(bitops_overflow_rules)
{
    uint64_t ul = 0;
    int64_t il = 0;
    CHECK_EQ_INT(bits_overflow_u(250, 10, 8, BITS_WRAP, &ul), 1);
    CHECK_EQ_INT(ul, 4);
    CHECK_EQ_INT(bits_overflow_u(250, 10, 8, BITS_SAT, &ul), 1);
    CHECK_EQ_INT(ul, 255);
    CHECK_EQ_INT(bits_overflow_u(5, -10, 8, BITS_SAT, &ul), -1);
    CHECK_EQ_INT(ul, 0);
    CHECK_EQ_INT(bits_overflow_u((uint64_t)-5, 0, 8, BITS_WRAP, &ul), 1);   /* SET u8 -5 */
    CHECK_EQ_INT(ul, 251);
    CHECK_EQ_INT(bits_overflow_u(5, 10, 8, BITS_FAIL, &ul), 0);
    CHECK_EQ_INT(bits_overflow_i(100, 100, 8, BITS_WRAP, &il), 1);
    CHECK_EQ_INT(il, -56);
    CHECK_EQ_INT(bits_overflow_i(100, 100, 8, BITS_SAT, &il), 1);
    CHECK_EQ_INT(il, 127);
    CHECK_EQ_INT(bits_overflow_i(-100, -100, 8, BITS_SAT, &il), -1);
    CHECK_EQ_INT(il, -128);
    CHECK_EQ_INT(bits_overflow_i(INT64_MAX, 1, 64, BITS_WRAP, &il), 1);
    CHECK(il == INT64_MIN);
    CHECK_EQ_INT(bits_overflow_i(INT64_MIN, -1, 64, BITS_SAT, &il), -1);
    CHECK(il == INT64_MIN);
    /* 7.0.15's quirk: SET i8 to INT64_MIN saturates to the maximum */
    CHECK_EQ_INT(bits_overflow_i(INT64_MIN, 0, 8, BITS_SAT, &il), 1);
    CHECK_EQ_INT(il, 127);
    CHECK_EQ_INT(bits_overflow_i(-128, 0, 8, BITS_SAT, &il), 0);
}

/* The word-at-a-time paths against byte-at-a-time reference loops, over
 * lengths and alignments around the 8- and 32-byte steps. */
TEST(bitops_word_paths_match_bytewise)
{
    static uint8_t a[300], b[300], out[300];
    unsigned seed = 7;
    for (size_t i = 0; i < sizeof a; i++) {
        seed = seed * 1103515245u + 12345u;
        a[i] = (uint8_t)(seed >> 16);
        b[i] = (uint8_t)(seed >> 8);
    }
    for (size_t off = 0; off < 9; off++) {
        for (size_t n = 0; n + off <= 200; n += 7) {
            long long want = 0;
            for (size_t i = 0; i < n; i++) want += __builtin_popcount(a[off + i]);
            CHECK_EQ_INT(bits_popcount(a + off, n), want);
            size_t lens[2] = { n, n / 2 + 3 };
            const uint8_t *src[2] = { a + off, b };
            bits_op(BITS_XOR, out, n, src, lens, 2);
            int bad = 0;
            for (size_t i = 0; i < n; i++)
                bad += out[i] != (uint8_t)(a[off + i] ^ (i < lens[1] ? b[i] : 0));
            bits_op(BITS_AND, out, n, src, lens, 2);
            for (size_t i = 0; i < n; i++)
                bad += out[i] != (uint8_t)(a[off + i] & (i < lens[1] ? b[i] : 0));
            CHECK_EQ_INT(bad, 0);
        }
    }
    static uint8_t z[200];
    memset(z, 0, sizeof z);
    for (size_t pos = 0; pos < 190; pos += 5) {
        z[pos] = 0x10;
        CHECK_EQ_INT(bits_first(z, sizeof z, 1), (long long)pos * 8 + 3);
        z[pos] = 0;
    }
    CHECK_EQ_INT(bits_first(z, sizeof z, 1), -1);
    memset(z, 0xff, sizeof z);
    z[133] = 0xfe;
    CHECK_EQ_INT(bits_first(z, sizeof z, 0), 133 * 8 + 7);
}

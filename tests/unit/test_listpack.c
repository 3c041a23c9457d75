/* test_listpack.c - proto/listpack, proto/intset and proto/ziplist against
 * bytes captured from redis-server 7.0.15 (DUMP payloads of a listpack hash
 * and of intsets, with rdbcompression off) and hand-built ziplists/zipmaps
 * laid out as Redis 6 wrote them. */
#include <stdlib.h>
#include <string.h>
#include "proto/intset.h"
#include "proto/listpack.h"
#include "proto/ziplist.h"
#include "tests/unit/unit.h"

static size_t unhex(const char *h, uint8_t *out)
{
    size_t n = 0;
    for (; h[0] && h[1]; h += 2) {
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* HSET h a 1 f2 -5000 big x*63 b64 q*64 n 123456789012 m -2000000 z 200 neg -100
 * mid 70000 i32 -2147483648 huge 9223372036854775807 t -0 u 007 e "" on 7.0.15:
 * the listpack inside DUMP h (after the type byte 0x10 and the length 40fe). */
static const char LP_HASH_HEX[] =
    "fe0000001c00816102010182663203f178ec038362696704bf"
    "787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878"
    "408362363404e0407171717171717171717171717171717171717171717171717171717171717171717171717171717171717171717171717171717171717171717171717171717142"
    "816e02f4141a99be1c00000009816d02f2807be104817a02c0c802836e656704df9c02836d696404f2701101048369333204f30000008005"
    "846875676505f4ffffffffffffff7f09817402822d300381750283303037048165028001ff";

static uint8_t *build_hash_lp(void)
{
    char x63[64], q64[65];
    memset(x63, 'x', 63); x63[63] = 0;
    memset(q64, 'q', 64); q64[64] = 0;
    const char *kv[] = { "a", "1", "f2", "-5000", "big", x63, "b64", q64, "n", "123456789012", "m", "-2000000",
                         "z", "200", "neg", "-100", "mid", "70000", "i32", "-2147483648",
                         "huge", "9223372036854775807", "t", "-0", "u", "007", "e", "" };
    uint8_t *lp = lp_new();
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) lp = lp_append(lp, lp_str(kv[i], strlen(kv[i])));
    return lp;
}

TEST(listpack_bytes_equal_redis)
{
    uint8_t want[1024];
    size_t n = unhex(LP_HASH_HEX, want);
    uint8_t *lp = build_hash_lp();
    CHECK_EQ_INT(lp_bytes(lp), n);
    CHECK(lp_bytes(lp) == n && memcmp(lp, want, n) == 0);
    size_t count = 0;
    CHECK(lp_validate(want, n, &count));
    CHECK_EQ_INT(count, 28);
    CHECK_EQ_INT(lp_count(lp), 28);
    free(lp);
}

TEST(listpack_iterate_and_find)
{
    uint8_t want[1024];
    size_t n = unhex(LP_HASH_HEX, want);
    REQUIRE(lp_validate(want, n, NULL));
    size_t off = lp_first(want);
    lp_val_t v = lp_get(want, off);
    CHECK(v.s && v.len == 1 && v.s[0] == 'a');
    off = lp_next(want, off);
    v = lp_get(want, off);
    CHECK(!v.s && v.v == 1);
    size_t f = lp_find(want, lp_first(want), (const uint8_t *)"huge", 4, 2);
    REQUIRE(f);
    v = lp_get(want, lp_next(want, f));
    CHECK(!v.s && v.v == 9223372036854775807LL);
    f = lp_find(want, lp_first(want), (const uint8_t *)"i32", 3, 2);
    REQUIRE(f);
    v = lp_get(want, lp_next(want, f));
    CHECK(!v.s && v.v == -2147483648LL);
    /* "200" as a field is not found when only fields are compared */
    CHECK(lp_find(want, lp_first(want), (const uint8_t *)"200", 3, 2) == 0);
    CHECK(lp_find(want, lp_first(want), (const uint8_t *)"200", 3, 1) != 0);
    /* backwards walk meets every entry */
    size_t k = 0;
    for (size_t o = lp_last(want); o; o = lp_prev(want, o)) k++;
    CHECK_EQ_INT(k, 28);
    uint8_t buf[21];
    size_t bl;
    v = lp_get(want, lp_seek(want, -1));
    CHECK(v.s && v.len == 0);
    v = lp_get(want, lp_seek(want, 5));
    const uint8_t *t = lp_val_bytes(&v, buf, &bl);
    CHECK(bl == 63 && t[0] == 'x');
    CHECK(lp_seek(want, 28) == 0 && lp_seek(want, -29) == 0);
}

TEST(listpack_edit)
{
    uint8_t *lp = lp_new();
    for (int i = 0; i < 300; i++) {
        char s[32];
        int n = snprintf(s, sizeof s, "%d", i * 1000 - 150000);
        lp = lp_append(lp, lp_str(s, (size_t)n));
    }
    CHECK(lp_validate(lp, lp_bytes(lp), NULL));
    char big[5000];
    memset(big, 'b', sizeof big);
    lp = lp_replace(lp, lp_seek(lp, 10), lp_str(big, sizeof big));
    lp = lp_insert(lp, lp_seek(lp, 0), lp_str("head", 4));
    lp = lp_delete(lp, lp_seek(lp, 100), 50);
    size_t count;
    CHECK(lp_validate(lp, lp_bytes(lp), &count));
    CHECK_EQ_INT(count, 251);
    lp_val_t v = lp_get(lp, lp_seek(lp, 11));
    CHECK(v.s && v.len == sizeof big);
    v = lp_get(lp, lp_seek(lp, 0));
    CHECK(v.s && v.len == 4);
    v = lp_get(lp, lp_seek(lp, 100));
    CHECK(!v.s && v.v == 149 * 1000 - 150000);
    free(lp);
}

TEST(listpack_validate_rejects_damage)
{
    uint8_t want[1024];
    size_t n = unhex(LP_HASH_HEX, want);
    for (size_t cut = 0; cut < n; cut++) CHECK(!lp_validate(want, cut, NULL));
    uint8_t bad[1024];
    for (size_t i = LP_HDR_SIZE; i + 1 < n; i++) {
        memcpy(bad, want, n);
        bad[i] ^= 0x40;
        size_t c;
        if (lp_validate(bad, n, &c)) {   /* a flip inside string data stays valid: walk it all */
            for (size_t o = lp_first(bad); !lp_at_end(bad, o); o = lp_next(bad, o)) (void)lp_get(bad, o);
        }
    }
}

TEST(intset_bytes_equal_redis)
{
    /* SADD s 1 2 3 -7; SADD s2 1 2 70000; SADD s3 1 2 -(2^40): DUMP payloads after 0b <len>. */
    uint8_t want[64];
    size_t n = unhex("0200000004000000f9ff010002000300", want);
    uint8_t *is = is_new();
    long long a[] = { 1, 2, 3, -7 };
    for (int i = 0; i < 4; i++) is = is_add(is, a[i], NULL);
    CHECK(is_bytes(is) == n && memcmp(is, want, n) == 0);
    CHECK(is_validate(want, n));
    free(is);
    n = unhex("0400000003000000010000000200000070110100", want);
    is = is_new();
    is = is_add(is, 1, NULL); is = is_add(is, 2, NULL); is = is_add(is, 70000, NULL);
    CHECK(is_bytes(is) == n && memcmp(is, want, n) == 0);
    free(is);
    n = unhex("08000000030000000000000000ffffff01000000000000000200000000000000", want);
    is = is_new();
    is = is_add(is, 1, NULL); is = is_add(is, 2, NULL); is = is_add(is, -(1LL << 40), NULL);
    CHECK(is_bytes(is) == n && memcmp(is, want, n) == 0);
    bool removed;
    is = is_remove(is, 2, &removed);
    CHECK(removed && is_len(is) == 2 && is_get(is, 1) == 1);
    is = is_remove(is, 1LL << 50, &removed);
    CHECK(!removed);
    CHECK(is_find(is, -(1LL << 40), NULL));
    free(is);
    CHECK(!is_validate(want, n - 1));
    uint8_t empty[8] = { 2, 0, 0, 0, 0, 0, 0, 0 };
    CHECK(!is_validate(empty, 8));                    /* Redis refuses an empty intset */
    uint8_t unsorted[12] = { 2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 4, 0 };
    CHECK(!is_validate(unsorted, 12));
}

/* A ziplist as Redis 6 wrote one: "a", 5 (immediate), 300 (int16), -100
 * (int8), 70000 (int24), a 300-byte string (14-bit length, then a 5-byte
 * prevlen on the next entry), 1 (immediate). */
static size_t build_ziplist(uint8_t *zl)
{
    size_t o = 10, prev = 0, last = 10;
#define ENTRY(...) do { uint8_t e[] = { __VA_ARGS__ }; last = o; \
        if (prev < 254) zl[o++] = (uint8_t)prev; else { zl[o++] = 0xFE; zl[o++] = (uint8_t)prev; zl[o++] = (uint8_t)(prev >> 8); zl[o++] = 0; zl[o++] = 0; } \
        memcpy(zl + o, e, sizeof e); o += sizeof e; prev = o - last; } while (0)
    ENTRY(0x01, 'a');
    ENTRY(0xF6);
    ENTRY(0xC0, 0x2C, 0x01);
    ENTRY(0xFE, 0x9C);
    ENTRY(0xF0, 0x70, 0x11, 0x01);
    {
        last = o;
        zl[o++] = (uint8_t)prev;
        zl[o++] = 0x41; zl[o++] = 0x2C;
        memset(zl + o, 's', 300); o += 300;
        prev = o - last;
    }
    ENTRY(0xF2);
#undef ENTRY
    zl[o++] = 0xFF;
    zl[0] = (uint8_t)o; zl[1] = (uint8_t)(o >> 8); zl[2] = zl[3] = 0;
    zl[4] = (uint8_t)last; zl[5] = (uint8_t)(last >> 8); zl[6] = zl[7] = 0;
    zl[8] = 7; zl[9] = 0;
    return o;
}

TEST(ziplist_decode)
{
    uint8_t zl[1024];
    size_t n = build_ziplist(zl), count;
    REQUIRE(zl_validate(zl, n, &count));
    CHECK_EQ_INT(count, 7);
    long long ints[] = { 0, 5, 300, -100, 70000, 0, 1 };
    size_t i = 0;
    for (size_t o = zl_first(zl); !zl_at_end(zl, o); o = zl_next(zl, o), i++) {
        lp_val_t v = zl_get(zl, o);
        if (i == 0) CHECK(v.s && v.len == 1 && v.s[0] == 'a');
        else if (i == 5) CHECK(v.s && v.len == 300);
        else CHECK(!v.s && v.v == ints[i]);
    }
    CHECK_EQ_INT(i, 7);
    for (size_t cut = 0; cut < n; cut++) CHECK(!zl_validate(zl, cut, NULL));
    zl[8] = 6;
    CHECK(!zl_validate(zl, n, NULL));
}

TEST(zipmap_decode)
{
    /* {"f": "v1", "long": 300 x 'z'} with one free byte after "v1" */
    uint8_t zm[400];
    size_t o = 0;
    zm[o++] = 2;
    zm[o++] = 1; zm[o++] = 'f';
    zm[o++] = 2; zm[o++] = 1; zm[o++] = 'v'; zm[o++] = '1'; zm[o++] = '#';
    zm[o++] = 4; memcpy(zm + o, "long", 4); o += 4;
    zm[o++] = 254; zm[o++] = 0x2C; zm[o++] = 1; zm[o++] = 0; zm[o++] = 0; zm[o++] = 0;
    memset(zm + o, 'z', 300); o += 300;
    zm[o++] = 0xFF;
    size_t pairs;
    REQUIRE(zm_validate(zm, o, &pairs));
    CHECK_EQ_INT(pairs, 2);
    size_t off = 1;
    lp_val_t k, v;
    REQUIRE(zm_next(zm, &off, &k, &v));
    CHECK(k.len == 1 && v.len == 2 && v.s[1] == '1');
    REQUIRE(zm_next(zm, &off, &k, &v));
    CHECK(k.len == 4 && v.len == 300);
    CHECK(!zm_next(zm, &off, &k, &v));
    for (size_t cut = 0; cut < o; cut++) CHECK(!zm_validate(zm, cut, NULL));
}

/* test_slot.c - unit tests for proto/slot.c: the CRC16/XMODEM check value,
 * every key of docs/clients.md §1.4 (verified with CLUSTER KEYSLOT on
 * redis-server 7.0.15), and the hash-tag edge cases. Must never depend on
 * anything but proto/slot.c. */
#include <stdint.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "proto/slot.h"

static unsigned slot_of_str(const char *s) { return slot_of_key((const uint8_t *)s, strlen(s)); }
static unsigned crc_of_str(const char *s) { return slot_crc16((const uint8_t *)s, strlen(s)); }

TEST(slot_crc16_check_values)
{
    CHECK_EQ_INT(crc_of_str("123456789"), 0x31C3);
    CHECK_EQ_INT(crc_of_str("foo"), 0xAF96);
    CHECK_EQ_INT(crc_of_str(""), 0x0000);
    CHECK_EQ_INT(crc_of_str("a"), 0x7C87);
    CHECK_EQ_INT(crc_of_str("foo{}{bar}"), 0xE0AB);
    CHECK_EQ_INT(slot_crc16(NULL, 0), 0);
}

/* The CRC's definition, one bit at a time, against slot_crc16's four bytes
 * a step: every length up to 40 (each tail length after the 4-byte steps),
 * at each offset, over pseudo-random bytes. */
static uint16_t bitwise_crc16(const uint8_t *buf, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)(buf[i] << 8);
        for (int b = 0; b < 8; b++) crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

TEST(slot_crc16_matches_the_bitwise_definition)
{
    uint8_t buf[48];
    uint32_t x = 2463534242u;
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof buf; i++) {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;   /* xorshift32 */
            buf[i] = (uint8_t)x;
        }
        for (size_t off = 0; off < 4; off++)
            for (size_t len = 0; len + off <= 44; len++) CHECK_EQ_INT(slot_crc16(buf + off, len), bitwise_crc16(buf + off, len));
    }
}

TEST(slot_spec_vectors)
{
    static const struct { const char *key; unsigned slot; } v[] = {
        {"123456789", 12739},
        {"{user1000}.following", 3443},
        {"{user1000}.followers", 3443},
        {"foo", 12182},
        {"", 0},
        {"a", 15495},
        {"{a}b", 15495},
        {"foo{}{bar}", 8363},
        {"foo{{bar}}zap", 4015},
        {"foo{bar}{zap}", 5061},
        {"la2", 0},
        {"emj", 1},
        {"axh", 5},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        unsigned got = slot_of_str(v[i].key);
        if (got != v[i].slot) {
            char m[128];
            snprintf(m, sizeof m, "slot_of_key(\"%s\") = %u, want %u", v[i].key, got, v[i].slot);
            unit_fail(__FILE__, __LINE__, m);
        }
    }
}

TEST(slot_hash_tag_edges)
{
    /* {bar hashes as the tag of foo{{bar}}zap */
    CHECK_EQ_INT(slot_of_str("foo{{bar}}zap"), slot_of_str("{bar"));
    /* unterminated first '{': the whole key is hashed */
    CHECK_EQ_INT(slot_of_str("foo{bar"), crc_of_str("foo{bar") & 0x3FFF);
    /* '}' before the first '{' does not count */
    CHECK_EQ_INT(slot_of_str("}x{y}"), slot_of_str("y"));
    /* an empty first tag disables tags even if a later one is non-empty */
    CHECK_EQ_INT(slot_of_str("{}{a}"), crc_of_str("{}{a}") & 0x3FFF);
    /* tag at the very end */
    CHECK_EQ_INT(slot_of_str("xyz{a}"), 15495);
    /* binary keys with NUL and high bytes */
    const uint8_t bin[] = {0x00, '{', 0xff, 0x00, '}', 0x80};
    const uint8_t tag[] = {0xff, 0x00};
    CHECK_EQ_INT(slot_of_key(bin, sizeof bin), slot_crc16(tag, sizeof tag) & 0x3FFF);
    /* the key length is honoured: bytes after len are never looked at */
    CHECK_EQ_INT(slot_of_key((const uint8_t *)"{a}b", 2), crc_of_str("{a") & 0x3FFF);
    /* every result is below SLOT_COUNT */
    CHECK(slot_of_str("\xff\xff\xff\xff") < SLOT_COUNT);
}

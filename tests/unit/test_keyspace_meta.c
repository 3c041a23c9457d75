/* test_keyspace_meta.c - the packed word of a keyspace entry: the entry
 * stays 40 bytes, the type, flags and 24-bit access clock sharing one word
 * round-trip at their limits without disturbing each other or the key
 * length, the slot recomputed from the key is the stored one's equal, and
 * the access clock's idle time survives the 24-bit wrap. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "actors/config/config.h"
#include "actors/worker/keyspace.h"
#include "proto/slot.h"
#include "tests/unit/unit.h"

#define NOW 1700000000000LL

TEST(ks_entry_is_40_bytes)
{
    CHECK_EQ_INT(sizeof(ks_entry_t), 40);
    CHECK_EQ_INT(offsetof(ks_entry_t, key), 40);
}

TEST(ks_entry_packed_fields_round_trip)
{
    static const uint32_t clocks[] = { 0, 1, 0x7fffff, 0x800000, 0xfffffe, 0xffffff };
    static const uint32_t keylens[] = { 0, 1, (1u << 29), UINT32_MAX };
    ks_entry_t *e = calloc(1, sizeof *e);
    REQUIRE(e);
    for (size_t k = 0; k < sizeof keylens / sizeof *keylens; k++)
        for (int type = KS_TYPE_STRING; type <= KS_TYPE_STREAM; type++)
            for (unsigned flags = 0; flags < 32; flags++)
                for (size_t c = 0; c < sizeof clocks / sizeof *clocks; c++) {
                    e->keylen = keylens[k];
                    e->meta = 0;
                    ks_entry_set_access(e, clocks[c]);
                    ks_entry_set_type(e, type);
                    ks_entry_add_flags(e, flags);
                    CHECK_EQ_INT(ks_entry_type(e), type);
                    CHECK_EQ_INT(ks_entry_flags(e), flags);
                    CHECK_EQ_INT(ks_entry_access(e), clocks[c]);
                    CHECK_EQ_INT(e->keylen, keylens[k]);
                    /* Rewriting one field leaves the others as they were. */
                    ks_entry_set_access(e, ~clocks[c]);
                    CHECK_EQ_INT(ks_entry_access(e), ~clocks[c] & 0xffffff);
                    CHECK_EQ_INT(ks_entry_type(e), type);
                    CHECK_EQ_INT(ks_entry_flags(e), flags);
                    ks_entry_set_type(e, KS_TYPE_STREAM - type);
                    CHECK_EQ_INT(ks_entry_type(e), KS_TYPE_STREAM - type);
                    CHECK_EQ_INT(ks_entry_flags(e), flags);
                    CHECK_EQ_INT(ks_entry_access(e), ~clocks[c] & 0xffffff);
                    ks_entry_clear_flags(e, flags);
                    CHECK_EQ_INT(ks_entry_flags(e), 0);
                    CHECK_EQ_INT(ks_entry_type(e), KS_TYPE_STREAM - type);
                    CHECK_EQ_INT(ks_entry_access(e), ~clocks[c] & 0xffffff);
                    CHECK_EQ_INT(e->keylen, keylens[k]);
                }
    /* A clock past 24 bits wraps, as Redis's LRU clock does. */
    e->meta = 0;
    ks_entry_set_access(e, 0x1000005);
    CHECK_EQ_INT(ks_entry_access(e), 5);
    CHECK_EQ_INT(ks_entry_type(e), 0);
    CHECK_EQ_INT(ks_entry_flags(e), 0);
    free(e);
}

/* In a keyspace: the slot recomputed from the key keeps the per-slot lists
 * right through deletes, renames and moves; accesses leave type and flags. */
TEST(ks_entry_slot_and_meta_in_a_keyspace)
{
    config_reset_defaults();
    struct keyspace *ks = ks_create(), *other = ks_create();
    const char *keys[] = { "a", "{user1}.x", "{user1}.y", "", "{}z", "foo{bar}" };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        size_t n = strlen(keys[i]);
        ks_entry_t *e = ks_set_string(ks, (const uint8_t *)keys[i], n, "v", 1, NOW + 100000, NOW);
        CHECK_EQ_INT(ks_entry_slot(e), slot_of_key((const uint8_t *)keys[i], n));
        CHECK_EQ_INT(ks_count_in_slot(ks, slot_of_key((const uint8_t *)keys[i], n)) >= 1, 1);
        for (int j = 0; j < 3; j++) e = ks_lookup(ks, (const uint8_t *)keys[i], n, NOW);
        CHECK_EQ_INT(ks_entry_type(e), KS_TYPE_STRING);
        CHECK_EQ_INT(ks_entry_flags(e) & KS_EF_TTL, KS_EF_TTL);
        CHECK_EQ_INT(ks_entry_expire(ks, e), NOW + 100000);
    }
    unsigned s1 = slot_of_key((const uint8_t *)"{user1}.x", 9);
    CHECK_EQ_INT(ks_count_in_slot(ks, s1), 2);
    ks_entry_t *e = ks_peek(ks, (const uint8_t *)"{user1}.x", 9);
    ks_entry_t *r = ks_rename(ks, e, (const uint8_t *)"moved", 5);
    CHECK_EQ_INT(ks_count_in_slot(ks, s1), 1);
    CHECK_EQ_INT(ks_count_in_slot(ks, slot_of_key((const uint8_t *)"moved", 5)), 1);
    CHECK_EQ_INT(ks_entry_expire(ks, r), NOW + 100000);
    ks_entry_t *m = ks_move(ks, ks_peek(ks, (const uint8_t *)"{user1}.y", 9), other);
    CHECK_EQ_INT(ks_count_in_slot(ks, s1), 0);
    CHECK_EQ_INT(ks_count_in_slot(other, s1), 1);
    CHECK_EQ_INT(ks_entry_slot(m), s1);
    CHECK(ks_delete(other, (const uint8_t *)"{user1}.y", 9, NOW));
    CHECK_EQ_INT(ks_count_in_slot(other, s1), 0);
    CHECK(ks_delete(ks, (const uint8_t *)"a", 1, NOW));
    CHECK_EQ_INT(ks_count_in_slot(ks, slot_of_key((const uint8_t *)"a", 1)), 0);
    ks_free(ks);
    ks_free(other);
}

/* OBJECT IDLETIME across the 24-bit wrap of the seconds clock (every 194
 * days): still the seconds since the access, less the one second 7.0.15's
 * estimateObjectIdleTime loses there (it adds LRU_CLOCK_MAX - lru, where
 * the clock's period is LRU_CLOCK_MAX + 1). */
TEST(ks_access_idle_time_across_the_clock_wrap)
{
    config_reset_defaults();            /* maxmemory-policy noeviction: the LRU clock */
    long long wrap_s = 1LL << 24;
    long long t0 = (wrap_s * 101 - 3) * 1000;   /* 3 s before the clock wraps to 0 */
    ks_access_tick(t0);
    struct keyspace *ks = ks_create();
    ks_entry_t *e = ks_set_string(ks, (const uint8_t *)"k", 1, "v", 1, KS_NO_EXPIRE, t0);
    CHECK_EQ_INT(ks_entry_access(e), (uint32_t)(wrap_s - 3));
    CHECK_EQ_INT(ks_access_idle_s(e), 0);
    ks_access_tick(t0 + 2 * 1000);                  /* before the wrap */
    CHECK_EQ_INT(ks_access_idle_s(e), 2);
    ks_access_tick(t0 + 10 * 1000);                 /* after it */
    CHECK_EQ_INT(ks_access_idle_s(e), 9);
    e = ks_lookup(ks, (const uint8_t *)"k", 1, t0 + 10 * 1000);
    CHECK_EQ_INT(ks_access_idle_s(e), 0);
    CHECK_EQ_INT(ks_entry_access(e), 7);
    ks_free(ks);
    ks_access_tick(NOW);
}

/* Each worker's cron ticks the cached clocks with its own reading of the
 * time; one that ticks late with an older reading must not set them back
 * (failed before: an LFU counter stamped in the new minute read 0, the
 * minutes' wrap making it 65535 minutes old, and an LRU stamp of the new
 * second read 194 days idle). A step back of over an hour is taken: the
 * wall clock itself was set back. */
TEST(ks_access_clocks_ignore_an_older_reading)
{
    config_error_t err;
    config_reset_defaults();
    REQUIRE(config_load_string("maxmemory-policy allkeys-lfu\n", &err) == 0);
    long long t = (NOW / 60000 - 600) * 60000;     /* a minute starts, 10 hours before NOW */
    ks_access_tick(t - 400);                        /* one worker's reading: the last minute */
    ks_access_tick(t + 100);                        /* another's: this minute */
    struct keyspace *ks = ks_create();
    ks_entry_t *e = ks_set_string(ks, (const uint8_t *)"k", 1, "v", 1, KS_NO_EXPIRE, t + 100);
    ks_access_restore(e, -1, 42);                   /* stamped this minute */
    ks_access_tick(t - 300);                        /* the first one's late tick */
    CHECK_EQ_INT(ks_access_freq(e), 42);
    ks_access_tick(t + 60 * 1000 + 100);            /* a minute on: one decay, as 7.0.15's */
    CHECK_EQ_INT(ks_access_freq(e), 41);

    config_reset_defaults();                        /* the LRU clock */
    ks_access_tick(t + 200 * 1000);
    e = ks_lookup(ks, (const uint8_t *)"k", 1, t + 200 * 1000);
    REQUIRE(e);
    ks_access_tick(t + 199 * 1000);                 /* a second older */
    CHECK_EQ_INT(ks_access_idle_s(e), 0);
    ks_access_tick(t + 203 * 1000);
    CHECK_EQ_INT(ks_access_idle_s(e), 3);
    ks_access_tick(t - 2 * 3600 * 1000);            /* the wall clock set back two hours */
    e = ks_lookup(ks, (const uint8_t *)"k", 1, t - 2 * 3600 * 1000);
    CHECK_EQ_INT(ks_access_idle_s(e), 0);
    ks_free(ks);
    ks_access_tick(NOW);
}

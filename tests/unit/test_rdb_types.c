/* test_rdb_types.c - the RDB decoder on hashes and sets written by
 * redis-server 7.0.15 (tests/vectors/rdb-hashset.rdb): every collection key
 * comes out with its type and its value bytes, the same whether the file is
 * decoded whole or fed a byte at a time, and a value that a chunk cuts is
 * scanned once (resumably), not rescanned from its start per piece. */
#include <stdlib.h>
#include <string.h>
#include "proto/rdb.h"
#include "tests/unit/unit.h"

typedef struct seen {
    int n;
    char keys[16][16];
    uint8_t types[16];
    size_t value_len[16];
    uint64_t value_sum[16];
    int64_t expire[16];
} seen_t;

static void note(seen_t *s, const rdb_event_t *ev)
{
    if (ev->type != RDB_EV_KEY || s->n >= 16) return;
    int i = s->n++;
    snprintf(s->keys[i], sizeof s->keys[i], "%.*s", (int)ev->key_len, (const char *)ev->key);
    s->types[i] = ev->value_type;
    s->value_len[i] = ev->value_len;
    uint64_t h = 1469598103934665603ull;
    for (size_t k = 0; k < ev->value_len; k++) h = (h ^ ev->value[k]) * 1099511628211ull;
    s->value_sum[i] = h;
    s->expire[i] = ev->expire_ms;
}

static int note_cb(void *ctx, const rdb_event_t *ev) { note(ctx, ev); return 0; }

static int type_of(const seen_t *s, const char *key)
{
    for (int i = 0; i < s->n; i++) if (!strcmp(s->keys[i], key)) return s->types[i];
    return -1;
}

TEST(rdb_collections_decoded_as_bytes)
{
    size_t len;
    uint8_t *f = unit_read_file(VECTOR_PATH("rdb-hashset.rdb"), &len);
    REQUIRE(f);
    seen_t whole = {0};
    CHECK_EQ_INT(rdb_decode_buffer(f, len, 0, note_cb, &whole, NULL, NULL, 0), RDB_OK);
    CHECK_EQ_INT(whole.n, 9);
    CHECK_EQ_INT(type_of(&whole, "h:lp"), RDB_TYPE_HASH_LISTPACK);
    CHECK_EQ_INT(type_of(&whole, "h:ttl"), RDB_TYPE_HASH_LISTPACK);
    CHECK_EQ_INT(type_of(&whole, "h:ht"), RDB_TYPE_HASH);
    CHECK_EQ_INT(type_of(&whole, "h:long"), RDB_TYPE_HASH);
    CHECK_EQ_INT(type_of(&whole, "s:int"), RDB_TYPE_SET_INTSET);
    CHECK_EQ_INT(type_of(&whole, "s:str"), RDB_TYPE_SET);
    CHECK_EQ_INT(type_of(&whole, "s:bigint"), RDB_TYPE_SET);
    CHECK_EQ_INT(type_of(&whole, "str"), RDB_TYPE_STRING);
    for (size_t chunk = 1; chunk <= 64; chunk = chunk * 2 + 1) {
        rdb_decoder_t d;
        rdb_decoder_init(&d, 0, 0);
        seen_t cut = {0};
        int st = RDB_MORE;
        for (size_t pos = 0; pos < len && st != RDB_DONE && st != RDB_ERROR; pos += chunk) {
            size_t n = len - pos < chunk ? len - pos : chunk;
            rdb_decoder_feed(&d, f + pos, n);
            rdb_event_t ev;
            while ((st = rdb_decoder_next(&d, &ev)) == RDB_EVENT) note(&cut, &ev);
        }
        CHECK_EQ_INT(st, RDB_DONE);
        CHECK(memcmp(&whole, &cut, sizeof whole) == 0);
        rdb_decoder_free(&d);
    }
    free(f);
}

TEST(rdb_collection_truncated_or_bad_is_an_error)
{
    size_t len;
    uint8_t *f = unit_read_file(VECTOR_PATH("rdb-hashset.rdb"), &len);
    REQUIRE(f);
    for (size_t cut = len - 9; cut > 20; cut -= 97)
        CHECK(rdb_decode_buffer(f, cut, 0, NULL, NULL, NULL, NULL, 0) == RDB_ERR_TRUNCATED);
    free(f);
}

TEST(rdb_scan_value_resumes)
{
    /* a SET of 3 members: count 3, "a", "bb", "ccc" */
    static const uint8_t v[] = { 3, 1, 'a', 2, 'b', 'b', 3, 'c', 'c', 'c' };
    rdb_scan_t st = {0};
    size_t need = 0;
    CHECK_EQ_INT(rdb_scan_value(RDB_TYPE_SET, v, 4, 0, &st, &need), RDB_ERR_TRUNCATED);
    CHECK_EQ_INT(st.pos, 3);          /* past the count and "a" */
    CHECK(need >= 6);
    CHECK_EQ_INT(rdb_scan_value(RDB_TYPE_SET, v, sizeof v, 0, &st, &need), RDB_OK);
    CHECK_EQ_INT(st.pos, sizeof v);
    rdb_scan_t z = {0};
    static const uint8_t zs[] = { 1, 1, 'm', 253 };   /* ZSET member "m" with score nan */
    CHECK_EQ_INT(rdb_scan_value(RDB_TYPE_ZSET, zs, sizeof zs, 0, &z, NULL), RDB_OK);
    CHECK(!rdb_type_is_collection(RDB_TYPE_STRING) && !rdb_type_is_collection(21) &&
          rdb_type_is_collection(RDB_TYPE_STREAM_LISTPACKS) && rdb_type_is_collection(RDB_TYPE_STREAM_LISTPACKS_2));
}

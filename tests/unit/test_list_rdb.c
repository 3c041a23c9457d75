/* test_list_rdb.c - the list type's RDB form against DUMP payloads captured
 * from redis-server 7.0.15 (tests/vectors/list-dump-*.bin): building the
 * same list and saving it gives Redis's bytes (node boundaries included), and
 * loading Redis's bytes gives the same elements. Older encodings (plain LIST,
 * a ziplist QUICKLIST node) are built by hand from their documented layout. */
#include <stdlib.h>
#include <string.h>
#include "actors/types/list.h"
#include "proto/rdb.h"
#include "tests/unit/unit.h"

static uint8_t *load_vec(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", SHOAL_VECTORS_DIR, name);
    return unit_read_file(path, len);
}

static const char *const small[] = { "a", "b", "c", "1", "2", "300", "-5", "", "007",
                                     "12345678901234567890", "-9223372036854775808" };

/* The element i of the big vector list (as the capture script made it). */
static size_t big_elem(int i, char *buf)
{
    if (i % 3 == 0) return (size_t)sprintf(buf, "%d", i);
    if (i % 3 == 1) return (size_t)sprintf(buf, "item-%d", i);
    memset(buf, 'x', (size_t)(i % 50));
    return (size_t)(i % 50);
}

/* DUMP payload = type byte, value, 2-byte version, 8-byte CRC. */
static void check_save_equals(list_t *l, const uint8_t *dump, size_t dlen)
{
    rdb_encoder_t enc;
    rdb_encoder_init(&enc, 1);
    CHECK_EQ_INT(list_rdb_save(l, &enc), RDB_OK);
    CHECK_EQ_INT(dump[0], LIST_RDB_TYPE);
    CHECK_EQ_INT(rdb_encoder_pending(&enc), dlen - 11);
    if (rdb_encoder_pending(&enc) == dlen - 11) CHECK_MEM(rdb_encoder_data(&enc), dump + 1, dlen - 11);
    rdb_encoder_free(&enc);
}

static void check_elems(list_t *l, int n, size_t (*elem)(int, char *))
{
    REQUIRE(l->count == (size_t)n);
    list_iter_t it;
    list_elem_t e;
    list_iter_at(l, 0, true, &it);
    char buf[64];
    for (int i = 0; i < n; i++) {
        REQUIRE(list_iter_next(&it, &e));
        size_t k = elem(i, buf);
        CHECK(e.len == k && memcmp(e.p, buf, k) == 0);
    }
}

static size_t small_elem(int i, char *buf)
{
    strcpy(buf, small[i]);
    return strlen(small[i]);
}

TEST(list_rdb_small_matches_redis_dump)
{
    size_t dlen;
    uint8_t *dump = load_vec("list-dump-small.bin", &dlen);
    REQUIRE(dump && dlen > 11);
    list_t *l = list_new();
    for (int i = 0; i < 11; i++) list_push(l, LIST_TAIL, (const uint8_t *)small[i], strlen(small[i]));
    check_save_equals(l, dump, dlen);
    list_ops.free_value(l);
    list_t *m = NULL;
    CHECK_EQ_INT(list_rdb_load(dump[0], dump + 1, dlen - 11, &m), LIST_LOAD_OK);
    if (m) {
        check_elems(m, 11, small_elem);
        list_ops.free_value(m);
    }
    free(dump);
}

TEST(list_rdb_nodes_match_redis_dump)
{
    size_t dlen;
    uint8_t *dump = load_vec("list-dump-nodes.bin", &dlen);
    REQUIRE(dump && dlen > 11);
    list_t *l = list_new();
    char buf[64];
    for (int i = 0; i < 2000; i++) {
        size_t k = big_elem(i, buf);
        list_push(l, LIST_TAIL, (const uint8_t *)buf, k);
    }
    CHECK(l->nodes > 1);
    check_save_equals(l, dump, dlen);
    list_t *m = NULL;
    CHECK_EQ_INT(list_rdb_load(dump[0], dump + 1, dlen - 11, &m), LIST_LOAD_OK);
    if (m) {
        check_elems(m, 2000, big_elem);
        CHECK_EQ_INT(m->nodes, l->nodes);
        list_t *d = list_dup(m);
        check_elems(d, 2000, big_elem);
        check_save_equals(d, dump, dlen);    /* loaded and copied lists keep Redis's nodes */
        list_ops.free_value(d);
        list_ops.free_value(m);
    }
    list_ops.free_value(l);
    free(dump);
}

TEST(list_rdb_old_encodings_load)
{
    /* plain LIST (type 1): count 3, then strings "x", "" and int8 7 */
    static const uint8_t plain[] = { 3, 1, 'x', 0, 0xC0, 7 };
    list_t *l = NULL;
    CHECK_EQ_INT(list_rdb_load(1, plain, sizeof plain, &l), LIST_LOAD_OK);
    REQUIRE(l && l->count == 3);
    list_elem_t e;
    CHECK(list_index(l, 2, &e) && e.len == 1 && e.p[0] == '7');
    CHECK(list_index(l, 1, &e) && e.len == 0);
    list_ops.free_value(l);
    /* QUICKLIST (type 14): one node, a ziplist of "ab" and the 4-bit integer 5 */
    static const uint8_t zl[] = { 17, 0, 0, 0, 14, 0, 0, 0, 2, 0, /* header: bytes, tail offset, count */
                                  0, 2, 'a', 'b',                   /* prevlen 0, 6-bit string of 2 */
                                  4, 0xF6,                          /* prevlen 4, integer 5 (0xF1 + 5) */
                                  0xFF };
    uint8_t quick[2 + sizeof zl];
    quick[0] = 1;                 /* one node */
    quick[1] = sizeof zl;         /* raw string of 17 bytes */
    memcpy(quick + 2, zl, sizeof zl);
    l = NULL;
    CHECK_EQ_INT(list_rdb_load(14, quick, sizeof quick, &l), LIST_LOAD_OK);
    REQUIRE(l && l->count == 2);
    CHECK(list_index(l, 0, &e) && e.len == 2 && memcmp(e.p, "ab", 2) == 0);
    CHECK(list_index(l, 1, &e) && e.len == 1 && e.p[0] == '5');
    list_ops.free_value(l);
    /* empty and corrupt values */
    static const uint8_t empty[] = { 0 };
    CHECK_EQ_INT(list_rdb_load(1, empty, 1, &l), LIST_LOAD_EMPTY);
    CHECK_EQ_INT(list_rdb_load(18, empty, 1, &l), LIST_LOAD_EMPTY);
    static const uint8_t bad[] = { 1, 7, 3, 'a', 'b', 'c' };   /* container 7 */
    CHECK_EQ_INT(list_rdb_load(18, bad, sizeof bad, &l), LIST_LOAD_CORRUPT);
    static const uint8_t trailing[] = { 1, 1, 'x', 0 };
    CHECK_EQ_INT(list_rdb_load(1, trailing, sizeof trailing, &l), LIST_LOAD_CORRUPT);
    CHECK_EQ_INT(list_rdb_load(4, plain, sizeof plain, &l), LIST_LOAD_UNSUPPORTED);
}

/* Walks, deletions and inserts agree with a plain array model. */
TEST(list_ops_agree_with_a_model)
{
    enum { N = 3000 };
    static char model[N * 2][24];
    int n = 0;
    list_t *l = list_new();
    unsigned seed = 12345;
    for (int step = 0; step < 20000; step++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = (seed >> 8) % 100;
        char v[24];
        /* half of them integers (stored as such), some negative or large */
        long long num = (long long)((seed >> 4) % 5000) - 2500;
        if (r % 7 == 0) num *= 4000000000LL;
        snprintf(v, sizeof v, (r & 2) ? "v%lld" : "%lld", num);
        if (r < 40 && n < N) {
            bool head = r & 1;
            list_push(l, head ? LIST_HEAD : LIST_TAIL, (const uint8_t *)v, strlen(v));
            if (head) { memmove(model[1], model[0], sizeof model[0] * (size_t)n); strcpy(model[0], v); }
            else strcpy(model[n], v);
            n++;
        } else if (r < 60 && n > 0) {
            size_t i = (seed >> 3) % (unsigned)n;
            list_set(l, i, (const uint8_t *)v, strlen(v));
            strcpy(model[i], v);
        } else if (r < 75 && n > 0) {
            size_t i = (seed >> 3) % (unsigned)n, k = (seed >> 13) % 5;
            if (i + k > (size_t)n) k = (size_t)n - i;
            list_delete_range(l, i, k);
            memmove(model[i], model[i + k], sizeof model[0] * ((size_t)n - i - k));
            n -= (int)k;
        } else if (r < 90 && n > 0 && n < N) {
            size_t i = (seed >> 3) % (unsigned)n;
            list_iter_t it;
            list_elem_t e;
            list_iter_at(l, i, true, &it);
            list_iter_next(&it, &e);
            list_iter_insert_prev(&it, r & 1, (const uint8_t *)v, strlen(v));
            size_t at = i + (r & 1);
            memmove(model[at + 1], model[at], sizeof model[0] * ((size_t)n - at));
            strcpy(model[at], v);
            n++;
        } else if (n > 0) {
            uint8_t *out;
            size_t len;
            bool head = r & 1;
            REQUIRE(list_pop(l, head ? LIST_HEAD : LIST_TAIL, &out, &len));
            const char *want = head ? model[0] : model[n - 1];
            CHECK(len == strlen(want) && memcmp(out, want, len) == 0);
            free(out);
            if (head) memmove(model[0], model[1], sizeof model[0] * (size_t)(n - 1));
            n--;
        }
        REQUIRE(l->count == (size_t)n);
    }
    list_iter_t it;
    list_elem_t e;
    list_iter_at(l, n - 1, false, &it);
    for (int i = n - 1; i >= 0; i--) {
        REQUIRE(list_iter_next(&it, &e));
        CHECK(e.len == strlen(model[i]) && memcmp(e.p, model[i], e.len) == 0);
    }
    CHECK(!list_iter_next(&it, &e));
    list_ops.free_value(l);
}

/* test_rdb.c - unit tests of proto/crc64 and proto/rdb: the CRC-64 check
 * values, decoding the RDB files captured from redis-server 7.0.15 (whole
 * and in every chunking), re-encoding them byte for byte, round trips,
 * DUMP/RESTORE payloads, and bad input (truncation at every byte, wrong
 * checksum, unknown types, huge lengths, bad magic and version).
 * Must never depend on the current time or start processes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/crc64.h"
#include "proto/rdb.h"
#include "tests/unit/rdb_events.h"
#include "tests/unit/unit.h"

/* Expected keys of rdb-strings.rdb, read from rdb-strings.expected.txt. */
typedef struct expected_key {
    char key[32];
    uint8_t value[700];
    size_t len;
    int64_t expire_ms;
} expected_key_t;

static int load_expected(expected_key_t *keys, int cap)
{
    size_t flen;
    char *text = (char *)unit_read_file(VECTOR_PATH("rdb-strings.expected.txt"), &flen);
    if (!text) return -1;
    char *copy = malloc(flen + 1);
    memcpy(copy, text, flen);
    copy[flen] = 0;
    free(text);
    int n = 0;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || !strncmp(line, "key\t", 4)) continue;
        char *f[7] = { 0 };
        int nf = 0;
        char *p = line;
        while (nf < 7) {   /* TAB-separated, fields may be empty */
            f[nf++] = p;
            char *t = strchr(p, '\t');
            if (!t) break;
            *t = 0;
            p = t + 1;
        }
        if (nf < 5 || n >= cap) continue;
        expected_key_t *k = &keys[n++];
        snprintf(k->key, sizeof k->key, "%s", f[0]);
        k->len = (size_t)atol(f[1]);
        size_t got = hex_decode(f[2], k->value, sizeof k->value);
        if (got != k->len) k->len = (size_t)-1;
        k->expire_ms = strcmp(f[4], "none") ? atoll(f[4]) : -1;
    }
    free(copy);
    return n;
}

/* ---- CRC-64 --------------------------------------------------------------- */

TEST(rdb_crc64_check_values)
{
    CHECK(crc64_update(0, (const uint8_t *)"123456789", 9) == 0xe9c6d914c4b8d9caull);
    const uint8_t v10[2] = { 0x0a, 0x00 };
    CHECK(crc64_update(0, v10, 2) == 0xdaa27f0f405c9b5dull);
    CHECK(crc64_update(0, NULL, 0) == 0);
    /* chunked updates and combination agree with one pass, at every split */
    uint8_t buf[300];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(rng() >> 24);
    uint64_t whole = crc64_update(0, buf, sizeof buf);
    for (size_t s = 0; s <= sizeof buf; s++) {
        uint64_t a = crc64_update(0, buf, s), b = crc64_update(0, buf + s, sizeof buf - s);
        CHECK(crc64_update(a, buf + s, sizeof buf - s) == whole);
        CHECK(crc64_combine(a, b, sizeof buf - s) == whole);
    }
}

TEST(rdb_crc64_vector_trailers)
{
    const char *files[2] = { VECTOR_PATH("rdb-empty.rdb"), VECTOR_PATH("rdb-strings.rdb") };
    const uint64_t want[2] = { 0x563bee8a8c80e130ull, 0xb869b8854959f66bull };
    for (int i = 0; i < 2; i++) {
        size_t len;
        uint8_t *f = unit_read_file(files[i], &len);
        REQUIRE(f && len > 8);
        uint64_t stored = 0;
        for (int b = 7; b >= 0; b--) stored = stored << 8 | f[len - 8 + b];
        CHECK(stored == want[i]);
        CHECK(crc64_update(0, f, len - 8) == want[i]);
        free(f);
    }
}

/* ---- decoding the captured files ----------------------------------------- */

TEST(rdb_decode_empty_vector)
{
    size_t len;
    uint8_t *f = unit_read_file(VECTOR_PATH("rdb-empty.rdb"), &len);
    REQUIRE(f && len == 89);
    ev_list_t l;
    CHECK_EQ_INT(decode_whole(f, len, &l), RDB_OK);
    REQUIRE(l.n == 6);
    const char *names[5] = { "redis-ver", "redis-bits", "ctime", "used-mem", "aof-base" };
    const char *values[5] = { "7.0.15", "64", "1795597248", "1013224", "0" };
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(l.v[i].type, RDB_EV_AUX);
        CHECK_EQ_STR((char *)l.v[i].key, names[i]);
        CHECK_EQ_STR((char *)l.v[i].value, values[i]);
    }
    CHECK_EQ_INT(l.v[0].offset, 9);
    CHECK_EQ_INT(l.v[5].type, RDB_EV_EOF);
    CHECK_EQ_INT(l.v[5].offset, 80);
    CHECK(l.v[5].checksum == 0x563bee8a8c80e130ull);
    CHECK_EQ_INT(l.v[5].checksum_verified, 1);
    ev_free(&l);
    free(f);
}

TEST(rdb_decode_strings_vector_matches_expected_txt)
{
    expected_key_t want[8];
    int nwant = load_expected(want, 8);
    REQUIRE(nwant == 6);
    size_t len;
    uint8_t *f = unit_read_file(VECTOR_PATH("rdb-strings.rdb"), &len);
    REQUIRE(f && len == 190);
    ev_list_t l;
    CHECK_EQ_INT(decode_whole(f, len, &l), RDB_OK);
    CHECK_EQ_STR(l.err, "");

    const ev_copy_t *a = find_aux(&l, "ctime");
    REQUIRE(a);
    CHECK_EQ_STR((char *)a->value, "1795597249");
    a = find_aux(&l, "used-mem");
    REQUIRE(a);
    CHECK_EQ_STR((char *)a->value, "1187184");

    size_t i = 0;
    while (i < l.n && l.v[i].type == RDB_EV_AUX) i++;
    REQUIRE(i + 2 + 6 + 1 == l.n);
    CHECK_EQ_INT(l.v[i].type, RDB_EV_SELECTDB);
    CHECK_EQ_INT(l.v[i].db, 0);
    CHECK_EQ_INT(l.v[i + 1].type, RDB_EV_RESIZEDB);
    CHECK_EQ_INT(l.v[i + 1].db_size, 6);
    CHECK_EQ_INT(l.v[i + 1].expires_size, 1);
    const uint64_t offsets[6] = { 85, 105, 126, 139, 147, 155 };   /* from the README walk */
    for (int k = 0; k < 6; k++) {
        const ev_copy_t *e = &l.v[i + 2 + k];
        CHECK_EQ_INT(e->type, RDB_EV_KEY);
        CHECK_EQ_STR((char *)e->key, want[k].key);
        CHECK_EQ_INT(e->value_len, want[k].len);
        CHECK(e->value_len == want[k].len && memcmp(e->value, want[k].value, want[k].len) == 0);
        CHECK_EQ_INT(e->expire_ms, want[k].expire_ms);
        CHECK_EQ_INT(e->offset, offsets[k]);
        CHECK_EQ_INT(e->lru_idle, -1);
        CHECK_EQ_INT(e->lfu_freq, -1);
    }
    CHECK_EQ_INT(l.v[l.n - 1].type, RDB_EV_EOF);
    CHECK_EQ_INT(l.v[l.n - 1].checksum_verified, 1);
    ev_free(&l);
    free(f);
}

TEST(rdb_decode_every_chunking_gives_the_same_events)
{
    size_t len;
    uint8_t *f = unit_read_file(VECTOR_PATH("rdb-strings.rdb"), &len);
    REQUIRE(f);
    ev_list_t whole, cut;
    decode_whole(f, len, &whole);
    REQUIRE(whole.result == RDB_OK);
    for (size_t chunk = 1; chunk <= len; chunk++) {
        decode_chunked(f, len, chunk, 0, 0, &cut);
        CHECK(ev_equal(&whole, &cut));
        ev_free(&cut);
        decode_chunked(f, len, chunk, 0, len, &cut);   /* total known */
        CHECK(ev_equal(&whole, &cut));
        ev_free(&cut);
    }
    for (int r = 0; r < 200; r++) {
        decode_chunked(f, len, 0, 0, 0, &cut);
        CHECK(ev_equal(&whole, &cut));
        ev_free(&cut);
    }
    ev_free(&whole);
    free(f);
}

TEST(rdb_decode_stops_at_the_end_and_leaves_the_rest)
{
    size_t len;
    uint8_t *f = unit_read_file(VECTOR_PATH("rdb-strings.rdb"), &len);
    REQUIRE(f);
    const char *tail = "*1\r\n$4\r\nping\r\n";
    size_t tl = strlen(tail);
    uint8_t *buf = malloc(len + tl);
    memcpy(buf, f, len);
    memcpy(buf + len, tail, tl);
    for (size_t chunk = 1; chunk <= len + tl; chunk += 7) {
        ev_list_t l;
        decode_chunked(buf, len + tl, chunk, 0, 0, &l);
        CHECK_EQ_INT(l.result, RDB_OK);
        CHECK_EQ_INT(l.rest_len, tl);
        CHECK(l.rest_len == tl && memcmp(l.rest, tail, tl) == 0);
        ev_free(&l);
    }
    size_t used = 0;
    CHECK_EQ_INT(rdb_decode_buffer(buf, len + tl, 0, NULL, NULL, &used, NULL, 0), RDB_OK);
    CHECK_EQ_INT(used, len);
    free(buf);
    free(f);
}

/* ---- encoding ------------------------------------------------------------- */

static void check_string_encoding(const char *s, size_t len, const char *hex)
{
    uint8_t want[64];
    size_t wn = hex_decode(hex, want, sizeof want);
    rdb_encoder_t e;
    rdb_encoder_init(&e, 1);
    CHECK_EQ_INT(rdb_encode_string(&e, (const uint8_t *)s, len), RDB_OK);
    if (rdb_encoder_pending(&e) != wn || memcmp(rdb_encoder_data(&e), want, wn) != 0) {
        char m[200];
        snprintf(m, sizeof m, "encoding of \"%.40s\" is not %s", s, hex);
        unit_fail(__FILE__, __LINE__, m);
    }
    /* and it reads back as the same text */
    size_t pos = 0, out_len = 0;
    const uint8_t *out = NULL;
    rdb_strbuf_t sb = { 0 };
    CHECK_EQ_INT(rdb_read_string(rdb_encoder_data(&e), rdb_encoder_pending(&e), &pos, 1000, &sb, &out, &out_len, NULL),
                 RDB_OK);
    CHECK(out_len == len && memcmp(out, s, len) == 0);
    CHECK_EQ_INT(pos, rdb_encoder_pending(&e));
    rdb_strbuf_free(&sb);
    rdb_encoder_free(&e);
}

TEST(rdb_string_encodings_like_redis)
{
    /* examples captured from 7.0.15 (docs/replication.md §5) */
    check_string_encoding("-1", 2, "c0 ff");
    check_string_encoding("1", 1, "c0 01");
    check_string_encoding("12345", 5, "c1 39 30");
    check_string_encoding("100000", 6, "c2 a0 86 01 00");
    check_string_encoding("1099511627776", 13, "0d 31 30 39 39 35 31 31 36 32 37 37 37 36");
    check_string_encoding("v15", 3, "03 76 31 35");
    char a100[100];
    memset(a100, 'a', sizeof a100);
    check_string_encoding(a100, 100, "c3 09 40 64 01 61 61 e0 57 00 01 61 61");
    /* integer boundaries and non-canonical forms */
    check_string_encoding("127", 3, "c0 7f");
    check_string_encoding("-128", 4, "c0 80");
    check_string_encoding("128", 3, "c1 80 00");
    check_string_encoding("-32768", 6, "c1 00 80");
    check_string_encoding("32768", 5, "c2 00 80 00 00");
    check_string_encoding("2147483647", 10, "c2 ff ff ff 7f");
    check_string_encoding("-2147483648", 11, "c2 00 00 00 80");
    check_string_encoding("2147483648", 10, "0a 32 31 34 37 34 38 33 36 34 38");
    check_string_encoding("0", 1, "c0 00");
    check_string_encoding("-0", 2, "02 2d 30");
    check_string_encoding("007", 3, "03 30 30 37");
    check_string_encoding("+1", 2, "02 2b 31");
    check_string_encoding(" 1", 2, "02 20 31");
    check_string_encoding("-", 1, "01 2d");
    check_string_encoding("", 0, "00");
    /* 21 bytes that LZF cannot shrink by 4 stay raw */
    check_string_encoding("abcdefghijklmnopqrstu", 21, "15 61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 71 72 73 74 75");
    /* 20 compressible bytes are never compressed (Redis: only above 20) */
    check_string_encoding("aaaaaaaaaaaaaaaaaaaa", 20, "14 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61");
}

TEST(rdb_length_encodings)
{
    const uint64_t lens[] = { 0, 63, 64, 16383, 16384, 0xffffffffull, 0x100000000ull, UINT64_MAX };
    const char *hex[] = { "00", "3f", "40 40", "7f ff", "80 00 00 40 00", "80 ff ff ff ff",
                          "81 00 00 00 01 00 00 00 00", "81 ff ff ff ff ff ff ff ff" };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        uint8_t want[9];
        size_t wn = hex_decode(hex[i], want, sizeof want);
        rdb_encoder_t e;
        rdb_encoder_init(&e, 1);
        CHECK_EQ_INT(rdb_encode_length(&e, lens[i]), RDB_OK);
        CHECK(rdb_encoder_pending(&e) == wn && memcmp(rdb_encoder_data(&e), want, wn) == 0);
        size_t pos = 0;
        uint64_t v = 1;
        CHECK_EQ_INT(rdb_read_length(rdb_encoder_data(&e), rdb_encoder_pending(&e), &pos, &v, NULL), RDB_OK);
        CHECK(v == lens[i]);
        CHECK_EQ_INT(pos, wn);
        rdb_encoder_free(&e);
    }
    /* 0x82..0xBF are not lengths */
    const uint8_t bad[1] = { 0x82 };
    size_t pos = 0;
    uint64_t v;
    CHECK_EQ_INT(rdb_read_length(bad, 1, &pos, &v, NULL), RDB_ERR_CORRUPT);
}

/* The 6 keys of rdb-strings.rdb, in file order, as the encoder is given them. */
static void encode_strings_vector(rdb_encoder_t *e, int with_header_and_eof)
{
    expected_key_t want[8];
    int n = load_expected(want, 8);
    if (with_header_and_eof) {
        rdb_encode_header(e);
        rdb_aux_info_t info = { .ctime = 1795597249, .used_mem = 1187184 };
        rdb_encode_aux_fields(e, &info);
        rdb_encode_selectdb(e, 0);
        rdb_encode_resizedb(e, 6, 1);
    }
    for (int k = 0; k < n; k++)
        rdb_encode_string_key(e, (const uint8_t *)want[k].key, strlen(want[k].key), want[k].value, want[k].len,
                              want[k].expire_ms);
    if (with_header_and_eof) rdb_encode_eof(e);
}

TEST(rdb_encoder_reproduces_the_strings_vector)
{
    size_t len;
    uint8_t *f = unit_read_file(VECTOR_PATH("rdb-strings.rdb"), &len);
    REQUIRE(f);
    rdb_encoder_t e;
    rdb_encoder_init(&e, 1);
    encode_strings_vector(&e, 1);
    CHECK_EQ_INT(rdb_encoder_pending(&e), len);
    CHECK(rdb_encoder_pending(&e) == len && memcmp(rdb_encoder_data(&e), f, len) == 0);
    CHECK_EQ_INT(rdb_encoder_total(&e), len);
    rdb_encoder_free(&e);
    free(f);
}

TEST(rdb_encoder_reproduces_the_empty_vector)
{
    size_t len;
    uint8_t *f = unit_read_file(VECTOR_PATH("rdb-empty.rdb"), &len);
    REQUIRE(f);
    rdb_encoder_t e;
    rdb_encoder_init(&e, 1);
    rdb_encode_header(&e);
    rdb_aux_info_t info = { .ctime = 1795597248, .used_mem = 1013224 };
    rdb_encode_aux_fields(&e, &info);
    CHECK_EQ_INT(rdb_encode_eof(&e), RDB_OK);
    CHECK(rdb_encoder_pending(&e) == len && memcmp(rdb_encoder_data(&e), f, len) == 0);
    rdb_encoder_free(&e);
    free(f);
}

TEST(rdb_encoder_reproduces_the_replication_rdb)
{
    /* The 172-byte empty-dataset RDB a 7.0.15 master sent during a full sync
     * (docs/replication.md §5): aux fields with repl-*. */
    static const char hex[] =
        "52 45 44 49 53 30 30 31 30 fa 09 72 65 64 69 73 2d 76 65 72 06 37 2e 30 2e 31 35 fa 0a 72 65 64"
        "69 73 2d 62 69 74 73 c0 40 fa 05 63 74 69 6d 65 c2 d4 93 06 6b fa 08 75 73 65 64 2d 6d 65 6d c2"
        "08 6b 1d 00 fa 0e 72 65 70 6c 2d 73 74 72 65 61 6d 2d 64 62 c0 00 fa 07 72 65 70 6c 2d 69 64 28"
        "36 38 64 38 39 31 63 36 31 34 37 64 65 63 64 30 31 30 38 35 63 34 37 33 30 37 30 31 62 63 37 37"
        "38 65 66 35 36 38 62 63 fa 0b 72 65 70 6c 2d 6f 66 66 73 65 74 c0 0e fa 08 61 6f 66 2d 62 61 73"
        "65 c0 00 ff d6 d8 86 c8 9e e6 39 77";
    uint8_t want[200];
    size_t wn = hex_decode(hex, want, sizeof want);
    REQUIRE(wn == 172);
    rdb_encoder_t e;
    rdb_encoder_init(&e, 1);
    rdb_encode_header(&e);
    rdb_aux_info_t info = { .ctime = 0x6b0693d4, .used_mem = 0x1d6b08, .has_repl = 1, .repl_stream_db = 0,
                            .repl_id = "68d891c6147decd01085c4730701bc778ef568bc", .repl_offset = 14 };
    rdb_encode_aux_fields(&e, &info);
    rdb_encode_eof(&e);
    CHECK(rdb_encoder_pending(&e) == wn && memcmp(rdb_encoder_data(&e), want, wn) == 0);
    /* A CRC with init 0 and no final XOR, run over data followed by its own
     * little-endian CRC, comes out 0: the trailer is in the running CRC. */
    CHECK(rdb_encoder_crc(&e) == 0);
    rdb_encoder_free(&e);
}

TEST(rdb_encoder_drain_and_splice_give_the_same_stream)
{
    size_t len;
    uint8_t *f = unit_read_file(VECTOR_PATH("rdb-strings.rdb"), &len);
    REQUIRE(f);
    /* main encoder: header and db header; a "worker" encoder: the keys; the
     * sender sends main's bytes, then the worker's, then splices. */
    uint8_t out[400];
    size_t on = 0;
    rdb_encoder_t m, w;
    rdb_encoder_init(&m, 1);
    rdb_encoder_init(&w, 1);
    rdb_encode_header(&m);
    rdb_aux_info_t info = { .ctime = 1795597249, .used_mem = 1187184 };
    rdb_encode_aux_fields(&m, &info);
    rdb_encode_selectdb(&m, 0);
    rdb_encode_resizedb(&m, 6, 1);
    /* drain main in uneven pieces */
    while (rdb_encoder_pending(&m)) {
        size_t n = 1 + rng() % 7;
        if (n > rdb_encoder_pending(&m)) n = rdb_encoder_pending(&m);
        memcpy(out + on, rdb_encoder_data(&m), n);
        on += n;
        rdb_encoder_drain(&m, n);
    }
    encode_strings_vector(&w, 0);
    memcpy(out + on, rdb_encoder_data(&w), rdb_encoder_pending(&w));
    on += rdb_encoder_pending(&w);
    rdb_encoder_splice(&m, rdb_encoder_total(&w), rdb_encoder_crc(&w));
    rdb_encode_eof(&m);
    memcpy(out + on, rdb_encoder_data(&m), rdb_encoder_pending(&m));
    on += rdb_encoder_pending(&m);
    CHECK_EQ_INT(on, len);
    CHECK(on == len && memcmp(out, f, len) == 0);
    CHECK_EQ_INT(rdb_encoder_total(&m), len);
    rdb_encoder_free(&m);
    rdb_encoder_free(&w);
    free(f);
}

TEST(rdb_round_trip_many_keys)
{
    enum { N = 400 };
    static uint8_t *keys[N], *vals[N];
    static size_t klen[N], vlen[N];
    static int64_t exp[N];
    rdb_encoder_t e;
    rdb_encoder_init(&e, 1);
    rdb_encode_header(&e);
    rdb_aux_info_t info = { .ctime = 1, .used_mem = 5000000000ll, .has_repl = 1,
                            .repl_id = "0123456789012345678901234567890123456789", .repl_offset = -1 };
    rdb_encode_aux_fields(&e, &info);
    rdb_encode_selectdb(&e, 0);
    rdb_encode_resizedb(&e, N, N / 3);
    for (int i = 0; i < N; i++) {
        char kb[40];
        klen[i] = (size_t)snprintf(kb, sizeof kb, i % 5 ? "key:%d" : "%d", i * 37 - 500);   /* some int keys */
        keys[i] = dup_bytes((uint8_t *)kb, klen[i]);
        switch (i % 6) {
        case 0:   /* integers, int-encoded or too big */
            vals[i] = malloc(24);
            vlen[i] = (size_t)snprintf((char *)vals[i], 24, "%lld", (long long)(rng() % 4000000000ll) - 2000000000ll);
            break;
        case 1:   /* 14- and 32-bit lengths, LZF */
            vlen[i] = 20000 + rng() % 70000;
            vals[i] = malloc(vlen[i]);
            for (size_t j = 0; j < vlen[i]; j++) vals[i][j] = (uint8_t)"abcab"[j % 5];
            break;
        case 2:   /* random, incompressible */
            vlen[i] = rng() % 300;
            vals[i] = malloc(vlen[i] + 1);
            for (size_t j = 0; j < vlen[i]; j++) vals[i][j] = (uint8_t)rng();
            break;
        case 3:
            vlen[i] = 0;
            vals[i] = malloc(1);
            break;
        case 4:
            vlen[i] = 64;
            vals[i] = calloc(1, 64);
            break;
        default:  /* binary, a little compressible */
            vlen[i] = 21 + rng() % 100;
            vals[i] = malloc(vlen[i]);
            for (size_t j = 0; j < vlen[i]; j++) vals[i][j] = (uint8_t)("xyz\r\n\0"[rng() % 6]);
            break;
        }
        exp[i] = i % 3 == 0 ? (int64_t)(1700000000000ll + i) : -1;
        CHECK_EQ_INT(rdb_encode_string_key(&e, keys[i], klen[i], vals[i], vlen[i], exp[i]), RDB_OK);
    }
    rdb_encode_eof(&e);
    const uint8_t *rdb = rdb_encoder_data(&e);
    size_t len = rdb_encoder_pending(&e);

    for (int pass = 0; pass < 3; pass++) {
        ev_list_t l;
        if (pass == 0) decode_whole(rdb, len, &l);
        else decode_chunked(rdb, len, pass == 1 ? 4096 : 0, 0, 0, &l);
        CHECK_EQ_INT(l.result, RDB_OK);
        const ev_copy_t *a = find_aux(&l, "used-mem");
        CHECK(a && strcmp((char *)a->value, "5000000000") == 0);
        a = find_aux(&l, "repl-offset");
        CHECK(a && strcmp((char *)a->value, "-1") == 0);
        int k = 0;
        for (size_t i = 0; i < l.n; i++) {
            if (l.v[i].type != RDB_EV_KEY) continue;
            REQUIRE(k < N);
            CHECK(l.v[i].key_len == klen[k] && memcmp(l.v[i].key, keys[k], klen[k]) == 0);
            CHECK(l.v[i].value_len == vlen[k] && memcmp(l.v[i].value, vals[k], vlen[k]) == 0);
            CHECK_EQ_INT(l.v[i].expire_ms, exp[k]);
            k++;
        }
        CHECK_EQ_INT(k, N);
        CHECK_EQ_INT(l.v[l.n - 1].type, RDB_EV_EOF);
        CHECK_EQ_INT(l.v[l.n - 1].checksum_verified, 1);
        ev_free(&l);
    }
    for (int i = 0; i < N; i++) { free(keys[i]); free(vals[i]); }
    rdb_encoder_free(&e);
}

/* ---- other opcodes -------------------------------------------------------- */

/* Builds an RDB from raw pieces with a correct trailer. */
static uint8_t *build_rdb(const char *version, const uint8_t *body, size_t body_len, int with_crc, size_t *len)
{
    rdb_encoder_t e;
    rdb_encoder_init(&e, 1);
    rdb_encode_raw(&e, "REDIS", 5);
    rdb_encode_raw(&e, version, 4);
    rdb_encode_raw(&e, body, body_len);
    if (with_crc) rdb_encode_eof(&e);
    else rdb_encode_raw(&e, "\xff", 1);
    uint8_t *out = dup_bytes(rdb_encoder_data(&e), rdb_encoder_pending(&e));
    *len = rdb_encoder_pending(&e);
    rdb_encoder_free(&e);
    return out;
}

TEST(rdb_old_expiry_idle_freq_and_functions)
{
    /* FD <4 bytes LE seconds>, F8 <len idle>, F9 <freq>, a key; then FUNCTION2. */
    static const uint8_t body[] = {
        0xfe, 0x03, 0xfb, 0x01, 0x01,
        0xfd, 0x10, 0x27, 0x00, 0x00, 0xf8, 0x40, 0x64, 0xf9, 0x07, 0x00, 0x01, 'k', 0x01, 'v',
        0x00, 0x02, 'k', '2', 0xc0, 0x05,
        0xf5, 0x04, 'c', 'o', 'd', 'e',
    };
    size_t len;
    uint8_t *rdb = build_rdb("0010", body, sizeof body, 1, &len);
    ev_list_t l;
    CHECK_EQ_INT(decode_whole(rdb, len, &l), RDB_OK);
    REQUIRE(l.n == 6);
    CHECK_EQ_INT(l.v[0].type, RDB_EV_SELECTDB);
    CHECK_EQ_INT(l.v[0].db, 3);
    CHECK_EQ_INT(l.v[2].type, RDB_EV_KEY);
    CHECK_EQ_INT(l.v[2].expire_ms, 10000000);
    CHECK_EQ_INT(l.v[2].lru_idle, 100);
    CHECK_EQ_INT(l.v[2].lfu_freq, 7);
    CHECK_EQ_INT(l.v[2].offset, 14);
    CHECK_EQ_INT(l.v[3].expire_ms, -1);   /* expiry belongs to one key only */
    CHECK_EQ_INT(l.v[3].lru_idle, -1);
    CHECK_EQ_STR((char *)l.v[3].value, "5");
    CHECK_EQ_INT(l.v[4].type, RDB_EV_FUNCTION);
    CHECK_EQ_STR((char *)l.v[4].value, "code");
    ev_free(&l);
    free(rdb);

    /* RDB 4 has no checksum after 0xFF */
    static const uint8_t body4[] = { 0x00, 0x01, 'a', 0x01, 'b' };
    rdb = build_rdb("0004", body4, sizeof body4, 0, &len);
    CHECK_EQ_INT(decode_whole(rdb, len, &l), RDB_OK);
    REQUIRE(l.n == 2);
    CHECK_EQ_INT(l.v[1].type, RDB_EV_EOF);
    CHECK_EQ_INT(l.v[1].checksum_verified, 0);
    ev_free(&l);
    free(rdb);
}

/* ---- bad input ------------------------------------------------------------ */

TEST(rdb_truncated_at_every_byte_is_an_error)
{
    const char *files[2] = { VECTOR_PATH("rdb-empty.rdb"), VECTOR_PATH("rdb-strings.rdb") };
    for (int fi = 0; fi < 2; fi++) {
        size_t len;
        uint8_t *f = unit_read_file(files[fi], &len);
        REQUIRE(f);
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *p = malloc(cut ? cut : 1);   /* exact-size copy: ASan sees any over-read */
            memcpy(p, f, cut);
            ev_list_t l;
            decode_whole(p, cut, &l);
            CHECK_EQ_INT(l.result, RDB_ERR_TRUNCATED);
            for (size_t i = 0; i < l.n; i++) CHECK(l.v[i].type != RDB_EV_EOF);
            ev_free(&l);
            decode_chunked(p, cut, 3, 0, 0, &l);
            CHECK_EQ_INT(l.result, RDB_ERR_TRUNCATED);
            ev_free(&l);
            /* known total larger than what arrives: the decoder waits, then finish says truncated */
            decode_chunked(p, cut, 5, 0, len, &l);
            CHECK_EQ_INT(l.result, RDB_ERR_TRUNCATED);
            ev_free(&l);
            free(p);
        }
        free(f);
    }
}

TEST(rdb_wrong_checksum_is_an_error_and_zero_is_accepted)
{
    size_t len;
    uint8_t *f = unit_read_file(VECTOR_PATH("rdb-strings.rdb"), &len);
    REQUIRE(f);
    ev_list_t l;
    f[len - 1] ^= 1;   /* trailer */
    CHECK_EQ_INT(decode_whole(f, len, &l), RDB_ERR_CHECKSUM);
    CHECK(strstr(l.err, "checksum") != NULL);
    for (size_t i = 0; i < l.n; i++) CHECK(l.v[i].type != RDB_EV_EOF);
    ev_free(&l);
    f[len - 1] ^= 1;
    f[100] ^= 0x20;    /* inside the value of "binary": still decodes, CRC catches it */
    CHECK_EQ_INT(decode_whole(f, len, &l), RDB_ERR_CHECKSUM);
    ev_free(&l);
    decode_chunked(f, len, 2, 0, 0, &l);
    CHECK_EQ_INT(l.result, RDB_ERR_CHECKSUM);
    ev_free(&l);
    f[100] ^= 0x20;
    memset(f + len - 8, 0, 8);   /* rdbchecksum no */
    CHECK_EQ_INT(decode_whole(f, len, &l), RDB_OK);
    CHECK_EQ_INT(l.v[l.n - 1].type, RDB_EV_EOF);
    CHECK_EQ_INT(l.v[l.n - 1].checksum_verified, 0);
    ev_free(&l);
    free(f);
}

TEST(rdb_unknown_or_unsupported_type_names_it)
{
    size_t len;
    uint8_t *f = unit_read_file(VECTOR_PATH("rdb-strings.rdb"), &len);
    REQUIRE(f && f[85] == 0x00);
    ev_list_t l;
    f[85] = 21;   /* 7.2's stream listpacks 3, which 7.0.15 does not load (it writes 19) */
    CHECK_EQ_INT(decode_whole(f, len, &l), RDB_ERR_TYPE);
    CHECK(strstr(l.err, "unsupported RDB object type 21 (stream listpacks3)") != NULL);
    CHECK(strstr(l.err, "offset 85") != NULL);
    /* nothing after the bad record came out, and no EOF */
    for (size_t i = 0; i < l.n; i++) CHECK(l.v[i].type != RDB_EV_KEY && l.v[i].type != RDB_EV_EOF);
    ev_free(&l);
    f[85] = 20;   /* 7.2's set listpack, which 7.0.15 does not load either */
    CHECK_EQ_INT(decode_whole(f, len, &l), RDB_ERR_TYPE);
    CHECK(strstr(l.err, "type 20 (set listpack)") != NULL);
    ev_free(&l);
    f[85] = 0x30;
    CHECK_EQ_INT(decode_whole(f, len, &l), RDB_ERR_TYPE);
    CHECK(strstr(l.err, "48") != NULL);
    ev_free(&l);
    f[85] = RDB_OPCODE_MODULE_AUX;
    CHECK_EQ_INT(decode_whole(f, len, &l), RDB_ERR_OPCODE);
    ev_free(&l);
    CHECK_EQ_STR(rdb_type_name(18), "list quicklist2");
    CHECK(rdb_type_name(8) == NULL);
    CHECK(rdb_type_name(22) == NULL);
    free(f);
}

TEST(rdb_huge_lengths_are_refused_without_allocating)
{
    /* a key whose value claims 2^40 bytes (64-bit length) */
    static const uint8_t body[] = { 0x00, 0x01, 'k', 0x81, 0, 0, 0x01, 0, 0, 0, 0, 0, 'x' };
    size_t len;
    uint8_t *rdb = build_rdb("0010", body, sizeof body, 1, &len);
    ev_list_t l;
    CHECK_EQ_INT(decode_whole(rdb, len, &l), RDB_ERR_TOO_BIG);
    ev_free(&l);
    decode_chunked(rdb, len, 1, 0, 0, &l);
    CHECK_EQ_INT(l.result, RDB_ERR_TOO_BIG);
    ev_free(&l);
    /* under the cap but longer than what is left: refused at once when the total is known */
    static const uint8_t body2[] = { 0x00, 0x01, 'k', 0x80, 0x00, 0x10, 0x00, 0x00, 'x' };   /* 1 MiB */
    free(rdb);
    rdb = build_rdb("0010", body2, sizeof body2, 1, &len);
    CHECK_EQ_INT(decode_whole(rdb, len, &l), RDB_ERR_TRUNCATED);
    CHECK(strstr(l.err, "needs") != NULL);
    ev_free(&l);
    /* streaming, total unknown: it waits, holding only what arrived */
    rdb_decoder_t d;
    rdb_decoder_init(&d, 0, 0);
    rdb_decoder_feed(&d, rdb, len);
    rdb_event_t ev;
    CHECK_EQ_INT(rdb_decoder_next(&d, &ev), RDB_MORE);
    CHECK(rdb_decoder_buffered(&d) <= len);
    CHECK(d.part_cap <= 2 * len + 256);
    CHECK_EQ_INT(rdb_decoder_finish(&d), RDB_ERR_TRUNCATED);
    rdb_decoder_free(&d);
    /* a small max_string is honoured */
    rdb_decoder_init(&d, 1000, 0);
    rdb_decoder_feed(&d, rdb, len);
    CHECK_EQ_INT(rdb_decoder_next(&d, &ev), RDB_ERROR);
    CHECK_EQ_INT(rdb_decoder_result(&d), RDB_ERR_TOO_BIG);
    CHECK_EQ_INT(rdb_decoder_next(&d, &ev), RDB_ERROR);   /* sticky */
    rdb_decoder_free(&d);
    free(rdb);
    /* LZF that claims far more output than its input can expand to */
    static const uint8_t body3[] = { 0x00, 0x01, 'k', 0xc3, 0x02, 0x80, 0x10, 0x00, 0x00, 0x00, 0x00, 0x61 };
    rdb = build_rdb("0010", body3, sizeof body3, 1, &len);
    CHECK_EQ_INT(decode_whole(rdb, len, &l), RDB_ERR_CORRUPT);
    ev_free(&l);
    free(rdb);
}

TEST(rdb_bad_lzf_and_string_encodings)
{
    /* back-reference before the start of the output */
    static const uint8_t b1[] = { 0x00, 0x01, 'k', 0xc3, 0x02, 0x05, 0x20, 0x05 };
    /* literal run that yields fewer bytes than announced */
    static const uint8_t b2[] = { 0x00, 0x01, 'k', 0xc3, 0x03, 0x05, 0x01, 'a', 'b' };
    /* string encoding 11000100 does not exist */
    static const uint8_t b3[] = { 0x00, 0x01, 'k', 0xc4 };
    /* a length byte 0x82 does not exist */
    static const uint8_t b4[] = { 0xfe, 0x82 };
    /* SELECTDB with a string encoding instead of a length */
    static const uint8_t b5[] = { 0xfe, 0xc0, 0x01 };
    const uint8_t *bodies[] = { b1, b2, b3, b4, b5 };
    const size_t lens[] = { sizeof b1, sizeof b2, sizeof b3, sizeof b4, sizeof b5 };
    for (int i = 0; i < 5; i++) {
        size_t len;
        uint8_t *rdb = build_rdb("0010", bodies[i], lens[i], 1, &len);
        ev_list_t l;
        CHECK_EQ_INT(decode_whole(rdb, len, &l), RDB_ERR_CORRUPT);
        ev_free(&l);
        free(rdb);
    }
}

TEST(rdb_bad_magic_and_version)
{
    size_t len;
    uint8_t *f = unit_read_file(VECTOR_PATH("rdb-empty.rdb"), &len);
    REQUIRE(f);
    ev_list_t l;
    const struct { size_t at; char c; int rc; } cases[] = {
        { 0, 'X', RDB_ERR_MAGIC }, { 4, 'X', RDB_ERR_MAGIC }, { 7, 'a', RDB_ERR_MAGIC },
        { 8, '1', RDB_ERR_VERSION },   /* REDIS0011 */
        { 7, '0', RDB_ERR_VERSION },   /* REDIS0000 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *p = dup_bytes(f, len);
        p[cases[i].at] = (uint8_t)cases[i].c;
        CHECK_EQ_INT(decode_whole(p, len, &l), cases[i].rc);
        CHECK(l.n == 0);
        ev_free(&l);
        free(p);
    }
    /* a non-RDB stream fails on its first byte, without waiting for 9 */
    rdb_decoder_t d;
    rdb_decoder_init(&d, 0, 0);
    rdb_decoder_feed(&d, (const uint8_t *)"-ERR", 1);
    rdb_event_t ev;
    CHECK_EQ_INT(rdb_decoder_next(&d, &ev), RDB_ERROR);
    CHECK_EQ_INT(rdb_decoder_result(&d), RDB_ERR_MAGIC);
    rdb_decoder_free(&d);
    free(f);
}

/* ---- DUMP / RESTORE ------------------------------------------------------- */

TEST(rdb_dump_payloads_match_redis)
{
    uint8_t want[32];
    size_t wn = hex_decode("00 03 76 31 35 0a 00 53 86 0f 25 27 11 a8 9e", want, sizeof want);
    size_t n;
    uint8_t *p = rdb_dump_string((const uint8_t *)"v15", 3, 1, &n);
    REQUIRE(p);
    CHECK(n == wn && memcmp(p, want, wn) == 0);
    free(p);
    wn = hex_decode("00 c0 03 0a 00 31 9a f0 72 d1 85 6c 3f", want, sizeof want);
    p = rdb_dump_string((const uint8_t *)"3", 1, 1, &n);
    REQUIRE(p);
    CHECK(n == wn && memcmp(p, want, wn) == 0);
    free(p);
    /* FUNCTION DUMP of nothing: version + CRC only */
    wn = hex_decode("0a 00 5d 9b 5c 40 0f 7f a2 da", want, sizeof want);
    uint64_t crc = 0;
    for (int i = 7; i >= 0; i--) crc = crc << 8 | want[2 + i];
    CHECK(crc64_update(0, want, 2) == crc);
}

/* A reset encoder (MIGRATE's one per round) writes each payload as a fresh
 * one does: the bytes, the CRC and the total start over; the buffer stays. */
TEST(rdb_encoder_reset_starts_a_payload_over)
{
    uint8_t want[32];
    size_t wn = hex_decode("00 03 76 31 35 0a 00 53 86 0f 25 27 11 a8 9e", want, sizeof want);
    const uint8_t type = RDB_TYPE_STRING;
    rdb_encoder_t e;
    rdb_encoder_init(&e, 0);
    uint8_t big[5000];
    memset(big, 'x', sizeof big);
    for (int round = 0; round < 3; round++) {
        /* something else first: a payload longer than the first buffer */
        rdb_encoder_reset(&e);
        CHECK_EQ_INT(rdb_encode_raw(&e, &type, 1), RDB_OK);
        CHECK_EQ_INT(rdb_encode_string(&e, big, sizeof big), RDB_OK);
        CHECK_EQ_INT(rdb_encode_dump_footer(&e), RDB_OK);
        CHECK(rdb_encoder_pending(&e) > sizeof big);
        rdb_encoder_reset(&e);
        CHECK_EQ_INT(rdb_encoder_pending(&e), 0);
        CHECK_EQ_INT(rdb_encode_raw(&e, &type, 1), RDB_OK);
        CHECK_EQ_INT(rdb_encode_string(&e, (const uint8_t *)"v15", 3), RDB_OK);
        CHECK_EQ_INT(rdb_encode_dump_footer(&e), RDB_OK);
        CHECK(rdb_encoder_pending(&e) == wn && memcmp(rdb_encoder_data(&e), want, wn) == 0);
        CHECK_EQ_INT(rdb_encoder_total(&e), wn);
    }
    rdb_encoder_free(&e);
}

TEST(rdb_restore_parse_round_trip_and_errors)
{
    const char *values[] = { "v15", "3", "-2147483648", "", "hello world, hello world, hello world" };
    for (size_t i = 0; i < 5; i++) {
        size_t n, vl = strlen(values[i]);
        uint8_t *p = rdb_dump_string((const uint8_t *)values[i], vl, 1, &n);
        REQUIRE(p);
        rdb_restore_t r;
        CHECK_EQ_INT(rdb_restore_parse(p, n, 0, &r), RDB_OK);
        CHECK_EQ_INT(r.type, RDB_TYPE_STRING);
        CHECK(r.value_len == vl && memcmp(r.value, values[i], vl) == 0);
        rdb_restore_free(&r);
        free(p);
    }
    size_t n;
    uint8_t *p = rdb_dump_string((const uint8_t *)"v15", 3, 1, &n);
    REQUIRE(p);
    rdb_restore_t r;
    p[n - 1] ^= 1;                                   /* CRC */
    CHECK_EQ_INT(rdb_restore_parse(p, n, 0, &r), RDB_ERR_CHECKSUM);
    CHECK_EQ_STR(rdb_restore_error(RDB_ERR_CHECKSUM), "DUMP payload version or checksum are wrong");
    p[n - 1] ^= 1;
    CHECK_EQ_INT(rdb_restore_parse(p, 9, 0, &r), RDB_ERR_CHECKSUM);   /* shorter than a footer */
    CHECK_EQ_INT(rdb_restore_parse(p, 0, 0, &r), RDB_ERR_CHECKSUM);

    /* version 11 with a correct CRC: still refused, as 7.0 does */
    uint8_t q[32];
    memcpy(q, p, n - 8);
    q[n - 10] = 11;
    uint64_t crc = crc64_update(0, q, n - 8);
    for (int i = 0; i < 8; i++) q[n - 8 + i] = (uint8_t)(crc >> (8 * i));
    CHECK_EQ_INT(rdb_restore_parse(q, n, 0, &r), RDB_ERR_CHECKSUM);
    /* a 7.2 stream (type 21) with a correct footer */
    memcpy(q, p, n);
    q[0] = 21;
    crc = crc64_update(0, q, n - 8);
    for (int i = 0; i < 8; i++) q[n - 8 + i] = (uint8_t)(crc >> (8 * i));
    CHECK_EQ_INT(rdb_restore_parse(q, n, 0, &r), RDB_ERR_TYPE);
    CHECK_EQ_STR(rdb_restore_error(RDB_ERR_TYPE), "Bad data format");
    /* a value shorter than its length says, correct footer */
    static const uint8_t shortv[] = { 0x00, 0x05, 'a', 'b', 0x0a, 0x00 };
    memcpy(q, shortv, sizeof shortv);
    crc = crc64_update(0, q, sizeof shortv);
    for (int i = 0; i < 8; i++) q[sizeof shortv + i] = (uint8_t)(crc >> (8 * i));
    CHECK_EQ_INT(rdb_restore_parse(q, sizeof shortv + 8, 0, &r), RDB_ERR_CORRUPT);
    /* junk between the value and the footer */
    static const uint8_t junk[] = { 0x00, 0x01, 'a', 'Z', 0x0a, 0x00 };
    memcpy(q, junk, sizeof junk);
    crc = crc64_update(0, q, sizeof junk);
    for (int i = 0; i < 8; i++) q[sizeof junk + i] = (uint8_t)(crc >> (8 * i));
    CHECK_EQ_INT(rdb_restore_parse(q, sizeof junk + 8, 0, &r), RDB_ERR_CORRUPT);
    free(p);
}

static int stop_at_first_key(void *ctx, const rdb_event_t *ev)
{
    int *seen = ctx;
    (*seen)++;
    return ev->type == RDB_EV_KEY;
}

TEST(rdb_decode_buffer_callback_can_stop)
{
    size_t len;
    uint8_t *f = unit_read_file(VECTOR_PATH("rdb-strings.rdb"), &len);
    REQUIRE(f);
    int seen = 0;
    char err[200];
    CHECK_EQ_INT(rdb_decode_buffer(f, len, 0, stop_at_first_key, &seen, NULL, err, sizeof err), RDB_ERR_CALLBACK);
    CHECK_EQ_INT(seen, 8);   /* 5 aux, SELECTDB, RESIZEDB, the first key */
    CHECK(strstr(err, "offset 85") != NULL);
    CHECK_EQ_STR(rdb_result_name(RDB_ERR_CHECKSUM), "checksum mismatch");
    free(f);
}

/* Short plain strings (one length byte each) are decoded in one pass, and the
 * CRC of records decoded in place is folded once per chunk: the same events
 * as the record-by-record path (chunks of 1 byte gather every record), and
 * a flipped byte anywhere in them still fails the checksum, however the
 * file is cut. */
TEST(rdb_short_strings_same_events_and_checksum_at_every_chunking)
{
    rdb_encoder_t e;
    rdb_encoder_init(&e, 0);
    rdb_encode_header(&e);
    rdb_encode_selectdb(&e, 0);
    rdb_encode_resizedb(&e, 300, 75);
    for (int i = 0; i < 300; i++) {
        char k[80], v[80];
        int kl = snprintf(k, sizeof k, "key:%07d", i), vl = snprintf(v, sizeof v, "value:%07d", i);
        if (i % 50 == 7) vl = snprintf(v, sizeof v, "%d", i);                        /* an integer form */
        if (i % 50 == 9) vl = snprintf(v, sizeof v, "%070d", i);                     /* a 2-byte length */
        if (i % 50 == 11) kl = snprintf(k, sizeof k, "%063d", i);                    /* the longest short */
        int64_t exp = i % 4 == 0 ? 1700000000000ll + i : -1;
        CHECK_EQ_INT(rdb_encode_string_key(&e, (uint8_t *)k, (size_t)kl, (uint8_t *)v, (size_t)vl, exp), RDB_OK);
    }
    rdb_encode_eof(&e);
    size_t len = rdb_encoder_pending(&e);
    uint8_t *f = dup_bytes(rdb_encoder_data(&e), len);
    rdb_encoder_free(&e);
    ev_list_t whole, cut;
    CHECK_EQ_INT(decode_whole(f, len, &whole), RDB_OK);
    CHECK_EQ_INT(whole.n, 300 + 3);   /* SELECTDB, RESIZEDB, the keys, EOF */
    for (size_t chunk = 1; chunk <= 97; chunk++) {
        decode_chunked(f, len, chunk, 0, len, &cut);
        CHECK(ev_equal(&whole, &cut));
        ev_free(&cut);
    }
    size_t at = len / 2;   /* inside some key's record */
    f[at] ^= 0x01;
    ev_list_t bad;
    CHECK_EQ_INT(decode_whole(f, len, &bad), RDB_ERR_CHECKSUM);
    ev_free(&bad);
    for (size_t chunk = 1; chunk <= 97; chunk++) {
        decode_chunked(f, len, chunk, 0, len, &cut);
        CHECK_EQ_INT(cut.result, RDB_ERR_CHECKSUM);
        ev_free(&cut);
    }
    ev_free(&whole);
    free(f);
}

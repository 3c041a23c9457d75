/* fuzz_rdb.c - libFuzzer target for proto/rdb: the streaming RDB decoder,
 * the encoder (as a round trip) and RESTORE payload parsing.
 *
 * The input is decoded three ways: whole (rdb_decode_buffer, total known),
 * and through the streaming decoder in pseudo-random chunks (1 byte to a
 * few KiB, derived from a hash of the input so every input replays the same
 * way), once with the total known and once without. All three must give
 * the same events and the same result; EOF may only be the last event; the
 * decoder must never hold more than one record. When the input decodes to
 * EOF, its keys and aux fields are encoded again and must decode back to
 * the same data. The input is also parsed as a RESTORE payload, and DUMPed
 * as a string value and restored.
 *
 * Build: make build/fuzz/fuzz_rdb. Seeds: tests/fuzz/corpus/fuzz_rdb.
 * Must never keep state between inputs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/rdb.h"

typedef struct run {
    uint64_t hash;        /* of every event's fields and bytes, in order */
    size_t events;
    int result;
    int saw_eof;
    uint64_t used;
} run_t;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static void record(run_t *r, const rdb_event_t *ev)
{
    if (r->saw_eof) abort();   /* nothing may follow EOF */
    if (ev->type < RDB_EV_AUX || ev->type > RDB_EV_EOF) abort();
    if ((ev->key_len && !ev->key) || (ev->value_len && !ev->value)) abort();
    uint64_t h = r->hash;
    int64_t f[10] = { ev->type, (int64_t)ev->offset, (int64_t)ev->key_len, (int64_t)ev->value_len,
                      ev->expire_ms, ev->lru_idle, ev->lfu_freq, (int64_t)ev->db, (int64_t)ev->db_size,
                      (int64_t)ev->checksum };
    h = fnv(h, f, sizeof f);
    if (ev->key_len) h = fnv(h, ev->key, ev->key_len);      /* touches every byte: ASan checks the views */
    if (ev->value_len) h = fnv(h, ev->value, ev->value_len);
    r->hash = h;
    r->events++;
    if (ev->type == RDB_EV_EOF) r->saw_eof = 1;
}

static int record_cb(void *ctx, const rdb_event_t *ev)
{
    record(ctx, ev);
    return 0;
}

static void run_chunked(const uint8_t *data, size_t size, uint64_t max, uint64_t total, uint64_t seed, run_t *r)
{
    memset(r, 0, sizeof *r);
    r->hash = 1469598103934665603ull;
    rdb_decoder_t d;
    rdb_decoder_init(&d, max, total);
    size_t pos = 0;
    int st = RDB_MORE;
    while (st == RDB_MORE && pos < size) {
        uint64_t x = rng(&seed);
        size_t n;
        switch (x & 3) {
        case 0: n = 1 + (x >> 8) % 4; break;
        case 1: n = 1 + (x >> 8) % 64; break;
        default: n = 1 + (x >> 8) % 4000; break;
        }
        if (n > size - pos) n = size - pos;
        uint8_t *chunk = malloc(n);   /* fresh copy: a view that outlives it is caught */
        if (!chunk) abort();
        memcpy(chunk, data + pos, n);
        rdb_decoder_feed(&d, chunk, n);
        rdb_event_t ev;
        while ((st = rdb_decoder_next(&d, &ev)) == RDB_EVENT) {
            record(r, &ev);
            /* one record at most is held, and only bytes that arrived */
            if (rdb_decoder_buffered(&d) > pos + n) abort();
        }
        if (st == RDB_DONE) {
            size_t rest;
            const uint8_t *p = rdb_decoder_rest(&d, &rest);
            if (rest > n || (rest && p != chunk + n - rest)) abort();
            r->used = pos + n - rest;
        }
        free(chunk);
        pos += n;
    }
    r->result = rdb_decoder_finish(&d);
    if ((r->result == RDB_OK) != (st == RDB_DONE)) abort();
    if (r->result == RDB_OK && !r->saw_eof) abort();
    if (r->result != RDB_OK && rdb_decoder_error(&d)[0] == 0) abort();   /* errors say why */
    rdb_decoder_free(&d);
}

/* Re-encodes what a valid input held and checks it decodes to the same. */
typedef struct reenc {
    rdb_encoder_t e;
    uint64_t hash_in;
} reenc_t;

static int reenc_cb(void *ctx, const rdb_event_t *ev)
{
    reenc_t *re = ctx;
    switch (ev->type) {
    case RDB_EV_SELECTDB: rdb_encode_selectdb(&re->e, ev->db); break;
    case RDB_EV_KEY:
        rdb_encode_string_key(&re->e, ev->key, ev->key_len, ev->value, ev->value_len, ev->expire_ms);
        re->hash_in = fnv(re->hash_in, ev->key, ev->key_len);
        re->hash_in = fnv(re->hash_in, ev->value, ev->value_len);
        re->hash_in = fnv(re->hash_in, &ev->expire_ms, sizeof ev->expire_ms);
        break;
    default: break;
    }
    return 0;
}

static int rehash_cb(void *ctx, const rdb_event_t *ev)
{
    uint64_t *h = ctx;
    if (ev->type == RDB_EV_KEY) {
        *h = fnv(*h, ev->key, ev->key_len);
        *h = fnv(*h, ev->value, ev->value_len);
        *h = fnv(*h, &ev->expire_ms, sizeof ev->expire_ms);
    }
    return 0;
}

static void round_trip(const uint8_t *data, size_t size)
{
    reenc_t re;
    rdb_encoder_init(&re.e, (int)(size & 1));
    re.hash_in = 7;
    rdb_encode_header(&re.e);
    if (rdb_decode_buffer(data, size, 0, reenc_cb, &re, NULL, NULL, 0) != RDB_OK) abort();
    rdb_encode_eof(&re.e);
    uint64_t h = 7;
    if (rdb_decode_buffer(rdb_encoder_data(&re.e), rdb_encoder_pending(&re.e), 0, rehash_cb, &h, NULL, NULL, 0) !=
        RDB_OK)
        abort();
    if (h != re.hash_in) abort();
    rdb_encoder_free(&re.e);
}

static void restore_checks(const uint8_t *data, size_t size)
{
    rdb_restore_t r;
    int rc = rdb_restore_parse(data, size, 1 << 20, &r);
    if (rc == RDB_OK) {
        if (r.value_len && !r.value) abort();
        (void)fnv(0, r.value, r.value_len);
        rdb_restore_free(&r);
    }
    size_t n;
    uint8_t *p = rdb_dump_string(data, size, (int)(size & 1), &n);
    if (!p) abort();
    if (rdb_restore_parse(p, n, 0, &r) != RDB_OK) abort();
    if (r.value_len != size || (size && memcmp(r.value, data, size) != 0)) abort();
    rdb_restore_free(&r);
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t caps[4] = { 0, 16, 4096, 1 << 20 };
    uint64_t h = fnv(1469598103934665603ull, data, size);
    uint64_t max = caps[h & 3];

    run_t whole;
    memset(&whole, 0, sizeof whole);
    whole.hash = 1469598103934665603ull;
    size_t used = 0;
    whole.result = rdb_decode_buffer(data, size, max, record_cb, &whole, &used, NULL, 0);
    if ((whole.result == RDB_OK) != whole.saw_eof) abort();

    run_t cut_known, cut_unknown;
    run_chunked(data, size, max, size, h | 1, &cut_known);
    run_chunked(data, size, max, 0, (h >> 7) | 1, &cut_unknown);
    const run_t *runs[2] = { &cut_known, &cut_unknown };
    for (int i = 0; i < 2; i++) {
        if (runs[i]->result != whole.result || runs[i]->events != whole.events || runs[i]->hash != whole.hash)
            abort();
        if (whole.result == RDB_OK && runs[i]->used != used) abort();
    }

    if (whole.result == RDB_OK && max == 0) round_trip(data, used);
    restore_checks(data, size < 4096 ? size : 4096);
    return 0;
}

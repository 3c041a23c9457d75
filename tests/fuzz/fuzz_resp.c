/* fuzz_resp.c - libFuzzer target for proto/resp.
 *
 * Input: byte 0 = flags (bit 0: client authenticated, bit 1: tiny
 * proto-max-bulk-len, bit 2: RESP3 writer), byte 1 = seed of the chunk sizes,
 * the rest = bytes a client sends. The stream is parsed twice: all at once,
 * and in pseudo-random chunks through a buffer that moves on every call, the
 * way a connection feeds it. Checked: consumed <= available, arguments inside
 * the bytes of their command (or inside inline_buf), and, when no 64 KB line
 * limit can fire, both runs see exactly the same commands and errors. Every
 * parsed command is written back as a RESP2 array of bulk strings, which must
 * parse to the same arguments; the other writer functions run on its bytes.
 * resp_peek on the bytes, when it accepts them, agrees with resp_parse.
 * A test harness only: it must never be linked into the node.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/resp.h"

#define FUZZ_CHECK(cond) do { if (!(cond)) { fprintf(stderr, "check failed: %s (line %d)\n", #cond, __LINE__); abort(); } } while (0)

static uint64_t fnv_mix(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* Checks one result's invariants and folds it into *digest. */
static void note_result(const resp_parser_t *p, int r, const uint8_t *buf, size_t n, uint64_t *digest)
{
    *digest = fnv_mix(*digest, &r, sizeof r);
    if (r == RESP_PARSE_ERROR) {
        FUZZ_CHECK(p->error != NULL);
        *digest = fnv_mix(*digest, p->error, strlen(p->error));
        return;
    }
    if (r == RESP_PARSE_MORE) return;
    FUZZ_CHECK(p->consumed > 0 && p->consumed <= n);
    if (r == RESP_PARSE_EMPTY) {
        FUZZ_CHECK(p->argc == 0);
        return;
    }
    FUZZ_CHECK(p->argc > 0 && p->argc <= p->arg_cap);
    for (size_t i = 0; i < p->argc; i++) {
        if (p->args_inline) {
            FUZZ_CHECK(p->arg_off[i] + p->arg_len[i] <= p->inline_cap);
            FUZZ_CHECK(p->arg_len[i] < p->consumed);
        } else {
            FUZZ_CHECK(p->arg_off[i] + p->arg_len[i] <= p->consumed);
        }
        const uint8_t *a = resp_arg(p, buf, i);
        *digest = fnv_mix(*digest, &p->arg_len[i], sizeof p->arg_len[i]);
        *digest = fnv_mix(*digest, a, p->arg_len[i]);
    }
}

/* Writes argv as a RESP2 array (count deferred) and parses it back. */
static void roundtrip(const resp_parser_t *p, const uint8_t *buf, int proto)
{
    resp_buf_t out;
    resp_buf_init(&out, 2);
    size_t h = resp_add_deferred_len(&out);
    for (size_t i = 0; i < p->argc; i++) resp_add_bulk(&out, resp_arg(p, buf, i), p->arg_len[i]);
    resp_set_deferred_array(&out, h, (long long)p->argc);

    resp_parser_t q;
    resp_parser_init(&q, INT64_MAX);
    int r = resp_parse(&q, (const uint8_t *)out.data, out.len);
    FUZZ_CHECK(r == RESP_PARSE_DONE);
    FUZZ_CHECK(q.consumed == out.len && q.argc == p->argc);
    for (size_t i = 0; i < p->argc; i++) {
        FUZZ_CHECK(q.arg_len[i] == p->arg_len[i]);
        FUZZ_CHECK(memcmp(resp_arg(&q, (const uint8_t *)out.data, i), resp_arg(p, buf, i), p->arg_len[i]) == 0);
    }
    resp_parser_free(&q);

    /* the rest of the writer, driven by the first argument */
    resp_buf_t w;
    resp_buf_init(&w, proto);
    const uint8_t *a0 = resp_arg(p, buf, 0);
    size_t n0 = p->arg_len[0] < 256 ? p->arg_len[0] : 256;
    char text[257];
    memcpy(text, a0, n0);
    text[n0] = 0;
    resp_add_error(&w, text);
    /* an error is one line: "-...\r\n" with no other CR or LF */
    FUZZ_CHECK(w.len >= 3 && w.data[0] == '-' && w.data[w.len - 2] == '\r' && w.data[w.len - 1] == '\n');
    FUZZ_CHECK(memchr(w.data, '\r', w.len - 2) == NULL && memchr(w.data, '\n', w.len - 2) == NULL);
    resp_buf_reset(&w);
    resp_add_errorf(&w, "%s %zu", text, p->argc);
    FUZZ_CHECK(memchr(w.data, '\n', w.len - 1) == NULL);
    resp_buf_reset(&w);

    size_t outer = resp_add_deferred_len(&w);
    size_t inner = resp_add_deferred_len(&w);
    resp_add_simple_len(&w, text, strlen(text));
    resp_add_bulk_str(&w, text);
    resp_add_verbatim(&w, (const char *)a0, p->arg_len[0]);
    double d = 0;
    memcpy(&d, text, n0 < sizeof d ? n0 : sizeof d);
    resp_add_double(&w, d);
    resp_add_int(&w, (long long)p->arg_len[0]);
    resp_add_bulk_ll(&w, -(long long)p->argc);
    resp_add_bool(&w, n0 & 1);
    resp_add_null(&w);
    resp_add_null_array(&w);
    resp_add_map(&w, 1);
    resp_add_set(&w, 0);
    resp_add_array(&w, 0);
    resp_set_deferred_map(&w, inner, 5);
    resp_set_deferred_set(&w, outer, 1);
    FUZZ_CHECK(w.deferred_count == 0);
    FUZZ_CHECK(w.data[0] == (proto == 3 ? '~' : '*'));
    resp_buf_free(&w);
    resp_buf_free(&out);
}

/* Parses data[0..len) as one buffer. Returns the digest of all results. */
static uint64_t run_whole(const uint8_t *data, size_t len, bool auth, long long max_bulk, int proto)
{
    uint64_t digest = 14695981039346656037ULL;
    resp_parser_t p;
    resp_parser_init(&p, max_bulk);
    p.authenticated = auth;
    size_t off = 0;
    for (;;) {
        int r = resp_parse(&p, data + off, len - off);
        note_result(&p, r, data + off, len - off, &digest);
        if (r == RESP_PARSE_DONE) roundtrip(&p, data + off, proto);
        if (r == RESP_PARSE_MORE || r == RESP_PARSE_ERROR) break;
        off += p.consumed;
    }
    resp_parser_free(&p);
    return digest;
}

/* Feeds the same bytes in chunks through a buffer that is reallocated (and so
 * usually moved) before every call. */
static uint64_t run_chunked(const uint8_t *data, size_t len, bool auth, long long max_bulk, uint8_t seed)
{
    uint64_t digest = 14695981039346656037ULL;
    uint32_t rng = seed * 2654435761u + 1;
    resp_parser_t p;
    resp_parser_init(&p, max_bulk);
    p.authenticated = auth;
    uint8_t *buf = NULL;
    size_t start = 0, fed = 0; /* data[start..fed) is in buf */
    for (;;) {
        size_t n = fed - start;
        uint8_t *moved = malloc(n ? n : 1);
        if (n) memcpy(moved, data + start, n);
        free(buf);
        buf = moved;
        int r = resp_parse(&p, buf, n);
        if (r != RESP_PARSE_MORE) note_result(&p, r, buf, n, &digest);
        if (r == RESP_PARSE_ERROR) break;
        if (r != RESP_PARSE_MORE) start += p.consumed;
        if (r == RESP_PARSE_MORE || start == fed) {
            if (fed == len) {
                note_result(&p, RESP_PARSE_MORE, buf, n, &digest);
                break;
            }
            rng = rng * 1103515245u + 12345u;
            size_t chunk = 1 + (rng >> 16) % ((seed & 0x80) ? 4096 : 17);
            fed += chunk < len - fed ? chunk : len - fed;
        }
    }
    free(buf);
    resp_parser_free(&p);
    return digest;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    uint8_t flags = data[0], seed = data[1];
    data += 2;
    size -= 2;
    bool auth = flags & 1;
    long long max_bulk = (flags & 2) ? 64 : RESP_DEFAULT_MAX_BULK;
    int proto = (flags & 4) ? 3 : 2;
    uint64_t whole = run_whole(data, size, auth, max_bulk, proto);
    uint64_t chunked = run_chunked(data, size, auth, max_bulk, seed);
    /* resp_peek (the pipeline's look ahead): inside the bytes, and a
     * command it accepts is one resp_parse takes whole, to the same length */
    size_t total, klen;
    const uint8_t *key;
    if (resp_peek(data, size, &total, &key, &klen)) {
        FUZZ_CHECK(total > 0 && total <= size && key > data && key + klen <= data + total);
        resp_parser_t p;
        resp_parser_init(&p, RESP_DEFAULT_MAX_BULK);
        p.authenticated = true;
        FUZZ_CHECK(resp_parse(&p, data, size) == RESP_PARSE_DONE && p.consumed == total);
        FUZZ_CHECK(p.arg_len[1] == klen && resp_arg(&p, data, 1) == key);
        resp_parser_free(&p);
    }
    /* With at most 64 KB no "too big" limit can fire, so how the bytes
     * arrive must not change what is parsed. */
    if (size <= RESP_MAX_INLINE) FUZZ_CHECK(whole == chunked);
    return 0;
}

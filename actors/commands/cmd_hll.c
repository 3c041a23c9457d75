/* cmd_hll.c - PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST over string
 * values in Redis's HyperLogLog layout (proto/hll.h does the encoding).
 *
 * Runs on the worker owning the keys' slot. Replies, errors and their order
 * are 7.0.15's, and so is what counts as a change to propagate: PFCOUNT of
 * one key whose cached estimate was stale writes the estimate back into the
 * value and is propagated as is (redis-server does the same, so a replica
 * keeps identical bytes); PFADD that stops on a corrupt value changes what
 * it changed before the error but propagates nothing, as 7.0.15.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/worker/keyspace.h"
#include "proto/hll.h"

#define ERR_NOT_HLL     "-WRONGTYPE Key is not a valid HyperLogLog string value."
#define ERR_CORRUPT     "-INVALIDOBJ Corrupted HLL object detected"

static size_t sparse_max(void)
{
    long long v = config_hll_sparse_max_bytes();
    return v < 0 ? 0 : (size_t)v;
}

/* Checks a looked-up value: a string in HLL layout. Replies and returns
 * false otherwise. */
static bool check_hll(cmd_ctx_t *ctx, const ks_entry_t *e)
{
    if (ks_entry_type(e) != KS_TYPE_STRING) {
        resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
        return false;
    }
    size_t n;
    const uint8_t *v = ks_entry_str(e, &n);
    if (!hll_header_ok(v, n)) {
        resp_add_error(ctx->reply, ERR_NOT_HLL);
        return false;
    }
    return true;
}

/* The value's bytes, writable in place (its length unchanged). */
static uint8_t *value_mut(cmd_ctx_t *ctx, ks_entry_t *e, size_t *len)
{
    ks_entry_str(e, len);
    return ks_str_resize(ctx->ks, e, *len);
}

/* A heap copy of an existing value, or a new empty HLL when e is NULL. */
static void buf_load(hll_buf_t *b, const ks_entry_t *e)
{
    if (!e) {
        hll_init(b);
        return;
    }
    size_t n;
    const uint8_t *v = ks_entry_str(e, &n);
    b->data = malloc(n + 3);
    if (!b->data) abort();
    memcpy(b->data, v, n);
    b->len = n;
    b->cap = n + 3;
}

/* Stores b as argv[keyi]'s value (keeping its TTL when it existed), frees b. */
static void buf_store(cmd_ctx_t *ctx, int keyi, ks_entry_t *e, hll_buf_t *b)
{
    size_t old = 0;
    if (e) ks_entry_str(e, &old);
    if (e && !(b->len == HLL_DENSE_SIZE && old != HLL_DENSE_SIZE)) {
        /* Sparse growth by a few bytes: in place, the buffer grows geometrically. */
        uint8_t *d = ks_str_resize(ctx->ks, e, b->len);
        memcpy(d, b->data, b->len);
    } else {
        /* A new key, or one just turned dense: a buffer of the exact size (12 KB,
         * not the doubled capacity an in-place growth would reserve). */
        ks_entry_t *d = ks_set_string(ctx->ks, ctx->argv[keyi], ctx->argvlen[keyi], b->data, b->len,
                                      e ? KS_KEEP_TTL : KS_NO_EXPIRE, ctx->now_ms);
        ks_entry_add_flags(d, KS_EF_RAW);   /* an HLL is a raw string in 7.0.15 */
    }
    free(b->data);
    b->data = NULL;
}

void cmd_pfadd(cmd_ctx_t *ctx)
{
    ks_entry_t *e = ks_lookup(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    if (e && !check_hll(ctx, e)) return;
    int updated = e ? 0 : 1;       /* creating the key is a change */
    hll_buf_t b;
    size_t n = 0;
    bool in_place = e && ks_entry_str(e, &n)[4] == HLL_DENSE;
    if (in_place) {
        /* A dense value never changes size: update the stored bytes directly. */
        b.data = value_mut(ctx, e, &n);
        b.len = b.cap = n;
    } else {
        buf_load(&b, e);
    }
    bool corrupt = false;
    for (int j = 2; j < ctx->argc && !corrupt; j++) {
        int r = hll_add(&b, ctx->argv[j], ctx->argvlen[j], sparse_max());
        if (r < 0) corrupt = true;
        else updated += r;
    }
    if (updated && !corrupt) hll_cache_invalidate(b.data);
    if (!in_place) buf_store(ctx, 1, e, &b);
    if (corrupt) {
        resp_add_error(ctx->reply, ERR_CORRUPT);
        return;
    }
    if (updated) ctx->dirty = true;
    resp_add_int(ctx->reply, updated ? 1 : 0);
}

/* PFCOUNT of several keys: the estimate of their union, nothing cached. */
static void pfcount_union(cmd_ctx_t *ctx)
{
    static _Thread_local uint8_t max[HLL_REGISTERS];   /* 16 KB: off the worker's stack */
    memset(max, 0, sizeof max);
    for (int j = 1; j < ctx->argc; j++) {
        ks_entry_t *e = ks_lookup_read(ctx->ks, ctx->argv[j], ctx->argvlen[j], ctx->now_ms);
        if (!e) continue;          /* a missing key is an empty HLL */
        if (!check_hll(ctx, e)) return;
        size_t n;
        const uint8_t *v = ks_entry_str(e, &n);
        if (!hll_merge(max, v, n)) {
            resp_add_error(ctx->reply, ERR_CORRUPT);
            return;
        }
    }
    resp_add_int(ctx->reply, (long long)hll_count_raw(max));
}

void cmd_pfcount(cmd_ctx_t *ctx)
{
    if (ctx->argc > 2) {
        pfcount_union(ctx);
        return;
    }
    ks_entry_t *e = ks_lookup_read(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    if (!e) {
        resp_add_int(ctx->reply, 0);
        return;
    }
    if (!check_hll(ctx, e)) return;
    size_t n;
    const uint8_t *v = ks_entry_str(e, &n);
    if (hll_cache_valid(v)) {
        resp_add_int(ctx->reply, (long long)hll_cache_get(v));
        return;
    }
    bool invalid = false;
    uint64_t card = hll_count(v, n, &invalid);
    if (invalid) {
        resp_add_error(ctx->reply, ERR_CORRUPT);
        return;
    }
    /* Caching the estimate changes the value: a write for replicas. */
    hll_cache_put(value_mut(ctx, e, &n), card);
    ctx->dirty = true;
    resp_add_int(ctx->reply, (long long)card);
}

void cmd_pfmerge(cmd_ctx_t *ctx)
{
    static _Thread_local uint8_t max[HLL_REGISTERS];
    memset(max, 0, sizeof max);
    bool use_dense = false;
    for (int j = 1; j < ctx->argc; j++) {
        ks_entry_t *e = ks_lookup_read(ctx->ks, ctx->argv[j], ctx->argvlen[j], ctx->now_ms);
        if (!e) continue;
        if (!check_hll(ctx, e)) return;
        size_t n;
        const uint8_t *v = ks_entry_str(e, &n);
        if (v[4] == HLL_DENSE) use_dense = true;   /* then the result is dense too */
        if (!hll_merge(max, v, n)) {
            resp_add_error(ctx->reply, ERR_CORRUPT);
            return;
        }
    }
    /* The destination was one of the inputs, so it is a valid HLL if present. */
    ks_entry_t *dest = ks_lookup(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    hll_buf_t b;
    buf_load(&b, dest);
    if (use_dense && !hll_to_dense(&b)) {
        free(b.data);
        resp_add_error(ctx->reply, ERR_CORRUPT);
        return;
    }
    for (unsigned j = 0; j < HLL_REGISTERS; j++)
        if (max[j]) hll_set(&b, j, max[j], sparse_max());
    hll_cache_invalidate(b.data);
    buf_store(ctx, 1, dest, &b);
    ctx->dirty = true;
    resp_add_simple(ctx->reply, "OK");
}

/* ---- PFDEBUG ---- */

/* Turns a sparse value dense in the keyspace. False after replying the
 * corruption error. *converted says whether anything changed. */
static bool make_dense(cmd_ctx_t *ctx, ks_entry_t *e, bool *converted)
{
    size_t n;
    *converted = false;
    if (ks_entry_str(e, &n)[4] == HLL_DENSE) return true;
    hll_buf_t b;
    buf_load(&b, e);
    if (!hll_to_dense(&b)) {
        free(b.data);
        resp_add_error(ctx->reply, ERR_CORRUPT);
        return false;
    }
    buf_store(ctx, 2, e, &b);
    *converted = true;
    ctx->dirty = true;             /* the new encoding goes to replicas too */
    return true;
}

/* The subcommand name as 7.0.15 sees it: a C string, so up to any NUL. */
static size_t cstr_len(const uint8_t *a, size_t n)
{
    const uint8_t *z = memchr(a, 0, n);
    return z ? (size_t)(z - a) : n;
}

void cmd_pfdebug(cmd_ctx_t *ctx)
{
    ks_entry_t *e = ks_lookup(ctx->ks, ctx->argv[2], ctx->argvlen[2], ctx->now_ms);
    if (!e) {
        resp_add_error(ctx->reply, "ERR The specified key does not exist");
        return;
    }
    if (!check_hll(ctx, e)) return;
    size_t sublen = cstr_len(ctx->argv[1], ctx->argvlen[1]), n;
    const uint8_t *sub = ctx->argv[1];
    bool converted;
    if (arg_is(sub, sublen, "getreg")) {
        if (!make_dense(ctx, e, &converted)) return;
        const uint8_t *v = ks_entry_str(e, &n);
        resp_add_array(ctx->reply, HLL_REGISTERS);
        for (unsigned j = 0; j < HLL_REGISTERS; j++)
            resp_add_int(ctx->reply, hll_dense_get(v + HLL_HDR_SIZE, j));
    } else if (arg_is(sub, sublen, "decode")) {
        const uint8_t *v = ks_entry_str(e, &n);
        if (v[4] != HLL_SPARSE) {
            resp_add_error(ctx->reply, "ERR HLL encoding is not sparse");
            return;
        }
        char *text = hll_sparse_describe(v, n);
        if (!text) abort();
        resp_add_bulk(ctx->reply, text, strlen(text));
        free(text);
    } else if (arg_is(sub, sublen, "encoding")) {
        resp_add_simple(ctx->reply, ks_entry_str(e, &n)[4] == HLL_DENSE ? "dense" : "sparse");
    } else if (arg_is(sub, sublen, "todense")) {
        if (!make_dense(ctx, e, &converted)) return;
        resp_add_int(ctx->reply, converted ? 1 : 0);
    } else {
        resp_add_errorf(ctx->reply, "ERR Unknown PFDEBUG subcommand '%.*s'", (int)sublen, (const char *)sub);
    }
}

/* ---- PFSELFTEST ---- */

#define SELFTEST_CYCLES 1000

/* Register access: random values written to every dense register read back
 * unchanged, 1000 times over. */
static bool selftest_registers(cmd_ctx_t *ctx, uint8_t *regs)
{
    static _Thread_local uint8_t expect[HLL_REGISTERS];
    for (int cycle = 0; cycle < SELFTEST_CYCLES; cycle++) {
        for (unsigned i = 0; i < HLL_REGISTERS; i++) {
            expect[i] = (uint8_t)(random() & 63);
            hll_dense_put(regs, i, expect[i]);
        }
        for (unsigned i = 0; i < HLL_REGISTERS; i++) {
            unsigned v = hll_dense_get(regs, i);
            if (v != expect[i]) {
                resp_add_errorf(ctx->reply, "TESTFAILED Register %u should be %u but is %u", i, expect[i], v);
                return false;
            }
        }
    }
    return true;
}

/* Estimation: ten million distinct elements into a dense and a sparse HLL
 * at once; at each power of ten the two agree, the sparse one is still
 * sparse while small, and the error stays within six standard errors. */
static bool selftest_estimates(cmd_ctx_t *ctx, hll_buf_t *dense, hll_buf_t *sparse)
{
    double relerr = 1.04 / sqrt(HLL_REGISTERS);
    uint64_t seed = (uint64_t)random() | (uint64_t)random() << 32;
    long long checkpoint = 1;
    size_t smax = sparse_max();
    for (uint64_t j = 1; j <= 10000000; j++) {
        uint64_t ele = j ^ seed;
        hll_add(dense, (const uint8_t *)&ele, sizeof ele, smax);
        hll_add(sparse, (const uint8_t *)&ele, sizeof ele, smax);
        if ((long long)j != checkpoint) continue;
        if (j < smax / 2 && sparse->data[4] != HLL_SPARSE) {
            resp_add_error(ctx->reply, "TESTFAILED sparse encoding not used");
            return false;
        }
        uint64_t dc = hll_count(dense->data, dense->len, NULL);
        if (dc != hll_count(sparse->data, sparse->len, NULL)) {
            resp_add_error(ctx->reply, "TESTFAILED dense/sparse disagree");
            return false;
        }
        long long abserr = llabs(checkpoint - (long long)dc);
        long long maxerr = j == 10 ? 1 : (long long)ceil(relerr * 6 * (double)checkpoint);
        if (abserr > maxerr) {
            resp_add_errorf(ctx->reply, "TESTFAILED Too big error. card:%lld abserr:%lld", checkpoint, abserr);
            return false;
        }
        checkpoint *= 10;
    }
    return true;
}

void cmd_pfselftest(cmd_ctx_t *ctx)
{
    hll_buf_t dense = { calloc(1, HLL_DENSE_SIZE), HLL_DENSE_SIZE, HLL_DENSE_SIZE }, sparse;
    if (!dense.data) abort();
    memcpy(dense.data, "HYLL", 4);
    dense.data[4] = HLL_DENSE;
    hll_init(&sparse);
    if (selftest_registers(ctx, dense.data + HLL_HDR_SIZE)) {
        memset(dense.data + HLL_HDR_SIZE, 0, HLL_DENSE_BYTES);
        if (selftest_estimates(ctx, &dense, &sparse)) resp_add_simple(ctx->reply, "OK");
    }
    free(dense.data);
    free(sparse.data);
}

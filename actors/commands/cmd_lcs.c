/* cmd_lcs.c - LCS: the longest common subsequence of two string values, as
 * the string itself, its length (LEN), or the matching ranges (IDX, with
 * MINMATCHLEN and WITHMATCHLEN).
 *
 * The classic O(N*M) table, as 7.0.15 builds it, and the same walk back
 * through it: the ranges it reports (and the ones it skips) are exactly
 * 7.0.15's, since clients compare them. The table's size is bounded by
 * proto-max-bulk-len, with 7.0.15's error past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/worker/keyspace.h"

typedef struct lcs_opts {
    bool len, idx, withmatchlen;
    long long minmatchlen;
} lcs_opts_t;

static bool cword(const uint8_t *a, size_t n, const char *word)
{
    const uint8_t *z = memchr(a, 0, n);   /* compared as a C string, as 7.0.15 */
    return arg_is(a, z ? (size_t)(z - a) : n, word);
}

static bool parse_opts(cmd_ctx_t *ctx, lcs_opts_t *o)
{
    memset(o, 0, sizeof *o);
    for (int j = 3; j < ctx->argc; j++) {
        const uint8_t *a = ctx->argv[j];
        size_t n = ctx->argvlen[j];
        if (cword(a, n, "idx")) o->idx = true;
        else if (cword(a, n, "len")) o->len = true;
        else if (cword(a, n, "withmatchlen")) o->withmatchlen = true;
        else if (cword(a, n, "minmatchlen") && j + 1 < ctx->argc) {
            if (!arg_ll_at(ctx, j + 1, &o->minmatchlen)) return false;
            if (o->minmatchlen < 0) o->minmatchlen = 0;
            j++;
        } else {
            resp_add_error(ctx->reply, "ERR syntax error");
            return false;
        }
    }
    if (o->len && o->idx) {
        resp_add_error(ctx->reply, "ERR If you want both the length and indexes, please just use IDX.");
        return false;
    }
    return true;
}

/* One reported match: [a_start, a_end] of the first string, [b_start,
 * b_end] of the second. */
static void reply_range(cmd_ctx_t *ctx, const lcs_opts_t *o, uint32_t as, uint32_t ae, uint32_t bs,
                        uint32_t be)
{
    resp_add_array(ctx->reply, 2 + o->withmatchlen);
    resp_add_array(ctx->reply, 2);
    resp_add_int(ctx->reply, as);
    resp_add_int(ctx->reply, ae);
    resp_add_array(ctx->reply, 2);
    resp_add_int(ctx->reply, bs);
    resp_add_int(ctx->reply, be);
    if (o->withmatchlen) resp_add_int(ctx->reply, (long long)ae - as + 1);
}

/* Walks the table back from (alen, blen), filling `result` (the LCS) and
 * replying the ranges when IDX was asked. Returns the number of ranges. */
static long long lcs_walk(cmd_ctx_t *ctx, const lcs_opts_t *o, const uint32_t *t, const uint8_t *a,
                          uint32_t alen, const uint8_t *b, uint32_t blen, uint8_t *result)
{
#define T(i, j) t[(size_t)(j) + (size_t)(i) * ((size_t)blen + 1)]
    uint32_t i = alen, j = blen, k = T(alen, blen);
    uint32_t as = alen, ae = 0, bs = 0, be = 0;    /* as == alen: no range open */
    long long ranges = 0;
    while (i > 0 && j > 0) {
        bool emit = false;
        if (a[i - 1] == b[j - 1]) {
            result[k - 1] = a[i - 1];
            if (as == alen) {
                as = ae = i - 1;
                bs = be = j - 1;
            } else if (as == i && bs == j) {
                as--;              /* the open range extends backwards */
                bs--;
            } else {
                /* A match away from the open range closes it; 7.0.15 then
                 * starts no range at this match, so neither do we. */
                emit = true;
            }
            if (as == 0 || bs == 0) emit = true;
            k--;
            i--;
            j--;
        } else {
            if (T(i - 1, j) > T(i, j - 1)) i--;
            else j--;
            if (as != alen) emit = true;
        }
        if (emit) {
            uint32_t mlen = ae - as + 1;
            if (o->idx && (o->minmatchlen == 0 || mlen >= o->minmatchlen)) {
                reply_range(ctx, o, as, ae, bs, be);
                ranges++;
            }
            as = alen;
        }
    }
    return ranges;
#undef T
}

void cmd_lcs(cmd_ctx_t *ctx)
{
    ks_entry_t *ea = ks_lookup_read(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    ks_entry_t *eb = ks_lookup_read(ctx->ks, ctx->argv[2], ctx->argvlen[2], ctx->now_ms);
    if ((ea && ks_entry_type(ea) != KS_TYPE_STRING) || (eb && ks_entry_type(eb) != KS_TYPE_STRING)) {
        resp_add_error(ctx->reply, "ERR The specified keys must contain string values");
        return;
    }
    size_t na = 0, nb = 0;
    const uint8_t *a = ea ? ks_entry_str(ea, &na) : (const uint8_t *)"";
    const uint8_t *b = eb ? ks_entry_str(eb, &nb) : (const uint8_t *)"";
    lcs_opts_t o;
    if (!parse_opts(ctx, &o)) return;
    if (na >= UINT32_MAX - 1 || nb >= UINT32_MAX - 1) {
        resp_add_error(ctx->reply, "ERR String too long for LCS");
        return;
    }
    uint32_t alen = (uint32_t)na, blen = (uint32_t)nb;
    unsigned long long cells = (unsigned long long)(alen + 1ULL) * (blen + 1ULL);
    if (cells * sizeof(uint32_t) > (unsigned long long)config_proto_max_bulk_len()) {
        resp_add_error(ctx->reply, "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
        return;
    }
    uint32_t *t = malloc(cells * sizeof *t);
    if (!t) {
        resp_add_error(ctx->reply, "ERR Insufficient memory, failed allocating transient memory for LCS");
        return;
    }
    size_t w = (size_t)blen + 1;
    for (uint32_t i = 0; i <= alen; i++) {
        for (uint32_t j = 0; j <= blen; j++) {
            uint32_t v = 0;
            if (i && j) {
                if (a[i - 1] == b[j - 1]) v = t[(i - 1) * w + j - 1] + 1;
                else v = t[(i - 1) * w + j] > t[i * w + j - 1] ? t[(i - 1) * w + j] : t[i * w + j - 1];
            }
            t[i * w + j] = v;
        }
    }
    uint32_t total = t[(size_t)alen * w + blen];
    uint8_t *result = malloc(total ? total : 1);
    if (!result) abort();
    if (o.idx) {
        resp_add_map(ctx->reply, 2);
        resp_add_bulk_str(ctx->reply, "matches");
        size_t h = resp_add_deferred_len(ctx->reply);
        long long ranges = lcs_walk(ctx, &o, t, a, alen, b, blen, result);
        resp_set_deferred_array(ctx->reply, h, ranges);
        resp_add_bulk_str(ctx->reply, "len");
        resp_add_int(ctx->reply, total);
    } else if (o.len) {
        resp_add_int(ctx->reply, total);
    } else {
        lcs_walk(ctx, &o, t, a, alen, b, blen, result);
        resp_add_bulk(ctx->reply, result, total);
    }
    free(result);
    free(t);
}

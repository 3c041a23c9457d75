/* cmd_zset_scan.c - ZSCAN and ZRANDMEMBER.
 *
 * ZSCAN walks a listpack set whole in one call (cursor 0), and a skip-list
 * set through its sdict's reverse-binary cursor, replying scores as text
 * (%.17g, as 7.0.15's long double form of a double). ZRANDMEMBER picks by
 * rank: distinct ranks by Floyd's sampling for a positive count, any ranks
 * for a negative one; the argument checks and reply shapes are 7.0.15's.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/cmd_zset.h"
#include "actors/commands/coll_scan.h"
#include "actors/commands/commands.h"
#include "proto/listpack.h"

typedef struct scan_out { resp_buf_t *out; const coll_scan_t *s; long long n, seen; } scan_out_t;

static void scan_pair(scan_out_t *o, const uint8_t *m, size_t ml, const char *score, size_t sl)
{
    o->seen++;
    if (!coll_scan_match(o->s, m, ml)) return;
    resp_add_bulk(o->out, m, ml);
    resp_add_bulk(o->out, score, sl);
    o->n += 2;
}

static void scan_entry(void *arg, const sd_entry_t *e)
{
    char buf[64];
    int l = snprintf(buf, sizeof buf, "%.17g", zset_entry_score(e));
    scan_pair(arg, e->key, e->klen, buf, (size_t)l);
}

void cmd_zscan(cmd_ctx_t *ctx)
{
    coll_scan_t s;
    if (!coll_scan_cursor(ctx, &s)) return;
    bool bad;
    zset_t *z = zcmd_lookup_read(ctx, 1, &bad);
    if (bad) return;
    if (!z) { coll_scan_reply_empty(ctx); return; }
    if (!coll_scan_options(ctx, &s)) return;
    resp_buf_t out;
    resp_buf_init(&out, ctx->reply->proto);
    scan_out_t o = { &out, &s, 0, 0 };
    unsigned long long cursor = 0;
    if (z->enc == ZSET_LISTPACK) {
        /* The score as stored: d2string's text, or an integer. */
        for (size_t off = lp_first(z->lp); !lp_at_end(z->lp, off);) {
            uint8_t mb[21], sb[21];
            size_t ml, sl;
            lp_val_t mv = lp_get(z->lp, off);
            off = lp_next(z->lp, off);
            lp_val_t sv = lp_get(z->lp, off);
            off = lp_next(z->lp, off);
            const uint8_t *m = lp_val_bytes(&mv, mb, &ml), *sc = lp_val_bytes(&sv, sb, &sl);
            scan_pair(&o, m, ml, (const char *)sc, sl);
        }
    } else {
        long long maxiter = s.count * 10;
        cursor = s.cursor;
        do cursor = sd_scan(z->d, cursor, scan_entry, &o);
        while (cursor && maxiter-- && o.seen < s.count);
    }
    coll_scan_reply(ctx, cursor, o.n, &out);
    resp_buf_free(&out);
}

static void reply_rank(cmd_ctx_t *ctx, const zset_t *z, size_t rank, bool withscores)
{
    zset_iter_t it;
    const uint8_t *m;
    size_t ml;
    double s;
    zset_iter_init(&it, z, rank, false);
    zset_iter_next(&it, &m, &ml, &s);
    zcmd_reply_pair(ctx, m, ml, s, withscores);
}

static void randmember_count(cmd_ctx_t *ctx, const zset_t *z, long long l, bool withscores)
{
    size_t size = z ? zset_len(z) : 0;
    if (!z || l == 0) { resp_add_array(ctx->reply, 0); return; }
    bool mult = ctx->reply->proto == 2 && withscores;
    if (l < 0) {
        unsigned long long n = (unsigned long long)(-l);
        resp_add_array(ctx->reply, (long long)n * (mult ? 2 : 1));
        for (unsigned long long i = 0; i < n; i++) reply_rank(ctx, z, (size_t)(sd_rand() % size), withscores);
        return;
    }
    size_t n = (unsigned long long)l >= size ? size : (size_t)l;
    resp_add_array(ctx->reply, (long long)n * (mult ? 2 : 1));
    if (n == size) {
        zset_iter_t it;
        const uint8_t *m;
        size_t ml;
        double s;
        /* The whole set, highest first, as 7.0.15's zuiNext walks it. */
        zset_iter_init(&it, z, size - 1, true);
        while (zset_iter_next(&it, &m, &ml, &s)) zcmd_reply_pair(ctx, m, ml, s, withscores);
        return;
    }
    /* Floyd: for j in size-n .. size-1, pick t in [0, j]; take t unless taken, else j. */
    sdict_t *taken = sd_new(n);
    for (size_t j = size - n; j < size; j++) {
        size_t t = (size_t)(sd_rand() % (j + 1));
        bool added;
        sd_add(taken, (const uint8_t *)&t, sizeof t, &added);
        if (!added) { t = j; sd_add(taken, (const uint8_t *)&t, sizeof t, NULL); }
        reply_rank(ctx, z, t, withscores);
    }
    sd_free(taken, NULL);
}

void cmd_zrandmember(cmd_ctx_t *ctx)
{
    long long l = 0;
    bool withscores = false;
    if (ctx->argc >= 3) {
        if (!arg_ll_at(ctx, 2, &l)) return;
        if (l < -LLONG_MAX) {
            resp_add_errorf(ctx->reply, "ERR value is out of range, value must between %lld and %lld", -LLONG_MAX,
                            LLONG_MAX);
            return;
        }
        if (ctx->argc > 4 || (ctx->argc == 4 && !arg_is_at(ctx, 3, "withscores"))) {
            resp_add_error(ctx->reply, "ERR syntax error");
            return;
        }
        withscores = ctx->argc == 4;
        if (withscores && (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2)) {
            resp_add_error(ctx->reply, "ERR value is out of range");
            return;
        }
    }
    bool bad;
    zset_t *z = zcmd_lookup_read(ctx, 1, &bad);
    if (bad) return;
    if (ctx->argc >= 3) { randmember_count(ctx, z, l, withscores); return; }
    if (!z) { resp_add_null(ctx->reply); return; }
    reply_rank(ctx, z, (size_t)(sd_rand() % zset_len(z)), false);
}

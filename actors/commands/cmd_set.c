/* cmd_set.c - the set commands: SADD, SREM, SISMEMBER/SMISMEMBER,
 * SMEMBERS, SCARD, SPOP, SRANDMEMBER, SMOVE, SINTER/SINTERCARD/SINTERSTORE,
 * SUNION/SUNIONSTORE, SDIFF/SDIFFSTORE and SSCAN.
 *
 * Each handler runs on the worker owning its keys (one slot) and replies
 * what redis-server 7.0.15 replies, in its order of checks (t_set.c). SPOP
 * propagates what it removed (SREM, or DEL when it emptied the set), as
 * Redis does, so replicas do not pick their own random members. Must never
 * keep a member pointer across a change to its set.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/coll_scan.h"
#include "actors/commands/commands.h"
#include "actors/types/set.h"
#include "actors/worker/keyspace.h"
#include "runtime/xmalloc.h"

/* The set at argv[i] for reading: NULL when absent (*bad false) or not a
 * set (*bad true, WRONGTYPE replied). */
static set_t *lookup_read_at(cmd_ctx_t *ctx, int i, bool *bad)
{
    ks_entry_t *e = ks_lookup_read(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms);
    *bad = false;
    if (!e) return NULL;
    if (ks_entry_type(e) != KS_TYPE_SET) {
        resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
        *bad = true;
        return NULL;
    }
    return ks_entry_obj(e);
}

/* The same for writing (no hit/miss statistics); *ep gets the entry. */
static set_t *lookup_write_at(cmd_ctx_t *ctx, int i, ks_entry_t **ep, bool *bad)
{
    ks_entry_t *e = ks_lookup(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms);
    *bad = false;
    *ep = e;
    if (!e) return NULL;
    if (ks_entry_type(e) != KS_TYPE_SET) {
        resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
        *bad = true;
        return NULL;
    }
    return ks_entry_obj(e);
}

/* After a change: the keyspace's memory figure, and the key gone if empty. */
static void written(cmd_ctx_t *ctx, ks_entry_t *e, size_t before)
{
    set_t *s = ks_entry_obj(e);
    ks_mem_adjust(ctx->ks, (long long)set_ops.mem_usage(s) - (long long)before);
    if (set_len(s) == 0) ks_delete_entry(ctx->ks, e);
    ctx->dirty = true;
}

void cmd_sadd(cmd_ctx_t *ctx)
{
    ks_entry_t *e;
    bool bad;
    set_t *s = lookup_write_at(ctx, 1, &e, &bad);
    if (bad) return;
    if (!s) {
        s = set_new(ctx->argv[2], ctx->argvlen[2]);
        e = ks_set_object(ctx->ks, ctx->argv[1], ctx->argvlen[1], KS_TYPE_SET, s, KS_NO_EXPIRE, ctx->now_ms);
        s = ks_entry_obj(e);           /* the set lives in the entry now; the shell is gone */
    }
    size_t before = set_ops.mem_usage(s);
    long long added = 0;
    for (int i = 2; i < ctx->argc; i++) added += set_add(s, ctx->argv[i], ctx->argvlen[i]);
    written(ctx, e, before);
    ctx->dirty = added;   /* 7.0.15 counts each member added (none: no change, nothing propagated) */
    resp_add_int(ctx->reply, added);
}

void cmd_srem(cmd_ctx_t *ctx)
{
    ks_entry_t *e;
    bool bad;
    set_t *s = lookup_write_at(ctx, 1, &e, &bad);
    if (bad) return;
    if (!s) { resp_add_int(ctx->reply, 0); return; }
    size_t before = set_ops.mem_usage(s);
    long long removed = 0;
    for (int i = 2; i < ctx->argc && set_len(s) > 0; i++) removed += set_rem(s, ctx->argv[i], ctx->argvlen[i]);
    if (removed) written(ctx, e, before);
    ctx->dirty = removed;   /* 7.0.15 counts each member */
    resp_add_int(ctx->reply, removed);
}

void cmd_smove(cmd_ctx_t *ctx)
{
    ks_entry_t *se, *de;
    bool bad;
    set_t *src = lookup_write_at(ctx, 1, &se, &bad);
    if (bad) return;
    if (!se) { resp_add_int(ctx->reply, 0); return; }
    set_t *dst = lookup_write_at(ctx, 2, &de, &bad);
    if (bad) return;
    const uint8_t *m = ctx->argv[3];
    size_t ml = ctx->argvlen[3];
    if (src == dst) { resp_add_int(ctx->reply, set_has(src, m, ml) ? 1 : 0); return; }
    size_t before = set_ops.mem_usage(src);
    if (!set_rem(src, m, ml)) { resp_add_int(ctx->reply, 0); return; }
    written(ctx, se, before);
    if (!dst) {
        dst = set_new(m, ml);
        de = ks_set_object(ctx->ks, ctx->argv[2], ctx->argvlen[2], KS_TYPE_SET, dst, KS_NO_EXPIRE, ctx->now_ms);
        dst = ks_entry_obj(de);
    }
    before = set_ops.mem_usage(dst);
    set_add(dst, m, ml);
    written(ctx, de, before);
    resp_add_int(ctx->reply, 1);
}

bool cmd_smove_dst_has(struct keyspace *ks, int argc, const uint8_t **argv, const size_t *argvlen, long long now_ms)
{
    if (argc != 4 || !ks_exists_noexpire(ks, argv[2], argvlen[2], now_ms)) return false;
    ks_entry_t *e = ks_peek(ks, argv[2], argvlen[2]);
    return e && ks_entry_type(e) == KS_TYPE_SET && set_has(ks_entry_obj(e), argv[3], argvlen[3]);
}

void cmd_sismember(cmd_ctx_t *ctx)
{
    bool bad;
    set_t *s = lookup_read_at(ctx, 1, &bad);
    if (!bad) resp_add_int(ctx->reply, s && set_has(s, ctx->argv[2], ctx->argvlen[2]) ? 1 : 0);
}

void cmd_smismember(cmd_ctx_t *ctx)
{
    bool bad;
    set_t *s = lookup_read_at(ctx, 1, &bad);
    if (bad) return;
    resp_add_array(ctx->reply, ctx->argc - 2);
    for (int i = 2; i < ctx->argc; i++) resp_add_int(ctx->reply, s && set_has(s, ctx->argv[i], ctx->argvlen[i]) ? 1 : 0);
}

void cmd_scard(cmd_ctx_t *ctx)
{
    bool bad;
    set_t *s = lookup_read_at(ctx, 1, &bad);
    if (!bad) resp_add_int(ctx->reply, s ? (long long)set_len(s) : 0);
}

static void reply_members(cmd_ctx_t *ctx, const set_t *s)
{
    resp_add_set(ctx->reply, (long long)set_len(s));
    set_iter_t it;
    set_iter_init(&it, s);
    const uint8_t *m;
    size_t ml;
    while (set_iter_next(&it, &m, &ml)) resp_add_bulk(ctx->reply, m, ml);
}

/* ---- SPOP, SRANDMEMBER ---- */

/* The effects SPOP hands to propagation: kept per thread until the next SPOP. */
static _Thread_local resp_buf_t prop_buf;
static _Thread_local bool prop_buf_ready;
static _Thread_local uint8_t *popped;        /* single SPOP's member, kept for its SREM */
static _Thread_local size_t popped_cap;

static void prop_reset(void)
{
    if (!prop_buf_ready) { resp_buf_init(&prop_buf, 2); prop_buf_ready = true; }
    resp_buf_reset(&prop_buf);
}

static void prop_add(cmd_ctx_t *ctx, const char *cmd, const uint8_t *m, size_t ml)
{
    resp_add_array(&prop_buf, m ? 3 : 2);
    resp_add_bulk(&prop_buf, cmd, strlen(cmd));
    resp_add_bulk(&prop_buf, ctx->argv[1], ctx->argvlen[1]);
    if (m) resp_add_bulk(&prop_buf, m, ml);
    ctx->prop_cmds = &prop_buf;
    ctx->prop_ncmds++;
}

/* Rebuilds s from its members, as 7.0.15 does after a large SPOP (the new
 * set may be an intset again). */
static set_t *rebuilt(const set_t *s)
{
    set_t *n = NULL;
    set_iter_t it;
    set_iter_init(&it, s);
    const uint8_t *m;
    size_t ml;
    while (set_iter_next(&it, &m, &ml)) {
        if (!n) n = set_new(m, ml);
        set_add(n, m, ml);
    }
    return n;
}

static void spop_count(cmd_ctx_t *ctx)
{
    long long l;
    /* one text for "not a number" and "negative", as 7.0.15 */
    if (!arg_ll(ctx->argv[2], ctx->argvlen[2], &l) || l < 0) {
        resp_add_error(ctx->reply, "ERR value is out of range, must be positive");
        return;
    }
    ks_entry_t *e;
    bool bad;
    set_t *s = lookup_write_at(ctx, 1, &e, &bad);
    if (bad) return;
    if (!s || l == 0) { resp_add_set(ctx->reply, 0); return; }
    size_t size = set_len(s), count = (unsigned long long)l < size ? (size_t)l : size;
    prop_reset();
    if (count == size) {            /* the whole set: reply it, delete the key, propagate DEL */
        reply_members(ctx, s);
        ks_delete_entry(ctx->ks, e);
        ctx->dirty = true;
        prop_add(ctx, "DEL", NULL, 0);
        return;
    }
    size_t before = set_ops.mem_usage(s);
    resp_add_set(ctx->reply, (long long)count);
    for (size_t i = 0; i < count; i++) {
        uint8_t buf[21];
        size_t ml;
        const uint8_t *m = set_random(s, buf, &ml);
        resp_add_bulk(ctx->reply, m, ml);
        prop_add(ctx, "SREM", m, ml);
        /* m may point into the set: it was copied into the reply and the
         * effect above before the removal */
        uint8_t *copy = xmalloc(ml ? ml : 1);
        memcpy(copy, m, ml);
        set_rem(s, copy, ml);
        free(copy);
    }
    if ((size - count) * 5 <= count) {
        set_t *n = rebuilt(s);
        e = ks_set_object(ctx->ks, ctx->argv[1], ctx->argvlen[1], KS_TYPE_SET, n, ks_entry_expire(ctx->ks, e), ctx->now_ms);
        ctx->dirty = true;
        return;
    }
    written(ctx, e, before);
}

void cmd_spop(cmd_ctx_t *ctx)
{
    if (ctx->argc == 3) { spop_count(ctx); return; }
    if (ctx->argc > 3) { resp_add_error(ctx->reply, "ERR syntax error"); return; }
    ks_entry_t *e;
    bool bad;
    set_t *s = lookup_write_at(ctx, 1, &e, &bad);
    if (bad) return;
    if (!s) { resp_add_null(ctx->reply); return; }
    size_t before = set_ops.mem_usage(s);
    uint8_t buf[21];
    size_t ml;
    const uint8_t *m = set_random(s, buf, &ml);
    if (ml + 1 > popped_cap) { popped_cap = ml + 1; popped = xrealloc(popped, popped_cap); }
    memcpy(popped, m, ml);
    resp_add_bulk(ctx->reply, popped, ml);
    set_rem(s, popped, ml);
    written(ctx, e, before);
    ctx->prop_argc = 3;
    ctx->prop_argv[0] = (const uint8_t *)"SREM";
    ctx->prop_argvlen[0] = 4;
    ctx->prop_argv[1] = ctx->argv[1];
    ctx->prop_argvlen[1] = ctx->argvlen[1];
    ctx->prop_argv[2] = popped;
    ctx->prop_argvlen[2] = ml;
}

static void srandmember_count(cmd_ctx_t *ctx)
{
    long long l;
    if (!arg_ll_at(ctx, 2, &l)) return;
    if (l < -LLONG_MAX) {
        resp_add_errorf(ctx->reply, "ERR value is out of range, value must between %lld and %lld", -LLONG_MAX, LLONG_MAX);
        return;
    }
    bool bad;
    set_t *s = lookup_read_at(ctx, 1, &bad);
    if (bad) return;
    if (!s || l == 0) { resp_add_array(ctx->reply, 0); return; }
    size_t size = set_len(s);
    unsigned long long count = l < 0 ? (unsigned long long)-l : (unsigned long long)l;
    uint8_t buf[21];
    size_t ml;
    const uint8_t *m;
    if (l < 0 || count == 1) {
        resp_add_array(ctx->reply, (long long)count);
        while (count--) {
            m = set_random(s, buf, &ml);
            resp_add_bulk(ctx->reply, m, ml);
        }
        return;
    }
    set_iter_t it;
    set_iter_init(&it, s);
    if (count >= size) {
        resp_add_array(ctx->reply, (long long)size);
        while (set_iter_next(&it, &m, &ml)) resp_add_bulk(ctx->reply, m, ml);
        return;
    }
    /* count distinct members: choose positions (Floyd), then one walk */
    uint8_t *chosen = xcalloc(size, 1);
    for (size_t j = size - count; j < size; j++) {
        size_t t = (size_t)(sd_rand() % (j + 1));
        chosen[chosen[t] ? j : t] = 1;
    }
    resp_add_array(ctx->reply, (long long)count);
    for (size_t i = 0; set_iter_next(&it, &m, &ml); i++)
        if (chosen[i]) resp_add_bulk(ctx->reply, m, ml);
    free(chosen);
}

void cmd_srandmember(cmd_ctx_t *ctx)
{
    if (ctx->argc == 3) { srandmember_count(ctx); return; }
    if (ctx->argc > 3) { resp_add_error(ctx->reply, "ERR syntax error"); return; }
    bool bad;
    set_t *s = lookup_read_at(ctx, 1, &bad);
    if (bad) return;
    if (!s) { resp_add_null(ctx->reply); return; }
    uint8_t buf[21];
    size_t ml;
    const uint8_t *m = set_random(s, buf, &ml);
    resp_add_bulk(ctx->reply, m, ml);
}

/* ---- SSCAN ---- */

typedef struct scan_out { resp_buf_t *out; const coll_scan_t *s; long long n, seen; } scan_out_t;

static void scan_member(scan_out_t *o, const uint8_t *m, size_t ml)
{
    o->seen++;
    if (!coll_scan_match(o->s, m, ml)) return;
    resp_add_bulk(o->out, m, ml);
    o->n++;
}

static void scan_entry(void *arg, const sd_entry_t *e) { scan_member(arg, e->key, e->klen); }

void cmd_sscan(cmd_ctx_t *ctx)
{
    coll_scan_t sc;
    if (!coll_scan_cursor(ctx, &sc)) return;
    bool bad;
    set_t *s = lookup_read_at(ctx, 1, &bad);
    if (bad) return;
    if (!s) { coll_scan_reply_empty(ctx); return; }
    if (!coll_scan_options(ctx, &sc)) return;
    resp_buf_t out;
    resp_buf_init(&out, ctx->reply->proto);
    scan_out_t o = { &out, &sc, 0, 0 };
    unsigned long long cursor = 0;
    if (set_enc(s) == SET_INTSET) {
        set_iter_t it;
        const uint8_t *m;
        size_t ml;
        set_iter_init(&it, s);
        while (set_iter_next(&it, &m, &ml)) scan_member(&o, m, ml);
    } else {
        long long maxiter = sc.count * 10;
        cursor = sc.cursor;
        do cursor = sd_scan(set_sd(s), cursor, scan_entry, &o);
        while (cursor && maxiter-- && o.seen < sc.count);
    }
    coll_scan_reply(ctx, cursor, o.n, &out);
    resp_buf_free(&out);
}

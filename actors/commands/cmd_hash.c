/* cmd_hash.c - the hash commands: HSET/HSETNX/HMSET, HGET/HMGET/HGETALL/
 * HKEYS/HVALS, HDEL, HEXISTS, HLEN, HSTRLEN, HINCRBY/HINCRBYFLOAT,
 * HRANDFIELD and HSCAN.
 *
 * Each handler runs on the worker owning its key and replies what
 * redis-server 7.0.15 replies, in its order of checks (t_hash.c): argument
 * errors that need no key first where Redis has them first, then WRONGTYPE,
 * then value errors. HINCRBYFLOAT propagates as HSET with the result, as
 * Redis does. Must never keep a pointer into a hash across a change to it.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/coll_scan.h"
#include "actors/commands/commands.h"
#include "actors/types/hash.h"
#include "actors/worker/keyspace.h"

#define MAX_LD_CHARS (5 * 1024)       /* Redis's MAX_LONG_DOUBLE_CHARS */

/* The hash at argv[1] for reading: NULL when absent (*bad false) or not a
 * hash (*bad true, WRONGTYPE replied). */
static hash_t *lookup_read(cmd_ctx_t *ctx, bool *bad)
{
    ks_entry_t *e = ks_lookup_read(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    *bad = false;
    if (!e) return NULL;
    if (ks_entry_type(e) != KS_TYPE_HASH) {
        resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
        *bad = true;
        return NULL;
    }
    return ks_entry_obj(e);
}

/* The hash at argv[1] for writing, created empty when absent; NULL after
 * replying WRONGTYPE. *mem gets its size before the change. */
static hash_t *lookup_write_create(cmd_ctx_t *ctx, ks_entry_t **ep, size_t *mem)
{
    ks_entry_t *e = ks_lookup(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    if (e && ks_entry_type(e) != KS_TYPE_HASH) {
        resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
        return NULL;
    }
    if (!e) {
        hash_t *h = hash_new();
        e = ks_set_object(ctx->ks, ctx->argv[1], ctx->argvlen[1], KS_TYPE_HASH, h, KS_NO_EXPIRE, ctx->now_ms);
    }
    *ep = e;
    *mem = hash_ops.mem_usage(ks_entry_obj(e));
    return ks_entry_obj(e);
}

/* After a change that took effect: the memory figure, the key gone if the
 * hash emptied, and the call marked for propagation. */
static void written(cmd_ctx_t *ctx, ks_entry_t *e, size_t before)
{
    hash_t *h = ks_entry_obj(e);
    cmd_coll_written(ctx, 1, (long long)hash_ops.mem_usage(h) - (long long)before, hash_len(h) == 0);
    ctx->dirty = true;
}

/* A write refused after the hash was looked up (maybe created): replies
 * `err` and tidies up, dropping a key it created empty; nothing propagates. */
static void written_error(cmd_ctx_t *ctx, ks_entry_t *e, size_t before, const char *err)
{
    hash_t *h = ks_entry_obj(e);
    resp_add_error(ctx->reply, err);
    cmd_coll_written(ctx, 1, (long long)hash_ops.mem_usage(h) - (long long)before, hash_len(h) == 0);
}

static void hset_generic(cmd_ctx_t *ctx, bool is_hset)
{
    if (ctx->argc % 2 == 1) {
        resp_add_errorf(ctx->reply, "ERR wrong number of arguments for '%s' command", is_hset ? "hset" : "hmset");
        return;
    }
    ks_entry_t *e;
    size_t before;
    hash_t *h = lookup_write_create(ctx, &e, &before);
    if (!h) return;
    hash_convert_for_lengths(h, ctx->argv + 2, ctx->argvlen + 2, ctx->argc - 2);
    long long created = 0;
    for (int i = 2; i < ctx->argc; i += 2)
        created += hash_set(h, ctx->argv[i], ctx->argvlen[i], ctx->argv[i + 1], ctx->argvlen[i + 1]);
    written(ctx, e, before);
    ctx->dirty = (ctx->argc - 2) / 2;   /* 7.0.15 counts each field set */
    if (is_hset) resp_add_int(ctx->reply, created);
    else resp_add_simple(ctx->reply, "OK");
}

void cmd_hset(cmd_ctx_t *ctx) { hset_generic(ctx, true); }
void cmd_hmset(cmd_ctx_t *ctx) { hset_generic(ctx, false); }

void cmd_hsetnx(cmd_ctx_t *ctx)
{
    ks_entry_t *e;
    size_t before;
    hash_t *h = lookup_write_create(ctx, &e, &before);
    if (!h) return;
    uint8_t buf[21];
    size_t vl;
    if (hash_get(h, ctx->argv[2], ctx->argvlen[2], buf, &vl)) {
        resp_add_int(ctx->reply, 0);
        return;
    }
    hash_convert_for_lengths(h, ctx->argv + 2, ctx->argvlen + 2, 2);
    hash_set(h, ctx->argv[2], ctx->argvlen[2], ctx->argv[3], ctx->argvlen[3]);
    written(ctx, e, before);
    resp_add_int(ctx->reply, 1);
}

static void reply_field(cmd_ctx_t *ctx, const hash_t *h, const uint8_t *f, size_t fl)
{
    uint8_t buf[21];
    size_t vl;
    const uint8_t *v = h ? hash_get(h, f, fl, buf, &vl) : NULL;
    if (v) resp_add_bulk(ctx->reply, v, vl);
    else resp_add_null(ctx->reply);
}

void cmd_hget(cmd_ctx_t *ctx)
{
    bool bad;
    hash_t *h = lookup_read(ctx, &bad);
    if (!bad) reply_field(ctx, h, ctx->argv[2], ctx->argvlen[2]);
}

void cmd_hmget(cmd_ctx_t *ctx)
{
    bool bad;
    hash_t *h = lookup_read(ctx, &bad);
    if (bad) return;
    resp_add_array(ctx->reply, ctx->argc - 2);
    for (int i = 2; i < ctx->argc; i++) reply_field(ctx, h, ctx->argv[i], ctx->argvlen[i]);
}

enum { WANT_FIELDS = 1, WANT_VALUES = 2 };

static void getall_generic(cmd_ctx_t *ctx, int want)
{
    bool bad;
    hash_t *h = lookup_read(ctx, &bad);
    if (bad) return;
    long long n = h ? (long long)hash_len(h) : 0;
    if (want == (WANT_FIELDS | WANT_VALUES)) resp_add_map(ctx->reply, n);
    else resp_add_array(ctx->reply, n);
    if (!h) return;
    hash_iter_t it;
    hash_iter_init(&it, h);
    const uint8_t *f, *v;
    size_t fl, vl;
    while (hash_iter_next(&it, &f, &fl, &v, &vl)) {
        if (want & WANT_FIELDS) resp_add_bulk(ctx->reply, f, fl);
        if (want & WANT_VALUES) resp_add_bulk(ctx->reply, v, vl);
    }
}

void cmd_hgetall(cmd_ctx_t *ctx) { getall_generic(ctx, WANT_FIELDS | WANT_VALUES); }
void cmd_hkeys(cmd_ctx_t *ctx) { getall_generic(ctx, WANT_FIELDS); }
void cmd_hvals(cmd_ctx_t *ctx) { getall_generic(ctx, WANT_VALUES); }

void cmd_hdel(cmd_ctx_t *ctx)
{
    ks_entry_t *e = ks_lookup(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    if (!e) { resp_add_int(ctx->reply, 0); return; }
    if (ks_entry_type(e) != KS_TYPE_HASH) { resp_add_error(ctx->reply, KS_WRONGTYPE_ERR); return; }
    hash_t *h = ks_entry_obj(e);
    size_t before = hash_ops.mem_usage(h);
    long long deleted = 0;
    for (int i = 2; i < ctx->argc && hash_len(h) > 0; i++)
        deleted += hash_del(h, ctx->argv[i], ctx->argvlen[i]);
    if (deleted) written(ctx, e, before);
    ctx->dirty = deleted;   /* 7.0.15 counts each field */
    resp_add_int(ctx->reply, deleted);
}

void cmd_hexists(cmd_ctx_t *ctx)
{
    bool bad;
    hash_t *h = lookup_read(ctx, &bad);
    if (bad) return;
    uint8_t buf[21];
    size_t vl;
    resp_add_int(ctx->reply, h && hash_get(h, ctx->argv[2], ctx->argvlen[2], buf, &vl) ? 1 : 0);
}

void cmd_hlen(cmd_ctx_t *ctx)
{
    bool bad;
    hash_t *h = lookup_read(ctx, &bad);
    if (!bad) resp_add_int(ctx->reply, h ? (long long)hash_len(h) : 0);
}

void cmd_hstrlen(cmd_ctx_t *ctx)
{
    bool bad;
    hash_t *h = lookup_read(ctx, &bad);
    if (bad) return;
    uint8_t buf[21];
    size_t vl = 0;
    if (!h || !hash_get(h, ctx->argv[2], ctx->argvlen[2], buf, &vl)) vl = 0;
    resp_add_int(ctx->reply, (long long)vl);
}

void cmd_hincrby(cmd_ctx_t *ctx)
{
    long long incr, value = 0;
    if (!arg_ll_at(ctx, 3, &incr)) return;
    ks_entry_t *e;
    size_t before;
    hash_t *h = lookup_write_create(ctx, &e, &before);
    if (!h) return;
    uint8_t buf[21];
    size_t vl;
    const uint8_t *v = hash_get(h, ctx->argv[2], ctx->argvlen[2], buf, &vl);
    if (v && !arg_ll(v, vl, &value)) {
        written_error(ctx, e, before, "ERR hash value is not an integer");
        return;
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) || (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        written_error(ctx, e, before, "ERR increment or decrement would overflow");
        return;
    }
    value += incr;
    lp_val_t x = lp_int(value);
    v = lp_val_bytes(&x, buf, &vl);
    hash_set(h, ctx->argv[2], ctx->argvlen[2], v, vl);
    written(ctx, e, before);
    resp_add_int(ctx->reply, value);
}

void cmd_hincrbyfloat(cmd_ctx_t *ctx)
{
    long double value = 0, incr;
    if (!arg_parse_long_double(ctx->argv[3], ctx->argvlen[3], &incr)) {
        resp_add_error(ctx->reply, "ERR value is not a valid float");
        return;
    }
    if (isnan(incr) || isinf(incr)) {
        resp_add_error(ctx->reply, "ERR value is NaN or Infinity");
        return;
    }
    ks_entry_t *e;
    size_t before;
    hash_t *h = lookup_write_create(ctx, &e, &before);
    if (!h) return;
    uint8_t nb[21];
    size_t vl;
    const uint8_t *v = hash_get(h, ctx->argv[2], ctx->argvlen[2], nb, &vl);
    if (v && !arg_parse_long_double(v, vl, &value)) {
        written_error(ctx, e, before, "ERR hash value is not a float");
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        written_error(ctx, e, before, "ERR increment would produce NaN or Infinity");
        return;
    }
    /* Kept until the effect is propagated, right after this handler. */
    static _Thread_local char buf[MAX_LD_CHARS];
    size_t n = arg_format_long_double(buf, sizeof buf, value);
    hash_set(h, ctx->argv[2], ctx->argvlen[2], (const uint8_t *)buf, n);
    written(ctx, e, before);
    resp_add_bulk(ctx->reply, buf, n);
    /* The stream carries the result, never the increment: replicas must not
     * round differently. */
    ctx->prop_argc = 4;
    ctx->prop_argv[0] = (const uint8_t *)"HSET";
    ctx->prop_argvlen[0] = 4;
    for (int i = 1; i < 3; i++) { ctx->prop_argv[i] = ctx->argv[i]; ctx->prop_argvlen[i] = ctx->argvlen[i]; }
    ctx->prop_argv[3] = (const uint8_t *)buf;
    ctx->prop_argvlen[3] = n;
}

/* ---- HRANDFIELD ---- */

static void reply_pair(cmd_ctx_t *ctx, bool withvalues, const uint8_t *f, size_t fl, const uint8_t *v, size_t vl)
{
    if (withvalues && ctx->reply->proto > 2) resp_add_array(ctx->reply, 2);
    resp_add_bulk(ctx->reply, f, fl);
    if (withvalues) resp_add_bulk(ctx->reply, v, vl);
}

/* The i-th pair in iteration order. */
static void pair_at(const hash_t *h, size_t i, hash_iter_t *it, const uint8_t **f, size_t *fl,
                    const uint8_t **v, size_t *vl)
{
    hash_iter_init(it, h);
    do hash_iter_next(it, f, fl, v, vl); while (i--);
}

static void random_pair(const hash_t *h, hash_iter_t *it, const uint8_t **f, size_t *fl, const uint8_t **v,
                        size_t *vl)
{
    if (hash_enc(h) == HASH_TABLE) {
        sd_entry_t *e = sd_random(hash_sd(h));
        const hash_val_t *hv = e->val;
        *f = e->key; *fl = e->klen; *v = hv->data; *vl = hv->len;
        return;
    }
    pair_at(h, sd_rand() % hash_len(h), it, f, fl, v, vl);
}

static void hrandfield_count(cmd_ctx_t *ctx, long long l, bool withvalues)
{
    bool bad;
    hash_t *h = lookup_read(ctx, &bad);
    if (bad) return;
    if (!h || l == 0) { resp_add_array(ctx->reply, 0); return; }
    size_t size = hash_len(h);
    unsigned long long count = l < 0 ? (unsigned long long)-l : (unsigned long long)l;
    bool uniq = l > 0 && count != 1;
    hash_iter_t it;
    const uint8_t *f, *v;
    size_t fl, vl;
    if (!uniq) {
        resp_add_array(ctx->reply, (long long)(withvalues && ctx->reply->proto == 2 ? count * 2 : count));
        while (count--) {
            random_pair(h, &it, &f, &fl, &v, &vl);
            reply_pair(ctx, withvalues, f, fl, v, vl);
        }
        return;
    }
    size_t n = count < size ? (size_t)count : size;
    resp_add_array(ctx->reply, (long long)(withvalues && ctx->reply->proto == 2 ? n * 2 : n));
    if (count >= size) {
        hash_iter_init(&it, h);
        while (hash_iter_next(&it, &f, &fl, &v, &vl)) reply_pair(ctx, withvalues, f, fl, v, vl);
        return;
    }
    /* Distinct picks: choose n of the size positions (Floyd's algorithm),
     * then walk the hash once and answer the chosen ones. */
    uint8_t *chosen = calloc(size, 1);
    if (!chosen) abort();
    for (size_t j = size - n; j < size; j++) {
        size_t t = (size_t)(sd_rand() % (j + 1));
        chosen[chosen[t] ? j : t] = 1;
    }
    hash_iter_init(&it, h);
    for (size_t i = 0; hash_iter_next(&it, &f, &fl, &v, &vl); i++)
        if (chosen[i]) reply_pair(ctx, withvalues, f, fl, v, vl);
    free(chosen);
}

void cmd_hrandfield(cmd_ctx_t *ctx)
{
    if (ctx->argc >= 3) {
        long long l;
        if (!arg_ll_at(ctx, 2, &l)) return;
        if (l < -LLONG_MAX) {
            resp_add_errorf(ctx->reply, "ERR value is out of range, value must between %lld and %lld", -LLONG_MAX,
                            LLONG_MAX);
            return;
        }
        if (ctx->argc > 4 || (ctx->argc == 4 && !arg_is_at(ctx, 3, "withvalues"))) {
            resp_add_error(ctx->reply, "ERR syntax error");
            return;
        }
        if (ctx->argc == 4 && (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2)) {
            resp_add_error(ctx->reply, "ERR value is out of range");
            return;
        }
        hrandfield_count(ctx, l, ctx->argc == 4);
        return;
    }
    bool bad;
    hash_t *h = lookup_read(ctx, &bad);
    if (bad) return;
    if (!h) { resp_add_null(ctx->reply); return; }
    hash_iter_t it;
    const uint8_t *f, *v;
    size_t fl, vl;
    random_pair(h, &it, &f, &fl, &v, &vl);
    resp_add_bulk(ctx->reply, f, fl);
}

/* ---- HSCAN ---- */

typedef struct scan_out { resp_buf_t *out; const coll_scan_t *s; long long n, seen; } scan_out_t;

static void scan_pair(scan_out_t *o, const uint8_t *f, size_t fl, const uint8_t *v, size_t vl)
{
    o->seen++;
    if (!coll_scan_match(o->s, f, fl)) return;
    resp_add_bulk(o->out, f, fl);
    resp_add_bulk(o->out, v, vl);
    o->n += 2;
}

static void scan_entry(void *arg, const sd_entry_t *e)
{
    const hash_val_t *v = e->val;
    scan_pair(arg, e->key, e->klen, v->data, v->len);
}

void cmd_hscan(cmd_ctx_t *ctx)
{
    coll_scan_t s;
    if (!coll_scan_cursor(ctx, &s)) return;
    bool bad;
    hash_t *h = lookup_read(ctx, &bad);
    if (bad) return;
    if (!h) { coll_scan_reply_empty(ctx); return; }
    if (!coll_scan_options(ctx, &s)) return;
    /* The cursor comes first but is known last: gather the elements apart. */
    resp_buf_t out;
    resp_buf_init(&out, ctx->reply->proto);
    scan_out_t o = { &out, &s, 0, 0 };
    unsigned long long cursor = 0;
    if (hash_enc(h) == HASH_LISTPACK) {
        hash_iter_t it;
        const uint8_t *f, *v;
        size_t fl, vl;
        hash_iter_init(&it, h);
        while (hash_iter_next(&it, &f, &fl, &v, &vl)) scan_pair(&o, f, fl, v, vl);
    } else {
        long long maxiter = s.count * 10;
        cursor = s.cursor;
        do cursor = sd_scan(hash_sd(h), cursor, scan_entry, &o);
        while (cursor && maxiter-- && o.seen < s.count);
    }
    coll_scan_reply(ctx, cursor, o.n, &out);
    resp_buf_free(&out);
}

/* cmd_stream_util.c - what the stream commands share (cmd_stream.h): lookups,
 * ID parsing with 7.0.15's error text, range replies (with the consumer
 * group bookkeeping of a group read) and the commands a stream write
 * propagates in place of its call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/commands/args.h"
#include "actors/commands/cmd_stream.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/notify.h"

stream_t *xs_get(cmd_ctx_t *ctx, int i, bool read, bool *bad)
{
    ks_entry_t *e = read ? ks_lookup_read(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms)
                         : ks_lookup(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms);
    *bad = false;
    if (!e) return NULL;
    if (ks_entry_type(e) != KS_TYPE_STREAM) {
        resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
        *bad = true;
        return NULL;
    }
    return ks_entry_obj(e);
}

stream_t *xs_get_or_reply(cmd_ctx_t *ctx, int i, bool read, int absent)
{
    bool bad;
    stream_t *s = xs_get(ctx, i, read, &bad);
    if (!s && !bad) {
        if (absent == XS_ABSENT_ZERO) resp_add_int(ctx->reply, 0);
        else resp_add_array(ctx->reply, 0);
    }
    return s;
}

stream_t *xs_create(cmd_ctx_t *ctx, int i)
{
    stream_t *s = stream_new();
    ks_set_object(ctx->ks, ctx->argv[i], ctx->argvlen[i], KS_TYPE_STREAM, &s->obj, KS_NO_EXPIRE, ctx->now_ms);
    ks_mem_adjust(ctx->ks, (long long)stream_mem(s));
    notify_key_event(NOTIFY_CLASS_NEW, "new", ctx->argv[i], ctx->argvlen[i]);
    return s;
}

void xs_mem(cmd_ctx_t *ctx, const stream_t *s, size_t m0)
{
    ks_mem_adjust(ctx->ks, (long long)stream_mem(s) - (long long)m0);
}

void xs_notify(cmd_ctx_t *ctx, const char *event, int keyarg)
{
    notify_key_event(NOTIFY_CLASS_STREAM, event, ctx->argv[keyarg], ctx->argvlen[keyarg]);
}

bool xs_parse_id(cmd_ctx_t *ctx, const uint8_t *a, size_t n, uint64_t missing_seq, bool strict, stream_id_t *id,
                 bool *seq_star)
{
    /* 7.0.15 reads the argument as a C string of at most 127 bytes */
    if (n < 128 && n && strnlen((const char *)a, n) == 1 && (a[0] == '-' || a[0] == '+')) {
        if (!strict) {
            id->ms = id->seq = a[0] == '-' ? 0 : UINT64_MAX;
            if (seq_star) *seq_star = false;
            return true;
        }
    } else if (stream_id_parse(a, n, missing_seq, id, seq_star)) {
        return true;
    }
    resp_add_error(ctx->reply, XERR_INVALID_ID);
    return false;
}

void xs_reply_id(cmd_ctx_t *ctx, const stream_id_t *id)
{
    char buf[48];
    size_t n = stream_id_fmt(id, buf);
    resp_add_bulk(ctx->reply, buf, n);
}

void xs_reply_fields(cmd_ctx_t *ctx, stream_iter_t *it, int64_t nf)
{
    resp_add_array(ctx->reply, nf * 2);
    for (int64_t k = 0; k < nf; k++) {
        const uint8_t *f, *v;
        size_t fl, vl;
        uint8_t fb[21], vb[21];
        stream_iter_field(it, &f, &fl, &v, &vl, fb, vb);
        resp_add_bulk(ctx->reply, f, fl);
        resp_add_bulk(ctx->reply, v, vl);
    }
}

/* One entry by ID (for history reads): false when it is gone. */
static bool reply_one(cmd_ctx_t *ctx, const stream_t *s, const stream_id_t *id)
{
    stream_iter_t it;
    stream_iter_start(&it, s, id, id, false);
    stream_id_t got;
    int64_t nf;
    if (!stream_iter_next(&it, &got, &nf)) return false;
    resp_add_array(ctx->reply, 2);
    xs_reply_id(ctx, &got);
    xs_reply_fields(ctx, &it, nf);
    return true;
}

/* streamReplyWithRangeFromConsumerPEL: the consumer's own pending entries
 * from start on, each delivered once more (a deleted one as ID and null). */
static size_t reply_history(cmd_ctx_t *ctx, const stream_t *s, const stream_id_t *start, size_t count,
                            stream_consumer_t *c)
{
    size_t h = resp_add_deferred_len(ctx->reply), n = 0;
    for (size_t i = stream_pel_lower(&c->pel, start); i < c->pel.n && (!count || n < count); i++) {
        stream_nack_t *nk = c->pel.v[i];
        if (!reply_one(ctx, s, &nk->id)) {
            resp_add_array(ctx->reply, 2);
            xs_reply_id(ctx, &nk->id);
            resp_add_null_array(ctx->reply);
        } else {
            nk->delivery_time = ctx->now_ms;
            nk->delivery_count++;
        }
        n++;
    }
    resp_set_deferred_array(ctx->reply, h, (long long)n);
    return n;
}

/* A group read delivered id: the group's PEL and c's get its nack (taken
 * from another consumer if the group had one), propagated as XCLAIM. */
static void deliver(cmd_ctx_t *ctx, stream_cg_t *g, stream_consumer_t *c, const stream_id_t *id, int keyarg,
                    int grouparg)
{
    stream_nack_t *nk = stream_pel_find(&g->pel, id);
    if (!nk) {
        nk = stream_nack_new(id, c, ctx->now_ms);
        stream_pel_insert(&g->pel, nk);
        stream_pel_insert(&c->pel, nk);
    } else {
        stream_nack_move(nk, c);
        nk->delivery_time = ctx->now_ms;
        nk->delivery_count = 1;
    }
    xs_prop_xclaim(ctx, keyarg, ctx->argv[grouparg], ctx->argvlen[grouparg], g, nk);
}

size_t xs_reply_range(cmd_ctx_t *ctx, stream_t *s, const stream_id_t *start, const stream_id_t *end, size_t count,
                      bool rev, stream_cg_t *g, stream_consumer_t *c, int flags, int keyarg, int grouparg)
{
    if (g && (flags & XS_RANGE_HISTORY)) return reply_history(ctx, s, start, count, c);
    bool noack = flags & XS_RANGE_NOACK, prop_last = false;
    size_t h = resp_add_deferred_len(ctx->reply), n = 0;
    stream_iter_t it;
    stream_iter_start(&it, s, start, end, rev);
    stream_id_t id;
    int64_t nf;
    while (stream_iter_next(&it, &id, &nf)) {
        if (g && stream_id_cmp(&id, &g->last_id) > 0) {
            if (g->entries_read != STREAM_CG_INVALID_READ && !stream_range_has_tombstones(s, &id, NULL))
                g->entries_read++;
            else if (s->entries_added)
                g->entries_read = stream_estimate_distance(s, &id);
            g->last_id = id;
            if (noack) prop_last = true;
        }
        resp_add_array(ctx->reply, 2);
        xs_reply_id(ctx, &id);
        xs_reply_fields(ctx, &it, nf);
        if (g && !noack) deliver(ctx, g, c, &id, keyarg, grouparg);
        n++;
        if (count && n == count) break;
    }
    if (prop_last) xs_prop_setid(ctx, keyarg, ctx->argv[grouparg], ctx->argvlen[grouparg], g);
    resp_set_deferred_array(ctx->reply, h, (long long)n);
    return n;
}

/* ---------------- propagation ---------------- */

static _Thread_local resp_buf_t prop_buf;
static _Thread_local bool prop_ready;

void xs_prop_reset(cmd_ctx_t *ctx)
{
    if (!prop_ready) {
        resp_buf_init(&prop_buf, 2);
        prop_ready = true;
    }
    resp_buf_reset(&prop_buf);
    ctx->prop_cmds = &prop_buf;
    ctx->prop_ncmds = 0;
}

void xs_prop_cmd(cmd_ctx_t *ctx, int argc, const uint8_t *const *argv, const size_t *argvlen)
{
    resp_add_array(&prop_buf, argc);
    for (int i = 0; i < argc; i++) resp_add_bulk(&prop_buf, argv[i], argvlen[i]);
    ctx->prop_cmds = &prop_buf;
    ctx->prop_ncmds++;
}

void xs_prop_call(cmd_ctx_t *ctx, int nrep, const int *rep_idx, const char *const *rep)
{
    resp_add_array(&prop_buf, ctx->argc);
    for (int i = 0; i < ctx->argc; i++) {
        int k = 0;
        while (k < nrep && rep_idx[k] != i) k++;
        if (k < nrep) resp_add_bulk(&prop_buf, rep[k], strlen(rep[k]));
        else resp_add_bulk(&prop_buf, ctx->argv[i], ctx->argvlen[i]);
    }
    ctx->prop_cmds = &prop_buf;
    ctx->prop_ncmds++;
}

void xs_prop_xclaim_id(cmd_ctx_t *ctx, int keyarg, const uint8_t *group, size_t glen, const stream_cg_t *g,
                       const stream_nack_t *nk, const uint8_t *id, size_t idl)
{
    char t[24], rc[24], last[48];
    size_t lastl = stream_id_fmt(&g->last_id, last);
    size_t tl = (size_t)snprintf(t, sizeof t, "%lld", nk->delivery_time);
    size_t rcl = (size_t)snprintf(rc, sizeof rc, "%llu", (unsigned long long)nk->delivery_count);
    const uint8_t *argv[14] = { (const uint8_t *)"XCLAIM", ctx->argv[keyarg], group, nk->consumer->name,
                                (const uint8_t *)"0", id, (const uint8_t *)"TIME",
                                (const uint8_t *)t, (const uint8_t *)"RETRYCOUNT", (const uint8_t *)rc,
                                (const uint8_t *)"FORCE", (const uint8_t *)"JUSTID", (const uint8_t *)"LASTID",
                                (const uint8_t *)last };
    size_t lens[14] = { 6, ctx->argvlen[keyarg], glen, nk->consumer->nlen, 1, idl, 4, tl, 10, rcl, 5, 6, 6, lastl };
    xs_prop_cmd(ctx, 14, argv, lens);
}

void xs_prop_xclaim(cmd_ctx_t *ctx, int keyarg, const uint8_t *group, size_t glen, const stream_cg_t *g,
                    const stream_nack_t *nk)
{
    char id[48];
    size_t idl = stream_id_fmt(&nk->id, id);
    xs_prop_xclaim_id(ctx, keyarg, group, glen, g, nk, (const uint8_t *)id, idl);
}

void xs_prop_setid(cmd_ctx_t *ctx, int keyarg, const uint8_t *group, size_t glen, const stream_cg_t *g)
{
    char id[48], er[24];
    size_t idl = stream_id_fmt(&g->last_id, id);
    size_t erl = (size_t)snprintf(er, sizeof er, "%lld", g->entries_read);
    const uint8_t *argv[7] = { (const uint8_t *)"XGROUP", (const uint8_t *)"SETID", ctx->argv[keyarg], group,
                               (const uint8_t *)id, (const uint8_t *)"ENTRIESREAD", (const uint8_t *)er };
    size_t lens[7] = { 6, 5, ctx->argvlen[keyarg], glen, idl, 11, erl };
    xs_prop_cmd(ctx, 7, argv, lens);
}

void xs_prop_createconsumer(cmd_ctx_t *ctx, int keyarg, const uint8_t *group, size_t glen, const uint8_t *cons,
                            size_t clen)
{
    const uint8_t *argv[5] = { (const uint8_t *)"XGROUP", (const uint8_t *)"CREATECONSUMER", ctx->argv[keyarg],
                               group, cons };
    size_t lens[5] = { 6, 14, ctx->argvlen[keyarg], glen, clen };
    xs_prop_cmd(ctx, 5, argv, lens);
}

stream_consumer_t *xs_consumer(cmd_ctx_t *ctx, stream_cg_t *g, const uint8_t *name, size_t n, int keyarg,
                               bool *created)
{
    stream_consumer_t *c = stream_consumer_find(g, name, n);
    *created = !c;
    if (c) {
        c->seen_time = ctx->now_ms;
        return c;
    }
    c = stream_consumer_create(g, name, n, ctx->now_ms);
    ctx->dirty++;
    xs_notify(ctx, "xgroup-createconsumer", keyarg);
    return c;
}

void xs_subcommand_error(cmd_ctx_t *ctx, const char *cmd)
{
    size_t n = ctx->argvlen[1] > 128 ? 128 : ctx->argvlen[1];
    resp_add_errorf(ctx->reply, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try %s HELP.",
                    (int)strnlen((const char *)ctx->argv[1], n), (const char *)ctx->argv[1], cmd);
}

/* An argument as 7.0.15's %s prints it: up to its first NUL byte. */
#define CSTR(i) (int)strnlen((const char *)ctx->argv[i], ctx->argvlen[i]), (const char *)ctx->argv[i]

void xs_nogroup_key_or_group(cmd_ctx_t *ctx, int keyarg, int grouparg, const char *suffix)
{
    resp_add_errorf(ctx->reply, "NOGROUP No such key '%.*s' or consumer group '%.*s'%s", CSTR(keyarg), CSTR(grouparg),
                    suffix);
}

void xs_nogroup_for_key(cmd_ctx_t *ctx, int keyarg, int grouparg)
{
    resp_add_errorf(ctx->reply, "NOGROUP No such consumer group '%.*s' for key name '%.*s'", CSTR(grouparg),
                    CSTR(keyarg));
}

/* cmd_stream_info.c - XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO
 * CONSUMERS and XINFO HELP, with 7.0.15's fields in its order.
 *
 * 7.0.15 reports the size of the radix tree that indexes its nodes
 * ("radix-tree-keys", "radix-tree-nodes"); shoal keeps its nodes in an
 * array, so the node count is the one a compressed radix tree of the
 * nodes' 128-bit keys has (7.0.15's rax keeps that canonical shape), worked
 * out from the sorted keys when asked.
 */
#include <stdlib.h>
#include <string.h>

#include "actors/commands/args.h"
#include "actors/commands/cmd_stream.h"
#include "actors/commands/commands.h"

/* ---------------- radix tree shape ---------------- */

static void node_key(const stream_t *s, size_t i, uint8_t out[16])
{
    const stream_id_t *m = &stream_node_at(s, i)->master;
    for (int b = 0; b < 8; b++) {
        out[b] = (uint8_t)(m->ms >> (56 - 8 * b));
        out[8 + b] = (uint8_t)(m->seq >> (56 - 8 * b));
    }
}

/* Nodes of a compressed radix tree holding keys[lo, hi) (sorted, distinct,
 * all 16 bytes, sharing their first `depth` bytes): a run of bytes common
 * to all is one compressed node, a byte where they part is one branching
 * node, and each key ends in an empty leaf node. */
static size_t rax_nodes(const uint8_t (*k)[16], size_t lo, size_t hi, int depth)
{
    if (hi - lo == 1) return depth == 16 ? 1 : 2;
    int d = depth;
    while (d < 16 && k[lo][d] == k[hi - 1][d]) d++;
    size_t n = (d > depth) + 1;
    for (size_t a = lo; a < hi;) {
        size_t b = a + 1;
        while (b < hi && k[b][d] == k[a][d]) b++;
        n += rax_nodes(k, a, b, d + 1);
        a = b;
    }
    return n;
}

static size_t radix_tree_nodes(const stream_t *s)
{
    if (!s->nnodes) return 1;     /* the empty root */
    uint8_t (*k)[16] = malloc(16 * s->nnodes);
    for (size_t i = 0; i < s->nnodes; i++) node_key(s, i, k[i]);
    size_t n = rax_nodes((const uint8_t (*)[16])k, 0, s->nnodes, 0);
    free(k);
    return n;
}

/* ---------------- replies ---------------- */

static void field(cmd_ctx_t *ctx, const char *name) { resp_add_bulk_str(ctx->reply, name); }

static void reply_lag(cmd_ctx_t *ctx, const stream_t *s, const stream_cg_t *g)
{
    bool valid;
    long long lag = stream_cg_lag(s, g, &valid);
    if (valid) resp_add_int(ctx->reply, lag);
    else resp_add_null(ctx->reply);
}

static void reply_entries_read(cmd_ctx_t *ctx, const stream_cg_t *g)
{
    if (g->entries_read != STREAM_CG_INVALID_READ) resp_add_int(ctx->reply, g->entries_read);
    else resp_add_null(ctx->reply);
}

/* One edge entry as [id, fields], or null. */
static void edge_entry(cmd_ctx_t *ctx, const stream_t *s, bool rev)
{
    stream_iter_t it;
    stream_iter_start(&it, s, NULL, NULL, rev);
    stream_id_t id;
    int64_t nf;
    if (!stream_iter_next(&it, &id, &nf)) {
        resp_add_null(ctx->reply);
        return;
    }
    resp_add_array(ctx->reply, 2);
    xs_reply_id(ctx, &id);
    xs_reply_fields(ctx, &it, nf);
}

/* "pel-count" and "pending" of XINFO STREAM FULL: the first `count` (0:
 * all) entries, each with its consumer's name for the group's PEL. */
static void reply_pel(cmd_ctx_t *ctx, const stream_pel_t *p, long long count, bool with_consumer)
{
    field(ctx, "pel-count");
    resp_add_int(ctx->reply, (long long)p->n);
    field(ctx, "pending");
    size_t n = count && (size_t)count < p->n ? (size_t)count : p->n;
    resp_add_array(ctx->reply, (long long)n);
    for (size_t i = 0; i < n; i++) {
        const stream_nack_t *nk = p->v[i];
        resp_add_array(ctx->reply, with_consumer ? 4 : 3);
        xs_reply_id(ctx, &nk->id);
        if (with_consumer) resp_add_bulk(ctx->reply, nk->consumer->name, nk->consumer->nlen);
        resp_add_int(ctx->reply, nk->delivery_time);
        resp_add_int(ctx->reply, (long long)nk->delivery_count);
    }
}

static void full_consumer(cmd_ctx_t *ctx, const stream_consumer_t *c, long long count)
{
    resp_add_map(ctx->reply, 4);
    field(ctx, "name");
    resp_add_bulk(ctx->reply, c->name, c->nlen);
    field(ctx, "seen-time");
    resp_add_int(ctx->reply, c->seen_time);
    reply_pel(ctx, &c->pel, count, false);
}

static void full_group(cmd_ctx_t *ctx, const stream_t *s, const stream_cg_t *g, long long count)
{
    resp_add_map(ctx->reply, 7);
    field(ctx, "name");
    resp_add_bulk(ctx->reply, g->name, g->nlen);
    field(ctx, "last-delivered-id");
    xs_reply_id(ctx, &g->last_id);
    field(ctx, "entries-read");
    reply_entries_read(ctx, g);
    field(ctx, "lag");
    reply_lag(ctx, s, g);
    reply_pel(ctx, &g->pel, count, true);
    field(ctx, "consumers");
    resp_add_array(ctx->reply, (long long)g->nconsumers);
    for (size_t i = 0; i < g->nconsumers; i++) full_consumer(ctx, g->consumers[i], count);
}

/* The stream looked up for XINFO <sub> <key>: NULL after an error. */
static stream_t *info_stream(cmd_ctx_t *ctx)
{
    bool bad;
    stream_t *s = xs_get(ctx, 2, true, &bad);
    if (!s && !bad) resp_add_error(ctx->reply, "ERR no such key");
    return s;
}

void cmd_xinfo_stream(cmd_ctx_t *ctx)
{
    stream_t *s = info_stream(ctx);
    if (!s) return;
    bool full = ctx->argc > 3;
    long long count = 10;
    if (full) {
        if ((ctx->argc != 4 && ctx->argc != 6) || !arg_is_at(ctx, 3, "full") ||
            (ctx->argc == 6 && !arg_is_at(ctx, 4, "count"))) {
            xs_subcommand_error(ctx, "XINFO");
            return;
        }
        if (ctx->argc == 6) {
            if (!arg_ll_at(ctx, 5, &count)) return;
            if (count < 0) count = 10;
        }
    }
    resp_add_map(ctx->reply, full ? 9 : 10);
    field(ctx, "length");
    resp_add_int(ctx->reply, (long long)s->length);
    field(ctx, "radix-tree-keys");
    resp_add_int(ctx->reply, (long long)s->nnodes);
    field(ctx, "radix-tree-nodes");
    resp_add_int(ctx->reply, (long long)radix_tree_nodes(s));
    field(ctx, "last-generated-id");
    xs_reply_id(ctx, &s->last_id);
    field(ctx, "max-deleted-entry-id");
    xs_reply_id(ctx, &s->max_deleted);
    field(ctx, "entries-added");
    resp_add_int(ctx->reply, (long long)s->entries_added);
    field(ctx, "recorded-first-entry-id");
    xs_reply_id(ctx, &s->first_id);
    if (!full) {
        field(ctx, "groups");
        resp_add_int(ctx->reply, (long long)stream_cg_count(s));
        field(ctx, "first-entry");
        edge_entry(ctx, s, false);
        field(ctx, "last-entry");
        edge_entry(ctx, s, true);
        return;
    }
    field(ctx, "entries");
    xs_reply_range(ctx, s, NULL, NULL, (size_t)count, false, NULL, NULL, 0, 2, 0);
    field(ctx, "groups");
    resp_add_array(ctx->reply, (long long)stream_cg_count(s));
    for (size_t i = 0; i < stream_cg_count(s); i++) full_group(ctx, s, s->cgs->v[i], count);
}

void cmd_xinfo_groups(cmd_ctx_t *ctx)
{
    stream_t *s = info_stream(ctx);
    if (!s) return;
    resp_add_array(ctx->reply, (long long)stream_cg_count(s));
    for (size_t i = 0; i < stream_cg_count(s); i++) {
        const stream_cg_t *g = s->cgs->v[i];
        resp_add_map(ctx->reply, 6);
        field(ctx, "name");
        resp_add_bulk(ctx->reply, g->name, g->nlen);
        field(ctx, "consumers");
        resp_add_int(ctx->reply, (long long)g->nconsumers);
        field(ctx, "pending");
        resp_add_int(ctx->reply, (long long)g->pel.n);
        field(ctx, "last-delivered-id");
        xs_reply_id(ctx, &g->last_id);
        field(ctx, "entries-read");
        reply_entries_read(ctx, g);
        field(ctx, "lag");
        reply_lag(ctx, s, g);
    }
}

void cmd_xinfo_consumers(cmd_ctx_t *ctx)
{
    stream_t *s = info_stream(ctx);
    if (!s) return;
    stream_cg_t *g = stream_cg_find(s, ctx->argv[3], ctx->argvlen[3]);
    if (!g) {
        xs_nogroup_for_key(ctx, 2, 3);
        return;
    }
    resp_add_array(ctx->reply, (long long)g->nconsumers);
    for (size_t i = 0; i < g->nconsumers; i++) {
        const stream_consumer_t *c = g->consumers[i];
        long long idle = ctx->now_ms - c->seen_time;
        resp_add_map(ctx->reply, 3);
        field(ctx, "name");
        resp_add_bulk(ctx->reply, c->name, c->nlen);
        field(ctx, "pending");
        resp_add_int(ctx->reply, (long long)c->pel.n);
        field(ctx, "idle");
        resp_add_int(ctx->reply, idle < 0 ? 0 : idle);
    }
}

void cmd_xinfo_help(cmd_ctx_t *ctx)
{
    static const char *const lines[] = {
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help.",
    };
    arg_reply_help(ctx, lines, sizeof lines / sizeof lines[0]);
}

/* debug_keys.c - the DEBUG subcommands 7.0.15's test suites use to look at
 * one key's value (DIGEST-VALUE, OBJECT, LISTPACK, QUICKLIST) and the small
 * knobs they turn (CHANGE-REPL-ID, QUICKLIST-PACKED-THRESHOLD, REPLYBUFFER,
 * STRINGMATCH-TEST), answered as 7.0.15 answers them.
 *
 * A key lives on the worker of its slot, so the keyed forms fan out: every
 * worker answers for the keys of its own slots and says nothing of the
 * others; the client's worker puts the answers together.
 *
 * Must never: touch a key (these reads do not count as accesses and see
 * logically expired keys, as 7.0.15's dictFind does), or write anything.
 */
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/commands/debug_cmds.h"
#include "actors/config/config.h"
#include "actors/repl/repl.h"
#include "actors/types/list.h"
#include "actors/types/types.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/worker.h"
#include "proto/glob.h"
#include "proto/rdb.h"
#include "proto/slot.h"
#include "runtime/random.h"

/* Stored as 7.0.15 stores them; our lists keep no plain nodes and our reply
 * buffers no peak, so nothing reads them yet. Relaxed: settings. */
static _Atomic unsigned long long g_packed_threshold = 1ULL << 30;
static _Atomic long long g_reply_peak_reset_ms = 5000;
static _Atomic int g_reply_resizing = 1;

enum { MODE_DIGEST_VALUE = -2, MODE_KEYED = -3 };   /* reply_slot count, as debug_cmds.c's -1 */

static bool sub_is(const queued_cmd_t *q, const char *name)
{
    return q->argc >= 2 && arg_is(q->argv[1], q->argvlen[1], name);
}

static bool keyed_sub(const queued_cmd_t *q)
{
    return sub_is(q, "object") || sub_is(q, "listpack") || sub_is(q, "quicklist");
}

static bool owns(const worker_t *w, const uint8_t *key, size_t len)
{
    return worker_of_slot(slot_of_key(key, len)) == worker_index((worker_t *)w);
}

/* ---- the parts (each worker, for the keys of its slots) ---- */

static void digest_value_part(worker_t *w, remote_cmd_t *rc)
{
    const queued_cmd_t *q = &rc->cmds[0];
    struct keyspace *ks = worker_keyspace(w);
    for (int j = 2; j < q->argc; j++) {
        if (!owns(w, q->argv[j], q->argvlen[j])) continue;
        ks_entry_t *e = ks_peek(ks, q->argv[j], q->argvlen[j]);
        if (!e) continue;                   /* a missing key's digest is all zeros */
        uint8_t rec[4 + 20] = { 0 };
        uint32_t idx = (uint32_t)j;
        memcpy(rec, &idx, 4);
        debug_value_digest(rec + 4, ks, e);
        resp_buf_append(&rc->reply, (const char *)rec, sizeof rec);
    }
}

/* The extra fields 7.0.15 adds for a quicklist. */
static void quicklist_extra(const list_t *l, char *buf, size_t cap)
{
    size_t lpsz = 0;
    for (const list_node_t *n = list_first_node(l); n; n = list_next_node(n)) lpsz += list_node_lpsz(n);
    snprintf(buf, cap, " ql_nodes:%zu ql_avg_node:%.2f ql_listpack_max:%d ql_compressed:%d ql_uncompressed_size:%zu",
             l->nodes, l->nodes ? (double)l->count / (double)l->nodes : 0.0, l->fill, l->compress != 0, lpsz);
}

static void object_answer(resp_buf_t *out, ks_entry_t *e)
{
    const char *enc = types_encoding(e);
    rdb_encoder_t rdb;
    size_t serialized = 0;
    /* 7.0.15's rdbSavedObjectLen: the value as RDB writes it, without the
     * type byte and the DUMP footer (2 version bytes and an 8-byte CRC) */
    if (!cmd_dump_payload(e, &rdb) && rdb.total >= 11) serialized = (size_t)rdb.total - 11;
    rdb_encoder_free(&rdb);
    char extra[160] = "";
    if (!strcmp(enc, "quicklist")) quicklist_extra(ks_entry_obj(e), extra, sizeof extra);
    long long refcount = cmd_object_refcount_of(e);
    char line[400];
    snprintf(line, sizeof line, "Value at:%p refcount:%lld encoding:%s serializedlength:%zu lru:%u lru_seconds_idle:%lld%s",
             ks_entry_type(e) == KS_TYPE_STRING ? (void *)e : ks_entry_obj(e), refcount, enc, serialized,
             (unsigned)ks_entry_access(e), ks_access_idle_s(e), extra);
    resp_add_simple(out, line);
}

/* LISTPACK / QUICKLIST: a short account on stdout (ours, not 7.0.15's
 * byte dump), then 7.0.15's status line. */
static void structure_answer(resp_buf_t *out, const queued_cmd_t *q, ks_entry_t *e)
{
    bool lp = sub_is(q, "listpack");
    const char *enc = types_encoding(e);
    if (strcmp(enc, lp ? "listpack" : "quicklist") != 0) {
        resp_add_error(out, lp ? "ERR Not a listpack encoded object." : "ERR Not a quicklist encoded object.");
        return;
    }
    printf("{%s} key %.*s, %s\n", enc, (int)q->argvlen[2], (const char *)q->argv[2], ks_type_name(e));
    if (!lp) {
        char extra[160];
        quicklist_extra(ks_entry_obj(e), extra, sizeof extra);
        printf("{quicklist}%s\n", extra);
    }
    fflush(stdout);
    resp_add_simple(out, lp ? "Listpack structure printed on stdout" : "Quicklist structure printed on stdout");
}

static void keyed_part(worker_t *w, remote_cmd_t *rc)
{
    const queued_cmd_t *q = &rc->cmds[0];
    if (!owns(w, q->argv[2], q->argvlen[2])) return;
    struct keyspace *ks = worker_keyspace(w);
    ks_entry_t *e = NULL;
    if (sub_is(q, "object")) {
        e = ks_peek(ks, q->argv[2], q->argvlen[2]);          /* expired or not, as dictFind */
    } else if (ks_exists_noexpire(ks, q->argv[2], q->argvlen[2], rc->now_ms)) {
        e = ks_peek(ks, q->argv[2], q->argvlen[2]);          /* a logically expired key is none */
    }
    if (!e) resp_add_error(&rc->reply, "ERR no such key");
    else if (sub_is(q, "object")) object_answer(&rc->reply, e);
    else structure_answer(&rc->reply, q, e);
}

bool debug_keyed_part(struct worker *w, struct remote_cmd *rc)
{
    const queued_cmd_t *q = &rc->cmds[0];
    if (sub_is(q, "digest-value")) digest_value_part(w, rc);
    else if (keyed_sub(q)) keyed_part(w, rc);
    else return false;
    return true;
}

/* ---- merging on the client's worker ---- */

bool debug_keyed_merge(struct reply_slot *s, const struct remote_cmd *rc)
{
    const queued_cmd_t *q = &rc->cmds[0];
    if (sub_is(q, "digest-value")) {
        s->count = MODE_DIGEST_VALUE;
        s->sum = q->argc - 2;
    } else if (keyed_sub(q)) {
        s->count = MODE_KEYED;
    } else {
        return false;
    }
    if (rc->reply.len) resp_buf_append(&s->acc, rc->reply.data, rc->reply.len);
    return true;
}

static void hex40(const uint8_t d[20], char out[41])
{
    for (int i = 0; i < 20; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

bool debug_keyed_reply(struct reply_slot *s)
{
    if (s->count == MODE_KEYED) {
        resp_buf_append(&s->buf, s->acc.data, s->acc.len);
        return true;
    }
    if (s->count != MODE_DIGEST_VALUE) return false;
    long long n = s->sum;
    uint8_t (*d)[20] = calloc(n > 0 ? (size_t)n : 1, 20);
    for (size_t off = 0; d && off + 24 <= s->acc.len; off += 24) {
        uint32_t idx;
        memcpy(&idx, s->acc.data + off, 4);
        if (idx >= 2 && (long long)idx - 2 < n) memcpy(d[idx - 2], s->acc.data + off + 4, 20);
    }
    resp_add_array(&s->buf, d ? n : 0);
    for (long long i = 0; d && i < n; i++) {
        char hex[41];
        hex40(d[i], hex);
        resp_add_simple(&s->buf, hex);
    }
    free(d);
    return true;
}

/* ---- the knobs ---- */

void debug_syntax_error(cmd_ctx_t *ctx)
{
    size_t n = ctx->argvlen[1] < 128 ? ctx->argvlen[1] : 128;   /* 7.0.15 prints at most 128 bytes of it */
    resp_add_errorf(ctx->reply, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try DEBUG HELP.",
                    (int)n, (const char *)ctx->argv[1]);
}

static void packed_threshold(cmd_ctx_t *ctx)
{
    char buf[64];
    unsigned long long sz = 0;
    bool ok = ctx->argvlen[2] < sizeof buf;
    if (ok) {
        memcpy(buf, ctx->argv[2], ctx->argvlen[2]);
        buf[ctx->argvlen[2]] = '\0';
        ok = config_memtoull(buf, &sz) && sz <= (1ULL << 32) - (1 << 20);
    }
    if (!ok) {
        resp_add_error(ctx->reply, "ERR argument must be a memory value bigger than 1 and smaller than 4gb");
        return;
    }
    atomic_store_explicit(&g_packed_threshold, sz ? sz : 1ULL << 30, memory_order_relaxed);
    resp_add_simple(ctx->reply, "OK");
}

/* atoi's reading: leading blanks, a sign, digits, anything after ignored. */
static int atoi_arg(const uint8_t *p, size_t n)
{
    char buf[32];
    size_t k = n < sizeof buf - 1 ? n : sizeof buf - 1;
    memcpy(buf, p, k);
    buf[k] = '\0';
    return atoi(buf);
}

static void replybuffer(cmd_ctx_t *ctx)
{
    const uint8_t *what = ctx->argv[2], *v = ctx->argv[3];
    size_t wl = ctx->argvlen[2], vl = ctx->argvlen[3];
    if (arg_is(what, wl, "peak-reset-time")) {
        long long ms;
        if (arg_is(v, vl, "never")) ms = -1;
        else if (arg_is(v, vl, "reset")) ms = 5000;
        else if (!arg_ll(v, vl, &ms)) {
            resp_add_error(ctx->reply, "ERR value is not an integer or out of range");
            return;
        }
        atomic_store_explicit(&g_reply_peak_reset_ms, ms, memory_order_relaxed);
    } else if (arg_is(what, wl, "resizing")) {
        atomic_store_explicit(&g_reply_resizing, atoi_arg(v, vl), memory_order_relaxed);
    } else {
        debug_syntax_error(ctx);
        return;
    }
    resp_add_simple(ctx->reply, "OK");
}

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* 7.0.15 fuzzes its glob matcher against crashes and stack overflows;
 * this runs ours the same way: random short patterns and strings. */
static void stringmatch_test(cmd_ctx_t *ctx)
{
    static const char alphabet[] = "*?[]\\^-ab";
    char pat[32], str[32];
    uint64_t x;
    rt_random_bytes(&x, sizeof x);
    x |= 1;                        /* xorshift never leaves 0 */
    for (int i = 0; i < 1000000; i++) {
        size_t pl = xorshift(&x) % sizeof pat, sl = xorshift(&x) % sizeof str;
        for (size_t k = 0; k < pl; k++) pat[k] = alphabet[xorshift(&x) % (sizeof alphabet - 1)];
        for (size_t k = 0; k < sl; k++) str[k] = (char)xorshift(&x);
        glob_match(pat, pl, str, sl, 0);
    }
    resp_add_simple(ctx->reply, "Apparently Redis did not crash: test passed");
}

bool debug_more(cmd_ctx_t *ctx)
{
    const uint8_t *sub = ctx->argv[1];
    size_t sl = ctx->argvlen[1];
    int argc = ctx->argc;
    bool fan = arg_is(sub, sl, "digest-value") ||
               ((arg_is(sub, sl, "object") || arg_is(sub, sl, "listpack")) && argc == 3) ||
               (arg_is(sub, sl, "quicklist") && (argc == 3 || argc == 4));
    if (fan) dispatch_fanout(ctx->client, dispatch_current_cmd(ctx->client), argc, ctx->argv, ctx->argvlen);
    else if (arg_is(sub, sl, "change-repl-id") && argc == 2) repl_request_change_id(dispatch_defer_nosend(ctx, 0));
    else if (arg_is(sub, sl, "quicklist-packed-threshold") && argc == 3) packed_threshold(ctx);
    else if (arg_is(sub, sl, "replybuffer") && argc == 4) replybuffer(ctx);
    else if (arg_is(sub, sl, "stringmatch-test") && argc == 2) stringmatch_test(ctx);
    else return false;
    return true;
}

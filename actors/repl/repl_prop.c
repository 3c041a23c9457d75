/* repl_prop.c - the worker side of propagation: each worker buffers the
 * effects of the writes it executes and hands the buffer to the replication
 * actor before the replies to those writes can leave (see repl.h).
 *
 * What goes into the stream is the effect, as Redis propagates it: relative
 * TTLs become absolute (SET ... PXAT, PEXPIREAT), a TTL already in the past
 * becomes DEL, GETDEL becomes DEL, INCRBYFLOAT becomes SET ... KEEPTTL, GETEX
 * becomes PEXPIREAT or PERSIST; everything else is sent as the client wrote
 * it. Several effects of one MULTI/EXEC are wrapped in MULTI ... EXEC.
 *
 * Must never: be called from a thread other than the worker's own, or lose
 * bytes between propagate and flush.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/commands/cmd.h"
#include "actors/worker/keyspace.h"
#include "actors/persist/aof.h"
#include "actors/repl/repl.h"
#include "actors/repl/repl_internal.h"
#include "actors/commands/args.h"
#include "runtime/xmalloc.h"

/* A worker's buffer up to this capacity stays with it after a handover. */
#define REPL_WBUF_KEEP (64 * 1024)

typedef struct repl_wbuf {
    resp_buf_t out;           /* RESP arrays of bulk strings, as the stream carries them */
    bool in_multi;
    size_t multi_mark;        /* where the transaction's effects start */
    int multi_count;
    int worker;               /* the owner's index */
    uint64_t seq;             /* handovers sent so far (repl_wbuf_mark) */
    /* Databases (wdb.h): the one the next effect is in, the one the
     * buffered bytes start in (-1 while empty) and the one they end in. A
     * SELECT is written between effects of different databases; the
     * replication actor and the AOF put one before a handover that starts
     * in a database other than the stream's (start_db), as 7.0.15 selects
     * before a command of another database than its last. */
    int db, start_db, end_db;
    /* Byte ranges of `out` ([start, end) pairs, in order) that go to the
     * replicas only: 7.0.15 propagates a standalone PUBLISH or SPUBLISH to
     * its replicas (forceCommandPropagation with PROPAGATE_REPL) and never
     * writes it to the AOF. Usually none. */
    size_t *ronly;
    int nronly, capronly;
} repl_wbuf_t;

bool repl_worker_propagates(const struct keyspace *ks)
{
    /* relaxed: the flag turns on in the replication actor's first cut, which
     * every worker passes through (a message) before it can matter */
    return atomic_load_explicit(&g_repl_propagate, memory_order_relaxed) &&
           (!ks_replica_mode(ks) || ks_pause_only(ks));
}

repl_wbuf_t *repl_wbuf_new(int worker)
{
    repl_wbuf_t *b = xcalloc(1, sizeof *b);
    resp_buf_init(&b->out, 2);
    b->worker = worker;
    b->start_db = -1;
    return b;
}

void repl_wbuf_set_db(repl_wbuf_t *b, int db)
{
    if (b) b->db = db;
}

void repl_select_bytes(resp_buf_t *out, int db)
{
    char num[16];
    int n = snprintf(num, sizeof num, "%d", db);
    resp_add_array(out, 2);
    resp_add_bulk(out, (const uint8_t *)"SELECT", 6);
    resp_add_bulk(out, (const uint8_t *)num, (size_t)n);
}

/* Before an effect: the buffer's bytes are in the effect's database. */
static void wbuf_select(repl_wbuf_t *b)
{
    if (b->out.len == 0) {
        b->start_db = b->end_db = b->db;
    } else if (b->end_db != b->db) {
        repl_select_bytes(&b->out, b->db);
        b->end_db = b->db;
    }
}

uint64_t repl_wbuf_mark(const repl_wbuf_t *b)
{
    if (!b) return 0;
    return b->out.len > 0 ? b->seq + 1 : b->seq;
}

void repl_propagate(repl_wbuf_t *b, int argc, const uint8_t **argv, const size_t *argvlen)
{
    if (!b) return;
    wbuf_select(b);
    resp_add_array(&b->out, argc);
    for (int i = 0; i < argc; i++) resp_add_bulk(&b->out, argv[i], argvlen[i]);
    if (b->in_multi) b->multi_count++;
}

void repl_propagate_replicas_only(repl_wbuf_t *b, int argc, const uint8_t **argv, const size_t *argvlen)
{
    if (!b) return;
    wbuf_select(b);               /* a SELECT before it stays in the AOF's bytes */
    if (b->nronly == b->capronly) {
        b->capronly = b->capronly ? b->capronly * 2 : 8;
        b->ronly = xrealloc(b->ronly, (size_t)b->capronly * 2 * sizeof *b->ronly);
    }
    b->ronly[2 * b->nronly] = b->out.len;
    repl_propagate(b, argc, argv, argvlen);
    b->ronly[2 * b->nronly + 1] = b->out.len;
    b->nronly++;
}

/* The AOF's part of out[0, len): the bytes outside the replicas-only
 * ranges, in *aof (malloc'd) when some are left out, else out's own bytes. */
static const uint8_t *aof_part(const repl_wbuf_t *b, size_t len, uint8_t **copy, size_t *aof_len)
{
    *copy = NULL;
    if (b->nronly == 0) {
        *aof_len = len;
        return (const uint8_t *)b->out.data;
    }
    uint8_t *p = *copy = xmalloc(len ? len : 1);
    size_t at = 0, n = 0;
    for (int i = 0; i < b->nronly; i++) {
        size_t from = b->ronly[2 * i], to = b->ronly[2 * i + 1];
        memcpy(p + n, b->out.data + at, from - at);
        n += from - at;
        at = to;
    }
    memcpy(p + n, b->out.data + at, len - at);
    *aof_len = n + len - at;
    return p;
}

void repl_propagate_del(repl_wbuf_t *b, const uint8_t *key, size_t len)
{
    const uint8_t *argv[2] = { (const uint8_t *)"DEL", key };
    size_t lens[2] = { 3, len };
    repl_propagate(b, 2, argv, lens);
}

void repl_multi_begin(repl_wbuf_t *b)
{
    if (!b) return;
    b->in_multi = true;
    b->multi_mark = b->out.len;
    b->multi_count = 0;
}

bool repl_in_multi(const repl_wbuf_t *b) { return b && b->in_multi; }

repl_wbuf_pos_t repl_wbuf_tell(const repl_wbuf_t *b)
{
    repl_wbuf_pos_t p = { 0, 0, 0 };
    if (b) {
        p.len = b->out.len;
        p.count = b->multi_count;
        p.end_db = b->end_db;
    }
    return p;
}

void repl_wbuf_rewind(repl_wbuf_t *b, repl_wbuf_pos_t pos)
{
    if (!b || pos.len > b->out.len) return;
    b->out.len = pos.len;
    b->multi_count = pos.count;
    b->end_db = pos.end_db;
    while (b->nronly > 0 && b->ronly[2 * (b->nronly - 1)] >= pos.len) b->nronly--;
    if (pos.len == 0) b->start_db = -1;
}

void repl_multi_end(repl_wbuf_t *b)
{
    if (!b || !b->in_multi) return;
    b->in_multi = false;
    /* One effect is atomic by itself; two or more are wrapped, as Redis does. */
    if (b->multi_count < 2) return;
    static const char multi[] = "*1\r\n$5\r\nMULTI\r\n";
    static const char exec[] = "*1\r\n$4\r\nEXEC\r\n";
    size_t ml = sizeof multi - 1, tail = b->out.len - b->multi_mark;
    resp_buf_append(&b->out, multi, ml);   /* room at the end, then moved into place */
    memmove(b->out.data + b->multi_mark + ml, b->out.data + b->multi_mark, tail);
    memcpy(b->out.data + b->multi_mark, multi, ml);
    for (int i = 0; i < 2 * b->nronly; i++)
        if (b->ronly[i] >= b->multi_mark) b->ronly[i] += ml;
    resp_buf_append(&b->out, exec, sizeof exec - 1);
}

const char *repl_wbuf_bytes(const repl_wbuf_t *b, size_t *len)
{
    *len = b->out.len;
    return b->out.data;
}

void repl_wbuf_clear(repl_wbuf_t *b)
{
    resp_buf_reset(&b->out);
    b->nronly = 0;
}

void repl_wbuf_free(repl_wbuf_t *b)
{
    if (!b) return;
    resp_buf_free(&b->out);
    free(b->ronly);
    free(b);
}

_Atomic unsigned long long g_repl_fed;

/* Set in a forked debugger session (repl_detach): nothing of this process
 * may reach the stream. Written once, before anything reads it, by the one
 * thread the child has. */
static bool g_detached;

void repl_detach(void) { g_detached = true; }

void repl_flush(repl_wbuf_t *b)
{
    if (!b || b->out.len == 0 || b->in_multi) return;
    if (g_detached) {
        repl_wbuf_clear(b);
        return;
    }
    /* what the AOF gets: the bytes but the replicas-only ranges (no copy
     * without the AOF: it turns on in a message this thread passes, aof.h) */
    uint8_t *aof_copy = NULL;
    size_t aof_len = b->out.len;
    const uint8_t *aof_data = (const uint8_t *)b->out.data;
    if (aof_wait_wanted()) aof_data = aof_part(b, b->out.len, &aof_copy, &aof_len);
    b->nronly = 0;
    /* acquire: pairs with ra_backlog_create. No backlog: no replica can read
     * these bytes, and the replication actor would only drop them (its
     * bookkeeping of them serves WAIT and offsets, which need replicas): only
     * the AOF gets them. A full sync creates the backlog before its cut, and
     * every worker takes the cut's message: writes after it are passed on. */
    if (aof_wait_wanted() && !atomic_load_explicit(&g_repl_backlog_on, memory_order_acquire)) {
        b->seq++;   /* not in g_repl_fed: the stream's offset never counts these bytes */
        if (aof_len) aof_handover(aof_data, aof_len, b->start_db, b->end_db, NULL, NULL, 0);
        free(aof_copy);
        repl_feedq_note_aof_only();
        b->start_db = -1;
        if (b->out.cap > REPL_WBUF_KEEP) {
            resp_buf_free(&b->out);
            resp_buf_init(&b->out, 2);
        } else {
            resp_buf_reset(&b->out);
        }
        return;
    }
    repl_feed_msg_t *m = xmalloc(sizeof *m);
    memset(&m->hdr, 0, sizeof m->hdr);
    m->hdr.type = RM_FEED;
    m->len = b->out.len;
    if (b->out.cap > REPL_WBUF_KEEP) {
        m->data = (uint8_t *)b->out.data;   /* hand a big buffer over; start a fresh one */
        resp_buf_init(&b->out, 2);
    } else {
        /* a copy of the exact size: the buffer, grown to a round's size,
         * is used again instead of growing from nothing every round */
        m->data = xmalloc(m->len);
        memcpy(m->data, b->out.data, m->len);
        resp_buf_reset(&b->out);
    }
    if (!aof_copy) aof_data = m->data;   /* the same bytes, wherever they are now */
    m->worker = b->worker;
    m->seq = ++b->seq;
    m->start_db = b->start_db;
    m->end_db = b->end_db;
    b->start_db = -1;
    /* release: before the reply of the write leaves (repl_status_get) */
    atomic_fetch_add_explicit(&g_repl_fed, m->len, memory_order_release);
    /* With the AOF on, the bytes are written to it (fsync'ed with appendfsync
     * always) before this returns, in the order the stream gets them: aof.h. */
    aof_handover(aof_data, aof_len, m->start_db, m->end_db, repl_actor(), &m->hdr, m->len);
    free(aof_copy);
}

void repl_flush_before_multi(repl_wbuf_t *b)
{
    if (!b || !b->in_multi) {
        repl_flush(b);
        return;
    }
    if (b->multi_mark == 0) return;
    resp_buf_t open_part;         /* the transaction's effects so far stay */
    resp_buf_init(&open_part, 2);
    resp_buf_append(&open_part, b->out.data + b->multi_mark, b->out.len - b->multi_mark);
    /* its replicas-only ranges stay too, moved to the open part's start */
    int keep_from = b->nronly;
    while (keep_from > 0 && b->ronly[2 * (keep_from - 1)] >= b->multi_mark) keep_from--;
    int kept = b->nronly - keep_from;
    b->nronly = keep_from;
    b->out.len = b->multi_mark;
    b->in_multi = false;
    repl_flush(b);
    for (int i = 0; i < 2 * kept; i++) b->ronly[i] = b->ronly[2 * keep_from + i] - b->multi_mark;
    b->nronly = kept;
    b->in_multi = true;
    b->multi_mark = 0;
    resp_buf_free(&b->out);
    b->out = open_part;
}

/* ---- effects ---- */

static bool name_is(const struct cmd_def *cmd, const char *n) { return !strcmp(cmd->name, n); }

static void prop_set_pxat(repl_wbuf_t *b, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                          long long at_ms)
{
    char num[32];
    int n = snprintf(num, sizeof num, "%lld", at_ms);
    const uint8_t *argv[5] = { (const uint8_t *)"SET", key, val, (const uint8_t *)"PXAT", (const uint8_t *)num };
    size_t lens[5] = { 3, klen, vlen, 4, (size_t)n };
    repl_propagate(b, 5, argv, lens);
}

static void prop_pexpireat(repl_wbuf_t *b, const uint8_t *key, size_t klen, long long at_ms)
{
    char num[32];
    int n = snprintf(num, sizeof num, "%lld", at_ms);
    const uint8_t *argv[3] = { (const uint8_t *)"PEXPIREAT", key, (const uint8_t *)num };
    size_t lens[3] = { 9, klen, (size_t)n };
    repl_propagate(b, 3, argv, lens);
}

/* The key's state after the command, as the stream must reproduce it. */
static void prop_key_state(repl_wbuf_t *b, struct keyspace *ks, cmd_ctx_t *ctx, int keyarg, bool with_value)
{
    const uint8_t *key = ctx->argv[keyarg];
    size_t klen = ctx->argvlen[keyarg];
    ks_entry_t *e = ks_peek(ks, key, klen);
    long long when = e ? ks_entry_expire(ks, e) : KS_NO_EXPIRE;
    if (!e || (when != KS_NO_EXPIRE && when < ctx->now_ms)) {
        repl_propagate_del(b, key, klen);
        return;
    }
    if (with_value && ks_entry_type(e) == KS_TYPE_STRING) {
        size_t vlen;
        const uint8_t *v = ks_entry_str(e, &vlen);
        if (when != KS_NO_EXPIRE) {
            prop_set_pxat(b, key, klen, v, vlen, when);
        } else {
            const uint8_t *argv[3] = { (const uint8_t *)"SET", key, v };
            size_t lens[3] = { 3, klen, vlen };
            repl_propagate(b, 3, argv, lens);
        }
        return;
    }
    if (when != KS_NO_EXPIRE) {
        prop_pexpireat(b, key, klen, when);
    } else {
        const uint8_t *argv[2] = { (const uint8_t *)"PERSIST", key };
        size_t lens[2] = { 7, klen };
        repl_propagate(b, 2, argv, lens);
    }
}

void repl_propagate_effect(repl_wbuf_t *b, struct keyspace *ks, const struct cmd_def *cmd, cmd_ctx_t *ctx)
{
    if (!b) return;
    if (ctx->prop_ncmds) {        /* several effects (SPOP with a count) */
        bool wrap = !b->in_multi && ctx->prop_ncmds > 1;
        if (wrap) repl_multi_begin(b);
        wbuf_select(b);
        resp_buf_append(&b->out, ctx->prop_cmds->data, ctx->prop_cmds->len);
        if (b->in_multi) b->multi_count += ctx->prop_ncmds;
        if (wrap) repl_multi_end(b);
        return;
    }
    if (ctx->prop_none) return;   /* an XREADGROUP that only created a consumer */
    if (ctx->prop_argc) {         /* the handler named its effect (BLPOP served as LPOP ...) */
        repl_propagate(b, ctx->prop_argc, ctx->prop_argv, ctx->prop_argvlen);
        return;
    }
    if (cmd->parent) {            /* no write subcommand of ours touches keys */
        repl_propagate(b, ctx->argc, ctx->argv, ctx->argvlen);
        return;
    }
    if (name_is(cmd, "set")) {
        bool rel = false;
        for (int i = 3; i < ctx->argc; i++)
            if (arg_is_at(ctx, i, "EX") || arg_is_at(ctx, i, "PX") || arg_is_at(ctx, i, "EXAT") || arg_is_at(ctx, i, "PXAT"))
                rel = true;
        if (!rel) {
            /* No TTL given: SET k v [KEEPTTL]; NX/XX/GET do not change the effect. */
            bool keepttl = false;
            for (int i = 3; i < ctx->argc; i++)
                if (arg_is_at(ctx, i, "KEEPTTL")) keepttl = true;
            const uint8_t *argv[4] = { ctx->argv[0], ctx->argv[1], ctx->argv[2], (const uint8_t *)"KEEPTTL" };
            size_t lens[4] = { ctx->argvlen[0], ctx->argvlen[1], ctx->argvlen[2], 7 };
            repl_propagate(b, keepttl ? 4 : 3, argv, lens);
            return;
        }
        prop_key_state(b, ks, ctx, 1, true);
        return;
    }
    if (name_is(cmd, "setex") || name_is(cmd, "psetex") || name_is(cmd, "incrbyfloat")) {
        if (name_is(cmd, "incrbyfloat")) {
            ks_entry_t *e = ks_peek(ks, ctx->argv[1], ctx->argvlen[1]);
            if (e && ks_entry_type(e) == KS_TYPE_STRING) {
                size_t vlen;
                const uint8_t *v = ks_entry_str(e, &vlen);
                const uint8_t *argv[4] = { (const uint8_t *)"SET", ctx->argv[1], v, (const uint8_t *)"KEEPTTL" };
                size_t lens[4] = { 3, ctx->argvlen[1], vlen, 7 };
                repl_propagate(b, 4, argv, lens);
                return;
            }
        }
        prop_key_state(b, ks, ctx, 1, true);
        return;
    }
    if (name_is(cmd, "expire") || name_is(cmd, "pexpire") || name_is(cmd, "expireat") || name_is(cmd, "pexpireat") ||
        name_is(cmd, "getex")) {
        prop_key_state(b, ks, ctx, 1, false);
        return;
    }
    if (name_is(cmd, "getdel")) {
        repl_propagate_del(b, ctx->argv[1], ctx->argvlen[1]);
        return;
    }
    repl_propagate(b, ctx->argc, ctx->argv, ctx->argvlen);
}

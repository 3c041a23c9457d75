/* cmd_allkeys.c - the commands that see the whole local keyspace, which is
 * spread over every worker: DBSIZE, KEYS, RANDOMKEY, FLUSHALL, FLUSHDB and
 * SCAN (one part per worker, merged on the client's worker: the fan-out
 * callbacks their table entries name, driven by actors/worker/fanout.c; SCAN
 * keeps the worker index in the low 6 bits of its cursor).
 *
 * Must never: read another worker's keyspace; a part sees only the worker it
 * runs on.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/persist/rdb_save.h"
#include "actors/state/asm.h"
#include "actors/repl/repl.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/wdb.h"
#include "proto/strnum.h"
#include "runtime/xmalloc.h"

#define SCAN_WORKER_BITS 6

/* ---------------- SCAN ----------------
 *
 * The cursor is (local << 6) | w: worker w's own bit-reversed cursor `local`
 * (ks_scan), so a key that stays in the keyspace is reported at least once
 * however the worker's table grows or shrinks between calls, and keys never
 * change worker (worker_of_slot is fixed). Every call is one fan-out: worker
 * w scans on from `local`, the workers after it from 0, the ones before it do
 * nothing. The client's worker then takes w's keys and, while w's part was
 * finished and fewer than COUNT keys were gathered, the next worker's keys
 * too, so a small keyspace comes back whole with cursor 0 in one call as on
 * redis-server. The answer resumes exactly after the last part it used. */

/* Parses SCAN's arguments; returns false after replying an error to r. */
static bool scan_parse(int argc, const uint8_t **argv, const size_t *argvlen, resp_buf_t *r,
                       unsigned long long *cursor, const uint8_t **pat, size_t *patlen, long long *count,
                       const uint8_t **type, size_t *typelen)
{
    const char *cs = (const char *)argv[1];
    char *end = NULL;
    char tmp[32];
    size_t n = argvlen[1];
    if (n == 0 || n >= sizeof tmp) { resp_add_error(r, "ERR invalid cursor"); return false; }
    memcpy(tmp, cs, n);
    tmp[n] = '\0';
    errno = 0;
    *cursor = strtoull(tmp, &end, 10);
    /* The cursor is not a string2ll number in Redis either: 7.0.15 reads it
     * with strtoul, so "+0" and "-1" are cursors, leading blanks are not. */
    if (*end || errno || isspace((unsigned char)tmp[0])) { resp_add_error(r, "ERR invalid cursor"); return false; }
    *pat = NULL; *patlen = 0; *count = 10; *type = NULL; *typelen = 0;
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc) { resp_add_error(r, "ERR syntax error"); return false; }
        if (arg_is(argv[i], argvlen[i], "match")) {
            *pat = argv[i + 1]; *patlen = argvlen[i + 1];
        } else if (arg_is(argv[i], argvlen[i], "count")) {
            long long v;
            if (!str_to_ll(argv[i + 1], argvlen[i + 1], &v)) {
                resp_add_error(r, "ERR value is not an integer or out of range");
                return false;
            }
            if (v < 1) { resp_add_error(r, "ERR syntax error"); return false; }
            *count = v;
        } else if (arg_is(argv[i], argvlen[i], "type")) {
            *type = argv[i + 1]; *typelen = argvlen[i + 1];
        } else {
            resp_add_error(r, "ERR syntax error");
            return false;
        }
    }
    return true;
}

/* What one worker's part reports, ahead of its keys (bulk strings) in the
 * part's reply buffer; copied with memcpy, the buffer is not aligned. */
typedef struct scan_part_hdr {
    int widx;               /* the worker that scanned */
    int ran;                /* 0: before the cursor's worker, nothing scanned */
    unsigned long long next; /* that worker's next local cursor, 0 when done */
    long long nkeys;        /* keys that follow */
    long long count;        /* the call's COUNT */
    size_t len;             /* bytes of keys that follow */
} scan_part_hdr_t;

static unsigned long long scan_encode(unsigned long long local, int widx)
{
    return (local << SCAN_WORKER_BITS) | (unsigned)widx;
}

/* resp_bulk_collect for keys clients may see: not those of slots a
 * migration is still importing (state/asm.h). */
static void collect_visible(const uint8_t *key, size_t len, void *arg)
{
    if (asm_key_hidden(key, len)) return;
    resp_bulk_collect(key, len, arg);
}

/* A random key clients may see (a few tries past hidden ones). */
static void random_visible(struct keyspace *ks, long long now_ms, resp_bulk_list_t *acc)
{
    for (int i = 0; i < 16 && acc->n == 0; i++) {
        if (!ks_random_key(ks, now_ms, collect_visible, acc) || !asm_any_hidden()) return;
    }
}

/* The expired keys a scan step met (copies), deleted once it is done. */
typedef struct expired_keys {
    uint8_t **keys;
    size_t *lens;
    size_t n, cap;
} expired_keys_t;

static void collect_expired(const uint8_t *key, size_t len, void *arg)
{
    expired_keys_t *x = arg;
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 16;
        x->keys = xrealloc(x->keys, x->cap * sizeof *x->keys);
        x->lens = xrealloc(x->lens, x->cap * sizeof *x->lens);
    }
    x->keys[x->n] = xmalloc(len ? len : 1);
    memcpy(x->keys[x->n], key, len);
    x->lens[x->n++] = len;
}

/* One worker's scan from `local`; keys to out. The expired keys matching
 * the pattern that it met are deleted (and their DEL propagated) by a
 * lookup each, as 7.0.15's SCAN expires them (a replica only skips them). */
static unsigned long long scan_local(struct keyspace *ks, unsigned long long local, const uint8_t *pat,
                                     size_t patlen, long long count, const uint8_t *type, size_t typelen,
                                     long long now_ms, resp_buf_t *out, long long *nkeys, size_t *expired)
{
    resp_bulk_list_t acc = { out, 0 };
    expired_keys_t x = { 0 };
    unsigned long long next = ks_scan(ks, local, pat, patlen, count, type, typelen, now_ms, collect_visible, &acc,
                                      collect_expired, &x);
    for (size_t i = 0; i < x.n; i++) {
        (void)ks_lookup(ks, x.keys[i], x.lens[i], now_ms);
        free(x.keys[i]);
    }
    free(x.keys);
    free(x.lens);
    *expired = x.n;
    *nkeys = acc.n;
    return next;
}

/* The local form (a part run with no fan-out): this worker's keys only. */
void cmd_scan(cmd_ctx_t *ctx)
{
    unsigned long long cursor;
    const uint8_t *pat, *type;
    size_t patlen, typelen;
    long long count, n;
    if (!scan_parse(ctx->argc, ctx->argv, ctx->argvlen, ctx->reply, &cursor, &pat, &patlen, &count, &type,
                    &typelen))
        return;
    resp_buf_t keys;
    resp_buf_init(&keys, ctx->reply->proto);
    size_t expired;               /* the call's figures are published after it */
    unsigned long long next = scan_local(ctx->ks, cursor >> SCAN_WORKER_BITS, pat, patlen, count, type, typelen,
                                         ctx->now_ms, &keys, &n, &expired);
    resp_add_array(ctx->reply, 2);
    char nb[32];
    int l = snprintf(nb, sizeof nb, "%llu", next ? scan_encode(next, (int)(cursor & 63)) : 0ULL);
    resp_add_bulk(ctx->reply, nb, (size_t)l);
    resp_add_array(ctx->reply, n);
    resp_buf_append(ctx->reply, keys.data, keys.len);
    resp_buf_free(&keys);
}

/* Only checks the arguments; the fan-out does the rest. */
bool cmd_scan_start(cmd_ctx_t *ctx)
{
    unsigned long long cursor;
    const uint8_t *pat, *type;
    size_t patlen, typelen;
    long long count;
    return !scan_parse(ctx->argc, ctx->argv, ctx->argvlen, ctx->reply, &cursor, &pat, &patlen, &count, &type,
                       &typelen);
}

void cmd_scan_part(struct worker *w, struct remote_cmd *rc)
{
    const queued_cmd_t *q = &rc->cmds[0];
    unsigned long long cursor;
    const uint8_t *pat, *type;
    size_t patlen, typelen;
    long long count;
    scan_part_hdr_t h = { .widx = worker_index(w) };
    resp_buf_t keys;
    resp_buf_init(&keys, rc->reply.proto);
    resp_buf_t err;
    resp_buf_init(&err, rc->reply.proto);
    /* Checked by cmd_scan_start already; err only keeps the parser's hands busy. */
    if (scan_parse(q->argc, q->argv, q->argvlen, &err, &cursor, &pat, &patlen, &count, &type, &typelen)) {
        int from = (int)(cursor & ((1u << SCAN_WORKER_BITS) - 1)) % workers_count();
        h.count = count;
        if (h.widx >= from) {
            h.ran = 1;
            unsigned long long local = h.widx == from ? cursor >> SCAN_WORKER_BITS : 0;
            size_t expired;
            h.next = scan_local(worker_keyspace(w), local, pat, patlen, count, type, typelen, rc->now_ms, &keys,
                                &h.nkeys, &expired);
            if (expired) {        /* INFO (expired_keys, keyspace) shows the deletions at once */
                wdb_publish_current(w);
                worker_publish_ks_stats(w);
            }
        }
    }
    h.len = keys.len;
    resp_buf_append(&rc->reply, (const char *)&h, sizeof h);
    resp_buf_append(&rc->reply, keys.data, keys.len);
    resp_buf_free(&keys);
    resp_buf_free(&err);
}

void cmd_scan_merge(struct reply_slot *s, const struct remote_cmd *rc)
{
    resp_buf_append(&s->acc, rc->reply.data, rc->reply.len);
}

void cmd_scan_reply(struct reply_slot *s)
{
    const char *part[MAX_WORKERS] = { 0 };
    scan_part_hdr_t hdr[MAX_WORKERS];
    int from = -1;
    for (size_t off = 0; off + sizeof(scan_part_hdr_t) <= s->acc.len;) {
        scan_part_hdr_t h;
        memcpy(&h, s->acc.data + off, sizeof h);
        off += sizeof h;
        if (h.widx >= 0 && h.widx < MAX_WORKERS && h.ran) {
            hdr[h.widx] = h;
            part[h.widx] = s->acc.data + off;
            if (from < 0 || h.widx < from) from = h.widx;
        }
        off += h.len;
    }
    unsigned long long next = 0;
    long long nkeys = 0, gathered = 0;
    int last = from;
    /* Which parts go into this answer: the cursor's worker's, then each next
     * one while the previous part was finished and COUNT is not reached. */
    while (last >= 0) {
        nkeys += hdr[last].nkeys;
        if (hdr[last].next) { next = scan_encode(hdr[last].next, last); break; }
        int nw = last + 1;
        if (nw >= workers_count() || !part[nw]) break;   /* every worker done: cursor 0 */
        gathered += hdr[last].nkeys;
        if (gathered >= hdr[from].count) { next = scan_encode(0, nw); break; }
        last = nw;
    }
    resp_add_array(&s->buf, 2);
    char nb[32];
    int l = snprintf(nb, sizeof nb, "%llu", next);
    resp_add_bulk(&s->buf, nb, (size_t)l);
    resp_add_array(&s->buf, nkeys);
    for (int i = from; i >= 0 && i <= last; i++) resp_buf_append(&s->buf, part[i], hdr[i].len);
}

/* ---------------- DBSIZE ---------------- */

void cmd_dbsize(cmd_ctx_t *ctx)
{
    resp_add_int(ctx->reply, (long long)(ks_size(ctx->ks) - asm_hidden_keys(ctx->ks)));
}

void cmd_dbsize_part(struct worker *w, struct remote_cmd *rc)
{
    struct keyspace *ks = worker_keyspace(w);
    rc->keys_delta = (long long)(ks_size(ks) - asm_hidden_keys(ks));
}

void cmd_dbsize_merge(struct reply_slot *s, const struct remote_cmd *rc) { s->sum += rc->keys_delta; }

void cmd_dbsize_reply(struct reply_slot *s) { resp_add_int(&s->buf, s->sum); }

/* ---------------- KEYS ---------------- */

void cmd_keys(cmd_ctx_t *ctx)
{
    resp_bulk_list_t acc = { NULL, 0 };
    resp_buf_t tmp;
    resp_buf_init(&tmp, ctx->reply->proto);
    acc.buf = &tmp;
    ks_keys(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms, collect_visible, &acc);
    resp_add_array(ctx->reply, acc.n);
    resp_buf_append(ctx->reply, tmp.data, tmp.len);
    resp_buf_free(&tmp);
}

void cmd_keys_part(struct worker *w, struct remote_cmd *rc)
{
    const queued_cmd_t *q = &rc->cmds[0];
    resp_bulk_list_t acc = { &rc->reply, 0 };
    ks_keys(worker_keyspace(w), q->argv[1], q->argvlen[1], rc->now_ms, collect_visible, &acc);
    rc->keys_delta = acc.n;
}

void cmd_keys_merge(struct reply_slot *s, const struct remote_cmd *rc)
{
    s->sum += rc->keys_delta;
    resp_buf_append(&s->acc, rc->reply.data, rc->reply.len);
}

void cmd_keys_reply(struct reply_slot *s)
{
    resp_add_array(&s->buf, s->sum);
    resp_buf_append(&s->buf, s->acc.data, s->acc.len);
}

/* ---------------- RANDOMKEY ---------------- */

void cmd_randomkey(cmd_ctx_t *ctx)
{
    resp_bulk_list_t acc = { ctx->reply, 0 };
    random_visible(ctx->ks, ctx->now_ms, &acc);
    if (!acc.n) resp_add_null(ctx->reply);
}

void cmd_randomkey_part(struct worker *w, struct remote_cmd *rc)
{
    resp_bulk_list_t acc = { &rc->reply, 0 };
    struct keyspace *ks = worker_keyspace(w);
    random_visible(ks, rc->now_ms, &acc);
    rc->keys_delta = acc.n ? (long long)(ks_size(ks) - asm_hidden_keys(ks)) : 0;   /* weight by size */
}

void cmd_randomkey_merge(struct reply_slot *s, const struct remote_cmd *rc)
{
    /* Reservoir choice weighted by each worker's key count. */
    if (rc->keys_delta > 0) {
        s->sum += rc->keys_delta;
        if (random() % s->sum < rc->keys_delta) {
            resp_buf_reset(&s->acc);
            resp_buf_append(&s->acc, rc->reply.data, rc->reply.len);
        }
    }
}

void cmd_randomkey_reply(struct reply_slot *s)
{
    if (s->acc.len) resp_buf_append(&s->buf, s->acc.data, s->acc.len);
    else resp_add_null(&s->buf);
}

/* ---------------- FLUSHALL, FLUSHDB ---------------- */

void cmd_flushall(cmd_ctx_t *ctx) { ks_flush(ctx->ks); ctx->dirty = true; resp_add_simple(ctx->reply, "OK"); }
void cmd_flushdb(cmd_ctx_t *ctx) { cmd_flushall(ctx); }

bool cmd_flush_start(cmd_ctx_t *ctx)
{
    if (ctx->argc > 2 || (ctx->argc == 2 && !arg_is_at(ctx, 1, "async") && !arg_is_at(ctx, 1, "sync"))) {
        resp_add_error(ctx->reply, "ERR syntax error");
        return true;
    }
    /* FLUSHALL under save points also saves the empty dataset, in the same
     * cut (rdb_flushall_save); FLUSHDB does not, as in 7.0.15. */
    if (arg_is_at(ctx, 0, "flushall") && rdb_save_points_set()) {
        rdb_flushall_save(dispatch_defer_nosend(ctx, 0));
        return true;
    }
    if (!repl_worker_propagates(worker_keyspace(ctx->worker))) return false;
    /* With replicas the flush is one point in the stream: the replication
     * actor runs it as a cut across all workers. The client stays blocked
     * (dispatch_defer_nosend) until the cut is done, so its next command
     * sees the empty keyspace, and the slot's completion unblocks it. */
    repl_request_flush(dispatch_defer_nosend(ctx, 0));
    return true;
}

void cmd_flush_part(struct worker *w, struct remote_cmd *rc)
{
    /* FLUSHDB: the client's database, current here (fanout.c); FLUSHALL: every one */
    if (arg_is(rc->cmds[0].argv[0], rc->cmds[0].argvlen[0], "flushall")) wdb_flush_all(w, false);
    else worker_flush_keyspace(w, false);
}

void cmd_flush_reply(struct reply_slot *s) { resp_add_simple(&s->buf, "OK"); }

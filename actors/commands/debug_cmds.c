/* debug_cmds.c - DEBUG subcommands that test harnesses use to shape a
 * node's data: POPULATE (string keys on every worker, each key on the worker
 * of its slot) and SET-ACTIVE-EXPIRE (stop the cron's expiry sweep), and to
 * compare two nodes' data: DIGEST.
 *
 * Must never: create a key on a worker that does not own its slot, overwrite
 * an existing live key, or propagate what it writes (as in Redis, these keys
 * are not sent to replicas).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>

#include "actors/commands/args.h"
#include "actors/commands/debug_cmds.h"
#include "actors/types/hash.h"
#include "actors/types/list.h"
#include "actors/types/set.h"
#include "actors/types/stream.h"
#include "actors/types/zset.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/wdb.h"
#include "proto/slot.h"
#include "proto/strnum.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

/* Redis's getPositiveLong with its default message: a strict integer >= 0. */
static bool positive_long(const uint8_t *s, size_t len, long long *out)
{
    return str_to_ll(s, len, out) && *out >= 0;
}

#define POSITIVE_ERR "ERR value is out of range, must be positive"

/* Values are built in one buffer per call: larger sizes are refused rather
 * than allocated (Redis would try; a test never needs more). */
#define POPULATE_MAX_VALUE (512LL * 1024 * 1024)

void debug_populate(cmd_ctx_t *ctx)
{
    long long count, size = 0;
    if (!positive_long(ctx->argv[2], ctx->argvlen[2], &count)) {
        resp_add_error(ctx->reply, POSITIVE_ERR);
        return;
    }
    if (ctx->argc == 5 && !positive_long(ctx->argv[4], ctx->argvlen[4], &size)) {
        resp_add_error(ctx->reply, POSITIVE_ERR);
        return;
    }
    if (size > POPULATE_MAX_VALUE) {
        resp_add_error(ctx->reply, "ERR value is out of range");
        return;
    }
    /* Every worker creates the keys of its own slots; the reply comes when all are done. */
    dispatch_fanout(ctx->client, dispatch_current_cmd(ctx->client), ctx->argc, ctx->argv, ctx->argvlen);
}

/* One worker's share of POPULATE: creates the missing keys whose slot it owns. */
static void debug_populate_part(worker_t *w, const queued_cmd_t *q, long long now_ms)
{
    long long count = 0, size = 0;
    if (!positive_long(q->argv[2], q->argvlen[2], &count)) return;
    if (q->argc == 5 && !positive_long(q->argv[4], q->argvlen[4], &size)) return;
    /* The prefix is used up to its first NUL byte, and a name longer than
     * 127 bytes is cut there, as Redis formats it into a 128-byte buffer. */
    const char *prefix = q->argc >= 4 ? (const char *)q->argv[3] : "key";
    char *val = size > 0 ? xcalloc(1, (size_t)size) : NULL;
    char key[128], num[64];
    for (long long j = 0; j < count; j++) {
        int kl = snprintf(key, sizeof key, "%s:%llu", prefix, (unsigned long long)j);
        size_t klen = kl < (int)sizeof key ? (size_t)kl : sizeof key - 1;
        if (worker_of_slot(slot_of_key((const uint8_t *)key, klen)) != worker_index(w)) continue;
        if (ks_lookup(worker_keyspace(w), (const uint8_t *)key, klen, now_ms)) continue;   /* existing keys stay */
        int nl = snprintf(num, sizeof num, "value:%llu", (unsigned long long)j);
        const void *v = num;
        size_t vlen = (size_t)nl;
        if (size > 0) {
            /* exactly `size` bytes: the text, cut or padded with zero bytes */
            memset(val, 0, (size_t)size);
            memcpy(val, num, (size_t)nl < (size_t)size ? (size_t)nl : (size_t)size);
            v = val;
            vlen = (size_t)size;
        }
        ks_set_string(worker_keyspace(w), (const uint8_t *)key, klen, v, vlen, KS_NO_EXPIRE, now_ms);
        /* A WATCH on this key must see the change (only this thread writes). */
        worker_touch_key(w, (const uint8_t *)key, klen);
    }
    free(val);
    worker_publish_key_count(w);
}

void debug_set_active_expire(cmd_ctx_t *ctx)
{
    /* Redis reads the flag with atoi: leading digits, anything else is 0. */
    char buf[32];
    size_t n = ctx->argvlen[2] < sizeof buf - 1 ? ctx->argvlen[2] : sizeof buf - 1;
    memcpy(buf, ctx->argv[2], n);
    buf[n] = '\0';
    long v = strtol(buf, NULL, 10);
    atomic_store_explicit(&g_active_expire, v != 0, memory_order_relaxed);
    resp_add_simple(ctx->reply, "OK");
}

/* ---- DEBUG DIGEST ----
 * 7.0.15's dataset digest, so that a master and its replica (or a shoal node
 * and a redis-server holding the same data) give the same 40 hex digits. Per
 * key: d = 0; mix(d, key); mix(d, type as 4 big-endian bytes); mix(d, value)
 * (a list's elements mixed one by one, head first);
 * with a TTL, d ^= SHA1("!!expire!!"). The dataset: f = 0, then for each
 * database that has keys, in order, f = mix(f, its number as 4 big-endian
 * bytes) and f ^= SHA1(d) for every key of it, in any order (so each worker
 * folds its own keys per database and the folds are xored together); all
 * zeros when there is no key.
 * mix(d, x) is d = SHA1(d ^ SHA1(x)). */

static void xor_sha1(uint8_t d[20], const void *p, size_t n)
{
    uint8_t h[SHA_DIGEST_LENGTH];
    SHA1(p, n, h);
    for (int i = 0; i < 20; i++) d[i] ^= h[i];
}

static void mix(uint8_t d[20], const void *p, size_t n)
{
    xor_sha1(d, p, n);
    uint8_t h[SHA_DIGEST_LENGTH];
    SHA1(d, 20, h);
    memcpy(d, h, 20);
}

typedef struct digest_acc {
    uint8_t fold[20];
    long long keys;
} digest_acc_t;

/* d ^= what 7.0.15's xorObjectDigest mixes for e's value: its type, its
 * contents, and the expire mark when it has a TTL. */
static void value_digest(uint8_t d[20], ks_entry_t *e, bool has_ttl)
{
    uint8_t type[4] = { 0, 0, 0, ks_entry_type(e) };
    mix(d, type, sizeof type);
    if (ks_entry_type(e) == KS_TYPE_STRING) {
        size_t vlen;
        const uint8_t *v = ks_entry_str(e, &vlen);
        mix(d, v, vlen);
    } else if (ks_entry_type(e) == KS_TYPE_LIST) {        /* mix(d, element), head to tail */
        list_iter_t it;
        list_elem_t el;
        if (list_iter_at(ks_entry_obj(e), 0, true, &it))
            while (list_iter_next(&it, &el)) mix(d, el.p, el.len);
    } else if (ks_entry_type(e) == KS_TYPE_SET) {         /* d ^= SHA1(member), any order */
        set_iter_t it;
        const uint8_t *m;
        size_t ml;
        set_iter_init(&it, ks_entry_obj(e));
        while (set_iter_next(&it, &m, &ml)) xor_sha1(d, m, ml);
    } else if (ks_entry_type(e) == KS_TYPE_ZSET) {        /* d ^= SHA1(mix(mix(0, member), "%.17g" score)) */
        zset_iter_t it;
        const uint8_t *m;
        size_t ml;
        double score;
        zset_iter_init(&it, ks_entry_obj(e), 0, false);
        while (zset_iter_next(&it, &m, &ml, &score)) {
            uint8_t pair[20] = { 0 };
            char sb[64];
            int sl = snprintf(sb, sizeof sb, "%.17g", score);
            mix(pair, m, ml);
            mix(pair, sb, (size_t)sl);
            xor_sha1(d, pair, 20);
        }
    } else if (ks_entry_type(e) == KS_TYPE_HASH) {        /* d ^= SHA1(mix(mix(0, field), value)) */
        hash_iter_t it;
        const uint8_t *f, *v;
        size_t fl, vl;
        hash_iter_init(&it, ks_entry_obj(e));
        while (hash_iter_next(&it, &f, &fl, &v, &vl)) {
            uint8_t pair[20] = { 0 };
            mix(pair, f, fl);
            mix(pair, v, vl);
            xor_sha1(d, pair, 20);
        }
    } else if (ks_entry_type(e) == KS_TYPE_STREAM) {      /* mix(d, "ms.seq"), then each field and value */
        stream_iter_t it;
        stream_id_t id;
        int64_t nf;
        stream_iter_start(&it, ks_entry_obj(e), NULL, NULL, false);
        while (stream_iter_next(&it, &id, &nf)) {
            char ib[48];
            int il = snprintf(ib, sizeof ib, "%llu.%llu", (unsigned long long)id.ms, (unsigned long long)id.seq);
            mix(d, ib, (size_t)il);
            while (nf-- > 0) {
                const uint8_t *f, *v;
                size_t fl, vl;
                uint8_t fb[21], vb[21];
                stream_iter_field(&it, &f, &fl, &v, &vl, fb, vb);
                mix(d, f, fl);
                mix(d, v, vl);
            }
        }
    }
    if (has_ttl) xor_sha1(d, "!!expire!!", 10);
}

void debug_value_digest(uint8_t d[20], struct keyspace *ks, ks_entry_t *e)
{
    value_digest(d, e, ks_entry_expire(ks, e) != KS_NO_EXPIRE);
}

static void digest_entry(void *arg, ks_entry_t *e, long long expire_ms)
{
    digest_acc_t *a = arg;
    uint8_t d[20] = { 0 };
    size_t klen;
    const uint8_t *key = ks_entry_key(e, &klen);
    mix(d, key, klen);
    value_digest(d, e, expire_ms != KS_NO_EXPIRE);
    xor_sha1(a->fold, d, 20);
    a->keys++;
}

static bool debug_is_digest(const queued_cmd_t *q)
{
    return q->argc == 2 && arg_is(q->argv[1], q->argvlen[1], "digest");
}

/* One database's fold as a worker's share of DIGEST carries it (the
 * records of rc->reply, and of the merged s->acc). */
typedef struct digest_rec {
    int32_t db;
    long long keys;
    uint8_t fold[20];
} digest_rec_t;

/* One worker's share of DIGEST: a record per database that has keys here,
 * appended to rc->reply. */
static void debug_digest_part(worker_t *w, remote_cmd_t *rc)
{
    /* every key the table holds, expired-not-yet-deleted ones included, as
     * 7.0.15 walks its dict */
    for (int db = 0; db < wdb_top(w); db++) {
        struct keyspace *ks = wdb_peek(w, db);
        if (!ks) continue;
        digest_acc_t a = { { 0 }, 0 };
        ks_foreach(ks, digest_entry, &a);
        if (a.keys == 0) continue;
        digest_rec_t r = { .db = db, .keys = a.keys };
        memcpy(r.fold, a.fold, 20);
        resp_buf_append(&rc->reply, (const char *)&r, sizeof r);
    }
}

/* Adds one worker's records into the merged ones (one per database). */
static void debug_digest_merge(resp_buf_t *acc, const char *p, size_t n)
{
    for (size_t off = 0; off + sizeof(digest_rec_t) <= n; off += sizeof(digest_rec_t)) {
        digest_rec_t r, m;
        memcpy(&r, p + off, sizeof r);
        size_t k = 0;
        for (; k + sizeof m <= acc->len; k += sizeof m) {
            memcpy(&m, acc->data + k, sizeof m);
            if (m.db == r.db) break;
        }
        if (k + sizeof m > acc->len) {
            resp_buf_append(acc, (const char *)&r, sizeof r);
            continue;
        }
        m.keys += r.keys;
        for (int i = 0; i < 20; i++) m.fold[i] ^= r.fold[i];
        memcpy(acc->data + k, &m, sizeof m);
    }
}

static int rec_by_db(const void *a, const void *b)
{
    const digest_rec_t *x = a, *y = b;
    return (x->db > y->db) - (x->db < y->db);
}

/* The reply from the merged records: 7.0.15's 40 hex digits. */
static void debug_digest_reply(resp_buf_t *out, resp_buf_t *acc)
{
    size_t n = acc->len / sizeof(digest_rec_t);
    digest_rec_t *recs = xmalloc(n * sizeof *recs + 1);
    if (n) memcpy(recs, acc->data, n * sizeof *recs);
    qsort(recs, n, sizeof *recs, rec_by_db);
    uint8_t f[20] = { 0 };
    for (size_t j = 0; j < n; j++) {
        if (recs[j].keys == 0) continue;
        uint32_t db = (uint32_t)recs[j].db;
        uint8_t be[4] = { (uint8_t)(db >> 24), (uint8_t)(db >> 16), (uint8_t)(db >> 8), (uint8_t)db };
        mix(f, be, sizeof be);
        for (int i = 0; i < 20; i++) f[i] ^= recs[j].fold[i];
    }
    free(recs);
    char hex[41];
    for (int i = 0; i < 20; i++) snprintf(hex + 2 * i, 3, "%02x", f[i]);
    resp_add_simple(out, hex);
}

/* DEBUG's fan-out (POPULATE and DIGEST are the forms that fan out). */
void cmd_debug_part(struct worker *w, struct remote_cmd *rc)
{
    const queued_cmd_t *q = &rc->cmds[0];
    if (debug_keyed_part(w, rc)) return;   /* debug_keys.c */
    if (debug_is_digest(q)) debug_digest_part(w, rc);
    else debug_populate_part(w, q, rc->now_ms);
}

void cmd_debug_merge(struct reply_slot *s, const struct remote_cmd *rc)
{
    if (debug_keyed_merge(s, rc)) return;
    if (debug_is_digest(&rc->cmds[0])) {
        s->count = -1;   /* marks the slot as DIGEST's for cmd_debug_reply */
        debug_digest_merge(&s->acc, rc->reply.data, rc->reply.len);
    }
}

void cmd_debug_reply(struct reply_slot *s)
{
    if (debug_keyed_reply(s)) return;
    if (s->count == -1) debug_digest_reply(&s->buf, &s->acc);
    else resp_add_simple(&s->buf, "OK");
}

/* ---- DEBUG PROTOCOL, ERROR, LOG ---- */

void debug_protocol(cmd_ctx_t *ctx)
{
    resp_buf_t *r = ctx->reply;
    const uint8_t *t = ctx->argv[2];
    size_t n = ctx->argvlen[2];
    bool v3 = r->proto >= 3;
    if (arg_is(t, n, "string")) {
        resp_add_bulk_str(r, "Hello World");
    } else if (arg_is(t, n, "integer")) {
        resp_add_int(r, 12345);
    } else if (arg_is(t, n, "double")) {
        resp_add_double(r, 3.141);
    } else if (arg_is(t, n, "bignum")) {
        static const char big[] = "1234567999999999999999999999999999999";
        if (v3) resp_buf_append(r, "(" "1234567999999999999999999999999999999" "\r\n", sizeof big + 2);
        else resp_add_bulk_str(r, big);
    } else if (arg_is(t, n, "null")) {
        resp_add_null(r);
    } else if (arg_is(t, n, "array") || arg_is(t, n, "set")) {
        if (arg_is(t, n, "set")) resp_add_set(r, 3);
        else resp_add_array(r, 3);
        for (int j = 0; j < 3; j++) resp_add_int(r, j);
    } else if (arg_is(t, n, "map")) {
        resp_add_map(r, 3);
        for (int j = 0; j < 3; j++) {
            resp_add_int(r, j);
            resp_add_bool(r, j == 1);
        }
    } else if (arg_is(t, n, "attrib")) {
        /* an attribute is no reply of its own: a real one follows it */
        if (v3) {
            static const char attr[] = "|1\r\n";
            resp_buf_append(r, attr, sizeof attr - 1);
            resp_add_bulk_str(r, "key-popularity");
            resp_add_array(r, 2);
            resp_add_bulk_str(r, "key:123");
            resp_add_int(r, 90);
        }
        resp_add_bulk_str(r, "Some real reply following the attribute");
    } else if (arg_is(t, n, "push")) {
        if (!v3) {
            resp_add_error(r, "ERR RESP2 is not supported by this command");
            return;
        }
        static const char push[] = ">2\r\n";
        resp_buf_append(r, push, sizeof push - 1);
        resp_add_bulk_str(r, "server-cpu-usage");
        resp_add_int(r, 42);
        resp_add_bulk_str(r, "Some real reply following the push reply");
    } else if (arg_is(t, n, "true") || arg_is(t, n, "false")) {
        resp_add_bool(r, arg_is(t, n, "true"));
    } else if (arg_is(t, n, "verbatim")) {
        resp_add_verbatim(r, "This is a verbatim\nstring", 25);
    } else {
        resp_add_error(r, "ERR Wrong protocol type name. Please use one of the following: "
                          "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
    }
}

void debug_error(cmd_ctx_t *ctx)
{
    /* the argument as the error line itself, newlines made spaces */
    size_t n = ctx->argvlen[2];
    char *line = xmalloc(n + 3);
    line[0] = '-';
    for (size_t i = 0; i < n; i++) {
        char ch = (char)ctx->argv[2][i];
        line[1 + i] = (ch == '\n' || ch == '\r') ? ' ' : ch;
    }
    memcpy(line + 1 + n, "\r\n", 2);
    resp_buf_append(ctx->reply, line, n + 3);
    free(line);
}

void debug_log(cmd_ctx_t *ctx)
{
    LOG_WARNING("DEBUG LOG: %.*s", (int)ctx->argvlen[2], (const char *)ctx->argv[2]);
    resp_add_simple(ctx->reply, "OK");
}

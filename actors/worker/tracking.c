/* tracking.c - client-side caching: the registry, default mode's key tables,
 * delivery of invalidations, and the CLIENT subcommands (tracking.h).
 * BCAST mode is in tracking_bcast.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/worker/keyspace.h"
#include "actors/config/config.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/client.h"
#include "actors/worker/client_ids.h"
#include "actors/worker/tracking.h"
#include "actors/worker/tracking_internal.h"
#include "proto/slot.h"
#include "runtime/xmalloc.h"

/* ---------------- the registry of tracking clients ---------------- */

/* Open addressing on the client id; a slot whose client stopped keeps a
 * tombstone, which a later client may take. Only a client's own worker
 * writes its slot: info and redirect first, then the id (release), so a
 * reader that finds the id (acquire) reads them whole. */
#define REG_CAP 16384u
#define REG_TOMB UINT64_MAX
static _Atomic uint64_t g_reg_id[REG_CAP];
static _Atomic uint64_t g_reg_info[REG_CAP];    /* worker index | flags << 8 | protocol << 40 */
static _Atomic uint64_t g_reg_redir[REG_CAP];
static _Atomic long long g_reg_count;

typedef struct reg_entry {
    int worker;
    uint32_t flags;
    int proto;
    uint64_t redir;
} reg_entry_t;

static unsigned reg_home(uint64_t id) { return (unsigned)((id * 0x9E3779B97F4A7C15ull) >> 50) & (REG_CAP - 1); }

static bool reg_find(uint64_t id, reg_entry_t *e)
{
    for (unsigned i = reg_home(id), n = 0; n < REG_CAP; i = (i + 1) & (REG_CAP - 1), n++) {
        uint64_t v = atomic_load_explicit(&g_reg_id[i], memory_order_acquire);   /* pairs with reg_put's release */
        if (v == 0) return false;
        if (v != id) continue;
        uint64_t info = atomic_load_explicit(&g_reg_info[i], memory_order_relaxed);
        e->worker = (int)(info & 0xff);
        e->flags = (uint32_t)(info >> 8);
        e->proto = (int)(info >> 40) & 0xff;
        e->redir = atomic_load_explicit(&g_reg_redir[i], memory_order_relaxed);
        return true;
    }
    return false;
}

static void reg_del(uint64_t id)
{
    for (unsigned i = reg_home(id), n = 0; n < REG_CAP; i = (i + 1) & (REG_CAP - 1), n++) {
        uint64_t v = atomic_load_explicit(&g_reg_id[i], memory_order_relaxed);
        if (v == 0) return;
        if (v != id) continue;
        atomic_store_explicit(&g_reg_id[i], REG_TOMB, memory_order_release);
        atomic_fetch_sub_explicit(&g_reg_count, 1, memory_order_relaxed);   /* a statistic */
        return;
    }
}

/* False when the registry is full. */
static bool reg_put(uint64_t id, int worker, uint32_t flags, int proto, uint64_t redir)
{
    /* the per-command and per-connection bits stay in the client_t */
    flags &= ~(uint32_t)(TRK_CACHING | TRK_BROKEN_REDIR);
    uint64_t info = (uint64_t)worker | (uint64_t)flags << 8 | (uint64_t)(proto & 0xff) << 40;
    unsigned free_at = REG_CAP;
    for (unsigned i = reg_home(id), n = 0; n < REG_CAP; i = (i + 1) & (REG_CAP - 1), n++) {
        uint64_t v = atomic_load_explicit(&g_reg_id[i], memory_order_relaxed);
        if (v == id) {
            /* our own slot: a reader may see the old or the new settings,
             * as a command racing CLIENT TRACKING on another connection */
            atomic_store_explicit(&g_reg_info[i], info, memory_order_relaxed);
            atomic_store_explicit(&g_reg_redir[i], redir, memory_order_relaxed);
            return true;
        }
        if (v == REG_TOMB && free_at == REG_CAP) free_at = i;
        if (v == 0) {
            if (free_at == REG_CAP) free_at = i;
            break;
        }
    }
    for (unsigned i = free_at, n = 0; i < REG_CAP && n < REG_CAP; i = (i + 1) & (REG_CAP - 1), n++) {
        uint64_t v = atomic_load_explicit(&g_reg_id[i], memory_order_relaxed);
        if (v != 0 && v != REG_TOMB) continue;
        /* another worker may claim the same slot for its client: the CAS decides */
        atomic_store_explicit(&g_reg_info[i], info, memory_order_relaxed);
        atomic_store_explicit(&g_reg_redir[i], redir, memory_order_relaxed);
        if (!atomic_compare_exchange_strong_explicit(&g_reg_id[i], &v, id, memory_order_release, memory_order_relaxed))
            continue;
        atomic_fetch_add_explicit(&g_reg_count, 1, memory_order_relaxed);   /* a statistic */
        return true;
    }
    return false;
}

/* ---------------- per-worker key tables ---------------- */

typedef struct trk_key {
    struct trk_key *next;
    uint64_t hash;
    uint64_t *ids;
    uint32_t nids, cap;
    size_t len;
    uint8_t key[];
} trk_key_t;

typedef struct trk_table {
    trk_key_t **b;
    size_t nb, n;
} trk_table_t;

/* Table i belongs to worker i's keyspace: only the thread running that
 * keyspace (its owner, or the worker holding its token) touches it. */
static trk_table_t g_tables[MAX_WORKERS];
static _Atomic long long g_total_keys, g_total_items;   /* statistics (relaxed) */

static uint64_t key_hash(const uint8_t *k, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) { h ^= k[i]; h *= 1099511628211ull; }
    return h;
}

static trk_key_t **find_slot(trk_table_t *t, const uint8_t *key, size_t len, uint64_t h)
{
    if (!t->nb) return NULL;
    trk_key_t **pp = &t->b[h & (t->nb - 1)];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && (*pp)->len == len && memcmp((*pp)->key, key, len) == 0) return pp;
    return pp;
}

static void grow(trk_table_t *t)
{
    size_t nb = t->nb ? t->nb * 2 : 64;
    trk_key_t **b = xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < t->nb; i++)
        for (trk_key_t *e = t->b[i], *nx; e; e = nx) {
            nx = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    free(t->b);
    t->b = b;
    t->nb = nb;
}

static void remember(trk_table_t *t, const uint8_t *key, size_t len, uint64_t id)
{
    if (t->n >= t->nb) grow(t);
    uint64_t h = key_hash(key, len);
    trk_key_t **pp = find_slot(t, key, len, h);
    trk_key_t *e = *pp;
    if (!e) {
        e = xcalloc(1, sizeof *e + len);
        e->hash = h;
        e->len = len;
        memcpy(e->key, key, len);
        *pp = e;
        t->n++;
        atomic_fetch_add_explicit(&g_total_keys, 1, memory_order_relaxed);
    }
    for (uint32_t i = 0; i < e->nids; i++)
        if (e->ids[i] == id) return;
    if (e->nids == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 2;
        e->ids = xrealloc(e->ids, e->cap * sizeof *e->ids);
    }
    e->ids[e->nids++] = id;
    atomic_fetch_add_explicit(&g_total_items, 1, memory_order_relaxed);
}

static void free_key(trk_key_t *e)
{
    atomic_fetch_sub_explicit(&g_total_keys, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&g_total_items, (long long)e->nids, memory_order_relaxed);
    free(e->ids);
    free(e);
}

/* ---------------- delivery ---------------- */

typedef struct inval_msg {
    worker_run_t run;
    uint64_t target;          /* the connection to write to */
    uint64_t tracker;         /* the tracking client it is for (== target unless redirected) */
    bool redirected;
    bool broken;              /* to the tracker: its redirect target is gone */
    size_t len;
    char value[];
} inval_msg_t;

static client_t *client_here(worker_t *w, uint64_t id)
{
    for (client_t *c = w->clients; c; c = c->next)
        if (c->id == id) return c;
    return NULL;
}

/* 7.0.15 sendTrackingMessage's writing half: a RESP3 push, or for a RESP2
 * redirect target subscribed to something a __redis__:invalidate message;
 * nothing for a RESP2 connection otherwise. */
static void write_inval(client_t *c, bool redirected, const char *value, size_t len)
{
    if (c->flags & CLIENT_CLOSED) return;
    resp_buf_t *out;
    if (c->proto >= 3) {
        out = client_push_target(c);
        static const char head[] = ">2\r\n$10\r\ninvalidate\r\n";
        resp_buf_append(out, head, sizeof head - 1);
    } else if (redirected && (c->flags & CLIENT_PUBSUB)) {
        out = client_push_target(c);
        static const char head[] = "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n";
        resp_buf_append(out, head, sizeof head - 1);
    } else {
        return;
    }
    resp_buf_append(out, value, len);
    client_schedule_write(c);
}

/* The tracker learns that its redirect target is gone (7.0.15: the flag,
 * and for RESP3 a tracking-redir-broken push). */
static void mark_broken(client_t *c, uint64_t redir)
{
    if (!(c->trk_flags & TRK_ON) || c->trk_redir != redir || (c->flags & CLIENT_CLOSED)) return;
    c->trk_flags |= TRK_BROKEN_REDIR;
    if (c->proto < 3) return;
    char buf[96];
    int n = snprintf(buf, sizeof buf, ">2\r\n$21\r\ntracking-redir-broken\r\n:%llu\r\n", (unsigned long long)redir);
    resp_buf_append(client_push_target(c), buf, (size_t)n);
    client_schedule_write(c);
}

static void inval_run(worker_t *w, rt_msg_t *msg)
{
    inval_msg_t *m = (inval_msg_t *)msg;
    client_t *c = client_here(w, m->target);
    if (c && m->broken) mark_broken(c, m->tracker);
    else if (c) write_inval(c, m->redirected, m->value, m->len);
    free(m);
}

static void post_one(int worker, uint64_t target, uint64_t tracker, bool redirected, bool broken, const char *value,
                     size_t len)
{
    inval_msg_t *m = xcalloc(1, sizeof *m + len);
    m->run.hdr.type = WMSG_RUN;
    m->run.fn = inval_run;
    m->target = target;
    m->tracker = tracker;
    m->redirected = redirected;
    m->broken = broken;
    m->len = len;
    if (len) memcpy(m->value, value, len);
    worker_post(worker, &m->run.hdr);
}

void trk_send(worker_t *here, client_t *tracker_here, uint64_t tracker, const char *value, size_t len)
{
    reg_entry_t e;
    if (tracker_here) {
        e.worker = here->index;
        e.flags = tracker_here->trk_flags;
        e.redir = tracker_here->trk_redir;
    } else if (!reg_find(tracker, &e)) {
        return;
    }
    if (!(e.flags & TRK_ON)) return;
    if (!e.redir) {
        if (tracker_here) write_inval(tracker_here, false, value, len);
        else post_one(e.worker, tracker, tracker, false, false, value, len);
        return;
    }
    if (!client_ids_exists(e.redir)) {
        if (tracker_here) mark_broken(tracker_here, e.redir);
        else post_one(e.worker, tracker, e.redir, false, true, NULL, 0);
        return;
    }
    /* The redirect target may sit on any worker: the one that holds it
     * writes the message, the others find nothing. */
    for (int i = 0; i < workers_count(); i++) post_one(i, e.redir, tracker, true, false, value, len);
}

/* One key's invalidation ("*1\r\n$n\r\nkey\r\n") for every client that read it. */
static void invalidate_key(trk_table_t *t, uint64_t writer, const uint8_t *key, size_t len)
{
    if (!t->n) return;
    trk_key_t **pp = find_slot(t, key, len, key_hash(key, len));
    if (!pp || !*pp) return;
    trk_key_t *e = *pp;
    *pp = e->next;
    t->n--;
    char stackbuf[256];
    size_t cap = len + 32;
    char *value = cap <= sizeof stackbuf ? stackbuf : xmalloc(cap);
    int h = snprintf(value, cap, "*1\r\n$%zu\r\n", len);
    memcpy(value + h, key, len);
    memcpy(value + h + len, "\r\n", 2);
    for (uint32_t i = 0; i < e->nids; i++) {
        reg_entry_t r;
        if (!reg_find(e->ids[i], &r) || !(r.flags & TRK_ON)) continue;
        /* keys read before the client switched to BCAST are not its concern any more */
        if (r.flags & TRK_BCAST) continue;
        if (e->ids[i] == writer && (r.flags & TRK_NOLOOP)) continue;
        trk_send(NULL, NULL, e->ids[i], value, (size_t)h + len + 2);
    }
    if (value != stackbuf) free(value);
    free_key(e);
}

/* ---------------- the table limit (tracking-table-max-keys) ---------------- */

static _Atomic int g_max_keys_cfg = -2;   /* -2: not looked up yet */
static atomic_flag g_trimming = ATOMIC_FLAG_INIT;

static long long max_keys(void)
{
    /* relaxed: every thread that looks it up finds the same index */
    int at = atomic_load_explicit(&g_max_keys_cfg, memory_order_relaxed);
    if (at == -2) {
        at = config_find("tracking-table-max-keys");
        atomic_store_explicit(&g_max_keys_cfg, at, memory_order_relaxed);
    }
    return at < 0 ? 0 : config_get_num_at(at);
}

static uint64_t next_random(void)
{
    static _Thread_local uint64_t s = 0x2545F4914F6CDD1Dull;
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

/* 7.0.15 trackingLimitUsedSlots: over the limit, keys picked at random are
 * forgotten, their readers told as if the keys had changed (no broadcast:
 * the keys did not change). Each worker forgets from its own table; one at a
 * time, so that together they do not forget more than needed. */
static void limit_table(worker_t *w)
{
    long long max = max_keys();
    if (max <= 0 || atomic_load_explicit(&g_total_keys, memory_order_relaxed) <= max) return;
    if (atomic_flag_test_and_set_explicit(&g_trimming, memory_order_acquire)) return;
    trk_table_t *t = &g_tables[w->index];
    for (int effort = 100; effort > 0 && t->n > 0; effort--) {
        if (atomic_load_explicit(&g_total_keys, memory_order_relaxed) <= max) break;
        size_t b = (size_t)next_random() & (t->nb - 1);
        while (!t->b[b]) b = (b + 1) & (t->nb - 1);
        trk_key_t *e = t->b[b];
        uint8_t stackkey[256];
        uint8_t *key = e->len <= sizeof stackkey ? stackkey : xmalloc(e->len);
        size_t len = e->len;
        memcpy(key, e->key, len);
        invalidate_key(t, 0, key, len);
        if (key != stackkey) free(key);
    }
    atomic_flag_clear_explicit(&g_trimming, memory_order_release);
}

/* ---------------- hooks ---------------- */

#define ID_DECIDED (1ull << 63)
#define ID_REMEMBER (1ull << 62)

uint64_t tracking_route_id(const client_t *c)
{
    uint32_t f = c->trk_flags;
    bool remember;
    if (!(f & TRK_ON) || (f & TRK_BCAST)) remember = false;
    else if (f & TRK_OPTIN) remember = (f & TRK_CACHING) != 0;
    else if (f & TRK_OPTOUT) remember = (f & TRK_CACHING) == 0;
    else remember = true;
    return c->id | ID_DECIDED | (remember ? ID_REMEMBER : 0);
}

uint64_t tracking_script_call_id(uint64_t routed)
{
    return (routed & ~ID_REMEMBER) | ID_DECIDED;   /* decided: not remembered */
}

uint64_t tracking_before_command(worker_t *w, uint64_t routed, int *remember)
{
    /* relaxed: as 7.0.15, only while some client tracks */
    if (atomic_load_explicit(&g_reg_count, memory_order_relaxed) > 0) limit_table(w);
    *remember = !(routed & ID_DECIDED) ? -1 : (routed & ID_REMEMBER) ? 1 : 0;
    return routed & ~(ID_DECIDED | ID_REMEMBER);
}

void tracking_cron(worker_t *w)
{
    if (atomic_load_explicit(&g_reg_count, memory_order_relaxed) > 0) limit_table(w);   /* relaxed, as above */
}

static bool tracking_active(void)
{
    /* relaxed: no tracking client and no remembered key: nothing to do */
    return atomic_load_explicit(&g_reg_count, memory_order_relaxed) != 0 ||
           atomic_load_explicit(&g_total_keys, memory_order_relaxed) != 0;
}

uint64_t tracking_before_write(const cmd_def_t *cmd, const cmd_ctx_t *ctx)
{
    uint64_t m = UINT64_MAX;
    if (!tracking_active()) return m;
    if (cmd->handler == cmd_xgroup_create)   /* signals the stream only when MKSTREAM makes it */
        return ctx->argc > 2 && ks_lookup(ctx->ks, ctx->argv[2], ctx->argvlen[2], ctx->now_ms) ? 0 : m;
    if (cmd->handler == cmd_smove)           /* its destination only when the member is added there */
        return cmd_smove_dst_has(ctx->ks, ctx->argc, ctx->argv, ctx->argvlen, ctx->now_ms) ? m & ~(1ull << 1) : m;
    if (cmd->handler != cmd_del && cmd->handler != cmd_unlink) return m;
    for (int i = 1; i < ctx->argc && i <= 64; i++)
        if (!ks_lookup(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms)) m &= ~(1ull << (i - 1));
    return m;
}

/* Writes to a stream's consumer groups only: 7.0.15 signals no key for them. */
static bool signals_nothing(const cmd_def_t *cmd)
{
    cmd_fn f = cmd->handler;
    return f == cmd_xack || f == cmd_xclaim || f == cmd_xautoclaim || f == cmd_xsetid || f == cmd_xgroup_setid ||
           f == cmd_xgroup_destroy || f == cmd_xgroup_createconsumer || f == cmd_xgroup_delconsumer;
}

/* Whether a write signals the key at argv[p] (the i-th of its keys, spec
 * its key spec or -1), as 7.0.15 calls signalModifiedKey: never for a key
 * it only reads (its spec says RO: the sources of SUNIONSTORE, ZRANGESTORE,
 * COPY, SORT ... STORE, GEOSEARCHSTORE, BITOP, PFMERGE); for DEL and UNLINK
 * only a key that existed, for XGROUP CREATE only a stream MKSTREAM made,
 * for SMOVE its destination only when it did not hold the member
 * (`existed`, tracking_before_write); for a call
 * that took effect as another (BLPOP of several keys as LPOP of one, LMPOP,
 * ZMPOP) only a key of that other call. */
static bool key_signalled(const cmd_def_t *cmd, const cmd_ctx_t *ctx, int i, int p, int spec, uint64_t existed)
{
    if (spec >= 0 && spec < cmd->keyspec_count && strncmp(cmd->keyspecs[spec].flags, "RO", 2) == 0) return false;
    if (i < 64 && !(existed & (1ull << i))) return false;
    if (ctx->prop_argc > 0) {
        for (int j = 1; j < ctx->prop_argc; j++)
            if (ctx->prop_argvlen[j] == ctx->argvlen[p] && memcmp(ctx->prop_argv[j], ctx->argv[p], ctx->argvlen[p]) == 0)
                return true;
        return false;
    }
    return true;
}

void tracking_after_command(worker_t *w, uint64_t cid, int decided, const cmd_def_t *cmd, const cmd_ctx_t *ctx,
                            uint64_t existed)
{
    if (!tracking_active()) return;
    if (cmd->exec != CMD_EXEC_KEYED) return;
    /* a read-only script's keys are remembered when it calls a read
     * (tracking_script_read), not for the script itself, as 7.0.15 */
    bool reads = (cmd->flags & CMD_READONLY) != 0 && cmd->handler != cmd_eval_ro &&
                 cmd->handler != cmd_evalsha_ro && cmd->handler != cmd_fcall_ro;
    if (!reads && (!ctx->dirty || signals_nothing(cmd))) return;
    if (reads) {
        if (decided == 0 || !cid) return;
        reg_entry_t r;
        if (decided < 0 && !(reg_find(cid, &r) && (r.flags & TRK_ON) && !(r.flags & (TRK_BCAST | TRK_OPTIN))))
            return;
    }
    bool bcast = !reads && trk_bcast_wanted();
    int pos[512], specs[512];
    int n = reads ? -1 : cmd_spec_keys(cmd, ctx->argc, ctx->argv, ctx->argvlen, pos, specs, 512);
    if (n < 0) {
        /* a key finder of its own (SORT, GEORADIUS ... STORE): its first key is its first spec's */
        n = cmd_get_keys(cmd, ctx->argc, ctx->argv, ctx->argvlen, pos, 512);
        for (int i = 0; i < n; i++) specs[i] = i == 0 && cmd->getkeys ? 0 : -1;
    }
    /* LMOVE and its kin push to the destination, which 7.0.15 signals first */
    bool dst_first = !reads && n == 2 && (cmd->handler == cmd_lmove || cmd->handler == cmd_rpoplpush ||
                                          cmd->handler == cmd_blmove || cmd->handler == cmd_brpoplpush);
    for (int j = 0; j < n; j++) {
        int i = dst_first ? n - 1 - j : j;
        const uint8_t *k = ctx->argv[pos[i]];
        size_t len = ctx->argvlen[pos[i]];
        if (!reads && !key_signalled(cmd, ctx, i, pos[i], specs[i], existed)) continue;
        /* the key's table is its keyspace's: the worker running this
         * command, or one parked by a command over several workers (xcmd.c) */
        int owner = workers_count() > 1 ? worker_of_slot(slot_of_key(k, len)) : 0;
        if (config_cluster_enabled() || owner >= workers_count()) owner = w->index;
        trk_table_t *t = &g_tables[owner];
        if (reads) {
            remember(t, k, len, cid);
        } else {
            if (bcast) trk_bcast_note(cid, k, len);
            invalidate_key(t, cid, k, len);
        }
    }
}

void tracking_script_read(worker_t *w, uint64_t routed, const uint8_t *const *keys, const size_t *lens, int nkeys,
                          bool others_parked)
{
    if (!tracking_active() || nkeys <= 0) return;
    int decided = !(routed & ID_DECIDED) ? -1 : (routed & ID_REMEMBER) ? 1 : 0;
    uint64_t cid = routed & ~(ID_DECIDED | ID_REMEMBER);
    if (decided == 0 || !cid) return;
    reg_entry_t r;
    if (decided < 0 && !(reg_find(cid, &r) && (r.flags & TRK_ON) && !(r.flags & (TRK_BCAST | TRK_OPTIN)))) return;
    for (int i = 0; i < nkeys; i++) {
        int owner = workers_count() > 1 ? worker_of_slot(slot_of_key(keys[i], lens[i])) : 0;
        if (config_cluster_enabled() || owner >= workers_count()) owner = w->index;
        /* another worker's table only while that worker stands still */
        if (owner != w->index && !others_parked) continue;
        remember(&g_tables[owner], keys[i], lens[i], cid);
    }
}

void tracking_key_gone(worker_t *w, const uint8_t *key, size_t len)
{
    if (trk_bcast_wanted()) trk_bcast_note(0, key, len);
    invalidate_key(&g_tables[w->index], 0, key, len);
}

void tracking_flushed(worker_t *w)
{
    trk_table_t *t = &g_tables[w->index];
    for (size_t i = 0; i < t->nb; i++)
        for (trk_key_t *e = t->b[i], *nx; e; e = nx) {
            nx = e->next;
            free_key(e);
        }
    free(t->b);
    memset(t, 0, sizeof *t);
    if (w->index != 0) return;
    for (unsigned i = 0; i < REG_CAP; i++) {
        uint64_t id = atomic_load_explicit(&g_reg_id[i], memory_order_relaxed);
        reg_entry_t r;
        if (id == 0 || id == REG_TOMB || !reg_find(id, &r)) continue;
        /* the null in the tracker's protocol, as 7.0.15 writes it even to a redirect target */
        if (r.proto >= 3) trk_send(NULL, NULL, id, "_\r\n", 3);
        else trk_send(NULL, NULL, id, "$-1\r\n", 5);
    }
}

void tracking_before_sleep(worker_t *w) { trk_bcast_flush(w); }

long long tracking_clients_count(void) { return atomic_load_explicit(&g_reg_count, memory_order_relaxed); }
long long tracking_total_keys(void) { return atomic_load_explicit(&g_total_keys, memory_order_relaxed); }
long long tracking_total_items(void) { return atomic_load_explicit(&g_total_items, memory_order_relaxed); }
long long tracking_total_prefixes(void) { return trk_bcast_prefix_count(); }

/* ---------------- commands ---------------- */

void tracking_client_reset(client_t *c)
{
    if (c->trk_flags & TRK_ON) reg_del(c->id);
    trk_bcast_drop(c);
    c->trk_flags = 0;
    c->trk_redir = 0;
}

typedef struct trk_opts {
    long long redir;
    uint32_t flags;               /* TRK_BCAST, TRK_OPTIN, TRK_OPTOUT, TRK_NOLOOP */
    int nprefix;
    int *prefix_at;               /* argv positions (argc entries, malloc'ed; free_opts) */
} trk_opts_t;

static void free_opts(trk_opts_t *o) { free(o->prefix_at); }

/* The options after ON|OFF, in 7.0.15's order of checks; false when it replied. */
static bool parse_opts(cmd_ctx_t *ctx, trk_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->prefix_at = xmalloc(sizeof *o->prefix_at * (size_t)ctx->argc);
    for (int j = 3; j < ctx->argc; j++) {
        bool more = ctx->argc - 1 - j > 0;
        const uint8_t *a = ctx->argv[j];
        size_t al = ctx->argvlen[j];
        if (arg_is(a, al, "redirect") && more) {
            j++;
            if (o->redir != 0) {
                resp_add_error(ctx->reply, "ERR A client can only redirect to a single other client");
                return false;
            }
            if (!arg_ll_at(ctx, j, &o->redir)) return false;
            /* it must exist now, even if it may go later (7.0.15 checks it here too) */
            if (o->redir <= 0 || !client_ids_exists((uint64_t)o->redir)) {
                resp_add_error(ctx->reply, "ERR The client ID you want redirect to does not exist");
                return false;
            }
        } else if (arg_is(a, al, "bcast")) {
            o->flags |= TRK_BCAST;
        } else if (arg_is(a, al, "optin")) {
            o->flags |= TRK_OPTIN;
        } else if (arg_is(a, al, "optout")) {
            o->flags |= TRK_OPTOUT;
        } else if (arg_is(a, al, "noloop")) {
            o->flags |= TRK_NOLOOP;
        } else if (arg_is(a, al, "prefix") && more) {
            o->prefix_at[o->nprefix++] = ++j;
        } else {
            resp_add_error(ctx->reply, "ERR syntax error");
            return false;
        }
    }
    return true;
}

static bool overlap(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    return memcmp(a, b, al < bl ? al : bl) == 0;
}

static void overlap_error(cmd_ctx_t *ctx, const uint8_t *p, size_t pl, const char *what, const uint8_t *q, size_t ql)
{
    /* 7.0.15 prints them with %s: up to a NUL byte */
    char buf[512];
    snprintf(buf, sizeof buf, "ERR Prefix '%.*s' overlaps with %s prefix '%.*s'. Prefixes for a single client must not overlap.",
             (int)strnlen((const char *)p, pl) > 200 ? 200 : (int)strnlen((const char *)p, pl), (const char *)p, what,
             (int)strnlen((const char *)q, ql) > 200 ? 200 : (int)strnlen((const char *)q, ql), (const char *)q);
    resp_add_error(ctx->reply, buf);
}

/* 7.0.15 checkPrefixCollisionsOrReply. Its quirk is kept: two given prefixes
 * that overlap, the first of them not the first given, get the error and
 * then tracking is enabled anyway (+OK follows the error). */
static bool prefixes_ok(cmd_ctx_t *ctx, const trk_opts_t *o)
{
    client_t *c = ctx->client;
    for (int i = 0; i < o->nprefix; i++) {
        const uint8_t *p = ctx->argv[o->prefix_at[i]];
        size_t pl = ctx->argvlen[o->prefix_at[i]];
        const struct trk_prefix *with;
        if (trk_bcast_overlaps(c, p, pl, &with)) {
            overlap_error(ctx, p, pl, "an existing", with->p, with->len);
            return false;
        }
        for (int j = i + 1; j < o->nprefix; j++) {
            const uint8_t *q = ctx->argv[o->prefix_at[j]];
            size_t ql = ctx->argvlen[o->prefix_at[j]];
            if (overlap(p, pl, q, ql)) {
                overlap_error(ctx, p, pl, "another provided", q, ql);
                return i != 0;
            }
        }
    }
    return true;
}

static const char *switch_error(const client_t *c, const trk_opts_t *o)
{
    if (!(o->flags & TRK_BCAST) && o->nprefix) return "ERR PREFIX option requires BCAST mode to be enabled";
    if ((c->trk_flags & TRK_ON) && !!(c->trk_flags & TRK_BCAST) != !!(o->flags & TRK_BCAST))
        return "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then "
               "re-enabling it with a different mode.";
    if ((o->flags & TRK_BCAST) && (o->flags & (TRK_OPTIN | TRK_OPTOUT)))
        return "ERR OPTIN and OPTOUT are not compatible with BCAST";
    if ((o->flags & TRK_OPTIN) && (o->flags & TRK_OPTOUT)) return "ERR You can't specify both OPTIN mode and OPTOUT mode";
    if (((o->flags & TRK_OPTIN) && (c->trk_flags & TRK_OPTOUT)) || ((o->flags & TRK_OPTOUT) && (c->trk_flags & TRK_OPTIN)))
        return "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then "
               "re-enabling it with a different mode.";
    return NULL;
}

static void tracking_apply(cmd_ctx_t *ctx, const trk_opts_t *o);

void tracking_cmd_tracking(cmd_ctx_t *ctx)
{
    trk_opts_t o;
    if (parse_opts(ctx, &o)) tracking_apply(ctx, &o);
    free_opts(&o);
}

static void tracking_apply(cmd_ctx_t *ctx, const trk_opts_t *o)
{
    client_t *c = ctx->client;
    if (arg_is(ctx->argv[2], ctx->argvlen[2], "off")) {
        tracking_client_reset(c);
        resp_add_simple(ctx->reply, "OK");
        return;
    }
    if (!arg_is(ctx->argv[2], ctx->argvlen[2], "on")) {
        resp_add_error(ctx->reply, "ERR syntax error");
        return;
    }
    const char *err = switch_error(c, o);
    if (err) {
        resp_add_error(ctx->reply, err);
        return;
    }
    if ((o->flags & TRK_BCAST) && !prefixes_ok(ctx, o)) return;
    /* 7.0.15 enableTracking: the mode options are replaced, CACHING and the
     * prefixes already given stay */
    uint32_t flags = (c->trk_flags & TRK_CACHING) | TRK_ON | o->flags;
    if (!reg_put(c->id, c->worker->index, flags, c->proto, (uint64_t)o->redir)) {
        resp_add_error(ctx->reply, "ERR too many clients in tracking mode");
        return;
    }
    c->trk_flags = flags;
    c->trk_redir = (uint64_t)o->redir;
    if (o->flags & TRK_BCAST) {
        if (o->nprefix == 0) trk_bcast_add(c, (const uint8_t *)"", 0);
        for (int i = 0; i < o->nprefix; i++) trk_bcast_add(c, ctx->argv[o->prefix_at[i]], ctx->argvlen[o->prefix_at[i]]);
    }
    resp_add_simple(ctx->reply, "OK");
}

void tracking_cmd_caching(cmd_ctx_t *ctx)
{
    client_t *c = ctx->client;
    if (!(c->trk_flags & TRK_ON)) {
        resp_add_error(ctx->reply, "ERR CLIENT CACHING can be called only when the client is in tracking mode with "
                                   "OPTIN or OPTOUT mode enabled");
        return;
    }
    if (arg_is(ctx->argv[2], ctx->argvlen[2], "yes")) {
        if (!(c->trk_flags & TRK_OPTIN)) {
            resp_add_error(ctx->reply, "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
            return;
        }
    } else if (arg_is(ctx->argv[2], ctx->argvlen[2], "no")) {
        if (!(c->trk_flags & TRK_OPTOUT)) {
            resp_add_error(ctx->reply, "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
            return;
        }
    } else {
        resp_add_error(ctx->reply, "ERR syntax error");
        return;
    }
    c->trk_flags |= TRK_CACHING;
    resp_add_simple(ctx->reply, "OK");
}

void tracking_command_done(client_t *c, const uint8_t *name, size_t len)
{
    if (!c->trk_flags) return;
    /* by name: 7.0.15 keeps the flag after any CLIENT call, even one refused for its arity */
    if ((c->trk_flags & TRK_CACHING) && !(c->flags & CLIENT_MULTI) && !arg_is(name, len, "client"))
        c->trk_flags &= ~TRK_CACHING;
    /* HELLO changed the protocol: the registry's copy (the null of a flush) follows */
    if ((c->trk_flags & TRK_ON) && arg_is(name, len, "hello"))
        (void)reg_put(c->id, c->worker->index, c->trk_flags, c->proto, c->trk_redir);
}

void tracking_cmd_getredir(cmd_ctx_t *ctx)
{
    resp_add_int(ctx->reply, tracking_client_redir(ctx->client));
}

void tracking_cmd_trackinginfo(cmd_ctx_t *ctx)
{
    client_t *c = ctx->client;
    uint32_t f = c->trk_flags;
    const char *names[8];
    int n = 0;
    names[n++] = (f & TRK_ON) ? "on" : "off";
    if (f & TRK_BCAST) names[n++] = "bcast";
    if (f & TRK_OPTIN) names[n++] = "optin";
    if ((f & TRK_OPTIN) && (f & TRK_CACHING)) names[n++] = "caching-yes";
    if (f & TRK_OPTOUT) names[n++] = "optout";
    if ((f & TRK_OPTOUT) && (f & TRK_CACHING)) names[n++] = "caching-no";
    if (f & TRK_NOLOOP) names[n++] = "noloop";
    if (f & TRK_BROKEN_REDIR) names[n++] = "broken_redirect";
    resp_add_map(ctx->reply, 3);
    resp_add_bulk_str(ctx->reply, "flags");
    resp_add_set(ctx->reply, n);
    for (int i = 0; i < n; i++) resp_add_bulk_str(ctx->reply, names[i]);
    resp_add_bulk_str(ctx->reply, "redirect");
    resp_add_int(ctx->reply, tracking_client_redir(c));
    resp_add_bulk_str(ctx->reply, "prefixes");
    const trk_prefixes_t *px = c->trk_pfx;
    resp_add_array(ctx->reply, px ? px->n : 0);
    for (int i = 0; px && i < px->n; i++) resp_add_bulk(ctx->reply, px->v[i].p, px->v[i].len);
}

int tracking_client_flags(const client_t *c, char *flags)
{
    int k = 0;
    if (c->trk_flags & TRK_ON) flags[k++] = 't';
    if (c->trk_flags & TRK_BROKEN_REDIR) flags[k++] = 'R';
    if (c->trk_flags & TRK_BCAST) flags[k++] = 'B';
    return k;
}

long long tracking_client_redir(const client_t *c)
{
    return (c->trk_flags & TRK_ON) ? (long long)c->trk_redir : -1;
}

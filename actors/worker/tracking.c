/* tracking.c - client-side caching, default mode (tracking.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/commands/args.h"
#include "actors/config/config.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/client.h"
#include "actors/worker/tracking.h"
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
static _Atomic uint64_t g_reg_info[REG_CAP];    /* worker index | flags << 8 */
static _Atomic uint64_t g_reg_redir[REG_CAP];
static _Atomic long long g_reg_count;

static unsigned reg_home(uint64_t id) { return (unsigned)((id * 0x9E3779B97F4A7C15ull) >> 50) & (REG_CAP - 1); }

static bool reg_find(uint64_t id, int *worker, uint32_t *flags, uint64_t *redir)
{
    for (unsigned i = reg_home(id), n = 0; n < REG_CAP; i = (i + 1) & (REG_CAP - 1), n++) {
        uint64_t v = atomic_load_explicit(&g_reg_id[i], memory_order_acquire);   /* pairs with reg_put's release */
        if (v == 0) return false;
        if (v != id) continue;
        uint64_t info = atomic_load_explicit(&g_reg_info[i], memory_order_relaxed);
        *worker = (int)(info & 0xff);
        *flags = (uint32_t)(info >> 8);
        *redir = atomic_load_explicit(&g_reg_redir[i], memory_order_relaxed);
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
static bool reg_put(uint64_t id, int worker, uint32_t flags, uint64_t redir)
{
    uint64_t info = (uint64_t)worker | (uint64_t)flags << 8;
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
    bool all;                 /* a flush: null instead of a key */
    size_t len;
    uint8_t key[];
} inval_msg_t;

static client_t *client_here(worker_t *w, uint64_t id)
{
    for (client_t *c = w->clients; c; c = c->next)
        if (c->id == id) return c;
    return NULL;
}

static void inval_run(worker_t *w, rt_msg_t *msg)
{
    inval_msg_t *m = (inval_msg_t *)msg;
    client_t *c = client_here(w, m->target);
    if (c && !(c->flags & CLIENT_CLOSED)) {
        resp_buf_t *out = NULL;
        if (c->proto >= 3) {
            out = client_push_target(c);
            static const char head[] = ">2\r\n$10\r\ninvalidate\r\n";
            resp_buf_append(out, head, sizeof head - 1);
        } else if (m->redirected && (c->flags & CLIENT_PUBSUB)) {
            out = client_push_target(c);
            static const char head[] = "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n";
            resp_buf_append(out, head, sizeof head - 1);
        }
        if (out) {
            if (m->all) {
                resp_buf_append(out, c->proto >= 3 ? "_\r\n" : "$-1\r\n", c->proto >= 3 ? 3 : 5);
            } else {
                resp_buf_append(out, "*1\r\n", 4);
                resp_add_bulk(out, m->key, m->len);
            }
            client_schedule_write(c);
        }
    }
    free(m);
}

static void post_one(int worker, uint64_t target, uint64_t tracker, bool redirected, const uint8_t *key,
                     size_t len)
{
    inval_msg_t *m = xcalloc(1, sizeof *m + len);
    m->run.hdr.type = WMSG_RUN;
    m->run.fn = inval_run;
    m->target = target;
    m->tracker = tracker;
    m->redirected = redirected;
    m->all = key == NULL;
    m->len = len;
    if (len) memcpy(m->key, key, len);
    worker_post(worker, &m->run.hdr);
}

/* One invalidation for tracking client `id` (NULL key: everything). */
static void send_inval(uint64_t id, const uint8_t *key, size_t len)
{
    int worker;
    uint32_t flags;
    uint64_t redir;
    if (!reg_find(id, &worker, &flags, &redir) || !(flags & TRK_ON)) return;
    if (!redir) {
        post_one(worker, id, id, false, key, len);
        return;
    }
    /* The redirect target may sit on any worker: the one that holds it
     * writes the message, the others find nothing. */
    for (int i = 0; i < workers_count(); i++) post_one(i, redir, id, true, key, len);
}

static void invalidate_key(trk_table_t *t, uint64_t writer, const uint8_t *key, size_t len)
{
    if (!t->n) return;
    trk_key_t **pp = find_slot(t, key, len, key_hash(key, len));
    if (!pp || !*pp) return;
    trk_key_t *e = *pp;
    *pp = e->next;
    t->n--;
    for (uint32_t i = 0; i < e->nids; i++) {
        int worker;
        uint32_t flags;
        uint64_t redir;
        if (e->ids[i] == writer && reg_find(writer, &worker, &flags, &redir) && (flags & TRK_NOLOOP)) continue;
        send_inval(e->ids[i], key, len);
    }
    free_key(e);
}

/* ---------------- hooks ---------------- */

void tracking_after_command(worker_t *w, uint64_t cid, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                            const size_t *argvlen, bool dirty)
{
    /* relaxed: no tracking client and no remembered key: nothing to do */
    if (atomic_load_explicit(&g_reg_count, memory_order_relaxed) == 0 &&
        atomic_load_explicit(&g_total_keys, memory_order_relaxed) == 0)
        return;
    if (cmd->exec != CMD_EXEC_KEYED) return;
    bool reads = (cmd->flags & CMD_READONLY) != 0;
    if (!reads && !dirty) return;
    int worker;
    uint32_t flags = 0;
    uint64_t redir;
    if (reads && !(cid && reg_find(cid, &worker, &flags, &redir) && (flags & TRK_ON))) return;
    int pos[512];
    int n = cmd_get_keys(cmd, argc, argv, argvlen, pos, 512);
    for (int i = 0; i < n; i++) {
        const uint8_t *k = argv[pos[i]];
        size_t len = argvlen[pos[i]];
        /* the key's table is its keyspace's: the worker running this
         * command, or one parked by a command over several workers (xcmd.c) */
        int owner = workers_count() > 1 ? worker_of_slot(slot_of_key(k, len)) : 0;
        if (config_cluster_enabled() || owner >= workers_count()) owner = w->index;
        trk_table_t *t = &g_tables[owner];
        if (reads) remember(t, k, len, cid);
        else invalidate_key(t, cid, k, len);
    }
}

void tracking_key_gone(worker_t *w, const uint8_t *key, size_t len)
{
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
        if (id != 0 && id != REG_TOMB) send_inval(id, NULL, 0);
    }
}

long long tracking_clients_count(void) { return atomic_load_explicit(&g_reg_count, memory_order_relaxed); }
long long tracking_total_keys(void) { return atomic_load_explicit(&g_total_keys, memory_order_relaxed); }
long long tracking_total_items(void) { return atomic_load_explicit(&g_total_items, memory_order_relaxed); }

/* ---------------- commands ---------------- */

void tracking_client_reset(client_t *c)
{
    if (c->trk_flags & TRK_ON) reg_del(c->id);
    c->trk_flags = 0;
    c->trk_redir = 0;
}

void tracking_cmd_tracking(cmd_ctx_t *ctx)
{
    client_t *c = ctx->client;
    long long redir = 0;
    uint32_t opts = 0;
    for (int j = 3; j < ctx->argc; j++) {
        bool more = ctx->argc - 1 - j > 0;
        size_t al = ctx->argvlen[j];
        if (arg_is(ctx->argv[j], al, "redirect") && more) {
            j++;
            if (redir != 0) {
                resp_add_error(ctx->reply, "ERR A client can only redirect to a single other client");
                return;
            }
            if (!arg_ll_at(ctx, j, &redir)) return;
        } else if (arg_is(ctx->argv[j], al, "noloop")) {
            opts |= TRK_NOLOOP;
        } else if (arg_is(ctx->argv[j], al, "bcast") || arg_is(ctx->argv[j], al, "optin") ||
                   arg_is(ctx->argv[j], al, "optout") || (arg_is(ctx->argv[j], al, "prefix") && more)) {
            /* not built yet: refused rather than half done */
            resp_add_error(ctx->reply, "ERR BCAST, PREFIX, OPTIN and OPTOUT are not supported by this server yet");
            return;
        } else {
            resp_add_error(ctx->reply, "ERR syntax error");
            return;
        }
    }
    if (arg_is(ctx->argv[2], ctx->argvlen[2], "on")) {
        uint32_t flags = c->trk_flags | TRK_ON | opts;
        if (!reg_put(c->id, c->worker->index, flags, (uint64_t)redir)) {
            resp_add_error(ctx->reply, "ERR too many clients in tracking mode");
            return;
        }
        c->trk_flags = flags;
        c->trk_redir = (uint64_t)redir;
    } else if (arg_is(ctx->argv[2], ctx->argvlen[2], "off")) {
        tracking_client_reset(c);
    } else {
        resp_add_error(ctx->reply, "ERR syntax error");
        return;
    }
    resp_add_simple(ctx->reply, "OK");
}

void tracking_cmd_getredir(cmd_ctx_t *ctx)
{
    resp_add_int(ctx->reply, tracking_client_redir(ctx->client));
}

void tracking_cmd_trackinginfo(cmd_ctx_t *ctx)
{
    client_t *c = ctx->client;
    resp_add_map(ctx->reply, 3);
    resp_add_bulk_str(ctx->reply, "flags");
    int n = 1 + ((c->trk_flags & TRK_NOLOOP) != 0);
    resp_add_set(ctx->reply, n);
    resp_add_bulk_str(ctx->reply, (c->trk_flags & TRK_ON) ? "on" : "off");
    if (c->trk_flags & TRK_NOLOOP) resp_add_bulk_str(ctx->reply, "noloop");
    resp_add_bulk_str(ctx->reply, "redirect");
    resp_add_int(ctx->reply, tracking_client_redir(c));
    resp_add_bulk_str(ctx->reply, "prefixes");
    resp_add_array(ctx->reply, 0);
}

int tracking_client_flags(const client_t *c, char *flags)
{
    int k = 0;
    if (c->trk_flags & TRK_ON) flags[k++] = 't';
    return k;
}

long long tracking_client_redir(const client_t *c)
{
    return (c->trk_flags & TRK_ON) ? (long long)c->trk_redir : -1;
}

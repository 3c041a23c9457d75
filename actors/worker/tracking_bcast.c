/* tracking_bcast.c - CLIENT TRACKING ON BCAST [PREFIX p ...] (tracking.h).
 *
 * 7.0.15 keeps one prefix table for the server: each prefix with its
 * clients and the keys under it changed in the current event loop cycle,
 * sent to those clients before the server sleeps. Here a worker keeps its
 * own broadcast clients (with their prefixes, in their client_t); a thread
 * that changes keys collects their names (with who changed each, for
 * NOLOOP) and before its loop sleeps sends the round's names, sorted and
 * without repeats as 7.0.15's radix tree lists them, once to each worker
 * that has a broadcast client; that worker matches them against its
 * clients' prefixes and writes one message per prefix with keys.
 *
 * Must never: touch another worker's broadcast list; cost a writer more
 * than one load while nobody broadcasts.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/worker/worker_internal.h"
#include "actors/worker/client.h"
#include "actors/worker/tracking.h"
#include "actors/worker/tracking_internal.h"
#include "runtime/xmalloc.h"

/* ---------------- who broadcasts where ---------------- */

/* Worker i's broadcast clients: its own thread only. */
typedef struct bc_list {
    client_t **v;
    int n, cap;
} bc_list_t;
static bc_list_t g_bc[MAX_WORKERS];
/* How many there are per worker and in all, read by writers on any thread:
 * seq_cst, as a subscription's bit (pubsub.c): a client's +OK is written
 * after its count is up, so a write that follows the +OK sees it. */
static _Atomic int g_bc_clients[MAX_WORKERS];
static _Atomic int g_bc_total;

/* The node's distinct prefixes, for INFO's tracking_total_prefixes only. */
static pthread_mutex_t g_names_lock = PTHREAD_MUTEX_INITIALIZER;
static struct prefix_name { uint8_t *p; size_t len; int users; } *g_names;
static int g_nnames, g_names_cap;

static void names_change(const uint8_t *p, size_t len, int delta)
{
    pthread_mutex_lock(&g_names_lock);
    int i = 0;
    while (i < g_nnames && !(g_names[i].len == len && memcmp(g_names[i].p, p, len) == 0)) i++;
    if (i == g_nnames && delta > 0) {
        if (g_nnames == g_names_cap) {
            g_names_cap = g_names_cap ? g_names_cap * 2 : 8;
            g_names = xrealloc(g_names, sizeof *g_names * (size_t)g_names_cap);
        }
        g_names[i].p = xmalloc(len ? len : 1);
        if (len) memcpy(g_names[i].p, p, len);
        g_names[i].len = len;
        g_names[i].users = 0;
        g_nnames++;
    }
    if (i < g_nnames) {
        g_names[i].users += delta;
        if (g_names[i].users <= 0) {
            free(g_names[i].p);
            g_names[i] = g_names[--g_nnames];
        }
    }
    pthread_mutex_unlock(&g_names_lock);
}

long long trk_bcast_prefix_count(void)
{
    pthread_mutex_lock(&g_names_lock);
    long long n = g_nnames;
    pthread_mutex_unlock(&g_names_lock);
    return n;
}

/* 7.0.15's radix tree order: bytewise, a prefix before its extensions. */
static int key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int r = memcmp(a, b, al < bl ? al : bl);
    if (r) return r;
    return al < bl ? -1 : al > bl;
}

bool trk_bcast_overlaps(const client_t *c, const uint8_t *p, size_t len, const struct trk_prefix **with)
{
    const trk_prefixes_t *px = c->trk_pfx;
    for (int i = 0; px && i < px->n; i++) {
        size_t m = px->v[i].len < len ? px->v[i].len : len;
        if (memcmp(px->v[i].p, p, m) == 0) {
            *with = &px->v[i];
            return true;
        }
    }
    return false;
}

void trk_bcast_add(client_t *c, const uint8_t *prefix, size_t len)
{
    trk_prefixes_t *px = c->trk_pfx;
    if (!px) px = c->trk_pfx = xcalloc(1, sizeof *px);
    int at = 0;
    while (at < px->n && key_cmp(px->v[at].p, px->v[at].len, prefix, len) < 0) at++;
    if (at < px->n && px->v[at].len == len && memcmp(px->v[at].p, prefix, len) == 0) return;   /* already */
    if (px->n == px->cap) {
        px->cap = px->cap ? px->cap * 2 : 4;
        px->v = xrealloc(px->v, sizeof *px->v * (size_t)px->cap);
    }
    memmove(&px->v[at + 1], &px->v[at], sizeof *px->v * (size_t)(px->n - at));
    px->v[at].p = xmalloc(len ? len : 1);
    if (len) memcpy(px->v[at].p, prefix, len);
    px->v[at].len = len;
    px->n++;
    names_change(prefix, len, +1);
    if (px->n > 1) return;
    int wi = c->worker->index;
    bc_list_t *l = &g_bc[wi];
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = xrealloc(l->v, sizeof *l->v * (size_t)l->cap);
    }
    l->v[l->n++] = c;
    atomic_fetch_add_explicit(&g_bc_clients[wi], 1, memory_order_seq_cst);
    atomic_fetch_add_explicit(&g_bc_total, 1, memory_order_seq_cst);
}

void trk_bcast_drop(client_t *c)
{
    trk_prefixes_t *px = c->trk_pfx;
    if (!px) return;
    for (int i = 0; i < px->n; i++) {
        names_change(px->v[i].p, px->v[i].len, -1);
        free(px->v[i].p);
    }
    bool listed = px->n > 0;
    free(px->v);
    free(px);
    c->trk_pfx = NULL;
    if (!listed) return;
    int wi = c->worker->index;
    bc_list_t *l = &g_bc[wi];
    for (int i = 0; i < l->n; i++)
        if (l->v[i] == c) {
            l->v[i] = l->v[--l->n];
            break;
        }
    /* relaxed would do for the decrement (a late message finds no client);
     * seq_cst keeps the pair symmetric */
    atomic_fetch_sub_explicit(&g_bc_clients[wi], 1, memory_order_seq_cst);
    atomic_fetch_sub_explicit(&g_bc_total, 1, memory_order_seq_cst);
}

bool trk_bcast_wanted(void) { return atomic_load_explicit(&g_bc_total, memory_order_seq_cst) > 0; }

/* ---------------- a thread's changed keys ---------------- */

typedef struct pend_key {
    size_t off, len;
    uint64_t writer;
    uint32_t seq;
} pend_key_t;

static _Thread_local struct {
    pend_key_t *v;
    int n, cap;
    uint8_t *arena;
    size_t alen, acap;
} t_pend;

void trk_bcast_note(uint64_t writer, const uint8_t *key, size_t len)
{
    if (t_pend.n == t_pend.cap) {
        t_pend.cap = t_pend.cap ? t_pend.cap * 2 : 32;
        t_pend.v = xrealloc(t_pend.v, sizeof *t_pend.v * (size_t)t_pend.cap);
    }
    if (t_pend.alen + len > t_pend.acap) {
        size_t cap = t_pend.acap ? t_pend.acap * 2 : 1024;
        while (cap < t_pend.alen + len) cap *= 2;
        t_pend.arena = xrealloc(t_pend.arena, cap);
        t_pend.acap = cap;
    }
    memcpy(t_pend.arena + t_pend.alen, key, len);
    t_pend.v[t_pend.n++] = (pend_key_t){ .off = t_pend.alen, .len = len, .writer = writer, .seq = (uint32_t)t_pend.n };
    t_pend.alen += len;
}

/* The round's keys as sent: sorted, one entry per key (its last writer). */
typedef struct bc_round {
    worker_run_t run;
    _Atomic int refs;             /* one per worker it was sent to; the last frees it */
    struct bc_round *shared;      /* an envelope: the round it carries */
    int n;
    struct { const uint8_t *k; size_t len; uint64_t writer; } *keys;
    uint8_t *data;
} bc_round_t;

static _Thread_local const uint8_t *t_sort_arena;   /* qsort has no context argument */

static int pend_cmp(const void *a, const void *b)
{
    const pend_key_t *x = a, *y = b;
    int r = key_cmp(t_sort_arena + x->off, x->len, t_sort_arena + y->off, y->len);
    if (r) return r;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bc_round_t *take_round(void)
{
    t_sort_arena = t_pend.arena;
    qsort(t_pend.v, (size_t)t_pend.n, sizeof *t_pend.v, pend_cmp);
    bc_round_t *r = xcalloc(1, sizeof *r);
    r->data = xmalloc(t_pend.alen ? t_pend.alen : 1);
    memcpy(r->data, t_pend.arena, t_pend.alen);
    r->keys = xmalloc(sizeof *r->keys * (size_t)t_pend.n);
    for (int i = 0; i < t_pend.n; i++) {
        const pend_key_t *p = &t_pend.v[i];
        /* equal keys are adjacent, the last change last: it overwrites */
        if (r->n > 0 && r->keys[r->n - 1].len == p->len && memcmp(r->keys[r->n - 1].k, r->data + p->off, p->len) == 0) {
            r->keys[r->n - 1].writer = p->writer;
            continue;
        }
        r->keys[r->n].k = r->data + p->off;
        r->keys[r->n].len = p->len;
        r->keys[r->n].writer = p->writer;
        r->n++;
    }
    t_pend.n = 0;
    t_pend.alen = 0;
    return r;
}

static void round_release(bc_round_t *r)
{
    /* acq_rel: the last holder frees what the others read */
    if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1) return;
    free(r->keys);
    free(r->data);
    free(r);
}

/* One prefix's message for client c: the keys under it, less those c itself
 * changed last when it asked for NOLOOP (7.0.15 trackingBuildBroadcastReply). */
static void send_prefix(worker_t *w, client_t *c, const struct trk_prefix *px, const bc_round_t *r)
{
    bool noloop = (c->trk_flags & TRK_NOLOOP) != 0;
    int count = 0;
    size_t bytes = 0;
    for (int i = 0; i < r->n; i++) {
        if (r->keys[i].len < px->len || memcmp(r->keys[i].k, px->p, px->len) != 0) continue;
        if (noloop && r->keys[i].writer == c->id) continue;
        count++;
        bytes += r->keys[i].len + 24;
    }
    if (!count) return;
    char *buf = xmalloc(bytes + 24);
    size_t len = (size_t)snprintf(buf, 24, "*%d\r\n", count);
    for (int i = 0; i < r->n; i++) {
        if (r->keys[i].len < px->len || memcmp(r->keys[i].k, px->p, px->len) != 0) continue;
        if (noloop && r->keys[i].writer == c->id) continue;
        len += (size_t)snprintf(buf + len, 24, "$%zu\r\n", r->keys[i].len);
        memcpy(buf + len, r->keys[i].k, r->keys[i].len);
        len += r->keys[i].len;
        memcpy(buf + len, "\r\n", 2);
        len += 2;
    }
    trk_send(w, c, c->id, buf, len);
    free(buf);
}

static void deliver(worker_t *w, const bc_round_t *r)
{
    bc_list_t *l = &g_bc[w->index];
    for (int i = 0; i < l->n; i++) {
        client_t *c = l->v[i];
        const trk_prefixes_t *px = c->trk_pfx;
        for (int j = 0; px && j < px->n; j++) send_prefix(w, c, &px->v[j], r);
    }
}

static void round_run(worker_t *w, rt_msg_t *msg)
{
    bc_round_t *part = (bc_round_t *)msg;
    deliver(w, part->shared);
    round_release(part->shared);
    free(part);
}

void trk_bcast_flush(worker_t *w)
{
    if (t_pend.n == 0) return;
    bc_round_t *r = take_round();
    r->shared = r;
    int targets[MAX_WORKERS], nt = 0;
    for (int i = 0; i < workers_count(); i++)
        if (atomic_load_explicit(&g_bc_clients[i], memory_order_seq_cst) > 0) targets[nt++] = i;
    atomic_store_explicit(&r->refs, nt + 1, memory_order_relaxed);   /* published by the sends below */
    for (int t = 0; t < nt; t++) {
        if (targets[t] == w->index) {
            deliver(w, r);
            round_release(r);
            continue;
        }
        /* each worker gets a small envelope pointing at the one copy of the round */
        bc_round_t *part = xcalloc(1, sizeof *part);
        part->shared = r;
        part->run.hdr.type = WMSG_RUN;
        part->run.fn = round_run;
        worker_post(targets[t], &part->run.hdr);
    }
    round_release(r);
}

/* pubsub.c - subscriptions and message delivery (pubsub.h; publishing is
 * pubsub_send.c; the replies' shapes are 7.0.15's pubsub.c).
 *
 * Each worker owns three maps (channels, patterns, shard channels) from a
 * name to the list of its clients subscribed to it, in subscription order
 * (the order 7.0.15 delivers in), and each client the list of its entries.
 * The per-worker summary (g_sum) is the only thing other threads read.
 *
 * Must never: write to a client of another worker, or let an entry outlive
 * its last subscriber (a client's list points at entries, an entry's at
 * clients: both sides change together).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/config/config.h"
#include "actors/state/state.h"
#include "actors/worker/client.h"
#include "actors/worker/client_limits.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/pubsub.h"
#include "actors/worker/pubsub_internal.h"
#include "actors/worker/push_hold.h"
#include "actors/worker/worker_internal.h"
#include "proto/glob.h"
#include "proto/slot.h"
#include "runtime/random.h"
#include "runtime/xmalloc.h"

#define PS_BUCKETS 4096            /* summary bits per family; a power of two */

typedef struct ps_ent {
    struct ps_ent *next;           /* hash chain */
    uint64_t hash;
    client_t **subs;               /* in subscription order */
    int nsubs, cap;
    /* shard channels: the slot, and its owner when last looked at */
    int slot;
    bool owner_ours;               /* that owner was us or our master */
    char owner[NODE_NAME_LEN + 1];
    uint32_t len;
    uint8_t name[];
} ps_ent_t;

typedef struct ps_map {
    ps_ent_t **b;
    size_t nb, n;
} ps_map_t;

/* Owner thread only. */
typedef struct ps_local {
    ps_map_t map[3];
    uint32_t bucket[2][PS_BUCKETS];   /* distinct channel / shard channel names per summary bit */
} ps_local_t;

/* Written by its worker, read by any thread. */
typedef struct ps_summary {
    _Atomic uint64_t bits[2][PS_BUCKETS / 64];
    _Atomic int npatterns;
    _Atomic int nnames[2];         /* distinct channels + patterns; distinct shard channels */
    _Atomic int nclients;          /* clients in subscribed mode (placement.c balances them) */
    char pad[64];
} ps_summary_t;

/* A client's subscriptions, kept by its worker. */
typedef struct ps_client {
    ps_ent_t **ents[3];
    int n[3], cap[3];
} ps_client_t;

static ps_summary_t g_sum[MAX_WORKERS];
static ps_local_t *g_local[MAX_WORKERS];
static uint64_t g_seed;            /* set once before the workers start */

void pubsub_init(void)
{
    rt_random_bytes(&g_seed, sizeof g_seed);
}

uint64_t pubsub_name_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL ^ g_seed;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static ps_local_t *local_of(worker_t *w, bool create)
{
    int i = worker_index(w);
    if (!g_local[i] && create) g_local[i] = xcalloc(1, sizeof(ps_local_t));
    return g_local[i];
}

/* ---------------- the maps ---------------- */

static ps_ent_t *map_find(const ps_map_t *m, const uint8_t *name, size_t len, uint64_t h)
{
    if (!m->nb) return NULL;
    for (ps_ent_t *e = m->b[h & (m->nb - 1)]; e; e = e->next)
        if (e->hash == h && e->len == len && memcmp(e->name, name, len) == 0) return e;
    return NULL;
}

static void map_grow(ps_map_t *m)
{
    size_t nb = m->nb ? m->nb * 2 : 16;
    ps_ent_t **b = xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < m->nb; i++)
        for (ps_ent_t *e = m->b[i], *nx; e; e = nx) {
            nx = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    free(m->b);
    m->b = b;
    m->nb = nb;
}

static void map_unlink(ps_map_t *m, ps_ent_t *e)
{
    for (ps_ent_t **pp = &m->b[e->hash & (m->nb - 1)]; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            m->n--;
            return;
        }
}

/* The summary bit of a channel family changes only when its bucket's count
 * of distinct names goes between 0 and 1. seq_cst: set before the
 * subscription's confirmation is written, so a PUBLISH that follows it (in
 * any client's real-time order) sees the bit. */
static void bucket_add(ps_local_t *l, int w, int fam, uint64_t h, int delta)
{
    uint32_t b = (uint32_t)(h & (PS_BUCKETS - 1));
    uint32_t before = l->bucket[fam][b];
    l->bucket[fam][b] = before + (uint32_t)delta;
    uint64_t bit = 1ULL << (b & 63);
    if (before == 0 && delta > 0) atomic_fetch_or(&g_sum[w].bits[fam][b >> 6], bit);
    else if (before == 1 && delta < 0) atomic_fetch_and(&g_sum[w].bits[fam][b >> 6], ~bit);
}

static int family_of(int kind) { return kind == PUBSUB_SHARD ? 1 : 0; }

static ps_ent_t *ent_create(worker_t *w, ps_local_t *l, int kind, const uint8_t *name, size_t len, uint64_t h)
{
    ps_map_t *m = &l->map[kind];
    if (m->n >= m->nb) map_grow(m);
    ps_ent_t *e = xcalloc(1, sizeof *e + len);
    e->hash = h;
    e->len = (uint32_t)len;
    memcpy(e->name, name, len);
    e->next = m->b[h & (m->nb - 1)];
    m->b[h & (m->nb - 1)] = e;
    m->n++;
    int wi = worker_index(w);
    if (kind == PUBSUB_PATTERN) atomic_fetch_add(&g_sum[wi].npatterns, 1);   /* seq_cst, as bucket_add */
    else bucket_add(l, wi, family_of(kind), h, +1);
    atomic_fetch_add(&g_sum[wi].nnames[family_of(kind)], 1);
    if (kind == PUBSUB_SHARD) {
        e->slot = (int)slot_of_key(name, len);
        const cluster_snapshot_t *s = worker_snapshot(w);
        e->owner_ours = true;      /* routing let the subscription in: the slot is our shard's */
        if (s && config_cluster_enabled() && s->slot_owner[e->slot] >= 0)
            memcpy(e->owner, s->nodes[s->slot_owner[e->slot]].name, sizeof e->owner);
    }
    return e;
}

static void ent_destroy(worker_t *w, ps_local_t *l, int kind, ps_ent_t *e)
{
    map_unlink(&l->map[kind], e);
    int wi = worker_index(w);
    if (kind == PUBSUB_PATTERN) atomic_fetch_sub(&g_sum[wi].npatterns, 1);
    else bucket_add(l, wi, family_of(kind), e->hash, -1);
    atomic_fetch_sub(&g_sum[wi].nnames[family_of(kind)], 1);
    free(e->subs);
    free(e);
}

/* ---------------- a client's side ---------------- */

static ps_client_t *client_ps(client_t *c, bool create)
{
    if (!c->pubsub && create) c->pubsub = xcalloc(1, sizeof(ps_client_t));
    return c->pubsub;
}

int pubsub_client_count(const client_t *c, int kind)
{
    return c->pubsub ? c->pubsub->n[kind] : 0;
}

bool pubsub_client_any(const client_t *c, int kind, bool (*pred)(void *arg, const uint8_t *name, size_t len),
                       void *arg)
{
    if (!c->pubsub) return false;
    for (int i = 0; i < c->pubsub->n[kind]; i++)
        if (pred(arg, c->pubsub->ents[kind][i]->name, c->pubsub->ents[kind][i]->len)) return true;
    return false;
}

static int client_index(const ps_client_t *pc, int kind, const ps_ent_t *e)
{
    for (int i = 0; i < pc->n[kind]; i++)
        if (pc->ents[kind][i] == e) return i;
    return -1;
}

static int sub_index(const ps_ent_t *e, const client_t *c)
{
    for (int i = 0; i < e->nsubs; i++)
        if (e->subs[i] == c) return i;
    return -1;
}

/* Whether c is subscribed to e: the shorter of the two lists is searched. */
static bool is_subscribed(const ps_client_t *pc, int kind, const ps_ent_t *e, const client_t *c)
{
    if (!pc || !e) return false;
    return pc->n[kind] <= e->nsubs ? client_index(pc, kind, e) >= 0 : sub_index(e, c) >= 0;
}

/* Relaxed: a count for placement's choice of worker, no data hangs on it. */
static void count_mode(client_t *c, bool was, bool now)
{
    if (was != now)
        atomic_fetch_add_explicit(&g_sum[worker_index(c->worker)].nclients, now ? 1 : -1, memory_order_relaxed);
}

static void update_mode(client_t *c)
{
    const ps_client_t *pc = c->pubsub;
    bool was = c->flags & CLIENT_PUBSUB;
    if (pc && pc->n[0] + pc->n[1] + pc->n[2] > 0) c->flags |= CLIENT_PUBSUB;
    else c->flags &= ~CLIENT_PUBSUB;
    count_mode(c, was, c->flags & CLIENT_PUBSUB);
}

int pubsub_worker_subscribers(int i)
{
    return atomic_load_explicit(&g_sum[i].nclients, memory_order_relaxed);
}

static void add_sub(worker_t *w, ps_local_t *l, client_t *c, int kind, const uint8_t *name, size_t len)
{
    uint64_t h = pubsub_name_hash(name, len);
    ps_ent_t *e = map_find(&l->map[kind], name, len, h);
    ps_client_t *pc = client_ps(c, true);
    if (is_subscribed(pc, kind, e, c)) return;
    if (!e) e = ent_create(w, l, kind, name, len, h);
    if (e->nsubs == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 4;
        e->subs = xrealloc(e->subs, (size_t)e->cap * sizeof *e->subs);
    }
    e->subs[e->nsubs++] = c;
    if (pc->n[kind] == pc->cap[kind]) {
        pc->cap[kind] = pc->cap[kind] ? pc->cap[kind] * 2 : 4;
        pc->ents[kind] = xrealloc(pc->ents[kind], (size_t)pc->cap[kind] * sizeof *pc->ents[kind]);
    }
    pc->ents[kind][pc->n[kind]++] = e;
}

/* Drops c from e (and e once nobody is left); false when c was not in it. */
static bool drop_sub(worker_t *w, ps_local_t *l, client_t *c, int kind, ps_ent_t *e)
{
    ps_client_t *pc = c->pubsub;
    int ci = pc ? client_index(pc, kind, e) : -1;
    if (ci < 0) return false;
    memmove(&pc->ents[kind][ci], &pc->ents[kind][ci + 1], (size_t)(pc->n[kind] - ci - 1) * sizeof(ps_ent_t *));
    pc->n[kind]--;
    int si = sub_index(e, c);
    if (si >= 0) {
        memmove(&e->subs[si], &e->subs[si + 1], (size_t)(e->nsubs - si - 1) * sizeof(client_t *));
        e->nsubs--;
    }
    if (e->nsubs == 0) ent_destroy(w, l, kind, e);
    return true;
}

/* ---------------- replies ---------------- */

static const char *const sub_word[3] = { "subscribe", "psubscribe", "ssubscribe" };
static const char *const unsub_word[3] = { "unsubscribe", "punsubscribe", "sunsubscribe" };

/* A push of n elements: >n in RESP3, *n in RESP2 (7.0.15 addReplyPushLen). */
static void add_push_len(resp_buf_t *out, int proto, int n)
{
    char h[16];
    int k = snprintf(h, sizeof h, "%c%d\r\n", proto == 3 ? '>' : '*', n);
    resp_buf_append(out, h, (size_t)k);
}

/* 7.0.15 counts channels and patterns together, shard channels apart. */
static int count_for(const client_t *c, int kind)
{
    if (kind == PUBSUB_SHARD) return pubsub_client_count(c, PUBSUB_SHARD);
    return pubsub_client_count(c, PUBSUB_CHANNEL) + pubsub_client_count(c, PUBSUB_PATTERN);
}

static void add_confirm(resp_buf_t *out, const client_t *c, const char *word, int kind, const uint8_t *name,
                        size_t len)
{
    add_push_len(out, c->proto, 3);
    resp_add_bulk(out, word, strlen(word));
    if (name) resp_add_bulk(out, name, len);
    else resp_add_null(out);
    resp_add_int(out, count_for(c, kind));
}

void pubsub_subscribe(client_t *c, int kind, int argc, const uint8_t **argv, const size_t *argvlen, resp_buf_t *out)
{
    worker_t *w = c->worker;
    ps_local_t *l = local_of(w, true);
    for (int i = 1; i < argc; i++) {
        add_sub(w, l, c, kind, argv[i], argvlen[i]);
        add_confirm(out, c, sub_word[kind], kind, argv[i], argvlen[i]);
    }
    update_mode(c);
}

void pubsub_unsubscribe(client_t *c, int kind, int argc, const uint8_t **argv, const size_t *argvlen,
                        resp_buf_t *out)
{
    worker_t *w = c->worker;
    ps_local_t *l = local_of(w, true);
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            ps_ent_t *e = map_find(&l->map[kind], argv[i], argvlen[i], pubsub_name_hash(argv[i], argvlen[i]));
            if (e) drop_sub(w, l, c, kind, e);
            add_confirm(out, c, unsub_word[kind], kind, argv[i], argvlen[i]);
        }
    } else if (pubsub_client_count(c, kind) == 0) {
        add_confirm(out, c, unsub_word[kind], kind, NULL, 0);
    } else {
        ps_client_t *pc = c->pubsub;
        while (pc->n[kind] > 0) {
            ps_ent_t *e = pc->ents[kind][0];
            /* the name is needed after the entry may be gone */
            size_t len = e->len;
            uint8_t stackname[256], *name = len <= sizeof stackname ? stackname : xmalloc(len);
            memcpy(name, e->name, len);
            drop_sub(w, l, c, kind, e);
            add_confirm(out, c, unsub_word[kind], kind, name, len);
            if (name != stackname) free(name);
        }
    }
    update_mode(c);
}

void pubsub_client_reset(client_t *c)
{
    ps_client_t *pc = c->pubsub;
    if (!pc) return;
    ps_local_t *l = local_of(c->worker, true);
    for (int k = 0; k < 3; k++) {
        while (pc->n[k] > 0) drop_sub(c->worker, l, c, k, pc->ents[k][pc->n[k] - 1]);
        free(pc->ents[k]);
    }
    free(pc);
    c->pubsub = NULL;
    count_mode(c, c->flags & CLIENT_PUBSUB, false);
    c->flags &= ~CLIENT_PUBSUB;
}

/* ---------------- delivery ---------------- */

/* client.h: a push goes behind every reply owed (a ready slot at the FIFO
 * tail when any is pending), never into a running EXEC's reply. */
resp_buf_t *client_push_target(client_t *c)
{
    if (!c->pending_head) return &c->out;
    if (c->socket_lent) rt_thread_want_lazy_wakeups(true);   /* this reply waits on the lent one */
    reply_slot_t *s = xcalloc(1, sizeof *s);
    s->client = c;
    s->done = true;
    resp_buf_init(&s->buf, c->proto);
    c->pending_tail->next = s;
    c->pending_tail = s;
    c->pending_count++;
    return &s->buf;
}

/* Clients written to in one delivery: their output limits are judged once
 * the maps are no longer walked (a close changes them). */
typedef struct touched {
    client_t **c;
    int n, cap;
} touched_t;

static void touch(touched_t *t, client_t *c)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->c = xrealloc(t->c, (size_t)t->cap * sizeof *t->c);
    }
    t->c[t->n++] = c;
}

/* One message to every subscriber of `e`: `msg` holds it in RESP2 form,
 * whose first byte becomes '>' for a RESP3 client. Only a subscriber whose
 * unsent output reached `floor` (climits_obuf_floor of the pubsub class)
 * is kept for the output-limit check: below it the quick check passes. */
static int write_all(ps_ent_t *e, const resp_buf_t *msg, touched_t *t, size_t floor)
{
    size_t hold = push_hold_cap(floor);
    int n = 0;
    for (int i = 0; i < e->nsubs; i++) {
        client_t *c = e->subs[i];
        if (c->flags & CLIENT_CLOSED) continue;
        resp_buf_t *out = client_push_target(c);
        if (c->proto == 3) {
            resp_buf_append(out, ">", 1);
            resp_buf_append(out, msg->data + 1, msg->len - 1);
        } else {
            resp_buf_append(out, msg->data, msg->len);
        }
        push_hold_schedule(c, hold);
        if (c->out.len - c->out_sent >= floor) touch(t, c);
        n++;
    }
    return n;
}

/* The message and touched-client buffers of this thread's deliveries, kept
 * between messages: a delivery allocates nothing once they have grown. A
 * delivery takes them (a nested one, should a close ever publish, would
 * start its own) and gives them back. */
static __thread resp_buf_t tl_msg;
static __thread bool tl_msg_ready;
static __thread touched_t tl_touched;

long long pubsub_deliver_here(worker_t *w, bool shard, const uint8_t *ch, size_t chlen, const uint8_t *data,
                              size_t len, uint64_t h)
{
    ps_local_t *l = local_of(w, false);
    if (!l) return 0;
    long long n = 0;
    touched_t t = tl_touched;
    tl_touched = (touched_t){ 0 };
    resp_buf_t msg;
    if (tl_msg_ready) {
        msg = tl_msg;
        tl_msg_ready = false;
        resp_buf_reset(&msg);
    } else {
        resp_buf_init(&msg, 2);
    }
    int kind = shard ? PUBSUB_SHARD : PUBSUB_CHANNEL;
    size_t floor = climits_obuf_floor(CLIENT_CLASS_PUBSUB);   /* every subscriber is of that class */
    ps_ent_t *e = map_find(&l->map[kind], ch, chlen, h);
    if (e) {
        resp_add_array(&msg, 3);
        const char *word = shard ? "smessage" : "message";
        resp_add_bulk(&msg, word, strlen(word));
        resp_add_bulk(&msg, ch, chlen);
        resp_add_bulk(&msg, data, len);
        n += write_all(e, &msg, &t, floor);
    }
    ps_map_t *pm = &l->map[PUBSUB_PATTERN];
    if (!shard && pm->n) {
        for (size_t b = 0; b < pm->nb; b++)
            for (ps_ent_t *p = pm->b[b]; p; p = p->next) {
                if (!glob_match((const char *)p->name, p->len, (const char *)ch, chlen, 0)) continue;
                resp_buf_reset(&msg);
                resp_add_array(&msg, 4);
                resp_add_bulk(&msg, "pmessage", 8);
                resp_add_bulk(&msg, p->name, p->len);
                resp_add_bulk(&msg, ch, chlen);
                resp_add_bulk(&msg, data, len);
                n += write_all(p, &msg, &t, floor);
            }
    }
    for (int i = 0; i < t.n; i++) client_check_obuf(t.c[i], OBUF_CHECK_QUICK);
    t.n = 0;
    if (n) push_hold_note_delivery(w);
    if (!tl_msg_ready && msg.cap <= 64 * 1024) {
        tl_msg = msg;
        tl_msg_ready = true;
    } else {
        resp_buf_free(&msg);
    }
    if (!tl_touched.c && t.cap <= 64 * 1024) tl_touched = t;
    else free(t.c);
    return n;
}

long long pubsub_count_standing(uint64_t workers, bool shard, const uint8_t *ch, size_t chlen, uint64_t h)
{
    long long n = 0;
    for (int i = 0; i < workers_count(); i++) {
        const ps_local_t *l = (workers & (1ULL << i)) ? g_local[i] : NULL;
        if (!l) continue;
        const ps_ent_t *e = map_find(&l->map[shard ? PUBSUB_SHARD : PUBSUB_CHANNEL], ch, chlen, h);
        for (int j = 0; e && j < e->nsubs; j++) n += !(e->subs[j]->flags & CLIENT_CLOSED);
        const ps_map_t *pm = &l->map[PUBSUB_PATTERN];
        for (size_t b = 0; !shard && b < pm->nb; b++)
            for (const ps_ent_t *p = pm->b[b]; p; p = p->next) {
                if (!glob_match((const char *)p->name, p->len, (const char *)ch, chlen, 0)) continue;
                for (int j = 0; j < p->nsubs; j++) n += !(p->subs[j]->flags & CLIENT_CLOSED);
            }
    }
    return n;
}

/* Worker i may hold a subscriber of this channel. seq_cst loads, pairing
 * with bucket_add's stores. */
bool pubsub_may_hold(int i, bool shard, uint64_t h)
{
    uint32_t b = (uint32_t)(h & (PS_BUCKETS - 1));
    int fam = shard ? 1 : 0;
    if (atomic_load(&g_sum[i].bits[fam][b >> 6]) & (1ULL << (b & 63))) return true;
    return !shard && atomic_load(&g_sum[i].npatterns) > 0;
}

bool pubsub_node_has_subscribers(bool shard)
{
    for (int i = 0; i < workers_count(); i++)
        if (atomic_load_explicit(&g_sum[i].nnames[shard ? 1 : 0], memory_order_relaxed) > 0) return true;
    return false;
}

/* ---------------- shard channels whose slot left us ---------------- */

static void sunsubscribe_all(worker_t *w, ps_local_t *l, ps_ent_t *e)
{
    touched_t t = { 0 };
    size_t len = e->len;
    uint8_t *name = xmalloc(len ? len : 1);
    memcpy(name, e->name, len);
    while (e) {
        client_t *c = e->subs[e->nsubs - 1];
        bool last = e->nsubs == 1;
        drop_sub(w, l, c, PUBSUB_SHARD, e);
        if (last) e = NULL;
        if (c->flags & CLIENT_CLOSED) continue;
        add_confirm(client_push_target(c), c, "sunsubscribe", PUBSUB_SHARD, name, len);
        update_mode(c);
        client_schedule_write(c);
        touch(&t, c);
    }
    free(name);
    for (int i = 0; i < t.n; i++) client_check_obuf(t.c[i], OBUF_CHECK_QUICK);
    free(t.c);
}

void pubsub_cron(worker_t *w)
{
    ps_local_t *l = local_of(w, false);
    if (!l || !l->map[PUBSUB_SHARD].n || !config_cluster_enabled()) return;
    worker_snap_enter(w);
    const cluster_snapshot_t *s = worker_snapshot(w);
    ps_map_t *m = &l->map[PUBSUB_SHARD];
    const node_view_t *me = &s->nodes[s->myself];
    for (size_t b = 0; b < m->nb; b++) {
        for (ps_ent_t *e = m->b[b], *nx; e; e = nx) {
            nx = e->next;
            int owner = s->slot_owner[e->slot];
            const char *name = owner >= 0 ? s->nodes[owner].name : "";
            if (strcmp(name, e->owner) == 0) continue;
            /* 7.0.15 drops a slot's shard channels on the nodes that served it
             * (its master and replicas) when it is taken from that master;
             * a replica promoted in its place keeps them. */
            if (e->owner_ours && owner != s->myself) {
                sunsubscribe_all(w, l, e);
                continue;
            }
            memcpy(e->owner, name, sizeof e->owner);
            e->owner_ours = owner >= 0 && (owner == s->myself || ((me->flags & NODE_SLAVE) && me->master == owner));
        }
    }
    worker_snap_leave(w);
}

/* ---------------- PUBSUB introspection ---------------- */

/* Parts answer in an internal form: records of [u32 length][name] (CHANNELS,
 * SHARDCHANNELS, NUMPAT's patterns), or [u32 length][name][i64 count] for
 * NUMSUB and SHARDNUMSUB, in argument order. */
static void put_name(resp_buf_t *b, const uint8_t *name, uint32_t len)
{
    resp_buf_append(b, &len, sizeof len);
    resp_buf_append(b, name, len);
}

static bool sub_is(const cmd_def_t *cmd, const char *name) { return strcmp(cmd->name, name) == 0; }

void pubsub_introspect_part(worker_t *w, remote_cmd_t *rc)
{
    const queued_cmd_t *q = &rc->cmds[0];
    ps_local_t *l = local_of(w, false);
    bool numsub = sub_is(q->cmd, "numsub"), shardnumsub = sub_is(q->cmd, "shardnumsub");
    if (numsub || shardnumsub) {
        int kind = numsub ? PUBSUB_CHANNEL : PUBSUB_SHARD;
        for (int i = 2; i < q->argc; i++) {
            ps_ent_t *e = l ? map_find(&l->map[kind], q->argv[i], q->argvlen[i], pubsub_name_hash(q->argv[i], q->argvlen[i]))
                            : NULL;
            long long n = e ? e->nsubs : 0;
            put_name(&rc->reply, q->argv[i], (uint32_t)q->argvlen[i]);
            resp_buf_append(&rc->reply, &n, sizeof n);
        }
        return;
    }
    if (!l) return;
    int kind = sub_is(q->cmd, "numpat") ? PUBSUB_PATTERN : sub_is(q->cmd, "shardchannels") ? PUBSUB_SHARD
                                                                                            : PUBSUB_CHANNEL;
    const uint8_t *pat = q->argc > 2 ? q->argv[2] : NULL;
    size_t patlen = q->argc > 2 ? q->argvlen[2] : 0;
    ps_map_t *m = &l->map[kind];
    for (size_t b = 0; b < m->nb; b++)
        for (ps_ent_t *e = m->b[b]; e; e = e->next)
            if (!pat || glob_match((const char *)pat, patlen, (const char *)e->name, e->len, 0))
                put_name(&rc->reply, e->name, e->len);
}

void pubsub_introspect_merge(reply_slot_t *s, const remote_cmd_t *rc)
{
    bool counts = sub_is(s->cmd, "numsub") || sub_is(s->cmd, "shardnumsub");
    if (!counts || s->acc.len == 0) {
        resp_buf_append(&s->acc, rc->reply.data, rc->reply.len);
        return;
    }
    /* the same records in the same order: add the counts */
    size_t at = 0;
    while (at + 4 <= s->acc.len && at + 4 <= rc->reply.len) {
        uint32_t len;
        memcpy(&len, s->acc.data + at, 4);
        at += 4 + len;
        long long a, b;
        memcpy(&a, s->acc.data + at, 8);
        memcpy(&b, rc->reply.data + at, 8);
        a += b;
        memcpy(s->acc.data + at, &a, 8);
        at += 8;
    }
}

typedef struct name_ref { const uint8_t *p; uint32_t len; } name_ref_t;

static int name_cmp(const void *a, const void *b)
{
    const name_ref_t *x = a, *y = b;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int r = memcmp(x->p, y->p, n);
    return r ? r : (x->len > y->len) - (x->len < y->len);
}

void pubsub_introspect_reply(reply_slot_t *s)
{
    resp_buf_t *out = &s->buf;
    bool counts = sub_is(s->cmd, "numsub") || sub_is(s->cmd, "shardnumsub");
    size_t nrec = 0;
    for (size_t at = 0; at + 4 <= s->acc.len; nrec++) {
        uint32_t len;
        memcpy(&len, s->acc.data + at, 4);
        at += 4 + len + (counts ? 8 : 0);
    }
    if (counts) {
        resp_add_array(out, (long long)nrec * 2);
        for (size_t at = 0; at + 4 <= s->acc.len;) {
            uint32_t len;
            memcpy(&len, s->acc.data + at, 4);
            resp_add_bulk(out, s->acc.data + at + 4, len);
            long long n;
            memcpy(&n, s->acc.data + at + 4 + len, 8);
            resp_add_int(out, n);
            at += 4 + len + 8;
        }
        return;
    }
    /* names from every worker: each once */
    name_ref_t *v = xmalloc((nrec ? nrec : 1) * sizeof *v);
    size_t k = 0;
    for (size_t at = 0; at + 4 <= s->acc.len; k++) {
        uint32_t len;
        memcpy(&len, s->acc.data + at, 4);
        v[k].p = (const uint8_t *)s->acc.data + at + 4;
        v[k].len = len;
        at += 4 + len;
    }
    qsort(v, nrec, sizeof *v, name_cmp);
    size_t uniq = 0;
    for (size_t i = 0; i < nrec; i++)
        if (i == 0 || name_cmp(&v[i], &v[i - 1]) != 0) v[uniq++] = v[i];
    if (sub_is(s->cmd, "numpat")) {
        resp_add_int(out, (long long)uniq);
    } else {
        resp_add_array(out, (long long)uniq);
        for (size_t i = 0; i < uniq; i++) resp_add_bulk(out, v[i].p, v[i].len);
    }
    free(v);
}

void pubsub_introspect_whole(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                             resp_buf_t *out)
{
    queued_cmd_t q = { .cmd = cmd, .argc = argc, .argv = argv, .argvlen = (size_t *)argvlen };
    remote_cmd_t rc = { .ncmds = 1, .cmds = &q };
    reply_slot_t s = { .cmd = cmd };
    resp_buf_init(&rc.reply, 2);
    resp_buf_init(&s.acc, 2);
    resp_buf_init(&s.buf, out->proto);
    for (int i = 0; i < workers_count(); i++) {
        resp_buf_reset(&rc.reply);
        pubsub_introspect_part(worker_at(i), &rc);
        pubsub_introspect_merge(&s, &rc);
    }
    pubsub_introspect_reply(&s);
    resp_buf_append(out, s.buf.data, s.buf.len);
    resp_buf_free(&rc.reply);
    resp_buf_free(&s.acc);
    resp_buf_free(&s.buf);
}

bool pubsub_context_refusal(const client_t *c, const cmd_def_t *cmd, char *err, size_t cap)
{
    if (!(c->flags & CLIENT_PUBSUB) || c->proto != 2) return false;
    static const char *const allowed[] = { "ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe",
                                           "psubscribe", "punsubscribe", "quit", "reset" };
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (cmd->parent == NULL && strcmp(cmd->name, allowed[i]) == 0) return false;
    char name[96];
    dispatch_full_name(cmd, name, sizeof name);
    snprintf(err, cap,
             "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
             name);
    return true;
}

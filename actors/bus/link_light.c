/* link_light.c - the light encoding on a link (see link_light.h): a
 * per-thread tuple pool and scratch buffers, and the two hooks link.c calls
 * on each frame in and out.
 *
 * Must never: touch another thread's pool, or let a frame go light before
 * the peer's advertisement arrived on this link.
 */
#include <stdlib.h>
#include <string.h>

#include "actors/bus/gossip.h"
#include "actors/bus/link_light.h"
#include "actors/config/config.h"
#include "actors/state/state.h"
#include "proto/bus_wire.h"
#include "runtime/log.h"
#include "runtime/snapshot.h"

_Atomic long long g_light_frames_out, g_light_frames_in;
_Atomic long long g_light_view_mismatch;
_Atomic long long g_light_view_builds;

/* The thread's copy of the view of the last snapshot it looked at (§9.7):
 * every node gossip may name, but myself, as the tuple our own frames give
 * it, and a table from name fingerprint to it. Rebuilt only when the
 * snapshot's view_gen moves (a tuple or the set of nodes changed), not at
 * each publish: at 1,000 nodes the state publishes about ten times a
 * second and a rebuild is a thousand entries encoded and hashed per link
 * thread, which made the light encoding cost more CPU than plain frames.
 * Links then compare and look up without a read section. */
typedef struct view_cache {
    bool valid;
    uint64_t view_gen;
    uint64_t w;                      /* XOR of the tuple hashes */
    uint32_t n, cap;
    uint8_t (*tuple)[BUS_LIGHT_TUPLE_LEN];
    uint64_t *hash;
    uint32_t *fp_slot;               /* open addressing: tuple index + 1, 0 empty */
    uint8_t *fp_dup;                 /* per tuple: its fingerprint names another too */
    uint32_t nslots;                 /* power of two, at least 2 n */
} view_cache_t;

/* A link's look-up: the view without the link's peer. */
typedef struct view_ctx {
    const view_cache_t *vc;
    const uint8_t *peer;             /* BUS_NAME_LEN bytes, or NULL */
} view_ctx_t;

typedef struct light_thread {
    bus_light_pool_t pool;           /* tuples shared by every link of this thread */
    uint8_t *out;                    /* the light frame being sent (not `in`: a PONG is
                                      * encoded while the PING it answers is still there) */
    size_t out_cap;
    uint8_t *in;                     /* the plain frame a light one expanded into */
    size_t in_cap;
    uint8_t *plain;                  /* a frame we send, with our view digest put in */
    size_t plain_cap;
    bool reader_ok;
    rt_snap_reader_t reader;         /* our own: link.c's may be in a section */
    view_cache_t view;
} light_thread_t;

static _Thread_local light_thread_t *lt;

static light_thread_t *thread_state(void)
{
    if (lt) return lt;
    light_thread_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    bus_light_pool_init(&t->pool);
    t->reader_ok = rt_snap_reader_register(&g_cluster_snapshot, &t->reader) == 0;
    lt = t;   /* lives as long as the thread, as the links' thread context does */
    return t;
}

/* A scratch buffer grown for one huge frame (up to the gossip frame cap) is
 * given back once frames are small again. */
#define SCRATCH_KEEP (1024 * 1024)

static uint8_t *reserve(uint8_t **buf, size_t *cap, size_t need)
{
    if (*cap > SCRATCH_KEEP && need <= SCRATCH_KEEP / 4) {
        free(*buf);
        *buf = NULL;
        *cap = 0;
    }
    if (need <= *cap) return *buf;
    size_t c = *cap ? *cap : 16384;
    while (c < need) c *= 2;
    uint8_t *n = realloc(*buf, c);
    if (!n) return NULL;
    *buf = n;
    *cap = c;
    return n;
}

static uint32_t fp_home(const uint8_t *fp, uint32_t nslots)
{
    uint64_t w;
    memcpy(&w, fp, 8);
    w *= 0x9e3779b97f4a7c15ull;
    return (uint32_t)(w >> 32) & (nslots - 1);
}

/* Index of the tuple whose name starts with fp, or -1; *dup when several do. */
static int fp_find(const view_cache_t *vc, const uint8_t *fp, bool *dup)
{
    *dup = false;
    if (!vc->valid || !vc->nslots) return -1;
    for (uint32_t h = fp_home(fp, vc->nslots);; h = (h + 1) & (vc->nslots - 1)) {
        uint32_t s = vc->fp_slot[h];
        if (!s) return -1;
        if (memcmp(vc->tuple[s - 1], fp, BUS_LIGHT_FP_LEN) == 0) {
            *dup = vc->fp_dup[s - 1];
            return (int)(s - 1);
        }
    }
}

static bool view_grow(view_cache_t *vc, uint32_t n)
{
    if (n <= vc->cap) return true;
    uint32_t c = vc->cap ? vc->cap : 256;
    while (c < n) c *= 2;
    void *a = realloc(vc->tuple, (size_t)c * BUS_LIGHT_TUPLE_LEN);
    if (!a) return false;
    vc->tuple = a;
    if (!(a = realloc(vc->hash, (size_t)c * sizeof *vc->hash))) return false;
    vc->hash = a;
    if (!(a = realloc(vc->fp_dup, c))) return false;
    vc->fp_dup = a;
    if (!(a = realloc(vc->fp_slot, (size_t)c * 2 * sizeof *vc->fp_slot))) return false;
    vc->fp_slot = a;
    vc->cap = c;
    return true;
}

static void view_build(view_cache_t *vc, const cluster_snapshot_t *s)
{
    vc->valid = false;
    if (!s || !view_grow(vc, (uint32_t)s->node_count + 1)) return;
    vc->n = 0;
    vc->w = 0;
    for (int i = 0; i < s->node_count; i++) {
        const node_view_t *v = &s->nodes[i];
        if (i == s->myself || (v->flags & (NODE_HANDSHAKE | NODE_NOADDR))) continue;
        bus_gossip_t g;
        uint8_t e[BUS_GOSSIP_LEN];
        gossip_fill_entry(v, &g);
        bus_gossip_encode(e, &g);
        bus_light_entry_tuple(e, vc->tuple[vc->n]);
        vc->hash[vc->n] = bus_light_tuple_hash(vc->tuple[vc->n]);
        vc->w ^= vc->hash[vc->n];
        vc->n++;
    }
    vc->nslots = 2;
    while (vc->nslots < 2 * vc->n) vc->nslots *= 2;
    if (vc->nslots > 2 * vc->cap) return;
    memset(vc->fp_slot, 0, (size_t)vc->nslots * sizeof *vc->fp_slot);
    vc->valid = true;   /* fp_find below reads the table being filled */
    for (uint32_t i = 0; i < vc->n; i++) {
        vc->fp_dup[i] = 0;
        bool dup;
        int j = fp_find(vc, vc->tuple[i], &dup);
        if (j >= 0) {
            /* a shared fingerprint names no one: both go in full */
            vc->fp_dup[j] = 1;
            continue;
        }
        uint32_t h = fp_home(vc->tuple[i], vc->nslots);
        while (vc->fp_slot[h]) h = (h + 1) & (vc->nslots - 1);
        vc->fp_slot[h] = i + 1;
    }
    vc->view_gen = s->view_gen;
    atomic_fetch_add_explicit(&g_light_view_builds, 1, memory_order_relaxed);   /* relaxed: a statistic */
}

/* The thread's view as of the current snapshot; NULL when none. */
static const view_cache_t *current_view(light_thread_t *t)
{
    if (!t->reader_ok) return NULL;
    const cluster_snapshot_t *s = rt_snap_read_begin(&t->reader);
    if (s && (!t->view.valid || t->view.view_gen != s->view_gen)) view_build(&t->view, s);
    rt_snap_read_end(&t->reader);
    return s && t->view.valid ? &t->view : NULL;
}

static const uint8_t *view_find(const void *ctx, const uint8_t *fp)
{
    const view_ctx_t *c = ctx;
    bool dup;
    int i = fp_find(c->vc, fp, &dup);
    if (i < 0 || dup) return NULL;
    /* the link's peer is in one end's view and not in the other's */
    if (c->peer && memcmp(c->vc->tuple[i], c->peer, BUS_NAME_LEN) == 0) return NULL;
    return c->vc->tuple[i];
}

/* The link's view: ours without the peer; 0 when there is none. */
static void link_view(const view_cache_t *vc, const uint8_t *peer, view_ctx_t *ctx, bus_light_view_t *view)
{
    ctx->vc = vc;
    ctx->peer = peer;
    view->find = view_find;
    view->ctx = ctx;
    view->v = 0;
    if (!vc) return;
    uint64_t v = vc->w;
    if (peer) {
        bool dup;
        int i = fp_find(vc, peer, &dup);
        if (i >= 0 && !dup && memcmp(vc->tuple[i], peer, BUS_NAME_LEN) == 0) {
            v ^= vc->hash[i];
        } else if (i >= 0) {
            for (uint32_t k = 0; k < vc->n; k++)
                if (memcmp(vc->tuple[k], peer, BUS_NAME_LEN) == 0) { v ^= vc->hash[k]; break; }
        }
    }
    view->v = v ? v : 1;   /* 0 means "no view" on the wire */
}

static bool enabled(void)
{
    return config_get_num(CONFIG_CLUSTER_LIGHT_BUS) != 0;
}

static void bump(_Atomic long long *link_counter, _Atomic long long *all)
{
    /* relaxed: statistics, each read on its own */
    atomic_store_explicit(link_counter, atomic_load_explicit(link_counter, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_fetch_add_explicit(all, 1, memory_order_relaxed);
}

/* What a PING/PONG/MEET of the peer tells this link (plain bytes): whether
 * it speaks light, its name, and the view digest it holds for us. */
static void note_peer(link_light_t *ll, const uint8_t *frame, size_t len)
{
    ll->peer_light = bus_light_advertised(frame, len);
    ll->peer_v = bus_light_get_view(frame, len);
    ll->peer_known = true;
    memcpy(ll->peer_name, frame + BW_SENDER, BUS_NAME_LEN);
}

bool link_light_in(link_light_t *ll, bus_stream_frame_t *f, bus_msg_t *msg)
{
    if (!f->light) {
        /* whether the peer speaks it is learnt from its PING/PONG/MEET on
         * this very link, and unlearnt the same way */
        if (f->result == BUS_OK && bus_type_has_gossip(f->type)) note_peer(ll, f->data, f->len);
        return true;
    }
    light_thread_t *t = thread_state();
    if (!t) return false;
    if (!ll->rx) {
        ll->rx = malloc(sizeof *ll->rx);
        if (!ll->rx) return false;
        bus_light_rx_init(ll->rx);
    }
    size_t plain = bus_light_plain_len(f->data, f->len);
    int r = BUS_LIGHT_ERR_SHORT;
    size_t n = 0;
    bool gossip = bus_type_has_gossip(f->type);
    if (plain && !gossip && reserve(&t->in, &t->in_cap, plain)) {
        /* a light PUBLISH (§9.8) names no gossip entry: no view needed */
        r = bus_light_expand(&t->pool, ll->rx, f->data, f->len, t->in, t->in_cap, &n, NULL);
    } else if (plain && reserve(&t->in, &t->in_cap, plain)) {
        /* our view without the frame's sender (its name is in the copied
         * header part at light offset 24 + 32) */
        view_ctx_t vctx;
        bus_light_view_t view;
        link_view(current_view(t), f->len >= BUS_LIGHT_HDR_LEN ? f->data + 24 + (BW_SENDER - BW_VER) : NULL,
                  &vctx, &view);
        r = bus_light_expand(&t->pool, ll->rx, f->data, f->len, t->in, t->in_cap, &n, &view);
    } else if (plain) {
        r = BUS_LIGHT_ERR_NOMEM;
    }
    if (r != BUS_LIGHT_OK) {
        if (r == BUS_LIGHT_ERR_VIEW) {
            /* Not a bad frame: the view changed between the peer's two frames
             * (a node joined, left, moved or lost HANDSHAKE), docs/cluster-bus.md
             * §9.7 rule 5. The link closes and the next one starts plain.
             * relaxed: a statistic */
            atomic_fetch_add_explicit(&g_light_view_mismatch, 1, memory_order_relaxed);
            LOG_VERBOSE("Light frame on cluster bus link assumes a view that changed meanwhile: "
                        "link closed, the next one starts plain");
            return false;
        }
        LOG_WARNING("Bad light frame received on cluster bus link (%s)", bus_light_result_str(r));
        return false;
    }
    bump(&ll->frames_in, &g_light_frames_in);
    f->data = t->in;
    f->len = f->totlen = (uint32_t)n;
    f->light = false;
    f->type = (uint16_t)((t->in[12] << 8) | t->in[13]);
    f->result = bus_decode_noslots(t->in, n, msg);
    /* a light PING/PONG/MEET carries its sender's header bytes, advertisement
     * included (a PUBLISH's header never advertises: it says nothing of that) */
    if (f->result == BUS_OK && gossip) note_peer(ll, t->in, n);
    return true;
}

/* A PUBLISH / PUBLISHSHARD to a peer that advertised the encoding on this
 * link goes in its light form (§9.8); a large one stays plain. */
static void publish_out(link_light_t *ll, const uint8_t **data, size_t *len)
{
    if (!ll->peer_light || *len > BUS_LIGHT_PUB_MAX) return;
    light_thread_t *t = thread_state();
    if (!t) return;
    if (!ll->tx) {
        ll->tx = malloc(sizeof *ll->tx);
        if (!ll->tx) return;
        bus_light_tx_init(ll->tx);
    }
    if (!reserve(&t->out, &t->out_cap, bus_light_bound(*len, 0))) return;
    size_t n = bus_light_encode(&t->pool, ll->tx, *data, *len, t->out, t->out_cap, NULL, 0);
    if (!n) return;
    bump(&ll->frames_out, &g_light_frames_out);
    *data = t->out;
    *len = n;
}

void link_light_out(link_light_t *ll, const char *node_name, const uint8_t **data, size_t *len)
{
    /* only to a peer that advertised it here (the frames we build carry our
     * own advertisement already, gossip.c); a peer known not to gets the
     * frame as it is */
    if ((ll->peer_known && !ll->peer_light) || !enabled()) return;
    unsigned type;
    if (!bus_peek_type(*data, *len, &type) || *len < BUS_HEADER_LEN) return;
    if (type == BUS_PUBLISH || type == BUS_PUBLISHSHARD) {
        publish_out(ll, data, len);
        return;
    }
    if (!bus_type_has_gossip(type)) return;
    if (!bus_light_advertised(*data, *len)) return;
    light_thread_t *t = thread_state();
    if (!t) return;
    /* Our view digest for this link goes in the frame's reserved bytes, so
     * a copy of it: the frame may be shared by several links. */
    view_ctx_t vctx;
    bus_light_view_t view;
    const uint8_t *peer = ll->peer_known ? ll->peer_name : NULL;
    if (!peer && node_name && strlen(node_name) == BUS_NAME_LEN) peer = (const uint8_t *)node_name;
    link_view(current_view(t), peer, &vctx, &view);
    if (!reserve(&t->plain, &t->plain_cap, *len)) return;
    memcpy(t->plain, *data, *len);
    bus_light_put_view(t->plain, *len, view.v);
    *data = t->plain;
    if (!ll->peer_light) return;
    if (!ll->tx) {
        ll->tx = malloc(sizeof *ll->tx);
        if (!ll->tx) return;
        bus_light_tx_init(ll->tx);
    }
    uint16_t count = (uint16_t)((t->plain[14] << 8) | t->plain[15]);
    if (!reserve(&t->out, &t->out_cap, bus_light_bound(*len, count))) return;
    size_t n = bus_light_encode(&t->pool, ll->tx, t->plain, *len, t->out, t->out_cap, &view, ll->peer_v);
    if (!n) return;
    bump(&ll->frames_out, &g_light_frames_out);
    *data = t->out;
    *len = n;
}

bool link_light_pack(link_light_t *ll)
{
    light_thread_t *t = lt;
    if (!t) return true;   /* never light on this thread: nothing in its pool */
    if (ll->rx && bus_light_rx_export(ll->rx, &t->pool, &ll->moving) != 0) return false;
    if (ll->tx) {
        bus_light_tx_reset(ll->tx, &t->pool);
        ll->tx->reset_pending = true;
    }
    return true;
}

bool link_light_unpack(link_light_t *ll)
{
    if (!ll->moving.nids) return true;
    light_thread_t *t = thread_state();
    if (!t) {
        bus_light_rx_keys_t none = { 0 };
        free(ll->moving.key);
        free(ll->moving.has);
        ll->moving = none;
        return false;
    }
    return bus_light_rx_import(ll->rx, &t->pool, &ll->moving) == 0;
}

void link_light_free(link_light_t *ll)
{
    light_thread_t *t = lt;
    free(ll->moving.key);
    free(ll->moving.has);
    ll->moving = (bus_light_rx_keys_t){ 0 };
    if (ll->tx) {
        if (t) bus_light_tx_reset(ll->tx, &t->pool);
        free(ll->tx);
        ll->tx = NULL;
    }
    if (ll->rx) {
        if (t) bus_light_rx_reset(ll->rx, &t->pool);
        free(ll->rx);
        ll->rx = NULL;
    }
    ll->peer_light = false;
    ll->peer_known = false;
    ll->peer_v = 0;
}

/* link_light.c - the light encoding on a link (see link_light.h): a
 * per-thread tuple pool and scratch buffers, and the two hooks link.c calls
 * on each frame in and out.
 *
 * Must never: touch another thread's pool, or let a frame go light before
 * the peer's advertisement arrived on this link.
 */
#include <stdlib.h>
#include <string.h>

#include "actors/bus/link_light.h"
#include "actors/config/config.h"
#include "runtime/log.h"

_Atomic long long g_light_frames_out, g_light_frames_in;

typedef struct light_thread {
    bus_light_pool_t pool;           /* tuples shared by every link of this thread */
    uint8_t *out;                    /* the light frame being sent (not `in`: a PONG is
                                      * encoded while the PING it answers is still there) */
    size_t out_cap;
    uint8_t *in;                     /* the plain frame a light one expanded into */
    size_t in_cap;
} light_thread_t;

static _Thread_local light_thread_t *lt;

static light_thread_t *thread_state(void)
{
    if (lt) return lt;
    light_thread_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    bus_light_pool_init(&t->pool);
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

bool link_light_in(link_light_t *ll, bus_stream_frame_t *f, bus_msg_t *msg)
{
    if (!f->light) {
        /* whether the peer speaks it is learnt from its PING/PONG/MEET on
         * this very link, and unlearnt the same way */
        if (f->result == BUS_OK && bus_type_has_gossip(f->type))
            ll->peer_light = bus_light_advertised(f->data, f->len);
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
    if (plain && reserve(&t->in, &t->in_cap, plain))
        r = bus_light_expand(&t->pool, ll->rx, f->data, f->len, t->in, t->in_cap, &n);
    else if (plain)
        r = BUS_LIGHT_ERR_NOMEM;
    if (r != BUS_LIGHT_OK) {
        LOG_WARNING("Bad light frame received on cluster bus link (%s)", bus_light_result_str(r));
        return false;
    }
    bump(&ll->frames_in, &g_light_frames_in);
    f->data = t->in;
    f->len = f->totlen = (uint32_t)n;
    f->light = false;
    f->type = (uint16_t)((t->in[12] << 8) | t->in[13]);
    f->result = bus_decode_noslots(t->in, n, msg);
    /* a light frame carries its sender's header bytes, advertisement included */
    if (f->result == BUS_OK) ll->peer_light = bus_light_advertised(t->in, n);
    return true;
}

void link_light_out(link_light_t *ll, const uint8_t **data, size_t *len)
{
    /* only to a peer that advertised it here (the frames we build carry our
     * own advertisement already, gossip.c) */
    if (!ll->peer_light || !enabled()) return;
    unsigned type;
    if (!bus_peek_type(*data, *len, &type) || !bus_type_has_gossip(type) || *len < BUS_HEADER_LEN) return;
    light_thread_t *t = thread_state();
    if (!t) return;
    if (!ll->tx) {
        ll->tx = malloc(sizeof *ll->tx);
        if (!ll->tx) return;
        bus_light_tx_init(ll->tx);
    }
    uint16_t count = (uint16_t)(((*data)[14] << 8) | (*data)[15]);
    if (!reserve(&t->out, &t->out_cap, bus_light_bound(*len, count))) return;
    size_t n = bus_light_encode(&t->pool, ll->tx, *data, *len, t->out, t->out_cap);
    if (!n) return;
    bump(&ll->frames_out, &g_light_frames_out);
    *data = t->out;
    *len = n;
}

void link_light_free(link_light_t *ll)
{
    light_thread_t *t = lt;
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
}

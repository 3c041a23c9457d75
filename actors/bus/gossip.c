/* gossip.c - PING / PONG / MEET frames built from a snapshot (see gossip.h).
 * The gossip selection follows 7.0.15 (docs/cluster-bus.md §5.5): about N/10
 * random records (at least 3), skipping myself, PFAIL records, handshake and
 * address-less records and records with neither a link nor slots; then every
 * PFAIL record. The hostname extension goes on every frame when we announce
 * one.
 *
 * One departure, for convergence speed: 7.0.15 gossips max(3, N/10) random
 * records; while our table is growing (state_bus.c, state_gossip_full) our
 * own PINGs and PONG broadcasts carry up to GOSSIP_FLOOR (64) records (every
 * eligible one in a cluster of up to GOSSIP_FLOOR + 2 nodes). Receivers of
 * any version accept any count, and a node that joins learns the whole table
 * from one message instead of waiting for random samples to cover it. Once
 * the table is steady, and in replies to PINGs always, we send 7.0.15's
 * size, so a steady cluster and a flood of PINGs cost no more than with
 * Redis. In a cluster of up to GOSSIP_FLOOR + 2 nodes the larger section
 * lists every eligible record and we always send it: a few entries more
 * than 7.0.15 (5 instead of 3 at N = 6), a frame size that does not depend
 * on random picks, and failure reports that reach every node by the next
 * frame in the small clusters the failover drills time.
 */
#include <stdlib.h>
#include <string.h>

#include "actors/bus/gossip.h"
#include "actors/bus/link.h"
#include "actors/config/config.h"
#include "proto/bus_light.h"
#include "runtime/xmalloc.h"

static __thread uint64_t rng_state;

static uint64_t rng_next(void)
{
    if (rng_state == 0) rng_state = (uint64_t)rt_now_us() ^ ((uint64_t)(uintptr_t)&rng_state << 16) ^ 0x9e3779b97f4a7c15ull;
    /* xorshift64*: plenty for picking gossip entries */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

void gossip_header(const cluster_snapshot_t *s, bus_header_t *hdr)
{
    *hdr = s->hdr;
}

void gossip_fill_entry(const node_view_t *n, bus_gossip_t *g)
{
    memset(g, 0, sizeof *g);
    memcpy(g->name, n->name, BUS_NAME_LEN);
    g->ping_sent = (uint32_t)(n->ping_sent_ms / 1000);
    g->pong_received = (uint32_t)(n->pong_received_ms / 1000);
    memcpy(g->ip, n->ip, sizeof n->ip < sizeof g->ip ? sizeof n->ip : sizeof g->ip);
    g->ip[BUS_IP_LEN] = '\0';
    g->port = (uint16_t)n->port;
    g->cport = (uint16_t)n->cport;
    g->pport = (uint16_t)n->pport;
    g->flags = n->flags;
}

/* Builds into *buf (grown as needed, kept by the caller for reuse). `full`
 * selects our larger gossip section; otherwise 7.0.15's max(3, N/10). */
/* The last reply frame a thread built: while the snapshot, the entry count and
 * the extensions stay the same, its header and extension bytes are still
 * right and only the gossip entries are written again (a PING flood then
 * costs no header encoding per PONG). */
typedef struct reply_memo {
    uint64_t version;         /* snapshot version, 0 = none */
    unsigned type;
    int count;
    size_t next, len;
} reply_memo_t;

/* With `cluster-light-bus yes` our PING/PONG/MEET advertise the light
 * encoding in their reserved header bytes (docs/cluster-bus.md §9.2), where
 * 7.0.15 reads nothing; with no, those bytes are zero as 7.0.15 sends them. */
static void light_mark(uint8_t *frame, size_t len)
{
    if (len < BUS_HEADER_LEN) return;
    if (config_get_num(CONFIG_CLUSTER_LIGHT_BUS)) bus_light_advertise(frame, len);
    else memset(frame + BUS_LIGHT_ADV_OFF, 0, BUS_LIGHT_ADV_LEN);
}

static size_t build(const cluster_snapshot_t *s, unsigned type, bool full, uint8_t **buf, size_t *cap,
                    int **picked, size_t *picked_cap, reply_memo_t *memo)
{
    int n = s->node_count;
    int freshnodes = n - 2;
    int wanted = n / 10;
    if (wanted < 3) wanted = 3;
    if (full && wanted < GOSSIP_FLOOR) wanted = GOSSIP_FLOOR;
    if (wanted > freshnodes) wanted = freshnodes;
    if (wanted < 0) wanted = 0;
    bool sweep = full && wanted >= n - 2;   /* small cluster: every eligible record, from a random start */
    if (sweep) wanted = freshnodes = n - 1;  /* all but myself (the receiver included) */
    if (wanted < 0) wanted = 0;
    int pfail_wanted = s->pfail_count;
    bus_gossip_t stackbuf[16];
    int gcap = wanted + pfail_wanted;
    bus_gossip_t *g = gcap <= 16 ? stackbuf : xmalloc(sizeof *g * (size_t)gcap);
    if (*picked_cap < (size_t)n) {
        size_t nc = (size_t)n + 64;
        int *p = xrealloc(*picked, nc * sizeof(int));
        *picked = p;
        *picked_cap = nc;
    }
    if (n > 0) memset(*picked, 0, (size_t)n * sizeof(int));
    int count = 0, tries = 3 * wanted;
    int start = n > 0 ? (int)(rng_next() % (uint64_t)n) : 0;
    int step = 0;
    while (freshnodes > 0 && count < wanted && (sweep ? step < n : tries-- > 0)) {
        int i = sweep ? (start + step++) % n : (int)(rng_next() % (uint64_t)n);
        const node_view_t *v = &s->nodes[i];
        if (i == s->myself) continue;
        if (v->flags & NODE_PFAIL) continue;
        if ((v->flags & (NODE_HANDSHAKE | NODE_NOADDR)) || (!v->out_link && v->slot_count == 0)) {
            freshnodes--;
            continue;
        }
        if ((*picked)[i]) continue;
        (*picked)[i] = 1;
        gossip_fill_entry(v, &g[count++]);
        freshnodes--;
    }
    for (int i = 0; i < n && pfail_wanted > 0; i++) {
        const node_view_t *v = &s->nodes[i];
        if (!(v->flags & NODE_PFAIL) || (v->flags & (NODE_HANDSHAKE | NODE_NOADDR))) continue;
        gossip_fill_entry(v, &g[count++]);
        pfail_wanted--;
    }
    const node_view_t *me = &s->nodes[s->myself];
    size_t next = me->hostname[0] ? 1 : 0;
    if (memo && memo->version == s->version && memo->type == type && memo->count == count && memo->next == next &&
        *buf && *cap >= memo->len) {
        for (int i = 0; i < count; i++) bus_gossip_encode(*buf + BUS_HEADER_LEN + (size_t)i * BUS_GOSSIP_LEN, &g[i]);
        if (g != stackbuf) free(g);
        light_mark(*buf, memo->len);
        return memo->len;
    }
    bus_header_t hdr;
    gossip_header(s, &hdr);
    bus_ext_t ext;
    if (next) bus_ext_hostname(&ext, me->hostname);
    size_t len = bus_ping_len((unsigned)count, next ? &ext : NULL, next);
    if (*cap < len) {
        uint8_t *nb = xrealloc(*buf, len);
        *buf = nb;
        *cap = len;
    }
    size_t got = bus_build_ping(*buf, *cap, &hdr, type, g, (unsigned)count, next ? &ext : NULL, next);
    if (g != stackbuf) free(g);
    light_mark(*buf, got);
    if (memo) *memo = (reply_memo_t){ got ? s->version : 0, type, count, next, got };
    return got;
}

size_t gossip_build_sized(const cluster_snapshot_t *s, unsigned type, bool full, uint8_t **out)
{
    uint8_t *buf = NULL;
    size_t cap = 0;
    int *picked = NULL;
    size_t picked_cap = 0;
    size_t len = build(s, type, full, &buf, &cap, &picked, &picked_cap, NULL);
    free(picked);
    if (!len) { free(buf); buf = NULL; }
    *out = buf;
    return len;
}

size_t gossip_build(const cluster_snapshot_t *s, unsigned type, uint8_t **out)
{
    return gossip_build_sized(s, type, true, out);
}

/* Per-thread buffers: a flood of PINGs costs no allocation per reply. */
static __thread uint8_t *reply_buf;
static __thread size_t reply_cap;
static __thread int *reply_picked;
static __thread size_t reply_picked_cap;
static __thread reply_memo_t reply_memo;

const uint8_t *gossip_build_reply(const cluster_snapshot_t *s, size_t *len)
{
    *len = build(s, BUS_PONG, false, &reply_buf, &reply_cap, &reply_picked, &reply_picked_cap, &reply_memo);
    return *len ? reply_buf : NULL;
}

/* Whether node i of s gets a PUBLISH / PUBLISHSHARD from us (see gossip.h). */
static bool publish_goes_to(const cluster_snapshot_t *s, int i, unsigned type, int shard, uint64_t link_floor)
{
    const node_view_t *n = &s->nodes[i];
    if (i == s->myself || (n->flags & NODE_HANDSHAKE) || !n->out_link) return false;
    if (link_floor && n->out_link >= link_floor) return false;   /* opened after the caller's transaction closed one */
    return type != BUS_PUBLISHSHARD || i == shard || ((n->flags & NODE_SLAVE) && n->master == shard);
}

int gossip_publish(const cluster_snapshot_t *s, unsigned type, const void *channel, size_t channel_len,
                   const void *message, size_t message_len, uint64_t link_floor)
{
    const node_view_t *me = &s->nodes[s->myself];
    /* our shard: our master when we are a replica, else ourselves */
    int shard = (me->flags & NODE_SLAVE) && me->master >= 0 ? me->master : s->myself;
    /* No receiver (a lone node, a master without replicas for SPUBLISH):
     * no frame is built, so such a PUBLISH allocates nothing here. */
    int first = 0;
    while (first < s->node_count && !publish_goes_to(s, first, type, shard, link_floor)) first++;
    if (first == s->node_count) return 0;
    uint64_t total = (uint64_t)BUS_PUBLISH_MIN_LEN + channel_len + message_len;
    if (total > UINT32_MAX) return -1;
    /* built once, in place, and shared by reference by every link's queue
     * (each light link makes its own short copy, link_light.c) */
    shared_frame_t *f = shared_frame_alloc((size_t)total);
    if (!f) return -1;
    bus_header_t hdr;
    gossip_header(s, &hdr);
    size_t len = bus_build_publish(f->data, (size_t)total, &hdr, type, channel, channel_len, message, message_len);
    if (len == 0) { shared_frame_unref(f); return -1; }
    f->len = len;
    int sent = 0;
    for (int i = first; i < s->node_count; i++) {
        if (!publish_goes_to(s, i, type, shard, link_floor)) continue;
        link_send_shared(s->nodes[i].out_link, f);
        sent++;
    }
    shared_frame_unref(f);
    return sent;
}

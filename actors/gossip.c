/* gossip.c - PING / PONG / MEET frames built from a snapshot (see gossip.h).
 * The gossip selection follows 7.0.15 (cluster-bus.md 5.5): about N/10
 * random records (at least 3), skipping myself, PFAIL records, handshake and
 * address-less records and records with neither a link nor slots; then every
 * PFAIL record. The hostname extension goes on every frame when we announce
 * one.
 *
 * One departure, for convergence speed: 7.0.15 gossips max(3, N/10) random
 * records; we gossip up to GOSSIP_FLOOR records (every eligible one in a
 * cluster of up to GOSSIP_FLOOR + 2 nodes). Receivers of any version accept
 * any count, and a node that joins learns the whole table from one message
 * instead of waiting for random samples to cover it.
 */
#define GOSSIP_FLOOR 32
#include <stdlib.h>
#include <string.h>

#include "actors/gossip.h"

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

static void fill_entry(const node_view_t *n, bus_gossip_t *g)
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

size_t gossip_build(const cluster_snapshot_t *s, unsigned type, uint8_t **out)
{
    *out = NULL;
    int n = s->node_count;
    int freshnodes = n - 2;
    int wanted = n / 10;
    if (wanted < GOSSIP_FLOOR) wanted = GOSSIP_FLOOR;
    if (wanted > freshnodes) wanted = freshnodes;
    if (wanted < 0) wanted = 0;
    bool sweep = wanted >= n - 2;    /* small cluster: every eligible record, from a random start */
    if (sweep) wanted = freshnodes = n - 1;   /* all but myself (the receiver included) */
    if (wanted < 0) wanted = 0;
    int pfail_wanted = s->pfail_count;
    bus_gossip_t stackbuf[16];
    int cap = wanted + pfail_wanted;
    bus_gossip_t *g = cap <= 16 ? stackbuf : malloc(sizeof *g * (size_t)cap);
    int *picked = calloc((size_t)(n > 0 ? n : 1), sizeof(int));
    if (!g || !picked) abort();
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
        if (picked[i]) continue;
        picked[i] = 1;
        fill_entry(v, &g[count++]);
        freshnodes--;
    }
    for (int i = 0; i < n && pfail_wanted > 0; i++) {
        const node_view_t *v = &s->nodes[i];
        if (!(v->flags & NODE_PFAIL) || (v->flags & (NODE_HANDSHAKE | NODE_NOADDR))) continue;
        fill_entry(v, &g[count++]);
        pfail_wanted--;
    }
    bus_header_t hdr;
    gossip_header(s, &hdr);
    bus_ext_t ext;
    size_t next = 0;
    const node_view_t *me = &s->nodes[s->myself];
    if (me->hostname[0]) {
        bus_ext_hostname(&ext, me->hostname);
        next = 1;
    }
    size_t len = bus_ping_len((unsigned)count, next ? &ext : NULL, next);
    uint8_t *buf = malloc(len);
    if (!buf) abort();
    size_t got = bus_build_ping(buf, len, &hdr, type, g, (unsigned)count, next ? &ext : NULL, next);
    if (g != stackbuf) free(g);
    free(picked);
    if (got == 0) { free(buf); return 0; }
    *out = buf;
    return got;
}

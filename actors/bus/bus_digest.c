/* bus_digest.c - judges a member's frame against the snapshot (see
 * bus_digest.h; the argument for its safety is docs/cluster-bus.md §1.6,
 * "Digest"). Each test below mirrors one step of the state actor's rules
 * (actors/state/state_bus.c) for a PING on an inbound link or a PONG, and
 * answers "forward" whenever the step could change anything the snapshot
 * shows; where the rule depends on something the snapshot may show late
 * (ping and pong times are published at most every 10 ms), the test is the
 * one that forwards more, never less. Names are found through the
 * snapshot's index (cluster_snapshot_find), one probe each.
 *
 * Must never: write to the snapshot, write liveness but through
 * bus_digest_take's protocol, or look a name up without the validity the
 * state actor demands.
 */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "actors/bus/bus_digest.h"
#include "actors/bus/bus_dstats.h"
#include "runtime/actor.h"

/* The rules accept a gossiped pong time up to this far in the future
 * (actors/state/state_bus.c, GOSSIP_PONG_SKEW_MS). */
#define DIGEST_PONG_SKEW_MS 500

/* Whether bitmap `claim` names exactly the slots s->slot_owner gives record
 * rec. Compared straight against the owner table, 16 slots a step: no
 * bitmap is built or kept. (A 2 KB bitmap per link, rebuilt only when the
 * owners changed, was 4 MB of the node's memory at 1,000 peers, with two
 * links each; this scan costs about a microsecond a frame.) */
static _Thread_local unsigned long long g_owner_scans;

unsigned long long bus_digest_owner_scans(void) { return g_owner_scans; }

bool bus_digest_claim_is(const cluster_snapshot_t *s, int rec, const uint8_t *claim)
{
    g_owner_scans++;
    const int16_t *owner = s->slot_owner;
#ifdef __SSE2__
    const __m128i want = _mm_set1_epi16((short)rec);
    for (int j = 0; j < SLOT_COUNT; j += 16) {
        __m128i lo = _mm_cmpeq_epi16(_mm_loadu_si128((const __m128i *)(owner + j)), want);
        __m128i hi = _mm_cmpeq_epi16(_mm_loadu_si128((const __m128i *)(owner + j + 8)), want);
        /* one byte per slot, 0xff where rec owns it; bit k of the mask is slot j + k,
         * as bit k & 7 of the claim's byte (j + k) >> 3 is */
        unsigned owned = (unsigned)_mm_movemask_epi8(_mm_packs_epi16(lo, hi));
        unsigned claimed = (unsigned)claim[j >> 3] | (unsigned)claim[(j >> 3) + 1] << 8;
        if (owned != claimed) return false;
    }
#else
    for (int j = 0; j < SLOT_COUNT; j += 8) {
        unsigned owned = 0;
        for (int k = 0; k < 8; k++) owned |= (unsigned)(owner[j + k] == rec) << k;
        if (owned != claim[j >> 3]) return false;
    }
#endif
    return true;
}

/* Slot j is bit j & 7 of byte j >> 3, so read little-endian, word w holds
 * slots 64w .. 64w + 63 as its bits 0 .. 63. */
static uint64_t claim_word(const uint8_t *claim, int w)
{
    const uint8_t *p = claim + w * 8;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* Whether slots a..b (inclusive; none when a > b) of claim are all set
 * (want 0xff) or all clear (want 0): the partial bytes at both ends, then
 * the whole bytes between, eight at a time without a branch per word. A
 * steady member's frame is judged so (claim_is_owners), the 2 KB bitmap
 * against a kept claim of a few runs: bit by bit it was a tenth of a member
 * flood's CPU at 200 peers. */
static bool slots_all(const uint8_t *claim, int a, int b, uint8_t want)
{
    if (a > b) return true;
    int ba = a >> 3, bb = b >> 3;
    uint8_t lo = (uint8_t)(0xffu << (a & 7)), hi = (uint8_t)(0xffu >> (7 - (b & 7)));
    if (ba == bb) return ((claim[ba] ^ want) & lo & hi) == 0;
    if (((claim[ba] ^ want) & lo) || ((claim[bb] ^ want) & hi)) return false;
    const uint8_t *p = claim + ba + 1;
    size_t n = (size_t)(bb - ba - 1), i = 0;
    uint64_t w = want ? ~0ULL : 0, acc = 0;
    for (; i + 32 <= n; i += 32) {
        uint64_t x[4];
        memcpy(x, p + i, sizeof x);
        acc |= (x[0] ^ w) | (x[1] ^ w) | (x[2] ^ w) | (x[3] ^ w);
        if (acc) return false;
    }
    for (; i < n; i++) acc |= (uint64_t)(p[i] ^ want);
    return acc == 0;
}

bool bus_digest_claim_matches_runs(const uint8_t *claim, const uint16_t *from, const uint16_t *to, int n)
{
    int next = 0;   /* the first slot after the runs checked so far */
    for (int k = 0; k < n; k++) {
        if (from[k] < next || to[k] < from[k] || to[k] >= SLOT_COUNT) return false;   /* not ascending runs */
        if (!slots_all(claim, next, from[k] - 1, 0) || !slots_all(claim, from[k], to[k], 0xff)) return false;
        next = to[k] + 1;
    }
    return slots_all(claim, next, SLOT_COUNT - 1, 0);
}

int bus_digest_claim_runs(const uint8_t *claim, uint16_t *from, uint16_t *to, int max)
{
    int n = 0;
    for (int w = 0; w < SLOT_COUNT / 64; w++) {
        uint64_t v = claim_word(claim, w);
        for (int b = 0; v && b < 64; b++) {
            if (!(v >> b & 1)) continue;
            int j = w * 64 + b;
            if (n > 0 && to[n - 1] == j - 1) {
                to[n - 1] = (uint16_t)j;
            } else {
                if (n == max) return -1;
                from[n] = to[n] = (uint16_t)j;
                n++;
            }
        }
    }
    return n;
}

/* Whether claim names exactly record rec's slots in s: from the link's kept
 * claim when it was checked against this same snapshot (so the same owner
 * table) and is the same claim, else by the owner-table scan, whose result
 * is kept for the next frame. */
static bool claim_is_owners(const cluster_snapshot_t *s, int rec, const uint8_t *claim, bus_digest_cache_t *c)
{
    if (c->claim_kept && c->claim_version == s->version && c->claim_rec == rec &&
        bus_digest_claim_matches_runs(claim, c->claim_from, c->claim_to, c->claim_runs))
        return true;
    if (!bus_digest_claim_is(s, rec, claim)) return false;
    int n = bus_digest_claim_runs(claim, c->claim_from, c->claim_to, BUS_DIGEST_CLAIM_RUNS);
    c->claim_kept = n >= 0;
    c->claim_runs = (uint8_t)(n >= 0 ? n : 0);
    c->claim_rec = (int16_t)rec;
    c->claim_version = s->version;
    return true;
}

/* The address the rules would store for the sender (address_update): the
 * header's ip, else the socket's, cut as state_set_ip cuts it. */
static void header_ip(const bus_header_t *h, const char *peer_ip, char out[NODES_CONF_IP_SIZE])
{
    const char *src = h->myip[0] ? h->myip : (peer_ip ? peer_ip : "");
    size_t l = strnlen(src, NODES_CONF_IP_SIZE - 1);
    memcpy(out, src, l);
    out[l] = '\0';
}

/* Gossiped pong times bus_digest found for bus_digest_take to write (a
 * thread's scratch: links judge one frame at a time). */
#define DIGEST_GOSSIP_PONGS 256
static _Thread_local struct gossip_pong {
    uint16_t slot;
    uint32_t tag;
    long long ms;
} g_pongs[DIGEST_GOSSIP_PONGS];
static _Thread_local int g_npongs;

static uint32_t gossip_items(const cluster_snapshot_t *s, const bus_msg_t *m, bool sender_master, long long now)
{
    uint32_t items = 0;
    bool names_valid = m->u.ping.gossip_names_valid;
    for (unsigned i = 0; i < m->hdr.count; i++) {
        bus_gossip_peek_t g;
        if (!bus_msg_gossip_peek(m, i, &g)) return items | BUS_DG_TYPE;   /* not reached: a judged frame */
        if (!names_valid && !bus_name_is_valid(g.name)) continue;        /* the rules skip it too */
        int idx = cluster_snapshot_find(s, g.name);
        if (idx < 0) {
            if (!(g.flags & NODE_NOADDR)) items |= BUS_DG_GOSSIP_NEW;
            continue;
        }
        const node_view_t *v = &s->nodes[idx];
        bool failing = (g.flags & (NODE_PFAIL | NODE_FAIL)) != 0;
        if (sender_master && idx != s->myself && (failing || v->fail_reports > 0)) items |= BUS_DG_GOSSIP_REPORT;
        /* a later pong time: the rule takes it only with no ping outstanding
         * and no reports. Reports are published before a link digests (the
         * snapshot's count is the state's); the ping is not, so the time goes
         * to the liveness slot and the state actor's fold asks. The
         * snapshot's pong time may be older than the state's: more go. */
        long long pongtime = (long long)g.pong_received * 1000;
        if (!failing && v->fail_reports == 0 && pongtime <= now + DIGEST_PONG_SKEW_MS && pongtime > v->pong_received_ms) {
            if (g_npongs == DIGEST_GOSSIP_PONGS) items |= BUS_DG_GOSSIP_PONG;
            else g_pongs[g_npongs++] = (struct gossip_pong){ v->live_slot, v->live_tag, pongtime };
        }
        if ((v->flags & (NODE_PFAIL | NODE_FAIL)) && !(g.flags & (NODE_PFAIL | NODE_FAIL | NODE_NOADDR))) {
            bus_gossip_t e;   /* the address, for the few entries about a failing node */
            bus_gossip_decode(g.entry, &e);
            if (strcmp(v->ip, e.ip) != 0 || v->port != e.port || v->cport != e.cport) items |= BUS_DG_GOSSIP_ADDR;
        }
    }
    return items;
}

/* The link id record v holds for a link of this direction. */
static uint64_t link_of(const node_view_t *v, bool outbound) { return outbound ? v->out_link : v->in_link; }

uint32_t bus_digest(const cluster_snapshot_t *s, const bus_digest_src_t *src, const bus_msg_t *m,
                    const uint8_t *myslots, long long now_ms, bus_digest_cache_t *cache, int *sender)
{
    const bus_header_t *h = &m->hdr;
    bool ping = h->type == BUS_PING;
    bool publish = h->type == BUS_PUBLISH || h->type == BUS_PUBLISHSHARD;
    g_npongs = 0;
    if (!(ping && !src->outbound) && h->type != BUS_PONG && !publish) return BUS_DG_TYPE;
    if (!s || !m->sender_valid || s->myself < 0 || s->myself >= s->node_count) return BUS_DG_SENDER;

    /* The sender: the record this link is bound to (frame_sender), under the
     * header's name. A link id is held by one record at most, so the record
     * the name finds is the bound one when it holds this link. */
    int i = cache->hint;
    if (i < 0 || i >= s->node_count || link_of(&s->nodes[i], src->outbound) != src->link) {
        i = cluster_snapshot_find(s, h->sender);
        if (i >= 0 && link_of(&s->nodes[i], src->outbound) != src->link) i = -1;
        cache->hint = i;
    }
    if (i < 0 || i == s->myself) return BUS_DG_SENDER;
    const node_view_t *v = &s->nodes[i];
    const node_view_t *me = &s->nodes[s->myself];
    if ((v->flags & NODE_HANDSHAKE) || memcmp(v->name, h->sender, BUS_NAME_LEN) != 0) return BUS_DG_SENDER;

    uint32_t items = 0;
    if (ping && me->ip[0] == '\0') items |= BUS_DG_OWN_IP;
    /* header (sender_header); the offset goes to the liveness slot */
    if (h->current_epoch > s->current_epoch || h->config_epoch > v->config_epoch) items |= BUS_DG_EPOCH;
    if (h->offset >= NODE_LIVE_OFFSET_NONE) items |= BUS_DG_OFFSET;
    if ((me->flags & NODE_SLAVE) && me->master == i) items |= BUS_DG_OUR_MASTER;
    if (publish) {
        /* 7.0.15 reads nothing else of a PUBLISH's header: flags, address,
         * role and slots are the PING family's (clusterProcessPacket) */
        if (!items) *sender = i;
        return items;
    }
    /* NOFAILOVER, address (ping_family, address_update: a PING only) */
    if ((v->flags & NODE_NOFAILOVER) != (h->flags & NODE_NOFAILOVER)) items |= BUS_DG_FLAGS;
    if (ping) {
        char ip[NODES_CONF_IP_SIZE];
        header_ip(h, src->peer_ip, ip);
        if (strcmp(v->ip, ip) != 0 || v->port != h->port || v->cport != h->cport || v->pport != h->pport)
            items |= BUS_DG_ADDRESS;
    }
    /* a PONG on our link (pong_received): its rule clears PFAIL and FAIL */
    if (!ping && src->outbound && (v->flags & (NODE_PFAIL | NODE_FAIL))) items |= BUS_DG_FAILING;
    /* role (role_update); any other master name than the one we hold goes */
    if (!h->has_master ? (v->flags & NODE_SLAVE) != 0
                       : ((v->flags & NODE_MASTER) || memcmp(v->master_name, h->slaveof, BUS_NAME_LEN) != 0))
        items |= BUS_DG_ROLE;
    /* slots (slot_rules): dirty when the claim is not what its master of record owns */
    int sm = (v->flags & NODE_MASTER) ? i : v->master;
    if (sm >= 0 && sm < s->node_count && !claim_is_owners(s, sm, myslots, cache))
        items |= BUS_DG_SLOTS;
    if ((v->flags & NODE_MASTER) && (me->flags & NODE_MASTER) && v->config_epoch == me->config_epoch)
        items |= BUS_DG_COLLISION;
    /* gossip (process_gossip) */
    items |= gossip_items(s, m, (v->flags & NODE_MASTER) != 0, now_ms);
    /* extensions (process_extensions) */
    size_t hl = 0;
    const char *host = "";
    if ((h->mflags[0] & BUS_MFLAG_EXT_DATA) && m->u.ping.has_hostname) {
        host = m->u.ping.hostname;
        hl = m->u.ping.hostname_len < NODE_HOSTNAME_MAX ? m->u.ping.hostname_len : NODE_HOSTNAME_MAX;
    }
    if (strlen(v->hostname) != hl || memcmp(v->hostname, host, hl) != 0) items |= BUS_DG_HOSTNAME;
    if (!items) *sender = i;
    return items;
}

/* A judged frame goes on to the state actor: counted by why (INFO busdigest). */
static enum bus_digest_take forward_why(enum bus_dstats_why why)
{
    bus_dstats_why(why);
    return BUS_TAKE_FORWARD;
}

enum bus_digest_take bus_digest_take(const cluster_snapshot_t *s, uint64_t g1, bool round_pending,
                                     const bus_digest_src_t *src, const bus_msg_t *m, const uint8_t *myslots,
                                     long long now_ms, bus_digest_cache_t *cache)
{
    /* the snapshot shows the whole state only while gen is even, no frame
     * message is on its way to the state actor and none of this round waits */
    if (!s || !s->live || round_pending || (g1 & 1)) return forward_why(BUS_DSTATS_BUSY);
    state_live_t *lv = s->live;
    /* seq_cst: after the load of gen (the caller's); a frame message some
     * link sent and the state actor has not applied yet counts here */
    if (atomic_load_explicit(&lv->pending, memory_order_seq_cst) != 0) return forward_why(BUS_DSTATS_BUSY);
    int sender = -1;
    if (bus_digest(s, src, m, myslots, now_ms, cache, &sender) != 0) return forward_why(BUS_DSTATS_CHANGED);
    const node_view_t *v = &s->nodes[sender];
    node_live_offset(lv, v->live_slot, v->live_tag, m->hdr.offset);
    node_live_note(lv, v->live_slot, v->live_tag, now_ms);
    bool pong = m->hdr.type == BUS_PONG && src->outbound;
    if (pong) node_live_pong(lv, v->live_slot, v->live_tag, now_ms);
    /* `noted` rises even when a word was as high already: whoever raised it
     * may not have told the state actor yet, and this frame's effect must be
     * seen at its next start (frames with nothing later than the snapshot
     * have no such entries, so a steady flood does not come here) */
    for (int k = 0; k < g_npongs; k++) node_live_gossip_pong(lv, g_pongs[k].slot, g_pongs[k].tag, g_pongs[k].ms);
    if (g_npongs) node_live_noted(lv);
    /* seq_cst: after the liveness stores (a store-load order): if the state
     * actor began anything since g1, the frame goes too (its data_received
     * and offset are then stored twice, the same values; its PONG is marked
     * as counted, so it is applied once) */
    if (atomic_load_explicit(&lv->gen, memory_order_seq_cst) == g1) {
        bus_dstats_digested(m->hdr.type, m->hdr.count, (unsigned)g_npongs);
        return BUS_TAKE_DONE;
    }
    bus_dstats_why(BUS_DSTATS_RACE);
    return pong ? BUS_TAKE_FORWARD_NOTED : BUS_TAKE_FORWARD;
}

bool bus_digest_ping_matters(const cluster_snapshot_t *s, const uint8_t *frame, size_t len)
{
    if (!s) return true;
    const node_view_t *me = &s->nodes[s->myself];
    if (me->ip[0] == '\0') return true;
    const uint8_t *sender = bus_peek_sender(frame, len);
    return !sender || cluster_snapshot_find(s, (const char *)sender) >= 0;   /* !sender: not reached */
}

/* bus_digest.h - what of a member's frame the state actor must see.
 *
 * A link, holding a snapshot read section, compares a decoded PING or PONG
 * (or the header of a PUBLISH or PUBLISHSHARD, of which 7.0.15 reads only
 * the sender, the epochs and the offset) with what the snapshot already
 * says (docs/cluster-bus.md §1.6, "Digest").
 * When nothing in it can change the state, the state actor is not bothered:
 * the link only notes liveness (state_live.h: the sender's data_received
 * and replication offset, for a PONG on our outbound link the PONG itself,
 * and later pong times its gossip gives other nodes). When anything might,
 * or when in doubt, the whole frame goes, as before.
 *
 * Must never: answer "nothing new" for a frame whose rules could change the
 * state as the snapshot shows it; write anything but the sender's liveness
 * slot (bus_digest itself writes nothing but the link's cache).
 */
#ifndef SHOAL_ACTORS_BUS_DIGEST_H
#define SHOAL_ACTORS_BUS_DIGEST_H

#include <stdbool.h>
#include <stdint.h>
#include "actors/state/state.h"
#include "proto/bus.h"

/* Why a frame must go to the state actor: each bit names a rule of
 * docs/cluster-bus.md §5.2 that would change something. 0 = only liveness. */
enum bus_digest_item {
    BUS_DG_TYPE       = 1u << 0,   /* not a PING on an inbound link, a PONG or a PUBLISH(SHARD) (every other frame goes whole) */
    BUS_DG_SENDER     = 1u << 1,   /* sender unknown, myself, in handshake, link not bound to it, or no snapshot */
    BUS_DG_OWN_IP     = 1u << 2,   /* our own IP is still unknown (§5.4) */
    BUS_DG_EPOCH      = 1u << 3,   /* a larger currentEpoch or configEpoch (§5.9) */
    BUS_DG_OFFSET     = 1u << 4,   /* an offset too large for the liveness slot (NODE_LIVE_OFFSET_NONE) */
    BUS_DG_OUR_MASTER = 1u << 5,   /* our master's header (manual failover's PAUSED offset, §5.15) */
    BUS_DG_FLAGS      = 1u << 6,   /* NOFAILOVER differs */
    BUS_DG_ADDRESS    = 1u << 7,   /* ip, port, cport or pport differs (§5.4) */
    BUS_DG_ROLE       = 1u << 8,   /* master/replica or its master differs (§5.7) */
    BUS_DG_SLOTS      = 1u << 9,   /* the claim differs from its master of record's slots (§5.8) */
    BUS_DG_COLLISION  = 1u << 10,  /* both masters with our configEpoch (§5.9) */
    BUS_DG_HOSTNAME   = 1u << 11,  /* hostname extension differs (§4.8) */
    BUS_DG_GOSSIP_NEW = 1u << 12,  /* a gossip entry about a node the snapshot does not have (§5.6.4) */
    BUS_DG_GOSSIP_REPORT = 1u << 13, /* a master's PFAIL/FAIL report, or one it may withdraw (§5.6.1) */
    BUS_DG_GOSSIP_PONG = 1u << 14, /* more later pong times (§5.6.2) than a link notes at once */
    BUS_DG_GOSSIP_ADDR = 1u << 15, /* a new address for a node we hold as PFAIL/FAIL (§5.6.3) */
    BUS_DG_FAILING    = 1u << 16,  /* a PONG on our link to a node we hold as PFAIL/FAIL (§5.2 step 6.4) */
};

/* The link a frame came on. */
typedef struct bus_digest_src {
    uint64_t link;                /* its id */
    bool outbound;
    const char *peer_ip;          /* the socket's remote address */
} bus_digest_src_t;

/* Runs of slots a link keeps of the last claim it found equal to the owner
 * table (a claim of more runs is not kept). */
#define BUS_DIGEST_CLAIM_RUNS 4

/* The link's memory between frames: where the sender was found last time,
 * so that a steady sender costs no name look-up, and the last slot claim
 * found equal to the owner table of snapshot claim_version, as runs: a frame
 * judged against that same snapshot with that same claim needs no scan of
 * the 16,384-entry owner table (about a microsecond, most of a member
 * PING's cost in a flood), and a few bytes are kept instead of the 2 KB
 * bitmap a link once kept. Zero it, hint -1, to start. */
typedef struct bus_digest_cache {
    int hint;                     /* index the sender had last time */
    bool claim_kept;
    uint8_t claim_runs;
    int16_t claim_rec;            /* the record whose slots the kept claim named */
    uint64_t claim_version;       /* the snapshot it was checked against */
    uint16_t claim_from[BUS_DIGEST_CLAIM_RUNS], claim_to[BUS_DIGEST_CLAIM_RUNS];   /* slots [from, to] */
} bus_digest_cache_t;

/* Whether slot bitmap claim (BUS_SLOT_BYTES) has set exactly the slots of the
 * n ascending, disjoint runs [from[k], to[k]]. */
bool bus_digest_claim_matches_runs(const uint8_t *claim, const uint16_t *from, const uint16_t *to, int n);
/* The runs of claim's set bits into from/to (at most max); -1 if it has more. */
int bus_digest_claim_runs(const uint8_t *claim, uint16_t *from, uint16_t *to, int max);
/* Owner-table scans (bus_digest_claim_is) this thread made: for tests. */
unsigned long long bus_digest_owner_scans(void);

/* Judges decoded frame m (its slot bitmap at `myslots`, which may point into
 * the raw frame) against snapshot s at time now_ms. Returns the items that
 * must reach the state actor (0: nothing but liveness) and, for 0, the
 * sender's index in s in *sender; the later pong times its gossip gives
 * other nodes stay in the thread's scratch for bus_digest_take. */
uint32_t bus_digest(const cluster_snapshot_t *s, const bus_digest_src_t *src, const bus_msg_t *m,
                    const uint8_t *myslots, long long now_ms, bus_digest_cache_t *cache, int *sender);

/* Whether slot bitmap `claim` (BUS_SLOT_BYTES) names exactly the slots
 * s->slot_owner gives record rec. */
bool bus_digest_claim_is(const cluster_snapshot_t *s, int rec, const uint8_t *claim);

/* What bus_digest_take did with a frame. */
enum bus_digest_take {
    BUS_TAKE_FORWARD = 0,         /* nothing written: the frame goes to the state actor */
    BUS_TAKE_DONE,                /* liveness written: the frame goes no further */
    BUS_TAKE_FORWARD_NOTED,       /* written, but the state actor began something meanwhile:
                                   * the frame goes too, marked as a PONG counted already */
};

/* The link's side of the digest protocol (docs/cluster-bus.md §1.6): with
 * `gen` loaded as g1 before snapshot s was read, and `round_pending` true
 * when frames of this link's read round are still waiting to be sent,
 * judges m (bus_digest) and, when only liveness is left, writes it (the
 * sender's slot at time now_ms, and the gossiped pong times into their
 * nodes' slots) and checks that `gen` did not move since g1. */
enum bus_digest_take bus_digest_take(const cluster_snapshot_t *s, uint64_t g1, bool round_pending,
                                     const bus_digest_src_t *src, const bus_msg_t *m, const uint8_t *myslots,
                                     long long now_ms, bus_digest_cache_t *cache);

/* Whether a PING can change cluster state: only when its sender is a known
 * record, or when we still have to learn our own address from it
 * (docs/cluster-bus.md §5.2 step 5.1, §5.4). A PING from an unknown sender
 * is answered by its link and goes no further, so that floods of them never
 * reach the state actor. s NULL: true. */
bool bus_digest_ping_matters(const cluster_snapshot_t *s, const uint8_t *frame, size_t len);

#endif

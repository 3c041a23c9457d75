/* bus_light.h - the light encoding of PING/PONG/MEET between two shoal
 * nodes (docs/cluster-bus.md §9): the advertisement a shoal node puts in
 * the reserved bytes of its plain frames, and the codec that turns a plain
 * frame into a light one on the sending side of a link and back into the
 * very same plain bytes on the receiving side.
 *
 * A light frame stands for exactly one plain frame. The sender keeps, per
 * link, what the receiver was last given (bus_light_tx_t) and the receiver
 * keeps the same thing (bus_light_rx_t); both change only with the light
 * frames of that link, in stream order, so over one TCP connection they
 * always agree. What they keep:
 *  - the slot bitmap the last light frame stood for: a frame whose bitmap is
 *    unchanged carries only its 64-bit digest, which the receiver checks
 *    against the bitmap it holds (a mismatch is an error: the link closes and
 *    a new connection starts from full bitmaps);
 *  - a dictionary of gossip "address tuples" (name, ip, ports: everything of
 *    an entry but ping_sent, pong_received and flags) by a small id: an entry
 *    whose tuple the receiver already has goes as id + times + flags (12
 *    bytes instead of 104).
 * The tuples themselves live once per thread in a bus_light_pool_t, shared
 * by every link of that thread; the dictionaries hold references into it.
 *
 * Pure: no I/O, no globals; allocates only the dictionaries and the pool.
 * Never reads outside the frame it is given; a malformed light frame is
 * reported (BUS_LIGHT_ERR_*), never trusted.
 */
#ifndef SHOAL_PROTO_BUS_LIGHT_H
#define SHOAL_PROTO_BUS_LIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proto/bus.h"

#define BUS_LIGHT_SIG        "RCml"
#define BUS_LIGHT_VERSION    1
#define BUS_LIGHT_HDR_LEN    224     /* fixed part of a light frame (§9.3) */
#define BUS_LIGHT_MAX_IDS    4096    /* dictionary ids per link direction; then a reset */
#define BUS_LIGHT_NO_ID      0x7fff  /* a full entry the receiver does not keep */
#define BUS_LIGHT_TUPLE_LEN  94      /* gossip entry bytes that make its address tuple */
#define BUS_LIGHT_COMPACT_LEN 12     /* tag, ping_sent, pong_received, flags */
#define BUS_LIGHT_FULL_LEN   (2 + BUS_GOSSIP_LEN)
/* light flags (byte 9) */
#define BUS_LIGHT_F_SLOTS    0x01    /* the 2048-byte bitmap follows the fixed part */
#define BUS_LIGHT_F_RESET    0x02    /* the receiver empties its dictionary first */
/* Light PUBLISH / PUBLISHSHARD frames (§9.8): their own short layout, a
 * 24-byte fixed part, then the sections the flags name, then the plain
 * frame's body (channel_len, message_len, channel, message) as it is. */
#define BUS_LIGHT_F_PUB      0x04    /* this layout */
#define BUS_LIGHT_F_HEAD     0x08    /* PUB: the sender's header bytes follow (else: the ones last sent) */
#define BUS_LIGHT_PUB_HDR_LEN  24
#define BUS_LIGHT_PUB_HEAD_LEN 200   /* plain bytes 8..80 and 2128..2256, the type zeroed */
#define BUS_LIGHT_PUB_MAX    65536   /* a plain PUBLISH up to this many bytes goes light; a larger one
                                      * stays plain, so that a receiver with no subscriber can still
                                      * skip its body unread (proto/bus_stream.h) */
/* a "by view" entry (§9.7): tag, name fingerprint, ping_sent, pong_received, flags */
#define BUS_LIGHT_VIEW_TAG   0x7ffe
#define BUS_LIGHT_FP_LEN     8
#define BUS_LIGHT_VIEW_LEN   (2 + BUS_LIGHT_FP_LEN + 10)

/* ---- the advertisement (§9.2) ----
 * 8 of the 30 reserved header bytes (offset 2238): "shoa", version, features.
 * 7.0.15, 7.2 and 8.0 neither read nor check these bytes. */
#define BUS_LIGHT_ADV_OFF    2238
#define BUS_LIGHT_ADV_LEN    8
/* The 8 reserved bytes before the advertisement carry the sender's view
 * digest for this link (§9.7), 0 when it has none. They are part of the
 * plain frame, so a light frame carries them in its copy of the header. */
#define BUS_LIGHT_VIEW_OFF   2230
/* Puts the advertisement in a plain frame's header (len >= BUS_HEADER_LEN). */
void bus_light_advertise(uint8_t *frame, size_t len);
/* True when a plain frame's header carries a light v1 advertisement. */
bool bus_light_advertised(const uint8_t *frame, size_t len);
/* Writes / reads the view digest of a plain frame (len >= BUS_HEADER_LEN;
 * reading gives 0 when the frame does not advertise the light encoding). */
void bus_light_put_view(uint8_t *frame, size_t len, uint64_t v);
uint64_t bus_light_get_view(const uint8_t *frame, size_t len);

/* ---- the view (§9.7) ----
 * A node's view is the set of address tuples of the nodes of its table that
 * gossip may name (not HANDSHAKE, not NOADDR). For a link, both ends leave
 * out themselves and each other; the digest of what is left is the XOR of
 * bus_light_tuple_hash over it. When the two ends' digests agree they hold
 * the same tuples, and an entry can name its tuple by the first
 * BUS_LIGHT_FP_LEN bytes of the node name. */
typedef struct bus_light_view {
    uint64_t v;              /* this end's digest for the link; 0: no view */
    /* The tuple (BUS_LIGHT_TUPLE_LEN bytes) of the one node of the view left
     * for this link whose name starts with fp; NULL when none or several. */
    const uint8_t *(*find)(const void *ctx, const uint8_t *fp);
    const void *ctx;
} bus_light_view_t;
uint64_t bus_light_tuple_hash(const uint8_t *tuple);
/* The tuple of a 104-byte plain gossip entry. */
void bus_light_entry_tuple(const uint8_t *entry, uint8_t *tuple);

/* ---- results of bus_light_frame_check / bus_light_expand ---- */
enum bus_light_result {
    BUS_LIGHT_OK = 0,
    BUS_LIGHT_NEED_MORE,
    BUS_LIGHT_ERR_SHORT,     /* totlen below the fixed part, or a section runs past totlen */
    BUS_LIGHT_ERR_TOO_BIG,   /* totlen above the cap of a gossip frame */
    BUS_LIGHT_ERR_VERSION,   /* light version or flags we do not know */
    BUS_LIGHT_ERR_TYPE,      /* not a PING, PONG or MEET */
    BUS_LIGHT_ERR_DIGEST,    /* no bitmap held, or the digest does not match it */
    BUS_LIGHT_ERR_ID,        /* a compact entry names an id the receiver does not hold */
    BUS_LIGHT_ERR_NOMEM,
    BUS_LIGHT_ERR_VIEW,      /* a by-view entry, and our view is not the one the sender assumed */
    BUS_LIGHT_ERR_HEAD,      /* a light PUBLISH without header bytes, and none held */
};
const char *bus_light_result_str(int r);

/* Framer for a buffer starting with BUS_LIGHT_SIG: like bus_frame_check. */
int bus_light_frame_check(const uint8_t *buf, size_t len, uint32_t *frame_len);
/* The message type of a light frame (len >= 30). */
unsigned bus_light_type(const uint8_t *buf);

/* 64-bit digest of a BUS_SLOT_BYTES bitmap. */
uint64_t bus_light_slots_digest(const uint8_t *slots);

/* ---- the per-thread pool of address tuples ---- */
typedef struct bus_light_tuple {
    uint8_t key[BUS_LIGHT_TUPLE_LEN];
    uint32_t refs;           /* 0: on the free list */
    uint32_t next;           /* hash chain, or free list */
} bus_light_tuple_t;

typedef struct bus_light_pool {
    bus_light_tuple_t *t;
    uint32_t n, cap;         /* slots used (ever), allocated */
    uint32_t free_head;      /* UINT32_MAX: none */
    uint32_t *bucket;        /* heads of hash chains */
    uint32_t nbuckets;       /* power of two */
    uint32_t live;           /* tuples with refs > 0 */
    /* The bitmap the encoder digested last and its digest: every frame a
     * node sends carries its own bitmap, which rarely changes, and comparing
     * 2 KB costs a fraction of hashing them (once per frame and link). */
    bool memo_valid;
    uint64_t memo_digest;
    uint8_t memo_slots[BUS_SLOT_BYTES];
    uint64_t digests;        /* bitmaps the encoder hashed (for tests) */
} bus_light_pool_t;

void bus_light_pool_init(bus_light_pool_t *p);
void bus_light_pool_free(bus_light_pool_t *p);

/* ---- one direction of one link ---- */
typedef struct bus_light_tx {
    bool slots_valid;
    bool reset_pending;      /* the next frame must carry BUS_LIGHT_F_RESET */
    uint64_t slots_digest;   /* of the bitmap the last frame stood for */
    uint16_t *id_of_ref;     /* pool ref -> id + 1 (0: the receiver has no id for it) */
    uint32_t id_of_ref_len;
    uint32_t *ref_of_id;     /* id -> pool ref, for ids < next_id */
    uint32_t next_id;
    bool head_valid;         /* light PUBLISH: the header bytes the receiver holds */
    uint8_t head[BUS_LIGHT_PUB_HEAD_LEN];
} bus_light_tx_t;

/* Runs of set bits a receiver keeps in place of the bitmap the last frame
 * stood for: a node's claim at N = 1,000 is one run or a few, so 2 KB a
 * link (4 MB at 1,000 peers with two links each) became a few bytes. */
#define BUS_LIGHT_RX_RUNS 8

typedef struct bus_light_rx {
    bool slots_valid;
    uint8_t nruns;           /* runs in run_from/run_to when `full` is NULL */
    uint64_t slots_digest;
    uint16_t run_from[BUS_LIGHT_RX_RUNS], run_to[BUS_LIGHT_RX_RUNS];   /* slots [from, to] */
    uint8_t *full;           /* malloc'ed: the bitmap itself, when it has more runs */
    uint32_t *ref_of_id;     /* id -> pool ref + 1 (0: none) */
    uint32_t nids;           /* entries of ref_of_id allocated */
    bool head_valid;         /* light PUBLISH: the header bytes last sent */
    uint8_t head[BUS_LIGHT_PUB_HEAD_LEN];
} bus_light_rx_t;

void bus_light_tx_init(bus_light_tx_t *tx);
void bus_light_rx_init(bus_light_rx_t *rx);
/* Both drop every dictionary entry (their pool references too) and forget
 * the bitmap: what a new connection starts from. */
void bus_light_tx_reset(bus_light_tx_t *tx, bus_light_pool_t *p);
void bus_light_rx_reset(bus_light_rx_t *rx, bus_light_pool_t *p);

/* A receiver's dictionary moving to another pool (its link moves to another
 * thread): the tuples themselves, key[id] where has[id], instead of
 * references into the old pool. */
typedef struct bus_light_rx_keys {
    uint32_t nids;
    uint8_t (*key)[BUS_LIGHT_TUPLE_LEN];
    uint8_t *has;
} bus_light_rx_keys_t;
/* Copies rx's tuples out of p into *out (malloc'ed; the import frees them)
 * and releases rx's references in p; rx keeps its ids, empty until the
 * import. 0, or -1 (out of memory: nothing changed). */
int bus_light_rx_export(bus_light_rx_t *rx, bus_light_pool_t *p, bus_light_rx_keys_t *out);
/* Takes every exported tuple into p under its id again, and frees *in.
 * 0, or -1 when p ran out of memory (ids left empty: the link must close). */
int bus_light_rx_import(bus_light_rx_t *rx, bus_light_pool_t *p, bus_light_rx_keys_t *in);

/* Bytes a light frame for a plain PING/PONG/MEET of plain_len bytes with
 * count gossip entries can take at most. */
size_t bus_light_bound(size_t plain_len, unsigned count);

/* Encodes the plain frame `in` (a PING/PONG/MEET that bus_decode accepts,
 * or a PUBLISH/PUBLISHSHARD of at most BUS_LIGHT_PUB_MAX bytes, whose
 * light form needs neither pool nor view: §9.8)
 * into out and updates tx as the receiver will update its rx. Returns the
 * light frame's length, or 0 (tx unchanged, send `in` as it is) when `in` is
 * not such a frame or cap is too small. Running out of memory only makes
 * entries go in full. */
/* view (may be NULL) and peer_v (the digest the peer's last frame on this
 * link carried): entries go by view only when peer_v, view->v and the
 * frame's own view bytes are one and the same non-zero digest, and the
 * entry's tuple is the one view->find gives. */
size_t bus_light_encode(bus_light_pool_t *p, bus_light_tx_t *tx, const uint8_t *in, size_t len,
                        uint8_t *out, size_t cap, const bus_light_view_t *view, uint64_t peer_v);

/* Length of the plain frame a light frame (a whole one, len >= its totlen)
 * stands for, 0 when its sections do not add up. */
size_t bus_light_plain_len(const uint8_t *in, size_t len);
/* Writes the plain frame (bus_light_plain_len bytes; cap at least that) and
 * updates rx. On an error rx may be half updated: the link must close. */
/* view (may be NULL): the receiver's; a by-view entry is expanded only when
 * the frame's view bytes equal view->v, else BUS_LIGHT_ERR_VIEW. */
int bus_light_expand(bus_light_pool_t *p, bus_light_rx_t *rx, const uint8_t *in, size_t len,
                     uint8_t *out, size_t cap, size_t *out_len, const bus_light_view_t *view);

#endif

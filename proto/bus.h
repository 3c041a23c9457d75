/* bus.h - the Redis Cluster bus message codec (wire format of redis-server
 * 7.0.15, docs/cluster-bus.md §1.6-§4): a framer for the link read path, a
 * validating decoder, encoders for every message type, and slot-bitmap and
 * node-name helpers.
 *
 * Pure: no I/O, no globals, no allocation. Decoders take (buf, len), never
 * read past len, and return views (pointer + length) into the caller's
 * buffer, so a decoded message is valid only while that buffer is. Encoders
 * write into a caller buffer and never write past its capacity.
 *
 * It must never accept a frame that would make a consumer read outside the
 * frame: wherever 7.0.15 accepts a frame and then over-reads (the 16-bit
 * extension-length truncation, zero-length records, u32 wrap-around in
 * PUBLISH/MODULE lengths), we reject it instead. Everything a well-formed
 * 7.0.15 or 7.2 peer sends is accepted.
 */
#ifndef SHOAL_PROTO_BUS_H
#define SHOAL_PROTO_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- sizes (§2.2) ---- */
#define BUS_SIG             "RCmb"
#define BUS_PROTO_VER       1
#define BUS_NAME_LEN        40      /* node names, shard ids: 40 chars, no terminator on the wire */
#define BUS_IP_LEN          46      /* myip / gossip ip field, NUL-terminated when shorter */
#define BUS_SLOTS           16384
#define BUS_SLOT_BYTES      (BUS_SLOTS / 8)
#define BUS_HEADER_LEN      2256    /* fixed part; also the minimum totlen of every frame */
#define BUS_GOSSIP_LEN      104
#define BUS_EXT_HDR_LEN     8
#define BUS_FULL_LEN        4352    /* header + largest fixed body (UPDATE) */
#define BUS_FAIL_LEN        2296
#define BUS_UPDATE_LEN      4352
#define BUS_PUBLISH_MIN_LEN 2264    /* + channel_len + message_len */
#define BUS_MODULE_MIN_LEN  2269    /* + payload len */

/* ---- read-path bounds (our choice; 7.0.15 has none, §1.8 and §8.12) ----
 * 7.0.15 buffers whatever totlen a peer announces, up to 4 GiB. We cap it by
 * type, which the framer can read at offset 12 long before the frame ends:
 *  - fixed-size types (FAIL, AUTH_*, MFSTART, UPDATE): BUS_FULL_LEN. A frame
 *    a little off its exact size is still read whole and then dropped by
 *    bus_decode, keeping the link, as 7.0.15 does.
 *  - PING/PONG/MEET: every gossip entry a u16 count allows, plus
 *    BUS_MAX_EXT_BYTES of extensions (7.0 sends one hostname record of at
 *    most 264 bytes; 7.2 adds a shard id, a human nodename and 56 bytes per
 *    forgotten node, so 1 MiB leaves room for ~18000 forgotten nodes).
 *  - PUBLISH/PUBLISHSHARD/MODULE: header + the caller's max_payload (channel
 *    + message, or module payload). To accept every PUBLISH a 7.0.15 node can
 *    send, pass 2 * proto-max-bulk-len.
 *  - types 7.0.15 does not know (>= 11): BUS_MAX_UNKNOWN_FRAME.
 * A reader that skips the bodies it has no use for (bus_stream_skip_unused,
 * what the links do while there is no pub/sub) holds at most a head of
 * PUBLISH/PUBLISHSHARD/MODULE and unknown types and applies none of these
 * caps to them; only PING/PONG/MEET, read whole, keep theirs. */
#define BUS_MAX_EXT_BYTES      (1024u * 1024u)
#define BUS_MAX_GOSSIP_FRAME   (BUS_HEADER_LEN + BUS_GOSSIP_LEN * 65535u + BUS_MAX_EXT_BYTES)
#define BUS_MAX_UNKNOWN_FRAME  (1024u * 1024u)
#define BUS_DEFAULT_MAX_PAYLOAD (2u * 512u * 1024u * 1024u)  /* 2 x proto-max-bulk-len default */

/* ---- message types (§3.1) ---- */
enum bus_type {
    BUS_PING = 0,
    BUS_PONG = 1,
    BUS_MEET = 2,
    BUS_FAIL = 3,
    BUS_PUBLISH = 4,
    BUS_FAILOVER_AUTH_REQUEST = 5,
    BUS_FAILOVER_AUTH_ACK = 6,
    BUS_UPDATE = 7,
    BUS_MFSTART = 8,
    BUS_MODULE = 9,
    BUS_PUBLISHSHARD = 10,
    BUS_TYPE_COUNT = 11          /* types >= this are "unknown" to 7.0.15: accepted, ignored */
};

/* A node's bus port when none is given: its client port plus this (Redis's
 * CLUSTER_PORT_INCR). */
#define BUS_PORT_OFFSET      10000

/* ---- node flags, u16, header `flags` and gossip `flags` (§3.8) ---- */
#define BUS_NODE_MASTER      0x0001
#define BUS_NODE_SLAVE       0x0002
#define BUS_NODE_PFAIL       0x0004
#define BUS_NODE_FAIL        0x0008
#define BUS_NODE_MYSELF      0x0010
#define BUS_NODE_HANDSHAKE   0x0020
#define BUS_NODE_NOADDR      0x0040
#define BUS_NODE_MEET        0x0080
#define BUS_NODE_MIGRATE_TO  0x0100
#define BUS_NODE_NOFAILOVER  0x0200
/* 1024 (EXTENSIONS_SUPPORTED) is a local 8.0 bit; never send it to 7.0 peers. */

/* ---- message flags, mflags[0] (§3.9) ---- */
#define BUS_MFLAG_PAUSED     0x01
#define BUS_MFLAG_FORCEACK   0x02
#define BUS_MFLAG_EXT_DATA   0x04

/* ---- ping extension types (§4.4, §4.5) ---- */
enum bus_ext_type {
    BUS_EXT_HOSTNAME = 0,        /* 7.0: NUL-terminated hostname, zero-padded to 8 */
    BUS_EXT_HUMAN_NODENAME = 1,  /* 7.2: NUL-terminated string, zero-padded to 8 */
    BUS_EXT_FORGOTTEN_NODE = 2,  /* 7.2: 40-byte name + u64 BE ttl (seconds) */
    BUS_EXT_SHARDID = 3,         /* 7.2: 40-byte shard id */
};
#define BUS_EXT_FORGOTTEN_PAYLOAD 48
#define BUS_EXT_SHARDID_PAYLOAD   40
/* A record's length field is truncated to 16 bits by 7.0.15's validator. */
#define BUS_EXT_MAX_RECORD        65528

/* ---- result codes (framer and decoder) ---- */
enum bus_result {
    BUS_OK = 0,            /* framer: a whole frame is buffered; decoder: valid frame */
    BUS_NEED_MORE,         /* framer: wait for more bytes (frame_len says how many if known) */
    /* close the link (§1.6): */
    BUS_ERR_SIG,           /* signature is not "RCmb" */
    BUS_ERR_SHORT,         /* totlen < BUS_HEADER_LEN */
    BUS_ERR_TOO_BIG,       /* totlen above our cap for its type (see above) */
    /* drop the frame, keep the link (§4.7): */
    BUS_ERR_TRUNCATED,     /* decoder given fewer bytes than totlen */
    BUS_ERR_VERSION,       /* ver != 1 (7.0.15 drops silently) */
    BUS_ERR_LENGTH,        /* totlen differs from what type, count and body lengths require */
    BUS_ERR_EXT_PADDING,   /* extension record length < 8 or not a multiple of 8 */
    BUS_ERR_EXT_OVERRUN,   /* extension record runs past totlen */
};

/* True for results after which the link must be closed rather than the frame dropped. */
bool bus_result_closes_link(int result);
/* Short static English text for logs. */
const char *bus_result_str(int result);
/* "ping", "pong", ... as 7.0.15 names types in its logs; "unknown" for others. */
const char *bus_type_name(unsigned type);
static inline bool bus_type_is_known(unsigned type) { return type < BUS_TYPE_COUNT; }
static inline bool bus_type_has_gossip(unsigned type)
{
    return type == BUS_PING || type == BUS_PONG || type == BUS_MEET;
}

/* ---- decoded header (§2.1) ----
 * Name and string fields are copied and NUL-terminated; the raw 40 name bytes
 * are kept as they are (even if invalid), so re-encoding gives the same bytes.
 * myip is copied up to its first NUL and zero-filled after, which is what an
 * encoder writes back. */
typedef struct bus_header {
    uint32_t totlen;
    uint16_t ver;
    uint16_t port;
    uint16_t type;
    uint16_t count;                   /* gossip entries (PING/PONG/MEET) */
    uint64_t current_epoch;
    uint64_t config_epoch;
    uint64_t offset;                  /* replication offset */
    char sender[BUS_NAME_LEN + 1];
    uint8_t myslots[BUS_SLOT_BYTES];  /* bit order: bus_slot_test() */
    char slaveof[BUS_NAME_LEN + 1];   /* all NUL when has_master is false */
    bool has_master;                  /* slaveof is not 40 zero bytes */
    char myip[BUS_IP_LEN + 1];        /* "" = use the socket's peer address */
    uint16_t extensions;              /* ping extension records (meaningful with EXT_DATA) */
    uint16_t pport;
    uint16_t cport;
    uint16_t flags;                   /* BUS_NODE_* of the sender itself */
    uint8_t state;                    /* 0 ok, 1 fail; receivers ignore it */
    uint8_t mflags[3];                /* BUS_MFLAG_* in mflags[0] */
} bus_header_t;

/* ---- one gossip entry (§3.2) ---- */
typedef struct bus_gossip {
    char name[BUS_NAME_LEN + 1];
    uint32_t ping_sent;               /* seconds; receivers ignore it */
    uint32_t pong_received;           /* Unix seconds */
    char ip[BUS_IP_LEN + 1];
    uint16_t port;
    uint16_t cport;
    uint16_t flags;                   /* BUS_NODE_* as the sender sees that node */
    uint16_t pport;
    bool name_valid;                  /* bus_name_is_valid(name); set by the decoder */
} bus_gossip_t;

/* ---- one extension record (§4.3): payload is a view, padding included ---- */
typedef struct bus_ext {
    uint16_t type;
    const uint8_t *payload;
    uint32_t len;                     /* record length - 8 */
} bus_ext_t;

/* ---- a decoded message ----
 * Every pointer (a "view") points into the buffer given to bus_decode, at or
 * after its body (byte BUS_HEADER_LEN): the header is all copied out. So a
 * message can be kept apart from its frame by copying its body bytes and
 * moving the views onto the copy (bus_msg_rebase). */
typedef struct bus_msg {
    bus_header_t hdr;
    bool sender_valid;                /* bus_name_is_valid(hdr.sender) */
    const uint8_t *body;              /* bytes 2256..totlen, any type */
    size_t body_len;
    union {
        struct {                      /* PING, PONG, MEET */
            const uint8_t *gossip;    /* hdr.count entries: read with bus_msg_gossip() */
            bool gossip_names_valid;  /* every entry's name passes bus_name_is_valid() */
            const uint8_t *ext;       /* first extension record */
            uint16_t ext_count;       /* records validated; 0 unless EXT_DATA is set */
            uint16_t unknown_ext_count; /* records of types we do not know (> 3) */
            /* the last record of each kind wins, as in 7.0.15; strings stop at
             * the first NUL inside the record and are NOT NUL-terminated here */
            bool has_hostname;
            const char *hostname;
            uint32_t hostname_len;
            bool has_human_nodename;
            const char *human_nodename;
            uint32_t human_nodename_len;
            const uint8_t *shard_id;  /* 40 bytes, or NULL */
            uint16_t forgotten_count; /* FORGOTTEN_NODE records; read with bus_ext_forgotten() */
        } ping;
        struct {                      /* FAIL */
            char name[BUS_NAME_LEN + 1];
            bool name_valid;
        } fail;
        struct {                      /* PUBLISH, PUBLISHSHARD */
            const uint8_t *channel;
            uint32_t channel_len;
            const uint8_t *message;
            uint32_t message_len;
        } publish;
        struct {                      /* UPDATE */
            uint64_t config_epoch;
            char name[BUS_NAME_LEN + 1];
            bool name_valid;
            const uint8_t *slots;     /* BUS_SLOT_BYTES bitmap */
        } update;
        struct {                      /* MODULE */
            uint64_t module_id;       /* little-endian on the wire (§3.7), decoded as such */
            uint8_t type;
            const uint8_t *payload;
            uint32_t len;
        } module;
    } u;
} bus_msg_t;

/* ---- framer (link read path, §1.6) ----
 * Looks at the bytes buffered so far (buf[0..len)). Returns:
 *  BUS_OK         a whole frame of *frame_len bytes starts at buf;
 *  BUS_NEED_MORE  not yet; *frame_len is the frame's totlen once 8 bytes are
 *                 known (so the caller can size its buffer), else 0;
 *  BUS_ERR_SIG / BUS_ERR_SHORT / BUS_ERR_TOO_BIG: close the link.
 * max_payload bounds PUBLISH/PUBLISHSHARD (channel + message) and MODULE
 * payloads; see the cap rules above. */
int bus_frame_check(const uint8_t *buf, size_t len, uint32_t max_payload, uint32_t *frame_len);

/* ---- peeking ----
 * Single header fields read in place, for code that routes frames without
 * decoding them (the link counting what it sends, a reader splitting a
 * stream into frames). Each one only checks that buf holds the field:
 * nothing is validated (that is bus_frame_check's and bus_decode's job).
 *  bus_peek_totlen: the announced total length (false when len < 8);
 *  bus_peek_type:   the message type (false when len < 14);
 *  bus_peek_sender: the sender's 40-byte name, not NUL-terminated, pointing
 *                   into buf (NULL when len < 80);
 *  bus_peek_slots:  the header's slot bitmap (BUS_SLOT_BYTES), pointing into
 *                   buf (NULL when len < 2128). */
bool bus_peek_totlen(const uint8_t *buf, size_t len, uint32_t *totlen);
bool bus_peek_type(const uint8_t *buf, size_t len, unsigned *type);
const uint8_t *bus_peek_sender(const uint8_t *buf, size_t len);
const uint8_t *bus_peek_slots(const uint8_t *buf, size_t len);

/* ---- decoder ----
 * Decodes and validates the frame at buf (len may exceed totlen; bytes after
 * totlen are not read). Validation follows 7.0.15's (§3.10, §4.7), with the
 * safe deviations listed at the top of this file. On BUS_OK, out is complete.
 * On an error, out->hdr holds whatever header fields could be read (for
 * logging), and nothing else is meaningful. Unknown types decode as BUS_OK
 * with only the header and body view. */
int bus_decode(const uint8_t *buf, size_t len, bus_msg_t *out);
/* As bus_decode, with the same result, but out->hdr.myslots is left as it
 * was: for readers that only judge frames (the link's stream), it saves
 * copying the 2 KB slot bitmap of every frame. */
int bus_decode_noslots(const uint8_t *buf, size_t len, bus_msg_t *out);
/* The part of bus_decode that bus_decode_noslots and bus_decode_head leave
 * out: copies the slot bitmap of the frame at buf into out->hdr.myslots, so
 * that a judged frame the reader keeps becomes what bus_decode gives without
 * decoding it again. False (out untouched) when len < BUS_HEADER_LEN. */
bool bus_decode_slots(const uint8_t *buf, size_t len, bus_msg_t *out);
/* Moves every view of a decoded message m from the buffer at old_base to
 * the same offset from new_base: for a message whose body bytes (from
 * m->body, or from wherever old_base is as long as no view lies before it)
 * were copied to new_base. NULL views stay NULL. Only the views of m's type
 * are moved (what bus_decode set for a frame it judged BUS_OK). */
void bus_msg_rebase(bus_msg_t *m, const uint8_t *old_base, const uint8_t *new_base);

/* For a reader that does not use the bodies of PUBLISH, PUBLISHSHARD and
 * MODULE frames (no pub/sub, no modules): how many leading bytes of a frame
 * of this type and totlen decide everything bus_decode would say of it, so
 * that the rest can be skipped unread; 0 when the whole frame is needed.
 *  - PUBLISH/PUBLISHSHARD/MODULE: the header and the fixed fields that give
 *    the body's length (BUS_PUBLISH_MIN_LEN, BUS_MODULE_MIN_LEN);
 *  - types unknown to 7.0.15: the header (their length is whatever they say);
 *  - FAIL, UPDATE, AUTH_*, MFSTART longer than their fixed size: the header
 *    (such a frame is invalid whatever it holds; 7.0.15 reads it whole and
 *    drops it, keeping the link);
 *  - PING/PONG/MEET, and every frame no longer than what it needs: 0. */
uint32_t bus_judge_len(unsigned type, uint32_t totlen);
/* As bus_decode_noslots, for a frame of which only its first
 * bus_judge_len(type, totlen) bytes or more are in buf: the result bus_decode
 * gives for the whole frame. The body views (body, channel, message,
 * payload) are NULL when the frame is not all there. A whole frame decodes
 * exactly as with bus_decode_noslots. */
int bus_decode_head(const uint8_t *buf, size_t len, bus_msg_t *out);

/* Decodes header fields from the first BUS_HEADER_LEN bytes (no validation). */
void bus_header_decode(const uint8_t *p, bus_header_t *out);
/* Decodes one 104-byte gossip entry (sets name_valid). */
void bus_gossip_decode(const uint8_t *p, bus_gossip_t *out);
/* Gossip entry i of a decoded PING/PONG/MEET; false if i >= hdr.count or not a gossip type. */
bool bus_msg_gossip(const bus_msg_t *m, unsigned i, bus_gossip_t *out);
/* A few fields of gossip entry i, read in place (nothing copied), for a
 * reader that looks at every entry and needs the rest of few of them: the
 * name's 40 bytes as on the wire (not NUL-terminated; check them with
 * bus_name_is_valid unless u.ping.gossip_names_valid), its flags and pong
 * time, and the entry's bytes for bus_gossip_decode. False as bus_msg_gossip. */
typedef struct bus_gossip_peek {
    const char *name;
    uint16_t flags;
    uint32_t pong_received;
    const uint8_t *entry;
} bus_gossip_peek_t;
bool bus_msg_gossip_peek(const bus_msg_t *m, unsigned i, bus_gossip_peek_t *out);

/* Extension records of a decoded PING/PONG/MEET, in wire order. */
typedef struct bus_ext_iter {
    const uint8_t *pos;
    const uint8_t *end;
    unsigned left;
} bus_ext_iter_t;
void bus_ext_iter_init(bus_ext_iter_t *it, const bus_msg_t *m);
bool bus_ext_iter_next(bus_ext_iter_t *it, bus_ext_t *out);
/* Reads a FORGOTTEN_NODE payload: name (41 bytes incl. NUL) and ttl seconds. */
bool bus_ext_forgotten(const bus_ext_t *ext, char name[BUS_NAME_LEN + 1], uint64_t *ttl_seconds);

/* ---- encoders ----
 * Each builder writes one whole frame into buf (capacity cap) and returns its
 * length, or 0 if it does not fit or is not encodable. The header comes from
 * hdr (sig and ver are always "RCmb" and 1); the builder overrides type,
 * totlen, count and extensions, and for PING/PONG/MEET sets mflags[0]
 * EXT_DATA if and only if records are appended (§4.7). Reserved bytes are 0. */

/* Writes the 2256-byte header exactly as given (totlen/count/type included).
 * slaveof is written only when has_master is set; otherwise 40 zero bytes
 * say "I am a master". myip and strings are written up to their NUL. */
void bus_header_encode(uint8_t *p, const bus_header_t *hdr);
/* Writes one 104-byte gossip entry. */
void bus_gossip_encode(uint8_t *p, const bus_gossip_t *g);
/* Bytes a record with a payload of len bytes takes (8 + roundup8(len)), 0 if too big. */
uint32_t bus_ext_record_len(size_t payload_len);
/* Fills ext to carry a hostname record: the string and its NUL. */
void bus_ext_hostname(bus_ext_t *ext, const char *hostname);
/* Frame length of a PING/PONG/MEET with these gossip entries and records, 0 if too big. */
size_t bus_ping_len(unsigned count, const bus_ext_t *exts, size_t n_exts);

/* type is BUS_PING, BUS_PONG or BUS_MEET. exts may be NULL when n_exts is 0. */
size_t bus_build_ping(uint8_t *buf, size_t cap, const bus_header_t *hdr, unsigned type,
                      const bus_gossip_t *gossip, unsigned count,
                      const bus_ext_t *exts, size_t n_exts);
/* nodename40 / update's nodename40: 40 bytes, no terminator needed. */
size_t bus_build_fail(uint8_t *buf, size_t cap, const bus_header_t *hdr, const char *nodename40);
/* type is BUS_PUBLISH or BUS_PUBLISHSHARD. */
size_t bus_build_publish(uint8_t *buf, size_t cap, const bus_header_t *hdr, unsigned type,
                         const void *channel, size_t channel_len,
                         const void *message, size_t message_len);
size_t bus_build_update(uint8_t *buf, size_t cap, const bus_header_t *hdr, uint64_t config_epoch,
                        const char *nodename40, const uint8_t slots[BUS_SLOT_BYTES]);
/* Header-only messages: FAILOVER_AUTH_REQUEST (set FORCEACK in hdr->mflags[0]
 * for a manual failover), FAILOVER_AUTH_ACK, MFSTART. */
size_t bus_build_auth_request(uint8_t *buf, size_t cap, const bus_header_t *hdr);
size_t bus_build_auth_ack(uint8_t *buf, size_t cap, const bus_header_t *hdr);
size_t bus_build_mfstart(uint8_t *buf, size_t cap, const bus_header_t *hdr);
size_t bus_build_module(uint8_t *buf, size_t cap, const bus_header_t *hdr, uint64_t module_id,
                        uint8_t module_type, const void *payload, size_t len);

/* ---- slot bitmap (§2.3): slot s is bit (s % 8), LSB first, of byte s / 8 ---- */
static inline bool bus_slot_test(const uint8_t *bitmap, unsigned slot)
{
    return (bitmap[slot >> 3] >> (slot & 7)) & 1;
}
static inline void bus_slot_set(uint8_t *bitmap, unsigned slot)
{
    bitmap[slot >> 3] |= (uint8_t)(1u << (slot & 7));
}
static inline void bus_slot_clear(uint8_t *bitmap, unsigned slot)
{
    bitmap[slot >> 3] &= (uint8_t)~(1u << (slot & 7));
}
/* Number of slots set in a BUS_SLOT_BYTES bitmap. */
unsigned bus_slot_count(const uint8_t *bitmap);

/* ---- node names (§2.4) ----
 * True when all 40 bytes are 'a'-'z' or '0'-'9', the test 7.0.15 applies
 * before looking a name up. A gossip name failing it must never become a
 * node record (7.0.15 crashes on that, §8.1). */
bool bus_name_is_valid(const void *name40);
/* True when all 40 bytes are zero ("no name", e.g. slaveof of a master). */
bool bus_name_is_null(const void *name40);

#endif

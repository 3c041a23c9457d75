/* bus.c - cluster-bus read side: the framer that cuts a link's byte stream
 * into frames, the decoder that validates a frame the way redis-server
 * 7.0.15 does (docs/cluster-bus.md §1.6, §3.10, §4.7) and exposes its fields,
 * plus the node-name and slot-bitmap helpers.
 *
 * Must never read past the length it is given, allocate, or accept a frame
 * whose declared lengths point outside it (see bus.h for where we are
 * stricter than 7.0.15 for that reason).
 */
#include <stddef.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include "proto/bus.h"
#include "proto/bus_wire.h"

bool bus_result_closes_link(int result)
{
    return result == BUS_ERR_SIG || result == BUS_ERR_SHORT || result == BUS_ERR_TOO_BIG;
}

const char *bus_result_str(int result)
{
    switch (result) {
    case BUS_OK: return "ok";
    case BUS_NEED_MORE: return "need more bytes";
    case BUS_ERR_SIG: return "bad message signature";
    case BUS_ERR_SHORT: return "message length below the header size";
    case BUS_ERR_TOO_BIG: return "message length above the limit for its type";
    case BUS_ERR_TRUNCATED: return "message truncated";
    case BUS_ERR_VERSION: return "unsupported protocol version";
    case BUS_ERR_LENGTH: return "message length does not match its content";
    case BUS_ERR_EXT_PADDING: return "ping extension without proper padding";
    case BUS_ERR_EXT_OVERRUN: return "ping extension exceeds total packet length";
    default: return "unknown result";
    }
}

const char *bus_type_name(unsigned type)
{
    static const char *const names[BUS_TYPE_COUNT] = {
        "ping", "pong", "meet", "fail", "publish", "auth-req",
        "auth-ack", "update", "mfstart", "module", "publishshard",
    };
    return type < BUS_TYPE_COUNT ? names[type] : "unknown";
}

/* ---- names and slots ---- */

bool bus_name_is_valid(const void *name40)
{
    /* A hot path: every frame's sender and gossip names (20 a PING at 200
     * peers). Branch-free; with SSE2 two vectors and one overlapping the
     * second's tail (bytes 24..39). A byte is good when c - '0' <= 9 or
     * c - 'a' <= 25 as unsigned bytes. */
    const uint8_t *n = name40;
#ifdef __SSE2__
    /* c - lo < len as unsigned bytes is (c + (128 - lo)) < (len - 128) as
     * signed ones: an add and a compare per range, three vectors unrolled */
    const __m128i d_bias = _mm_set1_epi8((char)(128 - '0')), d_lim = _mm_set1_epi8((char)(10 - 128));
    const __m128i a_bias = _mm_set1_epi8((char)(128 - 'a')), a_lim = _mm_set1_epi8((char)(26 - 128));
#define NAME_GOOD(c) _mm_or_si128(_mm_cmplt_epi8(_mm_add_epi8((c), d_bias), d_lim), \
                                  _mm_cmplt_epi8(_mm_add_epi8((c), a_bias), a_lim))
    __m128i g0 = NAME_GOOD(_mm_loadu_si128((const __m128i *)n));
    __m128i g1 = NAME_GOOD(_mm_loadu_si128((const __m128i *)(n + 16)));
    __m128i g2 = NAME_GOOD(_mm_loadu_si128((const __m128i *)(n + 24)));
#undef NAME_GOOD
    return _mm_movemask_epi8(_mm_and_si128(_mm_and_si128(g0, g1), g2)) == 0xffff;
#else
    unsigned bad = 0;
    for (int i = 0; i < BUS_NAME_LEN; i++) {
        uint8_t c = n[i];
        bad |= (unsigned)((uint8_t)(c - 'a') > 25) & (unsigned)((uint8_t)(c - '0') > 9);
    }
    return bad == 0;
#endif
}

bool bus_name_is_null(const void *name40)
{
    /* Every frame's header asks (its slaveof, all zero for a master): five
     * words OR'ed, where a byte loop walked all 40 bytes of a master's. */
    const uint8_t *n = name40;
    uint64_t any = 0;
    for (int i = 0; i < BUS_NAME_LEN; i += 8) {
        uint64_t w;
        memcpy(&w, n + i, 8);
        any |= w;
    }
    return any == 0;
}
_Static_assert(BUS_NAME_LEN % 8 == 0, "names are read as words");

unsigned bus_slot_count(const uint8_t *bitmap)
{
    unsigned n = 0;
    for (int i = 0; i < BUS_SLOT_BYTES; i++) n += (unsigned)__builtin_popcount(bitmap[i]);
    return n;
}

/* ---- framer ---- */

/* Largest totlen we agree to buffer for a frame of this type (see bus.h). */
static uint64_t frame_cap(unsigned type, uint32_t max_payload)
{
    switch (type) {
    case BUS_PING: case BUS_PONG: case BUS_MEET:
        return BUS_MAX_GOSSIP_FRAME;
    case BUS_PUBLISH: case BUS_PUBLISHSHARD:
        return (uint64_t)BUS_PUBLISH_MIN_LEN + max_payload;
    case BUS_MODULE:
        return (uint64_t)BUS_MODULE_MIN_LEN + max_payload;
    case BUS_FAIL: case BUS_FAILOVER_AUTH_REQUEST: case BUS_FAILOVER_AUTH_ACK:
    case BUS_UPDATE: case BUS_MFSTART:
        return BUS_FULL_LEN;
    default:
        return BUS_MAX_UNKNOWN_FRAME;
    }
}

int bus_frame_check(const uint8_t *buf, size_t len, uint32_t max_payload, uint32_t *frame_len)
{
    *frame_len = 0;
    if (len == 0) return BUS_NEED_MORE;
    /* 7.0.15 judges a frame on its first 8 bytes (§1.6); so do we, and a
     * partial signature that is already wrong can be refused even earlier. */
    size_t sig_have = len < 4 ? len : 4;
    if (memcmp(buf, BUS_SIG, sig_have) != 0) return BUS_ERR_SIG;
    if (len < 8) return BUS_NEED_MORE;
    uint32_t totlen = bw_get32(buf + BW_TOTLEN);
    if (totlen < BUS_HEADER_LEN) return BUS_ERR_SHORT;
    *frame_len = totlen;
    /* The type sits at offset 12; every valid frame is far longer than 16
     * bytes, so waiting for it before applying the cap costs nothing. */
    if (len < 16) return BUS_NEED_MORE;
    if (totlen > frame_cap(bw_get16(buf + BW_TYPE), max_payload)) return BUS_ERR_TOO_BIG;
    return len >= totlen ? BUS_OK : BUS_NEED_MORE;
}

/* ---- peeking ---- */

bool bus_peek_totlen(const uint8_t *buf, size_t len, uint32_t *totlen)
{
    if (len < BW_TOTLEN + 4) return false;
    *totlen = bw_get32(buf + BW_TOTLEN);
    return true;
}

bool bus_peek_type(const uint8_t *buf, size_t len, unsigned *type)
{
    if (len < BW_TYPE + 2) return false;
    *type = bw_get16(buf + BW_TYPE);
    return true;
}

const uint8_t *bus_peek_sender(const uint8_t *buf, size_t len)
{
    return len < BW_SENDER + BUS_NAME_LEN ? NULL : buf + BW_SENDER;
}

const uint8_t *bus_peek_slots(const uint8_t *buf, size_t len)
{
    return len < BW_MYSLOTS + BUS_SLOT_BYTES ? NULL : buf + BW_MYSLOTS;
}

/* ---- header and gossip ---- */

/* Copies a NUL-padded string field of n bytes into dst[n+1]: up to the first
 * NUL, zero-filled after, so an encoder writes back the same bytes. */
static void copy_strfield(char *dst, const uint8_t *src, size_t n)
{
    const uint8_t *nul = memchr(src, 0, n);
    size_t l = nul ? (size_t)(nul - src) : n;
    memcpy(dst, src, l);
    memset(dst + l, 0, n + 1 - l);
}

static void copy_name(char *dst, const uint8_t *src)
{
    memcpy(dst, src, BUS_NAME_LEN);
    dst[BUS_NAME_LEN] = '\0';
}

static void header_decode(const uint8_t *p, bus_header_t *h, bool with_slots);

void bus_header_decode(const uint8_t *p, bus_header_t *h)
{
    header_decode(p, h, true);
}

static void header_decode(const uint8_t *p, bus_header_t *h, bool with_slots)
{
    h->totlen = bw_get32(p + BW_TOTLEN);
    h->ver = bw_get16(p + BW_VER);
    h->port = bw_get16(p + BW_PORT);
    h->type = bw_get16(p + BW_TYPE);
    h->count = bw_get16(p + BW_COUNT);
    h->current_epoch = bw_get64(p + BW_CUR_EPOCH);
    h->config_epoch = bw_get64(p + BW_CFG_EPOCH);
    h->offset = bw_get64(p + BW_OFFSET);
    copy_name(h->sender, p + BW_SENDER);
    if (with_slots) memcpy(h->myslots, p + BW_MYSLOTS, BUS_SLOT_BYTES);
    h->has_master = !bus_name_is_null(p + BW_SLAVEOF);
    copy_name(h->slaveof, p + BW_SLAVEOF);
    copy_strfield(h->myip, p + BW_MYIP, BUS_IP_LEN);
    h->extensions = bw_get16(p + BW_EXTENSIONS);
    h->pport = bw_get16(p + BW_PPORT);
    h->cport = bw_get16(p + BW_CPORT);
    h->flags = bw_get16(p + BW_FLAGS);
    h->state = p[BW_STATE];
    memcpy(h->mflags, p + BW_MFLAGS, 3);
}

void bus_gossip_decode(const uint8_t *p, bus_gossip_t *g)
{
    copy_name(g->name, p + BW_G_NAME);
    g->name_valid = bus_name_is_valid(p + BW_G_NAME);
    g->ping_sent = bw_get32(p + BW_G_PING_SENT);
    g->pong_received = bw_get32(p + BW_G_PONG_RECV);
    copy_strfield(g->ip, p + BW_G_IP, BUS_IP_LEN);
    g->port = bw_get16(p + BW_G_PORT);
    g->cport = bw_get16(p + BW_G_CPORT);
    g->flags = bw_get16(p + BW_G_FLAGS);
    g->pport = bw_get16(p + BW_G_PPORT);
}

bool bus_msg_gossip(const bus_msg_t *m, unsigned i, bus_gossip_t *out)
{
    if (!bus_type_has_gossip(m->hdr.type) || !m->u.ping.gossip || i >= m->hdr.count) return false;
    bus_gossip_decode(m->u.ping.gossip + (size_t)i * BUS_GOSSIP_LEN, out);
    return true;
}

bool bus_msg_gossip_peek(const bus_msg_t *m, unsigned i, bus_gossip_peek_t *out)
{
    if (!bus_type_has_gossip(m->hdr.type) || !m->u.ping.gossip || i >= m->hdr.count) return false;
    const uint8_t *p = m->u.ping.gossip + (size_t)i * BUS_GOSSIP_LEN;
    out->name = (const char *)(p + BW_G_NAME);
    out->flags = bw_get16(p + BW_G_FLAGS);
    out->pong_received = bw_get32(p + BW_G_PONG_RECV);
    out->entry = p;
    return true;
}

/* ---- extensions ---- */

void bus_ext_iter_init(bus_ext_iter_t *it, const bus_msg_t *m)
{
    it->pos = NULL;
    it->end = NULL;
    it->left = 0;
    if (bus_type_has_gossip(m->hdr.type) && m->u.ping.ext) {
        it->pos = m->u.ping.ext;
        it->end = m->body + m->body_len;
        it->left = m->u.ping.ext_count;
    }
}

bool bus_ext_iter_next(bus_ext_iter_t *it, bus_ext_t *out)
{
    if (it->left == 0) return false;
    /* bus_decode validated these records already; the bounds are checked
     * again so that a stale or hand-made iterator can never over-read. */
    size_t room = (size_t)(it->end - it->pos);
    if (room < BUS_EXT_HDR_LEN) return false;
    uint32_t l = bw_get32(it->pos + BW_E_LENGTH);
    if (l < BUS_EXT_HDR_LEN || l > room) return false;
    out->type = bw_get16(it->pos + BW_E_TYPE);
    out->payload = it->pos + BUS_EXT_HDR_LEN;
    out->len = l - BUS_EXT_HDR_LEN;
    it->pos += l;
    it->left--;
    return true;
}

bool bus_ext_forgotten(const bus_ext_t *ext, char name[BUS_NAME_LEN + 1], uint64_t *ttl_seconds)
{
    if (ext->type != BUS_EXT_FORGOTTEN_NODE || ext->len < BUS_EXT_FORGOTTEN_PAYLOAD) return false;
    copy_name(name, ext->payload);
    *ttl_seconds = bw_get64(ext->payload + BUS_NAME_LEN);
    return true;
}

/* A string payload (hostname, human nodename): up to the first NUL inside the
 * record. 7.0.15 runs strlen() here; we stop at the record's end instead. */
static void ext_string(const bus_ext_t *e, const char **s, uint32_t *len)
{
    const uint8_t *nul = memchr(e->payload, 0, e->len);
    *s = (const char *)e->payload;
    *len = nul ? (uint32_t)(nul - e->payload) : e->len;
}

/* Walks and validates the records of a PING/PONG/MEET that has EXT_DATA set,
 * starting at pos; returns where they end through *end. Order of checks as in
 * 7.0.15 (padding, then room), with the header read itself bounded first. */
static int walk_extensions(const uint8_t *buf, uint32_t totlen, uint64_t pos, bus_msg_t *m,
                           uint64_t *end)
{
    m->u.ping.ext = buf + pos;
    for (unsigned i = 0; i < m->hdr.extensions; i++) {
        if (totlen - pos < BUS_EXT_HDR_LEN) return BUS_ERR_EXT_OVERRUN;
        /* Full 32 bits, not 7.0.15's truncation to 16: a record whose real
         * length differs from its truncated one would make 7.0.15 walk off
         * the frame; we refuse it as an overrun. */
        uint32_t l = bw_get32(buf + pos + BW_E_LENGTH);
        if (l % 8 != 0 || l < BUS_EXT_HDR_LEN) return BUS_ERR_EXT_PADDING;
        if (totlen - pos < l) return BUS_ERR_EXT_OVERRUN;
        bus_ext_t e = { bw_get16(buf + pos + BW_E_TYPE), buf + pos + BUS_EXT_HDR_LEN,
                        l - BUS_EXT_HDR_LEN };
        switch (e.type) {
        case BUS_EXT_HOSTNAME:
            m->u.ping.has_hostname = true;
            ext_string(&e, &m->u.ping.hostname, &m->u.ping.hostname_len);
            break;
        case BUS_EXT_HUMAN_NODENAME:
            m->u.ping.has_human_nodename = true;
            ext_string(&e, &m->u.ping.human_nodename, &m->u.ping.human_nodename_len);
            break;
        case BUS_EXT_FORGOTTEN_NODE:
            if (e.len >= BUS_EXT_FORGOTTEN_PAYLOAD) m->u.ping.forgotten_count++;
            break;
        case BUS_EXT_SHARDID:
            if (e.len >= BUS_EXT_SHARDID_PAYLOAD) m->u.ping.shard_id = e.payload;
            break;
        default:
            m->u.ping.unknown_ext_count++;
            break;
        }
        m->u.ping.ext_count++;
        pos += l;
    }
    *end = pos;
    return BUS_OK;
}

/* ---- decoder ---- */

static int decode_ping(const uint8_t *buf, uint32_t totlen, bus_msg_t *m)
{
    uint64_t expected = BUS_HEADER_LEN + (uint64_t)BUS_GOSSIP_LEN * m->hdr.count;
    /* 7.0.15 subtracts unsigned lengths here and would wrap; a gossip section
     * longer than the frame is simply wrong. */
    if (expected > totlen) return BUS_ERR_LENGTH;
    m->u.ping.gossip = buf + BW_DATA;
    m->u.ping.gossip_names_valid = true;
    for (unsigned i = 0; i < m->hdr.count; i++) {
        if (!bus_name_is_valid(buf + BW_DATA + (size_t)i * BUS_GOSSIP_LEN)) {
            m->u.ping.gossip_names_valid = false;
            break;
        }
    }
    /* Without EXT_DATA the `extensions` count is not walked (7.0.15 ignores
     * it in validation too; its later walk regardless of the flag reads past
     * the frame, which we do not copy). */
    if (m->hdr.mflags[0] & BUS_MFLAG_EXT_DATA) {
        int r = walk_extensions(buf, totlen, expected, m, &expected);
        if (r != BUS_OK) return r;
    }
    return expected == totlen ? BUS_OK : BUS_ERR_LENGTH;
}

/* A frame whose header is not decoded: a zero header, with totlen when known. */
static int header_error(bus_msg_t *m, uint32_t totlen, int err)
{
    memset(&m->hdr, 0, sizeof m->hdr);
    m->hdr.totlen = totlen;
    return err;
}

static int decode(const uint8_t *buf, size_t len, bus_msg_t *m, bool with_slots, bool head_only);

int bus_decode(const uint8_t *buf, size_t len, bus_msg_t *m)
{
    return decode(buf, len, m, true, false);
}

int bus_decode_noslots(const uint8_t *buf, size_t len, bus_msg_t *m)
{
    return decode(buf, len, m, false, false);
}

uint32_t bus_judge_len(unsigned type, uint32_t totlen)
{
    uint32_t head;
    switch (type) {
    case BUS_PING: case BUS_PONG: case BUS_MEET:
        return 0;   /* the extensions' lengths are in the body: it must be read */
    case BUS_PUBLISH: case BUS_PUBLISHSHARD:
        head = BUS_PUBLISH_MIN_LEN;
        break;
    case BUS_MODULE:
        head = BUS_MODULE_MIN_LEN;
        break;
    case BUS_FAIL:
        return totlen > BUS_FAIL_LEN ? BUS_HEADER_LEN : 0;
    case BUS_UPDATE:
        return totlen > BUS_UPDATE_LEN ? BUS_HEADER_LEN : 0;
    case BUS_FAILOVER_AUTH_REQUEST: case BUS_FAILOVER_AUTH_ACK: case BUS_MFSTART:
        head = BUS_HEADER_LEN;
        break;
    default:
        head = BUS_HEADER_LEN;   /* unknown to 7.0.15: only the header counts */
        break;
    }
    return totlen > head ? head : 0;
}

int bus_decode_head(const uint8_t *buf, size_t len, bus_msg_t *m)
{
    return decode(buf, len, m, false, true);
}

bool bus_decode_slots(const uint8_t *buf, size_t len, bus_msg_t *m)
{
    if (len < BUS_HEADER_LEN) return false;
    memcpy(m->hdr.myslots, buf + BW_MYSLOTS, BUS_SLOT_BYTES);
    return true;
}

/* One view moved: the same distance from new_base as it was from old_base. */
static const uint8_t *moved(const uint8_t *view, const uint8_t *old_base, const uint8_t *new_base)
{
    return view ? new_base + (view - old_base) : NULL;
}

void bus_msg_rebase(bus_msg_t *m, const uint8_t *old_base, const uint8_t *new_base)
{
    m->body = moved(m->body, old_base, new_base);
    switch (m->hdr.type) {
    case BUS_PING: case BUS_PONG: case BUS_MEET:
        m->u.ping.gossip = moved(m->u.ping.gossip, old_base, new_base);
        m->u.ping.ext = moved(m->u.ping.ext, old_base, new_base);
        m->u.ping.hostname = (const char *)moved((const uint8_t *)m->u.ping.hostname, old_base, new_base);
        m->u.ping.human_nodename =
            (const char *)moved((const uint8_t *)m->u.ping.human_nodename, old_base, new_base);
        m->u.ping.shard_id = moved(m->u.ping.shard_id, old_base, new_base);
        break;
    case BUS_PUBLISH: case BUS_PUBLISHSHARD:
        m->u.publish.channel = moved(m->u.publish.channel, old_base, new_base);
        m->u.publish.message = moved(m->u.publish.message, old_base, new_base);
        break;
    case BUS_UPDATE:
        m->u.update.slots = moved(m->u.update.slots, old_base, new_base);
        break;
    case BUS_MODULE:
        m->u.module.payload = moved(m->u.module.payload, old_base, new_base);
        break;
    default:
        break;   /* FAIL, AUTH_*, MFSTART and unknown types: only the body view */
    }
}

static int decode(const uint8_t *buf, size_t len, bus_msg_t *m, bool with_slots, bool head_only)
{
    /* Everything but the header, which bus_header_decode writes in full (it
     * holds the 2 KB slot bitmap: not clearing it first halves the bytes
     * touched per frame). */
    memset(&m->sender_valid, 0, sizeof *m - offsetof(bus_msg_t, sender_valid));
    if (len < 8) return header_error(m, 0, BUS_ERR_TRUNCATED);
    if (memcmp(buf, BUS_SIG, 4) != 0) return header_error(m, 0, BUS_ERR_SIG);
    uint32_t totlen = bw_get32(buf + BW_TOTLEN);
    if (totlen < BUS_HEADER_LEN) return header_error(m, totlen, BUS_ERR_SHORT);
    /* Only a head is there (bus_decode_head): judge what it holds, point at
     * no body byte. */
    bool cut = false;
    if (len < totlen) {
        uint32_t head = len >= BW_COUNT ? bus_judge_len(bw_get16(buf + BW_TYPE), totlen) : 0;
        if (!head_only || head == 0 || len < head) return header_error(m, totlen, BUS_ERR_TRUNCATED);
        cut = true;
    }
    header_decode(buf, &m->hdr, with_slots);
    m->sender_valid = bus_name_is_valid(buf + BW_SENDER);
    m->body = cut ? NULL : buf + BW_DATA;
    m->body_len = cut ? 0 : totlen - BUS_HEADER_LEN;
    if (m->hdr.ver != BUS_PROTO_VER) return BUS_ERR_VERSION;

    uint64_t expected;
    switch (m->hdr.type) {
    case BUS_PING: case BUS_PONG: case BUS_MEET:
        return decode_ping(buf, totlen, m);
    case BUS_FAIL:
        if (totlen != BUS_FAIL_LEN) return BUS_ERR_LENGTH;
        copy_name(m->u.fail.name, buf + BW_FAIL_NAME);
        m->u.fail.name_valid = bus_name_is_valid(buf + BW_FAIL_NAME);
        return BUS_OK;
    case BUS_PUBLISH: case BUS_PUBLISHSHARD:
        /* 7.0.15 reads both lengths even when the frame is too short to hold
         * them, and adds them in 32 bits; 64-bit sums cannot wrap. */
        if (totlen < BUS_PUBLISH_MIN_LEN) return BUS_ERR_LENGTH;
        m->u.publish.channel_len = bw_get32(buf + BW_PUB_CHANNEL_LEN);
        m->u.publish.message_len = bw_get32(buf + BW_PUB_MESSAGE_LEN);
        expected = (uint64_t)BUS_PUBLISH_MIN_LEN + m->u.publish.channel_len
                 + m->u.publish.message_len;
        if (expected != totlen) return BUS_ERR_LENGTH;
        if (cut) return BUS_OK;
        m->u.publish.channel = buf + BW_PUB_DATA;
        m->u.publish.message = buf + BW_PUB_DATA + m->u.publish.channel_len;
        return BUS_OK;
    case BUS_FAILOVER_AUTH_REQUEST: case BUS_FAILOVER_AUTH_ACK: case BUS_MFSTART:
        return totlen == BUS_HEADER_LEN ? BUS_OK : BUS_ERR_LENGTH;
    case BUS_UPDATE:
        if (totlen != BUS_UPDATE_LEN) return BUS_ERR_LENGTH;
        m->u.update.config_epoch = bw_get64(buf + BW_UPD_CFG_EPOCH);
        copy_name(m->u.update.name, buf + BW_UPD_NAME);
        m->u.update.name_valid = bus_name_is_valid(buf + BW_UPD_NAME);
        m->u.update.slots = buf + BW_UPD_SLOTS;
        return BUS_OK;
    case BUS_MODULE:
        if (totlen < BUS_MODULE_MIN_LEN) return BUS_ERR_LENGTH;
        m->u.module.len = bw_get32(buf + BW_MOD_LEN);
        if ((uint64_t)BUS_MODULE_MIN_LEN + m->u.module.len != totlen) return BUS_ERR_LENGTH;
        m->u.module.module_id = bw_get64le(buf + BW_MOD_ID);
        m->u.module.type = buf[BW_MOD_TYPE];
        m->u.module.payload = cut ? NULL : buf + BW_MOD_DATA;
        return BUS_OK;
    default:
        /* Unknown to 7.0.15: its length is whatever it says (§3.10). */
        return BUS_OK;
    }
}

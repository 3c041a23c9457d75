/* bus_light.c - the light encoding between shoal peers (see bus_light.h,
 * docs/cluster-bus.md §9): advertisement, framer, digest, tuple pool, and
 * the encoder/expander pair whose round trip gives back the plain bytes.
 *
 * Must never read outside the frame it is given, write past the capacity it
 * is given, or expand a frame into anything but the plain frame the sender
 * encoded (a digest or id it cannot match is an error, never a guess).
 */
#include <stdlib.h>
#include <string.h>
#include "proto/bus_light.h"
#include "proto/bus_wire.h"

/* light frame layout (§9.3) */
#define BL_SIG       0
#define BL_TOTLEN    4
#define BL_VERSION   8
#define BL_FLAGS     9
#define BL_DIGEST    16
#define BL_HEAD_A    24                        /* plain bytes 8..80 */
#define BL_HEAD_A_LEN (BW_MYSLOTS - BW_VER)     /* 72 */
#define BL_HEAD_B    (BL_HEAD_A + BL_HEAD_A_LEN) /* plain bytes 2128..2256 */
#define BL_HEAD_B_LEN (BUS_HEADER_LEN - BW_SLAVEOF)   /* 128 */
#define BL_TYPE      (BL_HEAD_A + (BW_TYPE - BW_VER))
#define BL_COUNT     (BL_HEAD_A + (BW_COUNT - BW_VER))
#define BL_FULL_BIT  0x8000u
/* light PUBLISH layout (§9.8) */
#define BL_PUB_TYPE  10
#define BL_PUB_MIN   (BUS_LIGHT_PUB_HDR_LEN + (BUS_PUBLISH_MIN_LEN - BUS_HEADER_LEN))
#define BL_PUB_CAP   (BUS_LIGHT_PUB_MAX + BUS_LIGHT_PUB_HDR_LEN + BUS_LIGHT_PUB_HEAD_LEN + BUS_SLOT_BYTES)

_Static_assert(BL_HEAD_B + BL_HEAD_B_LEN == BUS_LIGHT_HDR_LEN, "light header");
_Static_assert(BUS_LIGHT_ADV_OFF >= BW_RESERVED && BUS_LIGHT_ADV_OFF + BUS_LIGHT_ADV_LEN <= BW_PPORT,
               "the advertisement stays inside the reserved bytes");
_Static_assert(BUS_LIGHT_MAX_IDS < BUS_LIGHT_NO_ID, "ids fit the tag");
_Static_assert(BL_HEAD_A_LEN + BL_HEAD_B_LEN == BUS_LIGHT_PUB_HEAD_LEN, "light PUBLISH header bytes");
_Static_assert(BL_PUB_MIN >= 30, "a whole light frame holds its type");

static const uint8_t adv_bytes[BUS_LIGHT_ADV_LEN] = { 's', 'h', 'o', 'a', 0, BUS_LIGHT_VERSION, 0, 3 };
_Static_assert(BUS_LIGHT_VIEW_OFF + 8 == BUS_LIGHT_ADV_OFF && BUS_LIGHT_VIEW_OFF >= BW_RESERVED, "view bytes");

void bus_light_advertise(uint8_t *frame, size_t len)
{
    if (len >= BUS_HEADER_LEN) memcpy(frame + BUS_LIGHT_ADV_OFF, adv_bytes, BUS_LIGHT_ADV_LEN);
}

bool bus_light_advertised(const uint8_t *frame, size_t len)
{
    /* magic and version; the feature bits are ours to extend */
    return len >= BUS_HEADER_LEN && memcmp(frame + BUS_LIGHT_ADV_OFF, adv_bytes, 6) == 0;
}

void bus_light_put_view(uint8_t *frame, size_t len, uint64_t v)
{
    if (len >= BUS_HEADER_LEN) bw_put64(frame + BUS_LIGHT_VIEW_OFF, v);
}

uint64_t bus_light_get_view(const uint8_t *frame, size_t len)
{
    /* an advertising peer that keeps no view leaves these bytes zero */
    if (!bus_light_advertised(frame, len)) return 0;
    return bw_get64(frame + BUS_LIGHT_VIEW_OFF);
}

const char *bus_light_result_str(int r)
{
    switch (r) {
    case BUS_LIGHT_OK: return "ok";
    case BUS_LIGHT_NEED_MORE: return "need more bytes";
    case BUS_LIGHT_ERR_SHORT: return "light frame shorter than its sections";
    case BUS_LIGHT_ERR_TOO_BIG: return "light frame above the limit";
    case BUS_LIGHT_ERR_VERSION: return "light frame of an unknown version";
    case BUS_LIGHT_ERR_TYPE: return "light frame of a type other than ping, pong, meet or publish";
    case BUS_LIGHT_ERR_DIGEST: return "light frame slots digest does not match";
    case BUS_LIGHT_ERR_ID: return "light frame names an unknown gossip id";
    case BUS_LIGHT_ERR_NOMEM: return "out of memory";
    case BUS_LIGHT_ERR_VIEW: return "light frame assumes a view we do not hold";
    case BUS_LIGHT_ERR_HEAD: return "light publish frame refers to header bytes we do not hold";
    default: return "unknown result";
    }
}

int bus_light_frame_check(const uint8_t *buf, size_t len, uint32_t *frame_len)
{
    *frame_len = 0;
    if (len < BL_FLAGS + 1) return BUS_LIGHT_NEED_MORE;
    uint32_t totlen = bw_get32(buf + BL_TOTLEN);
    if (buf[BL_FLAGS] & BUS_LIGHT_F_PUB) {
        /* a PUBLISH goes light only up to BUS_LIGHT_PUB_MAX plain bytes */
        if (totlen < BL_PUB_MIN) return BUS_LIGHT_ERR_SHORT;
        if (totlen > BL_PUB_CAP) return BUS_LIGHT_ERR_TOO_BIG;
        *frame_len = totlen;
        return len >= totlen ? BUS_LIGHT_OK : BUS_LIGHT_NEED_MORE;
    }
    if (totlen < BUS_LIGHT_HDR_LEN) return BUS_LIGHT_ERR_SHORT;
    /* a light frame is never longer than its plain frame plus its fixed part
     * and two bytes per entry; the plain cap bounds both */
    if (totlen > BUS_MAX_GOSSIP_FRAME + BUS_LIGHT_HDR_LEN + 2u * 65535u) return BUS_LIGHT_ERR_TOO_BIG;
    *frame_len = totlen;
    return len >= totlen ? BUS_LIGHT_OK : BUS_LIGHT_NEED_MORE;
}

unsigned bus_light_type(const uint8_t *buf)
{
    return bw_get16(buf + ((buf[BL_FLAGS] & BUS_LIGHT_F_PUB) ? BL_PUB_TYPE : BL_TYPE));
}

uint64_t bus_light_slots_digest(const uint8_t *slots)
{
    /* A word-at-a-time multiply-xorshift hash: the bitmap is ours or a shoal
     * peer's and is compared with the one held, so it needs to spread well,
     * not to resist a chosen collision (a peer lying about its bitmap can
     * simply send another one). */
    uint64_t h = 0x736c6f7473ull ^ BUS_SLOT_BYTES;
    for (size_t i = 0; i < BUS_SLOT_BYTES; i += 8) {
        uint64_t w;
        memcpy(&w, slots + i, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

/* ---- pool ---- */

#define NONE UINT32_MAX

void bus_light_pool_init(bus_light_pool_t *p)
{
    memset(p, 0, sizeof *p);
    p->free_head = NONE;
}

void bus_light_pool_free(bus_light_pool_t *p)
{
    free(p->t);
    free(p->bucket);
    bus_light_pool_init(p);
}

static uint64_t key_hash(const uint8_t *k)
{
    /* a word at a time: every entry a link sends is looked up here */
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i = 0;
    for (; i + 8 <= BUS_LIGHT_TUPLE_LEN; i += 8) {
        uint64_t w;
        memcpy(&w, k + i, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 32;
    }
    for (; i < BUS_LIGHT_TUPLE_LEN; i++) h = (h ^ k[i]) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

static int pool_rehash(bus_light_pool_t *p, uint32_t nb)
{
    uint32_t *b = malloc((size_t)nb * sizeof *b);
    if (!b) return -1;
    for (uint32_t i = 0; i < nb; i++) b[i] = NONE;
    for (uint32_t r = 0; r < p->n; r++) {
        if (p->t[r].refs == 0) continue;
        uint32_t h = (uint32_t)key_hash(p->t[r].key) & (nb - 1);
        p->t[r].next = b[h];
        b[h] = r;
    }
    free(p->bucket);
    p->bucket = b;
    p->nbuckets = nb;
    return 0;
}

/* The tuple's ref with one more reference taken, or NONE (out of memory). */
static uint32_t pool_intern(bus_light_pool_t *p, const uint8_t *key)
{
    if (p->live + 1 > p->nbuckets / 2 && pool_rehash(p, p->nbuckets ? p->nbuckets * 2 : 256) != 0)
        return NONE;
    uint32_t h = (uint32_t)key_hash(key) & (p->nbuckets - 1);
    for (uint32_t r = p->bucket[h]; r != NONE; r = p->t[r].next) {
        if (memcmp(p->t[r].key, key, BUS_LIGHT_TUPLE_LEN) == 0) {
            p->t[r].refs++;
            return r;
        }
    }
    uint32_t r;
    if (p->free_head != NONE) {
        r = p->free_head;
        p->free_head = p->t[r].next;
    } else {
        if (p->n == p->cap) {
            uint32_t nc = p->cap ? p->cap * 2 : 256;
            bus_light_tuple_t *nt = realloc(p->t, (size_t)nc * sizeof *nt);
            if (!nt) return NONE;
            p->t = nt;
            p->cap = nc;
        }
        r = p->n++;
    }
    memcpy(p->t[r].key, key, BUS_LIGHT_TUPLE_LEN);
    p->t[r].refs = 1;
    p->t[r].next = p->bucket[h];
    p->bucket[h] = r;
    p->live++;
    return r;
}

static void pool_release(bus_light_pool_t *p, uint32_t r)
{
    if (r >= p->n || p->t[r].refs == 0) return;
    if (--p->t[r].refs) return;
    uint32_t h = (uint32_t)key_hash(p->t[r].key) & (p->nbuckets - 1);
    for (uint32_t *pp = &p->bucket[h]; *pp != NONE; pp = &p->t[*pp].next) {
        if (*pp == r) { *pp = p->t[r].next; break; }
    }
    p->t[r].next = p->free_head;
    p->free_head = r;
    p->live--;
}

/* The address tuple of a 104-byte plain entry: every byte but the two times
 * and the flags, in wire order. */
static void entry_key(const uint8_t *e, uint8_t *key)
{
    memcpy(key, e, BW_G_PING_SENT);                                       /* name */
    memcpy(key + BW_G_PING_SENT, e + BW_G_IP, BW_G_FLAGS - BW_G_IP);      /* ip, port, cport */
    memcpy(key + BW_G_PING_SENT + (BW_G_FLAGS - BW_G_IP), e + BW_G_PPORT, BUS_GOSSIP_LEN - BW_G_PPORT);
}

void bus_light_entry_tuple(const uint8_t *entry, uint8_t *tuple)
{
    entry_key(entry, tuple);
}

uint64_t bus_light_tuple_hash(const uint8_t *tuple)
{
    /* one more mixing round than the pool's: these are XORed together */
    uint64_t h = key_hash(tuple);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 29);
}

static void entry_from_key(uint8_t *e, const uint8_t *key)
{
    memcpy(e, key, BW_G_PING_SENT);
    memcpy(e + BW_G_IP, key + BW_G_PING_SENT, BW_G_FLAGS - BW_G_IP);
    memcpy(e + BW_G_PPORT, key + BW_G_PING_SENT + (BW_G_FLAGS - BW_G_IP), BUS_GOSSIP_LEN - BW_G_PPORT);
}
_Static_assert(BW_G_PING_SENT + (BW_G_FLAGS - BW_G_IP) + (BUS_GOSSIP_LEN - BW_G_PPORT) == BUS_LIGHT_TUPLE_LEN,
               "tuple");

/* ---- per-link state ---- */

void bus_light_tx_init(bus_light_tx_t *tx)
{
    memset(tx, 0, sizeof *tx);
}

/* The receiver's copy of the bitmap the last frame stood for, as runs of
 * set bits (or, with more than BUS_LIGHT_RX_RUNS runs, the bitmap itself):
 * false when memory ran out. Bit j & 7 of byte j >> 3 is slot j. */
static bool rx_slots_hold(bus_light_rx_t *rx, const uint8_t *slots)
{
    int n = 0, from = -1;
    for (int j = 0; j < BUS_SLOT_BYTES * 8; j++) {
        uint8_t b = slots[j >> 3];
        if ((j & 7) == 0 && (b == 0 ? from < 0 : b == 0xff && from >= 0)) {
            j += 7;                              /* a whole byte that changes nothing */
            continue;
        }
        bool set = (b >> (j & 7)) & 1;
        if (set && from < 0) {
            from = j;
        } else if (!set && from >= 0) {
            if (n == BUS_LIGHT_RX_RUNS) goto whole;
            rx->run_from[n] = (uint16_t)from, rx->run_to[n] = (uint16_t)(j - 1), n++;
            from = -1;
        }
    }
    if (from >= 0) {
        if (n == BUS_LIGHT_RX_RUNS) goto whole;
        rx->run_from[n] = (uint16_t)from, rx->run_to[n] = (uint16_t)(BUS_SLOT_BYTES * 8 - 1), n++;
    }
    free(rx->full);
    rx->full = NULL;
    rx->nruns = (uint8_t)n;
    return true;
whole:
    if (!rx->full && !(rx->full = malloc(BUS_SLOT_BYTES))) return false;
    memcpy(rx->full, slots, BUS_SLOT_BYTES);
    rx->nruns = 0;
    return true;
}

/* Writes the held bitmap to out (BUS_SLOT_BYTES). */
static void rx_slots_put(const bus_light_rx_t *rx, uint8_t *out)
{
    if (rx->full) {
        memcpy(out, rx->full, BUS_SLOT_BYTES);
        return;
    }
    memset(out, 0, BUS_SLOT_BYTES);
    for (int r = 0; r < rx->nruns; r++) {
        int j = rx->run_from[r], to = rx->run_to[r];
        for (; j <= to && (j & 7); j++) out[j >> 3] |= (uint8_t)(1u << (j & 7));
        if (to - j + 1 >= 8) {
            int bytes = (to - j + 1) / 8;
            memset(out + (j >> 3), 0xff, (size_t)bytes);
            j += bytes * 8;
        }
        for (; j <= to; j++) out[j >> 3] |= (uint8_t)(1u << (j & 7));
    }
}

void bus_light_rx_init(bus_light_rx_t *rx)
{
    memset(rx, 0, sizeof *rx);
}

static void tx_drop_ids(bus_light_tx_t *tx, bus_light_pool_t *p)
{
    for (uint32_t id = 0; id < tx->next_id; id++) {
        uint32_t r = tx->ref_of_id[id];
        if (r < tx->id_of_ref_len) tx->id_of_ref[r] = 0;
        pool_release(p, r);
    }
    tx->next_id = 0;
}

void bus_light_tx_reset(bus_light_tx_t *tx, bus_light_pool_t *p)
{
    tx_drop_ids(tx, p);
    free(tx->id_of_ref);
    free(tx->ref_of_id);
    bus_light_tx_init(tx);
}

static void rx_drop_ids(bus_light_rx_t *rx, bus_light_pool_t *p)
{
    for (uint32_t id = 0; id < rx->nids; id++) {
        if (rx->ref_of_id[id]) pool_release(p, rx->ref_of_id[id] - 1);
        rx->ref_of_id[id] = 0;
    }
}

void bus_light_rx_reset(bus_light_rx_t *rx, bus_light_pool_t *p)
{
    rx_drop_ids(rx, p);
    free(rx->ref_of_id);
    free(rx->full);
    bus_light_rx_init(rx);
}

int bus_light_rx_export(bus_light_rx_t *rx, bus_light_pool_t *p, bus_light_rx_keys_t *out)
{
    memset(out, 0, sizeof *out);
    if (!rx->nids) return 0;
    out->key = malloc((size_t)rx->nids * BUS_LIGHT_TUPLE_LEN);
    out->has = calloc(rx->nids, 1);
    if (!out->key || !out->has) {
        free(out->key);
        free(out->has);
        memset(out, 0, sizeof *out);
        return -1;
    }
    out->nids = rx->nids;
    for (uint32_t id = 0; id < rx->nids; id++) {
        uint32_t r = rx->ref_of_id[id];
        if (!r || r - 1 >= p->n) continue;
        memcpy(out->key[id], p->t[r - 1].key, BUS_LIGHT_TUPLE_LEN);
        out->has[id] = 1;
        pool_release(p, r - 1);
        rx->ref_of_id[id] = 0;
    }
    return 0;
}

int bus_light_rx_import(bus_light_rx_t *rx, bus_light_pool_t *p, bus_light_rx_keys_t *in)
{
    int rc = 0;
    for (uint32_t id = 0; id < in->nids && id < rx->nids; id++) {
        if (!in->has[id]) continue;
        uint32_t r = pool_intern(p, in->key[id]);
        if (r == NONE) rc = -1;
        else rx->ref_of_id[id] = r + 1;
    }
    free(in->key);
    free(in->has);
    memset(in, 0, sizeof *in);
    return rc;
}

size_t bus_light_bound(size_t plain_len, unsigned count)
{
    /* the fixed part replaces sig, totlen and the header's other bytes: at
     * worst 224 + bitmap + 106 per entry + extensions */
    return plain_len + (BUS_LIGHT_HDR_LEN - (BUS_HEADER_LEN - BUS_SLOT_BYTES)) + 2u * (size_t)count + 8;
}

/* ---- encoder ---- */

/* Gives ref an id in tx; false when no id is left or memory ran out. */
static bool tx_assign(bus_light_tx_t *tx, uint32_t ref, uint16_t *id)
{
    if (tx->next_id >= BUS_LIGHT_MAX_IDS) return false;
    if (ref >= tx->id_of_ref_len) {
        uint32_t nl = tx->id_of_ref_len ? tx->id_of_ref_len : 256;
        while (nl <= ref) nl *= 2;
        uint16_t *n = realloc(tx->id_of_ref, (size_t)nl * sizeof *n);
        if (!n) return false;
        memset(n + tx->id_of_ref_len, 0, (size_t)(nl - tx->id_of_ref_len) * sizeof *n);
        tx->id_of_ref = n;
        tx->id_of_ref_len = nl;
    }
    if (tx->next_id % 256 == 0) {
        uint32_t *n = realloc(tx->ref_of_id, (size_t)(tx->next_id + 256) * sizeof *n);
        if (!n) return false;
        tx->ref_of_id = n;
    }
    *id = (uint16_t)tx->next_id;
    tx->ref_of_id[tx->next_id++] = ref;
    tx->id_of_ref[ref] = (uint16_t)(*id + 1);
    return true;
}

/* The bitmap section of a light frame about to be written at out + *pos:
 * present (SLOTS) the first time and whenever its digest changes; tx then
 * remembers the digest. Returns the flag to set. */
static uint8_t put_slots(bus_light_tx_t *tx, const uint8_t *slots, uint64_t digest, uint8_t *out, size_t *pos)
{
    /* Only the digest of the bitmap last sent is kept (2 KB less per link,
     * §9.4): a changed bitmap with the same 64-bit digest is as unlikely as
     * the view digests of §9.7 colliding. */
    if (tx->slots_valid && tx->slots_digest == digest) return 0;
    tx->slots_digest = digest;
    tx->slots_valid = true;
    memcpy(out + *pos, slots, BUS_SLOT_BYTES);
    *pos += BUS_SLOT_BYTES;
    return BUS_LIGHT_F_SLOTS;
}

/* The header bytes a light PUBLISH stands for: all but sig, totlen, the
 * bitmap and the body, with the type zeroed (it travels on its own, so
 * PUBLISH and PUBLISHSHARD share them). */
static void pub_head(const uint8_t *plain, uint8_t *head)
{
    memcpy(head, plain + BW_VER, BL_HEAD_A_LEN);
    memcpy(head + BL_HEAD_A_LEN, plain + BW_SLAVEOF, BL_HEAD_B_LEN);
    memset(head + (BW_TYPE - BW_VER), 0, 2);
}

/* A PUBLISH / PUBLISHSHARD (§9.8): 24 bytes, the header bytes when they
 * differ from the last ones sent on this link, the bitmap when its digest
 * does, then the body. Same ordering argument as §9.4: both ends change
 * head and bitmap only with the light frames of this connection. */
/* bus_light_slots_digest of slots, through the pool's memo of the last one. */
static uint64_t memo_digest(bus_light_pool_t *p, const uint8_t *slots)
{
    if (p->memo_valid && memcmp(p->memo_slots, slots, BUS_SLOT_BYTES) == 0) return p->memo_digest;
    p->memo_digest = bus_light_slots_digest(slots);
    memcpy(p->memo_slots, slots, BUS_SLOT_BYTES);
    p->memo_valid = true;
    p->digests++;
    return p->memo_digest;
}

static size_t pub_encode(bus_light_pool_t *p, bus_light_tx_t *tx, const uint8_t *in, size_t len, unsigned type,
                         uint8_t *out, size_t cap)
{
    if (len < BUS_PUBLISH_MIN_LEN || len > BUS_LIGHT_PUB_MAX || cap < bus_light_bound(len, 0)) return 0;
    uint8_t head[BUS_LIGHT_PUB_HEAD_LEN];
    pub_head(in, head);
    uint8_t flags = BUS_LIGHT_F_PUB;
    size_t pos = BUS_LIGHT_PUB_HDR_LEN;
    if (!tx->head_valid || memcmp(tx->head, head, sizeof head) != 0) {
        flags |= BUS_LIGHT_F_HEAD;
        memcpy(tx->head, head, sizeof head);
        tx->head_valid = true;
        memcpy(out + pos, head, sizeof head);
        pos += sizeof head;
    }
    uint64_t slots_digest = memo_digest(p, in + BW_MYSLOTS);
    flags |= put_slots(tx, in + BW_MYSLOTS, slots_digest, out, &pos);
    memcpy(out + BL_SIG, BUS_LIGHT_SIG, 4);
    out[BL_VERSION] = BUS_LIGHT_VERSION;
    out[BL_FLAGS] = flags;
    bw_put16(out + BL_PUB_TYPE, (uint16_t)type);
    memset(out + BL_PUB_TYPE + 2, 0, BL_DIGEST - BL_PUB_TYPE - 2);
    bw_put64(out + BL_DIGEST, slots_digest);
    memcpy(out + pos, in + BUS_HEADER_LEN, len - BUS_HEADER_LEN);
    pos += len - BUS_HEADER_LEN;
    bw_put32(out + BL_TOTLEN, (uint32_t)pos);
    return pos;
}

size_t bus_light_encode(bus_light_pool_t *p, bus_light_tx_t *tx, const uint8_t *in, size_t len,
                        uint8_t *out, size_t cap, const bus_light_view_t *view, uint64_t peer_v)
{
    if (len < BUS_HEADER_LEN || memcmp(in, BUS_SIG, 4) != 0) return 0;
    uint32_t totlen = bw_get32(in + BW_TOTLEN);
    unsigned type = bw_get16(in + BW_TYPE), count = bw_get16(in + BW_COUNT);
    if (totlen != len) return 0;
    if (type == BUS_PUBLISH || type == BUS_PUBLISHSHARD) return pub_encode(p, tx, in, len, type, out, cap);
    if (!bus_type_has_gossip(type)) return 0;
    size_t gossip_end = BUS_HEADER_LEN + (size_t)BUS_GOSSIP_LEN * count;
    if (gossip_end > len || cap < bus_light_bound(len, count)) return 0;

    uint8_t flags = 0;
    if (tx->reset_pending || tx->next_id + count > BUS_LIGHT_MAX_IDS) {
        /* out of ids (or told to): both sides start their dictionaries over */
        tx_drop_ids(tx, p);
        tx->reset_pending = false;
        flags |= BUS_LIGHT_F_RESET;
    }
    const uint8_t *slots = in + BW_MYSLOTS;
    size_t pos = BUS_LIGHT_HDR_LEN;
    uint64_t slots_digest = memo_digest(p, slots);
    flags |= put_slots(tx, slots, slots_digest, out, &pos);
    memcpy(out + BL_SIG, BUS_LIGHT_SIG, 4);
    out[BL_VERSION] = BUS_LIGHT_VERSION;
    out[BL_FLAGS] = flags;
    memset(out + BL_FLAGS + 1, 0, BL_DIGEST - BL_FLAGS - 1);
    bw_put64(out + BL_DIGEST, slots_digest);
    memcpy(out + BL_HEAD_A, in + BW_VER, BL_HEAD_A_LEN);
    memcpy(out + BL_HEAD_B, in + BW_SLAVEOF, BL_HEAD_B_LEN);

    /* by view only when both ends said they hold this very view (§9.7) */
    bool by_view = view && view->v && view->find && view->v == peer_v && bus_light_get_view(in, len) == view->v;
    uint8_t key[BUS_LIGHT_TUPLE_LEN];
    for (unsigned i = 0; i < count; i++) {
        const uint8_t *e = in + BUS_HEADER_LEN + (size_t)i * BUS_GOSSIP_LEN;
        entry_key(e, key);
        if (by_view) {
            const uint8_t *t = view->find(view->ctx, e);
            if (t && memcmp(t, key, BUS_LIGHT_TUPLE_LEN) == 0) {
                bw_put16(out + pos, BUS_LIGHT_VIEW_TAG);
                memcpy(out + pos + 2, e, BUS_LIGHT_FP_LEN);
                memcpy(out + pos + 2 + BUS_LIGHT_FP_LEN, e + BW_G_PING_SENT, 8);
                memcpy(out + pos + 10 + BUS_LIGHT_FP_LEN, e + BW_G_FLAGS, 2);
                pos += BUS_LIGHT_VIEW_LEN;
                continue;
            }
        }
        uint32_t ref = pool_intern(p, key);
        uint16_t id = BUS_LIGHT_NO_ID;
        if (ref != NONE) {
            if (ref < tx->id_of_ref_len && tx->id_of_ref[ref]) {
                /* the receiver holds this tuple: id, times and flags */
                pool_release(p, ref);
                bw_put16(out + pos, (uint16_t)(tx->id_of_ref[ref] - 1));
                memcpy(out + pos + 2, e + BW_G_PING_SENT, 8);
                memcpy(out + pos + 10, e + BW_G_FLAGS, 2);
                pos += BUS_LIGHT_COMPACT_LEN;
                continue;
            }
            if (!tx_assign(tx, ref, &id)) {
                pool_release(p, ref);
                id = BUS_LIGHT_NO_ID;
            }
        }
        bw_put16(out + pos, (uint16_t)(BL_FULL_BIT | id));
        memcpy(out + pos + 2, e, BUS_GOSSIP_LEN);
        pos += BUS_LIGHT_FULL_LEN;
    }
    memcpy(out + pos, in + gossip_end, len - gossip_end);   /* extension records as they are */
    pos += len - gossip_end;
    bw_put32(out + BL_TOTLEN, (uint32_t)pos);
    return pos;
}

/* ---- expander ---- */

/* Walks the entries of a light frame without changing anything: where the
 * extension records start, or 0 when the entries run past the frame. */
static size_t entries_end(const uint8_t *in, size_t totlen, size_t pos, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        if (totlen - pos < 2) return 0;
        unsigned tag = bw_get16(in + pos);
        size_t l = (tag & BL_FULL_BIT) ? BUS_LIGHT_FULL_LEN
                   : tag == BUS_LIGHT_VIEW_TAG ? BUS_LIGHT_VIEW_LEN : BUS_LIGHT_COMPACT_LEN;
        if (totlen - pos < l) return 0;
        pos += l;
    }
    return pos;
}

static size_t sections(const uint8_t *in, size_t len, size_t *gossip_at, size_t *ext_at, uint32_t *totlen)
{
    if (len < BUS_LIGHT_HDR_LEN || memcmp(in, BUS_LIGHT_SIG, 4) != 0) return 0;
    *totlen = bw_get32(in + BL_TOTLEN);
    if (*totlen < BUS_LIGHT_HDR_LEN || *totlen > len) return 0;
    size_t pos = BUS_LIGHT_HDR_LEN;
    if (in[BL_FLAGS] & BUS_LIGHT_F_SLOTS) {
        if (*totlen - pos < BUS_SLOT_BYTES) return 0;
        pos += BUS_SLOT_BYTES;
    }
    *gossip_at = pos;
    unsigned count = bw_get16(in + BL_COUNT);
    *ext_at = entries_end(in, *totlen, pos, count);
    if (*ext_at == 0) return 0;
    return BUS_HEADER_LEN + (size_t)BUS_GOSSIP_LEN * count + (*totlen - *ext_at);
}

/* A light PUBLISH's sections: where its body starts (0: they do not add up). */
static size_t pub_body_at(const uint8_t *in, size_t len, uint32_t *totlen)
{
    if (len < BUS_LIGHT_PUB_HDR_LEN || memcmp(in, BUS_LIGHT_SIG, 4) != 0) return 0;
    *totlen = bw_get32(in + BL_TOTLEN);
    if (*totlen > len) return 0;
    size_t at = BUS_LIGHT_PUB_HDR_LEN;
    if (in[BL_FLAGS] & BUS_LIGHT_F_HEAD) at += BUS_LIGHT_PUB_HEAD_LEN;
    if (in[BL_FLAGS] & BUS_LIGHT_F_SLOTS) at += BUS_SLOT_BYTES;
    /* the body holds at least the two lengths: the plain frame's minimum */
    if (*totlen < at || *totlen - at < BUS_PUBLISH_MIN_LEN - BUS_HEADER_LEN) return 0;
    return at;
}

size_t bus_light_plain_len(const uint8_t *in, size_t len)
{
    size_t g, x;
    uint32_t t;
    if (len > BL_FLAGS && (in[BL_FLAGS] & BUS_LIGHT_F_PUB)) {
        size_t at = pub_body_at(in, len, &t);
        return at ? BUS_HEADER_LEN + (t - at) : 0;
    }
    return sections(in, len, &g, &x, &t);
}

/* The bitmap a light frame stands for, from its SLOTS section at s (or
 * NULL) and its digest: taken into rx, or an error (never a guess). */
static int take_slots(bus_light_rx_t *rx, const uint8_t *s, uint64_t digest)
{
    if (s) {
        /* a full bitmap: checked against its own digest, then held */
        if (bus_light_slots_digest(s) != digest) return BUS_LIGHT_ERR_DIGEST;
        rx->slots_valid = false;                 /* until it is held whole */
        if (!rx_slots_hold(rx, s)) return BUS_LIGHT_ERR_NOMEM;
        rx->slots_digest = digest;
        rx->slots_valid = true;
    } else if (!rx->slots_valid || rx->slots_digest != digest) {
        return BUS_LIGHT_ERR_DIGEST;
    }
    return BUS_LIGHT_OK;
}

static int pub_expand(bus_light_rx_t *rx, const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    if (in[BL_FLAGS] & ~(BUS_LIGHT_F_PUB | BUS_LIGHT_F_HEAD | BUS_LIGHT_F_SLOTS)) return BUS_LIGHT_ERR_VERSION;
    unsigned type = bw_get16(in + BL_PUB_TYPE);
    if (type != BUS_PUBLISH && type != BUS_PUBLISHSHARD) return BUS_LIGHT_ERR_TYPE;
    uint32_t totlen;
    size_t at = pub_body_at(in, len, &totlen);
    if (at == 0) return BUS_LIGHT_ERR_SHORT;
    size_t plain = BUS_HEADER_LEN + (totlen - at);
    if (plain > cap || plain > UINT32_MAX) return BUS_LIGHT_ERR_TOO_BIG;
    size_t pos = BUS_LIGHT_PUB_HDR_LEN;
    if (in[BL_FLAGS] & BUS_LIGHT_F_HEAD) {
        memcpy(rx->head, in + pos, BUS_LIGHT_PUB_HEAD_LEN);
        rx->head_valid = true;
        pos += BUS_LIGHT_PUB_HEAD_LEN;
    } else if (!rx->head_valid) {
        return BUS_LIGHT_ERR_HEAD;
    }
    int r = take_slots(rx, (in[BL_FLAGS] & BUS_LIGHT_F_SLOTS) ? in + pos : NULL, bw_get64(in + BL_DIGEST));
    if (r != BUS_LIGHT_OK) return r;
    memcpy(out + BW_SIG, BUS_SIG, 4);
    bw_put32(out + BW_TOTLEN, (uint32_t)plain);
    memcpy(out + BW_VER, rx->head, BL_HEAD_A_LEN);
    bw_put16(out + BW_TYPE, (uint16_t)type);
    rx_slots_put(rx, out + BW_MYSLOTS);
    memcpy(out + BW_SLAVEOF, rx->head + BL_HEAD_A_LEN, BL_HEAD_B_LEN);
    memcpy(out + BUS_HEADER_LEN, in + at, totlen - at);
    *out_len = plain;
    return BUS_LIGHT_OK;
}

int bus_light_expand(bus_light_pool_t *p, bus_light_rx_t *rx, const uint8_t *in, size_t len,
                     uint8_t *out, size_t cap, size_t *out_len, const bus_light_view_t *view)
{
    *out_len = 0;
    if (len >= BUS_LIGHT_PUB_HDR_LEN && in[BL_VERSION] == BUS_LIGHT_VERSION && (in[BL_FLAGS] & BUS_LIGHT_F_PUB))
        return pub_expand(rx, in, len, out, cap, out_len);
    if (len < BUS_LIGHT_HDR_LEN) return BUS_LIGHT_ERR_SHORT;
    if (in[BL_VERSION] != BUS_LIGHT_VERSION || (in[BL_FLAGS] & ~(BUS_LIGHT_F_SLOTS | BUS_LIGHT_F_RESET)))
        return BUS_LIGHT_ERR_VERSION;
    if (!bus_type_has_gossip(bus_light_type(in))) return BUS_LIGHT_ERR_TYPE;
    size_t gossip_at, ext_at;
    uint32_t totlen;
    size_t plain = sections(in, len, &gossip_at, &ext_at, &totlen);
    if (plain == 0) return BUS_LIGHT_ERR_SHORT;
    if (plain > cap || plain > UINT32_MAX) return BUS_LIGHT_ERR_TOO_BIG;

    /* never stand in a bitmap we are not sure of */
    int sr = take_slots(rx, (in[BL_FLAGS] & BUS_LIGHT_F_SLOTS) ? in + BUS_LIGHT_HDR_LEN : NULL,
                        bw_get64(in + BL_DIGEST));
    if (sr != BUS_LIGHT_OK) return sr;
    if (in[BL_FLAGS] & BUS_LIGHT_F_RESET) rx_drop_ids(rx, p);

    memcpy(out + BW_SIG, BUS_SIG, 4);
    bw_put32(out + BW_TOTLEN, (uint32_t)plain);
    memcpy(out + BW_VER, in + BL_HEAD_A, BL_HEAD_A_LEN);
    rx_slots_put(rx, out + BW_MYSLOTS);
    memcpy(out + BW_SLAVEOF, in + BL_HEAD_B, BL_HEAD_B_LEN);

    unsigned count = bw_get16(in + BL_COUNT);
    size_t pos = gossip_at;
    uint8_t *e = out + BUS_HEADER_LEN;
    for (unsigned i = 0; i < count; i++, e += BUS_GOSSIP_LEN) {
        unsigned tag = bw_get16(in + pos);
        if (tag & BL_FULL_BIT) {
            unsigned id = tag & ~BL_FULL_BIT;
            memcpy(e, in + pos + 2, BUS_GOSSIP_LEN);
            pos += BUS_LIGHT_FULL_LEN;
            if (id == BUS_LIGHT_NO_ID) continue;
            if (id >= BUS_LIGHT_MAX_IDS) return BUS_LIGHT_ERR_ID;
            if (id >= rx->nids) {
                uint32_t nl = rx->nids ? rx->nids : 256;
                while (nl <= id) nl *= 2;
                uint32_t *n = realloc(rx->ref_of_id, (size_t)nl * sizeof *n);
                if (!n) return BUS_LIGHT_ERR_NOMEM;
                memset(n + rx->nids, 0, (size_t)(nl - rx->nids) * sizeof *n);
                rx->ref_of_id = n;
                rx->nids = nl;
            }
            uint8_t key[BUS_LIGHT_TUPLE_LEN];
            entry_key(e, key);
            uint32_t ref = pool_intern(p, key);
            if (ref == NONE) return BUS_LIGHT_ERR_NOMEM;
            if (rx->ref_of_id[id]) pool_release(p, rx->ref_of_id[id] - 1);
            rx->ref_of_id[id] = ref + 1;
        } else if (tag == BUS_LIGHT_VIEW_TAG) {
            /* the frame's view bytes are the sender's digest; ours must be
             * the same, or the fingerprint could name another tuple */
            if (!view || !view->v || !view->find || bw_get64(out + BUS_LIGHT_VIEW_OFF) != view->v)
                return BUS_LIGHT_ERR_VIEW;
            const uint8_t *t = view->find(view->ctx, in + pos + 2);
            if (!t) return BUS_LIGHT_ERR_VIEW;
            entry_from_key(e, t);
            memcpy(e + BW_G_PING_SENT, in + pos + 2 + BUS_LIGHT_FP_LEN, 8);
            memcpy(e + BW_G_FLAGS, in + pos + 10 + BUS_LIGHT_FP_LEN, 2);
            pos += BUS_LIGHT_VIEW_LEN;
        } else {
            if (tag >= rx->nids || rx->ref_of_id[tag] == 0) return BUS_LIGHT_ERR_ID;
            entry_from_key(e, p->t[rx->ref_of_id[tag] - 1].key);
            memcpy(e + BW_G_PING_SENT, in + pos + 2, 8);
            memcpy(e + BW_G_FLAGS, in + pos + 10, 2);
            pos += BUS_LIGHT_COMPACT_LEN;
        }
    }
    memcpy(e, in + ext_at, totlen - ext_at);
    *out_len = plain;
    return BUS_LIGHT_OK;
}

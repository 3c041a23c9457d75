/* bus_build.c - cluster-bus write side: encodes the header, gossip entries,
 * ping-extension records and every message type into a caller's buffer,
 * byte for byte as redis-server 7.0.15 lays them out (docs/cluster-bus.md
 * §2.5, §3, §4.6).
 *
 * Must never write past the capacity it is given, never emit a frame that a
 * 7.0.15 receiver would drop for its length (EXT_DATA exactly when records
 * follow, totlen exact, record lengths multiples of 8 below 65536), and
 * never allocate.
 */
#include <string.h>
#include "proto/bus.h"
#include "proto/bus_wire.h"

/* Writes a string into an n-byte NUL-padded field (buffer already zeroed). */
static void put_strfield(uint8_t *dst, const char *s, size_t n)
{
    memcpy(dst, s, strnlen(s, n));
}

void bus_header_encode(uint8_t *p, const bus_header_t *h)
{
    /* Every byte not written below (reserved areas, mflags[1..2] unless set)
     * must be zero, as a 7.0.15 sender leaves them. */
    memset(p, 0, BUS_HEADER_LEN);
    memcpy(p + BW_SIG, BUS_SIG, 4);
    bw_put32(p + BW_TOTLEN, h->totlen);
    bw_put16(p + BW_VER, BUS_PROTO_VER);
    bw_put16(p + BW_PORT, h->port);
    bw_put16(p + BW_TYPE, h->type);
    bw_put16(p + BW_COUNT, h->count);
    bw_put64(p + BW_CUR_EPOCH, h->current_epoch);
    bw_put64(p + BW_CFG_EPOCH, h->config_epoch);
    bw_put64(p + BW_OFFSET, h->offset);
    memcpy(p + BW_SENDER, h->sender, BUS_NAME_LEN);
    memcpy(p + BW_MYSLOTS, h->myslots, BUS_SLOT_BYTES);
    /* All-zero slaveof is what says "I am a master". */
    if (h->has_master) memcpy(p + BW_SLAVEOF, h->slaveof, BUS_NAME_LEN);
    put_strfield(p + BW_MYIP, h->myip, BUS_IP_LEN);
    bw_put16(p + BW_EXTENSIONS, h->extensions);
    bw_put16(p + BW_PPORT, h->pport);
    bw_put16(p + BW_CPORT, h->cport);
    bw_put16(p + BW_FLAGS, h->flags);
    p[BW_STATE] = h->state;
    memcpy(p + BW_MFLAGS, h->mflags, 3);
}

void bus_gossip_encode(uint8_t *p, const bus_gossip_t *g)
{
    memset(p, 0, BUS_GOSSIP_LEN);
    memcpy(p + BW_G_NAME, g->name, BUS_NAME_LEN);
    bw_put32(p + BW_G_PING_SENT, g->ping_sent);
    bw_put32(p + BW_G_PONG_RECV, g->pong_received);
    put_strfield(p + BW_G_IP, g->ip, BUS_IP_LEN);
    bw_put16(p + BW_G_PORT, g->port);
    bw_put16(p + BW_G_CPORT, g->cport);
    bw_put16(p + BW_G_FLAGS, g->flags);
    bw_put16(p + BW_G_PPORT, g->pport);
}

uint32_t bus_ext_record_len(size_t payload_len)
{
    /* 7.0.15 validates record lengths as 16-bit values: stay below 65536. */
    if (payload_len > BUS_EXT_MAX_RECORD - BUS_EXT_HDR_LEN) return 0;
    return (uint32_t)(BUS_EXT_HDR_LEN + ((payload_len + 7) & ~(size_t)7));
}

void bus_ext_hostname(bus_ext_t *ext, const char *hostname)
{
    /* Payload is the string and its terminating NUL; the record then pads
     * with zeros to a multiple of 8 (§4.4). */
    ext->type = BUS_EXT_HOSTNAME;
    ext->payload = (const uint8_t *)hostname;
    ext->len = (uint32_t)strlen(hostname) + 1;
}

size_t bus_ping_len(unsigned count, const bus_ext_t *exts, size_t n_exts)
{
    if (count > UINT16_MAX || n_exts > UINT16_MAX) return 0;
    uint64_t total = BUS_HEADER_LEN + (uint64_t)BUS_GOSSIP_LEN * count;
    for (size_t i = 0; i < n_exts; i++) {
        uint32_t l = bus_ext_record_len(exts[i].len);
        if (l == 0) return 0;
        total += l;
    }
    return total > UINT32_MAX ? 0 : (size_t)total;
}

/* Encodes the header and patches the fields the builder owns. */
static void put_header(uint8_t *buf, const bus_header_t *hdr, unsigned type, size_t totlen,
                       unsigned count, unsigned extensions)
{
    bus_header_encode(buf, hdr);
    bw_put32(buf + BW_TOTLEN, (uint32_t)totlen);
    bw_put16(buf + BW_TYPE, (uint16_t)type);
    bw_put16(buf + BW_COUNT, (uint16_t)count);
    bw_put16(buf + BW_EXTENSIONS, (uint16_t)extensions);
}

size_t bus_build_ping(uint8_t *buf, size_t cap, const bus_header_t *hdr, unsigned type,
                      const bus_gossip_t *gossip, unsigned count,
                      const bus_ext_t *exts, size_t n_exts)
{
    if (!bus_type_has_gossip(type)) return 0;
    size_t total = bus_ping_len(count, exts, n_exts);
    if (total == 0 || total > cap) return 0;
    put_header(buf, hdr, type, total, count, (unsigned)n_exts);
    /* EXT_DATA if and only if records follow: a 7.0.15 receiver drops a
     * frame whose records are not announced, and walks a count that is. */
    if (n_exts > 0) buf[BW_MFLAGS] |= BUS_MFLAG_EXT_DATA;
    else buf[BW_MFLAGS] &= (uint8_t)~BUS_MFLAG_EXT_DATA;
    uint8_t *p = buf + BW_DATA;
    for (unsigned i = 0; i < count; i++, p += BUS_GOSSIP_LEN) bus_gossip_encode(p, &gossip[i]);
    for (size_t i = 0; i < n_exts; i++) {
        uint32_t l = bus_ext_record_len(exts[i].len);
        memset(p, 0, l);
        bw_put32(p + BW_E_LENGTH, l);
        bw_put16(p + BW_E_TYPE, exts[i].type);
        if (exts[i].len) memcpy(p + BUS_EXT_HDR_LEN, exts[i].payload, exts[i].len);
        p += l;
    }
    return total;
}

size_t bus_build_fail(uint8_t *buf, size_t cap, const bus_header_t *hdr, const char *nodename40)
{
    if (cap < BUS_FAIL_LEN) return 0;
    put_header(buf, hdr, BUS_FAIL, BUS_FAIL_LEN, 0, 0);
    memcpy(buf + BW_FAIL_NAME, nodename40, BUS_NAME_LEN);
    return BUS_FAIL_LEN;
}

size_t bus_build_publish(uint8_t *buf, size_t cap, const bus_header_t *hdr, unsigned type,
                         const void *channel, size_t channel_len,
                         const void *message, size_t message_len)
{
    if (type != BUS_PUBLISH && type != BUS_PUBLISHSHARD) return 0;
    if (channel_len > UINT32_MAX || message_len > UINT32_MAX) return 0;
    uint64_t total = (uint64_t)BUS_PUBLISH_MIN_LEN + channel_len + message_len;
    if (total > UINT32_MAX || total > cap) return 0;
    put_header(buf, hdr, type, (size_t)total, 0, 0);
    bw_put32(buf + BW_PUB_CHANNEL_LEN, (uint32_t)channel_len);
    bw_put32(buf + BW_PUB_MESSAGE_LEN, (uint32_t)message_len);
    if (channel_len) memcpy(buf + BW_PUB_DATA, channel, channel_len);
    if (message_len) memcpy(buf + BW_PUB_DATA + channel_len, message, message_len);
    return (size_t)total;
}

size_t bus_build_update(uint8_t *buf, size_t cap, const bus_header_t *hdr, uint64_t config_epoch,
                        const char *nodename40, const uint8_t slots[BUS_SLOT_BYTES])
{
    if (cap < BUS_UPDATE_LEN) return 0;
    put_header(buf, hdr, BUS_UPDATE, BUS_UPDATE_LEN, 0, 0);
    bw_put64(buf + BW_UPD_CFG_EPOCH, config_epoch);
    memcpy(buf + BW_UPD_NAME, nodename40, BUS_NAME_LEN);
    memcpy(buf + BW_UPD_SLOTS, slots, BUS_SLOT_BYTES);
    return BUS_UPDATE_LEN;
}

static size_t build_header_only(uint8_t *buf, size_t cap, const bus_header_t *hdr, unsigned type)
{
    if (cap < BUS_HEADER_LEN) return 0;
    put_header(buf, hdr, type, BUS_HEADER_LEN, 0, 0);
    return BUS_HEADER_LEN;
}

size_t bus_build_auth_request(uint8_t *buf, size_t cap, const bus_header_t *hdr)
{
    return build_header_only(buf, cap, hdr, BUS_FAILOVER_AUTH_REQUEST);
}

size_t bus_build_auth_ack(uint8_t *buf, size_t cap, const bus_header_t *hdr)
{
    return build_header_only(buf, cap, hdr, BUS_FAILOVER_AUTH_ACK);
}

size_t bus_build_mfstart(uint8_t *buf, size_t cap, const bus_header_t *hdr)
{
    return build_header_only(buf, cap, hdr, BUS_MFSTART);
}

size_t bus_build_module(uint8_t *buf, size_t cap, const bus_header_t *hdr, uint64_t module_id,
                        uint8_t module_type, const void *payload, size_t len)
{
    if (len > UINT32_MAX) return 0;
    uint64_t total = (uint64_t)BUS_MODULE_MIN_LEN + len;
    if (total > UINT32_MAX || total > cap) return 0;
    put_header(buf, hdr, BUS_MODULE, (size_t)total, 0, 0);
    bw_put64le(buf + BW_MOD_ID, module_id);
    bw_put32(buf + BW_MOD_LEN, (uint32_t)len);
    buf[BW_MOD_TYPE] = module_type;
    if (len) memcpy(buf + BW_MOD_DATA, payload, len);
    return (size_t)total;
}

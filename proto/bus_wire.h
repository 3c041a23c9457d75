/* bus_wire.h - private to proto/bus*.c: byte offsets of the cluster-bus
 * header, gossip entry and bodies (docs/cluster-bus.md §2.1, §3), and the
 * explicit big-endian load/store helpers every field goes through.
 *
 * Never include this outside proto/bus*.c, and never cast a struct over a
 * wire buffer: offsets here are the only description of the layout.
 */
#ifndef SHOAL_PROTO_BUS_WIRE_H
#define SHOAL_PROTO_BUS_WIRE_H

#include <stdint.h>
#include "proto/bus.h"

/* header (§2.1) */
#define BW_SIG          0
#define BW_TOTLEN       4
#define BW_VER          8
#define BW_PORT         10
#define BW_TYPE         12
#define BW_COUNT        14
#define BW_CUR_EPOCH    16
#define BW_CFG_EPOCH    24
#define BW_OFFSET       32
#define BW_SENDER       40
#define BW_MYSLOTS      80
#define BW_SLAVEOF      2128
#define BW_MYIP         2168
#define BW_EXTENSIONS   2214
#define BW_RESERVED     2216
#define BW_PPORT        2246
#define BW_CPORT        2248
#define BW_FLAGS        2250
#define BW_STATE        2252
#define BW_MFLAGS       2253
#define BW_DATA         2256

/* gossip entry (§3.2), relative to the entry */
#define BW_G_NAME       0
#define BW_G_PING_SENT  40
#define BW_G_PONG_RECV  44
#define BW_G_IP         48
#define BW_G_PORT       94
#define BW_G_CPORT      96
#define BW_G_FLAGS      98
#define BW_G_PPORT      100

/* bodies (§3.3-§3.7), absolute */
#define BW_FAIL_NAME        2256
#define BW_PUB_CHANNEL_LEN  2256
#define BW_PUB_MESSAGE_LEN  2260
#define BW_PUB_DATA         2264
#define BW_UPD_CFG_EPOCH    2256
#define BW_UPD_NAME         2264
#define BW_UPD_SLOTS        2304
#define BW_MOD_ID           2256
#define BW_MOD_LEN          2264
#define BW_MOD_TYPE         2268
#define BW_MOD_DATA         2269

/* extension record (§4.3), relative to the record */
#define BW_E_LENGTH     0
#define BW_E_TYPE       4

/* The layout must tile exactly: each field ends where the next begins. */
_Static_assert(BW_SENDER + BUS_NAME_LEN == BW_MYSLOTS, "sender");
_Static_assert(BW_MYSLOTS + BUS_SLOT_BYTES == BW_SLAVEOF, "myslots");
_Static_assert(BW_SLAVEOF + BUS_NAME_LEN == BW_MYIP, "slaveof");
_Static_assert(BW_MYIP + BUS_IP_LEN == BW_EXTENSIONS, "myip");
_Static_assert(BW_RESERVED + 30 == BW_PPORT, "reserved");
_Static_assert(BW_MFLAGS + 3 == BW_DATA && BW_DATA == BUS_HEADER_LEN, "header");
_Static_assert(BW_G_IP + BUS_IP_LEN == BW_G_PORT && BW_G_PPORT + 4 == BUS_GOSSIP_LEN, "gossip");
_Static_assert(BW_UPD_SLOTS + BUS_SLOT_BYTES == BUS_UPDATE_LEN && BUS_UPDATE_LEN == BUS_FULL_LEN, "update");
_Static_assert(BW_FAIL_NAME + BUS_NAME_LEN == BUS_FAIL_LEN, "fail");
_Static_assert(BW_MOD_DATA == BUS_MODULE_MIN_LEN && BW_PUB_DATA == BUS_PUBLISH_MIN_LEN, "bodies");

static inline uint16_t bw_get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}
static inline uint32_t bw_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t bw_get64(const uint8_t *p)
{
    return (uint64_t)bw_get32(p) << 32 | bw_get32(p + 4);
}
/* MODULE's module_id is the one little-endian field (§3.7). */
static inline uint64_t bw_get64le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static inline void bw_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void bw_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void bw_put64(uint8_t *p, uint64_t v)
{
    bw_put32(p, (uint32_t)(v >> 32));
    bw_put32(p + 4, (uint32_t)v);
}
static inline void bw_put64le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) { p[i] = (uint8_t)v; v >>= 8; }
}

#endif

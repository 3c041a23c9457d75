/* slot.h - key to hash slot: CRC16 (XMODEM) and the hash-tag rule of Redis Cluster.
 * Pure: no I/O, no globals beyond a constant table. */
#ifndef SHOAL_PROTO_SLOT_H
#define SHOAL_PROTO_SLOT_H

#include <stddef.h>
#include <stdint.h>

#define SLOT_COUNT 16384

uint16_t slot_crc16(const uint8_t *buf, size_t len);
/* Slot of a key (0..16383), hashing only a non-empty {tag} when present. */
unsigned slot_of_key(const uint8_t *key, size_t len);

#endif

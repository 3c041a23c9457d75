/* ziplist.h - read-only decoding of Redis's ziplist and zipmap, the compact
 * encodings of RDB files written before Redis 7.0 (types HASH_ZIPMAP,
 * LIST_ZIPLIST, SET ... ZSET_ZIPLIST, HASH_ZIPLIST and the nodes of
 * LIST_QUICKLIST), which redis-server 7.0.15 still loads. Nothing writes
 * them any more, so there is no encoder.
 *
 * Ziplist layout: total bytes (u32 LE), offset of the last entry (u32 LE),
 * count (u16 LE, 65535 = "count them"), entries, 0xFF. An entry is the
 * previous entry's size (1 byte, or 0xFE and a u32), an encoding (strings:
 * 6-bit, 14-bit big-endian or 32-bit big-endian length; integers: 8, 16, 24,
 * 32, 64 bits little-endian, or 0..12 inside the encoding byte) and its data.
 *
 * Zipmap layout: a count byte (254+ = "count them"), then key/value pairs,
 * each length a byte (or 254 and a u32 LE), the value followed by a "free"
 * byte count of padding, and 0xFF.
 *
 * Pure: no I/O, no globals. The validators are total; the iterators trust
 * a block that its validator accepted.
 */
#ifndef SHOAL_PROTO_ZIPLIST_H
#define SHOAL_PROTO_ZIPLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proto/listpack.h"   /* lp_val_t: a string or an integer */

#define ZL_HDR_SIZE 10

/* Whether buf[0..len) is a well-formed ziplist (header total and tail
 * offset right, every entry inside with a right prevlen, 0xFF last); *count
 * (may be NULL) gets the number of entries. */
bool zl_validate(const uint8_t *buf, size_t len, size_t *count);
static inline size_t zl_first(const uint8_t *zl) { (void)zl; return ZL_HDR_SIZE; }
static inline bool zl_at_end(const uint8_t *zl, size_t off) { return zl[off] == 0xFF; }
size_t zl_next(const uint8_t *zl, size_t off);
lp_val_t zl_get(const uint8_t *zl, size_t off);

/* Whether buf[0..len) is a well-formed zipmap; *pairs (may be NULL) gets
 * the number of key/value pairs. */
bool zm_validate(const uint8_t *buf, size_t len, size_t *pairs);
/* Iterates a validated zipmap: *off starts at 1; returns false at the end. */
bool zm_next(const uint8_t *zm, size_t *off, lp_val_t *key, lp_val_t *value);

#endif

/* intset.h - Redis's intset: a sorted array of distinct integers in one
 * block, each 2, 4 or 8 bytes wide (the narrowest that fits every member),
 * byte-compatible with redis-server 7.0.15 (in-memory small sets of integers
 * and the payload of the RDB type SET_INTSET).
 *
 * Layout: encoding (u32 LE: 2, 4 or 8), length (u32 LE), then the members in
 * ascending order, little-endian. An intset is a malloc'ed uint8_t *.
 * Pure: no I/O, no globals; is_validate is total.
 */
#ifndef SHOAL_PROTO_INTSET_H
#define SHOAL_PROTO_INTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IS_HDR_SIZE 8

/* An empty intset (encoding 2). Caller frees with free(). Aborts on OOM. */
uint8_t *is_new(void);
/* Members. */
size_t is_len(const uint8_t *is);
/* Bytes of the whole block. */
size_t is_bytes(const uint8_t *is);
/* Member at position i (0 <= i < is_len). */
int64_t is_get(const uint8_t *is, size_t i);
/* Whether v is a member; *pos (may be NULL) gets its position or where it would go. */
bool is_find(const uint8_t *is, int64_t v, size_t *pos);
/* Adds v (widening the encoding if needed); *added (may be NULL) says if it was new. */
uint8_t *is_add(uint8_t *is, int64_t v, bool *added);
/* Removes v; *removed (may be NULL) says if it was there. */
uint8_t *is_remove(uint8_t *is, int64_t v, bool *removed);
/* Removes the member at position i. */
uint8_t *is_remove_at(uint8_t *is, size_t i);
/* Checks buf[0..len): known encoding, length matching len, at least one
 * member, members strictly ascending (Redis's deep check). */
bool is_validate(const uint8_t *buf, size_t len);
/* A copy of a validated payload. */
uint8_t *is_dup(const uint8_t *buf, size_t len);

#endif

/* bitops.h - the pure bit-level algorithms behind SETBIT, BITCOUNT, BITPOS,
 * BITOP and BITFIELD, with the semantics redis-server 7.0.15 gives them.
 *
 * A string is a bit array whose bit 0 is the most significant bit of byte
 * 0 (SETBIT's numbering). Nothing here allocates, touches a keyspace or
 * replies; the command code (actors/commands/cmd_bits.c) parses arguments
 * and owns the strings. Every function is safe from any thread.
 */
#ifndef SHOAL_PROTO_BITOPS_H
#define SHOAL_PROTO_BITOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Number of bits set in n bytes. */
long long bits_popcount(const uint8_t *p, size_t n);

/* Position of the first bit equal to `bit` (0 or 1) in n bytes. With bit 1
 * and none set: -1. With bit 0 and none clear: n * 8 (the string reads as
 * padded with zero bits on its right, so the first clear bit is just past
 * its end). */
long long bits_first(const uint8_t *p, size_t n, int bit);

/* BITCOUNT over a range: start/end are inclusive, may be negative (from the
 * end), in bytes or, with in_bits, in bits. The caller has already answered
 * the "both negative and start > end" case (it comes before the BIT/BYTE
 * check in 7.0.15). */
long long bits_count_range(const uint8_t *p, size_t len, long long start, long long end, bool in_bits);

/* BITPOS over a range. `end_given` says the caller gave an end: then a
 * search for 0 that finds none inside the range answers -1 instead of the
 * first bit past it. With !has_range, the whole string (start/end unused). */
long long bits_pos_range(const uint8_t *p, size_t len, int bit, bool has_range, long long start,
                         long long end, bool end_given, bool in_bits);

/* BITOP: dst[0..maxlen) = op over the n sources (shorter ones read as zero
 * bytes past their end). NOT takes exactly one source. */
enum bits_op { BITS_AND = 0, BITS_OR = 1, BITS_XOR = 2, BITS_NOT = 3 };
void bits_op(enum bits_op op, uint8_t *dst, size_t maxlen, const uint8_t *const *src,
             const size_t *lens, size_t n);

/* BITFIELD's integers: `width` bits (1..64) from bit `offset`, most
 * significant first. The get functions read bits past `len` as zero; the
 * set function needs the string to reach the field's last bit. */
uint64_t bits_get_u(const uint8_t *p, size_t len, uint64_t offset, unsigned width);
int64_t bits_get_i(const uint8_t *p, size_t len, uint64_t offset, unsigned width);
void bits_set_u(uint8_t *p, uint64_t offset, unsigned width, uint64_t value);

/* BITFIELD's overflow policies. */
enum bits_overflow { BITS_WRAP = 0, BITS_SAT = 1, BITS_FAIL = 2 };

/* Does value + incr fit in an unsigned (resp. signed) field of `width`
 * bits? 0 if it does, 1 on overflow, -1 on underflow; then *limit is what
 * WRAP or SAT store (untouched for FAIL). The tests are 7.0.15's exactly,
 * quirks included (a SET of a huge negative into a small signed field
 * counts as an overflow, so SAT stores the maximum). */
int bits_overflow_u(uint64_t value, int64_t incr, unsigned width, enum bits_overflow mode, uint64_t *limit);
int bits_overflow_i(int64_t value, int64_t incr, unsigned width, enum bits_overflow mode, int64_t *limit);

#endif

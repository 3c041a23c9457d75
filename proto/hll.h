/* hll.h - HyperLogLog values in the byte layout of redis-server 7.0.15, so
 * that PFADD/PFCOUNT/PFMERGE on shoal and on redis-server turn the same
 * inputs into the same bytes, and either counts the other's keys.
 *
 * Layout (a plain string value):
 *   bytes 0-3   "HYLL"
 *   byte 4      encoding: 0 dense, 1 sparse
 *   bytes 5-7   unused (kept as found)
 *   bytes 8-15  cached cardinality, little endian; the top bit of byte 15
 *               set means "stale, recompute"
 *   then        dense: 16384 registers of 6 bits, packed from the least
 *               significant bit of each byte up (12288 bytes);
 *               sparse: run-length opcodes covering the 16384 registers:
 *                 00xxxxxx           ZERO  - xxxxxx+1 (1..64) zero registers
 *                 01xxxxxx yyyyyyyy  XZERO - 14-bit count+1 (1..16384) zeros
 *                 1vvvvvxx           VAL   - xx+1 (1..4) registers of value vvvvv+1 (1..32)
 *
 * Elements hash with MurmurHash64A (seed 0xadc83b19); the low 14 bits pick
 * the register, the run of zero bits above them (plus one) is its value.
 * A sparse value turns dense when a register needs more than 32 or when an
 * update would make it longer than hll-sparse-max-bytes (header included).
 * Everything here is pure and thread-safe; buffers are the caller's.
 */
#ifndef SHOAL_PROTO_HLL_H
#define SHOAL_PROTO_HLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HLL_REGISTERS   16384
#define HLL_HDR_SIZE    16
#define HLL_DENSE_BYTES 12288                         /* 16384 * 6 / 8 */
#define HLL_DENSE_SIZE  (HLL_HDR_SIZE + HLL_DENSE_BYTES)
#define HLL_EMPTY_SIZE  (HLL_HDR_SIZE + 2)            /* one XZERO opcode */
enum { HLL_DENSE = 0, HLL_SPARSE = 1 };

/* A growable HLL value: len bytes used of cap, malloc'ed (realloc'ed by the
 * functions that change the size). */
typedef struct hll_buf {
    uint8_t *data;
    size_t len, cap;
} hll_buf_t;

/* The checks PFADD/PFCOUNT/PFMERGE make before touching a string: long
 * enough, "HYLL", a known encoding, and a dense one exactly 12304 bytes. A
 * sparse one that passes may still be corrupt (found later). */
bool hll_header_ok(const uint8_t *p, size_t len);

/* Fills b (freeing nothing) with a new, empty sparse HLL; the cache reads 0
 * and is valid. Returns false on allocation failure. */
bool hll_init(hll_buf_t *b);

uint64_t hll_murmur64a(const void *key, size_t len, uint64_t seed);
/* Register index (0..16383) and value (1..51) an element maps to. */
unsigned hll_pattern(const uint8_t *ele, size_t len, unsigned *index);

/* Dense registers (regs = the 12288 bytes after the header). */
unsigned hll_dense_get(const uint8_t *regs, unsigned index);
void hll_dense_put(uint8_t *regs, unsigned index, unsigned value);

/* Raises register `index` to `value` if it is lower, in either encoding;
 * a sparse value may grow (realloc) or turn dense. Returns 1 if it changed
 * (the cached cardinality is then not touched: PFADD/PFMERGE mark it stale),
 * 0 if not, -1 if the sparse opcodes are corrupt. */
int hll_set(hll_buf_t *b, unsigned index, unsigned value, size_t sparse_max);
/* hll_set for the element's register and value. */
int hll_add(hll_buf_t *b, const uint8_t *ele, size_t len, size_t sparse_max);

/* Sparse to dense in place (a no-op for dense): the header is kept, the
 * encoding byte excepted. Returns false, b unchanged, if the opcodes do not
 * cover exactly 16384 registers (or on allocation failure). */
bool hll_to_dense(hll_buf_t *b);

/* The estimate for an HLL value (header + registers). For a sparse value
 * whose opcodes do not cover exactly 16384 registers, *invalid becomes true
 * (if not NULL) and the number returned means nothing. */
uint64_t hll_count(const uint8_t *p, size_t len, bool *invalid);
/* The estimate for 16384 registers of one byte each (merged PFCOUNT). */
uint64_t hll_count_raw(const uint8_t *max);
/* max[i] = MAX(max[i], register i of the value). False for corrupt sparse
 * opcodes (max may be partly updated). */
bool hll_merge(uint8_t *max, const uint8_t *p, size_t len);

/* The cached cardinality in the header. */
bool hll_cache_valid(const uint8_t *p);
uint64_t hll_cache_get(const uint8_t *p);
void hll_cache_put(uint8_t *p, uint64_t card);
void hll_cache_invalidate(uint8_t *p);

/* PFDEBUG DECODE's text for a sparse value ("Z:16384", "z:3 v:2,1" ...), in
 * a malloc'ed NUL-terminated string; NULL on allocation failure. */
char *hll_sparse_describe(const uint8_t *p, size_t len);

#endif

/* listpack.h - Redis's listpack: a sequence of strings and integers in one
 * contiguous block, byte-compatible with redis-server 7.0.15 (the in-memory
 * form of small hashes, lists and sorted sets, and the payload of the RDB
 * types HASH_LISTPACK, ZSET_LISTPACK and LIST_QUICKLIST_2).
 *
 * Layout: total bytes (u32 LE), element count (u16 LE, 65535 = "count them"),
 * the entries, then 0xFF. Each entry is an encoding byte (with its data) and a
 * "backlen" (the entry's size, written so it can be read from the right).
 * A string that is the canonical decimal form of a 64-bit integer is stored
 * as an integer in the smallest encoding, as Redis does, so the bytes we build
 * equal Redis's for the same elements.
 *
 * A listpack is a malloc'ed uint8_t *; positions inside it are byte offsets
 * (size_t), which stay meaningful across the reallocs that insertion and
 * deletion do. Pure: no I/O, no globals. lp_validate is total: any bytes give
 * a verdict without reading past len.
 */
#ifndef SHOAL_PROTO_LISTPACK_H
#define SHOAL_PROTO_LISTPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LP_HDR_SIZE 6
#define LP_EOF 0xFF
#define LP_COUNT_UNKNOWN 65535

/* One element: a string (s != NULL, len bytes) or an integer (s == NULL, v). */
typedef struct lp_val {
    const uint8_t *s;
    size_t len;
    long long v;
} lp_val_t;

static inline lp_val_t lp_str(const void *s, size_t len) { lp_val_t x = { (const uint8_t *)s, len, 0 }; return x; }
static inline lp_val_t lp_int(long long v) { lp_val_t x = { NULL, 0, v }; return x; }

/* An empty listpack (7 bytes). Caller frees with free(). Aborts on OOM. */
uint8_t *lp_new(void);
/* A copy of len bytes (an RDB payload that lp_validate accepted). */
uint8_t *lp_dup(const uint8_t *buf, size_t len);
/* Total bytes, from the header. */
size_t lp_bytes(const uint8_t *lp);
/* Element count (walks the entries when the header says 65535). */
size_t lp_count(const uint8_t *lp);

/* Checks that buf[0..len) is a well-formed listpack: header total == len,
 * every entry inside, each backlen equal to its entry's size, 0xFF last, and
 * (unless the header says 65535) the count right. *count (may be NULL) gets
 * the element count. Returns true if valid. */
bool lp_validate(const uint8_t *buf, size_t len, size_t *count);

/* ---- iteration by offset ---- */
/* Offset of the first entry (== the end offset if empty). */
static inline size_t lp_first(const uint8_t *lp) { (void)lp; return LP_HDR_SIZE; }
/* True if off is the end (the 0xFF byte). */
static inline bool lp_at_end(const uint8_t *lp, size_t off) { return lp[off] == LP_EOF; }
/* Offset of the entry after the one at off (may be the end). */
size_t lp_next(const uint8_t *lp, size_t off);
/* Offset of the entry before the one at off (off may be the end), or 0 when off is the first. */
size_t lp_prev(const uint8_t *lp, size_t off);
/* Offset of the last entry, or 0 when empty. */
size_t lp_last(const uint8_t *lp);
/* Decodes the entry at off. Strings point into lp. */
lp_val_t lp_get(const uint8_t *lp, size_t off);
/* Offset of the i-th entry (negative counts from the end), or 0 if out of range. */
size_t lp_seek(const uint8_t *lp, long long i);

/* ---- comparison ---- */
/* Whether the entry value equals the bytes s[0..len) as Redis compares a
 * listpack entry with a string: integers by their decimal text. */
bool lp_val_eq(const lp_val_t *x, const uint8_t *s, size_t len);
/* Writes an integer entry's decimal text to buf (>= 21 bytes), or returns
 * the string; either way *len gets the length. */
const uint8_t *lp_val_bytes(const lp_val_t *x, uint8_t buf[21], size_t *len);
/* Offset of the first entry at or after off that equals s (stepping skip
 * entries between candidates: 1 for every entry, 2 for hash fields), or 0. */
size_t lp_find(const uint8_t *lp, size_t off, const uint8_t *s, size_t len, unsigned skip);

/* ---- changes (each may move the block: use the returned pointer) ---- */
/* Inserts v before the entry at off (off = the end offset appends). */
uint8_t *lp_insert(uint8_t *lp, size_t off, lp_val_t v);
/* Appends v as a string, stored as an integer when it is one (Redis's rule). */
uint8_t *lp_append(uint8_t *lp, lp_val_t v);
/* Replaces the entry at off by v. */
uint8_t *lp_replace(uint8_t *lp, size_t off, lp_val_t v);
/* Deletes n entries starting at off. */
uint8_t *lp_delete(uint8_t *lp, size_t off, size_t n);

/* Bytes an entry holding v takes (encoding, data and backlen). */
size_t lp_entry_size(lp_val_t v);

#endif

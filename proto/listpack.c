/* listpack.c - encode, decode, validate and edit listpacks (see listpack.h).
 *
 * The encodings, smallest first, as redis-server 7.0.15 picks them:
 *   0xxxxxxx                 integer 0..127
 *   10xxxxxx <data>          string up to 63 bytes
 *   110xxxxx yyyyyyyy        13-bit signed integer
 *   1110xxxx yyyyyyyy <data> string up to 4095 bytes
 *   11110000 <u32> <data>    longer string
 *   11110001..11110100       16/24/32/64-bit signed integer, little-endian
 * followed by the backlen: the size of encoding+data in 7-bit groups, the
 * lowest group last, every byte but the first with its high bit set.
 *
 * Must never read outside the block: the iteration helpers trust a block that
 * lp_validate accepted (or that this file built); lp_validate trusts nothing.
 */
#include <stdlib.h>
#include <string.h>
#include "proto/listpack.h"
#include "proto/strnum.h"

static uint32_t rd_u32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr_u32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
static unsigned rd_count(const uint8_t *lp) { return (unsigned)lp[4] | (unsigned)lp[5] << 8; }
static void wr_count(uint8_t *lp, unsigned n) { lp[4] = (uint8_t)n; lp[5] = (uint8_t)(n >> 8); }

static void *lp_alloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) abort();            /* as the rest of shoal: out of memory is fatal */
    return q;
}

uint8_t *lp_new(void)
{
    uint8_t *lp = lp_alloc(NULL, LP_HDR_SIZE + 1);
    wr_u32(lp, LP_HDR_SIZE + 1);
    wr_count(lp, 0);
    lp[LP_HDR_SIZE] = LP_EOF;
    return lp;
}

uint8_t *lp_dup(const uint8_t *buf, size_t len)
{
    uint8_t *lp = lp_alloc(NULL, len);
    memcpy(lp, buf, len);
    return lp;
}

size_t lp_bytes(const uint8_t *lp) { return rd_u32(lp); }

static size_t backlen_size(size_t l)
{
    return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/* Size of encoding+data of the entry starting with p[0] (p[1..4] read only
 * when the encoding says so); 0 for a byte that starts no entry. avail: bytes
 * readable at p (for the validator). */
static size_t enc_size(const uint8_t *p, size_t avail)
{
    uint8_t b = p[0];
    if (b < 0x80) return 1;
    if (b < 0xC0) return 1 + (size_t)(b & 0x3F);
    if (b < 0xE0) return 2;
    if (b < 0xF0) return avail < 2 ? 0 : 2 + ((size_t)(b & 0x0F) << 8 | p[1]);
    switch (b) {
    case 0xF0: return avail < 5 ? 0 : 5 + (size_t)rd_u32(p + 1);
    case 0xF1: return 3;
    case 0xF2: return 4;
    case 0xF3: return 5;
    case 0xF4: return 9;
    default: return 0;
    }
}

static size_t entry_total(const uint8_t *p)
{
    size_t e = enc_size(p, 5);
    return e + backlen_size(e);
}

/* The backlen whose last byte is at p, going left; at most 5 bytes and not
 * before `floor`. Returns false when malformed. */
static bool read_backlen(const uint8_t *p, const uint8_t *floor, size_t *out)
{
    size_t v = 0;
    for (unsigned shift = 0; shift < 35; shift += 7, p--) {
        if (p < floor) return false;
        v |= (size_t)(*p & 0x7F) << shift;
        if (!(*p & 0x80)) { *out = v; return true; }
    }
    return false;
}

static void write_backlen(uint8_t *p, size_t l)
{
    size_t n = backlen_size(l);
    for (size_t i = 0; i < n; i++) {
        size_t shift = 7 * (n - 1 - i);
        p[i] = (uint8_t)((l >> shift) & 0x7F) | (i ? 0x80 : 0);
    }
}

bool lp_validate(const uint8_t *buf, size_t len, size_t *count)
{
    if (len < LP_HDR_SIZE + 1 || rd_u32(buf) != len || buf[len - 1] != LP_EOF) return false;
    size_t off = LP_HDR_SIZE, n = 0;
    while (off < len - 1) {
        size_t e = enc_size(buf + off, len - 1 - off);
        if (e == 0 || e > len - 1 - off) return false;
        size_t bl = backlen_size(e), got;
        if (bl > len - 1 - off - e) return false;
        if (!read_backlen(buf + off + e + bl - 1, buf + off + e, &got) || got != e) return false;
        off += e + bl;
        n++;
    }
    unsigned hdr = rd_count(buf);
    if (hdr != LP_COUNT_UNKNOWN && hdr != n) return false;
    if (count) *count = n;
    return true;
}

size_t lp_count(const uint8_t *lp)
{
    unsigned hdr = rd_count(lp);
    if (hdr != LP_COUNT_UNKNOWN) return hdr;
    size_t n = 0;
    for (size_t off = LP_HDR_SIZE; !lp_at_end(lp, off); off = lp_next(lp, off)) n++;
    return n;
}

size_t lp_next(const uint8_t *lp, size_t off) { return off + entry_total(lp + off); }

size_t lp_prev(const uint8_t *lp, size_t off)
{
    if (off <= LP_HDR_SIZE) return 0;
    size_t e = 0;
    read_backlen(lp + off - 1, lp + LP_HDR_SIZE, &e);
    return off - e - backlen_size(e);
}

size_t lp_last(const uint8_t *lp) { return lp_prev(lp, lp_bytes(lp) - 1); }

static long long sign_extend(uint64_t u, unsigned bits)
{
    uint64_t m = 1ull << (bits - 1);
    return (long long)((u ^ m) - m);
}

lp_val_t lp_get(const uint8_t *lp, size_t off)
{
    const uint8_t *p = lp + off;
    uint8_t b = p[0];
    if (b < 0x80) return lp_int(b);
    if (b < 0xC0) return lp_str(p + 1, b & 0x3F);
    if (b < 0xE0) return lp_int(sign_extend((uint64_t)(b & 0x1F) << 8 | p[1], 13));
    if (b < 0xF0) return lp_str(p + 2, (size_t)(b & 0x0F) << 8 | p[1]);
    uint64_t u = 0;
    switch (b) {
    case 0xF0: return lp_str(p + 5, rd_u32(p + 1));
    case 0xF1: u = (uint64_t)p[1] | (uint64_t)p[2] << 8; return lp_int(sign_extend(u, 16));
    case 0xF2: u = (uint64_t)p[1] | (uint64_t)p[2] << 8 | (uint64_t)p[3] << 16; return lp_int(sign_extend(u, 24));
    case 0xF3: return lp_int((int32_t)rd_u32(p + 1));
    default:
        u = rd_u32(p + 1) | (uint64_t)rd_u32(p + 5) << 32;
        return lp_int((long long)u);
    }
}

size_t lp_seek(const uint8_t *lp, long long i)
{
    size_t off;
    if (i >= 0) {
        for (off = LP_HDR_SIZE; !lp_at_end(lp, off); off = lp_next(lp, off))
            if (i-- == 0) return off;
        return 0;
    }
    for (off = lp_last(lp); off; off = lp_prev(lp, off))
        if (++i == 0) return off;
    return 0;
}

/* ---- comparison ---- */

static size_t ll_text(long long v, uint8_t buf[21]) { return ll_to_str((char *)buf, v); }

const uint8_t *lp_val_bytes(const lp_val_t *x, uint8_t buf[21], size_t *len)
{
    if (x->s) { *len = x->len; return x->s; }
    *len = ll_text(x->v, buf);
    return buf;
}

bool lp_val_eq(const lp_val_t *x, const uint8_t *s, size_t len)
{
    if (x->s) return x->len == len && memcmp(x->s, s, len) == 0;
    long long v;
    return str_to_ll(s, len, &v) && v == x->v;
}

size_t lp_find(const uint8_t *lp, size_t off, const uint8_t *s, size_t len, unsigned skip)
{
    long long v;
    bool is_int = str_to_ll(s, len, &v);
    while (!lp_at_end(lp, off)) {
        lp_val_t x = lp_get(lp, off);
        if (x.s ? (!is_int && x.len == len && memcmp(x.s, s, len) == 0) : (is_int && x.v == v)) return off;
        for (unsigned k = 0; k < skip && !lp_at_end(lp, off); k++) off = lp_next(lp, off);
    }
    return 0;
}

/* ---- encoding ---- */

/* A string that is an integer's canonical text is stored as that integer. */
static lp_val_t normalize(lp_val_t v)
{
    long long n;
    if (v.s && v.len <= 20 && str_to_ll(v.s, v.len, &n)) return lp_int(n);
    return v;
}

/* Writes encoding+data of v (already normalized) at p (NULL: only measure). */
static size_t encode(lp_val_t v, uint8_t *p)
{
    if (v.s) {
        size_t n = v.len;
        size_t h = n < 64 ? 1 : n < 4096 ? 2 : 5;
        if (p) {
            if (h == 1) p[0] = (uint8_t)(0x80 | n);
            else if (h == 2) { p[0] = (uint8_t)(0xE0 | n >> 8); p[1] = (uint8_t)n; }
            else { p[0] = 0xF0; wr_u32(p + 1, (uint32_t)n); }
            memcpy(p + h, v.s, n);
        }
        return h + n;
    }
    long long x = v.v;
    uint64_t u = (uint64_t)x;
    size_t bytes;
    uint8_t tag;
    if (x >= 0 && x <= 127) { if (p) p[0] = (uint8_t)x; return 1; }
    if (x >= -4096 && x <= 4095) {
        if (p) { uint64_t w = u & 0x1FFF; p[0] = (uint8_t)(0xC0 | w >> 8); p[1] = (uint8_t)w; }
        return 2;
    }
    if (x >= -32768 && x <= 32767) { tag = 0xF1; bytes = 2; }
    else if (x >= -8388608 && x <= 8388607) { tag = 0xF2; bytes = 3; }
    else if (x >= INT32_MIN && x <= INT32_MAX) { tag = 0xF3; bytes = 4; }
    else { tag = 0xF4; bytes = 8; }
    if (p) {
        p[0] = tag;
        for (size_t i = 0; i < bytes; i++) p[1 + i] = (uint8_t)(u >> (8 * i));
    }
    return 1 + bytes;
}

size_t lp_entry_size(lp_val_t v)
{
    size_t e = encode(normalize(v), NULL);
    return e + backlen_size(e);
}

static void count_add(uint8_t *lp, long long d)
{
    unsigned n = rd_count(lp);
    if (n == LP_COUNT_UNKNOWN) return;
    long long m = (long long)n + d;
    wr_count(lp, m >= LP_COUNT_UNKNOWN ? LP_COUNT_UNKNOWN : (unsigned)m);
}

/* Replaces the `old` bytes at off by the entry for v (old = 0: insert). */
static uint8_t *splice(uint8_t *lp, size_t off, size_t old, lp_val_t v)
{
    v = normalize(v);
    size_t e = encode(v, NULL), tot = e + backlen_size(e), bytes = lp_bytes(lp);
    size_t nbytes = bytes - old + tot;
    if (nbytes > bytes) lp = lp_alloc(lp, nbytes);
    memmove(lp + off + tot, lp + off + old, bytes - off - old);
    if (nbytes < bytes) lp = lp_alloc(lp, nbytes);
    encode(v, lp + off);
    write_backlen(lp + off + e, e);
    wr_u32(lp, (uint32_t)nbytes);
    return lp;
}

uint8_t *lp_insert(uint8_t *lp, size_t off, lp_val_t v)
{
    lp = splice(lp, off, 0, v);
    count_add(lp, 1);
    return lp;
}

uint8_t *lp_append(uint8_t *lp, lp_val_t v) { return lp_insert(lp, lp_bytes(lp) - 1, v); }

uint8_t *lp_replace(uint8_t *lp, size_t off, lp_val_t v) { return splice(lp, off, entry_total(lp + off), v); }

uint8_t *lp_delete(uint8_t *lp, size_t off, size_t n)
{
    size_t end = off, k = 0;
    for (; k < n && !lp_at_end(lp, end); k++) end = lp_next(lp, end);
    size_t bytes = lp_bytes(lp);
    memmove(lp + off, lp + end, bytes - end);
    bytes -= end - off;
    lp = lp_alloc(lp, bytes);
    wr_u32(lp, (uint32_t)bytes);
    count_add(lp, -(long long)k);
    return lp;
}

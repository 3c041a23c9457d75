/* bitops.c - bit counting, searching, BITOP and BITFIELD integer access
 * (see bitops.h for the numbering and the 7.0.15 semantics kept here). */
#include "proto/bitops.h"
#include <string.h>

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);       /* any alignment */
    return w;
}

static inline void store64(uint8_t *p, uint64_t w) { memcpy(p, &w, sizeof w); }

/* Bits set in one word, by halving sums (no popcount instruction is assumed:
 * the build targets plain x86-64). */
static inline uint64_t swar_count(uint64_t w)
{
    w = w - ((w >> 1) & 0x5555555555555555ULL);
    w = (w & 0x3333333333333333ULL) + ((w >> 2) & 0x3333333333333333ULL);
    w = (w + (w >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (w * 0x0101010101010101ULL) >> 56;
}

long long bits_popcount(const uint8_t *p, size_t n)
{
    long long bits = 0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        bits += (long long)(swar_count(load64(p + i)) + swar_count(load64(p + i + 8)) +
                            swar_count(load64(p + i + 16)) + swar_count(load64(p + i + 24)));
    for (; i + 8 <= n; i += 8) bits += (long long)swar_count(load64(p + i));
    for (; i < n; i++) bits += __builtin_popcount(p[i]);
    return bits;
}

long long bits_first(const uint8_t *p, size_t n, int bit)
{
    /* Skip whole words, then whole bytes, that cannot hold the bit. */
    uint8_t skip = bit ? 0x00 : 0xff;
    uint64_t wskip = bit ? 0 : UINT64_MAX;
    size_t i = 0;
    while (i + 32 <= n && load64(p + i) == wskip && load64(p + i + 8) == wskip &&
           load64(p + i + 16) == wskip && load64(p + i + 24) == wskip)
        i += 32;
    while (i + 8 <= n && load64(p + i) == wskip) i += 8;
    while (i < n && p[i] == skip) i++;
    if (i == n) return bit ? -1 : (long long)n * 8;
    for (int j = 0; j < 8; j++)
        if (((p[i] >> (7 - j)) & 1) == bit) return (long long)i * 8 + j;
    return -1;                     /* unreachable: p[i] != skip holds such a bit */
}

/* The shared range arithmetic of BITCOUNT and BITPOS: negative indexes from
 * the end, clamping, then for bit ranges the byte span plus masks of the bits
 * of the first and last bytes that lie outside the range. */
typedef struct bit_range {
    long long start, end;          /* bytes, inclusive; start > end when empty */
    uint8_t first_out, last_out;   /* bits of p[start] / p[end] outside the range */
} bit_range_t;

static bit_range_t normalize(long long totlen, long long start, long long end, bool in_bits)
{
    bit_range_t r = { 0, 0, 0, 0 };
    if (in_bits) totlen <<= 3;
    if (start < 0) start += totlen;
    if (end < 0) end += totlen;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= totlen) end = totlen - 1;
    if (in_bits && start <= end) {
        r.first_out = (uint8_t)(~((1u << (8 - (start & 7))) - 1) & 0xff);
        r.last_out = (uint8_t)((1u << (7 - (end & 7))) - 1);
        start >>= 3;
        end >>= 3;
    }
    r.start = start;
    r.end = end;
    return r;
}

long long bits_count_range(const uint8_t *p, size_t len, long long start, long long end, bool in_bits)
{
    bit_range_t r = normalize((long long)len, start, end, in_bits);
    if (r.start > r.end) return 0;
    long long count = bits_popcount(p + r.start, (size_t)(r.end - r.start + 1));
    count -= __builtin_popcount(p[r.start] & r.first_out);
    count -= __builtin_popcount(p[r.end] & r.last_out);
    return count;
}

/* One edge byte with its outside bits forced to the value not searched for. */
static uint8_t edge_byte(uint8_t b, uint8_t outside, int bit)
{
    return bit ? (uint8_t)(b & ~outside) : (uint8_t)(b | outside);
}

long long bits_pos_range(const uint8_t *p, size_t len, int bit, bool has_range, long long start,
                         long long end, bool end_given, bool in_bits)
{
    bit_range_t r = { 0, (long long)len - 1, 0, 0 };
    if (has_range) {
        long long totlen = (long long)len;
        if (!end_given) end = in_bits ? (totlen << 3) + 7 : totlen - 1;
        r = normalize(totlen, start, end, in_bits);
    }
    if (r.start > r.end) return -1;
    long long s = r.start, bytes = r.end - r.start + 1, pos;
    /* The search goes in up to three pieces (a masked first byte, the whole
     * bytes, a masked last byte) and stops at the first piece that answers,
     * as 7.0.15 does; `s` and `bytes` then describe what was left, which the
     * "no clear bit in an explicit range" test below depends on. */
    if (r.first_out) {
        uint8_t b = edge_byte(p[s], r.first_out, bit);
        if (r.last_out && bytes == 1) b = edge_byte(b, r.last_out, bit);
        pos = bits_first(&b, 1, bit);
        if (bytes == 1 || (pos != -1 && pos != 8)) goto result;
        s++;
        bytes--;
    }
    long long whole = bytes - (r.last_out ? 1 : 0);
    if (whole > 0) {
        pos = bits_first(p + s, (size_t)whole, bit);
        if (bytes == whole || (pos != -1 && pos != whole << 3)) goto result;
        s += whole;
        bytes -= whole;
    }
    uint8_t last = edge_byte(p[r.end], r.last_out, bit);
    pos = bits_first(&last, 1, bit);
result:
    if (end_given && bit == 0 && pos == bytes << 3) return -1;
    return pos == -1 ? -1 : pos + (s << 3);
}

void bits_op(enum bits_op op, uint8_t *dst, size_t maxlen, const uint8_t *const *src,
             const size_t *lens, size_t n)
{
    size_t l0 = lens[0] < maxlen ? lens[0] : maxlen;
    if (l0) memcpy(dst, src[0], l0);
    memset(dst + l0, 0, maxlen - l0);
    if (op == BITS_NOT) {
        size_t j = 0;
        for (; j + 8 <= maxlen; j += 8) store64(dst + j, ~load64(dst + j));
        for (; j < maxlen; j++) dst[j] = (uint8_t)~dst[j];
        return;
    }
    for (size_t i = 1; i < n; i++) {
        size_t li = lens[i] < maxlen ? lens[i] : maxlen;
        const uint8_t *s = src[i];
        size_t j = 0;
        /* A word at a time, then the tail bytes. */
        switch (op) {
        case BITS_AND:
            for (; j + 8 <= li; j += 8) store64(dst + j, load64(dst + j) & load64(s + j));
            for (; j < li; j++) dst[j] &= s[j];
            memset(dst + li, 0, maxlen - li);      /* a shorter source is zeros there */
            break;
        case BITS_OR:
            for (; j + 8 <= li; j += 8) store64(dst + j, load64(dst + j) | load64(s + j));
            for (; j < li; j++) dst[j] |= s[j];
            break;
        default:
            for (; j + 8 <= li; j += 8) store64(dst + j, load64(dst + j) ^ load64(s + j));
            for (; j < li; j++) dst[j] ^= s[j];
            break;
        }
    }
}

uint64_t bits_get_u(const uint8_t *p, size_t len, uint64_t offset, unsigned width)
{
    uint64_t v = 0;
    for (unsigned j = 0; j < width; j++, offset++) {
        uint64_t byte = offset >> 3;
        unsigned b = byte < len ? (p[byte] >> (7 - (offset & 7))) & 1 : 0;
        v = (v << 1) | b;
    }
    return v;
}

int64_t bits_get_i(const uint8_t *p, size_t len, uint64_t offset, unsigned width)
{
    uint64_t u = bits_get_u(p, len, offset, width);
    /* Sign-extend from the field's top bit (two's complement). */
    if (width < 64 && (u & ((uint64_t)1 << (width - 1)))) u |= UINT64_MAX << width;
    return (int64_t)u;
}

void bits_set_u(uint8_t *p, uint64_t offset, unsigned width, uint64_t value)
{
    for (unsigned j = 0; j < width; j++, offset++) {
        unsigned b = (value >> (width - 1 - j)) & 1;
        unsigned shift = 7 - (unsigned)(offset & 7);
        p[offset >> 3] = (uint8_t)((p[offset >> 3] & ~(1u << shift)) | (b << shift));
    }
}

int bits_overflow_u(uint64_t value, int64_t incr, unsigned width, enum bits_overflow mode, uint64_t *limit)
{
    uint64_t max = width == 64 ? UINT64_MAX : ((uint64_t)1 << width) - 1;
    /* 7.0.15 keeps these two in signed 64-bit variables, wrapping. */
    int64_t maxincr = (int64_t)(max - value);
    int64_t minincr = (int64_t)(0 - value);
    int r;
    if (value > max || (incr > 0 && incr > maxincr)) r = 1;
    else if (incr < 0 && incr < minincr) r = -1;
    else return 0;
    if (mode == BITS_WRAP) {
        uint64_t keep = width == 64 ? UINT64_MAX : ((uint64_t)1 << width) - 1;
        *limit = (value + (uint64_t)incr) & keep;
        return 1;                  /* 7.0.15 answers 1 for a wrapped underflow too */
    }
    if (mode == BITS_SAT) *limit = r > 0 ? max : 0;
    return r;
}

int bits_overflow_i(int64_t value, int64_t incr, unsigned width, enum bits_overflow mode, int64_t *limit)
{
    int64_t max = width == 64 ? INT64_MAX : (int64_t)(((uint64_t)1 << (width - 1)) - 1);
    int64_t min = -max - 1;
    /* Both may wrap; 7.0.15 only relies on them once `value` is in range,
     * but its tests read them regardless, so they wrap here too. */
    int64_t maxincr = (int64_t)((uint64_t)max - (uint64_t)value);
    int64_t minincr = (int64_t)((uint64_t)min - (uint64_t)value);
    int r;
    if (value > max || (width != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr)) r = 1;
    else if (value < min || (width != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr)) r = -1;
    else return 0;
    if (mode == BITS_WRAP) {
        uint64_t c = (uint64_t)value + (uint64_t)incr;
        if (width < 64) {
            uint64_t high = UINT64_MAX << width;
            c = (c & ((uint64_t)1 << (width - 1))) ? (c | high) : (c & ~high);
        }
        *limit = (int64_t)c;
        return 1;
    }
    if (mode == BITS_SAT) *limit = r > 0 ? max : min;
    return r;
}

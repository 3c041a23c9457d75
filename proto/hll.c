/* hll.c - HyperLogLog encoding, update and estimation, byte-compatible with
 * redis-server 7.0.15 (layout and rules in hll.h).
 *
 * Byte compatibility reaches into the details: where a sparse update splits
 * an opcode, how far it looks for neighbours to merge afterwards, what a
 * conversion to dense keeps of the header, and the estimator's floating
 * point steps all follow 7.0.15, because replicas, DUMP payloads and clients
 * comparing GET bytes see every one of them.
 *
 * Corrupt sparse values: the redis-server 7.0.15 we compare with carries the
 * fix for CVE-2025-32023, under which any opcode that would run past
 * register 16383 makes the value corrupt (not only a VAL opcode, as in the
 * original 7.0.15 source). That is what the walks below implement.
 */
#include "proto/hll.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HLL_P          14
#define HLL_Q          (64 - HLL_P)          /* hash bits above the index */
#define HLL_REG_MAX    63
#define HLL_SEED       0xadc83b19ULL
#define ALPHA_INF      0.721347520444481703680  /* 0.5 / ln 2 */
#define VAL_MAX_VALUE  32
#define VAL_MAX_LEN    4
#define ZERO_MAX_LEN   64

/* Opcode tests and fields. */
#define IS_ZERO(b)     (((b) & 0xc0) == 0x00)
#define IS_XZERO(b)    (((b) & 0xc0) == 0x40)
#define IS_VAL(b)      (((b) & 0x80) != 0)
#define ZERO_LEN(b)    ((unsigned)((b) & 0x3f) + 1)
#define XZERO_LEN(b, c) (((((unsigned)(b) & 0x3f) << 8) | (c)) + 1)
#define VAL_VALUE(b)   ((unsigned)(((b) >> 2) & 0x1f) + 1)
#define VAL_LEN(b)     ((unsigned)((b) & 0x3) + 1)

static inline uint8_t op_val(unsigned value, unsigned len) { return (uint8_t)(0x80 | ((value - 1) << 2) | (len - 1)); }
static inline uint8_t op_zero(unsigned len) { return (uint8_t)(len - 1); }

static void *xre(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) abort();              /* as Redis's zmalloc: out of memory is fatal */
    return q;
}

static void reserve(hll_buf_t *b, size_t need)
{
    if (b->cap >= need) return;
    size_t cap = need < 64 ? 64 : need + need / 4;
    b->data = xre(b->data, cap);
    b->cap = cap;
}

/* A byte of the value, or 0 past its end: 7.0.15 reads one byte past a
 * trailing XZERO's first byte (its strings end in a NUL), so we read the
 * same 0 instead of running off the buffer. */
static inline unsigned byte_at(const uint8_t *p, size_t len, size_t i) { return i < len ? p[i] : 0; }

/* How many registers the opcode at p[i] covers. */
static unsigned opcode_run(const uint8_t *p, size_t len, size_t i)
{
    unsigned op = p[i];
    if (IS_ZERO(op)) return ZERO_LEN(op);
    if (IS_XZERO(op)) return XZERO_LEN(op, byte_at(p, len, i + 1));
    return VAL_LEN(op);
}

bool hll_header_ok(const uint8_t *p, size_t len)
{
    if (len < HLL_HDR_SIZE || memcmp(p, "HYLL", 4) != 0 || p[4] > HLL_SPARSE) return false;
    return p[4] != HLL_DENSE || len == HLL_DENSE_SIZE;
}

bool hll_init(hll_buf_t *b)
{
    b->data = NULL;
    b->cap = 0;
    reserve(b, HLL_EMPTY_SIZE + 3);
    memset(b->data, 0, HLL_EMPTY_SIZE);
    memcpy(b->data, "HYLL", 4);
    b->data[4] = HLL_SPARSE;
    b->data[HLL_HDR_SIZE] = (uint8_t)(0x40 | ((HLL_REGISTERS - 1) >> 8));
    b->data[HLL_HDR_SIZE + 1] = (uint8_t)((HLL_REGISTERS - 1) & 0xff);
    b->len = HLL_EMPTY_SIZE;
    return true;
}

/* MurmurHash2, 64-bit variant (Austin Appleby's MurmurHash64A), reading
 * words little endian whatever the host, as Redis's copy does. */
uint64_t hll_murmur64a(const void *key, size_t len, uint64_t seed)
{
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    const int r = 47;
    const uint8_t *d = key;
    /* Redis passes the length as an int: a length's low 32 bits, sign-extended. */
    uint64_t h = seed ^ ((uint64_t)(int64_t)(int)len * m);
    size_t words = len / 8;
    for (size_t i = 0; i < words; i++, d += 8) {
        uint64_t k = 0;
        for (int j = 7; j >= 0; j--) k = (k << 8) | d[j];
        k *= m;
        k ^= k >> r;
        k *= m;
        h ^= k;
        h *= m;
    }
    size_t rest = len & 7;
    if (rest) {
        for (size_t j = rest; j-- > 0;) h ^= (uint64_t)d[j] << (8 * j);
        h *= m;
    }
    h ^= h >> r;
    h *= m;
    h ^= h >> r;
    return h;
}

unsigned hll_pattern(const uint8_t *ele, size_t len, unsigned *index)
{
    uint64_t hash = hll_murmur64a(ele, len, HLL_SEED);
    *index = (unsigned)(hash & (HLL_REGISTERS - 1));
    hash >>= HLL_P;
    hash |= (uint64_t)1 << HLL_Q;  /* caps the run at Q + 1 */
    return (unsigned)__builtin_ctzll(hash) + 1;
}

unsigned hll_dense_get(const uint8_t *regs, unsigned index)
{
    unsigned bit = index * 6, byte = bit / 8, shift = bit & 7;
    unsigned b0 = regs[byte], b1 = byte + 1 < HLL_DENSE_BYTES ? regs[byte + 1] : 0;
    return ((b0 >> shift) | (b1 << (8 - shift))) & HLL_REG_MAX;
}

void hll_dense_put(uint8_t *regs, unsigned index, unsigned value)
{
    unsigned bit = index * 6, byte = bit / 8, shift = bit & 7;
    regs[byte] = (uint8_t)((regs[byte] & ~(HLL_REG_MAX << shift)) | (value << shift));
    /* The last register fits in the last byte; nothing spills past it. */
    if (byte + 1 < HLL_DENSE_BYTES)
        regs[byte + 1] = (uint8_t)((regs[byte + 1] & ~(HLL_REG_MAX >> (8 - shift))) | (value >> (8 - shift)));
}

static int dense_raise(uint8_t *regs, unsigned index, unsigned value)
{
    if (value <= hll_dense_get(regs, index)) return 0;
    hll_dense_put(regs, index, value);
    return 1;
}

bool hll_to_dense(hll_buf_t *b)
{
    if (b->data[4] == HLL_DENSE) return true;
    uint8_t *dense = calloc(1, HLL_DENSE_SIZE);
    if (!dense) abort();
    memcpy(dense, b->data, HLL_HDR_SIZE);      /* magic, unused bytes and cache kept */
    dense[4] = HLL_DENSE;
    const uint8_t *p = b->data;
    size_t i = HLL_HDR_SIZE, len = b->len;
    unsigned idx = 0;
    bool valid = true;
    while (i < len) {
        unsigned op = p[i], run = opcode_run(p, len, i);
        if (run + idx > HLL_REGISTERS) {
            valid = false;
            break;
        }
        if (IS_VAL(op))
            for (unsigned k = 0; k < run; k++) hll_dense_put(dense + HLL_HDR_SIZE, idx + k, VAL_VALUE(op));
        idx += run;
        i += IS_XZERO(op) ? 2 : 1;
    }
    if (!valid || idx != HLL_REGISTERS) {
        free(dense);
        return false;
    }
    free(b->data);
    b->data = dense;
    b->len = b->cap = HLL_DENSE_SIZE;
    return true;
}

/* After an update at the opcode that followed `from`, joins adjacent VAL
 * opcodes of one value whose runs fit in one, looking at no more than five
 * opcodes, as 7.0.15 does (so both produce the same bytes). */
static void sparse_merge_neighbours(hll_buf_t *b, size_t from)
{
    uint8_t *d = b->data;
    size_t p = from, end = b->len;
    int scan = 5;
    while (p < end && scan--) {
        if (IS_XZERO(d[p])) { p += 2; continue; }
        if (IS_ZERO(d[p])) { p++; continue; }
        if (p + 1 < end && IS_VAL(d[p + 1]) && VAL_VALUE(d[p]) == VAL_VALUE(d[p + 1])) {
            unsigned run = VAL_LEN(d[p]) + VAL_LEN(d[p + 1]);
            if (run <= VAL_MAX_LEN) {
                d[p + 1] = op_val(VAL_VALUE(d[p]), run);
                memmove(d + p, d + p + 1, end - p - 1);
                b->len--;
                end--;
                continue;          /* try the joined opcode with its next one */
            }
        }
        p++;
    }
}

/* A zero run of `len` registers as ZERO or XZERO; returns the bytes written. */
static int put_zeros(uint8_t *out, unsigned len)
{
    if (len > ZERO_MAX_LEN) {
        out[0] = (uint8_t)(0x40 | ((len - 1) >> 8));
        out[1] = (uint8_t)((len - 1) & 0xff);
        return 2;
    }
    out[0] = op_zero(len);
    return 1;
}

/* The opcodes that replace the one covering registers first..last (kind
 * ZERO/XZERO, or VAL of value `cur`) when register `index` becomes `value`.
 * Returns their length (at most 5). */
static int split_opcode(uint8_t *seq, bool is_val, unsigned cur, unsigned first, unsigned last,
                        unsigned index, unsigned value)
{
    int n = 0;
    if (index != first) {
        if (is_val) seq[n++] = op_val(cur, index - first);
        else n += put_zeros(seq + n, index - first);
    }
    seq[n++] = op_val(value, 1);
    if (index != last) {
        if (is_val) seq[n++] = op_val(cur, last - index);
        else n += put_zeros(seq + n, last - index);
    }
    return n;
}

static int sparse_promote(hll_buf_t *b, unsigned index, unsigned value)
{
    if (!hll_to_dense(b)) return -1;
    /* The register was lower than value (that is why the sparse form could
     * not hold the update), so the dense one changes: always a change. */
    dense_raise(b->data + HLL_HDR_SIZE, index, value);
    return 1;
}

static int sparse_set(hll_buf_t *b, unsigned index, unsigned value, size_t sparse_max)
{
    if (value > VAL_MAX_VALUE) return sparse_promote(b, index, value);
    reserve(b, b->len + 3);        /* the worst split adds 3 bytes */
    uint8_t *d = b->data;
    size_t p = HLL_HDR_SIZE, end = b->len, prev = 0;
    bool has_prev = false;
    unsigned first = 0, span = 0;
    /* Find the opcode covering register `index`. */
    while (p < end) {
        size_t oplen = 1;
        if (IS_ZERO(d[p])) span = ZERO_LEN(d[p]);
        else if (IS_VAL(d[p])) span = VAL_LEN(d[p]);
        else { span = XZERO_LEN(d[p], byte_at(d, end, p + 1)); oplen = 2; }
        if (index <= first + span - 1) break;
        prev = p;
        has_prev = true;
        p += oplen;
        first += span;
    }
    if (span == 0 || p >= end) return -1;
    bool is_val = IS_VAL(d[p]), is_xzero = IS_XZERO(d[p]);
    size_t next = p + (is_xzero ? 2 : 1);
    bool has_next = next < end;
    unsigned run = is_val ? VAL_LEN(d[p]) : is_xzero ? span : ZERO_LEN(d[p]);
    if (is_val && VAL_VALUE(d[p]) >= value) return 0;
    if (run == 1 && !is_xzero) {
        d[p] = op_val(value, 1);   /* a lone register: rewrite it in place */
    } else {
        uint8_t seq[5];
        int seqlen = split_opcode(seq, is_val, is_val ? VAL_VALUE(d[p]) : 0, first,
                                  first + span - 1, index, value);
        long delta = seqlen - (is_xzero ? 2 : 1);
        if (delta > 0 && b->len + (size_t)delta > sparse_max) return sparse_promote(b, index, value);
        if (delta && has_next) memmove(d + next + delta, d + next, end - next);
        b->len = (size_t)((long)b->len + delta);
        memcpy(d + p, seq, (size_t)seqlen);
    }
    sparse_merge_neighbours(b, has_prev ? prev : HLL_HDR_SIZE);
    hll_cache_invalidate(b->data);
    return 1;
}

int hll_set(hll_buf_t *b, unsigned index, unsigned value, size_t sparse_max)
{
    switch (b->data[4]) {
    case HLL_DENSE: return dense_raise(b->data + HLL_HDR_SIZE, index, value);
    case HLL_SPARSE: return sparse_set(b, index, value, sparse_max);
    default: return -1;
    }
}

int hll_add(hll_buf_t *b, const uint8_t *ele, size_t len, size_t sparse_max)
{
    unsigned index, value = hll_pattern(ele, len, &index);
    return hll_set(b, index, value, sparse_max);
}

/* ---- estimation ---- */

/* sigma and tau of Ertl's improved estimator ("New cardinality estimation
 * algorithms for HyperLogLog sketches", arXiv:1702.01284), iterated until
 * the double stops changing, as 7.0.15 computes them. */
static double sigma(double x)
{
    if (x == 1.) return INFINITY;
    double z = x, y = 1, prev;
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (prev != z);
    return z;
}

static double tau(double x)
{
    if (x == 0. || x == 1.) return 0.;
    double z = 1 - x, y = 1.0, prev;
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= pow(1 - x, 2) * y;
    } while (prev != z);
    return z / 3;
}

/* histo[v] = how many registers hold v (64 entries: a dense register may
 * hold up to 63 even though hashes never produce more than 51). */
static uint64_t estimate(const int *histo)
{
    double m = HLL_REGISTERS;
    double z = m * tau((m - histo[HLL_Q + 1]) / m);
    for (int j = HLL_Q; j >= 1; --j) {
        z += histo[j];
        z *= 0.5;
    }
    z += m * sigma(histo[0] / m);
    return (uint64_t)llroundl(ALPHA_INF * m * m / z);
}

/* Sparse histogram; false when the opcodes do not cover exactly 16384. */
static bool sparse_histo(const uint8_t *p, size_t len, int *histo)
{
    size_t i = HLL_HDR_SIZE;
    unsigned idx = 0;
    while (i < len) {
        unsigned op = p[i], run = opcode_run(p, len, i);
        if (run + idx > HLL_REGISTERS) return false;
        histo[IS_VAL(op) ? VAL_VALUE(op) : 0] += (int)run;
        idx += run;
        i += IS_XZERO(op) ? 2 : 1;
    }
    return idx == HLL_REGISTERS;
}

uint64_t hll_count(const uint8_t *p, size_t len, bool *invalid)
{
    int histo[64] = {0};
    if (p[4] == HLL_DENSE) {
        for (unsigned i = 0; i < HLL_REGISTERS; i++) histo[hll_dense_get(p + HLL_HDR_SIZE, i)]++;
    } else if (!sparse_histo(p, len, histo) && invalid) {
        *invalid = true;
    }
    return estimate(histo);
}

uint64_t hll_count_raw(const uint8_t *max)
{
    int histo[64] = {0};
    for (unsigned i = 0; i < HLL_REGISTERS; i++) histo[max[i] & 63]++;
    return estimate(histo);
}

bool hll_merge(uint8_t *max, const uint8_t *p, size_t len)
{
    if (p[4] == HLL_DENSE) {
        for (unsigned i = 0; i < HLL_REGISTERS; i++) {
            unsigned v = hll_dense_get(p + HLL_HDR_SIZE, i);
            if (v > max[i]) max[i] = (uint8_t)v;
        }
        return true;
    }
    size_t i = HLL_HDR_SIZE;
    unsigned idx = 0;
    while (i < len) {
        unsigned op = p[i], run = opcode_run(p, len, i);
        if (run + idx > HLL_REGISTERS) return false;
        if (IS_VAL(op))
            for (unsigned k = 0; k < run; k++)
                if (VAL_VALUE(op) > max[idx + k]) max[idx + k] = (uint8_t)VAL_VALUE(op);
        idx += run;
        i += IS_XZERO(op) ? 2 : 1;
    }
    return idx == HLL_REGISTERS;
}

/* ---- cached cardinality ---- */

bool hll_cache_valid(const uint8_t *p) { return (p[15] & 0x80) == 0; }
void hll_cache_invalidate(uint8_t *p) { p[15] |= 0x80; }

uint64_t hll_cache_get(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[8 + i];
    return v;
}

void hll_cache_put(uint8_t *p, uint64_t card)
{
    for (int i = 0; i < 8; i++) p[8 + i] = (uint8_t)(card >> (8 * i));
}

char *hll_sparse_describe(const uint8_t *p, size_t len)
{
    /* At most 9 characters ("v:32,4 " is 7, "Z:16384 " 8) per opcode byte. */
    size_t cap = (len > HLL_HDR_SIZE ? len - HLL_HDR_SIZE : 0) * 9 + 1;
    char *out = malloc(cap);
    if (!out) return NULL;
    size_t n = 0, i = HLL_HDR_SIZE;
    while (i < len) {
        unsigned op = p[i];
        if (IS_ZERO(op)) {
            n += (size_t)snprintf(out + n, cap - n, "z:%u ", ZERO_LEN(op));
            i++;
        } else if (IS_XZERO(op)) {
            n += (size_t)snprintf(out + n, cap - n, "Z:%u ", XZERO_LEN(op, byte_at(p, len, i + 1)));
            i += 2;
        } else {
            n += (size_t)snprintf(out + n, cap - n, "v:%u,%u ", VAL_VALUE(op), VAL_LEN(op));
            i++;
        }
    }
    while (n > 0 && out[n - 1] == ' ') n--;
    out[n] = '\0';
    return out;
}

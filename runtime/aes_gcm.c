/* aes_gcm.c - AES-GCM with VAES and VPCLMULQDQ on 512-bit registers (see
 * aes_gcm.h): four blocks per AES instruction and per carry-less multiply.
 *
 * How: a message goes in chunks of 16 blocks (256 bytes). A chunk's
 * counter blocks are encrypted four to a register, XORed with the input,
 * and its 16 ciphertext blocks are multiplied by H^16 .. H^1 (the hash
 * state folded into the first), the products summed and reduced modulo
 * the GCM polynomial once per chunk. The last chunk of a message may be
 * short: its loads and stores are masked to the bytes there are, its
 * blocks multiplied by H^t .. H^1 (the table ends in zero blocks for the
 * lanes past t), which is also how the partial block's zero padding
 * comes about.
 *
 * GHASH's field elements are kept byte-reversed, so the coefficient of
 * x^0 is the register's top bit: a carry-less product of two such values
 * is the field product's 255 bits one place short, hence the shift left
 * by one before reducing (reduce()). Reduction: the low 128 bits L stand
 * for x^128 * L, and x^128 = x^7 + x^2 + x + 1 modulo the polynomial; in
 * this bit order multiplying by x^s is a right shift by s, and the bits a
 * shift pushes out (degrees 128..134) are folded in first.
 *
 * Never: branch or index on secret data; every instruction's timing here
 * is independent of the values (AES-NI, CLMUL, shifts, masked moves).
 */
#include <cpuid.h>
#include <immintrin.h>
#include <stdatomic.h>
#include <string.h>

#include <openssl/crypto.h>

#include "runtime/aes_gcm.h"

#define TARGET __attribute__((target("aes,pclmul,ssse3,sse4.1,avx2,avx512f,avx512bw,vaes,vpclmulqdq")))
#define INLINE TARGET static inline __attribute__((always_inline))
#define CHUNK 256

/* CPUID leaf 1 ECX: PCLMULQDQ 1, AES 25, OSXSAVE 27; leaf 7 EBX: AVX2 5, AVX512F 16,
 * AVX512BW 30; ECX: VAES 9, VPCLMULQDQ 10; XCR0: the kernel saves the SSE, AVX,
 * opmask and both halves of the ZMM state (bits 1, 2, 5, 6, 7). */
static bool cpu_has_all(void)
{
    unsigned a, b, c, d, lo, hi;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & 1u << 1) || !(c & 1u << 25) || !(c & 1u << 27)) return false;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    if ((lo & 0xe6) != 0xe6) return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return (b & 1u << 5) && (b & 1u << 16) && (b & 1u << 30) && (c & 1u << 9) && (c & 1u << 10);
}

bool aes_gcm_available(void)
{
    static _Atomic int cached = -1;   /* relaxed: every thread computes the same answer */
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v < 0) {
        v = cpu_has_all();
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return v == 1;
}

/* ---------------- key schedule (FIPS 197 §5.2) ---------------- */

INLINE __m128i spread(__m128i w)
{
    w = _mm_xor_si128(w, _mm_slli_si128(w, 4));
    w = _mm_xor_si128(w, _mm_slli_si128(w, 4));
    return _mm_xor_si128(w, _mm_slli_si128(w, 4));
}

#define NEXT128(prev, rcon) _mm_xor_si128(spread(prev), _mm_shuffle_epi32(_mm_aeskeygenassist_si128(prev, rcon), 0xff))
#define NEXT256A(two_back, prev, rcon) \
    _mm_xor_si128(spread(two_back), _mm_shuffle_epi32(_mm_aeskeygenassist_si128(prev, rcon), 0xff))
#define NEXT256B(two_back, prev) _mm_xor_si128(spread(two_back), _mm_shuffle_epi32(_mm_aeskeygenassist_si128(prev, 0), 0xaa))

TARGET static void expand128(const uint8_t *key, __m128i rk[11])
{
    rk[0] = _mm_loadu_si128((const __m128i *)key);
    rk[1] = NEXT128(rk[0], 0x01);
    rk[2] = NEXT128(rk[1], 0x02);
    rk[3] = NEXT128(rk[2], 0x04);
    rk[4] = NEXT128(rk[3], 0x08);
    rk[5] = NEXT128(rk[4], 0x10);
    rk[6] = NEXT128(rk[5], 0x20);
    rk[7] = NEXT128(rk[6], 0x40);
    rk[8] = NEXT128(rk[7], 0x80);
    rk[9] = NEXT128(rk[8], 0x1b);
    rk[10] = NEXT128(rk[9], 0x36);
}

TARGET static void expand256(const uint8_t *key, __m128i rk[15])
{
    rk[0] = _mm_loadu_si128((const __m128i *)key);
    rk[1] = _mm_loadu_si128((const __m128i *)(key + 16));
    rk[2] = NEXT256A(rk[0], rk[1], 0x01);
    rk[3] = NEXT256B(rk[1], rk[2]);
    rk[4] = NEXT256A(rk[2], rk[3], 0x02);
    rk[5] = NEXT256B(rk[3], rk[4]);
    rk[6] = NEXT256A(rk[4], rk[5], 0x04);
    rk[7] = NEXT256B(rk[5], rk[6]);
    rk[8] = NEXT256A(rk[6], rk[7], 0x08);
    rk[9] = NEXT256B(rk[7], rk[8]);
    rk[10] = NEXT256A(rk[8], rk[9], 0x10);
    rk[11] = NEXT256B(rk[9], rk[10]);
    rk[12] = NEXT256A(rk[10], rk[11], 0x20);
    rk[13] = NEXT256B(rk[11], rk[12]);
    rk[14] = NEXT256A(rk[12], rk[13], 0x40);
}

INLINE __m128i aes_block(const aes_gcm_key_t *k, __m128i x)
{
    x = _mm_xor_si128(x, _mm_load_si128((const __m128i *)k->round_keys[0]));
    for (int r = 1; r < k->rounds; r++) x = _mm_aesenc_si128(x, _mm_load_si128((const __m128i *)k->round_keys[r]));
    return _mm_aesenclast_si128(x, _mm_load_si128((const __m128i *)k->round_keys[k->rounds]));
}

/* ---------------- GHASH arithmetic ---------------- */

INLINE __m128i bswap128(__m128i v)
{
    return _mm_shuffle_epi8(v, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

INLINE __m512i bswap512(__m512i v)
{
    return _mm512_shuffle_epi8(v, _mm512_broadcast_i32x4(_mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                                                      14, 15)));
}

INLINE __m128i shl1(__m128i v)
{
    return _mm_or_si128(_mm_slli_epi64(v, 1), _mm_srli_epi64(_mm_slli_si128(v, 8), 63));
}

INLINE __m128i shr(__m128i v, int s)   /* 128-bit right shift, 0 < s < 64 */
{
    return _mm_or_si128(_mm_srli_epi64(v, s), _mm_slli_epi64(_mm_srli_si128(v, 8), 64 - s));
}

/* The field element of a carry-less product's three parts (lo, the middle
 * terms' sum, hi), byte-reversed. */
INLINE __m128i reduce(__m128i lo, __m128i mid, __m128i hi)
{
    __m128i l = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
    __m128i h = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
    h = _mm_or_si128(shl1(h), _mm_srli_epi64(_mm_srli_si128(l, 8), 63));   /* the product, one place up */
    l = shl1(l);
    __m128i t = _mm_slli_si128(l, 8);   /* what the shifts by 1, 2, 7 push out, folded back first */
    l = _mm_xor_si128(l, _mm_xor_si128(_mm_slli_epi64(t, 63), _mm_xor_si128(_mm_slli_epi64(t, 62),
                                                                             _mm_slli_epi64(t, 57))));
    __m128i r = _mm_xor_si128(l, _mm_xor_si128(shr(l, 1), _mm_xor_si128(shr(l, 2), shr(l, 7))));
    return _mm_xor_si128(h, r);
}

INLINE __m128i gfmul(__m128i a, __m128i b)
{
    __m128i mid = _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x01), _mm_clmulepi64_si128(a, b, 0x10));
    return reduce(_mm_clmulepi64_si128(a, b, 0x00), mid, _mm_clmulepi64_si128(a, b, 0x11));
}

INLINE __m128i fold_lanes(__m512i v)
{
    __m256i a = _mm256_xor_si256(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
    return _mm_xor_si128(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
}

INLINE __m128i hash_bytes(const aes_gcm_key_t *k, __m128i acc, const uint8_t *p, size_t n)
{
    __m128i h1 = _mm_loadu_si128((const __m128i *)k->hpow[15]);
    for (size_t off = 0; off < n; off += 16) {
        uint8_t block[16] = { 0 };
        memcpy(block, p + off, n - off < 16 ? n - off : 16);
        acc = gfmul(_mm_xor_si128(acc, bswap128(_mm_loadu_si128((const __m128i *)block))), h1);
    }
    return acc;
}

bool TARGET aes_gcm_init(aes_gcm_key_t *k, const uint8_t *key, size_t key_len)
{
    __m128i rk[15];
    if (!aes_gcm_available() || (key_len != 16 && key_len != 32)) return false;
    memset(k, 0, sizeof *k);
    k->rounds = key_len == 16 ? 10 : 14;
    if (key_len == 16) expand128(key, rk);
    else expand256(key, rk);
    for (int r = 0; r <= k->rounds; r++) _mm_store_si128((__m128i *)k->round_keys[r], rk[r]);
    __m128i h = bswap128(aes_block(k, _mm_setzero_si128())), p = h;
    for (int i = 1; i <= 32; i++) {   /* hpow[16 - i] = H^i, hpow_hi[32 - i] = H^i past 16 */
        _mm_storeu_si128((__m128i *)(i <= 16 ? k->hpow[16 - i] : k->hpow_hi[32 - i]), p);
        p = gfmul(p, h);
    }
    OPENSSL_cleanse(rk, sizeof rk);
    return true;
}

/* ---------------- the bulk ---------------- */

/* Folds a chunk's register g of ciphertext blocks (byte-reversed) times
 * the powers at h into the three sums of its products. */
INLINE void mul_acc(__m512i g, const uint8_t *h, __m512i *lo, __m512i *mid, __m512i *hi)
{
    __m512i p = _mm512_loadu_si512((const void *)h);
    *lo = _mm512_xor_si512(*lo, _mm512_clmulepi64_epi128(g, p, 0x00));
    *hi = _mm512_xor_si512(*hi, _mm512_clmulepi64_epi128(g, p, 0x11));
    *mid = _mm512_ternarylogic_epi64(*mid, _mm512_clmulepi64_epi128(g, p, 0x01), _mm512_clmulepi64_epi128(g, p, 0x10),
                                     0x96);
}

/* Counter blocks c .. c + 3 from counter 0's byte-reversed block. */
INLINE __m512i counters(__m512i ctr0, uint32_t c)
{
    /* the lanes' offsets are a constant; c goes into each lane's low word at once */
    const __m512i lanes = _mm512_set_epi32(0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0);
    return bswap512(_mm512_add_epi32(_mm512_add_epi32(ctr0, lanes), _mm512_maskz_set1_epi32(0x1111, (int)c)));
}

typedef struct { __m512i r0, r1, r2, r3; } four_t;   /* a chunk's 16 blocks */

/* Encrypts a whole chunk's counters (16 blocks, the first under counter
 * `first`): four registers through the rounds side by side. */
INLINE four_t keystream(const __m512i *rk, const int rounds, __m512i ctr0, uint32_t first)
{
    four_t s = { _mm512_xor_si512(counters(ctr0, first), rk[0]), _mm512_xor_si512(counters(ctr0, first + 4), rk[0]),
                 _mm512_xor_si512(counters(ctr0, first + 8), rk[0]), _mm512_xor_si512(counters(ctr0, first + 12), rk[0]) };
#pragma GCC unroll 14
    for (int r = 1; r < rounds; r++) {
        s.r0 = _mm512_aesenc_epi128(s.r0, rk[r]);
        s.r1 = _mm512_aesenc_epi128(s.r1, rk[r]);
        s.r2 = _mm512_aesenc_epi128(s.r2, rk[r]);
        s.r3 = _mm512_aesenc_epi128(s.r3, rk[r]);
    }
    s.r0 = _mm512_aesenclast_epi128(s.r0, rk[rounds]);
    s.r1 = _mm512_aesenclast_epi128(s.r1, rk[rounds]);
    s.r2 = _mm512_aesenclast_epi128(s.r2, rk[rounds]);
    s.r3 = _mm512_aesenclast_epi128(s.r3, rk[rounds]);
    return s;
}

INLINE four_t load4(const uint8_t *p)
{
    four_t x = { _mm512_loadu_si512((const void *)p), _mm512_loadu_si512((const void *)(p + 64)),
                 _mm512_loadu_si512((const void *)(p + 128)), _mm512_loadu_si512((const void *)(p + 192)) };
    return x;
}

/* x XOR the keystream s, stored at out. */
INLINE four_t xor_store4(four_t x, four_t s, uint8_t *out)
{
    four_t y = { _mm512_xor_si512(x.r0, s.r0), _mm512_xor_si512(x.r1, s.r1), _mm512_xor_si512(x.r2, s.r2),
                 _mm512_xor_si512(x.r3, s.r3) };
    _mm512_storeu_si512((void *)out, y.r0);
    _mm512_storeu_si512((void *)(out + 64), y.r1);
    _mm512_storeu_si512((void *)(out + 128), y.r2);
    _mm512_storeu_si512((void *)(out + 192), y.r3);
    return y;
}

/* Hashes a whole chunk of ciphertext into *acc. */
INLINE void hash4(const aes_gcm_key_t *k, four_t c, __m128i *acc)
{
    __m512i lo = _mm512_setzero_si512(), mid = lo, hi = lo;
    mul_acc(_mm512_xor_si512(bswap512(c.r0), _mm512_inserti32x4(_mm512_setzero_si512(), *acc, 0)), k->hpow[0], &lo,
            &mid, &hi);
    mul_acc(bswap512(c.r1), k->hpow[4], &lo, &mid, &hi);
    mul_acc(bswap512(c.r2), k->hpow[8], &lo, &mid, &hi);
    mul_acc(bswap512(c.r3), k->hpow[12], &lo, &mid, &hi);
    *acc = reduce(fold_lanes(lo), fold_lanes(mid), fold_lanes(hi));
}

/* Hashes two whole chunks of ciphertext into *acc: 32 blocks times H^32 ..
 * H^1, reduced once. Each reduction ends a chain that the next chunk's
 * hash waits on (the hash state goes into its first block), and that
 * chain, not the AES, bounded opening at one chunk per reduction. */
INLINE void hash8(const aes_gcm_key_t *k, four_t c, four_t d, __m128i *acc)
{
    __m512i lo = _mm512_setzero_si512(), mid = lo, hi = lo;
    mul_acc(bswap512(c.r1), k->hpow_hi[4], &lo, &mid, &hi);
    mul_acc(bswap512(c.r2), k->hpow_hi[8], &lo, &mid, &hi);
    mul_acc(bswap512(c.r3), k->hpow_hi[12], &lo, &mid, &hi);
    mul_acc(bswap512(d.r0), k->hpow[0], &lo, &mid, &hi);
    mul_acc(bswap512(d.r1), k->hpow[4], &lo, &mid, &hi);
    mul_acc(bswap512(d.r2), k->hpow[8], &lo, &mid, &hi);
    mul_acc(bswap512(d.r3), k->hpow[12], &lo, &mid, &hi);
    mul_acc(_mm512_xor_si512(bswap512(c.r0), _mm512_inserti32x4(_mm512_setzero_si512(), *acc, 0)), k->hpow_hi[0],
            &lo, &mid, &hi);
    *acc = reduce(fold_lanes(lo), fold_lanes(mid), fold_lanes(hi));
}

/* The whole chunks of n bytes (a multiple of 256). Sealing hashes each
 * chunk's ciphertext while the next one's keystream is made, so the
 * two units work side by side; opening hashes the input as it comes,
 * two chunks at a time. */
INLINE void chunks(const aes_gcm_key_t *k, const __m512i *rk, const int rounds, __m512i ctr0, uint32_t *ctr,
                   const uint8_t *in, uint8_t *out, size_t n, bool enc, __m128i *acc)
{
    if (!enc) {
        size_t off = 0;
        for (; off + 2 * CHUNK <= n; off += 2 * CHUNK, *ctr += 2 * CHUNK / 16) {
            four_t x = load4(in + off), x2 = load4(in + off + CHUNK);
            hash8(k, x, x2, acc);
            (void)xor_store4(x, keystream(rk, rounds, ctr0, *ctr), out + off);
            (void)xor_store4(x2, keystream(rk, rounds, ctr0, *ctr + CHUNK / 16), out + off + CHUNK);
        }
        for (; off < n; off += CHUNK, *ctr += CHUNK / 16) {
            four_t x = load4(in + off);
            hash4(k, x, acc);
            (void)xor_store4(x, keystream(rk, rounds, ctr0, *ctr), out + off);
        }
        return;
    }
    if (n == 0) return;
    four_t y = xor_store4(load4(in), keystream(rk, rounds, ctr0, *ctr), out);
    *ctr += CHUNK / 16;
    for (size_t off = CHUNK; off < n; off += CHUNK, *ctr += CHUNK / 16) {
        four_t s = keystream(rk, rounds, ctr0, *ctr);
        hash4(k, y, acc);
        y = xor_store4(load4(in + off), s, out + off);
    }
    hash4(k, y, acc);
}

/* The last, short chunk (1..256 bytes): one register at a time, loads
 * and stores masked to the bytes there are. */
INLINE void chunk_tail(const __m512i *rk, const int rounds, __m512i ctr0, uint32_t first, const uint8_t *in,
                       uint8_t *out, size_t n, bool enc, const aes_gcm_key_t *k, __m128i *acc)
{
    size_t blocks = (n + 15) / 16;
    __m512i lo = _mm512_setzero_si512(), mid = lo, hi = lo;
    for (size_t off = 0; off < n; off += 64) {
        size_t len = n - off < 64 ? n - off : 64;
        __mmask64 m = len == 64 ? ~0ULL : (1ULL << len) - 1;
        __m512i x = _mm512_maskz_loadu_epi8(m, in + off);
        __m512i s = _mm512_xor_si512(counters(ctr0, first + (uint32_t)(off / 16)), rk[0]);
        for (int r = 1; r < rounds; r++) s = _mm512_aesenc_epi128(s, rk[r]);
        __m512i y = _mm512_maskz_mov_epi8(m, _mm512_xor_si512(x, _mm512_aesenclast_epi128(s, rk[rounds])));
        _mm512_mask_storeu_epi8(out + off, m, y);
        __m512i g = bswap512(enc ? y : x);
        if (off == 0) g = _mm512_xor_si512(g, _mm512_inserti32x4(_mm512_setzero_si512(), *acc, 0));
        mul_acc(g, k->hpow[16 - blocks + off / 16], &lo, &mid, &hi);
    }
    *acc = reduce(fold_lanes(lo), fold_lanes(mid), fold_lanes(hi));
}

/* The run of a whole message past its AAD: every 256-byte chunk of in
 * (n bytes, a multiple of 256), then `tail` (tail_n bytes, the caller's
 * assembled end). */
INLINE __m128i bulk(const aes_gcm_key_t *k, const int rounds, const uint8_t *nonce, __m128i acc, const uint8_t *in,
                    size_t n, const uint8_t *tail, size_t tail_n, uint8_t *out, bool enc)
{
    __m512i rk[15];
    for (int r = 0; r <= rounds; r++)
        rk[r] = _mm512_broadcast_i32x4(_mm_load_si128((const __m128i *)k->round_keys[r]));
    uint8_t j0[16] = { 0 };
    memcpy(j0, nonce, AES_GCM_NONCE_LEN);
    __m512i ctr0 = _mm512_broadcast_i32x4(bswap128(_mm_loadu_si128((const __m128i *)j0)));   /* counter 0 */
    uint32_t ctr = 2;   /* counter 1 is the tag's */
    chunks(k, rk, rounds, ctr0, &ctr, in, out, n, enc, &acc);
    size_t whole = tail_n / CHUNK * CHUNK;
    chunks(k, rk, rounds, ctr0, &ctr, tail, out + n, whole, enc, &acc);
    if (tail_n > whole) chunk_tail(rk, rounds, ctr0, ctr, tail + whole, out + n + whole, tail_n - whole, enc, k, &acc);
    return acc;
}

TARGET static __m128i bulk_any(const aes_gcm_key_t *k, const uint8_t *nonce, __m128i acc, const uint8_t *in, size_t n,
                               const uint8_t *tail, size_t tail_n, uint8_t *out, bool enc)
{
    if (k->rounds == 14) return bulk(k, 14, nonce, acc, in, n, tail, tail_n, out, enc);
    return bulk(k, 10, nonce, acc, in, n, tail, tail_n, out, enc);
}

INLINE void finish(const aes_gcm_key_t *k, const uint8_t *nonce, __m128i acc, size_t aad_len, size_t n,
                   uint8_t tag[AES_GCM_TAG_LEN])
{
    __m128i lens = _mm_set_epi64x((long long)(aad_len * 8), (long long)(n * 8));
    acc = gfmul(_mm_xor_si128(acc, lens), _mm_loadu_si128((const __m128i *)k->hpow[15]));
    uint8_t j0[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    memcpy(j0, nonce, AES_GCM_NONCE_LEN);
    __m128i t = _mm_xor_si128(bswap128(acc), aes_block(k, _mm_loadu_si128((const __m128i *)j0)));
    _mm_storeu_si128((__m128i *)tag, t);
}

bool TARGET aes_gcm_seal(const aes_gcm_key_t *k, const uint8_t nonce[AES_GCM_NONCE_LEN], const uint8_t *aad,
                         size_t aad_len, const uint8_t *in1, size_t n1, const uint8_t *in2, size_t n2, uint8_t *out,
                         uint8_t tag[AES_GCM_TAG_LEN])
{
    if (n1 + n2 > AES_GCM_MAX_LEN || n2 > 16 || aad_len > AES_GCM_MAX_LEN) return false;
    uint8_t tail[CHUNK + 16];
    size_t whole = n1 / CHUNK * CHUNK, rest = n1 - whole;
    memcpy(tail, in1 + whole, rest);   /* in1's last part chunk and in2 as one run */
    if (n2) memcpy(tail + rest, in2, n2);
    __m128i acc = hash_bytes(k, _mm_setzero_si128(), aad, aad_len);
    acc = bulk_any(k, nonce, acc, in1, whole, tail, rest + n2, out, true);
    finish(k, nonce, acc, aad_len, n1 + n2, tag);
    OPENSSL_cleanse(tail, rest + n2);
    return true;
}

bool TARGET aes_gcm_open(const aes_gcm_key_t *k, const uint8_t nonce[AES_GCM_NONCE_LEN], const uint8_t *aad,
                         size_t aad_len, const uint8_t *in, size_t n, uint8_t *out,
                         const uint8_t tag[AES_GCM_TAG_LEN])
{
    if (n > AES_GCM_MAX_LEN || aad_len > AES_GCM_MAX_LEN) return false;
    uint8_t want[AES_GCM_TAG_LEN];
    size_t whole = n / CHUNK * CHUNK;
    __m128i acc = hash_bytes(k, _mm_setzero_si128(), aad, aad_len);
    acc = bulk_any(k, nonce, acc, in, whole, in + whole, n - whole, out, false);
    finish(k, nonce, acc, aad_len, n, want);
    if (CRYPTO_memcmp(want, tag, AES_GCM_TAG_LEN) == 0) return true;
    OPENSSL_cleanse(out, n);   /* a forged record's plaintext is never left to be read */
    return false;
}

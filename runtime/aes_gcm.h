/* aes_gcm.h - AES-GCM (128 and 256-bit keys, 12-byte nonces, 16-byte tags;
 * NIST SP 800-38D) with the CPU's vector AES and carry-less multiply
 * (VAES, VPCLMULQDQ, AVX-512), for the TLS 1.3 record layer (tls_rec.c).
 *
 * The same cipher as OpenSSL's EVP AES-GCM, bit for bit (tested against it
 * in tests/unit/test_aes_gcm.c); what differs is the speed: OpenSSL 3.0
 * encrypts and hashes one 16-byte block per instruction, this code four.
 * On a CPU without these instructions aes_gcm_available() is false and the
 * caller keeps OpenSSL's EVP.
 *
 * Never: branch or index memory on secret data (keys, plaintext, tags),
 * let out plaintext of a record whose tag does not verify as valid (the
 * caller drops the record and the link), handle more than
 * AES_GCM_MAX_LEN bytes in one call.
 */
#ifndef SHOAL_RUNTIME_AES_GCM_H
#define SHOAL_RUNTIME_AES_GCM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AES_GCM_TAG_LEN 16
#define AES_GCM_NONCE_LEN 12
#define AES_GCM_MAX_LEN (1u << 20)    /* bytes per call: far below the 32-bit counter's wrap */

/* A key's schedule and its GHASH powers; wipe with OPENSSL_cleanse. */
typedef struct aes_gcm_key {
    _Alignas(16) uint8_t round_keys[15][16];
    uint8_t hpow[20][16];             /* H^16 .. H^1 byte-reversed, then four zero blocks */
    uint8_t hpow_hi[16][16];          /* H^32 .. H^17 byte-reversed: two chunks under one reduction */
    int rounds;                       /* 10 or 14 */
} aes_gcm_key_t;

/* True when this CPU (and the kernel, for the vector registers) has what
 * the code needs. Cached after the first call. */
bool aes_gcm_available(void);

/* Expands a 16 or 32-byte key. False: another length, or not available. */
bool aes_gcm_init(aes_gcm_key_t *k, const uint8_t *key, size_t key_len);

/* Encrypts in1 (n1 bytes) followed by in2 (n2 bytes, at most 16) into out
 * (n1 + n2 bytes; out may not overlap the inputs), authenticating aad too,
 * and writes the tag. False: too long. */
bool aes_gcm_seal(const aes_gcm_key_t *k, const uint8_t nonce[AES_GCM_NONCE_LEN], const uint8_t *aad,
                  size_t aad_len, const uint8_t *in1, size_t n1, const uint8_t *in2, size_t n2, uint8_t *out,
                  uint8_t tag[AES_GCM_TAG_LEN]);

/* Decrypts n bytes of in into out (out == in is fine, any other overlap is
 * not) and checks the tag in constant time. False: the tag does not verify
 * (out is zeroed) or too long. */
bool aes_gcm_open(const aes_gcm_key_t *k, const uint8_t nonce[AES_GCM_NONCE_LEN], const uint8_t *aad,
                  size_t aad_len, const uint8_t *in, size_t n, uint8_t *out, const uint8_t tag[AES_GCM_TAG_LEN]);

#endif

/* test_aes_gcm.c - runtime/aes_gcm.c against OpenSSL's EVP AES-GCM: the
 * same ciphertext and tag for 128 and 256-bit keys, every length from 0 to
 * 600 bytes and random ones up to a full TLS record, with the record's
 * 5-byte header as AAD and others; the two-part input of a TLS 1.3 record
 * (data, then its content type); opening in place and apart; a flipped
 * byte of ciphertext, tag or AAD fails the open. On a CPU without
 * VAES/VPCLMULQDQ/AVX-512 the record layer keeps EVP: there the comparisons
 * cannot run (they say so on stderr), and what is checked is that the CPU
 * check answers as /proc/cpuinfo's flags do and that a key is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "runtime/aes_gcm.h"
#include "tests/unit/unit.h"

static bool evp_seal(size_t key_len, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                     const uint8_t *in, size_t n, uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l;
    bool ok = c && EVP_EncryptInit_ex(c, key_len == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
              (aad_len == 0 || EVP_EncryptUpdate(c, NULL, &l, aad, (int)aad_len) == 1) &&
              (n == 0 || EVP_EncryptUpdate(c, out, &l, in, (int)n) == 1) &&
              EVP_EncryptFinal_ex(c, out + n, &l) == 1 &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok;
}

/* One case: seal with both, compare; open ours apart and in place. */
static void one_case(size_t key_len, size_t aad_len, size_t n, size_t n2)
{
    uint8_t key[32], nonce[12], aad[64], t_evp[16], t_ours[16];
    uint8_t *in = malloc(n + 1), *c_evp = malloc(n + 1), *c_ours = malloc(n + 1), *back = malloc(n + 1);
    REQUIRE(in && c_evp && c_ours && back);
    RAND_bytes(key, sizeof key);
    RAND_bytes(nonce, sizeof nonce);
    RAND_bytes(aad, sizeof aad);
    RAND_bytes(in, (int)n + 1);
    aes_gcm_key_t k;
    REQUIRE(aes_gcm_init(&k, key, key_len));
    REQUIRE(evp_seal(key_len, key, nonce, aad, aad_len, in, n, c_evp, t_evp));
    REQUIRE(aes_gcm_seal(&k, nonce, aad, aad_len, in, n - n2, in + n - n2, n2, c_ours, t_ours));
    if (memcmp(c_evp, c_ours, n) || memcmp(t_evp, t_ours, 16)) {
        char m[96];
        snprintf(m, sizeof m, "seal differs from EVP: key %zu aad %zu len %zu (%zu in part 2)", key_len, aad_len, n, n2);
        unit_fail(__FILE__, __LINE__, m);
    }
    CHECK(aes_gcm_open(&k, nonce, aad, aad_len, c_ours, n, back, t_ours));
    CHECK_MEM(back, in, n);
    CHECK(aes_gcm_open(&k, nonce, aad, aad_len, c_ours, n, c_ours, t_ours));   /* in place */
    CHECK_MEM(c_ours, in, n);
    free(in);
    free(c_evp);
    free(c_ours);
    free(back);
}

/* Whether every flag our code needs is in the first "flags" line of
 * /proc/cpuinfo (the kernel drops the AVX-512 ones when it does not save
 * their registers, as our XGETBV check asks). */
static bool cpuinfo_has_all(void)
{
    static const char *need[] = { "aes", "pclmulqdq", "avx2", "avx512f", "avx512bw", "vaes", "vpclmulqdq" };
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) {
        unit_fail(__FILE__, __LINE__, "cannot read /proc/cpuinfo");
        return false;
    }
    char line[8192];
    bool found = false, all = false;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0) continue;
        found = all = true;
        for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
            char word[32];
            snprintf(word, sizeof word, " %s", need[i]);
            const char *p = line;
            bool seen = false;
            while (!seen && (p = strstr(p, word)) != NULL) {
                p += strlen(word);
                seen = *p == ' ' || *p == '\n' || *p == '\0';
            }
            all = all && seen;
        }
    }
    fclose(f);
    if (!found) unit_fail(__FILE__, __LINE__, "no flags line in /proc/cpuinfo");
    return all;
}

static bool available_or_say(const char *test)
{
    if (aes_gcm_available()) return true;
    fprintf(stderr, "test_aes_gcm: %s not run: this CPU lacks VAES/VPCLMULQDQ/AVX-512 (EVP serves)\n", test);
    return false;
}

TEST(aes_gcm_available_follows_the_cpu_flags)
{
    CHECK(aes_gcm_available() == cpuinfo_has_all());
    if (!aes_gcm_available()) {
        uint8_t key[32] = { 1 };
        aes_gcm_key_t k;
        CHECK(!aes_gcm_init(&k, key, 32));   /* the record layer then keeps EVP */
    }
}

TEST(aes_gcm_matches_evp_at_every_short_length)
{
    if (!available_or_say("aes_gcm_matches_evp_at_every_short_length")) return;
    for (size_t key_len = 16; key_len <= 32; key_len += 16)
        for (size_t n = 0; n <= 600; n++) one_case(key_len, 5, n, n ? 1 : 0);
}

TEST(aes_gcm_matches_evp_up_to_a_full_record)
{
    if (!available_or_say("aes_gcm_matches_evp_up_to_a_full_record")) return;
    size_t fixed[] = { 16384 + 1, 16384, 4096, 2568, 2257, 1023, 1024, 1025, 255, 256, 257 };
    for (size_t key_len = 16; key_len <= 32; key_len += 16) {
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) one_case(key_len, 5, fixed[i], 1);
        for (int i = 0; i < 200; i++) {
            uint32_t r;
            RAND_bytes((uint8_t *)&r, sizeof r);
            size_t n = 1 + r % (16384 + 1), n2 = (r >> 20) % 17;
            one_case(key_len, (r >> 16) % 4 == 0 ? (r >> 8) % 64 : 5, n, n2 < n ? n2 : n);
        }
    }
    one_case(32, 0, 0, 0);
    one_case(32, 64, 100, 16);
}

TEST(aes_gcm_open_fails_on_any_flipped_byte)
{
    if (!available_or_say("aes_gcm_open_fails_on_any_flipped_byte")) return;
    uint8_t key[32] = { 1 }, nonce[12] = { 2 }, aad[5] = { 23, 3, 3, 1, 0 }, in[1000], c[1000], back[1000], tag[16];
    memset(in, 'p', sizeof in);
    aes_gcm_key_t k;
    REQUIRE(aes_gcm_init(&k, key, 32));
    REQUIRE(aes_gcm_seal(&k, nonce, aad, 5, in, 999, in + 999, 1, c, tag));
    CHECK(aes_gcm_open(&k, nonce, aad, 5, c, 1000, back, tag));
    size_t spots[] = { 0, 15, 16, 255, 256, 511, 999 };
    for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
        c[spots[i]] ^= 0x40;
        CHECK(!aes_gcm_open(&k, nonce, aad, 5, c, 1000, back, tag));
        c[spots[i]] ^= 0x40;
    }
    tag[7] ^= 1;
    memset(back, 'x', sizeof back);
    CHECK(!aes_gcm_open(&k, nonce, aad, 5, c, 1000, back, tag));
    static const uint8_t zeros[1000];
    CHECK_MEM(back, zeros, sizeof back);   /* nothing of the forged record is left */
    tag[7] ^= 1;
    aad[4] ^= 1;
    CHECK(!aes_gcm_open(&k, nonce, aad, 5, c, 1000, back, tag));
    aad[4] ^= 1;
    nonce[11] ^= 1;   /* another sequence number */
    CHECK(!aes_gcm_open(&k, nonce, aad, 5, c, 1000, back, tag));
    nonce[11] ^= 1;
    CHECK(aes_gcm_open(&k, nonce, aad, 5, c, 1000, back, tag));
    CHECK(!aes_gcm_init(&k, key, 24));   /* AES-192 is no TLS 1.3 suite */
}

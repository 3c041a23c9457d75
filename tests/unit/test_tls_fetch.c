/* test_tls_fetch.c - OpenSSL's algorithm fetches answered per thread
 * (runtime/tls_fetch.c): a second fetch of the same query returns the same
 * method without asking OpenSSL's store; queries that differ in kind, name
 * or property query are kept apart; a failed fetch is not kept; the least
 * recently used method makes room; and libssl's fetches in a handshake
 * (over memory BIOs, EC P-256 certificates made here) come here: the
 * second handshake finds every one of them in the cache. */
#include <stdbool.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "runtime/tls_fetch.h"
#include "tests/unit/pki_fixture.h"
#include "tests/unit/unit.h"

static void stats(uint64_t *hits, uint64_t *misses) { tls_fetch_stats(hits, misses); }

TEST(tls_fetch_a_second_fetch_is_served_from_the_thread_cache)
{
    tls_fetch_drain();
    uint64_t h0, m0, h1, m1, h2, m2;
    stats(&h0, &m0);
    EVP_MD *a = EVP_MD_fetch(NULL, "SHA2-384", NULL);
    stats(&h1, &m1);
    EVP_MD *b = EVP_MD_fetch(NULL, "SHA2-384", NULL);
    stats(&h2, &m2);
    REQUIRE(a != NULL && b != NULL);
    CHECK(a == b);
    CHECK_EQ_INT(m1 - m0, 1);
    CHECK_EQ_INT(h1 - h0, 0);
    CHECK_EQ_INT(m2 - m1, 0);
    CHECK_EQ_INT(h2 - h1, 1);
    /* a working digest, each caller holding a reference of its own */
    EVP_MD_free(a);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    CHECK(EVP_Digest("abc", 3, out, &n, b, NULL) == 1);
    CHECK_EQ_INT(n, 48);
    CHECK_EQ_INT(out[0], 0xcb);     /* SHA-384("abc") starts cb00753f */
    EVP_MD_free(b);
    /* the other kinds too */
    EVP_KDF *k1 = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_3_KDF, NULL);
    EVP_KDF *k2 = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_3_KDF, NULL);
    EVP_MAC *c1 = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC *c2 = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_SIGNATURE *s1 = EVP_SIGNATURE_fetch(NULL, "ECDSA", NULL);
    EVP_SIGNATURE *s2 = EVP_SIGNATURE_fetch(NULL, "ECDSA", NULL);
    CHECK(k1 != NULL && k1 == k2);
    CHECK(c1 != NULL && c1 == c2);
    CHECK(s1 != NULL && s1 == s2);
    EVP_KDF_free(k1);
    EVP_KDF_free(k2);
    EVP_MAC_free(c1);
    EVP_MAC_free(c2);
    EVP_SIGNATURE_free(s1);
    EVP_SIGNATURE_free(s2);
    tls_fetch_drain();
}

TEST(tls_fetch_queries_are_kept_apart)
{
    tls_fetch_drain();
    uint64_t h0, m0, h1, m1;
    stats(&h0, &m0);
    /* property queries: none, empty, and one of their own are three queries */
    EVP_MD *q[3] = { EVP_MD_fetch(NULL, "SHA2-256", NULL), EVP_MD_fetch(NULL, "SHA2-256", ""),
                     EVP_MD_fetch(NULL, "SHA2-256", "provider=default") };
    /* a name and its alias are two queries */
    EVP_MD *alias = EVP_MD_fetch(NULL, "SHA256", NULL);
    /* the same name in another kind of method */
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "SHA2-256", NULL);
    stats(&h1, &m1);
    for (int i = 0; i < 3; i++) CHECK(q[i] != NULL);
    CHECK(alias != NULL);
    CHECK(mac == NULL);             /* no MAC of that name: not a digest from the cache */
    CHECK_EQ_INT(h1 - h0, 0);
    CHECK_EQ_INT(m1 - m0, 5);
    /* a failed fetch is not kept: asked again, it goes to OpenSSL again */
    CHECK(EVP_MD_fetch(NULL, "NO-SUCH-DIGEST", NULL) == NULL);
    CHECK(EVP_MD_fetch(NULL, "NO-SUCH-DIGEST", NULL) == NULL);
    CHECK(EVP_MAC_fetch(NULL, "SHA2-256", NULL) == NULL);
    uint64_t h2, m2;
    stats(&h2, &m2);
    CHECK_EQ_INT(h2 - h1, 0);
    CHECK_EQ_INT(m2 - m1, 3);
    /* a long name is not kept, and still fetched */
    char longname[FETCH_NAME_MAX + 8];
    memset(longname, 'A', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK(EVP_MD_fetch(NULL, longname, NULL) == NULL);
    for (int i = 0; i < 3; i++) EVP_MD_free(q[i]);
    EVP_MD_free(alias);
    ERR_clear_error();
    tls_fetch_drain();
}

TEST(tls_fetch_the_least_recently_used_method_makes_room)
{
    tls_fetch_drain();
    static const char *names[] = {
        "SHA1", "SHA-1", "SSL3-SHA1", "SHA2-224", "SHA-224", "SHA224", "SHA2-256", "SHA-256", "SHA256",
        "SHA2-384", "SHA-384", "SHA384", "SHA2-512", "SHA-512", "SHA512", "SHA2-512/224", "SHA-512/224",
        "SHA512-224", "SHA2-512/256", "SHA-512/256", "SHA512-256", "SHA3-224", "SHA3-256", "SHA3-384",
        "SHA3-512", "SHAKE-128", "SHAKE128", "SHAKE-256", "SHAKE256", "BLAKE2S-256", "BLAKE2s256",
        "BLAKE2B-512", "BLAKE2b512", "MD5",
    };
    enum { N = sizeof names / sizeof names[0] };
    REQUIRE(N > FETCH_SLOTS);
    uint64_t h0, m0, h1, m1;
    stats(&h0, &m0);
    for (int i = 0; i < N; i++) {
        EVP_MD *md = EVP_MD_fetch(NULL, names[i], NULL);
        CHECK(md != NULL);
        EVP_MD_free(md);
    }
    stats(&h1, &m1);
    CHECK_EQ_INT(m1 - m0, N);
    /* the last ones are still there, the first ones made room for them */
    EVP_MD_free(EVP_MD_fetch(NULL, names[N - 1], NULL));
    uint64_t h2, m2;
    stats(&h2, &m2);
    CHECK_EQ_INT(h2 - h1, 1);
    EVP_MD_free(EVP_MD_fetch(NULL, names[0], NULL));
    uint64_t h3, m3;
    stats(&h3, &m3);
    CHECK_EQ_INT(m3 - m2, 1);
    tls_fetch_drain();
}

static SSL_CTX *ctx_for(const ident_t *id, const ident_t *ca, bool server)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    SSL_CTX_use_certificate(ctx, id->cert);
    SSL_CTX_use_PrivateKey(ctx, id->key);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca->cert);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return ctx;
}

/* One TLS 1.3 handshake over a BIO pair and a byte each way; true when both
 * ends verified the other and the byte arrived. */
static bool handshake(SSL_CTX *server_ctx, SSL_CTX *client_ctx)
{
    SSL *s, *c;
    bool done = pki_pair_handshake(server_ctx, client_ctx, &s, &c);
    char b = 'x', got = 0;
    bool ok = done && SSL_write(c, &b, 1) == 1 && SSL_read(s, &got, 1) == 1 && got == 'x' &&
              SSL_write(s, &b, 1) == 1 && SSL_read(c, &got, 1) == 1 && SSL_get_verify_result(s) == X509_V_OK &&
              SSL_get_verify_result(c) == X509_V_OK;
    SSL_free(c);
    SSL_free(s);
    ERR_clear_error();
    return ok;
}

TEST(tls_fetch_a_handshake_fetches_from_the_cache)
{
    tls_fetch_drain();
    ident_t ca = pki_ident_new("CA", NULL, 1);
    ident_t server = pki_ident_new("Server", &ca, 2), client = pki_ident_new("Client", &ca, 3);
    SSL_CTX *sctx = ctx_for(&server, &ca, true), *cctx = ctx_for(&client, &ca, false);
    uint64_t h0, m0, h1, m1, h2, m2;
    stats(&h0, &m0);
    CHECK(handshake(sctx, cctx));
    stats(&h1, &m1);
    CHECK(handshake(sctx, cctx));
    stats(&h2, &m2);
    /* libssl's fetches (the transcript's digest, the key schedule's KDF,
     * the Finished MACs, the signatures) reach the cache: dozens a
     * handshake, all found the second time */
    CHECK(m1 - m0 > 0);
    CHECK(h1 - h0 > 20);
    CHECK_EQ_INT(m2 - m1, 0);
    CHECK(h2 - h1 > 50);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    pki_ident_free(&ca);
    pki_ident_free(&server);
    pki_ident_free(&client);
    tls_fetch_drain();
}

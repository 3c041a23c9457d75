/* test_tls_certcache.c - the certificates peers send, decoded once per
 * thread (runtime/tls_certcache.c): handshakes over memory BIOs with a
 * client certificate (and the CA root the client chains along) decode each
 * certificate once, the next handshake's server holds the very objects of
 * the first, and still verifies them (a certificate from another CA, or
 * with a signature that does not verify, is refused every time), without
 * checking again a signature it checked; a decode served from the cache moves the cursor as
 * a decode does; calls that are not libssl's are not cached. The keys and
 * certificates are made here (EC P-256, signed in memory). */
#include <stdbool.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "runtime/tls_certcache.h"
#include "tests/unit/pki_fixture.h"
#include "tests/unit/unit.h"

typedef struct {
    ident_t ca, other_ca, server, client, stranger;
    SSL_CTX *server_ctx, *client_ctx, *stranger_ctx;
} pki_t;

static SSL_CTX *ctx_for(const ident_t *id, const ident_t *ca, const ident_t *trust, bool server)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    SSL_CTX_use_certificate(ctx, id->cert);
    SSL_CTX_use_PrivateKey(ctx, id->key);
    X509_up_ref(ca->cert);
    SSL_CTX_add0_chain_cert(ctx, ca->cert);   /* the root goes along, as OpenSSL's clients send it */
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), trust->cert);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    return ctx;
}

static void make_pki(pki_t *p)
{
    p->ca = pki_ident_new("CA", NULL, 1);
    p->other_ca = pki_ident_new("Other CA", NULL, 2);
    p->server = pki_ident_new("Server", &p->ca, 3);
    p->client = pki_ident_new("Client", &p->ca, 4);
    p->stranger = pki_ident_new("Stranger", &p->other_ca, 5);
    p->server_ctx = ctx_for(&p->server, &p->ca, &p->ca, true);
    p->client_ctx = ctx_for(&p->client, &p->ca, &p->ca, false);
    p->stranger_ctx = ctx_for(&p->stranger, &p->other_ca, &p->ca, false);
}

static void free_pki(pki_t *p)
{
    SSL_CTX_free(p->server_ctx);
    SSL_CTX_free(p->client_ctx);
    SSL_CTX_free(p->stranger_ctx);
    pki_ident_free(&p->ca);
    pki_ident_free(&p->other_ca);
    pki_ident_free(&p->server);
    pki_ident_free(&p->client);
    pki_ident_free(&p->stranger);
}

/* One handshake over a BIO pair; the server's SSL (the caller frees it),
 * *ok whether both ends finished. */
static SSL *handshake(SSL_CTX *server_ctx, SSL_CTX *client_ctx, bool *ok)
{
    SSL *s, *c;
    bool done = pki_pair_handshake(server_ctx, client_ctx, &s, &c);
    /* TLS 1.3: the server learns the client's certificate after the client
     * is done; one read on each side settles what is left. */
    char b;
    (void)SSL_read(s, &b, 1);
    *ok = done && SSL_get_verify_result(s) == X509_V_OK;
    SSL_free(c);
    ERR_clear_error();
    return s;
}

TEST(tls_certcache_a_client_certificate_is_decoded_once_per_thread)
{
    tls_certcache_drain();
    pki_t p;
    make_pki(&p);
    uint64_t h0, m0, h1, m1, h2, m2;
    tls_certcache_stats(&h0, &m0);
    uint64_t v0 = tls_certcache_verify_hits();
    bool ok1 = false, ok2 = false;
    SSL *s1 = handshake(p.server_ctx, p.client_ctx, &ok1);
    tls_certcache_stats(&h1, &m1);
    uint64_t v1 = tls_certcache_verify_hits();
    SSL *s2 = handshake(p.server_ctx, p.client_ctx, &ok2);
    tls_certcache_stats(&h2, &m2);
    uint64_t v2 = tls_certcache_verify_hits();
    /* the signatures checked the first time (the server's and the client's
     * certificates by the CA's key) are not checked again */
    CHECK_EQ_INT(v1 - v0, 0);
    CHECK_EQ_INT(v2 - v1, 2);
    CHECK(ok1);
    CHECK(ok2);
    /* each handshake decodes four certificates, the server's two on the
     * client and the client's two on the server, both ends on this thread:
     * the first decodes the server's, the CA's and the client's, and finds
     * the CA's the second time it comes; the next one decodes nothing */
    CHECK_EQ_INT(m1 - m0, 3);
    CHECK_EQ_INT(h1 - h0, 1);
    CHECK_EQ_INT(m2 - m1, 0);
    CHECK_EQ_INT(h2 - h1, 4);
    X509 *peer1 = SSL_get0_peer_certificate(s1), *peer2 = SSL_get0_peer_certificate(s2);
    CHECK(peer1 != NULL);
    CHECK(peer1 == peer2);
    CHECK(X509_cmp(peer1, p.client.cert) == 0);
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(s2);
    /* on a server, the chain the client sent without its own certificate */
    CHECK(chain != NULL && sk_X509_num(chain) == 1 && X509_cmp(sk_X509_value(chain, 0), p.ca.cert) == 0);
    SSL_free(s1);
    SSL_free(s2);
    free_pki(&p);
    tls_certcache_drain();
}

TEST(tls_certcache_cached_certificates_are_still_verified)
{
    tls_certcache_drain();
    pki_t p;
    make_pki(&p);
    for (int i = 0; i < 2; i++) {   /* the second time from the cache */
        bool ok = true;
        SSL_free(handshake(p.server_ctx, p.stranger_ctx, &ok));
        CHECK(!ok);
    }
    uint64_t hits, misses;
    tls_certcache_stats(&hits, &misses);
    CHECK(hits > 0);
    /* the client's certificate with one bit of its signature changed: the
     * check fails every time, none is remembered */
    unsigned char *der = NULL;
    int n = i2d_X509(p.client.cert, &der);
    REQUIRE(n > 0);
    der[n - 1] ^= 1;
    const unsigned char *cur = der;
    X509 *forged = d2i_X509(NULL, &cur, n);
    REQUIRE(forged != NULL);
    SSL_CTX *forger = ctx_for(&p.client, &p.ca, &p.ca, false);
    REQUIRE(SSL_CTX_use_certificate(forger, forged) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(forger, p.client.key) == 1);
    uint64_t v0 = tls_certcache_verify_hits();
    for (int i = 0; i < 3; i++) {
        bool ok = true;
        SSL *s = handshake(p.server_ctx, forger, &ok);
        CHECK(!ok);
        CHECK(SSL_get0_peer_certificate(s) == NULL);
        SSL_free(s);
    }
    /* one remembered check per handshake: the client's of the server's
     * certificate, never the server's of the forged one */
    CHECK_EQ_INT(tls_certcache_verify_hits() - v0, 3);
    bool ok = false;                         /* the real one still passes */
    SSL_free(handshake(p.server_ctx, p.client_ctx, &ok));
    CHECK(ok);
    SSL_CTX_free(forger);
    X509_free(forged);
    OPENSSL_free(der);
    free_pki(&p);
    tls_certcache_drain();
}

TEST(tls_certcache_decode_moves_the_cursor_as_a_decode)
{
    tls_certcache_drain();
    ident_t ca = pki_ident_new("CA", NULL, 1);
    unsigned char *der = NULL;
    int n = i2d_X509(ca.cert, &der);
    REQUIRE(n > 0);
    unsigned char buf[4096];
    REQUIRE((size_t)n + 3 <= sizeof buf);
    memcpy(buf, der, (size_t)n);
    memcpy(buf + n, "xyz", 3);                 /* bytes after the element stay unread */
    X509 *got[2];
    for (int i = 0; i < 2; i++) {
        const unsigned char *cur = buf;
        X509 *fresh = X509_new();
        got[i] = tls_certcache_decode(&fresh, &cur, n + 3);
        CHECK(got[i] != NULL && fresh == got[i]);
        CHECK(cur == buf + n);
    }
    CHECK(got[0] == got[1]);
    CHECK(X509_cmp(got[0], ca.cert) == 0);
    const unsigned char *cur = buf;              /* no object given: a reference all the same */
    X509 *third = tls_certcache_decode(NULL, &cur, n);
    CHECK(third == got[0] && cur == buf + n);
    X509_free(third);
    X509_free(got[0]);
    X509_free(got[1]);
    buf[n - 1] ^= 1;                             /* another certificate (a broken signature) */
    cur = buf;
    X509 *x = X509_new();
    X509 *other = tls_certcache_decode(&x, &cur, n);
    CHECK(other != NULL && other != got[0]);
    X509_free(x);
    cur = buf;                                   /* truncated: fails as a decode does */
    x = X509_new();
    CHECK(tls_certcache_decode(&x, &cur, n - 10) == NULL);
    X509_free(x);
    OPENSSL_free(der);
    pki_ident_free(&ca);
    tls_certcache_drain();
    ERR_clear_error();
}

TEST(tls_certcache_other_callers_decode_as_before)
{
    tls_certcache_drain();
    ident_t ca = pki_ident_new("CA", NULL, 1);
    unsigned char *der = NULL;
    int n = i2d_X509(ca.cert, &der);
    REQUIRE(n > 0);
    uint64_t h0, m0, h1, m1;
    tls_certcache_stats(&h0, &m0);
    X509 *a = NULL, *b = NULL;
    for (int i = 0; i < 2; i++) {
        const unsigned char *cur = der;
        X509 *x = X509_new();
        X509 *got = d2i_X509(&x, &cur, n);       /* not from libssl */
        CHECK(got != NULL && cur == der + n);
        if (i == 0) a = got; else b = got;
    }
    tls_certcache_stats(&h1, &m1);
    CHECK(a != b);
    CHECK_EQ_INT(h1 - h0, 0);
    CHECK_EQ_INT(m1 - m0, 0);
    X509_free(a);
    X509_free(b);
    OPENSSL_free(der);
    pki_ident_free(&ca);
}

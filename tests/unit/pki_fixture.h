/* pki_fixture.h - keys and certificates made in memory for the TLS unit
 * tests (test_tls_certcache.c, test_tls_fetch.c, test_tls_rec.c): an EC P-256 key and an
 * X.509 v3 certificate for it, valid from an hour ago for a day, signed by
 * an issuer or self-signed as a CA.
 *
 * Never: write a file or touch the node's TLS contexts.
 */
#ifndef SHOAL_TESTS_UNIT_PKI_FIXTURE_H
#define SHOAL_TESTS_UNIT_PKI_FIXTURE_H

#include <stdbool.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

typedef struct {
    EVP_PKEY *key;
    X509 *cert;
} ident_t;

/* A certificate with subject CN=cn and the given serial for a new key,
 * signed by issuer's key; issuer NULL: self-signed, marked CA:TRUE. */
ident_t pki_ident_new(const char *cn, const ident_t *issuer, long serial);
void pki_ident_free(ident_t *id);

/* A TLS handshake between an SSL of server_ctx and one of client_ctx over
 * a BIO pair, each stepped in turn until both finish or one fails for
 * another reason than waiting for the other: *server and *client (the
 * caller frees both), true when both finished. */
bool pki_pair_handshake(SSL_CTX *server_ctx, SSL_CTX *client_ctx, SSL **server, SSL **client);

#endif

/* pki_fixture.c - see pki_fixture.h. */
#include <openssl/x509v3.h>

#include "tests/unit/pki_fixture.h"

ident_t pki_ident_new(const char *cn, const ident_t *issuer, long serial)
{
    ident_t id = { EVP_EC_gen("P-256"), X509_new() };
    X509_set_version(id.cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(id.cert), serial);
    X509_gmtime_adj(X509_getm_notBefore(id.cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(id.cert), 3600L * 24);
    X509_NAME *name = X509_get_subject_name(id.cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(id.cert, issuer ? X509_get_subject_name(issuer->cert) : name);
    X509_set_pubkey(id.cert, id.key);
    if (!issuer) {
        X509V3_CTX v3;
        X509V3_set_ctx(&v3, id.cert, id.cert, NULL, NULL, 0);
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
        X509_add_ext(id.cert, ext, -1);
        X509_EXTENSION_free(ext);
    }
    X509_sign(id.cert, issuer ? issuer->key : id.key, EVP_sha256());
    return id;
}

void pki_ident_free(ident_t *id)
{
    EVP_PKEY_free(id->key);
    X509_free(id->cert);
}

bool pki_pair_handshake(SSL_CTX *server_ctx, SSL_CTX *client_ctx, SSL **server, SSL **client)
{
    SSL *s = SSL_new(server_ctx), *c = SSL_new(client_ctx);
    BIO *sb = NULL, *cb = NULL;
    BIO_new_bio_pair(&sb, 0, &cb, 0);
    SSL_set_bio(s, sb, sb);
    SSL_set_bio(c, cb, cb);
    SSL_set_accept_state(s);
    SSL_set_connect_state(c);
    int rs = 0, rc = 0;
    for (int i = 0; i < 50 && (rs != 1 || rc != 1); i++) {
        if (rc != 1) rc = SSL_do_handshake(c);
        if (rs != 1) rs = SSL_do_handshake(s);
        if ((rs <= 0 && SSL_get_error(s, rs) != SSL_ERROR_WANT_READ) ||
            (rc <= 0 && SSL_get_error(c, rc) != SSL_ERROR_WANT_READ)) break;
    }
    *server = s;
    *client = c;
    return rs == 1 && rc == 1;
}

/* tls_certcache.h - the certificates peers send in TLS handshakes, decoded
 * once per thread (see tls_certcache.c for why and how libssl's decodes
 * reach it).
 */
#ifndef SHOAL_RUNTIME_TLS_CERTCACHE_H
#define SHOAL_RUNTIME_TLS_CERTCACHE_H

#include <stdint.h>

#include <openssl/x509.h>

/* Certificates kept per thread, and the largest one kept (DER bytes). */
#define CERTCACHE_SLOTS 16
#define CERTCACHE_MAX_DER 16384

/* As d2i_X509, served from the calling thread's cache when the same DER
 * element was decoded there before: returns that X509 with a new reference
 * (the caller's, freed by X509_free), *a freed and replaced by it when a is
 * given, *pp moved past the element. libssl's decodes come here. */
X509 *tls_certcache_decode(X509 **a, const unsigned char **pp, long len);

/* The calling thread's hits and misses so far (tests). */
void tls_certcache_stats(uint64_t *hits, uint64_t *misses);
/* Signature checks the calling thread did not make again (tests). */
uint64_t tls_certcache_verify_hits(void);
/* Drops the calling thread's certificates (tests; a thread that ends does
 * this itself). */
void tls_certcache_drain(void);

#endif

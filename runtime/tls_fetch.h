/* tls_fetch.h - OpenSSL's algorithm fetches (EVP_MD_fetch, EVP_KDF_fetch,
 * EVP_MAC_fetch, EVP_SIGNATURE_fetch) answered from a per-thread cache (see
 * tls_fetch.c for why and how OpenSSL's calls reach it).
 */
#ifndef SHOAL_RUNTIME_TLS_FETCH_H
#define SHOAL_RUNTIME_TLS_FETCH_H

#include <stdint.h>

/* Methods kept per thread, and the longest name or property query kept. */
#define FETCH_SLOTS 32
#define FETCH_NAME_MAX 48

/* The calling thread's fetches answered from its cache, and those that went
 * to OpenSSL's store (tests). */
void tls_fetch_stats(uint64_t *hits, uint64_t *misses);
/* Drops the calling thread's methods (tests; a thread that ends does this
 * itself). */
void tls_fetch_drain(void);

#endif

/* tls_alloc.h - the allocator OpenSSL uses in the node (tls.c hands these to
 * CRYPTO_set_mem_functions): glibc's, uncounted (rt_mem_raw_malloc), behind
 * a cache of freed blocks per thread. See tls_alloc.c for why.
 *
 * What tls_alloc_malloc or tls_alloc_realloc return is glibc's (uncounted)
 * and is freed by tls_alloc_free, on any thread.
 */
#ifndef SHOAL_RUNTIME_TLS_ALLOC_H
#define SHOAL_RUNTIME_TLS_ALLOC_H

#include <stddef.h>

/* Blocks up to this size are cached when freed; each thread keeps at most
 * TLS_ALLOC_BUDGET bytes of them. */
#define TLS_ALLOC_MAX_CACHED 1024
#define TLS_ALLOC_BUDGET (256 * 1024)
/* Freed blocks of TLS_ALLOC_BIG_MIN to TLS_ALLOC_BIG_MAX usable bytes: each
 * thread keeps the last TLS_ALLOC_BIG_SLOTS (at most 512 KB). */
#define TLS_ALLOC_BIG_MIN (16 * 1024)
#define TLS_ALLOC_BIG_MAX (128 * 1024)
#define TLS_ALLOC_BIG_SLOTS 4

void *tls_alloc_malloc(size_t size);
/* As OpenSSL's own CRYPTO_realloc: NULL ptr allocates, size 0 frees and
 * returns NULL. */
void *tls_alloc_realloc(void *ptr, size_t size);
void tls_alloc_free(void *ptr);

/* Bytes of freed blocks the calling thread holds for reuse (tests). */
size_t tls_alloc_cached_bytes(void);
/* Usable bytes of the large freed blocks it holds (tests). */
size_t tls_alloc_cached_big_bytes(void);
/* Gives the calling thread's cached blocks back to glibc (tests; a thread
 * that ends does this itself). */
void tls_alloc_drain(void);

#endif

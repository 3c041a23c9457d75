/* tls_alloc.c - a cache of small freed blocks per thread in front of
 * glibc's allocator, for OpenSSL's allocations.
 *
 * A full TLS handshake with a client certificate makes about 4,000
 * allocations, most of them small and in bursts (OpenSSL 3.0 builds and
 * drops a decoder context of a few hundred objects for every certificate it
 * parses). glibc's own per-thread cache holds 7 blocks of a size, so most of
 * a burst went through the arena's bins: callgrind counted about 120
 * instructions per malloc and 90 per free, 12% of a handshake's server
 * instructions. Here each thread keeps up to TLS_ALLOC_BUDGET bytes of freed
 * blocks, by 16-byte size class up to TLS_ALLOC_MAX_CACHED, and hands them
 * out again first.
 *
 * A block's class is its usable size (malloc_usable_size) over 16, so a
 * free needs no size and no header: a block asked for as class c holds at
 * least 16 * c bytes, and any block, whatever it was asked for, holds at
 * least 16 * (its class) bytes, so it may serve any request of that class.
 * Blocks above the classes go back to glibc. A block freed by another
 * thread than the one that allocated it goes into the freeing thread's
 * cache: the memory is glibc's either way, and glibc takes it back from any
 * thread. A thread that ends gives its cache back (a pthread key's
 * destructor); what it frees after that goes straight to glibc.
 *
 * Must never: hand out a block smaller than asked; lock; log; keep more
 * than TLS_ALLOC_BUDGET bytes per thread.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>

#include "runtime/memcount.h"
#include "runtime/tls_alloc.h"

#define STEP 16
#define NCLASSES (TLS_ALLOC_MAX_CACHED / STEP)

typedef struct block { struct block *next; } block_t;

enum { CACHE_UNUSED, CACHE_LIVE, CACHE_GONE };

typedef struct {
    block_t *head[NCLASSES + 1];   /* by class, 1..NCLASSES */
    size_t bytes;
    int state;
} cache_t;

static __thread cache_t cache;
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static bool exit_key_ok;

static size_t class_of(size_t size) { return size == 0 ? 1 : (size + STEP - 1) / STEP; }

/* 0 or above NCLASSES: not cached. */
static size_t class_of_block(void *p) { return malloc_usable_size(p) / STEP; }

static void drain(cache_t *c)
{
    for (size_t k = 1; k <= NCLASSES; k++) {
        while (c->head[k]) {
            block_t *b = c->head[k];
            c->head[k] = b->next;
            rt_mem_raw_free(b);
        }
    }
    c->bytes = 0;
}

/* The key's destructor, in the ending thread: its cache is still there. */
static void on_thread_exit(void *arg)
{
    cache_t *c = arg;
    drain(c);
    c->state = CACHE_GONE;
}

static void exit_key_init(void) { exit_key_ok = pthread_key_create(&exit_key, on_thread_exit) == 0; }

/* A thread caches only once its cache will be given back when it ends. */
static bool cache_usable(void)
{
    if (cache.state == CACHE_LIVE) return true;
    if (cache.state == CACHE_GONE) return false;
    pthread_once(&exit_once, exit_key_init);
    cache.state = exit_key_ok && pthread_setspecific(exit_key, &cache) == 0 ? CACHE_LIVE : CACHE_GONE;
    return cache.state == CACHE_LIVE;
}

void *tls_alloc_malloc(size_t size)
{
    if (size <= TLS_ALLOC_MAX_CACHED) {
        size_t cls = class_of(size);
        block_t *b = cache.head[cls];
        if (b) {
            cache.head[cls] = b->next;
            cache.bytes -= cls * STEP;
            return b;
        }
        return rt_mem_raw_malloc(cls * STEP);
    }
    return rt_mem_raw_malloc(size);
}

void tls_alloc_free(void *ptr)
{
    if (!ptr) return;
    size_t cls = class_of_block(ptr);
    if (cls >= 1 && cls <= NCLASSES && cache.bytes + cls * STEP <= TLS_ALLOC_BUDGET && cache_usable()) {
        block_t *b = ptr;
        b->next = cache.head[cls];
        cache.head[cls] = b;
        cache.bytes += cls * STEP;
        return;
    }
    rt_mem_raw_free(ptr);
}

void *tls_alloc_realloc(void *ptr, size_t size)
{
    if (!ptr) return tls_alloc_malloc(size);
    if (size == 0) {
        tls_alloc_free(ptr);
        return NULL;
    }
    return rt_mem_raw_realloc(ptr, size);   /* every block is glibc's own */
}

size_t tls_alloc_cached_bytes(void) { return cache.bytes; }
void tls_alloc_drain(void) { drain(&cache); }

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
 * Large blocks (TLS_ALLOC_BIG_MIN..TLS_ALLOC_BIG_MAX: OpenSSL's record
 * buffers, a bus link's write buffer) are kept too, the last
 * TLS_ALLOC_BIG_SLOTS freed, and handed out latest first to a request they
 * fit within a quarter. A busy TLS bus link takes and gives back three of
 * them per read round (its buffers are freed whenever empty, so that an
 * idle link holds none): glibc's bins and the top chunk's trimming were
 * ~2% of a TLS gossip flood's CPU, and the latest block is the one still
 * in the cache, which is why links share them through this cache instead
 * of each keeping its own (tried: each link keeping its buffers cost as
 * much in colder copies as it saved in malloc).
 *
 * Must never: hand out a block smaller than asked; lock; log; keep more
 * than TLS_ALLOC_BUDGET bytes of small blocks and TLS_ALLOC_BIG_SLOTS large
 * ones per thread.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

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
    void *big[TLS_ALLOC_BIG_SLOTS];   /* large freed blocks, the latest last */
    size_t big_size[TLS_ALLOC_BIG_SLOTS];   /* their usable sizes */
    unsigned nbig;
} cache_t;

static __thread cache_t cache;
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static bool exit_key_ok;

static size_t class_of(size_t size) { return size == 0 ? 1 : (size + STEP - 1) / STEP; }

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
    while (c->nbig) rt_mem_raw_free(c->big[--c->nbig]);
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

/* The latest freed large block that fits size without wasting more than a
 * quarter of it (a 4 KB request never takes a 66 KB block), or NULL. */
static void *big_take(size_t size)
{
    for (unsigned i = cache.nbig; i-- > 0;) {
        if (cache.big_size[i] < size || cache.big_size[i] - size > size / 4) continue;
        void *p = cache.big[i];
        for (unsigned j = i + 1; j < cache.nbig; j++) {
            cache.big[j - 1] = cache.big[j];
            cache.big_size[j - 1] = cache.big_size[j];
        }
        cache.nbig--;
        return p;
    }
    return NULL;
}

/* Keeps a large block (usable bytes) for reuse; when all slots are taken
 * the oldest goes back to glibc. */
static void big_keep(void *p, size_t usable)
{
    if (cache.nbig == TLS_ALLOC_BIG_SLOTS) {
        rt_mem_raw_free(cache.big[0]);
        memmove(cache.big, cache.big + 1, sizeof cache.big[0] * (TLS_ALLOC_BIG_SLOTS - 1));
        memmove(cache.big_size, cache.big_size + 1, sizeof cache.big_size[0] * (TLS_ALLOC_BIG_SLOTS - 1));
        cache.nbig--;
    }
    cache.big[cache.nbig] = p;
    cache.big_size[cache.nbig++] = usable;
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
    void *p = size >= TLS_ALLOC_BIG_MIN && size <= TLS_ALLOC_BIG_MAX ? big_take(size) : NULL;
    return p ? p : rt_mem_raw_malloc(size);
}

void tls_alloc_free(void *ptr)
{
    if (!ptr) return;
    size_t usable = malloc_usable_size(ptr);
    if (usable >= TLS_ALLOC_BIG_MIN && usable <= TLS_ALLOC_BIG_MAX && cache_usable()) {
        big_keep(ptr, usable);
        return;
    }
    size_t cls = usable / STEP;
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
size_t tls_alloc_cached_big_bytes(void)
{
    size_t n = 0;
    for (unsigned i = 0; i < cache.nbig; i++) n += cache.big_size[i];
    return n;
}
void tls_alloc_drain(void) { drain(&cache); }

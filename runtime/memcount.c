/* memcount.c - see memcount.h. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/memcount.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MEMCOUNT_WRAP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define MEMCOUNT_WRAP 0
#endif
#endif
#ifndef MEMCOUNT_WRAP
#define MEMCOUNT_WRAP 1
#endif

#define MEMCOUNT_SLOTS 256

typedef struct mem_slot {
    alignas(64) _Atomic long long bytes;   /* written by its thread only */
} mem_slot_t;

static mem_slot_t g_slots[MEMCOUNT_SLOTS];
/* Threads without a line (before start-up is done, more than MEMCOUNT_SLOTS
 * at once, or ending) and what ended threads still held. */
static _Atomic long long g_shared;
static _Atomic long long g_peak;
/* One past the highest line ever taken: the sum reads no further. */
static _Atomic int g_slot_hw;

/* -1: not yet claimed; -2: uses g_shared; >= 0: its line. */
static __thread int tl_slot = -1;


bool rt_mem_counting(void) { return MEMCOUNT_WRAP; }

long long rt_mem_used(void)
{
    /* relaxed: a statistic, each line a little stale at worst */
    long long sum = atomic_load_explicit(&g_shared, memory_order_relaxed);
    int hw = atomic_load_explicit(&g_slot_hw, memory_order_relaxed);
    for (int i = 0; i < hw; i++) sum += atomic_load_explicit(&g_slots[i].bytes, memory_order_relaxed);
    return sum;
}

long long rt_mem_thread_net(void)
{
    int s = tl_slot;
    return s >= 0 ? atomic_load_explicit(&g_slots[s].bytes, memory_order_relaxed) : 0;
}

long long rt_mem_note_peak(long long used)
{
    /* relaxed: the peak is a statistic; the CAS keeps concurrent raises */
    long long peak = atomic_load_explicit(&g_peak, memory_order_relaxed);
    while (used > peak &&
           !atomic_compare_exchange_weak_explicit(&g_peak, &peak, used, memory_order_relaxed, memory_order_relaxed)) {}
    return used > peak ? used : peak;
}

long long rt_mem_peak(void) { return atomic_load_explicit(&g_peak, memory_order_relaxed); }

void rt_mem_reset_peak(long long used) { atomic_store_explicit(&g_peak, used, memory_order_relaxed); }

static _Atomic long long g_startup;

void rt_mem_mark_startup(long long bytes)
{
    long long none = 0;
    /* relaxed: a statistic; the CAS keeps the first value */
    atomic_compare_exchange_strong_explicit(&g_startup, &none, bytes > 0 ? bytes : 1, memory_order_relaxed,
                                            memory_order_relaxed);
}
long long rt_mem_startup(void) { return atomic_load_explicit(&g_startup, memory_order_relaxed); }

#if !MEMCOUNT_WRAP

void *rt_mem_raw_malloc(size_t size) { return malloc(size); }
void *rt_mem_raw_realloc(void *ptr, size_t size) { return realloc(ptr, size); }
void rt_mem_raw_free(void *ptr) { free(ptr); }

#else

static _Atomic unsigned char g_slot_taken[MEMCOUNT_SLOTS];
static pthread_key_t g_exit_key;
static _Atomic bool g_key_ready;

extern void *__libc_malloc(size_t size);
extern void __libc_free(void *ptr);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

/* A thread's end (pthread key destructor): what it still holds moves to the
 * remainder, and its line is free for the next thread. */
static void slot_release(void *v)
{
    int s = (int)((intptr_t)v - 1);
    tl_slot = -2;
    long long held = atomic_exchange_explicit(&g_slots[s].bytes, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&g_shared, held, memory_order_relaxed);
    /* release: the zeroed line is visible before another thread takes it */
    atomic_store_explicit(&g_slot_taken[s], 0, memory_order_release);
}

__attribute__((constructor)) static void memcount_init(void)
{
    if (pthread_key_create(&g_exit_key, slot_release) == 0)
        atomic_store_explicit(&g_key_ready, true, memory_order_release);
}

static void slot_claim(void)
{
    tl_slot = -2;               /* while claiming, and if no line is free */
    if (!atomic_load_explicit(&g_key_ready, memory_order_acquire)) {
        tl_slot = -1;           /* before start-up: try again later */
        return;
    }
    for (int i = 0; i < MEMCOUNT_SLOTS; i++) {
        unsigned char no = 0;
        /* acquire: pairs with slot_release's store of 0 */
        if (atomic_load_explicit(&g_slot_taken[i], memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong_explicit(&g_slot_taken[i], &no, 1, memory_order_acquire,
                                                    memory_order_relaxed)) {
            /* keys below 32 live in the thread descriptor: no allocation here */
            if (pthread_setspecific(g_exit_key, (void *)(intptr_t)(i + 1)) != 0) {
                atomic_store_explicit(&g_slot_taken[i], 0, memory_order_release);
                return;
            }
            tl_slot = i;
            /* relaxed: a reader that misses the raise misses a line that has counted nothing yet */
            int hw = atomic_load_explicit(&g_slot_hw, memory_order_relaxed);
            while (hw < i + 1 &&
                   !atomic_compare_exchange_weak_explicit(&g_slot_hw, &hw, i + 1, memory_order_relaxed,
                                                          memory_order_relaxed)) {}
            return;
        }
    }
}

static inline void count(long long delta)
{
    int s = tl_slot;
    if (s == -1) {
        slot_claim();
        s = tl_slot;
    }
    if (s >= 0) {
        /* relaxed load and store, no read-modify-write: this thread is the line's only writer */
        long long v = atomic_load_explicit(&g_slots[s].bytes, memory_order_relaxed);
        atomic_store_explicit(&g_slots[s].bytes, v + delta, memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&g_shared, delta, memory_order_relaxed);
    }
}

void *rt_mem_raw_malloc(size_t size) { return __libc_malloc(size); }
void *rt_mem_raw_realloc(void *ptr, size_t size) { return __libc_realloc(ptr, size); }
void rt_mem_raw_free(void *ptr) { __libc_free(ptr); }

void *malloc(size_t size)
{
    void *p = __libc_malloc(size);
    if (p) count((long long)malloc_usable_size(p));
    return p;
}

void free(void *ptr)
{
    if (!ptr) return;
    count(-(long long)malloc_usable_size(ptr));
    __libc_free(ptr);
}

void *calloc(size_t n, size_t size)
{
    void *p = __libc_calloc(n, size);
    if (p) count((long long)malloc_usable_size(p));
    return p;
}

void *realloc(void *ptr, size_t size)
{
    size_t old = ptr ? malloc_usable_size(ptr) : 0;
    void *p = __libc_realloc(ptr, size);
    if (p) count((long long)malloc_usable_size(p) - (long long)old);
    else if (ptr && size == 0) count(-(long long)old);   /* realloc(p, 0) freed it */
    return p;
}

void *memalign(size_t align, size_t size)
{
    void *p = __libc_memalign(align, size);
    if (p) count((long long)malloc_usable_size(p));
    return p;
}

void *aligned_alloc(size_t align, size_t size) { return memalign(align, size); }

int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1))) return EINVAL;
    void *p = memalign(align, size);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t size)
{
    void *p = __libc_valloc(size);
    if (p) count((long long)malloc_usable_size(p));
    return p;
}

void *pvalloc(size_t size)
{
    void *p = __libc_pvalloc(size);
    if (p) count((long long)malloc_usable_size(p));
    return p;
}

#endif

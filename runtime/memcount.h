/* memcount.h - how many heap bytes the process holds, counted by the
 * threads that allocate them: redis-server's used_memory, without its one
 * shared atomic.
 *
 * The node replaces malloc, calloc, realloc, free and the aligned
 * allocators with thin wrappers around glibc's own (__libc_malloc, ...),
 * so every allocation is counted: ours, libev's, Lua's (not OpenSSL's: as in
 * redis-server, whose used_memory counts only what zmalloc allocates, TLS
 * sessions and buffers are left out, see rt_mem_raw_malloc). Each
 * wrapper adds or subtracts the chunk's usable size (malloc_usable_size,
 * what redis-server's zmalloc counts under libc) to a counter that belongs
 * to the calling thread: one cache line per thread, written only by that
 * thread with plain relaxed stores, so the write path of a worker never
 * shares a line or takes a lock. Memory freed by another thread than the
 * one that allocated it lowers the freeing thread's counter: a single
 * counter can go negative, the sum is right.
 *
 * A thread that ends gives its counter back: what it still held moves to a
 * shared remainder and its line is reused by the next thread.
 *
 * Sanitizer builds (ASan, TSan) replace malloc themselves: there the
 * wrappers are left out, rt_mem_counting() is false and the figures are 0.
 *
 * Must never: allocate, lock, or log (it runs inside malloc).
 */
#ifndef SHOAL_RUNTIME_MEMCOUNT_H
#define SHOAL_RUNTIME_MEMCOUNT_H

#include <stdbool.h>
#include <stddef.h>

/* glibc's allocator without the counting, for a library whose memory 7.0.15
 * leaves out of used_memory (OpenSSL: tls.c hands these to
 * CRYPTO_set_mem_functions). What one of them allocates must be freed by
 * rt_mem_raw_free. In sanitizer builds they are plain malloc/realloc/free. */
void *rt_mem_raw_malloc(size_t size);
void *rt_mem_raw_realloc(void *ptr, size_t size);
void rt_mem_raw_free(void *ptr);

/* True when the allocation wrappers are in this build. */
bool rt_mem_counting(void);
/* Heap bytes held by the whole process: the sum of every thread's counter
 * (relaxed loads; a figure that is a few allocations old). */
long long rt_mem_used(void);
/* The calling thread's own counter: bytes it allocated minus bytes it
 * freed. A worker measures what an eviction gave back as its change. */
long long rt_mem_thread_net(void);
/* The highest rt_mem_used() seen by rt_mem_note_peak (INFO, the cron). */
long long rt_mem_note_peak(long long used);
long long rt_mem_peak(void);
void rt_mem_reset_peak(long long used);
/* used_memory_startup: the first call sets it (later ones do nothing). */
void rt_mem_mark_startup(long long bytes);
long long rt_mem_startup(void);

#endif

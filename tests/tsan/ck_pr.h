/* tests/tsan/ck_pr.h - ck_pr for the ThreadSanitizer build only (make test-tsan).
 *
 * Why: on x86-64 ck_pr's loads and stores are plain volatile accesses and its
 * read-modify-writes are inline assembly, correct under the CPU's TSO model
 * but invisible to ThreadSanitizer, which then sees no happens-before edge
 * between a producer and a consumer and reports every message handed over a
 * mailbox as a race (false positives). This header sits ahead of the system's
 * in the TSan build's include path, includes the real one, and re-routes the
 * operations shoal and ck's inline headers use to GCC __atomic builtins, which
 * TSan understands: every load acquires, every store releases and every
 * read-modify-write is sequentially consistent. That is at least as strong as
 * what each call site's ck_pr fences ask for (the fences themselves are left
 * as they are: TSan ignores fences), so it hides no ordering bug the fences
 * would have allowed, it only makes the intended ordering visible.
 *
 * Not covered: code inside libck itself (ck_epoch_poll, ck_epoch_synchronize)
 * is not instrumented; runtime/snapshot.c annotates the one edge it provides
 * (a reader's section ends before the writer frees what it read).
 */
#ifndef SHOAL_TSAN_CK_PR_H
#define SHOAL_TSAN_CK_PR_H

#include_next <ck_pr.h>

#define SHOAL_TSAN_LOAD(p)      __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define SHOAL_TSAN_STORE(p, v)  __atomic_store_n((p), (v), __ATOMIC_RELEASE)

#undef ck_pr_load_ptr
#undef ck_pr_load_int
#undef ck_pr_load_uint
#undef ck_pr_load_char
#undef ck_pr_load_64
#undef ck_pr_load_32
#undef ck_pr_load_16
#undef ck_pr_load_8
#define ck_pr_load_ptr(p)   SHOAL_TSAN_LOAD((void *const *)(p))
#define ck_pr_load_int(p)   SHOAL_TSAN_LOAD((const int *)(p))
#define ck_pr_load_uint(p)  SHOAL_TSAN_LOAD((const unsigned int *)(p))
#define ck_pr_load_char(p)  SHOAL_TSAN_LOAD((const char *)(p))
#define ck_pr_load_64(p)    SHOAL_TSAN_LOAD((const uint64_t *)(p))
#define ck_pr_load_32(p)    SHOAL_TSAN_LOAD((const uint32_t *)(p))
#define ck_pr_load_16(p)    SHOAL_TSAN_LOAD((const uint16_t *)(p))
#define ck_pr_load_8(p)     SHOAL_TSAN_LOAD((const uint8_t *)(p))

#undef ck_pr_store_ptr
#undef ck_pr_store_int
#undef ck_pr_store_uint
#undef ck_pr_store_char
#undef ck_pr_store_64
#undef ck_pr_store_32
#undef ck_pr_store_16
#undef ck_pr_store_8
#define ck_pr_store_ptr(p, v)   SHOAL_TSAN_STORE((void **)(p), (void *)(v))
#define ck_pr_store_int(p, v)   SHOAL_TSAN_STORE((int *)(p), (int)(v))
#define ck_pr_store_uint(p, v)  SHOAL_TSAN_STORE((unsigned int *)(p), (unsigned int)(v))
#define ck_pr_store_char(p, v)  SHOAL_TSAN_STORE((char *)(p), (char)(v))
#define ck_pr_store_64(p, v)    SHOAL_TSAN_STORE((uint64_t *)(p), (uint64_t)(v))
#define ck_pr_store_32(p, v)    SHOAL_TSAN_STORE((uint32_t *)(p), (uint32_t)(v))
#define ck_pr_store_16(p, v)    SHOAL_TSAN_STORE((uint16_t *)(p), (uint16_t)(v))
#define ck_pr_store_8(p, v)     SHOAL_TSAN_STORE((uint8_t *)(p), (uint8_t)(v))

static inline bool shoal_tsan_cas_ptr(void *t, void *cmp, void *set)
{
    return __atomic_compare_exchange_n((void **)t, &cmp, set, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
static inline bool shoal_tsan_cas_ptr_value(void *t, void *cmp, void *set, void *old)
{
    bool ok = __atomic_compare_exchange_n((void **)t, &cmp, set, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    *(void **)old = cmp;   /* the value found, as ck_pr_cas_ptr_value reports it */
    return ok;
}
static inline bool shoal_tsan_cas_int(int *t, int cmp, int set)
{
    return __atomic_compare_exchange_n(t, &cmp, set, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
static inline bool shoal_tsan_cas_uint(unsigned int *t, unsigned int cmp, unsigned int set)
{
    return __atomic_compare_exchange_n(t, &cmp, set, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
static inline void shoal_tsan_dec_uint_zero(unsigned int *t, bool *zero)
{
    *zero = __atomic_sub_fetch(t, 1, __ATOMIC_SEQ_CST) == 0;
}

#define ck_pr_cas_ptr(t, c, s)          shoal_tsan_cas_ptr((t), (void *)(c), (void *)(s))
#define ck_pr_cas_ptr_value(t, c, s, o) shoal_tsan_cas_ptr_value((t), (void *)(c), (void *)(s), (o))
#define ck_pr_cas_int(t, c, s)          shoal_tsan_cas_int((t), (c), (s))
#define ck_pr_cas_uint(t, c, s)         shoal_tsan_cas_uint((t), (c), (s))
#define ck_pr_fas_ptr(t, v)   __atomic_exchange_n((void **)(t), (void *)(v), __ATOMIC_SEQ_CST)
#define ck_pr_fas_uint(t, v)  __atomic_exchange_n((unsigned int *)(t), (unsigned int)(v), __ATOMIC_SEQ_CST)
#define ck_pr_fas_int(t, v)   __atomic_exchange_n((int *)(t), (int)(v), __ATOMIC_SEQ_CST)
#define ck_pr_faa_uint(t, d)  __atomic_fetch_add((unsigned int *)(t), (unsigned int)(d), __ATOMIC_SEQ_CST)
#define ck_pr_faa_int(t, d)   __atomic_fetch_add((int *)(t), (int)(d), __ATOMIC_SEQ_CST)
#define ck_pr_faa_64(t, d)    __atomic_fetch_add((uint64_t *)(t), (uint64_t)(d), __ATOMIC_SEQ_CST)
#define ck_pr_inc_uint(t)     ((void)__atomic_add_fetch((unsigned int *)(t), 1u, __ATOMIC_SEQ_CST))
#define ck_pr_dec_uint(t)     ((void)__atomic_sub_fetch((unsigned int *)(t), 1u, __ATOMIC_SEQ_CST))
#define ck_pr_inc_int(t)      ((void)__atomic_add_fetch((int *)(t), 1, __ATOMIC_SEQ_CST))
#define ck_pr_dec_int(t)      ((void)__atomic_sub_fetch((int *)(t), 1, __ATOMIC_SEQ_CST))
#define ck_pr_dec_uint_zero(t, z) shoal_tsan_dec_uint_zero((unsigned int *)(t), (z))

#endif

/* test_tls_alloc.c - OpenSSL's allocator in the node (runtime/tls_alloc.c):
 * a freed small block is handed out again by the same thread without
 * glibc, up to the budget; blocks are aligned and as large as asked;
 * realloc keeps the contents; a block freed on another thread serves that
 * thread; a block of any size asked serves the class its usable size
 * covers; large blocks (record buffers) are handed out again latest
 * first, the last few only; a thread that ends gives its cache back
 * (else LeakSanitizer, in the unit build, reports its blocks). */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "runtime/tls_alloc.h"
#include "tests/unit/unit.h"

TEST(tls_alloc_reuses_a_freed_block_of_the_class)
{
    tls_alloc_drain();
    void *a = tls_alloc_malloc(100);
    REQUIRE(a != NULL);
    tls_alloc_free(a);
    CHECK(tls_alloc_cached_bytes() == 112);
    void *b = tls_alloc_malloc(112);      /* the same 16-byte class */
    CHECK(b == a);
    CHECK(tls_alloc_cached_bytes() == 0);
    void *c = tls_alloc_malloc(113);      /* the next class: a new block */
    CHECK(c != a);
    tls_alloc_free(b);
    tls_alloc_free(c);
    tls_alloc_drain();
    CHECK(tls_alloc_cached_bytes() == 0);
}

TEST(tls_alloc_blocks_are_aligned_and_whole)
{
    size_t sizes[] = { 0, 1, 15, 16, 17, 500, 1023, 1024, 1025, 70000 };
    void *p[sizeof sizes / sizeof sizes[0]];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        p[i] = tls_alloc_malloc(sizes[i]);
        REQUIRE(p[i] != NULL);
        CHECK(((uintptr_t)p[i] & 15) == 0);
        memset(p[i], (int)i, sizes[i]);   /* ASan: every byte asked for is ours */
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) tls_alloc_free(p[i]);
    tls_alloc_free(NULL);
    tls_alloc_drain();
}

TEST(tls_alloc_keeps_at_most_the_budget)
{
    enum { N = TLS_ALLOC_BUDGET / 1024 + 50 };
    static void *p[N];
    for (int i = 0; i < N; i++) p[i] = tls_alloc_malloc(1024);
    for (int i = 0; i < N; i++) tls_alloc_free(p[i]);
    CHECK(tls_alloc_cached_bytes() <= TLS_ALLOC_BUDGET);
    CHECK(tls_alloc_cached_bytes() >= TLS_ALLOC_BUDGET - 1024);
    void *big = tls_alloc_malloc(TLS_ALLOC_MAX_CACHED + 1);   /* never cached */
    size_t before = tls_alloc_cached_bytes();
    tls_alloc_free(big);
    CHECK(tls_alloc_cached_bytes() == before);
    tls_alloc_drain();
}

TEST(tls_alloc_realloc_keeps_the_contents)
{
    char *p = tls_alloc_realloc(NULL, 10);
    REQUIRE(p != NULL);
    memcpy(p, "0123456789", 10);
    char *q = tls_alloc_realloc(p, 600);
    REQUIRE(q != NULL);
    CHECK_MEM(q, "0123456789", 10);
    char *r = tls_alloc_realloc(q, 5000);          /* to a large block */
    REQUIRE(r != NULL);
    CHECK_MEM(r, "0123456789", 10);
    r[4999] = 'x';
    char *s = tls_alloc_realloc(r, 90000);         /* large to large */
    REQUIRE(s != NULL);
    CHECK_MEM(s, "0123456789", 10);
    CHECK(s[4999] == 'x');
    CHECK(tls_alloc_realloc(s, 0) == NULL);        /* frees, as CRYPTO_realloc */
    tls_alloc_drain();
}

static void *alloc_there(void *arg)
{
    (void)arg;
    void *p = tls_alloc_malloc(200);
    void *keep = tls_alloc_malloc(300);
    tls_alloc_free(keep);                          /* in this thread's cache when it ends */
    return p;
}

TEST(tls_alloc_a_block_freed_on_another_thread_serves_it)
{
    tls_alloc_drain();
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, alloc_there, NULL) == 0);
    void *p = NULL;
    pthread_join(t, &p);
    REQUIRE(p != NULL);
    tls_alloc_free(p);
    CHECK(tls_alloc_cached_bytes() == 208);
    CHECK(tls_alloc_malloc(200) == p);
    tls_alloc_free(p);
    tls_alloc_drain();
}

TEST(tls_alloc_a_reallocated_block_is_cached_by_what_it_holds)
{
    tls_alloc_drain();
    char *p = tls_alloc_malloc(2000);              /* above the classes */
    REQUIRE(p != NULL);
    p = tls_alloc_realloc(p, 40);                  /* now holds at least 40 bytes */
    REQUIRE(p != NULL);
    tls_alloc_free(p);
    size_t cached = tls_alloc_cached_bytes();
    CHECK(cached >= 32 && cached <= 2000);         /* in the class its usable size covers */
    char *q = tls_alloc_malloc(cached);            /* that class's request gets it back */
    CHECK(q == p);
    memset(q, 1, cached);                          /* ASan: all of it is the block's */
    tls_alloc_free(q);
    tls_alloc_drain();
}

/* A busy TLS bus link's buffers (OpenSSL's 66 KB read and 17 KB write
 * buffers, its 66 KB write buffer) are freed and taken again every read
 * round: the latest freed block that fits comes back, without glibc. */
TEST(tls_alloc_large_blocks_are_handed_out_again_latest_first)
{
    tls_alloc_drain();
    enum { RBUF = 67600, WBUF = 17000 };
    char *r = tls_alloc_malloc(RBUF), *w = tls_alloc_malloc(WBUF);
    REQUIRE(r != NULL && w != NULL);
    tls_alloc_free(r);
    tls_alloc_free(w);
    CHECK(tls_alloc_cached_big_bytes() >= RBUF + WBUF);
    CHECK(tls_alloc_cached_bytes() == 0);          /* the small classes' budget is apart */
    char *small = tls_alloc_malloc(4097);          /* a quarter's waste at most: not the 66 KB one */
    CHECK(small != r && small != w);
    char *w2 = tls_alloc_malloc(WBUF), *r2 = tls_alloc_malloc(RBUF);
    CHECK(w2 == w);
    CHECK(r2 == r);
    CHECK(tls_alloc_cached_big_bytes() == 0);
    memset(r2, 1, RBUF);                           /* ASan: all of it is the block's */
    tls_alloc_free(r2);
    tls_alloc_free(w2);
    tls_alloc_free(small);
    tls_alloc_drain();
    CHECK(tls_alloc_cached_big_bytes() == 0);
}

TEST(tls_alloc_keeps_the_last_large_blocks_only)
{
    tls_alloc_drain();
    void *p[TLS_ALLOC_BIG_SLOTS + 2];
    for (int i = 0; i < TLS_ALLOC_BIG_SLOTS + 2; i++) p[i] = tls_alloc_malloc(20000);
    for (int i = 0; i < TLS_ALLOC_BIG_SLOTS + 2; i++) tls_alloc_free(p[i]);
    size_t kept = tls_alloc_cached_big_bytes();
    CHECK(kept >= TLS_ALLOC_BIG_SLOTS * 20000 && kept < (TLS_ALLOC_BIG_SLOTS + 1) * 20000);
    CHECK(tls_alloc_malloc(20000) == p[TLS_ALLOC_BIG_SLOTS + 1]);   /* the latest first */
    tls_alloc_free(p[TLS_ALLOC_BIG_SLOTS + 1]);
    void *huge = tls_alloc_malloc(TLS_ALLOC_BIG_MAX + 4096);        /* above: never kept */
    REQUIRE(huge != NULL);
    tls_alloc_free(huge);
    CHECK(tls_alloc_cached_big_bytes() == kept);
    tls_alloc_drain();
}

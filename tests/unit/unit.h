/* unit.h - a tiny test harness: TEST(name) registers a test function at load
 * time; CHECK(expr) records a failure (with file:line) and lets the test go
 * on; REQUIRE(expr) records a failure and returns from the test. The runner
 * (runner.c) runs every registered test and prints one line per failure and a
 * final "N passed, N failed" line. */
#ifndef SHOAL_TESTS_UNIT_H
#define SHOAL_TESTS_UNIT_H

#include <stdio.h>
#include <string.h>

typedef void (*unit_fn)(void);
void unit_register(const char *name, const char *file, unit_fn fn);
void unit_fail(const char *file, int line, const char *expr);

#define TEST(name) \
    static void test_##name(void); \
    __attribute__((constructor)) static void register_##name(void) { unit_register(#name, __FILE__, test_##name); } \
    static void test_##name(void)

#define CHECK(expr) do { if (!(expr)) unit_fail(__FILE__, __LINE__, #expr); } while (0)
#define REQUIRE(expr) do { if (!(expr)) { unit_fail(__FILE__, __LINE__, #expr); return; } } while (0)
#define CHECK_EQ_INT(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
    if (_a != _b) { char _m[256]; snprintf(_m, sizeof _m, "%s == %s (%lld != %lld)", #a, #b, _a, _b); unit_fail(__FILE__, __LINE__, _m); } } while (0)
#define CHECK_EQ_STR(a, b) do { const char *_a = (a), *_b = (b); \
    if (!_a || !_b || strcmp(_a, _b) != 0) { char _m[512]; snprintf(_m, sizeof _m, "%s == %s (\"%.200s\" != \"%.200s\")", #a, #b, _a ? _a : "(null)", _b ? _b : "(null)"); unit_fail(__FILE__, __LINE__, _m); } } while (0)
#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

/* The captured redis-server 7.0.15 vectors (tests/vectors/README.md). The
 * Makefile passes the absolute directory so the runner works from any cwd;
 * without it the path is relative to the repository root. */
#ifndef SHOAL_VECTORS_DIR
#define SHOAL_VECTORS_DIR "tests/vectors"
#endif
/* Path of a file under tests/vectors, as a string literal. */
#define VECTOR_PATH(name) SHOAL_VECTORS_DIR "/" name

/* Reads a whole file into a malloc'ed buffer; returns NULL on error. */
unsigned char *unit_read_file(const char *path, size_t *len);
/* The same as a NUL-terminated string (for text files); NULL on error. */
char *unit_read_text(const char *path);

#endif

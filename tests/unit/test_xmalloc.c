/* test_xmalloc.c - runtime/xmalloc: the out-of-memory path logs Redis's
 * warning line and ends the process by SIGABRT; the normal paths never
 * return NULL, even for a zero size. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/unit/unit.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

TEST(xmalloc_zero_sizes_are_not_null)
{
    void *a = xmalloc(0), *b = xcalloc(0, 8), *c = xrealloc(NULL, 0);
    CHECK(a != NULL);
    CHECK(b != NULL);
    CHECK(c != NULL);
    free(a); free(b); free(c);
    char *s = xstrdup("abc"), *t = xstrndup("abcdef", 2);
    CHECK_EQ_STR(s, "abc");
    CHECK_EQ_STR(t, "ab");
    free(s); free(t);
    unsigned char *z = xcalloc(16, 4);
    int zero = 1;
    for (int i = 0; i < 64; i++) if (z[i]) zero = 0;
    CHECK(zero);
    free(z);
}

/* Runs fn in a child whose log goes to a temp file; returns the child's wait
 * status and the log's text in out. */
static int run_child(void (*fn)(void), char *out, size_t outsz)
{
    char path[] = "/tmp/shoal-xmalloc-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    close(fd);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGABRT, SIG_DFL);
        if (rt_log_open(path) != 0) _exit(3);
        fn();
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(out, 1, outsz - 1, f) : 0;
    out[n] = '\0';
    if (f) fclose(f);
    unlink(path);
    return status;
}

static void oom_direct(void) { rt_oom(12345); }
/* count*size overflows size_t: refused before calling calloc, so no
 * sanitizer's allocator sees the request. */
static void oom_calloc_overflow(void) { (void)xcalloc(SIZE_MAX / 2, 4); }

TEST(xmalloc_oom_logs_redis_warning_and_aborts)
{
    char log[2048];
    int st = run_child(oom_direct, log, sizeof log);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    CHECK(strstr(log, " # Out Of Memory allocating 12345 bytes!\n") != NULL);

    st = run_child(oom_calloc_overflow, log, sizeof log);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    CHECK(strstr(log, "Out Of Memory allocating ") != NULL);
}

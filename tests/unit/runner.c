/* runner.c - runs every TEST registered by the unit test files.
 * Usage: unit-tests [substring]  (only tests whose name contains it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"

#define MAX_TESTS 2048

static struct { const char *name, *file; unit_fn fn; } tests[MAX_TESTS];
static int test_count;
static int current_failures;
static const char *current_name;

void unit_register(const char *name, const char *file, unit_fn fn)
{
    if (test_count < MAX_TESTS) {
        tests[test_count].name = name;
        tests[test_count].file = file;
        tests[test_count].fn = fn;
        test_count++;
    }
}

void unit_fail(const char *file, int line, const char *expr)
{
    current_failures++;
    printf("FAIL %s (%s:%d): %s\n", current_name, file, line, expr);
    fflush(stdout);
}

unsigned char *unit_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    if (buf) *len = (size_t)n;
    return buf;
}

char *unit_read_text(const char *path)
{
    size_t len = 0;
    unsigned char *buf = unit_read_file(path, &len);
    if (buf == NULL) return NULL;
    char *s = realloc(buf, len + 1);
    if (s == NULL) {
        free(buf);
        return NULL;
    }
    s[len] = '\0';
    return s;
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;
    for (int i = 0; i < test_count; i++) {
        if (filter && !strstr(tests[i].name, filter) && !strstr(tests[i].file, filter)) continue;
        current_name = tests[i].name;
        current_failures = 0;
        tests[i].fn();
        if (current_failures) failed++; else passed++;
    }
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

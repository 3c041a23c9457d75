/* fuzz_migrate.c - libFuzzer target for proto/migrate.c: any bytes fed in
 * any chunks give lines no longer than MIG_LINE_MAX, NUL-terminated, and
 * the same lines whatever the chunking (checked against a feed of the
 * whole input at once); the verdict takes any line under any role.
 * Must never touch anything outside the input bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/migrate.h"

#define MAX_LINES 256

typedef struct { int n; size_t len[MAX_LINES]; uint32_t hash[MAX_LINES]; } lines_t;

static uint32_t fnv(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) { h ^= (uint8_t)s[i]; h *= 16777619u; }
    return h;
}

static void feed(const uint8_t *data, size_t size, size_t chunk, lines_t *out, mig_verdict_t *v)
{
    mig_line_t l = { .len = 0 };
    out->n = 0;
    size_t pos = 0;
    while (pos < size) {
        size_t take = size - pos < chunk ? size - pos : chunk;
        size_t off = 0;
        while (off < take) {
            size_t used = 0;
            int done = mig_line_feed(&l, data + pos + off, take - off, &used);
            if (used == 0 && !done) abort();
            off += used;
            if (!done) break;
            /* a line may hold NUL bytes (7.0.15 then quotes it up to the first) */
            size_t n = l.len;
            if (n > MIG_LINE_MAX || l.text[n] != '\0') abort();
            if (out->n < MAX_LINES) {
                out->len[out->n] = n;
                out->hash[out->n] = fnv(l.text, n);
            }
            out->n++;
            if (v) mig_verdict_line(v, (enum mig_role)(out->n % 4), l.text);
            l.len = 0;
        }
        pos += take;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    size_t chunk = (size_t)data[0] % 17 + 1;
    static lines_t whole, parts;
    mig_verdict_t v;
    mig_verdict_init(&v);
    feed(data + 1, size - 1, size, &whole, NULL);
    feed(data + 1, size - 1, chunk, &parts, &v);
    if (whole.n != parts.n) abort();
    for (int i = 0; i < whole.n && i < MAX_LINES; i++)
        if (whole.len[i] != parts.len[i] || whole.hash[i] != parts.hash[i]) abort();
    if (v.error && strlen(v.error_text) > MIG_LINE_MAX) abort();
    return 0;
}

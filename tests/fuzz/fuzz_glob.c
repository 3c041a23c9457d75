/* fuzz_glob.c - libFuzzer target for glob_match.
 *
 * Input: byte 0 holds flags (bit 0 = nocase); the rest is split at the first
 * NUL byte into pattern and subject (no NUL: the whole rest is the pattern and
 * the subject is empty). Besides crashes and over-reads it checks two things:
 * small inputs agree with a straightforward recursive model of Redis's
 * matcher, and no input takes long (libFuzzer's -timeout catches that). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/glob.h"

static int model_lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

/* Recursive model: one call per star, exponential in general, so only used
 * on short inputs. Follows Redis's token rules step by step. */
static int model(const char *p, size_t pl, const char *s, size_t sl, int nocase)
{
    while (pl && sl) {
        if (p[0] == '*') {
            while (pl >= 2 && p[1] == '*') { p++; pl--; }
            if (pl == 1) return 1;
            while (sl) {
                if (model(p + 1, pl - 1, s, sl, nocase)) return 1;
                s++; sl--;
            }
            return 0;
        } else if (p[0] == '?') {
            s++; sl--;
        } else if (p[0] == '[') {
            int neg, m = 0;
            p++; pl--;
            neg = pl && p[0] == '^';
            if (neg) { p++; pl--; }
            for (;;) {
                if (pl == 0) { p--; pl++; break; }
                if (p[0] == '\\' && pl >= 2) { p++; pl--; if (p[0] == s[0]) m = 1; }
                else if (p[0] == ']') break;
                else if (pl >= 3 && p[1] == '-') {
                    int a = (signed char)p[0], b = (signed char)p[2], c = (signed char)s[0];
                    if (a > b) { int t = a; a = b; b = t; }
                    if (nocase) { a = model_lower(a); b = model_lower(b); c = model_lower(c); }
                    p += 2; pl -= 2;
                    if (c >= a && c <= b) m = 1;
                } else if (nocase ? model_lower((unsigned char)p[0]) == model_lower((unsigned char)s[0])
                                  : p[0] == s[0]) m = 1;
                p++; pl--;
            }
            if (neg) m = !m;
            if (!m) return 0;
            s++; sl--;
        } else {
            if (p[0] == '\\' && pl >= 2) { p++; pl--; }
            if (nocase ? model_lower((unsigned char)p[0]) != model_lower((unsigned char)s[0]) : p[0] != s[0])
                return 0;
            s++; sl--;
        }
        p++; pl--;
        if (sl == 0) {
            while (pl && p[0] == '*') { p++; pl--; }
            break;
        }
    }
    return pl == 0 && sl == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int nocase = data[0] & 1;
    const uint8_t *rest = data + 1;
    size_t restlen = size - 1;
    const uint8_t *nul = memchr(rest, 0, restlen);
    size_t pl = nul ? (size_t)(nul - rest) : restlen;
    size_t sl = nul ? restlen - pl - 1 : 0;
    /* Copies so that ASan sees exact bounds for both halves. */
    char *pat = malloc(pl ? pl : 1), *s = malloc(sl ? sl : 1);
    if (!pat || !s) { free(pat); free(s); return 0; }
    memcpy(pat, rest, pl);
    if (sl) memcpy(s, nul + 1, sl);
    int got = glob_match(pat, pl, s, sl, nocase);
    size_t stars = 0;
    for (size_t i = 0; i < pl; i++) stars += pat[i] == '*';
    if (pl <= 24 && sl <= 24 && stars <= 6) {
        if (got != model(pat, pl, s, sl, nocase)) abort();
    }
    free(pat);
    free(s);
    return 0;
}

/* glob.c - Redis-compatible glob matching (KEYS, SCAN MATCH, CONFIG GET ...).
 *
 * Redis matches recursively, one level per '*'. We get the same answers
 * without recursion: every token other than '*' consumes exactly one byte of
 * the subject, so when the part after a star fails, only the most recent star
 * ever needs to take one more byte (an earlier star taking more bytes can only
 * put the later star in a position it has already tried). That bounds the work
 * at O(patlen * slen) and the stack at O(1), whatever a client sends.
 *
 * Must never read outside [pat, pat+patlen) or [s, s+slen): Redis relies on
 * a NUL terminator in a few places, we compare against the length instead,
 * which gives the same results because a terminator is never a token byte.
 */
#include <stdint.h>
#include "proto/glob.h"

/* Redis folds case with tolower() in the C locale: ASCII letters only, and
 * bytes >= 0x80 (negative as char) come back unchanged. */
static int glob_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Matches the single non-star token at pat[*p] against byte `c`. Advances *p
 * past the token whatever the outcome (a token's extent never depends on the
 * subject). Returns 1 on a match. */
static int glob_token(const char *pat, size_t patlen, size_t *p, char c, int nocase)
{
    size_t i = *p;
    char ch = pat[i];

    if (ch == '?') {
        *p = i + 1;
        return 1;
    }
    if (ch == '[') {
        int negate = 0, match = 0;
        i++;
        if (i < patlen && pat[i] == '^') {
            negate = 1;
            i++;
        }
        for (;;) {
            if (i >= patlen) {
                /* Unterminated set: it swallows the rest of the pattern. */
                break;
            }
            if (pat[i] == '\\' && patlen - i >= 2) {
                /* An escaped byte inside a set compares exactly, even with nocase. */
                i++;
                if (pat[i] == c) match = 1;
            } else if (pat[i] == ']') {
                i++;
                break;
            } else if (patlen - i >= 3 && pat[i + 1] == '-') {
                /* Ranges compare bytes as signed char, as redis-server on x86
                 * does (so [a-\xff] is really [\xff-a]); a reversed range is
                 * swapped before case folding. */
                int lo = (signed char)pat[i], hi = (signed char)pat[i + 2];
                int cc = (signed char)c;
                if (lo > hi) {
                    int t = lo;
                    lo = hi;
                    hi = t;
                }
                if (nocase) {
                    lo = glob_lower(lo);
                    hi = glob_lower(hi);
                    cc = glob_lower(cc);
                }
                i += 2;
                if (cc >= lo && cc <= hi) match = 1;
            } else if (nocase) {
                if (glob_lower((unsigned char)pat[i]) == glob_lower((unsigned char)c)) match = 1;
            } else if (pat[i] == c) {
                match = 1;
            }
            i++;
        }
        *p = i;
        return negate ? !match : match;
    }
    if (ch == '\\' && patlen - i >= 2) {
        /* Escape: the next byte is literal. A trailing backslash is itself literal. */
        i++;
        ch = pat[i];
    }
    *p = i + 1;
    if (nocase) return glob_lower((unsigned char)ch) == glob_lower((unsigned char)c);
    return ch == c;
}

int glob_match(const char *pat, size_t patlen, const char *s, size_t slen, int nocase)
{
    /* Redis's loop never starts on an empty subject, so only "" matches "". */
    if (slen == 0) return patlen == 0;

    size_t p = 0, i = 0;
    size_t star_p = SIZE_MAX;   /* pattern index just after the most recent star */
    size_t star_s = 0;          /* subject index where that star's match starts */

    for (;;) {
        if (i == slen) {
            /* Subject used up: only stars may remain. */
            while (p < patlen && pat[p] == '*') p++;
            if (p == patlen) return 1;
        } else if (p < patlen) {
            if (pat[p] == '*') {
                while (p + 1 < patlen && pat[p + 1] == '*') p++;
                if (p + 1 == patlen) return 1;   /* trailing star eats the rest */
                star_p = p + 1;
                star_s = i;
                p = star_p;
                continue;
            }
            if (glob_token(pat, patlen, &p, s[i], nocase)) {
                i++;
                continue;
            }
        }
        /* Mismatch: let the most recent star take one more byte. Redis's
         * star loop only tries non-empty remainders, hence star_s + 1 < slen. */
        if (star_p == SIZE_MAX || star_s + 1 >= slen) return 0;
        star_s++;
        p = star_p;
        i = star_s;
    }
}

/* glob.h - Redis-style glob matching for KEYS, SCAN MATCH and friends.
 *
 * Semantics are those of redis-server 7.0.15's pattern matcher, quirks
 * included (an empty string is matched only by an empty pattern; an
 * unterminated "[" set runs to the end of the pattern; a backslash inside a
 * set compares case-sensitively; set ranges compare bytes as signed chars).
 * Pure: no I/O, no globals, no allocation. Must never recurse or backtrack
 * without bound: matching is O(patlen * slen) whatever the pattern.
 */
#ifndef SHOAL_PROTO_GLOB_H
#define SHOAL_PROTO_GLOB_H

#include <stddef.h>

/* 1 if `s` matches `pat`, 0 otherwise. Both are binary-safe byte ranges.
 * `nocase` folds ASCII letters (as Redis does for KEYS-like callers that ask). */
int glob_match(const char *pat, size_t patlen, const char *s, size_t slen, int nocase);

#endif

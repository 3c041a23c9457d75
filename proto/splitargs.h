/* splitargs.h - the one splitter of a line into words with Redis's quoting
 * (sdssplitargs): inline commands from clients (resp.c) and redis.conf lines
 * (actors/config) read the same way, so a word that works in one works in the
 * other, and both match redis-server 7.0.15.
 *
 * Rules: blanks separate words; a double-quoted part knows \xHH and the C
 * escapes \n \r \t \b \a (any other escaped byte is itself); a single-quoted
 * part knows only \'; a quote may open inside a word (foo"bar" is one word) but
 * a closing quote must be followed by a blank or the end.
 *
 * Never: read text past n, or write more than n bytes to out.
 */
#ifndef SHOAL_PROTO_SPLITARGS_H
#define SHOAL_PROTO_SPLITARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Called once per word, in order; word points into splitargs' out. */
typedef void (*splitargs_word_fn)(void *arg, const char *word, size_t len);

/* Splits text[0..n) into words. Reading stops at n or at a NUL, as Redis
 * scanning a C string would. The unquoted bytes of every word are written
 * to out (room for n bytes, words one after the other, no terminators).
 * Returns false on unbalanced quotes; the words reported before stay
 * reported, and the caller discards them. */
bool splitargs(const uint8_t *text, size_t n, char *out, splitargs_word_fn fn, void *arg);

/* True when `s` must be quoted to come back whole from splitargs (a blank,
 * quote, backslash or unprintable byte), as Redis's sdsneedsrepr decides. */
bool splitargs_needs_repr(const char *s, size_t len);

/* Writes `s` double-quoted with the escapes splitargs reads back (Redis's
 * sdscatrepr: \\ \" \n \r \t \a \b, \xHH for other unprintable bytes) into
 * out, NUL-terminated, at most cap bytes. Returns the length the whole quoted
 * text needs (without the NUL); it was cut when that is >= cap. */
size_t splitargs_repr(const char *s, size_t len, char *out, size_t cap);

#endif

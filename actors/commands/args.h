/* args.h - the one place command handlers (on workers and on the state
 * actor) read their arguments: keyword matches and integers.
 *
 * Keywords match with an ASCII case fold, never the C library's
 * locale-dependent strncasecmp: a client's "NX" must mean the same thing
 * whatever locale the process happens to run under. Integers follow Redis's
 * string2ll rules (proto/strnum.h).
 */
#ifndef SHOAL_ACTORS_COMMANDS_ARGS_H
#define SHOAL_ACTORS_COMMANDS_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/commands/cmd.h"

/* Whether the `n` bytes at `a` spell `word` (ASCII letters of either case
 * match; `word` is NUL-terminated). */
bool arg_is(const uint8_t *a, size_t n, const char *word);

/* Whether argument i of a command spells `word`, as arg_is. */
static inline bool arg_is_at(const cmd_ctx_t *ctx, int i, const char *word)
{
    return arg_is(ctx->argv[i], ctx->argvlen[i], word);
}

/* The `n` bytes at `a` as a long long, by Redis's string2ll rules; false
 * (leaving *out alone) for anything else. */
bool arg_ll(const uint8_t *a, size_t n, long long *out);

/* Argument i as a long long; when it is not one, replies Redis's "not an
 * integer" error and returns false. */
bool arg_ll_at(cmd_ctx_t *ctx, int i, long long *out);
/* The same within an int's range, as Redis's getIntFromObjectOrReply
 * (its own error past the range). */
bool arg_int_at(cmd_ctx_t *ctx, int i, long long *out);

/* Redis's string2ld: the `len` bytes at s as a long double (no leading
 * space, nothing after the number, NaN refused, "inf" accepted); false
 * otherwise. (cmd_strings.c; INCRBYFLOAT and HINCRBYFLOAT.) */
bool arg_parse_long_double(const uint8_t *s, size_t len, long double *out);
/* Redis's ld2string in its human form (%.17Lf, trailing zeros dropped) into
 * buf (cap >= 5 KB for the largest values); returns the length. */
size_t arg_format_long_double(char *buf, size_t cap, long double v);

/* The end of a write to the collection (hash, list, set) at argv[keyarg]:
 * the keyspace's memory figure moves by mem_delta, and the key goes when
 * the write left the collection empty, as Redis keeps no empty one. Does
 * not set ctx->dirty: a failed write (HINCRBY on a non-number, after the
 * key was created) only tidies up. */
void cmd_coll_written(cmd_ctx_t *ctx, int keyarg, long long mem_delta, bool empty);

/* The reply of a HELP subcommand: each line as a simple string, in an array. */
void arg_reply_help(cmd_ctx_t *ctx, const char *const *lines, size_t n);

#endif

/* timeout.h - the timeout argument of commands that wait (CLIENT PAUSE,
 * WAIT, BLPOP, BZPOPMIN ...), parsed and range-checked with Redis's rules
 * and error texts, so no deadline computed from it can overflow; and the
 * marking of a blocking call as waiting.
 *
 * Must never: accept a value whose deadline (now + timeout) does not fit in a
 * long long, or a negative one.
 */
#ifndef SHOAL_ACTORS_TIMEOUT_H
#define SHOAL_ACTORS_TIMEOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/commands/cmd.h"

enum timeout_unit { TIMEOUT_SECONDS = 0, TIMEOUT_MILLISECONDS = 1 };

/* Parses `arg` as a timeout in `unit` (seconds may have decimals, rounded up
 * to whole ms; milliseconds must be an integer). On success returns NULL and
 * sets *rel_ms to the timeout in ms (0 = none), which can be added to now_ms
 * (the wall clock in ms) without overflow. On failure returns Redis's error
 * text without the leading '-': "ERR timeout is not an integer or out of
 * range", "ERR timeout is not a float or out of range", "ERR timeout is
 * negative" (also for seconds beyond a long long of ms, as 7.0.15 answers
 * them) or "ERR timeout is out of range" (a deadline past a long long). */
const char *timeout_parse(const uint8_t *arg, size_t len, enum timeout_unit unit, long long now_ms,
                          long long *rel_ms);

/* Argument i of a blocking command (BLPOP, BZPOPMIN ...) as a timeout in
 * seconds, as timeout_parse at ctx->now_ms; on failure replies the error and
 * returns false. */
bool timeout_arg_seconds(cmd_ctx_t *ctx, int i, long long *rel_ms);

/* Nothing to serve yet: when the call may block (ctx->block_mode), marks it
 * waiting on argv[first .. first + n) for rel_ms (0 = for ever) and returns
 * true; otherwise returns false, and the caller answers as a timeout would. */
bool timeout_block(cmd_ctx_t *ctx, int first, int n, long long rel_ms);

#endif

/* timeout.h - the timeout argument of commands that wait (CLIENT PAUSE now;
 * WAIT, BLPOP ... may share it), parsed and range-checked with Redis's rules
 * and error texts, so no deadline computed from it can overflow.
 *
 * Must never: accept a value whose deadline (now + timeout) does not fit in a
 * long long, or a negative one.
 */
#ifndef SHOAL_ACTORS_TIMEOUT_H
#define SHOAL_ACTORS_TIMEOUT_H

#include <stddef.h>
#include <stdint.h>

enum timeout_unit { TIMEOUT_SECONDS = 0, TIMEOUT_MILLISECONDS = 1 };

/* Parses `arg` as a timeout in `unit` (seconds may have decimals, rounded up
 * to whole ms; milliseconds must be an integer). On success returns NULL and
 * sets *rel_ms to the timeout in ms (0 = none), which can be added to now_ms
 * (the wall clock in ms) without overflow. On failure returns Redis's error
 * text without the leading '-': "ERR timeout is not an integer or out of
 * range", "ERR timeout is not a float or out of range", "ERR timeout is
 * negative" or "ERR timeout is out of range". */
const char *timeout_parse(const uint8_t *arg, size_t len, enum timeout_unit unit, long long now_ms,
                          long long *rel_ms);

#endif

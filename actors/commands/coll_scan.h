/* coll_scan.h - what HSCAN, SSCAN (and ZSCAN later) share: the cursor and
 * option parsing of 7.0.15's scanGenericCommand for a collection, in its
 * order of checks and with its error texts, and the reply's frame.
 */
#ifndef SHOAL_ACTORS_COMMANDS_COLL_SCAN_H
#define SHOAL_ACTORS_COMMANDS_COLL_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/commands/cmd.h"

typedef struct coll_scan {
    unsigned long long cursor;
    const uint8_t *pat;           /* NULL: every element (also for MATCH *) */
    size_t patlen;
    long long count;              /* COUNT, 10 by default */
} coll_scan_t;

/* The cursor at argv[2] (strtoul's rules, as Redis): false after replying
 * "ERR invalid cursor". Checked before the key is looked up. */
bool coll_scan_cursor(cmd_ctx_t *ctx, coll_scan_t *s);
/* MATCH and COUNT from argv[3] on: false after replying the error. */
bool coll_scan_options(cmd_ctx_t *ctx, coll_scan_t *s);
/* The reply for a missing key: cursor 0 and no elements. */
void coll_scan_reply_empty(cmd_ctx_t *ctx);
/* The reply: [cursor, [n elements already encoded in `elems`]]. */
void coll_scan_reply(cmd_ctx_t *ctx, unsigned long long cursor, long long n, const resp_buf_t *elems);
/* Whether an element passes MATCH. */
bool coll_scan_match(const coll_scan_t *s, const uint8_t *e, size_t len);

#endif

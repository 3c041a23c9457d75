/* coll_scan.c - cursor and options of the collection SCANs (see coll_scan.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/coll_scan.h"
#include "proto/glob.h"
#include "proto/strnum.h"

bool coll_scan_cursor(cmd_ctx_t *ctx, coll_scan_t *s)
{
    char tmp[32];
    size_t n = ctx->argvlen[2];
    memset(s, 0, sizeof *s);
    s->count = 10;
    if (n >= sizeof tmp) goto bad;
    memcpy(tmp, ctx->argv[2], n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    /* strtoul as Redis: "+1" and "-1" are cursors, a leading blank is not */
    s->cursor = strtoull(tmp, &end, 10);
    if (isspace((unsigned char)tmp[0]) || *end || errno == ERANGE) goto bad;
    return true;
bad:
    resp_add_error(ctx->reply, "ERR invalid cursor");
    return false;
}

bool coll_scan_options(cmd_ctx_t *ctx, coll_scan_t *s)
{
    for (int i = 3; i < ctx->argc;) {
        int left = ctx->argc - i;
        if (left >= 2 && arg_is_at(ctx, i, "count")) {
            long long v;
            if (!arg_ll_at(ctx, i + 1, &v)) return false;
            if (v < 1) {
                resp_add_error(ctx->reply, "ERR syntax error");
                return false;
            }
            s->count = v;
            i += 2;
        } else if (left >= 2 && arg_is_at(ctx, i, "match")) {
            s->pat = ctx->argv[i + 1];
            s->patlen = ctx->argvlen[i + 1];
            if (s->patlen == 1 && s->pat[0] == '*') s->pat = NULL;   /* matches all */
            i += 2;
        } else {
            resp_add_error(ctx->reply, "ERR syntax error");
            return false;
        }
    }
    return true;
}

void coll_scan_reply_empty(cmd_ctx_t *ctx)
{
    resp_add_array(ctx->reply, 2);
    resp_add_bulk(ctx->reply, "0", 1);
    resp_add_array(ctx->reply, 0);
}

bool coll_scan_match(const coll_scan_t *s, const uint8_t *e, size_t len)
{
    return !s->pat || glob_match((const char *)s->pat, s->patlen, (const char *)e, len, 0);
}

void coll_scan_reply(cmd_ctx_t *ctx, unsigned long long cursor, long long n, const resp_buf_t *elems)
{
    resp_add_array(ctx->reply, 2);
    resp_add_bulk_ll(ctx->reply, (long long)cursor);   /* signed, as Redis prints it */
    resp_add_array(ctx->reply, n);
    resp_buf_append(ctx->reply, elems->data, elems->len);
}

/* timeout.c - timeout arguments with Redis's rules (see timeout.h). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actors/commands/timeout.h"
#include "proto/resp.h"
#include "proto/strnum.h"

/* Redis's long double rule: no leading space, the whole text used, no NaN,
 * at most 5 KB of digits. */
static int parse_long_double(const uint8_t *s, size_t len, long double *out)
{
    char buf[5 * 1024 + 1];
    if (len == 0 || len >= sizeof buf) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (buf[0] == ' ' || buf[0] == '\t' || buf[0] == '\n' || buf[0] == '\r' || buf[0] == '\v' || buf[0] == '\f')
        return 0;
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    if (*end != '\0' || errno == ERANGE || isnan(v)) return 0;
    *out = v;
    return 1;
}

const char *timeout_parse(const uint8_t *arg, size_t len, enum timeout_unit unit, long long now_ms,
                          long long *rel_ms)
{
    long long tval;
    if (unit == TIMEOUT_SECONDS) {
        long double secs;
        if (!parse_long_double(arg, len, &secs)) return "ERR timeout is not a float or out of range";
        long double ms = secs * 1000.0L;
        /* 7.0.15 converts it to a long long, which for a value out of range
         * (inf included) gives LLONG_MIN on x86-64: so it answers "negative". */
        if (ms > (long double)LLONG_MAX || ms < (long double)LLONG_MIN) return "ERR timeout is negative";
        tval = (long long)ceill(ms);
    } else if (!str_to_ll(arg, len, &tval)) {
        return "ERR timeout is not an integer or out of range";
    }
    if (tval < 0) return "ERR timeout is negative";
    if (tval > 0 && tval > LLONG_MAX - now_ms) return "ERR timeout is out of range";
    *rel_ms = tval;
    return NULL;
}

bool timeout_arg_seconds(cmd_ctx_t *ctx, int i, long long *rel_ms)
{
    const char *err = timeout_parse(ctx->argv[i], ctx->argvlen[i], TIMEOUT_SECONDS, ctx->now_ms, rel_ms);
    if (err) resp_add_error(ctx->reply, err);
    return err == NULL;
}

bool timeout_block(cmd_ctx_t *ctx, int first, int n, long long rel_ms)
{
    if (ctx->block_mode == CMD_BLOCK_NEVER) return false;
    ctx->blocked = true;
    ctx->block_first = first;
    ctx->block_nkeys = n;
    ctx->block_timeout_ms = rel_ms;
    return true;
}

/* args.c - keyword and integer arguments of commands (see args.h). */
#include <limits.h>
#include "actors/commands/args.h"

#include <string.h>
#include "actors/worker/keyspace.h"
#include "proto/resp.h"
#include "proto/strnum.h"

static inline unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

bool arg_is(const uint8_t *a, size_t n, const char *word)
{
    if (strlen(word) != n) return false;
    for (size_t k = 0; k < n; k++)
        if (ascii_lower(a[k]) != ascii_lower((unsigned char)word[k])) return false;
    return true;
}

bool arg_ll(const uint8_t *a, size_t n, long long *out)
{
    return str_to_ll(a, n, out);
}

bool arg_ll_at(cmd_ctx_t *ctx, int i, long long *out)
{
    if (arg_ll(ctx->argv[i], ctx->argvlen[i], out)) return true;
    resp_add_error(ctx->reply, "ERR value is not an integer or out of range");
    return false;
}

bool arg_int_at(cmd_ctx_t *ctx, int i, long long *out)
{
    if (!arg_ll_at(ctx, i, out)) return false;
    if (*out >= INT_MIN && *out <= INT_MAX) return true;
    resp_add_errorf(ctx->reply, "ERR value is out of range, value must between %d and %d", INT_MIN, INT_MAX);
    return false;
}

void arg_reply_help(cmd_ctx_t *ctx, const char *const *lines, size_t n)
{
    resp_add_array(ctx->reply, (long long)n);
    for (size_t i = 0; i < n; i++) resp_add_simple(ctx->reply, lines[i]);
}

void cmd_coll_written(cmd_ctx_t *ctx, int keyarg, long long mem_delta, bool empty)
{
    ks_mem_adjust(ctx->ks, mem_delta);
    if (empty) ks_delete(ctx->ks, ctx->argv[keyarg], ctx->argvlen[keyarg], ctx->now_ms);
}

/* cmd_strings.c - the string commands: GET, SET and its variants, MGET/MSET,
 * INCR/DECR and INCRBYFLOAT, APPEND, STRLEN, GETRANGE, SETRANGE.
 *
 * Handlers run on the worker that owns the slot of their keys (multi-key
 * commands have all keys in one slot, so one keyspace) and reply with the
 * exact bytes redis-server 7.0.15 sends, errors included, in its order of
 * checks (syntax, then integer parsing, then the key's type ...).
 * Must never touch another worker's keyspace or block; the arity has already
 * been checked by the dispatcher.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/worker/keyspace.h"

#define ERR_NOT_INT     "ERR value is not an integer or out of range"
#define ERR_NOT_FLOAT   "ERR value is not a valid float"
#define ERR_SYNTAX      "ERR syntax error"
#define ERR_TOO_BIG     "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
#define MAX_LD_CHARS    (5 * 1024)    /* Redis's MAX_LONG_DOUBLE_CHARS */

/* A string may not outgrow proto-max-bulk-len (as configured now), except
 * when our master says so. */
static bool length_ok(cmd_ctx_t *ctx, long long base, long long add)
{
    if (!ctx->from_master && (base > config_proto_max_bulk_len() - add)) {
        resp_add_error(ctx->reply, ERR_TOO_BIG);
        return false;
    }
    return true;
}

/* Looks up a key; replies WRONGTYPE and sets *bad for a non-string. A read
 * counts a hit or a miss (and a miss is a keymiss event); the counters'
 * lookup (INCR, INCRBYFLOAT) is a write's, as 7.0.15's lookupKeyWrite. */
static ks_entry_t *lookup_string_as(cmd_ctx_t *ctx, int i, bool *bad, bool read)
{
    ks_entry_t *e = read ? ks_lookup_read(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms)
                         : ks_lookup(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms);
    *bad = false;
    if (e && ks_entry_type(e) != KS_TYPE_STRING) {
        resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
        *bad = true;
    }
    return e;
}

static ks_entry_t *lookup_string(cmd_ctx_t *ctx, int i, bool *bad) { return lookup_string_as(ctx, i, bad, true); }

static void reply_value(cmd_ctx_t *ctx, const ks_entry_t *e)
{
    size_t n;
    const uint8_t *v = ks_entry_str(e, &n);
    resp_add_bulk(ctx->reply, v, n);
}

/* GET-like reply: the value, nil, or WRONGTYPE. Returns false on WRONGTYPE. */
static bool reply_get(cmd_ctx_t *ctx, int i)
{
    bool bad;
    ks_entry_t *e = lookup_string(ctx, i, &bad);
    if (bad) return false;
    if (e) reply_value(ctx, e);
    else resp_add_null(ctx->reply);
    return true;
}

void cmd_get(cmd_ctx_t *ctx)
{
    reply_get(ctx, 1);
}

/* ---- SET family ---- */

enum {
    SET_NX = 1 << 0, SET_XX = 1 << 1, SET_GET = 1 << 2, SET_KEEPTTL = 1 << 3,
    SET_PERSIST = 1 << 4, SET_EX = 1 << 5, SET_PX = 1 << 6, SET_EXAT = 1 << 7, SET_PXAT = 1 << 8,
};
#define SET_ANY_EXPIRE (SET_EX | SET_PX | SET_EXAT | SET_PXAT)

/* The SET_* flag of an expiry option (EX, PX, EXAT, PXAT) at argv[j], or 0. */
static unsigned expiry_option(cmd_ctx_t *ctx, int j)
{
    static const struct { const char *name; unsigned flag; } options[] = {
        {"ex", SET_EX}, {"px", SET_PX}, {"exat", SET_EXAT}, {"pxat", SET_PXAT}};
    for (size_t k = 0; k < sizeof options / sizeof options[0]; k++)
        if (arg_is_at(ctx, j, options[k].name)) return options[k].flag;
    return 0;
}

/* Option parser shared by SET (from argv[3]) and GETEX (from argv[2]), with
 * Redis's rule that a repeated option is fine but conflicting ones are a
 * syntax error. *expire_arg is the argv index of the time, 0 if none. */
static bool parse_set_options(cmd_ctx_t *ctx, int first, bool is_set, unsigned *flags, int *expire_arg)
{
    *flags = 0;
    *expire_arg = 0;
    for (int j = first; j < ctx->argc; j++) {
        bool has_next = j + 1 < ctx->argc;
        unsigned f = *flags, expiry;
        if (is_set && arg_is_at(ctx, j, "nx") && !(f & SET_XX)) {
            *flags |= SET_NX;
        } else if (is_set && arg_is_at(ctx, j, "xx") && !(f & SET_NX)) {
            *flags |= SET_XX;
        } else if (is_set && arg_is_at(ctx, j, "get")) {
            *flags |= SET_GET;
        } else if (is_set && arg_is_at(ctx, j, "keepttl") && !(f & (SET_PERSIST | SET_ANY_EXPIRE))) {
            *flags |= SET_KEEPTTL;
        } else if (!is_set && arg_is_at(ctx, j, "persist") && !(f & (SET_KEEPTTL | SET_ANY_EXPIRE))) {
            *flags |= SET_PERSIST;
        } else if ((expiry = expiry_option(ctx, j)) && has_next &&
                   !(f & (SET_KEEPTTL | SET_PERSIST | (SET_ANY_EXPIRE & ~expiry)))) {
            *flags |= expiry;           /* the same one again is fine: the last time wins */
            *expire_arg = ++j;
        } else {
            resp_add_error(ctx->reply, ERR_SYNTAX);
            return false;
        }
    }
    return true;
}

/* Turns argv[i] into an absolute expiry in ms, as Redis: positive only, no
 * overflow once scaled and offset. `cmdname` goes into the error text. */
static bool parse_expire(cmd_ctx_t *ctx, int i, unsigned flags, const char *cmdname, long long *when)
{
    long long v;
    if (!arg_ll_at(ctx, i, &v)) return false;
    bool seconds = flags & (SET_EX | SET_EXAT);
    bool relative = flags & (SET_EX | SET_PX);
    if (v <= 0 || (seconds && v > LLONG_MAX / 1000)) goto invalid;
    if (seconds) v *= 1000;
    if (relative) {
        if (v > LLONG_MAX - ctx->now_ms) goto invalid;
        v += ctx->now_ms;
    }
    *when = v;
    return true;
invalid:
    resp_add_errorf(ctx->reply, "ERR invalid expire time in '%s' command", cmdname);
    return false;
}

/* The common part of SET, SETNX, SETEX and PSETEX. Replies +OK / nil, or
 * :1 / :0 with int_replies (SETNX); with SET_GET the old value is the reply. */
static void set_generic(cmd_ctx_t *ctx, unsigned flags, int keyi, int vali, int expire_arg,
                        const char *cmdname, bool int_replies)
{
    long long when = KS_NO_EXPIRE;
    if (expire_arg && !parse_expire(ctx, expire_arg, flags, cmdname, &when)) return;
    if ((flags & SET_GET) && !reply_get(ctx, keyi)) return;
    /* Only NX and XX need to know beforehand whether the key exists; a plain
     * SET finds (or makes) the entry once, in ks_set_string, which drops a
     * stale key as this lookup would. */
    ks_entry_t *looked = (flags & (SET_NX | SET_XX)) ? ks_lookup(ctx->ks, ctx->argv[keyi], ctx->argvlen[keyi], ctx->now_ms)
                                                     : NULL;
    bool found = looked != NULL;
    if (((flags & SET_NX) && found) || ((flags & SET_XX) && !found)) {
        if (flags & SET_GET) return;            /* the old value was the reply */
        if (int_replies) resp_add_int(ctx->reply, 0);
        else resp_add_null(ctx->reply);
        return;
    }
    long long ttl = expire_arg ? when : (flags & SET_KEEPTTL) ? KS_KEEP_TTL : KS_NO_EXPIRE;
    /* After NX/XX's lookup the write is no second access (as 7.0.15, whose
     * SET looks the key up once for its write; GET's read is one more). */
    if (flags & (SET_NX | SET_XX))
        ks_set_string_looked_up(ctx->ks, looked, ctx->argv[keyi], ctx->argvlen[keyi], ctx->argv[vali],
                                ctx->argvlen[vali], ttl, ctx->now_ms);
    else
        ks_set_string(ctx->ks, ctx->argv[keyi], ctx->argvlen[keyi], ctx->argv[vali], ctx->argvlen[vali],
                      ttl, ctx->now_ms);
    ctx->dirty = true;
    if (flags & SET_GET) return;
    if (int_replies) resp_add_int(ctx->reply, 1);
    else resp_add_simple(ctx->reply, "OK");
}

void cmd_set(cmd_ctx_t *ctx)
{
    unsigned flags;
    int expire_arg;
    if (!parse_set_options(ctx, 3, true, &flags, &expire_arg)) return;
    set_generic(ctx, flags, 1, 2, expire_arg, "set", false);
}

void cmd_setnx(cmd_ctx_t *ctx)
{
    set_generic(ctx, SET_NX, 1, 2, 0, "setnx", true);
}

void cmd_setex(cmd_ctx_t *ctx)
{
    set_generic(ctx, SET_EX, 1, 3, 2, "setex", false);
}

void cmd_psetex(cmd_ctx_t *ctx)
{
    set_generic(ctx, SET_PX, 1, 3, 2, "psetex", false);
}

void cmd_getset(cmd_ctx_t *ctx)
{
    if (!reply_get(ctx, 1)) return;
    ks_set_string(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->argv[2], ctx->argvlen[2],
                  KS_NO_EXPIRE, ctx->now_ms);
    ctx->dirty = true;
}

/* The start of GETDEL and GETEX: the string at argv[1], or NULL after
 * replying nil (no such key) or WRONGTYPE. */
static ks_entry_t *lookup_string_or_reply(cmd_ctx_t *ctx)
{
    bool bad;
    ks_entry_t *e = lookup_string(ctx, 1, &bad);
    if (!bad && !e) resp_add_null(ctx->reply);
    return bad ? NULL : e;
}

void cmd_getdel(cmd_ctx_t *ctx)
{
    ks_entry_t *e = lookup_string_or_reply(ctx);
    if (!e) return;
    reply_value(ctx, e);
    ks_delete_entry(ctx->ks, e);
    ctx->dirty = true;
}

void cmd_getex(cmd_ctx_t *ctx)
{
    unsigned flags;
    int expire_arg;
    if (!parse_set_options(ctx, 2, false, &flags, &expire_arg)) return;
    ks_entry_t *e = lookup_string_or_reply(ctx);
    if (!e) return;
    long long when = 0;
    if (expire_arg && !parse_expire(ctx, expire_arg, flags, "getex", &when)) return;
    reply_value(ctx, e);
    if ((flags & (SET_EXAT | SET_PXAT)) && when <= ctx->now_ms) {
        /* An absolute time already past deletes the key (after replying it). */
        ks_delete_entry(ctx->ks, e);
        ctx->dirty = true;
    } else if (expire_arg) {
        ks_set_expire(ctx->ks, e, when);
        ctx->dirty = true;
    } else if ((flags & SET_PERSIST) && ks_persist(ctx->ks, e)) {
        ctx->dirty = true;
    }
}

void cmd_mget(cmd_ctx_t *ctx)
{
    resp_add_array(ctx->reply, ctx->argc - 1);
    for (int i = 1; i < ctx->argc; i++) {
        ks_entry_t *e = ks_lookup_read(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms);
        if (e && ks_entry_type(e) == KS_TYPE_STRING) reply_value(ctx, e);
        else resp_add_null(ctx->reply);
    }
}

static void mset_generic(cmd_ctx_t *ctx, bool nx, const char *cmdname)
{
    if (ctx->argc % 2 == 0) {
        resp_add_errorf(ctx->reply, "ERR wrong number of arguments for '%s' command", cmdname);
        return;
    }
    if (nx) {
        for (int i = 1; i < ctx->argc; i += 2) {
            if (ks_lookup(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms)) {
                resp_add_int(ctx->reply, 0);
                return;
            }
        }
    }
    for (int i = 1; i < ctx->argc; i += 2)
        ks_set_string(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->argv[i + 1], ctx->argvlen[i + 1],
                      KS_NO_EXPIRE, ctx->now_ms);
    ctx->dirty = ctx->argc / 2;   /* one change per key, as 7.0.15 counts */
    if (nx) resp_add_int(ctx->reply, 1);
    else resp_add_simple(ctx->reply, "OK");
}

void cmd_mset(cmd_ctx_t *ctx) { mset_generic(ctx, false, "mset"); }
void cmd_msetnx(cmd_ctx_t *ctx) { mset_generic(ctx, true, "msetnx"); }

/* ---- counters ---- */

static void incr_generic(cmd_ctx_t *ctx, long long incr)
{
    bool bad;
    ks_entry_t *e = lookup_string_as(ctx, 1, &bad, false);
    if (bad) return;
    long long value = 0;
    if (e) {
        size_t n;
        const uint8_t *v = ks_entry_str(e, &n);
        if (!arg_ll(v, n, &value)) {
            resp_add_error(ctx->reply, ERR_NOT_INT);
            return;
        }
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
        (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        resp_add_error(ctx->reply, "ERR increment or decrement would overflow");
        return;
    }
    value += incr;
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%lld", value);
    /* The TTL stays: INCR changes the value, not the key's lifetime. The
     * lookup above was the command's one access. */
    ks_set_string_looked_up(ctx->ks, e, ctx->argv[1], ctx->argvlen[1], buf, (size_t)n, KS_KEEP_TTL, ctx->now_ms);
    ctx->dirty = true;
    resp_add_int(ctx->reply, value);
}

void cmd_incr(cmd_ctx_t *ctx) { incr_generic(ctx, 1); }
void cmd_decr(cmd_ctx_t *ctx) { incr_generic(ctx, -1); }

void cmd_incrby(cmd_ctx_t *ctx)
{
    long long incr;
    if (!arg_ll_at(ctx, 2, &incr)) return;
    incr_generic(ctx, incr);
}

void cmd_decrby(cmd_ctx_t *ctx)
{
    long long decr;
    if (!arg_ll_at(ctx, 2, &decr)) return;
    if (decr == LLONG_MIN) {
        resp_add_error(ctx->reply, "ERR decrement would overflow");
        return;
    }
    incr_generic(ctx, -decr);
}

/* Redis's string2ld: strtold over the whole text (an embedded NUL makes it
 * invalid, as redis-server 7.0.15 answers), no leading space, no NaN, no
 * overflow or underflow to zero. */
bool arg_parse_long_double(const uint8_t *s, size_t len, long double *out)
{
    char buf[MAX_LD_CHARS];
    if (len == 0 || len >= sizeof buf) return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    if (buf[0] == ' ' || (buf[0] >= '\t' && buf[0] <= '\r') || end != buf + len || isnan(v) ||
        errno == EINVAL || (errno == ERANGE && (isinf(v) || v == 0)))
        return false;
    *out = v;
    return true;
}

/* Redis's "human" long double format: %.17Lf with trailing zeros (and a
 * trailing dot) removed, and "-0" written as "0". */
size_t arg_format_long_double(char *buf, size_t cap, long double v)
{
    int l = snprintf(buf, cap, "%.17Lf", v);
    if (l < 0 || (size_t)l >= cap) return 0;
    if (memchr(buf, '.', (size_t)l)) {
        while (buf[l - 1] == '0') l--;
        if (buf[l - 1] == '.') l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        l = 1;
    }
    return (size_t)l;
}

void cmd_incrbyfloat(cmd_ctx_t *ctx)
{
    bool bad;
    ks_entry_t *e = lookup_string_as(ctx, 1, &bad, false);
    if (bad) return;
    long double value = 0, incr;
    if (e) {
        size_t n;
        const uint8_t *v = ks_entry_str(e, &n);
        if (!arg_parse_long_double(v, n, &value)) {
            resp_add_error(ctx->reply, ERR_NOT_FLOAT);
            return;
        }
    }
    if (!arg_parse_long_double(ctx->argv[2], ctx->argvlen[2], &incr)) {
        resp_add_error(ctx->reply, ERR_NOT_FLOAT);
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        resp_add_error(ctx->reply, "ERR increment would produce NaN or Infinity");
        return;
    }
    static _Thread_local char buf[MAX_LD_CHARS];   /* big: keep it off the worker's stack */
    size_t n = arg_format_long_double(buf, sizeof buf, value);
    ks_set_string_looked_up(ctx->ks, e, ctx->argv[1], ctx->argvlen[1], buf, n, KS_KEEP_TTL, ctx->now_ms);
    ctx->dirty = true;
    resp_add_bulk(ctx->reply, buf, n);
}

/* ---- byte ranges ---- */

void cmd_append(cmd_ctx_t *ctx)
{
    ks_entry_t *e = ks_lookup(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    if (e && ks_entry_type(e) != KS_TYPE_STRING) {
        resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
        return;
    }
    size_t total;
    if (!e) {
        ks_set_string(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->argv[2], ctx->argvlen[2],
                      KS_NO_EXPIRE, ctx->now_ms);
        total = ctx->argvlen[2];
    } else {
        size_t old;
        ks_entry_str(e, &old);
        if (!length_ok(ctx, (long long)old, (long long)ctx->argvlen[2])) return;
        uint8_t *d = ks_str_resize(ctx->ks, e, old + ctx->argvlen[2]);
        memcpy(d + old, ctx->argv[2], ctx->argvlen[2]);
        total = old + ctx->argvlen[2];
    }
    ctx->dirty = true;
    resp_add_int(ctx->reply, (long long)total);
}

void cmd_strlen(cmd_ctx_t *ctx)
{
    bool bad;
    ks_entry_t *e = lookup_string(ctx, 1, &bad);
    if (bad) return;
    size_t n = 0;
    if (e) ks_entry_str(e, &n);
    resp_add_int(ctx->reply, (long long)n);
}

void cmd_getrange(cmd_ctx_t *ctx)
{
    long long start, end;
    if (!arg_ll_at(ctx, 2, &start) || !arg_ll_at(ctx, 3, &end)) return;
    bool bad;
    ks_entry_t *e = lookup_string(ctx, 1, &bad);
    if (bad) return;
    if (!e) {
        resp_add_bulk(ctx->reply, "", 0);
        return;
    }
    size_t n;
    const uint8_t *v = ks_entry_str(e, &n);
    long long len = (long long)n;
    if (start < 0 && end < 0 && start > end) {
        resp_add_bulk(ctx->reply, "", 0);
        return;
    }
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= len) end = len - 1;
    if (start > end || len == 0) resp_add_bulk(ctx->reply, "", 0);
    else resp_add_bulk(ctx->reply, v + start, (size_t)(end - start + 1));
}

void cmd_setrange(cmd_ctx_t *ctx)
{
    long long offset;
    if (!arg_ll_at(ctx, 2, &offset)) return;
    if (offset < 0) {
        resp_add_error(ctx->reply, "ERR offset is out of range");
        return;
    }
    size_t vlen = ctx->argvlen[3];
    ks_entry_t *e = ks_lookup(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    if (e && ks_entry_type(e) != KS_TYPE_STRING) {
        resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
        return;
    }
    size_t old = 0;
    if (e) ks_entry_str(e, &old);
    if (vlen == 0) {
        /* Nothing to write: report the length, and never create the key. */
        resp_add_int(ctx->reply, (long long)old);
        return;
    }
    if (!length_ok(ctx, offset, (long long)vlen)) return;
    if (!e) e = ks_set_string(ctx->ks, ctx->argv[1], ctx->argvlen[1], "", 0, KS_NO_EXPIRE, ctx->now_ms);
    size_t need = (size_t)offset + vlen;
    uint8_t *d = ks_str_resize(ctx->ks, e, need > old ? need : old);
    memcpy(d + offset, ctx->argv[3], vlen);
    ctx->dirty = true;
    resp_add_int(ctx->reply, (long long)(need > old ? need : old));
}

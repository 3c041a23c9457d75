/* script_ldb_fmt.c - what the Lua debugger's log lines say of Lua values and
 * of replies, and how it reads one command from its client: 7.0.15's rules
 * (ldbCatStackValue, ldbRedisProtocolToHuman, ldbReplParseCommand), quirks
 * included, since redis-cli shows these lines as they come.
 *
 * Must never: read past the NUL that ends a reply or a command buffer.
 */
#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/commands/script_ldb.h"
#include "proto/splitargs.h"
#include "proto/strnum.h"
#include "runtime/xmalloc.h"

/* ---------------- byte strings ---------------- */

static void reserve(ldb_str_t *b, size_t more)
{
    if (b->len + more + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + more + 1) cap *= 2;
    b->s = xrealloc(b->s, cap);
    b->cap = cap;
}

void ldb_str_cat(ldb_str_t *b, const void *p, size_t n)
{
    reserve(b, n);
    if (n) memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void ldb_str_cats(ldb_str_t *b, const char *s) { ldb_str_cat(b, s, strlen(s)); }

void ldb_str_catf(ldb_str_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void ldb_str_repr(ldb_str_t *b, const char *p, size_t n)
{
    size_t need = splitargs_repr(p, n, NULL, 0);
    reserve(b, need);
    splitargs_repr(p, n, b->s + b->len, need + 1);
    b->len += need;
}

void ldb_str_free(ldb_str_t *b)
{
    free(b->s);
    *b = (ldb_str_t){ 0 };
}

/* ---------------- Lua values ---------------- */

/* 7.0.15 stops at LUA_MINSTACK/2 levels of nesting. */
#define VALUE_DEPTH_MAX (LUA_MINSTACK / 2)

static void fmt_rec(ldb_str_t *b, lua_State *L, int idx, int level)
{
    if (level++ == VALUE_DEPTH_MAX) {
        ldb_str_cats(b, "<max recursion level reached! Nested table?>");
        return;
    }
    int t = lua_type(L, idx);
    switch (t) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        ldb_str_repr(b, s, n);
        break;
    }
    case LUA_TBOOLEAN:
        ldb_str_cats(b, lua_toboolean(L, idx) ? "true" : "false");
        break;
    case LUA_TNUMBER:
        ldb_str_catf(b, "%g", (double)lua_tonumber(L, idx));
        break;
    case LUA_TNIL:
        ldb_str_cats(b, "nil");
        break;
    case LUA_TTABLE: {
        /* Both forms are built as the keys come; the array one is kept when
         * the keys were 1, 2, 3 ... in that order (idx is relative: the
         * traversal pushes a key and a value above it). */
        if (!lua_checkstack(L, 2)) {   /* each level holds a key and a value */
            ldb_str_cats(b, "<max recursion level reached! Nested table?>");
            break;
        }
        ldb_str_t arr = { 0 }, full = { 0 };
        bool is_array = true;
        int expected = 1;
        lua_pushnil(L);
        while (lua_next(L, idx - 1)) {
            if (is_array && (lua_type(L, -2) != LUA_TNUMBER || lua_tonumber(L, -2) != expected)) is_array = false;
            fmt_rec(&arr, L, -1, level);
            ldb_str_cat(&arr, "; ", 2);
            ldb_str_cat(&full, "[", 1);
            fmt_rec(&full, L, -2, level);
            ldb_str_cat(&full, "]=", 2);
            fmt_rec(&full, L, -1, level);
            ldb_str_cat(&full, "; ", 2);
            lua_pop(L, 1);
            expected++;
        }
        ldb_str_t *keep = is_array ? &arr : &full;
        ldb_str_cat(b, "{", 1);
        if (keep->len >= 2) ldb_str_cat(b, keep->s, keep->len - 2);
        ldb_str_cat(b, "}", 1);
        ldb_str_free(&arr);
        ldb_str_free(&full);
        break;
    }
    case LUA_TFUNCTION:
    case LUA_TUSERDATA:
    case LUA_TTHREAD:
    case LUA_TLIGHTUSERDATA: {
        const char *name = t == LUA_TFUNCTION   ? "function"
                           : t == LUA_TUSERDATA ? "userdata"
                           : t == LUA_TTHREAD   ? "thread"
                                                : "light-userdata";
        ldb_str_catf(b, "\"%s@%p\"", name, lua_topointer(L, idx));
        break;
    }
    default:
        ldb_str_cats(b, "\"<unknown-lua-type>\"");
        break;
    }
}

void ldb_fmt_value(ldb_str_t *b, lua_State *L, int idx) { fmt_rec(b, L, idx, 0); }

/* ---------------- replies ---------------- */

/* The end of the line starting at p+1 (its '\r'); the buffer is one the
 * node wrote, so the line is there. */
static const char *eol(const char *p)
{
    const char *e = strchr(p + 1, '\r');
    return e ? e : p + strlen(p);
}

static const char *skip_crlf(const char *e) { return *e ? e + 2 : e; }

static long long num_of(const char *p, const char *e)
{
    long long n = 0;
    str_to_ll(p, (size_t)(e - p), &n);
    return n;
}

static const char *fmt_seq(ldb_str_t *b, const char *p, const char *open, const char *close, bool pairs)
{
    const char *e = eol(p);
    long long n = num_of(p + 1, e);
    p = skip_crlf(e);
    ldb_str_cats(b, open);
    for (long long j = 0; j < n; j++) {
        p = ldb_fmt_reply(b, p);
        if (pairs) {
            ldb_str_cats(b, " => ");
            p = ldb_fmt_reply(b, p);
        }
        if (j != n - 1) ldb_str_cat(b, ",", 1);
    }
    ldb_str_cats(b, close);
    return p;
}

const char *ldb_fmt_reply(ldb_str_t *b, const char *p)
{
    const char *e;
    switch (*p) {
    case ':':
        e = eol(p);
        ldb_str_cat(b, p + 1, (size_t)(e - p - 1));
        return skip_crlf(e);
    case '$': {
        e = eol(p);
        long long n = num_of(p + 1, e);
        if (n == -1) {
            ldb_str_cats(b, "NULL");
            return skip_crlf(e);
        }
        ldb_str_repr(b, e + 2, (size_t)n);
        return e + 2 + n + 2;
    }
    case '+':
    case '-':
        e = eol(p);
        ldb_str_repr(b, p, (size_t)(e - p));   /* with its + or -, as 7.0.15 shows it */
        return skip_crlf(e);
    case '*':
        e = eol(p);
        if (num_of(p + 1, e) == -1) {
            ldb_str_cats(b, "NULL");
            return skip_crlf(e);
        }
        return fmt_seq(b, p, "[", "]", false);
    case '~':
        return fmt_seq(b, p, "~(", ")", false);
    case '%':
        return fmt_seq(b, p, "{", "}", true);
    case '_':
        ldb_str_cats(b, "(null)");
        return skip_crlf(eol(p));
    case '#':
        ldb_str_cats(b, p[1] == 't' ? "#true" : "#false");
        return skip_crlf(eol(p));
    case ',':
        e = eol(p);
        ldb_str_cats(b, "(double) ");
        ldb_str_cat(b, p + 1, (size_t)(e - p - 1));
        return skip_crlf(e);
    default:
        return p;   /* a type 7.0.15 does not show: nothing, and no progress (as there) */
    }
}

/* ---------------- reading a command ---------------- */

void ldb_args_free(char **argv, int argc)
{
    for (int i = 0; i < argc; i++) free(argv[i]);
    free(argv);
}

char **ldb_parse_command(const char *buf, size_t len, int *argcp, size_t **arglp, bool *protoerr)
{
    *protoerr = false;
    size_t *argl = NULL;
    if (len == 0) return NULL;
    /* On a NUL-terminated copy, with C string searches: bytes after a NUL
     * are not seen by them, as in 7.0.15. */
    char *copy = xmalloc(len + 1);
    memcpy(copy, buf, len);
    copy[len] = '\0';
    char **argv = NULL;
    int argc = 0;
    char *p = strchr(copy, '*');
    if (!p) goto protoerr;
    char *plen = p + 1;
    p = strstr(p, "\r\n");
    if (!p) goto more;
    *p = '\0';
    p += 2;
    int want = atoi(plen);
    if (want <= 0 || want > 1024) goto protoerr;
    argv = xcalloc((size_t)want, sizeof *argv);
    argl = xcalloc((size_t)want, sizeof *argl);
    while (argc < want) {
        if (*p == '\0') goto more;
        if (*p != '$') goto protoerr;
        plen = p + 1;
        p = strstr(p, "\r\n");
        if (!p) goto more;
        *p = '\0';
        p += 2;
        int n = atoi(plen);
        if (n <= 0 || n > 1024) goto protoerr;
        if ((size_t)(p + n + 2 - copy) > len) goto more;
        argv[argc] = xmalloc((size_t)n + 1);
        memcpy(argv[argc], p, (size_t)n);
        argv[argc][n] = '\0';
        argl[argc] = (size_t)n;
        argc++;
        p += n;
        if (p[0] != '\r' || p[1] != '\n') goto protoerr;
        p += 2;
    }
    free(copy);
    *argcp = argc;
    *arglp = argl;
    return argv;
protoerr:
    *protoerr = true;
more:
    ldb_args_free(argv, argc);
    free(argl);
    free(copy);
    return NULL;
}

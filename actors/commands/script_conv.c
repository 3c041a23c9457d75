/* script_conv.c - values between Lua and RESP, by 7.0.15's rules.
 *
 * Both directions of the conversion a script sees: a command's reply (RESP2,
 * or RESP3 after redis.setresp(3)) into Lua values for redis.call, and the
 * script's return value into the client's reply (RESP2 or RESP3 as the client
 * speaks). Errors are {err = "CODE message"} tables, as 7.0.15 builds them.
 */
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/commands/script_ldb.h"
#include "actors/commands/script_lua.h"
#include "runtime/xmalloc.h"

/* Pushes {err = "CODE msg"}: "-CODE msg" keeps its code, "msg" gets ERR. */
void script_push_error(lua_State *L, const char *e, size_t n)
{
    if (script_ldb_stepping()) script_ldb_log_error(e, n);   /* as 7.0.15's luaPushErrorBuff */
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    if (n > 0 && e[0] == '-') {
        const char *sp = memchr(e, ' ', n);
        if (!sp) {
            luaL_addstring(&b, "ERR ");
            luaL_addlstring(&b, e + 1, n - 1);
        } else {
            luaL_addlstring(&b, e + 1, (size_t)(sp - e - 1));
            luaL_addchar(&b, ' ');
            const char *m = sp + 1;
            size_t mn = n - (size_t)(m - e);
            while (mn > 0 && (m[mn - 1] == '\r' || m[mn - 1] == '\n')) mn--;
            luaL_addlstring(&b, m, mn);
        }
    } else {
        luaL_addstring(&b, "ERR ");
        luaL_addlstring(&b, e, n);
    }
    luaL_pushresult(&b);
    lua_newtable(L);
    lua_pushstring(L, "err");
    lua_pushvalue(L, -3);
    lua_settable(L, -3);
    lua_remove(L, -2);
}

void script_push_call_error(lua_State *L, const char *e, size_t n)
{
    script_push_error(L, e, n);
    lua_pushstring(L, "ignore_error_stats_update");
    lua_pushboolean(L, 1);
    lua_settable(L, -3);
}

/* ---------------- Lua values to a reply ---------------- */

static void add_raw(resp_buf_t *r, char type, const char *s, size_t n)
{
    char head[32];
    int k = snprintf(head, sizeof head, "%c%zu\r\n", type, n);
    resp_buf_append(r, head, (size_t)k);
    resp_buf_append(r, s, n);
    resp_buf_append(r, "\r\n", 2);
}

/* Status and big-number texts lose their line breaks, as 7.0.15's do. */
static void add_line(resp_buf_t *r, char type, const char *s, size_t n)
{
    resp_buf_append(r, &type, 1);
    for (size_t i = 0; i < n; i++) {
        char ch = (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i];
        resp_buf_append(r, &ch, 1);
    }
    resp_buf_append(r, "\r\n", 2);
}

static bool field_of_type(lua_State *L, const char *name, int type)
{
    lua_pushstring(L, name);
    lua_rawget(L, -2);
    if (lua_type(L, -1) == type) return true;
    lua_pop(L, 1);
    return false;
}

/* The error reply of an {err=...} table (at the top, consumed), `-` + its
 * text. (It used to leave the table on the stack: an array holding an error
 * ended there, and each script that returned an error left a value behind,
 * until the worker's stack was full.) */
bool script_add_error_table(resp_buf_t *r, lua_State *L, const char *sha)
{
    lua_getfield(L, -1, "ignore_error_stats_update");
    bool counted = lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, -1, "err");
    const char *msg = lua_tostring(L, -1);
    char tail[200] = "";
    if (sha) {
        lua_getfield(L, -2, "source");
        lua_getfield(L, -3, "line");
        if (lua_isstring(L, -1) && lua_isstring(L, -2))
            snprintf(tail, sizeof tail, " script: %s, on %s:%s.", sha, lua_tostring(L, -2), lua_tostring(L, -1));
        lua_pop(L, 2);
    }
    size_t mlen = msg ? strlen(msg) : 0, tlen = strlen(tail);
    char *text = xmalloc(1 + mlen + tlen + 1);
    text[0] = '-';
    memcpy(text + 1, msg ? msg : "", mlen);
    memcpy(text + 1 + mlen, tail, tlen + 1);
    lua_pop(L, 2);                /* the text, the table */
    resp_add_error(r, text);
    free(text);
    return counted;
}


/* A table that is one typed value ({err=}, {ok=}, {double=}, {big_number=},
 * {verbatim_string=}): its reply, consuming it; false, untouched, otherwise. */
static bool single_to_reply(resp_buf_t *r, lua_State *L)
{
    if (field_of_type(L, "err", LUA_TSTRING)) {
        lua_pop(L, 1);
        script_add_error_table(r, L, NULL);    /* consumes the table */
        return true;
    }
    size_t n;
    if (field_of_type(L, "ok", LUA_TSTRING)) {
        const char *s = lua_tolstring(L, -1, &n);
        add_line(r, '+', s, n);
        lua_pop(L, 2);
        return true;
    }
    if (field_of_type(L, "double", LUA_TNUMBER)) {
        resp_add_double(r, lua_tonumber(L, -1));
        lua_pop(L, 2);
        return true;
    }
    if (field_of_type(L, "big_number", LUA_TSTRING)) {
        const char *s = lua_tolstring(L, -1, &n);
        if (r->proto == 3) {
            add_line(r, '(', s, n);
        } else {
            char *c = xmalloc(n + 1);
            for (size_t i = 0; i < n; i++) c[i] = (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i];
            resp_add_bulk(r, c, n);
            free(c);
        }
        lua_pop(L, 2);
        return true;
    }
    if (field_of_type(L, "verbatim_string", LUA_TTABLE)) {
        lua_getfield(L, -1, "format");
        lua_getfield(L, -2, "string");
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
            size_t fl;
            const char *f = lua_tolstring(L, -2, &fl);
            const char *s = lua_tolstring(L, -1, &n);
            if (r->proto == 3) {
                char *buf = xmalloc(n + 4);
                memcpy(buf, f, fl > 3 ? 3 : fl);
                for (size_t i = fl; i < 3; i++) buf[i] = ' ';
                buf[3] = ':';
                memcpy(buf + 4, s, n);
                add_raw(r, '=', buf, n + 4);
                free(buf);
            } else {
                resp_add_bulk(r, s, n);
            }
            lua_pop(L, 4);
            return true;
        }
        lua_pop(L, 3);
    }
    return false;
}

/* A map, a set or an array (elements 1, 2, ... up to the first nil). */
static void collection_to_reply(resp_buf_t *r, lua_State *L, int resp)
{
    if (field_of_type(L, "map", LUA_TTABLE)) {
        long long len = 0;
        size_t h = resp_add_deferred_len(r);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pushvalue(L, -2);
            script_lua_to_reply(r, L, resp);   /* the key */
            script_lua_to_reply(r, L, resp);   /* the value */
            len++;
        }
        resp_set_deferred_map(r, h, len);
        lua_pop(L, 1);          /* the field; the caller pops the table */
        return;
    }
    if (field_of_type(L, "set", LUA_TTABLE)) {
        long long len = 0;
        size_t h = resp_add_deferred_len(r);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            script_lua_to_reply(r, L, resp);
            len++;
        }
        resp_set_deferred_set(r, h, len);
        lua_pop(L, 1);          /* the field; the caller pops the table */
        return;
    }
    size_t h = resp_add_deferred_len(r);
    long long len = 0;
    for (int j = 1;; j++) {
        lua_pushnumber(L, j);
        lua_rawget(L, -2);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
        }
        script_lua_to_reply(r, L, resp);
        len++;
    }
    resp_set_deferred_array(r, h, len);
}

void script_lua_to_reply(resp_buf_t *r, lua_State *L, int resp)
{
    if (!lua_checkstack(L, 4)) {
        resp_add_error(r, "ERR reached lua stack limit");
        lua_pop(L, 1);
        return;
    }
    switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        resp_add_bulk(r, s, n);
        break;
    }
    case LUA_TBOOLEAN:
        if (resp == 2) {
            if (lua_toboolean(L, -1)) resp_add_int(r, 1);
            else resp_add_null(r);
        } else {
            resp_add_bool(r, lua_toboolean(L, -1));
        }
        break;
    case LUA_TNUMBER:
        resp_add_int(r, (long long)lua_tonumber(L, -1));
        break;
    case LUA_TTABLE:
        if (single_to_reply(r, L)) return;
        collection_to_reply(r, L, resp);
        break;
    default:
        resp_add_null(r);
    }
    lua_pop(L, 1);
}

/* ---------------- a command's reply to Lua values ---------------- */

static long long read_num(const char **p)
{
    long long v = strtoll(*p, NULL, 10);
    *p = strchr(*p, '\r') + 2;
    return v;
}

const char *script_reply_to_lua(lua_State *L, const char *p)
{
    lua_checkstack(L, 4);
    char t = *p++;
    const char *eol = strchr(p, '\r');
    switch (t) {
    case '+':
        lua_newtable(L);
        lua_pushstring(L, "ok");
        lua_pushlstring(L, p, (size_t)(eol - p));
        lua_settable(L, -3);
        return eol + 2;
    case '-':
        script_push_call_error(L, p - 1, (size_t)(eol - p + 1));
        return eol + 2;
    case ':':
        lua_pushnumber(L, (lua_Number)read_num(&p));
        return p;
    case '$': {
        long long n = read_num(&p);
        if (n < 0) {
            lua_pushboolean(L, 0);
            return p;
        }
        lua_pushlstring(L, p, (size_t)n);
        return p + n + 2;
    }
    case '*': case '~': case '%': {
        long long n = read_num(&p);
        if (n < 0) {
            lua_pushboolean(L, 0);
            return p;
        }
        if (t == '*') {
            lua_newtable(L);
            for (long long j = 1; j <= n; j++) {
                lua_pushnumber(L, (lua_Number)j);
                p = script_reply_to_lua(L, p);
                lua_settable(L, -3);
            }
            return p;
        }
        lua_newtable(L);
        lua_pushstring(L, t == '%' ? "map" : "set");
        lua_newtable(L);
        for (long long j = 0; j < n; j++) {
            p = script_reply_to_lua(L, p);
            if (t == '%') p = script_reply_to_lua(L, p);
            else lua_pushboolean(L, 1);
            lua_settable(L, -3);
        }
        lua_settable(L, -3);
        return p;
    }
    case '_':
        lua_pushnil(L);
        return eol + 2;
    case '#':
        lua_pushboolean(L, *p == 't');
        return eol + 2;
    case ',':
        lua_newtable(L);
        lua_pushstring(L, "double");
        lua_pushnumber(L, strtod(p, NULL));
        lua_settable(L, -3);
        return eol + 2;
    case '(':
        lua_newtable(L);
        lua_pushstring(L, "big_number");
        lua_pushlstring(L, p, (size_t)(eol - p));
        lua_settable(L, -3);
        return eol + 2;
    case '=': {
        long long n = read_num(&p);
        lua_newtable(L);
        lua_pushstring(L, "verbatim_string");
        lua_newtable(L);
        lua_pushstring(L, "format");
        lua_pushlstring(L, p, 3);
        lua_settable(L, -3);
        lua_pushstring(L, "string");
        lua_pushlstring(L, p + 4, (size_t)(n - 4));
        lua_settable(L, -3);
        lua_settable(L, -3);
        return p + n + 2;
    }
    case '|': {                   /* attributes: read and dropped, the reply after them is the value (7.0.15) */
        long long n = read_num(&p);
        for (long long j = 0; j < 2 * n; j++) {
            p = script_reply_to_lua(L, p);
            lua_pop(L, 1);
        }
        return script_reply_to_lua(L, p);
    }
    default:
        lua_pushnil(L);
        return eol ? eol + 2 : p;
    }
}


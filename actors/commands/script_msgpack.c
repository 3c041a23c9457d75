/* script_msgpack.c - the `cmsgpack` table scripts see: MessagePack pack and unpack.
 *
 * Debian has no package of the binding Redis bundles (lua-cmsgpack 0.4.0),
 * so this is our own, written to give the bytes and values 7.0.15 gives:
 * numbers that are whole and fit 64 bits are packed as the smallest integer
 * encoding, others as a float when a float holds them exactly, else as a
 * double; a table whose keys are exactly 1..n is an array, any other a map;
 * tables nested 16 deep pack as nil; strings use fixstr/str8/str16/str32.
 * Unpacking knows the same subset (no bin, ext or fixext: "Bad data format
 * in input."), gives a uint64 above 2^63 as the negative integer 7.0.15
 * gives, and the error texts are 7.0.15's, including the one that reports
 * the input length where it says limit.
 *
 * Must never: read past the input string, or recurse without a depth bound.
 */
#include <lauxlib.h>
#include <lua.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/commands/script_lua.h"

#define MP_MAX_NESTING 16

/* ---------------- packing ---------------- */

/* The packed bytes grow in a malloc'd buffer owned by a userdata whose
 * __gc frees it: a Lua error (a failed stack check, a metamethod's error)
 * may leave mp_pack at any point. luaL_Buffer does not fit: it keeps its
 * pieces on the stack, which the table walk needs. */
typedef struct {
    unsigned char *p;
    size_t len, cap;
} mp_out_t;

static void out_add(mp_out_t *b, const void *s, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = (b->len + n) * 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) abort();   /* as xmalloc: out of memory is fatal */
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void out_byte(mp_out_t *b, unsigned char c) { out_add(b, &c, 1); }

static int out_gc(lua_State *L)
{
    mp_out_t *b = lua_touserdata(L, 1);
    free(b->p);
    b->p = NULL;
    return 0;
}

/* Big-endian n-byte field after a one-byte tag. */
static void put_tagged(mp_out_t *b, unsigned char tag, uint64_t v, int nbytes)
{
    unsigned char f[9];
    f[0] = tag;
    for (int i = 0; i < nbytes; i++) f[1 + i] = (unsigned char)(v >> (8 * (nbytes - 1 - i)));
    out_add(b, f, 1 + (size_t)nbytes);
}

static void pack_int(mp_out_t *b, int64_t n)
{
    if (n >= 0) {
        if (n <= 127) out_byte(b, (unsigned char)n);
        else if (n <= 0xff) put_tagged(b, 0xcc, (uint64_t)n, 1);
        else if (n <= 0xffff) put_tagged(b, 0xcd, (uint64_t)n, 2);
        else if (n <= 0xffffffffLL) put_tagged(b, 0xce, (uint64_t)n, 4);
        else put_tagged(b, 0xcf, (uint64_t)n, 8);
    } else {
        if (n >= -32) out_byte(b, (unsigned char)(n & 0xff));
        else if (n >= -128) put_tagged(b, 0xd0, (uint64_t)n, 1);
        else if (n >= -32768) put_tagged(b, 0xd1, (uint64_t)n, 2);
        else if (n >= -2147483648LL) put_tagged(b, 0xd2, (uint64_t)n, 4);
        else put_tagged(b, 0xd3, (uint64_t)n, 8);
    }
}

static void pack_number(mp_out_t *b, double d)
{
    /* whole and inside int64's range: an integer (NaN and infinities fail both tests) */
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && floor(d) == d) {
        pack_int(b, (int64_t)d);
        return;
    }
    float f = (float)d;
    if ((double)f == d) {
        uint32_t u;
        memcpy(&u, &f, 4);
        put_tagged(b, 0xca, u, 4);
    } else {
        uint64_t u;
        memcpy(&u, &d, 8);
        put_tagged(b, 0xcb, u, 8);
    }
}

static void pack_header(mp_out_t *b, size_t n, unsigned char fix, int fixmax, unsigned char t16, unsigned char t32)
{
    if (n <= (size_t)fixmax) out_byte(b, (unsigned char)(fix | n));
    else if (n <= 0xffff) put_tagged(b, t16, n, 2);
    else put_tagged(b, t32, n, 4);
}

static void pack_string(mp_out_t *b, const char *s, size_t n)
{
    if (n < 32) out_byte(b, (unsigned char)(0xa0 | n));
    else if (n <= 0xff) put_tagged(b, 0xd9, n, 1);
    else if (n <= 0xffff) put_tagged(b, 0xda, n, 2);
    else put_tagged(b, 0xdb, n, 4);
    out_add(b, s, n);
}

/* True when the table at the top has exactly the keys 1..n (n may be 0).
 * Keys are taken as C ints, as 7.0.15 does: a key beyond int is not an index. */
static bool is_array(lua_State *L)
{
    int count = 0, max = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        double k;
        if (lua_type(L, -1) != LUA_TNUMBER || (k = lua_tonumber(L, -1)) <= 0 || k > INT_MAX || (double)(int)k != k) {
            lua_pop(L, 1);
            return false;
        }
        if ((int)k > max) max = (int)k;
        count++;
    }
    return max == count;
}

/* Packs the value at stack index `at`; leaves the stack as it found it. */
static void pack_value(lua_State *L, mp_out_t *b, int at, int level);

static void pack_table(lua_State *L, mp_out_t *b, int at, int level)
{
    luaL_checkstack(L, 4, "in function mp_encode_lua_table");
    lua_pushvalue(L, at);
    bool arr = is_array(L);
    if (arr) {
        size_t n = lua_objlen(L, -1);
        lua_pop(L, 1);
        pack_header(b, n, 0x90, 15, 0xdc, 0xdd);
        for (size_t j = 1; j <= n; j++) {
            lua_pushvalue(L, at);
            lua_pushnumber(L, (lua_Number)j);
            lua_gettable(L, -2);
            pack_value(L, b, lua_gettop(L), level + 1);
            lua_pop(L, 2);
        }
        return;
    }
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        n++;
    }
    lua_pop(L, 1);
    pack_header(b, n, 0x80, 15, 0xde, 0xdf);
    lua_pushvalue(L, at);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        int top = lua_gettop(L);
        pack_value(L, b, top - 1, level + 1);   /* key */
        pack_value(L, b, top, level + 1);       /* value */
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static void pack_value(lua_State *L, mp_out_t *b, int at, int level)
{
    int t = lua_type(L, at);
    if (t == LUA_TTABLE && level == MP_MAX_NESTING) t = LUA_TNIL;   /* cycles end here */
    switch (t) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, at, &n);
        pack_string(b, s, n);
        break;
    }
    case LUA_TBOOLEAN: out_byte(b, lua_toboolean(L, at) ? 0xc3 : 0xc2); break;
    case LUA_TNUMBER: pack_number(b, lua_tonumber(L, at)); break;
    case LUA_TTABLE: pack_table(L, b, at, level); break;
    default: out_byte(b, 0xc0); break;
    }
}

static int mp_pack(lua_State *L)
{
    int nargs = lua_gettop(L);
    if (nargs == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
    if (!lua_checkstack(L, nargs)) return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
    mp_out_t *b = lua_newuserdata(L, sizeof *b);
    memset(b, 0, sizeof *b);
    lua_getfield(L, LUA_REGISTRYINDEX, "shoal_mp_out");
    lua_setmetatable(L, -2);
    for (int i = 1; i <= nargs; i++) pack_value(L, b, i, 0);
    lua_pushlstring(L, (const char *)b->p, b->len);
    return 1;
}

/* ---------------- unpacking ---------------- */

typedef struct {
    const unsigned char *p;
    size_t left;
    int err;                     /* 0, MP_EOF or MP_BADFMT */
} mp_in_t;

enum { MP_EOF = 1, MP_BADFMT = 2 };

static bool need(mp_in_t *c, size_t n)
{
    if (c->left < n) {
        c->err = MP_EOF;
        return false;
    }
    return true;
}

static void take(mp_in_t *c, size_t n)
{
    c->p += n;
    c->left -= n;
}

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

static void unpack_value(lua_State *L, mp_in_t *c);

static void unpack_array(lua_State *L, mp_in_t *c, size_t n)
{
    lua_newtable(L);
    luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
    for (size_t i = 1; i <= n; i++) {
        lua_pushnumber(L, (lua_Number)i);
        unpack_value(L, c);
        if (c->err) return;
        lua_settable(L, -3);
    }
}

static void unpack_map(lua_State *L, mp_in_t *c, size_t n)
{
    lua_newtable(L);
    for (size_t i = 0; i < n; i++) {
        unpack_value(L, c);
        if (c->err) return;
        unpack_value(L, c);
        if (c->err) return;
        lua_settable(L, -3);
    }
}

/* A string of n bytes after a header of h bytes. */
static void unpack_string(lua_State *L, mp_in_t *c, size_t h, size_t n)
{
    if (!need(c, h + n)) return;
    lua_pushlstring(L, (const char *)c->p + h, n);
    take(c, h + n);
}

/* A fixed-size integer of n bytes after the tag. */
static void unpack_fixed(lua_State *L, mp_in_t *c, int n, bool is_signed)
{
    if (!need(c, 1 + (size_t)n)) return;
    uint64_t v = be(c->p + 1, n);
    take(c, 1 + (size_t)n);
    if (!is_signed) {
        /* 7.0.15 pushes unsigned values as Lua integers (ptrdiff_t): above 2^63 they wrap */
        lua_pushinteger(L, (lua_Integer)(int64_t)v);
        return;
    }
    int64_t s = n == 8 ? (int64_t)v : (int64_t)(v << (64 - 8 * n)) >> (64 - 8 * n);
    if (n == 8) lua_pushnumber(L, (lua_Number)s);
    else lua_pushinteger(L, (lua_Integer)s);
}

static void unpack_value(lua_State *L, mp_in_t *c)
{
    if (!need(c, 1)) return;
    luaL_checkstack(L, 1, "too many return values at once; use unpack_one or unpack_limit instead.");
    unsigned char t = c->p[0];
    switch (t) {
    case 0xcc: unpack_fixed(L, c, 1, false); return;
    case 0xcd: unpack_fixed(L, c, 2, false); return;
    case 0xce: unpack_fixed(L, c, 4, false); return;
    case 0xcf: unpack_fixed(L, c, 8, false); return;
    case 0xd0: unpack_fixed(L, c, 1, true); return;
    case 0xd1: unpack_fixed(L, c, 2, true); return;
    case 0xd2: unpack_fixed(L, c, 4, true); return;
    case 0xd3: unpack_fixed(L, c, 8, true); return;
    case 0xc0: lua_pushnil(L); take(c, 1); return;
    case 0xc2: lua_pushboolean(L, 0); take(c, 1); return;
    case 0xc3: lua_pushboolean(L, 1); take(c, 1); return;
    case 0xca: {
        if (!need(c, 5)) return;
        uint32_t u = (uint32_t)be(c->p + 1, 4);
        float f;
        memcpy(&f, &u, 4);
        lua_pushnumber(L, f);
        take(c, 5);
        return;
    }
    case 0xcb: {
        if (!need(c, 9)) return;
        uint64_t u = be(c->p + 1, 8);
        double d;
        memcpy(&d, &u, 8);
        lua_pushnumber(L, d);
        take(c, 9);
        return;
    }
    case 0xd9:
        if (need(c, 2)) unpack_string(L, c, 2, c->p[1]);
        return;
    case 0xda:
        if (need(c, 3)) unpack_string(L, c, 3, (size_t)be(c->p + 1, 2));
        return;
    case 0xdb:
        if (need(c, 5)) unpack_string(L, c, 5, (size_t)be(c->p + 1, 4));
        return;
    case 0xdc: case 0xdd: case 0xde: case 0xdf: {
        int w = (t == 0xdc || t == 0xde) ? 2 : 4;
        if (!need(c, 1 + (size_t)w)) return;
        size_t n = (size_t)be(c->p + 1, w);
        take(c, 1 + (size_t)w);
        if (t <= 0xdd) unpack_array(L, c, n);
        else unpack_map(L, c, n);
        return;
    }
    default:
        break;
    }
    if (!(t & 0x80)) {
        lua_pushinteger(L, t);
        take(c, 1);
    } else if ((t & 0xe0) == 0xe0) {
        lua_pushinteger(L, (signed char)t);
        take(c, 1);
    } else if ((t & 0xe0) == 0xa0) {
        unpack_string(L, c, 1, t & 0x1f);
    } else if ((t & 0xf0) == 0x90) {
        take(c, 1);
        unpack_array(L, c, t & 0xf);
    } else if ((t & 0xf0) == 0x80) {
        take(c, 1);
        unpack_map(L, c, t & 0xf);
    } else {
        c->err = MP_BADFMT;
    }
}

/* limit 0 and offset 0: every value, no offset returned; else up to limit
 * values from offset, followed (in first place) by the next offset or -1. */
static int unpack_from(lua_State *L, lua_Integer limit, lua_Integer offset)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    bool all = !limit && !offset;
    if (offset < 0 || limit < 0)
        return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.", (int)offset, (int)len);
    if ((size_t)offset > len)
        return luaL_error(L, "Start offset %d greater than input length %d.", (int)offset, (int)len);
    if (all) limit = INT_MAX;
    mp_in_t c = { (const unsigned char *)s + offset, len - (size_t)offset, 0 };
    int n = 0;
    while (c.left > 0 && n < limit) {
        unpack_value(L, &c);
        if (c.err == MP_EOF) return luaL_error(L, "Missing bytes in input.");
        if (c.err == MP_BADFMT) return luaL_error(L, "Bad data format in input.");
        n++;
    }
    if (all) return n;
    luaL_checkstack(L, 1, "in function mp_unpack_full");
    lua_pushinteger(L, c.left == 0 ? -1 : (lua_Integer)(len - c.left));
    lua_insert(L, 2);
    return n + 1;
}

static int mp_unpack(lua_State *L) { return unpack_from(L, 0, 0); }

static int mp_unpack_one(lua_State *L)
{
    lua_Integer offset = luaL_optinteger(L, 2, 0);
    lua_settop(L, 1);
    return unpack_from(L, 1, offset);
}

static int mp_unpack_limit(lua_State *L)
{
    lua_Integer limit = luaL_checkinteger(L, 2);
    lua_Integer offset = luaL_optinteger(L, 3, 0);
    lua_settop(L, 1);
    return unpack_from(L, limit, offset);
}

int script_open_cmsgpack(lua_State *L)
{
    static const luaL_Reg fns[] = {
        { "pack", mp_pack }, { "unpack", mp_unpack }, { "unpack_one", mp_unpack_one },
        { "unpack_limit", mp_unpack_limit }, { NULL, NULL },
    };
    lua_newtable(L);
    lua_pushcfunction(L, out_gc);
    lua_setfield(L, -2, "__gc");
    lua_setfield(L, LUA_REGISTRYINDEX, "shoal_mp_out");
    lua_newtable(L);
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    /* the same metadata fields 7.0.15's table carries */
    static const char *const meta[][2] = {
        { "_NAME", "cmsgpack" }, { "_VERSION", "lua-cmsgpack 0.4.0" },
        { "_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo" },
        { "_DESCRIPTION", "MessagePack C implementation for Lua" },
    };
    for (size_t i = 0; i < sizeof meta / sizeof *meta; i++) {
        lua_pushstring(L, meta[i][1]);
        lua_setfield(L, -2, meta[i][0]);
    }
    lua_pushvalue(L, -1);
    lua_setglobal(L, "cmsgpack");
    return 1;
}

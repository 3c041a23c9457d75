/* script_textload.c - see script_textload.h.
 *
 * Lua 5.1's lua_load looks at the first byte a reader gives: the binary
 * signature's escape byte means bytecode, anything else source. The reader
 * here wraps the caller's: when the chunk's first bytes start with that
 * escape, it gives a single space first, so the parser is chosen and then
 * meets the escape as the first token (a syntax error on line 1, as 7.0.15's
 * parser reports it: a leading space moves no line). Every other chunk
 * passes through untouched.
 *
 * Must never: hand lua_load a chunk of the caller's whose first byte is the
 * signature's without the space in front.
 */
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

#include "actors/commands/script_textload.h"

typedef struct text_reader {
    lua_Reader inner;
    void *inner_ud;
    int step;                     /* 0: nothing read yet, 1: `held` is owed, 2: pass through */
    const char *held;
    size_t held_len;
} text_reader_t;

static const char *read_text(lua_State *L, void *ud, size_t *size)
{
    text_reader_t *t = ud;
    if (t->step == 1) {
        t->step = 2;
        *size = t->held_len;
        return t->held;           /* still valid: the inner reader was not called since */
    }
    const char *p = t->inner(L, t->inner_ud, size);
    if (t->step == 0 && p && *size > 0) {
        t->step = 2;
        if (p[0] == LUA_SIGNATURE[0]) {
            t->held = p;
            t->held_len = *size;
            t->step = 1;
            *size = 1;
            return " ";
        }
    }
    return p;
}

static int load_text(lua_State *L, lua_Reader inner, void *ud, const char *chunkname)
{
    text_reader_t t = { .inner = inner, .inner_ud = ud };
    return lua_load(L, read_text, &t, chunkname);
}

typedef struct whole {
    const char *p;
    size_t len;
} whole_t;

static const char *read_whole(lua_State *L, void *ud, size_t *size)
{
    (void)L;
    whole_t *w = ud;
    if (!w->p) return NULL;
    const char *p = w->p;
    *size = w->len;
    w->p = NULL;
    return p;
}

int script_load_text(lua_State *L, const char *buf, size_t len, const char *chunkname)
{
    whole_t w = { buf, len };
    return load_text(L, read_whole, &w, chunkname);
}

/* The results of loadstring and load: the function, or nil and the message. */
static int load_results(lua_State *L, int status)
{
    if (status == 0) return 1;
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

/* loadstring(s [, chunkname]): the chunk's name defaults to s itself. */
static int l_loadstring(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, s);
    return load_results(L, script_load_text(L, s, len, name));
}

/* load(f [, chunkname]): f gives the chunk's pieces, nil or "" at the end.
 * Each piece is kept in stack slot 3 until the next call (the reader's
 * pointer must stay valid that long). */
static const char *read_pieces(lua_State *L, void *ud, size_t *size)
{
    (void)ud;
    luaL_checkstack(L, 2, "too many nested functions");
    lua_pushvalue(L, 1);
    lua_call(L, 0, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        *size = 0;
        return NULL;
    }
    if (!lua_isstring(L, -1)) luaL_error(L, "reader function must return a string");
    lua_replace(L, 3);
    return lua_tolstring(L, 3, size);
}

static int l_load(lua_State *L)
{
    const char *name = luaL_optstring(L, 2, "=(load)");
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_settop(L, 3);
    return load_results(L, load_text(L, read_pieces, NULL, name));
}

void script_textload_install(lua_State *L)
{
    lua_pushcfunction(L, l_loadstring);
    lua_setglobal(L, "loadstring");
    lua_pushcfunction(L, l_load);
    lua_setglobal(L, "load");
}

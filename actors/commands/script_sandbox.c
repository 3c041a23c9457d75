/* script_sandbox.c - the protected globals of a script's Lua state, as 7.0.15 (Debian's build) has them.
 *
 * Redis patches its Lua with read-only tables and marks the globals, every
 * library table, the string metatable and the globals' metatable read-only.
 * Debian's Lua has no such flag, so each of those tables is replaced by an
 * empty proxy whose metatable reads through to the real table and refuses
 * writes; the real globals table stays as it was built (so pairs over it
 * meets the keys in the order Redis's does) and the thread's globals become
 * the proxy. A proxy is empty, so every write to it reaches __newindex, new
 * key or not.
 *
 * What sees through a metatable does not see a proxy by itself: next,
 * pairs, rawget, rawset, getmetatable, setmetatable, table.insert,
 * table.foreach and table.maxn are replaced by our own versions that take a
 * proxy for its real table (reads) or refuse it with 7.0.15's text
 * (writes), with Lua 5.1's own argument checks, so that errors name the
 * function as the original would. The rest of the table library and unpack
 * only touch the array part, empty in every protected table, so a proxy
 * gives what the real table gives.
 *
 * Which globals exist is decided while the state is built, as 7.0.15
 * does: a guard on the globals table keeps every name off its allow-list
 * out (loadfile, dofile, print, and, in Debian's 7.0.15-1~deb12u10 that
 * the tests compare with, setfenv, getfenv and newproxy), and the error
 * handler's chunk sets debug to nil after keeping it for itself.
 *
 * Must never: let a script's write to a protected table survive the script.
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <string.h>

#include "actors/commands/script_lua.h"
#include "runtime/log.h"

/* registry keys */
#define REG_GLOBALS "shoal_globals"        /* the table global reads go to */
#define REG_REAL "shoal_ro_real"           /* proxy -> real table (true: the globals, see above) */
#define REG_META "shoal_ro_meta"           /* proxy -> what getmetatable answers for it */
#define REG_STRING_META "shoal_ro_strmeta" /* the view of the strings' metatable */
#define REG_GLOBALS_META "shoal_gmeta"     /* {__index = global_missing}: on every globals table */

/* ---------------- the proxies ---------------- */

/* The __index of the globals' metatable, reached only when a name is
 * missing from the globals (the proxy reads through the globals table
 * itself, a table lookup inside the VM: no C call on a hit). Called
 * directly (getmetatable(_G).__index(...)), it fails as 7.0.15's
 * luaProtectedTableError does, for any name. */
static int global_missing(lua_State *L)
{
    if (lua_gettop(L) != 2) {
        LOG_WARNING("malicious code trying to call luaProtectedTableError with wrong arguments");
        return luaL_error(L, "Wrong number of arguments to luaProtectedTableError");
    }
    if (!lua_isstring(L, -1) && !lua_isnumber(L, -1))
        return luaL_error(L, "Second argument to luaProtectedTableError must be a string or number");
    return luaL_error(L, "Script attempted to access nonexistent global variable '%s'", lua_tostring(L, -1));
}

/* A write through the VM (t.k = v): the script's line leads the text. */
static int readonly_write(lua_State *L)
{
    return luaL_error(L, "Attempt to modify a readonly table");
}

/* A write through a C function (rawset, setmetatable, table.insert): 7.0.15
 * raises it inside the C function, so no line leads the text. */
static int readonly_raw(lua_State *L)
{
    lua_pushstring(L, "Attempt to modify a readonly table");
    return lua_error(L);
}

/* Pushes a proxy reading through `reads` (a table, or the globals' lookup
 * function); real: what REG_REAL maps it to (stack index, 0: true). */
static void push_proxy(lua_State *L, int reads, int real)
{
    reads = reads < 0 ? lua_gettop(L) + 1 + reads : reads;
    real = real < 0 ? lua_gettop(L) + 1 + real : real;
    lua_newtable(L);
    lua_newtable(L);
    lua_pushvalue(L, reads);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, readonly_write);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_getfield(L, LUA_REGISTRYINDEX, REG_REAL);
    lua_pushvalue(L, -2);
    if (real) lua_pushvalue(L, real);
    else lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

void script_lua_push_readonly(lua_State *L, int reads_at) { push_proxy(L, reads_at, reads_at); }

/* True when the value at idx is a proxy. */
static bool is_proxy(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE) return false;
    lua_getfield(L, LUA_REGISTRYINDEX, REG_REAL);
    lua_pushvalue(L, idx);
    lua_rawget(L, -2);
    bool r = !lua_isnil(L, -1);
    lua_pop(L, 2);
    return r;
}

/* Replaces a proxy at idx (a positive index) by its real table. */
static void see_through(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE) return;
    lua_getfield(L, LUA_REGISTRYINDEX, REG_REAL);
    lua_pushvalue(L, idx);
    lua_rawget(L, -2);
    if (lua_isboolean(L, -1)) {
        lua_pop(L, 1);
        lua_getfield(L, LUA_REGISTRYINDEX, REG_GLOBALS);
    }
    if (lua_istable(L, -1)) lua_replace(L, idx);
    else lua_pop(L, 1);
    lua_pop(L, 1);
}

/* ---------------- the base functions that bypass metatables ---------------- */

static int sb_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    see_through(L, 1);
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    return 1;
}

static int sb_pairs(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushvalue(L, lua_upvalueindex(1));   /* our next */
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* rawget (n = 2) and rawset (n = 3) with Lua 5.1's checks: reads see
 * through a proxy, writes to one are refused. */
static int raw_access(lua_State *L, int n)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    for (int i = 2; i <= n; i++) luaL_checkany(L, i);
    lua_settop(L, n);
    if (n == 2) {
        see_through(L, 1);
        lua_rawget(L, 1);
    } else {
        if (is_proxy(L, 1)) return readonly_raw(L);
        lua_rawset(L, 1);                        /* leaves the table on top: rawset returns it */
    }
    return 1;
}

static int sb_rawget(lua_State *L) { return raw_access(L, 2); }
static int sb_rawset(lua_State *L) { return raw_access(L, 3); }

static int sb_getmetatable(lua_State *L)
{
    luaL_checkany(L, 1);
    if (is_proxy(L, 1)) {
        lua_getfield(L, LUA_REGISTRYINDEX, REG_META);
        lua_pushvalue(L, 1);
        lua_rawget(L, -2);
        return 1;                                /* nil for a library, as 7.0.15 */
    }
    if (lua_type(L, 1) == LUA_TSTRING) {
        lua_getfield(L, LUA_REGISTRYINDEX, REG_STRING_META);
        return 1;
    }
    if (!lua_getmetatable(L, 1)) {
        lua_pushnil(L);
        return 1;
    }
    luaL_getmetafield(L, 1, "__metatable");
    return 1;
}

static int sb_setmetatable(lua_State *L)
{
    int t = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argcheck(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table expected");
    if (is_proxy(L, 1)) return readonly_raw(L);
    if (luaL_getmetafield(L, 1, "__metatable")) return luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

static int sb_tinsert(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int e = (int)lua_objlen(L, 1) + 1;
    int pos;
    switch (lua_gettop(L)) {
    case 2:
        pos = e;
        break;
    case 3:
        pos = luaL_checkint(L, 2);
        if (pos > e) e = pos;
        if (is_proxy(L, 1)) return readonly_raw(L);
        for (int i = e; i > pos; i--) {
            lua_rawgeti(L, 1, i - 1);
            lua_rawseti(L, 1, i);
        }
        break;
    default:
        return luaL_error(L, "wrong number of arguments to 'insert'");
    }
    if (is_proxy(L, 1)) return readonly_raw(L);
    lua_rawseti(L, 1, pos);
    return 0;
}

static int sb_tforeach(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    see_through(L, 1);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pushvalue(L, 2);
        lua_pushvalue(L, -3);
        lua_pushvalue(L, -3);
        lua_call(L, 2, 1);
        if (!lua_isnil(L, -1)) return 1;
        lua_pop(L, 2);
    }
    return 0;
}

static int sb_tmaxn(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    see_through(L, 1);
    lua_Number max = 0;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TNUMBER) {
            lua_Number v = lua_tonumber(L, -1);
            if (v > max) max = v;
        }
    }
    lua_pushnumber(L, max);
    return 1;
}

/* ---------------- locking a state ---------------- */

static void set_fn(lua_State *L, int table, const char *name, lua_CFunction f)
{
    if (table < 0) table = lua_gettop(L) + 1 + table;
    lua_pushcfunction(L, f);
    lua_setfield(L, table, name);
}

/* Pushes a read-only view of the table at idx, which getmetatable gives for
 * what it protects (the table itself stays usable by the VM as it is). */
static void push_view(lua_State *L, int idx)
{
    push_proxy(L, idx, idx);
}

/* The globals 7.0.15 lets the libraries set while a state is built; any
 * other name a library sets is dropped and never becomes a key. */
static const char *const allowed_globals[] = {
    "string", "cjson", "bit", "cmsgpack", "math", "table", "struct",
    "redis", "__redis__err__handler",
    "xpcall", "tostring", "setmetatable", "next", "assert", "tonumber", "rawequal", "collectgarbage",
    "getmetatable", "rawset", "pcall", "coroutine", "type", "_G", "select", "unpack", "gcinfo", "pairs",
    "rawget", "loadstring", "ipairs", "_VERSION", "load", "error",
    "debug",                       /* set to nil by the error handler's chunk */
};

static int guard_newindex(lua_State *L)
{
    const char *name = lua_tostring(L, 2);
    for (size_t i = 0; name && i < sizeof allowed_globals / sizeof *allowed_globals; i++)
        if (!strcmp(name, allowed_globals[i])) {
            lua_rawset(L, 1);
            break;
        }
    return 0;
}

void script_sandbox_guard(lua_State *L)
{
    lua_newtable(L);
    lua_pushcfunction(L, guard_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, LUA_GLOBALSINDEX);
}

void script_sandbox_lock(lua_State *L)
{
    /* the guard goes: from now on only our own code writes the real globals (KEYS, ARGV) */
    lua_pushnil(L);
    lua_setmetatable(L, LUA_GLOBALSINDEX);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_REAL);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_META);

    lua_pushvalue(L, LUA_GLOBALSINDEX);
    int real = lua_gettop(L);
    lua_pushvalue(L, real);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_GLOBALS);

    /* base and table functions replaced while the real table is still the globals */
    lua_pushcfunction(L, sb_next);
    lua_pushvalue(L, -1);
    lua_setfield(L, real, "next");
    lua_pushcclosure(L, sb_pairs, 1);
    lua_setfield(L, real, "pairs");
    set_fn(L, real, "rawget", sb_rawget);
    set_fn(L, real, "rawset", sb_rawset);
    set_fn(L, real, "getmetatable", sb_getmetatable);
    set_fn(L, real, "setmetatable", sb_setmetatable);
    lua_getfield(L, real, "table");
    set_fn(L, -1, "insert", sb_tinsert);
    set_fn(L, -1, "foreach", sb_tforeach);
    set_fn(L, -1, "maxn", sb_tmaxn);
    lua_pop(L, 1);

    /* every library table behind a proxy (values replaced in place: the keys keep their order) */
    lua_pushnil(L);
    while (lua_next(L, real)) {
        if (lua_istable(L, -1) && !lua_rawequal(L, -1, real)) {
            push_proxy(L, -1, -1);
            lua_pushvalue(L, -3);
            lua_pushvalue(L, -2);
            lua_rawset(L, real);                 /* same key, new value: iteration may go on */
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }

    /* the strings' metatable: methods through the string proxy, a view for getmetatable */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_getfield(L, real, "string");
    lua_setfield(L, -2, "__index");
    push_view(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_STRING_META);
    lua_pop(L, 2);

    /* the globals: a proxy becomes the thread's globals table and _G. It
     * reads through the real table, whose own metatable fails a missing
     * name: a hit is two table lookups inside the VM. */
    lua_newtable(L);                             /* real, meta */
    lua_pushcfunction(L, global_missing);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_GLOBALS_META);
    lua_pushvalue(L, -1);
    lua_setmetatable(L, real);
    push_proxy(L, real, 0);                      /* real, meta, proxy */
    int proxy = lua_gettop(L);
    push_view(L, proxy - 1);                     /* what getmetatable(_G) shows: {__index = global_missing} */
    lua_getfield(L, LUA_REGISTRYINDEX, REG_META);
    lua_pushvalue(L, proxy);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);                           /* REG_META[proxy] = the view */
    lua_pop(L, 2);
    lua_pushvalue(L, proxy);
    lua_setfield(L, real, "_G");
    lua_replace(L, LUA_GLOBALSINDEX);            /* pops the proxy */
    lua_pop(L, 2);                               /* meta, real */
}

void script_lua_swap_globals(lua_State *L)
{
    /* a missing name in the new globals fails as in the state's own */
    if (lua_getmetatable(L, -1)) {
        lua_pop(L, 1);
    } else {
        lua_getfield(L, LUA_REGISTRYINDEX, REG_GLOBALS_META);
        lua_setmetatable(L, -2);
    }
    lua_getmetatable(L, LUA_GLOBALSINDEX);       /* the proxy's: reads go to the new table */
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, REG_GLOBALS);
    lua_insert(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_GLOBALS);
}

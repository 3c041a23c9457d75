/* function_lua.c - a FUNCTION library's code in Lua: learning its functions,
 * and each worker's state in which FCALL runs them.
 *
 * A library's code runs once to register its functions
 * (redis.register_function). While it runs, its globals are 7.0.15's
 * library API only: a `redis` table with register_function, log, the LOG_*
 * levels and the version (everything else, `string` included, is a
 * nonexistent global, as in 7.0.15). Afterwards the callbacks it registered
 * see the state's ordinary globals, as EVAL's scripts do (7.0.15 swaps the
 * globals' reader the same way: script_lua_swap_globals).
 *
 * FUNCTION LOAD builds the library in a fresh sandbox (fn_lib_build), only
 * to learn its functions and its errors; the registry (function_lib.c) then
 * holds its code. Each worker keeps one more state of its own with every
 * library of the registry loaded, rebuilt whole when the registry's
 * generation moved, so that any worker runs any function: FCALL runs on
 * the worker that owns its keys' slot.
 *
 * Must never: let library code run with the runtime redis API (redis.call
 * at load time is a nonexistent global, as in 7.0.15).
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "actors/commands/function.h"
#include "actors/commands/script.h"
#include "actors/commands/script_lua.h"
#include "actors/commands/script_textload.h"
#include "proto/splitargs.h"
#include "proto/strnum.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

#define NAME_ERROR "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"

/* What redis.register_function adds to while a library loads. */
typedef struct load_ctx {
    fn_lib_t *lib;
    long long start_ms;
    long timeout_ms;
} load_ctx_t;

static __thread load_ctx_t *tl_load;

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool name_ok(const char *s, size_t n)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* ---------------- redis.register_function ---------------- */

static int raise(lua_State *L, const char *msg)
{
    script_push_error(L, msg, strlen(msg));
    return lua_error(L);
}

static const struct { const char *name; unsigned flag; } flag_names[] = {
    { "no-writes", SCRIPT_F_NO_WRITES }, { "allow-oom", SCRIPT_F_ALLOW_OOM }, { "allow-stale", SCRIPT_F_ALLOW_STALE },
    { "no-cluster", SCRIPT_F_NO_CLUSTER }, { "allow-cross-slot-keys", SCRIPT_F_CROSS_SLOT },
};

/* The flags table at the top: false on a value that is no known flag. */
static bool read_flags(lua_State *L, unsigned *flags)
{
    for (int j = 1;; j++) {
        lua_pushnumber(L, j);
        lua_gettable(L, -2);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            return true;
        }
        bool found = false;
        if (lua_isstring(L, -1)) {
            const char *s = lua_tostring(L, -1);
            for (size_t i = 0; i < sizeof flag_names / sizeof *flag_names && !found; i++)
                if (!strcasecmp(flag_names[i].name, s)) {
                    *flags |= flag_names[i].flag;
                    found = true;
                }
        }
        lua_pop(L, 1);
        if (!found) return false;
    }
}

/* Reads register_function's arguments: the function ends on the stack's
 * top; *name_len is the name's length in bytes (a NUL in it makes it
 * longer than its C string, and no valid name). NULL or the error text. */
static const char *read_args(lua_State *L, char **name, size_t *name_len, char **desc, unsigned *flags)
{
    int argc = lua_gettop(L);
    if (argc < 1 || argc > 2) return "wrong number of arguments to redis.register_function";
    if (argc == 2) {
        if (!lua_isstring(L, 1)) return "first argument to redis.register_function must be a string";
        if (!lua_isfunction(L, 2)) return "second argument to redis.register_function must be a function";
        const char *s = lua_tolstring(L, 1, name_len);
        *name = dup_n(s, *name_len);
        return NULL;
    }
    if (!lua_istable(L, 1))
        return "calling redis.register_function with a single argument is only applicable to Lua table "
               "(representing named arguments).";
    bool have_cb = false;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        if (!lua_isstring(L, -2)) return "named argument key given to redis.register_function is not a string";
        const char *key = lua_tostring(L, -2);
        if (!strcasecmp(key, "function_name")) {
            if (!lua_isstring(L, -1)) return "function_name argument given to redis.register_function must be a string";
            const char *s = lua_tolstring(L, -1, name_len);
            free(*name);
            *name = dup_n(s, *name_len);
        } else if (!strcasecmp(key, "description")) {
            if (!lua_isstring(L, -1)) return "description argument given to redis.register_function must be a string";
            size_t n;
            const char *s = lua_tolstring(L, -1, &n);
            free(*desc);
            *desc = dup_n(s, n);
        } else if (!strcasecmp(key, "callback")) {
            if (!lua_isfunction(L, -1)) return "callback argument given to redis.register_function must be a function";
            lua_pushvalue(L, -1);
            lua_setfield(L, LUA_REGISTRYINDEX, "__fn_callback");
            have_cb = true;
        } else if (!strcasecmp(key, "flags")) {
            if (!lua_istable(L, -1))
                return "flags argument to redis.register_function must be a table representing function flags";
            if (!read_flags(L, flags)) return "unknown flag given";
        } else {
            return "unknown argument given to redis.register_function";
        }
        lua_pop(L, 1);
    }
    if (!*name) return "redis.register_function must get a function name argument";
    if (!have_cb) return "redis.register_function must get a callback argument";
    lua_getfield(L, LUA_REGISTRYINDEX, "__fn_callback");
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "__fn_callback");
    return NULL;
}

static int l_register_function(lua_State *L)
{
    load_ctx_t *lc = tl_load;
    if (!lc) return raise(L, "redis.register_function can only be called on FUNCTION LOAD command");
    char *name = NULL, *desc = NULL;
    size_t name_len = 0;
    unsigned flags = 0;
    const char *err = read_args(L, &name, &name_len, &desc, &flags);
    fn_lib_t *lib = lc->lib;
    if (!err && !name_ok(name, name_len)) err = NAME_ERROR;
    for (int i = 0; !err && i < lib->nfuncs; i++)
        if (!strcmp(lib->funcs[i].name, name)) err = "Function already exists in the library";
    if (err) {
        free(name);
        free(desc);
        return raise(L, err);
    }
    /* the callback, at the top, goes into the load's table under its name */
    lua_getfield(L, LUA_REGISTRYINDEX, "__fn_loading");
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, name);
    lib->funcs = xrealloc(lib->funcs, sizeof *lib->funcs * (size_t)(lib->nfuncs + 1));
    lib->funcs[lib->nfuncs++] = (fn_func_t){ .name = name, .desc = desc, .flags = flags };
    return 0;
}

/* FUNCTION LOAD's time limit, as 7.0.15's (checked every 100000 instructions). */
static void load_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    load_ctx_t *lc = tl_load;
    if (lc && lc->timeout_ms > 0 && mono_ms() - lc->start_ms > lc->timeout_ms) {
        lua_sethook(L, load_hook, LUA_MASKLINE, 0);
        raise(L, "FUNCTION LOAD timeout");
    }
}

/* ---------------- the library API ---------------- */

static int api_missing(lua_State *L)
{
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    if (!lua_isnil(L, -1)) return 1;
    const char *k = lua_tostring(L, 2);
    return luaL_error(L, "Script attempted to access nonexistent global variable '%s'", k ? k : "?");
}

/* Registry __fn_libapi: what a library's code sees as its globals while it
 * loads: { redis = a read-only view of { register_function, log, LOG_*,
 * REDIS_VERSION, REDIS_VERSION_NUM } }. Read by global_missing (script_lua.c)
 * as the globals table, so a missing name fails with its text. */
static void make_libapi(lua_State *L)
{
    lua_newtable(L);                                  /* the api's redis, real */
    lua_pushcfunction(L, l_register_function);
    lua_setfield(L, -2, "register_function");
    lua_getglobal(L, "redis");                        /* the runtime redis: log and the numbers */
    static const char *const copied[] = { "log", "LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING",
                                          "REDIS_VERSION", "REDIS_VERSION_NUM" };
    for (size_t i = 0; i < sizeof copied / sizeof *copied; i++) {
        lua_getfield(L, -1, copied[i]);
        lua_setfield(L, -3, copied[i]);
    }
    lua_pop(L, 1);
    lua_pushvalue(L, -1);                             /* its read-only view, whose missing names fail */
    lua_pushcclosure(L, api_missing, 1);
    script_lua_push_readonly(L, -1);
    lua_remove(L, -2);
    lua_remove(L, -2);
    lua_newtable(L);                                  /* the globals: only redis */
    lua_insert(L, -2);
    lua_setfield(L, -2, "redis");
    lua_setfield(L, LUA_REGISTRYINDEX, "__fn_libapi");
}

static lua_State *fn_state_new(void)
{
    lua_State *L = script_lua_new_state();
    make_libapi(L);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "__fn_cb");      /* lower-case name -> callback */
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "__fn_meta");    /* lower-case name -> { name, flags } */
    return L;
}

/* ---------------- running a library's code ---------------- */

/* Runs body (the code after the shebang line) in L to fill lib's functions;
 * the callbacks are left in registry __fn_loading (name -> function). False
 * with the error text in err. */
static bool run_library(lua_State *L, const char *body, size_t len, long timeout_ms, fn_lib_t *lib, char *err,
                        size_t errcap)
{
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "__fn_loading");
    if (script_load_text(L, body, len, "@user_function")) {
        snprintf(err, errcap, "Error compiling function: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return false;
    }
    load_ctx_t lc = { .lib = lib, .start_ms = mono_ms(), .timeout_ms = timeout_ms };
    tl_load = &lc;
    lua_getfield(L, LUA_REGISTRYINDEX, "__fn_libapi");
    script_lua_swap_globals(L);                       /* the library API while it loads */
    lua_insert(L, -2);                                /* the globals to go back to, below the chunk */
    lua_sethook(L, load_hook, LUA_MASKCOUNT, 100000);
    int rc = lua_pcall(L, 0, 0, 0);
    lua_sethook(L, NULL, 0, 0);
    tl_load = NULL;
    bool ok = true;
    if (rc) {
        /* 7.0.15: an {err=} table gives its text, anything else "ERR <text>" */
        const char *msg = NULL;
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "err");
            msg = lua_tostring(L, -1);
            snprintf(err, errcap, "Error registering functions: %s", msg ? msg : "");
            lua_pop(L, 1);
        } else {
            msg = lua_tostring(L, -1);
            snprintf(err, errcap, "Error registering functions: ERR %s", msg ? msg : "");
        }
        lua_pop(L, 1);
        ok = false;
    }
    script_lua_swap_globals(L);                       /* back to the state's globals */
    lua_pop(L, 1);
    return ok;
}

typedef struct words {
    int n;
    char engine[64];
    bool engine_long;
    const char *bad;              /* first word that is no name=, kept for the error */
    size_t bad_len;
    const char *name;
    size_t name_len;
    bool name_twice;
} words_t;

static void on_word(void *arg, const char *w, size_t n)
{
    words_t *x = arg;
    if (x->n++ == 0) {
        size_t k = n >= 2 ? n - 2 : 0;
        if (k >= sizeof x->engine) x->engine_long = true;
        else memcpy(x->engine, w + (n >= 2 ? 2 : n), k), x->engine[k] = 0;
        return;
    }
    if (x->bad || x->name_twice) return;
    if (n >= 5 && !strncasecmp(w, "name=", 5)) {
        if (x->name) x->name_twice = true;
        x->name = w + 5;
        x->name_len = n - 5;
    } else {
        x->bad = w;
        x->bad_len = n;
    }
}

fn_lib_t *fn_lib_build(const char *code, size_t len, long timeout_ms, fn_exists_fn exists, void *arg, char *err,
                       size_t errcap)
{
    /* 7.0.15 reads the code as a C string */
    const char *nul = memchr(code, 0, len);
    size_t clen = nul ? (size_t)(nul - code) : len;
    if (clen < 2 || code[0] != '#' || code[1] != '!') {
        snprintf(err, errcap, "Missing library metadata");
        return NULL;
    }
    const char *nl = memchr(code, '\n', clen);
    if (!nl) {
        snprintf(err, errcap, "Invalid library metadata");
        return NULL;
    }
    size_t shebang_len = (size_t)(nl - code);
    char *out = xmalloc(shebang_len + 1);
    words_t w = { 0 };
    bool split = splitargs((const uint8_t *)code, shebang_len, out, on_word, &w);
    fn_lib_t *lib = NULL;
    if (!split || w.n == 0) {
        snprintf(err, errcap, "Invalid library metadata");
    } else if (w.name_twice) {
        snprintf(err, errcap, "Invalid metadata value, name argument was given multiple times");
    } else if (w.bad) {
        snprintf(err, errcap, "Invalid metadata value given: %.*s", (int)w.bad_len, w.bad);
    } else if (!w.name) {
        snprintf(err, errcap, "Library name was not given");
    } else if (!name_ok(w.name, w.name_len)) {
        snprintf(err, errcap, NAME_ERROR);
    } else if (w.engine_long || strcasecmp(w.engine, "lua")) {
        snprintf(err, errcap, "Engine '%s' not found", w.engine_long ? "?" : w.engine);
    } else {
        char *name = dup_n(w.name, w.name_len);
        if (exists && exists(arg, name)) {
            snprintf(err, errcap, "Library '%s' already exists", name);
            free(name);
        } else {
            lib = xcalloc(1, sizeof *lib);
            lib->name = name;
            lib->code = dup_n(code, len);
            lib->code_len = len;
        }
    }
    free(out);
    if (!lib) return NULL;
    lua_State *L = fn_state_new();
    bool ok = run_library(L, nl, clen - shebang_len, timeout_ms, lib, err, errcap);
    script_lua_close(L);
    if (ok && lib->nfuncs == 0) {
        snprintf(err, errcap, "No functions registered");
        ok = false;
    }
    if (!ok) {
        fn_lib_free(lib);
        return NULL;
    }
    return lib;
}

/* ---------------- each worker's state ---------------- */

static __thread lua_State *tl_fn;
static __thread unsigned long tl_fn_gen;

/* Lower-cased copy of a function name (FCALL finds names whatever their case, as 7.0.15). */
static void push_lower(lua_State *L, const char *s, size_t n)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < n; i++) luaL_addchar(&b, (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] | 0x20 : s[i]));
    luaL_pushresult(&b);
}

/* Loads lib into the worker's state L: its callbacks join __fn_cb. */
static void state_add_lib(lua_State *L, const fn_lib_t *lib)
{
    const char *nl = memchr(lib->code, '\n', lib->code_len);
    const char *nul = memchr(lib->code, 0, lib->code_len);
    size_t clen = nul ? (size_t)(nul - lib->code) : lib->code_len;
    fn_lib_t scratch = { 0 };
    char err[512];
    bool ok = nl && run_library(L, nl, clen - (size_t)(nl - lib->code), 0, &scratch, err, sizeof err);
    if (!ok) LOG_WARNING("Library %s did not load on this worker: %s", lib->name, nl ? err : "no shebang");
    lua_getfield(L, LUA_REGISTRYINDEX, "__fn_loading");
    lua_getfield(L, LUA_REGISTRYINDEX, "__fn_cb");
    lua_getfield(L, LUA_REGISTRYINDEX, "__fn_meta");
    for (int i = 0; ok && i < scratch.nfuncs; i++) {
        const fn_func_t *f = &scratch.funcs[i];
        push_lower(L, f->name, strlen(f->name));
        lua_getfield(L, -4, f->name);
        lua_rawset(L, -4);
        push_lower(L, f->name, strlen(f->name));
        lua_createtable(L, 2, 0);
        lua_pushstring(L, f->name);
        lua_rawseti(L, -2, 1);
        lua_pushnumber(L, f->flags);
        lua_rawseti(L, -2, 2);
        lua_rawset(L, -3);
    }
    lua_pop(L, 3);
    for (int i = 0; i < scratch.nfuncs; i++) {
        free(scratch.funcs[i].name);
        free(scratch.funcs[i].desc);
    }
    free(scratch.funcs);
}

static lua_State *fn_state(void)
{
    unsigned long gen = fn_reg_gen();
    if (tl_fn && tl_fn_gen == gen) return tl_fn;
    if (tl_fn) script_lua_close(tl_fn);
    int n;
    fn_lib_t **libs = fn_reg_snapshot(&n, &tl_fn_gen);
    tl_fn = fn_state_new();
    for (int i = 0; i < n; i++) state_add_lib(tl_fn, libs[i]);
    fn_libs_free(libs, n);
    return tl_fn;
}

void fn_call(cmd_ctx_t *ctx, bool ro)
{
    lua_State *L = fn_state();
    lua_getfield(L, LUA_REGISTRYINDEX, "__fn_meta");
    push_lower(L, (const char *)ctx->argv[1], ctx->argvlen[1]);
    lua_rawget(L, -2);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 2);
        resp_add_error(ctx->reply, "ERR Function not found");
        return;
    }
    lua_rawgeti(L, -1, 1);
    char name[256];
    snprintf(name, sizeof name, "%s", lua_tostring(L, -1));
    lua_rawgeti(L, -2, 2);
    unsigned flags = (unsigned)lua_tonumber(L, -1);
    lua_pop(L, 4);
    long long numkeys;
    if (!str_to_ll(ctx->argv[2], ctx->argvlen[2], &numkeys)) {
        resp_add_error(ctx->reply, "ERR Bad number of keys provided");
        return;
    }
    if (numkeys > ctx->argc - 3) {
        resp_add_error(ctx->reply, "ERR Number of keys can't be greater than number of args");
        return;
    }
    if (numkeys < 0) {
        resp_add_error(ctx->reply, "ERR Number of keys can't be negative");
        return;
    }
    lua_getglobal(L, "__redis__err__handler");
    lua_getfield(L, LUA_REGISTRYINDEX, "__fn_cb");
    push_lower(L, (const char *)ctx->argv[1], ctx->argvlen[1]);
    lua_rawget(L, -2);
    lua_remove(L, -2);
    script_lua_invoke(ctx, L, name, flags, (int)numkeys, ro, true);
}

/* script_shas.c - the worker thread's index of the scripts compiled in its EVAL state.
 *
 * A compiled script lives in the state's registry as f_<sha> (7.0.15's
 * name) beside its shebang flags (x_<sha>). Finding it there takes Lua a
 * 42-byte string to hash and intern and a table lookup, for each of the two
 * on every EVALSHA. This index keeps, per thread, a few recently run shas
 * with a registry reference to the function, its flags and whether it once
 * needed the node's cross-worker session (xscript.c): one hash of the sha's
 * first hex digits and one 40-byte compare.
 *
 * An entry is only as good as the state it refers to: script_shas_clear
 * empties the index whenever the thread's EVAL state is closed (SCRIPT
 * FLUSH rebuilds it).
 *
 * Must never: be used from another thread than its own, or hand out an
 * entry of a state that was closed.
 */
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

#include "actors/commands/script_lua.h"

#define SHAS 64                       /* entries, direct-mapped */

typedef struct sha_entry {
    char sha[40];
    bool used;
    int ref;                          /* the function, in the state's registry */
    unsigned flags;
    bool learned;
} sha_entry_t;

static __thread sha_entry_t tl_shas[SHAS];

static sha_entry_t *slot_for(const char *sha)
{
    unsigned h = 0;
    for (int i = 0; i < 4; i++) h = h * 16 + (unsigned)(unsigned char)sha[i];
    return &tl_shas[h % SHAS];
}

bool script_shas_find(lua_State *L, const char *sha, unsigned *flags, bool *learned)
{
    sha_entry_t *e = slot_for(sha);
    if (!e->used || memcmp(e->sha, sha, 40) != 0) return false;
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref);
    *flags = e->flags;
    *learned = e->learned;
    return true;
}

void script_shas_add(lua_State *L, const char *sha, unsigned flags, bool learned)
{
    sha_entry_t *e = slot_for(sha);
    if (e->used) luaL_unref(L, LUA_REGISTRYINDEX, e->ref);
    lua_pushvalue(L, -1);
    e->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    memcpy(e->sha, sha, 40);
    e->flags = flags;
    e->learned = learned;
    e->used = true;
}

void script_shas_learned(const char *sha)
{
    sha_entry_t *e = slot_for(sha);
    if (e->used && memcmp(e->sha, sha, 40) == 0) e->learned = true;
}

void script_shas_clear(void)
{
    memset(tl_shas, 0, sizeof tl_shas);
}

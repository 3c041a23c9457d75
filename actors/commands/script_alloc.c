/* script_alloc.c - the allocator of every Lua state a script or a function runs in.
 *
 * A script allocates many small blocks (its KEYS and ARGV tables, each
 * key's string, each reply's values) that die a few scripts later, when
 * the collector steps. Through malloc each costs a call of glibc's and of
 * the node's counting wrappers (runtime/memcount.h) both ways. Here each
 * state keeps its freed small blocks on lists by size class (16-byte steps
 * up to 256 bytes) and hands them out again; larger blocks go to realloc.
 * Lua 5.1 tells the allocator the size of every block it frees or resizes
 * (it keeps its own byte count from them), so a block needs no header: its
 * class is its size's.
 *
 * What a state keeps on its lists stays allocated (and counted as used
 * memory) until the state is closed, at most POOL_CAP bytes; beyond that
 * freed blocks go back to free.
 *
 * Must never: be shared by two states, or outlive its state
 * (script_lua_close frees both).
 */
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>

#include "actors/commands/script_lua.h"
#include "runtime/log.h"

#define POOL_STEP 16
#define POOL_CLASSES 16                 /* blocks of 16, 32, ... 256 bytes */
#define POOL_CAP (1 << 20)              /* bytes a state keeps on its lists at most */

typedef struct pool_block {
    struct pool_block *next;
} pool_block_t;

typedef struct pool {
    pool_block_t *free[POOL_CLASSES];
    size_t cached;                      /* bytes on the lists */
} pool_t;

/* The class of a block of n bytes (n > 0); POOL_CLASSES when too large. */
static unsigned class_of(size_t n)
{
    return n > POOL_STEP * POOL_CLASSES ? POOL_CLASSES : (unsigned)((n - 1) / POOL_STEP);
}

static void *pool_get(pool_t *p, size_t n)
{
    unsigned c = class_of(n);
    if (c == POOL_CLASSES) return malloc(n);
    pool_block_t *b = p->free[c];
    if (!b) return malloc((size_t)(c + 1) * POOL_STEP);
    p->free[c] = b->next;
    p->cached -= (size_t)(c + 1) * POOL_STEP;
    return b;
}

static void pool_put(pool_t *p, void *ptr, size_t n)
{
    unsigned c = class_of(n);
    size_t size = (size_t)(c + 1) * POOL_STEP;
    if (c == POOL_CLASSES || p->cached + size > POOL_CAP) {
        free(ptr);
        return;
    }
    pool_block_t *b = ptr;
    b->next = p->free[c];
    p->free[c] = b;
    p->cached += size;
}

/* lua_Alloc: osize is the block's size when ptr is not NULL (Lua 5.1's contract). */
static void *pool_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    pool_t *p = ud;
    if (nsize == 0) {
        if (ptr) pool_put(p, ptr, osize);
        return NULL;
    }
    if (!ptr) return pool_get(p, nsize);
    unsigned oc = class_of(osize), nc = class_of(nsize);
    if (oc == POOL_CLASSES && nc == POOL_CLASSES) return realloc(ptr, nsize);
    if (oc == nc) return ptr;           /* a small block has its class's whole size */
    void *n = pool_get(p, nsize);
    if (!n) return NULL;                /* Lua keeps the old block: nothing to undo */
    memcpy(n, ptr, osize < nsize ? osize : nsize);
    pool_put(p, ptr, osize);
    return n;
}

static int panic(lua_State *L)
{
    LOG_WARNING("PANIC: unprotected error in call to Lua API (%s)", lua_tostring(L, -1));
    return 0;                           /* Lua aborts */
}

lua_State *script_lua_open(void)
{
    pool_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    lua_State *L = lua_newstate(pool_alloc, p);
    if (!L) {
        free(p);
        return NULL;
    }
    lua_atpanic(L, panic);
    return L;
}

void script_lua_close(lua_State *L)
{
    void *ud;
    lua_getallocf(L, &ud);
    lua_close(L);                       /* every block comes back through pool_alloc */
    pool_t *p = ud;
    for (unsigned c = 0; c < POOL_CLASSES; c++)
        while (p->free[c]) {
            pool_block_t *b = p->free[c];
            p->free[c] = b->next;
            free(b);
        }
    free(p);
}

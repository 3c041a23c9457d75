/* script_textload.h - compiling Lua chunks as text only (script_textload.c).
 *
 * 7.0.15 runs a Lua whose loader never takes precompiled chunks (bytecode
 * can break out of the sandbox: it is not verified). Stock Lua 5.1 loads a
 * chunk as bytecode when it starts with the binary signature; every chunk a
 * client can hand us goes through these instead.
 */
#ifndef SHOAL_ACTORS_SCRIPT_TEXTLOAD_H
#define SHOAL_ACTORS_SCRIPT_TEXTLOAD_H

#include <lua.h>
#include <stddef.h>

/* luaL_loadbuffer, but always as source text: a chunk in Lua's binary form
 * fails to compile with the parser's error ("unexpected symbol near
 * 'char(27)'"), as on 7.0.15. */
int script_load_text(lua_State *L, const char *buf, size_t len, const char *chunkname);
/* Replaces the globals loadstring and load of L (opened base library) by
 * versions that load text only, with the same arguments and results. */
void script_textload_install(lua_State *L);

#endif

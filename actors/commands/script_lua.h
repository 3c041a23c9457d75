/* script_lua.h - between script_lua.c (the states, the redis table) and
 * script_conv.c (the conversions), which both need a Lua state. */
#ifndef SHOAL_ACTORS_SCRIPT_LUA_H
#define SHOAL_ACTORS_SCRIPT_LUA_H

#include <lua.h>
#include "proto/resp.h"

/* Pushes {err = "CODE msg"}: "-CODE msg" keeps its code, "msg" gets ERR. */
void script_push_error(lua_State *L, const char *e, size_t n);
/* The error reply of the {err=...} table at the top (consumed); with sha, the
 * " script: <sha>, on <source>:<line>." tail when the table has them. */
void script_add_error_table(resp_buf_t *r, lua_State *L, const char *sha);
/* The value at the top (consumed) as a reply; resp: the script's setresp. */
void script_lua_to_reply(resp_buf_t *r, lua_State *L, int resp);
/* One reply at p (NUL-terminated buffer) pushed as a Lua value; returns the end. */
const char *script_reply_to_lua(lua_State *L, const char *p);

#endif

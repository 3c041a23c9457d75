/* script_lua.h - between script_lua.c (the states, the redis table),
 * script_conv.c (the conversions) and function_lua.c (FUNCTION's states),
 * which all need a Lua state. */
#ifndef SHOAL_ACTORS_SCRIPT_LUA_H
#define SHOAL_ACTORS_SCRIPT_LUA_H

#include <lua.h>
#include <stdbool.h>
#include "actors/commands/cmd.h"
#include "proto/resp.h"

/* Pushes {err = "CODE msg"}: "-CODE msg" keeps its code, "msg" gets ERR. */
void script_push_error(lua_State *L, const char *e, size_t n);
/* The same for the error of a call (its refusal, or the command's error
 * reply), with 7.0.15's field ignore_error_stats_update = true, which a
 * script sees (pairs, cjson.encode, the debugger's print). */
void script_push_call_error(lua_State *L, const char *e, size_t n);
/* The error reply of the {err=...} table at the top (consumed); with sha, the
 * " script: <sha>, on <source>:<line>." tail when the table has them.
 * Returns whether the error was counted where it arose (its table says
 * ignore_error_stats_update: a call's refusal or error reply). */
bool script_add_error_table(resp_buf_t *r, lua_State *L, const char *sha);
/* The value at the top (consumed) as a reply; resp: the script's setresp. */
void script_lua_to_reply(resp_buf_t *r, lua_State *L, int resp);
/* One reply at p (NUL-terminated buffer) pushed as a Lua value; returns the end. */
const char *script_reply_to_lua(lua_State *L, const char *p);

/* A bare Lua state whose small blocks are kept on the state's own lists
 * (script_alloc.c), and its end: every state scripts and functions run in
 * is opened and closed by these two. */
lua_State *script_lua_open(void);
void script_lua_close(lua_State *L);
/* A new sandboxed state as EVAL's: the libraries, the redis table, the
 * protected globals and the error handler __redis__err__handler (caller
 * closes it). */
lua_State *script_lua_new_state(void);
/* Reads of globals go to the table at the top (popped) from now on; pushes
 * the table they went to before (FUNCTION LOAD's library API, then back). */
void script_lua_swap_globals(lua_State *L);
/* Pushes an empty table whose reads go to the table or function at
 * reads_at and whose writes fail with 7.0.15's read-only text. */
void script_lua_push_readonly(lua_State *L, int reads_at);
/* Runs the function at the top of L (the error handler below it; both
 * consumed) as a script of this call: flags are its SCRIPT_F_*, keys
 * argv[3 .. 3+numkeys), the rest its arguments; EVAL's as KEYS and ARGV
 * globals, a FUNCTION's (fcall) as its two parameters. name goes in the
 * error texts (the sha, or the function's name). Replies into ctx->reply. */
void script_lua_invoke(cmd_ctx_t *ctx, lua_State *L, const char *name, unsigned flags, int numkeys, bool ro,
                       bool fcall);
/* The thread's index of the scripts compiled in its EVAL state
 * (script_shas.c): find pushes the function of sha (its flags, and whether it
 * needed the node's session before, in the out-parameters), false when not
 * indexed; add indexes the function at the top of L (left there);
 * learned notes that sha needed the session; clear forgets every entry
 * (the state is closed). */
bool script_shas_find(lua_State *L, const char *sha, unsigned *flags, bool *learned);
void script_shas_add(lua_State *L, const char *sha, unsigned flags, bool learned);
void script_shas_learned(const char *sha);
void script_shas_clear(void);
/* The libraries Debian has no package of, as 7.0.15 bundles them; each
 * sets its global (cmsgpack, struct) and leaves its table on the stack. */
int script_open_cmsgpack(lua_State *L);
int script_open_struct(lua_State *L);
/* The first step of making a state: only the globals 7.0.15 has may be set
 * from now on (script_sandbox.c). */
void script_sandbox_guard(lua_State *L);
/* Protects the globals of a state whose globals are all set: the last step. */
void script_sandbox_lock(lua_State *L);

/* Busy scripts (script_busy.c): around a script's pcall for the call ctx
 * (name: the sha or function name, for the log and FUNCTION STATS); a write
 * called by the script; the SCRIPT KILL (is_eval) / FUNCTION KILL request:
 * NULL when a script will be killed, else the error text (without the
 * leading '-'). */
void script_busy_start(lua_State *L, const cmd_ctx_t *ctx, const char *name, bool is_eval);
void script_busy_stop(lua_State *L);
void script_busy_note_write(void);
const char *script_kill(bool is_eval);
/* What a busy script's hook does, from a wait of the script outside Lua (for
 * another worker's keys): true when the script is to be killed. */
bool script_busy_tick(void);
#define SCRIPT_KILLED_TEXT "Script killed by user with SCRIPT KILL..."
/* FUNCTION STATS's running_script: 0 when no script is busy; 1 when an
 * EVAL is (STATS answers -BUSY, as 7.0.15); 2 when a function is, with its
 * map (name, command, duration_ms) added to r. */
int script_busy_running(resp_buf_t *r);

#endif

/* script_ldb.h - the Lua debugger (SCRIPT DEBUG YES|SYNC, redis-cli --ldb)
 * as 7.0.15 runs it: between script_ldb.c (the session, the line hook and the
 * debugger's commands), script_ldb_fmt.c (what its log lines say of Lua values
 * and of replies, and how it reads a command) and script_lua.c / script_conv.c
 * (which tell it of the script's calls and errors). docs/scripting.md says how
 * a session runs in a node of several workers.
 */
#ifndef SHOAL_ACTORS_SCRIPT_LDB_H
#define SHOAL_ACTORS_SCRIPT_LDB_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/commands/cmd.h"

/* A growing byte string (NUL-terminated, owned by whoever holds it). */
typedef struct ldb_str {
    char *s;
    size_t len, cap;
} ldb_str_t;

void ldb_str_cat(ldb_str_t *b, const void *p, size_t n);
void ldb_str_cats(ldb_str_t *b, const char *s);
void ldb_str_catf(ldb_str_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* sdscatrepr's quoting: "..." with \\ \" \n \r \t \a \b and \xHH. */
void ldb_str_repr(ldb_str_t *b, const char *p, size_t n);
void ldb_str_free(ldb_str_t *b);

/* The value at idx of L as the debugger prints it (7.0.15's
 * ldbCatStackValue): strings quoted, numbers %g, tables {a; b} or {[k]=v}. */
void ldb_fmt_value(ldb_str_t *b, lua_State *L, int idx);
/* One reply (NUL-terminated buffer) as the debugger prints it (7.0.15's
 * ldbRedisProtocolToHuman); returns where the reply ends. */
const char *ldb_fmt_reply(ldb_str_t *b, const char *p);
/* 7.0.15's reading of one debugger command from buf[0..len) (its
 * ldbReplParseCommand, forgiving as that one): the arguments (malloc'd,
 * NUL-terminated, *argc of them, their lengths in *argl; free both with
 * ldb_args_free and free), or NULL with *protoerr set for bytes it refuses,
 * or NULL alone when more must come. */
char **ldb_parse_command(const char *buf, size_t len, int *argc, size_t **argl, bool *protoerr);
void ldb_args_free(char **argv, int argc);

/* ---- what script_lua.c, script_conv.c and cmd_script.c call ---- */

/* A session runs on this thread, and it is stepping (7.0.15's
 * ldbIsEnabled: the calls and their replies are logged). */
bool script_ldb_active(void);
bool script_ldb_stepping(void);
/* Log lines of a call of the script: "<redis> cmd args", "<reply> ..." (of
 * the reply bytes, NUL-terminated), "<error> ..." (of an error pushed to Lua). */
void script_ldb_log_call(int argc, const uint8_t **argv, const size_t *argvlen);
void script_ldb_log_reply(const char *reply);
void script_ldb_log_error(const char *e, size_t n);
/* redis.breakpoint() and redis.debug(). */
int script_ldb_breakpoint(lua_State *L);
int script_ldb_debug(lua_State *L);
/* Installs the debugger's line hook for the script about to run on L. */
void script_ldb_hook_on(lua_State *L);
/* The script's clock starts again (script_lua.c): after every stop, as
 * 7.0.15 resets its run's start and snapshot times. */
void script_run_clock_reset(void);

/* EVAL / EVAL_RO of a client in debug mode (cmd_script.c): runs `eval`
 * (the command as without the debugger) inside a session. */
void script_ldb_eval(cmd_ctx_t *ctx, void (*eval)(cmd_ctx_t *ctx, bool ro), bool ro);
/* Whether a debug mode client's command is one the debugger takes. */
bool script_ldb_takes(const struct client *c, const cmd_def_t *cmd);

#endif

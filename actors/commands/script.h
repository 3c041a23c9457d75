/* script.h - EVAL scripting: the node's script cache and each worker's Lua state.
 *
 * See docs/scripting.md. The cache (script_cache.c) is shared by the node's
 * workers and holds bodies only; every worker keeps its own Lua 5.1 state
 * (script_lua.c), made on first use, with the scripts it ran compiled as
 * functions f_<sha1> in the state's registry, as 7.0.15 names them.
 */
#ifndef SHOAL_ACTORS_SCRIPT_H
#define SHOAL_ACTORS_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include "actors/commands/cmd.h"

void script_cache_add(const char *sha, const char *body, size_t len);
/* A malloc'd NUL-terminated copy of the body, or NULL when unknown. */
char *script_cache_get(const char *sha, size_t *len);
/* The shebang flags (SCRIPT_F_*) of a cached script, without copying its
 * body (routing asks for them on every EVALSHA); false when unknown. */
bool script_cache_flags(const char *sha, unsigned *flags);
bool script_cache_exists(const char *sha, size_t len);
void script_cache_flush(void);
unsigned long script_cache_gen(void);

/* INFO memory's scripting figures: the script cache (its bodies and
 * entries), the Lua VMs of every worker (EVAL's and FUNCTION's, as each
 * worker last measured its own). */
typedef struct script_mem {
    long long cached_scripts, scripts_eval, vm_eval, vm_functions;
} script_mem_t;
void script_memory_info(script_mem_t *m);
/* A worker's VM of EVAL (functions false) or FUNCTION holds `bytes` now. */
void script_vm_publish(int worker, bool functions, long long bytes);

/* Shebang flags (#!lua flags=...); COMPAT: no shebang (7.0's EVAL compatibility mode). */
enum {
    SCRIPT_F_NO_WRITES = 1u << 0, SCRIPT_F_ALLOW_OOM = 1u << 1, SCRIPT_F_ALLOW_STALE = 1u << 2,
    SCRIPT_F_NO_CLUSTER = 1u << 3, SCRIPT_F_CROSS_SLOT = 1u << 4, SCRIPT_F_COMPAT = 1u << 5,
};
/* redis.set_repl's flags (7.0.15's PROPAGATE_AOF and PROPAGATE_REPL values). */
enum { SCRIPT_REPL_AOF = 1, SCRIPT_REPL_REPLICA = 2 };
/* Parses body's shebang line as 7.0.15: its flags and how many bytes to skip
 * (up to the line feed, kept so that line numbers stay); false with the
 * error in r (when not NULL) for a bad one. */
bool script_shebang(const char *body, size_t len, unsigned *flags, size_t *skip, resp_buf_t *r);

/* The flags of a call of a script with these shebang flags (7.0.15's
 * scriptFlagsToCmdFlags), and EVAL*'s call_flags (cmd_script.c). */
uint32_t script_cmd_flags(uint32_t flags, unsigned script_flags);
uint32_t cmd_eval_flags(uint32_t flags, int argc, const uint8_t **argv, const size_t *argvlen);

/* On this thread, a command runs for redis.call/pcall of a script (XREAD's
 * BLOCK is refused there, as 7.0.15 refuses it to CLIENT_SCRIPT). */
bool script_call_running(void);

/* Lower-case hex sha1 of bytes, NUL-terminated into out[41]. */
void script_sha1hex(char out[41], const void *bytes, size_t len);

/* Compiles body on this worker's Lua state as f_<sha>; false with the
 * 7.0.15 error reply in r when it does not compile. */
bool script_compile(const char *sha, const char *body, size_t len, resp_buf_t *r);
/* Publishes the size of this thread's EVAL VM as worker w's (script_vm_publish). */
struct worker;
void script_vm_measure(struct worker *w);

/* script_state.c: the node's state as a script sees it. A replica (the
 * published snapshot says so); over maxmemory with nothing to evict, on a
 * master, for a client's call (evict.h); and why a write a script calls
 * before its first write is refused now ("-READONLY ...", "-MISCONF ...",
 * "-NOREPLICAS ..."), or NULL. */
bool script_node_is_replica(cmd_ctx_t *ctx);
bool script_oom(cmd_ctx_t *ctx);
const char *script_write_refusal(cmd_ctx_t *ctx);
/* DEBUG SET-DISABLE-DENY-SCRIPTS (a test switch of 7.0.15's): while on,
 * scripts may call commands flagged noscript; of those shoal runs DEBUG
 * PROTOCOL and DEBUG SLEEP without a client (script_debug_call_ok). */
void script_deny_set_disabled(bool on);
bool script_deny_disabled(void);
bool script_debug_call_ok(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen);

/* Runs the script sha (compiling body first when the state lacks it; body
 * NULL: from the cache, or NOSCRIPT) with keys argv[3 .. 3+numkeys) and the
 * rest as ARGV, writing its reply into ctx->reply. */
void script_run(cmd_ctx_t *ctx, const char *sha, const char *body, size_t len, int numkeys, bool ro);

#endif

/* script_ldb.c - the Lua debugger: SCRIPT DEBUG YES|SYNC|NO and the session
 * an EVAL of a client in debug mode runs in, as redis-server 7.0.15 runs it
 * (what `redis-cli --ldb` and `--ldb-sync-mode` drive).
 *
 * A session talks to its client on the client's own socket, with blocking
 * reads and writes from inside the script's line hook (actors/worker/ldb_conn.h):
 * each stop sends the log lines gathered so far as one array of simple
 * strings and reads debugger commands until one lets the script go on. It
 * ends with an "<endsession>" line, then the EVAL's reply, and the connection
 * closes. In SYNC mode the script runs on its worker as any EVAL (that worker
 * waits for the client meanwhile; its changes stay). In YES mode the worker
 * forks and the child runs it: every change dies with the child. Where the
 * session runs and why the fork is safe: docs/scripting.md, "The debugger".
 *
 * The session's state is this thread's (tl_ldb): a worker runs one script at
 * a time, and the forked child is that worker's thread alone.
 *
 * Must never: let a forked child return to the event loop (it ends with
 * _exit once its reply is written), or leave the hook on after the session.
 */
#include <errno.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "actors/commands/commands.h"
#include "actors/commands/script.h"
#include "actors/commands/script_ldb.h"
#include "actors/commands/script_textload.h"
#include "actors/commands/script_lua.h"
#include "actors/config/config.h"
#include "actors/worker/client.h"
#include "actors/worker/ldb_conn.h"
#include "proto/strnum.h"
#include "runtime/actor.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

#define BREAKPOINTS_MAX 64   /* 7.0.15's LDB_BREAKPOINTS_MAX */
#define MAXLEN_DEFAULT 256   /* its LDB_MAX_LEN_DEFAULT: replies and values logged up to this */

typedef struct ldb {
    client_t *client;             /* the debugging client: its socket */
    char **src;                   /* the script's lines (trailing line feeds dropped) */
    int lines;
    int bp[BREAKPOINTS_MAX];
    int bpcount;
    bool step;                    /* stop at the next line */
    bool luabp;                   /* stop at the next line: redis.breakpoint() */
    int currentline;
    ldb_str_t cbuf;               /* bytes read from the client, not a whole command yet */
    size_t maxlen;
    bool maxlen_hint_sent;
    ldb_str_t *logs;              /* to send at the next stop */
    int nlogs, caplogs;
    long long start_us;           /* the run's start, or its last stop: for the timeout */
} ldb_t;

static __thread ldb_t *tl_ldb;

bool script_ldb_active(void) { return tl_ldb != NULL; }
bool script_ldb_stepping(void) { return tl_ldb && tl_ldb->step; }

/* ---------------- the log ---------------- */

static void log_take(ldb_str_t *line)
{
    ldb_t *l = tl_ldb;
    if (l->nlogs == l->caplogs) {
        l->caplogs = l->caplogs ? l->caplogs * 2 : 32;
        l->logs = xrealloc(l->logs, sizeof *l->logs * (size_t)l->caplogs);
    }
    if (!line->s) ldb_str_cat(line, "", 0);
    l->logs[l->nlogs++] = *line;
    *line = (ldb_str_t){ 0 };
}

static void log_line(const char *s)
{
    ldb_str_t b = { 0 };
    ldb_str_cats(&b, s);
    log_take(&b);
}

/* A line cut at maxlen (with " ..."), and the first time, the hint. */
static void log_take_maxlen(ldb_str_t *line)
{
    ldb_t *l = tl_ldb;
    bool trimmed = false;
    if (l->maxlen && line->len > l->maxlen) {
        line->len = l->maxlen;
        ldb_str_cats(line, " ...");
        trimmed = true;
    }
    log_take(line);
    if (trimmed && !l->maxlen_hint_sent) {
        l->maxlen_hint_sent = true;
        log_line("<hint> The above reply was trimmed. Use 'maxlen 0' to disable trimming.");
    }
}

/* Every log line so far, as one array of simple strings (line feeds and
 * carriage returns become spaces), straight on the client's socket. */
static void send_logs(void)
{
    ldb_t *l = tl_ldb;
    ldb_str_t out = { 0 };
    ldb_str_catf(&out, "*%d\r\n", l->nlogs);
    for (int i = 0; i < l->nlogs; i++) {
        ldb_str_t *s = &l->logs[i];
        for (size_t k = 0; k < s->len; k++)
            if (s->s[k] == '\r' || s->s[k] == '\n') s->s[k] = ' ';
        ldb_str_cat(&out, "+", 1);
        ldb_str_cat(&out, s->s, s->len);
        ldb_str_cat(&out, "\r\n", 2);
        ldb_str_free(s);
    }
    l->nlogs = 0;
    ldb_conn_write(l->client, out.s, out.len);   /* a failure shows at the next read */
    ldb_str_free(&out);
}

static void log_value(lua_State *L, const char *prefix)
{
    ldb_str_t b = { 0 };
    ldb_str_cats(&b, prefix);
    ldb_fmt_value(&b, L, -1);
    log_take_maxlen(&b);
}

void script_ldb_log_call(int argc, const uint8_t **argv, const size_t *argvlen)
{
    ldb_str_t b = { 0 };
    ldb_str_cats(&b, "<redis>");
    for (int j = 0; j < argc; j++) {
        if (j == 10) {
            ldb_str_catf(&b, " ... (%d more)", argc - j - 1);   /* 7.0.15 counts one fewer */
            break;
        }
        ldb_str_cat(&b, " ", 1);
        ldb_str_cat(&b, argv[j], argvlen[j]);
    }
    log_take(&b);
}

void script_ldb_log_reply(const char *reply)
{
    ldb_str_t b = { 0 };
    ldb_str_cats(&b, "<reply> ");
    ldb_fmt_reply(&b, reply);
    log_take_maxlen(&b);
}

void script_ldb_log_error(const char *e, size_t n)
{
    ldb_str_t b = { 0 };
    ldb_str_cats(&b, "<error> ");
    ldb_str_cat(&b, e, n);
    log_take(&b);
}

/* ---------------- redis.breakpoint() and redis.debug() ---------------- */

int script_ldb_breakpoint(lua_State *L)
{
    if (tl_ldb) tl_ldb->luabp = true;
    lua_pushboolean(L, tl_ldb != NULL);
    return 1;
}

int script_ldb_debug(lua_State *L)
{
    if (!tl_ldb) return 0;
    int argc = lua_gettop(L);
    ldb_str_t b = { 0 };
    ldb_str_catf(&b, "<debug> line %d: ", tl_ldb->currentline);
    while (argc--) {
        ldb_fmt_value(&b, L, -1 - argc);
        if (argc != 0) ldb_str_cat(&b, ", ", 2);
    }
    log_take(&b);
    return 0;
}

/* ---------------- source and breakpoints ---------------- */

static const char *source_line(int line)
{
    ldb_t *l = tl_ldb;
    return line >= 1 && line <= l->lines ? l->src[line - 1] : "<out of range source code line>";
}

static bool is_breakpoint(int line)
{
    for (int j = 0; j < tl_ldb->bpcount; j++)
        if (tl_ldb->bp[j] == line) return true;
    return false;
}

static void log_source_line(int line)
{
    bool bp = is_breakpoint(line), current = tl_ldb->currentline == line;
    const char *prefix = current && bp ? "->#" : current ? "-> " : bp ? "  #" : "   ";
    ldb_str_t b = { 0 };
    ldb_str_catf(&b, "%s%-3d %s", prefix, line, source_line(line));
    log_take(&b);
}

static void list_source(int around, int context)
{
    for (int j = 1; j <= tl_ldb->lines; j++) {
        if (around != 0 && abs(around - j) > context) continue;
        log_source_line(j);
    }
}

static void cmd_break(char **argv, int argc)
{
    ldb_t *l = tl_ldb;
    if (argc == 1) {
        if (l->bpcount == 0) {
            log_line("No breakpoints set. Use 'b <line>' to add one.");
            return;
        }
        ldb_str_t b = { 0 };
        ldb_str_catf(&b, "%d breakpoints set:", l->bpcount);
        log_take(&b);
        for (int j = 0; j < l->bpcount; j++) log_source_line(l->bp[j]);
        return;
    }
    for (int j = 1; j < argc; j++) {
        long long line;
        if (!str_to_ll_z(argv[j], &line)) {
            ldb_str_t b = { 0 };
            ldb_str_catf(&b, "Invalid argument:'%s'", argv[j]);
            log_take(&b);
        } else if (line == 0) {
            l->bpcount = 0;
            log_line("All breakpoints removed.");
        } else if (line > 0) {
            if (l->bpcount == BREAKPOINTS_MAX) {
                log_line("Too many breakpoints set.");
            } else if (line <= l->lines && !is_breakpoint((int)line)) {
                l->bp[l->bpcount++] = (int)line;
                list_source((int)line, 1);
            } else {
                log_line("Wrong line number.");
            }
        } else {
            int k = 0;
            while (k < l->bpcount && l->bp[k] != (int)-line) k++;
            if (k < l->bpcount) {
                /* 7.0.15's memmove moves bpcount-k bytes of the int array:
                 * the entries after k shift only as far as that reaches */
                l->bpcount--;
                memmove(l->bp + k, l->bp + k + 1, (size_t)(l->bpcount - k));
                log_line("Breakpoint removed.");
            } else {
                log_line("No breakpoint in the specified line.");
            }
        }
    }
}

/* ---------------- print, eval, redis, trace, maxlen ---------------- */

static void cmd_print(lua_State *L, const char *name)
{
    lua_Debug ar;
    for (int level = 0; lua_getstack(L, level, &ar); level++) {
        const char *n;
        for (int i = 1; (n = lua_getlocal(L, &ar, i)) != NULL; i++) {
            if (!strcmp(name, n)) {
                log_value(L, "<value> ");
                lua_pop(L, 1);
                return;
            }
            lua_pop(L, 1);
        }
    }
    if (!strcmp(name, "ARGV") || !strcmp(name, "KEYS")) {
        lua_getglobal(L, name);
        log_value(L, "<value> ");
        lua_pop(L, 1);
    } else {
        log_line("No such variable.");
    }
}

static void cmd_print_all(lua_State *L)
{
    lua_Debug ar;
    int vars = 0;
    if (lua_getstack(L, 0, &ar)) {
        const char *n;
        for (int i = 1; (n = lua_getlocal(L, &ar, i)) != NULL; i++) {
            if (!strstr(n, "(*temporary)")) {
                ldb_str_t prefix = { 0 };
                ldb_str_catf(&prefix, "<value> %s = ", n);
                log_value(L, prefix.s);
                ldb_str_free(&prefix);
                vars++;
            }
            lua_pop(L, 1);
        }
    }
    if (vars == 0) log_line("No local variables in the current context.");
}

/* The error a debugger command's Lua code raised: its text (a table, what
 * redis.call raises, shows its err field). */
static void log_lua_error(lua_State *L)
{
    ldb_str_t b = { 0 };
    ldb_str_cats(&b, "<error> ");
    const char *e = lua_tostring(L, -1);
    if (!e && lua_istable(L, -1)) {
        lua_getfield(L, -1, "err");
        e = lua_tostring(L, -1);
        if (e) ldb_str_cats(&b, e);
        lua_pop(L, 1);
    } else if (e) {
        ldb_str_cats(&b, e);
    }
    log_take(&b);
    lua_pop(L, 1);
}

static void cmd_eval_code(lua_State *L, char **argv, const size_t *argl, int argc)
{
    ldb_str_t code = { 0 }, expr = { 0 };
    for (int j = 1; j < argc; j++) {
        if (j > 1) ldb_str_cat(&code, " ", 1);
        ldb_str_cat(&code, argv[j], argl[j]);
    }
    if (!code.s) ldb_str_cat(&code, "", 0);
    ldb_str_cats(&expr, "return ");
    ldb_str_cat(&expr, code.s, code.len);
    /* as an expression first, then as a statement */
    int bad = script_load_text(L, expr.s, expr.len, "@ldb_eval");
    if (bad) {
        lua_pop(L, 1);
        bad = script_load_text(L, code.s, code.len, "@ldb_eval");
    }
    ldb_str_free(&code);
    ldb_str_free(&expr);
    if (bad || lua_pcall(L, 0, 1, 0)) {
        log_lua_error(L);
        return;
    }
    log_value(L, "<retval> ");
    lua_pop(L, 1);
}

static void cmd_redis(lua_State *L, char **argv, const size_t *argl, int argc)
{
    if (!lua_checkstack(L, argc + 1)) {
        script_ldb_log_reply("max lua stack reached");   /* as 7.0.15: shows "<reply> " */
        return;
    }
    lua_getglobal(L, "redis");
    lua_pushstring(L, "call");
    lua_gettable(L, -2);
    for (int j = 1; j < argc; j++) lua_pushlstring(L, argv[j], argl[j]);
    tl_ldb->step = true;          /* redis.call logs the command and its reply */
    lua_pcall(L, argc - 1, 1, 0);
    tl_ldb->step = false;
    lua_pop(L, 2);
}

static void cmd_trace(lua_State *L)
{
    lua_Debug ar;
    int level = 0;
    for (; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Snl", &ar);
        if (!strstr(ar.short_src, "user_script")) continue;
        ldb_str_t b = { 0 };
        ldb_str_catf(&b, "%s %s:", level == 0 ? "In" : "From", ar.name ? ar.name : "top level");
        log_take(&b);
        log_source_line(ar.currentline);
    }
    if (level == 0) log_line("<error> Can't retrieve Lua stack.");
}

static void cmd_maxlen(char **argv, int argc)
{
    ldb_t *l = tl_ldb;
    if (argc == 2) {
        int v = atoi(argv[1]);
        l->maxlen_hint_sent = true;   /* the user knows of it now */
        if (v != 0 && v <= 60) v = 60;
        l->maxlen = (size_t)(long)v;
    }
    ldb_str_t b = { 0 };
    if (l->maxlen) ldb_str_catf(&b, "<value> replies are truncated at %d bytes.", (int)l->maxlen);
    else ldb_str_cats(&b, "<value> replies are unlimited.");
    log_take(&b);
}

static const char *const help_lines[] = {
    "Redis Lua debugger help:",
    "[h]elp               Show this help.",
    "[s]tep               Run current line and stop again.",
    "[n]ext               Alias for step.",
    "[c]ontinue           Run till next breakpoint.",
    "[l]ist               List source code around current line.",
    "[l]ist [line]        List source code around [line].",
    "                     line = 0 means: current position.",
    "[l]ist [line] [ctx]  In this form [ctx] specifies how many lines",
    "                     to show before/after [line].",
    "[w]hole              List all source code. Alias for 'list 1 1000000'.",
    "[p]rint              Show all the local variables.",
    "[p]rint <var>        Show the value of the specified variable.",
    "                     Can also show global vars KEYS and ARGV.",
    "[b]reak              Show all breakpoints.",
    "[b]reak <line>       Add a breakpoint to the specified line.",
    "[b]reak -<line>      Remove breakpoint from the specified line.",
    "[b]reak 0            Remove all breakpoints.",
    "[t]race              Show a backtrace.",
    "[e]val <code>        Execute some Lua code (in a different callframe).",
    "[r]edis <cmd>        Execute a Redis command.",
    "[m]axlen [len]       Trim logged Redis replies and Lua var dumps to len.",
    "                     Specifying zero as <len> means unlimited.",
    "[a]bort              Stop the execution of the script. In sync",
    "                     mode dataset changes will be retained.",
    "",
    "Debugger functions you can call from Lua scripts:",
    "redis.debug()        Produce logs in the debugger console.",
    "redis.breakpoint()   Stop execution like if there was a breakpoint in the",
    "                     next line of code.",
};

static bool is(const char *a, const char *s1, const char *s2) { return !strcasecmp(a, s1) || !strcasecmp(a, s2); }

/* Runs one debugger command; true when the script goes on (step, continue). */
static bool run_command(lua_State *L, char **argv, const size_t *argl, int argc)
{
    ldb_t *l = tl_ldb;
    const char *c = argv[0];
    if (is(c, "h", "help")) {
        for (size_t i = 0; i < sizeof help_lines / sizeof *help_lines; i++) log_line(help_lines[i]);
    } else if (is(c, "s", "step") || is(c, "n", "next")) {
        l->step = true;
        return true;
    } else if (is(c, "c", "continue")) {
        return true;
    } else if (is(c, "t", "trace")) {
        cmd_trace(L);
    } else if (is(c, "m", "maxlen")) {
        cmd_maxlen(argv, argc);
    } else if (is(c, "b", "break")) {
        cmd_break(argv, argc);
    } else if (is(c, "e", "eval")) {
        cmd_eval_code(L, argv, argl, argc);
    } else if (argc > 1 && is(c, "r", "redis")) {
        cmd_redis(L, argv, argl, argc);
    } else if (is(c, "p", "print")) {
        if (argc == 2) cmd_print(L, argv[1]);
        else cmd_print_all(L);
    } else if (is(c, "l", "list")) {
        int around = l->currentline, ctx = 5;
        if (argc > 1 && atoi(argv[1]) > 0) around = atoi(argv[1]);
        if (argc > 2) ctx = atoi(argv[2]);
        list_source(around, ctx);
    } else if (is(c, "w", "whole")) {
        list_source(1, 1000000);
    } else {
        log_line("<error> Unknown Redis Lua debugger command or wrong number of arguments.");
    }
    send_logs();
    return false;
}

static int ldb_raise(lua_State *L, const char *e)
{
    script_push_error(L, e, strlen(e));
    return lua_error(L);
}

/* Reads and runs debugger commands until one lets the script go on (true),
 * or the client is gone (false: the script runs on without stops). */
static bool repl(lua_State *L)
{
    ldb_t *l = tl_ldb;
    for (;;) {
        char **argv;
        size_t *argl;
        int argc;
        bool protoerr;
        while ((argv = ldb_parse_command(l->cbuf.s, l->cbuf.len, &argc, &argl, &protoerr)) == NULL) {
            if (protoerr) ldb_raise(L, "protocol error");
            char buf[1024];
            ssize_t n = ldb_conn_read(l->client, buf, sizeof buf);
            if (n <= 0) {
                l->step = false;
                l->bpcount = 0;
                return false;
            }
            ldb_str_cat(&l->cbuf, buf, (size_t)n);
            if (l->cbuf.len > 1 << 20) {   /* a client that sends that much is not a debugger */
                ldb_str_free(&l->cbuf);
                ldb_raise(L, "max client buffer reached");
            }
        }
        l->cbuf.len = 0;          /* what came after the command is dropped, as in 7.0.15 */
        if (is(argv[0], "a", "abort")) {
            ldb_args_free(argv, argc);
            free(argl);
            ldb_raise(L, "script aborted for user request");
        }
        bool go = run_command(L, argv, argl, argc);
        ldb_args_free(argv, argc);
        free(argl);
        if (go) return true;
    }
}

/* ---------------- the line hook ---------------- */

static _Atomic int g_threshold_idx = CONFIG_IDX_UNSET;

static void line_hook(lua_State *L, lua_Debug *ar)
{
    ldb_t *l = tl_ldb;
    lua_getstack(L, 0, ar);
    lua_getinfo(L, "Sl", ar);
    l->currentline = ar->currentline;
    bool bp = is_breakpoint(l->currentline) || l->luabp;
    bool timeout = false;
    if (!strstr(ar->short_src, "user_script")) return;   /* the line of another chunk */
    if (ar->event == LUA_HOOKCOUNT && !l->step && !bp) {
        long long limit = config_num_cached(&g_threshold_idx, "busy-reply-threshold");
        if (limit <= 0) limit = 5000;
        if ((rt_mono_us() - l->start_us) / 1000 < limit) return;
        timeout = true;
        l->step = true;
    }
    if (!l->step && !bp) return;
    const char *reason = bp ? (l->luabp ? "redis.breakpoint() called" : "break point")
                            : timeout ? "timeout reached, infinite loop?" : "step over";
    l->step = false;
    l->luabp = false;
    ldb_str_t b = { 0 };
    ldb_str_catf(&b, "* Stopped at %d, stop reason = %s", l->currentline, reason);
    log_take(&b);
    log_source_line(l->currentline);
    send_logs();
    /* A client gone while the script looped: kill it, or nothing would end it. */
    if (!repl(L) && timeout) ldb_raise(L, "timeout during Lua debugging with client closing connection");
    l->start_us = rt_mono_us();
    script_run_clock_reset();
}

void script_ldb_hook_on(lua_State *L)
{
    tl_ldb->start_us = rt_mono_us();
    lua_sethook(L, line_hook, LUA_MASKLINE | LUA_MASKCOUNT, 100000);
}

/* ---------------- the session ---------------- */

bool script_ldb_takes(const client_t *c, const cmd_def_t *cmd)
{
    return (c->flags & CLIENT_LUA_DEBUG) && (cmd->handler == cmd_eval || cmd->handler == cmd_eval_ro ||
                                             cmd->handler == cmd_evalsha || cmd->handler == cmd_evalsha_ro);
}

/* The script's lines, its trailing line feeds and carriage returns dropped. */
static void split_source(ldb_t *l, const uint8_t *p, size_t n)
{
    while (n && (p[n - 1] == '\n' || p[n - 1] == '\r')) n--;
    l->lines = 0;
    l->src = NULL;
    if (n == 0) return;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '\n') continue;
        l->src = xrealloc(l->src, sizeof *l->src * (size_t)(l->lines + 1));
        l->src[l->lines] = xmalloc(i - start + 1);
        memcpy(l->src[l->lines], p + start, i - start);
        l->src[l->lines][i - start] = '\0';
        l->lines++;
        start = i + 1;
    }
}

static void session_free(ldb_t *l)
{
    for (int i = 0; i < l->lines; i++) free(l->src[i]);
    free(l->src);
    for (int i = 0; i < l->nlogs; i++) ldb_str_free(&l->logs[i]);
    free(l->logs);
    ldb_str_free(&l->cbuf);
}

void script_ldb_eval(cmd_ctx_t *ctx, void (*eval)(cmd_ctx_t *ctx, bool ro), bool ro)
{
    client_t *c = ctx->client;
    bool forked = !(c->flags & CLIENT_LUA_DEBUG_SYNC);
    if (forked) {
        pid_t pid = ldb_conn_fork(ctx->worker);
        if (pid != 0) {
            /* the parent: the child has the session; the client goes, unanswered, as in 7.0.15 */
            c->flags &= ~(uint32_t)(CLIENT_LUA_DEBUG | CLIENT_LUA_DEBUG_SYNC);
            if (pid < 0) resp_add_errorf(ctx->reply, "ERR Fork() failed: can't run EVAL in debugging mode: %s",
                                         strerror(errno));
            else ldb_conn_forget(c);
            return;
        }
        LOG_WARNING("Redis forked for debugging eval");
    } else {
        LOG_WARNING("Redis synchronous debugging eval session started");
    }
    ldb_t l = { .client = c, .step = true, .maxlen = MAXLEN_DEFAULT };
    split_source(&l, ctx->argv[1], ctx->argvlen[1]);
    ldb_conn_flush(c);            /* replies before the EVAL's go before the session's lines */
    tl_ldb = &l;
    eval(ctx, ro);
    log_line("<endsession>");
    send_logs();
    tl_ldb = NULL;
    session_free(&l);
    if (forked) {
        ldb_conn_flush(c);
        if (ctx->reply != &c->out) ldb_conn_write(c, ctx->reply->data, ctx->reply->len);
        LOG_WARNING("Lua debugging session child exiting");
        _exit(0);
    }
    LOG_WARNING("Redis synchronous debugging eval session ended");
    /* the connection closes once the EVAL's reply is out: the session's end, for the client */
    c->flags &= ~(uint32_t)(CLIENT_LUA_DEBUG | CLIENT_LUA_DEBUG_SYNC);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

/* ---------------- SCRIPT DEBUG ---------------- */

void cmd_script_debug(cmd_ctx_t *ctx)
{
    client_t *c = ctx->client;
    if (c->pending_head || c->out.len > c->out_sent) {
        resp_add_error(ctx->reply, "ERR SCRIPT DEBUG must be called outside a pipeline");
        return;
    }
    const char *mode = (const char *)ctx->argv[2];
    size_t n = ctx->argvlen[2];
    if (n == 2 && !strncasecmp(mode, "no", 2)) {
        c->flags &= ~(uint32_t)(CLIENT_LUA_DEBUG | CLIENT_LUA_DEBUG_SYNC);
    } else if (n == 3 && !strncasecmp(mode, "yes", 3)) {
        c->flags |= CLIENT_LUA_DEBUG;
    } else if (n == 4 && !strncasecmp(mode, "sync", 4)) {
        c->flags |= CLIENT_LUA_DEBUG | CLIENT_LUA_DEBUG_SYNC;
    } else {
        resp_add_error(ctx->reply, "ERR Use SCRIPT DEBUG YES/SYNC/NO");
        return;
    }
    resp_add_simple(ctx->reply, "OK");
}

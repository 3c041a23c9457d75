/* script_busy.c - scripts that run past busy-reply-threshold, and SCRIPT KILL.
 *
 * As 7.0.15: a Lua count hook (every 100000 instructions) looks at how long
 * the script has run; past busy-reply-threshold (lua-time-limit) it logs
 * "Slow script detected", and from then on every hook lets the worker read
 * its other clients (worker_busy_poll): they get -BUSY for everything but the
 * allow-busy commands (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE, AUTH,
 * ...). Clients of other workers are not blocked; a command of theirs for a
 * key this worker keeps waits for the script's end in the worker's mailbox.
 *
 * Each worker has a run slot that other workers read: whether a script runs
 * there and is past the threshold, whether it wrote (then SCRIPT KILL answers
 * -UNKILLABLE), whether it is an EVAL or a FUNCTION, and the kill request,
 * which the hook turns into the script's error. With several busy scripts
 * (one per worker at most) SCRIPT KILL kills every killable one.
 *
 * Must never: let the hook run a command of a polled client on the
 * script's keys except the allow-busy ones (worker_busy_poll refuses the
 * rest), or leave the worker marked busy after its script.
 */
#include <lauxlib.h>
#include <lua.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "actors/commands/script_lua.h"
#include "actors/config/config.h"
#include "actors/worker/worker.h"
#include "runtime/actor.h"
#include "runtime/log.h"

enum { RUN_IDLE, RUN_ACTIVE, RUN_BUSY };

typedef struct {
    _Atomic int state;            /* RUN_*: written by the owner, read by SCRIPT KILL anywhere */
    _Atomic bool kill;            /* set by SCRIPT KILL / FUNCTION KILL, read by the owner's hook */
    _Atomic bool dirty;           /* the script called a write command */
    _Atomic bool is_eval;         /* EVAL (true) or FCALL */
} run_slot_t;

static run_slot_t g_slots[MAX_WORKERS];

static __thread struct {
    struct worker *w;
    run_slot_t *slot;
    long long start_ms;
    const char *name;             /* for the log line */
    const cmd_ctx_t *ctx;         /* the call, for FUNCTION STATS */
} tl_busy;

/* What FUNCTION STATS shows of the busy script (the first one to turn busy
 * while none was shown): written by its worker when it turns busy and when
 * it ends, read by STATS on any worker; under the lock. */
static pthread_mutex_t g_shown_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    run_slot_t *slot;             /* NULL: nothing shown */
    char name[256];
    resp_buf_t command;           /* the call, as a RESP array */
    long long start_ms;
} g_shown;

/* The owner, turning busy: its script becomes the one STATS shows if none is. */
static void show_busy(void)
{
    pthread_mutex_lock(&g_shown_lock);
    if (!g_shown.slot) {
        const cmd_ctx_t *ctx = tl_busy.ctx;
        g_shown.slot = tl_busy.slot;
        snprintf(g_shown.name, sizeof g_shown.name, "%s", tl_busy.name);
        g_shown.start_ms = tl_busy.start_ms;
        resp_buf_init(&g_shown.command, 2);
        resp_add_array(&g_shown.command, ctx->argc);
        for (int i = 0; i < ctx->argc; i++) resp_add_bulk(&g_shown.command, ctx->argv[i], ctx->argvlen[i]);
    }
    pthread_mutex_unlock(&g_shown_lock);
}

int script_busy_running(resp_buf_t *r)
{
    int found = 0;
    pthread_mutex_lock(&g_shown_lock);
    if (g_shown.slot) {
        found = atomic_load_explicit(&g_shown.slot->is_eval, memory_order_relaxed) ? 1 : 2;
        if (found == 2) {
            resp_add_map(r, 3);
            resp_add_bulk_str(r, "name");
            resp_add_bulk_str(r, g_shown.name);
            resp_add_bulk_str(r, "command");
            resp_buf_append(r, g_shown.command.data, g_shown.command.len);
            resp_add_bulk_str(r, "duration_ms");
            resp_add_int(r, rt_mono_ms() - g_shown.start_ms);
        }
    }
    pthread_mutex_unlock(&g_shown_lock);
    return found;
}

static _Atomic int g_threshold_idx = CONFIG_IDX_UNSET;

/* The threshold check and, past it, the polling of the worker's clients;
 * true when the script is to be killed. */
static bool busy_tick(void)
{
    run_slot_t *s = tl_busy.slot;
    if (!s) return false;
    /* relaxed for all the slot's fields: each is a flag read on its own; the
     * kill request needs no data but itself */
    if (atomic_load_explicit(&s->state, memory_order_relaxed) != RUN_BUSY) {
        long long limit = config_num_cached(&g_threshold_idx, "busy-reply-threshold");
        long long elapsed = rt_mono_ms() - tl_busy.start_ms;
        if (elapsed < limit) return false;
        bool is_eval = atomic_load_explicit(&s->is_eval, memory_order_relaxed);
        LOG_WARNING("Slow script detected: still in execution after %lld milliseconds. You can try killing the "
                    "script using the %s command. Script name is: %s.", elapsed,
                    is_eval ? "SCRIPT KILL" : "FUNCTION KILL", tl_busy.name);
        atomic_store_explicit(&s->state, RUN_BUSY, memory_order_relaxed);
        show_busy();
        worker_busy_begin(tl_busy.w, is_eval);
    }
    worker_busy_poll(tl_busy.w);
    return atomic_load_explicit(&s->kill, memory_order_relaxed);
}

bool script_busy_tick(void) { return busy_tick(); }

static void hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    if (!busy_tick()) return;
    LOG_WARNING("Lua script killed by user with SCRIPT KILL.");
    /* every line from now on: a pcall in the script cannot catch the kill and go on */
    lua_sethook(L, hook, LUA_MASKLINE, 0);
    script_push_error(L, SCRIPT_KILLED_TEXT, sizeof SCRIPT_KILLED_TEXT - 1);
    lua_error(L);
}

void script_busy_start(lua_State *L, const cmd_ctx_t *ctx, const char *name, bool is_eval)
{
    struct worker *w = ctx->worker;
    run_slot_t *s = &g_slots[worker_index(w)];
    atomic_store_explicit(&s->kill, false, memory_order_relaxed);
    atomic_store_explicit(&s->dirty, false, memory_order_relaxed);
    atomic_store_explicit(&s->is_eval, is_eval, memory_order_relaxed);
    atomic_store_explicit(&s->state, RUN_ACTIVE, memory_order_relaxed);
    tl_busy.w = w;
    tl_busy.slot = s;
    tl_busy.start_ms = rt_mono_ms();
    tl_busy.name = name;
    tl_busy.ctx = ctx;
    lua_sethook(L, hook, LUA_MASKCOUNT, 100000);
}

void script_busy_stop(lua_State *L)
{
    run_slot_t *s = tl_busy.slot;
    if (!s) return;
    lua_sethook(L, NULL, 0, 0);
    if (atomic_load_explicit(&s->state, memory_order_relaxed) == RUN_BUSY) {
        pthread_mutex_lock(&g_shown_lock);
        if (g_shown.slot == s) {
            g_shown.slot = NULL;
            resp_buf_free(&g_shown.command);
        }
        pthread_mutex_unlock(&g_shown_lock);
        worker_busy_end(tl_busy.w);
    }
    atomic_store_explicit(&s->state, RUN_IDLE, memory_order_relaxed);
    atomic_store_explicit(&s->kill, false, memory_order_relaxed);
    tl_busy.slot = NULL;
}

void script_busy_note_write(void)
{
    if (tl_busy.slot) atomic_store_explicit(&tl_busy.slot->dirty, true, memory_order_relaxed);
}

const char *script_kill(bool is_eval)
{
    const char *err = "NOTBUSY No scripts in execution right now.";
    bool killed = false;
    for (int i = 0; i < MAX_WORKERS; i++) {
        run_slot_t *s = &g_slots[i];
        if (atomic_load_explicit(&s->state, memory_order_relaxed) != RUN_BUSY) continue;
        if (atomic_load_explicit(&s->dirty, memory_order_relaxed)) {
            if (!killed)
                err = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can "
                      "either wait the script termination or kill the server in a hard way using the SHUTDOWN "
                      "NOSAVE command.";
            continue;
        }
        bool eval = atomic_load_explicit(&s->is_eval, memory_order_relaxed);
        if (eval != is_eval) {
            if (!killed) err = eval ? WORKER_BUSY_EVAL : WORKER_BUSY_FUNCTION;
            continue;
        }
        atomic_store_explicit(&s->kill, true, memory_order_relaxed);
        killed = true;
    }
    return killed ? NULL : err;
}

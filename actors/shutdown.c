/* shutdown.c - see shutdown.h. The facts followed are 7.0.15's
 * prepareForShutdown / finishShutdown / abortShutdown and its signal
 * handler: the log lines, the order (replicas, BGSAVE, save, exit), the
 * conditions (save points or SAVE, not NOSAVE; FORCE ignores a failed save).
 */
#include "actors/persist/aof.h"
#include "actors/shutdown.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/config/config.h"
#include "actors/failover/wpause.h"
#include "actors/persist/rdb_load.h"
#include "actors/persist/rdb_save.h"
#include "actors/repl/repl.h"
#include "actors/worker/ldb_conn.h"
#include "actors/worker/worker.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

/* What a SHUTDOWN client waits on. */
typedef struct waiting {
    struct waiting *next;
    struct remote_cmd *rc;
} waiting_t;

static struct {
    pthread_mutex_t mu;
    bool asap;                    /* requested, not yet started */
    int req_flags;                /* the request's flags (a command's) */
    int last_sig;                 /* 0: a command asked */
    int flags;                    /* the shutdown under way */
    waiting_t *clients;
} S = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* Relaxed: read by INFO only; main writes it. 0: not waiting for replicas. */
static _Atomic long long deadline_ms;

static void (*g_exit_fn)(void);

int shutdown_wake_signal(void) { return SIGRTMIN + 2; }

void shutdown_set_exit(void (*fn)(void)) { g_exit_fn = fn; }

void shutdown_request(int flags, struct remote_cmd *rc)
{
    waiting_t *wt = xcalloc(1, sizeof *wt);
    wt->rc = rc;
    pthread_mutex_lock(&S.mu);
    wt->next = S.clients;
    S.clients = wt;
    /* A second SHUTDOWN while one is under way only waits for its end. */
    if (!S.asap && atomic_load_explicit(&deadline_ms, memory_order_relaxed) == 0) {
        S.asap = true;
        S.req_flags = flags;
        S.last_sig = 0;
    }
    pthread_mutex_unlock(&S.mu);
    kill(getpid(), shutdown_wake_signal());
}

/* Answers every waiting SHUTDOWN client with the error (the shutdown failed
 * or was called off). Under S.mu. */
static void reply_clients_locked(void)
{
    while (S.clients) {
        waiting_t *wt = S.clients;
        S.clients = wt->next;
        resp_add_error(&wt->rc->reply, "ERR Errors trying to SHUTDOWN. Check logs.");
        worker_reply_async(wt->rc);
        free(wt);
    }
}

static void cancel(void)
{
    pthread_mutex_lock(&S.mu);
    S.asap = false;
    S.flags = 0;
    S.last_sig = 0;
    bool waited = atomic_load_explicit(&deadline_ms, memory_order_relaxed) != 0;
    atomic_store_explicit(&deadline_ms, 0, memory_order_relaxed);
    reply_clients_locked();
    pthread_mutex_unlock(&S.mu);
    if (waited) wpause_client_unpause();
}

bool shutdown_abort(void)
{
    pthread_mutex_lock(&S.mu);
    bool initiated = atomic_load_explicit(&deadline_ms, memory_order_relaxed) != 0;
    bool requested = S.asap;
    if (!initiated && requested) S.asap = false;
    pthread_mutex_unlock(&S.mu);
    if (initiated) cancel();
    if (!initiated && !requested) return false;
    LOG_NOTICE("Shutdown manually aborted.");
    return true;
}

void shutdown_signal(int sig)
{
    pthread_mutex_lock(&S.mu);
    bool pending = S.asap || atomic_load_explicit(&deadline_ms, memory_order_relaxed) != 0;
    pthread_mutex_unlock(&S.mu);
    if (pending && sig == SIGINT) {
        LOG_WARNING("You insist... exiting now.");
        _exit(1);
    }
    rdb_loading_info_t li;
    rdb_loading_get(&li);
    if (li.loading) LOG_WARNING("Received shutdown signal during loading, scheduling shutdown.");
    else LOG_WARNING("Received %s scheduling shutdown...", sig == SIGINT ? "SIGINT" : "SIGTERM");
    pthread_mutex_lock(&S.mu);
    S.asap = true;
    S.last_sig = sig;
    pthread_mutex_unlock(&S.mu);
}

void shutdown_while_loading(int sig)
{
    (void)sig;
    LOG_WARNING("Received shutdown signal during loading, scheduling shutdown.");
    /* 7.0.15: prepareForShutdown(SHUTDOWN_NOSAVE) from its loading loop */
    LOG_WARNING("User requested shutdown...");
    if (g_exit_fn) g_exit_fn();
    _exit(0);
}

long long shutdown_in_ms(void)
{
    long long d = atomic_load_explicit(&deadline_ms, memory_order_relaxed);
    if (!d) return -1;
    long long left = d - rt_mono_ms();
    return left < 0 ? 0 : left;
}

/* Every replica acknowledged the whole stream (7.0.15's isReadyToShutdown). */
static bool replicas_caught_up(repl_status_t *st)
{
    repl_status_get(st);
    for (int i = 0; i < st->nreplicas; i++)
        if (st->replicas[i].offset != st->master_repl_offset) return false;
    return true;
}

/* The last step: replicas logged, BGSAVE stopped, the save, the exit. */
static void finish(void)
{
    int flags = S.flags;
    repl_status_t st;
    replicas_caught_up(&st);
    int lagging = 0;
    for (int i = 0; i < st.nreplicas; i++) {
        const repl_replica_view_t *r = &st.replicas[i];
        if (r->offset == st.master_repl_offset) continue;
        lagging++;
        LOG_WARNING("Lagging replica %s:%d reported offset %lld behind master, lag=%lld, state=%s.", r->ip, r->port,
                    st.master_repl_offset - r->offset, !strcmp(r->state, "online") ? r->lag : 0, r->state);
    }
    if (st.nreplicas > 0)
        LOG_NOTICE("%d of %d replicas are in sync when shutting down.", st.nreplicas - lagging, st.nreplicas);
    rdb_bgsave_cancel();
    ldb_conn_kill_all();          /* forked debugger sessions (7.0.15 kills them too) */
    aof_shutdown_sync();
    if ((rdb_save_points_set() && !(flags & SHUTDOWN_NOSAVE)) || (flags & SHUTDOWN_SAVE)) {
        LOG_NOTICE("Saving the final RDB snapshot before exiting.");
        if (rdb_save_sync() != 0) {
            if (flags & SHUTDOWN_FORCE) {
                LOG_WARNING("Error trying to save the DB. Exit anyway.");
            } else {
                LOG_WARNING("Error trying to save the DB, can't exit.");
                LOG_WARNING("Errors trying to shut down the server. Check the logs for more information.");
                cancel();
                return;
            }
        }
    }
    if (g_exit_fn) g_exit_fn();
    _exit(0);
}

/* 7.0.15's prepareForShutdown: the wait for replicas, or finish at once. */
static void prepare(int flags)
{
    rdb_loading_info_t li;
    rdb_loading_get(&li);
    if (li.loading) flags = (flags & ~SHUTDOWN_SAVE) | SHUTDOWN_NOSAVE;   /* never save half a dataset */
    S.flags = flags;
    LOG_WARNING("User requested shutdown...");
    repl_status_t st;
    if (!(flags & SHUTDOWN_NOW) && config_get_num_at(config_find("shutdown-timeout")) != 0 &&
        !replicas_caught_up(&st)) {
        long long timeout_ms = config_get_num_at(config_find("shutdown-timeout")) * 1000;
        atomic_store_explicit(&deadline_ms, rt_mono_ms() + timeout_ms, memory_order_relaxed);
        repl_request_getack();
        wpause_client_pause(LLONG_MAX, WPAUSE_WRITE);
        LOG_NOTICE("Waiting for replicas before shutting down.");
        return;
    }
    finish();
}

bool shutdown_tick(void)
{
    pthread_mutex_lock(&S.mu);
    bool start = S.asap && atomic_load_explicit(&deadline_ms, memory_order_relaxed) == 0;
    int flags = S.req_flags;
    int sig = S.last_sig;
    if (start) S.asap = false;
    pthread_mutex_unlock(&S.mu);
    if (start) {
        if (sig) {
            int idx = config_find(sig == SIGINT ? "shutdown-on-sigint" : "shutdown-on-sigterm");
            flags = (int)config_get_num_at(idx);
        }
        prepare(flags);
        return atomic_load_explicit(&deadline_ms, memory_order_relaxed) != 0;
    }
    long long d = atomic_load_explicit(&deadline_ms, memory_order_relaxed);
    if (!d) return false;
    repl_status_t st;
    if (rt_mono_ms() >= d || replicas_caught_up(&st)) finish();
    return atomic_load_explicit(&deadline_ms, memory_order_relaxed) != 0;
}

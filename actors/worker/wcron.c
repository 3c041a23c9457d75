/* wcron.c - a worker's cron: active expiry, published statistics, output
 * limits and idle timeouts of its clients, placement (placement.h); and how
 * often it runs.
 *
 * Pace: every WCRON_MS while the worker has clients or keys with a TTL, or
 * is busy with something else (bus links: their placement follows the load
 * at this cron), as Redis's serverCron at hz 10; every WCRON_QUIET_MS otherwise. A worker with
 * neither has nothing for the cron to do that cannot wait a second (its
 * keyspace's counters are published by every command that changes it; the
 * LRU clock is shared and has a resolution of a second), and every wake-up
 * of a sleeping thread costs tens of microseconds on a small VM: at 10 a
 * second for each worker that was a tenth of an idle node's CPU. Packed
 * connections (placement.c) leave every worker but the first without
 * clients. The fast pace comes back at once when the worker gets a client
 * or a key with a TTL: on its own thread at the end of every message
 * (worker_cron_check), and from a borrower that gave it one by a message
 * (worker_cron_poke), so active expiry starts as it did.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "actors/config/config.h"
#include "actors/worker/blocking.h"
#include "actors/worker/client.h"
#include "actors/worker/client_limits.h"
#include "actors/worker/evict.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/latency.h"
#include "actors/worker/placement.h"
#include "actors/worker/ldb_conn.h"
#include "actors/worker/pubsub.h"
#include "actors/worker/tracking.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/wdb.h"
#include "runtime/log.h"
#include "runtime/memcount.h"
#include "runtime/slice.h"
#include "runtime/tls.h"
#include "runtime/xmalloc.h"

#define WCRON_MS 100
#define WCRON_QUIET_MS 1000
/* A worker busier than this (thousandths of a core) keeps the fast pace. */
#define WCRON_BUSY_PERMILLE 300
/* How long an accepted TLS connection may take to finish its handshake. */
#define TLS_HANDSHAKE_TIMEOUT_MS 10000

/* How much a keyspace counter grew since `*seen`, which it then becomes. */
static long long grown(unsigned long long now, unsigned long long *seen)
{
    /* Lower than before: a new keyspace at the old one's address. */
    unsigned long long d = now >= *seen ? now - *seen : now;
    *seen = now;
    return (long long)d;
}

/* Publishes the keyspace's hit/miss/expired counters as totals that only grow
 * (relaxed: statistics only; this worker is their only writer). CONFIG
 * RESETSTAT does not touch them: stats.c subtracts what they were at the
 * reset. Owner thread only. */
void worker_publish_ks_stats(worker_t *w)
{
    ks_stats_t ks = ks_stats(w->ks);
    worker_stats_t *st = &w->stats;
    wdb_slot_t *seen = &w->db[w->cur_db];   /* each database's keyspace counts on its own */
    if (seen->seen_ks != w->ks) {
        /* A new keyspace counts from 0: everything it counted is new. */
        seen->seen_ks = w->ks;
        seen->hits_seen = seen->misses_seen = seen->expired_seen = 0;
    }
    atomic_fetch_add_explicit(&st->keyspace_hits, grown(ks.hits, &seen->hits_seen), memory_order_relaxed);
    atomic_fetch_add_explicit(&st->keyspace_misses, grown(ks.misses, &seen->misses_seen), memory_order_relaxed);
    atomic_fetch_add_explicit(&st->expired_keys, grown(ks.expired_keys, &seen->expired_seen), memory_order_relaxed);
    /* the dataset's size: INFO memory, and the workers' shares of an eviction (evict.h) */
    long long used = (long long)ks_used_bytes(w->ks);
    if (w->db_top == 1) {
        atomic_store_explicit(&st->used_bytes, used, memory_order_relaxed);
        return;
    }
    long long delta = used - atomic_load_explicit(&seen->used_bytes, memory_order_relaxed);
    atomic_store_explicit(&seen->used_bytes, used, memory_order_relaxed);
    atomic_store_explicit(&st->used_bytes, atomic_load_explicit(&st->used_bytes, memory_order_relaxed) + delta,
                          memory_order_relaxed);
}

static void set_pace(worker_t *w, bool quiet);

/* Nothing for the cron that cannot wait a second (see the header). */
static bool quiet_now(const worker_t *w)
{
    if (w->clients) return false;
    /* Busy with something else (bus links): awake most of the time anyway, and
     * placement (the links', link_place.h) must follow that load in tenths of
     * a second, not seconds. Relaxed: written by this thread. */
    if (atomic_load_explicit(&w->busy_permille, memory_order_relaxed) > WCRON_BUSY_PERMILLE) return false;
    for (int d = 0; d < w->db_top; d++)
        if (w->db[d].ks && ks_expires_count(w->db[d].ks) > 0) return false;
    return true;
}

/* 7.0.15's activeExpireCycle (slow cycle) at active-expire-effort, on this
 * worker's keys: effort 1..10 samples 20 + 5 per step above 1 keys a round,
 * goes on while more than 10 - (effort - 1) % of a sample had expired, for at
 * most 25 + 2 per step % of a cron period; expired_stale_perc is the running
 * average (5 % weight) of the share of expired keys among those sampled. */
static void active_expire(worker_t *w, long long now)
{
    static _Atomic int idx = CONFIG_IDX_UNSET;
    long long effort = config_num_cached(&idx, "active-expire-effort") - 1;
    ks_expire_effort_t eff = {
        .keys_per_loop = (size_t)(20 + 20 / 4 * effort),
        .stale_percent = (size_t)(10 - effort),
        .budget_us = (25 + 2 * effort) * 1000000 / config_hz() / 100,
    };
    ks_expire_report_t rep;
    ks_active_expire_effort(w->ks, now, &eff, &rep);
    latency_note("expire-cycle", rep.expire_us / 1000);
    worker_stats_t *st = &w->stats;
    /* owner-only writers, relaxed: statistics */
    if (rep.time_cap)
        atomic_store_explicit(&st->expired_time_cap_reached,
                              atomic_load_explicit(&st->expired_time_cap_reached, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    double cur = rep.sampled ? (double)rep.expired / (double)rep.sampled : 0.0;
    w->expired_stale = cur * 0.05 + w->expired_stale * 0.95;
    atomic_store_explicit(&st->expired_stale_perc_x100, (long long)(w->expired_stale * 10000.0 + 0.5),
                          memory_order_relaxed);
}

static void active_expire_db(worker_t *w, struct keyspace *ks, void *arg)
{
    (void)ks;
    active_expire(w, *(long long *)arg);
}

/* INFO's client_recent_max_input_buffer / output_buffer, as 7.0.15's
 * clientsCronTrackExpansiveClients: each cron notes its clients' largest
 * buffers in the current wall-clock second's slot and clears the next one,
 * so a peak is shown for RECENT_BUF_SLOTS - 1 to RECENT_BUF_SLOTS seconds.
 * Input is the query buffer while it holds a command not read whole (an
 * idle client's empty buffer counts 0, as 7.0.15 shows 0 when idle);
 * output what the socket has not taken yet. */
static void track_recent_buffers(worker_t *w)
{
    long long sec = time(NULL), in = 0, out = 0;
    int cur = (int)(sec % RECENT_BUF_SLOTS);
    if (sec != w->recent_sec) {
        /* every slot from the one after the last written up to the one after cur starts over */
        long long from = w->recent_sec && sec - w->recent_sec < RECENT_BUF_SLOTS ? w->recent_sec + 1 : sec - RECENT_BUF_SLOTS + 1;
        for (long long s = from; s <= sec + 1; s++) {
            w->recent_in[s % RECENT_BUF_SLOTS] = 0;
            w->recent_out[s % RECENT_BUF_SLOTS] = 0;
        }
        w->recent_sec = sec;
    }
    for (client_t *c = w->clients; c; c = c->next) {
        long long ci = c->qlen > c->qpos ? (long long)c->qcap : 0, co = (long long)client_obuf_bytes(c);
        if (ci > w->recent_in[cur]) w->recent_in[cur] = ci;
        if (co > w->recent_out[cur]) w->recent_out[cur] = co;
    }
    for (int i = 0; i < RECENT_BUF_SLOTS; i++) {
        if (w->recent_in[i] > in) in = w->recent_in[i];
        if (w->recent_out[i] > out) out = w->recent_out[i];
    }
    /* relaxed: statistics INFO reads on their own */
    atomic_store_explicit(&w->stats.recent_max_in, in, memory_order_relaxed);
    atomic_store_explicit(&w->stats.recent_max_out, out, memory_order_relaxed);
}

/* Once a second, as 7.0.15's clientsCronResizeQueryBuffer visits each
 * client: a query buffer wasting more than 4 KB is freed when its client
 * has been idle more than 2 seconds, or cut to its recent peak when it is
 * over 32 KB and twice that peak; the peak starts again. Only a buffer
 * with nothing unparsed in it and no command half read is touched. */
static void resize_query_buffers(worker_t *w, long long now)
{
    if (now - w->qbuf_resized_ms < 1000) return;
    w->qbuf_resized_ms = now;
    for (client_t *c = w->clients; c; c = c->next) {
        bool empty = c->qpos == c->qlen && c->parser.kind == 0 && !c->in_input;
        if (empty && c->qcap > 4096) {
            size_t to = c->qcap;
            if (now / 1000 - c->last_interaction_ms / 1000 > 2) to = 0;
            else if (c->qcap > 32 * 1024 && c->qcap / 2 > c->qbuf_peak) to = c->qbuf_peak;
            uint8_t *nb = to && to < c->qcap ? realloc(c->qbuf, to) : NULL;
            if (to == 0) {
                free(c->qbuf);
                c->qbuf = NULL;
            }
            if (nb) c->qbuf = nb;
            if (to == 0 || nb) {
                c->qcap = to;
                c->qpos = c->qlen = 0;
            }
        }
        c->qbuf_peak = c->qlen - c->qpos;
    }
}

static void worker_cron(rt_timer_t *t, void *arg)
{
    (void)t;
    worker_t *w = arg;
    long long now = rt_now_ms();
    ks_access_tick(now);          /* the cached LRU/LFU clocks (access.c) */
    if (atomic_load_explicit(&g_active_expire, memory_order_relaxed)) {
        worker_snap_enter(w);   /* refreshes the keep-expired mode (replica, pause) */
        if (w->db_top == 1) active_expire(w, now);
        else wdb_foreach(w, active_expire_db, &now);   /* each database, its expiry in its own stream place */
        worker_snap_leave(w);
    }
    /* maxmemory: a worker without traffic gives back its share too (evict.h) */
    if (evict_maxmemory() > 0) {
        worker_snap_enter(w);
        evict_perform(w);
        worker_snap_leave(w);
    }
    blocking_after_command(w);   /* XREADGROUPs on streams expired or evicted above (blocking_key_gone) */
    long long used = rt_mem_used();
    rt_mem_note_peak(used);   /* used_memory_peak, sampled as 7.0.15's cron does */
    /* used_memory_startup: the first cron's, without what the keyspaces
     * hold (a loaded dump.rdb is data, not start-up) */
    if (rt_mem_startup() == 0) rt_mem_mark_startup(used - workers_sum(WSTAT_USED_BYTES));
    worker_publish_ks_stats(w);
    pubsub_cron(w);
    tracking_cron(w);             /* tracking-table-max-keys, even when idle (7.0.15 serverCron) */
    wdb_publish_all(w, now);
    /* Output stuck in a socket nobody reads: the soft limit's seconds run out
     * here even when no new reply arrives (Redis's clientsCron). */
    long long clients_mem = 0;
    for (client_t *c = w->clients, *n; c; c = n) {
        n = c->next;
        clients_mem += (long long)client_total_mem(c);
        client_check_obuf(c, OBUF_CHECK_CRON);
    }
    atomic_store_explicit(&w->stats.clients_mem, clients_mem, memory_order_relaxed);
    track_recent_buffers(w);
    resize_query_buffers(w, now);
    placement_tick(w);
    /* the short slice of this thread's own fsyncs, kept between them, back
     * to its own once a period passed without one (runtime/slice.h) */
    rt_slice_linger_tick();
    ldb_conn_reap();              /* forked debugger sessions that ended */
    /* A TLS handshake left half done holds a descriptor, never the thread;
     * give the descriptor back after a while. */
    for (client_t *c = w->clients, *n; c; c = n) {
        n = c->next;
        if (c->tls && !tls_conn_handshake_done(c->tls) && now - c->created_ms > TLS_HANDSHAKE_TIMEOUT_MS) {
            LOG_VERBOSE("TLS handshake timed out: addr=%s laddr=%s", c->addr, c->laddr);
            client_close(c);
        }
    }
    /* Idle timeout (`timeout` directive). */
    long long idle = config_timeout_seconds();
    if (idle > 0) {
        for (client_t *c = w->clients, *n; c; c = n) {
            n = c->next;
            if (!c->pending_head && !(c->flags & CLIENT_MULTI) && now - c->last_interaction_ms > idle * 1000)
                client_close(c);
        }
    }
    bool quiet = quiet_now(w);
    if (quiet != (worker_cron_ms(w) == WCRON_QUIET_MS)) set_pace(w, quiet);
}

static void set_pace(worker_t *w, bool quiet)
{
    int ms = quiet ? WCRON_QUIET_MS : WCRON_MS;
    /* Relaxed: a hint for borrowers (worker_cron_poke); the timer is ours. */
    atomic_store_explicit(&w->cron_quiet, quiet, memory_order_relaxed);
    int was = worker_cron_ms(w);
    if (was == ms) return;
    if (was) rt_timer_stop(&w->cron);
    /* Relaxed: only this thread writes it; INFO shows it. */
    atomic_store_explicit(&w->cron_ms, ms, memory_order_relaxed);
    rt_timer_start(&w->cron, w->thread, ms, ms, worker_cron, w);
}

int worker_cron_ms(const worker_t *w)
{
    return atomic_load_explicit(&w->cron_ms, memory_order_relaxed);
}

void worker_cron_start(worker_t *w)
{
    set_pace(w, false);
}

void worker_cron_check(worker_t *w)
{
    if (worker_cron_ms(w) == WCRON_QUIET_MS && !quiet_now(w)) set_pace(w, false);
}

static void poke_run(worker_t *w, rt_msg_t *msg)
{
    free(msg);
    worker_cron_check(w);
}

void worker_cron_poke(worker_t *o)
{
    /* Relaxed: whoever turns the flag off sends the one message; a borrower
     * holds o's token, so o's own check cannot run meanwhile. */
    if (!atomic_exchange_explicit(&o->cron_quiet, false, memory_order_relaxed)) return;
    worker_run_t *m = xcalloc(1, sizeof *m);
    m->hdr.type = WMSG_RUN;
    m->fn = poke_run;
    rt_send(&o->actor, &m->hdr);
}

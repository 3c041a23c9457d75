/* stats.c - per-worker command and error statistics for INFO commandstats
 * and errorstats, and CONFIG RESETSTAT. Each worker writes only its own
 * counters and they only grow; INFO sums them with relaxed loads (counters
 * may be a moment stale, never torn).
 *
 * CONFIG RESETSTAT writes no counter: it records, per worker, what each
 * resettable counter was at the reset (its base), and readers report the
 * counter minus its base. The bases are the only shared mutable data here;
 * a mutex guards them (RESETSTAT and INFO only, never a command's hot path).
 *
 * Must never: be written by a thread other than the owning worker.
 */
#include <ck_pr.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "actors/worker/client.h"
#include "actors/worker/cmdhist.h"
#include "actors/worker/stats.h"
#include "actors/worker/worker_internal.h"
#include "runtime/xmalloc.h"

static int live_workers(void);

/* The worker_stats_t counters CONFIG RESETSTAT zeroes (as Redis's resetServerStats). */
static const size_t g_resettable[] = {
    offsetof(worker_stats_t, commands), offsetof(worker_stats_t, connections_received),
    offsetof(worker_stats_t, rejected_connections), offsetof(worker_stats_t, expired_keys),
    offsetof(worker_stats_t, keyspace_hits), offsetof(worker_stats_t, keyspace_misses),
    offsetof(worker_stats_t, net_input_bytes), offsetof(worker_stats_t, net_output_bytes),
    offsetof(worker_stats_t, reads_processed), offsetof(worker_stats_t, writes_processed),
    offsetof(worker_stats_t, total_errors), offsetof(worker_stats_t, evicted_keys),
    offsetof(worker_stats_t, expired_time_cap_reached),
};
#define N_RESETTABLE (sizeof g_resettable / sizeof g_resettable[0])

/* What the counters of one worker were at the last CONFIG RESETSTAT. */
typedef struct stats_base {
    long long stat[N_RESETTABLE];          /* as g_resettable */
    long long (*cmd)[4];                   /* per command: calls, usec, failed, rejected */
    long long err[STATS_MAX_ERR_CODES];    /* per errstats entry */
} stats_base_t;

static pthread_mutex_t g_base_lock = PTHREAD_MUTEX_INITIALIZER;
static stats_base_t g_base[MAX_WORKERS];   /* under g_base_lock */

static const cmd_def_t **g_cmd_list;   /* index -> command, built once */
static int g_cmd_total;

static void collect(const cmd_def_t *c)
{
    g_cmd_list[g_cmd_total++] = c;
    if (c->subcommands)
        for (const cmd_def_t *s = c->subcommands; s->name; s++) g_cmd_list[g_cmd_total++] = s;
}

void stats_global_init(void)
{
    int n = 0;
    for (int i = 0; i < cmd_count(); i++) {
        const cmd_def_t *c = cmd_at(i);
        n++;
        if (c->subcommands)
            for (const cmd_def_t *s = c->subcommands; s->name; s++) n++;
    }
    g_cmd_list = xcalloc((size_t)n, sizeof *g_cmd_list);
    for (int i = 0; i < cmd_count(); i++) collect(cmd_at(i));
}

int stats_cmd_total(void) { return g_cmd_total; }
const cmd_def_t *stats_cmd_at(int i) { return g_cmd_list[i]; }

/* Linear search is too slow per call; commands are found by pointer through
 * a small open-addressing table. */
#define IDX_BITS 10
static struct { const cmd_def_t *key; int idx; } g_idx[1 << IDX_BITS];
static int cmd_index(const cmd_def_t *cmd)
{
    uintptr_t h = ((uintptr_t)cmd >> 4) * 2654435761u;
    for (unsigned i = 0; i < (1u << IDX_BITS); i++) {
        unsigned k = (unsigned)(h + i) & ((1u << IDX_BITS) - 1);
        if (g_idx[k].key == cmd) return g_idx[k].idx;
        if (!g_idx[k].key) return -1;
    }
    return -1;
}

static void build_index(void)
{
    static int built;
    if (built) return;
    built = 1;
    for (int i = 0; i < g_cmd_total; i++) {
        uintptr_t h = ((uintptr_t)g_cmd_list[i] >> 4) * 2654435761u;
        for (unsigned j = 0;; j++) {
            unsigned k = (unsigned)(h + j) & ((1u << IDX_BITS) - 1);
            if (!g_idx[k].key) { g_idx[k].key = g_cmd_list[i]; g_idx[k].idx = i; break; }
        }
    }
}

void stats_init_worker(worker_t *w)
{
    build_index();
    w->cmdstats = xcalloc((size_t)g_cmd_total + 1, sizeof(cmdstat_t));
    w->errstats = xcalloc(STATS_MAX_ERR_CODES, sizeof(errstat_t));
    pthread_mutex_lock(&g_base_lock);
    stats_base_t *b = &g_base[w->index];
    free(b->cmd);
    memset(b, 0, sizeof *b);
    b->cmd = xcalloc((size_t)g_cmd_total + 1, sizeof *b->cmd);
    pthread_mutex_unlock(&g_base_lock);
    cmdhist_init_worker(w);
}

/* The owner's increment of its own counter: a relaxed load and store (plain
 * moves), no locked read-modify-write on a command's path; readers on other
 * threads see the old or the new value, never a torn one. */
static inline void bump(_Atomic long long *c, long long by)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by, memory_order_relaxed);
}

static void note_error_code(worker_t *w, const char *text, size_t n)
{
    char code[ERRSTAT_CODE_LEN];
    size_t k = 0;
    while (k < n && k < sizeof code - 1 && text[k] != ' ' && text[k] != '\r') { code[k] = text[k]; k++; }
    code[k] = '\0';
    bump(&w->stats.total_errors, 1);
    /* Relaxed: we are the only writer of nerrstats. */
    int ne = atomic_load_explicit(&w->nerrstats, memory_order_relaxed);
    for (int i = 0; i < ne; i++)
        if (!strcmp(w->errstats[i].code, code)) {
            bump(&w->errstats[i].count, 1);
            return;
        }
    if (ne >= STATS_MAX_ERR_CODES) return;   /* Redis caps distinct codes too */
    /* The entry is filled before it is published; the text never changes after. */
    memcpy(w->errstats[ne].code, code, k + 1);
    atomic_store_explicit(&w->errstats[ne].count, 1, memory_order_relaxed);
    /* Release: a reader that acquires the new length also sees the entry's text. */
    atomic_store_explicit(&w->nerrstats, ne + 1, memory_order_release);
}

void stats_note_error_text(worker_t *w, const char *err)
{
    if (*err == '-') err++;
    note_error_code(w, err, strlen(err));
}

void stats_note_call(worker_t *w, const cmd_def_t *cmd, long long usec, const resp_buf_t *reply, size_t start)
{
    int i = cmd_index(cmd);
    bump(&w->stats.commands, 1);
    bool failed = reply && reply->len > start && reply->data[start] == '-';
    if (i >= 0) {
        cmdstat_t *s = &w->cmdstats[i];
        bump(&s->calls, 1);
        bump(&s->usec, usec);
        if (failed) bump(&s->failed_calls, 1);
        cmdhist_note(w, i, usec);
    }
    if (failed) note_error_code(w, reply->data + start + 1, reply->len - start - 1);
}

void stats_note_call_counted(worker_t *w, const cmd_def_t *cmd, long long usec)
{
    int i = cmd_index(cmd);
    bump(&w->stats.commands, 1);
    if (i < 0) return;
    cmdstat_t *s = &w->cmdstats[i];
    bump(&s->calls, 1);
    bump(&s->usec, usec);
    bump(&s->failed_calls, 1);
    cmdhist_note(w, i, usec);
}

void stats_note_rejected_quiet(worker_t *w, const cmd_def_t *cmd)
{
    int i = cmd_index(cmd);
    if (i >= 0) bump(&w->cmdstats[i].rejected_calls, 1);
}

void stats_note_rejected(worker_t *w, const cmd_def_t *cmd, const char *err)
{
    stats_note_rejected_quiet(w, cmd);
    stats_note_error_text(w, err);
}

void stats_note_rejected_reply(worker_t *w, const cmd_def_t *cmd, const resp_buf_t *reply, size_t start)
{
    stats_note_rejected_quiet(w, cmd);
    if (reply && reply->len > start && reply->data[start] == '-')
        note_error_code(w, reply->data + start + 1, reply->len - start - 1);
}

static long long load_ll(_Atomic long long *p)
{
    /* Relaxed: a counter read for statistics only needs to be untorn. */
    return atomic_load_explicit(p, memory_order_relaxed);
}

static _Atomic long long *stat_field(worker_t *w, size_t offset)
{
    return (_Atomic long long *)((char *)&w->stats + offset);
}

void stats_reset_all(void)
{
    cmdhist_reset_all();
    pthread_mutex_lock(&g_base_lock);
    for (int k = 0, nw = live_workers(); k < nw; k++) {
        worker_t *w = g_workers[k];
        stats_base_t *b = &g_base[k];
        for (size_t f = 0; f < N_RESETTABLE; f++) b->stat[f] = load_ll(stat_field(w, g_resettable[f]));
        for (int i = 0; i < g_cmd_total; i++) {
            cmdstat_t *c = &w->cmdstats[i];
            b->cmd[i][0] = load_ll(&c->calls);
            b->cmd[i][1] = load_ll(&c->usec);
            b->cmd[i][2] = load_ll(&c->failed_calls);
            b->cmd[i][3] = load_ll(&c->rejected_calls);
        }
        /* Acquire pairs with the owner's release of a new entry. Entries added
         * after this point have a base of 0, which is what they had. */
        int n = atomic_load_explicit(&w->nerrstats, memory_order_acquire);
        for (int i = 0; i < n; i++) b->err[i] = load_ll(&w->errstats[i].count);
    }
    pthread_mutex_unlock(&g_base_lock);
}

/* Threads started before the workers (the AOF and persister crons) sum
 * stats too. g_nworkers is set early (slots map to workers while loading),
 * so they read this count instead: it is published with a release fence
 * after every g_workers[] entry is filled, and is 0 until then. */
static int g_workers_live;

void stats_publish_workers(int n)
{
    ck_pr_fence_store();   /* release: the g_workers[] entries before the count */
    ck_pr_store_int(&g_workers_live, n);
}

static int live_workers(void)
{
    int n = ck_pr_load_int(&g_workers_live);
    ck_pr_fence_load();    /* acquire: pairs with stats_publish_workers */
    return n;
}

static long long stats_sum(size_t offset)
{
    size_t f = 0;
    while (f < N_RESETTABLE && g_resettable[f] != offset) f++;
    long long s = 0;
    pthread_mutex_lock(&g_base_lock);
    for (int k = 0, nw = live_workers(); k < nw; k++) {
        s += load_ll(stat_field(g_workers[k], offset));
        if (f < N_RESETTABLE) s -= g_base[k].stat[f];
    }
    pthread_mutex_unlock(&g_base_lock);
    return s;
}

void stats_cmd_sum(int i, long long out[4])
{
    out[0] = out[1] = out[2] = out[3] = 0;
    pthread_mutex_lock(&g_base_lock);
    for (int k = 0, nw = live_workers(); k < nw; k++) {
        cmdstat_t *c = &g_workers[k]->cmdstats[i];
        const long long *b = g_base[k].cmd[i];
        out[0] += load_ll(&c->calls) - b[0];
        out[1] += load_ll(&c->usec) - b[1];
        out[2] += load_ll(&c->failed_calls) - b[2];
        out[3] += load_ll(&c->rejected_calls) - b[3];
    }
    pthread_mutex_unlock(&g_base_lock);
}

int stats_err_merge(char codes[][ERRSTAT_CODE_LEN], long long *counts, int max)
{
    int n = 0;
    pthread_mutex_lock(&g_base_lock);
    for (int k = 0, nw = live_workers(); k < nw; k++) {
        worker_t *w = g_workers[k];
        /* Acquire: pairs with the owner's release, so the code text is complete. */
        int ne = atomic_load_explicit(&w->nerrstats, memory_order_acquire);
        for (int i = 0; i < ne; i++) {
            long long c = load_ll(&w->errstats[i].count) - g_base[k].err[i];
            int j = 0;
            for (; j < n; j++) if (!strcmp(codes[j], w->errstats[i].code)) break;
            if (j == n) {
                if (n == max) continue;
                memcpy(codes[n], w->errstats[i].code, ERRSTAT_CODE_LEN);
                counts[n++] = 0;
            }
            counts[j] += c;
        }
    }
    pthread_mutex_unlock(&g_base_lock);
    return n;
}

/* worker.h's counters by name, as offsets into worker_stats_t. */
static const size_t g_stat_offset[WSTAT_COUNT] = {
    [WSTAT_COMMANDS] = offsetof(worker_stats_t, commands),
    [WSTAT_CONNECTIONS_RECEIVED] = offsetof(worker_stats_t, connections_received),
    [WSTAT_REJECTED_CONNECTIONS] = offsetof(worker_stats_t, rejected_connections),
    [WSTAT_EXPIRED_KEYS] = offsetof(worker_stats_t, expired_keys),
    [WSTAT_KEYSPACE_HITS] = offsetof(worker_stats_t, keyspace_hits),
    [WSTAT_KEYSPACE_MISSES] = offsetof(worker_stats_t, keyspace_misses),
    [WSTAT_NET_INPUT_BYTES] = offsetof(worker_stats_t, net_input_bytes),
    [WSTAT_NET_OUTPUT_BYTES] = offsetof(worker_stats_t, net_output_bytes),
    [WSTAT_READS_PROCESSED] = offsetof(worker_stats_t, reads_processed),
    [WSTAT_WRITES_PROCESSED] = offsetof(worker_stats_t, writes_processed),
    [WSTAT_DIRTY] = offsetof(worker_stats_t, dirty),
    [WSTAT_TOTAL_ERRORS] = offsetof(worker_stats_t, total_errors),
    [WSTAT_CONNECTED_CLIENTS] = offsetof(worker_stats_t, connected_clients),
    [WSTAT_KEYS] = offsetof(worker_stats_t, keys),
    [WSTAT_EXPIRES] = offsetof(worker_stats_t, expires),
    [WSTAT_AVG_TTL] = offsetof(worker_stats_t, avg_ttl),
    [WSTAT_USED_BYTES] = offsetof(worker_stats_t, used_bytes),
    [WSTAT_EVICTED_KEYS] = offsetof(worker_stats_t, evicted_keys),
    [WSTAT_EXPIRED_STALE_PERC_X100] = offsetof(worker_stats_t, expired_stale_perc_x100),
    [WSTAT_EXPIRED_TIME_CAP] = offsetof(worker_stats_t, expired_time_cap_reached),
    [WSTAT_CLIENTS_MEM] = offsetof(worker_stats_t, clients_mem),
    [WSTAT_RECENT_MAX_IN] = offsetof(worker_stats_t, recent_max_in),
    [WSTAT_RECENT_MAX_OUT] = offsetof(worker_stats_t, recent_max_out),
};

long long workers_sum(worker_stat_t s) { return stats_sum(g_stat_offset[s]); }

long long worker_stat(int i, worker_stat_t s) { return load_ll(stat_field(g_workers[i], g_stat_offset[s])); }

long long workers_max(worker_stat_t s)
{
    long long m = 0;
    for (int k = 0, nw = live_workers(); k < nw; k++) {
        long long v = load_ll(stat_field(g_workers[k], g_stat_offset[s]));
        if (v > m) m = v;
    }
    return m;
}

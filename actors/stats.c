/* stats.c - per-worker command and error statistics for INFO commandstats
 * and errorstats. Each worker writes only its own counters; INFO sums them
 * with relaxed loads (counters may be a moment stale, never torn).
 *
 * Must never: be written by a thread other than the owning worker (except
 * CONFIG RESETSTAT, which zeroes counters with relaxed stores).
 */
#include <stdlib.h>
#include <string.h>

#include "actors/client.h"
#include "actors/stats.h"
#include "actors/stats.h"

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
    g_cmd_list = calloc((size_t)n, sizeof *g_cmd_list);
    if (!g_cmd_list) abort();
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
    w->cmdstats = calloc((size_t)g_cmd_total + 1, sizeof(cmdstat_t));
    w->errstats = calloc(STATS_MAX_ERR_CODES, sizeof(errstat_t));
    if (!w->cmdstats || !w->errstats) abort();
}

static void note_error_code(worker_t *w, const char *text, size_t n)
{
    char code[ERRSTAT_CODE_LEN];
    size_t k = 0;
    while (k < n && k < sizeof code - 1 && text[k] != ' ' && text[k] != '\r') { code[k] = text[k]; k++; }
    code[k] = '\0';
    atomic_fetch_add_explicit(&w->stats.total_errors, 1, memory_order_relaxed);
    for (int i = 0; i < w->nerrstats; i++)
        if (!strcmp(w->errstats[i].code, code)) {
            atomic_fetch_add_explicit(&w->errstats[i].count, 1, memory_order_relaxed);
            return;
        }
    if (w->nerrstats >= STATS_MAX_ERR_CODES) return;   /* Redis caps distinct codes too */
    memcpy(w->errstats[w->nerrstats].code, code, k + 1);
    atomic_store_explicit(&w->errstats[w->nerrstats].count, 1, memory_order_release);
    /* release: a reader that sees the new count also sees the code text */
    atomic_store_explicit((_Atomic int *)&w->nerrstats, w->nerrstats + 1, memory_order_release);
}

void stats_note_error_text(worker_t *w, const char *err)
{
    if (*err == '-') err++;
    note_error_code(w, err, strlen(err));
}

void stats_note_call(worker_t *w, const cmd_def_t *cmd, long long usec, const resp_buf_t *reply, size_t start)
{
    int i = cmd_index(cmd);
    atomic_fetch_add_explicit(&w->stats.commands, 1, memory_order_relaxed);
    bool failed = reply && reply->len > start && reply->data[start] == '-';
    if (i >= 0) {
        cmdstat_t *s = &w->cmdstats[i];
        atomic_fetch_add_explicit(&s->calls, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->usec, usec, memory_order_relaxed);
        if (failed) atomic_fetch_add_explicit(&s->failed_calls, 1, memory_order_relaxed);
    }
    if (failed) note_error_code(w, reply->data + start + 1, reply->len - start - 1);
}

void stats_note_rejected(worker_t *w, const cmd_def_t *cmd, const char *err)
{
    int i = cmd_index(cmd);
    if (i >= 0) atomic_fetch_add_explicit(&w->cmdstats[i].rejected_calls, 1, memory_order_relaxed);
    stats_note_error_text(w, err);
}

void stats_reset_all(void)
{
    for (int k = 0; k < g_nworkers; k++) {
        worker_t *w = g_workers[k];
        for (int i = 0; i < g_cmd_total; i++) {
            atomic_store_explicit(&w->cmdstats[i].calls, 0, memory_order_relaxed);
            atomic_store_explicit(&w->cmdstats[i].usec, 0, memory_order_relaxed);
            atomic_store_explicit(&w->cmdstats[i].failed_calls, 0, memory_order_relaxed);
            atomic_store_explicit(&w->cmdstats[i].rejected_calls, 0, memory_order_relaxed);
        }
        for (int i = 0; i < w->nerrstats; i++) atomic_store_explicit(&w->errstats[i].count, 0, memory_order_relaxed);
        atomic_store_explicit(&w->stats.total_errors, 0, memory_order_relaxed);
        atomic_store_explicit(&w->stats.commands, 0, memory_order_relaxed);
        atomic_store_explicit(&w->stats.connections_received, 0, memory_order_relaxed);
        atomic_store_explicit(&w->stats.rejected_connections, 0, memory_order_relaxed);
        atomic_store_explicit(&w->stats.keyspace_hits, 0, memory_order_relaxed);
        atomic_store_explicit(&w->stats.keyspace_misses, 0, memory_order_relaxed);
        atomic_store_explicit(&w->stats.expired_keys, 0, memory_order_relaxed);
        atomic_store_explicit(&w->stats.reset_requested, 1, memory_order_relaxed);
        atomic_store_explicit(&w->stats.net_input_bytes, 0, memory_order_relaxed);
        atomic_store_explicit(&w->stats.net_output_bytes, 0, memory_order_relaxed);
    }
}

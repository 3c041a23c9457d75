/* cmdhist.c - see cmdhist.h.
 *
 * A histogram is CMDHIST_BUCKETS counters laid out as 7.0.15's
 * hdr_histogram lays them out for its per-command histograms (lowest
 * value 1, highest 10^9, 2 significant digits): 24 power-of-two buckets of
 * 128 sub-buckets (256 in the first), so a counter stands for a range of
 * values 1/128 to 1/256 as wide as the values themselves.
 *
 * Ownership: worker k alone writes g_tab[k] and the histograms it points
 * to, with relaxed loads and stores (plain moves: it is the only writer);
 * readers load them relaxed and may see a call or two being added, never a
 * torn counter. A histogram is allocated by its owner on the command's
 * first call and published with a release store.
 *
 * CONFIG RESETSTAT writes no histogram: it bumps g_reset_gen. A reader
 * skips a worker whose published generation is older (its histograms date
 * from before the reset); the worker zeroes its own histograms at its next
 * recorded call and then publishes the new generation.
 *
 * Must never: write another worker's histograms, or take a lock.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/config/config.h"
#include "actors/worker/cmdhist.h"
#include "actors/worker/stats.h"
#include "actors/worker/worker_internal.h"
#include "runtime/xmalloc.h"

#define SUB_HALF_MAG 7                      /* 128 sub-buckets per bucket after the first */
#define SUB_HALF (1 << SUB_HALF_MAG)
#define SUB_MASK ((1LL << (SUB_HALF_MAG + 1)) - 1)
#define MIN_NS 1LL
#define MAX_NS 1000000000LL

typedef struct hist {
    _Atomic unsigned long long n[CMDHIST_BUCKETS];
} hist_t;

typedef struct worker_hists {
    _Atomic(hist_t *) *by_cmd;     /* stats_cmd_total() entries, NULL until used */
    unsigned gen;                  /* owner's copy of the generation its counters belong to */
    _Atomic unsigned published;    /* the same, for readers (release by the owner) */
} worker_hists_t;

static worker_hists_t g_tab[MAX_WORKERS];
static _Atomic unsigned g_reset_gen;
static _Atomic int g_tracking_idx = CONFIG_IDX_UNSET;

/* ---- bucket arithmetic (hdr_histogram's, unit magnitude 0) ---- */

static int bucket_of(long long v)
{
    int pow2ceiling = 64 - __builtin_clzll((unsigned long long)(v | SUB_MASK));
    return pow2ceiling - (SUB_HALF_MAG + 1);
}

int cmdhist_index_of(long long ns)
{
    int b = bucket_of(ns);
    int sub = (int)(ns >> b);
    return ((b + 1) << SUB_HALF_MAG) + (sub - SUB_HALF);
}

long long cmdhist_lowest(int index)
{
    int b = (index >> SUB_HALF_MAG) - 1;
    int sub = (index & (SUB_HALF - 1)) + SUB_HALF;
    if (b < 0) {
        sub -= SUB_HALF;
        b = 0;
    }
    return (long long)sub << b;
}

long long cmdhist_highest(int index)
{
    long long low = cmdhist_lowest(index);
    return low + (1LL << bucket_of(low)) - 1;
}

long long cmdhist_value_at_percentile(const unsigned long long *counts, unsigned long long total, double pct)
{
    double p = pct < 100.0 ? pct : 100.0;
    long long want = (long long)((p / 100) * (double)total + 0.5);
    if (want < 1) want = 1;
    unsigned long long seen = 0;
    long long v = 0;
    for (int i = 0; i < CMDHIST_BUCKETS; i++) {
        seen += counts[i];
        if (seen >= (unsigned long long)want) {
            v = cmdhist_lowest(i);
            break;
        }
    }
    if (pct == 0.0) return v;
    return cmdhist_highest(cmdhist_index_of(v));
}

/* ---- recording (owner thread) ---- */

void cmdhist_init_worker(struct worker *w)
{
    worker_hists_t *t = &g_tab[w->index];
    if (!t->by_cmd) t->by_cmd = xcalloc((size_t)stats_cmd_total() + 1, sizeof *t->by_cmd);
    t->gen = atomic_load_explicit(&g_reset_gen, memory_order_relaxed);
    atomic_store_explicit(&t->published, t->gen, memory_order_relaxed);   /* before the worker runs */
}

static void zero_own(worker_hists_t *t)
{
    for (int i = 0; i < stats_cmd_total(); i++) {
        /* relaxed: we allocated these ourselves */
        hist_t *h = atomic_load_explicit(&t->by_cmd[i], memory_order_relaxed);
        if (!h) continue;
        for (int j = 0; j < CMDHIST_BUCKETS; j++) atomic_store_explicit(&h->n[j], 0, memory_order_relaxed);
    }
}

void cmdhist_note(struct worker *w, int idx, long long usec)
{
    if (idx < 0 || !config_num_cached(&g_tracking_idx, "latency-tracking")) return;
    worker_hists_t *t = &g_tab[w->index];
    /* relaxed: a reset seen a call late only lets that call into the old counts */
    unsigned gen = atomic_load_explicit(&g_reset_gen, memory_order_relaxed);
    if (gen != t->gen) {
        zero_own(t);
        t->gen = gen;
        /* release: a reader that acquires the new generation sees the zeros */
        atomic_store_explicit(&t->published, gen, memory_order_release);
    }
    hist_t *h = atomic_load_explicit(&t->by_cmd[idx], memory_order_relaxed);
    if (!h) {
        h = xcalloc(1, sizeof *h);
        /* release: readers that find the pointer see a zeroed histogram */
        atomic_store_explicit(&t->by_cmd[idx], h, memory_order_release);
    }
    long long ns = usec * 1000;
    if (ns < MIN_NS) ns = MIN_NS;
    if (ns > MAX_NS) ns = MAX_NS;
    _Atomic unsigned long long *c = &h->n[cmdhist_index_of(ns)];
    /* the only writer: a relaxed load and store, no read-modify-write */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

void cmdhist_reset_all(void)
{
    /* relaxed: workers and readers compare generations; the counters are theirs */
    atomic_fetch_add_explicit(&g_reset_gen, 1, memory_order_relaxed);
}

/* ---- reading (any thread) ---- */

/* Sums command idx's histograms over the workers into counts; returns the
 * total (0: the command has no histogram, as 7.0.15 has none for it). */
static unsigned long long merged(int idx, unsigned long long counts[CMDHIST_BUCKETS])
{
    unsigned long long total = 0;
    bool any = false;   /* most commands were never called: no histogram to zero for them */
    for (int k = 0; k < g_nworkers && !any; k++)
        /* relaxed: only whether one exists; it is read below with acquire */
        any = g_tab[k].by_cmd && atomic_load_explicit(&g_tab[k].by_cmd[idx], memory_order_relaxed);
    if (!any) return 0;
    memset(counts, 0, CMDHIST_BUCKETS * sizeof counts[0]);
    unsigned gen = atomic_load_explicit(&g_reset_gen, memory_order_relaxed);
    for (int k = 0; k < g_nworkers; k++) {
        worker_hists_t *t = &g_tab[k];
        if (!t->by_cmd) continue;
        /* acquire: pairs with the owner's release after it zeroed its counters */
        if (atomic_load_explicit(&t->published, memory_order_acquire) != gen) continue;
        /* acquire: pairs with the owner's publication of a zeroed histogram */
        hist_t *h = atomic_load_explicit(&t->by_cmd[idx], memory_order_acquire);
        if (!h) continue;
        for (int j = 0; j < CMDHIST_BUCKETS; j++) {
            /* relaxed: a statistic, untorn is enough */
            unsigned long long n = atomic_load_explicit(&h->n[j], memory_order_relaxed);
            counts[j] += n;
            total += n;
        }
    }
    return total;
}

/* One command's "calls" and "histogram_usec": 7.0.15 walks the histogram
 * with a logarithmic iterator (first level 1024 ns, then doubling) and
 * prints, at each level the values reached, the highest value of the
 * level's bucket in microseconds and the calls up to it, skipping levels
 * that added none. */
static void add_cdf(resp_buf_t *r, const unsigned long long *counts, unsigned long long total)
{
    long long usec[32];
    unsigned long long cum[32];
    int n = 0, next = 0;
    unsigned long long seen = 0, before = 0;
    for (long long level = 1024; seen < total && n < 32; level *= 2) {
        int stop = cmdhist_index_of(level);
        if (stop >= CMDHIST_BUCKETS) stop = CMDHIST_BUCKETS - 1;   /* past the last: all that is left */
        while (next <= stop) seen += counts[next++];
        if (seen > before) {
            usec[n] = cmdhist_highest(stop) / 1000;
            cum[n++] = seen;
        }
        before = seen;
    }
    resp_add_map(r, 2);
    resp_add_bulk_str(r, "calls");
    resp_add_int(r, (long long)total);
    resp_add_bulk_str(r, "histogram_usec");
    resp_add_map(r, n);
    for (int i = 0; i < n; i++) {
        resp_add_int(r, usec[i]);
        resp_add_int(r, (long long)cum[i]);
    }
}

static void fullname(const cmd_def_t *c, char *buf, size_t cap)
{
    if (c->parent) snprintf(buf, cap, "%s|%s", c->parent->name, c->name);
    else snprintf(buf, cap, "%s", c->name);
}

/* Appends the entry of stats command i if it has calls; returns 1 if it did. */
static int add_entry(resp_buf_t *r, int i, unsigned long long *counts)
{
    unsigned long long total = merged(i, counts);
    if (!total) return 0;
    char name[96];
    fullname(stats_cmd_at(i), name, sizeof name);
    resp_add_bulk_str(r, name);
    add_cdf(r, counts, total);
    return 1;
}

static int stats_index_of(const cmd_def_t *c)
{
    for (int i = 0; i < stats_cmd_total(); i++)
        if (stats_cmd_at(i) == c) return i;
    return -1;
}

void cmd_latency_histogram(cmd_ctx_t *ctx)
{
    unsigned long long *counts = xcalloc(CMDHIST_BUCKETS, sizeof *counts);
    resp_buf_t body;
    resp_buf_init(&body, ctx->reply->proto);
    int entries = 0;
    if (ctx->argc == 2) {
        for (int i = 0; i < stats_cmd_total(); i++) entries += add_entry(&body, i, counts);
    } else {
        /* each name as 7.0.15 looks it up ("config|get" too); a container
         * brings its subcommands; unknown names are left out */
        for (int a = 2; a < ctx->argc; a++) {
            const cmd_def_t *c = cmd_lookup_fullname(ctx->argv[a], ctx->argvlen[a]);
            if (!c) continue;
            int i = stats_index_of(c);
            if (i >= 0) entries += add_entry(&body, i, counts);
            for (const cmd_def_t *s = c->subcommands; s && s->name; s++)
                if ((i = stats_index_of(s)) >= 0) entries += add_entry(&body, i, counts);
        }
    }
    resp_add_map(ctx->reply, entries);
    resp_buf_append(ctx->reply, body.data, body.len);
    resp_buf_free(&body);
    free(counts);
}

/* latency-tracking-info-percentiles as numbers; returns how many (at most max). */
static int info_percentiles(double *out, int max)
{
    char buf[1024];
    if (config_get_by_name("latency-tracking-info-percentiles", buf, sizeof buf) < 0) return 0;
    int n = 0;
    for (char *p = buf, *end; n < max; p = end) {
        double v = strtod(p, &end);
        if (end == p) break;
        out[n++] = v;
    }
    return n;
}

/* "%f" with the trailing zeros (and a bare point) taken off, as 7.0.15 names a percentile. */
static void pct_name(double v, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%f", v);
    if (n <= 0 || (size_t)n >= cap || !strchr(buf, '.')) return;
    while (n > 1 && buf[n - 1] == '0') buf[--n] = '\0';
    if (buf[n - 1] == '.') buf[--n] = '\0';
}

static void text_add(char **s, size_t *len, size_t *cap, const char *piece)
{
    size_t n = strlen(piece);
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *s = xrealloc(*s, *cap);
    }
    memcpy(*s + *len, piece, n + 1);
    *len += n;
}

char *cmdhist_info_text(void)
{
    size_t len = 0, cap = 256;
    char *s = xmalloc(cap);
    s[0] = '\0';
    if (!config_num_cached(&g_tracking_idx, "latency-tracking")) return s;
    double pcts[64];
    int np = info_percentiles(pcts, 64);
    unsigned long long *counts = xcalloc(CMDHIST_BUCKETS, sizeof *counts);
    for (int i = 0; i < stats_cmd_total(); i++) {
        unsigned long long total = merged(i, counts);
        if (!total) continue;
        char name[96], piece[160];
        fullname(stats_cmd_at(i), name, sizeof name);
        snprintf(piece, sizeof piece, "latency_percentiles_usec_%s:", name);
        text_add(&s, &len, &cap, piece);
        for (int j = 0; j < np; j++) {
            char pn[64];
            pct_name(pcts[j], pn, sizeof pn);
            long long v = cmdhist_value_at_percentile(counts, total, pcts[j]);
            snprintf(piece, sizeof piece, "%sp%s=%.3f", j ? "," : "", pn, (double)v / 1000.0);
            text_add(&s, &len, &cap, piece);
        }
        text_add(&s, &len, &cap, "\r\n");
    }
    free(counts);
    return s;
}

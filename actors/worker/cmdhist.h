/* cmdhist.h - per-command latency histograms: LATENCY HISTOGRAM and INFO
 * latencystats, with latency-tracking and latency-tracking-info-percentiles.
 *
 * Each worker records the calls it runs into histograms of its own (no
 * shared atomic, no lock on a command's path); a reader merges every
 * worker's histograms of a command. The buckets are those of the
 * hdr_histogram 7.0.15 keeps per command (1 ns .. 1 s, two significant
 * digits, values in nanoseconds), so that the buckets LATENCY HISTOGRAM
 * prints and the percentiles INFO prints are 7.0.15's for the same calls.
 */
#ifndef SHOAL_ACTORS_CMDHIST_H
#define SHOAL_ACTORS_CMDHIST_H

#include <stddef.h>
#include "actors/commands/cmd.h"

struct worker;

/* Before worker w starts (stats_init_worker): its table of histograms. */
void cmdhist_init_worker(struct worker *w);
/* Owner thread: command number `idx` (stats_cmd_at) took `usec`. Nothing
 * when latency-tracking is off. */
void cmdhist_note(struct worker *w, int idx, long long usec);
/* CONFIG RESETSTAT: every histogram reads empty from now on. Any thread. */
void cmdhist_reset_all(void);

/* LATENCY HISTOGRAM [command ...] */
void cmd_latency_histogram(cmd_ctx_t *ctx);
/* INFO latencystats' lines (after its header): malloc'ed, NUL-terminated,
 * possibly empty; the caller frees it. */
char *cmdhist_info_text(void);

/* The bucket arithmetic, for the unit tests: the bucket index of a value
 * in nanoseconds, a bucket's lowest and highest value, the number of
 * buckets. */
#define CMDHIST_BUCKETS 3072
int cmdhist_index_of(long long ns);
long long cmdhist_lowest(int index);
long long cmdhist_highest(int index);
/* hdr_value_at_percentile over `counts` (CMDHIST_BUCKETS of them, `total` in all). */
long long cmdhist_value_at_percentile(const unsigned long long *counts, unsigned long long total, double pct);

#endif

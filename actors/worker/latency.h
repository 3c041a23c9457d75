/* latency.h - the latency monitor (LATENCY LATEST/HISTORY/RESET/GRAPH/
 * DOCTOR/HELP), as 7.0.15 keeps it: per event name ("command",
 * "fast-command", "expire-cycle", "eviction-cycle", "aof-fsync-always", ...)
 * the worst latency of each of the last 160 seconds that had one at or over
 * latency-monitor-threshold milliseconds, and the worst since the last reset.
 *
 * One table for the node, under a lock: it is touched only when something
 * took at least the threshold (a millisecond or more, and the monitor is off
 * by default) or when LATENCY asks, never on a command that was fast. Any
 * thread may record.
 *
 * Must never: take its lock for a sample under the threshold.
 */
#ifndef SHOAL_ACTORS_LATENCY_H
#define SHOAL_ACTORS_LATENCY_H

#include <stdbool.h>
#include "actors/commands/cmd.h"

/* latency-monitor-threshold in milliseconds (0: off); one relaxed load. */
long long latency_threshold_ms(void);
/* Records `ms` for `event` when the monitor is on and ms reaches the
 * threshold (7.0.15's latencyAddSampleIfNeeded). Any thread. */
void latency_note(const char *event, long long ms);
/* Takes (true) or gives back the samples' lock around a fork whose child
 * may note a latency (the debugger's, ldb_conn.c): a thread that held it at
 * the fork would leave it held in the child for good. */
void latency_fork_lock(bool lock);

void cmd_latency_latest(cmd_ctx_t *ctx);
void cmd_latency_history(cmd_ctx_t *ctx);
void cmd_latency_reset(cmd_ctx_t *ctx);
void cmd_latency_graph(cmd_ctx_t *ctx);
void cmd_latency_doctor(cmd_ctx_t *ctx);
void cmd_latency_help(cmd_ctx_t *ctx);

/* latency_doctor.c: the DOCTOR report and the GRAPH drawing over one
 * event's samples (oldest first), as 7.0.15 words and draws them. */
typedef struct latency_sample {
    long long time_s;             /* 0: an empty place in the ring */
    long long ms;
} latency_sample_t;
#define LATENCY_SAMPLES 160
typedef struct latency_series {
    char name[64];
    long long max_ms;
    int next;                     /* where the next sample goes */
    latency_sample_t s[LATENCY_SAMPLES];
} latency_series_t;
/* Appends the report over `n` series to out (a growing string: *out, *len, *cap). */
void latency_doctor_text(const latency_series_t *series, int n, char **out, size_t *len, size_t *cap);
void latency_graph_text(const latency_series_t *ts, char **out, size_t *len, size_t *cap);

#endif

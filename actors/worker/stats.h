/* stats.h - command and error statistics (see stats.c). */
#ifndef SHOAL_ACTORS_STATS_H
#define SHOAL_ACTORS_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include "actors/commands/cmd.h"

#define STATS_MAX_ERR_CODES 128
#define ERRSTAT_CODE_LEN 32

typedef struct cmdstat {
    _Atomic long long calls, usec, failed_calls, rejected_calls;
} cmdstat_t;

typedef struct errstat {
    char code[ERRSTAT_CODE_LEN];
    _Atomic long long count;
} errstat_t;

/* After cmd_table_init, before workers start. */
void stats_global_init(void);
/* Called once g_workers[0..n) are filled, before the worker threads start. */
void stats_publish_workers(int n);
int stats_cmd_total(void);
const cmd_def_t *stats_cmd_at(int i);
/* CONFIG RESETSTAT: the resettable counters of every worker read 0 from now
 * on (no worker's counter is written; see stats.c). Any thread. */
void stats_reset_all(void);

/* The counters of worker_stats_t by name: workers_sum and worker_stat (worker.h). */
/* Command i (as stats_cmd_at) since the last reset: calls, usec, failed, rejected. */
void stats_cmd_sum(int i, long long out[4]);
/* Error codes since the last reset, merged over workers in first-seen order;
 * returns how many (at most max). Codes with a count of 0 are included. */
int stats_err_merge(char codes[][ERRSTAT_CODE_LEN], long long *counts, int max);

#endif

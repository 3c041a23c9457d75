/* stats.h - command and error statistics (see stats.c). */
#ifndef SHOAL_ACTORS_STATS_H
#define SHOAL_ACTORS_STATS_H

#include <stdatomic.h>
#include "actors/cmd.h"

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
int stats_cmd_total(void);
const cmd_def_t *stats_cmd_at(int i);
void stats_reset_all(void);

#endif

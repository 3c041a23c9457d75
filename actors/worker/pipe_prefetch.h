/* pipe_prefetch.h - a pipelined client's next commands, fetched ahead.
 *
 * A lookup of a key that is not in cache costs two dependent misses (the
 * bucket, then the chain's first entry) and a write one more (its WATCH
 * version): in a profile of redis-benchmark -P 16 SETs they were ~19 % of
 * the worker's CPU (ks_find 13.7 %, the version bump 5.4 %). While a
 * client's command runs, the commands after it already sit in its query
 * buffer: this looks at them (resp_peek, a hint only) and starts fetching
 * the bucket two commands ahead and the chain's entry one ahead, as a
 * batch does (batch.c). A key of another worker's keyspace is looked up
 * there under that worker's token, taken for the prefetch alone and only
 * while it sleeps (rt_thread_try_borrow, as run_borrowed does): when the
 * token is out, that key is not fetched. In the database the command runs
 * in, while it is the owner's current one; a command whose second argument
 * is not a key only fetches a line for nothing.
 *
 * Must never: read past the query buffer's bytes, read another worker's
 * memory without its token, or change anything a command sees (prefetches
 * only).
 */
#ifndef SHOAL_ACTORS_WORKER_PIPE_PREFETCH_H
#define SHOAL_ACTORS_WORKER_PIPE_PREFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include "actors/worker/keyspace.h"

struct client;

#define PIPE_PREFETCH_AHEAD 2

/* One pass of client_process_input; zero it before the first step. */
typedef struct pipe_prefetch {
    size_t scan;                     /* qbuf offset of the first command not looked at (0: from `next`) */
    unsigned step;                   /* commands stepped so far in this pass */
    int n;                           /* entries in q */
    struct {
        unsigned index;              /* the command's number in the pass */
        const struct keyspace *ks;   /* the keyspace its bucket was fetched in (NULL: nothing to fetch) */
        struct worker *owner;        /* the keyspace's worker */
        ks_keyref_t ref;
    } q[PIPE_PREFETCH_AHEAD];
} pipe_prefetch_t;

/* Before a command of c runs; `next`: the qbuf offset right after it. */
void pipe_prefetch_step(pipe_prefetch_t *pf, struct client *c, size_t next);

#endif

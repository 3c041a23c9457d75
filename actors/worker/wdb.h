/* wdb.h - a worker's numbered databases (SELECT, MOVE, SWAPDB, COPY ... DB).
 *
 * Without cluster mode a node has `databases` databases (16 by default), as
 * redis-server has; in cluster mode only database 0. Each worker keeps its
 * share of every database: one keyspace per database, made the first time
 * the database is used on that worker (an untouched database costs nothing).
 *
 * The database a command works on is the worker's current one: w->ks is its
 * keyspace. Between commands it is database 0; a command of a client that
 * selected another database runs with that one current (dispatch.c, batch.c,
 * fanout.c, ...) and the worker's propagation buffer is told, so that its
 * effects reach replicas and the AOF after a SELECT of the right database
 * (repl_wbuf_set_db). Database 0 on the hot path costs one comparison.
 *
 * Must never: be called from a thread other than the worker's own (or one
 * holding its token: a borrower, a barrier), or leave a database other than
 * 0 current after the command that needed it.
 */
#ifndef SHOAL_ACTORS_WDB_H
#define SHOAL_ACTORS_WDB_H

#include <stdbool.h>
#include "actors/worker/worker.h"

struct keyspace;

#define WDB_MAX 1024   /* more databases than this are refused at start */

/* How many databases the node has: 1 in cluster mode, else `databases`
 * (fixed once the workers started). Any thread. */
int wdb_count(void);

/* w's keyspace of database db (0 <= db < wdb_count()), made now if it was
 * never used here. */
struct keyspace *wdb_get(worker_t *w, int db);
/* The same without making it: NULL when db was never used on w. */
struct keyspace *wdb_peek(worker_t *w, int db);
/* 1 + the highest database w ever made (iterate 0 .. wdb_top(w)-1 with wdb_peek). */
int wdb_top(const worker_t *w);

/* Makes db w's current database (w->ks) and returns the previous one. */
int wdb_use(worker_t *w, int db);
/* w's current database. */
int wdb_current(const worker_t *w);
/* The database of the command running on this thread's worker (notifications). */
int wdb_current_here(void);

/* Counts of w's databases for INFO keyspace, the totals (WSTAT_KEYS ...):
 * the current database's after a write, or every one. */
void wdb_publish_current(worker_t *w);
void wdb_publish_all(worker_t *w, long long now_ms);
/* The counts of ks (one of w's databases) less the expired key it is about
 * to delete: INFO keyspace shows a lazy or active expiry at once, as
 * 7.0.15's dict sizes do, whatever path found the key expired. Returns
 * ks's database, or -1 for a keyspace not in use yet (being loaded). */
int wdb_publish_expiring(worker_t *w, struct keyspace *ks);

/* Any thread: database db's counts summed over the workers, as INFO
 * keyspace shows them (avg_ttl: as of the workers' last cron). */
void wdb_info(int db, long long *keys, long long *expires, long long *avg_ttl);

/* Empties every database of w (FLUSHALL); the current one only is
 * worker_flush_keyspace's job. */
void wdb_flush_all(worker_t *w, bool count_change);

/* Calls fn on every existing keyspace of w with its database current
 * (active expiry, eviction, replica mode). */
void wdb_foreach(worker_t *w, void (*fn)(worker_t *w, struct keyspace *ks, void *arg), void *arg);

/* SWAPDB a b on every worker at one moment (a barrier, as a full sync's
 * swap): `origin` (the client's worker, at its part) propagates the command
 * between the two halves of the barrier so that the stream has it exactly
 * between what was written before and after. Any worker thread. */
void wdb_swap_all(worker_t *origin, int a, int b, struct remote_cmd *rc);

/* Databases 1.. of a dump.rdb loaded before the workers start (rdb_load.c
 * stages them; index 0 is unused, database 0 going to g_worker_preload),
 * and taking them at a worker's start. */
extern struct keyspace **g_wdb_preload[MAX_WORKERS];
void wdb_preload_take(worker_t *w);

/* A key arrived in database db from another one (MOVE, COPY ... DB) on
 * w's thread: WATCHes of it there go stale and that database hears of it
 * ("new", then `src_event` in the source when not NULL, then `event`), as
 * 7.0.15 signals them. */
void wdb_key_arrived(worker_t *w, int db, const uint8_t *key, size_t len, const char *src_event, const char *event);

/* SWAPDB a b of our master's stream or of the AOF, from the thread that
 * hands the workers those commands (after it sent them everything before
 * it): every worker swaps between what came before and what comes after.
 * False when the arguments are not two databases of ours. */
bool wdb_swap_apply(int argc, const uint8_t **argv, const size_t *argvlen);

/* The database a command writes besides the current one (COPY ... DB n),
 * or -1: a call over several workers' keys moves its keys there too (xcmd.c). */
int wdb_cmd_other_db(const queued_cmd_t *q);

/* Our master's stream (or the AOF): true when q is its SELECT, which makes
 * the database w applies what follows in (dispatch_apply). */
bool wdb_apply_select(worker_t *w, const queued_cmd_t *q);

/* A key's WATCH bucket in database db (multi.c's versions per bucket). */
uint32_t wdb_watch_bucket(int db, const uint8_t *key, size_t len);

#endif

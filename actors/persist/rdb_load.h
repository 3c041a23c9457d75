/* rdb_load.h - loading dump.rdb at startup, and the loading figures INFO
 * shows (loading:1 and the loading_* fields, as 7.0.15 reports them while a
 * file or a replica's full sync is being loaded).
 *
 * Loading decodes the file on the main thread into one staged keyspace per
 * worker before the workers exist; each worker starts with its keyspace.
 *
 * Must never: touch a worker's keyspace from another thread (staged
 * keyspaces belong to main until the owning worker starts with them).
 */
#ifndef SHOAL_ACTORS_RDB_LOAD_H
#define SHOAL_ACTORS_RDB_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/repl/repl.h"

/* The replication history a dump.rdb recorded (aux repl-id, repl-offset,
 * repl-stream-db); valid only when all three were there, as 7.0.15 checks. */
typedef struct rdb_load_history {
    bool valid;
    char replid[REPL_ID_LEN + 1];
    long long offset;
    int stream_db;
} rdb_load_history_t;

/* Startup, main thread, before workers_start: if <dir>/<dbfilename> exists,
 * decodes it into staged keyspaces for `nworkers` workers (the count
 * workers_start will use) and hands them to the workers through
 * g_worker_preload. *hist gets the file's replication history (may be NULL).
 * Returns 0 (no file, or loaded), or -1 after logging "Fatal error loading
 * the DB ..." (the caller exits). */
int rdb_load_startup(int nworkers, rdb_load_history_t *hist);

/* Start, main thread, before repl_start: only the replication history that
 * dump.rdb's header records (no file, or none there: hist->valid false).
 * Always 0; the load proper reports a bad file. When the file exists,
 * clients get -LOADING from now on (the workers start before the load),
 * until rdb_load_live is done. */
int rdb_load_history(rdb_load_history_t *hist);

/* Loads dump.rdb into the running workers (start, after workers_start;
 * DEBUG RELOAD, after the keyspaces were emptied), from a thread that is not
 * a worker: that thread parses, each worker builds its own keys from batches
 * of records, in parallel. Clients get -LOADING meanwhile. Returns 0 (no
 * file, or loaded), or -1 after logging "Fatal error loading the DB ...". */
int rdb_load_live(void);
/* The same for the RDB at `path`: an AOF base file (start, after
 * workers_start, before any client is let in), whose keys past their TTL
 * are kept even on a master (7.0.15 loads an AOF preamble so: the AOF's
 * commands were logged against those keys). */
int rdb_load_live_file(const char *path);
/* The start's load calls fn every 1024 records (main: a SIGTERM or SIGINT
 * that arrived meanwhile ends the node without saving, as 7.0.15 does). */
void rdb_load_set_interrupt(bool (*fn)(void));
/* Called once by the start's load just before clients stop getting -LOADING. */
void rdb_load_set_ready(void (*fn)(void));
/* Commands without the loading flag get -LOADING now (any thread, one
 * relaxed load). */
bool rdb_load_refusing(void);
#define RDB_LOADING_ERROR "LOADING Redis is loading the dataset in memory"

/* DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE] (worker, via its deferred reply
 * rc): on a thread of its own, saves dump.rdb (unless NOSAVE), empties
 * every keyspace and the functions (unless NOFLUSH) and loads the file back
 * as at start; answers +OK, "-ERR" (the save failed) or "-ERR Error trying
 * to load the RDB dump", as 7.0.15. With NOFLUSH the file's libraries join
 * the node's: a name already there fails the load unless MERGE, which
 * replaces it (a key already there is replaced either way, where 7.0.15
 * stops the server unless MERGE). */
struct remote_cmd;
void rdb_debug_reload(struct remote_cmd *rc, bool save, bool flush, bool merge);

/* DEBUG RELOAD and DEBUG LOADAOF, on their own thread (clients refused):
 * every worker empties every database; returns once all have. */
void rdb_load_empty_all(void);
/* While on, a live load (rdb_load_live_file) is a reload: its failure is
 * answered rather than ending the node, and the start's hooks
 * (rdb_load_set_interrupt, rdb_load_set_ready) are not called. */
void rdb_load_set_reloading(bool on);

/* The loading figures (any thread; relaxed reads). */
typedef struct rdb_loading_info {
    int loading;                  /* a file or a full sync is being loaded */
    int async;                    /* ... asynchronously: the old data is served meanwhile */
    long long start_time;         /* unix seconds */
    long long total_bytes;        /* 0 when unknown (a sync of unknown length) */
    long long loaded_bytes;
    long long rdb_used_mem;       /* the file's used-mem aux, once read */
} rdb_loading_info_t;
void rdb_loading_get(rdb_loading_info_t *out);

/* A replica's full sync (or DEBUG RELOAD) marks the time it decodes an RDB
 * of total_bytes (0: unknown), so that INFO shows loading:1 meanwhile, as
 * 7.0.15 does (and test harnesses that slow it with key-load-delay wait on).
 * Any thread. */
void rdb_loading_begin(long long total_bytes);
void rdb_loading_progress(long long loaded_bytes);
void rdb_loading_end(void);
/* A replica's full sync as 7.0.15's startLoading does it: `async` (swapdb
 * with our master's history, INFO async_loading:1) serves the old data and
 * refuses only the commands flagged no_async_loading; `refuse` makes
 * clients get -LOADING for every command not flagged loading (a load
 * 7.0.15 does in place of the old data). The end clears both. Any thread. */
void rdb_loading_begin_sync(long long total_bytes, bool async, bool refuse);
void rdb_loading_end_sync(void);

/* While set (an AOF loading at start), the end of a live load leaves
 * clients refused: the AOF's own end drops the refusal (rdb_loading_end_sync). */
void rdb_load_hold_refusal(bool hold);
/* An asynchronous load runs (commands flagged no_async_loading get -LOADING). */
bool rdb_loading_async(void);

/* The figures of the last completed load (INFO rdb_last_load_keys_*). */
void rdb_last_load_keys(long long *loaded, long long *expired);
void rdb_last_load_keys_set(long long loaded, long long expired);

#endif

/* rdb_save.h - persistence to dump.rdb: SAVE, BGSAVE, save points, the
 * save on shutdown, MISCONF, with the RDB codec of proto/rdb.h (loading is
 * rdb_load.h).
 *
 * A save is a cut of the replication actor (repl_request_save): every
 * worker parks and the stream offset is fixed. A BGSAVE then forks, as
 * redis-server does: the child writes the image the fork took, the workers
 * go on at once, and the parent renames the child's temp file into place.
 * SAVE and the saves from main (shutdown, DEBUG RELOAD) have each worker
 * encode its own keys into its part instead, and write the file on a
 * short-lived thread (SAVE's client waits for its reply meanwhile, as
 * Redis's SAVE blocks).
 *
 * Must never: touch a worker's keyspace from another thread, or leave a
 * half-written dump.rdb (temp file, fsync, rename, fsync of the directory).
 */
#ifndef SHOAL_ACTORS_RDB_SAVE_H
#define SHOAL_ACTORS_RDB_SAVE_H

#include <stdbool.h>
#include <sys/types.h>
#include <stdint.h>
#include "actors/persist/rdb_load.h"
#include "actors/worker/worker.h"

/* One worker's share of a save: RDB key records, no header, no EOF. */
typedef struct rdb_part {
    uint8_t *data;        /* owned */
    size_t len;
    uint64_t crc;         /* CRC-64 of data from 0 (for rdb_encoder_splice) */
    uint64_t keys, expires, skipped;
    bool failed;          /* out of memory while encoding */
} rdb_part_t;

/* Encodes every key of worker w (on its thread) as RDB key records into
 * *part (zeroed by the caller): database 0's, counted in part->keys and
 * expires, then each other database's after its SELECTDB. Keys already
 * expired at now_ms are left out. Also used by the replication actor's
 * full sync. */
struct worker;
void rdb_save_encode_worker(struct worker *w, long long now_ms, int compress, rdb_part_t *part);

/* SAVE and BGSAVE take their cut through the replication actor
 * (repl_request_save). From a thread that is not a worker (main: shutdown,
 * DEBUG RELOAD's caller waits elsewhere): takes a cut, writes the file and
 * returns 0, or -1 after logging why. Blocks the caller until done. */
int rdb_save_sync(void);
/* FLUSHALL while save points are set (client's worker, rc its deferred
 * reply): stops a BGSAVE, empties every keyspace and saves dump.rdb in one
 * cut, then answers +OK, as 7.0.15. */
struct remote_cmd;
void rdb_flushall_save(struct remote_cmd *rc);
/* A BGSAVE is under way (any thread). */
bool rdb_bgsave_running(void);
/* Shutdown: the running BGSAVE stops before it writes more and removes its
 * temp file (7.0.15 kills its child); no-op when none runs. */
void rdb_bgsave_cancel(void);

/* Save points and stop-writes-on-bgsave-error. rdb_save_init once at
 * startup (follows CONFIG SET); rdb_save_cron from main starts a BGSAVE
 * when a save point is reached (or a BGSAVE SCHEDULE waits) and returns the
 * ms until it wants to look again (1..1000: 100 while a save point is one
 * change away from due or a child runs, longer while only time can make one
 * due, 1000 with nothing dirty). */
void rdb_save_init(void);
long long rdb_save_cron(void);
/* `save` lists at least one point (any thread). */
bool rdb_save_points_set(void);
/* Writes are refused with MISCONF (any thread, one relaxed load). */
bool rdb_writes_denied(void);
#define RDB_MISCONF_ERROR                                                                                           \
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands "   \
    "that may modify the data set are disabled, because this instance is configured to report errors during "     \
    "writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for "       \
    "details about the RDB error."

/* BGREWRITEAOF by fork (replication thread, at the cut, every worker
 * parked): a child writes every worker's keys as an AOF base (an RDB with
 * the aof-base aux field, `functions` first) to tmp in dirfd, fsyncs it and
 * exits 0 (1 on failure, the file removed). Its pid, or -1 when fork failed.
 * rdb_save_wait_child waits for it: 0 when the file is whole. */
pid_t rdb_save_fork_aof_base(int dirfd, const char *tmp, const char *dir, int compress, bool checksum,
                             const uint8_t *functions, size_t functions_len);
int rdb_save_wait_child(pid_t pid);
/* How many children forked for a BGSAVE or a rewrite are alive (not yet
 * reaped); any thread, a relaxed figure. */
int rdb_fork_children(void);
/* A worker before its loop sleeps: while such a child runs (0.3-2 s for
 * 1,000,000 keys) it keeps a core busy, and on the 2-core machine a worker
 * woken by a client waited behind it and the other busy threads for default
 * slices (a probe's SET took 10-25 ms now and then during a rewrite, 1-7 ms
 * in as long a window after: bench/aof_pause.py). The worker runs short
 * slices meanwhile (runtime/slice.h): woken, it preempts a thread on a
 * default slice; its share of the CPU is the same. `on` is the caller's
 * state (its slices now), one system call when it changes. */
void rdb_fork_child_slices(bool *on);
/* A fork for a BGSAVE or a rewrite took usec (any thread): INFO stats'
 * latest_fork_usec and total_forks (CONFIG RESETSTAT zeroes them, as
 * 7.0.15) and the latency monitor's fork event. */
void rdb_fork_note(long long usec);
void rdb_fork_stats(long long *latest_usec, long long *total);
void rdb_fork_stats_reset(void);

/* The changes made so far no longer count as unsaved (INFO
 * rdb_changes_since_last_save 0, the save points' count starts again), as
 * 7.0.15 resets its dirty counter after DEBUG LOADAOF. Any thread. */
void rdb_save_forget_changes(void);

/* INFO persistence figures (any thread). */
typedef struct rdb_persist_info {
    long long changes_since_last_save;   /* keyspace changes since the last successful save started */
    int bgsave_in_progress;
    long long last_save_time;            /* unix seconds (g_lastsave) */
    bool last_bgsave_ok;
    long long last_bgsave_time_sec;      /* -1 before the first */
    long long current_bgsave_time_sec;   /* -1 when none runs */
    long long saves;                     /* SAVE and BGSAVE attempts since start (7.0.15's rdb_saves) */
    long long last_load_keys_loaded;
    long long last_load_keys_expired;
    int loading;                         /* an RDB is being loaded (a replica's sync) */
    int loading_async;                   /* ... asynchronously (INFO async_loading) */
} rdb_persist_info_t;
void rdb_persist_info(rdb_persist_info_t *out);

/* A replica's full sync marks the time it decodes the master's RDB, so that
 * INFO shows loading:1 meanwhile, as 7.0.15 does (and test harnesses that
 * slow it with key-load-delay wait on). Any thread. */
void rdb_loading_set(bool on);

#endif

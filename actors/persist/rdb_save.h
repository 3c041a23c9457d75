/* rdb_save.h - persistence to dump.rdb: SAVE, BGSAVE, and loading the file
 * at startup, with the RDB codec of proto/rdb.h.
 *
 * A save asks every worker for its part through one fan-out message each
 * (fanout.c routes the part and its completion here); each worker encodes
 * its own keys when it handles the message, the client's worker gathers the
 * parts and the file is written (SAVE: on that worker, blocking it as Redis's
 * SAVE blocks; BGSAVE: on a short-lived thread of its own).
 *
 * Loading decodes the file on the main thread into one staged keyspace per
 * worker before the workers exist, then hands each worker its keyspace.
 *
 * Must never: touch a worker's keyspace from another thread (staged
 * keyspaces belong to main until the owning worker adopts them), or leave a
 * half-written dump.rdb (temp file, fsync, rename, fsync of the directory).
 */
#ifndef SHOAL_ACTORS_RDB_SAVE_H
#define SHOAL_ACTORS_RDB_SAVE_H

#include <stdbool.h>
#include <stdint.h>
#include "actors/worker/worker.h"

/* One worker's share of a save: RDB key records, no header, no EOF. */
typedef struct rdb_part {
    uint8_t *data;        /* owned */
    size_t len;
    uint64_t crc;         /* CRC-64 of data from 0 (for rdb_encoder_splice) */
    uint64_t keys, expires, skipped;
    bool failed;          /* out of memory while encoding */
} rdb_part_t;

/* Encodes every string key of ks (a worker's own, on its thread) as RDB key
 * records into *part (zeroed by the caller). Keys already expired at now_ms
 * are left out. Also used by the replication actor's full sync. */
struct keyspace;
void rdb_save_encode_part(struct keyspace *ks, long long now_ms, int compress, rdb_part_t *part);

/* Worker side of the fan-out kind "rdb" (fanout.c calls these). */
/* On every worker: encode this worker's keys (save) or adopt the staged
 * keyspace (load). rc->blob carries the job. */
void rdb_save_part(worker_t *w, remote_cmd_t *rc);
/* On the origin worker: one part came back. Frees rc. */
void rdb_save_part_done(worker_t *w, remote_cmd_t *rc);

/* Startup, main thread, before workers_start: if <dir>/<dbfilename> exists,
 * decodes it into staged keyspaces for `nworkers` workers (the count
 * workers_start will use). Returns 0 (no file, or loaded), or -1 after
 * logging "Fatal error loading the DB ..." (the caller exits). */
int rdb_load_startup(int nworkers);
/* The same for the RDB at `path` (relative to dir): an AOF base file. */
int rdb_load_startup_file(const char *path, int nworkers);
/* Startup, main thread, right after workers_start: gives each worker its
 * staged keyspace through a message and waits until all adopted it.
 * A no-op when nothing was loaded. Returns 0, or -1 if g_nworkers differs
 * from the count given to rdb_load_startup. */
int rdb_load_handover(void);

/* INFO persistence figures (any thread). */
typedef struct rdb_persist_info {
    long long changes_since_last_save;   /* keyspace changes since the last successful save started */
    int bgsave_in_progress;
    long long last_save_time;            /* unix seconds (g_lastsave) */
    bool last_bgsave_ok;
    long long last_bgsave_time_sec;      /* -1 before the first */
    long long current_bgsave_time_sec;   /* -1 when none runs */
    long long saves;                     /* successful SAVE + BGSAVE since start */
    long long last_load_keys_loaded;
    long long last_load_keys_expired;
    int loading;                         /* an RDB is being loaded (a replica's sync) */
} rdb_persist_info_t;
void rdb_persist_info(rdb_persist_info_t *out);

/* A replica's full sync marks the time it decodes the master's RDB, so that
 * INFO shows loading:1 meanwhile, as 7.0.15 does (and test harnesses that
 * slow it with key-load-delay wait on). Any thread. */
void rdb_loading_set(bool on);

#endif

/* aof.h - the append-only file in 7.0's multi-part layout: a directory
 * (appenddirname) holding a manifest, one base file (an RDB, or AOF commands
 * without aof-use-rdb-preamble) and incremental files of commands.
 *
 * Actors and who owns what:
 *   - the AOF actor (aof.c, thread "aof") owns the manifest, the open incr
 *     file and everything written to it. Its only input is the replication
 *     actor, which forwards each worker handover (repl_prop.c) in the order
 *     it files them in the replication stream: the AOF and the replicas can
 *     never disagree about order. Each round of its loop it writes what came
 *     (one write(2)), with appendfsync always also fsyncs it (group commit:
 *     one fsync for every handover of the round, whatever worker sent it),
 *     then publishes, per worker, the last handover that is written
 *     (appendfsync no/everysec) or synced (always).
 *   - a worker that hands over writes while the AOF is on waits, before any
 *     reply to them can leave, until its handover is published
 *     (aof_wait_handover): write(2) before the reply, or fsync before it.
 *   - everysec's fsync runs on a background thread once a second, as
 *     redis-server's bio does.
 *
 * Must never: let a reply leave before its write's bytes were written (or
 * synced with always); write a byte out of the replication stream's order;
 * leave a manifest that names a file which is not whole.
 */
#ifndef SHOAL_ACTORS_AOF_H
#define SHOAL_ACTORS_AOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* appendfsync values, as the config table numbers them. */
enum { AOF_FSYNC_NO = 0, AOF_FSYNC_EVERYSEC = 1, AOF_FSYNC_ALWAYS = 2 };

/* ---- startup, main thread ---- */
/* With appendonly yes: reads the manifest, checks every file it names and
 * decodes an RDB base file into the workers' staged keyspaces (as
 * rdb_load_startup does). Returns 1 when the AOF is the source of data (the
 * caller loads no dump.rdb), 0 when appendonly is off, -1 after logging why
 * the start must stop. */
int aof_load_startup(int nworkers);
/* True when aof_load_startup left commands (a base in AOF format, incr
 * files) to replay once the workers run: the listeners must wait. */
bool aof_replay_pending(void);
/* After workers_start: replays those commands through the workers (as a
 * replica applies its master's stream) and waits until all are applied.
 * Returns 0, or -1 after logging the file and offset of the damage. */
int aof_replay(void);
/* Opens (or creates) the incr file, writes the first base when there is
 * none, persists the manifest and starts the AOF actor. With appendonly no
 * only the actor starts (CONFIG SET appendonly yes can turn it on). */
int aof_start(void);

/* ---- workers ---- */
/* True while handovers must wait for the AOF (relaxed read). */
bool aof_wait_wanted(void);
/* Blocks the calling worker until handover `seq` of `worker` is written
 * (or synced with appendfsync always), or the AOF was turned off. */
void aof_wait_handover(int worker, uint64_t seq);
/* A write command must be refused with this MISCONF text (NULL: no). */
const char *aof_write_refusal(void);

/* ---- the replication actor ---- */
/* One handover, in stream order: takes `data` (malloc'd). worker < 0 for
 * bytes that are no worker's (FLUSHALL of a cut). */
void aof_feed(uint8_t *data, size_t len, int worker, uint64_t seq);
/* A cut for BGREWRITEAOF reached its barrier: every byte before it was fed;
 * the AOF actor starts a new incr file here (aof_rewrite.c). */
void aof_cut_reached(void);
/* The cut's parts are encoded: the new base's bytes are data[0..n) in
 * order (n == 0: encoding failed); release(owners[i]) once written. */
void aof_rewrite_base_ready(int n, const uint8_t *const *data, const size_t *lens, void *const *owners,
                            void (*release)(void *));

/* ---- commands ---- */
/* BGREWRITEAOF's reply: "+Background append only file rewriting started",
 * "...scheduled", or the error, as 7.0.15 (NUL-terminated into buf). */
void aof_bgrewrite_request(char *reply, size_t cap);

/* ---- commands and INFO ---- */
typedef struct aof_status {
    int enabled;
    int rewrite_in_progress, rewrite_scheduled;
    long long last_rewrite_time_sec, current_rewrite_time_sec;
    bool last_bgrewrite_ok, last_write_ok;
    long long rewrites, rewrites_consecutive_failures;
    long long current_size, base_size;
    int pending_rewrite;
    long long buffer_length, pending_bio_fsync, delayed_fsync;
} aof_status_t;
void aof_status_get(aof_status_t *out);

#endif

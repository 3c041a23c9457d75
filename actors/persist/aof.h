/* aof.h - the append-only file in 7.0's multi-part layout: a directory
 * (appenddirname) holding a manifest, one base file (an RDB, or AOF commands
 * without aof-use-rdb-preamble) and incremental files of commands.
 *
 * Actors and who owns what:
 *   - the writer (aof.c, under one mutex): a worker handing its writes to
 *     the replication actor (repl_flush) appends them to the incr file and
 *     pushes them into the replication actor's feed queue (repl_feed_pass)
 *     in one critical section, so the AOF and the replicas can never
 *     disagree about order;
 *     write(2) is done before any reply to them can leave, and with
 *     appendfsync always an fdatasync covering them (group commit: one
 *     fsync covers whatever every worker wrote before it started).
 *   - the AOF actor (aof.c, thread "aof") owns the files' life: start,
 *     rotation at a rewrite's cut, CONFIG SET appendonly, the retry after a
 *     failed write, INFO's figures; BGREWRITEAOF (aof_rewrite.c) runs as a
 *     cut of the replication actor.
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
#include "runtime/actor.h"

/* appendfsync values, as the config table numbers them. */
enum { AOF_FSYNC_NO = 0, AOF_FSYNC_EVERYSEC = 1, AOF_FSYNC_ALWAYS = 2 };

/* ---- startup, main thread ---- */
/* With appendonly yes: reads the manifest and checks every file it names;
 * what is to load (an RDB base, commands) is loaded by aof_replay once the
 * workers run. Returns 1 when the AOF is the source of data (the caller
 * loads no dump.rdb), 0 when appendonly is off, -1 after logging why the
 * start must stop. */
int aof_load_startup(int nworkers);
/* True when aof_load_startup left an RDB base or commands (a base in AOF
 * format, incr files) to load once the workers run: the listeners must wait. */
bool aof_replay_pending(void);
/* After workers_start: loads the RDB base through the workers (main parses,
 * each worker builds its keys, as dump.rdb at start), then replays the
 * commands through them (as a replica applies its master's stream) and
 * waits until all are applied. Returns 0, or -1 after logging the file and
 * offset of the damage. */
int aof_replay(void);

/* Around aof_replay at start: from aof_replay_begin (before the listeners
 * are watched) clients get -LOADING and INFO loading:1 with the AOF's
 * loading_* figures, until aof_replay_end (after the Ready line), as
 * 7.0.15 answers while it loads an AOF. */
void aof_replay_begin(void);
void aof_replay_end(void);
/* Opens (or creates) the incr file, writes the first base when there is
 * none, persists the manifest and starts the AOF actor. With appendonly no
 * only the actor starts (CONFIG SET appendonly yes can turn it on). */
int aof_start(void);

/* ---- workers and the replication actor ---- */
/* True while handovers go through aof_handover's writer (relaxed read). */
bool aof_wait_wanted(void);
/* A worker's handover: its bytes are appended to the AOF and `msg` is
 * passed to the replication actor (repl_feed_pass, `to` unused) in one
 * critical section, so the AOF's order is the stream's; returns after
 * write(2) (inside aof_defer_writes: after the append only). With
 * appendfsync always the replies wait at the reply gate below. Without the
 * AOF: just the send to `to`. msg NULL: the AOF only (no backlog yet). */
/* The AOF's bytes may be fewer than the stream's (msg_len, what msg
 * carries): a standalone PUBLISH goes to the replicas only. */
void aof_handover(const uint8_t *data, size_t len, int start_db, int end_db, rt_actor_t *to, rt_msg_t *msg,
                  size_t msg_len);

/* A worker running a write on another worker's keyspace (borrowing it,
 * one command at a time) hands each over at once, for the stream's order;
 * between aof_defer_writes(true) and (false) its AOF bytes are only
 * appended in memory, in that order, and aof_write_deferred (before the
 * thread's replies leave, once a loop round) writes them with one
 * write(2). Own thread's scope only. */
void aof_defer_writes(bool on);
void aof_write_deferred(void);

/* ---- the reply gate of appendfsync always (group commit) ----
 * A reply produced before aof_reply_mark() returned M may leave once
 * aof_reply_synced(M): every AOF byte written before it (by any thread
 * whose message led to the reply) is then fsync'ed. 0: nothing to wait for
 * (no AOF, another policy, no-appendfsync-on-rewrite during a rewrite, or
 * all synced). The syncer thread (aof_gcommit.c) runs the fsyncs one after
 * another and calls the waiter's wake(arg) (on its thread) once its mark
 * is reached. */
uint64_t aof_reply_mark(void);
bool aof_reply_synced(uint64_t mark);
/* AOF bytes written before `mark` that no fsync has covered yet. */
uint64_t aof_reply_unsynced(uint64_t mark);
/* True while replies must pass the gate (AOF on, appendfsync always). */
bool aof_reply_hold_on(void);
/* Registers a waiter (a worker, once at start); its id, or -1 when full
 * (aof_reply_wait then blocks until synced). */
int aof_reply_waiter(void (*wake)(void *arg), void *arg);
/* Asks for fsyncs covering `newest`; wake(arg) follows once one covers
 * `oldest` (the oldest mark the waiter holds replies for; 0: no wake-up),
 * so replies an fsync covered leave while the next one runs. The waiter
 * asks again for what it still holds after each wake-up. */
void aof_reply_wait(int waiter, uint64_t oldest, uint64_t newest);
/* A worker whose round's replies wait for `mark`, before it writes them:
 * when no fsync runs and none should wait for more writers (aof_gcommit.c),
 * it runs the fdatasync itself, as 7.0.15 does before its loop sleeps, and
 * true comes back with `mark` synced (and the waiter's earlier requests
 * covered are dropped). False: nothing was done (ask with aof_reply_wait). */
bool aof_reply_sync_inline(int waiter, uint64_t mark);
/* INFO threads (not in Redis): the fdatasyncs of group commit and their
 * total time, the syncer's waits for more writers before one
 * (aof_gcommit.c), of which `filled` ended because they came, and the
 * fsyncs workers ran themselves (aof_reply_sync_inline). */
void aof_gc_counts(unsigned long long *fsyncs, unsigned long long *fsync_us, unsigned long long *waits,
                   unsigned long long *filled, unsigned long long *inline_fsyncs);
/* Blocks until everything written so far is fsync'ed (a reply that cannot
 * be held, e.g. written on a lent socket after the policy changed). */
void aof_reply_sync_now(void);
/* Bytes of the stream that are no worker's, appended by the replication
 * thread: FLUSHALL of a cut (every worker parked), and on a replica the
 * commands of its master's stream it applies, in the stream's order. */
/* start_db/end_db: the database the bytes start in (a SELECT of it goes
 * first when the file is in another) and end in (their own SELECTs). */
void aof_append_stream(const void *data, size_t len, int start_db, int end_db);
/* A write command must be refused with this MISCONF text (NULL: no). */
const char *aof_write_refusal(void);
/* SHUTDOWN / SIGTERM: with the AOF on, what is still buffered is written
 * and the file fsync'ed, as 7.0.15's finishShutdown. Any thread. */
void aof_shutdown_sync(void);
/* Writes what is appended and not written yet (deferred bytes, a failed
 * write's retry), without an fsync: a reader of the files sees every write
 * acknowledged so far. Any thread. */
void aof_write_pending(void);
/* DEBUG LOADAOF (worker, via its deferred reply rc): on a thread of its
 * own, writes what is pending, empties every database and the functions,
 * and loads the AOF named by the manifest on disk as at start; answers +OK
 * (aof_reload.c). */
struct remote_cmd;
void aof_debug_loadaof(struct remote_cmd *rc);
/* A replica loaded its master's RDB: with appendonly yes the AOF starts
 * again from a rewrite of the new data, as 7.0.15's restartAOFAfterSYNC
 * (the manifest keeps the old files until the new base exists). Any thread. */
void aof_restart_after_sync(void);
/* A cut for BGREWRITEAOF reached its barrier (replication thread, every
 * worker parked): the incr file rotates here (aof_rewrite.c). */
void aof_cut_reached(void);
/* Right after aof_cut_reached, still at the barrier: a child process
 * forked here writes the parked workers' keys as an RDB, so that the
 * workers go on at once (the pause is the fork's, as redis-server's); it is
 * the new base, or without the RDB preamble a thread of the AOF actor turns
 * it into commands. True: the child writes it (the workers encode nothing);
 * false: fork failed, and the workers encode their parts
 * (aof_rewrite_base_ready). */
bool aof_rewrite_fork_at_cut(const uint8_t *functions, size_t functions_len, int compress);
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
/* Bytes of the AOF waiting to be written (after a failed write): what
 * 7.0.15 shows as mem_aof_buffer and leaves out of maxmemory. Any thread. */
long long aof_buffer_bytes(void);
void aof_status_get(aof_status_t *out);

#endif

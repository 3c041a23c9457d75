/* aof_internal.h - what the AOF's own files share and nobody else uses:
 *   aof_manifest.c  the manifest: parse, format, names, persist
 *   aof_load.c      loading at start (base RDB staged, commands replayed)
 *   aof_reload.c    DEBUG LOADAOF: the same load into the running node
 *   aof.c           the AOF actor: writing, fsync policies, status
 *   aof_rewrite.c   BGREWRITEAOF: new base from the workers' cut
 *   aof_bio.c       everysec's background fsync thread
 *   aof_gcommit.c   appendfsync always: the reply syncer (group commit)
 */
#ifndef SHOAL_ACTORS_AOF_INTERNAL_H
#define SHOAL_ACTORS_AOF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/persist/aof.h"

/* One line of the manifest. */
typedef struct aof_file {
    char name[256];
    long long seq;
    char type;                    /* 'b' base, 'h' history, 'i' incr */
} aof_file_t;

#define AOF_MAX_FILES 256

typedef struct aof_manifest {
    bool has_base;
    aof_file_t base;
    int nhist, nincr;
    aof_file_t hist[AOF_MAX_FILES];
    aof_file_t incr[AOF_MAX_FILES];
    long long base_seq, incr_seq; /* the highest used so far */
} aof_manifest_t;

/* Parses the manifest's text. Returns 0, or -1 with `err` (7.0.15's words)
 * and *line (0: not tied to a line). */
int aof_manifest_parse(const char *text, size_t len, aof_manifest_t *m, char *err, size_t errcap, int *line);
/* The manifest's text (malloc'd, NUL terminated): base, history, incr. */
char *aof_manifest_format(const aof_manifest_t *m, size_t *len);
/* Reads <dir>/<appendfilename>.manifest: 1 read, 0 no directory or no
 * manifest, -1 after logging why the start must stop. */
int aof_manifest_read(const char *dirname, const char *filename, aof_manifest_t *m);
/* Writes the manifest atomically (temp file, fsync, rename, fsync of the
 * directory). Returns 0 or an errno value. */
int aof_manifest_persist(const char *dirname, const char *filename, const aof_manifest_t *m);
/* A new base named <filename>.<seq>.base.rdb|aof; the old base becomes history. */
const char *aof_manifest_new_base(aof_manifest_t *m, const char *filename, bool rdb);
/* A new incr file <filename>.<seq>.incr.aof, appended to the incr list. */
const char *aof_manifest_new_incr(aof_manifest_t *m, const char *filename);
/* After a rewrite whose cut opened incr file `first_kept`: every incr file
 * before it becomes history. */
void aof_manifest_retire_incr_before(aof_manifest_t *m, long long first_kept);
/* Removes the history files from the directory and the manifest (unless
 * aof-disable-auto-gc). */
void aof_manifest_drop_history(aof_manifest_t *m, const char *dirname);

/* appendfilename, appenddirname, appendfsync, ... as now. */
void aof_conf_names(char *filename, size_t fcap, char *dirname, size_t dcap);
bool aof_conf_bool(const char *name);
long long aof_conf_num(const char *name);

/* aof_bio.c: everysec's background fsync. Submits an fsync of fd (closed
 * after it when close_after); jobs queued or running; starts the thread. */
void aof_bio_submit(int fd, bool close_after);
long long aof_bio_pending(void);
int aof_bio_start(void);

/* aof.c, for the reply syncer (aof_gcommit.c); *_locked: under the
 * writer's mutex (aof_lock). One step towards syncing what is written: an
 * fdatasync of everything written so far when none runs (true), else a
 * wait for the running one, or nothing when no fsync is owed (false). */
bool aof_sync_step_locked(void);
void aof_lock(void);
void aof_unlock(void);
/* Blocks until the group commit offset `end` is synced (takes the mutex). */
void aof_sync_to(uint64_t end);
uint64_t aof_written_locked(void);   /* bytes written so far, over every file */
uint64_t aof_synced_locked(void);    /* of which an fsync covered */
bool aof_syncing_locked(void);       /* an fdatasync runs (its caller left the mutex) */
#include <pthread.h>
#include <time.h>
/* Waits on cv with the writer's mutex (timed: until, CLOCK_MONOTONIC). */
void aof_cond_wait_locked(pthread_cond_t *cv);
void aof_cond_timedwait_locked(pthread_cond_t *cv, const struct timespec *until);

/* aof_gcommit.c: the syncer thread (started once by aof_start) and what
 * wakes it (the synced mark moved). */
int aof_gc_start(void);
void aof_gc_kick_locked(void);
/* When the syncer starts its next fsync (no I/O: see aof_gcommit.c). */
#define AOF_GC_MAX_WAIT_US 10000
#define AOF_GC_CREDIT_MAX 8
#define AOF_GC_PROBE 8
typedef struct aof_gc {
    uint64_t expect;              /* bytes the last fsync covered plus those written while it ran */
    long long avg_us;             /* fsync duration, moving average (1/8) */
    long long until_us;           /* the wait for more writers ends here */
    int credit;                   /* waits that filled up (+1) against those that ran out (-2) */
    unsigned skipped;             /* chances to wait passed up while credit < 0 */
    bool waiting;                 /* a wait is under way */
    unsigned long long waits, filled;   /* figures: waits begun, and of those ended by `expect` */
} aof_gc_t;
/* An fsync that started at start_us (with synced_before bytes synced)
 * ended at end_us, when written_now bytes were written. */
void aof_gc_fsynced(aof_gc_t *g, uint64_t synced_before, uint64_t written_now, long long start_us,
                    long long end_us);
/* Microseconds to wait before the next fsync with `pending` unsynced bytes
 * at now_us (0: start it now). */
long long aof_gc_wait_us(aof_gc_t *g, uint64_t pending, long long now_us);

/* aof_rewrite.c, for DEBUG LOADAOF (aof_reload.c), which reads the files
 * a rewrite replaces and empties the data a rewrite's cut would encode:
 * on, no rewrite starts (a BGREWRITEAOF is scheduled, the cron's attempts
 * wait) and the call returns once one under way has ended; off, a
 * scheduled one may start. Not on the AOF actor's thread (it waits for it). */
void aof_rewrite_hold(bool on);

/* aof_load.c, for DEBUG LOADAOF (aof_reload.c): what aof_replay will load
 * is what manifest m names (files in dirname). 1: something to load, 0:
 * nothing (no file, or all empty), -1 after logging a missing file. */
int aof_reload_plan(const aof_manifest_t *m, const char *dirname);

/* aof_load.c: the manifest read at start, handed to aof.c. */
extern aof_manifest_t g_aof_loaded;
extern bool g_aof_loaded_ok;

/* aof_rewrite.c <-> aof.c */
#include "runtime/actor.h"
/* The AOF actor's messages beyond its own: aof_rewrite.c's. */
enum { AOF_MSG_REWRITE_START = 10, AOF_MSG_PARTS, AOF_MSG_WRITTEN, AOF_MSG_CHILD };
void aof_rewrite_on_msg(rt_msg_t *msg);
void aof_rewrite_on_config(bool want_on);
void aof_rewrite_cron(void);
/* The cron has rewrite work: one runs, is scheduled, is retried, or a
 * growth check waits for a BGSAVE (AOF thread). */
bool aof_rewrite_pending(void);
/* Any thread: the AOF thread looks at whether its cron has work again. */
void aof_actor_kick(void);
bool aof_rewrite_try_start(void);   /* any thread: true when this call started one */
void aof_rewrite_set_base_size(long long size);   /* AOF thread (or before it starts) */
long long aof_rewrite_base_size(void);            /* INFO's aof_base_size */
/* The AOF actor, on its thread: */
rt_actor_t *aof_actor(void);
bool aof_actor_is_on(void);
void aof_actor_manifest_copy(aof_manifest_t *out);
void aof_actor_set_manifest(const aof_manifest_t *m);
const char *aof_actor_dirname(void);
const char *aof_actor_filename(void);
long long aof_actor_current_size(void);
/* What the next cut does (aof_cut_reached): 1 a new incr file (created and
 * named in the manifest now, before the cut: the cut only moves to it), 2
 * the temp incr file of appendonly turning on (temp-<appendfilename>.incr,
 * which becomes incr file `name` once the base is there, or is dropped).
 * Returns 0 or an errno (the new incr file or the manifest failed). */
int aof_actor_prepare_cut(int mode);
void aof_actor_cut_result(long long *kept_seq, bool *temp_opened);
int aof_actor_adopt_temp_incr(const char *name);
void aof_actor_switch_off(bool drop_temp);
void aof_actor_begin_waiting(void);
/* INFO's rewrite figures: result 1 done, -1 failed, 0 still running */
void aof_status_note_rewrite(int in_progress, int scheduled, long long started_ms, int result);
/* A rewrite got its incr file and goes on to its base: INFO aof_rewrites
 * counts it from now on, whatever its end (7.0.15 counts it before its
 * fork: a failed or running rewrite counts too). */
void aof_status_note_rewrite_started(void);
void aof_status_note_scheduled(int scheduled);
/* An empty base file <dirname>/<name>: an RDB without keys (the aof-base
 * aux field set), or an empty AOF; 0 or errno. */
int aof_write_empty_base(const char *dirname, const char *name, bool rdb);
/* Writes `len` bytes at path (temp, fsync, rename); 0 or errno. */
int aof_write_whole_file(const char *dirname, const char *name, const uint8_t *const *parts, const size_t *lens,
                         int nparts);

#endif

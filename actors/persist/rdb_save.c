/* rdb_save.c - SAVE, BGSAVE, the save points, saves from main (shutdown,
 * DEBUG RELOAD), stop-writes-on-bgsave-error and the INFO persistence
 * figures (see rdb_save.h for the flow).
 *
 * Why a save is a consistent dump: it is taken by the replication actor's
 * stop-the-world cut (repl_request_save): every worker hands over its
 * buffered writes and parks; with all of them parked, the stream offset and
 * the dirty counters are fixed; then each worker, released, encodes its own
 * keys before it runs anything else. So the parts together are the dataset
 * at one point of the stream, and the file can name that point (aux
 * repl-id / repl-offset) for a partial resync after a restart. Writes the
 * client sent before SAVE/BGSAVE reached their workers' mailboxes before the
 * cut's messages did (the batch is flushed first, and each mailbox is one
 * FIFO), so the dump contains all of them.
 *
 * Must never: touch another worker's keyspace (parts are encoded by their
 * owners), replace dump.rdb with anything but a complete, fsynced file, or
 * let an older save's file replace a newer one's (saves commit in the order
 * they were started).
 */
#include "actors/persist/rdb_save.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/persist/aof.h"
#include "actors/persist/rdb_load.h"
#include "actors/types/types.h"
#include "actors/worker/wdb.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/latency.h"
#include "proto/rdb.h"
#include "proto/slot.h"
#include "runtime/log.h"
#include "runtime/tmpfile.h"
#include "runtime/slice.h"
#include "runtime/xmalloc.h"

enum { JOB_SAVE = 1, JOB_BGSAVE, JOB_SYNC };

typedef struct rdb_job {
    repl_save_cut_t cut;          /* first: the cut hands this pointer back */
    int kind;
    remote_cmd_t *rc;             /* JOB_SAVE: the client's deferred reply */
    long long started_ms;
    uint64_t seq;                 /* order of the starts: a commit never goes back */
    /* JOB_SYNC: the caller waits for `result` */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool finished;
    int result;
    /* BGSAVE by fork (fork_at_cut): what the child needs, read before the
     * fork (it must take no lock another thread may have held), and the
     * child's pid */
    bool by_fork;
    pid_t child;
    int dirfd;
    bool checksum;
    char fname[1024], dir[1024], tmp[1100];
    rdb_part_t parts[MAX_WORKERS];
} rdb_job_t;

/* Relaxed atomics throughout: independent status figures read by INFO,
 * LASTSAVE and the cron; nothing else is published through them. The
 * single background-save slot is claimed with a compare-exchange, which only
 * has to be atomic. */
static _Atomic int bgsave_in_progress;
static _Atomic int bgsave_scheduled;
static _Atomic int bgsave_cancel;          /* shutdown: the running BGSAVE gives up */
static _Atomic long long bgsave_started_ms;
static _Atomic int last_bgsave_ok = 1;
static _Atomic long long last_bgsave_try;  /* unix seconds, 0: never */
static _Atomic long long last_bgsave_time_sec = -1;
static _Atomic long long saves_done;       /* SAVE and BGSAVE attempts, as 7.0.15's rdb_saves */
static _Atomic long long dirty_at_last_save;
static _Atomic unsigned long long next_seq;
static _Atomic int deny_writes;            /* MISCONF: see rdb_writes_denied */
static _Atomic int running_child;          /* the BGSAVE's child, for the shutdown to kill (0: none) */
static _Atomic long long fork_usec_last, forks_total;   /* INFO stats latest_fork_usec, total_forks */
/* children forked and not yet reaped (rdb_fork_children); relaxed: the
 * workers read it as a hint for their slices (worker.c) */
static _Atomic int fork_children;

/* Commits are serialized and ordered by seq. */
static pthread_mutex_t commit_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t committed_seq;

static bool config_yes(const char *name, bool dflt)
{
    char buf[16];
    if (config_get_by_name(name, buf, sizeof buf) < 0) return dflt;
    return !strcasecmp(buf, "yes");
}

static long long dirty_now(void)
{
    return workers_sum(WSTAT_DIRTY);
}

static rdb_job_t *job_new(int kind)
{
    rdb_job_t *job = xcalloc(1, sizeof *job);
    job->kind = kind;
    job->cut.parts = job->parts;
    job->cut.compress = config_yes("rdbcompression", true);
    job->started_ms = rt_now_ms();
    /* relaxed: only the numbers' order matters, and each start takes one */
    job->seq = atomic_fetch_add_explicit(&next_seq, 1, memory_order_relaxed) + 1;
    pthread_mutex_init(&job->mu, NULL);
    pthread_cond_init(&job->cv, NULL);
    return job;
}

static void job_free(rdb_job_t *job)
{
    if (job->by_fork && job->dirfd >= 0) close(job->dirfd);
    for (int i = 0; i < MAX_WORKERS; i++) free(job->parts[i].data);
    free(job->cut.functions);
    pthread_mutex_destroy(&job->mu);
    pthread_cond_destroy(&job->cv);
    free(job);
}

/* ---------------- worker side ---------------- */

typedef struct encode_ctx {
    rdb_encoder_t enc;
    long long now_ms;
    rdb_part_t *part;
} encode_ctx_t;

static void encode_entry(void *arg, ks_entry_t *e, long long expire_ms)
{
    encode_ctx_t *x = arg;
    if (expire_ms != KS_NO_EXPIRE && expire_ms < x->now_ms) return;   /* already expired */
    int rc = types_rdb_save_entry(&x->enc, e, expire_ms);
    if (rc == RDB_ERR_TYPE) {               /* a type with no RDB form yet */
        x->part->skipped++;
        return;
    }
    if (rc) x->part->failed = true;
    x->part->keys++;
    if (expire_ms != KS_NO_EXPIRE) x->part->expires++;
}

void rdb_save_encode_worker(worker_t *w, long long now_ms, int compress, rdb_part_t *part)
{
    encode_ctx_t x = { .now_ms = now_ms, .part = part };
    rdb_encoder_init(&x.enc, compress);
    ks_foreach(wdb_get(w, 0), encode_entry, &x);
    /* The header's RESIZEDB counts database 0 (parts[].keys); the other
     * databases of this worker follow, each after its SELECTDB and a
     * RESIZEDB of this worker's share, and the part ends back in database
     * 0, where the next worker's part begins. A loader meets a database's
     * SELECTDB once per worker that has keys in it, which both 7.0.15 and
     * shoal take as going on in that database. */
    rdb_part_t rest = { 0 };
    x.part = &rest;
    bool moved = false;
    for (int d = 1; d < wdb_top(w); d++) {
        struct keyspace *ks = wdb_peek(w, d);
        if (!ks || ks_size(ks) == 0) continue;
        rdb_encode_selectdb(&x.enc, (uint64_t)d);
        rdb_encode_resizedb(&x.enc, ks_size(ks), ks_expires_count(ks));
        ks_foreach(ks, encode_entry, &x);
        moved = true;
    }
    if (moved) rdb_encode_selectdb(&x.enc, 0);
    part->skipped += rest.skipped;
    if (rest.failed || x.enc.failed) part->failed = true;
    part->crc = rdb_encoder_crc(&x.enc);
    part->len = x.enc.len;
    part->data = x.enc.buf;
    x.enc.buf = NULL;
    rdb_encoder_free(&x.enc);
}

/* ---------------- writing the file ---------------- */

static int flush_enc(int fd, rdb_encoder_t *e)
{
    if (e->failed) { errno = ENOMEM; return -1; }
    if (rt_write_all(fd, rdb_encoder_data(e), rdb_encoder_pending(e)) != 0) return -1;
    rdb_encoder_drain(e, rdb_encoder_pending(e));
    return 0;
}

static long long used_memory(void)
{
    return workers_sum(WSTAT_USED_BYTES);
}

/* The header, the aux fields, the libraries and SELECTDB/RESIZEDB unless
 * the database is empty (as Redis). */
static void encode_head_aux(rdb_encoder_t *e, const rdb_aux_info_t *aux, const uint8_t *functions, size_t flen,
                            uint64_t keys, uint64_t expires)
{
    rdb_encode_header(e);
    rdb_encode_aux_fields(e, aux);
    /* the libraries, taken at the cut (7.0.15 writes them before the keys) */
    if (flen) rdb_encode_raw(e, functions, flen);
    if (keys > 0) {
        rdb_encode_selectdb(e, 0);
        rdb_encode_resizedb(e, keys, expires);
    }
}

/* The dump's head: the replication history when the cut found one. */
static void encode_head(rdb_encoder_t *e, const rdb_job_t *job, uint64_t keys, uint64_t expires)
{
    rdb_aux_info_t aux = { .ctime = rt_now_ms() / 1000, .used_mem = used_memory() };
    if (job->cut.has_history) {
        aux.has_repl = 1;
        aux.repl_stream_db = 0;
        aux.repl_id = job->cut.replid;
        aux.repl_offset = job->cut.offset;
    }
    encode_head_aux(e, &aux, job->cut.functions, job->cut.functions_len, keys, expires);
}

/* EOF and the CRC-64, or a zero trailer ("not computed", as Redis writes it
 * under rdbchecksum no). */
static void encode_tail(rdb_encoder_t *e, bool checksum)
{
    if (checksum) {
        rdb_encode_eof(e);
    } else {
        static const uint8_t eof_nocrc[9] = { RDB_OPCODE_EOF };
        rdb_encode_raw(e, eof_nocrc, sizeof eof_nocrc);
    }
}

/* Header, aux fields, the parts and EOF into fd. 0, or -1 with errno (ECANCELED: a shutdown stopped
 * this BGSAVE). */
static int write_body(rdb_job_t *job, int fd)
{
    int nparts = workers_count();
    uint64_t keys = 0, expires = 0, skipped = 0;
    for (int i = 0; i < nparts; i++) {
        if (job->parts[i].failed) { errno = ENOMEM; return -1; }
        keys += job->parts[i].keys;
        expires += job->parts[i].expires;
        skipped += job->parts[i].skipped;
    }
    if (skipped) LOG_WARNING("%llu keys of types without an RDB encoding here were left out of the dump", (unsigned long long)skipped);
    rdb_encoder_t e;
    rdb_encoder_init(&e, job->cut.compress);
    encode_head(&e, job, keys, expires);
    int rc = flush_enc(fd, &e);
    for (int i = 0; rc == 0 && i < nparts; i++) {
        rdb_part_t *p = &job->parts[i];
        /* rdb-key-save-delay: the part is already encoded, so the per-key
         * delay is paid here, before its bytes go out. */
        for (uint64_t k = 0; k < p->keys && rc == 0; k++) {
            config_key_save_delay();
            /* relaxed: a request to stop early; the file is dropped either way */
            if (job->kind == JOB_BGSAVE && atomic_load_explicit(&bgsave_cancel, memory_order_relaxed)) {
                errno = ECANCELED;
                rc = -1;
            }
        }
        if (rc == 0 && rt_write_all(fd, p->data, p->len) != 0) rc = -1;
        else if (rc == 0) rdb_encoder_splice(&e, p->len, p->crc);
    }
    if (rc == 0) {
        encode_tail(&e, config_yes("rdbchecksum", true));
        rc = flush_enc(fd, &e);
    }
    int saved = errno;
    rdb_encoder_free(&e);
    errno = saved;
    return rc;
}

/* Writes the dump to a temp file, fsyncs it and renames it over
 * <dbfilename>. Returns 0, or -1 after logging why. */
static int write_dump(rdb_job_t *job)
{
    char fname[1024], dir[1024], tmp[1100];
    if (config_get_by_name("dbfilename", fname, sizeof fname) < 0) snprintf(fname, sizeof fname, "dump.rdb");
    config_dir(dir, sizeof dir);
    snprintf(tmp, sizeof tmp, "temp-%d-%llu.rdb", (int)getpid(), (unsigned long long)job->seq);
    /* One directory for the whole save, held as an fd: a CONFIG SET dir
     * meanwhile moves the next save, never half of this one. */
    int dirfd = config_dir_open();
    int fd = dirfd < 0 ? -1 : rt_tmpfile_create(dirfd, tmp, 0644);
    if (fd < 0) {
        LOG_WARNING("Failed opening the temp RDB file %s (in server root dir %s) for saving: %s", tmp, dir, strerror(errno));
        if (dirfd >= 0) close(dirfd);
        return -1;
    }
    if (write_body(job, fd) != 0) {
        if (errno == ECANCELED) LOG_WARNING("Background saving stopped: the server is shutting down");
        else LOG_WARNING("Write error saving DB on disk: %s", strerror(errno));
        close(fd);
        unlinkat(dirfd, tmp, 0);
        close(dirfd);
        return -1;
    }
    const char *op = NULL;
    pthread_mutex_lock(&commit_mu);
    int rc;
    int saved = 0;
    if (job->seq < committed_seq) {
        /* A save started later is already in place: this older image must
         * not replace it. Its own work is done all the same. */
        close(fd);
        unlinkat(dirfd, tmp, 0);
        rc = 0;
    } else {
        rc = rt_tmpfile_commit(dirfd, fd, tmp, fname, &op);
        saved = errno;
        if (rc == 0) committed_seq = job->seq;
    }
    pthread_mutex_unlock(&commit_mu);
    close(dirfd);
    if (rc != 0) {
        if (!strcmp(op, "rename"))
            LOG_WARNING("Error moving temp DB file %s on the final destination %s (in server root dir %s): %s", tmp,
                        fname, dir, strerror(saved));
        else
            LOG_WARNING("Write error saving DB on disk(%s): %s", op, strerror(saved));
        return -1;
    }
    LOG_NOTICE("DB saved on disk");
    atomic_store_explicit(&dirty_at_last_save, job->cut.dirty, memory_order_relaxed);
    atomic_store_explicit(&g_lastsave, rt_now_ms() / 1000, memory_order_relaxed);
    return 0;
}

/* ---------------- BGSAVE by fork ---------------- */

/* A child forked (at the cut, the workers parked) / reaped. While one lives
 * the workers run short slices (rdb_fork_child_slices) and their lookups
 * stamp no access clock (access.c): a stamp would copy the entry's page. */
static void child_begin(void)
{
    atomic_fetch_add_explicit(&fork_children, 1, memory_order_relaxed);
    ks_fork_child_begin();
}

static void child_end(void)
{
    ks_fork_child_end();
    atomic_fetch_sub_explicit(&fork_children, 1, memory_order_relaxed);
}

/* In the child: every worker's keys straight from the image the fork took
 * (the workers were all parked at the cut), streamed to the temp file. */
typedef struct child_ctx {
    rdb_encoder_t enc;
    long long now_ms;
    int fd;
    int failed;
    uint64_t keys;
} child_ctx_t;

static void child_entry(void *arg, ks_entry_t *e, long long expire_ms)
{
    child_ctx_t *x = arg;
    if (x->failed || (expire_ms != KS_NO_EXPIRE && expire_ms < x->now_ms)) return;
    config_key_save_delay();   /* a lock-free read of the number */
    int rc = types_rdb_save_entry(&x->enc, e, expire_ms);
    if (rc == RDB_ERR_TYPE) return;
    if (rc || (rdb_encoder_pending(&x->enc) >= 64 * 1024 && flush_enc(x->fd, &x->enc) != 0)) x->failed = 1;
    x->keys++;
}

/* The databases after 0 (standalone mode), each after its SELECTDB and a
 * RESIZEDB of every worker's keys in it, as a SAVE writes them
 * (rdb_save_encode_worker). A loader takes the keys to their slot's worker
 * wherever they are in the file. */
static void child_other_dbs(child_ctx_t *x)
{
    int top = 0;
    for (int i = 0; i < workers_count(); i++)
        if (wdb_top(worker_at(i)) > top) top = wdb_top(worker_at(i));
    for (int d = 1; d < top && !x->failed; d++) {
        uint64_t keys = 0, expires = 0;
        for (int i = 0; i < workers_count(); i++) {
            struct keyspace *ks = wdb_peek(worker_at(i), d);
            if (!ks) continue;
            keys += ks_size(ks);
            expires += ks_expires_count(ks);
        }
        if (keys == 0) continue;
        rdb_encode_selectdb(&x->enc, (uint64_t)d);
        rdb_encode_resizedb(&x->enc, keys, expires);
        for (int i = 0; i < workers_count() && !x->failed; i++) {
            struct keyspace *ks = wdb_peek(worker_at(i), d);
            if (ks) ks_foreach(ks, child_entry, x);
        }
    }
}

/* What a child writes: the file, and the head of the RDB. */
typedef struct child_spec {
    int dirfd;
    const char *tmp, *dir;
    int compress;
    bool checksum;
    const rdb_job_t *job;         /* a dump: its head (encode_head) */
    const uint8_t *functions;     /* else an AOF base: these libraries, the aof-base aux field */
    size_t functions_len;
} child_spec_t;

_Noreturn static void child_write(const child_spec_t *sp)
{
    /* die with the node: an orphan would only write a file nobody renames */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* the default slice: the forking thread runs short ones at the cut
     * (repl_cut.c), and with them this busy child would be the one that
     * preempts the workers when they wake */
    (void)rt_slice_set(0);
    int fd = rt_tmpfile_create(sp->dirfd, sp->tmp, 0644);
    if (fd < 0) {
        LOG_WARNING("Failed opening the temp RDB file %s (in server root dir %s) for saving: %s", sp->tmp, sp->dir,
                    strerror(errno));
        _exit(1);
    }
    child_ctx_t x = { .now_ms = rt_now_ms(), .fd = fd };
    rdb_encoder_init(&x.enc, sp->compress);
    uint64_t keys = 0, expires = 0;
    for (int i = 0; i < workers_count(); i++) {
        keys += ks_size(wdb_peek(worker_at(i), 0));
        expires += ks_expires_count(wdb_peek(worker_at(i), 0));
    }
    if (sp->job) {
        encode_head(&x.enc, sp->job, keys, expires);
    } else {
        rdb_aux_info_t aux = { .ctime = rt_now_ms() / 1000, .used_mem = used_memory(), .aof_base = 1 };
        encode_head_aux(&x.enc, &aux, sp->functions, sp->functions_len, keys, expires);
    }
    /* Slot by slot, which takes the workers' keys in turn (slot s is worker
     * s % n's): a loader that hands each key to its slot's worker keeps all
     * of them busy from the start, where a file of worker 0's keys, then
     * worker 1's, kept one worker building at a time (aof_bench's restart
     * on a rewritten base). Every worker's list of each slot is walked, so
     * no key is missed wherever it lives. */
    for (unsigned slot = 0; slot < SLOT_COUNT && !x.failed; slot++)
        for (int i = 0; i < workers_count() && !x.failed; i++)
            ks_entries_in_slot(wdb_peek(worker_at(i), 0), slot, child_entry, &x);
    child_other_dbs(&x);
    if (!x.failed) {
        encode_tail(&x.enc, sp->checksum);
        if (flush_enc(fd, &x.enc) != 0) x.failed = 1;
    }
    if (x.failed || fsync(fd) != 0 || close(fd) != 0) {
        LOG_WARNING("Write error saving DB on disk: %s", strerror(errno ? errno : ENOMEM));
        unlinkat(sp->dirfd, sp->tmp, 0);
        _exit(1);
    }
    if (sp->job) LOG_NOTICE("DB saved on disk");
    _exit(0);
}

_Noreturn static void child_save(rdb_job_t *job)
{
    child_spec_t sp = { .dirfd = job->dirfd, .tmp = job->tmp, .dir = job->dir, .compress = job->cut.compress,
                        .checksum = job->checksum, .job = job };
    child_write(&sp);
}

pid_t rdb_save_fork_aof_base(int dirfd, const char *tmp, const char *dir, int compress, bool checksum,
                             const uint8_t *functions, size_t functions_len)
{
    child_spec_t sp = { .dirfd = dirfd, .tmp = tmp, .dir = dir, .compress = compress, .checksum = checksum,
                        .functions = functions, .functions_len = functions_len };
    pid_t pid = fork();
    if (pid == 0) child_write(&sp);
    if (pid > 0) child_begin();
    return pid;
}

void rdb_fork_note(long long usec)
{
    /* relaxed: INFO figures, as 7.0.15's stat_fork_time / stat_total_forks */
    atomic_store_explicit(&fork_usec_last, usec, memory_order_relaxed);
    atomic_fetch_add_explicit(&forks_total, 1, memory_order_relaxed);
    latency_note("fork", usec / 1000);
}

int rdb_fork_children(void) { return atomic_load_explicit(&fork_children, memory_order_relaxed); }

void rdb_fork_child_slices(bool *on)
{
    bool want = rdb_fork_children() > 0;
    if (want == *on) return;
    *on = want;
    (void)rt_slice_set(want ? RT_SLICE_SHORT_US : 0);
}

void rdb_fork_stats(long long *latest_usec, long long *total)
{
    *latest_usec = atomic_load_explicit(&fork_usec_last, memory_order_relaxed);
    *total = atomic_load_explicit(&forks_total, memory_order_relaxed);
}

void rdb_fork_stats_reset(void)
{
    atomic_store_explicit(&fork_usec_last, 0, memory_order_relaxed);
    atomic_store_explicit(&forks_total, 0, memory_order_relaxed);
}

int rdb_save_wait_child(pid_t pid)
{
    int status = 0;
    int rc;
    while ((rc = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {}
    child_end();
    if (rc < 0) return -1;
    if (WIFSIGNALED(status)) LOG_WARNING("Background AOF rewrite child terminated by signal %d", WTERMSIG(status));
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* The cut's callback (replication thread, every worker parked): fork, so
 * that the child holds the image and the workers go on at once; the pause
 * is the fork's, as redis-server's. False (the workers encode their parts
 * as for SAVE) when the fork fails. */
static bool fork_at_cut(repl_save_cut_t *cut)
{
    rdb_job_t *job = (rdb_job_t *)cut;
    if (atomic_load_explicit(&bgsave_cancel, memory_order_relaxed)) return false;
    long long t0 = rt_now_us();
    pid_t pid = fork();
    if (pid == 0) child_save(job);
    if (pid > 0) rdb_fork_note(rt_now_us() - t0);
    if (pid < 0) {
        LOG_WARNING("Can't save in background: fork: %s; the workers encode the dump instead", strerror(errno));
        return false;
    }
    job->child = pid;
    child_begin();
    atomic_store_explicit(&running_child, pid, memory_order_relaxed);
    LOG_NOTICE("Background saving started by pid %ld", (long)pid);
    return true;
}

/* The child is done: its temp file goes in place (in start order, under
 * commit_mu), or the failure is logged. 0 or -1. */
static int reap_child(rdb_job_t *job)
{
    int status = 0;
    while (waitpid(job->child, &status, 0) < 0 && errno == EINTR) {}
    child_end();
    atomic_store_explicit(&running_child, 0, memory_order_relaxed);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFSIGNALED(status)) LOG_WARNING("Background saving terminated by signal %d", WTERMSIG(status));
        unlinkat(job->dirfd, job->tmp, 0);
        return -1;
    }
    pthread_mutex_lock(&commit_mu);
    int rc = 0;
    if (job->seq < committed_seq) {
        unlinkat(job->dirfd, job->tmp, 0);
    } else if (renameat(job->dirfd, job->tmp, job->dirfd, job->fname) != 0) {
        LOG_WARNING("Error moving temp DB file %s on the final destination %s (in server root dir %s): %s", job->tmp,
                    job->fname, job->dir, strerror(errno));
        unlinkat(job->dirfd, job->tmp, 0);
        rc = -1;
    } else if (fsync(job->dirfd) != 0) {
        LOG_WARNING("Write error saving DB on disk(fsyncFileDir): %s", strerror(errno));
        rc = -1;
    } else {
        committed_seq = job->seq;
    }
    pthread_mutex_unlock(&commit_mu);
    if (rc == 0) {
        atomic_store_explicit(&dirty_at_last_save, job->cut.dirty, memory_order_relaxed);
        atomic_store_explicit(&g_lastsave, rt_now_ms() / 1000, memory_order_relaxed);
    }
    return rc;
}

/* ---------------- the writer thread ---------------- */

static bool start_bgsave(void);
static void deny_writes_update(void);

static void finish_bgsave(rdb_job_t *job, int rc)
{
    long long secs = rt_now_ms() / 1000 - job->started_ms / 1000;   /* whole seconds, as time(NULL) */
    /* A BGSAVE the shutdown stopped is no failure (7.0.15 kills its child
     * with SIGUSR1, which leaves the status alone): should the shutdown fail,
     * writes must not get MISCONF for it. */
    bool cancelled = rc != 0 && atomic_load_explicit(&bgsave_cancel, memory_order_relaxed);
    if (!cancelled) atomic_store_explicit(&last_bgsave_ok, rc == 0, memory_order_relaxed);
    atomic_store_explicit(&last_bgsave_time_sec, secs, memory_order_relaxed);
    if (rc == 0) LOG_NOTICE("Background saving terminated with success");
    else if (!cancelled) LOG_WARNING("Background saving error");
    deny_writes_update();
    atomic_store_explicit(&bgsave_cancel, 0, memory_order_relaxed);
    atomic_store_explicit(&bgsave_in_progress, 0, memory_order_relaxed);
}

static void *writer_thread(void *arg)
{
    rdb_job_t *job = arg;
    int rc = job->cut.taken ? reap_child(job) : write_dump(job);
    switch (job->kind) {
    case JOB_SAVE:
        if (rc == 0) {
            /* 7.0.15: a successful SAVE also clears a failed BGSAVE's status */
            atomic_store_explicit(&last_bgsave_ok, 1, memory_order_relaxed);
            deny_writes_update();
            resp_add_simple(&job->rc->reply, "OK");
        } else {
            resp_add_error(&job->rc->reply, "ERR");
        }
        worker_reply_async(job->rc);
        job_free(job);
        break;
    case JOB_BGSAVE:
        finish_bgsave(job, rc);
        job_free(job);
        break;
    default:
        pthread_mutex_lock(&job->mu);
        job->result = rc;
        job->finished = true;
        pthread_cond_signal(&job->cv);
        pthread_mutex_unlock(&job->mu);
        break;
    }
    return NULL;
}

/* The cut is over (replication thread): the file is written on a thread of
 * its own, so that neither the replication actor nor a worker waits for the
 * disk. */
static void cut_done(repl_save_cut_t *cut)
{
    rdb_job_t *job = (rdb_job_t *)cut;
    int err = rt_spawn_detached(writer_thread, job);
    if (err != 0) {
        LOG_WARNING("Can't save in background: could not start a thread (%s); saving on the replication thread",
                    strerror(err));
        writer_thread(job);
    }
}

static void job_start(rdb_job_t *job)
{
    job->cut.done = cut_done;
    repl_request_save(&job->cut);
}

/* Claims the single background-save slot and starts the cut. */
static bool start_bgsave(void)
{
    int expect = 0;
    if (!atomic_compare_exchange_strong_explicit(&bgsave_in_progress, &expect, 1, memory_order_relaxed,
                                                 memory_order_relaxed))
        return false;
    rdb_job_t *job = job_new(JOB_BGSAVE);
    atomic_fetch_add_explicit(&saves_done, 1, memory_order_relaxed);
    atomic_store_explicit(&bgsave_started_ms, job->started_ms, memory_order_relaxed);
    atomic_store_explicit(&last_bgsave_try, job->started_ms / 1000, memory_order_relaxed);
    /* Everything the child needs, now: it may take no lock. */
    job->by_fork = true;
    if (config_get_by_name("dbfilename", job->fname, sizeof job->fname) < 0)
        snprintf(job->fname, sizeof job->fname, "dump.rdb");
    config_dir(job->dir, sizeof job->dir);
    snprintf(job->tmp, sizeof job->tmp, "temp-%d-%llu.rdb", (int)getpid(), (unsigned long long)job->seq);
    job->checksum = config_yes("rdbchecksum", true);
    job->dirfd = config_dir_open();
    if (job->dirfd >= 0) job->cut.at_cut = fork_at_cut;
    job_start(job);
    return true;
}

int rdb_save_sync(void)
{
    rdb_job_t *job = job_new(JOB_SYNC);
    job_start(job);
    pthread_mutex_lock(&job->mu);
    while (!job->finished) pthread_cond_wait(&job->cv, &job->mu);
    pthread_mutex_unlock(&job->mu);
    int rc = job->result;
    job_free(job);
    return rc;
}

/* FLUSHALL under save points (7.0.15's flushAllDataAndResetRDB): a running
 * BGSAVE is stopped, the keyspaces are emptied and dump.rdb saved in one
 * cut, then the client gets +OK (whatever the save's fate, as 7.0.15). */
static void *flushall_thread(void *arg)
{
    remote_cmd_t *rc = arg;
    if (rdb_bgsave_running()) {
        atomic_store_explicit(&bgsave_cancel, 1, memory_order_relaxed);
        int pid = atomic_load_explicit(&running_child, memory_order_relaxed);
        if (pid > 0) kill(pid, SIGKILL);
    }
    rdb_job_t *job = job_new(JOB_SYNC);
    job->cut.flush_first = true;
    job_start(job);
    pthread_mutex_lock(&job->mu);
    while (!job->finished) pthread_cond_wait(&job->cv, &job->mu);
    pthread_mutex_unlock(&job->mu);
    job_free(job);
    resp_add_simple(&rc->reply, "OK");
    worker_reply_async(rc);
    return NULL;
}

void rdb_flushall_save(remote_cmd_t *rc)
{
    if (rt_spawn_detached(flushall_thread, rc) != 0) flushall_thread(rc);
}

bool rdb_bgsave_running(void) { return atomic_load_explicit(&bgsave_in_progress, memory_order_relaxed) != 0; }

void rdb_bgsave_cancel(void)
{
    if (!rdb_bgsave_running()) return;
    LOG_WARNING("There is a child saving an .rdb. Killing it!");
    atomic_store_explicit(&bgsave_cancel, 1, memory_order_relaxed);
    int pid = atomic_load_explicit(&running_child, memory_order_relaxed);
    if (pid > 0) kill(pid, SIGKILL);
}

/* ---------------- commands ---------------- */

void cmd_save(cmd_ctx_t *ctx)
{
    if (rdb_bgsave_running()) {
        resp_add_error(ctx->reply, "ERR Background save already in progress");
        return;
    }
    atomic_fetch_add_explicit(&saves_done, 1, memory_order_relaxed);
    rdb_job_t *job = job_new(JOB_SAVE);
    job->rc = dispatch_defer_nosend(ctx, WMSG_DONE);
    job_start(job);
}

void cmd_bgsave(cmd_ctx_t *ctx)
{
    bool schedule = false;
    if (ctx->argc == 2 && arg_is_at(ctx, 1, "schedule")) {
        schedule = true;
    } else if (ctx->argc > 1) {
        resp_add_error(ctx->reply, "ERR syntax error");
        return;
    }
    /* As 7.0.15: a running BGSAVE is an error even with SCHEDULE, which only
     * waits for an AOF rewrite. */
    aof_status_t aof;
    aof_status_get(&aof);
    if (rdb_bgsave_running()) {
        resp_add_error(ctx->reply, "ERR Background save already in progress");
    } else if (aof.rewrite_in_progress) {
        if (schedule) {
            atomic_store_explicit(&bgsave_scheduled, 1, memory_order_relaxed);
            resp_add_simple(ctx->reply, "Background saving scheduled");
        } else {
            resp_add_error(ctx->reply, "ERR Another child process is active (AOF?): can't BGSAVE right now. Use "
                                       "BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
        }
    } else if (start_bgsave()) {
        resp_add_simple(ctx->reply, "Background saving started");
    } else {
        resp_add_error(ctx->reply, "ERR Background save already in progress");
    }
}

/* ---------------- save points and MISCONF ---------------- */

/* The save points as CONFIG GET shows them: "s1 c1 s2 c2 ...". Returns how
 * many pairs were read into secs/changes (at most max). */
static int save_points(long long *secs, long long *changes, int max)
{
    char buf[1024];
    if (config_get_by_name("save", buf, sizeof buf) < 0) return 0;
    int n = 0;
    const char *p = buf;
    long long a, b;
    int used;
    while (n < max && sscanf(p, "%lld %lld%n", &a, &b, &used) == 2) {
        secs[n] = a;
        changes[n] = b;
        n++;
        p += used;
    }
    return n;
}

bool rdb_save_points_set(void)
{
    long long s[1], c[1];
    return save_points(s, c, 1) > 0;
}

/* 7.0.15's writeCommandsDeniedByDiskError for the RDB: the last BGSAVE
 * failed, save points are set and stop-writes-on-bgsave-error is yes. Kept
 * in one flag so that a write pays one relaxed load. */
static void deny_writes_update(void)
{
    bool deny = !atomic_load_explicit(&last_bgsave_ok, memory_order_relaxed) &&
                config_yes("stop-writes-on-bgsave-error", true) && rdb_save_points_set();
    atomic_store_explicit(&deny_writes, deny ? 1 : 0, memory_order_relaxed);
}

bool rdb_writes_denied(void) { return atomic_load_explicit(&deny_writes, memory_order_relaxed) != 0; }

static void on_config_change(const char *name, void *arg)
{
    (void)arg;
    if (!strcmp(name, "save") || !strcmp(name, "stop-writes-on-bgsave-error")) deny_writes_update();
}

void rdb_save_init(void)
{
    if (config_subscribe(on_config_change, NULL) != 0) LOG_WARNING("Could not follow CONFIG SET save");
}

/* Seconds 7.0.15 waits after a failed BGSAVE before a save point tries again. */
#define BGSAVE_RETRY_DELAY 5

/* The wait before the next look at the save points, in ms (at most 1000):
 * when a point is reached only by time, the moment it is; while a point
 * lacks changes but not time, 100 (7.0.15's cron period: the save starts
 * within 100 ms of its last change, as there); with nothing dirty, 1000. */
static long long save_wait_ms(long long now_ms, long long dirty, long long lastsave, long long retry_at,
                              const long long *secs, const long long *changes, int n)
{
    long long wait = 1000;
    for (int i = 0; i < n; i++) {
        long long due = (lastsave + secs[i] + 1) * 1000;   /* since > secs from then */
        if (dirty >= changes[i]) {
            if (retry_at * 1000 > due) due = retry_at * 1000;   /* after a failed BGSAVE */
        } else if (dirty == 0) {
            due = now_ms + 1000;   /* a first change is seen within a second */
        } else if (due <= now_ms) {
            due = now_ms + 100;    /* only changes are missing: look as often as 7.0.15 */
        }                          /* else time is missing too: look when it is not */
        if (due - now_ms < wait) wait = due - now_ms;
    }
    return wait < 1 ? 1 : wait;
}

long long rdb_save_cron(void)
{
    if (rdb_bgsave_running()) return 100;
    long long now_ms = rt_now_ms();
    long long now = now_ms / 1000;
    bool ok = atomic_load_explicit(&last_bgsave_ok, memory_order_relaxed);
    long long last_try = atomic_load_explicit(&last_bgsave_try, memory_order_relaxed);
    bool may_retry = ok || now - last_try > BGSAVE_RETRY_DELAY;
    aof_status_t aof;
    aof_status_get(&aof);
    if (aof.rewrite_in_progress) return 100;   /* 7.0.15 runs one child at a time */
    /* Clients refused -LOADING: the data is emptied or half loaded (DEBUG
     * LOADAOF/RELOAD, a replica's load into an emptied dataset), and its
     * loaded commands count as changes; a save now would write part of the
     * keys. 7.0.15 loads on its main thread: its cron never looks then. */
    if (rdb_load_refusing()) return 100;
    if (atomic_load_explicit(&bgsave_scheduled, memory_order_relaxed)) {
        if (!may_retry) return 100;
        atomic_store_explicit(&bgsave_scheduled, 0, memory_order_relaxed);
        start_bgsave();
        return 100;
    }
    long long secs[64], changes[64];
    int n = save_points(secs, changes, 64);
    long long dirty = dirty_now() - atomic_load_explicit(&dirty_at_last_save, memory_order_relaxed);
    long long lastsave = atomic_load_explicit(&g_lastsave, memory_order_relaxed);
    long long since = now - lastsave;
    for (int i = 0; i < n; i++) {
        if (dirty >= changes[i] && since > secs[i] && may_retry) {
            LOG_NOTICE("%lld changes in %lld seconds. Saving...", changes[i], secs[i]);
            start_bgsave();
            return 100;
        }
    }
    return save_wait_ms(now_ms, dirty, lastsave, may_retry ? 0 : last_try + BGSAVE_RETRY_DELAY + 1, secs, changes, n);
}

/* ---------------- INFO ---------------- */

void rdb_save_forget_changes(void)
{
    atomic_store_explicit(&dirty_at_last_save, dirty_now(), memory_order_relaxed);
}

void rdb_persist_info(rdb_persist_info_t *out)
{
    memset(out, 0, sizeof *out);
    out->bgsave_in_progress = atomic_load_explicit(&bgsave_in_progress, memory_order_relaxed);
    out->changes_since_last_save = dirty_now() - atomic_load_explicit(&dirty_at_last_save, memory_order_relaxed);
    out->last_save_time = atomic_load_explicit(&g_lastsave, memory_order_relaxed);
    out->last_bgsave_ok = atomic_load_explicit(&last_bgsave_ok, memory_order_relaxed);
    out->last_bgsave_time_sec = atomic_load_explicit(&last_bgsave_time_sec, memory_order_relaxed);
    out->current_bgsave_time_sec =
        out->bgsave_in_progress
            ? rt_now_ms() / 1000 - atomic_load_explicit(&bgsave_started_ms, memory_order_relaxed) / 1000
            : -1;
    out->saves = atomic_load_explicit(&saves_done, memory_order_relaxed);
    rdb_last_load_keys(&out->last_load_keys_loaded, &out->last_load_keys_expired);
    rdb_loading_info_t li;
    rdb_loading_get(&li);
    out->loading = li.loading;
    out->loading_async = li.async;
}

/* aof.c - the AOF (see aof.h): the writer, which workers call with their
 * handovers, and the AOF actor, which owns the files' life (start, rotation
 * at a rewrite's cut, CONFIG SET appendonly, the once-a-second fsync and the
 * retry after a failed write) and INFO's figures.
 *
 * Order: a worker appends its handover to the incr file and pushes it into
 * the replication actor's feed queue in one critical section (aof_handover),
 * so the AOF holds the handovers exactly in the order the replication
 * actor files them in the stream; the other bytes of the stream that the
 * AOF must hold (FLUSHALL of a cut) are appended at the cut, with every
 * worker parked.
 *
 * Durability: write(2) happens before the worker's replies can leave. With
 * appendfsync always the worker holds them until an fdatasync covers its
 * bytes (group commit: the syncer thread of aof_gcommit.c runs the fsyncs
 * and one answers many clients on every worker).
 *
 * Must never: let a reply leave before its write's bytes are written
 * (synced with always); write a handover out of the stream's order; go on
 * after a failed write with appendfsync always (as 7.0.15: the replies
 * could not be taken back).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "actors/config/config.h"
#include "actors/persist/aof_internal.h"
#include "actors/repl/repl.h"
#include "actors/worker/latency.h"
#include "actors/worker/worker.h"
#include "proto/rdb.h"
#include "proto/resp.h"
#include "runtime/actor.h"
#include "runtime/log.h"
#include "runtime/slice.h"
#include "runtime/xmalloc.h"

enum { AOF_MSG_CONFIG = 1, AOF_MSG_RESTART, AOF_MSG_KICK };

/* The writer's state, shared by every thread that appends, under `mu`. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t synced_cv;
    bool on;                      /* writing to `fd` */
    int fd;
    char filename[256], dirname[256];
    aof_manifest_t man;
    bool need_select;             /* a new incr file starts with a SELECT, as redis-server's */
    int db;                       /* the database the file's last SELECT chose, -1: not known */
    long long last_ts;            /* the last #TS: annotation's second */
    long long incr_size;          /* bytes of the current incr file */
    long long synced_size;        /* of which handed to an fsync */
    long long last_fsync_s;
    uint64_t written_total, synced_total;   /* over every file: group commit's offsets */
    bool syncing;                 /* an fdatasync runs (its caller has left `mu`) */
    resp_buf_t retry;             /* bytes of failed writes, still to write, in order */
    resp_buf_t pend;              /* appended, write(2) deferred (aof_defer_writes), after `retry` */
    long long err_logged_s;
    /* a rewrite's cut (aof_rewrite.c sets the mode; the cut records what it opened) */
    int cut_mode;                 /* 0 nothing, 1 rotate the incr file, 2 open the temp incr file */
    int cut_fd;                   /* mode 1: the next incr file, open and named in the manifest, or -1 */
    long long cut_kept_seq;
    bool cut_temp_opened;
    /* the cron's sleep (cron_update): parked when it has nothing to do; the
     * first write after that wakes it (AOF_MSG_KICK) */
    bool cron_parked;
    long long cron_seen_size;     /* incr_size at the cron's last growth check */
} W = { .mu = PTHREAD_MUTEX_INITIALIZER, .synced_cv = PTHREAD_COND_INITIALIZER,
        .fd = -1, .cut_fd = -1 };

/* W.written_total and W.synced_total for readers without W.mu (the
 * workers' reply gate, aof_reply_mark). Stored under W.mu with release,
 * loaded with acquire: a worker that received a message from a writer sees
 * at least the writer's mark. */
static _Atomic uint64_t g_written_mark, g_synced_mark;

/* The actor. */
static struct {
    rt_thread_t *thread;
    rt_actor_t actor;
    rt_timer_t cron;
    bool cron_on;                 /* the timer runs (AOF thread) */
} A;

extern _Atomic int g_aof_rewriting;   /* aof_rewrite.c: a rewrite runs */

static _Atomic int g_active;                        /* workers take the writer's path */
static _Atomic int g_write_err;                     /* errno of the failing write, 0 when ok */
static _Atomic long long g_incr_size;               /* W.incr_size for INFO (relaxed: a figure) */
static _Atomic long long g_retry_bytes;             /* W.retry.len for INFO and maxmemory (relaxed: a figure) */
static int g_fsync_idx = -1;                        /* appendfsync's config index */
static pthread_mutex_t status_mu = PTHREAD_MUTEX_INITIALIZER;
static aof_status_t g_status = { .last_rewrite_time_sec = -1, .current_rewrite_time_sec = -1,
                                 .last_bgrewrite_ok = true, .last_write_ok = true };

void aof_lock(void) { pthread_mutex_lock(&W.mu); }
void aof_unlock(void) { pthread_mutex_unlock(&W.mu); }

/* Under W.mu, after W.written_total grew. */
static void publish_written_locked(void)
{
    atomic_store_explicit(&g_written_mark, W.written_total, memory_order_release);
}

/* Under W.mu, after W.synced_total moved: blocked writers (sync_to) and
 * the reply syncer look again. */
static void publish_synced_locked(void)
{
    atomic_store_explicit(&g_synced_mark, W.synced_total, memory_order_release);
    pthread_cond_broadcast(&W.synced_cv);
    aof_gc_kick_locked();
}

/* ---------------- writing (under W.mu) ---------------- */

static int fsync_policy(void)
{
    /* g_fsync_idx is set by aof_start, before any worker exists */
    return (int)config_get_num_at(g_fsync_idx >= 0 ? g_fsync_idx : config_find("appendfsync"));
}

/* Writes iov fully; returns bytes written and sets *err on failure. */
static size_t write_all(struct iovec *iov, int n, int *err)
{
    size_t done = 0;
    *err = 0;
    while (n > 0) {
        ssize_t w = writev(W.fd, iov, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            *err = w < 0 ? errno : ENOSPC;
            return done;
        }
        done += (size_t)w;
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return done;
}

/* A failed write of `total` bytes of which `done` made it: as 7.0.15's
 * flushAppendOnlyFile, the partial write is cut off again when possible and
 * the bytes are kept to be written later; writes are refused meanwhile. */
static void write_failed(size_t done, size_t total, int err, const struct iovec *orig, int n)
{
    long long now_s = rt_now_ms() / 1000;
    bool can_log = now_s - W.err_logged_s > 30;
    if (can_log) W.err_logged_s = now_s;
    if (done > 0) {
        if (can_log)
            LOG_WARNING("Short write while writing to the AOF file: (nwritten=%lld, expected=%lld)", (long long)done,
                        (long long)total);
        if (ftruncate(W.fd, W.incr_size) != 0) {
            if (can_log)
                LOG_WARNING("Could not remove short write from the append-only file.  Redis may refuse to load the "
                            "AOF the next time it starts.  ftruncate: %s", strerror(errno));
            W.incr_size += (long long)done;
            W.written_total += done;
            publish_written_locked();
        } else {
            done = 0;
        }
        err = ENOSPC;
    } else if (can_log) {
        LOG_WARNING("Error writing to the AOF file: %s", strerror(err));
    }
    if (fsync_policy() == AOF_FSYNC_ALWAYS) {
        LOG_WARNING("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
        _exit(1);
    }
    /* keep what is not in the file, in order */
    resp_buf_t keep;
    resp_buf_init(&keep, 2);
    size_t skip = done;
    for (int i = 0; i < n; i++) {
        size_t l = orig[i].iov_len;
        if (skip >= l) {
            skip -= l;
            continue;
        }
        resp_buf_append(&keep, (const char *)orig[i].iov_base + skip, l - skip);
        skip = 0;
    }
    resp_buf_free(&W.retry);
    W.retry = keep;
    atomic_store_explicit(&g_retry_bytes, (long long)W.retry.len, memory_order_relaxed);
    atomic_store_explicit(&g_write_err, err, memory_order_relaxed);
}

long long aof_buffer_bytes(void) { return atomic_load_explicit(&g_retry_bytes, memory_order_relaxed); }

/* 7.0.15's events for a write to the AOF: by what else was going on, and
 * all of them as aof-write. */
static void note_write_latency(long long ms)
{
    /* relaxed: which event names the sample is a guess of the moment anyway */
    if (aof_bio_pending()) latency_note("aof-write-pending-fsync", ms);
    else if (atomic_load_explicit(&g_aof_rewriting, memory_order_relaxed)) latency_note("aof-write-active-child", ms);
    else latency_note("aof-write-alone", ms);
    latency_note("aof-write", ms);
}

/* Appends (prefix, data) to the open incr file, after what failed before
 * and what was deferred; false after a failed write. */
static bool write_parts(const void *prefix, size_t plen, const void *data, size_t dlen)
{
    struct iovec iov[4], orig[4];
    int n = 0;
    if (W.retry.len) iov[n++] = (struct iovec){ W.retry.data, W.retry.len };
    if (W.pend.len) iov[n++] = (struct iovec){ W.pend.data, W.pend.len };
    if (plen) iov[n++] = (struct iovec){ (void *)prefix, plen };
    if (dlen) iov[n++] = (struct iovec){ (void *)data, dlen };
    if (!n) return true;
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        orig[i] = iov[i];
        total += iov[i].iov_len;
    }
    int err;
    long long t0 = latency_threshold_ms() ? rt_now_ms() : 0;
    size_t done = write_all(iov, n, &err);
    if (t0) note_write_latency(rt_now_ms() - t0);
    if (err) {
        write_failed(done, total, err, orig, n);   /* the deferred bytes are kept in `retry` */
        resp_buf_reset(&W.pend);
        return false;
    }
    resp_buf_reset(&W.pend);
    W.incr_size += (long long)total;
    W.written_total += total;
    publish_written_locked();
    resp_buf_reset(&W.retry);
    atomic_store_explicit(&g_retry_bytes, 0, memory_order_relaxed);
    atomic_store_explicit(&g_incr_size, W.incr_size, memory_order_relaxed);
    if (atomic_load_explicit(&g_write_err, memory_order_relaxed)) {
        LOG_WARNING("AOF write error looks solved, Redis can write again.");
        atomic_store_explicit(&g_write_err, 0, memory_order_relaxed);
    }
    return true;
}

static void send_msg(uint32_t type)
{
    rt_msg_t *m = xcalloc(1, sizeof *m);
    m->type = type;
    rt_send(&A.actor, m);
}

/* A write while the cron sleeps: it has an fsync, a retry or a growth
 * check to do again. One message per sleep, not per write. */
static void cron_wake_locked(void)
{
    if (!W.cron_parked) return;
    W.cron_parked = false;
    send_msg(AOF_MSG_KICK);
}

/* Set by the worker thread that borrows another's keyspace (aof_defer_writes):
 * its handovers are appended to W.pend; aof_write_deferred writes them. */
static _Thread_local bool tl_defer, tl_owed;

/* start_db/end_db: the database the bytes start and end in (a worker's
 * handover, repl_prop.c; a replica's copy of its master's stream keeps the
 * master's SELECTs, and says where they leave it), or -1 when not known. */
static void append_locked(const uint8_t *data, size_t len, int start_db, int end_db)
{
    if (!W.on || W.fd < 0) return;
    char prefix[96];
    size_t plen = 0;
    if (aof_conf_bool("aof-timestamp-enabled")) {
        long long now_s = rt_now_ms() / 1000;
        if (now_s > W.last_ts) {
            plen += (size_t)snprintf(prefix, sizeof prefix, "#TS:%lld\r\n", now_s);
            W.last_ts = now_s;
        }
    }
    int sel = start_db >= 0 ? (W.need_select || W.db != start_db ? start_db : -1) : (W.need_select ? 0 : -1);
    if (sel >= 0) plen += (size_t)snprintf(prefix + plen, sizeof prefix - plen, "*2\r\n$6\r\nSELECT\r\n$%d\r\n%d\r\n",
                                           sel < 10 ? 1 : sel < 100 ? 2 : sel < 1000 ? 3 : 4, sel);
    W.need_select = false;
    W.db = start_db >= 0 ? end_db : -1;
    if (tl_defer) {
        /* in order behind everything appended before; written before this
         * thread's replies leave (aof_write_deferred) */
        resp_buf_append(&W.pend, prefix, plen);
        resp_buf_append(&W.pend, (const char *)data, len);
        tl_owed = true;
        return;
    }
    write_parts(prefix, plen, data, len);
    cron_wake_locked();
}

/* No fsync is owed for what is written now: no-appendfsync-on-rewrite
 * while a rewrite runs (7.0.15's documented trade-off), or nothing open. */
static bool fsync_skipped_locked(void)
{
    return !W.on || W.fd < 0 || (aof_conf_bool("no-appendfsync-on-rewrite") && atomic_load(&g_aof_rewriting));
}

bool aof_sync_step_locked(void)
{
    if (fsync_skipped_locked()) {
        W.synced_total = W.written_total;
        publish_synced_locked();
        return false;
    }
    if (W.syncing) {
        pthread_cond_wait(&W.synced_cv, &W.mu);
        return false;
    }
    W.syncing = true;
    uint64_t target = W.written_total;
    long long size = W.incr_size;
    int fd = W.fd;
    pthread_mutex_unlock(&W.mu);
    long long t0 = latency_threshold_ms() ? rt_now_ms() : 0;
    /* short slices while it waits: each of the fsync's I/Os wakes it, and
     * it gets a core back at once instead of after a busy thread's slice
     * (runtime/slice.h); a worker keeps them until a cron period passes
     * without one of its own fsyncs (two sched_setattr calls per fsync
     * saved) */
    rt_slice_brief_t slice;
    rt_slice_brief_begin(&slice);
    int rc = fdatasync(fd);
    int e = errno;
    rt_slice_brief_end_linger(&slice);
    if (t0) latency_note("aof-fsync-always", rt_now_ms() - t0);
    pthread_mutex_lock(&W.mu);
    if (rc != 0) {
        LOG_WARNING("Can't persist AOF for fsync error when the AOF fsync policy is 'always': %s. Exiting...",
                    strerror(e));
        _exit(1);
    }
    W.syncing = false;
    if (target > W.synced_total) W.synced_total = target;
    if (fd == W.fd && size > W.synced_size) W.synced_size = size;
    W.last_fsync_s = rt_now_ms() / 1000;
    publish_synced_locked();
    return true;
}

void aof_sync_to(uint64_t end)
{
    pthread_mutex_lock(&W.mu);
    while (W.synced_total < end) aof_sync_step_locked();
    pthread_mutex_unlock(&W.mu);
}

uint64_t aof_written_locked(void) { return W.written_total; }
bool aof_syncing_locked(void) { return W.syncing; }
uint64_t aof_synced_locked(void) { return W.synced_total; }
void aof_cond_wait_locked(pthread_cond_t *cv) { pthread_cond_wait(cv, &W.mu); }
void aof_cond_timedwait_locked(pthread_cond_t *cv, const struct timespec *until)
{
    pthread_cond_timedwait(cv, &W.mu, until);
}

static bool reply_policy_always(void)
{
    /* relaxed: see aof_wait_wanted */
    return atomic_load_explicit(&g_active, memory_order_relaxed) != 0 && fsync_policy() == AOF_FSYNC_ALWAYS;
}

bool aof_reply_hold_on(void) { return reply_policy_always(); }

uint64_t aof_reply_mark(void)
{
    /* acquire: pairs with publish_written_locked; a message from a worker
     * that wrote orders its write before this load */
    uint64_t written = atomic_load_explicit(&g_written_mark, memory_order_acquire);
    if (written == atomic_load_explicit(&g_synced_mark, memory_order_acquire)) return 0;
    if (!reply_policy_always()) return 0;
    if (aof_conf_bool("no-appendfsync-on-rewrite") && atomic_load(&g_aof_rewriting)) return 0;
    return written;
}

uint64_t aof_reply_unsynced(uint64_t mark)
{
    /* acquire: as aof_reply_synced */
    uint64_t synced = atomic_load_explicit(&g_synced_mark, memory_order_acquire);
    return mark > synced ? mark - synced : 0;
}

bool aof_reply_synced(uint64_t mark)
{
    /* acquire: pairs with publish_synced_locked */
    return atomic_load_explicit(&g_synced_mark, memory_order_acquire) >= mark;
}

void aof_reply_sync_now(void)
{
    aof_sync_to(atomic_load_explicit(&g_written_mark, memory_order_acquire));
}

bool aof_wait_wanted(void)
{
    /* relaxed: the switch on happens before any worker can see a client
     * (start) or in a message every worker passes (a rewrite's cut) */
    return atomic_load_explicit(&g_active, memory_order_relaxed) != 0;
}

void aof_handover(const uint8_t *data, size_t len, int start_db, int end_db, rt_actor_t *to, rt_msg_t *msg,
                  size_t msg_len)
{
    if (!aof_wait_wanted()) {
        if (msg) rt_send(to, msg);
        return;
    }
    (void)to;
    pthread_mutex_lock(&W.mu);
    if (len) append_locked(data, len, start_db, end_db);
    /* inside the section: the stream gets the handovers in the file's
     * order; through the replication actor's queue, which wakes it only
     * when it serves replicas (repl_feedq.c) */
    if (msg) repl_feed_pass(msg, msg_len);
    pthread_mutex_unlock(&W.mu);
    /* appendfsync always: the worker holds the replies until an fsync
     * covers these bytes (aof_reply_mark), without waiting here */
}

void aof_defer_writes(bool on) { tl_defer = on; }

void aof_write_deferred(void)
{
    if (!tl_owed) return;
    tl_owed = false;
    pthread_mutex_lock(&W.mu);
    if (W.pend.len && W.on && W.fd >= 0) {
        write_parts(NULL, 0, NULL, 0);
        cron_wake_locked();
    }
    pthread_mutex_unlock(&W.mu);
}

void aof_write_pending(void)
{
    pthread_mutex_lock(&W.mu);
    if (W.on && W.fd >= 0 && (W.retry.len || W.pend.len)) write_parts(NULL, 0, NULL, 0);
    pthread_mutex_unlock(&W.mu);
}

void aof_append_stream(const void *data, size_t len, int start_db, int end_db)
{
    if (!aof_wait_wanted()) return;
    pthread_mutex_lock(&W.mu);
    append_locked(data, len, start_db, end_db);
    uint64_t end = W.written_total;
    bool always = W.on && fsync_policy() == AOF_FSYNC_ALWAYS;
    pthread_mutex_unlock(&W.mu);
    if (always) aof_sync_to(end);
}

const char *aof_write_refusal(void)
{
    /* relaxed: a status flag */
    int e = atomic_load_explicit(&g_write_err, memory_order_relaxed);
    if (!e) return NULL;
    static _Thread_local char text[200];
    snprintf(text, sizeof text, "MISCONF Errors writing to the AOF file: %s", strerror(e));
    return text;
}

/* Cron (AOF thread): the retry after a failed write, everysec's fsync. */
static void writer_cron(void)
{
    pthread_mutex_lock(&W.mu);
    if (W.on && W.fd >= 0) {
        if (W.retry.len || W.pend.len) write_parts(NULL, 0, NULL, 0);
        long long now_s = rt_now_ms() / 1000;
        if (fsync_policy() == AOF_FSYNC_EVERYSEC && W.synced_size != W.incr_size && now_s > W.last_fsync_s &&
            !(aof_conf_bool("no-appendfsync-on-rewrite") && atomic_load(&g_aof_rewriting))) {
            if (aof_bio_pending() > 0) {
                if (now_s - W.last_fsync_s >= 2) {
                    pthread_mutex_lock(&status_mu);
                    g_status.delayed_fsync++;
                    pthread_mutex_unlock(&status_mu);
                }
            } else {
                aof_bio_submit(W.fd, false);
                W.synced_size = W.incr_size;
                W.synced_total = W.written_total;
                publish_synced_locked();
                W.last_fsync_s = now_s;
            }
        }
    }
    pthread_mutex_unlock(&W.mu);
}

/* ---------------- status ---------------- */

static long long file_size(const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", W.dirname, name);
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* The base and the incr files before the open one (under W.mu); a rewrite
 * about to cut has named the next one already, empty and not written yet. */
static long long sizes_before_open(void)
{
    long long total = W.man.has_base ? file_size(W.man.base.name) : 0;
    int open_one = W.man.nincr - 1 - (W.cut_fd >= 0);
    for (int i = 0; i < open_one; i++) total += file_size(W.man.incr[i].name);
    return total;
}

long long aof_actor_current_size(void)
{
    pthread_mutex_lock(&W.mu);
    long long s = sizes_before_open() + W.incr_size;
    pthread_mutex_unlock(&W.mu);
    return s;
}

static void status_update(void)
{
    pthread_mutex_lock(&W.mu);
    long long before = sizes_before_open();
    long long buffered = (long long)W.retry.len;
    pthread_mutex_unlock(&W.mu);
    long long base = aof_rewrite_base_size();
    pthread_mutex_lock(&status_mu);
    g_status.base_size = base;
    g_status.current_size = before;   /* aof_status_get adds the open file's live size */
    g_status.buffer_length = buffered;
    pthread_mutex_unlock(&status_mu);
}

void aof_status_get(aof_status_t *out)
{
    pthread_mutex_lock(&status_mu);
    *out = g_status;
    pthread_mutex_unlock(&status_mu);
    /* read live: CONFIG SET, BGREWRITEAOF and write errors show at once, as in 7.0.15 */
    out->current_size += atomic_load_explicit(&g_incr_size, memory_order_relaxed);
    out->last_write_ok = atomic_load_explicit(&g_write_err, memory_order_relaxed) == 0;
    out->pending_bio_fsync = aof_bio_pending();
    out->enabled = aof_conf_bool("appendonly");
    if (atomic_load(&g_aof_rewriting)) out->rewrite_in_progress = 1;
    if (out->rewrite_in_progress && out->current_rewrite_time_sec < 0) out->current_rewrite_time_sec = 0;
}

void aof_status_note_scheduled(int scheduled)
{
    pthread_mutex_lock(&status_mu);
    g_status.rewrite_scheduled = scheduled;
    pthread_mutex_unlock(&status_mu);
}

void aof_status_note_rewrite(int in_progress, int scheduled, long long started_ms, int result)
{
    pthread_mutex_lock(&status_mu);
    g_status.rewrite_in_progress = in_progress;
    g_status.rewrite_scheduled = scheduled;
    if (result != 0 && started_ms > 0) {
        g_status.last_rewrite_time_sec = (rt_mono_ms() - started_ms) / 1000;
        g_status.last_bgrewrite_ok = result > 0;
        if (result > 0) {
            g_status.rewrites_consecutive_failures = 0;
        } else {
            g_status.rewrites_consecutive_failures++;
        }
    }
    g_status.current_rewrite_time_sec = in_progress ? (rt_mono_ms() - started_ms) / 1000 : -1;
    pthread_mutex_unlock(&status_mu);
}

void aof_status_note_rewrite_started(void)
{
    pthread_mutex_lock(&status_mu);
    g_status.rewrites++;
    pthread_mutex_unlock(&status_mu);
}

/* ---------------- files (under W.mu) ---------------- */

static int open_incr(const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", W.dirname, name);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) LOG_WARNING("Can't open the append-only file %s: %s", name, strerror(errno));
    return fd;
}

/* The writer moves to `fd` (size bytes already in it); the old file gets
 * its tail written, synced (always: now; else in the background), closed. */
static void switch_fd(int fd, long long size)
{
    int old = W.fd;
    if (old >= 0) {
        if (W.retry.len || W.pend.len) write_parts(NULL, 0, NULL, 0);
        if (fsync_policy() == AOF_FSYNC_ALWAYS) {
            (void)fdatasync(old);
            close(old);
        } else {
            aof_bio_submit(old, true);
        }
    }
    W.synced_total = W.written_total;
    W.fd = fd;
    W.incr_size = W.synced_size = size;
    atomic_store_explicit(&g_incr_size, size, memory_order_relaxed);
    W.need_select = true;
    W.db = -1;
    W.last_ts = 0;
    publish_synced_locked();
}

/* A rewrite's cut (repl thread, every worker parked): as aof_rewrite.c set
 * the mode, the writer moves to the incr file aof_actor_prepare_cut opened
 * and named, or opens the temp incr file of appendonly turning on. Nothing
 * here waits on the disk but that open: the workers are stopped. */
void aof_cut_reached(void)
{
    pthread_mutex_lock(&W.mu);
    int mode = W.cut_mode;
    W.cut_mode = 0;
    if (mode == 1 && W.cut_fd >= 0) {
        switch_fd(W.cut_fd, 0);
        W.cut_fd = -1;
        W.cut_kept_seq = W.man.incr[W.man.nincr - 1].seq;
    } else if (mode == 2) {
        char path[600];
        snprintf(path, sizeof path, "%s/temp-%s.incr", W.dirname, W.filename);
        int fd = -1;
        if (mkdir(W.dirname, 0755) == 0 || errno == EEXIST)
            fd = open(path, O_WRONLY | O_TRUNC | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) {
            LOG_WARNING("Can't open the append-only file %s: %s", path, strerror(errno));
        } else {
            switch_fd(fd, 0);
            W.on = true;
            W.cut_temp_opened = true;
        }
    }
    pthread_mutex_unlock(&W.mu);
}

/* Start with appendonly yes (main thread, before any worker, after the
 * reply syncer started): opens the files the manifest names; creates the
 * base when there is none. */
static int open_files_at_start(void)
{
    if (mkdir(W.dirname, 0755) != 0 && errno != EEXIST) {
        LOG_WARNING("Can't open or create append-only dir %s: %s", W.dirname, strerror(errno));
        return -1;
    }
    bool had_incr = W.man.nincr > 0;
    if (!W.man.has_base && !had_incr) {
        bool rdb = aof_conf_bool("aof-use-rdb-preamble");
        const char *base = aof_manifest_new_base(&W.man, W.filename, rdb);
        int e = aof_write_empty_base(W.dirname, base, rdb);
        if (e) {
            LOG_WARNING("Can't create the AOF base file %s: %s", base, strerror(e));
            return -1;
        }
        LOG_NOTICE("Creating AOF base file %s on server start", base);
    }
    if (!had_incr) aof_manifest_new_incr(&W.man, W.filename);
    const char *name = W.man.incr[W.man.nincr - 1].name;
    int fd = open_incr(name);
    if (fd < 0) return -1;
    int e = aof_manifest_persist(W.dirname, W.filename, &W.man);
    if (!e && W.man.nhist) {
        aof_manifest_drop_history(&W.man, W.dirname);
        e = aof_manifest_persist(W.dirname, W.filename, &W.man);
    }
    if (e) {
        LOG_WARNING("Can't persist the AOF manifest: %s", strerror(e));
        close(fd);
        return -1;
    }
    struct stat st;
    long long size = fstat(fd, &st) == 0 ? st.st_size : 0;
    /* under W.mu as every switch: the reply syncer (aof_gcommit.c) already
     * runs and reads the offsets under it */
    pthread_mutex_lock(&W.mu);
    switch_fd(fd, size);
    W.on = true;
    pthread_mutex_unlock(&W.mu);
    LOG_NOTICE("%s AOF incr file %s on server start", had_incr ? "Opening" : "Creating", name);
    return 0;
}

/* ---------------- what aof_rewrite.c drives (AOF thread) ---------------- */

bool aof_actor_is_on(void)
{
    pthread_mutex_lock(&W.mu);
    bool on = W.on;
    pthread_mutex_unlock(&W.mu);
    return on;
}

void aof_actor_manifest_copy(aof_manifest_t *out)
{
    pthread_mutex_lock(&W.mu);
    *out = W.man;
    pthread_mutex_unlock(&W.mu);
}

void aof_actor_set_manifest(const aof_manifest_t *m)
{
    pthread_mutex_lock(&W.mu);
    W.man = *m;
    pthread_mutex_unlock(&W.mu);
}

const char *aof_actor_dirname(void) { return W.dirname; }
const char *aof_actor_filename(void) { return W.filename; }
rt_actor_t *aof_actor(void) { return &A.actor; }

/* The next incr file, made before the cut (7.0.15's openNewIncrAofForAppend
 * before its fork): created, then named after the open one in a manifest
 * made durable, while the workers go on writing to the open one. A crash
 * from here on loads the open file then the new, empty one: the same writes
 * in the same order. At the cut the writer only moves to it (an fd swap):
 * the manifest's temp file, rename and two fsyncs used to run there, with
 * every worker stopped. Returns 0 or an errno (the rewrite fails then, as
 * 7.0.15's does, and the manifest is as it was). */
static int prepare_next_incr(void)
{
    aof_manifest_t *next = xmalloc(sizeof *next);
    pthread_mutex_lock(&W.mu);
    bool on = W.on;
    *next = W.man;                /* only this thread changes W.man while the node runs */
    pthread_mutex_unlock(&W.mu);
    int e = 0;
    if (on) {
        const char *name = aof_manifest_new_incr(next, W.filename);
        int fd = name ? open_incr(name) : -1;
        e = fd < 0 ? EIO : aof_manifest_persist(W.dirname, W.filename, next);
        if (fd >= 0 && e) {
            LOG_WARNING("Can't persist the AOF manifest: %s", strerror(e));
            close(fd);
        } else if (fd >= 0) {
            pthread_mutex_lock(&W.mu);
            W.man = *next;
            W.cut_fd = fd;
            pthread_mutex_unlock(&W.mu);
            LOG_NOTICE("Creating AOF incr file %s on background rewrite", name);
        }
    }
    free(next);
    return e;
}

int aof_actor_prepare_cut(int mode)
{
    pthread_mutex_lock(&W.mu);
    W.cut_mode = 0;
    W.cut_kept_seq = 0;
    W.cut_temp_opened = false;
    pthread_mutex_unlock(&W.mu);
    int e = mode == 1 ? prepare_next_incr() : 0;
    if (e) return e;
    pthread_mutex_lock(&W.mu);
    W.cut_mode = mode;
    pthread_mutex_unlock(&W.mu);
    return 0;
}

void aof_actor_cut_result(long long *kept_seq, bool *temp_opened)
{
    pthread_mutex_lock(&W.mu);
    W.cut_mode = 0;
    *kept_seq = W.cut_kept_seq;
    *temp_opened = W.cut_temp_opened;
    pthread_mutex_unlock(&W.mu);
}

int aof_actor_adopt_temp_incr(const char *name)
{
    char from[600], to[600];
    snprintf(from, sizeof from, "%s/temp-%s.incr", W.dirname, W.filename);
    snprintf(to, sizeof to, "%s/%s", W.dirname, name);
    long long t0 = latency_threshold_ms() ? rt_now_ms() : 0;
    int rc = rename(from, to);
    if (t0) latency_note("aof-rename", rt_now_ms() - t0);
    if (rc != 0) {
        LOG_WARNING("Error trying to rename the temporary AOF incr file %s into %s: %s", from, name, strerror(errno));
        return -1;
    }
    return 0;
}

/* Writing stops (appendonly no, or a failed first rewrite): the tail is
 * written and synced, the file closed; workers stop taking the path. */
void aof_actor_switch_off(bool drop_temp)
{
    pthread_mutex_lock(&W.mu);
    if (W.fd >= 0) {
        if (W.retry.len || W.pend.len) write_parts(NULL, 0, NULL, 0);
        (void)fdatasync(W.fd);
        close(W.fd);
        W.fd = -1;
    }
    if (W.cut_fd >= 0) close(W.cut_fd);   /* named, empty: it stays in the manifest */
    W.cut_fd = -1;
    W.on = false;
    W.cut_mode = 0;
    resp_buf_reset(&W.retry);
    resp_buf_reset(&W.pend);
    atomic_store_explicit(&g_retry_bytes, 0, memory_order_relaxed);
    W.synced_total = W.written_total;
    publish_synced_locked();
    atomic_store_explicit(&g_write_err, 0, memory_order_relaxed);
    atomic_store_explicit(&g_active, 0, memory_order_relaxed);
    pthread_mutex_unlock(&W.mu);
    if (drop_temp) {
        char path[600];
        snprintf(path, sizeof path, "%s/temp-%s.incr", W.dirname, W.filename);
        unlink(path);
    }
}

void aof_actor_begin_waiting(void)
{
    atomic_store(&g_repl_propagate, 1);   /* seq_cst: before any worker's next write */
    atomic_store_explicit(&g_active, 1, memory_order_relaxed);
}

/* ---------------- the actor ---------------- */

/* What the cron has to do (under W.mu): a failed write to retry, an
 * everysec fsync, a growth check since the last write, a rewrite to follow
 * or start. With appendonly off and no rewrite there is none, and an idle
 * AOF on everysec has none once its fsync is done: the timer stops and the
 * thread sleeps (a wake-up costs 25-45 us; 10 a second, ~15 % of an idle
 * 1,000-peer node's CPU). */
static bool cron_needed_locked(bool rewrite_pending)
{
    if (W.retry.len || rewrite_pending) return true;
    if (!W.on || W.fd < 0) return false;
    if (W.incr_size != W.cron_seen_size) return true;
    return fsync_policy() == AOF_FSYNC_EVERYSEC && W.synced_size != W.incr_size;
}

/* AOF thread: starts or stops the 100 ms cron by what it has to do. */
static void cron_update(void);

static void cron(rt_timer_t *t, void *arg)
{
    (void)t;
    (void)arg;
    writer_cron();
    pthread_mutex_lock(&W.mu);
    long long seen = W.incr_size;
    pthread_mutex_unlock(&W.mu);
    aof_rewrite_cron();
    pthread_mutex_lock(&W.mu);
    W.cron_seen_size = seen;   /* the growth check saw this size */
    pthread_mutex_unlock(&W.mu);
    status_update();
    cron_update();
}

static void cron_update(void)
{
    bool rewrite_pending = aof_rewrite_pending();   /* takes W.mu itself */
    pthread_mutex_lock(&W.mu);
    bool needed = cron_needed_locked(rewrite_pending);
    W.cron_parked = !needed;
    pthread_mutex_unlock(&W.mu);
    if (needed && !A.cron_on) rt_timer_start(&A.cron, A.thread, 100, 100, cron, NULL);
    else if (!needed && A.cron_on) rt_timer_stop(&A.cron);
    A.cron_on = needed;
}

void aof_actor_kick(void) { send_msg(AOF_MSG_KICK); }

static void behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    (void)self;
    if (msg->type == AOF_MSG_CONFIG) {
        free(msg);
        aof_rewrite_on_config(aof_conf_bool("appendonly"));
    } else if (msg->type == AOF_MSG_RESTART) {
        free(msg);
        if (aof_conf_bool("appendonly")) {
            LOG_NOTICE("Restarting the AOF after a full sync: a rewrite makes its new base");
            aof_rewrite_on_config(false);
            aof_rewrite_on_config(true);
            aof_rewrite_try_start();
        }
    } else if (msg->type == AOF_MSG_KICK) {
        free(msg);
    } else {
        aof_rewrite_on_msg(msg);
    }
    status_update();
    cron_update();
}

void aof_shutdown_sync(void)
{
    pthread_mutex_lock(&W.mu);
    if (W.on && W.fd >= 0) {
        LOG_NOTICE("Calling fsync() on the AOF file.");
        if (W.retry.len || W.pend.len) write_parts(NULL, 0, NULL, 0);
        (void)fdatasync(W.fd);
    }
    pthread_mutex_unlock(&W.mu);
}

void aof_restart_after_sync(void)
{
    if (!A.thread) return;
    rt_msg_t *m = xcalloc(1, sizeof *m);
    m->type = AOF_MSG_RESTART;
    rt_send(&A.actor, m);
}

static void on_config_change(const char *name, void *arg)
{
    (void)arg;
    if (!strcmp(name, "appendfsync")) {   /* an everysec fsync may be due now */
        aof_actor_kick();
        return;
    }
    if (strcmp(name, "appendonly") != 0) return;
    /* As 7.0.15's stopAppendOnly, writing stops within the CONFIG SET: no
     * write acknowledged after its reply reaches the file. */
    if (!aof_conf_bool("appendonly")) aof_actor_switch_off(false);
    rt_msg_t *m = xcalloc(1, sizeof *m);
    m->type = AOF_MSG_CONFIG;
    rt_send(&A.actor, m);
    /* As 7.0.15's startAppendOnly, the rewrite that makes the base starts
     * within the CONFIG SET (its message follows the one above). */
    if (aof_conf_bool("appendonly")) aof_rewrite_try_start();
}

int aof_start(void)
{
    aof_conf_names(W.filename, sizeof W.filename, W.dirname, sizeof W.dirname);
    g_fsync_idx = config_find("appendfsync");
    resp_buf_init(&W.retry, 2);
    resp_buf_init(&W.pend, 2);
    A.thread = rt_thread_create("aof");
    if (!A.thread) return -1;
    rt_actor_init(&A.actor, A.thread, "aof", behaviour, NULL);
    if (aof_bio_start() != 0) return -1;
    if (aof_gc_start() != 0) return -1;
    if (aof_conf_bool("appendonly")) {
        if (g_aof_loaded_ok) W.man = g_aof_loaded;
        if (open_files_at_start() != 0) return -1;
        aof_actor_begin_waiting();
        aof_rewrite_set_base_size(sizes_before_open() + W.incr_size);
    } else if (aof_manifest_read(W.dirname, W.filename, &W.man) < 0) {
        /* as 7.0.15, which reads the manifest whatever appendonly says */
        return -1;
    }
    W.last_fsync_s = rt_now_ms() / 1000;
    status_update();
    config_subscribe(on_config_change, NULL);
    cron_update();
    return rt_thread_start(A.thread);
}

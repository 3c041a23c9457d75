/* aof.c - the AOF actor (see aof.h): takes the replication stream's
 * handovers in order, writes them to the current incr file once per round
 * of its loop, fsyncs as appendfsync says, and tells the waiting workers
 * which handovers are safe to answer.
 *
 * Group commit: a worker's handover reaches this actor's mailbox through
 * the replication actor; every handover that arrived by the end of a round
 * goes out in one write(2) (and, with appendfsync always, one fdatasync),
 * and only then are their workers released. Workers that handed over while
 * the previous fsync ran are all covered by the next one.
 *
 * Must never: release a handover before its bytes are written (synced with
 * always); write while off; exit on a write error unless appendfsync is
 * always (as 7.0.15: the replies could not be taken back otherwise).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/config/config.h"
#include "actors/persist/aof_internal.h"
#include "actors/repl/repl.h"
#include "actors/worker/worker.h"
#include "proto/rdb.h"
#include "proto/resp.h"
#include "runtime/actor.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

enum { AOF_MSG_FEED = 1, AOF_MSG_CONFIG };

typedef struct aof_feed_msg {
    rt_msg_t hdr;
    uint8_t *data;                /* owned; NULL for a mark without bytes */
    size_t len;
    int worker;
    uint64_t seq;
} aof_feed_msg_t;

/* The actor's state: AOF thread only, except what is published below. */
static struct {
    rt_thread_t *thread;
    rt_actor_t actor;
    bool started;
    bool on;                      /* writing to `fd` */
    int fd;
    char filename[256], dirname[256];
    aof_manifest_t man;
    resp_buf_t buf;               /* bytes of this round (and of failed writes) */
    uint64_t round_seq[MAX_WORKERS];
    bool round_any;
    bool need_select;             /* a new incr file starts with SELECT 0, as redis-server's */
    long long last_ts;            /* the last #TS: annotation's second */
    long long incr_size;          /* bytes of the current incr file */
    long long synced_size;        /* of which fsync'ed */
    long long last_fsync_s;
    rt_timer_t cron;
    long long write_err_logged_s;
} A = { .fd = -1 };

extern _Atomic int g_aof_rewriting;   /* aof_rewrite.c: a rewrite runs */

/* Published for workers, INFO and commands. */
static _Atomic int g_wait;                          /* handovers wait (relaxed: see aof_wait_wanted) */
static _Atomic uint64_t g_done[MAX_WORKERS];        /* last released handover per worker */
static _Atomic int g_sleepers;
static pthread_mutex_t wait_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wait_cv = PTHREAD_COND_INITIALIZER;
static _Atomic int g_write_err;                     /* errno of the failing write, 0 when ok */
static _Atomic long long g_incr_size;               /* A.incr_size for INFO (relaxed: a figure) */
static pthread_mutex_t status_mu = PTHREAD_MUTEX_INITIALIZER;
static aof_status_t g_status = { .last_rewrite_time_sec = -1, .current_rewrite_time_sec = -1,
                                 .last_bgrewrite_ok = true, .last_write_ok = true };

/* ---------------- background fsync (everysec) ---------------- */

/* One job at a time, as redis-server's bio: fsync `fd`, and close it after
 * when `close_after` (the incr file a rotation left). */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fds[64];
    bool close_after[64];
    int n;
    bool busy;
} bio = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
static _Atomic long long g_bio_pending;

static void *bio_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&bio.mu);
    for (;;) {
        while (bio.n == 0) pthread_cond_wait(&bio.cv, &bio.mu);
        int fd = bio.fds[0];
        bool cl = bio.close_after[0];
        bio.n--;
        memmove(bio.fds, bio.fds + 1, sizeof bio.fds[0] * (size_t)bio.n);
        memmove(bio.close_after, bio.close_after + 1, sizeof bio.close_after[0] * (size_t)bio.n);
        bio.busy = true;
        pthread_mutex_unlock(&bio.mu);
        (void)fdatasync(fd);
        if (cl) close(fd);
        pthread_mutex_lock(&bio.mu);
        bio.busy = false;
        atomic_fetch_sub_explicit(&g_bio_pending, 1, memory_order_relaxed);
    }
    return NULL;
}

static void bio_submit(int fd, bool close_after)
{
    pthread_mutex_lock(&bio.mu);
    if (bio.n == 64) {                   /* never in practice: do it here */
        pthread_mutex_unlock(&bio.mu);
        (void)fdatasync(fd);
        if (close_after) close(fd);
        return;
    }
    bio.fds[bio.n] = fd;
    bio.close_after[bio.n++] = close_after;
    atomic_fetch_add_explicit(&g_bio_pending, 1, memory_order_relaxed);
    pthread_cond_signal(&bio.cv);
    pthread_mutex_unlock(&bio.mu);
}

/* ---------------- workers' side ---------------- */

bool aof_wait_wanted(void)
{
    /* relaxed: a worker that misses the switch on only skips waiting for a
     * file that was not open when its bytes were handed over */
    return atomic_load_explicit(&g_wait, memory_order_relaxed) != 0;
}

void aof_wait_handover(int worker, uint64_t seq)
{
    if (worker < 0 || worker >= MAX_WORKERS) return;
    /* acquire: pairs with the release in publish_round */
    if (atomic_load_explicit(&g_done[worker], memory_order_acquire) >= seq) return;
    pthread_mutex_lock(&wait_mu);
    /* seq_cst increment and load: with publish_round's seq_cst store and
     * load, either it sees a sleeper or we see the new mark (no lost wakeup) */
    atomic_fetch_add(&g_sleepers, 1);
    while (atomic_load(&g_done[worker]) < seq && atomic_load_explicit(&g_wait, memory_order_relaxed))
        pthread_cond_wait(&wait_cv, &wait_mu);
    atomic_fetch_sub(&g_sleepers, 1);
    pthread_mutex_unlock(&wait_mu);
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

static void wake_all(void)
{
    if (atomic_load(&g_sleepers) == 0) return;
    pthread_mutex_lock(&wait_mu);
    pthread_cond_broadcast(&wait_cv);
    pthread_mutex_unlock(&wait_mu);
}

static void publish_round(void)
{
    if (!A.round_any) return;
    for (int i = 0; i < MAX_WORKERS; i++) {
        if (!A.round_seq[i]) continue;
        atomic_store(&g_done[i], A.round_seq[i]);   /* seq_cst: see aof_wait_handover */
        A.round_seq[i] = 0;
    }
    A.round_any = false;
    wake_all();
}

/* ---------------- status ---------------- */

static long long file_size(const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", A.dirname, name);
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* The base, the incr files before the open one, and what the open one holds. */
static long long sizes(long long *base_out)
{
    long long base = A.man.has_base ? file_size(A.man.base.name) : 0;
    long long incr_before = 0;
    for (int i = 0; i + 1 < A.man.nincr; i++) incr_before += file_size(A.man.incr[i].name);
    if (base_out) *base_out = base;
    return base + incr_before + A.incr_size;
}

long long aof_actor_current_size(void) { return sizes(NULL); }

static void status_update(void)
{
    long long cur = sizes(NULL);
    long long base = aof_rewrite_base_size();
    pthread_mutex_lock(&status_mu);
    g_status.enabled = A.on || aof_conf_bool("appendonly");
    g_status.last_write_ok = atomic_load_explicit(&g_write_err, memory_order_relaxed) == 0;
    g_status.base_size = base;
    g_status.current_size = cur - A.incr_size;   /* aof_status_get adds the open file's live size */
    g_status.buffer_length = (long long)A.buf.len;
    g_status.pending_bio_fsync = atomic_load_explicit(&g_bio_pending, memory_order_relaxed);
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
            g_status.rewrites++;
            g_status.rewrites_consecutive_failures = 0;
        } else {
            g_status.rewrites_consecutive_failures++;
        }
    }
    g_status.current_rewrite_time_sec = in_progress ? (rt_mono_ms() - started_ms) / 1000 : -1;
    pthread_mutex_unlock(&status_mu);
}

/* ---------------- writing ---------------- */

static int fsync_policy(void)
{
    char buf[16];
    if (config_get_by_name("appendfsync", buf, sizeof buf) < 0) return AOF_FSYNC_EVERYSEC;
    if (!strcmp(buf, "always")) return AOF_FSYNC_ALWAYS;
    if (!strcmp(buf, "no")) return AOF_FSYNC_NO;
    return AOF_FSYNC_EVERYSEC;
}


/* Writes the round's bytes; returns false after a failed write. */
static bool write_buf(void)
{
    if (A.buf.len == 0) return true;
    size_t off = 0;
    int err = 0;
    while (off < A.buf.len) {
        ssize_t n = write(A.fd, A.buf.data + off, A.buf.len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            err = n < 0 ? errno : ENOSPC;
            break;
        }
        off += (size_t)n;
    }
    if (!err) {
        A.incr_size += (long long)A.buf.len;
        atomic_store_explicit(&g_incr_size, A.incr_size, memory_order_relaxed);
        resp_buf_reset(&A.buf);
        if (atomic_load_explicit(&g_write_err, memory_order_relaxed)) {
            LOG_WARNING("AOF write error looks solved, Redis can write again.");
            atomic_store_explicit(&g_write_err, 0, memory_order_relaxed);
        }
        return true;
    }
    long long now_s = rt_now_ms() / 1000;
    bool can_log = now_s - A.write_err_logged_s > 30;
    if (can_log) A.write_err_logged_s = now_s;
    if (off > 0) {
        if (can_log)
            LOG_WARNING("Short write while writing to the AOF file: (nwritten=%lld, expected=%lld)", (long long)off,
                        (long long)A.buf.len);
        if (ftruncate(A.fd, A.incr_size) != 0) {
            if (can_log)
                LOG_WARNING("Could not remove short write from the append-only file.  Redis may refuse to load the "
                            "AOF the next time it starts.  ftruncate: %s", strerror(errno));
            A.incr_size += (long long)off;
            memmove(A.buf.data, A.buf.data + off, A.buf.len - off);
            A.buf.len -= off;
        }
        err = ENOSPC;
    } else if (can_log) {
        LOG_WARNING("Error writing to the AOF file: %s", strerror(err));
    }
    if (fsync_policy() == AOF_FSYNC_ALWAYS) {
        LOG_WARNING("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
        _exit(1);
    }
    atomic_store_explicit(&g_write_err, err, memory_order_relaxed);
    return false;
}

static void maybe_fsync(void)
{
    if (A.fd < 0 || A.synced_size == A.incr_size) return;
    if (aof_conf_bool("no-appendfsync-on-rewrite") && atomic_load_explicit(&g_aof_rewriting, memory_order_relaxed))
        return;
    int policy = fsync_policy();
    if (policy == AOF_FSYNC_ALWAYS) {
        if (fdatasync(A.fd) != 0) {
            LOG_WARNING("Can't persist AOF for fsync error when the AOF fsync policy is 'always': %s. Exiting...",
                        strerror(errno));
            _exit(1);
        }
        A.synced_size = A.incr_size;
        A.last_fsync_s = rt_now_ms() / 1000;
    } else if (policy == AOF_FSYNC_EVERYSEC) {
        long long now_s = rt_now_ms() / 1000;
        if (now_s <= A.last_fsync_s) return;
        if (atomic_load_explicit(&g_bio_pending, memory_order_relaxed) > 0) {
            if (now_s - A.last_fsync_s >= 2) {
                pthread_mutex_lock(&status_mu);
                g_status.delayed_fsync++;
                pthread_mutex_unlock(&status_mu);
            }
            return;
        }
        bio_submit(A.fd, false);
        A.synced_size = A.incr_size;
        A.last_fsync_s = now_s;
    }
}

/* End of a round: one write for everything that came, the fsync the policy
 * asks for, then the workers waiting on these handovers go. */
static void round_end(rt_thread_t *t, void *arg)
{
    (void)t;
    (void)arg;
    if (A.on && A.fd >= 0) {
        write_buf();
        maybe_fsync();
    } else {
        resp_buf_reset(&A.buf);
    }
    publish_round();
}

static void append_bytes(const void *p, size_t n) { resp_buf_append(&A.buf, p, n); }

static void on_feed(aof_feed_msg_t *m)
{
    if (A.on && A.fd >= 0 && m->data) {
        if (aof_conf_bool("aof-timestamp-enabled")) {
            long long now_s = rt_now_ms() / 1000;
            if (now_s > A.last_ts) {
                char ts[48];
                int n = snprintf(ts, sizeof ts, "#TS:%lld\r\n", now_s);
                append_bytes(ts, (size_t)n);
                A.last_ts = now_s;
            }
        }
        if (A.need_select) {
            static const char sel[] = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n";
            append_bytes(sel, sizeof sel - 1);
            A.need_select = false;
        }
        append_bytes(m->data, m->len);
    }
    if (m->worker >= 0 && m->worker < MAX_WORKERS && m->seq) {
        A.round_seq[m->worker] = m->seq;
        A.round_any = true;
    }
    free(m->data);
    free(m);
}

void aof_feed(uint8_t *data, size_t len, int worker, uint64_t seq)
{
    aof_feed_msg_t *m = xmalloc(sizeof *m);
    memset(&m->hdr, 0, sizeof m->hdr);
    m->hdr.type = AOF_MSG_FEED;
    m->data = data;
    m->len = len;
    m->worker = worker;
    m->seq = seq;
    rt_send(&A.actor, &m->hdr);
}

/* ---------------- files ---------------- */

static int open_incr(const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", A.dirname, name);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) LOG_WARNING("Can't open the append-only file %s: %s", name, strerror(errno));
    return fd;
}

long long aof_actor_rotate(void)
{
    /* The bytes before the cut belong to the old file. */
    if (A.fd >= 0) write_buf();
    aof_manifest_t next = A.man;
    const char *name = aof_manifest_new_incr(&next, A.filename);
    if (!name) return -1;
    int fd = open_incr(name);
    if (fd < 0) return -1;
    int e = aof_manifest_persist(A.dirname, A.filename, &next);
    if (e) {
        LOG_WARNING("Can't persist the AOF manifest: %s", strerror(e));
        close(fd);
        return -1;
    }
    int old = A.fd;
    A.man = next;
    A.fd = fd;
    A.incr_size = A.synced_size = 0;
    atomic_store_explicit(&g_incr_size, 0, memory_order_relaxed);
    A.need_select = true;
    A.last_ts = 0;
    if (old >= 0) bio_submit(old, true);   /* the old file's tail reaches the disk, then it closes */
    LOG_NOTICE("Creating AOF incr file %s on background rewrite", name);
    return A.man.incr[A.man.nincr - 1].seq;
}

/* An empty base: an RDB without keys, or an empty AOF. */
static int write_empty_base(const char *name, bool rdb)
{
    if (!rdb) {
        const uint8_t *parts[1] = { (const uint8_t *)"" };
        size_t lens[1] = { 0 };
        return aof_write_whole_file(A.dirname, name, parts, lens, 1);
    }
    rdb_encoder_t e;
    rdb_encoder_init(&e, 0);
    rdb_aux_info_t aux = { .ctime = rt_now_ms() / 1000, .used_mem = 0, .aof_base = 1 };
    rdb_encode_header(&e);
    rdb_encode_aux_fields(&e, &aux);
    rdb_encode_eof(&e);
    const uint8_t *parts[1] = { rdb_encoder_data(&e) };
    size_t lens[1] = { rdb_encoder_pending(&e) };
    int rc = aof_write_whole_file(A.dirname, name, parts, lens, 1);
    rdb_encoder_free(&e);
    return rc;
}

/* Opens the files as the manifest says (start, or appendonly turned on at
 * a restart-free point); creates the base when there is none. */
static int open_files_at_start(void)
{
    if (mkdir(A.dirname, 0755) != 0 && errno != EEXIST) {
        LOG_WARNING("Can't open or create append-only dir %s: %s", A.dirname, strerror(errno));
        return -1;
    }
    bool had_incr = A.man.nincr > 0;
    if (!A.man.has_base && !had_incr) {
        bool rdb = aof_conf_bool("aof-use-rdb-preamble");
        const char *base = aof_manifest_new_base(&A.man, A.filename, rdb);
        int e = write_empty_base(base, rdb);
        if (e) {
            LOG_WARNING("Can't create the AOF base file %s: %s", base, strerror(e));
            return -1;
        }
        LOG_NOTICE("Creating AOF base file %s on server start", base);
    }
    if (!had_incr) aof_manifest_new_incr(&A.man, A.filename);
    const char *name = A.man.incr[A.man.nincr - 1].name;
    A.fd = open_incr(name);
    if (A.fd < 0) return -1;
    int e = aof_manifest_persist(A.dirname, A.filename, &A.man);
    if (!e && A.man.nhist) {
        aof_manifest_drop_history(&A.man, A.dirname);
        e = aof_manifest_persist(A.dirname, A.filename, &A.man);
    }
    if (e) {
        LOG_WARNING("Can't persist the AOF manifest: %s", strerror(e));
        return -1;
    }
    struct stat st;
    A.incr_size = A.synced_size = fstat(A.fd, &st) == 0 ? st.st_size : 0;
    atomic_store_explicit(&g_incr_size, A.incr_size, memory_order_relaxed);
    A.need_select = true;
    LOG_NOTICE("%s AOF incr file %s on server start", had_incr ? "Opening" : "Creating", name);
    return 0;
}

/* ---------------- the actor ---------------- */

static void cron(rt_timer_t *t, void *arg)
{
    (void)t;
    (void)arg;
    if (A.on && A.fd >= 0) {
        if (A.buf.len) write_buf();       /* retry after a failed write */
        maybe_fsync();
    }
    aof_rewrite_cron();
    status_update();
}

static void behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    (void)self;
    switch (msg->type) {
    case AOF_MSG_FEED:
        on_feed((aof_feed_msg_t *)msg);
        break;
    case AOF_MSG_CONFIG:
        free(msg);
        aof_rewrite_on_config(aof_conf_bool("appendonly"));
        status_update();
        break;
    default:
        aof_rewrite_on_msg(msg);
        status_update();
    }
}

static void on_config_change(const char *name, void *arg)
{
    (void)arg;
    if (strcmp(name, "appendonly") != 0) return;
    rt_msg_t *m = xcalloc(1, sizeof *m);
    m->type = AOF_MSG_CONFIG;
    rt_send(&A.actor, m);
    /* As 7.0.15's startAppendOnly, the rewrite that makes the base starts
     * within the CONFIG SET (its message follows the one above). */
    if (aof_conf_bool("appendonly")) aof_rewrite_try_start();
}

/* aof_rewrite.c drives these from the actor's thread. */
static void temp_incr_path(char *buf, size_t cap) { snprintf(buf, cap, "%s/temp-%s.incr", A.dirname, A.filename); }

int aof_actor_open_temp_incr(void)
{
    if (mkdir(A.dirname, 0755) != 0 && errno != EEXIST) return -1;
    char path[600];
    temp_incr_path(path, sizeof path);
    int fd = open(path, O_WRONLY | O_TRUNC | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        LOG_WARNING("Can't open the append-only file %s: %s", path, strerror(errno));
        return -1;
    }
    if (A.fd >= 0) close(A.fd);
    A.fd = fd;
    A.incr_size = A.synced_size = 0;
    atomic_store_explicit(&g_incr_size, 0, memory_order_relaxed);
    A.need_select = true;
    A.last_ts = 0;
    A.on = true;
    return 0;
}

int aof_actor_adopt_temp_incr(const char *name)
{
    char from[600], to[600];
    temp_incr_path(from, sizeof from);
    snprintf(to, sizeof to, "%s/%s", A.dirname, name);
    if (rename(from, to) != 0) {
        LOG_WARNING("Error trying to rename the temporary AOF incr file %s into %s: %s", from, name, strerror(errno));
        return -1;
    }
    return 0;
}

void aof_actor_drop_temp_incr(void)
{
    char path[600];
    temp_incr_path(path, sizeof path);
    if (A.fd >= 0) close(A.fd);
    A.fd = -1;
    A.on = false;
    resp_buf_reset(&A.buf);
    unlink(path);
}

bool aof_actor_is_on(void) { return A.on; }
const aof_manifest_t *aof_actor_manifest(void) { return &A.man; }
void aof_actor_set_manifest(const aof_manifest_t *m) { A.man = *m; }
const char *aof_actor_dirname(void) { return A.dirname; }
const char *aof_actor_filename(void) { return A.filename; }
rt_thread_t *aof_actor_thread(void) { return A.thread; }
rt_actor_t *aof_actor(void) { return &A.actor; }

/* Turns writing on at the cut of the rewrite that made the base (CONFIG SET
 * appendonly yes), or off. */
void aof_actor_switch(bool on)
{
    if (on == A.on) return;
    A.on = on;
    if (!on) {
        if (A.fd >= 0) {
            write_buf();
            (void)fdatasync(A.fd);
            close(A.fd);
            A.fd = -1;
        }
        atomic_store_explicit(&g_wait, 0, memory_order_relaxed);
        atomic_store_explicit(&g_write_err, 0, memory_order_relaxed);
        wake_all();
    }
}

void aof_actor_begin_waiting(void)
{
    atomic_store(&g_repl_propagate, 1);   /* seq_cst: before any worker's next write */
    atomic_store_explicit(&g_wait, 1, memory_order_relaxed);
}

int aof_start(void)
{
    aof_conf_names(A.filename, sizeof A.filename, A.dirname, sizeof A.dirname);
    resp_buf_init(&A.buf, 2);
    A.thread = rt_thread_create("aof");
    if (!A.thread) return -1;
    rt_actor_init(&A.actor, A.thread, "aof", behaviour, NULL);
    rt_thread_add_prepare_hook(A.thread, round_end, NULL);
    pthread_t th;
    if (pthread_create(&th, NULL, bio_main, NULL) != 0) return -1;
    pthread_detach(th);
    if (aof_conf_bool("appendonly")) {
        if (g_aof_loaded_ok) A.man = g_aof_loaded;
        if (open_files_at_start() != 0) return -1;
        A.on = true;
        aof_actor_begin_waiting();
        aof_rewrite_set_base_size(sizes(NULL));
    } else if (aof_manifest_read(A.dirname, A.filename, &A.man) < 0) {
        /* as 7.0.15, which reads the manifest whatever appendonly says */
        return -1;
    }
    A.last_fsync_s = rt_now_ms() / 1000;
    status_update();
    config_subscribe(on_config_change, NULL);
    rt_timer_start(&A.cron, A.thread, 100, 100, cron, NULL);
    A.started = true;
    return rt_thread_start(A.thread);
}

/* persister.c - see persister.h. Bursts are coalesced: save requests only
 * record the newest text, and the write happens in a prepare hook, once the
 * mailbox batch that carried them has been drained. */
#include <ck_pr.h>
#include <pthread.h>
#include <errno.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actors/config/config.h"
#include "actors/persist/persister.h"
#include "runtime/tmpfile.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

/* Orders the writes of one file made from two threads: the persister's, and
 * persister_write_through's on the state actor's thread. `written` is the
 * version whose text the file holds; nobody puts an older one over it. */
typedef struct persist_guard {
    pthread_mutex_t lock;
    uint64_t written;             /* under lock */
    /* The file's directory entry is known durable: a directory fsync came
     * after the last rename or exchange (under lock). */
    bool dir_synced;
    /* nodes.conf as the write through opened it, kept open between writes
     * (-1: none), and the `dir` it was opened under (under lock). Closed
     * when a rename or exchange puts another file under the name. */
    int kept_fd;
    char kept_dir[PATH_MAX];
} persist_guard_t;

struct persister {
    rt_actor_t actor;             /* actor.state points back here */
    const persist_io_t *io;
    persist_guard_t guard;
    char path[1024];
    uint32_t ack_type;
    persist_req_t *newest;        /* coalesced pending write */
    persist_req_t **waiters;      /* requests kept to be acknowledged after the coalesced write */
    int nwaiters, capwaiters;
};

/* The node's own persister (persister_start): static, as its actor must
 * outlive every message the state actor may still send it. */
static persister_t node_persister;

static int posix_rename(int dirfd, const char *from, const char *to) { return renameat(dirfd, from, dirfd, to); }
static int posix_exchange(int dirfd, const char *a, const char *b) { return renameat2(dirfd, a, dirfd, b, RENAME_EXCHANGE); }

/* One page on every machine we run on: a write of at most this much at
 * offset 0 is copied into the page cache whole or not at all. */
#define OVERWRITE_MAX 4096

/* persist_overwrite's write on an open file; cut: the file is cut to the
 * text's length afterwards, else the newline padding stays
 * (persist_overwrite_keep). EXDEV for what cannot be written in place (a
 * text or file over a page, not a regular file), ENOENT for a file no
 * longer linked (removed or replaced under a kept descriptor). */
static int overwrite_fd(int fd, const char *text, size_t len, bool cut)
{
    long page = sysconf(_SC_PAGESIZE);
    if (page < OVERWRITE_MAX || len > OVERWRITE_MAX) return EXDEV;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > OVERWRITE_MAX) return EXDEV;
    if (sb.st_nlink == 0) return ENOENT;
    size_t old = (size_t)sb.st_size, n = len > old ? len : old;
    char buf[OVERWRITE_MAX];
    memcpy(buf, text, len);
    memset(buf + len, '\n', n - len);
    ssize_t w;
    while ((w = pwrite(fd, buf, n, 0)) < 0 && errno == EINTR) {}
    if (w < 0) return errno;
    if ((size_t)w != n) return EIO;   /* cannot be for a page to a regular file; refused if it is */
    if (cut && n > len && ftruncate(fd, (off_t)len) != 0) return errno;
    return 0;
}

static int overwrite_at(int dirfd, const char *name, const char *text, size_t len, bool cut)
{
    if (len > OVERWRITE_MAX) return EXDEV;
    int fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno;
    int err = overwrite_fd(fd, text, len, cut);
    if (err == ENOENT) err = EXDEV;   /* just opened by name: cannot be unlinked but by a race */
    if (close(fd) != 0 && !err) err = errno;
    return err;
}

int persist_overwrite(int dirfd, const char *name, const char *text, size_t len)
{
    return overwrite_at(dirfd, name, text, len, true);
}

int persist_overwrite_keep(int dirfd, const char *name, const char *text, size_t len)
{
    return overwrite_at(dirfd, name, text, len, false);
}

const persist_io_t persist_io_posix = {
    .open_tmp = rt_tmpfile_create,
    .write = write,
    .fsync = fsync,
    .rename = posix_rename,
    .dir_fsync = fsync,
    .exchange = posix_exchange,
    .overwrite = persist_overwrite,
    .overwrite_keep = persist_overwrite_keep,
};

/* The directory that holds `path`: its own directory when absolute, else
 * relative to `dir` as it is now (nodes.conf follows CONFIG SET dir, as it
 * does in Redis, but each write happens wholly in one directory). */
static int open_parent(const char *path, const char **base)
{
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    if (!slash) return config_dir_open();
    char parent[1024];
    size_t n = (size_t)(slash - path);
    if (n == 0) n = 1;                                   /* "/nodes.conf" */
    if (n >= sizeof parent) { errno = ENAMETOOLONG; return -1; }
    memcpy(parent, path, n);
    parent[n] = '\0';
    if (path[0] == '/') return open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int dirfd = config_dir_open();
    if (dirfd < 0) return -1;
    int fd = openat(dirfd, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int e = errno;
    close(dirfd);
    errno = e;
    return fd;
}

/* The write through's kept descriptor no longer names the file (another
 * one took the name). Under the guard's lock. */
static void drop_kept(persist_guard_t *g)
{
    if (g->kept_fd >= 0) close(g->kept_fd);
    g->kept_fd = -1;
}

/* After a directory fsync that followed every rename so far. A rename
 * between the two leaves the flag false, so the next in-place sync does the
 * directory again: at worst one fsync too many. */
static void mark_dir_synced(persist_guard_t *g)
{
    if (!g) return;
    pthread_mutex_lock(&g->lock);
    g->dir_synced = true;
    pthread_mutex_unlock(&g->lock);
}

/* Makes the file in place durable, as 7.0.15's clusterSaveConfig(1) does
 * (one fsync of nodes.conf written over its own bytes): fsync of the file,
 * which holds version seq or a newer one, and of the directory only when
 * its entry may not be durable yet (a rename since the last directory
 * fsync, or no guard to know it). Runs without the guard's lock, so a
 * write in place by the state actor never waits for the disk; what it
 * writes meanwhile is newer, holds everything this version did, and is
 * what the fsync then covers. Returns 0 or errno. */
static int sync_in_place(const persist_io_t *io, int dirfd, const char *name, persist_guard_t *g)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    int err = io->fsync(fd) != 0 ? errno : 0;
    close(fd);
    if (err) return err;
    bool dir_ok = false;
    if (g) {
        pthread_mutex_lock(&g->lock);
        dir_ok = g->dir_synced;
        pthread_mutex_unlock(&g->lock);
    }
    if (dir_ok) return 0;
    if (io->dir_fsync(dirfd) != 0) return errno;
    mark_dir_synced(g);
    return 0;
}

/* Puts the fully written temp file in place: fsync, close, rename over
 * `final`, fsync of the directory (rt_tmpfile_commit's steps, each through
 * io). Without do_fsync: close, then the temp file and `final` swap names
 * (one atomic step, `final` naming a whole file before and after) and the
 * old text, now under the temp name, is removed; the new text is in the
 * page cache, which outlives a killed process but not a power loss, as
 * 7.0.15's saves without fsync. The swap rather than a rename because ext4
 * (auto_da_alloc) starts writing the new file out on a rename over an
 * existing one, which cost ~0.3 ms a save here, most of a SETSLOT's time;
 * where the swap fails (no old file yet, a file system without it) the
 * rename does it. Always closes fd. A failure up to the rename removes the
 * temp file and leaves `final` untouched; a failed directory fsync comes
 * after the rename, so the new file is in place but not known durable, and
 * that is reported too. With a guard (g, version seq) the name changes
 * under its lock, and when the file already holds a newer version the temp
 * file is dropped instead and, with do_fsync, the file in place (which
 * holds everything this text did) is what gets fsynced. Returns 0 or errno. */
static int commit(const persist_io_t *io, int dirfd, int fd, const char *tmp, const char *final, bool do_fsync,
                  persist_guard_t *g, uint64_t seq)
{
    int err = 0;
    if (do_fsync && io->fsync(fd) != 0) err = errno;
    if (close(fd) != 0 && !err) err = errno;
    if (g) pthread_mutex_lock(&g->lock);
    if (!err && g && g->written > seq) {
        pthread_mutex_unlock(&g->lock);
        unlinkat(dirfd, tmp, 0);
        return do_fsync ? sync_in_place(io, dirfd, final, g) : 0;
    }
    if (!err && !do_fsync && io->exchange && io->exchange(dirfd, tmp, final) == 0) {
        if (g) {
            g->written = seq;
            g->dir_synced = false;
            drop_kept(g);
            pthread_mutex_unlock(&g->lock);
        }
        unlinkat(dirfd, tmp, 0);   /* the old text; a leftover is removed by the next open_tmp */
        return 0;
    }
    if (!err && io->rename(dirfd, tmp, final) != 0) err = errno;
    if (g) {
        if (!err) {
            g->written = seq;
            g->dir_synced = false;
            drop_kept(g);
        }
        pthread_mutex_unlock(&g->lock);
    }
    if (err) {
        unlinkat(dirfd, tmp, 0);
        return err;
    }
    if (!do_fsync) return 0;
    if (io->dir_fsync(dirfd) != 0) return errno;
    mark_dir_synced(g);
    return 0;
}

/* Version seq of the file's text, written as the two functions below say;
 * g may be NULL (a single writer). */
static int write_file(const persist_io_t *io, const char *path, const char *text, size_t len, bool do_fsync,
                      persist_guard_t *g, uint64_t seq)
{
    const char *base;
    int dirfd = open_parent(path, &base);
    if (dirfd < 0) return errno;
    if (io->overwrite) {
        /* In place, as 7.0.15 writes nodes.conf; with fsync, one fsync
         * of the file after it (sync_in_place), not the temp file's, the
         * rename and the directory's of the path below. */
        if (g) pthread_mutex_lock(&g->lock);
        /* written >= seq: this version (persister_write_through put it in
         * place first, then asked us for its fsync) or a newer one */
        bool newer = g && g->written >= seq;
        bool done = newer || io->overwrite(dirfd, base, text, len) == 0;
        if (g) {
            if (done && !newer) g->written = seq;
            pthread_mutex_unlock(&g->lock);
        }
        if (done) {
            int err = do_fsync ? sync_in_place(io, dirfd, base, g) : 0;
            close(dirfd);
            return err;
        }
    }
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", base, (int)getpid());
    int fd = io->open_tmp(dirfd, tmp, 0644);
    if (fd < 0) {
        int e = errno;
        close(dirfd);
        return e;
    }
    int err;
    if (rt_write_all_with(io->write, fd, text, len) != 0) {   /* retries short writes, EINTR */
        err = errno;
        close(fd);
        unlinkat(dirfd, tmp, 0);
    } else {
        err = commit(io, dirfd, fd, tmp, base, do_fsync, g, seq);
    }
    close(dirfd);
    return err;
}

int persister_write_file_io(const persist_io_t *io, const char *path, const char *text, size_t len, bool do_fsync)
{
    return write_file(io, path, text, len, do_fsync, NULL, 0);
}

int persister_write_file(const char *path, const char *text, size_t len)
{
    return persister_write_file_io(&persist_io_posix, path, text, len, true);
}

struct persist_wait {
    sem_t done;                   /* posted once `result` is set */
    int result;                   /* 0 or errno */
    unsigned int refs;            /* 2 at birth: the waiter and the persister */
};

persist_wait_t *persist_wait_new(void)
{
    persist_wait_t *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    if (sem_init(&w->done, 0, 0) != 0) { free(w); return NULL; }
    w->refs = 2;
    return w;
}

static void wait_release(persist_wait_t *w)
{
    /* A full fence around the decrement: the side that drops the last
     * reference must see everything the other side did to `w` (its
     * sem_post, its reads of `result`) before it destroys and frees it. */
    ck_pr_fence_memory();
    bool last = false;
    ck_pr_dec_uint_zero(&w->refs, &last);
    ck_pr_fence_memory();
    if (last) {
        sem_destroy(&w->done);
        free(w);
    }
}

void persist_wait_finish(persist_wait_t *w, int err)
{
    if (!w) return;
    w->result = err;              /* published to the waiter by sem_post */
    sem_post(&w->done);
    wait_release(w);
}

int persist_wait_timed(persist_wait_t *w, int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    int rc;
    while ((rc = sem_timedwait(&w->done, &ts)) != 0 && errno == EINTR) {}
    int result = rc == 0 ? w->result : -1;   /* sem_wait ordered it after the persister's write */
    wait_release(w);
    return result;
}

static void finish(persister_t *p, persist_req_t *r, int err)
{
    persist_wait_finish(r->wait, err);
    if (r->reply_to) {
        persist_ack_t *a = calloc(1, sizeof *a);
        if (a) {
            a->hdr.type = p->ack_type;
            a->seq = r->seq;
            a->err = err;
            /* A save nobody waits for (a bus message's: a reshard's
             * source and other masters rebind each moved slot with an
             * fsync) is noted when the requester next wakes: waking it only
             * to record the version cost a thread wake-up per save. */
            if (r->lazy_ack) rt_send_lazy(r->reply_to, &a->hdr);
            else rt_send(r->reply_to, &a->hdr);
        }
    }
    free(r->text);
    free(r);
}

_Atomic long long g_persist_debug_delay_us;

static void flush_hook(rt_thread_t *t, void *arg)
{
    (void)t;
    persister_t *p = arg;
    persist_req_t *r = p->newest;
    if (!r) return;
    p->newest = NULL;
    long long delay = atomic_load_explicit(&g_persist_debug_delay_us, memory_order_relaxed);
    if (delay > 0) {
        struct timespec ts = { .tv_sec = delay / 1000000, .tv_nsec = (delay % 1000000) * 1000 };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
    }
    int err = write_file(p->io, p->path, r->text, r->len, r->fsync, &p->guard, r->seq);
    if (err) LOG_WARNING("Could not save the cluster config file %s: %s", p->path, strerror(err));
    /* Everyone who asked for an older version is covered by this write. */
    for (int i = 0; i < p->nwaiters; i++) finish(p, p->waiters[i], err);
    p->nwaiters = 0;
    finish(p, r, err);
}

static void behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    persister_t *p = self->state;
    if (msg->type != PERSIST_SAVE) { free(msg); return; }
    persist_req_t *r = (persist_req_t *)msg;
    if (p->newest) {
        persist_req_t *old = p->newest;
        /* The one write stands for the older request too: it fsyncs if
         * any of them asked for it. */
        if (old->fsync) r->fsync = true;
        if (old->wait || old->reply_to) {
            /* keep it to acknowledge after the coalesced write */
            if (p->nwaiters == p->capwaiters) {
                int nc = p->capwaiters ? p->capwaiters * 2 : 8;
                persist_req_t **n = xrealloc(p->waiters, sizeof *n * (size_t)nc);
                p->waiters = n;
                p->capwaiters = nc;
            }
            free(old->text);
            old->text = NULL;
            p->waiters[p->nwaiters++] = old;
        } else {
            free(old->text);
            free(old);
        }
    }
    p->newest = r;
}

static int persister_init(persister_t *p, rt_thread_t *thread, const char *path, uint32_t ack_type,
                          const persist_io_t *io)
{
    snprintf(p->path, sizeof p->path, "%s", path);
    pthread_mutex_init(&p->guard.lock, NULL);
    p->guard.kept_fd = -1;
    p->ack_type = ack_type;
    p->io = io;
    rt_actor_init(&p->actor, thread, "persister", behaviour, p);
    return rt_thread_add_prepare_hook(thread, flush_hook, p);
}

persister_t *persister_new(rt_thread_t *thread, const char *path, uint32_t ack_type, const persist_io_t *io)
{
    persister_t *p = xcalloc(1, sizeof *p);
    if (persister_init(p, thread, path, ack_type, io) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

rt_actor_t *persister_actor_of(persister_t *p) { return &p->actor; }

/* A request dropped unwritten: its rendezvous still gets its answer, so
 * that the persister's reference is not lost; no acknowledgement is sent
 * (the thread that would run the receiver may be gone). */
static void drop(persist_req_t *r)
{
    persist_wait_finish(r->wait, ECANCELED);
    free(r->text);
    free(r);
}

void persister_free(persister_t *p)
{
    if (!p) return;
    if (p->newest) drop(p->newest);
    for (int i = 0; i < p->nwaiters; i++) drop(p->waiters[i]);
    free(p->waiters);
    drop_kept(&p->guard);
    free(p);
}

int persister_start(rt_thread_t *thread, const char *path, uint32_t ack_type)
{
    return persister_init(&node_persister, thread, path, ack_type, &persist_io_posix);
}

rt_actor_t *persister_actor(void) { return &node_persister.actor; }

/* The write through on the descriptor kept from the last one (opened now if
 * there is none, or `dir` changed since: nodes.conf follows CONFIG SET dir).
 * Each save of a reshard's SETSLOT opened the directory and the file and
 * closed both: four of the nine system calls a SETSLOT made. Under the
 * guard's lock; a failure drops the descriptor (the caller falls back to
 * the persister, which makes a new file where the old one was removed). */
static int write_kept(persister_t *p, const char *dir, const char *text, size_t len)
{
    persist_guard_t *g = &p->guard;
    if (g->kept_fd >= 0 && strcmp(g->kept_dir, dir) != 0) drop_kept(g);
    if (g->kept_fd < 0) {
        if (len > OVERWRITE_MAX) return EXDEV;
        const char *base;
        int dirfd = open_parent(p->path, &base);
        if (dirfd < 0) return errno;
        int fd = openat(dirfd, base, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        close(dirfd);
        if (fd < 0) return e;
        g->kept_fd = fd;
        snprintf(g->kept_dir, sizeof g->kept_dir, "%s", dir);
    }
    int err = overwrite_fd(g->kept_fd, text, len, false);
    if (err) drop_kept(g);
    return err;
}

int persister_write_through_on(persister_t *p, uint64_t seq, const char *text, size_t len)
{
    if (!p->io || !p->io->overwrite_keep) return EXDEV;   /* not started (a unit test's state) */
    /* The descriptor is kept only for the real in-place write (a test's
     * fault injection keeps its own steps). */
    bool keep = p->io->overwrite_keep == persist_overwrite_keep;
    char dir[PATH_MAX] = "";
    if (keep) config_get_str(CONFIG_DIR, dir, sizeof dir);
    int err = 0;
    pthread_mutex_lock(&p->guard.lock);
    if (p->guard.written < seq) {
        if (keep) {
            err = write_kept(p, dir, text, len);
        } else {
            const char *base;
            int dirfd = open_parent(p->path, &base);
            if (dirfd < 0) err = errno;
            else {
                err = p->io->overwrite_keep(dirfd, base, text, len);
                close(dirfd);
            }
        }
        if (!err) p->guard.written = seq;
    }
    pthread_mutex_unlock(&p->guard.lock);
    return err;
}

int persister_write_through(uint64_t seq, const char *text, size_t len)
{
    return persister_write_through_on(&node_persister, seq, text, len);
}

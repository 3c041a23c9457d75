/* migrate.c - see migrate.h.
 *
 * Everything here runs on the owner worker's thread: the job's rounds, the
 * cached connections (one per host:port, per worker), their watchers and
 * timers. A connection serves one job at a time, as Redis's cached socket
 * does; later jobs for the same target queue behind it.
 *
 * The timeout is 7.0.15's per-call one: `timeout` ms without any progress
 * (connect, bytes written, bytes read) ends the call. 7.0.15 retries once on
 * a fresh connection after a socket error that is not a timeout, when no
 * key's reply was read yet (the cached socket had been closed by the target).
 */
#include <arpa/inet.h>
#include <stdatomic.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/repl/repl.h"
#include "actors/worker/blocking.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/migrate_internal.h"
#include "actors/worker/outconn.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/wdb.h"
#include "proto/migrate.h"
#include "proto/rdb.h"
#include "runtime/tls.h"
#include "runtime/xmalloc.h"

#define MIG_CACHE_ITEMS 64          /* cached connections per worker (7.0.15: 64 per server) */
#define MIG_CACHE_TTL_MS 10000      /* closed when unused for longer (7.0.15: 10 s) */

struct mig_conn {
    mig_conn_t *next;
    char *name;
    size_t namelen;
    int fd;
    bool connecting;
    tls_conn_t *tls;                /* tls-cluster yes: MIGRATE speaks TLS, as 7.0.15 */
    bool write_wants_read;          /* TLS: the write waits for the socket to be readable */
    bool read_wants_write;          /* TLS: the read waits for it to be writable */
    ev_io rio, wio;
    bool rio_on, wio_on;
    long long last_dbid;            /* -1: SELECT first */
    long long last_use_ms;
    resp_buf_t out;
    size_t out_pos;
    mig_line_t line;
    migrate_job_t *head, *tail;     /* head is being served */
    rt_timer_t timer;
    bool timer_on;
    long long progress_ms;          /* monotonic: last connect, write or read */
    unsigned long long rounds_ended;   /* tells a reader that the round it fed has ended */
    /* Its read or write callback is on the stack (read_cb, write_cb): not
     * closed to make room (conn_get). An answer written from there runs
     * the client's next command (job_answer), which may be a MIGRATE to
     * a new target while this one, idle now, heads the full cache. */
    int in_io;
    worker_t *w;
};

typedef struct mig_worker {
    mig_conn_t *conns;
    int nconns;
    rt_timer_t sweep;
    bool sweep_on;
} mig_worker_t;

/* One per worker, touched only by that worker's thread. */
static mig_worker_t *g_mig[MAX_WORKERS];
/* relaxed: a count for INFO */
static _Atomic long long g_cached;

long long migrate_cached_sockets(void) { return atomic_load_explicit(&g_cached, memory_order_relaxed); }

static mig_worker_t *mig_of(worker_t *w)
{
    if (!g_mig[w->index]) g_mig[w->index] = xcalloc(1, sizeof(mig_worker_t));
    return g_mig[w->index];
}

/* ---------------- connections ---------------- */

static void conn_round_start(mig_conn_t *cn);
static void conn_io_error(mig_conn_t *cn, bool writing, bool timedout);
static void job_begin(mig_conn_t *cn);
static void job_resume(mig_conn_t *cn);

static void watch_read(mig_conn_t *cn, bool on)
{
    struct ev_loop *loop = rt_thread_loop(cn->w->thread);
    if (on && !cn->rio_on) ev_io_start(loop, &cn->rio);
    if (!on && cn->rio_on) ev_io_stop(loop, &cn->rio);
    cn->rio_on = on;
}

static void watch_write(mig_conn_t *cn, bool on)
{
    struct ev_loop *loop = rt_thread_loop(cn->w->thread);
    if (on && !cn->wio_on) ev_io_start(loop, &cn->wio);
    if (!on && cn->wio_on) ev_io_stop(loop, &cn->wio);
    cn->wio_on = on;
}

static void conn_disarm(mig_conn_t *cn)
{
    if (cn->timer_on) rt_timer_stop(&cn->timer);
    cn->timer_on = false;
}

/* Closes the socket; the cache entry stays (a new socket is opened, and
 * SELECT sent again, for the next job). */
static void conn_close_socket(mig_conn_t *cn)
{
    cn->rounds_ended++;
    watch_read(cn, false);
    watch_write(cn, false);
    conn_disarm(cn);
    tls_conn_free(cn->tls);
    cn->tls = NULL;
    cn->write_wants_read = cn->read_wants_write = false;
    if (cn->fd >= 0) close(cn->fd);
    cn->fd = -1;
    cn->connecting = false;
    cn->last_dbid = -1;
    resp_buf_reset(&cn->out);
    cn->out_pos = 0;
    cn->line.len = 0;
}

static void conn_free(mig_worker_t *mw, mig_conn_t *cn)
{
    for (mig_conn_t **pp = &mw->conns; *pp; pp = &(*pp)->next)
        if (*pp == cn) {
            *pp = cn->next;
            break;
        }
    mw->nconns--;
    atomic_fetch_sub_explicit(&g_cached, 1, memory_order_relaxed);
    conn_close_socket(cn);
    resp_buf_free(&cn->out);
    free(cn->name);
    free(cn);
}

static void timer_cb(rt_timer_t *t, void *arg)
{
    (void)t;
    mig_conn_t *cn = arg;
    cn->timer_on = false;
    migrate_job_t *j = cn->head;
    if (!j) return;
    long long left = cn->progress_ms + j->timeout_ms - rt_mono_ms();
    if (left > 0) {               /* progress since it was armed: wait the rest */
        rt_timer_start(&cn->timer, cn->w->thread, (double)left, 0, timer_cb, cn);
        cn->timer_on = true;
        return;
    }
    /* A connect that does not finish in time fails as a write that timed
     * out, as in 7.0.15 (its blocking connect reports success either way). */
    bool writing = cn->connecting || cn->out_pos < cn->out.len;
    cn->connecting = false;
    conn_io_error(cn, writing, true);
}

/* Progress: the timeout counts again from now. */
static void conn_progress(mig_conn_t *cn)
{
    cn->progress_ms = rt_mono_ms();
    if (!cn->timer_on && cn->head) {
        rt_timer_start(&cn->timer, cn->w->thread, (double)cn->head->timeout_ms, 0, timer_cb, cn);
        cn->timer_on = true;
    }
}

static void conn_write(mig_conn_t *cn)
{
    cn->write_wants_read = false;
    while (cn->out_pos < cn->out.len) {
        ssize_t n = tls_io_write(cn->tls, cn->fd, cn->out.data + cn->out_pos, cn->out.len - cn->out_pos);
        if (n > 0) {
            cn->out_pos += (size_t)n;
            conn_progress(cn);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* TLS may need the peer's bytes first: the read watcher, on
             * during a round, retries this write */
            if (cn->tls && !tls_conn_wants_write(cn->tls)) cn->write_wants_read = true;
            watch_write(cn, !cn->write_wants_read || cn->read_wants_write);
            return;
        }
        conn_io_error(cn, true, false);
        return;
    }
    watch_write(cn, cn->read_wants_write);
}

static void round_line(mig_conn_t *cn, const char *text);

static void conn_read(mig_conn_t *cn)
{
    uint8_t buf[16384];
    cn->read_wants_write = false;
    for (;;) {
        ssize_t n = tls_io_read(cn->tls, cn->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* TLS may have to write first: the write watcher retries this read */
            if (cn->tls && tls_conn_wants_write(cn->tls)) {
                cn->read_wants_write = true;
                watch_write(cn, true);
            }
            return;
        }
        if (n <= 0) {
            conn_io_error(cn, cn->out_pos < cn->out.len, false);
            return;
        }
        conn_progress(cn);
        size_t pos = 0;
        while (pos < (size_t)n) {
            size_t used = 0;
            bool done = mig_line_feed(&cn->line, buf + pos, (size_t)n - pos, &used);
            pos += used;
            if (!done) break;
            cn->line.len = 0;
            migrate_job_t *j = cn->head;
            if (!j || j->next_line >= j->nexpect) continue;   /* nothing asked: ignore it */
            unsigned long long ended = cn->rounds_ended;
            round_line(cn, cn->line.text);
            /* the round ended (and maybe the job, or the socket): what is
             * left of this read answers nothing we asked */
            if (cn->rounds_ended != ended) return;
        }
        /* TLS goes on to EAGAIN: a record OpenSSL holds makes no socket event */
        if (!cn->tls && (size_t)n < sizeof buf) return;
    }
}

static void read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop; (void)revents;
    mig_conn_t *cn = io->data;
    cn->in_io++;
    if (cn->write_wants_read) {
        unsigned long long ended = cn->rounds_ended;
        conn_write(cn);
        if (cn->rounds_ended != ended || cn->fd < 0) {
            cn->in_io--;
            return;
        }
    }
    conn_read(cn);
    cn->in_io--;
}

static void write_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop; (void)revents;
    mig_conn_t *cn = io->data;
    cn->in_io++;
    if (cn->read_wants_write) {
        unsigned long long ended = cn->rounds_ended;
        conn_read(cn);
        if (cn->rounds_ended != ended || cn->fd < 0) {
            cn->in_io--;
            return;
        }
    }
    conn_write(cn);
    cn->in_io--;
}

/* The socket is connected: its watchers now watch it (a cached connection
 * may have been reopened by a call inside MULTI, which uses no watcher).
 * With tls-cluster the connection is TLS, as 7.0.15's migrateGetSocket
 * makes it; its handshake runs inside the first write and reads. false when
 * no session could be made (TLS not configured). */
static bool conn_ready(mig_conn_t *cn)
{
    cn->connecting = false;
    if (config_get_num(CONFIG_TLS_CLUSTER) && !(cn->tls = tls_conn_connecting(cn->fd))) return false;
    watch_write(cn, false);
    ev_io_init(&cn->wio, write_cb, cn->fd, EV_WRITE);
    ev_io_init(&cn->rio, read_cb, cn->fd, EV_READ);
    cn->wio.data = cn;
    cn->rio.data = cn;
    int one = 1;
    setsockopt(cn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return true;
}

static void connected(mig_conn_t *cn)
{
    if (!conn_ready(cn)) {
        cn->connecting = true;        /* answered as a failed connect */
        conn_io_error(cn, true, false);
        return;
    }
    conn_progress(cn);
    conn_round_start(cn);
}

static void connect_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop; (void)revents;
    mig_conn_t *cn = io->data;
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(cn->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0) err = errno;
    if (err) {
        /* 7.0.15 takes a connect that failed later for a connected socket
         * and fails at its first write: a write error, retried once */
        cn->connecting = false;
        conn_io_error(cn, true, false);
        return;
    }
    connected(cn);
}

/* Starts a non-blocking connect for the job at the head. false when it
 * failed at once (the caller answers the job). */
static bool conn_connect(mig_conn_t *cn, const migrate_job_t *j)
{
    int rc = outconn_open(j->host, j->port, &cn->fd);
    if (rc < 0) return false;
    cn->last_dbid = -1;
    if (rc == 0) {
        connected(cn);
        return true;
    }
    cn->connecting = true;
    ev_io_init(&cn->wio, connect_cb, cn->fd, EV_WRITE);
    cn->wio.data = cn;
    watch_write(cn, true);
    conn_progress(cn);
    return true;
}

/* The socket failed (or `timedout`): 7.0.15's socket_err path. */
static void conn_io_error(mig_conn_t *cn, bool writing, bool timedout)
{
    migrate_job_t *j = cn->head;
    /* a TLS handshake that failed is a failed connect, as 7.0.15's
     * blocking connect-and-handshake reports it */
    bool connecting = cn->connecting || (cn->tls && !tls_conn_handshake_done(cn->tls));
    conn_close_socket(cn);
    if (!j) return;
    if (connecting) {
        j->outcome = OUT_IOERR_CONNECT;
    } else if (j->key_lines_read == 0 && !timedout && !j->retried) {
        /* Nothing was taken yet: once more on a fresh connection. */
        j->retried = true;
        for (int i = 0; i < j->nkeys; i++)
            if (j->keys[i].state == KEY_SENT) j->keys[i].state = KEY_PENDING;
        j->nexpect = j->next_line = 0;
        job_begin(cn);
        return;
    } else {
        j->outcome = writing && j->key_lines_read == 0 ? OUT_IOERR_WRITE : OUT_IOERR_READ;
    }
    job_resume(cn);
}

/* ---------------- rounds ---------------- */

static void expect(migrate_job_t *j, int role, int key)
{
    if (j->nexpect == j->expcap) {
        j->expcap = j->expcap ? j->expcap * 2 : 8;
        j->expect = xrealloc(j->expect, (size_t)j->expcap * sizeof *j->expect);
    }
    j->expect[j->nexpect].role = (uint8_t)role;
    j->expect[j->nexpect].key = key;
    j->nexpect++;
}

/* Writes the round's commands from the keyspace as it is now. */
static void round_build(mig_conn_t *cn, migrate_job_t *j)
{
    worker_t *w = j->w;
    resp_buf_t *o = &cn->out;
    resp_buf_reset(o);
    cn->out_pos = 0;
    j->nexpect = j->next_line = 0;
    j->key_lines_read = 0;
    mig_verdict_init(&j->verdict);
    if (!j->holds_watch) {          /* before it reads a version (watch.h) */
        watch_hold(true);
        j->holds_watch = true;
    }
    j->flush_epoch = w->flush_epoch;
    /* the rounds after the first are built outside the command, where
     * database 0 is current: the keys are the caller's database's */
    struct keyspace *ks = wdb_get(w, j->src_db);
    j->ks = ks;
    bool cluster = config_cluster_enabled();
    if (j->pass) {
        resp_add_array(o, j->user ? 3 : 2);
        resp_add_bulk(o, "AUTH", 4);
        if (j->user) resp_add_bulk(o, j->user, j->userlen);
        resp_add_bulk(o, j->pass, j->passlen);
        expect(j, MIG_ROLE_AUTH, -1);
    }
    if (cn->last_dbid != j->dbid) {
        resp_add_array(o, 2);
        resp_add_bulk(o, "SELECT", 6);
        resp_add_bulk_ll(o, j->dbid);
        expect(j, MIG_ROLE_SELECT, -1);
    }
    long long now = rt_now_ms();
    /* Not LZF-compressed, whatever rdbcompression says (a valid DUMP
     * payload either way; RESTORE on 7.0.15 and here takes both, and the
     * key's value is the same): each MIGRATE of a reshard waits for the
     * compression here and the decompression on the target, about a tenth
     * of both sides' CPU per key for 100-byte values, where the bytes saved
     * cost nothing on a cluster's links. One encoder for the round, started
     * over for each key: its 4 KB buffer was a malloc and a free per key. */
    rdb_encoder_t enc;
    rdb_encoder_init(&enc, 0);
    for (int i = 0; i < j->nkeys; i++) {
        mig_key_t *k = &j->keys[i];
        if (k->state != KEY_PENDING) continue;
        ks_entry_t *e = ks_peek(ks, k->key, k->len);
        long long ttl = 0;
        long long when = e ? ks_entry_expire(ks, e) : KS_NO_EXPIRE;
        if (e && when != KS_NO_EXPIRE) {
            ttl = when - now;
            if (ttl < 0) e = NULL;            /* expired since it was found: skipped, as 7.0.15 */
            else if (ttl < 1) ttl = 1;
        }
        rdb_encoder_reset(&enc);
        if (e && cmd_dump_payload_into(e, &enc)) e = NULL;
        if (!e) {
            if (!k->resend) {
                k->state = KEY_DONE;
                continue;
            }
            /* Our earlier copy is on the target but the key is gone here. */
            if (cluster) {
                resp_add_array(o, 1);
                resp_add_bulk(o, "ASKING", 6);
                expect(j, MIG_ROLE_AUX, -1);
            }
            resp_add_array(o, 2);
            resp_add_bulk(o, "DEL", 3);
            resp_add_bulk(o, k->key, k->len);
        } else {
            bool replace = j->replace || k->resend;
            resp_add_array(o, replace ? 5 : 4);
            if (cluster) resp_add_bulk(o, "RESTORE-ASKING", 14);
            else resp_add_bulk(o, "RESTORE", 7);
            resp_add_bulk(o, k->key, k->len);
            resp_add_bulk_ll(o, ttl);
            resp_add_bulk(o, rdb_encoder_data(&enc), rdb_encoder_pending(&enc));
            if (replace) resp_add_bulk(o, "REPLACE", 7);
        }
        k->version = w->key_versions[wdb_watch_bucket(j->src_db, k->key, k->len)];
        k->state = KEY_SENT;
        expect(j, MIG_ROLE_KEY, i);
    }
    rdb_encoder_free(&enc);
}

static void round_end(mig_conn_t *cn, migrate_job_t *j)
{
    cn->rounds_ended++;
    conn_disarm(cn);
    /* The read watcher stays on while the socket is cached: stopped and
     * started again per round, libev asked epoll to add a socket epoll still
     * had (EEXIST), a wasted call per MIGRATE. Idle, a read answers nothing
     * (conn_read drops what nobody asked for) and a target that closes the
     * socket is noticed at once. */
    /* 7.0.15 forgets the selected db after any error from the target */
    cn->last_dbid = j->verdict.error ? -1 : j->dbid;
    if (j->verdict.auth_failed || j->verdict.select_failed) cn->last_dbid = -1;
    j->next_line = 0;
    j->nexpect = 0;
    job_resume(cn);
}

/* One reply line of the round; true when it was the last one. */
static bool take_line(migrate_job_t *j, const char *text)
{
    mig_expect_t *e = &j->expect[j->next_line++];
    bool taken = mig_verdict_line(&j->verdict, (enum mig_role)e->role, text);
    if (e->role == MIG_ROLE_KEY) {
        j->key_lines_read++;
        j->keys[e->key].state = taken ? KEY_TAKEN : KEY_DONE;
    }
    return j->next_line == j->nexpect;
}

static void round_line(mig_conn_t *cn, const char *text)
{
    migrate_job_t *j = cn->head;
    if (take_line(j, text)) round_end(cn, j);
}

static void conn_round_start(mig_conn_t *cn)
{
    migrate_job_t *j = cn->head;
    j->rounds++;
    round_build(cn, j);
    if (j->nexpect == 0) {        /* every key expired meanwhile: nothing to ask */
        job_resume(cn);
        return;
    }
    conn_progress(cn);
    watch_read(cn, true);
    conn_write(cn);
}

/* ---------------- inside MULTI: the blocking way, as 7.0.15 ---------------- */

/* Waits up to timeout_ms for fd to be ready for `events`: 1 ready, 0 timed
 * out, -1 error. */
static int wait_fd(int fd, short events, long long timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = events };
    for (;;) {
        int n = poll(&p, 1, (int)timeout_ms);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        return n > 0 ? 1 : 0;
    }
}

/* After EAGAIN: waits for what the socket (or its TLS session) needs;
 * 1 ready, 0 timed out, -1 error. */
static int wait_io(mig_conn_t *cn, bool writing, long long timeout_ms)
{
    bool out = cn->tls ? tls_conn_wants_write(cn->tls) : writing;
    return wait_fd(cn->fd, out ? POLLOUT : POLLIN, timeout_ms);
}

/* The blocking TCP connect, and the TLS handshake with tls-cluster. 0, or
 * -1 with *timedout set (j->outcome set when it is a failed connect). */
static int sync_connect(mig_conn_t *cn, migrate_job_t *j, bool *timedout)
{
    int rc = outconn_open(j->host, j->port, &cn->fd);
    if (rc < 0) {
        j->outcome = OUT_IOERR_CONNECT;
        return -1;
    }
    cn->last_dbid = -1;
    if (rc == 1) {
        int w = wait_fd(cn->fd, POLLOUT, j->timeout_ms);
        int err = 0;
        socklen_t el = sizeof err;
        if (w == 0) *timedout = true;
        if (w <= 0 || getsockopt(cn->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err) return -1;
    }
    if (!conn_ready(cn)) {
        j->outcome = OUT_IOERR_CONNECT;
        return -1;
    }
    while (cn->tls) {
        int h = tls_conn_handshake(cn->tls);
        if (h == 1) break;
        if (h < 0 || wait_io(cn, true, j->timeout_ms) != 1) {
            j->outcome = OUT_IOERR_CONNECT;
            return -1;
        }
    }
    return 0;
}

/* One attempt: connect if needed, write the round, read its lines. 0 when
 * every line was read, else -1 with *writing and *timedout set. */
static int sync_attempt(mig_conn_t *cn, migrate_job_t *j, bool *writing, bool *timedout)
{
    *writing = true;
    *timedout = false;
    if (cn->fd < 0 && sync_connect(cn, j, timedout) != 0) return -1;
    j->rounds++;
    round_build(cn, j);
    while (cn->out_pos < cn->out.len) {
        ssize_t n = tls_io_write(cn->tls, cn->fd, cn->out.data + cn->out_pos, cn->out.len - cn->out_pos);
        if (n > 0) {
            cn->out_pos += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int w = wait_io(cn, true, j->timeout_ms);
            if (w == 1) continue;
            *timedout = w == 0;
        }
        return -1;
    }
    *writing = false;
    uint8_t buf[16384];
    while (j->next_line < j->nexpect) {
        ssize_t n = tls_io_read(cn->tls, cn->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int w = wait_io(cn, false, j->timeout_ms);
            if (w == 1) continue;
            *timedout = w == 0;
            return -1;
        }
        if (n <= 0) return -1;
        size_t pos = 0;
        while (pos < (size_t)n && j->next_line < j->nexpect) {
            size_t used = 0;
            bool done = mig_line_feed(&cn->line, buf + pos, (size_t)n - pos, &used);
            pos += used;
            if (!done) break;
            cn->line.len = 0;
            take_line(j, cn->line.text);
        }
    }
    return 0;
}

void migrate_job_run_now(migrate_job_t *j, worker_t *w)
{
    j->w = w;
    mig_worker_t *mw = mig_of(w);
    mig_conn_t *cn = NULL, *tmp = NULL;
    for (mig_conn_t *c = mw->conns; c; c = c->next)
        if (c->namelen == j->namelen && !memcmp(c->name, j->name, j->namelen) && !c->head) cn = c;
    if (!cn) {
        /* none cached, or it serves a suspended call: one of our own */
        tmp = cn = xcalloc(1, sizeof *cn);
        cn->fd = -1;
        cn->last_dbid = -1;
        cn->w = w;
        resp_buf_init(&cn->out, 2);
    }
    for (;;) {
        bool writing, timedout;
        if (sync_attempt(cn, j, &writing, &timedout) == 0) {
            cn->last_dbid = j->verdict.error ? -1 : j->dbid;
            break;
        }
        conn_close_socket(cn);
        if (j->outcome == OUT_IOERR_CONNECT) break;
        if (j->key_lines_read == 0 && !timedout && !j->retried) {
            j->retried = true;
            for (int i = 0; i < j->nkeys; i++)
                if (j->keys[i].state == KEY_SENT) j->keys[i].state = KEY_PENDING;
            continue;
        }
        j->outcome = writing && j->key_lines_read == 0 ? OUT_IOERR_WRITE : OUT_IOERR_READ;
        break;
    }
    j->next_line = j->nexpect = 0;
    cn->last_use_ms = rt_mono_ms();
    if (tmp) {
        conn_close_socket(tmp);
        resp_buf_free(&tmp->out);
        free(tmp);
    }
}


/* ---------------- the job's life on the owner ---------------- */

static void sweep_cb(rt_timer_t *t, void *arg);

static mig_conn_t *conn_get(worker_t *w, const migrate_job_t *j)
{
    mig_worker_t *mw = mig_of(w);
    for (mig_conn_t *cn = mw->conns; cn; cn = cn->next)
        if (cn->namelen == j->namelen && !memcmp(cn->name, j->name, j->namelen)) return cn;
    if (mw->nconns >= MIG_CACHE_ITEMS) {
        /* full: drop an idle one, as 7.0.15 drops one at random (not one
         * whose callback we are called from: in_io) */
        for (mig_conn_t *cn = mw->conns; cn; cn = cn->next)
            if (!cn->head && !cn->in_io) {
                conn_free(mw, cn);
                break;
            }
    }
    mig_conn_t *cn = xcalloc(1, sizeof *cn);
    cn->name = xmalloc(j->namelen + 1);
    memcpy(cn->name, j->name, j->namelen + 1);
    cn->namelen = j->namelen;
    cn->fd = -1;
    cn->last_dbid = -1;
    cn->w = w;
    resp_buf_init(&cn->out, 2);
    cn->next = mw->conns;
    mw->conns = cn;
    mw->nconns++;
    atomic_fetch_add_explicit(&g_cached, 1, memory_order_relaxed);
    if (!mw->sweep_on) {
        rt_timer_start(&mw->sweep, w->thread, 1000, 1000, sweep_cb, w);
        mw->sweep_on = true;
    }
    return cn;
}

static void sweep_cb(rt_timer_t *t, void *arg)
{
    (void)t;
    worker_t *w = arg;
    mig_worker_t *mw = mig_of(w);
    long long now = rt_mono_ms();
    for (mig_conn_t *cn = mw->conns, *next; cn; cn = next) {
        next = cn->next;
        if (!cn->head && now - cn->last_use_ms > MIG_CACHE_TTL_MS) conn_free(mw, cn);
    }
    if (!mw->conns && mw->sweep_on) {
        rt_timer_stop(&mw->sweep);
        mw->sweep_on = false;
    }
}

static void job_begin(mig_conn_t *cn)
{
    migrate_job_t *j = cn->head;
    cn->last_use_ms = rt_mono_ms();
    if (cn->fd < 0) {
        if (!conn_connect(cn, j)) {
            j->outcome = OUT_IOERR_CONNECT;
            job_resume(cn);
        }
        return;
    }
    conn_round_start(cn);
}

/* On the client's worker: the owner answered. */
static void done_fn(worker_t *w, rt_msg_t *msg)
{
    remote_cmd_t *rc = (remote_cmd_t *)msg;
    reply_slot_t *s = rc->slot;
    client_t *c = s->client;
    if (c && !(c->flags & CLIENT_CLOSED)) {
        resp_buf_free(&s->buf);
        s->buf = rc->reply;
        resp_buf_init(&rc->reply, 2);
    }
    client_slot_done(w, s);
    remote_cmd_free(rc);
}

static void job_answer(worker_t *w, remote_cmd_t *rc)
{
    repl_flush(w->repl);          /* the stream has the DEL before the client hears +OK */
    if (rc->origin == w) {
        /* The client is ours (a MIGRATE moves its connection to its keys'
         * worker, placement.c): answered now rather than by a message to
         * ourselves, which cost a pass of the loop (an epoll_wait) per call.
         * Its next command (redis-cli's next GETKEYSINSLOT) is usually a few
         * microseconds away: spin for it before sleeping, as after any
         * command read from a client. */
        rt_thread_note_busy();
        done_fn(w, &rc->hdr);
        return;
    }
    rc->hdr.type = WMSG_RUN;
    rc->run.fn = done_fn;
    rt_send(&rc->origin->actor, &rc->hdr);
}

/* Calls the handler again with the job: it settles the round, and either
 * answers or asks for another round. */
static void job_resume(mig_conn_t *cn)
{
    migrate_job_t *j = cn->head;
    worker_t *w = j->w;
    remote_cmd_t *rc = j->rc;
    queued_cmd_t *q = &rc->cmds[0];
    worker_snap_enter(w);
    dispatch_block_t blk = { .mode = CMD_BLOCK_MAY, .resume = j };
    dispatch_run_blocking(w, rc->db, q->cmd, q->argc, q->argv, q->argvlen, &rc->reply, rt_now_ms(), &blk);
    worker_snap_leave(w);
    if (blk.suspend) {
        if (cn->fd < 0) job_begin(cn);
        else conn_round_start(cn);
        return;
    }
    cn->head = j->next;
    if (!cn->head) cn->tail = NULL;
    cn->last_use_ms = rt_mono_ms();
    migrate_job_free(j);
    /* The next job first: answering may run the client's next command
     * right here (job_answer), which may queue another job on this
     * connection. */
    if (cn->head) job_begin(cn);
    job_answer(w, rc);
}

/* On the owner: a MIGRATE arrives from a client's worker. */
static void exec_fn(worker_t *w, rt_msg_t *msg)
{
    remote_cmd_t *rc = (remote_cmd_t *)msg;
    queued_cmd_t *q = &rc->cmds[0];
    worker_snap_enter(w);
    dispatch_block_t blk = { .mode = CMD_BLOCK_MAY };
    dispatch_run_blocking(w, rc->db, q->cmd, q->argc, q->argv, q->argvlen, &rc->reply, rt_now_ms(), &blk);
    worker_snap_leave(w);
    if (!blk.suspend) {
        job_answer(w, rc);
        return;
    }
    migrate_job_t *j = blk.suspend;
    j->w = w;
    j->rc = rc;
    mig_conn_t *cn = conn_get(w, j);
    j->conn = cn;
    if (cn->tail) cn->tail->next = j;
    else cn->head = j;
    cn->tail = j;
    if (cn->head == j) job_begin(cn);
}

void migrate_send(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                  int slot)
{
    reply_slot_t *s = client_defer_reply(c);
    /* As a client of 7.0.15's MIGRATE, it reads nothing more meanwhile. */
    s->blocks_client = true;
    c->flags |= CLIENT_BLOCKED;
    remote_cmd_t *rc = remote_cmd_one(c, cmd, argc, argv, argvlen, s, WMSG_RUN, rt_now_ms());
    rc->client_id = c->id;
    rc->run.fn = exec_fn;
    int owner = worker_of_slot((unsigned)slot);
    /* Ours (the usual case: placement moved the connection here): run it
     * now, not after a pass of the loop for a message to ourselves. */
    if (owner == c->worker->index) exec_fn(c->worker, &rc->hdr);
    else worker_send(c->worker, owner, &rc->hdr);
}

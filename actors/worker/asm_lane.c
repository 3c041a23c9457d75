/* asm_lane.c - see asm_lane.h.
 *
 * Everything here runs on the thread of the worker that owns the lane: its
 * socket, its watchers, its timer, its buffers. The state actor reaches a
 * lane only by WMSG_RUN messages, so a lane's life is ordered with the
 * worker's commands: a slot's keys are queued and its forwarding switched on
 * in one turn of the worker, and every write to it after that turn is
 * forwarded (run_here calls asm_lane_note_write right after the handler).
 *
 * Output is written by the lane's write watcher, started whenever bytes are
 * queued: the bytes of one loop iteration leave together. Replies are read
 * as whole RESP2 replies and counted; the snapshot pauses while more than
 * LANE_HIGH_WATER bytes wait to be written and resumes below LANE_LOW_WATER.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/repl/repl.h"
#include "actors/state/state.h"
#include "actors/worker/asm_lane.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/outconn.h"
#include "actors/worker/placement.h"
#include "actors/worker/worker_internal.h"
#include "proto/rdb.h"
#include "proto/strnum.h"
#include "runtime/log.h"
#include "runtime/tls.h"
#include "runtime/xmalloc.h"

#define LANE_HIGH_WATER (8u << 20)   /* unwritten bytes that stop the snapshot */
#define LANE_LOW_WATER (2u << 20)    /* ... and let it go on */
#define LANE_STEP_KEYS 1024          /* keys queued (or dropped) per turn of the worker */
/* A background drop rests this long after each piece: a worker that never
 * sleeps has used up its share of the CPU, and on a busy machine a request
 * then waits for its next turn on a core (a paced client's -MOVED replies
 * from the source, right after a handover of 1 M keys: 4-111 ms); resting,
 * the drop takes about a third of a core, and the worker wakes at once for
 * a request. The keys are unreachable already (the slots are the target's). */
#define LANE_DROP_REST_MS 1
/* A snapshot's turns rest as long between them, for the same reason: at a
 * migration's start both lanes' source workers and the target's workers
 * restoring their keys are four threads at a full core on 2 cores, and the
 * clients of the moving slots waited behind them (the bench's longest
 * request 70-105 ms in the first 0.4 s; 43-56 ms resting). */
#define LANE_SNAPSHOT_REST_MS 1
/* Unanswered commands that still count as caught up: the pause starts then,
 * and these are what it waits to drain before the takeover (the target
 * applies some 100 RESTOREs a millisecond on a loaded box: 1024 of them were
 * up to 10 ms of the pause). */
#define LANE_CAUGHT_UP 64

enum lane_phase { LP_CONNECT = 0, LP_HELLO, LP_SNAPSHOT, LP_STREAM, LP_SEALED, LP_TAKEOVER, LP_DEAD };

typedef struct lane {
    struct lane *next;
    worker_t *w;
    asm_lane_spec_t spec;
    int phase;
    int fd;
    tls_conn_t *tls;                /* tls-cluster yes: the lane speaks TLS, as MIGRATE does */
    bool write_wants_read;          /* TLS: the write waits for readability (read_cb retries it) */
    bool read_wants_write;          /* TLS: the read waits for writability (write_cb retries it) */
    ev_io rio, wio;
    bool rio_on, wio_on;
    resp_buf_t out;
    size_t out_pos;
    char *in;
    size_t inlen, incap;
    uint64_t sent, acked;           /* commands sent, replies read */
    uint64_t takeover_at;           /* the reply number that answers TAKEOVER */
    uint8_t fwd[SLOT_COUNT / 8];    /* keys queued: writes are forwarded */
    uint8_t sealed[SLOT_COUNT / 8]; /* paused at the source: late writes refused */
    unsigned cursor;                /* next slot to snapshot */
    rt_timer_t step_timer;          /* the next snapshot step, after the loop polled its sockets */
    bool step_queued;
    bool snap_reported, drain_wanted, drain_reported;
    struct repl_wbuf *fmt;          /* formats effects as the stream does */
    rt_timer_t timer;
    long long progress_mono;        /* last connect, write or read */
    long long progress_sent_mono;   /* last ASM_EV_PROGRESS */
    long long keys_sent;
} lane_t;

/* One list per worker, touched only by that worker's thread. */
static lane_t *g_lanes[MAX_WORKERS];

static bool bit(const uint8_t *m, unsigned s) { return (m[s / 8] >> (s % 8)) & 1; }
static void bit_set(uint8_t *m, unsigned s) { m[s / 8] = (uint8_t)(m[s / 8] | (1u << (s % 8))); }

bool asm_lane_any(const worker_t *w) { return g_lanes[w->index] != NULL; }

static lane_t *lane_find(worker_t *w, uint64_t job)
{
    for (lane_t *l = g_lanes[w->index]; l; l = l->next)
        if (l->spec.job == job) return l;
    return NULL;
}

/* ---------------- output ---------------- */

static void lane_fail(lane_t *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void watch_write(lane_t *l, bool on)
{
    struct ev_loop *loop = rt_thread_loop(l->w->thread);
    if (on && !l->wio_on) ev_io_start(loop, &l->wio);
    if (!on && l->wio_on) ev_io_stop(loop, &l->wio);
    l->wio_on = on;
}

static void watch_read(lane_t *l, bool on)
{
    struct ev_loop *loop = rt_thread_loop(l->w->thread);
    if (on && !l->rio_on) ev_io_start(loop, &l->rio);
    if (!on && l->rio_on) ev_io_stop(loop, &l->rio);
    l->rio_on = on;
}

static void lane_close_socket(lane_t *l)
{
    watch_read(l, false);
    watch_write(l, false);
    tls_conn_free(l->tls);
    l->tls = NULL;
    if (l->fd >= 0) close(l->fd);
    l->fd = -1;
}

/* Queued bytes leave when the socket is writable (this iteration, usually). */
static void lane_kick(lane_t *l)
{
    if (l->fd >= 0 && l->phase != LP_CONNECT && l->out_pos < l->out.len) watch_write(l, true);
}

static size_t lane_unwritten(const lane_t *l) { return l->out.len - l->out_pos; }

/* Commands in a run of whole RESP arrays of bulk strings (what we queue). */
static uint64_t count_commands(const char *p, size_t n)
{
    uint64_t cmds = 0;
    size_t i = 0;
    while (i < n && p[i] == '*') {
        long long argc = 0;
        size_t j = i + 1;
        while (j < n && p[j] != '\r') argc = argc * 10 + (p[j++] - '0');
        j += 2;
        for (long long a = 0; a < argc && j < n; a++) {
            long long len = 0;
            j++;                                 /* '$' */
            while (j < n && p[j] != '\r') len = len * 10 + (p[j++] - '0');
            j += 2 + (size_t)len + 2;
        }
        i = j;
        cmds++;
    }
    return cmds;
}

static void lane_step_post(lane_t *l);
static void lane_check_drain(lane_t *l);

static void lane_read(lane_t *l);

static void lane_write(lane_t *l)
{
    l->write_wants_read = false;
    while (l->out_pos < l->out.len) {
        ssize_t n = tls_io_write(l->tls, l->fd, l->out.data + l->out_pos, l->out.len - l->out_pos);
        if (n > 0) {
            l->out_pos += (size_t)n;
            l->progress_mono = rt_mono_ms();
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* TLS may need the peer's bytes first: the read watcher (always
             * on) retries this write */
            if (l->tls && !tls_conn_wants_write(l->tls)) {
                l->write_wants_read = true;
                watch_write(l, l->read_wants_write);
            }
            break;
        }
        lane_fail(l, "Connection lost to target (writing: %s)", strerror(errno));
        return;
    }
    if (l->out_pos == l->out.len) {
        resp_buf_reset(&l->out);
        l->out_pos = 0;
        watch_write(l, l->read_wants_write);
    } else if (l->out_pos > (16u << 20)) {
        memmove(l->out.data, l->out.data + l->out_pos, l->out.len - l->out_pos);
        l->out.len -= l->out_pos;
        l->out_pos = 0;
    }
    if (l->phase == LP_SNAPSHOT && lane_unwritten(l) < LANE_LOW_WATER) lane_step_post(l);
}

static void write_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop; (void)revents;
    lane_t *l = io->data;
    if (l->read_wants_write) {
        lane_read(l);
        if (l->fd < 0) return;
    }
    lane_write(l);
}

/* ---------------- replies ---------------- */

/* Bytes of the whole RESP2 reply at p, 0 when incomplete, -1 when it is not one. */
static long reply_len(const char *p, size_t n, int depth)
{
    if (n == 0 || depth > 8) return depth > 8 ? -1 : 0;
    const char *nl = memchr(p, '\n', n);
    if (!nl) return 0;
    size_t line = (size_t)(nl - p) + 1;
    if (line < 3 || p[line - 2] != '\r') return -1;
    long long v = 0;
    switch (p[0]) {
    case '+': case '-': case ':':
        return (long)line;
    case '$':
        if (!str_to_ll((const uint8_t *)p + 1, line - 3, &v)) return -1;
        if (v < 0) return (long)line;
        if (n < line + (size_t)v + 2) return 0;
        return (long)(line + (size_t)v + 2);
    case '*': {
        if (!str_to_ll((const uint8_t *)p + 1, line - 3, &v)) return -1;
        size_t off = line;
        for (long long i = 0; i < v; i++) {
            long r = reply_len(p + off, n - off, depth + 1);
            if (r <= 0) return r;
            off += (size_t)r;
        }
        return (long)off;
    }
    default:
        return -1;
    }
}

static void lane_progress_event(lane_t *l)
{
    long long now = rt_mono_ms();
    if (now - l->progress_sent_mono < 1000) return;
    l->progress_sent_mono = now;
    asm_event_post(ASM_EV_PROGRESS, l->spec.job, l->spec.lane, l->keys_sent, 0, "");
}

static void lane_check_caught_up(lane_t *l)
{
    if (l->phase != LP_STREAM || l->snap_reported) return;
    if (l->sent - l->acked > LANE_CAUGHT_UP) return;
    l->snap_reported = true;
    asm_event_post(ASM_EV_SNAPSHOT_DONE, l->spec.job, l->spec.lane, l->keys_sent, 0, "");
}

/* One reply, number l->acked (1-based). False when the lane failed. */
static bool lane_reply(lane_t *l, const char *p, size_t len)
{
    uint64_t k = l->acked;
    char text[200];
    size_t tl = len >= 2 ? len - 2 : 0;
    if (tl >= sizeof text) tl = sizeof text - 1;
    memcpy(text, p, tl);
    text[tl] = '\0';
    if (k <= (uint64_t)l->spec.hello_replies) {
        if (p[0] == '-') {
            lane_fail(l, "%s", text + 1);
            return false;
        }
        if (k == (uint64_t)l->spec.hello_replies) {
            l->phase = LP_SNAPSHOT;
            asm_event_post(ASM_EV_ESTABLISHED, l->spec.job, l->spec.lane, 0, 0, "");
            lane_step_post(l);
        }
        return true;
    }
    if (l->takeover_at && k == l->takeover_at) {
        long long epoch = 0;
        if (p[0] != ':' || !str_to_ll((const uint8_t *)p + 1, len - 3, &epoch)) {
            lane_fail(l, "Takeover refused by target: %s", p[0] == '-' ? text + 1 : text);
            return false;
        }
        asm_event_post(ASM_EV_TAKEOVER_OK, l->spec.job, l->spec.lane, epoch, 0, "");
        return true;
    }
    if (p[0] == '-') {
        lane_fail(l, "Target replied with error: %s", text + 1);
        return false;
    }
    return true;
}

static void read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop; (void)revents;
    lane_t *l = io->data;
    if (l->write_wants_read) {
        lane_write(l);
        if (l->fd < 0) return;
    }
    lane_read(l);
}

static void lane_read(lane_t *l)
{
    l->read_wants_write = false;
    for (;;) {
        if (l->incap - l->inlen < 16384) {
            l->incap = l->incap ? l->incap * 2 : 65536;
            l->in = xrealloc(l->in, l->incap);
        }
        ssize_t n = tls_io_read(l->tls, l->fd, l->in + l->inlen, l->incap - l->inlen);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* TLS may have to write first: the write watcher retries this read */
            if (l->tls && tls_conn_wants_write(l->tls)) {
                l->read_wants_write = true;
                watch_write(l, true);
            }
            break;
        }
        if (n <= 0) {
            lane_fail(l, "Connection lost to target%s%s", n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
            return;
        }
        l->inlen += (size_t)n;
        l->progress_mono = rt_mono_ms();
        size_t pos = 0;
        while (pos < l->inlen) {
            long r = reply_len(l->in + pos, l->inlen - pos, 0);
            if (r == 0) break;
            if (r < 0) {
                lane_fail(l, "Protocol error from target");
                return;
            }
            l->acked++;
            if (!lane_reply(l, l->in + pos, (size_t)r)) return;
            pos += (size_t)r;
        }
        memmove(l->in, l->in + pos, l->inlen - pos);
        l->inlen -= pos;
        /* TLS goes on to EAGAIN: a record OpenSSL holds makes no socket event */
        if (!l->tls && (size_t)n < 16384) break;
    }
    lane_progress_event(l);
    lane_check_caught_up(l);
    lane_check_drain(l);
}

/* ---------------- the snapshot ---------------- */

typedef struct snap_ctx {
    lane_t *l;
    long long now;
    long long keys;
} snap_ctx_t;

/* One key of the slot being queued, its entry straight from the slot's list
 * (no lookup by name: that was a fifth of a source worker's time). The
 * payload is not LZF-compressed: a lane runs between the nodes of one
 * cluster, where the bytes cost less than compressing them here and
 * decompressing them on the target (a tenth of each side's CPU, 2026-12-07). */
static void snap_key(void *arg, ks_entry_t *e, long long expire_ms)
{
    snap_ctx_t *sc = arg;
    lane_t *l = sc->l;
    if (expire_ms != KS_NO_EXPIRE && expire_ms <= sc->now) return;   /* expired: the target never sees it */
    rdb_encoder_t enc;
    if (cmd_dump_payload_with(e, &enc, 0)) {
        rdb_encoder_free(&enc);
        return;
    }
    size_t klen;
    const uint8_t *key = ks_entry_key(e, &klen);
    resp_add_array(&l->out, 6);
    resp_add_bulk(&l->out, "RESTORE", 7);
    resp_add_bulk(&l->out, key, klen);
    resp_add_bulk_ll(&l->out, expire_ms == KS_NO_EXPIRE ? 0 : expire_ms);
    resp_add_bulk(&l->out, rdb_encoder_data(&enc), rdb_encoder_pending(&enc));
    resp_add_bulk(&l->out, "ABSTTL", 6);
    resp_add_bulk(&l->out, "REPLACE", 7);
    rdb_encoder_free(&enc);
    l->sent++;
    sc->keys++;
}

/* Queues whole slots until LANE_STEP_KEYS keys or the high water mark; a
 * slot's forwarding starts in the same turn as its keys are queued. */
static void lane_step(lane_t *l)
{
    if (l->phase != LP_SNAPSHOT) return;
    if (asm_hold() == ASM_HOLD_SNAPSHOT && l->keys_sent > 0) return;   /* the timer looks again */
    snap_ctx_t sc = { .l = l, .now = rt_now_ms() };
    while (l->cursor < SLOT_COUNT && sc.keys < LANE_STEP_KEYS && lane_unwritten(l) < LANE_HIGH_WATER) {
        unsigned s = l->cursor++;
        if (!bit(l->spec.slots, s)) continue;
        ks_entries_in_slot(l->w->ks, s, snap_key, &sc);
        bit_set(l->fwd, s);
    }
    l->keys_sent += sc.keys;
    lane_kick(l);
    if (l->cursor >= SLOT_COUNT) {
        l->phase = LP_STREAM;
        lane_check_caught_up(l);
        return;
    }
    if (lane_unwritten(l) < LANE_HIGH_WATER) lane_step_post(l);
    /* else write_cb goes on once the socket took enough */
}

typedef struct lane_msg {
    worker_run_t run;
    uint64_t job;
    asm_lane_spec_t *spec;
} lane_msg_t;

static void step_cb(rt_timer_t *t, void *arg)
{
    (void)t;
    lane_t *l = arg;
    l->step_queued = false;
    lane_step(l);
}

/* The next step runs from a timer, LANE_SNAPSHOT_REST_MS later: the loop
 * polls its sockets first, so the worker's clients are served between the
 * steps of a large snapshot (a message to ourselves would run up to a whole
 * round of steps in a row), and the rest leaves the cores to them. */
static void lane_step_post(lane_t *l)
{
    if (l->step_queued || l->phase != LP_SNAPSHOT) return;
    l->step_queued = true;
    rt_timer_start(&l->step_timer, l->w->thread, LANE_SNAPSHOT_REST_MS, 0, step_cb, l);
}

/* ---------------- life ---------------- */

static void lane_fail(lane_t *l, const char *fmt, ...)
{
    if (l->phase == LP_DEAD) return;
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    /* value 1: the takeover was asked and its answer is unknown */
    long long unknown = l->phase == LP_TAKEOVER;
    l->phase = LP_DEAD;
    lane_close_socket(l);
    /* forwarding ends; a seal stays until the state actor ends the lane */
    memset(l->fwd, 0, sizeof l->fwd);
    LOG_WARNING("Slot migration %.40s lane %d failed: %s", l->spec.name, l->spec.lane, text);
    asm_event_post(ASM_EV_FAILED, l->spec.job, l->spec.lane, unknown, 0, text);
}

static void lane_free(worker_t *w, lane_t *l)
{
    for (lane_t **pp = &g_lanes[w->index]; *pp; pp = &(*pp)->next)
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    lane_close_socket(l);
    rt_timer_stop(&l->timer);
    rt_timer_stop(&l->step_timer);
    resp_buf_free(&l->out);
    free(l->in);
    free(l->spec.hello);
    repl_wbuf_free(l->fmt);   /* only ever formatted into, never handed over */
    free(l);
}

static void lane_check_drain(lane_t *l)
{
    if (!l->drain_wanted || l->drain_reported || l->phase != LP_SEALED) return;
    if (l->acked < l->sent || lane_unwritten(l) > 0) return;
    l->drain_reported = true;
    asm_event_post(ASM_EV_DRAINED, l->spec.job, l->spec.lane, 0, 0, "");
}

static void timer_cb(rt_timer_t *t, void *arg)
{
    (void)t;
    lane_t *l = arg;
    if (l->phase == LP_DEAD) return;
    long long timeout = config_cluster_node_timeout();
    if (timeout < 5000) timeout = 5000;
    bool waiting = l->phase == LP_CONNECT || l->acked < l->sent || lane_unwritten(l) > 0;
    if (waiting && rt_mono_ms() - l->progress_mono > timeout) {
        lane_fail(l, "Timed out: no progress from target for %lld ms", timeout);
        return;
    }
    if (l->phase == LP_SNAPSHOT && asm_hold() != ASM_HOLD_SNAPSHOT) lane_step_post(l);
    lane_check_caught_up(l);
}

static void lane_connected(lane_t *l)
{
    /* tls-cluster: the target's announced port is its TLS port; the
     * handshake runs inside the first writes and reads */
    if (config_get_num(CONFIG_TLS_CLUSTER) && !(l->tls = tls_conn_connecting(l->fd))) {
        lane_fail(l, "Can't connect to target %s:%d: TLS is not configured", l->spec.host, l->spec.port);
        return;
    }
    l->phase = LP_HELLO;
    l->progress_mono = rt_mono_ms();
    ev_io_init(&l->wio, write_cb, l->fd, EV_WRITE);
    l->wio.data = l;
    ev_io_init(&l->rio, read_cb, l->fd, EV_READ);
    l->rio.data = l;
    resp_buf_append(&l->out, l->spec.hello, l->spec.hello_len);
    l->sent += (uint64_t)l->spec.hello_replies;
    watch_read(l, true);
    lane_kick(l);
}

static void connect_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop; (void)revents;
    lane_t *l = io->data;
    watch_write(l, false);
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    if (err) {
        lane_fail(l, "Can't connect to target %s:%d: %s", l->spec.host, l->spec.port, strerror(err));
        return;
    }
    lane_connected(l);
}

static void on_start(worker_t *w, rt_msg_t *msg)
{
    lane_msg_t *m = (lane_msg_t *)msg;
    lane_t *l = xcalloc(1, sizeof *l);
    l->spec = *m->spec;
    free(m->spec);
    free(m);
    l->w = w;
    l->fd = -1;
    resp_buf_init(&l->out, 2);
    l->fmt = repl_wbuf_new(w->index);
    l->progress_mono = rt_mono_ms();
    l->next = g_lanes[w->index];
    g_lanes[w->index] = l;
    rt_timer_start(&l->timer, w->thread, 10, 10, timer_cb, l);
    int rc = outconn_open(l->spec.host, l->spec.port, &l->fd);
    if (rc < 0) {
        lane_fail(l, "Can't connect to target %s:%d", l->spec.host, l->spec.port);
        return;
    }
    if (rc == 0) {
        lane_connected(l);
        return;
    }
    ev_io_init(&l->wio, connect_cb, l->fd, EV_WRITE);
    l->wio.data = l;
    watch_write(l, true);
}

static void on_seal(worker_t *w, rt_msg_t *msg)
{
    lane_msg_t *m = (lane_msg_t *)msg;
    lane_t *l = lane_find(w, m->job);
    free(m);
    if (!l || l->phase != LP_STREAM) return;
    memcpy(l->sealed, l->spec.slots, sizeof l->sealed);
    l->phase = LP_SEALED;
    l->drain_wanted = true;
    LOG_VERBOSE("Slot migration %.40s lane %d sealed with %llu commands unanswered, %zu bytes unwritten",
                l->spec.name, l->spec.lane, (unsigned long long)(l->sent - l->acked), (size_t)lane_unwritten(l));
    lane_kick(l);
    lane_check_drain(l);
}

static void on_takeover(worker_t *w, rt_msg_t *msg)
{
    lane_msg_t *m = (lane_msg_t *)msg;
    lane_t *l = lane_find(w, m->job);
    free(m);
    if (!l || l->phase != LP_SEALED) return;
    resp_add_array(&l->out, 5);
    resp_add_bulk(&l->out, "CLUSTER", 7);
    resp_add_bulk(&l->out, "SYNCSLOTS", 9);
    resp_add_bulk(&l->out, "TAKEOVER", 8);
    resp_add_bulk(&l->out, "NAME", 4);
    resp_add_bulk(&l->out, l->spec.name, ASM_NAME_LEN);
    l->takeover_at = ++l->sent;
    l->phase = LP_TAKEOVER;
    lane_kick(l);
}

static void on_end(worker_t *w, rt_msg_t *msg)
{
    lane_msg_t *m = (lane_msg_t *)msg;
    lane_t *l = lane_find(w, m->job);
    free(m);
    if (l) lane_free(w, l);
}

static void post(int w, uint64_t job, worker_run_fn *fn, asm_lane_spec_t *spec)
{
    lane_msg_t *m = xcalloc(1, sizeof *m);
    m->run.hdr.type = WMSG_RUN;
    m->run.fn = fn;
    m->job = job;
    m->spec = spec;
    worker_post(w, &m->run.hdr);
}

void asm_lane_start(int w, asm_lane_spec_t *spec) { post(w, spec->job, on_start, spec); }
void asm_lane_seal(int w, uint64_t job) { post(w, job, on_seal, NULL); }
void asm_lane_takeover(int w, uint64_t job) { post(w, job, on_takeover, NULL); }
void asm_lane_end(int w, uint64_t job) { post(w, job, on_end, NULL); }

/* ---------------- hooks ---------------- */

static int first_key_slot(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    int pos[1];
    if (cmd_get_keys(cmd, argc, argv, argvlen, pos, 1) <= 0) return -1;
    return (int)slot_of_key(argv[pos[0]], argvlen[pos[0]]);
}

bool asm_lane_refuse(worker_t *w, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                     const size_t *argvlen, resp_buf_t *reply)
{
    if (!cmd_may_write(cmd) || cmd->exec != CMD_EXEC_KEYED) return false;
    int slot = first_key_slot(cmd, argc, argv, argvlen);
    if (slot < 0) return false;
    for (lane_t *l = g_lanes[w->index]; l; l = l->next) {
        if (!bit(l->sealed, (unsigned)slot)) continue;
        /* Routed before the pause began, here after the seal: the target
         * is about to own the slot (or answers MOVED back if the move fails). */
        resp_add_errorf(reply, "MOVED %d %s:%d", slot, l->spec.host, l->spec.port);
        return true;
    }
    return false;
}

static void lane_append_fmt(lane_t *l)
{
    size_t len;
    const char *p = repl_wbuf_bytes(l->fmt, &len);
    if (len == 0) return;
    l->sent += count_commands(p, len);
    resp_buf_append(&l->out, p, len);
    repl_wbuf_clear(l->fmt);
    lane_kick(l);
}

void asm_lane_flushed(worker_t *w)
{
    /* The slots' keys changed wholesale (FLUSHALL, FLUSHDB, a reload): the
     * target's copy cannot follow, so the migration fails, as in Valkey. A
     * lane whose takeover was asked is left to its answer. */
    for (lane_t *l = g_lanes[w->index]; l; l = l->next)
        if (l->phase != LP_DEAD && l->phase != LP_TAKEOVER) lane_fail(l, "The keyspace was flushed during the migration");
}

void asm_lane_note_write(worker_t *w, const cmd_def_t *cmd, struct cmd_ctx *ctx)
{
    if (cmd->exec == CMD_EXEC_FANOUT) {
        asm_lane_flushed(w);
        return;
    }
    int slot = first_key_slot(cmd, ctx->argc, ctx->argv, ctx->argvlen);
    if (slot < 0) return;
    for (lane_t *l = g_lanes[w->index]; l; l = l->next) {
        if (!bit(l->fwd, (unsigned)slot)) continue;
        repl_propagate_effect(l->fmt, w->ks, cmd, ctx);
        lane_append_fmt(l);
        return;
    }
}

void asm_lane_note_expired(worker_t *w, const uint8_t *key, size_t len)
{
    unsigned slot = slot_of_key(key, len);
    for (lane_t *l = g_lanes[w->index]; l; l = l->next) {
        if (!bit(l->fwd, slot) || bit(l->sealed, slot)) continue;
        repl_propagate_del(l->fmt, key, len);
        lane_append_fmt(l);
        return;
    }
}

worker_t *asm_lane_place(client_t *c, int argc, const uint8_t **argv, const size_t *argvlen)
{
    const cmd_def_t *cmd = cmd_lookup(argv[0], argvlen[0]);
    int pos[1];
    if (!cmd || cmd_get_keys(cmd, argc, argv, argvlen, pos, 1) <= 0) return NULL;   /* the handshake */
    int target = worker_of_slot(slot_of_key(argv[pos[0]], argvlen[pos[0]]));
    if (target == c->worker->index) {
        c->flags |= CLIENT_ASM_PLACED;
        return NULL;
    }
    /* replies in flight, or a busy script there (placement.c): at a later command */
    if (!placement_can_move_before_command(c, g_workers[target])) return NULL;
    return g_workers[target];
}

bool asm_write_paused(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    int pos[1];
    if (cmd_may_write(cmd) && cmd_get_keys(cmd, argc, argv, argvlen, pos, 1) > 0)
        return asm_slot_paused(slot_of_key(argv[pos[0]], argvlen[pos[0]]));
    if (!strcmp(cmd->name, "exec"))
        for (int i = 0; i < c->mq_len; i++) {
            const queued_cmd_t *q = &c->mq[i];
            if (!q->cmd || !cmd_may_write(q->cmd)) continue;
            if (cmd_get_keys(q->cmd, q->argc, q->argv, q->argvlen, pos, 1) > 0 &&
                asm_slot_paused(slot_of_key(q->argv[pos[0]], q->argvlen[pos[0]])))
                return true;
        }
    return false;
}

/* ---------------- dropping a job's keys ---------------- */

/* Target (an import starts or fails): every key of the slots at once, then
 * ASM_EV_DROP_DONE. Source (after the handover, `background`): a piece at a
 * time so that the worker keeps serving (the moved slots' first requests get
 * their -MOVED from here), leaving alone a slot that is ours again or being
 * imported again: its keys are live ones. */
typedef struct drop_msg {
    worker_run_t run;
    rt_timer_t timer;               /* background: the next piece, after the loop polled */
    worker_t *w;
    uint64_t job;
    bool background;
    unsigned cursor;                /* next slot of this worker */
    long long started_mono, keys;   /* background: when the first piece ran, keys dropped */
    int pieces;
    uint8_t slots[SLOT_COUNT / 8];
} drop_msg_t;

static void on_drop(worker_t *w, rt_msg_t *msg);

static void drop_timer_cb(rt_timer_t *t, void *arg)
{
    (void)t;
    drop_msg_t *m = arg;
    on_drop(m->w, &m->run.hdr);
}

static void on_drop(worker_t *w, rt_msg_t *msg)
{
    drop_msg_t *m = (drop_msg_t *)msg;
    m->w = w;
    if (m->pieces++ == 0) m->started_mono = rt_mono_ms();
    size_t gone = 0, budget = m->background ? LANE_STEP_KEYS : SIZE_MAX;
    worker_snap_enter(w);
    const cluster_snapshot_t *snap = worker_snapshot(w);
    while (m->cursor < SLOT_COUNT && gone < budget) {
        unsigned s = m->cursor;
        bool live = m->background && (snap->slot_owner[s] == snap->myself || asm_slot_hidden(s));
        if (bit(m->slots, s) && !live) gone += worker_drop_slot(w, s, budget - gone);
        if (!bit(m->slots, s) || live || ks_count_in_slot(w->ks, s) == 0) m->cursor += (unsigned)g_nworkers;
    }
    worker_snap_leave(w);
    if (gone) worker_publish_ks_stats(w);
    repl_flush(w->repl);
    m->keys += (long long)gone;
    if (m->cursor < SLOT_COUNT) {   /* only in the background: the rest after a rest */
        rt_timer_start(&m->timer, w->thread, LANE_DROP_REST_MS, 0, drop_timer_cb, m);
        return;
    }
    if (m->background && m->keys)
        LOG_VERBOSE("Slot migration: worker %d dropped the %lld keys of the slots handed over in %lld ms, "
                    "%d pieces", w->index, m->keys, rt_mono_ms() - m->started_mono, m->pieces);
    if (!m->background) asm_event_post(ASM_EV_DROP_DONE, m->job, w->index, (long long)gone, 0, "");
    free(m);
}

static void post_drops(const uint8_t *slots, uint64_t job, bool background)
{
    for (int i = 0; i < g_nworkers; i++) {
        drop_msg_t *m = xcalloc(1, sizeof *m);
        m->run.hdr.type = WMSG_RUN;
        m->run.fn = on_drop;
        m->job = job;
        m->background = background;
        m->cursor = (unsigned)i;
        memcpy(m->slots, slots, sizeof m->slots);
        worker_post(i, &m->run.hdr);
    }
}

void asm_workers_drop_background(const uint8_t *slots) { post_drops(slots, 0, true); }

int asm_workers_drop(const uint8_t *slots, uint64_t job)
{
    post_drops(slots, job, false);
    return g_nworkers;
}

/* repl_sender.c - one actor per replica we serve: owns the replica's socket
 * (handed over by its worker after PSYNC), writes what the replication actor
 * gives it in order, and reads the replica's REPLCONF ACKs.
 *
 * Stream bytes that arrive while the full-sync payload is still being
 * prepared are held behind it; with EOF-marked transfers they stay held until
 * the replica's first ACK (a replica reading up to the end mark must not see
 * stream bytes in the same read), as Redis does.
 *
 * Must never: write held bytes before the payload, reorder bytes, or free
 * itself before the replication actor said RS_FREE (it may still send to us).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/worker/client_limits.h"
#include "actors/config/config.h"
#include "actors/repl/repl_internal.h"
#include "actors/commands/args.h"
#include "proto/resp.h"
#include "runtime/log.h"
#include "runtime/tls.h"
#include "proto/strnum.h"
#include "runtime/xmalloc.h"

typedef struct outq {
    repl_chunk_t **v;
    size_t n, cap, head;      /* live items are v[head..n) */
} outq_t;

struct repl_sender {
    rt_actor_t actor;
    int fd;
    tls_conn_t *tls;          /* the replica came in on tls-port; NULL for plain TCP */
    bool read_wants_write;    /* TLS: a read waits for the socket to be writable */
    ev_io rio, wio;
    bool wio_on, closed, gone_sent, released;
    outq_t out, held;
    size_t pos;               /* bytes of out.v[out.head] already written */
    size_t queued;            /* bytes waiting in out and held */
    size_t sync_left;         /* of those, the full sync's own bytes at the head of out */
    long long soft_since_s;   /* over the soft output limit since (client_limits.h) */
    uint8_t *in;
    size_t inlen, incap;
    resp_parser_t parser;
    char name[64];
    struct repl_sender *dead_next;
    /* rdb-key-save-delay's pace (RS_PACE): of the next pace_bytes, no more
     * than their share of the time since pace_start_us has gone out */
    size_t pace_bytes, pace_sent;
    long long pace_us, pace_start_us;
    ev_timer pace_timer;
};

/* Senders told RS_FREE, freed by repl_sender_reap once the runtime is done
 * with their mailbox (never from inside their own behaviour). Repl thread only. */
static repl_sender_t *dead_senders;

void repl_sender_reap(void)
{
    for (repl_sender_t **pp = &dead_senders; *pp;) {
        repl_sender_t *s = *pp;
        if (rt_actor_is_idle(&s->actor)) {   /* told RS_FREE: no one sends to it any more */
            *pp = s->dead_next;
            free(s);
        } else {
            pp = &s->dead_next;
        }
    }
}

static void q_push(outq_t *q, repl_chunk_t *c)
{
    if (q->n == q->cap) {
        if (q->head > 0) {
            memmove(q->v, q->v + q->head, (q->n - q->head) * sizeof *q->v);
            q->n -= q->head;
            q->head = 0;
        }
        if (q->n == q->cap) {
            q->cap = q->cap ? q->cap * 2 : 16;
            q->v = xrealloc(q->v, q->cap * sizeof *q->v);
        }
    }
    q->v[q->n++] = c;
}

static void q_clear(outq_t *q)
{
    for (size_t i = q->head; i < q->n; i++) repl_chunk_unref(q->v[i]);
    free(q->v);
    memset(q, 0, sizeof *q);
}

static void report_gone(repl_sender_t *s)
{
    if (s->gone_sent) return;
    s->gone_sent = true;
    repl_ack_msg_t *m = xcalloc(1, sizeof *m);
    m->hdr.type = RM_SENDER_GONE;
    m->sender = s;
    rt_send(repl_actor(), &m->hdr);
}

static void shut(repl_sender_t *s)
{
    if (s->closed) return;
    s->closed = true;
    struct ev_loop *loop = rt_thread_loop(s->actor.thread);
    ev_io_stop(loop, &s->rio);
    if (s->wio_on) ev_io_stop(loop, &s->wio);
    s->wio_on = false;
    tls_conn_free(s->tls);
    s->tls = NULL;
    ev_timer_stop(loop, &s->pace_timer);
    s->pace_bytes = 0;
    close(s->fd);
    s->fd = -1;
    q_clear(&s->out);
    q_clear(&s->held);
    s->queued = 0;
    s->sync_left = 0;
}

/* How many more bytes the pace lets out now (SIZE_MAX: no pace). When none,
 * the pace timer is armed to try again. */
static size_t pace_allows(repl_sender_t *s)
{
    if (s->pace_sent >= s->pace_bytes) return SIZE_MAX;
    long long elapsed = rt_mono_us() - s->pace_start_us;
    size_t due = elapsed >= s->pace_us ? s->pace_bytes
                                       : (size_t)((double)s->pace_bytes * (double)elapsed / (double)s->pace_us);
    if (due > s->pace_sent) return due - s->pace_sent;
    struct ev_loop *loop = rt_thread_loop(s->actor.thread);
    if (!ev_is_active(&s->pace_timer)) {
        ev_timer_set(&s->pace_timer, 0.005, 0.);
        ev_timer_start(loop, &s->pace_timer);
    }
    return 0;
}

static void try_write(repl_sender_t *s)
{
    struct ev_loop *loop = rt_thread_loop(s->actor.thread);
    while (!s->closed && s->out.head < s->out.n) {
        repl_chunk_t *c = s->out.v[s->out.head];
        if (s->pos >= c->len) {
            repl_chunk_unref(c);
            s->out.head++;
            s->pos = 0;
            continue;
        }
        size_t len = c->len - s->pos, allowed = pace_allows(s);
        if (allowed == 0) break;
        if (len > allowed) len = allowed;
        ssize_t k = tls_io_write(s->tls, s->fd, c->data + s->pos, len);
        if (k < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            LOG_NOTICE("Error writing to replica %s: %s", s->name, strerror(errno));
            shut(s);
            report_gone(s);
            return;
        }
        s->pos += (size_t)k;
        s->queued -= (size_t)k;
        if (s->pace_sent < s->pace_bytes) s->pace_sent += (size_t)k;
        s->sync_left -= (size_t)k < s->sync_left ? (size_t)k : s->sync_left;
    }
    if (s->closed) return;
    /* A TLS write that waits for readability is retried by read_cb; a TLS
     * read that waits for writability needs the write watcher too. Bytes
     * held back by the pace (not by the socket) wait for the pace timer. */
    bool pending = (s->out.head < s->out.n && !ev_is_active(&s->pace_timer) &&
                    (!s->tls || tls_conn_wants_write(s->tls))) || s->read_wants_write;
    if (pending && !s->wio_on) {
        ev_io_start(loop, &s->wio);
        s->wio_on = true;
    } else if (!pending && s->wio_on) {
        ev_io_stop(loop, &s->wio);
        s->wio_on = false;
    }
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents);

static void write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    repl_sender_t *s = w->data;
    if (s->read_wants_write) {
        s->read_wants_write = false;
        read_cb(loop, &s->rio, revents);
        if (s->closed) return;
    }
    try_write(s);
}

static void pace_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    try_write(t->data);
}

static void handle_command(repl_sender_t *s, const uint8_t *buf)
{
    resp_parser_t *p = &s->parser;
    if (p->argc < 1) return;
    const uint8_t *a0 = resp_arg(p, buf, 0);
    if (!arg_is(a0, p->arg_len[0], "replconf")) return;
    for (size_t i = 1; i + 1 < p->argc; i += 2) {
        const uint8_t *opt = resp_arg(p, buf, i);
        if (arg_is(opt, p->arg_len[i], "ack")) {
            /* As 7.0.15: an offset that is not a string2ll number is
             * ignored (no reply either way), never read as 0. */
            long long offset;
            if (!str_to_ll(resp_arg(p, buf, i + 1), p->arg_len[i + 1], &offset)) return;
            repl_ack_msg_t *m = xcalloc(1, sizeof *m);
            m->hdr.type = RM_ACK;
            m->sender = s;
            m->offset = offset;
            rt_send(repl_actor(), &m->hdr);
        }
    }
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    repl_sender_t *s = w->data;
    if (s->incap - s->inlen < 4096) {
        s->incap = s->incap ? s->incap * 2 : 8192;
        s->in = xrealloc(s->in, s->incap);
    }
    ssize_t k = tls_io_read(s->tls, s->fd, s->in + s->inlen, s->incap - s->inlen);
    if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        shut(s);
        report_gone(s);
        return;
    }
    if (s->tls) {
        /* TLS: a write may have waited for this readability; more records
         * may sit decrypted inside OpenSSL with no socket event to come. */
        if (k < 0 && tls_conn_wants_write(s->tls)) s->read_wants_write = true;
        try_write(s);
        if (s->closed) return;
        if (k > 0 && tls_conn_pending(s->tls)) ev_feed_event(loop, &s->rio, EV_READ);
    }
    if (k < 0) return;
    s->inlen += (size_t)k;
    size_t off = 0;
    while (off < s->inlen) {
        int r = resp_parse(&s->parser, s->in + off, s->inlen - off);
        if (r == RESP_PARSE_MORE) break;
        if (r == RESP_PARSE_ERROR) {
            LOG_NOTICE("Protocol error from replica %s: %s", s->name, s->parser.error);
            shut(s);
            report_gone(s);
            return;
        }
        if (r == RESP_PARSE_DONE) handle_command(s, s->in + off);
        off += s->parser.consumed;
        resp_parser_reset(&s->parser);
    }
    memmove(s->in, s->in + off, s->inlen - off);
    s->inlen -= off;
    if (s->incap > 1 << 20 && s->inlen == 0) {   /* a burst is over: give memory back */
        free(s->in);
        s->in = NULL;
        s->incap = 0;
    }
}

static void behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    repl_sender_t *s = self->state;
    switch (msg->type) {
    case RS_DATA: {
        repl_data_msg_t *m = (repl_data_msg_t *)msg;
        if (s->closed) {
            repl_chunk_unref(m->chunk);
        } else {
            s->queued += m->chunk->len;
            /* What goes out before the release is the sync itself (the
             * RDB): Redis sends it apart from the replica's output buffer,
             * so the limits judge only the stream behind it. */
            if (!m->hold && !s->released) s->sync_left += m->chunk->len;
            if (m->hold && !s->released) q_push(&s->held, m->chunk);
            else q_push(&s->out, m->chunk);
            if (climits_obuf_over(CLIENT_CLASS_REPLICA, s->queued - s->sync_left, &s->soft_since_s,
                                  rt_now_ms() / 1000, true)) {
                LOG_WARNING("Client replica %s scheduled to be closed ASAP for overcoming of output buffer limits.",
                            s->name);
                shut(s);
                report_gone(s);
            } else {
                try_write(s);
            }
        }
        free(m);
        break;
    }
    case RS_RELEASE:
        s->released = true;
        if (!s->closed) {
            for (size_t i = s->held.head; i < s->held.n; i++) q_push(&s->out, s->held.v[i]);
            s->held.n = s->held.head = 0;
            try_write(s);
        }
        free(msg);
        break;
    case RS_PACE: {
        repl_pace_msg_t *m = (repl_pace_msg_t *)msg;
        if (!s->closed && m->us > 0) {
            s->pace_bytes = m->bytes;
            s->pace_sent = 0;
            s->pace_us = m->us;
            s->pace_start_us = rt_mono_us();
        }
        free(m);
        break;
    }
    case RS_CLOSE:
        shut(s);
        free(msg);
        break;
    case RS_FREE:
        free(msg);
        shut(s);
        resp_parser_free(&s->parser);
        free(s->in);
        s->in = NULL;
        s->dead_next = dead_senders;   /* freed before the loop sleeps, once idle */
        dead_senders = s;
        break;
    default:
        free(msg);
    }
}

repl_sender_t *repl_sender_new(rt_thread_t *t, const repl_psync_msg_t *p)
{
    repl_sender_t *s = xcalloc(1, sizeof *s);
    s->fd = p->fd;
    s->tls = p->tls;
    snprintf(s->name, sizeof s->name, "%s:%d", p->ip, p->port);
    resp_parser_init(&s->parser, 1 << 20);
    rt_actor_init(&s->actor, t, "repl-sender", behaviour, s);
    struct ev_loop *loop = rt_thread_loop(t);
    ev_io_init(&s->rio, read_cb, s->fd, EV_READ);
    s->rio.data = s;
    ev_io_init(&s->wio, write_cb, s->fd, EV_WRITE);
    s->wio.data = s;
    ev_timer_init(&s->pace_timer, pace_cb, 0., 0.);
    s->pace_timer.data = s;
    ev_io_start(loop, &s->rio);
    return s;
}

rt_actor_t *repl_sender_actor(repl_sender_t *s) { return &s->actor; }

void repl_sender_send(repl_sender_t *s, repl_chunk_t *chunk, bool hold)
{
    repl_data_msg_t *m = xcalloc(1, sizeof *m);
    m->hdr.type = RS_DATA;
    m->chunk = chunk;
    m->hold = hold;
    rt_send(&s->actor, &m->hdr);
}

void repl_sender_signal(repl_sender_t *s, int type)
{
    rt_msg_t *m = xcalloc(1, sizeof *m);
    m->type = (uint32_t)type;
    rt_send(&s->actor, m);
}

void repl_sender_pace(repl_sender_t *s, size_t bytes, long long us)
{
    repl_pace_msg_t *m = xcalloc(1, sizeof *m);
    m->hdr.type = RS_PACE;
    m->bytes = bytes;
    m->us = us;
    rt_send(&s->actor, &m->hdr);
}

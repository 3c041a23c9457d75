/* link.c - peer link actors (see link.h): one per cluster-bus connection,
 * each bound to one runtime thread. The registry that lets any thread find
 * a link by id is link_registry.c.
 *
 * Read path: the socket is read into a per-thread scratch buffer and split
 * into frames by proto/bus_stream (framing, caps and decoding live there, so
 * the fuzzer runs the same code), each decoded once as it is judged. A PING
 * or MEET is answered at once on the same link with a PONG built from the
 * current snapshot; every valid frame then goes to the state actor as that
 * decoded message with a copy of its body (link.h's link_rec_t), so the state
 * actor applies it without decoding it again. MODULE and unknown types' bodies
 * are skipped as they stream in, PUBLISH's unless we have subscribers (link_pubsub.c); the
 * state actor gets their header once the body has ended (7.0.15 acts on a frame only
 * once read whole; a PUBLISH's only if not digested). Reads pause while the state actor is behind
 * (link_pressure.h).
 *
 * Write path: frames are appended to the link's send buffer and written by a
 * per-thread prepare hook before the loop sleeps (so a burst of frames costs
 * one write), and by an EV_WRITE watcher while the socket is full. What the
 * socket does not take stays queued; once more than
 * cluster-link-sendbuf-limit bytes are waiting after a write attempt, the link
 * is closed, so a stopped peer costs at most that much memory.
 *
 * Lifetime: a link is removed from the registry (link_registry.c) when it
 * closes; every other thread reaches a link only through the registry, and
 * sends to it while holding the registry lock, so once removed nothing new
 * arrives in its mailbox. Its memory is freed by the prepare hook once the mailbox is marked
 * idle (no message left and the runtime done with the actor).
 *
 * Must never: change cluster state, block, hold the registry lock across
 * socket I/O, or touch a link from a thread other than its own except
 * through the registry and its relaxed statistics.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/config/config.h"
#include "actors/bus/bus_digest.h"
#include "actors/bus/bus_dstats.h"
#include "actors/bus/gossip.h"
#include "actors/bus/link_internal.h"
#include "actors/bus/link_light.h"
#include "actors/bus/link_place.h"
#include "actors/bus/link_pressure.h"
#include "actors/bus/link_send.h"
#include "actors/bus/link_struct.h"
#include "actors/bus/link_tls.h"
#include "actors/state/state.h"
#include "proto/bus_stream.h"
#include "runtime/log.h"

_Atomic long long g_links_buffer_limit_exceeded;
_Atomic int g_bus_drop_filter = -1;

#define SCRATCH_LEN   (64 * 1024)   /* one read(); big enough that a flood needs few syscalls */
#define READS_PER_EVENT 16          /* then yield to the loop's other watchers */
/* a round also ends once this much waits for the state actor: one message of a backlog (link_pressure.h) */
#define ROUND_FORWARD_MAX (64 * 1024)
/* the longest head bus_judge_len hands out */
#define HELD_HEAD_MAX (BUS_MODULE_MIN_LEN > BUS_PUBLISH_MIN_LEN ? BUS_MODULE_MIN_LEN : BUS_PUBLISH_MIN_LEN)

enum { LINK_MSG_START = 1, LINK_MSG_SEND, LINK_MSG_CLOSE, LINK_MSG_ADOPT };

typedef struct link_send_msg {
    rt_msg_t hdr;
    shared_frame_t *frame;           /* one reference, the message's */
} link_send_msg_t;


/* ---------------- configuration ---------------- */

static rt_actor_t *g_state;
static _Atomic link_id_t g_next_id = 1;

void link_configure(rt_thread_t **threads, int nthreads, rt_actor_t *state)
{
    g_state = state;
    /* its release store publishes g_state too: no link exists before a pick */
    link_place_configure(threads, nthreads);
}

/* ---------------- per-thread context ---------------- */

typedef struct link_thread_ctx {
    bool ready;
    bool hooked;                     /* the prepare hook is installed */
    bool reader_ok;
    rt_snap_reader_t reader;
    uint8_t *scratch;
    link_t *flush_head;              /* links with bytes to write */
    link_t *dead_head;               /* torn-down links waiting for an idle mailbox */
    bus_msg_t msg;                   /* decode target (too big for every stack frame) */
} link_thread_ctx_t;

static _Thread_local link_thread_ctx_t *tctx;

static void flush(link_t *l);

static void prepare_hook(rt_thread_t *t, void *arg)
{
    (void)t;
    link_thread_ctx_t *c = arg;
    while (c->flush_head) {
        link_t *l = c->flush_head;
        c->flush_head = l->fnext;
        l->fnext = NULL;
        l->flush_queued = false;
        flush(l);
    }
    for (link_t **pp = &c->dead_head; *pp;) {
        link_t *l = *pp;
        /* The flush list was drained above, so no list still points at it;
         * the link is out of the registry, so once idle it stays idle. */
        if (!l->flush_queued && rt_actor_is_idle(&l->actor)) {
            *pp = l->dnext;
            free(l);
        } else {
            pp = &l->dnext;
        }
    }
}

static _Thread_local bool tl_serving_busy;   /* inside link_serve_while_busy */

static link_thread_ctx_t *thread_ctx(void)
{
    if (tctx) return tctx;
    link_thread_ctx_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->scratch = malloc(SCRATCH_LEN);
    if (!c->scratch) { free(c); return NULL; }
    c->reader_ok = rt_snap_reader_register(&g_cluster_snapshot, &c->reader) == 0;
    rt_thread_t *t = rt_thread_self();
    c->hooked = t && rt_thread_add_prepare_hook(t, prepare_hook, c) == 0;
    if (!c->hooked) LOG_WARNING("Cluster bus links on thread %s write without batching (no prepare hook left)",
                                t ? rt_thread_name(t) : "?");
    c->ready = true;
    tctx = c;   /* lives as long as the thread: the hook keeps using it */
    return c;
}

/* ---------------- events and frames to the state actor ---------------- */

static void post_event(link_t *l, int kind, bool sendbuf_limit)
{
    link_event_t *e = calloc(1, sizeof *e);
    if (!e) { LOG_WARNING("Out of memory: lost a cluster link event"); return; }
    e->hdr.type = STATE_MSG_LINK_EVENT;
    e->id = l->id;
    e->kind = kind;
    e->outbound = l->outbound;
    e->sendbuf_limit = sendbuf_limit;
    e->sync_failure = l->connect_failed_sync;
    memcpy(e->node_name, l->node_name, sizeof e->node_name);
    rt_send(g_state, &e->hdr);
}

/* Frames of one read round travel to the state actor together: one
 * allocation and one mailbox push for a burst of frames. Each goes as the
 * record the state actor applies as it is (link.h): the message decoded
 * when the frame was judged, completed with its slot bitmap, and a copy of
 * its body with the message's views moved onto it. */
static link_frame_t *forward_grow(link_t *l, size_t need)
{
    size_t cap = l->fwd_cap ? l->fwd_cap * 2 : sizeof(link_frame_t) + 16384;
    while (cap < need) cap *= 2;
    link_frame_t *f = malloc(cap);
    if (!f) return NULL;
    if (l->fwd) {
        /* The records move: their views are moved with them, while the old
         * buffer they point into is still there. */
        memcpy(f, l->fwd, sizeof *f + l->fwd->len);
        for (link_rec_t *o = link_frame_next(l->fwd, NULL); o; o = link_frame_next(l->fwd, o)) {
            link_rec_t *n = (link_rec_t *)(void *)(f->data + ((uint8_t *)o - l->fwd->data));
            bus_msg_rebase(&n->msg, o->body, n->body);
        }
        free(l->fwd);
    } else {
        memset(f, 0, sizeof *f);
        f->hdr.type = STATE_MSG_FRAME;
        f->id = l->id;
        f->outbound = l->outbound;
        memcpy(f->node_name, l->node_name, sizeof f->node_name);
        memcpy(f->peer_ip, l->peer_ip, sizeof f->peer_ip);
        memcpy(f->local_ip, l->local_ip, sizeof f->local_ip);
        f->received_ms = rt_now_ms();
    }
    l->fwd = f;
    l->fwd_cap = cap;
    return f;
}

/* m: the frame's message as judged (bus_decode_noslots or bus_decode_head, BUS_OK);
 * data: the frame's bytes handed out with it (its head at least). */
static void forward_frame(link_t *l, const bus_msg_t *m, const uint8_t *data, size_t len, bool pong_noted)
{
    size_t used = l->fwd ? l->fwd->len : 0;
    size_t rec = link_rec_size(m->body_len);
    size_t need = sizeof(link_frame_t) + used + rec;
    if ((!l->fwd || need > l->fwd_cap) && !forward_grow(l, need)) {
        LOG_WARNING("Out of memory: dropped a cluster bus message");
        return;
    }
    link_rec_t *r = (link_rec_t *)(void *)(l->fwd->data + used);
    r->msg = *m;
    r->pong_noted = pong_noted;
    bus_decode_slots(data, len, &r->msg);   /* cannot fail: a judged frame holds a whole header */
    if (m->body) {
        memcpy(r->body, m->body, m->body_len);
        bus_msg_rebase(&r->msg, m->body, r->body);
    }
    l->fwd->len = used + rec;
    l->fwd->count++;
    bus_dstats_forwarded(m->hdr.type, bus_type_has_gossip(m->hdr.type) ? m->hdr.count : 0);
}

static void flush_forward(link_t *l)
{
    if (!l->fwd) return;
    link_frame_t *f = l->fwd;
    l->fwd = NULL;
    l->fwd_cap = 0;
    /* seq_cst, before the message can be seen: until the state actor has
     * applied it, no link digests (docs/cluster-bus.md §1.6, "Digest") */
    f->counted = l->live;
    if (f->counted) atomic_fetch_add_explicit(&f->counted->pending, 1, memory_order_seq_cst);
    /* Applied here while the state thread sleeps (state_borrow.c); not from
     * a busy script's poll, where the state's round does not belong. */
    if (!tl_serving_busy && g_state == state_actor() && state_run_borrowed_frame(f)) return;
    rt_send(g_state, &f->hdr);
}

/* ---------------- teardown ---------------- */

/* Owning thread. Closes the socket, leaves the registry, optionally tells
 * the state actor, and queues the memory for the prepare hook. */
static void teardown(link_t *l, int event_kind, bool sendbuf_limit)
{
    if (l->dead) return;
    flush_forward(l);     /* what was read before the close goes first */
    l->dead = true;
    struct ev_loop *loop = rt_thread_loop(l->actor.thread);
    ev_io_stop(loop, &l->rio);
    ev_io_stop(loop, &l->wio);
    link_pressure_forget(&l->pause);
    link_tls_stage_drop(l->tls);
    tls_conn_free(l->tls);
    l->tls = NULL;
    if (l->fd >= 0) close(l->fd);
    l->fd = -1;
    bus_stream_free(&l->rx);
    link_light_free(&l->light);
    free(l->held_head);
    l->held_head = NULL, l->held_len = 0;
    link_wq_clear(&l->wq);
    atomic_store_explicit(&l->events, 0, memory_order_relaxed);
    link_place_detach(l);
    link_reg_remove(l);
    if (event_kind) post_event(l, event_kind, sendbuf_limit);
    link_thread_ctx_t *c = thread_ctx();
    if (c && c->hooked) {
        l->dnext = c->dead_head;
        c->dead_head = l;
    }
    /* Without a hook the struct is leaked rather than freed under the
     * runtime's feet; that only happens when a thread ran out of hooks. */
}

/* ---------------- write path ---------------- */

static void add_bytes_out(link_t *l, size_t n)
{
    /* relaxed: a statistic read on its own by INFO; only this thread writes it */
    atomic_store_explicit(&l->bytes_out, atomic_load_explicit(&l->bytes_out, memory_order_relaxed) + (long long)n,
                          memory_order_relaxed);
}

static void publish_wstats(link_t *l)
{
    atomic_store_explicit(&l->sendbuf_alloc, (long long)link_wq_allocated(&l->wq), memory_order_relaxed);
    atomic_store_explicit(&l->sendbuf_used, (long long)l->wq.queued, memory_order_relaxed);
}

static void set_events(link_t *l)
{
    int ev = 0;
    if (ev_is_active(&l->rio)) ev |= 1;
    if (ev_is_active(&l->wio)) ev |= 2;
    atomic_store_explicit(&l->events, ev, memory_order_relaxed);
}

static void queue_flush(link_t *l)
{
    link_thread_ctx_t *c = tctx;
    if (!c || !c->hooked) { flush(l); return; }
    if (l->flush_queued) return;
    l->flush_queued = true;
    l->fnext = c->flush_head;
    c->flush_head = l;
}

/* More bytes past cluster-link-sendbuf-limit: the link is closed, true. */
static bool over_limit(link_t *l, size_t more)
{
    long long limit = config_get_num(CONFIG_CLUSTER_LINK_SENDBUF_LIMIT);
    if (limit <= 0 || (long long)(l->wq.queued + more) <= limit) return false;
    atomic_fetch_add_explicit(&g_links_buffer_limit_exceeded, 1, memory_order_relaxed);
    LOG_WARNING("Freeing cluster link(%s node %.40s, used memory: %zu) due to exceeding send buffer memory limit.",
                l->outbound ? "to" : "from", l->node_name[0] ? l->node_name : "<unknown>", l->wq.queued);
    teardown(l, LINK_EV_CLOSED, true);
    return true;
}

static void send_oom(link_t *l)
{
    LOG_WARNING("Out of memory for the send buffer of cluster link to %s", l->peer_ip);
    teardown(l, LINK_EV_CLOSED, false);
}

/* Queues one whole frame as it goes on the wire (taking over the caller's
 * reference); the write happens at the end of the loop iteration. */
static void queue_frame(link_t *l, shared_frame_t *f)
{
    if (l->dead) {
        shared_frame_unref(f);
        return;
    }
    /* cluster-link-sendbuf-limit: a peer that stopped reading must not make
     * the queue grow past the limit, not even between two write attempts. */
    if (over_limit(l, f->len)) {
        shared_frame_unref(f);
        return;
    }
    if (!link_wq_push(&l->wq, f)) { send_oom(l); return; }
    publish_wstats(l);
    queue_flush(l);
}

/* A frame shared among links (taking over the caller's reference): to a
 * light peer it becomes this link's own light copy, else it stays shared. */
static void append_shared(link_t *l, shared_frame_t *f)
{
    if (l->dead) {
        shared_frame_unref(f);
        return;
    }
    const uint8_t *data = f->data;
    size_t len = f->len;
    link_light_out(&l->light, l->node_name, &data, &len);
    if (data != f->data) {
        shared_frame_t *own = shared_frame_new(data, len);
        shared_frame_unref(f);
        if (!own) { send_oom(l); return; }
        f = own;
    }
    queue_frame(l, f);
}

/* Queues a copy of a frame built here (a PONG from the snapshot), in its
 * light form to a peer that speaks it. */
static void append(link_t *l, const uint8_t *data, size_t len)
{
    if (l->dead) return;
    link_light_out(&l->light, l->node_name, &data, &len);
    if (l->tls && !l->wq.count && tls_conn_handshake_done(l->tls)) {
        /* into the record being filled; read_cb's flush sends the rest */
        size_t written = 0;
        if (link_tls_stage(&l->wq, l->tls, data, len, &written) != 0) { send_oom(l); return; }
        add_bytes_out(l, written);
        if (l->wq.count) publish_wstats(l);   /* the socket was full: queued */
        return;
    }
    shared_frame_t *f = shared_frame_new(data, len);
    if (!f) { send_oom(l); return; }
    queue_frame(l, f);
}

static void flush(link_t *l)
{
    if (l->dead || l->connecting || l->fd < 0) return;
    size_t written = 0;
    int st = l->tls ? link_tls_wq_write(&l->wq, l->tls, &written) : link_wq_write(&l->wq, l->fd, &written);
    add_bytes_out(l, written);
    if (st == LINK_WQ_ERROR) {
        LOG_VERBOSE("I/O error writing to node link: %s", errno ? strerror(errno) : "short write");
        teardown(l, LINK_EV_CLOSED, false);
        return;
    }
    struct ev_loop *loop = rt_thread_loop(l->actor.thread);
    /* An idle link holds no send buffer (link_wq_write let its ring go): at 2 links per peer,
     * ~25 MB at 1,000 peers if it kept a frame's size. WAIT_READ: read_cb writes again. */
    if (st != LINK_WQ_DRAINED && over_limit(l, 0)) return;
    if (st == LINK_WQ_BLOCKED || l->tls_read_wants_write) ev_io_start(loop, &l->wio);
    else ev_io_stop(loop, &l->wio);
    publish_wstats(l);
    set_events(l);
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents);
static void announce_connected(link_t *l);
static void write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    link_t *l = w->data;
    if (l->tls_read_wants_write) {
        l->tls_read_wants_write = false;
        read_cb(loop, &l->rio, revents);
        if (l->dead) return;
    }
    flush(l);
    announce_connected(l);
}

/* ---------------- read path ---------------- */

/* A PING on an inbound link or a PONG from a member, judged against s
 * (bus_digest_take; docs/cluster-bus.md §1.6, "Digest"): true when it must
 * still go to the state actor, *noted when its PONG was counted already. s
 * was read after g1 was loaded. */
static bool digest(link_t *l, link_thread_ctx_t *c, const cluster_snapshot_t *s, uint64_t g1,
                   const bus_stream_frame_t *f, bool *noted)
{
    if (!s || !s->live) return true;
    l->live = s->live;
    bus_digest_src_t src = { .link = l->id, .outbound = l->outbound, .peer_ip = l->peer_ip };
    const uint8_t *myslots = bus_peek_slots(f->data, f->len);   /* c->msg was decoded without it */
    if (!myslots) return true;   /* not reached: a judged frame holds a whole header */
    /* l->fwd: frames of this round not sent yet, which the snapshot cannot show */
    int r = bus_digest_take(s, g1, l->fwd != NULL, &src, &c->msg, myslots, rt_now_ms(), &l->digest);
    *noted = r == BUS_TAKE_FORWARD_NOTED;
    return r != BUS_TAKE_DONE;
}

/* The state actor's gen (1, odd, before a snapshot showed its counters);
 * seq_cst: loaded before the snapshot pointer (digest). */
static uint64_t load_gen(link_t *l) { return l->live ? atomic_load_explicit(&l->live->gen, memory_order_seq_cst) : 1; }

/* Answers a PING/MEET; returns whether the frame must still go to the state actor. */
static bool reply_pong(link_t *l, link_thread_ctx_t *c, const bus_stream_frame_t *f)
{
    if (!c->reader_ok) return true;
    uint64_t g1 = load_gen(l);
    size_t n = 0;
    const cluster_snapshot_t *s = rt_snap_read_begin(&c->reader);
    const uint8_t *buf = s ? gossip_build_reply(s, &n) : NULL;
    bool forward = f->type != BUS_PING || bus_digest_ping_matters(s, f->data, f->len);
    bool noted = false;   /* a PING is never counted */
    if (forward && f->type == BUS_PING && !digest(l, c, s, g1, f, &noted)) forward = false;
    rt_snap_read_end(&c->reader);
    if (n == 0) return forward;
    bus_dstats_sent(BUS_PONG);
    append(l, buf, n);
    return forward;
}

/* One whole frame, already judged by bus_decode. Order as 7.0.15 (docs/cluster-bus.md §5.2):
 * count it, apply the debug drop filter, drop it if invalid. */
static void handle_frame(link_t *l, link_thread_ctx_t *c, const bus_stream_frame_t *f)
{
    bus_dstats_received(f->type);
    int filter = atomic_load_explicit(&g_bus_drop_filter, memory_order_relaxed);
    if (filter >= 0 && f->type == (unsigned)filter) {
        LOG_WARNING("Dropping packet that matches debug drop filter");
        return;
    }
    if (f->result != BUS_OK) {
        if (f->result != BUS_ERR_VERSION)    /* 7.0.15 drops other versions silently */
            LOG_WARNING("Received invalid %s packet of length %u: %s", bus_type_name(f->type), f->totlen,
                        bus_result_str(f->result));
        return;
    }
    /* a PUBLISH's body read whole goes to our subscribers (link_pubsub.c); its header is digested */
    bool publish = f->type == BUS_PUBLISH || f->type == BUS_PUBLISHSHARD;
    if (publish && !f->head_only) link_publish_in(c->reader_ok ? &c->reader : NULL, f, &c->msg);
    if (f->head_only && !publish) {
        /* MODULE or an unknown type whose body is skipped: the state actor
         * still needs the header (sender, epochs, offset), without a body. */
        forward_frame(l, &c->msg, f->data, f->len, false);
        return;
    }
    if (f->type == BUS_PONG && l->outbound && l->request_sent_us) {
        atomic_store_explicit(&l->rtt_us, rt_mono_us() - l->request_sent_us, memory_order_relaxed);
        l->request_sent_us = 0;
    }
    bool forward = true, noted = false;
    if (f->type == BUS_PING || f->type == BUS_MEET) forward = reply_pong(l, c, f);
    if ((f->type == BUS_PONG || publish) && c->reader_ok) {
        uint64_t g1 = load_gen(l);
        forward = digest(l, c, rt_snap_read_begin(&c->reader), g1, f, &noted);
        rt_snap_read_end(&c->reader);
    }
    if (l->dead || !forward) return;
    forward_frame(l, &c->msg, f->data, f->len, noted);
}

/* A head whose body is still to be skipped waits in the link (held_head)
 * until the frame ends; other frames are handled at once. */
static void take_frame(link_t *l, link_thread_ctx_t *c, const bus_stream_frame_t *f)
{
    if (f->head_only && f->len <= HELD_HEAD_MAX && !bus_stream_skip_body(&l->rx)
        && (l->held_head = malloc(f->len)) != NULL) {
        memcpy(l->held_head, f->data, f->len);
        l->held_len = f->len;
        l->held_totlen = f->totlen;
        return;
    }
    handle_frame(l, c, f);
}

/* The held head's frame has ended: handle it as decoded from the copy. */
static void release_held(link_t *l, link_thread_ctx_t *c)
{
    uint8_t *head = l->held_head;     /* ours now: a teardown while handling it leaves it alone */
    l->held_head = NULL;
    bus_stream_frame_t f = { .data = head, .len = l->held_len, .totlen = l->held_totlen,
                             .head_only = true, .type = (uint16_t)((head[12] << 8) | head[13]) };
    l->held_len = 0;
    f.result = bus_decode_head(f.data, f.len, &c->msg);
    handle_frame(l, c, &f);
    free(head);
}

/* A read returned n <= 0 (errno set): true when the round ends (the socket
 * is empty, or the link was torn down), false to read again (EINTR). */
static bool read_failed(link_t *l, ssize_t n)
{
    if (n < 0 && errno == EAGAIN && l->tls && (l->tls_read_wants_write = tls_conn_wants_write(l->tls)))
        ev_io_start(rt_thread_loop(l->actor.thread), &l->wio);
    if (n < 0 && l->tls && errno != EAGAIN && !tls_conn_handshake_done(l->tls)) {
        link_tls_refused(l->outbound ? l->connect_ip : l->peer_ip, l->outbound, tls_conn_error(l->tls));
        teardown(l, LINK_EV_CLOSED, false);
        return true;
    }
    if (n == 0) {
        LOG_VERBOSE("I/O error reading from node link: connection closed");
        teardown(l, LINK_EV_CLOSED, false);
        return true;
    }
    if (errno == EINTR) return false;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    LOG_VERBOSE("I/O error reading from node link: %s", strerror(errno));
    teardown(l, LINK_EV_CLOSED, false);
    return true;
}

static void read_round(link_t *l)
{
    link_thread_ctx_t *c = tctx;
    for (int i = 0; i < READS_PER_EVENT && !l->dead && !(l->fwd && l->fwd->len >= ROUND_FORWARD_MAX); i++) {
        ssize_t end = 1;   /* TLS: how a read after the first ended, acted on once its bytes are taken */
        int end_errno = 0;
        ssize_t n = l->tls ? link_tls_read(l->tls, c->scratch, SCRATCH_LEN, &end, &end_errno)
                           : read(l->fd, c->scratch, SCRATCH_LEN);
        if (n <= 0) {
            if (read_failed(l, n)) return;
            continue;
        }
        /* relaxed: a statistic read on its own by INFO; only this thread writes it */
        atomic_store_explicit(&l->bytes_in, atomic_load_explicit(&l->bytes_in, memory_order_relaxed) + n,
                              memory_order_relaxed);
        bus_stream_feed(&l->rx, c->scratch, (size_t)n);
        for (;;) {
            if (l->held_len) {
                if (!bus_stream_skip_body(&l->rx)) break;
                release_held(l, c);
                if (l->dead) return;
            }
            bus_stream_frame_t f;
            link_publish_keep(&l->rx);   /* PUBLISH bodies: read only for subscribers here */
            int st = bus_stream_next(&l->rx, &f, &c->msg);
            if (st == BUS_STREAM_MORE) break;
            if (st == BUS_STREAM_CLOSE) {
                LOG_WARNING("Bad message length or signature received on cluster bus link from %s (%s)", l->peer_ip,
                            f.result == BUS_STREAM_ERR_NOMEM ? "out of memory" : bus_result_str(f.result));
                teardown(l, LINK_EV_CLOSED, false);
                return;
            }
            if (!link_light_in(&l->light, &f, &c->msg)) {
                teardown(l, LINK_EV_CLOSED, false);
                return;
            }
            take_frame(l, c, &f);
            if (l->dead) return;
        }
        if (end <= 0 && (errno = end_errno, read_failed(l, end))) return;
        if (n < SCRATCH_LEN && !(l->tls && tls_conn_pending(l->tls))) return;
    }
}

/* The state actor hears of an outbound link (and sends MEET or PING on it,
 * clearing the node's MEET flag) once it can carry frames: at TCP connect,
 * or with tls-cluster yes once the TLS handshake is done, as 7.0.15 calls
 * its connect handler only then. A refused handshake so leaves the MEET
 * flag set, and the next link sends MEET again. */
static void announce_connected(link_t *l)
{
    if (!l->announce_pending || l->dead || (l->tls && !tls_conn_handshake_done(l->tls))) return;
    l->announce_pending = false;
    post_event(l, LINK_EV_CONNECTED, false);
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    link_t *l = w->data;
    if (link_pressure_check(&l->pause, l->live, loop, w)) return;
    if (revents & EV_READ) rt_thread_note_bus_io();   /* a bus waking the thread very often is read in batches */
    read_round(l);
    if (l->dead) return;
    /* records OpenSSL holds (the round's cap, or a pause) that no socket event will announce */
    if (l->tls && tls_conn_pending(l->tls) && ev_is_active(&l->rio)) ev_feed_event(loop, &l->rio, EV_READ);
    announce_connected(l);
    /* This read's PONGs go now, not at the loop's end: one write per link still, but
     * held for all links (hundreds of 4 KB PONGs at 200 peers) they passed malloc's
     * trim threshold, and the heap was trimmed and faulted in again every round; over
     * TLS they are also encrypted while still in the cache. A TLS write that waited
     * for this read (LINK_WQ_WAIT_READ) is retried here too, and the PONGs staged
     * in a TLS record (link_tls_stage) and the write buffer go. */
    if (l->wq.count || (l->tls && tls_conn_handshake_done(l->tls))) flush(l);
    if (l->dead) return;
    flush_forward(l);
    link_pressure_check(&l->pause, l->live, loop, w);
}

/* ---------------- connecting ---------------- */

static void start_io(link_t *l)
{
    struct ev_loop *loop = rt_thread_loop(l->actor.thread);
    ev_io_init(&l->rio, read_cb, l->fd, EV_READ);
    l->rio.data = l;
    ev_io_init(&l->wio, write_cb, l->fd, EV_WRITE);
    l->wio.data = l;
    ev_io_start(loop, &l->rio);
    set_events(l);
}

static void connected(link_t *l)
{
    l->connecting = false;
    link_socket_addresses(l->fd, l->peer_ip, l->local_ip, sizeof l->peer_ip);
    if (!(l->tls = link_tls_start(l->fd, true)) && config_get_num(CONFIG_TLS_CLUSTER)) {
        teardown(l, LINK_EV_CONNECT_FAILED, false);
        return;
    }
    start_io(l);
    l->announce_pending = true;
    announce_connected(l);
    if (l->wq.count) queue_flush(l);
}

static void connect_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    link_t *l = w->data;
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0) err = errno;
    if (err == EINPROGRESS || err == EALREADY) return;
    ev_io_stop(loop, w);
    if (err != 0) {
        LOG_VERBOSE("Connection with Node %.40s at %s:%d failed: %s", l->node_name, l->connect_ip, l->connect_port,
                    strerror(err));
        teardown(l, LINK_EV_CONNECT_FAILED, false);
        return;
    }
    connected(l);
}

static void start_connect(link_t *l)
{
    int st = link_socket_connect(l->node_name, l->connect_ip, l->connect_port, &l->fd);
    if (st == LINK_SOCK_CONNECTED) {
        connected(l);
    } else if (st == LINK_SOCK_IN_PROGRESS) {
        ev_io_init(&l->wio, connect_cb, l->fd, EV_WRITE);
        l->wio.data = l;
        ev_io_start(rt_thread_loop(l->actor.thread), &l->wio);
    } else {
        l->connect_failed_sync = st == LINK_SOCK_REFUSED;
        teardown(l, LINK_EV_CONNECT_FAILED, false);
    }
}

/* ---------------- the link actor ---------------- */

static void link_behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    link_t *l = self->state;
    switch (msg->type) {
    case LINK_MSG_START:              /* embedded; first message of every link */
        if (!thread_ctx()) {
            LOG_WARNING("Out of memory starting a cluster link");
            teardown(l, l->outbound ? LINK_EV_CONNECT_FAILED : LINK_EV_CLOSED, false);
            return;
        }
        link_place_attach(l, false);
        if (l->outbound) start_connect(l);
        else if (config_get_num(CONFIG_TLS_CLUSTER) && !(l->tls = link_tls_start(l->fd, false))) teardown(l, LINK_EV_CLOSED, false);
        else start_io(l);
        return;
    case LINK_MSG_SEND: {
        link_send_msg_t *m = (link_send_msg_t *)msg;
        unsigned type;
        if (!l->dead && l->outbound && l->request_sent_us == 0 && bus_peek_type(m->frame->data, m->frame->len, &type)
            && (type == BUS_PING || type == BUS_MEET))
            l->request_sent_us = rt_mono_us();
        append_shared(l, m->frame);   /* the message's reference goes to the queue (or is dropped) */
        free(m);
        return;
    }
    case LINK_MSG_CLOSE:              /* embedded */
        teardown(l, 0, false);
        return;
    case LINK_MSG_ADOPT:              /* embedded; first message on a new thread (link_rehome) */
        link_place_attach(l, true);   /* first: the teardown below counts it out again */
        if (!thread_ctx() || !link_light_unpack(&l->light)) {
            LOG_WARNING("Out of memory moving a cluster link");
            teardown(l, LINK_EV_CLOSED, false);
            return;
        }
        start_io(l);
        return;
    default:
        free(msg);
        return;
    }
}

/* `id` 0: a fresh id; else one from link_reserve_id. */
static link_t *link_new(rt_thread_t *t, bool outbound, int fd, link_id_t id)
{
    link_t *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->id = id ? id : link_reserve_id();
    l->fd = fd;
    l->outbound = outbound;
    l->connecting = outbound;
    l->create_ms = rt_now_ms();
    atomic_init(&l->rtt_us, -1);
    bus_stream_init(&l->rx, link_read_cap_payload());
    /* No pub/sub and no modules yet: PUBLISH and MODULE bodies are skipped as
     * they stream in, never held (proto/bus_stream.h). */
    bus_stream_skip_unused(&l->rx, true);
    bus_stream_accept_light(&l->rx, true);
    l->start_msg.type = LINK_MSG_START;
    l->close_msg.type = LINK_MSG_CLOSE;
    l->adopt_msg.type = LINK_MSG_ADOPT;
    rt_actor_init(&l->actor, t, "link", link_behaviour, l);
    return l;
}

/* Registers and starts a new link; on failure (out of memory) the link was
 * never reachable, so it is freed here, after posting `fail_event` (0: none)
 * to close what the state actor was already told. */
static int link_launch(link_t *l, int fail_event)
{
    if (link_reg_add_and_start(l) != 0) {
        if (fail_event) post_event(l, fail_event, false);
        bus_stream_free(&l->rx);
        if (l->fd >= 0) close(l->fd);
        free(l);
        return -1;
    }
    return 0;
}

link_id_t link_adopt_inbound(int fd, const struct sockaddr_storage *peer)
{
    rt_thread_t *t = link_place_pick();
    link_t *l = t ? link_new(t, false, fd, 0) : NULL;
    if (!l) { close(fd); return 0; }
    link_format_ip(peer, l->peer_ip, sizeof l->peer_ip);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) link_format_ip(&ss, l->local_ip, sizeof l->local_ip);
    link_id_t id = l->id;
    /* ACCEPTED is queued at the state actor before the link can forward any frame */
    post_event(l, LINK_EV_ACCEPTED, false);
    if (link_launch(l, LINK_EV_CLOSED) != 0) return 0;
    return id;
}

link_id_t link_id_floor(void)
{
    /* relaxed: the caller only compares ids handed out later with it */
    return atomic_load_explicit(&g_next_id, memory_order_relaxed);
}

link_id_t link_reserve_id(void)
{
    /* relaxed: only uniqueness matters, no other memory is published with it */
    return atomic_fetch_add_explicit(&g_next_id, 1, memory_order_relaxed);
}

bool link_connect_as(link_id_t id, const char *node_name, const char *ip, int port)
{
    rt_thread_t *t = link_place_pick();
    if (!t) return false;             /* links_start has not run yet: the caller retries */
    link_t *l = link_new(t, true, -1, id);
    if (!l) return false;
    snprintf(l->node_name, sizeof l->node_name, "%s", node_name ? node_name : "");
    snprintf(l->connect_ip, sizeof l->connect_ip, "%s", ip ? ip : "");
    l->connect_port = port;
    return link_launch(l, 0) == 0;
}

link_id_t link_connect(const char *node_name, const char *ip, int port)
{
    link_id_t id = link_reserve_id();
    return link_connect_as(id, node_name, ip, port) ? id : 0;
}

void link_send_shared(link_id_t id, shared_frame_t *frame)
{
    if (!frame || frame->len == 0) return;
    link_send_msg_t *m = malloc(sizeof *m);
    if (!m) { LOG_WARNING("Out of memory: dropped an outgoing cluster bus message"); return; }
    m->hdr.type = LINK_MSG_SEND;
    m->frame = frame;
    shared_frame_ref(frame);
    link_reg_lock();
    link_t *l = link_reg_find(id);
    /* sent under the lock: the link cannot leave the registry (and later be
     * freed) between the lookup and the push */
    if (l) rt_send(&l->actor, &m->hdr);
    link_reg_unlock();
    if (!l) {
        shared_frame_unref(frame);
        free(m);
        return;
    }
    unsigned type;
    if (bus_peek_type(frame->data, frame->len, &type)) bus_dstats_sent(type);
}

bool link_rehome(link_t *l, rt_thread_t *to)
{
    link_reg_lock();
    /* Every sender pushes under this lock: an empty mailbox stays empty
     * until ADOPT is the first message of the new thread. The light
     * encoding's state leaves this thread's pool (link_light.h). The watchers stop
     * and the socket leaves our epoll set (one epoll_ctl, no socket I/O)
     * before the new thread can start them. */
    bool ok = rt_actor_is_idle(&l->actor) && link_light_pack(&l->light);
    if (ok) {
        rt_thread_t *from = l->actor.thread;
        ev_io_stop(rt_thread_loop(from), &l->rio);
        ev_io_stop(rt_thread_loop(from), &l->wio);
        rt_thread_forget_fd(from, l->fd);
        atomic_store_explicit(&l->events, 0, memory_order_relaxed);
        ok = rt_actor_rebind(&l->actor, to);
        rt_send(&l->actor, &l->adopt_msg);
    }
    link_reg_unlock();
    return ok;
}

void link_serve_while_busy(link_t *l)
{
    /* what the loop would deliver: read_cb copes with an empty socket,
     * answers PINGs and writes; a write the socket did not take is retried */
    tl_serving_busy = true;
    if (!l->dead && ev_is_active(&l->rio)) read_cb(rt_thread_loop(l->actor.thread), &l->rio, EV_READ);
    tl_serving_busy = false;
    if (!l->dead && !l->connecting && l->wq.count) flush(l);
}

void link_close(link_id_t id)
{
    link_reg_lock();
    link_t *l = link_reg_find(id);
    if (l && !atomic_exchange(&l->close_sent, true)) rt_send(&l->actor, &l->close_msg);
    link_reg_unlock();
}

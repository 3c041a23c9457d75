/* worker.c - client worker actors: threads, reading, writing, and the
 * per-connection reply FIFO that keeps replies in request order when some
 * of them are computed on other workers.
 *
 * Each worker thread runs one worker actor. All workers watch the same
 * listening sockets (non-blocking accept, so a lost race is harmless:
 * accept.c). A connection is dealt to one of the workers taking connections
 * and stays there until placement.c moves it, between requests. A worker that
 * handled client input or messages spins briefly before it sleeps
 * (WORKER_SPIN_US), so that the next request or batch finds it awake.
 *
 * Must never: touch another worker's clients or keyspace directly; every
 * cross-worker interaction is a message (remote_cmd_t).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/worker/aof_gate.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/wdb.h"
#include "actors/acl/acl.h"
#include "actors/bus/link.h"
#include "actors/config/config.h"
#include "actors/failover/wpause.h"
#include "actors/persist/aof.h"
#include "actors/persist/rdb_save.h"
#include "actors/state/asm.h"
#include "actors/worker/asm_lane.h"
#include "actors/repl/repl.h"
#include "actors/repl/repl_replica.h"
#include "actors/state/state.h"
#include "actors/worker/batch.h"
#include "actors/worker/blocking.h"
#include "actors/worker/client.h"
#include "actors/worker/evict.h"
#include "actors/worker/client_ids.h"
#include "actors/worker/client_limits.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/slowlog.h"
#include "actors/worker/monitor.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/listen.h"
#include "actors/worker/pipe_prefetch.h"
#include "actors/worker/placement.h"
#include "actors/worker/ldb_conn.h"
#include "actors/worker/notify.h"
#include "actors/worker/push_hold.h"
#include "actors/worker/tracking.h"
#include "actors/worker/pubsub.h"
#include "actors/worker/push_hold.h"
#include "actors/worker/stats.h"
#include "actors/worker/unixsock.h"
#include "actors/worker/worker.h"
#include "runtime/log.h"
#include "runtime/tls.h"
#include "runtime/xmalloc.h"

worker_t *g_workers[MAX_WORKERS];
struct keyspace *g_worker_preload[MAX_WORKERS];
int g_nworkers;
long long g_start_ms;
_Atomic long long g_lastsave;
_Atomic uint64_t g_next_client_id = 1;
_Atomic int g_active_expire = 1;

#define READ_CHUNK (16 * 1024)
/* How long a worker that just handled requests watches for the next ones
 * (a batch from another worker, a request on a socket) before it sleeps
 * (rt_thread_set_spin_us): a few loopback round trips. With 50 unpipelined
 * clients on 2 workers, 20 us caught the next work in most spins and took
 * the eventfd writes per request from ~0.2 to ~0.01; 50 us did no better. */
#define WORKER_SPIN_US 20
/* How long a wake-up cycle of cluster-bus reads is stretched to when the bus
 * wakes the worker faster than that (rt_thread_set_linger_us): in the TLS
 * gossip flood (32 links, 2 s floods, load 2.5-3.5) 100 us took the CPU
 * per PING down by a median 6 % per round, ahead in 6 of 6; 250 us by 2 %. */
#define WORKER_LINGER_US 100
#define MAX_PENDING_PER_CLIENT 4096
#define WATCH_BUCKETS 65536

static __thread client_t *pending_writes;

/* ---------------- reply FIFO ---------------- */

resp_buf_t *client_reply_target(client_t *c)
{
    resp_buf_t *tb = txn_reply_target(c);
    if (tb) return tb;
    return client_push_target(c);
}

reply_slot_t *client_defer_reply(client_t *c)
{
    reply_slot_t *ts = txn_defer(c);
    if (ts) return ts;
    if (c->socket_lent) rt_thread_want_lazy_wakeups(true);   /* this reply waits on the lent one */
    reply_slot_t *s = xcalloc(1, sizeof *s);
    s->client = c;
    resp_buf_init(&s->buf, c->proto);
    if (c->pending_tail) c->pending_tail->next = s;
    else c->pending_head = s;
    c->pending_tail = s;
    c->pending_count++;
    return s;
}

static void client_free(client_t *c);

void client_slot_fill(worker_t *w, reply_slot_t *s, const char *data, size_t len)
{
    client_t *c = s->client;
    if (s->muted) {
        /* CLIENT REPLY OFF/SKIP: nothing to send */
    } else if (!s->txn_part && s == c->pending_head && !(c->flags & CLIENT_CLOSED)) {
        /* The common case: the reply is next in line, so it goes straight out. */
        resp_buf_append(&c->out, data, len);
    } else if (!(c->flags & CLIENT_CLOSED)) {
        resp_buf_append(&s->buf, data, len);
    }
    client_slot_done(w, s);
}

void worker_send(worker_t *from, int to, rt_msg_t *msg)
{
    batch_flush(from, to);
    rt_send(&g_workers[to]->actor, msg);
}

void client_slot_done(worker_t *w, reply_slot_t *s)
{
    (void)w;
    client_t *c = s->client;
    /* A transaction's part can be in a batch too (CLUSTER COUNTKEYSINSLOT of
     * another worker's slot inside EXEC, when that worker cannot be
     * borrowed): counted back before the part goes to its transaction, or
     * batch_open stayed up and dispatch_order_must_wait held the
     * connection's next command for ever. */
    if (s->in_batch) c->batch_open--;
    if (s->txn_part) {
        txn_part_done(c, s);
        return;
    }
    s->done = true;
    if (s->fanout_open) c->fanout_open--;
    if (s->blocks_client) c->flags &= ~CLIENT_BLOCKED;
    while (c->pending_head && c->pending_head->done) {
        reply_slot_t *h = c->pending_head;
        c->pending_head = h->next;
        if (!c->pending_head) c->pending_tail = NULL;
        c->pending_count--;
        if (!(c->flags & CLIENT_CLOSED) && h->buf.len && !h->muted)
            resp_buf_append(&c->out, h->buf.data, h->buf.len);
        resp_buf_free(&h->buf);
        resp_buf_free(&h->acc);
        free(h);
    }
    if (c->flags & CLIENT_CLOSED) {
        if (!c->pending_head && !(c->flags & (CLIENT_PENDING_WRITE | CLIENT_PUSH_HELD))) client_free(c);
        return;
    }
    if (client_check_obuf(c, OBUF_CHECK_QUICK)) return;
    client_schedule_write(c);
    /* Replies drained: parsing may resume if it was held back (a command
     * held for its batches: when the last one is back). */
    if (!c->in_input && c->qpos < c->qlen && c->pending_count < MAX_PENDING_PER_CLIENT &&
        !(c->input_held && (c->batch_open > 0 || c->fanout_open > 0)))
        client_process_input(c);
}

/* ---------------- output ---------------- */

void client_schedule_write(client_t *c)
{
    if (!(c->flags & CLIENT_CLOSED)) worker_flush_list_add(c);
}

void worker_flush_list_add(client_t *c)
{
    if (c->flags & CLIENT_PENDING_WRITE) return;
    c->flags |= CLIENT_PENDING_WRITE;
    c->next_write = pending_writes;
    pending_writes = c;
}

/* Writes as much as the socket takes; returns false if the client was closed. */
static bool client_write(client_t *c)
{
    worker_t *w = c->worker;
    size_t limit = aof_gate_limit(c);
    while (c->out_sent < limit) {
        ssize_t n = client_sock_write(c, c->out.data + c->out_sent, limit - c->out_sent);
        if (n > 0) {
            c->out_sent += (size_t)n;
            atomic_fetch_add_explicit(&w->stats.net_output_bytes, n, memory_order_relaxed);
            atomic_fetch_add_explicit(&w->stats.writes_processed, 1, memory_order_relaxed);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (client_check_obuf(c, OBUF_CHECK_FULL)) return false;
            if (c->tls_write_wants_read) return true;
            if (!c->wio_active) {
                ev_io_start(rt_thread_loop(w->thread), &c->wio);
                c->wio_active = true;
            }
            return true;
        }
        client_close(c);
        return false;
    }
    if (c->out_sent < c->out.len) {
        /* the rest waits for an fsync (aof_gate.h): its release writes it */
        if (c->wio_active && !c->tls_read_wants_write) {
            ev_io_stop(rt_thread_loop(w->thread), &c->wio);
            c->wio_active = false;
        }
        return true;
    }
    aof_gate_drop(c);
    resp_buf_reset(&c->out);
    c->out_sent = 0;
    if (c->out.cap > 1024 * 1024) {     /* give back a big buffer after a big reply */
        resp_buf_free(&c->out);
        resp_buf_init(&c->out, c->proto);
    }
    if (c->wio_active && !c->tls_read_wants_write) {
        ev_io_stop(rt_thread_loop(w->thread), &c->wio);
        c->wio_active = false;
    }
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) {
        client_close(c);
        return false;
    }
    return true;
}

static void write_cb(struct ev_loop *loop, ev_io *wio, int revents)
{
    (void)revents;
    client_t *c = wio->data;
    if (c->tls_read_wants_write) {
        /* The TLS session's read needed the socket writable: retry it. */
        c->tls_read_wants_write = false;
        if (c->out_sent == c->out.len && c->wio_active) {
            ev_io_stop(loop, &c->wio);
            c->wio_active = false;
        }
        worker_client_read(c);
        return;
    }
    if (!aof_gate_defer_write(c)) client_write(c);
}

/* Before the loop sleeps: flush every client that got output this iteration. */
static void flush_pending_writes(rt_thread_t *t, void *arg)
{
    (void)t;
    rdb_fork_child_slices(&((worker_t *)arg)->child_slices);
    push_hold_round((worker_t *)arg);         /* pushes written this round, or held (push_hold.h) */
    tracking_before_sleep((worker_t *)arg);   /* this round's BCAST invalidations, before the writes go */
    repl_flush(((worker_t *)arg)->repl);
    batch_flush((worker_t *)arg, -1);
    monitor_flush((worker_t *)arg);   /* may schedule writes to our own monitors */
    worker_write_scheduled((worker_t *)arg);
    worker_t *w = arg;
    if (w->pong_after_write) {
        /* a SETSLOT NODE's reply is written: the PONG it held leaves now */
        w->pong_after_write = false;
        state_send_owed_pong();
    }
    /* the memory of keys a MIGRATE deleted, once its reply is out */
    if (w->free_later) {
        ks_free_detached(w->free_later);
        w->free_later = NULL;
    }
}

/* Writes every client that got output since the last time. */
void worker_write_scheduled(worker_t *w)
{
    aof_write_deferred();         /* borrowed writes' AOF bytes (dispatch.c) before any reply */
    if (w->aof_gated) aof_gate_release(w);
    /* appendfsync always: one mark for the round; what is in the buffers
     * now leaves once an fsync reaches it (aof_gate.h) */
    uint64_t mark = pending_writes ? aof_reply_mark() : 0;
    /* No fsync running and none to wait for: run it here, as 7.0.15 does
     * before its loop sleeps, unless the round was big and more work waits:
     * the syncer runs it while this worker serves that (aof_gate.h) */
    if (mark && !(aof_reply_unsynced(mark) >= AOF_OVERLAP_MIN_BYTES && rt_thread_work_waiting()) &&
        aof_reply_sync_inline(w->aof_waiter, mark)) {
        if (w->aof_gated) aof_gate_release(w);
        mark = 0;
    }
    /* Ask for the fsync of this round's writes now, so that it runs while
     * the replies are written (asked for after them, it started only once
     * every reply of the round was out: 1-3 ms later in a trace at -P 1
     * with 25 replies a round on a loaded machine). */
    if (mark) aof_gate_wait(w, mark);
    bool waiting = false;
    while (pending_writes) {
        client_t *c = pending_writes;
        pending_writes = c->next_write;
        c->next_write = NULL;
        c->flags &= ~CLIENT_PENDING_WRITE;
        if (c->flags & CLIENT_CLOSED) {
            if (!c->pending_head && !(c->flags & CLIENT_PUSH_HELD)) client_free(c);
            continue;
        }
        if (batch_holds_output(c)) continue;   /* written when its batch is back (batch.h) */
        aof_gate_note(c, mark);
        if (c->flags & CLIENT_AOF_GATED) waiting = waiting || c->aof_wait[0].len;
        if (!c->wio_active) client_write(c);
    }
    if (waiting) aof_gate_wait(w, mark);
}

/* ---------------- connection lifecycle ---------------- */

static void client_unlink(client_t *c)
{
    worker_t *w = c->worker;
    if (c->prev) c->prev->next = c->next;
    else w->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    c->next = c->prev = NULL;
}

static void client_free(client_t *c)
{
    aof_gate_drop(c);
    free(c->acl_name);
    resp_parser_free(&c->parser);
    resp_buf_free(&c->out);
    free(c->qbuf);
    for (int i = 0; i < c->mq_len; i++) queued_cmd_free(&c->mq[i]);
    free(c->mq);
    watch_list_clear(&c->watch);
    free(c);
}

void client_close(client_t *c)
{
    if (c->flags & CLIENT_CLOSED) return;
    worker_t *w = c->worker;
    struct ev_loop *loop = rt_thread_loop(w->thread);
    ev_io_stop(loop, &c->rio);
    if (c->wio_active) ev_io_stop(loop, &c->wio);
    c->wio_active = false;
    if (c->socket_lent) {
        /* Another worker may be writing on it: the number must not be
         * reused before it is done (client_return_socket closes it). */
        c->lent_fd_to_close = c->fd;
        rt_thread_want_lazy_wakeups(true);
    } else {
        tls_conn_free(c->tls);
        close(c->fd);
    }
    c->tls = NULL;
    c->fd = -1;
    c->flags |= CLIENT_CLOSED;
    client_unlink(c);
    aof_gate_drop(c);
    if (c->flags & CLIENT_ASM_LANE) asm_event_post(ASM_EV_CLIENT_CLOSED, 0, 0, 0, c->id, "");   /* import fails */
    pubsub_client_reset(c);       /* no message is written to it any more */
    monitor_remove(c);            /* nor a command it monitored */
    tracking_client_reset(c);     /* nor an invalidation */
    client_ids_del(c->id);        /* a REDIRECT to it is refused from now on */
    blocking_client_closed(c);    /* its owner drops the wait; the reply slot then frees c */
    if (c->flags & CLIENT_PAUSED) {   /* it must not stay on the paused list once freed */
        for (client_t **pp = &w->paused; *pp; pp = &(*pp)->next_paused)
            if (*pp == c) {
                *pp = c->next_paused;
                worker_hold_dropped();
                break;
            }
        c->flags &= ~CLIENT_PAUSED;
    }
    atomic_fetch_sub_explicit(&w->stats.connected_clients, 1, memory_order_relaxed);
    /* Never free here: the caller may still hold `c` (a handler that closed
     * its own client). The struct goes on the flush list, which frees it
     * before the loop sleeps, or later when its last pending reply lands. */
    worker_flush_list_add(c);
}

void workers_flush_all_async(void)
{
    static const uint8_t *argv[1] = { (const uint8_t *)"flushall" };
    static const size_t argvlen[1] = { 8 };
    const cmd_def_t *fl = cmd_lookup(argv[0], argvlen[0]);
    for (int i = 0; i < g_nworkers; i++) {
        repl_apply_t *a = xcalloc(1, sizeof *a);
        a->hdr.type = WMSG_APPLY;
        a->ncmds = 1;
        a->cmds = xcalloc(1, sizeof *a->cmds);
        queued_cmd_copy(&a->cmds[0], fl, 1, argv, argvlen);
        a->now_ms = rt_now_ms();
        rt_send(&g_workers[i]->actor, &a->hdr);
    }
}

int client_detach(client_t *c, struct tls_conn **tls)
{
    if (c->flags & CLIENT_CLOSED) return -1;
    worker_t *w = c->worker;
    struct ev_loop *loop = rt_thread_loop(w->thread);
    /* PSYNC refuses a client with unsent output (cmd_repl.c); never wait here
     * for a socket to drain: a peer that does not read would pin the worker. */
    if (c->out_sent < c->out.len || c->socket_lent) return -1;
    if (c->tls && (c->tls_write_wants_read || c->tls_read_wants_write || tls_conn_pending(c->tls))) return -1;
    *tls = c->tls;
    c->tls = NULL;
    ev_io_stop(loop, &c->rio);
    if (c->wio_active) ev_io_stop(loop, &c->wio);
    c->wio_active = false;
    int fd = c->fd;
    /* The repl thread will own and close fd: our epoll must not hold it. */
    rt_thread_forget_fd(w->thread, fd);
    c->fd = -1;
    c->flags |= CLIENT_CLOSED;
    client_unlink(c);
    atomic_fetch_sub_explicit(&w->stats.connected_clients, 1, memory_order_relaxed);
    worker_flush_list_add(c);
    return fd;
}

static void read_cb(struct ev_loop *loop, ev_io *rio, int revents);

void worker_client_attach(worker_t *w, client_t *c)
{
    ev_io_init(&c->rio, read_cb, c->fd, EV_READ);
    c->rio.data = c;
    ev_io_init(&c->wio, write_cb, c->fd, EV_WRITE);
    c->wio.data = c;
    ev_io_start(rt_thread_loop(w->thread), &c->rio);
    c->next = w->clients;
    if (w->clients) w->clients->prev = c;
    w->clients = c;
    worker_cron_check(w);
}

void worker_client_detach_for_move(worker_t *w, client_t *c)
{
    ev_io_stop(rt_thread_loop(w->thread), &c->rio);
    /* Our epoll set must not keep reporting a socket another loop serves. */
    rt_thread_forget_fd(w->thread, c->fd);
    client_unlink(c);
}

static void snap_enter(worker_t *w)
{
    if (w->snap_depth++ == 0) {
        w->cur = rt_snap_read_begin(&w->snap);
        acl_read_begin(&w->acl_snap);
        /* A replica does not expire keys itself: it waits for its master's DELs.
         * During a client pause the dataset stays still the same way (wpause.h). */
        bool slave = (w->cur->nodes[w->cur->myself].flags & NODE_SLAVE) != 0;
        bool paused = wpause_mode() != WPAUSE_OFF;
        if ((slave || paused) != ks_replica_mode(w->ks)) ks_set_replica_mode(w->ks, slave || paused);
        ks_set_pause_only(w->ks, paused && !slave);
    }
}

/* An expired key is being deleted on this worker: a master tells its replicas. */
static void on_key_expired(void *arg, struct keyspace *ks, const uint8_t *key, size_t len, long long expire_ms)
{
    worker_t *w = arg;
    int db = wdb_publish_expiring(w, ks);
    /* a WATCH made while it was alive fails, as 7.0.15 touches a key its
     * expiry deletes; one made after its TTL passed holds (watch.h). The
     * owner's tables: a key moved in by a call over several workers expires
     * here, and WATCHes and EXEC read its owner's. */
    if (db >= 0 && watch_anyone()) watch_note_expired_gone(worker_key_keeper(w, key, len), db, key, len, expire_ms);
    notify_expired(key, len);
    tracking_key_gone(w, key, len);
    blocking_key_gone(w, key, len);
    if (repl_worker_propagates(w->ks)) repl_propagate_del(w->repl, key, len);
    if (asm_lane_any(w)) asm_lane_note_expired(w, key, len);
}

void worker_keyspace_hook(worker_t *w, struct keyspace *ks) { ks_set_expired_hook(ks, on_key_expired, w); }

void worker_keyspace_adopted(worker_t *w)
{
    for (int d = 0; d < wdb_top(w); d++)
        if (wdb_peek(w, d)) worker_keyspace_hook(w, wdb_peek(w, d));
    wdb_publish_all(w, -1);
}

static void snap_leave(worker_t *w)
{
    if (--w->snap_depth == 0) {
        acl_read_end(&w->acl_snap);
        rt_snap_read_end(&w->snap);
        w->cur = NULL;
    }
}

void worker_snap_enter(worker_t *w) { snap_enter(w); }
void worker_snap_leave(worker_t *w) { snap_leave(w); }

void client_process_input(client_t *c)
{
    worker_t *w = c->worker;
    if (c->in_input) return;
    c->in_input = true;
    c->input_held = false;
    snap_enter(w);
    long long now_ms = -1;        /* read once per pass, as Redis stamps a read, not each command */
    worker_t *move_to = NULL;     /* a first SUBSCRIBE, or a MIGRATE, goes to another worker (placement.c) */
    pipe_prefetch_t pf = { 0 };   /* the pipeline's next keys, fetched ahead */
    while (!(c->flags & (CLIENT_CLOSED | CLIENT_CLOSE_AFTER_REPLY | CLIENT_BLOCKED | CLIENT_PAUSED)) &&
           c->qpos < c->qlen &&
           c->pending_count < MAX_PENDING_PER_CLIENT) {
        c->parser.authenticated = (c->flags & CLIENT_AUTHENTICATED) || acl_default_open();
        /* Read each time, not copied at accept: CONFIG SET proto-max-bulk-len
         * applies to connections already open, as in Redis. */
        c->parser.max_bulk_len = config_proto_max_bulk_len();
        const uint8_t *start = c->qbuf + c->qpos;
        int r = resp_parse(&c->parser, start, c->qlen - c->qpos);
        if (r == RESP_PARSE_MORE) break;
        if (r == RESP_PARSE_ERROR) {
            resp_buf_t *out = client_reply_target(c);
            char msg[256];
            snprintf(msg, sizeof msg, "%s", c->parser.error);
            resp_add_error(out, msg);
            stats_note_error_text(w, msg);
            LOG_VERBOSE("Protocol error (%s) from client: id=%llu addr=%s", c->parser.error,
                        (unsigned long long)c->id, c->addr);
            c->flags |= CLIENT_CLOSE_AFTER_REPLY;
            c->qpos = c->qlen;
            if (!c->pending_head) client_schedule_write(c);
            break;
        }
        size_t consumed = c->parser.consumed;
        if (r == RESP_PARSE_DONE && c->parser.argc > 0) {
            int argc = (int)c->parser.argc;
            const uint8_t *stack_argv[16]; size_t stack_len[16];
            const uint8_t **argv = argc <= 16 ? stack_argv : xmalloc(sizeof(*argv) * (size_t)argc);
            size_t *argvlen = argc <= 16 ? stack_len : xmalloc(sizeof(*argvlen) * (size_t)argc);
            for (int i = 0; i < argc; i++) {
                argv[i] = resp_arg(&c->parser, start, (size_t)i);
                argvlen[i] = c->parser.arg_len[i];
            }
            if (now_ms < 0) now_ms = rt_now_ms();
            c->last_interaction_ms = now_ms;
            c->argv_mem = 0;
            for (int i = 0; i < argc; i++) c->argv_mem += argvlen[i];
            if (worker_command_must_wait(c, argc, argv, argvlen)) {
                /* Leave the command unparsed in the buffer; it runs when the pause ends. */
                worker_hold_client(c, consumed, argc, argvlen);
                if (argc > 16) { free(argv); free(argvlen); }
                resp_parser_reset(&c->parser);
                break;
            }
            if (dispatch_order_must_wait(c, argc, argv, argvlen)) {   /* runs when its batches are back */
                if (argc > 16) { free(argv); free(argvlen); }
                resp_parser_reset(&c->parser);
                break;
            }
            if ((move_to = placement_subscriber_move(c, argv[0], argvlen[0])) != NULL ||
                (move_to = placement_migrate_move(c, argc, argv, argvlen)) != NULL ||
                ((c->flags & CLIENT_LUA_DEBUG) && (move_to = ldb_conn_place(c, argc, argv, argvlen)) != NULL) ||
                ((c->flags & (CLIENT_ASM_LANE | CLIENT_ASM_PLACED)) == CLIENT_ASM_LANE &&
                 (move_to = asm_lane_place(c, argc, argv, argvlen)) != NULL)) {
                /* (a debugger's EVAL: move_to == w means it waits here, ldb_conn.h) */
                if (argc > 16) { free(argv); free(argvlen); }   /* it runs after the move */
                resp_parser_reset(&c->parser);
                break;
            }
            pipe_prefetch_step(&pf, c, c->qpos + consumed);
            client_reply_mark_t mark = client_reply_begin(c);
            if (!worker_busy_refused(c, argc, argv, argvlen)) dispatch_command(c, argc, argv, argvlen);
            tracking_command_done(c, argv[0], argvlen[0]);   /* CLIENT CACHING lasts one command */
            client_reply_end(c, mark);
            if (argc > 16) { free(argv); free(argvlen); }
            /* As Redis after each reply it queues: a client that does not
             * read its replies cannot make us hold more than its limit. */
            if (c->out.len > c->out_sent && client_check_obuf(c, OBUF_CHECK_QUICK)) break;
        }
        resp_parser_reset(&c->parser);
        c->qpos += consumed;
    }
    snap_leave(w);
    c->in_input = false;
    if (move_to && move_to != w) {
        placement_move_before_command(c, move_to);
        return;
    }
    if (c->flags & CLIENT_CLOSED) return;
    /* Compact the query buffer. */
    if (c->qpos == c->qlen) {
        c->qpos = c->qlen = 0;
        if (c->qcap > 1024 * 1024) { free(c->qbuf); c->qbuf = NULL; c->qcap = 0; }
    } else if (c->qpos > 0 && (c->qpos > c->qcap / 2 || c->qcap - c->qlen < READ_CHUNK)) {
        memmove(c->qbuf, c->qbuf + c->qpos, c->qlen - c->qpos);
        c->qlen -= c->qpos;
        c->qpos = 0;
    }
    if (c->out.len) client_schedule_write(c);
}

static void read_cb(struct ev_loop *loop, ev_io *rio, int revents)
{
    (void)loop; (void)revents;
    worker_client_read(rio->data);
}

void worker_client_read(client_t *c)
{
    worker_t *w = c->worker;
    /* A TLS write that waited for the socket to be readable goes on first. */
    if (c->tls_write_wants_read && !client_write(c)) return;
    size_t want = READ_CHUNK;
    /* A big bulk argument in progress: read it in larger pieces. */
    if (c->parser.bulk_len > 0 && (size_t)c->parser.bulk_len > want) want = (size_t)c->parser.bulk_len + 2;
    if (want > 64 * 1024 * 1024) want = 64 * 1024 * 1024;
    /* Never make room for more than client-query-buffer-limit allows: one
     * byte past it is enough to know the client must go. */
    long long qlimit = config_client_query_buffer_limit();
    if (qlimit > 0 && want > (size_t)qlimit + 1 && want > READ_CHUNK)
        want = (size_t)qlimit + 1 > READ_CHUNK ? (size_t)qlimit + 1 : READ_CHUNK;
    if (c->qcap - c->qlen < want) {
        size_t ncap = c->qcap ? c->qcap : READ_CHUNK;
        while (ncap - c->qlen < want) ncap *= 2;
        uint8_t *nb = realloc(c->qbuf, ncap);
        if (!nb) { client_close(c); return; }
        c->qbuf = nb;
        c->qcap = ncap;
    }
    ssize_t n = client_sock_read(c, c->qbuf + c->qlen, c->qcap - c->qlen);
    if (n == 0) { client_close(c); return; }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        client_close(c);
        return;
    }
    if (!c->tls && c->qlen == 0 && !c->last_cmd_def && client_looks_like_tls_hello(c->qbuf, (size_t)n)) {
        /* A TLS client on the plain port: no reply can mean anything to it
         * (Redis would wait for an inline command's newline). */
        LOG_VERBOSE("Client id=%llu addr=%s sent a TLS handshake to a plain-text port, closing",
                    (unsigned long long)c->id, c->addr);
        client_close(c);
        return;
    }
    c->qlen += (size_t)n;
    if (c->qlen - c->qpos > c->qbuf_peak) c->qbuf_peak = c->qlen - c->qpos;
    rt_thread_note_busy();
    atomic_fetch_add_explicit(&w->stats.net_input_bytes, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->stats.reads_processed, 1, memory_order_relaxed);
    /* Checked on every read, also while the client is blocked or paused and
     * its input only piles up (Redis keeps reading such a client too). */
    if (client_check_qbuf(c)) return;
    /* Bytes OpenSSL still holds are read on the next loop iteration. */
    if (c->tls && tls_conn_pending(c->tls)) ev_feed_event(rt_thread_loop(w->thread), &c->rio, EV_READ);
    if (c->pending_count >= MAX_PENDING_PER_CLIENT) return;
    client_process_input(c);
}

/* ---------------- messages ---------------- */

void remote_cmd_free(remote_cmd_t *rc)
{
    for (int i = 0; i < rc->ncmds; i++) queued_cmd_free(&rc->cmds[i]);
    free(rc->cmds);
    for (int i = 0; i < rc->ncheck; i++) queued_cmd_free(&rc->check_cmds[i]);
    free(rc->check_cmds);
    watch_list_clear(&rc->watch);
    free(rc->caller_line);
    resp_buf_free(&rc->reply);
    free(rc->blob);
    free(rc->block_state);
    free(rc->wait_marks);
    free(rc->usecs);
    txn_part_free_publishes(rc);
    free(rc);
}

static void on_remote_done(worker_t *w, remote_cmd_t *rc);

/* The command whose reply its own worker takes back at once
 * (worker_reply_here_begin), and whether the reply came. */
static __thread remote_cmd_t *tl_reply_here;
static __thread bool tl_replied_here;

void worker_reply_async(remote_cmd_t *rc)
{
    rc->hdr.type = WMSG_DONE;
    if (rc == tl_reply_here) {
        tl_replied_here = true;    /* worker_reply_here_end delivers it */
        return;
    }
    rt_send(&rc->origin->actor, &rc->hdr);
}

void worker_reply_here_begin(client_t *c, remote_cmd_t *rc)
{
    tl_replied_here = false;
    /* Only for the last command of the client's input: the commands after
     * it in this pass would route from the snapshot the pass entered, older
     * than the change (by message, they run in the next pass, on a fresh
     * one). A command not read from the client's input (a script's) goes by
     * message too. */
    tl_reply_here = c->in_input && c->qpos + c->parser.consumed >= c->qlen ? rc : NULL;
}

void worker_reply_here_end(worker_t *w, remote_cmd_t *rc)
{
    tl_reply_here = NULL;
    if (!tl_replied_here) return;
    tl_replied_here = false;
    /* The client is in the middle of its input (client_process_input):
     * filling its slot now moves the reply to its output and lets the loop
     * go on to its next command, as for a reply made on the spot. A client
     * closed meanwhile is freed by that path: not here, by message. */
    if (rc->slot->client && (rc->slot->client->flags & CLIENT_CLOSED)) {
        rt_send(&w->actor, &rc->hdr);
        return;
    }
    on_remote_done(w, rc);
}

/* Runs commands another worker sent (WMSG_EXEC) and sends the
 * message back as done_type. */
static void on_remote_cmds(worker_t *w, remote_cmd_t *rc, uint32_t done_type)
{
    snap_enter(w);
    dispatch_execute_batch(w, rc);
    snap_leave(w);
    repl_flush(w->repl);                /* the stream has these writes before their replies leave */
    rc->hdr.type = done_type;
    rt_send(&rc->origin->actor, &rc->hdr);
}

/* Another worker ran one of our clients' commands: its reply fills the slot. */
static void on_remote_done(worker_t *w, remote_cmd_t *rc)
{
    reply_slot_t *s = rc->slot;
    bool slept = rc->arg_us > 0;   /* the answer to DEBUG SLEEP */
    if (s->client && (slept || rc->usecs)) slowlog_remote_done(s->client, rc);
    if (s->client && !(s->client->flags & CLIENT_CLOSED)) {
        /* move the reply bytes into the slot */
        resp_buf_free(&s->buf);
        s->buf = rc->reply;
        resp_buf_init(&rc->reply, 2);
    }
    if (rc->pong_after_reply) w->pong_after_write = true;
    s->watch_failed = rc->watch_failed;
    s->route_failed = rc->route_failed;
    s->link_floor = rc->link_floor;
    /* A command refused while queued dooms its EXEC (checked before the
     * client's next command is read: the slot blocked it). */
    if (rc->queue_check && rc->route_failed && s->client) s->client->flags |= CLIENT_DIRTY_EXEC;
    rc->hdr.type = 0;
    client_slot_done(w, s);   /* a transaction goes on from here, up to its next wait */
    remote_cmd_free(rc);
    if (slept) repl_replica_sleep_done();
}

/* Writes from the replication stream, applied in order. */
static void on_apply(worker_t *w, repl_apply_t *a)
{
    snap_enter(w);
    for (int i = 0; i < a->ncmds; i++) {
        dispatch_apply(w, &a->cmds[i], a->now_ms);
        queued_cmd_free(&a->cmds[i]);
    }
    snap_leave(w);
    if (a->from_link) repl_replica_applied(w->index, a->from);
    free(a->cmds);
    free(a);
}

/* CONFIG SET bind/port/tls-port (and the start's attach): stop watching
 * the set's old sockets, watch the new. */
static void on_listeners(worker_t *w, listen_swap_msg_t *m)
{
    struct ev_loop *loop = rt_thread_loop(w->thread);
    ev_io *ws = m->tls ? w->tls_listen_w : w->listen_w;
    int *n = m->tls ? &w->ntls_listen : &w->nlisten;
    for (int k = 0; k < *n; k++) ev_io_stop(loop, &ws[k]);
    *n = m->nfds;
    for (int k = 0; k < m->nfds; k++) {
        if (!m->tls) w->listen_fds[k] = m->fds[k];
        ev_io_init(&ws[k], worker_accept_cb, m->fds[k], EV_READ);
        ws[k].data = w;
        /* While resting after EMFILE the backoff timer starts them. */
        if (!w->accept_resting) ev_io_start(loop, &ws[k]);
    }
    listen_swap_done(m);
}

static void worker_behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    worker_t *w = self->state;
    remote_cmd_t *rc = (remote_cmd_t *)msg;
    switch (msg->type) {
    case WMSG_EXEC:
        on_remote_cmds(w, rc, WMSG_DONE);
        break;
    case WMSG_DONE:
        on_remote_done(w, rc);
        break;
    case WMSG_NEWCONN:
        worker_adopt_newconn(w, msg);
        break;
    case WMSG_BATCH: {
        cmd_batch_t *b = (cmd_batch_t *)msg;
        rt_thread_note_busy();        /* client traffic: more is likely within microseconds */
        snap_enter(w);
        batch_execute(w, b);
        snap_leave(w);
        repl_flush(w->repl);
        bool all_direct = batch_write_direct(w, b);
        b->hdr.type = WMSG_BATCH_DONE;
        /* Every reply is out: the origin only has bookkeeping left, which
         * need not wake it (batch.h). */
        if (all_direct) rt_send_lazy(&b->origin->actor, &b->hdr);
        else rt_send(&b->origin->actor, &b->hdr);
        break;
    }
    case WMSG_BATCH_DONE:
        rt_thread_note_busy();
        batch_complete(w, (cmd_batch_t *)msg);
        break;
    case WMSG_APPLY:
        on_apply(w, (repl_apply_t *)msg);
        break;
    case WMSG_RUN:
        ((worker_run_t *)msg)->fn(w, msg);
        break;
    case WMSG_LISTENERS:
        on_listeners(w, (listen_swap_msg_t *)msg);
        break;
    case WMSG_STOP:
        free(msg);
        break;
    default:
        LOG_WARNING("worker %d: unknown message type %u", w->index, msg->type);
        free(msg);
    }
    worker_cron_check(w);   /* a key with a TTL may have come with it */
}

int workers_start(int n, const int *listen_fds, int nlisten)
{
    if (n < 1) n = 1;
    if (n > MAX_WORKERS) n = MAX_WORKERS;
    g_nworkers = n;
    climits_init();
    pubsub_init();
    notify_init();
    evict_init();
    for (int i = 0; i < n; i++) {
        static char names[MAX_WORKERS][24];
        char *name = names[i];
        snprintf(name, sizeof names[i], "worker-%d", i);
        rt_thread_t *t = rt_thread_create(name);
        worker_t *w = calloc(1, sizeof *w);
        if (!t || !w) return -1;
        w->thread = t; w->index = i;
        w->ks = g_worker_preload[i] ? g_worker_preload[i] : ks_create();
        g_worker_preload[i] = NULL;
        w->db = xcalloc((size_t)wdb_count(), sizeof *w->db);
        w->db[0].ks = w->ks;
        w->db_top = 1;
        wdb_preload_take(w);      /* the other databases of a loaded dump.rdb */
        worker_keyspace_adopted(w);
        w->repl = repl_wbuf_new(w->index);
        w->woff = calloc(WORKER_WOFF_SLOTS, sizeof *w->woff);
        w->key_versions = calloc(WATCH_BUCKETS, sizeof(uint64_t));
        w->expired_gone_ms = calloc(WATCH_BUCKETS, sizeof(long long));
        if (!w->ks || !w->key_versions || !w->expired_gone_ms || !w->woff) return -1;
        stats_init_worker(w);
        rt_actor_init(&w->actor, t, name, worker_behaviour, w);
        rt_snap_reader_register(&g_cluster_snapshot, &w->snap);
        acl_reader_register(&w->acl_snap);
        struct ev_loop *loop = rt_thread_loop(t);
        w->nlisten = nlisten;
        for (int k = 0; k < nlisten && k < 16; k++) {
            w->listen_fds[k] = listen_fds[k];
            ev_io_init(&w->listen_w[k], worker_accept_cb, listen_fds[k], EV_READ);
            w->listen_w[k].data = w;
            ev_io_start(loop, &w->listen_w[k]);
        }
        if (unixsock_fd() >= 0) {
            ev_io_init(&w->unix_listen_w, worker_accept_cb, unixsock_fd(), EV_READ);
            w->unix_listen_w.data = w;
            ev_io_start(loop, &w->unix_listen_w);
        }
        aof_gate_init(w);
        rt_thread_add_prepare_hook(t, flush_pending_writes, w);
        rt_thread_set_spin_us(t, WORKER_SPIN_US);
        rt_thread_set_linger_us(t, WORKER_LINGER_US);
        rt_thread_enable_borrow(t);   /* dispatch.c may run keyed commands here while we sleep */
        worker_cron_start(w);
        g_workers[i] = w;
    }
    stats_publish_workers(n);
    for (int i = 0; i < n; i++)
        if (rt_thread_start(g_workers[i]->thread) != 0) return -1;
    return 0;
}

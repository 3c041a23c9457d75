/* repl_replica.c - the replica link actor (see repl_replica.h): its status,
 * output, batches, connecting, reading and tick. The handshake and full sync
 * are in repl_replica_sync.c, the command stream in repl_replica_stream.c.
 *
 * One connection at a time, driven by a small state machine:
 *   CONNECT -> CONNECTING -> HANDSHAKE (PING; AUTH?, REPLCONF listening-port,
 *   ip-address?, capa, pipelined; PSYNC) -> TRANSFER (full sync) -> CONNECTED
 * Any failure closes the socket and goes back to CONNECT; the 100 ms tick
 * retries about once a second. Everything runs on this actor's thread; the
 * only blocking-free work done here is parsing, RDB decoding into staged
 * keyspaces (bounded per read) and building per-worker batches.
 *
 * Offsets: `repl_offset` is the master offset of the last byte we processed
 * (a whole command, or a whole MULTI ... EXEC: like Redis we do not count a
 * transaction until its EXEC is here, so a link lost in the middle of one
 * resumes before its MULTI). `read_repl_offset` counts every byte read.
 *
 * ACKs on the stream (GETACK, the periodic one) claim only what the workers
 * applied: a marker round (rr_ack_when_applied) sends a WMSG_RUN marker after
 * the apply messages of every worker handed some since its last marker, and
 * ACKs the offset it started at once all markers are back. Like redis-server,
 * which applies before it counts, WAIT then covers only readable writes.
 *
 * Must never: block, touch a live worker keyspace, apply a half-received RDB,
 * or acknowledge stream bytes its workers have not applied.
 */
#include "actors/repl/repl_replica_internal.h"
#include "actors/worker/wdb.h"
#include "runtime/tls.h"
#include "runtime/xmalloc.h"
#include "proto/nodes_conf.h"

/* The link's state (repl_replica_internal.h): the one instance. Only the
 * replication thread touches it, through `self`; the entry points of
 * repl_replica.h, which have no self, name it here. */
static repl_replica_link_t replica_link;

static pthread_mutex_t status_mu = PTHREAD_MUTEX_INITIALIZER;
static repl_replica_status_t published;
static _Atomic int published_state;   /* published.state, for the command path (repl_replica_stale) */
static _Atomic long long net_input_bytes;

static void process_input(repl_replica_link_t *rl);

/* ---------------- status ---------------- */

void rr_publish(repl_replica_link_t *rl)
{
    repl_replica_status_t s;
    memset(&s, 0, sizeof s);
    s.replica = rl->replica;
    snprintf(s.master_host, sizeof s.master_host, "%s", rl->master_ip);
    s.master_port = rl->master_port;
    s.state = rl->state;
    s.last_io_ms = rl->last_io_ms;
    s.link_down_since_ms = rl->link_down_since_ms;
    s.sync_in_progress = rl->state == RL_TRANSFER;
    s.sync_total_bytes = rl->eof_mode ? -1 : (rl->bulk_started ? rl->transfer_read + rl->bulk_left : 0);
    s.sync_read_bytes = rl->transfer_read;
    s.sync_last_io_ms = rl->sync_last_io_ms;
    s.has_offsets = rl->has_offsets;
    s.read_repl_offset = rl->read_repl_offset;
    s.repl_offset = rl->repl_offset;
    snprintf(s.last_error, sizeof s.last_error, "%s", rl->last_error);
    s.link_id = rl->link_id;
    s.fd = rl->fd;
    s.stream_db = rl->stream_db;
    memcpy(s.link_laddr, rl->link_laddr, sizeof s.link_laddr);
    s.link_created_ms = rl->link_created_ms;
    memcpy(s.last_cmd, rl->last_cmd, sizeof s.last_cmd);
    pthread_mutex_lock(&status_mu);
    published = s;
    pthread_mutex_unlock(&status_mu);
    /* relaxed: a command racing a link change may see either state, as one
     * arriving at redis-server a moment earlier or later would */
    atomic_store_explicit(&published_state, s.replica ? s.state : RL_NONE, memory_order_relaxed);
}

static _Atomic int g_stale_idx = CONFIG_IDX_UNSET;

bool repl_replica_stale(void)
{
    int st = atomic_load_explicit(&published_state, memory_order_relaxed);   /* see rr_publish */
    if (st == RL_NONE || st == RL_CONNECTED) return false;
    return config_num_cached(&g_stale_idx, "replica-serve-stale-data") == 0;
}

/* What the workers applied of the stream, per worker: handed is how many
 * batches the link gave it, applied how many it ran, low an offset below
 * which all it was given is applied (the `from` of its last applied batch, or
 * raised by the link when it gives an idle worker a batch). A worker with
 * batches pending holds the node's applied offset at its low. */
static _Atomic unsigned long long handed_seq[MAX_WORKERS], applied_seq[MAX_WORKERS];
static _Atomic long long applied_low[MAX_WORKERS];

static void raise_low(int wi, long long off)
{
    long long cur = atomic_load_explicit(&applied_low[wi], memory_order_relaxed);
    /* release: pairs with the acquire in applied_offset */
    while (cur < off && !atomic_compare_exchange_weak_explicit(&applied_low[wi], &cur, off, memory_order_release,
                                                               memory_order_relaxed)) {
    }
}

void repl_replica_applied(int wi, long long from)
{
    raise_low(wi, from);
    /* release: the batch's effects and low come before the count that says it ran */
    atomic_fetch_add_explicit(&applied_seq[wi], 1, memory_order_release);
}

/* The link's thread, before posting a batch handed over at `from`. */
static void note_handed(int wi, long long from)
{
    /* acquire: a worker that ran all it had is idle: nothing it holds is older than from */
    if (atomic_load_explicit(&applied_seq[wi], memory_order_acquire) ==
        atomic_load_explicit(&handed_seq[wi], memory_order_relaxed))
        raise_low(wi, from);
    /* release: pairs with INFO's acquire after it read the offset published later */
    atomic_fetch_add_explicit(&handed_seq[wi], 1, memory_order_release);
}

/* Every stream byte before the result is applied by the workers. */
static long long applied_offset(long long handed_off)
{
    long long off = handed_off;
    for (int i = 0; i < MAX_WORKERS; i++) {
        unsigned long long h = atomic_load_explicit(&handed_seq[i], memory_order_acquire);
        if (atomic_load_explicit(&applied_seq[i], memory_order_acquire) == h) continue;
        long long low = atomic_load_explicit(&applied_low[i], memory_order_acquire);
        if (low < off) off = low;
    }
    return off;
}

/* A new stream (a full or partial sync at `offset`): every worker's low starts there. */
static void applied_reset(long long offset)
{
    for (int i = 0; i < MAX_WORKERS; i++) atomic_store_explicit(&applied_low[i], offset, memory_order_release);
}

void rr_stream_offset_reset(long long offset) { applied_reset(offset); }

void repl_replica_status_get(repl_replica_status_t *out)
{
    pthread_mutex_lock(&status_mu);
    *out = published;
    pthread_mutex_unlock(&status_mu);
    if (out->state == RL_CONNECTED) out->repl_offset = applied_offset(out->repl_offset);
    /* relaxed: a statistic */
    out->net_repl_input_bytes = atomic_load_explicit(&net_input_bytes, memory_order_relaxed);
}

const char *repl_link_state_name(int state)
{
    switch (state) {
    case RL_CONNECT: return "connect";
    case RL_CONNECTING: return "connecting";
    case RL_HANDSHAKE: return "handshake";
    case RL_TRANSFER: return "sync";
    case RL_CONNECTED: return "connected";
    default: return "none";
    }
}

long long repl_master_link_down_ms(void)
{
    pthread_mutex_lock(&status_mu);
    int state = published.state;
    long long since = published.link_down_since_ms, last_io = published.last_io_ms;
    pthread_mutex_unlock(&status_mu);
    long long now = rt_now_ms();
    if (state == RL_CONNECTED) return now > last_io ? now - last_io : 0;
    if (since == 0) return -1;
    return now > since ? now - since : 1;
}

void rr_set_error(repl_replica_link_t *rl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rl->last_error, sizeof rl->last_error, fmt, ap);
    va_end(ap);
    for (char *p = rl->last_error; *p; p++)
        if (*p == '\r' || *p == '\n') *p = ' ';
}

/* ---------------- output ---------------- */

static void write_cb(struct ev_loop *loop, ev_io *w, int revents);

void rr_out_flush(repl_replica_link_t *rl)
{
    while (rl->out_len > 0) {
        ssize_t n = tls_io_write(rl->tls, rl->fd, rl->out, rl->out_len);
        if (n > 0) {
            memmove(rl->out, rl->out + n, rl->out_len - (size_t)n);
            rl->out_len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        char why[400];
        if (n < 0 && rl->tls && tls_conn_error(rl->tls)[0])   /* the TLS handshake failed */
            snprintf(why, sizeof why, "Error condition on socket for SYNC: %s", tls_conn_error(rl->tls));
        else
            snprintf(why, sizeof why, "Error writing to MASTER: %s", n < 0 ? strerror(errno) : "short write");
        rr_link_drop(rl, why, true);
        return;
    }
    struct ev_loop *loop = rt_thread_loop(rl->thread);
    /* A TLS write that waits for readability is retried by read_cb (the
     * handshake's first write always does); a TLS read that waits for
     * writability needs the write watcher. */
    bool want = (rl->out_len > 0 && (!rl->tls || tls_conn_wants_write(rl->tls))) || rl->read_wants_write;
    if (want && !rl->wio_on) {
        ev_io_start(loop, &rl->wio);
        rl->wio_on = true;
    } else if (!want && rl->wio_on) {
        ev_io_stop(loop, &rl->wio);
        rl->wio_on = false;
    }
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents);

static void write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    repl_replica_link_t *rl = w->data;
    if (rl->read_wants_write) {
        rl->read_wants_write = false;
        read_cb(loop, &rl->rio, revents);
        if (rl->fd < 0) return;
    }
    rr_out_flush(rl);
}

static void out_append(repl_replica_link_t *rl, const void *p, size_t n)
{
    if (rl->out_len + n > rl->out_cap) {
        size_t cap = rl->out_cap ? rl->out_cap : 256;
        while (cap < rl->out_len + n) cap *= 2;
        uint8_t *nb = xrealloc(rl->out, cap);
        rl->out = nb;
        rl->out_cap = cap;
    }
    memcpy(rl->out + rl->out_len, p, n);
    rl->out_len += n;
}

/* Appends one command as a RESP array of bulk strings. */
void rr_out_command(repl_replica_link_t *rl, int argc, const char **argv)
{
    char head[32];
    int h = snprintf(head, sizeof head, "*%d\r\n", argc);
    out_append(rl, head, (size_t)h);
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(argv[i]);
        h = snprintf(head, sizeof head, "$%zu\r\n", len);
        out_append(rl, head, (size_t)h);
        out_append(rl, argv[i], len);
        out_append(rl, "\r\n", 2);
    }
}

static void send_ack_at(repl_replica_link_t *rl, long long offset)
{
    char off[32];
    snprintf(off, sizeof off, "%lld", offset);
    const char *argv[] = { "REPLCONF", "ACK", off };
    rr_out_command(rl, 3, argv);
    rl->last_ack_mono = rt_mono_ms();
    rr_out_flush(rl);
}

/* The ACK right after a sync: nothing of this stream is in the workers yet. */
void rr_send_ack(repl_replica_link_t *rl)
{
    send_ack_at(rl, rl->repl_offset);
}

/* ---------------- marker rounds: ACK what is applied ---------------- */

enum { RMSG_CHECK = 1, RMSG_KILL_MASTER, RMSG_START, RMSG_SLEEP_DONE, RMSG_APPLIED, RMSG_KILL_MASTER_PART };

/* The link's actor once its tick runs (NULL before: its first tick looks at
 * the snapshot anyway); the state thread reads it to poke us. */
static _Atomic(rt_actor_t *) g_replica_actor;

void repl_replica_check(void)
{
    /* acquire: pairs with the release in behaviour(RMSG_START) */
    rt_actor_t *a = atomic_load_explicit(&g_replica_actor, memory_order_acquire);
    if (!a) return;
    rt_msg_t *m = calloc(1, sizeof *m);
    if (!m) return;                    /* the idle tick looks within IDLE_TICK_MS */
    m->type = RMSG_CHECK;
    rt_send(a, m);
}

typedef struct applied_marker {
    worker_run_t run;             /* first: the worker runs marker_back */
    unsigned gen;
} applied_marker_t;

/* On a worker, after the apply messages posted to it before the marker. */
static void marker_back(worker_t *w, rt_msg_t *msg)
{
    (void)w;
    msg->type = RMSG_APPLIED;
    rt_send(&replica_link.actor, msg);
}

static void round_start(repl_replica_link_t *rl);

static void round_done(repl_replica_link_t *rl)
{
    if (rl->fd >= 0 && rl->state == RL_CONNECTED) send_ack_at(rl, rl->round_offset);
    if (rl->ack_again && rl->fd >= 0) {
        rl->ack_again = false;
        round_start(rl);
    }
}

static void round_start(repl_replica_link_t *rl)
{
    rl->round_offset = rl->repl_offset;   /* every byte of it is handed over (round_flush) */
    rl->markers_out = 0;
    for (int i = 0; i < workers_count(); i++) {
        if (!rl->handed[i]) continue;
        rl->handed[i] = false;
        applied_marker_t *m = xcalloc(1, sizeof *m);
        m->run.hdr.type = WMSG_RUN;
        m->run.fn = marker_back;
        m->gen = rl->gen;
        worker_post(i, &m->run.hdr);   /* same sender as the applies: after them */
        rl->markers_out++;
    }
    if (rl->markers_out == 0) round_done(rl);
}

/* Sends REPLCONF ACK with the offset processed now, once the workers have
 * applied everything up to it (at once if nothing is pending). May drop the
 * link (a write error). */
void rr_ack_when_applied(repl_replica_link_t *rl)
{
    rl->last_ack_mono = rt_mono_ms();   /* paces the periodic ACK from the request */
    if (rl->markers_out > 0) rl->ack_again = true;
    else round_start(rl);
}

static void on_marker(repl_replica_link_t *rl, applied_marker_t *m)
{
    /* a marker of a closed connection: its round died with it (close_socket) */
    if (m->gen != rl->gen || rl->markers_out == 0) return;
    if (--rl->markers_out == 0) round_done(rl);
}

/* ---------------- staging and batches ---------------- */

static void staged_free(repl_replica_link_t *rl)
{
    for (int i = 0; i < MAX_WORKERS; i++) {
        ks_free(rl->staged[i]);
        rl->staged[i] = NULL;
        for (int d = 1; rl->staged_rest[i] && d < wdb_count(); d++) ks_free(rl->staged_rest[i][d]);
        free(rl->staged_rest[i]);
        rl->staged_rest[i] = NULL;
    }
    fn_stage_free(&rl->staged_fns);
    rl->staged_keys = 0;
}

void rr_batch_add(repl_replica_link_t *rl, int wi, const queued_cmd_t *q)
{
    batch_t *b = &rl->batch[wi];
    if (b->n == b->cap) {
        int cap = b->cap ? b->cap * 2 : 16;
        queued_cmd_t *nc = xrealloc(b->cmds, (size_t)cap * sizeof *nc);
        b->cmds = nc;
        b->cap = cap;
    }
    b->cmds[b->n++] = *q;
}

static void batches_discard(repl_replica_link_t *rl)
{
    for (int i = 0; i < MAX_WORKERS; i++) {
        for (int k = 0; k < rl->batch[i].n; k++) queued_cmd_free(&rl->batch[i].cmds[k]);
        rl->batch[i].n = 0;
    }
}

/* Sends every non-empty batch to its worker (ownership of the commands passes). */
void rr_batches_send(repl_replica_link_t *rl)
{
    long long now = rt_now_ms();
    for (int i = 0; i < workers_count(); i++) {
        batch_t *b = &rl->batch[i];
        if (b->n == 0) continue;
        repl_apply_t *a = xcalloc(1, sizeof *a);
        a->hdr.type = WMSG_APPLY;
        a->ncmds = b->n;
        a->cmds = b->cmds;
        a->now_ms = now;
        a->from_link = true;
        a->from = rl->repl_offset;    /* this round's bytes come after it */
        note_handed(i, a->from);
        b->cmds = NULL;
        b->n = b->cap = 0;
        rl->handed[i] = true;
        worker_post(i, &a->hdr);
    }
}

/* ---------------- connection lifetime ---------------- */

void rr_in_consume(repl_replica_link_t *rl, size_t n)
{
    if (n >= rl->in_len) { rl->in_len = 0; return; }
    memmove(rl->in, rl->in + n, rl->in_len - n);
    rl->in_len -= n;
}

void rr_transfer_reset(repl_replica_link_t *rl)
{
    if (rl->dec_on) rdb_decoder_free(&rl->dec);
    rl->dec_on = false;
    if (rl->load_on) {
        /* the new data never reached the workers: theirs stays as it was */
        rdb_loading_end_sync();
        rl->load_on = false;
        LOG_NOTICE("MASTER <-> REPLICA sync: Discarding the partly loaded DB; the old data stays");
    }
    staged_free(rl);
    rl->bulk_started = rl->eof_mode = rl->rdb_done = false;
    rl->bulk_left = 0;
    rl->transfer_read = 0;
    rl->tail_len = 0;
}

static void close_socket(repl_replica_link_t *rl)
{
    if (rl->fd < 0) return;
    struct ev_loop *loop = rt_thread_loop(rl->thread);
    ev_io_stop(loop, &rl->rio);
    ev_io_stop(loop, &rl->wio);
    rl->wio_on = false;
    tls_conn_free(rl->tls);
    rl->tls = NULL;
    rl->read_wants_write = false;
    close(rl->fd);
    rl->fd = -1;
    rl->in_len = rl->out_len = 0;
    rr_transfer_reset(rl);
    batches_discard(rl);
    if (rl->parser_on) resp_parser_reset(&rl->parser);
    /* The round in flight ACKs nothing on a later connection. `handed` stays:
     * the applies already posted are still to be covered by the next round. */
    rl->gen++;
    rl->markers_out = 0;
    rl->ack_again = false;
}

/* Closes the link (if any) and schedules the next attempt. */
void rr_link_drop(repl_replica_link_t *rl, const char *why, bool is_error)
{
    bool was_up = rl->state == RL_CONNECTED;
    if (why) {
        if (is_error) {
            LOG_WARNING("%s", why);
            rr_set_error(rl, "%s", why);
        } else {
            LOG_NOTICE("%s", why);
        }
    }
    close_socket(rl);
    if (was_up) rl->link_down_since_ms = rt_now_ms();
    rl->state = rl->replica ? RL_CONNECT : RL_NONE;
    rl->next_attempt_mono = rt_mono_ms() + RETRY_MS;
    rr_publish(rl);
}

static void hs_send_ping(repl_replica_link_t *rl)
{
    const char *argv[] = { "PING" };
    rr_out_command(rl, 1, argv);
    rl->hs_n = rl->hs_i = 0;
    rl->hs_expect[rl->hs_n++] = HS_PING;
    rr_out_flush(rl);
}

static void connected(repl_replica_link_t *rl)
{
    LOG_NOTICE("Non blocking connect for SYNC fired the event.");
    struct ev_loop *loop = rt_thread_loop(rl->thread);
    ev_io_stop(loop, &rl->wio);
    rl->wio_on = false;
    ev_io_init(&rl->wio, write_cb, rl->fd, EV_WRITE);
    ev_io_init(&rl->rio, read_cb, rl->fd, EV_READ);
    rl->wio.data = rl;
    rl->rio.data = rl;
    ev_io_start(loop, &rl->rio);
    if (config_get_num(CONFIG_TLS_REPLICATION)) {
        /* The TLS handshake runs inside the first writes and reads. */
        rl->tls = tls_conn_connecting(rl->fd);
        if (!rl->tls) {
            rr_link_drop(rl, "Unable to connect to MASTER: TLS is not configured", true);
            return;
        }
    }
    rl->state = RL_HANDSHAKE;
    rl->last_io_mono = rt_mono_ms();
    rr_publish(rl);
    hs_send_ping(rl);
}

static void connect_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    repl_replica_link_t *rl = w->data;
    (void)loop; (void)revents;
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(rl->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0) err = errno;
    if (err) {
        char why[200];
        snprintf(why, sizeof why, "Error condition on socket for SYNC: %s", strerror(err));
        rr_link_drop(rl, why, true);
        return;
    }
    connected(rl);
}

static void start_connect(repl_replica_link_t *rl)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, rl->master_ip, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)rl->master_port);
        sl = sizeof *s4;
    } else if (inet_pton(AF_INET6, rl->master_ip, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)rl->master_port);
        sl = sizeof *s6;
    } else {
        /* A host name (REPLICAOF localhost 6379 without cluster mode; cluster
         * peers are always numeric). Resolved at each attempt as Redis does;
         * the lookup is short and this thread only waits for it then. */
        struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res = NULL;
        if (getaddrinfo(rl->master_ip, NULL, &hints, &res) != 0 || !res) {   /* IPv4 first, then any */
            if (res) freeaddrinfo(res);
            res = NULL;
            hints.ai_family = AF_UNSPEC;
            if (getaddrinfo(rl->master_ip, NULL, &hints, &res) != 0) res = NULL;
        }
        if (!res || res->ai_addrlen > sizeof ss) {
            if (res) freeaddrinfo(res);
            char why[160];
            snprintf(why, sizeof why, "Unable to connect to MASTER: cannot resolve %s", rl->master_ip);
            rr_link_drop(rl, why, true);
            return;
        }
        memcpy(&ss, res->ai_addr, res->ai_addrlen);
        sl = (socklen_t)res->ai_addrlen;
        freeaddrinfo(res);
        if (ss.ss_family == AF_INET) s4->sin_port = htons((uint16_t)rl->master_port);
        else s6->sin6_port = htons((uint16_t)rl->master_port);
    }
    LOG_NOTICE("Connecting to MASTER %s:%d", rl->master_ip, rl->master_port);
    rl->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (rl->fd < 0) {
        char why[160];
        snprintf(why, sizeof why, "Unable to connect to MASTER: %s", strerror(errno));
        rr_link_drop(rl, why, true);
        return;
    }
    int one = 1;
    setsockopt(rl->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(rl->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    rl->last_io_mono = rt_mono_ms();
    LOG_NOTICE("MASTER <-> REPLICA sync started");
    struct ev_loop *loop = rt_thread_loop(rl->thread);
    if (connect(rl->fd, (struct sockaddr *)&ss, sl) == 0) {
        connected(rl);
        return;
    }
    if (errno != EINPROGRESS) {
        char why[160];
        snprintf(why, sizeof why, "Unable to connect to MASTER: %s", strerror(errno));
        rr_link_drop(rl, why, true);
        return;
    }
    rl->state = RL_CONNECTING;
    ev_io_init(&rl->wio, connect_cb, rl->fd, EV_WRITE);
    rl->wio.data = rl;
    ev_io_start(loop, &rl->wio);
    rl->wio_on = true;
    rr_publish(rl);
}

/* ---------------- reading ---------------- */

static void process_input(repl_replica_link_t *rl)
{
    for (;;) {
        if (rl->fd < 0) return;
        if (rl->state == RL_HANDSHAKE) {
            if (!rr_handshake_step(rl)) return;
        } else if (rl->state == RL_TRANSFER) {
            if (!rr_transfer_step(rl)) return;
        } else if (rl->state == RL_CONNECTED) {
            if (repl_cut_holds_stream()) {   /* a replica of ours is being cut: wait (repl.h) */
                rl->held = true;
                return;
            }
            rr_stream_round(rl);
            return;
        } else {
            return;
        }
    }
}

void repl_replica_resume(void)
{
    repl_replica_link_t *rl = &replica_link;
    if (!rl->held) return;
    rl->held = false;
    process_input(rl);
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    repl_replica_link_t *rl = w->data;
    (void)revents;
    if (rl->in_len == 0 && rl->in_cap > 4 * READ_CHUNK) {
        /* a big command went through: give the memory back */
        free(rl->in);
        rl->in = NULL;
        rl->in_cap = 0;
    }
    if (rl->in_cap - rl->in_len < READ_CHUNK) {
        /* geometric growth: one huge argument arriving in many reads costs linear time */
        size_t cap = rl->in_len + READ_CHUNK > rl->in_cap * 2 ? rl->in_len + READ_CHUNK : rl->in_cap * 2;
        uint8_t *nb = xrealloc(rl->in, cap);
        rl->in = nb;
        rl->in_cap = cap;
    }
    if (rl->tls && rl->out_len > 0) {
        /* A TLS write that waited for this readability (the handshake). */
        rr_out_flush(rl);
        if (rl->fd < 0) return;
    }
    ssize_t n = tls_io_read(rl->tls, rl->fd, rl->in + rl->in_len, READ_CHUNK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        if (rl->tls && tls_conn_wants_write(rl->tls)) {
            rl->read_wants_write = true;
            rr_out_flush(rl);   /* turns the write watcher on */
        } else if (rl->tls && rl->out_len > 0) {
            rr_out_flush(rl);   /* the handshake may just have finished */
        }
        return;
    }
    if (n < 0 && rl->tls && tls_conn_error(rl->tls)[0]) {
        char why[400];
        snprintf(why, sizeof why, "Error condition on socket for SYNC: %s", tls_conn_error(rl->tls));
        rr_link_drop(rl, why, true);
        return;
    }
    if (n <= 0) {
        if (rl->state == RL_TRANSFER && rl->bulk_started && !rl->rdb_done) {
            rdb_decoder_finish(&rl->dec);
            char what[400];
            snprintf(what, sizeof what, "truncated RDB: the connection %s after %lld bytes of it (%s)",
                     n == 0 ? "closed" : strerror(errno), rl->transfer_read,
                     rdb_decoder_error(&rl->dec)[0] ? rdb_decoder_error(&rl->dec) : "RDB incomplete");
            rr_transfer_fail(rl, what);
            return;
        }
        char why[200];
        if (rl->state == RL_CONNECTED) snprintf(why, sizeof why, "Connection with master lost.");
        else if (rl->state == RL_TRANSFER)
            snprintf(why, sizeof why, "I/O error trying to sync with MASTER: %s",
                     n == 0 ? "connection lost" : strerror(errno));
        else if (rl->in_len > 0)
            snprintf(why, sizeof why, "Unexpected reply to %s from master: %zu bytes without a line end, then "
                     "the connection %s", rl->hs_expect[rl->hs_i] == HS_PSYNC ? "PSYNC" : "the handshake", rl->in_len,
                     n == 0 ? "closed" : strerror(errno));
        else snprintf(why, sizeof why, "Master closed the connection during the handshake%s%s",
                      n == 0 ? "" : ": ", n == 0 ? "" : strerror(errno));
        rr_link_drop(rl, why, rl->state != RL_CONNECTED);
        return;
    }
    rl->in_len += (size_t)n;
    atomic_fetch_add_explicit(&net_input_bytes, n, memory_order_relaxed);   /* relaxed: a statistic */
    rl->last_io_mono = rt_mono_ms();
    rl->last_io_ms = rt_now_ms();
    if (rl->state == RL_TRANSFER) rl->sync_last_io_ms = rl->last_io_ms;
    process_input(rl);
    if (rl->state == RL_CONNECTED) rl->read_repl_offset = rl->repl_offset + (long long)rl->in_len;
    if (rl->fd >= 0) rr_publish(rl);
    /* Records OpenSSL decrypted that no socket event will announce. */
    if (rl->fd >= 0 && rl->tls && tls_conn_pending(rl->tls)) ev_feed_event(loop, &rl->rio, EV_READ);
}

/* ---------------- the tick ---------------- */

/* The tick runs every TICK_MS while we follow a master (connects, timeouts,
 * ACKs) and every IDLE_TICK_MS otherwise: on a master the thread then sleeps
 * instead of waking ten times a second to find nothing changed (the state
 * actor pokes us when our master changes, repl_replica_check). */
static void tick(rt_timer_t *t, void *arg);

static void tick_rate(repl_replica_link_t *rl)
{
    int ms = rl->replica || rl->fd >= 0 || rl->state != RL_NONE ? TICK_MS : IDLE_TICK_MS;
    if (ms == rl->tick_ms) return;
    rt_timer_stop(&rl->tick);
    rt_timer_start(&rl->tick, rl->thread, ms, ms, tick, rl);
    rl->tick_ms = ms;
}

/* Reads who our master is from the snapshot; drops the link when it changed. */
static void check_master(repl_replica_link_t *rl)
{
    if (!rl->snap_ok) return;
    const cluster_snapshot_t *s = rt_snap_read_begin(&rl->snap);
    bool replica = false;
    char name[NODE_NAME_LEN + 1] = "", ip[NODES_CONF_IP_SIZE] = "";
    int port = 0;
    if (s) {
        const node_view_t *me = &s->nodes[s->myself];
        if ((me->flags & NODE_SLAVE) && me->master >= 0 && me->master < s->node_count) {
            const node_view_t *m = &s->nodes[me->master];
            if (m->ip[0] && m->port > 0 && !(m->flags & NODE_NOADDR)) {
                replica = true;
                snprintf(name, sizeof name, "%s", m->name);
                snprintf(ip, sizeof ip, "%s", m->ip);
                port = m->port;
            }
        }
    }
    rt_snap_read_end(&rl->snap);
    if (replica == rl->replica && (!replica || (!strcmp(name, rl->master_name) && !strcmp(ip, rl->master_ip) &&
                                              port == rl->master_port)))
        return;
    bool was = rl->replica;
    if (was && rl->fd >= 0) {
        if (replica) LOG_NOTICE("Master changed to %.40s (%s:%d): dropping the link to %s:%d", name, ip, port,
                                rl->master_ip, rl->master_port);
        else LOG_NOTICE("We are a master now: closing the link to our old master %s:%d", rl->master_ip, rl->master_port);
    }
    rl->replica = replica;
    snprintf(rl->master_name, sizeof rl->master_name, "%s", name);
    snprintf(rl->master_ip, sizeof rl->master_ip, "%s", ip);
    rl->master_port = port;
    close_socket(rl);
    rl->has_offsets = false;
    rl->last_error[0] = '\0';
    if (!replica) rl->link_down_since_ms = 0;
    else if (rl->state == RL_CONNECTED) rl->link_down_since_ms = rt_now_ms();
    rl->state = replica ? RL_CONNECT : RL_NONE;
    rl->next_attempt_mono = 0;                   /* connect at once */
    if (replica) LOG_NOTICE("Following MASTER %.40s at %s:%d", name, ip, port);
    rr_publish(rl);
    if (rl->tick_ms) tick_rate(rl);
}

static void tick(rt_timer_t *t, void *arg)
{
    repl_replica_link_t *rl = arg;
    (void)t;
    check_master(rl);
    tick_rate(rl);
    long long now = rt_mono_ms();
    if (rl->state == RL_CONNECT && now >= rl->next_attempt_mono) {
        start_connect(rl);
        return;
    }
    if (rl->fd < 0) return;
    long long timeout_ms = config_get_num(CONFIG_REPL_TIMEOUT) * 1000;
    if (now - rl->last_io_mono > timeout_ms) {
        if (rl->state == RL_CONNECTING) rr_link_drop(rl, "Timeout connecting to the MASTER...", true);
        else if (rl->state == RL_HANDSHAKE) rr_link_drop(rl, "Timeout during the handshake with the MASTER...", true);
        else if (rl->state == RL_TRANSFER) rr_link_drop(rl, "Timeout receiving bulk data from MASTER... If the problem persists "
                                                   "try to set the 'repl-timeout' parameter in redis.conf to a larger value.",
                                                   true);
        else rr_link_drop(rl, "MASTER timeout: no data nor PING received...", true);
        return;
    }
    if (rl->state == RL_TRANSFER && now - rl->last_newline_mono >= 1000) {
        out_append(rl, "\n", 1);
        rl->last_newline_mono = now;
        rr_out_flush(rl);
    } else if (rl->state == RL_CONNECTED &&
               (now - rl->last_ack_mono >= 1000 || (now < rl->fast_ack_until_mono && now - rl->last_ack_mono >= TICK_MS))) {
        rr_ack_when_applied(rl);
    }
}

/* RMSG_KILL_MASTER: CLIENT KILL of our master link. Answered here, after the
 * link is closed and the closed state published, so that the client's next
 * command (INFO, another CLIENT KILL) sees the link down, as on 7.0.15 where
 * the kill frees the master client before replying. 1 if a link was up. */
static void on_kill_master(repl_replica_link_t *rl, remote_cmd_t *rc)
{
    bool killed = rl->state == RL_CONNECTED;
    /* As Redis does for its master client: close; the next attempt asks for a partial resync. */
    if (killed) rr_link_drop(rl, "Connection with master lost (killed by CLIENT KILL).", false);
    if (rc->cmds[0].argc != 3) resp_add_int(&rc->reply, killed);   /* CLIENT KILL <filters...> */
    else if (killed) resp_add_simple(&rc->reply, "OK");            /* old form: CLIENT KILL <addr> */
    else resp_add_error(&rc->reply, "ERR No such client");
    worker_reply_async(rc);
}

/* Whether CLIENT KILL's filters (new form) match our connected master link. */
static bool master_link_matches(const repl_replica_link_t *rl, const queued_cmd_t *q)
{
    if (rl->state != RL_CONNECTED) return false;
    char addr[INET6_ADDRSTRLEN + 8];
    snprintf(addr, sizeof addr, "%s:%d", rl->master_ip, rl->master_port);
    for (int i = 2; i + 1 < q->argc; i += 2) {
        const uint8_t *k = q->argv[i], *v = q->argv[i + 1];
        size_t kl = q->argvlen[i], vl = q->argvlen[i + 1];
        const char *have = NULL;
        if (kl == 4 && !strncasecmp((const char *)k, "addr", 4)) have = addr;
        else if (kl == 5 && !strncasecmp((const char *)k, "laddr", 5)) have = rl->link_laddr;
        else if (kl == 4 && !strncasecmp((const char *)k, "user", 4)) return false;
        else if (kl == 4 && !strncasecmp((const char *)k, "type", 4)) have = "master";
        if (have && !(strlen(have) == vl && !strncasecmp(have, (const char *)v, vl))) return false;
        long long id;
        if (kl == 2 && !strncasecmp((const char *)k, "id", 2) &&
            !(str_to_ll(v, vl, &id) && (uint64_t)id == rl->link_id))
            return false;
    }
    return true;
}

static void on_kill_master_part(repl_replica_link_t *rl, remote_cmd_t *rc)
{
    bool killed = master_link_matches(rl, &rc->cmds[0]);
    if (killed) rr_link_drop(rl, "Connection with master lost (killed by CLIENT KILL).", false);
    rc->keys_delta = killed;
    fanout_part_return(rc);
}

static void behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    repl_replica_link_t *rl = self->state;
    uint32_t type = msg->type;
    if (type == RMSG_KILL_MASTER) {    /* a remote_cmd_t, answered and freed by its worker */
        on_kill_master(rl, (remote_cmd_t *)msg);
        return;
    }
    if (type == RMSG_KILL_MASTER_PART) {   /* a remote_cmd_t, merged and freed by its worker */
        on_kill_master_part(rl, (remote_cmd_t *)msg);
        return;
    }
    if (type == RMSG_APPLIED) {
        on_marker(rl, (applied_marker_t *)msg);
        free(msg);
        return;
    }
    free(msg);
    if (type == RMSG_START) {          /* first message, on our thread: start the tick */
        rt_timer_start(&rl->tick, rl->thread, TICK_MS, TICK_MS, tick, rl);
        rl->tick_ms = TICK_MS;
        /* from here on a poke reaches us (repl_replica_check) */
        atomic_store_explicit(&g_replica_actor, &rl->actor, memory_order_release);
        check_master(rl);
        return;
    }
    if (type == RMSG_SLEEP_DONE) {
        repl_sleep_release();
        repl_replica_resume();
        return;
    }
    check_master(rl);                   /* any other message: look at the snapshot now */
}

void repl_replica_kill_master(remote_cmd_t *rc)
{
    rc->hdr.type = RMSG_KILL_MASTER;
    rt_send(&replica_link.actor, &rc->hdr);
}

void repl_replica_kill_master_part(remote_cmd_t *rc)
{
    rc->hdr.type = RMSG_KILL_MASTER_PART;
    rt_send(&replica_link.actor, &rc->hdr);
}

void repl_replica_sleep_done(void)
{
    repl_replica_link_t *rl = &replica_link;
    if (!rl->thread) {   /* before startup finished: there is no link to hold */
        repl_sleep_release_async();
        return;
    }
    rt_msg_t *m = xcalloc(1, sizeof *m);
    /* Through this actor's mailbox: a CLIENT KILL of the master sent before by
     * the same worker is handled first. */
    m->type = RMSG_SLEEP_DONE;
    rt_send(&rl->actor, m);
}

int repl_replica_start(void)
{
    repl_replica_link_t *rl = &replica_link;
    memset(&replica_link, 0, sizeof replica_link);
    rl->fd = -1;
    rl->state = RL_NONE;
    /* The replication actor's thread: idle on a replica (it only files the
     * stream into the backlog), and one thread fewer competing for cores. */
    rl->thread = repl_thread();
    if (!rl->thread) return -1;
    rl->snap_ok = rt_snap_reader_register(&g_cluster_snapshot, &rl->snap) == 0;
    rt_actor_init(&rl->actor, rl->thread, "replica", behaviour, rl);
    rr_publish(rl);
    rt_msg_t *m = calloc(1, sizeof *m);
    if (!m) return -1;
    m->type = RMSG_START;
    rt_send(&rl->actor, m);
    return 0;
}

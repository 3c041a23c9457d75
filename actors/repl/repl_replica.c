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
 * Must never: block, touch a live worker keyspace, apply a half-received RDB,
 * or acknowledge bytes it has not handed to the workers.
 */
#include "actors/repl/repl_replica_internal.h"
#include "runtime/xmalloc.h"
#include "proto/nodes_conf.h"

/* The link's state (repl_replica_internal.h); only the replication thread touches it. */
repl_replica_link_t L;

static pthread_mutex_t status_mu = PTHREAD_MUTEX_INITIALIZER;
static repl_replica_status_t published;
static _Atomic long long net_input_bytes;

static void process_input(void);

/* ---------------- status ---------------- */

void rr_publish(void)
{
    repl_replica_status_t s;
    memset(&s, 0, sizeof s);
    s.replica = L.replica;
    snprintf(s.master_host, sizeof s.master_host, "%s", L.master_ip);
    s.master_port = L.master_port;
    s.state = L.state;
    s.last_io_ms = L.last_io_ms;
    s.link_down_since_ms = L.link_down_since_ms;
    s.sync_in_progress = L.state == RL_TRANSFER;
    s.sync_total_bytes = L.eof_mode ? -1 : (L.bulk_started ? L.transfer_read + L.bulk_left : 0);
    s.sync_read_bytes = L.transfer_read;
    s.sync_last_io_ms = L.sync_last_io_ms;
    s.has_offsets = L.has_offsets;
    s.read_repl_offset = L.read_repl_offset;
    s.repl_offset = L.repl_offset;
    snprintf(s.last_error, sizeof s.last_error, "%s", L.last_error);
    pthread_mutex_lock(&status_mu);
    published = s;
    pthread_mutex_unlock(&status_mu);
}

void repl_replica_status_get(repl_replica_status_t *out)
{
    pthread_mutex_lock(&status_mu);
    *out = published;
    pthread_mutex_unlock(&status_mu);
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

void rr_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L.last_error, sizeof L.last_error, fmt, ap);
    va_end(ap);
    for (char *p = L.last_error; *p; p++)
        if (*p == '\r' || *p == '\n') *p = ' ';
}

/* ---------------- output ---------------- */

static void write_cb(struct ev_loop *loop, ev_io *w, int revents);

void rr_out_flush(void)
{
    while (L.out_len > 0) {
        ssize_t n = write(L.fd, L.out, L.out_len);
        if (n > 0) {
            memmove(L.out, L.out + n, L.out_len - (size_t)n);
            L.out_len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        char why[160];
        snprintf(why, sizeof why, "Error writing to MASTER: %s", n < 0 ? strerror(errno) : "short write");
        rr_link_drop(why, true);
        return;
    }
    struct ev_loop *loop = rt_thread_loop(L.thread);
    if (L.out_len > 0 && !L.wio_on) {
        ev_io_start(loop, &L.wio);
        L.wio_on = true;
    } else if (L.out_len == 0 && L.wio_on) {
        ev_io_stop(loop, &L.wio);
        L.wio_on = false;
    }
}

static void write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop; (void)w; (void)revents;
    rr_out_flush();
}

static void out_append(const void *p, size_t n)
{
    if (L.out_len + n > L.out_cap) {
        size_t cap = L.out_cap ? L.out_cap : 256;
        while (cap < L.out_len + n) cap *= 2;
        uint8_t *nb = xrealloc(L.out, cap);
        L.out = nb;
        L.out_cap = cap;
    }
    memcpy(L.out + L.out_len, p, n);
    L.out_len += n;
}

/* Appends one command as a RESP array of bulk strings. */
void rr_out_command(int argc, const char **argv)
{
    char head[32];
    int h = snprintf(head, sizeof head, "*%d\r\n", argc);
    out_append(head, (size_t)h);
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(argv[i]);
        h = snprintf(head, sizeof head, "$%zu\r\n", len);
        out_append(head, (size_t)h);
        out_append(argv[i], len);
        out_append("\r\n", 2);
    }
}

void rr_send_ack(void)
{
    char off[32];
    snprintf(off, sizeof off, "%lld", L.repl_offset);
    const char *argv[] = { "REPLCONF", "ACK", off };
    rr_out_command(3, argv);
    L.last_ack_mono = rt_mono_ms();
    rr_out_flush();
}

/* ---------------- staging and batches ---------------- */

static void staged_free(void)
{
    for (int i = 0; i < MAX_WORKERS; i++) {
        ks_free(L.staged[i]);
        L.staged[i] = NULL;
    }
    L.staged_keys = 0;
}

void rr_batch_add(int wi, const queued_cmd_t *q)
{
    batch_t *b = &L.batch[wi];
    if (b->n == b->cap) {
        int cap = b->cap ? b->cap * 2 : 16;
        queued_cmd_t *nc = xrealloc(b->cmds, (size_t)cap * sizeof *nc);
        b->cmds = nc;
        b->cap = cap;
    }
    b->cmds[b->n++] = *q;
}

static void batches_discard(void)
{
    for (int i = 0; i < MAX_WORKERS; i++) {
        for (int k = 0; k < L.batch[i].n; k++) queued_cmd_free(&L.batch[i].cmds[k]);
        L.batch[i].n = 0;
    }
}

/* Sends every non-empty batch to its worker (ownership of the commands passes). */
void rr_batches_send(void)
{
    long long now = rt_now_ms();
    for (int i = 0; i < workers_count(); i++) {
        batch_t *b = &L.batch[i];
        if (b->n == 0) continue;
        repl_apply_t *a = xcalloc(1, sizeof *a);
        a->hdr.type = WMSG_APPLY;
        a->ncmds = b->n;
        a->cmds = b->cmds;
        a->now_ms = now;
        b->cmds = NULL;
        b->n = b->cap = 0;
        worker_post(i, &a->hdr);
    }
}

/* ---------------- connection lifetime ---------------- */

void rr_in_consume(size_t n)
{
    if (n >= L.in_len) { L.in_len = 0; return; }
    memmove(L.in, L.in + n, L.in_len - n);
    L.in_len -= n;
}

void rr_transfer_reset(void)
{
    if (L.dec_on) rdb_decoder_free(&L.dec);
    L.dec_on = false;
    rdb_loading_set(false);
    staged_free();
    L.bulk_started = L.eof_mode = L.rdb_done = false;
    L.bulk_left = 0;
    L.transfer_read = 0;
    L.tail_len = 0;
}

static void close_socket(void)
{
    if (L.fd < 0) return;
    struct ev_loop *loop = rt_thread_loop(L.thread);
    ev_io_stop(loop, &L.rio);
    ev_io_stop(loop, &L.wio);
    L.wio_on = false;
    close(L.fd);
    L.fd = -1;
    L.in_len = L.out_len = 0;
    rr_transfer_reset();
    batches_discard();
    if (L.parser_on) resp_parser_reset(&L.parser);
}

/* Closes the link (if any) and schedules the next attempt. */
void rr_link_drop(const char *why, bool is_error)
{
    bool was_up = L.state == RL_CONNECTED;
    if (why) {
        if (is_error) {
            LOG_WARNING("%s", why);
            rr_set_error("%s", why);
        } else {
            LOG_NOTICE("%s", why);
        }
    }
    close_socket();
    if (was_up) L.link_down_since_ms = rt_now_ms();
    L.state = L.replica ? RL_CONNECT : RL_NONE;
    L.next_attempt_mono = rt_mono_ms() + RETRY_MS;
    rr_publish();
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents);

static void hs_send_ping(void)
{
    const char *argv[] = { "PING" };
    rr_out_command(1, argv);
    L.hs_n = L.hs_i = 0;
    L.hs_expect[L.hs_n++] = HS_PING;
    rr_out_flush();
}

static void connected(void)
{
    LOG_NOTICE("Non blocking connect for SYNC fired the event.");
    struct ev_loop *loop = rt_thread_loop(L.thread);
    ev_io_stop(loop, &L.wio);
    L.wio_on = false;
    ev_io_init(&L.wio, write_cb, L.fd, EV_WRITE);
    ev_io_init(&L.rio, read_cb, L.fd, EV_READ);
    ev_io_start(loop, &L.rio);
    L.state = RL_HANDSHAKE;
    L.last_io_mono = rt_mono_ms();
    rr_publish();
    hs_send_ping();
}

static void connect_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop; (void)w; (void)revents;
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(L.fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0) err = errno;
    if (err) {
        char why[200];
        snprintf(why, sizeof why, "Error condition on socket for SYNC: %s", strerror(err));
        rr_link_drop(why, true);
        return;
    }
    connected();
}

static void start_connect(void)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, L.master_ip, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)L.master_port);
        sl = sizeof *s4;
    } else if (inet_pton(AF_INET6, L.master_ip, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)L.master_port);
        sl = sizeof *s6;
    } else {
        /* A host name (REPLICAOF localhost 6379 without cluster mode; cluster
         * peers are always numeric). Resolved at each attempt as Redis does;
         * the lookup is short and this thread only waits for it then. */
        struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res = NULL;
        if (getaddrinfo(L.master_ip, NULL, &hints, &res) != 0 || !res) {   /* IPv4 first, then any */
            if (res) freeaddrinfo(res);
            res = NULL;
            hints.ai_family = AF_UNSPEC;
            if (getaddrinfo(L.master_ip, NULL, &hints, &res) != 0) res = NULL;
        }
        if (!res || res->ai_addrlen > sizeof ss) {
            if (res) freeaddrinfo(res);
            char why[160];
            snprintf(why, sizeof why, "Unable to connect to MASTER: cannot resolve %s", L.master_ip);
            rr_link_drop(why, true);
            return;
        }
        memcpy(&ss, res->ai_addr, res->ai_addrlen);
        sl = (socklen_t)res->ai_addrlen;
        freeaddrinfo(res);
        if (ss.ss_family == AF_INET) s4->sin_port = htons((uint16_t)L.master_port);
        else s6->sin6_port = htons((uint16_t)L.master_port);
    }
    LOG_NOTICE("Connecting to MASTER %s:%d", L.master_ip, L.master_port);
    L.fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (L.fd < 0) {
        char why[160];
        snprintf(why, sizeof why, "Unable to connect to MASTER: %s", strerror(errno));
        rr_link_drop(why, true);
        return;
    }
    int one = 1;
    setsockopt(L.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(L.fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    L.last_io_mono = rt_mono_ms();
    LOG_NOTICE("MASTER <-> REPLICA sync started");
    struct ev_loop *loop = rt_thread_loop(L.thread);
    if (connect(L.fd, (struct sockaddr *)&ss, sl) == 0) {
        connected();
        return;
    }
    if (errno != EINPROGRESS) {
        char why[160];
        snprintf(why, sizeof why, "Unable to connect to MASTER: %s", strerror(errno));
        rr_link_drop(why, true);
        return;
    }
    L.state = RL_CONNECTING;
    ev_io_init(&L.wio, connect_cb, L.fd, EV_WRITE);
    ev_io_start(loop, &L.wio);
    L.wio_on = true;
    rr_publish();
}

/* ---------------- reading ---------------- */

static void process_input(void)
{
    for (;;) {
        if (L.fd < 0) return;
        if (L.state == RL_HANDSHAKE) {
            if (!rr_handshake_step()) return;
        } else if (L.state == RL_TRANSFER) {
            if (!rr_transfer_step()) return;
        } else if (L.state == RL_CONNECTED) {
            if (repl_cut_holds_stream()) {   /* a replica of ours is being cut: wait (repl.h) */
                L.held = true;
                return;
            }
            rr_stream_round();
            return;
        } else {
            return;
        }
    }
}

void repl_replica_resume(void)
{
    if (!L.held) return;
    L.held = false;
    process_input();
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop; (void)w; (void)revents;
    if (L.in_len == 0 && L.in_cap > 4 * READ_CHUNK) {
        /* a big command went through: give the memory back */
        free(L.in);
        L.in = NULL;
        L.in_cap = 0;
    }
    if (L.in_cap - L.in_len < READ_CHUNK) {
        /* geometric growth: one huge argument arriving in many reads costs linear time */
        size_t cap = L.in_len + READ_CHUNK > L.in_cap * 2 ? L.in_len + READ_CHUNK : L.in_cap * 2;
        uint8_t *nb = xrealloc(L.in, cap);
        L.in = nb;
        L.in_cap = cap;
    }
    ssize_t n = read(L.fd, L.in + L.in_len, READ_CHUNK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
        if (L.state == RL_TRANSFER && L.bulk_started && !L.rdb_done) {
            rdb_decoder_finish(&L.dec);
            char what[400];
            snprintf(what, sizeof what, "truncated RDB: the connection %s after %lld bytes of it (%s)",
                     n == 0 ? "closed" : strerror(errno), L.transfer_read,
                     rdb_decoder_error(&L.dec)[0] ? rdb_decoder_error(&L.dec) : "RDB incomplete");
            rr_transfer_fail(what);
            return;
        }
        char why[200];
        if (L.state == RL_CONNECTED) snprintf(why, sizeof why, "Connection with master lost.");
        else if (L.state == RL_TRANSFER)
            snprintf(why, sizeof why, "I/O error trying to sync with MASTER: %s",
                     n == 0 ? "connection lost" : strerror(errno));
        else if (L.in_len > 0)
            snprintf(why, sizeof why, "Unexpected reply to %s from master: %zu bytes without a line end, then "
                     "the connection %s", L.hs_expect[L.hs_i] == HS_PSYNC ? "PSYNC" : "the handshake", L.in_len,
                     n == 0 ? "closed" : strerror(errno));
        else snprintf(why, sizeof why, "Master closed the connection during the handshake%s%s",
                      n == 0 ? "" : ": ", n == 0 ? "" : strerror(errno));
        rr_link_drop(why, L.state != RL_CONNECTED);
        return;
    }
    L.in_len += (size_t)n;
    atomic_fetch_add_explicit(&net_input_bytes, n, memory_order_relaxed);   /* relaxed: a statistic */
    L.last_io_mono = rt_mono_ms();
    L.last_io_ms = rt_now_ms();
    if (L.state == RL_TRANSFER) L.sync_last_io_ms = L.last_io_ms;
    process_input();
    if (L.state == RL_CONNECTED) L.read_repl_offset = L.repl_offset + (long long)L.in_len;
    if (L.fd >= 0) rr_publish();
}

/* ---------------- the tick ---------------- */

/* Reads who our master is from the snapshot; drops the link when it changed. */
static void check_master(void)
{
    if (!L.snap_ok) return;
    const cluster_snapshot_t *s = rt_snap_read_begin(&L.snap);
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
    rt_snap_read_end(&L.snap);
    if (replica == L.replica && (!replica || (!strcmp(name, L.master_name) && !strcmp(ip, L.master_ip) &&
                                              port == L.master_port)))
        return;
    bool was = L.replica;
    if (was && L.fd >= 0) {
        if (replica) LOG_NOTICE("Master changed to %.40s (%s:%d): dropping the link to %s:%d", name, ip, port,
                                L.master_ip, L.master_port);
        else LOG_NOTICE("We are a master now: closing the link to our old master %s:%d", L.master_ip, L.master_port);
    }
    L.replica = replica;
    snprintf(L.master_name, sizeof L.master_name, "%s", name);
    snprintf(L.master_ip, sizeof L.master_ip, "%s", ip);
    L.master_port = port;
    close_socket();
    L.has_offsets = false;
    L.last_error[0] = '\0';
    if (!replica) L.link_down_since_ms = 0;
    else if (L.state == RL_CONNECTED) L.link_down_since_ms = rt_now_ms();
    L.state = replica ? RL_CONNECT : RL_NONE;
    L.next_attempt_mono = 0;                   /* connect at once */
    if (replica) LOG_NOTICE("Following MASTER %.40s at %s:%d", name, ip, port);
    rr_publish();
}

static void tick(rt_timer_t *t, void *arg)
{
    (void)t; (void)arg;
    check_master();
    long long now = rt_mono_ms();
    if (L.state == RL_CONNECT && now >= L.next_attempt_mono) {
        start_connect();
        return;
    }
    if (L.fd < 0) return;
    long long timeout_ms = config_get_num(CONFIG_REPL_TIMEOUT) * 1000;
    if (now - L.last_io_mono > timeout_ms) {
        if (L.state == RL_CONNECTING) rr_link_drop("Timeout connecting to the MASTER...", true);
        else if (L.state == RL_HANDSHAKE) rr_link_drop("Timeout during the handshake with the MASTER...", true);
        else if (L.state == RL_TRANSFER) rr_link_drop("Timeout receiving bulk data from MASTER... If the problem persists "
                                                   "try to set the 'repl-timeout' parameter in redis.conf to a larger value.",
                                                   true);
        else rr_link_drop("MASTER timeout: no data nor PING received...", true);
        return;
    }
    if (L.state == RL_TRANSFER && now - L.last_newline_mono >= 1000) {
        out_append("\n", 1);
        L.last_newline_mono = now;
        rr_out_flush();
    } else if (L.state == RL_CONNECTED &&
               (now - L.last_ack_mono >= 1000 || (now < L.fast_ack_until_mono && now - L.last_ack_mono >= TICK_MS))) {
        rr_send_ack();
    }
}

enum { RMSG_CHECK = 1, RMSG_KILL_MASTER, RMSG_START, RMSG_SLEEP_DONE };

static void behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    (void)self;
    uint32_t type = msg->type;
    free(msg);
    if (type == RMSG_START) {          /* first message, on our thread: start the tick */
        rt_timer_start(&L.tick, L.thread, TICK_MS, TICK_MS, tick, NULL);
        return;
    }
    if (type == RMSG_SLEEP_DONE) {
        repl_sleep_release();
        repl_replica_resume();
        return;
    }
    if (type == RMSG_KILL_MASTER) {
        /* As Redis does for its master client: close; the next attempt asks for a partial resync. */
        if (L.state == RL_CONNECTED) rr_link_drop("Connection with master lost (killed by CLIENT KILL).", false);
        return;
    }
    check_master();                   /* any other message: look at the snapshot now */
}

int repl_replica_kill_master(void)
{
    repl_replica_status_t st;
    repl_replica_status_get(&st);
    if (st.state != RL_CONNECTED || !L.thread) return 0;
    rt_msg_t *m = calloc(1, sizeof *m);
    if (!m) return 0;
    m->type = RMSG_KILL_MASTER;
    rt_send(&L.actor, m);
    return 1;
}

void repl_replica_sleep_done(void)
{
    if (!L.thread) {   /* before startup finished: there is no link to hold */
        repl_sleep_release_async();
        return;
    }
    rt_msg_t *m = xcalloc(1, sizeof *m);
    /* Through this actor's mailbox: a CLIENT KILL of the master sent before by
     * the same worker is handled first. */
    m->type = RMSG_SLEEP_DONE;
    rt_send(&L.actor, m);
}

int repl_replica_start(void)
{
    memset(&L, 0, sizeof L);
    L.fd = -1;
    L.state = RL_NONE;
    /* The replication actor's thread: idle on a replica (it only files the
     * stream into the backlog), and one thread fewer competing for cores. */
    L.thread = repl_thread();
    if (!L.thread) return -1;
    L.snap_ok = rt_snap_reader_register(&g_cluster_snapshot, &L.snap) == 0;
    rt_actor_init(&L.actor, L.thread, "replica", behaviour, NULL);
    rr_publish();
    rt_msg_t *m = calloc(1, sizeof *m);
    if (!m) return -1;
    m->type = RMSG_START;
    rt_send(&L.actor, m);
    return 0;
}

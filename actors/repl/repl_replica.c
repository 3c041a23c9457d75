/* repl_replica.c - the replica link actor (see repl_replica.h).
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
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/worker/client.h"
#include "actors/commands/cmd.h"
#include "actors/config/config.h"
#include "actors/worker/keyspace.h"
#include "actors/persist/rdb_save.h"
#include "actors/repl/repl.h"
#include "actors/repl/repl_replica.h"
#include "actors/state/state.h"
#include "actors/worker/worker.h"
#include "proto/rdb.h"
#include "proto/resp.h"
#include "proto/slot.h"
#include "runtime/log.h"

#define TICK_MS 100
#define RETRY_MS 1000
#define READ_CHUNK (256 * 1024)
#define EOF_MARK_LEN 40

/* Replies the pipelined handshake waits for, in order. */
enum hs_reply { HS_PING, HS_AUTH, HS_PORT, HS_IP, HS_CAPA, HS_PSYNC };

/* Commands of one read round for one worker. */
typedef struct batch {
    queued_cmd_t *cmds;
    int n, cap;
} batch_t;

static struct {
    rt_thread_t *thread;
    rt_actor_t actor;
    rt_snap_reader_t snap;
    bool snap_ok;
    rt_timer_t tick;

    /* who we follow */
    bool replica;
    char master_name[NODE_NAME_LEN + 1];
    char master_ip[46];
    int master_port;

    /* the connection */
    int state;                    /* enum repl_link_state */
    int fd;
    ev_io rio, wio;
    bool wio_on;
    uint8_t *in;                  /* unprocessed input */
    size_t in_len, in_cap;
    uint8_t *out;                 /* unsent output */
    size_t out_len, out_cap;
    long long next_attempt_mono;
    long long last_io_mono;       /* last byte from the master (or connect start) */
    long long last_ack_mono;
    long long last_newline_mono;
    long long fast_ack_until_mono;  /* ACK every tick until then (after a full sync) */

    /* handshake */
    int hs_expect[6];             /* enum hs_reply, in order */
    int hs_n, hs_i;
    char psync_replid[REPL_ID_LEN + 1];
    long long psync_offset;       /* what we asked for (-1: "?") */

    /* full sync */
    char sync_replid[REPL_ID_LEN + 1];
    long long sync_offset;
    bool bulk_started;            /* the $ line was read */
    bool eof_mode;
    char eof_mark[EOF_MARK_LEN];
    uint8_t tail[EOF_MARK_LEN];   /* last bytes fed to the decoder (EOF mode) */
    size_t tail_len;
    bool rdb_done;                /* decoder reached EOF; EOF mode: mark still to check */
    long long bulk_left;          /* $<len> mode: RDB bytes still to come */
    long long transfer_read;
    rdb_decoder_t dec;
    bool dec_on;
    struct keyspace *staged[MAX_WORKERS];
    long long staged_keys;

    /* stream */
    bool held;                    /* input waits for a cut to fix its offset (repl_replica_resume) */
    resp_parser_t parser;
    bool parser_on;
    batch_t batch[MAX_WORKERS];
    long long repl_offset, read_repl_offset;
    bool has_offsets;
    char unknown_logged[16][32];
    int nunknown_logged;

    /* published figures (status_mu) */
    long long last_io_ms, link_down_since_ms, sync_last_io_ms;
    char last_error[256];
} L;

static pthread_mutex_t status_mu = PTHREAD_MUTEX_INITIALIZER;
static repl_replica_status_t published;
static _Atomic long long net_input_bytes;

static void link_drop(const char *why, bool is_error);
static void process_input(void);

/* ---------------- status ---------------- */

static void publish(void)
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

static void set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_error(const char *fmt, ...)
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

static void out_flush(void)
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
        link_drop(why, true);
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
    out_flush();
}

static void out_append(const void *p, size_t n)
{
    if (L.out_len + n > L.out_cap) {
        size_t cap = L.out_cap ? L.out_cap : 256;
        while (cap < L.out_len + n) cap *= 2;
        uint8_t *nb = realloc(L.out, cap);
        if (!nb) abort();
        L.out = nb;
        L.out_cap = cap;
    }
    memcpy(L.out + L.out_len, p, n);
    L.out_len += n;
}

/* Appends one command as a RESP array of bulk strings. */
static void out_command(int argc, const char **argv)
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

static void send_ack(void)
{
    char off[32];
    snprintf(off, sizeof off, "%lld", L.repl_offset);
    const char *argv[] = { "REPLCONF", "ACK", off };
    out_command(3, argv);
    L.last_ack_mono = rt_mono_ms();
    out_flush();
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

static void batch_add(int wi, const queued_cmd_t *q)
{
    batch_t *b = &L.batch[wi];
    if (b->n == b->cap) {
        int cap = b->cap ? b->cap * 2 : 16;
        queued_cmd_t *nc = realloc(b->cmds, (size_t)cap * sizeof *nc);
        if (!nc) abort();
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
static void batches_send(void)
{
    long long now = rt_now_ms();
    for (int i = 0; i < g_nworkers; i++) {
        batch_t *b = &L.batch[i];
        if (b->n == 0) continue;
        repl_apply_t *a = calloc(1, sizeof *a);
        if (!a) abort();
        a->hdr.type = WMSG_APPLY;
        a->ncmds = b->n;
        a->cmds = b->cmds;
        a->now_ms = now;
        b->cmds = NULL;
        b->n = b->cap = 0;
        rt_send(&g_workers[i]->actor, &a->hdr);
    }
}

/* ---------------- connection lifetime ---------------- */

static void in_consume(size_t n)
{
    if (n >= L.in_len) { L.in_len = 0; return; }
    memmove(L.in, L.in + n, L.in_len - n);
    L.in_len -= n;
}

static void transfer_reset(void)
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
    transfer_reset();
    batches_discard();
    if (L.parser_on) resp_parser_reset(&L.parser);
}

/* Closes the link (if any) and schedules the next attempt. */
static void link_drop(const char *why, bool is_error)
{
    bool was_up = L.state == RL_CONNECTED;
    if (why) {
        if (is_error) {
            LOG_WARNING("%s", why);
            set_error("%s", why);
        } else {
            LOG_NOTICE("%s", why);
        }
    }
    close_socket();
    if (was_up) L.link_down_since_ms = rt_now_ms();
    L.state = L.replica ? RL_CONNECT : RL_NONE;
    L.next_attempt_mono = rt_mono_ms() + RETRY_MS;
    publish();
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents);

static void hs_send_ping(void)
{
    const char *argv[] = { "PING" };
    out_command(1, argv);
    L.hs_n = L.hs_i = 0;
    L.hs_expect[L.hs_n++] = HS_PING;
    out_flush();
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
    publish();
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
        link_drop(why, true);
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
            link_drop(why, true);
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
        link_drop(why, true);
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
        link_drop(why, true);
        return;
    }
    L.state = RL_CONNECTING;
    ev_io_init(&L.wio, connect_cb, L.fd, EV_WRITE);
    ev_io_start(loop, &L.wio);
    L.wio_on = true;
    publish();
}

/* ---------------- handshake ---------------- */

/* Takes one line (without CR LF) off the input. Returns its length, or -1
 * when no complete line is buffered. */
static long take_line(char *buf, size_t cap)
{
    uint8_t *nl = memchr(L.in, '\n', L.in_len);
    if (!nl) return -1;
    size_t n = (size_t)(nl - L.in);
    size_t len = n;
    if (len > 0 && L.in[len - 1] == '\r') len--;
    size_t c = len < cap - 1 ? len : cap - 1;
    memcpy(buf, L.in, c);
    buf[c] = '\0';
    in_consume(n + 1);
    return (long)len;
}

static void hs_send_config(void)
{
    char *auth = config_dup_str(CONFIG_MASTERAUTH);      /* whole values, any length */
    char *user = config_dup_str(CONFIG_MASTERUSER);
    L.hs_n = L.hs_i = 0;
    if (auth[0]) {
        if (user[0]) {
            const char *argv[] = { "AUTH", user, auth };
            out_command(3, argv);
        } else {
            const char *argv[] = { "AUTH", auth };
            out_command(2, argv);
        }
        L.hs_expect[L.hs_n++] = HS_AUTH;
    }
    free(auth);
    free(user);
    char port[24];
    long long ap = config_get_num(CONFIG_REPLICA_ANNOUNCE_PORT);
    snprintf(port, sizeof port, "%lld", ap > 0 ? ap : (long long)config_port());
    const char *pargv[] = { "REPLCONF", "listening-port", port };
    out_command(3, pargv);
    L.hs_expect[L.hs_n++] = HS_PORT;
    char ip[256];
    config_get_str(CONFIG_REPLICA_ANNOUNCE_IP, ip, sizeof ip);
    if (ip[0]) {
        const char *iargv[] = { "REPLCONF", "ip-address", ip };
        out_command(3, iargv);
        L.hs_expect[L.hs_n++] = HS_IP;
    }
    const char *cargv[] = { "REPLCONF", "capa", "eof", "capa", "psync2" };
    out_command(5, cargv);
    L.hs_expect[L.hs_n++] = HS_CAPA;
    out_flush();
}

static void hs_send_psync(void)
{
    L.psync_offset = repl_psync_args(L.psync_replid);
    char off[32];
    if (L.psync_offset < 0) {
        snprintf(L.psync_replid, sizeof L.psync_replid, "?");
        snprintf(off, sizeof off, "-1");
        LOG_NOTICE("Partial resynchronization not possible (no cached master)");
    } else {
        snprintf(off, sizeof off, "%lld", L.psync_offset);
        LOG_NOTICE("Trying a partial resynchronization (request %s:%lld).", L.psync_replid, L.psync_offset);
    }
    const char *argv[] = { "PSYNC", L.psync_replid, off };
    out_command(3, argv);
    L.hs_n = L.hs_i = 0;
    L.hs_expect[L.hs_n++] = HS_PSYNC;
    out_flush();
}

static void stream_start(long long offset)
{
    L.state = RL_CONNECTED;
    L.repl_offset = L.read_repl_offset = offset;
    L.has_offsets = true;
    L.last_error[0] = '\0';
    if (!L.parser_on) {
        resp_parser_init(&L.parser, LLONG_MAX);   /* Redis skips the bulk limit for its master */
        L.parser_on = true;
    } else {
        resp_parser_reset(&L.parser);
    }
    L.last_ack_mono = 0;
    publish();
}

/* Handles the PSYNC reply line. Returns false when the link was dropped. */
static bool on_psync_reply(const char *line)
{
    if (!strncmp(line, "+FULLRESYNC", 11)) {
        char id[64] = "";
        long long off = -1;
        if (sscanf(line + 11, " %63s %lld", id, &off) != 2 || strlen(id) != REPL_ID_LEN || off < 0) {
            char why[300];
            snprintf(why, sizeof why, "Master replied to PSYNC with an invalid +FULLRESYNC line: '%.200s'", line);
            link_drop(why, true);
            return false;
        }
        memcpy(L.sync_replid, id, REPL_ID_LEN + 1);
        L.sync_offset = off;
        LOG_NOTICE("Full resync from master: %s:%lld", id, off);
        L.state = RL_TRANSFER;
        transfer_reset();
        L.last_newline_mono = rt_mono_ms();
        L.sync_last_io_ms = rt_now_ms();
        publish();
        return true;
    }
    if (!strncmp(line, "+CONTINUE", 9)) {
        if (L.psync_offset < 0) {
            link_drop("Master accepted a partial resynchronization we did not ask for", true);
            return false;
        }
        char id[64] = "";
        if (sscanf(line + 9, " %63s", id) == 1 && strlen(id) == REPL_ID_LEN && strcmp(id, L.psync_replid) != 0) {
            LOG_NOTICE("Master replication ID changed to %s", id);
            repl_switch_replid(id);
        }
        LOG_NOTICE("Successful partial resynchronization with master.");
        LOG_NOTICE("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
        stream_start(L.psync_offset - 1);
        send_ack();
        return L.fd >= 0;
    }
    char why[300];
    if (!strncmp(line, "-NOMASTERLINK", 13) || !strncmp(line, "-LOADING", 8)) {
        snprintf(why, sizeof why, "Master is currently unable to PSYNC but should be in the future: %.200s", line);
        link_drop(why, false);
    } else {
        snprintf(why, sizeof why, "Unexpected reply to PSYNC from master: %.200s", line);
        link_drop(why, true);
    }
    return false;
}

/* Consumes handshake replies. Returns false when nothing more can be done now. */
static bool handshake_step(void)
{
    char line[512];
    long n = take_line(line, sizeof line);
    if (n < 0) {
        if (L.in_len > 64 * 1024) link_drop("Master sent an overlong handshake reply", true);
        return false;
    }
    int expect = L.hs_expect[L.hs_i];
    if (n == 0) return true;                  /* a bare \n keep-alive */
    char why[400];
    switch (expect) {
    case HS_PING:
        if (line[0] != '+' && strncmp(line, "-NOAUTH", 7) && strncmp(line, "-NOPERM", 7) &&
            strncmp(line, "-ERR operation not permitted", 28)) {
            snprintf(why, sizeof why, "Error reply to PING from master: '%.200s'", line);
            link_drop(why, true);
            return false;
        }
        LOG_NOTICE("Master replied to PING, replication can continue...");
        hs_send_config();
        return L.fd >= 0;
    case HS_AUTH:
        if (line[0] == '-') {
            snprintf(why, sizeof why, "Unable to AUTH to MASTER: %.200s", line);
            link_drop(why, true);
            return false;
        }
        break;
    case HS_PORT:
        if (line[0] == '-') LOG_NOTICE("(Non critical) Master does not understand REPLCONF listening-port: %.200s", line);
        break;
    case HS_IP:
        if (line[0] == '-') LOG_NOTICE("(Non critical) Master does not understand REPLCONF ip-address: %.200s", line);
        break;
    case HS_CAPA:
        if (line[0] == '-') LOG_NOTICE("(Non critical) Master does not understand REPLCONF capa: %.200s", line);
        break;
    case HS_PSYNC:
        return on_psync_reply(line);
    }
    if (++L.hs_i == L.hs_n) hs_send_psync();
    return L.fd >= 0;
}

/* ---------------- full sync ---------------- */

static void transfer_fail(const char *what)
{
    char why[400];
    snprintf(why, sizeof why, "Failed trying to load the MASTER synchronization DB from socket: %s", what);
    LOG_WARNING("%s", why);
    set_error("%s", what);
    link_drop(NULL, false);
}

/* One decoder event. Returns 0, or -1 with an error set in *err. */
static int stage_event(const rdb_event_t *ev, char *err, size_t cap)
{
    switch (ev->type) {
    case RDB_EV_SELECTDB:
        if (ev->db != 0) {
            snprintf(err, cap, "the RDB has keys in database %llu; a cluster node holds database 0 only",
                     (unsigned long long)ev->db);
            return -1;
        }
        return 0;
    case RDB_EV_KEY: {
        config_key_load_delay();
        int wi = worker_of_slot(slot_of_key(ev->key, ev->key_len));
        if (!L.staged[wi]) {
            L.staged[wi] = ks_create();
            ks_set_replica_mode(L.staged[wi], true);
        }
        ks_set_string(L.staged[wi], ev->key, ev->key_len, ev->value, ev->value_len,
                      ev->expire_ms >= 0 ? ev->expire_ms : KS_NO_EXPIRE, rt_now_ms());
        L.staged_keys++;
        return 0;
    }
    default:
        return 0;
    }
}

static void tail_note(const uint8_t *p, size_t n)
{
    if (n >= EOF_MARK_LEN) {
        memcpy(L.tail, p + n - EOF_MARK_LEN, EOF_MARK_LEN);
        L.tail_len = EOF_MARK_LEN;
        return;
    }
    size_t keep = L.tail_len + n > EOF_MARK_LEN ? EOF_MARK_LEN - n : L.tail_len;
    memmove(L.tail, L.tail + (L.tail_len - keep), keep);
    memcpy(L.tail + keep, p, n);
    L.tail_len = keep + n;
}

/* The whole RDB is staged: hand it over and go online. */
static void transfer_commit(void)
{
    LOG_NOTICE("MASTER <-> REPLICA sync: Flushing old data (the loaded keyspaces replace it)");
    for (int i = 0; i < g_nworkers; i++) {
        ks_swap_t *m = calloc(1, sizeof *m);
        if (!m) abort();
        m->hdr.type = WMSG_SWAP_KS;
        if (!L.staged[i]) {
            L.staged[i] = ks_create();
            ks_set_replica_mode(L.staged[i], true);
        }
        m->ks = L.staged[i];
        L.staged[i] = NULL;               /* the worker owns it now */
        rt_send(&g_workers[i]->actor, &m->hdr);
    }
    long long keys = L.staged_keys;
    if (L.dec_on) rdb_decoder_free(&L.dec);
    L.dec_on = false;
    rdb_loading_set(false);
    L.bulk_started = L.eof_mode = L.rdb_done = false;
    L.staged_keys = 0;
    repl_set_master_history(L.sync_replid, L.sync_offset);
    LOG_NOTICE("Done loading RDB, keys loaded: %lld.", keys);
    LOG_NOTICE("MASTER <-> REPLICA sync: Finished with success");
    stream_start(L.sync_offset);
    send_ack();
    /* A redis-server master starts the stream on the first ACK that arrives once its
     * RDB child has been reaped, which may be after this one: ACK every tick for a
     * second rather than leave writes waiting for the periodic ACK. */
    L.fast_ack_until_mono = rt_mono_ms() + 1000;
}

/* Consumes transfer bytes. Returns false when nothing more can be done now. */
static bool transfer_step(void)
{
    if (!L.bulk_started) {
        char line[256];
        long n = take_line(line, sizeof line);
        if (n < 0) {
            if (L.in_len > 1024) { transfer_fail("bad protocol from MASTER: no bulk length line"); }
            return false;
        }
        if (n == 0) return true;           /* keep-alive while the master prepares the RDB */
        if (line[0] == '-') {
            char what[300];
            snprintf(what, sizeof what, "MASTER aborted replication with an error: %.200s", line + 1);
            transfer_fail(what);
            return false;
        }
        if (line[0] != '$') {
            char what[300];
            snprintf(what, sizeof what, "Bad protocol from MASTER, the first byte is not '$' (we received '%.200s')",
                     line);
            transfer_fail(what);
            return false;
        }
        if (n == 5 + EOF_MARK_LEN && !strncmp(line, "$EOF:", 5)) {
            L.eof_mode = true;
            memcpy(L.eof_mark, line + 5, EOF_MARK_LEN);
            rdb_decoder_init(&L.dec, (uint64_t)config_proto_max_bulk_len(), 0);
            LOG_NOTICE("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to memory");
        } else {
            char *end;
            errno = 0;
            long long len = strtoll(line + 1, &end, 10);
            if (end == line + 1 || *end || len <= 0 || errno == ERANGE) {
                char what[300];
                snprintf(what, sizeof what, "bad bulk length from MASTER: '%.200s'", line);
                transfer_fail(what);
                return false;
            }
            L.bulk_left = len;
            rdb_decoder_init(&L.dec, (uint64_t)config_proto_max_bulk_len(), (uint64_t)len);
            LOG_NOTICE("MASTER <-> REPLICA sync: receiving %lld bytes from master to memory", len);
        }
        L.dec_on = true;
        rdb_loading_set(true);
        L.bulk_started = true;
        LOG_NOTICE("MASTER <-> REPLICA sync: Loading DB in memory (as it arrives; old data kept until it is complete)");
        publish();
        return true;
    }
    if (L.rdb_done) {
        if (L.eof_mode) {
            if (L.in_len < EOF_MARK_LEN) return false;
            if (memcmp(L.in, L.eof_mark, EOF_MARK_LEN) != 0) {
                transfer_fail("the RDB did not end with the EOF mark the master announced");
                return false;
            }
            in_consume(EOF_MARK_LEN);
            transfer_commit();
            return L.fd >= 0;
        }
        /* $<len> mode: bytes after the RDB's EOF but inside the bulk are ignored. */
        if (L.bulk_left > 0) {
            size_t skip = (size_t)L.bulk_left < L.in_len ? (size_t)L.bulk_left : L.in_len;
            in_consume(skip);
            L.bulk_left -= (long long)skip;
            if (L.bulk_left > 0) return false;
        }
        transfer_commit();
        return L.fd >= 0;
    }
    if (L.in_len == 0) return false;
    size_t take = L.in_len;
    if (!L.eof_mode && (long long)take > L.bulk_left) take = (size_t)L.bulk_left;
    rdb_decoder_feed(&L.dec, L.in, take);
    rdb_event_t ev;
    int st;
    char err[256] = "";
    while ((st = rdb_decoder_next(&L.dec, &ev)) == RDB_EVENT) {
        if (stage_event(&ev, err, sizeof err) != 0) {
            transfer_fail(err);
            return false;
        }
    }
    if (st == RDB_ERROR) {
        transfer_fail(rdb_decoder_error(&L.dec)[0] ? rdb_decoder_error(&L.dec) : rdb_result_name(rdb_decoder_result(&L.dec)));
        return false;
    }
    size_t used = take;
    if (st == RDB_DONE) {
        size_t rest = 0;
        rdb_decoder_rest(&L.dec, &rest);
        used = take - rest;
        L.rdb_done = true;
    }
    if (L.eof_mode && st != RDB_DONE) tail_note(L.in, used);
    if (!L.eof_mode) L.bulk_left -= (long long)used;
    L.transfer_read += (long long)used;
    in_consume(used);
    if (st == RDB_MORE) {
        if (L.eof_mode && L.tail_len == EOF_MARK_LEN && !memcmp(L.tail, L.eof_mark, EOF_MARK_LEN)) {
            /* The master's end mark arrived but the RDB is not complete. */
            rdb_decoder_finish(&L.dec);
            transfer_fail(rdb_decoder_error(&L.dec)[0] ? rdb_decoder_error(&L.dec) : "truncated RDB");
            return false;
        }
        if (!L.eof_mode && L.bulk_left == 0) {
            rdb_decoder_finish(&L.dec);
            transfer_fail(rdb_decoder_error(&L.dec)[0] ? rdb_decoder_error(&L.dec) : "truncated RDB");
            return false;
        }
    }
    return true;
}

/* ---------------- the command stream ---------------- */

static bool name_is(const uint8_t *p, size_t n, const char *name)
{
    return strlen(name) == n && !strncasecmp((const char *)p, name, n);
}

static void log_unapplied_once(const uint8_t *name, size_t n, const char *why)
{
    char s[32];
    size_t c = n < sizeof s - 1 ? n : sizeof s - 1;
    for (size_t i = 0; i < c; i++) s[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
    s[c] = '\0';
    for (int i = 0; i < L.nunknown_logged; i++)
        if (!strcmp(L.unknown_logged[i], s)) return;
    if (L.nunknown_logged < 16) memcpy(L.unknown_logged[L.nunknown_logged++], s, sizeof s);
    LOG_WARNING("Command '%s' from MASTER not applied: %s (logged once)", s, why);
}

/* Resolves one stream command to the worker that applies it: >= 0 a worker,
 * -1 skip, -2 every worker (FLUSHALL/FLUSHDB). *out gets the table entry. */
static int route(int argc, const uint8_t **argv, const size_t *argvlen, const cmd_def_t **out)
{
    const cmd_def_t *cmd = cmd_lookup(argv[0], argvlen[0]);
    if (!cmd) {
        log_unapplied_once(argv[0], argvlen[0], "unknown command");
        return -1;
    }
    if (!cmd->handler && cmd->subcommands) {
        if (argc < 2) return -1;
        const cmd_def_t *sub = cmd_lookup_sub(cmd, argv[1], argvlen[1]);
        if (!sub) {
            log_unapplied_once(argv[0], argvlen[0], "unknown subcommand");
            return -1;
        }
        cmd = sub;
    }
    if ((cmd->arity > 0 && argc != cmd->arity) || (cmd->arity < 0 && argc < -cmd->arity)) {
        log_unapplied_once(argv[0], argvlen[0], "wrong number of arguments");
        return -1;
    }
    *out = cmd;
    if (cmd->exec == CMD_EXEC_FANOUT) {
        if (name_is(argv[0], argvlen[0], "flushall") || name_is(argv[0], argvlen[0], "flushdb")) return -2;
        return -1;
    }
    if (cmd->exec != CMD_EXEC_KEYED || !cmd->handler) {
        log_unapplied_once(argv[0], argvlen[0], "not a keyed command");
        return -1;
    }
    int pos[4];
    int nk = cmd_get_keys(cmd, argc, argv, argvlen, pos, 4);
    if (nk <= 0) {
        log_unapplied_once(argv[0], argvlen[0], "no key");
        return -1;
    }
    return worker_of_slot(slot_of_key(argv[pos[0]], argvlen[pos[0]]));
}

/* Without cluster mode a master (redis-server) may send one command whose
 * keys we keep on different workers. Commands made only of key groups
 * (DEL k k ..., MSET k v k v ...) are split into one command per worker, each
 * with its own groups; the effect is the same key by key. Returns false when
 * the command needs no split or cannot be split (then it runs whole on the
 * first key's worker, and the case is logged once). */
static bool split_by_worker(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    if (config_cluster_enabled() || g_nworkers < 2) return false;
    int step = cmd->key_step;
    if (cmd->first_key != 1 || cmd->last_key != -1 || step < 1 || (argc - 1) % step != 0) {
        int pos[16];
        int nk = cmd_get_keys(cmd, argc, argv, argvlen, pos, 16);
        for (int k = 1; k < nk; k++) {
            if (worker_of_slot(slot_of_key(argv[pos[k]], argvlen[pos[k]])) !=
                worker_of_slot(slot_of_key(argv[pos[0]], argvlen[pos[0]]))) {
                log_unapplied_once(argv[0], argvlen[0], "its keys are kept by different workers; applied on the first key's");
                break;
            }
        }
        return false;
    }
    int first = worker_of_slot(slot_of_key(argv[1], argvlen[1]));
    bool spans = false;
    for (int i = 1 + step; i < argc && !spans; i += step)
        spans = worker_of_slot(slot_of_key(argv[i], argvlen[i])) != first;
    if (!spans) return false;
    const uint8_t **sub = malloc((size_t)argc * sizeof *sub);
    size_t *sublen = malloc((size_t)argc * sizeof *sublen);
    if (!sub || !sublen) abort();
    for (int w = 0; w < g_nworkers; w++) {
        int n = 1;
        sub[0] = argv[0];
        sublen[0] = argvlen[0];
        for (int i = 1; i < argc; i += step) {
            if (worker_of_slot(slot_of_key(argv[i], argvlen[i])) != w) continue;
            for (int j = 0; j < step; j++) {
                sub[n] = argv[i + j];
                sublen[n++] = argvlen[i + j];
            }
        }
        if (n == 1) continue;
        queued_cmd_t q;
        queued_cmd_copy(&q, cmd, n, sub, sublen);
        batch_add(w, &q);
    }
    free(sub);
    free(sublen);
    return true;
}

static void enqueue(int argc, const uint8_t **argv, const size_t *argvlen)
{
    const cmd_def_t *cmd = NULL;
    int wi = route(argc, argv, argvlen, &cmd);
    if (wi == -1) return;
    if (wi == -2) {
        for (int i = 0; i < g_nworkers; i++) {
            queued_cmd_t q;
            queued_cmd_copy(&q, cmd, argc, argv, argvlen);
            batch_add(i, &q);
        }
        return;
    }
    if (split_by_worker(cmd, argc, argv, argvlen)) return;
    queued_cmd_t q;
    queued_cmd_copy(&q, cmd, argc, argv, argvlen);
    batch_add(wi, &q);
}

/* Hands over what this round processed so far: the batches to the workers,
 * then bytes in[0..upto) to the replication actor. */
static void round_flush(size_t upto)
{
    batches_send();
    if (upto == 0) return;
    uint8_t *copy = malloc(upto);
    if (!copy) abort();
    memcpy(copy, L.in, upto);
    repl_feed_from_master(copy, upto);
    L.repl_offset += (long long)upto;
    in_consume(upto);
}

#define MAX_ARGS 1024

/* Parses and routes every complete command buffered. */
static void stream_round(void)
{
    const uint8_t *argv_s[MAX_ARGS];
    size_t argvlen_s[MAX_ARGS];
    size_t pos = 0, done = 0;         /* parse position; end of the last fully processed command */
    bool in_txn = false;
    size_t txn_start = 0;
    /* A transaction's commands are held aside until its EXEC. */
    queued_cmd_t *txn = NULL;
    int ntxn = 0, captxn = 0;
    while (pos < L.in_len) {
        const uint8_t *start = L.in + pos;
        int r = resp_parse(&L.parser, start, L.in_len - pos);
        if (r == RESP_PARSE_MORE) break;
        if (r == RESP_PARSE_ERROR) {
            char why[200];
            snprintf(why, sizeof why, "Protocol error from MASTER: %s", L.parser.error ? L.parser.error : "?");
            for (int i = 0; i < ntxn; i++) queued_cmd_free(&txn[i]);
            free(txn);
            round_flush(done);
            link_drop(why, true);
            return;
        }
        size_t cmd_start = pos;
        pos += L.parser.consumed;
        if (r == RESP_PARSE_EMPTY) {
            if (!in_txn) done = pos;
            continue;
        }
        int argc = (int)L.parser.argc;
        const uint8_t **argv = argv_s;
        size_t *argvlen = argvlen_s;
        const uint8_t **argv_h = NULL;
        size_t *argvlen_h = NULL;
        if (argc > MAX_ARGS) {
            argv_h = malloc((size_t)argc * sizeof *argv_h);
            argvlen_h = malloc((size_t)argc * sizeof *argvlen_h);
            if (!argv_h || !argvlen_h) abort();
            argv = argv_h;
            argvlen = argvlen_h;
        }
        for (int i = 0; i < argc; i++) {
            argv[i] = resp_arg(&L.parser, start, (size_t)i);
            argvlen[i] = L.parser.arg_len[i];
        }
        const uint8_t *name = argv[0];
        size_t nlen = argvlen[0];
        if (name_is(name, nlen, "multi") && !in_txn) {
            in_txn = true;
            txn_start = cmd_start;
        } else if (name_is(name, nlen, "exec") && in_txn) {
            /* The body goes to its workers in one message each (one worker in cluster mode). */
            for (int i = 0; i < ntxn; i++) {
                const cmd_def_t *cmd = NULL;
                int wi = route(txn[i].argc, txn[i].argv, txn[i].argvlen, &cmd);
                if (wi == -1) { queued_cmd_free(&txn[i]); continue; }
                if (wi == -2) {
                    for (int k = 0; k < g_nworkers; k++) {
                        queued_cmd_t q;
                        queued_cmd_copy(&q, cmd, txn[i].argc, txn[i].argv, txn[i].argvlen);
                        batch_add(k, &q);
                    }
                    queued_cmd_free(&txn[i]);
                    continue;
                }
                if (split_by_worker(cmd, txn[i].argc, txn[i].argv, txn[i].argvlen)) {
                    queued_cmd_free(&txn[i]);
                    continue;
                }
                txn[i].cmd = cmd;
                batch_add(wi, &txn[i]);
            }
            ntxn = 0;
            in_txn = false;
            done = pos;
        } else if (name_is(name, nlen, "discard") && in_txn) {
            for (int i = 0; i < ntxn; i++) queued_cmd_free(&txn[i]);
            ntxn = 0;
            in_txn = false;
            done = pos;
        } else if (in_txn) {
            if (!name_is(name, nlen, "select") && !name_is(name, nlen, "ping")) {
                if (ntxn == captxn) {
                    captxn = captxn ? captxn * 2 : 16;
                    queued_cmd_t *nt = realloc(txn, (size_t)captxn * sizeof *nt);
                    if (!nt) abort();
                    txn = nt;
                }
                /* cmd resolved at EXEC; keep the bytes now */
                queued_cmd_copy(&txn[ntxn++], NULL, argc, argv, argvlen);
            }
        } else if (name_is(name, nlen, "replconf")) {
            if (argc >= 2 && name_is(argv[1], argvlen[1], "getack")) {
                /* Everything before the GETACK is processed; the GETACK itself is not yet. */
                round_flush(cmd_start);
                pos -= cmd_start;
                done = pos;
                send_ack();
                free(argv_h);
                free(argvlen_h);
                if (L.fd < 0) { free(txn); return; }
                continue;
            }
            done = pos;
        } else if (name_is(name, nlen, "select") || name_is(name, nlen, "ping")) {
            done = pos;
        } else {
            enqueue(argc, argv, argvlen);
            done = pos;
        }
        free(argv_h);
        free(argvlen_h);
    }
    if (in_txn) {
        /* An unfinished transaction: parse it again, whole, next round. */
        for (int i = 0; i < ntxn; i++) queued_cmd_free(&txn[i]);
        resp_parser_reset(&L.parser);
        (void)txn_start;
        done = txn_start;
    }
    free(txn);
    round_flush(done);
}

/* ---------------- reading ---------------- */

static void process_input(void)
{
    for (;;) {
        if (L.fd < 0) return;
        if (L.state == RL_HANDSHAKE) {
            if (!handshake_step()) return;
        } else if (L.state == RL_TRANSFER) {
            if (!transfer_step()) return;
        } else if (L.state == RL_CONNECTED) {
            if (repl_cut_holds_stream()) {   /* a replica of ours is being cut: wait (repl.h) */
                L.held = true;
                return;
            }
            stream_round();
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
        uint8_t *nb = realloc(L.in, cap);
        if (!nb) abort();
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
            transfer_fail(what);
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
        link_drop(why, L.state != RL_CONNECTED);
        return;
    }
    L.in_len += (size_t)n;
    atomic_fetch_add_explicit(&net_input_bytes, n, memory_order_relaxed);   /* relaxed: a statistic */
    L.last_io_mono = rt_mono_ms();
    L.last_io_ms = rt_now_ms();
    if (L.state == RL_TRANSFER) L.sync_last_io_ms = L.last_io_ms;
    process_input();
    if (L.state == RL_CONNECTED) L.read_repl_offset = L.repl_offset + (long long)L.in_len;
    if (L.fd >= 0) publish();
}

/* ---------------- the tick ---------------- */

/* Reads who our master is from the snapshot; drops the link when it changed. */
static void check_master(void)
{
    if (!L.snap_ok) return;
    const cluster_snapshot_t *s = rt_snap_read_begin(&L.snap);
    bool replica = false;
    char name[NODE_NAME_LEN + 1] = "", ip[46] = "";
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
    publish();
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
        if (L.state == RL_CONNECTING) link_drop("Timeout connecting to the MASTER...", true);
        else if (L.state == RL_HANDSHAKE) link_drop("Timeout during the handshake with the MASTER...", true);
        else if (L.state == RL_TRANSFER) link_drop("Timeout receiving bulk data from MASTER... If the problem persists "
                                                   "try to set the 'repl-timeout' parameter in redis.conf to a larger value.",
                                                   true);
        else link_drop("MASTER timeout: no data nor PING received...", true);
        return;
    }
    if (L.state == RL_TRANSFER && now - L.last_newline_mono >= 1000) {
        out_append("\n", 1);
        L.last_newline_mono = now;
        out_flush();
    } else if (L.state == RL_CONNECTED &&
               (now - L.last_ack_mono >= 1000 || (now < L.fast_ack_until_mono && now - L.last_ack_mono >= TICK_MS))) {
        send_ack();
    }
}

enum { RMSG_CHECK = 1, RMSG_KILL_MASTER, RMSG_START };

static void behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    (void)self;
    uint32_t type = msg->type;
    free(msg);
    if (type == RMSG_START) {          /* first message, on our thread: start the tick */
        rt_timer_start(&L.tick, L.thread, TICK_MS, TICK_MS, tick, NULL);
        return;
    }
    if (type == RMSG_KILL_MASTER) {
        /* As Redis does for its master client: close; the next attempt asks for a partial resync. */
        if (L.state == RL_CONNECTED) link_drop("Connection with master lost (killed by CLIENT KILL).", false);
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
    publish();
    rt_msg_t *m = calloc(1, sizeof *m);
    if (!m) return -1;
    m->type = RMSG_START;
    rt_send(&L.actor, m);
    return 0;
}

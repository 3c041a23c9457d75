/* gossip_flood.c - cluster-bus PING flooder for bench/run.py's gossip section.
 *
 * What it is for: measuring how many bus PINGs one node (shoal-node or
 * redis-server 7.0.15) answers per second and per second of its own CPU. It
 * opens K TCP connections to the node's bus port, each acting as one fake
 * peer with its own random valid 40-hex name, keeps W PINGs (built with
 * proto/bus.h, with -g gossip entries each) in flight per connection, and
 * counts the PONGs that come back. A 7.0.15 node answers every PING with a
 * PONG on the same link even when the sender is unknown to it
 * (docs/cluster-bus.md §5.2 step 5.3), so no handshake is needed and both
 * servers see the same traffic.
 *
 * After a warm-up it counts PONGs for -t seconds and, given -P <pid>, reads
 * the run time of all that process's threads (/proc/<pid>/task/<tid>/schedstat)
 * at the start and end of the same window, so the figure per server CPU-second
 * covers exactly the counted PONGs. It prints one line of key=value pairs for
 * run.py to parse.
 *
 * With -m (members) the fake peers first join the node's cluster the way a
 * real node does (§5.3): each listens on its own loopback bus port, sends a
 * MEET carrying that port, and answers the PING the node sends when it
 * connects back with a PONG, which makes the node rename its handshake record
 * to the peer's name. The flood then comes from known senders, so the node
 * runs its whole per-message pipeline (epochs, pong times, gossip, §5.2), and
 * the gossip entries describe the other fake peers (never unknown names, which
 * the node would add and try to reach), picked as 7.0.15's clusterSendPing
 * picks them: distinct random nodes other than the sender, the node itself
 * included once its name is known (from its first PING to a peer). The node's
 * own PINGs to the peers are answered throughout, so it never sees them time
 * out.
 *
 * With -P it also prints the CPU time of each of the server's threads in the
 * counted window, by thread name (thread_cpu=state:1.1,worker-0:1.2,...), for
 * the serial-fraction figures of bench/run.py's serial section.
 *
 * What it must never do: send MEET without -m, send anything a 7.0.15 node
 * would drop or close the link for, listen anywhere but 127.0.0.1, or connect
 * anywhere but the host and port it is given. It exits non-zero if the node
 * closes links, does not take the peers in (-m), or answers nothing, so a
 * failing server never shows up as a throughput figure.
 *
 * With -T <dir> the links are TLS (a node with tls-cluster yes): each is
 * handshaken (blocking, before the flood) with dir/client.crt and
 * dir/client.key, verifying the node against dir/ca.crt, and the owed PINGs
 * go out as records of up to 16 KB. Not with -m.
 *
 * Usage: gossip_flood -p busport [-h 127.0.0.1] [-k 32] [-w 16] [-t 5]
 *                     [-g 3] [-j 1] [-W 1] [-P pid] [-m] [-T pkidir]
 *   -k connections   -w PINGs in flight per connection   -t seconds counted
 *   -g gossip entries per PING   -j flooder threads   -W warm-up seconds
 *   -m join the node's cluster first (known senders)
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bench/bench_common.h"
#include "proto/bus.h"

#define FRAME_VARIANTS 4     /* PINGs per connection differ in their gossip entries */
#define MAX_IOV 64
#define READ_BUF (256 * 1024)
#define INBOUND_BUF (64 * 1024)  /* the node's PINGs to a peer: header + a few gossip entries */
#define MAX_INBOUND 1024
#define JOIN_TIMEOUT 15.0    /* seconds for the node to connect back to every peer (-m) */

struct conn {
    int fd;
    SSL *ssl;                /* -T: the link's TLS session */
    uint8_t *frames[FRAME_VARIANTS];
    size_t frame_len;        /* all variants have the same length */
    unsigned next_variant;
    /* write side: frames owed (window credit not yet written) and how much of
     * the frame at the head has been written already */
    unsigned to_write;
    size_t head_off;
    bool want_out;           /* EPOLLOUT registered */
    struct bench_skim skim;  /* read side: the frames are counted, never kept */
    bool closed;
};

struct worker {
    pthread_t thread;
    struct conn *conns;
    unsigned nconns;
    int epfd;
    /* read by the main thread while the worker runs: relaxed is enough, the
     * figures are sampled, not synchronised with anything */
    _Atomic uint64_t pongs;
    _Atomic uint64_t others;  /* frames of any other type */
    _Atomic uint64_t closed;
    char error[160];
};

static struct {
    const char *host;
    int port;
    unsigned k, window, gossip, threads;
    double seconds, warmup;
    long pid;
    bool members;
    const char *tls_dir;
} opt = {"127.0.0.1", 0, 32, 16, 3, 1, 5.0, 1.0, 0, false, NULL};

static SSL_CTX *tls_ctx;      /* -T */

static void tls_setup(void)
{
    char ca[4096], crt[4096], key[4096];
    snprintf(ca, sizeof ca, "%s/ca.crt", opt.tls_dir);
    snprintf(crt, sizeof crt, "%s/client.crt", opt.tls_dir);
    snprintf(key, sizeof key, "%s/client.key", opt.tls_dir);
    tls_ctx = SSL_CTX_new(TLS_client_method());
    if (!tls_ctx || SSL_CTX_load_verify_locations(tls_ctx, ca, NULL) != 1 ||
        SSL_CTX_use_certificate_chain_file(tls_ctx, crt) != 1 ||
        SSL_CTX_use_PrivateKey_file(tls_ctx, key, SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        bench_die("TLS context");
    }
    SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_PEER, NULL);
    /* a retry may start from a moved buffer and carry more bytes */
    SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

/* One fake peer: its identity, and with -m its listening bus port and the
 * frames it sends outside the flood. */
struct peer {
    char name[BUS_NAME_LEN + 1];
    uint16_t cport;
    int listen_fd;
    uint8_t *meet, *pong;
    size_t meet_len, pong_len;
    unsigned pongs_sent;     /* PONGs answering the node's PINGs (-m) */
};

/* A connection the node opened to one of our peers (-m): read by the main thread. */
struct inbound {
    int fd;
    unsigned peer;
    size_t len;
    uint8_t buf[INBOUND_BUF];
};

static struct peer *peers;
/* The node's own name, learned from the first PING it sends to a peer (-m):
 * Redis's gossip picks may name the receiver itself, so ours may too. */
static char node_name[BUS_NAME_LEN + 1];
static bool have_node_name;
static struct inbound *inbound[MAX_INBOUND];
static unsigned n_inbound;

static atomic_bool stop_flag;

const char bench_prog[] = "gossip_flood";

/* seeded per process; names need only be distinct */
static uint64_t rng_state;
static uint64_t rng(void) { return bench_rng_next(&rng_state); }

/* Builds the PING variants of one fake peer: a master with no slots, epochs 0,
 * its address left for the receiver to take from the socket (myip ""). */
static void peer_header(bus_header_t *hdr, unsigned peer_index)
{
    const struct peer *p = &peers[peer_index];
    memset(hdr, 0, sizeof *hdr);
    memcpy(hdr->sender, p->name, sizeof hdr->sender);
    hdr->port = p->cport;          /* no client port behind it; any non-zero value will do */
    hdr->cport = p->cport;
    hdr->flags = BUS_NODE_MASTER;
    /* distinct non-zero config epochs: no collision with the node (§5.9) or each other */
    hdr->config_epoch = peer_index + 1;
    hdr->current_epoch = opt.k;
}

static uint8_t *build_or_die(const bus_header_t *hdr, unsigned type, const bus_gossip_t *g,
                             unsigned count, size_t *len_out)
{
    size_t len = bus_ping_len(count, NULL, 0);
    uint8_t *f = malloc(len);
    if (!f) bench_die("malloc");
    size_t n = bus_build_ping(f, len, hdr, type, g, count, NULL, 0);
    if (n != len) {
        fprintf(stderr, "gossip_flood: bus_build_ping returned %zu, expected %zu\n", n, len);
        exit(2);
    }
    *len_out = len;
    return f;
}

/* The MEET and PONG a member peer sends outside the flood. */
static void build_member_frames(unsigned peer_index)
{
    bus_header_t hdr;
    peer_header(&hdr, peer_index);
    struct peer *p = &peers[peer_index];
    p->meet = build_or_die(&hdr, BUS_MEET, NULL, 0, &p->meet_len);
    p->pong = build_or_die(&hdr, BUS_PONG, NULL, 0, &p->pong_len);
}

/* Picks a member PING's gossip entries the way 7.0.15's clusterSendPing does
 * for a sender that knows every peer and the node: random nodes other than
 * the sender, each at most once (the receiver itself may be among them). The
 * caller keeps count below the number of candidates (k - 1 other peers, plus
 * the node once its name is known). */
static void pick_member_gossip(bus_gossip_t *g, unsigned count, unsigned self, uint32_t now)
{
    unsigned cand = opt.k + (have_node_name ? 1 : 0);   /* index opt.k = the node */
    unsigned picked[64];
    for (unsigned i = 0; i < count;) {
        unsigned j = (unsigned)(rng() % cand);
        if (j == self) continue;
        bool dup = false;
        for (unsigned x = 0; x < i; x++) dup |= picked[x] == j;
        if (dup) continue;
        picked[i] = j;
        memset(&g[i], 0, sizeof g[i]);
        g[i].pong_received = now;
        strcpy(g[i].ip, "127.0.0.1");
        g[i].flags = BUS_NODE_MASTER;
        if (j == opt.k) {
            memcpy(g[i].name, node_name, sizeof g[i].name);
            g[i].cport = (uint16_t)opt.port;
            g[i].port = (uint16_t)(opt.port - BUS_PORT_OFFSET);
        } else {
            memcpy(g[i].name, peers[j].name, sizeof g[i].name);
            g[i].port = g[i].cport = peers[j].cport;
        }
        i++;
    }
}

static void build_frames(struct conn *c, unsigned peer_index)
{
    bus_header_t hdr;
    peer_header(&hdr, peer_index);

    bus_gossip_t g[64];
    unsigned count = opt.gossip;
    if (opt.members) {
        unsigned cand = opt.k - 1 + (have_node_name ? 1 : 0);
        if (count > cand) count = cand;     /* as 7.0.15 caps wanted at the nodes it has */
    }
    size_t len = bus_ping_len(count, NULL, 0);
    uint32_t now = (uint32_t)time(NULL);
    for (unsigned v = 0; v < FRAME_VARIANTS; v++) {
        if (opt.members) {
            /* other members (and the node), as a real peer would gossip about them */
            pick_member_gossip(g, count, peer_index, now);
        } else {
            for (unsigned i = 0; i < count; i++) {
                /* a node the receiver does not know; it ignores gossip from unknown
                 * senders (§5.6), so this is never added anywhere */
                memset(&g[i], 0, sizeof g[i]);
                g[i].pong_received = now;
                strcpy(g[i].ip, "127.0.0.1");
                g[i].flags = BUS_NODE_MASTER;
                bench_random_name(g[i].name, &rng_state);
                g[i].port = (uint16_t)(31000 + (rng() % 1000));
                g[i].cport = (uint16_t)(g[i].port + 10000);
            }
        }
        size_t n;
        free(c->frames[v]);
        c->frames[v] = build_or_die(&hdr, BUS_PING, g, count, &n);
    }
    c->frame_len = len;
}

static int connect_one(struct conn *c)
{
    int fd = bench_connect(opt.host, opt.port, "connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* as the bus does */
    if (tls_ctx) {                    /* handshaken while the socket still blocks */
        c->ssl = SSL_new(tls_ctx);
        if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1 || SSL_connect(c->ssl) != 1) {
            ERR_print_errors_fp(stderr);
            bench_die("TLS handshake with the node");
        }
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) bench_die("fcntl");
    return fd;
}

static void conn_close(struct worker *w, struct conn *c, const char *why)
{
    if (c->closed) return;
    c->closed = true;
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    SSL_free(c->ssl);
    c->ssl = NULL;
    close(c->fd);
    atomic_fetch_add_explicit(&w->closed, 1, memory_order_relaxed);
    if (!w->error[0]) snprintf(w->error, sizeof w->error, "%s", why);
}

static void set_want_out(struct worker *w, struct conn *c, bool on)
{
    if (c->want_out == on) return;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) bench_die("epoll_ctl");
    c->want_out = on;
}

/* -T: the owed frames from the head, as one record of up to 16 KB; a retry
 * after WANT_WRITE starts with the same bytes and is never shorter. */
static ssize_t tls_flush_once(struct conn *c)
{
    static _Thread_local uint8_t rec[16384];
    size_t len = 0;
    for (unsigned i = 0; i < c->to_write && len < sizeof rec; i++) {
        const uint8_t *f = c->frames[(c->next_variant + i) % FRAME_VARIANTS];
        size_t off = i == 0 ? c->head_off : 0, n = c->frame_len - off;
        if (n > sizeof rec - len) n = sizeof rec - len;
        memcpy(rec + len, f + off, n);
        len += n;
    }
    int r = SSL_write(c->ssl, rec, (int)len);
    if (r > 0) return r;
    int e = SSL_get_error(c->ssl, r);
    ERR_clear_error();
    errno = e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? EAGAIN : EPIPE;
    return -1;
}

/* Writes as many owed frames as the socket takes. */
static void conn_flush(struct worker *w, struct conn *c)
{
    while (c->to_write > 0 && !c->closed) {
        struct iovec iov[MAX_IOV];
        unsigned n = c->to_write < MAX_IOV ? c->to_write : MAX_IOV;
        unsigned v = c->next_variant;
        for (unsigned i = 0; i < n; i++) {
            uint8_t *f = c->frames[(v + i) % FRAME_VARIANTS];
            size_t off = i == 0 ? c->head_off : 0;
            iov[i].iov_base = f + off;
            iov[i].iov_len = c->frame_len - off;
        }
        ssize_t r = c->ssl ? tls_flush_once(c) : writev(c->fd, iov, (int)n);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == EINTR) continue;
            conn_close(w, c, "write failed (server closed the link?)");
            return;
        }
        size_t done = (size_t)r + c->head_off;
        unsigned whole = (unsigned)(done / c->frame_len);
        c->to_write -= whole;
        c->next_variant = (c->next_variant + whole) % FRAME_VARIANTS;
        c->head_off = done % c->frame_len;
    }
    set_want_out(w, c, c->to_write > 0 && !c->closed);
}

struct frame_count { uint64_t pongs, others; };

static bool count_frame(void *arg, unsigned type)
{
    struct frame_count *fc = arg;
    if (type == BUS_PONG) fc->pongs++;
    else fc->others++;
    return true;
}

/* Consumes received bytes: counts whole frames by type, never keeps them. */
static void conn_consume(struct worker *w, struct conn *c, const uint8_t *p, size_t n)
{
    struct frame_count fc = {0, 0};
    if (bench_skim(&c->skim, p, n, count_frame, &fc) == BENCH_SKIM_BAD) {
        conn_close(w, c, "server sent a frame with a bad signature or length");
        return;
    }
    uint64_t pongs = fc.pongs, others = fc.others;
    if (pongs) {
        atomic_fetch_add_explicit(&w->pongs, pongs, memory_order_relaxed);
        /* each PONG frees one slot of the window (we count it at its first bytes,
         * which keeps the window full without waiting for the tail) */
        c->to_write += (unsigned)pongs;
    }
    if (others) atomic_fetch_add_explicit(&w->others, others, memory_order_relaxed);
}

/* -T: every record the socket holds (OpenSSL reads one per call). */
static void tls_read_all(struct worker *w, struct conn *c, uint8_t *buf)
{
    while (!c->closed) {
        int r = SSL_read(c->ssl, buf, READ_BUF);
        if (r > 0) {
            conn_consume(w, c, buf, (size_t)r);
            continue;
        }
        int e = SSL_get_error(c->ssl, r);
        ERR_clear_error();
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            conn_close(w, c, e == SSL_ERROR_ZERO_RETURN ? "server closed the link" : "TLS read failed");
        return;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uint8_t *buf = malloc(READ_BUF);
    if (!buf) bench_die("malloc");
    for (unsigned i = 0; i < w->nconns; i++) conn_flush(w, &w->conns[i]);
    struct epoll_event evs[64];
    while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
        int n = epoll_wait(w->epfd, evs, 64, 100);
        if (n < 0) {
            if (errno == EINTR) continue;
            bench_die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->closed) continue;
            if (c->ssl && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
                tls_read_all(w, c, buf);
            } else if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                ssize_t r = read(c->fd, buf, READ_BUF);
                if (r == 0) {
                    conn_close(w, c, "server closed the link");
                    continue;
                }
                if (r < 0) {
                    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                        conn_close(w, c, "read failed");
                    continue;
                }
                conn_consume(w, c, buf, (size_t)r);
            }
            if (!c->closed) conn_flush(w, c);
        }
    }
    free(buf);
    return NULL;
}

/* ---------------- members mode (-m): joining and answering the node ---------------- */

/* epoll tags of the main thread's loop: kind in the high word, index in the low */
enum { TAG_LISTEN = 1, TAG_INBOUND = 2, TAG_FLOOD = 3 };
#define TAG(kind, i) ((uint64_t)(kind) << 32 | (uint32_t)(i))

static void peer_listen(unsigned i)
{
    peers[i].listen_fd = bench_listen_loopback(16, &peers[i].cport);
}

static void inbound_close(int ep, unsigned slot)
{
    struct inbound *in = inbound[slot];
    epoll_ctl(ep, EPOLL_CTL_DEL, in->fd, NULL);
    close(in->fd);
    free(in);
    inbound[slot] = NULL;
}

/* Reads what the node sent to one of our peers and answers every PING/MEET
 * with that peer's PONG. The socket is blocking for writes (a PONG never goes
 * out in pieces) and read with MSG_DONTWAIT. */
static void inbound_read(int ep, unsigned slot)
{
    struct inbound *in = inbound[slot];
    ssize_t r = recv(in->fd, in->buf + in->len, INBOUND_BUF - in->len, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        inbound_close(ep, slot);      /* the node may reconnect; the listener stays */
        return;
    }
    if (r < 0) return;
    in->len += (size_t)r;
    size_t off = 0;
    while (in->len - off >= 8) {
        const uint8_t *f = in->buf + off;
        uint32_t totlen = 0;
        bus_peek_totlen(f, in->len - off, &totlen);     /* the loop ensures 8 bytes */
        if (memcmp(f, BUS_SIG, 4) != 0 || totlen < BUS_HEADER_LEN || totlen > INBOUND_BUF) {
            fprintf(stderr, "gossip_flood: node sent a bad frame to a peer; closing\n");
            inbound_close(ep, slot);
            return;
        }
        if (in->len - off < totlen) break;
        unsigned type = 0;
        bus_peek_type(f, totlen, &type);                /* totlen >= a header */
        if (type == BUS_PING || type == BUS_MEET) {
            struct peer *p = &peers[in->peer];
            const uint8_t *sender = bus_peek_sender(f, totlen);
            if (!have_node_name && sender && bus_name_is_valid(sender)) {
                memcpy(node_name, sender, BUS_NAME_LEN);
                have_node_name = true;
            }
            if (send(in->fd, p->pong, p->pong_len, MSG_NOSIGNAL) != (ssize_t)p->pong_len) {
                inbound_close(ep, slot);
                return;
            }
            p->pongs_sent++;
        }
        off += totlen;
    }
    memmove(in->buf, in->buf + off, in->len - off);
    in->len -= off;
}

static void inbound_accept(int ep, unsigned peer)
{
    for (;;) {
        int fd = accept(peers[peer].listen_fd, NULL, NULL);   /* blocking: see inbound_read */
        if (fd < 0) return;
        unsigned slot = 0;
        while (slot < MAX_INBOUND && inbound[slot]) slot++;
        if (slot == MAX_INBOUND) { close(fd); continue; }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct inbound *in = calloc(1, sizeof *in);
        if (!in) bench_die("calloc");
        in->fd = fd;
        in->peer = peer;
        inbound[slot] = in;
        if (slot >= n_inbound) n_inbound = slot + 1;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG(TAG_INBOUND, slot)};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) bench_die("epoll_ctl");
    }
}

/* Runs the main thread's loop until `until` (monotonic seconds): accepts the
 * node's connections to our peers and answers its PINGs; during the join it
 * also drains the flood links (their PONGs to our MEETs), counted in join_w. */
static void service(int ep, double until, struct worker *join_w, struct conn *conns)
{
    struct epoll_event evs[64];
    for (double now = bench_mono_s(); now < until; now = bench_mono_s()) {
        int ms = (int)((until - now) * 1000) + 1;
        int n = epoll_wait(ep, evs, 64, ms < 50 ? ms : 50);
        if (n < 0 && errno != EINTR) bench_die("epoll_wait");
        for (int i = 0; i < n; i++) {
            unsigned kind = (unsigned)(evs[i].data.u64 >> 32), idx = (uint32_t)evs[i].data.u64;
            if (kind == TAG_LISTEN) inbound_accept(ep, idx);
            else if (kind == TAG_INBOUND && inbound[idx]) inbound_read(ep, idx);
            else if (kind == TAG_FLOOD && join_w && !conns[idx].closed) {
                uint8_t buf[16384];
                ssize_t r = read(conns[idx].fd, buf, sizeof buf);
                if (r == 0) conn_close(join_w, &conns[idx], "server closed the link while joining");
                else if (r > 0) conn_consume(join_w, &conns[idx], buf, (size_t)r);
            }
        }
    }
}

static unsigned peers_joined(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < opt.k; i++) n += peers[i].pongs_sent > 0;
    return n;
}

/* Each peer sends its MEET on its flood link; the node then connects back to
 * the peer's listening port and PINGs, and our PONG completes the handshake
 * (§5.3). Returns the number of peers the node took in. */
static unsigned join_cluster(int ep, struct conn *conns)
{
    struct worker join_w;
    memset(&join_w, 0, sizeof join_w);
    join_w.epfd = ep;
    for (unsigned i = 0; i < opt.k; i++) {
        struct peer *p = &peers[i];
        if (send(conns[i].fd, p->meet, p->meet_len, MSG_NOSIGNAL) != (ssize_t)p->meet_len)
            bench_die("send MEET");
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG(TAG_FLOOD, i)};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) < 0) bench_die("epoll_ctl");
    }
    double deadline = bench_mono_s() + JOIN_TIMEOUT;
    while (peers_joined() < opt.k && bench_mono_s() < deadline && !join_w.closed)
        service(ep, bench_mono_s() + 0.05, &join_w, conns);
    /* let the node process the PONGs that renamed its handshake records */
    service(ep, bench_mono_s() + 0.3, &join_w, conns);
    for (unsigned i = 0; i < opt.k; i++) {
        if (!conns[i].closed) epoll_ctl(ep, EPOLL_CTL_DEL, conns[i].fd, NULL);
        conns[i].to_write = opt.window;    /* PONGs to the MEETs gave no credit */
    }
    if (join_w.error[0]) fprintf(stderr, "gossip_flood: %s\n", join_w.error);
    return join_w.closed ? 0 : peers_joined();
}

static uint64_t total(struct worker *ws, _Atomic uint64_t *(*field)(struct worker *))
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < opt.threads; i++)
        sum += atomic_load_explicit(field(&ws[i]), memory_order_relaxed);
    return sum;
}
static _Atomic uint64_t *f_pongs(struct worker *w) { return &w->pongs; }
static _Atomic uint64_t *f_others(struct worker *w) { return &w->others; }
static _Atomic uint64_t *f_closed(struct worker *w) { return &w->closed; }

static void usage(void)
{
    fprintf(stderr, "usage: gossip_flood -p busport [-h ipv4] [-k conns] [-w window] "
                    "[-t seconds] [-g gossip] [-j threads] [-W warmup] [-P server-pid] [-m] [-T pkidir]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int ch;
    while ((ch = getopt(argc, argv, "h:p:k:w:t:g:j:W:P:mT:")) != -1) {
        switch (ch) {
        case 'h': opt.host = optarg; break;
        case 'p': opt.port = atoi(optarg); break;
        case 'k': opt.k = (unsigned)atoi(optarg); break;
        case 'w': opt.window = (unsigned)atoi(optarg); break;
        case 't': opt.seconds = atof(optarg); break;
        case 'g': opt.gossip = (unsigned)atoi(optarg); break;
        case 'j': opt.threads = (unsigned)atoi(optarg); break;
        case 'W': opt.warmup = atof(optarg); break;
        case 'P': opt.pid = atol(optarg); break;
        case 'm': opt.members = true; break;
        case 'T': opt.tls_dir = optarg; break;
        default: usage();
        }
    }
    if (opt.port <= 0 || opt.port > 65535 || opt.k == 0 || opt.k > 1000 || opt.window == 0 ||
        opt.seconds <= 0 || opt.gossip > 64 || opt.threads == 0 || opt.warmup < 0 ||
        (opt.tls_dir && opt.members))
        usage();
    if (opt.tls_dir) tls_setup();
    if (opt.threads > opt.k) opt.threads = opt.k;

    rng_state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;

    struct worker *ws = calloc(opt.threads, sizeof *ws);
    struct conn *conns = calloc(opt.k, sizeof *conns);
    peers = calloc(opt.k, sizeof *peers);
    if (!ws || !conns || !peers) bench_die("calloc");
    int ep = epoll_create1(0);        /* the main thread's loop (-m: listeners, inbound) */
    if (ep < 0) bench_die("epoll_create1");
    for (unsigned i = 0; i < opt.k; i++) {
        bench_random_name(peers[i].name, &rng_state);
        peers[i].listen_fd = -1;
        if (opt.members) {
            peer_listen(i);
            build_member_frames(i);
            struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG(TAG_LISTEN, i)};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, peers[i].listen_fd, &ev) < 0) bench_die("epoll_ctl");
        } else {
            peers[i].cport = (uint16_t)(40000 + i);   /* never listened on: no MEET */
        }
    }
    for (unsigned i = 0; i < opt.k; i++) {
        build_frames(&conns[i], i);
        conns[i].fd = connect_one(&conns[i]);
        conns[i].to_write = opt.window;
    }
    unsigned joined = 0;
    if (opt.members) {
        joined = join_cluster(ep, conns);
        if (joined < opt.k) {
            fprintf(stderr, "gossip_flood: the node took in %u of %u peers within %.0f s\n",
                    joined, opt.k, JOIN_TIMEOUT);
            return 1;
        }
        /* now that the node's name is known, gossip may name it too */
        for (unsigned i = 0; i < opt.k; i++) build_frames(&conns[i], i);
    }
    /* connections are dealt to threads in contiguous runs */
    unsigned base = 0;
    for (unsigned t = 0; t < opt.threads; t++) {
        struct worker *w = &ws[t];
        w->nconns = opt.k / opt.threads + (t < opt.k % opt.threads);
        w->conns = conns + base;
        base += w->nconns;
        w->epfd = epoll_create1(0);
        if (w->epfd < 0) bench_die("epoll_create1");
        for (unsigned i = 0; i < w->nconns; i++) {
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &w->conns[i]};
            if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->conns[i].fd, &ev) < 0) bench_die("epoll_ctl");
        }
    }
    for (unsigned t = 0; t < opt.threads; t++)
        if (pthread_create(&ws[t].thread, NULL, worker_main, &ws[t]) != 0)
            bench_die("pthread_create");

    /* warm-up, then the counted window; meanwhile the main thread answers the
     * node's own PINGs to our peers (-m) */
    service(ep, bench_mono_s() + opt.warmup, NULL, conns);
    uint64_t p0 = total(ws, f_pongs), o0 = total(ws, f_others);
    static struct bench_thread_cpu th0, th1;
    if (opt.pid) bench_thread_cpu_sample(opt.pid, &th0);
    double t0 = bench_mono_s();
    service(ep, t0 + opt.seconds, NULL, conns);
    uint64_t p1 = total(ws, f_pongs), o1 = total(ws, f_others);
    if (opt.pid) bench_thread_cpu_sample(opt.pid, &th1);
    double t1 = bench_mono_s();
    atomic_store_explicit(&stop_flag, true, memory_order_relaxed);
    for (unsigned t = 0; t < opt.threads; t++) pthread_join(ws[t].thread, NULL);

    uint64_t closed = total(ws, f_closed);
    double secs = t1 - t0;
    uint64_t pongs = p1 - p0;
    printf("pongs=%llu others=%llu seconds=%.3f pongs_per_sec=%.0f conns=%u window=%u "
           "gossip=%u threads=%u closed=%llu members=%u",
           (unsigned long long)pongs, (unsigned long long)(o1 - o0), secs, pongs / secs,
           opt.k, opt.window, opt.gossip, opt.threads, (unsigned long long)closed, joined);
    if (opt.pid) {
        /* all threads' run time, the sum of the per-thread figures below */
        double cpu = th0.total_ns && th1.total_ns >= th0.total_ns
                         ? (th1.total_ns - th0.total_ns) / 1e9 : -1;
        printf(" server_cpu=%.3f pings_per_cpu_sec=%.0f", cpu, cpu > 0 ? pongs / cpu : 0.0);
        bench_thread_cpu_print(&th0, &th1);
    }
    printf("\n");
    for (unsigned i = 0; i < opt.k; i++) {
        if (!conns[i].closed) {
            SSL_free(conns[i].ssl);
            close(conns[i].fd);
        }
        for (unsigned v = 0; v < FRAME_VARIANTS; v++) free(conns[i].frames[v]);
    }
    int rc = 0;
    for (unsigned t = 0; t < opt.threads; t++) {
        if (ws[t].error[0]) {
            fprintf(stderr, "gossip_flood: %s\n", ws[t].error);
            rc = 1;
        }
        close(ws[t].epfd);
    }
    if (pongs == 0) {
        fprintf(stderr, "gossip_flood: no PONG in the counted window\n");
        rc = 1;
    }
    for (unsigned i = 0; i < n_inbound; i++)
        if (inbound[i]) inbound_close(ep, i);
    for (unsigned i = 0; i < opt.k; i++) {
        if (peers[i].listen_fd >= 0) close(peers[i].listen_fd);
        free(peers[i].meet);
        free(peers[i].pong);
    }
    close(ep);
    free(peers);
    free(conns);
    free(ws);
    return rc;
}

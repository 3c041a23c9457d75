/* test_link.c - the peer link layer (actors/bus/link.c, link_listen.c) over real
 * loopback sockets: runtime threads run in-process, the bus listener is on a
 * free port, and the test plays the peer with plain blocking sockets and the
 * captured 7.0.15 frames of tests/vectors. A stub actor stands in for the
 * state actor and queues every event and frame it gets for the test to check.
 *
 * The PONG answers come from the real gossip_build over a one-node snapshot
 * published here. Timing waits are generous (seconds) but only the failure
 * path waits that long; the whole file runs in well under 5 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "actors/config/config.h"
#include "actors/bus/link.h"
#include "actors/bus/bus_dstats.h"
#include "actors/bus/link_pressure.h"
#include "actors/state/state.h"
#include "proto/bus.h"
#include "tests/unit/bus_msg_same.h"
#include "tests/unit/state_fixture.h"
#include "tests/unit/unit.h"

#define MY_NAME "0123456789abcdef0123456789abcdef01234567"
#define PEER_NAME "fedcba9876543210fedcba9876543210fedcba98"

/* ---------------- the stub state actor ---------------- */

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static rt_msg_t *q_head, **q_tail = &q_head;

static void stub_behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    (void)self;
    pthread_mutex_lock(&q_lock);
    msg->next = NULL;
    *q_tail = msg;
    q_tail = &msg->next;
    pthread_cond_broadcast(&q_cond);
    pthread_mutex_unlock(&q_lock);
}

static link_id_t msg_id(rt_msg_t *m)
{
    return m->type == STATE_MSG_LINK_EVENT ? ((link_event_t *)m)->id : ((link_frame_t *)m)->id;
}

/* Removes and returns the first queued message of `type` for link `id` (0:
 * any link) and, for events, of `kind` (0: any); NULL after timeout_ms. */
static rt_msg_t *wait_msg(uint32_t type, link_id_t id, int kind, int timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) { dl.tv_sec++; dl.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&q_lock);
    for (;;) {
        for (rt_msg_t **pp = &q_head; *pp; pp = &(*pp)->next) {
            rt_msg_t *m = *pp;
            if (m->type != type || (id && msg_id(m) != id)) continue;
            if (type == STATE_MSG_LINK_EVENT && kind && ((link_event_t *)m)->kind != kind) continue;
            *pp = m->next;
            if (!*pp) q_tail = pp;
            pthread_mutex_unlock(&q_lock);
            return m;
        }
        if (pthread_cond_timedwait(&q_cond, &q_lock, &dl) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&q_lock);
    return NULL;
}

static link_event_t *wait_event(link_id_t id, int kind, int timeout_ms)
{
    return (link_event_t *)wait_msg(STATE_MSG_LINK_EVENT, id, kind, timeout_ms);
}

static link_frame_t *wait_frame(link_id_t id, int timeout_ms)
{
    return (link_frame_t *)wait_msg(STATE_MSG_FRAME, id, 0, timeout_ms);
}

static int queued_for(link_id_t id)
{
    int n = 0;
    pthread_mutex_lock(&q_lock);
    for (rt_msg_t *m = q_head; m; m = m->next) n += msg_id(m) == id;
    pthread_mutex_unlock(&q_lock);
    return n;
}

static void drop_queue(void)
{
    pthread_mutex_lock(&q_lock);
    while (q_head) {
        rt_msg_t *m = q_head;
        q_head = m->next;
        free(m);
    }
    q_tail = &q_head;
    pthread_mutex_unlock(&q_lock);
}

/* ---------------- environment (set up once for the file) ---------------- */

static rt_actor_t stub_state;
static cluster_snapshot_t *base_snap;   /* the snapshot publish_snapshot made */
static int bus_port;
static bool env_ok;

/* Myself, plus the sender of bus-ping-3gossip.bin as a known node (PINGs
 * from unknown senders are answered but not forwarded). */
static void publish_snapshot(void)
{
    cluster_snapshot_t *s = calloc(1, sizeof *s);
    node_view_t *me = calloc(2, sizeof *me);
    me[0].hostname = me[1].hostname = "";
    size_t plen;
    uint8_t *ping = unit_read_file(VECTOR_PATH("bus-ping-3gossip.bin"), &plen);
    if (ping && plen >= BUS_HEADER_LEN) {
        bus_header_t h;
        bus_header_decode(ping, &h);
        memcpy(me[1].name, h.sender, 40);
        strcpy(me[1].ip, "127.0.0.1");
        me[1].flags = NODE_MASTER;
        me[1].master = -1;
    }
    free(ping);
    memcpy(me->name, MY_NAME, 40);
    strcpy(me->ip, "127.0.0.1");
    me->port = 30001;
    me->cport = 40001;
    me->flags = NODE_MYSELF | NODE_MASTER;
    me->master = -1;
    s->nodes = me;
    s->node_count = 2;
    s->myself = 0;
    memcpy(s->hdr.sender, MY_NAME, 40);
    s->hdr.port = 30001;
    s->hdr.cport = 40001;
    s->hdr.flags = NODE_MYSELF | NODE_MASTER;
    s->hdr.ver = BUS_PROTO_VER;
    for (int i = 0; i < SLOT_COUNT; i++) s->slot_owner[i] = s->migrating_to[i] = s->importing_from[i] = -1;
    /* never freed: the cell has no free function and the snapshot lives for the process */
    rt_snap_init(&g_cluster_snapshot, s, NULL);
    base_snap = s;
}

static bool env(void)
{
    static bool tried;
    if (tried) return env_ok;
    tried = true;
    publish_snapshot();
    rt_thread_t *t0 = rt_thread_create("lk0"), *t1 = rt_thread_create("lk1"), *ts = rt_thread_create("lkstate");
    if (!t0 || !t1 || !ts) return false;
    rt_actor_init(&stub_state, ts, "stub-state", stub_behaviour, NULL);
    if (rt_thread_start(t0) || rt_thread_start(t1) || rt_thread_start(ts)) return false;
    rt_thread_t *threads[2] = { t0, t1 };
    char addrs[1][256] = { "127.0.0.1" };
    for (int p = 21700 + (int)(getpid() % 400); p < 22700; p += 7) {
        if (links_start(addrs, 1, p, threads, 2, &stub_state) == 0) {
            bus_port = p;
            env_ok = true;
            break;
        }
    }
    return env_ok;
}

/* ---------------- the test's side of the sockets ---------------- */

static void set_timeout(int fd, int ms)
{
    struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) { close(fd); return -1; }
    set_timeout(fd, 2000);
    return fd;
}

/* A listening socket on a free loopback port; *port gets the port. */
static int raw_listen(int *port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rcvbuf) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in sa = { .sin_family = AF_INET };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    socklen_t sl = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static int raw_accept(int lfd)
{
    struct pollfd p = { .fd = lfd, .events = POLLIN };
    if (poll(&p, 1, 2000) != 1) return -1;
    int fd = accept(lfd, NULL, NULL);
    if (fd >= 0) set_timeout(fd, 2000);
    return fd;
}

static bool send_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static bool recv_all(int fd, uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t n = recv(fd, buf, len, 0);
        if (n <= 0) return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* Reads one frame; returns a malloc'ed copy (and its length) or NULL. */
static uint8_t *recv_frame(int fd, size_t *len)
{
    uint8_t head[8];
    if (!recv_all(fd, head, 8)) return NULL;
    uint32_t totlen = (uint32_t)head[4] << 24 | (uint32_t)head[5] << 16 | (uint32_t)head[6] << 8 | head[7];
    if (memcmp(head, "RCmb", 4) != 0 || totlen < 8 || totlen > 16 * 1024 * 1024) return NULL;
    uint8_t *buf = malloc(totlen);
    memcpy(buf, head, 8);
    if (!recv_all(fd, buf + 8, totlen - 8)) { free(buf); return NULL; }
    *len = totlen;
    return buf;
}

/* True when the peer closed: recv sees EOF (or a reset) within 2 s. */
static bool sees_eof(int fd)
{
    uint8_t b[4096];
    for (;;) {
        ssize_t n = recv(fd, b, sizeof b, 0);
        if (n == 0) return true;
        if (n < 0) return errno == ECONNRESET;
    }
}

static uint8_t *vector(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", SHOAL_VECTORS_DIR, name);
    return unit_read_file(path, len);
}

/* Connects a raw peer and returns the inbound link id the layer announced. */
static link_id_t accept_peer(int *fd)
{
    *fd = raw_connect(bus_port);
    if (*fd < 0) return 0;
    link_event_t *e = wait_event(0, LINK_EV_ACCEPTED, 2000);
    if (!e) return 0;
    link_id_t id = e->outbound ? 0 : e->id;
    free(e);
    return id;
}

static void wait_links_gone(size_t n)
{
    for (int i = 0; i < 200 && links_count() > n; i++) usleep(10000);
}

/* True when f carries exactly the frames at frames[0..len), back to back
 * and in order, each as one record holding what bus_decode says of it
 * (slot bitmap included), its views in the record's own copy of its body. */
static bool forwards(link_frame_t *f, const uint8_t *frames, size_t len)
{
    bus_msg_t *ref = malloc(sizeof *ref);
    bool ok = ref != NULL;
    size_t off = 0;
    unsigned n = 0;
    for (link_rec_t *r = link_frame_next(f, NULL); ok && r; r = link_frame_next(f, r), n++) {
        uint32_t tl = 0;
        ok = bus_peek_totlen(frames + off, len - off, &tl) && tl <= len - off &&
             bus_decode(frames + off, tl, ref) == BUS_OK && r->msg.body == r->body && bus_msg_same(&r->msg, ref);
        off += tl;
    }
    free(ref);
    return ok && off == len && n == f->count;
}

/* Wire bytes of the frames f carries (their totlen, summed). */
static size_t wire_len(link_frame_t *f)
{
    size_t n = 0;
    for (link_rec_t *r = link_frame_next(f, NULL); r; r = link_frame_next(f, r)) n += r->msg.hdr.totlen;
    return n;
}

/* ---------------- tests ---------------- */

/* CLUSTER INFO's message counters, summed over the threads (bus_dstats.h). */
static long long rx_count(unsigned type)
{
    bus_dstats_sum_t st;
    bus_dstats_sum(&st);
    return st.received[type];
}

static long long tx_count(unsigned type)
{
    bus_dstats_sum_t st;
    bus_dstats_sum(&st);
    return st.sent[type];
}

TEST(link_inbound_ping_answered_with_pong_and_forwarded)
{
    REQUIRE(env());
    drop_queue();
    size_t plen;
    uint8_t *ping = vector("bus-ping-3gossip.bin", &plen);
    REQUIRE(ping);
    long long rx0 = rx_count(BUS_PING), tx0 = tx_count(BUS_PONG);
    int fd;
    link_id_t id = accept_peer(&fd);
    REQUIRE(id != 0);
    REQUIRE(send_all(fd, ping, plen));

    size_t n = 0;
    uint8_t *pong = recv_frame(fd, &n);
    REQUIRE(pong);
    bus_msg_t *m = malloc(sizeof *m);
    CHECK_EQ_INT(bus_decode(pong, n, m), BUS_OK);
    CHECK_EQ_INT(m->hdr.type, BUS_PONG);
    CHECK_EQ_STR(m->hdr.sender, MY_NAME);
    CHECK_EQ_INT(m->hdr.port, 30001);

    link_frame_t *f = wait_frame(id, 2000);
    REQUIRE(f);
    CHECK(!f->outbound);
    CHECK(forwards(f, ping, plen));
    CHECK_EQ_STR(f->peer_ip, "127.0.0.1");
    CHECK_EQ_STR(f->local_ip, "127.0.0.1");
    CHECK_EQ_STR(f->node_name, "");
    CHECK(f->received_ms > 0);
    CHECK_EQ_INT(rx_count(BUS_PING) - rx0, 1);
    CHECK_EQ_INT(tx_count(BUS_PONG) - tx0, 1);
    free(f);

    /* a PING from a sender we do not know is answered, but it cannot change
     * cluster state, so it stays on the link's thread */
    memcpy(ping + 40, "9999999999999999999999999999999999999999", 40);
    REQUIRE(send_all(fd, ping, plen));
    free(pong);
    pong = recv_frame(fd, &n);
    REQUIRE(pong);
    CHECK_EQ_INT(bus_decode(pong, n, m), BUS_OK);
    CHECK_EQ_INT(m->hdr.type, BUS_PONG);

    /* MEET is answered the same way */
    size_t mlen;
    uint8_t *meet = vector("bus-meet.bin", &mlen);
    REQUIRE(meet);
    REQUIRE(send_all(fd, meet, mlen));
    free(pong);
    pong = recv_frame(fd, &n);
    REQUIRE(pong);
    CHECK_EQ_INT(bus_decode(pong, n, m), BUS_OK);
    CHECK_EQ_INT(m->hdr.type, BUS_PONG);
    f = wait_frame(id, 2000);
    REQUIRE(f);
    CHECK(forwards(f, meet, mlen));
    free(f);

    /* the peer hangs up: CLOSED for this inbound link */
    close(fd);
    link_event_t *e = wait_event(id, LINK_EV_CLOSED, 2000);
    CHECK(e != NULL);
    if (e) CHECK(!e->outbound && !e->sendbuf_limit);
    free(e);
    free(pong);
    free(meet);
    free(m);
    free(ping);
}

TEST(link_cut_frames_wait_and_back_to_back_frames_split)
{
    REQUIRE(env());
    drop_queue();
    size_t flen, slen;
    uint8_t *fail = vector("bus-fail.bin", &flen);
    uint8_t *stream = vector("bus-stream-3frames-one-segment.bin", &slen);
    REQUIRE(fail && stream);
    int fd;
    link_id_t id = accept_peer(&fd);
    REQUIRE(id != 0);

    /* a truncated frame: nothing happens until the rest arrives */
    REQUIRE(send_all(fd, fail, 5));
    usleep(50000);
    REQUIRE(send_all(fd, fail + 5, 1000));
    usleep(100000);
    CHECK_EQ_INT(queued_for(id), 0);
    REQUIRE(send_all(fd, fail + 1005, flen - 1005));
    link_frame_t *f = wait_frame(id, 2000);
    REQUIRE(f);
    CHECK(forwards(f, fail, flen));
    free(f);

    /* three frames in one write reach the state actor in order; frames of one
     * read round travel together in one message, back to back */
    REQUIRE(send_all(fd, stream, slen));
    size_t off = 0;
    int frames = 0;
    while (off < slen) {
        f = wait_frame(id, 2000);
        REQUIRE(f);
        size_t wl = wire_len(f);
        REQUIRE(wl > 0);
        CHECK(off + wl <= slen);
        if (off + wl <= slen) CHECK(forwards(f, stream + off, wl));
        frames += (int)f->count;
        off += wl;
        free(f);
    }
    CHECK_EQ_INT(off, slen);
    CHECK_EQ_INT(frames, 3);
    CHECK_EQ_INT(links_count() > 0, 1);
    close(fd);
    free(wait_event(id, LINK_EV_CLOSED, 2000));
    free(fail);
    free(stream);
}

/* Twenty PINGs in one write: the forwarded message outgrows its first
 * allocation within the read round, and the records already in it move with
 * their views (the old buffer is freed, so a view left behind is caught). */
TEST(link_records_move_with_their_views_when_a_round_grows)
{
    REQUIRE(env());
    drop_queue();
    size_t plen;
    uint8_t *ping = vector("bus-ping-3gossip.bin", &plen);
    REQUIRE(ping);
    enum { COPIES = 20 };
    uint8_t *burst = malloc(plen * COPIES);
    REQUIRE(burst);
    for (int i = 0; i < COPIES; i++) memcpy(burst + (size_t)i * plen, ping, plen);
    REQUIRE(link_rec_size(plen - BUS_HEADER_LEN) * COPIES > 16384 + sizeof(link_frame_t));
    int fd;
    link_id_t id = accept_peer(&fd);
    REQUIRE(id != 0);
    REQUIRE(send_all(fd, burst, plen * COPIES));
    size_t off = 0;
    unsigned most = 0;
    while (off < plen * COPIES) {
        link_frame_t *f = wait_frame(id, 2000);
        REQUIRE(f);
        size_t wl = wire_len(f);
        REQUIRE(wl > 0 && off + wl <= plen * COPIES);
        CHECK(forwards(f, burst + off, wl));
        if (f->count > most) most = f->count;
        off += wl;
        free(f);
    }
    CHECK(most * link_rec_size(plen - BUS_HEADER_LEN) > 16384);   /* one message did grow */
    close(fd);
    free(wait_event(id, LINK_EV_CLOSED, 2000));
    free(burst);
    free(ping);
}

TEST(link_invalid_frame_dropped_link_kept)
{
    REQUIRE(env());
    drop_queue();
    size_t flen, plen;
    uint8_t *fail = vector("bus-fail.bin", &flen);
    uint8_t *ping = vector("bus-ping-3gossip.bin", &plen);
    REQUIRE(fail && ping);
    int fd;
    link_id_t id = accept_peer(&fd);
    REQUIRE(id != 0);

    /* a FAIL four bytes longer than a FAIL can be: framed, then dropped */
    uint8_t *bad = calloc(1, flen + 4);
    memcpy(bad, fail, flen);
    uint32_t t = (uint32_t)flen + 4;
    bad[4] = (uint8_t)(t >> 24); bad[5] = (uint8_t)(t >> 16); bad[6] = (uint8_t)(t >> 8); bad[7] = (uint8_t)t;
    long long fails0 = rx_count(BUS_FAIL);
    REQUIRE(send_all(fd, bad, flen + 4));
    /* then a good PING on the same link: answered, forwarded */
    REQUIRE(send_all(fd, ping, plen));
    size_t n;
    uint8_t *pong = recv_frame(fd, &n);
    CHECK(pong != NULL);
    link_frame_t *f = wait_frame(id, 2000);
    REQUIRE(f);
    CHECK(forwards(f, ping, plen));   /* the PING, not the bad FAIL */
    free(f);
    CHECK_EQ_INT(rx_count(BUS_FAIL) - fails0, 1);   /* counted, as 7.0.15 does */
    CHECK_EQ_INT(queued_for(id), 0);                       /* no CLOSED */

    /* the debug drop filter: a PING is counted but neither answered nor forwarded */
    atomic_store(&g_bus_drop_filter, BUS_PING);
    long long pings0 = rx_count(BUS_PING);
    REQUIRE(send_all(fd, ping, plen));
    REQUIRE(send_all(fd, fail, flen));        /* a marker frame behind it */
    f = wait_frame(id, 2000);
    REQUIRE(f);
    CHECK(forwards(f, fail, flen));           /* the FAIL came, the PING did not */
    free(f);
    CHECK_EQ_INT(rx_count(BUS_PING) - pings0, 1);
    atomic_store(&g_bus_drop_filter, -1);
    set_timeout(fd, 200);
    uint8_t b[16];
    CHECK(recv(fd, b, sizeof b, 0) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));   /* no PONG */

    close(fd);
    free(wait_event(id, LINK_EV_CLOSED, 2000));
    free(pong);
    free(bad);
    free(fail);
    free(ping);
}

TEST(link_bad_signature_or_length_closes)
{
    REQUIRE(env());
    drop_queue();
    size_t plen;
    uint8_t *ping = vector("bus-ping-3gossip.bin", &plen);
    REQUIRE(ping);

    int fd;
    link_id_t id = accept_peer(&fd);
    REQUIRE(id != 0);
    ping[3] = 'X';                      /* "RCmX" */
    REQUIRE(send_all(fd, ping, plen));
    link_event_t *e = wait_event(id, LINK_EV_CLOSED, 2000);
    CHECK(e != NULL);
    free(e);
    CHECK(sees_eof(fd));
    CHECK_EQ_INT(queued_for(id), 0);    /* nothing was forwarded */
    close(fd);

    /* totlen below the 2256 minimum */
    ping[3] = 'b';
    ping[4] = 0; ping[5] = 0; ping[6] = 0x08; ping[7] = 0xcf;   /* 2255 */
    id = accept_peer(&fd);
    REQUIRE(id != 0);
    REQUIRE(send_all(fd, ping, 8));
    e = wait_event(id, LINK_EV_CLOSED, 2000);
    CHECK(e != NULL);
    free(e);
    CHECK(sees_eof(fd));
    close(fd);
    free(ping);
}

TEST(link_outbound_connect_send_receive_rtt_and_links_reply)
{
    REQUIRE(env());
    drop_queue();
    size_t plen, qlen;
    uint8_t *ping = vector("bus-ping-3gossip.bin", &plen);
    uint8_t *pong = vector("bus-pong.bin", &qlen);
    REQUIRE(ping && pong);
    int port;
    int lfd = raw_listen(&port, 0);
    REQUIRE(lfd >= 0);
    link_id_t id = link_connect(PEER_NAME, "127.0.0.1", port);
    REQUIRE(id != 0);
    int fd = raw_accept(lfd);
    REQUIRE(fd >= 0);
    link_event_t *e = wait_event(id, LINK_EV_CONNECTED, 2000);
    REQUIRE(e);
    CHECK(e->outbound);
    CHECK_EQ_STR(e->node_name, PEER_NAME);
    free(e);

    long long tx0 = tx_count(BUS_PING);
    link_send(id, ping, plen);
    size_t n;
    uint8_t *got = recv_frame(fd, &n);
    REQUIRE(got);
    CHECK_EQ_INT(n, plen);
    CHECK(memcmp(got, ping, plen) == 0);
    CHECK_EQ_INT(tx_count(BUS_PING) - tx0, 1);
    free(got);

    usleep(20000);                      /* a measurable round trip */
    REQUIRE(send_all(fd, pong, qlen));
    link_frame_t *f = wait_frame(id, 2000);
    REQUIRE(f);
    CHECK(f->outbound);
    CHECK_EQ_STR(f->node_name, PEER_NAME);
    CHECK(forwards(f, pong, qlen));
    CHECK_EQ_STR(f->peer_ip, "127.0.0.1");
    free(f);

    /* CLUSTER LINKS: RESP2 flat array of 12, 7.0.15's six fields only */
    resp_buf_t r;
    resp_buf_init(&r, 2);
    link_peer_t peer = { PEER_NAME, id, 0 };
    links_reply(&r, &peer, 1);
    char *text = strndup((const char *)r.data, r.len);
    CHECK(strncmp(text, "*1\r\n*12\r\n$9\r\ndirection\r\n$2\r\nto\r\n$4\r\nnode\r\n$40\r\n" PEER_NAME
                        "\r\n$11\r\ncreate-time\r\n:", strlen("*1\r\n*12\r\n$9\r\ndirection\r\n$2\r\nto\r\n$4\r\nnode\r\n$40\r\n" PEER_NAME
                        "\r\n$11\r\ncreate-time\r\n:")) == 0);
    CHECK(strstr(text, "$6\r\nevents\r\n$1\r\nr\r\n$21\r\nsend-buffer-allocated\r\n:") != NULL);
    const char *used = strstr(text, "$16\r\nsend-buffer-used\r\n:0\r\n");
    CHECK(used != NULL && used[strlen("$16\r\nsend-buffer-used\r\n:0\r\n")] == '\0');
    free(text);
    resp_buf_free(&r);
    /* the round trip is kept for INFO peers */
    link_stats_t st = link_stats_of(id);
    CHECK(st.live);
    CHECK(st.rtt_us >= 15000 && st.rtt_us < 2000000);
    CHECK_EQ_INT(st.bytes_in, qlen);
    CHECK_EQ_INT(st.bytes_out, plen);
    /* a link bound to no peer given, or given as the wrong direction, is not shown */
    resp_buf_init(&r, 3);
    link_peer_t wrong = { PEER_NAME, 0, id };
    links_reply(&r, &wrong, 1);
    CHECK(r.len == 4 && memcmp(r.data, "*0\r\n", 4) == 0);
    resp_buf_free(&r);
    resp_buf_init(&r, 3);
    links_reply(&r, &peer, 1);
    CHECK(r.len > 8 && memcmp(r.data, "*1\r\n%6\r\n", 8) == 0);
    resp_buf_free(&r);

    /* a close asked by the state actor: the peer sees EOF, no event is posted */
    link_close(id);
    CHECK(sees_eof(fd));
    usleep(100000);
    CHECK_EQ_INT(queued_for(id), 0);
    link_send(id, ping, plen);          /* to a gone link: silently dropped */
    close(fd);
    close(lfd);
    free(ping);
    free(pong);
}

TEST(link_connect_failures_reported)
{
    REQUIRE(env());
    drop_queue();
    int port;
    int lfd = raw_listen(&port, 0);
    REQUIRE(lfd >= 0);
    close(lfd);                         /* nothing listens there now */
    link_id_t id = link_connect(PEER_NAME, "127.0.0.1", port);
    REQUIRE(id != 0);
    link_event_t *e = wait_event(id, LINK_EV_CONNECT_FAILED, 2000);
    REQUIRE(e);
    CHECK(e->outbound);
    CHECK_EQ_STR(e->node_name, PEER_NAME);
    free(e);

    id = link_connect(PEER_NAME, "not-an-address", 1234);
    REQUIRE(id != 0);
    e = wait_event(id, LINK_EV_CONNECT_FAILED, 2000);
    CHECK(e != NULL);
    free(e);

    /* ids are never reused */
    link_id_t id2 = link_connect(PEER_NAME, "::1", port);
    CHECK(id2 > id);
    free(wait_event(id2, 0, 2000));
}

TEST(link_sendbuf_limit_closes_link_to_a_peer_that_does_not_read)
{
    REQUIRE(env());
    drop_queue();
    config_error_t err;
    REQUIRE(config_load_string("cluster-link-sendbuf-limit 65536\n", &err) == 0);
    size_t ulen;
    uint8_t *upd = vector("bus-update.bin", &ulen);
    REQUIRE(upd);
    int port;
    int lfd = raw_listen(&port, 4096);
    REQUIRE(lfd >= 0);
    link_id_t id = link_connect(PEER_NAME, "127.0.0.1", port);
    int fd = raw_accept(lfd);           /* accepted, never read */
    REQUIRE(fd >= 0);
    link_event_t *e = wait_event(id, LINK_EV_CONNECTED, 2000);
    REQUIRE(e);
    free(e);
    long long exceeded0 = g_links_buffer_limit_exceeded;
    /* The kernel buffers a few MiB first; then our queue grows past the limit. */
    e = NULL;
    for (int round = 0; round < 100 && !e; round++) {
        for (int i = 0; i < 200; i++) link_send(id, upd, ulen);
        e = wait_event(id, LINK_EV_CLOSED, 20);
    }
    REQUIRE(e);
    CHECK(e->sendbuf_limit);
    CHECK(e->outbound);
    free(e);
    CHECK_EQ_INT(g_links_buffer_limit_exceeded - exceeded0, 1);
    close(fd);
    close(lfd);
    free(upd);
    config_load_string("", &err);
}

/* A captured PING and PUBLISH through a real link to the rules: each is
 * decoded once, on the link's thread, and the state actor applies the
 * link's decoded message as it is. The forwarded message holds no header
 * bytes to decode again, and what the test writes into the link's decoded
 * header (an epoch and an offset no frame carried) is what the rules take;
 * the gossip is read through the views the link moved onto its copy. */
TEST(link_frames_reach_the_rules_decoded_once_by_the_link)
{
    REQUIRE(env());
    drop_queue();
    size_t plen, ulen;
    uint8_t *ping = vector("bus-ping-3gossip.bin", &plen);
    uint8_t *pub = vector("bus-publish.bin", &ulen);
    REQUIRE(ping && pub);
    REQUIRE(bus_judge_len(BUS_PUBLISH, (uint32_t)ulen) > 0);   /* its body is skipped */
    uint8_t *both = malloc(plen + ulen);
    REQUIRE(both);
    memcpy(both, ping, plen);
    memcpy(both + plen, pub, ulen);
    int fd;
    link_id_t id = accept_peer(&fd);
    REQUIRE(id != 0);
    REQUIRE(send_all(fd, both, plen + ulen));
    size_t n;
    free(recv_frame(fd, &n));                  /* the PONG */

    /* one message for the read round, or two if the frames came apart */
    link_frame_t *f[2] = { NULL, NULL };
    unsigned nf = 0, recs = 0;
    while (recs < 2 && nf < 2) {
        f[nf] = wait_frame(id, 2000);
        REQUIRE(f[nf]);
        recs += f[nf++]->count;
    }
    REQUIRE(recs == 2);
    link_rec_t *r = link_frame_next(f[0], NULL);
    link_rec_t *rp = nf == 1 ? link_frame_next(f[0], r) : link_frame_next(f[1], NULL);
    REQUIRE(r && rp);
    /* records, not wire frames: the PING's body and the PUBLISH's header only */
    CHECK_EQ_INT(f[0]->len + (nf == 2 ? f[1]->len : 0), link_rec_size(plen - BUS_HEADER_LEN) + link_rec_size(0));
    CHECK(r->msg.body == r->body && r->msg.body_len == plen - BUS_HEADER_LEN);
    CHECK(memcmp(r->body, ping + BUS_HEADER_LEN, plen - BUS_HEADER_LEN) == 0);
    bus_msg_t *ref = malloc(sizeof *ref);
    REQUIRE(ref);
    REQUIRE(bus_decode(ping, plen, ref) == BUS_OK);
    CHECK(bus_msg_same(&r->msg, ref));
    REQUIRE(bus_decode(pub, ulen, ref) == BUS_OK);
    CHECK_EQ_INT(rp->msg.hdr.type, BUS_PUBLISH);
    CHECK(same_header(&rp->msg.hdr, &ref->hdr));
    CHECK(rp->msg.body == NULL && rp->msg.body_len == 0 && rp->msg.u.publish.message == NULL);
    REQUIRE(bus_decode(ping, plen, ref) == BUS_OK);

    /* the rules, on a state that knows the PING's sender */
    state_t *st = fx_fresh(1);
    int k = state_add_node(st, ref->hdr.sender, NODE_MASTER);
    REQUIRE(k >= 0);
    snprintf(st->nodes[k].ip, sizeof st->nodes[k].ip, "127.0.0.1");
    st->nodes[k].port = ref->hdr.port;
    st->nodes[k].cport = ref->hdr.cport;
    r->msg.hdr.current_epoch = 4242;
    rp->msg.hdr.offset = 777;                 /* the PUBLISH comes second: its offset is the last word */
    CHECK(ref->hdr.current_epoch != 4242 && ref->hdr.offset != 777);
    for (unsigned i = 0; i < nf; i++) state_bus_frame(st, f[i]);
    CHECK_EQ_INT(st->current_epoch, 4242);
    CHECK_EQ_INT(st->nodes[k].repl_offset, 777);
    CHECK(st->nodes[k].in_link == id);        /* bound to the link the frames came on */
    unsigned learned = 0;
    for (unsigned i = 0; i < ref->hdr.count; i++) {
        bus_gossip_t g;
        REQUIRE(bus_msg_gossip(ref, i, &g));
        if ((g.flags & BUS_NODE_NOADDR) || !memcmp(g.name, ref->hdr.sender, BUS_NAME_LEN)) continue;
        CHECK(state_find(st, g.name, NODE_NAME_LEN) >= 0);
        learned++;
    }
    CHECK(learned > 0);
    free(ref);
    for (unsigned i = 0; i < nf; i++) free(f[i]);
    close(fd);
    free(wait_event(id, LINK_EV_CLOSED, 2000));
    free(both);
    free(ping);
    free(pub);
}

static cluster_snapshot_t *kept[8];   /* held, as base_snap, for the leak check */
static unsigned nkept;

/* Publishes a copy of the file's snapshot whose state actor counters are
 * `live` (NULL: none); never freed, as the first. */
static bool publish_with_live(state_live_t *live)
{
    cluster_snapshot_t *s = malloc(sizeof *s);
    if (!s || nkept == 8) { free(s); return false; }
    kept[nkept++] = s;
    *s = *base_snap;
    s->live = live;
    rt_snap_publish(&g_cluster_snapshot, s);
    return true;
}

/* docs/cluster-bus.md §1.6, "Back-pressure": while the state actor has
 * LINK_PRESSURE_HIGH frame messages or more to apply, a link reads nothing
 * (no PONG, nothing forwarded); once they are applied (pending 0) it reads
 * again, in order, within a poll period. A link closed while paused goes
 * cleanly. */
TEST(link_reads_pause_while_the_state_actor_is_behind)
{
    REQUIRE(env());
    drop_queue();
    static state_live_t live;   /* outlives every link that saw it */
    atomic_store(&live.gen, 1); /* odd, as while the state actor works: nothing is digested */
    atomic_store(&live.pending, 0);
    REQUIRE(publish_with_live(&live));
    size_t plen, n;
    uint8_t *ping = vector("bus-ping-3gossip.bin", &plen);
    REQUIRE(ping);
    int fd;
    link_id_t id = accept_peer(&fd);
    REQUIRE(id != 0);

    /* the first PING shows the link the counters; forwarding counts it */
    REQUIRE(send_all(fd, ping, plen));
    free(recv_frame(fd, &n));
    link_frame_t *f = wait_frame(id, 2000);
    REQUIRE(f);
    CHECK(f->counted == &live);
    free(f);
    CHECK_EQ_INT(atomic_load(&live.pending), 1);

    /* behind: two PINGs stay in the socket */
    bus_dstats_sum_t ds0, ds1;
    bus_dstats_sum(&ds0);
    atomic_store(&live.pending, LINK_PRESSURE_HIGH);
    uint8_t *two = malloc(2 * plen);
    REQUIRE(two);
    memcpy(two, ping, plen);
    memcpy(two + plen, ping, plen);
    REQUIRE(send_all(fd, two, 2 * plen));
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    CHECK_EQ_INT(poll(&pfd, 1, 300), 0);          /* no PONG */
    CHECK_EQ_INT(queued_for(id), 0);              /* nothing forwarded */

    /* drained, but not to 0: still paused (resuming needs the digest's regime) */
    atomic_store(&live.pending, 1);
    CHECK_EQ_INT(poll(&pfd, 1, 100), 0);

    /* drained: both answered and forwarded, in order */
    atomic_store(&live.pending, 0);
    uint8_t *p1 = recv_frame(fd, &n), *p2 = p1 ? recv_frame(fd, &n) : NULL;
    CHECK(p1 && p2);
    /* one pause, ended, that lasted the 400 ms above at least (INFO busdigest) */
    bus_dstats_sum(&ds1);
    CHECK_EQ_INT(ds1.pauses - ds0.pauses, 1);
    CHECK_EQ_INT(ds1.resumes - ds0.resumes, 1);
    CHECK(ds1.paused_us - ds0.paused_us >= 350000);
    free(p1);
    free(p2);
    link_frame_t *fs[2] = { NULL, NULL };
    unsigned nf = 0, recs = 0;
    while (recs < 2 && nf < 2 && (fs[nf] = wait_frame(id, 2000)) != NULL) recs += fs[nf++]->count;
    CHECK_EQ_INT(recs, 2);
    if (nf == 1) CHECK(forwards(fs[0], two, 2 * plen));
    if (nf == 2) CHECK(forwards(fs[0], ping, plen) && forwards(fs[1], ping, plen));
    for (unsigned i = 0; i < nf; i++) free(fs[i]);

    /* closed while paused: the CLOSED event, the socket closed, and a poll
     * that finds the pending count low later touches nothing */
    atomic_store(&live.pending, LINK_PRESSURE_HIGH);
    REQUIRE(send_all(fd, ping, plen));
    CHECK_EQ_INT(poll(&pfd, 1, 100), 0);
    link_close(id);                               /* no event for a close asked this way */
    CHECK(sees_eof(fd));
    atomic_store(&live.pending, 0);
    usleep(20000);                                /* a few poll periods */
    CHECK_EQ_INT(queued_for(id), 0);
    close(fd);
    REQUIRE(publish_with_live(NULL));
    free(two);
    free(ping);
}

TEST(link_all_links_gone_after_peers_leave)
{
    REQUIRE(env());
    wait_links_gone(0);
    CHECK_EQ_INT(links_count(), 0);
    drop_queue();
}

/* cluster_sim.c - makes one real node believe it is in an N-node cluster, for
 * bench/run.py's cluster_cost section: what one node pays for the bus at
 * N = 100..1000 (targets at N = 1000: CPU <= 0.50 and RSS <= 1.00 of redis's).
 * What it is for: measuring what one node (shoal-node or redis-server 7.0.15)
 * pays for the cluster bus in a large cluster, without running N-1 servers.
 * This program plays the N-1 other members, in one thread on one epoll loop:
 *  - the layout `redis-cli --cluster create --cluster-replicas 1` gives N
 *    nodes on one host: nodes 0..M-1 are masters (M = N/2) with the slot
 *    ranges its lround() split gives, node M + ((i+1) mod M) replicates master
 *    i (its list of replicas is rotated by one before they are dealt), and
 *    node i gets config epoch i+1. The node under test is node 0: master of
 *    the first slot range, config epoch 1 (set here with CLUSTER
 *    SET-CONFIG-EPOCH and ADDSLOTSRANGE on its client port), replicated by
 *    simulated node M+1. Replicas send their master's slots and config epoch
 *    in their headers, as 7.0.15's clusterBuildMessageHdr does.
 *  - every simulated node listens on its own loopback port (its cport; the
 *    node connects to each, as 7.0.15 connects to every known node) and has
 *    its own link to the node's bus port. They join as real nodes do: a MEET
 *    on the link, the node connects back and PINGs, our PONG names us.
 *  - then each simulated node runs the part of 7.0.15's clusterCron that
 *    concerns the node under test, every 100 ms with its own phase: every
 *    10th run one PING to the oldest-pong node of 5 random picks, plus a PING
 *    whenever its last PONG from the node is older than node_timeout/2 and no
 *    PING is pending. What it knows of the node's last PONG comes from its own
 *    PINGs and from the gossip of the other members (7.0.15 takes a gossiped
 *    pong time when it is newer than its own and no PING is pending,
 *    clusterProcessGossipSection): that gossip between simulated members is
 *    not sent anywhere but modelled, see member_cron(). Every PING and PONG
 *    to the node carries wanted = max(3, N/10) gossip entries picked as
 *    clusterSendPing picks them (random nodes but the sender; it would append
 *    PFAIL nodes, and in this steady state there are none), with pong times
 *    drawn from the same model.
 *  - every PING the node sends to a simulated node is answered at once with
 *    that node's PONG (header with its slots, gossip section).
 * It measures, over a counted window after a warm-up: the node's CPU (all
 * threads' schedstat under /proc/<pid>/task/, as % of one core, and per thread
 * name), its RSS at the end, bus bytes in and out per second (everything we
 * write to and read from the node: it has no other peers), frames each way.
 * Then (-F) it plays a failure: a simulated master stops (closes its
 * listener and links), another master sends the node a FAIL about it, and we
 * time until CLUSTER NODES on the node's client port flags it `fail`.
 * The model is deterministic for a seed (-s): it runs in its own time (the
 * steady state's start plus 100 ms cron rounds, members in the order of their
 * phases), never reads what the node does, and takes a member's PING as
 * answered the moment it is sent (the node's PONG comes back within a
 * millisecond or two; late or missing PONGs are counted and reported). So
 * every server run with the same seed gets the same PINGs from the same
 * members at the same moments of the steady state, with the same gossip;
 * only the PONGs answering the node's own PINGs follow what the node does
 * (their gossip comes from a stream of their own, so that the members' PINGs
 * stay the same however many the node sends).
 * What it must never do: listen anywhere but 127.0.0.1, connect anywhere but
 * the node's two ports, or report a figure when the node closed links, did not
 * take all members in, or died. It prints one line of key=value pairs.
 * With -L the members are simulated shoal peers: their frames advertise the
 * light encoding (docs/cluster-bus.md §9) and, on each link where the node's
 * own frames advertised it, they send PINGs and PONGs light (proto/bus_light),
 * as two shoal nodes do. What the node sends light is counted as it is. A
 * node that does not advertise (redis-server, shoal with cluster-light-bus no)
 * gets the plain frames of before, with 8 reserved header bytes set.
 *
 * Usage: cluster_sim -p busport -c clientport -n N [-T node_timeout_ms]
 *                    [-W warmup_s] [-t seconds] [-P pid] [-F] [-J join_timeout_s]
 *                    [-s seed] [-v] [-L]
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_common.h"
#include "bench/cluster_sim_client.h"
#include "proto/bus.h"
#include "proto/bus_light.h"

#define MAX_N 4000
#define NAME_AT 40               /* the sender's name in a header */
#define MAX_GOSSIP 1024

static struct {
    int bus_port, client_port, n;
    long timeout_ms;
    double warmup, seconds, join_timeout;
    long pid;
    bool fail_test, verbose;
    uint64_t seed;
    bool light;
} opt = {0, 0, 0, 15000, 15.0, 30.0, 60.0, 0, false, false, 0, false};

const char bench_prog[] = "cluster_sim";

static void fail_exit(const char *why)
{
    fprintf(stderr, "cluster_sim: %s\n", why);
    exit(1);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);     /* pong times on the wire are Unix seconds */
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64* (bench_rng_next): the model only needs uniform draws. Three
 * streams: the model's (names, phases, the members' crons), the gossip picks
 * of the members' own frames, and those of the PONGs answering the node's
 * PINGs. With the same seed (-s) the first two play the same sequence against
 * either server however many PINGs that server sends us. */
static uint64_t rng_model, rng_frames, rng_answers;
static uint64_t rng(void) { return bench_rng_next(&rng_model); }
static unsigned rnd(unsigned n) { return (unsigned)(rng() % n); }
static unsigned rndf(uint64_t *stream, unsigned n) { return (unsigned)(bench_rng_next(stream) % n); }
static double rnd01(void) { return (double)(rng() >> 11) / 9007199254740992.0; }

/* ---------------- the cluster ---------------- */

struct conn;

struct node {
    char name[BUS_NAME_LEN + 1];
    bool master;
    unsigned master_of;          /* replicas: index of their master */
    unsigned first, last;        /* masters: slot range */
    uint64_t config_epoch;
    uint16_t port, cport;
    bus_header_t hdr;            /* the header it sends (type, totlen, count set per frame) */
    int listen_fd;
    struct conn *out;            /* its link to the node under test */
    /* what this member knows of the node under test (7.0.15 clusterNode fields) */
    int64_t pong_received;       /* ms, model time: its PINGs count as answered when sent */
    unsigned phase;              /* ms into each 100 ms cron round */
    unsigned iteration;
    unsigned awaiting;           /* its PINGs the node has not answered yet */
    int64_t first_sent;          /* ms, wall: when the oldest of those left */
    unsigned pongs_sent;         /* PONGs it sent the node: joined once > 0 */
    bool dead;                   /* stopped by the failure drill */
};

static struct node *nodes;       /* nodes[0] is the node under test */
static unsigned n_nodes, n_masters, wanted;

/* ---------------- links ---------------- */

enum { LINK_OUT = 1, LINK_IN = 2, LISTENER = 3 };

struct conn {
    int fd;
    unsigned kind, node;
    struct bench_skim skim;      /* what the node sends: counted, answered, never kept */
    uint8_t *wbuf;
    size_t wlen, wcap;
    bool want_out, closed;
    bool peer_light;             /* -L: the node advertised the light encoding on this link */
    uint64_t peer_view;          /* -L: the view digest the node's last frame here carried */
    bus_light_tx_t *tx;          /* -L: what the node was last given on this link */
};

static bus_light_pool_t light_pool;   /* -L: the members' tuples (one thread, one pool) */

static int ep;
static struct conn **in_links;   /* the node's links to us, any number per member */
static unsigned n_in, cap_in;

/* counters; the window's figures are differences */
static struct counters {
    uint64_t bytes_to, bytes_from;
    uint64_t pings_to, timeout_pings, random_pings, pongs_to;
    uint64_t late_pongs;             /* the node's PONGs that came over 1 s after the PING */
    uint64_t pings_from, pongs_from, others_from;
    uint64_t gossip_in_pings_from;   /* gossip entries in the node's plain PINGs */
    uint64_t links_closed_by_node;
    uint64_t gossip_applied;
    uint64_t light_to, light_from;   /* light frames each way */
} ctr;

#define TAG(kind, i) ((uint64_t)(kind) << 32 | (uint32_t)(i))

static void conn_events(struct conn *c, uint64_t tag)
{
    struct epoll_event ev = {.events = EPOLLIN | (c->want_out ? EPOLLOUT : 0), .data.u64 = tag};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) bench_die("epoll_ctl");
}

static uint64_t conn_tag(struct conn *c, unsigned slot)
{
    return c->kind == LINK_OUT ? TAG(LINK_OUT, c->node) : TAG(LINK_IN, slot);
}

static void conn_close(struct conn *c)
{
    if (c->closed) return;
    c->closed = true;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->wbuf);
    c->wbuf = NULL;
    if (c->tx) {
        bus_light_tx_reset(c->tx, &light_pool);
        free(c->tx);
        c->tx = NULL;
    }
    c->wlen = c->wcap = 0;
}

static void conn_flush(struct conn *c, unsigned slot)
{
    while (c->wlen > 0 && !c->closed) {
        ssize_t r = send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            ctr.links_closed_by_node++;
            conn_close(c);
            return;
        }
        ctr.bytes_to += (uint64_t)r;
        memmove(c->wbuf, c->wbuf + r, c->wlen - (size_t)r);
        c->wlen -= (size_t)r;
    }
    bool want = c->wlen > 0;
    if (want != c->want_out && !c->closed) {
        c->want_out = want;
        conn_events(c, conn_tag(c, slot));
    }
}

static void conn_queue(struct conn *c, unsigned slot, const uint8_t *p, size_t n)
{
    if (c->closed) return;
    if (c->wlen + n > c->wcap) {
        size_t cap = c->wcap ? c->wcap : 65536;
        while (cap < c->wlen + n) cap *= 2;
        uint8_t *b = realloc(c->wbuf, cap);
        if (!b) bench_die("realloc");
        c->wbuf = b;
        c->wcap = cap;
    }
    memcpy(c->wbuf + c->wlen, p, n);
    c->wlen += n;
    conn_flush(c, slot);
}

static struct conn *conn_new(int fd, unsigned kind, unsigned node)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c) bench_die("calloc");
    c->fd = fd;
    c->kind = kind;
    c->node = node;
    c->skim.want_adv = opt.light;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* as the bus does */
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) bench_die("fcntl");
    return c;
}

static int connect_node(void)
{
    return bench_connect("127.0.0.1", opt.bus_port, "connect to the node's bus port");
}

/* ---------------- frames ---------------- */

static uint8_t frame_buf[BUS_HEADER_LEN + BUS_GOSSIP_LEN * (MAX_GOSSIP + 8)];

/* The members' views of the node under test, sampled at the end of each of
 * the last HIST_ROUNDS model rounds (HIST_SAMPLES random members each). */
#define HIST_ROUNDS 160
#define HIST_SAMPLES 32
static int64_t view_hist[HIST_ROUNDS][HIST_SAMPLES];
static uint64_t hist_rounds;       /* rounds sampled so far */
static unsigned *view_shift;       /* per member: its views' lag behind the node's, ms */

/* A pong time as a member would gossip it about member j, a node that is up.
 * The members' views of j follow the same process as their views of the
 * node under test (which the model runs), but on its own schedule: the
 * waves in which many members find j's pong older than node_timeout/2 and
 * PING it are not those of any other node. So a view of j is a member's
 * view of the node under test as it was view_shift[j] ms ago, moved on by as
 * much; taking the views as they are now for every j would make the node's
 * views of all members age in step and its own PINGs come in bursts of
 * hundreds (which are not in real clusters and which made the node's
 * PINGs in a window swing with where the bursts fell). */
static int64_t sampled_pong_time(uint64_t *stream, unsigned j)
{
    unsigned back = view_shift ? view_shift[j] / 100 : 0;   /* none while joining */
    if (back == 0 || hist_rounds <= back) {
        unsigned r = 1 + rndf(stream, n_nodes - 1);
        return nodes[r].pong_received;
    }
    const int64_t *h = view_hist[(hist_rounds - back) % HIST_ROUNDS];
    return h[rndf(stream, HIST_SAMPLES)] + (int64_t)back * 100;
}

static void fill_entry(bus_gossip_t *g, unsigned j, unsigned sender, uint64_t *stream)
{
    memset(g, 0, sizeof *g);
    memcpy(g->name, nodes[j].name, BUS_NAME_LEN);
    strcpy(g->ip, "127.0.0.1");
    g->port = nodes[j].port;
    g->cport = nodes[j].cport;
    g->flags = nodes[j].master ? BUS_NODE_MASTER : BUS_NODE_SLAVE;
    int64_t pong = j == 0 ? nodes[sender].pong_received : sampled_pong_time(stream, j);
    if (nodes[j].dead) {
        g->flags |= BUS_NODE_FAIL;
        pong = 0;
    }
    g->pong_received = (uint32_t)(pong / 1000);
}

/* Builds a PING/PONG/MEET of member i into frame_buf, its gossip drawn from
 * `stream`; MEETs carry no gossip. */
static size_t build_frame(unsigned i, unsigned type, uint64_t *stream)
{
    static bus_gossip_t g[MAX_GOSSIP + 8];
    static uint64_t picked_round[MAX_N];
    static uint64_t round;
    unsigned count = 0;
    if (type != BUS_MEET) {
        /* clusterSendPing: up to wanted*3 random picks, skipping the sender and
         * repeats (a FAILed master with slots stays eligible, flagged FAIL) */
        round++;
        for (unsigned it = 0; it < wanted * 3 && count < wanted; it++) {
            unsigned j = rndf(stream, n_nodes);
            if (j == i || picked_round[j] == round) continue;
            picked_round[j] = round;
            fill_entry(&g[count++], j, i, stream);
        }
    }
    size_t len = bus_build_ping(frame_buf, sizeof frame_buf, &nodes[i].hdr, type, g, count,
                                NULL, 0);
    if (len == 0) fail_exit("bus_build_ping failed");
    return len;
}

/* -L: the members' view (docs/cluster-bus.md §9.7). Every member knows
 * every node as the others gossip it; for member i's link to the node under
 * test (node 0) the view leaves out both, so its digest is that of members
 * 1..N-1 but i. */
static uint8_t (*view_tuple)[BUS_LIGHT_TUPLE_LEN];
static uint64_t *view_hash, view_all;   /* per node; XOR over members 1..N-1 */
static uint32_t *view_slot, view_nslots; /* fingerprint -> node + 1 (the first with it) */
static uint8_t *view_shared;             /* per node: another member has its fingerprint */

static uint32_t view_home(const uint8_t *fp)
{
    uint64_t w;
    memcpy(&w, fp, 8);
    return (uint32_t)((w * 0x9e3779b97f4a7c15ull) >> 32) & (view_nslots - 1);
}

static uint32_t *view_probe(const uint8_t *fp)
{
    for (uint32_t h = view_home(fp);; h = (h + 1) & (view_nslots - 1)) {
        uint32_t v = view_slot[h];
        if (!v || memcmp(view_tuple[v - 1], fp, BUS_LIGHT_FP_LEN) == 0) return &view_slot[h];
    }
}

static void view_init(void)
{
    view_tuple = calloc(n_nodes, sizeof *view_tuple);
    view_hash = calloc(n_nodes, sizeof *view_hash);
    view_shared = calloc(n_nodes, 1);
    view_nslots = 2;
    while (view_nslots < 2 * n_nodes) view_nslots *= 2;
    view_slot = calloc(view_nslots, sizeof *view_slot);
    if (!view_tuple || !view_hash || !view_slot || !view_shared) bench_die("calloc");
    for (unsigned j = 1; j < n_nodes; j++) {
        /* the entry fill_entry gives, without its times and flags (and
         * without drawing from the model's random sequences) */
        bus_gossip_t g;
        uint8_t e[BUS_GOSSIP_LEN];
        memset(&g, 0, sizeof g);
        memcpy(g.name, nodes[j].name, BUS_NAME_LEN);
        strcpy(g.ip, "127.0.0.1");
        g.port = nodes[j].port;
        g.cport = nodes[j].cport;
        bus_gossip_encode(e, &g);
        bus_light_entry_tuple(e, view_tuple[j]);
        view_hash[j] = bus_light_tuple_hash(view_tuple[j]);
        view_all ^= view_hash[j];
        uint32_t *p = view_probe(view_tuple[j]);
        if (*p) view_shared[*p - 1] = 1;   /* a shared fingerprint names neither: full */
        else *p = j + 1;
    }
}

static const uint8_t *view_find(const void *ctx, const uint8_t *fp)
{
    (void)ctx;
    uint32_t v = *view_probe(fp);
    return v && !view_shared[v - 1] ? view_tuple[v - 1] : NULL;
}

/* Queues a frame of frame_buf: with -L advertised, and light once the node
 * advertised on this link. */
static void send_frame(struct conn *c, unsigned slot, size_t len)
{
    static uint8_t light_buf[BUS_LIGHT_HDR_LEN + BUS_SLOT_BYTES + sizeof frame_buf];
    if (!opt.light) {
        conn_queue(c, slot, frame_buf, len);
        return;
    }
    bus_light_advertise(frame_buf, len);
    uint64_t v = view_all ^ view_hash[c->node];
    bus_light_view_t view = { .v = v ? v : 1, .find = view_find };
    bus_light_put_view(frame_buf, len, view.v);
    if (c->peer_light) {
        if (!c->tx) {
            c->tx = malloc(sizeof *c->tx);
            if (!c->tx) bench_die("malloc");
            bus_light_tx_init(c->tx);
        }
        size_t n = bus_light_encode(&light_pool, c->tx, frame_buf, len, light_buf, sizeof light_buf, &view, c->peer_view);
        if (n) {
            ctr.light_to++;
            conn_queue(c, slot, light_buf, n);
            return;
        }
    }
    conn_queue(c, slot, frame_buf, len);
}

static void send_ping(unsigned i, unsigned type)
{
    struct node *m = &nodes[i];
    if (!m->out || m->out->closed) return;
    size_t len = build_frame(i, type, &rng_frames);
    send_frame(m->out, 0, len);
    if (type == BUS_PING) {
        if (m->awaiting++ == 0) m->first_sent = now_ms();
        ctr.pings_to++;
    }
}

/* ---------------- the members' cron (the part about the node under test) ---------------- */

static double est_timeout_pings = 0;   /* per second, all members, smoothed */
static int64_t steady_t0;        /* now_ms() when the steady state began; 0 before */

enum { PING_TIMEOUT = 1, PING_RANDOM = 2 };

/* A member's PING in the model, at model time t: answered at once (the
 * node's PONG takes a millisecond or two, and waiting for it would make the
 * model follow the server under test). */
static void model_ping(unsigned i, unsigned kind, int64_t t)
{
    send_ping(i, BUS_PING);
    nodes[i].pong_received = t;
    if (kind == PING_TIMEOUT) ctr.timeout_pings++;
    else ctr.random_pings++;
}

/* The node closed a member's link: reconnect, as 7.0.15 would on its next cron. */
static void member_reconnect(unsigned i)
{
    struct node *m = &nodes[i];
    if (!m->out || !m->out->closed) return;
    free(m->out);
    m->out = conn_new(connect_node(), LINK_OUT, i);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG(LINK_OUT, i)};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, m->out->fd, &ev) < 0) bench_die("epoll_ctl");
    m->awaiting = 0;
}

/* Poisson draw for small means (Knuth). */
static unsigned poisson(double mean)
{
    double l = exp(-mean), p = 1.0;
    unsigned k = 0;
    do {
        k++;
        p *= rnd01();
    } while (p > l && k < 1000);
    return k - 1;
}

/* One 100 ms clusterCron run of member i, as far as the node under test is
 * concerned.
 *
 * Gossip between members is modelled, not sent: in 7.0.15 every node sends r
 * PINGs a second (one random, plus the node_timeout/2 ones) and gets as many
 * PONGs back, so it receives about 2r frames a second from other members; a
 * frame names a given node with probability wanted/(N-1); the entry carries
 * the sender's own pong time for that node, in whole seconds, and is taken
 * when newer than ours and no PING of ours is pending. By symmetry each node
 * sends as many node_timeout/2 PINGs as it receives, which is what the node
 * under test receives from all members (est_timeout_pings), so r = 1 + that. */
static void member_gossip(unsigned i, int64_t now)
{
    struct node *m = &nodes[i];
    double r = 1.0 + est_timeout_pings;
    double mean = 2.0 * r * ((double)wanted / (n_nodes - 1)) * 0.1;
    for (unsigned k = poisson(mean); k > 0; k--) {
        unsigned s = 1 + rnd(n_nodes - 1);
        if (s == i || nodes[s].dead) continue;
        int64_t t = nodes[s].pong_received / 1000 * 1000;
        if (t <= now + 500 && t > m->pong_received) {
            m->pong_received = t;
            ctr.gossip_applied++;
        }
    }
}

static void member_cron(unsigned i, int64_t now)
{
    struct node *m = &nodes[i];
    m->iteration++;
    member_gossip(i, now);
    /* every 10th run: of 5 random nodes (ourselves skipped; in the model no
     * PING stays pending past its round), PING the one with the oldest pong;
     * other members' pong times are drawn from the model */
    if (m->iteration % 10 == 0) {
        int64_t best = 0;
        int best_is_node = -1;
        for (int j = 0; j < 5; j++) {
            unsigned pick = rnd(n_nodes);
            if (pick == i) continue;
            if (pick == 0) {
                if (!m->out || m->out->closed) continue;
                if (best_is_node < 0 || m->pong_received < best) {
                    best = m->pong_received;
                    best_is_node = 1;
                }
            } else {
                unsigned r = 1 + rnd(n_nodes - 1);
                if (nodes[pick].dead) continue;
                if (best_is_node < 0 || nodes[r].pong_received < best) {
                    best = nodes[r].pong_received;
                    best_is_node = 0;
                }
            }
        }
        if (best_is_node == 1) model_ping(i, PING_RANDOM, now);
    }
    if (now - m->pong_received > opt.timeout_ms / 2 && m->out && !m->out->closed)
        model_ping(i, PING_TIMEOUT, now);
    member_reconnect(i);
}

/* ---------------- reading what the node sends ---------------- */

struct frame_ctx {
    struct conn *c;
    unsigned slot;
};

/* bench_skim's callback: counts the frame, answers PINGs and MEETs on the
 * node's links to us, takes PONGs on ours; false once the link is closed. */
static bool on_frame(void *arg, unsigned type)
{
    struct frame_ctx *fx = arg;
    struct conn *c = fx->c;
    unsigned slot = fx->slot;
    struct node *m = &nodes[c->node];
    if (type == BUS_PING) {
        ctr.pings_from++;
        /* a plain PING's entries, from its length (the node gets no hostname
         * to announce here, so there is no extension) */
        uint32_t totlen = 0;
        if (!c->skim.light && bus_peek_totlen(c->skim.peek, BENCH_PEEK_LEN, &totlen) &&
            totlen >= BUS_HEADER_LEN)
            ctr.gossip_in_pings_from += (totlen - BUS_HEADER_LEN) / BUS_GOSSIP_LEN;
    }
    else if (type == BUS_PONG) ctr.pongs_from++;
    else ctr.others_from++;
    if (c->skim.light) ctr.light_from++;
    if (type == BUS_PING || type == BUS_PONG || type == BUS_MEET) {
        c->peer_light = c->skim.adv;
        c->peer_view = c->skim.view;
    }
    if (m->dead) return !c->closed;
    if (c->kind == LINK_IN && (type == BUS_PING || type == BUS_MEET)) {
        size_t len = build_frame(c->node, BUS_PONG, &rng_answers);
        send_frame(c, slot, len);
        ctr.pongs_to++;
        m->pongs_sent++;
    } else if (c->kind == LINK_OUT && type == BUS_PONG && m->awaiting > 0) {
        /* the model took the PING as answered when sent: here we only check */
        int64_t now = now_ms();
        if (now - m->first_sent > 1000) ctr.late_pongs++;
        if (--m->awaiting > 0) m->first_sent = now;
    }
    return !c->closed;
}

static void conn_read(struct conn *c, unsigned slot)
{
    static uint8_t buf[256 * 1024];
    for (;;) {
        ssize_t r = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            if (!nodes[c->node].dead) ctr.links_closed_by_node++;
            conn_close(c);
            return;
        }
        if (r < 0) return;
        ctr.bytes_from += (uint64_t)r;
        struct frame_ctx fx = {c, slot};
        int rc = bench_skim(&c->skim, buf, (size_t)r, on_frame, &fx);
        if (rc == BENCH_SKIM_BAD) fail_exit("the node sent a frame with a bad signature or length");
        if (rc == BENCH_SKIM_STOPPED) return;
        if ((size_t)r < sizeof buf) return;
    }
}

static void accept_in(unsigned node)
{
    for (;;) {
        int fd = accept(nodes[node].listen_fd, NULL, NULL);
        if (fd < 0) return;
        if (nodes[node].dead) {
            close(fd);
            continue;
        }
        if (n_in == cap_in) {
            cap_in = cap_in ? cap_in * 2 : 1024;
            in_links = realloc(in_links, cap_in * sizeof *in_links);
            if (!in_links) bench_die("realloc");
        }
        unsigned slot = n_in++;
        in_links[slot] = conn_new(fd, LINK_IN, node);
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG(LINK_IN, slot)};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) bench_die("epoll_ctl");
    }
}

/* The members' crons in model time, up to `now`: round k starts at
 * steady_t0 + 100k ms and runs member i at its phase, members in the order
 * of their phases (cron_order), whatever the wall clock did meanwhile (when
 * we fall behind, the rounds due run late, in order). Once every 10 rounds
 * (a model second) the estimate of the members' own node_timeout/2 PING
 * rate follows what the node under test gets, smoothed over ~10 s: towards
 * one node those PINGs come in waves, but the waves towards different nodes
 * do not coincide, so the frames a member receives (which carry the gossip)
 * come at the average rate. Following the waves instead makes every member's
 * view of the node fresh at once and the waves grow (we tried). */
static unsigned *cron_order, cron_pos;
static uint64_t cron_round, cron_timeout_pings;

static void run_crons(int64_t now)
{
    for (;;) {
        if (cron_pos == n_nodes - 1) {
            cron_pos = 0;
            int64_t *h = view_hist[hist_rounds++ % HIST_ROUNDS];
            for (unsigned k = 0; k < HIST_SAMPLES; k++) h[k] = nodes[1 + rnd(n_nodes - 1)].pong_received;
            if (++cron_round % 10 == 0) {
                double rate = (double)(ctr.timeout_pings - cron_timeout_pings);
                cron_timeout_pings = ctr.timeout_pings;
                est_timeout_pings = 0.9 * est_timeout_pings + 0.1 * rate;
            }
        }
        unsigned i = cron_order[cron_pos];
        if (steady_t0 + (int64_t)cron_round * 100 + nodes[i].phase > now) return;
        cron_pos++;
        if (!nodes[i].dead) member_cron(i, steady_t0 + (int64_t)cron_round * 100 + nodes[i].phase);
    }
}

static int by_phase(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    if (nodes[x].phase != nodes[y].phase) return nodes[x].phase < nodes[y].phase ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Runs the loop until `until` (monotonic seconds); with crons, the members
 * run their cron (not while joining). */
static void run_loop(double until, bool crons)
{
    struct epoll_event evs[256];
    for (double t = bench_mono_s(); t < until; t = bench_mono_s()) {
        int ms = (int)((until - t) * 1000) + 1;
        int n = epoll_wait(ep, evs, 256, ms < 5 ? ms : 5);
        if (n < 0 && errno != EINTR) bench_die("epoll_wait");
        for (int k = 0; k < n; k++) {
            unsigned kind = (unsigned)(evs[k].data.u64 >> 32), idx = (uint32_t)evs[k].data.u64;
            struct conn *c = NULL;
            unsigned slot = 0;
            if (kind == LISTENER) {
                accept_in(idx);
                continue;
            }
            if (kind == LINK_OUT) c = nodes[idx].out;
            else if (kind == LINK_IN) c = in_links[slot = idx];
            if (!c || c->closed) continue;
            if (evs[k].events & EPOLLOUT) conn_flush(c, slot);
            if (!c->closed && evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) conn_read(c, slot);
        }
        if (crons) run_crons(now_ms());
    }
}

/* ---------------- setup ---------------- */

/* redis-cli --cluster create's slot split: master i gets first..last with
 * last = lround(cursor + per_master - 1), cursor += per_master, the last
 * master up to 16383. */
static void layout(void)
{
    n_masters = n_nodes / 2;
    float per = 16384.0f / (float)n_masters, cursor = 0.0f;
    long first = 0;
    for (unsigned i = 0; i < n_masters; i++) {
        long last = lround(cursor + per - 1);
        if (last > 16384 || i == n_masters - 1) last = 16383;
        if (last < first) last = first;
        nodes[i].master = true;
        nodes[i].first = (unsigned)first;
        nodes[i].last = (unsigned)last;
        first = last + 1;
        cursor += per;
    }
    for (unsigned r = n_masters; r < n_nodes; r++) {
        nodes[r].master = false;
        nodes[r].master_of = (r - n_masters + n_masters - 1) % n_masters;
    }
    for (unsigned i = 0; i < n_nodes; i++) nodes[i].config_epoch = i + 1;
}

static void member_setup(unsigned i)
{
    struct node *m = &nodes[i];
    bench_random_name(m->name, &rng_model);
    m->listen_fd = bench_listen_loopback(64, &m->cport);
    /* nothing listens there: the node never needs a member's client port */
    m->port = (uint16_t)(m->cport - BUS_PORT_OFFSET);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG(LISTENER, i)};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, m->listen_fd, &ev) < 0) bench_die("epoll_ctl");
}

static void header_setup(unsigned i)
{
    struct node *m = &nodes[i];
    const struct node *master = m->master ? m : &nodes[m->master_of];
    bus_header_t *h = &m->hdr;
    memset(h, 0, sizeof *h);
    memcpy(h->sender, m->name, BUS_NAME_LEN);
    for (unsigned s = master->first; s <= master->last; s++) bus_slot_set(h->myslots, s);
    if (!m->master) {
        memcpy(h->slaveof, master->name, BUS_NAME_LEN);
        h->has_master = true;
    }
    h->port = m->port;
    h->cport = m->cport;
    h->flags = m->master ? BUS_NODE_MASTER : BUS_NODE_SLAVE;
    h->config_epoch = master->config_epoch;
    h->current_epoch = n_nodes;    /* the highest config epoch, which all nodes adopt */
}

/* The members' crons (run_crons) until the wall clock reads `until_ms`;
 * with -v a line a second. */
static void run_steady(int64_t until_ms)
{
    for (int64_t left = until_ms - now_ms(); left > 0; left = until_ms - now_ms()) {
        struct counters c = ctr;
        double t = bench_mono_s();
        run_loop(t + (left > 1000 ? 1.0 : left / 1000.0), true);
        double dt = bench_mono_s() - t;
        if (dt < 0.5 || !opt.verbose) continue;
        double age = 0;
        for (unsigned i = 1; i < n_nodes; i++) age += now_ms() - nodes[i].pong_received;
        fprintf(stderr, "cluster_sim: pings in %.1f/s (timeout %.1f, random %.1f), "
                        "pings out %.1f/s, est %.2f, mean age of views %.2f s\n",
                (ctr.pings_to - c.pings_to) / dt, (ctr.timeout_pings - c.timeout_pings) / dt,
                (ctr.random_pings - c.random_pings) / dt, (ctr.pings_from - c.pings_from) / dt,
                est_timeout_pings, age / (n_nodes - 1) / 1000.0);
    }
}

static unsigned members_joined(void)
{
    unsigned n = 0;
    for (unsigned i = 1; i < n_nodes; i++) n += nodes[i].pongs_sent > 0;
    return n;
}

static void usage(void)
{
    fprintf(stderr, "usage: cluster_sim -p busport -c clientport -n N [-T node_timeout_ms] "
                    "[-W warmup_s] [-t seconds] [-P pid] [-F] [-J join_timeout_s] [-s seed] "
                    "[-v] [-L]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int ch;
    bus_light_pool_init(&light_pool);
    while ((ch = getopt(argc, argv, "p:c:n:T:W:t:P:FJ:vs:L")) != -1) {
        switch (ch) {
        case 'p': opt.bus_port = atoi(optarg); break;
        case 'c': opt.client_port = atoi(optarg); break;
        case 'n': opt.n = atoi(optarg); break;
        case 'T': opt.timeout_ms = atol(optarg); break;
        case 'W': opt.warmup = atof(optarg); break;
        case 't': opt.seconds = atof(optarg); break;
        case 'P': opt.pid = atol(optarg); break;
        case 'F': opt.fail_test = true; break;
        case 'J': opt.join_timeout = atof(optarg); break;
        case 'v': opt.verbose = true; break;
        case 's': opt.seed = strtoull(optarg, NULL, 10); break;
        case 'L': opt.light = true; break;
        default: usage();
        }
    }
    if (opt.bus_port <= 0 || opt.bus_port > 65535 || opt.client_port <= 0 ||
        opt.client_port > 65535 || opt.n < 4 || opt.n > MAX_N || opt.n % 2 ||
        opt.timeout_ms < 100 || opt.seconds <= 0 || opt.warmup < 0)
        usage();
    if (!opt.seed) opt.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    rng_model = opt.seed ^ 0x9e3779b97f4a7c15ULL;
    rng_frames = opt.seed ^ 0xd1b54a32d192ed03ULL;
    rng_answers = opt.seed ^ 0x8cb92ba72f3d8dd7ULL;
    n_nodes = (unsigned)opt.n;
    wanted = n_nodes / 10 < 3 ? 3 : n_nodes / 10;
    if (wanted > n_nodes - 2) wanted = n_nodes - 2;
    if (wanted > MAX_GOSSIP) wanted = MAX_GOSSIP;

    ep = epoll_create1(0);
    if (ep < 0) bench_die("epoll_create1");
    nodes = calloc(n_nodes, sizeof *nodes);
    if (!nodes) bench_die("calloc");
    layout();

    /* the node under test: master 0, config epoch 1, the first slot range */
    client_connect(opt.client_port);
    char *r;
    size_t len;
    const char *myid[] = {"CLUSTER", "MYID"};
    if (client_call(myid, 2, &r, &len) != '$' || len != BUS_NAME_LEN)
        fail_exit("CLUSTER MYID gave no node name");
    memcpy(nodes[0].name, r, BUS_NAME_LEN);
    nodes[0].port = (uint16_t)opt.client_port;
    nodes[0].cport = (uint16_t)opt.bus_port;
    nodes[0].listen_fd = -1;
    const char *epoch[] = {"CLUSTER", "SET-CONFIG-EPOCH", "1"};
    client_expect_ok(epoch, 3);
    char first[16], last[16];
    snprintf(first, sizeof first, "%u", nodes[0].first);
    snprintf(last, sizeof last, "%u", nodes[0].last);
    const char *slots[] = {"CLUSTER", "ADDSLOTSRANGE", first, last};
    client_expect_ok(slots, 4);

    for (unsigned i = 1; i < n_nodes; i++) member_setup(i);
    for (unsigned i = 1; i < n_nodes; i++) header_setup(i);
    if (opt.light) view_init();

    /* join: every member MEETs the node on its own link; the node connects back
     * and PINGs; our PONG gives it the member's name, role and slots */
    double t_join = bench_mono_s();
    for (unsigned i = 1; i < n_nodes; i++) {
        nodes[i].out = conn_new(connect_node(), LINK_OUT, i);
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG(LINK_OUT, i)};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, nodes[i].out->fd, &ev) < 0) bench_die("epoll_ctl");
        send_ping(i, BUS_MEET);
    }
    while (members_joined() < n_nodes - 1 && bench_mono_s() - t_join < opt.join_timeout)
        run_loop(bench_mono_s() + 0.05, false);
    if (members_joined() < n_nodes - 1) {
        fprintf(stderr, "cluster_sim: the node took in %u of %u members within %.0f s\n",
                members_joined(), n_nodes - 1, opt.join_timeout);
        return 1;
    }
    double joined_s = bench_mono_s() - t_join;
    /* a member that has just joined PINGs the node it met, and that PING is
     * what tells the node the member's role and slots (the PONG that ended
     * the handshake came from a sender it did not know yet) */
    for (unsigned i = 1; i < n_nodes; i++) send_ping(i, BUS_PING);
    /* a third of the upper bound, about where real clusters of 60-120 nodes are;
     * run_steady() moves it to what the node actually gets */
    est_timeout_pings = (double)(n_nodes - 1) / (opt.timeout_ms / 2000.0) / 3;
    bool ok = false;
    while (bench_mono_s() - t_join < opt.join_timeout + 30) {
        run_loop(bench_mono_s() + 0.2, false);
        if ((ok = node_converged(n_nodes))) break;
    }
    if (!ok) fail_exit("the node's CLUSTER INFO never showed cluster_state:ok with all nodes");
    /* steady state from here: each member's cron at its own phase, its last
     * PONG from the node anywhere in the last node_timeout/2 (a cluster that has
     * run a while, not one that just joined all at once) */
    /* The model's time starts on a whole second: the gossip carries pong
     * times in whole seconds, so where the waves of node_timeout/2 PINGs fall
     * within a second depends on it. Then with -W and -t in whole seconds the
     * window's ends fall where they fall in any other run of the same seed
     * (waves come .5 to .6 s past a second: members' views of the node are
     * whole seconds from gossip, PINGed 7.5 s later at their cron phase). */
    int64_t now = now_ms() / 1000 * 1000 + 1000;
    run_loop(bench_mono_s() + (now - now_ms()) / 1000.0, false);
    for (unsigned i = 1; i < n_nodes; i++) {
        nodes[i].phase = rnd(100);
        nodes[i].iteration = rnd(10);
        nodes[i].pong_received = now - rnd((unsigned)(opt.timeout_ms / 2));
    }
    cron_order = malloc((n_nodes - 1) * sizeof *cron_order);
    view_shift = malloc(n_nodes * sizeof *view_shift);
    if (!cron_order || !view_shift) bench_die("malloc");
    /* lags spread over node_timeout/2, the period of the PING waves */
    for (unsigned i = 0; i < n_nodes; i++)
        view_shift[i] = rnd((unsigned)(opt.timeout_ms / 2 < (HIST_ROUNDS - 1) * 100 ? opt.timeout_ms / 2
                                                                                  : (HIST_ROUNDS - 1) * 100));
    for (unsigned i = 1; i < n_nodes; i++) cron_order[i - 1] = i;
    qsort(cron_order, n_nodes - 1, sizeof *cron_order, by_phase);
    steady_t0 = now;
    double join_s = bench_mono_s() - t_join;

    /* warm-up, then the counted window; the estimate of the members' own
     * timeout PING rate follows what the node sees, smoothed over ~5 s */
    uint64_t closed0 = ctr.links_closed_by_node;
    int64_t window_ms = steady_t0 + (int64_t)(opt.warmup * 1000);
    run_steady(window_ms);
    struct counters c0 = ctr;
    static struct bench_thread_cpu th0, th1;
    if (opt.pid) bench_thread_cpu_sample(opt.pid, &th0);
    double t0 = bench_mono_s();
    run_steady(window_ms + (int64_t)(opt.seconds * 1000));
    if (opt.pid) bench_thread_cpu_sample(opt.pid, &th1);
    double secs = bench_mono_s() - t0;
    long rss = opt.pid ? bench_rss_kib(opt.pid) : -1;
    struct counters c1 = ctr;

    printf("n=%u masters=%u wanted=%u node_timeout=%ld joined_s=%.2f ok_s=%.2f seconds=%.2f",
           n_nodes, n_masters, wanted, opt.timeout_ms, joined_s, join_s, secs);
    printf(" bytes_in_per_sec=%.0f bytes_out_per_sec=%.0f",
           (c1.bytes_to - c0.bytes_to) / secs, (c1.bytes_from - c0.bytes_from) / secs);
    printf(" pings_in_per_sec=%.2f timeout_pings_per_sec=%.2f random_pings_per_sec=%.2f"
           " pongs_in_per_sec=%.2f pings_out_per_sec=%.2f pongs_out_per_sec=%.2f"
           " others_out=%llu gossip_pong_updates_per_sec=%.1f late_pongs=%llu"
           " gossip_per_ping_out=%.1f",
           (c1.pings_to - c0.pings_to) / secs, (c1.timeout_pings - c0.timeout_pings) / secs,
           (c1.random_pings - c0.random_pings) / secs, (c1.pongs_to - c0.pongs_to) / secs,
           (c1.pings_from - c0.pings_from) / secs, (c1.pongs_from - c0.pongs_from) / secs,
           (unsigned long long)(c1.others_from - c0.others_from),
           (c1.gossip_applied - c0.gossip_applied) / secs,
           (unsigned long long)(c1.late_pongs - c0.late_pongs),
           c1.pings_from > c0.pings_from ? (double)(c1.gossip_in_pings_from - c0.gossip_in_pings_from) /
                                               (double)(c1.pings_from - c0.pings_from) : -1.0);
    if (opt.pid) {
        printf(" cpu_pct=%.2f rss_kib=%ld",
               (double)(th1.total_ns - th0.total_ns) / 1e9 / secs * 100.0, rss);
        bench_thread_cpu_print(&th0, &th1);
    }
    typedef unsigned long long ull;   /* the counts: the same for a seed, whatever the wall clock */
    printf(" pings_in=%llu timeout_pings=%llu random_pings=%llu pongs_out=%llu",
           (ull)(c1.pings_to - c0.pings_to), (ull)(c1.timeout_pings - c0.timeout_pings),
           (ull)(c1.random_pings - c0.random_pings), (ull)(c1.pongs_from - c0.pongs_from));
    printf(" light=%d light_frames_in_per_sec=%.2f light_frames_out_per_sec=%.2f", opt.light ? 1 : 0,
           (c1.light_to - c0.light_to) / secs, (c1.light_from - c0.light_from) / secs);
    uint64_t closed = ctr.links_closed_by_node - closed0;

    /* the failure drill: master 1 dies; master 2 tells the node it FAILed */
    if (opt.fail_test && n_masters >= 3) {
        unsigned dead = 1, teller = 2;
        struct node *d = &nodes[dead];
        d->dead = true;
        close(d->listen_fd);
        epoll_ctl(ep, EPOLL_CTL_DEL, d->listen_fd, NULL);
        if (d->out) conn_close(d->out);
        for (unsigned s = 0; s < n_in; s++)
            if (in_links[s]->node == dead) conn_close(in_links[s]);
        size_t flen = bus_build_fail(frame_buf, sizeof frame_buf, &nodes[teller].hdr, d->name);
        double tf = bench_mono_s();
        conn_queue(nodes[teller].out, 0, frame_buf, flen);
        char flags[128];
        double seen = -1;
        while (bench_mono_s() - tf < 10) {
            run_loop(bench_mono_s() + 0.001, true);
            node_flags(d->name, flags, sizeof flags);
            /* "fail" as its own flag, not "fail?" (PFAIL) */
            char *p = strstr(flags, "fail");
            while (p && p[4] == '?') p = strstr(p + 4, "fail");
            if (p) {
                seen = bench_mono_s() - tf;
                break;
            }
        }
        printf(" fail_ms=%.1f", seen < 0 ? -1.0 : seen * 1000.0);
    }
    printf(" links_closed=%llu\n", (unsigned long long)closed);
    if (closed) {
        fprintf(stderr, "cluster_sim: the node closed %llu links during the window\n",
                (unsigned long long)closed);
        return 1;
    }
    return 0;
}

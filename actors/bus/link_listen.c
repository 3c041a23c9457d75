/* link_listen.c - the cluster bus listener: listening sockets on the bus
 * port for every bind address, and the accept loop that turns each accepted
 * socket into an inbound link (docs/cluster-bus.md §1.1, §1.5).
 *
 * The listener is a small actor on the first link thread; its watchers are
 * started by a message so that they are started from that thread. Accepted
 * sockets get TCP_NODELAY and keepalive like 7.0.15's, and are dealt
 * round-robin over the link threads by link_adopt_inbound.
 *
 * Must never: block (every socket is non-blocking), or read from a socket
 * it hands to a link.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/config/config.h"
#include "actors/bus/link_internal.h"
#include "runtime/log.h"

#define MAX_LISTEN_FDS 16
#define ACCEPTS_PER_EVENT 1000     /* as 7.0.15 (MAX_CLUSTER_ACCEPTS_PER_CALL) */

typedef struct listener {
    rt_actor_t actor;
    rt_msg_t start_msg;
    int nfds;
    bool started;                  /* links_start ran (main thread, once) */
    int fds[MAX_LISTEN_FDS];
    ev_io watchers[MAX_LISTEN_FDS];
} listener_t;

static listener_t g_listener;

/* Same address rules as the client listener: "*" is every IPv4 address,
 * "::*" every IPv6 address, anything with ':' is IPv6. Returns the fd, -1
 * on error (errno set) or -2 when an optional ("-") address is not
 * available on this host. */
static int open_bus_listener(const char *addr, int port, int backlog, bool optional)
{
    bool v6 = strchr(addr, ':') != NULL;
    const char *host = addr;
    if (!strcmp(addr, "*")) host = "0.0.0.0";
    if (!strcmp(addr, "::*")) host = "::";
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return optional ? -2 : -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc;
    if (v6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
        if (inet_pton(AF_INET6, host, &sa.sin6_addr) != 1) { close(fd); errno = EINVAL; return -1; }
        rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    } else {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) { close(fd); errno = EINVAL; return -1; }
        rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    }
    if (rc != 0 || listen(fd, backlog) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        if (optional && (e == EADDRNOTAVAIL || e == EAFNOSUPPORT || e == EPROTONOSUPPORT)) return -2;
        return -1;
    }
    return fd;
}

int link_sockaddr(const char *ip, int port, struct sockaddr_storage *ss, socklen_t *sl)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        *sl = sizeof *s4;
    } else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *sl = sizeof *s6;
    } else {
        return -1;
    }
    return 0;
}

/* TCP keepalive as 7.0.15 sets it on accepted bus sockets: first probe after
 * `interval` seconds, then every interval/3, give up after 3. */
static void set_keepalive(int fd, int interval)
{
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    if (interval <= 0) return;
    int idle = interval, intvl = interval / 3, cnt = 3;
    if (intvl <= 0) intvl = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    int keepalive = (int)(config_cluster_node_timeout() / 1000) * 2;
    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(w->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
                LOG_VERBOSE("Error accepting cluster node: %s", strerror(errno));
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        set_keepalive(fd, keepalive);
        char ip[INET6_ADDRSTRLEN];
        link_format_ip(&ss, ip, sizeof ip);
        int port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                             : ntohs(((struct sockaddr_in *)&ss)->sin_port);
        LOG_VERBOSE("Accepting cluster node connection from %s:%d", ip, port);
        link_adopt_inbound(fd, &ss);
    }
}

static void listener_behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    listener_t *ls = self->state;
    (void)msg;                        /* the embedded start message, sent once */
    struct ev_loop *loop = rt_thread_loop(self->thread);
    for (int i = 0; i < ls->nfds; i++) {
        ev_io_init(&ls->watchers[i], accept_cb, ls->fds[i], EV_READ);
        ls->watchers[i].data = ls;
        ev_io_start(loop, &ls->watchers[i]);
    }
}

int links_open(char addrs[][256], int naddrs, int bus_port)
{
    if (g_listener.nfds > 0) return 0;     /* already open */
    int backlog = (int)config_get_num(CONFIG_TCP_BACKLOG);
    if (backlog <= 0) backlog = 511;
    int nfds = 0;
    int n = naddrs > 0 ? naddrs : 1;
    for (int i = 0; i < n && nfds < MAX_LISTEN_FDS; i++) {
        const char *a = naddrs > 0 ? addrs[i] : "*";
        bool optional = a[0] == '-';
        if (optional) a++;
        int fd = open_bus_listener(a, bus_port, backlog, optional);
        if (fd == -2) continue;
        if (fd < 0) {
            LOG_WARNING("Could not bind cluster bus port %s:%d: %s", a, bus_port, strerror(errno));
            for (int k = 0; k < nfds; k++) close(g_listener.fds[k]);
            return -1;
        }
        g_listener.fds[nfds++] = fd;
    }
    if (nfds == 0) {
        LOG_WARNING("Failed listening on cluster bus port %d (TCP), aborting.", bus_port);
        return -1;
    }
    g_listener.nfds = nfds;
    return 0;
}

int links_start(char addrs[][256], int naddrs, int bus_port, rt_thread_t **threads, int nthreads,
                rt_actor_t *state)
{
    if (nthreads <= 0 || !threads || !state) {
        LOG_WARNING("Cluster bus: no threads to run links on");
        return -1;
    }
    if (g_listener.started) {
        LOG_WARNING("Cluster bus: already started");
        return -1;
    }
    if (links_open(addrs, naddrs, bus_port) != 0) return -1;
    link_configure(threads, nthreads, state);
    g_listener.started = true;
    rt_actor_init(&g_listener.actor, threads[0], "bus-listener", listener_behaviour, &g_listener);
    rt_send(&g_listener.actor, &g_listener.start_msg);
    return 0;
}

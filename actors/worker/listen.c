/* listen.c - the client listening sockets and CONFIG SET bind's rebind
 * (see listen.h for the contract).
 *
 * The current set (address text and fd) lives here under listen_lock; the
 * workers each keep their own copy of the fds, changed only by a
 * WMSG_LISTENERS message on their own thread. Sockets that leave the set
 * are closed by whichever worker acknowledges the swap last, so no loop
 * ever watches a closed fd.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/worker/listen.h"
#include "actors/worker/worker.h"
#include "actors/worker/worker_internal.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

typedef struct listen_retired {
    _Atomic int pending;            /* workers that still watch the old set */
    int nfds;
    int fds[CONFIG_BIND_MAX];
} listen_retired_t;

static pthread_mutex_t listen_lock = PTHREAD_MUTEX_INITIALIZER;
static char cur_addr[CONFIG_BIND_MAX][CONFIG_ADDR_MAX];   /* guarded by listen_lock */
static int cur_fd[CONFIG_BIND_MAX];
static int cur_n;
static int listen_port, listen_backlog;

static bool looks_like_hostname(const char *h)
{
    if (!*h || strlen(h) > 253) return false;
    for (const char *p = h; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return false;
    }
    return true;
}

int listen_open_tcp(const char *addr, int port, int backlog, bool optional)
{
    bool v6 = strchr(addr, ':') != NULL;
    const char *host = addr;
    if (!strcmp(addr, "*") || (v6 && !strcmp(addr, "::*"))) host = NULL;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = { .ai_family = v6 ? AF_INET6 : AF_INET, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICHOST };
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai == EAI_NONAME && host && looks_like_hostname(host)) {
        /* A name ("localhost"), as Redis allows; only then may a resolver
         * be asked, and never for text that cannot be a host name. */
        hints.ai_flags = AI_PASSIVE;
        gai = getaddrinfo(host, service, &hints, &res);
    }
    if (gai != 0) {
        /* Not an address of this family (or a name that does not resolve):
         * bind() would fail the same way. */
        errno = (gai == EAI_SYSTEM) ? errno : EADDRNOTAVAIL;
        return optional && errno == EADDRNOTAVAIL ? -2 : -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int e = errno;
        freeaddrinfo(res);
        errno = e;
        return (e == EAFNOSUPPORT || e == EPROTONOSUPPORT) ? -2 : -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    int rc = bind(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc != 0 || listen(fd, backlog) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        /* As 7.0.15: a missing optional address, or a protocol the host
         * lacks, is skipped; anything else is an error. */
        if ((optional && e == EADDRNOTAVAIL) || e == EAFNOSUPPORT || e == EPROTONOSUPPORT) return -2;
        return -1;
    }
    return fd;
}

int listen_startup(char addrs[][CONFIG_ADDR_MAX], int n, int port, int backlog, int *fds)
{
    pthread_mutex_lock(&listen_lock);
    listen_port = port;
    listen_backlog = backlog;
    cur_n = 0;
    int rc = 0;
    for (int i = 0; i < n && i < CONFIG_BIND_MAX; i++) {
        bool optional = addrs[i][0] == '-';
        const char *a = optional ? addrs[i] + 1 : addrs[i];
        int fd = listen_open_tcp(a, port, backlog, optional);
        if (fd == -2) continue;
        if (fd < 0) {
            LOG_WARNING("Warning: Could not create server TCP listening socket %s:%d: %s", a, port, strerror(errno));
            rc = -1;
            break;
        }
        snprintf(cur_addr[cur_n], CONFIG_ADDR_MAX, "%s", addrs[i]);
        cur_fd[cur_n++] = fd;
    }
    if (rc == 0) {
        for (int i = 0; i < cur_n; i++) fds[i] = cur_fd[i];
        rc = cur_n;
    }
    pthread_mutex_unlock(&listen_lock);
    return rc;
}

/* Hands the new set to every worker; `gone` are the old fds that are not in
 * it (closed after the last worker acknowledged). Holds listen_lock, so two
 * rebinds reach each worker's mailbox in the order they were decided. */
static void send_swap(const int *fds, int n, const int *gone, int ngone)
{
    listen_retired_t *r = xcalloc(1, sizeof *r);
    r->nfds = ngone;
    memcpy(r->fds, gone, sizeof(int) * (size_t)ngone);
    /* Relaxed is enough for the initial value: rt_send publishes it with the
     * message (release on the mailbox push). */
    if (g_nworkers == 0) {                 /* no worker watches anything yet */
        for (int i = 0; i < ngone; i++) close(gone[i]);
        free(r);
        return;
    }
    atomic_store_explicit(&r->pending, g_nworkers, memory_order_relaxed);
    for (int w = 0; w < g_nworkers; w++) {
        listen_swap_msg_t *m = xcalloc(1, sizeof *m);
        m->hdr.type = WMSG_LISTENERS;
        m->nfds = n;
        memcpy(m->fds, fds, sizeof(int) * (size_t)n);
        m->retired = r;
        rt_send(&g_workers[w]->actor, &m->hdr);
    }
}

void listen_attach(const int *fds, int n)
{
    pthread_mutex_lock(&listen_lock);
    send_swap(fds, n, fds, 0);
    pthread_mutex_unlock(&listen_lock);
}

void listen_swap_done(listen_swap_msg_t *m)
{
    listen_retired_t *r = m->retired;
    free(m);
    /* acq_rel: the last worker must see every other worker's ev_io_stop
     * before it closes the fds they watched. */
    if (atomic_fetch_sub_explicit(&r->pending, 1, memory_order_acq_rel) != 1) return;
    for (int i = 0; i < r->nfds; i++) close(r->fds[i]);
    free(r);
}

int listen_rebind(char addrs[][CONFIG_ADDR_MAX], int n)
{
    if (n > CONFIG_BIND_MAX) return -1;
    pthread_mutex_lock(&listen_lock);
    if (listen_port == 0) {
        /* port 0: no TCP listener at all (a unixsocket-only node), whatever
         * the addresses; as 7.0.15, the new bind is only remembered. */
        pthread_mutex_unlock(&listen_lock);
        return 0;
    }
    int new_fd[CONFIG_BIND_MAX];         /* -1: not yet open, -2: optional and absent */
    bool opened[CONFIG_BIND_MAX] = {0};  /* a socket we created for this rebind */
    bool kept[CONFIG_BIND_MAX] = {0};    /* per old socket: still in the set */
    bool released[CONFIG_BIND_MAX] = {0};
    const char *failed = NULL;
    int rc = 0;

    /* 1. Keep what is already there; open what is not, unless it collides. */
    for (int i = 0; i < n; i++) {
        new_fd[i] = -1;
        for (int j = 0; j < cur_n; j++) {
            if (!kept[j] && !strcmp(cur_addr[j], addrs[i])) { kept[j] = true; new_fd[i] = cur_fd[j]; break; }
        }
        if (new_fd[i] >= 0) continue;
        bool optional = addrs[i][0] == '-';
        int fd = listen_open_tcp(optional ? addrs[i] + 1 : addrs[i], listen_port, listen_backlog, optional);
        if (fd == -1 && errno != EADDRINUSE) { rc = -1; failed = addrs[i]; goto undo; }
        new_fd[i] = fd;
        if (fd >= 0) opened[i] = true;
    }
    /* 2. A new address that collides may collide with one of our own old
     * sockets (a wildcard giving way to a specific address, or the
     * reverse): stop those listening (the fd stays open, so workers
     * watching it are unharmed) and try again. */
    bool retry = false;
    for (int i = 0; i < n; i++) if (new_fd[i] == -1) retry = true;
    if (retry) {
        for (int j = 0; j < cur_n; j++) {
            if (kept[j]) continue;
            shutdown(cur_fd[j], SHUT_RDWR);
            released[j] = true;
        }
        for (int i = 0; i < n; i++) {
            if (new_fd[i] != -1) continue;
            bool optional = addrs[i][0] == '-';
            int fd = listen_open_tcp(optional ? addrs[i] + 1 : addrs[i], listen_port, listen_backlog, optional);
            if (fd == -1) { rc = -1; failed = addrs[i]; goto undo; }
            new_fd[i] = fd;
            if (fd >= 0) opened[i] = true;
        }
    }

    /* 3. Commit: the workers switch, the old sockets that left the set close. */
    int fds[CONFIG_BIND_MAX], nf = 0, gone[CONFIG_BIND_MAX], ngone = 0;
    char keep_addr[CONFIG_BIND_MAX][CONFIG_ADDR_MAX];
    for (int i = 0; i < n; i++) {
        if (new_fd[i] < 0) continue;
        snprintf(keep_addr[nf], CONFIG_ADDR_MAX, "%s", addrs[i]);
        fds[nf++] = new_fd[i];
    }
    for (int j = 0; j < cur_n; j++) if (!kept[j]) gone[ngone++] = cur_fd[j];
    send_swap(fds, nf, gone, ngone);
    for (int i = 0; i < nf; i++) {
        memcpy(cur_addr[i], keep_addr[i], CONFIG_ADDR_MAX);
        cur_fd[i] = fds[i];
    }
    cur_n = nf;
    pthread_mutex_unlock(&listen_lock);
    return 0;

undo:;
    int saved = errno;
    LOG_WARNING("Warning: Could not create server TCP listening socket %s:%d: %s", failed, listen_port, strerror(saved));
    LOG_WARNING("Failed to bind");
    for (int i = 0; i < n; i++) if (opened[i]) close(new_fd[i]);
    for (int j = 0; j < cur_n; j++) {
        if (released[j] && listen(cur_fd[j], listen_backlog) != 0)
            LOG_WARNING("Could not listen again on %s:%d after a failed rebind: %s", cur_addr[j], listen_port, strerror(errno));
    }
    pthread_mutex_unlock(&listen_lock);
    errno = saved;
    return rc;
}

int listen_change_port(int port, char addrs[][CONFIG_ADDR_MAX], int n)
{
    if (n > CONFIG_BIND_MAX) return -1;
    pthread_mutex_lock(&listen_lock);
    if (port == listen_port) {
        pthread_mutex_unlock(&listen_lock);
        return 0;
    }
    /* The new sockets first: a port that cannot be bound leaves the node
     * listening where it did (7.0.15 ends up there too, by re-applying the
     * old value after its close-then-bind failed). */
    int fds[CONFIG_BIND_MAX], nf = 0;
    char keep_addr[CONFIG_BIND_MAX][CONFIG_ADDR_MAX];
    for (int i = 0; port && i < n; i++) {
        bool optional = addrs[i][0] == '-';
        const char *a = optional ? addrs[i] + 1 : addrs[i];
        int fd = listen_open_tcp(a, port, (int)config_get_num(CONFIG_TCP_BACKLOG), optional);
        if (fd == -2) continue;
        if (fd < 0) {
            int saved = errno;
            LOG_WARNING("Warning: Could not create server TCP listening socket %s:%d: %s", a, port, strerror(saved));
            for (int k = 0; k < nf; k++) close(fds[k]);
            pthread_mutex_unlock(&listen_lock);
            errno = saved;
            return -1;
        }
        snprintf(keep_addr[nf], CONFIG_ADDR_MAX, "%s", addrs[i]);
        fds[nf++] = fd;
    }
    if (port && nf == 0) {
        LOG_WARNING("Failed listening on port %d (TCP)", port);
        pthread_mutex_unlock(&listen_lock);
        return -1;
    }
    int gone[CONFIG_BIND_MAX];
    for (int j = 0; j < cur_n; j++) gone[j] = cur_fd[j];
    send_swap(fds, nf, gone, cur_n);
    for (int i = 0; i < nf; i++) {
        memcpy(cur_addr[i], keep_addr[i], CONFIG_ADDR_MAX);
        cur_fd[i] = fds[i];
    }
    cur_n = nf;
    listen_port = port;
    pthread_mutex_unlock(&listen_lock);
    return 0;
}

/* listen.c - the client listening sockets (port and tls-port) and CONFIG SET
 * bind/port/tls-port's re-listening (see listen.h for the contract).
 *
 * Each set (plain and TLS: address text and fd) lives here under
 * listen_lock; the workers each keep their own copy of the fds, changed only
 * by a WMSG_LISTENERS message on their own thread. Sockets that leave a set
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

/* One kind of listener: the plain port or the TLS port. */
typedef struct listen_set {
    bool tls;
    char addr[CONFIG_BIND_MAX][CONFIG_ADDR_MAX];
    int fd[CONFIG_BIND_MAX];
    int n;
    int port;                       /* 0: this kind listens nowhere */
} listen_set_t;

static pthread_mutex_t listen_lock = PTHREAD_MUTEX_INITIALIZER;
static listen_set_t sets[2] = { { .tls = false }, { .tls = true } };   /* guarded by listen_lock */
static int listen_backlog = 511;

static listen_set_t *set_of(bool tls) { return &sets[tls ? 1 : 0]; }

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

/* Opens `port` on every address into fds/keep (the "-" prefix marks an
 * optional one). Returns how many, or -1 (nothing left open) after logging
 * the address that failed. */
static int open_all(char addrs[][CONFIG_ADDR_MAX], int n, int port, int *fds, char keep[][CONFIG_ADDR_MAX])
{
    int nf = 0;
    for (int i = 0; i < n && i < CONFIG_BIND_MAX; i++) {
        bool optional = addrs[i][0] == '-';
        const char *a = optional ? addrs[i] + 1 : addrs[i];
        int fd = listen_open_tcp(a, port, listen_backlog, optional);
        if (fd == -2) continue;
        if (fd < 0) {
            int saved = errno;
            LOG_WARNING("Warning: Could not create server TCP listening socket %s:%d: %s", a, port, strerror(saved));
            for (int k = 0; k < nf; k++) close(fds[k]);
            errno = saved;
            return -1;
        }
        snprintf(keep[nf], CONFIG_ADDR_MAX, "%s", addrs[i]);
        fds[nf++] = fd;
    }
    return nf;
}

static void set_store(listen_set_t *s, const int *fds, char keep[][CONFIG_ADDR_MAX], int nf)
{
    for (int i = 0; i < nf; i++) {
        memcpy(s->addr[i], keep[i], CONFIG_ADDR_MAX);
        s->fd[i] = fds[i];
    }
    s->n = nf;
}

int listen_startup(bool tls, char addrs[][CONFIG_ADDR_MAX], int n, int port, int backlog, int *fds)
{
    pthread_mutex_lock(&listen_lock);
    listen_set_t *s = set_of(tls);
    listen_backlog = backlog;
    s->port = port;
    s->n = 0;
    char keep[CONFIG_BIND_MAX][CONFIG_ADDR_MAX];
    int nf = port ? open_all(addrs, n, port, fds, keep) : 0;
    if (nf > 0) set_store(s, fds, keep, nf);
    pthread_mutex_unlock(&listen_lock);
    return nf;
}

/* Hands the set's new fds to every worker; `gone` are the old fds that are
 * not in it (closed after the last worker acknowledged). Holds listen_lock,
 * so two swaps reach each worker's mailbox in the order they were decided. */
static void send_swap(bool tls, const int *fds, int n, const int *gone, int ngone)
{
    listen_retired_t *r = xcalloc(1, sizeof *r);
    r->nfds = ngone;
    memcpy(r->fds, gone, sizeof(int) * (size_t)ngone);
    if (g_nworkers == 0) {                 /* no worker watches anything yet */
        for (int i = 0; i < ngone; i++) close(gone[i]);
        free(r);
        return;
    }
    /* Relaxed is enough for the initial value: rt_send publishes it with the
     * message (release on the mailbox push). */
    atomic_store_explicit(&r->pending, g_nworkers, memory_order_relaxed);
    for (int w = 0; w < g_nworkers; w++) {
        listen_swap_msg_t *m = xcalloc(1, sizeof *m);
        m->hdr.type = WMSG_LISTENERS;
        m->tls = tls;
        m->nfds = n;
        memcpy(m->fds, fds, sizeof(int) * (size_t)n);
        m->retired = r;
        rt_send(&g_workers[w]->actor, &m->hdr);
    }
}

void listen_attach(bool tls, const int *fds, int n)
{
    pthread_mutex_lock(&listen_lock);
    send_swap(tls, fds, n, fds, 0);
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

/* A rebind of one set in the making: what it opened, kept and released. */
typedef struct rebind_plan {
    int new_fd[CONFIG_BIND_MAX];          /* -1: not yet open, -2: optional and absent */
    bool opened[CONFIG_BIND_MAX];         /* a socket we created for this rebind */
    bool kept[CONFIG_BIND_MAX];           /* per old socket: still in the set */
    bool released[CONFIG_BIND_MAX];       /* per old socket: stopped listening to make room */
    const char *failed;                   /* the address that could not be bound */
} rebind_plan_t;

static int plan_open(listen_set_t *s, rebind_plan_t *p, char addrs[][CONFIG_ADDR_MAX], int i, bool busy_ok)
{
    bool optional = addrs[i][0] == '-';
    int fd = listen_open_tcp(optional ? addrs[i] + 1 : addrs[i], s->port, listen_backlog, optional);
    if (fd == -1 && !(busy_ok && errno == EADDRINUSE)) {
        p->failed = addrs[i];
        return -1;
    }
    p->new_fd[i] = fd;
    if (fd >= 0) p->opened[i] = true;
    return 0;
}

/* Opens what the new addresses need, keeping the sockets of addresses
 * already listened on. 0, or -1 with p->failed set (rebind_undo cleans). */
static int rebind_prepare(listen_set_t *s, rebind_plan_t *p, char addrs[][CONFIG_ADDR_MAX], int n)
{
    memset(p, 0, sizeof *p);
    if (s->port == 0) return 0;    /* as 7.0.15, the new bind is only remembered */
    for (int i = 0; i < n; i++) {
        p->new_fd[i] = -1;
        for (int j = 0; j < s->n; j++) {
            if (!p->kept[j] && !strcmp(s->addr[j], addrs[i])) { p->kept[j] = true; p->new_fd[i] = s->fd[j]; break; }
        }
        if (p->new_fd[i] < 0 && plan_open(s, p, addrs, i, true) != 0) return -1;
    }
    /* A new address that collides may collide with one of our own old
     * sockets (a wildcard giving way to a specific address, or the
     * reverse): stop those listening (the fd stays open, so workers
     * watching it are unharmed) and try again. */
    bool retry = false;
    for (int i = 0; i < n; i++) if (p->new_fd[i] == -1) retry = true;
    if (!retry) return 0;
    for (int j = 0; j < s->n; j++) {
        if (p->kept[j]) continue;
        shutdown(s->fd[j], SHUT_RDWR);
        p->released[j] = true;
    }
    for (int i = 0; i < n; i++)
        if (p->new_fd[i] == -1 && plan_open(s, p, addrs, i, false) != 0) return -1;
    return 0;
}

/* The workers switch, the old sockets that left the set close. */
static void rebind_commit(listen_set_t *s, rebind_plan_t *p, char addrs[][CONFIG_ADDR_MAX], int n)
{
    if (s->port == 0) return;
    int fds[CONFIG_BIND_MAX] = {0}, nf = 0, gone[CONFIG_BIND_MAX] = {0}, ngone = 0;
    char keep[CONFIG_BIND_MAX][CONFIG_ADDR_MAX];
    for (int i = 0; i < n; i++) {
        if (p->new_fd[i] < 0) continue;
        snprintf(keep[nf], CONFIG_ADDR_MAX, "%s", addrs[i]);
        fds[nf++] = p->new_fd[i];
    }
    for (int j = 0; j < s->n; j++) if (!p->kept[j]) gone[ngone++] = s->fd[j];
    send_swap(s->tls, fds, nf, gone, ngone);
    set_store(s, fds, keep, nf);
}

static void rebind_undo(listen_set_t *s, rebind_plan_t *p, int n)
{
    for (int i = 0; i < n; i++) if (p->opened[i]) close(p->new_fd[i]);
    for (int j = 0; j < s->n; j++) {
        if (p->released[j] && listen(s->fd[j], listen_backlog) != 0)
            LOG_WARNING("Could not listen again on %s:%d after a failed rebind: %s", s->addr[j], s->port, strerror(errno));
    }
}

int listen_rebind(char addrs[][CONFIG_ADDR_MAX], int n)
{
    if (n > CONFIG_BIND_MAX) return -1;
    pthread_mutex_lock(&listen_lock);
    /* Both sets move together, as 7.0.15's changeBindAddr: either both
     * listen on the new addresses or both stay where they were. */
    rebind_plan_t plan[2];
    int k = 0;
    for (; k < 2; k++)
        if (rebind_prepare(&sets[k], &plan[k], addrs, n) != 0) break;
    if (k == 2) {
        for (int j = 0; j < 2; j++) rebind_commit(&sets[j], &plan[j], addrs, n);
        pthread_mutex_unlock(&listen_lock);
        return 0;
    }
    int saved = errno;
    LOG_WARNING("Warning: Could not create server TCP listening socket %s:%d: %s", plan[k].failed, sets[k].port,
                strerror(saved));
    LOG_WARNING("Failed to bind");
    for (int j = k; j >= 0; j--) rebind_undo(&sets[j], &plan[j], n);
    pthread_mutex_unlock(&listen_lock);
    errno = saved;
    return -1;
}

int listen_change_port(bool tls, int port, char addrs[][CONFIG_ADDR_MAX], int n)
{
    if (n > CONFIG_BIND_MAX) return -1;
    pthread_mutex_lock(&listen_lock);
    listen_set_t *s = set_of(tls);
    if (port == s->port) {
        pthread_mutex_unlock(&listen_lock);
        return 0;
    }
    /* The new sockets first: a port that cannot be bound leaves the node
     * listening where it did (7.0.15 ends up there too, by re-applying the
     * old value after its close-then-bind failed). */
    int fds[CONFIG_BIND_MAX];
    char keep[CONFIG_BIND_MAX][CONFIG_ADDR_MAX];
    int nf = port ? open_all(addrs, n, port, fds, keep) : 0;
    if (nf < 0 || (port && nf == 0)) {
        int saved = errno;
        if (nf == 0) LOG_WARNING("Failed listening on port %d (%s)", port, tls ? "TLS" : "TCP");
        pthread_mutex_unlock(&listen_lock);
        errno = saved;
        return -1;
    }
    send_swap(tls, fds, nf, s->fd, s->n);
    set_store(s, fds, keep, nf);
    s->port = port;
    pthread_mutex_unlock(&listen_lock);
    return 0;
}

/* accept.c - taking new connections: the listeners' accept loop, dealing
 * each connection to the worker that will serve it (placement.h, or one not
 * in a busy script: busy.c), refusing what maxclients, protected mode or a
 * lack of descriptors refuse, and setting up the client on its worker.
 *
 * Must never: set up a client on another worker's thread (a connection for
 * another worker goes to it as WMSG_NEWCONN), or spin on a listener that
 * stays readable while no descriptor is free.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/acl/acl.h"
#include "actors/config/config.h"
#include "actors/worker/client.h"
#include "actors/worker/client_ids.h"
#include "actors/worker/fdlimit.h"
#include "actors/worker/placement.h"
#include "actors/worker/protect.h"
#include "actors/worker/unixsock.h"
#include "actors/worker/worker_internal.h"
#include "runtime/log.h"
#include "runtime/tls.h"

static void format_addr(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
        port = ntohs(s4->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
        port = ntohs(s6->sin6_port);
    }
    snprintf(out, cap, "%s:%d", ip, port);
}

typedef struct newconn {
    rt_msg_t hdr;
    int fd;
    bool tls;
    struct sockaddr_storage ss;
} newconn_t;

/* Sets up a connection on the worker that will own it (its own thread);
 * `tls`: it came in on tls-port, and this worker does its handshake. */
static void adopt_connection(worker_t *w, int fd, const struct sockaddr_storage *ss, bool tls)
{
    bool local = protect_peer_is_local(ss);
    if (protect_refuses_connection(local)) {
        if (!tls) protect_send_denied(fd);   /* plain text would mean nothing to a TLS client */
        close(fd);
        atomic_fetch_sub_explicit(&w->stats.connected_clients, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&w->stats.rejected_connections, 1, memory_order_relaxed);
        return;
    }
    bool unix_socket = ss->ss_family == AF_UNIX;
    int one = 1;
    if (!unix_socket) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    client_t *c = calloc(1, sizeof *c);
    tls_conn_t *t = tls ? tls_conn_accepted(fd) : NULL;
    if (!c || (tls && !t)) {
        if (tls && !t) LOG_WARNING("Error accepting a client connection: TLS is not configured");
        free(c);
        close(fd);
        atomic_fetch_sub_explicit(&w->stats.connected_clients, 1, memory_order_relaxed);
        return;
    }
    c->tls = t;
    c->local = local;
    c->lent_fd_to_close = -1;
    c->worker = w;
    c->id = atomic_fetch_add(&g_next_client_id, 1);
    client_ids_add(c->id);
    c->fd = fd;
    c->proto = 2;
    c->multi_slot = -1;
    c->watch_slot = -1;
    c->created_ms = c->last_interaction_ms = rt_now_ms();
    c->last_cmd = "NULL";
    if (unix_socket) {
        /* Both ends are named by the configured path, as Redis shows them. */
        c->flags |= CLIENT_UNIX_SOCKET;
        snprintf(c->addr, sizeof c->addr, "%s:0", unixsock_path());
        snprintf(c->laddr, sizeof c->laddr, "%s:0", unixsock_path());
    } else {
        format_addr(ss, c->addr, sizeof c->addr);
        struct sockaddr_storage ls;
        socklen_t ll = sizeof ls;
        if (getsockname(fd, (struct sockaddr *)&ls, &ll) == 0) format_addr(&ls, c->laddr, sizeof c->laddr);
    }
    c->acl_uid = ACL_UID_DEFAULT;
    if (acl_default_open()) c->flags |= CLIENT_AUTHENTICATED;
    resp_parser_init(&c->parser, config_proto_max_bulk_len());
    c->parser.authenticated = (c->flags & CLIENT_AUTHENTICATED) || acl_default_open();
    resp_buf_init(&c->out, 2);
    worker_client_attach(w, c);
    atomic_fetch_add_explicit(&w->stats.connections_received, 1, memory_order_relaxed);
}

#define ACCEPT_BACKOFF_MS 100

/* The listeners watch again after a rest (see accept_rest). */
static void accept_backoff_cb(rt_timer_t *t, void *arg)
{
    (void)t;
    worker_t *w = arg;
    struct ev_loop *loop = rt_thread_loop(w->thread);
    w->accept_resting = false;
    for (int k = 0; k < w->nlisten; k++) ev_io_start(loop, &w->listen_w[k]);
    for (int k = 0; k < w->ntls_listen; k++) ev_io_start(loop, &w->tls_listen_w[k]);
    if (unixsock_fd() >= 0) ev_io_start(loop, &w->unix_listen_w);
}

/* Out of descriptors and no connection could be refused: a listening
 * socket with clients waiting stays readable, so watching it now would
 * spin this thread. Stop watching for a short while instead. */
static void accept_rest(worker_t *w)
{
    struct ev_loop *loop = rt_thread_loop(w->thread);
    for (int k = 0; k < w->nlisten; k++) ev_io_stop(loop, &w->listen_w[k]);
    for (int k = 0; k < w->ntls_listen; k++) ev_io_stop(loop, &w->tls_listen_w[k]);
    if (unixsock_fd() >= 0) ev_io_stop(loop, &w->unix_listen_w);
    if (w->accept_resting) return;      /* the timer is already set */
    w->accept_resting = true;
    rt_timer_start(&w->accept_backoff, w->thread, ACCEPT_BACKOFF_MS, 0, accept_backoff_cb, w);
}

/* Any worker may win the accept; connections are then dealt round-robin
 * over the workers that take connections now (placement.h). */
void worker_accept_cb(struct ev_loop *loop, ev_io *lw, int revents)
{
    (void)revents; (void)loop;
    worker_t *w = lw->data;
    for (int i = 0; i < 32; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = fdlimit_accept(lw->fd, &ss, &sl);
        if (fd < 0) {
            /* EAGAIN: another worker took it, or nothing left. */
            if (errno == EMFILE || errno == ENFILE) {
                if (fdlimit_out_of_fds(lw->fd, errno)) {
                    atomic_fetch_add_explicit(&w->stats.rejected_connections, 1, memory_order_relaxed);
                    continue;
                }
                accept_rest(w);
            }
            return;
        }
        fdlimit_accept_ok();
        bool tls = lw >= &w->tls_listen_w[0] && lw < &w->tls_listen_w[MAX_TLS_LISTEN];
        int target = worker_busy_retarget(w, tls ? placement_pick_tls() : placement_pick());
        if (!fdlimit_admit(target)) {
            const char *msg = fdlimit_maxclients_error();
            ssize_t ignored = tls ? 0 : write(fd, msg, strlen(msg));
            (void)ignored;
            close(fd);
            atomic_fetch_add_explicit(&w->stats.rejected_connections, 1, memory_order_relaxed);
            continue;
        }
        if (target == w->index) {
            adopt_connection(w, fd, &ss, tls);
            continue;
        }
        newconn_t *m = calloc(1, sizeof *m);
        if (!m) {   /* nobody will serve it: it leaves the count it was given */
            atomic_fetch_sub_explicit(&g_workers[target]->stats.connected_clients, 1, memory_order_relaxed);
            close(fd);
            continue;
        }
        m->hdr.type = WMSG_NEWCONN;
        m->fd = fd;
        m->tls = tls;
        m->ss = ss;
        rt_send(&g_workers[target]->actor, &m->hdr);
    }
}

void worker_adopt_newconn(worker_t *w, rt_msg_t *msg)
{
    newconn_t *m = (newconn_t *)msg;
    adopt_connection(w, m->fd, &m->ss, m->tls);
    free(m);
}

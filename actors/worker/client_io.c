/* client_io.c - a client connection's reads and writes, plain or through its
 * TLS session (runtime/tls.h), on the worker that owns the connection.
 *
 * A TLS session may need the other readiness than the call asks for: a read
 * that must write first turns the write watcher on (write_cb retries the
 * read), a write that must read first waits for the read watcher, which is
 * always on (client_read retries the write).
 *
 * Never: block, or touch a client of another worker.
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "actors/config/config.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/worker_internal.h"
#include "runtime/log.h"
#include "runtime/tls.h"

/* One write on the client's socket, through its TLS session if it has one.
 * A session that must read before it can write waits for readability,
 * which the read watcher (always on) reports: read_cb then retries. */
ssize_t client_sock_write(client_t *c, const void *p, size_t len)
{
    if (!c->tls) return write(c->fd, p, len);
    ssize_t n = tls_conn_write(c->tls, p, len);
    c->tls_write_wants_read = n < 0 && errno == EAGAIN && !tls_conn_wants_write(c->tls);
    return n;
}

/* One read from the client's socket, through its TLS session if it has one
 * (which may need the socket writable first: write_cb retries then). */
ssize_t client_sock_read(client_t *c, void *buf, size_t len)
{
    if (!c->tls) return read(c->fd, buf, len);
    ssize_t n = tls_conn_read(c->tls, buf, len);
    if (n > 0) {
        /* Records already decrypted no socket event will announce. */
        while ((size_t)n < len && tls_conn_pending(c->tls)) {
            ssize_t more = tls_conn_read(c->tls, (uint8_t *)buf + n, len - (size_t)n);
            if (more <= 0) break;
            n += more;
        }
        return n;
    }
    if (n < 0 && errno == EAGAIN && tls_conn_wants_write(c->tls)) {
        c->tls_read_wants_write = true;
        if (!c->wio_active) {
            ev_io_start(rt_thread_loop(c->worker->thread), &c->wio);
            c->wio_active = true;
        }
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR && !tls_conn_handshake_done(c->tls))
        LOG_WARNING("Error accepting a client connection: %s (conn: fd=%d, addr=%s, laddr=%s)",
                    tls_conn_error(c->tls), c->fd, c->addr, c->laddr);
    return n;
}

/* A TLS record header of type handshake (22), version 3.x: no RESP
 * command or inline command starts with these bytes. */
bool client_looks_like_tls_hello(const uint8_t *p, size_t n)
{
    return n >= 3 && p[0] == 0x16 && p[1] == 0x03 && p[2] <= 0x04;
}

/* dispatch.h: in a TLS cluster a plain-text client can only use plain ports. */
int dispatch_port(const client_t *c, const node_view_t *n)
{
    bool plain = c && !c->tls && config_get_num(CONFIG_TLS_CLUSTER);
    return plain && n->pport ? n->pport : n->port;
}

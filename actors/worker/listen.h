/* listen.h - the client listening sockets, two sets of them (`port` and
 * `tls-port`): opened at startup for the bind addresses, and replaced by
 * CONFIG SET bind, port and tls-port without a moment in which the node
 * listens nowhere it should.
 *
 * Every worker watches the same listening fds (worker.c). A rebind opens
 * the new sockets first, hands the new set to every worker by message, and
 * the last worker to let go of the old set closes the sockets that left it.
 * `tls` picks the set: connections accepted on the TLS set speak TLS.
 *
 * Never: close a listening fd while a worker may still watch it.
 */
#ifndef SHOAL_ACTORS_LISTEN_H
#define SHOAL_ACTORS_LISTEN_H

#include <stdbool.h>
#include "actors/config/config.h"
#include "runtime/mailbox.h"

/* Opens one listening TCP socket on addr:port ("*" = every IPv4 address,
 * "::*" = every IPv6 address, a name is resolved as Redis's anet does).
 * Returns the fd, -1 with errno set, or -2 when `optional` and the address
 * does not exist on this host. */
int listen_open_tcp(const char *addr, int port, int backlog, bool optional);

/* Startup: opens a socket for every address (the "-" prefix marks an
 * optional one) and remembers the set as the current one (port 0: none).
 * Returns the number of fds written to `fds` (capacity CONFIG_BIND_MAX), or
 * -1 after logging the address that failed. main() only, before the
 * workers exist. */
int listen_startup(bool tls, char addrs[][CONFIG_ADDR_MAX], int n, int port, int backlog, int *fds);

/* CONFIG SET bind: makes `addrs` the listening addresses of both sets
 * (they move together, as in 7.0.15). Addresses already
 * listened on keep their socket; the others are opened before any old one
 * is given up (an old wildcard socket that blocks a new specific address is
 * released first, and restored if the new one still cannot be bound).
 * Returns 0, or -1 with the old set still listening. Any thread; calls are
 * serialized. */
int listen_rebind(char addrs[][CONFIG_ADDR_MAX], int n);

/* CONFIG SET port / tls-port: the set listens on `port` at the bind
 * addresses `addrs` (port 0: not at all) and gives up the old port's
 * sockets once every worker let go of them. Returns 0, or -1 with the old
 * sockets still listening. Any thread; serialized with listen_rebind. */
int listen_change_port(bool tls, int port, char addrs[][CONFIG_ADDR_MAX], int n);

/* WMSG_LISTENERS: the set a worker must watch from now on. */
typedef struct listen_swap_msg {
    rt_msg_t hdr;
    bool tls;                         /* which set: tls-port's or port's */
    int nfds;
    int fds[CONFIG_BIND_MAX];
    struct listen_retired *retired;   /* old sockets to close once every worker let go */
} listen_swap_msg_t;

/* The worker has stopped watching its old fds and watches m->fds now; frees m. */
void listen_swap_done(listen_swap_msg_t *m);
/* Startup: workers started without these listeners (the TLS set, or an
 * AOF was replayed first) start watching `fds` (what listen_startup opened). */
void listen_attach(bool tls, const int *fds, int n);

#endif

/* outconn.h - the non-blocking connect of the connections a worker opens
 * itself to another node's client port (MIGRATE's cached sockets, the
 * slot-migration lanes).
 *
 * Never: block, except for resolving a host name that is not an address
 * (7.0.15 resolves it the same blocking way).
 */
#ifndef SHOAL_ACTORS_OUTCONN_H
#define SHOAL_ACTORS_OUTCONN_H

/* Opens a non-blocking TCP socket (TCP_NODELAY) connecting to host:port
 * into *fd: 0 connected at once, 1 in progress (wait for writability and
 * read SO_ERROR), -1 failed at once (no fd). A port outside 0..65535 is
 * taken modulo 2^16, a negative one fails, as 7.0.15's text port does. */
int outconn_open(const char *host, int port, int *fd);

#endif

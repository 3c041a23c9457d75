/* link_tls.h - TLS for cluster bus links (tls-cluster yes); see link_tls.c.
 * Link threads only, each on its own links. */
#ifndef SHOAL_ACTORS_BUS_LINK_TLS_H
#define SHOAL_ACTORS_BUS_LINK_TLS_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include "actors/bus/link_send.h"
#include "runtime/tls.h"

/* The session for a link's new socket when tls-cluster is on (NULL when off,
 * or when it could not be made: the caller then closes the link if TLS is
 * on). An outbound one sends its ClientHello at once; an inbound one
 * verifies the peer's certificate as tls-auth-clients says. */
tls_conn_t *link_tls_start(int fd, bool outbound);

/* link_wq_write for a TLS link, after its staged bytes (link_tls_stage):
 * the same statuses, plus LINK_WQ_WAIT_READ when the session must read
 * before it writes again. */
int link_tls_wq_write(link_wq_t *q, tls_conn_t *t, size_t *written);

/* Reads as tls_conn_read, then on while records decrypted or read ahead
 * are left and buf has room: several records for one pass of the frame
 * splitter (a frame cut at the end of a read is copied to be completed).
 * When a read after the first fails (or must wait: EAGAIN), what it
 * returned goes in *end (0 or -1) with its errno in *end_errno, for the
 * caller to act on once the bytes are taken; else *end is 1. */
ssize_t link_tls_read(tls_conn_t *t, uint8_t *buf, size_t cap, ssize_t *end, int *end_errno);

/* A frame built on this thread (a PONG) for a handshaken link whose queue
 * is empty: copied into the thread's record being filled, which is
 * encrypted once it holds 16 KB; the caller's next link_tls_wq_write, in
 * the same read round, sends the rest. What the socket does not take goes
 * to q. 0, or -1 when memory ran out. *written grows by the bytes sent. */
int link_tls_stage(link_wq_t *q, tls_conn_t *t, const uint8_t *data, size_t len, size_t *written);
/* The link of t closes: its staged bytes are dropped. */
void link_tls_stage_drop(tls_conn_t *t);

/* A TLS handshake with the peer at `ip` failed for `why`: logged (warning)
 * the first time, then at most once a minute per address. Any thread. */
void link_tls_refused(const char *ip, bool outbound, const char *why);

#endif

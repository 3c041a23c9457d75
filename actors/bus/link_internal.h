/* link_internal.h - what link.c (the link actors), link_registry.c (their
 * registry) and link_listen.c (the bus listener) share. Nothing outside the link layer
 * includes this.
 *
 * Must never: be included by other modules; they use actors/bus/link.h.
 */
#ifndef SHOAL_ACTORS_LINK_INTERNAL_H
#define SHOAL_ACTORS_LINK_INTERNAL_H

#include <sys/socket.h>
#include "actors/bus/link.h"
#include "proto/bus_stream.h"
#include "runtime/snapshot.h"

/* Records the threads links run on and the actor that gets their events and
 * frames. Called once by links_start, before the listener starts. */
void link_configure(rt_thread_t **threads, int nthreads, rt_actor_t *state);

/* Listener thread: turns an accepted, non-blocking socket into an inbound
 * link on the next thread (round-robin) and posts LINK_EV_ACCEPTED. Takes
 * ownership of fd (closed on failure). Returns the link's id, or 0. */
link_id_t link_adopt_inbound(int fd, const struct sockaddr_storage *peer);

/* link_registry.c: the live links by id. */
struct link;
/* Makes the link findable and sends it START (l->start_msg), both under the
 * lock: every other sender pushes under the lock too, so START is the first
 * message the link handles, and the link cannot tear down (which takes the
 * lock) before it is registered. 0, or -1 out of memory (not registered). */
int link_reg_add_and_start(struct link *l);
/* Its own thread, as it closes: no thread finds it after this. */
void link_reg_remove(struct link *l);
/* The lock every sender to a link holds across its lookup and its push. */
void link_reg_lock(void);
void link_reg_unlock(void);
/* With the lock held: the link with that id, or NULL. */
struct link *link_reg_find(link_id_t id);

/* link_pubsub.c: PUBLISH and PUBLISHSHARD frames on the read path. */
/* The payload cap of the link's frame splitter: every PUBLISH a 7.0.15 node can send. */
uint32_t link_read_cap_payload(void);
/* Between frames: whether the next PUBLISH / PUBLISHSHARD bodies are read
 * (some client here subscribes to that family) or skipped unread. */
void link_publish_keep(bus_stream_t *rx);
/* A PUBLISH / PUBLISHSHARD read whole: delivered to this node's subscribers
 * when its sender is known (reader NULL: not checked), as 7.0.15; then m is
 * left holding the header only, for the state actor. */
void link_publish_in(rt_snap_reader_t *reader, const bus_stream_frame_t *f, bus_msg_t *m);

/* One live link as CLUSTER LINKS shows it (a copy taken under the registry
 * lock; the statistics are relaxed reads). */
typedef struct link_row {
    link_id_t id;
    bool outbound;
    long long create_ms;          /* wall clock */
    int events;                   /* 1 = read watcher, 2 = write watcher */
    long long sendbuf_alloc, sendbuf_used;
    long long struct_bytes;       /* the link's own record */
} link_row_t;

/* Any thread: a malloc'ed copy of every registered link (the caller frees
 * it; NULL with *n = 0 when there are none or memory ran out). */
link_row_t *link_rows(size_t *n);

/* A numeric IPv4 or IPv6 address and a port as a socket address: 0, or -1
 * when ip is not a numeric address. */
int link_sockaddr(const char *ip, int port, struct sockaddr_storage *ss, socklen_t *sl);

/* Text form of a socket address ("" when unknown). */
void link_format_ip(const struct sockaddr_storage *ss, char *out, size_t cap);

/* link_connect.c: an outbound link's socket. */
enum link_sock_status {
    LINK_SOCK_CONNECTED,          /* connect() succeeded at once */
    LINK_SOCK_IN_PROGRESS,        /* wait for the socket to be writable, then read SO_ERROR */
    LINK_SOCK_FAILED,             /* no socket or a bad address: connect() was never called */
    LINK_SOCK_REFUSED,            /* connect() itself failed */
};
/* A non-blocking TCP_NODELAY socket connecting to ip:port, in *fd (-1 when
 * none was made; the caller closes it otherwise). Failures are logged with
 * node_name. Returns enum link_sock_status. */
int link_socket_connect(const char *node_name, const char *ip, int port, int *fd);
/* The peer's and our own address of a connected socket, each into cap bytes
 * (left as they were when unknown). */
void link_socket_addresses(int fd, char *peer_ip, char *local_ip, size_t cap);

#endif

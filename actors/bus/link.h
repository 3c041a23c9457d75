/* link.h - peer link actors: one per cluster-bus connection.
 *
 * A link owns one socket, its read buffer and its write queue. It reads
 * whole frames, validates and decodes them with proto/bus on its own thread,
 * answers PING and MEET with a PONG built from the current snapshot (so the
 * reply never waits for the state actor), and forwards every valid frame to
 * the state actor as the message it decoded (link_rec_t), so that a frame
 * is decoded once. It writes the frames it is given. Links are spread over
 * the runtime's worker threads.
 *
 * The state actor owns the mapping from node records to links: it opens an
 * outbound link per record (link_connect), sends frames by link id
 * (link_send) and closes links (link_close). Inbound links are created by the
 * bus listener; their frames reach the state actor tagged with the link id,
 * and the state actor binds them to records.
 *
 * Must never: change cluster state, block, or let a stopped peer grow our
 * memory without bound (cluster-link-sendbuf-limit).
 */
#ifndef SHOAL_ACTORS_LINK_H
#define SHOAL_ACTORS_LINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/bus/link_send.h"
#include "proto/bus.h"
#include "proto/resp.h"
#include "runtime/actor.h"
#include <netinet/in.h>

typedef uint64_t link_id_t;       /* never 0; never reused */

/* Message types the link layer sends to the state actor. */
enum {
    STATE_MSG_LINK_EVENT = 200,   /* link_event_t */
    STATE_MSG_FRAME,              /* link_frame_t */
};

enum link_event_kind {
    LINK_EV_CONNECTED = 1,        /* outbound connect completed: the state actor sends MEET or PING */
    LINK_EV_CONNECT_FAILED,       /* outbound connect failed (sync or async); the link is gone */
    LINK_EV_CLOSED,               /* I/O error, EOF, bad signature/length, sendbuf limit, or link_close */
    LINK_EV_ACCEPTED,             /* a new inbound link (not bound to any record yet) */
};

typedef struct link_event {
    rt_msg_t hdr;                 /* type STATE_MSG_LINK_EVENT; the receiver frees it */
    link_id_t id;
    int kind;                     /* enum link_event_kind */
    bool outbound;
    bool sendbuf_limit;           /* CLOSED because of cluster-link-sendbuf-limit */
    bool sync_failure;            /* CONNECT_FAILED: connect() itself failed (not later, asynchronously) */
    char node_name[BUS_NAME_LEN + 1];   /* outbound: the record it was opened for */
} link_event_t;

/* One frame as the link decoded it, once: its decoded message (what
 * bus_decode gives, slot bitmap included) followed by a copy of its body,
 * which the message's views point into. A frame whose body the link skipped
 * (PUBLISH, MODULE, types 7.0.15 does not know) comes with its header only:
 * no body bytes, and its body views are NULL. */
typedef struct link_rec {
    bus_msg_t msg;
    bool pong_noted;              /* a PONG the link counted in the liveness table already (state_live.h) */
    uint8_t body[];               /* msg.body_len bytes */
} link_rec_t;

/* Bytes a record with a body of body_len bytes takes in link_frame_t.data
 * (rounded up so that the next record is aligned). */
static inline size_t link_rec_size(size_t body_len)
{
    size_t n = sizeof(link_rec_t) + body_len, a = _Alignof(link_rec_t);
    return (n + a - 1) / a * a;
}

/* The frames of one read round, decoded. */
typedef struct link_frame {
    rt_msg_t hdr;                 /* type STATE_MSG_FRAME; the receiver frees it */
    link_id_t id;
    bool outbound;
    char node_name[BUS_NAME_LEN + 1];   /* outbound: the record it was opened for; inbound: "" */
    char peer_ip[INET6_ADDRSTRLEN];             /* remote address of the socket (text) */
    char local_ip[INET6_ADDRSTRLEN];            /* local address of the socket (text) */
    long long received_ms;
    struct state_live *counted;   /* the counter this message was counted in (state_live_t.pending), or NULL */
    uint32_t count;               /* records in data */
    size_t len;                   /* bytes of data */
    _Alignas(link_rec_t) uint8_t data[];   /* `count` link_rec_t, back to back, in the order read */
} link_frame_t;

/* The record after `prev` in f (the first when prev is NULL); NULL after the last. */
static inline link_rec_t *link_frame_next(link_frame_t *f, const link_rec_t *prev)
{
    size_t off = prev ? (size_t)((const uint8_t *)prev - f->data) + link_rec_size(prev->msg.body_len) : 0;
    return off < f->len ? (link_rec_t *)(void *)(f->data + off) : NULL;
}

/* Opens the bus listening sockets on every bind address at `bus_port`, not
 * yet watched (the kernel queues peers until links_start), so that startup
 * can fail on a busy bus port before it logs that it is ready, as
 * redis-server does. Returns 0 (also when already open), or -1 with a logged
 * reason. Main thread, before links_start. */
int links_open(char addrs[][256], int naddrs, int bus_port);

/* Starts the bus listener (opening it first unless links_open did). Links
 * are created on `threads` (round-robin). Events and frames go to `state`.
 * Returns 0, or -1 with a logged reason. */
int links_start(char addrs[][256], int naddrs, int bus_port, rt_thread_t **threads, int nthreads,
                rt_actor_t *state);

/* Any thread. Opens an outbound link to ip:port (IPv4 or IPv6 text) for
 * record `node_name`. Returns the new link's id; the outcome arrives as a
 * link_event_t. Returns 0 (no link, no event) when links_start has not run
 * yet or memory ran out: the caller retries on its next tick. */
link_id_t link_connect(const char *node_name, const char *ip, int port);

/* Any thread. A fresh link id, for a link opened later with link_connect_as:
 * the state actor records the id at once and opens the link after its
 * message (its outbox). Ids are never reused. */
link_id_t link_reserve_id(void);
/* Every link opened from now on gets an id at least this (ids only grow):
 * what a command that closed a link gives the commands after it in its
 * transaction, which must not use a link opened since (cmd_pubsub.c). */
link_id_t link_id_floor(void);
/* As link_connect, under an id from link_reserve_id (each used once). False,
 * with no link and no event, when link_connect would have returned 0. */
bool link_connect_as(link_id_t id, const char *node_name, const char *ip, int port);

/* Any thread. Queues a copy of `frame` on the link; silently dropped when the
 * link no longer exists. Counts the frame in the per-type sent stats. */
void link_send(link_id_t id, const uint8_t *frame, size_t len);
/* Any thread. As link_send, without a copy: the link queues a reference to
 * `frame` (the caller keeps its own). One frame broadcast to every peer is
 * one allocation however many links write it (link_send.h). */
void link_send_shared(link_id_t id, shared_frame_t *frame);

/* Any thread. Closes the link (no event is sent for a close asked this way). */
void link_close(link_id_t id);

/* One peer as CLUSTER LINKS and INFO peers walk them: the record's name and
 * the ids of the links bound to it (0 = none), as the caller's snapshot has
 * them. */
typedef struct link_peer {
    const char *name;             /* NODE_NAME_LEN bytes */
    link_id_t out_link, in_link;
} link_peer_t;

/* CLUSTER LINKS reply (RESP2 flat arrays / RESP3 maps) with 7.0.15's six
 * fields: for each peer in the order given, its `to` link, then its `from`
 * link, as 7.0.15 walks its node table. Links that closed since the caller's
 * snapshot are left out. */
void links_reply(resp_buf_t *r, const link_peer_t *peers, size_t npeers);
/* Bytes the cluster bus links hold (their records and send buffers): INFO's
 * mem_cluster_links, as 7.0.15 sums its links' memory. Any thread. */
long long links_memory(void);

/* What INFO peers shows of one link (a relaxed copy; -1 fields when the link
 * is gone). */
typedef struct link_stats {
    bool live;
    long long rtt_us;             /* outbound: last PING/MEET to PONG time; -1 = never measured */
    long long bytes_in, bytes_out;
    long long light_in, light_out;   /* light frames (docs/cluster-bus.md §9) */
} link_stats_t;
link_stats_t link_stats_of(link_id_t id);

/* Number of live links (registered: not yet closed). For tests and INFO. */
size_t links_count(void);

/* Bus statistics (relaxed counters, for CLUSTER INFO; the messages sent and
 * received are counted per thread, bus_dstats.h). */
extern _Atomic long long g_links_buffer_limit_exceeded;

/* DEBUG DROP-CLUSTER-PACKET-FILTER <type>: frames of this type (-1: none) are
 * dropped on receipt, before any processing. */
extern _Atomic int g_bus_drop_filter;

#endif

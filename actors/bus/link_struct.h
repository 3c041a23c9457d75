/* link_struct.h - the link actor's record (link.c), apart so that link.c
 * stays within the 1,000 lines a file may have.
 *
 * Must never: be included outside link.c and link_place.c (which moves
 * links between threads); every other file reaches links through link.h
 * and link_internal.h.
 */
#ifndef SHOAL_ACTORS_BUS_LINK_STRUCT_H
#define SHOAL_ACTORS_BUS_LINK_STRUCT_H

#include <arpa/inet.h>
#include <ev.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "actors/bus/bus_digest.h"
#include "actors/bus/link.h"
#include "actors/bus/link_light.h"
#include "actors/bus/link_pressure.h"
#include "actors/bus/link_send.h"
#include "proto/bus_stream.h"
#include "runtime/actor.h"
#include "runtime/tls.h"

typedef struct link link_t;
struct link {
    rt_actor_t actor;
    bool connect_failed_sync;        /* connect() returned an error at once */
    link_frame_t *fwd;               /* frames read this round, going to the state actor as one message */
    size_t fwd_cap;
    rt_msg_t start_msg, close_msg;   /* embedded: these can never fail to be sent */
    rt_msg_t adopt_msg;              /* embedded: sent once per move, as the first message on the new thread */
    link_t *tnext, *tprev;           /* its thread's list of links (link_place.c; owning thread) */
    bool listed;                     /* on that list */
    _Atomic bool close_sent;
    link_id_t id;
    int fd;
    tls_conn_t *tls;                 /* tls-cluster: the session on fd (link_tls.h) */
    bool tls_read_wants_write;       /* a TLS read waits for the socket to be writable */
    bool outbound;
    bool connecting;                 /* outbound connect still in progress */
    bool announce_pending;           /* outbound: LINK_EV_CONNECTED not posted yet (announce_connected) */
    bool dead;                       /* torn down, waiting to be freed */
    bool flush_queued;               /* on its thread's flush list */
    char node_name[BUS_NAME_LEN + 1];
    char peer_ip[INET6_ADDRSTRLEN], local_ip[INET6_ADDRSTRLEN];
    char connect_ip[INET6_ADDRSTRLEN];
    int connect_port;
    ev_io rio, wio;
    bus_stream_t rx;
    /* the head of a frame whose body is still being skipped: it is acted on
     * once the frame has ended, as 7.0.15 acts on a frame only once it has
     * read it whole (binding an inbound link to the header's sender, say,
     * must not happen while the body still streams in); malloc'ed while held */
    uint8_t *held_head;
    uint32_t held_len;               /* 0: none */
    uint32_t held_totlen;
    link_wq_t wq;                    /* frames waiting for the socket, by reference (link_send.c) */
    long long request_sent_us;       /* outbound: oldest unanswered PING/MEET (monotonic), 0 = none */
    long long create_ms;
    /* read by CLUSTER LINKS on other threads: relaxed, each value stands alone */
    _Atomic int events;              /* 1 = r, 2 = w */
    _Atomic long long sendbuf_alloc, sendbuf_used, rtt_us;
    _Atomic long long bytes_in, bytes_out;   /* socket bytes read / written (INFO peers) */
    link_t *hnext;                   /* registry chain (registry lock) */
    link_t *fnext;                   /* thread flush list (owning thread) */
    link_t *dnext;                   /* thread dead list (owning thread) */
    bus_digest_cache_t digest;       /* what bus_digest keeps between frames (a few bytes) */
    state_live_t *live;              /* the state actor's counters, once a snapshot showed them */
    link_light_t light;              /* the light encoding with a shoal peer (link_light.h) */
    link_pause_t pause;              /* reads paused while the state actor is behind (link_pressure.h) */
};

#endif

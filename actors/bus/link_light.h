/* link_light.h - one link's share of the light encoding between shoal
 * peers (docs/cluster-bus.md §9, codec in proto/bus_light.h): whether the
 * peer advertised it over this link, and the per-direction state the codec
 * keeps, on the link's own thread.
 *
 * Sending: with `cluster-light-bus yes`, every PING/PONG/MEET we build
 * carries the advertisement (actors/bus/gossip.c); once the peer's own
 * advertisement has arrived over this same link, those frames go light, and
 * so do PUBLISH / PUBLISHSHARD frames of up to 64 KB (§9.8). A
 * peer that never advertised (a redis-server) gets only plain frames, with
 * nothing but 8 reserved header bytes changed. Receiving: a light frame is expanded into the plain frame it
 * stands for before anything else sees it, so every rule stays the rule of
 * the plain frame.
 *
 * Must never: send a light frame on a link the peer did not advertise on,
 * guess a bitmap or a tuple the receiver does not hold (the link closes), or
 * be used from a thread other than the link's.
 */
#ifndef SHOAL_ACTORS_LINK_LIGHT_H
#define SHOAL_ACTORS_LINK_LIGHT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proto/bus.h"
#include "proto/bus_light.h"
#include "proto/bus_stream.h"

typedef struct link_light {
    bool peer_light;                 /* the peer's last PING/PONG/MEET here advertised it */
    bus_light_tx_t *tx;              /* allocated at the first light frame each way */
    bus_light_rx_t *rx;
    bool peer_known;                 /* a PING/PONG/MEET of the peer arrived here */
    uint8_t peer_name[BUS_NAME_LEN]; /* its sender name (the view leaves it out, §9.7) */
    uint64_t peer_v;                 /* the view digest its last one carried (0: none) */
    /* light frames sent / received on this link (INFO peers; relaxed: a
     * statistic, written only by the link's thread) */
    _Atomic long long frames_out, frames_in;
    bus_light_rx_keys_t moving;      /* rx's tuples while the link moves between threads */
} link_light_t;

/* A frame the link's stream handed out: expands a light frame in place
 * (f and msg then describe the plain frame, in a per-thread buffer valid
 * until the next call on this thread) and notes whether a plain
 * PING/PONG/MEET advertised the encoding. False: the light frame could not
 * be expanded, close the link. */
bool link_light_in(link_light_t *ll, bus_stream_frame_t *f, bus_msg_t *msg);

/* A frame about to be queued on the link: *data and *len may be replaced by a
 * per-thread buffer (valid until the next call on this thread) holding the
 * advertised plain frame or its light form. node_name: the name the link
 * was opened to ("" when not known), the peer until its own frames say. */
void link_light_out(link_light_t *ll, const char *node_name, const uint8_t **data, size_t *len);

/* The link moves to another thread (link_place.c). On the old thread:
 * what it sends starts over (the next light frame tells the peer to empty
 * its dictionary, §9.4) and the tuples of what it receives are copied out
 * of this thread's pool; false, changing nothing the peer relies on, when
 * memory ran out (the link then stays). On the new thread: those tuples go
 * into its pool; false when memory ran out (close the link). */
bool link_light_pack(link_light_t *ll);
bool link_light_unpack(link_light_t *ll);

/* The link is going: its state goes back to the thread's pool. */
void link_light_free(link_light_t *ll);

/* Light frames sent and received over every link of the process. */
extern _Atomic long long g_light_frames_out, g_light_frames_in;
/* Light frames refused because they assumed a view we did not hold (the
 * link closed, §9.7). */
extern _Atomic long long g_light_view_mismatch;
/* Times a link thread built its copy of the view (at the first light frame
 * and whenever the snapshot's view_gen moved). */
extern _Atomic long long g_light_view_builds;

#endif

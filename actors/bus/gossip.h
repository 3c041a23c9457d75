/* gossip.h - building PING / PONG / MEET frames (header plus gossip section
 * plus extensions) from a cluster snapshot, as 7.0.15 does
 * (docs/cluster-bus.md §2.5, §4.2, §5.5). Used by the links (PONG replies) and by the
 * state actor's cron (PINGs and MEETs).
 *
 * Must never: read anything but the snapshot it is given.
 */
#ifndef SHOAL_ACTORS_GOSSIP_H
#define SHOAL_ACTORS_GOSSIP_H

#include <stddef.h>
#include <stdint.h>
#include "actors/state/state.h"
#include "proto/bus.h"

/* Fills the header every message of ours starts with (type, lengths and
 * counts are set by the builders). */
/* The gossip entry frames carry for node n (the light encoding's view,
 * link_light.c, rebuilds tuples with it so they match what we send). */
void gossip_fill_entry(const node_view_t *n, bus_gossip_t *g);
void gossip_header(const cluster_snapshot_t *s, bus_header_t *hdr);

/* Builds a PING, PONG or MEET into a malloc'ed buffer; returns its length
 * and sets *out (the caller frees it). Returns 0 on failure. gossip_build
 * gives our larger gossip section (gossip.c); gossip_build_sized gives it
 * when `full`, else 7.0.15's max(3, N/10). */
size_t gossip_build(const cluster_snapshot_t *s, unsigned type, uint8_t **out);
size_t gossip_build_sized(const cluster_snapshot_t *s, unsigned type, bool full, uint8_t **out);
/* The larger section's size: up to this many records (every eligible one
 * when the table holds at most GOSSIP_FLOOR + 2). */
#define GOSSIP_FLOOR 64

/* The PONG answering a PING or MEET, with 7.0.15's gossip count, in a
 * per-thread buffer valid until the next call on this thread. */
const uint8_t *gossip_build_reply(const cluster_snapshot_t *s, size_t *len);

/* PUBLISH: sends a PUBLISH frame with channel and message to every node we
 * hold a link to (7.0.15's clusterPropagatePublish). PUBLISHSHARD
 * (SPUBLISH): to the other nodes of our shard, our master or our replicas
 * and theirs (clusterPropagatePublishShard). link_floor: links whose id is
 * at least this are left out (0: none; txn_link_floor). Any thread. Returns
 * the number of links it went to, or -1 when the frame could not be built. */
int gossip_publish(const cluster_snapshot_t *s, unsigned type, const void *channel, size_t channel_len,
                   const void *message, size_t message_len, uint64_t link_floor);

#endif

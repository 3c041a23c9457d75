/* bus_dstats.h - the frames the links sent and received (CLUSTER INFO's
 * cluster_stats_messages_*) and what their digest and back-pressure did
 * (docs/cluster-bus.md §1.6), counted per thread and summed when CLUSTER
 * INFO or `INFO busdigest` asks.
 *
 * Every thread that runs links writes only counters of its own (a relaxed
 * load and store each: no read-modify-write and no cache line shared with
 * another writer on the frame path); INFO adds the threads' counters up,
 * each value read on its own, so a sum may mix moments a few frames apart.
 *
 * Must never: write another thread's counters, or be read for anything but
 * statistics.
 */
#ifndef SHOAL_ACTORS_BUS_DSTATS_H
#define SHOAL_ACTORS_BUS_DSTATS_H

#include "proto/bus.h"

/* Why bus_digest_take sent a PING or PONG on to the state actor. */
enum bus_dstats_why {
    BUS_DSTATS_BUSY = 0,     /* the state actor was working or had frames to apply (gen odd, pending > 0) */
    BUS_DSTATS_CHANGED,      /* the frame says something the snapshot does not (bus_digest's items) */
    BUS_DSTATS_RACE,         /* liveness written, but the state actor began something meanwhile */
    BUS_DSTATS_WHY_COUNT
};

/* The sums over threads. Frame kinds are indexed by bus type; index
 * BUS_TYPE_COUNT holds the types 7.0.15 does not know. */
typedef struct bus_dstats_sum {
    long long sent[BUS_TYPE_COUNT], received[BUS_TYPE_COUNT];   /* frames by bus type */
    long long digested[BUS_TYPE_COUNT + 1];   /* went no further than the link (liveness only) */
    long long forwarded[BUS_TYPE_COUNT + 1];  /* went to the state actor */
    long long why[BUS_DSTATS_WHY_COUNT];      /* PINGs and PONGs judged and still forwarded, by reason */
    long long gossip_folded;                  /* gossip entries of digested frames */
    long long gossip_pongs_noted;             /* of those, later pong times written as liveness */
    long long gossip_forwarded;               /* gossip entries of forwarded frames */
    long long pauses;                         /* a link stopped reading (link_pressure.h) */
    long long resumes;                        /* a paused link read again, or closed */
    long long paused_us;                      /* link-microseconds spent paused, ended pauses only */
} bus_dstats_sum_t;

/* Link's thread: a frame of `type` with `gossip` entries, digested (only
 * its liveness written, `pongs` pong times of them noted) or forwarded. */
void bus_dstats_digested(unsigned type, unsigned gossip, unsigned pongs);
void bus_dstats_forwarded(unsigned type, unsigned gossip);
/* Any thread that hands a frame of `type` to a link (sent) or a link's
 * thread that reads one (received); types 7.0.15 does not know are not
 * counted. */
void bus_dstats_sent(unsigned type);
void bus_dstats_received(unsigned type);
/* Link's thread: bus_digest_take forwarded a frame it judged, and why. */
void bus_dstats_why(enum bus_dstats_why why);
/* Link's thread: a link paused; a pause ended after `us` microseconds. */
void bus_dstats_paused(void);
void bus_dstats_resumed(long long us);

/* Any thread: the counters of every thread, added up. */
void bus_dstats_sum(bus_dstats_sum_t *out);

#endif

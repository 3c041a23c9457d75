/* state.h - the state actor: single owner of the cluster state, and the
 * immutable snapshot it publishes for everyone else.
 *
 * The state actor holds the node table (myself included), the slot table, the
 * epochs and the open-slot marks. Every change goes through its mailbox and is
 * applied in one order; after each batch of changes it publishes a fresh
 * cluster_snapshot_t (runtime/snapshot.h) and, when Redis would save
 * nodes.conf, hands the new file text to the persister.
 *
 * Must never: block, touch a worker's keyspace, or mutate a published snapshot.
 */
#ifndef SHOAL_ACTORS_STATE_H
#define SHOAL_ACTORS_STATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "runtime/actor.h"
#include "runtime/snapshot.h"
#include "proto/bus.h"
#include "proto/resp.h"
#include "proto/slot.h"
#include "proto/nodes_conf.h"

/* A node name (40 hex characters), the same on the wire and in nodes.conf. */
#define NODE_NAME_LEN BUS_NAME_LEN
_Static_assert(NODES_CONF_NAME_LEN == BUS_NAME_LEN, "one node name length for the bus and nodes.conf");

/* Node flags: the state actor's short names for the bus protocol's bits,
 * defined once in proto/bus.h (docs/cluster-bus.md §3.8), so a flag word
 * moves between the wire, nodes.conf and the node table unchanged. */
enum {
    NODE_MASTER = BUS_NODE_MASTER, NODE_SLAVE = BUS_NODE_SLAVE, NODE_PFAIL = BUS_NODE_PFAIL,
    NODE_FAIL = BUS_NODE_FAIL, NODE_MYSELF = BUS_NODE_MYSELF, NODE_HANDSHAKE = BUS_NODE_HANDSHAKE,
    NODE_NOADDR = BUS_NODE_NOADDR, NODE_MEET = BUS_NODE_MEET, NODE_MIGRATE_TO = BUS_NODE_MIGRATE_TO,
    NODE_NOFAILOVER = BUS_NODE_NOFAILOVER,
};

/* Liveness that links write without the state actor (docs/cluster-bus.md
 * §1.6, "digest"): one slot per record, found through its view's live_slot.
 * A slot word is tag << NODE_LIVE_MS_BITS | ms; the state actor bumps the tag
 * when it frees the slot, so a link holding an older snapshot cannot write
 * into the record that reuses it. The table and its two counters live as
 * long as the state actor (the snapshot carries a pointer). */
#define NODE_LIVE_SLOTS 4096          /* = STATE_MAX_NODES (state_internal.h) */
#define NODE_LIVE_MS_BITS 44          /* ms since the epoch fit until the year 2527 */
#define NODE_LIVE_MS_MASK ((UINT64_C(1) << NODE_LIVE_MS_BITS) - 1)
typedef struct state_live {
    /* Odd while the state actor applies a message or holds a change it has
     * not published; even when the published snapshot says all it knows.
     * Written by the state actor only (seq_cst stores); links load it. */
    _Atomic uint64_t gen;
    /* Frame messages links have sent (incremented before rt_send) that the
     * state actor has not applied yet (decremented after applying). */
    _Atomic long long pending;
    /* data_received per slot (tag << 44 | ms), raised with an atomic max. */
    _Atomic uint64_t data_received[NODE_LIVE_SLOTS];
} state_live_t;

/* Raises slot `slot`'s data_received to ms, unless the slot no longer has
 * tag `tag` (its record was deleted). Any thread. */
static inline void node_live_note(state_live_t *l, unsigned slot, uint32_t tag, long long ms)
{
    if (!l || slot >= NODE_LIVE_SLOTS || ms < 0) return;
    uint64_t want = ((uint64_t)tag << NODE_LIVE_MS_BITS) | ((uint64_t)ms & NODE_LIVE_MS_MASK);
    /* relaxed load, then CAS with seq_cst: the link's later load of `gen`
     * (link.c, "digest") must not move before this store (a store-load
     * order), and the state actor reads the slot with seq_cst loads. */
    uint64_t cur = atomic_load_explicit(&l->data_received[slot], memory_order_relaxed);
    while ((cur >> NODE_LIVE_MS_BITS) == tag && (cur & NODE_LIVE_MS_MASK) < (uint64_t)ms)
        if (atomic_compare_exchange_weak_explicit(&l->data_received[slot], &cur, want, memory_order_seq_cst,
                                                  memory_order_relaxed))
            break;
}

/* Slot `slot`'s data_received when it still has tag `tag`, else 0. */
static inline long long node_live_ms(state_live_t *l, unsigned slot, uint32_t tag)
{
    if (!l || slot >= NODE_LIVE_SLOTS) return 0;
    /* seq_cst: pairs with node_live_note's CAS (see there) */
    uint64_t cur = atomic_load_explicit(&l->data_received[slot], memory_order_seq_cst);
    return (cur >> NODE_LIVE_MS_BITS) == tag ? (long long)(cur & NODE_LIVE_MS_MASK) : 0;
}

/* One node as everyone but the state actor sees it. */
typedef struct node_view {
    char name[NODE_NAME_LEN + 1];
    char ip[NODES_CONF_IP_SIZE];
    char hostname[256];
    int port, cport, pport;
    uint16_t flags;
    int master;                   /* index into nodes[], or -1 */
    char master_name[NODE_NAME_LEN + 1];  /* "" when none */
    long long ping_sent_ms, pong_received_ms;
    uint64_t config_epoch;        /* own configEpoch (for replicas: see node_shown_epoch) */
    long long repl_offset;
    bool link_connected;          /* we hold an outbound link to it (always true for myself) */
    int slot_count;
    int fail_reports;
    uint64_t out_link, in_link;   /* link ids (0 = none) */
    long long data_received_ms;
    uint64_t attach_seq;          /* replicas of one master list in this order (7.0.15's
                                   * order: when each became its replica, as seen here) */
    uint16_t live_slot;           /* its liveness slot in the snapshot's `live` */
    uint32_t live_tag;
} node_view_t;

/* Immutable after publication. */
typedef struct cluster_snapshot {
    uint64_t version;
    int myself;                   /* index of myself in nodes[] */
    int node_count;
    node_view_t *nodes;
    int16_t slot_owner[SLOT_COUNT];       /* node index, -1 = unassigned */
    int16_t migrating_to[SLOT_COUNT];     /* node index, -1 = none */
    int16_t importing_from[SLOT_COUNT];   /* node index, -1 = none */
    bool state_ok;
    int size;                     /* masters owning at least one slot */
    uint64_t current_epoch, last_vote_epoch;
    long long created_ms;
    int pfail_count;              /* PFAIL records with an address (gossip appends them all) */
    bus_header_t hdr;             /* our header, ready to copy into any frame we send */
    state_live_t *live;           /* the state actor's liveness table (outlives every snapshot) */
} cluster_snapshot_t;

/* The published snapshot cell; workers register readers on it. */
extern rt_snap_cell_t g_cluster_snapshot;

/* configEpoch shown for a node: a replica with a known master shows its master's. */
uint64_t node_shown_epoch(const cluster_snapshot_t *s, int idx);

/* Creates the state actor on `thread`, loading `conf_path` (nodes.conf) or
 * creating a fresh identity and saving it. Returns 0, or -1 after printing a
 * message naming the file and line (startup must stop). Publishes the first
 * snapshot before returning. */
int state_start(rt_thread_t *thread, const char *conf_path);

/* The state actor (for sending requests). */
rt_actor_t *state_actor(void);

/* The state actor's mailbox protocol: what other actors send it. */
enum state_msg {
    STATE_MSG_CMD = 100,          /* remote_cmd_t (dispatch_defer): a CLUSTER subcommand to apply */
    STATE_MSG_DURABLE,            /* persist_ack_t from the persister (its ack type, see main.c) */
    STATE_MSG_SAVE_SYNC,          /* state's own: state_save_and_wait's request */
    STATE_MSG_FAILOVER,           /* state_fo_req_t: from the failover elector */
};

/* What the elector asks of the state actor (state_failover.c). */
enum state_fo_kind {
    STATE_FO_ELECTION = 1,        /* currentEpoch++, broadcast FAILOVER_AUTH_REQUEST (force: FORCEACK) */
    STATE_FO_PROMOTE,             /* won `epoch`: take `master`'s slots, become a master */
    STATE_FO_PONG_SIBLINGS,       /* PONG to the other replicas of our master (rank exchange) */
    STATE_FO_MIGRATE,             /* replica migration: become a replica of `master` */
};

typedef struct state_fo_req {
    rt_msg_t hdr;                 /* type STATE_MSG_FAILOVER; the state actor frees it */
    int kind;                     /* enum state_fo_kind */
    char master[NODE_NAME_LEN + 1];
    uint64_t epoch;
    bool force;
} state_fo_req_t;

/* Asks the state actor to save nodes.conf synchronously and returns when it is
 * durable or after timeout_ms (used at shutdown). 0 on success. */
int state_save_and_wait(int timeout_ms);

/* Node v in nodes.conf's form, as nodes.conf and CLUSTER NODES show it, with
 * `shown_epoch` as its configEpoch (node_shown_epoch); its slots and open
 * slots are left empty for the caller. The one converter for both. */
void state_conf_node(const node_view_t *v, uint64_t shown_epoch, nodes_conf_node_t *c);

/* Appends the CLUSTER NODES text of a snapshot (every line ends with \n). */
void state_format_nodes(const cluster_snapshot_t *s, resp_buf_t *out, bool for_nodes_conf);
/* One line for node idx, without the trailing newline. */
void state_format_node_line(const cluster_snapshot_t *s, int idx, resp_buf_t *out, bool with_open_slots);

#endif

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
#include <stddef.h>
#include <stdint.h>
#include "runtime/actor.h"
#include "runtime/snapshot.h"
#include "proto/bus.h"
#include "proto/resp.h"
#include "proto/slot.h"
#include "proto/nodes_conf.h"
#include "actors/state/state_live.h"

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

/* One node as everyone but the state actor sees it. */
typedef struct node_view {
    /* First, what links read for every gossip entry of every frame (the
     * digest, actors/bus/bus_digest.c): one cache line per record. */
    char name[NODE_NAME_LEN + 1];
    uint16_t flags;
    int fail_reports;
    long long pong_received_ms;
    uint16_t live_slot;           /* its liveness slot in the snapshot's `live` */
    uint32_t live_tag;
    /* the rest */
    long long ping_sent_ms;
    uint64_t pongs_seen;          /* PONGs noted in that slot that ping_sent/pong_received include */
    uint64_t config_epoch;        /* own configEpoch (for replicas: see node_shown_epoch) */
    uint64_t out_link, in_link;   /* link ids (0 = none) */
    int master;                   /* index into nodes[], or -1 */
    int port, cport, pport;
    int slot_count;
    bool link_connected;          /* we hold an outbound link to it (always true for myself) */
    long long repl_offset;
    long long data_received_ms;
    uint64_t attach_seq;          /* replicas of one master list in this order (7.0.15's
                                   * order: when each became its replica, as seen here) */
    char master_name[NODE_NAME_LEN + 1];  /* "" when none */
    char ip[NODES_CONF_IP_SIZE];
    /* "" when none, never NULL; at most NODE_HOSTNAME_MAX bytes. Out of line
     * (the snapshot holds the text, shared with the next snapshots until a
     * hostname changes, state_snap.c): inline it was half of every view, so
     * half of what each publish copied at 1,000 nodes. */
    const char *hostname;
} node_view_t;

/* The longest hostname a node keeps (nodes.conf's field, less the NUL). */
#define NODE_HOSTNAME_MAX (NODES_CONF_HOSTNAME_SIZE - 1)
_Static_assert(offsetof(node_view_t, live_tag) + sizeof(uint32_t) <= 64, "a gossip entry's record: one cache line");

struct snapshot_names;            /* name -> index, shared by snapshots with the same names (state_names.c) */
struct snapshot_hosts;            /* the hostnames' text, shared by snapshots with the same hostnames (state_snap.c) */
struct snapshot_pool;             /* node arrays of retired snapshots, for the next publish (state_snap.c) */

/* Immutable after publication. */
typedef struct cluster_snapshot {
    uint64_t version;
    int myself;                   /* index of myself in nodes[] */
    int node_count;
    node_view_t *nodes;
    int16_t slot_owner[SLOT_COUNT];       /* node index, -1 = unassigned */
    uint64_t view_gen;            /* moves whenever the address tuples gossip may name differ
                                   * from the last snapshot's (>= 1): a record's name, ip,
                                   * ports or HANDSHAKE/NOADDR, which record is myself, or the
                                   * count; what is built from those alone (the light
                                   * encoding's view, link_light.c) stays good while it stays */
    int16_t migrating_to[SLOT_COUNT];     /* node index, -1 = none */
    int16_t importing_from[SLOT_COUNT];   /* node index, -1 = none */
    /* Not for readers: what the tables above hold, so that a publish that
     * reuses this struct rewrites only what changed (state_snap.c): the
     * open slots (every other entry of the two open tables is -1) and the
     * state's slot_version that slot_owner was copied at. */
    uint64_t tables_open[SLOT_COUNT / 64];
    uint64_t tables_owner_version;
    int open_slots;               /* slots marked migrating or importing: 0 lets routing skip
                                   * the per-key checks of a slot move (dispatch_open_slot_check) */
    bool state_ok;
    int size;                     /* masters owning at least one slot */
    uint64_t current_epoch, last_vote_epoch;
    long long created_ms;
    int pfail_count;              /* PFAIL records with an address (gossip appends them all) */
    bus_header_t hdr;             /* our header, ready to copy into any frame we send */
    state_live_t *live;           /* the state actor's liveness table (outlives every snapshot) */
    struct snapshot_names *names; /* NULL: look names up by scanning nodes[] */
    struct snapshot_hosts *hosts; /* what nodes[].hostname point into (NULL: static text or none) */
    struct snapshot_pool *pool;   /* where nodes[] goes back when the snapshot is freed (NULL: free it) */
} cluster_snapshot_t;

/* The index of the record named `name` (NODE_NAME_LEN bytes) in s, or -1:
 * one probe of a keyed hash built when s was published, or a hit in the
 * calling thread's memo of names it found (state_names.c). Any thread. */
int cluster_snapshot_find(const cluster_snapshot_t *s, const char *name);

/* What links noted since s was published (state_live.h), folded into record
 * i's view: any thread holding s. data_received is the later of the two; a
 * PONG noted since answers the outstanding ping; the offset is the last one
 * its headers carried. */
static inline long long node_view_data_received(const cluster_snapshot_t *s, int i)
{
    const node_view_t *v = &s->nodes[i];
    long long l = node_live_ms(s->live, v->live_slot, v->live_tag);
    return l > v->data_received_ms ? l : v->data_received_ms;
}
static inline bool node_view_pong_noted(const cluster_snapshot_t *s, int i)
{
    const node_view_t *v = &s->nodes[i];
    return s->live && node_live_pongs(s->live, v->live_slot, v->live_tag) != v->pongs_seen;
}
static inline long long node_view_pong_received(const cluster_snapshot_t *s, int i)
{
    const node_view_t *v = &s->nodes[i];
    if (!node_view_pong_noted(s, i)) return v->pong_received_ms;
    return (long long)node_live_get(&s->live->node[v->live_slot].pong_received, v->live_tag,
                                    (uint64_t)v->pong_received_ms);
}
static inline long long node_view_ping_sent(const cluster_snapshot_t *s, int i)
{
    return node_view_pong_noted(s, i) ? 0 : s->nodes[i].ping_sent_ms;
}
static inline long long node_view_repl_offset(const cluster_snapshot_t *s, int i)
{
    const node_view_t *v = &s->nodes[i];
    return node_live_repl_offset(s->live, v->live_slot, v->live_tag, v->repl_offset);
}

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

/* On a worker: applies rc (a CLUSTER SETSLOT from dispatch_defer_nosend)
 * on the state actor's data while the state thread sleeps, as the state
 * actor would (state_borrow.c); its reply comes back as if it had been
 * sent. False, with nothing done, when the state thread cannot lend its
 * data now: then send rc to state_actor(). */
struct remote_cmd;
bool state_run_borrowed(struct remote_cmd *rc);

/* On a peer link's thread: applies f (a STATE_MSG_FRAME, the link's frames
 * of one read) on the state actor's data while the state thread sleeps, as
 * the state actor would, and frees it (state_borrow.c). False, with nothing
 * done, when the state thread cannot lend its data now: then send f to
 * state_actor(). */
struct link_frame;
bool state_run_borrowed_frame(struct link_frame *f);

/* On a worker that has written a reply marked pong_after_reply (a SETSLOT
 * NODE's, remote_cmd_t): sends the PONG the state actor held for it, on the
 * state's data while the state thread sleeps, else by message to it
 * (state_borrow.c). Nothing when another reply's worker sent it first. */
void state_send_owed_pong(void);

/* DEBUG STATE-ACTOR-DELAY: microseconds the state actor sleeps in every
 * message it handles, while it counts as working (0: none), so that tests
 * can make it fall behind on purpose (docs/cluster-bus.md §1.6,
 * "Back-pressure"). Relaxed: a knob, read once per message. */
extern _Atomic long long g_state_debug_delay_us;
/* DEBUG STATE-CRON-DELAY: microseconds the cron sleeps at the end of its
 * working part, just before links may digest again, so that tests can widen
 * the window a descheduled state thread leaves (state.c, cron). */
extern _Atomic long long g_state_debug_cron_delay_us;

/* The state actor's mailbox protocol: what other actors send it. */
enum state_msg {
    STATE_MSG_CMD = 100,          /* remote_cmd_t (dispatch_defer): a CLUSTER subcommand to apply */
    STATE_MSG_DURABLE,            /* persist_ack_t from the persister (its ack type, see main.c) */
    STATE_MSG_SAVE_SYNC,          /* state's own: state_save_and_wait's request */
    STATE_MSG_FAILOVER,           /* state_fo_req_t: from the failover elector */
    STATE_MSG_ASM,                /* asm_event_t (state/asm.h): a slot migration's lanes and workers */
    STATE_MSG_LOADED,             /* state's own: state_claim_loaded_slots's request */
    STATE_MSG_OWED_PONG,          /* a bare rt_msg_t: state_send_owed_pong's, when it cannot borrow */
};

/* What the elector asks of the state actor (state_failover.c). */
enum state_fo_kind {
    STATE_FO_ELECTION = 1,        /* currentEpoch++, broadcast FAILOVER_AUTH_REQUEST (force: FORCEACK) */
    STATE_FO_PROMOTE,             /* won `epoch`: take `master`'s slots, become a master */
    STATE_FO_PONG_SIBLINGS,       /* PONG to the other replicas of our master (rank exchange) */
    STATE_FO_MIGRATE,             /* replica migration: become a replica of `master` */
    STATE_FO_MF_FENCED,           /* repl_fence: a manual failover's pause holds every write (epoch: its gen) */
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

/* At start, once the data is loaded and before clients are served (main.c),
 * as 7.0.15's verifyClusterConfigWithData: a master takes each slot of
 * `with_keys` (SLOT_COUNT bits, bit s at byte s/8, mask 1<<(s%8)) that no
 * node owns, and marks importing (from its owner) each that another node
 * owns and that is not importing already, logging each; a replica changes
 * nothing. Returns once nodes.conf holds the change (fsynced) or after
 * timeout_ms; 0 on success. */
int state_claim_loaded_slots(const uint8_t *with_keys, int timeout_ms);

/* Node v in nodes.conf's form, as nodes.conf and CLUSTER NODES show it, with
 * `shown_epoch` as its configEpoch (node_shown_epoch); its slots and open
 * slots are left empty for the caller. The one converter for both. */
void state_conf_node(const node_view_t *v, uint64_t shown_epoch, nodes_conf_node_t *c);

/* Appends the CLUSTER NODES text of a snapshot (every line ends with \n). */
void state_format_nodes(const cluster_snapshot_t *s, resp_buf_t *out, bool for_nodes_conf);
/* One line for node idx, without the trailing newline. */
void state_format_node_line(const cluster_snapshot_t *s, int idx, resp_buf_t *out, bool with_open_slots);

#endif

/* state_internal.h - the state actor's private data, shared by its files
 * (state.c: lifecycle, snapshots, saving; state_cmds.c: CLUSTER commands). */
#ifndef SHOAL_ACTORS_STATE_INTERNAL_H
#define SHOAL_ACTORS_STATE_INTERNAL_H

#include "actors/persist/persister.h"
#include "actors/state/state.h"
#include "actors/worker/worker.h"
#include "actors/bus/link.h"
#include "actors/state/node_index.h"
#include "proto/nodes_conf.h"

typedef struct state_sync_req {
    rt_msg_t hdr;
    persist_wait_t *wait;         /* handed on to the persister's request */
} state_sync_req_t;

typedef struct state_node {
    char name[NODE_NAME_LEN + 1];
    char ip[NODES_CONF_IP_SIZE];
    char hostname[256];
    int port, cport, pport;
    uint16_t flags;
    int master;
    char master_name[NODE_NAME_LEN + 1];
    long long ping_sent_ms, pong_received_ms;
    uint64_t config_epoch;
    long long repl_offset;
    bool link_connected;
    int slot_count;
    int fail_reports;
    /* bus */
    long long ctime_ms, data_received_ms, fail_time_ms;
    uint64_t out_link, in_link;           /* link ids, 0 = none */
    long long out_link_ctime_ms;
    struct fail_report *reports;
    int nreports, capreports;
    uint8_t *last_claim;                  /* last slot bitmap this node's header claimed (malloc'ed) */
    uint64_t last_claim_version;          /* S.slot_version when it was checked */
    uint64_t last_claim_epoch;
    int last_stale_owner;                 /* owner we sent an UPDATE about for that claim, -1 none */
    long long voted_time_ms;              /* last vote we gave to one of its replicas (docs/cluster-bus.md §5.14) */
    char attached_to[NODE_NAME_LEN + 1];  /* the master it was last seen replicating ("" none) */
    uint64_t attach_seq;                  /* when it became that master's replica (S.attach_counter) */
} state_node_t;

typedef struct fail_report {
    char reporter[NODE_NAME_LEN + 1];
    long long time_ms;
} fail_report_t;

typedef struct blacklist_entry {
    char name[NODE_NAME_LEN + 1];
    long long expire_ms;
} blacklist_entry_t;

/* A reply held back until a given config version is durable. */
typedef struct durable_wait {
    struct durable_wait *next;
    uint64_t seq;
    remote_cmd_t *rc;
} durable_wait_t;

typedef struct state {
    rt_actor_t actor;
    rt_timer_t cron;
    char conf_path[1024];
    state_node_t *nodes;
    int node_count, node_cap;
    node_index_t names;           /* name -> index into nodes[], kept in step by the helpers below */
    long long table_full_logged_ms;   /* last "node table full" warning (rate limit) */
    unsigned long long table_full_ignored;  /* nodes refused since that warning */
    int myself;
    int16_t slot_owner[SLOT_COUNT];
    int16_t migrating_to[SLOT_COUNT];
    int16_t importing_from[SLOT_COUNT];
    uint64_t current_epoch, last_vote_epoch;
    bool state_ok;
    int size;
    long long started_mono;
    uint64_t snapshot_version;
    bool dirty_snapshot;          /* publish after this message */
    bool dirty_soft;              /* only ping/pong times changed: publish within 10 ms */
    long long last_publish_mono;
    bool save_pending;            /* ask the persister after this message */
    uint64_t config_seq;          /* last version handed to the persister */
    uint64_t durable_seq;
    durable_wait_t *waits;
    /* bus */
    blacklist_entry_t *blacklist;
    int nblacklist, capblacklist;
    long long minority_since_ms;
    long long first_eval_ms;
    int pfail_count;                  /* PFAIL records with an address, from the last tick */
    unsigned long long tick;
    bool save_fsync;
    uint64_t slot_version;                /* bumped on every slot table change */
    uint64_t attach_counter;              /* orders replicas by when they attached (state_publish) */
    bool announce_pending;                /* a node joined: PONG to everyone on the next tick */
    /* failover (state_failover.c) */
    uint64_t fo_election_epoch;           /* our running election (ACKs at or above it count) */
    uint64_t publish_hold_seq;            /* no snapshot until this config version is durable */
    struct fo_action *fo_actions;         /* frames that leave once a config version is durable */
    long long mf_end_ms;                  /* master side of a manual failover: 0 = none */
    int mf_replica;                       /* the replica driving it, -1 none */
    bool mf_paused_flag;                  /* PAUSED goes on our headers (offset is final) */
    rt_timer_t mf_settle;                 /* sets mf_paused_flag once in-flight writes settled */
} state_t;

extern state_t S;

/* Most records the node table holds. 7.0.15 has no limit, so a peer that
 * gossips 65 535 made-up nodes per PING makes it add a record and open a
 * connection for each; Redis documents clusters of up to 1000 nodes. Beyond
 * this, nodes that peers tell us about are ignored (and logged, see
 * state_table_full); CLUSTER MEET answers an error and a nodes.conf with more
 * records does not load. It also keeps every index within the int16_t slot
 * tables. */
#define STATE_MAX_NODES 4096

/* The record named `name` (len must be NODE_NAME_LEN), or -1: one hash probe. */
int state_find(const char *name, size_t len);
/* Appends a record; its index, or -1 when the table holds STATE_MAX_NODES. */
int state_add_node(const char *name, uint16_t flags);
/* Gives record idx a new name (the index follows). */
void state_rename_node(int idx, const char *name);
/* Empties the node table (records' links and reports are the caller's). */
void state_clear_nodes(void);
/* Logs, at most every 10 s, that a node `what` was not added because the
 * table is full, with how many were refused since the last such line. */
void state_table_full(const char *what);
void state_recount_slots(void);
void state_reset_tables(void);
void state_publish(void);
/* The published snapshot, publishing pending changes first: frames are built
 * from it, so they must not carry a table older than the state's. */
const cluster_snapshot_t *state_fresh_snapshot(void);
uint64_t state_request_save(rt_actor_t *reply_to);
void state_apply_command(remote_cmd_t *rc);
void state_durable(uint64_t seq, int err);
/* Replies to a worker, publishing pending changes first so that the client's
 * next command sees them. */
void state_reply(remote_cmd_t *rc);

/* state_bus.c: the cluster-bus rules. */
void state_bus_frame(struct link_frame *f);
/* Tells every peer that node `about` has failed (a FAIL message). */
void state_broadcast_fail(int about);
void state_bus_link_event(struct link_event *e);
bool state_bus_command(remote_cmd_t *rc);    /* MEET, FORGET, ...: true if handled */
void state_del_node(int idx);
int state_node_by_link(uint64_t link_id);
void state_send_to(int idx, const uint8_t *frame, size_t len);
void state_broadcast(const uint8_t *frame, size_t len);
void state_update_health(void);
long long state_total_keys(void);
void state_send_ping(int idx, unsigned type);
void state_broadcast_pong(void);
int state_count_reports(int about);
void state_maybe_mark_fail(int idx);
/* state_failover.c: votes, elections, promotion, manual failover (docs/cluster-bus.md §5.13-§5.16). */
void state_fo_request(state_fo_req_t *r);
void state_fo_frame(int sender, const bus_msg_t *m);   /* AUTH_REQUEST, AUTH_ACK, MFSTART */
void state_fo_durable(uint64_t seq);
bool state_fo_publish_held(void);
void state_fo_command(remote_cmd_t *rc);               /* CLUSTER FAILOVER [FORCE|TAKEOVER] */
void state_fo_tick(void);
void state_fo_header(bus_header_t *h);                 /* PAUSED flag */
void state_fo_master_header(const bus_header_t *h);    /* a header from our master (PAUSED offset) */
void state_fo_note_fail(int idx);                      /* idx was just marked FAIL */
void state_fo_lost_mastership(void);                   /* we were demoted: end a manual failover */
void state_fo_replica_changed(int idx, int old_master);  /* MIGRATE_TO bookkeeping */
/* state_cron.c: the 100 ms cron. */
void state_refresh_myself(void);
void state_tick(void);

#endif

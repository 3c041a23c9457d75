/* state_internal.h - the state actor's private data, shared by its files:
 * state.c (lifecycle, snapshots, saving), state_bus.c (the bus rules and
 * link events), state_bus_cmds.c (MEET, FORGET, REPLICATE), state_cmds.c
 * (the other CLUSTER commands), state_failover.c (votes, elections,
 * promotion), state_cron.c (the 100 ms cron), state_outbox.c (what the rules
 * send), state_borrow.c (a SETSLOT run by a worker while the state thread
 * sleeps). Every function takes the state it works on; only state.c's entry
 * points (state_start, state_actor, state_save_and_wait) name the process's
 * one state, and unit tests make their own (tests/unit/state_fixture.h).
 *
 * Must never: be included from outside actors/state/ (tests aside). */
#ifndef SHOAL_ACTORS_STATE_INTERNAL_H
#define SHOAL_ACTORS_STATE_INTERNAL_H

#include <string.h>

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

/* STATE_MSG_LOADED (state_claim_loaded_slots): the slots holding loaded keys.
 * Starts as a state_sync_req_t (state_sync.c builds both alike). */
typedef struct state_loaded_req {
    rt_msg_t hdr;
    persist_wait_t *wait;
    uint8_t with_keys[SLOT_COUNT / 8];
} state_loaded_req_t;

typedef struct state_node {
    /* First, what the cron reads for every record ten times a second
     * (state_tick, update_state): one cache line, so that a pass over 1,000
     * records touches 1,000 lines, not several per record. */
    uint16_t flags;
    uint16_t live_slot;                   /* its slot in st->live (links raise data_received there) */
    uint32_t live_tag;
    int master;                           /* index of its master, -1 none */
    int cport;
    uint64_t out_link;                    /* link id, 0 = none */
    long long ping_sent_ms, pong_received_ms;
    long long out_link_ctime_ms, ctime_ms;
    int slot_count;                       /* update_state reads it for every record too */
    char ip[NODES_CONF_IP_SIZE];
    /* the rest */
    char name[NODE_NAME_LEN + 1];
    int port, pport;
    uint64_t pongs_seen;                  /* PONGs noted in that slot already applied (state_live_fold) */
    int nreports, capreports;
    uint64_t config_epoch;
    long long repl_offset;
    bool link_connected;
    int fail_reports;
    /* bus */
    long long data_received_ms, fail_time_ms;
    uint64_t in_link;                     /* link id, 0 = none */
    struct fail_report *reports;
    /* the last claim that differed from our slot table (malloc'ed; NULL
     * while its claims match the table, as they do in a steady cluster, so
     * that 1,000 peers do not cost 2 MB of bitmaps) */
    uint8_t *last_claim;
    uint64_t last_claim_version;          /* st->slot_version when it was checked */
    uint64_t last_claim_epoch;
    int last_stale_owner;                 /* owner we sent an UPDATE about for that claim, -1 none */
    int owned_slots;                      /* slots the table gives it, counted at ... */
    uint64_t owned_slots_version;         /* ... this st->slot_version (0: never) */
    long long voted_time_ms;              /* last vote we gave to one of its replicas (docs/cluster-bus.md §5.14) */
    char attached_to[NODE_NAME_LEN + 1];  /* the master it was last seen replicating ("" none) */
    uint64_t attach_seq;                  /* when it became that master's replica (st->attach_counter) */
    int attached_idx;                     /* the master index attached_to was last checked against ... */
    uint64_t attached_gen;                /* ... at this st->names_gen (0: never; note_attachments) */
    uint32_t host_off;                    /* where its hostname is in st->hosts_shared (state_snap.c) */
    char hostname[NODES_CONF_HOSTNAME_SIZE];
} state_node_t;
_Static_assert(offsetof(state_node_t, ip) < 64, "the cron's fields and ip[0]: one cache line");

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
    /* The command's own change needs no fsync (7.0.15 would not fsync for
     * it): its reply may leave once the version is written, even when the
     * same save fsyncs for a change made beside it (state_apply_command). */
    bool written_ok;
} durable_wait_t;

/* What the rules want done outside the state actor, in the order they asked
 * for it (state_outbox.c). The rules only append; the actor hands the whole
 * list to the links and the elector after each message (state_outbox_flush),
 * and unit tests read it instead. */
enum state_out_kind {
    STATE_OUT_SEND = 1,           /* frames[frame] to link `link` */
    STATE_OUT_CONNECT,            /* open link `link` (an id reserved at once) to node/ip/port */
    STATE_OUT_CLOSE,              /* close link `link` */
    STATE_OUT_ELECTOR,            /* elector_send(elector_type, value, flag) */
};

typedef struct state_out {
    int kind;                     /* enum state_out_kind */
    uint64_t link;                /* SEND, CONNECT, CLOSE */
    int frame;                    /* SEND: index into the outbox's frames */
    int port;                     /* CONNECT: the bus port */
    char node[NODE_NAME_LEN + 1]; /* CONNECT: the record the link is for */
    char ip[NODES_CONF_IP_SIZE];  /* CONNECT */
    int elector_type;             /* ELECTOR */
    long long value;
    bool flag;
} state_out_t;

typedef struct state_outbox {
    state_out_t *ops;
    int nops, capops;
    /* one reference each (the outbox's); a broadcast's frame is one
     * shared_frame_t that every link it goes to references, not a copy each */
    shared_frame_t **frames;
    int nframes, capframes;
} state_outbox_t;

typedef struct state {
    rt_actor_t actor;
    rt_snap_cell_t *cell;         /* where snapshots are published (g_cluster_snapshot; a test's own cell) */
    state_outbox_t out;           /* what this message's rules want sent (flushed after it) */
    rt_timer_t cron;
    char conf_path[1024];
    state_node_t *nodes;
    int node_count, node_cap;
    node_index_t names;           /* name -> index into nodes[], kept in step by the helpers below */
    struct snapshot_names *names_shared;  /* a copy of `names` for snapshots (state_publish), one reference ours */
    bool names_changed;           /* `names` moved since names_shared was copied */
    uint64_t names_gen;           /* moves with every change of a name or an index (note_attachments) */
    struct snapshot_hosts *hosts_shared;  /* the hostnames' text for snapshots (state_snap.c), one reference ours */
    struct snapshot_pool *pool;   /* node arrays of freed snapshots, reused by the next publish */
    char follow_key[NODE_NAME_LEN + NODES_CONF_IP_SIZE + 32];   /* whom we replicate, as last published (note_follow) */
    long long table_full_logged_ms;   /* last "node table full" warning (rate limit) */
    int full_gossip_left;         /* own frames still to carry the larger gossip section (state_gossip_full) */
    unsigned long long table_full_ignored;  /* nodes refused since that warning */
    int myself;
    int16_t slot_owner[SLOT_COUNT];
    int16_t migrating_to[SLOT_COUNT];
    int16_t importing_from[SLOT_COUNT];
    /* Bit s set for every slot that may be open (migrating_to or
     * importing_from >= 0): the open slots' walks (state_next_open_slot)
     * look only at these. Set by state_set_migrating/importing, the only
     * way a slot opens; a closed slot's bit is cleared at the next publish
     * (state_open_hint_prune). */
    uint64_t open_hint[SLOT_COUNT / 64];
    uint64_t current_epoch, last_vote_epoch;
    bool state_ok;
    int size;
    long long started_mono;
    uint64_t snapshot_version;
    bool dirty_snapshot;          /* publish after this message */
    bool dirty_soft;              /* only ping/pong times changed: publish within 10 ms */
    long long last_publish_mono;
    bool save_pending;            /* ask the persister after this message */
    uint64_t config_seq;          /* last version saved or handed to the persister */
    uint64_t sent_seq;            /* last version handed to the persister (state_request_save) */
    uint64_t durable_seq;
    durable_wait_t *waits;
    /* bus */
    blacklist_entry_t *blacklist;
    int nblacklist, capblacklist;
    long long minority_since_ms;
    long long first_eval_ms;
    int pfail_count;                  /* PFAIL records with an address, from the last tick */
    unsigned long long tick;
    bool save_fsync;              /* the next save fsyncs (where 7.0.15 sets CLUSTER_TODO_FSYNC_CONFIG) */
    uint64_t slot_version;                /* bumped on every slot table change */
    struct conf_runs *conf_runs;          /* the table grouped by owner for nodes.conf (state_conf_text) */
    /* state_conf_text's scratch records, kept between saves: freed after
     * each save, the memory went to the keys a reshard's target restores
     * meanwhile, and each save's new ones grew the heap (an mprotect and
     * page faults, ~5 us of a SETSLOT NODE there) */
    struct nodes_conf_node *conf_scratch;
    struct node_view *view_scratch;
    uint64_t attach_counter;              /* orders replicas by when they attached (state_publish) */
    bool announce_pending;                /* a node joined: PONG to everyone on the next tick */
    /* Slots we lost, still a master, to a newer claim (7.0.15's dirty
     * slots): the workers drop their keys right after the snapshot naming
     * the new owner is published, so no write accepted under the old view
     * outlives the drop (state_publish). Bit s at byte s/8. */
    uint8_t drop_slots[SLOT_COUNT / 8];
    bool drop_pending;
    /* failover (state_failover.c) */
    uint64_t fo_election_epoch;           /* our running election (ACKs at or above it count) */
    uint64_t publish_hold_seq;            /* no snapshot until this config version is durable */
    uint64_t held_written_seq;            /* a later version written (not by the persister) while held */
    uint64_t pong_after_seq;              /* PONG to everyone once this config version is durable (SETSLOT NODE) */
    /* That PONG, due and held until a reply it follows is written
     * (state_cmds.c, release_then_pong): the replies' workers send it
     * (state_send_owed_pong); since when it is owed, and while replies are
     * released, that they are to be marked for it, and how many were. */
    bool pong_owed;
    long long pong_owed_ms;
    bool pong_marking;
    int pong_holders;
    struct fo_action *fo_actions;         /* frames that leave once a config version is durable */
    long long mf_end_ms;                  /* master side of a manual failover: 0 = none */
    int mf_replica;                       /* the replica driving it, -1 none */
    bool mf_paused_flag;                  /* PAUSED goes on our headers (offset is final) */
    uint64_t mf_fence_gen;                /* the manual failover's write fence (repl_fence) that counts */
    bool migrate_to_loaded;               /* MIGRATE_TO flags rebuilt after loading (state_fo_tick) */
    /* our header's slot bitmap, rebuilt only when the slot table changes (build_header) */
    uint8_t hdr_slots[BUS_SLOT_BYTES];
    uint64_t hdr_slots_version;
    int hdr_slots_record;
    /* cluster-announce-ip as last read (state_announce_ip), and the config's
     * string generation it was read at (0: never) */
    char announce_ip[BUS_IP_LEN + 1];
    unsigned long long announce_ip_gen;
    /* liveness links write without us (state.h, state_live_t) */
    state_live_t *live;
    uint8_t live_used[NODE_LIVE_SLOTS];
    uint64_t noted_seen;                  /* st->live->noted when the slots were last folded */
} state_t;

/* Resets *st to an empty state publishing into `cell`: no nodes, no slot
 * owners, a freshly keyed name index. The actor's entry (state_start) and
 * unit tests start from here. */
void state_init(state_t *st, rt_snap_cell_t *cell);
/* Frees what the rules allocated in *st (node table, reports, outbox). */
void state_free(state_t *st);

/* state_outbox.c. Appends a copy of the frame for link `link` (0: nothing). */
void state_out_send(state_t *st, uint64_t link, const uint8_t *frame, size_t len);
/* As state_out_send, for one frame going to several links: *copy (-1 before
 * the first call) keeps the outbox's one copy of it between the calls. */
void state_out_send_shared(state_t *st, uint64_t link, const uint8_t *frame, size_t len, int *copy);
/* Reserves a link id for record idx's outbound link, stores it in its
 * out_link (with out_link_ctime_ms = now) and queues the connect. */
void state_out_connect(state_t *st, int idx, long long now);
void state_out_close(state_t *st, uint64_t link);
void state_out_elector(state_t *st, int type, long long value, bool flag);
/* Hands every queued operation to the links and the elector, in order, and
 * empties the outbox. A connect that cannot start (links not started, out of
 * memory) clears its record's out_link, so that the cron retries. */
void state_outbox_flush(state_t *st);
/* Empties the outbox without doing anything (tests). */
void state_outbox_clear(state_t *st);

/* Most records the node table holds. 7.0.15 has no limit, so a peer that
 * gossips 65 535 made-up nodes per PING makes it add a record and open a
 * connection for each; Redis documents clusters of up to 1000 nodes. Beyond
 * this, nodes that peers tell us about are ignored (and logged, see
 * state_table_full); CLUSTER MEET answers an error and a nodes.conf with more
 * records does not load. It also keeps every index within the int16_t slot
 * tables. */
#define STATE_MAX_NODES 4096
_Static_assert(STATE_MAX_NODES == NODE_LIVE_SLOTS, "one liveness slot per record");

/* Record idx's data_received: the later of what the rules stored and what
 * links noted for it (state.h, node_live_note). */
static inline long long state_data_received(state_t *st, int idx)
{
    const state_node_t *n = &st->nodes[idx];
    long long l = node_live_ms(st->live, n->live_slot, n->live_tag);
    return l > n->data_received_ms ? l : n->data_received_ms;
}
/* The state actor starts applying something (a message, a tick): links stop
 * digesting until state_quiet (state_live_t.gen), and the PONGs they noted
 * since the last one are applied first (state_live_fold). */
void state_busy(state_t *st);
/* state_live.c. A free liveness slot for new record n (state_add_node). */
void state_live_take(state_t *st, state_node_t *n);
/* Record n leaves the table: frees its liveness slot (state_del_node, state_clear_nodes). */
void state_live_release(state_t *st, const state_node_t *n);
/* Applies the PONGs links noted (state_live.h) to every record whose slot
 * counted one since: what the PONG rule of 7.0.15 does (state_pong_received),
 * at the latest noted time; then the gossiped pong times noted, by the rule
 * of §5.6.2. Cheap when nothing was noted. */
void state_live_fold(state_t *st);
/* The same for record idx alone (a forwarded PONG whose link noted it). */
void state_live_fold_one(state_t *st, int idx);
/* Record idx's header carried replication offset `off`: the record and its
 * slot say so (the slot is what readers look at, state_live.h). */
void state_live_set_offset(state_t *st, int idx, long long off);
/* Nothing applied is unpublished any more: links may digest again. */
void state_quiet(state_t *st);

/* state_names.c. The name index for a snapshot of the table as it is now:
 * st->names_shared (rebuilt first when the names changed), one more
 * reference to it for the snapshot. State thread only. */
struct snapshot_names *state_names_for_snapshot(state_t *st);
/* Drops one reference (NULL: nothing); the last one frees the index. */
void state_names_unref(struct snapshot_names *n);

/* state_snap.c: what a publish shares with the snapshots before it. The
 * hostnames' text for a snapshot of the table as it is now: st->hosts_shared
 * (rebuilt first when a record's hostname differs from its text there), one
 * more reference to it for the snapshot; record i's hostname is then at
 * state_host_text(h, st->nodes[i].host_off). State thread only. */
struct snapshot_hosts *state_hosts_for_snapshot(state_t *st);
const char *state_host_text(const struct snapshot_hosts *h, uint32_t off);
/* Drops one reference (NULL: nothing); the last one frees the text. */
void state_hosts_unref(struct snapshot_hosts *h);
/* A node array for `count` views: one a freed snapshot left in st->pool when
 * there is one large enough (it has no reader left: the cell frees a
 * snapshot only after its grace period), else a new one. Not zeroed. */
node_view_t *state_views_take(state_t *st, int count);
/* A freed snapshot's node array goes back to `pool` (NULL: freed). */
void state_views_give(struct snapshot_pool *pool, node_view_t *nodes);
/* A snapshot struct for a publish: one a freed snapshot left in st->pool,
 * zeroed but for its slot tables and their bookkeeping, or a new one (zeroed,
 * its open tables closed); state_snapshot_fill_tables then fills them. */
cluster_snapshot_t *state_snapshot_take(state_t *st);
/* Brings s's slot tables to the state's (s from state_snapshot_take);
 * returns the number of open slots. */
int state_snapshot_fill_tables(state_t *st, cluster_snapshot_t *s);
/* A freed snapshot's struct goes back to `pool` (NULL or full: freed). */
void state_snapshot_give(struct snapshot_pool *pool, cluster_snapshot_t *s);
/* Frees the pool and the arrays in it (state_free, after the snapshots). */
void state_pool_free(state_t *st);

/* The record named `name` (len must be NODE_NAME_LEN), or -1: one hash probe. */
int state_find(state_t *st, const char *name, size_t len);
/* Appends a record; its index, or -1 when the table holds STATE_MAX_NODES. */
int state_add_node(state_t *st, const char *name, uint16_t flags);
/* Gives record idx a new name (the index follows). */
void state_rename_node(state_t *st, int idx, const char *name);
/* Empties the node table (records' links and reports are the caller's). */
void state_clear_nodes(state_t *st);
/* Logs, at most every 10 s, that a node `what` was not added because the
 * table is full, with how many were refused since the last such line. */
void state_table_full(state_t *st, const char *what);
void state_recount_slots(state_t *st);
void state_reset_tables(state_t *st);
void state_publish(state_t *st);
/* Clears open_hint's bits of slots no longer open; returns the open slots' count. */
int state_open_hint_prune(state_t *st);
/* The published snapshot, publishing pending changes first: frames are built
 * from it, so they must not carry a table older than the state's. */
const cluster_snapshot_t *state_fresh_snapshot(state_t *st);
uint64_t state_request_save(state_t *st, rt_actor_t *reply_to);
/* nodes.conf's text for the table as it is now (malloc'ed, *len bytes):
 * what nodes_conf_format prints for it, built one record at a time. */
char *state_conf_text(state_t *st, size_t *len);
void state_apply_command(state_t *st, remote_cmd_t *rc);
/* The end of the state actor's loop round (its before_sleep): publishes
 * pending changes and saves nodes.conf if a change asked for it. */
void state_end_round(state_t *st);
/* The persister wrote version seq (err 0) or failed to: what waited on it
 * goes on. */
void state_durable(state_t *st, uint64_t seq, int err);
/* The state actor itself wrote version seq, no fsync, while versions up to
 * `after` are still with the persister: only what waited for a version
 * after `after` goes on (state.c, save_here). */
void state_written_after(state_t *st, uint64_t after, uint64_t seq);
/* Broadcasts the PONG held for replies (pong_owed), if it still is. */
void state_send_owed_pong_now(state_t *st);
/* The same for a version whose fsync is still to come: only the waits
 * marked written_ok go on; the rest (and the PONG after it) wait for the
 * persister's answer (state_durable). */
void state_written_before_sync(state_t *st, uint64_t after, uint64_t seq);
/* Replies to rc once the save this message asks for is durable. */
void state_reply_after_save(state_t *st, remote_cmd_t *rc);
/* state_slots.c: CLUSTER SETSLOT (may send rc to a worker and back first). */
void state_setslot(state_t *st, remote_cmd_t *rc);
/* Replies to a worker, flushing the outbox and publishing pending changes
 * first so that the client's next command sees them. */
void state_reply(state_t *st, remote_cmd_t *rc);

/* Opens slot s towards record n (n >= 0), or closes that direction (-1). */
static inline void state_set_migrating(state_t *st, int s, int n)
{
    st->migrating_to[s] = (int16_t)n;
    if (n >= 0) st->open_hint[s / 64] |= 1ull << (s % 64);
}

static inline void state_set_importing(state_t *st, int s, int n)
{
    st->importing_from[s] = (int16_t)n;
    if (n >= 0) st->open_hint[s / 64] |= 1ull << (s % 64);
}

/* The first slot at or after `from` that is open here (migrating or
 * importing), or SLOT_COUNT. Only the slots open_hint names are looked at:
 * every SETSLOT's save and publish walks the open slots, and a pass over
 * both 32 KB tables (even sixteen slots at a time) was a fifth of a
 * SETSLOT's CPU. */
static inline int state_next_open_slot(const state_t *st, int from)
{
    if (from < 0) from = 0;
    for (int w = from / 64; w < SLOT_COUNT / 64; w++) {
        uint64_t bits = st->open_hint[w];
        if (w == from / 64) bits &= ~0ull << (from % 64);
        for (; bits; bits &= bits - 1) {
            int s = w * 64 + __builtin_ctzll(bits);
            if (st->migrating_to[s] >= 0 || st->importing_from[s] >= 0) return s;
        }
    }
    return SLOT_COUNT;
}

/* The first slot after `from` whose owner differs from slot `from`'s (or
 * SLOT_COUNT): the end of its run of one owner. Compared sixteen slots (four
 * 64-bit words, one branch) at a time: recounting the owners' slots, the
 * header's claim bitmap and nodes.conf's slot ranges walk the table by runs
 * after every change of an owner (three walks per SETSLOT NODE, most of them
 * over runs thousands of slots long), and slot by slot, then a word at a
 * time, those passes were a good part of a reshard's CPU (a counter bumped
 * per slot is a chain of dependent stores). */
static inline int state_slot_run_end(const state_t *st, int from)
{
    int16_t o = st->slot_owner[from];
    uint64_t pat = (uint64_t)(uint16_t)o * 0x0001000100010001ULL;
    int e = from + 1;
    for (; e < SLOT_COUNT && (e & 15); e++)
        if (st->slot_owner[e] != o) return e;
    for (; e < SLOT_COUNT; e += 16) {
        uint64_t w[4];
        memcpy(w, &st->slot_owner[e], sizeof w);
        if (((w[0] ^ pat) | (w[1] ^ pat) | (w[2] ^ pat) | (w[3] ^ pat)) != 0) break;
    }
    for (; e < SLOT_COUNT && st->slot_owner[e] == o; e++) {}
    return e;
}

/* cluster-announce-ip ("" when not set), read from the configuration only
 * when a string directive changed since the last read: every snapshot's
 * header and every PING wants it, and a read formats it into a fresh buffer
 * under the configuration's lock. */
const char *state_announce_ip(state_t *st);

/* Asks for a nodes.conf save and a new snapshot after this message (the
 * actor's before_sleep does both). */
static inline void state_save_config(state_t *st)
{
    st->save_pending = true;
    st->dirty_snapshot = true;
}

/* state_sync.c: saves nodes.conf now, fsynced, and finishes `wait` once it is durable. */
void state_save_sync(state_t *st, persist_wait_t *wait);
/* state_sync.c: STATE_MSG_LOADED, the loaded keys checked against the slot table. */
void state_loaded_apply(state_t *st, state_loaded_req_t *r);

/* state_bus.c: the cluster-bus rules. */
/* The link a frame came on, as the rules need it. */
typedef struct state_bus_src {
    uint64_t link;                /* link id */
    bool outbound;                /* our link to a record, or one a peer opened */
    const char *peer_ip;          /* the socket's remote address ("" unknown) */
    const char *local_ip;         /* the socket's local address ("" unknown) */
    bool pong_noted;              /* a PONG its link counted already (link_rec_t.pong_noted) */
} state_bus_src_t;
/* Applies one decoded frame (docs/cluster-bus.md §5.2): the rules' entry. */
void state_bus_apply(state_t *st, const state_bus_src_t *src, const bus_msg_t *m);
void state_bus_frame(state_t *st, struct link_frame *f);
/* A STATE_MSG_FRAME as the actor handles it (state_bus_frame, then the
 * link's pending count); frees f. */
void state_apply_frame(state_t *st, struct link_frame *f);
/* Tells every peer that node `about` has failed (a FAIL message). */
void state_broadcast_fail(state_t *st, int about);
void state_bus_link_event(state_t *st, struct link_event *e);
/* UPDATE's rule (5.8 C) for record idx: a newer epoch and its claim. */
void state_bus_update(state_t *st, int idx, uint64_t epoch, const uint8_t *bitmap);
/* Copies an address into a node's ip field (an IPv6 text form fits). */
void state_set_ip(char *dst, const char *src);
/* Keeps `name` out of the table for 60 s (CLUSTER FORGET): gossip about it is ignored. */
void state_blacklist_add(state_t *st, const char *name);
/* state_bus_cmds.c */
bool state_bus_command(state_t *st, remote_cmd_t *rc);    /* MEET, FORGET, ...: true if handled */
void state_del_node(state_t *st, int idx);
int state_node_by_link(state_t *st, uint64_t link_id);
void state_send_to(state_t *st, int idx, const uint8_t *frame, size_t len);
void state_broadcast(state_t *st, const uint8_t *frame, size_t len);
void state_update_health(state_t *st);
long long state_total_keys(void);
void state_send_ping(state_t *st, int idx, unsigned type);
void state_table_grew(state_t *st);
void state_broadcast_pong(state_t *st);
int state_count_reports(state_t *st, int about);
void state_maybe_mark_fail(state_t *st, int idx);
/* A PONG on our outbound link to record idx, received at `now` (§5.2 step
 * 6.4): pong_received, ping_sent = 0, PFAIL cleared, FAIL where 5.11 allows. */
void state_pong_received(state_t *st, int idx, long long now);
/* state_asm.c: atomic slot migration (docs/migrateslots.md). */
struct asm_event;
void state_asm_command(state_t *st, remote_cmd_t *rc);   /* MIGRATESLOTS, GETSLOTMIGRATIONS, ... */
void state_asm_event(state_t *st, struct asm_event *e);  /* what the lanes and workers report */
void state_asm_tick(state_t *st);                        /* timeouts, holds, ownership checks */
/* state_failover.c: votes, elections, promotion, manual failover (docs/cluster-bus.md §5.13-§5.16). */
void state_fo_request(state_t *st, state_fo_req_t *r);
/* 7.0.15's bump without consensus: a new configEpoch unless ours is already
 * the one highest and non-zero. True if it bumped. */
bool state_bump_epoch_without_consensus(state_t *st);
/* A configEpoch of our own was just taken: it is saved with fsync at the end
 * of this message, and no snapshot (from which links answer PINGs) nor frame
 * of ours carries it before that save is durable, as 7.0.15 fsyncs in
 * beforeSleep before it writes a frame again. */
void state_hold_publish_until_saved(state_t *st);
void state_fo_frame(state_t *st, int sender, const bus_msg_t *m);   /* AUTH_REQUEST, AUTH_ACK, MFSTART */
void state_fo_durable(state_t *st, uint64_t seq);
void state_fo_free(state_t *st);                       /* actions not run yet */
int state_fo_pending(const state_t *st);               /* actions waiting for a durable save */
bool state_fo_publish_held(state_t *st);
void state_fo_command(state_t *st, remote_cmd_t *rc);               /* CLUSTER FAILOVER [FORCE|TAKEOVER] */
void state_fo_tick(state_t *st);
void state_fo_header(state_t *st, bus_header_t *h);                 /* PAUSED flag */
void state_fo_master_header(state_t *st, const bus_header_t *h);    /* a header from our master (PAUSED offset) */
void state_fo_note_fail(state_t *st, int idx);                      /* idx was just marked FAIL */
void state_fo_lost_mastership(state_t *st);                   /* we were demoted: end a manual failover */
void state_fo_replica_changed(state_t *st, int idx, int old_master);  /* MIGRATE_TO bookkeeping */
/* state_cron.c: the 100 ms cron. */
void state_refresh_myself(state_t *st);
void state_tick(state_t *st);

#endif

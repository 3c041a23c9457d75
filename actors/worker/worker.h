/* worker.h - client workers: one per worker thread. A worker accepts client
 * connections, parses RESP, routes each command by the cluster snapshot, and
 * executes it on the worker that owns the command's slot (slot % nworkers).
 * Commands for another worker's slots travel as messages and their replies
 * come back the same way, in order per connection.
 *
 * Must never: touch another worker's keyspace or clients (except xcmd.c,
 * while that worker is parked at its barrier), or block (except at a barrier:
 * a cut, DEBUG SLEEP, a standalone call over several workers' keys).
 */
#ifndef SHOAL_ACTORS_WORKER_H
#define SHOAL_ACTORS_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "actors/commands/cmd.h"
#include "actors/worker/watch.h"
#include "runtime/actor.h"
#include "runtime/snapshot.h"

#define MAX_WORKERS 64

/* Message types handled by workers (rt_msg_t.type). */
enum worker_msg {
    WMSG_EXEC = 1,        /* run commands here (remote_cmd_t) */
    WMSG_DONE,            /* reply for one of our clients is ready (remote_cmd_t) */
    WMSG_STOP,
    WMSG_NEWCONN,         /* adopt an accepted connection (newconn_t) */
    WMSG_BATCH,           /* run a batch of commands here (cmd_batch_t) */
    WMSG_BATCH_DONE,      /* a batch came back with its replies */
    WMSG_APPLY,           /* commands from our master's stream (repl_apply_t): run, no reply */
    WMSG_RUN,             /* run a function here (worker_run_t) */
    WMSG_LISTENERS,       /* watch a new set of listening sockets (listen_swap_msg_t, listen.c) */
};

/* WMSG_APPLY: commands of the master's stream for one worker, in stream
 * order, as queued_cmd_t (built with queued_cmd_copy; the worker frees each
 * with queued_cmd_free, then cmds and the message). Replies are discarded. */
typedef struct repl_apply {
    rt_msg_t hdr;
    int ncmds;
    struct queued_cmd *cmds;
    long long now_ms;
    bool from_link;               /* from our master's stream: counted (repl_replica_applied) */
    long long from;               /* the stream offset everything before which was handed over */
} repl_apply_t;

/* WMSG_RUN: `fn` runs on the receiving worker's thread, after the messages
 * sent to that worker before it, and owns `msg` from then on (frees it or
 * sends it on). A message of another module starts with this, so the worker
 * needs to know nothing of what the function does (a replication cut, WAIT's
 * marker). */
typedef struct worker worker_t;   /* opaque: actors/worker/worker_internal.h */
typedef void worker_run_fn(worker_t *w, rt_msg_t *msg);
typedef struct worker_run {
    rt_msg_t hdr;
    worker_run_fn *fn;
} worker_run_t;

struct reply_slot;
struct client;
struct worker;

/* One queued command (argument bytes in one allocation). */
typedef struct queued_cmd {
    const cmd_def_t *cmd;         /* for subcommands: the subcommand entry */
    int argc;
    const uint8_t **argv;
    size_t *argvlen;
} queued_cmd_t;

/* A batch of commands to run on another actor for one client. */
typedef struct remote_cmd {
    union {
        rt_msg_t hdr;
        worker_run_t run;         /* WMSG_RUN: a fan-out part and its way back (fanout.c) */
    };
    struct worker *origin;
    struct reply_slot *slot;      /* owned by the origin; only the origin touches it */
    int proto;
    uint64_t acl_uid;             /* the requesting client's ACL user (scripts check their calls) */
    int db;                       /* the client's database when it was sent (wdb.h) */
    long long now_ms;
    int ncmds;
    queued_cmd_t *cmds;
    bool is_exec;                 /* a MULTI/EXEC body: reply is one array */
    bool from_load;               /* no origin: an AOF's command at start, not the master's stream */
    watch_list_t watch;           /* watched keys to check first (EXEC; watch.h) */
    bool watch_failed;            /* set by the executor: EXEC must answer null */
    int ncheck;                   /* EXEC on an open slot: every queued command, for the */
    queued_cmd_t *check_cmds;     /* slot-move check before anything runs (multi.c) */
    bool route_failed;            /* set by the executor: `reply` is EXEC's -ASK/-TRYAGAIN/-MOVED */
    uint64_t routed_version;      /* EXEC part: the snapshot version EXEC was routed with (0: no check) */
    bool queue_check;             /* a command queued in MULTI on an open slot: check_cmds[0]'s
                                   * keys decide +QUEUED or the refusal that dooms EXEC */
    resp_buf_t reply;             /* filled by the executor */
    void *blob;                   /* owns argv memory */
    long long keys_delta;         /* fan-out part result (counts); SETSLOT NODE: keys in the slot */
    bool slot_counted;            /* SETSLOT NODE: keys_delta holds the slot's key count (state_slots.c) */
    bool pong_after_reply;        /* SETSLOT NODE applied by its client's worker: the PONG it owes
                                   * everyone leaves once this reply is written (state_borrow.c) */
    uint64_t client_id;           /* the requesting client (CLIENT KILL SKIPME) */
    char *caller_line;            /* fan-out, the part of the client's worker: cmd_fanout_t.caller_line's */
    long long arg_us;             /* DEBUG SLEEP: the pause in microseconds */
    uint64_t link_floor;          /* DEBUG CLUSTERLINK KILL: links opened after it have ids from this (0: none) */
    bool close_after_reply;       /* a wait ended by -UNBLOCKED: the client goes after it (blocking.c) */
    struct repl_wait_marks *wait_marks;   /* WAIT: what its target is made of (repl.h); the replication actor frees it */
    _Atomic int wait_end;                 /* WAIT: answer before its replicas or timeout (repl_wait_end) */
    long long *usecs;             /* a transaction's calls on another worker: how long each took
                                   * (-1: not ended there), for the origin's slow log */
    struct xbar *xbar;            /* a call over several workers' keys: its barrier (xcmd.c) */
    long long block_deadline_ms;  /* a blocking pop over several workers: 0 not yet run, -1 never, else unix ms */
    /* A blocking pop over several workers that waits (xwait.c): its place in
     * the node-wide blocking order (blocking_next_seq), the argv range of its
     * keys, whether its keys are in the registry, and the argv index of the
     * key a wake hands it (0: none, try every key). */
    uint64_t block_seq;
    int xfirst, xnkeys;
    bool xregistered;
    int xserve_arg;
    void *block_state;            /* a waiting XREAD's IDs (cmd_ctx_t.block_state), freed with rc */
    /* A standalone transaction's PUBLISH/SPUBLISH calls, run on the client's
     * worker, that this part's worker propagates before and after the part's
     * commands, inside the one MULTI ... EXEC (multi.c, txn_publishes_travel). */
    int nprop_before, nprop_after;
    queued_cmd_t *prop_before, *prop_after;
} remote_cmd_t;


/* Keyspaces loaded from dump.rdb before the workers start (set by the loader, taken by workers_start). */
extern struct keyspace *g_worker_preload[MAX_WORKERS];
extern int g_nworkers;
extern long long g_start_ms;
extern _Atomic long long g_lastsave;
extern _Atomic uint64_t g_next_client_id;
/* DEBUG SET-ACTIVE-EXPIRE: 0 stops the cron's expiry sweep (keys then expire
 * only when touched). Relaxed: a plain on/off switch read once per cron. */
extern _Atomic int g_active_expire;

/* ---- what other folders may ask of the workers (the struct is private) ---- */

/* Every message that parks workers at a barrier (the replication actor's
 * cuts, calls over several workers' keys) is posted under this lock, so all
 * workers meet the barriers in one order and none waits for another forever
 * (xcmd.c). Held only while posting. */
void workers_barrier_lock(void);
void workers_barrier_unlock(void);

/* How many workers run (fixed once workers_start returned). */
static inline int workers_count(void) { return g_nworkers; }
/* Worker i (0 <= i < workers_count()), as an opaque handle. */
worker_t *worker_at(int i);
/* The thread worker i runs on. */
rt_thread_t *worker_thread(int i);
/* Sends a message straight to worker i, from a thread that is not a worker
 * (a worker uses worker_send, which keeps the order with its batches). */
void worker_post(int i, rt_msg_t *msg);
/* From a thread that is not a worker: every worker i drops its keyspace and
 * adopts ks[i] (built off-thread from a master's RDB; ownership passes, none
 * may be NULL), all at one moment: each worker parks until all have reached
 * the swap, so no command anywhere sees the new data while another still
 * sees the old (a fan-out is wholly before or wholly after: both are posted
 * under the barrier lock). WATCHes go stale, counters follow (ks_swap.c).
 * rest (may be NULL): per worker, its databases 1.. (wdb.h), taken too. */
void workers_swap_keyspaces(struct keyspace **ks, struct keyspace ***rest);
/* Builds one message per worker with make(i, arg) and posts it to worker i. */
void workers_send_each(rt_msg_t *(*make)(int i, void *arg), void *arg);

/* The published per-worker counters (INFO, the state actor, replication). */
typedef enum worker_stat {
    WSTAT_COMMANDS, WSTAT_CONNECTIONS_RECEIVED, WSTAT_REJECTED_CONNECTIONS, WSTAT_EXPIRED_KEYS,
    WSTAT_KEYSPACE_HITS, WSTAT_KEYSPACE_MISSES, WSTAT_NET_INPUT_BYTES, WSTAT_NET_OUTPUT_BYTES,
    WSTAT_READS_PROCESSED, WSTAT_WRITES_PROCESSED, WSTAT_DIRTY, WSTAT_TOTAL_ERRORS,
    WSTAT_CONNECTED_CLIENTS, WSTAT_KEYS, WSTAT_EXPIRES, WSTAT_AVG_TTL, WSTAT_USED_BYTES,
    WSTAT_EVICTED_KEYS, WSTAT_EXPIRED_STALE_PERC_X100, WSTAT_EXPIRED_TIME_CAP, WSTAT_CLIENTS_MEM,
    WSTAT_RECENT_MAX_IN, WSTAT_RECENT_MAX_OUT,
    WSTAT_COUNT
} worker_stat_t;
/* Any thread: the sum over workers, minus its value at the last CONFIG
 * RESETSTAT for the counters Redis resets (stats.c). */
long long workers_sum(worker_stat_t s);
/* Clients whose command a pause holds (hold.c), any thread: 7.0.15 counts
 * them in INFO blocked_clients and flags them b in CLIENT LIST. */
long long worker_paused_count(void);
/* Any thread: the largest value over workers (never reset). */
long long workers_max(worker_stat_t s);
/* Any thread: worker i's counter as published (never reset). */
long long worker_stat(int i, worker_stat_t s);

/* Owner thread of w only, below: code that runs on the worker (a fan-out
 * part, a cut, a command handler) reaching the worker's own state. */
int worker_index(const worker_t *w);
struct keyspace *worker_keyspace(worker_t *w);
/* Its buffer of effects for replicas and the AOF (NULL when it has none). */
struct repl_wbuf *worker_repl(worker_t *w);
/* The cluster snapshot of the current read section (NULL outside one). */
const struct cluster_snapshot *worker_snapshot(const worker_t *w);
/* The worker's clients (intrusive list through client_t.next). */
struct client *worker_clients(worker_t *w);
/* A script on w ran past busy-reply-threshold (actors/commands/script_busy.c):
 * from begin to end, w's other clients are read from the script's hook
 * (worker_busy_poll) and get the -BUSY texts below for every command but the
 * allow-busy ones. Owner thread only. */
#define WORKER_BUSY_EVAL "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
#define WORKER_BUSY_FUNCTION \
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
void worker_busy_begin(worker_t *w, bool is_eval);
void worker_busy_end(worker_t *w);
void worker_busy_poll(worker_t *w);
/* Hands w's buffered writes to the replication actor (repl_flush). */
void worker_repl_flush(worker_t *w);
/* WAIT's per-client target (repl.h, repl_wait_marks_t). A call made for
 * client `client_id` ran here: note the handover that covers it
 * (repl_wbuf_mark). And the mark noted for the client's last call here,
 * for a WAIT marker that runs after it: when another client took its entry,
 * the mark of everything buffered here so far (never lower than the truth). */
void worker_woff_note(worker_t *w, uint64_t client_id);
uint64_t worker_woff_mark(worker_t *w, uint64_t client_id);
/* Drops every key (FLUSHALL's part, or its cut with replicas): WATCHes go
 * stale, counters follow; `count_change` adds one to the keyspace changes
 * (rdb_changes_since_last_save), as the cut does. */
void worker_flush_keyspace(worker_t *w, bool count_change);
/* Installs `ks` (the RDB load's staged keyspace) in place of the current
 * one, which the caller frees, and publishes its counts. */
void worker_install_loaded_keyspace(worker_t *w, struct keyspace *ks);
/* A key changed outside a command (DEBUG POPULATE): WATCHes on it go stale. */
/* Any thread: every worker looks at once whether the clients a pause holds
 * may go (hold.c; otherwise they look every 5 ms). */
void workers_hold_kick(void);
/* On w's thread: deletes the keys of slot (at most max), each sent to our
 * replicas as a DEL first and its WATCH made stale. Returns how many. */
size_t worker_drop_slot(worker_t *w, unsigned slot, size_t max);
void worker_touch_key(worker_t *w, const uint8_t *key, size_t len);
/* The same for the key of database db (SWAPDB). */
void worker_touch_key_in(worker_t *w, int db, const uint8_t *key, size_t len);
/* The worker whose WATCH tables cover key, which w's keyspace holds: its
 * slot's worker. Not w for a key another worker's call over several workers
 * moved in from its owner (xcmd.c, xscript.c), which stands parked meanwhile,
 * so w may write its tables then (worker_move_key does too). */
worker_t *worker_key_keeper(worker_t *w, const uint8_t *key, size_t len);
/* Publishes the key count after changes made outside a command. */
void worker_publish_key_count(worker_t *w);
/* The number of keys in `slot`, read where they live without a message: in
 * w's own keyspace when w owns the slot, else in the owner's while it sleeps
 * with nothing left to handle (its thread borrowed for the read). False,
 * with *count untouched, when the owner is awake or has messages waiting
 * (which may still change the count). */
bool worker_count_slot_keys(worker_t *w, unsigned slot, long long *count);

/* Creates `n` workers on their own threads, listening on the given fds (shared). */
int workers_start(int n, const int *listen_fds, int nlisten);

/* The worker that owns a slot. */
static inline int worker_of_slot(unsigned slot) { return (int)(slot % (unsigned)g_nworkers); }

/* Completes an asynchronous reply produced by a non-worker actor (e.g. the
 * state actor): sends `rc` back to its origin worker. */
void worker_reply_async(remote_cmd_t *rc);
/* On rc's own worker, around a call that may answer rc on this thread (a
 * SETSLOT applied on the state's data, state_run_borrowed): a reply sent
 * meanwhile by worker_reply_async is not a message to ourselves, a pass of
 * the loop later, but delivered by _end at once, as a reply made on the
 * spot (rc is gone then); only when c's input holds no command after it. */
struct client;
void worker_reply_here_begin(struct client *c, remote_cmd_t *rc);
void worker_reply_here_end(worker_t *w, remote_cmd_t *rc);
/* An extra fan-out part (dispatch_fanout_extra) run by another actor goes
 * back to its client's worker, to be merged as the workers' parts are. Any thread. */
void fanout_part_return(remote_cmd_t *rc);
/* The same, running rc->run.fn (set by whoever sent rc) on its origin
 * worker instead of filling the slot there. */
void worker_reply_run(remote_cmd_t *rc);

/* Frees a remote command and its blob. */
void remote_cmd_free(remote_cmd_t *rc);

/* Sends a message to another worker after the commands already queued for
 * it (keeps per-pair order with batched commands). */
void worker_send(worker_t *from, int to, rt_msg_t *msg);

/* Owner thread: refresh the published keyspace counters. */
void worker_publish_ks_stats(worker_t *w);
/* Any thread: every worker drops all its keys (a replica's CLUSTER RESET),
 * after the messages already queued for it. */
void workers_flush_all_async(void);
/* Any thread: each worker deletes every key it holds in the slots set in
 * `lost` (a bitmap of SLOT_COUNT bits, bit s at byte s/8, mask 1<<(s%8)),
 * after the messages already queued for it, sending a DEL per key down the
 * replication stream when it propagates writes: the slots went to a newer
 * claim while this node stayed a master (7.0.15's dirty slots). */
void workers_drop_slots(const uint8_t *lost);
/* Not on a worker's thread: sets in `bits` (SLOT_COUNT bits, laid out as
 * workers_drop_slots' `lost`) the slots that hold keys in database 0, asking
 * each worker after what was sent to it before and waiting for every
 * answer (the start's check of the loaded data against the slot table). */
void workers_slots_with_keys(uint8_t *bits);
/* Owner thread: w->ks was just installed (start, or a master's RDB). */
void worker_keyspace_adopted(worker_t *w);

#endif

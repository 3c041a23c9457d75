/* worker.h - client workers: one per worker thread. A worker accepts client
 * connections, parses RESP, routes each command by the cluster snapshot, and
 * executes it on the worker that owns the command's slot (slot % nworkers).
 * Commands for another worker's slots travel as messages and their replies
 * come back the same way, in order per connection.
 *
 * Must never: touch another worker's keyspace or clients, or block (except
 * DEBUG SLEEP, which blocks its own worker on purpose as Redis does).
 */
#ifndef SHOAL_ACTORS_WORKER_H
#define SHOAL_ACTORS_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "runtime/actor.h"
#include "runtime/snapshot.h"
#include "actors/commands/cmd.h"

#define MAX_WORKERS 64

/* Message types handled by workers (rt_msg_t.type). */
enum worker_msg {
    WMSG_EXEC = 1,        /* run commands here (remote_cmd_t) */
    WMSG_DONE,            /* reply for one of our clients is ready (remote_cmd_t) */
    WMSG_FANOUT,          /* run a fan-out part here (fanout_part_t) */
    WMSG_FANOUT_DONE,
    WMSG_STOP,
    WMSG_NEWCONN,         /* adopt an accepted connection (newconn_t) */
    WMSG_BATCH,           /* run a batch of commands here (cmd_batch_t) */
    WMSG_BATCH_DONE,      /* a batch came back with its replies */
    WMSG_APPLY,           /* commands from our master's stream (repl_apply_t): run, no reply */
    WMSG_SWAP_KS,         /* adopt a keyspace loaded from the master's RDB (ks_swap_t) */
    WMSG_REPL_CUT,        /* stop-the-world cut for a full sync or FLUSHALL (repl.c) */
    WMSG_REPL_MARK,       /* WAIT's marker: hand over buffered writes (cmd_repl.c) */
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
} repl_apply_t;

/* WMSG_SWAP_KS: the worker frees its keyspace and adopts `ks` (built off-thread
 * from the master's RDB; nobody else touches it after the send). */
typedef struct ks_swap {
    rt_msg_t hdr;
    struct keyspace *ks;
} ks_swap_t;

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
    rt_msg_t hdr;
    struct worker *origin;
    struct reply_slot *slot;      /* owned by the origin; only the origin touches it */
    int proto;
    long long now_ms;
    int ncmds;
    queued_cmd_t *cmds;
    bool is_exec;                 /* a MULTI/EXEC body: reply is one array */
    int nwatch;                   /* watched key versions to check first (EXEC) */
    uint32_t *watch_index;
    uint64_t *watch_version;
    uint64_t watch_flush_epoch;
    bool watch_failed;            /* set by the executor: EXEC must answer null */
    resp_buf_t reply;             /* filled by the executor */
    void *blob;                   /* owns argv memory */
    long long keys_delta;         /* fan-out part result (counts) */
    uint64_t client_id;           /* the requesting client (CLIENT KILL SKIPME) */
    long long arg_us;             /* DEBUG SLEEP: the pause in microseconds */
} remote_cmd_t;

typedef struct worker_stats {
    _Atomic long long commands;
    _Atomic long long connections_received;
    _Atomic long long rejected_connections;
    _Atomic long long expired_keys;
    _Atomic long long keyspace_hits, keyspace_misses;
    _Atomic long long net_input_bytes, net_output_bytes;
    _Atomic long long reads_processed, writes_processed;
    _Atomic long long dirty;                  /* keyspace changes (owner writes; rdb_changes_since_last_save) */
    _Atomic long long total_errors;
    _Atomic long long connected_clients;
    _Atomic long long keys, expires;      /* published after each batch */
    _Atomic long long avg_ttl;
    _Atomic long long used_bytes;
    /* Owner thread only: the keyspace's own counters as last published, so that the
     * published ones above grow by differences and never go back (a load or a full
     * sync replaces the keyspace, whose counters then start again from 0). */
    const struct keyspace *seen_ks;
    unsigned long long hits_seen, misses_seen, expired_seen;
} worker_stats_t;

typedef struct worker {
    rt_actor_t actor;
    rt_thread_t *thread;
    int index;
    struct keyspace *ks;
    rt_snap_reader_t snap;
    const struct cluster_snapshot *cur;   /* valid inside a read section */
    int snap_depth;
    ev_io accept_w;
    int listen_fds[16];
    ev_io listen_w[16];
    int nlisten;
    ev_io unix_listen_w;          /* the unixsocket listener (unixsock.h), if any */
    rt_timer_t accept_backoff;    /* out of descriptors: listeners rest until it fires (fdlimit.h) */
    bool accept_resting;
    rt_timer_t cron;
    struct client *clients;       /* intrusive list */
    worker_stats_t stats;
    uint64_t *key_versions;       /* WATCH: version per key hash bucket */
    uint64_t flush_epoch;
    struct cmdstat *cmdstats;     /* per command, indexed by cmd id */
    struct errstat *errstats;
    _Atomic int nerrstats;        /* owner writes (release), INFO reads (acquire) */
    struct cmd_batch *outbox[MAX_WORKERS];   /* commands waiting to go to each worker */
    struct client *paused;                   /* clients holding a write until the pause ends */
    rt_timer_t pause_timer;
    bool pause_timer_on;
    int paused_mode;                         /* wpause_mode() when a client was last held */
    struct repl_wbuf *repl;                  /* writes to propagate, not yet handed over (repl.c) */
} worker_t;

extern worker_t *g_workers[MAX_WORKERS];
/* Keyspaces loaded from dump.rdb before the workers start (set by the loader, taken by workers_start). */
extern struct keyspace *g_worker_preload[MAX_WORKERS];
extern int g_nworkers;
extern long long g_start_ms;
extern _Atomic long long g_lastsave;
extern _Atomic uint64_t g_next_client_id;
/* DEBUG SET-ACTIVE-EXPIRE: 0 stops the cron's expiry sweep (keys then expire
 * only when touched). Relaxed: a plain on/off switch read once per cron. */
extern _Atomic int g_active_expire;

/* Creates `n` workers on their own threads, listening on the given fds (shared). */
int workers_start(int n, const int *listen_fds, int nlisten);
void workers_stop(void);

/* The worker that owns a slot. */
static inline int worker_of_slot(unsigned slot) { return (int)(slot % (unsigned)g_nworkers); }

/* Completes an asynchronous reply produced by a non-worker actor (e.g. the
 * state actor): sends `rc` back to its origin worker. */
void worker_reply_async(remote_cmd_t *rc);

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
/* Owner thread: w->ks was just installed (start, or a master's RDB). */
void worker_keyspace_adopted(worker_t *w);

#endif

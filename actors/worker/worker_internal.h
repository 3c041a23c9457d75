/* worker_internal.h - the worker's state, for the files of actors/worker/
 * only. Other folders reach workers through worker.h (counts, sends, sums),
 * so that a worker's fields can change without touching its users. */
#ifndef SHOAL_ACTORS_WORKER_INTERNAL_H
#define SHOAL_ACTORS_WORKER_INTERNAL_H

#include "actors/worker/worker.h"

#define WORKER_WOFF_SLOTS 1024   /* a power of two */
#define MAX_TLS_LISTEN 16

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
    _Atomic long long evicted_keys;           /* owner writes (evict.c) */
    _Atomic long long clients_mem;            /* its clients' buffers, as of the last cron (mem_clients_normal) */
    /* the largest input / output buffer of one of its clients in the last
     * RECENT_BUF_SLOTS seconds of crons (client_recent_max_*_buffer) */
    _Atomic long long recent_max_in, recent_max_out;
    /* active expiry (wcron.c): the stale share of the last sweeps, in
     * hundredths of a percent (7.0.15's running average), and how many sweeps
     * ran out of time */
    _Atomic long long expired_stale_perc_x100;
    _Atomic long long expired_time_cap_reached;
} worker_stats_t;

/* One database's share on a worker (wdb.h): its keyspace (NULL until
 * first used), what its counters were when last published, and its counts
 * for INFO keyspace (owner writes, any thread reads; relaxed statistics). */
/* Seconds over which INFO's client_recent_max_*_buffer look back (7.0.15's
 * CLIENTS_PEAK_MEM_USAGE_SLOTS). */
#define RECENT_BUF_SLOTS 8

typedef struct wdb_slot {
    struct keyspace *ks;
    const struct keyspace *seen_ks;
    unsigned long long hits_seen, misses_seen, expired_seen;
    _Atomic long long keys, expires, avg_ttl, used_bytes;
} wdb_slot_t;

struct worker {
    rt_actor_t actor;
    rt_thread_t *thread;
    int index;
    struct keyspace *ks;                  /* the current database's keyspace (wdb.h): db[cur_db].ks */
    wdb_slot_t *db;                       /* wdb_count() entries */
    int cur_db;                           /* 0 between commands */
    int db_top;                           /* 1 + the highest database made here */
    int apply_db;                         /* the database our master's stream (or the AOF) selected */
    uint64_t xcmd_parked;                 /* the workers parked for the call running here (xcmd.c), 0: none */
    rt_snap_reader_t snap;
    const struct cluster_snapshot *cur;   /* valid inside a read section */
    int snap_depth;
    rt_snap_reader_t acl_snap;
    uint64_t exec_acl_uid;                /* the ACL user of the remote command running now, 0: none */            /* the ACL users (actors/acl), read in the same sections */
    ev_io accept_w;
    int listen_fds[16];
    ev_io listen_w[16];
    int nlisten;
    ev_io tls_listen_w[MAX_TLS_LISTEN];   /* tls-port listeners (accepted connections speak TLS) */
    int ntls_listen;
    ev_io unix_listen_w;          /* the unixsocket listener (unixsock.h), if any */
    rt_timer_t accept_backoff;    /* out of descriptors: listeners rest until it fires (fdlimit.h) */
    bool accept_resting;
    rt_timer_t cron;
    struct client *clients;       /* intrusive list */
    struct client *aof_gated;     /* clients whose output waits for an fsync (aof_gate.h) */
    bool pong_after_write;        /* a reply that holds the state's PONG is in the output (state_send_owed_pong) */
    int aof_waiter;               /* its id at the AOF's reply syncer */
    bool child_slices;            /* short slices while a fork child runs (worker.c) */
    struct ks_entry *free_later;  /* deleted entries whose memory goes after the round's replies (ks_delete_later) */
    worker_stats_t stats;
    uint64_t *key_versions;       /* WATCH: version per key hash bucket */
    long long *expired_gone_ms;   /* WATCH: per bucket, the latest TTL of a key deleted expired (watch.h) */
    uint64_t flush_epoch;
    struct cmdstat *cmdstats;     /* per command, indexed by cmd id */
    struct errstat *errstats;
    _Atomic int nerrstats;        /* owner writes (release), INFO reads (acquire) */
    struct cmd_batch *outbox[MAX_WORKERS];   /* commands waiting to go to each worker */
    struct client *paused;                   /* clients holding a write until the pause ends */
    rt_timer_t pause_timer;
    bool pause_timer_on;
    int paused_mode;                         /* wpause_mode() when a client was last held */
    _Atomic int script_busy;                 /* 0, or a script past busy-reply-threshold runs: 1 EVAL, 2 FCALL;
                                              * written by the owner, read by accepting workers (relaxed) */
    long long busy_polled_ms;                /* last worker_busy_poll that read the clients */
    bool busy_polling;                       /* inside worker_busy_poll's commands: our keyspace may be in a
                                              * script session of another worker (xscript.h), not to be touched */
    uint64_t paused_asm_gen;                 /* asm_pause_gen() then (state/asm.h) */
    struct repl_wbuf *repl;                  /* writes to propagate, not yet handed over (repl.c) */
    int lent_batches;                        /* batches out with a lent socket (batch.h) */
    /* WAIT's per-client marks (worker_woff_note): direct-mapped by client id;
     * a client whose entry another took is answered with an upper bound */
    struct worker_woff { uint64_t client_id, mark; } *woff;   /* WORKER_WOFF_SLOTS, calloc'ed at start */
    /* placement.c: busy share of a core over the last cron period (owner
     * writes, worker 0 reads; relaxed) and the readings it came from */
    _Atomic int busy_permille;
    long long load_cpu_ns, load_spin_ns, load_wall_ns;
    /* wcron.c: the cron's period now (owner writes, INFO reads), and
     * whether it is the slow one (owner writes, borrowers read and clear);
     * both relaxed */
    _Atomic int cron_ms;
    _Atomic bool cron_quiet;
    /* wcron.c: each second's largest client input / output buffer, a ring
     * indexed by wall-clock second; and the last second written (owner only) */
    long long recent_in[RECENT_BUF_SLOTS], recent_out[RECENT_BUF_SLOTS];
    long long recent_sec;
    long long qbuf_resized_ms;    /* the clients' query buffers were last looked at (wcron.c) */
    struct evict_pool *evpool;    /* evict.c: the best candidates seen (owner thread) */
    double expired_stale;         /* wcron.c: active expiry's running stale share (owner thread) */
    /* push_hold.c (owner thread): clients whose pushes wait for the hold's
     * end (and how many), its timer, and the deliveries of this loop round */
    struct client *push_held;
    int push_nheld;
    rt_timer_t push_timer;
    bool push_timer_on;
    int push_round_msgs;
};

extern worker_t *g_workers[MAX_WORKERS];

/* Work a message brings to a worker (a fan-out part) runs inside the same
 * snapshot read section as a command: the snapshot in w->cur, the keyspace
 * in replica mode when the node is a replica. Nests. */
void worker_snap_enter(worker_t *w);
/* hold.c: whether a pause must hold this command now, and holding its client. */
bool worker_command_must_wait(struct client *c, int argc, const uint8_t **argv, const size_t *argvlen);
void worker_hold_client(struct client *c, size_t len, int argc, const size_t *argvlen);
/* hold.c: a held client left its worker's paused list other than by its
 * timer (closed). */
void worker_hold_dropped(void);
/* hold.c: true, with 7.0.15's -MASTERDOWN replied, when the node is a stale
 * replica (repl_replica.h) and the command (its call flags) is not stale-safe. */
bool worker_stale_refused(struct client *c, const cmd_def_t *cmd, uint32_t flags);
void worker_snap_leave(worker_t *w);
/* xcmd.c: publishes w's key counts (after keys moved in or out of it);
 * moves key between owner's keyspace and w's (in: owner -> w), with
 * `touch` bumping its WATCH version on owner, which stands still. */
void worker_publish_counts(worker_t *w);
void worker_move_key(worker_t *w, worker_t *owner, int db, const uint8_t *key, size_t len, bool in, bool touch);

/* placement.c moves idle connections between workers. On the owner: stop
 * watching c's socket, drop it from the epoll set and the client list. On
 * the new owner (c->worker already set): watch it and list it. */
struct client;
void worker_client_detach_for_move(worker_t *w, struct client *c);
void worker_client_attach(worker_t *w, struct client *c);

/* client_io.c: one read or write on a client's socket, through its TLS
 * session when it has one (same results as read(2)/write(2); EAGAIN may
 * mean the other readiness, see there), and whether a connection's first
 * bytes are a TLS handshake record. */
ssize_t client_sock_read(struct client *c, void *buf, size_t len);
ssize_t client_sock_write(struct client *c, const void *p, size_t len);
bool client_looks_like_tls_hello(const uint8_t *p, size_t n);

/* wcron.c: starts w's cron (its own thread, before the loop runs); back to
 * the fast pace if w is on the slow one and now has a client or a key with a
 * TTL (owner thread); the same from a thread holding o's token, by message. */
void worker_cron_start(worker_t *w);
void worker_cron_check(worker_t *w);
void worker_cron_poke(worker_t *o);
/* w's cron period now, in ms (any thread: a statistic). */
int worker_cron_ms(const worker_t *w);

/* worker.c, for busy.c: one read of a client's socket and the commands it
 * completed; writing every client that has output. Owner thread. */
void worker_client_read(struct client *c);
/* accept.c: a listener's readiness (accepts what waits; busy.c calls it
 * while the loop cannot); a connection another worker accepted for this
 * one (WMSG_NEWCONN, freed here). */
void worker_accept_cb(struct ev_loop *loop, ev_io *lw, int revents);
void worker_adopt_newconn(worker_t *w, rt_msg_t *msg);
void worker_write_scheduled(worker_t *w);
/* busy.c: true, with -BUSY replied to c, when the worker is in a busy script
 * and the command may not run then; the worker a new connection goes to. */
bool worker_busy_refused(struct client *c, int argc, const uint8_t **argv, const size_t *argvlen);
int worker_busy_retarget(const worker_t *w, int target);
/* busy.c: a script turned busy (on w, or on another worker): w's commands
 * held behind their connection's batches (dispatch_order_must_wait) are
 * looked at again, so that an allow-busy one read before (SCRIPT KILL
 * behind a command whose batch waits for that script) goes on. */
void worker_busy_resume_held(worker_t *w);

#endif

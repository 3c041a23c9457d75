/* client.h - one client connection as its worker sees it. Only the worker
 * that accepted the connection touches this struct. */
#ifndef SHOAL_ACTORS_CLIENT_H
#define SHOAL_ACTORS_CLIENT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <ev.h>
#include "actors/worker/worker.h"
#include "proto/resp.h"

/* A reply that is not ready yet (it is computed on another actor), or a
 * ready reply queued behind one that is not. Replies leave in FIFO order. */
typedef struct reply_slot {
    struct reply_slot *next;
    struct client *client;        /* NULL once the client is gone */
    resp_buf_t buf;
    bool done;
    bool txn_part;                /* belongs to a running EXEC, not to the FIFO */
    bool blocks_client;           /* the client reads no further command until this is done */
    bool watch_failed;
    bool route_failed;            /* an EXEC part refused by the slot-move check: buf is the error */
    bool muted;                   /* CLIENT REPLY OFF/SKIP: its bytes are dropped, not sent */
    bool in_batch;                /* its command went to another worker in a batch (batch.h) */
    bool fanout_open;             /* a fan-out's slot, counted in its client's fanout_open (fanout.c) */
    bool blocked;                 /* until done its client is blocked, 7.0.15's CLIENT_BLOCKED: a
                                   * wait over several workers (xwait.c) or in WAIT (cmd_repl.c) */
    uint64_t link_floor;          /* remote_cmd_t's, for the transaction it belongs to */
    /* fan-out bookkeeping */
    int parts_left;
    const cmd_def_t *cmd;
    long long sum;
    long long count;
    resp_buf_t acc;
} reply_slot_t;

enum {
    CLIENT_AUTHENTICATED = 1 << 0,
    CLIENT_READONLY      = 1 << 1,
    CLIENT_ASKING        = 1 << 2,
    CLIENT_MULTI         = 1 << 3,
    CLIENT_DIRTY_EXEC    = 1 << 4,   /* a queued command was rejected: EXEC aborts */
    CLIENT_CLOSE_AFTER_REPLY = 1 << 5,
    CLIENT_CLOSE_ASAP    = 1 << 6,
    CLIENT_PENDING_WRITE = 1 << 7,
    CLIENT_CLOSED        = 1 << 8,   /* socket closed; struct lingers while replies are pending */
    CLIENT_BLOCKED       = 1 << 9,   /* waiting for a cluster-state command's reply */
    CLIENT_PAUSED        = 1 << 10,  /* a write waits for the failover pause to end (wpause.h) */
    CLIENT_UNIX_SOCKET   = 1 << 11,  /* came in on the unixsocket: a local client (protected mode) */
    CLIENT_ASM_LANE      = 1 << 12,  /* a slot migration's lane from its source (state/asm.h) */
    CLIENT_PUBSUB        = 1 << 13,  /* holds a subscription (pubsub.h): RESP2 limits its commands */
    CLIENT_MONITOR       = 1 << 14,  /* ran MONITOR: sees every command (monitor.h) */
    CLIENT_REPLY_OFF     = 1 << 15,  /* CLIENT REPLY OFF: replies are dropped */
    CLIENT_REPLY_SKIP    = 1 << 16,  /* the reply of this command is dropped (CLIENT REPLY SKIP) */
    CLIENT_REPLY_SKIP_NEXT = 1 << 17,/* ... of the next command */
    CLIENT_NO_EVICT      = 1 << 18,  /* CLIENT NO-EVICT ON */
    CLIENT_AOF_GATED     = 1 << 19,  /* output limited to aof_rel until an fsync (aof_gate.h) */
    CLIENT_LUA_DEBUG     = 1 << 20,  /* SCRIPT DEBUG YES|SYNC: its EVAL runs in the debugger (script_ldb.c) */
    CLIENT_LUA_DEBUG_SYNC = 1 << 21, /* ... SYNC: in the worker, not in a forked child */
    CLIENT_PUSH_HELD     = 1 << 22,  /* on its worker's push hold (push_hold.h); not freed meanwhile */
    CLIENT_ASM_PLACED    = 1 << 23,  /* a lane on the worker of its first key (asm_lane_place) */
    CLIENT_PUSHED        = 1 << 24,  /* this command answered with pushes only (subscribe confirmations):
                                      * kept under CLIENT REPLY OFF/SKIP, as 7.0.15's CLIENT_PUSHING */
};

typedef struct client {
    struct client *next, *prev;           /* worker's client list */
    struct client *next_write;            /* worker's pending-write list */
    struct client *next_held;             /* worker's push hold (push_hold.h) */
    worker_t *worker;
    uint64_t id;
    int fd;
    ev_io rio, wio;
    bool wio_active;
    uint32_t flags;
    bool in_input;                        /* inside client_process_input (no re-entry) */
    int proto;                            /* 2 or 3 */
    int db;                               /* SELECTed database (wdb.h) */
    char addr[78], laddr[78];             /* Redis's NET_ADDR_STR_LEN: a long unixsocket path is cut as there */
    bool local;                           /* unix socket, 127.0.0.1 or ::1 (protect.h) */
    char name[128];
    long long created_ms, last_interaction_ms;
    const char *last_cmd;                 /* "NULL" before the first command */
    const cmd_def_t *last_cmd_def;
    /* input */
    uint8_t *qbuf;
    size_t qlen, qcap, qpos;              /* unparsed bytes are qbuf[qpos..qlen) */
    size_t qbuf_peak;                     /* most unparsed bytes since the last resize check (wcron.c) */
    resp_parser_t parser;
    /* output */
    resp_buf_t out;
    size_t out_sent;
    reply_slot_t *pending_head, *pending_tail;
    int pending_count;
    /* appendfsync always (aof_gate.h): while CLIENT_AOF_GATED only
     * out[0..aof_rel) may be written; the bytes up to aof_wait[k].len go
     * once an fsync reaches aof_wait[k].mark (k = 0 first; len 0: none) */
    size_t aof_rel;
    struct { size_t len; uint64_t mark; } aof_wait[2];
    struct client *aof_next, *aof_prev;   /* the worker's gated clients */
    /* MULTI */
    queued_cmd_t *mq;
    int mq_len, mq_cap;
    int multi_slot;                       /* -1 none yet */
    /* WATCH: one slot only (cluster mode); any keys without cluster mode */
    int watch_slot;                       /* the first watched key's */
    watch_list_t watch;                   /* watch.h */
    bool watch_multi;                     /* watched keys on several workers */
    struct txn *txn;                      /* an EXEC in progress */
    /* REPLCONF from a replica, kept until its PSYNC hands the connection over */
    int repl_port;
    int repl_capa;                        /* REPL_CAPA_* */
    char repl_ip[INET6_ADDRSTRLEN];
    struct client *next_paused;           /* worker's list of paused clients */
    /* While CLIENT_PAUSED: the held command's bytes at qpos, and the sum of
     * its arguments' lengths (CLIENT LIST: 7.0.15 has parsed it, so they
     * count in argv-mem, not qbuf) */
    size_t held_len, held_argv_mem;
    size_t argv_mem;                      /* its last command's argument bytes (CLIENT LIST's argv-mem) */
    long long obuf_soft_since_s;          /* output over the soft limit since (s), 0 = not (client_limits.h) */
    bool socket_lent;                     /* another worker writes the head reply on fd (batch.h) */
    int batch_open;                       /* its commands in batches not back yet (batch.h) */
    int batch_target;                     /* while batch_open: the one worker they went to */
    int fanout_open;                      /* its fan-outs with parts not all back (fanout.c) */
    bool input_held;                      /* a command waits unparsed for them (dispatch_order_must_wait,
                                             pubsub_publish_must_wait) */
    int lent_fd_to_close;                 /* closed while lent: close this fd when it comes back, else -1 */
    struct remote_cmd *block_rc;          /* a blocking command out at its owner (blocking.h), or NULL */
    int block_worker;                     /* that owner */
    struct remote_cmd *wait_rc;           /* its WAIT, out at the replication actor, or NULL (cmd_repl.c) */
    /* WAIT's target (7.0.15: woff, set after every called command): the
     * workers whose mark of this client counts (worker_woff_note), or
     * woff_whole after a call that no worker's mark covers (repl.h,
     * repl_wait_marks_t); both clear: nothing called yet */
    uint64_t woff_workers;
    bool woff_whole;
    struct ps_client *pubsub;             /* its subscriptions (pubsub.c), NULL when none */
    uint32_t trk_flags;                   /* CLIENT TRACKING (tracking.h TRK_*), 0 when off */
    uint64_t trk_redir;                   /* its REDIRECT target's id, 0 for none */
    struct trk_prefixes *trk_pfx;         /* BCAST prefixes (tracking_internal.h), NULL when none */
    /* TLS (came in on tls-port): the session on fd, owned with the client */
    struct tls_conn *tls;
    bool tls_read_wants_write;            /* a read waits for the socket to be writable */
    bool tls_write_wants_read;            /* a write waits for it to be readable */
    /* ACL (acl_gate.c): the user this connection runs as, by uid; the user
     * found for it in snapshot acl_ver (valid only while that snapshot is
     * the current one, inside the worker's read section). */
    uint64_t acl_uid;
    uint64_t acl_ver;
    const struct acl_user *acl_user;
    char *acl_name;                       /* its name for CLIENT LIST and ACL LOG (malloc'd), NULL: default */
} client_t;

/* Where the next reply of this client goes: its output buffer when nothing is
 * pending, else a new ready slot at the tail of the FIFO. */
resp_buf_t *client_reply_target(client_t *c);
/* Where a push (a pub/sub message or confirmation) goes: as
 * client_reply_target, but never into a running EXEC's reply. */
resp_buf_t *client_push_target(client_t *c);
/* A pending slot at the FIFO tail, to be filled by a later completion. */
reply_slot_t *client_defer_reply(client_t *c);
/* Gives a pending slot its reply bytes (copied) and completes it. */
void client_slot_fill(worker_t *w, reply_slot_t *s, const char *data, size_t len);
/* Marks a slot done and moves every ready reply at the head to the output. */
void client_slot_done(worker_t *w, reply_slot_t *s);
/* Lends the client's socket for the reply of `s` (batch.h) and returns the
 * fd, or -1 when that reply cannot go out directly: it is not the one reply
 * outstanding, output is unsent, the socket is already lent or the client
 * closing. */
int client_lend_socket(reply_slot_t *s);
/* The executor is done with the socket lent for `s`'s reply. */
void client_return_socket(reply_slot_t *s);
/* Schedules the output buffer for writing before the loop sleeps. */
void client_schedule_write(client_t *c);
/* Puts c on the list written (or, closed, freed) before the loop sleeps,
 * even when it is closed (client_schedule_write skips closed clients). */
void worker_flush_list_add(client_t *c);
/* Closes the socket now; memory is freed once no reply is pending. */
void client_close(client_t *c);
/* Takes the socket away from the worker (PSYNC hands it to the replication
 * actor): watchers stopped, client forgotten, fd returned open, and its TLS
 * session (NULL for plain TCP) in *tls for the new owner. -1, and nothing
 * changed, when the client is closed or has unsent output or input held
 * inside TLS (it never waits for the socket). */
int client_detach(client_t *c, struct tls_conn **tls);
/* Continues parsing buffered input (after replies arrived). */
void client_process_input(client_t *c);

/* client_cmds.c: CLIENT REPLY's effect on one command's reply. Before the
 * command, begin notes where its reply will start; after it, end drops
 * that reply if the client's replies are off or skipped (and moves SKIP
 * on, as 7.0.15 does after each command). */
typedef struct client_reply_mark {
    reply_slot_t *tail;
    size_t out_len;
} client_reply_mark_t;
static inline client_reply_mark_t client_reply_begin(const client_t *c)
{
    return (client_reply_mark_t){ c->pending_tail, c->out.len };
}
void client_reply_end(client_t *c, client_reply_mark_t m);

/* client_cmds.c: the client's CLIENT LIST line, without its newline, as
 * Redis's catClientInfoString (also used in log lines). */
void client_info_line(const client_t *c, char *buf, size_t cap);

/* dispatch.c: runs one parsed command. */
void dispatch_command(client_t *c, int argc, const uint8_t **argv, size_t *argvlen);
/* order.c: before c's next command is dispatched, on its worker: true when it must
 * wait, unparsed, until the commands c sent earlier to another worker in
 * batches are back (have run there): every command but a keyed one for
 * that same worker, which runs after them there anyway; and every command
 * while a fan-out of c has parts out (their messages run on c's own worker
 * too: a command run here at once would come before them). So no effect
 * of a later command of a connection is visible before an earlier one's,
 * on any worker (docs/design.md §5, "Per-connection order"); not while
 * a script is busy for an allow-busy command, nor on a worker whose own
 * script is busy (worker_busy_refused answers there). Also a
 * PUBLISH/SPUBLISH behind such batches (pubsub_publish_must_wait). Sets
 * c->input_held; client_slot_done resumes the input when the last one is
 * back. */
bool dispatch_order_must_wait(client_t *c, int argc, const uint8_t **argv, const size_t *argvlen);
/* Runs a batch on this worker (the executing side). */
void dispatch_execute_batch(worker_t *w, remote_cmd_t *rc);
/* Executes a command here with this worker's keyspace, writing to `reply`. */
/* Runs one command of our master's stream on this worker (ctx->from_master):
 * no reply, no propagation. KEYED commands and the FLUSHALL/FLUSHDB share of
 * this worker; anything else is ignored (the replica link filters those). */
void dispatch_apply(worker_t *w, const queued_cmd_t *q, long long now_ms);
/* now_ms DISPATCH_NOW_AT_CALL: the command's time is read when it starts,
 * from the clock that also times it (one clock read less per command). */
#define DISPATCH_NOW_AT_CALL (-1LL)
void dispatch_run_local(worker_t *w, client_t *c, const cmd_def_t *cmd, int argc,
                        const uint8_t **argv, const size_t *argvlen, resp_buf_t *reply, long long now_ms);
/* As dispatch_run_local for a keyed command another worker routed here: the
 * rules of a slot move (key presence) are applied first, here, where the keys
 * are (dispatch_open_slot_check); a refusal is the reply. client_id: whose
 * command (0: gone), for WAIT's per-client mark (worker_woff_note).
 * routed_version: the snapshot version the routing worker decided with (0:
 * unknown); when ours differs, the slot's owner is checked again here. */
void dispatch_run_routed(worker_t *w, uint64_t client_id, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                         const size_t *argvlen, resp_buf_t *reply, long long now_ms, uint64_t routed_version);
/* The slot-move check over `n` commands (one, or a transaction's queue) on
 * the worker keeping their slot: true to run, else the -ASK/-TRYAGAIN in err. */
bool dispatch_open_slot_check(worker_t *w, const queued_cmd_t *cmds, int n, char *err, size_t errcap);
/* A transaction's keyed commands (one slot: routing refused CROSSSLOT), run
 * here after EXEC was routed with snapshot version routed_version: false,
 * with -MOVED or -CLUSTERDOWN in err, when the snapshot has changed since
 * and the slot is no longer served here, as a single command is checked
 * again where it runs (0: no check). */
bool dispatch_txn_owner_ok(worker_t *w, const queued_cmd_t *cmds, int n, uint64_t routed_version, char *err,
                           size_t errcap);
/* The same for a client of another worker, known by its id (0: none), so
 * that WAIT's per-client mark notes the call (worker_woff_note). */
void dispatch_run_for(worker_t *w, uint64_t client_id, const cmd_def_t *cmd, int argc,
                      const uint8_t **argv, const size_t *argvlen, resp_buf_t *reply, long long now_ms);

/* Copies argv into one allocation. */
void queued_cmd_copy(queued_cmd_t *dst, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen);
void queued_cmd_free(queued_cmd_t *q);

/* True when cluster mode is off and slots a and b are kept by one worker:
 * their keys may then be used by one command or transaction. */
bool dispatch_same_worker_standalone(int a, int b);

/* Sends a CLIENT-class command to another actor, with a deferred reply. */
remote_cmd_t *dispatch_defer(cmd_ctx_t *ctx, rt_actor_t *to, uint32_t msg_type);
/* As dispatch_defer, but the caller sends rc (after other messages of its own). */
remote_cmd_t *dispatch_defer_nosend(cmd_ctx_t *ctx, uint32_t msg_type);
/* A message from client c's worker with room for `ncmds` commands (zeroed, the
 * caller fills them), its reply going into `slot`; the caller sets anything
 * else and sends it. Ownership passes to whoever it is sent to. */
remote_cmd_t *remote_cmd_new(client_t *c, int ncmds, reply_slot_t *slot, uint32_t msg_type, long long now_ms);
/* The same carrying one command (a copy of argv). */
remote_cmd_t *remote_cmd_one(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                             const size_t *argvlen, reply_slot_t *slot, uint32_t msg_type,
                             long long now_ms);

/* Per-worker stats bookkeeping (stats.c). */
void stats_init_worker(worker_t *w);
void stats_note_call(worker_t *w, const cmd_def_t *cmd, long long usec, const resp_buf_t *reply, size_t reply_start);
void stats_note_rejected(worker_t *w, const cmd_def_t *cmd, const char *err);
/* A rejected call whose error is counted elsewhere (a script's refused command). */
void stats_note_rejected_quiet(worker_t *w, const cmd_def_t *cmd);
/* A handler's refusal (cmd_ctx_t.rejected): the error at reply[start] counts
 * in errorstats, the call as rejected. */
void stats_note_rejected_reply(worker_t *w, const cmd_def_t *cmd, const resp_buf_t *reply, size_t start);
void stats_note_error_text(worker_t *w, const char *err);
/* A failed call whose error was counted where it arose (cmd_ctx_t.error_counted). */
void stats_note_call_counted(worker_t *w, const cmd_def_t *cmd, long long usec);

#endif

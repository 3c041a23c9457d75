/* repl.h - replication: one totally ordered stream out of many workers.
 *
 * Actors and who owns what:
 *   - the replication actor (repl.c, its own thread) owns the replication
 *     IDs (replid, replid2), master_repl_offset, second_repl_offset, the
 *     backlog, and every replica connection we serve (after PSYNC a client
 *     connection is handed from its worker to this actor). It is the only
 *     place where stream offsets are assigned.
 *   - workers append the effect of each write they execute (rewritten to
 *     absolute expiry, DEL for keys that expire) to a per-worker buffer
 *     (repl_propagate) and hand the buffer to the replication actor with
 *     repl_flush BEFORE any reply to those writes leaves the worker. Keys of
 *     different workers are disjoint and no command spans workers, so any
 *     interleaving of per-worker-ordered chunks is a valid serial order; the
 *     one the replication actor receives becomes THE order.
 *   - the replica link actor (repl_replica.c) is our side of a link to our
 *     own master: it applies the master's stream through the owning workers
 *     and feeds the same bytes into the replication actor (repl_feed_from_master),
 *     so the backlog and offsets of a replica follow its master's and a
 *     promoted replica can serve partial resyncs.
 *
 * Must never: let a worker's reply to a write reach a client before that
 * write's bytes were handed to the replication actor; propagate commands that
 * came from our master (ctx->from_master).
 */
#ifndef SHOAL_ACTORS_REPL_H
#define SHOAL_ACTORS_REPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "runtime/actor.h"
#include <netinet/in.h>

struct worker;

#define REPL_ID_LEN 40
#define REPL_MAX_SHOWN_REPLICAS 32

/* Nonzero once a backlog exists. A worker propagates a write when this is set
 * and its keyspace is not in replica mode, or is only for a pause (a write
 * admitted before a pause may run after it: repl_worker_propagates): the role
 * comes from the worker's own snapshot, so a promoted replica's first write
 * is already in the stream. */
extern _Atomic int g_repl_propagate;
/* master_repl_offset as last published by the replication actor (a replica's
 * is its processed offset): the bus header's offset field. */
extern _Atomic long long g_repl_offset;
/* Bytes the workers handed to the replication actor (repl_flush), ever: the
 * part not yet taken is added to INFO's master_repl_offset. One add per
 * flush (a loop round of a worker), not per command. */
extern _Atomic unsigned long long g_repl_fed;
/* With the AOF on, a worker's handover (an RM_FEED message, `len` bytes of
 * data) joins the stream through a queue instead of the mailbox
 * (repl_feedq.c): the replication thread is woken for it only while it
 * serves replicas. Called by aof_handover inside the AOF writer's critical
 * section, which gives the queue the file's order. */
void repl_feed_pass(rt_msg_t *msg, size_t len);
/* INFO threads: handovers passed through that queue, the wake-ups of the
 * replication thread they asked for, and handovers only the AOF needed (no
 * backlog yet: g_repl_backlog_on). */
void repl_feedq_counts(unsigned long long *passed, unsigned long long *kicks, unsigned long long *aof_only);
/* repl_flush: one handover written to the AOF only. */
void repl_feedq_note_aof_only(void);
/* Nonzero once the replication actor has a backlog (it never drops it): only
 * then can a replica ever read the workers' handovers. Before, with the AOF
 * on, a handover is written to the AOF and not passed on (repl_flush).
 * Stored with release after the backlog exists; a worker that took a cut's
 * message (a full sync's) sees it. */
extern _Atomic int g_repl_backlog_on;
/* Replicas with an ACK no older than min-replicas-max-lag (for min-replicas-to-write). */
extern _Atomic int g_repl_good_replicas;
/* min-replicas-to-write: read at start and on its (or min-replicas-max-lag's) CONFIG SET;
 * 0 = off, also while min-replicas-max-lag is 0 (7.0.15's checkGoodReplicasStatus). */
extern _Atomic int g_repl_min_replicas;
/* Whether a master may write: min-replicas-to-write is off or met (7.0.15's
 * checkGoodReplicasStatus, whose callers leave replicas out). Relaxed loads:
 * two published counters, each current within a command. */
static inline bool repl_enough_good_replicas(void)
{
    int min = atomic_load_explicit(&g_repl_min_replicas, memory_order_relaxed);
    return min <= 0 || atomic_load_explicit(&g_repl_good_replicas, memory_order_relaxed) >= min;
}

/* A replica's connection as the client it was on its worker (CLIENT LIST
 * shows it flagged S, as 7.0.15 lists its replicas among its clients). */
typedef struct repl_conn_info {
    uint64_t id;
    char addr[78], laddr[78], name[128], user[128];
    int fd;
    long long created_ms;         /* wall clock */
} repl_conn_info_t;

/* One replica as INFO and CLIENT LIST show it. */
typedef struct repl_replica_view {
    char ip[INET6_ADDRSTRLEN];
    int port;
    char state[16];               /* wait_bgsave, send_bulk, online */
    long long offset, lag;
    repl_conn_info_t conn;
    long long ack_ms;             /* rt_mono_ms of its last ACK (or of its PSYNC) */
} repl_replica_view_t;

/* A consistent copy of the replication actor's figures (INFO, ROLE). */
typedef struct repl_status {
    char replid[REPL_ID_LEN + 1], replid2[REPL_ID_LEN + 1];
    long long master_repl_offset, second_repl_offset;
    bool backlog_active;
    long long backlog_size, backlog_first_byte_offset, backlog_histlen;
    int nreplicas;
    repl_replica_view_t replicas[REPL_MAX_SHOWN_REPLICAS];
    long long sync_full, sync_partial_ok, sync_partial_err;
    long long net_repl_output_bytes;
    unsigned long long fed_taken;     /* of g_repl_fed, when master_repl_offset was published */
} repl_status_t;

/* Starts the replication actor on its own thread. replid/offset: the history
 * loaded from dump.rdb (repl-id / repl-offset aux), or NULL/0 for a fresh one.
 * As 7.0.15 after loading: a replica takes it as its own (replid, offset),
 * so its next PSYNC continues from there; a master starts a new id with the
 * loaded one as replid2 (valid up to offset + 1) and an empty backlog at
 * that offset, so its replicas can continue. Which one we are comes from
 * the first snapshot (nodes.conf or replicaof), published before this. */
int repl_start(const char *loaded_replid, long long loaded_offset);
void repl_status_get(repl_status_t *out);
/* Bytes held for replicas beyond the backlog (stream and sync bytes not yet
 * written to every replica): INFO's mem_clients_slaves. Any thread. */
long long repl_buffers_bytes(void);
rt_actor_t *repl_actor(void);
/* The replication actor's thread (the replica link actor shares it). */
rt_thread_t *repl_thread(void);

/* ---- worker side (owner thread of the buffer's worker only) ---- */
/* A worker's buffer of writes to propagate, not yet handed over. NULL (the
 * worker has none) makes every call below a no-op. */
struct repl_wbuf;
struct keyspace;
struct repl_wbuf *repl_wbuf_new(int worker);
/* The handover that will carry what a call run now on the buffer's worker
 * buffered: handovers are numbered 1, 2, ... per worker, so this is the
 * number of the next one when the buffer holds bytes, else of the last one
 * (0: none yet). WAIT's per-client target is built from these marks. */
uint64_t repl_wbuf_mark(const struct repl_wbuf *b);
/* True if writes executed on the worker holding `ks` must now go into the stream (see g_repl_propagate). */
bool repl_worker_propagates(const struct keyspace *ks);
/* The database the effects appended from now on are in (wdb.h): a SELECT
 * goes before the first of them when it differs from the last one's. */
void repl_wbuf_set_db(struct repl_wbuf *b, int db);
/* SELECT <db> as the stream carries it, appended to out. */
struct resp_buf;
void repl_select_bytes(struct resp_buf *out, int db);
/* Appends one command (as a RESP array of bulk strings) to the buffer. */
void repl_propagate(struct repl_wbuf *b, int argc, const uint8_t **argv, const size_t *argvlen);
/* As repl_propagate, for the replicas only: repl_flush leaves it out of the
 * AOF's bytes (a standalone PUBLISH or SPUBLISH, as 7.0.15 propagates it). */
void repl_propagate_replicas_only(struct repl_wbuf *b, int argc, const uint8_t **argv, const size_t *argvlen);
/* Convenience for rewritten commands built from C strings and byte ranges. */
void repl_propagate_del(struct repl_wbuf *b, const uint8_t *key, size_t len);
/* After a dirty command ran on the worker holding `ks` (not from our master):
 * appends its effect, rewritten as Redis does (relative TTLs to PXAT/PEXPIREAT,
 * GETDEL to DEL, INCRBYFLOAT to SET ... KEEPTTL, ...). */
struct cmd_ctx;
struct cmd_def;
void repl_propagate_effect(struct repl_wbuf *b, struct keyspace *ks, const struct cmd_def *cmd, struct cmd_ctx *ctx);
/* Around a transaction's commands: two or more effects go out wrapped in
 * MULTI ... EXEC, as Redis does. */
void repl_multi_begin(struct repl_wbuf *b);
void repl_multi_end(struct repl_wbuf *b);
/* True between repl_multi_begin and repl_multi_end (an EVAL inside EXEC adds no wrap of its own). */
bool repl_in_multi(const struct repl_wbuf *b);
/* Where the buffer ends and how many effects its open transaction counts;
 * rewinding takes back what was appended since (a script's call under
 * redis.set_repl(REPL_NONE)). No-ops on a NULL buffer. */
typedef struct { size_t len; int count; int end_db; } repl_wbuf_pos_t;
repl_wbuf_pos_t repl_wbuf_tell(const struct repl_wbuf *b);
void repl_wbuf_rewind(struct repl_wbuf *b, repl_wbuf_pos_t pos);
/* A buffer used only to format effects (a slot migration's lane sends them
 * itself, actors/worker/asm_lane.c): its bytes, and emptying it. */
const char *repl_wbuf_bytes(const struct repl_wbuf *b, size_t *len);
void repl_wbuf_clear(struct repl_wbuf *b);
void repl_wbuf_free(struct repl_wbuf *b);
/* Hands the buffered bytes to the replication actor (no-op when empty). */
void repl_flush(struct repl_wbuf *b);
/* WAITs waiting for their replicas (any thread): INFO blocked_clients; and
 * those of them with a timeout, clients_in_timeout_table (as 7.0.15). */
long long repl_wait_parked(void);
long long repl_wait_parked_with_timeout(void);
/* In the child of a forked debugger session (ldb_conn.c): from now on
 * repl_flush drops what it would hand to the replicas and the AOF, so the
 * child's changes reach neither. */
void repl_detach(void);
/* As repl_flush, and inside an open transaction the bytes before it (a
 * script that waits for another worker's script, actors/worker/xscript.c:
 * the effects of its worker's earlier commands go to the stream first). */
void repl_flush_before_multi(struct repl_wbuf *b);

/* Shutdown: asks every replica for an ACK now (REPLCONF GETACK), so that
 * the wait for them to catch up ends as soon as they have. Any thread. */
void repl_request_getack(void);

/* ---- saves (rdb_save.c) ---- */
/* A save's cut: the workers park as for a full sync; with all of them
 * parked the stream offset, our history and the dirty counters are read;
 * released, each worker encodes its keys into parts[its index]; then, on
 * the replication thread, done(cut). Cuts run one at a time, in request
 * order after any queued before. */
struct rdb_part;
typedef struct repl_save_cut {
    rt_msg_t hdr;                 /* set by repl_request_save */
    struct rdb_part *parts;       /* MAX_WORKERS entries, zeroed */
    int compress;                 /* rdbcompression */
    bool flush_first;             /* FLUSHALL under save points: the workers empty their
                                   * keyspaces at the cut (FLUSHALL in the stream there),
                                   * then encode (no at_cut) */
    /* filled by the cut: */
    bool has_history;             /* a backlog exists: the file names its place in the stream */
    char replid[REPL_ID_LEN + 1];
    long long offset;
    long long dirty;              /* the workers' summed change counters at the cut */
    uint8_t *functions;           /* the FUNCTION2 records of the libraries at the cut (malloc'd,
                                   * may be NULL; the saver frees it) */
    size_t functions_len;
    /* Optional: called on the replication thread with every worker parked
     * (after the fields above are filled). True: it took the image itself
     * (a BGSAVE's fork), and the workers encode nothing. */
    bool (*at_cut)(struct repl_save_cut *cut);
    bool taken;                   /* at_cut returned true */
    void (*done)(struct repl_save_cut *cut);
} repl_save_cut_t;
void repl_request_save(repl_save_cut_t *cut);

/* ---- replica link side ---- */
/* The master's stream bytes we processed, appended to our backlog as they are
 * (so offsets stay equal to the master's). Takes ownership of data (malloc'd). */
void repl_feed_from_master(uint8_t *data, size_t len);
/* After +FULLRESYNC <replid> <offset> and a successful load: our history is now
 * the master's (backlog reset to start at offset+1, replid2 cleared; our own
 * replicas are dropped so they resync). */
void repl_set_master_history(const char *replid, long long offset);
/* After +CONTINUE <newid> with a different id: replid2 = old id,
 * second_repl_offset = our offset + 1, replid = newid. */
void repl_switch_replid(const char *newid);
/* The three above run on the replication thread only (the link's thread).
 * True while a full sync's cut is fixing its offset: the link must not hand
 * the workers more of its master's stream until repl_replica_resume. */
bool repl_cut_holds_stream(void);

/* The node's role may have changed in the snapshot just published: look now
 * rather than at the next cron (a replica promoted within a second of
 * becoming one must still start a new history). Any thread. */
void repl_role_changed(void);
/* The PSYNC arguments for our next attempt, from the actor's current figures:
 * fills replid and returns the offset+1 to ask for, or -1 when we have no
 * history to continue ("PSYNC ? -1"). Safe from any thread. */
long long repl_psync_args(char replid[REPL_ID_LEN + 1]);

/* ---- WAIT / PSYNC from client workers (worker_reply_async answers) ---- */
struct remote_cmd;

/* What a replica announced with REPLCONF capa. */
/* REPL_CAPA_PRE_PSYNC: not a REPLCONF capa but the peer's protocol, SYNC
 * (before PSYNC): its full sync has no +FULLRESYNC line and its RDB comes
 * with its length (no EOF mark), as 7.0.15 serves a SYNC. */
enum { REPL_CAPA_EOF = 1, REPL_CAPA_PSYNC2 = 2, REPL_CAPA_PRE_PSYNC = 4 };
/* PSYNC: a replica's connection, taken from its worker (client_detach), and
 * what it asked for. */
typedef struct repl_psync_msg {
    rt_msg_t hdr;
    int fd;
    struct tls_conn *tls;     /* the connection's TLS session, NULL for plain TCP */
    char ip[INET6_ADDRSTRLEN];
    int port;             /* REPLCONF listening-port */
    int capa;             /* REPL_CAPA_* */
    char replid[REPL_ID_LEN + 1];   /* "?" for none */
    long long offset;
    uint64_t client_id;
    repl_conn_info_t conn;
} repl_psync_msg_t;
/* Hands m (xcalloc'd, every field but hdr set) to the replication actor,
 * which owns the connection from then on and answers the PSYNC on it. */
void repl_hand_over_replica(repl_psync_msg_t *m);
/* WAIT (cmd_repl.c): rc waits for its replicas; the answer goes back to
 * rc->origin as WMSG_RUN, running the rc->run.fn the caller set. */
void repl_request_wait(struct remote_cmd *rc, int numreplicas, long long timeout_ms);
/* The client's worker, while WAIT rc is out (its answer has not come
 * back): the replication actor answers it now, as 7.0.15 ends a blocked
 * WAIT, with the number of replicas that acknowledged its target
 * (REPL_WAIT_ANSWER_NOW: the client closed its connection, so it no longer
 * counts in INFO blocked_clients, or CLIENT UNBLOCK [TIMEOUT]) or with
 * -UNBLOCKED (CLIENT UNBLOCK ERROR). False when rc was told already, or
 * when the actor has answered it already (REPL_WAIT_ANSWERED: the answer is
 * on its way back), so that CLIENT UNBLOCK answers 0 for a WAIT it did not
 * end, as 7.0.15 does for a client no longer blocked.
 * cmd_wait sets rc->wait_end itself for a WAIT inside EXEC, which 7.0.15
 * answers at once. */
enum { REPL_WAIT_GO_ON = 0, REPL_WAIT_ANSWER_NOW, REPL_WAIT_UNBLOCKED, REPL_WAIT_ANSWERED };
bool repl_wait_end(struct remote_cmd *rc, int how);
/* What WAIT's target is made of (rc->wait_marks, freed by the replication
 * actor). 7.0.15 waits for the client's woff, the stream offset after its
 * last called command; here, per worker in `mask`, the mark
 * (repl_wbuf_mark) that worker noted for the client's last call there, the
 * target being the largest offset at which those handovers ended; with
 * `whole`, the stream's current offset (a call no worker's mark covers: a
 * fan-out, a transaction, a blocking or suspending command). Neither mask nor
 * whole: 0, a client that called nothing. */
#define REPL_WAIT_WORKERS 64
typedef struct repl_wait_marks {
    bool whole;
    uint64_t mask;
    uint64_t marks[REPL_WAIT_WORKERS];
} repl_wait_marks_t;
/* FLUSHALL/FLUSHDB while propagating: the flush runs as a cut across every
 * worker, one point in the stream; then +OK. */
void repl_request_flush(struct remote_cmd *rc);
/* BGREWRITEAOF: a cut like a full sync's; at its barrier the AOF starts a
 * new incr file (aof_cut_reached), and the workers' parts, joined into one
 * RDB, become the new base (aof_rewrite_base_ready). Any thread. */
void repl_request_aof_rewrite(void);
/* CLIENT KILL TYPE replica, or filters that match a replica's connection
 * (ID, ADDR, the old form's address; LADDR, USER): the replication actor owns
 * the replica connections; it closes those the filters match and answers
 * the count (the old form: +OK or "ERR No such client"). */
void repl_request_kill_replicas(struct remote_cmd *rc);
/* The same as an extra part of CLIENT KILL's fan-out (filters of any type:
 * the workers close their clients, this the replicas): the count goes back
 * in rc->keys_delta (fanout_part_return). */
void repl_request_kill_replicas_part(struct remote_cmd *rc);
/* DEBUG CHANGE-REPL-ID: a new random replid, replid2 cleared (as 7.0.15's
 * changeReplicationId + clearReplicationId2); +OK through worker_reply_async. */
void repl_request_change_id(struct remote_cmd *rc);

/* A barrier of the writes admitted so far (repl_fence.c), for a pause that
 * now holds every write (a manual failover's, wpause.h): call it once the
 * pause is on. When every write any worker admitted before it is in the
 * stream (a batch run on another worker included), the replication actor
 * publishes its offset (g_repl_offset) and sends `done` to `to`, which owns
 * it. No worker waits. Any thread. */
void repl_fence(rt_actor_t *to, rt_msg_t *done);

/* DEBUG SLEEP: the whole node stops for rc->arg_us microseconds, as
 * redis-server's single thread does: a stop-the-world cut parks every worker
 * (so every client and every bus link) and the state actor with its cron,
 * and the replication thread sleeps while they wait; then +OK. Cuts run one
 * at a time, after any FLUSHALL or full sync queued before. */
void repl_request_sleep(struct remote_cmd *rc);
/* The message a DEBUG SLEEP cut sends the state actor, whose behaviour hands
 * it to repl_cut_park: the state thread waits there until the cut ends. */
#define REPL_MSG_PARK 400
void repl_cut_park(rt_msg_t *msg);
/* Replication thread only: one DEBUG SLEEP's hold on the replica link's
 * stream ends (see repl_replica_sleep_done). */
void repl_sleep_release(void);
/* The same from any thread, by a message to the replication actor. */
void repl_sleep_release_async(void);

#endif

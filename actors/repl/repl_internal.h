/* repl_internal.h - messages and shared pieces of the replication actor
 * (repl.c), its per-replica sender actors (repl_sender.c) and the worker side
 * (repl_prop.c). Not for other modules: they use repl.h.
 */
#ifndef SHOAL_ACTORS_REPL_INTERNAL_H
#define SHOAL_ACTORS_REPL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "actors/persist/rdb_save.h"
#include "actors/repl/repl.h"
#include "actors/worker/worker.h"
#include "runtime/actor.h"
#include <netinet/in.h>

/* Messages to the replication actor. */
enum repl_msg {
    RM_FEED = 1,          /* repl_feed_msg_t: a worker's propagated bytes */
    RM_FEED_MASTER,       /* repl_feed_msg_t: our master's stream, processed */
    RM_SET_HISTORY,       /* repl_id_msg_t */
    RM_SWITCH_ID,         /* repl_id_msg_t */
    RM_PSYNC,             /* repl_psync_msg_t: a replica connection handed over */
    RM_WAIT,              /* remote_cmd_t: WAIT numreplicas timeout */
    RM_FLUSH,             /* remote_cmd_t: FLUSHALL/FLUSHDB while propagating */
    RM_SLEEP,             /* remote_cmd_t: DEBUG SLEEP (arg_us) */
    RM_SLEEP_RELEASE,     /* rt_msg_t: a DEBUG SLEEP's client went on (repl_replica_sleep_done) */
    RM_CUT_ARRIVED,       /* repl_cut_msg_t: a worker reached the cut */
    RM_CUT_DONE,          /* repl_cut_msg_t: a worker finished its part */
    RM_ACK,               /* repl_ack_msg_t: REPLCONF ACK from a replica */
    RM_SENDER_GONE,       /* repl_ack_msg_t: a sender lost its replica */
    RM_KILL,              /* remote_cmd_t: CLIENT KILL TYPE replica */
    RM_KILL_PART,         /* remote_cmd_t: a CLIENT KILL fan-out's part for the replicas */
    RM_ROLE_CHANGED,      /* rt_msg_t: a new snapshot may carry a new role */
    RM_SAVE,              /* repl_save_cut_t: a save's cut (rdb_save.c) */
    RM_GETACK,            /* rt_msg_t: send REPLCONF GETACK to the replicas (shutdown) */
    RM_AOF_REWRITE,       /* rt_msg_t: BGREWRITEAOF wants a cut (repl_request_aof_rewrite) */
    RM_CHANGE_ID,         /* remote_cmd_t: DEBUG CHANGE-REPL-ID */
    RM_FEED_KICK,         /* rt_msg_t: handovers wait in repl_feedq.c's queue */
    RM_FENCE,             /* a worker passed a write barrier (repl_fence.c) */
    RM_WAIT_END,          /* rt_msg_t: a WAIT must be answered now (repl_wait_end) */
};

/* Messages to a sender actor. */
enum repl_sender_msg {
    RS_DATA = 1,          /* repl_data_msg_t: bytes to write, in order */
    RS_RELEASE,           /* rt_msg_t: first ACK seen or no EOF framing: stream may flow */
    RS_CLOSE,             /* rt_msg_t: drop the replica */
    RS_FREE,              /* rt_msg_t: the replication actor forgot us: free */
    RS_PACE,              /* repl_pace_msg_t: the next sync bytes go out no faster than this */
};

/* RS_PACE, sent before a full sync's payload when rdb-key-save-delay is
 * set: 7.0.15's child sleeps that long per key as it writes the RDB to the
 * replica's socket (Redis's test suites slow a sync so, to act half-way),
 * so the next `bytes` go out evenly over `us` microseconds. */
typedef struct repl_pace_msg {
    rt_msg_t hdr;
    size_t bytes;
    long long us;
} repl_pace_msg_t;

typedef struct repl_feed_msg {
    rt_msg_t hdr;
    uint8_t *data;        /* owned */
    size_t len;
    int worker;           /* RM_FEED: whose handover, and its number (repl_wbuf_mark) */
    uint64_t seq;
    int start_db, end_db; /* RM_FEED: the database its bytes start in and end in (repl_prop.c) */
} repl_feed_msg_t;

typedef struct repl_id_msg {
    rt_msg_t hdr;
    char id[REPL_ID_LEN + 1];
    long long offset;
} repl_id_msg_t;

/* Shared, refcounted bytes (one stream chunk sent to many replicas). */
typedef struct repl_chunk {
    _Atomic int refs;
    size_t len;
    uint8_t *data;        /* owned */
} repl_chunk_t;

repl_chunk_t *repl_chunk_new(uint8_t *data, size_t len);   /* takes data; refs = 1 */
repl_chunk_t *repl_chunk_copy(const void *data, size_t len);
void repl_chunk_unref(repl_chunk_t *c);
static inline repl_chunk_t *repl_chunk_ref(repl_chunk_t *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

typedef struct repl_data_msg {
    rt_msg_t hdr;
    repl_chunk_t *chunk;
    bool hold;            /* stream bytes: queue behind the RDB until RS_RELEASE */
} repl_data_msg_t;

struct repl_sender;
typedef struct repl_ack_msg {
    rt_msg_t hdr;
    struct repl_sender *sender;
    long long offset;
} repl_ack_msg_t;

/* A stop-the-world cut: every worker flushes, waits at the barrier while the
 * replication actor fixes the stream offset, then does its part. A sleep cut
 * (DEBUG SLEEP) parks the state actor too and has no part after the barrier. */
enum { CUT_SYNC = 1, CUT_FLUSH, CUT_SLEEP, CUT_SAVE, CUT_REWRITE };
typedef struct repl_cut {
    int kind;
    int parties;          /* threads that must arrive: the workers (+ the state actor) */
    long long sleep_us;   /* CUT_SLEEP: how long the node stays stopped */
    int flush_db;         /* CUT_FLUSH: FLUSHDB's database, or -1 for FLUSHALL */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool released;
    int arrived, done;
    long long now_ms;
    int compress;
    long long offset;     /* the stream offset of the cut (CUT_SYNC) */
    repl_save_cut_t *save;   /* CUT_SAVE: the request, whose parts the workers fill */
    rdb_part_t parts[MAX_WORKERS];
    uint8_t *functions;   /* CUT_SYNC, CUT_REWRITE: the FUNCTION2 records at the cut (owned, may be NULL) */
    size_t functions_len;
    bool rewrite_forked;  /* CUT_REWRITE: a child writes the base (aof_rewrite_fork_at_cut), no parts */
} repl_cut_t;

/* To a worker as WMSG_RUN (run.fn), and back to the replication actor. */
typedef struct repl_cut_msg {
    union {
        rt_msg_t hdr;
        worker_run_t run;
    };
    repl_cut_t *cut;
    int worker;
} repl_cut_msg_t;


/* Sender actors (repl_sender.c), created and driven by the replication actor. */
typedef struct repl_sender repl_sender_t;
repl_sender_t *repl_sender_new(rt_thread_t *t, const repl_psync_msg_t *p);
rt_actor_t *repl_sender_actor(repl_sender_t *s);
void repl_sender_send(repl_sender_t *s, repl_chunk_t *chunk, bool hold);   /* takes a ref */
void repl_sender_signal(repl_sender_t *s, int type);
void repl_sender_pace(repl_sender_t *s, size_t bytes, long long us);   /* RS_PACE */
/* Frees senders that got RS_FREE and whose mailbox the runtime left (repl
 * thread, before the loop sleeps). */
void repl_sender_reap(void);

#endif

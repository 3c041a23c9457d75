/* repl_actor_internal.h - what the replication actor's own two files share and
 * nobody else uses: its state (repl_actor_state_t, one instance, touched on
 * the replication thread except `pub` under `mu`; the actor's functions take
 * it as `ra`, from the actor's `self`), the replicas it serves, the WAIT
 * callers, and the helpers one file calls in the other. The files:
 *   repl.c      history, backlog, stream, WAIT, PSYNC, role changes, the actor
 *   repl_cut.c  the stop-the-world cut: full sync RDBs, FLUSHALL, DEBUG SLEEP
 *   repl_feedq.c the AOF path's handovers, queued without a wake-up each
 *   repl_fence.c a barrier of the writes admitted before a pause (repl_fence)
 * ra_ names are the actor's own; repl_internal.h is what the senders and the
 * worker side share with it, repl.h its public face.
 */
#ifndef SHOAL_ACTORS_REPL_ACTOR_INTERNAL_H
#define SHOAL_ACTORS_REPL_ACTOR_INTERNAL_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "actors/worker/client.h"
#include "actors/config/config.h"
#include "runtime/slice.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "actors/persist/aof.h"
#include "actors/repl/repl.h"
#include "actors/repl/repl_internal.h"
#include "actors/repl/repl_replica.h"
#include "actors/state/state.h"
#include "proto/rdb.h"
#include "runtime/log.h"
#include "proto/strnum.h"
#include <netinet/in.h>

enum { SND_WAIT_CUT = 1, SND_WAIT_RDB, SND_ONLINE };

typedef struct served {
    struct served *next;
    repl_sender_t *sender;
    char ip[INET6_ADDRSTRLEN];
    int port;
    int capa;
    int state;
    long long ack_offset;
    long long ack_ms;             /* rt_mono_ms of the last ACK (or attach) */
    long long sync_asked_ms;      /* rt_mono_ms of its PSYNC that needs a full sync */
    bool released;                /* stream bytes may flow (EOF framing waits for the first ACK) */
    uint64_t client_id;
    repl_conn_info_t conn;        /* CLIENT LIST's line (repl_status_t) */
} served_t;

typedef struct waiter {
    struct waiter *next;
    remote_cmd_t *rc;
    int numreplicas;
    long long target;
    long long deadline_ms;        /* 0 = none */
} waiter_t;

/* Where each of a worker's last REPL_FED_RING handovers ended in the stream
 * (repl_woff.c): handover number seq[i] ended at offset end[i]. */
#define REPL_FED_RING 64
typedef struct repl_fed {
    uint64_t seq[REPL_FED_RING];
    long long end[REPL_FED_RING];
    int head, n;                  /* the newest entry, and how many are held */
} repl_fed_t;

typedef struct repl_actor_state {
    rt_thread_t *thread;
    rt_actor_t actor;
    char replid[REPL_ID_LEN + 1], replid2[REPL_ID_LEN + 1];
    long long offset, second_offset;
    unsigned long long fed_taken;   /* bytes of the workers' RM_FEEDs taken so far (g_repl_fed) */
    uint8_t *backlog;             /* ring of backlog_size bytes, NULL when none */
    long long backlog_size, histlen;
    size_t widx;                  /* next write position */
    bool need_select;
    int stream_db;                  /* the database the stream's last SELECT chose */
    served_t *served;
    waiter_t *waiters;
    bool getack_pending;
    repl_cut_t *cut;              /* the cut under way, or NULL */
    remote_cmd_t *cut_flush_rc;   /* FLUSHALL or DEBUG SLEEP waiting for its cut */
    remote_cmd_t *flush_queue[64];   /* RM_FLUSH and RM_SLEEP requests, in arrival order */
    int nflush_queue;
    bool sync_queued;             /* a full sync waits for the current cut */
    repl_save_cut_t *save_queue[16];   /* saves waiting for a cut, in arrival order */
    int nsave_queue;
    bool rewrite_queued;          /* an AOF rewrite waits for the current cut */
    rt_slice_brief_t cut_slice;   /* this thread's slice before the cut's short ones (repl_cut.c) */
    int sleep_holds;              /* DEBUG SLEEPs whose client has not yet gone on (repl_sleep_release) */
    rt_timer_t cron, wait_timer;
    bool wait_timer_on;
    rt_timer_t sync_delay_timer;  /* while a diskless sync waits for more replicas (repl_cut.c) */
    bool sync_delay_timer_on;
    long long max_lag;            /* min-replicas-max-lag, read by the cron */
    long long cron_loops;         /* crons run (one a second): the PINGs' clock */
    long long sync_full, sync_partial_ok, sync_partial_err;
    long long output_bytes;
    rt_snap_reader_t snap;
    bool snap_ok;
    bool was_replica;             /* the role at the last check_role */
    pthread_mutex_t mu;           /* guards `pub` */
    repl_status_t pub;
    repl_fed_t fed[MAX_WORKERS];  /* WAIT's per-client targets (repl_woff.c) */
} repl_actor_state_t;

/* replid2 when there is no previous history. */
static const char zero_id[] = "0000000000000000000000000000000000000000";

/* repl.c */
void ra_publish(repl_actor_state_t *ra);
void ra_backlog_create(repl_actor_state_t *ra);
void ra_stream_append(repl_actor_state_t *ra, const void *p, size_t n);
void ra_maybe_select(repl_actor_state_t *ra, int db);

/* repl_woff.c: handover `seq` of `worker` was filed, ending at ra->offset;
 * the history restarted (offsets may go back): forget every end; WAIT's
 * target for a client's marks. */
void ra_fed(repl_actor_state_t *ra, int worker, uint64_t seq);
void ra_fed_reset(repl_actor_state_t *ra);
/* repl_feedq.c: the queued handovers (RM_FEED messages linked by `next`,
 * oldest first; NULL: none), taken all at once; `prompt`: from now on the
 * first handover of a burst wakes the thread (it serves replicas);
 * `kick_handled`: the caller is handling the RM_FEED_KICK. */
rt_msg_t *ra_feeds_take(bool prompt, bool kick_handled);
long long ra_wait_target(const repl_actor_state_t *ra, const repl_wait_marks_t *m);

/* repl_cut.c */
void ra_ensure_backlog(repl_actor_state_t *ra);
void ra_cut_arrived(repl_actor_state_t *ra, repl_cut_msg_t *m);
/* repl_fence.c: RM_FENCE, a worker's report. */
void ra_fence_reported(repl_actor_state_t *ra, rt_msg_t *msg);
void ra_cut_done(repl_actor_state_t *ra, repl_cut_msg_t *m);
void ra_begin_next_cut(repl_actor_state_t *ra);
void ra_save_request(repl_actor_state_t *ra, repl_save_cut_t *req);

#endif

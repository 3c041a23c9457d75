/* repl_replica_internal.h - what the replica link's files share and nobody else
 * uses: the link's state (repl_replica_link_t, one instance, touched only on
 * the replication actor's thread; the link's functions take it as `rl`, from
 * the actor's `self` or the watcher's data) and the helpers one stage calls
 * in another. The files:
 *   repl_replica.c         status, output, batches, connecting, reading, the tick
 *   repl_replica_sync.c    the handshake and the full sync (RDB load)
 *   repl_replica_stream.c  the command stream applied after a sync
 * rr_ names are the link's own; repl_replica.h is its public face.
 */
#ifndef SHOAL_ACTORS_REPL_REPLICA_INTERNAL_H
#define SHOAL_ACTORS_REPL_REPLICA_INTERNAL_H

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/worker/client.h"
#include "actors/commands/cmd.h"
#include "actors/commands/function.h"
#include "actors/config/config.h"
#include "actors/worker/keyspace.h"
#include "actors/persist/rdb_save.h"
#include "actors/repl/repl.h"
#include "actors/repl/repl_replica.h"
#include "actors/state/state.h"
#include "actors/worker/worker.h"
#include "proto/rdb.h"
#include "proto/resp.h"
#include "proto/slot.h"
#include "runtime/log.h"

#define TICK_MS 100
/* A master's replica link has nothing to do: the state actor pokes it when
 * our master changes (repl_replica_check); this slow tick is the backstop. */
#define IDLE_TICK_MS 1000
#define RETRY_MS 1000
#define READ_CHUNK (256 * 1024)
#define EOF_MARK_LEN 40

/* Replies the pipelined handshake waits for, in order. */
enum hs_reply { HS_PING, HS_AUTH, HS_PORT, HS_IP, HS_CAPA, HS_PSYNC };

/* Commands of one read round for one worker. */
typedef struct batch {
    queued_cmd_t *cmds;
    int n, cap;
} batch_t;

typedef struct repl_replica_link {
    rt_thread_t *thread;
    rt_actor_t actor;
    rt_snap_reader_t snap;
    bool snap_ok;
    rt_timer_t tick;
    int tick_ms;                  /* the tick's period: TICK_MS while we follow a master, IDLE_TICK_MS not */

    /* who we follow */
    bool replica;
    char master_name[NODE_NAME_LEN + 1];
    char master_ip[INET6_ADDRSTRLEN];
    int master_port;

    /* the connection */
    int state;                    /* enum repl_link_state */
    int fd;
    struct tls_conn *tls;       /* tls-replication: the session on fd (runtime/tls.h), else NULL */
    bool read_wants_write;      /* TLS: a read waits for the socket to be writable */
    ev_io rio, wio;
    bool wio_on;
    uint8_t *in;                  /* unprocessed input */
    size_t in_len, in_cap;
    uint8_t *out;                 /* unsent output */
    size_t out_len, out_cap;
    long long next_attempt_mono;
    long long last_io_mono;       /* last byte from the master (or connect start) */
    long long last_ack_mono;
    long long last_newline_mono;
    long long fast_ack_until_mono;  /* ACK every tick until then (after a full sync) */
    /* the link as a client of ours (CLIENT LIST's M line), from the stream's start */
    uint64_t link_id;
    char link_laddr[78];
    long long link_created_ms;
    char last_cmd[32];            /* the stream's last command, lower case */

    /* handshake */
    int hs_expect[6];             /* enum hs_reply, in order */
    int hs_n, hs_i;
    char psync_replid[REPL_ID_LEN + 1];
    long long psync_offset;       /* what we asked for (-1: "?") */

    /* full sync */
    char sync_replid[REPL_ID_LEN + 1];
    long long sync_offset;
    bool bulk_started;            /* the $ line was read */
    bool eof_mode;
    char eof_mark[EOF_MARK_LEN];
    uint8_t tail[EOF_MARK_LEN];   /* last bytes fed to the decoder (EOF mode) */
    size_t tail_len;
    bool rdb_done;                /* decoder reached EOF; EOF mode: mark still to check */
    long long bulk_left;          /* $<len> mode: RDB bytes still to come */
    long long transfer_read;
    rdb_decoder_t dec;
    bool dec_on;
    bool load_on;                 /* this transfer began a load (INFO loading / async_loading) */
    struct keyspace *staged[MAX_WORKERS];
    struct keyspace **staged_rest[MAX_WORKERS];   /* databases 1.. per worker (wdb.h), NULL when none */
    int staged_db;                      /* the RDB's SELECTDB now */
    int stream_db;                      /* the database the master's stream selected last */
    fn_stage_t staged_fns;              /* the master's function libraries, ours at the commit */
    long long staged_keys;

    /* stream */
    bool held;                    /* input waits for a cut to fix its offset (repl_replica_resume) */
    resp_parser_t parser;
    bool parser_on;
    batch_t batch[MAX_WORKERS];
    long long repl_offset, read_repl_offset;
    bool has_offsets;
    char unknown_logged[16][32];
    int nunknown_logged;

    /* ACKs claim only what the workers applied (repl_replica.c, marker rounds) */
    bool handed[MAX_WORKERS];     /* worker got WMSG_APPLY since the last marker sent to it */
    int markers_out;              /* markers of the round in flight not yet back */
    long long round_offset;       /* repl_offset when the round in flight started */
    bool ack_again;               /* another round, then an ACK, after the one in flight */
    unsigned gen;                 /* connection generation: a marker of an older one is ignored */

    /* published figures (status_mu) */
    long long last_io_ms, link_down_since_ms, sync_last_io_ms;
    char last_error[256];
} repl_replica_link_t;

/* repl_replica.c */
/* A stream starts at `offset`: what the workers applied is counted from there. */
void rr_stream_offset_reset(long long offset);
void rr_publish(repl_replica_link_t *rl);
void rr_set_error(repl_replica_link_t *rl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rr_out_flush(repl_replica_link_t *rl);
void rr_out_command(repl_replica_link_t *rl, int argc, const char **argv);
void rr_send_ack(repl_replica_link_t *rl);
void rr_ack_when_applied(repl_replica_link_t *rl);
void rr_batch_add(repl_replica_link_t *rl, int wi, const queued_cmd_t *q);
void rr_batches_send(repl_replica_link_t *rl);
void rr_in_consume(repl_replica_link_t *rl, size_t n);
void rr_transfer_reset(repl_replica_link_t *rl);
void rr_link_drop(repl_replica_link_t *rl, const char *why, bool is_error);

/* repl_replica_sync.c */
bool rr_handshake_step(repl_replica_link_t *rl);
void rr_transfer_fail(repl_replica_link_t *rl, const char *what);
bool rr_transfer_step(repl_replica_link_t *rl);

/* repl_replica_stream.c */
void rr_stream_round(repl_replica_link_t *rl);

#endif

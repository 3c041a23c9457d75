/* repl_replica.h - our side of the link to our own master (replica side of
 * replication, docs/replication.md §1, §3).
 *
 * One actor on its own thread. Every 100 ms it reads the cluster snapshot: when
 * we are a replica with a known master it keeps one client connection to the
 * master's announced address, does the PING / REPLCONF / PSYNC handshake, loads
 * a full sync's RDB into fresh keyspaces (one per worker, built here, handed
 * over only once the whole RDB decoded with a good checksum), and applies the
 * command stream through the owning workers (WMSG_APPLY), feeding the same
 * bytes to the replication actor (repl_feed_from_master) so our offsets and
 * backlog follow the master's.
 *
 * Must never: block its loop, touch a worker's keyspace (only build new ones
 * and hand them over), or apply a half-received RDB.
 */
#ifndef SHOAL_ACTORS_REPL_REPLICA_H
#define SHOAL_ACTORS_REPL_REPLICA_H

#include <stdbool.h>
#include <netinet/in.h>

/* Link states, as ROLE names them (Redis's repl_state). */
enum repl_link_state {
    RL_NONE = 0,        /* we are a master (or have no master address) */
    RL_CONNECT,         /* waiting to (re)connect */
    RL_CONNECTING,      /* TCP connect in progress */
    RL_HANDSHAKE,       /* PING / AUTH / REPLCONF / PSYNC exchange */
    RL_TRANSFER,        /* receiving the RDB of a full sync */
    RL_CONNECTED,       /* applying the command stream */
};

/* A consistent copy of the link's figures (INFO replication, ROLE). */
typedef struct repl_replica_status {
    bool replica;                   /* the link actor follows a master */
    char master_host[INET6_ADDRSTRLEN];
    int master_port;
    int state;                      /* enum repl_link_state */
    long long last_io_ms;           /* wall ms of the last byte from the master (0: none) */
    long long link_down_since_ms;   /* wall ms the link went down; 0: never up */
    bool sync_in_progress;
    long long sync_total_bytes;     /* -1 for the EOF-marked transfer */
    long long sync_read_bytes;
    long long sync_last_io_ms;
    bool has_offsets;               /* a link was up since the last master change */
    long long read_repl_offset;     /* bytes of stream read (master offset) */
    long long repl_offset;          /* bytes of stream processed */
    long long net_repl_input_bytes; /* every byte read from masters */
    char last_error[256];           /* why the last sync attempt failed ("" if it did not) */
    /* while connected: the link as CLIENT LIST shows it (flag M), as 7.0.15
     * lists its master's connection among its clients */
    uint64_t link_id;
    int fd, stream_db;
    char link_laddr[78];
    long long link_created_ms;      /* wall ms the stream started */
    char last_cmd[32];
} repl_replica_status_t;

/* Starts the link actor on its own thread. 0, or -1 if it could not start. */
int repl_replica_start(void);

/* CLIENT KILL of our master link (TYPE master, or its address): the link
 * actor closes the link if it is connected (it reconnects and tries a partial
 * resync), then answers rc (a deferred reply) with the count killed, 1 or 0,
 * or for the old form (argc 3) +OK / "ERR No such client". Any worker. */
struct remote_cmd;
void repl_replica_kill_master(struct remote_cmd *rc);
/* CLIENT KILL with filters of any type, as an extra part of its fan-out: the
 * link actor closes our master link if the filters (ID, ADDR, LADDR; USER
 * never matches it, as 7.0.15's master client has no user) match it; the
 * count goes back in rc->keys_delta (fanout_part_return). */
void repl_replica_kill_master_part(struct remote_cmd *rc);
/* Any worker, after the client of a DEBUG SLEEP got its answer (and its
 * transaction ran on up to its next wait): the link may read its master's
 * stream again (repl.h, repl_request_sleep). */
void repl_replica_sleep_done(void);

/* Replication thread only: a cut that held the stream (repl_cut_holds_stream)
 * has fixed its offset; process what was read meanwhile. */
void repl_replica_resume(void);

/* Any thread, after publishing a snapshot in which what the replica link
 * follows (our role, our master's name or address) changed: it looks now,
 * not at its next tick (which, on a master, comes once a second). */
void repl_replica_check(void);

/* Any thread. */
void repl_replica_status_get(repl_replica_status_t *out);

/* A worker applied a batch of our master's stream handed over at offset
 * `from` (its own thread). INFO's slave_repl_offset counts only what every
 * worker applied, as Redis's counts what its one thread processed. */
void repl_replica_applied(int worker, long long from);
/* "connect", "connecting", "handshake", "sync", "connected" (ROLE). */
const char *repl_link_state_name(int state);

/* The age of our data, for the failover elector (elector.h): while the link
 * is up, ms since the last byte from the master (Redis's data age); while it
 * is down, ms since it went down; -1 when it was never up (unknown: the
 * elector then uses bus times). Any thread. */
long long repl_master_link_down_ms(void);
/* 7.0.15's stale replica: a replica whose link to its master is not up,
 * with replica-serve-stale-data no (commands without the stale flag get
 * -MASTERDOWN). Any thread; cheap. */
bool repl_replica_stale(void);

#endif

/* batch.h - commands bound for another worker travel in batches.
 *
 * While a worker parses input it appends every command owned by worker T to
 * its outbox for T; before its loop sleeps (or before any other message to
 * T, to keep per-pair order) the outbox leaves as ONE message. T runs the
 * commands in order into one reply buffer and sends the batch back; the
 * origin hands each reply to its connection's FIFO slot. One message pair
 * thus carries a whole pipeline round from many connections, instead of a
 * message pair per command.
 *
 * Direct replies: when a command's reply is the only one its connection
 * waits for (an unpipelined request) and nothing is being written on that
 * socket, the
 * origin lends the socket to the executor for that one reply (entry fd >= 0):
 * the executor writes it itself right after running the batch (after
 * repl_flush, so the effect is propagated before the reply leaves) and sends
 * the batch back. If every reply of the batch went out whole, the origin
 * needs the batch back only for its bookkeeping: it travels with
 * rt_send_lazy, without waking the origin, which asks for wake-ups as soon
 * as something of its own waits on a lent socket (a later reply of that
 * connection, or closing it). Until the batch is back the origin writes
 * nothing to a lent socket and does not close it.
 *
 * Must never: reorder commands of one origin for one target; write a reply
 * on a socket that is not lent for it; close a lent socket.
 */
#ifndef SHOAL_ACTORS_BATCH_H
#define SHOAL_ACTORS_BATCH_H

#include "actors/worker/client.h"

typedef struct batch_entry {
    reply_slot_t *slot;
    const cmd_def_t *cmd;
    int argc;
    int proto;
    size_t arg_off;               /* in the arena: per argument a size_t length then the bytes and a NUL */
    size_t reply_off, reply_len;  /* filled by the executor */
    int fd;                       /* a socket lent for a direct reply, or -1 */
    uint64_t client_id;           /* whose command (WAIT's per-client mark), 0 when gone */
    uint64_t acl_uid;             /* its ACL user (scripts check their calls), 0 when gone */
    int db;                       /* its client's database (wdb.h) */
    size_t sent;                  /* reply bytes the executor wrote on fd */
    long long usec;               /* how long the call took (-1: unknown), for the origin's slow log */
    long long slow_id;            /* its slow log id, taken by the executor (-1: not slow) */
} batch_entry_t;

typedef struct cmd_batch {
    rt_msg_t hdr;                 /* WMSG_BATCH, then WMSG_BATCH_DONE */
    worker_t *origin;
    long long now_ms;
    int n, cap;
    batch_entry_t *e;
    uint8_t *arena;
    size_t alen, acap;
    resp_buf_t reply;
    int ndirect;                  /* entries with a lent socket */
    uint64_t snap_version;        /* snapshot the entries were routed with; 0 = several */
    size_t transit_bytes;         /* what batch_flush added to batch_bytes_in_transit */
} cmd_batch_t;

/* Origin: queue one command for worker `target`, its reply going to `slot`. */
void batch_add(worker_t *w, int target, reply_slot_t *slot, const cmd_def_t *cmd, int argc,
               const uint8_t **argv, const size_t *argvlen, int proto, long long now_ms);
/* Origin: send the outbox for one target (or all, target < 0). */
void batch_flush(worker_t *w, int target);
/* Any thread: the bytes of the requests (arguments and entries) of every
 * batch sent and not yet back at its origin. Memory that evicting keys
 * cannot shrink until the batches have run (evict_not_counted_memory). */
long long batch_bytes_in_transit(void);
/* Origin: true while connection c should not write what it has yet: the
 * next reply it owes is in a batch that another worker runs now. Its
 * replies then leave in one write when the batch is back, as Redis writes
 * a pipeline read at once, instead of the ones before the first remote
 * command now and the rest later (two writes for us, two reads for the
 * client, per pipeline; a third of the write calls of the one-node EVALSHA
 * bench at -P 16). With appendfsync always too (until 2026-12-07 not
 * then): the replies before the first remote command waited for an fsync
 * and left in a write of their own, the rest after a second fsync. The
 * round that holds them still asks for the fsync of its own writes, so
 * the fsync after the batch is back has only the batch's bytes left to
 * write. Not for a lent socket (nothing is unsent then), nor for a
 * connection with bytes waiting for an fsync (CLIENT_AOF_GATED: they leave
 * as the fsyncs release them) or waiting for its socket (its writable
 * watcher would write held bytes the gate never saw), nor a TLS
 * connection under appendfsync always (its session's read may write them
 * too), nor past HOLD_MAX_BYTES. */
bool batch_holds_output(const client_t *c);
/* Worker `busy` (its thread) has a script past busy-reply-threshold, or
 * stands still for one (busy.c): every worker, this one at its busy poll,
 * sends what its connections hold (nothing is held until it ends), as
 * 7.0.15 still writes replies while a script is busy. */
void batch_release_held(worker_t *busy);
/* Executor side. */
void batch_execute(worker_t *w, cmd_batch_t *b);
/* Executor side, after batch_execute and repl_flush: writes the direct
 * replies; true when every entry was direct and went out whole (the batch
 * may then go back lazily). */
bool batch_write_direct(worker_t *w, cmd_batch_t *b);
/* Origin side, when the batch came back. */
void batch_complete(worker_t *w, cmd_batch_t *b);

#endif

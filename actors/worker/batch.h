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
 * Must never: reorder commands of one origin for one target.
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
} cmd_batch_t;

/* Origin: queue one command for worker `target`, its reply going to `slot`. */
void batch_add(worker_t *w, int target, reply_slot_t *slot, const cmd_def_t *cmd, int argc,
               const uint8_t **argv, const size_t *argvlen, int proto, long long now_ms);
/* Origin: send the outbox for one target (or all, target < 0). */
void batch_flush(worker_t *w, int target);
/* Executor side. */
void batch_execute(worker_t *w, cmd_batch_t *b);
/* Origin side, when the batch came back. */
void batch_complete(worker_t *w, cmd_batch_t *b);

#endif

/* blocking.h - clients waiting on keys (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH,
 * BLMPOP), parked on the worker that owns the keys' slot.
 *
 * The client's worker sends a blocking command to the owner in a message of
 * its own (blocking_send) with a reply slot that holds the client's further
 * input until it is filled. The owner runs it; if it finds nothing it waits
 * there, in per-key FIFO queues. After every write on the owner, the keys
 * it touched that have waiters are served in 7.0.15's order: first blocked,
 * first served, each served command propagated as its effect (LPOP, LMOVE
 * ...) after the write that filled the key; a transaction serves once, at
 * its end. The owner also ends waits on timeout, when the node turns replica
 * (-UNBLOCKED, then the connection closes) or loses the slot (-MOVED,
 * -CLUSTERDOWN), and when the client's connection closes or CLIENT UNBLOCK
 * asks. FLUSHALL does not end a wait, as in 7.0.15.
 *
 * Must never: run on a thread other than the owner's (owner side) or the
 * client's (client side); reply twice to one wait; keep a wait whose client
 * asked it to end.
 */
#ifndef SHOAL_ACTORS_BLOCKING_H
#define SHOAL_ACTORS_BLOCKING_H

#include <stdbool.h>
#include <stdint.h>
#include "actors/worker/client.h"

/* How run_here runs a blocking command (dispatch_run_blocking). */
typedef struct dispatch_block {
    int mode;                 /* CMD_BLOCK_MAY or CMD_BLOCK_SERVE */
    int serve_arg;            /* CMD_BLOCK_SERVE: argv index of the ready key */
    bool blocked;             /* out: nothing replied; waits */
    int first, nkeys;         /* out: argv range of the keys waited on */
    long long timeout_ms;     /* out: relative, 0 = forever */
    void *resume;             /* CMD_SUSPENDS: the state a suspended call resumes with (cmd_ctx_t.resume) */
    void *suspend;            /* out, CMD_SUSPENDS: the call waits on I/O with this state */
    void *state;              /* out, with blocked: cmd_ctx_t.block_state (the waiter frees it) */
} dispatch_block_t;

/* dispatch.c: runs a blocking command on this worker (owner side). */
void dispatch_run_blocking(worker_t *w, int db, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                           const size_t *argvlen, resp_buf_t *reply, long long now_ms, dispatch_block_t *blk);

/* Client side: sends a blocking command to the owner of `slot`. */
void blocking_send(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                   int slot);
/* Client side: c's connection closed while it waits: the owner drops the
 * wait (a pop's owner, or c's own worker for a wait over several workers),
 * and a WAIT ends (repl_wait_end). */
void blocking_client_closed(client_t *c);
/* Client side: CLIENT UNBLOCK on a client of this worker; `error` chooses
 * -UNBLOCKED over the timeout reply (for WAIT: the count of replicas that
 * acknowledged). False if c waits on nothing. */
bool blocking_unblock_client(client_t *c, bool error);

/* Owner side hooks (dispatch.c): a write touched these keys; a command
 * ended (serves what is ready unless held); a transaction holds serving
 * until it ends. */
void blocking_note_write(worker_t *w, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                         const size_t *argvlen);
void blocking_after_command(worker_t *w);
void blocking_hold(worker_t *w, bool on);
/* Owner side (or a thread holding the owner's token, dispatch.c): true when
 * clients wait on keys of w, so that a write there may have to serve them
 * (which arms the owner's timers: only its own thread may). */
bool blocking_has_waiters(worker_t *w);

/* A key of w's keyspace expired: its waiters are looked at again at the next
 * blocking_after_command (an XREADGROUP on the gone stream answers
 * -UNBLOCKED, as 7.0.15's dbGenericDelete signals a deleted stream ready).
 * Only marks: it runs inside a lookup. */
void blocking_key_gone(worker_t *w, const uint8_t *key, size_t len);

/* The node-wide blocking order: each wait takes the next number when it
 * starts, on whichever worker it waits (7.0.15 serves a key's waiters in
 * the order they blocked). */
uint64_t blocking_next_seq(void);
/* The order number of the first client waiting here on key of database db for a value of
 * type ks_type (KS_TYPE_LIST or KS_TYPE_ZSET), UINT64_MAX if none. Owner
 * side, or a thread that holds the owner parked at its barrier. */
uint64_t blocking_first_seq(worker_t *w, int db, const uint8_t *key, size_t len, int ks_type);
/* Owner side: serves the clients waiting on key here if it holds a value
 * (a wait over several workers that went first has ended). */
void blocking_recheck_key(worker_t *w, const uint8_t *key, size_t len);
/* The value type a waiting command pops or reads (KS_TYPE_ZSET for BZPOP*,
 * KS_TYPE_STREAM for XREAD and XREADGROUP, else KS_TYPE_LIST). */
int blocking_wanted_type(const cmd_def_t *cmd);

/* INFO: clients waiting now, and those of them with a timeout. */
long long blocking_count(void);
long long blocking_count_with_timeout(void);

#endif

/* xwait.h - standalone mode: waits of blocking pops over keys that several
 * workers keep, held on the client's worker (xwait.c).
 *
 * Must never: be called from a thread other than the one named below.
 */
#ifndef SHOAL_ACTORS_XWAIT_H
#define SHOAL_ACTORS_XWAIT_H

#include <stdbool.h>
#include <stdint.h>
#include "actors/worker/blocking.h"
#include "actors/worker/client.h"

enum { XWAIT_CLOSED = 0, XWAIT_TIMEOUT, XWAIT_ERROR };

/* The executor (the client's worker), inside the barrier of rc's call: rc
 * found nothing to pop; it waits on argv[first .. first+nkeys). false (with
 * the timeout reply in rc->reply) when its time already ran out. */
bool xwait_park(worker_t *w, remote_cmd_t *rc, int first, int nkeys, long long timeout_ms);
/* Any worker, after a write: wakes the workers waiting on these keys. */
void xwait_note_write(worker_t *w, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen);
/* The client's worker: ends c's wait (connection closed, CLIENT UNBLOCK
 * TIMEOUT or ERROR). false if c waits on nothing here. */
bool xwait_cancel(client_t *c, int how);
/* Any worker: whether a wait over several workers that blocked before
 * order number seq waits on key of database db for a value of type ks_type
 * (the owner then leaves the key to it: 7.0.15 serves a key's waiters first
 * blocked, first served, wherever they wait; a waiter on the same name in
 * another database waits on another key). */
bool xwait_older_on_key(int db, const uint8_t *key, size_t len, int ks_type, uint64_t seq);
/* A key named `key` changed other than by a command (SWAPDB brought it into
 * another database): the waits on it over several workers try again. */
void xwait_key_touched(worker_t *w, const uint8_t *key, size_t len);
/* The executor, inside the barrier, before rc (a blocking pop over several
 * workers) runs: false when it is a waiter woken for a key it may not take
 * (the key holds no value of its type, or an older waiter comes first), so
 * it keeps waiting; true with blk's mode set (CMD_BLOCK_SERVE on the woken
 * key, or CMD_BLOCK_MAY on its first run). */
bool xwait_may_run(worker_t *w, remote_cmd_t *rc, dispatch_block_t *blk);
/* The executor, still inside the barrier: rc (a waiter, or a first run
 * that did not wait) was served; a waiter leaves the order before the
 * owners serve anyone else, and they look at its keys again. */
void xwait_served(worker_t *w, remote_cmd_t *rc);

/* INFO: waits under way, and those with a timeout. */
long long xwait_count(void);
long long xwait_count_with_timeout(void);

#endif

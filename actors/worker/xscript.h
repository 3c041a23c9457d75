/* xscript.h - a script that reaches keys another worker keeps: the node's
 * one cross-worker session, during which every other worker stands still
 * (xscript.c).
 *
 * Must never: be used from a thread that is not the worker's own, or run a
 * call over another worker's keys without holding the session.
 */
#ifndef SHOAL_ACTORS_XSCRIPT_H
#define SHOAL_ACTORS_XSCRIPT_H

#include <stdbool.h>
#include <stdint.h>
#include "actors/worker/worker.h"
#include "proto/resp.h"

/* Keys of a call that are already at hand on the running worker whatever
 * their slot: a script's declared keys (the dispatcher brought them, xcmd.c). */
typedef struct xscript_keys {
    const uint8_t *const *argv;
    const size_t *argvlen;
    int n;
} xscript_keys_t;

/* Whether a key of a call, of this slot (slot_of_key), is one another
 * worker keeps (and not one of `here`). */
bool xscript_key_is_cross(const worker_t *w, unsigned slot, const uint8_t *key, size_t len,
                          const xscript_keys_t *here);
/* Makes w (a script runs on it) the session's holder, once every other
 * worker stands still; at once when it holds it already. While it waits,
 * `tick` runs about every millisecond (a busy script's polling); when it
 * answers true (SCRIPT KILL) the wait is given up and this returns false. */
bool xscript_acquire(worker_t *w, bool (*tick)(void));
/* Whether some worker holds the session (any thread; a hint). */
bool xscript_active(void);
/* Whether w holds the session. */
bool xscript_held(const worker_t *w);
/* Runs the call on w with the keys other workers keep moved in and back out
 * (w holds the session); the reply goes to out. */
void xscript_run(worker_t *w, const struct cmd_def *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                 resp_buf_t *out, long long now_ms, const xscript_keys_t *here);
/* The end of a script or of a transaction on w: when w holds the session
 * and no transaction of its stream is open any more, its effects go to the
 * stream and the other workers go on. */
void xscript_end(worker_t *w);
/* Takes (true) or gives back the session's lock around a fork by the
 * holder (the debugger's, ldb_conn.c): the parked workers take it every
 * millisecond, and one that held it at the fork would leave it held in the
 * child, whose script needs it. */
void xscript_fork_lock(bool lock);

/* Any wait of a worker for other workers (a barrier of xcmd.c, a cut, a
 * keyspace swap), bracketed: `bar` names the barrier, `mask` its workers.
 * A session may count the waiting worker as standing still when the
 * barrier cannot complete before the session ends; worker_wait_end then
 * holds it until the session ends. */
void worker_wait_begin(worker_t *w, const void *bar, uint64_t mask);
void worker_wait_end(worker_t *w);

#endif

/* xwait.h - standalone mode: waits of blocking pops over keys that several
 * workers keep, held on the client's worker (xwait.c).
 *
 * Must never: be called from a thread other than the one named below.
 */
#ifndef SHOAL_ACTORS_XWAIT_H
#define SHOAL_ACTORS_XWAIT_H

#include <stdbool.h>
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
/* INFO: waits under way, and those with a timeout. */
long long xwait_count(void);
long long xwait_count_with_timeout(void);

#endif

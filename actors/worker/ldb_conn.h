/* ldb_conn.h - a Lua debugger session's connection (actors/commands/script_ldb.c):
 * which worker runs the session, the blocking reads and writes on the
 * client's socket while the script stops, the fork of a YES session, and the
 * children such forks leave. docs/scripting.md, "The debugger", gives the
 * design; ldb_conn.c the argument that the fork is safe.
 *
 * Must never: be used on a client of another worker, or fork without every
 * other worker standing still.
 */
#ifndef SHOAL_ACTORS_LDB_CONN_H
#define SHOAL_ACTORS_LDB_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "actors/worker/worker.h"

struct client;

/* Before a debug mode client's EVAL runs (client_process_input): NULL to run
 * it now; c's own worker to leave it unparsed until the replies before it
 * are out (client_slot_done parses it again); or the worker keeping its
 * declared keys, for the client to move there first so that the session runs
 * where its keys are (when the client cannot move, it runs here and reaches
 * its keys through the node's cross-worker session, xscript.h). */
worker_t *ldb_conn_place(struct client *c, int argc, const uint8_t **argv, const size_t *argvlen);

/* At dispatch, for a debug mode client's command routed to `slot` (-1: no
 * single slot) or to several workers (xcmd): whether it is one the debugger
 * takes whose keys another worker keeps, so that it must run here, with
 * its client, all the same (see ldb_conn_place). */
bool ldb_conn_keys_away(const struct client *c, const struct cmd_def *cmd, bool xcmd, int slot);

/* Blocking I/O on c's socket (TLS or not) from c's worker, as 7.0.15's
 * session does it: a read waits as long as it takes (> 0 bytes, or <= 0 when
 * the client is gone); a write waits at most 5 s for room each time. */
ssize_t ldb_conn_read(struct client *c, void *buf, size_t len);
void ldb_conn_write(struct client *c, const void *p, size_t len);
/* Writes c's output not sent yet (blocking, as ldb_conn_write). */
void ldb_conn_flush(struct client *c);

/* The fork of a YES session, from worker w with every other worker standing
 * still: 0 in the child (its changes reach no replica, AOF or client of the
 * parent), the child's pid in the parent, -1 with errno when it failed. */
pid_t ldb_conn_fork(worker_t *w);
/* The parent, after the fork: c closes without a word on the socket (the
 * child goes on with it, TLS session included). */
void ldb_conn_forget(struct client *c);

/* Reaps the children that ended (any worker's cron); SIGKILLs every one
 * still running (the shutdown, as 7.0.15's ldbKillForkedSessions). */
void ldb_conn_reap(void);
void ldb_conn_kill_all(void);

#endif

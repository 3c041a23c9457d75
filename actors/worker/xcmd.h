/* xcmd.h - standalone mode: calls whose keys several workers keep, run
 * atomically on one worker while the others are parked (xcmd.c).
 *
 * Must never: be used in cluster mode (a call's keys are in one slot there).
 */
#ifndef SHOAL_ACTORS_XCMD_H
#define SHOAL_ACTORS_XCMD_H

#include <stdbool.h>
#include <stdint.h>
#include "actors/worker/client.h"

/* The workers keeping the keys of one command, as a bit mask. */
uint64_t xcmd_workers_of(const queued_cmd_t *q);
/* Client side: runs the command on the client's worker with every worker
 * keeping one of its keys parked; the reply fills a slot of c's FIFO. */
void xcmd_dispatch(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen);
/* Runs rc (its commands, a transaction part when rc->is_exec) on worker
 * `executor` with the workers of `mask` parked; `from` is the sending worker
 * (NULL from another thread). The reply goes back to rc->origin as
 * WMSG_DONE; without an origin (our master's stream) it is dropped. */
void xcmd_post(worker_t *from, int executor, remote_cmd_t *rc, uint64_t mask);
/* The replica link (`loading` false) and the AOF's load at start (true):
 * applies one command of the master's stream or of the file whose keys
 * several workers keep, on `executor`. A loaded command runs as the load's
 * others do (load_apply.h: the handler alone, not counted in INFO
 * commandstats); the stream's are counted, as 7.0.15 counts its master's. */
void xcmd_apply(int executor, int db, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                long long now_ms, bool loading);

/* Whether a call reads keys that its arguments do not name but its values
 * do (SORT's BY and GET patterns): without cluster mode and with several
 * workers it runs here with every worker parked (xcmd_workers_of). */
bool xcmd_reads_any_key(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen);
/* Inside such a call on w: the share of w's current database that the
 * worker keeping key holds, when that worker is parked for the call and is
 * not w; NULL otherwise (w's own keys are in its current keyspace). */
struct keyspace *xcmd_parked_space(worker_t *w, const uint8_t *key, size_t len);
/* Inside such a call on w: key, past its TTL in a parked worker's share,
 * is deleted as a read deletes it (7.0.15's lazy expiry: the DEL in the
 * stream, expired_keys counted), by w, which takes it over first. Nothing
 * on a replica or during a pause (they keep it for the master's DEL). */
void xcmd_expire_parked(worker_t *w, const uint8_t *key, size_t len, long long now_ms);

#endif

/* migrate.h - MIGRATE on the worker that owns its keys, without stalling it.
 *
 * redis-server 7.0.15 runs MIGRATE with blocking socket calls: its whole
 * server waits on the target. Here the client's worker sends the call to the
 * owner in a message of its own (migrate_send; the client reads nothing more
 * meanwhile, as a Redis client would not), the handler (cmd_migrate) checks
 * the call and names the keys, and the owner then talks to the target from
 * its event loop: a cached connection per host:port (64 at most per worker,
 * closed after 10 s unused), AUTH, SELECT when the connection has not
 * selected that db yet, one RESTORE-ASKING (RESTORE without cluster mode)
 * per key, pipelined, and one reply line read per command sent. Meanwhile
 * the worker serves its other clients and bus links. When the replies are
 * in (or the target closed, or `timeout` ms passed without progress), the
 * handler is called again with the job (cmd_ctx_t.resume): it deletes the
 * keys the target took, unless COPY, propagates them as one DEL, and
 * answers as 7.0.15 does (+OK, +NOKEY, -IOERR ..., -ERR Target instance
 * replied with error: ...). Inside MULTI the call cannot be suspended
 * (nothing may run between it and the commands after it): it then waits on
 * the target with blocking calls, as 7.0.15 (migrate_job_run_now).
 *
 * Keys stay writable while their copy travels (Redis stalls every client
 * instead). A key written after it was sent is not deleted on the target's
 * OK: it is sent again with REPLACE (or DEL'ed on the target when it is
 * gone here) in a further round, so no acknowledged write is lost; after 8
 * such rounds the call gives up with an error and keeps the key here.
 *
 * Must never: block the worker; touch the keyspace from another thread;
 * delete a key the target did not take, or one changed since it was sent;
 * answer a call twice.
 */
#ifndef SHOAL_ACTORS_MIGRATE_H
#define SHOAL_ACTORS_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/worker/client.h"

struct keyspace;
typedef struct migrate_job migrate_job_t;

/* Client side: sends a CMD_SUSPENDS command to the owner of `slot`. */
void migrate_send(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                  int slot);

/* Any thread: cached connections to MIGRATE targets over all workers
 * (INFO migrate_cached_sockets). */
long long migrate_cached_sockets(void);

/* Handler side, first call: a job for this call (the handler hands it back
 * in cmd_ctx_t.suspend; the worker owns it from then on). user is NULL for
 * AUTH <password>, pass NULL for no AUTH. */
migrate_job_t *migrate_job_new(const uint8_t *host, size_t hostlen, const uint8_t *port, size_t portlen,
                               long long dbid, long long timeout_ms, bool copy, bool replace,
                               const uint8_t *user, size_t userlen, const uint8_t *pass, size_t passlen);
/* Adds a key to send (the handler found it). */
void migrate_job_add_key(migrate_job_t *j, const uint8_t *key, size_t len);

/* Handler side, inside MULTI (the call cannot wait there): the round now,
 * with blocking socket calls as 7.0.15 makes them, stalling this worker for
 * up to the timeout; then settle, reply and migrate_job_free. */
void migrate_job_run_now(migrate_job_t *j, worker_t *w);
void migrate_job_free(migrate_job_t *j);

/* Handler side, resumed: deletes from ks the keys the target took in the
 * round just ended that did not change since they were sent (none with
 * COPY), and writes "DEL <those keys>" into prop (reset first). Returns how
 * many were deleted. */
int migrate_job_settle(migrate_job_t *j, worker_t *w, struct keyspace *ks, long long now_ms, resp_buf_t *prop);
/* After settling: true when another round must go (keys changed in flight). */
bool migrate_job_more(const migrate_job_t *j);
/* After settling, when no round follows: the call's reply. */
void migrate_job_reply(const migrate_job_t *j, resp_buf_t *reply);

#endif

/* fdlimit.h - file descriptors for clients: RLIMIT_NOFILE sized for
 * maxclients at start (Redis's adjustOpenFilesLimit), the answer a client
 * beyond maxclients gets, and what the accept path does when the process is
 * out of descriptors anyway (the limit was lowered under us, or something
 * else holds them): refuse the waiting client through a spare descriptor,
 * log once, and let the caller back off instead of spinning on a listening
 * socket that stays readable.
 *
 * Must never: close a descriptor it did not open (only its own spare).
 */
#ifndef SHOAL_ACTORS_FDLIMIT_H
#define SHOAL_ACTORS_FDLIMIT_H

#include <stdbool.h>
#include <sys/socket.h>

/* Descriptors shoal needs besides one per client: Redis's 32
 * (CONFIG_MIN_RESERVED_FDS: listeners, log, persistence) plus what shoal
 * has and Redis does not: two per runtime thread (its event loop's epoll
 * and wake-up descriptors) and room for replication (replica sockets, RDB
 * files). Cluster bus links count against maxclients, as in Redis. */
int fdlimit_reserved(int worker_threads);

/* Startup, before any thread or listener exists: raises RLIMIT_NOFILE to
 * maxclients + fdlimit_reserved() when it is lower, else lowers maxclients
 * to what the limit allows, logging as redis-server does. Returns -1 after
 * logging Redis's message when not even the reserve fits (the caller
 * exits), else 0. Opens the spare descriptor. */
int fdlimit_adjust(int worker_threads);

/* accept4 (non-blocking, close-on-exec) on a listening socket, never at
 * the same time as another worker's or the spare's release. */
int fdlimit_accept(int listen_fd, struct sockaddr_storage *peer, socklen_t *peer_len);

/* The error line (with CRLF) for a connection beyond maxclients: Redis's
 * cluster-mode text counts bus links too. */
const char *fdlimit_maxclients_error(void);

/* accept() failed with EMFILE/ENFILE on `listen_fd`: gives up the spare
 * descriptor for a moment to accept one waiting connection and refuse it
 * with the maxclients error. Returns true if a connection was refused (the
 * caller may try to accept again), false if not (the caller backs off).
 * Logs Redis's "Accepting client connection" line when a shortage starts,
 * at most once per 10 s. */
bool fdlimit_out_of_fds(int listen_fd, int err);

/* An accept succeeded: the next shortage is a new episode (logged again). */
void fdlimit_accept_ok(void);

/* maxclients for a connection just accepted, to be served by worker
 * `target`: counts every worker's clients (and, in cluster mode, the bus
 * links, as 7.0.15) and, when there is room, adds the new one to the
 * target's count before anyone else can look. Two workers accepting at
 * once therefore never both take the last place. False: no room. */
bool fdlimit_admit(int target);

#endif

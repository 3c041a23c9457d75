/* unixsock.h - the `unixsocket` listener: opened at start as redis-server
 * opens it (a stale file at the path is removed first, `unixsocketperm`
 * applied), watched by every worker beside the TCP listeners, and removed
 * at shutdown. A client that came in on it is a local client
 * (CLIENT_UNIX_SOCKET, client->local) and shows `addr=<path>:0`.
 *
 * Must never: unlink a path other than the configured unixsocket.
 */
#ifndef SHOAL_ACTORS_UNIXSOCK_H
#define SHOAL_ACTORS_UNIXSOCK_H

/* Opens the listener when `unixsocket` is set. Returns the fd, -2 when no
 * unixsocket is configured, or -1 after logging Redis's "Failed opening Unix
 * socket" line. main() only, before the workers start. */
int unixsock_open(int backlog);

/* The listening fd, or -1 (read by workers_start). */
int unixsock_fd(void);

/* The configured path as given ("" when none); set by unixsock_open. */
const char *unixsock_path(void);

/* Shutdown: removes the socket file, with Redis's log lines. */
void unixsock_remove(void);

#endif

/* protect.h - who counts as a local client, and the gates that depend on it:
 * protected mode at accept time, and the "local" setting of
 * enable-debug-command / enable-protected-configs.
 *
 * Must never: decide from the printed address string (an AF_UNIX peer has no
 * IP), or keep state of its own: every answer is read from the config now.
 */
#ifndef SHOAL_ACTORS_PROTECT_H
#define SHOAL_ACTORS_PROTECT_H

#include <stdbool.h>
#include <sys/socket.h>

/* Local as redis-server 7.0.15 judges it: a unix-socket peer, or a TCP peer
 * whose address is exactly 127.0.0.1 or ::1 (other 127/8 addresses are not). */
bool protect_peer_is_local(const struct sockaddr_storage *peer);

/* enable-debug-command / enable-protected-configs / enable-module-command:
 * `setting` is an enum config_protected_action. */
bool protect_allows(int setting, bool local_client);

/* Protected mode refuses this new connection: protected-mode yes, no
 * requirepass, and the peer is not local. */
bool protect_refuses_connection(bool local_client);

/* Writes Redis's -DENIED explanation to a refused connection (best effort,
 * the socket is non-blocking and closed by the caller right after). */
void protect_send_denied(int fd);

/* Whether a password a client sent equals the configured one, in time that
 * depends on neither password's content nor on where they first differ (both
 * are hashed with SHA-256 and the digests compared with CRYPTO_memcmp), and
 * with no limit on either length. */
bool protect_password_equal(const char *want, size_t want_len, const void *got, size_t got_len);

/* The error (without the leading '-') for a DEBUG refused by
 * enable-debug-command. */
extern const char PROTECT_DEBUG_REFUSED[];

#endif

/* wpause.h - client pauses: the manual failover's write pause (failover,
 * failover on shutdown) and CLIENT PAUSE / CLIENT UNPAUSE. Client workers ask
 * wpause_mode() before running a command: a command that the current mode
 * holds is left unparsed until the mode lets it through, as Redis postpones
 * such clients. While any pause is on, the dataset stays still: no active
 * expiry, and expired keys read as absent without being deleted. A write
 * admitted before the pause that runs after it (on the worker of its key)
 * is still propagated: the keyspace's replica mode is then pause-only.
 *
 * Must never: hold replicas' streams, or the commands a replica applies from
 * its master.
 */
#ifndef SHOAL_ACTORS_WPAUSE_H
#define SHOAL_ACTORS_WPAUSE_H

#include <stdbool.h>

/* Ordered by restrictiveness, as Redis's pause types. */
enum wpause_mode { WPAUSE_OFF = 0, WPAUSE_WRITE = 1, WPAUSE_ALL = 2 };

/* Any thread. Failover: writes are held until the monotonic clock
 * (rt_mono_ms) passes until_mono_ms; 0 lifts that pause at once. */
void wpause_until(long long until_mono_ms);
/* Any thread: true while the failover's write pause is on. */
bool wpause_active(void);

/* CLIENT PAUSE: until_mono_ms (0: already over) and WPAUSE_WRITE/ALL. While
 * an earlier CLIENT PAUSE is still on, the two combine as in Redis: the more
 * restrictive mode and the later end. */
void wpause_client_pause(long long until_mono_ms, int mode);
/* CLIENT UNPAUSE: ends the CLIENT PAUSE (not the failover's pause). */
void wpause_client_unpause(void);

/* Any thread: the most restrictive pause in force now. */
int wpause_mode(void);

/* The error a paused write gets (no leading '-'). */
#define WPAUSE_ERROR "TRYAGAIN Writes are paused for a cluster failover, retry shortly"

#endif

/* wpause.h - "pause client writes until" (manual failover, failover on
 * shutdown): one global deadline that client workers check before running
 * a write command. While it lies in the future, writes are refused with a
 * retryable error instead of running, so a master's replication offset
 * stops moving and a replica can catch up to it.
 *
 * Must never: pause reads, or pause the commands a replica applies from
 * its master's stream.
 */
#ifndef SHOAL_ACTORS_WPAUSE_H
#define SHOAL_ACTORS_WPAUSE_H

#include <stdbool.h>

/* Any thread. Writes are refused until the monotonic clock (rt_mono_ms)
 * passes until_mono_ms; 0 lifts the pause at once. */
void wpause_until(long long until_mono_ms);
/* Any thread: true while writes are paused. */
bool wpause_active(void);
/* The error a paused write gets (no leading '-'). */
#define WPAUSE_ERROR "TRYAGAIN Writes are paused for a cluster failover, retry shortly"

#endif

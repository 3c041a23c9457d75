/* shutdown.h - SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT], SIGTERM and
 * SIGINT, as redis-server 7.0.15 shuts down: unless NOW, it first waits (up
 * to shutdown-timeout seconds, writes paused) for every replica to
 * acknowledge the whole stream; then it stops a running BGSAVE, saves
 * dump.rdb when save points are set (or SAVE was asked, and not NOSAVE), and
 * exits. A failed save keeps the node running (unless FORCE): SHUTDOWN's
 * clients get "-ERR Errors trying to SHUTDOWN. Check logs.".
 *
 * The sequence runs on the main thread (shutdown_tick, from its loop);
 * workers and main only post requests here, under one mutex.
 *
 * Must never: exit after a failed save without FORCE, save while loading,
 * or leave a SHUTDOWN client without an answer when the shutdown is called
 * off.
 */
#ifndef SHOAL_ACTORS_SHUTDOWN_H
#define SHOAL_ACTORS_SHUTDOWN_H

#include <stdbool.h>

/* The flags, with the values of shutdown-on-sigterm / shutdown-on-sigint. */
enum { SHUTDOWN_SAVE = 1, SHUTDOWN_NOSAVE = 2, SHUTDOWN_NOW = 4, SHUTDOWN_FORCE = 8 };

/* The signal main also waits for, sent to itself, so that a SHUTDOWN
 * command is acted on at once rather than at the next tick. */
int shutdown_wake_signal(void);

struct remote_cmd;
/* SHUTDOWN from a client (any thread): rc carries its deferred reply, which
 * is answered only if the shutdown fails or is aborted. */
void shutdown_request(int flags, struct remote_cmd *rc);
/* SHUTDOWN ABORT: true if a shutdown was waiting (or requested) and is now
 * called off. */
bool shutdown_abort(void);
/* SIGTERM/SIGINT received (main). A second SIGINT while one is pending
 * exits at once, as 7.0.15 does ("You insist... exiting now."). */
void shutdown_signal(int sig);
/* SIGTERM/SIGINT while dump.rdb loads at start (main, from the load): the
 * node exits without saving (the exit steps still run). */
_Noreturn void shutdown_while_loading(int sig);
/* Main, after every wake-up (a request or a signal wakes main with
 * shutdown_wake_signal): runs the sequence when one was requested, finishes
 * it when the replicas caught up or the timeout passed. Exits the process on
 * success. True while it waits for the replicas: call again within 100 ms. */
bool shutdown_tick(void);
/* What runs right before the exit once the save is done (main's: the
 * cluster's failover on shutdown and nodes.conf, the unix socket, the
 * pidfile, the last log line). */
void shutdown_set_exit(void (*fn)(void));
/* Milliseconds left before the wait for replicas ends, or -1 when no
 * shutdown waits (INFO shutdown_in_milliseconds). Any thread. */
long long shutdown_in_ms(void);

#endif

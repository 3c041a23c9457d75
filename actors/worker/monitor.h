/* monitor.h - MONITOR: every command any worker runs, shown to the
 * connections that asked, in redis-server 7.0.15's line format
 * (+<unix time>.<us> [<db> <client address>] "arg" "arg" ...).
 *
 * A worker formats the calls of its own clients into a buffer of its own;
 * before its loop sleeps it hands the buffer to each worker that holds a
 * monitor (a message), and that worker appends it to its monitors' output.
 * Each monitor thus sees one order: every worker's calls in that worker's
 * order, the workers' rounds interleaved as they arrive. The monitor's
 * socket is written once 64 KB wait or 1 ms after the first line arrived
 * (monitor.c says why), not at every loop round. With no monitor
 * anywhere the command path pays one relaxed load (monitor_any).
 *
 * Must never: write to another worker's client, or show a command 7.0.15
 * hides (admin and skip_monitor commands) or a secret argument (AUTH's,
 * HELLO AUTH's, MIGRATE AUTH's: "(redacted)").
 */
#ifndef SHOAL_ACTORS_MONITOR_H
#define SHOAL_ACTORS_MONITOR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "actors/commands/cmd.h"

struct client;
struct worker;

/* Bit i: worker i holds at least one monitor. */
extern _Atomic uint64_t g_monitor_workers;

/* Whether any connection of the node monitors. Relaxed: a monitor that
 * attaches sees the commands that start after its +OK, and the worker that
 * runs one learns of it within the next few calls at worst. */
static inline bool monitor_any(void)
{
    return atomic_load_explicit(&g_monitor_workers, memory_order_relaxed) != 0;
}

/* Client c's call, for the monitors (the caller checked monitor_any);
 * commands MONITOR does not show are left out here. */
void monitor_feed(const struct client *c, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                  const size_t *argvlen);
/* A command a script called (shown as [0 lua]), on the script's worker. */
void monitor_feed_script(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen);
/* The same for a command that runs inside MULTI (EXEC, DISCARD, ...):
 * 7.0.15 shows a transaction's commands as EXEC calls them, then EXEC. */
void monitor_feed_in_multi(const struct client *c, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                           const size_t *argvlen);
/* Before the loop sleeps: hands what this worker fed to the monitors. */
void monitor_flush(struct worker *w);
/* Client c stops monitoring (it closes, or RESET). */
void monitor_remove(struct client *c);

void cmd_monitor(cmd_ctx_t *ctx);

#endif

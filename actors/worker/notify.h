/* notify.h - keyspace notifications (notify-keyspace-events): the events
 * 7.0.15 publishes on __keyspace@0__:<key> and __keyevent@0__:<event> when
 * commands change keys, keys expire, or keys are created.
 *
 * They are derived around each keyed command run on the worker keeping its
 * keys (dispatch.c run_here): which keys existed before, which after, and a
 * table of what each command emits, so the commands' own code stays as it
 * is. Messages go to this node's subscribers only, as 7.0.15 publishes them
 * without the bus.
 *
 * Must never: cost more than one relaxed load per command while the
 * directive is empty.
 */
#ifndef SHOAL_ACTORS_WORKER_NOTIFY_H
#define SHOAL_ACTORS_WORKER_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/commands/cmd.h"

struct worker;

#define NOTIFY_MAX_KEYS 32

/* Before a command: which of its keys exist (only while events are on). */
typedef struct notify_pre {
    bool on;
    size_t reply_start;           /* where the command's reply begins */
    int nkeys;
    int pos[NOTIFY_MAX_KEYS];
    bool existed[NOTIFY_MAX_KEYS];
} notify_pre_t;

/* Once, before the workers start: reads the directive and follows CONFIG SET. */
void notify_init(void);
/* Any thread: some event class is on. */
bool notify_enabled(void);

void notify_before(struct keyspace *ks, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                   const size_t *argvlen, long long now_ms, const resp_buf_t *reply, notify_pre_t *pre);
/* After a command that changed the keyspace (ctx->dirty): its events. */
void notify_after(struct keyspace *ks, const cmd_def_t *cmd, const cmd_ctx_t *ctx, const notify_pre_t *pre);
/* An expired key is being removed: "expired". */
void notify_expired(const uint8_t *key, size_t len);
/* A key evicted under maxmemory (evict.c): "evicted" in class e. */
void notify_evicted(const uint8_t *key, size_t len);

#endif

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

/* Before a command: which of its keys exist (only while events are on).
 * Past NOTIFY_MAX_KEYS keys (DEL of many keys) the arrays are allocated,
 * and freed by notify_after. */
typedef struct notify_pre {
    bool on;
    size_t reply_start;           /* where the command's reply begins */
    int nkeys;
    int *pos;                     /* the keys' argv positions */
    int8_t *state;                /* per key: 1 exists, 0 not; updated as events are given */
    int pos_small[NOTIFY_MAX_KEYS];
    int8_t state_small[NOTIFY_MAX_KEYS];
    bool smove_kept;              /* an SMOVE whose destination held the member: no "sadd" */
} notify_pre_t;

/* Once, before the workers start: reads the directive and follows CONFIG SET. */
void notify_init(void);
/* Any thread: some event class is on. */
bool notify_enabled(void);

void notify_before(struct keyspace *ks, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                   const size_t *argvlen, long long now_ms, const resp_buf_t *reply, notify_pre_t *pre);
/* After the command (pre->on): its events if it changed the keyspace
 * (ctx->dirty); frees what notify_before allocated. */
void notify_after(struct keyspace *ks, const cmd_def_t *cmd, const cmd_ctx_t *ctx, notify_pre_t *pre);
/* A read found no key (ks_lookup_read): "keymiss" (class m), as 7.0.15's
 * lookupKeyRead; OBJECT's lookups do not come here. */
void notify_keymiss(const uint8_t *key, size_t len);
/* An expired key is being removed: "expired". */
void notify_expired(const uint8_t *key, size_t len);
/* An event a command gives itself (the stream commands, whose events
 * depend on what they did): class is one of NOTIFY_CLASS_*, as 7.0.15's
 * notifyKeyspaceEvent. */
enum { NOTIFY_CLASS_GENERIC = 1 << 2, NOTIFY_CLASS_STREAM = 1 << 10, NOTIFY_CLASS_NEW = 1 << 13 };
void notify_key_event(int cls, const char *event, const uint8_t *key, size_t len);
/* A key evicted under maxmemory (evict.c): "evicted" in class e. */
void notify_evicted(const uint8_t *key, size_t len);
/* Events a handler emits itself (MOVE, COPY ... DB: the destination's are
 * in another database), in the database current on this thread (wdb.h):
 * `event` in class g, and "new" in class n. */
void notify_generic(const char *event, const uint8_t *key, size_t len);
void notify_new(const uint8_t *key, size_t len);

#endif

/* persister.h - the config persister: the only actor allowed to block, on
 * its own thread. It writes nodes.conf atomically (temp file, fsync, rename,
 * fsync of the directory), coalesces bursts of save requests into one write
 * of the newest text, and tells the state actor which version is durable.
 *
 * Must never: leave nodes.conf half-written, or acknowledge a version before
 * it is on disk.
 */
#ifndef SHOAL_ACTORS_PERSISTER_H
#define SHOAL_ACTORS_PERSISTER_H

#include <stddef.h>
#include <stdint.h>
#include "runtime/actor.h"

enum { PERSIST_SAVE = 1 };

/* The rendezvous of a synchronous save (the shutdown path): the waiting
 * thread may give up before the persister answers, so neither side owns it
 * alone. It lives on the heap with two references, one per side, and
 * whichever side lets go last frees it. */
typedef struct persist_wait persist_wait_t;

/* A new rendezvous holding the waiter's and the persister's references
 * (NULL when out of memory). */
persist_wait_t *persist_wait_new(void);

/* Waiter side: waits up to timeout_ms for the answer, then drops the
 * waiter's reference. Returns the write's result (0 or errno), or -1 when
 * the answer did not come in time. */
int persist_wait_timed(persist_wait_t *w, int timeout_ms);

/* Persister side: records `err`, wakes the waiter (if still waiting) and
 * drops the persister's reference. Also for a request that never reaches
 * the persister, so that its reference is not lost. */
void persist_wait_finish(persist_wait_t *w, int err);

typedef struct persist_req {
    rt_msg_t hdr;
    char *text;                   /* owned by the request */
    size_t len;
    uint64_t seq;                 /* version of the config this text describes */
    rt_actor_t *reply_to;         /* gets a persist_ack_t (may be NULL) */
    persist_wait_t *wait;         /* finished after the write (shutdown path), may be NULL */
} persist_req_t;

typedef struct persist_ack {
    rt_msg_t hdr;                 /* type chosen by the requester's protocol: STATE_MSG_DURABLE */
    uint64_t seq;
    int err;                      /* 0 or errno */
} persist_ack_t;

/* Starts the persister actor on `thread` for the file at `path`. */
int persister_start(rt_thread_t *thread, const char *path, uint32_t ack_type);
rt_actor_t *persister_actor(void);

/* Writes `path` atomically right now, on the calling thread (startup).
 * Returns 0 or an errno value. */
int persister_write_file(const char *path, const char *text, size_t len);

#endif

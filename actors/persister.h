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

#include <semaphore.h>
#include <stddef.h>
#include <stdint.h>
#include "runtime/actor.h"

enum { PERSIST_SAVE = 1 };

typedef struct persist_req {
    rt_msg_t hdr;
    char *text;                   /* owned by the request */
    size_t len;
    uint64_t seq;                 /* version of the config this text describes */
    rt_actor_t *reply_to;         /* gets a persist_ack_t (may be NULL) */
    sem_t *done;                  /* posted after the write (shutdown path), may be NULL */
    int *result;                  /* 0 or errno, written before `done` is posted */
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

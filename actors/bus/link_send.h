/* link_send.h - a link's write queue: frames waiting for its socket, each
 * held by reference.
 *
 * A frame the state actor broadcasts to every peer (a PONG to all, a FAIL)
 * is one shared_frame_t that every link's queue points at, not a copy per
 * link: at 1,000 peers a 12 KB PONG was 12 MB of copies in the links'
 * mailboxes and send buffers at once. The last reference frees it, on
 * whichever link thread drops it. A link writes its queue with one writev
 * per burst, and an idle link holds nothing (the ring goes with the last
 * frame).
 *
 * Must never: change a frame once it is shared, or write to a socket from a
 * thread other than its link's (a queue has one owner).
 */
#ifndef SHOAL_ACTORS_BUS_LINK_SEND_H
#define SHOAL_ACTORS_BUS_LINK_SEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One outgoing frame, shared by reference by every queue that holds it. */
typedef struct shared_frame {
    _Atomic unsigned refs;
    size_t len;
    uint8_t data[];
} shared_frame_t;

/* A copy of frame[0..len) with one reference (the caller's), or NULL when
 * memory ran out. */
shared_frame_t *shared_frame_new(const uint8_t *frame, size_t len);
/* As shared_frame_new, for a frame built in place: data[0..len) is the
 * caller's to fill (and len to shorten) before the frame is shared. */
shared_frame_t *shared_frame_alloc(size_t len);
/* Another reference to f (any thread). */
void shared_frame_ref(shared_frame_t *f);
/* Drops one reference (any thread); the last one frees f. NULL is ignored. */
void shared_frame_unref(shared_frame_t *f);
/* References held (for tests and assertions: a relaxed read). */
unsigned shared_frame_refs(const shared_frame_t *f);

/* Frames in the order queued; zero it to start. */
typedef struct link_wq {
    shared_frame_t **ring;        /* NULL while empty */
    uint32_t head, count, cap;
    size_t off;                   /* bytes of the head frame already written */
    size_t queued;                /* bytes not written yet, over all frames */
} link_wq_t;

/* Appends f, taking over the caller's reference. False when memory ran out
 * (the reference is dropped, the queue unchanged). */
bool link_wq_push(link_wq_t *q, shared_frame_t *f);

enum link_wq_status {
    LINK_WQ_DRAINED = 0,          /* everything written; the queue holds nothing */
    LINK_WQ_BLOCKED,              /* the socket is full (EAGAIN); the rest waits */
    LINK_WQ_ERROR,                /* a write failed; errno says why (0: a zero-byte write) */
    LINK_WQ_WAIT_READ,            /* TLS: the session must read before it writes again (link_tls.h) */
};
/* Writes as much of the queue as fd takes (writev, up to 64 frames a call),
 * dropping each frame's reference once written whole. Returns the status
 * and adds the bytes written to *written. */
int link_wq_write(link_wq_t *q, int fd, size_t *written);

/* n bytes of the queue went out: frames written whole are dropped (and
 * the ring once the queue is empty). */
void link_wq_consume(link_wq_t *q, size_t n);

/* Bytes still referenced by the queue (the written part of its head frame
 * included): what CLUSTER LINKS shows as send-buffer-allocated. */
size_t link_wq_allocated(const link_wq_t *q);

/* Drops every frame and the ring. */
void link_wq_clear(link_wq_t *q);

#endif

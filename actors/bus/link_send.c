/* link_send.c - shared outgoing frames and a link's write queue (see
 * link_send.h).
 *
 * Must never: touch a queue from two threads, or free a frame another
 * queue still references.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "actors/bus/link.h"
#include "actors/bus/link_send.h"
#include "runtime/log.h"

#define WQ_IOV_MAX 64                 /* frames per writev: a burst at 1,000 peers is a few dozen */

shared_frame_t *shared_frame_alloc(size_t len)
{
    shared_frame_t *f = malloc(sizeof *f + len);
    if (!f) return NULL;
    atomic_init(&f->refs, 1);
    f->len = len;
    return f;
}

shared_frame_t *shared_frame_new(const uint8_t *frame, size_t len)
{
    shared_frame_t *f = shared_frame_alloc(len);
    if (f) memcpy(f->data, frame, len);
    return f;
}

void shared_frame_ref(shared_frame_t *f)
{
    /* relaxed: the caller already holds a reference, so the count cannot
     * reach zero meanwhile; the frame's bytes travel to the other thread
     * with the message that carries the pointer (the mailbox orders them) */
    atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
}

void shared_frame_unref(shared_frame_t *f)
{
    if (!f) return;
    /* acq_rel: every holder's reads of the bytes happen before the last
     * holder frees them */
    if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1) free(f);
}

unsigned shared_frame_refs(const shared_frame_t *f)
{
    /* relaxed: a figure for tests, read on its own */
    return atomic_load_explicit(&((shared_frame_t *)f)->refs, memory_order_relaxed);
}

bool link_wq_push(link_wq_t *q, shared_frame_t *f)
{
    if (q->count == q->cap) {
        uint32_t cap = q->cap ? q->cap * 2 : 4;
        shared_frame_t **r = malloc(sizeof *r * cap);
        if (!r) {
            shared_frame_unref(f);
            return false;
        }
        for (uint32_t i = 0; i < q->count; i++) r[i] = q->ring[(q->head + i) % q->cap];
        free(q->ring);
        q->ring = r;
        q->head = 0;
        q->cap = cap;
    }
    q->ring[(q->head + q->count) % q->cap] = f;
    q->count++;
    q->queued += f->len;
    return true;
}

/* Frees the ring once nothing is queued: an idle link holds no memory. */
static void release_if_empty(link_wq_t *q)
{
    if (q->count) return;
    free(q->ring);
    q->ring = NULL;
    q->head = q->cap = 0;
    q->off = 0;
    q->queued = 0;
}

int link_wq_write(link_wq_t *q, int fd, size_t *written)
{
    while (q->count) {
        struct iovec iov[WQ_IOV_MAX];
        int n = 0;
        for (uint32_t i = 0; i < q->count && n < WQ_IOV_MAX; i++) {
            shared_frame_t *f = q->ring[(q->head + i) % q->cap];
            size_t skip = i == 0 ? q->off : 0;
            iov[n].iov_base = f->data + skip;
            iov[n].iov_len = f->len - skip;
            n++;
        }
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
        ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return LINK_WQ_BLOCKED;
        if (w <= 0) {
            if (w == 0) errno = 0;
            return LINK_WQ_ERROR;
        }
        *written += (size_t)w;
        link_wq_consume(q, (size_t)w);
    }
    release_if_empty(q);
    return LINK_WQ_DRAINED;
}

void link_wq_consume(link_wq_t *q, size_t n)
{
    q->queued -= n;
    while (n) {
        shared_frame_t *f = q->ring[q->head];
        size_t rest = f->len - q->off;
        if (n < rest) {
            q->off += n;
            break;
        }
        n -= rest;
        q->off = 0;
        q->head = (q->head + 1) % q->cap;
        q->count--;
        shared_frame_unref(f);
    }
    release_if_empty(q);
}

size_t link_wq_allocated(const link_wq_t *q)
{
    return q->queued + q->off;
}

void link_wq_clear(link_wq_t *q)
{
    for (uint32_t i = 0; i < q->count; i++) shared_frame_unref(q->ring[(q->head + i) % q->cap]);
    q->count = 0;
    release_if_empty(q);
}

/* The copying send: one shared frame with a single holder (link.c sends it). */
void link_send(link_id_t id, const uint8_t *frame, size_t len)
{
    if (len == 0) return;
    shared_frame_t *f = shared_frame_new(frame, len);
    if (!f) {
        LOG_WARNING("Out of memory: dropped an outgoing cluster bus message");
        return;
    }
    link_send_shared(id, f);
    shared_frame_unref(f);
}

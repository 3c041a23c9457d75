/* mailbox.h - lock-free multi-producer, single-consumer message queue.
 *
 * The queue is intrusive (a message carries its own `next` link) and follows
 * Vyukov's MPSC design: producers swap themselves onto the head with one
 * atomic exchange; the single consumer walks from the tail. The low bit of the
 * head pointer records "empty and not scheduled", so a push can tell its
 * sender that the queue went from empty to non-empty and the consumer must be
 * woken (exactly once).
 *
 * Must never: block, allocate, or be popped from more than one thread.
 */
#ifndef SHOAL_RUNTIME_MAILBOX_H
#define SHOAL_RUNTIME_MAILBOX_H

#include <stdbool.h>
#include <stdint.h>

typedef struct rt_msg {
    struct rt_msg *next;      /* owned by the mailbox while queued */
    uint32_t type;            /* meaning is private to the receiving actor */
    uint32_t flags;
} rt_msg_t;

typedef struct rt_mailbox {
    rt_msg_t *head;           /* producers' end (atomic); low bit = empty */
    rt_msg_t *tail;           /* consumer's end: the last message already handed out (or the stub) */
    rt_msg_t stub;
} rt_mailbox_t;

/* A new mailbox is empty and marked empty. */
void rt_mailbox_init(rt_mailbox_t *mb);

/* Any thread. Returns true when the mailbox was marked empty before this
 * push: the caller must then schedule the consumer. */
bool rt_mailbox_push(rt_mailbox_t *mb, rt_msg_t *msg);

/* Consumer only. Next message in FIFO order, or NULL if none is visible yet.
 * The returned message belongs to the caller. */
rt_msg_t *rt_mailbox_pop(rt_mailbox_t *mb);

/* Consumer only. Tries to mark the mailbox empty; returns false when a
 * message is present or a push is in flight (then the consumer stays
 * responsible and must drain again). */
bool rt_mailbox_mark_empty(rt_mailbox_t *mb);

/* Any thread. True when the mailbox carries the consumer's "empty and not
 * scheduled" mark. Acquire: whatever the consumer did before marking it
 * (rt_mailbox_mark_empty releases) happens before the caller's next step. */
bool rt_mailbox_is_marked_empty(rt_mailbox_t *mb);

#endif

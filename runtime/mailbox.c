/* mailbox.c - the lock-free MPSC mailbox behind every actor and every
 * thread's ready queue.
 *
 * Design: Vyukov's intrusive MPSC queue with a stub node, plus Pony's trick of
 * using the low bit of `head` as the "empty and nobody is scheduled" mark.
 *
 *   - Producers link themselves in with one atomic exchange on `head` and then
 *     store the back link `prev->next`; between the two a push is "in flight"
 *     and the consumer simply sees nothing yet.
 *   - `tail` is the next node the consumer will hand out, or the stub. When the
 *     last real message is about to be handed out the consumer re-inserts the
 *     stub behind it, so a message handed out is no longer referenced by the
 *     queue and truly belongs to the caller (Pony keeps the last message as its
 *     stub instead, which we can't do because callers free messages at once).
 *   - The exchange on `head` returns the previous head, whose low bit tells the
 *     producer whether the queue was marked empty: then, and only then, the
 *     producer must schedule the consumer. The consumer sets the mark with a CAS
 *     that fails if anyone pushed meanwhile, so exactly one side is responsible
 *     at any time.
 *
 * Memory ordering is written with ck_pr fences so it is explicit on weakly
 * ordered CPUs; on x86 (TSO) they compile to compiler barriers.
 *
 * Must never: block, allocate, or be popped from more than one thread.
 */
#include "runtime/mailbox.h"

#include <stddef.h>
#include <stdint.h>
#include <ck_pr.h>

#define EMPTY_BIT ((uintptr_t)1)

static inline rt_msg_t *untag(rt_msg_t *p)
{
    return (rt_msg_t *)((uintptr_t)p & ~EMPTY_BIT);
}

static inline bool is_tagged(rt_msg_t *p)
{
    return ((uintptr_t)p & EMPTY_BIT) != 0;
}

void rt_mailbox_init(rt_mailbox_t *mb)
{
    mb->stub.next = NULL;
    mb->stub.type = 0;
    mb->stub.flags = 0;
    mb->tail = &mb->stub;
    /* Plain store: the mailbox is published to other threads by whatever hands
     * them its address (thread creation, a mutex, a later release store). */
    ck_pr_store_ptr(&mb->head, (void *)((uintptr_t)&mb->stub | EMPTY_BIT));
}

/* Links `msg` at the producers' end; returns the previous head, tag included. */
static rt_msg_t *link_in(rt_mailbox_t *mb, rt_msg_t *msg)
{
    ck_pr_store_ptr(&msg->next, NULL);
    /* store->atomic (release): our next=NULL and the message body must be
     * visible before the message can be reached through head, otherwise a
     * later producer's link store could be overwritten by our NULL. */
    ck_pr_fence_store_atomic();
    rt_msg_t *prev = ck_pr_fas_ptr(&mb->head, msg);
    /* atomic->store: the back link is written only after we own our slot in
     * the exchange order; together with the fence above it also releases the
     * message body to the consumer's acquire load of prev->next. */
    ck_pr_fence_atomic_store();
    ck_pr_store_ptr(&untag(prev)->next, msg);
    return prev;
}

bool rt_mailbox_push(rt_mailbox_t *mb, rt_msg_t *msg)
{
    return is_tagged(link_in(mb, msg));
}

/* Acquire load of a next link: pairs with the producer's release of it. */
static inline rt_msg_t *load_next(rt_msg_t *node)
{
    rt_msg_t *next = ck_pr_load_ptr(&node->next);
    /* load->load (acquire): the message body is read only after the link that
     * published it. */
    ck_pr_fence_load();
    return next;
}

rt_msg_t *rt_mailbox_pop(rt_mailbox_t *mb)
{
    rt_msg_t *tail = mb->tail;
    rt_msg_t *next = load_next(tail);

    if (tail == &mb->stub) {
        if (next == NULL)
            return NULL;          /* empty, or the first push is in flight */
        /* Step over the stub; it is out of the chain until re-inserted. */
        mb->tail = next;
        tail = next;
        next = load_next(next);
    }
    if (next != NULL) {
        mb->tail = next;
        return tail;
    }
    /* `tail` is the last linked message. If it is not the head, a producer
     * has swapped itself in but not linked yet: report nothing for now. */
    rt_msg_t *head = untag(ck_pr_load_ptr(&mb->head));
    if (tail != head)
        return NULL;
    /* Put the stub behind `tail` so that `tail` can leave the queue. */
    link_in(mb, &mb->stub);
    next = load_next(tail);
    if (next != NULL) {
        mb->tail = next;          /* the stub, or a producer that beat it */
        return tail;
    }
    return NULL;                  /* a producer is between exchange and link */
}

bool rt_mailbox_is_marked_empty(rt_mailbox_t *mb)
{
    /* acquire: pairs with the release of the marking CAS in
     * rt_mailbox_mark_empty, so the consumer's last touches are visible. */
    rt_msg_t *head = ck_pr_load_ptr(&mb->head);
    ck_pr_fence_load();
    return is_tagged(head);
}

bool rt_mailbox_mark_empty(rt_mailbox_t *mb)
{
    /* Relaxed is enough: the CAS below re-checks the value atomically. */
    rt_msg_t *head = ck_pr_load_ptr(&mb->head);
    if (is_tagged(head))
        return true;              /* already marked (nothing was pushed) */
    /* Empty means every message was handed out: both ends sit on the stub.
     * If head is the stub, nothing was pushed after it (only we push it). */
    if (head != &mb->stub || mb->tail != &mb->stub)
        return false;
    /* load->atomic and store->atomic (release): our reads and writes of the
     * handed-out messages are done before a producer can see the mark and
     * schedule the consumer again. The CAS fails if any producer exchanged
     * head since our load. */
    ck_pr_fence_load_atomic();
    ck_pr_fence_store_atomic();
    return ck_pr_cas_ptr(&mb->head, head, (void *)((uintptr_t)head | EMPTY_BIT));
}

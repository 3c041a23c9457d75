/* push_hold.h - subscribers' pushes held over a few loop rounds while a
 * burst of messages lasts (docs/design.md §3.8).
 *
 * A pipelined publisher gives each subscriber one round's messages at a
 * time, and writing every subscriber each round costs a write(2) per
 * subscriber per round on the worker and a wake-up and a read(2) in the
 * subscriber: with 1,000 subscribers that is most of the CPU of a fan-out,
 * on both sides. So when a round delivered more than one message (a burst),
 * the subscribers it gave pushes to are not written before the loop sleeps
 * but held, and written together when the hold ends: a timer as long as
 * writing them takes (PUSH_HOLD_NS_PER_CLIENT each, at most
 * PUSH_HOLD_MAX_US; a worker that sleeps meanwhile wakes no sooner than
 * libev's 1 ms poll granularity allows), by then with the messages of the
 * rounds since in one write. A round that delivered one message, with no
 * hold going on, is written at once: a lone message waits for nothing; so
 * is a burst to fewer than PUSH_HOLD_MIN_CLIENTS subscribers.
 *
 * Must never: hold a client past the hold's timer; hold a client that has
 * anything but pushes to send (a reply schedules its ordinary write, which
 * takes everything in its buffer, in order); hold a client's output past
 * PUSH_HOLD_BYTES or a sixteenth of the smallest pubsub output-buffer limit
 * (the limits judge buffers as they would without the hold).
 */
#ifndef SHOAL_ACTORS_WORKER_PUSH_HOLD_H
#define SHOAL_ACTORS_WORKER_PUSH_HOLD_H

#include <stddef.h>
#include "actors/worker/worker_internal.h"

struct client;

#define PUSH_HOLD_NS_PER_CLIENT 5000   /* about one client write, its reader's wake-up and read */
#define PUSH_HOLD_MAX_US 4000
/* Fewer held clients than this are written at once: their writes cost
 * little, and a worker that sleeps on a hold sleeps at least libev's 1 ms
 * poll granularity, far longer than writing them would take. */
#define PUSH_HOLD_MIN_CLIENTS 16
#define PUSH_HOLD_BYTES (64 * 1024)

/* The most unsent bytes a held client may have, given the pubsub class's
 * climits_obuf_floor: taken once per delivery. */
size_t push_hold_cap(size_t obuf_floor);
/* A delivery appended pushes to c (owner thread): its write is scheduled
 * for this round, or c joins the hold (cap: push_hold_cap). */
void push_hold_schedule(struct client *c, size_t cap);
/* A delivery reached someone (owner thread): counts the round's messages. */
static inline void push_hold_note_delivery(worker_t *w) { w->push_round_msgs++; }
/* The worker's prepare hook, before the round's writes: a round that was
 * not part of a burst releases the hold; one that was starts its timer. */
void push_hold_round(worker_t *w);

#endif

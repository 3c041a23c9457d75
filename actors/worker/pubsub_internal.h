/* pubsub_internal.h - what pubsub.c (the subscription tables and delivery)
 * lends pubsub_send.c (publishing and the batches between workers). Only
 * the two files of actors/worker/pubsub use it.
 */
#ifndef SHOAL_ACTORS_WORKER_PUBSUB_INTERNAL_H
#define SHOAL_ACTORS_WORKER_PUBSUB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct worker;

/* The seeded hash of a channel name (summary bits and the maps). */
uint64_t pubsub_name_hash(const uint8_t *p, size_t n);

/* Any thread: worker i may hold a subscriber of the channel with hash h
 * (a summary bit, or any pattern for a classic channel). */
bool pubsub_may_hold(int i, bool shard, uint64_t h);

/* On w's thread, outside any walk of w's maps: one message to w's
 * subscribers of the channel (and of matching patterns); h is
 * pubsub_name_hash of the channel. Returns how many got it. */
long long pubsub_deliver_here(struct worker *w, bool shard, const uint8_t *ch, size_t chlen, const uint8_t *data,
                              size_t len, uint64_t h);

/* The subscribers of the workers in the mask that a message to this
 * channel would reach (pubsub_deliver_here's count, nothing written). Only
 * while each of them stands still for the caller's session (xscript.h). */
long long pubsub_count_standing(uint64_t workers, bool shard, const uint8_t *ch, size_t chlen, uint64_t h);

#endif

/* stream_cg.h - consumer groups of a stream: each group's last delivered
 * ID and read counter, its pending entries list (PEL: delivered, not yet
 * acknowledged), and its consumers, each with the part of the PEL it holds.
 *
 * Groups and consumers are kept sorted by name bytes and PELs by ID (sorted
 * arrays, binary search), the orders 7.0.15's radix trees give, so XINFO
 * lists and RDB records come out in 7.0.15's order. A pending entry (nack)
 * is owned by its group's PEL; its consumer's PEL points at the same nack.
 * Owned by the stream's worker; no locking.
 */
#ifndef SHOAL_ACTORS_TYPES_STREAM_CG_H
#define SHOAL_ACTORS_TYPES_STREAM_CG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/types/stream.h"

struct stream_consumer;

typedef struct stream_nack {
    stream_id_t id;
    long long delivery_time;      /* ms */
    uint64_t delivery_count;
    struct stream_consumer *consumer;
} stream_nack_t;

typedef struct stream_pel {
    stream_nack_t **v;            /* sorted by id */
    size_t n, cap;
} stream_pel_t;

typedef struct stream_consumer {
    uint8_t *name;
    size_t nlen;
    long long seen_time;          /* ms */
    stream_pel_t pel;             /* the group's nacks this consumer holds */
} stream_consumer_t;

typedef struct stream_cg {
    uint8_t *name;
    size_t nlen;
    stream_id_t last_id;
    long long entries_read;       /* -1: not known (SCG_INVALID_ENTRIES_READ) */
    stream_pel_t pel;             /* owns its nacks */
    stream_consumer_t **consumers;    /* sorted by name */
    size_t nconsumers, ccap;
} stream_cg_t;

typedef struct stream_cgs {
    stream_cg_t **v;              /* sorted by name */
    size_t n, cap;
} stream_cgs_t;

#define STREAM_CG_INVALID_READ (-1LL)

void stream_cgs_free(stream_cgs_t *g);
size_t stream_cgs_mem(const stream_cgs_t *g);
stream_cgs_t *stream_cgs_dup(const stream_cgs_t *g);
static inline size_t stream_cg_count(const stream_t *s) { return s->cgs ? s->cgs->n : 0; }

/* Groups. */
stream_cg_t *stream_cg_find(const stream_t *s, const uint8_t *name, size_t n);
/* NULL when a group of that name exists. */
stream_cg_t *stream_cg_create(stream_t *s, const uint8_t *name, size_t n, const stream_id_t *id, long long entries_read);
/* false when there is none. */
bool stream_cg_destroy(stream_t *s, const uint8_t *name, size_t n);

/* Consumers. */
stream_consumer_t *stream_consumer_find(const stream_cg_t *g, const uint8_t *name, size_t n);
/* A new consumer with seen_time now_ms (the caller checked it is absent). */
stream_consumer_t *stream_consumer_create(stream_cg_t *g, const uint8_t *name, size_t n, long long now_ms);
/* Removes c and its pending entries from the group; returns how many it had. */
size_t stream_consumer_delete(stream_cg_t *g, stream_consumer_t *c);

/* PELs. */
/* Index of the first nack with id >= *id (p->n when none). */
size_t stream_pel_lower(const stream_pel_t *p, const stream_id_t *id);
stream_nack_t *stream_pel_find(const stream_pel_t *p, const stream_id_t *id);
/* Inserts nk (its id absent). */
void stream_pel_insert(stream_pel_t *p, stream_nack_t *nk);
/* Removes the nack with that id (not freed); false when absent. */
bool stream_pel_remove(stream_pel_t *p, const stream_id_t *id);

/* A new nack delivered now to c (not inserted anywhere). */
stream_nack_t *stream_nack_new(const stream_id_t *id, stream_consumer_t *c, long long now_ms);
/* Takes nk out of both PELs and frees it. */
void stream_nack_drop(stream_cg_t *g, stream_nack_t *nk);
/* Moves nk to consumer c (out of its old consumer's PEL, into c's). */
void stream_nack_move(stream_nack_t *nk, stream_consumer_t *c);

/* 7.0.15's estimate of how many entries the group has read up to id
 * (streamEstimateDistanceFromFirstEverEntry); -1 when it cannot tell. */
long long stream_estimate_distance(const stream_t *s, const stream_id_t *id);
/* Whether a tombstone may lie in [start, end] (streamRangeHasTombstones). */
bool stream_range_has_tombstones(const stream_t *s, const stream_id_t *start, const stream_id_t *end);
/* The group's lag, -1 (a null reply) when unknown (streamReplyWithCGLag). */
long long stream_cg_lag(const stream_t *s, const stream_cg_t *g, bool *valid);

#endif

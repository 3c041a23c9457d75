/* tracking_internal.h - what tracking.c (default mode, commands, delivery)
 * and tracking_bcast.c (BCAST prefixes) share. Worker folder only.
 */
#ifndef SHOAL_ACTORS_WORKER_TRACKING_INTERNAL_H
#define SHOAL_ACTORS_WORKER_TRACKING_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct client;
struct worker;

/* A client's BCAST prefixes, sorted as 7.0.15's radix tree lists them
 * (bytewise, a prefix before its extensions). Owned by the client_t. */
typedef struct trk_prefixes {
    int n, cap;
    struct trk_prefix { uint8_t *p; size_t len; } *v;
} trk_prefixes_t;

/* An invalidation for tracking client `tracker`: `value` is the RESP of the
 * message's second element (an array of keys, or a null). Sent to the
 * tracker's worker, or to its redirect target (tracking-redir-broken when
 * that is gone). `here`: the calling worker when `tracker` is one of its own
 * clients (written at once), else NULL. Any worker thread. */
void trk_send(struct worker *here, struct client *tracker_here, uint64_t tracker, const char *value, size_t len);

/* tracking_bcast.c, on c's worker: c's prefixes join (or leave) the worker's
 * broadcast table. */
void trk_bcast_add(struct client *c, const uint8_t *prefix, size_t len);
void trk_bcast_drop(struct client *c);
/* Whether `p` overlaps one of c's prefixes (7.0.15: one is a prefix of the
 * other); the overlapping one is returned through *with. */
bool trk_bcast_overlaps(const struct client *c, const uint8_t *p, size_t len, const struct trk_prefix **with);
/* Any thread: a key changed (writer: the client that changed it, 0 for none). */
bool trk_bcast_wanted(void);
void trk_bcast_note(uint64_t writer, const uint8_t *key, size_t len);
/* The changed keys of this thread's round, to the workers with broadcast clients. */
void trk_bcast_flush(struct worker *w);
long long trk_bcast_prefix_count(void);

#endif

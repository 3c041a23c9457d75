/* link_pressure.h - back-pressure from the state actor onto the links'
 * sockets (docs/cluster-bus.md §1.6, "Back-pressure").
 *
 * Links read and forward frames without a limit of their own, and digest
 * frames only while the state actor is quiet (pending == 0). Once it falls
 * behind under a flood, pending would stay above 0, every frame would be
 * forwarded whole and its mailbox would grow for good. So a link stops
 * reading its socket while pending is at or above LINK_PRESSURE_HIGH and
 * reads again only once pending is back to 0 (the kernel's socket buffers,
 * then the peer's TCP window, hold the rest meanwhile). Paused links of a
 * thread wait on one list, polled by one timer every LINK_PRESSURE_POLL_MS
 * that runs only while the list is not empty.
 *
 * Must never: be used from a thread other than the link's; leave a link
 * paused once pending is 0 (the poll resumes it within one period); touch
 * a link after link_pressure_forget.
 */
#ifndef SHOAL_ACTORS_LINK_PRESSURE_H
#define SHOAL_ACTORS_LINK_PRESSURE_H

#include <stdbool.h>
#include <stddef.h>
#include "actors/state/state_live.h"
#include "runtime/actor.h"

/* Frame messages (not frames, not bytes) waiting for the state actor. One
 * message is one read round of one link; a round that forwards ends once
 * 64 KB of records wait (link.c, ROUND_FORWARD_MAX), so a message holds at
 * most that plus one 64 KB read's frames and 256 bound the backlog to about
 * 40 MB at worst, yet are far above what a state actor keeping up ever holds
 * (at most about one per link thread between two of its wake-ups). */
#define LINK_PRESSURE_HIGH 256
/* Resume only at 0: any backlog keeps links forwarding whole (the digest
 * needs pending == 0), so a higher mark would resume into the same
 * saturated regime instead of back into the digest one. */
#define LINK_PRESSURE_LOW 0
#define LINK_PRESSURE_POLL_MS 1.0

typedef struct link_pause link_pause_t;
struct link_pause {
    link_pause_t *next, **pprev;     /* the thread's paused list; pprev NULL when not paused */
    const state_live_t *live;        /* the counter that paused it */
    struct ev_loop *loop;
    ev_io *rio;                      /* the read watcher stopped meanwhile */
    long long since_us;              /* when it paused (monotonic; INFO busdigest's paused time) */
};

/* Link's thread, with rio its read watcher: when live's pending is at or
 * above LINK_PRESSURE_HIGH, stops rio, puts p on the thread's paused list
 * (the poll starts rio again once pending is LINK_PRESSURE_LOW) and returns
 * true. False, doing nothing, otherwise and when live is NULL. The events
 * CLUSTER LINKS shows stay as they were: a pause is not the peer's doing. */
bool link_pressure_check(link_pause_t *p, const state_live_t *live, struct ev_loop *loop, ev_io *rio);

static inline bool link_pressure_paused(const link_pause_t *p) { return p->pprev != NULL; }

/* Takes p off the paused list without resuming it (teardown). */
void link_pressure_forget(link_pause_t *p);

/* Pauses, their ends and their lengths are counted per thread in
 * bus_dstats.h (INFO busdigest). */

#endif

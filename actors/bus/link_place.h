/* link_place.h - which worker thread serves a bus link: packed on as few
 * threads as the bus load needs, moved between them while idle (see
 * link_place.c). The link layer's own: link.c and link_place.c share it;
 * INFO and DEBUG read and set the figures below, a busy worker serves its
 * links through it.
 *
 * Must never: move a link that has anything in flight (see link_place.c).
 */
#ifndef SHOAL_ACTORS_BUS_LINK_PLACE_H
#define SHOAL_ACTORS_BUS_LINK_PLACE_H

#include <stdbool.h>
#include "runtime/actor.h"

struct link;

/* The threads links may run on (the workers, in their order). Once, before
 * the bus listener starts. */
void link_place_configure(rt_thread_t **threads, int nthreads);
/* The thread a new link goes to (any thread): round-robin over the threads
 * that take links now; NULL before link_place_configure. */
rt_thread_t *link_place_pick(void);

/* The link's thread: the link starts (or arrives, after a move) on it /
 * leaves it for good (teardown). */
void link_place_attach(struct link *l, bool arrived);
void link_place_detach(struct link *l);

/* A link thread's cron (placement_tick, on each worker): the last thread
 * decides how many threads take links; each thread then hands over the
 * idle links that decision (or a count out of balance) wants elsewhere. */
void link_place_tick(void);

/* link.c: binds an idle link (its mailbox empty, checked under the
 * registry lock) to thread `to`: stops its watchers, takes its socket out of
 * this thread's epoll set and sends it LINK_MSG_ADOPT, which starts them on
 * `to`. False, changing nothing, when a message waits for it. The link's
 * thread, outside the link's callbacks. */
bool link_rehome(struct link *l, rt_thread_t *to);

/* A worker inside a script past busy-reply-threshold (actors/worker/busy.c,
 * at most once a millisecond): its thread's links are read and answered
 * meanwhile, at most every LINK_BUSY_POLL_MS, as 7.0.15's
 * processEventsWhileBlocked serves the bus (a script on the links' thread
 * silenced every link of the node, which the others then marked FAIL).
 * Messages to the links (the gossip ticker's PINGs) wait for the script, as
 * 7.0.15's cron does. The calling thread; never from a link's callbacks. */
void link_place_serve_busy(void);
/* link.c: one link's part of it, as a read event would. */
void link_serve_while_busy(struct link *l);

/* DEBUG BUSPLACEMENT: n > 0 fixes the number of threads that take links
 * (links move at the threads' next crons); 0 gives the choice back to the
 * load. Any thread. */
void link_place_force(int n);

/* INFO threads: threads taking links now, links moved so far, thread i's
 * links (-1 when i is not a link thread). */
int link_place_threads(void);
unsigned long long link_place_moves(void);
long long link_place_count(int i);

#endif

/* link_pressure.c - pausing links' reads while the state actor is behind
 * (link_pressure.h). */
#include "actors/bus/link_pressure.h"

#include <stdatomic.h>
#include <stddef.h>
#include "actors/bus/bus_dstats.h"
#include "runtime/actor.h"

typedef struct pressure_ctx {
    link_pause_t *head;
    rt_timer_t poll;
    bool polling;
} pressure_ctx_t;

static _Thread_local pressure_ctx_t t_ctx;


static void unlink_pause(link_pause_t *p)
{
    bus_dstats_resumed(rt_mono_us() - p->since_us);
    *p->pprev = p->next;
    if (p->next) p->next->pprev = p->pprev;
    p->next = NULL;
    p->pprev = NULL;
}

static void poll_cb(rt_timer_t *timer, void *arg)
{
    (void)timer;
    pressure_ctx_t *c = arg;
    for (link_pause_t *p = c->head, *next; p; p = next) {
        next = p->next;
        /* seq_cst, as link_pressure_check */
        if (atomic_load_explicit(&p->live->pending, memory_order_seq_cst) > LINK_PRESSURE_LOW) continue;
        unlink_pause(p);
        /* read at the next loop turn, also when the socket has nothing new
         * (a TLS link's records read ahead wait in OpenSSL); a link paused
         * again then goes back at the head, behind this walk */
        ev_io_start(p->loop, p->rio);
        ev_feed_event(p->loop, p->rio, EV_READ);
    }
    if (!c->head && c->polling) {
        rt_timer_stop(&c->poll);
        c->polling = false;
    }
}

bool link_pressure_check(link_pause_t *p, const state_live_t *live, struct ev_loop *loop, ev_io *rio)
{
    /* seq_cst, as the increments and decrements (link.c, state.c) */
    if (!live || atomic_load_explicit(&live->pending, memory_order_seq_cst) < LINK_PRESSURE_HIGH) return false;
    ev_io_stop(loop, rio);
    if (p->pprev) return true;
    pressure_ctx_t *c = &t_ctx;
    p->live = live;
    p->loop = loop;
    p->rio = rio;
    p->next = c->head;
    if (c->head) c->head->pprev = &p->next;
    p->pprev = &c->head;
    c->head = p;
    p->since_us = rt_mono_us();
    bus_dstats_paused();
    if (!c->polling) {
        rt_timer_start(&c->poll, rt_thread_self(), LINK_PRESSURE_POLL_MS, LINK_PRESSURE_POLL_MS, poll_cb, c);
        c->polling = true;
    }
    return true;
}

void link_pressure_forget(link_pause_t *p)
{
    if (p->pprev) unlink_pause(p);
    /* the poll stops by itself at its next run if the list is now empty */
}

/* push_hold.c - subscribers' pushes held while a burst of messages lasts
 * (push_hold.h).
 *
 * The hold is a list of clients per worker (client.next_held), flagged
 * CLIENT_PUSH_HELD, and one timer. Releasing a client puts it on the
 * worker's ordinary write list, whose writer also frees a client that
 * closed meanwhile.
 *
 * Must never: free a held client (the free paths of worker.c wait for the
 * flag to go), or leave a client on the hold without the timer running once
 * the round that put it there is over.
 */
#include "actors/worker/client.h"
#include "actors/worker/push_hold.h"

size_t push_hold_cap(size_t obuf_floor)
{
    size_t share = obuf_floor / 16;
    return share < PUSH_HOLD_BYTES ? share : PUSH_HOLD_BYTES;
}

void push_hold_schedule(client_t *c, size_t cap)
{
    if (c->flags & (CLIENT_PENDING_WRITE | CLIENT_CLOSED)) return;   /* written this round anyway */
    if (c->pending_head || c->out.len - c->out_sent >= cap) {
        client_schedule_write(c);
        return;
    }
    if (c->flags & CLIENT_PUSH_HELD) return;
    worker_t *w = c->worker;
    c->flags |= CLIENT_PUSH_HELD;
    c->next_held = w->push_held;
    w->push_held = c;
    w->push_nheld++;
}

static void release(worker_t *w)
{
    while (w->push_held) {
        client_t *c = w->push_held;
        w->push_held = c->next_held;
        c->next_held = NULL;
        c->flags &= ~CLIENT_PUSH_HELD;
        worker_flush_list_add(c);   /* written before the loop sleeps, or freed if it closed */
    }
    w->push_nheld = 0;
}

static void hold_end(rt_timer_t *t, void *arg)
{
    (void)t;
    worker_t *w = arg;
    w->push_timer_on = false;
    release(w);
}

void push_hold_round(worker_t *w)
{
    int msgs = w->push_round_msgs;
    w->push_round_msgs = 0;
    if (!w->push_held || w->push_timer_on) return;
    if (msgs < 2 || w->push_nheld < PUSH_HOLD_MIN_CLIENTS) {
        release(w);
        return;
    }
    double ms = (double)w->push_nheld * PUSH_HOLD_NS_PER_CLIENT / 1e6;
    if (ms > PUSH_HOLD_MAX_US / 1e3) ms = PUSH_HOLD_MAX_US / 1e3;
    rt_timer_start(&w->push_timer, w->thread, ms, 0, hold_end, w);
    w->push_timer_on = true;
}

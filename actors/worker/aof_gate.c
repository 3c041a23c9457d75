/* aof_gate.c - see aof_gate.h. */
#include <stdlib.h>

#include "actors/persist/aof.h"
#include "actors/worker/aof_gate.h"
#include "actors/worker/client.h"
#include "runtime/xmalloc.h"

static void unlink_gated(client_t *c)
{
    worker_t *w = c->worker;
    if (c->aof_prev) c->aof_prev->aof_next = c->aof_next;
    else w->aof_gated = c->aof_next;
    if (c->aof_next) c->aof_next->aof_prev = c->aof_prev;
    c->aof_next = c->aof_prev = NULL;
    c->flags &= ~CLIENT_AOF_GATED;
    c->aof_wait[0].len = c->aof_wait[1].len = 0;
}

bool aof_gate_defer_write(const client_t *c)
{
    return (c->flags & CLIENT_PENDING_WRITE) && aof_reply_hold_on();
}

void aof_gate_drop(client_t *c)
{
    if (c->flags & CLIENT_AOF_GATED) unlink_gated(c);
}

/* The marks an fsync reached release their bytes; true when some did. */
static bool advance(client_t *c)
{
    bool moved = false;
    while (c->aof_wait[0].len && aof_reply_synced(c->aof_wait[0].mark)) {
        c->aof_rel = c->aof_wait[0].len;
        c->aof_wait[0] = c->aof_wait[1];
        c->aof_wait[1].len = 0;
        moved = true;
    }
    return moved;
}

/* The oldest mark a gated client of w still waits for (0: none). */
static uint64_t oldest_mark(const worker_t *w)
{
    uint64_t oldest = 0;
    for (const client_t *c = w->aof_gated; c; c = c->aof_next)
        if (c->aof_wait[0].len && (!oldest || c->aof_wait[0].mark < oldest)) oldest = c->aof_wait[0].mark;
    return oldest;
}

void aof_gate_release(worker_t *w)
{
    if (!w->aof_gated) return;
    for (client_t *c = w->aof_gated; c; c = c->aof_next)
        if (advance(c) && c->aof_rel > c->out_sent) client_schedule_write(c);   /* written before the loop sleeps */
    /* woken at the oldest mark: what is still held wakes us at the next */
    uint64_t oldest = oldest_mark(w);
    if (oldest) aof_reply_wait(w->aof_waiter, oldest, 0);
}

void aof_gate_note(client_t *c, uint64_t mark)
{
    if (!mark || aof_reply_synced(mark)) {
        /* every byte in the buffer was there before a mark an fsync reached */
        if (c->flags & CLIENT_AOF_GATED) {
            c->aof_rel = c->out.len;
            c->aof_wait[0].len = c->aof_wait[1].len = 0;
        }
        return;
    }
    if (!(c->flags & CLIENT_AOF_GATED)) {
        if (c->out_sent == c->out.len) return;
        worker_t *w = c->worker;
        c->flags |= CLIENT_AOF_GATED;
        c->aof_prev = NULL;
        c->aof_next = w->aof_gated;
        if (w->aof_gated) w->aof_gated->aof_prev = c;
        w->aof_gated = c;
        c->aof_rel = c->out_sent;
        c->aof_wait[0].len = c->out.len;
        c->aof_wait[0].mark = mark;
        return;
    }
    size_t top = c->aof_wait[1].len ? c->aof_wait[1].len : c->aof_wait[0].len ? c->aof_wait[0].len : c->aof_rel;
    if (c->out.len <= top) return;
    /* Two marks at most: a newer one replaces the second, whose bytes then
     * wait for the newer mark (one fsync later at worst). */
    int k = c->aof_wait[0].len ? 1 : 0;
    c->aof_wait[k].len = c->out.len;
    c->aof_wait[k].mark = mark;
}

void aof_gate_wait(worker_t *w, uint64_t mark) { aof_reply_wait(w->aof_waiter, oldest_mark(w), mark); }

typedef struct gate_wake_msg {
    worker_run_t run;
} gate_wake_msg_t;

static void wake_run(worker_t *w, rt_msg_t *msg)
{
    free(msg);
    aof_gate_release(w);
}

/* The syncer's thread: the worker looks at its gated clients again. */
static void wake(void *arg)
{
    worker_t *w = arg;
    gate_wake_msg_t *m = xcalloc(1, sizeof *m);
    m->run.hdr.type = WMSG_RUN;
    m->run.fn = wake_run;
    rt_send(&w->actor, &m->run.hdr);
}

void aof_gate_init(worker_t *w) { w->aof_waiter = aof_reply_waiter(wake, w); }

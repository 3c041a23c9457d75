/* state_outbox.c - what the state actor's rules want done outside it:
 * frames for links, links to open or close, messages for the elector.
 *
 * The rules (state_bus.c, state_failover.c, state_cron.c) append to
 * st->out; the actor flushes it after every message and timer tick, in the
 * order the rules asked, so a link sees the same frames in the same order
 * as when the rules called the links directly, one message later at most.
 * Unit tests drive the rules and read the outbox instead.
 *
 * A connect needs its link id at once (the record stores it and later
 * frames and events are matched by it): the id is reserved when the rule
 * asks, and the link opened under that id at the flush.
 *
 * Must never: be flushed from anywhere but the state actor's thread, or
 * reorder operations.
 */
#include <stdlib.h>
#include <string.h>

#include "actors/bus/link.h"
#include "actors/failover/elector.h"
#include "actors/state/state_internal.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

static state_out_t *push_op(state_t *st, int kind)
{
    state_outbox_t *o = &st->out;
    if (o->nops == o->capops) {
        o->capops = o->capops ? o->capops * 2 : 16;
        o->ops = xrealloc(o->ops, sizeof *o->ops * (size_t)o->capops);
    }
    state_out_t *op = &o->ops[o->nops++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->frame = -1;
    return op;
}

/* A copy of the frame in the outbox, shared by the links it goes to; its
 * index, or -1 when memory ran out (logged: the frame is lost, as when a
 * link cannot queue it). */
static int frame_copy(state_t *st, const uint8_t *frame, size_t len)
{
    state_outbox_t *o = &st->out;
    shared_frame_t *f = shared_frame_new(frame, len);
    if (!f) {
        LOG_WARNING("Out of memory: dropped an outgoing cluster bus message");
        return -1;
    }
    if (o->nframes == o->capframes) {
        o->capframes = o->capframes ? o->capframes * 2 : 8;
        o->frames = xrealloc(o->frames, sizeof *o->frames * (size_t)o->capframes);
    }
    o->frames[o->nframes] = f;
    return o->nframes++;
}

void state_out_send_shared(state_t *st, uint64_t link, const uint8_t *frame, size_t len, int *copy)
{
    if (!link || !len) return;
    if (*copy < 0) *copy = frame_copy(st, frame, len);
    if (*copy < 0) return;
    state_out_t *op = push_op(st, STATE_OUT_SEND);
    op->link = link;
    op->frame = *copy;
}

void state_out_send(state_t *st, uint64_t link, const uint8_t *frame, size_t len)
{
    int copy = -1;
    state_out_send_shared(st, link, frame, len, &copy);
}

void state_out_connect(state_t *st, int idx, long long now)
{
    state_node_t *n = &st->nodes[idx];
    n->out_link = link_reserve_id();
    n->out_link_ctime_ms = now;
    state_out_t *op = push_op(st, STATE_OUT_CONNECT);
    op->link = n->out_link;
    memcpy(op->node, n->name, sizeof op->node);
    memcpy(op->ip, n->ip, sizeof op->ip);
    op->port = n->cport;
}

void state_out_close(state_t *st, uint64_t link)
{
    if (!link) return;
    push_op(st, STATE_OUT_CLOSE)->link = link;
}

void state_out_elector(state_t *st, int type, long long value, bool flag)
{
    state_out_t *op = push_op(st, STATE_OUT_ELECTOR);
    op->elector_type = type;
    op->value = value;
    op->flag = flag;
}

void state_outbox_clear(state_t *st)
{
    state_outbox_t *o = &st->out;
    for (int i = 0; i < o->nframes; i++) shared_frame_unref(o->frames[i]);
    o->nframes = 0;
    o->nops = 0;
}

void state_outbox_flush(state_t *st)
{
    state_outbox_t *o = &st->out;
    for (int i = 0; i < o->nops; i++) {
        const state_out_t *op = &o->ops[i];
        switch (op->kind) {
        case STATE_OUT_SEND:
            link_send_shared(op->link, o->frames[op->frame]);
            break;
        case STATE_OUT_CONNECT:
            if (!link_connect_as(op->link, op->node, op->ip, op->port)) {
                /* as when link_connect returned 0: no link, the cron retries. The
                 * cron flushes after it went quiet: working again, and published */
                int idx = state_node_by_link(st, op->link);
                if (idx >= 0 && st->nodes[idx].out_link == op->link) {
                    state_busy(st);
                    st->nodes[idx].out_link = 0;
                    st->dirty_snapshot = true;
                }
            }
            break;
        case STATE_OUT_CLOSE:
            link_close(op->link);
            break;
        case STATE_OUT_ELECTOR:
            elector_send(op->elector_type, op->value, op->flag);
            break;
        default:
            break;
        }
    }
    state_outbox_clear(st);
}

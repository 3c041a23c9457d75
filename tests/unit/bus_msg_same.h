/* bus_msg_same.h - compares two decoded bus messages by what they say, not
 * by where their views point: the same header (slot bitmap included), the
 * same body length, and every view of the message's type holding the same
 * bytes. For the tests of a message kept apart from its frame
 * (bus_msg_rebase, the link's forwarded records).
 *
 * Never: include anything but proto/bus.h and libc; never compare pointers
 * of the two messages (they point into different buffers by design).
 */
#ifndef SHOAL_TESTS_UNIT_BUS_MSG_SAME_H
#define SHOAL_TESTS_UNIT_BUS_MSG_SAME_H

#include <stdbool.h>
#include <string.h>
#include "proto/bus.h"

static inline bool same_header(const bus_header_t *a, const bus_header_t *b)
{
    return a->totlen == b->totlen && a->ver == b->ver && a->port == b->port && a->type == b->type &&
           a->count == b->count && a->current_epoch == b->current_epoch && a->config_epoch == b->config_epoch &&
           a->offset == b->offset && !memcmp(a->sender, b->sender, sizeof a->sender) &&
           !memcmp(a->myslots, b->myslots, sizeof a->myslots) && !memcmp(a->slaveof, b->slaveof, sizeof a->slaveof) &&
           a->has_master == b->has_master && !memcmp(a->myip, b->myip, sizeof a->myip) &&
           a->extensions == b->extensions && a->pport == b->pport && a->cport == b->cport && a->flags == b->flags &&
           a->state == b->state && !memcmp(a->mflags, b->mflags, sizeof a->mflags);
}

/* Both NULL, or both pointing at the same n bytes. */
static inline bool same_view(const void *a, const void *b, size_t n)
{
    if (!a || !b) return a == b;
    return memcmp(a, b, n) == 0;
}

/* A view of m that lies inside m's own body (or is NULL). */
static inline bool view_in_body(const bus_msg_t *m, const void *v, size_t n)
{
    const uint8_t *p = v;
    return !p || (m->body && p >= m->body && p + n <= m->body + m->body_len);
}

/* True when a and b (each decoded BUS_OK) say the same of their frames, and
 * every view of a lies inside a's body. */
static inline bool bus_msg_same(const bus_msg_t *a, const bus_msg_t *b)
{
    if (!same_header(&a->hdr, &b->hdr) || a->sender_valid != b->sender_valid || a->body_len != b->body_len)
        return false;
    if (!same_view(a->body, b->body, a->body_len) || !view_in_body(a, a->body, a->body_len)) return false;
    switch (a->hdr.type) {
    case BUS_PING: case BUS_PONG: case BUS_MEET: {
        const __typeof__(a->u.ping) *x = &a->u.ping, *y = &b->u.ping;
        size_t glen = (size_t)a->hdr.count * BUS_GOSSIP_LEN;
        if (!same_view(x->gossip, y->gossip, glen) || !view_in_body(a, x->gossip, glen)) return false;
        if (x->gossip_names_valid != y->gossip_names_valid || x->ext_count != y->ext_count ||
            x->unknown_ext_count != y->unknown_ext_count || x->forgotten_count != y->forgotten_count)
            return false;
        if (x->has_hostname != y->has_hostname || x->hostname_len != y->hostname_len ||
            !same_view(x->hostname, y->hostname, x->hostname_len) || !view_in_body(a, x->hostname, x->hostname_len))
            return false;
        if (x->has_human_nodename != y->has_human_nodename || x->human_nodename_len != y->human_nodename_len ||
            !same_view(x->human_nodename, y->human_nodename, x->human_nodename_len) ||
            !view_in_body(a, x->human_nodename, x->human_nodename_len))
            return false;
        if (!same_view(x->shard_id, y->shard_id, BUS_NAME_LEN) || !view_in_body(a, x->shard_id, BUS_NAME_LEN))
            return false;
        /* the records, read through the iterator as the rules read them */
        bus_ext_iter_t ia, ib;
        bus_ext_t ea, eb;
        bus_ext_iter_init(&ia, a);
        bus_ext_iter_init(&ib, b);
        unsigned n = 0;
        for (;;) {
            bool more_a = bus_ext_iter_next(&ia, &ea), more_b = bus_ext_iter_next(&ib, &eb);
            if (more_a != more_b) return false;
            if (!more_a) break;
            if (ea.type != eb.type || ea.len != eb.len || memcmp(ea.payload, eb.payload, ea.len) ||
                !view_in_body(a, ea.payload, ea.len))
                return false;
            n++;
        }
        return n == x->ext_count;
    }
    case BUS_FAIL:
        return !memcmp(a->u.fail.name, b->u.fail.name, sizeof a->u.fail.name) &&
               a->u.fail.name_valid == b->u.fail.name_valid;
    case BUS_PUBLISH: case BUS_PUBLISHSHARD: {
        const __typeof__(a->u.publish) *x = &a->u.publish, *y = &b->u.publish;
        return x->channel_len == y->channel_len && x->message_len == y->message_len &&
               same_view(x->channel, y->channel, x->channel_len) && view_in_body(a, x->channel, x->channel_len) &&
               same_view(x->message, y->message, x->message_len) && view_in_body(a, x->message, x->message_len);
    }
    case BUS_UPDATE: {
        const __typeof__(a->u.update) *x = &a->u.update, *y = &b->u.update;
        return x->config_epoch == y->config_epoch && !memcmp(x->name, y->name, sizeof x->name) &&
               x->name_valid == y->name_valid && same_view(x->slots, y->slots, BUS_SLOT_BYTES) &&
               view_in_body(a, x->slots, BUS_SLOT_BYTES);
    }
    case BUS_MODULE: {
        const __typeof__(a->u.module) *x = &a->u.module, *y = &b->u.module;
        return x->module_id == y->module_id && x->type == y->type && x->len == y->len &&
               same_view(x->payload, y->payload, x->len) && view_in_body(a, x->payload, x->len);
    }
    default:
        return true;
    }
}

#endif

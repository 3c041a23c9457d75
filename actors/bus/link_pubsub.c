/* link_pubsub.c - what a bus link does with PUBLISH and PUBLISHSHARD frames
 * (docs/design.md §3.8): their bodies are read only while some client of
 * this node holds a subscription of that family, as 7.0.15 builds the
 * message only when it has subscribers; a frame read whole is handed to the
 * workers (actors/worker/pubsub.h) and then goes on as its header only.
 *
 * Must never: hold a body nobody here can receive, or deliver a frame from
 * a sender the node does not know (7.0.15 ignores those).
 */
#include "actors/bus/link_internal.h"
#include "actors/config/config.h"
#include "actors/state/state.h"
#include "actors/worker/pubsub.h"

uint32_t link_read_cap_payload(void)
{
    /* Accept every PUBLISH a 7.0.15 node can send (channel + message, each up
     * to proto-max-bulk-len). Memory still follows what arrives, not what a
     * header announces (proto/bus_stream.h). */
    long long m = config_proto_max_bulk_len();
    if (m <= 0) m = 512LL * 1024 * 1024;
    unsigned long long p = 2ULL * (unsigned long long)m;
    if (p > (unsigned long long)UINT32_MAX - BUS_HEADER_LEN - 64) p = (unsigned long long)UINT32_MAX - BUS_HEADER_LEN - 64;
    return (uint32_t)p;
}

void link_publish_keep(bus_stream_t *rx)
{
    bus_stream_keep_publish(rx, pubsub_node_has_subscribers(false), pubsub_node_has_subscribers(true));
}

void link_publish_in(rt_snap_reader_t *reader, const bus_stream_frame_t *f, bus_msg_t *m)
{
    bool known = true;
    if (reader) {
        const cluster_snapshot_t *s = rt_snap_read_begin(reader);
        const uint8_t *sender = bus_peek_sender(f->data, f->len);
        known = s && sender && cluster_snapshot_find(s, (const char *)sender) >= 0;
        rt_snap_read_end(reader);
    }
    if (known)
        pubsub_publish_from_bus(f->type == BUS_PUBLISHSHARD, m->u.publish.channel, m->u.publish.channel_len,
                             m->u.publish.message, m->u.publish.message_len);
    m->body = NULL;
    m->body_len = 0;
    m->u.publish.channel = m->u.publish.message = NULL;
}

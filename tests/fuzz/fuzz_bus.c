/* fuzz_bus.c - libFuzzer target for the cluster-bus codec (proto/bus.h).
 *
 * The input is treated as the byte stream of one bus link: it is cut into
 * frames by bus_frame_check and each frame is decoded; every accessor is
 * exercised on what decodes. A decoded frame of a known type is also rebuilt
 * with the encoders, and the rebuilt frame must decode and rebuild to the
 * very same bytes again (the encoders' output is a fixed point).
 *
 * Build: clang -std=c11 -D_GNU_SOURCE -g -O1 -I. -fsanitize=fuzzer,address,undefined \
 *          -o /tmp/fuzz_bus tests/fuzz/fuzz_bus.c proto/bus*.c
 * Must never keep state between inputs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/bus.h"

/* Rebuilds m with the builder of its type into a malloc'ed buffer; returns
 * its length (0 and *out NULL for types without a builder). */
static size_t rebuild(const bus_msg_t *m, uint8_t **out)
{
    const bus_header_t *h = &m->hdr;
    size_t cap, n = 0;
    *out = NULL;
    switch (h->type) {
    case BUS_PING: case BUS_PONG: case BUS_MEET: {
        bus_gossip_t *g = malloc(sizeof *g * (h->count ? h->count : 1));
        bus_ext_t *e = malloc(sizeof *e * (m->u.ping.ext_count ? m->u.ping.ext_count : 1));
        if (!g || !e) abort();
        for (unsigned i = 0; i < h->count; i++) {
            if (!bus_msg_gossip(m, i, &g[i])) abort();
        }
        size_t ne = 0;
        bus_ext_iter_t it;
        bus_ext_iter_init(&it, m);
        while (bus_ext_iter_next(&it, &e[ne])) ne++;
        if (ne != m->u.ping.ext_count) abort();
        cap = bus_ping_len(h->count, e, ne);
        if (cap && (*out = malloc(cap)))
            n = bus_build_ping(*out, cap, h, h->type, g, h->count, e, ne);
        free(g);
        free(e);
        break;
    }
    case BUS_FAIL:
        if ((*out = malloc(BUS_FAIL_LEN))) n = bus_build_fail(*out, BUS_FAIL_LEN, h, m->u.fail.name);
        break;
    case BUS_PUBLISH: case BUS_PUBLISHSHARD:
        cap = BUS_PUBLISH_MIN_LEN + (size_t)m->u.publish.channel_len + m->u.publish.message_len;
        if ((*out = malloc(cap)))
            n = bus_build_publish(*out, cap, h, h->type, m->u.publish.channel, m->u.publish.channel_len,
                                  m->u.publish.message, m->u.publish.message_len);
        break;
    case BUS_UPDATE:
        if ((*out = malloc(BUS_UPDATE_LEN)))
            n = bus_build_update(*out, BUS_UPDATE_LEN, h, m->u.update.config_epoch, m->u.update.name,
                                 m->u.update.slots);
        break;
    case BUS_FAILOVER_AUTH_REQUEST:
        if ((*out = malloc(BUS_HEADER_LEN))) n = bus_build_auth_request(*out, BUS_HEADER_LEN, h);
        break;
    case BUS_FAILOVER_AUTH_ACK:
        if ((*out = malloc(BUS_HEADER_LEN))) n = bus_build_auth_ack(*out, BUS_HEADER_LEN, h);
        break;
    case BUS_MFSTART:
        if ((*out = malloc(BUS_HEADER_LEN))) n = bus_build_mfstart(*out, BUS_HEADER_LEN, h);
        break;
    case BUS_MODULE:
        cap = BUS_MODULE_MIN_LEN + (size_t)m->u.module.len;
        if ((*out = malloc(cap)))
            n = bus_build_module(*out, cap, h, m->u.module.module_id, m->u.module.type,
                                 m->u.module.payload, m->u.module.len);
        break;
    default:
        break;
    }
    if (n == 0) { free(*out); *out = NULL; }
    return n;
}

static void exercise(const uint8_t *frame, size_t len)
{
    bus_msg_t m;
    int r = bus_decode(frame, len, &m);
    (void)bus_result_str(r);
    (void)bus_result_closes_link(r);
    if (r != BUS_OK) return;
    if (m.hdr.totlen > len || m.body + m.body_len != frame + m.hdr.totlen) abort();
    (void)bus_type_name(m.hdr.type);
    (void)bus_slot_count(m.hdr.myslots);

    bus_gossip_t g;
    unsigned valid = 0;
    for (unsigned i = 0; bus_msg_gossip(&m, i, &g); i++) valid += g.name_valid;
    bus_ext_iter_t it;
    bus_ext_t e;
    bus_ext_iter_init(&it, &m);
    while (bus_ext_iter_next(&it, &e)) {
        char name[BUS_NAME_LEN + 1];
        uint64_t ttl;
        if (e.payload < frame || e.payload + e.len > frame + m.hdr.totlen) abort();
        (void)bus_ext_forgotten(&e, name, &ttl);
    }
    if (bus_type_has_gossip(m.hdr.type) && m.u.ping.gossip_names_valid && valid != m.hdr.count) abort();

    uint8_t *first, *second;
    size_t n1 = rebuild(&m, &first);
    if (!first) return;
    bus_msg_t m2;
    if (bus_decode(first, n1, &m2) != BUS_OK) abort();
    size_t n2 = rebuild(&m2, &second);
    if (n2 != n1 || !second || memcmp(first, second, n1) != 0) abort();
    free(first);
    free(second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Vary the payload cap with the input so both sides of it are reached. */
    uint32_t max_payload = size > 0 && (data[size - 1] & 1) ? 64 : BUS_DEFAULT_MAX_PAYLOAD;
    size_t pos = 0;
    while (pos < size) {
        uint32_t flen;
        int r = bus_frame_check(data + pos, size - pos, max_payload, &flen);
        if (r != BUS_OK) break;  /* need more (end of input) or close the link */
        if (flen < BUS_HEADER_LEN || flen > size - pos) abort();
        exercise(data + pos, flen);
        pos += flen;
    }
    /* The decoder on its own must also be total on arbitrary bytes. */
    exercise(data, size);
    return 0;
}

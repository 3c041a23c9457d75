/* fuzz_link_stream.c - libFuzzer target for the link read path's frame
 * splitter (proto/bus_stream.h), the very code actors/bus/link.c runs on every
 * byte that comes off a bus socket.
 *
 * The input is one link's byte stream. It is split twice: once fed whole, and
 * once cut into pseudo-random chunks (1 byte to several KiB, sizes derived
 * from a hash of the input so every input replays the same way). Both runs
 * must yield the same frames (same bytes, type and decode result) and end the
 * same way (need more, or close with the same reason), which checks that the
 * gathering of cut frames is invisible. Every handed-out frame must have
 * passed the framer, and the gathering buffer must never exceed one frame.
 * Half the inputs run with bus_stream_skip_unused on: a frame handed out as
 * its head must be exactly bus_judge_len bytes long, and, where the whole
 * frame is in the input, judged exactly as bus_decode judges the whole.
 * Every valid frame is then kept apart from the stream as the link forwards
 * it (slot bitmap added, body copied, views moved onto the copy): it must
 * say exactly what bus_decode says of the frame.
 * The raw vectors of tests/vectors are good seeds (no prefix needed).
 *
 * Build: make build/fuzz/fuzz_link_stream
 * Must never keep state between inputs.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/bus.h"
#include "proto/bus_stream.h"
#include "tests/unit/bus_msg_same.h"

typedef struct seen {
    uint64_t hash;
    uint32_t len;
    uint16_t type;
    int result;
} seen_t;

typedef struct run {
    const uint8_t *base; /* the whole input (whole run only), to check heads against */
    size_t base_len, off;
    seen_t *frames;
    size_t n, cap;
    int end_status;      /* BUS_STREAM_MORE or BUS_STREAM_CLOSE */
    int end_result;
} run_t;

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static void record(run_t *r, const bus_stream_frame_t *f)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->frames = realloc(r->frames, r->cap * sizeof *r->frames);
        if (!r->frames) abort();
    }
    r->frames[r->n++] = (seen_t){ fnv(f->data, f->len), f->totlen, f->type, f->result };
}

/* What a link forwards of a valid frame f judged into msg: the message
 * completed and moved onto its own copy of the body. It must say what
 * bus_decode says of the frame, with every view inside the copy (none left
 * in the stream's or the chunk's bytes). */
static void check_kept_apart(const bus_stream_frame_t *f, const bus_msg_t *msg)
{
    uint8_t *body = malloc(msg->body_len ? msg->body_len : 1);
    bus_msg_t *kept = malloc(sizeof *kept), *ref = malloc(sizeof *ref);
    if (!body || !kept || !ref) abort();
    *kept = *msg;
    if (!bus_decode_slots(f->data, f->len, kept)) abort();
    if (msg->body) {
        memcpy(body, msg->body, msg->body_len);
        bus_msg_rebase(kept, msg->body, body);
    }
    if (!f->head_only) {
        if (bus_decode(f->data, f->len, ref) != BUS_OK) abort();
        if (kept->body != body || !bus_msg_same(kept, ref)) abort();
    } else {
        /* a head: its header only, no body views */
        if (bus_decode_head(f->data, f->len, ref) != BUS_OK || !bus_decode_slots(f->data, f->len, ref)) abort();
        if (kept->body || kept->body_len || !same_header(&kept->hdr, &ref->hdr)) abort();
    }
    free(body);
    free(kept);
    free(ref);
}

/* Drains the stream after a feed; returns false once it closed. */
static bool drain(bus_stream_t *s, run_t *r, bus_msg_t *msg)
{
    for (;;) {
        bus_stream_frame_t f;
        int st = bus_stream_next(s, &f, msg);
        if (st == BUS_STREAM_MORE) { r->end_status = st; return true; }
        if (st == BUS_STREAM_CLOSE) {
            if (!bus_result_closes_link(f.result) && f.result != BUS_STREAM_ERR_NOMEM) abort();
            r->end_status = st;
            r->end_result = f.result;
            /* sticky */
            if (bus_stream_next(s, &f, msg) != BUS_STREAM_CLOSE) abort();
            return false;
        }
        if (st != BUS_STREAM_FRAME) abort();
        uint32_t flen = 0;
        if (f.len < BUS_HEADER_LEN) abort();
        if (f.result == BUS_NEED_MORE || bus_result_closes_link(f.result)) abort();
        if (f.head_only) {
            /* only when skipping, exactly the head, and judged as the whole would be */
            if (!s->skip_unused || f.len >= f.totlen || f.len != bus_judge_len(f.type, f.totlen)) abort();
            if (memcmp(f.data, "RCmb", 4) != 0) abort();
            if (bus_frame_check(f.data, f.len, s->max_payload, &flen) == BUS_OK || flen != f.totlen) abort();
            if (r->base && r->base_len - r->off >= f.totlen) {
                if (memcmp(r->base + r->off, f.data, f.len) != 0) abort();
                bus_msg_t *whole = malloc(sizeof *whole);
                if (!whole) abort();
                if (bus_decode_noslots(r->base + r->off, f.totlen, whole) != f.result) abort();
                free(whole);
            }
        } else {
            /* what was handed out must pass the framer on its own */
            if (f.len != f.totlen) abort();
            if (bus_frame_check(f.data, f.len, s->max_payload, &flen) != BUS_OK || flen != f.len) abort();
        }
        if (f.result == BUS_OK && msg->hdr.totlen != f.totlen) abort();
        if (f.result == BUS_OK) check_kept_apart(&f, msg);
        r->off += f.totlen;
        /* the gathering buffer is never bigger than the frame it gathered,
         * or than what is kept between frames */
        size_t bound = f.len;
        if (bound < BUS_FULL_LEN) bound = BUS_FULL_LEN;
        if (bound < BUS_STREAM_KEEP_CAP) bound = BUS_STREAM_KEEP_CAP;
        if (bus_stream_allocated(s) > bound) abort();
        record(r, &f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t payload_caps[4] = { 0, 100, 65536, BUS_DEFAULT_MAX_PAYLOAD };
    uint64_t h = fnv(data, size);
    uint32_t max_payload = payload_caps[h & 3];
    bus_msg_t *msg = malloc(sizeof *msg);
    if (!msg) abort();

    bool skip = (h >> 2) & 1;
    run_t whole = { .base = data, .base_len = size }, cut = { 0 };
    bus_stream_t s;
    bus_stream_init(&s, max_payload);
    bus_stream_skip_unused(&s, skip);
    bus_stream_feed(&s, data, size);
    drain(&s, &whole, msg);
    bus_stream_free(&s);

    /* Chunks are copied to a fresh allocation each time, so ASan catches a
     * view that outlives its chunk or a read past its end. */
    uint64_t seed = h | 1;
    bus_stream_init(&s, max_payload);
    bus_stream_skip_unused(&s, skip);
    size_t pos = 0;
    bool open = true;
    while (open && pos < size) {
        uint64_t x = rng(&seed);
        size_t n;
        switch (x & 3) {
        case 0: n = 1 + (x >> 8) % 8; break;
        case 1: n = 1 + (x >> 8) % 64; break;
        case 2: n = 1 + (x >> 8) % 3000; break;
        default: n = 1 + (x >> 8) % 20000; break;
        }
        if (n > size - pos) n = size - pos;
        uint8_t *chunk = malloc(n);
        if (!chunk) abort();
        memcpy(chunk, data + pos, n);
        bus_stream_feed(&s, chunk, n);
        open = drain(&s, &cut, msg);
        free(chunk);
        pos += n;
    }
    if (size == 0) cut.end_status = BUS_STREAM_MORE;
    bus_stream_free(&s);

    if (whole.n != cut.n) abort();
    for (size_t i = 0; i < whole.n; i++)
        if (whole.frames[i].hash != cut.frames[i].hash || whole.frames[i].len != cut.frames[i].len ||
            whole.frames[i].type != cut.frames[i].type || whole.frames[i].result != cut.frames[i].result)
            abort();
    if (whole.end_status != cut.end_status || whole.end_result != cut.end_result) abort();

    free(whole.frames);
    free(cut.frames);
    free(msg);
    return 0;
}

/* bus_stream.h - the incremental frame splitter of a bus link's read path
 * (docs/cluster-bus.md §1.6): bytes go in as they come off the socket, in
 * chunks of any size; whole frames come out one at a time, each already
 * judged by bus_decode. It is the whole "what do these bytes mean" part of
 * actors/bus/link.c, kept here so that the fuzzer drives exactly the code the
 * link runs.
 *
 * Zero-copy when it can be: a frame that lies whole inside the chunk just fed
 * is handed out as a view into that chunk. Only a frame cut by a chunk
 * boundary is gathered into the stream's own buffer, and that buffer grows
 * only as bytes actually arrive (at most twice what is buffered), up to the
 * frame's totlen, which bus_frame_check has already capped by type. So a
 * peer that announces a huge frame and sends nothing makes us allocate
 * nothing, and no input makes us hold more than one capped frame.
 *
 * Skipping (bus_stream_skip_unused): a reader that has no use for the
 * bodies of PUBLISH, PUBLISHSHARD and MODULE frames (no pub/sub, no modules
 * yet) gets each such frame as its head only (bus_judge_len): the header and
 * the fields that give the body's length, judged as bus_decode judges the
 * whole frame. The body is then skipped as it streams in, never held, so a
 * peer's 1 GiB PUBLISH costs no memory. The same goes for the frames whose
 * head alone decides them: types 7.0.15 does not know, and fixed-size types
 * longer than their size (invalid whatever they hold: dropped, link kept, as
 * 7.0.15 does after reading them whole). With skipping on, those are never
 * refused for their size; PING/PONG/MEET keep their cap (bus.h).
 *
 * Pure: no I/O, no globals. Must never read outside the chunk it was fed or
 * hand out a frame that failed bus_frame_check (or, skipping, one whose head
 * failed it other than by its size).
 */
#ifndef SHOAL_PROTO_BUS_STREAM_H
#define SHOAL_PROTO_BUS_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proto/bus.h"

/* A gathering buffer of at most this capacity is kept after its frame has
 * been handed out (cut frames are common under load); a larger one is freed
 * so that an idle link holds little memory. */
#define BUS_STREAM_KEEP_CAP 8192

/* bus_stream_next results */
enum bus_stream_status {
    BUS_STREAM_MORE = 0,   /* the chunk is used up (a cut frame is kept): feed the next one */
    BUS_STREAM_FRAME,      /* *frame describes one whole frame */
    BUS_STREAM_CLOSE,      /* the stream is broken for good: close the link (frame->result says why) */
};

/* frame->result of a BUS_STREAM_CLOSE when the gathering buffer could not be
 * allocated (the other values are bus_result codes). */
#define BUS_STREAM_ERR_NOMEM 100

typedef struct bus_stream {
    uint32_t max_payload;    /* passed to bus_frame_check */
    bool skip_unused;        /* see bus_stream_skip_unused */
    bool keep_publish;       /* see bus_stream_keep_publish */
    bool keep_publishshard;
    bool accept_light;       /* see bus_stream_accept_light */
    int closed;              /* sticky: 0, or the result that broke the stream */
    uint32_t skip_left;      /* body bytes of the last frame handed out as a head, still to skip */
    uint64_t skipped_bytes;  /* body bytes skipped so far (statistics) */
    uint8_t *part;           /* owned: the start of a frame cut by a chunk boundary */
    size_t part_len, part_cap;
    int part_done;           /* the frame in part was handed out; drop it on the next call */
    const uint8_t *in;       /* the chunk being split (borrowed from the caller) */
    size_t in_len;
} bus_stream_t;

typedef struct bus_stream_frame {
    const uint8_t *data;     /* the whole frame (or its head, see head_only); valid until the
                              * next bus_stream_* call on this stream, and, when it points into
                              * the chunk, while the caller keeps that chunk */
    uint32_t len;            /* bytes at data: totlen, or the head's length */
    uint32_t totlen;         /* the frame's length on the wire */
    bool head_only;          /* data holds only the head; the body is being skipped */
    bool light;              /* a light frame (proto/bus_light.h), framed but not decoded:
                              * result is BUS_OK and msg untouched; the reader expands it */
    uint16_t type;           /* header type (any value, known or not) */
    int result;              /* FRAME: bus_decode's result (BUS_OK: deliver; other: drop
                              * the frame and keep the link). CLOSE: why. */
} bus_stream_frame_t;

void bus_stream_init(bus_stream_t *s, uint32_t max_payload);
/* Hand out PUBLISH/PUBLISHSHARD/MODULE (and the other frames a head decides,
 * see above) as heads and skip their bodies. Off after init. */
void bus_stream_skip_unused(bus_stream_t *s, bool on);
/* With skipping on: hand out PUBLISH (and/or PUBLISHSHARD) frames whole
 * after all, gathered and decoded as other frames (a reader with
 * subscribers to deliver them to). Takes effect between frames only: a
 * frame being gathered or skipped keeps the choice it started with. */
void bus_stream_keep_publish(bus_stream_t *s, bool publish, bool publishshard);
/* Also hand out frames that start with BUS_LIGHT_SIG (the light encoding
 * between shoal peers, docs/cluster-bus.md §9), framed by
 * bus_light_frame_check, as `light` frames. Off after init: such a frame is
 * then a bad signature, as for 7.0.15. */
void bus_stream_accept_light(bus_stream_t *s, bool on);
/* Frees the gathering buffer. The stream may be initialised again. */
void bus_stream_free(bus_stream_t *s);

/* Hands the stream the next chunk (borrowed: the caller keeps it alive and
 * unchanged until bus_stream_next returns BUS_STREAM_MORE or CLOSE). Call
 * only when the previous chunk is used up. */
void bus_stream_feed(bus_stream_t *s, const uint8_t *chunk, size_t len);

/* Splits off the next frame. On BUS_STREAM_FRAME, `frame` describes it and
 * `msg` holds its decoding when frame->result is BUS_OK (views into
 * frame->data; msg->hdr.myslots excepted: it is not copied, see
 * bus_decode_noslots). Returns BUS_STREAM_MORE once the chunk is used up. */
int bus_stream_next(bus_stream_t *s, bus_stream_frame_t *frame, bus_msg_t *msg);

/* Drops what of the current chunk belongs to the body of the last head
 * handed out; true once that body is wholly skipped (or none was pending).
 * bus_stream_next does this itself; a reader that acts on a head only once
 * its frame has ended (as 7.0.15 acts on a frame only once it is read whole)
 * calls it first to learn when that is. */
bool bus_stream_skip_body(bus_stream_t *s);

/* Bytes of a cut frame held between chunks (for memory accounting). */
static inline size_t bus_stream_buffered(const bus_stream_t *s) { return s->part_done ? 0 : s->part_len; }
static inline size_t bus_stream_allocated(const bus_stream_t *s) { return s->part_cap; }

#endif

/* bus_stream.c - incremental frame splitter for the bus read path (see
 * bus_stream.h). Pure: no I/O, no globals; the only allocation is the
 * gathering buffer for a frame cut by a chunk boundary, bounded by that
 * frame's capped totlen (or by its head, when its body is skipped).
 */
#include <stdlib.h>
#include <string.h>

#include "proto/bus_light.h"
#include "proto/bus_stream.h"

/* The framer can judge a frame's cap once it sees the type at offset 12. */
#define STREAM_HEAD 16
/* Smallest gathering buffer: a whole UPDATE, the largest fixed-size frame. */
#define STREAM_MIN_CAP BUS_FULL_LEN

void bus_stream_init(bus_stream_t *s, uint32_t max_payload)
{
    memset(s, 0, sizeof *s);
    s->max_payload = max_payload;
}

void bus_stream_skip_unused(bus_stream_t *s, bool on)
{
    s->skip_unused = on;
}

void bus_stream_keep_publish(bus_stream_t *s, bool publish, bool publishshard)
{
    /* mid-frame (a cut frame held, or a body being skipped) the choice made
     * at its head stands */
    if ((s->part_len && !s->part_done) || s->skip_left) return;
    s->keep_publish = publish;
    s->keep_publishshard = publishshard;
}

void bus_stream_accept_light(bus_stream_t *s, bool on)
{
    s->accept_light = on;
}

static bool is_light(const bus_stream_t *s, const uint8_t *p, size_t len)
{
    return s->accept_light && len >= 4 && memcmp(p, BUS_LIGHT_SIG, 4) == 0;
}

/* bus_frame_check, or its light counterpart for a light frame (whose results
 * map onto the same codes: need more, ok, or close). */
static int frame_check(const bus_stream_t *s, const uint8_t *p, size_t len, uint32_t *flen)
{
    if (!is_light(s, p, len)) return bus_frame_check(p, len, s->max_payload, flen);
    int r = bus_light_frame_check(p, len, flen);
    if (r == BUS_LIGHT_OK) return BUS_OK;
    if (r == BUS_LIGHT_NEED_MORE) return BUS_NEED_MORE;
    return r == BUS_LIGHT_ERR_TOO_BIG ? BUS_ERR_TOO_BIG : BUS_ERR_SHORT;
}

void bus_stream_free(bus_stream_t *s)
{
    free(s->part);
    s->part = NULL;
    s->part_len = s->part_cap = 0;
    s->part_done = 0;
    s->skip_left = 0;
    s->in = NULL;
    s->in_len = 0;
}

void bus_stream_feed(bus_stream_t *s, const uint8_t *chunk, size_t len)
{
    s->in = chunk;
    s->in_len = len;
}

static uint16_t frame_type(const uint8_t *p)
{
    return (uint16_t)((p[12] << 8) | p[13]);
}

static int deliver(const bus_stream_t *s, const uint8_t *p, uint32_t len, bus_stream_frame_t *f, bus_msg_t *msg)
{
    f->data = p;
    f->len = len;
    f->totlen = len;
    f->head_only = false;
    f->light = is_light(s, p, len);
    if (f->light) {
        /* framed only: the reader expands it with its link's dictionaries */
        f->type = (uint16_t)bus_light_type(p);
        f->result = BUS_OK;
        return BUS_STREAM_FRAME;
    }
    f->type = frame_type(p);
    f->result = bus_decode_noslots(p, len, msg);   /* judged only: the slot bitmap is not copied */
    return BUS_STREAM_FRAME;
}

/* Hands out the head of a frame whose remaining totlen - head bytes are to
 * be skipped; p holds at least the head. */
static int deliver_head(bus_stream_t *s, const uint8_t *p, uint32_t head, uint32_t totlen,
                        bus_stream_frame_t *f, bus_msg_t *msg)
{
    f->data = p;
    f->len = head;
    f->totlen = totlen;
    f->head_only = true;
    f->light = false;
    f->type = frame_type(p);
    f->result = bus_decode_head(p, head, msg);
    s->skip_left = totlen - head;
    s->skipped_bytes += totlen - head;
    return BUS_STREAM_FRAME;
}

static int fail(bus_stream_t *s, bus_stream_frame_t *f, int result)
{
    s->closed = result;
    f->data = NULL;
    f->len = f->totlen = 0;
    f->head_only = false;
    f->light = false;
    f->type = 0;
    f->result = result;
    return BUS_STREAM_CLOSE;
}

/* Skipping: the head length of the frame starting at p (len bytes of it
 * known) when its head decides it, else 0. Needs the type, so 16 bytes; the
 * framer's verdict r must be no worse than "too big for its type", which a
 * skipped frame cannot be, since none of it is held. */
static uint32_t skip_head(const bus_stream_t *s, const uint8_t *p, size_t len, int r, uint32_t totlen)
{
    if (!s->skip_unused || len < STREAM_HEAD || is_light(s, p, len)) return 0;
    if (r != BUS_OK && r != BUS_NEED_MORE && r != BUS_ERR_TOO_BIG) return 0;
    unsigned type = frame_type(p);
    if ((type == BUS_PUBLISH && s->keep_publish) || (type == BUS_PUBLISHSHARD && s->keep_publishshard)) return 0;
    return bus_judge_len(type, totlen);
}

/* Makes room for `need` bytes in part. Grows geometrically, but never past
 * `limit` (the frame's totlen once known), so the buffer stays within twice
 * what the peer actually sent and within one capped frame. */
static int part_reserve(bus_stream_t *s, size_t need, size_t limit)
{
    if (need <= s->part_cap) return 0;
    size_t cap = s->part_cap * 2;
    if (cap < STREAM_MIN_CAP) cap = STREAM_MIN_CAP;
    if (cap < need) cap = need;
    if (limit && cap > limit) cap = limit < need ? need : limit;
    uint8_t *p = realloc(s->part, cap);
    if (!p) return -1;
    s->part = p;
    s->part_cap = cap;
    return 0;
}

/* Continues gathering a cut frame (or a cut head) from the current chunk. */
static int next_from_part(bus_stream_t *s, bus_stream_frame_t *f, bus_msg_t *msg)
{
    for (;;) {
        uint32_t flen = 0;
        int r = frame_check(s, s->part, s->part_len, &flen);
        uint32_t head = skip_head(s, s->part, s->part_len, r, flen);
        if (head && s->part_len >= head) {
            s->part_done = 1;
            return deliver_head(s, s->part, head, flen, f, msg);
        }
        if (r == BUS_OK && !head) {
            s->part_done = 1;
            return deliver(s, s->part, flen, f, msg);
        }
        if (r != BUS_NEED_MORE && !head) return fail(s, f, r);
        /* First complete the 16 bytes the framer needs to judge the cap;
         * only then trust totlen enough to gather up to it (or up to the
         * head, when the rest is to be skipped). */
        size_t target = head ? head : flen;
        size_t want = s->part_len < STREAM_HEAD ? STREAM_HEAD - s->part_len : target - s->part_len;
        size_t take = want < s->in_len ? want : s->in_len;
        if (take == 0) return BUS_STREAM_MORE;
        size_t limit = s->part_len < STREAM_HEAD ? 0 : target;
        if (part_reserve(s, s->part_len + take, limit) != 0) return fail(s, f, BUS_STREAM_ERR_NOMEM);
        memcpy(s->part + s->part_len, s->in, take);
        s->part_len += take;
        s->in += take;
        s->in_len -= take;
    }
}

bool bus_stream_skip_body(bus_stream_t *s)
{
    if (s->closed || !s->skip_left) return true;
    /* the body of the last head handed out: drop it as it arrives */
    size_t take = s->skip_left < s->in_len ? s->skip_left : s->in_len;
    s->in += take;
    s->in_len -= take;
    s->skip_left -= (uint32_t)take;
    return s->skip_left == 0;
}

int bus_stream_next(bus_stream_t *s, bus_stream_frame_t *f, bus_msg_t *msg)
{
    if (s->closed) return fail(s, f, s->closed);
    if (s->part_done) {
        s->part_done = 0;
        s->part_len = 0;
        if (s->part_cap > BUS_STREAM_KEEP_CAP) {
            free(s->part);
            s->part = NULL;
            s->part_cap = 0;
        }
    }
    if (!bus_stream_skip_body(s)) return BUS_STREAM_MORE;
    if (s->part_len > 0) return next_from_part(s, f, msg);
    if (s->in_len == 0) return BUS_STREAM_MORE;

    uint32_t flen = 0;
    int r = frame_check(s, s->in, s->in_len, &flen);
    uint32_t head = skip_head(s, s->in, s->in_len, r, flen);
    if (head && s->in_len >= head) {
        /* the head is in this chunk: hand it out as a view; the body that
         * follows it is skipped from the next call on */
        const uint8_t *p = s->in;
        s->in += head;
        s->in_len -= head;
        return deliver_head(s, p, head, flen, f, msg);
    }
    if (r == BUS_OK && !head) {
        const uint8_t *p = s->in;
        s->in += flen;
        s->in_len -= flen;
        return deliver(s, p, flen, f, msg);
    }
    if (r != BUS_NEED_MORE && !head) return fail(s, f, r);
    /* A cut frame or head: keep what we have (less than its capped totlen,
     * its head, or 16 bytes) and wait for the rest. */
    return next_from_part(s, f, msg);
}

/* intset.c - sorted integer sets (see intset.h).
 *
 * Members are found by binary search; adding a member that needs a wider
 * encoding rewrites every member at the new width, as Redis does, so the
 * bytes equal Redis's for the same members. Must never read outside the
 * block: is_validate checks untrusted payloads before anything else reads them.
 */
#include <stdlib.h>
#include <string.h>
#include "proto/intset.h"

static uint32_t rd_u32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr_u32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }

static void *is_alloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) abort();            /* out of memory is fatal, as everywhere in shoal */
    return q;
}

static unsigned enc_of(const uint8_t *is) { return rd_u32(is); }
size_t is_len(const uint8_t *is) { return rd_u32(is + 4); }
size_t is_bytes(const uint8_t *is) { return IS_HDR_SIZE + is_len(is) * enc_of(is); }

static unsigned width_for(int64_t v)
{
    if (v < INT32_MIN || v > INT32_MAX) return 8;
    if (v < INT16_MIN || v > INT16_MAX) return 4;
    return 2;
}

static int64_t get_w(const uint8_t *is, unsigned w, size_t i)
{
    const uint8_t *p = is + IS_HDR_SIZE + i * w;
    uint64_t u = 0;
    for (unsigned k = 0; k < w; k++) u |= (uint64_t)p[k] << (8 * k);
    if (w == 2) return (int16_t)u;
    if (w == 4) return (int32_t)u;
    return (int64_t)u;
}

static void set_w(uint8_t *is, unsigned w, size_t i, int64_t v)
{
    uint8_t *p = is + IS_HDR_SIZE + i * w;
    uint64_t u = (uint64_t)v;
    for (unsigned k = 0; k < w; k++) p[k] = (uint8_t)(u >> (8 * k));
}

uint8_t *is_new(void)
{
    uint8_t *is = is_alloc(NULL, IS_HDR_SIZE);
    wr_u32(is, 2);
    wr_u32(is + 4, 0);
    return is;
}

int64_t is_get(const uint8_t *is, size_t i) { return get_w(is, enc_of(is), i); }

bool is_find(const uint8_t *is, int64_t v, size_t *pos)
{
    size_t lo = 0, hi = is_len(is);
    unsigned w = enc_of(is);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t m = get_w(is, w, mid);
        if (m == v) { if (pos) *pos = mid; return true; }
        if (m < v) lo = mid + 1; else hi = mid;
    }
    if (pos) *pos = lo;
    return false;
}

/* Rewrites every member at width w (> the current one) and appends or
 * prepends v, which is outside the old range because it did not fit. */
static uint8_t *upgrade_add(uint8_t *is, unsigned w, int64_t v)
{
    unsigned old = enc_of(is);
    size_t n = is_len(is);
    is = is_alloc(is, IS_HDR_SIZE + (n + 1) * w);
    bool front = v < 0;
    for (size_t i = n; i-- > 0;) set_w(is, w, i + front, get_w(is, old, i));
    set_w(is, w, front ? 0 : n, v);
    wr_u32(is, w);
    wr_u32(is + 4, (uint32_t)(n + 1));
    return is;
}

uint8_t *is_add(uint8_t *is, int64_t v, bool *added)
{
    unsigned w = enc_of(is);
    if (width_for(v) > w) {
        if (added) *added = true;
        return upgrade_add(is, width_for(v), v);
    }
    size_t pos;
    if (is_find(is, v, &pos)) {
        if (added) *added = false;
        return is;
    }
    size_t n = is_len(is);
    is = is_alloc(is, IS_HDR_SIZE + (n + 1) * w);
    memmove(is + IS_HDR_SIZE + (pos + 1) * w, is + IS_HDR_SIZE + pos * w, (n - pos) * w);
    set_w(is, w, pos, v);
    wr_u32(is + 4, (uint32_t)(n + 1));
    if (added) *added = true;
    return is;
}

uint8_t *is_remove_at(uint8_t *is, size_t pos)
{
    unsigned w = enc_of(is);
    size_t n = is_len(is);
    memmove(is + IS_HDR_SIZE + pos * w, is + IS_HDR_SIZE + (pos + 1) * w, (n - pos - 1) * w);
    wr_u32(is + 4, (uint32_t)(n - 1));
    return is_alloc(is, IS_HDR_SIZE + (n - 1) * w);
}

uint8_t *is_remove(uint8_t *is, int64_t v, bool *removed)
{
    size_t pos;
    bool found = width_for(v) <= enc_of(is) && is_find(is, v, &pos);
    if (removed) *removed = found;
    return found ? is_remove_at(is, pos) : is;
}

bool is_validate(const uint8_t *buf, size_t len)
{
    if (len < IS_HDR_SIZE) return false;
    uint32_t w = rd_u32(buf), n = rd_u32(buf + 4);
    if (w != 2 && w != 4 && w != 8) return false;
    if ((uint64_t)n * w + IS_HDR_SIZE != len || n == 0) return false;   /* Redis refuses an empty one */
    for (uint32_t i = 1; i < n; i++)
        if (get_w(buf, w, i - 1) >= get_w(buf, w, i)) return false;
    return true;
}

uint8_t *is_dup(const uint8_t *buf, size_t len)
{
    uint8_t *is = is_alloc(NULL, len ? len : 1);
    memcpy(is, buf, len);
    return is;
}

/* ziplist.c - read-only ziplist and zipmap decoding (see ziplist.h).
 *
 * Must never read outside the block: zl_validate and zm_validate look at
 * every byte through bounds checks before the iterators are used on it.
 */
#include <string.h>
#include "proto/ziplist.h"

static uint32_t rd_u32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* Size of the prevlen field at p (needs 1 readable byte). */
static size_t prevlen_size(const uint8_t *p) { return p[0] < 0xFE ? 1 : 5; }

/* Header and data sizes of the encoding starting at p, with avail bytes
 * readable there. Returns false for an unknown encoding or a short header. */
static bool enc_sizes(const uint8_t *p, size_t avail, size_t *hdr, size_t *data)
{
    if (avail < 1) return false;
    uint8_t b = p[0];
    switch (b >> 6) {
    case 0: *hdr = 1; *data = b & 0x3F; return true;
    case 1: if (avail < 2) return false; *hdr = 2; *data = (size_t)(b & 0x3F) << 8 | p[1]; return true;
    case 2:
        if (b != 0x80 || avail < 5) return false;
        *hdr = 5;
        *data = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
        return true;
    default: break;
    }
    *hdr = 1;
    switch (b) {
    case 0xC0: *data = 2; return true;
    case 0xD0: *data = 4; return true;
    case 0xE0: *data = 8; return true;
    case 0xF0: *data = 3; return true;
    case 0xFE: *data = 1; return true;
    default:
        if (b >= 0xF1 && b <= 0xFD) { *data = 0; return true; }
        return false;
    }
}

static size_t entry_size(const uint8_t *zl, size_t off)
{
    size_t pl = prevlen_size(zl + off), hdr = 0, data = 0;
    enc_sizes(zl + off + pl, 5, &hdr, &data);
    return pl + hdr + data;
}

bool zl_validate(const uint8_t *buf, size_t len, size_t *count)
{
    if (len < ZL_HDR_SIZE + 1 || rd_u32(buf) != len || buf[len - 1] != 0xFF) return false;
    size_t tail = rd_u32(buf + 4), off = ZL_HDR_SIZE, prev = 0, last = ZL_HDR_SIZE, n = 0;
    while (off < len - 1) {
        const uint8_t *p = buf + off;
        size_t room = len - 1 - off, pl = p[0] < 0xFE ? 1 : 5, hdr, data, plv;
        if (p[0] == 0xFF || pl > room) return false;
        plv = pl == 1 ? p[0] : rd_u32(p + 1);
        if (plv != prev) return false;
        if (!enc_sizes(p + pl, room - pl, &hdr, &data) || data > room - pl - hdr) return false;
        prev = pl + hdr + data;
        last = off;
        off += prev;
        n++;
    }
    if (tail != last) return false;
    unsigned hdrcount = (unsigned)buf[8] | (unsigned)buf[9] << 8;
    if (hdrcount != 0xFFFF && hdrcount != n) return false;
    if (count) *count = n;
    return true;
}

size_t zl_next(const uint8_t *zl, size_t off) { return off + entry_size(zl, off); }

lp_val_t zl_get(const uint8_t *zl, size_t off)
{
    const uint8_t *p = zl + off + prevlen_size(zl + off);
    size_t hdr = 0, data = 0;
    enc_sizes(p, 5, &hdr, &data);
    uint8_t b = p[0];
    if (b < 0xC0) return lp_str(p + hdr, data);
    const uint8_t *d = p + 1;
    uint64_t u = 0;
    for (size_t i = 0; i < data; i++) u |= (uint64_t)d[i] << (8 * i);
    switch (b) {
    case 0xC0: return lp_int((int16_t)u);
    case 0xD0: return lp_int((int32_t)u);
    case 0xE0: return lp_int((long long)u);
    case 0xF0: return lp_int(((int32_t)(uint32_t)(u << 8)) >> 8);
    case 0xFE: return lp_int((int8_t)u);
    default: return lp_int((b & 0x0F) - 1);
    }
}

/* ---- zipmap ---- */

/* A zipmap length at zm[*off] (avail bytes up to the end); false if short or the end marker. */
static bool zm_len(const uint8_t *zm, size_t len, size_t *off, size_t *out)
{
    if (*off >= len || zm[*off] == 0xFF) return false;
    if (zm[*off] < 254) { *out = zm[(*off)++]; return true; }
    if (len - *off < 5) return false;
    *out = rd_u32(zm + *off + 1);
    *off += 5;
    return true;
}

bool zm_validate(const uint8_t *buf, size_t len, size_t *pairs)
{
    if (len < 2 || buf[len - 1] != 0xFF) return false;
    size_t off = 1, n = 0, l;
    while (off < len - 1) {
        if (!zm_len(buf, len - 1, &off, &l) || l > len - 1 - off) return false;
        off += l;
        if (!zm_len(buf, len - 1, &off, &l) || off >= len - 1) return false;
        size_t free_bytes = buf[off++];
        if (l > len - 1 - off || free_bytes > len - 1 - off - l) return false;
        off += l + free_bytes;
        n++;
    }
    if (off != len - 1) return false;
    if (buf[0] < 254 && buf[0] != n) return false;
    if (pairs) *pairs = n;
    return true;
}

bool zm_next(const uint8_t *zm, size_t *off, lp_val_t *key, lp_val_t *value)
{
    size_t l;
    if (zm[*off] == 0xFF) return false;
    zm_len(zm, SIZE_MAX, off, &l);
    *key = lp_str(zm + *off, l);
    *off += l;
    zm_len(zm, SIZE_MAX, off, &l);
    size_t free_bytes = zm[(*off)++];
    *value = lp_str(zm + *off, l);
    *off += l + free_bytes;
    return true;
}

/* fuzz_listpack.c - libFuzzer target for the compact encodings read from
 * RDB payloads (proto/listpack.c, proto/intset.c, proto/ziplist.c): each
 * validator must give a verdict on any bytes without reading past them, and
 * a block it accepts must be walkable end to end (every entry decoded, the
 * walk ending at the end marker after exactly the counted entries) and,
 * for a listpack, survive an edit. Must never touch anything outside the
 * input bytes (a copy of exactly that size is what the validators see). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/intset.h"
#include "proto/listpack.h"
#include "proto/ziplist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    size_t count = 0, n = 0;
    if (lp_validate(buf, size, &count)) {
        for (size_t off = lp_first(buf); !lp_at_end(buf, off); off = lp_next(buf, off), n++) {
            lp_val_t v = lp_get(buf, off);
            if (v.s && (v.s < buf || v.s + v.len > buf + size)) abort();
        }
        if (n != count) abort();
        uint8_t *lp = lp_dup(buf, size);
        lp = lp_append(lp, lp_str("fuzz", 4));
        if (count) lp = lp_delete(lp, lp_first(lp), 1);
        if (!lp_validate(lp, lp_bytes(lp), NULL)) abort();
        free(lp);
    }
    n = 0;
    if (zl_validate(buf, size, &count)) {
        for (size_t off = zl_first(buf); !zl_at_end(buf, off); off = zl_next(buf, off), n++) (void)zl_get(buf, off);
        if (n != count) abort();
    }
    n = 0;
    if (zm_validate(buf, size, &count)) {
        size_t off = 1;
        lp_val_t k, v;
        while (zm_next(buf, &off, &k, &v)) n++;
        if (n != count) abort();
    }
    if (is_validate(buf, size)) {
        for (size_t i = 1; i < is_len(buf); i++) if (is_get(buf, i - 1) >= is_get(buf, i)) abort();
    }
    free(buf);
    return 0;
}

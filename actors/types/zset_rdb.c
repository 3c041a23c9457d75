/* zset_rdb.c - loading sorted sets from RDB values (see zset.h): ZSET
 * (scores as short texts), ZSET_2 (binary doubles), ZSET_ZIPLIST and
 * ZSET_LISTPACK, with 7.0.15's checks (NaN scores and duplicate members are
 * corrupt) and its choice of encoding after the load.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "actors/types/types.h"
#include "actors/types/zset.h"
#include "proto/listpack.h"
#include "proto/rdb.h"
#include "proto/ziplist.h"
#include "runtime/xmalloc.h"

/* A ZSET score: one length byte (253 nan, 254 inf, 255 -inf) and text. */
static bool read_text_double(const uint8_t *val, size_t len, size_t *pos, double *out)
{
    if (*pos >= len) return false;
    uint8_t n = val[(*pos)++];
    if (n == 253) { *out = NAN; return true; }
    if (n == 254) { *out = INFINITY; return true; }
    if (n == 255) { *out = -INFINITY; return true; }
    if (len - *pos < n) return false;
    char buf[256];
    memcpy(buf, val + *pos, n);
    buf[n] = 0;
    *pos += n;
    return sscanf(buf, "%lg", out) == 1;
}

static int load_plain(unsigned t, const uint8_t *val, size_t len, zset_t **out)
{
    size_t pos = 0, maxlen = 0;
    uint64_t n;
    if (rdb_read_length(val, len, &pos, &n, NULL)) return TYPES_LOAD_CORRUPT;
    if (n == 0) return pos == len ? TYPES_LOAD_EMPTY : TYPES_LOAD_CORRUPT;
    zset_t *z = zset_new_enc(ZSET_SKIPLIST);
    rdb_strbuf_t sb = {0};
    int rc = TYPES_LOAD_OK;
    for (uint64_t i = 0; i < n && rc == TYPES_LOAD_OK; i++) {
        const uint8_t *m;
        size_t ml;
        double s;
        if (rdb_read_string(val, len, &pos, 0 - 1ull, &sb, &m, &ml, NULL)) { rc = TYPES_LOAD_CORRUPT; break; }
        if (t == RDB_TYPE_ZSET_2) {
            if (len - pos < 8) { rc = TYPES_LOAD_CORRUPT; break; }
            uint64_t bits = 0;
            for (int k = 7; k >= 0; k--) bits = bits << 8 | val[pos + (size_t)k];
            memcpy(&s, &bits, sizeof s);
            pos += 8;
        } else if (!read_text_double(val, len, &pos, &s)) {
            rc = TYPES_LOAD_CORRUPT;
            break;
        }
        if (isnan(s) || sd_find(z->d, m, ml)) { rc = TYPES_LOAD_CORRUPT; break; }
        if (ml > maxlen) maxlen = ml;
        int o;
        zset_add(z, s, m, ml, 0, &o, NULL);
    }
    rdb_strbuf_free(&sb);
    if (rc == TYPES_LOAD_OK && pos != len) rc = TYPES_LOAD_CORRUPT;
    if (rc != TYPES_LOAD_OK) { zset_ops.free_value(z); return rc; }
    zset_maybe_listpack(z, maxlen);
    *out = z;
    return TYPES_LOAD_OK;
}

/* Pairs validation of a listpack: even count, no duplicate member. */
static bool pairs_ok(const uint8_t *lp)
{
    size_t n = lp_count(lp);
    if (n % 2) return false;
    sdict_t *seen = sd_new(n / 2);
    bool ok = true;
    for (size_t off = lp_first(lp); !lp_at_end(lp, off) && ok;) {
        uint8_t buf[21];
        size_t ml;
        lp_val_t v = lp_get(lp, off);
        const uint8_t *m = lp_val_bytes(&v, buf, &ml);
        bool added;
        sd_add(seen, m, ml, &added);
        ok = added;
        off = lp_next(lp, lp_next(lp, off));
    }
    sd_free(seen, NULL);
    return ok;
}

static int load_blob(unsigned t, const uint8_t *blob, size_t bl, zset_t **out)
{
    size_t count = 0;
    uint8_t *lp;
    if (t == RDB_TYPE_ZSET_ZIPLIST) {
        if (!zl_validate(blob, bl, &count)) return TYPES_LOAD_CORRUPT;
        lp = lp_new();
        for (size_t off = zl_first(blob); !zl_at_end(blob, off); off = zl_next(blob, off))
            lp = lp_append(lp, zl_get(blob, off));
    } else {
        if (!lp_validate(blob, bl, &count)) return TYPES_LOAD_CORRUPT;
        lp = lp_dup(blob, bl);
    }
    if (!pairs_ok(lp)) { free(lp); return TYPES_LOAD_CORRUPT; }
    if (lp_count(lp) == 0) { free(lp); return TYPES_LOAD_EMPTY; }
    zset_t *z = zset_new_enc(ZSET_LISTPACK);
    free(z->lp);
    z->lp = lp;
    if ((long long)zset_len(z) > types_limit(TL_ZSET_MAX_LISTPACK_ENTRIES)) zset_to_skiplist(z);
    *out = z;
    return TYPES_LOAD_OK;
}

int zset_rdb_load(unsigned t, const uint8_t *val, size_t len, zset_t **out)
{
    if (t == RDB_TYPE_ZSET || t == RDB_TYPE_ZSET_2) return load_plain(t, val, len, out);
    size_t pos = 0;
    const uint8_t *blob;
    size_t bl;
    rdb_strbuf_t sb = {0};
    int rc;
    if (rdb_read_string(val, len, &pos, 0 - 1ull, &sb, &blob, &bl, NULL) || pos != len) rc = TYPES_LOAD_CORRUPT;
    else rc = load_blob(t, blob, bl, out);
    rdb_strbuf_free(&sb);
    return rc;
}

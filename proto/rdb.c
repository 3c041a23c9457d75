/* rdb.c - the parts of the RDB codec that decoder, encoder and RESTORE
 * share: names of results and value types, the length and string readers
 * (raw, int8/16/32, LZF via liblzf), the canonical-integer test Redis uses
 * to pick integer encodings, and RESTORE payload parsing.
 *
 * Pure: no I/O, no globals beyond constant tables. The readers must never
 * read past the length they are given and never allocate more than the
 * max_string bound (LZF output is also capped by what its input can expand
 * to, so a few bytes cannot claim half a gigabyte).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <liblzf/lzf.h>
#include "proto/crc64.h"
#include "proto/rdb.h"

/* One LZF input byte yields at most this many output bytes: the longest
 * back-reference is 3 bytes long and copies 7 + 255 + 2 = 264 bytes. */
#define LZF_MAX_EXPANSION 88

const char *rdb_result_name(int rc)
{
    switch (rc) {
    case RDB_OK: return "ok";
    case RDB_ERR_MAGIC: return "bad magic";
    case RDB_ERR_VERSION: return "unsupported version";
    case RDB_ERR_TRUNCATED: return "truncated";
    case RDB_ERR_CHECKSUM: return "checksum mismatch";
    case RDB_ERR_TYPE: return "unsupported type";
    case RDB_ERR_OPCODE: return "unsupported opcode";
    case RDB_ERR_TOO_BIG: return "string too long";
    case RDB_ERR_CORRUPT: return "corrupt";
    case RDB_ERR_NOMEM: return "out of memory";
    case RDB_ERR_CALLBACK: return "stopped by callback";
    default: return "unknown";
    }
}

const char *rdb_type_name(unsigned t)
{
    /* Redis's RDB_TYPE_* numbers up to 7.2; 8 was never used. */
    static const char *const names[] = {
        "string", "list", "set", "zset", "hash", "zset2", "module (pre-release)", "module2", NULL,
        "hash zipmap", "list ziplist", "set intset", "zset ziplist", "hash ziplist", "list quicklist",
        "stream listpacks", "hash listpack", "zset listpack", "list quicklist2", "stream listpacks2",
        "set listpack", "stream listpacks3",
    };
    return t < sizeof names / sizeof names[0] ? names[t] : NULL;
}

/* A length, or (is_enc set) the special string encoding of a 11xxxxxx byte. */
static int read_len_or_enc(const uint8_t *buf, size_t len, size_t *pos, uint64_t *value, int *is_enc,
                           size_t *need)
{
    size_t p = *pos;
    if (p >= len) { if (need) *need = p + 1; return RDB_ERR_TRUNCATED; }
    uint8_t b = buf[p];
    *is_enc = 0;
    switch (b >> 6) {
    case 0:
        *value = b & 0x3f;
        *pos = p + 1;
        return RDB_OK;
    case 1:
        if (len - p < 2) { if (need) *need = p + 2; return RDB_ERR_TRUNCATED; }
        *value = (uint64_t)(b & 0x3f) << 8 | buf[p + 1];
        *pos = p + 2;
        return RDB_OK;
    case 2: {
        /* 0x80: 32-bit, 0x81: 64-bit, both big-endian; 0x82..0xBF mean nothing. */
        size_t n = b == 0x80 ? 4 : b == 0x81 ? 8 : 0;
        if (!n) return RDB_ERR_CORRUPT;
        if (len - p < 1 + n) { if (need) *need = p + 1 + n; return RDB_ERR_TRUNCATED; }
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++) v = v << 8 | buf[p + 1 + i];
        *value = v;
        *pos = p + 1 + n;
        return RDB_OK;
    }
    default:
        *is_enc = 1;
        *value = b & 0x3f;
        *pos = p + 1;
        return RDB_OK;
    }
}

int rdb_read_length(const uint8_t *buf, size_t len, size_t *pos, uint64_t *value, size_t *need)
{
    int is_enc;
    size_t p = *pos;
    int rc = read_len_or_enc(buf, len, &p, value, &is_enc, need);
    if (rc != RDB_OK) return rc;
    if (is_enc) return RDB_ERR_CORRUPT;
    *pos = p;
    return RDB_OK;
}

void rdb_strbuf_free(rdb_strbuf_t *sb)
{
    free(sb->heap);
    sb->heap = NULL;
    sb->cap = 0;
}

static int strbuf_reserve(rdb_strbuf_t *sb, size_t n)
{
    if (sb->cap >= n) return RDB_OK;
    /* No copy of the old contents is needed: the buffer is output only. */
    uint8_t *p = malloc(n ? n : 1);
    if (!p) return RDB_ERR_NOMEM;
    free(sb->heap);
    sb->heap = p;
    sb->cap = n;
    return RDB_OK;
}

/* An int-encoded string: its decimal text into sb->num. */
static void format_int(rdb_strbuf_t *sb, long v, const uint8_t **out, size_t *out_len)
{
    int n = snprintf((char *)sb->num, sizeof sb->num, "%ld", v);
    *out = sb->num;
    *out_len = (size_t)n;
}

int rdb_read_string(const uint8_t *buf, size_t len, size_t *pos, uint64_t max_string, rdb_strbuf_t *sb,
                    const uint8_t **out, size_t *out_len, size_t *need)
{
    size_t p = *pos;
    uint64_t v;
    int is_enc;
    int rc = read_len_or_enc(buf, len, &p, &v, &is_enc, need);
    if (rc != RDB_OK) return rc;

    if (!is_enc) {
        if (v > max_string) return RDB_ERR_TOO_BIG;
        if (len - p < v) { if (need) *need = p + (size_t)v; return RDB_ERR_TRUNCATED; }
        if (out) { *out = buf + p; *out_len = (size_t)v; }
        *pos = p + (size_t)v;
        return RDB_OK;
    }

    size_t width;
    switch (v) {
    case RDB_ENC_INT8: width = 1; break;
    case RDB_ENC_INT16: width = 2; break;
    case RDB_ENC_INT32: width = 4; break;
    case RDB_ENC_LZF: width = 0; break;
    default: return RDB_ERR_CORRUPT;
    }
    if (width) {
        if (len - p < width) { if (need) *need = p + width; return RDB_ERR_TRUNCATED; }
        if (sb) {
            /* little-endian two's complement of 1, 2 or 4 bytes */
            uint32_t u = 0;
            for (size_t i = 0; i < width; i++) u |= (uint32_t)buf[p + i] << (8 * i);
            long sv = width == 1 ? (long)(int8_t)u : width == 2 ? (long)(int16_t)u : (long)(int32_t)u;
            format_int(sb, sv, out, out_len);
        }
        *pos = p + width;
        return RDB_OK;
    }

    uint64_t clen, ulen;
    if ((rc = rdb_read_length(buf, len, &p, &clen, need)) != RDB_OK) return rc;
    if ((rc = rdb_read_length(buf, len, &p, &ulen, need)) != RDB_OK) return rc;
    if (clen > max_string || ulen > max_string) return RDB_ERR_TOO_BIG;
    if (clen == 0 || ulen == 0 || ulen > clen * LZF_MAX_EXPANSION) return RDB_ERR_CORRUPT;
    if (len - p < clen) { if (need) *need = p + (size_t)clen; return RDB_ERR_TRUNCATED; }
    if (sb) {
        if (clen > UINT_MAX || ulen > UINT_MAX) return RDB_ERR_TOO_BIG;
        if (strbuf_reserve(sb, (size_t)ulen) != RDB_OK) return RDB_ERR_NOMEM;
        /* liblzf checks both the input and the output bounds and returns 0
         * on any inconsistency; the exact announced length is required. */
        unsigned got = lzf_decompress(buf + p, (unsigned)clen, sb->heap, (unsigned)ulen);
        if (got != ulen) return RDB_ERR_CORRUPT;
        *out = sb->heap;
        *out_len = (size_t)ulen;
    }
    *pos = p + (size_t)clen;
    return RDB_OK;
}

int rdb_string_is_int32(const uint8_t *s, size_t len, int32_t *v)
{
    /* Canonical means the text is exactly what printing the number gives:
     * an optional '-', no '+', no leading zeros, no "-0", no spaces. The
     * longest is "-2147483648" (11 bytes). */
    if (len == 0 || len > 11) return 0;
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-') { neg = 1; i = 1; if (len == 1) return 0; }
    if (s[i] == '0' && (len - i > 1 || neg)) return 0;
    int64_t acc = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        acc = acc * 10 + (s[i] - '0');
    }
    if (neg) acc = -acc;
    if (acc < INT32_MIN || acc > INT32_MAX) return 0;
    *v = (int32_t)acc;
    return 1;
}

int rdb_restore_parse(const uint8_t *payload, size_t len, uint64_t max_string, rdb_restore_t *out)
{
    memset(out, 0, sizeof *out);
    if (max_string == 0) max_string = RDB_DEFAULT_MAX_STRING;
    /* Footer: 2-byte version then 8-byte CRC of everything before the CRC. */
    if (len < 10) return RDB_ERR_CHECKSUM;
    const uint8_t *footer = payload + len - 10;
    unsigned version = footer[0] | (unsigned)footer[1] << 8;
    if (version > RDB_VERSION) return RDB_ERR_CHECKSUM;
    uint64_t stored = 0;
    for (int i = 7; i >= 0; i--) stored = stored << 8 | footer[2 + i];
    if (crc64_update(0, payload, len - 8) != stored) return RDB_ERR_CHECKSUM;

    size_t body_len = len - 10;
    if (body_len < 1) return RDB_ERR_CORRUPT;
    size_t pos = 1;
    int rc;
    if (rdb_type_is_collection(payload[0])) {
        /* The value's bytes as they are; its type's loader reads them. */
        rdb_scan_t st = { .pos = 1 };
        rc = rdb_scan_value(payload[0], payload, body_len, max_string, &st, NULL);
        pos = st.pos;
        out->value = payload + 1;
        out->value_len = pos - 1;
    } else if (payload[0] != RDB_TYPE_STRING) {
        return RDB_ERR_TYPE;
    } else {
        rc = rdb_read_string(payload, body_len, &pos, max_string, &out->sb, &out->value, &out->value_len, NULL);
    }
    if (rc == RDB_ERR_TRUNCATED) rc = RDB_ERR_CORRUPT;
    if (rc == RDB_OK && pos != body_len) rc = RDB_ERR_CORRUPT;   /* bytes between value and footer */
    if (rc != RDB_OK) { rdb_restore_free(out); return rc; }
    out->type = payload[0];
    return RDB_OK;
}

void rdb_restore_free(rdb_restore_t *r)
{
    rdb_strbuf_free(&r->sb);
    r->value = NULL;
    r->value_len = 0;
}

const char *rdb_restore_error(int rc)
{
    switch (rc) {
    case RDB_OK: return "";
    case RDB_ERR_CHECKSUM:
    case RDB_ERR_VERSION: return "DUMP payload version or checksum are wrong";
    case RDB_ERR_NOMEM: return "Out of memory";
    /* Redis replies this for anything its loader cannot decode; a type we
     * do not hold is one of those for us. */
    default: return "Bad data format";
    }
}

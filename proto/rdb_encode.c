/* rdb_encode.c - the RDB encoder and DUMP payloads (see rdb.h).
 *
 * The encoder appends to a growable buffer that the caller drains as it
 * sends or writes, so an RDB of any size streams through a small buffer.
 * Strings are encoded the way redis-server 7.0.15 picks encodings (a
 * canonical int32 as int8/16/32; else, with compression on and more than
 * 20 bytes, LZF if it saves at least 4 bytes; else raw), so that for the
 * same data and aux values our files are byte-identical to Redis's.
 *
 * The CRC is folded in lazily, over the pending bytes in bulk (when they are
 * drained, spliced after or closed by EOF), which is much cheaper than a
 * call per field.
 *
 * Pure: no I/O, no globals. Must never let the CRC disagree with the bytes
 * handed out.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <liblzf/lzf.h>
#include "proto/crc64.h"
#include "proto/rdb.h"

/* Scratch and output buffers above this are released when emptied. */
#define RDB_ENC_KEEP_CAP (1024 * 1024)

void rdb_encoder_init(rdb_encoder_t *e, int compress)
{
    memset(e, 0, sizeof *e);
    e->compress = compress;
}

void rdb_encoder_free(rdb_encoder_t *e)
{
    free(e->buf);
    free(e->lzf);
    memset(e, 0, sizeof *e);
}

void rdb_encoder_reset(rdb_encoder_t *e)
{
    e->len = 0;
    e->total = 0;
    e->crc = 0;
    e->crc_len = 0;
    e->failed = 0;
}

static void sync_crc(rdb_encoder_t *e)
{
    e->crc = crc64_update(e->crc, e->buf + e->crc_len, e->len - e->crc_len);
    e->crc_len = e->len;
}

uint64_t rdb_encoder_crc(rdb_encoder_t *e)
{
    sync_crc(e);
    return e->crc;
}

static int reserve(rdb_encoder_t *e, size_t more)
{
    if (e->failed) return RDB_ERR_NOMEM;
    if (e->cap - e->len >= more) return RDB_OK;
    size_t cap = e->cap ? e->cap : 4096;
    while (cap - e->len < more) {
        if (cap > SIZE_MAX / 2) { e->failed = 1; return RDB_ERR_NOMEM; }
        cap *= 2;
    }
    uint8_t *p = realloc(e->buf, cap);
    if (!p) { e->failed = 1; return RDB_ERR_NOMEM; }
    e->buf = p;
    e->cap = cap;
    return RDB_OK;
}

int rdb_encode_raw(rdb_encoder_t *e, const void *bytes, size_t len)
{
    if (reserve(e, len) != RDB_OK) return RDB_ERR_NOMEM;
    if (len) memcpy(e->buf + e->len, bytes, len);
    e->len += len;
    e->total += len;
    return RDB_OK;
}

static int put_byte(rdb_encoder_t *e, uint8_t b)
{
    return rdb_encode_raw(e, &b, 1);
}

int rdb_encode_length(rdb_encoder_t *e, uint64_t len)
{
    uint8_t b[9];
    size_t n;
    if (len < 64) {
        b[0] = (uint8_t)len;
        n = 1;
    } else if (len < 16384) {
        b[0] = (uint8_t)(0x40 | len >> 8);
        b[1] = (uint8_t)len;
        n = 2;
    } else if (len <= UINT32_MAX) {
        b[0] = 0x80;
        for (int i = 0; i < 4; i++) b[1 + i] = (uint8_t)(len >> (24 - 8 * i));
        n = 5;
    } else {
        b[0] = 0x81;
        for (int i = 0; i < 8; i++) b[1 + i] = (uint8_t)(len >> (56 - 8 * i));
        n = 9;
    }
    return rdb_encode_raw(e, b, n);
}

/* LZF as Redis tries it: worth it only if it saves at least 4 bytes, which
 * is what giving lzf_compress an output of len - 4 bytes enforces (it
 * returns 0 when the result would not fit). Returns 1 if written, 0 if the
 * string should go raw, -1 on allocation failure. */
static int try_lzf(rdb_encoder_t *e, const uint8_t *s, size_t len)
{
    if (len <= 4 || len > UINT_MAX) return 0;
    size_t outlen = len - 4;
    if (e->lzf_cap < outlen + 1) {
        free(e->lzf);
        e->lzf = malloc(outlen + 1);
        e->lzf_cap = e->lzf ? outlen + 1 : 0;
        if (!e->lzf) { e->failed = 1; return -1; }
    }
    unsigned clen = lzf_compress(s, (unsigned)len, e->lzf, (unsigned)outlen);
    int rc = 1;
    if (clen == 0) rc = 0;
    else if (put_byte(e, 0xC0 | RDB_ENC_LZF) || rdb_encode_length(e, clen) || rdb_encode_length(e, len) ||
             rdb_encode_raw(e, e->lzf, clen))
        rc = -1;
    if (e->lzf_cap > RDB_ENC_KEEP_CAP) {
        free(e->lzf);
        e->lzf = NULL;
        e->lzf_cap = 0;
    }
    return rc;
}

int rdb_encode_string(rdb_encoder_t *e, const uint8_t *s, size_t len)
{
    int32_t v;
    if (rdb_string_is_int32(s, len, &v)) {
        uint8_t b[5];
        size_t n;
        uint32_t u = (uint32_t)v;
        if (v >= INT8_MIN && v <= INT8_MAX) {
            b[0] = 0xC0 | RDB_ENC_INT8;
            n = 2;
        } else if (v >= INT16_MIN && v <= INT16_MAX) {
            b[0] = 0xC0 | RDB_ENC_INT16;
            n = 3;
        } else {
            b[0] = 0xC0 | RDB_ENC_INT32;
            n = 5;
        }
        for (size_t i = 1; i < n; i++) b[i] = (uint8_t)(u >> (8 * (i - 1)));   /* little-endian */
        return rdb_encode_raw(e, b, n);
    }
    if (e->compress && len > 20) {
        int r = try_lzf(e, s, len);
        if (r < 0) return RDB_ERR_NOMEM;
        if (r > 0) return RDB_OK;
    }
    if (rdb_encode_length(e, len)) return RDB_ERR_NOMEM;
    return rdb_encode_raw(e, s, len);
}

int rdb_encode_quicklist_node(rdb_encoder_t *e, const uint8_t *s, size_t len, bool compressed)
{
    /* 7.0.15 compresses a node in memory only from 48 bytes up, and keeps
     * it compressed only when LZF saves more than 8 bytes. */
    if (!compressed || len < 48 || len > UINT_MAX) return rdb_encode_string(e, s, len);
    uint8_t *out = malloc(len);
    if (!out) { e->failed = 1; return RDB_ERR_NOMEM; }
    unsigned clen = lzf_compress(s, (unsigned)len, out, (unsigned)len);
    int rc;
    if (clen == 0 || (size_t)clen + 8 >= len)
        rc = rdb_encode_string(e, s, len);
    else if (put_byte(e, 0xC0 | RDB_ENC_LZF) || rdb_encode_length(e, clen) || rdb_encode_length(e, len) ||
             rdb_encode_raw(e, out, clen))
        rc = RDB_ERR_NOMEM;
    else
        rc = RDB_OK;
    free(out);
    return rc;
}

int rdb_encode_header(rdb_encoder_t *e)
{
    return rdb_encode_raw(e, "REDIS0010", 9);
}

int rdb_encode_aux(rdb_encoder_t *e, const char *name, const uint8_t *value, size_t len)
{
    if (put_byte(e, RDB_OPCODE_AUX) || rdb_encode_string(e, (const uint8_t *)name, strlen(name)))
        return RDB_ERR_NOMEM;
    return rdb_encode_string(e, value, len);
}

int rdb_encode_aux_int(rdb_encoder_t *e, const char *name, long long value)
{
    /* Redis writes numbers as their decimal text, which the string rules
     * then store int-encoded when they fit in 32 bits. */
    char text[24];
    int n = 0;
    unsigned long long mag = value < 0 ? 0ull - (unsigned long long)value : (unsigned long long)value;
    char rev[24];
    do { rev[n++] = (char)('0' + mag % 10); mag /= 10; } while (mag);
    size_t t = 0;
    if (value < 0) text[t++] = '-';
    while (n) text[t++] = rev[--n];
    return rdb_encode_aux(e, name, (const uint8_t *)text, t);
}

int rdb_encode_aux_fields(rdb_encoder_t *e, const rdb_aux_info_t *info)
{
    const char *ver = info->redis_ver ? info->redis_ver : "7.0.15";
    int rc = rdb_encode_aux(e, "redis-ver", (const uint8_t *)ver, strlen(ver));
    rc |= rdb_encode_aux_int(e, "redis-bits", info->redis_bits ? info->redis_bits : 64);
    rc |= rdb_encode_aux_int(e, "ctime", info->ctime);
    rc |= rdb_encode_aux_int(e, "used-mem", info->used_mem);
    if (info->has_repl) {
        const char *id = info->repl_id ? info->repl_id : "";
        rc |= rdb_encode_aux_int(e, "repl-stream-db", info->repl_stream_db);
        rc |= rdb_encode_aux(e, "repl-id", (const uint8_t *)id, strlen(id));
        rc |= rdb_encode_aux_int(e, "repl-offset", info->repl_offset);
    }
    rc |= rdb_encode_aux_int(e, "aof-base", info->aof_base);
    return rc ? RDB_ERR_NOMEM : RDB_OK;
}

int rdb_encode_selectdb(rdb_encoder_t *e, uint64_t db)
{
    if (put_byte(e, RDB_OPCODE_SELECTDB)) return RDB_ERR_NOMEM;
    return rdb_encode_length(e, db);
}

int rdb_encode_resizedb(rdb_encoder_t *e, uint64_t db_size, uint64_t expires_size)
{
    if (put_byte(e, RDB_OPCODE_RESIZEDB) || rdb_encode_length(e, db_size)) return RDB_ERR_NOMEM;
    return rdb_encode_length(e, expires_size);
}

int rdb_encode_key_prefix(rdb_encoder_t *e, int64_t expire_ms, int64_t idle_s, int freq)
{
    if (expire_ms >= 0) {
        uint8_t b[9];
        b[0] = RDB_OPCODE_EXPIRETIME_MS;
        for (int i = 0; i < 8; i++) b[1 + i] = (uint8_t)((uint64_t)expire_ms >> (8 * i));   /* LE */
        if (rdb_encode_raw(e, b, 9)) return RDB_ERR_NOMEM;
    }
    if (idle_s >= 0 && (put_byte(e, RDB_OPCODE_IDLE) || rdb_encode_length(e, (uint64_t)idle_s))) return RDB_ERR_NOMEM;
    if (freq >= 0 && (put_byte(e, RDB_OPCODE_FREQ) || put_byte(e, (uint8_t)freq))) return RDB_ERR_NOMEM;
    return RDB_OK;
}

int rdb_encode_key_head(rdb_encoder_t *e, unsigned type, const uint8_t *key, size_t key_len, int64_t expire_ms)
{
    if (rdb_encode_key_prefix(e, expire_ms, -1, -1)) return RDB_ERR_NOMEM;
    if (put_byte(e, (uint8_t)type) || rdb_encode_string(e, key, key_len)) return RDB_ERR_NOMEM;
    return RDB_OK;
}

int rdb_encode_string_key(rdb_encoder_t *e, const uint8_t *key, size_t key_len,
                          const uint8_t *value, size_t value_len, int64_t expire_ms)
{
    if (rdb_encode_key_head(e, RDB_TYPE_STRING, key, key_len, expire_ms)) return RDB_ERR_NOMEM;
    return rdb_encode_string(e, value, value_len);
}

int rdb_encode_double_bin(rdb_encoder_t *e, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(u >> (8 * i));   /* IEEE 754, little-endian */
    return rdb_encode_raw(e, b, 8);
}

int rdb_encode_eof(rdb_encoder_t *e)
{
    if (put_byte(e, RDB_OPCODE_EOF)) return RDB_ERR_NOMEM;
    uint64_t crc = rdb_encoder_crc(e);
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(crc >> (8 * i));
    return rdb_encode_raw(e, b, 8);
}

void rdb_encoder_drain(rdb_encoder_t *e, size_t n)
{
    if (n > e->len) n = e->len;
    sync_crc(e);
    memmove(e->buf, e->buf + n, e->len - n);
    e->len -= n;
    e->crc_len = e->len;
    if (e->len == 0 && e->cap > RDB_ENC_KEEP_CAP) {
        free(e->buf);
        e->buf = NULL;
        e->cap = 0;
    }
}

void rdb_encoder_splice(rdb_encoder_t *e, uint64_t len, uint64_t crc)
{
    /* The spliced bytes follow everything e produced so far. */
    sync_crc(e);
    e->crc = crc64_combine(e->crc, crc, len);
    e->total += len;
}

int rdb_encode_dump_footer(rdb_encoder_t *e)
{
    static const uint8_t version[2] = { RDB_VERSION & 0xff, RDB_VERSION >> 8 };   /* LE */
    if (rdb_encode_raw(e, version, 2)) return RDB_ERR_NOMEM;
    uint64_t crc = rdb_encoder_crc(e);
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(crc >> (8 * i));
    return rdb_encode_raw(e, b, 8);
}

uint8_t *rdb_dump_string(const uint8_t *value, size_t len, int compress, size_t *payload_len)
{
    rdb_encoder_t e;
    rdb_encoder_init(&e, compress);
    static const uint8_t version[2] = { RDB_VERSION & 0xff, RDB_VERSION >> 8 };   /* LE */
    if (put_byte(&e, RDB_TYPE_STRING) || rdb_encode_string(&e, value, len) || rdb_encode_raw(&e, version, 2)) {
        rdb_encoder_free(&e);
        return NULL;
    }
    uint64_t crc = rdb_encoder_crc(&e);
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(crc >> (8 * i));
    if (rdb_encode_raw(&e, b, 8)) {
        rdb_encoder_free(&e);
        return NULL;
    }
    uint8_t *out = e.buf;   /* hand the buffer over instead of copying it */
    *payload_len = e.len;
    e.buf = NULL;
    rdb_encoder_free(&e);
    return out;
}

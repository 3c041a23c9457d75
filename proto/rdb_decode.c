/* rdb_decode.c - the streaming RDB decoder (see rdb.h): chunks in, events
 * out, one record at a time.
 *
 * Each record (the header, an opcode with its operands, or a key with its
 * value) is handled in two passes. The scan pass only walks the length
 * prefixes to find where the record ends; it allocates nothing and costs a
 * few byte reads, so retrying it each time a piece of a cut record arrives
 * is cheap even for a 512 MB value arriving in 16 KB chunks. Only once the
 * record is whole does the decode pass turn it into an event (decompressing
 * LZF, printing int-encoded strings). The CRC takes the bytes of the
 * records decoded in place in one run per chunk, when the decoder stops
 * (the chunk used up, a record cut, the EOF marker): a call per record cost
 * more than the checksum itself for short keys (a quarter of the parse of
 * 1,000,000 small strings); a gathered record's bytes go in as it is decoded.
 *
 * Records that lie whole in the fed chunk are decoded in place. A record
 * cut by the chunk's end is gathered in d->part, which receives exactly the
 * bytes the scan says are still missing, never more: so the decoder stops
 * right after the EOF trailer, leaving what follows (a replica's command
 * stream) to rdb_decoder_rest, and a peer that announces a huge string and
 * sends nothing makes it allocate nothing.
 *
 * Pure: no I/O, no globals. Must never read outside the chunk it was fed,
 * deliver an event from a record it has not fully checked, or deliver EOF
 * before the checksum matched.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/crc64.h"
#include "proto/rdb.h"

enum { PHASE_HEADER, PHASE_BODY, PHASE_DONE, PHASE_FAILED };

#define RDB_HEADER_LEN 9
/* Gathering and scratch buffers above this size are freed once their
 * record has been handed out, so an idle decoder holds little memory. */
#define RDB_KEEP_CAP (64 * 1024)

void rdb_decoder_init(rdb_decoder_t *d, uint64_t max_string, uint64_t total_len)
{
    memset(d, 0, sizeof *d);
    d->max_string = max_string ? max_string : RDB_DEFAULT_MAX_STRING;
    d->total_len = total_len;
    d->phase = PHASE_HEADER;
    d->pending_expire = -1;
    d->pending_idle = -1;
    d->pending_freq = -1;
    d->pending_start = -1;
}

void rdb_decoder_free(rdb_decoder_t *d)
{
    free(d->part);
    d->part = NULL;
    d->part_len = d->part_cap = 0;
    rdb_strbuf_free(&d->sb[0]);
    rdb_strbuf_free(&d->sb[1]);
}

void rdb_decoder_feed(rdb_decoder_t *d, const uint8_t *chunk, size_t len)
{
    d->in = chunk;
    d->in_len = len;
}

const uint8_t *rdb_decoder_rest(const rdb_decoder_t *d, size_t *len)
{
    if (d->phase != PHASE_DONE) { *len = 0; return NULL; }
    *len = d->in_len;
    return d->in;
}

static int fail(rdb_decoder_t *d, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, sizeof d->err, fmt, ap);
    va_end(ap);
    d->phase = PHASE_FAILED;
    d->result = rc;
    return RDB_ERROR;
}

/* Error for a string operand of the record at d->offset. */
static int fail_string(rdb_decoder_t *d, int rc, const char *what)
{
    switch (rc) {
    case RDB_ERR_TOO_BIG:
        return fail(d, rc, "%s in record at offset %llu is longer than %llu bytes", what,
                    (unsigned long long)d->offset, (unsigned long long)d->max_string);
    case RDB_ERR_NOMEM:
        return fail(d, rc, "out of memory decoding %s in record at offset %llu", what,
                    (unsigned long long)d->offset);
    default:
        return fail(d, RDB_ERR_CORRUPT, "bad string encoding of %s in record at offset %llu", what,
                    (unsigned long long)d->offset);
    }
}

static uint64_t load_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* Scan pass over a body record at rec[0..n). Returns RDB_OK with *total set,
 * RDB_ERR_TRUNCATED with *need set (a length that would let it go further),
 * or another error code (then d has failed). */
static int scan_record(rdb_decoder_t *d, const uint8_t *rec, size_t n, size_t *total, size_t *need)
{
    uint8_t op = rec[0];
    size_t pos = 1;
    uint64_t v;
    int rc = RDB_OK;
    const char *what = "string";

    switch (op) {
    case RDB_OPCODE_EOF:
        pos += d->version >= 5 ? 8 : 0;   /* checksums arrived with RDB 5 */
        if (n < pos) { *need = pos; return RDB_ERR_TRUNCATED; }
        break;
    case RDB_OPCODE_EXPIRETIME_MS:
    case RDB_OPCODE_EXPIRETIME:
        pos += op == RDB_OPCODE_EXPIRETIME_MS ? 8 : 4;
        if (n < pos) { *need = pos; return RDB_ERR_TRUNCATED; }
        break;
    case RDB_OPCODE_FREQ:
        pos += 1;
        if (n < pos) { *need = pos; return RDB_ERR_TRUNCATED; }
        break;
    case RDB_OPCODE_IDLE:
    case RDB_OPCODE_SELECTDB:
        what = "length";
        rc = rdb_read_length(rec, n, &pos, &v, need);
        break;
    case RDB_OPCODE_RESIZEDB:
        what = "length";
        rc = rdb_read_length(rec, n, &pos, &v, need);
        if (rc == RDB_OK) rc = rdb_read_length(rec, n, &pos, &v, need);
        break;
    case RDB_OPCODE_AUX:
        what = "aux field";
        rc = rdb_read_string(rec, n, &pos, d->max_string, NULL, NULL, NULL, need);
        if (rc == RDB_OK) rc = rdb_read_string(rec, n, &pos, d->max_string, NULL, NULL, NULL, need);
        break;
    case RDB_OPCODE_FUNCTION2:
        what = "function library";
        rc = rdb_read_string(rec, n, &pos, d->max_string, NULL, NULL, NULL, need);
        break;
    case RDB_OPCODE_FUNCTION:
        fail(d, RDB_ERR_OPCODE, "RDB opcode 0xF6 (pre-release FUNCTION) at offset %llu is not supported",
             (unsigned long long)d->offset);
        return RDB_ERR_OPCODE;
    case RDB_OPCODE_MODULE_AUX:
        fail(d, RDB_ERR_OPCODE, "RDB module aux data (opcode 0xF7) at offset %llu is not supported",
             (unsigned long long)d->offset);
        return RDB_ERR_OPCODE;
    case RDB_TYPE_STRING:
        what = "key or value";
        rc = rdb_read_string(rec, n, &pos, d->max_string, NULL, NULL, NULL, need);
        if (rc == RDB_OK) rc = rdb_read_string(rec, n, &pos, d->max_string, NULL, NULL, NULL, need);
        break;
    default: {
        if (rdb_type_is_collection(op)) {
            /* The key once, then the value's items, resuming where the
             * last look at this record stopped. */
            what = "key or value";
            if (d->scan.stage == RDB_SCAN_START && d->scan.pos == 0) {
                rc = rdb_read_string(rec, n, &pos, d->max_string, NULL, NULL, NULL, need);
                if (rc == RDB_OK) d->scan.pos = pos;
            }
            if (rc == RDB_OK) rc = rdb_scan_value(op, rec, n, d->max_string, &d->scan, need);
            if (rc == RDB_OK) pos = d->scan.pos;
            break;
        }
        const char *name = rdb_type_name(op);
        if (name)
            fail(d, RDB_ERR_TYPE, "unsupported RDB object type %u (%s) at offset %llu", op, name,
                 (unsigned long long)d->offset);
        else
            fail(d, RDB_ERR_TYPE, "unknown RDB object type or opcode %u (0x%02X) at offset %llu", op, op,
                 (unsigned long long)d->offset);
        return RDB_ERR_TYPE;
    }
    }
    if (rc == RDB_ERR_TRUNCATED) return rc;
    if (rc != RDB_OK) { fail_string(d, rc, what); return rc; }
    *total = pos;
    return RDB_OK;
}

/* A key's record starts at the first of the opcodes that describe it. */
static void mark_key_start(rdb_decoder_t *d)
{
    if (d->pending_start < 0) d->pending_start = (int64_t)d->offset;
}

/* Decode pass over a whole body record rec[0..total): fills *ev and returns
 * RDB_EVENT, returns RDB_MORE for records that only set state for the next
 * key (expiry, idle, freq), or RDB_ERROR. */
static int decode_record(rdb_decoder_t *d, const uint8_t *rec, size_t total, rdb_event_t *ev)
{
    uint8_t op = rec[0];
    size_t pos = 1;
    int rc;
    memset(ev, 0, sizeof *ev);
    ev->offset = d->offset;
    ev->expire_ms = -1;
    ev->lru_idle = -1;
    ev->lfu_freq = -1;

    switch (op) {
    case RDB_OPCODE_EOF: {
        d->crc = crc64_update(d->crc, rec, 1);   /* the CRC covers the 0xFF */
        ev->type = RDB_EV_EOF;
        if (d->version >= 5) {
            ev->checksum = load_le(rec + 1, 8);
            /* Zero is what rdbchecksum no writes: Redis loads it unchecked. */
            if (ev->checksum != 0 && ev->checksum != d->crc)
                return fail(d, RDB_ERR_CHECKSUM, "wrong RDB checksum: file has %016llx, computed %016llx",
                            (unsigned long long)ev->checksum, (unsigned long long)d->crc);
            ev->checksum_verified = ev->checksum != 0;
        }
        return RDB_EVENT;
    }
    case RDB_OPCODE_EXPIRETIME_MS:
        mark_key_start(d);
        /* Stored unsigned; Redis reads it signed, so a value past 2^63 is a
         * time long gone. Clamp it to 0 (expired) rather than let it look
         * like -1 (no expiry). */
        d->pending_expire = load_le(rec + 1, 8) > INT64_MAX ? 0 : (int64_t)load_le(rec + 1, 8);
        return RDB_MORE;
    case RDB_OPCODE_EXPIRETIME:
        mark_key_start(d);
        d->pending_expire = (int64_t)load_le(rec + 1, 4) * 1000;
        return RDB_MORE;
    case RDB_OPCODE_FREQ:
        mark_key_start(d);
        d->pending_freq = rec[1];
        return RDB_MORE;
    case RDB_OPCODE_IDLE: {
        mark_key_start(d);
        uint64_t idle;
        rdb_read_length(rec, total, &pos, &idle, NULL);
        d->pending_idle = idle > INT64_MAX ? INT64_MAX : (int64_t)idle;
        return RDB_MORE;
    }
    case RDB_OPCODE_SELECTDB:
        rdb_read_length(rec, total, &pos, &ev->db, NULL);
        ev->type = RDB_EV_SELECTDB;
        return RDB_EVENT;
    case RDB_OPCODE_RESIZEDB:
        rdb_read_length(rec, total, &pos, &ev->db_size, NULL);
        rdb_read_length(rec, total, &pos, &ev->expires_size, NULL);
        ev->type = RDB_EV_RESIZEDB;
        return RDB_EVENT;
    case RDB_OPCODE_AUX:
        if ((rc = rdb_read_string(rec, total, &pos, d->max_string, &d->sb[0], &ev->key, &ev->key_len, NULL)))
            return fail_string(d, rc, "aux name");
        if ((rc = rdb_read_string(rec, total, &pos, d->max_string, &d->sb[1], &ev->value, &ev->value_len, NULL)))
            return fail_string(d, rc, "aux value");
        ev->type = RDB_EV_AUX;
        return RDB_EVENT;
    case RDB_OPCODE_FUNCTION2:
        if ((rc = rdb_read_string(rec, total, &pos, d->max_string, &d->sb[1], &ev->value, &ev->value_len, NULL)))
            return fail_string(d, rc, "function library");
        ev->type = RDB_EV_FUNCTION;
        return RDB_EVENT;
    default:   /* a string or a collection: scan_record let nothing else through */
        if ((rc = rdb_read_string(rec, total, &pos, d->max_string, &d->sb[0], &ev->key, &ev->key_len, NULL)))
            return fail_string(d, rc, "key");
        if (op != RDB_TYPE_STRING) {
            ev->value = rec + pos;          /* the scan pass found it whole */
            ev->value_len = total - pos;
        } else if ((rc = rdb_read_string(rec, total, &pos, d->max_string, &d->sb[1], &ev->value, &ev->value_len,
                                         NULL))) {
            return fail_string(d, rc, "string value");
        }
        ev->type = RDB_EV_KEY;
        ev->value_type = op;
        ev->expire_ms = d->pending_expire;
        ev->lru_idle = d->pending_idle;
        ev->lfu_freq = d->pending_freq;
        /* The key's record started at its EXPIRETIME_MS, if it had one. */
        if (d->pending_start >= 0) ev->offset = (uint64_t)d->pending_start;
        d->pending_start = -1;
        d->pending_expire = -1;
        d->pending_idle = -1;
        d->pending_freq = -1;
        return RDB_EVENT;
    }
}

/* The header: "REDIS" and a 4-digit version. Returns RDB_OK,
 * RDB_ERR_TRUNCATED (with *need) or RDB_ERROR (d failed). */
static int scan_header(rdb_decoder_t *d, const uint8_t *rec, size_t n, size_t *need)
{
    /* Judge the magic as soon as its bytes are there, not only once all 9
     * have arrived, so that a non-RDB stream fails on its first bytes. */
    size_t have = n < 5 ? n : 5;
    if (memcmp(rec, "REDIS", have) != 0)
        return fail(d, RDB_ERR_MAGIC, "wrong signature: not an RDB file (no \"REDIS\" at offset 0)");
    for (size_t i = 5; i < n && i < RDB_HEADER_LEN; i++)
        if (rec[i] < '0' || rec[i] > '9')
            return fail(d, RDB_ERR_MAGIC, "wrong signature: RDB version is not 4 digits");
    if (n < RDB_HEADER_LEN) { *need = RDB_HEADER_LEN; return RDB_ERR_TRUNCATED; }
    int version = (rec[5] - '0') * 1000 + (rec[6] - '0') * 100 + (rec[7] - '0') * 10 + (rec[8] - '0');
    if (version < 1 || version > RDB_VERSION)
        return fail(d, RDB_ERR_VERSION, "can't handle RDB format version %d (this node reads 1 to %d)",
                    version, RDB_VERSION);
    d->version = version;
    return RDB_OK;
}

/* try_record's "the record is not whole yet" (distinct from every status). */
#define TRY_NEED (-1)

/* Folds into the CRC the bytes decoded in place and not folded yet: those
 * from crc_from up to the chunk's current position. */
static void crc_catch_up(rdb_decoder_t *d)
{
    if (!d->crc_from) return;
    d->crc = crc64_update(d->crc, d->crc_from, (size_t)(d->in - d->crc_from));
    d->crc_from = NULL;
}

/* Runs both passes on rec[0..n). Returns RDB_EVENT, or RDB_MORE for a
 * record that yields no event, with *used set to the record's length;
 * TRY_NEED with *need set; or RDB_ERROR (d failed). in_place: rec is
 * d->in (its CRC waits for crc_catch_up), else the gathered d->part. */
static int try_record(rdb_decoder_t *d, const uint8_t *rec, size_t n, rdb_event_t *ev, size_t *used,
                      size_t *need, int in_place)
{
    int rc;
    if (d->phase == PHASE_HEADER) {
        rc = scan_header(d, rec, n, need);
        if (rc == RDB_OK) {
            d->crc = crc64_update(d->crc, rec, RDB_HEADER_LEN);
            d->offset += RDB_HEADER_LEN;
            d->phase = PHASE_BODY;
            *used = RDB_HEADER_LEN;
            return RDB_MORE;
        }
    } else {
        size_t total = 0;
        rc = scan_record(d, rec, n, &total, need);
        if (rc == RDB_OK) {
            memset(&d->scan, 0, sizeof d->scan);   /* the next record scans afresh */
            if (rec[0] == RDB_OPCODE_EOF) crc_catch_up(d);   /* all before the marker, then its 0xFF */
            else if (!in_place) d->crc = crc64_update(d->crc, rec, total);
            else if (!d->crc_from) d->crc_from = rec;
            int st = decode_record(d, rec, total, ev);
            if (st == RDB_ERROR) return st;
            d->offset += total;
            if (rec[0] == RDB_OPCODE_EOF) d->phase = PHASE_DONE;
            *used = total;
            return st;
        }
    }
    /* (RDB_ERROR and RDB_ERR_TRUNCATED share a number: ask the phase.) */
    if (d->phase == PHASE_FAILED || rc != RDB_ERR_TRUNCATED) return RDB_ERROR;
    /* When the RDB's size is known, a record that needs more than what is
     * left can never complete: say so now rather than buffer for it. Not
     * for the header: it is judged byte by byte, and waiting for its 9
     * bytes keeps the verdict the same however the input is cut. */
    if (d->total_len && d->phase == PHASE_BODY &&
        (d->total_len < d->offset || *need > d->total_len - d->offset))
        return fail(d, RDB_ERR_TRUNCATED,
                    "record at offset %llu needs at least %llu bytes but the RDB has only %llu left",
                    (unsigned long long)d->offset, (unsigned long long)*need,
                    (unsigned long long)(d->total_len > d->offset ? d->total_len - d->offset : 0));
    return TRY_NEED;
}

/* The commonest record, a string key and a string value each stored plain
 * in under 64 bytes (one length byte, no LZF, no integer form), whole in
 * the chunk: taken in one pass where try_record would read each length
 * twice (its scan, then its decode), which was a third of the parse of
 * 1,000,000 small keys. True with the event and *used set; false for any
 * other record (try_record takes it). */
static bool try_short_string(rdb_decoder_t *d, rdb_event_t *ev, size_t *used)
{
    const uint8_t *rec = d->in;
    size_t n = d->in_len;
    if (d->phase != PHASE_BODY || n < 3 || rec[0] != RDB_TYPE_STRING || rec[1] >= 0x40) return false;
    size_t klen = rec[1], vat = 2 + klen;
    if (vat >= n || rec[vat] >= 0x40) return false;
    size_t vlen = rec[vat], total = vat + 1 + vlen;
    if (total > n || klen > d->max_string || vlen > d->max_string) return false;
    memset(ev, 0, sizeof *ev);
    ev->type = RDB_EV_KEY;
    ev->value_type = RDB_TYPE_STRING;
    ev->key = rec + 2;
    ev->key_len = klen;
    ev->value = rec + vat + 1;
    ev->value_len = vlen;
    ev->expire_ms = d->pending_expire;
    ev->lru_idle = d->pending_idle;
    ev->lfu_freq = d->pending_freq;
    ev->offset = d->pending_start >= 0 ? (uint64_t)d->pending_start : d->offset;
    d->pending_start = -1;
    d->pending_expire = -1;
    d->pending_idle = -1;
    d->pending_freq = -1;
    if (!d->crc_from) d->crc_from = rec;   /* folded with the chunk's other records (crc_catch_up) */
    d->offset += total;
    *used = total;
    return true;
}

/* Makes room for `want` bytes in part, growing at most to twice what is
 * needed now so that capacity follows the bytes that actually arrived. */
static int part_reserve(rdb_decoder_t *d, size_t want, size_t need)
{
    if (d->part_cap >= want) return RDB_OK;
    size_t cap = d->part_cap ? d->part_cap * 2 : 256;
    if (cap > need) cap = need;
    if (cap < want) cap = want;
    uint8_t *p = realloc(d->part, cap);
    if (!p) return RDB_ERR_NOMEM;
    d->part = p;
    d->part_cap = cap;
    return RDB_OK;
}

int rdb_decoder_next(rdb_decoder_t *d, rdb_event_t *ev)
{
    if (d->phase == PHASE_FAILED) return RDB_ERROR;
    if (d->phase == PHASE_DONE) return RDB_DONE;

    /* The previous event's views are dead now: drop its gathered record and
     * give back oversized buffers. */
    if (d->part_done) {
        d->part_len = 0;
        d->part_done = 0;
    }
    if (d->part_len == 0 && d->part_cap > RDB_KEEP_CAP) {
        free(d->part);
        d->part = NULL;
        d->part_cap = 0;
    }
    for (int i = 0; i < 2; i++)
        if (d->sb[i].cap > RDB_KEEP_CAP) rdb_strbuf_free(&d->sb[i]);

    for (;;) {
        size_t used = 0, need = 0;
        int st;
        if (d->part_len) {
            /* Gathering a cut record: retry with what we have, then take
             * from the chunk exactly what the scan says is missing. */
            st = try_record(d, d->part, d->part_len, ev, &used, &need, 0);
            if (st == TRY_NEED) {
                if (d->in_len == 0) return RDB_MORE;
                size_t take = need - d->part_len;
                if (take > d->in_len) take = d->in_len;
                if (part_reserve(d, d->part_len + take, need) != RDB_OK)
                    return fail(d, RDB_ERR_NOMEM, "out of memory gathering a %llu-byte record at offset %llu",
                                (unsigned long long)need, (unsigned long long)d->offset);
                memcpy(d->part + d->part_len, d->in, take);
                d->part_len += take;
                d->in += take;
                d->in_len -= take;
                continue;
            }
            if (st == RDB_ERROR) return st;
            /* part held exactly this record; its views live until the next call */
            d->part_done = 1;
            if (st == RDB_EVENT) return RDB_EVENT;
            d->part_len = 0;
            d->part_done = 0;
            continue;
        }

        if (d->in_len == 0) {
            crc_catch_up(d);   /* the caller may feed another chunk now */
            return RDB_MORE;
        }
        st = try_short_string(d, ev, &used) ? RDB_EVENT : try_record(d, d->in, d->in_len, ev, &used, &need, 1);
        if (st == TRY_NEED) {
            crc_catch_up(d);   /* the records before this one; it goes in once gathered */
            /* The chunk ends inside this record: keep its start. */
            if (part_reserve(d, d->in_len, need) != RDB_OK)
                return fail(d, RDB_ERR_NOMEM, "out of memory gathering a %llu-byte record at offset %llu",
                            (unsigned long long)need, (unsigned long long)d->offset);
            memcpy(d->part, d->in, d->in_len);
            d->part_len = d->in_len;
            d->in += d->in_len;
            d->in_len = 0;
            return RDB_MORE;
        }
        if (st == RDB_ERROR) return st;
        d->in += used;
        d->in_len -= used;
        if (st == RDB_EVENT) return RDB_EVENT;
    }
}

int rdb_decoder_finish(rdb_decoder_t *d)
{
    if (d->phase == PHASE_DONE) return RDB_OK;
    if (d->phase == PHASE_FAILED) return d->result;
    fail(d, RDB_ERR_TRUNCATED, "RDB ended after %llu bytes, before its EOF marker%s",
         (unsigned long long)(d->offset + (d->part_done ? 0 : d->part_len)),
         d->part_len && !d->part_done ? " (inside a record)" : "");
    return d->result;
}

int rdb_decode_buffer(const uint8_t *buf, size_t len, uint64_t max_string, rdb_event_fn fn, void *ctx,
                      size_t *used, char *errbuf, size_t errlen)
{
    rdb_decoder_t d;
    rdb_decoder_init(&d, max_string, len);
    rdb_decoder_feed(&d, buf, len);
    rdb_event_t ev;
    int st, rc = RDB_OK;
    while ((st = rdb_decoder_next(&d, &ev)) == RDB_EVENT) {
        if (fn && fn(ctx, &ev) != 0) {
            rc = RDB_ERR_CALLBACK;
            snprintf(d.err, sizeof d.err, "stopped by the event callback at offset %llu",
                     (unsigned long long)ev.offset);
            break;
        }
    }
    if (rc == RDB_OK) rc = st == RDB_DONE ? RDB_OK : rdb_decoder_finish(&d);
    if (used) *used = (size_t)d.offset;
    if (errbuf && errlen) snprintf(errbuf, errlen, "%s", rc == RDB_OK ? "" : d.err);
    rdb_decoder_free(&d);
    return rc;
}

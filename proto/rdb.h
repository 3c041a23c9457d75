/* rdb.h - the RDB format (version 10, as redis-server 7.0.15 writes it) for
 * what shoal's keyspace holds: string values in every encoding Redis uses
 * (raw, int8/16/32, LZF), expiry (EXPIRETIME_MS, and the old EXPIRETIME in
 * seconds on input), aux fields, SELECTDB, RESIZEDB, EOF and the CRC-64
 * trailer; plus the DUMP/RESTORE payload that carries one value with a
 * version-and-CRC footer. Spec: docs/replication.md §5 and §6.
 *
 * Three parts:
 *  - rdb_decoder_*: a streaming decoder. Chunks go in as they come off a
 *    socket or out of a file, events come out one at a time (pull). It is
 *    total: any byte string gives events and then an end or a clear error,
 *    never a crash, an over-read or an allocation beyond the max_string bound.
 *    It never applies anything: a loader stages what the events say and
 *    commits only after RDB_EV_EOF, which is delivered only when the
 *    checksum matched (or was not computed).
 *  - rdb_encoder_* / rdb_encode_*: appends RDB bytes to a growable buffer
 *    that the caller drains whenever it likes, keeping the CRC as it goes.
 *    Parts encoded by other encoders (e.g. one per worker, in parallel) can
 *    be spliced in by length and CRC without touching their bytes.
 *  - rdb_dump_string / rdb_restore_parse: DUMP and RESTORE payloads.
 *
 * Pure: no I/O, no globals (constant tables only). Links liblzf (Debian
 * liblzf-dev) for LZF; no other dependency.
 */
#ifndef SHOAL_PROTO_RDB_H
#define SHOAL_PROTO_RDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RDB_VERSION 10                       /* what we write; we read 1..10 */
#define RDB_DEFAULT_MAX_STRING (512ull << 20) /* Redis's proto-max-bulk-len default */

/* Value types (the byte before a key), as Redis numbers them. */
#define RDB_TYPE_STRING 0
#define RDB_TYPE_LIST 1
#define RDB_TYPE_SET 2
#define RDB_TYPE_ZSET 3
#define RDB_TYPE_HASH 4
#define RDB_TYPE_ZSET_2 5
#define RDB_TYPE_HASH_ZIPMAP 9
#define RDB_TYPE_LIST_ZIPLIST 10
#define RDB_TYPE_SET_INTSET 11
#define RDB_TYPE_ZSET_ZIPLIST 12
#define RDB_TYPE_HASH_ZIPLIST 13
#define RDB_TYPE_LIST_QUICKLIST 14
#define RDB_TYPE_HASH_LISTPACK 16
#define RDB_TYPE_ZSET_LISTPACK 17
#define RDB_TYPE_LIST_QUICKLIST_2 18
#define RDB_TYPE_STREAM_LISTPACKS 15
#define RDB_TYPE_STREAM_LISTPACKS_2 19

/* Opcodes. */
#define RDB_OPCODE_FUNCTION2     0xF5
#define RDB_OPCODE_FUNCTION      0xF6   /* 7.0 release candidates only */
#define RDB_OPCODE_MODULE_AUX    0xF7
#define RDB_OPCODE_IDLE          0xF8
#define RDB_OPCODE_FREQ          0xF9
#define RDB_OPCODE_AUX           0xFA
#define RDB_OPCODE_RESIZEDB      0xFB
#define RDB_OPCODE_EXPIRETIME_MS 0xFC
#define RDB_OPCODE_EXPIRETIME    0xFD
#define RDB_OPCODE_SELECTDB      0xFE
#define RDB_OPCODE_EOF           0xFF

/* String encodings (a length byte 11xxxxxx). */
#define RDB_ENC_INT8  0
#define RDB_ENC_INT16 1
#define RDB_ENC_INT32 2
#define RDB_ENC_LZF   3

/* Result codes of every rdb_* function. */
enum rdb_result {
    RDB_OK = 0,
    RDB_ERR_MAGIC,      /* does not start with "REDIS" + 4 digits */
    RDB_ERR_VERSION,    /* RDB version we cannot read (0 or > 10); DUMP footer version > 10 */
    RDB_ERR_TRUNCATED,  /* input ended (or a length runs past the known end) before EOF */
    RDB_ERR_CHECKSUM,   /* CRC-64 trailer / DUMP footer does not match */
    RDB_ERR_TYPE,       /* a value type we do not hold (list, hash, ...) or do not know */
    RDB_ERR_OPCODE,     /* an opcode we cannot honour (module aux data, pre-release FUNCTION) */
    RDB_ERR_TOO_BIG,    /* a string longer than max_string */
    RDB_ERR_CORRUPT,    /* bad length or string encoding, bad LZF data */
    RDB_ERR_NOMEM,      /* an allocation failed */
    RDB_ERR_CALLBACK,   /* rdb_decode_buffer: the callback asked to stop */
};

/* Short name of a result code ("checksum", "truncated", ...). */
const char *rdb_result_name(int rc);
/* Redis's name of value type t ("string", "list quicklist", "hash listpack",
 * ... for 0..21), or NULL for a number Redis 7.x does not use. */
const char *rdb_type_name(unsigned t);

/* ---------------------------------------------------------------------------
 * Decoder
 * ------------------------------------------------------------------------- */

enum rdb_event_type {
    RDB_EV_AUX = 1,    /* key = aux name, value = aux value (as text: ints decoded) */
    RDB_EV_SELECTDB,   /* db */
    RDB_EV_RESIZEDB,   /* db_size, expires_size (sizing hints only) */
    RDB_EV_KEY,        /* value_type, key, value, expire_ms, lru_idle, lfu_freq */
    RDB_EV_FUNCTION,   /* value = the source of one function library (FUNCTION2 opcode) */
    RDB_EV_EOF,        /* checksum, checksum_verified; the RDB is complete and intact */
};

typedef struct rdb_event {
    int type;                 /* enum rdb_event_type */
    uint64_t offset;          /* where the record starts in the RDB (its opcode/type byte,
                               * or the EXPIRETIME_MS before a key) */
    const uint8_t *key;       /* AUX name / KEY key; valid until the next rdb_decoder_next */
    size_t key_len;
    const uint8_t *value;     /* AUX value / KEY string value / FUNCTION code; same validity */
    size_t value_len;
    uint8_t value_type;       /* KEY: RDB_TYPE_STRING, or a collection type
                               * (rdb_type_is_collection): then value holds the
                               * value's RDB bytes as they follow the key, whole and
                               * scanned (rdb_scan_value) but not interpreted */
    int64_t expire_ms;        /* KEY: absolute Unix ms, or -1 for none (stored values
                               * above INT64_MAX come out as 0: long expired) */
    int64_t lru_idle;         /* KEY: idle seconds (IDLE opcode), or -1 */
    int lfu_freq;             /* KEY: LFU counter (FREQ opcode), or -1 */
    uint64_t db;              /* SELECTDB */
    uint64_t db_size;         /* RESIZEDB */
    uint64_t expires_size;    /* RESIZEDB */
    uint64_t checksum;        /* EOF: the stored trailer (0 when absent) */
    int checksum_verified;    /* EOF: 1 = computed and equal; 0 = the file says "not
                               * computed" (zero trailer, as rdbchecksum no writes) or
                               * the version predates checksums (< 5) */
} rdb_event_t;

/* Where the scan of one collection value stopped (rdb_scan_value). */
enum { RDB_SCAN_START = 0, RDB_SCAN_ITEMS, RDB_SCAN_DONE };
typedef struct rdb_scan {
    size_t pos;               /* bytes of the buffer already walked */
    uint64_t left;            /* items still to walk (stage ITEMS) */
    int stage;
} rdb_scan_t;

/* rdb_decoder_next statuses */
enum rdb_status {
    RDB_MORE = 0,   /* the chunk is used up: feed the next one (or call rdb_decoder_finish) */
    RDB_EVENT,      /* *ev holds one event */
    RDB_DONE,       /* EOF was delivered; rdb_decoder_rest gives the bytes after the RDB */
    RDB_ERROR,      /* the RDB is bad: rdb_decoder_result / rdb_decoder_error say why (sticky) */
};

typedef struct rdb_strbuf {   /* where one decoded non-raw string lives */
    uint8_t *heap;            /* owned: LZF output */
    size_t cap;
    uint8_t num[24];          /* int-encoded strings as decimal text */
} rdb_strbuf_t;

typedef struct rdb_decoder {
    uint64_t max_string;      /* longest string accepted (decoded or compressed) */
    uint64_t total_len;       /* the RDB's exact size when known ($<len> framing, a file), else 0 */
    int phase;                /* private: header, body, done, failed */
    int result;               /* RDB_OK or the sticky error */
    int version;              /* RDB version from the header (0 until read) */
    uint64_t offset;          /* bytes of the RDB consumed (whole records only) */
    uint64_t crc;             /* CRC-64 of those bytes, but for the ones from crc_from on */
    const uint8_t *crc_from;  /* private: the chunk's decoded bytes from here to `in` are not in crc yet
                                 (folded in one run when the decoder next stops), or NULL */
    int64_t pending_expire;   /* EXPIRETIME(_MS)/IDLE/FREQ seen, for the next key */
    int64_t pending_start;    /* offset of the first of them, or -1 */
    int64_t pending_idle;
    int pending_freq;
    const uint8_t *in;        /* the rest of the chunk being decoded (borrowed) */
    size_t in_len;
    uint8_t *part;            /* owned: a record cut by a chunk boundary, gathered */
    size_t part_len, part_cap;
    int part_done;            /* the record in part was handed out; drop it next call */
    rdb_strbuf_t sb[2];       /* decoded key/name [0] and value [1] */
    char err[200];            /* message of the sticky error */
    rdb_scan_t scan;          /* private: progress through the collection at offset */
} rdb_decoder_t;

/* max_string: 0 means RDB_DEFAULT_MAX_STRING. total_len: the RDB's size in
 * bytes if the caller knows it (then any length that runs past it is an
 * error at once, before anything is buffered), else 0. */
void rdb_decoder_init(rdb_decoder_t *d, uint64_t max_string, uint64_t total_len);
/* Frees the buffers. The decoder may be initialised again. */
void rdb_decoder_free(rdb_decoder_t *d);

/* Hands over the next chunk (borrowed: keep it alive and unchanged until
 * rdb_decoder_next returns something other than RDB_EVENT). Call only when
 * the previous chunk is used up (RDB_MORE). Only a record cut by the chunk's
 * end is copied, so the decoder holds at most one record (a key and its
 * value, each <= max_string), and only as much of it as has arrived.
 *
 * Typical replica loop (staging, commit at EOF only):
 *     rdb_decoder_init(&d, 0, bulk_len_or_0);
 *     on each socket read: rdb_decoder_feed(&d, buf, n);
 *         while ((st = rdb_decoder_next(&d, &ev)) == RDB_EVENT)
 *             stage ev (RDB_EV_KEY: key, value, expire_ms; RDB_EV_EOF: commit);
 *         if (st == RDB_ERROR) { log rdb_decoder_error(&d); drop the staging; retry sync; }
 *         if (st == RDB_DONE) { rest = rdb_decoder_rest(&d, &rest_len): stream bytes; }
 *     on EOF of the connection/bulk: rdb_decoder_finish(&d) != RDB_OK means truncated. */
void rdb_decoder_feed(rdb_decoder_t *d, const uint8_t *chunk, size_t len);

/* Decodes the next event. Views in *ev point into the chunk or into the
 * decoder and stay valid until the next call on d. */
int rdb_decoder_next(rdb_decoder_t *d, rdb_event_t *ev);

/* The input has ended (connection closed, $<len> consumed, end of file):
 * RDB_OK if EOF was reached, else the error (RDB_ERR_TRUNCATED if the RDB
 * just stopped), which also becomes sticky. */
int rdb_decoder_finish(rdb_decoder_t *d);

static inline int rdb_decoder_result(const rdb_decoder_t *d) { return d->result; }
/* Human-readable reason of the error, e.g. "unsupported RDB object type 14
 * (list quicklist) at offset 85"; "" when there is none. */
static inline const char *rdb_decoder_error(const rdb_decoder_t *d) { return d->err; }
/* After RDB_DONE: the bytes of the last chunk that follow the RDB (for a
 * replica, the start of the command stream). */
const uint8_t *rdb_decoder_rest(const rdb_decoder_t *d, size_t *len);
/* Bytes a partial record holds in the decoder (for memory accounting). */
static inline size_t rdb_decoder_buffered(const rdb_decoder_t *d) { return d->part_done ? 0 : d->part_len; }

/* Whole-buffer decoding (a file read into memory): calls fn for each event,
 * in order; fn returns 0 to go on, nonzero to stop (RDB_ERR_CALLBACK). The
 * buffer's length is the known total, so lengths past it are rejected at
 * once. Returns RDB_OK when EOF was reached; *used (may be NULL) receives
 * the RDB's length (bytes after it are not looked at). errbuf (may be NULL)
 * receives the error message. */
typedef int (*rdb_event_fn)(void *ctx, const rdb_event_t *ev);
int rdb_decode_buffer(const uint8_t *buf, size_t len, uint64_t max_string, rdb_event_fn fn, void *ctx,
                      size_t *used, char *errbuf, size_t errlen);

/* ---------------------------------------------------------------------------
 * Encoder
 * ------------------------------------------------------------------------- */

typedef struct rdb_encoder {
    uint8_t *buf;          /* owned: bytes produced and not yet drained */
    size_t len, cap;
    uint64_t total;        /* bytes produced since init (drained, pending and spliced) */
    uint64_t crc;          /* CRC-64 of the bytes before buf[crc_len] (read it with rdb_encoder_crc) */
    size_t crc_len;        /* buf[0..crc_len) is in crc; the rest is folded in lazily, in bulk */
    int compress;          /* rdbcompression: try LZF on strings longer than 20 bytes */
    int failed;            /* sticky: an allocation failed; every later call returns RDB_ERR_NOMEM */
    uint8_t *lzf;          /* owned: LZF scratch */
    size_t lzf_cap;
} rdb_encoder_t;

/* The aux fields redis-server 7.0.15 writes, in its order. */
typedef struct rdb_aux_info {
    const char *redis_ver;    /* NULL: "7.0.15" */
    int redis_bits;           /* 0: 64 */
    long long ctime;          /* Unix seconds */
    long long used_mem;       /* bytes */
    int has_repl;             /* 1: RDB for replication (or with a backlog): write the next three */
    int repl_stream_db;
    const char *repl_id;      /* 40 hex chars */
    long long repl_offset;
    int aof_base;             /* 0 */
} rdb_aux_info_t;

/* compress: 1 like "rdbcompression yes" (Redis's default). */
void rdb_encoder_init(rdb_encoder_t *e, int compress);
void rdb_encoder_free(rdb_encoder_t *e);
/* Starts e over for a new payload, keeping its buffers and compress
 * setting: many small payloads one after another (a MIGRATE's keys) cost
 * one allocation, not one each. */
void rdb_encoder_reset(rdb_encoder_t *e);

/* Each returns RDB_OK or RDB_ERR_NOMEM (sticky). */
int rdb_encode_header(rdb_encoder_t *e);                                   /* "REDIS0010" */
int rdb_encode_aux(rdb_encoder_t *e, const char *name, const uint8_t *value, size_t len);
int rdb_encode_aux_int(rdb_encoder_t *e, const char *name, long long value);
int rdb_encode_aux_fields(rdb_encoder_t *e, const rdb_aux_info_t *info);
int rdb_encode_selectdb(rdb_encoder_t *e, uint64_t db);
int rdb_encode_resizedb(rdb_encoder_t *e, uint64_t db_size, uint64_t expires_size);
/* One string key: [EXPIRETIME_MS] 0x00 key value. expire_ms < 0: none. */
int rdb_encode_string_key(rdb_encoder_t *e, const uint8_t *key, size_t key_len,
                          const uint8_t *value, size_t value_len, int64_t expire_ms);
/* What comes before any value: [EXPIRETIME_MS] type key. expire_ms < 0: none. */
int rdb_encode_key_head(rdb_encoder_t *e, unsigned type, const uint8_t *key, size_t key_len, int64_t expire_ms);
/* The records that may precede a key, in 7.0.15's order: EXPIRETIME_MS
 * (expire_ms >= 0), IDLE (idle_s >= 0, seconds) and FREQ (freq >= 0). */
int rdb_encode_key_prefix(rdb_encoder_t *e, int64_t expire_ms, int64_t idle_s, int freq);
/* A double as ZSET_2 stores scores: 8 bytes, IEEE 754 little-endian. */
int rdb_encode_double_bin(rdb_encoder_t *e, double v);
/* 0xFF and the 8-byte CRC trailer of everything produced so far. */
int rdb_encode_eof(rdb_encoder_t *e);

/* Building blocks (what the above are made of). */
int rdb_encode_raw(rdb_encoder_t *e, const void *bytes, size_t len);    /* verbatim */
int rdb_encode_length(rdb_encoder_t *e, uint64_t len);                  /* length encoding */
int rdb_encode_string(rdb_encoder_t *e, const uint8_t *s, size_t len);  /* int / LZF / raw, as Redis picks */
/* A quicklist node's listpack. compressed: the node lies beyond
 * list-compress-depth from both ends, where 7.0.15 holds it LZF-compressed
 * (when that pays) and writes that blob whatever rdbcompression says;
 * otherwise as rdb_encode_string. */
int rdb_encode_quicklist_node(rdb_encoder_t *e, const uint8_t *s, size_t len, bool compressed);

/* Output. Pending bytes are buf[0..len). rdb_encoder_drain drops the first
 * n of them once the caller has sent or written them elsewhere. */
static inline const uint8_t *rdb_encoder_data(const rdb_encoder_t *e) { return e->buf; }
static inline size_t rdb_encoder_pending(const rdb_encoder_t *e) { return e->len; }
void rdb_encoder_drain(rdb_encoder_t *e, size_t n);
/* CRC-64 of every byte produced since init (what the EOF trailer will say
 * if nothing more is added). */
uint64_t rdb_encoder_crc(rdb_encoder_t *e);
/* Bytes produced since init. */
static inline uint64_t rdb_encoder_total(const rdb_encoder_t *e) { return e->total; }
/* Accounts for `len` bytes that reached the output without passing through
 * e: typically another encoder's whole output (no header, no EOF; e.g. one
 * worker's keys, encoded on the worker's thread), sent as it was, whose
 * CRC-64 from 0 is `crc` (rdb_encoder_crc of that encoder). Splice after
 * draining e (and before adding to it again), so the bytes are counted in
 * their place in the stream. Costs O(log len), not a pass over the bytes. */
void rdb_encoder_splice(rdb_encoder_t *e, uint64_t len, uint64_t crc);

/* ---------------------------------------------------------------------------
 * DUMP / RESTORE payloads
 * ------------------------------------------------------------------------- */

/* DUMP of a string: 0x00, the string encoded as Redis does (compress as
 * for files), the version 0a 00, the CRC-64 of all that, little-endian.
 * Returns a malloc'ed payload (caller frees) or NULL when out of memory. */
uint8_t *rdb_dump_string(const uint8_t *value, size_t len, int compress, size_t *payload_len);

/* The DUMP footer after a type byte and a value encoded into e from its
 * start: the RDB version (2 bytes LE) and the CRC-64 of everything so far. */
int rdb_encode_dump_footer(rdb_encoder_t *e);
/* Filled by rdb_restore_parse; value may point into the struct itself, so
 * do not copy the struct while value is in use. */
typedef struct rdb_restore {
    uint8_t type;             /* RDB_TYPE_STRING, or a collection type whose RDB
                               * bytes value then holds (as rdb_event_t's) */
    const uint8_t *value;     /* points into the payload or into sb */
    size_t value_len;
    rdb_strbuf_t sb;
} rdb_restore_t;

/* Checks the footer (version <= 10, CRC-64; a zero CRC is NOT accepted here,
 * as in Redis) and decodes the value, which must fill the payload exactly.
 * Returns RDB_OK (then call rdb_restore_free), RDB_ERR_CHECKSUM (bad version
 * or CRC, or shorter than a footer), RDB_ERR_TYPE (neither a string nor a collection),
 * RDB_ERR_CORRUPT / RDB_ERR_TOO_BIG / RDB_ERR_NOMEM. */
int rdb_restore_parse(const uint8_t *payload, size_t len, uint64_t max_string, rdb_restore_t *out);
void rdb_restore_free(rdb_restore_t *r);
/* Redis's error text (after "-ERR ") for a rdb_restore_parse result:
 * "DUMP payload version or checksum are wrong", "Bad data format", ... */
const char *rdb_restore_error(int rc);

/* ---------------------------------------------------------------------------
 * String codec (shared by the parts above; usable alone)
 * ------------------------------------------------------------------------- */

/* Reads one length-encoded string at buf[*pos] (buf holds len bytes). With
 * sb == NULL it only checks and skips it (no allocation). With sb, *out and
 * *out_len receive the decoded bytes (pointing into buf for raw strings,
 * into sb otherwise). Returns RDB_OK (advancing *pos), RDB_ERR_TRUNCATED
 * (then *need, if not NULL, is the buffer length that would be enough to go
 * further), RDB_ERR_TOO_BIG, RDB_ERR_CORRUPT or RDB_ERR_NOMEM. */
int rdb_read_string(const uint8_t *buf, size_t len, size_t *pos, uint64_t max_string, rdb_strbuf_t *sb,
                    const uint8_t **out, size_t *out_len, size_t *need);
/* Whether t is a collection type whose values the decoder delivers as
 * bytes (see rdb_event_t.value_type). */
bool rdb_type_is_collection(unsigned t);
/* Walks the value of collection type t in buf[0..len), from st->pos (set it
 * to the value's start with stage RDB_SCAN_START the first time; max_string
 * 0 means RDB_DEFAULT_MAX_STRING). Returns
 * RDB_OK with st->pos at the value's end; RDB_ERR_TRUNCATED with *need (a
 * buffer length worth waiting for) and st saved so that a call with more
 * bytes (the same ones first) resumes where this one stopped; or
 * RDB_ERR_TOO_BIG / RDB_ERR_CORRUPT. */
int rdb_scan_value(unsigned t, const uint8_t *buf, size_t len, uint64_t max_string, rdb_scan_t *st,
                   size_t *need);
/* Reads one length (not a special encoding) the same way. */
int rdb_read_length(const uint8_t *buf, size_t len, size_t *pos, uint64_t *value, size_t *need);
void rdb_strbuf_free(rdb_strbuf_t *sb);
/* 1 if s is the canonical decimal form of an integer in [-2^31, 2^31-1]
 * (what Redis stores as int8/16/32), storing it in *v. */
int rdb_string_is_int32(const uint8_t *s, size_t len, int32_t *v);

#endif

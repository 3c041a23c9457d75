/* resp.h - the Redis client protocol: an incremental request parser and a
 * reply writer for RESP2 and RESP3.
 *
 * Pure: no I/O, no globals. The parser never reads past the bytes it is given
 * and never allocates more than the argument vector of the command it holds
 * (bounded by the multibulk length limit). The writer grows a heap buffer; it
 * aborts on out-of-memory as Redis does.
 *
 * Parser behaviour follows redis-server 7.0.15 (networking.c processInputBuffer,
 * processMultibulkBuffer, processInlineBuffer, sds.c sdssplitargs) byte for byte,
 * including its quirks, all checked against the real server:
 *  - a request whose first byte is '*' is multibulk, anything else is inline;
 *  - a count line "*<n>" / "$<n>" ends at the first '\r'; the byte after it is
 *    skipped without being checked, and so are the two bytes after a bulk's data;
 *  - numbers follow Redis's string2ll: optional '-', no '+', no leading zeros,
 *    at most 20 characters ("*-0" and "$01" are invalid);
 *  - like Redis's strchr-based search, a NUL byte before the line terminator
 *    hides the terminator: the parser waits for more bytes until the 64 KB
 *    "too big ..." limit fires;
 *  - "*<n>" with n <= 0 and an inline line with no words are consumed and give
 *    RESP_PARSE_EMPTY; inline lines end at '\n', one '\r' before it is dropped.
 * Error texts (p->error) are Redis's without the "-ERR " prefix, e.g.
 * "Protocol error: invalid multibulk length"; the caller replies with
 * resp_add_error(out, p->error), which produces Redis's exact bytes, and closes.
 */
#ifndef SHOAL_PROTO_RESP_H
#define SHOAL_PROTO_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Redis's limits. */
#define RESP_MAX_INLINE          (64 * 1024)          /* PROTO_INLINE_MAX_SIZE */
#define RESP_MAX_MULTIBULK       2147483647LL         /* argc limit: Redis 7.0 rejects n > INT_MAX */
#define RESP_DEFAULT_MAX_BULK    (512LL * 1024 * 1024)  /* proto-max-bulk-len default */
#define RESP_UNAUTH_MAX_MULTIBULK 10                  /* argc limit before AUTH (7.0.15) */
#define RESP_UNAUTH_MAX_BULK     16384                /* bulk length limit before AUTH */

enum resp_parse_result {
    RESP_PARSE_MORE = 0,   /* need more bytes; call again with the same start and more data */
    RESP_PARSE_DONE = 1,   /* one command parsed: see argc/arg_off/arg_len and consumed */
    RESP_PARSE_EMPTY = 2,  /* an empty inline line or "*0"/"*-1": consumed bytes, no command */
    RESP_PARSE_ERROR = 3,  /* protocol error: `error` holds Redis's text (without "-ERR "); close after replying */
};

typedef struct resp_parser {
    /* configuration */
    long long max_bulk_len;      /* proto-max-bulk-len; LLONG_MAX for a master link (Redis skips the check) */
    bool authenticated;          /* false only while a password is required and the client has not
                                  * authenticated (Redis's authRequired()): then multibulk > 10 and
                                  * bulk > 16384 are errors. resp_parser_init sets it to true. */
    /* progress inside the current command (internal) */
    int kind;                    /* 0 = not started, 1 = multibulk, 2 = inline */
    size_t pos;                  /* bytes of the current command already parsed */
    long long multibulk_left;
    long long bulk_len;          /* -1 when expecting a "$<len>" line */
    /* result: argument i is buf[arg_off[i] .. arg_off[i]+arg_len[i]) relative to the
     * command start given to resp_parse. Inline arguments have quotes and escapes
     * resolved, so for inline commands the bytes live in `inline_buf` instead
     * (arg_off is relative to inline_buf) and args_inline is set. Use resp_arg()
     * to get a pointer either way. The result stays valid until the next
     * resp_parse call that starts a new command. */
    size_t argc;
    size_t arg_cap;
    size_t *arg_off;
    size_t *arg_len;
    char *inline_buf;            /* owned; holds unquoted inline arguments */
    size_t consumed;             /* bytes of buf that the finished command used */
    const char *error;           /* text on RESP_PARSE_ERROR: static, or points into error_buf */
    /* additions (internal unless stated) */
    bool args_inline;            /* result: arguments live in inline_buf */
    size_t inline_cap;           /* allocated size of inline_buf */
    size_t line_scan;            /* where the search for the current line's end resumes */
    bool line_blocked;           /* a NUL hides the current line's end (Redis's strchr) */
    char error_buf[48];          /* the "expected '$', got 'c'" text */
} resp_parser_t;

/* Zeroes p, sets max_bulk_len and authenticated = true. Owns the argument
 * vectors and inline_buf until resp_parser_free. Never fails (aborts on OOM). */
void resp_parser_init(resp_parser_t *p, long long max_bulk_len);
void resp_parser_free(resp_parser_t *p);
/* Forget the current command's progress (called automatically after DONE/EMPTY). */
void resp_parser_reset(resp_parser_t *p);

/* Parses one command starting at buf[0]; `len` bytes are available. On MORE,
 * call again with the same command start and len >= the previous len (the
 * buffer may have moved); the parser resumes where it stopped, so a command
 * fed in many pieces costs linear time. Never reads past len. */
int resp_parse(resp_parser_t *p, const uint8_t *buf, size_t len);

/* Pointer to argument i of the last parsed command (buf as given to resp_parse). */
const uint8_t *resp_arg(const resp_parser_t *p, const uint8_t *buf, size_t i);

/* A quick look ahead at the request at buf[0..len), for a prefetch: true
 * only for a complete multibulk of 2 to RESP_PEEK_MAX_ARGS arguments in the
 * plain form ("*<n>\r\n", then n times "$<l>\r\n", l bytes, "\r\n"), with
 * *total its length and *arg1 / *arg1_len its second argument (a command's
 * usual key). Anything else (inline, not yet complete, malformed, longer
 * lengths than 9 digits) gives false. A hint, not a parse: resp_parse
 * decides what runs. Never reads past len. */
#define RESP_PEEK_MAX_ARGS 1024
bool resp_peek(const uint8_t *buf, size_t len, size_t *total, const uint8_t **arg1, size_t *arg1_len);

/* ---- reply writer ---- */

typedef struct resp_buf {
    char *data;
    size_t len;
    size_t cap;
    int proto;                   /* 2 or 3 */
    /* additions (internal): positions of deferred lengths not yet set */
    size_t *deferred_pos;
    size_t deferred_count;
    size_t deferred_cap;
} resp_buf_t;

void resp_buf_init(resp_buf_t *b, int proto);
void resp_buf_free(resp_buf_t *b);
void resp_buf_reset(resp_buf_t *b);            /* len = 0, keep memory */
void resp_buf_append(resp_buf_t *b, const void *bytes, size_t n);  /* raw bytes */

void resp_add_simple(resp_buf_t *b, const char *text);              /* +text */
void resp_add_simple_len(resp_buf_t *b, const char *text, size_t n);
/* -text\r\n. The error code is taken from the text when
 *  - it starts with '-' (Redis's own rule: "-MOVED 1 a:1" is sent as is), or
 *  - its first word (up to a space or the end) is one of Redis 7.0's error
 *    codes: ERR WRONGTYPE MOVED ASK TRYAGAIN CROSSSLOT CLUSTERDOWN NOAUTH
 *    WRONGPASS NOPERM NOPROTO BUSY BUSYKEY BUSYGROUP NOGROUP NOTBUSY UNKILLABLE
 *    NOSCRIPT LOADING MASTERDOWN MISCONF READONLY OOM EXECABORT NOREPLICAS
 *    NOQUORUM NOGOODSLAVE NOMASTERLINK UNBLOCKED IOERR INVALIDOBJ INPROG DENIED;
 * otherwise "ERR " is prepended. A list rather than "any upper-case word"
 * because Redis has ERR texts such as "DB index is out of range" and
 * "EXEC without MULTI". So resp_add_error(b, "MOVED 3999 1.2.3.4:6379") gives
 * "-MOVED 3999 1.2.3.4:6379" and resp_add_error(b, "wrong number of arguments
 * for 'get' command") gives "-ERR wrong number ...". As Redis's
 * addReplyErrorFormat: trailing CR/LF are trimmed, inner ones become spaces. */
void resp_add_error(resp_buf_t *b, const char *text);
void resp_add_errorf(resp_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void resp_add_int(resp_buf_t *b, long long v);                       /* :v */
void resp_add_bulk(resp_buf_t *b, const void *bytes, size_t n);      /* $n */
void resp_add_bulk_str(resp_buf_t *b, const char *s);              /* NULL gives resp_add_null */
void resp_add_bulk_ll(resp_buf_t *b, long long v);                   /* number as bulk string */
void resp_add_null(resp_buf_t *b);               /* RESP2 $-1, RESP3 _ */
void resp_add_null_array(resp_buf_t *b);         /* RESP2 *-1, RESP3 _ */
void resp_add_array(resp_buf_t *b, long long n);                     /* *n */
void resp_add_map(resp_buf_t *b, long long n);   /* RESP3 %n, RESP2 *2n */
void resp_add_set(resp_buf_t *b, long long n);   /* RESP3 ~n, RESP2 *n */
void resp_add_verbatim(resp_buf_t *b, const char *text, size_t n);   /* RESP3 =n+4 txt:, RESP2 bulk */
void resp_add_double(resp_buf_t *b, double v);   /* RESP3 ,v; RESP2 bulk, formatted as Redis (%.17g) */
void resp_add_bool(resp_buf_t *b, bool v);       /* RESP3 #t/#f, RESP2 :1/:0 */

/* Bulk strings handed over one at a time by a walk that knows nothing of RESP
 * (the keyspace's key callbacks: SCAN, KEYS, RANDOMKEY, GETKEYSINSLOT):
 * resp_bulk_collect adds one to list->buf and counts it in list->n. */
typedef struct resp_bulk_list { resp_buf_t *buf; long long n; } resp_bulk_list_t;
void resp_bulk_collect(const uint8_t *bytes, size_t n, void *list);

/* For replies whose element count is known only at the end: reserve a header
 * slot, then fill it. Works for arrays (kind '*'), maps ('%') and sets ('~').
 * The handle is an opaque id, not a byte offset; set each handle exactly once,
 * in any order (nested deferred lengths may be set inner-first or outer-first).
 * Setting inserts the header with memmove. Do not remove bytes from the front
 * of the buffer while a deferred length is pending; resp_buf_reset drops them. */
size_t resp_add_deferred_len(resp_buf_t *b);
void resp_set_deferred_array(resp_buf_t *b, size_t handle, long long n);
void resp_set_deferred_map(resp_buf_t *b, size_t handle, long long n);
void resp_set_deferred_set(resp_buf_t *b, size_t handle, long long n);

#endif

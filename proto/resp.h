/* resp.h - the Redis client protocol: an incremental request parser and a
 * reply writer for RESP2 and RESP3.
 *
 * Pure: no I/O, no globals. The parser never reads past the bytes it is given
 * and never allocates more than the argument vector of the command it holds
 * (bounded by the multibulk length limit). The writer grows a heap buffer; it
 * aborts on out-of-memory as Redis does.
 */
#ifndef SHOAL_PROTO_RESP_H
#define SHOAL_PROTO_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Redis's limits. */
#define RESP_MAX_INLINE          (64 * 1024)          /* PROTO_INLINE_MAX_SIZE */
#define RESP_MAX_MULTIBULK       (1024LL * 1024 * 1024) /* argc limit, as Redis (1024*1024*1024) */
#define RESP_DEFAULT_MAX_BULK    (512LL * 1024 * 1024)  /* proto-max-bulk-len default */

enum resp_parse_result {
    RESP_PARSE_MORE = 0,   /* need more bytes; call again with the same start and more data */
    RESP_PARSE_DONE = 1,   /* one command parsed: see argc/arg_off/arg_len and consumed */
    RESP_PARSE_EMPTY = 2,  /* an empty inline line or "*0"/"*-1": consumed bytes, no command */
    RESP_PARSE_ERROR = 3,  /* protocol error: `error` holds Redis's text (without "-ERR "); close after replying */
};

typedef struct resp_parser {
    /* configuration */
    long long max_bulk_len;      /* proto-max-bulk-len */
    bool authenticated;          /* unauthenticated clients get tighter limits, as Redis */
    /* progress inside the current command (internal) */
    int kind;                    /* 0 = not started, 1 = multibulk, 2 = inline */
    size_t pos;                  /* bytes of the current command already parsed */
    long long multibulk_left;
    long long bulk_len;          /* -1 when expecting a "$<len>" line */
    /* result: argument i is buf[arg_off[i] .. arg_off[i]+arg_len[i]) relative to the
     * command start given to resp_parse. Inline arguments have quotes and escapes
     * resolved, so for inline commands the bytes live in `inline_buf` instead and
     * arg_ptr is set. Use resp_arg() to get a pointer either way. */
    size_t argc;
    size_t arg_cap;
    size_t *arg_off;
    size_t *arg_len;
    char *inline_buf;            /* owned; holds unquoted inline arguments */
    size_t consumed;             /* bytes of buf that the finished command used */
    const char *error;           /* static text on RESP_PARSE_ERROR */
} resp_parser_t;

void resp_parser_init(resp_parser_t *p, long long max_bulk_len);
void resp_parser_free(resp_parser_t *p);
/* Forget the current command's progress (called automatically after DONE/EMPTY). */
void resp_parser_reset(resp_parser_t *p);

/* Parses one command starting at buf[0]; `len` bytes are available. */
int resp_parse(resp_parser_t *p, const uint8_t *buf, size_t len);

/* Pointer to argument i of the last parsed command (buf as given to resp_parse). */
const uint8_t *resp_arg(const resp_parser_t *p, const uint8_t *buf, size_t i);

/* ---- reply writer ---- */

typedef struct resp_buf {
    char *data;
    size_t len;
    size_t cap;
    int proto;                   /* 2 or 3 */
} resp_buf_t;

void resp_buf_init(resp_buf_t *b, int proto);
void resp_buf_free(resp_buf_t *b);
void resp_buf_reset(resp_buf_t *b);            /* len = 0, keep memory */
void resp_buf_append(resp_buf_t *b, const void *bytes, size_t n);  /* raw bytes */

void resp_add_simple(resp_buf_t *b, const char *text);              /* +text */
void resp_add_simple_len(resp_buf_t *b, const char *text, size_t n);
/* -text. If text does not start with an upper-case code word followed by a space
 * (e.g. "ERR", "MOVED", "WRONGTYPE"), "ERR " is prepended as Redis does.
 * CR and LF in text are replaced by spaces. */
void resp_add_error(resp_buf_t *b, const char *text);
void resp_add_errorf(resp_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void resp_add_int(resp_buf_t *b, long long v);                       /* :v */
void resp_add_bulk(resp_buf_t *b, const void *bytes, size_t n);      /* $n */
void resp_add_bulk_str(resp_buf_t *b, const char *s);
void resp_add_bulk_ll(resp_buf_t *b, long long v);                   /* number as bulk string */
void resp_add_null(resp_buf_t *b);               /* RESP2 $-1, RESP3 _ */
void resp_add_null_array(resp_buf_t *b);         /* RESP2 *-1, RESP3 _ */
void resp_add_array(resp_buf_t *b, long long n);                     /* *n */
void resp_add_map(resp_buf_t *b, long long n);   /* RESP3 %n, RESP2 *2n */
void resp_add_set(resp_buf_t *b, long long n);   /* RESP3 ~n, RESP2 *n */
void resp_add_verbatim(resp_buf_t *b, const char *text, size_t n);   /* RESP3 =n+4 txt:, RESP2 bulk */
void resp_add_double(resp_buf_t *b, double v);   /* RESP3 ,v; RESP2 bulk, formatted as Redis (%.17g) */
void resp_add_bool(resp_buf_t *b, bool v);       /* RESP3 #t/#f, RESP2 :1/:0 */

/* For replies whose element count is known only at the end: reserve a header
 * slot, then fill it. Works for arrays (kind '*'), maps ('%') and sets ('~'). */
size_t resp_add_deferred_len(resp_buf_t *b);
void resp_set_deferred_array(resp_buf_t *b, size_t handle, long long n);
void resp_set_deferred_map(resp_buf_t *b, size_t handle, long long n);
void resp_set_deferred_set(resp_buf_t *b, size_t handle, long long n);

#endif

/* resp.c - the Redis client protocol codec: an incremental request parser
 * (multibulk and inline) and a RESP2/RESP3 reply writer.
 *
 * It must behave exactly like redis-server 7.0.15 on the bytes a client sends,
 * quirks included (see resp.h), because clients and tools are tested against
 * that server. It must never read past the length it is given, never allocate
 * more than a small multiple of the bytes it has been given, and never keep a
 * pointer into the caller's buffer between calls (the caller may realloc it).
 * No I/O, no globals other than const tables.
 */
#include "proto/resp.h"
#include "proto/strnum.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/splitargs.h"

/* ------------------------------------------------------------------------ */
/* small helpers                                                            */

static void *resp_xrealloc(void *ptr, size_t n)
{
    void *q = realloc(ptr, n ? n : 1);
    if (!q) abort(); /* as Redis's zmalloc: out of memory is not recoverable */
    return q;
}

/* Redis's string2ll: the whole of s[0..n) must be a canonical decimal that
 * fits a long long. Empty, 21+ characters, '+', leading zeros, "-0", spaces:
 * all invalid. This is why "*01" and "$-0" are protocol errors in Redis. */
static bool resp_str_to_ll(const uint8_t *s, size_t n, long long *out)
{
    if (n == 0 || n >= 21) return false;
    if (n == 1 && s[0] == '0') { *out = 0; return true; }
    size_t i = 0;
    bool negative = false;
    if (s[0] == '-') {
        negative = true;
        if (++i == n) return false;
    }
    if (s[i] < '1' || s[i] > '9') return false;
    unsigned long long v = (unsigned long long)(s[i++] - '0');
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > ULLONG_MAX / 10) return false;
        v *= 10;
        if (v > ULLONG_MAX - d) return false;
        v += d;
    }
    if (negative) {
        if (v > (unsigned long long)LLONG_MAX + 1) return false;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX) return false;
        *out = (long long)v;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* parser                                                                   */

enum { KIND_NONE = 0, KIND_MULTIBULK = 1, KIND_INLINE = 2 };
enum { LINE_NOT_FOUND = 0, LINE_FOUND = 1 };

void resp_parser_init(resp_parser_t *p, long long max_bulk_len)
{
    memset(p, 0, sizeof *p);
    p->max_bulk_len = max_bulk_len;
    p->authenticated = true;
    p->bulk_len = -1;
}

void resp_parser_free(resp_parser_t *p)
{
    free(p->arg_off);
    free(p->arg_len);
    free(p->inline_buf);
    p->arg_off = p->arg_len = NULL;
    p->inline_buf = NULL;
    p->arg_cap = p->inline_cap = 0;
    p->argc = 0;
}

/* Only the progress is forgotten: the last command's result (argc, offsets,
 * consumed) stays readable until the next command starts. */
void resp_parser_reset(resp_parser_t *p)
{
    p->kind = KIND_NONE;
    p->pos = 0;
    p->multibulk_left = 0;
    p->bulk_len = -1;
    p->line_scan = 0;
    p->line_blocked = false;
}

const uint8_t *resp_arg(const resp_parser_t *p, const uint8_t *buf, size_t i)
{
    if (p->args_inline) return (const uint8_t *)p->inline_buf + p->arg_off[i];
    return buf + p->arg_off[i];
}

/* "<digits>\r\n" at buf[*pos..len) after a type byte: the number, or -1 */
static long peek_count(const uint8_t *buf, size_t len, size_t *pos)
{
    size_t i = *pos;
    long n = 0;
    int digits = 0;
    while (i < len && buf[i] >= '0' && buf[i] <= '9') {
        if (++digits > 9) return -1;
        n = n * 10 + (buf[i++] - '0');
    }
    /* as resp_parse (string2ll): no leading zero */
    if (!digits || (digits > 1 && buf[*pos] == '0') || len - i < 2 || buf[i] != '\r' || buf[i + 1] != '\n') return -1;
    *pos = i + 2;
    return n;
}

bool resp_peek(const uint8_t *buf, size_t len, size_t *total, const uint8_t **arg1, size_t *arg1_len)
{
    size_t pos = 1;
    if (len < 1 || buf[0] != '*') return false;
    long argc = peek_count(buf, len, &pos);
    if (argc < 2 || argc > RESP_PEEK_MAX_ARGS) return false;
    for (long i = 0; i < argc; i++) {
        if (pos >= len || buf[pos] != '$') return false;
        pos++;
        long l = peek_count(buf, len, &pos);
        if (l < 0 || len - pos < (size_t)l + 2) return false;
        if (i == 1) {
            *arg1 = buf + pos;
            *arg1_len = (size_t)l;
        }
        pos += (size_t)l + 2;
    }
    *total = pos;
    return true;
}

/* Redis looks for a line end with strchr, which stops at a NUL byte: a NUL
 * before the terminator means "no line yet" forever. We reproduce that, and
 * remember how far we looked so feeding a long line in pieces stays linear. */
static int resp_find_line(resp_parser_t *p, const uint8_t *buf, size_t len,
                          size_t start, uint8_t term, size_t *at)
{
    if (p->line_blocked) return LINE_NOT_FOUND;
    size_t from = p->line_scan > start ? p->line_scan : start;
    if (from >= len) return LINE_NOT_FOUND;
    const uint8_t *t = memchr(buf + from, term, len - from);
    size_t end = t ? (size_t)(t - buf) : len;
    if (memchr(buf + from, 0, end - from)) {
        p->line_blocked = true;
        return LINE_NOT_FOUND;
    }
    p->line_scan = end;
    if (!t) return LINE_NOT_FOUND;
    *at = end;
    return LINE_FOUND;
}

static void resp_line_done(resp_parser_t *p)
{
    p->line_scan = 0;
    p->line_blocked = false;
}

static int resp_fail(resp_parser_t *p, const char *text)
{
    p->error = text;
    p->consumed = 0;
    resp_parser_reset(p);
    return RESP_PARSE_ERROR;
}

static void resp_push_arg(resp_parser_t *p, size_t off, size_t len, size_t room_hint)
{
    if (p->argc == p->arg_cap) {
        /* Grow with what has arrived, never with what the header promises:
         * "*2000000000" alone must not allocate gigabytes. */
        size_t cap = p->arg_cap ? p->arg_cap * 2 : 8;
        if (room_hint > 0 && cap > p->argc + room_hint) cap = p->argc + room_hint;
        p->arg_off = resp_xrealloc(p->arg_off, cap * sizeof *p->arg_off);
        p->arg_len = resp_xrealloc(p->arg_len, cap * sizeof *p->arg_len);
        p->arg_cap = cap;
    }
    p->arg_off[p->argc] = off;
    p->arg_len[p->argc] = len;
    p->argc++;
}

static int resp_parse_multibulk(resp_parser_t *p, const uint8_t *buf, size_t len)
{
    size_t nl;
    long long ll;

    if (p->multibulk_left == 0) {
        /* the "*<n>\r" header line */
        if (!resp_find_line(p, buf, len, 0, '\r', &nl)) {
            if (len > RESP_MAX_INLINE) return resp_fail(p, "Protocol error: too big mbulk count string");
            return RESP_PARSE_MORE;
        }
        if (nl + 2 > len) return RESP_PARSE_MORE; /* the byte after '\r' must be here */
        if (!resp_str_to_ll(buf + 1, nl - 1, &ll) || ll > RESP_MAX_MULTIBULK)
            return resp_fail(p, "Protocol error: invalid multibulk length");
        if (ll > RESP_UNAUTH_MAX_MULTIBULK && !p->authenticated)
            return resp_fail(p, "Protocol error: unauthenticated multibulk length");
        p->pos = nl + 2;
        resp_line_done(p);
        if (ll <= 0) {
            p->consumed = p->pos;
            resp_parser_reset(p);
            return RESP_PARSE_EMPTY;
        }
        p->multibulk_left = ll;
        p->bulk_len = -1;
    }

    while (p->multibulk_left > 0) {
        if (p->bulk_len == -1) {
            if (!resp_find_line(p, buf, len, p->pos, '\r', &nl)) {
                if (len - p->pos > RESP_MAX_INLINE)
                    return resp_fail(p, "Protocol error: too big bulk count string");
                return RESP_PARSE_MORE;
            }
            if (nl + 2 > len) return RESP_PARSE_MORE;
            if (buf[p->pos] != '$') {
                /* Redis formats this with %c and then maps CR/LF to spaces. */
                uint8_t c = buf[p->pos];
                if (c == '\r' || c == '\n') c = ' ';
                snprintf(p->error_buf, sizeof p->error_buf, "Protocol error: expected '$', got '%c'", c);
                return resp_fail(p, p->error_buf);
            }
            if (!resp_str_to_ll(buf + p->pos + 1, nl - p->pos - 1, &ll) || ll < 0 || ll > p->max_bulk_len)
                return resp_fail(p, "Protocol error: invalid bulk length");
            if (ll > RESP_UNAUTH_MAX_BULK && !p->authenticated)
                return resp_fail(p, "Protocol error: unauthenticated bulk length");
            p->pos = nl + 2;
            resp_line_done(p);
            p->bulk_len = ll;
        }
        /* data plus two trailing bytes, which Redis skips without checking */
        size_t avail = len - p->pos;
        if (avail < 2 || avail - 2 < (unsigned long long)p->bulk_len) return RESP_PARSE_MORE;
        size_t room = p->multibulk_left > (long long)(SIZE_MAX / 4) ? 0 : (size_t)p->multibulk_left;
        resp_push_arg(p, p->pos, (size_t)p->bulk_len, room);
        p->pos += (size_t)p->bulk_len + 2;
        p->bulk_len = -1;
        p->multibulk_left--;
    }
    p->consumed = p->pos;
    resp_parser_reset(p);
    return RESP_PARSE_DONE;
}

static void resp_inline_word(void *arg, const char *word, size_t len)
{
    resp_parser_t *p = arg;
    resp_push_arg(p, (size_t)(word - p->inline_buf), len, 0);
}

/* Splits line[0..n) into words with Redis's quoting (proto/splitargs.h),
 * writing the unquoted bytes to p->inline_buf (never longer than the line).
 * The line holds no NUL (resp_find_line guarantees it). Returns false on
 * unbalanced quotes. */
static bool resp_split_inline(resp_parser_t *p, const uint8_t *line, size_t n)
{
    if (p->inline_cap < n) {
        p->inline_buf = resp_xrealloc(p->inline_buf, n);
        p->inline_cap = n;
    }
    return splitargs(line, n, p->inline_buf, resp_inline_word, p);
}

static int resp_parse_inline(resp_parser_t *p, const uint8_t *buf, size_t len)
{
    size_t nl;
    if (!resp_find_line(p, buf, len, 0, '\n', &nl)) {
        if (len > RESP_MAX_INLINE) return resp_fail(p, "Protocol error: too big inline request");
        return RESP_PARSE_MORE;
    }
    size_t end = nl;
    if (end > 0 && buf[end - 1] == '\r') end--;
    p->args_inline = true;
    if (!resp_split_inline(p, buf, end)) {
        p->argc = 0;
        return resp_fail(p, "Protocol error: unbalanced quotes in request");
    }
    p->consumed = nl + 1;
    int r = p->argc ? RESP_PARSE_DONE : RESP_PARSE_EMPTY;
    resp_parser_reset(p);
    return r;
}

int resp_parse(resp_parser_t *p, const uint8_t *buf, size_t len)
{
    if (p->kind == KIND_NONE) {
        if (len == 0) return RESP_PARSE_MORE;
        /* a new command: drop the previous result */
        p->argc = 0;
        p->consumed = 0;
        p->error = NULL;
        p->args_inline = false;
        resp_parser_reset(p);
        p->kind = buf[0] == '*' ? KIND_MULTIBULK : KIND_INLINE;
    }
    /* Fewer bytes than already parsed breaks the calling contract; answer
     * MORE rather than look at bytes that are no longer there. */
    if (len < p->pos) return RESP_PARSE_MORE;
    if (p->kind == KIND_MULTIBULK) return resp_parse_multibulk(p, buf, len);
    return resp_parse_inline(p, buf, len);
}

/* ------------------------------------------------------------------------ */
/* writer                                                                   */

void resp_buf_init(resp_buf_t *b, int proto)
{
    memset(b, 0, sizeof *b);
    b->proto = proto;
}

void resp_buf_free(resp_buf_t *b)
{
    free(b->data);
    free(b->deferred_pos);
    int proto = b->proto;
    memset(b, 0, sizeof *b);
    b->proto = proto;
}

void resp_buf_reset(resp_buf_t *b)
{
    b->len = 0;
    b->deferred_count = 0;
}

static void resp_reserve(resp_buf_t *b, size_t n)
{
    if (b->cap - b->len >= n) return;
    if (n > SIZE_MAX / 2 - b->len) abort();
    size_t cap = b->cap ? b->cap * 2 : 64;
    if (cap < b->len + n) cap = b->len + n;
    b->data = resp_xrealloc(b->data, cap);
    b->cap = cap;
}

void resp_buf_append(resp_buf_t *b, const void *bytes, size_t n)
{
    if (n == 0) return;
    resp_reserve(b, n);
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
}

static void resp_append_str(resp_buf_t *b, const char *s)
{
    resp_buf_append(b, s, strlen(s));
}

/* Writes v in decimal at dst (room for 20 bytes) and returns the length.
 * Every reply header and integer goes through here; snprintf's format
 * parsing cost more than the rest of a bulk reply. */
static size_t resp_fmt_ll(char *dst, long long v) { return ll_to_str(dst, v); }

/* <prefix><n>\r\n written at dst (room for 23 bytes); returns its length. */
static size_t resp_fmt_header(char *dst, char prefix, long long n)
{
    dst[0] = prefix;
    size_t k;
    if (n >= 0 && n < 10) {       /* "*3", "$3": no call (every command the AOF and replicas get) */
        dst[1] = (char)('0' + n);
        k = 2;
    } else {
        k = 1 + resp_fmt_ll(dst + 1, n);
    }
    dst[k++] = '\r';
    dst[k++] = '\n';
    return k;
}

/* <prefix><n>\r\n */
static void resp_add_prefixed_ll(resp_buf_t *b, char prefix, long long n)
{
    resp_reserve(b, 24);
    b->len += resp_fmt_header(b->data + b->len, prefix, n);
}

void resp_add_simple_len(resp_buf_t *b, const char *text, size_t n)
{
    resp_reserve(b, n + 3);
    resp_buf_append(b, "+", 1);
    resp_buf_append(b, text, n);
    resp_buf_append(b, "\r\n", 2);
}

void resp_add_simple(resp_buf_t *b, const char *text)
{
    resp_add_simple_len(b, text, strlen(text));
}

/* Redis 7.0's error codes (every "-CODE " literal in its source, plus MOVED
 * and ASK which it formats). */
static const char *const resp_error_codes[] = {
    "ERR", "WRONGTYPE", "MOVED", "ASK", "TRYAGAIN", "CROSSSLOT", "CLUSTERDOWN",
    "NOAUTH", "WRONGPASS", "NOPERM", "NOPROTO", "BUSY", "BUSYKEY", "BUSYGROUP",
    "NOGROUP", "NOTBUSY", "UNKILLABLE", "NOSCRIPT", "LOADING", "MASTERDOWN",
    "MISCONF", "READONLY", "OOM", "EXECABORT", "NOREPLICAS", "NOQUORUM",
    "NOGOODSLAVE", "NOMASTERLINK", "UNBLOCKED", "IOERR", "INVALIDOBJ", "INPROG",
    "DENIED",
};

static bool resp_has_error_code(const char *text, size_t n)
{
    size_t w = 0;
    while (w < n && text[w] != ' ') w++;
    for (size_t i = 0; i < sizeof resp_error_codes / sizeof resp_error_codes[0]; i++) {
        if (strlen(resp_error_codes[i]) == w && memcmp(resp_error_codes[i], text, w) == 0) return true;
    }
    return false;
}

static void resp_add_error_len(resp_buf_t *b, const char *text, size_t n)
{
    while (n > 0 && (text[n - 1] == '\r' || text[n - 1] == '\n')) n--;
    resp_reserve(b, n + 7);
    if (n > 0 && text[0] == '-') {
        /* the caller wrote the code, dash included */
    } else if (n > 0 && resp_has_error_code(text, n)) {
        resp_buf_append(b, "-", 1);
    } else {
        resp_buf_append(b, "-ERR ", 5);
    }
    char *dst = b->data + b->len;
    for (size_t i = 0; i < n; i++) dst[i] = (text[i] == '\r' || text[i] == '\n') ? ' ' : text[i];
    b->len += n;
    resp_buf_append(b, "\r\n", 2);
}

void resp_add_error(resp_buf_t *b, const char *text)
{
    resp_add_error_len(b, text, strlen(text));
}

void resp_add_errorf(resp_buf_t *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (k < 0) k = 0;
    if ((size_t)k < sizeof small) {
        resp_add_error_len(b, small, (size_t)k);
        return;
    }
    char *big = resp_xrealloc(NULL, (size_t)k + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)k + 1, fmt, ap);
    va_end(ap);
    resp_add_error_len(b, big, (size_t)k);
    free(big);
}

void resp_add_int(resp_buf_t *b, long long v)
{
    resp_add_prefixed_ll(b, ':', v);
}

void resp_add_bulk(resp_buf_t *b, const void *bytes, size_t n)
{
    if (n > SIZE_MAX / 2) abort();
    resp_reserve(b, n + 26);
    char *dst = b->data + b->len;
    size_t k = resp_fmt_header(dst, '$', (long long)n);
    if (n) memcpy(dst + k, bytes, n);
    k += n;
    dst[k++] = '\r';
    dst[k++] = '\n';
    b->len += k;
}

void resp_bulk_collect(const uint8_t *bytes, size_t n, void *list)
{
    resp_bulk_list_t *l = list;
    resp_add_bulk(l->buf, bytes, n);
    l->n++;
}

void resp_add_bulk_str(resp_buf_t *b, const char *s)
{
    if (!s) {
        resp_add_null(b);
        return;
    }
    resp_add_bulk(b, s, strlen(s));
}

void resp_add_bulk_ll(resp_buf_t *b, long long v)
{
    char tmp[24];
    resp_add_bulk(b, tmp, resp_fmt_ll(tmp, v));
}

void resp_add_null(resp_buf_t *b)
{
    if (b->proto >= 3) resp_append_str(b, "_\r\n");
    else resp_append_str(b, "$-1\r\n");
}

void resp_add_null_array(resp_buf_t *b)
{
    if (b->proto >= 3) resp_append_str(b, "_\r\n");
    else resp_append_str(b, "*-1\r\n");
}

void resp_add_array(resp_buf_t *b, long long n)
{
    resp_add_prefixed_ll(b, '*', n);
}

void resp_add_map(resp_buf_t *b, long long n)
{
    if (b->proto >= 3) resp_add_prefixed_ll(b, '%', n);
    else resp_add_prefixed_ll(b, '*', n * 2);
}

void resp_add_set(resp_buf_t *b, long long n)
{
    resp_add_prefixed_ll(b, b->proto >= 3 ? '~' : '*', n);
}

void resp_add_verbatim(resp_buf_t *b, const char *text, size_t n)
{
    if (b->proto < 3) {
        resp_add_bulk(b, text, n);
        return;
    }
    resp_reserve(b, n + 36);
    resp_add_prefixed_ll(b, '=', (long long)n + 4);
    resp_buf_append(b, "txt:", 4);
    resp_buf_append(b, text, n);
    resp_buf_append(b, "\r\n", 2);
}

/* Whole numbers below 2^53 in magnitude (every one exact in a double), but
 * not -0: %.17g writes them as their plain digits, no exponent (at most 16
 * digits), which resp_fmt_ll writes without snprintf's float formatting,
 * the larger part of a ZPOPMIN or ZRANGE WITHSCORES reply's cost. */
static bool double_is_small_whole(double v)
{
    return v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(long long)v &&
           !(v == 0 && signbit(v));
}

void resp_add_double(resp_buf_t *b, double v)
{
    char tmp[64];
    if (isinf(v)) {
        /* Redis spells infinities itself rather than trust libc */
        snprintf(tmp, sizeof tmp, "%s", v > 0 ? "inf" : "-inf");
    } else if (double_is_small_whole(v)) {
        tmp[resp_fmt_ll(tmp, (long long)v)] = '\0';
    } else {
        /* 7.0's addReplyDouble: %.17g (NaN prints as glibc writes it) */
        snprintf(tmp, sizeof tmp, "%.17g", v);
    }
    if (b->proto >= 3) {
        resp_buf_append(b, ",", 1);
        resp_append_str(b, tmp);
        resp_buf_append(b, "\r\n", 2);
    } else {
        resp_add_bulk(b, tmp, strlen(tmp));
    }
}

void resp_add_bool(resp_buf_t *b, bool v)
{
    if (b->proto >= 3) resp_append_str(b, v ? "#t\r\n" : "#f\r\n");
    else resp_append_str(b, v ? ":1\r\n" : ":0\r\n");
}

/* Deferred lengths: the handle indexes deferred_pos, which holds the byte
 * offset where the header goes (nothing is reserved in data). Inserting a
 * header shifts the pending slots that lie after it; a slot reserved later
 * at the same offset lies after it too (it is nested inside). */
#define RESP_DEFERRED_DONE SIZE_MAX

size_t resp_add_deferred_len(resp_buf_t *b)
{
    if (b->deferred_count == b->deferred_cap) {
        size_t cap = b->deferred_cap ? b->deferred_cap * 2 : 8;
        b->deferred_pos = resp_xrealloc(b->deferred_pos, cap * sizeof *b->deferred_pos);
        b->deferred_cap = cap;
    }
    b->deferred_pos[b->deferred_count] = b->len;
    return b->deferred_count++;
}

static void resp_set_deferred(resp_buf_t *b, size_t handle, char prefix, long long n)
{
    if (handle >= b->deferred_count || b->deferred_pos[handle] == RESP_DEFERRED_DONE) return;
    size_t at = b->deferred_pos[handle];
    char hdr[32];
    size_t k = resp_fmt_header(hdr, prefix, n);
    resp_reserve(b, k);
    memmove(b->data + at + k, b->data + at, b->len - at);
    memcpy(b->data + at, hdr, k);
    b->len += k;
    b->deferred_pos[handle] = RESP_DEFERRED_DONE;
    for (size_t j = 0; j < b->deferred_count; j++) {
        size_t q = b->deferred_pos[j];
        if (q == RESP_DEFERRED_DONE) continue;
        if (q > at || (q == at && j > handle)) b->deferred_pos[j] = q + k;
    }
    /* ids are reused once every later one is set, so nesting depth, not the
     * number of deferred lengths in a reply, bounds this array */
    while (b->deferred_count > 0 && b->deferred_pos[b->deferred_count - 1] == RESP_DEFERRED_DONE)
        b->deferred_count--;
}

void resp_set_deferred_array(resp_buf_t *b, size_t handle, long long n)
{
    resp_set_deferred(b, handle, '*', n);
}

void resp_set_deferred_map(resp_buf_t *b, size_t handle, long long n)
{
    if (b->proto >= 3) resp_set_deferred(b, handle, '%', n);
    else resp_set_deferred(b, handle, '*', n * 2);
}

void resp_set_deferred_set(resp_buf_t *b, size_t handle, long long n)
{
    resp_set_deferred(b, handle, b->proto >= 3 ? '~' : '*', n);
}

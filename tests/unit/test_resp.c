/* test_resp.c - unit tests of proto/resp: the request parser against the bytes
 * and error texts redis-server 7.0.15 produces (each case was checked against
 * a real server), and the exact RESP2/RESP3 bytes of every writer function.
 * Tests only; must never depend on a running server or on test order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/resp.h"
#include "tests/unit/unit.h"

/* ---- parser helpers ---- */

/* Appends a printable form of bytes to out (C-like escapes). */
static void show_bytes(char *out, size_t cap, const uint8_t *s, size_t n)
{
    size_t o = strlen(out);
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\' && s[i] != ',' && s[i] != ']') {
            out[o++] = (char)s[i];
        } else {
            o += (size_t)snprintf(out + o, cap - o, "\\%02x", s[i]);
        }
    }
    out[o] = 0;
}

/* Feeds `in` to a parser the way a connection would: `chunk` bytes arrive at
 * a time (0 = everything at once), the unparsed bytes are kept in a buffer
 * that is re-allocated (moved) before every call so stale pointers are caught
 * by ASan. Returns a trace such as "DONE[GET,k] EMPTY ERR(...) MORE". */
static char *trace_parse(const char *in, size_t len, size_t chunk, bool authenticated, long long max_bulk)
{
    static char trace[8192];
    trace[0] = 0;
    resp_parser_t p;
    resp_parser_init(&p, max_bulk);
    p.authenticated = authenticated;
    size_t fed = 0, start = 0; /* in[start..fed) is buffered */
    if (chunk == 0) chunk = len ? len : 1;
    for (;;) {
        size_t n = fed - start;
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, in + start, n);
        int r = resp_parse(&p, copy, n);
        size_t o = strlen(trace);
        if (r == RESP_PARSE_DONE) {
            CHECK(p.consumed <= n && p.consumed > 0);
            snprintf(trace + o, sizeof trace - o, "DONE[");
            for (size_t i = 0; i < p.argc; i++) {
                if (i) strcat(trace, ",");
                show_bytes(trace, sizeof trace, resp_arg(&p, copy, i), p.arg_len[i]);
            }
            strcat(trace, "] ");
            start += p.consumed;
        } else if (r == RESP_PARSE_EMPTY) {
            CHECK(p.consumed <= n && p.consumed > 0);
            snprintf(trace + o, sizeof trace - o, "EMPTY ");
            start += p.consumed;
        } else if (r == RESP_PARSE_ERROR) {
            snprintf(trace + o, sizeof trace - o, "ERR(%s)", p.error);
            free(copy);
            break;
        }
        free(copy);
        if (r == RESP_PARSE_MORE || start == fed) {
            if (fed == len) {
                if (r == RESP_PARSE_MORE && start < len) strcat(trace, "MORE");
                break;
            }
            fed += chunk < len - fed ? chunk : len - fed;
        }
    }
    resp_parser_free(&p);
    /* drop a trailing space for readability */
    size_t tl = strlen(trace);
    if (tl && trace[tl - 1] == ' ') trace[tl - 1] = 0;
    return trace;
}

#define T(lit) trace_parse((lit), sizeof(lit) - 1, 0, true, RESP_DEFAULT_MAX_BULK)
#define T_UNAUTH(lit) trace_parse((lit), sizeof(lit) - 1, 0, false, RESP_DEFAULT_MAX_BULK)

/* Checks that feeding `lit` in every chunk size from 1 to 7 and all at once
 * gives the same trace. */
static void check_chunking(const char *in, size_t len, const char *want)
{
    CHECK_EQ_STR(trace_parse(in, len, 0, true, RESP_DEFAULT_MAX_BULK), want);
    for (size_t c = 1; c <= 7; c++) CHECK_EQ_STR(trace_parse(in, len, c, true, RESP_DEFAULT_MAX_BULK), want);
}

/* ---- parser: multibulk ---- */

TEST(resp_parse_multibulk_basic)
{
    resp_parser_t p;
    resp_parser_init(&p, RESP_DEFAULT_MAX_BULK);
    CHECK(p.authenticated);
    const char *in = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    CHECK_EQ_INT(resp_parse(&p, (const uint8_t *)in, strlen(in)), RESP_PARSE_DONE);
    CHECK_EQ_INT(p.consumed, strlen(in));
    REQUIRE(p.argc == 2);
    CHECK_EQ_INT(p.arg_off[0], 8);
    CHECK_EQ_INT(p.arg_len[0], 3);
    CHECK_MEM(resp_arg(&p, (const uint8_t *)in, 0), "GET", 3);
    CHECK_MEM(resp_arg(&p, (const uint8_t *)in, 1), "k", 1);
    CHECK(!p.args_inline);
    /* the result survives an explicit reset (the worker resets after DONE) */
    resp_parser_reset(&p);
    CHECK_EQ_INT(p.argc, 2);
    resp_parser_free(&p);
}

TEST(resp_parse_pipelined_and_chunked)
{
    static const char in[] =
        "*1\r\n$4\r\nPING\r\n"
        "*0\r\n"
        "PING\r\n"
        "\n"
        "*3\r\n$3\r\nSET\r\n$0\r\n\r\n$5\r\na\r\nb\x00\r\n"
        "*-1\r\n"
        "   \t\r\n"
        "SET \"a b\" 'c'\n"
        "*1\r\n$4\r\nQUIT\r\n";
    check_chunking(in, sizeof in - 1,
                   "DONE[PING] EMPTY DONE[PING] EMPTY DONE[SET,,a\\0d\\0ab\\00] EMPTY EMPTY DONE[SET,a b,c] DONE[QUIT]");
}

/* ---- resp_peek: the look ahead of a pipelined client (pipe_prefetch.c) ---- */

TEST(resp_peek_finds_length_and_key_of_a_plain_multibulk)
{
    static const char in[] = "*3\r\n$3\r\nSET\r\n$5\r\nkey:1\r\n$3\r\nxyz\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    size_t total = 0, klen = 0;
    const uint8_t *key = NULL;
    REQUIRE(resp_peek((const uint8_t *)in, sizeof in - 1, &total, &key, &klen));
    CHECK_EQ_INT(total, 33);
    CHECK_MEM(key, "key:1", 5);
    CHECK_EQ_INT(klen, 5);
    /* resp_parse consumes the same bytes */
    resp_parser_t p;
    resp_parser_init(&p, RESP_DEFAULT_MAX_BULK);
    CHECK_EQ_INT(resp_parse(&p, (const uint8_t *)in, sizeof in - 1), RESP_PARSE_DONE);
    CHECK_EQ_INT(p.consumed, total);
    resp_parser_free(&p);
    REQUIRE(resp_peek((const uint8_t *)in + total, sizeof in - 1 - total, &total, &key, &klen));
    CHECK_MEM(key, "k", 1);
    CHECK_EQ_INT(total, 20);
}

TEST(resp_peek_refuses_what_is_not_a_complete_plain_multibulk)
{
    static const char in[] = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    size_t total, klen;
    const uint8_t *key;
    /* every truncation, and every prefix read from a copy of its exact size
     * (an over-read shows under ASan) */
    for (size_t n = 0; n < sizeof in - 1; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, in, n);
        CHECK(!resp_peek(copy, n, &total, &key, &klen));
        free(copy);
    }
    static const char *const bad[] = {
        "PING\r\n", "*1\r\n$4\r\nPING\r\n", "*0\r\n", "*-1\r\n", "*2\n$3\r\nGET\r\n$1\r\nk\r\n",
        "*2\r\n+3\r\nGET\r\n$1\r\nk\r\n", "*2\r\n$-1\r\n$1\r\nk\r\n", "*2\r\n$3\r\nGET\r\n$1234567890\r\nk\r\n",
        "*99999\r\n$3\r\nGET\r\n$1\r\nk\r\n", "*\r\n", "*2\r\n$03\r\nGET\r\n$1\r\nk\r\n", "*2\r\n$\r\nGET\r\n$1\r\nk\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!resp_peek((const uint8_t *)bad[i], strlen(bad[i]), &total, &key, &klen));
}

TEST(resp_parse_incomplete_is_more)
{
    static const char in[] = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    for (size_t n = 0; n < sizeof in - 1; n++) {
        resp_parser_t p;
        resp_parser_init(&p, RESP_DEFAULT_MAX_BULK);
        CHECK_EQ_INT(resp_parse(&p, (const uint8_t *)in, n), RESP_PARSE_MORE);
        resp_parser_free(&p);
    }
}

TEST(resp_parse_empty_multibulk)
{
    CHECK_EQ_STR(T("*0\r\n"), "EMPTY");
    CHECK_EQ_STR(T("*-1\r\n"), "EMPTY");
    CHECK_EQ_STR(T("*-5\r\nPING\r\n"), "EMPTY DONE[PING]");
    CHECK_EQ_STR(T("*-9223372036854775808\r\n"), "EMPTY");
    resp_parser_t p;
    resp_parser_init(&p, RESP_DEFAULT_MAX_BULK);
    CHECK_EQ_INT(resp_parse(&p, (const uint8_t *)"*-1\r\nxx", 7), RESP_PARSE_EMPTY);
    CHECK_EQ_INT(p.consumed, 5);
    CHECK_EQ_INT(p.argc, 0);
    resp_parser_free(&p);
}

TEST(resp_parse_multibulk_count_errors)
{
    const char *e = "ERR(Protocol error: invalid multibulk length)";
    CHECK_EQ_STR(T("*abc\r\n"), e);
    CHECK_EQ_STR(T("*\r\n"), e);
    CHECK_EQ_STR(T("*+1\r\n"), e);
    CHECK_EQ_STR(T("*01\r\n"), e);
    CHECK_EQ_STR(T("*-0\r\n"), e);
    CHECK_EQ_STR(T("*1 \r\n"), e);
    CHECK_EQ_STR(T("*2147483648\r\n"), e);
    CHECK_EQ_STR(T("*3000000000\r\n"), e);
    CHECK_EQ_STR(T("*99999999999999999999\r\n"), e);  /* overflows long long */
    CHECK_EQ_STR(T("*000000000000000000001\r\n"), e); /* 21 characters */
    /* the largest accepted count does not allocate for what it promises */
    resp_parser_t p;
    resp_parser_init(&p, RESP_DEFAULT_MAX_BULK);
    CHECK_EQ_INT(resp_parse(&p, (const uint8_t *)"*2147483647\r\n$1\r\na\r\n", 20), RESP_PARSE_MORE);
    CHECK_EQ_INT(p.argc, 1);
    CHECK(p.arg_cap <= 8);
    resp_parser_free(&p);
}

TEST(resp_parse_bulk_errors)
{
    const char *e = "ERR(Protocol error: invalid bulk length)";
    CHECK_EQ_STR(T("*1\r\n$-5\r\n"), e);
    CHECK_EQ_STR(T("*1\r\n$-1\r\n"), e);
    CHECK_EQ_STR(T("*1\r\n$-0\r\n"), e);
    CHECK_EQ_STR(T("*1\r\n$\r\n"), e);
    CHECK_EQ_STR(T("*1\r\n$01\r\n"), e);
    CHECK_EQ_STR(T("*1\r\n$x\r\n"), e);
    CHECK_EQ_STR(T("*1\r\n$536870913\r\n"), e);
    CHECK_EQ_STR(T("*1\r\n$536870912\r\n"), "MORE");
    CHECK_EQ_STR(trace_parse("*1\r\n$101\r\n", 11, 0, true, 100), e);
    CHECK_EQ_STR(trace_parse("*1\r\n$100\r\n", 11, 0, true, 100), "MORE");
    CHECK_EQ_STR(T("*2\r\nx3\r\n"), "ERR(Protocol error: expected '$', got 'x')");
    CHECK_EQ_STR(T("*2\r\n$1\r\na\r\n:3\r\n"), "ERR(Protocol error: expected '$', got ':')");
    /* Redis maps CR and LF in error texts to spaces */
    CHECK_EQ_STR(T("*1\r\n\r\n"), "ERR(Protocol error: expected '$', got ' ')");
    CHECK_EQ_STR(T("*1\r\n\n\r\n"), "ERR(Protocol error: expected '$', got ' ')");
    CHECK_EQ_STR(T("*1\r\n\xff\r\n"), "ERR(Protocol error: expected '$', got '\xff')");
    /* the '$' check waits for the whole line, as Redis */
    CHECK_EQ_STR(T("*2\r\nx"), "MORE");
}

TEST(resp_parse_unauthenticated_limits)
{
    CHECK_EQ_STR(T_UNAUTH("*11\r\n"), "ERR(Protocol error: unauthenticated multibulk length)");
    CHECK_EQ_STR(T_UNAUTH("*10\r\n"), "MORE");
    CHECK_EQ_STR(T_UNAUTH("*2\r\n$4\r\nAUTH\r\n$16385\r\n"), "ERR(Protocol error: unauthenticated bulk length)");
    CHECK_EQ_STR(T_UNAUTH("*2\r\n$4\r\nAUTH\r\n$16384\r\n"), "MORE");
    /* the invalid checks come first */
    CHECK_EQ_STR(T_UNAUTH("*2147483648\r\n"), "ERR(Protocol error: invalid multibulk length)");
    /* inline requests have no such limit */
    CHECK_EQ_STR(T_UNAUTH("a b c d e f g h i j k l\r\n"), "DONE[a,b,c,d,e,f,g,h,i,j,k,l]");
    /* the same bytes are fine once authenticated */
    CHECK_EQ_STR(T("*11\r\n"), "MORE");
}

TEST(resp_parse_too_big_lines)
{
    size_t n = 70000;
    char *in = malloc(n + 8);
    /* "*" + 65536 digits: 65537 bytes without '\r' */
    in[0] = '*';
    memset(in + 1, '1', 65536);
    CHECK_EQ_STR(trace_parse(in, 65537, 0, true, RESP_DEFAULT_MAX_BULK), "ERR(Protocol error: too big mbulk count string)");
    CHECK_EQ_STR(trace_parse(in, 65536, 0, true, RESP_DEFAULT_MAX_BULK), "MORE");
    /* fed in pieces, the limit fires when the 65537th byte arrives */
    CHECK_EQ_STR(trace_parse(in, 65537, 1000, true, RESP_DEFAULT_MAX_BULK), "ERR(Protocol error: too big mbulk count string)");
    /* a long line that does end is just an invalid number */
    memset(in + 1, '1', n - 1);
    memcpy(in + n, "\r\n", 2);
    CHECK_EQ_STR(trace_parse(in, n + 2, 0, true, RESP_DEFAULT_MAX_BULK), "ERR(Protocol error: invalid multibulk length)");

    memcpy(in, "*1\r\n$", 5);
    memset(in + 5, '1', 65536);
    CHECK_EQ_STR(trace_parse(in, 5 + 65536, 0, true, RESP_DEFAULT_MAX_BULK), "ERR(Protocol error: too big bulk count string)");
    CHECK_EQ_STR(trace_parse(in, 4 + 65536, 0, true, RESP_DEFAULT_MAX_BULK), "MORE");

    memset(in, 'A', n);
    CHECK_EQ_STR(trace_parse(in, 65537, 0, true, RESP_DEFAULT_MAX_BULK), "ERR(Protocol error: too big inline request)");
    CHECK_EQ_STR(trace_parse(in, 65536, 0, true, RESP_DEFAULT_MAX_BULK), "MORE");
    CHECK_EQ_STR(trace_parse(in, 65537, 4096, true, RESP_DEFAULT_MAX_BULK), "ERR(Protocol error: too big inline request)");
    /* a long inline line that arrives whole with its '\n' is accepted */
    in[n - 1] = '\n';
    resp_parser_t p;
    resp_parser_init(&p, RESP_DEFAULT_MAX_BULK);
    CHECK_EQ_INT(resp_parse(&p, (const uint8_t *)in, n), RESP_PARSE_DONE);
    CHECK_EQ_INT(p.argc, 1);
    CHECK_EQ_INT(p.arg_len[0], n - 1);
    resp_parser_free(&p);
    free(in);
}

TEST(resp_parse_redis_quirks)
{
    /* the byte after '\r' is not checked */
    CHECK_EQ_STR(T("*1\rX$4\r\nPING\r\n"), "DONE[PING]");
    /* nor are the two bytes after a bulk */
    CHECK_EQ_STR(T("*1\r\n$4\r\nPINGxy"), "DONE[PING]");
    /* a NUL hides the line end (Redis searches with strchr) */
    CHECK_EQ_STR(T("PING\x00\r\n"), "MORE");
    CHECK_EQ_STR(T("*1\x00\r\n$4\r\nPING\r\n"), "MORE");
    CHECK_EQ_STR(T("*1\r\n\x00"), "MORE");
    CHECK_EQ_STR(T("*1\r\n$4\x00\r\n"), "MORE");
    /* ... until the line limit fires */
    size_t n = 65537 + 7;
    char *in = malloc(n);
    memcpy(in, "PING\x00\r\n", 7);
    memset(in + 7, 'A', n - 7);
    CHECK_EQ_STR(trace_parse(in, n, 0, true, RESP_DEFAULT_MAX_BULK), "ERR(Protocol error: too big inline request)");
    CHECK_EQ_STR(trace_parse(in, n, 3000, true, RESP_DEFAULT_MAX_BULK), "ERR(Protocol error: too big inline request)");
    free(in);
    /* NUL inside bulk data is fine */
    CHECK_EQ_STR(T("*1\r\n$4\r\nPI\x00G\r\n"), "DONE[PI\\00G]");
}

TEST(resp_parse_buffer_may_move)
{
    /* arguments are offsets: a parse resumed on a moved buffer still points right */
    const char *a = "*2\r\n$3\r\nGET\r\n$5\r\nhel";
    const char *full = "*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n";
    resp_parser_t p;
    resp_parser_init(&p, RESP_DEFAULT_MAX_BULK);
    char *b1 = strdup(a);
    CHECK_EQ_INT(resp_parse(&p, (const uint8_t *)b1, strlen(b1)), RESP_PARSE_MORE);
    free(b1);
    char *b2 = strdup(full);
    CHECK_EQ_INT(resp_parse(&p, (const uint8_t *)b2, strlen(b2)), RESP_PARSE_DONE);
    REQUIRE(p.argc == 2);
    CHECK_MEM(resp_arg(&p, (const uint8_t *)b2, 1), "hello", 5);
    free(b2);
    resp_parser_free(&p);
}

TEST(resp_parse_reset_drops_progress)
{
    resp_parser_t p;
    resp_parser_init(&p, RESP_DEFAULT_MAX_BULK);
    CHECK_EQ_INT(resp_parse(&p, (const uint8_t *)"*2\r\n$3\r\nGET\r\n", 13), RESP_PARSE_MORE);
    resp_parser_reset(&p);
    CHECK_EQ_INT(resp_parse(&p, (const uint8_t *)"PING\r\n", 6), RESP_PARSE_DONE);
    CHECK_EQ_INT(p.argc, 1);
    CHECK(p.args_inline);
    resp_parser_free(&p);
}

/* 5463 arguments as redis-cli --cluster create sends CLUSTER ADDSLOTS; fed one
 * byte at a time this is ~30k calls and only finishes quickly if each call
 * resumes instead of rescanning. */
TEST(resp_parse_addslots_byte_by_byte)
{
    size_t cap = 64 * 1024, len = 0;
    char *in = malloc(cap);
    len += (size_t)sprintf(in + len, "*5465\r\n$7\r\nCLUSTER\r\n$8\r\nADDSLOTS\r\n");
    for (int s = 0; s < 5463; s++) {
        char num[16];
        int k = sprintf(num, "%d", s);
        len += (size_t)sprintf(in + len, "$%d\r\n%s\r\n", k, num);
    }
    resp_parser_t p;
    resp_parser_init(&p, RESP_DEFAULT_MAX_BULK);
    int r = RESP_PARSE_MORE;
    size_t n;
    for (n = 1; n <= len; n++) {
        r = resp_parse(&p, (const uint8_t *)in, n);
        if (r != RESP_PARSE_MORE) break;
    }
    CHECK_EQ_INT(r, RESP_PARSE_DONE);
    CHECK_EQ_INT(n, len);
    CHECK_EQ_INT(p.consumed, len);
    REQUIRE(p.argc == 5465);
    CHECK_MEM(resp_arg(&p, (const uint8_t *)in, 1), "ADDSLOTS", 8);
    CHECK_EQ_INT(p.arg_len[5464], 4);
    CHECK_MEM(resp_arg(&p, (const uint8_t *)in, 5464), "5462", 4);
    CHECK(p.arg_cap <= 5465);
    resp_parser_free(&p);
    free(in);
}

TEST(resp_parse_big_bulk_in_pieces)
{
    size_t blen = 8 * 1024 * 1024;
    char hdr[64];
    int h = sprintf(hdr, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%zu\r\n", blen);
    size_t len = (size_t)h + blen + 2;
    char *in = malloc(len);
    memcpy(in, hdr, (size_t)h);
    for (size_t i = 0; i < blen; i++) in[h + i] = (char)('a' + i % 26);
    memcpy(in + h + blen, "\r\n", 2);
    resp_parser_t p;
    resp_parser_init(&p, RESP_DEFAULT_MAX_BULK);
    int r = RESP_PARSE_MORE;
    for (size_t n = 0; n <= len && r == RESP_PARSE_MORE; n += n < len && len - n < 4096 ? len - n : 4096)
        r = resp_parse(&p, (const uint8_t *)in, n);
    CHECK_EQ_INT(r, RESP_PARSE_DONE);
    CHECK_EQ_INT(p.consumed, len);
    REQUIRE(p.argc == 3);
    CHECK_EQ_INT(p.arg_len[2], blen);
    CHECK_EQ_INT(p.arg_off[2], h);
    resp_parser_free(&p);
    free(in);
}

/* ---- parser: inline ---- */

TEST(resp_parse_inline_basic)
{
    CHECK_EQ_STR(T("PING\r\n"), "DONE[PING]");
    CHECK_EQ_STR(T("PING\n"), "DONE[PING]");
    CHECK_EQ_STR(T("PING"), "MORE");
    CHECK_EQ_STR(T("PING\r"), "MORE");
    CHECK_EQ_STR(T("\r\n"), "EMPTY");
    CHECK_EQ_STR(T("\n"), "EMPTY");
    CHECK_EQ_STR(T("  \t \r\n"), "EMPTY");
    CHECK_EQ_STR(T("\n\n\nPING\n"), "EMPTY EMPTY EMPTY DONE[PING]");
    CHECK_EQ_STR(T("  SET   k  v  \r\n"), "DONE[SET,k,v]");
    /* '\r' inside the line separates words; only the last one is dropped */
    CHECK_EQ_STR(T("ECHO a\rb\r\n"), "DONE[ECHO,a,b]");
    CHECK_EQ_STR(T("ECHO\r\r\n"), "DONE[ECHO]");
    /* \v and \f are skipped between words but do not end a word */
    CHECK_EQ_STR(T("ECHO a\vb\r\n"), "DONE[ECHO,a\\0bb]");
    CHECK_EQ_STR(T("\vECHO x\r\n"), "DONE[ECHO,x]");
    CHECK_EQ_STR(T("ECHO x\f\r\n"), "DONE[ECHO,x\\0c]");
    check_chunking("SYNC\r\n*1\r\n$4\r\nPING\r\n", 20, "DONE[SYNC] DONE[PING]");
}

TEST(resp_parse_inline_quotes)
{
    CHECK_EQ_STR(T("SET \"a b\" 'c d'\r\n"), "DONE[SET,a b,c d]");
    CHECK_EQ_STR(T("ECHO \"a\\x41\\n\"\r\n"), "DONE[ECHO,aA\\0a]");
    CHECK_EQ_STR(T("ECHO \"\\x41\\x4a\\xff\"\r\n"), "DONE[ECHO,AJ\\ff]");
    CHECK_EQ_STR(T("ECHO \"\\r\\t\\b\\a\\q\\\"\\\\\"\r\n"), "DONE[ECHO,\\0d\\09\\08\\07q\"\\5c]");
    CHECK_EQ_STR(T("ECHO \"a\\xzz\"\r\n"), "DONE[ECHO,axzz]");
    CHECK_EQ_STR(T("ECHO \"a\\x4\"\r\n"), "DONE[ECHO,ax4]");
    CHECK_EQ_STR(T("ECHO 'it\\'s'\r\n"), "DONE[ECHO,it's]");
    CHECK_EQ_STR(T("ECHO 'a\\nb'\r\n"), "DONE[ECHO,a\\5cnb]");
    CHECK_EQ_STR(T("ECHO a\"b c\"\r\n"), "DONE[ECHO,ab c]");
    CHECK_EQ_STR(T("ECHO \"a\"\v\r\n"), "DONE[ECHO,a]");
    CHECK_EQ_STR(T("ECHO \"\" ''\r\n"), "DONE[ECHO,,]");
    CHECK_EQ_STR(T("ECHO \"a\" \"b\"\r\n"), "DONE[ECHO,a,b]");
    const char *e = "ERR(Protocol error: unbalanced quotes in request)";
    CHECK_EQ_STR(T("SET \"a\"b 1\r\n"), e);
    CHECK_EQ_STR(T("SET 'a'b 1\r\n"), e);
    CHECK_EQ_STR(T("ECHO \"a\r\n"), e);
    CHECK_EQ_STR(T("ECHO 'a\r\n"), e);
    CHECK_EQ_STR(T("ECHO \"a\\\r\n"), e);
    CHECK_EQ_STR(T("ECHO \"a\\x4\r\n"), e);
    /* a quoted "\n" escape is data, the real '\n' ends the line first */
    CHECK_EQ_STR(T("ECHO \"a\nb\"\r\n"), e);
}

/* ---- writer ---- */

static void check_buf(resp_buf_t *b, const char *want)
{
    size_t n = strlen(want);
    CHECK_EQ_INT(b->len, n);
    if (b->len == n) CHECK_MEM(b->data, want, n);
    else {
        char got[512] = "";
        show_bytes(got, sizeof got, (const uint8_t *)b->data, b->len);
        CHECK_EQ_STR(got, want);
    }
    resp_buf_reset(b);
}

TEST(resp_write_scalars)
{
    for (int proto = 2; proto <= 3; proto++) {
        resp_buf_t b;
        resp_buf_init(&b, proto);
        resp_add_simple(&b, "OK");
        check_buf(&b, "+OK\r\n");
        resp_add_simple_len(&b, "PONGxx", 4);
        check_buf(&b, "+PONG\r\n");
        resp_add_int(&b, 0);
        check_buf(&b, ":0\r\n");
        resp_add_int(&b, -42);
        check_buf(&b, ":-42\r\n");
        resp_add_int(&b, (-9223372036854775807LL - 1));
        check_buf(&b, ":-9223372036854775808\r\n");
        resp_add_bulk(&b, "a\r\nb", 4);
        check_buf(&b, "$4\r\na\r\nb\r\n");
        resp_add_bulk(&b, "", 0);
        check_buf(&b, "$0\r\n\r\n");
        resp_add_bulk_str(&b, "hello");
        check_buf(&b, "$5\r\nhello\r\n");
        resp_add_bulk_ll(&b, 12345);
        check_buf(&b, "$5\r\n12345\r\n");
        resp_add_bulk_ll(&b, -1);
        check_buf(&b, "$2\r\n-1\r\n");
        resp_add_array(&b, 3);
        check_buf(&b, "*3\r\n");
        resp_add_array(&b, 0);
        check_buf(&b, "*0\r\n");
        resp_buf_append(&b, "raw", 3);
        check_buf(&b, "raw");
        resp_buf_free(&b);
    }
}

TEST(resp_write_resp2_vs_resp3)
{
    resp_buf_t b2, b3;
    resp_buf_init(&b2, 2);
    resp_buf_init(&b3, 3);
    resp_add_null(&b2);        check_buf(&b2, "$-1\r\n");
    resp_add_null(&b3);        check_buf(&b3, "_\r\n");
    resp_add_bulk_str(&b2, NULL); check_buf(&b2, "$-1\r\n");
    resp_add_bulk_str(&b3, NULL); check_buf(&b3, "_\r\n");
    resp_add_null_array(&b2);  check_buf(&b2, "*-1\r\n");
    resp_add_null_array(&b3);  check_buf(&b3, "_\r\n");
    resp_add_map(&b2, 7);      check_buf(&b2, "*14\r\n");
    resp_add_map(&b3, 7);      check_buf(&b3, "%7\r\n");
    resp_add_map(&b2, 0);      check_buf(&b2, "*0\r\n");
    resp_add_map(&b3, 0);      check_buf(&b3, "%0\r\n");
    resp_add_set(&b2, 2);      check_buf(&b2, "*2\r\n");
    resp_add_set(&b3, 2);      check_buf(&b3, "~2\r\n");
    resp_add_bool(&b2, true);  check_buf(&b2, ":1\r\n");
    resp_add_bool(&b2, false); check_buf(&b2, ":0\r\n");
    resp_add_bool(&b3, true);  check_buf(&b3, "#t\r\n");
    resp_add_bool(&b3, false); check_buf(&b3, "#f\r\n");
    /* INFO cluster as 7.0.15 sends it */
    const char *info = "# Cluster\r\ncluster_enabled:1\r\n";
    resp_add_verbatim(&b2, info, strlen(info));
    check_buf(&b2, "$30\r\n# Cluster\r\ncluster_enabled:1\r\n\r\n");
    resp_add_verbatim(&b3, info, strlen(info));
    check_buf(&b3, "=34\r\ntxt:# Cluster\r\ncluster_enabled:1\r\n\r\n");
    resp_add_verbatim(&b3, "", 0);
    check_buf(&b3, "=4\r\ntxt:\r\n");
    resp_buf_free(&b2);
    resp_buf_free(&b3);
}

TEST(resp_write_double)
{
    resp_buf_t b2, b3;
    resp_buf_init(&b2, 2);
    resp_buf_init(&b3, 3);
    /* these match ZSCORE replies of redis-server 7.0.15 */
    resp_add_double(&b2, 0.1);        check_buf(&b2, "$19\r\n0.10000000000000001\r\n");
    resp_add_double(&b3, 0.1);        check_buf(&b3, ",0.10000000000000001\r\n");
    resp_add_double(&b2, 1.5);        check_buf(&b2, "$3\r\n1.5\r\n");
    resp_add_double(&b3, 1.5);        check_buf(&b3, ",1.5\r\n");
    resp_add_double(&b2, 0.0);        check_buf(&b2, "$1\r\n0\r\n");
    resp_add_double(&b3, 0.0);        check_buf(&b3, ",0\r\n");
    resp_add_double(&b2, INFINITY);   check_buf(&b2, "$3\r\ninf\r\n");
    resp_add_double(&b3, INFINITY);   check_buf(&b3, ",inf\r\n");
    resp_add_double(&b2, -INFINITY);  check_buf(&b2, "$4\r\n-inf\r\n");
    resp_add_double(&b3, -INFINITY);  check_buf(&b3, ",-inf\r\n");
    resp_add_double(&b3, NAN);        check_buf(&b3, ",nan\r\n");
    resp_add_double(&b2, NAN);        check_buf(&b2, "$3\r\nnan\r\n");
    resp_add_double(&b3, 1e300);      check_buf(&b3, ",1.0000000000000001e+300\r\n");
    resp_add_double(&b3, -2.5e-7);    check_buf(&b3, ",-2.4999999999999999e-07\r\n");
    resp_add_double(&b3, 3.0);        check_buf(&b3, ",3\r\n");
    resp_buf_free(&b2);
    resp_buf_free(&b3);
}

/* Whole scores take a path of their own (no snprintf): every one must read
 * as %.17g writes it, -0 and the edges of 2^53 included. */
TEST(resp_write_double_whole_numbers_as_printf)
{
    const double edge = 9007199254740992.0;   /* 2^53 */
    double vals[] = { 0.0, -0.0, 1, -1, 7, 10, 99999, -123456789, 1e15, -1e15, 1e16, 1e17, 1e18,
                      edge - 1, -(edge - 1), edge, -edge, edge + 2, 1e300, 0.5, -0.5, 1.0000000000000002 };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        for (int k = -2; k <= 2; k++) {
            double v = vals[i] + (fabs(vals[i]) < 1e15 ? k : 0);
            if (vals[i] == 0 && k == 0) v = vals[i];           /* keep -0 itself */
            char want[64], wire[96];
            snprintf(want, sizeof want, "%.17g", v);
            snprintf(wire, sizeof wire, ",%s\r\n", want);
            resp_buf_t b;
            resp_buf_init(&b, 3);
            resp_add_double(&b, v);
            CHECK(b.len == strlen(wire) && memcmp(b.data, wire, b.len) == 0);
            resp_buf_free(&b);
        }
    }
}

TEST(resp_write_errors)
{
    resp_buf_t b;
    resp_buf_init(&b, 2);
    resp_add_error(&b, "wrong number of arguments for 'get' command");
    check_buf(&b, "-ERR wrong number of arguments for 'get' command\r\n");
    resp_add_error(&b, "MOVED 3999 127.0.0.1:6381");
    check_buf(&b, "-MOVED 3999 127.0.0.1:6381\r\n");
    resp_add_error(&b, "-ASK 3999 127.0.0.1:6381");
    check_buf(&b, "-ASK 3999 127.0.0.1:6381\r\n");
    resp_add_error(&b, "ERR syntax error");
    check_buf(&b, "-ERR syntax error\r\n");
    resp_add_error(&b, "WRONGTYPE Operation against a key holding the wrong kind of value");
    check_buf(&b, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    resp_add_error(&b, "CLUSTERDOWN Hash slot not served");
    check_buf(&b, "-CLUSTERDOWN Hash slot not served\r\n");
    resp_add_error(&b, "CROSSSLOT Keys in request don't hash to the same slot");
    check_buf(&b, "-CROSSSLOT Keys in request don't hash to the same slot\r\n");
    resp_add_error(&b, "TRYAGAIN Multiple keys request during rehashing of slot");
    check_buf(&b, "-TRYAGAIN Multiple keys request during rehashing of slot\r\n");
    /* upper-case words that are not error codes get ERR, as in Redis */
    resp_add_error(&b, "DB index is out of range");
    check_buf(&b, "-ERR DB index is out of range\r\n");
    resp_add_error(&b, "EXEC without MULTI");
    check_buf(&b, "-ERR EXEC without MULTI\r\n");
    resp_add_error(&b, "MOVEDX 1 a:1");
    check_buf(&b, "-ERR MOVEDX 1 a:1\r\n");
    resp_add_error(&b, "Protocol error: invalid multibulk length");
    check_buf(&b, "-ERR Protocol error: invalid multibulk length\r\n");
    resp_add_error(&b, "");
    check_buf(&b, "-ERR \r\n");
    resp_add_error(&b, "bad\r\nthing\n");
    check_buf(&b, "-ERR bad  thing\r\n");
    resp_add_errorf(&b, "unknown subcommand '%s'. Try CLUSTER HELP.", "foo");
    check_buf(&b, "-ERR unknown subcommand 'foo'. Try CLUSTER HELP.\r\n");
    resp_add_errorf(&b, "%s %d %s:%d", "MOVED", 12182, "10.0.0.1", 7000);
    check_buf(&b, "-MOVED 12182 10.0.0.1:7000\r\n");
    /* longer than the stack buffer */
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    resp_add_errorf(&b, "long %s\n", big);
    CHECK_EQ_INT(b.len, 5 + 5 + 599 + 2);
    CHECK_MEM(b.data, "-ERR long xxx", 13);
    CHECK_MEM(b.data + b.len - 3, "x\r\n", 3);
    resp_buf_reset(&b);
    /* errors are the same in RESP3 */
    b.proto = 3;
    resp_add_error(&b, "NOPROTO unsupported protocol version");
    check_buf(&b, "-NOPROTO unsupported protocol version\r\n");
    resp_buf_free(&b);
}

TEST(resp_bulk_collect_adds_and_counts)
{
    resp_buf_t b;
    resp_buf_init(&b, 2);
    resp_bulk_list_t list = { &b, 0 };
    resp_bulk_collect((const uint8_t *)"key", 3, &list);
    resp_bulk_collect((const uint8_t *)"", 0, &list);
    resp_bulk_collect((const uint8_t *)"a\0b", 3, &list);   /* binary-safe */
    CHECK_EQ_INT(list.n, 3);
    static const char want[] = "$3\r\nkey\r\n$0\r\n\r\n$3\r\na\0b\r\n";
    CHECK_EQ_INT(b.len, sizeof want - 1);
    if (b.len == sizeof want - 1) CHECK_MEM(b.data, want, sizeof want - 1);
    resp_buf_free(&b);
}

TEST(resp_write_deferred)
{
    resp_buf_t b;
    resp_buf_init(&b, 2);
    resp_add_int(&b, 7);
    size_t h = resp_add_deferred_len(&b);
    resp_add_bulk_str(&b, "a");
    resp_add_bulk_str(&b, "b");
    resp_set_deferred_array(&b, h, 2);
    check_buf(&b, ":7\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n");

    /* nested, inner set first (the usual order) */
    size_t outer = resp_add_deferred_len(&b);
    for (int i = 0; i < 3; i++) {
        size_t inner = resp_add_deferred_len(&b);
        for (int j = 0; j <= i; j++) resp_add_int(&b, j);
        resp_set_deferred_array(&b, inner, i + 1);
    }
    resp_set_deferred_array(&b, outer, 3);
    check_buf(&b, "*3\r\n*1\r\n:0\r\n*2\r\n:0\r\n:1\r\n*3\r\n:0\r\n:1\r\n:2\r\n");
    CHECK_EQ_INT(b.deferred_count, 0);

    /* outer set first: the pending inner slot moves with the insertion */
    outer = resp_add_deferred_len(&b);
    size_t inner = resp_add_deferred_len(&b); /* same offset as outer */
    resp_add_int(&b, 1);
    size_t second = resp_add_deferred_len(&b);
    resp_add_int(&b, 2);
    resp_set_deferred_array(&b, outer, 2);
    resp_set_deferred_set(&b, second, 1);
    resp_set_deferred_array(&b, inner, 1);
    check_buf(&b, "*2\r\n*1\r\n:1\r\n*1\r\n:2\r\n");

    /* a used handle is ignored */
    h = resp_add_deferred_len(&b);
    resp_set_deferred_array(&b, h, 0);
    resp_set_deferred_array(&b, h, 5);
    check_buf(&b, "*0\r\n");

    /* many sequential deferred lengths reuse ids */
    for (int i = 0; i < 1000; i++) {
        size_t d = resp_add_deferred_len(&b);
        resp_set_deferred_map(&b, d, 0);
    }
    CHECK_EQ_INT(b.deferred_count, 0);
    CHECK(b.deferred_cap <= 8);
    CHECK_EQ_INT(b.len, 4000);
    resp_buf_reset(&b);

    /* maps and sets per protocol */
    h = resp_add_deferred_len(&b);
    resp_add_bulk_str(&b, "k");
    resp_add_int(&b, 1);
    resp_set_deferred_map(&b, h, 1);
    check_buf(&b, "*2\r\n$1\r\nk\r\n:1\r\n");
    h = resp_add_deferred_len(&b);
    resp_set_deferred_set(&b, h, 12);
    check_buf(&b, "*12\r\n");
    b.proto = 3;
    h = resp_add_deferred_len(&b);
    resp_add_bulk_str(&b, "k");
    resp_add_int(&b, 1);
    resp_set_deferred_map(&b, h, 1);
    check_buf(&b, "%1\r\n$1\r\nk\r\n:1\r\n");
    h = resp_add_deferred_len(&b);
    resp_set_deferred_set(&b, h, 12);
    check_buf(&b, "~12\r\n");
    h = resp_add_deferred_len(&b);
    resp_set_deferred_array(&b, h, 1234567);
    check_buf(&b, "*1234567\r\n");

    /* reset forgets pending slots */
    resp_add_deferred_len(&b);
    resp_buf_reset(&b);
    CHECK_EQ_INT(b.deferred_count, 0);
    resp_buf_free(&b);
    CHECK(b.data == NULL && b.len == 0);
}

/* The RESP2 bytes of an array of bulk strings are a valid request: writing
 * one and parsing it back must give the same arguments. */
TEST(resp_write_then_parse)
{
    resp_buf_t b;
    resp_buf_init(&b, 2);
    size_t h = resp_add_deferred_len(&b);
    resp_add_bulk_str(&b, "SET");
    resp_add_bulk(&b, "k\r\n\0", 4);
    resp_add_bulk_ll(&b, -77);
    resp_set_deferred_array(&b, h, 3);
    resp_parser_t p;
    resp_parser_init(&p, RESP_DEFAULT_MAX_BULK);
    CHECK_EQ_INT(resp_parse(&p, (const uint8_t *)b.data, b.len), RESP_PARSE_DONE);
    CHECK_EQ_INT(p.consumed, b.len);
    REQUIRE(p.argc == 3);
    CHECK_EQ_INT(p.arg_len[1], 4);
    CHECK_MEM(resp_arg(&p, (const uint8_t *)b.data, 1), "k\r\n\0", 4);
    CHECK_MEM(resp_arg(&p, (const uint8_t *)b.data, 2), "-77", 3);
    resp_parser_free(&p);
    resp_buf_free(&b);
}

TEST(resp_parse_shorter_buffer_is_safe)
{
    /* breaking the "len never shrinks" contract must not read stale bytes */
    resp_parser_t p;
    resp_parser_init(&p, RESP_DEFAULT_MAX_BULK);
    const char *in = "*2\r\n$3\r\nGET\r\n$5\r\nhe";
    CHECK_EQ_INT(resp_parse(&p, (const uint8_t *)in, strlen(in)), RESP_PARSE_MORE);
    CHECK_EQ_INT(resp_parse(&p, (const uint8_t *)in, 5), RESP_PARSE_MORE);
    CHECK_EQ_INT(p.argc, 1);
    resp_parser_free(&p);
}

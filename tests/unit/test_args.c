/* test_args.c - unit tests for actors/commands/args.c: keyword matching folds
 * ASCII letters only (whatever the locale would say about other bytes), and
 * lengths must agree exactly; integers follow string2ll. */
#include <stdint.h>
#include "actors/commands/args.h"
#include "tests/unit/unit.h"

#define B(s) ((const uint8_t *)(s))

TEST(args_keyword_ascii_fold)
{
    CHECK(arg_is(B("NX"), 2, "nx"));
    CHECK(arg_is(B("nx"), 2, "NX"));
    CHECK(arg_is(B("KeepTTL"), 7, "keepttl"));
    CHECK(!arg_is(B("nxx"), 3, "nx"));          /* longer argument */
    CHECK(!arg_is(B("n"), 1, "nx"));            /* shorter argument */
    CHECK(!arg_is(B("n\0"), 2, "n"));           /* an embedded NUL is a byte like any other */
    CHECK(!arg_is(B("\xC9"), 1, "\xE9"));       /* Latin-1 E-acute does not fold */
    CHECK(!arg_is(B("["), 1, "{"));             /* '[' is not an upper-case '{' */
    CHECK(arg_is(B(""), 0, ""));
}

TEST(args_integers_string2ll)
{
    long long v = 7;
    CHECK(arg_ll(B("-12"), 3, &v) && v == -12);
    v = 7;
    CHECK(!arg_ll(B("+1"), 2, &v) && v == 7);
    CHECK(!arg_ll(B("01"), 2, &v) && v == 7);
    CHECK(!arg_ll(B("1 "), 2, &v) && v == 7);
    CHECK(!arg_ll(B(""), 0, &v) && v == 7);
}

TEST(args_integer_at_replies_error)
{
    resp_buf_t r;
    resp_buf_init(&r, 2);
    const uint8_t *argv[2] = { B("incrby"), B("x1") };
    size_t lens[2] = { 6, 2 };
    cmd_ctx_t ctx = { .argc = 2, .argv = argv, .argvlen = lens, .reply = &r };
    long long v = 0;
    CHECK(!arg_ll_at(&ctx, 1, &v));
    CHECK(r.len == strlen("-ERR value is not an integer or out of range\r\n") &&
          !memcmp(r.data, "-ERR value is not an integer or out of range\r\n", r.len));
    resp_buf_free(&r);
}

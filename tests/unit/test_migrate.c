/* test_migrate.c - MIGRATE's reply reading (proto/migrate.c): lines cut as
 * 7.0.15's line reader cuts them, and the verdict over a round of replies
 * (which keys the target took, which error the client hears). */
#include <string.h>
#include "proto/migrate.h"
#include "tests/unit/unit.h"

static int feed_all(mig_line_t *l, const char *s, size_t n, char out[][64], int max)
{
    int k = 0;
    size_t pos = 0;
    while (pos < n) {
        size_t used = 0;
        bool done = mig_line_feed(l, (const uint8_t *)s + pos, n - pos, &used);
        pos += used;
        if (!done) break;
        if (k < max) {
            strncpy(out[k], l->text, 63);
            out[k][63] = '\0';
        }
        k++;
        l->len = 0;
    }
    return k;
}

TEST(migrate_lines_split_in_any_chunks)
{
    const char *in = "+OK\r\n-BUSYKEY Target key name already exists.\r\n+OK\n";
    size_t n = strlen(in);
    /* every split point gives the same three lines */
    for (size_t cut = 0; cut <= n; cut++) {
        mig_line_t l = { .len = 0 };
        char got[4][64];
        int a = feed_all(&l, in, cut, got, 4);
        int b = feed_all(&l, in + cut, n - cut, got + a, 4 - a);
        CHECK_EQ_INT(a + b, 3);
        CHECK_EQ_STR(got[0], "+OK");
        CHECK_EQ_STR(got[1], "-BUSYKEY Target key name already exists.");
        CHECK_EQ_STR(got[2], "+OK");
        CHECK_EQ_INT((int)l.len, 0);
    }
}

TEST(migrate_long_line_is_cut_as_redis)
{
    static char in[MIG_LINE_MAX + 10];
    memset(in, 'x', sizeof in);
    in[0] = '-';
    memcpy(in + sizeof in - 2, "\r\n", 2);
    mig_line_t l = { .len = 0 };
    size_t used = 0;
    CHECK(mig_line_feed(&l, (const uint8_t *)in, sizeof in, &used));
    CHECK_EQ_INT((int)used, MIG_LINE_MAX);
    CHECK_EQ_INT((int)strlen(l.text), MIG_LINE_MAX);
    l.len = 0;
    size_t used2 = 0;
    CHECK(mig_line_feed(&l, (const uint8_t *)in + used, sizeof in - used, &used2));
    CHECK_EQ_STR(l.text, "xxxxxxxx");         /* the rest: 8 x, CR LF dropped */
    CHECK_EQ_INT((int)(used + used2), (int)sizeof in);
}

TEST(migrate_verdict_takes_keys_until_an_error)
{
    mig_verdict_t v;
    mig_verdict_init(&v);
    CHECK(!mig_verdict_line(&v, MIG_ROLE_SELECT, "+OK"));
    CHECK(mig_verdict_line(&v, MIG_ROLE_KEY, "+OK"));
    CHECK(!mig_verdict_line(&v, MIG_ROLE_KEY, "-BUSYKEY Target key name already exists."));
    CHECK(mig_verdict_line(&v, MIG_ROLE_KEY, "+OK"));           /* later keys still count */
    CHECK(!mig_verdict_line(&v, MIG_ROLE_KEY, "-ERR other"));
    CHECK(v.error);
    CHECK_EQ_STR(v.error_text, "BUSYKEY Target key name already exists.");   /* the first one */
    /* DEL of a key gone here answers an integer: taken */
    CHECK(mig_verdict_line(&v, MIG_ROLE_KEY, ":1"));
}

TEST(migrate_verdict_auth_and_select_errors_fail_every_key)
{
    mig_verdict_t v;
    mig_verdict_init(&v);
    mig_verdict_line(&v, MIG_ROLE_AUTH, "-WRONGPASS invalid username-password pair or user is disabled.");
    mig_verdict_line(&v, MIG_ROLE_SELECT, "-ERR DB index is out of range");
    CHECK(!mig_verdict_line(&v, MIG_ROLE_KEY, "+OK"));
    CHECK(!mig_verdict_line(&v, MIG_ROLE_KEY, "+OK"));
    /* AUTH's error before SELECT's, as 7.0.15 picks it */
    CHECK_EQ_STR(v.error_text, "WRONGPASS invalid username-password pair or user is disabled.");

    mig_verdict_init(&v);
    mig_verdict_line(&v, MIG_ROLE_AUTH, "+OK");
    mig_verdict_line(&v, MIG_ROLE_SELECT, "-ERR DB index is out of range");
    CHECK(!mig_verdict_line(&v, MIG_ROLE_KEY, "-NOAUTH x"));
    CHECK_EQ_STR(v.error_text, "ERR DB index is out of range");
}

TEST(migrate_verdict_aux_error_fails_only_its_key)
{
    mig_verdict_t v;
    mig_verdict_init(&v);
    mig_verdict_line(&v, MIG_ROLE_AUX, "-ERR This instance has cluster support disabled");
    CHECK(!mig_verdict_line(&v, MIG_ROLE_KEY, ":1"));
    CHECK_EQ_STR(v.error_text, "ERR This instance has cluster support disabled");
    mig_verdict_line(&v, MIG_ROLE_AUX, "+OK");
    CHECK(mig_verdict_line(&v, MIG_ROLE_KEY, ":0"));
}

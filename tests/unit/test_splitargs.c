/* test_splitargs.c - the one quoting splitter that inline commands and
 * redis.conf lines share: its own edges (where text ends, what out holds, the
 * word count on errors); the two callers' cases are in test_resp.c and
 * test_config.c. */
#include <string.h>
#include "proto/splitargs.h"
#include "tests/unit/unit.h"

typedef struct { int n; char words[8][32]; } words_t;

static void collect(void *arg, const char *word, size_t len)
{
    words_t *w = arg;
    if (w->n < 8 && len < 32) {
        memcpy(w->words[w->n], word, len);
        w->words[w->n][len] = '\0';
    }
    w->n++;
}

static bool split(const char *text, size_t n, words_t *w)
{
    static char out[256];
    memset(w, 0, sizeof *w);
    memset(out, 0x55, sizeof out);
    bool ok = splitargs((const uint8_t *)text, n, out, collect, w);
    /* out is written only within the first n bytes */
    for (size_t k = n; k < sizeof out; k++) CHECK(out[k] == 0x55);
    return ok;
}

TEST(splitargs_words_and_quotes)
{
    words_t w;
    const char *t = "  set \"a\\x41\\n\" 'it\\'s' x\"y z\"  ";
    CHECK(split(t, strlen(t), &w));
    CHECK_EQ_INT(w.n, 4);
    CHECK_EQ_STR(w.words[0], "set");
    CHECK_EQ_STR(w.words[1], "aA\n");
    CHECK_EQ_STR(w.words[2], "it's");
    CHECK_EQ_STR(w.words[3], "xy z");
    CHECK(split("", 0, &w) && w.n == 0);
    CHECK(split(" \t\v\f ", 5, &w) && w.n == 0);
    /* \v and \f separate words at the start but not inside one */
    CHECK(split("a\vb", 3, &w) && w.n == 1);
}

TEST(splitargs_stops_at_n_and_at_nul)
{
    words_t w;
    /* n cuts the text: what lies beyond is never read */
    CHECK(split("one two three", 7, &w));
    CHECK_EQ_INT(w.n, 2);
    CHECK_EQ_STR(w.words[1], "two");
    /* a quote still open where n cuts is unbalanced */
    CHECK(!split("\"abc\" x", 4, &w));
    /* a NUL ends the text as in a C string */
    CHECK(split("ab\0cd", 5, &w));
    CHECK_EQ_INT(w.n, 1);
    CHECK_EQ_STR(w.words[0], "ab");
}

TEST(splitargs_errors_report_the_words_before)
{
    words_t w;
    CHECK(!split("good \"bad\"x", 11, &w));
    CHECK_EQ_INT(w.n, 1);
    CHECK(!split("'unclosed", 9, &w));
    CHECK_EQ_INT(w.n, 0);
    CHECK(!split("\"a\\", 3, &w));
}

/* What repr writes, splitargs reads back whole; plain words need no quotes. */
static void one_word(void *arg, const char *word, size_t len)
{
    char *dst = arg;
    memcpy(dst, word, len);
    dst[len] = '\0';
}

TEST(splitargs_repr_round_trips)
{
    const char *samples[] = { "plain", "two words", "q\"uote", "back\\slash", "tab\there", "\x01\x7f\xff", "" };
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        const char *s = samples[i];
        size_t n = strlen(s);
        char q[64], back[64];
        size_t need = splitargs_repr(s, n, q, sizeof q);
        CHECK(need < sizeof q);
        CHECK_EQ_INT((int)strlen(q), (int)need);
        char out[64];
        back[0] = '?';
        CHECK(splitargs((const uint8_t *)q, need, out, one_word, back));
        CHECK_EQ_STR(back, s);
    }
    CHECK(!splitargs_needs_repr("plain.aof", 9));
    CHECK(splitargs_needs_repr("my file", 7));
    char small[4];
    CHECK_EQ_INT((int)splitargs_repr("abcdef", 6, small, sizeof small), 8);
    CHECK_EQ_STR(small, "\"ab");
    char hex[16];
    splitargs_repr("\x01", 1, hex, sizeof hex);
    CHECK_EQ_STR(hex, "\"\\x01\"");
}

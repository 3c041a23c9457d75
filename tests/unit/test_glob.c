/* test_glob.c - glob_match against results observed on redis-server 7.0.15
 * (KEYS / SCAN MATCH), including its quirks, and a timing guard against
 * patterns that make naive backtracking matchers exponential. */
#include <string.h>
#include <time.h>
#include "proto/glob.h"
#include "tests/unit/unit.h"

static int gm(const char *p, const char *s)
{
    return glob_match(p, strlen(p), s, strlen(s), 0);
}

static int gmi(const char *p, const char *s)
{
    return glob_match(p, strlen(p), s, strlen(s), 1);
}

TEST(glob_redis_doc_examples)
{
    /* The examples of the KEYS documentation. */
    CHECK(gm("h?llo", "hello"));
    CHECK(gm("h?llo", "hallo"));
    CHECK(gm("h?llo", "hxllo"));
    CHECK(gm("h*llo", "hllo"));
    CHECK(gm("h*llo", "heeeello"));
    CHECK(gm("h[ae]llo", "hello"));
    CHECK(gm("h[ae]llo", "hallo"));
    CHECK(!gm("h[ae]llo", "hillo"));
    CHECK(gm("h[^e]llo", "hallo"));
    CHECK(gm("h[^e]llo", "hbllo"));
    CHECK(!gm("h[^e]llo", "hello"));
    CHECK(gm("h[a-b]llo", "hallo"));
    CHECK(gm("h[a-b]llo", "hbllo"));
    CHECK(!gm("h[a-b]llo", "hcllo"));
}

TEST(glob_stars_and_escapes)
{
    CHECK(gm("*", "anything"));
    CHECK(gm("a*", "a"));
    CHECK(gm("*a", "a"));
    CHECK(gm("a*b*c", "aXXbYYc"));
    CHECK(!gm("a*b*c", "aXXbYY"));
    CHECK(gm("***x", "abx"));
    CHECK(gm("a\\*b", "a*b"));
    CHECK(!gm("a\\*b", "aXb"));
    CHECK(gm("a\\?", "a?"));
    CHECK(!gm("a\\?", "ab"));
    CHECK(gm("a\\", "a\\"));            /* trailing backslash is literal */
    CHECK(gm("\\a", "a"));
    CHECK(!gm("abc", "abcd"));
    CHECK(!gm("abcd", "abc"));
    CHECK(gm("user:{*}:name", "user:{42}:name"));
}

TEST(glob_sets)
{
    CHECK(gm("[z-a]", "m"));            /* reversed range is swapped */
    CHECK(gm("[\\]]", "]"));
    CHECK(gm("[\\-]", "-"));
    /* "[a-]" is the range ']'..'a' (swapped), left unterminated: '-' is not in it. */
    CHECK(gm("[a-]", "a"));
    CHECK(gm("[a-]", "_"));
    CHECK(!gm("[a-]", "-"));
    CHECK(gm("[]]", "]") == 0);         /* "[]" is an empty set, then a literal ']' */
    CHECK(gm("[]]", "x") == 0);
    CHECK(gm("x[]]", "x") == 0);
    CHECK(gm("[^]x", "qx"));            /* "[^]" matches any byte */
    CHECK(gm("[abc", "a"));             /* unterminated set runs to the end */
    CHECK(gm("[abc", "c"));
    CHECK(!gm("[abc", "ab"));
    CHECK(!gm("[", "["));               /* a lone '[' matches nothing */
    CHECK(gm("[^", "q"));               /* ... but "[^" matches any one byte */
    CHECK(gm("*[", "x") == 0);
}

TEST(glob_empty_subject_quirk)
{
    /* Redis never enters its loop for an empty subject: only "" matches "". */
    CHECK(gm("", ""));
    CHECK(!gm("*", ""));
    CHECK(!gm("**", ""));
    CHECK(!gm("?", ""));
    CHECK(!gm("", "a"));
}

TEST(glob_nocase)
{
    CHECK(gmi("HeLLo", "hello"));
    CHECK(!gm("HeLLo", "hello"));
    CHECK(gmi("h[A-Z]llo", "hello"));
    CHECK(gmi("h[E]llo", "hello"));
    CHECK(!gmi("h[\\E]llo", "hello"));  /* escaped set member compares exactly */
    CHECK(!gmi("[Z-a]", "b"));          /* swapped then folded: 'z'..'a' is empty */
}

TEST(glob_binary_and_signed_ranges)
{
    const char pat[] = { 'a', '\0', '?', 'c' };
    const char s1[] = { 'a', '\0', 'b', 'c' };
    CHECK(glob_match(pat, sizeof pat, s1, sizeof s1, 0));
    /* Ranges compare as signed char: [a-\xff] is really [\xff-a]. */
    CHECK(!gm("[a-\xff]", "b"));
    CHECK(gm("[a-\xff]", "A"));
    CHECK(gm("[a-\xff]", "\xff"));
    CHECK(!gm("[a-\xff]", "\x80"));
    CHECK(gm("[\x80-\xff]", "\x90"));
}

TEST(glob_pathological_is_fast)
{
    /* "a*a*a*...b" against "aaaa...": exponential for naive recursion. */
    static char pat[4001], s[20001];
    size_t pl = 0;
    for (int i = 0; i < 2000; i++) { pat[pl++] = 'a'; pat[pl++] = '*'; }
    pat[pl - 1] = 'b';
    memset(s, 'a', 20000);
    clock_t t0 = clock();
    CHECK(!glob_match(pat, pl, s, 20000, 0));
    memset(pat, '*', 4000);
    pat[4000] = 'b';
    CHECK(!glob_match(pat, 4001, s, 20000, 0));
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(secs < 5.0);   /* generous: it is ~0.1 s at -O1 with sanitizers */
}

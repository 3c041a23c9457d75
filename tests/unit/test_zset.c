/* test_zset.c - the sorted set type: the skip list's ranks and spans against
 * a sorted array under random inserts and deletes, the same answers from
 * both encodings, score text as 7.0.15's d2string writes it, and score
 * parsing with getDoubleFromObject's rules. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "actors/types/zset.h"
#include "tests/unit/unit.h"

typedef struct ref { double s; char m[16]; } ref_t;

static int ref_cmp(const void *a, const void *b)
{
    const ref_t *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    return zset_member_cmp((const uint8_t *)x->m, strlen(x->m), (const uint8_t *)y->m, strlen(y->m));
}

static bool below_score(const void *arg, double s, const uint8_t *m, size_t ml)
{
    (void)m; (void)ml;
    return s < *(const double *)arg;
}

/* Every member's rank and every rank's member agree with the sorted array. */
static void check_against(const zset_t *z, ref_t *ref, int n)
{
    qsort(ref, (size_t)n, sizeof *ref, ref_cmp);
    CHECK_EQ_INT(zset_len(z), n);
    zset_iter_t it;
    zset_iter_init(&it, z, 0, false);
    const uint8_t *m;
    size_t ml;
    double s;
    for (int i = 0; i < n; i++) {
        CHECK(zset_iter_next(&it, &m, &ml, &s));
        CHECK(ml == strlen(ref[i].m) && memcmp(m, ref[i].m, ml) == 0 && s == ref[i].s);
        CHECK_EQ_INT(zset_rank(z, (const uint8_t *)ref[i].m, strlen(ref[i].m), false), i);
        CHECK_EQ_INT(zset_rank(z, (const uint8_t *)ref[i].m, strlen(ref[i].m), true), n - 1 - i);
    }
    CHECK(!zset_iter_next(&it, &m, &ml, &s));
    double mid = 50;
    int below = 0;
    while (below < n && ref[below].s < mid) below++;
    CHECK_EQ_INT(zset_count_prefix(z, below_score, &mid), below);
    if (n > 0) {
        zset_iter_init(&it, z, (size_t)n - 1, true);
        CHECK(zset_iter_next(&it, &m, &ml, &s) && s == ref[n - 1].s);
    }
}

/* The tree's own invariants (zt_check: sorted leaves linked both ways,
 * counts that add up, separators that bound their subtrees and name live
 * members) and each sdict entry's score matching its member's place. */
static void check_links(const zset_t *z)
{
    if (z->enc != ZSET_SKIPLIST) return;
    CHECK(zt_check(z->zt));
    zt_pos_t pos;
    size_t rank = 1;
    for (bool more = zt_at(z->zt, 1, &pos); more; more = zt_next(&pos), rank++) {
        double s;
        const uint8_t *m;
        size_t ml;
        zt_get(&pos, &s, &m, &ml);
        sd_entry_t *e = sd_find(z->d, m, ml);
        CHECK(e && zset_entry_score(e) == s && e->key == m);
        CHECK_EQ_INT(zt_rank(z->zt, s, m, ml), rank);
    }
    CHECK_EQ_INT(rank - 1, z->zt->len);
}

static void random_ops(int enc)
{
    srand(7);
    zset_t *z = zset_new_enc(enc);
    ref_t ref[400];
    int n = 0;
    for (int step = 0; step < 3000; step++) {
        char m[16];
        snprintf(m, sizeof m, "m%d", rand() % 400);
        double s = (double)(rand() % 100);
        int at = -1;
        for (int i = 0; i < n; i++) if (!strcmp(ref[i].m, m)) at = i;
        if (rand() % 3 == 0) {
            CHECK_EQ_INT(zset_del(z, (const uint8_t *)m, strlen(m)), at >= 0);
            if (at >= 0) ref[at] = ref[--n];
        } else {
            int out;
            CHECK(zset_add(z, s, (const uint8_t *)m, strlen(m), 0, &out, NULL));
            if (at >= 0) ref[at].s = s;
            else { ref[n].s = s; strcpy(ref[n].m, m); n++; }
        }
        if (step % 500 == 0) check_against(z, ref, n);
        if (step % 50 == 0) check_links(z);
    }
    check_against(z, ref, n);
    zset_del_ranks(z, 1, 10);
    memmove(ref + 1, ref + 11, sizeof *ref * (size_t)(n - 11));
    check_against(z, ref, n - 10);
    check_links(z);
    zset_ops.free_value(z);
}

/* A new score moves the member to where it sorts; its sdict entry keeps
 * the score. */
TEST(zset_skiplist_update_moves_member)
{
    zset_t *z = zset_new_enc(ZSET_SKIPLIST);
    const char *names[] = { "a", "b", "c", "d" };
    int out;
    for (int i = 0; i < 4; i++) CHECK(zset_add(z, i + 1, (const uint8_t *)names[i], 1, 0, &out, NULL));
    CHECK(zset_add(z, 2.5, (const uint8_t *)"b", 1, 0, &out, NULL) && out == ZADD_OUT_UPDATED);
    CHECK(zset_entry_score(sd_find(z->d, (const uint8_t *)"b", 1)) == 2.5);
    CHECK_EQ_INT(zset_rank(z, (const uint8_t *)"b", 1, false), 1);
    check_links(z);
    CHECK(zset_add(z, 10, (const uint8_t *)"b", 1, 0, &out, NULL) && out == ZADD_OUT_UPDATED);
    CHECK(zset_entry_score(sd_find(z->d, (const uint8_t *)"b", 1)) == 10);
    CHECK_EQ_INT(zset_rank(z, (const uint8_t *)"b", 1, false), 3);
    check_links(z);
    /* a tie on the score orders by member: "b" before "c" at 3 */
    CHECK(zset_add(z, 3, (const uint8_t *)"b", 1, 0, &out, NULL));
    CHECK_EQ_INT(zset_rank(z, (const uint8_t *)"b", 1, false), 1);
    CHECK_EQ_INT(zset_rank(z, (const uint8_t *)"c", 1, false), 2);
    check_links(z);
    CHECK(zset_add(z, -2, (const uint8_t *)"d", 1, ZADD_IN_INCR, &out, NULL));
    CHECK_EQ_INT(zset_rank(z, (const uint8_t *)"d", 1, false), 1);
    check_links(z);
    zset_ops.free_value(z);
}

/* Many members (leaves and inner nodes split, thin leaves merge, emptied
 * nodes go, the root grows and shrinks) against a sorted array: random
 * adds, score updates and deletes, then draining from the low end as
 * ZPOPMIN does and from the middle as ZREMRANGEBYRANK does. */
TEST(zset_tree_large_random)
{
    enum { M = 6000 };
    static ref_t ref[M];
    static int at[M];              /* member i's index in ref, -1 if absent */
    srand(11);
    zset_t *z = zset_new_enc(ZSET_SKIPLIST);
    int n = 0;
    for (int i = 0; i < M; i++) at[i] = -1;
    for (int step = 0; step < 60000; step++) {
        int i = rand() % M;
        char m[16];
        snprintf(m, sizeof m, "m%d", i);
        double s = (double)(rand() % 3000);
        if (rand() % 4 == 0) {
            CHECK_EQ_INT(zset_del(z, (const uint8_t *)m, strlen(m)), at[i] >= 0);
            if (at[i] >= 0) {
                int j = at[i];
                ref[j] = ref[--n];
                at[atoi(ref[j].m + 1)] = j;
                at[i] = -1;
            }
        } else {
            int out;
            CHECK(zset_add(z, s, (const uint8_t *)m, strlen(m), 0, &out, NULL));
            if (at[i] >= 0) ref[at[i]].s = s;
            else { ref[n].s = s; strcpy(ref[n].m, m); at[i] = n++; }
        }
        if (step % 5000 == 4999) {
            check_links(z);
            ref_t *copy = malloc(sizeof *copy * (size_t)(n ? n : 1));
            memcpy(copy, ref, sizeof *copy * (size_t)n);
            check_against(z, copy, n);
            free(copy);
        }
    }
    CHECK(z->zt->height >= 2);
    qsort(ref, (size_t)n, sizeof *ref, ref_cmp);
    zset_del_ranks(z, 0, 999);                    /* ZPOPMIN-like, from the low end */
    memmove(ref, ref + 1000, sizeof *ref * (size_t)(n - 1000));
    n -= 1000;
    check_links(z);
    zset_del_ranks(z, (size_t)n / 3, (size_t)n / 3 + 499);
    memmove(ref + n / 3, ref + n / 3 + 500, sizeof *ref * (size_t)(n - n / 3 - 500));
    n -= 500;
    check_links(z);
    check_against(z, ref, n);
    while (n > 0) {                               /* drain everything */
        size_t k = (size_t)(n < 37 ? n : 37);
        zset_del_ranks(z, 0, k - 1);
        memmove(ref, ref + k, sizeof *ref * (size_t)(n - (int)k));
        n -= (int)k;
        if (n % 500 < 37) check_links(z);
    }
    CHECK_EQ_INT(zset_len(z), 0);
    CHECK_EQ_INT(z->zt->height, 0);
    check_links(z);
    zset_ops.free_value(z);
}

TEST(zset_skiplist_ranks_match_sorted_array) { random_ops(ZSET_SKIPLIST); }
TEST(zset_listpack_ranks_match_sorted_array) { random_ops(ZSET_LISTPACK); }

TEST(zset_score_text_as_d2string)
{
    char b[64];
    zset_d2str(b, sizeof b, 1.5); CHECK_EQ_STR(b, "1.5");
    zset_d2str(b, sizeof b, 3.0); CHECK_EQ_STR(b, "3");
    zset_d2str(b, sizeof b, 0.1); CHECK_EQ_STR(b, "0.10000000000000001");
    zset_d2str(b, sizeof b, -0.0); CHECK_EQ_STR(b, "-0");
    zset_d2str(b, sizeof b, INFINITY); CHECK_EQ_STR(b, "inf");
    zset_d2str(b, sizeof b, -INFINITY); CHECK_EQ_STR(b, "-inf");
    zset_d2str(b, sizeof b, 1e20); CHECK_EQ_STR(b, "1e+20");
}

TEST(zset_parse_score_rules)
{
    double v;
    CHECK(zset_parse_score((const uint8_t *)"1.5", 3, &v) && v == 1.5);
    CHECK(zset_parse_score((const uint8_t *)"-inf", 4, &v) && isinf(v) && v < 0);
    CHECK(zset_parse_score((const uint8_t *)"0x10", 4, &v) && v == 16);
    CHECK(!zset_parse_score((const uint8_t *)"nan", 3, &v));
    CHECK(!zset_parse_score((const uint8_t *)"", 0, &v));
    CHECK(!zset_parse_score((const uint8_t *)" 1", 2, &v));
    CHECK(!zset_parse_score((const uint8_t *)"1 ", 2, &v));
    CHECK(!zset_parse_score((const uint8_t *)"1e400", 5, &v));
    CHECK(!zset_parse_score((const uint8_t *)"1\0", 2, &v));
}

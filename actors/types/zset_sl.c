/* zset_sl.c - the skip list of large sorted sets (see zset.h): nodes
 * ordered by (score, member bytes), each level link carrying its span so a
 * rank is found in O(log n) like a member. Nodes point at member bytes they
 * do not own (the sdict entry's key).
 */
#include <stdlib.h>
#include <string.h>
#include "actors/types/zset.h"
#include "runtime/xmalloc.h"

int zset_member_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

/* Whether x's level-i successor exists and sorts before (score, m). Reads
 * the successor's score from the link; the successor itself is loaded only
 * on a tie, to compare members. */
static inline bool link_before(const zsl_node_t *x, int i, double score, const uint8_t *m, size_t ml)
{
    const zsl_node_t *f = x->lev[i].fwd;
    if (!f) return false;
    double fs = x->lev[i].fscore;
    return fs < score || (fs == score && zset_member_cmp(f->m, f->ml, m, ml) < 0);
}

static zsl_node_t *node_new(int nlev, double score, const uint8_t *m, size_t ml)
{
    zsl_node_t *n = xcalloc(1, sizeof *n + (size_t)nlev * sizeof n->lev[0]);
    n->score = score;
    n->m = m;
    n->ml = (uint32_t)ml;
    n->nlev = nlev;
    return n;
}

zsl_t *zsl_new(void)
{
    zsl_t *l = xcalloc(1, sizeof *l);
    l->level = 1;
    l->head = node_new(ZSL_MAXLEVEL, 0, NULL, 0);
    return l;
}

void zsl_free(zsl_t *l)
{
    if (!l) return;
    zsl_node_t *n = l->head;
    while (n) {
        zsl_node_t *next = n->lev[0].fwd;
        free(n);
        n = next;
    }
    free(l);
}

/* Levels with probability 1/4 each step up, as Redis's. */
static int random_level(void)
{
    int lvl = 1;
    while (lvl < ZSL_MAXLEVEL && (sd_rand() & 0xFFFF) < 0xFFFF / 4) lvl++;
    return lvl;
}

/* Links node x (its score, member and levels set) where it sorts. */
static void insert_node(zsl_t *l, zsl_node_t *x)
{
    zsl_node_t *update[ZSL_MAXLEVEL], *p = l->head;
    size_t rank[ZSL_MAXLEVEL];
    for (int i = l->level - 1; i >= 0; i--) {
        rank[i] = i == l->level - 1 ? 0 : rank[i + 1];
        while (link_before(p, i, x->score, x->m, x->ml)) {
            rank[i] += p->lev[i].span;
            p = p->lev[i].fwd;
        }
        update[i] = p;
    }
    int lvl = x->nlev;
    if (lvl > l->level) {
        for (int i = l->level; i < lvl; i++) {
            rank[i] = 0;
            update[i] = l->head;
            update[i]->lev[i].span = l->len;
        }
        l->level = lvl;
    }
    for (int i = 0; i < lvl; i++) {
        x->lev[i].fwd = update[i]->lev[i].fwd;
        x->lev[i].fscore = update[i]->lev[i].fscore;
        update[i]->lev[i].fwd = x;
        update[i]->lev[i].fscore = x->score;
        x->lev[i].span = update[i]->lev[i].span - (rank[0] - rank[i]);
        update[i]->lev[i].span = (rank[0] - rank[i]) + 1;
    }
    for (int i = lvl; i < l->level; i++) update[i]->lev[i].span++;
    x->back = update[0] == l->head ? NULL : update[0];
    if (x->lev[0].fwd) x->lev[0].fwd->back = x;
    else l->tail = x;
    l->len++;
}

zsl_node_t *zsl_insert(zsl_t *l, double score, const uint8_t *m, size_t ml)
{
    zsl_node_t *x = node_new(random_level(), score, m, ml);
    insert_node(l, x);
    return x;
}

static void unlink_node(zsl_t *l, zsl_node_t *x, zsl_node_t **update)
{
    for (int i = 0; i < l->level; i++) {
        if (update[i]->lev[i].fwd == x) {
            update[i]->lev[i].span += x->lev[i].span - 1;
            update[i]->lev[i].fwd = x->lev[i].fwd;
            update[i]->lev[i].fscore = x->lev[i].fscore;
        } else {
            update[i]->lev[i].span -= 1;
        }
    }
    if (x->lev[0].fwd) x->lev[0].fwd->back = x->back;
    else l->tail = x->back;
    while (l->level > 1 && !l->head->lev[l->level - 1].fwd) l->level--;
    l->len--;
}

/* The last node at each level sorting before (score, m), in update[]. */
static void find_update(zsl_t *l, double score, const uint8_t *m, size_t ml, zsl_node_t **update)
{
    zsl_node_t *x = l->head;
    for (int i = l->level - 1; i >= 0; i--) {
        while (link_before(x, i, score, m, ml)) x = x->lev[i].fwd;
        update[i] = x;
    }
}

bool zsl_delete(zsl_t *l, double score, const uint8_t *m, size_t ml)
{
    zsl_node_t *update[ZSL_MAXLEVEL];
    find_update(l, score, m, ml, update);
    zsl_node_t *x = update[0]->lev[0].fwd;
    if (!x || x->score != score || zset_member_cmp(x->m, x->ml, m, ml) != 0) return false;
    unlink_node(l, x, update);
    free(x);
    return true;
}

void zsl_update_score(zsl_t *l, zsl_node_t *n, double score)
{
    zsl_node_t *update[ZSL_MAXLEVEL];
    find_update(l, n->score, n->m, n->ml, update);
    const zsl_node_t *prev = n->back, *next = n->lev[0].fwd;
    /* Still between its neighbours: only the score and the links' copies change. */
    if ((!prev || prev->score < score || (prev->score == score && zset_member_cmp(prev->m, prev->ml, n->m, n->ml) < 0)) &&
        (!next || next->score > score || (next->score == score && zset_member_cmp(next->m, next->ml, n->m, n->ml) > 0))) {
        n->score = score;
        for (int i = 0; i < n->nlev; i++) update[i]->lev[i].fscore = score;
        return;
    }
    unlink_node(l, n, update);
    n->score = score;
    insert_node(l, n);
}

size_t zsl_rank(const zsl_t *l, double score, const uint8_t *m, size_t ml)
{
    const zsl_node_t *x = l->head;
    size_t rank = 0;
    for (int i = l->level - 1; i >= 0; i--) {
        while (link_before(x, i, score, m, ml)) {
            rank += x->lev[i].span;
            x = x->lev[i].fwd;
        }
    }
    x = x->lev[0].fwd;
    if (!x || x->score != score || zset_member_cmp(x->m, x->ml, m, ml) != 0) return 0;
    return rank + 1;
}

zsl_node_t *zsl_at(const zsl_t *l, size_t rank)
{
    zsl_node_t *x = l->head;
    size_t seen = 0;
    if (rank == 0 || rank > l->len) return NULL;
    for (int i = l->level - 1; i >= 0; i--) {
        while (x->lev[i].fwd && seen + x->lev[i].span <= rank) {
            seen += x->lev[i].span;
            x = x->lev[i].fwd;
        }
        if (seen == rank) return x;
    }
    return NULL;
}

size_t zsl_count_prefix(const zsl_t *l, bool (*below)(const void *arg, double s, const uint8_t *m, size_t ml),
                        const void *arg)
{
    const zsl_node_t *x = l->head;
    size_t rank = 0;
    for (int i = l->level - 1; i >= 0; i--) {
        while (x->lev[i].fwd && below(arg, x->lev[i].fwd->score, x->lev[i].fwd->m, x->lev[i].fwd->ml)) {
            rank += x->lev[i].span;
            x = x->lev[i].fwd;
        }
    }
    return rank;
}

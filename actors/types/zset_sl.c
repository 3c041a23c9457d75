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

/* Whether node n sorts before (score, m). */
static bool node_before(const zsl_node_t *n, double score, const uint8_t *m, size_t ml)
{
    return n->score < score || (n->score == score && zset_member_cmp(n->m, n->ml, m, ml) < 0);
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

zsl_node_t *zsl_insert(zsl_t *l, double score, const uint8_t *m, size_t ml)
{
    zsl_node_t *update[ZSL_MAXLEVEL], *x = l->head;
    size_t rank[ZSL_MAXLEVEL];
    for (int i = l->level - 1; i >= 0; i--) {
        rank[i] = i == l->level - 1 ? 0 : rank[i + 1];
        while (x->lev[i].fwd && node_before(x->lev[i].fwd, score, m, ml)) {
            rank[i] += x->lev[i].span;
            x = x->lev[i].fwd;
        }
        update[i] = x;
    }
    int lvl = random_level();
    if (lvl > l->level) {
        for (int i = l->level; i < lvl; i++) {
            rank[i] = 0;
            update[i] = l->head;
            update[i]->lev[i].span = l->len;
        }
        l->level = lvl;
    }
    x = node_new(lvl, score, m, ml);
    for (int i = 0; i < lvl; i++) {
        x->lev[i].fwd = update[i]->lev[i].fwd;
        update[i]->lev[i].fwd = x;
        x->lev[i].span = update[i]->lev[i].span - (rank[0] - rank[i]);
        update[i]->lev[i].span = (rank[0] - rank[i]) + 1;
    }
    for (int i = lvl; i < l->level; i++) update[i]->lev[i].span++;
    x->back = update[0] == l->head ? NULL : update[0];
    if (x->lev[0].fwd) x->lev[0].fwd->back = x;
    else l->tail = x;
    l->len++;
    return x;
}

static void unlink_node(zsl_t *l, zsl_node_t *x, zsl_node_t **update)
{
    for (int i = 0; i < l->level; i++) {
        if (update[i]->lev[i].fwd == x) {
            update[i]->lev[i].span += x->lev[i].span - 1;
            update[i]->lev[i].fwd = x->lev[i].fwd;
        } else {
            update[i]->lev[i].span -= 1;
        }
    }
    if (x->lev[0].fwd) x->lev[0].fwd->back = x->back;
    else l->tail = x->back;
    while (l->level > 1 && !l->head->lev[l->level - 1].fwd) l->level--;
    l->len--;
}

bool zsl_delete(zsl_t *l, double score, const uint8_t *m, size_t ml)
{
    zsl_node_t *update[ZSL_MAXLEVEL], *x = l->head;
    for (int i = l->level - 1; i >= 0; i--) {
        while (x->lev[i].fwd && node_before(x->lev[i].fwd, score, m, ml)) x = x->lev[i].fwd;
        update[i] = x;
    }
    x = x->lev[0].fwd;
    if (!x || x->score != score || zset_member_cmp(x->m, x->ml, m, ml) != 0) return false;
    unlink_node(l, x, update);
    free(x);
    return true;
}

size_t zsl_rank(const zsl_t *l, double score, const uint8_t *m, size_t ml)
{
    const zsl_node_t *x = l->head;
    size_t rank = 0;
    for (int i = l->level - 1; i >= 0; i--) {
        while (x->lev[i].fwd && node_before(x->lev[i].fwd, score, m, ml)) {
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

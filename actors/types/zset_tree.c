/* zset_tree.c - the ordered index of large sorted sets (see zset.h): a B+
 * tree keyed by (score, member bytes) whose inner nodes count the members
 * under each child, so a rank is found on the way down as a member is.
 *
 * Why not a skip list (Redis's choice): a skip list step is a pointer chase
 * to another node, a cache miss each, ~25 of them per search in a 100k set,
 * and an update searches twice. Here a leaf keeps up to ZT_LEAF members with
 * their scores side by side, so a search is a binary search over a few
 * cache lines per level with 3-4 levels, the upper ones hot in cache.
 *
 * Separators: slot i >= 1 of an inner node holds a key k_i such that every
 * key under child i-1 < k_i <= every key under child i (slot 0 is unused).
 * Each separator is the key of a member in the tree, so its member bytes
 * (owned by the set's sdict entry) are alive: it is taken from the first key
 * of the right half at a split, and when that member is deleted every
 * separator naming it takes the member's successor (the new first key of
 * the separator's subtree; a subtree left empty goes with its separator).
 *
 * Leaves are linked both ways for walks. A leaf emptied is freed, a leaf
 * under a quarter full merges with a sibling when the two fit in three
 * quarters of a leaf; an inner node is freed when emptied and a root with
 * one child gives way to it. Never: keep an empty node (but the root leaf),
 * or hold a position across a change.
 */
#include <stdlib.h>
#include <string.h>
#include "actors/types/zset.h"
#include "runtime/xmalloc.h"

struct zt_leaf {
    struct zt_leaf *prev, *next;
    uint32_t n;
    double s[ZT_LEAF];
    const uint8_t *m[ZT_LEAF];
    uint32_t ml[ZT_LEAF];
};

typedef struct zt_inner {
    uint32_t n;                   /* children */
    void *child[ZT_FAN];
    size_t cnt[ZT_FAN];           /* members under each child */
    double ss[ZT_FAN];            /* separators, slot 0 unused */
    const uint8_t *sm[ZT_FAN];
    uint32_t sml[ZT_FAN];
} zt_inner_t;

#define ZT_MAXH 24                /* far beyond any height a size_t count reaches */

int zset_member_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

static inline int key_cmp(double s1, const uint8_t *m1, size_t l1, double s2, const uint8_t *m2, size_t l2)
{
    if (s1 < s2) return -1;
    if (s1 > s2) return 1;
    return zset_member_cmp(m1, l1, m2, l2);
}

/* The child of n that holds (or would hold) key (s, m): the last slot whose
 * separator is <= the key, 0 if none is. */
static unsigned route(const zt_inner_t *n, double s, const uint8_t *m, size_t ml)
{
    unsigned lo = 1, hi = n->n;   /* answer in [lo-1, hi-1]: first slot in [lo,hi) with sep > key, minus 1 */
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (key_cmp(n->ss[mid], n->sm[mid], n->sml[mid], s, m, ml) <= 0) lo = mid + 1;
        else hi = mid;
    }
    return lo - 1;
}

/* First index of leaf l whose key is >= (s, m). */
static unsigned lower_bound(const zt_leaf_t *l, double s, const uint8_t *m, size_t ml)
{
    unsigned lo = 0, hi = l->n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (key_cmp(l->s[mid], l->m[mid], l->ml[mid], s, m, ml) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static zt_leaf_t *leaf_new(zt_t *t)
{
    t->leaves++;
    return xcalloc(1, sizeof(zt_leaf_t));
}

static zt_inner_t *inner_new(zt_t *t)
{
    t->inners++;
    return xcalloc(1, sizeof(zt_inner_t));
}

zt_t *zt_new(void)
{
    zt_t *t = xcalloc(1, sizeof *t);
    zt_leaf_t *l = leaf_new(t);
    t->root = l;
    t->first = t->last = l;
    return t;
}

static void free_sub(void *node, int h)
{
    if (h == 0) { free(node); return; }
    zt_inner_t *n = node;
    for (unsigned i = 0; i < n->n; i++) free_sub(n->child[i], h - 1);
    free(n);
}

void zt_free(zt_t *t)
{
    if (!t) return;
    free_sub(t->root, t->height);
    free(t);
}

size_t zt_mem(const zt_t *t)
{
    return sizeof *t + t->leaves * sizeof(zt_leaf_t) + t->inners * sizeof(zt_inner_t);
}

static size_t node_count(const void *node, int h)
{
    if (h == 0) return ((const zt_leaf_t *)node)->n;
    const zt_inner_t *n = node;
    size_t c = 0;
    for (unsigned i = 0; i < n->n; i++) c += n->cnt[i];
    return c;
}

/* Moves k entries of each array of a node from index `from` to `to`. */
#define SHIFT(arr, to, from, k) memmove((arr) + (to), (arr) + (from), (size_t)(k) * sizeof (arr)[0])

static void leaf_shift(zt_leaf_t *l, unsigned to, unsigned from, unsigned k)
{
    SHIFT(l->s, to, from, k);
    SHIFT(l->m, to, from, k);
    SHIFT(l->ml, to, from, k);
}

static void inner_shift(zt_inner_t *n, unsigned to, unsigned from, unsigned k)
{
    SHIFT(n->child, to, from, k);
    SHIFT(n->cnt, to, from, k);
    SHIFT(n->ss, to, from, k);
    SHIFT(n->sm, to, from, k);
    SHIFT(n->sml, to, from, k);
}

static void leaf_put(zt_leaf_t *l, unsigned p, double s, const uint8_t *m, size_t ml)
{
    leaf_shift(l, p + 1, p, l->n - p);
    l->s[p] = s;
    l->m[p] = m;
    l->ml[p] = (uint32_t)ml;
    l->n++;
}

static void leaf_cut(zt_leaf_t *l, unsigned p)
{
    leaf_shift(l, p, p + 1, l->n - p - 1);
    l->n--;
}

/* Moves entries [from, l->n) of l to the end of r (another leaf). */
static void leaf_move(zt_leaf_t *l, unsigned from, zt_leaf_t *r)
{
    unsigned k = l->n - from;
    memcpy(r->s + r->n, l->s + from, k * sizeof l->s[0]);
    memcpy(r->m + r->n, l->m + from, k * sizeof l->m[0]);
    memcpy(r->ml + r->n, l->ml + from, k * sizeof l->ml[0]);
    r->n += k;
    l->n = from;
}

/* Puts child c (with its count and separator) at slot p of a non-full n. */
static void inner_put(zt_inner_t *n, unsigned p, void *c, size_t cnt, double s, const uint8_t *m, uint32_t ml)
{
    inner_shift(n, p + 1, p, n->n - p);
    n->child[p] = c;
    n->cnt[p] = cnt;
    n->ss[p] = s;
    n->sm[p] = m;
    n->sml[p] = ml;
    n->n++;
}

static void inner_cut(zt_inner_t *n, unsigned p)
{
    inner_shift(n, p, p + 1, n->n - p - 1);
    n->n--;
}

typedef struct zt_path { zt_inner_t *n[ZT_MAXH]; unsigned i[ZT_MAXH]; } zt_path_t;

/* Walks from the root to the leaf that holds (or would hold) the key,
 * noting each inner node and slot taken (level h: path->n[h], h >= 1). */
static zt_leaf_t *descend(const zt_t *t, double s, const uint8_t *m, size_t ml, zt_path_t *path)
{
    void *node = t->root;
    for (int h = t->height; h >= 1; h--) {
        zt_inner_t *n = node;
        unsigned i = route(n, s, m, ml);
        path->n[h] = n;
        path->i[h] = i;
        node = n->child[i];
    }
    return node;
}

void zt_insert(zt_t *t, double s, const uint8_t *m, size_t ml)
{
    zt_path_t path;
    zt_leaf_t *l = descend(t, s, m, ml, &path);
    for (int h = 1; h <= t->height; h++) path.n[h]->cnt[path.i[h]]++;
    t->len++;
    unsigned p = lower_bound(l, s, m, ml);
    if (l->n < ZT_LEAF) {
        leaf_put(l, p, s, m, ml);
        return;
    }
    /* Split the full leaf in halves, then insert into the half it sorts in. */
    zt_leaf_t *r = leaf_new(t);
    leaf_move(l, ZT_LEAF / 2, r);
    if (p <= l->n) leaf_put(l, p, s, m, ml);
    else leaf_put(r, p - l->n, s, m, ml);
    r->next = l->next;
    r->prev = l;
    if (l->next) l->next->prev = r;
    else t->last = r;
    l->next = r;
    /* Hand the right half up, splitting full inner nodes on the way. */
    void *left = l, *right = r;
    double us = r->s[0];
    const uint8_t *um = r->m[0];
    uint32_t uml = r->ml[0];
    for (int h = 1; h <= t->height; h++) {
        zt_inner_t *n = path.n[h];
        unsigned i = path.i[h];
        size_t rc = node_count(right, h - 1);
        n->cnt[i] -= rc;
        if (n->n < ZT_FAN) {
            inner_put(n, i + 1, right, rc, us, um, uml);
            return;
        }
        zt_inner_t *n2 = inner_new(t);
        unsigned half = ZT_FAN / 2;
        /* n2 takes slots [half, FAN); its slot 0 separator goes up. */
        memcpy(n2->child, n->child + half, (ZT_FAN - half) * sizeof n->child[0]);
        memcpy(n2->cnt, n->cnt + half, (ZT_FAN - half) * sizeof n->cnt[0]);
        memcpy(n2->ss, n->ss + half, (ZT_FAN - half) * sizeof n->ss[0]);
        memcpy(n2->sm, n->sm + half, (ZT_FAN - half) * sizeof n->sm[0]);
        memcpy(n2->sml, n->sml + half, (ZT_FAN - half) * sizeof n->sml[0]);
        n2->n = ZT_FAN - half;
        n->n = half;
        if (i + 1 <= half) inner_put(n, i + 1, right, rc, us, um, uml);
        else inner_put(n2, i + 1 - half, right, rc, us, um, uml);
        left = n;
        right = n2;
        us = n2->ss[0];
        um = n2->sm[0];
        uml = n2->sml[0];
    }
    /* The root split: a new root over the two halves. */
    zt_inner_t *root = inner_new(t);
    root->n = 2;
    root->child[0] = left;
    root->child[1] = right;
    root->cnt[1] = node_count(right, t->height);
    root->cnt[0] = t->len - root->cnt[1];
    root->ss[1] = us;
    root->sm[1] = um;
    root->sml[1] = uml;
    t->root = root;
    t->height++;
}

static void leaf_unlink(zt_t *t, zt_leaf_t *l)
{
    if (l->prev) l->prev->next = l->next;
    else t->first = l->next;
    if (l->next) l->next->prev = l->prev;
    else t->last = l->prev;
    free(l);
    t->leaves--;
}

/* After a delete below slot i of path level h: drops emptied nodes upwards,
 * merges a thin leaf with a sibling, and lowers a root of one child. */
static void rebalance(zt_t *t, zt_path_t *path, zt_leaf_t *l)
{
    if (t->height == 0) return;
    zt_inner_t *par = path->n[1];
    unsigned i = path->i[1];
    if (l->n == 0) {
        leaf_unlink(t, l);
        inner_cut(par, i);
        for (int h = 1; h <= t->height && path->n[h]->n == 0; h++) {
            if (h == t->height) break;            /* an empty root cannot be: len would be 0 above */
            free(path->n[h]);
            t->inners--;
            inner_cut(path->n[h + 1], path->i[h + 1]);
        }
    } else if (l->n < ZT_LEAF / 4) {
        zt_leaf_t *r = i + 1 < par->n ? par->child[i + 1] : NULL;
        zt_leaf_t *lft = i > 0 ? par->child[i - 1] : NULL;
        if (r && l->n + r->n <= ZT_LEAF * 3 / 4) {
            leaf_move(r, 0, l);
            par->cnt[i] += par->cnt[i + 1];
            inner_cut(par, i + 1);
            leaf_unlink(t, r);
        } else if (lft && l->n + lft->n <= ZT_LEAF * 3 / 4) {
            leaf_move(l, 0, lft);
            par->cnt[i - 1] += par->cnt[i];
            inner_cut(par, i);
            leaf_unlink(t, l);
        }
    }
    while (t->height > 0 && ((zt_inner_t *)t->root)->n == 1) {
        zt_inner_t *old = t->root;
        t->root = old->child[0];
        free(old);
        t->inners--;
        t->height--;
    }
    if (t->height > 0 && ((zt_inner_t *)t->root)->n == 0) {
        /* everything went: back to one empty leaf */
        free(t->root);
        t->inners--;
        t->height = 0;
        zt_leaf_t *e = leaf_new(t);
        t->root = e;
        t->first = t->last = e;
    }
}

/* Removes entry p of leaf l reached by path (counts not yet lowered). */
static void delete_at(zt_t *t, zt_path_t *path, zt_leaf_t *l, unsigned p)
{
    const uint8_t *gone = l->m[p];
    for (int h = 1; h <= t->height; h++) path->n[h]->cnt[path->i[h]]--;
    leaf_cut(l, p);
    t->len--;
    /* Separators naming the deleted member take its successor, which lies
     * in their subtree unless that subtree is now empty (removed below). */
    const zt_leaf_t *sl = p < l->n ? l : l->next;
    unsigned sp = p < l->n ? p : 0;
    for (int h = 1; h <= t->height; h++) {
        zt_inner_t *n = path->n[h];
        unsigned i = path->i[h];
        if (i == 0 || n->sm[i] != gone || n->cnt[i] == 0) continue;
        n->ss[i] = sl->s[sp];
        n->sm[i] = sl->m[sp];
        n->sml[i] = sl->ml[sp];
    }
    rebalance(t, path, l);
}

bool zt_delete(zt_t *t, double s, const uint8_t *m, size_t ml)
{
    zt_path_t path;
    zt_leaf_t *l = descend(t, s, m, ml, &path);
    unsigned p = lower_bound(l, s, m, ml);
    if (p >= l->n || key_cmp(l->s[p], l->m[p], l->ml[p], s, m, ml) != 0) return false;
    delete_at(t, &path, l, p);
    return true;
}

size_t zt_rank(const zt_t *t, double s, const uint8_t *m, size_t ml)
{
    const void *node = t->root;
    size_t before = 0;
    for (int h = t->height; h >= 1; h--) {
        const zt_inner_t *n = node;
        unsigned i = route(n, s, m, ml);
        for (unsigned j = 0; j < i; j++) before += n->cnt[j];
        node = n->child[i];
    }
    const zt_leaf_t *l = node;
    unsigned p = lower_bound(l, s, m, ml);
    if (p >= l->n || key_cmp(l->s[p], l->m[p], l->ml[p], s, m, ml) != 0) return 0;
    return before + p + 1;
}

bool zt_at(const zt_t *t, size_t rank, zt_pos_t *pos)
{
    if (rank == 0 || rank > t->len) return false;
    const void *node = t->root;
    size_t r = rank - 1;
    for (int h = t->height; h >= 1; h--) {
        const zt_inner_t *n = node;
        unsigned i = 0;
        while (i + 1 < n->n && r >= n->cnt[i]) r -= n->cnt[i++];
        node = n->child[i];
    }
    pos->leaf = (zt_leaf_t *)node;
    pos->i = (unsigned)r;
    return true;
}

bool zt_last(const zt_t *t, zt_pos_t *pos)
{
    if (!t->len) return false;
    pos->leaf = t->last;
    pos->i = t->last->n - 1;
    return true;
}

void zt_get(const zt_pos_t *pos, double *s, const uint8_t **m, size_t *ml)
{
    *s = pos->leaf->s[pos->i];
    *m = pos->leaf->m[pos->i];
    *ml = pos->leaf->ml[pos->i];
}

bool zt_next(zt_pos_t *pos)
{
    if (pos->i + 1 < pos->leaf->n) { pos->i++; return true; }
    pos->leaf = pos->leaf->next;
    pos->i = 0;
    return pos->leaf != NULL;
}

bool zt_prev(zt_pos_t *pos)
{
    if (pos->i > 0) { pos->i--; return true; }
    pos->leaf = pos->leaf->prev;
    if (!pos->leaf) return false;
    pos->i = pos->leaf->n - 1;
    return true;
}

void zt_delete_rank(zt_t *t, size_t rank)
{
    zt_pos_t pos;
    if (!zt_at(t, rank, &pos)) return;
    zt_path_t path;
    zt_leaf_t *l = descend(t, pos.leaf->s[pos.i], pos.leaf->m[pos.i], pos.leaf->ml[pos.i], &path);
    delete_at(t, &path, l, pos.i);
}

size_t zt_count_prefix(const zt_t *t, bool (*below)(const void *arg, double s, const uint8_t *m, size_t ml),
                       const void *arg)
{
    const void *node = t->root;
    size_t n_below = 0;
    for (int h = t->height; h >= 1; h--) {
        const zt_inner_t *n = node;
        unsigned i = 0;
        /* all of child i is below when the next separator is */
        while (i + 1 < n->n && below(arg, n->ss[i + 1], n->sm[i + 1], n->sml[i + 1])) n_below += n->cnt[i++];
        node = n->child[i];
    }
    const zt_leaf_t *l = node;
    unsigned p = 0;
    while (p < l->n && below(arg, l->s[p], l->m[p], l->ml[p])) p++;
    return n_below + p;
}

/* ---- checks for the unit tests ---- */

static bool check_sub(const zt_t *t, const void *node, int h, const zt_leaf_t **leaf_seen, size_t *count,
                      bool has_lo, double los, const uint8_t *lom, size_t loml)
{
    if (h == 0) {
        const zt_leaf_t *l = node;
        if (*leaf_seen ? (*leaf_seen)->next != l || l->prev != *leaf_seen : (l != t->first || l->prev)) return false;
        *leaf_seen = l;
        for (unsigned i = 0; i < l->n; i++) {
            if (i && key_cmp(l->s[i - 1], l->m[i - 1], l->ml[i - 1], l->s[i], l->m[i], l->ml[i]) >= 0) return false;
            if (has_lo && key_cmp(los, lom, loml, l->s[i], l->m[i], l->ml[i]) > 0) return false;
        }
        *count = l->n;
        return l->n > 0 || t->height == 0;
    }
    const zt_inner_t *n = node;
    if (n->n == 0 || (node == t->root && n->n < 2)) return false;
    size_t total = 0;
    for (unsigned i = 0; i < n->n; i++) {
        size_t c;
        bool lo = i ? true : has_lo;
        double ls = i ? n->ss[i] : los;
        const uint8_t *lm = i ? n->sm[i] : lom;
        size_t ll = i ? n->sml[i] : loml;
        if (!check_sub(t, n->child[i], h - 1, leaf_seen, &c, lo, ls, lm, ll)) return false;
        if (c != n->cnt[i]) return false;
        /* The separator is a member's key that a search finds: so it lies in
         * child i, and child i-1 (before it in the sorted leaves) is below it. */
        if (i && !zt_rank(t, n->ss[i], n->sm[i], n->sml[i])) return false;
        total += c;
    }
    *count = total;
    return true;
}

bool zt_check(const zt_t *t)
{
    const zt_leaf_t *seen = NULL;
    size_t count;
    if (!check_sub(t, t->root, t->height, &seen, &count, false, 0, NULL, 0)) return false;
    if (seen != t->last || seen->next) return false;
    /* the leaves in order hold a strictly sorted sequence */
    const zt_leaf_t *prev = NULL;
    for (const zt_leaf_t *l = t->first; l; prev = l, l = l->next) {
        if (prev && prev->n && l->n &&
            key_cmp(prev->s[prev->n - 1], prev->m[prev->n - 1], prev->ml[prev->n - 1], l->s[0], l->m[0], l->ml[0]) >= 0)
            return false;
    }
    return count == t->len;
}

/* stream_cg.c - consumer groups (stream_cg.h): sorted arrays of groups,
 * consumers and pending entries, and 7.0.15's read-counter estimates.
 */
#include <stdlib.h>
#include <string.h>

#include "actors/types/stream_cg.h"
#include "runtime/xmalloc.h"

/* Byte order of names, shorter first on a common prefix: a radix tree's order. */
static int name_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    if (c) return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = xmalloc(n ? n : 1);
    if (n) memcpy(d, p, n);
    return d;
}

/* Grows a pointer array by one slot at index i. */
static void *ptr_insert(void *arr, size_t *n, size_t *cap, size_t i, void *item)
{
    void **v = arr;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        v = xrealloc(v, *cap * sizeof *v);
    }
    memmove(v + i + 1, v + i, (*n - i) * sizeof *v);
    v[i] = item;
    (*n)++;
    return v;
}

static void ptr_remove(void **v, size_t *n, size_t i)
{
    memmove(v + i, v + i + 1, (*n - i - 1) * sizeof *v);
    (*n)--;
}

/* ---------------- PEL ---------------- */

size_t stream_pel_lower(const stream_pel_t *p, const stream_id_t *id)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (stream_id_cmp(&p->v[mid]->id, id) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

stream_nack_t *stream_pel_find(const stream_pel_t *p, const stream_id_t *id)
{
    size_t i = stream_pel_lower(p, id);
    return i < p->n && stream_id_cmp(&p->v[i]->id, id) == 0 ? p->v[i] : NULL;
}

void stream_pel_insert(stream_pel_t *p, stream_nack_t *nk)
{
    size_t i = p->n && stream_id_cmp(&p->v[p->n - 1]->id, &nk->id) < 0 ? p->n : stream_pel_lower(p, &nk->id);
    p->v = ptr_insert(p->v, &p->n, &p->cap, i, nk);
}

bool stream_pel_remove(stream_pel_t *p, const stream_id_t *id)
{
    size_t i = stream_pel_lower(p, id);
    if (i >= p->n || stream_id_cmp(&p->v[i]->id, id) != 0) return false;
    ptr_remove((void **)p->v, &p->n, i);
    return true;
}

stream_nack_t *stream_nack_new(const stream_id_t *id, stream_consumer_t *c, long long now_ms)
{
    stream_nack_t *nk = xcalloc(1, sizeof *nk);
    nk->id = *id;
    nk->delivery_time = now_ms;
    nk->delivery_count = 1;
    nk->consumer = c;
    return nk;
}

void stream_nack_drop(stream_cg_t *g, stream_nack_t *nk)
{
    stream_pel_remove(&g->pel, &nk->id);
    if (nk->consumer) stream_pel_remove(&nk->consumer->pel, &nk->id);
    free(nk);
}

void stream_nack_move(stream_nack_t *nk, stream_consumer_t *c)
{
    if (nk->consumer == c) return;
    if (nk->consumer) stream_pel_remove(&nk->consumer->pel, &nk->id);
    nk->consumer = c;
    stream_pel_insert(&c->pel, nk);
}

/* ---------------- consumers ---------------- */

/* The first of n named items (sorted by name) whose name is >= name;
 * get gives an item's name. */
static size_t name_lower(void *const *v, size_t n, const uint8_t *name, size_t len,
                         const uint8_t *(*get)(const void *, size_t *))
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2, ml;
        const uint8_t *m = get(v[mid], &ml);
        if (name_cmp(m, ml, name, len) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static const uint8_t *consumer_name(const void *x, size_t *n)
{
    const stream_consumer_t *c = x;
    *n = c->nlen;
    return c->name;
}

static const uint8_t *group_name(const void *x, size_t *n)
{
    const stream_cg_t *g = x;
    *n = g->nlen;
    return g->name;
}

static size_t consumer_lower(const stream_cg_t *g, const uint8_t *name, size_t n)
{
    return name_lower((void *const *)g->consumers, g->nconsumers, name, n, consumer_name);
}

stream_consumer_t *stream_consumer_find(const stream_cg_t *g, const uint8_t *name, size_t n)
{
    size_t i = consumer_lower(g, name, n);
    if (i < g->nconsumers && name_cmp(g->consumers[i]->name, g->consumers[i]->nlen, name, n) == 0)
        return g->consumers[i];
    return NULL;
}

stream_consumer_t *stream_consumer_create(stream_cg_t *g, const uint8_t *name, size_t n, long long now_ms)
{
    stream_consumer_t *c = xcalloc(1, sizeof *c);
    c->name = dup_bytes(name, n);
    c->nlen = n;
    c->seen_time = now_ms;
    g->consumers = ptr_insert(g->consumers, &g->nconsumers, &g->ccap, consumer_lower(g, name, n), c);
    return c;
}

static void consumer_free(stream_consumer_t *c)
{
    free(c->pel.v);
    free(c->name);
    free(c);
}

size_t stream_consumer_delete(stream_cg_t *g, stream_consumer_t *c)
{
    size_t had = c->pel.n;
    for (size_t i = 0; i < c->pel.n; i++) {
        stream_nack_t *nk = c->pel.v[i];
        stream_pel_remove(&g->pel, &nk->id);
        free(nk);
    }
    c->pel.n = 0;
    size_t i = consumer_lower(g, c->name, c->nlen);
    ptr_remove((void **)g->consumers, &g->nconsumers, i);
    consumer_free(c);
    return had;
}

/* ---------------- groups ---------------- */

static size_t group_lower(const stream_cgs_t *gs, const uint8_t *name, size_t n)
{
    return name_lower((void *const *)gs->v, gs->n, name, n, group_name);
}

stream_cg_t *stream_cg_find(const stream_t *s, const uint8_t *name, size_t n)
{
    const stream_cgs_t *gs = s->cgs;
    if (!gs) return NULL;
    size_t i = group_lower(gs, name, n);
    return i < gs->n && name_cmp(gs->v[i]->name, gs->v[i]->nlen, name, n) == 0 ? gs->v[i] : NULL;
}

stream_cg_t *stream_cg_create(stream_t *s, const uint8_t *name, size_t n, const stream_id_t *id, long long entries_read)
{
    if (stream_cg_find(s, name, n)) return NULL;
    if (!s->cgs) s->cgs = xcalloc(1, sizeof *s->cgs);
    stream_cg_t *g = xcalloc(1, sizeof *g);
    g->name = dup_bytes(name, n);
    g->nlen = n;
    g->last_id = *id;
    g->entries_read = entries_read;
    stream_cgs_t *gs = s->cgs;
    gs->v = ptr_insert(gs->v, &gs->n, &gs->cap, group_lower(gs, name, n), g);
    return g;
}

static void group_free(stream_cg_t *g)
{
    for (size_t i = 0; i < g->pel.n; i++) free(g->pel.v[i]);
    free(g->pel.v);
    for (size_t i = 0; i < g->nconsumers; i++) consumer_free(g->consumers[i]);
    free(g->consumers);
    free(g->name);
    free(g);
}

bool stream_cg_destroy(stream_t *s, const uint8_t *name, size_t n)
{
    stream_cg_t *g = stream_cg_find(s, name, n);
    if (!g) return false;
    ptr_remove((void **)s->cgs->v, &s->cgs->n, group_lower(s->cgs, name, n));
    group_free(g);
    return true;
}

void stream_cgs_free(stream_cgs_t *gs)
{
    if (!gs) return;
    for (size_t i = 0; i < gs->n; i++) group_free(gs->v[i]);
    free(gs->v);
    free(gs);
}

size_t stream_cgs_mem(const stream_cgs_t *gs)
{
    if (!gs) return 0;
    size_t m = sizeof *gs + gs->cap * sizeof(void *);
    for (size_t i = 0; i < gs->n; i++) {
        const stream_cg_t *g = gs->v[i];
        m += sizeof *g + g->nlen + g->pel.cap * sizeof(void *) + g->pel.n * sizeof(stream_nack_t) +
             g->ccap * sizeof(void *);
        for (size_t k = 0; k < g->nconsumers; k++)
            m += sizeof(stream_consumer_t) + g->consumers[k]->nlen + g->consumers[k]->pel.cap * sizeof(void *);
    }
    return m;
}

stream_cgs_t *stream_cgs_dup(const stream_cgs_t *gs)
{
    if (!gs || !gs->n) return NULL;
    stream_t tmp = { 0 };
    for (size_t i = 0; i < gs->n; i++) {
        const stream_cg_t *g = gs->v[i];
        stream_cg_t *d = stream_cg_create(&tmp, g->name, g->nlen, &g->last_id, g->entries_read);
        for (size_t k = 0; k < g->nconsumers; k++) {
            const stream_consumer_t *c = g->consumers[k];
            stream_consumer_t *dc = stream_consumer_create(d, c->name, c->nlen, c->seen_time);
            for (size_t j = 0; j < c->pel.n; j++) {
                const stream_nack_t *nk = c->pel.v[j];
                stream_nack_t *dn = stream_nack_new(&nk->id, dc, nk->delivery_time);
                dn->delivery_count = nk->delivery_count;
                stream_pel_insert(&d->pel, dn);
                stream_pel_insert(&dc->pel, dn);
            }
        }
        /* nacks without a consumer cannot exist: every nack has one */
    }
    return tmp.cgs;
}

/* ---------------- read counters ---------------- */

bool stream_range_has_tombstones(const stream_t *s, const stream_id_t *start, const stream_id_t *end)
{
    if (!s->length || stream_id_zero(&s->max_deleted)) return false;
    if (stream_id_cmp(&s->first_id, &s->max_deleted) > 0) return false;
    stream_id_t a = { 0, 0 }, b = { UINT64_MAX, UINT64_MAX };
    if (start) a = *start;
    if (end) b = *end;
    return stream_id_cmp(&a, &s->max_deleted) <= 0 && stream_id_cmp(&s->max_deleted, &b) <= 0;
}

long long stream_estimate_distance(const stream_t *s, const stream_id_t *id)
{
    if (!s->entries_added) return 0;
    if (!s->length && stream_id_cmp(id, &s->last_id) < 1) return (long long)s->entries_added;
    int cl = stream_id_cmp(id, &s->last_id);
    if (cl == 0) return (long long)s->entries_added;
    if (cl > 0) return STREAM_CG_INVALID_READ;
    int cf = stream_id_cmp(id, &s->first_id);
    if (stream_id_zero(&s->max_deleted) || stream_id_cmp(&s->max_deleted, &s->first_id) < 0) {
        if (cf < 0) return (long long)(s->entries_added - s->length);
        if (cf == 0) return (long long)(s->entries_added - s->length + 1);
    }
    return STREAM_CG_INVALID_READ;
}

long long stream_cg_lag(const stream_t *s, const stream_cg_t *g, bool *valid)
{
    *valid = true;
    if (!s->entries_added) return 0;
    if (g->entries_read != STREAM_CG_INVALID_READ && !stream_range_has_tombstones(s, &g->last_id, NULL))
        return (long long)s->entries_added - g->entries_read;
    long long r = stream_estimate_distance(s, &g->last_id);
    if (r != STREAM_CG_INVALID_READ) return (long long)s->entries_added - r;
    *valid = false;
    return 0;
}

/* cmd_geo_search.c - the geo area searches: GEOSEARCH, GEOSEARCHSTORE,
 * GEORADIUS, GEORADIUSBYMEMBER and their _RO forms, as redis-server 7.0.15
 * answers them (georadiusGeneric in its geo.c).
 *
 * A search visits up to nine grid cells around its centre
 * (proto/geohash.c), walks each cell's score range of the sorted set in
 * order, keeps the points inside the circle or box, and sorts them by
 * distance when asked (or when COUNT asks for the nearest). The order of
 * equal distances is 7.0.15's too: a stable sort when every hit is
 * returned, and the same partial quicksort when COUNT cuts the list.
 *
 * Must never: answer in another order or format than 7.0.15, check the
 * options in another order (the first error wins), or leave an empty
 * destination key.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "actors/commands/args.h"
#include "actors/commands/cmd_geo.h"
#include "actors/commands/cmd_zset.h"
#include "actors/commands/commands.h"
#include "actors/types/types.h"
#include "proto/geohash.h"
#include "runtime/xmalloc.h"

/* What a variant accepts (georadiusGeneric's flags). */
enum {
    GS_FROM_COORDS = 1,    /* GEORADIUS: centre and radius as arguments 2-5 */
    GS_FROM_MEMBER = 2,    /* GEORADIUSBYMEMBER: member and radius as arguments 2-4 */
    GS_NO_STORE = 4,       /* the _RO forms */
    GS_SEARCH = 8,         /* GEOSEARCH options (FROM..., BY...) */
    GS_SEARCH_STORE = 16,  /* GEOSEARCHSTORE: destination at argument 1, STOREDIST a flag */
};
enum { SORT_NONE, SORT_ASC, SORT_DESC };

typedef struct geo_req {
    geohash_shape_t shape;
    int store_arg;                /* argv index of the destination; 0: reply the hits */
    bool storedist, withdist, withhash, withcoord, any;
    bool from_member, from_lonlat, by_radius, by_box;
    int sort;
    long long count;              /* 0: no COUNT */
} geo_req_t;

/* One point found; its member's bytes are at name_off in the names arena. */
typedef struct geo_hit {
    double lon, lat, dist, score;
    size_t name_off, name_len;
} geo_hit_t;

typedef struct geo_hits {
    geo_hit_t *v;
    size_t n, cap;
    uint8_t *names;
    size_t names_len, names_cap;
} geo_hits_t;

/* ---- arguments ---- */

/* Argument i as a non-negative distance, in error text `what`. */
static bool distance_at(cmd_ctx_t *ctx, int i, const char *what, double *out)
{
    if (!zset_parse_score(ctx->argv[i], ctx->argvlen[i], out)) {
        resp_add_errorf(ctx->reply, "ERR need numeric %s", what);
        return false;
    }
    return true;
}

/* The unit at argument i completes shape s as a `type`. */
static bool shape_unit_at(cmd_ctx_t *ctx, int i, geohash_shape_t *s, int type)
{
    double m = geo_unit_at(ctx, i);
    if (m < 0) return false;
    s->to_meters = m;
    s->type = type;
    return true;
}

/* <radius> <unit> at argument i. */
static bool radius_at(cmd_ctx_t *ctx, int i, geohash_shape_t *s)
{
    double r;
    if (!distance_at(ctx, i, "radius", &r)) return false;
    if (r < 0) {
        resp_add_error(ctx->reply, "ERR radius cannot be negative");
        return false;
    }
    s->radius = r;
    return shape_unit_at(ctx, i + 1, s, GEOHASH_CIRCLE);
}

/* <width> <height> <unit> at argument i. */
static bool box_at(cmd_ctx_t *ctx, int i, geohash_shape_t *s)
{
    double w, h;
    if (!distance_at(ctx, i, "width", &w) || !distance_at(ctx, i + 1, "height", &h)) return false;
    if (h < 0 || w < 0) {
        resp_add_error(ctx->reply, "ERR height or width cannot be negative");
        return false;
    }
    s->width = w;
    s->height = h;
    return shape_unit_at(ctx, i + 2, s, GEOHASH_BOX);
}

/* The centre at member argument i of z. */
static bool member_centre(cmd_ctx_t *ctx, const zset_t *z, int i, geohash_shape_t *s)
{
    double score;
    if (!zset_score(z, ctx->argv[i], ctx->argvlen[i], &score)) {
        resp_add_error(ctx->reply, "ERR could not decode requested zset member");
        return false;
    }
    geohash_decode(score, &s->lon, &s->lat);
    return true;
}

/* The options from argument `first` on, in 7.0.15's order of tests; false
 * after replying an error. z NULL (no source key): FROMMEMBER's member is
 * not looked up. */
static bool parse_options(cmd_ctx_t *ctx, const zset_t *z, int first, int flags, geo_req_t *q)
{
    bool radius_store = !(flags & (GS_NO_STORE | GS_SEARCH)), search = flags & GS_SEARCH;
    for (int j = first; j < ctx->argc; j++) {
        int left = ctx->argc - j - 1;
        if (arg_is_at(ctx, j, "withdist")) {
            q->withdist = true;
        } else if (arg_is_at(ctx, j, "withhash")) {
            q->withhash = true;
        } else if (arg_is_at(ctx, j, "withcoord")) {
            q->withcoord = true;
        } else if (arg_is_at(ctx, j, "any")) {
            q->any = true;
        } else if (arg_is_at(ctx, j, "asc")) {
            q->sort = SORT_ASC;
        } else if (arg_is_at(ctx, j, "desc")) {
            q->sort = SORT_DESC;
        } else if (arg_is_at(ctx, j, "count") && left >= 1) {
            if (!arg_ll_at(ctx, j + 1, &q->count)) return false;
            if (q->count <= 0) {
                resp_add_error(ctx->reply, "ERR COUNT must be > 0");
                return false;
            }
            j++;
        } else if (radius_store && left >= 1 && (arg_is_at(ctx, j, "store") || arg_is_at(ctx, j, "storedist"))) {
            q->storedist = arg_is_at(ctx, j, "storedist");
            q->store_arg = ++j;
        } else if ((flags & GS_SEARCH_STORE) && arg_is_at(ctx, j, "storedist")) {
            q->storedist = true;
        } else if (search && !q->from_lonlat && left >= 1 && arg_is_at(ctx, j, "frommember")) {
            if (z && !member_centre(ctx, z, j + 1, &q->shape)) return false;
            q->from_member = true;
            j++;
        } else if (search && !q->from_member && left >= 2 && arg_is_at(ctx, j, "fromlonlat")) {
            if (!geo_point_at(ctx, j + 1, &q->shape.lon, &q->shape.lat)) return false;
            q->from_lonlat = true;
            j += 2;
        } else if (search && !q->by_box && left >= 2 && arg_is_at(ctx, j, "byradius")) {
            if (!radius_at(ctx, j + 1, &q->shape)) return false;
            q->by_radius = true;
            j += 2;
        } else if (search && !q->by_radius && left >= 3 && arg_is_at(ctx, j, "bybox")) {
            if (!box_at(ctx, j + 1, &q->shape)) return false;
            q->by_box = true;
            j += 3;
        } else {
            resp_add_error(ctx->reply, "ERR syntax error");
            return false;
        }
    }
    const char *name = (const char *)ctx->argv[0];
    int name_len = (int)ctx->argvlen[0];
    if (q->store_arg && (q->withdist || q->withhash || q->withcoord)) {
        resp_add_errorf(ctx->reply, "ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
                        (flags & GS_SEARCH_STORE) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS");
        return false;
    }
    if (search && !(q->from_member || q->from_lonlat)) {
        resp_add_errorf(ctx->reply, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %.*s",
                        name_len, name);
        return false;
    }
    if (search && !(q->by_radius || q->by_box)) {
        resp_add_errorf(ctx->reply, "ERR exactly one of BYRADIUS and BYBOX can be specified for %.*s", name_len, name);
        return false;
    }
    if (q->any && !q->count) {
        resp_add_error(ctx->reply, "ERR the ANY argument requires COUNT argument");
        return false;
    }
    return true;
}

/* ---- the search ---- */

static bool score_below(const void *arg, double s, const uint8_t *m, size_t ml)
{
    (void)m;
    (void)ml;
    return s < *(const double *)arg;
}

static void hits_add(geo_hits_t *h, const uint8_t *m, size_t ml, double score, double lon, double lat, double dist)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 16;
        h->v = xrealloc(h->v, sizeof *h->v * h->cap);
    }
    if (h->names_len + ml > h->names_cap) {
        h->names_cap = (h->names_len + ml) * 2 + 64;
        h->names = xrealloc(h->names, h->names_cap);
    }
    if (ml) memcpy(h->names + h->names_len, m, ml);
    h->v[h->n++] = (geo_hit_t){ .lon = lon, .lat = lat, .dist = dist, .score = score,
                                .name_off = h->names_len, .name_len = ml };
    h->names_len += ml;
}

/* The points of cell c inside s, in the set's order, until `limit` hits in
 * all (0: no limit). */
static void search_cell(const zset_t *z, geohash_cell_t c, const geohash_shape_t *s, geo_hits_t *h, size_t limit)
{
    uint64_t lo, hi;
    geohash_cell_scores(c, &lo, &hi);
    double min = (double)lo, max = (double)hi;
    size_t rank = zset_count_prefix(z, score_below, &min);
    if (rank >= zset_len(z)) return;
    zset_iter_t it;
    zset_iter_init(&it, z, rank, false);
    const uint8_t *m;
    size_t ml;
    double score;
    while (zset_iter_next(&it, &m, &ml, &score) && score < max) {
        double lon, lat, dist;
        if (geohash_in_shape(s, score, &lon, &lat, &dist)) hits_add(h, m, ml, score, lon, lat, dist);
        if (limit && h->n >= limit) break;
    }
}

static void search(const zset_t *z, const geohash_shape_t *s, geo_hits_t *h, size_t limit)
{
    geohash_cell_t cells[9];
    int n = geohash_search_cells(s, cells);
    for (int i = 0; i < n; i++) {
        if (limit && h->n >= limit) break;
        search_cell(z, cells[i], s, h, limit);
    }
}

/* ---- ordering ---- */

typedef int (*hit_cmp_fn)(const geo_hit_t *a, const geo_hit_t *b);

static int nearer_first(const geo_hit_t *a, const geo_hit_t *b)
{
    return a->dist > b->dist ? 1 : a->dist == b->dist ? 0 : -1;
}

static int farther_first(const geo_hit_t *a, const geo_hit_t *b) { return -nearer_first(a, b); }

/* Stable merge sort (equal distances keep the order found), which is what
 * 7.0.15's qsort call gives with glibc. tmp has room for n. */
static void sort_stable(geo_hit_t *v, geo_hit_t *tmp, size_t n, hit_cmp_fn cmp)
{
    if (n < 2) return;
    size_t half = n / 2;
    sort_stable(v, tmp, half, cmp);
    sort_stable(v + half, tmp, n - half, cmp);
    size_t i = 0, j = half, k = 0;
    while (i < half && j < n) tmp[k++] = cmp(&v[i], &v[j]) <= 0 ? v[i++] : v[j++];
    while (i < half) tmp[k++] = v[i++];
    memcpy(v, tmp, sizeof *v * k);
}

static void hit_swap(geo_hit_t *a, geo_hit_t *b)
{
    geo_hit_t t = *a;
    *a = *b;
    *b = t;
}

static void hit_swap_run(geo_hit_t *a, geo_hit_t *b, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) hit_swap(&a[i], &b[i]);
}

static geo_hit_t *median3(geo_hit_t *a, geo_hit_t *b, geo_hit_t *c, hit_cmp_fn cmp)
{
    if (cmp(a, b) < 0) return cmp(b, c) < 0 ? b : cmp(a, c) < 0 ? c : a;
    return cmp(b, c) > 0 ? b : cmp(a, c) < 0 ? a : c;
}

/* The partial quicksort 7.0.15 uses when COUNT keeps fewer hits than were
 * found (its pqsort: Bentley and McIlroy's three-way partitioning, which
 * only descends into parts that overlap the wanted ranks). The wanted
 * ranks end at `need` (an element of the whole array); the unstable swaps
 * are the same, so equal distances come out in the same order. */
static void sort_partial(geo_hit_t *a, ptrdiff_t n, hit_cmp_fn cmp, const geo_hit_t *need)
{
    for (;;) {
        if (n < 7) {
            for (ptrdiff_t m = 1; m < n; m++)
                for (ptrdiff_t l = m; l > 0 && cmp(&a[l - 1], &a[l]) > 0; l--) hit_swap(&a[l], &a[l - 1]);
            return;
        }
        geo_hit_t *pm = a + n / 2;
        if (n > 7) {
            geo_hit_t *pl = a, *pn = a + n - 1;
            if (n > 40) {
                ptrdiff_t d = n / 8;
                pl = median3(pl, pl + d, pl + 2 * d, cmp);
                pm = median3(pm - d, pm, pm + d, cmp);
                pn = median3(pn - 2 * d, pn - d, pn, cmp);
            }
            pm = median3(pl, pm, pn, cmp);
        }
        hit_swap(a, pm);
        /* a[0] is the pivot; equal ones gather at both ends, [1, pa) and (pd, n) */
        ptrdiff_t pa = 1, pb = 1, pc = n - 1, pd = n - 1;
        for (;;) {
            int r;
            while (pb <= pc && (r = cmp(&a[pb], a)) <= 0) {
                if (r == 0) hit_swap(&a[pa++], &a[pb]);
                pb++;
            }
            while (pb <= pc && (r = cmp(&a[pc], a)) >= 0) {
                if (r == 0) hit_swap(&a[pc], &a[pd--]);
                pc--;
            }
            if (pb > pc) break;
            hit_swap(&a[pb++], &a[pc--]);
        }
        ptrdiff_t r = pa < pb - pa ? pa : pb - pa;
        hit_swap_run(a, a + pb - r, r);
        r = pd - pc < n - pd - 1 ? pd - pc : n - pd - 1;
        hit_swap_run(a + pb, a + n - r, r);
        /* the smaller ones, then the greater ones; a part wholly past the
         * wanted ranks is left unsorted */
        ptrdiff_t lower = pb - pa, upper = pd - pc;
        if (lower > 1 && a <= need) sort_partial(a, lower, cmp, need);
        if (upper <= 1) return;
        a += n - upper;
        n = upper;
        if (a > need) return;
    }
}

/* ---- replies ---- */

static void reply_hits(cmd_ctx_t *ctx, const geo_req_t *q, geo_hits_t *h, size_t n)
{
    int extras = q->withdist + q->withhash + q->withcoord;
    resp_add_array(ctx->reply, (long long)n);
    for (size_t i = 0; i < n; i++) {
        const geo_hit_t *p = &h->v[i];
        if (extras) resp_add_array(ctx->reply, extras + 1);
        resp_add_bulk(ctx->reply, h->names + p->name_off, p->name_len);
        if (q->withdist) geo_reply_distance(ctx, p->dist / q->shape.to_meters);
        if (q->withhash) resp_add_int(ctx->reply, (long long)p->score);
        if (q->withcoord) {
            resp_add_array(ctx->reply, 2);
            geo_reply_coord(ctx, p->lon);
            geo_reply_coord(ctx, p->lat);
        }
    }
}

/* The first n hits into the destination (its old value and TTL go); no
 * hits delete it. */
static void store_hits(cmd_ctx_t *ctx, const geo_req_t *q, geo_hits_t *h, size_t n)
{
    const uint8_t *key = ctx->argv[q->store_arg];
    size_t klen = ctx->argvlen[q->store_arg];
    if (n == 0) {
        if (ks_delete(ctx->ks, key, klen, ctx->now_ms)) ctx->dirty = 1;
        resp_add_int(ctx->reply, 0);
        return;
    }
    zset_t *d = zset_new_enc(ZSET_SKIPLIST);
    size_t longest = 0;
    for (size_t i = 0; i < n; i++) {
        const geo_hit_t *p = &h->v[i];
        int out;
        double score = q->storedist ? p->dist / q->shape.to_meters : p->score;
        zset_add(d, score, h->names + p->name_off, p->name_len, 0, &out, NULL);
        if (p->name_len > longest) longest = p->name_len;
    }
    zset_maybe_listpack(d, longest);
    ks_set_object(ctx->ks, key, klen, KS_TYPE_ZSET, &d->base, KS_NO_EXPIRE, ctx->now_ms);
    ctx->dirty = (long long)n;   /* 7.0.15 counts each member stored */
    resp_add_int(ctx->reply, (long long)n);
}

static void geo_search_generic(cmd_ctx_t *ctx, int src, int flags)
{
    bool bad;
    zset_t *z = zcmd_lookup_read(ctx, src, &bad);
    if (bad) return;
    geo_req_t q = { .sort = SORT_NONE };
    int first;
    if (flags & GS_FROM_COORDS) {
        first = 6;
        if (!geo_point_at(ctx, 2, &q.shape.lon, &q.shape.lat) || !radius_at(ctx, 4, &q.shape)) return;
    } else if (flags & GS_FROM_MEMBER) {
        /* with no source key the centre and radius are not read: the
         * options still are, for the reply's kind */
        first = 5;
        if (z && (!member_centre(ctx, z, 2, &q.shape) || !radius_at(ctx, 3, &q.shape))) return;
    } else {
        first = (flags & GS_SEARCH_STORE) ? 3 : 2;
        if (flags & GS_SEARCH_STORE) q.store_arg = 1;
    }
    if (!parse_options(ctx, z, first, flags, &q)) return;

    geo_hits_t h = { 0 };
    if (z) {
        /* COUNT alone asks for the nearest; with ANY, for the first found */
        if (q.count && q.sort == SORT_NONE && !q.any) q.sort = SORT_ASC;
        search(z, &q.shape, &h, q.any ? (size_t)q.count : 0);
    }
    size_t n = (q.count == 0 || h.n < (unsigned long long)q.count) ? h.n : (size_t)q.count;
    if (q.sort != SORT_NONE && h.n > 1) {
        hit_cmp_fn cmp = q.sort == SORT_ASC ? nearer_first : farther_first;
        if (n == h.n) {
            geo_hit_t *tmp = xmalloc(sizeof *tmp * h.n);
            sort_stable(h.v, tmp, h.n, cmp);
            free(tmp);
        } else {
            sort_partial(h.v, (ptrdiff_t)h.n, cmp, h.v + n - 1);
        }
    }
    if (q.store_arg) store_hits(ctx, &q, &h, n);
    else reply_hits(ctx, &q, &h, n);
    free(h.v);
    free(h.names);
}

void cmd_georadius(cmd_ctx_t *ctx) { geo_search_generic(ctx, 1, GS_FROM_COORDS); }
void cmd_georadius_ro(cmd_ctx_t *ctx) { geo_search_generic(ctx, 1, GS_FROM_COORDS | GS_NO_STORE); }
void cmd_georadiusbymember(cmd_ctx_t *ctx) { geo_search_generic(ctx, 1, GS_FROM_MEMBER); }
void cmd_georadiusbymember_ro(cmd_ctx_t *ctx) { geo_search_generic(ctx, 1, GS_FROM_MEMBER | GS_NO_STORE); }
void cmd_geosearch(cmd_ctx_t *ctx) { geo_search_generic(ctx, 1, GS_SEARCH); }
void cmd_geosearchstore(cmd_ctx_t *ctx) { geo_search_generic(ctx, 2, GS_SEARCH | GS_SEARCH_STORE); }

/* GEORADIUS and GEORADIUSBYMEMBER's keys, as 7.0.15's cluster routing
 * finds them: the source, and the name after the last STORE or STOREDIST
 * from argument 5 on (a pair is skipped as a whole, nothing else is). */
int cmd_georadius_getkeys(int argc, const uint8_t **argv, const size_t *argvlen, int *positions, int max)
{
    int n = 0, store = 0;
    if (argc > 1 && n < max) positions[n++] = 1;
    for (int i = 5; argv && argvlen && i < argc; i++) {
        if ((arg_is(argv[i], argvlen[i], "store") || arg_is(argv[i], argvlen[i], "storedist")) && i + 1 < argc) {
            store = i + 1;
            i++;
        }
    }
    if (store && n < max) positions[n++] = store;
    return n;
}

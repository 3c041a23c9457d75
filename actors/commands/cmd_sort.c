/* cmd_sort.c - SORT and SORT_RO over lists, sets and sorted sets, as
 * redis-server 7.0.15 answers them: numeric order by default (every weight
 * must read as a double), ALPHA, ASC/DESC, LIMIT, STORE into a list, and the
 * BY / GET patterns ("#", "prefix*suffix", "prefix*->field").
 *
 * In cluster mode 7.0.15 refuses a BY pattern holding '*' and any GET, since
 * the keys they name may live in other slots; we answer the same. Outside
 * cluster mode patterns read the worker's own keyspace, which holds every
 * key when the node runs one worker.
 * Must never: keep an empty list at the STORE destination, or hold pointers
 * into the sorted value after the destination was written (they may be the
 * same key).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/commands/script.h"
#include "actors/config/config.h"
#include "actors/types/hash.h"
#include "actors/types/list.h"
#include "actors/types/set.h"
#include "actors/types/zset.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/xcmd.h"

/* One element to sort: its own bytes (a copy) and its weight. */
typedef struct sort_item {
    uint8_t *p;
    size_t len;
    double score;
    uint8_t *by;                  /* ALPHA with BY: the weight's bytes, NULL when absent */
    size_t bylen;
} sort_item_t;

typedef struct sort_opts {
    bool desc, alpha, bypattern;
} sort_opts_t;

/* qsort has no context argument; a SORT runs to completion on one worker
 * thread, so a thread-local copy of its options is enough. */
static _Thread_local sort_opts_t sort_cur;

static int bytes_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c < 0 ? -1 : 1;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

static int item_cmp(const void *x, const void *y)
{
    const sort_item_t *a = x, *b = y;
    int c;
    if (!sort_cur.alpha) {
        /* Equal weights fall back to the bytes, so the order is defined. */
        c = a->score > b->score ? 1 : a->score < b->score ? -1 : bytes_cmp(a->p, a->len, b->p, b->len);
    } else if (sort_cur.bypattern) {
        if (!a->by || !b->by) c = a->by == b->by ? 0 : a->by ? 1 : -1;
        else c = bytes_cmp(a->by, a->bylen, b->by, b->bylen);
    } else {
        c = bytes_cmp(a->p, a->len, b->p, b->len);
    }
    return sort_cur.desc ? -c : c;
}

/* The value a pattern names for element (p, len), as 7.0.15's lookup by
 * pattern: "#" is the element itself; otherwise the first '*' takes the
 * element, and a "->field" after it reads a hash field instead of a string.
 * Returns false when there is no such value (no '*', absent key, other
 * type, absent field). The bytes stay valid until the keyspace changes. */
static bool pattern_value(cmd_ctx_t *ctx, const uint8_t *pat, size_t patlen, const uint8_t *p, size_t len,
                          const uint8_t **out, size_t *outlen, uint8_t numbuf[21])
{
    if (patlen == 1 && pat[0] == '#') {
        *out = p;
        *outlen = len;
        return true;
    }
    const uint8_t *star = memchr(pat, '*', patlen);
    if (!star) return false;
    const uint8_t *field = NULL;
    size_t fieldlen = 0, restlen = patlen - (size_t)(star - pat) - 1;
    for (const uint8_t *f = star + 1; f + 1 < pat + patlen; f++) {
        if (f[0] == '-' && f[1] == '>') {
            if (f + 2 < pat + patlen) {
                field = f + 2;
                fieldlen = (size_t)(pat + patlen - field);
                restlen = (size_t)(f - star - 1);
            }
            break;
        }
    }
    size_t prefix = (size_t)(star - pat), klen = prefix + len + restlen;
    uint8_t *key = malloc(klen ? klen : 1);
    if (!key) abort();
    memcpy(key, pat, prefix);
    if (len) memcpy(key + prefix, p, len);
    memcpy(key + prefix + len, star + 1, restlen);
    ks_entry_t *e = ks_lookup_read(ctx->ks, key, klen, ctx->now_ms);
    if (!e && ctx->worker) {
        /* a key another worker keeps, parked for this call (xcmd.h); one
         * past its TTL reads as missing and is deleted, as a read deletes it */
        struct keyspace *other = xcmd_parked_space(ctx->worker, key, klen);
        e = other ? ks_peek(other, key, klen) : NULL;
        if (e) {
            long long exp = ks_entry_expire(other, e);
            if (exp != KS_NO_EXPIRE && exp <= ctx->now_ms) {
                e = NULL;
                xcmd_expire_parked(ctx->worker, key, klen, ctx->now_ms);
            }
        }
    }
    free(key);
    if (!e) return false;
    if (field) {
        if (ks_entry_type(e) != KS_TYPE_HASH) return false;
        *out = hash_get(ks_entry_obj(e), field, fieldlen, numbuf, outlen);
        return *out != NULL;
    }
    if (ks_entry_type(e) != KS_TYPE_STRING) return false;
    *out = ks_entry_str(e, outlen);
    return true;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t len)
{
    uint8_t *c = malloc(len ? len : 1);
    if (!c) abort();
    if (len) memcpy(c, p, len);
    return c;
}

/* A weight as strtod reads it: the whole text, not NaN, not out of range. */
static bool parse_weight(const uint8_t *p, size_t len, double *out)
{
    char buf[128];
    char *tmp = len < sizeof buf ? buf : malloc(len + 1);
    if (!tmp) abort();
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    char *end;
    errno = 0;
    *out = strtod(tmp, &end);
    bool ok = (size_t)(end - tmp) == len && errno != ERANGE && !isnan(*out);
    if (tmp != buf) free(tmp);
    return ok;
}

typedef struct sort_pat { const uint8_t *p; size_t len; } sort_pat_t;

bool cmd_sort_reads_patterns(int argc, const uint8_t **argv, const size_t *argvlen)
{
    for (int j = 2; j < argc; j++) {
        const uint8_t *a = argv[j];
        size_t al = argvlen[j];
        if (arg_is(a, al, "limit")) {
            j += 2;
        } else if (arg_is(a, al, "store")) {
            j++;
        } else if ((arg_is(a, al, "by") || arg_is(a, al, "get")) && j + 1 < argc) {
            if (memchr(argv[j + 1], '*', argvlen[j + 1])) return true;
            j++;
        }
    }
    return false;
}

/* One call's options, as parsed. */
typedef struct sort_req {
    sort_opts_t o;
    long long lstart, lcount;
    const uint8_t *by;
    size_t bylen;
    int store;                    /* argv index of the destination, 0 for none */
    int ngets;
    bool dontsort;                /* BY without '*': keep the value's own order */
    sort_pat_t *gets;             /* argc entries */
} sort_req_t;

/* Parses the options in 7.0.15's order of checks; false after replying
 * with the error. */
static bool parse_opts(cmd_ctx_t *ctx, bool readonly, sort_req_t *r)
{
    for (int j = 2; j < ctx->argc; j++) {
        const uint8_t *a = ctx->argv[j];
        size_t al = ctx->argvlen[j];
        int left = ctx->argc - j - 1;
        if (arg_is(a, al, "asc")) {
            r->o.desc = false;
        } else if (arg_is(a, al, "desc")) {
            r->o.desc = true;
        } else if (arg_is(a, al, "alpha")) {
            r->o.alpha = true;
        } else if (arg_is(a, al, "limit") && left >= 2) {
            if (!arg_ll(ctx->argv[j + 1], ctx->argvlen[j + 1], &r->lstart) ||
                !arg_ll(ctx->argv[j + 2], ctx->argvlen[j + 2], &r->lcount)) {
                resp_add_error(ctx->reply, "ERR value is not an integer or out of range");
                return false;
            }
            j += 2;
        } else if (!readonly && arg_is(a, al, "store") && left >= 1) {
            r->store = ++j;
        } else if (arg_is(a, al, "by") && left >= 1) {
            r->by = ctx->argv[j + 1];
            r->bylen = ctx->argvlen[j + 1];
            if (!memchr(r->by, '*', r->bylen)) {
                r->dontsort = true;
            } else if (config_cluster_enabled()) {
                resp_add_error(ctx->reply, "ERR BY option of SORT denied in Cluster mode.");
                return false;
            }
            j++;
        } else if (arg_is(a, al, "get") && left >= 1) {
            if (config_cluster_enabled()) {
                resp_add_error(ctx->reply, "ERR GET option of SORT denied in Cluster mode.");
                return false;
            }
            r->gets[r->ngets].p = ctx->argv[j + 1];
            r->gets[r->ngets++].len = ctx->argvlen[j + 1];
            j++;
        } else {
            resp_add_error(ctx->reply, "ERR syntax error");
            return false;
        }
    }
    return true;
}

static void push_copy(sort_item_t *v, long long *k, const uint8_t *p, size_t len)
{
    v[*k].p = dup_bytes(p, len);
    v[(*k)++].len = len;
}

/* Copies the elements of e (n of them) into v: all of them, or with
 * `direct` only the range from `start` in the value's own order (reversed
 * for DESC). Returns how many were copied. */
static long long load_items(ks_entry_t *e, long long n, bool direct, bool desc, long long start, long long vlen,
                            sort_item_t *v)
{
    long long k = 0;
    if (!e || vlen <= 0) return 0;
    if (ks_entry_type(e) == KS_TYPE_LIST) {
        list_iter_t it;
        list_elem_t le;
        size_t from = direct ? (size_t)(desc ? n - start - 1 : start) : 0;
        if (list_iter_at(ks_entry_obj(e), from, direct ? !desc : true, &it))
            while (k < vlen && list_iter_next(&it, &le)) push_copy(v, &k, le.p, le.len);
    } else if (ks_entry_type(e) == KS_TYPE_SET) {
        set_iter_t it;
        const uint8_t *m;
        size_t ml;
        set_iter_init(&it, ks_entry_obj(e));
        while (k < vlen && set_iter_next(&it, &m, &ml)) push_copy(v, &k, m, ml);
    } else {
        zset_iter_t it;
        const uint8_t *m;
        size_t ml;
        double sc;
        /* the iterator counts ranks from the lowest member either way */
        size_t from = !direct ? 0 : desc ? (size_t)(n - 1 - start) : (size_t)start;
        zset_iter_init(&it, ks_entry_obj(e), from, direct && desc);
        while (k < vlen && zset_iter_next(&it, &m, &ml, &sc)) push_copy(v, &k, m, ml);
    }
    return k;
}

/* The GET values of element it, or the element itself without GET, each
 * passed to emit (an absent value as NULL). */
static void for_each_output(cmd_ctx_t *ctx, const sort_req_t *r, const sort_item_t *it,
                            void (*emit)(void *arg, const uint8_t *p, size_t len), void *arg)
{
    if (!r->ngets) emit(arg, it->p, it->len);
    for (int g = 0; g < r->ngets; g++) {
        const uint8_t *w;
        size_t wl;
        uint8_t nb[21];
        if (pattern_value(ctx, r->gets[g].p, r->gets[g].len, it->p, it->len, &w, &wl, nb)) emit(arg, w, wl);
        else emit(arg, NULL, 0);
    }
}

static void emit_reply(void *arg, const uint8_t *p, size_t len)
{
    resp_buf_t *b = arg;
    if (p) resp_add_bulk(b, p, len);
    else resp_add_null(b);
}

static void emit_list(void *arg, const uint8_t *p, size_t len)
{
    list_push(arg, LIST_TAIL, p ? p : (const uint8_t *)"", p ? len : 0);
}

/* Weighs the elements (by themselves or through BY) and sorts them; false
 * when a numeric weight is not a double (the sort still happens, as in
 * 7.0.15, but its result is not used). */
static bool weigh_and_sort(cmd_ctx_t *ctx, const sort_req_t *r, sort_item_t *v, long long vlen)
{
    bool ok = true;
    for (long long j = 0; j < vlen; j++) {
        const uint8_t *w = v[j].p;
        size_t wl = v[j].len;
        uint8_t nb[21];
        if (r->by && !pattern_value(ctx, r->by, r->bylen, v[j].p, v[j].len, &w, &wl, nb)) continue;
        if (r->o.alpha) {
            if (r->by) {
                v[j].by = dup_bytes(w, wl);
                v[j].bylen = wl;
            }
        } else if (!parse_weight(w, wl, &v[j].score)) {
            ok = false;
        }
    }
    sort_cur = r->o;
    qsort(v, (size_t)vlen, sizeof *v, item_cmp);
    return ok;
}

static void sort_generic(cmd_ctx_t *ctx, bool readonly)
{
    sort_req_t r = { .lcount = -1 };
    r.gets = calloc((size_t)ctx->argc, sizeof *r.gets);
    if (!r.gets) abort();
    if (!parse_opts(ctx, readonly, &r)) goto out;

    ks_entry_t *e = ks_lookup_read(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    if (e && ks_entry_type(e) != KS_TYPE_LIST && ks_entry_type(e) != KS_TYPE_SET && ks_entry_type(e) != KS_TYPE_ZSET) {
        resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
        goto out;
    }
    int type = e ? ks_entry_type(e) : KS_TYPE_LIST;
    /* A set has no order of its own: a stored result, or one a script
     * gets, is sorted by the members, as 7.0.15 forces (the same on every
     * replica and in the AOF). */
    if (r.dontsort && type == KS_TYPE_SET && (r.store || script_call_running())) {
        r.dontsort = false;
        r.o.alpha = true;
        r.by = NULL;
    }
    r.o.bypattern = r.by != NULL && !r.dontsort;
    if (e && type == KS_TYPE_ZSET) {
        zset_t *z = ks_entry_obj(e);
        if (z->enc == ZSET_LISTPACK) {   /* 7.0.15 converts the value for SORT, for good */
            size_t before = zset_ops.mem_usage(z);
            zset_to_skiplist(z);
            ks_mem_adjust(ctx->ks, (long long)zset_ops.mem_usage(z) - (long long)before);
        }
    }

    long long n = !e ? 0 : type == KS_TYPE_LIST ? (long long)((list_t *)ks_entry_obj(e))->count
                         : type == KS_TYPE_SET ? (long long)set_len(ks_entry_obj(e)) : (long long)zset_len(ks_entry_obj(e));
    long long start = r.lstart < 0 ? 0 : r.lstart > n ? n : r.lstart;
    long long cnt = r.lcount < -1 ? -1 : r.lcount > n ? n : r.lcount;
    long long end = cnt < 0 ? n - 1 : start + cnt - 1;
    if (start >= n) {
        start = n - 1;
        end = n - 2;
    }
    if (end >= n) end = n - 1;

    /* Ordered values with nothing to sort: only the range is loaded. */
    bool direct = r.dontsort && type != KS_TYPE_SET;
    long long vlen = direct ? (end >= start ? end - start + 1 : 0) : n;
    sort_item_t *v = calloc((size_t)(vlen > 0 ? vlen : 1), sizeof *v);
    if (!v) abort();
    vlen = load_items(e, n, direct, r.o.desc, start, vlen, v);
    if (direct) {
        end -= start;
        start = 0;
    }
    bool ok = r.dontsort || weigh_and_sort(ctx, &r, v, vlen);

    long long outlen = end - start + 1;
    if (outlen < 0) outlen = 0;
    if (r.ngets) outlen *= r.ngets;
    if (!ok) {
        resp_add_error(ctx->reply, "ERR One or more scores can't be converted into double");
    } else if (!r.store) {
        resp_add_array(ctx->reply, outlen);
        for (long long j = start; j <= end; j++) for_each_output(ctx, &r, &v[j], emit_reply, ctx->reply);
    } else {
        list_t *l = list_new_default();   /* 7.0.15's SORT STORE list ignores the list-* settings */
        for (long long j = start; j <= end; j++) for_each_output(ctx, &r, &v[j], emit_list, l);
        if (outlen) {
            ks_set_object(ctx->ks, ctx->argv[r.store], ctx->argvlen[r.store], KS_TYPE_LIST, &l->obj, KS_NO_EXPIRE,
                          ctx->now_ms);
            ctx->dirty = true;
        } else {
            list_ops.free_value(l);
            if (ks_delete(ctx->ks, ctx->argv[r.store], ctx->argvlen[r.store], ctx->now_ms)) ctx->dirty = true;
        }
        resp_add_int(ctx->reply, outlen);
    }
    for (long long j = 0; j < vlen; j++) {
        free(v[j].p);
        free(v[j].by);
    }
    free(v);
out:
    free(r.gets);
}

void cmd_sort(cmd_ctx_t *ctx) { sort_generic(ctx, false); }
void cmd_sort_ro(cmd_ctx_t *ctx) { sort_generic(ctx, true); }

/* SORT's keys: the sorted key, then the STORE destination wherever it
 * appears (skipping the arguments of LIMIT, BY and GET, as 7.0.15's key
 * extraction does; the last STORE wins, and the name after STORE is itself
 * read as an option word). */
int cmd_sort_getkeys(int argc, const uint8_t **argv, const size_t *argvlen, int *positions, int max)
{
    int n = 0, store = 0;
    if (argc > 1 && n < max) positions[n++] = 1;
    for (int j = 2; argv && argvlen && j < argc; j++) {
        if (arg_is(argv[j], argvlen[j], "limit")) j += 2;
        else if (arg_is(argv[j], argvlen[j], "get") || arg_is(argv[j], argvlen[j], "by")) j += 1;
        else if (arg_is(argv[j], argvlen[j], "store") && j + 1 < argc) store = j + 1;   /* the name is scanned too */
    }
    if (store && n < max) positions[n++] = store;
    return n;
}

/* SORT_RO's only key is the sorted one (it has no STORE). */
int cmd_sort_ro_getkeys(int argc, const uint8_t **argv, const size_t *argvlen, int *positions, int max)
{
    (void)argv;
    (void)argvlen;
    if (argc < 2 || max < 1) return 0;
    positions[0] = 1;
    return 1;
}

/* stream_rdb.c - streams in the RDB format, both ways, as redis-server
 * 7.0.15: saved as STREAM_LISTPACKS_2 (19): the nodes (128-bit big-endian
 * master ID, listpack), length, last ID, first ID, largest deleted ID,
 * entries added, then each consumer group (name, last ID, read counter, its
 * PEL with delivery times and counts, its consumers with their seen time
 * and the IDs they hold). Loaded from that and from the 5.x/6.x
 * STREAM_LISTPACKS (15), which lacks the counters (derived as 7.0.15 does).
 *
 * Must never: accept a node whose layout it did not check entry by entry
 * (the iterators trust it), or a PEL entry without its consumer.
 */
#include <stdlib.h>
#include <string.h>

#include "actors/types/stream.h"
#include "actors/types/stream_cg.h"
#include "proto/listpack.h"
#include "proto/rdb.h"
#include "proto/strnum.h"

#define T_STREAM 15
#define T_STREAM_2 19

/* ---------------- save ---------------- */

static void id_be(const stream_id_t *id, uint8_t out[16])
{
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(id->ms >> (56 - 8 * i));
        out[8 + i] = (uint8_t)(id->seq >> (56 - 8 * i));
    }
}

static stream_id_t id_from_be(const uint8_t *p)
{
    stream_id_t id = { 0, 0 };
    for (int i = 0; i < 8; i++) {
        id.ms = (id.ms << 8) | p[i];
        id.seq = (id.seq << 8) | p[8 + i];
    }
    return id;
}

static int enc_ms(struct rdb_encoder *enc, long long ms)
{
    uint8_t b[8];
    uint64_t v = (uint64_t)ms;
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    return rdb_encode_raw(enc, b, 8);
}

static int enc_id(struct rdb_encoder *enc, const stream_id_t *id)
{
    int rc = rdb_encode_length(enc, id->ms);
    return rc ? rc : rdb_encode_length(enc, id->seq);
}

static int save_pel(struct rdb_encoder *enc, const stream_pel_t *p, bool nacks)
{
    int rc = rdb_encode_length(enc, p->n);
    for (size_t i = 0; i < p->n && !rc; i++) {
        uint8_t k[16];
        id_be(&p->v[i]->id, k);
        rc = rdb_encode_raw(enc, k, 16);
        if (!rc && nacks) rc = enc_ms(enc, p->v[i]->delivery_time);
        if (!rc && nacks) rc = rdb_encode_length(enc, p->v[i]->delivery_count);
    }
    return rc;
}

static int save_group(struct rdb_encoder *enc, const stream_cg_t *g)
{
    int rc = rdb_encode_string(enc, g->name, g->nlen);
    if (!rc) rc = enc_id(enc, &g->last_id);
    if (!rc) rc = rdb_encode_length(enc, (uint64_t)g->entries_read);
    if (!rc) rc = save_pel(enc, &g->pel, true);
    if (!rc) rc = rdb_encode_length(enc, g->nconsumers);
    for (size_t k = 0; k < g->nconsumers && !rc; k++) {
        const stream_consumer_t *c = g->consumers[k];
        rc = rdb_encode_string(enc, c->name, c->nlen);
        if (!rc) rc = enc_ms(enc, c->seen_time);
        if (!rc) rc = save_pel(enc, &c->pel, false);
    }
    return rc;
}

int stream_rdb_save(const stream_t *s, struct rdb_encoder *enc)
{
    int rc = rdb_encode_length(enc, s->nnodes);
    for (size_t i = 0; i < s->nnodes && !rc; i++) {
        const stream_node_t *n = stream_node_at(s, i);
        uint8_t k[16];
        id_be(&n->master, k);
        rc = rdb_encode_string(enc, k, 16);
        if (!rc) rc = rdb_encode_string(enc, n->lp, lp_bytes(n->lp));
    }
    if (!rc) rc = rdb_encode_length(enc, s->length);
    if (!rc) rc = enc_id(enc, &s->last_id);
    if (!rc) rc = enc_id(enc, &s->first_id);
    if (!rc) rc = enc_id(enc, &s->max_deleted);
    if (!rc) rc = rdb_encode_length(enc, s->entries_added);
    if (!rc) rc = rdb_encode_length(enc, stream_cg_count(s));
    for (size_t i = 0; i < stream_cg_count(s) && !rc; i++) rc = save_group(enc, s->cgs->v[i]);
    return rc;
}

/* ---------------- node check ---------------- */

static bool lp_int_ok(const uint8_t *lp, size_t off, int64_t *out)
{
    if (lp_at_end(lp, off)) return false;
    lp_val_t v = lp_get(lp, off);
    if (!v.s) {
        *out = v.v;
        return true;
    }
    long long x;
    if (!str_to_ll(v.s, v.len, &x)) return false;
    *out = x;
    return true;
}

/* Steps over n elements; false when the listpack ends first. */
static bool lp_skip(const uint8_t *lp, size_t *p, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        if (lp_at_end(lp, *p)) return false;
        *p = lp_next(lp, *p);
    }
    return true;
}

/* Whether a validated listpack is laid out as a stream node: master
 * entry, then exactly count + deleted entries each ending with the right
 * lp-count, and nothing after; the live count is above 0. */
static bool node_ok(const uint8_t *lp)
{
    size_t p = lp_first(lp);
    int64_t count, deleted, mf, zero;
    if (!lp_int_ok(lp, p, &count)) return false;
    p = lp_next(lp, p);
    if (!lp_int_ok(lp, p, &deleted)) return false;
    p = lp_next(lp, p);
    if (!lp_int_ok(lp, p, &mf) || mf < 0 || count <= 0 || deleted < 0) return false;
    p = lp_next(lp, p);
    if (!lp_skip(lp, &p, mf) || !lp_int_ok(lp, p, &zero) || zero != 0) return false;
    p = lp_next(lp, p);
    int64_t live = 0;
    for (int64_t e = 0; e < count + deleted; e++) {
        int64_t flags, d, fields = mf, extra = 3, lpc;
        if (!lp_int_ok(lp, p, &flags)) return false;
        p = lp_next(lp, p);
        if (!lp_int_ok(lp, p, &d)) return false;
        p = lp_next(lp, p);
        if (!lp_int_ok(lp, p, &d)) return false;
        p = lp_next(lp, p);
        if (!(flags & STREAM_FLAG_SAMEFIELDS)) {
            if (!lp_int_ok(lp, p, &fields) || fields < 0) return false;
            p = lp_next(lp, p);
            if (!lp_skip(lp, &p, fields)) return false;
            extra += fields + 1;
        }
        if (!lp_skip(lp, &p, fields) || !lp_int_ok(lp, p, &lpc) || lpc != fields + extra) return false;
        p = lp_next(lp, p);
        if (!(flags & STREAM_FLAG_DELETED)) live++;
    }
    return lp_at_end(lp, p) && live == count;
}

/* ---------------- load ---------------- */

typedef struct rd {
    const uint8_t *val;
    size_t len, pos;
    rdb_strbuf_t sb;
    bool ok;
} rd_t;

static uint64_t rd_len(rd_t *r)
{
    uint64_t v = 0;
    if (r->ok && rdb_read_length(r->val, r->len, &r->pos, &v, NULL) != RDB_OK) r->ok = false;
    return v;
}

static const uint8_t *rd_str(rd_t *r, size_t *n)
{
    const uint8_t *s = NULL;
    *n = 0;
    if (r->ok && rdb_read_string(r->val, r->len, &r->pos, RDB_DEFAULT_MAX_STRING, &r->sb, &s, n, NULL) != RDB_OK)
        r->ok = false;
    return r->ok ? s : NULL;
}

static const uint8_t *rd_raw(rd_t *r, size_t n)
{
    if (!r->ok || r->len - r->pos < n) {
        r->ok = false;
        return NULL;
    }
    const uint8_t *p = r->val + r->pos;
    r->pos += n;
    return p;
}

static long long rd_ms(rd_t *r)
{
    const uint8_t *p = rd_raw(r, 8);
    uint64_t v = 0;
    for (int i = 7; p && i >= 0; i--) v = (v << 8) | p[i];
    return (long long)v;
}

static stream_id_t rd_id(rd_t *r)
{
    stream_id_t id;
    id.ms = rd_len(r);
    id.seq = rd_len(r);
    return id;
}

static bool load_nodes(rd_t *r, stream_t *s)
{
    uint64_t n = rd_len(r);
    for (uint64_t i = 0; i < n && r->ok; i++) {
        size_t kl, ll;
        const uint8_t *k = rd_str(r, &kl);
        if (!k || kl != 16) return false;
        stream_id_t master = id_from_be(k);
        const uint8_t *lp = rd_str(r, &ll);
        size_t cnt;
        if (!lp || !lp_validate(lp, ll, &cnt) || cnt == 0 || !node_ok(lp)) return false;
        if (s->nnodes && stream_id_cmp(&stream_node_at(s, s->nnodes - 1)->master, &master) >= 0) return false;
        stream_add_node(s, &master, lp_dup(lp, ll));
    }
    return r->ok;
}

static bool load_group(rd_t *r, stream_t *s, unsigned t)
{
    size_t nl;
    const uint8_t *name = rd_str(r, &nl);
    if (!name) return false;
    uint8_t *nm = malloc(nl ? nl : 1);
    memcpy(nm, name, nl);
    stream_id_t last = rd_id(r);
    long long er = t == T_STREAM_2 ? (long long)rd_len(r) : stream_estimate_distance(s, &last);
    stream_cg_t *g = r->ok ? stream_cg_create(s, nm, nl, &last, er) : NULL;
    free(nm);
    if (!g) return false;
    uint64_t pn = rd_len(r);
    for (uint64_t i = 0; i < pn && r->ok; i++) {
        const uint8_t *k = rd_raw(r, 16);
        if (!k) return false;
        stream_id_t id = id_from_be(k);
        stream_nack_t *nk = stream_nack_new(&id, NULL, rd_ms(r));
        nk->delivery_count = rd_len(r);
        if (!r->ok || stream_pel_find(&g->pel, &id)) {
            free(nk);
            return false;
        }
        stream_pel_insert(&g->pel, nk);
    }
    uint64_t cn = rd_len(r);
    for (uint64_t i = 0; i < cn && r->ok; i++) {
        size_t cl;
        const uint8_t *cname = rd_str(r, &cl);
        if (!cname || stream_consumer_find(g, cname, cl)) return false;
        stream_consumer_t *c = stream_consumer_create(g, cname, cl, 0);
        c->seen_time = rd_ms(r);
        uint64_t cp = rd_len(r);
        for (uint64_t j = 0; j < cp && r->ok; j++) {
            const uint8_t *k = rd_raw(r, 16);
            if (!k) return false;
            stream_id_t id = id_from_be(k);
            stream_nack_t *nk = stream_pel_find(&g->pel, &id);
            if (!nk || nk->consumer) return false;
            nk->consumer = c;
            stream_pel_insert(&c->pel, nk);
        }
    }
    for (size_t i = 0; i < g->pel.n; i++)
        if (!g->pel.v[i]->consumer) return false;
    return r->ok;
}

int stream_rdb_load(unsigned t, const uint8_t *val, size_t len, stream_t **out)
{
    rd_t r = { .val = val, .len = len, .ok = true };
    stream_t *s = stream_new();
    bool ok = load_nodes(&r, s);
    if (ok) {
        s->length = rd_len(&r);
        s->last_id = rd_id(&r);
        if (t == T_STREAM_2) {
            s->first_id = rd_id(&r);
            s->max_deleted = rd_id(&r);
            s->entries_added = rd_len(&r);
        } else {
            s->entries_added = s->length;
            stream_edge(s, true, true, &s->first_id);
        }
        uint64_t live = 0;
        for (size_t i = 0; i < s->nnodes; i++) live += (uint64_t)stream_node_live(stream_node_at(s, i)->lp);
        ok = r.ok && live == s->length;
        if (ok && s->nnodes) {
            stream_id_t last;
            stream_edge(s, false, false, &last);
            ok = stream_id_cmp(&last, &s->last_id) <= 0;
        }
    }
    uint64_t ng = ok ? rd_len(&r) : 0;
    for (uint64_t i = 0; i < ng && ok; i++) ok = load_group(&r, s, t);
    ok = ok && r.ok && r.pos == len;
    rdb_strbuf_free(&r.sb);
    if (!ok) {
        stream_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* hash.c - the hash type (see hash.h): storage, conversion, iteration and
 * its RDB forms (HASH_LISTPACK and HASH written; HASH_ZIPMAP, HASH_ZIPLIST,
 * HASH_LISTPACK and HASH read).
 *
 * Must never hand out a pointer into the listpack across a change to it:
 * every change may move the block.
 */
#include <stdlib.h>
#include <string.h>
#include "actors/types/hash.h"
#include "actors/types/types.h"
#include "proto/rdb.h"
#include "proto/ziplist.h"
#include "runtime/xmalloc.h"

/* Releases what the word refers to (free_value of an embedded type). */
static void hash_free(void *obj)
{
    hash_t *h = obj;
    if (hash_enc(h) == HASH_LISTPACK) {
        free(hash_lp(h));
    } else {
        sd_free(hash_sd(h), free);
        free(hash_tab(h));
    }
    h->w = 0;
}

void hash_destroy(hash_t *h)
{
    if (!h) return;
    hash_free(h);
    free(h);
}

static size_t hash_mem(const void *obj)
{
    const hash_t *h = obj;
    return hash_enc(h) == HASH_LISTPACK ? lp_bytes(hash_lp(h))
                                        : sizeof(hash_table_t) + sd_mem(hash_sd(h)) + hash_tab(h)->val_bytes;
}

static const char *hash_encoding(const void *obj)
{
    return hash_enc((const hash_t *)obj) == HASH_LISTPACK ? "listpack" : "hashtable";
}

static unsigned hash_rdb_type(const void *obj)
{
    return hash_enc((const hash_t *)obj) == HASH_LISTPACK ? RDB_TYPE_HASH_LISTPACK : RDB_TYPE_HASH;
}

static int hash_rdb_save(const void *obj, struct rdb_encoder *enc)
{
    const hash_t *h = obj;
    if (hash_enc(h) == HASH_LISTPACK) return rdb_encode_string(enc, hash_lp(h), lp_bytes(hash_lp(h)));
    int rc = rdb_encode_length(enc, sd_size(hash_sd(h)));
    sd_iter_t it = {0};
    sd_entry_t *e;
    while (!rc && (e = sd_next(hash_sd(h), &it))) {
        const hash_val_t *v = e->val;
        rc = rdb_encode_string(enc, e->key, e->klen);
        if (!rc) rc = rdb_encode_string(enc, v->data, v->len);
    }
    return rc;
}

static hash_val_t *val_new(const uint8_t *v, size_t vl)
{
    hash_val_t *x = xmalloc(sizeof *x + vl);
    x->len = (uint32_t)vl;
    memcpy(x->data, v, vl);
    return x;
}

static void hash_put_lp(hash_t *h, uint8_t *lp) { h->w = (uintptr_t)lp; }

static hash_t *hash_shell(void) { return xcalloc(1, sizeof(hash_t)); }

static void *hash_dup(const void *obj)
{
    const hash_t *h = obj;
    hash_t *c = hash_shell();
    if (hash_enc(h) == HASH_LISTPACK) {
        hash_put_lp(c, lp_dup(hash_lp(h), lp_bytes(hash_lp(h))));
        return c;
    }
    hash_table_t *t = xmalloc(sizeof *t);
    t->ht = sd_new(sd_size(hash_sd(h)));
    sd_iter_t it = {0};
    sd_entry_t *e;
    while ((e = sd_next(hash_sd(h), &it))) {
        const hash_val_t *v = e->val;
        sd_add(t->ht, e->key, e->klen, NULL)->val = val_new(v->data, v->len);
    }
    t->val_bytes = hash_tab(h)->val_bytes;
    c->w = (uintptr_t)t | 1;
    return c;
}

const ks_object_ops_t hash_ops = {
    .type_name = "hash",
    .free_value = hash_free,
    .mem_usage = hash_mem,
    .encoding = hash_encoding,
    .rdb_type = hash_rdb_type,
    .rdb_save = hash_rdb_save,
    .dup = hash_dup,
};

hash_t *hash_new(void)
{
    hash_t *h = hash_shell();
    hash_put_lp(h, lp_new());
    return h;
}

size_t hash_len(const hash_t *h)
{
    return hash_enc(h) == HASH_LISTPACK ? lp_count(hash_lp(h)) / 2 : sd_size(hash_sd(h));
}

/* Offset of field's entry in the listpack, or 0. */
static size_t lp_field(const hash_t *h, const uint8_t *f, size_t fl)
{
    return lp_find(hash_lp(h), lp_first(hash_lp(h)), f, fl, 2);
}

const uint8_t *hash_get(const hash_t *h, const uint8_t *f, size_t fl, uint8_t buf[21], size_t *vl)
{
    if (hash_enc(h) == HASH_LISTPACK) {
        size_t off = lp_field(h, f, fl);
        if (!off) return NULL;
        lp_val_t v = lp_get(hash_lp(h), lp_next(hash_lp(h), off));
        return lp_val_bytes(&v, buf, vl);
    }
    sd_entry_t *e = sd_find(hash_sd(h), f, fl);
    if (!e) return NULL;
    const hash_val_t *v = e->val;
    *vl = v->len;
    return v->data;
}

void hash_to_table(hash_t *h)
{
    if (hash_enc(h) == HASH_TABLE) return;
    uint8_t *lp = hash_lp(h);
    sdict_t *d = sd_new(lp_count(lp) / 2);
    size_t vb = 0;
    for (size_t off = lp_first(lp); !lp_at_end(lp, off);) {
        uint8_t fb[21], vbuf[21];
        size_t fl, vl;
        lp_val_t fv = lp_get(lp, off);
        off = lp_next(lp, off);
        lp_val_t vv = lp_get(lp, off);
        off = lp_next(lp, off);
        const uint8_t *f = lp_val_bytes(&fv, fb, &fl), *v = lp_val_bytes(&vv, vbuf, &vl);
        bool added;
        sd_entry_t *e = sd_add(d, f, fl, &added);
        if (added) { e->val = val_new(v, vl); vb += vl + sizeof(hash_val_t); }
    }
    free(lp);
    hash_table_t *t = xmalloc(sizeof *t);
    t->ht = d;
    t->val_bytes = vb;
    h->w = (uintptr_t)t | 1;
}

void hash_convert_for_lengths(hash_t *h, const uint8_t **argv, const size_t *argvlen, int n)
{
    if (hash_enc(h) != HASH_LISTPACK) return;
    long long max = types_limit(TL_HASH_MAX_LISTPACK_VALUE);
    for (int i = 0; i < n; i++) {
        (void)argv;
        if ((long long)argvlen[i] > max) { hash_to_table(h); return; }
    }
}

bool hash_set(hash_t *h, const uint8_t *f, size_t fl, const uint8_t *v, size_t vl)
{
    /* A field or value over hash-max-listpack-value makes it a table whatever the caller
     * (HINCRBYFLOAT's result too), as 7.0.15's hashTypeSet. */
    if (hash_enc(h) == HASH_LISTPACK) {
        long long max = types_limit(TL_HASH_MAX_LISTPACK_VALUE);
        if ((long long)fl > max || (long long)vl > max) hash_to_table(h);
    }
    if (hash_enc(h) == HASH_LISTPACK) {
        size_t off = lp_field(h, f, fl);
        if (off) {
            hash_put_lp(h, lp_replace(hash_lp(h), lp_next(hash_lp(h), off), lp_str(v, vl)));
            return false;
        }
        hash_put_lp(h, lp_append(hash_lp(h), lp_str(f, fl)));
        hash_put_lp(h, lp_append(hash_lp(h), lp_str(v, vl)));
        if ((long long)hash_len(h) > types_limit(TL_HASH_MAX_LISTPACK_ENTRIES)) hash_to_table(h);
        return true;
    }
    bool added;
    sd_entry_t *e = sd_add(hash_sd(h), f, fl, &added);
    if (!added) {
        hash_val_t *old = e->val;
        hash_tab(h)->val_bytes -= old->len;
        free(old);
    } else {
        hash_tab(h)->val_bytes += sizeof(hash_val_t);
    }
    e->val = val_new(v, vl);
    hash_tab(h)->val_bytes += vl;
    return added;
}

bool hash_del(hash_t *h, const uint8_t *f, size_t fl)
{
    if (hash_enc(h) == HASH_LISTPACK) {
        size_t off = lp_field(h, f, fl);
        if (!off) return false;
        hash_put_lp(h, lp_delete(hash_lp(h), off, 2));
        return true;
    }
    void *val;
    if (!sd_delete(hash_sd(h), f, fl, &val)) return false;
    hash_tab(h)->val_bytes -= ((hash_val_t *)val)->len + sizeof(hash_val_t);
    free(val);
    return true;
}

void hash_iter_init(hash_iter_t *it, const hash_t *h)
{
    memset(it, 0, sizeof *it);
    it->h = h;
    it->off = hash_enc(h) == HASH_LISTPACK ? lp_first(hash_lp(h)) : 0;
}

bool hash_iter_next(hash_iter_t *it, const uint8_t **f, size_t *fl, const uint8_t **v, size_t *vl)
{
    const hash_t *h = it->h;
    if (hash_enc(h) == HASH_LISTPACK) {
        if (lp_at_end(hash_lp(h), it->off)) return false;
        lp_val_t fv = lp_get(hash_lp(h), it->off);
        it->off = lp_next(hash_lp(h), it->off);
        lp_val_t vv = lp_get(hash_lp(h), it->off);
        it->off = lp_next(hash_lp(h), it->off);
        *f = lp_val_bytes(&fv, it->fbuf, fl);
        *v = lp_val_bytes(&vv, it->vbuf, vl);
        return true;
    }
    sd_entry_t *e = sd_next(hash_sd(h), &it->it);
    if (!e) return false;
    const hash_val_t *hv = e->val;
    *f = e->key;
    *fl = e->klen;
    *v = hv->data;
    *vl = hv->len;
    return true;
}

/* ---- RDB ---- */

/* Adds a pair while loading; false for a duplicate field (corrupt). */
static bool load_pair(hash_t *h, sdict_t *seen, const uint8_t *f, size_t fl, const uint8_t *v, size_t vl)
{
    if (hash_enc(h) == HASH_LISTPACK) {
        bool added;
        sd_add(seen, f, fl, &added);
        if (!added) return false;
        long long max = types_limit(TL_HASH_MAX_LISTPACK_VALUE);
        if ((long long)fl > max || (long long)vl > max) hash_to_table(h);
    }
    if (hash_enc(h) == HASH_LISTPACK) {
        hash_put_lp(h, lp_append(hash_lp(h), lp_str(f, fl)));
        hash_put_lp(h, lp_append(hash_lp(h), lp_str(v, vl)));
        return true;
    }
    if (sd_find(hash_sd(h), f, fl)) return false;
    hash_set(h, f, fl, v, vl);
    return true;
}

/* HASH: a count, then field and value strings. */
static int load_plain(const uint8_t *val, size_t len, hash_t *h)
{
    size_t pos = 0;
    uint64_t n;
    if (rdb_read_length(val, len, &pos, &n, NULL)) return TYPES_LOAD_CORRUPT;
    if ((long long)n > types_limit(TL_HASH_MAX_LISTPACK_ENTRIES)) hash_to_table(h);
    sdict_t *seen = sd_new(hash_enc(h) == HASH_LISTPACK ? n : 0);
    rdb_strbuf_t sb[2] = {0};
    int rc = TYPES_LOAD_OK;
    for (uint64_t i = 0; i < n && rc == TYPES_LOAD_OK; i++) {
        const uint8_t *f, *v;
        size_t fl, vl;
        if (rdb_read_string(val, len, &pos, 0 - 1ull, &sb[0], &f, &fl, NULL) ||
            rdb_read_string(val, len, &pos, 0 - 1ull, &sb[1], &v, &vl, NULL) ||
            !load_pair(h, seen, f, fl, v, vl))
            rc = TYPES_LOAD_CORRUPT;
    }
    rdb_strbuf_free(&sb[0]);
    rdb_strbuf_free(&sb[1]);
    sd_free(seen, NULL);
    if (rc == TYPES_LOAD_OK && pos != len) rc = TYPES_LOAD_CORRUPT;
    return rc;
}

/* HASH_ZIPMAP, HASH_ZIPLIST and HASH_LISTPACK: one blob of pairs. */
static int load_blob(unsigned t, const uint8_t *blob, size_t bl, hash_t *h)
{
    size_t count = 0;
    bool ok = t == RDB_TYPE_HASH_ZIPMAP ? zm_validate(blob, bl, &count)
            : t == RDB_TYPE_HASH_ZIPLIST ? zl_validate(blob, bl, &count) : lp_validate(blob, bl, &count);
    if (!ok || (t != RDB_TYPE_HASH_ZIPMAP && count % 2)) return TYPES_LOAD_CORRUPT;
    sdict_t *seen = sd_new(count);
    int rc = TYPES_LOAD_OK;
    uint8_t fb[21], vb[21];
    size_t fl, vl, off = t == RDB_TYPE_HASH_ZIPMAP ? 1 : t == RDB_TYPE_HASH_ZIPLIST ? zl_first(blob) : lp_first(blob);
    for (;;) {
        lp_val_t fv, vv;
        if (t == RDB_TYPE_HASH_ZIPMAP) {
            if (!zm_next(blob, &off, &fv, &vv)) break;
        } else if (t == RDB_TYPE_HASH_ZIPLIST) {
            if (zl_at_end(blob, off)) break;
            fv = zl_get(blob, off); off = zl_next(blob, off);
            vv = zl_get(blob, off); off = zl_next(blob, off);
        } else {
            if (lp_at_end(blob, off)) break;
            fv = lp_get(blob, off); off = lp_next(blob, off);
            vv = lp_get(blob, off); off = lp_next(blob, off);
        }
        const uint8_t *f = lp_val_bytes(&fv, fb, &fl), *v = lp_val_bytes(&vv, vb, &vl);
        if (t == RDB_TYPE_HASH_ZIPMAP) {
            if (!load_pair(h, seen, f, fl, v, vl)) { rc = TYPES_LOAD_CORRUPT; break; }
        } else {
            /* Redis keeps these as they are, only refusing duplicates. */
            bool added;
            sd_add(seen, f, fl, &added);
            if (!added) { rc = TYPES_LOAD_CORRUPT; break; }
        }
    }
    sd_free(seen, NULL);
    if (rc != TYPES_LOAD_OK) return rc;
    if (t == RDB_TYPE_HASH_LISTPACK) {
        free(hash_lp(h));
        hash_put_lp(h, lp_dup(blob, bl));
    } else if (t == RDB_TYPE_HASH_ZIPLIST) {
        free(hash_lp(h));
        hash_put_lp(h, lp_new());
        for (off = zl_first(blob); !zl_at_end(blob, off); off = zl_next(blob, off)) {
            lp_val_t x = zl_get(blob, off);
            hash_put_lp(h, lp_append(hash_lp(h), x));
        }
    }
    if (hash_enc(h) == HASH_LISTPACK && (long long)hash_len(h) > types_limit(TL_HASH_MAX_LISTPACK_ENTRIES))
        hash_to_table(h);
    return TYPES_LOAD_OK;
}

int hash_rdb_load(unsigned t, const uint8_t *val, size_t len, hash_t **out)
{
    hash_t *h = hash_new();
    int rc;
    if (t == RDB_TYPE_HASH) {
        rc = load_plain(val, len, h);
    } else {
        size_t pos = 0;
        const uint8_t *blob;
        size_t bl;
        rdb_strbuf_t sb = {0};
        if (rdb_read_string(val, len, &pos, 0 - 1ull, &sb, &blob, &bl, NULL) || pos != len) rc = TYPES_LOAD_CORRUPT;
        else rc = load_blob(t, blob, bl, h);
        rdb_strbuf_free(&sb);
    }
    if (rc == TYPES_LOAD_OK && hash_len(h) == 0) rc = TYPES_LOAD_EMPTY;
    if (rc != TYPES_LOAD_OK) { hash_destroy(h); return rc; }
    *out = h;
    return TYPES_LOAD_OK;
}

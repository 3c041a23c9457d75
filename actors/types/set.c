/* set.c - the set type (see set.h): storage, conversion, iteration and its
 * RDB forms (SET_INTSET and SET written and read).
 *
 * Must never keep an intset pointer across a change: adding may move it.
 */
#include <stdlib.h>
#include <string.h>
#include "actors/types/set.h"
#include "proto/listpack.h"
#include "actors/types/types.h"
#include "proto/intset.h"
#include "proto/rdb.h"
#include "proto/strnum.h"
#include "runtime/xmalloc.h"

/* Releases what the word refers to (free_value of an embedded type). */
static void set_free(void *obj)
{
    set_t *s = obj;
    if (set_enc(s) == SET_INTSET) free(set_is(s));
    else sd_free(set_sd(s), NULL);
    s->w = 0;
}

void set_destroy(set_t *s)
{
    if (!s) return;
    set_free(s);
    free(s);
}

static size_t set_mem(const void *obj)
{
    const set_t *s = obj;
    return set_enc(s) == SET_INTSET ? is_bytes(set_is(s)) : sd_mem(set_sd(s));
}

static void set_put_is(set_t *s, uint8_t *is) { s->w = (uintptr_t)is; }
static void set_put_sd(set_t *s, sdict_t *d) { s->w = (uintptr_t)d | 1; }

static const char *set_encoding(const void *obj)
{
    return set_enc((const set_t *)obj) == SET_INTSET ? "intset" : "hashtable";
}

static unsigned set_rdb_type(const void *obj)
{
    return set_enc((const set_t *)obj) == SET_INTSET ? RDB_TYPE_SET_INTSET : RDB_TYPE_SET;
}

static int set_rdb_save(const void *obj, struct rdb_encoder *enc)
{
    const set_t *s = obj;
    if (set_enc(s) == SET_INTSET) return rdb_encode_string(enc, set_is(s), is_bytes(set_is(s)));
    int rc = rdb_encode_length(enc, sd_size(set_sd(s)));
    sd_iter_t it = {0};
    sd_entry_t *e;
    while (!rc && (e = sd_next(set_sd(s), &it))) rc = rdb_encode_string(enc, e->key, e->klen);
    return rc;
}

static void *set_dup(const void *obj)
{
    const set_t *s = obj;
    set_t *c = xcalloc(1, sizeof *c);
    if (set_enc(s) == SET_INTSET) {
        set_put_is(c, is_dup(set_is(s), is_bytes(set_is(s))));
        return c;
    }
    sdict_t *d = sd_new(sd_size(set_sd(s)));
    sd_iter_t it = {0};
    sd_entry_t *e;
    while ((e = sd_next(set_sd(s), &it))) sd_add(d, e->key, e->klen, NULL);
    set_put_sd(c, d);
    return c;
}

const ks_object_ops_t set_ops = {
    .type_name = "set",
    .free_value = set_free,
    .mem_usage = set_mem,
    .encoding = set_encoding,
    .rdb_type = set_rdb_type,
    .rdb_save = set_rdb_save,
    .dup = set_dup,
};

set_t *set_new(const uint8_t *first, size_t len)
{
    set_t *s = xcalloc(1, sizeof *s);
    long long v;
    if (!first || str_to_ll(first, len, &v)) set_put_is(s, is_new());
    else set_put_sd(s, sd_new(0));
    return s;
}

size_t set_len(const set_t *s) { return set_enc(s) == SET_INTSET ? is_len(set_is(s)) : sd_size(set_sd(s)); }

bool set_has(const set_t *s, const uint8_t *m, size_t len)
{
    if (set_enc(s) == SET_TABLE) return sd_find(set_sd(s), m, len) != NULL;
    long long v;
    return str_to_ll(m, len, &v) && is_find(set_is(s), v, NULL);
}

static size_t ll_text(long long v, uint8_t buf[21])
{
    lp_val_t x = lp_int(v);
    size_t n;
    lp_val_bytes(&x, buf, &n);
    return n;
}

void set_to_table(set_t *s)
{
    if (set_enc(s) == SET_TABLE) return;
    uint8_t *is = set_is(s);
    size_t n = is_len(is);
    sdict_t *d = sd_new(n);
    for (size_t i = 0; i < n; i++) {
        uint8_t buf[21];
        size_t l = ll_text(is_get(is, i), buf);
        sd_add(d, buf, l, NULL);
    }
    free(is);
    set_put_sd(s, d);
}

bool set_add(set_t *s, const uint8_t *m, size_t len)
{
    if (set_enc(s) == SET_INTSET) {
        long long v;
        if (str_to_ll(m, len, &v)) {
            bool added;
            set_put_is(s, is_add(set_is(s), v, &added));
            if (added && (long long)is_len(set_is(s)) > types_limit(TL_SET_MAX_INTSET_ENTRIES)) set_to_table(s);
            return added;
        }
        set_to_table(s);
    }
    bool added;
    sd_add(set_sd(s), m, len, &added);
    return added;
}

bool set_rem(set_t *s, const uint8_t *m, size_t len)
{
    if (set_enc(s) == SET_TABLE) return sd_delete(set_sd(s), m, len, NULL);
    long long v;
    bool removed = false;
    if (str_to_ll(m, len, &v)) set_put_is(s, is_remove(set_is(s), v, &removed));
    return removed;
}

const uint8_t *set_random(const set_t *s, uint8_t buf[21], size_t *len)
{
    if (set_enc(s) == SET_INTSET) {
        *len = ll_text(is_get(set_is(s), sd_rand() % is_len(set_is(s))), buf);
        return buf;
    }
    sd_entry_t *e = sd_random(set_sd(s));
    *len = e->klen;
    return e->key;
}

void set_iter_init(set_iter_t *it, const set_t *s)
{
    memset(it, 0, sizeof *it);
    it->s = s;
}

bool set_iter_next(set_iter_t *it, const uint8_t **m, size_t *len)
{
    const set_t *s = it->s;
    if (set_enc(s) == SET_INTSET) {
        if (it->i >= is_len(set_is(s))) return false;
        *len = ll_text(is_get(set_is(s), it->i++), it->buf);
        *m = it->buf;
        return true;
    }
    sd_entry_t *e = sd_next(set_sd(s), &it->it);
    if (!e) return false;
    *m = e->key;
    *len = e->klen;
    return true;
}

/* ---- RDB ---- */

static int load_plain(const uint8_t *val, size_t len, set_t *s)
{
    size_t pos = 0;
    uint64_t n;
    if (rdb_read_length(val, len, &pos, &n, NULL)) return TYPES_LOAD_CORRUPT;
    if ((long long)n > types_limit(TL_SET_MAX_INTSET_ENTRIES)) set_to_table(s);
    rdb_strbuf_t sb = {0};
    int rc = TYPES_LOAD_OK;
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *m;
        size_t ml;
        if (rdb_read_string(val, len, &pos, 0 - 1ull, &sb, &m, &ml, NULL) || !set_add(s, m, ml)) {
            rc = TYPES_LOAD_CORRUPT;          /* bad bytes or a duplicate member */
            break;
        }
    }
    rdb_strbuf_free(&sb);
    if (rc == TYPES_LOAD_OK && pos != len) rc = TYPES_LOAD_CORRUPT;
    return rc;
}

int set_rdb_load(unsigned t, const uint8_t *val, size_t len, set_t **out)
{
    set_t *s = set_new(NULL, 0);
    int rc = TYPES_LOAD_OK;
    if (t == RDB_TYPE_SET) {
        rc = load_plain(val, len, s);
    } else {
        size_t pos = 0, bl;
        const uint8_t *blob;
        rdb_strbuf_t sb = {0};
        if (rdb_read_string(val, len, &pos, 0 - 1ull, &sb, &blob, &bl, NULL) || pos != len || !is_validate(blob, bl)) {
            rc = TYPES_LOAD_CORRUPT;
        } else {
            free(set_is(s));
            set_put_is(s, is_dup(blob, bl));
            if ((long long)is_len(set_is(s)) > types_limit(TL_SET_MAX_INTSET_ENTRIES)) set_to_table(s);
        }
        rdb_strbuf_free(&sb);
    }
    if (rc == TYPES_LOAD_OK && set_len(s) == 0) rc = TYPES_LOAD_EMPTY;
    if (rc != TYPES_LOAD_OK) { set_destroy(s); return rc; }
    *out = s;
    return TYPES_LOAD_OK;
}

/* watch.c - WATCHed keys and EXEC's check of them (watch.h).
 *
 * Versions and expired_gone_ms of a worker are written only by its own
 * thread (or by a worker holding it parked or borrowed); other threads read
 * them relaxed: WATCH and CLIENT LIST, whose answers need no more than what
 * the asking client has seen, and EXEC, which runs on the keys' thread.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "actors/worker/keyspace.h"
#include "actors/worker/watch.h"
#include "actors/worker/wdb.h"
#include "actors/worker/worker_internal.h"
#include "proto/slot.h"
#include "runtime/xmalloc.h"

_Atomic long g_watch_holders;

void watch_hold(bool on)
{
    /* seq_cst: the add is ordered before the reader's loads of versions */
    atomic_fetch_add_explicit(&g_watch_holders, on ? 1 : -1, memory_order_seq_cst);
}

static uint64_t load_relaxed(const uint64_t *p)
{
    return atomic_load_explicit((_Atomic uint64_t *)p, memory_order_relaxed);
}

static long long load_ms_relaxed(const long long *p)
{
    return atomic_load_explicit((_Atomic long long *)p, memory_order_relaxed);
}

void watch_list_add(watch_list_t *l, int db, const uint8_t *key, size_t len, long long now_ms)
{
    if (l->n == 0) watch_hold(true);   /* before any version is read */
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->keys = xrealloc(l->keys, sizeof *l->keys * (size_t)l->cap);
    }
    worker_t *kw = g_workers[worker_of_slot(slot_of_key(key, len))];
    watch_key_t *k = &l->keys[l->n++];
    k->key = xmalloc(len ? len : 1);
    memcpy(k->key, key, len);
    k->len = len;
    k->db = db;
    k->worker = (uint8_t)kw->index;
    k->bucket = wdb_watch_bucket(db, key, len);
    /* relaxed: the owner bumps with plain relaxed stores; EXEC re-reads on its thread */
    k->epoch = load_relaxed(&kw->flush_epoch);
    k->version = load_relaxed(&kw->key_versions[k->bucket]);
    k->watched_ms = now_ms;
}

void watch_list_clear(watch_list_t *l)
{
    if (l->n > 0) watch_hold(false);
    for (int i = 0; i < l->n; i++) free(l->keys[i].key);
    free(l->keys);
    l->keys = NULL;
    l->n = l->cap = 0;
}

void watch_list_copy(watch_list_t *dst, const watch_list_t *src)
{
    dst->n = dst->cap = src->n;
    if (src->n > 0) watch_hold(true);
    dst->keys = src->n ? xmalloc(sizeof *dst->keys * (size_t)src->n) : NULL;
    for (int i = 0; i < src->n; i++) {
        dst->keys[i] = src->keys[i];
        dst->keys[i].key = xmalloc(src->keys[i].len ? src->keys[i].len : 1);
        memcpy(dst->keys[i].key, src->keys[i].key, src->keys[i].len);
    }
}

/* A write, or the deletion of a key that was alive when watched. */
static bool touched(const worker_t *kw, const watch_key_t *k)
{
    return load_relaxed(&kw->flush_epoch) != k->epoch || load_relaxed(&kw->key_versions[k->bucket]) != k->version ||
           load_ms_relaxed(&kw->expired_gone_ms[k->bucket]) >= k->watched_ms;
}

bool watch_list_touched(const watch_list_t *l)
{
    for (int i = 0; i < l->n; i++)
        if (touched(g_workers[l->keys[i].worker], &l->keys[i])) return true;
    return false;
}

bool watch_list_ok(const watch_list_t *l, long long now_ms, uint64_t readable)
{
    for (int i = 0; i < l->n; i++) {
        const watch_key_t *k = &l->keys[i];
        worker_t *kw = g_workers[k->worker];
        if (touched(kw, k)) return false;
        if (!(readable & (1ULL << k->worker))) continue;   /* its keyspace is its owner's now */
        /* Unchanged since the WATCH, but alive then and past its TTL now
         * (expired keys are kept until something deletes them): 7.0.15 fails
         * the EXEC, as if its expiry had deleted it. Expired means now > TTL. */
        struct keyspace *ks = wdb_peek(kw, k->db);
        ks_entry_t *e = ks ? ks_peek(ks, k->key, k->len) : NULL;
        long long when = e ? ks_entry_expire(ks, e) : KS_NO_EXPIRE;
        if (when != KS_NO_EXPIRE && now_ms > when && !(k->watched_ms > when)) return false;
    }
    return true;
}

void watch_note_expired_gone(worker_t *w, int db, const uint8_t *key, size_t len, long long expire_ms)
{
    if (!watch_anyone()) return;
    long long *gone = &w->expired_gone_ms[wdb_watch_bucket(db, key, len)];
    /* relaxed: only this thread writes it; a WATCH made later reads a TTL
     * already past, which fails nothing */
    if (expire_ms > load_ms_relaxed(gone))
        atomic_store_explicit((_Atomic long long *)gone, expire_ms, memory_order_relaxed);
}

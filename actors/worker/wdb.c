/* wdb.c - a worker's numbered databases (see wdb.h).
 *
 * Must never: hand out a keyspace of a database past wdb_count(), or run on
 * a thread that does not own the worker (or hold its token).
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/repl/repl.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/notify.h"
#include "actors/worker/tracking.h"
#include "actors/worker/wdb.h"
#include "proto/strnum.h"
#include "actors/worker/worker_internal.h"

/* The database of the command running on this thread (notifications read
 * it); 0 on threads that run no command. */
static __thread int here_db;

int wdb_count(void)
{
    static _Atomic int n;
    /* relaxed: the same value whoever computes it first (the directive is
     * immutable once loaded) */
    int v = atomic_load_explicit(&n, memory_order_relaxed);
    if (v > 0) return v;
    long long dbs = config_cluster_enabled() ? 1 : config_get_num(CONFIG_DATABASES);
    v = dbs < 1 ? 1 : dbs > WDB_MAX ? WDB_MAX : (int)dbs;
    atomic_store_explicit(&n, v, memory_order_relaxed);
    return v;
}

struct keyspace *wdb_peek(worker_t *w, int db) { return db < w->db_top ? w->db[db].ks : NULL; }

int wdb_top(const worker_t *w) { return w->db_top; }

int wdb_current(const worker_t *w) { return w->cur_db; }

int wdb_current_here(void) { return here_db; }

/* Called when a keyspace expires a key (worker.c sets this hook on each). */
void worker_keyspace_hook(worker_t *w, struct keyspace *ks);

struct keyspace *wdb_get(worker_t *w, int db)
{
    wdb_slot_t *s = &w->db[db];
    if (!s->ks) {
        s->ks = ks_create();
        /* the same expiry rules as database 0 (a replica keeps expired keys) */
        ks_set_replica_mode(s->ks, ks_replica_mode(w->db[0].ks));
        ks_set_pause_only(s->ks, ks_pause_only(w->db[0].ks));
        worker_keyspace_hook(w, s->ks);
        if (db >= w->db_top) w->db_top = db + 1;
    }
    return s->ks;
}

int wdb_use(worker_t *w, int db)
{
    int prev = w->cur_db;
    if (db == prev) return prev;
    struct keyspace *from = w->ks, *to = wdb_get(w, db);
    /* a pause or a replica role set on the current one holds for all */
    if (ks_replica_mode(to) != ks_replica_mode(from)) ks_set_replica_mode(to, ks_replica_mode(from));
    ks_set_pause_only(to, ks_pause_only(from));
    w->ks = to;
    w->cur_db = db;
    here_db = db;
    repl_wbuf_set_db(w->repl, db);
    return prev;
}

/* relaxed stores and loads below: statistics with one writer (the owner) */
static void store(_Atomic long long *a, long long v) { atomic_store_explicit(a, v, memory_order_relaxed); }
static long long load(_Atomic long long *a) { return atomic_load_explicit(a, memory_order_relaxed); }

static void totals(worker_t *w)
{
    long long keys = 0, expires = 0;
    for (int d = 0; d < w->db_top; d++) {
        keys += load(&w->db[d].keys);
        expires += load(&w->db[d].expires);
    }
    store(&w->stats.keys, keys);
    store(&w->stats.expires, expires);
}

void wdb_publish_current(worker_t *w)
{
    wdb_slot_t *s = &w->db[w->cur_db];
    long long keys = (long long)ks_size(w->ks), expires = (long long)ks_expires_count(w->ks);
    store(&s->keys, keys);
    store(&s->expires, expires);
    if (w->db_top == 1) {         /* database 0 alone: the totals are its counts */
        store(&w->stats.keys, keys);
        store(&w->stats.expires, expires);
        return;
    }
    totals(w);
}

int wdb_publish_expiring(worker_t *w, struct keyspace *ks)
{
    int d = w->ks == ks ? w->cur_db : -1;
    for (int i = 0; d < 0 && i < w->db_top; i++)
        if (w->db[i].ks == ks) d = i;
    if (d < 0) return -1;         /* not one of ours (a staged keyspace): published when adopted */
    wdb_slot_t *s = &w->db[d];
    /* the key still counts in both (it has a TTL): it goes right after */
    long long keys = (long long)ks_size(ks) - 1, expires = (long long)ks_expires_count(ks) - 1;
    store(&s->keys, keys);
    store(&s->expires, expires);
    if (w->db_top == 1) {
        store(&w->stats.keys, keys);
        store(&w->stats.expires, expires);
        return d;
    }
    totals(w);
    return d;
}

void wdb_publish_all(worker_t *w, long long now_ms)
{
    long long used = 0;
    for (int d = 0; d < w->db_top; d++) {
        wdb_slot_t *s = &w->db[d];
        if (!s->ks) continue;
        store(&s->keys, (long long)ks_size(s->ks));
        store(&s->expires, (long long)ks_expires_count(s->ks));
        if (now_ms >= 0) store(&s->avg_ttl, ks_avg_ttl(s->ks, now_ms));
        store(&s->used_bytes, (long long)ks_used_bytes(s->ks));
        used += load(&s->used_bytes);
    }
    totals(w);
    if (now_ms >= 0) store(&w->stats.avg_ttl, load(&w->db[0].avg_ttl));
    store(&w->stats.used_bytes, used);
}

void wdb_info(int db, long long *keys, long long *expires, long long *avg_ttl)
{
    long long k = 0, e = 0, ttl_sum = 0, ttl_n = 0;
    for (int i = 0; i < workers_count(); i++) {
        worker_t *w = worker_at(i);
        if (!w || !w->db) continue;
        wdb_slot_t *s = &w->db[db];
        long long we = load(&s->expires);
        k += load(&s->keys);
        e += we;
        if (we > 0) {
            ttl_sum += load(&s->avg_ttl) * we;
            ttl_n += we;
        }
    }
    *keys = k;
    *expires = e;
    *avg_ttl = ttl_n ? ttl_sum / ttl_n : 0;
}

void wdb_flush_all(worker_t *w, bool count_change)
{
    int prev = w->cur_db;
    for (int d = w->db_top - 1; d >= 0; d--) {
        if (!w->db[d].ks || (d != prev && ks_size(w->db[d].ks) == 0)) continue;
        wdb_use(w, d);
        worker_flush_keyspace(w, count_change && d == 0);
    }
    wdb_use(w, prev);
    wdb_publish_all(w, -1);
}

void wdb_foreach(worker_t *w, void (*fn)(worker_t *w, struct keyspace *ks, void *arg), void *arg)
{
    int prev = w->cur_db;
    for (int d = 0; d < w->db_top; d++) {
        if (!w->db[d].ks) continue;
        wdb_use(w, d);
        fn(w, w->ks, arg);
    }
    wdb_use(w, prev);
}

uint32_t wdb_watch_bucket(int db, const uint8_t *key, size_t len)
{
    /* another database moves the key to another bucket (a collision only
     * fails an EXEC spuriously, as any other) */
    uint32_t b = dispatch_watch_bucket(key, len);
    return db ? (b ^ ((uint32_t)db * 0x9e37u)) & 0xffff : b;
}

struct keyspace **g_wdb_preload[MAX_WORKERS];

void wdb_preload_take(worker_t *w)
{
    struct keyspace **pre = g_wdb_preload[w->index];
    if (!pre) return;
    for (int d = 1; d < wdb_count(); d++) {
        if (!pre[d]) continue;
        w->db[d].ks = pre[d];
        w->db_top = d + 1;
    }
    free(pre);
    g_wdb_preload[w->index] = NULL;
}

void wdb_key_arrived(worker_t *w, int db, const uint8_t *key, size_t len, const char *src_event, const char *event)
{
    int prev = wdb_use(w, db);
    worker_touch_key(w, key, len);
    notify_new(key, len);
    if (src_event) {              /* MOVE: "move_from" in the source comes between */
        wdb_use(w, prev);
        notify_generic(src_event, key, len);
        wdb_use(w, db);
    }
    notify_generic(event, key, len);
    wdb_publish_current(w);
    wdb_use(w, prev);
}

int wdb_cmd_other_db(const queued_cmd_t *q)
{
    if (q->cmd->handler != cmd_copy) return -1;
    for (int i = 3; i + 1 < q->argc; i++) {
        long long db;
        if (arg_is(q->argv[i], q->argvlen[i], "db") && str_to_ll(q->argv[i + 1], q->argvlen[i + 1], &db) &&
            db >= 0 && db < wdb_count())
            return (int)db;
    }
    return -1;
}

bool wdb_apply_select(worker_t *w, const queued_cmd_t *q)
{
    if (q->cmd->handler != cmd_select) return false;
    long long db;
    if (q->argc == 2 && str_to_ll(q->argv[1], q->argvlen[1], &db) && db >= 0 && db < wdb_count())
        w->apply_db = (int)db;
    return true;
}

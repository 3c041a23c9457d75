/* rdb_load.c - loading dump.rdb at startup, and the loading figures (see
 * rdb_load.h).
 */
#include "actors/commands/function.h"
#include "actors/persist/rdb_load.h"

#include <errno.h>
#include <stdarg.h>
#include <time.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/config/config.h"
#include "actors/persist/rdb_save.h"
#include "actors/state/state.h"
#include "actors/types/types.h"
#include "actors/worker/client.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/worker.h"
#include "actors/worker/wdb.h"
#include "proto/rdb.h"
#include "proto/slot.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

/* Relaxed atomics: status figures for INFO, ordering nothing. */
static _Atomic int loading, loading_async;
/* Clients get -LOADING while this is set (rdb_load_refusing). A command
 * that slips past the moment it changes is one the load's own ordering
 * already covers (see rdb_load_live). Release/acquire: the INFO figures
 * above are set before it rises and cleared before it drops, so a client
 * answered -LOADING then reads loading:1, and one served reads loading:0. */
static _Atomic int refusing;
/* Set while an AOF loads: its RDB base's end leaves the refusal up, since the
 * incr files' commands are still to come (rdb_load_hold_refusal). */
static _Atomic bool hold_refusal;
static _Atomic long long loading_start, loading_total, loading_done, loading_used_mem;
static _Atomic long long last_loaded, last_expired;

void rdb_loading_begin(long long total_bytes)
{
    atomic_store_explicit(&loading_start, rt_now_ms() / 1000, memory_order_relaxed);
    atomic_store_explicit(&loading_total, total_bytes, memory_order_relaxed);
    atomic_store_explicit(&loading_done, 0, memory_order_relaxed);
    atomic_store_explicit(&loading_used_mem, 0, memory_order_relaxed);
    atomic_store_explicit(&loading, 1, memory_order_relaxed);
}

void rdb_loading_progress(long long loaded_bytes)
{
    atomic_store_explicit(&loading_done, loaded_bytes, memory_order_relaxed);
}

void rdb_loading_end(void)
{
    atomic_store_explicit(&loading, 0, memory_order_relaxed);
    atomic_store_explicit(&loading_async, 0, memory_order_relaxed);
}

void rdb_loading_begin_sync(long long total_bytes, bool async, bool refuse)
{
    rdb_loading_begin(total_bytes);
    atomic_store_explicit(&loading_async, async ? 1 : 0, memory_order_relaxed);
    atomic_store_explicit(&refusing, refuse ? 1 : 0, memory_order_release);
}

void rdb_loading_end_sync(void)
{
    atomic_store_explicit(&refusing, 0, memory_order_release);
    rdb_loading_end();
}

bool rdb_loading_async(void) { return atomic_load_explicit(&loading_async, memory_order_relaxed) != 0; }

void rdb_loading_set(bool on)
{
    if (on) rdb_loading_begin(0);
    else rdb_loading_end();
}

void rdb_loading_get(rdb_loading_info_t *out)
{
    out->loading = atomic_load_explicit(&loading, memory_order_relaxed);
    out->async = atomic_load_explicit(&loading_async, memory_order_relaxed);
    out->start_time = atomic_load_explicit(&loading_start, memory_order_relaxed);
    out->total_bytes = atomic_load_explicit(&loading_total, memory_order_relaxed);
    out->loaded_bytes = atomic_load_explicit(&loading_done, memory_order_relaxed);
    out->rdb_used_mem = atomic_load_explicit(&loading_used_mem, memory_order_relaxed);
}

void rdb_last_load_keys(long long *loaded, long long *expired)
{
    *loaded = atomic_load_explicit(&last_loaded, memory_order_relaxed);
    *expired = atomic_load_explicit(&last_expired, memory_order_relaxed);
}

void rdb_last_load_keys_set(long long loaded, long long expired)
{
    atomic_store_explicit(&last_loaded, loaded, memory_order_relaxed);
    atomic_store_explicit(&last_expired, expired, memory_order_relaxed);
}

/* A load's destination. Staged (an AOF base, before the workers exist):
 * keyspaces owned by the loading thread until the workers start with them.
 * Live (dump.rdb at start, DEBUG RELOAD): the running workers build their
 * own keyspaces from batches of records the loading thread sends them,
 * while clients get -LOADING; the loading thread only parses. */
static struct {
    int n;
    bool live;
    struct keyspace *staged[MAX_WORKERS];
    struct load_batch *batch[MAX_WORKERS];   /* live: the batch being filled per worker */
    int live_db[MAX_WORKERS];                /* live: the database worker i's records go to (its own) */
} g_load;

/* Staged: worker wi's keyspace of database db (wdb.h), made on first use. */
static struct keyspace *staged_ks(int wi, int db)
{
    if (db == 0) return g_load.staged[wi];
    if (!g_wdb_preload[wi]) g_wdb_preload[wi] = xcalloc((size_t)wdb_count(), sizeof *g_wdb_preload[wi]);
    if (!g_wdb_preload[wi][db]) g_wdb_preload[wi][db] = ks_create();
    return g_wdb_preload[wi][db];
}

/* Live mode's shared figures, written by the workers. Relaxed, except
 * `inflight`: a worker's decrement releases its keyspace writes and its
 * counts, the loader's load acquires them when it waits for zero. */
static _Atomic int inflight[MAX_WORKERS], inflight_total;
static _Atomic long long live_loaded;
static pthread_mutex_t live_err_mu = PTHREAD_MUTEX_INITIALIZER;
static char live_err[300];


bool rdb_load_refusing(void) { return atomic_load_explicit(&refusing, memory_order_acquire) != 0; }

void rdb_load_hold_refusal(bool hold) { atomic_store_explicit(&hold_refusal, hold, memory_order_relaxed); }

/* One record of a live batch: its head, then the key and value bytes. */
typedef struct rec_head {
    uint8_t kind;             /* REC_KEY, REC_EXPAND */
    uint8_t type;             /* RDB value type */
    uint16_t slot;            /* REC_KEY: the key's slot, which the loader computed to route it */
    int32_t freq;
    int64_t expire_ms, idle_s;
    uint32_t klen, vlen;
} rec_head_t;
enum { REC_KEY = 1, REC_EXPAND, REC_FLUSH, REC_SELECT };
/* MAX_INFLIGHT bounds the batches sent and not yet built, over all the
 * workers together: the parse runs that far ahead of the slowest worker
 * and no further, so the parsed file never piles up in memory. One bound
 * for all rather than one per worker, because a file written by shoal
 * holds each worker's keys together (rdb_save.c: one part per worker):
 * with a bound per worker the parse waited for the first worker to build
 * its whole part before the second one got any (the 1,000,000-key AOF
 * base of aof_bench: one worker busy at a time). 32 MB of batches let the
 * parse reach the second part while the first worker is still building. */
enum { BATCH_BYTES = 256 * 1024, MAX_INFLIGHT = 128 };

typedef struct load_batch {
    union {
        rt_msg_t hdr;
        worker_run_t run;
    };
    int worker;
    long long now_ms;
    size_t len, cap;
    uint8_t *buf;
} load_batch_t;

static void live_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void live_error(const char *fmt, ...)
{
    pthread_mutex_lock(&live_err_mu);
    if (!live_err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(live_err, sizeof live_err, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&live_err_mu);
}

/* Built batches come back here for the parse to fill again: a fresh
 * 256 KB buffer for each batch cost the loader and the workers a page
 * fault every 4 KB of it (glibc hands such sizes back to the system). */
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static load_batch_t *pool[MAX_INFLIGHT + MAX_WORKERS];
static int pool_n;

/* A batch with BATCH_BYTES of room from the pool, or a new one (the
 * caller owns it until batch_send). */
static load_batch_t *batch_get(void)
{
    load_batch_t *b = NULL;
    pthread_mutex_lock(&pool_mu);
    if (pool_n > 0) b = pool[--pool_n];
    pthread_mutex_unlock(&pool_mu);
    if (b) return b;
    b = xmalloc(sizeof *b);
    b->cap = BATCH_BYTES;
    b->buf = xmalloc(b->cap);
    return b;
}

/* Takes b back (any thread); one of an odd size, or beyond what the pool
 * can hold, is freed. */
static void batch_put(load_batch_t *b)
{
    pthread_mutex_lock(&pool_mu);
    bool kept = b->cap == BATCH_BYTES && pool_n < (int)(sizeof pool / sizeof pool[0]);
    if (kept) pool[pool_n++] = b;
    pthread_mutex_unlock(&pool_mu);
    if (kept) return;
    free(b->buf);
    free(b);
}

/* The load is over: the pool's batches go (loader thread, nothing in flight). */
static void pool_release(void)
{
    pthread_mutex_lock(&pool_mu);
    while (pool_n > 0) {
        load_batch_t *b = pool[--pool_n];
        free(b->buf);
        free(b);
    }
    pthread_mutex_unlock(&pool_mu);
}

/* On the worker (WMSG_RUN): builds the batch's keys in its own keyspace. */
static void batch_run(worker_t *w, rt_msg_t *msg)
{
    load_batch_t *b = (load_batch_t *)msg;
    struct keyspace *ks = wdb_get(w, g_load.live_db[worker_index(w)]);
    long long loaded = 0;
    /* Two records streams run ahead of the inserts: the bucket of the key
     * 2*STEP records on is fetched, and the first entry of the chain of the
     * key STEP records on (its bucket fetched STEP records ago), so that
     * the inserts' cache misses overlap. Each key's hash is computed once,
     * when it enters the ring, for both prefetches and its insert. */
    enum { STEP = 8, NRING = 2 * STEP };
    struct { size_t off; ks_keyref_t ref; } ring[NRING];   /* the records ahead, the current one first */
    int nring = 0, head = 0, stale = 0;
    size_t ahead = 0;
#define RING_ENTER()                                                                        \
    do {                                                                                    \
        rec_head_t a;                                                                       \
        memcpy(&a, b->buf + ahead, sizeof a);                                               \
        int k = (head + nring++) % NRING;                                                   \
        ring[k].off = ahead;                                                                \
        if (a.kind == REC_KEY) {                                                            \
            ring[k].ref = ks_keyref(ks, b->buf + ahead + sizeof a, a.klen, a.slot);         \
            ks_prefetch_ref(ks, ring[k].ref);                                               \
        } else {                                                                            \
            ring[k].ref = (ks_keyref_t){ .hash = 0, .slot = -1 };                           \
        }                                                                                   \
        ahead += sizeof a + a.klen + a.vlen;                                                \
    } while (0)
    while (nring < NRING && ahead < b->len) RING_ENTER();
    for (size_t pos = 0; pos < b->len;) {
        rec_head_t h;
        memcpy(&h, b->buf + pos, sizeof h);
        const uint8_t *key = b->buf + pos + sizeof h;
        const uint8_t *val = key + h.klen;
        pos += sizeof h + h.klen + h.vlen;
        ks_keyref_t ref = ring[head].ref;   /* this record is the ring's first */
        head = (head + 1) % NRING;          /* it leaves the ring; one more enters it */
        nring--;
        if (nring >= STEP) {
            int k = (head + STEP - 1) % NRING;
            rec_head_t a;
            memcpy(&a, b->buf + ring[k].off, sizeof a);
            if (a.kind == REC_KEY) ks_prefetch_chain_ref(ks, ring[k].ref);
        }
        if (ahead < b->len) RING_ENTER();
#undef RING_ENTER
        if (h.kind == REC_EXPAND) {
            ks_expand(ks, (size_t)h.expire_ms);
            continue;
        }
        if (h.kind == REC_FLUSH) {   /* DEBUG RELOAD empties the keyspace first */
            wdb_flush_all(w, false);
            continue;
        }
        if (h.kind == REC_SELECT) {  /* SELECTDB: the keys that follow go there (wdb.h) */
            g_load.live_db[worker_index(w)] = (int)h.expire_ms;
            ks = wdb_get(w, (int)h.expire_ms);
            stale = nring;           /* the hashes of those in the ring are the old keyspace's */
            continue;
        }
        if (stale > 0) {
            stale--;
            ref = ks_keyref(ks, key, h.klen, h.slot);
        }
        int rc = types_rdb_store_ref(ks, key, h.klen, &ref, h.type, val, h.vlen,
                                     h.expire_ms >= 0 ? h.expire_ms : KS_NO_EXPIRE, b->now_ms, h.idle_s, h.freq);
        if (rc == TYPES_LOAD_OK) loaded++;
        else if (rc != TYPES_LOAD_EMPTY)   /* Redis skips empty collections */
            live_error("%s value of type %u (%s) for key '%.*s'", rc == TYPES_LOAD_CORRUPT ? "corrupt" : "unsupported",
                       h.type, rdb_type_name(h.type) ? rdb_type_name(h.type) : "?", (int)(h.klen > 64 ? 64 : h.klen),
                       (const char *)key);
    }
    worker_install_loaded_keyspace(w, wdb_get(w, 0));   /* refreshes the key figures INFO shows */
    atomic_fetch_add_explicit(&live_loaded, loaded, memory_order_relaxed);
    int wi = b->worker;
    batch_put(b);
    atomic_fetch_sub_explicit(&inflight_total, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&inflight[wi], 1, memory_order_release);
}

static void pause_briefly(void)
{
    struct timespec ts = { 0, 50 * 1000 };
    nanosleep(&ts, NULL);
}

/* Sends worker wi's batch (if any), first waiting while it has too many
 * unbuilt ones, so that the parsed file never piles up in memory. */
static void batch_send(int wi)
{
    load_batch_t *b = g_load.batch[wi];
    if (!b) return;
    g_load.batch[wi] = NULL;
    while (atomic_load_explicit(&inflight_total, memory_order_relaxed) >= MAX_INFLIGHT) pause_briefly();
    atomic_fetch_add_explicit(&inflight_total, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&inflight[wi], 1, memory_order_relaxed);
    b->run.hdr.type = WMSG_RUN;
    b->run.fn = batch_run;
    worker_post(wi, &b->hdr);
}

static void batch_add(int wi, const rec_head_t *h, const uint8_t *key, const uint8_t *val, long long now_ms)
{
    size_t need = sizeof *h + h->klen + h->vlen;
    load_batch_t *b = g_load.batch[wi];
    if (b && b->len + need > b->cap) {
        batch_send(wi);
        b = NULL;
    }
    if (!b) {
        if (need > BATCH_BYTES) {   /* a record larger than a batch gets one of its own size */
            b = xmalloc(sizeof *b);
            b->cap = need;
            b->buf = xmalloc(b->cap);
        } else {
            b = batch_get();
        }
        memset(&b->run, 0, sizeof b->run);
        b->worker = wi;
        b->now_ms = now_ms;
        b->len = 0;
        g_load.batch[wi] = b;
    }
    memcpy(b->buf + b->len, h, sizeof *h);
    if (h->klen) memcpy(b->buf + b->len + sizeof *h, key, h->klen);   /* REC_EXPAND/FLUSH: none */
    if (h->vlen) memcpy(b->buf + b->len + sizeof *h + h->klen, val, h->vlen);
    b->len += need;
}

/* Every batch sent and built: the workers' keyspaces hold the file. */
static void batches_drain(void)
{
    for (int i = 0; i < g_load.n; i++) batch_send(i);
    for (int i = 0; i < g_load.n; i++)
        while (atomic_load_explicit(&inflight[i], memory_order_acquire) > 0) pause_briefly();
    pool_release();
}

typedef struct load_ctx {
    long long now_ms;
    long long loaded, expired;
    rdb_load_history_t hist;
    bool have_id, have_offset, have_db;
    bool quiet;               /* the first look at the header: no log lines */
    unsigned events;
    bool keep_expired;        /* a replica, or an AOF base: keys past their TTL stay */
    int db;                   /* the last SELECTDB */
    fn_stage_t fns;           /* the file's function libraries, the registry's once it is loaded */
    char err[300];
} load_ctx_t;

/* An aux value as a number (aux integers come decoded as text). */
static long long aux_num(const rdb_event_t *ev)
{
    char num[32];
    size_t n = ev->value_len < sizeof num - 1 ? ev->value_len : sizeof num - 1;
    memcpy(num, ev->value, n);
    num[n] = '\0';
    return strtoll(num, NULL, 10);
}

static bool aux_is(const rdb_event_t *ev, const char *name)
{
    return ev->key_len == strlen(name) && !memcmp(ev->key, name, ev->key_len);
}

/* SELECTDB: the keys that follow go to that database (on every worker). */
static int select_db(load_ctx_t *x, uint64_t db)
{
    if (db >= (uint64_t)wdb_count()) {
        snprintf(x->err, sizeof x->err, "FATAL: Data file was created with a Redis server configured to handle "
                 "more than %d databases", wdb_count());
        return -1;
    }
    x->db = (int)db;
    for (int i = 0; g_load.live && i < g_load.n; i++) {
        rec_head_t h = { .kind = REC_SELECT, .expire_ms = x->db };
        batch_add(i, &h, NULL, NULL, x->now_ms);
    }
    return 0;
}

/* One decoded event; returns -1 with ctx->err set to stop. */
/* DEBUG RELOAD NOFLUSH: the file's libraries join the node's one by one as
 * they are read (FN_APPEND: one whose name is taken fails the load; MERGE,
 * FN_REPLACE: it replaces the node's), as 7.0.15 loads them into its
 * current libraries; -1 (no policy): they are staged and replace the
 * node's once the file is loaded. Set by the reload's thread only. */
static int reload_fn_policy = -1;

static int load_function_into_registry(load_ctx_t *x, const rdb_event_t *ev)
{
    char why[256];
    fn_stage_t one = { 0 };
    if (!fn_stage_add(&one, ev->value, ev->value_len, why, sizeof why) ||
        !fn_reg_add(one.libs, 1, (enum fn_policy)reload_fn_policy, false, why, sizeof why)) {
        fn_stage_free(&one);
        snprintf(x->err, sizeof x->err, "Failed loading library, %s", why);
        return -1;
    }
    free(one.libs);               /* the library is the registry's now */
    return 0;
}

static int load_event(load_ctx_t *x, const rdb_event_t *ev)
{
    switch (ev->type) {
    case RDB_EV_AUX:
        if (x->quiet && !aux_is(ev, "repl-id") && !aux_is(ev, "repl-offset") && !aux_is(ev, "repl-stream-db")) return 0;
        if (aux_is(ev, "redis-ver")) {
            LOG_NOTICE("Loading RDB produced by version %.*s", (int)ev->value_len, (const char *)ev->value);
        } else if (aux_is(ev, "ctime")) {
            long long age = x->now_ms / 1000 - aux_num(ev);
            LOG_NOTICE("RDB age %lld seconds", age < 0 ? 0 : age);
        } else if (aux_is(ev, "used-mem")) {
            long long used = aux_num(ev);
            atomic_store_explicit(&loading_used_mem, used, memory_order_relaxed);
            LOG_NOTICE("RDB memory usage when created %.2f Mb", (double)used / (1024 * 1024));
        } else if (aux_is(ev, "repl-id")) {
            /* 7.0.15 takes the id only when it has the full length */
            if (ev->value_len == REPL_ID_LEN) {
                memcpy(x->hist.replid, ev->value, REPL_ID_LEN);
                x->hist.replid[REPL_ID_LEN] = '\0';
                x->have_id = true;
            }
        } else if (aux_is(ev, "repl-offset")) {
            x->hist.offset = aux_num(ev);
            x->have_offset = true;
        } else if (aux_is(ev, "repl-stream-db")) {
            x->hist.stream_db = (int)aux_num(ev);
            x->have_db = true;
        } else if (ev->key_len > 0 && ev->key[0] == '%') {
            /* information fields, logged as 7.0.15 logs them */
            LOG_NOTICE("RDB '%.*s': %.*s", (int)ev->key_len, (const char *)ev->key, (int)ev->value_len,
                       (const char *)ev->value);
        }
        return 0;
    case RDB_EV_RESIZEDB: {
        /* each worker gets about its share of the keys */
        size_t share = (size_t)(ev->db_size / (uint64_t)g_load.n + 1);
        for (int i = 0; i < g_load.n; i++) {
            if (!g_load.live) {
                ks_expand(staged_ks(i, x->db), share);
                continue;
            }
            rec_head_t h = { .kind = REC_EXPAND, .expire_ms = (int64_t)share };
            batch_add(i, &h, NULL, NULL, x->now_ms);
        }
        return 0;
    }
    case RDB_EV_FUNCTION: {
        char why[256];
        if (reload_fn_policy >= 0) return load_function_into_registry(x, ev);
        if (!fn_stage_add(&x->fns, ev->value, ev->value_len, why, sizeof why)) {
            snprintf(x->err, sizeof x->err, "Failed loading library, %s", why);
            return -1;
        }
        return 0;
    }
    case RDB_EV_SELECTDB:
        return select_db(x, ev->db);
    case RDB_EV_KEY: {
        config_key_load_delay();
        /* Only a master loading a plain RDB drops keys already expired, as
         * 7.0.15's rdbLoad: a replica keeps them for its master's DELs, and
         * an AOF base keeps them because the AOF's commands that follow
         * were logged against that keyspace (they expire afterwards by the
         * normal path). */
        if (!x->keep_expired && ev->expire_ms >= 0 && ev->expire_ms < x->now_ms) {
            x->expired++;
            return 0;
        }
        unsigned slot = slot_of_key(ev->key, ev->key_len), wi = slot % (unsigned)g_load.n;
        if (g_load.live) {
            rec_head_t h = { .kind = REC_KEY, .type = ev->value_type, .slot = (uint16_t)slot, .freq = ev->lfu_freq,
                             .expire_ms = ev->expire_ms, .idle_s = ev->lru_idle,
                             .klen = (uint32_t)ev->key_len, .vlen = (uint32_t)ev->value_len };
            batch_add(wi, &h, ev->key, ev->value, x->now_ms);
            return 0;
        }
        struct keyspace *into = staged_ks(wi, x->db);
        ks_keyref_t ref = ks_keyref(into, ev->key, ev->key_len, (int)slot);
        int rc = types_rdb_store_ref(into, ev->key, ev->key_len, &ref, ev->value_type, ev->value,
                                     ev->value_len, ev->expire_ms >= 0 ? ev->expire_ms : KS_NO_EXPIRE, x->now_ms,
                                     ev->lru_idle, ev->lfu_freq);
        if (rc == TYPES_LOAD_EMPTY) return 0;   /* Redis skips empty collections */
        if (rc != TYPES_LOAD_OK) {
            snprintf(x->err, sizeof x->err, "%s value of type %u (%s) for key '%.*s' at offset %llu",
                     rc == TYPES_LOAD_CORRUPT ? "corrupt" : "unsupported", ev->value_type,
                     rdb_type_name(ev->value_type) ? rdb_type_name(ev->value_type) : "?",
                     (int)(ev->key_len > 64 ? 64 : ev->key_len), (const char *)ev->key,
                     (unsigned long long)ev->offset);
            return -1;
        }
        x->loaded++;
        return 0;
    }
    default:
        return 0;
    }
}

enum { MODE_STAGED = 0, MODE_LIVE, MODE_HEAD };

/* aof_base: the file is an AOF's RDB base (keeps keys past their TTL). */
static int load_file(const char *fname, int nworkers, rdb_load_history_t *hist, int mode, bool aof_base);

/* DEBUG RELOAD: a failed load is answered, not fatal (7.0.15). */
static bool reloading;

static int load_fatal(const char *dir, const char *fname, const char *why)
{
    if (reloading) LOG_WARNING("Error loading the DB (%s/%s): %s.", dir, fname, why);
    else LOG_WARNING("Fatal error loading the DB (%s/%s): %s. Exiting.", dir, fname, why);
    atomic_store_explicit(&refusing, 0, memory_order_release);
    for (int i = 0; i < g_load.n; i++) {
        ks_free(g_load.staged[i]);
        g_load.staged[i] = NULL;
    }
    rdb_loading_end();
    return -1;
}

static void dump_name(char *fname, size_t cap)
{
    if (config_get_by_name("dbfilename", fname, cap) < 0) snprintf(fname, cap, "dump.rdb");
}

int rdb_load_startup(int nworkers, rdb_load_history_t *hist)
{
    char fname[1024];
    dump_name(fname, sizeof fname);
    return load_file(fname, nworkers, hist, MODE_STAGED, false);
}

int rdb_load_live_file(const char *fname)
{
    return load_file(fname, workers_count(), NULL, MODE_LIVE, true);
}

int rdb_load_history(rdb_load_history_t *hist)
{
    char fname[1024];
    dump_name(fname, sizeof fname);
    return load_file(fname, 1, hist, MODE_HEAD, false);
}

int rdb_load_live(void)
{
    char fname[1024];
    dump_name(fname, sizeof fname);
    return load_file(fname, workers_count(), NULL, MODE_LIVE, false);
}

/* Our role in the published snapshot (nodes.conf or replicaof at start). */
static bool node_is_replica(void)
{
    rt_snap_reader_t r;
    if (rt_snap_reader_register(&g_cluster_snapshot, &r) != 0) return false;
    const cluster_snapshot_t *s = rt_snap_read_begin(&r);
    bool replica = s && (s->nodes[s->myself].flags & NODE_SLAVE);
    rt_snap_read_end(&r);
    rt_snap_reader_unregister(&r);
    return replica;
}

static bool (*interrupt_fn)(void);

void rdb_load_set_interrupt(bool (*fn)(void)) { interrupt_fn = fn; }

/* Run once by the start's load, after the last key is in and before the
 * -LOADING flag drops: the log says Ready before any client is answered. */
static void (*ready_fn)(void);
void rdb_load_set_ready(void (*fn)(void)) { ready_fn = fn; }

/* Feeds the file through the decoder; 0, or -1 with x->err set. In
 * MODE_HEAD it stops at the first record that is not an aux field. */
static int decode_file(int fd, long long size, load_ctx_t *x, int mode)
{
    enum { CHUNK = 1 << 20 };
    uint8_t *buf = xmalloc(mode == MODE_HEAD ? 64 * 1024 : CHUNK);
    rdb_decoder_t d;
    rdb_decoder_init(&d, (uint64_t)config_proto_max_bulk_len(), (uint64_t)size);
    bool done = false;
    int failed = 0;
    long long fed = 0;
    while (!done && !failed) {
        ssize_t n = read(fd, buf, mode == MODE_HEAD ? 64 * 1024 : CHUNK);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            snprintf(x->err, sizeof x->err, "%s", strerror(errno));
            failed = 1;
            break;
        }
        if (n == 0) break;
        rdb_decoder_feed(&d, buf, (size_t)n);
        fed += n;
        rdb_event_t ev;
        int st;
        while ((st = rdb_decoder_next(&d, &ev)) == RDB_EVENT) {
            if (mode == MODE_HEAD && ev.type != RDB_EV_AUX) { done = true; break; }
            /* INFO's loading_loaded_bytes: how far the records are taken in */
            if (mode != MODE_HEAD) rdb_loading_progress((long long)ev.offset);
            /* The start's load looks for a shutdown signal now and then, as
             * 7.0.15 handles events while it loads. */
            if (mode == MODE_LIVE && !reloading && interrupt_fn && (++x->events & 1023) == 0) interrupt_fn();
            if (load_event(x, &ev) != 0) { failed = 1; break; }
        }
        if (failed || done) break;
        if (st == RDB_ERROR) {
            snprintf(x->err, sizeof x->err, "%s", rdb_decoder_error(&d));
            failed = 1;
        } else if (st == RDB_DONE) {
            done = true;
            if (mode != MODE_HEAD) rdb_loading_progress(fed);
        }
    }
    if (!done && !failed && rdb_decoder_finish(&d) != RDB_OK) {
        snprintf(x->err, sizeof x->err, "%s", rdb_decoder_error(&d)[0] ? rdb_decoder_error(&d) : "truncated file");
        failed = 1;
    }
    rdb_decoder_free(&d);
    free(buf);
    return failed ? -1 : 0;
}

static int load_file(const char *fname, int nworkers, rdb_load_history_t *hist, int mode, bool aof_base)
{
    if (hist) memset(hist, 0, sizeof *hist);
    if (nworkers < 1) nworkers = 1;
    if (nworkers > MAX_WORKERS) nworkers = MAX_WORKERS;   /* as workers_start clamps */
    char dir[1024];
    config_dir(dir, sizeof dir);
    long long t0 = rt_mono_ms();
    int fd = open(fname, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            if (mode == MODE_LIVE && !reloading) {
                /* gone since the first look: nothing to load */
                if (ready_fn) ready_fn();
                ready_fn = NULL;
                atomic_store_explicit(&refusing, 0, memory_order_release);
            }
            return 0;
        }
        if (mode == MODE_HEAD) return 0;   /* the load proper reports it */
        return load_fatal(dir, fname, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return mode == MODE_HEAD ? 0 : load_fatal(dir, fname, strerror(e));
    }
    load_ctx_t x = { .now_ms = rt_now_ms(), .quiet = mode == MODE_HEAD, .keep_expired = aof_base || node_is_replica() };
    /* The file exists: the load that follows the first look holds clients
     * off from the moment the workers start (rdb_load_history). */
    if (mode == MODE_HEAD) {
        /* INFO says loading:1 from the same moment (the live load restarts
         * the figures when it begins), as 7.0.15 never answers -LOADING
         * with loading:0 beside it. */
        rdb_loading_begin((long long)st.st_size);
        atomic_store_explicit(&refusing, 1, memory_order_release);
    }
    g_load.n = nworkers;
    g_load.live = mode == MODE_LIVE;
    memset(g_load.live_db, 0, sizeof g_load.live_db);
    if (mode == MODE_STAGED)
        for (int i = 0; i < nworkers; i++) g_load.staged[i] = ks_create();
    if (mode == MODE_LIVE) {
        /* From here until the keys are all in, clients get -LOADING (as
         * 7.0.15 answers while it loads), so none sees half the data. */
        atomic_store_explicit(&refusing, 1, memory_order_release);
        atomic_store_explicit(&live_loaded, 0, memory_order_relaxed);
        live_err[0] = '\0';
    }
    if (mode != MODE_HEAD) {
        /* an AOF's base: the AOF's figures (all its files' bytes) run on from aof_replay_begin */
        if (!atomic_load_explicit(&hold_refusal, memory_order_relaxed)) rdb_loading_begin((long long)st.st_size);
        rdb_last_load_keys_set(0, 0);
    }
    int rc = decode_file(fd, (long long)st.st_size, &x, mode);
    close(fd);
    if (mode == MODE_LIVE) {
        batches_drain();   /* even after an error: no batch may outlive the load */
        x.loaded = atomic_load_explicit(&live_loaded, memory_order_relaxed);
        if (rc == 0 && live_err[0]) {
            snprintf(x.err, sizeof x.err, "%s", live_err);
            rc = -1;
        }
    }
    if (mode == MODE_HEAD || rc != 0 || reload_fn_policy >= 0) fn_stage_free(&x.fns);
    else fn_stage_commit(&x.fns);   /* the file's libraries replace the node's, as 7.0.15 loads them */
    if (mode == MODE_HEAD) {
        if (rc == 0 && hist && x.have_id && x.have_offset && x.have_db && x.hist.offset != -1 &&
            x.hist.stream_db != -1) {
            *hist = x.hist;
            hist->valid = true;
        }
        return 0;
    }
    if (rc != 0) return load_fatal(dir, fname, x.err);
    rdb_last_load_keys_set(x.loaded, x.expired);
    if (hist && x.have_id && x.have_offset && x.have_db && x.hist.offset != -1 && x.hist.stream_db != -1) {
        *hist = x.hist;
        hist->valid = true;
    }
    LOG_NOTICE("Done loading RDB, keys loaded: %lld, keys expired: %lld.", x.loaded, x.expired);
    LOG_NOTICE("DB loaded from disk: %.3f seconds", (double)(rt_mono_ms() - t0) / 1000.0);
    if (mode == MODE_STAGED) {
        /* The workers start with these keyspaces, before they accept anyone:
         * no client can see the node half loaded. */
        for (int i = 0; i < nworkers; i++) {
            g_worker_preload[i] = g_load.staged[i];
            g_load.staged[i] = NULL;
        }
    }
    bool hold = atomic_load_explicit(&hold_refusal, memory_order_relaxed);   /* until aof_replay_end */
    if (!hold) rdb_loading_end();
    if (mode == MODE_LIVE && !reloading && ready_fn) {
        ready_fn();
        ready_fn = NULL;
    }
    if (!hold) atomic_store_explicit(&refusing, 0, memory_order_release);
    return 0;
}

/* ---------------- DEBUG RELOAD ---------------- */

void rdb_load_empty_all(void)
{
    g_load.n = workers_count();
    for (int i = 0; i < g_load.n; i++) {
        rec_head_t h = { .kind = REC_FLUSH };
        batch_add(i, &h, NULL, NULL, rt_now_ms());
    }
    batches_drain();
}

void rdb_load_set_reloading(bool on) { reloading = on; }

typedef struct reload_job {
    remote_cmd_t *rc;
    bool save, flush, merge;
} reload_job_t;

static void *reload_thread(void *arg)
{
    reload_job_t *j = arg;
    /* Clients get -LOADING from the start (INFO: loading:1), where
     * redis-server answers nobody until it is done: a write let through
     * between the save and the flush would be lost. */
    rdb_loading_begin(0);
    atomic_store_explicit(&refusing, 1, memory_order_release);
    if (j->save && rdb_save_sync() != 0) {
        atomic_store_explicit(&refusing, 0, memory_order_release);
        rdb_loading_end();
        resp_add_error(&j->rc->reply, "ERR");
    } else {
        if (j->flush) {           /* the keys and the functions, as 7.0.15's emptyData */
            rdb_load_empty_all();
            fn_reg_flush();
        }
        reloading = true;
        reload_fn_policy = j->flush ? -1 : j->merge ? FN_REPLACE : FN_APPEND;
        int rc = rdb_load_live();
        reload_fn_policy = -1;
        reloading = false;
        if (rc != 0) {
            resp_add_error(&j->rc->reply, "ERR Error trying to load the RDB dump");
        } else {
            LOG_WARNING("DB reloaded by DEBUG RELOAD");
            resp_add_simple(&j->rc->reply, "OK");
        }
    }
    worker_reply_async(j->rc);
    free(j);
    return NULL;
}

void rdb_debug_reload(remote_cmd_t *rc, bool save, bool flush, bool merge)
{
    reload_job_t *j = xcalloc(1, sizeof *j);
    j->rc = rc;
    j->save = save;
    j->flush = flush;
    j->merge = merge;
    if (rt_spawn_detached(reload_thread, j) != 0) {
        resp_add_error(&rc->reply, "ERR could not start the reload");
        worker_reply_async(rc);
        free(j);
    }
}

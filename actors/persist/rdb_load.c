/* rdb_load.c - loading dump.rdb at startup, and the loading figures (see
 * rdb_load.h).
 */
#include "actors/persist/rdb_load.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/config/config.h"
#include "actors/persist/rdb_save.h"
#include "actors/types/types.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/worker.h"
#include "proto/rdb.h"
#include "proto/slot.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

/* Relaxed atomics: status figures for INFO, ordering nothing. */
static _Atomic int loading;
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

void rdb_loading_end(void) { atomic_store_explicit(&loading, 0, memory_order_relaxed); }

void rdb_loading_set(bool on)
{
    if (on) rdb_loading_begin(0);
    else rdb_loading_end();
}

void rdb_loading_get(rdb_loading_info_t *out)
{
    out->loading = atomic_load_explicit(&loading, memory_order_relaxed);
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

/* Startup load: staged keyspaces, owned by main until the workers start with them. */
static struct {
    int n;
    struct keyspace *staged[MAX_WORKERS];
} g_load;

typedef struct load_ctx {
    long long now_ms;
    long long loaded, expired;
    rdb_load_history_t hist;
    bool have_id, have_offset, have_db;
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

/* One decoded event; returns -1 with ctx->err set to stop. */
static int load_event(load_ctx_t *x, const rdb_event_t *ev)
{
    switch (ev->type) {
    case RDB_EV_AUX:
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
    case RDB_EV_SELECTDB:
        if (ev->db != 0) {
            snprintf(x->err, sizeof x->err, "the file has keys in database %llu; shoal holds database 0 only",
                     (unsigned long long)ev->db);
            return -1;
        }
        return 0;
    case RDB_EV_KEY: {
        config_key_load_delay();
        if (ev->expire_ms >= 0 && ev->expire_ms < x->now_ms) {
            x->expired++;
            return 0;
        }
        int wi = (int)(slot_of_key(ev->key, ev->key_len) % (unsigned)g_load.n);
        int rc = types_rdb_store(g_load.staged[wi], ev->key, ev->key_len, ev->value_type, ev->value, ev->value_len,
                                 ev->expire_ms >= 0 ? ev->expire_ms : KS_NO_EXPIRE, x->now_ms, ev->lru_idle,
                                 ev->lfu_freq);
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

static int load_file(const char *fname, int nworkers, rdb_load_history_t *hist);

static int load_fatal(const char *dir, const char *fname, const char *why)
{
    LOG_WARNING("Fatal error loading the DB (%s/%s): %s. Exiting.", dir, fname, why);
    for (int i = 0; i < g_load.n; i++) {
        ks_free(g_load.staged[i]);
        g_load.staged[i] = NULL;
    }
    rdb_loading_end();
    return -1;
}

int rdb_load_startup(int nworkers, rdb_load_history_t *hist)
{
    char fname[1024];
    if (config_get_by_name("dbfilename", fname, sizeof fname) < 0) snprintf(fname, sizeof fname, "dump.rdb");
    return load_file(fname, nworkers, hist);
}

int rdb_load_startup_file(const char *fname, int nworkers)
{
    return load_file(fname, nworkers, NULL);
}

static int load_file(const char *fname, int nworkers, rdb_load_history_t *hist)
{
    if (hist) memset(hist, 0, sizeof *hist);
    if (nworkers < 1) nworkers = 1;
    if (nworkers > MAX_WORKERS) nworkers = MAX_WORKERS;   /* as workers_start clamps */
    char dir[1024];
    config_dir(dir, sizeof dir);
    long long t0 = rt_mono_ms();
    int fd = open(fname, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        return load_fatal(dir, fname, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return load_fatal(dir, fname, strerror(e));
    }
    g_load.n = nworkers;
    for (int i = 0; i < nworkers; i++) g_load.staged[i] = ks_create();
    rdb_loading_begin((long long)st.st_size);
    rdb_last_load_keys_set(0, 0);

    enum { CHUNK = 1 << 20 };
    uint8_t *buf = xmalloc(CHUNK);
    rdb_decoder_t d;
    rdb_decoder_init(&d, (uint64_t)config_proto_max_bulk_len(), (uint64_t)st.st_size);
    load_ctx_t x = { .now_ms = rt_now_ms() };
    bool done = false;
    int failed = 0;
    long long fed = 0;
    while (!done && !failed) {
        ssize_t n = read(fd, buf, CHUNK);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            snprintf(x.err, sizeof x.err, "%s", strerror(errno));
            failed = 1;
            break;
        }
        if (n == 0) break;
        rdb_decoder_feed(&d, buf, (size_t)n);
        fed += n;
        rdb_loading_progress(fed);
        rdb_event_t ev;
        int s;
        while ((s = rdb_decoder_next(&d, &ev)) == RDB_EVENT) {
            if (load_event(&x, &ev) != 0) { failed = 1; break; }
        }
        if (failed) break;
        if (s == RDB_ERROR) {
            snprintf(x.err, sizeof x.err, "%s", rdb_decoder_error(&d));
            failed = 1;
        } else if (s == RDB_DONE) {
            done = true;
        }
    }
    if (!done && !failed && rdb_decoder_finish(&d) != RDB_OK) {
        snprintf(x.err, sizeof x.err, "%s", rdb_decoder_error(&d)[0] ? rdb_decoder_error(&d) : "truncated file");
        failed = 1;
    }
    rdb_decoder_free(&d);
    free(buf);
    close(fd);
    if (failed) return load_fatal(dir, fname, x.err);
    rdb_last_load_keys_set(x.loaded, x.expired);
    if (hist && x.have_id && x.have_offset && x.have_db && x.hist.offset != -1 && x.hist.stream_db != -1) {
        *hist = x.hist;
        hist->valid = true;
    }
    LOG_NOTICE("Done loading RDB, keys loaded: %lld, keys expired: %lld.", x.loaded, x.expired);
    LOG_NOTICE("DB loaded from disk: %.3f seconds", (double)(rt_mono_ms() - t0) / 1000.0);
    /* The workers start with these keyspaces, before they accept anyone:
     * no client can see the node half loaded. */
    for (int i = 0; i < nworkers; i++) {
        g_worker_preload[i] = g_load.staged[i];
        g_load.staged[i] = NULL;
    }
    rdb_loading_end();
    return 0;
}

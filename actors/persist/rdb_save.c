/* rdb_save.c - SAVE, BGSAVE, the INFO persistence figures, and loading
 * dump.rdb at startup (see rdb_save.h for the flow).
 *
 * Why the union of per-worker parts is a consistent dump: every key lives on
 * exactly one worker (its slot's), and a worker encodes all of its keys
 * within one message, so each part is a point-in-time image of that worker's
 * keys. Keys of different workers never take part in one command (a command
 * touches one slot), so there is no cross-worker invariant the cut could
 * break. The part messages leave the client's worker after every command the
 * client sent before SAVE/BGSAVE (worker_send keeps per-pair order), so the
 * dump contains all of them.
 *
 * Must never: touch another worker's keyspace (parts are encoded by their
 * owners), block a worker other than the SAVE client's own, or replace
 * dump.rdb with anything but a complete, fsynced file.
 */
#include "actors/persist/rdb_save.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/types/types.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "proto/rdb.h"
#include "proto/slot.h"
#include "runtime/log.h"
#include "runtime/tmpfile.h"
#include "runtime/xmalloc.h"

enum { JOB_SAVE = 1, JOB_BGSAVE, JOB_LOAD };


typedef struct rdb_job {
    int kind;
    int compress;
    int parts_left;       /* save: touched only on the origin worker */
    int nparts;
    reply_slot_t *slot;   /* SAVE: the deferred reply; NULL for BGSAVE */
    long long started_ms;
    rdb_part_t parts[MAX_WORKERS];
} rdb_job_t;

/* What rides in remote_cmd_t.blob. */
typedef struct rdb_msg {
    rdb_job_t *job;
    int part;
} rdb_msg_t;

/* Relaxed atomics throughout: these are independent status figures read by
 * INFO/LASTSAVE; nothing else is published through them, except
 * bgsave_in_progress, whose compare-exchange only has to be atomic. */
static _Atomic int bgsave_in_progress;
static _Atomic int bgsave_scheduled;
static _Atomic long long bgsave_started_ms;
static _Atomic int last_bgsave_ok = 1;
static _Atomic long long last_bgsave_time_sec = -1;
static _Atomic long long saves_done;
static _Atomic long long load_keys_loaded, load_keys_expired;

/* Startup load: staged keyspaces, owned by main until each worker adopts its own. */
static struct {
    bool active;
    int n;
    struct keyspace *staged[MAX_WORKERS];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int left;
} g_load = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static const cmd_def_t *save_def(void)
{
    return cmd_lookup((const uint8_t *)"save", 4);
}

static bool config_yes(const char *name, bool dflt)
{
    char buf[16];
    if (config_get_by_name(name, buf, sizeof buf) < 0) return dflt;
    return !strcasecmp(buf, "yes");
}

/* Sends one part request to every worker. From a worker thread, worker_send
 * keeps the order with commands it already queued; from elsewhere (the
 * BGSAVE thread for a scheduled save, main for the load) plain rt_send. */
static void send_parts(worker_t *origin, rdb_job_t *job, bool from_worker)
{
    static const uint8_t *argv[1] = { (const uint8_t *)"save" };
    static const size_t argvlen[1] = { 4 };
    job->nparts = workers_count();
    job->parts_left = workers_count();
    /* Under the barrier lock: every worker takes its part on the same side of
     * any call that spans workers (xcmd.c), so the parts make one dump. */
    workers_barrier_lock();
    for (int i = 0; i < workers_count(); i++) {
        remote_cmd_t *rc = xcalloc(1, sizeof *rc);
        rdb_msg_t *m = xcalloc(1, sizeof *m);
        m->job = job;
        m->part = i;
        rc->origin = job->kind == JOB_LOAD ? worker_at(i) : origin;
        rc->proto = 2;
        rc->now_ms = rt_now_ms();
        rc->ncmds = 1;
        rc->cmds = xcalloc(1, sizeof *rc->cmds);
        queued_cmd_copy(&rc->cmds[0], save_def(), 1, argv, argvlen);
        resp_buf_init(&rc->reply, 2);
        rc->blob = m;
        rc->run.hdr.type = WMSG_RUN;
        rc->run.fn = fanout_part_run;
        if (from_worker) worker_send(origin, i, &rc->hdr);
        else worker_post(i, &rc->hdr);
    }
    workers_barrier_unlock();
}

/* Changes counted when the last successful save started (INFO
 * rdb_changes_since_last_save = changes now - this). */
static _Atomic long long dirty_at_last_save;
static _Atomic long long dirty_at_job_start;

static long long dirty_now(void)
{
    return workers_sum(WSTAT_DIRTY);
}

static rdb_job_t *job_new(int kind)
{
    if (kind != JOB_LOAD) atomic_store_explicit(&dirty_at_job_start, dirty_now(), memory_order_relaxed);
    rdb_job_t *job = xcalloc(1, sizeof *job);
    job->kind = kind;
    job->compress = config_yes("rdbcompression", true);
    job->started_ms = rt_now_ms();
    return job;
}

static void job_free(rdb_job_t *job)
{
    for (int i = 0; i < job->nparts; i++) free(job->parts[i].data);
    free(job);
}

/* ---------------- worker side ---------------- */

typedef struct encode_ctx {
    rdb_encoder_t enc;
    long long now_ms;
    rdb_part_t *part;
} encode_ctx_t;

static void encode_entry(void *arg, ks_entry_t *e, long long expire_ms)
{
    encode_ctx_t *x = arg;
    if (expire_ms != KS_NO_EXPIRE && expire_ms < x->now_ms) return;   /* already expired */
    int rc = types_rdb_save_entry(&x->enc, e, expire_ms);
    if (rc == RDB_ERR_TYPE) {               /* a type with no RDB form yet */
        x->part->skipped++;
        return;
    }
    if (rc) x->part->failed = true;
    x->part->keys++;
    if (expire_ms != KS_NO_EXPIRE) x->part->expires++;
}

/* Moves a string key written before the staged keyspace was adopted into it
 * (a client that raced the startup hand-over): the newer value wins. */
static void merge_entry(void *arg, ks_entry_t *e, long long expire_ms)
{
    struct keyspace *staged = arg;
    if (ks_entry_type(e) != KS_TYPE_STRING) return;
    size_t klen, vlen;
    const uint8_t *key = ks_entry_key(e, &klen);
    const uint8_t *val = ks_entry_str(e, &vlen);
    ks_set_string(staged, key, klen, val, vlen, expire_ms, rt_now_ms());
}

void rdb_save_part(worker_t *w, remote_cmd_t *rc)
{
    rdb_msg_t *m = rc->blob;
    rdb_job_t *job = m->job;
    if (job->kind == JOB_LOAD) {
        struct keyspace *staged = g_load.staged[worker_index(w)];
        struct keyspace *old = worker_keyspace(w);
        if (ks_size(old) > 0) ks_foreach(old, merge_entry, staged);
        worker_install_loaded_keyspace(w, staged);
        ks_free(old);
        return;
    }
    rdb_save_encode_part(worker_keyspace(w), rt_now_ms(), job->compress, &job->parts[m->part]);   /* only this worker writes this part */
}

void rdb_save_encode_part(struct keyspace *ks, long long now_ms, int compress, rdb_part_t *part)
{
    encode_ctx_t x = { .now_ms = now_ms, .part = part };
    rdb_encoder_init(&x.enc, compress);
    ks_foreach(ks, encode_entry, &x);
    if (x.enc.failed) part->failed = true;
    part->crc = rdb_encoder_crc(&x.enc);
    part->len = x.enc.len;
    part->data = x.enc.buf;     /* hand the buffer over instead of copying it */
    x.enc.buf = NULL;
    rdb_encoder_free(&x.enc);
}

/* ---------------- writing the file ---------------- */

static int flush_enc(int fd, rdb_encoder_t *e)
{
    if (e->failed) { errno = ENOMEM; return -1; }
    if (rt_write_all(fd, rdb_encoder_data(e), rdb_encoder_pending(e)) != 0) return -1;
    rdb_encoder_drain(e, rdb_encoder_pending(e));
    return 0;
}

static long long used_memory(void)
{
    return workers_sum(WSTAT_USED_BYTES);
}

/* Writes header + aux + the parts + EOF to a temp file, fsyncs it and renames
 * it over <dbfilename>. Returns 0, or -1 after logging why. */
static int write_dump(rdb_job_t *job)
{
    char fname[1024], dir[1024], tmp[1100];
    if (config_get_by_name("dbfilename", fname, sizeof fname) < 0) snprintf(fname, sizeof fname, "dump.rdb");
    config_dir(dir, sizeof dir);
    static _Atomic unsigned seq;
    /* relaxed: only uniqueness of the temp name matters */
    snprintf(tmp, sizeof tmp, "temp-%d-%u.rdb", (int)getpid(), atomic_fetch_add_explicit(&seq, 1, memory_order_relaxed));
    uint64_t keys = 0, expires = 0, skipped = 0;
    for (int i = 0; i < job->nparts; i++) {
        if (job->parts[i].failed) {
            LOG_WARNING("Write error saving DB on disk: out of memory while encoding");
            return -1;
        }
        keys += job->parts[i].keys;
        expires += job->parts[i].expires;
        skipped += job->parts[i].skipped;
    }
    if (skipped) LOG_WARNING("%llu keys of types without an RDB encoding here were left out of the dump", (unsigned long long)skipped);
    /* One directory for the whole save, held as an fd: a CONFIG SET dir
     * meanwhile moves the next save, never half of this one. */
    int dirfd = config_dir_open();
    if (dirfd < 0) {
        LOG_WARNING("Failed opening the temp RDB file %s (in server root dir %s) for saving: %s", tmp, dir, strerror(errno));
        return -1;
    }
    int fd = rt_tmpfile_create(dirfd, tmp, 0644);
    if (fd < 0) {
        LOG_WARNING("Failed opening the temp RDB file %s (in server root dir %s) for saving: %s", tmp, dir, strerror(errno));
        close(dirfd);
        return -1;
    }
    rdb_encoder_t e;
    rdb_encoder_init(&e, job->compress);
    rdb_aux_info_t aux = { .ctime = rt_now_ms() / 1000, .used_mem = used_memory() };
    rdb_encode_header(&e);
    rdb_encode_aux_fields(&e, &aux);
    if (keys > 0) {   /* Redis writes no SELECTDB/RESIZEDB for an empty database */
        rdb_encode_selectdb(&e, 0);
        rdb_encode_resizedb(&e, keys, expires);
    }
    int rc = flush_enc(fd, &e);
    for (int i = 0; rc == 0 && i < job->nparts; i++) {
        rdb_part_t *p = &job->parts[i];
        /* rdb-key-save-delay: the part is already encoded, so the per-key
         * delay is paid here, before its bytes go out. */
        for (uint64_t k = 0; k < p->keys; k++) config_key_save_delay();
        if (rt_write_all(fd, p->data, p->len) != 0) rc = -1;
        else rdb_encoder_splice(&e, p->len, p->crc);
    }
    if (rc == 0) {
        if (config_yes("rdbchecksum", true)) {
            rdb_encode_eof(&e);
        } else {   /* a zero trailer means "not computed", as Redis writes it */
            static const uint8_t eof_nocrc[9] = { RDB_OPCODE_EOF };
            rdb_encode_raw(&e, eof_nocrc, sizeof eof_nocrc);
        }
        rc = flush_enc(fd, &e);
    }
    rdb_encoder_free(&e);
    if (rc != 0) {
        LOG_WARNING("Write error saving DB on disk: %s", strerror(errno));
        close(fd);
        unlinkat(dirfd, tmp, 0);
        close(dirfd);
        return -1;
    }
    const char *op = NULL;
    rc = rt_tmpfile_commit(dirfd, fd, tmp, fname, &op);
    int saved = errno;
    close(dirfd);
    if (rc != 0) {
        if (!strcmp(op, "rename"))
            LOG_WARNING("Error moving temp DB file %s on the final destination %s (in server root dir %s): %s", tmp,
                        fname, dir, strerror(saved));
        else
            LOG_WARNING("Write error saving DB on disk(%s): %s", op, strerror(saved));
        return -1;
    }
    LOG_NOTICE("DB saved on disk");
    atomic_store_explicit(&dirty_at_last_save, atomic_load_explicit(&dirty_at_job_start, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&g_lastsave, rt_now_ms() / 1000, memory_order_relaxed);
    atomic_fetch_add_explicit(&saves_done, 1, memory_order_relaxed);
    return 0;
}

static bool start_bgsave(worker_t *origin, bool from_worker);

static void *bgsave_thread(void *arg)
{
    rdb_job_t *job = arg;
    int rc = write_dump(job);
    long long secs = (rt_now_ms() - job->started_ms + 500) / 1000;
    job_free(job);
    atomic_store_explicit(&last_bgsave_ok, rc == 0, memory_order_relaxed);
    atomic_store_explicit(&last_bgsave_time_sec, secs, memory_order_relaxed);
    if (rc == 0) LOG_NOTICE("Background saving terminated with success");
    else LOG_WARNING("Background saving error");
    atomic_store_explicit(&bgsave_in_progress, 0, memory_order_relaxed);
    if (atomic_exchange_explicit(&bgsave_scheduled, 0, memory_order_relaxed)) start_bgsave(worker_at(0), false);
    return NULL;
}

void rdb_save_part_done(worker_t *w, remote_cmd_t *rc)
{
    rdb_msg_t *m = rc->blob;
    rdb_job_t *job = m->job;
    free(m);
    rc->blob = NULL;
    remote_cmd_free(rc);
    if (job->kind == JOB_LOAD) {
        pthread_mutex_lock(&g_load.mu);
        if (--g_load.left == 0) pthread_cond_signal(&g_load.cv);
        pthread_mutex_unlock(&g_load.mu);
        return;
    }
    if (--job->parts_left > 0) return;
    if (job->kind == JOB_SAVE) {
        /* SAVE writes here, blocking this worker as Redis's SAVE blocks the server. */
        int r = write_dump(job);
        reply_slot_t *slot = job->slot;
        job_free(job);
        if (r == 0) client_slot_fill(w, slot, "+OK\r\n", 5);
        else client_slot_fill(w, slot, "-ERR\r\n", 6);
        return;
    }
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, bgsave_thread, job) != 0) {
        LOG_WARNING("Can't save in background: could not start a thread (%s); saving in the foreground", strerror(errno));
        bgsave_thread(job);
    }
    pthread_attr_destroy(&attr);
}

/* Claims the single background-save slot and asks for the parts. */
static bool start_bgsave(worker_t *origin, bool from_worker)
{
    int expect = 0;
    if (!atomic_compare_exchange_strong_explicit(&bgsave_in_progress, &expect, 1, memory_order_relaxed,
                                                 memory_order_relaxed))
        return false;
    rdb_job_t *job = job_new(JOB_BGSAVE);
    atomic_store_explicit(&bgsave_started_ms, job->started_ms, memory_order_relaxed);
    LOG_NOTICE("Background saving started by pid %d", (int)getpid());
    send_parts(origin, job, from_worker);
    return true;
}

/* ---------------- commands ---------------- */

void cmd_save(cmd_ctx_t *ctx)
{
    if (atomic_load_explicit(&bgsave_in_progress, memory_order_relaxed)) {
        resp_add_error(ctx->reply, "ERR Background save already in progress");
        return;
    }
    rdb_job_t *job = job_new(JOB_SAVE);
    job->slot = client_defer_reply(ctx->client);
    send_parts(ctx->worker, job, true);
}

void cmd_bgsave(cmd_ctx_t *ctx)
{
    bool schedule = false;
    if (ctx->argc == 2 && arg_is_at(ctx, 1, "schedule")) {
        schedule = true;
    } else if (ctx->argc > 1) {
        resp_add_error(ctx->reply, "ERR syntax error");
        return;
    }
    if (start_bgsave(ctx->worker, true)) {
        resp_add_simple(ctx->reply, "Background saving started");
    } else if (schedule) {
        atomic_store_explicit(&bgsave_scheduled, 1, memory_order_relaxed);
        resp_add_simple(ctx->reply, "Background saving scheduled");
    } else {
        resp_add_error(ctx->reply, "ERR Background save already in progress");
    }
}

/* Relaxed: a status flag for INFO, ordering nothing. */
static _Atomic int rdb_loading;

void rdb_loading_set(bool on) { atomic_store_explicit(&rdb_loading, on ? 1 : 0, memory_order_relaxed); }

void rdb_persist_info(rdb_persist_info_t *out)
{
    memset(out, 0, sizeof *out);
    out->bgsave_in_progress = atomic_load_explicit(&bgsave_in_progress, memory_order_relaxed);
    out->changes_since_last_save = dirty_now() - atomic_load_explicit(&dirty_at_last_save, memory_order_relaxed);
    out->last_save_time = atomic_load_explicit(&g_lastsave, memory_order_relaxed);
    out->last_bgsave_ok = atomic_load_explicit(&last_bgsave_ok, memory_order_relaxed);
    out->last_bgsave_time_sec = atomic_load_explicit(&last_bgsave_time_sec, memory_order_relaxed);
    out->current_bgsave_time_sec =
        out->bgsave_in_progress
            ? (rt_now_ms() - atomic_load_explicit(&bgsave_started_ms, memory_order_relaxed)) / 1000
            : -1;
    out->saves = atomic_load_explicit(&saves_done, memory_order_relaxed);
    out->last_load_keys_loaded = atomic_load_explicit(&load_keys_loaded, memory_order_relaxed);
    out->last_load_keys_expired = atomic_load_explicit(&load_keys_expired, memory_order_relaxed);
    out->loading = atomic_load_explicit(&rdb_loading, memory_order_relaxed);
}

/* ---------------- loading at startup ---------------- */

typedef struct load_ctx {
    long long now_ms;
    long long loaded, expired;
    char err[300];
} load_ctx_t;

/* One decoded event; returns -1 with ctx->err set to stop. */
static int load_event(load_ctx_t *x, const rdb_event_t *ev)
{
    switch (ev->type) {
    case RDB_EV_AUX:
        if (ev->key_len == 9 && !memcmp(ev->key, "redis-ver", 9)) {
            LOG_NOTICE("Loading RDB produced by version %.*s", (int)ev->value_len, (const char *)ev->value);
        } else if (ev->key_len == 5 && !memcmp(ev->key, "ctime", 5)) {
            char num[32];
            size_t n = ev->value_len < sizeof num - 1 ? ev->value_len : sizeof num - 1;
            memcpy(num, ev->value, n);
            num[n] = '\0';
            long long age = x->now_ms / 1000 - strtoll(num, NULL, 10);
            LOG_NOTICE("RDB age %lld seconds", age < 0 ? 0 : age);
        } else if (ev->key_len == 8 && !memcmp(ev->key, "used-mem", 8)) {
            char num[32];
            size_t n = ev->value_len < sizeof num - 1 ? ev->value_len : sizeof num - 1;
            memcpy(num, ev->value, n);
            num[n] = '\0';
            LOG_NOTICE("RDB memory usage when created %.2f Mb", (double)strtoll(num, NULL, 10) / (1024 * 1024));
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

static int load_fatal(const char *dir, const char *fname, const char *why)
{
    LOG_WARNING("Fatal error loading the DB (%s/%s): %s. Exiting.", dir, fname, why);
    for (int i = 0; i < g_load.n; i++) {
        ks_free(g_load.staged[i]);
        g_load.staged[i] = NULL;
    }
    g_load.active = false;
    return -1;
}

int rdb_load_startup(int nworkers)
{
    char fname[1024];
    if (config_get_by_name("dbfilename", fname, sizeof fname) < 0) snprintf(fname, sizeof fname, "dump.rdb");
    return rdb_load_startup_file(fname, nworkers);
}

int rdb_load_startup_file(const char *fname, int nworkers)
{
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
    g_load.active = true;

    enum { CHUNK = 1 << 20 };
    uint8_t *buf = xmalloc(CHUNK);
    rdb_decoder_t d;
    rdb_decoder_init(&d, (uint64_t)config_proto_max_bulk_len(), (uint64_t)st.st_size);
    load_ctx_t x = { .now_ms = rt_now_ms() };
    bool done = false;
    int failed = 0;
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
    atomic_store_explicit(&load_keys_loaded, x.loaded, memory_order_relaxed);
    atomic_store_explicit(&load_keys_expired, x.expired, memory_order_relaxed);
    LOG_NOTICE("Done loading RDB, keys loaded: %lld, keys expired: %lld.", x.loaded, x.expired);
    LOG_NOTICE("DB loaded from disk: %.3f seconds", (double)(rt_mono_ms() - t0) / 1000.0);
    /* The workers start with these keyspaces, before they accept anyone:
     * no client can see the node half loaded. */
    for (int i = 0; i < nworkers; i++) {
        g_worker_preload[i] = g_load.staged[i];
        g_load.staged[i] = NULL;
    }
    g_load.active = false;
    return 0;
}

int rdb_load_handover(void)
{
    if (!g_load.active) return 0;
    g_load.active = false;
    if (workers_count() != g_load.n) {
        LOG_WARNING("Loaded the DB for %d workers but %d started", g_load.n, workers_count());
        return -1;
    }
    rdb_job_t *job = job_new(JOB_LOAD);
    pthread_mutex_lock(&g_load.mu);
    g_load.left = workers_count();
    pthread_mutex_unlock(&g_load.mu);
    send_parts(NULL, job, false);
    pthread_mutex_lock(&g_load.mu);
    while (g_load.left > 0) pthread_cond_wait(&g_load.cv, &g_load.mu);
    pthread_mutex_unlock(&g_load.mu);
    free(job);
    for (int i = 0; i < g_load.n; i++) g_load.staged[i] = NULL;   /* the workers own them now */
    return 0;
}

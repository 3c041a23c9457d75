/* aof_rewrite.c - BGREWRITEAOF, the automatic rewrite, and CONFIG SET
 * appendonly (see aof.h), driven from the AOF actor's thread.
 *
 * A rewrite is a cut of the replication actor (repl_cut.c), the same short
 * stop of the workers a full sync uses: at the barrier every handover
 * before the cut has been filed, so the AOF actor opens the next incr file
 * there (aof_cut_reached -> rotate), and forks: the child writes the
 * parked image as an RDB, which becomes the new base (or, without the RDB
 * preamble, is turned into commands by a thread of its own) while the node
 * keeps serving. Only when fork fails does each worker, released, encode its
 * own keys into parts joined into one RDB. Then the manifest is
 * swapped in one atomic write: new base, the incr files before the cut to
 * history (removed unless aof-disable-auto-gc).
 *
 * CONFIG SET appendonly yes is such a rewrite whose incr file is a temp
 * file until the base exists (7.0.15's AOF_WAIT_REWRITE): a failure leaves
 * the manifest as it was.
 *
 * Must never: name a base in the manifest before it is whole on disk, or
 * drop an incr file that holds writes after the cut.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/commands/cmd.h"
#include "actors/commands/commands.h"
#include "actors/persist/aof_internal.h"
#include "actors/persist/rdb_load.h"
#include "actors/persist/rdb_save.h"
#include "actors/repl/repl.h"
#include "proto/crc64.h"
#include "proto/rdb.h"
#include "proto/resp.h"
#include "runtime/actor.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

_Atomic int g_aof_rewriting;               /* 1 from the request until the swap (or failure) */
static _Atomic int g_rewrite_scheduled;
static _Atomic int g_rewrite_held;         /* DEBUG LOADAOF reads the files: no rewrite starts */

/* The actor's side (AOF thread only). */
static struct {
    bool wait_rewrite;            /* appendonly turned on: writing waits for the base */
    long long started_ms;
    long long base_size_at_rewrite;   /* the size after the last rewrite (or at start), as 7.0.15's */
} RW;

typedef struct parts_msg {
    rt_msg_t hdr;
    int n;
    const uint8_t *data[MAX_WORKERS + 2];
    size_t lens[MAX_WORKERS + 2];
    void *owners[MAX_WORKERS + 2];
    void (*release)(void *);
    /* the writer thread's */
    char dirname[256], name[300];
    bool rdb;
    int err;
    /* a base written by a child (n == 0): wait for it, then rename tmp */
    pid_t child;
    int dirfd;
    char tmp[64];
} parts_msg_t;

/* The rewrite by fork, prepared by on_start (AOF thread) before the cut is
 * requested, read at the cut (replication thread) after that request. */
static struct {
    bool ok;                      /* the directory is open */
    bool rdb;                     /* aof-use-rdb-preamble: the base is the child's RDB, else its commands */
    int dirfd;
    bool checksum;
    char tmp[64];
} FK = { .dirfd = -1 };

/* ---------------- requests ---------------- */

static void send_to_actor(uint32_t type)
{
    rt_msg_t *m = xcalloc(1, sizeof *m);
    m->type = type;
    rt_send(aof_actor(), m);
}

/* Starts one if none runs: true when this call started it. */
static bool try_start(void)
{
    int idle = 0;
    /* acq_rel: one requester wins; the winner's message follows */
    if (!atomic_compare_exchange_strong(&g_aof_rewriting, &idle, 1)) return false;
    /* seq_cst, against aof_rewrite_hold: either it sees our 1 and waits for
     * this rewrite, or we see its hold and give the turn back */
    if (atomic_load(&g_rewrite_held)) {
        atomic_store(&g_aof_rewriting, 0);
        return false;
    }
    send_to_actor(AOF_MSG_REWRITE_START);
    return true;
}

static bool bgsave_running(void)
{
    rdb_persist_info_t p;
    rdb_persist_info(&p);
    return p.bgsave_in_progress != 0;
}

void aof_bgrewrite_request(char *reply, size_t cap)
{
    if (atomic_load(&g_aof_rewriting)) {
        snprintf(reply, cap, "-ERR Background append only file rewriting already in progress");
    } else if (bgsave_running() || atomic_load(&g_rewrite_held)) {
        atomic_store(&g_rewrite_scheduled, 1);
        aof_status_note_scheduled(1);
        aof_actor_kick();   /* its cron starts it once the BGSAVE ends */
        snprintf(reply, cap, "+Background append only file rewriting scheduled");
    } else if (try_start()) {
        snprintf(reply, cap, "+Background append only file rewriting started");
    } else {
        snprintf(reply, cap, "-ERR Background append only file rewriting already in progress");
    }
}

void cmd_bgrewriteaof(cmd_ctx_t *ctx)
{
    char reply[160];
    aof_bgrewrite_request(reply, sizeof reply);
    if (reply[0] == '+') resp_add_simple(ctx->reply, reply + 1);
    else resp_add_error(ctx->reply, reply + 1);
}

void aof_rewrite_base_ready(int n, const uint8_t *const *data, const size_t *lens, void *const *owners,
                            void (*release)(void *))
{
    parts_msg_t *m = xcalloc(1, sizeof *m);
    m->hdr.type = AOF_MSG_PARTS;
    m->n = n;
    for (int i = 0; i < n; i++) {
        m->data[i] = data[i];
        m->lens[i] = lens[i];
        m->owners[i] = owners[i];
    }
    m->release = release;
    rt_send(aof_actor(), &m->hdr);
}

/* ---------------- the writer thread ---------------- */

static void add_cmd(resp_buf_t *b, int argc, const uint8_t **argv, const size_t *lens)
{
    resp_add_array(b, argc);
    for (int i = 0; i < argc; i++) resp_add_bulk(b, argv[i], lens[i]);
}

/* Without aof-use-rdb-preamble the base is commands: each string as SET
 * (and PEXPIREAT), each library as FUNCTION LOAD, each collection as RESTORE ... ABSTTL of its DUMP
 * payload (the RDB value, version, CRC-64), which redis-server loads as it
 * loads its own RPUSH/HSET/... form. Returns 0 or an errno value. */
static int rdb_to_commands(const parts_msg_t *m, resp_buf_t *out)
{
    rdb_decoder_t d;
    rdb_decoder_init(&d, 0, 0);
    int rc = 0, s = RDB_MORE;
    long long db = 0;             /* the database of the commands so far (the loader starts in 0) */
    for (int i = 0; i < m->n && rc == 0; i++) {
        rdb_decoder_feed(&d, m->data[i], m->lens[i]);
        rdb_event_t ev;
        while ((s = rdb_decoder_next(&d, &ev)) == RDB_EVENT) {
            if (ev.type == RDB_EV_FUNCTION) {   /* a library, first, as 7.0.15's rewriteFunctions */
                const uint8_t *argv[3] = { (const uint8_t *)"FUNCTION", (const uint8_t *)"LOAD", ev.value };
                size_t lens[3] = { 8, 4, ev.value_len };
                add_cmd(out, 3, argv, lens);
                continue;
            }
            char num[32];
            if (ev.type == RDB_EV_SELECTDB && (long long)ev.db != db) {   /* the keys that follow are there */
                db = (long long)ev.db;
                int n = snprintf(num, sizeof num, "%lld", db);
                const uint8_t *argv[2] = { (const uint8_t *)"SELECT", (const uint8_t *)num };
                size_t lens[2] = { 6, (size_t)n };
                add_cmd(out, 2, argv, lens);
                continue;
            }
            if (ev.type != RDB_EV_KEY) continue;
            if (ev.value_type == RDB_TYPE_STRING) {
                const uint8_t *argv[3] = { (const uint8_t *)"SET", ev.key, ev.value };
                size_t lens[3] = { 3, ev.key_len, ev.value_len };
                add_cmd(out, 3, argv, lens);
                if (ev.expire_ms >= 0) {
                    int n = snprintf(num, sizeof num, "%lld", (long long)ev.expire_ms);
                    const uint8_t *ea[3] = { (const uint8_t *)"PEXPIREAT", ev.key, (const uint8_t *)num };
                    size_t el[3] = { 9, ev.key_len, (size_t)n };
                    add_cmd(out, 3, ea, el);
                }
                continue;
            }
            size_t plen = 1 + ev.value_len + 10;
            uint8_t *payload = xmalloc(plen);
            payload[0] = ev.value_type;
            memcpy(payload + 1, ev.value, ev.value_len);
            payload[1 + ev.value_len] = RDB_VERSION & 0xff;
            payload[2 + ev.value_len] = (RDB_VERSION >> 8) & 0xff;
            uint64_t crc = crc64_update(0, payload, 3 + ev.value_len);
            for (int k = 0; k < 8; k++) payload[3 + ev.value_len + k] = (uint8_t)(crc >> (8 * k));
            int n = snprintf(num, sizeof num, "%lld", ev.expire_ms >= 0 ? (long long)ev.expire_ms : 0LL);
            const uint8_t *argv[6] = { (const uint8_t *)"RESTORE", ev.key, (const uint8_t *)num, payload,
                                       (const uint8_t *)"REPLACE", (const uint8_t *)"ABSTTL" };
            size_t lens[6] = { 7, ev.key_len, (size_t)n, plen, 7, 6 };
            add_cmd(out, ev.expire_ms >= 0 ? 6 : 5, argv, lens);
            free(payload);
        }
        if (s == RDB_ERROR) rc = EINVAL;
    }
    rdb_decoder_free(&d);
    return rc;
}

/* Without the RDB preamble the child's RDB (tmp) becomes the base's
 * commands here, on this thread: the workers encode nothing. 0 or errno. */
static int child_rdb_to_commands(parts_msg_t *m)
{
    int fd = openat(m->dirfd, m->tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    struct stat st;
    int err = fstat(fd, &st) != 0 ? errno : st.st_size <= 0 ? EINVAL : 0;
    void *map = err ? MAP_FAILED : mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (!err && map == MAP_FAILED) err = errno;
    close(fd);
    if (err) return err;
    m->n = 1;                     /* rdb_to_commands' one part; nothing to release */
    m->data[0] = map;
    m->lens[0] = (size_t)st.st_size;
    resp_buf_t out;
    resp_buf_init(&out, 2);
    err = rdb_to_commands(m, &out);
    m->n = 0;
    munmap(map, (size_t)st.st_size);
    if (!err) {
        const uint8_t *p[1] = { (const uint8_t *)out.data };
        size_t l[1] = { out.len };
        err = aof_write_whole_file(m->dirname, m->name, p, l, 1);
    }
    resp_buf_free(&out);
    unlinkat(m->dirfd, m->tmp, 0);
    return err;
}

static void *writer_main(void *arg)
{
    parts_msg_t *m = arg;
    if (m->child > 0) {
        /* the child wrote and fsync'ed tmp; its name now, durably (or its commands) */
        if (rdb_save_wait_child(m->child) != 0) m->err = EIO;
        else if (!m->rdb) m->err = child_rdb_to_commands(m);
        else if (renameat(m->dirfd, m->tmp, m->dirfd, m->name) != 0) m->err = errno;
        else if (fsync(m->dirfd) != 0) m->err = errno;
        if (m->err) unlinkat(m->dirfd, m->tmp, 0);
        close(m->dirfd);
    } else if (m->rdb) {
        m->err = aof_write_whole_file(m->dirname, m->name, m->data, m->lens, m->n);
    } else {
        resp_buf_t out;
        resp_buf_init(&out, 2);
        m->err = rdb_to_commands(m, &out);
        if (!m->err) {
            const uint8_t *p[1] = { (const uint8_t *)out.data };
            size_t l[1] = { out.len };
            m->err = aof_write_whole_file(m->dirname, m->name, p, l, 1);
        }
        resp_buf_free(&out);
    }
    for (int i = 0; i < m->n; i++) m->release(m->owners[i]);
    m->n = 0;
    m->hdr.type = AOF_MSG_WRITTEN;
    rt_send(aof_actor(), &m->hdr);
    return NULL;
}

/* ---------------- the actor's side ---------------- */

static void finish(int result)
{
    aof_status_note_rewrite(0, atomic_load(&g_rewrite_scheduled), RW.started_ms, result);
    RW.started_ms = 0;
    atomic_store(&g_aof_rewriting, 0);
}

static void fail(const char *why)
{
    LOG_WARNING("Background AOF rewrite terminated with error%s%s", why ? ": " : "", why ? why : "");
    long long kept;
    bool temp;
    aof_actor_cut_result(&kept, &temp);
    if (temp) aof_actor_switch_off(true);   /* appendonly stays waiting: the cron tries again */
    if (RW.wait_rewrite) aof_actor_begin_waiting();
    finish(-1);
}

/* What a rewrite by fork needs, found now: the child may take no lock. */
static void fork_prepare(void)
{
    if (FK.dirfd >= 0) close(FK.dirfd);
    FK.dirfd = -1;
    FK.ok = false;
    FK.rdb = aof_conf_bool("aof-use-rdb-preamble");
    const char *dir = aof_actor_dirname();
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return;
    FK.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (FK.dirfd < 0) return;
    FK.checksum = aof_conf_bool("rdbchecksum");
    snprintf(FK.tmp, sizeof FK.tmp, "temp-rewriteaof-bg-%d.aof", (int)getpid());
    FK.ok = true;
}

bool aof_rewrite_fork_at_cut(const uint8_t *functions, size_t functions_len, int compress)
{
    if (!FK.ok) return false;
    FK.ok = false;
    long long t0 = rt_now_us();
    pid_t pid = rdb_save_fork_aof_base(FK.dirfd, FK.tmp, aof_actor_dirname(), compress, FK.checksum, functions,
                                       functions_len);
    if (pid > 0) rdb_fork_note(rt_now_us() - t0);
    if (pid < 0) {
        LOG_WARNING("Can't rewrite append only file in background: fork: %s; the workers encode the base instead",
                    strerror(errno));
        return false;
    }
    LOG_NOTICE("Background append only file rewriting started by pid %ld", (long)pid);
    parts_msg_t *m = xcalloc(1, sizeof *m);
    m->hdr.type = AOF_MSG_CHILD;
    m->child = pid;
    m->rdb = FK.rdb;
    m->dirfd = FK.dirfd;          /* the writer thread closes it */
    FK.dirfd = -1;
    snprintf(m->tmp, sizeof m->tmp, "%s", FK.tmp);
    rt_send(aof_actor(), &m->hdr);
    return true;
}

static void on_start(void)
{
    RW.started_ms = rt_mono_ms();
    aof_status_note_rewrite(1, 0, RW.started_ms, 0);
    atomic_store(&g_rewrite_scheduled, 0);
    /* what the cut does to the incr file (aof_cut_reached) */
    int e = aof_actor_prepare_cut(RW.wait_rewrite ? 2 : aof_actor_is_on() ? 1 : 0);
    if (e) {
        fail(strerror(e));
        return;
    }
    aof_status_note_rewrite_started();
    fork_prepare();
    LOG_NOTICE("Background append only file rewriting started");
    repl_request_aof_rewrite();
}

static void on_parts(parts_msg_t *m)
{
    if (!RW.started_ms || m->n == 0) {
        for (int i = 0; i < m->n; i++) m->release(m->owners[i]);
        free(m);
        fail("out of memory while encoding the base");
        return;
    }
    static aof_manifest_t man_copy;
    aof_actor_manifest_copy(&man_copy);
    const aof_manifest_t *man = &man_copy;
    m->rdb = aof_conf_bool("aof-use-rdb-preamble");
    snprintf(m->dirname, sizeof m->dirname, "%s", aof_actor_dirname());
    snprintf(m->name, sizeof m->name, "%s.%lld.base.%s", aof_actor_filename(), man->base_seq + 1,
             m->rdb ? "rdb" : "aof");
    if (mkdir(m->dirname, 0755) != 0 && errno != EEXIST) {
        for (int i = 0; i < m->n; i++) m->release(m->owners[i]);
        free(m);
        fail(strerror(errno));
        return;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, writer_main, m) != 0) {
        for (int i = 0; i < m->n; i++) m->release(m->owners[i]);
        free(m);
        fail("can't start the writer thread");
        return;
    }
    pthread_detach(th);
}

/* The child writes the base: a thread waits for it and names the file. */
static void on_child(parts_msg_t *m)
{
    static aof_manifest_t man_copy;
    aof_actor_manifest_copy(&man_copy);
    snprintf(m->dirname, sizeof m->dirname, "%s", aof_actor_dirname());
    snprintf(m->name, sizeof m->name, "%s.%lld.base.%s", aof_actor_filename(), man_copy.base_seq + 1,
             m->rdb ? "rdb" : "aof");
    pthread_t th;
    if (pthread_create(&th, NULL, writer_main, m) != 0) {
        /* no thread: wait here (the node's writes do not wait for this thread) */
        writer_main(m);
        return;
    }
    pthread_detach(th);
}

static void on_written(parts_msg_t *m)
{
    int err = m->err;
    char written[sizeof m->name];
    snprintf(written, sizeof written, "%s", m->name);
    free(m);
    if (err) {
        fail(strerror(err));
        return;
    }
    long long kept_seq;
    bool temp;
    aof_actor_cut_result(&kept_seq, &temp);
    if (RW.wait_rewrite && !temp) {
        fail("the temporary incr file could not be opened");
        return;
    }
    static aof_manifest_t next;
    aof_actor_manifest_copy(&next);
    /* Named by aof-use-rdb-preamble as it is now, as 7.0.15 names it when
     * its child is done (the loader goes by the file's first bytes): a
     * CONFIG SET during the rewrite renames the file written. */
    const char *base = aof_manifest_new_base(&next, aof_actor_filename(), aof_conf_bool("aof-use-rdb-preamble"));
    if (strcmp(base, written) != 0) {
        char from[600], to[600];
        snprintf(from, sizeof from, "%s/%s", aof_actor_dirname(), written);
        snprintf(to, sizeof to, "%s/%s", aof_actor_dirname(), base);
        if (rename(from, to) != 0) {
            unlink(from);
            fail(strerror(errno));
            return;
        }
    }
    if (temp) {
        const char *incr = aof_manifest_new_incr(&next, aof_actor_filename());
        if (!incr || aof_actor_adopt_temp_incr(incr) != 0) {
            fail("can't rename the temporary incr file");
            return;
        }
        aof_manifest_retire_incr_before(&next, next.incr[next.nincr - 1].seq);
    } else {
        aof_manifest_retire_incr_before(&next, kept_seq ? kept_seq : next.incr_seq + 1);
    }
    int e = aof_manifest_persist(aof_actor_dirname(), aof_actor_filename(), &next);
    if (e) {
        fail(strerror(e));
        return;
    }
    /* As 7.0.15: the swap is durable first, with the old files named as
     * history; then they go, and the manifest is written without them. */
    aof_manifest_drop_history(&next, aof_actor_dirname());
    aof_manifest_persist(aof_actor_dirname(), aof_actor_filename(), &next);
    aof_actor_set_manifest(&next);
    if (RW.wait_rewrite) {
        RW.wait_rewrite = false;
        LOG_NOTICE("AOF rewrite done: appendonly is on");
    }
    LOG_NOTICE("Background AOF rewrite finished successfully");
    RW.base_size_at_rewrite = aof_actor_current_size();
    finish(1);
}

void aof_rewrite_on_config(bool want_on)
{
    if (!want_on) {
        RW.wait_rewrite = false;
        aof_actor_switch_off(false);
        return;
    }
    if (aof_actor_is_on() || RW.wait_rewrite) return;
    /* Handovers from now on are noted (and dropped until the cut); the
     * rewrite itself was started by the CONFIG SET (aof_rewrite_try_start). */
    RW.wait_rewrite = true;
    aof_actor_begin_waiting();
}

bool aof_rewrite_try_start(void) { return try_start(); }

void aof_rewrite_hold(bool on)
{
    if (!on) {
        atomic_store(&g_rewrite_held, 0);
        aof_actor_kick();         /* one scheduled meanwhile starts now, not at the next cron */
        return;
    }
    atomic_store(&g_rewrite_held, 1);
    /* a rewrite already under way ends (its files swapped, or it failed) */
    while (atomic_load(&g_aof_rewriting)) usleep(1000);
}

void aof_rewrite_set_base_size(long long size) { RW.base_size_at_rewrite = size; }
long long aof_rewrite_base_size(void) { return RW.base_size_at_rewrite; }

bool aof_rewrite_pending(void)
{
    /* a growth check put off by a BGSAVE comes back when it ends */
    return atomic_load(&g_aof_rewriting) || atomic_load(&g_rewrite_scheduled) || RW.wait_rewrite ||
           (aof_actor_is_on() && bgsave_running());
}

void aof_rewrite_cron(void)
{
    if (atomic_load(&g_aof_rewriting)) {
        aof_status_note_rewrite(1, 0, RW.started_ms, 0);
        return;
    }
    /* Clients refused -LOADING (DEBUG RELOAD, DEBUG LOADAOF, a replica's
     * load into an emptied dataset): a cut now would write part of the keys
     * into the new base. A scheduled or due rewrite waits for the load's
     * end, as 7.0.15's cron cannot run during a load. */
    if (rdb_load_refusing()) return;
    if (atomic_load(&g_rewrite_scheduled) && !bgsave_running()) {
        try_start();
        return;
    }
    if (RW.wait_rewrite && !aof_actor_is_on()) {   /* a failed first rewrite is retried */
        if (!bgsave_running()) try_start();
        return;
    }
    if (!aof_actor_is_on()) return;
    long long cur = aof_actor_current_size();
    long long perc = aof_conf_num("auto-aof-rewrite-percentage");
    long long min = aof_conf_num("auto-aof-rewrite-min-size");
    if (perc <= 0 || cur <= min || bgsave_running()) return;
    long long base = RW.base_size_at_rewrite ? RW.base_size_at_rewrite : 1;
    long long growth = (cur * 100 / base) - 100;
    if (growth >= perc) {
        LOG_NOTICE("Starting automatic rewriting of AOF on %lld%% growth", growth);
        try_start();
    }
}

void aof_rewrite_on_msg(rt_msg_t *msg)
{
    switch (msg->type) {
    case AOF_MSG_REWRITE_START:
        free(msg);
        on_start();
        break;
    case AOF_MSG_PARTS:
        on_parts((parts_msg_t *)msg);
        break;
    case AOF_MSG_WRITTEN:
        on_written((parts_msg_t *)msg);
        break;
    case AOF_MSG_CHILD:
        on_child((parts_msg_t *)msg);
        break;
    default:
        free(msg);
    }
}

/* An empty base: an RDB without keys, or an empty AOF. */
int aof_write_empty_base(const char *dirname, const char *name, bool rdb)
{
    if (!rdb) {
        const uint8_t *parts[1] = { (const uint8_t *)"" };
        size_t lens[1] = { 0 };
        return aof_write_whole_file(dirname, name, parts, lens, 1);
    }
    rdb_encoder_t e;
    rdb_encoder_init(&e, 0);
    rdb_aux_info_t aux = { .ctime = rt_now_ms() / 1000, .used_mem = 0, .aof_base = 1 };
    rdb_encode_header(&e);
    rdb_encode_aux_fields(&e, &aux);
    rdb_encode_eof(&e);
    const uint8_t *parts[1] = { rdb_encoder_data(&e) };
    size_t lens[1] = { rdb_encoder_pending(&e) };
    int rc = aof_write_whole_file(dirname, name, parts, lens, 1);
    rdb_encoder_free(&e);
    return rc;
}

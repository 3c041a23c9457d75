/* aof_load.c - loading the AOF at start (see aof.h): the manifest, then,
 * once the workers run and before any client is let in, an RDB base loaded
 * through them as dump.rdb is (main parses, each worker builds its keys),
 * and the commands (an AOF-format base, the incr files) replayed through
 * them as a replica applies its master's stream.
 *
 * As redis-server 7.0.15: a command cut short at the end of the last file is
 * a torn write: with aof-load-truncated yes the file is truncated after the
 * last whole command (a transaction without its EXEC counts as torn) and the
 * start goes on; anything else stops the start with the file and offset.
 *
 * Must never: replay a command out of the file's order on its worker, or
 * let clients in before every command is applied.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/commands/args.h"
#include "actors/commands/cmd.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/persist/aof_internal.h"
#include "actors/persist/rdb_load.h"
#include "actors/persist/rdb_save.h"
#include "actors/worker/client.h"
#include "actors/worker/evict.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/load_apply.h"
#include "actors/worker/worker.h"
#include "actors/worker/xcmd.h"
#include "actors/worker/wdb.h"
#include "proto/strnum.h"
#include "proto/slot.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

aof_manifest_t g_aof_loaded;
bool g_aof_loaded_ok;

/* The files whose commands are replayed after the workers start. */
static struct {
    char rdb_base[256];           /* an RDB base to load first ("": none) */
    int n;
    char names[AOF_MAX_FILES + 1][256];
    bool last[AOF_MAX_FILES + 1];
} replay;

static off_t file_size(const char *dirname, const char *name, bool *exists)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dirname, name);
    struct stat st;
    *exists = stat(path, &st) == 0;
    return *exists ? st.st_size : 0;
}

static bool starts_with_rdb(const char *dirname, const char *name)
{
    char path[1400], sig[5];
    snprintf(path, sizeof path, "%s/%s", dirname, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool rdb = read(fd, sig, 5) == 5 && !memcmp(sig, "REDIS", 5);
    close(fd);
    return rdb;
}

/* Commands to replay into empty keyspaces: each worker's table is sized
 * for its share of about one key per AOF_BYTES_PER_KEY bytes of them (a
 * SET of a short key and value takes ~50), so that the replay neither
 * rehashes nor walks long chains while the table grows (a fifth of a
 * 1,000,000-SET load's time). A file that rewrites few keys many times
 * gets a table too big for a while: 8 bytes a bucket, at most a sixth of
 * the file's size. */
#define AOF_BYTES_PER_KEY 48
static void presize(int nworkers, off_t bytes)
{
    /* Not under maxmemory: the guessed table counts as used memory and would
     * make the node evict keys it held as soon as the load ends. */
    if (nworkers < 1 || bytes < AOF_BYTES_PER_KEY * 1024 || evict_maxmemory() > 0) return;
    if (nworkers > MAX_WORKERS) nworkers = MAX_WORKERS;
    size_t share = (size_t)(bytes / AOF_BYTES_PER_KEY) / (size_t)nworkers + 1;
    for (int i = 0; i < nworkers; i++) {
        if (!g_worker_preload[i]) g_worker_preload[i] = ks_create();
        ks_expand(g_worker_preload[i], share);   /* a no-op unless the base left it empty */
    }
}

/* Fills `replay` from manifest m: an RDB base to load through the workers,
 * then the files whose commands are replayed. 1 with something to load
 * (*replay_bytes: the incr files' size), 0 when there is nothing, -1 after
 * logging that a file it names is missing. */
static int plan_replay(const aof_manifest_t *m, const char *dirname, off_t *replay_bytes)
{
    replay.n = 0;
    replay.rdb_base[0] = '\0';
    *replay_bytes = 0;
    if (!m->has_base && m->nincr == 0) return 0;
    int total = (m->has_base ? 1 : 0) + m->nincr;
    off_t size = 0;
    for (int i = -1; i < m->nincr; i++) {
        if (i < 0 && !m->has_base) continue;
        const char *name = i < 0 ? m->base.name : m->incr[i].name;
        bool exists;
        size += file_size(dirname, name, &exists);
        if (!exists) {
            LOG_WARNING("The append log file %s doesn't exist: %s", name, strerror(ENOENT));
            return -1;
        }
    }
    if (size == 0) return 0;
    int idx = 0;
    if (m->has_base) {
        const char *name = m->base.name;
        idx++;
        bool exists;
        if (file_size(dirname, name, &exists) > 0 && starts_with_rdb(dirname, name)) {
            /* loaded by the running workers, in parallel (aof_replay) */
            snprintf(replay.rdb_base, sizeof replay.rdb_base, "%s", name);
        } else {
            snprintf(replay.names[replay.n], sizeof replay.names[0], "%s", name);
            replay.last[replay.n++] = idx == total;
        }
    }
    for (int i = 0; i < m->nincr; i++) {
        idx++;
        snprintf(replay.names[replay.n], sizeof replay.names[0], "%s", m->incr[i].name);
        replay.last[replay.n++] = idx == total;
        bool exists;
        *replay_bytes += file_size(dirname, m->incr[i].name, &exists);
    }
    return 1;
}

int aof_load_startup(int nworkers)
{
    replay.n = 0;
    replay.rdb_base[0] = '\0';
    if (!aof_conf_bool("appendonly")) return 0;
    char filename[256], dirname[256];
    aof_conf_names(filename, sizeof filename, dirname, sizeof dirname);
    int r = aof_manifest_read(dirname, filename, &g_aof_loaded);
    if (r < 0) return -1;
    g_aof_loaded_ok = true;
    if (r == 0) return 1;         /* nothing to load */
    off_t replay_bytes;
    int planned = plan_replay(&g_aof_loaded, dirname, &replay_bytes);
    if (planned < 0) return -1;
    if (planned > 0) presize(nworkers, replay_bytes);
    return 1;
}

int aof_reload_plan(const aof_manifest_t *m, const char *dirname)
{
    off_t replay_bytes;
    return plan_replay(m, dirname, &replay_bytes);
}

bool aof_replay_pending(void) { return replay.n > 0 || replay.rdb_base[0]; }

/* A file's size in bytes, 0 when it cannot be read (its load says why). */
static long long size_of(const char *dirname, const char *name)
{
    bool exists;
    off_t n = file_size(dirname, name, &exists);
    return n > 0 ? (long long)n : 0;
}

/* The base's and the incr files' sizes together, INFO's loading_total_bytes. */
static long long replay_total;

void aof_replay_begin(void)
{
    char filename[256], dirname[256];
    aof_conf_names(filename, sizeof filename, dirname, sizeof dirname);
    replay_total = replay.rdb_base[0] ? size_of(dirname, replay.rdb_base) : 0;
    for (int i = 0; i < replay.n; i++) replay_total += size_of(dirname, replay.names[i]);
    /* from here until aof_replay_end, clients get -LOADING and INFO loading:1 (the
     * RDB base's load leaves the refusal up) */
    rdb_load_hold_refusal(true);
    rdb_loading_begin_sync(replay_total, false, true);
}

void aof_replay_end(void)
{
    rdb_load_hold_refusal(false);
    rdb_loading_end_sync();
}

/* The RDB base, through the running workers as dump.rdb is loaded at
 * start (rdb_load_live_file): main parses, each worker builds its keys. */
static int load_rdb_base(const char *dirname)
{
    const char *name = replay.rdb_base;
    LOG_NOTICE("Reading RDB base file on AOF loading...");
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dirname, name);
    long long t0 = rt_mono_ms();
    if (rdb_load_live_file(path) != 0) {
        LOG_WARNING("Error reading the RDB base file %s, AOF loading aborted", name);
        return -1;
    }
    LOG_NOTICE("DB loaded from base file %s: %.3f seconds", name, (double)(rt_mono_ms() - t0) / 1000.0);
    replay.rdb_base[0] = '\0';
    return 0;
}

/* ---------------- replaying commands ---------------- */

/* Commands a worker is sent at once: few wake-ups, and a batch's arrays
 * (16 bytes an argument) stay small. */
#define BATCH_MAX 4096

typedef struct replayer {
    load_batch_t *batch[MAX_WORKERS];   /* each worker's next batch (NULL: none started) */
    load_batch_t *txn;            /* a transaction's commands, held until its EXEC */
    bool in_multi;
    int db;                       /* the file's last SELECT */
    long long now_ms;
    /* the last command name looked up, and what it resolved to (a file is mostly one command) */
    const uint8_t *last_name;
    size_t last_len;
    const cmd_def_t *last_cmd;
    long long done_before;        /* bytes of the files replayed before this one (INFO loading_loaded_bytes) */
    unsigned long ncmds;          /* commands parsed: the progress figure moves every 1,024 */
    /* the files' mappings: the batches point into them until the workers ran everything */
    int nmaps;
    const uint8_t *map[AOF_MAX_FILES + 1];
    size_t maplen[AOF_MAX_FILES + 1];
} replayer_t;

static void wait_workers(void);

static void batch_send(replayer_t *rp, int wi)
{
    if (!rp->batch[wi] || rp->batch[wi]->ncmds == 0) return;
    load_batch_post(wi, rp->batch[wi]);
    rp->batch[wi] = NULL;
}

static void batches_send(replayer_t *rp)
{
    for (int i = 0; i < workers_count(); i++) batch_send(rp, i);
}

/* argv's bytes are the file's mapping, kept until every worker ran its batches. */
static void batch_add(replayer_t *rp, int wi, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                      const size_t *argvlen, int key)
{
    if (!rp->batch[wi]) rp->batch[wi] = load_batch_new(rp->now_ms);
    load_batch_add(rp->batch[wi], cmd, argc, argv, argvlen, key);
    if (rp->batch[wi]->ncmds >= BATCH_MAX) batch_send(rp, wi);
}

/* The command named by argv[0] (argv[1]: its subcommand), or NULL. */
static const cmd_def_t *resolve(replayer_t *rp, int argc, const uint8_t **argv, const size_t *argvlen)
{
    if (rp->last_cmd && argvlen[0] == rp->last_len && !memcmp(argv[0], rp->last_name, rp->last_len))
        return rp->last_cmd;
    const cmd_def_t *cmd = cmd_lookup(argv[0], argvlen[0]);
    if (cmd && !cmd->handler && cmd->subcommands) {
        return argc >= 2 ? cmd_lookup_sub(cmd, argv[1], argvlen[1]) : NULL;   /* not remembered */
    }
    rp->last_name = argv[0];   /* in the file's mapping, as long as the file is replayed */
    rp->last_len = argvlen[0];
    rp->last_cmd = cmd;
    return cmd;
}

/* Resolves and sends one command. Returns 0, or -1 with why (an unknown
 * command stops the load, as in redis-server). */
static int apply_one(replayer_t *rp, int argc, const uint8_t **argv, const size_t *argvlen, char *why, size_t cap)
{
    const cmd_def_t *cmd = resolve(rp, argc, argv, argvlen);
    if (!cmd) {
        snprintf(why, cap, "Unknown command '%.*s'", (int)(argvlen[0] > 64 ? 64 : argvlen[0]), (const char *)argv[0]);
        return -1;
    }
    /* a handler reads the arguments its arity promises: in a batch past a short command's
     * last one are the next command's (7.0.15 reads past its argv and crashes) */
    if ((cmd->arity > 0 && argc != cmd->arity) || (cmd->arity < 0 && argc < -cmd->arity)) {
        snprintf(why, cap, "wrong number of arguments for '%.*s'", (int)(argvlen[0] > 64 ? 64 : argvlen[0]),
                 (const char *)argv[0]);
        return -1;
    }
    if (cmd->handler == cmd_select) {   /* every worker replays what follows in that database */
        long long db;
        if (argc != 2 || !str_to_ll(argv[1], argvlen[1], &db) || db < 0 || db >= wdb_count()) {
            snprintf(why, cap, "SELECT of a database this node does not have");
            return -1;
        }
        rp->db = (int)db;
        for (int i = 0; i < workers_count(); i++) batch_add(rp, i, cmd, argc, argv, argvlen, -1);
        return 0;
    }
    if (cmd->handler == cmd_swapdb) {   /* every worker after what came before (wdb.h) */
        batches_send(rp);
        if (!wdb_swap_apply(argc, argv, argvlen)) {
            snprintf(why, cap, "SWAPDB of databases this node does not have");
            return -1;
        }
        return 0;
    }
    if (cmd->exec == CMD_EXEC_FANOUT) {
        if (arg_is(argv[0], argvlen[0], "flushall") || arg_is(argv[0], argvlen[0], "flushdb")) {
            for (int i = 0; i < workers_count(); i++) batch_add(rp, i, cmd, argc, argv, argvlen, -1);
        }
        return 0;
    }
    if (cmd_keyless_write(cmd)) {   /* FUNCTION LOAD ...: once, on the first worker */
        batch_add(rp, 0, cmd, argc, argv, argvlen, -1);
        return 0;
    }
    if (cmd->exec != CMD_EXEC_KEYED || !cmd->handler) return 0;   /* nothing of the dataset */
    int pos[4];
    int nk = cmd_get_keys(cmd, argc, argv, argvlen, pos, 4);
    if (nk <= 0) return 0;
    int wi = worker_of_slot(slot_of_key(argv[pos[0]], argvlen[pos[0]]));
    if (workers_count() > 1) {   /* a standalone server's file may hold these in cluster mode too */
        queued_cmd_t q = { .cmd = cmd, .argc = argc, .argv = argv, .argvlen = (size_t *)argvlen };
        uint64_t mask = xcmd_workers_of(&q);
        if (mask & (mask - 1)) {          /* keys on several workers: run whole, the others parked */
            batches_send(rp);
            xcmd_apply(wi, rp->db, cmd, argc, argv, argvlen, rp->now_ms, true);
            return 0;
        }
    }
    batch_add(rp, wi, cmd, argc, argv, argvlen, pos[0]);
    return 0;
}

/* The transaction's commands point into the file's mapping, as batches' do. */
static void txn_keep(replayer_t *rp, int argc, const uint8_t **argv, const size_t *argvlen)
{
    if (!rp->txn) rp->txn = load_batch_new(rp->now_ms);
    load_batch_add(rp->txn, NULL, argc, argv, argvlen, -1);
}

static void txn_drop(replayer_t *rp)
{
    if (rp->txn) load_batch_clear(rp->txn);
    rp->in_multi = false;
}

/* Reads a decimal number ended by CRLF at p (< end). Returns the position
 * after the CRLF, NULL when the line is cut short, or (const uint8_t *)1
 * when it is not a number. */
static const uint8_t *read_num(const uint8_t *p, const uint8_t *end, long long *out)
{
    const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) return NULL;
    long long v = 0;
    const uint8_t *q = p;
    bool neg = q < nl && *q == '-';
    if (neg) q++;
    if (q == nl || (nl[-1] == '\r' && q == nl - 1)) return (const uint8_t *)1;
    for (; q < nl && *q != '\r'; q++) {
        if (*q < '0' || *q > '9' || v > (1LL << 50)) return (const uint8_t *)1;
        v = v * 10 + (*q - '0');
    }
    *out = neg ? -v : v;
    return nl + 1;
}

enum { PARSE_OK, PARSE_TORN, PARSE_BAD };

#define MAX_ARGS 1024

/* Replays one file's bytes. *valid gets the offset after the last command
 * that may stay (not inside an unfinished transaction). */
static int replay_bytes(replayer_t *rp, const uint8_t *data, size_t len, size_t *valid, char *why, size_t cap)
{
    const uint8_t *p = data, *end = data + len;
    const uint8_t *argv_s[MAX_ARGS];
    size_t argvlen_s[MAX_ARGS];
    size_t before_multi = 0;
    *valid = 0;
    while (p < end) {
        if (*p == '#') {                                   /* annotation (#TS:...) */
            const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl) return PARSE_TORN;
            p = nl + 1;
            if (!rp->in_multi) *valid = (size_t)(p - data);
            continue;
        }
        if (*p != '*') {
            snprintf(why, cap, "expected '*' at offset %zu", (size_t)(p - data));
            return PARSE_BAD;
        }
        size_t cmd_start = (size_t)(p - data);
        config_key_load_delay();   /* as 7.0.15, each loaded command waits key-load-delay */
        if ((++rp->ncmds & 1023) == 0) rdb_loading_progress(rp->done_before + (long long)cmd_start);
        long long argc;
        const uint8_t *q = read_num(p + 1, end, &argc);
        if (!q) return PARSE_TORN;
        if (q == (const uint8_t *)1 || argc < 1) {
            snprintf(why, cap, "bad argument count at offset %zu", cmd_start);
            return PARSE_BAD;
        }
        const uint8_t **argv = argv_s;
        size_t *argvlen = argvlen_s;
        bool heap = argc > MAX_ARGS;
        if (heap) {
            argv = xmalloc((size_t)argc * sizeof *argv);
            argvlen = xmalloc((size_t)argc * sizeof *argvlen);
        }
        int st = PARSE_OK;
        for (long long j = 0; j < argc && st == PARSE_OK; j++) {
            if (q >= end) { st = PARSE_TORN; break; }
            if (*q != '$') {
                snprintf(why, cap, "expected '$' at offset %zu", (size_t)(q - data));
                st = PARSE_BAD;
                break;
            }
            long long alen;
            const uint8_t *r = read_num(q + 1, end, &alen);
            if (!r) { st = PARSE_TORN; break; }
            if (r == (const uint8_t *)1 || alen < 0) {
                snprintf(why, cap, "bad bulk length at offset %zu", (size_t)(q - data));
                st = PARSE_BAD;
                break;
            }
            if ((size_t)(end - r) < (size_t)alen + 2) { st = PARSE_TORN; break; }
            argv[j] = r;
            argvlen[j] = (size_t)alen;
            q = r + alen + 2;
        }
        if (st != PARSE_OK) {
            if (heap) { free(argv); free(argvlen); }
            return st;
        }
        p = q;
        int rc = 0;
        if (arg_is(argv[0], argvlen[0], "multi")) {
            before_multi = *valid;
            txn_drop(rp);
            rp->in_multi = true;
        } else if (arg_is(argv[0], argvlen[0], "exec") && rp->in_multi) {
            rp->in_multi = false;
            for (int i = 0; rp->txn && i < rp->txn->ncmds && rc == 0; i++) {
                queued_cmd_t t = load_batch_cmd(rp->txn, i);
                rc = apply_one(rp, t.argc, t.argv, t.argvlen, why, cap);
            }
            txn_drop(rp);
        } else if (rp->in_multi) {
            txn_keep(rp, (int)argc, argv, argvlen);
        } else {
            rc = apply_one(rp, (int)argc, argv, argvlen, why, cap);
        }
        if (heap) { free(argv); free(argvlen); }
        if (rc != 0) {
            size_t l = strlen(why);
            if (l < cap) snprintf(why + l, cap - l, " at offset %zu", cmd_start);
            return PARSE_BAD;
        }
        if (!rp->in_multi) *valid = (size_t)(p - data);
    }
    if (rp->in_multi) {
        *valid = before_multi;
        txn_drop(rp);
        return PARSE_TORN;
    }
    return PARSE_OK;
}

static int replay_file(replayer_t *rp, const char *dirname, const char *name, bool last)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dirname, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        LOG_WARNING("Fatal error: can't open the append log file %s for reading: %s", name, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        LOG_WARNING("Fatal error: can't stat the append log file %s: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    if (st.st_size == 0) {
        close(fd);
        return 0;
    }
    long long t0 = rt_mono_ms();
    const uint8_t *data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (data == MAP_FAILED) {
        LOG_WARNING("Unrecoverable error reading the append only file %s: %s", name, strerror(errno));
        return -1;
    }
    rp->map[rp->nmaps] = data;    /* unmapped by aof_replay once the workers ran all */
    rp->maplen[rp->nmaps++] = (size_t)st.st_size;
    char why[300] = "";
    size_t valid = 0;
    int st_parse = replay_bytes(rp, data, (size_t)st.st_size, &valid, why, sizeof why);
    if (st_parse == PARSE_BAD) {
        LOG_WARNING("Bad file format reading the append only file %s (%s): make a backup of your AOF file, then "
                    "use ./redis-check-aof --fix <filename.manifest>", name, why);
        return -1;
    }
    if (st_parse == PARSE_TORN) {
        if (last && aof_conf_bool("aof-load-truncated")) {
            LOG_WARNING("!!! Warning: short read while loading the AOF file %s!!!", name);
            LOG_WARNING("!!! Truncating the AOF %s at offset %zu !!!", name, valid);
            /* the workers read the mapping: none of its pages may go before they are done */
            batches_send(rp);
            wait_workers();
            if (truncate(path, (off_t)valid) != 0) {
                LOG_WARNING("Error truncating the AOF file %s: %s", name, strerror(errno));
                return -1;
            }
            LOG_WARNING("AOF %s loaded anyway because aof-load-truncated is enabled", name);
        } else {
            if (!last) LOG_WARNING("Fatal error: the truncated file is not the last file");
            LOG_WARNING("Unexpected end of file reading the append only file %s at offset %zu (last whole command "
                        "ends at %zu). You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix "
                        "<filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration "
                        "option to yes and restart the server.", name, (size_t)st.st_size, valid);
            return -1;
        }
    }
    LOG_NOTICE("DB loaded from %s file %s: %.3f seconds", strstr(name, ".base.") ? "base" : "incr", name,
               (double)(rt_mono_ms() - t0) / 1000.0);
    return 0;
}

/* Waits until every worker ran what was sent to it before. */
static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static int done_left;

static void marker_on_worker(worker_t *w, rt_msg_t *msg)
{
    (void)w;
    free(msg);
    pthread_mutex_lock(&done_mu);
    if (--done_left == 0) pthread_cond_signal(&done_cv);
    pthread_mutex_unlock(&done_mu);
}

static void wait_workers(void)
{
    pthread_mutex_lock(&done_mu);
    done_left = workers_count();
    pthread_mutex_unlock(&done_mu);
    for (int i = 0; i < workers_count(); i++) {
        worker_run_t *m = xcalloc(1, sizeof *m);
        m->hdr.type = WMSG_RUN;
        m->fn = marker_on_worker;
        worker_post(i, &m->hdr);
    }
    pthread_mutex_lock(&done_mu);
    while (done_left > 0) pthread_cond_wait(&done_cv, &done_mu);
    pthread_mutex_unlock(&done_mu);
}

int aof_replay(void)
{
    char filename[256], dirname[256];
    aof_conf_names(filename, sizeof filename, dirname, sizeof dirname);
    /* no key expires until every command ran (keyspace.h): from the RDB base on, whose keys
     * past their TTL stay for the incr files' commands (the workers' cron runs meanwhile) */
    ks_set_loading(true);
    long long base = replay.rdb_base[0] ? size_of(dirname, replay.rdb_base) : 0;
    if (replay.rdb_base[0] && load_rdb_base(dirname) != 0) {
        ks_set_loading(false);
        return -1;
    }
    rdb_loading_progress(base);   /* the AOF's figures (aof_replay_begin) go on past the base */
    if (replay.n == 0) {
        ks_set_loading(false);
        return 0;
    }
    replayer_t *rp = xcalloc(1, sizeof *rp);
    rp->now_ms = rt_now_ms();
    rp->done_before = base;
    int rc = 0;
    for (int i = 0; i < replay.n && rc == 0; i++) {
        rc = replay_file(rp, dirname, replay.names[i], replay.last[i]);
        batches_send(rp);
        rp->done_before += size_of(dirname, replay.names[i]);
        rdb_loading_progress(rp->done_before);
    }
    for (int i = 0; i < MAX_WORKERS; i++) load_batch_free(rp->batch[i]);   /* not sent: the load failed */
    load_batch_free(rp->txn);
    wait_workers();
    ks_set_loading(false);
    for (int i = 0; i < rp->nmaps; i++) munmap((void *)rp->map[i], rp->maplen[i]);
    free(rp);
    replay.n = 0;
    if (rc == 0) LOG_NOTICE("DB loaded from append only file");
    return rc;
}

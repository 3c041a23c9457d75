/* aof_manifest.c - the AOF manifest (see aof.h): one line per file,
 * `file <name> seq <n> type b|h|i`, base first, then history, then the incr
 * files in order, as redis-server 7.0.15 writes and reads it.
 *
 * Must never: accept a manifest 7.0.15 would refuse, or replace the
 * manifest other than atomically.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/config/config.h"
#include "proto/splitargs.h"
#include "actors/persist/aof_internal.h"
#include "actors/persist/persister.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

void aof_conf_names(char *filename, size_t fcap, char *dirname, size_t dcap)
{
    if (config_get_by_name("appendfilename", filename, fcap) < 0 || !filename[0])
        snprintf(filename, fcap, "appendonly.aof");
    if (config_get_by_name("appenddirname", dirname, dcap) < 0 || !dirname[0])
        snprintf(dirname, dcap, "appendonlydir");
}

bool aof_conf_bool(const char *name)
{
    return aof_conf_num(name) != 0;
}

long long aof_conf_num(const char *name)
{
    /* The table's index of each name asked for, found once (config_find
     * walks the table): the writer asks on every handover. Relaxed: an
     * index is the same whoever finds it. */
    static struct { const char *name; _Atomic int idx; } cache[16];
    static _Atomic int ncache;
    int n = atomic_load_explicit(&ncache, memory_order_acquire);
    for (int k = 0; k < n; k++)
        if (cache[k].name == name) return config_get_num_at(atomic_load_explicit(&cache[k].idx, memory_order_relaxed));
    int i = config_find(name);
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    n = atomic_load_explicit(&ncache, memory_order_relaxed);
    if (n < 16) {
        cache[n].name = name;
        atomic_store_explicit(&cache[n].idx, i, memory_order_relaxed);
        atomic_store_explicit(&ncache, n + 1, memory_order_release);   /* publishes the entry */
    }
    pthread_mutex_unlock(&mu);
    return i < 0 ? 0 : config_get_num_at(i);
}

/* Splits one line into at most `max` space-separated words, in place. */
/* The words of one manifest line, read with Redis's quoting (7.0.15 quotes
 * a file name that holds a blank or a quote): each copied NUL-terminated
 * into store, which has room for the line plus one NUL per word. */
typedef struct {
    char **words;
    int n, max;
    char *store;
    size_t used;
    bool overflow;
} manifest_words_t;

static void take_word(void *arg, const char *word, size_t len)
{
    manifest_words_t *mw = arg;
    if (mw->n == mw->max) {
        mw->overflow = true;
        return;
    }
    char *dst = mw->store + mw->used;
    memcpy(dst, word, len);
    dst[len] = '\0';
    mw->used += len + 1;
    mw->words[mw->n++] = dst;
}

static int split_words(const char *line, size_t len, char *scratch, char *store, char **words, int max)
{
    manifest_words_t mw = { .words = words, .max = max, .store = store };
    if (!splitargs((const uint8_t *)line, len, scratch, take_word, &mw) || mw.overflow) return -1;
    return mw.n;
}

int aof_manifest_parse(const char *text, size_t len, aof_manifest_t *m, char *err, size_t errcap, int *line)
{
    memset(m, 0, sizeof *m);
    *line = 0;
    long long maxseq = 0;
    size_t pos = 0;
    int linenum = 0;
    if (len == 0) {
        snprintf(err, errcap, "Found an empty AOF manifest");
        return -1;
    }
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (text + pos)) : len - pos;
        char buf[1100];
        linenum++;
        *line = linenum;
        if (text[pos] == '#') {
            pos += ll + 1;
            continue;
        }
        if (!nl || ll > 1024) {
            snprintf(err, errcap, "The AOF manifest file contains too long line");
            return -1;
        }
        memcpy(buf, text + pos, ll);
        buf[ll] = '\0';
        while (ll > 0 && (buf[ll - 1] == '\r' || buf[ll - 1] == ' ' || buf[ll - 1] == '\t')) buf[--ll] = '\0';
        pos += (size_t)(nl - (text + pos)) + 1;
        char *w[16];
        char scratch[1100], store[1100 + 16];
        int argc = split_words(buf, ll, scratch, store, w, 16);
        if (argc < 6 || argc % 2) {
            snprintf(err, errcap, "Invalid AOF manifest file format");
            return -1;
        }
        aof_file_t f = { .seq = 0 };
        for (int i = 0; i < argc; i += 2) {
            if (!strcasecmp(w[i], "file")) {
                if (strchr(w[i + 1], '/') || strlen(w[i + 1]) >= sizeof f.name) {
                    snprintf(err, errcap, "File can't be a path, just a filename");
                    return -1;
                }
                snprintf(f.name, sizeof f.name, "%s", w[i + 1]);
            } else if (!strcasecmp(w[i], "seq")) {
                f.seq = atoll(w[i + 1]);
            } else if (!strcasecmp(w[i], "type")) {
                f.type = w[i + 1][0];
            }
        }
        if (!f.name[0] || !f.seq || !f.type) {
            snprintf(err, errcap, "Invalid AOF manifest file format");
            return -1;
        }
        if (f.type == 'b') {
            if (m->has_base) {
                snprintf(err, errcap, "Found duplicate base file information");
                return -1;
            }
            m->has_base = true;
            m->base = f;
            m->base_seq = f.seq;
        } else if (f.type == 'h') {
            if (m->nhist == AOF_MAX_FILES) {
                snprintf(err, errcap, "Too many AOF history files");
                return -1;
            }
            m->hist[m->nhist++] = f;
        } else if (f.type == 'i') {
            if (f.seq <= maxseq) {
                snprintf(err, errcap, "Found a non-monotonic sequence number");
                return -1;
            }
            if (m->nincr == AOF_MAX_FILES) {
                snprintf(err, errcap, "Too many AOF incr files");
                return -1;
            }
            m->incr[m->nincr++] = f;
            m->incr_seq = maxseq = f.seq;
        } else {
            snprintf(err, errcap, "Unknown AOF file type");
            return -1;
        }
    }
    *line = 0;
    return 0;
}

static void add_line(char **buf, size_t *len, size_t *cap, const aof_file_t *f)
{
    char line[1200], name[1100];
    /* quoted only when it must be, as 7.0.15 writes it */
    size_t nl = strlen(f->name);
    if (splitargs_needs_repr(f->name, nl)) splitargs_repr(f->name, nl, name, sizeof name);
    else snprintf(name, sizeof name, "%s", f->name);
    int n = snprintf(line, sizeof line, "file %s seq %lld type %c\n", name, f->seq, f->type);
    if (*len + (size_t)n + 1 > *cap) {
        *cap = (*len + (size_t)n + 1) * 2;
        *buf = xrealloc(*buf, *cap);
    }
    memcpy(*buf + *len, line, (size_t)n + 1);
    *len += (size_t)n;
}

char *aof_manifest_format(const aof_manifest_t *m, size_t *len)
{
    size_t cap = 256;
    char *buf = xmalloc(cap);
    buf[0] = '\0';
    *len = 0;
    if (m->has_base) add_line(&buf, len, &cap, &m->base);
    for (int i = 0; i < m->nhist; i++) add_line(&buf, len, &cap, &m->hist[i]);
    for (int i = 0; i < m->nincr; i++) add_line(&buf, len, &cap, &m->incr[i]);
    return buf;
}

int aof_manifest_read(const char *dirname, const char *filename, aof_manifest_t *m)
{
    memset(m, 0, sizeof *m);
    struct stat st;
    if (stat(dirname, &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
    char path[1400];
    snprintf(path, sizeof path, "%s/%s.manifest", dirname, filename);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        LOG_WARNING("Fatal error: can't open the AOF manifest file %s for reading: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *text = xmalloc(cap);
    for (;;) {
        if (len == cap) text = xrealloc(text, cap *= 2);
        ssize_t n = read(fd, text + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            LOG_WARNING("Fatal error: can't read the AOF manifest file %s: %s", path, strerror(errno));
            close(fd);
            free(text);
            return -1;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    char err[200];
    int line = 0;
    int rc = aof_manifest_parse(text, len, m, err, sizeof err, &line);
    free(text);
    if (rc != 0) {
        LOG_WARNING("*** FATAL AOF MANIFEST FILE ERROR ***");
        if (line) LOG_WARNING("Reading the manifest file, at line %d", line);
        LOG_WARNING("%s", err);
        return -1;
    }
    return 1;
}

int aof_manifest_persist(const char *dirname, const char *filename, const aof_manifest_t *m)
{
    size_t len;
    char *text = aof_manifest_format(m, &len);
    char path[1400];
    snprintf(path, sizeof path, "%s/%s.manifest", dirname, filename);
    int rc = persister_write_file(path, text, len);
    free(text);
    return rc;
}

const char *aof_manifest_new_base(aof_manifest_t *m, const char *filename, bool rdb)
{
    if (m->has_base && m->nhist < AOF_MAX_FILES) {
        memmove(&m->hist[1], &m->hist[0], sizeof m->hist[0] * (size_t)m->nhist);
        m->hist[0] = m->base;
        m->hist[0].type = 'h';
        m->nhist++;
    }
    m->has_base = true;
    m->base.seq = ++m->base_seq;
    m->base.type = 'b';
    snprintf(m->base.name, sizeof m->base.name, "%s.%lld.base.%s", filename, m->base.seq, rdb ? "rdb" : "aof");
    return m->base.name;
}

const char *aof_manifest_new_incr(aof_manifest_t *m, const char *filename)
{
    if (m->nincr == AOF_MAX_FILES) return NULL;
    aof_file_t *f = &m->incr[m->nincr++];
    f->seq = ++m->incr_seq;
    f->type = 'i';
    snprintf(f->name, sizeof f->name, "%s.%lld.incr.aof", filename, f->seq);
    return f->name;
}

void aof_manifest_retire_incr_before(aof_manifest_t *m, long long first_kept)
{
    int keep = 0;
    for (int i = 0; i < m->nincr; i++) {
        if (m->incr[i].seq < first_kept) {
            if (m->nhist < AOF_MAX_FILES) {
                m->hist[m->nhist] = m->incr[i];
                m->hist[m->nhist++].type = 'h';
            }
        } else {
            m->incr[keep++] = m->incr[i];
        }
    }
    m->nincr = keep;
}

void aof_manifest_drop_history(aof_manifest_t *m, const char *dirname)
{
    if (aof_conf_bool("aof-disable-auto-gc")) return;
    for (int i = 0; i < m->nhist; i++) {
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dirname, m->hist[i].name);
        if (unlink(path) == 0 || errno == ENOENT)
            LOG_NOTICE("Removing the history file %s in the background", m->hist[i].name);
    }
    m->nhist = 0;
}

int aof_write_whole_file(const char *dirname, const char *name, const uint8_t *const *parts, const size_t *lens,
                         int nparts)
{
    char tmp[1400], path[1400];
    snprintf(tmp, sizeof tmp, "%s/temp-rewriteaof-%d-%s", dirname, (int)getpid(), name);
    snprintf(path, sizeof path, "%s/%s", dirname, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return errno;
    for (int i = 0; i < nparts; i++) {
        size_t off = 0;
        while (off < lens[i]) {
            ssize_t n = write(fd, parts[i] + off, lens[i] - off);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                int e = n < 0 ? errno : ENOSPC;
                close(fd);
                unlink(tmp);
                return e;
            }
            off += (size_t)n;
        }
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return e;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return e;
    }
    int dfd = open(dirname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

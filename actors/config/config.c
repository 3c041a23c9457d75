/* config.c - the configuration value store: parsing and validating one
 * directive's value, formatting it as CONFIG GET shows it, the typed
 * getters other modules call, and the change-notification table.
 *
 * Numbers (bool, int, memory, enum) are C11 atomics so that any thread reads
 * them without a lock; strings are guarded by cfg_lock and only ever copied
 * out. Loading (config_load.c), the CONFIG commands (config_cmd.c) and
 * REWRITE (config_rewrite.c) sit on top of this file.
 *
 * Never: exit(), log, or hand out a pointer into the store.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "actors/config/config_internal.h"
#include "proto/bus.h"
#include "proto/strnum.h"
#include "runtime/xmalloc.h"

#define CFG_MAX 256

/* Relaxed loads and stores are enough: each directive is one independent
 * word, and nobody derives a decision from two values read together. */
static _Atomic long long cfg_num[CFG_MAX];
static char *cfg_str[CFG_MAX];                  /* guarded by cfg_lock */
/* Bumped after any string directive changes (under cfg_lock): a reader that
 * keeps a copy of one reads it again only when this moved. */
static _Atomic unsigned long long cfg_str_gen = 1;
pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static long long worker_threads_default = 1;
bool cfg_save_seen_in_file;                     /* load thread only */

/* Table positions of the two debug delays, found once at reset (the
 * single-threaded load) so that the per-key calls cost one relaxed load. */
static int key_load_delay_idx = -1, key_save_delay_idx = -1;
static int hll_sparse_max_idx = -1;     /* hll-sparse-max-bytes, found by name at reset */

static struct { config_change_fn fn; void *arg; } subscribers[16];
static int subscriber_count;                    /* guarded by cfg_lock */

/* Owned copy of s, or NULL for NULL. */
static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static long long online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    if (n > 64) n = 64;
    return n;
}

void config_reset_defaults(void)
{
    _Static_assert(CONFIG_HOT_COUNT < CFG_MAX, "hot ids fit the store");
    if (cfg_table_len > CFG_MAX) abort();      /* grow CFG_MAX with the table */
    for (int i = 0; i < cfg_table_len; i++)
        if (!cfg_table[i].name) abort();        /* an enum config_id without its table entry */
    worker_threads_default = online_cpus();
    pthread_mutex_lock(&cfg_lock);
    for (int i = 0; i < cfg_table_len; i++) {
        const cfg_def_t *d = &cfg_table[i];
        atomic_store_explicit(&cfg_num[i], cfg_default_num(i), memory_order_relaxed);
        free(cfg_str[i]);
        cfg_str[i] = (d->kind == CK_STR || d->kind == CK_SPECIAL) ? dup_or_null(d->def_str) : NULL;
    }
    /* release: a reader that sees the new number reads the strings after these stores */
    atomic_fetch_add_explicit(&cfg_str_gen, 1, memory_order_release);
    pthread_mutex_unlock(&cfg_lock);
    cfg_save_seen_in_file = false;
    cfg_forget_path();
    key_load_delay_idx = cfg_lookup("key-load-delay", 14, NULL);
    key_save_delay_idx = cfg_lookup("rdb-key-save-delay", 18, NULL);
    hll_sparse_max_idx = cfg_lookup("hll-sparse-max-bytes", 20, NULL);
}

long long cfg_default_num(int i)
{
    if (cfg_table[i].flags & CF_DYN_DEFAULT) return worker_threads_default;
    return cfg_table[i].def;
}

long long cfg_value_num(int i)
{
    return atomic_load_explicit(&cfg_num[i], memory_order_relaxed);
}

char *cfg_value_strdup(int i)
{
    pthread_mutex_lock(&cfg_lock);
    char *s = dup_or_null(cfg_str[i]);
    pthread_mutex_unlock(&cfg_lock);
    return s;
}

/* Stores a staged value; takes ownership of st->str. Returns true if the
 * value changed. Caller holds cfg_lock. */
bool cfg_store_locked(int i, cfg_staged_t *st)
{
    const cfg_def_t *d = &cfg_table[i];
    if (d->kind == CK_STR || d->kind == CK_SPECIAL) {
        char *old = cfg_str[i];
        bool changed = !((old == NULL && st->str == NULL) ||
                         (old && st->str && strcmp(old, st->str) == 0));
        cfg_str[i] = st->str;
        st->str = NULL;
        free(old);
        /* release: as in config_reset_defaults */
        if (changed) atomic_fetch_add_explicit(&cfg_str_gen, 1, memory_order_release);
        return changed;
    }
    long long old = atomic_exchange_explicit(&cfg_num[i], st->num, memory_order_relaxed);
    return old != st->num;
}

/* ---- value parsing ---- */

static const char *set_err(char *errbuf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static const char *set_err(char *errbuf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, cap, fmt, ap);
    va_end(ap);
    return errbuf;
}

static int parse_num(const cfg_def_t *d, const char *v, long long *out, const char **err, char *eb, size_t ecap)
{
    long long ll = 0;
    int ok = 0;
    if (d->flags & CF_MEMORY) {
        unsigned long long u;
        if (cfg_memtoull(v, &u)) { ll = (long long)u; ok = 1; }
    }
    size_t len = strlen(v);
    if (!ok && (d->flags & CF_PERCENT) && len > 1 && v[len - 1] == '%' &&
        str_to_ll(v, len - 1, &ll) && ll >= 0) {
        ll = -ll;                                  /* percentages are stored negative */
        ok = 1;
    }
    if (!ok && (d->flags & CF_OCTAL) && v[0] >= '0' && v[0] <= '7') {   /* no sign, no spaces */
        char *end;
        errno = 0;
        ll = strtoll(v, &end, 8);
        if (errno == 0 && *end == '\0') ok = 1;
    }
    if (!ok && !(d->flags & (CF_MEMORY | CF_PERCENT | CF_OCTAL)) && str_to_ll(v, len, &ll)) ok = 1;
    if (!ok) {
        if ((d->flags & CF_MEMORY) && (d->flags & CF_PERCENT)) *err = "argument must be a memory or percent value";
        else if (d->flags & CF_MEMORY) *err = "argument must be a memory value";
        else if (d->flags & CF_OCTAL) *err = "argument couldn't be parsed as an octal number";
        else *err = "argument couldn't be parsed into an integer";
        return -1;
    }
    if (d->flags & CF_UNSIGNED) {
        unsigned long long u = (unsigned long long)ll, lo = (unsigned long long)d->min, hi = (unsigned long long)d->max;
        if (u < lo || u > hi) {
            *err = (d->flags & CF_OCTAL)
                ? set_err(eb, ecap, "argument must be between %llo and %llo inclusive", lo, hi)
                : set_err(eb, ecap, "argument must be between %llu and %llu inclusive", lo, hi);
            return -1;
        }
    } else if ((d->flags & CF_PERCENT) && ll < 0) {
        if (ll < d->min) {
            *err = set_err(eb, ecap, "percentage argument must be less or equal to %lld", -d->min);
            return -1;
        }
    } else if (ll < d->min || ll > d->max) {
        *err = set_err(eb, ecap, "argument must be between %lld and %lld inclusive", d->min, d->max);
        return -1;
    }
    /* Values Redis accepts but then adjusts, so CONFIG GET shows the adjusted one. */
    if (!strcmp(d->name, "hz")) { if (ll < 1) ll = 1; if (ll > 500) ll = 500; }
    if (!strcmp(d->name, "repl-backlog-size") && ll < 16 * 1024) ll = 16 * 1024;
    *out = ll;
    return 0;
}

static int parse_enum(const cfg_def_t *d, char **argv, int argc, long long *out, const char **err, char *eb, size_t ecap)
{
    bool flags = (d->flags & CF_MULTI_ARG) != 0;
    int value = 0;
    bool bad = argc == 0 || (!flags && argc != 1);
    for (int a = 0; a < argc && !bad; a++) {
        bool matched = false;
        for (const cfg_enum_item_t *it = d->items; it->name; it++) {
            if (!strcasecmp(argv[a], it->name)) {
                if (flags) value |= it->value; else value = it->value;
                matched = true;
                if (!flags) break;
            }
        }
        if (!matched) bad = true;
    }
    if (bad) {
        cfg_sb_t sb = {0};
        cfg_sb_adds(&sb, "argument(s) must be one of the following: ");
        for (const cfg_enum_item_t *it = d->items; it->name; it++) {
            if (it != d->items) cfg_sb_adds(&sb, ", ");
            cfg_sb_adds(&sb, it->name);
        }
        *err = set_err(eb, ecap, "%s", sb.s);
        free(sb.s);
        return -1;
    }
    if (flags && (value & 1) && (value & 2)) {      /* shutdown-on-sig*: save and nosave */
        *err = "shutdown options SAVE and NOSAVE can't be used simultaneously";
        return -1;
    }
    *out = value;
    return 0;
}

static int parse_str(const cfg_def_t *d, const char *v, char **out, const char **err, char *eb, size_t ecap)
{
    if (d->flags & CF_HOSTNAME) {
        if (strlen(v) >= 256) { *err = "Hostnames must be less than 256 characters"; return -1; }
        for (const char *p = v; *p; p++) {
            char c = *p;
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
                *err = "Hostnames may only contain alphanumeric characters, hyphens or dots";
                return -1;
            }
        }
    }
    if ((d->flags & CF_NONEMPTY) && !*v) {
        *err = set_err(eb, ecap, "%s can't be empty", d->name);
        return -1;
    }
    if ((d->flags & CF_BASENAME) && (strchr(v, '/') || strchr(v, '\\'))) {
        *err = set_err(eb, ecap, "%s can't be a path, just a %s", d->name,
                       strcmp(d->name, "appenddirname") ? "filename" : "dirname");
        return -1;
    }
    *out = ((d->flags & CF_EMPTY_NULL) && !*v) ? NULL : dup_or_null(v);
    return 0;
}

/* notify-keyspace-events: the class letters Redis knows, and the order in
 * which it prints them back ('A' stands for g$lshzxetd). */
static int notify_parse(const char *s)
{
    static const char letters[] = "g$lshzxeKEtmdnA";
    int flags = 0;
    for (; *s; s++) {
        const char *p = strchr(letters, *s);
        if (!p) return -1;
        flags |= 1 << (p - letters);
    }
    return flags;
}

static void notify_format(int flags, cfg_sb_t *sb)
{
    /* bit i = letters[i] of notify_parse; 'A' (bit 14) expands to these: */
    const int all = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) |
                    (1 << 6) | (1 << 7) | (1 << 10) | (1 << 12);
    if (flags & (1 << 14)) flags |= all;
    if ((flags & all) == all) {
        cfg_sb_adds(sb, "A");
    } else {
        static const char order[] = "g$lshzxetdn";
        static const int bit[] = {0, 1, 2, 3, 4, 5, 6, 7, 10, 12, 13};
        for (int i = 0; order[i]; i++)
            if (flags & (1 << bit[i])) cfg_sb_add(sb, &order[i], 1);
    }
    if (flags & (1 << 8)) cfg_sb_adds(sb, "K");
    if (flags & (1 << 9)) cfg_sb_adds(sb, "E");
    if (flags & (1 << 11)) cfg_sb_adds(sb, "m");
}

/* Redis's string2d: the whole string is a number, no spaces, not NaN. */
static int parse_double(const char *s, double *out)
{
    if (!*s || isspace((unsigned char)s[0])) return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || v == 0)) || isnan(v)) return 0;
    *out = v;
    return 1;
}

/* The parsers of the directives with a shape of their own: each appends the
 * stored form of argv to sb and returns NULL, or returns the error text. */

static const char *parse_dir(char **argv, int argc, cfg_sb_t *sb, char *eb, size_t ecap)
{
    if (argc != 1) return "wrong number of arguments";
    if (chdir(argv[0]) == -1) return set_err(eb, ecap, "%s", strerror(errno));
    /* Kept as an absolute path: savers open it (config_dir_open) instead of
     * trusting the working directory, which the next SET may move. */
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return set_err(eb, ecap, "%s", strerror(errno));
    cfg_sb_adds(sb, cwd);
    return NULL;
}

static const char *parse_save(int i, char **argv, int argc, bool in_file, cfg_sb_t *sb)
{
    if (argc == 1 && !argv[0][0]) argc = 0;
    if (argc & 1) return "Invalid save parameters";
    /* Strictly: 7.0.15 reads these with strtoll, so "99999999999999999999"
     * silently became LLONG_MAX; here it is refused with Redis's words. */
    long long *vals = xcalloc((size_t)argc + 1, sizeof *vals);
    for (int a = 0; a < argc; a++) {
        if (!str_to_ll_z(argv[a], &vals[a]) || ((a & 1) == 0 && vals[a] < 1) || ((a & 1) == 1 && vals[a] < 0)) {
            free(vals);
            return "Invalid save parameters";
        }
    }
    /* In a file, save lines accumulate: the first one replaces the defaults,
     * later ones add to it; `save ""` clears. */
    if (in_file && cfg_save_seen_in_file && argc > 0) {
        char *cur = cfg_value_strdup(i);
        if (cur && *cur) cfg_sb_adds(sb, cur);
        free(cur);
    }
    for (int a = 0; a < argc; a += 2)
        cfg_sb_addf(sb, "%s%lld %lld", sb->len ? " " : "", vals[a], vals[a + 1]);
    free(vals);
    return NULL;
}

static const char *parse_obuf(char **argv, int argc, cfg_sb_t *sb)
{
    unsigned long long hard[3], soft[3];
    long long secs[3];
    if (argc % 4) return "Wrong number of arguments in buffer limit configuration.";
    for (int c = 0; c < 3; c++)
        config_obuf_limit(c == 0 ? "normal" : c == 1 ? "slave" : "pubsub", &hard[c], &soft[c], &secs[c]);
    for (int a = 0; a < argc; a += 4) {
        int c;
        if (!strcasecmp(argv[a], "normal")) c = 0;
        else if (!strcasecmp(argv[a], "slave") || !strcasecmp(argv[a], "replica")) c = 1;
        else if (!strcasecmp(argv[a], "pubsub")) c = 2;
        else return "Invalid client class specified in buffer limit configuration.";
        long long s;
        if (!cfg_memtoull(argv[a + 1], &hard[c]) || !cfg_memtoull(argv[a + 2], &soft[c]) ||
            !str_to_ll_z(argv[a + 3], &s) || s < 0)
            return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
        secs[c] = s;
    }
    cfg_sb_addf(sb, "normal %llu %llu %lld slave %llu %llu %lld pubsub %llu %llu %lld",
                hard[0], soft[0], secs[0], hard[1], soft[1], secs[1], hard[2], soft[2], secs[2]);
    return NULL;
}

static const char *parse_latency_pct(char **argv, int argc, cfg_sb_t *sb)
{
    if (argc == 1 && !argv[0][0]) argc = 0;
    for (int a = 0; a < argc; a++) {
        double v;
        if (!parse_double(argv[a], &v)) return "Invalid latency-tracking-info-percentiles parameters";
        if (v > 100.0 || v < 0.0) return "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
        char fb[64];
        int n = snprintf(fb, sizeof fb, "%f", v);
        while (n > 1 && fb[n - 1] == '0') fb[--n] = '\0';   /* "99.900000" -> "99.9" */
        if (n > 1 && fb[n - 1] == '.') fb[--n] = '\0';
        cfg_sb_addf(sb, "%s%s", a ? " " : "", fb);
    }
    return NULL;
}

static int parse_special(int i, char **argv, int argc, bool in_file, cfg_staged_t *out,
                         const char **err, char *eb, size_t ecap)
{
    const cfg_def_t *d = &cfg_table[i];
    cfg_sb_t sb = {0};
    cfg_sb_add(&sb, "", 0);
    const char *e = NULL;
    switch (d->special) {
    case SP_DIR:
        e = parse_dir(argv, argc, &sb, eb, ecap);
        break;
    case SP_SAVE:
        e = parse_save(i, argv, argc, in_file, &sb);
        break;
    case SP_OBUF:
        e = parse_obuf(argv, argc, &sb);
        break;
    case SP_OOM_VALUES:
        if (argc != 3) { e = "wrong number of arguments"; break; }
        for (int a = 0; a < 3 && !e; a++) {
            long long v;
            if (!str_to_ll_z(argv[a], &v) || v < -2000 || v > 2000)
                e = "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
            else cfg_sb_addf(&sb, "%s%lld", a ? " " : "", v);
        }
        break;
    case SP_NOTIFY: {
        if (argc != 1) { e = "wrong number of arguments"; break; }
        int flags = notify_parse(argv[0]);
        if (flags < 0) e = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
        else notify_format(flags, &sb);
        break;
    }
    case SP_BIND:
        if (argc > CONFIG_BIND_MAX) { e = "Too many bind addresses specified."; break; }
        if (argc == 1 && !argv[0][0]) argc = 0;
        for (int a = 0; a < argc && !e; a++) {
            /* An empty or oversized address cannot be bound (Redis finds out
             * by trying; we refuse it up front with the same words). */
            if (!argv[a][0] || strlen(argv[a]) >= CONFIG_ADDR_MAX) e = "Failed to bind to specified addresses.";
            else cfg_sb_addf(&sb, "%s%s", a ? " " : "", argv[a]);
        }
        break;
    case SP_REPLICAOF: {
        if (argc != 2) { e = "wrong number of arguments"; break; }
        if (!strcasecmp(argv[0], "no") && !strcasecmp(argv[1], "one")) break;
        long long port;
        if (!str_to_ll_z(argv[1], &port) || port < 0 || port > 65535) e = "Invalid master port";
        else cfg_sb_addf(&sb, "%s %lld", argv[0], port);
        break;
    }
    case SP_LATENCY_PCT:
        e = parse_latency_pct(argv, argc, &sb);
        break;
    case SP_NONE:
        break;
    }
    if (e) {
        *err = e;
        free(sb.s);
        return -1;
    }
    out->str = sb.s;
    return 0;
}

int cfg_parse_value(int i, char **argv, int argc, bool in_file, cfg_staged_t *out,
                    const char **err, char *errbuf, size_t errcap)
{
    const cfg_def_t *d = &cfg_table[i];
    out->num = 0;
    out->str = NULL;
    if (d->kind != CK_SPECIAL && d->kind != CK_ENUM && argc != 1) {
        *err = "wrong number of arguments";
        return -1;
    }
    switch (d->kind) {
    case CK_BOOL:
        if (!strcasecmp(argv[0], "yes")) out->num = 1;
        else if (!strcasecmp(argv[0], "no")) out->num = 0;
        else { *err = "argument must be 'yes' or 'no'"; return -1; }
        /* Like the packaged redis-server (system jemalloc), we cannot defragment. */
        if (out->num && !strcmp(d->name, "activedefrag")) {
            *err = "Active defragmentation cannot be enabled: it requires a Redis server compiled "
                   "with a modified Jemalloc like the one shipped by default with the Redis source distribution";
            return -1;
        }
        return 0;
    case CK_NUM:
        return parse_num(d, argv[0], &out->num, err, errbuf, errcap);
    case CK_ENUM:
        return parse_enum(d, argv, argc, &out->num, err, errbuf, errcap);
    case CK_STR:
        return parse_str(d, argv[0], &out->str, err, errbuf, errcap);
    case CK_SPECIAL:
        return parse_special(i, argv, argc, in_file, out, err, errbuf, errcap);
    }
    return -1;
}

/* ---- formatting ---- */

void cfg_value_format(int i, cfg_sb_t *out)
{
    const cfg_def_t *d = &cfg_table[i];
    long long v = cfg_value_num(i);
    switch (d->kind) {
    case CK_BOOL:
        cfg_sb_adds(out, v ? "yes" : "no");
        return;
    case CK_NUM:
        if ((d->flags & CF_PERCENT) && v < 0) cfg_sb_addf(out, "%lld%%", -v);
        else if (d->flags & CF_MEMORY) cfg_sb_addf(out, "%llu", (unsigned long long)v);
        else if (d->flags & CF_OCTAL) cfg_sb_addf(out, "%llo", (unsigned long long)v);
        else cfg_sb_addf(out, "%lld", v);
        return;
    case CK_ENUM: {
        for (const cfg_enum_item_t *it = d->items; it->name; it++)
            if (it->value == v) { cfg_sb_adds(out, it->name); return; }
        if (!(d->flags & CF_MULTI_ARG)) { cfg_sb_adds(out, "unknown"); return; }
        long long rest = v;
        size_t start = out->len;
        for (const cfg_enum_item_t *it = d->items; it->name; it++) {
            if (it->value && (rest & it->value) == it->value) {
                cfg_sb_addf(out, "%s%s", out->len > start ? " " : "", it->name);
                rest &= ~(long long)it->value;
            }
        }
        if (rest || out->len == start) { out->len = start; out->s[start] = '\0'; cfg_sb_adds(out, "unknown"); }
        return;
    }
    case CK_STR:
    case CK_SPECIAL:
        pthread_mutex_lock(&cfg_lock);
        if (d->special == SP_DIR && !cfg_str[i]) {      /* never set: where we were started */
            pthread_mutex_unlock(&cfg_lock);
            char cwd[PATH_MAX];
            cfg_sb_adds(out, getcwd(cwd, sizeof cwd) ? cwd : "");
            return;
        }
        cfg_sb_adds(out, cfg_str[i] ? cfg_str[i] : "");
        pthread_mutex_unlock(&cfg_lock);
        return;
    }
}

/* ---- getters ---- */

long long config_get_num(enum config_id id) { return cfg_value_num((int)id); }

int config_find(const char *name) { return cfg_lookup(name, strlen(name), NULL); }

long long config_get_num_at(int index) { return index < 0 ? 0 : cfg_value_num(index); }

long long config_num_cached(_Atomic int *idx, const char *name)
{
    /* relaxed: every thread that looks the name up finds the same index */
    int i = atomic_load_explicit(idx, memory_order_relaxed);
    if (i == CONFIG_IDX_UNSET) {
        i = config_find(name);
        atomic_store_explicit(idx, i, memory_order_relaxed);
    }
    return config_get_num_at(i);
}

size_t config_get_str(enum config_id id, char *buf, size_t cap)
{
    cfg_sb_t sb = {0};
    cfg_sb_add(&sb, "", 0);
    cfg_value_format((int)id, &sb);
    if (cap) snprintf(buf, cap, "%s", sb.s);
    size_t n = sb.len;
    free(sb.s);
    return n;
}

unsigned long long config_str_generation(void)
{
    /* acquire: pairs with the bump after a store, so a string read after this
     * load is at least as new as the generation returned */
    return atomic_load_explicit(&cfg_str_gen, memory_order_acquire);
}

char *config_dup_str(enum config_id id)
{
    cfg_sb_t sb = {0};
    cfg_sb_add(&sb, "", 0);
    cfg_value_format((int)id, &sb);
    return sb.s;
}

long config_get_by_name(const char *name, char *buf, size_t cap)
{
    int i = cfg_lookup(name, strlen(name), NULL);
    if (i < 0) return -1;
    return (long)config_get_str((enum config_id)i, buf, cap);
}

/* Redis's debugDelay: a positive value sleeps that many microseconds; -N
 * sleeps one microsecond with probability 1/N (sleeps shorter than a
 * context switch cannot be had any other way). */
static void debug_delay(int idx)
{
    if (idx < 0) return;
    long long us = cfg_value_num(idx);
    if (us == 0) return;
    if (us < 0) us = (random() % -us) == 0 ? 1 : 0;
    if (us) usleep((useconds_t)(us > 1000000000LL ? 1000000000LL : us));
}

void config_key_load_delay(void) { debug_delay(key_load_delay_idx); }
void config_key_save_delay(void) { debug_delay(key_save_delay_idx); }

long long config_hll_sparse_max_bytes(void)
{
    return hll_sparse_max_idx < 0 ? 3000 : cfg_value_num(hll_sparse_max_idx);
}

int config_dir_open(void)
{
    /* Under the lock, so the directory opened is the one `dir` names at
     * this instant, never half of a concurrent CONFIG SET dir. */
    pthread_mutex_lock(&cfg_lock);
    const char *p = cfg_str[CONFIG_DIR] ? cfg_str[CONFIG_DIR] : ".";
    int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int e = errno;
    pthread_mutex_unlock(&cfg_lock);
    errno = e;
    return fd;
}

int config_port(void) { return (int)cfg_value_num(CONFIG_PORT); }
bool config_cluster_enabled(void) { return cfg_value_num(CONFIG_CLUSTER_ENABLED) != 0; }
size_t config_cluster_config_file(char *b, size_t c) { return config_get_str(CONFIG_CLUSTER_CONFIG_FILE, b, c); }
long long config_cluster_node_timeout(void) { return cfg_value_num(CONFIG_CLUSTER_NODE_TIMEOUT); }
int config_cluster_port(void) { return (int)cfg_value_num(CONFIG_CLUSTER_PORT); }
/* With tls-cluster the TLS port is the node's port on the bus, so the bus
 * port's default follows it (7.0.15's deriveAnnouncedPorts). */
int config_cluster_bus_port(void)
{
    int p = config_cluster_port();
    int base = config_get_num(CONFIG_TLS_CLUSTER) ? (int)config_get_num(CONFIG_TLS_PORT) : config_port();
    return p ? p : base + BUS_PORT_OFFSET;
}

void config_cluster_announced_ports(int *port, int *pport, int *cport)
{
    bool tls = config_get_num(CONFIG_TLS_CLUSTER) != 0;
    *port = tls ? (int)config_get_num(CONFIG_TLS_PORT) : config_port();
    *pport = tls ? config_port() : 0;
    int announce_tls = config_cluster_announce_tls_port(), announce = config_cluster_announce_port();
    if (tls && announce_tls) {
        *port = announce_tls;
        *pport = announce;
    } else if (announce) {
        *port = announce;
    }
    int bus = config_cluster_announce_bus_port();
    *cport = bus ? bus : config_cluster_bus_port();
}
size_t config_cluster_announce_ip(char *b, size_t c) { return config_get_str(CONFIG_CLUSTER_ANNOUNCE_IP, b, c); }
int config_cluster_announce_port(void) { return (int)cfg_value_num(CONFIG_CLUSTER_ANNOUNCE_PORT); }
int config_cluster_announce_bus_port(void) { return (int)cfg_value_num(CONFIG_CLUSTER_ANNOUNCE_BUS_PORT); }
int config_cluster_announce_tls_port(void) { return (int)cfg_value_num(CONFIG_CLUSTER_ANNOUNCE_TLS_PORT); }
size_t config_cluster_announce_hostname(char *b, size_t c) { return config_get_str(CONFIG_CLUSTER_ANNOUNCE_HOSTNAME, b, c); }
bool config_cluster_require_full_coverage(void) { return cfg_value_num(CONFIG_CLUSTER_REQUIRE_FULL_COVERAGE) != 0; }
bool config_cluster_allow_reads_when_down(void) { return cfg_value_num(CONFIG_CLUSTER_ALLOW_READS_WHEN_DOWN) != 0; }
int config_cluster_preferred_endpoint_type(void) { return (int)cfg_value_num(CONFIG_CLUSTER_PREFERRED_ENDPOINT_TYPE); }
int config_worker_threads(void) { return (int)cfg_value_num(CONFIG_WORKER_THREADS); }
size_t config_requirepass(char *b, size_t c) { return config_get_str(CONFIG_REQUIREPASS, b, c); }
bool config_requirepass_set(void)
{
    pthread_mutex_lock(&cfg_lock);
    bool set = cfg_str[CONFIG_REQUIREPASS] != NULL;
    pthread_mutex_unlock(&cfg_lock);
    return set;
}
long long config_proto_max_bulk_len(void) { return cfg_value_num(CONFIG_PROTO_MAX_BULK_LEN); }
long long config_client_query_buffer_limit(void) { return cfg_value_num(CONFIG_CLIENT_QUERY_BUFFER_LIMIT); }
int config_loglevel(void) { return (int)cfg_value_num(CONFIG_LOGLEVEL); }
size_t config_logfile(char *b, size_t c) { return config_get_str(CONFIG_LOGFILE, b, c); }
size_t config_pidfile(char *b, size_t c) { return config_get_str(CONFIG_PIDFILE, b, c); }
bool config_daemonize(void) { return cfg_value_num(CONFIG_DAEMONIZE) != 0; }
size_t config_dir(char *b, size_t c) { return config_get_str(CONFIG_DIR, b, c); }
long long config_maxclients(void) { return cfg_value_num(CONFIG_MAXCLIENTS); }
int config_hz(void) { return (int)cfg_value_num(CONFIG_HZ); }
long long config_timeout_seconds(void) { return cfg_value_num(CONFIG_TIMEOUT); }
int config_enable_debug_command(void) { return (int)cfg_value_num(CONFIG_ENABLE_DEBUG_COMMAND); }
bool config_protected_mode(void) { return cfg_value_num(CONFIG_PROTECTED_MODE) != 0; }

int config_bind(char addrs[][CONFIG_ADDR_MAX], int max)
{
    char *s = cfg_value_strdup(CONFIG_BIND);
    int n = 0;
    char *save = NULL;
    for (char *tok = s ? strtok_r(s, " ", &save) : NULL; tok && n < max; tok = strtok_r(NULL, " ", &save))
        snprintf(addrs[n++], CONFIG_ADDR_MAX, "%s", tok);
    free(s);
    return n;
}

int config_obuf_limit(const char *cls, unsigned long long *hard, unsigned long long *soft, long long *soft_seconds)
{
    int want;
    if (!strcasecmp(cls, "normal")) want = 0;
    else if (!strcasecmp(cls, "slave") || !strcasecmp(cls, "replica")) want = 1;
    else if (!strcasecmp(cls, "pubsub")) want = 2;
    else return -1;
    int idx = cfg_lookup("client-output-buffer-limit", 26, NULL);
    char *s = cfg_value_strdup(idx);
    unsigned long long h[3] = {0}, so[3] = {0};
    long long se[3] = {0};
    if (s) sscanf(s, "normal %llu %llu %lld slave %llu %llu %lld pubsub %llu %llu %lld",
                  &h[0], &so[0], &se[0], &h[1], &so[1], &se[1], &h[2], &so[2], &se[2]);
    free(s);
    *hard = h[want];
    *soft = so[want];
    *soft_seconds = se[want];
    return 0;
}

/* ---- change notification ---- */

int config_subscribe(config_change_fn fn, void *arg)
{
    pthread_mutex_lock(&cfg_lock);
    int rc = -1;
    if (subscriber_count < (int)(sizeof subscribers / sizeof subscribers[0])) {
        subscribers[subscriber_count].fn = fn;
        subscribers[subscriber_count].arg = arg;
        subscriber_count++;
        rc = 0;
    }
    pthread_mutex_unlock(&cfg_lock);
    return rc;
}

void config_unsubscribe_all(void)
{
    pthread_mutex_lock(&cfg_lock);
    subscriber_count = 0;
    pthread_mutex_unlock(&cfg_lock);
}

void cfg_notify(const char *name)
{
    pthread_mutex_lock(&cfg_lock);
    int n = subscriber_count;
    struct { config_change_fn fn; void *arg; } copy[16];
    memcpy(copy, subscribers, sizeof copy);
    pthread_mutex_unlock(&cfg_lock);
    for (int k = 0; k < n; k++) copy[k].fn(name, copy[k].arg);
}

void config_record_replicaof(const char *host, int port)
{
    int i = cfg_lookup("replicaof", 9, NULL);
    if (i < 0) return;
    char buf[300] = "";
    if (host) snprintf(buf, sizeof buf, "%s %d", host, port);
    cfg_staged_t st = { .num = 0, .str = xstrdup(buf) };
    pthread_mutex_lock(&cfg_lock);
    cfg_store_locked(i, &st);
    pthread_mutex_unlock(&cfg_lock);
}

/* info.c - the INFO command: sections and fields in redis-server 7.0.15's
 * order, every line ending in CRLF, sections separated by one empty line.
 * Figures are summed over the workers' counters with relaxed loads.
 *
 * Must never: block or touch another worker's private state.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "actors/client.h"
#include "actors/commands.h"
#include "actors/config.h"
#include "actors/state.h"
#include "actors/stats.h"

char g_run_id[41];
char g_executable[1024];

typedef struct text { char *p; size_t len, cap; } text_t;

static void add(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(text_t *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < t->cap - t->len) { t->len += (size_t)n; return; }
        size_t nc = t->cap * 2 + (size_t)(n > 0 ? n : 0) + 256;
        char *np = realloc(t->p, nc);
        if (!np) abort();
        t->p = np;
        t->cap = nc;
    }
}

static long long sum(size_t offset)
{
    long long s = 0;
    for (int i = 0; i < g_nworkers; i++)
        s += atomic_load_explicit((_Atomic long long *)((char *)&g_workers[i]->stats + offset), memory_order_relaxed);
    return s;
}
#define SUM(field) sum(offsetof(worker_stats_t, field))

static void human_bytes(char *out, size_t cap, long long n)
{
    double d = (double)n;
    if (n < 1024) snprintf(out, cap, "%lldB", n);
    else if (n < 1024 * 1024) snprintf(out, cap, "%.2fK", d / 1024);
    else if (n < 1024LL * 1024 * 1024) snprintf(out, cap, "%.2fM", d / (1024 * 1024));
    else snprintf(out, cap, "%.2fG", d / (1024.0 * 1024 * 1024));
}

static long long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%lld %lld", &pages, &rss) != 2) rss = 0;
        fclose(f);
    }
    return rss * sysconf(_SC_PAGESIZE);
}

static void sec_server(text_t *t)
{
    struct utsname u;
    uname(&u);
    long long now = rt_now_ms();
    long long up = (now - g_start_ms) / 1000;
    char cfg[1024] = "";
    config_file_path(cfg, sizeof cfg);
    add(t, "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n"
           "redis_build_id:0\r\nredis_mode:%s\r\nos:%s %s %s\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\n"
           "multiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:%d.%d.%d\r\nprocess_id:%d\r\n"
           "process_supervised:no\r\nrun_id:%s\r\ntcp_port:%d\r\nserver_time_usec:%lld\r\nuptime_in_seconds:%lld\r\n"
           "uptime_in_days:%lld\r\nhz:%d\r\nconfigured_hz:%d\r\nlru_clock:%lld\r\nexecutable:%s\r\nconfig_file:%s\r\n"
           "io_threads_active:0\r\nshoal_worker_threads:%d\r\n",
        config_cluster_enabled() ? "cluster" : "standalone", u.sysname, u.release, u.machine,
#ifdef __GNUC__
        __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
#else
        0, 0, 0,
#endif
        (int)getpid(), g_run_id, config_port(), rt_now_us(), up, up / 86400, config_hz(), config_hz(),
        (now / 1000) & ((1 << 24) - 1), g_executable, cfg, g_nworkers);
}

static void sec_clients(text_t *t)
{
    add(t, "# Clients\r\nconnected_clients:%lld\r\ncluster_connections:0\r\nmaxclients:%lld\r\n"
           "client_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:0\r\n"
           "tracking_clients:0\r\nclients_in_timeout_table:0\r\n",
        SUM(connected_clients), config_maxclients());
}

static void sec_memory(text_t *t)
{
    long long used = SUM(used_bytes) + 1024 * 1024;
    long long rss = rss_bytes();
    char hu[32], hr[32];
    human_bytes(hu, sizeof hu, used);
    human_bytes(hr, sizeof hr, rss);
    long long maxmem = config_get_num(CONFIG_HOT_COUNT) >= 0 ? 0 : 0;
    add(t, "# Memory\r\nused_memory:%lld\r\nused_memory_human:%s\r\nused_memory_rss:%lld\r\nused_memory_rss_human:%s\r\n"
           "used_memory_peak:%lld\r\nused_memory_dataset:%lld\r\nmaxmemory:%lld\r\nmaxmemory_policy:noeviction\r\n"
           "mem_fragmentation_ratio:%.2f\r\nmem_allocator:libc\r\n",
        used, hu, rss, hr, used, SUM(used_bytes), maxmem, used ? (double)rss / (double)used : 0.0);
}

static void sec_persistence(text_t *t)
{
    add(t, "# Persistence\r\nloading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\n"
           "rdb_changes_since_last_save:0\r\nrdb_bgsave_in_progress:0\r\nrdb_last_save_time:%lld\r\n"
           "rdb_last_bgsave_status:ok\r\naof_enabled:0\r\naof_rewrite_in_progress:0\r\n",
        atomic_load_explicit(&g_lastsave, memory_order_relaxed));
}

static void sec_stats(text_t *t)
{
    long long hits = 0, misses = 0, expired = 0;
    for (int i = 0; i < g_nworkers; i++) {
        hits += atomic_load_explicit(&g_workers[i]->stats.keyspace_hits, memory_order_relaxed);
        misses += atomic_load_explicit(&g_workers[i]->stats.keyspace_misses, memory_order_relaxed);
        expired += atomic_load_explicit(&g_workers[i]->stats.expired_keys, memory_order_relaxed);
    }
    add(t, "# Stats\r\ntotal_connections_received:%lld\r\ntotal_commands_processed:%lld\r\n"
           "instantaneous_ops_per_sec:0\r\ntotal_net_input_bytes:%lld\r\ntotal_net_output_bytes:%lld\r\n"
           "rejected_connections:%lld\r\nexpired_keys:%lld\r\nevicted_keys:0\r\nkeyspace_hits:%lld\r\n"
           "keyspace_misses:%lld\r\npubsub_channels:0\r\npubsub_patterns:0\r\ntotal_error_replies:%lld\r\n"
           "total_reads_processed:0\r\ntotal_writes_processed:0\r\n",
        SUM(connections_received), SUM(commands), SUM(net_input_bytes), SUM(net_output_bytes),
        SUM(rejected_connections), expired, hits, misses, SUM(total_errors));
}

static void sec_replication(text_t *t)
{
    add(t, "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n"
           "master_replid:%s\r\nmaster_replid2:0000000000000000000000000000000000000000\r\n"
           "master_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\nrepl_backlog_size:1048576\r\n"
           "repl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n", g_run_id);
}

static void sec_cpu(text_t *t)
{
    struct rusage self;
    getrusage(RUSAGE_SELF, &self);
    add(t, "# CPU\r\nused_cpu_sys:%ld.%06ld\r\nused_cpu_user:%ld.%06ld\r\nused_cpu_sys_children:0.000000\r\n"
           "used_cpu_user_children:0.000000\r\n",
        (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec, (long)self.ru_utime.tv_sec, (long)self.ru_utime.tv_usec);
}

static void sec_commandstats(text_t *t)
{
    add(t, "# Commandstats\r\n");
    for (int i = 0; i < stats_cmd_total(); i++) {
        long long calls = 0, usec = 0, failed = 0, rejected = 0;
        for (int k = 0; k < g_nworkers; k++) {
            cmdstat_t *s = &g_workers[k]->cmdstats[i];
            calls += atomic_load_explicit(&s->calls, memory_order_relaxed);
            usec += atomic_load_explicit(&s->usec, memory_order_relaxed);
            failed += atomic_load_explicit(&s->failed_calls, memory_order_relaxed);
            rejected += atomic_load_explicit(&s->rejected_calls, memory_order_relaxed);
        }
        if (!calls && !failed && !rejected) continue;
        const cmd_def_t *c = stats_cmd_at(i);
        char name[96];
        if (c->parent) snprintf(name, sizeof name, "%s|%s", c->parent->name, c->name);
        else snprintf(name, sizeof name, "%s", c->name);
        add(t, "cmdstat_%s:calls=%lld,usec=%lld,usec_per_call=%.2f,rejected_calls=%lld,failed_calls=%lld\r\n", name,
            calls, usec, calls ? (double)usec / (double)calls : 0.0, rejected, failed);
    }
}

static void sec_errorstats(text_t *t)
{
    add(t, "# Errorstats\r\n");
    /* merge codes over workers, first-seen order */
    char codes[STATS_MAX_ERR_CODES][ERRSTAT_CODE_LEN];
    long long counts[STATS_MAX_ERR_CODES];
    int n = 0;
    for (int k = 0; k < g_nworkers; k++) {
        worker_t *w = g_workers[k];
        int ne = atomic_load_explicit((_Atomic int *)&w->nerrstats, memory_order_acquire);
        for (int i = 0; i < ne; i++) {
            long long c = atomic_load_explicit(&w->errstats[i].count, memory_order_relaxed);
            int j = 0;
            for (; j < n; j++) if (!strcmp(codes[j], w->errstats[i].code)) break;
            if (j == n) {
                if (n == STATS_MAX_ERR_CODES) continue;
                snprintf(codes[n], ERRSTAT_CODE_LEN, "%s", w->errstats[i].code);
                counts[n++] = 0;
            }
            counts[j] += c;
        }
    }
    for (int j = 0; j < n; j++)
        if (counts[j]) add(t, "errorstat_%s:count=%lld\r\n", codes[j], counts[j]);
}

static void sec_cluster(text_t *t) { add(t, "# Cluster\r\ncluster_enabled:%d\r\n", config_cluster_enabled() ? 1 : 0); }

static void sec_keyspace(text_t *t)
{
    add(t, "# Keyspace\r\n");
    long long keys = SUM(keys), expires = SUM(expires);
    long long ttl_sum = 0, ttl_n = 0;
    for (int i = 0; i < g_nworkers; i++) {
        long long e = atomic_load_explicit(&g_workers[i]->stats.expires, memory_order_relaxed);
        long long a = atomic_load_explicit(&g_workers[i]->stats.avg_ttl, memory_order_relaxed);
        if (e > 0) { ttl_sum += a * e; ttl_n += e; }
    }
    if (keys > 0) add(t, "db0:keys=%lld,expires=%lld,avg_ttl=%lld\r\n", keys, expires, ttl_n ? ttl_sum / ttl_n : 0);
}

typedef struct section { const char *name; void (*fn)(text_t *); bool dflt; } section_t;
static const section_t sections[] = {
    { "server", sec_server, true }, { "clients", sec_clients, true }, { "memory", sec_memory, true },
    { "persistence", sec_persistence, true }, { "stats", sec_stats, true },
    { "replication", sec_replication, true }, { "cpu", sec_cpu, true }, { "modules", NULL, true },
    { "commandstats", sec_commandstats, false }, { "errorstats", sec_errorstats, true },
    { "cluster", sec_cluster, true }, { "keyspace", sec_keyspace, true },
};
#define NSECTIONS ((int)(sizeof sections / sizeof sections[0]))

static void sec_modules(text_t *t) { add(t, "# Modules\r\n"); }

void cmd_info(cmd_ctx_t *ctx)
{
    bool want[NSECTIONS] = { false };
    if (ctx->argc == 1) {
        for (int i = 0; i < NSECTIONS; i++) want[i] = sections[i].dflt;
    }
    for (int a = 1; a < ctx->argc; a++) {
        const char *arg = (const char *)ctx->argv[a];
        size_t n = ctx->argvlen[a];
        bool all = (n == 3 && !strncasecmp(arg, "all", 3)) || (n == 10 && !strncasecmp(arg, "everything", 10));
        bool dflt = n == 7 && !strncasecmp(arg, "default", 7);
        for (int i = 0; i < NSECTIONS; i++) {
            if (all || (dflt && sections[i].dflt) ||
                (strlen(sections[i].name) == n && !strncasecmp(arg, sections[i].name, n)))
                want[i] = true;
        }
    }
    text_t t = { malloc(4096), 0, 4096 };
    if (!t.p) abort();
    bool first = true;
    for (int i = 0; i < NSECTIONS; i++) {
        if (!want[i]) continue;
        if (!first) add(&t, "\r\n");
        first = false;
        if (sections[i].fn) sections[i].fn(&t);
        else sec_modules(&t);
    }
    resp_add_verbatim(ctx->reply, t.p, t.len);
    free(t.p);
}

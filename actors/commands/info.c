/* info.c - the INFO command: sections and fields in redis-server 7.0.15's
 * order, every line ending in CRLF, sections separated by one empty line.
 * Figures are summed over the workers' counters with relaxed loads.
 *
 * Must never: block or touch another worker's private state.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "actors/commands/function.h"
#include "actors/commands/script.h"
#include "actors/persist/aof.h"
#include "actors/bus/bus_dstats.h"
#include "actors/bus/link.h"
#include "actors/bus/link_light.h"
#include "actors/bus/link_place.h"
#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/commands/memory.h"
#include "actors/config/config.h"
#include "actors/persist/rdb_save.h"
#include "actors/repl/repl.h"
#include "actors/repl/standalone.h"
#include "actors/repl/repl_replica.h"
#include "actors/shutdown.h"
#include "actors/state/state.h"
#include "actors/worker/blocking.h"
#include "actors/worker/cmdhist.h"
#include "actors/worker/placement.h"
#include "actors/worker/client.h"
#include "actors/worker/migrate.h"
#include "runtime/tls.h"
#include "actors/worker/stats.h"
#include "actors/worker/wdb.h"
#include "actors/worker/tracking.h"
#include "runtime/actor.h"
#include "runtime/xmalloc.h"

char g_run_id[41];
/* realpath() writes up to PATH_MAX bytes (the fortified build checks it). */
char g_executable[PATH_MAX];

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
        char *np = xrealloc(t->p, nc);
        t->p = np;
        t->cap = nc;
    }
}

#define SUM(stat) workers_sum(WSTAT_##stat)

static void human_bytes(char *out, size_t cap, long long n)
{
    double d = (double)n;
    if (n < 1024) snprintf(out, cap, "%lldB", n);
    else if (n < 1024 * 1024) snprintf(out, cap, "%.2fK", d / 1024);
    else if (n < 1024LL * 1024 * 1024) snprintf(out, cap, "%.2fM", d / (1024 * 1024));
    else snprintf(out, cap, "%.2fG", d / (1024.0 * 1024 * 1024));
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
           "io_threads_active:0\r\n",
        config_cluster_enabled() ? "cluster" : "standalone", u.sysname, u.release, u.machine,
#ifdef __GNUC__
        __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
#else
        0, 0, 0,
#endif
        (int)getpid(), g_run_id, config_port(), rt_now_us(), up, up / 86400, config_hz(), config_hz(),
        (now / 1000) & ((1 << 24) - 1), g_executable, cfg);
    long long left = shutdown_in_ms();
    if (left >= 0) add(t, "shutdown_in_milliseconds:%lld\r\n", left);   /* waiting for replicas (shutdown.h) */
}

static void sec_clients(text_t *t)
{
    /* 7.0.15 counts its master's connection among its clients (CLIENT LIST's M line), not its replicas' */
    repl_replica_status_t link;
    repl_replica_status_get(&link);
    long long master_link = link.replica && link.state == RL_CONNECTED;
    add(t, "# Clients\r\nconnected_clients:%lld\r\ncluster_connections:%zu\r\nmaxclients:%lld\r\n"
           "client_recent_max_input_buffer:%lld\r\nclient_recent_max_output_buffer:%lld\r\nblocked_clients:%lld\r\n"
           "tracking_clients:%lld\r\nclients_in_timeout_table:%lld\r\n",
        SUM(CONNECTED_CLIENTS) + master_link, config_cluster_enabled() ? links_count() : (size_t)0, config_maxclients(),
        workers_max(WSTAT_RECENT_MAX_IN), workers_max(WSTAT_RECENT_MAX_OUT), blocking_count() + worker_paused_count() + repl_wait_parked(), tracking_clients_count(),
        blocking_count_with_timeout() + repl_wait_parked_with_timeout());
}

static long long total_system_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES);
    return pages > 0 ? (long long)pages * sysconf(_SC_PAGESIZE) : 0;
}

/* 7.0.15's expired_stale_perc: each worker's running average of the share
 * of expired keys in its sweeps' samples; the node's is their mean. */
static double expired_stale_perc(void)
{
    int n = workers_count();
    long long sum = 0;
    for (int i = 0; i < n; i++) sum += worker_stat(i, WSTAT_EXPIRED_STALE_PERC_X100);
    return n ? (double)sum / 100.0 / n : 0.0;
}

static void sec_memory(text_t *t)
{
    mem_figures_t m;
    mem_figures_get(&m);
    char hu[32], hr[32], hp[32], hs[32], hm[32];
    human_bytes(hu, sizeof hu, m.used);
    human_bytes(hr, sizeof hr, m.rss);
    human_bytes(hp, sizeof hp, m.peak);
    human_bytes(hs, sizeof hs, total_system_memory());
    human_bytes(hm, sizeof hm, m.maxmemory);
    char policy[64] = "noeviction";
    config_get_by_name("maxmemory-policy", policy, sizeof policy);
    long long libs, funcs;
    fn_reg_counts(&libs, &funcs);
    /* scripting: the sums over the workers' Lua VMs (one per worker and kind) */
    script_mem_t sm;
    script_memory_info(&sm);
    long long fmem = fn_reg_memory(), vm_total = sm.vm_eval + sm.vm_functions;
    char hl[32], hv[32], hsc[32];
    human_bytes(hl, sizeof hl, sm.vm_eval);
    human_bytes(hv, sizeof hv, vm_total);
    human_bytes(hsc, sizeof hsc, sm.scripts_eval + fmem);
    add(t, "# Memory\r\nused_memory:%lld\r\nused_memory_human:%s\r\nused_memory_rss:%lld\r\n"
           "used_memory_rss_human:%s\r\nused_memory_peak:%lld\r\nused_memory_peak_human:%s\r\n"
           "used_memory_peak_perc:%.2f%%\r\nused_memory_overhead:%lld\r\nused_memory_startup:%lld\r\n"
           "used_memory_dataset:%lld\r\nused_memory_dataset_perc:%.2f%%\r\nallocator_allocated:%lld\r\n"
           "allocator_active:%lld\r\nallocator_resident:%lld\r\ntotal_system_memory:%lld\r\n"
           "total_system_memory_human:%s\r\nused_memory_lua:%lld\r\nused_memory_vm_eval:%lld\r\nused_memory_lua_human:%s\r\n"
           "used_memory_scripts_eval:%lld\r\nnumber_of_cached_scripts:%lld\r\nnumber_of_functions:%lld\r\n"
           "number_of_libraries:%lld\r\nused_memory_vm_functions:%lld\r\nused_memory_vm_total:%lld\r\n"
           "used_memory_vm_total_human:%s\r\nused_memory_functions:%lld\r\nused_memory_scripts:%lld\r\n"
           "used_memory_scripts_human:%s\r\nmaxmemory:%lld\r\nmaxmemory_human:%s\r\nmaxmemory_policy:%s\r\n"
           "allocator_frag_ratio:%.2f\r\nallocator_frag_bytes:%lld\r\nallocator_rss_ratio:%.2f\r\nallocator_rss_bytes:%lld\r\n"
           "rss_overhead_ratio:%.2f\r\nrss_overhead_bytes:%lld\r\nmem_fragmentation_ratio:%.2f\r\n"
           "mem_fragmentation_bytes:%lld\r\nmem_not_counted_for_evict:%lld\r\nmem_replication_backlog:%lld\r\n"
           "mem_total_replication_buffers:%lld\r\nmem_clients_slaves:%lld\r\nmem_clients_normal:%lld\r\nmem_cluster_links:%lld\r\n"
           "mem_aof_buffer:%lld\r\nmem_allocator:libc\r\nactive_defrag_running:0\r\nlazyfree_pending_objects:0\r\n"
           "lazyfreed_objects:0\r\n",
        m.used, hu, m.rss, hr, m.peak, hp, m.peak_perc, m.overhead, m.startup, m.dataset, m.dataset_perc,
        m.allocator_allocated, m.allocator_active, m.allocator_resident, total_system_memory(), hs, sm.vm_eval,
        sm.vm_eval, hl, sm.scripts_eval, sm.cached_scripts, funcs, libs, sm.vm_functions, vm_total, hv, fmem,
        sm.scripts_eval + fmem, hsc,
        m.maxmemory, hm, policy, m.allocator_frag, m.allocator_frag_bytes, m.allocator_rss, m.allocator_rss_bytes,
        m.rss_extra, m.rss_extra_bytes, m.frag, m.frag_bytes, m.not_counted, m.repl_backlog,
        m.repl_backlog + m.clients_slaves, m.clients_slaves, m.clients_normal, m.cluster_links, m.aof_buffer);
}

/* 7.0.15's layout: the rdb fields, the aof fields (aof.h), the module
 * fork's, then the AOF's sizes when it is on, then the loading_* figures
 * while a load runs. */
static void sec_persistence(text_t *t)
{
    rdb_persist_info_t p;
    rdb_persist_info(&p);
    add(t, "# Persistence\r\nloading:%d\r\nasync_loading:%d\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\n"
           "current_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\n"
           "current_save_keys_total:0\r\nrdb_changes_since_last_save:%lld\r\nrdb_bgsave_in_progress:%d\r\n"
           "rdb_last_save_time:%lld\r\nrdb_last_bgsave_status:%s\r\nrdb_last_bgsave_time_sec:%lld\r\n"
           "rdb_current_bgsave_time_sec:%lld\r\nrdb_saves:%lld\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:%lld\r\n"
           "rdb_last_load_keys_loaded:%lld\r\n",
        p.loading && !p.loading_async, p.loading_async, p.changes_since_last_save, p.bgsave_in_progress, p.last_save_time, p.last_bgsave_ok ? "ok" : "err",
        p.last_bgsave_time_sec, p.current_bgsave_time_sec, p.saves, p.last_load_keys_expired,
        p.last_load_keys_loaded);
    aof_status_t a;
    aof_status_get(&a);
    add(t, "aof_enabled:%d\r\naof_rewrite_in_progress:%d\r\naof_rewrite_scheduled:%d\r\n"
           "aof_last_rewrite_time_sec:%lld\r\naof_current_rewrite_time_sec:%lld\r\naof_last_bgrewrite_status:%s\r\n"
           "aof_rewrites:%lld\r\naof_rewrites_consecutive_failures:%lld\r\naof_last_write_status:%s\r\n"
           "aof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
        a.enabled, a.rewrite_in_progress, a.rewrite_scheduled, a.last_rewrite_time_sec, a.current_rewrite_time_sec,
        a.last_bgrewrite_ok ? "ok" : "err", a.rewrites, a.rewrites_consecutive_failures, a.last_write_ok ? "ok" : "err");
    if (a.enabled)
        add(t, "aof_current_size:%lld\r\naof_base_size:%lld\r\naof_pending_rewrite:%d\r\naof_buffer_length:%lld\r\n"
               "aof_pending_bio_fsync:%lld\r\naof_delayed_fsync:%lld\r\n",
            a.current_size, a.base_size, a.pending_rewrite, a.buffer_length, a.pending_bio_fsync, a.delayed_fsync);
    rdb_loading_info_t li;
    rdb_loading_get(&li);
    if (li.loading) {
        /* 7.0.15's progress estimate: by the file's size, else by the
         * used-mem the file recorded (capped below 100 %). */
        double perc = 0;
        long long remaining = 1;
        if (li.total_bytes) {
            perc = (double)li.loaded_bytes / (double)li.total_bytes * 100;
            remaining = li.total_bytes - li.loaded_bytes;
        } else if (li.rdb_used_mem) {
            perc = (double)li.loaded_bytes / (double)li.rdb_used_mem * 100;
            remaining = li.rdb_used_mem - li.loaded_bytes;
            if (perc > 99.99) perc = 99.99;
            if (remaining < 1) remaining = 1;
        }
        long long elapsed = rt_now_ms() / 1000 - li.start_time;
        long long eta = elapsed == 0 ? 1 : elapsed * remaining / (li.loaded_bytes + 1);
        add(t, "loading_start_time:%lld\r\nloading_total_bytes:%lld\r\nloading_rdb_used_mem:%lld\r\n"
               "loading_loaded_bytes:%lld\r\nloading_loaded_perc:%.2f\r\nloading_eta_seconds:%lld\r\n",
            li.start_time, li.total_bytes, li.rdb_used_mem, li.loaded_bytes, perc, eta);
    }
}

static void sec_stats(text_t *t)
{
    repl_status_t rs;
    repl_status_get(&rs);
    repl_replica_status_t link;
    repl_replica_status_get(&link);
    long long fork_usec, forks;
    rdb_fork_stats(&fork_usec, &forks);
    add(t, "# Stats\r\ntotal_connections_received:%lld\r\ntotal_commands_processed:%lld\r\n"
           "instantaneous_ops_per_sec:0\r\ntotal_net_input_bytes:%lld\r\ntotal_net_output_bytes:%lld\r\n"
           "total_net_repl_input_bytes:%lld\r\ntotal_net_repl_output_bytes:%lld\r\ninstantaneous_input_kbps:0.00\r\n"
           "instantaneous_output_kbps:0.00\r\ninstantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\n"
           "rejected_connections:%lld\r\nsync_full:%lld\r\nsync_partial_ok:%lld\r\nsync_partial_err:%lld\r\n"
           "expired_keys:%lld\r\nexpired_stale_perc:%.2f\r\nexpired_time_cap_reached_count:%lld\r\n"
           "expire_cycle_cpu_milliseconds:0\r\nevicted_keys:%lld\r\nevicted_clients:0\r\ntotal_eviction_exceeded_time:0\r\n"
           "current_eviction_exceeded_time:0\r\nkeyspace_hits:%lld\r\nkeyspace_misses:%lld\r\npubsub_channels:0\r\n"
           "pubsub_patterns:0\r\npubsubshard_channels:0\r\nlatest_fork_usec:%lld\r\ntotal_forks:%lld\r\n"
           "migrate_cached_sockets:%lld\r\nslave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\nactive_defrag_misses:0\r\n"
           "active_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\n"
           "current_active_defrag_time:0\r\ntracking_total_keys:%lld\r\ntracking_total_items:%lld\r\n"
           "tracking_total_prefixes:%lld\r\nunexpected_error_replies:0\r\ntotal_error_replies:%lld\r\n"
           "dump_payload_sanitizations:0\r\ntotal_reads_processed:%lld\r\ntotal_writes_processed:%lld\r\n"
           "io_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\nreply_buffer_shrinks:0\r\n"
           "reply_buffer_expands:0\r\n",
        SUM(CONNECTIONS_RECEIVED), SUM(COMMANDS), SUM(NET_INPUT_BYTES), SUM(NET_OUTPUT_BYTES),
        link.net_repl_input_bytes, rs.net_repl_output_bytes, SUM(REJECTED_CONNECTIONS), rs.sync_full, rs.sync_partial_ok, rs.sync_partial_err,
        SUM(EXPIRED_KEYS), expired_stale_perc(), SUM(EXPIRED_TIME_CAP), SUM(EVICTED_KEYS), SUM(KEYSPACE_HITS), SUM(KEYSPACE_MISSES), fork_usec, forks, migrate_cached_sockets(), tracking_total_keys(),
        tracking_total_items(), tracking_total_prefixes(), SUM(TOTAL_ERRORS),
        SUM(READS_PROCESSED), SUM(WRITES_PROCESSED));
}

static __thread const cluster_snapshot_t *info_snap;   /* the snapshot INFO runs under */

/* Our master's node record, when we are a replica with a known master. */
static const node_view_t *my_master(void)
{
    const cluster_snapshot_t *s = info_snap;
    if (!s) return NULL;
    const node_view_t *me = &s->nodes[s->myself];
    if (!(me->flags & NODE_SLAVE) || me->master < 0) return NULL;
    return &s->nodes[me->master];
}

/* The lines both roles end with: the replication actor's history and backlog. */
static void repl_tail(text_t *t, const repl_status_t *st)
{
    add(t, "master_failover_state:%s\r\nmaster_replid:%s\r\nmaster_replid2:%s\r\n"
           "master_repl_offset:%lld\r\nsecond_repl_offset:%lld\r\nrepl_backlog_active:%d\r\n"
           "repl_backlog_size:%lld\r\nrepl_backlog_first_byte_offset:%lld\r\nrepl_backlog_histlen:%lld\r\n",
        sa_failover_state_name(), st->replid, st->replid2, st->master_repl_offset, st->second_repl_offset,
        st->backlog_active ? 1 : 0,
        st->backlog_size, st->backlog_first_byte_offset, st->backlog_histlen);
}

/* connected_slaves and one slaveN line per replica we serve. */
static void repl_served(text_t *t, const repl_status_t *st)
{
    add(t, "connected_slaves:%d\r\n", st->nreplicas);
    for (int i = 0; i < st->nreplicas; i++) {
        const repl_replica_view_t *v = &st->replicas[i];
        add(t, "slave%d:ip=%s,port=%d,state=%s,offset=%lld,lag=%lld\r\n", i, v->ip, v->port, v->state, v->offset,
            v->lag);
    }
}

/* The replica half of INFO replication: our link to our master (repl_replica.h). */
static void sec_replica_link(text_t *t, const node_view_t *m)
{
    repl_replica_status_t rs;
    repl_replica_status_get(&rs);
    long long now = rt_now_ms();
    bool up = rs.state == RL_CONNECTED;
    long long read_off = 1, off = 1;
    if (up) {
        read_off = rs.read_repl_offset;
        off = rs.repl_offset;
    } else {
        char id[REPL_ID_LEN + 1];
        long long next = repl_psync_args(id);   /* our cached history, as Redis's cached master */
        if (next > 0) read_off = off = next - 1;
    }
    add(t, "# Replication\r\nrole:slave\r\nmaster_host:%s\r\nmaster_port:%d\r\nmaster_link_status:%s\r\n"
           "master_last_io_seconds_ago:%lld\r\nmaster_sync_in_progress:%d\r\nslave_read_repl_offset:%lld\r\n"
           "slave_repl_offset:%lld\r\n",
        m->ip, m->port, up ? "up" : "down", up ? (now - rs.last_io_ms) / 1000 : -1LL, rs.sync_in_progress ? 1 : 0,
        read_off, off);
    if (rs.sync_in_progress) {
        long long total = rs.sync_total_bytes;
        double perc = total > 0 ? (double)rs.sync_read_bytes / (double)total * 100.0 : 0.0;
        add(t, "master_sync_total_bytes:%lld\r\nmaster_sync_read_bytes:%lld\r\nmaster_sync_left_bytes:%lld\r\n"
               "master_sync_perc:%.2f\r\nmaster_sync_last_io_seconds_ago:%lld\r\n",
            total, rs.sync_read_bytes, total - rs.sync_read_bytes, perc,
            rs.sync_last_io_ms ? (now - rs.sync_last_io_ms) / 1000 : 0LL);
    }
    if (!up)
        add(t, "master_link_down_since_seconds:%lld\r\n",
            rs.link_down_since_ms ? (now - rs.link_down_since_ms) / 1000 : -1LL);
    /* Not a 7.0.15 field: why the last sync attempt failed (bad RDB, refused PSYNC, ...). */
    if (rs.last_error[0]) add(t, "master_sync_last_error:%s\r\n", rs.last_error);
    char announced[8] = "yes";
    config_get_by_name("replica-announced", announced, sizeof announced);
    add(t, "slave_priority:%lld\r\nslave_read_only:%lld\r\nreplica_announced:%d\r\n",
        config_get_num(CONFIG_REPLICA_PRIORITY), config_get_num(CONFIG_REPLICA_READ_ONLY),
        strcmp(announced, "no") ? 1 : 0);
}

static void sec_replication(text_t *t)
{
    repl_status_t st;
    repl_status_get(&st);
    const node_view_t *m = my_master();
    if (m) {
        sec_replica_link(t, m);
        repl_served(t, &st);
        repl_tail(t, &st);
        return;
    }
    add(t, "# Replication\r\nrole:master\r\n");
    repl_served(t, &st);
    repl_tail(t, &st);
}

static void sec_cpu(text_t *t)
{
    struct rusage self;
    getrusage(RUSAGE_SELF, &self);
    struct rusage mt;
    getrusage(RUSAGE_THREAD, &mt);
    add(t, "# CPU\r\nused_cpu_sys:%ld.%06ld\r\nused_cpu_user:%ld.%06ld\r\nused_cpu_sys_children:0.000000\r\n"
           "used_cpu_user_children:0.000000\r\nused_cpu_sys_main_thread:%ld.%06ld\r\nused_cpu_user_main_thread:%ld.%06ld\r\n",
        (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec, (long)self.ru_utime.tv_sec, (long)self.ru_utime.tv_usec,
        (long)mt.ru_stime.tv_sec, (long)mt.ru_stime.tv_usec, (long)mt.ru_utime.tv_sec, (long)mt.ru_utime.tv_usec);
}

static void sec_commandstats(text_t *t)
{
    add(t, "# Commandstats\r\n");
    for (int i = 0; i < stats_cmd_total(); i++) {
        long long v[4];
        stats_cmd_sum(i, v);
        long long calls = v[0], usec = v[1], failed = v[2], rejected = v[3];
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
    char codes[STATS_MAX_ERR_CODES][ERRSTAT_CODE_LEN];
    long long counts[STATS_MAX_ERR_CODES];
    int n = stats_err_merge(codes, counts, STATS_MAX_ERR_CODES);
    for (int j = 0; j < n; j++)
        if (counts[j]) add(t, "errorstat_%s:count=%lld\r\n", codes[j], counts[j]);
}

static void sec_latencystats(text_t *t)
{
    char *lines = cmdhist_info_text();
    add(t, "# Latencystats\r\n%s", lines);
    free(lines);
}

static void sec_cluster(text_t *t) { add(t, "# Cluster\r\ncluster_enabled:%d\r\n", config_cluster_enabled() ? 1 : 0); }

static void sec_keyspace(text_t *t)
{
    add(t, "# Keyspace\r\n");
    for (int db = 0; db < wdb_count(); db++) {
        long long keys, expires, avg_ttl;
        wdb_info(db, &keys, &expires, &avg_ttl);
        if (keys > 0) add(t, "db%d:keys=%lld,expires=%lld,avg_ttl=%lld\r\n", db, keys, expires, avg_ttl);
    }
}

/* Ours, not Redis's: one line per peer with what the bus sees of it. Shown
 * only when asked for by name (not by default, all or everything), so no
 * reply that redis-server gives changes. rtt_ms: our last PING/MEET to its
 * PONG on the outbound link (-1 until measured); last_pong_ms: age of the
 * last PONG (-1: none yet); then socket bytes of the `to` and `from` links
 * (-1: no such link). */
static void sec_peers(text_t *t)
{
    add(t, "# Peers\r\n");
    const cluster_snapshot_t *s = info_snap;
    if (!s || !config_cluster_enabled()) return;
    long long now = rt_now_ms();
    int k = 0;
    for (int i = 0; i < s->node_count; i++) {
        if (i == s->myself) continue;
        const node_view_t *n = &s->nodes[i];
        link_stats_t to = link_stats_of(n->out_link), from = link_stats_of(n->in_link);
        long long rtt = to.rtt_us < 0 ? -1 : (to.rtt_us + 500) / 1000;
        long long pong = node_view_pong_received(s, i);   /* PONGs noted since s was published too */
        long long pong_age = pong > 0 ? now - pong : -1;
        if (pong_age < -1) pong_age = 0;
        add(t, "peer%d:node=%.40s,ip=%s,port=%d,cport=%d,rtt_ms=%lld,last_pong_ms=%lld,"
               "to_sent=%lld,to_received=%lld,from_sent=%lld,from_received=%lld\r\n",
            k++, n->name, n->ip, n->port, n->cport, rtt, pong_age,
            to.bytes_out, to.bytes_in, from.bytes_out, from.bytes_in);
    }
}

/* Ours, by name only (like peers): the light encoding between shoal peers
 * (docs/cluster-bus.md §9): whether it is on, light frames sent and received
 * in all, and per peer on its `to` and `from` links (-1: no such link). A
 * redis-server peer's links always show 0. */
static void sec_lightbus(text_t *t)
{
    add(t,
        "# Lightbus\r\nlight_enabled:%d\r\nlight_frames_sent:%lld\r\nlight_frames_received:%lld\r\n"
        "light_view_mismatch:%lld\r\nlight_view_builds:%lld\r\n",
        config_get_num(CONFIG_CLUSTER_LIGHT_BUS) ? 1 : 0,
        atomic_load_explicit(&g_light_frames_out, memory_order_relaxed),
        atomic_load_explicit(&g_light_frames_in, memory_order_relaxed),
        atomic_load_explicit(&g_light_view_mismatch, memory_order_relaxed),
        atomic_load_explicit(&g_light_view_builds, memory_order_relaxed));
    const cluster_snapshot_t *s = info_snap;
    if (!s || !config_cluster_enabled()) return;
    int k = 0;
    for (int i = 0; i < s->node_count; i++) {
        if (i == s->myself) continue;
        const node_view_t *n = &s->nodes[i];
        link_stats_t to = link_stats_of(n->out_link), from = link_stats_of(n->in_link);
        add(t, "peer%d:node=%.40s,to_light_sent=%lld,to_light_received=%lld,from_light_sent=%lld,"
               "from_light_received=%lld\r\n",
            k++, n->name, to.light_out, to.light_in, from.light_out, from.light_in);
    }
}

/* Ours, by name only (like peers): the links' digest and back-pressure
 * (docs/cluster-bus.md §1.6), summed over the link threads. Frames that went
 * no further than their link (liveness only) and frames forwarded to the
 * state actor, by type; why a PING or PONG the digest judged still went;
 * gossip entries of digested frames (and how many of their pong times were
 * noted) and of forwarded ones; pauses of a link's reads, their ends (a
 * resume or a close while paused), links paused now, and the time ended
 * pauses lasted, summed over links (link-milliseconds); in cluster mode the
 * frame messages the state actor has not applied yet. */
static void sec_busdigest(text_t *t)
{
    bus_dstats_sum_t d;
    bus_dstats_sum(&d);
    long long dig = 0, fwd = 0;
    for (int k = 0; k <= BUS_TYPE_COUNT; k++) dig += d.digested[k], fwd += d.forwarded[k];
    add(t, "# Busdigest\r\nframes_digested:%lld\r\nframes_forwarded:%lld\r\n", dig, fwd);
    add(t, "digested_ping:%lld\r\ndigested_pong:%lld\r\n", d.digested[BUS_PING], d.digested[BUS_PONG]);
    add(t, "digested_publish:%lld\r\ndigested_publishshard:%lld\r\n", d.digested[BUS_PUBLISH],
        d.digested[BUS_PUBLISHSHARD]);
    for (int k = 0; k < BUS_TYPE_COUNT; k++) add(t, "forwarded_%s:%lld\r\n", bus_type_name((unsigned)k), d.forwarded[k]);
    add(t, "forwarded_unknown:%lld\r\n", d.forwarded[BUS_TYPE_COUNT]);
    add(t, "forwarded_why_busy:%lld\r\nforwarded_why_changed:%lld\r\nforwarded_why_race:%lld\r\n",
        d.why[BUS_DSTATS_BUSY], d.why[BUS_DSTATS_CHANGED], d.why[BUS_DSTATS_RACE]);
    add(t, "gossip_folded:%lld\r\ngossip_pongs_noted:%lld\r\ngossip_forwarded:%lld\r\n", d.gossip_folded,
        d.gossip_pongs_noted, d.gossip_forwarded);
    long long now_paused = d.pauses - d.resumes;
    add(t, "link_pauses:%lld\r\nlink_pauses_ended:%lld\r\nlinks_paused:%lld\r\nlink_paused_ms:%lld\r\n",
        d.pauses, d.resumes, now_paused > 0 ? now_paused : 0, d.paused_us / 1000);
    long long rec_ours, rec_openssl;
    tls_records_counts(&rec_ours, &rec_openssl);
    add(t, "tls_records_ours:%lld\r\ntls_records_openssl:%lld\r\n", rec_ours, rec_openssl);
    /* frame messages the state actor has still to apply (the count links pause on) */
    const cluster_snapshot_t *s = info_snap;
    if (s && s->live && config_cluster_enabled())
        add(t, "state_pending:%lld\r\n", (long long)atomic_load_explicit(&s->live->pending, memory_order_relaxed));
}

/* Not in Redis, asked for by name only (like peers): per runtime thread,
 * loop wake-ups (rounds run), messages handled, wake requests made to it by
 * senders (each at most one eventfd write), lazy sends that left it
 * asleep, times another thread borrowed its sleeping loop's data (a worker's
 * keyspace: docs/design.md §3.4) and wake-ups that had to wait for such a
 * borrower; spins before sleep and their CPU time; the AOF path's handovers to the replication thread and the
 * wake-ups of it they asked for; appendfsync always's group commit
 * (fsyncs, their time, waits for more writers); then how many workers take connections now and how many
 * connections moved between workers (placement.h). The bench reads it to
 * show wake-ups per request. */
static void sec_threads(text_t *t)
{
    add(t, "# Threads\r\n");
    rt_thread_stats_t st[64];
    int n = rt_thread_stats_all(st, 64);
    for (int i = 0; i < n; i++)
        add(t, "thread%d:name=%s,wakeups=%llu,messages=%llu,wake_sends=%llu,lazy_sends=%llu\r\n",
            st[i].index, st[i].name, st[i].wakeups, st[i].messages, st[i].wake_sends, st[i].lazy_sends);
    /* Lines of their own, so that the thread lines keep their shape. */
    for (int i = 0; i < n; i++)
        if (st[i].borrowable)
            add(t, "borrow%d:name=%s,borrows=%llu,borrow_waits=%llu\r\n",
                st[i].index, st[i].name, st[i].borrows, st[i].borrow_waits);
    /* Spins before sleep (rt_thread_set_spin_us): begun, ended by work, and
     * their CPU time, which is not work. The bench subtracts it from a
     * thread's CPU when it projects the rate of a thread with a core of
     * its own (bench/README.md, scripting). */
    for (int i = 0; i < n; i++)
        add(t, "spin%d:name=%s,spins=%llu,catches=%llu,spin_us=%llu\r\n", st[i].index, st[i].name, st[i].spins,
            st[i].spin_catches, st[i].spin_ns / 1000);
    /* Lingers before sleep (rt_thread_set_linger_us): a bus that woke the
     * thread faster than the linger read in batches; time slept in them. */
    for (int i = 0; i < n; i++)
        if (st[i].lingers)
            add(t, "linger%d:name=%s,lingers=%llu,linger_us=%llu\r\n", st[i].index, st[i].name, st[i].lingers,
                st[i].linger_ns / 1000);
    /* The AOF path's handovers to the replication thread and the wake-ups
     * of it they asked for (repl_feedq.c). */
    unsigned long long passed, kicks, aof_only;
    repl_feedq_counts(&passed, &kicks, &aof_only);
    add(t, "repl_feeds:queued=%llu,wakeups=%llu,aof_only=%llu\r\n", passed, kicks, aof_only);
    /* appendfsync always: the reply syncer's fsyncs and waits (aof_gcommit.c) */
    unsigned long long fsyncs, fsync_us, waits, filled, inl;
    aof_gc_counts(&fsyncs, &fsync_us, &waits, &filled, &inl);
    add(t, "aof_group_commit:fsyncs=%llu,fsync_us=%llu,waits=%llu,filled=%llu,inline=%llu\r\n", fsyncs, fsync_us,
        waits, filled, inl);
    /* Workers taking connections now, and connections moved between workers (placement.h). */
    add(t, "placement:active_workers=%d,workers=%d,moves=%llu\r\n", placement_active(), workers_count(),
        placement_moves());
    for (int i = 0; i < workers_count(); i++)
        add(t, "placement%d:name=worker-%d,clients=%lld,busy_permille=%d,cron_ms=%d\r\n", i, i,
            placement_clients(i), placement_busy_permille(i), placement_cron_ms(i));
    /* Cluster bus links: threads taking them now, links moved, links per thread (link_place.h). */
    if (link_place_count(0) >= 0) {
        add(t, "bus_placement:link_threads=%d,moves=%llu\r\n", link_place_threads(), link_place_moves());
        for (int i = 0; i < workers_count(); i++)
            add(t, "bus_links%d:name=worker-%d,links=%lld\r\n", i, i, link_place_count(i));
    }
}

typedef struct section { const char *name; void (*fn)(text_t *); bool dflt; } section_t;
static const section_t sections[] = {
    { "server", sec_server, true }, { "clients", sec_clients, true }, { "memory", sec_memory, true },
    { "persistence", sec_persistence, true }, { "stats", sec_stats, true },
    { "replication", sec_replication, true }, { "cpu", sec_cpu, true }, { "modules", NULL, true },
    { "commandstats", sec_commandstats, false }, { "errorstats", sec_errorstats, true },
    { "latencystats", sec_latencystats, false },
    { "cluster", sec_cluster, true }, { "keyspace", sec_keyspace, true },
    { "peers", sec_peers, false },        /* by name only: see sec_peers */
    { "threads", sec_threads, false },    /* by name only: see sec_threads */
    { "lightbus", sec_lightbus, false },  /* by name only: see sec_lightbus */
    { "busdigest", sec_busdigest, false }, /* by name only: see sec_busdigest */
};
#define NSECTIONS ((int)(sizeof sections / sizeof sections[0]))

static void sec_modules(text_t *t) { add(t, "# Modules\r\n"); }

/* Our own sections: shown only when named, so that `INFO all` and
 * `INFO everything` keep 7.0.15's sections. */
static bool by_name_only(void (*fn)(text_t *))
{
    return fn == sec_peers || fn == sec_threads || fn == sec_lightbus || fn == sec_busdigest;
}

void cmd_info(cmd_ctx_t *ctx)
{
    bool want[NSECTIONS] = { false };
    if (ctx->argc == 1) {
        for (int i = 0; i < NSECTIONS; i++) want[i] = sections[i].dflt;
    }
    for (int a = 1; a < ctx->argc; a++) {
        bool all = arg_is_at(ctx, a, "all") || arg_is_at(ctx, a, "everything");
        bool dflt = arg_is_at(ctx, a, "default");
        for (int i = 0; i < NSECTIONS; i++) {
            if ((all && !by_name_only(sections[i].fn)) || (dflt && sections[i].dflt) ||
                arg_is_at(ctx, a, sections[i].name))
                want[i] = true;
        }
    }
    info_snap = ctx->worker ? worker_snapshot(ctx->worker) : NULL;
    text_t t = { xmalloc(4096), 0, 4096 };
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

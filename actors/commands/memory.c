/* memory.c - see memory.h. */
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/commands/memory.h"
#include "actors/bus/link.h"
#include "actors/config/config.h"
#include "actors/persist/aof.h"
#include "actors/worker/keyspace.h"
#include "actors/repl/repl.h"
#include "actors/worker/evict.h"
#include "actors/worker/worker.h"
#include "runtime/memcount.h"
#include "runtime/memtrim.h"

static double ratio(long long a, long long b) { return b ? (double)a / (double)b : 0.0; }

void mem_figures_get(mem_figures_t *m)
{
    memset(m, 0, sizeof *m);
    long long dataset_bytes = workers_sum(WSTAT_USED_BYTES);
    m->used = evict_used_memory();
    m->rss = (long long)rt_resident_bytes();
    m->peak = rt_mem_note_peak(m->used);
    if (rt_mem_startup() == 0) rt_mem_mark_startup(m->used - dataset_bytes);   /* before the first cron */
    m->startup = rt_mem_counting() ? rt_mem_startup() : 1024 * 1024;
    m->maxmemory = evict_maxmemory();
    repl_status_t rs;
    repl_status_get(&rs);
    m->repl_backlog = rs.backlog_active ? rs.backlog_histlen : 0;
    m->clients_normal = workers_sum(WSTAT_CLIENTS_MEM);
    m->clients_slaves = repl_buffers_bytes();
    m->aof_buffer = aof_buffer_bytes();
    m->not_counted = evict_not_counted_memory();
    m->cluster_links = config_cluster_enabled() ? links_memory() : 0;
    m->keys = workers_sum(WSTAT_KEYS);
    m->overhead = m->used - dataset_bytes;
    if (m->overhead < 0) m->overhead = 0;
    m->dataset = m->used - m->overhead;
    m->peak_perc = m->peak ? 100.0 * (double)m->used / (double)m->peak : 100.0;
    long long net = m->used > m->startup ? m->used - m->startup : 1;
    m->dataset_perc = 100.0 * (double)m->dataset / (double)net;
    m->bytes_per_key = m->keys ? net / m->keys : 0;
    /* A libc build has no allocator figures: 7.0.15 stands the RSS in for
     * the resident and active bytes and used_memory for the allocated ones. */
    m->allocator_allocated = m->used;
    m->allocator_active = m->rss;
    m->allocator_resident = m->rss;
    m->allocator_frag = ratio(m->allocator_active, m->allocator_allocated);
    m->allocator_frag_bytes = m->allocator_active - m->allocator_allocated;
    m->allocator_rss = ratio(m->allocator_resident, m->allocator_active);
    m->allocator_rss_bytes = m->allocator_resident - m->allocator_active;
    m->rss_extra = ratio(m->rss, m->allocator_resident);
    m->rss_extra_bytes = m->rss - m->allocator_resident;
    m->frag = ratio(m->rss, m->used);
    m->frag_bytes = m->rss - m->used;
}

/* ---- MEMORY ---- */

void cmd_memory_usage(cmd_ctx_t *ctx)
{
    /* SAMPLES is checked as 7.0.15 checks it; the figure itself is exact
     * (each value keeps its own byte count), so the count changes nothing. */
    for (int j = 3; j < ctx->argc; j++) {
        long long samples;
        if (arg_is_at(ctx, j, "samples") && j + 1 < ctx->argc) {
            if (!arg_ll_at(ctx, j + 1, &samples)) return;
            if (samples < 0) {
                resp_add_error(ctx->reply, "ERR syntax error");
                return;
            }
            j++;
        } else {
            resp_add_error(ctx->reply, "ERR syntax error");
            return;
        }
    }
    /* as 7.0.15's dictFind: no expiry, no access */
    ks_entry_t *e = ks_peek(ctx->ks, ctx->argv[2], ctx->argvlen[2]);
    if (!e) {
        resp_add_null(ctx->reply);
        return;
    }
    /* the entry (header, key, inline string), its value, and its bucket's pointer */
    resp_add_int(ctx->reply, (long long)(ks_entry_mem(e) + sizeof(void *)));
}

static void add_ll(resp_buf_t *r, const char *name, long long v)
{
    resp_add_bulk_str(r, name);
    resp_add_int(r, v);
}

static void add_dbl(resp_buf_t *r, const char *name, float v)
{
    resp_add_bulk_str(r, name);
    resp_add_double(r, (double)v);   /* 7.0.15 keeps these as floats */
}

static long long pow2_at_least(long long n)
{
    long long p = 4;
    while (p < n) p <<= 1;
    return p;
}

void cmd_memory_stats(cmd_ctx_t *ctx)
{
    mem_figures_t m;
    mem_figures_get(&m);
    long long expires = workers_sum(WSTAT_EXPIRES);
    resp_buf_t *r = ctx->reply;
    resp_add_map(r, 27 + (m.keys > 0));
    add_ll(r, "peak.allocated", m.peak);
    add_ll(r, "total.allocated", m.used);
    add_ll(r, "startup.allocated", m.startup);
    add_ll(r, "replication.backlog", m.repl_backlog);
    add_ll(r, "clients.slaves", m.clients_slaves);
    add_ll(r, "clients.normal", m.clients_normal);
    add_ll(r, "cluster.links", m.cluster_links);
    add_ll(r, "aof.buffer", m.aof_buffer);
    add_ll(r, "lua.caches", 0);
    add_ll(r, "functions.caches", 0);
    if (m.keys > 0) {
        /* Our tables' shapes, in 7.0.15's three figures: the entries' headers
         * without their slot links plus the buckets; the TTL index; the
         * per-slot links (two pointers per key, cluster mode only). */
        resp_add_bulk_str(r, "db.0");
        resp_add_map(r, 3);
        add_ll(r, "overhead.hashtable.main", m.keys * (long long)(sizeof(ks_entry_t) - 2 * sizeof(void *)) +
                                                 pow2_at_least(m.keys) * (long long)sizeof(void *));
        add_ll(r, "overhead.hashtable.expires", expires * 2 * 16);
        add_ll(r, "overhead.hashtable.slot-to-keys",
               config_cluster_enabled() ? m.keys * 2 * (long long)sizeof(void *) : 0);
    }
    add_ll(r, "overhead.total", m.overhead);
    add_ll(r, "keys.count", m.keys);
    add_ll(r, "keys.bytes-per-key", m.bytes_per_key);
    add_ll(r, "dataset.bytes", m.dataset);
    add_dbl(r, "dataset.percentage", (float)m.dataset_perc);
    add_dbl(r, "peak.percentage", (float)m.peak_perc);
    add_ll(r, "allocator.allocated", m.allocator_allocated);
    add_ll(r, "allocator.active", m.allocator_active);
    add_ll(r, "allocator.resident", m.allocator_resident);
    add_dbl(r, "allocator-fragmentation.ratio", (float)m.allocator_frag);
    add_ll(r, "allocator-fragmentation.bytes", m.allocator_frag_bytes);
    add_dbl(r, "allocator-rss.ratio", (float)m.allocator_rss);
    add_ll(r, "allocator-rss.bytes", m.allocator_rss_bytes);
    add_dbl(r, "rss-overhead.ratio", (float)m.rss_extra);
    add_ll(r, "rss-overhead.bytes", m.rss_extra_bytes);
    add_dbl(r, "fragmentation", (float)m.frag);
    add_ll(r, "fragmentation.bytes", m.frag_bytes);
}

/* 7.0.15's MEMORY DOCTOR: the same checks on the same figures, its words. */
void cmd_memory_doctor(cmd_ctx_t *ctx)
{
    mem_figures_t m;
    mem_figures_get(&m);
    const long long big = 10 << 20;
    bool empty = m.used < 5 * 1024 * 1024;
    bool big_peak = false, high_frag = false, high_alloc_frag = false, high_alloc_rss = false;
    bool high_proc_rss = false, big_client_buf = false;
    if (!empty) {
        big_peak = (double)m.peak / (double)m.used > 1.5;
        high_frag = m.frag > 1.4 && m.frag_bytes > big;
        high_alloc_frag = m.allocator_frag > 1.1 && m.allocator_frag_bytes > big;
        high_alloc_rss = m.allocator_rss > 1.1 && m.allocator_rss_bytes > big;
        high_proc_rss = m.rss_extra > 1.1 && m.rss_extra_bytes > big;
        long long clients = workers_sum(WSTAT_CONNECTED_CLIENTS);
        big_client_buf = clients > 0 && m.clients_normal / clients > 1024 * 200;
    }
    char buf[8192];
    size_t n = 0;
#define DOC(...) (n += (size_t)snprintf(buf + n, n < sizeof buf ? sizeof buf - n : 0, __VA_ARGS__))
    if (empty) {
        DOC("Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in "
            "these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I "
            "will be back to our programming as soon as I finished rebooting.\n");
    } else if (!(big_peak || high_frag || high_alloc_frag || high_alloc_rss || high_proc_rss || big_client_buf)) {
        DOC("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this "
            "base.\n");
    } else {
        DOC("Sam, I detected a few issues in this Redis instance memory implants:\n\n");
        if (big_peak)
            DOC(" * Peak memory: In the past this instance used more than 150%% the memory that is currently using. "
                "The allocator is normally not able to release memory after a peak, so you can expect to see a big "
                "fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if "
                "the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be "
                "used as soon as you fill the Redis instance with more data. If the memory peak was only occasional "
                "and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only "
                "other option is to shutdown and restart the instance.\n\n");
        if (high_frag)
            DOC(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this "
                "means that the Resident Set Size of the Redis process is much larger than the sum of the logical "
                "allocations Redis performed). This problem is usually due either to a large peak memory (check if "
                "there is a peak memory entry above in the report) or may result from a workload that causes the "
                "allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. "
                "Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: "
                "The currently used allocator is \"libc\".\n\n");
        if (high_alloc_frag)
            DOC(" * High allocator fragmentation: This instance has an allocator external fragmentation greater than "
                "1.1. This problem is usually due either to a large peak memory (check if there is a peak memory "
                "entry above in the report) or may result from a workload that causes the allocator to fragment "
                "memory a lot. You can try enabling 'activedefrag' config option.\n\n");
        if (high_alloc_rss)
            DOC(" * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this "
                "means that the Resident Set Size of the allocator is much larger than the sum what the allocator "
                "actually holds). This problem is usually due to a large peak memory (check if there is a peak "
                "memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n");
        if (high_proc_rss)
            DOC(" * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than "
                "1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the "
                "allocator holds). This problem may be due to Lua scripts or Modules.\n\n");
        if (big_client_buf)
            DOC(" * Big client buffers: The clients output buffers in this instance are greater than 200K per "
                "client (on average). This may result from different causes, like Pub/Sub clients subscribed to "
                "channels bot not receiving data fast enough, so that data piles on the Redis instance output "
                "buffer, or clients sending commands with large replies or very large sequences of commands in the "
                "same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes "
                "problems in your instance, or to understand better why certain clients are using a big amount of "
                "memory.\n\n");
        DOC("I'm here to keep you safe, Sam. I want to help you.\n");
    }
#undef DOC
    resp_add_verbatim(ctx->reply, buf, n < sizeof buf ? n : sizeof buf - 1);
}

void cmd_memory_malloc_stats(cmd_ctx_t *ctx)
{
    /* what redis-server built without jemalloc answers */
    resp_add_bulk_str(ctx->reply, "Stats not supported for the current allocator");
}

void cmd_memory_purge(cmd_ctx_t *ctx)
{
    /* glibc's counterpart of jemalloc's purge: free pages back to the kernel */
    malloc_trim(0);
    resp_add_simple(ctx->reply, "OK");
}

void cmd_memory_help(cmd_ctx_t *ctx)
{
    static const char *const lines[] = {
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP",
        "    Prints this help.",
    };
    arg_reply_help(ctx, lines, sizeof lines / sizeof lines[0]);
}

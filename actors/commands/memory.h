/* memory.h - the node's memory figures as INFO memory and MEMORY STATS
 * report them (7.0.15's getMemoryOverheadData, for a libc build), and the
 * MEMORY command.
 *
 * used_memory is the sum of the threads' allocation counters
 * (runtime/memcount.h); the dataset is what the keyspaces hold (their
 * entries, values and tables); the overhead is the rest. As redis-server
 * built with libc, the allocator's own figures are stood in for by the
 * process's RSS.
 */
#ifndef SHOAL_ACTORS_MEMORY_H
#define SHOAL_ACTORS_MEMORY_H

typedef struct mem_figures {
    long long used, rss, peak, startup, overhead, dataset, maxmemory;
    double peak_perc, dataset_perc;
    long long allocator_allocated, allocator_active, allocator_resident;
    double allocator_frag, allocator_rss, rss_extra, frag;
    long long allocator_frag_bytes, allocator_rss_bytes, rss_extra_bytes, frag_bytes;
    long long not_counted, repl_backlog, clients_slaves, clients_normal, cluster_links, aof_buffer;
    long long keys, bytes_per_key;
} mem_figures_t;

/* Any thread. */
void mem_figures_get(mem_figures_t *m);

#endif

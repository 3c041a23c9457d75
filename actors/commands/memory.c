/* memory.c - see memory.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/commands/memory.h"
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
    m->startup = rt_mem_counting() ? rt_mem_startup() : 1024 * 1024;
    m->maxmemory = evict_maxmemory();
    repl_status_t rs;
    repl_status_get(&rs);
    m->repl_backlog = rs.backlog_active ? rs.backlog_histlen : 0;
    m->clients_normal = workers_sum(WSTAT_CLIENTS_MEM);
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

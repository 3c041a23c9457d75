/* link_registry.c - the registry of live peer links (link_internal.h): a
 * hash table from link id to link, under one lock, that lets any thread find
 * a link and send to it, plus the copies CLUSTER LINKS and INFO read of it.
 *
 * Every sender pushes to a link while holding the lock (link.c), and a link
 * leaves the table under it when it closes: once removed, nothing new can
 * arrive in its mailbox, which is what lets its thread free it.
 *
 * Must never: do socket I/O or wait for anything while holding the lock.
 */
#include <pthread.h>
#include <stdlib.h>

#include "actors/bus/link_internal.h"
#include "actors/bus/link_struct.h"

static pthread_mutex_t g_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static link_t **g_reg;               /* buckets, chained through hnext */
static size_t g_reg_nbuckets, g_reg_count;

static size_t bucket_of(link_id_t id, size_t nbuckets)
{
    return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 17) & (nbuckets - 1);
}

link_t *link_reg_find(link_id_t id)
{
    if (!g_reg_nbuckets) return NULL;
    for (link_t *l = g_reg[bucket_of(id, g_reg_nbuckets)]; l; l = l->hnext)
        if (l->id == id) return l;
    return NULL;
}

int link_reg_add_and_start(link_t *l)
{
    pthread_mutex_lock(&g_reg_lock);
    if (g_reg_count + 1 > g_reg_nbuckets) {
        size_t nb = g_reg_nbuckets ? g_reg_nbuckets * 2 : 64;
        link_t **nr = calloc(nb, sizeof *nr);
        if (!nr) { pthread_mutex_unlock(&g_reg_lock); return -1; }
        for (size_t i = 0; i < g_reg_nbuckets; i++) {
            for (link_t *x = g_reg[i], *next; x; x = next) {
                next = x->hnext;
                size_t b = bucket_of(x->id, nb);
                x->hnext = nr[b];
                nr[b] = x;
            }
        }
        free(g_reg);
        g_reg = nr;
        g_reg_nbuckets = nb;
    }
    size_t b = bucket_of(l->id, g_reg_nbuckets);
    l->hnext = g_reg[b];
    g_reg[b] = l;
    g_reg_count++;
    rt_send(&l->actor, &l->start_msg);
    pthread_mutex_unlock(&g_reg_lock);
    return 0;
}

void link_reg_remove(link_t *l)
{
    pthread_mutex_lock(&g_reg_lock);
    if (g_reg_nbuckets) {
        for (link_t **pp = &g_reg[bucket_of(l->id, g_reg_nbuckets)]; *pp; pp = &(*pp)->hnext) {
            if (*pp == l) {
                *pp = l->hnext;
                g_reg_count--;
                break;
            }
        }
    }
    pthread_mutex_unlock(&g_reg_lock);
}

size_t links_count(void)
{
    pthread_mutex_lock(&g_reg_lock);
    size_t n = g_reg_count;
    pthread_mutex_unlock(&g_reg_lock);
    return n;
}

void link_reg_lock(void) { pthread_mutex_lock(&g_reg_lock); }

void link_reg_unlock(void) { pthread_mutex_unlock(&g_reg_lock); }

/* ---------------- CLUSTER LINKS and INFO peers data ---------------- */

link_row_t *link_rows(size_t *n)
{
    pthread_mutex_lock(&g_reg_lock);
    size_t k = 0;
    link_row_t *rows = g_reg_count ? malloc(g_reg_count * sizeof *rows) : NULL;
    if (rows) {
        for (size_t b = 0; b < g_reg_nbuckets; b++) {
            for (link_t *l = g_reg[b]; l; l = l->hnext) {
                rows[k++] = (link_row_t){
                    .id = l->id,
                    .outbound = l->outbound,
                    .create_ms = l->create_ms, .struct_bytes = (long long)sizeof *l,
                    .events = atomic_load_explicit(&l->events, memory_order_relaxed),
                    .sendbuf_alloc = atomic_load_explicit(&l->sendbuf_alloc, memory_order_relaxed),
                    .sendbuf_used = atomic_load_explicit(&l->sendbuf_used, memory_order_relaxed),
                };
            }
        }
    }
    pthread_mutex_unlock(&g_reg_lock);
    *n = k;
    return rows;
}

link_stats_t link_stats_of(link_id_t id)
{
    link_stats_t st = { .live = false, .rtt_us = -1, .bytes_in = -1, .bytes_out = -1, .light_in = -1, .light_out = -1 };
    if (id == 0) return st;
    pthread_mutex_lock(&g_reg_lock);
    link_t *l = link_reg_find(id);
    if (l) {
        st.live = true;
        st.rtt_us = atomic_load_explicit(&l->rtt_us, memory_order_relaxed);
        st.bytes_in = atomic_load_explicit(&l->bytes_in, memory_order_relaxed);
        st.bytes_out = atomic_load_explicit(&l->bytes_out, memory_order_relaxed);
        st.light_in = atomic_load_explicit(&l->light.frames_in, memory_order_relaxed);
        st.light_out = atomic_load_explicit(&l->light.frames_out, memory_order_relaxed);
    }
    pthread_mutex_unlock(&g_reg_lock);
    return st;
}

/* client_ids.c - the set of open client ids (client_ids.h).
 *
 * Open addressing on the id, linear probing, deletion by shifting the
 * following run back (no tombstones, so churn never slows a lookup), under
 * one mutex: the callers are an accept, a close, a CLIENT TRACKING REDIRECT
 * and a redirected invalidation, none of them frequent enough for the lock
 * to be contended.
 */
#include <pthread.h>
#include <stdlib.h>

#include "actors/worker/client_ids.h"
#include "runtime/xmalloc.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t *g_slots;         /* 0 = free (ids start at 1) */
static size_t g_cap, g_count;

static size_t home(uint64_t id, size_t cap) { return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1); }

static void insert(uint64_t *slots, size_t cap, uint64_t id)
{
    size_t i = home(id, cap);
    while (slots[i] && slots[i] != id) i = (i + 1) & (cap - 1);
    slots[i] = id;
}

static void grow(void)
{
    size_t cap = g_cap ? g_cap * 2 : 1024;
    uint64_t *slots = xcalloc(cap, sizeof *slots);
    for (size_t i = 0; i < g_cap; i++)
        if (g_slots[i]) insert(slots, cap, g_slots[i]);
    free(g_slots);
    g_slots = slots;
    g_cap = cap;
}

void client_ids_add(uint64_t id)
{
    pthread_mutex_lock(&g_lock);
    if ((g_count + 1) * 2 > g_cap) grow();   /* at most half full: short probes */
    insert(g_slots, g_cap, id);
    g_count++;
    pthread_mutex_unlock(&g_lock);
}

void client_ids_del(uint64_t id)
{
    pthread_mutex_lock(&g_lock);
    if (g_cap) {
        size_t i = home(id, g_cap);
        while (g_slots[i] && g_slots[i] != id) i = (i + 1) & (g_cap - 1);
        if (g_slots[i] == id) {
            g_count--;
            /* close the gap: move back each later entry of the run whose
             * home does not lie (cyclically) between the gap and it */
            size_t gap = i;
            for (size_t j = (i + 1) & (g_cap - 1); g_slots[j]; j = (j + 1) & (g_cap - 1)) {
                size_t h = home(g_slots[j], g_cap);
                bool stays = gap <= j ? (gap < h && h <= j) : (gap < h || h <= j);
                if (stays) continue;
                g_slots[gap] = g_slots[j];
                gap = j;
            }
            g_slots[gap] = 0;
        }
    }
    pthread_mutex_unlock(&g_lock);
}

bool client_ids_exists(uint64_t id)
{
    bool found = false;
    pthread_mutex_lock(&g_lock);
    if (g_cap && id) {
        size_t i = home(id, g_cap);
        while (g_slots[i] && g_slots[i] != id) i = (i + 1) & (g_cap - 1);
        found = g_slots[i] == id;
    }
    pthread_mutex_unlock(&g_lock);
    return found;
}

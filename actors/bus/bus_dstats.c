/* bus_dstats.c - the links' per-thread message, digest and back-pressure
 * counters (bus_dstats.h). A thread's block is allocated at its first count, pushed
 * once onto a list that only grows, and kept for the process's life (one
 * per link thread, so a few). */
#include "actors/bus/bus_dstats.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/log.h"

typedef struct dstats dstats_t;
struct dstats {
    /* CLUSTER INFO's cluster_stats_messages_*: one locked add on a line both
     * workers wrote cost ~1% of a TLS gossip flood's CPU per PING and PONG */
    _Atomic long long sent[BUS_TYPE_COUNT], received[BUS_TYPE_COUNT];
    _Atomic long long digested[BUS_TYPE_COUNT + 1], forwarded[BUS_TYPE_COUNT + 1];
    _Atomic long long why[BUS_DSTATS_WHY_COUNT];
    _Atomic long long gossip_folded, gossip_pongs_noted, gossip_forwarded;
    _Atomic long long pauses, resumes, paused_us;
    dstats_t *next;                  /* set before the block is pushed, never changed */
};

static _Atomic(dstats_t *) g_head;
static _Thread_local dstats_t *t_mine;
static dstats_t g_fallback;          /* counts of threads that could not get a block: not summed */

static dstats_t *mine(void)
{
    if (t_mine) return t_mine;
    /* a line of its own: no other thread's counters next to these */
    dstats_t *d = aligned_alloc(64, (sizeof *d + 63) / 64 * 64);
    if (d) memset(d, 0, sizeof *d);
    if (!d) {
        LOG_WARNING("Out of memory: this thread's cluster bus digest counters are not kept");
        return t_mine = &g_fallback;
    }
    d->next = atomic_load_explicit(&g_head, memory_order_relaxed);
    /* release: a reader that finds d (acquire) sees its zeroed counters and next */
    while (!atomic_compare_exchange_weak_explicit(&g_head, &d->next, d, memory_order_release, memory_order_relaxed)) {}
    return t_mine = d;
}

/* Only this thread writes *c: a relaxed load and store, not a locked add.
 * Relaxed: a statistic, each value read on its own. */
static void bump(_Atomic long long *c, long long n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

static unsigned kind(unsigned type) { return type < BUS_TYPE_COUNT ? type : BUS_TYPE_COUNT; }

void bus_dstats_digested(unsigned type, unsigned gossip, unsigned pongs)
{
    dstats_t *d = mine();
    bump(&d->digested[kind(type)], 1);
    if (gossip) bump(&d->gossip_folded, gossip);
    if (pongs) bump(&d->gossip_pongs_noted, pongs);
}

void bus_dstats_forwarded(unsigned type, unsigned gossip)
{
    dstats_t *d = mine();
    bump(&d->forwarded[kind(type)], 1);
    if (gossip) bump(&d->gossip_forwarded, gossip);
}

void bus_dstats_sent(unsigned type)
{
    if (type < BUS_TYPE_COUNT) bump(&mine()->sent[type], 1);
}

void bus_dstats_received(unsigned type)
{
    if (type < BUS_TYPE_COUNT) bump(&mine()->received[type], 1);
}

void bus_dstats_why(enum bus_dstats_why why) { bump(&mine()->why[why], 1); }

void bus_dstats_paused(void) { bump(&mine()->pauses, 1); }

void bus_dstats_resumed(long long us)
{
    dstats_t *d = mine();
    bump(&d->resumes, 1);
    if (us > 0) bump(&d->paused_us, us);
}

static long long rd(_Atomic long long *c) { return atomic_load_explicit(c, memory_order_relaxed); }

void bus_dstats_sum(bus_dstats_sum_t *out)
{
    memset(out, 0, sizeof *out);
    /* acquire: pairs with the push's release */
    for (dstats_t *d = atomic_load_explicit(&g_head, memory_order_acquire); d; d = d->next) {
        for (int k = 0; k < BUS_TYPE_COUNT; k++) {
            out->sent[k] += rd(&d->sent[k]);
            out->received[k] += rd(&d->received[k]);
        }
        for (int k = 0; k <= BUS_TYPE_COUNT; k++) {
            out->digested[k] += rd(&d->digested[k]);
            out->forwarded[k] += rd(&d->forwarded[k]);
        }
        for (int k = 0; k < BUS_DSTATS_WHY_COUNT; k++) out->why[k] += rd(&d->why[k]);
        out->gossip_folded += rd(&d->gossip_folded);
        out->gossip_pongs_noted += rd(&d->gossip_pongs_noted);
        out->gossip_forwarded += rd(&d->gossip_forwarded);
        out->pauses += rd(&d->pauses);
        out->resumes += rd(&d->resumes);
        out->paused_us += rd(&d->paused_us);
    }
}

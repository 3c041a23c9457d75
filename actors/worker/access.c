/* access.c - the per-key access clock behind OBJECT IDLETIME and OBJECT FREQ,
 * kept as redis-server 7.0.15 keeps an object's 24 lru bits.
 *
 * Under an LRU policy (or none) an entry holds the LRU clock of its last
 * access: unix seconds, 24 bits, wrapping after 194 days as Redis's does;
 * OBJECT IDLETIME is the clock now minus that. Under volatile-lfu or
 * allkeys-lfu it holds the minute of the last access (16 bits) and an 8-bit
 * counter that starts at 5, decays by one per lfu-decay-time minutes, and on
 * an access grows with probability 1 / ((counter - 5) * lfu-log-factor + 1);
 * OBJECT FREQ is the counter after its decay. Like Redis, switching policies
 * leaves the old meaning in the entries until they are accessed again.
 *
 * The clocks are cached and advanced by the workers' cron every 100 ms, as
 * Redis's serverCron advances its lruclock; an access only reads them. Every
 * worker's cron ticks them with its own reading of the time, so a reading
 * older than the cached one (a cron descheduled between its clock read and
 * its tick) is dropped: a clock that stepped back by a second would make
 * each key stamped in that second look 194 days idle, and each LFU counter
 * stamped in that minute decay to 0 (the minutes wrap too). Only a step
 * back of more than an hour (the wall clock itself was set back) is taken.
 *
 * While a fork child lives (a BGSAVE's or a rewrite's, rdb_save.c) an access
 * leaves the entry as it is, as 7.0.15's lookupKey does with an active child:
 * the child holds the parent's pages copy-on-write, and one stamp on an entry
 * only read would make the kernel copy its whole page for the worker. A
 * write over a key that writes the entry anyway still stamps it under LRU
 * (7.0.15's new value object carries the clock of now), not under LFU (the
 * new object takes the old counter).
 *
 * Must never: take a lock or make a system call on an access.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "actors/config/config.h"
#include "actors/worker/keyspace.h"
#include "runtime/actor.h"

#define LRU_MAX ((1u << 24) - 1)
#define LFU_INIT 5

/* relaxed throughout: clocks read by any thread, a late value is as good as Redis's cached one */
static _Atomic long long g_unix_s;       /* unix seconds: both clocks derive from this one word */
#define STEP_BACK_S 3600                 /* a reading further back than this is the wall clock's own step */
/* fork children alive (ks_fork_child_begin/end, read by keyspace.c too); relaxed: a worker that
 * sees the change one access late costs one page copy, or stamps one key
 * less, nothing else depends on it */
static _Atomic int g_children;
static _Atomic int g_idx_policy = CONFIG_IDX_UNSET, g_idx_log = CONFIG_IDX_UNSET, g_idx_decay = CONFIG_IDX_UNSET;

static long long cfg(_Atomic int *idx, const char *name) { return config_num_cached(idx, name); }

static bool lfu_mode(void)
{
    long long p = cfg(&g_idx_policy, "maxmemory-policy");
    return p == 1 || p == 5;          /* volatile-lfu, allkeys-lfu (the config table's order) */
}

void ks_access_tick(long long now_ms)
{
    long long now = now_ms / 1000;
    long long seen = atomic_load_explicit(&g_unix_s, memory_order_relaxed);
    do {
        if (now == seen || (now < seen && seen - now <= STEP_BACK_S)) return;   /* not newer */
    } while (!atomic_compare_exchange_weak_explicit(&g_unix_s, &seen, now, memory_order_relaxed,
                                                    memory_order_relaxed));
}

static long long unix_now(void)
{
    long long s = atomic_load_explicit(&g_unix_s, memory_order_relaxed);
    if (s) return s;
    /* Before the first tick (loading at start, unit tests). */
    ks_access_tick(rt_now_ms());
    return atomic_load_explicit(&g_unix_s, memory_order_relaxed);
}

static uint32_t lru_now(void) { return (uint32_t)(unix_now() & LRU_MAX); }

static uint32_t minutes_now(void) { return (uint32_t)((unix_now() / 60) & 65535); }

uint32_t ks_access_initial(void)
{
    return lfu_mode() ? (minutes_now() << 8) | LFU_INIT : lru_now();
}

/* The counter after the decay of the minutes since the last access. */
static int lfu_decayed(uint32_t v)
{
    uint32_t ldt = v >> 8, now = minutes_now();
    int counter = (int)(v & 255);
    long long decay = cfg(&g_idx_decay, "lfu-decay-time");
    uint32_t elapsed = now >= ldt ? now - ldt : 65535 - ldt + now;
    long long periods = decay ? (long long)elapsed / decay : 0;
    return periods > counter ? 0 : counter - (int)periods;
}

static double rand01(void)
{
    static __thread uint64_t s;
    if (!s) s = (uint64_t)(uintptr_t)&s ^ (uint64_t)rt_now_ms() ^ 0x9E3779B97F4A7C15ull;
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return (double)(s >> 11) / 9007199254740992.0;
}

void ks_fork_child_begin(void) { atomic_fetch_add_explicit(&g_children, 1, memory_order_relaxed); }
void ks_fork_child_end(void) { atomic_fetch_sub_explicit(&g_children, 1, memory_order_relaxed); }

bool ks_fork_child_live(void) { return atomic_load_explicit(&g_children, memory_order_relaxed) > 0; }

static void stamp(ks_entry_t *e);

void ks_access_touch(ks_entry_t *e)
{
    if (!ks_fork_child_live()) stamp(e);
}

void ks_access_touch_write(ks_entry_t *e)
{
    if (!ks_fork_child_live() || !lfu_mode()) stamp(e);
}

static void stamp(ks_entry_t *e)
{
    if (!lfu_mode()) {
        ks_entry_set_access(e, lru_now());
        return;
    }
    int counter = lfu_decayed(ks_entry_access(e));
    if (counter < 255) {
        int base = counter - LFU_INIT < 0 ? 0 : counter - LFU_INIT;
        double p = 1.0 / ((double)base * (double)cfg(&g_idx_log, "lfu-log-factor") + 1.0);
        if (rand01() < p) counter++;
    }
    ks_entry_set_access(e, (minutes_now() << 8) | (uint32_t)counter);
}

void ks_access_rdb_fields(const ks_entry_t *e, long long *idle_s, int *freq)
{
    long long p = cfg(&g_idx_policy, "maxmemory-policy");
    *idle_s = p == 0 || p == 4 ? ks_access_idle_s(e) : -1;   /* volatile-lru, allkeys-lru */
    *freq = p == 1 || p == 5 ? ks_access_freq(e) : -1;
}

long long ks_access_idle_s(const ks_entry_t *e)
{
    uint32_t now = lru_now(), v = ks_entry_access(e);
    return now >= v ? (long long)(now - v) : (long long)(now + (LRU_MAX - v));
}

int ks_access_freq(const ks_entry_t *e)
{
    return lfu_decayed(ks_entry_access(e));
}

void ks_access_restore(ks_entry_t *e, long long idle_s, long long freq)
{
    if (lfu_mode()) {
        if (freq >= 0) ks_entry_set_access(e, (minutes_now() << 8) | (uint32_t)freq);
    } else if (idle_s >= 0) {
        uint32_t now = lru_now();
        long long v = (long long)now - idle_s;
        /* An idle time longer than the clock: half the clock's range back, as 7.0.15 */
        if (v < 0) v = ((long long)now + LRU_MAX / 2) % LRU_MAX;
        ks_entry_set_access(e, (uint32_t)v);
    }
}

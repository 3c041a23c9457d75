/* evict.c - see evict.h. */
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/config/config.h"
#include "actors/failover/wpause.h"
#include "actors/persist/aof.h"
#include "actors/persist/rdb_load.h"
#include "actors/repl/repl.h"
#include "actors/state/state.h"
#include "actors/worker/asm_lane.h"
#include "actors/worker/batch.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/evict.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/latency.h"
#include "actors/worker/notify.h"
#include "actors/worker/pubsub.h"
#include "actors/worker/blocking.h"
#include "actors/worker/tracking.h"
#include "actors/worker/worker_internal.h"
#include "runtime/log.h"
#include "actors/worker/wdb.h"
#include "runtime/memcount.h"
#include "runtime/xmalloc.h"

#define EVPOOL_SIZE 16          /* candidates kept, as 7.0.15's EVPOOL_SIZE */
#define EVPOOL_KEY_CACHE 255    /* a key up to this long is copied into the pool's own buffer */

typedef struct evict_candidate {
    unsigned long long score;   /* higher: evicted first */
    size_t keylen;
    int db;                     /* the database it was sampled in */
    uint8_t *key;               /* NULL: an empty place; else cache or its own allocation */
    uint8_t cache[EVPOOL_KEY_CACHE];
} evict_candidate_t;

struct evict_pool {
    evict_candidate_t *c[EVPOOL_SIZE];  /* by score, ascending; empty places at the end */
    evict_candidate_t store[EVPOOL_SIZE];   /* what c points into: places move, keys stay put */
};

/* Config indices, looked up once (relaxed: any thread may look them up, all get the same). */
static _Atomic int g_idx_max = CONFIG_IDX_UNSET, g_idx_policy = CONFIG_IDX_UNSET, g_idx_samples = CONFIG_IDX_UNSET,
                   g_idx_tenacity = CONFIG_IDX_UNSET, g_idx_ignore = CONFIG_IDX_UNSET;

static long long cfg(_Atomic int *idx, const char *name) { return config_num_cached(idx, name); }

long long evict_maxmemory(void) { return cfg(&g_idx_max, "maxmemory"); }
int evict_policy(void) { return (int)cfg(&g_idx_policy, "maxmemory-policy"); }

long long evict_used_memory(void)
{
    long long used = rt_mem_used();
    if (!rt_mem_counting()) used = workers_sum(WSTAT_USED_BYTES) + 1024 * 1024;   /* sanitizer builds */
    return used;
}

long long evict_not_counted_memory(void)
{
    return repl_buffers_bytes() + aof_buffer_bytes() + batch_bytes_in_transit() + pubsub_bytes_in_transit();
}

/* 7.0.15's getMaxmemoryState: what is compared with maxmemory leaves out
 * the replicas' buffers and the AOF's (evicting keys cannot shrink them),
 * and ours the commands on their way to the worker of their keys (nor can
 * it shrink those: they become keys there, which it can evict). */
static long long counted_memory(void)
{
    long long used = evict_used_memory(), skip = evict_not_counted_memory();
    return used > skip ? used - skip : 0;
}

static bool policy_volatile(int p) { return p <= EVICT_VOLATILE_TTL; }

/* Keys the policy may take, on the whole node (published counts). */
static long long candidates_on_node(int policy)
{
    return workers_sum(policy_volatile(policy) ? WSTAT_EXPIRES : WSTAT_KEYS);
}

bool evict_out_of_memory(void)
{
    long long max = evict_maxmemory();
    if (max <= 0 || counted_memory() <= max) return false;
    int p = evict_policy();
    return p == EVICT_NOEVICTION || candidates_on_node(p) == 0;
}

static _Atomic bool g_loading;

/* relaxed: set before the replay's messages are sent and cleared after the workers answered them */
void evict_set_loading(bool on) { atomic_store_explicit(&g_loading, on, memory_order_relaxed); }

static bool replica_ignores(void) { return cfg(&g_idx_ignore, "replica-ignore-maxmemory") != 0; }

bool evict_refuses(const struct cluster_snapshot *snap, bool denyoom)
{
    if (!denyoom || evict_maxmemory() <= 0) return false;
    if (snap && (snap->nodes[snap->myself].flags & NODE_SLAVE) && replica_ignores()) return false;
    return evict_out_of_memory();
}

/* 7.0.15's isSafeToPerformEvictions: not while loading, not during a client
 * pause (the dataset stays still then), and not on a replica unless
 * replica-ignore-maxmemory is no (then it evicts on its own). */
static bool may_evict(worker_t *w)
{
    if (atomic_load_explicit(&g_loading, memory_order_relaxed) || rdb_load_refusing()) return false;
    if (!ks_replica_mode(w->ks)) return true;   /* a master, not paused */
    bool replica = w->cur && (w->cur->nodes[w->cur->myself].flags & NODE_SLAVE);
    return replica && wpause_mode() == WPAUSE_OFF && !replica_ignores();
}

/* 7.0.15's evictionTimeLimitUs: tenacity 0..10 gives 0..500 us, then 15 %
 * more per step, 100 means no limit. */
static long long time_limit_us(void)
{
    long long t = cfg(&g_idx_tenacity, "maxmemory-eviction-tenacity");
    if (t <= 10) return 50 * t;
    if (t < 100) return (long long)(500.0 * pow(1.15, (double)t - 10.0));
    return LLONG_MAX;
}

static long long mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static unsigned long long score_of(struct keyspace *ks, ks_entry_t *e, int policy)
{
    switch (policy) {
    case EVICT_VOLATILE_LRU:
    case EVICT_ALLKEYS_LRU:
        return (unsigned long long)ks_access_idle_s(e) * 1000;   /* ms, as estimateObjectIdleTime */
    case EVICT_VOLATILE_LFU:
    case EVICT_ALLKEYS_LFU:
        return 255 - (unsigned long long)ks_access_freq(e);
    default:   /* volatile-ttl: the sooner it expires, the better */
        return ULLONG_MAX - (unsigned long long)ks_entry_expire(ks, e);
    }
}

static void cand_clear(evict_candidate_t *c)
{
    if (c->key && c->key != c->cache) free(c->key);
    c->key = NULL;
}

static void cand_set(evict_candidate_t *c, int db, const uint8_t *key, size_t len, unsigned long long score)
{
    c->db = db;
    c->key = len <= EVPOOL_KEY_CACHE ? c->cache : xmalloc(len);
    memcpy(c->key, key, len);
    c->keylen = len;
    c->score = score;
}

static bool in_pool(const struct evict_pool *p, int db, const uint8_t *key, size_t len)
{
    for (int i = 0; i < EVPOOL_SIZE && p->c[i]->key; i++)
        if (p->c[i]->db == db && p->c[i]->keylen == len && memcmp(p->c[i]->key, key, len) == 0) return true;
    return false;
}

/* 7.0.15's evictionPoolPopulate: a sample goes in at its place by score;
 * when the pool is full, a better one pushes the worst out of the low end. */
static void pool_populate(struct evict_pool *p, struct keyspace *ks, int db, int policy)
{
    long long want = cfg(&g_idx_samples, "maxmemory-samples");
    ks_entry_t *small[16], **sample = small;
    if (want > 16) sample = xmalloc(sizeof *sample * (size_t)want);
    size_t got = ks_sample(ks, policy_volatile(policy), sample, (size_t)want);
    for (size_t s = 0; s < got; s++) {
        ks_entry_t *e = sample[s];
        size_t len;
        const uint8_t *key = ks_entry_key(e, &len);
        if (in_pool(p, db, key, len)) continue;
        unsigned long long score = score_of(ks, e, policy);
        int k = 0;
        while (k < EVPOOL_SIZE && p->c[k]->key && p->c[k]->score < score) k++;
        if (k == 0 && p->c[EVPOOL_SIZE - 1]->key) continue;   /* worse than every one kept */
        if (k < EVPOOL_SIZE && !p->c[k]->key) {
            /* an empty place */
        } else if (!p->c[EVPOOL_SIZE - 1]->key) {
            evict_candidate_t *spare = p->c[EVPOOL_SIZE - 1];     /* room on the right */
            memmove(&p->c[k + 1], &p->c[k], sizeof p->c[0] * (size_t)(EVPOOL_SIZE - 1 - k));
            p->c[k] = spare;
        } else {
            k--;                                       /* full: drop the lowest, shift left */
            evict_candidate_t *spare = p->c[0];
            cand_clear(spare);
            memmove(&p->c[0], &p->c[1], sizeof p->c[0] * (size_t)k);
            p->c[k] = spare;
        }
        cand_set(p->c[k], db, key, len, score);
    }
    if (sample != small) free(sample);
}

/* The best candidate that still exists, taken out of the pool (NULL: none;
 * *db: its database). */
static ks_entry_t *pool_take(worker_t *w, struct evict_pool *p, int policy, int *db)
{
    for (int k = EVPOOL_SIZE - 1; k >= 0; k--) {
        evict_candidate_t *c = p->c[k];
        if (!c->key) continue;
        struct keyspace *ks = wdb_peek(w, c->db);
        ks_entry_t *e = ks ? ks_peek(ks, c->key, c->keylen) : NULL;
        *db = c->db;
        cand_clear(c);
        if (e && (!policy_volatile(policy) || (ks_entry_flags(e) & KS_EF_TTL))) return e;
    }
    return NULL;
}

/* Keys the policy may take in w's database db. */
static size_t candidates_in(worker_t *w, int db, int policy)
{
    struct keyspace *ks = wdb_peek(w, db);
    if (!ks) return 0;
    return policy_volatile(policy) ? ks_expires_count(ks) : ks_size(ks);
}

/* The key to evict next and its database (*db), from every database of w
 * as 7.0.15's performEvictions: the random policies take the next database
 * with a key in turn, the others sample each database into one pool. */
static ks_entry_t *pick(worker_t *w, int policy, int *db)
{
    int top = wdb_top(w);
    if (policy == EVICT_ALLKEYS_RANDOM || policy == EVICT_VOLATILE_RANDOM) {
        static __thread int next_db;   /* this worker's turn, as 7.0.15's static next_db */
        for (int i = 0; i < top; i++) {
            int d = (next_db++) % top;
            if (next_db >= top) next_db = 0;
            if (candidates_in(w, d, policy) == 0) continue;
            /* a sample of one can come back empty (a run of empty buckets
             * in a sparse table): draw again while the keyspace has a key
             * to give, as 7.0.15's dictGetRandomKey does */
            struct keyspace *ks = wdb_peek(w, d);
            ks_entry_t *e = NULL;
            while (candidates_in(w, d, policy) > 0 && !ks_sample(ks, policy == EVICT_VOLATILE_RANDOM, &e, 1)) {}
            if (e) {
                *db = d;
                return e;
            }
        }
        return NULL;
    }
    if (!w->evpool) {
        w->evpool = xcalloc(1, sizeof *w->evpool);
        for (int i = 0; i < EVPOOL_SIZE; i++) w->evpool->c[i] = &w->evpool->store[i];
    }
    for (;;) {
        size_t keys = 0;
        for (int d = 0; d < top; d++) {
            size_t n = candidates_in(w, d, policy);
            if (n == 0) continue;
            keys += n;
            pool_populate(w->evpool, wdb_peek(w, d), d, policy);
        }
        if (keys == 0) return NULL;
        ks_entry_t *e = pool_take(w, w->evpool, policy, db);
        if (e) return e;
    }
}

/* Deletes e as an eviction: DEL to replicas and the AOF first (as 7.0.15's
 * propagateDeletion), then the key, then WATCH, tracking and the event. */
static void evict_entry(worker_t *w, ks_entry_t *e)
{
    size_t len;
    const uint8_t *k = ks_entry_key(e, &len);
    uint8_t small[256];
    uint8_t *key = len <= sizeof small ? small : xmalloc(len);
    memcpy(key, k, len);
    if (repl_worker_propagates(w->ks)) repl_propagate_del(w->repl, key, len);
    if (asm_lane_any(w)) asm_lane_note_expired(w, key, len);
    ks_delete_entry(w->ks, e);
    /* a WATCH of it fails: in its owner's tables, which WATCH and EXEC
     * read (the same worker unless a call over several workers moved it here) */
    worker_touch_key_in(worker_key_keeper(w, key, len), w->cur_db, key, len);
    /* owner-only writer, relaxed: a statistic */
    tracking_key_gone(w, key, len);
    blocking_key_gone(w, key, len);
    notify_evicted(key, len);
    atomic_store_explicit(&w->stats.evicted_keys,
                          atomic_load_explicit(&w->stats.evicted_keys, memory_order_relaxed) + 1, memory_order_relaxed);
    if (key != small) free(key);
}

/* w's share of what is above the limit: in proportion to its dataset. */
static long long share_to_free(worker_t *w, long long over)
{
    long long mine = 0;
    for (int d = 0; d < wdb_top(w); d++)
        if (wdb_peek(w, d)) mine += (long long)ks_used_bytes(wdb_peek(w, d));
    long long all = mine;
    for (int i = 0; i < g_nworkers; i++)
        if (i != w->index) all += worker_stat(i, WSTAT_USED_BYTES);
    if (all <= 0 || mine >= all) return over;
    return (long long)((double)over * (double)mine / (double)all);
}

int evict_perform(worker_t *w)
{
    long long max = evict_maxmemory();
    if (max <= 0 || !may_evict(w)) return EVICT_OK;
    long long used = counted_memory();
    if (used <= max) return EVICT_OK;
    int policy = evict_policy();
    if (policy == EVICT_NOEVICTION) return EVICT_FAIL;
    long long to_free = share_to_free(w, used - max);
    long long limit = time_limit_us(), start = mono_us(), freed = 0;
    bool timed = latency_threshold_ms() > 0;
    int result = EVICT_OK;
    unsigned n = 0;
    do {
        int db = 0;
        ks_entry_t *e = pick(w, policy, &db);
        if (!e) {
            /* nothing here; other workers may still have keys to give */
            result = candidates_on_node(policy) > 0 ? EVICT_RUNNING : EVICT_FAIL;
            break;
        }
        /* Sanitizer builds count no allocations: what is freed is measured
         * as their used memory is (evict_used_memory), by the keyspace's
         * byte count. */
        struct keyspace *from = wdb_peek(w, db);
        long long before = rt_mem_counting() ? rt_mem_thread_net() : (long long)ks_used_bytes(from);
        long long t0 = timed ? mono_us() : 0;
        /* its database current: the DEL, WATCH bucket and event are its */
        int prev = wdb_use(w, db);
        evict_entry(w, e);
        wdb_use(w, prev);
        if (timed) latency_note("eviction-del", (mono_us() - t0) / 1000);
        long long delta = before - (rt_mem_counting() ? rt_mem_thread_net() : (long long)ks_used_bytes(from));
        freed += delta > 0 ? delta : 0;
        /* the clock every 16 keys, as 7.0.15 */
        if ((++n & 15) == 0 && mono_us() - start > limit) {
            result = EVICT_RUNNING;
            break;
        }
    } while (freed < to_free);
    if (timed) latency_note("eviction-cycle", (mono_us() - start) / 1000);
    if (w->db_top == 1) {
        atomic_store_explicit(&w->stats.used_bytes, (long long)ks_used_bytes(w->ks), memory_order_relaxed);
        wdb_publish_current(w);
    } else {
        wdb_publish_all(w, -1);   /* the totals are every database's */
    }
    return result;
}

/* ---- eviction between commands after CONFIG SET ---- */

static void evict_again(worker_t *w, rt_msg_t *msg)
{
    /* relaxed: our own counter */
    long long before = atomic_load_explicit(&w->stats.evicted_keys, memory_order_relaxed);
    worker_snap_enter(w);
    int r = evict_perform(w);
    worker_snap_leave(w);
    repl_flush(w->repl);   /* the DELs go to replicas before more work */
    bool progress = atomic_load_explicit(&w->stats.evicted_keys, memory_order_relaxed) != before;
    /* again after whatever else is queued; a worker with nothing left to
     * give stops (the cron and the commands still check) */
    if (r == EVICT_RUNNING && progress) rt_send(&w->actor, msg);
    else free(msg);
}

static void on_config_change(const char *name, void *arg)
{
    (void)arg;
    if (strcmp(name, "maxmemory") && strcmp(name, "maxmemory-policy") && strcmp(name, "maxmemory-eviction-tenacity") &&
        strcmp(name, "replica-ignore-maxmemory"))
        return;
    long long max = evict_maxmemory(), used = counted_memory();
    if (max <= 0 || used <= max) return;
    if (!strcmp(name, "maxmemory"))
        LOG_WARNING("WARNING: the new maxmemory value set via CONFIG SET (%lld) is smaller than the current memory "
                    "usage (%lld). This will result in key eviction and/or the inability to accept new write "
                    "commands depending on the maxmemory-policy.", max, used);
    for (int i = 0; i < g_nworkers; i++) {
        worker_run_t *m = xcalloc(1, sizeof *m);
        m->hdr.type = WMSG_RUN;
        m->fn = evict_again;
        rt_send(&g_workers[i]->actor, &m->hdr);
    }
}

void evict_init(void)
{
    if (config_subscribe(on_config_change, NULL) != 0)
        LOG_WARNING("a lowered maxmemory will be reached through commands and the cron only");
}

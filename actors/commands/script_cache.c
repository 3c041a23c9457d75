/* script_cache.c - the node's EVAL script cache: sha1 -> script body.
 *
 * One cache per node, shared by every worker: SCRIPT LOAD on one worker makes
 * EVALSHA work on all. Entries are immutable once added (a body never changes
 * for its sha), so a reader copies the body out under the lock and compiles
 * it into its own worker's Lua state lazily (script_lua.c). SCRIPT FLUSH
 * empties the cache and bumps a generation that every worker compares with
 * the one its Lua state was built for: a stale state is dropped and rebuilt.
 *
 * Must never: hand out a pointer into the cache outside the lock.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "actors/commands/script.h"
#include "actors/worker/worker.h"
#include "runtime/xmalloc.h"

typedef struct centry {
    char sha[41];
    char *body;
    size_t len;
    unsigned flags;               /* its shebang's SCRIPT_F_* (the body was compiled, so it is valid) */
    struct centry *next;
} centry_t;

#define NBUCKETS 1024
static centry_t *buckets[NBUCKETS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic unsigned long cache_gen = 1;
static long long cache_count, cache_bytes;   /* under cache_lock: INFO's figures */
/* Each worker's Lua VMs as last measured (after a script ran there): EVAL's
 * and FUNCTION's; the owner writes, INFO reads (relaxed: statistics). */
static _Atomic long long vm_bytes[2][MAX_WORKERS];

static unsigned bucket_of(const char *sha)
{
    unsigned h = 0;
    for (int i = 0; i < 8; i++) h = h * 16u + (unsigned)(sha[i] <= '9' ? sha[i] - '0' : (sha[i] | 0x20) - 'a' + 10);
    return h % NBUCKETS;
}

static centry_t *find_locked(const char *sha)
{
    for (centry_t *e = buckets[bucket_of(sha)]; e; e = e->next)
        if (!memcmp(e->sha, sha, 40)) return e;
    return NULL;
}

void script_cache_add(const char *sha, const char *body, size_t len)
{
    pthread_mutex_lock(&cache_lock);
    if (!find_locked(sha)) {
        centry_t *e = xcalloc(1, sizeof *e);
        memcpy(e->sha, sha, 40);
        e->body = xmalloc(len + 1);
        memcpy(e->body, body, len);
        e->body[len] = 0;
        e->len = len;
        size_t skip;
        if (!script_shebang(e->body, len, &e->flags, &skip, NULL)) e->flags = SCRIPT_F_COMPAT;
        unsigned b = bucket_of(sha);
        e->next = buckets[b];
        buckets[b] = e;
        cache_count++;
        cache_bytes += (long long)(sizeof *e + len + 1);
    }
    pthread_mutex_unlock(&cache_lock);
}

char *script_cache_get(const char *sha, size_t *len)
{
    char *out = NULL;
    pthread_mutex_lock(&cache_lock);
    centry_t *e = find_locked(sha);
    if (e) {
        out = xmalloc(e->len + 1);
        memcpy(out, e->body, e->len + 1);
        *len = e->len;
    }
    pthread_mutex_unlock(&cache_lock);
    return out;
}

bool script_cache_flags(const char *sha, unsigned *flags)
{
    pthread_mutex_lock(&cache_lock);
    centry_t *e = find_locked(sha);
    if (e) *flags = e->flags;
    pthread_mutex_unlock(&cache_lock);
    return e != NULL;
}

bool script_cache_exists(const char *sha, size_t len)
{
    if (len != 40) return false;
    char low[41];
    for (int i = 0; i < 40; i++) low[i] = (char)((sha[i] >= 'A' && sha[i] <= 'Z') ? sha[i] | 0x20 : sha[i]);
    low[40] = 0;
    pthread_mutex_lock(&cache_lock);
    bool r = find_locked(low) != NULL;
    pthread_mutex_unlock(&cache_lock);
    return r;
}

void script_cache_flush(void)
{
    pthread_mutex_lock(&cache_lock);
    for (int b = 0; b < NBUCKETS; b++) {
        centry_t *e = buckets[b];
        while (e) {
            centry_t *n = e->next;
            free(e->body);
            free(e);
            e = n;
        }
        buckets[b] = NULL;
    }
    cache_count = cache_bytes = 0;
    /* relaxed: a worker reading the old value runs one more script from its
     * old state, which is what a script racing with the flush may do */
    atomic_fetch_add_explicit(&cache_gen, 1, memory_order_relaxed);
    pthread_mutex_unlock(&cache_lock);
}

unsigned long script_cache_gen(void)
{
    return atomic_load_explicit(&cache_gen, memory_order_relaxed);   /* see script_cache_flush */
}

void script_vm_publish(int worker, bool functions, long long bytes)
{
    atomic_store_explicit(&vm_bytes[functions][worker], bytes, memory_order_relaxed);   /* a statistic */
}

void script_memory_info(script_mem_t *m)
{
    pthread_mutex_lock(&cache_lock);
    m->cached_scripts = cache_count;
    m->scripts_eval = cache_bytes;
    pthread_mutex_unlock(&cache_lock);
    m->vm_eval = m->vm_functions = 0;
    for (int i = 0; i < MAX_WORKERS; i++) {
        m->vm_eval += atomic_load_explicit(&vm_bytes[0][i], memory_order_relaxed);
        m->vm_functions += atomic_load_explicit(&vm_bytes[1][i], memory_order_relaxed);
    }
}

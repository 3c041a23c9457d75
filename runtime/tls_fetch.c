/* tls_fetch.c - OpenSSL's algorithm fetches, answered per thread.
 *
 * OpenSSL 3.0 looks an algorithm up by name every time it is used: a TLS
 * 1.3 handshake fetches a digest about 66 times (the transcript, HKDF, the
 * signatures), the TLS 1.3 KDF 21 times (each label of the key schedule), a
 * MAC 10 times and a signature algorithm 6 times. Each fetch takes the name
 * map's and the method store's read-write locks (global, so the workers'
 * handshakes bounce their cache lines between cores), hashes the name and
 * the property query, and returns the store's object with a new reference.
 * Profiled on the bench's full handshakes, the fetches were about 5% of the
 * node's CPU.
 *
 * This file defines EVP_MD_fetch, EVP_KDF_fetch, EVP_MAC_fetch and
 * EVP_SIGNATURE_fetch in the executable, so calls from libssl and
 * libcrypto's calls through its PLT come here (as runtime/tls_certcache.c
 * takes d2i_X509). The first fetch of a (library context, name, property
 * query) on a thread goes to OpenSSL's and its result is kept with a
 * reference of the cache's; the next ones return that object with a new
 * reference, as OpenSSL's store would: a fetched method is immutable, and
 * the store hands the same object to every caller of the same query.
 *
 * Why that stays right: what a fetch returns changes only when providers
 * are loaded or unloaded or default properties set, which the node never
 * does after start-up (its TLS contexts use the default library context
 * and OpenSSL's default provider; it makes no library context of its own,
 * so none is freed and its address reused under a cached method). A failed
 * fetch is not kept.
 *
 * Must never: keep more than FETCH_SLOTS methods per thread; return a
 * method for another query than the one it was fetched for; lock.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "runtime/tls_fetch.h"

enum { KIND_MD, KIND_KDF, KIND_MAC, KIND_SIGNATURE, KINDS };

typedef struct {
    void *method;               /* one reference, the cache's; NULL = free slot */
    OSSL_LIB_CTX *libctx;
    int kind;
    char name[FETCH_NAME_MAX];
    char props[FETCH_NAME_MAX];
    bool has_props;             /* props NULL and "" are different queries */
    uint64_t used;
} fslot_t;

enum { CACHE_UNUSED, CACHE_LIVE, CACHE_GONE };

static __thread struct {
    fslot_t slot[FETCH_SLOTS];
    uint64_t tick, hits, misses;
    int state;
} cache;

static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static EVP_MD *(*real_md)(OSSL_LIB_CTX *, const char *, const char *);
static EVP_KDF *(*real_kdf)(OSSL_LIB_CTX *, const char *, const char *);
static EVP_MAC *(*real_mac)(OSSL_LIB_CTX *, const char *, const char *);
static EVP_SIGNATURE *(*real_sig)(OSSL_LIB_CTX *, const char *, const char *);
static pthread_key_t exit_key;
static bool exit_key_ok;

static bool have_real(int kind)
{
    switch (kind) {
    case KIND_MD: return real_md != NULL;
    case KIND_KDF: return real_kdf != NULL;
    case KIND_MAC: return real_mac != NULL;
    default: return real_sig != NULL;
    }
}

/* OpenSSL's own fetch (libcrypto's, found past this executable). */
static void *real_fetch(int kind, OSSL_LIB_CTX *libctx, const char *name, const char *props)
{
    switch (kind) {
    case KIND_MD: return real_md(libctx, name, props);
    case KIND_KDF: return real_kdf(libctx, name, props);
    case KIND_MAC: return real_mac(libctx, name, props);
    default: return real_sig(libctx, name, props);
    }
}

static int up_ref(int kind, void *m)
{
    switch (kind) {
    case KIND_MD: return EVP_MD_up_ref(m);
    case KIND_KDF: return EVP_KDF_up_ref(m);
    case KIND_MAC: return EVP_MAC_up_ref(m);
    default: return EVP_SIGNATURE_up_ref(m);
    }
}

static void method_free(int kind, void *m)
{
    switch (kind) {
    case KIND_MD: EVP_MD_free(m); break;
    case KIND_KDF: EVP_KDF_free(m); break;
    case KIND_MAC: EVP_MAC_free(m); break;
    default: EVP_SIGNATURE_free(m); break;
    }
}

static void on_thread_exit(void *arg)
{
    (void)arg;
    tls_fetch_drain();
    cache.state = CACHE_GONE;
}

static void setup(void)
{
    *(void **)&real_md = dlsym(RTLD_NEXT, "EVP_MD_fetch");
    *(void **)&real_kdf = dlsym(RTLD_NEXT, "EVP_KDF_fetch");
    *(void **)&real_mac = dlsym(RTLD_NEXT, "EVP_MAC_fetch");
    *(void **)&real_sig = dlsym(RTLD_NEXT, "EVP_SIGNATURE_fetch");
    exit_key_ok = pthread_key_create(&exit_key, on_thread_exit) == 0;
}

/* A thread caches only once its cache will be emptied when it ends. */
static bool cache_usable(void)
{
    if (cache.state == CACHE_LIVE) return true;
    if (cache.state == CACHE_GONE) return false;
    cache.state = exit_key_ok && pthread_setspecific(exit_key, &cache) == 0 ? CACHE_LIVE : CACHE_GONE;
    return cache.state == CACHE_LIVE;
}

static bool same_query(const fslot_t *s, int kind, OSSL_LIB_CTX *libctx, const char *name, const char *props)
{
    if (s->kind != kind || s->libctx != libctx || strcmp(s->name, name) != 0) return false;
    if (!props) return !s->has_props;
    return s->has_props && strcmp(s->props, props) == 0;
}

/* Keeps m (a reference of its own) for the query, in the least recently
 * used slot. */
static void keep(int kind, OSSL_LIB_CTX *libctx, const char *name, const char *props, void *m)
{
    fslot_t *victim = &cache.slot[0];
    for (int i = 0; i < FETCH_SLOTS; i++) {
        fslot_t *s = &cache.slot[i];
        if (!s->method) { victim = s; break; }
        if (s->used < victim->used) victim = s;
    }
    if (up_ref(kind, m) != 1) return;
    if (victim->method) method_free(victim->kind, victim->method);
    memset(victim, 0, sizeof *victim);
    victim->method = m;
    victim->libctx = libctx;
    victim->kind = kind;
    memcpy(victim->name, name, strlen(name) + 1);
    victim->has_props = props != NULL;
    if (props) memcpy(victim->props, props, strlen(props) + 1);
    victim->used = ++cache.tick;
}

static void *fetch(int kind, OSSL_LIB_CTX *libctx, const char *name, const char *props)
{
    pthread_once(&setup_once, setup);
    if (!have_real(kind)) return NULL;
    bool cacheable = name && strlen(name) < FETCH_NAME_MAX && (!props || strlen(props) < FETCH_NAME_MAX);
    if (!cacheable || !cache_usable()) return real_fetch(kind, libctx, name, props);
    for (int i = 0; i < FETCH_SLOTS; i++) {
        fslot_t *s = &cache.slot[i];
        if (!s->method || !same_query(s, kind, libctx, name, props)) continue;
        if (up_ref(kind, s->method) != 1) break;
        s->used = ++cache.tick;
        cache.hits++;
        return s->method;
    }
    cache.misses++;
    void *m = real_fetch(kind, libctx, name, props);
    if (m) keep(kind, libctx, name, props, m);
    return m;
}

EVP_MD *EVP_MD_fetch(OSSL_LIB_CTX *ctx, const char *algorithm, const char *properties)
{
    return fetch(KIND_MD, ctx, algorithm, properties);
}

EVP_KDF *EVP_KDF_fetch(OSSL_LIB_CTX *ctx, const char *algorithm, const char *properties)
{
    return fetch(KIND_KDF, ctx, algorithm, properties);
}

EVP_MAC *EVP_MAC_fetch(OSSL_LIB_CTX *ctx, const char *algorithm, const char *properties)
{
    return fetch(KIND_MAC, ctx, algorithm, properties);
}

EVP_SIGNATURE *EVP_SIGNATURE_fetch(OSSL_LIB_CTX *ctx, const char *algorithm, const char *properties)
{
    return fetch(KIND_SIGNATURE, ctx, algorithm, properties);
}

void tls_fetch_stats(uint64_t *hits, uint64_t *misses)
{
    *hits = cache.hits;
    *misses = cache.misses;
}

void tls_fetch_drain(void)
{
    for (int i = 0; i < FETCH_SLOTS; i++) {
        fslot_t *s = &cache.slot[i];
        if (s->method) method_free(s->kind, s->method);
        memset(s, 0, sizeof *s);
    }
}

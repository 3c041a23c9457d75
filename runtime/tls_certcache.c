/* tls_certcache.c - the certificates peers send, decoded once per thread.
 *
 * A full handshake with a client certificate spent about 37% of the node's
 * CPU decoding the certificates the client sends (its own and, as OpenSSL's
 * clients do by default, the CA root): OpenSSL 3.0 decodes every public key
 * through a decoder context it builds from every provider's key managers
 * and decoders, under their read-write locks, and frees again. Clients send
 * the same few certificates over and over.
 *
 * libssl decodes each certificate of a Certificate message with
 * d2i_X509(&x, &bytes, len), x made fresh for the call. This file defines
 * d2i_X509 in the executable, so libssl's calls come here (as the
 * executable's malloc takes everyone's, runtime/memcount.c). For a call
 * from libssl with a fresh object, the DER element is looked up among the
 * calling thread's recent certificates: on a hit, the decoded X509 is
 * returned with a new reference (the fresh one freed, *pp moved past the
 * element, as a decode would); on a miss the real d2i_X509 decodes it and
 * the result is kept. Any other call (libcrypto's own, PEM loading, our
 * code) goes straight to the real one.
 *
 * Why sharing is safe: an X509 decoded from the same bytes is the same
 * certificate, and OpenSSL already shares one X509 between threads by
 * reference (a session and its copies hold the same peer certificate; a
 * store's CA certificates are used by every verification at once); what it
 * computes lazily inside one (the extension flags) it computes under the
 * object's own lock. libssl only reads the certificates it decodes here:
 * it verifies them and keeps them in the session. Everything a handshake
 * checks is still checked every time: the chain, the signatures, the
 * validity dates, against the context's store. Only the decoding is done
 * once. All our contexts use OpenSSL's default library context, which
 * every cached certificate was decoded in.
 *
 * The signature checks of the cached certificates are remembered the same
 * way (X509_verify, below): the client's certificate checked with its CA's
 * key was another 15% of a handshake's CPU once the decoding was gone.
 *
 * Must never: return an object for bytes other than those it was decoded
 * from; say a signature verifies that was not checked with that very
 * certificate and key; keep more than CERTCACHE_SLOTS certificates and
 * CERTCACHE_SLOTS checks per thread; lock.
 */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <openssl/x509.h>

#include "runtime/memcount.h"
#include "runtime/tls_certcache.h"

typedef X509 *(*d2i_x509_fn)(X509 **, const unsigned char **, long);
typedef int (*x509_verify_fn)(X509 *, EVP_PKEY *);

typedef struct {
    X509 *x;                    /* one reference, the cache's */
    unsigned char *der;         /* the element it was decoded from */
    size_t len;
    uint64_t used;              /* the thread's tick at its last hit */
} slot_t;

/* A signature check that succeeded: x's signature verifies with key. */
typedef struct {
    X509 *x;                    /* a reference each, so neither address is reused */
    EVP_PKEY *key;
    uint64_t used;
} verified_t;

enum { CACHE_UNUSED, CACHE_LIVE, CACHE_GONE };

static __thread struct {
    slot_t slot[CERTCACHE_SLOTS];
    verified_t verified[CERTCACHE_SLOTS];
    uint64_t tick;
    uint64_t hits, misses, verify_hits;
    int state;
} cache;

static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static d2i_x509_fn real_d2i;
static x509_verify_fn real_verify;
/* libssl's executable segments: a call from there is libssl's. */
enum { MAX_SEGMENTS = 4 };
static uintptr_t ssl_lo[MAX_SEGMENTS], ssl_hi[MAX_SEGMENTS];
static int ssl_segments;
static pthread_key_t exit_key;
static bool exit_key_ok;

static int find_libssl(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size; (void)arg;
    const char *name = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
    name = name ? name + 1 : info->dlpi_name;
    if (!name || strncmp(name, "libssl.so", 9) != 0) return 0;
    for (int i = 0; i < info->dlpi_phnum && ssl_segments < MAX_SEGMENTS; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
        ssl_lo[ssl_segments] = info->dlpi_addr + ph->p_vaddr;
        ssl_hi[ssl_segments] = ssl_lo[ssl_segments] + ph->p_memsz;
        ssl_segments++;
    }
    return 1;
}

static void on_thread_exit(void *arg)
{
    (void)arg;
    tls_certcache_drain();
    cache.state = CACHE_GONE;
}

static void setup(void)
{
    real_d2i = (d2i_x509_fn)dlsym(RTLD_NEXT, "d2i_X509");
    real_verify = (x509_verify_fn)dlsym(RTLD_NEXT, "X509_verify");
    dl_iterate_phdr(find_libssl, NULL);
    exit_key_ok = pthread_key_create(&exit_key, on_thread_exit) == 0;
}

/* What d2i_X509 would be without this file: libcrypto's (its decoder is
 * the X509 item's, the fallback should the symbol not be found). */
static X509 *decode(X509 **a, const unsigned char **pp, long len)
{
    if (real_d2i) return real_d2i(a, pp, len);
    return (X509 *)ASN1_item_d2i((ASN1_VALUE **)a, pp, len, ASN1_ITEM_rptr(X509));
}

static bool from_libssl(uintptr_t ret)
{
    for (int i = 0; i < ssl_segments; i++)
        if (ret >= ssl_lo[i] && ret < ssl_hi[i]) return true;
    return false;
}

/* The length of the DER SEQUENCE at p (header and contents), or 0 when p
 * does not start with one of definite length within len bytes. */
static size_t der_sequence_len(const unsigned char *p, long len)
{
    if (!p || len < 2 || p[0] != 0x30) return 0;
    size_t n = p[1], hdr = 2;
    if (n & 0x80) {
        size_t k = n & 0x7f;
        if (k == 0 || k > 3 || (size_t)len < hdr + k) return 0;
        n = 0;
        for (size_t i = 0; i < k; i++) n = n << 8 | p[hdr + i];
        hdr += k;
    }
    if (n > (size_t)len - hdr) return 0;
    return hdr + n;
}

/* A thread caches only once its cache will be emptied when it ends. */
static bool cache_usable(void)
{
    if (cache.state == CACHE_LIVE) return true;
    if (cache.state == CACHE_GONE) return false;
    cache.state = exit_key_ok && pthread_setspecific(exit_key, &cache) == 0 ? CACHE_LIVE : CACHE_GONE;
    return cache.state == CACHE_LIVE;
}

static void slot_clear(slot_t *s)
{
    X509_free(s->x);
    rt_mem_raw_free(s->der);
    memset(s, 0, sizeof *s);
}

/* Keeps x (a reference of its own) for the n bytes at der, in the least
 * recently used slot. */
static void keep(const unsigned char *der, size_t n, X509 *x)
{
    slot_t *victim = &cache.slot[0];
    for (int i = 0; i < CERTCACHE_SLOTS; i++) {
        slot_t *s = &cache.slot[i];
        if (!s->x) { victim = s; break; }
        if (s->used < victim->used) victim = s;
    }
    unsigned char *copy = rt_mem_raw_malloc(n);
    if (!copy || X509_up_ref(x) != 1) {
        rt_mem_raw_free(copy);
        return;
    }
    slot_clear(victim);
    memcpy(copy, der, n);
    victim->x = x;
    victim->der = copy;
    victim->len = n;
    victim->used = ++cache.tick;
}

X509 *tls_certcache_decode(X509 **a, const unsigned char **pp, long len)
{
    pthread_once(&setup_once, setup);
    size_t n = pp ? der_sequence_len(*pp, len) : 0;
    if (n == 0 || n > CERTCACHE_MAX_DER || !cache_usable()) return decode(a, pp, len);
    for (int i = 0; i < CERTCACHE_SLOTS; i++) {
        slot_t *s = &cache.slot[i];
        if (!s->x || s->len != n || memcmp(s->der, *pp, n) != 0) continue;
        if (X509_up_ref(s->x) != 1) break;
        s->used = ++cache.tick;
        cache.hits++;
        if (a) {
            X509_free(*a);
            *a = s->x;
        }
        *pp += n;
        return s->x;
    }
    cache.misses++;
    const unsigned char *start = *pp;
    X509 *x = decode(a, pp, len);
    if (x && (size_t)(*pp - start) == n) keep(start, n, x);
    return x;
}

/* libssl's calls land here (see the top of the file). Only a call from
 * libssl with a fresh object to fill is served from the cache: other
 * callers may go on to change what they decoded (d2i_X509_AUX adds trust
 * settings to it). */
X509 *d2i_X509(X509 **a, const unsigned char **pp, long len)
{
    uintptr_t ret = (uintptr_t)__builtin_return_address(0);
    pthread_once(&setup_once, setup);
    if (a && *a && from_libssl(ret)) return tls_certcache_decode(a, pp, len);
    return decode(a, pp, len);
}

static bool is_cached(const X509 *x)
{
    for (int i = 0; i < CERTCACHE_SLOTS; i++)
        if (cache.slot[i].x == x) return true;
    return false;
}

static void verified_clear(verified_t *v)
{
    X509_free(v->x);
    EVP_PKEY_free(v->key);
    memset(v, 0, sizeof *v);
}

static void remember_verified(X509 *x, EVP_PKEY *key)
{
    verified_t *victim = &cache.verified[0];
    for (int i = 0; i < CERTCACHE_SLOTS; i++) {
        verified_t *v = &cache.verified[i];
        if (!v->x) { victim = v; break; }
        if (v->used < victim->used) victim = v;
    }
    if (X509_up_ref(x) != 1) return;
    if (EVP_PKEY_up_ref(key) != 1) {
        X509_free(x);
        return;
    }
    verified_clear(victim);
    victim->x = x;
    victim->key = key;
    victim->used = ++cache.tick;
}

/* The signature check of a certificate (X509_verify_cert calls it for each
 * certificate of the chain it built, with its issuer's key). The check of
 * a certificate from the cache with a key it already succeeded with on
 * this thread is not made again: both are the same objects, pinned by the
 * references kept, and neither changes once made (a decoded certificate
 * is only read, a key taken from a certificate too), so the check would
 * give the same answer. Failures are not kept. Everything else in the
 * verification (which issuer, the dates, the purposes, the security level)
 * is done each time. */
int X509_verify(X509 *a, EVP_PKEY *r)
{
    pthread_once(&setup_once, setup);
    if (!real_verify) return 0;
    if (!a || !r || cache.state != CACHE_LIVE || !is_cached(a)) return real_verify(a, r);
    for (int i = 0; i < CERTCACHE_SLOTS; i++) {
        verified_t *v = &cache.verified[i];
        if (v->x == a && v->key == r) {
            v->used = ++cache.tick;
            cache.verify_hits++;
            return 1;
        }
    }
    int ok = real_verify(a, r);
    if (ok == 1) remember_verified(a, r);
    return ok;
}

void tls_certcache_stats(uint64_t *hits, uint64_t *misses)
{
    *hits = cache.hits;
    *misses = cache.misses;
}

uint64_t tls_certcache_verify_hits(void) { return cache.verify_hits; }

void tls_certcache_drain(void)
{
    for (int i = 0; i < CERTCACHE_SLOTS; i++) {
        if (cache.slot[i].x) slot_clear(&cache.slot[i]);
        if (cache.verified[i].x) verified_clear(&cache.verified[i]);
    }
}

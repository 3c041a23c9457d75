/* sdict.c - the string hash table of the collection types (see sdict.h).
 *
 * Must never: be shared between threads, or keep a pointer into an entry's
 * key across sd_delete of that entry.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "actors/types/sdict.h"
#include "runtime/xmalloc.h"

static uint64_t sip_k0, sip_k1;
static _Thread_local uint64_t rng_state;

/* The per-process hash key, set once before any worker runs. */
__attribute__((constructor)) static void sd_seed(void)
{
    uint64_t k[2] = { 0x736f6d6570736575ull, 0x646f72616e646f6dull };
    if (getrandom(k, sizeof k, 0) != (ssize_t)sizeof k) { /* keep the fixed key: not a secret, only a spread */ }
    sip_k0 = k[0];
    sip_k1 = k[1];
}

uint64_t sd_rand(void)
{
    if (!rng_state) {
        if (getrandom(&rng_state, sizeof rng_state, 0) != (ssize_t)sizeof rng_state || !rng_state)
            rng_state = 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)&rng_state;
    }
    /* xorshift64*: fast, good enough to pick members */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
    v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
    v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); } while (0)

/* SipHash-1-3. */
static uint64_t sd_hash(const uint8_t *in, size_t len)
{
    uint64_t v0 = 0x736f6d6570736575ull ^ sip_k0, v1 = 0x646f72616e646f6dull ^ sip_k1;
    uint64_t v2 = 0x6c7967656e657261ull ^ sip_k0, v3 = 0x7465646279746573ull ^ sip_k1;
    uint64_t b = (uint64_t)len << 56;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t m;
        memcpy(&m, in + i, 8);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t k = 0; i + k < len; k++) b |= (uint64_t)in[i + k] << (8 * k);
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND; SIPROUND; SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static size_t pow2_at_least(size_t n)
{
    size_t s = 4;
    while (s < n) s <<= 1;
    return s;
}

sdict_t *sd_new(size_t hint)
{
    sdict_t *d = xcalloc(1, sizeof *d);
    d->size = pow2_at_least(hint);
    d->buckets = xcalloc(d->size, sizeof *d->buckets);
    return d;
}

void sd_free(sdict_t *d, void (*free_val)(void *))
{
    if (!d) return;
    for (size_t i = 0; i < d->size; i++) {
        sd_entry_t *e = d->buckets[i];
        while (e) {
            sd_entry_t *n = e->next;
            if (free_val) free_val(e->val);
            free(e);
            e = n;
        }
    }
    free(d->buckets);
    free(d);
}

static void resize(sdict_t *d, size_t size)
{
    sd_entry_t **nb = xcalloc(size, sizeof *nb);
    for (size_t i = 0; i < d->size; i++) {
        sd_entry_t *e = d->buckets[i];
        while (e) {
            sd_entry_t *n = e->next;
            size_t b = e->hash & (size - 1);
            e->next = nb[b];
            nb[b] = e;
            e = n;
        }
    }
    free(d->buckets);
    d->buckets = nb;
    d->size = size;
}

sd_entry_t *sd_find(const sdict_t *d, const uint8_t *key, size_t len)
{
    uint64_t h = sd_hash(key, len);
    for (sd_entry_t *e = d->buckets[h & (d->size - 1)]; e; e = e->next)
        if (e->hash == h && e->klen == len && memcmp(e->key, key, len) == 0) return e;
    return NULL;
}

sd_entry_t *sd_add(sdict_t *d, const uint8_t *key, size_t len, bool *added)
{
    uint64_t h = sd_hash(key, len);
    sd_entry_t **head = &d->buckets[h & (d->size - 1)];
    for (sd_entry_t *e = *head; e; e = e->next)
        if (e->hash == h && e->klen == len && memcmp(e->key, key, len) == 0) {
            if (added) *added = false;
            return e;
        }
    sd_entry_t *e = xmalloc(sizeof *e + len);
    e->hash = h;
    e->klen = (uint32_t)len;
    e->val = NULL;
    memcpy(e->key, key, len);
    e->next = *head;
    *head = e;
    d->used++;
    if (added) *added = true;
    if (d->used > d->size) resize(d, d->size * 2);
    return e;
}

/* Unlinks and frees the entry *pp points to; shrinks the table when it got
 * under 1/8 full. */
static void unlink_at(sdict_t *d, sd_entry_t **pp)
{
    sd_entry_t *e = *pp;
    *pp = e->next;
    free(e);
    d->used--;
    if (d->size > 4 && d->used < d->size / 8) resize(d, pow2_at_least(d->used * 2));
}

bool sd_delete(sdict_t *d, const uint8_t *key, size_t len, void **val)
{
    uint64_t h = sd_hash(key, len);
    sd_entry_t **pp = &d->buckets[h & (d->size - 1)];
    for (; *pp; pp = &(*pp)->next) {
        sd_entry_t *e = *pp;
        if (e->hash == h && e->klen == len && memcmp(e->key, key, len) == 0) {
            if (val) *val = e->val;
            unlink_at(d, pp);
            return true;
        }
    }
    return false;
}

void sd_delete_entry(sdict_t *d, sd_entry_t *e)
{
    sd_entry_t **pp = &d->buckets[e->hash & (d->size - 1)];
    while (*pp != e) pp = &(*pp)->next;
    unlink_at(d, pp);
}

/* Picking a bucket, then a link of its chain, favours the entries of short
 * chains (an entry alone in its bucket comes up twice as often as one of a
 * pair). So up to SD_FAIR_SAMPLE entries are gathered from the buckets that
 * follow a random one and one of them is taken: a small table is sampled
 * whole, which makes the pick uniform there (7.0.15's fair random pick does
 * the same). */
#define SD_FAIR_SAMPLE 20

sd_entry_t *sd_random(const sdict_t *d)
{
    if (!d->used) return NULL;
    sd_entry_t *picked[SD_FAIR_SAMPLE];
    size_t want = d->used < SD_FAIR_SAMPLE ? d->used : SD_FAIR_SAMPLE, got = 0;
    size_t mask = d->size - 1, i = sd_rand() & mask;
    /* bounded walk: a sparse table may give fewer than wanted, never none (the
     * walk covers the whole table when it is that sparse) */
    size_t max_steps = d->size < want * 10 ? d->size : want * 10;
    for (size_t step = 0; got < want && (step < max_steps || got == 0); step++, i = (i + 1) & mask)
        for (sd_entry_t *e = d->buckets[i]; e && got < want; e = e->next) picked[got++] = e;
    return picked[sd_rand() % got];
}

size_t sd_mem(const sdict_t *d)
{
    return sizeof *d + d->size * sizeof *d->buckets + d->used * (sizeof(sd_entry_t) + 16);
}

sd_entry_t *sd_next(const sdict_t *d, sd_iter_t *it)
{
    if (!it->started) { it->started = true; it->bucket = 0; it->next = d->size ? d->buckets[0] : NULL; }
    while (!it->next) {
        if (++it->bucket >= d->size) return NULL;
        it->next = d->buckets[it->bucket];
    }
    sd_entry_t *e = it->next;
    it->next = e->next;
    return e;
}

static uint64_t rev64(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
    v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0Full) | ((v & 0x0F0F0F0F0F0F0F0Full) << 4);
    v = ((v >> 8) & 0x00FF00FF00FF00FFull) | ((v & 0x00FF00FF00FF00FFull) << 8);
    v = ((v >> 16) & 0x0000FFFF0000FFFFull) | ((v & 0x0000FFFF0000FFFFull) << 16);
    return (v >> 32) | (v << 32);
}

uint64_t sd_scan(const sdict_t *d, uint64_t v, void (*fn)(void *arg, const sd_entry_t *e), void *arg)
{
    uint64_t mask = d->size - 1;
    for (const sd_entry_t *e = d->buckets[v & mask]; e; e = e->next) fn(arg, e);
    /* Increment the reversed cursor over the bits the mask keeps. */
    v |= ~mask;
    v = rev64(v);
    v++;
    v = rev64(v);
    return v;
}

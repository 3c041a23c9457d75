/* node_index.c - name -> node-table index for the state actor (see
 * node_index.h): a keyed hash (SipHash-1-3) over open addressing.
 *
 * Must never: hold more than half its slots, or keep a name the caller
 * removed.
 */
#include <stdlib.h>
#include <string.h>

#include "actors/state/node_index.h"

#define MIN_CAP 16u

static inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);   /* one load; the wire order below */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

#define SIP_ROUND(v0, v1, v2, v3)                                                   \
    do {                                                                            \
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);                   \
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                      \
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                      \
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);                   \
    } while (0)

/* SipHash-c-d; inlined with constant rounds where it is used. */
static inline uint64_t siphash_cd(const void *buf, size_t len, uint64_t k0, uint64_t k1, int c, int d)
{
    const uint8_t *p = buf;
    uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
    size_t words = len / 8;
    for (size_t i = 0; i < words; i++, p += 8) {
        uint64_t m = load_le64(p);
        v3 ^= m;
        for (int r = 0; r < c; r++) SIP_ROUND(v0, v1, v2, v3);
        v0 ^= m;
    }
    /* the last word: the remaining bytes, little-endian, with the length in the top byte */
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < (len & 7); i++) b |= (uint64_t)p[i] << (8 * i);
    v3 ^= b;
    for (int r = 0; r < c; r++) SIP_ROUND(v0, v1, v2, v3);
    v0 ^= b;
    v2 ^= 0xff;
    for (int r = 0; r < d; r++) SIP_ROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t node_index_siphash(const void *buf, size_t len, uint64_t k0, uint64_t k1)
{
    return siphash_cd(buf, len, k0, k1, 2, 4);
}

uint64_t node_index_name_hash(const char *name, uint64_t k0, uint64_t k1)
{
    /* SipHash-1-3: the variant hash tables use where keys come from peers
     * (half the rounds of 2-4 per name; links hash every gossip entry) */
    return siphash_cd(name, NODE_INDEX_NAME_LEN, k0, k1, 1, 3);
}

void node_index_init(node_index_t *x, uint64_t k0, uint64_t k1)
{
    memset(x, 0, sizeof *x);
    x->k0 = k0;
    x->k1 = k1;
}

void node_index_free(node_index_t *x)
{
    free(x->slots);
    x->slots = NULL;
    x->cap = x->count = 0;
}

void node_index_copy(node_index_t *dst, const node_index_t *src)
{
    *dst = *src;
    if (!src->cap) return;
    dst->slots = malloc(sizeof *dst->slots * src->cap);
    if (!dst->slots) abort();
    memcpy(dst->slots, src->slots, sizeof *dst->slots * src->cap);
}

void node_index_clear(node_index_t *x)
{
    for (uint32_t i = 0; i < x->cap; i++) x->slots[i].idx = -1;
    x->count = 0;
}

static uint32_t hash_of(const node_index_t *x, const char *name)
{
    return (uint32_t)node_index_name_hash(name, x->k0, x->k1);
}

/* Whether two names are equal: five word compares, inline (links compare
 * one per gossip entry). */
static inline bool same_name(const char *a, const char *b)
{
    uint64_t d = 0;
    for (int i = 0; i < NODE_INDEX_NAME_LEN; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        d |= x ^ y;
    }
    return d == 0;
}

/* The slot holding name, or -1. */
static long slot_of(const node_index_t *x, const char *name, uint32_t h)
{
    if (!x->cap) return -1;
    uint32_t mask = x->cap - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        const node_index_entry_t *e = &x->slots[i];
        if (e->idx < 0) return -1;
        if (e->hash == h && same_name(e->name, name)) return (long)i;
    }
}

int node_index_find(const node_index_t *x, const char *name)
{
    long s = slot_of(x, name, hash_of(x, name));
    return s < 0 ? -1 : x->slots[s].idx;
}

/* Places an entry known to be absent; the table has a free slot. */
static void place(node_index_entry_t *slots, uint32_t cap, const node_index_entry_t *e)
{
    uint32_t mask = cap - 1;
    uint32_t i = e->hash & mask;
    while (slots[i].idx >= 0) i = (i + 1) & mask;
    slots[i] = *e;
}

static int grow(node_index_t *x)
{
    uint32_t cap = x->cap ? x->cap * 2 : MIN_CAP;
    if (cap < x->cap) return -1;
    node_index_entry_t *slots = malloc(sizeof *slots * cap);
    if (!slots) return -1;
    for (uint32_t i = 0; i < cap; i++) slots[i].idx = -1;
    for (uint32_t i = 0; i < x->cap; i++)
        if (x->slots[i].idx >= 0) place(slots, cap, &x->slots[i]);
    free(x->slots);
    x->slots = slots;
    x->cap = cap;
    return 0;
}

int node_index_put(node_index_t *x, const char *name, int idx)
{
    uint32_t h = hash_of(x, name);
    long s = slot_of(x, name, h);
    if (s >= 0) {
        x->slots[s].idx = idx;
        return 0;
    }
    /* keep at most half the slots used, so probe chains stay short */
    if (2 * (x->count + 1) > x->cap && grow(x) != 0) return -1;
    node_index_entry_t e;
    memcpy(e.name, name, NODE_INDEX_NAME_LEN);
    e.idx = idx;
    e.hash = h;
    place(x->slots, x->cap, &e);
    x->count++;
    return 0;
}

bool node_index_del(node_index_t *x, const char *name)
{
    long s = slot_of(x, name, hash_of(x, name));
    if (s < 0) return false;
    /* Backward-shift deletion: pull later members of the probe chain into
     * the hole when their home slot allows it, so no tombstones are left. */
    uint32_t mask = x->cap - 1;
    uint32_t hole = (uint32_t)s;
    for (uint32_t i = (hole + 1) & mask; x->slots[i].idx >= 0; i = (i + 1) & mask) {
        uint32_t home = x->slots[i].hash & mask;
        /* the entry at i may move to the hole unless its home lies cyclically in (hole, i] */
        bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (stays) continue;
        x->slots[hole] = x->slots[i];
        hole = i;
    }
    x->slots[hole].idx = -1;
    x->count--;
    return true;
}

/* state_names.c - the name index a published snapshot carries
 * (cluster_snapshot_find, state.h): links look up the sender and every
 * gossip entry of every frame by name, on their own threads.
 *
 * It is a compact copy of the state actor's own index (node_index.h) taken
 * when a snapshot is published after the names changed, and shared by every
 * snapshot until they change again: the same keyed hash and the same slot
 * positions, but each slot holds only the name's hash and its record's
 * index (8 bytes, so a 1,000-node table's probes stay in a few cache
 * lines); the name itself is compared in the snapshot's node table, where
 * the caller reads the record next anyway.
 *
 * Must never: change after it is shared, or be freed while a snapshot holds
 * it. Only the state thread (the cell's writer, which also frees retired
 * snapshots) builds it and counts its references.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "actors/state/state_internal.h"
#include "runtime/xmalloc.h"

typedef struct names_slot {
    uint32_t hash;
    int32_t idx;                  /* -1: empty */
} names_slot_t;

struct snapshot_names {
    unsigned refs;
    uint32_t cap;                 /* a power of two (0: no names) */
    uint64_t gen;                 /* unique in the process: which index a thread's memo entry came from */
    uint64_t k0, k1;
    names_slot_t slots[];
};

void state_names_unref(struct snapshot_names *n)
{
    if (n && --n->refs == 0) free(n);
}

static _Atomic uint64_t g_names_gen;

struct snapshot_names *state_names_for_snapshot(state_t *st)
{
    if (st->names_changed || !st->names_shared) {
        state_names_unref(st->names_shared);
        const node_index_t *x = &st->names;
        struct snapshot_names *n = xmalloc(sizeof *n + sizeof n->slots[0] * x->cap);
        n->refs = 1;                    /* ours, dropped when the names change again */
        /* relaxed: only uniqueness matters (memo entries name the index they came from) */
        n->gen = atomic_fetch_add_explicit(&g_names_gen, 1, memory_order_relaxed) + 1;
        n->cap = x->cap;
        n->k0 = x->k0;
        n->k1 = x->k1;
        for (uint32_t i = 0; i < x->cap; i++) {
            n->slots[i].hash = x->slots[i].hash;
            n->slots[i].idx = x->slots[i].idx;
        }
        st->names_shared = n;
        st->names_changed = false;
    }
    st->names_shared->refs++;
    return st->names_shared;
}

static inline bool same_name(const char *a, const char *b)
{
    uint64_t d = 0;
    for (int i = 0; i < NODE_NAME_LEN; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        d |= x ^ y;
    }
    return d == 0;
}
_Static_assert(NODE_NAME_LEN % 8 == 0, "names compare as words");
_Static_assert(NODE_NAME_LEN == NODE_INDEX_NAME_LEN, "one name length");

/* Each thread's memo of names it found: entry -> (index gen, record). A
 * frame's gossip names the same few hundred records again and again (20 a
 * PING at 200 peers), and the memo costs one multiply where the keyed hash
 * and its probe cost most of a lookup. An entry counts only for the index it
 * came from (gen), which names the same records at the same places in every
 * snapshot that shares it (the index is rebuilt whenever a name is added,
 * removed, renamed or moved), and only when the record there still has the
 * name: so it gives what the probe gives, or nothing. Only names found are
 * kept here (names not found have a memo of their own, below). The slot is
 * picked from the name's own bytes: names a peer chooses can make entries
 * evict each other, which costs the probe, never a wrong answer. */
#define NAME_MEMO 1024
static _Thread_local struct name_memo {
    uint64_t gen;
    int32_t idx;
} g_memo[NAME_MEMO];

static unsigned memo_slot(const char *name)
{
    uint64_t a, b, c;   /* both ends: counter-like names (tests, tools) differ only at the end */
    memcpy(&a, name, 8);
    memcpy(&b, name + 8, 8);
    memcpy(&c, name + NODE_NAME_LEN - 8, 8);
    return (unsigned)(((a ^ (b * 0x9e3779b97f4a7c15ull) ^ (c * 0xc2b2ae3d27d4eb4full)) * 0xff51afd7ed558ccdull) >> 54) &
           (NAME_MEMO - 1);
}

/* Each thread's memo of names it did not find: entry -> (index gen, the
 * name). A PING from a sender we do not know (a peer being met, one we
 * forgot, the gossip flood's unknown senders) asks for the same name with
 * every frame of its link, and each answer cost the keyed hash and a probe
 * that ends at an empty slot. An index names no record that it did not
 * name when it was built, so a name absent from index gen G is absent from
 * every snapshot sharing G; the name is kept whole, so an entry answers
 * only for its own name. */
#define ABSENT_MEMO 64
static _Thread_local struct absent_memo {
    uint64_t gen;
    char name[NODE_NAME_LEN];
} g_absent[ABSENT_MEMO];

int cluster_snapshot_find(const cluster_snapshot_t *s, const char *name)
{
    const struct snapshot_names *n = s->names;
    if (!n) {
        for (int i = 0; i < s->node_count; i++)
            if (same_name(s->nodes[i].name, name)) return i;
        return -1;
    }
    if (!n->cap) return -1;
    unsigned slot = memo_slot(name);
    struct name_memo *m = &g_memo[slot];
    if (m->gen == n->gen && m->idx < s->node_count && same_name(s->nodes[m->idx].name, name)) return m->idx;
    struct absent_memo *a = &g_absent[slot & (ABSENT_MEMO - 1)];
    if (a->gen == n->gen && same_name(a->name, name)) return -1;
    uint32_t h = (uint32_t)node_index_name_hash(name, n->k0, n->k1);
    uint32_t mask = n->cap - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        const names_slot_t *e = &n->slots[i];
        if (e->idx < 0) {
            a->gen = n->gen;
            memcpy(a->name, name, NODE_NAME_LEN);
            return -1;
        }
        if (e->hash == h && e->idx < s->node_count && same_name(s->nodes[e->idx].name, name)) {
            *m = (struct name_memo){ n->gen, e->idx };
            return e->idx;
        }
    }
}


/* state_live.h - liveness that links write without the state actor
 * (docs/cluster-bus.md §1.6, "Digest"): per node record, the last time a
 * frame from it was digested (data_received), the PONGs our outbound link to
 * it got (their count and the latest time), and the replication offset its
 * headers carry. The state actor owns the table and the records; links only
 * raise or replace words in the slot of the record their snapshot showed.
 *
 * Every word of a slot is tag << NODE_LIVE_MS_BITS | value. The state actor
 * bumps the tag of all four words when it frees the slot, so a link holding
 * an older snapshot cannot write into the record that reuses it: every link
 * write is a CAS that gives up when the tag moved.
 *
 * Must never: be written by anyone but a link (the words named below) or the
 * state actor (tags, offsets it applied); block; allocate.
 */
#ifndef SHOAL_ACTORS_STATE_LIVE_H
#define SHOAL_ACTORS_STATE_LIVE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define NODE_LIVE_SLOTS 4096          /* = STATE_MAX_NODES (state_internal.h) */
#define NODE_LIVE_MS_BITS 44          /* ms since the epoch fit until the year 2527 */
#define NODE_LIVE_MS_MASK ((UINT64_C(1) << NODE_LIVE_MS_BITS) - 1)
/* repl_offset's value meaning "the record's own offset holds": offsets this
 * large (16 TiB) do not fit a word and go to the state actor whole. */
#define NODE_LIVE_OFFSET_NONE NODE_LIVE_MS_MASK

/* One record's words, a cache line of its own: the links of different nodes
 * (on different threads) never write the same line. */
typedef struct state_live_node {
    _Alignas(64) _Atomic uint64_t data_received;   /* ms, atomic max: any frame a link digested */
    _Atomic uint64_t pong_received;   /* ms, atomic max: PONGs on our outbound link, noted by it */
    _Atomic uint64_t pongs;           /* how many such PONGs were noted (raised after pong_received) */
    _Atomic uint64_t repl_offset;     /* the last offset a header carried, or NODE_LIVE_OFFSET_NONE */
    _Atomic uint64_t gossip_pong;     /* ms, atomic max: a later pong time others' gossip gave it;
                                       * taken (reset to 0) by the state actor's fold */
} state_live_node_t;

typedef struct state_live {
    /* Odd while the state actor applies a message or holds a change it has
     * not published; even when the published snapshot says all it knows.
     * Written by the state actor only (seq_cst stores); links load it. */
    _Alignas(64) _Atomic uint64_t gen;
    /* Frame messages links have sent (incremented before rt_send) that the
     * state actor has not applied yet (decremented after applying). */
    _Alignas(64) _Atomic long long pending;
    /* PONGs and gossiped pong times noted in all slots, raised after the
     * slots' words: the state actor folds the slots in only when this moved
     * (state_live_fold). */
    _Alignas(64) _Atomic uint64_t noted;
    state_live_node_t node[NODE_LIVE_SLOTS];
} state_live_t;

static inline uint64_t node_live_word(uint32_t tag, uint64_t value)
{
    return ((uint64_t)tag << NODE_LIVE_MS_BITS) | (value & NODE_LIVE_MS_MASK);
}

/* Raises *w to value unless its tag is no longer `tag`. The CAS is seq_cst:
 * a link's later load of `gen` (bus_digest_take) must not move before this
 * store (a store-load order), and the state actor reads with seq_cst loads. */
static inline bool node_live_max(_Atomic uint64_t *w, uint32_t tag, uint64_t value)
{
    uint64_t want = node_live_word(tag, value);
    uint64_t cur = atomic_load_explicit(w, memory_order_relaxed);   /* the CAS below orders */
    while ((cur >> NODE_LIVE_MS_BITS) == tag && (cur & NODE_LIVE_MS_MASK) < (value & NODE_LIVE_MS_MASK))
        if (atomic_compare_exchange_weak_explicit(w, &cur, want, memory_order_seq_cst, memory_order_relaxed))
            return true;
    return false;   /* as high already (a load only: no write to a line other links read) */
}

/* Raises slot `slot`'s data_received to ms, unless the slot no longer has
 * tag `tag` (its record was deleted). Any thread. */
static inline void node_live_note(state_live_t *l, unsigned slot, uint32_t tag, long long ms)
{
    if (!l || slot >= NODE_LIVE_SLOTS || ms < 0) return;
    node_live_max(&l->node[slot].data_received, tag, (uint64_t)ms);
}

/* A PONG on our outbound link to the slot's record, received at ms: raises
 * pong_received, then counts it in `pongs` and in `noted`, in that order
 * (a reader that sees the count sees the time). Any thread. */
static inline void node_live_pong(state_live_t *l, unsigned slot, uint32_t tag, long long ms)
{
    if (!l || slot >= NODE_LIVE_SLOTS || ms < 0) return;
    state_live_node_t *n = &l->node[slot];
    node_live_max(&n->pong_received, tag, (uint64_t)ms);
    uint64_t cur = atomic_load_explicit(&n->pongs, memory_order_relaxed);   /* the CAS orders */
    while ((cur >> NODE_LIVE_MS_BITS) == tag) {
        uint64_t want = node_live_word(tag, (cur & NODE_LIVE_MS_MASK) + 1);
        /* seq_cst: after pong_received, before `noted` and the link's load of gen */
        if (atomic_compare_exchange_weak_explicit(&n->pongs, &cur, want, memory_order_seq_cst, memory_order_relaxed)) {
            /* seq_cst: the state actor loads `noted` before the slots' counts */
            atomic_fetch_add_explicit(&l->noted, 1, memory_order_seq_cst);
            break;
        }
    }
}

/* Others' gossip says the slot's record answered a PONG at ms, later than
 * the snapshot shows (the rule of docs/cluster-bus.md §5.6.2, which the
 * state actor applies when it folds the word). The caller raises `noted`
 * once after all of a frame's words (node_live_noted). True when the word
 * rose. Any thread. */
static inline bool node_live_gossip_pong(state_live_t *l, unsigned slot, uint32_t tag, long long ms)
{
    if (!l || slot >= NODE_LIVE_SLOTS || ms <= 0) return false;
    return node_live_max(&l->node[slot].gossip_pong, tag, (uint64_t)ms);
}

/* Tells the state actor that words were raised (see `noted`). Any thread. */
static inline void node_live_noted(state_live_t *l)
{
    /* seq_cst: after the words, before the link's load of gen */
    if (l) atomic_fetch_add_explicit(&l->noted, 1, memory_order_seq_cst);
}

/* Stores offset `off` (< NODE_LIVE_OFFSET_NONE) as the slot's repl_offset
 * unless the tag moved: the last writer wins, as the last frame processed
 * does in 7.0.15. Any thread. */
static inline void node_live_offset(state_live_t *l, unsigned slot, uint32_t tag, uint64_t off)
{
    if (!l || slot >= NODE_LIVE_SLOTS || off >= NODE_LIVE_OFFSET_NONE) return;
    _Atomic uint64_t *w = &l->node[slot].repl_offset;
    uint64_t cur = atomic_load_explicit(w, memory_order_relaxed);   /* the CAS orders */
    /* seq_cst: as node_live_max */
    while ((cur >> NODE_LIVE_MS_BITS) == tag && (cur & NODE_LIVE_MS_MASK) != off)
        if (atomic_compare_exchange_weak_explicit(w, &cur, node_live_word(tag, off), memory_order_seq_cst,
                                                  memory_order_relaxed))
            break;
}

/* The value of one of a slot's words while it still has tag `tag`, else `dflt`. */
static inline uint64_t node_live_get(const _Atomic uint64_t *w, uint32_t tag, uint64_t dflt)
{
    /* seq_cst: pairs with the links' CAS (see node_live_max) */
    uint64_t cur = atomic_load_explicit((_Atomic uint64_t *)w, memory_order_seq_cst);
    return (cur >> NODE_LIVE_MS_BITS) == tag ? (cur & NODE_LIVE_MS_MASK) : dflt;
}

/* Slot `slot`'s data_received when it still has tag `tag`, else 0. */
static inline long long node_live_ms(state_live_t *l, unsigned slot, uint32_t tag)
{
    if (!l || slot >= NODE_LIVE_SLOTS) return 0;
    return (long long)node_live_get(&l->node[slot].data_received, tag, 0);
}

/* The offset the slot's record last sent, or `record` (the offset the state
 * actor stored) when the slot holds none. */
static inline long long node_live_repl_offset(state_live_t *l, unsigned slot, uint32_t tag, long long record)
{
    if (!l || slot >= NODE_LIVE_SLOTS) return record;
    uint64_t v = node_live_get(&l->node[slot].repl_offset, tag, NODE_LIVE_OFFSET_NONE);
    return v == NODE_LIVE_OFFSET_NONE ? record : (long long)v;
}

/* How many PONGs were noted in the slot (0 once the tag moved). */
static inline uint64_t node_live_pongs(state_live_t *l, unsigned slot, uint32_t tag)
{
    if (!l || slot >= NODE_LIVE_SLOTS) return 0;
    return node_live_get(&l->node[slot].pongs, tag, 0);
}

#endif

/* state_live.c - the state actor's side of the liveness table (state_live.h,
 * docs/cluster-bus.md §1.6, "Digest"): handing out and freeing slots, and
 * applying what links noted there.
 *
 * PONGs: a link that finds nothing else in a PONG on our outbound link counts
 * it in the record's slot instead of forwarding it. The state actor applies
 * those counts at the start of everything it does (state_busy, before any
 * rule or the cron reads ping_sent, pong_received or the PFAIL/FAIL flags),
 * and a record whose count moved since it last looked gets 7.0.15's PONG rule
 * (state_pong_received) at the latest time noted. Counts, not times, say
 * whether a PONG came after a ping: a ping sent in the same millisecond as a
 * PONG noted before it stays outstanding, as in 7.0.15.
 *
 * Must never: write a slot word without its record's tag, or apply a PONG
 * count twice.
 */
#include <stdlib.h>

#include "actors/state/state_internal.h"

void state_live_take(state_t *st, state_node_t *n)
{
    for (unsigned i = 0; i < NODE_LIVE_SLOTS; i++) {
        if (st->live_used[i]) continue;
        st->live_used[i] = 1;
        state_live_node_t *w = &st->live->node[i];
        /* relaxed: only the state actor writes the tag part, and nobody
         * writes this slot with the current tag until a snapshot shows n */
        uint32_t tag = (uint32_t)(atomic_load_explicit(&w->data_received, memory_order_relaxed) >> NODE_LIVE_MS_BITS);
        n->live_slot = (uint16_t)i;
        n->live_tag = tag;
        n->pongs_seen = node_live_pongs(st->live, i, tag);
        return;
    }
    abort();   /* not reached: one slot per record, at most STATE_MAX_NODES records */
}

/* Record n leaves the table: its slot's tag moves on, so a link still
 * holding a snapshot that shows n cannot write into the next record that
 * takes the slot. */
void state_live_release(state_t *st, const state_node_t *n)
{
    unsigned i = n->live_slot;
    if (i >= NODE_LIVE_SLOTS || !st->live_used[i]) return;
    uint32_t next = (n->live_tag + 1) & ((UINT32_C(1) << (64 - NODE_LIVE_MS_BITS)) - 1);
    state_live_node_t *w = &st->live->node[i];
    /* seq_cst: a link's CAS carrying the old tag fails from here on */
    atomic_store_explicit(&w->repl_offset, node_live_word(next, NODE_LIVE_OFFSET_NONE), memory_order_seq_cst);
    atomic_store_explicit(&w->pongs, node_live_word(next, 0), memory_order_seq_cst);
    atomic_store_explicit(&w->pong_received, node_live_word(next, 0), memory_order_seq_cst);
    atomic_store_explicit(&w->data_received, node_live_word(next, 0), memory_order_seq_cst);
    st->live_used[i] = 0;
}

void state_live_fold_one(state_t *st, int idx)
{
    state_node_t *n = &st->nodes[idx];
    uint64_t count = node_live_pongs(st->live, n->live_slot, n->live_tag);
    if (count == n->pongs_seen) return;
    n->pongs_seen = count;
    /* read after the count: node_live_pong raised the time first */
    long long ms = (long long)node_live_get(&st->live->node[n->live_slot].pong_received, n->live_tag, 0);
    state_pong_received(st, idx, ms);
}

void state_live_fold(state_t *st)
{
    /* seq_cst: before the slots' counts (node_live_pong raises the total last) */
    uint64_t total = atomic_load_explicit(&st->live->pongs_total, memory_order_seq_cst);
    if (total == st->pongs_total_seen) return;
    st->pongs_total_seen = total;
    for (int i = 0; i < st->node_count; i++) state_live_fold_one(st, i);
}

void state_live_set_offset(state_t *st, int idx, long long off)
{
    state_node_t *n = &st->nodes[idx];
    n->repl_offset = off;
    uint64_t v = off >= 0 && (uint64_t)off < NODE_LIVE_OFFSET_NONE ? (uint64_t)off : NODE_LIVE_OFFSET_NONE;
    /* seq_cst: as the links' stores; a link storing a later header's offset
     * after this wins, as that header would in 7.0.15 */
    atomic_store_explicit(&st->live->node[n->live_slot].repl_offset, node_live_word(n->live_tag, v),
                          memory_order_seq_cst);
}

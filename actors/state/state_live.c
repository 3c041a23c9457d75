/* state_live.c - the state actor's side of the liveness table (state_live.h,
 * docs/cluster-bus.md §1.6, "Digest"): handing out and freeing slots, and
 * applying what links noted there.
 *
 * Gossip: a pong time others' gossip gives a node, later than the one the
 * snapshot shows, is raised in that node's slot (an atomic max); the fold
 * takes it and applies 7.0.15's rule to it as the state stands (§5.6.2).
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
    atomic_store_explicit(&w->gossip_pong, node_live_word(next, 0), memory_order_seq_cst);
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

/* Gossiped pong times noted for record idx since the last fold: taken from
 * the slot and given to the rule of §5.6.2 as it stands now (no ping
 * outstanding, no failure reports, later than ours). The state has not
 * changed since the link judged the frame (it wrote while the state actor
 * was idle), or the frame goes whole as well and the rule sees the same. */
static void fold_gossip(state_t *st, int idx)
{
    state_node_t *n = &st->nodes[idx];
    _Atomic uint64_t *w = &st->live->node[n->live_slot].gossip_pong;
    /* seq_cst: pairs with the links' CAS (node_live_max) */
    if ((atomic_load_explicit(w, memory_order_seq_cst) & NODE_LIVE_MS_MASK) == 0) return;
    /* seq_cst: each value is taken once; one raised after this waits for the next fold */
    uint64_t v = atomic_exchange_explicit(w, node_live_word(n->live_tag, 0), memory_order_seq_cst);
    if ((v >> NODE_LIVE_MS_BITS) != n->live_tag) return;   /* not reached: the slot is n's */
    long long ms = (long long)(v & NODE_LIVE_MS_MASK);
    if (n->ping_sent_ms == 0 && n->nreports == 0 && ms > n->pong_received_ms) {
        n->pong_received_ms = ms;
        st->dirty_soft = true;
    }
}

void state_live_fold(state_t *st)
{
    /* seq_cst: before the slots' words (links raise `noted` last) */
    uint64_t noted = atomic_load_explicit(&st->live->noted, memory_order_seq_cst);
    if (noted == st->noted_seen) return;
    st->noted_seen = noted;
    /* PONGs first, then gossip: one order 7.0.15 could take for frames that
     * came on different links in the same idle moment */
    for (int i = 0; i < st->node_count; i++) state_live_fold_one(st, i);
    for (int i = 0; i < st->node_count; i++) fold_gossip(st, i);
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

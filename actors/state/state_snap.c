/* state_snap.c - what one publish (state_publish) shares with the snapshots
 * before it, so that its cost follows what changed, not the table's size:
 *
 * - the hostnames' text. A view holds a pointer to its node's hostname in a
 *   text block (struct snapshot_hosts) that every snapshot shares, by
 *   reference count, until some record's hostname no longer matches its text
 *   there; then one new block is built. In a steady cluster no hostname
 *   changes, so a publish copies none (inline, 256 bytes a view, they were
 *   half of the half megabyte a publish copied at 1,000 nodes).
 * - the node arrays themselves. A snapshot the cell frees (its grace period
 *   over: no reader holds it) gives its array back to the state's pool and
 *   the next publish writes its views there: no allocation, no zeroing, no
 *   page faults, and memory the state thread has just used.
 * - the snapshot structs. Three 32 KB slot tables make one about 100 KB: a
 *   fresh zeroed one per publish, and the three tables copied into it, were
 *   a third of a SETSLOT's CPU. A freed one is reused: its fields outside
 *   the tables are zeroed, its owner table copied only when the state's
 *   slot_version moved since, and in its open tables only the slots open
 *   then or now are rewritten (open_hint, state_internal.h).
 *
 * Must never: change a block after it is shared, free one a snapshot still
 * holds, or hand out an array a reader may still look at. Only the state
 * thread (the cell's writer, which also frees retired snapshots) calls these.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "actors/state/state_internal.h"
#include "runtime/xmalloc.h"

struct snapshot_hosts {
    unsigned refs;
    uint32_t len;                 /* bytes used in text; text[0] is "" (offset 0: no hostname) */
    char text[];
};

/* Freed snapshots' arrays kept for the next publishes: two are enough, since
 * a publish retires one snapshot and the cell frees them in bursts of a few. */
#define POOL_ARRAYS 2

struct views_block;

struct snapshot_pool {
    struct views_block *arr[POOL_ARRAYS];
    int n;
    cluster_snapshot_t *snaps[POOL_ARRAYS];   /* freed snapshots themselves (~100 KB each) */
    int nsnaps;
};

const char *state_host_text(const struct snapshot_hosts *h, uint32_t off)
{
    return h && off < h->len ? h->text + off : "";
}

void state_hosts_unref(struct snapshot_hosts *h)
{
    if (h && --h->refs == 0) free(h);
}

static bool hosts_match(const state_t *st, const struct snapshot_hosts *h)
{
    for (int i = 0; i < st->node_count; i++) {
        const state_node_t *n = &st->nodes[i];
        /* most records have none: one byte each to look at */
        if (!n->hostname[0] && !n->host_off) continue;
        if (strcmp(state_host_text(h, n->host_off), n->hostname) != 0) return false;
    }
    return true;
}

struct snapshot_hosts *state_hosts_for_snapshot(state_t *st)
{
    struct snapshot_hosts *h = st->hosts_shared;
    if (!h || !hosts_match(st, h)) {
        size_t len = 1;
        for (int i = 0; i < st->node_count; i++)
            if (st->nodes[i].hostname[0]) len += strnlen(st->nodes[i].hostname, NODE_HOSTNAME_MAX) + 1;
        h = xmalloc(sizeof *h + len);
        h->refs = 1;                  /* ours, dropped when a hostname changes again */
        h->text[0] = '\0';
        uint32_t at = 1;
        for (int i = 0; i < st->node_count; i++) {
            state_node_t *n = &st->nodes[i];
            if (!n->hostname[0]) {
                n->host_off = 0;
                continue;
            }
            size_t l = strnlen(n->hostname, NODE_HOSTNAME_MAX);
            memcpy(h->text + at, n->hostname, l);
            h->text[at + l] = '\0';
            n->host_off = at;
            at += (uint32_t)l + 1;
        }
        h->len = at;
        state_hosts_unref(st->hosts_shared);
        st->hosts_shared = h;
    }
    h->refs++;
    return h;
}

/* An array with its capacity in front (the snapshot knows only its count). */
typedef struct views_block {
    int cap;
    node_view_t v[];
} views_block_t;

static views_block_t *block_of(node_view_t *v)
{
    return (views_block_t *)((char *)v - offsetof(views_block_t, v));
}

node_view_t *state_views_take(state_t *st, int count)
{
    struct snapshot_pool *p = st->pool;
    if (!p) p = st->pool = xcalloc(1, sizeof *p);
    for (int k = 0; k < p->n; k++) {
        if (p->arr[k]->cap < count) continue;
        views_block_t *b = p->arr[k];
        p->arr[k] = p->arr[--p->n];
        return b->v;
    }
    /* room for a few more records, so that a table that grows by one does
     * not leave every pooled array too small */
    int cap = count + count / 8 + 8;
    views_block_t *b = xmalloc(sizeof *b + sizeof b->v[0] * (size_t)cap);
    b->cap = cap;
    return b->v;
}

void state_views_give(struct snapshot_pool *p, node_view_t *nodes)
{
    if (!nodes) return;
    views_block_t *b = block_of(nodes);
    if (!p) {
        free(b);
        return;
    }
    if (p->n < POOL_ARRAYS) {
        p->arr[p->n++] = b;
        return;
    }
    /* full: keep the larger arrays */
    int small = 0;
    for (int k = 1; k < p->n; k++)
        if (p->arr[k]->cap < p->arr[small]->cap) small = k;
    if (p->arr[small]->cap < b->cap) {
        free(p->arr[small]);
        p->arr[small] = b;
    } else {
        free(b);
    }
}

/* Zeroes every byte of s but its slot tables and what says what they hold. */
static void zero_but_tables(cluster_snapshot_t *s)
{
    char *b = (char *)s;
    size_t owner = offsetof(cluster_snapshot_t, slot_owner), owner_end = owner + sizeof s->slot_owner;
    size_t mig = offsetof(cluster_snapshot_t, migrating_to);
    size_t kept_end = offsetof(cluster_snapshot_t, tables_owner_version) + sizeof s->tables_owner_version;
    _Static_assert(offsetof(cluster_snapshot_t, importing_from) == offsetof(cluster_snapshot_t, migrating_to) + sizeof(int16_t) * SLOT_COUNT,
                   "the open-slot tables are next to each other");
    _Static_assert(offsetof(cluster_snapshot_t, tables_open) >= offsetof(cluster_snapshot_t, importing_from) + sizeof(int16_t) * SLOT_COUNT &&
                   offsetof(cluster_snapshot_t, tables_owner_version) > offsetof(cluster_snapshot_t, tables_open),
                   "the tables' bookkeeping follows them");
    memset(b, 0, owner);
    memset(b + owner_end, 0, mig - owner_end);
    memset(b + kept_end, 0, sizeof *s - kept_end);
}

cluster_snapshot_t *state_snapshot_take(state_t *st)
{
    struct snapshot_pool *p = st->pool;
    if (!p) p = st->pool = xcalloc(1, sizeof *p);
    if (p->nsnaps == 0) {
        cluster_snapshot_t *s = xcalloc(1, sizeof *s);
        memset(s->migrating_to, 0xff, sizeof s->migrating_to);       /* -1: closed */
        memset(s->importing_from, 0xff, sizeof s->importing_from);
        s->tables_owner_version = UINT64_MAX;                         /* never a slot_version */
        return s;
    }
    cluster_snapshot_t *s = p->snaps[--p->nsnaps];
    zero_but_tables(s);
    return s;
}

/* Clears open_hint's bits of closed slots; returns how many slots are open. */
int state_open_hint_prune(state_t *st)
{
    int open = 0;
    for (int w = 0; w < SLOT_COUNT / 64; w++) {
        uint64_t keep = 0;
        for (uint64_t bits = st->open_hint[w]; bits; bits &= bits - 1) {
            int s = w * 64 + __builtin_ctzll(bits);
            if (st->migrating_to[s] >= 0 || st->importing_from[s] >= 0) keep |= bits & -bits;
        }
        st->open_hint[w] = keep;
        open += __builtin_popcountll(keep);
    }
    return open;
}

int state_snapshot_fill_tables(state_t *st, cluster_snapshot_t *s)
{
    if (s->tables_owner_version != st->slot_version) {
        memcpy(s->slot_owner, st->slot_owner, sizeof s->slot_owner);
        s->tables_owner_version = st->slot_version;
    }
    int open = state_open_hint_prune(st);
    for (int w = 0; w < SLOT_COUNT / 64; w++) {
        uint64_t was = s->tables_open[w], now = st->open_hint[w];
        if (!was && !now) continue;
        for (uint64_t bits = was & ~now; bits; bits &= bits - 1) {
            int slot = w * 64 + __builtin_ctzll(bits);
            s->migrating_to[slot] = -1;
            s->importing_from[slot] = -1;
        }
        for (uint64_t bits = now; bits; bits &= bits - 1) {
            int slot = w * 64 + __builtin_ctzll(bits);
            s->migrating_to[slot] = st->migrating_to[slot];
            s->importing_from[slot] = st->importing_from[slot];
        }
        s->tables_open[w] = now;
    }
    return open;
}

void state_snapshot_give(struct snapshot_pool *p, cluster_snapshot_t *s)
{
    if (p && p->nsnaps < POOL_ARRAYS) p->snaps[p->nsnaps++] = s;
    else free(s);
}

void state_pool_free(state_t *st)
{
    struct snapshot_pool *p = st->pool;
    if (!p) return;
    for (int k = 0; k < p->nsnaps; k++) free(p->snaps[k]);
    for (int k = 0; k < p->n; k++) free(p->arr[k]);
    free(p);
    st->pool = NULL;
}

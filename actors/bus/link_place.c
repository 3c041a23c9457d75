/* link_place.c - packing bus links on as few worker threads as the bus load
 * needs (link_place.h).
 *
 * Why: a worker's loop serves the sockets that are ready when it wakes, and
 * each wake-up costs about 3 us (epoll_wait and a context switch), as do a
 * read(2) and a write(2), whatever they carry. With the links dealt over
 * every worker, a node whose bus is busy but not saturating a core runs
 * several loops that each catch up with their links and sleep, waking for
 * small batches: in the TLS gossip flood (docs/tls.md) one worker holding
 * every link spent about 15 % less CPU per PING than two workers sharing
 * them, because each of its wake-ups found twice the work. So links are
 * dealt to the last `home` workers only (the end of the worker list that
 * client connections reach last: placement.c packs those from the first
 * worker), and `home` follows the load: the last worker's cron raises it
 * when the home workers are busy above link_rule.spread_permille of a core on
 * average for two crons in a row, and lowers it when their load would fit
 * on one worker fewer below link_rule.pack_permille each, held for a while
 * (the rule is placement.c's, placement_step, with its own figures).
 * Each worker then hands its links over at its cron: one outside the home
 * range all of them, a home one those that put it more than one above the
 * home worker with the fewest. The thresholds are higher than the client
 * connections': the bus cares about milliseconds (node timeouts are
 * seconds), not the microseconds of a queue on a busy thread; busy is the
 * whole thread's (clients included, placement.h), so a worker that clients
 * keep busy does not take the bus's load too.
 *
 * A move happens only while nothing of the link is in flight anywhere: its
 * mailbox is empty (checked under the registry lock, which every sender
 * takes, so it stays empty until the link is bound to its new thread), no
 * frame is queued or being forwarded, no TLS record is decrypted and
 * unread, the handshake is done and reads are not paused. The light
 * encoding's dictionaries hold references into their thread's tuple pool:
 * what the link sends starts over (the next light frame carries RESET,
 * docs/cluster-bus.md §9.4) and what it receives is copied out as tuples
 * and taken into the new thread's pool (link_light.h). The old thread stops its watchers and
 * takes the socket out of its epoll set; the first message the link gets on
 * its new thread starts them there (link.c, LINK_MSG_ADOPT). Bytes that
 * arrive meanwhile wait in the socket.
 *
 * Must never: move a link with anything in flight, touch a link of another
 * thread (a move is decided and made by the link's own thread), keep a
 * link on a thread that does not take links for longer than one cron
 * (unless every home thread is inside a busy script), or deal or move a
 * link to a thread inside a busy script while another thread is free.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "actors/bus/link_place.h"
#include "actors/bus/link_struct.h"
#include "actors/bus/link_tls.h"
#include "actors/worker/placement.h"

/* Thresholds in thousandths of a core, and crons a condition must hold
 * before `home` changes (see the header comment). */
static const placement_rule_t link_rule = {
    .spread_permille = 800, .pack_permille = 450, .spread_ticks = 2, .pack_ticks = 10,
};
/* Links a thread hands over per cron at most. */
#define LINK_MOVES_PER_TICK 64

#define MAX_LINK_THREADS 256
static rt_thread_t *g_threads[MAX_LINK_THREADS];
static _Atomic int g_nthreads;            /* release-stored after g_threads is set */
static _Atomic int g_home = 1;            /* threads taking links: the last g_home */
static _Atomic int g_forced;              /* DEBUG BUSPLACEMENT: 0, or g_home fixed */
static _Atomic unsigned g_next;           /* round-robin over the home threads */
static _Atomic long long g_count[MAX_LINK_THREADS];   /* links per thread */
static _Atomic unsigned long long g_moves;
static placement_trend_t link_trend;      /* the last thread's cron only */

/* This thread's links (owner thread only), and its index. */
static _Thread_local struct { struct link *head; int index; bool indexed; } tl;

void link_place_configure(rt_thread_t **threads, int nthreads)
{
    if (nthreads > MAX_LINK_THREADS) nthreads = MAX_LINK_THREADS;
    for (int i = 0; i < nthreads; i++) g_threads[i] = threads[i];
    /* release: a thread that sees the count also sees the threads */
    atomic_store_explicit(&g_nthreads, nthreads, memory_order_release);
}

static int nthreads(void)
{
    return atomic_load_explicit(&g_nthreads, memory_order_acquire);
}

int link_place_threads(void)
{
    int n = nthreads();
    /* relaxed: a hint; a link dealt on a stale value moves at the next cron */
    int h = atomic_load_explicit(&g_home, memory_order_relaxed);
    return h < n ? h : n;
}

unsigned long long link_place_moves(void)
{
    return atomic_load_explicit(&g_moves, memory_order_relaxed);
}

long long link_place_count(int i)
{
    /* relaxed: a count for balancing and INFO */
    return i >= 0 && i < nthreads() ? atomic_load_explicit(&g_count[i], memory_order_relaxed) : -1;
}

rt_thread_t *link_place_pick(void)
{
    int n = nthreads();
    if (n <= 0) return NULL;
    int home = link_place_threads();
    /* relaxed: the counter only spreads links */
    unsigned k = atomic_fetch_add_explicit(&g_next, 1, memory_order_relaxed);
    int first = n - home + (int)(k % (unsigned)home);
    /* Not a thread inside a busy script: the link's start would wait in its
     * mailbox until the script ends, where 7.0.15 answers a peer meanwhile.
     * The home threads in turn, then the others; all busy: the home one. */
    for (int j = 0; j < n; j++) {
        int i = j < home ? n - home + (first - (n - home) + j) % home : n - 1 - j;
        if (placement_takes_work(i)) return g_threads[i];
    }
    return g_threads[first];
}

static int my_index(void)
{
    if (!tl.indexed) {
        rt_thread_t *self = rt_thread_self();
        int n = nthreads();
        tl.index = -1;
        for (int i = 0; i < n; i++)
            if (g_threads[i] == self) tl.index = i;
        tl.indexed = n > 0;
    }
    return tl.index;
}

static void list_add(struct link *l)
{
    l->tprev = NULL;
    l->tnext = tl.head;
    if (tl.head) tl.head->tprev = l;
    tl.head = l;
}

static void list_del(struct link *l)
{
    if (l->tprev) l->tprev->tnext = l->tnext;
    else if (tl.head == l) tl.head = l->tnext;
    if (l->tnext) l->tnext->tprev = l->tprev;
    l->tnext = l->tprev = NULL;
}

void link_place_attach(struct link *l, bool arrived)
{
    int i = my_index();
    if (i < 0) return;
    list_add(l);
    l->listed = true;
    /* a move counted it on this thread already (move_link) */
    if (!arrived) atomic_fetch_add_explicit(&g_count[i], 1, memory_order_relaxed);
}

void link_place_detach(struct link *l)
{
    if (!l->listed) return;
    list_del(l);
    l->listed = false;
    atomic_fetch_sub_explicit(&g_count[my_index()], 1, memory_order_relaxed);
}

void link_place_force(int n)
{
    int max = nthreads();
    if (n > max) n = max;
    /* relaxed: a test's switch; the threads see it at their next cron */
    atomic_store_explicit(&g_forced, n, memory_order_relaxed);
    if (n > 0) atomic_store_explicit(&g_home, n, memory_order_relaxed);
}

/* The last thread's cron: how many threads take links from now on. */
static void decide(int n)
{
    if (atomic_load_explicit(&g_forced, memory_order_relaxed) > 0) return;
    int home = link_place_threads();
    long long sum = 0;
    for (int i = n - home; i < n; i++) sum += placement_busy_permille(i);
    int next = placement_step(&link_rule, &link_trend, home, n, sum);
    if (next != home) atomic_store_explicit(&g_home, next, memory_order_relaxed);
}

/* Nothing of the link is in flight on this thread (the mailbox is checked
 * by link_rehome, under the registry lock). */
static bool movable(const struct link *l)
{
    return !l->dead && !l->connecting && !l->announce_pending && l->fd >= 0 && !l->flush_queued && !l->fwd &&
           !l->wq.count && !l->held_len && !l->tls_read_wants_write && !ev_is_active(&l->wio) &&
           ev_is_active(&l->rio) && !link_pressure_paused(&l->pause) &&
           (!l->tls || (tls_conn_handshake_done(l->tls) && !tls_conn_pending(l->tls)));
}

/* The home thread other than `me` with the fewest links, among those that
 * read their messages now (a busy script's would hold the adopted link). */
static int least_linked(int n, int home, int me)
{
    int best = -1;
    for (int i = n - home; i < n; i++)
        if (i != me && placement_takes_work(i) && (best < 0 || link_place_count(i) < link_place_count(best)))
            best = i;
    return best;
}

static bool move_link(struct link *l, int from, int to)
{
    list_del(l);
    l->listed = false;
    /* counted on the receiver first, so that the next pick sees it */
    atomic_fetch_add_explicit(&g_count[to], 1, memory_order_relaxed);
    if (!link_rehome(l, g_threads[to])) {   /* a message came: it stays, for now */
        atomic_fetch_sub_explicit(&g_count[to], 1, memory_order_relaxed);
        list_add(l);
        l->listed = true;
        return false;
    }
    atomic_fetch_sub_explicit(&g_count[from], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&g_moves, 1, memory_order_relaxed);
    return true;
}

/* Links served by a busy thread at most this often (ms): PINGs answered
 * within a few ms keep the peers' node timeouts (seconds) far away, and a
 * read(2) per link per millisecond would cost more than the script. */
#define LINK_BUSY_POLL_MS 10

void link_place_serve_busy(void)
{
    static _Thread_local long long served_ms;
    long long now = rt_mono_ms();
    if (now - served_ms < LINK_BUSY_POLL_MS) return;
    served_ms = now;
    for (struct link *l = tl.head, *next; l; l = next) {
        next = l->tnext;          /* a teardown takes l off the list */
        link_serve_while_busy(l);
    }
}

void link_place_tick(void)
{
    int n = nthreads(), me = my_index();
    if (n < 2 || me < 0) return;
    if (me == n - 1) decide(n);
    int home = link_place_threads();
    long long mine = link_place_count(me);
    int moves = 0;
    for (struct link *l = tl.head, *next; l && mine > 0 && moves < LINK_MOVES_PER_TICK; l = next) {
        next = l->tnext;
        int to = least_linked(n, home, me);
        if (to < 0) return;
        /* a thread outside the home range gives everything away; a home
         * one only what puts it more than one above the least linked */
        if (me >= n - home && mine <= link_place_count(to) + 1) return;
        if (!movable(l) || !move_link(l, me, to)) continue;
        mine--;
        moves++;
    }
}

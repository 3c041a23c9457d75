/* placement.c - packing connections on as few workers as the load needs.
 *
 * Why: a worker's loop serves the sockets that are ready when it wakes. With
 * the connections dealt over every worker, a node that is not busy runs
 * several loops that each wake for one or two requests, and half of the
 * requests are for the other worker's keyspace (a borrow or a message). On
 * 3 masters with 2 workers each and 50 unpipelined clients this cost about
 * 12.5 CPU-us per request against 10.3 with one worker (epoll_wait 1.0 vs
 * 0.6 per request, context switches 0.5 vs 0.3). So new connections go to
 * the first `active` workers only, and `active` follows the load: worker 0
 * raises it when the active workers are busy on average above
 * conn_rule.spread_permille of a core (then connections are dealt to the new one and
 * the busier workers hand it some of theirs), and lowers it when everything
 * would fit on one worker fewer below conn_rule.pack_permille each, held for a while
 * (then the last active worker hands its connections to the others). Keys
 * stay where they are (slot % workers): a packed worker runs the other
 * workers' commands on their keyspaces by borrowing them while they sleep
 * (dispatch.c), which costs no wake-up.
 *
 * Busy means the thread's CPU time less its spinning (rt_thread_spin_ns),
 * per wall-clock time between two crons.
 *
 * A move happens only between requests: the connection has no reply
 * pending, nothing unsent or unparsed, no lent socket, no MULTI, WATCH,
 * block or pause. Its owner stops watching the socket, forgets it in its
 * epoll set, unlinks it and sends it to the new owner, which watches it
 * from then on (bytes that arrived meanwhile wait in the socket). CLIENT
 * LIST and KILL fan out to every worker: one that reaches the two workers
 * while a connection is in flight between them may miss it (a move is
 * rare: it follows a change of load).
 *
 * TLS handshakes are not packed: a full handshake costs a millisecond of
 * CPU or more (most of it public-key operations), far more than the
 * requests packing is about, and a single worker taking every new TLS
 * connection made them one at a time however many cores the node had. So a
 * new TLS connection is dealt round-robin over every worker, which does its
 * handshake; once it is done, the connection is movable like any other and
 * an inactive worker hands it to the active ones at its next cron.
 *
 * Subscribers are the exception to packing. A subscriber stays on its worker
 * (its subscriptions live in that worker's tables), and a PUBLISH is written
 * to each subscriber by the worker that holds it: with every subscriber on
 * worker 0, one core did the whole fan-out. So a connection's first
 * (S|P)SUBSCRIBE, before it runs, moves the connection to the worker with
 * the fewest subscribers when that has fewer than its own; the command and
 * anything pipelined behind it stay in the query buffer and run there.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "actors/bus/link_place.h"
#include "actors/worker/client.h"
#include "actors/worker/placement.h"
#include "actors/worker/pubsub.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/xscript.h"
#include "proto/slot.h"
#include "runtime/tls.h"
#include "runtime/xmalloc.h"

/* Thresholds in thousandths of a core, and crons (100 ms apart) a
 * condition must hold before `active` changes: a quick spread, a slow pack,
 * so a short lull does not shuffle connections (see the header comment). */
static const placement_rule_t conn_rule = {
    .spread_permille = 600, .pack_permille = 350, .spread_ticks = 2, .pack_ticks = 20,
};
/* Connections a worker hands over per cron at most. */
#define MOVES_PER_TICK 256

static _Atomic int g_active = 1;              /* workers taking connections */
static _Atomic unsigned g_next;               /* round-robin over them */
static _Atomic unsigned g_next_tls;           /* round-robin over every worker (TLS handshakes) */
static _Atomic unsigned long long g_moves;    /* statistics */
static _Atomic int g_forced;                  /* DEBUG PLACEMENT: 0, or `active` fixed */
static placement_trend_t conn_trend;          /* worker 0's thread only */

typedef struct moveconn {
    worker_run_t run;
    client_t *c;
} moveconn_t;

static long long clients_of(const worker_t *w)
{
    /* Relaxed: a count for balancing; moves in flight are counted on the
     * receiver already (see move). */
    return atomic_load_explicit(&w->stats.connected_clients, memory_order_relaxed);
}

int placement_active(void)
{
    /* Relaxed: a hint for placement; a stale value only places one
     * connection on a worker that gives it up at its next cron. */
    int a = atomic_load_explicit(&g_active, memory_order_relaxed);
    return a < g_nworkers ? a : g_nworkers;
}

unsigned long long placement_moves(void)
{
    return atomic_load_explicit(&g_moves, memory_order_relaxed);
}

long long placement_clients(int i)
{
    return clients_of(g_workers[i]);
}

int placement_busy_permille(int i)
{
    return atomic_load_explicit(&g_workers[i]->busy_permille, memory_order_relaxed);
}

int placement_cron_ms(int i)
{
    return worker_cron_ms(g_workers[i]);
}

int placement_pick(void)
{
    /* Relaxed: the counter only has to spread connections. */
    unsigned n = atomic_fetch_add_explicit(&g_next, 1, memory_order_relaxed);
    return (int)(n % (unsigned)placement_active());
}

int placement_pick_tls(void)
{
    /* Relaxed: the counter only has to spread connections. */
    unsigned n = atomic_fetch_add_explicit(&g_next_tls, 1, memory_order_relaxed);
    return (int)(n % (unsigned)g_nworkers);
}

static long long thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* This worker's busy share of a core since its last cron, published for worker 0. */
static void measure(worker_t *w)
{
    long long cpu = thread_cpu_ns(), now = mono_ns();
    long long spin = (long long)rt_thread_spin_ns(w->thread);
    if (w->load_wall_ns > 0 && now > w->load_wall_ns) {
        long long used = (cpu - w->load_cpu_ns) - (spin - w->load_spin_ns);
        long long permille = used > 0 ? used * 1000 / (now - w->load_wall_ns) : 0;
        /* Relaxed: worker 0 reads it at its own cron; any recent value will do. */
        atomic_store_explicit(&w->busy_permille, (int)permille, memory_order_relaxed);
    }
    w->load_cpu_ns = cpu;
    w->load_spin_ns = spin;
    w->load_wall_ns = now;
}

void placement_force(int n)
{
    /* Relaxed: a test's switch; the workers see it at their next cron. */
    atomic_store_explicit(&g_forced, n, memory_order_relaxed);
    if (n > 0) atomic_store_explicit(&g_active, n, memory_order_relaxed);
}

int placement_step(const placement_rule_t *rule, placement_trend_t *trend, int count, int max, long long busy_sum)
{
    trend->spread = count < max && busy_sum > (long long)rule->spread_permille * count ? trend->spread + 1 : 0;
    trend->pack = count > 1 && busy_sum < (long long)rule->pack_permille * (count - 1) ? trend->pack + 1 : 0;
    if (trend->spread >= rule->spread_ticks) {
        trend->spread = 0;
        return count + 1;
    }
    if (trend->pack >= rule->pack_ticks) {
        trend->pack = 0;
        return count - 1;
    }
    return count;
}

/* Worker 0: how many workers take connections from now on. */
static void decide(void)
{
    if (atomic_load_explicit(&g_forced, memory_order_relaxed) > 0) return;
    int active = placement_active();
    long long sum = 0;
    for (int i = 0; i < active; i++)
        sum += atomic_load_explicit(&g_workers[i]->busy_permille, memory_order_relaxed);
    int next = placement_step(&conn_rule, &conn_trend, active, g_nworkers, sum);
    if (next != active) atomic_store_explicit(&g_active, next, memory_order_relaxed);
}

/* A TLS session moves with its socket once its handshake is over and it
 * holds nothing that waits for a socket event. */
static bool movable_tls(const client_t *c)
{
    return tls_conn_handshake_done(c->tls) && !tls_conn_pending(c->tls) && !c->tls_read_wants_write &&
           !c->tls_write_wants_read;
}

/* Nothing of the connection is in flight: it can change owner. */
static bool movable_with_input(const client_t *c)
{
    const uint32_t busy = CLIENT_CLOSED | CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP | CLIENT_PENDING_WRITE |
                          CLIENT_PUSH_HELD | CLIENT_BLOCKED | CLIENT_PAUSED | CLIENT_MULTI;
    return !(c->flags & busy) && c->pending_head == NULL && c->out_sent == c->out.len &&
           !c->wio_active && !c->socket_lent && c->lent_fd_to_close < 0 && c->watch.n == 0 && c->txn == NULL && c->block_rc == NULL && c->fd >= 0 &&
           c->pubsub == NULL &&   /* a subscriber's subscriptions live in its worker's tables (pubsub.c) */
           c->trk_flags == 0 &&   /* invalidations are posted to the worker the tracking registry names */
           (!c->tls || movable_tls(c));
}

static bool movable(const client_t *c)
{
    /* a slot migration's lane stays on the worker of its keys (asm_lane_place) */
    return !c->in_input && c->qpos == c->qlen && !(c->flags & CLIENT_ASM_LANE) && movable_with_input(c);
}

static void adopt_run(worker_t *w, rt_msg_t *msg)
{
    moveconn_t *m = (moveconn_t *)msg;
    client_t *c = m->c;
    free(m);
    c->worker = w;
    worker_client_attach(w, c);
    if (c->qpos < c->qlen) client_process_input(c);   /* a SUBSCRIBE or a debugger's EVAL sent ahead (placement.h) */
}

static void move(worker_t *w, client_t *c, worker_t *to)
{
    worker_client_detach_for_move(w, c);
    /* Relaxed: counts for maxclients and balancing; the receiver's first,
     * so the total never dips below the truth. */
    atomic_fetch_add_explicit(&to->stats.connected_clients, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&w->stats.connected_clients, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&g_moves, 1, memory_order_relaxed);
    moveconn_t *m = xcalloc(1, sizeof *m);
    m->run.hdr.type = WMSG_RUN;
    m->run.fn = adopt_run;
    m->c = c;
    worker_send(w, to->index, &m->run.hdr);
}

/* Whether worker o may be handed a connection now. Not one inside a busy
 * script, nor any while a script holds every worker (xscript.h): such a
 * worker reads no messages until the script ends, so the connection would
 * hang there where 7.0.15 answers it. Every move checks it. */
static bool takes_moves(const worker_t *o)
{
    return !atomic_load_explicit(&o->script_busy, memory_order_relaxed) && !xscript_active();
}

bool placement_takes_work(int i)
{
    return i >= 0 && i < MAX_WORKERS && g_workers[i] && takes_moves(g_workers[i]);
}

/* The active worker (other than w) with the fewest connections that can
 * take one (takes_moves). */
static worker_t *least_loaded(const worker_t *w, int active)
{
    worker_t *best = NULL;
    for (int i = 0; i < active; i++) {
        worker_t *o = g_workers[i];
        if (!takes_moves(o)) continue;
        if (o != w && (best == NULL || clients_of(o) < clients_of(best)))
            best = o;
    }
    return best;
}

static void rebalance(worker_t *w)
{
    int active = placement_active();
    long long mine = clients_of(w);
    if (mine == 0 || g_nworkers < 2)
        return;
    int moves = 0;
    for (client_t *c = w->clients, *next; c && moves < MOVES_PER_TICK; c = next) {
        next = c->next;
        worker_t *to = least_loaded(w, active);
        if (to == NULL)
            return;
        /* An inactive worker gives everything away; an active one only
         * what puts it more than one above the least loaded. */
        if (w->index < active && mine <= clients_of(to) + 1)
            return;
        if (!movable(c))
            continue;
        move(w, c, to);
        mine--;
        moves++;
    }
}

static bool is_subscribe(const uint8_t *name, size_t len)
{
    const char *s = (const char *)name;
    return (len == 9 && !strncasecmp(s, "subscribe", 9)) || (len == 10 && !strncasecmp(s, "psubscribe", 10)) ||
           (len == 10 && !strncasecmp(s, "ssubscribe", 10));
}

worker_t *placement_subscriber_move(const client_t *c, const uint8_t *name, size_t len)
{
    int n = g_nworkers;
    if (n < 2 || c->pubsub != NULL || !is_subscribe(name, len) || !movable_with_input(c) ||
        atomic_load_explicit(&g_forced, memory_order_relaxed) == 1)   /* DEBUG PLACEMENT PACK */
        return NULL;
    int me = c->worker->index, best = me;
    for (int i = 0; i < n; i++)
        if (takes_moves(g_workers[i]) && pubsub_worker_subscribers(i) < pubsub_worker_subscribers(best))
            best = i;
    return best == me ? NULL : g_workers[best];
}

static bool arg_is_ci(const uint8_t *arg, size_t len, const char *word)
{
    size_t n = strlen(word);
    return len == n && !strncasecmp((const char *)arg, word, n);
}

/* MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw]
 * [KEYS k ...]: its first key, or NULL. */
static const uint8_t *migrate_first_key(int argc, const uint8_t **argv, const size_t *argvlen, size_t *len)
{
    if (argvlen[3] > 0) {
        *len = argvlen[3];
        return argv[3];
    }
    for (int i = 6; i < argc; i++) {
        if (arg_is_ci(argv[i], argvlen[i], "auth")) i += 1;
        else if (arg_is_ci(argv[i], argvlen[i], "auth2")) i += 2;
        else if (arg_is_ci(argv[i], argvlen[i], "keys") && i + 1 < argc) {
            *len = argvlen[i + 1];
            return argv[i + 1];
        }
    }
    return NULL;
}

worker_t *placement_migrate_move(const client_t *c, int argc, const uint8_t **argv, const size_t *argvlen)
{
    if (g_nworkers < 2 || argc < 6 || !arg_is_ci(argv[0], argvlen[0], "migrate") ||
        atomic_load_explicit(&g_forced, memory_order_relaxed) == 1)   /* DEBUG PLACEMENT PACK */
        return NULL;
    size_t len = 0;
    const uint8_t *key = migrate_first_key(argc, argv, argvlen, &len);
    if (!key) return NULL;
    worker_t *to = g_workers[worker_of_slot(slot_of_key(key, len))];
    return to != c->worker && placement_can_move_before_command(c, to) ? to : NULL;
}

bool placement_can_move_before_command(const client_t *c, const worker_t *to)
{
    return movable_with_input(c) && takes_moves(to);
}

void placement_move_before_command(client_t *c, worker_t *to)
{
    move(c->worker, c, to);
}

void placement_tick(worker_t *w)
{
    measure(w);
    if (w->index == 0)
        decide();
    rebalance(w);
    link_place_tick();   /* the bus links on this thread (link_place.h) */
}

/* worker_api.c - what other folders may ask of the workers (worker.h): a
 * worker by index, messages to one or each, the published counters, and, for
 * code that runs on a worker's own thread, its keyspace, snapshot, clients
 * and replication buffer. The struct itself stays in worker_internal.h so
 * that its fields can change without touching the workers' users.
 *
 * Must never: let a caller on another thread reach a worker's owner-only
 * state (the functions below that take a worker_t are for its own thread).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "actors/repl/repl.h"
#include "actors/worker/asm_lane.h"
#include "actors/worker/blocking.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/tracking.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/wdb.h"
#include "proto/slot.h"
#include "runtime/xmalloc.h"

worker_t *worker_at(int i) { return g_workers[i]; }

void worker_woff_note(worker_t *w, uint64_t client_id)
{
    size_t k = (size_t)client_id & (WORKER_WOFF_SLOTS - 1);
    w->woff[k].client_id = client_id;
    w->woff[k].mark = repl_wbuf_mark(w->repl);
}

uint64_t worker_woff_mark(worker_t *w, uint64_t client_id)
{
    size_t k = (size_t)client_id & (WORKER_WOFF_SLOTS - 1);
    return w->woff[k].client_id == client_id ? w->woff[k].mark : repl_wbuf_mark(w->repl);
}

rt_thread_t *worker_thread(int i) { return g_workers[i]->thread; }

void worker_post(int i, rt_msg_t *msg) { rt_send(&g_workers[i]->actor, msg); }

void worker_reply_run(remote_cmd_t *rc)
{
    rc->hdr.type = WMSG_RUN;
    rt_send(&rc->origin->actor, &rc->hdr);
}

void workers_send_each(rt_msg_t *(*make)(int i, void *arg), void *arg)
{
    for (int i = 0; i < g_nworkers; i++) worker_post(i, make(i, arg));
}

int worker_index(const worker_t *w) { return w->index; }

struct keyspace *worker_keyspace(worker_t *w) { return w->ks; }

struct repl_wbuf *worker_repl(worker_t *w) { return w->repl; }

const struct cluster_snapshot *worker_snapshot(const worker_t *w) { return w->cur; }

struct client *worker_clients(worker_t *w) { return w->clients; }

void worker_repl_flush(worker_t *w) { repl_flush(w->repl); }

bool worker_count_slot_keys(worker_t *w, unsigned slot, long long *count)
{
    int owner = worker_of_slot(slot);
    if (owner == w->index) {
        *count = (long long)ks_count_in_slot(w->ks, slot);
        return true;
    }
    worker_t *o = g_workers[owner];
    /* Commands of ours still held for o would run before a message sent now. */
    if (w->outbox[owner]) return false;
    if (!rt_thread_try_borrow(o->thread)) return false;
    /* Holding o's token: everything o did before it slept is visible
     * (acquire), and o runs nothing until we give it back. */
    bool ok = rt_actor_mailbox_drained(&o->actor);
    if (ok) *count = (long long)ks_count_in_slot(o->ks, slot);
    rt_thread_unborrow(o->thread);
    return ok;
}

typedef struct flush_touch {
    worker_t *w;
    long long now_ms;
} flush_touch_t;

static void touch_entry(void *arg, ks_entry_t *e, long long expire_ms)
{
    flush_touch_t *t = arg;
    size_t n;
    const uint8_t *key = ks_entry_key(e, &n);
    /* an expired key goes as its expiry would take it: a WATCH made after
     * its TTL passed holds (watch.h), as in 7.0.15's touchAllWatchedKeysInDb */
    if (expire_ms != KS_NO_EXPIRE && t->now_ms > expire_ms)
        watch_note_expired_gone(t->w, t->w->cur_db, key, n, expire_ms);
    else
        worker_touch_key(t->w, key, n);
    /* an XREADGROUP waiting on an emptied stream ends (-UNBLOCKED), as in
     * 7.0.15's scanDatabaseForDeletedStreams; other waiters wait on */
    if (ks_entry_type(e) == KS_TYPE_STREAM) blocking_key_gone(t->w, key, n);
}

void worker_flush_keyspace(worker_t *w, bool count_change)
{
    /* The WATCHes of the keys it holds (in any database: wdb.h), as 7.0.15's
     * touchAllWatchedKeysInDb touches only watched keys that exist in the
     * emptied database: a WATCH of a missing key holds. */
    flush_touch_t t = { w, rt_now_ms() };
    ks_foreach(w->ks, touch_entry, &t);
    ks_flush(w->ks);
    tracking_flushed(w);         /* readers of any key hear of it (a null invalidation) */
    if (asm_lane_any(w)) asm_lane_flushed(w);   /* a slot migration's copy cannot follow */
    wdb_publish_current(w);
    /* relaxed: a statistic; owner-only writer, so a plain load and store */
    if (count_change)
        atomic_store_explicit(&w->stats.dirty, atomic_load_explicit(&w->stats.dirty, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    blocking_after_command(w);   /* the XREADGROUPs of streams emptied above (held in a transaction) */
}

void worker_install_loaded_keyspace(worker_t *w, struct keyspace *ks)
{
    w->ks = w->db[0].ks = ks;
    wdb_publish_all(w, -1);
}

void worker_touch_key(worker_t *w, const uint8_t *key, size_t len)
{
    worker_touch_key_in(w, w->cur_db, key, len);
}

void worker_touch_key_in(worker_t *w, int db, const uint8_t *key, size_t len)
{
    if (!watch_anyone()) return;   /* nobody reads the versions now (watch.h) */
    uint32_t b = wdb_watch_bucket(db, key, len);
    /* relaxed: only this thread writes its versions; EXEC reads them after a message */
    _Atomic uint64_t *ver = (_Atomic uint64_t *)&w->key_versions[b];
    atomic_store_explicit(ver, atomic_load_explicit(ver, memory_order_relaxed) + 1, memory_order_relaxed);
}

worker_t *worker_key_keeper(worker_t *w, const uint8_t *key, size_t len)
{
    if (g_nworkers < 2) return w;
    return g_workers[worker_of_slot(slot_of_key(key, len))];
}

void worker_publish_key_count(worker_t *w) { wdb_publish_current(w); }

/* WMSG_RUN: the slots one worker must empty. */
typedef struct slot_drop {
    worker_run_t run;
    int n;
    uint16_t slots[];
} slot_drop_t;

/* Each key of a dropped slot goes to the replicas as a DEL before it goes
 * here (they hold the same keys and no other message would remove them),
 * and a WATCH on it goes stale. */
typedef struct drop_ctx {
    worker_t *w;
    bool send;                    /* DELs to the replicas */
} drop_ctx_t;

static void drop_key(const uint8_t *key, size_t len, void *arg)
{
    drop_ctx_t *d = arg;
    worker_touch_key(d->w, key, len);
    if (d->send) repl_propagate_del(d->w->repl, key, len);
}

size_t worker_drop_slot(worker_t *w, unsigned slot, size_t max)
{
    /* A master sends the DELs, in a client pause too: the keyspace's replica
     * mode then only stops expiry, and a pause holds clients' writes, not
     * the drop of a slot the node no longer serves (its replica would keep
     * the keys). A replica sends nothing (it has no replicas of its own to
     * tell: they follow its master's stream). */
    worker_snap_enter(w);
    bool replica = (w->cur->nodes[w->cur->myself].flags & NODE_SLAVE) != 0;
    worker_snap_leave(w);
    /* relaxed: set by the replication actor's first cut, which every worker
     * passes through (a message) before it can matter */
    drop_ctx_t d = { w, !replica && atomic_load_explicit(&g_repl_propagate, memory_order_relaxed) };
    return ks_delete_slot_n(w->ks, slot, max, drop_key, &d);
}

static void drop_on_worker(worker_t *w, rt_msg_t *msg)
{
    slot_drop_t *m = (slot_drop_t *)msg;
    size_t gone = 0;
    for (int i = 0; i < m->n; i++) gone += worker_drop_slot(w, m->slots[i], SIZE_MAX);
    /* No change counted (rdb_changes_since_last_save): 7.0.15 counts none. */
    if (gone) worker_publish_ks_stats(w);
    free(m);
    /* The DELs leave with the loop's next flush (flush_pending_writes). */
}

void workers_drop_slots(const uint8_t *lost)
{
    /* One pass over the set bits, 64 slots at a time (a reshard's source
     * drops one slot each time the target's PONG claims one), each slot
     * to its worker's message. */
    if (g_nworkers < 1) return;   /* no workers (the unit tests' state actor) */
    int count[MAX_WORKERS] = { 0 };
    slot_drop_t *m[MAX_WORKERS] = { NULL };
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned w = 0; w < SLOT_COUNT / 64; w++) {
            uint64_t bits = 0;
            for (int b = 0; b < 8; b++) bits |= (uint64_t)lost[w * 8 + (unsigned)b] << (8 * b);
            for (; bits; bits &= bits - 1) {
                unsigned s = w * 64 + (unsigned)__builtin_ctzll(bits);
                int i = worker_of_slot(s);
                if (pass == 0) count[i]++;
                else m[i]->slots[m[i]->n++] = (uint16_t)s;
            }
        }
        for (int i = 0; pass == 0 && i < g_nworkers; i++) {
            if (count[i] == 0) continue;
            m[i] = xcalloc(1, sizeof *m[i] + (size_t)count[i] * sizeof m[i]->slots[0]);
            m[i]->run.hdr.type = WMSG_RUN;
            m[i]->run.fn = drop_on_worker;
        }
    }
    for (int i = 0; i < g_nworkers; i++)
        if (m[i]) worker_post(i, &m[i]->run.hdr);
}

/* workers_slots_with_keys: the answers gathered, and how many are still out. */
typedef struct slots_ask {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int left;
    uint8_t bits[SLOT_COUNT / 8];
} slots_ask_t;

typedef struct slots_ask_msg {
    worker_run_t run;
    slots_ask_t *ask;
} slots_ask_msg_t;

static void slots_ask_run(worker_t *w, rt_msg_t *msg)
{
    slots_ask_msg_t *m = (slots_ask_msg_t *)msg;
    slots_ask_t *a = m->ask;
    free(m);
    uint8_t mine[SLOT_COUNT / 8];
    memset(mine, 0, sizeof mine);
    struct keyspace *ks = wdb_peek(w, 0);
    /* a worker holds keys of its own slots only */
    for (unsigned s = (unsigned)w->index; ks && s < SLOT_COUNT; s += (unsigned)g_nworkers)
        if (ks_count_in_slot(ks, s) > 0) mine[s / 8] |= (uint8_t)(1u << (s % 8));
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < sizeof mine; i++) a->bits[i] |= mine[i];
    if (--a->left == 0) pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

void workers_slots_with_keys(uint8_t *bits)
{
    slots_ask_t a = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .left = g_nworkers };
    for (int i = 0; i < g_nworkers; i++) {
        slots_ask_msg_t *m = xcalloc(1, sizeof *m);
        m->run.hdr.type = WMSG_RUN;
        m->run.fn = slots_ask_run;
        m->ask = &a;
        worker_post(i, &m->run.hdr);
    }
    pthread_mutex_lock(&a.mu);
    while (a.left > 0) pthread_cond_wait(&a.cv, &a.mu);
    pthread_mutex_unlock(&a.mu);
    memcpy(bits, a.bits, sizeof a.bits);
}

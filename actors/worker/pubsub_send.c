/* pubsub_send.c - publishing: a message to this worker's subscribers at once
 * and, in batches, to the other workers that may hold some (pubsub.h).
 *
 * Why batches: a publisher pipelines. A worker that reads 16 PUBLISHes in
 * one round used to send 16 messages (each with its own copy of the
 * payload) to every other worker holding subscribers and get 16 back with
 * the counts; each was a mailbox push, often a wake-up, and a delivery that
 * allocated its message and client list. Now a worker keeps, per target
 * worker, one outbox of the messages of the round (the first one read to
 * the last), sent as ONE mailbox message before its loop sleeps; the target
 * delivers them in order into its subscribers' buffers, so each of them gets
 * one write for the round, and sends the batch back once with every count
 * that was asked for.
 *
 * Order: the outbox to T leaves before any other message this worker sends
 * T (worker_send flushes it, as it flushes the keyed-command batch, and
 * batch_add flushes it before a command joins that batch), so what a
 * publisher did on this worker reaches T's subscribers in its order. A
 * keyspace notification joins the same outbox and makes it leave at once: a
 * command's reply can leave from another worker than the one that ran it,
 * and must not overtake its events.
 *
 * A client's events before its PUBLISH, as 7.0.15 (one thread) has them:
 * the worker that ran the command sends its notifications to every worker
 * holding subscribers, its own included, through their mailboxes, before
 * the reply can leave. A PUBLISH writes to its own worker's subscribers at
 * once, so it must not run before such a message reached them: (1) a
 * client's PUBLISH waits, unparsed, while a command it sent before is in a
 * batch another worker has not answered (pubsub_publish_must_wait); (2)
 * while an ordered batch (one sent at once: notifications, a script's
 * PUBLISH, a replica's stream) is on its way to worker W, W's PUBLISHes and
 * bus messages reach W's own subscribers through W's mailbox too, behind it
 * (g_ordered_in_flight). Messages to other workers keep their order by the
 * mailboxes' (test_pubsub_order.py).
 *
 * Must never: touch another worker's outboxes (row `from` of g_out belongs to
 * worker `from`'s thread); hold a message past the end of the loop round
 * that produced it.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/worker/batch.h"
#include "actors/worker/client.h"
#include "actors/worker/pubsub.h"
#include "actors/worker/pubsub_internal.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/xscript.h"
#include "proto/strnum.h"
#include "runtime/xmalloc.h"

/* An outbox past this many bytes of messages leaves at once (a huge
 * pipeline round is carried in several batches, still in order). */
#define PS_BATCH_FLUSH_BYTES (256 * 1024)

typedef struct ps_item {
    reply_slot_t *slot;            /* the origin's PUBLISH reply; NULL: no count wanted */
    size_t off;                    /* channel then message, in the batch's arena */
    size_t chlen, len;
    uint64_t hash;                 /* pubsub_name_hash of the channel */
    long long count;               /* receivers on the target, written there */
    bool shard;
} ps_item_t;

typedef struct ps_batch {
    worker_run_t run;              /* WMSG_RUN: batch_run on the target, batch_back on the origin */
    int origin;                    /* the worker that filled it; -1: a thread that is not a worker */
    bool ordered;                  /* counted in g_ordered_in_flight of its target */
    int n, cap;
    int counted;                   /* items with a slot */
    size_t transit;                /* what send_batch added to g_bytes_in_transit */
    ps_item_t *items;
    uint8_t *arena;
    size_t alen, acap;
} ps_batch_t;

static ps_batch_t *g_out[MAX_WORKERS][MAX_WORKERS];   /* [from][to], see "Must never" */

/* Ordered batches on their way to each worker, not yet delivered there.
 * seq_cst, raised before the push and lowered after the delivery: a PUBLISH
 * that comes after the reply of the command that sent one (the reply is
 * written after the push) sees it raised; one that sees it raised without
 * need only takes the mailbox's way. */
static _Atomic int g_ordered_in_flight[MAX_WORKERS];

/* relaxed: bytes of the batches posted and not yet delivered, a figure that
 * eviction leaves out as it leaves out the command batches (batch.h) */
static _Atomic long long g_bytes_in_transit;

long long pubsub_bytes_in_transit(void) { return atomic_load_explicit(&g_bytes_in_transit, memory_order_relaxed); }

/* Worker i's subscribers of this channel must get a message through i's
 * mailbox, behind an ordered batch still on its way there. */
static bool own_behind(int i, bool shard, uint64_t h)
{
    return atomic_load(&g_ordered_in_flight[i]) > 0 && pubsub_may_hold(i, shard, h);
}

/* The worker whose thread this is, or -1. Cached once found: a thread
 * keeps its role. */
static __thread int tl_self = -1;
static __thread bool tl_self_known;

static int self_index(void)
{
    if (tl_self_known) return tl_self;
    rt_thread_t *me = rt_thread_self();
    if (!me) return -1;
    for (int i = 0; i < workers_count(); i++)
        if (worker_thread(i) == me) {
            tl_self = i;
            tl_self_known = true;
            return i;
        }
    return -1;
}

static ps_batch_t *batch_new(int origin)
{
    ps_batch_t *b = xcalloc(1, sizeof *b);
    b->origin = origin;
    return b;
}

static void batch_free(ps_batch_t *b)
{
    free(b->items);
    free(b->arena);
    free(b);
}

/* `single`: the batch leaves with this message alone (a notification's),
 * so an empty one takes the room of that message only, not the 3 KB a
 * round's outbox starts with: evictions that notify made more memory than
 * they freed while the subscribers' worker was behind. */
static void batch_put(ps_batch_t *b, bool single, reply_slot_t *slot, bool shard, const void *ch, size_t chlen,
                      const void *msg, size_t len, uint64_t h)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : single ? 1 : 16;
        b->items = xrealloc(b->items, (size_t)b->cap * sizeof *b->items);
    }
    if (b->alen + chlen + len > b->acap) {
        size_t nc = b->acap ? b->acap * 2 : single ? chlen + len : 2048;
        while (nc < b->alen + chlen + len) nc *= 2;
        b->arena = xrealloc(b->arena, nc);
        b->acap = nc;
    }
    ps_item_t *it = &b->items[b->n++];
    *it = (ps_item_t){ .slot = slot, .off = b->alen, .chlen = chlen, .len = len, .hash = h, .shard = shard };
    memcpy(b->arena + b->alen, ch, chlen);
    if (len) memcpy(b->arena + b->alen + chlen, msg, len);
    b->alen += chlen + len;
    if (slot) b->counted++;
}

/* On the target: every message in order, then the counts back if any were
 * asked for. */
static void batch_back(worker_t *w, rt_msg_t *msg);

static void batch_deliver(worker_t *w, ps_batch_t *b)
{
    for (int i = 0; i < b->n; i++) {
        ps_item_t *it = &b->items[i];
        const uint8_t *ch = b->arena + it->off;
        it->count = pubsub_deliver_here(w, it->shard, ch, it->chlen, ch + it->chlen, it->len, it->hash);
    }
}

static void batch_run(worker_t *w, rt_msg_t *msg)
{
    ps_batch_t *b = (ps_batch_t *)msg;
    batch_deliver(w, b);
    atomic_fetch_sub_explicit(&g_bytes_in_transit, (long long)b->transit, memory_order_relaxed);
    if (b->ordered) atomic_fetch_sub(&g_ordered_in_flight[worker_index(w)], 1);
    if (!b->counted || b->origin < 0) {
        batch_free(b);
        return;
    }
    free(b->arena);               /* the origin needs the counts only */
    b->arena = NULL;
    b->run.fn = batch_back;
    worker_send(w, b->origin, &b->run.hdr);
}

/* On the origin: each counted PUBLISH adds this worker's receivers and is
 * answered after its last part. */
static void batch_back(worker_t *w, rt_msg_t *msg)
{
    ps_batch_t *b = (ps_batch_t *)msg;
    for (int i = 0; i < b->n; i++) {
        reply_slot_t *s = b->items[i].slot;
        if (!s) continue;
        s->sum += b->items[i].count;
        if (--s->parts_left > 0) continue;
        /* by hand: snprintf here was ~2 % of a node's CPU in a -P 16 PUBLISH run */
        char num[32] = ":";
        size_t k = 1 + ll_to_str(num + 1, s->sum);
        num[k++] = '\r';
        num[k++] = '\n';
        client_slot_fill(w, s, num, k);
    }
    batch_free(b);
}

static void send_batch(int to, ps_batch_t *b)
{
    if (b->ordered) atomic_fetch_add(&g_ordered_in_flight[to], 1);
    b->transit = sizeof *b + (size_t)b->cap * sizeof *b->items + b->acap;
    atomic_fetch_add_explicit(&g_bytes_in_transit, (long long)b->transit, memory_order_relaxed);
    b->run.hdr.type = WMSG_RUN;
    b->run.fn = batch_run;
    worker_post(to, &b->run.hdr);
}

void pubsub_outbox_flush(worker_t *w, int target)
{
    int from = worker_index(w);
    if (from != self_index()) return;   /* that row is its own thread's (it flushes before it sleeps) */
    int lo = target < 0 ? 0 : target, hi = target < 0 ? workers_count() : target + 1;
    for (int t = lo; t < hi; t++) {
        ps_batch_t *b = g_out[from][t];
        if (!b) continue;
        g_out[from][t] = NULL;
        send_batch(t, b);
    }
}

/* One message into the outbox from this thread's worker `self` to `to`
 * (`ordered`: the outbox is about to leave at once, see g_ordered_in_flight). */
static void outbox_put(int self, int to, reply_slot_t *slot, bool ordered, bool shard, const void *ch, size_t chlen,
                       const void *msg, size_t len, uint64_t h)
{
    ps_batch_t *b = g_out[self][to];
    if (!b) {
        worker_t *w = worker_at(self);
        /* keyed commands queued for `to` before this message go first (batch.h) */
        if (w->outbox[to]) batch_flush(w, to);
        b = g_out[self][to] = batch_new(self);
    }
    b->ordered |= ordered;
    batch_put(b, ordered, slot, shard, ch, chlen, msg, len, h);   /* ordered: it leaves now */
    if (b->alen >= PS_BATCH_FLUSH_BYTES) {
        g_out[self][to] = NULL;
        send_batch(to, b);
    }
}

/* Targets: the workers but `skip` that may hold a subscriber. */
static uint64_t targets_of(bool shard, uint64_t h, int skip)
{
    uint64_t targets = 0;
    for (int i = 0; i < workers_count(); i++)
        if (i != skip && pubsub_may_hold(i, shard, h)) targets |= 1ULL << i;
    return targets;
}

/* Uncounted copies to `targets`: through this thread's outboxes on a
 * worker (with `now`, each outbox it joined leaves at once), else one batch
 * each, posted now. */
static void send_uncounted(uint64_t targets, bool now, bool shard, const void *ch, size_t chlen, const void *msg,
                           size_t len, uint64_t h)
{
    int self = self_index();
    for (int i = 0; i < workers_count(); i++) {
        if (!(targets & (1ULL << i))) continue;
        if (self >= 0) {
            outbox_put(self, i, NULL, now, shard, ch, chlen, msg, len, h);
            if (now) pubsub_outbox_flush(worker_at(self), i);
            continue;
        }
        ps_batch_t *b = batch_new(-1);
        b->ordered = true;
        batch_put(b, true, NULL, shard, ch, chlen, msg, len, h);
        send_batch(i, b);
    }
}

void pubsub_publish_cmd(cmd_ctx_t *ctx, bool shard)
{
    worker_t *w = ctx->worker;
    client_t *c = ctx->client;
    const uint8_t *ch = ctx->argv[1], *data = ctx->argv[2];
    size_t chlen = ctx->argvlen[1], len = ctx->argvlen[2];
    uint64_t h = pubsub_name_hash(ch, chlen);
    int me = worker_index(w), self = self_index();
    uint64_t targets = targets_of(shard, h, me);
    /* our own subscribers at once, or behind an ordered batch on its way to them */
    bool behind = self == me && own_behind(me, shard, h);
    long long here = 0;
    if (behind) targets |= 1ULL << me;
    else here = pubsub_deliver_here(w, shard, ch, chlen, data, len, h);
    if (!targets || !c || self != me) {
        /* nothing to count elsewhere, or no reply to defer (a replicated or
         * loaded PUBLISH): this node's count is what we know. A script's
         * call holding the session (pubsub.h) counts the standing workers'
         * subscribers, who get the message when they go on: it leaves at
         * once, as a notification does, so that the script's reply (which
         * may leave from another worker) cannot overtake it. Our own,
         * when behind, are counted now and served from our mailbox. */
        uint64_t others = targets & ~(1ULL << me);
        bool script = others && !c && xscript_held(w);
        if (script) here += pubsub_count_standing(others, shard, ch, chlen, h);
        if (behind) here += pubsub_count_standing(1ULL << me, shard, ch, chlen, h);
        if (targets) send_uncounted(targets, script || behind, shard, ch, chlen, data, len, h);
        resp_add_int(ctx->reply, here);
        return;
    }
    reply_slot_t *s = client_defer_reply(c);
    s->sum = here;
    s->parts_left = __builtin_popcountll(targets);
    for (int i = 0; i < workers_count(); i++)
        if (targets & (1ULL << i)) outbox_put(me, i, s, false, shard, ch, chlen, data, len, h);
}

void pubsub_publish_async(bool shard, const void *channel, size_t channel_len, const void *message,
                          size_t message_len)
{
    /* A notification leaves at once, behind what this worker published for
     * each target before it: the command's reply (which may go out from
     * another worker, batch.h) must not overtake it, so a client that acts
     * on the reply finds the event delivered in the order the commands ran.
     * This worker's own subscribers get it from its mailbox, after the
     * command (a delivery may close one of them at its output limit). */
    uint64_t h = pubsub_name_hash(channel, channel_len);
    send_uncounted(targets_of(shard, h, -1), true, shard, channel, channel_len, message, message_len, h);
}

void pubsub_publish_from_bus(bool shard, const void *channel, size_t channel_len, const void *message,
                             size_t message_len)
{
    /* Links run on the workers' threads: this worker's subscribers get the
     * message in this loop round, written before the loop sleeps with what
     * else the round gave them, instead of one round later through our own
     * mailbox (a wake-up, and a second write to each of them). */
    uint64_t h = pubsub_name_hash(channel, channel_len);
    int self = self_index();
    bool behind = self >= 0 && own_behind(self, shard, h);   /* then through our mailbox, as the others */
    if (self >= 0 && !behind && pubsub_may_hold(self, shard, h)) {
        pubsub_deliver_here(worker_at(self), shard, channel, channel_len, message, message_len, h);
    }
    send_uncounted(targets_of(shard, h, behind ? -1 : self), false, shard, channel, channel_len, message,
                   message_len, h);
}

bool pubsub_publish_must_wait(client_t *c, const uint8_t *name, size_t len)
{
    if (c->batch_open <= 0 || (c->flags & CLIENT_MULTI)) return false;   /* in MULTI: queued, runs at EXEC */
    if (!((len == 7 && !strncasecmp((const char *)name, "publish", 7)) ||
          (len == 8 && !strncasecmp((const char *)name, "spublish", 8))))
        return false;
    c->input_held = true;         /* the batch must come back: its reply is not lent (batch.c) */
    if (c->socket_lent) rt_thread_want_lazy_wakeups(true);   /* lent already: its return must wake us */
    return true;
}

bool pubsub_others_may_hold(const worker_t *w, bool shard, const uint8_t *ch, size_t chlen)
{
    return targets_of(shard, pubsub_name_hash(ch, chlen), worker_index(w)) != 0;
}

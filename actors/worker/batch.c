/* batch.c - see batch.h. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/persist/aof.h"
#include "actors/state/state.h"
#include "actors/worker/batch.h"
#include "actors/worker/client.h"
#include "actors/worker/wdb.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/pubsub.h"
#include "actors/worker/slowlog.h"
#include "actors/worker/tracking.h"
#include "actors/worker/worker_internal.h"
#include "runtime/xmalloc.h"

/* relaxed: a figure that eviction compares with maxmemory, no data is
 * published through it */
static _Atomic long long g_bytes_in_transit;

long long batch_bytes_in_transit(void) { return atomic_load_explicit(&g_bytes_in_transit, memory_order_relaxed); }

void batch_add(worker_t *w, int target, reply_slot_t *slot, const cmd_def_t *cmd, int argc,
               const uint8_t **argv, const size_t *argvlen, int proto, long long now_ms)
{
    pubsub_outbox_flush(w, target);   /* messages published before this command go first */
    cmd_batch_t *b = w->outbox[target];
    if (!b) {
        b = xcalloc(1, sizeof *b);
        b->origin = w;
        b->now_ms = now_ms;
        resp_buf_init(&b->reply, 2);
        b->snap_version = w->cur ? w->cur->version : 0;
        w->outbox[target] = b;
    } else if (!w->cur || w->cur->version != b->snap_version) {
        b->snap_version = 0;      /* routed under several views: the executor re-checks all */
    }
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 32;
        b->e = xrealloc(b->e, sizeof *b->e * (size_t)b->cap);
    }
    size_t need = 0;
    for (int i = 0; i < argc; i++) need += sizeof(size_t) + argvlen[i] + 1;
    if (b->alen + need > b->acap) {
        size_t nc = b->acap ? b->acap * 2 : 4096;
        while (nc < b->alen + need) nc *= 2;
        b->arena = xrealloc(b->arena, nc);
        b->acap = nc;
    }
    batch_entry_t *e = &b->e[b->n++];
    e->slot = slot;
    slot->in_batch = true;
    if (slot->client) {
        /* one target at a time: dispatch_order_must_wait holds a command for
         * another worker until these are back */
        slot->client->batch_open++;
        slot->client->batch_target = target;
    }
    e->client_id = slot->client ? tracking_route_id(slot->client) : 0;   /* with its caching decision */
    e->acl_uid = slot->client ? slot->client->acl_uid : 0;
    e->db = slot->client ? slot->client->db : 0;
    e->cmd = cmd;
    e->argc = argc;
    e->proto = proto;
    e->arg_off = b->alen;
    e->fd = -1;
    e->sent = 0;
    e->usec = -1;
    e->slow_id = -1;
    uint8_t *p = b->arena + b->alen;
    for (int i = 0; i < argc; i++) {
        memcpy(p, &argvlen[i], sizeof(size_t));
        p += sizeof(size_t);
        memcpy(p, argv[i], argvlen[i]);
        p += argvlen[i];
        *p++ = '\0';
    }
    b->alen += need;
}

void batch_flush(worker_t *w, int target)
{
    pubsub_outbox_flush(w, target);   /* at most one of the two outboxes to a target holds anything */
    int lo = target < 0 ? 0 : target, hi = target < 0 ? g_nworkers : target + 1;
    for (int t = lo; t < hi; t++) {
        cmd_batch_t *b = w->outbox[t];
        if (!b) continue;
        w->outbox[t] = NULL;
        for (int i = 0; i < b->n; i++) {
            batch_entry_t *e = &b->e[i];
            e->fd = client_lend_socket(e->slot);
            if (e->fd >= 0) b->ndirect++;
        }
        if (b->ndirect) w->lent_batches++;
        b->transit_bytes = b->acap + sizeof *b->e * (size_t)b->cap;
        atomic_fetch_add_explicit(&g_bytes_in_transit, (long long)b->transit_bytes, memory_order_relaxed);
        b->hdr.type = WMSG_BATCH;
        rt_send(&g_workers[t]->actor, &b->hdr);
    }
}

/* Bytes a connection may keep unsent while the rest of its pipeline is in
 * a batch: beyond this it writes at once. */
#define HOLD_MAX_BYTES (64 * 1024)

/* A script past busy-reply-threshold on any worker: a batch for that worker
 * waits for the script's end, which may be seconds, so nothing is held. */
static bool any_script_busy(void)
{
    for (int i = 0; i < g_nworkers; i++)
        /* relaxed: a flag (busy.c); a hold decided on a stale value is
         * released by the message worker_busy_begin posts */
        if (atomic_load_explicit(&g_workers[i]->script_busy, memory_order_relaxed)) return true;
    return false;
}

bool batch_holds_output(const client_t *c)
{
    const reply_slot_t *s = c->pending_head;
    /* not with its writable watcher on: that would write the held bytes
     * without the fsync gate's note (aof_gate.h); nor a TLS connection
     * under appendfsync always, whose session may write them from its
     * read (a renegotiated record, SSL_read wanting a write) unnoted */
    return s && s->in_batch && !s->done && c->out.len - c->out_sent < HOLD_MAX_BYTES &&
           !(c->flags & CLIENT_AOF_GATED) && !c->wio_active && !(c->tls && aof_reply_hold_on()) &&
           !any_script_busy();
}

/* What each connection of w holds is written at w's next write round. */
static void release_here(worker_t *w)
{
    for (client_t *c = w->clients; c; c = c->next)
        if (c->out.len > c->out_sent && c->pending_head && c->pending_head->in_batch) client_schedule_write(c);
}

static void release_held(worker_t *w, rt_msg_t *msg)
{
    free(msg);
    release_here(w);
    worker_busy_resume_held(w);   /* a SCRIPT KILL held behind a batch for the busy worker */
}

void batch_release_held(worker_t *busy)
{
    release_here(busy);           /* its busy poll writes them */
    for (int i = 0; i < g_nworkers; i++) {
        if (i == busy->index) continue;
        worker_run_t *m = xcalloc(1, sizeof *m);
        m->hdr.type = WMSG_RUN;
        m->fn = release_held;
        rt_send(&g_workers[i]->actor, &m->hdr);
    }
}

int client_lend_socket(reply_slot_t *s)
{
    client_t *c = s->client;
    if (s->txn_part || s->blocks_client || s->muted || s != c->pending_head || c->socket_lent || c->input_held)
        return -1;
    /* Only the client's one outstanding reply (unpipelined): behind a
     * pipeline the replies leave together in one write from here, which
     * costs less than a write of the first one from the executor. */
    if (s != c->pending_tail) return -1;
    if (c->flags & (CLIENT_CLOSED | CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP)) return -1;
    /* Nothing of ours may be unsent or waiting for the socket: the lent
     * reply must be the next bytes on the wire. Until it comes back
     * nothing reaches c->out (s stays at the FIFO head), so we write
     * nothing on the socket meanwhile. */
    if (c->fd < 0 || c->wio_active || c->out_sent < c->out.len) return -1;
    /* A TLS session is written by its owner only (runtime/tls.h). */
    if (c->tls) return -1;
    /* With appendfsync always the reply waits at our gate (aof_gate.h). */
    if (aof_reply_hold_on()) return -1;
    c->socket_lent = true;
    return c->fd;
}

void client_return_socket(reply_slot_t *s)
{
    client_t *c = s->client;
    c->socket_lent = false;
    if (c->lent_fd_to_close >= 0) {
        close(c->lent_fd_to_close);
        c->lent_fd_to_close = -1;
    }
}

/* The arguments of entry e, pointing into the arena. */
static void entry_args(const uint8_t *arena, const batch_entry_t *e, const uint8_t **argv, size_t *argvlen)
{
    const uint8_t *p = arena + e->arg_off;
    for (int k = 0; k < e->argc; k++) {
        memcpy(&argvlen[k], p, sizeof(size_t));
        p += sizeof(size_t);
        argv[k] = p;
        p += argvlen[k] + 1;
    }
}

/* Prefetching the batch's keys. Why: a command's first lookup of a key that
 * is not in cache costs two dependent misses (the bucket, then the entry it
 * points to): in a profile of EVALSHA batches they were 13-17 % of the
 * executing worker's CPU, and the WATCH version the write bumps one more
 * (5 %). The batch holds every command before any runs, so while one runs,
 * the next one's entry (its bucket fetched one step earlier) and version
 * are on their way. Only the first key of each command, in the current
 * database; nothing is read that the command would not read. */
#define PREFETCH_AHEAD 2
#define PREFETCH_RING 4           /* a power of two above PREFETCH_AHEAD */

/* The refs of the entries in flight, by index modulo the ring (a batch may
 * hold hundreds of commands: 50 clients' pipelines in one loop round). */
typedef struct prefetch {
    ks_keyref_t ref[PREFETCH_RING];
    bool has[PREFETCH_RING];
} prefetch_t;

/* The first key of entry i, when it has one in the current database. */
static bool first_key(const worker_t *w, const cmd_batch_t *b, int i, const uint8_t **key, size_t *len)
{
    const batch_entry_t *e = &b->e[i];
    if (e->db != w->cur_db || e->argc > 32) return false;
    const uint8_t *argv[32];
    size_t argvlen[32];
    entry_args(b->arena, e, argv, argvlen);
    int pos[1];
    if (cmd_get_keys(e->cmd, e->argc, argv, argvlen, pos, 1) < 1) return false;
    *key = argv[pos[0]];
    *len = argvlen[pos[0]];
    return true;
}

/* Step 1 for entry i: its bucket and its WATCH version. */
static void prefetch_bucket(worker_t *w, const cmd_batch_t *b, prefetch_t *pf, int i)
{
    if (i >= b->n) return;
    const uint8_t *key;
    size_t len;
    int k = i & (PREFETCH_RING - 1);
    pf->has[k] = first_key(w, b, i, &key, &len);
    if (!pf->has[k]) return;
    pf->ref[k] = ks_keyref(w->ks, key, len, -1);
    ks_prefetch_ref(w->ks, pf->ref[k]);
    if (watch_anyone()) __builtin_prefetch(&w->key_versions[wdb_watch_bucket(w->cur_db, key, len)], 1);
}

/* Step 2 for entry i, its bucket fetched by now: the chain's first entry. */
static void prefetch_chain(const worker_t *w, const cmd_batch_t *b, const prefetch_t *pf, int i)
{
    int k = i & (PREFETCH_RING - 1);
    if (i < b->n && pf->has[k]) ks_prefetch_chain_ref(w->ks, pf->ref[k]);
}

void batch_execute(worker_t *w, cmd_batch_t *b)
{
    const uint8_t *sargv[32];
    size_t slen[32];
    prefetch_t pf;
    for (int i = 0; i < PREFETCH_AHEAD && b->n > 1; i++) prefetch_bucket(w, b, &pf, i);
    for (int i = 0; i < b->n; i++) {
        batch_entry_t *e = &b->e[i];
        if (b->n > 1) {
            prefetch_chain(w, b, &pf, i + 1);
            prefetch_bucket(w, b, &pf, i + PREFETCH_AHEAD);
        }
        const uint8_t **argv = e->argc <= 32 ? sargv : xmalloc(sizeof(*argv) * (size_t)e->argc);
        size_t *argvlen = e->argc <= 32 ? slen : xmalloc(sizeof(*argvlen) * (size_t)e->argc);
        entry_args(b->arena, e, argv, argvlen);
        b->reply.proto = e->proto;
        e->reply_off = b->reply.len;
        w->exec_acl_uid = e->acl_uid;
        if (e->db != w->cur_db) wdb_use(w, e->db);
        dispatch_run_routed(w, e->client_id, e->cmd, e->argc, argv, argvlen, &b->reply, b->now_ms, b->snap_version);
        e->reply_len = b->reply.len - e->reply_off;
        e->usec = dispatch_last_call_usec();
        /* the id now: a direct reply is out before the origin logs the call */
        if (e->usec >= 0 && !(e->cmd->flags & CMD_SKIP_SLOWLOG) && slowlog_wants(e->usec)) e->slow_id = slowlog_take_id();
        if (e->argc > 32) { free(argv); free(argvlen); }
    }
    w->exec_acl_uid = 0;
    if (w->cur_db) wdb_use(w, 0);
}

bool batch_write_direct(worker_t *w, cmd_batch_t *b)
{
    if (b->ndirect == 0) return false;
    /* Lent before appendfsync became always (the origin lends none then):
     * these replies pass no gate, so their writes are synced first. */
    if (aof_reply_hold_on()) aof_reply_sync_now();
    bool all = b->ndirect == b->n;
    for (int i = 0; i < b->n; i++) {
        batch_entry_t *e = &b->e[i];
        if (e->fd < 0) continue;
        const char *p = b->reply.data + e->reply_off;
        while (e->sent < e->reply_len) {
            /* MSG_DONTWAIT: never block on a slow reader; MSG_NOSIGNAL: a
             * peer that went away is the origin's to notice. */
            ssize_t n = send(e->fd, p + e->sent, e->reply_len - e->sent, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) {
                e->sent += (size_t)n;
                atomic_fetch_add_explicit(&w->stats.net_output_bytes, n, memory_order_relaxed);
                atomic_fetch_add_explicit(&w->stats.writes_processed, 1, memory_order_relaxed);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            break;                /* full or failed: the origin writes the rest (or closes) */
        }
        if (e->sent < e->reply_len) all = false;
    }
    return all;
}

/* A call of one of our clients that another worker ran: our slow log takes
 * it (the executor knows no client's address or name). */
static void log_slow(const batch_entry_t *e, const uint8_t *arena)
{
    const uint8_t *sargv[32];
    size_t slen[32];
    const uint8_t **argv = e->argc <= 32 ? sargv : xmalloc(sizeof(*argv) * (size_t)e->argc);
    size_t *argvlen = e->argc <= 32 ? slen : xmalloc(sizeof(*argvlen) * (size_t)e->argc);
    entry_args(arena, e, argv, argvlen);
    slowlog_push(e->slot->client, e->cmd, e->argc, argv, argvlen, e->usec, e->slow_id);
    if (e->argc > 32) { free(argv); free(argvlen); }
}

void batch_complete(worker_t *w, cmd_batch_t *b)
{
    for (int i = 0; i < b->n; i++) {
        batch_entry_t *e = &b->e[i];
        if (e->fd >= 0) client_return_socket(e->slot);   /* before the fill, which may free the client */
        if (e->slow_id >= 0 && e->slot->client) log_slow(e, b->arena);
        client_slot_fill(w, e->slot, b->reply.data + e->reply_off + e->sent, e->reply_len - e->sent);
    }
    if (b->ndirect && --w->lent_batches == 0)
        rt_thread_want_lazy_wakeups(false);
    atomic_fetch_sub_explicit(&g_bytes_in_transit, (long long)b->transit_bytes, memory_order_relaxed);
    free(b->e);
    free(b->arena);
    resp_buf_free(&b->reply);
    free(b);
}

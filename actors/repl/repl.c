/* repl.c - the replication actor: owner of the replication history (replid,
 * replid2, master_repl_offset, second_repl_offset), the backlog, and the set
 * of replicas we serve. See repl.h for how the workers' writes become one
 * ordered stream.
 *
 * Offsets: every byte appended to the stream (worker feeds, our master's
 * stream on a replica, SELECT, ping, REPLCONF GETACK) advances
 * master_repl_offset by one, as in Redis. The backlog keeps the last
 * repl-backlog-size bytes; its first byte has offset
 * master_repl_offset - histlen + 1.
 *
 * Full sync: a stop-the-world cut. Every worker flushes its buffer, reports
 * at the barrier and waits; once all reported, every byte they propagated
 * before the cut is in the stream, so the current offset X is the cut's
 * offset. Released, each worker encodes its keys (the state at X) and the
 * parts are joined into one RDB whose aux fields say X; the replica gets
 * +FULLRESYNC <id> X, the RDB, and the stream from X+1 on. FLUSHALL while
 * propagating uses the same cut so that no worker's later writes can land
 * before the FLUSHALL in the stream.
 *
 * Must never: assign offsets anywhere else, block (the cut blocks workers,
 * never this actor), or send a replica stream bytes that precede its sync
 * point.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "actors/worker/client.h"
#include "actors/config/config.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "actors/repl/repl.h"
#include "actors/repl/repl_internal.h"
#include "actors/repl/repl_replica.h"
#include "actors/state/state.h"
#include "proto/rdb.h"
#include "runtime/log.h"
#include "proto/strnum.h"

_Atomic int g_repl_propagate;
_Atomic long long g_repl_offset;
_Atomic int g_repl_good_replicas;
_Atomic int g_repl_min_replicas;

enum { SND_WAIT_CUT = 1, SND_WAIT_RDB, SND_ONLINE };

typedef struct served {
    struct served *next;
    repl_sender_t *sender;
    char ip[46];
    int port;
    int capa;
    int state;
    long long ack_offset;
    long long ack_ms;             /* rt_mono_ms of the last ACK (or attach) */
    bool released;                /* stream bytes may flow (EOF framing waits for the first ACK) */
    uint64_t client_id;
} served_t;

typedef struct waiter {
    struct waiter *next;
    remote_cmd_t *rc;
    int numreplicas;
    long long target;
    long long deadline_ms;        /* 0 = none */
} waiter_t;

static struct {
    rt_thread_t *thread;
    rt_actor_t actor;
    char replid[REPL_ID_LEN + 1], replid2[REPL_ID_LEN + 1];
    long long offset, second_offset;
    uint8_t *backlog;             /* ring of backlog_size bytes, NULL when none */
    long long backlog_size, histlen;
    size_t widx;                  /* next write position */
    bool need_select;
    served_t *served;
    waiter_t *waiters;
    bool getack_pending;
    repl_cut_t *cut;              /* the cut under way, or NULL */
    remote_cmd_t *cut_flush_rc;   /* FLUSHALL or DEBUG SLEEP waiting for its cut */
    remote_cmd_t *flush_queue[64];   /* RM_FLUSH and RM_SLEEP requests, in arrival order */
    int nflush_queue;
    bool sync_queued;             /* a full sync waits for the current cut */
    rt_timer_t cron, wait_timer;
    bool wait_timer_on;
    long long max_lag;            /* min-replicas-max-lag, read by the cron */
    long long last_ping_ms;
    long long sync_full, sync_partial_ok, sync_partial_err;
    long long output_bytes;
    rt_snap_reader_t snap;
    bool snap_ok;
    pthread_mutex_t mu;           /* guards `pub` */
    repl_status_t pub;
} R = { .mu = PTHREAD_MUTEX_INITIALIZER };

static bool was_replica;
static void check_role(void);

rt_actor_t *repl_actor(void) { return &R.actor; }
rt_thread_t *repl_thread(void) { return R.thread; }

/* ---------------- chunks ---------------- */

repl_chunk_t *repl_chunk_new(uint8_t *data, size_t len)
{
    repl_chunk_t *c = malloc(sizeof *c);
    if (!c) abort();
    atomic_init(&c->refs, 1);
    c->data = data;
    c->len = len;
    return c;
}

repl_chunk_t *repl_chunk_copy(const void *data, size_t len)
{
    uint8_t *d = malloc(len ? len : 1);
    if (!d) abort();
    memcpy(d, data, len);
    return repl_chunk_new(d, len);
}

void repl_chunk_unref(repl_chunk_t *c)
{
    if (!c) return;
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1) {
        free(c->data);
        free(c);
    }
}

/* ---------------- ids, status ---------------- */

static void random_id(char out[REPL_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t raw[REPL_ID_LEN];
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(raw, 1, sizeof raw, f) : 0;
    if (f) fclose(f);
    for (size_t i = got; i < sizeof raw; i++) raw[i] = (uint8_t)(rand() & 0xff);
    for (int i = 0; i < REPL_ID_LEN; i++) out[i] = hex[raw[i] & 15];
    out[REPL_ID_LEN] = '\0';
}

static const char zero_id[] = "0000000000000000000000000000000000000000";

static long long first_byte_offset(void) { return R.backlog ? R.offset - R.histlen + 1 : 0; }

static void publish(void)
{
    long long now = rt_mono_ms();
    long long maxlag = R.max_lag;
    int good = 0;
    pthread_mutex_lock(&R.mu);
    repl_status_t *p = &R.pub;
    memcpy(p->replid, R.replid, sizeof p->replid);
    memcpy(p->replid2, R.replid2, sizeof p->replid2);
    p->master_repl_offset = R.offset;
    p->second_repl_offset = R.second_offset;
    p->backlog_active = R.backlog != NULL;
    p->backlog_size = R.backlog ? R.backlog_size : config_get_num(CONFIG_REPL_BACKLOG_SIZE);
    p->backlog_first_byte_offset = first_byte_offset();
    p->backlog_histlen = R.histlen;
    p->nreplicas = 0;
    for (served_t *s = R.served; s; s = s->next) {
        long long lag = (now - s->ack_ms) / 1000;
        if (s->state == SND_ONLINE && lag <= maxlag) good++;
        if (p->nreplicas >= REPL_MAX_SHOWN_REPLICAS) continue;
        repl_replica_view_t *v = &p->replicas[p->nreplicas++];
        snprintf(v->ip, sizeof v->ip, "%s", s->ip);
        v->port = s->port;
        snprintf(v->state, sizeof v->state, "%s",
                 s->state == SND_ONLINE ? "online" : s->state == SND_WAIT_RDB ? "send_bulk" : "wait_bgsave");
        v->offset = s->ack_offset;
        v->lag = lag;
    }
    p->sync_full = R.sync_full;
    p->sync_partial_ok = R.sync_partial_ok;
    p->sync_partial_err = R.sync_partial_err;
    p->net_repl_output_bytes = R.output_bytes;
    pthread_mutex_unlock(&R.mu);
    atomic_store_explicit(&g_repl_offset, R.offset, memory_order_relaxed);
    atomic_store_explicit(&g_repl_good_replicas, good, memory_order_relaxed);
}

void repl_status_get(repl_status_t *out)
{
    pthread_mutex_lock(&R.mu);
    *out = R.pub;
    pthread_mutex_unlock(&R.mu);
}

long long repl_psync_args(char replid[REPL_ID_LEN + 1])
{
    pthread_mutex_lock(&R.mu);
    long long off = R.pub.master_repl_offset;
    memcpy(replid, R.pub.replid, REPL_ID_LEN + 1);
    bool have = R.pub.backlog_active || off > 0;
    pthread_mutex_unlock(&R.mu);
    if (!have) {
        snprintf(replid, REPL_ID_LEN + 1, "?");
        return -1;
    }
    return off + 1;
}

/* ---------------- the stream ---------------- */

static void backlog_create(void)
{
    R.backlog_size = config_get_num(CONFIG_REPL_BACKLOG_SIZE);
    if (R.backlog_size < 16 * 1024) R.backlog_size = 16 * 1024;
    R.backlog = malloc((size_t)R.backlog_size);
    if (!R.backlog) abort();
    R.histlen = 0;
    R.widx = 0;
}

/* CONFIG SET repl-backlog-size takes effect at once, as 7.0.15's
 * resizeReplicationBacklog does (at least 16 KB): the newest bytes that fit
 * stay, so a smaller backlog makes an older PSYNC offset fall out of it. */
static void backlog_follow_config(void)
{
    long long want = config_get_num(CONFIG_REPL_BACKLOG_SIZE);
    if (want < 16 * 1024) want = 16 * 1024;
    if (!R.backlog || want == R.backlog_size) return;
    uint8_t *nb = malloc((size_t)want);
    if (!nb) return;                       /* keep the old one; try again on the next append */
    size_t size = (size_t)R.backlog_size;
    size_t keep = (size_t)(R.histlen < want ? R.histlen : want);
    size_t start = (R.widx + size - keep % size) % size;   /* the oldest byte kept */
    for (size_t done = 0; done < keep;) {
        size_t k = size - start < keep - done ? size - start : keep - done;
        memcpy(nb + done, R.backlog + start, k);
        done += k;
        start = (start + k) % size;
    }
    free(R.backlog);
    R.backlog = nb;
    R.backlog_size = want;
    R.histlen = (long long)keep;
    R.widx = keep % (size_t)want;
}

static void backlog_put(const uint8_t *p, size_t n)
{
    backlog_follow_config();
    size_t size = (size_t)R.backlog_size;
    if (n > size) {               /* only the tail can be kept */
        p += n - size;
        n = size;
    }
    while (n > 0) {
        size_t room = size - R.widx, k = n < room ? n : room;
        memcpy(R.backlog + R.widx, p, k);
        R.widx = (R.widx + k) % size;
        p += k;
        n -= k;
        R.histlen += (long long)k;
    }
    if (R.histlen > R.backlog_size) R.histlen = R.backlog_size;
}

/* Appends bytes to the stream: offset, backlog, every attached replica. */
static void stream_append_chunk(repl_chunk_t *c)
{
    if (!R.backlog) {
        repl_chunk_unref(c);
        return;
    }
    backlog_put(c->data, c->len);
    R.offset += (long long)c->len;
    for (served_t *s = R.served; s; s = s->next) {
        if (s->state == SND_WAIT_CUT) continue;          /* its sync point is not fixed yet */
        repl_sender_send(s->sender, repl_chunk_ref(c), !s->released);
        R.output_bytes += (long long)c->len;
    }
    repl_chunk_unref(c);
}

static void stream_append(const void *p, size_t n)
{
    stream_append_chunk(repl_chunk_copy(p, n));
}

static void maybe_select(void)
{
    if (!R.need_select) return;
    R.need_select = false;
    static const char sel[] = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n";
    stream_append(sel, sizeof sel - 1);
}

/* Copies backlog bytes from stream offset `from` to the end. */
static uint8_t *backlog_copy_from(long long from, size_t *len)
{
    long long n = R.offset + 1 - from;
    *len = (size_t)n;
    uint8_t *out = malloc(n > 0 ? (size_t)n : 1);
    if (!out) abort();
    size_t size = (size_t)R.backlog_size;
    size_t start = (R.widx + size - (size_t)n % size) % size;
    if (n == R.backlog_size) start = R.widx;
    for (long long i = 0; i < n; i++) out[i] = R.backlog[(start + (size_t)i) % size];
    return out;
}

/* ---------------- WAIT ---------------- */

static int acked_count(long long target)
{
    int n = 0;
    for (served_t *s = R.served; s; s = s->next)
        if (s->state == SND_ONLINE && s->ack_offset >= target) n++;
    return n;
}

static void wait_reply(waiter_t *w)
{
    resp_add_int(&w->rc->reply, acked_count(w->target));
    worker_reply_async(w->rc);
    free(w);
}

static void wait_check(bool timeout_pass)
{
    long long now = rt_mono_ms();
    waiter_t **pp = &R.waiters;
    while (*pp) {
        waiter_t *w = *pp;
        if (acked_count(w->target) >= w->numreplicas || (timeout_pass && w->deadline_ms && now >= w->deadline_ms)) {
            *pp = w->next;
            wait_reply(w);
        } else {
            pp = &w->next;
        }
    }
    if (!R.waiters && R.wait_timer_on) {
        rt_timer_stop(&R.wait_timer);
        R.wait_timer_on = false;
    }
}

static void wait_timer_cb(rt_timer_t *t, void *arg)
{
    (void)t;
    (void)arg;
    wait_check(true);
}

static void send_getack(void)
{
    if (!R.getack_pending) return;
    R.getack_pending = false;
    static const char getack[] = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";
    stream_append(getack, sizeof getack - 1);
}

static void handle_wait(remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    waiter_t *w = calloc(1, sizeof *w);
    if (!w) abort();
    w->rc = rc;
    /* Both were checked by cmd_wait with the same parser. 7.0.15 keeps the
     * count in an int of its blocking state, so 4294967296 waits for no
     * replica at all there; the same truncation keeps WAIT's answers equal. */
    long long n = 0, timeout = 0;
    str_to_ll(q->argv[1], q->argvlen[1], &n);
    str_to_ll(q->argv[2], q->argvlen[2], &timeout);
    w->numreplicas = (int)(uint32_t)(unsigned long long)n;
    w->target = R.offset;
    /* cmd_wait bounded now_ms + timeout on the wall clock; the monotonic
     * clock is not larger, but saturate anyway rather than trust that. */
    long long now = rt_mono_ms();
    w->deadline_ms = timeout <= 0 ? 0 : (timeout > LLONG_MAX - now ? LLONG_MAX : now + timeout);
    if (acked_count(w->target) >= w->numreplicas) {
        wait_reply(w);
        return;
    }
    w->next = R.waiters;
    R.waiters = w;
    R.getack_pending = true;
    if (!R.wait_timer_on) {
        rt_timer_start(&R.wait_timer, R.thread, 10, 10, wait_timer_cb, NULL);
        R.wait_timer_on = true;
    }
}

/* ---------------- cuts ---------------- */

static void start_cut(int kind, long long sleep_us)
{
    repl_cut_t *cut = calloc(1, sizeof *cut);
    if (!cut) abort();
    cut->kind = kind;
    cut->sleep_us = sleep_us;
    cut->parties = g_nworkers;
    pthread_mutex_init(&cut->mu, NULL);
    pthread_cond_init(&cut->cv, NULL);
    cut->now_ms = rt_now_ms();
    char buf[16];
    cut->compress = !(config_get_by_name("rdbcompression", buf, sizeof buf) >= 0 && !strcasecmp(buf, "no"));
    R.cut = cut;
    for (int i = 0; i < g_nworkers; i++) {
        repl_cut_msg_t *m = calloc(1, sizeof *m);
        if (!m) abort();
        m->hdr.type = WMSG_REPL_CUT;
        m->cut = cut;
        m->worker = i;
        rt_send(&g_workers[i]->actor, &m->hdr);
    }
    if (kind == CUT_SLEEP && config_cluster_enabled()) {
        /* The state actor and its cron stop too: a sleeping redis-server
         * neither pings nor marks anyone failing. */
        repl_cut_msg_t *m = calloc(1, sizeof *m);
        if (!m) abort();
        m->hdr.type = REPL_MSG_PARK;
        m->cut = cut;
        m->worker = -1;
        cut->parties++;
        rt_send(state_actor(), &m->hdr);
    }
}

/* Both sides of the barrier for a party that has no part of its own. */
static void cut_wait_released(repl_cut_t *cut)
{
    pthread_mutex_lock(&cut->mu);
    while (!cut->released) pthread_cond_wait(&cut->cv, &cut->mu);
    pthread_mutex_unlock(&cut->mu);
}

void repl_cut_park(rt_msg_t *msg)
{
    repl_cut_msg_t *m = (repl_cut_msg_t *)msg;
    repl_cut_t *cut = m->cut;
    repl_cut_msg_t *a = calloc(1, sizeof *a);
    if (!a) abort();
    a->hdr.type = RM_CUT_ARRIVED;
    a->cut = cut;
    a->worker = -1;
    rt_send(&R.actor, &a->hdr);
    cut_wait_released(cut);
    m->hdr.type = RM_CUT_DONE;
    rt_send(&R.actor, &m->hdr);
}

void repl_request_sleep(remote_cmd_t *rc)
{
    rc->hdr.type = RM_SLEEP;
    rt_send(&R.actor, &rc->hdr);
}

void repl_cut_worker(worker_t *w, repl_cut_msg_t *m)
{
    repl_cut_t *cut = m->cut;
    repl_flush(w);
    repl_cut_msg_t *a = calloc(1, sizeof *a);
    if (!a) abort();
    a->hdr.type = RM_CUT_ARRIVED;
    a->cut = cut;
    a->worker = w->index;
    rt_send(&R.actor, &a->hdr);
    cut_wait_released(cut);
    if (cut->kind == CUT_SYNC) {
        rdb_save_encode_part(w->ks, cut->now_ms, cut->compress, &cut->parts[w->index]);
    } else if (cut->kind == CUT_FLUSH) {
        ks_flush(w->ks);
        w->flush_epoch++;
        atomic_store_explicit(&w->stats.keys, 0, memory_order_relaxed);
        atomic_store_explicit(&w->stats.expires, 0, memory_order_relaxed);
        atomic_store_explicit(&w->stats.dirty, atomic_load_explicit(&w->stats.dirty, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    }
    m->hdr.type = RM_CUT_DONE;
    rt_send(&R.actor, &m->hdr);
}

static void begin_next_cut(void);

static void ensure_backlog(void)
{
    if (R.backlog) return;
    backlog_create();
    if (R.offset == 0 || !R.replid[0]) {
        random_id(R.replid);
        memcpy(R.replid2, zero_id, sizeof R.replid2);
        R.second_offset = -1;
    }
    R.need_select = true;
    /* seq_cst: ordered before the cut messages every worker must pass */
    atomic_store(&g_repl_propagate, 1);
}

static void cut_arrived(repl_cut_msg_t *m)
{
    repl_cut_t *cut = m->cut;
    free(m);
    if (++cut->arrived < cut->parties) return;
    /* Every byte propagated before the cut is in the stream now. */
    if (cut->kind == CUT_SLEEP) {
        /* Everyone else waits at the barrier: this thread sleeps for the
         * node, as redis-server's one thread does in DEBUG SLEEP. */
        struct timespec ts = { (time_t)(cut->sleep_us / 1000000), (long)(cut->sleep_us % 1000000) * 1000 };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
    } else if (cut->kind == CUT_SYNC) {
        for (served_t *s = R.served; s; s = s->next) {
            if (s->state != SND_WAIT_CUT) continue;
            s->state = SND_WAIT_RDB;
            char line[128];
            int n = snprintf(line, sizeof line, "+FULLRESYNC %s %lld\r\n", R.replid, R.offset);
            repl_sender_send(s->sender, repl_chunk_copy(line, (size_t)n), false);
            s->ack_offset = 0;
        }
        cut->offset = R.offset;
    } else {
        maybe_select();
        static const char fl[] = "*1\r\n$8\r\nFLUSHALL\r\n";
        stream_append(fl, sizeof fl - 1);
    }
    pthread_mutex_lock(&cut->mu);
    cut->released = true;
    pthread_cond_broadcast(&cut->cv);
    pthread_mutex_unlock(&cut->mu);
    /* On a replica: the link held its master's stream while the offset was
     * being fixed; what it applies from now on follows the cut. */
    repl_replica_resume();
}

static long long used_memory(void)
{
    long long used = 0;
    for (int i = 0; i < g_nworkers; i++)
        used += atomic_load_explicit(&g_workers[i]->stats.used_bytes, memory_order_relaxed);
    return used;
}

/* The RDB for offset `at` as a list of chunks sent one after the other: the
 * header with its aux fields, each worker's part as it was encoded (no join
 * copy: the parts' CRCs are combined), then EOF and the checksum. Returns the
 * number of chunks (in out[], at most MAX_WORKERS + 2) and their total length,
 * or 0 if a part failed. */
static int build_rdb(repl_cut_t *cut, long long at, repl_chunk_t **out, size_t *total)
{
    uint64_t keys = 0, expires = 0;
    for (int i = 0; i < g_nworkers; i++) {
        if (cut->parts[i].failed) return 0;
        keys += cut->parts[i].keys;
        expires += cut->parts[i].expires;
    }
    rdb_encoder_t e;
    rdb_encoder_init(&e, cut->compress);
    rdb_aux_info_t aux = { .ctime = rt_now_ms() / 1000, .used_mem = used_memory(), .has_repl = 1,
                           .repl_stream_db = 0, .repl_id = R.replid, .repl_offset = at };
    rdb_encode_header(&e);
    rdb_encode_aux_fields(&e, &aux);
    if (keys > 0) {
        rdb_encode_selectdb(&e, 0);
        rdb_encode_resizedb(&e, keys, expires);
    }
    if (e.failed) abort();
    int n = 0;
    *total = 0;
    out[n++] = repl_chunk_copy(rdb_encoder_data(&e), rdb_encoder_pending(&e));
    rdb_encoder_drain(&e, rdb_encoder_pending(&e));
    for (int i = 0; i < g_nworkers; i++) {
        rdb_part_t *p = &cut->parts[i];
        rdb_encoder_splice(&e, p->len, p->crc);
        if (!p->len) continue;
        out[n++] = repl_chunk_new(p->data, p->len);   /* the chunk owns the part's bytes now */
        p->data = NULL;
    }
    rdb_encode_eof(&e);
    if (e.failed) abort();
    out[n++] = repl_chunk_copy(rdb_encoder_data(&e), rdb_encoder_pending(&e));
    rdb_encoder_free(&e);
    for (int i = 0; i < n; i++) *total += out[i]->len;
    return n;
}

static void cut_done(repl_cut_msg_t *m)
{
    repl_cut_t *cut = m->cut;
    free(m);
    if (++cut->done < cut->parties) return;
    if (cut->kind == CUT_SYNC) {
        repl_chunk_t *chunks[MAX_WORKERS + 2];
        size_t rdb_len = 0;
        int nchunks = build_rdb(cut, cut->offset, chunks, &rdb_len);
        for (served_t *s = R.served; s; s = s->next) {
            if (s->state != SND_WAIT_RDB) continue;
            if (!nchunks) {
                repl_sender_signal(s->sender, RS_CLOSE);
                continue;
            }
            char head[80];
            int n;
            char mark[REPL_ID_LEN + 1];
            bool eof = (s->capa & REPL_CAPA_EOF) && config_get_num(CONFIG_REPL_DISKLESS_SYNC);
            if (eof) {
                random_id(mark);
                n = snprintf(head, sizeof head, "$EOF:%s\r\n", mark);
            } else {
                n = snprintf(head, sizeof head, "$%zu\r\n", rdb_len);
            }
            repl_sender_send(s->sender, repl_chunk_copy(head, (size_t)n), false);
            for (int i = 0; i < nchunks; i++) repl_sender_send(s->sender, repl_chunk_ref(chunks[i]), false);
            R.output_bytes += (long long)(rdb_len + (size_t)n);
            if (eof) {
                repl_sender_send(s->sender, repl_chunk_copy(mark, REPL_ID_LEN), false);
            } else {
                s->released = true;
                repl_sender_signal(s->sender, RS_RELEASE);
            }
            s->state = SND_ONLINE;
            s->ack_ms = rt_mono_ms();
            LOG_NOTICE("Synchronization with replica %s:%d succeeded", s->ip, s->port);
        }
        for (int i = 0; i < nchunks; i++) repl_chunk_unref(chunks[i]);
        if (!nchunks) LOG_WARNING("Full sync failed: out of memory while encoding the RDB");
    } else {   /* FLUSHALL and DEBUG SLEEP both answer +OK once every party is done */
        remote_cmd_t *rc = R.cut_flush_rc;
        R.cut_flush_rc = NULL;
        if (rc) {
            resp_add_simple(&rc->reply, "OK");
            worker_reply_async(rc);
        }
    }
    for (int i = 0; i < g_nworkers; i++) free(cut->parts[i].data);
    pthread_mutex_destroy(&cut->mu);
    pthread_cond_destroy(&cut->cv);
    free(cut);
    R.cut = NULL;
    publish();
    begin_next_cut();
}

static void begin_next_cut(void)
{
    if (R.cut) return;
    if (R.nflush_queue > 0) {
        remote_cmd_t *rc = R.flush_queue[0];
        R.cut_flush_rc = rc;
        memmove(R.flush_queue, R.flush_queue + 1, sizeof R.flush_queue[0] * (size_t)--R.nflush_queue);
        if (rc->hdr.type == RM_SLEEP) start_cut(CUT_SLEEP, rc->arg_us);
        else start_cut(CUT_FLUSH, 0);
        return;
    }
    if (R.sync_queued) {
        R.sync_queued = false;
        start_cut(CUT_SYNC, 0);
    }
}

/* ---------------- PSYNC ---------------- */

static served_t *find_served(repl_sender_t *snd)
{
    for (served_t *s = R.served; s; s = s->next)
        if (s->sender == snd) return s;
    return NULL;
}

static void handle_psync(repl_psync_msg_t *p)
{
    check_role();   /* a just-promoted master answers with its new replid */
    backlog_follow_config();
    served_t *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->sender = repl_sender_new(R.thread, p);
    snprintf(s->ip, sizeof s->ip, "%s", p->ip);
    s->port = p->port;
    s->capa = p->capa;
    s->client_id = p->client_id;
    s->ack_ms = rt_mono_ms();
    s->next = R.served;
    R.served = s;
    bool want = p->replid[0] && strcmp(p->replid, "?") != 0;
    bool id_ok = want && (!strcmp(p->replid, R.replid) ||
                          (!strcmp(p->replid, R.replid2) && p->offset <= R.second_offset));
    if (id_ok && R.backlog && p->offset >= first_byte_offset() && p->offset <= R.offset + 1) {
        char line[96];
        int n = (p->capa & REPL_CAPA_PSYNC2) ? snprintf(line, sizeof line, "+CONTINUE %s\r\n", R.replid)
                                             : snprintf(line, sizeof line, "+CONTINUE\r\n");
        size_t blen;
        uint8_t *bytes = backlog_copy_from(p->offset, &blen);
        repl_sender_send(s->sender, repl_chunk_copy(line, (size_t)n), false);
        repl_sender_send(s->sender, repl_chunk_new(bytes, blen), false);
        R.output_bytes += (long long)blen;
        s->state = SND_ONLINE;
        s->released = true;
        repl_sender_signal(s->sender, RS_RELEASE);
        s->ack_offset = p->offset - 1;
        R.sync_partial_ok++;
        LOG_NOTICE("Partial resynchronization request from %s:%d accepted. Sending %zu bytes of backlog starting "
                   "from offset %lld.", s->ip, s->port, blen, p->offset);
        free(p);
        publish();
        return;
    }
    if (want) {
        R.sync_partial_err++;
        LOG_NOTICE("Partial resynchronization not accepted: %s", id_ok ? "offset out of the backlog's range"
                                                                       : "Replication ID mismatch");
    }
    LOG_NOTICE("Starting BGSAVE for SYNC with target: replicas sockets");
    R.sync_full++;
    ensure_backlog();
    s->state = SND_WAIT_CUT;
    free(p);
    /* A sync queued behind a running SYNC cut waits for the next one. */
    R.sync_queued = true;
    begin_next_cut();
    publish();
}

static void drop_served(served_t *s, const char *why)
{
    for (served_t **pp = &R.served; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    if (why) LOG_NOTICE("Connection with replica %s:%d lost (%s).", s->ip, s->port, why);
    repl_sender_signal(s->sender, RS_FREE);
    free(s);
    publish();
}

/* ---------------- history changes from the replica link ---------------- */

static void drop_all_served(const char *why)
{
    while (R.served) {
        repl_sender_signal(R.served->sender, RS_CLOSE);
        drop_served(R.served, why);
    }
}

static void set_history(const repl_id_msg_t *m)
{
    drop_all_served("our replication history changed");
    memcpy(R.replid, m->id, sizeof R.replid);
    memcpy(R.replid2, zero_id, sizeof R.replid2);
    R.second_offset = -1;
    R.offset = m->offset;
    if (!R.backlog) backlog_create();
    atomic_store(&g_repl_propagate, 1);   /* replica-mode workers still do not propagate */
    R.histlen = 0;
    R.widx = 0;
    R.need_select = false;
    publish();
}

static void switch_id(const repl_id_msg_t *m)
{
    if (!strcmp(m->id, R.replid)) return;
    memcpy(R.replid2, R.replid, sizeof R.replid2);
    R.second_offset = R.offset + 1;
    memcpy(R.replid, m->id, sizeof R.replid);
    drop_all_served("the replication ID changed");
    publish();
}

static void feed_master(uint8_t *data, size_t len)
{
    if (!R.backlog) {
        backlog_create();
        atomic_store(&g_repl_propagate, 1);   /* replica-mode workers still do not propagate */
    }
    stream_append_chunk(repl_chunk_new(data, len));
}

/* The replica link runs on this actor's thread (repl_replica_start), and
 * calls these three directly rather than by message: the offset then moves
 * exactly when the commands go to the workers, which a cut on a replica
 * relies on (repl_cut_holds_stream). */
void repl_feed_from_master(uint8_t *data, size_t len) { feed_master(data, len); }


void repl_set_master_history(const char *replid, long long offset)
{
    repl_id_msg_t m = { .offset = offset };
    snprintf(m.id, sizeof m.id, "%s", replid);
    set_history(&m);
}

void repl_switch_replid(const char *newid)
{
    repl_id_msg_t m = { .offset = 0 };
    snprintf(m.id, sizeof m.id, "%s", newid);
    switch_id(&m);
}

bool repl_cut_holds_stream(void) { return R.cut && !R.cut->released; }

void repl_role_changed(void)
{
    rt_msg_t *m = calloc(1, sizeof *m);
    if (!m) abort();
    m->type = RM_ROLE_CHANGED;
    rt_send(&R.actor, m);
}

void repl_request_wait(remote_cmd_t *rc, int numreplicas, long long timeout_ms)
{
    (void)numreplicas;
    (void)timeout_ms;
    rc->hdr.type = RM_WAIT;
    rt_send(&R.actor, &rc->hdr);
}

/* ---------------- role changes ---------------- */

static void check_role(void)
{
    if (!R.snap_ok) return;
    const cluster_snapshot_t *s = rt_snap_read_begin(&R.snap);
    bool replica = (s->nodes[s->myself].flags & NODE_SLAVE) != 0;
    rt_snap_read_end(&R.snap);
    if (replica && !was_replica) {
        /* Becoming a replica: our workers stop propagating by themselves (their
         * keyspaces turn to replica mode); our replicas resync from the new history. */
        drop_all_served("we became a replica");
    } else if (!replica && was_replica && R.backlog) {
        /* Promoted: a new history that continues the old one. */
        memcpy(R.replid2, R.replid, sizeof R.replid2);
        R.second_offset = R.offset + 1;
        random_id(R.replid);
        R.need_select = true;
        LOG_NOTICE("Setting secondary replication ID to %s, valid up to offset: %lld. New replication ID is %s",
                   R.replid2, R.second_offset, R.replid);
        publish();
    }
    was_replica = replica;
}

/* ---------------- actor ---------------- */

static void cron(rt_timer_t *t, void *arg)
{
    (void)t;
    (void)arg;
    check_role();
    long long now = rt_mono_ms();
    long long period = config_get_num(CONFIG_REPL_PING_REPLICA_PERIOD) * 1000;
    if (R.served && !was_replica && now - R.last_ping_ms >= period) {
        R.last_ping_ms = now;
        static const char ping[] = "*1\r\n$4\r\nping\r\n";
        stream_append(ping, sizeof ping - 1);
    }
    char buf[32];
    R.max_lag = config_get_by_name("min-replicas-max-lag", buf, sizeof buf) >= 0 ? atoll(buf) : 10;
    int minrep = config_get_by_name("min-replicas-to-write", buf, sizeof buf) >= 0 ? atoi(buf) : 0;
    atomic_store_explicit(&g_repl_min_replicas, minrep, memory_order_relaxed);
    long long tmo = config_get_num(CONFIG_REPL_TIMEOUT) * 1000;
    for (served_t *s = R.served, *n; s; s = n) {
        n = s->next;
        if (s->state == SND_ONLINE && now - s->ack_ms > tmo) {
            repl_sender_signal(s->sender, RS_CLOSE);
            drop_served(s, "timeout");
        }
    }
    publish();
}

static void behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    (void)self;
    switch (msg->type) {
    case RM_FEED: {
        repl_feed_msg_t *m = (repl_feed_msg_t *)msg;
        /* A worker propagates as soon as its snapshot says we are a master: see
         * the promotion (new replid) before the first byte of it is filed. */
        if (was_replica) check_role();
        if (R.backlog && !was_replica) {
            maybe_select();
            stream_append_chunk(repl_chunk_new(m->data, m->len));
        } else {
            free(m->data);
        }
        free(m);
        break;
    }
    case RM_FEED_MASTER: {
        repl_feed_msg_t *m = (repl_feed_msg_t *)msg;
        feed_master(m->data, m->len);
        free(m);
        break;
    }
    case RM_ROLE_CHANGED:
        check_role();
        free(msg);
        break;
    case RM_SET_HISTORY:
        set_history((repl_id_msg_t *)msg);
        free(msg);
        break;
    case RM_SWITCH_ID:
        switch_id((repl_id_msg_t *)msg);
        free(msg);
        break;
    case RM_PSYNC:
        handle_psync((repl_psync_msg_t *)msg);
        break;
    case RM_WAIT:
        handle_wait((remote_cmd_t *)msg);
        break;
    case RM_FLUSH:
    case RM_SLEEP: {
        remote_cmd_t *rc = (remote_cmd_t *)msg;
        if (R.nflush_queue >= (int)(sizeof R.flush_queue / sizeof R.flush_queue[0])) {
            resp_add_error(&rc->reply, msg->type == RM_SLEEP ? "ERR too many DEBUG SLEEP calls in progress"
                                                             : "ERR too many FLUSHALL calls in progress");
            worker_reply_async(rc);
            break;
        }
        R.flush_queue[R.nflush_queue++] = rc;
        begin_next_cut();
        break;
    }
    case RM_CUT_ARRIVED:
        cut_arrived((repl_cut_msg_t *)msg);
        break;
    case RM_CUT_DONE:
        cut_done((repl_cut_msg_t *)msg);
        break;
    case RM_ACK: {
        repl_ack_msg_t *m = (repl_ack_msg_t *)msg;
        served_t *s = find_served(m->sender);
        if (s) {
            if (m->offset > s->ack_offset) s->ack_offset = m->offset;
            s->ack_ms = rt_mono_ms();
            if (!s->released && s->state == SND_ONLINE) {
                s->released = true;
                repl_sender_signal(s->sender, RS_RELEASE);
            }
            if (R.waiters) wait_check(false);
        }
        free(m);
        break;
    }
    case RM_SENDER_GONE: {
        repl_ack_msg_t *m = (repl_ack_msg_t *)msg;
        served_t *s = find_served(m->sender);
        if (s) drop_served(s, "connection closed");
        free(m);
        break;
    }
    case RM_KILL: {
        remote_cmd_t *rc = (remote_cmd_t *)msg;
        long long n = 0;
        while (R.served) {
            repl_sender_signal(R.served->sender, RS_CLOSE);
            drop_served(R.served, "killed by CLIENT KILL");
            n++;
        }
        resp_add_int(&rc->reply, n);
        worker_reply_async(rc);
        break;
    }
    default:
        LOG_WARNING("replication actor: unknown message type %u", msg->type);
        free(msg);
    }
}

/* Before the loop sleeps: one GETACK for all WAITs of this round. */
static void prepare(rt_thread_t *t, void *arg)
{
    (void)t;
    (void)arg;
    if (R.getack_pending) send_getack();
    repl_sender_reap();
    publish();   /* INFO and the bus header see this round's offsets */
}

int repl_start(const char *loaded_replid, long long loaded_offset)
{
    R.thread = rt_thread_create("repl");
    if (!R.thread) return -1;
    rt_actor_init(&R.actor, R.thread, "replication", behaviour, NULL);
    R.snap_ok = rt_snap_reader_register(&g_cluster_snapshot, &R.snap) == 0;
    if (loaded_replid && strlen(loaded_replid) == REPL_ID_LEN) {
        memcpy(R.replid, loaded_replid, REPL_ID_LEN + 1);
        R.offset = loaded_offset;
    } else {
        random_id(R.replid);
        R.offset = 0;
    }
    memcpy(R.replid2, zero_id, sizeof R.replid2);
    R.second_offset = -1;
    R.max_lag = 10;
    publish();
    rt_thread_add_prepare_hook(R.thread, prepare, NULL);
    /* Once a second is enough: role changes are also checked when a worker's
     * first write or a PSYNC arrives, and WAIT has a timer of its own. */
    rt_timer_start(&R.cron, R.thread, 1000, 1000, cron, NULL);
    return rt_thread_start(R.thread);
}

void repl_stop(void)
{
    if (!R.thread) return;
    rt_thread_stop(R.thread);
    rt_thread_join(R.thread);
}

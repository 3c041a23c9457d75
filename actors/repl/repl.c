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
 * Full sync: a stop-the-world cut (repl_cut.c). Every worker flushes its buffer, reports
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
#include "actors/repl/repl_actor_internal.h"
#include "runtime/random.h"
#include "runtime/xmalloc.h"

_Atomic int g_repl_propagate;
_Atomic int g_repl_backlog_on;
_Atomic long long g_repl_offset;
_Atomic int g_repl_good_replicas;
_Atomic int g_repl_min_replicas;

/* The actor's state (repl_actor_internal.h): the one instance. The actor's
 * own code reaches it through `self` and the `ra` it passes on; only the
 * entry points of repl.h, which have no self, name it here. */
static repl_actor_state_t repl_state = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void check_role(repl_actor_state_t *ra);

rt_actor_t *repl_actor(void) { return &repl_state.actor; }
rt_thread_t *repl_thread(void) { return repl_state.thread; }

/* ---------------- chunks ---------------- */

/* Bytes of the chunks alive: stream and sync bytes on their way to replicas,
 * the memory 7.0.15 shows as mem_clients_slaves (the backlog is a ring of
 * its own here). Relaxed: a figure; adds and subtracts pair up eventually. */
static _Atomic long long g_chunk_bytes;

long long repl_buffers_bytes(void) { return atomic_load_explicit(&g_chunk_bytes, memory_order_relaxed); }

repl_chunk_t *repl_chunk_new(uint8_t *data, size_t len)
{
    repl_chunk_t *c = xmalloc(sizeof *c);
    atomic_init(&c->refs, 1);
    c->data = data;
    c->len = len;
    atomic_fetch_add_explicit(&g_chunk_bytes, (long long)(len + sizeof *c), memory_order_relaxed);
    return c;
}

repl_chunk_t *repl_chunk_copy(const void *data, size_t len)
{
    uint8_t *d = xmalloc(len ? len : 1);
    memcpy(d, data, len);
    return repl_chunk_new(d, len);
}

void repl_chunk_unref(repl_chunk_t *c)
{
    if (!c) return;
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1) {
        atomic_fetch_sub_explicit(&g_chunk_bytes, (long long)(c->len + sizeof *c), memory_order_relaxed);
        free(c->data);
        free(c);
    }
}

/* ---------------- ids, status ---------------- */

static long long first_byte_offset(repl_actor_state_t *ra) { return ra->backlog ? ra->offset - ra->histlen + 1 : 0; }

void ra_publish(repl_actor_state_t *ra)
{
    long long now = rt_mono_ms();
    long long maxlag = ra->max_lag;
    int good = 0;
    pthread_mutex_lock(&ra->mu);
    repl_status_t *p = &ra->pub;
    memcpy(p->replid, ra->replid, sizeof p->replid);
    memcpy(p->replid2, ra->replid2, sizeof p->replid2);
    p->master_repl_offset = ra->offset;
    p->fed_taken = ra->fed_taken;
    p->second_repl_offset = ra->second_offset;
    p->backlog_active = ra->backlog != NULL;
    p->backlog_size = ra->backlog ? ra->backlog_size : config_get_num(CONFIG_REPL_BACKLOG_SIZE);
    p->backlog_first_byte_offset = first_byte_offset(ra);
    p->backlog_histlen = ra->histlen;
    p->nreplicas = 0;
    for (served_t *s = ra->served; s; s = s->next) {
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
        v->conn = s->conn;
        v->ack_ms = s->ack_ms;
    }
    p->sync_full = ra->sync_full;
    p->sync_partial_ok = ra->sync_partial_ok;
    p->sync_partial_err = ra->sync_partial_err;
    p->net_repl_output_bytes = ra->output_bytes;
    pthread_mutex_unlock(&ra->mu);
    atomic_store_explicit(&g_repl_offset, ra->offset, memory_order_relaxed);
    atomic_store_explicit(&g_repl_good_replicas, good, memory_order_relaxed);
}

void repl_status_get(repl_status_t *out)
{
    repl_actor_state_t *ra = &repl_state;
    pthread_mutex_lock(&ra->mu);
    *out = ra->pub;
    pthread_mutex_unlock(&ra->mu);
    /* Writes already answered whose bytes are still on their way to this
     * actor count in master_repl_offset, as they do at once in Redis: a
     * client that reads the offset after its reply finds its write in it.
     * acquire: pairs with the workers' release in repl_flush. */
    unsigned long long fed = atomic_load_explicit(&g_repl_fed, memory_order_acquire);
    if (out->backlog_active && fed > out->fed_taken) out->master_repl_offset += (long long)(fed - out->fed_taken);
}

long long repl_psync_args(char replid[REPL_ID_LEN + 1])
{
    repl_actor_state_t *ra = &repl_state;
    pthread_mutex_lock(&ra->mu);
    long long off = ra->pub.master_repl_offset;
    memcpy(replid, ra->pub.replid, REPL_ID_LEN + 1);
    bool have = ra->pub.backlog_active || off > 0;
    pthread_mutex_unlock(&ra->mu);
    if (!have) {
        snprintf(replid, REPL_ID_LEN + 1, "?");
        return -1;
    }
    return off + 1;
}

/* ---------------- the stream ---------------- */

void ra_backlog_create(repl_actor_state_t *ra)
{
    ra->backlog_size = config_get_num(CONFIG_REPL_BACKLOG_SIZE);
    if (ra->backlog_size < 16 * 1024) ra->backlog_size = 16 * 1024;
    ra->backlog = xmalloc((size_t)ra->backlog_size);
    ra->histlen = 0;
    ra->widx = 0;
    /* release: after the backlog exists (repl_flush) */
    atomic_store_explicit(&g_repl_backlog_on, 1, memory_order_release);
}

/* CONFIG SET repl-backlog-size takes effect at once, as 7.0.15's
 * resizeReplicationBacklog does (at least 16 KB): the newest bytes that fit
 * stay, so a smaller backlog makes an older PSYNC offset fall out of it. */
static void backlog_follow_config(repl_actor_state_t *ra)
{
    long long want = config_get_num(CONFIG_REPL_BACKLOG_SIZE);
    if (want < 16 * 1024) want = 16 * 1024;
    if (!ra->backlog || want == ra->backlog_size) return;
    uint8_t *nb = malloc((size_t)want);
    if (!nb) return;                       /* keep the old one; try again on the next append */
    size_t size = (size_t)ra->backlog_size;
    size_t keep = (size_t)(ra->histlen < want ? ra->histlen : want);
    size_t start = (ra->widx + size - keep % size) % size;   /* the oldest byte kept */
    for (size_t done = 0; done < keep;) {
        size_t k = size - start < keep - done ? size - start : keep - done;
        memcpy(nb + done, ra->backlog + start, k);
        done += k;
        start = (start + k) % size;
    }
    free(ra->backlog);
    ra->backlog = nb;
    ra->backlog_size = want;
    ra->histlen = (long long)keep;
    ra->widx = keep % (size_t)want;
}

static void backlog_put(repl_actor_state_t *ra, const uint8_t *p, size_t n)
{
    backlog_follow_config(ra);
    size_t size = (size_t)ra->backlog_size;
    if (n > size) {               /* only the tail can be kept */
        p += n - size;
        n = size;
    }
    while (n > 0) {
        size_t room = size - ra->widx, k = n < room ? n : room;
        memcpy(ra->backlog + ra->widx, p, k);
        ra->widx = (ra->widx + k) % size;
        p += k;
        n -= k;
        ra->histlen += (long long)k;
    }
    if (ra->histlen > ra->backlog_size) ra->histlen = ra->backlog_size;
}

/* Appends bytes to the stream: offset, backlog, every attached replica. */
static void stream_append_chunk(repl_actor_state_t *ra, repl_chunk_t *c)
{
    if (!ra->backlog) {
        repl_chunk_unref(c);
        return;
    }
    backlog_put(ra, c->data, c->len);
    ra->offset += (long long)c->len;
    for (served_t *s = ra->served; s; s = s->next) {
        if (s->state == SND_WAIT_CUT) continue;          /* its sync point is not fixed yet */
        repl_sender_send(s->sender, repl_chunk_ref(c), !s->released);
        ra->output_bytes += (long long)c->len;
    }
    repl_chunk_unref(c);
}

void ra_stream_append(repl_actor_state_t *ra, const void *p, size_t n)
{
    stream_append_chunk(ra, repl_chunk_copy(p, n));
}

void ra_maybe_select(repl_actor_state_t *ra, int db)
{
    if (!ra->need_select && ra->stream_db == db) return;
    ra->need_select = false;
    ra->stream_db = db;
    resp_buf_t sel;
    resp_buf_init(&sel, 2);
    repl_select_bytes(&sel, db);
    ra_stream_append(ra, sel.data, sel.len);
    resp_buf_free(&sel);
}

/* Copies backlog bytes from stream offset `from` to the end. */
static uint8_t *backlog_copy_from(repl_actor_state_t *ra, long long from, size_t *len)
{
    long long n = ra->offset + 1 - from;
    *len = (size_t)n;
    uint8_t *out = xmalloc(n > 0 ? (size_t)n : 1);
    size_t size = (size_t)ra->backlog_size;
    size_t start = (ra->widx + size - (size_t)n % size) % size;
    if (n == ra->backlog_size) start = ra->widx;
    for (long long i = 0; i < n; i++) out[i] = ra->backlog[(start + (size_t)i) % size];
    return out;
}

/* ---------------- WAIT ---------------- */

/* WAITs parked on ra->waiters; relaxed: an INFO figure (blocked_clients,
 * as 7.0.15 counts its clients blocked in WAIT). */
static _Atomic long long g_wait_parked, g_wait_parked_timeout;

long long repl_wait_parked(void) { return atomic_load_explicit(&g_wait_parked, memory_order_relaxed); }
long long repl_wait_parked_with_timeout(void)
{
    return atomic_load_explicit(&g_wait_parked_timeout, memory_order_relaxed);
}

static int acked_count(repl_actor_state_t *ra, long long target)
{
    int n = 0;
    for (served_t *s = ra->served; s; s = s->next)
        if (s->state == SND_ONLINE && s->ack_offset >= target) n++;
    return n;
}

/* Marks rc answered unless its worker ended it first; returns how it ends
 * (REPL_WAIT_ANSWERED, or what the worker asked for). */
static int wait_claim(remote_cmd_t *rc)
{
    /* relaxed: see repl_wait_end; one of the two exchanges wins */
    int how = REPL_WAIT_GO_ON;
    if (atomic_compare_exchange_strong_explicit(&rc->wait_end, &how, REPL_WAIT_ANSWERED, memory_order_relaxed,
                                                memory_order_relaxed))
        return REPL_WAIT_ANSWERED;
    return how;
}

static void wait_reply(repl_actor_state_t *ra, waiter_t *w)
{
    remote_cmd_t *rc = w->rc;
    if (wait_claim(rc) == REPL_WAIT_UNBLOCKED)
        resp_add_error(&rc->reply, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
    else
        resp_add_int(&rc->reply, acked_count(ra, w->target));
    worker_reply_run(rc);         /* to cmd_wait's completion (repl.h) */
    free(w);
}

bool repl_wait_end(remote_cmd_t *rc, int how)
{
    /* relaxed: the client's worker and the actor each move it away from
     * GO_ON once, by exchange, so exactly one of them decides the answer;
     * nothing else is published with it. The actor reads the worker's
     * choice when rc arrives or is kicked below. rc stays alive until its
     * answer is back on the client's worker. */
    int expected = REPL_WAIT_GO_ON;
    if (!atomic_compare_exchange_strong_explicit(&rc->wait_end, &expected, how, memory_order_relaxed,
                                                 memory_order_relaxed))
        return false;
    rt_msg_t *m = xcalloc(1, sizeof *m);
    m->type = RM_WAIT_END;
    rt_send(repl_actor(), m);
    return true;
}

static bool wait_ended(const waiter_t *w)
{
    return atomic_load_explicit(&w->rc->wait_end, memory_order_relaxed) != REPL_WAIT_GO_ON;
}

static void wait_check(repl_actor_state_t *ra, bool timeout_pass)
{
    long long now = rt_mono_ms();
    waiter_t **pp = &ra->waiters;
    while (*pp) {
        waiter_t *w = *pp;
        if (acked_count(ra, w->target) >= w->numreplicas || (timeout_pass && w->deadline_ms && now >= w->deadline_ms) ||
            wait_ended(w)) {
            *pp = w->next;
            atomic_fetch_sub_explicit(&g_wait_parked, 1, memory_order_relaxed);
            if (w->deadline_ms) atomic_fetch_sub_explicit(&g_wait_parked_timeout, 1, memory_order_relaxed);
            wait_reply(ra, w);
        } else {
            pp = &w->next;
        }
    }
    if (!ra->waiters && ra->wait_timer_on) {
        rt_timer_stop(&ra->wait_timer);
        ra->wait_timer_on = false;
    }
}

/* Becoming a replica: 7.0.15 ends every blocked client, WAIT included, with
 * -UNBLOCKED and closes its connection after that reply. */
static void wait_unblock_all(repl_actor_state_t *ra)
{
    while (ra->waiters) {
        waiter_t *w = ra->waiters;
        ra->waiters = w->next;
        atomic_fetch_sub_explicit(&g_wait_parked, 1, memory_order_relaxed);
        if (w->deadline_ms) atomic_fetch_sub_explicit(&g_wait_parked_timeout, 1, memory_order_relaxed);
        wait_claim(w->rc);   /* the role change ends it, whatever CLIENT UNBLOCK asked */
        resp_add_error(&w->rc->reply,
                       "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)");
        w->rc->close_after_reply = true;
        worker_reply_run(w->rc);
        free(w);
    }
}

static void wait_timer_cb(rt_timer_t *t, void *arg)
{
    repl_actor_state_t *ra = arg;
    (void)t;
    wait_check(ra, true);
}

static void send_getack(repl_actor_state_t *ra)
{
    if (!ra->getack_pending) return;
    ra->getack_pending = false;
    static const char getack[] = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";
    ra_stream_append(ra, getack, sizeof getack - 1);
}

static void handle_wait(repl_actor_state_t *ra, remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    waiter_t *w = xcalloc(1, sizeof *w);
    w->rc = rc;
    /* Both were checked by cmd_wait with the same parser. 7.0.15 keeps the
     * count in an int of its blocking state, so 4294967296 waits for no
     * replica at all there; the same truncation keeps WAIT's answers equal. */
    long long n = 0, timeout = 0;
    str_to_ll(q->argv[1], q->argvlen[1], &n);
    str_to_ll(q->argv[2], q->argvlen[2], &timeout);
    w->numreplicas = (int)(uint32_t)(unsigned long long)n;
    /* 7.0.15's target is the client's woff: the stream offset after its
     * last called command, 0 before any. Every worker handed its buffer over
     * before this request came (cmd_wait), so each handover the client's
     * marks name is filed (repl_woff.c). */
    w->target = ra_wait_target(ra, rc->wait_marks);
    free(rc->wait_marks);
    rc->wait_marks = NULL;
    /* cmd_wait bounded now_ms + timeout on the wall clock; the monotonic
     * clock is not larger, but saturate anyway rather than trust that. */
    long long now = rt_mono_ms();
    w->deadline_ms = timeout <= 0 ? 0 : (timeout > LLONG_MAX - now ? LLONG_MAX : now + timeout);
    if (acked_count(ra, w->target) >= w->numreplicas || wait_ended(w)) {
        wait_reply(ra, w);
        return;
    }
    w->next = ra->waiters;
    ra->waiters = w;
    atomic_fetch_add_explicit(&g_wait_parked, 1, memory_order_relaxed);
    if (w->deadline_ms) atomic_fetch_add_explicit(&g_wait_parked_timeout, 1, memory_order_relaxed);
    ra->getack_pending = true;
    if (!ra->wait_timer_on) {
        rt_timer_start(&ra->wait_timer, ra->thread, 10, 10, wait_timer_cb, ra);
        ra->wait_timer_on = true;
    }
    /* cmd_wait saw a master, but the node may have turned replica since. In
     * cluster mode only this actor's cron, a PSYNC or a feed runs check_role,
     * so a WAIT whose marks a busy worker held back can arrive after it ended
     * the others: parked now it would wait for ever, counted in
     * blocked_clients. Look now; a replica ends it as check_role does. */
    check_role(ra);
    if (ra->was_replica) wait_unblock_all(ra);
}

/* ---------------- PSYNC ---------------- */

static served_t *find_served(repl_actor_state_t *ra, repl_sender_t *snd)
{
    for (served_t *s = ra->served; s; s = s->next)
        if (s->sender == snd) return s;
    return NULL;
}

static void handle_psync(repl_actor_state_t *ra, repl_psync_msg_t *p)
{
    check_role(ra);   /* a just-promoted master answers with its new replid */
    backlog_follow_config(ra);
    served_t *s = xcalloc(1, sizeof *s);
    s->sender = repl_sender_new(ra->thread, p);
    snprintf(s->ip, sizeof s->ip, "%s", p->ip);
    s->port = p->port;
    s->capa = p->capa;
    s->client_id = p->client_id;
    s->conn = p->conn;
    s->ack_ms = rt_mono_ms();
    s->next = ra->served;
    ra->served = s;
    bool want = p->replid[0] && strcmp(p->replid, "?") != 0;
    bool id_ok = want && (!strcmp(p->replid, ra->replid) ||
                          (!strcmp(p->replid, ra->replid2) && p->offset <= ra->second_offset));
    if (id_ok && ra->backlog && p->offset >= first_byte_offset(ra) && p->offset <= ra->offset + 1) {
        char line[96];
        int n = (p->capa & REPL_CAPA_PSYNC2) ? snprintf(line, sizeof line, "+CONTINUE %s\r\n", ra->replid)
                                             : snprintf(line, sizeof line, "+CONTINUE\r\n");
        size_t blen;
        uint8_t *bytes = backlog_copy_from(ra, p->offset, &blen);
        repl_sender_send(s->sender, repl_chunk_copy(line, (size_t)n), false);
        repl_sender_send(s->sender, repl_chunk_new(bytes, blen), false);
        ra->output_bytes += (long long)blen;
        s->state = SND_ONLINE;
        s->released = true;
        repl_sender_signal(s->sender, RS_RELEASE);
        s->ack_offset = p->offset - 1;
        ra->sync_partial_ok++;
        LOG_NOTICE("Partial resynchronization request from %s:%d accepted. Sending %zu bytes of backlog starting "
                   "from offset %lld.", s->ip, s->port, blen, p->offset);
        free(p);
        ra_publish(ra);
        return;
    }
    if (want) {
        ra->sync_partial_err++;
        LOG_NOTICE("Partial resynchronization not accepted: %s", id_ok ? "offset out of the backlog's range"
                                                                       : "Replication ID mismatch");
    }
    LOG_NOTICE("Starting BGSAVE for SYNC with target: replicas sockets");
    ra->sync_full++;
    ra_ensure_backlog(ra);
    s->state = SND_WAIT_CUT;
    s->sync_asked_ms = rt_mono_ms();
    free(p);
    /* A sync queued behind a running SYNC cut waits for the next one. */
    ra->sync_queued = true;
    ra_begin_next_cut(ra);
    ra_publish(ra);
}

static void drop_served(repl_actor_state_t *ra, served_t *s, const char *why)
{
    for (served_t **pp = &ra->served; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    if (why) LOG_NOTICE("Connection with replica %s:%d lost (%s).", s->ip, s->port, why);
    repl_sender_signal(s->sender, RS_FREE);
    free(s);
    ra_publish(ra);
}

/* ---------------- history changes from the replica link ---------------- */

static void drop_all_served(repl_actor_state_t *ra, const char *why)
{
    while (ra->served) {
        repl_sender_signal(ra->served->sender, RS_CLOSE);
        drop_served(ra, ra->served, why);
    }
}

static void set_history(repl_actor_state_t *ra, const repl_id_msg_t *m)
{
    drop_all_served(ra, "our replication history changed");
    memcpy(ra->replid, m->id, sizeof ra->replid);
    memcpy(ra->replid2, zero_id, sizeof ra->replid2);
    ra->second_offset = -1;
    ra->offset = m->offset;
    ra_fed_reset(ra);   /* ends of the old history mean nothing in this one */
    if (!ra->backlog) ra_backlog_create(ra);
    atomic_store(&g_repl_propagate, 1);   /* replica-mode workers still do not propagate */
    ra->histlen = 0;
    ra->widx = 0;
    ra->need_select = false;
    ra_publish(ra);
}

static void switch_id(repl_actor_state_t *ra, const repl_id_msg_t *m)
{
    if (!strcmp(m->id, ra->replid)) return;
    memcpy(ra->replid2, ra->replid, sizeof ra->replid2);
    ra->second_offset = ra->offset + 1;
    memcpy(ra->replid, m->id, sizeof ra->replid);
    drop_all_served(ra, "the replication ID changed");
    ra_publish(ra);
}

static void feed_master(repl_actor_state_t *ra, uint8_t *data, size_t len)
{
    if (!ra->backlog) {
        ra_backlog_create(ra);
        atomic_store(&g_repl_propagate, 1);   /* replica-mode workers still do not propagate */
    }
    stream_append_chunk(ra, repl_chunk_new(data, len));
}

/* The replica link runs on this actor's thread (repl_replica_start), and
 * calls these three directly rather than by message: the offset then moves
 * exactly when the commands go to the workers, which a cut on a replica
 * relies on (repl_cut_holds_stream). */
void repl_feed_from_master(uint8_t *data, size_t len)
{
    repl_actor_state_t *ra = &repl_state;
    feed_master(ra, data, len);
}


void repl_set_master_history(const char *replid, long long offset)
{
    repl_actor_state_t *ra = &repl_state;
    repl_id_msg_t m = { .offset = offset };
    snprintf(m.id, sizeof m.id, "%s", replid);
    set_history(ra, &m);
}

void repl_switch_replid(const char *newid)
{
    repl_actor_state_t *ra = &repl_state;
    repl_id_msg_t m = { .offset = 0 };
    snprintf(m.id, sizeof m.id, "%s", newid);
    switch_id(ra, &m);
}

bool repl_cut_holds_stream(void)
{
    repl_actor_state_t *ra = &repl_state;
    return (ra->cut && !ra->cut->released) || ra->sleep_holds > 0;
}

void repl_sleep_release(void)
{
    repl_actor_state_t *ra = &repl_state;
    if (ra->sleep_holds > 0) ra->sleep_holds--;
}

void repl_sleep_release_async(void)
{
    rt_msg_t *m = xcalloc(1, sizeof *m);
    m->type = RM_SLEEP_RELEASE;
    rt_send(repl_actor(), m);
}

void repl_role_changed(void)
{
    rt_msg_t *m = xcalloc(1, sizeof *m);
    m->type = RM_ROLE_CHANGED;
    rt_send(repl_actor(), m);
}

void repl_request_wait(remote_cmd_t *rc, int numreplicas, long long timeout_ms)
{
    (void)numreplicas;
    (void)timeout_ms;
    rc->hdr.type = RM_WAIT;
    rt_send(repl_actor(), &rc->hdr);
}

void repl_hand_over_replica(repl_psync_msg_t *m)
{
    m->hdr.type = RM_PSYNC;
    rt_send(repl_actor(), &m->hdr);
}

void repl_request_aof_rewrite(void)
{
    rt_msg_t *m = xcalloc(1, sizeof *m);
    m->type = RM_AOF_REWRITE;
    rt_send(repl_actor(), m);
}

void repl_request_flush(remote_cmd_t *rc)
{
    rc->hdr.type = RM_FLUSH;
    rt_send(repl_actor(), &rc->hdr);
}

void repl_request_kill_replicas(remote_cmd_t *rc)
{
    rc->hdr.type = RM_KILL;
    rt_send(repl_actor(), &rc->hdr);
}

void repl_request_kill_replicas_part(remote_cmd_t *rc)
{
    rc->hdr.type = RM_KILL_PART;
    rt_send(repl_actor(), &rc->hdr);
}

void repl_request_change_id(remote_cmd_t *rc)
{
    rc->hdr.type = RM_CHANGE_ID;
    rt_send(repl_actor(), &rc->hdr);
}

/* RM_CHANGE_ID: the replicas we serve keep their links; their next PSYNC
 * with the old id will need a full sync, which is what tests use it for. */
static void on_change_id(repl_actor_state_t *ra, remote_cmd_t *rc)
{
    LOG_WARNING("Changing replication IDs after receiving DEBUG change-repl-id");
    rt_random_hex(ra->replid, REPL_ID_LEN);
    memcpy(ra->replid2, zero_id, sizeof ra->replid2);
    ra->second_offset = -1;
    ra_publish(ra);
    resp_add_simple(&rc->reply, "OK");
    worker_reply_async(rc);
}

/* ---------------- role changes ---------------- */

static void check_role(repl_actor_state_t *ra)
{
    if (!ra->snap_ok) return;
    const cluster_snapshot_t *s = rt_snap_read_begin(&ra->snap);
    bool replica = (s->nodes[s->myself].flags & NODE_SLAVE) != 0;
    rt_snap_read_end(&ra->snap);
    if (replica && !ra->was_replica) {
        /* Becoming a replica: our workers stop propagating by themselves (their
         * keyspaces turn to replica mode); our replicas resync from the new history. */
        drop_all_served(ra, "we became a replica");
        wait_unblock_all(ra);
    } else if (!replica && ra->was_replica && ra->backlog) {
        /* Promoted: a new history that continues the old one. */
        memcpy(ra->replid2, ra->replid, sizeof ra->replid2);
        ra->second_offset = ra->offset + 1;
        rt_random_hex(ra->replid, REPL_ID_LEN);
        ra->need_select = true;
        LOG_NOTICE("Setting secondary replication ID to %s, valid up to offset: %lld. New replication ID is %s",
                   ra->replid2, ra->second_offset, ra->replid);
        ra_publish(ra);
    }
    ra->was_replica = replica;
}

/* ---------------- actor ---------------- */

static void read_min_replicas(void)
{
    char buf[32];
    int minrep = config_get_by_name("min-replicas-to-write", buf, sizeof buf) >= 0 ? atoi(buf) : 0;
    /* min-replicas-max-lag 0 turns the check off too, as in 7.0.15's
     * checkGoodReplicasStatus */
    if (config_get_by_name("min-replicas-max-lag", buf, sizeof buf) >= 0 && atoll(buf) == 0) minrep = 0;
    /* relaxed: a setting every worker reads on its own (repl_enough_good_replicas) */
    atomic_store_explicit(&g_repl_min_replicas, minrep, memory_order_relaxed);
}

/* A CONFIG SET of min-replicas-to-write counts from its reply on, as in
 * 7.0.15, which reads the setting at each write: not from our next cron. */
static void on_config_change(const char *name, void *arg)
{
    (void)arg;
    if (strcmp(name, "min-replicas-to-write") == 0 || strcmp(name, "min-replicas-max-lag") == 0) read_min_replicas();
}

static void cron(rt_timer_t *t, void *arg)
{
    repl_actor_state_t *ra = arg;
    (void)t;
    check_role(ra);
    long long now = rt_mono_ms();
    /* The replicas are pinged on the count of seconds since start, every
     * repl-ping-replica-period of them, as 7.0.15's replicationCron (whose
     * loop 0 runs at start, before any replica; ours first runs a second
     * later, its loop 1): not when one attaches (Redis's tests read a
     * stream after raising the period and expect no PING in it). */
    long long period = config_get_num(CONFIG_REPL_PING_REPLICA_PERIOD);
    if (period < 1) period = 1;
    ra->cron_loops++;
    if (ra->served && !ra->was_replica && ra->cron_loops % period == 0) {
        static const char ping[] = "*1\r\n$4\r\nping\r\n";
        ra_stream_append(ra, ping, sizeof ping - 1);
    }
    char buf[32];
    ra->max_lag = config_get_by_name("min-replicas-max-lag", buf, sizeof buf) >= 0 ? atoll(buf) : 10;
    read_min_replicas();
    long long tmo = config_get_num(CONFIG_REPL_TIMEOUT) * 1000;
    for (served_t *s = ra->served, *n; s; s = n) {
        n = s->next;
        /* a SYNC replica (pre-PSYNC) never ACKs: 7.0.15 never times it out
         * (redis-cli --replica, Redis's test suite attach to a stream so) */
        if (s->state == SND_ONLINE && !(s->capa & REPL_CAPA_PRE_PSYNC) && now - s->ack_ms > tmo) {
            repl_sender_signal(s->sender, RS_CLOSE);
            drop_served(ra, s, "timeout");
        }
    }
    ra_publish(ra);
}

/* ---------------- the actor ---------------- */

/* RM_FEED: a worker's propagated writes join the stream. */
static void on_feed(repl_actor_state_t *ra, repl_feed_msg_t *m)
{
    /* A worker propagates as soon as its snapshot says we are a master: see
     * the promotion (new replid) before the first byte of it is filed. */
    if (ra->was_replica) check_role(ra);
    ra->fed_taken += m->len;
    if (ra->backlog && !ra->was_replica) {
        ra_maybe_select(ra, m->start_db);
        stream_append_chunk(ra, repl_chunk_new(m->data, m->len));
        ra->stream_db = m->end_db;
    } else {
        free(m->data);
    }
    ra_fed(ra, m->worker, m->seq);
    free(m);
}

/* The handovers repl_feedq.c queued (the AOF path), in order. Before every
 * message, so that whatever was sent after a handover finds it filed; and
 * before the loop sleeps. While we serve replicas the queue wakes us. */
static void take_feeds(repl_actor_state_t *ra, bool kick_handled)
{
    rt_msg_t *m = ra_feeds_take(ra->served != NULL, kick_handled);
    while (m) {
        rt_msg_t *next = m->next;   /* on_feed frees m */
        on_feed(ra, (repl_feed_msg_t *)m);
        m = next;
    }
}

/* RM_FLUSH, RM_SLEEP: queued for a cut of their own, in arrival order. */
static void on_cut_request(repl_actor_state_t *ra, remote_cmd_t *rc)
{
    if (ra->nflush_queue >= (int)(sizeof ra->flush_queue / sizeof ra->flush_queue[0])) {
        resp_add_error(&rc->reply, rc->hdr.type == RM_SLEEP ? "ERR too many DEBUG SLEEP calls in progress"
                                                            : "ERR too many FLUSHALL calls in progress");
        worker_reply_async(rc);
        return;
    }
    ra->flush_queue[ra->nflush_queue++] = rc;
    ra_begin_next_cut(ra);
}

/* RM_ACK: a replica's REPLCONF ACK; the first one releases its stream. */
static void on_ack(repl_actor_state_t *ra, repl_ack_msg_t *m)
{
    served_t *s = find_served(ra, m->sender);
    if (s) {
        if (m->offset > s->ack_offset) s->ack_offset = m->offset;
        s->ack_ms = rt_mono_ms();
        if (!s->released && s->state == SND_ONLINE) {
            s->released = true;
            repl_sender_signal(s->sender, RS_RELEASE);
        }
        if (ra->waiters) wait_check(ra, false);
    }
    free(m);
}

static bool kill_arg_is(const queued_cmd_t *q, int i, const char *word)
{
    return q->argvlen[i] == strlen(word) && !strncasecmp((const char *)q->argv[i], word, q->argvlen[i]);
}

/* Whether replica s matches CLIENT KILL's filters (cmd_client_kill checked
 * them: the old form's address, or ID, ADDR, LADDR, USER and a TYPE that is
 * replica or absent, matched against its connection as CLIENT LIST shows it). */
static bool kill_matches(const queued_cmd_t *q, const served_t *s)
{
    if (q->argc == 3)
        return strlen(s->conn.addr) == q->argvlen[2] && !memcmp(s->conn.addr, q->argv[2], q->argvlen[2]);
    for (int i = 2; i + 1 < q->argc; i += 2) {
        const char *have = kill_arg_is(q, i, "addr") ? s->conn.addr : kill_arg_is(q, i, "laddr") ? s->conn.laddr
                         : kill_arg_is(q, i, "user") ? s->conn.user : NULL;
        long long id;
        if (have && !(strlen(have) == q->argvlen[i + 1] && !memcmp(have, q->argv[i + 1], q->argvlen[i + 1])))
            return false;
        if (kill_arg_is(q, i, "id") && !(str_to_ll(q->argv[i + 1], q->argvlen[i + 1], &id) && (uint64_t)id == s->conn.id))
            return false;
    }
    return true;
}

/* RM_KILL: CLIENT KILL of replica connections: those its filters match.
 * RM_KILL_PART (part): the count goes back as a fan-out part's. */
static void on_kill(repl_actor_state_t *ra, remote_cmd_t *rc, bool part)
{
    const queued_cmd_t *q = &rc->cmds[0];
    long long n = 0;
    for (served_t *s = ra->served, *next; s; s = next) {
        next = s->next;
        if (!kill_matches(q, s)) continue;
        repl_sender_signal(s->sender, RS_CLOSE);
        drop_served(ra, s, "killed by CLIENT KILL");
        n++;
    }
    if (part) {
        rc->keys_delta = n;
        fanout_part_return(rc);
        return;
    }
    if (q->argc != 3) resp_add_int(&rc->reply, n);
    else if (n) resp_add_simple(&rc->reply, "OK");
    else resp_add_error(&rc->reply, "ERR No such client");
    worker_reply_async(rc);
}

static void behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    repl_actor_state_t *ra = self->state;
    take_feeds(ra, msg->type == RM_FEED_KICK);
    switch (msg->type) {
    case RM_FEED_KICK:   /* taken above */
        free(msg);
        break;
    case RM_FEED:
        on_feed(ra, (repl_feed_msg_t *)msg);
        break;
    case RM_FEED_MASTER: {
        repl_feed_msg_t *m = (repl_feed_msg_t *)msg;
        feed_master(ra, m->data, m->len);
        free(m);
        break;
    }
    case RM_ROLE_CHANGED:
        check_role(ra);
        free(msg);
        break;
    case RM_AOF_REWRITE:
        free(msg);
        ra->rewrite_queued = true;
        ra_begin_next_cut(ra);
        break;
    case RM_SET_HISTORY:
        set_history(ra, (repl_id_msg_t *)msg);
        free(msg);
        break;
    case RM_SWITCH_ID:
        switch_id(ra, (repl_id_msg_t *)msg);
        free(msg);
        break;
    case RM_PSYNC:
        handle_psync(ra, (repl_psync_msg_t *)msg);
        break;
    case RM_WAIT:
        handle_wait(ra, (remote_cmd_t *)msg);
        break;
    case RM_WAIT_END:        /* repl_wait_end: a WAIT's client closed or was unblocked */
        if (ra->waiters) wait_check(ra, false);
        free(msg);
        break;
    case RM_FLUSH:
    case RM_SLEEP:
        on_cut_request(ra, (remote_cmd_t *)msg);
        break;
    case RM_SLEEP_RELEASE:   /* no replica link actor yet: nothing can be held */
        repl_sleep_release();
        free(msg);
        break;
    case RM_CUT_ARRIVED:
        ra_cut_arrived(ra, (repl_cut_msg_t *)msg);
        break;
    case RM_CUT_DONE:
        ra_cut_done(ra, (repl_cut_msg_t *)msg);
        break;
    case RM_ACK:
        on_ack(ra, (repl_ack_msg_t *)msg);
        break;
    case RM_SENDER_GONE: {
        repl_ack_msg_t *m = (repl_ack_msg_t *)msg;
        served_t *s = find_served(ra, m->sender);
        if (s) drop_served(ra, s, "connection closed");
        free(m);
        break;
    }
    case RM_KILL:
    case RM_KILL_PART:
        on_kill(ra, (remote_cmd_t *)msg, msg->type == RM_KILL_PART);
        break;
    case RM_CHANGE_ID:
        on_change_id(ra, (remote_cmd_t *)msg);
        break;
    case RM_SAVE:
        ra_save_request(ra, (repl_save_cut_t *)msg);
        break;
    case RM_FENCE:
        ra_fence_reported(ra, msg);
        break;
    case RM_GETACK:
        if (ra->served) ra->getack_pending = true;   /* sent before the loop sleeps */
        free(msg);
        break;
    default:
        LOG_WARNING("replication actor: unknown message type %u", msg->type);
        free(msg);
    }
}

/* Before the loop sleeps: one GETACK for all WAITs of this round. */
static void prepare(rt_thread_t *t, void *arg)
{
    repl_actor_state_t *ra = arg;
    (void)t;
    take_feeds(ra, false);
    if (ra->getack_pending) send_getack(ra);
    repl_sender_reap();
    ra_publish(ra);   /* INFO and the bus header see this round's offsets */
}

void repl_request_getack(void)
{
    rt_msg_t *m = xcalloc(1, sizeof *m);
    m->type = RM_GETACK;
    rt_send(repl_actor(), m);
}

int repl_start(const char *loaded_replid, long long loaded_offset)
{
    repl_actor_state_t *ra = &repl_state;
    ra->thread = rt_thread_create("repl");
    if (!ra->thread) return -1;
    rt_actor_init(&ra->actor, ra->thread, "replication", behaviour, ra);
    ra->snap_ok = rt_snap_reader_register(&g_cluster_snapshot, &ra->snap) == 0;
    bool replica = false;
    if (ra->snap_ok) {
        const cluster_snapshot_t *snap = rt_snap_read_begin(&ra->snap);
        replica = (snap->nodes[snap->myself].flags & NODE_SLAVE) != 0;
        rt_snap_read_end(&ra->snap);
    }
    memcpy(ra->replid2, zero_id, sizeof ra->replid2);
    ra->second_offset = -1;
    rt_random_hex(ra->replid, REPL_ID_LEN);
    ra->offset = 0;
    if (loaded_replid && strlen(loaded_replid) == REPL_ID_LEN && replica) {
        /* Our master's history as the file recorded it: the next PSYNC asks
         * to continue from there. */
        memcpy(ra->replid, loaded_replid, REPL_ID_LEN + 1);
        ra->offset = loaded_offset;
        ra->was_replica = true;
    } else if (loaded_replid && strlen(loaded_replid) == REPL_ID_LEN) {
        /* A master: a new id continuing the loaded one, with an empty
         * backlog at its offset, so replicas that followed it continue. */
        memcpy(ra->replid2, loaded_replid, REPL_ID_LEN + 1);
        ra->second_offset = loaded_offset + 1;
        ra->offset = loaded_offset;
        ra_backlog_create(ra);
        ra->need_select = true;
        /* seq_cst: before any worker runs a command (the workers start later) */
        atomic_store(&g_repl_propagate, 1);
    }
    ra->max_lag = 10;
    read_min_replicas();
    config_subscribe(on_config_change, NULL);
    ra_publish(ra);
    rt_thread_add_prepare_hook(ra->thread, prepare, ra);
    /* Once a second is enough: role changes are also checked when a worker's
     * first write or a PSYNC arrives, and WAIT has a timer of its own. */
    rt_timer_start(&ra->cron, ra->thread, 1000, 1000, cron, ra);
    return rt_thread_start(ra->thread);
}

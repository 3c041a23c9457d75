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
_Atomic long long g_repl_offset;
_Atomic int g_repl_good_replicas;
_Atomic int g_repl_min_replicas;

/* The actor's state (repl_actor_internal.h). */
repl_actor_state_t R = { .mu = PTHREAD_MUTEX_INITIALIZER };

static bool was_replica;
static void check_role(void);

rt_actor_t *repl_actor(void) { return &R.actor; }
rt_thread_t *repl_thread(void) { return R.thread; }

/* ---------------- chunks ---------------- */

repl_chunk_t *repl_chunk_new(uint8_t *data, size_t len)
{
    repl_chunk_t *c = xmalloc(sizeof *c);
    atomic_init(&c->refs, 1);
    c->data = data;
    c->len = len;
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
        free(c->data);
        free(c);
    }
}

/* ---------------- ids, status ---------------- */

static long long first_byte_offset(void) { return R.backlog ? R.offset - R.histlen + 1 : 0; }

void ra_publish(void)
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

void ra_backlog_create(void)
{
    R.backlog_size = config_get_num(CONFIG_REPL_BACKLOG_SIZE);
    if (R.backlog_size < 16 * 1024) R.backlog_size = 16 * 1024;
    R.backlog = xmalloc((size_t)R.backlog_size);
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

void ra_stream_append(const void *p, size_t n)
{
    stream_append_chunk(repl_chunk_copy(p, n));
}

void ra_maybe_select(void)
{
    if (!R.need_select) return;
    R.need_select = false;
    static const char sel[] = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n";
    ra_stream_append(sel, sizeof sel - 1);
}

/* Copies backlog bytes from stream offset `from` to the end. */
static uint8_t *backlog_copy_from(long long from, size_t *len)
{
    long long n = R.offset + 1 - from;
    *len = (size_t)n;
    uint8_t *out = xmalloc(n > 0 ? (size_t)n : 1);
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
    ra_stream_append(getack, sizeof getack - 1);
}

static void handle_wait(remote_cmd_t *rc)
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
    served_t *s = xcalloc(1, sizeof *s);
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
        ra_publish();
        return;
    }
    if (want) {
        R.sync_partial_err++;
        LOG_NOTICE("Partial resynchronization not accepted: %s", id_ok ? "offset out of the backlog's range"
                                                                       : "Replication ID mismatch");
    }
    LOG_NOTICE("Starting BGSAVE for SYNC with target: replicas sockets");
    R.sync_full++;
    ra_ensure_backlog();
    s->state = SND_WAIT_CUT;
    free(p);
    /* A sync queued behind a running SYNC cut waits for the next one. */
    R.sync_queued = true;
    ra_begin_next_cut();
    ra_publish();
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
    ra_publish();
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
    if (!R.backlog) ra_backlog_create();
    atomic_store(&g_repl_propagate, 1);   /* replica-mode workers still do not propagate */
    R.histlen = 0;
    R.widx = 0;
    R.need_select = false;
    ra_publish();
}

static void switch_id(const repl_id_msg_t *m)
{
    if (!strcmp(m->id, R.replid)) return;
    memcpy(R.replid2, R.replid, sizeof R.replid2);
    R.second_offset = R.offset + 1;
    memcpy(R.replid, m->id, sizeof R.replid);
    drop_all_served("the replication ID changed");
    ra_publish();
}

static void feed_master(uint8_t *data, size_t len)
{
    if (!R.backlog) {
        ra_backlog_create();
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

bool repl_cut_holds_stream(void) { return (R.cut && !R.cut->released) || R.sleep_holds > 0; }

void repl_sleep_release(void)
{
    if (R.sleep_holds > 0) R.sleep_holds--;
}

void repl_sleep_release_async(void)
{
    rt_msg_t *m = xcalloc(1, sizeof *m);
    m->type = RM_SLEEP_RELEASE;
    rt_send(&R.actor, m);
}

void repl_role_changed(void)
{
    rt_msg_t *m = xcalloc(1, sizeof *m);
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

void repl_hand_over_replica(repl_psync_msg_t *m)
{
    m->hdr.type = RM_PSYNC;
    rt_send(&R.actor, &m->hdr);
}

void repl_request_flush(remote_cmd_t *rc)
{
    rc->hdr.type = RM_FLUSH;
    rt_send(&R.actor, &rc->hdr);
}

void repl_request_kill_replicas(remote_cmd_t *rc)
{
    rc->hdr.type = RM_KILL;
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
        rt_random_hex(R.replid, REPL_ID_LEN);
        R.need_select = true;
        LOG_NOTICE("Setting secondary replication ID to %s, valid up to offset: %lld. New replication ID is %s",
                   R.replid2, R.second_offset, R.replid);
        ra_publish();
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
        ra_stream_append(ping, sizeof ping - 1);
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
    ra_publish();
}

/* ---------------- the actor ---------------- */

/* RM_FEED: a worker's propagated writes join the stream. */
static void on_feed(repl_feed_msg_t *m)
{
    /* A worker propagates as soon as its snapshot says we are a master: see
     * the promotion (new replid) before the first byte of it is filed. */
    if (was_replica) check_role();
    if (R.backlog && !was_replica) {
        ra_maybe_select();
        stream_append_chunk(repl_chunk_new(m->data, m->len));
    } else {
        free(m->data);
    }
    free(m);
}

/* RM_FLUSH, RM_SLEEP: queued for a cut of their own, in arrival order. */
static void on_cut_request(remote_cmd_t *rc)
{
    if (R.nflush_queue >= (int)(sizeof R.flush_queue / sizeof R.flush_queue[0])) {
        resp_add_error(&rc->reply, rc->hdr.type == RM_SLEEP ? "ERR too many DEBUG SLEEP calls in progress"
                                                            : "ERR too many FLUSHALL calls in progress");
        worker_reply_async(rc);
        return;
    }
    R.flush_queue[R.nflush_queue++] = rc;
    ra_begin_next_cut();
}

/* RM_ACK: a replica's REPLCONF ACK; the first one releases its stream. */
static void on_ack(repl_ack_msg_t *m)
{
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
}

/* RM_KILL: CLIENT KILL TYPE replica drops every replica we serve. */
static void on_kill(remote_cmd_t *rc)
{
    long long n = 0;
    while (R.served) {
        repl_sender_signal(R.served->sender, RS_CLOSE);
        drop_served(R.served, "killed by CLIENT KILL");
        n++;
    }
    resp_add_int(&rc->reply, n);
    worker_reply_async(rc);
}

static void behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    (void)self;
    switch (msg->type) {
    case RM_FEED:
        on_feed((repl_feed_msg_t *)msg);
        break;
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
    case RM_SLEEP:
        on_cut_request((remote_cmd_t *)msg);
        break;
    case RM_SLEEP_RELEASE:   /* no replica link actor yet: nothing can be held */
        repl_sleep_release();
        free(msg);
        break;
    case RM_CUT_ARRIVED:
        ra_cut_arrived((repl_cut_msg_t *)msg);
        break;
    case RM_CUT_DONE:
        ra_cut_done((repl_cut_msg_t *)msg);
        break;
    case RM_ACK:
        on_ack((repl_ack_msg_t *)msg);
        break;
    case RM_SENDER_GONE: {
        repl_ack_msg_t *m = (repl_ack_msg_t *)msg;
        served_t *s = find_served(m->sender);
        if (s) drop_served(s, "connection closed");
        free(m);
        break;
    }
    case RM_KILL:
        on_kill((remote_cmd_t *)msg);
        break;
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
    ra_publish();   /* INFO and the bus header see this round's offsets */
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
        rt_random_hex(R.replid, REPL_ID_LEN);
        R.offset = 0;
    }
    memcpy(R.replid2, zero_id, sizeof R.replid2);
    R.second_offset = -1;
    R.max_lag = 10;
    ra_publish();
    rt_thread_add_prepare_hook(R.thread, prepare, NULL);
    /* Once a second is enough: role changes are also checked when a worker's
     * first write or a PSYNC arrives, and WAIT has a timer of its own. */
    rt_timer_start(&R.cron, R.thread, 1000, 1000, cron, NULL);
    return rt_thread_start(R.thread);
}

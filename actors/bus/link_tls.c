/* link_tls.c - the cluster bus over TLS (tls-cluster yes): a link's session
 * on its socket (runtime/tls.h), its writes, and the log line for a peer
 * whose handshake we refused.
 *
 * A link's queue of frames goes out as TLS records of up to 16 KB, filled
 * from as many queued frames as fit (one record per frame would cost a
 * record header, a MAC and a syscall per PING at 1,000 peers). A retried
 * write starts from the same queued bytes and is never shorter, as OpenSSL
 * requires of a retry.
 *
 * The PONGs a read round builds skip the queue while it is empty: each is
 * copied into the thread's record being filled (the stage), which is
 * encrypted as soon as it holds 16 KB and, for the rest, when the round
 * ends (link_tls_wq_write), so a PONG costs one copy where a queued one
 * cost an allocation and two copies. What the socket does not take is
 * queued as it was attempted (the retry then starts from those bytes), and
 * later frames queue behind it.
 *
 * A refused handshake (a peer without a certificate from our CA, with
 * tls-auth-clients yes) never yields a frame, so nothing of it reaches the
 * state actor; it is logged once per peer address and then at most once a
 * minute for that address, so a peer retrying every 100 ms cannot flood
 * the log.
 *
 * Must never: be called from a thread other than the link's, block.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "actors/bus/link_tls.h"
#include "actors/config/config.h"
#include "runtime/actor.h"
#include "runtime/log.h"

#define RECORD_MAX (16 * 1024)
/* A flood's records come back to back: one read(2) takes four full records
 * (the read-ahead buffer's default takes one), a quarter of the syscalls. */
#define LINK_READ_BUFFER (4 * (RECORD_MAX + 512))
/* A read round's PONGs leave as up to four records in one write(2). */
#define LINK_WRITE_BUFFER (4 * (RECORD_MAX + 512))
#define REFUSAL_SLOTS 64
#define REFUSAL_QUIET_MS 60000

tls_conn_t *link_tls_start(int fd, bool outbound)
{
    if (!config_get_num(CONFIG_TLS_CLUSTER)) return NULL;
    tls_conn_t *t = tls_conn_for_bus(fd, outbound);   /* TLS 1.3: records ours once the handshake is done */
    if (!t) return NULL;
    tls_conn_set_read_buffer(t, LINK_READ_BUFFER);
    tls_conn_release_idle_buffers(t);   /* an idle link holds no 66 KB read buffer */
    (void)tls_conn_buffer_writes(t, LINK_WRITE_BUFFER);   /* unbuffered if not: slower, still right */
    if (outbound) (void)tls_conn_handshake(t);   /* the ClientHello leaves now; the rest as bytes come */
    return t;
}

/* The thread's record being filled from one link's PONGs (t: whose; NULL
 * when empty). It never outlives the read round that fills it. */
static _Thread_local struct {
    tls_conn_t *t;
    size_t len;
    uint8_t data[RECORD_MAX];
} stage;

/* Queues the stage's bytes and n more from `rest` (the retry starts from
 * them); the stage is empty after. False: out of memory. */
static bool stage_spill(link_wq_t *q, const uint8_t *rest, size_t n)
{
    shared_frame_t *a = stage.len ? shared_frame_new(stage.data, stage.len) : NULL;
    shared_frame_t *b = n ? shared_frame_new(rest, n) : NULL;
    bool ok = (!stage.len || a) && (!n || b);
    if (ok && a) ok = link_wq_push(q, a), a = NULL;
    if (ok && b) ok = link_wq_push(q, b), b = NULL;
    shared_frame_unref(a);
    shared_frame_unref(b);
    stage.t = NULL;
    stage.len = 0;
    return ok;
}

/* Encrypts the stage as one record. True when it went (into the write
 * buffer or the socket); false when the socket is full or the session
 * failed: the caller queues the stage, and the queue's next write tells. */
static bool stage_write(size_t *written)
{
    size_t off = 0;
    while (off < stage.len) {   /* one call takes a whole record: once */
        ssize_t w = tls_conn_write(stage.t, stage.data + off, stage.len - off);
        if (w <= 0) {
            memmove(stage.data, stage.data + off, stage.len - off);
            stage.len -= off;
            return false;
        }
        off += (size_t)w;
        *written += (size_t)w;
    }
    stage.len = 0;
    return true;
}

int link_tls_stage(link_wq_t *q, tls_conn_t *t, const uint8_t *data, size_t len, size_t *written)
{
    if (stage.t && stage.t != t) return -1;   /* not reached: a round's stage is written before the next */
    stage.t = t;
    while (len) {
        size_t n = RECORD_MAX - stage.len;
        if (n > len) n = len;
        memcpy(stage.data + stage.len, data, n);
        stage.len += n;
        data += n;
        len -= n;
        if (stage.len == RECORD_MAX && !stage_write(written)) return stage_spill(q, data, len) ? 0 : -1;
    }
    if (!stage.len) stage.t = NULL;
    return 0;
}

void link_tls_stage_drop(tls_conn_t *t)
{
    if (stage.t != t || !t) return;
    stage.t = NULL;
    stage.len = 0;
}

int link_tls_wq_write(link_wq_t *q, tls_conn_t *t, size_t *written)
{
    static _Thread_local uint8_t record[RECORD_MAX];
    if (stage.t == t && !stage_write(written) && !stage_spill(q, NULL, 0)) {
        errno = ENOMEM;
        return LINK_WQ_ERROR;
    }
    if (stage.t == t) stage.t = NULL;
    while (q->count) {
        size_t len = 0;
        for (uint32_t i = 0; i < q->count && len < RECORD_MAX; i++) {
            shared_frame_t *f = q->ring[(q->head + i) % q->cap];
            size_t skip = i == 0 ? q->off : 0, n = f->len - skip;
            if (n > RECORD_MAX - len) n = RECORD_MAX - len;
            memcpy(record + len, f->data + skip, n);
            len += n;
        }
        ssize_t w = tls_conn_write(t, record, len);
        if (w < 0 && errno == EAGAIN) return tls_conn_wants_write(t) ? LINK_WQ_BLOCKED : LINK_WQ_WAIT_READ;
        if (w <= 0) return LINK_WQ_ERROR;
        *written += (size_t)w;
        link_wq_consume(q, (size_t)w);
    }
    link_wq_consume(q, 0);   /* empty: lets the ring go */
    int f = tls_conn_flush(t);   /* records still in the write buffer */
    if (f < 0) return LINK_WQ_ERROR;
    return f ? LINK_WQ_DRAINED : LINK_WQ_BLOCKED;
}

ssize_t link_tls_read(tls_conn_t *t, uint8_t *buf, size_t cap, ssize_t *end, int *end_errno)
{
    *end = 1;
    ssize_t n = tls_conn_read(t, buf, cap);
    if (n <= 0) return n;
    size_t got = (size_t)n;
    while (got < cap && tls_conn_pending(t)) {
        ssize_t m = tls_conn_read(t, buf + got, cap - got);
        if (m <= 0) {
            *end = m;
            *end_errno = errno;
            break;
        }
        got += (size_t)m;
    }
    return (ssize_t)got;
}

/* Peer addresses refused lately, and when they were last logged. */
static pthread_mutex_t refusal_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { char ip[INET6_ADDRSTRLEN]; long long logged_ms; } refusals[REFUSAL_SLOTS];
static unsigned refusal_next;

void link_tls_refused(const char *ip, bool outbound, const char *why)
{
    long long now = rt_now_ms();
    bool log = true;
    pthread_mutex_lock(&refusal_lock);
    int slot = -1;
    for (int i = 0; i < REFUSAL_SLOTS; i++)
        if (!strcmp(refusals[i].ip, ip)) { slot = i; break; }
    if (slot >= 0 && now - refusals[slot].logged_ms < REFUSAL_QUIET_MS) log = false;
    if (slot < 0) slot = (int)(refusal_next++ % REFUSAL_SLOTS);
    if (log) {
        snprintf(refusals[slot].ip, sizeof refusals[slot].ip, "%s", ip);
        refusals[slot].logged_ms = now;
    }
    pthread_mutex_unlock(&refusal_lock);
    if (log)
        LOG_WARNING("%s cluster node %s over TLS refused: %s (further refusals of this address are not logged for %d s)",
                    outbound ? "Connection to" : "Connection from", ip, why, REFUSAL_QUIET_MS / 1000);
}

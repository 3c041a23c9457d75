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
    tls_conn_t *t = outbound ? tls_conn_connecting(fd) : tls_conn_accepted(fd);
    if (!t) return NULL;
    tls_conn_set_read_buffer(t, LINK_READ_BUFFER);
    tls_conn_release_idle_buffers(t);   /* an idle link holds no 66 KB read buffer */
    (void)tls_conn_buffer_writes(t, LINK_WRITE_BUFFER);   /* unbuffered if not: slower, still right */
    if (outbound) (void)tls_conn_handshake(t);   /* the ClientHello leaves now; the rest as bytes come */
    return t;
}

int link_tls_wq_write(link_wq_t *q, tls_conn_t *t, size_t *written)
{
    static _Thread_local uint8_t record[RECORD_MAX];
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

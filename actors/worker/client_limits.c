/* client_limits.c - client-query-buffer-limit and client-output-buffer-limit,
 * enforced as redis-server 7.0.15 enforces them (networking.c
 * readQueryFromClient, checkClientOutputBufferLimits,
 * closeClientOnOutputBufferLimitReached), with Redis's log lines.
 *
 * Must never: free a client, or touch a client of another worker.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "actors/config/config.h"
#include "actors/worker/client.h"
#include "actors/worker/client_limits.h"
#include "actors/worker/worker_internal.h"
#include "runtime/log.h"

/* Parsed client-output-buffer-limit, per class. Relaxed atomics: each value
 * is read on its own, and a check that sees a mix of an old and a new limit
 * for one command is as good as Redis's (which applies a CONFIG SET between
 * two commands). */
static _Atomic unsigned long long obuf_hard[3], obuf_soft[3];
static _Atomic long long obuf_soft_secs[3];

static void load_obuf_limits(void)
{
    static const char *names[3] = { "normal", "replica", "pubsub" };
    for (int c = 0; c < 3; c++) {
        unsigned long long hard = 0, soft = 0;
        long long secs = 0;
        if (config_obuf_limit(names[c], &hard, &soft, &secs) != 0) continue;
        atomic_store_explicit(&obuf_hard[c], hard, memory_order_relaxed);
        atomic_store_explicit(&obuf_soft[c], soft, memory_order_relaxed);
        atomic_store_explicit(&obuf_soft_secs[c], secs, memory_order_relaxed);
    }
}

static void on_config_change(const char *name, void *arg)
{
    (void)arg;
    if (!strcmp(name, "client-output-buffer-limit")) load_obuf_limits();
}

void climits_init(void)
{
    load_obuf_limits();
    if (config_subscribe(on_config_change, NULL) != 0)
        LOG_WARNING("client-output-buffer-limit changes will apply only after a restart");
}

bool climits_obuf_over(int cls, size_t used, long long *soft_since_s, long long now_s, bool complete)
{
    unsigned long long hard = atomic_load_explicit(&obuf_hard[cls], memory_order_relaxed);
    unsigned long long soft = atomic_load_explicit(&obuf_soft[cls], memory_order_relaxed);
    /* A replica's hard limit below the backlog would cut it off right after
     * a partial sync could have served it; Redis uses the backlog size. */
    unsigned long long hard_eff = hard;
    if (cls == CLIENT_CLASS_REPLICA && hard) {
        long long backlog = config_get_num(CONFIG_REPL_BACKLOG_SIZE);
        if (backlog > 0 && hard < (unsigned long long)backlog) hard_eff = (unsigned long long)backlog;
    }
    if (hard && used >= hard_eff) return true;
    if (!soft || used < soft) {
        if (complete) *soft_since_s = 0;
        return false;
    }
    if (now_s < 0) now_s = rt_now_ms() / 1000;
    if (*soft_since_s == 0) {       /* the first time over: the clock starts */
        *soft_since_s = now_s;
        return false;
    }
    return now_s - *soft_since_s > atomic_load_explicit(&obuf_soft_secs[cls], memory_order_relaxed);
}

size_t climits_obuf_floor(int cls)
{
    unsigned long long hard = atomic_load_explicit(&obuf_hard[cls], memory_order_relaxed);
    unsigned long long soft = atomic_load_explicit(&obuf_soft[cls], memory_order_relaxed);
    unsigned long long f = hard && (!soft || hard < soft) ? hard : soft;
    return f && f < SIZE_MAX ? (size_t)f : SIZE_MAX;
}

size_t client_obuf_bytes(const client_t *c)
{
    size_t n = c->out.len - c->out_sent;
    for (const reply_slot_t *s = c->pending_head; s; s = s->next) n += s->buf.len + s->acc.len;
    return n;
}

size_t client_total_mem(const client_t *c)
{
    size_t n = sizeof *c + c->qcap + c->out.cap;
    for (const reply_slot_t *s = c->pending_head; s; s = s->next) n += sizeof *s + s->buf.cap + s->acc.cap;
    for (int i = 0; i < c->mq_len; i++) {
        n += (size_t)c->mq[i].argc * (sizeof(uint8_t *) + sizeof(size_t));
        for (int k = 0; k < c->mq[i].argc; k++) n += c->mq[i].argvlen[k] + 1;
    }
    return n;
}

bool client_check_obuf(client_t *c, enum obuf_check how)
{
    if (c->flags & CLIENT_CLOSED) return false;
    /* The quick count leaves out replies queued behind a pending one: walking
     * them after every command of a deep pipeline would cost its square; the
     * full checks (a write that left bytes, the cron) count them. */
    bool complete = how != OBUF_CHECK_QUICK;
    size_t used = complete ? client_obuf_bytes(c) : c->out.len - c->out_sent;
    /* As Redis: a client with nothing queued is not judged at all (its soft
     * clock, if running, keeps its start). */
    if (used == 0) return false;
    /* A subscriber is of the pubsub class (7.0.15 getClientType); replicas
     * leave the worker at PSYNC (repl_sender.c judges them). */
    int cls = (c->flags & CLIENT_PUBSUB) ? CLIENT_CLASS_PUBSUB : CLIENT_CLASS_NORMAL;
    if (!climits_obuf_over(cls, used, &c->obuf_soft_since_s, -1, complete)) return false;
    char info[1024];
    client_info_line(c, info, sizeof info);
    if (how == OBUF_CHECK_CRON) LOG_WARNING("Client %s closed for overcoming of output buffer limits.", info);
    else LOG_WARNING("Client %s scheduled to be closed ASAP for overcoming of output buffer limits.", info);
    client_close(c);
    return true;
}

/* Bytes as Redis's sdscatrepr shows them: quoted, with C escapes. */
static void repr_bytes(char *out, size_t cap, const uint8_t *p, size_t n)
{
    size_t k = 0;
    if (cap < 8) { if (cap) out[0] = '\0'; return; }
    out[k++] = '"';
    for (size_t i = 0; i < n && k + 6 < cap; i++) {
        unsigned char ch = p[i];
        switch (ch) {
        case '\\': case '"': out[k++] = '\\'; out[k++] = (char)ch; break;
        case '\n': out[k++] = '\\'; out[k++] = 'n'; break;
        case '\r': out[k++] = '\\'; out[k++] = 'r'; break;
        case '\t': out[k++] = '\\'; out[k++] = 't'; break;
        case '\a': out[k++] = '\\'; out[k++] = 'a'; break;
        case '\b': out[k++] = '\\'; out[k++] = 'b'; break;
        default:
            if (ch >= 0x20 && ch < 0x7f) out[k++] = (char)ch;
            else k += (size_t)snprintf(out + k, cap - k, "\\x%02x", ch);
        }
    }
    out[k++] = '"';
    out[k] = '\0';
}

bool client_check_qbuf(client_t *c)
{
    if (c->flags & CLIENT_CLOSED) return false;
    size_t unparsed = c->qlen - c->qpos;
    long long limit = config_client_query_buffer_limit();
    if (limit <= 0 || unparsed <= (size_t)limit) return false;
    char info[1024], bytes[300];
    client_info_line(c, info, sizeof info);
    repr_bytes(bytes, sizeof bytes, c->qbuf + c->qpos, unparsed < 64 ? unparsed : 64);
    LOG_WARNING("Closing client that reached max query buffer length: %s (qbuf initial bytes: %s)", info, bytes);
    client_close(c);
    return true;
}

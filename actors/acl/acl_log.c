/* acl_log.c - ACL LOG: the latest denials, newest first, a repeat within a
 * minute (same reason, context, object and user among the 10 newest) counted
 * on its entry, as 7.0.15 keeps them; at most acllog-max-len entries.
 *
 * Written by any worker on a denial and read by ACL LOG, under g_log_lock;
 * the lock is never taken on a command that is allowed.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "actors/acl/acl.h"
#include "actors/config/config.h"
#include "runtime/actor.h"
#include "runtime/xmalloc.h"

#define GROUPING_MS 60000

typedef struct log_entry {
    struct log_entry *next;
    long long count;
    int reason, context;
    char *object, *user, *cinfo;
    size_t olen, ulen;
    long long ctime_ms;
} log_entry_t;

static pthread_mutex_t g_log_lock = PTHREAD_MUTEX_INITIALIZER;
static log_entry_t *g_head;   /* newest first */
static long g_len;


static void entry_free(log_entry_t *e)
{
    free(e->object);
    free(e->user);
    free(e->cinfo);
    free(e);
}

static long max_len(void)
{
    static int idx = -2;
    if (idx == -2) idx = config_find("acllog-max-len");
    return idx >= 0 ? (long)config_get_num_at(idx) : 128;
}

void acl_log_add(int reason, int context, const char *object, size_t olen, const char *user, size_t ulen,
                 const char *cinfo)
{
    long long now = rt_now_ms();
    pthread_mutex_lock(&g_log_lock);
    log_entry_t **pp = &g_head;
    for (int scanned = 0; *pp && scanned < 10; scanned++, pp = &(*pp)->next) {
        log_entry_t *e = *pp;
        long long delta = e->ctime_ms - now;
        if (delta < 0) delta = -delta;
        if (e->reason == reason && e->context == context && delta <= GROUPING_MS && e->olen == olen &&
            memcmp(e->object, object, olen) == 0 && e->ulen == ulen && memcmp(e->user, user, ulen) == 0) {
            *pp = e->next;        /* to the front, updated */
            e->next = g_head;
            g_head = e;
            free(e->cinfo);
            e->cinfo = xmemdup(cinfo, strlen(cinfo));
            e->ctime_ms = now;
            e->count++;
            pthread_mutex_unlock(&g_log_lock);
            return;
        }
    }
    log_entry_t *e = calloc(1, sizeof *e);
    if (!e) abort();
    e->count = 1;
    e->reason = reason;
    e->context = context;
    e->object = xmemdup(object, olen);
    e->olen = olen;
    e->user = xmemdup(user, ulen);
    e->ulen = ulen;
    e->cinfo = xmemdup(cinfo, strlen(cinfo));
    e->ctime_ms = now;
    e->next = g_head;
    g_head = e;
    g_len++;
    long keep = max_len();
    if (g_len > keep) {
        log_entry_t **tail = &g_head;
        for (long i = 0; i < keep && *tail; i++) tail = &(*tail)->next;
        while (*tail) {
            log_entry_t *x = *tail;
            *tail = x->next;
            entry_free(x);
            g_len--;
        }
    }
    pthread_mutex_unlock(&g_log_lock);
}

void acl_log_reset(void)
{
    pthread_mutex_lock(&g_log_lock);
    while (g_head) {
        log_entry_t *e = g_head;
        g_head = e->next;
        entry_free(e);
    }
    g_len = 0;
    pthread_mutex_unlock(&g_log_lock);
}

void acl_log_reply(resp_buf_t *r, long count)
{
    static const char *const reasons[] = { "unknown", "command", "key", "auth", "channel" };
    static const char *const contexts[] = { "toplevel", "multi", "lua" };
    pthread_mutex_lock(&g_log_lock);
    if (count < 0) count = 0;
    if (count > g_len) count = g_len;
    long long now = rt_now_ms();
    resp_add_array(r, count);
    log_entry_t *e = g_head;
    for (long i = 0; i < count && e; i++, e = e->next) {
        resp_add_map(r, 7);
        resp_add_bulk_str(r, "count");
        resp_add_int(r, e->count);
        resp_add_bulk_str(r, "reason");
        resp_add_bulk_str(r, e->reason >= 1 && e->reason <= 4 ? reasons[e->reason] : "unknown");
        resp_add_bulk_str(r, "context");
        resp_add_bulk_str(r, e->context >= 0 && e->context <= 2 ? contexts[e->context] : "unknown");
        resp_add_bulk_str(r, "object");
        resp_add_bulk(r, e->object, e->olen);
        resp_add_bulk_str(r, "username");
        resp_add_bulk(r, e->user, e->ulen);
        resp_add_bulk_str(r, "age-seconds");
        resp_add_double(r, (double)(now - e->ctime_ms) / 1000);
        resp_add_bulk_str(r, "client-info");
        resp_add_bulk_str(r, e->cinfo);
    }
    pthread_mutex_unlock(&g_log_lock);
}

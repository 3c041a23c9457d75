/* monitor.c - see monitor.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/worker/client.h"
#include "actors/commands/commands.h"
#include "actors/worker/monitor.h"
#include "actors/worker/wdb.h"
#include "proto/strnum.h"
#include "actors/worker/slowlog.h"
#include "actors/worker/unixsock.h"
#include "actors/worker/worker_internal.h"
#include "runtime/xmalloc.h"

_Atomic uint64_t g_monitor_workers;

/* This worker's lines not yet handed over, and its own monitors.
 * Thread-local: a worker is one thread, and only it feeds or flushes. */
static __thread char *fed;
static __thread size_t fed_len, fed_cap;
static __thread client_t **mons;
static __thread int nmons, mons_cap;

/* The lines of one worker's round, for another worker's monitors. */
typedef struct monitor_round {
    worker_run_t run;
    size_t len;
    char data[];
} monitor_round_t;

static void fed_reserve(size_t more)
{
    if (fed_len + more <= fed_cap) return;
    size_t cap = fed_cap ? fed_cap * 2 : 4096;
    while (cap < fed_len + more) cap *= 2;
    fed = xrealloc(fed, cap);
    fed_cap = cap;
}

static void fed_add(const char *p, size_t n)
{
    fed_reserve(n);
    memcpy(fed + fed_len, p, n);
    fed_len += n;
}

/* One argument quoted as 7.0.15's sdscatrepr quotes it. */
static void add_quoted(const uint8_t *p, size_t n)
{
    fed_reserve(n * 4 + 2);
    char *o = fed + fed_len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        switch (ch) {
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '"': *o++ = '\\'; *o++ = '"'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        case '\a': *o++ = '\\'; *o++ = 'a'; break;
        case '\b': *o++ = '\\'; *o++ = 'b'; break;
        default:
            if (isprint(ch)) {
                *o++ = (char)ch;
            } else {
                static const char hex[] = "0123456789abcdef";
                *o++ = '\\'; *o++ = 'x'; *o++ = hex[ch >> 4]; *o++ = hex[ch & 15];
            }
        }
    }
    *o++ = '"';
    fed_len = (size_t)(o - fed);
}

/* One line: the time, [<db> <who>], the arguments. */
static void feed_line(int db, const char *who, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                      const size_t *argvlen)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char head[160];
    int n = snprintf(head, sizeof head, "+%ld.%06ld [%d %s] ", (long)ts.tv_sec, ts.tv_nsec / 1000L, db, who);
    fed_add(head, n < (int)sizeof head ? (size_t)n : sizeof head - 1);
    for (int j = 0; j < argc; j++) {
        if (j > 0 && slowlog_arg_redacted(cmd, argc, argv, argvlen, j)) add_quoted((const uint8_t *)"(redacted)", 10);
        else add_quoted(argv[j], argvlen[j]);
        if (j != argc - 1) fed_add(" ", 1);
    }
    fed_add("\r\n", 2);
}

/* The database after the call, which 7.0.15 shows (a line is fed before
 * its call here): SELECT's own line has the new one. */
static int db_after(int db, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    long long sel;
    if (cmd->handler == cmd_select && argc == 2 && str_to_ll(argv[1], argvlen[1], &sel) && sel >= 0 &&
        sel < wdb_count())
        return (int)sel;
    return db;
}

void monitor_feed(const client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    /* Scripts are skip_monitor for 7.0.15's call(), which would show them
     * after their calls; their commands show them first instead. */
    if ((cmd->flags & (CMD_SKIP_MONITOR | CMD_ADMIN)) && !(cmd->flags & CMD_SCRIPT)) return;
    char who[140];
    if (c->flags & CLIENT_UNIX_SOCKET) snprintf(who, sizeof who, "unix:%s", unixsock_path());
    else snprintf(who, sizeof who, "%s", c->addr);
    feed_line(db_after(c->db, cmd, argc, argv, argvlen), who, cmd, argc, argv, argvlen);
    /* A script may run on another worker, whose lines for the commands it
     * calls must come after this one: the line leaves now, before the
     * script is sent (7.0.15 shows EVAL, then its calls). */
    if (cmd->flags & CMD_SCRIPT) monitor_flush(c->worker);
}

void monitor_feed_script(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    if (cmd->flags & (CMD_SKIP_MONITOR | CMD_ADMIN)) return;
    feed_line(db_after(wdb_current_here(), cmd, argc, argv, argvlen), "lua", cmd, argc, argv, argvlen);
}

void monitor_feed_in_multi(const client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                           const size_t *argvlen)
{
    if (!cmd->parent && !strcmp(cmd->name, "exec") && !(c->flags & CLIENT_DIRTY_EXEC))
        for (int i = 0; i < c->mq_len; i++) monitor_feed(c, c->mq[i].cmd, c->mq[i].argc, c->mq[i].argv, c->mq[i].argvlen);
    monitor_feed(c, cmd, argc, argv, argvlen);
}

static void deliver(const char *p, size_t n)
{
    for (int i = 0; i < nmons; i++) {
        client_t *m = mons[i];
        resp_buf_append(client_push_target(m), p, n);
        client_schedule_write(m);
    }
}

static void on_round(worker_t *w, rt_msg_t *msg)
{
    (void)w;
    monitor_round_t *r = (monitor_round_t *)msg;
    deliver(r->data, r->len);
    free(r);
}

void monitor_flush(worker_t *w)
{
    if (fed_len == 0) return;
    /* relaxed: a worker that just lost its last monitor drops the round */
    uint64_t to = atomic_load_explicit(&g_monitor_workers, memory_order_relaxed);
    for (int i = 0; to; i++, to >>= 1) {
        if (!(to & 1)) continue;
        if (i == w->index) {
            deliver(fed, fed_len);
            continue;
        }
        monitor_round_t *r = xmalloc(sizeof *r + fed_len);
        r->run.hdr.type = WMSG_RUN;
        r->run.fn = on_round;
        r->len = fed_len;
        memcpy(r->data, fed, fed_len);
        worker_send(w, i, &r->run.hdr);
    }
    fed_len = 0;
    if (fed_cap > (1u << 20)) {     /* a burst's buffer is not kept */
        free(fed);
        fed = NULL;
        fed_cap = 0;
    }
}

void monitor_remove(client_t *c)
{
    if (!(c->flags & CLIENT_MONITOR)) return;
    c->flags &= ~CLIENT_MONITOR;
    for (int i = 0; i < nmons; i++)
        if (mons[i] == c) {
            mons[i] = mons[--nmons];
            break;
        }
    /* relaxed: only this worker changes its own bit */
    if (nmons == 0) atomic_fetch_and_explicit(&g_monitor_workers, ~(1ull << c->worker->index), memory_order_relaxed);
}

void cmd_monitor(cmd_ctx_t *ctx)
{
    client_t *c = ctx->client;
    if (c->flags & CLIENT_MULTI) {
        /* EXEC runs it: a transaction's client expects one reply per command */
        resp_add_error(ctx->reply, "ERR MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    if (c->flags & CLIENT_MONITOR) return;    /* 7.0.15 ignores it, without a reply */
    if (nmons == mons_cap) {
        mons_cap = mons_cap ? mons_cap * 2 : 4;
        mons = xrealloc(mons, sizeof *mons * (size_t)mons_cap);
    }
    mons[nmons++] = c;
    c->flags |= CLIENT_MONITOR;
    /* relaxed: see monitor_any */
    atomic_fetch_or_explicit(&g_monitor_workers, 1ull << c->worker->index, memory_order_relaxed);
    resp_add_simple(ctx->reply, "OK");
}

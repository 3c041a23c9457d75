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

/* n in decimal, at least `width` digits (zero-padded), at o; returns the end. */
static char *put_uint(char *o, unsigned long long n, int width)
{
    char tmp[20];
    size_t k = ull_to_str(tmp, n);
    for (size_t pad = k; pad < (size_t)width; pad++) *o++ = '0';
    memcpy(o, tmp, k);
    return o + k;
}

/* One line: the time, [<db> <who>], the arguments. Formatted by hand: two
 * snprintf calls were a visible part of a monitored SET. */
static void feed_line(int db, const char *who, size_t wlen, const cmd_def_t *cmd, int argc,
                      const uint8_t **argv, const size_t *argvlen)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    fed_reserve(wlen + 64);
    char *o = fed + fed_len;
    *o++ = '+';
    o = put_uint(o, (unsigned long long)ts.tv_sec, 1);
    *o++ = '.';
    o = put_uint(o, (unsigned long long)(ts.tv_nsec / 1000L), 6);
    *o++ = ' ';
    *o++ = '[';
    o = put_uint(o, (unsigned long long)db, 1);   /* 0 <= db < wdb_count() */
    *o++ = ' ';
    memcpy(o, who, wlen);
    o += wlen;
    *o++ = ']';
    *o++ = ' ';
    fed_len = (size_t)(o - fed);
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
    int db = db_after(c->db, cmd, argc, argv, argvlen);
    if (c->flags & CLIENT_UNIX_SOCKET) {
        char who[140];
        int n = snprintf(who, sizeof who, "unix:%s", unixsock_path());
        feed_line(db, who, n < (int)sizeof who ? (size_t)n : sizeof who - 1, cmd, argc, argv, argvlen);
    } else {
        feed_line(db, c->addr, strlen(c->addr), cmd, argc, argv, argvlen);
    }
    /* A script may run on another worker, whose lines for the commands it
     * calls must come after this one: the line leaves now, before the
     * script is sent (7.0.15 shows EVAL, then its calls). */
    if (cmd->flags & CMD_SCRIPT) monitor_flush(c->worker);
}

void monitor_feed_script(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    if (cmd->flags & (CMD_SKIP_MONITOR | CMD_ADMIN)) return;
    feed_line(db_after(wdb_current_here(), cmd, argc, argv, argvlen), "lua", 3, cmd, argc, argv, argvlen);
}

void monitor_feed_in_multi(const client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                           const size_t *argvlen)
{
    if (!cmd->parent && !strcmp(cmd->name, "exec") && !(c->flags & CLIENT_DIRTY_EXEC))
        for (int i = 0; i < c->mq_len; i++) monitor_feed(c, c->mq[i].cmd, c->mq[i].argc, c->mq[i].argv, c->mq[i].argvlen);
    monitor_feed(c, cmd, argc, argv, argvlen);
}

/* A monitor's output is written when MON_WRITE_BYTES of it wait, or
 * MON_WRITE_MS after the first of them arrived, not at every loop round:
 * at -P 1 a round carries a few lines, and a write per round cost a send
 * here and a wake-up of the reader for every 5 to 7 requests (redis-server,
 * one loop serving every socket, writes once per 25 or so). Order is kept:
 * the lines wait in the monitor's output buffer, behind what is already
 * there, and anything else for that connection (RESET's reply) is written
 * with them. */
#define MON_WRITE_BYTES (64 * 1024)
#define MON_WRITE_MS 1.0

static __thread rt_timer_t mon_timer;
static __thread bool mon_timer_on;

static void mon_timer_cb(rt_timer_t *t, void *arg)
{
    (void)t;
    (void)arg;
    mon_timer_on = false;
    for (int i = 0; i < nmons; i++) client_schedule_write(mons[i]);   /* flush_pending_writes writes them */
}

static void deliver(worker_t *w, const char *p, size_t n)
{
    bool wait = false;
    for (int i = 0; i < nmons; i++) {
        client_t *m = mons[i];
        resp_buf_append(client_push_target(m), p, n);
        if (m->out.len - m->out_sent >= MON_WRITE_BYTES) client_schedule_write(m);
        else wait = true;
    }
    if (wait && !mon_timer_on) {
        rt_timer_start(&mon_timer, w->thread, MON_WRITE_MS, 0, mon_timer_cb, NULL);
        mon_timer_on = true;
    }
}

static void on_round(worker_t *w, rt_msg_t *msg)
{
    monitor_round_t *r = (monitor_round_t *)msg;
    deliver(w, r->data, r->len);
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
            deliver(w, fed, fed_len);
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
    if (nmons == 0 && mon_timer_on) {
        rt_timer_stop(&mon_timer);
        mon_timer_on = false;
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

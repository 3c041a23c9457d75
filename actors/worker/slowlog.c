/* slowlog.c - see slowlog.h. */
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/commands/args.h"
#include "actors/config/config.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/latency.h"
#include "actors/worker/slowlog.h"
#include "actors/worker/worker_internal.h"
#include "proto/strnum.h"
#include "runtime/xmalloc.h"

/* 7.0.15's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING. */
#define MAX_ARGC 32
#define MAX_STRING 128

typedef struct sl_entry {
    struct sl_entry *newer, *older;
    long long id, time_s, usec;
    int argc;
    char **argv;                  /* each a copy ... */
    size_t *argvlen;              /* ... of this length */
    char *peer, *name;
} sl_entry_t;

/* This worker's log, newest first. Thread-local: a worker is one thread, and
 * only its own calls and its own fan-out parts touch it. */
static __thread sl_entry_t *newest, *oldest;
static __thread long long entries;
/* SLOWLOG GET/LEN calls of this worker's clients whose part has not yet run
 * here. Such a call's own entry is made before its part reads the log, so
 * while a part is owed the log keeps one more entry per owed part: the part
 * must still find the max-len entries that 7.0.15 would show (the trim
 * happens once the part has run). */
static __thread long long owed_parts;

/* Ids in the order entries are made, node-wide. Relaxed: only uniqueness and
 * the order of one worker's own entries matter (SLOWLOG GET sorts by it). */
static _Atomic long long next_id;

bool slowlog_wants(long long usec)
{
    long long t = config_get_num(CONFIG_SLOWLOG_LOG_SLOWER_THAN);
    return t >= 0 && usec >= t;
}

bool slowlog_arg_redacted(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen, int i)
{
    const cmd_def_t *top = cmd->parent ? cmd->parent : cmd;
    if (!strcmp(top->name, "auth")) return i >= 1;
    if (!strcmp(top->name, "hello")) {
        /* the options after the protocol version, read as 7.0.15 reads them:
         * it stops at the first one it does not know */
        for (int j = 2; j < argc; j++) {
            int more = argc - 1 - j;
            if (arg_is(argv[j], argvlen[j], "auth") && more >= 2) {
                if (i == j + 1 || i == j + 2) return true;
                j += 2;
            } else if (arg_is(argv[j], argvlen[j], "setname") && more >= 1) {
                j++;
            } else {
                break;
            }
        }
        return false;
    }
    if (!strcmp(top->name, "migrate")) {
        for (int j = 6; j < argc; j++) {
            int more = argc - 1 - j;
            if (arg_is(argv[j], argvlen[j], "auth")) {
                if (!more) break;
                if (i == ++j) return true;
            } else if (arg_is(argv[j], argvlen[j], "auth2")) {
                if (more < 2) break;
                if (i == j + 1 || i == j + 2) return true;
                j += 2;
            } else if (arg_is(argv[j], argvlen[j], "keys")) {
                break;
            }
        }
        return false;
    }
    if (top != cmd && !strcmp(top->name, "acl") && !strcmp(cmd->name, "setuser")) return i >= 2;   /* all of it */
    if (top != cmd && !strcmp(top->name, "config") && !strcmp(cmd->name, "set")) {
        /* the value of every sensitive directive in the call */
        static const char *const secret[] = { "masterauth", "masteruser", "requirepass" };
        if (i < 3 || (i - 2) % 2 != 1) return false;
        for (size_t k = 0; k < sizeof secret / sizeof secret[0]; k++)
            if (arg_is(argv[i - 1], argvlen[i - 1], secret[k])) return true;
    }
    return false;
}

static void entry_free(sl_entry_t *e)
{
    for (int i = 0; i < e->argc; i++) free(e->argv[i]);
    free(e->argv);
    free(e->argvlen);
    free(e->peer);
    free(e->name);
    free(e);
}

static void drop_oldest(void)
{
    sl_entry_t *e = oldest;
    oldest = e->newer;
    if (oldest) oldest->older = NULL;
    else newest = NULL;
    entries--;
    entry_free(e);
}

static void trim(void)
{
    long long max = config_get_num(CONFIG_SLOWLOG_MAX_LEN) + owed_parts;
    while (entries > max) drop_oldest();
}

long long slowlog_take_id(void) { return atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed); }

void slowlog_push(const client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                  long long usec, long long id)
{
    if (cmd->flags & CMD_SKIP_SLOWLOG) return;
    sl_entry_t *e = xcalloc(1, sizeof *e);
    int n = argc > MAX_ARGC ? MAX_ARGC : argc;
    e->argc = n;
    e->argv = xmalloc(sizeof *e->argv * (size_t)n);
    e->argvlen = xmalloc(sizeof *e->argvlen * (size_t)n);
    for (int j = 0; j < n; j++) {
        char buf[MAX_STRING + 64];
        if (n != argc && j == n - 1) {
            int l = snprintf(buf, sizeof buf, "... (%d more arguments)", argc - n + 1);
            e->argv[j] = xmemdup(buf, (size_t)l);
            e->argvlen[j] = (size_t)l;
        } else if (slowlog_arg_redacted(cmd, argc, argv, argvlen, j)) {
            e->argv[j] = xmemdup("(redacted)", 10);
            e->argvlen[j] = 10;
        } else if (argvlen[j] > MAX_STRING) {
            memcpy(buf, argv[j], MAX_STRING);
            int l = snprintf(buf + MAX_STRING, sizeof buf - MAX_STRING, "... (%lu more bytes)",
                             (unsigned long)(argvlen[j] - MAX_STRING));
            e->argv[j] = xmemdup(buf, MAX_STRING + (size_t)l);
            e->argvlen[j] = MAX_STRING + (size_t)l;
        } else {
            e->argv[j] = xmemdup(argv[j], argvlen[j]);
            e->argvlen[j] = argvlen[j];
        }
    }
    e->time_s = (long long)time(NULL);
    e->usec = usec;
    e->id = id >= 0 ? id : slowlog_take_id();
    e->peer = xmemdup(c->addr, strlen(c->addr));
    e->name = xmemdup(c->name, strlen(c->name));
    e->older = newest;
    if (newest) newest->newer = e;
    newest = e;
    if (!oldest) oldest = e;
    entries++;
    trim();
}

void slowlog_remote_done(const client_t *c, const remote_cmd_t *rc)
{
    if (rc->arg_us > 0 && rc->ncmds == 1) {
        long long usec = rt_now_us() - rc->now_ms * 1000;
        if (usec < rc->arg_us) usec = rc->arg_us;
        const queued_cmd_t *q = &rc->cmds[0];
        stats_note_call(c->worker, q->cmd, usec, &rc->reply, 0);
        if (slowlog_wants(usec)) slowlog_push(c, q->cmd, q->argc, q->argv, q->argvlen, usec, -1);
        latency_note("command", usec / 1000);
    }
    for (int i = 0; rc->usecs && i < rc->ncmds; i++) {
        const queued_cmd_t *q = &rc->cmds[i];
        if (rc->usecs[i] >= 0 && slowlog_wants(rc->usecs[i]))
            slowlog_push(c, q->cmd, q->argc, q->argv, q->argvlen, rc->usecs[i], -1);
    }
}

/* ---- SLOWLOG ----
 * Every form fans out (each worker answers for its own log). The handler,
 * which runs before the call that asked is itself logged, appends the id
 * the next entry will get as a last argument: the parts leave out (GET,
 * LEN) or keep (RESET) the entries from there on, so that the call's own
 * entry is where 7.0.15 has it (absent from its own GET, kept after RESET). */

static void fan_out_with_cut(cmd_ctx_t *ctx)
{
    const uint8_t *argv[4];
    size_t argvlen[4];
    char cut[24];
    int n = ctx->argc;
    for (int i = 0; i < n; i++) {
        argv[i] = ctx->argv[i];
        argvlen[i] = ctx->argvlen[i];
    }
    argvlen[n] = (size_t)snprintf(cut, sizeof cut, "%lld", atomic_load_explicit(&next_id, memory_order_relaxed));
    argv[n] = (const uint8_t *)cut;
    if (!arg_is(ctx->argv[1], ctx->argvlen[1], "reset")) owed_parts++;
    dispatch_fanout(ctx->client, dispatch_current_cmd(ctx->client), n + 1, argv, argvlen);
}

void cmd_slowlog_get(cmd_ctx_t *ctx)
{
    if (ctx->argc > 3) {
        resp_add_errorf(ctx->reply, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try SLOWLOG HELP.",
                        (int)(ctx->argvlen[1] > 128 ? 128 : ctx->argvlen[1]), (const char *)ctx->argv[1]);
        return;
    }
    long long count;
    if (ctx->argc == 3 && (!arg_ll(ctx->argv[2], ctx->argvlen[2], &count) || count < -1)) {
        resp_add_error(ctx->reply, "ERR count should be greater than or equal to -1");
        return;
    }
    if (ctx->argc == 2) {
        /* the default count travels as an argument, as the parts need it */
        const uint8_t *argv[3] = { ctx->argv[0], ctx->argv[1], (const uint8_t *)"10" };
        size_t argvlen[3] = { ctx->argvlen[0], ctx->argvlen[1], 2 };
        cmd_ctx_t c2 = *ctx;
        c2.argc = 3;
        c2.argv = argv;
        c2.argvlen = argvlen;
        fan_out_with_cut(&c2);
        return;
    }
    fan_out_with_cut(ctx);
}

void cmd_slowlog_len(cmd_ctx_t *ctx) { fan_out_with_cut(ctx); }

void cmd_slowlog_reset(cmd_ctx_t *ctx) { fan_out_with_cut(ctx); }

void cmd_slowlog_help(cmd_ctx_t *ctx)
{
    static const char *const help[] = {
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Prints this help.",
    };
    arg_reply_help(ctx, help, sizeof help / sizeof help[0]);
}

/* A part's answer for GET: per entry its id (8 bytes), then the length of
 * its reply (8 bytes) and the reply (a 6-element array) itself. */
static void part_get(remote_cmd_t *rc, long long count, long long cut)
{
    long long sent = 0;
    resp_buf_t one;
    resp_buf_init(&one, rc->proto);
    for (sl_entry_t *e = newest; e && (count < 0 || sent < count); e = e->older) {
        if (e->id >= cut) continue;
        one.len = 0;
        resp_add_array(&one, 6);
        resp_add_int(&one, e->id);
        resp_add_int(&one, e->time_s);
        resp_add_int(&one, e->usec);
        resp_add_array(&one, e->argc);
        for (int j = 0; j < e->argc; j++) resp_add_bulk(&one, e->argv[j], e->argvlen[j]);
        resp_add_bulk(&one, e->peer, strlen(e->peer));
        resp_add_bulk(&one, e->name, strlen(e->name));
        uint64_t hdr[2] = { (uint64_t)e->id, (uint64_t)one.len };
        resp_buf_append(&rc->reply, (const char *)hdr, sizeof hdr);
        resp_buf_append(&rc->reply, one.data, one.len);
        sent++;
    }
    resp_buf_free(&one);
}

void slowlog_part(struct worker *w, struct remote_cmd *rc)
{
    (void)w;
    const queued_cmd_t *q = &rc->cmds[0];
    long long cut = 0;
    str_to_ll(q->argv[q->argc - 1], q->argvlen[q->argc - 1], &cut);
    if (arg_is(q->argv[1], q->argvlen[1], "reset")) {
        /* everything older than the RESET call (its own entry stays) */
        while (oldest && oldest->id < cut) drop_oldest();
        return;
    }
    if (arg_is(q->argv[1], q->argvlen[1], "len")) {
        long long n = 0;
        for (sl_entry_t *e = newest; e; e = e->older) n += e->id < cut;
        rc->keys_delta = n;
    } else {
        long long count = 10;
        str_to_ll(q->argv[2], q->argvlen[2], &count);
        part_get(rc, count, cut);
    }
    if (rc->origin == w && owed_parts > 0) {
        owed_parts--;
        trim();
    }
}

void slowlog_merge(struct reply_slot *s, const struct remote_cmd *rc)
{
    s->sum += rc->keys_delta;
    resp_buf_append(&s->acc, rc->reply.data, rc->reply.len);
    const queued_cmd_t *q = &rc->cmds[0];
    long long count = 0;
    if (q->argc == 4 && str_to_ll(q->argv[2], q->argvlen[2], &count)) s->count = count < 0 ? LLONG_MAX : count;
}

typedef struct got_entry {
    long long id;
    const char *p;
    size_t len;
} got_entry_t;

static int newest_first(const void *a, const void *b)
{
    long long x = ((const got_entry_t *)a)->id, y = ((const got_entry_t *)b)->id;
    return x < y ? 1 : x > y ? -1 : 0;
}

void slowlog_reply(struct reply_slot *s)
{
    const cmd_def_t *cmd = s->cmd;
    long long max = config_get_num(CONFIG_SLOWLOG_MAX_LEN);
    if (cmd && !strcmp(cmd->name, "reset")) {
        resp_add_simple(&s->buf, "OK");
        return;
    }
    if (cmd && !strcmp(cmd->name, "len")) {
        /* each worker keeps up to max-len: the node's log is the newest
         * max-len of them */
        resp_add_int(&s->buf, s->sum < max ? s->sum : max);
        return;
    }
    /* GET: the workers' entries by id, newest first; each part sent at
     * most count (s->count, from the merge), the newest of all are kept */
    size_t n = 0, cap = 16;
    got_entry_t *all = xmalloc(sizeof *all * cap);
    for (size_t off = 0; off + 16 <= s->acc.len;) {
        uint64_t hdr[2];
        memcpy(hdr, s->acc.data + off, sizeof hdr);
        if (n == cap) all = xrealloc(all, sizeof *all * (cap *= 2));
        all[n++] = (got_entry_t){ (long long)hdr[0], s->acc.data + off + 16, (size_t)hdr[1] };
        off += 16 + (size_t)hdr[1];
    }
    qsort(all, n, sizeof *all, newest_first);
    long long limit = s->count < max ? s->count : max;
    if ((long long)n < limit) limit = (long long)n;
    resp_add_array(&s->buf, limit);
    for (long long i = 0; i < limit; i++) resp_buf_append(&s->buf, all[i].p, all[i].len);
    free(all);
}

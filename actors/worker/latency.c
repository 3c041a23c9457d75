/* latency.c - see latency.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "actors/commands/args.h"
#include "actors/config/config.h"
#include "actors/worker/latency.h"
#include "runtime/xmalloc.h"

#define MAX_EVENTS 32

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static latency_series_t series[MAX_EVENTS];
static int nseries;

/* The directive's index in the config table, found once (-1: not yet). */
static _Atomic int threshold_index = -1;

long long latency_threshold_ms(void)
{
    int i = atomic_load_explicit(&threshold_index, memory_order_relaxed);
    if (i < 0) {
        i = config_find("latency-monitor-threshold");
        atomic_store_explicit(&threshold_index, i, memory_order_relaxed);   /* any thread finds the same */
    }
    return config_get_num_at(i);
}

static latency_series_t *find(const char *event)
{
    for (int i = 0; i < nseries; i++)
        if (!strcmp(series[i].name, event)) return &series[i];
    return NULL;
}

static void add_sample(const char *event, long long ms)
{
    long long now = (long long)time(NULL);
    pthread_mutex_lock(&lock);
    latency_series_t *ts = find(event);
    if (!ts && nseries < MAX_EVENTS) {
        ts = &series[nseries++];
        memset(ts, 0, sizeof *ts);
        strncpy(ts->name, event, sizeof ts->name - 1);
    }
    if (ts) {
        if (ms > ts->max_ms) ts->max_ms = ms;
        /* one sample per second: the worst of that second */
        latency_sample_t *prev = &ts->s[(ts->next + LATENCY_SAMPLES - 1) % LATENCY_SAMPLES];
        if (prev->time_s == now) {
            if (ms > prev->ms) prev->ms = ms;
        } else {
            ts->s[ts->next] = (latency_sample_t){ now, ms };
            ts->next = (ts->next + 1) % LATENCY_SAMPLES;
        }
    }
    pthread_mutex_unlock(&lock);
}

void latency_fork_lock(bool take)
{
    if (take) pthread_mutex_lock(&lock);
    else pthread_mutex_unlock(&lock);
}

void latency_note(const char *event, long long ms)
{
    long long t = latency_threshold_ms();
    if (t > 0 && ms >= t) add_sample(event, ms);
}

void cmd_latency_latest(cmd_ctx_t *ctx)
{
    pthread_mutex_lock(&lock);
    resp_add_array(ctx->reply, nseries);
    for (int i = 0; i < nseries; i++) {
        const latency_series_t *ts = &series[i];
        const latency_sample_t *last = &ts->s[(ts->next + LATENCY_SAMPLES - 1) % LATENCY_SAMPLES];
        resp_add_array(ctx->reply, 4);
        resp_add_bulk_str(ctx->reply, ts->name);
        resp_add_int(ctx->reply, last->time_s);
        resp_add_int(ctx->reply, last->ms);
        resp_add_int(ctx->reply, ts->max_ms);
    }
    pthread_mutex_unlock(&lock);
}

/* The event named by argument 2 (exact bytes, as 7.0.15's dict finds it). */
static latency_series_t *find_arg(cmd_ctx_t *ctx)
{
    char name[64];
    if (ctx->argvlen[2] >= sizeof name || memchr(ctx->argv[2], 0, ctx->argvlen[2])) return NULL;
    memcpy(name, ctx->argv[2], ctx->argvlen[2]);
    name[ctx->argvlen[2]] = '\0';
    return find(name);
}

void cmd_latency_history(cmd_ctx_t *ctx)
{
    pthread_mutex_lock(&lock);
    const latency_series_t *ts = find_arg(ctx);
    int n = 0;
    for (int j = 0; ts && j < LATENCY_SAMPLES; j++) n += ts->s[j].time_s != 0;
    resp_add_array(ctx->reply, n);
    for (int j = 0; ts && j < LATENCY_SAMPLES; j++) {
        const latency_sample_t *s = &ts->s[(ts->next + j) % LATENCY_SAMPLES];
        if (!s->time_s) continue;
        resp_add_array(ctx->reply, 2);
        resp_add_int(ctx->reply, s->time_s);
        resp_add_int(ctx->reply, s->ms);
    }
    pthread_mutex_unlock(&lock);
}

/* Drops the events named `name` (any case; NULL: all); returns how many. */
static long long reset_events(const uint8_t *name, size_t len)
{
    long long resets = 0;
    for (int i = 0; i < nseries;) {
        if (name && !(strlen(series[i].name) == len && !strncasecmp(series[i].name, (const char *)name, len))) {
            i++;
            continue;
        }
        series[i] = series[--nseries];
        resets++;
    }
    return resets;
}

void cmd_latency_reset(cmd_ctx_t *ctx)
{
    long long resets = 0;
    pthread_mutex_lock(&lock);
    if (ctx->argc == 2) resets = reset_events(NULL, 0);
    for (int j = 2; j < ctx->argc; j++) resets += reset_events(ctx->argv[j], ctx->argvlen[j]);
    pthread_mutex_unlock(&lock);
    resp_add_int(ctx->reply, resets);
}

static void reply_text(cmd_ctx_t *ctx, char *text, size_t len)
{
    resp_add_verbatim(ctx->reply, text ? text : "", len);
    free(text);
}

void cmd_latency_graph(cmd_ctx_t *ctx)
{
    char *text = NULL;
    size_t len = 0, cap = 0;
    pthread_mutex_lock(&lock);
    const latency_series_t *ts = find_arg(ctx);
    if (ts) latency_graph_text(ts, &text, &len, &cap);
    pthread_mutex_unlock(&lock);
    if (!ts) {
        resp_add_errorf(ctx->reply, "ERR No samples available for event '%.*s'", (int)ctx->argvlen[2],
                        (const char *)ctx->argv[2]);
        return;
    }
    reply_text(ctx, text, len);
}

void cmd_latency_doctor(cmd_ctx_t *ctx)
{
    char *text = NULL;
    size_t len = 0, cap = 0;
    pthread_mutex_lock(&lock);
    latency_doctor_text(series, nseries, &text, &len, &cap);
    pthread_mutex_unlock(&lock);
    reply_text(ctx, text, len);
}

void cmd_latency_help(cmd_ctx_t *ctx)
{
    static const char *const help[] = {
        "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        "HELP",
        "    Prints this help.",
    };
    arg_reply_help(ctx, help, sizeof help / sizeof help[0]);
}

/* latency_doctor.c - LATENCY DOCTOR's report and LATENCY GRAPH's drawing,
 * worded and drawn as 7.0.15 does (operators' scripts and eyes read them).
 *
 * Must never: read the event table itself (latency.c passes the series in,
 * under its lock).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "actors/config/config.h"
#include "actors/worker/latency.h"
#include "runtime/xmalloc.h"

typedef struct text {
    char **s;
    size_t *len, *cap;
} text_t;

static void add_bytes(text_t *t, const char *p, size_t n)
{
    if (*t->len + n + 1 > *t->cap) {
        size_t c = *t->cap ? *t->cap * 2 : 1024;
        while (c < *t->len + n + 1) c *= 2;
        *t->s = xrealloc(*t->s, c);
        *t->cap = c;
    }
    memcpy(*t->s + *t->len, p, n);
    *t->len += n;
    (*t->s)[*t->len] = '\0';
}

static void add(text_t *t, const char *str) { add_bytes(t, str, strlen(str)); }

static void addf(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(text_t *t, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0) add_bytes(t, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* ---- DOCTOR ---- */

/* The advice a report may end with, in the order it is given. */
enum {
    ADV_SLOWLOG_ENABLE, ADV_SLOWLOG_TUNE, ADV_SLOWLOG_INSPECT, ADV_SCHEDULER, ADV_LOCAL_DISK, ADV_SSD,
    ADV_WRITEBACK, ADV_DISK_CONTENTION, ADV_NO_APPENDFSYNC, ADV_RELAX_FSYNC, ADV_WRITE_LOAD, ADV_HZ,
    ADV_LARGE_OBJECTS, ADV_MASS_EVICTION, ADV_THP, ADV_COUNT
};

static const char *const advice_text[ADV_COUNT] = {
    [ADV_SLOWLOG_ENABLE] = NULL,    /* formatted with the threshold */
    [ADV_SLOWLOG_TUNE] = NULL,      /* the same */
    [ADV_SLOWLOG_INSPECT] = "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n",
    [ADV_SCHEDULER] = "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n"
                      "  1) Lower the system load.\n"
                      "  2) Use a computer / VM just for Redis if you are running other software in the same system.\n"
                      "  3) Check if you have a \"noisy neighbour\" problem.\n"
                      "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n"
                      "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n",
    [ADV_LOCAL_DISK] = "- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n",
    [ADV_SSD] = "- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n",
    [ADV_WRITEBACK] = "- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Redis restarts.\n",
    [ADV_DISK_CONTENTION] = "- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Redis instances).\n",
    [ADV_NO_APPENDFSYNC] = "- Assuming from the point of view of data safety this is viable in your environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be performed while there is a child rewriting the AOF file or producing an RDB file (the moment where there is high disk contention).\n",
    [ADV_RELAX_FSYNC] = "- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n",
    [ADV_WRITE_LOAD] = "- Latency during the AOF atomic rename operation or when the final difference is flushed to the AOF file at the end of the rewrite, sometimes is caused by very high write load, causing the AOF buffer to get very large. If possible try to send less commands to accomplish the same work, or use Lua scripts to group multiple operations into a single EVALSHA call.\n",
    [ADV_HZ] = "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n",
    [ADV_LARGE_OBJECTS] = "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n",
    [ADV_MASS_EVICTION] = "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n",
    [ADV_THP] = "- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n",
};

/* Which advice each event calls for, and how many pieces of advice it
 * counts (7.0.15 counts some twice: the count only decides whether any
 * advice is given at all). */
typedef struct event_advice {
    const char *event;
    int advice[4], n;
} event_advice_t;

static const event_advice_t by_event[] = {
    { "fast-command", { ADV_SCHEDULER }, 1 },
    { "aof-write-pending-fsync", { ADV_LOCAL_DISK, ADV_DISK_CONTENTION, ADV_SSD, ADV_WRITEBACK }, 4 },
    { "aof-write-active-child", { ADV_NO_APPENDFSYNC, ADV_WRITEBACK, ADV_SSD }, 3 },
    { "aof-write-alone", { ADV_LOCAL_DISK, ADV_WRITEBACK, ADV_SSD }, 3 },
    { "aof-fsync-always", { ADV_RELAX_FSYNC }, 1 },
    { "aof-fstat", { ADV_DISK_CONTENTION, ADV_LOCAL_DISK }, 2 },
    { "rdb-unlink-temp-file", { ADV_DISK_CONTENTION, ADV_LOCAL_DISK }, 2 },
    { "aof-rewrite-diff-write", { ADV_WRITE_LOAD, ADV_WRITEBACK, ADV_SSD, ADV_LOCAL_DISK }, 4 },
    { "aof-rename", { ADV_WRITE_LOAD, ADV_WRITEBACK, ADV_SSD, ADV_LOCAL_DISK }, 4 },
    { "expire-cycle", { ADV_HZ, ADV_LARGE_OBJECTS }, 2 },
    { "eviction-del", { ADV_LARGE_OBJECTS }, 1 },
    { "eviction-cycle", { ADV_MASS_EVICTION }, 1 },
};

/* Bytes of anonymous huge pages the process holds (0 when unknown). */
static long long anon_huge_pages(void)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return 0;
    char line[256];
    long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "AnonHugePages:", 14)) kb += strtoll(line + 14, NULL, 10);
    fclose(f);
    return kb * 1024;
}

static long long config_num(const char *name) { return config_get_num_at(config_find(name)); }

void latency_doctor_text(const latency_series_t *series, int n, char **out, size_t *len, size_t *cap)
{
    text_t t = { out, len, cap };
    long long threshold = latency_threshold_ms();
    if (n == 0 && threshold == 0) {
        add(&t, "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n");
        return;
    }
    bool want[ADV_COUNT] = { false };
    int advices = 0;
    long long now = (long long)time(NULL);
    for (int e = 0; e < n; e++) {
        const latency_series_t *ts = &series[e];
        if (e == 0) add(&t, "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        /* the samples' count, mean, mean absolute deviation and the time
         * from the oldest to now */
        long long count = 0, sum = 0, oldest = 0;
        for (int j = 0; j < LATENCY_SAMPLES; j++) {
            if (!ts->s[j].time_s) continue;
            count++;
            sum += ts->s[j].ms;
            if (!oldest || ts->s[j].time_s < oldest) oldest = ts->s[j].time_s;
        }
        long long avg = count ? sum / count : 0, period = 0, dev = 0;
        if (count) {
            period = now - oldest;
            if (period == 0) period = 1;
            for (int j = 0; j < LATENCY_SAMPLES; j++)
                if (ts->s[j].time_s) dev += llabs(avg - ts->s[j].ms);
            dev /= count;
        }
        addf(&t, "%d. %s: %d latency spikes (average %lums, mean deviation %lums, period %.2f sec). Worst all time event %lums.",
             e + 1, ts->name, (int)count, (unsigned long)avg, (unsigned long)dev, (double)period / (double)count,
             (unsigned long)ts->max_ms);
        if (!strcasecmp(ts->name, "command")) {
            long long slower = config_get_num(CONFIG_SLOWLOG_LOG_SLOWER_THAN);
            if (slower < 0) {
                want[ADV_SLOWLOG_ENABLE] = true;
                advices++;
            } else if (slower / 1000 > threshold) {
                want[ADV_SLOWLOG_TUNE] = true;
                advices++;
            }
            want[ADV_SLOWLOG_INSPECT] = want[ADV_LARGE_OBJECTS] = true;
            advices += 2;
        }
        for (size_t k = 0; k < sizeof by_event / sizeof by_event[0]; k++) {
            if (strcasecmp(ts->name, by_event[k].event)) continue;
            for (int a = 0; a < by_event[k].n; a++) want[by_event[k].advice[a]] = true;
            advices += by_event[k].n;
        }
        add(&t, "\n");
    }
    if (anon_huge_pages() > 0) {
        want[ADV_THP] = true;
        advices++;
    }
    if (n == 0 && advices == 0) {
        add(&t, "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
        return;
    }
    if (advices == 0) {
        add(&t, "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
        return;
    }
    add(&t, "\nI have a few advices for you:\n\n");
    /* some advice only holds under the configuration it is about */
    if (config_num("appendfsync") != 2) want[ADV_RELAX_FSYNC] = false;    /* 2: always */
    if (config_hz() >= 100) want[ADV_HZ] = false;
    for (int a = 0; a < ADV_COUNT; a++) {
        if (!want[a]) continue;
        if (a == ADV_SLOWLOG_ENABLE)
            addf(&t, "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than %llu'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n",
                 (unsigned long long)threshold * 1000);
        else if (a == ADV_SLOWLOG_TUNE)
            addf(&t, "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than %llu'.\n",
                 (unsigned long long)threshold * 1000);
        else
            add(&t, advice_text[a]);
    }
}

/* ---- GRAPH ---- */

#define GRAPH_COLS 80
#define GRAPH_ROWS 4

typedef struct point {
    double value;
    char label[16];
} point_t;

/* One band of at most GRAPH_COLS points: GRAPH_ROWS rows of bars filled
 * with "_o#" and '|', then the labels written downwards, one row each. */
static void draw_band(text_t *t, const point_t *p, int n, double min, double max)
{
    static const char fill[] = "_o#";
    const int levels = 3 * GRAPH_ROWS;
    double range = max - min;
    if (range == 0) range = 1;
    char row_chars[GRAPH_COLS];
    for (int row = 0;; row++) {
        bool any = false;
        memset(row_chars, ' ', sizeof row_chars);
        for (int j = 0; j < n; j++) {
            int step = (int)((double)(int)((p[j].value - min) * levels) / range);
            if (step < 0) step = 0;
            if (step >= levels) step = levels - 1;
            if (row < GRAPH_ROWS) {
                int idx = step - (GRAPH_ROWS - row - 1) * 3;
                any = true;
                if (idx >= 0 && idx < 3) row_chars[j] = fill[idx];
                else if (idx >= 3) row_chars[j] = '|';
            } else if (row == GRAPH_ROWS) {
                any = true;    /* the blank line above the labels */
                break;
            } else {
                int k = row - GRAPH_ROWS - 1;
                if ((int)strlen(p[j].label) > k) {
                    any = true;
                    row_chars[j] = p[j].label[k];
                }
            }
        }
        if (!any) break;
        add_bytes(t, row_chars, (size_t)n);
        add(t, "\n");
    }
}

void latency_graph_text(const latency_series_t *ts, char **out, size_t *len, size_t *cap)
{
    text_t t = { out, len, cap };
    point_t pts[LATENCY_SAMPLES];
    int n = 0;
    long long low = 0, high = 0, now = (long long)time(NULL);
    for (int j = 0; j < LATENCY_SAMPLES; j++) {
        const latency_sample_t *s = &ts->s[(ts->next + j) % LATENCY_SAMPLES];
        if (!s->time_s) continue;
        if (n == 0 || s->ms > high) high = s->ms;
        if (n == 0 || s->ms < low) low = s->ms;
        /* labelled with how long ago: seconds, minutes, hours or days */
        int ago = (int)(now - s->time_s);
        point_t *p = &pts[n++];
        p->value = (double)s->ms;
        if (ago < 60) snprintf(p->label, sizeof p->label, "%ds", ago);
        else if (ago < 3600) snprintf(p->label, sizeof p->label, "%dm", ago / 60);
        else if (ago < 86400) snprintf(p->label, sizeof p->label, "%dh", ago / 3600);
        else snprintf(p->label, sizeof p->label, "%dd", ago / 86400);
    }
    addf(&t, "%s - high %lu ms, low %lu ms (all time high %lu ms)\n", ts->name, (unsigned long)high, (unsigned long)low,
         (unsigned long)ts->max_ms);
    for (int j = 0; j < GRAPH_COLS; j++) add(&t, "-");
    add(&t, "\n");
    for (int j = 0; j < n; j += GRAPH_COLS) {
        if (j) add(&t, "\n");
        draw_band(&t, pts + j, n - j < GRAPH_COLS ? n - j : GRAPH_COLS, (double)low, (double)high);
    }
}

/* cli_timing.c - where `redis-cli --cluster reshard` waits, seen from redis-cli.
 *
 * An LD_PRELOAD library for redis-cli (build/bench/cli_timing.so): it wraps
 * send/recv and write/read and times each command from its send to the first
 * bytes of its reply, by kind (the reshard's SETSLOT IMPORTING, MIGRATING,
 * GETKEYSINSLOT, MIGRATE, the three SETSLOT NODEs of a slot in redis-cli's
 * order: target, source, other masters; PING; the rest), and the time redis-cli
 * spends between a reply and its next command. At exit it appends count, mean,
 * median, p90, p99 and total per kind to $CLI_TIMING_OUT (stderr if unset):
 *
 *   LD_PRELOAD=build/bench/cli_timing.so CLI_TIMING_OUT=/tmp/t.txt \
 *       redis-cli --cluster reshard ...
 *
 * With CLI_TIMING_LOG=file it also writes one line per command, "kind
 * sent_us replied_us" (kind: the index in kind_names; CLOCK_MONOTONIC
 * microseconds, the clock a node's own timestamps can be matched with), to
 * line each command up with what the nodes did meanwhile.
 *
 * redis-cli sends one command and waits for its reply, so each send is matched
 * with the next read that returns bytes. Must never change what redis-cli sends
 * or reads (it only forwards to the real functions), nor print to stdout.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

enum { K_IMPORTING, K_MIGRATING, K_GETKEYS, K_MIGRATE, K_NODE_TARGET, K_NODE_SOURCE, K_NODE_OTHER, K_PING,
       K_OTHER, K_COUNT };
static const char *const kind_names[K_COUNT] = { "SETSLOT IMPORTING", "SETSLOT MIGRATING", "GETKEYSINSLOT",
                                                 "MIGRATE", "SETSLOT NODE target", "SETSLOT NODE source",
                                                 "SETSLOT NODE other", "PING", "other" };

typedef struct series {
    double *us;
    size_t n, cap;
    double gap_us;                /* redis-cli's time from the last reply to this send */
} series_t;

static series_t series[K_COUNT];
static int in_flight = -1;        /* kind of the command waiting for its reply */
static double sent_at, last_reply_at;
static int nodes_in_slot;         /* SETSLOT NODEs since the slot's IMPORTING */

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int has(const char *hay, size_t n, const char *word)
{
    return memmem(hay, n, word, strlen(word)) != NULL;
}

/* The kind of the RESP command in buf, or -1 when it is not one. */
static int kind_of(const void *buf, size_t len)
{
    const char *b = buf;
    if (len < 4 || b[0] != '*') return -1;
    char up[256];
    size_t n = len < sizeof up ? len : sizeof up;
    for (size_t i = 0; i < n; i++) up[i] = (b[i] >= 'a' && b[i] <= 'z') ? (char)(b[i] - 32) : b[i];
    if (has(up, n, "GETKEYSINSLOT")) return K_GETKEYS;
    if (has(up, n, "SETSLOT")) {
        if (has(up, n, "IMPORTING")) {
            nodes_in_slot = 0;
            return K_IMPORTING;
        }
        if (has(up, n, "MIGRATING")) return K_MIGRATING;
        if (has(up, n, "NODE")) {
            int k = nodes_in_slot++;
            return k == 0 ? K_NODE_TARGET : k == 1 ? K_NODE_SOURCE : K_NODE_OTHER;
        }
        return K_OTHER;
    }
    if (has(up, n < 32 ? n : 32, "MIGRATE")) return K_MIGRATE;
    if (has(up, n < 32 ? n : 32, "PING")) return K_PING;
    return K_OTHER;
}

static void note_send(const void *buf, size_t len)
{
    int k = kind_of(buf, len);
    if (k < 0) return;
    double t = now_us();
    if (last_reply_at > 0) series[k].gap_us += t - last_reply_at;
    in_flight = k;
    sent_at = t;
}

static FILE *log_file;            /* CLI_TIMING_LOG, opened at the first reply */
static int log_opened;

static void log_command(int kind, double sent, double replied)
{
    if (!log_opened) {
        log_opened = 1;
        const char *path = getenv("CLI_TIMING_LOG");
        if (path) log_file = fopen(path, "w");
    }
    if (log_file) fprintf(log_file, "%d %.3f %.3f\n", kind, sent, replied);
}

static void note_reply(void)
{
    if (in_flight < 0) return;
    double t = now_us();
    series_t *s = &series[in_flight];
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        double *us = realloc(s->us, cap * sizeof *us);
        if (!us) return;
        s->us = us;
        s->cap = cap;
    }
    s->us[s->n++] = t - sent_at;
    log_command(in_flight, sent_at, t);
    in_flight = -1;
    last_reply_at = t;
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    static ssize_t (*real)(int, const void *, size_t, int);
    if (!real) real = (ssize_t (*)(int, const void *, size_t, int))dlsym(RTLD_NEXT, "send");
    note_send(buf, len);
    return real(fd, buf, len, flags);
}

ssize_t write(int fd, const void *buf, size_t len)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real) real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    if (fd > 2) note_send(buf, len);
    return real(fd, buf, len);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    static ssize_t (*real)(int, void *, size_t, int);
    if (!real) real = (ssize_t (*)(int, void *, size_t, int))dlsym(RTLD_NEXT, "recv");
    ssize_t r = real(fd, buf, len, flags);
    if (r > 0) note_reply();
    return r;
}

ssize_t read(int fd, void *buf, size_t len)
{
    static ssize_t (*real)(int, void *, size_t);
    if (!real) real = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    ssize_t r = real(fd, buf, len);
    if (r > 0 && fd > 2) note_reply();
    return r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

__attribute__((destructor)) static void report(void)
{
    const char *path = getenv("CLI_TIMING_OUT");
    FILE *f = path ? fopen(path, "a") : stderr;
    if (!f) return;
    double all = 0;
    for (int k = 0; k < K_COUNT; k++) {
        series_t *s = &series[k];
        if (!s->n) continue;
        qsort(s->us, s->n, sizeof *s->us, cmp_double);
        double total = 0;
        for (size_t i = 0; i < s->n; i++) total += s->us[i];
        all += total;
        fprintf(f, "%-20s n=%8zu mean %7.1f us  p50 %7.1f  p90 %7.1f  p99 %8.1f  total %7.3f s  gap before %6.1f us\n",
                kind_names[k], s->n, total / s->n, s->us[s->n / 2], s->us[s->n * 9 / 10], s->us[s->n * 99 / 100],
                total / 1e6, s->gap_us / s->n);
    }
    fprintf(f, "round trips total %.3f s\n", all / 1e6);
    if (f != stderr) fclose(f);
    if (log_file) fclose(log_file);
}

/* bench_common.c - see bench_common.h. */
#include "bench/bench_common.h"
#include "proto/bus_light.h"
#include "proto/bus_wire.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void bench_die(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", bench_prog, what, strerror(errno));
    exit(2);
}

double bench_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

uint64_t bench_rng_next(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 2685821657736338717ULL;
}

void bench_random_name(char out[BUS_NAME_LEN + 1], uint64_t *state)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < BUS_NAME_LEN; i++) out[i] = hex[bench_rng_next(state) & 15];
    out[BUS_NAME_LEN] = '\0';
}

int bench_connect(const char *ipv4, int port, const char *what)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, ipv4, &sa.sin_addr) != 1) {
        fprintf(stderr, "%s: bad IPv4 address %s\n", bench_prog, ipv4);
        exit(2);
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) bench_die("socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) bench_die(what);
    return fd;
}

int bench_listen_loopback(int backlog, uint16_t *port)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) bench_die("socket");
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) bench_die("bind");
    if (listen(fd, backlog) < 0) bench_die("listen");
    if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) bench_die("getsockname");
    *port = ntohs(sa.sin_port);
    return fd;
}

/* How many leading bytes of the current frame the skimmer needs before it
 * can report it. */
static size_t peek_need(const struct bench_skim *s)
{
    if (s->peek_have < 8) return 8;
    /* a light frame up to the end of its copy of the view bytes (§9.7) */
    if (memcmp(s->peek, BUS_LIGHT_SIG, 4) == 0) return s->want_adv ? BENCH_LIGHT_PEEK : 30;
    return s->want_adv ? BENCH_PEEK_MAX : BENCH_PEEK_LEN;
}

int bench_skim(struct bench_skim *s, const uint8_t *p, size_t n, bench_frame_fn on_frame,
               void *arg)
{
    while (n > 0) {
        if (s->frame_left > 0) {
            size_t take = n < s->frame_left ? n : (size_t)s->frame_left;
            s->frame_left -= take;
            p += take;
            n -= take;
            continue;
        }
        size_t need = peek_need(s);
        if (s->peek_have < need) {
            size_t take = need - s->peek_have;
            if (take > n) take = n;
            memcpy(s->peek + s->peek_have, p, take);
            s->peek_have += take;
            p += take;
            n -= take;
            if (s->peek_have < need || peek_need(s) > s->peek_have) continue;
        }
        uint32_t totlen = 0;
        unsigned type = 0;
        bus_peek_totlen(s->peek, s->peek_have, &totlen);
        s->light = memcmp(s->peek, BUS_LIGHT_SIG, 4) == 0;
        if (s->light) {
            if (totlen < BUS_LIGHT_HDR_LEN) return BENCH_SKIM_BAD;
            type = bus_light_type(s->peek);
            s->adv = true;   /* it carries its sender's header, advertisement included */
            s->view = s->want_adv ? bw_get64(s->peek + BENCH_LIGHT_PEEK - 16) : 0;
        } else {
            bus_peek_type(s->peek, s->peek_have, &type);
            if (memcmp(s->peek, BUS_SIG, 4) != 0 || totlen < BUS_HEADER_LEN) return BENCH_SKIM_BAD;
            s->adv = s->want_adv && memcmp(s->peek + BUS_LIGHT_ADV_OFF, "shoa\0\1", 6) == 0;
            s->view = s->adv ? bus_light_get_view(s->peek, BUS_HEADER_LEN) : 0;
        }
        s->frame_left = totlen - s->peek_have;
        s->peek_have = 0;
        if (!on_frame(arg, type)) return BENCH_SKIM_STOPPED;
    }
    return BENCH_SKIM_DONE;
}

void bench_thread_cpu_sample(long pid, struct bench_thread_cpu *out)
{
    memset(out, 0, sizeof *out);
    char path[96];
    snprintf(path, sizeof path, "/proc/%ld/task", pid);
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char comm[32] = "", sched[128] = "";
        snprintf(path, sizeof path, "/proc/%ld/task/%.20s/comm", pid, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;                  /* the thread exited meanwhile */
        if (!fgets(comm, sizeof comm, f)) comm[0] = '\0';
        fclose(f);
        snprintf(path, sizeof path, "/proc/%ld/task/%.20s/schedstat", pid, e->d_name);
        f = fopen(path, "r");
        if (!f) continue;
        unsigned long long ns = 0;
        if (!fgets(sched, sizeof sched, f) || sscanf(sched, "%llu", &ns) != 1) ns = 0;
        fclose(f);
        out->total_ns += ns;
        /* one word per name in our key=value output */
        comm[strcspn(comm, "\n")] = '\0';
        for (char *c = comm; *c; c++)
            if (strchr(" ,:=", *c)) *c = '_';
        unsigned i = 0;
        while (i < out->n && strcmp(out->name[i], comm) != 0) i++;
        if (i == out->n) {
            if (out->n == BENCH_MAX_THREAD_NAMES) continue;
            snprintf(out->name[i], sizeof out->name[i], "%s", comm);
            out->n++;
        }
        out->ns[i] += ns;
    }
    closedir(d);
}

void bench_thread_cpu_print(const struct bench_thread_cpu *a, const struct bench_thread_cpu *b)
{
    printf(" thread_cpu=");
    for (unsigned i = 0; i < b->n; i++) {
        unsigned long long before = 0;
        for (unsigned j = 0; j < a->n; j++)
            if (strcmp(a->name[j], b->name[i]) == 0) before = a->ns[j];
        unsigned long long d = b->ns[i] > before ? b->ns[i] - before : 0;
        printf("%s%s:%.4f", i ? "," : "", b->name[i], d / 1e9);
    }
}

long bench_rss_kib(long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kib) == 1) break;
    fclose(f);
    return kib;
}

/* pubsub_reader: the subscriber side of the pub/sub fan-out bench (bench/pubsub_bench.py).
 *
 * Why C: on a 2-core machine the subscribers share the cores with the server under test.
 * Python readers spent more CPU per delivered message than the server did, so the bench
 * measured the readers. This one subscribes N connections, then drains them with epoll
 * into one large buffer and only counts bytes: every message of the bench has the same
 * size, so the byte count says how many were delivered.
 *
 * usage: pubsub_reader PORT N EXPECT_MSGS MSG_LEN SUBSCRIBE|SSUBSCRIBE CHANNEL
 * prints "ready" once every subscription is confirmed, then, when each connection has
 * EXPECT_MSGS * MSG_LEN bytes (or 60 s have passed), "TOTAL_BYTES FIRST_NS LAST_NS CPU_NS" with
 * CLOCK_MONOTONIC times (Python's time.monotonic_ns() reads the same clock) and the CPU time
 * this process spent from "ready" to the end (CLOCK_PROCESS_CPUTIME_ID): the bench shows what
 * the readers cost, on the cores they share with the server. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads exactly n bytes (the subscription confirmation) on a blocking socket. */
static int read_exact(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s PORT N EXPECT_MSGS MSG_LEN SUBSCRIBE|SSUBSCRIBE CHANNEL\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]), n = atoi(argv[2]);
    long long want = atoll(argv[3]) * atoll(argv[4]);
    const char *verb = argv[5], *chan = argv[6];
    if (n <= 0) return 2;
    char cmd[512], confirm[512];
    int cmdlen = snprintf(cmd, sizeof cmd, "*2\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n", strlen(verb), verb, strlen(chan), chan);
    /* the confirmation: [subscribe|ssubscribe, channel, 1] with the verb in lower case */
    char lower[32];
    size_t vl = strlen(verb);
    if (vl >= sizeof lower || cmdlen <= 0 || (size_t)cmdlen >= sizeof cmd) return 2;
    for (size_t i = 0; i <= vl; i++) lower[i] = (char)(verb[i] >= 'A' && verb[i] <= 'Z' ? verb[i] + 32 : verb[i]);
    int conflen = snprintf(confirm, sizeof confirm, "*3\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n:1\r\n", vl, lower, strlen(chan), chan);
    int *fds = calloc((size_t)n, sizeof *fds);
    long long *left = calloc((size_t)n, sizeof *left);
    if (!fds || !left) return 1;
    for (int i = 0; i < n; i++) {
        fds[i] = connect_port(port);
        if (fds[i] < 0 || write_all(fds[i], cmd, (size_t)cmdlen) != 0) {
            perror("subscribe");
            return 1;
        }
    }
    char got[512];
    for (int i = 0; i < n; i++) {
        if (read_exact(fds[i], got, (size_t)conflen) != 0 || memcmp(got, confirm, (size_t)conflen) != 0) {
            fprintf(stderr, "connection %d: unexpected subscription reply\n", i);
            return 1;
        }
    }
    int ep = epoll_create1(0);
    for (int i = 0; i < n; i++) {
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) != 0) return 1;
        left[i] = want;
    }
    printf("ready\n");
    fflush(stdout);
    long long cpu0 = cpu_ns();
    static char buf[1 << 20];
    long long total = 0, first = 0, last = 0, deadline = now_ns() + 60000000000LL;
    int open = n;
    struct epoll_event evs[256];
    while (open > 0 && now_ns() < deadline) {
        int k = epoll_wait(ep, evs, 256, 1000);
        for (int e = 0; e < k; e++) {
            int i = (int)evs[e].data.u32;
            ssize_t r = read(fds[i], buf, sizeof buf);
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            long long t = now_ns();
            if (r <= 0) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
                open--;
                continue;
            }
            if (!first) first = t;
            last = t;
            total += r;
            if (left[i] > 0 && (left[i] -= r) <= 0) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
                open--;
            }
        }
    }
    printf("%lld %lld %lld %lld\n", total, first, last, cpu_ns() - cpu0);
    fflush(stdout);
    for (int i = 0; i < n; i++) close(fds[i]);
    return 0;
}

/* bench_common.h - what the bench's C programs (gossip_flood, cluster_sim)
 * share: dying on a system error, a monotonic clock, xorshift64* draws and
 * random node names, loopback sockets, a skimmer that counts bus frames in a
 * byte stream without keeping them, and /proc readers for the process under
 * test (per-thread run time by thread name, RSS).
 *
 * What it must never do: open anything but loopback sockets and the /proc
 * files of the pid it is given. Each program defines bench_prog, the name
 * that prefixes its error messages. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/bus.h"
#include "proto/bus_light.h"

extern const char bench_prog[];

/* Prints "<prog>: what: strerror(errno)" and exits with status 2. */
_Noreturn void bench_die(const char *what);

/* CLOCK_MONOTONIC in seconds. */
double bench_mono_s(void);

/* xorshift64*: cheap uniform draws from the stream *state (never 0). */
uint64_t bench_rng_next(uint64_t *state);
/* A random valid node name: 40 lowercase hex digits and a NUL, drawn from *state. */
void bench_random_name(char out[BUS_NAME_LEN + 1], uint64_t *state);

/* A blocking TCP connection to ipv4:port; dies with `what` if it cannot connect. */
int bench_connect(const char *ipv4, int port, const char *what);
/* A non-blocking listener on 127.0.0.1 at a port the kernel picks (stored in *port). */
int bench_listen_loopback(int backlog, uint16_t *port);

/* ---- skimming bus frames from a stream ----
 * Each frame is reported (by type) as soon as its first BENCH_PEEK_LEN bytes
 * (signature, totlen, version, port, type) are in; the rest is skipped as it
 * arrives. The caller keeps one struct bench_skim per stream, zeroed. */
#define BENCH_PEEK_LEN 14
/* With want_adv, the first 2246 bytes of a plain frame are peeked so that its
 * light advertisement (docs/cluster-bus.md §9.2) can be seen; light frames
 * (signature RCml, §9.3) are peeked up to their type, at offset 28. */
#define BENCH_PEEK_MAX 2246
/* light frames: up to the end of the advertisement in their header copy */
#define BENCH_LIGHT_PEEK (96 + BUS_LIGHT_ADV_OFF + 8 - 2128)
struct bench_skim {
    uint8_t peek[BENCH_PEEK_MAX];
    size_t peek_have;
    uint64_t frame_left;     /* bytes of the current frame after the peeked part */
    bool want_adv;           /* set by the caller: look for the advertisement */
    bool light, adv;         /* of the frame just reported: a light frame; an advertising plain one */
    uint64_t view;           /* its view digest (docs/cluster-bus.md §9.7), 0: none */
};
/* Called per frame; returning false stops the skim (e.g. the link was closed). */
typedef bool (*bench_frame_fn)(void *arg, unsigned type);
enum { BENCH_SKIM_DONE = 0, BENCH_SKIM_STOPPED = 1, BENCH_SKIM_BAD = -1 };
/* Consumes p[0..n). Returns BENCH_SKIM_DONE when all of it was taken,
 * BENCH_SKIM_STOPPED when on_frame returned false, BENCH_SKIM_BAD on a frame
 * with a bad signature or a totlen below a header (the stream is lost). */
int bench_skim(struct bench_skim *s, const uint8_t *p, size_t n, bench_frame_fn on_frame,
               void *arg);

/* ---- the process under test ----
 * Run time of each of its threads, summed by thread name (the state actor's
 * thread is "state", the link/worker threads "worker-N"), from
 * /proc/<pid>/task/<tid>/schedstat: nanoseconds on the CPU (utime+stime count
 * 10 ms ticks, too coarse for a thread busy a few ms per second). */
#define BENCH_MAX_THREAD_NAMES 64
struct bench_thread_cpu {
    unsigned n;
    char name[BENCH_MAX_THREAD_NAMES][20];
    unsigned long long ns[BENCH_MAX_THREAD_NAMES];
    unsigned long long total_ns;     /* all threads, named or not */
};
void bench_thread_cpu_sample(long pid, struct bench_thread_cpu *out);
/* Prints " thread_cpu=name:seconds,..." for the window between samples a and b. */
void bench_thread_cpu_print(const struct bench_thread_cpu *a, const struct bench_thread_cpu *b);
/* VmRSS in KiB, -1 if it cannot be read. */
long bench_rss_kib(long pid);

#endif

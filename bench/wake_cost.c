/* wake_cost.c - what one thread waking another costs on this machine.
 *
 * Two threads pass one byte back and forth over a socketpair, N round trips,
 * first both pinned to one CPU, then pinned to two different CPUs, and print
 * the mean round trip of each. Every hop of a classic reshard (redis-cli to
 * the source, the source to the target and back) is such a wake-up, so this
 * is the unit the reshard section's wall time is made of (bench/README.md,
 * reshard): where waking a thread on another CPU costs ten times as much as on
 * the same one, a serial chain of hops is fastest kept on one CPU, and so is
 * any server that splits a command over threads.
 *
 *   build/bench/wake_cost [round_trips] [cpu_a cpu_b]
 *
 * By hand, not in `make bench`. Must never run without its pins (a figure
 * for "another CPU" that the scheduler quietly put on the same one would be
 * wrong): a failed pin stops it with a message.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    int cpu;
    long round_trips;
} echo_arg_t;

static int pin_to(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    if (rc != 0) fprintf(stderr, "wake_cost: cannot pin to CPU %d: %s\n", cpu, strerror(rc));
    return rc;
}

static void *echo_main(void *p)
{
    echo_arg_t *a = p;
    if (pin_to(a->cpu) != 0) exit(2);
    char byte;
    for (long i = 0; i < a->round_trips; i++)
        if (read(a->fd, &byte, 1) != 1 || write(a->fd, &byte, 1) != 1) break;
    return NULL;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Mean round trip in microseconds between a thread on cpu_a and one on cpu_b, or -1. */
static double measure(int cpu_a, int cpu_b, long round_trips)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return -1;
    echo_arg_t arg = { .fd = sv[1], .cpu = cpu_b, .round_trips = round_trips };
    pthread_t echo;
    if (pthread_create(&echo, NULL, echo_main, &arg) != 0) return -1;
    if (pin_to(cpu_a) != 0) exit(2);
    char byte = 'x';
    double t0 = now_us();
    long done = 0;
    for (; done < round_trips; done++)
        if (write(sv[0], &byte, 1) != 1 || read(sv[0], &byte, 1) != 1) break;
    double took = now_us() - t0;
    pthread_join(echo, NULL);
    close(sv[0]);
    close(sv[1]);
    return done == round_trips ? took / (double)round_trips : -1;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000;
    int cpu_a = argc > 3 ? atoi(argv[2]) : 0, cpu_b = argc > 3 ? atoi(argv[3]) : 1;
    if (n <= 0) {
        fprintf(stderr, "usage: wake_cost [round_trips] [cpu_a cpu_b]\n");
        return 1;
    }
    double same = measure(cpu_a, cpu_a, n), cross = measure(cpu_a, cpu_b, n);
    if (same < 0 || cross < 0) {
        fprintf(stderr, "wake_cost: a round trip failed\n");
        return 1;
    }
    printf("round trip, both threads on CPU %d: %.1f us\n", cpu_a, same);
    printf("round trip, CPU %d <-> CPU %d: %.1f us (%.1fx)\n", cpu_a, cpu_b, cross, cross / same);
    return 0;
}

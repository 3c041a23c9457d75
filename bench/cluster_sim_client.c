/* cluster_sim_client.c - cluster_sim's connection to the node's client port:
 * the setup commands (CLUSTER MYID, SET-CONFIG-EPOCH, ADDSLOTSRANGE) and the
 * polls of CLUSTER INFO and CLUSTER NODES. See cluster_sim_client.h.
 *
 * What it must never do: connect anywhere but 127.0.0.1 at the port it is given. */
#include "bench/cluster_sim_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "bench/bench_common.h"

static int client_fd = -1;     /* one connection, opened by client_connect() */

char client_call(const char *const *argv, int argc, char **out, size_t *out_len)
{
    char req[512];
    size_t n = (size_t)snprintf(req, sizeof req, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++)
        n += (size_t)snprintf(req + n, sizeof req - n, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    if (send(client_fd, req, n, MSG_NOSIGNAL) != (ssize_t)n) bench_die("send to the client port");
    static char *buf;
    static size_t cap;
    size_t have = 0;
    long need = -1;          /* total bytes of the reply once known */
    for (;;) {
        if (cap - have < 65536) {
            cap = cap ? cap * 2 : 1 << 20;
            buf = realloc(buf, cap);
            if (!buf) bench_die("realloc");
        }
        ssize_t r = recv(client_fd, buf + have, cap - have - 1, 0);
        if (r <= 0) bench_die("read from the client port");
        have += (size_t)r;
        buf[have] = '\0';
        char *eol = strstr(buf, "\r\n");
        if (!eol) continue;
        if (buf[0] != '$') {
            *eol = '\0';
            *out = buf + 1;
            *out_len = (size_t)(eol - buf - 1);
            return buf[0];
        }
        long blen = atol(buf + 1);
        if (blen < 0) {
            *out = buf + have;
            *out_len = 0;
            return '$';
        }
        need = (eol - buf) + 2 + blen + 2;
        if ((long)have >= need) {
            *out = eol + 2;
            *out_len = (size_t)blen;
            (*out)[blen] = '\0';
            return '$';
        }
    }
}

void client_connect(int port)
{
    client_fd = bench_connect("127.0.0.1", port, "connect to the client port");
    struct timeval tv = {10, 0};
    setsockopt(client_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

void client_expect_ok(const char *const *argv, int argc)
{
    char *r;
    size_t len;
    if (client_call(argv, argc, &r, &len) != '+') {
        fprintf(stderr, "%s: %s %s: %s\n", bench_prog, argv[0], argv[1], r);
        exit(1);
    }
}

bool node_converged(unsigned n_nodes)
{
    char *r;
    size_t len;
    const char *argv[] = {"CLUSTER", "INFO"};
    if (client_call(argv, 2, &r, &len) != '$') return false;
    char want[64];
    snprintf(want, sizeof want, "cluster_known_nodes:%u\r", n_nodes);
    return strstr(r, "cluster_state:ok") && strstr(r, want);
}

void node_flags(const char *name, char *flags, size_t cap)
{
    char *r;
    size_t len;
    const char *argv[] = {"CLUSTER", "NODES"};
    flags[0] = '\0';
    if (client_call(argv, 2, &r, &len) != '$') return;
    char *line = r;
    while ((line = strstr(line, name)) != NULL && line != r && line[-1] != '\n') line++;
    if (!line) return;
    /* name addr flags ... */
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    char *sp3 = sp2 ? strchr(sp2 + 1, ' ') : NULL;
    if (!sp3) return;
    size_t n = (size_t)(sp3 - sp2 - 1);
    if (n >= cap) n = cap - 1;
    memcpy(flags, sp2 + 1, n);
    flags[n] = '\0';
}

/* tls_handshaker: the client of bench/tls_bench.py's new-TLS-connections figures.
 *
 * Why C: a TLS 1.3 handshake with client certificates costs the client about as much CPU as
 * the server (ECDHE, a signature, certificate checks), and Python's ssl module adds its own
 * overhead on top; on a 2-core machine the Python clients took most of a core and the figure
 * measured them. This one keeps many handshakes in flight per process with non-blocking
 * sockets on epoll and spends CPU only on OpenSSL and the syscalls.
 *
 * Each connection: connect (non-blocking), TLS handshake (full, or resumed with -r), send
 * PING, read +PONG, close (no close_notify, as a client that just drops the socket). With -r
 * each process resumes the session of its latest connection (TLS 1.3 tickets arrive before
 * the reply, so the session taken after +PONG carries one).
 *
 * usage: tls_handshaker -p PORT -k PKI_DIR [-h IPV4] [-c IN_FLIGHT] [-j PROCS] [-t SECONDS] [-r]
 *   PKI_DIR holds ca.crt, client.crt, client.key (tests/integration/tlshelpers.py makes them)
 *   -c  connections in flight per process (default 4)    -j  processes (default 1)
 *   -t  seconds to run (default 3)                       -r  resume sessions
 * prints one line: "conns=N resumed=R failed=F seconds=S client_cpu=C" (C: user+system
 * seconds of all the client processes).
 *
 * Must never: connect anywhere but the given address (loopback in the bench). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

enum { MAX_IN_FLIGHT = 256, MAX_PROCS = 64 };
enum phase { HANDSHAKE, SEND, RECV };

struct conn {
    int fd;
    SSL *ssl;
    enum phase phase;
    unsigned events;         /* what epoll watches for it now */
    size_t got;              /* reply bytes read so far */
    char reply[8];           /* their start */
};

struct tally {
    long long conns, resumed, failed;
};

static struct {
    const char *host, *pki;
    int port, in_flight, procs;
    double seconds;
    bool resume;
} opt = { .host = "127.0.0.1", .in_flight = 4, .procs = 1, .seconds = 3.0 };

static SSL_CTX *ctx;
static SSL_SESSION *session;  /* -r: the latest resumable session */
static int ep;
static struct sockaddr_in addr;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "tls_handshaker: %s: %s\n", what, errno ? strerror(errno) : "failed");
    ERR_print_errors_fp(stderr);
    exit(2);
}

static void setup_ctx(void)
{
    char ca[4096], crt[4096], key[4096];
    snprintf(ca, sizeof ca, "%s/ca.crt", opt.pki);
    snprintf(crt, sizeof crt, "%s/client.crt", opt.pki);
    snprintf(key, sizeof key, "%s/client.key", opt.pki);
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx || SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, crt) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        die("TLS context");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    /* sessions are kept by hand (SSL_get1_session), not in a client cache */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
}

static void watch(struct conn *c, unsigned events, int op)
{
    struct epoll_event ev = { .events = events, .data.ptr = c };
    if (epoll_ctl(ep, op, c->fd, &ev) != 0) die("epoll_ctl");
    c->events = events;
}

static void start(struct conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) die("socket");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0 && errno != EINPROGRESS) die("connect");
    c->ssl = SSL_new(ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) die("SSL_new");
    SSL_set_connect_state(c->ssl);
    if (opt.resume && session) SSL_set_session(c->ssl, session);
    c->phase = HANDSHAKE;
    c->got = 0;
    watch(c, EPOLLOUT, EPOLL_CTL_ADD);     /* the connect completing */
}

static void finish(struct conn *c, struct tally *t, bool ok)
{
    if (ok) {
        t->conns++;
        if (SSL_session_reused(c->ssl)) t->resumed++;
        if (opt.resume) {
            SSL_SESSION *s = SSL_get1_session(c->ssl);
            if (s && SSL_SESSION_is_resumable(s)) {
                SSL_SESSION_free(session);
                session = s;
            } else {
                SSL_SESSION_free(s);
            }
        }
    } else {
        t->failed++;
        ERR_clear_error();
    }
    /* Closing without close_notify must not cost the session: OpenSSL marks the session of
     * a connection freed before its shutdown as not resumable, unless told the shutdown is
     * done (CPython's ssl module copies the session to the same end). */
    if (ok) SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(c->ssl);
    close(c->fd);                          /* also takes it out of the epoll set */
    c->ssl = NULL;
}

/* Runs c as far as it goes without blocking. Returns true when the connection is over. */
static bool step(struct conn *c, struct tally *t)
{
    static const char ping[] = "*1\r\n$4\r\nPING\r\n";
    for (;;) {
        int r = 0;
        switch (c->phase) {
        case HANDSHAKE:
            r = SSL_do_handshake(c->ssl);
            if (r == 1) { c->phase = SEND; continue; }
            break;
        case SEND:
            r = SSL_write(c->ssl, ping, (int)sizeof ping - 1);
            if (r > 0) { c->phase = RECV; continue; }
            break;
        case RECV: {
            char buf[256];
            r = SSL_read(c->ssl, buf, sizeof buf);
            if (r > 0) {
                size_t keep = c->got < 7 ? 7 - c->got : 0;
                if (keep > (size_t)r) keep = (size_t)r;
                memcpy(c->reply + c->got, buf, keep);
                c->got += (size_t)r;
                if (c->got >= 7) {
                    finish(c, t, memcmp(c->reply, "+PONG\r\n", 7) == 0);
                    return true;
                }
                continue;
            }
            break;
        }
        }
        int e = SSL_get_error(c->ssl, r);
        unsigned want = e == SSL_ERROR_WANT_READ ? EPOLLIN : e == SSL_ERROR_WANT_WRITE ? EPOLLOUT : 0;
        if (!want) {
            finish(c, t, false);
            return true;
        }
        if (want != c->events) watch(c, want, EPOLL_CTL_MOD);
        return false;
    }
}

static struct tally run_one(void)
{
    struct tally t = { 0 };
    ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    struct conn *conns = calloc((size_t)opt.in_flight, sizeof *conns);
    if (!conns) die("calloc");
    double end = mono_s() + opt.seconds;
    for (int i = 0; i < opt.in_flight; i++) start(&conns[i]);
    int live = opt.in_flight;
    struct epoll_event evs[MAX_IN_FLIGHT];
    while (live > 0) {
        int n = epoll_wait(ep, evs, MAX_IN_FLIGHT, 1000);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        bool more = mono_s() < end;
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!step(c, &t)) continue;
            if (more) start(c);
            else live--;
        }
        if (n == 0 && !more) break;       /* a connection the server never answered */
    }
    return t;
}

static void usage(void)
{
    fprintf(stderr, "usage: tls_handshaker -p PORT -k PKI_DIR [-h IPV4] [-c IN_FLIGHT] [-j PROCS] "
                    "[-t SECONDS] [-r]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int ch;
    while ((ch = getopt(argc, argv, "h:p:k:c:j:t:r")) != -1) {
        switch (ch) {
        case 'h': opt.host = optarg; break;
        case 'p': opt.port = atoi(optarg); break;
        case 'k': opt.pki = optarg; break;
        case 'c': opt.in_flight = atoi(optarg); break;
        case 'j': opt.procs = atoi(optarg); break;
        case 't': opt.seconds = atof(optarg); break;
        case 'r': opt.resume = true; break;
        default: usage();
        }
    }
    if (opt.port <= 0 || !opt.pki || opt.in_flight < 1 || opt.in_flight > MAX_IN_FLIGHT || opt.procs < 1 ||
        opt.procs > MAX_PROCS || opt.seconds <= 0)
        usage();
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)opt.port);
    if (inet_pton(AF_INET, opt.host, &addr.sin_addr) != 1) usage();
    signal(SIGPIPE, SIG_IGN);
    setup_ctx();

    int fds[2];
    if (pipe(fds) != 0) die("pipe");
    double t0 = mono_s();
    for (int p = 0; p < opt.procs; p++) {
        pid_t pid = fork();
        if (pid < 0) die("fork");
        if (pid == 0) {
            close(fds[0]);
            struct tally t = run_one();
            if (write(fds[1], &t, sizeof t) != (ssize_t)sizeof t) _exit(2);
            _exit(0);
        }
    }
    close(fds[1]);
    struct tally sum = { 0 };
    int status = 0;
    for (int p = 0; p < opt.procs; p++) {
        struct tally t;
        if (read(fds[0], &t, sizeof t) == (ssize_t)sizeof t) {
            sum.conns += t.conns;
            sum.resumed += t.resumed;
            sum.failed += t.failed;
        }
    }
    while (wait(&status) > 0) {}
    double wall = mono_s() - t0;
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                 (double)ru.ru_stime.tv_usec / 1e6;
    printf("conns=%lld resumed=%lld failed=%lld seconds=%.3f client_cpu=%.3f\n", sum.conns, sum.resumed, sum.failed,
           wall, cpu);
    return sum.conns > 0 ? 0 : 1;
}

/* crash.c - see crash.h. Everything the handler writes is formatted by hand
 * into a stack buffer: snprintf is not async-signal-safe. */
#include <execinfo.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <ucontext.h>
#include <unistd.h>
#include <ck_pr.h>

#include "runtime/crash.h"
#include "runtime/log.h"

#define CRASH_MAX_FRAMES 64

static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };

/* Set by the first thread that crashes; a second crashing thread does not
 * interleave its report with the first one's. */
static int crash_reporting;

/* A line being built in the handler's frame. */
typedef struct line { char buf[256]; size_t len; } line_t;

static void put_str(line_t *l, const char *s)
{
    while (*s && l->len < sizeof l->buf - 1) l->buf[l->len++] = *s++;
}

static void put_dec(line_t *l, long long v)
{
    char tmp[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    if (v < 0) tmp[n++] = '-';
    while (n && l->len < sizeof l->buf - 1) l->buf[l->len++] = tmp[--n];
}

static void put_hex(line_t *l, uintptr_t v)
{
    char tmp[2 + 2 * sizeof v];
    int n = 0;
    do { tmp[n++] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
    put_str(l, "0x");
    while (n && l->len < sizeof l->buf - 1) l->buf[l->len++] = tmp[--n];
}

static void emit(int fd, line_t *l)
{
    l->buf[l->len++] = '\n';    /* put_* leave room for it */
    const char *p = l->buf;
    size_t left = l->len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w <= 0) break;      /* nowhere to report a failing log */
        p += w;
        left -= (size_t)w;
    }
    l->len = 0;
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS:  return "SIGBUS";
    case SIGFPE:  return "SIGFPE";
    case SIGILL:  return "SIGILL";
    case SIGABRT: return "SIGABRT";
    default:      return "?";
    }
}

static void crash_handler(int sig, siginfo_t *info, void *ctx)
{
    /* Relaxed CAS: it only elects one reporter; nothing else is published. */
    if (ck_pr_cas_int(&crash_reporting, 0, 1)) {
        int fd = rt_log_fd();
        line_t l = { .len = 0 };
        emit(fd, &l);
        put_str(&l, "=== SHOAL CRASH REPORT START: copy everything from here to the END line ===");
        emit(fd, &l);
        put_str(&l, "shoal-node (pid ");
        put_dec(&l, (long long)getpid());
        put_str(&l, ") crashed by signal: ");
        put_dec(&l, sig);
        put_str(&l, " (");
        put_str(&l, signal_name(sig));
        put_str(&l, "), si_code: ");
        put_dec(&l, info->si_code);
        emit(fd, &l);
        if (info->si_code <= 0) {
            /* Sent by a process (kill, raise, abort), not raised by a fault. */
            put_str(&l, "Sent by PID: ");
            put_dec(&l, (long long)info->si_pid);
            put_str(&l, ", UID: ");
            put_dec(&l, (long long)info->si_uid);
            emit(fd, &l);
        } else if (sig == SIGSEGV || sig == SIGBUS) {
            put_str(&l, "Faulting address: ");
            put_hex(&l, (uintptr_t)info->si_addr);
            emit(fd, &l);
        }
#if defined(__x86_64__)
        const ucontext_t *uc = ctx;
        put_str(&l, "Instruction pointer: ");
        put_hex(&l, (uintptr_t)uc->uc_mcontext.gregs[REG_RIP]);
        emit(fd, &l);
#else
        (void)ctx;
#endif
        char tname[17] = "";
        prctl(PR_GET_NAME, tname);   /* a plain system call */
        tname[16] = '\0';
        put_str(&l, "Thread: ");
        put_str(&l, tname);
        emit(fd, &l);
        put_str(&l, "------ STACK TRACE ------");
        emit(fd, &l);
        void *frames[CRASH_MAX_FRAMES];
        int n = backtrace(frames, CRASH_MAX_FRAMES);
        backtrace_symbols_fd(frames, n, fd);
        put_str(&l, "=== SHOAL CRASH REPORT END ===");
        emit(fd, &l);
    }
    /* Die by the same signal: default action, unblocked (SA_NODEFER), raised
     * again at this thread. For a fault, returning would also re-run the
     * faulting instruction; raising covers kill(2) and abort() as well. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig);
}

int rt_crash_install(void)
{
    /* Loads the unwinder now rather than inside the handler. */
    void *warm[2];
    (void)backtrace(warm, 2);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = crash_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESETHAND;
    for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++)
        if (sigaction(crash_signals[i], &sa, NULL) != 0) return -1;
    return 0;
}

/* ldb_conn.c - a Lua debugger session's connection: where it runs, its
 * blocking socket I/O, the fork of a YES session and the children it leaves
 * (ldb_conn.h; the debugger itself is actors/commands/script_ldb.c).
 *
 * Why the fork is safe in a process of many threads. The child of fork(2)
 * has one thread, the forking worker's; everything else is a copy of the
 * parent's memory at that instant, and the kernel objects (sockets, files,
 * the epoll set, eventfds) are shared with the parent. So:
 *  - Every other worker stands still when the worker forks: it holds the
 *    node's cross-worker session (xscript.h), taken first. Their keyspaces
 *    are therefore whole in the child (each parked between two messages),
 *    and the child's script reaches any key through that session as in the
 *    parent. The parent gives the session back at once after the fork.
 *  - Locks: a lock another thread held at the fork stays held in the child
 *    for ever. The standing workers hold none of the locks of a script's
 *    path (they park between messages), except the session's own, which a
 *    parked worker retakes every millisecond; of the other threads'
 *    (persistence, replication, bus, state), only the latency samples'
 *    lock is on that path. The forking thread takes both around fork(2), so
 *    nobody holds them then. malloc's locks are glibc's to handle in fork;
 *    the child's log lines skip localtime_r, whose glibc lock is one more
 *    such lock (rt_log_forked_child).
 *  - Nothing the child does reaches the parent's world: it never returns to
 *    its event loop (the session ends with _exit), so what it queues for other
 *    sockets, the epoll set (libev applies watcher changes in the loop) or
 *    other threads' mailboxes (memory of its own; a wake-up through a shared
 *    eventfd finds the parent's mailbox empty) goes nowhere; repl_detach
 *    stops repl_flush, the one place a worker hands effects to the AOF file
 *    and the replicas. Its only writes go to the debugging client's socket.
 *  - OpenSSL (a TLS client's records, redis.sha1hex) may take locks of its
 *    own that a TLS thread of the parent held at the fork; that risk is the
 *    same as 7.0.15's, whose child uses OpenSSL too.
 * SIGTERM and SIGINT are ignored in the child, as 7.0.15 does; the parent's
 * shutdown SIGKILLs every child still running.
 *
 * Must never: write on a socket but the debugging client's from the child.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/commands/commands.h"
#include "actors/commands/script_ldb.h"
#include "actors/persist/rdb_save.h"
#include "actors/repl/repl.h"
#include "actors/worker/aof_gate.h"
#include "actors/worker/client.h"
#include "actors/worker/latency.h"
#include "actors/worker/ldb_conn.h"
#include "actors/worker/placement.h"
#include "actors/worker/worker_internal.h"
#include "actors/worker/xscript.h"
#include "proto/slot.h"
#include "runtime/log.h"
#include "runtime/tls.h"

#define SEND_TIMEOUT_MS 5000      /* 7.0.15's connSendTimeout for the session */
#define CHILDREN_MAX 256

worker_t *ldb_conn_place(client_t *c, int argc, const uint8_t **argv, const size_t *argvlen)
{
    if (!(c->flags & CLIENT_LUA_DEBUG) || (c->flags & CLIENT_MULTI) || argc < 3) return NULL;
    const cmd_def_t *cmd = cmd_lookup(argv[0], argvlen[0]);
    if (!cmd || !script_ldb_takes(c, cmd)) return NULL;
    /* the session writes on the socket itself: what is owed before goes first */
    if (c->pending_head) return c->worker;
    if (cmd->handler == cmd_evalsha || cmd->handler == cmd_evalsha_ro) return NULL;   /* an error, here */
    int pos[64];
    int n = cmd_get_keys(cmd, argc, argv, argvlen, pos, 64);
    if (n <= 0 || n > 64) return NULL;
    int target = worker_of_slot(slot_of_key(argv[pos[0]], argvlen[pos[0]]));
    for (int i = 1; i < n; i++)
        if (worker_of_slot(slot_of_key(argv[pos[i]], argvlen[pos[i]])) != target) return NULL;
    if (target == c->worker->index || !placement_can_move_before_command(c, g_workers[target])) return NULL;
    return g_workers[target];
}

bool ldb_conn_keys_away(const client_t *c, const cmd_def_t *cmd, bool xcmd, int slot)
{
    if (!script_ldb_takes(c, cmd)) return false;
    return xcmd || (slot >= 0 && worker_of_slot((unsigned)slot) != c->worker->index);
}

/* Waits for the socket (events POLLIN/POLLOUT); false on timeout or error. */
static bool wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = events };
    for (;;) {
        int r = poll(&p, 1, timeout_ms);
        if (r > 0) return true;
        if (r == 0 || errno != EINTR) return false;
    }
}

ssize_t ldb_conn_read(client_t *c, void *buf, size_t len)
{
    if (c->fd < 0) return 0;
    for (;;) {
        ssize_t n = tls_io_read(c->tls, c->fd, buf, len);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        short ev = c->tls && tls_conn_wants_write(c->tls) ? POLLOUT : POLLIN;
        if (!wait_fd(c->fd, ev, -1)) return -1;
    }
}

void ldb_conn_write(client_t *c, const void *p, size_t len)
{
    const char *b = p;
    while (len > 0 && c->fd >= 0) {
        ssize_t n = tls_io_write(c->tls, c->fd, b, len);
        if (n > 0) {
            b += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return;
        short ev = c->tls && !tls_conn_wants_write(c->tls) ? POLLIN : POLLOUT;
        if (!wait_fd(c->fd, ev, SEND_TIMEOUT_MS)) return;
    }
}

void ldb_conn_flush(client_t *c)
{
    size_t limit = aof_gate_limit(c);   /* a reply waiting for its fsync keeps waiting */
    if (c->out_sent >= limit) return;
    ldb_conn_write(c, c->out.data + c->out_sent, limit - c->out_sent);
    c->out_sent = limit;
    if (c->out_sent == c->out.len) {
        resp_buf_reset(&c->out);
        c->out_sent = 0;
    }
}

void ldb_conn_forget(client_t *c)
{
    tls_conn_free_silent(c->tls);
    c->tls = NULL;
    client_close(c);
}

/* ---------------- the children ---------------- */

/* Their pids, 0 for a free entry: added by the forking worker, reaped by
 * any worker's cron, killed by the shutdown's thread. */
static _Atomic int g_children[CHILDREN_MAX];
static _Atomic int g_nchildren;

static bool child_add(pid_t pid)
{
    for (int i = 0; i < CHILDREN_MAX; i++) {
        int zero = 0;
        /* acq_rel: the entry is claimed by one thread; the count is a hint for the crons */
        if (atomic_compare_exchange_strong_explicit(&g_children[i], &zero, (int)pid, memory_order_acq_rel,
                                                    memory_order_relaxed)) {
            atomic_fetch_add_explicit(&g_nchildren, 1, memory_order_relaxed);
            return true;
        }
    }
    return false;
}

void ldb_conn_reap(void)
{
    if (atomic_load_explicit(&g_nchildren, memory_order_relaxed) == 0) return;   /* relaxed: a hint */
    for (int i = 0; i < CHILDREN_MAX; i++) {
        int pid = atomic_load_explicit(&g_children[i], memory_order_acquire);
        if (pid <= 0) continue;
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == 0 || (r < 0 && errno != ECHILD)) continue;
        /* acq_rel: one of the workers that saw it end clears the entry */
        if (atomic_compare_exchange_strong_explicit(&g_children[i], &pid, 0, memory_order_acq_rel,
                                                    memory_order_relaxed))
            atomic_fetch_sub_explicit(&g_nchildren, 1, memory_order_relaxed);
    }
}

void ldb_conn_kill_all(void)
{
    for (int i = 0; i < CHILDREN_MAX; i++) {
        int pid = atomic_load_explicit(&g_children[i], memory_order_acquire);   /* pairs with child_add */
        if (pid <= 0) continue;
        LOG_WARNING("Killing debugging session %ld", (long)pid);
        kill(pid, SIGKILL);
    }
}

pid_t ldb_conn_fork(worker_t *w)
{
    if (atomic_load_explicit(&g_nchildren, memory_order_relaxed) >= CHILDREN_MAX) {   /* relaxed: a bound */
        errno = EAGAIN;
        return -1;
    }
    xscript_acquire(w, NULL);     /* every other worker stands still (the top of this file says why) */
    long long t0 = rt_now_us();
    xscript_fork_lock(true);
    latency_fork_lock(true);
    pid_t pid = fork();
    int err = errno;
    latency_fork_lock(false);
    xscript_fork_lock(false);
    if (pid == 0) {
        repl_detach();
        rt_log_forked_child(true);
        rt_log_set_role('C');
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        return 0;
    }
    xscript_end(w);               /* the others go on */
    if (pid > 0) {
        rdb_fork_note(rt_now_us() - t0);   /* 7.0.15 counts it with its forks */
        if (!child_add(pid)) {
            kill(pid, SIGKILL);   /* no room to reap it later (bounded above, so only a race) */
            waitpid(pid, NULL, 0);
            err = EAGAIN;
            pid = -1;
        }
    }
    errno = err;
    return pid;
}

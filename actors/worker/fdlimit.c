/* fdlimit.c - RLIMIT_NOFILE and maxclients at start, and the accept path's
 * answer to running out of descriptors (see fdlimit.h). The startup half
 * follows redis-server 7.0.15's adjustOpenFilesLimit (server.c): same
 * search for the best limit, same log lines.
 *
 * Must never: close a descriptor other than its own spare.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/bus/link.h"
#include "actors/config/config.h"
#include "actors/worker/fdlimit.h"
#include "actors/worker/worker_internal.h"
#include "runtime/actor.h"
#include "proto/resp.h"
#include "runtime/memtrim.h"
#include "runtime/log.h"

#define REDIS_RESERVED_FDS 32     /* Redis's CONFIG_MIN_RESERVED_FDS */
#define RUNTIME_THREADS_BESIDE_WORKERS 8   /* main, state, persister, repl, replica link, savers */
#define REPLICATION_FDS 16        /* replica sockets and RDB files in flight */

/* A descriptor on /dev/null held only to be given up when accept() finds
 * the table full, so that the waiting client can be told why instead of
 * hanging in the backlog. -1 while in use or not reopened yet. */
static _Atomic int spare_fd = -1;
/* Serializes accept() across workers with the spare's release: without it
 * another worker's accept takes the descriptor the spare just gave up, the
 * waiting client is served instead of refused (fine) but the spare cannot
 * be opened again, and the next shortage leaves clients hanging. */
static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t admit_lock = PTHREAD_MUTEX_INITIALIZER;   /* maxclients' check and count */
/* Whether a shortage is under way (set at its first EMFILE, cleared by the
 * next successful accept), and when its line was last logged. A shortage is
 * logged at its start, but at most once per SHORTAGE_LOG_MS: any thread that
 * closes a descriptor in the middle of a flood lets one accept through, and
 * that must not start a new line per descriptor freed. */
static _Atomic bool shortage_logged;
static _Atomic long long shortage_logged_at = -1;
#define SHORTAGE_LOG_MS 10000

int fdlimit_reserved(int worker_threads)
{
    return REDIS_RESERVED_FDS + 2 * (worker_threads + RUNTIME_THREADS_BESIDE_WORKERS) + REPLICATION_FDS;
}

static void set_maxclients(long long n)
{
    char num[24];
    snprintf(num, sizeof num, "%lld", n);
    const uint8_t *argv[2] = { (const uint8_t *)"maxclients", (const uint8_t *)num };
    size_t argvlen[2] = { strlen("maxclients"), strlen(num) };
    resp_buf_t r;
    resp_buf_init(&r, 2);
    config_cmd_set(&r, 2, argv, argvlen, true);
    if (r.len == 0 || r.data[0] != '+') LOG_WARNING("Could not lower maxclients to %lld", n);
    resp_buf_free(&r);
}

/* Descriptors reserved beside the clients, fixed at start. */
static rlim_t reserve_fds = REDIS_RESERVED_FDS;

/* Raises RLIMIT_NOFILE toward maxclients + the reserve when it is lower, as
 * Redis's adjustOpenFilesLimit does (same search, same log lines). Returns
 * how many clients the limit fits: maxclients when it fits, fewer when it
 * could not be raised enough, or -1 when not even the reserve fits. */
static long long fit_limit(long long maxclients)
{
    rlim_t maxfiles = (rlim_t)maxclients + reserve_fds;
    struct rlimit limit;

    if (getrlimit(RLIMIT_NOFILE, &limit) == -1) {
        LOG_WARNING("Unable to obtain the current NOFILE limit (%s), assuming 1024 and setting the max clients "
                    "configuration accordingly.", strerror(errno));
        return 1024 - (long long)reserve_fds;
    }
    if (limit.rlim_cur >= maxfiles) return maxclients;
    rlim_t oldlimit = limit.rlim_cur;
    rlim_t best = maxfiles;
    int setrlimit_error = 0;
    /* The highest limit the system grants, in steps of 16 downwards. */
    while (best > oldlimit) {
        limit.rlim_cur = best;
        limit.rlim_max = best;
        if (setrlimit(RLIMIT_NOFILE, &limit) != -1) break;
        setrlimit_error = errno;
        if (best < 16) { best = oldlimit; break; }
        best -= 16;
    }
    if (best < oldlimit) best = oldlimit;
    if (best >= maxfiles) {
        LOG_NOTICE("Increased maximum number of open files to %llu (it was originally set to %llu).",
                   (unsigned long long)maxfiles, (unsigned long long)oldlimit);
        return maxclients;
    }
    if (best <= reserve_fds) {
        LOG_WARNING("Your current 'ulimit -n' of %llu is not enough for the server to start. Please increase "
                    "your open file limit to at least %llu. Exiting.",
                    (unsigned long long)oldlimit, (unsigned long long)maxfiles);
        return -1;
    }
    long long fits = (long long)(best - reserve_fds);
    LOG_WARNING("You requested maxclients of %lld requiring at least %llu max file descriptors.", maxclients,
                (unsigned long long)maxfiles);
    LOG_WARNING("Server can't set maximum open files to %llu because of OS error: %s.",
                (unsigned long long)maxfiles, strerror(setrlimit_error));
    LOG_WARNING("Current maximum open files is %llu. maxclients has been reduced to %lld to compensate for "
                "low ulimit. If you need higher maxclients increase 'ulimit -n'.",
                (unsigned long long)best, fits);
    return fits;
}

/* CONFIG SET maxclients (config.h): the new value must fit the limit. */
static int config_maxclients_fits(long long maxclients, long long *possible)
{
    long long fits = fit_limit(maxclients);
    if (fits == maxclients) return 0;
    *possible = fits < 0 ? 0 : fits;
    LOG_WARNING("Failed applying new configuration. Possibly related to new maxclients setting. Restoring "
                "previous settings.");
    return -1;
}

int fdlimit_adjust(int worker_threads)
{
    reserve_fds = (rlim_t)fdlimit_reserved(worker_threads);
    long long maxclients = config_maxclients();
    long long fits = fit_limit(maxclients);
    if (fits < 0) return -1;
    if (fits != maxclients) set_maxclients(fits);
    config_set_maxclients_handler(config_maxclients_fits);
    atomic_store_explicit(&spare_fd, open("/dev/null", O_RDONLY | O_CLOEXEC), memory_order_relaxed);
    /* The descriptor the resident set is read through is kept for good
     * (runtime/memtrim.h): taken now, not by a first read that a shortage
     * could meet. */
    (void)rt_resident_bytes();
    return 0;
}

int fdlimit_accept(int listen_fd, struct sockaddr_storage *peer, socklen_t *peer_len)
{
    pthread_mutex_lock(&accept_lock);
    int fd = accept4(listen_fd, (struct sockaddr *)peer, peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    int e = errno;
    pthread_mutex_unlock(&accept_lock);
    errno = e;
    return fd;
}

const char *fdlimit_maxclients_error(void)
{
    return config_cluster_enabled() ? "-ERR max number of clients + cluster connections reached\r\n"
                                    : "-ERR max number of clients reached\r\n";
}

bool fdlimit_out_of_fds(int listen_fd, int err)
{
    /* relaxed: the flag and the time only thin out log lines */
    if (!atomic_exchange_explicit(&shortage_logged, true, memory_order_relaxed)) {
        long long now = rt_mono_ms();
        long long last = atomic_load_explicit(&shortage_logged_at, memory_order_relaxed);
        if ((last < 0 || now - last >= SHORTAGE_LOG_MS) &&
            atomic_compare_exchange_strong_explicit(&shortage_logged_at, &last, now, memory_order_relaxed,
                                                    memory_order_relaxed))
            LOG_WARNING("Accepting client connection: accept: %s", strerror(err));
    }
    pthread_mutex_lock(&accept_lock);
    /* acq_rel: whoever takes the spare owns that descriptor number alone */
    int spare = atomic_exchange_explicit(&spare_fd, -1, memory_order_acq_rel);
    if (spare < 0) {
        pthread_mutex_unlock(&accept_lock);
        return false;
    }
    close(spare);
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
        const char *msg = fdlimit_maxclients_error();
        ssize_t ignored = write(fd, msg, strlen(msg));   /* best effort, as Redis */
        (void)ignored;
        close(fd);
    }
    int again = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (again >= 0) atomic_store_explicit(&spare_fd, again, memory_order_release);
    pthread_mutex_unlock(&accept_lock);
    return fd >= 0;
}

void fdlimit_accept_ok(void)
{
    if (!atomic_load_explicit(&shortage_logged, memory_order_relaxed)) return;
    atomic_store_explicit(&shortage_logged, false, memory_order_relaxed);
    /* The shortage is over: a spare lost in it is taken again. */
    if (atomic_load_explicit(&spare_fd, memory_order_relaxed) < 0) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int expected = -1;
        if (fd >= 0 && !atomic_compare_exchange_strong_explicit(&spare_fd, &expected, fd, memory_order_acq_rel,
                                                                memory_order_relaxed))
            close(fd);
    }
}

bool fdlimit_admit(int target)
{
    long long maxclients = config_maxclients();
    pthread_mutex_lock(&admit_lock);
    long long total = 0;
    for (int k = 0; k < g_nworkers; k++)
        total += atomic_load_explicit(&g_workers[k]->stats.connected_clients, memory_order_relaxed);
    if (config_cluster_enabled()) total += (long long)links_count();
    bool room = maxclients <= 0 || total < maxclients;
    /* counted now so that maxclients holds while the hand-off is in flight
     * (relaxed: the lock orders the adds that count against the limit) */
    if (room) atomic_fetch_add_explicit(&g_workers[target]->stats.connected_clients, 1, memory_order_relaxed);
    pthread_mutex_unlock(&admit_lock);
    return room;
}

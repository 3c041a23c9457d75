/* pollfd.c - finds a libev loop's epoll fd and removes fds from it.
 *
 * libev does not export its backend fd. We find it once per loop, before the
 * loop's thread starts: a probe eventfd is watched, one non-blocking
 * iteration makes libev register it, and the epoll fd is the eventpoll fd of
 * this process whose /proc/self/fdinfo lists the probe (same number and same
 * inode, so a stale registration of an old file that had the number cannot
 * match). The probe's last close removes it from the set again.
 *
 * Must never: remove an fd from another thread's loop (only its own thread
 * may, as for every libev call), or guess when the probe is not found.
 */
#include "runtime/pollfd.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/log.h"

static void probe_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

/* Whether the epoll fd `efd` holds a registration of `tfd` with inode `ino`. */
static int epoll_lists(int efd, int tfd, unsigned long ino)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", efd);
    FILE *f = fopen(path, "re");
    if (!f) return 0;
    char line[256];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        int n;
        if (sscanf(line, "tfd: %d", &n) != 1 || n != tfd) continue;
        const char *p = strstr(line, "ino:");
        found = p && strtoul(p + 4, NULL, 16) == ino;
    }
    fclose(f);
    return found;
}

int rt_pollfd_find(struct ev_loop *loop)
{
    if (ev_backend(loop) != EVBACKEND_EPOLL) return -1;
    int probe = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (probe < 0) return -1;
    ev_io w;
    ev_io_init(&w, probe_cb, probe, EV_READ);
    ev_io_start(loop, &w);
    ev_run(loop, EVRUN_NOWAIT);    /* registers the probe with the kernel */
    struct stat st;
    int found = -1;
    DIR *d = fstat(probe, &st) == 0 ? opendir("/proc/self/fd") : NULL;
    for (struct dirent *e; d && found < 0 && (e = readdir(d)) != NULL;) {
        char *end;
        long n = strtol(e->d_name, &end, 10);
        if (*end != '\0' || end == e->d_name || n == dirfd(d)) continue;
        char path[64], target[64];
        snprintf(path, sizeof path, "/proc/self/fd/%ld", n);
        ssize_t k = readlink(path, target, sizeof target - 1);
        if (k <= 0) continue;
        target[k] = '\0';
        if (strcmp(target, "anon_inode:[eventpoll]") == 0 &&
            epoll_lists((int)n, probe, (unsigned long)st.st_ino))
            found = (int)n;
    }
    if (d) closedir(d);
    ev_io_stop(loop, &w);
    close(probe);                  /* its last close also drops it from the set */
    if (found < 0)
        LOG_WARNING("Could not find the epoll fd of an event loop; handed-over sockets "
                    "stay in it until their next event");
    return found;
}

void rt_pollfd_forget(int pollfd, int fd)
{
    if (pollfd < 0 || fd < 0) return;
    if (epoll_ctl(pollfd, EPOLL_CTL_DEL, fd, NULL) != 0 && errno != ENOENT)
        LOG_WARNING("Could not remove fd %d from its event loop: %s", fd, strerror(errno));
}

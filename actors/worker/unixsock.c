/* unixsock.c - the unix-domain listening socket (see unixsock.h), as
 * redis-server 7.0.15 sets it up (server.c initServer, anet.c
 * anetUnixServer) and takes it down (closeListeningSockets).
 *
 * Must never: unlink anything but the configured path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "actors/config/config.h"
#include "actors/worker/unixsock.h"
#include "runtime/log.h"

static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1024];
static int sock_fd = -1;

int unixsock_fd(void) { return sock_fd; }
const char *unixsock_path(void) { return sock_path; }

int unixsock_open(int backlog)
{
    if (config_get_by_name("unixsocket", sock_path, sizeof sock_path) <= 0) {
        sock_path[0] = '\0';
        return -2;
    }
    char perm_text[32] = "0";
    config_get_by_name("unixsocketperm", perm_text, sizeof perm_text);
    mode_t perm = (mode_t)strtol(perm_text, NULL, 8);

    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    if (strlen(sock_path) > sizeof sa.sun_path - 1) {
        LOG_WARNING("Failed opening Unix socket: unix socket path too long (%zu), must be under %zu",
                    strlen(sock_path), sizeof sa.sun_path);
        return -1;
    }
    /* A file left by a previous run would make bind fail; Redis removes it
     * without looking (and so do we: the path is ours by configuration). */
    unlink(sock_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        LOG_WARNING("Failed opening Unix socket: creating socket: %s", strerror(errno));
        return -1;
    }
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, sock_path, strlen(sock_path));
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        LOG_WARNING("Failed opening Unix socket: bind: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (perm) chmod(sock_path, perm);
    if (listen(fd, backlog) != 0) {
        LOG_WARNING("Failed opening Unix socket: listen: %s", strerror(errno));
        close(fd);
        return -1;
    }
    sock_fd = fd;
    return fd;
}

void unixsock_remove(void)
{
    if (sock_fd < 0) return;
    /* The fd stays open: workers may still watch it until _exit. */
    LOG_NOTICE("Removing the unix socket file.");
    if (unlink(sock_path) != 0) LOG_WARNING("Error removing the unix socket file: %s", strerror(errno));
}

/* link_connect.c - the socket half of an outbound bus link's connect: the
 * non-blocking socket and its connect(), and the addresses of a connected
 * socket. link.c keeps what the link actor decides (when the state actor
 * hears of the connect: after TCP, or after the TLS handshake with
 * tls-cluster yes).
 *
 * Must never: block, or touch a link record (callers own those).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "actors/bus/link_internal.h"
#include "runtime/log.h"

int link_socket_connect(const char *node_name, const char *ip, int port, int *fd)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    *fd = -1;
    if (link_sockaddr(ip, port, &ss, &sl) != 0) {
        LOG_VERBOSE("Connection with Node %.40s at %s:%d failed: bad address", node_name, ip, port);
        return LINK_SOCK_FAILED;
    }
    *fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (*fd < 0) {
        LOG_WARNING("Could not create a cluster bus socket: %s", strerror(errno));
        return LINK_SOCK_FAILED;
    }
    int one = 1;
    setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(*fd, (struct sockaddr *)&ss, sl) == 0) return LINK_SOCK_CONNECTED;
    if (errno == EINPROGRESS) return LINK_SOCK_IN_PROGRESS;
    LOG_VERBOSE("Connection with Node %.40s at %s:%d failed: %s", node_name, ip, port, strerror(errno));
    return LINK_SOCK_REFUSED;
}

void link_socket_addresses(int fd, char *peer_ip, char *local_ip, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) link_format_ip(&ss, peer_ip, cap);
    sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) link_format_ip(&ss, local_ip, cap);
}

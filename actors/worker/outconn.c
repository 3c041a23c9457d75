/* outconn.c - see outconn.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/worker/outconn.h"

/* host:port into ss; -1 when it is no address and does not resolve. */
static int outconn_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *sl)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        *sl = sizeof *s4;
    } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        *sl = sizeof *s6;
    } else {
        /* A host name, resolved as 7.0.15 resolves it (it blocks there too;
         * a local lookup is short). */
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
        if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res || res->ai_addrlen > sizeof *ss) {
            if (res) freeaddrinfo(res);
            return -1;
        }
        memcpy(ss, res->ai_addr, res->ai_addrlen);
        *sl = (socklen_t)res->ai_addrlen;
        freeaddrinfo(res);
    }
    if (ss->ss_family == AF_INET) s4->sin_port = htons((uint16_t)port);
    else s6->sin6_port = htons((uint16_t)port);
    return 0;
}

int outconn_open(const char *host, int port, int *fd)
{
    /* 7.0.15 hands the number to getaddrinfo as text: a negative one fails
     * there, a larger one is taken modulo 2^16 */
    struct sockaddr_storage ss;
    socklen_t sl;
    if (port < 0 || outconn_addr(host, port, &ss, &sl) != 0) return -1;
    *fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (*fd < 0) return -1;
    int one = 1;
    setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(*fd, (struct sockaddr *)&ss, sl) == 0) return 0;
    if (errno != EINPROGRESS) {
        close(*fd);
        *fd = -1;
        return -1;
    }
    return 1;
}

/* protect.c - local-client test and the gates built on it (see protect.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "actors/config/config.h"
#include "actors/worker/protect.h"
#include "actors/acl/acl.h"

bool protect_peer_is_local(const struct sockaddr_storage *peer)
{
    switch (peer->ss_family) {
    case AF_UNIX:
        return true;
    case AF_INET: {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)peer;
        return ntohl(s4->sin_addr.s_addr) == INADDR_LOOPBACK;
    }
    case AF_INET6: {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)peer;
        if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr)) return true;
        /* A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d; our
         * listeners are IPv6-only, but judge such a peer by its IPv4 part. */
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
            const uint8_t *b = s6->sin6_addr.s6_addr;
            return b[12] == 127 && b[13] == 0 && b[14] == 0 && b[15] == 1;
        }
        return false;
    }
    default:
        return false;
    }
}

bool protect_allows(int setting, bool local_client)
{
    return setting == CONFIG_ALLOW_YES || (setting == CONFIG_ALLOW_LOCAL && local_client);
}

bool protect_refuses_connection(bool local_client)
{
    return !local_client && config_protected_mode() && acl_default_nopass();
}

/* The reply text is Redis's own (clients and operators match on it). */
static const char denied_reply[] =
    "-DENIED Redis is running in protected mode because protected "
    "mode is enabled and no password is set for the default user. "
    "In this mode connections are only accepted from the loopback interface. "
    "If you want to connect from external computers to Redis you "
    "may adopt one of the following solutions: "
    "1) Just disable protected mode sending the command "
    "'CONFIG SET protected-mode no' from the loopback interface "
    "by connecting to Redis from the same host the server is "
    "running, however MAKE SURE Redis is not publicly accessible "
    "from internet if you do so. Use CONFIG REWRITE to make this "
    "change permanent. "
    "2) Alternatively you can just disable the protected mode by "
    "editing the Redis configuration file, and setting the protected "
    "mode option to 'no', and then restarting the server. "
    "3) If you started the server manually just for testing, restart "
    "it with the '--protected-mode no' option. "
    "4) Setup a an authentication password for the default user. "
    "NOTE: You only need to do one of the above things in order for "
    "the server to start accepting connections from the outside.\r\n";

void protect_send_denied(int fd)
{
    /* A fresh socket's send buffer holds this easily; a short or failed
     * write only shortens the explanation, the connection closes anyway. */
    ssize_t ignored = send(fd, denied_reply, sizeof denied_reply - 1, MSG_NOSIGNAL);
    (void)ignored;
}

bool protect_password_equal(const char *want, size_t want_len, const void *got, size_t got_len)
{
    unsigned char dw[EVP_MAX_MD_SIZE], dg[EVP_MAX_MD_SIZE];
    unsigned int lw = 0, lg = 0;
    if (!EVP_Digest(want, want_len, dw, &lw, EVP_sha256(), NULL) ||
        !EVP_Digest(got, got_len, dg, &lg, EVP_sha256(), NULL) || lw != lg)
        return false;
    return CRYPTO_memcmp(dw, dg, lw) == 0;
}

const char PROTECT_DEBUG_REFUSED[] =
    "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", "
    "you can run it from a local connection, otherwise you need to set this option "
    "in the configuration file, and then restart the server.";

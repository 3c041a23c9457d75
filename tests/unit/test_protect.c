/* test_protect.c - the local-client rule (AF_UNIX, exactly 127.0.0.1 / ::1, as
 * 7.0.15's islocalClient) and the password comparison (any length). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include "actors/config/config.h"
#include "actors/worker/protect.h"
#include "tests/unit/unit.h"

static struct sockaddr_storage v4(const char *ip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s = (struct sockaddr_in *)&ss;
    s->sin_family = AF_INET;
    inet_pton(AF_INET, ip, &s->sin_addr);
    return ss;
}

static struct sockaddr_storage v6(const char *ip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
    s->sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &s->sin6_addr);
    return ss;
}

TEST(protect_local_peers)
{
    struct sockaddr_storage ss = v4("127.0.0.1");
    CHECK(protect_peer_is_local(&ss));
    ss = v4("127.0.0.2");                 /* Redis compares the text with "127.0.0.1" */
    CHECK(!protect_peer_is_local(&ss));
    ss = v4("192.0.2.2");
    CHECK(!protect_peer_is_local(&ss));
    ss = v6("::1");
    CHECK(protect_peer_is_local(&ss));
    ss = v6("::ffff:127.0.0.1");
    CHECK(protect_peer_is_local(&ss));
    ss = v6("::ffff:10.0.0.1");
    CHECK(!protect_peer_is_local(&ss));
    ss = v6("fe80::1");
    CHECK(!protect_peer_is_local(&ss));
    memset(&ss, 0, sizeof ss);
    ss.ss_family = AF_UNIX;
    CHECK(protect_peer_is_local(&ss));
}

TEST(protect_allows_settings)
{
    CHECK(!protect_allows(CONFIG_ALLOW_NO, true));
    CHECK(protect_allows(CONFIG_ALLOW_YES, false));
    CHECK(protect_allows(CONFIG_ALLOW_LOCAL, true));
    CHECK(!protect_allows(CONFIG_ALLOW_LOCAL, false));
}

TEST(protect_password_any_length)
{
    CHECK(protect_password_equal("pw", 2, "pw", 2));
    CHECK(!protect_password_equal("pw", 2, "pW", 2));
    CHECK(!protect_password_equal("pw", 2, "pw\0", 3));
    CHECK(!protect_password_equal("", 0, "x", 1));
    CHECK(protect_password_equal("", 0, "", 0));
    size_t n = 100000;
    char *a = malloc(n), *b = malloc(n);
    CHECK(a && b);
    memset(a, 'q', n);
    memcpy(b, a, n);
    CHECK(protect_password_equal(a, n, b, n));
    b[n - 1] = 'r';                        /* differs only past every old buffer size */
    CHECK(!protect_password_equal(a, n, b, n));
    CHECK(!protect_password_equal(a, n, a, n - 1));
    free(a);
    free(b);
}

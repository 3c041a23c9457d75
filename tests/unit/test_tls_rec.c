/* test_tls_rec.c - our TLS 1.3 record layer (runtime/tls_rec.c) under a
 * bus link's tls_conn_t whose handshake OpenSSL did (tls_conn_for_bus), against
 * OpenSSL's own record layer on the other end: many records both ways
 * (sequence numbers), session tickets arriving after the handshake, key
 * updates either way, a corrupted record, close_notify both ways, and the
 * cases that keep OpenSSL's layer (TLS 1.2, the A/B switch).
 *
 * Our end is a tls_conn_t on one end of a socket pair, made from the
 * contexts tls_configure() publishes (PEM files written to a temp dir);
 * the peer is an SSL on memory BIOs, whose bytes the test carries to and
 * from the other end of the pair (so it can corrupt one). The keys and
 * certificates are made here (EC P-256). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "runtime/tls.h"
#include "runtime/tls_rec.h"
#include "tests/unit/pki_fixture.h"
#include "tests/unit/unit.h"

/* The node's side: certificate files and tls_configure, once. The peer's
 * side: an SSL_CTX each way. */
static struct {
    bool ready;
    ident_t ca, node, peer;
    SSL_CTX *peer_client, *peer_server;
} pki;

static void write_pem(const char *dir, const char *name, const ident_t *id, bool key)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return;
    if (key) PEM_write_PrivateKey(f, id->key, NULL, NULL, 0, NULL, NULL);
    else PEM_write_X509(f, id->cert);
    fclose(f);
}

static SSL_CTX *peer_ctx(bool server)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    SSL_CTX_use_certificate(ctx, pki.peer.cert);
    SSL_CTX_use_PrivateKey(ctx, pki.peer.key);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), pki.ca.cert);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

static bool setup(void)
{
    if (pki.ready) return true;
    char dir[] = "/tmp/shoal-tls-rec-XXXXXX";
    if (!mkdtemp(dir)) return false;
    pki.ca = pki_ident_new("CA", NULL, 100);
    pki.node = pki_ident_new("Node", &pki.ca, 101);
    pki.peer = pki_ident_new("Peer", &pki.ca, 102);
    write_pem(dir, "ca.crt", &pki.ca, false);
    write_pem(dir, "node.crt", &pki.node, false);
    write_pem(dir, "node.key", &pki.node, true);
    char ca[300], crt[300], key[300];
    snprintf(ca, sizeof ca, "%s/ca.crt", dir);
    snprintf(crt, sizeof crt, "%s/node.crt", dir);
    snprintf(key, sizeof key, "%s/node.key", dir);
    tls_settings_t s = { .cert_file = crt, .key_file = key, .ca_cert_file = ca, .session_caching = true,
                         .session_cache_size = 100, .session_cache_timeout = 300,
                         .auth_clients = TLS_AUTH_YES, .tls_cluster = true };
    int rc = tls_configure(&s);
    unlink(ca);
    unlink(crt);
    unlink(key);
    rmdir(dir);
    if (rc != 0) return false;
    pki.peer_client = peer_ctx(false);
    pki.peer_server = peer_ctx(true);
    pki.ready = true;
    return true;
}

/* One connection: ours (a tls_conn_t on fds[0]) and the peer (an SSL on
 * memory BIOs, its bytes carried over fds[1]). */
typedef struct {
    int fds[2];
    tls_conn_t *ours;
    SSL *peer;
    BIO *peer_in, *peer_out;    /* what the peer reads, what it wrote */
    bool corrupt_next;          /* flip a byte in the next bytes carried to ours */
} pair_t;

/* Moves the peer's written bytes to ours, and ours to the peer. */
static void carry(pair_t *p)
{
    uint8_t buf[65536];
    int n;
    while ((n = BIO_read(p->peer_out, buf, sizeof buf)) > 0) {
        if (p->corrupt_next && n > 40) {
            buf[n - 20] ^= 0x40;
            p->corrupt_next = false;
        }
        for (int off = 0; off < n;) {
            ssize_t w = write(p->fds[1], buf + off, (size_t)(n - off));
            if (w <= 0) break;
            off += (int)w;
        }
    }
    ssize_t r;
    while ((r = read(p->fds[1], buf, sizeof buf)) > 0) BIO_write(p->peer_in, buf, (int)r);
}

static bool open_pair_suite(pair_t *p, bool ours_is_server, int peer_max_version, const char *suite);

static bool open_pair(pair_t *p, bool ours_is_server, int peer_max_version)
{
    return open_pair_suite(p, ours_is_server, peer_max_version, NULL);
}

/* suite: the only TLS 1.3 suite the peer offers or takes (NULL: OpenSSL's default list). */
static bool open_pair_suite(pair_t *p, bool ours_is_server, int peer_max_version, const char *suite)
{
    memset(p, 0, sizeof *p);
    if (!setup() || socketpair(AF_UNIX, SOCK_STREAM, 0, p->fds) != 0) return false;
    for (int i = 0; i < 2; i++) fcntl(p->fds[i], F_SETFL, O_NONBLOCK);
    p->ours = tls_conn_for_bus(p->fds[0], !ours_is_server);
    if (!p->ours) return false;
    tls_conn_set_read_buffer(p->ours, 4 * (16384 + 512));
    (void)tls_conn_buffer_writes(p->ours, 4 * (16384 + 512));
    p->peer = SSL_new(ours_is_server ? pki.peer_client : pki.peer_server);
    if (peer_max_version) SSL_set_max_proto_version(p->peer, peer_max_version);
    if (suite) SSL_set_ciphersuites(p->peer, suite);
    p->peer_in = BIO_new(BIO_s_mem());
    p->peer_out = BIO_new(BIO_s_mem());
    SSL_set_bio(p->peer, p->peer_in, p->peer_out);
    if (ours_is_server) SSL_set_connect_state(p->peer);
    else SSL_set_accept_state(p->peer);
    int done_peer = 0;
    bool done_ours = false;
    for (int i = 0; i < 100 && (done_peer != 1 || !done_ours); i++) {
        if (done_peer != 1) done_peer = SSL_do_handshake(p->peer);
        carry(p);
        /* ours finishes inside a read (or a write), as a link's does */
        char b;
        ssize_t n = tls_conn_read(p->ours, &b, 1);
        if (n < 0 && errno != EAGAIN) return false;
        done_ours = tls_conn_handshake_done(p->ours);
        (void)tls_conn_flush(p->ours);
        carry(p);
    }
    return done_peer == 1 && done_ours;
}

static void close_pair(pair_t *p)
{
    tls_conn_free(p->ours);
    SSL_free(p->peer);
    close(p->fds[0]);
    close(p->fds[1]);
    ERR_clear_error();
}

static uint8_t pattern(size_t i, unsigned salt) { return (uint8_t)(i * 131 + salt * 7 + (i >> 9)); }

/* The peer writes `records` records of varying sizes; ours reads them all. */
static bool peer_to_ours(pair_t *p, int records, unsigned salt)
{
    static uint8_t out[16384], in[70000];
    size_t total = 0, got = 0;
    for (int r = 0; r < records; r++) {
        size_t len = 1 + (size_t)(r * 977 + salt) % 16384;
        for (size_t i = 0; i < len; i++) out[i] = pattern(total + i, salt);
        if (SSL_write(p->peer, out, (int)len) != (int)len) return false;
        total += len;
        carry(p);
        for (int spin = 0; spin < 1000; spin++) {
            ssize_t n = tls_conn_read(p->ours, in, sizeof in);
            if (n < 0 && errno == EAGAIN) break;
            if (n <= 0) return false;
            for (ssize_t i = 0; i < n; i++)
                if (in[i] != pattern(got + (size_t)i, salt)) return false;
            got += (size_t)n;
        }
    }
    return got == total;
}

/* Ours writes `records` records; the peer reads them all. */
static bool ours_to_peer(pair_t *p, int records, unsigned salt)
{
    static uint8_t out[16384], in[16384];
    size_t total = 0, got = 0;
    for (int r = 0; r < records; r++) {
        size_t len = 1 + (size_t)(r * 1409 + salt) % 16384;
        for (size_t i = 0; i < len; i++) out[i] = pattern(total + i, salt);
        for (size_t off = 0; off < len;) {
            ssize_t w = tls_conn_write(p->ours, out + off, len - off);
            if (w < 0 && errno == EAGAIN) {
                if (tls_conn_flush(p->ours) < 0) return false;
                carry(p);
                continue;
            }
            if (w <= 0) return false;
            off += (size_t)w;
        }
        total += len;
        if (tls_conn_flush(p->ours) < 0) return false;
        carry(p);
        int n;
        while ((n = SSL_read(p->peer, in, sizeof in)) > 0) {
            for (int i = 0; i < n; i++)
                if (in[i] != pattern(got + (size_t)i, salt)) return false;
            got += (size_t)n;
        }
        if (SSL_get_error(p->peer, n) != SSL_ERROR_WANT_READ) return false;
    }
    return got == total;
}

TEST(tls_rec_carries_many_records_both_ways)
{
    pair_t p;
    REQUIRE(open_pair(&p, true, 0));
    REQUIRE(tls_conn_records_own(p.ours));
    struct tls_rec *r = tls_conn_record_layer(p.ours);
    CHECK(peer_to_ours(&p, 300, 1));
    CHECK_EQ_INT(tls_rec_read_seq(r), 300);     /* one record per SSL_write, none before */
    CHECK(ours_to_peer(&p, 300, 2));
    CHECK_EQ_INT(tls_rec_write_seq(r), 300);
    CHECK(peer_to_ours(&p, 20, 3));
    CHECK(ours_to_peer(&p, 20, 4));
    close_pair(&p);
}

TEST(tls_rec_as_client_reads_the_tickets_sent_after_the_handshake)
{
    pair_t p;
    REQUIRE(open_pair(&p, false, 0));
    REQUIRE(tls_conn_records_own(p.ours));
    struct tls_rec *r = tls_conn_record_layer(p.ours);
    /* OpenSSL's server sent its two NewSessionTickets after the handshake,
     * under the application keys: they come before the data, counted. */
    CHECK(peer_to_ours(&p, 50, 5));
    CHECK_EQ_INT(tls_rec_read_seq(r), 52);
    CHECK(ours_to_peer(&p, 50, 6));
    CHECK_EQ_INT(tls_rec_write_seq(r), 50);
    close_pair(&p);
}

TEST(tls_rec_follows_the_peers_key_updates_and_answers_a_request)
{
    pair_t p;
    REQUIRE(open_pair(&p, true, 0));
    REQUIRE(tls_conn_records_own(p.ours));
    struct tls_rec *r = tls_conn_record_layer(p.ours);
    CHECK(peer_to_ours(&p, 5, 7));
    REQUIRE(SSL_key_update(p.peer, SSL_KEY_UPDATE_REQUESTED) == 1);
    CHECK(peer_to_ours(&p, 5, 8));              /* read under the peer's next key */
    CHECK_EQ_INT(tls_rec_key_updates(r), 1);
    CHECK_EQ_INT(tls_rec_read_seq(r), 5);       /* the new key's count */
    CHECK(ours_to_peer(&p, 5, 9));              /* our KeyUpdate went first: the peer reads our next key */
    CHECK_EQ_INT(tls_rec_write_seq(r), 5);
    REQUIRE(SSL_key_update(p.peer, SSL_KEY_UPDATE_NOT_REQUESTED) == 1);
    CHECK(peer_to_ours(&p, 5, 10));
    CHECK_EQ_INT(tls_rec_key_updates(r), 2);
    CHECK(ours_to_peer(&p, 5, 11));
    CHECK_EQ_INT(tls_rec_write_seq(r), 10);     /* no answer to an update not requested */
    close_pair(&p);
}

TEST(tls_rec_key_update_of_ours_is_followed_by_the_peer)
{
    pair_t p;
    REQUIRE(open_pair(&p, false, 0));
    REQUIRE(tls_conn_records_own(p.ours));
    struct tls_rec *r = tls_conn_record_layer(p.ours);
    CHECK(peer_to_ours(&p, 3, 12));
    REQUIRE(tls_rec_key_update(r, true) == 0);
    CHECK(ours_to_peer(&p, 4, 13));             /* the peer reads under our next key ... */
    CHECK(peer_to_ours(&p, 4, 14));             /* ... and answers with its own update */
    CHECK_EQ_INT(tls_rec_key_updates(r), 1);
    close_pair(&p);
}

TEST(tls_rec_a_corrupted_record_fails_the_link_without_close_notify)
{
    pair_t p;
    REQUIRE(open_pair(&p, true, 0));
    REQUIRE(tls_conn_records_own(p.ours));
    CHECK(peer_to_ours(&p, 3, 15));
    uint8_t data[3000], in[70000];
    memset(data, 'x', sizeof data);
    p.corrupt_next = true;
    REQUIRE(SSL_write(p.peer, data, sizeof data) == (int)sizeof data);
    carry(&p);
    ssize_t n = tls_conn_read(p.ours, in, sizeof in);
    CHECK(n == -1 && errno == EPROTO);
    CHECK(strstr(tls_conn_error(p.ours), "bad record mac") != NULL);
    n = tls_conn_read(p.ours, in, sizeof in);   /* dead from then on */
    CHECK(n == -1 && errno == EPROTO);
    CHECK(!tls_conn_pending(p.ours));
    tls_conn_free(p.ours);                      /* no close_notify after a failure */
    p.ours = NULL;
    CHECK(read(p.fds[1], in, sizeof in) <= 0);
    SSL_free(p.peer);
    close(p.fds[0]);
    close(p.fds[1]);
    ERR_clear_error();
}

TEST(tls_rec_close_notify_both_ways)
{
    pair_t p;
    REQUIRE(open_pair(&p, true, 0));
    REQUIRE(tls_conn_records_own(p.ours));
    CHECK(peer_to_ours(&p, 2, 16));
    (void)SSL_shutdown(p.peer);
    carry(&p);
    uint8_t in[70000];
    CHECK(tls_conn_read(p.ours, in, sizeof in) == 0);
    close_pair(&p);

    REQUIRE(open_pair(&p, false, 0));
    REQUIRE(tls_conn_records_own(p.ours));
    CHECK(ours_to_peer(&p, 2, 17));
    tls_conn_free(p.ours);                      /* sends close_notify under our keys */
    p.ours = NULL;
    carry(&p);
    int r = SSL_read(p.peer, in, sizeof in);
    CHECK(r <= 0 && SSL_get_error(p.peer, r) == SSL_ERROR_ZERO_RETURN);
    SSL_free(p.peer);
    close(p.fds[0]);
    close(p.fds[1]);
    ERR_clear_error();
}

TEST(tls_rec_tls12_and_the_switch_keep_openssls_records)
{
    pair_t p;
    REQUIRE(open_pair(&p, true, TLS1_2_VERSION));
    CHECK(!tls_conn_records_own(p.ours));
    CHECK(peer_to_ours(&p, 10, 18));
    CHECK(ours_to_peer(&p, 10, 19));
    close_pair(&p);

    setenv("SHOAL_TLS_RECORDS", "openssl", 1);
    bool ok = open_pair(&p, true, 0);
    unsetenv("SHOAL_TLS_RECORDS");
    REQUIRE(ok);
    CHECK(!tls_conn_records_own(p.ours));
    CHECK(peer_to_ours(&p, 10, 20));
    CHECK(ours_to_peer(&p, 10, 21));
    close_pair(&p);
}

TEST(tls_rec_only_bus_links_have_their_secrets_logged)
{
    REQUIRE(setup());
    int fds[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    /* OpenSSL formats every secret of a handshake with a sprintf per byte when
     * the context logs keys: clients and replicas must not pay for it */
    tls_conn_t *client = tls_conn_accepted(fds[0]), *out = tls_conn_connecting(fds[1]);
    tls_conn_t *bus_in = tls_conn_for_bus(fds[0], false), *bus_out = tls_conn_for_bus(fds[1], true);
    REQUIRE(client && out && bus_in && bus_out);
    CHECK(!tls_conn_logs_keys(client));
    CHECK(!tls_conn_logs_keys(out));
    CHECK(tls_conn_logs_keys(bus_in));
    CHECK(tls_conn_logs_keys(bus_out));
    setenv("SHOAL_TLS_RECORDS", "openssl", 1);
    tls_conn_t *plain_bus = tls_conn_for_bus(fds[0], false);
    unsetenv("SHOAL_TLS_RECORDS");
    REQUIRE(plain_bus);
    CHECK(!tls_conn_logs_keys(plain_bus));
    tls_conn_t *all[] = { client, out, bus_in, bus_out, plain_bus };
    for (int i = 0; i < 5; i++) tls_conn_free_silent(all[i]);
    close(fds[0]);
    close(fds[1]);
}

TEST(tls_rec_carries_each_tls13_suite)
{
    static const char *suites[] = { "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256",
                                    "TLS_AES_256_GCM_SHA384" };
    /* the AES-GCM suites both with runtime/aes_gcm.c (where the CPU has VAES) and with EVP's */
    for (int i = 0; i < 6; i++) {
        for (int server = 0; server < 2; server++) {
            pair_t p;
            if (i >= 3) setenv("SHOAL_TLS_AESGCM", "evp", 1);
            bool opened = open_pair_suite(&p, server, 0, suites[i % 3]);
            unsetenv("SHOAL_TLS_AESGCM");
            REQUIRE(opened);
            CHECK_EQ_STR(SSL_get_cipher_name(p.peer), suites[i % 3]);
            CHECK(tls_conn_records_own(p.ours));
            CHECK(peer_to_ours(&p, 40, 30 + (unsigned)i));
            CHECK(ours_to_peer(&p, 40, 40 + (unsigned)i));
            REQUIRE(SSL_key_update(p.peer, SSL_KEY_UPDATE_REQUESTED) == 1);
            CHECK(peer_to_ours(&p, 3, 50 + (unsigned)i));   /* the next secret's length is the suite's hash's */
            CHECK(ours_to_peer(&p, 3, 60 + (unsigned)i));
            close_pair(&p);
        }
    }
}

/* tls.c - OpenSSL contexts from the tls-* settings and the non-blocking
 * per-connection layer (see tls.h for the contract).
 *
 * The published pair of contexts sits behind a read-write lock that is taken
 * only to make a connection (SSL_new takes its own reference on the context)
 * and to publish a new pair; reads and writes on a connection take no lock
 * of ours. The pair is freed when the last SSL made from it is freed, by
 * OpenSSL's reference counts.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "runtime/log.h"
#include "runtime/tls.h"
#include "runtime/tls_alloc.h"
#include "runtime/tls_rec.h"

#define PROTO_TLSV1   (1 << 0)
#define PROTO_TLSV1_1 (1 << 1)
#define PROTO_TLSV1_2 (1 << 2)
#define PROTO_TLSV1_3 (1 << 3)
#define PROTO_DEFAULT (PROTO_TLSV1_2 | PROTO_TLSV1_3)   /* as 7.0.15 */

static pthread_rwlock_t ctx_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t configure_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *server_ctx;          /* guarded by ctx_lock */
static SSL_CTX *client_ctx;          /* NULL: server_ctx serves outgoing connections too */
static SSL_CTX *bus_server_ctx, *bus_client_ctx;   /* their twins for bus links (keylog_cb) */
/* Sessions that asked for our record layer: switched to it, or kept
 * OpenSSL's (INFO busdigest); relaxed: statistics, read on their own. */
static _Atomic long long records_ours, records_openssl;
/* tls-auth-clients for accepted connections; relaxed: one word, read at accept. */
static _Atomic int auth_mode = TLS_AUTH_YES;

enum { WANTS_WRITE = 1 << 0, SHUT = 1 << 1 };

struct tls_conn {
    SSL *ssl;
    int fd;
    unsigned flags;
    BIO *wbuf;          /* tls_conn_buffer_writes: the buffering BIO, owned by ssl */
    size_t wbuf_len;    /* its size while records are written */
    bool wbuf_big;      /* sized wbuf_len (else the small idle size) */
    size_t read_cap;    /* tls_conn_set_read_buffer's length (0: not set) */
    tls_rec_t *rec;     /* our record layer (tls_rec.c), once switched to it */
    bool rec_wanted;    /* tls_conn_for_bus: switch once the handshake is done */
    /* TLS 1.3 traffic secrets from the key log: [0] the client's, [1] the server's */
    uint8_t secret[2][EVP_MAX_MD_SIZE];
    size_t secret_len[2];
    char error[256];
};

/* An empty write buffer between bursts: BIO_f_buffer reallocates only
 * above its 4 KB default, so one byte more than that. */
#define WBUF_IDLE 4097

/* Resizing drops what the buffer holds: only when it is empty. */
static void wbuf_resize(tls_conn_t *t, bool big)
{
    if (!t->wbuf || t->wbuf_big == big || BIO_wpending(t->wbuf) != 0) return;
    if (BIO_set_write_buffer_size(t->wbuf, big ? (long)t->wbuf_len : WBUF_IDLE) == 1) t->wbuf_big = big;
    else ERR_clear_error();   /* out of memory: keeps the size it had */
}

static bool set(const char *s) { return s && *s; }

/* OpenSSL allocates through these, outside used_memory, as in redis-server
 * (its used_memory counts zmalloc only; OpenSSL calls the allocator
 * directly). A handshake makes a few thousand small allocations: the
 * counting's usable-size lookups were ~3% of a handshake's CPU, and glibc's
 * bins another ~10% until tls_alloc.c's per-thread cache of freed blocks. */
static void *ossl_malloc(size_t n, const char *file, int line)
{
    (void)file; (void)line;
    return tls_alloc_malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file; (void)line;
    return tls_alloc_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
    (void)file; (void)line;
    tls_alloc_free(p);
}

/* Before main: OpenSSL accepts allocator functions only before its first
 * allocation (the ACL's digests at start-up would be one). If it refused,
 * its memory would stay counted, only a statistic's difference
 * (test_openssl_memory_not_in_used_memory would say so). */
__attribute__((constructor)) static void tls_mem_setup(void)
{
    (void)CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free);
}

void tls_init(void)
{
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL);
}

/* OpenSSL asks for a key file's passphrase through this. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    const char *pass = u;
    if (!pass) return -1;
    size_t n = strlen(pass);
    if (n > (size_t)size) return -1;
    memcpy(buf, pass, n);
    return (int)n;
}

static int parse_protocols(const char *s)
{
    if (!set(s)) return PROTO_DEFAULT;
    int p = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (!strcasecmp(tok, "tlsv1")) p |= PROTO_TLSV1;
        else if (!strcasecmp(tok, "tlsv1.1")) p |= PROTO_TLSV1_1;
        else if (!strcasecmp(tok, "tlsv1.2")) p |= PROTO_TLSV1_2;
        else if (!strcasecmp(tok, "tlsv1.3")) p |= PROTO_TLSV1_3;
        else {
            LOG_WARNING("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.");
            return -1;
        }
    }
    return p;
}

static void last_error(char *buf, size_t cap)
{
    unsigned long e = ERR_get_error();
    if (e) ERR_error_string_n(e, buf, cap);
    else snprintf(buf, cap, "unknown error");
    ERR_clear_error();
}

/* With a certificate file that holds no chain, OpenSSL builds the chain it
 * sends after our certificate on every handshake: an X509_verify_cert of
 * our own certificate against the CA store, its signature checked each
 * time, about 7% of a full handshake's server CPU. Built here once instead,
 * from the same store, to the same result: the CA certificates found, the
 * root included (as 7.0.15 sends it), or nothing after our certificate when
 * the store has none. A file's own chain is sent as it is, untouched. A
 * chain that fails OpenSSL's security level is left to the per-handshake
 * build, which fails those handshakes as before. */
static void prebuild_chain(SSL_CTX *ctx)
{
    STACK_OF(X509) *chain = NULL;
    if (SSL_CTX_get0_chain_certs(ctx, &chain) == 1 && chain && sk_X509_num(chain) > 0) return;
    if (SSL_CTX_build_cert_chain(ctx, SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR | SSL_BUILD_CHAIN_FLAG_CLEAR_ERROR) <= 0)
        ERR_clear_error();
}

/* The ex_data slot that points an SSL back at its tls_conn_t (only for
 * connections that want our record layer). */
static pthread_once_t conn_index_once = PTHREAD_ONCE_INIT;
static int conn_index_value = -1;
static void conn_index_make(void) { conn_index_value = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL); }
static int conn_index(void)
{
    pthread_once(&conn_index_once, conn_index_make);
    return conn_index_value;
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* OpenSSL's key log (the NSS format): for a connection that wants our
 * record layer, the two application traffic secrets of TLS 1.3
 * (CLIENT_TRAFFIC_SECRET_0, SERVER_TRAFFIC_SECRET_0 <client random> <hex>),
 * which tls_rec.c derives its keys from. Every other line and connection
 * is ignored; nothing is written anywhere. */
static void keylog_cb(const SSL *ssl, const char *line)
{
    tls_conn_t *t = conn_index_value >= 0 ? SSL_get_ex_data(ssl, conn_index_value) : NULL;
    if (!t || !t->rec_wanted) return;
    int which = !strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) ? 0 : !strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24) ? 1 : -1;
    const char *hex = which >= 0 ? strrchr(line, ' ') : NULL;
    if (!hex) return;
    hex++;
    size_t n = strlen(hex) / 2;
    if (n == 0 || n > EVP_MAX_MD_SIZE || strlen(hex) % 2) return;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return;
        t->secret[which][i] = (uint8_t)(hi << 4 | lo);
    }
    t->secret_len[which] = n;
}

/* What the server and client contexts share; `client` picks the client
 * certificate. NULL after logging. */
static SSL_CTX *base_ctx(const tls_settings_t *s, int protocols, bool client)
{
    const char *cert = client ? s->client_cert_file : s->cert_file;
    const char *key = client ? s->client_key_file : s->key_file;
    const char *pass = client ? s->client_key_file_pass : s->key_file_pass;
    char err[256];
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (!ctx) {
        last_error(err, sizeof err);
        LOG_WARNING("Failed to create an SSL context: %s", err);
        return NULL;
    }
    long opts = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS | SSL_OP_NO_COMPRESSION;
    if (!(protocols & PROTO_TLSV1)) opts |= SSL_OP_NO_TLSv1;
    if (!(protocols & PROTO_TLSV1_1)) opts |= SSL_OP_NO_TLSv1_1;
    if (!(protocols & PROTO_TLSV1_2)) opts |= SSL_OP_NO_TLSv1_2;
    if (!(protocols & PROTO_TLSV1_3)) opts |= SSL_OP_NO_TLSv1_3;
    SSL_CTX_set_options(ctx, opts);
    /* Callers retry a write with a buffer that may have moved or grown, and
     * loop over partial writes themselves. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* One read(2) takes every record the socket holds, instead of two per
     * record (header, then body): half the syscalls or fewer on the bus and
     * for pipelined clients. Records read ahead stay inside OpenSSL, which
     * tls_conn_pending reports (SSL_has_pending). */
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    (void)conn_index();   /* the slot keylog_cb reads, made before any connection */
    SSL_CTX_set_default_passwd_cb(ctx, pass_cb);
    /* The callback runs only inside the two loads below, while `pass` lives. */
    SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)pass);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) <= 0) {
        last_error(err, sizeof err);
        LOG_WARNING("Failed to load certificate: %s: %s", cert, err);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) <= 0) {
        last_error(err, sizeof err);
        LOG_WARNING("Failed to load private key: %s: %s", key, err);
        goto fail;
    }
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
    if ((set(s->ca_cert_file) || set(s->ca_cert_dir)) &&
        SSL_CTX_load_verify_locations(ctx, set(s->ca_cert_file) ? s->ca_cert_file : NULL,
                                      set(s->ca_cert_dir) ? s->ca_cert_dir : NULL) <= 0) {
        last_error(err, sizeof err);
        LOG_WARNING("Failed to configure CA certificate(s) file/directory: %s", err);
        goto fail;
    }
    prebuild_chain(ctx);
    if (set(s->ciphers) && !SSL_CTX_set_cipher_list(ctx, s->ciphers)) {
        ERR_clear_error();
        LOG_WARNING("Failed to configure ciphers: %s", s->ciphers);
        goto fail;
    }
    if (set(s->ciphersuites) && !SSL_CTX_set_ciphersuites(ctx, s->ciphersuites)) {
        ERR_clear_error();
        LOG_WARNING("Failed to configure ciphersuites: %s", s->ciphersuites);
        goto fail;
    }
    return ctx;
fail:
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
    SSL_CTX_free(ctx);
    return NULL;
}

static int load_dh(SSL_CTX *ctx, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        LOG_WARNING("Failed to load %s: %s", path, strerror(errno));
        return -1;
    }
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *d = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "DH",
                                                        OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS, NULL, NULL);
    if (!d) {
        fclose(f);
        LOG_WARNING("No decoder for DH params.");
        return -1;
    }
    int ok = OSSL_DECODER_from_fp(d, f);
    OSSL_DECODER_CTX_free(d);
    fclose(f);
    if (!ok) {
        ERR_clear_error();
        LOG_WARNING("%s: failed to read DH params.", path);
        return -1;
    }
    if (SSL_CTX_set0_tmp_dh_pkey(ctx, pkey) <= 0) {   /* on success OpenSSL owns pkey */
        char err[256];
        last_error(err, sizeof err);
        LOG_WARNING("Failed to load DH params file: %s: %s", path, err);
        EVP_PKEY_free(pkey);
        return -1;
    }
    return 0;
}

/* The server context: base_ctx with the session cache and the server's
 * options. NULL after logging. */
static SSL_CTX *server_ctx_new(const tls_settings_t *s, int protocols)
{
    SSL_CTX *ctx = base_ctx(s, protocols, false);
    if (!ctx) return NULL;
    if (s->session_caching) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
        SSL_CTX_sess_set_cache_size(ctx, s->session_cache_size);
        SSL_CTX_set_timeout(ctx, s->session_cache_timeout);
        SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"redis", 5);
        /* Sessions stay in this cache and a ticket carries only the
         * session's id (stateful tickets). With OpenSSL's default stateless
         * tickets, every ticket sent is the session encoded and decoded
         * again to copy it, and every resumption decodes it from the ticket:
         * each time re-parsing the client's certificate, which OpenSSL 3.0
         * does slowly (a decoder context per public key). That was a fifth
         * of a full handshake's CPU and half of a resumed one's. What a
         * client sees is the same: tickets that resume (any number of
         * times) until tls-session-cache-timeout, now also bounded by
         * tls-session-cache-size as the directive says. */
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    }
#ifdef SSL_OP_NO_CLIENT_RENEGOTIATION
    SSL_CTX_set_options(ctx, SSL_OP_NO_CLIENT_RENEGOTIATION);
#endif
    SSL_CTX_set_options(ctx, SSL_OP_SINGLE_DH_USE);
    /* A client that drops the socket without close_notify is an ordinary
     * close (fail() below), not a fatal error: as an error OpenSSL would
     * also drop the connection's session from the cache, so that client
     * could not resume. */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (s->prefer_server_ciphers) SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (set(s->dh_params_file)) {
        if (load_dh(ctx, s->dh_params_file) != 0) {
            SSL_CTX_free(ctx);
            return NULL;
        }
    } else {
        SSL_CTX_set_dh_auto(ctx, 1);
    }
    return ctx;
}

int tls_configure(const tls_settings_t *s)
{
    if (!set(s->cert_file)) {
        LOG_WARNING("No tls-cert-file configured!");
        return -1;
    }
    if (!set(s->key_file)) {
        LOG_WARNING("No tls-key-file configured!");
        return -1;
    }
    if ((s->auth_clients != TLS_AUTH_NO || s->tls_cluster || s->tls_replication) && !set(s->ca_cert_file) &&
        !set(s->ca_cert_dir)) {
        LOG_WARNING("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, "
                    "tls-replication or tls-auth-clients are enabled!");
        return -1;
    }
    int protocols = parse_protocols(s->protocols);
    if (protocols < 0) return -1;
    pthread_mutex_lock(&configure_lock);
    /* Bus links get twins of the two contexts that also log the traffic
     * secrets (keylog_cb, for our record layer): OpenSSL formats each
     * secret of a handshake as hex with a sprintf per byte when a context
     * has a key log callback, ~60 us a handshake, which clients should not
     * pay. */
    bool want_cl = set(s->client_cert_file) && set(s->client_key_file);
    SSL_CTX *ctx = server_ctx_new(s, protocols);
    SSL_CTX *bus = ctx ? server_ctx_new(s, protocols) : NULL;
    SSL_CTX *cl = bus && want_cl ? base_ctx(s, protocols, true) : NULL;
    SSL_CTX *bus_cl = cl ? base_ctx(s, protocols, true) : NULL;
    if (!bus || (want_cl && !bus_cl)) {
        SSL_CTX_free(ctx);
        SSL_CTX_free(bus);
        SSL_CTX_free(cl);
        SSL_CTX_free(bus_cl);
        pthread_mutex_unlock(&configure_lock);
        return -1;
    }
    SSL_CTX_set_keylog_callback(bus, keylog_cb);
    if (bus_cl) SSL_CTX_set_keylog_callback(bus_cl, keylog_cb);
    pthread_rwlock_wrlock(&ctx_lock);
    SSL_CTX *old[4] = { server_ctx, client_ctx, bus_server_ctx, bus_client_ctx };
    server_ctx = ctx;
    client_ctx = cl;
    bus_server_ctx = bus;
    bus_client_ctx = bus_cl;
    pthread_rwlock_unlock(&ctx_lock);
    /* Connections made from the old ones hold their own references. */
    for (int i = 0; i < 4; i++) SSL_CTX_free(old[i]);
    tls_set_auth_clients(s->auth_clients);
    pthread_mutex_unlock(&configure_lock);
    return 0;
}

bool tls_configured(void)
{
    pthread_rwlock_rdlock(&ctx_lock);
    bool r = server_ctx != NULL;
    pthread_rwlock_unlock(&ctx_lock);
    return r;
}

void tls_set_auth_clients(int mode)
{
    atomic_store_explicit(&auth_mode, mode, memory_order_relaxed);
}

static tls_conn_t *conn_new(int fd, bool client, bool bus)
{
    pthread_rwlock_rdlock(&ctx_lock);
    SSL_CTX *ctx = bus ? (client && bus_client_ctx ? bus_client_ctx : bus_server_ctx)
                 : client && client_ctx ? client_ctx : server_ctx;
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    pthread_rwlock_unlock(&ctx_lock);
    if (!ssl) {
        ERR_clear_error();
        return NULL;
    }
    tls_conn_t *t = calloc(1, sizeof *t);
    if (!t || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        free(t);
        ERR_clear_error();
        return NULL;
    }
    t->ssl = ssl;
    t->fd = fd;
    return t;
}

static tls_conn_t *accepted_on(int fd, int auth, bool bus)
{
    tls_conn_t *t = conn_new(fd, false, bus);
    if (!t) return NULL;
    int mode = auth == TLS_AUTH_NO ? SSL_VERIFY_NONE
             : auth == TLS_AUTH_OPTIONAL ? SSL_VERIFY_PEER
             : SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_set_verify(t->ssl, mode, NULL);
    SSL_set_accept_state(t->ssl);
    return t;
}

static tls_conn_t *connecting_on(int fd, bool bus)
{
    tls_conn_t *t = conn_new(fd, true, bus);
    if (!t) return NULL;
    SSL_set_connect_state(t->ssl);
    return t;
}

tls_conn_t *tls_conn_accepted_auth(int fd, int auth) { return accepted_on(fd, auth, false); }

tls_conn_t *tls_conn_accepted(int fd)
{
    return accepted_on(fd, atomic_load_explicit(&auth_mode, memory_order_relaxed), false);
}

tls_conn_t *tls_conn_connecting(int fd) { return connecting_on(fd, false); }

static void own_records(tls_conn_t *t);

tls_conn_t *tls_conn_for_bus(int fd, bool outbound)
{
    const char *env = getenv("SHOAL_TLS_RECORDS");
    bool own = !(env && !strcmp(env, "openssl"));   /* the A/B switch: OpenSSL's record layer, as before */
    tls_conn_t *t = outbound ? connecting_on(fd, own)
                             : accepted_on(fd, atomic_load_explicit(&auth_mode, memory_order_relaxed), own);
    if (t && own) own_records(t);
    return t;
}

/* Maps OpenSSL's verdict on a call that returned r <= 0 to our contract:
 * 0 for an orderly close, -1 with errno. */
static ssize_t fail(tls_conn_t *t, int r)
{
    int e = SSL_get_error(t->ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        t->flags &= ~WANTS_WRITE;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        t->flags |= WANTS_WRITE;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        /* The peer closed (close_notify, or an EOF: SSL_OP_IGNORE_UNEXPECTED_EOF).
         * As 7.0.15, no close_notify goes back: a write to a socket the peer
         * has closed, one syscall per connection for nothing. */
        t->flags |= SHUT;
        return 0;
    case SSL_ERROR_SYSCALL: {
        int saved = errno;
        ERR_clear_error();
        if (saved == EAGAIN || saved == EWOULDBLOCK || saved == EINTR) {
            errno = EAGAIN;
            return -1;
        }
        if (saved == 0) return 0;       /* EOF without close_notify */
        snprintf(t->error, sizeof t->error, "%s", strerror(saved));
        errno = saved;
        return -1;
    }
    default:
        /* A peer that just closes its socket is not an attack worth a
         * warning: the same as an orderly close. */
        if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            ERR_clear_error();
            t->flags |= SHUT;
            return 0;
        }
        last_error(t->error, sizeof t->error);
        t->flags |= SHUT;               /* no close_notify after a protocol error */
        errno = EPROTO;
        return -1;
    }
}

/* SSL_get_error needs the thread's error queue empty before the call. It
 * nearly always is (every failure here empties it): a look is cheaper than
 * ERR_clear_error's walk over all its slots, which was ~1.4% of a TLS
 * gossip flood's CPU, at two calls per record. */
static void errors_cleared(void)
{
    if (ERR_peek_error() != 0) ERR_clear_error();
}

int tls_conn_flush(tls_conn_t *t);

/* For a connection that wants our record layer: once OpenSSL's handshake is
 * done, switch to tls_rec.c when the session allows (TLS 1.3, a suite it
 * carries, both secrets logged, nothing read ahead inside OpenSSL), else
 * keep OpenSSL's layer. True: go on with the call; false: return *ret (the
 * handshake is not done, or failed). Both sequence numbers start at 0 here:
 * OpenSSL reads no record past the handshake (no read-ahead until then),
 * and writes none (the server side sends no session tickets). */
static bool records_ready(tls_conn_t *t, ssize_t *ret)
{
    if (!SSL_is_init_finished(t->ssl)) {
        errors_cleared();
        errno = 0;
        int r = SSL_do_handshake(t->ssl);
        if (r != 1) {
            *ret = fail(t, r);
            return false;
        }
    }
    if (t->wbuf && BIO_wpending(t->wbuf) > 0) {   /* the handshake's last flight, still buffered */
        int f = tls_conn_flush(t);
        if (f <= 0) {
            if (f == 0) errno = EAGAIN;
            *ret = -1;
            return false;
        }
    }
    t->rec_wanted = false;
    const SSL_CIPHER *c = SSL_get_current_cipher(t->ssl);
    unsigned id = c ? (unsigned)(SSL_CIPHER_get_id(c) & 0xffff) : 0;
    if (SSL_version(t->ssl) == TLS1_3_VERSION && tls_rec_suite_supported(id) && !SSL_has_pending(t->ssl) &&
        t->secret_len[0] && t->secret_len[0] == t->secret_len[1]) {
        int peer = SSL_is_server(t->ssl) ? 0 : 1;   /* we read the peer's direction */
        t->rec = tls_rec_new(t->fd, id, t->secret[peer], t->secret[!peer], t->secret_len[0], t->read_cap,
                             t->wbuf_len);
    }
    if (!t->rec) SSL_set_read_ahead(t->ssl, 1);   /* OpenSSL's layer goes on, reading ahead again */
    atomic_fetch_add_explicit(t->rec ? &records_ours : &records_openssl, 1, memory_order_relaxed);
    OPENSSL_cleanse(t->secret, sizeof t->secret);
    return true;
}

/* A result of tls_rec.c as tls_conn_read/write give theirs. */
static ssize_t rec_result(tls_conn_t *t, ssize_t v, bool writing)
{
    if (v >= 0) return v;
    if (errno == EAGAIN) {
        if (writing) t->flags |= WANTS_WRITE;
        else t->flags &= ~WANTS_WRITE;
        return -1;
    }
    int e = errno;
    snprintf(t->error, sizeof t->error, "%s", e == EPROTO ? tls_rec_error(t->rec) : strerror(e));
    t->flags |= SHUT;       /* no close_notify after a failure */
    errno = e;
    return -1;
}

ssize_t tls_conn_read(tls_conn_t *t, void *buf, size_t len)
{
    if (len == 0) return 0;
    if (len > INT32_MAX) len = INT32_MAX;
    ssize_t ret;
    if (t->rec_wanted && !records_ready(t, &ret)) return ret;
    if (t->rec) {
        ssize_t v = rec_result(t, tls_rec_read(t->rec, buf, len), false);
        if (v == 0) t->flags |= SHUT;   /* as OpenSSL's close: no close_notify back */
        return v;
    }
    errors_cleared();
    errno = 0;
    int r = SSL_read(t->ssl, buf, (int)len);
    if (r > 0) return r;
    return fail(t, r);
}

ssize_t tls_conn_write(tls_conn_t *t, const void *buf, size_t len)
{
    if (len == 0) return 0;
    if (len > INT32_MAX) len = INT32_MAX;
    ssize_t ret;
    if (t->rec_wanted && !records_ready(t, &ret)) {
        if (ret == 0) errno = ECONNRESET, ret = -1;
        return ret;
    }
    if (t->rec) return rec_result(t, tls_rec_write(t->rec, buf, len), true);
    wbuf_resize(t, true);
    errors_cleared();
    errno = 0;
    int r = SSL_write(t->ssl, buf, (int)len);
    if (r > 0) return r;
    ssize_t v = fail(t, r);
    if (v == 0) {                       /* the peer closed: a write cannot go on */
        errno = ECONNRESET;
        v = -1;
    }
    return v;
}

int tls_conn_handshake(tls_conn_t *t)
{
    if (SSL_is_init_finished(t->ssl)) return 1;
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) return 1;
    ssize_t v = fail(t, r);
    if (v < 0 && errno == EAGAIN) return 0;
    if (!t->error[0]) snprintf(t->error, sizeof t->error, "connection closed during the handshake");
    errno = ECONNRESET;
    return -1;
}

bool tls_conn_wants_write(const tls_conn_t *t) { return (t->flags & WANTS_WRITE) != 0; }
bool tls_conn_pending(const tls_conn_t *t)
{
    return t->rec ? tls_rec_pending(t->rec) : SSL_has_pending(t->ssl) == 1;
}

/* Asks for our record layer once the handshake is done (records_ready). */
static void own_records(tls_conn_t *t)
{
    t->rec_wanted = true;
    SSL_set_ex_data(t->ssl, conn_index(), t);
    SSL_set_read_ahead(t->ssl, 0);                /* nothing past the handshake read into OpenSSL */
    if (SSL_is_server(t->ssl)) SSL_set_num_tickets(t->ssl, 0);   /* nothing written after it */
}

bool tls_conn_records_own(const tls_conn_t *t) { return t->rec != NULL; }

bool tls_conn_logs_keys(const tls_conn_t *t)
{
    return SSL_CTX_get_keylog_callback(SSL_get_SSL_CTX(t->ssl)) != NULL;
}

void tls_records_counts(long long *ours, long long *openssl)
{
    *ours = atomic_load_explicit(&records_ours, memory_order_relaxed);
    *openssl = atomic_load_explicit(&records_openssl, memory_order_relaxed);
}
struct tls_rec *tls_conn_record_layer(tls_conn_t *t) { return t->rec; }
void tls_conn_set_read_buffer(tls_conn_t *t, size_t len)
{
    SSL_set_default_read_buffer_len(t->ssl, len);
    t->read_cap = len;
}

void tls_conn_release_idle_buffers(tls_conn_t *t)
{
    SSL_set_mode(t->ssl, SSL_MODE_RELEASE_BUFFERS);
}

bool tls_conn_buffer_writes(tls_conn_t *t, size_t len)
{
    /* A buffering BIO in front of the socket's: OpenSSL then writes its
     * records into it (and flushes it itself after handshake messages and
     * alerts); the socket BIO stays the read side. */
    BIO *sock = SSL_get_wbio(t->ssl);
    BIO *buf = BIO_new(BIO_f_buffer());
    if (!sock || !buf || BIO_set_write_buffer_size(buf, (long)len) != 1 || BIO_up_ref(sock) != 1) {
        BIO_free(buf);
        ERR_clear_error();
        return false;
    }
    BIO_push(buf, sock);
    SSL_set0_wbio(t->ssl, buf);   /* takes buf; drops the wbio's own reference to sock */
    t->wbuf = buf;
    t->wbuf_len = len;
    t->wbuf_big = true;
    wbuf_resize(t, false);        /* full size from the first write of a burst on */
    return true;
}

int tls_conn_flush(tls_conn_t *t)
{
    if (t->rec) {
        int f = tls_rec_flush(t->rec);
        if (f == 0) {
            t->flags |= WANTS_WRITE;
            errno = EAGAIN;
        } else if (f < 0) {
            snprintf(t->error, sizeof t->error, "%s", strerror(errno));
        }
        return f;
    }
    BIO *w = SSL_get_wbio(t->ssl);
    if (BIO_wpending(w) == 0) {
        wbuf_resize(t, false);
        return 1;
    }
    errors_cleared();
    errno = 0;
    if (BIO_flush(w) > 0) {
        wbuf_resize(t, false);    /* an idle link holds 4 KB, not the burst's size */
        return 1;
    }
    if (BIO_should_retry(w)) {
        t->flags |= WANTS_WRITE;
        errno = EAGAIN;
        return 0;
    }
    if (!errno) errno = EPIPE;
    snprintf(t->error, sizeof t->error, "%s", strerror(errno));
    ERR_clear_error();
    return -1;
}

bool tls_conn_handshake_done(const tls_conn_t *t) { return SSL_is_init_finished(t->ssl); }
const char *tls_conn_error(const tls_conn_t *t) { return t->error; }
int tls_conn_fd(const tls_conn_t *t) { return t->fd; }

ssize_t tls_io_read(tls_conn_t *t, int fd, void *buf, size_t len)
{
    return t ? tls_conn_read(t, buf, len) : read(fd, buf, len);
}

ssize_t tls_io_write(tls_conn_t *t, int fd, const void *buf, size_t len)
{
    return t ? tls_conn_write(t, buf, len) : send(fd, buf, len, MSG_NOSIGNAL);
}

void tls_conn_free_silent(tls_conn_t *t)
{
    if (t) t->flags |= SHUT;
    tls_conn_free(t);
}

void tls_conn_free(tls_conn_t *t)
{
    if (!t) return;
    if (t->rec) {               /* OpenSSL's own sequence numbers are stale: ours says it */
        if (!(t->flags & SHUT)) tls_rec_close_notify(t->rec);
        tls_rec_free(t->rec);
        t->rec = NULL;
        t->flags |= SHUT;
    }
    OPENSSL_cleanse(t->secret, sizeof t->secret);
    /* Best effort: a close_notify that does not fit now is not waited for. */
    if (!(t->flags & SHUT) && SSL_is_init_finished(t->ssl)) {
        ERR_clear_error();
        (void)SSL_shutdown(t->ssl);
    }
    /* Freed without a close_notify sent, OpenSSL would take the session out
     * of the cache (as if the connection had failed): mark the shutdown
     * done. A connection that failed had its session dropped already. */
    SSL_set_shutdown(t->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    ERR_clear_error();
    SSL_free(t->ssl);
    free(t);
}

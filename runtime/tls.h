/* tls.h - OpenSSL contexts built from the node's tls-* settings, and a
 * non-blocking TLS layer for one connection.
 *
 * Memory: OpenSSL allocates with glibc's allocator outside the memory
 * counting (runtime/memcount.h), set up before main, as redis-server leaves
 * OpenSSL's memory out of used_memory.
 *
 * Contexts: tls_configure() builds a server context (our certificate, the
 * CA to verify peers, session cache, protocols, ciphers, DH parameters) and,
 * when a client certificate is set, a separate context for the connections
 * we open; then publishes both at once. Connections made afterwards use the
 * new pair; connections already open keep the context they were made with
 * (OpenSSL counts references), so a reload never disturbs them. A failed
 * build changes nothing.
 *
 * Connections: a tls_conn_t wraps one non-blocking socket. It belongs to the
 * thread that owns the socket (it may be handed to another thread together
 * with the socket, as a message, never used by two at once): there is no
 * lock on the I/O path. Reads and writes never block: when OpenSSL needs the
 * socket readable or writable first, they fail with EAGAIN and
 * tls_conn_wants_write() says which readiness to wait for. The handshake
 * runs inside the first reads and writes (or tls_conn_handshake()).
 *
 * Never: close the fd (the caller owns it), log on the I/O path (errors are
 * kept for the caller, who logs at its boundary).
 */
#ifndef SHOAL_RUNTIME_TLS_H
#define SHOAL_RUNTIME_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* tls-auth-clients */
enum tls_auth { TLS_AUTH_NO = 0, TLS_AUTH_YES = 1, TLS_AUTH_OPTIONAL = 2 };

/* The directives, as strings (NULL or "" = unset). Borrowed for the call. */
typedef struct tls_settings {
    const char *cert_file, *key_file, *key_file_pass;
    const char *client_cert_file, *client_key_file, *client_key_file_pass;
    const char *dh_params_file;
    const char *ca_cert_file, *ca_cert_dir;
    const char *protocols;          /* "TLSv1.2 TLSv1.3"; unset = TLSv1.2 and TLSv1.3 */
    const char *ciphers, *ciphersuites;
    bool prefer_server_ciphers;
    bool session_caching;
    long long session_cache_size, session_cache_timeout;
    int auth_clients;               /* enum tls_auth */
    bool tls_cluster, tls_replication;   /* these also need a CA */
} tls_settings_t;

/* Once, before any other call (main thread, before other threads start). */
void tls_init(void);

/* Builds contexts from `s` and publishes them. Returns 0, or -1 after
 * logging why (Redis's warnings), leaving the published pair as it was.
 * Any thread; calls are serialized. */
int tls_configure(const tls_settings_t *s);

/* Whether a pair was ever published. */
bool tls_configured(void);

/* Changes only the tls-auth-clients mode used by accepted connections made
 * from now on (CONFIG SET tls-auth-clients without a rebuild). */
void tls_set_auth_clients(int mode);

typedef struct tls_conn tls_conn_t;

/* A server-side connection on an accepted socket, verifying the client's
 * certificate as tls-auth-clients says. NULL if TLS is not configured or
 * OpenSSL fails. The caller frees it with tls_conn_free(). */
tls_conn_t *tls_conn_accepted(int fd);
/* The same with an explicit verification mode (enum tls_auth). */
tls_conn_t *tls_conn_accepted_auth(int fd, int auth);
/* A client-side connection on a socket we connect (or connected): it uses
 * the client certificate if one is set, and always verifies the server's
 * certificate against the CA. */
tls_conn_t *tls_conn_connecting(int fd);

/* A cluster bus link's connection: as tls_conn_connecting (outbound) or
 * tls_conn_accepted, from twins of those contexts that log the traffic
 * secrets, and once OpenSSL's handshake is done its records are carried by
 * our own TLS 1.3 record layer (runtime/tls_rec.c: decrypts straight into
 * the caller's buffer, encrypts straight into the write buffer) when the
 * session is TLS 1.3 with a suite it carries; else OpenSSL's stays. The
 * server side sends no session tickets then. SHOAL_TLS_RECORDS=openssl in
 * the environment makes it exactly tls_conn_connecting/accepted (A/B). */
tls_conn_t *tls_conn_for_bus(int fd, bool outbound);

/* Reads up to len bytes: >0 bytes, 0 the peer closed, -1 with errno
 * (EAGAIN: wait for the readiness tls_conn_wants_write() names; EPROTO or
 * ECONNRESET: the connection is dead, tls_conn_error() says why). */
ssize_t tls_conn_read(tls_conn_t *t, void *buf, size_t len);
/* Writes up to len bytes (one record at most per call is fine for callers
 * that loop): >0 bytes taken, -1 with errno as above. The caller may move
 * or grow its buffer between a failed call and its retry. */
ssize_t tls_conn_write(tls_conn_t *t, const void *buf, size_t len);
/* Drives the handshake alone: 1 done, 0 not yet (errno EAGAIN), -1 failed. */
int tls_conn_handshake(tls_conn_t *t);

/* After EAGAIN: true when the socket must become writable (else readable). */
bool tls_conn_wants_write(const tls_conn_t *t);
/* Bytes held inside OpenSSL (decrypted, or records read ahead of the
 * caller) that no socket event will announce: the owner reads again. */
bool tls_conn_pending(const tls_conn_t *t);
/* Before the first byte moves: let one read(2) take up to len bytes of
 * records (OpenSSL's read-ahead buffer; its default holds one full record).
 * Costs len bytes per connection for its life: for the few busy links only. */
void tls_conn_set_read_buffer(tls_conn_t *t, size_t len);
/* OpenSSL's record buffers are freed whenever they are empty (and taken
 * again for the next record): an idle connection holds none, at a malloc
 * and free per read or write. For connections with large buffers. */
void tls_conn_release_idle_buffers(tls_conn_t *t);
/* Before the first byte moves: records written gather in a buffer of len
 * bytes and leave in one write(2) when it fills or at tls_conn_flush, not
 * one write(2) per record. Returns false when it could not be set up (the
 * connection then writes unbuffered, as before). */
bool tls_conn_buffer_writes(tls_conn_t *t, size_t len);
/* Sends what tls_conn_buffer_writes gathered: 1 all sent (or nothing was
 * held), 0 the socket is full (wait until writable, then call again), -1
 * with errno on a failed socket. */
int tls_conn_flush(tls_conn_t *t);
bool tls_conn_handshake_done(const tls_conn_t *t);
/* Whether the connection's context has OpenSSL log its secrets (tests:
 * only bus links pay for it). */
bool tls_conn_logs_keys(const tls_conn_t *t);
/* Whether our record layer carries the connection now (tests). */
bool tls_conn_records_own(const tls_conn_t *t);
/* Handshakes done by connections that asked for our record layer, by the
 * layer that then carried them (INFO busdigest). Any thread. */
void tls_records_counts(long long *ours, long long *openssl);
struct tls_rec;
/* That layer, or NULL (tests). */
struct tls_rec *tls_conn_record_layer(tls_conn_t *t);
/* Why the last call failed ("" if none). */
const char *tls_conn_error(const tls_conn_t *t);
/* The socket. */
int tls_conn_fd(const tls_conn_t *t);

/* For modules whose connections may or may not be TLS: through t when it is
 * not NULL, else read(2)/send(2) on fd (send without SIGPIPE). Same results. */
ssize_t tls_io_read(tls_conn_t *t, int fd, void *buf, size_t len);
ssize_t tls_io_write(tls_conn_t *t, int fd, const void *buf, size_t len);

/* Sends close_notify if it fits without blocking, then frees. NULL is fine. */
void tls_conn_free(tls_conn_t *t);
/* Frees without a close_notify: another process (a forked child) goes on
 * with the session on its copy of the socket. NULL is fine. */
void tls_conn_free_silent(tls_conn_t *t);

#endif

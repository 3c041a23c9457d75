/* tls_rec.h - our own TLS 1.3 record layer, for a connection whose
 * handshake OpenSSL did (runtime/tls.c switches a bus link to it once its
 * handshake is over; see tls_rec.c for why).
 *
 * A tls_rec_t holds the two directions' traffic secrets, a buffer of the
 * bytes read from the socket (records are decrypted from there straight
 * into the caller's buffer) and a buffer of sealed records waiting for the
 * socket. It belongs to the thread that owns the socket, as a tls_conn_t.
 *
 * Never: close the fd (the caller owns it), log, block.
 */
#ifndef SHOAL_RUNTIME_TLS_REC_H
#define SHOAL_RUNTIME_TLS_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The largest plaintext of one record (RFC 8446 §5.1). */
#define TLS_REC_PLAIN_MAX 16384

typedef struct tls_rec tls_rec_t;

/* Whether suite_id (SSL_CIPHER_get_id() & 0xffff: 0x1301 AES-128-GCM,
 * 0x1302 AES-256-GCM, 0x1303 ChaCha20-Poly1305) is one we can carry. */
bool tls_rec_suite_supported(unsigned suite_id);

/* A record layer on fd from the traffic secrets (each secret_len bytes,
 * the suite's hash length) with both sequence numbers at 0. read_cap and
 * write_cap: the most bytes one read(2) takes and one write(2) sends (at
 * least one full record each; smaller values are raised). NULL when the
 * suite is not supported or memory ran out. The caller frees it with
 * tls_rec_free(). The secrets are copied; the caller may wipe its copies. */
tls_rec_t *tls_rec_new(int fd, unsigned suite_id, const uint8_t *read_secret, const uint8_t *write_secret,
                       size_t secret_len, size_t read_cap, size_t write_cap);

/* Reads up to len bytes of application data: >0 bytes, 0 the peer closed
 * (close_notify, or EOF), -1 with errno (EAGAIN: wait until readable;
 * EPROTO: a bad record, alert or message, tls_rec_error() says which; the
 * layer is dead from then on; else the socket's error). NewSessionTicket
 * and KeyUpdate messages are handled inside; a KeyUpdate that asks for ours
 * queues it in the write buffer (sent by the next write or flush). */
ssize_t tls_rec_read(tls_rec_t *r, void *buf, size_t len);
/* Seals up to TLS_REC_PLAIN_MAX bytes of buf as one record into the write
 * buffer, sending what the buffer holds first when it has no room: >0
 * bytes taken, -1 with errno (EAGAIN: the socket is full, wait until
 * writable; EPROTO after a failure; else the socket's error). */
ssize_t tls_rec_write(tls_rec_t *r, const void *buf, size_t len);
/* Sends the write buffer: 1 all sent, 0 the socket is full (wait until
 * writable), -1 with errno. */
int tls_rec_flush(tls_rec_t *r);
/* Whole records or decrypted bytes held that no socket event will announce. */
bool tls_rec_pending(const tls_rec_t *r);
/* Sealed bytes the socket has not taken yet. */
bool tls_rec_wants_write(const tls_rec_t *r);
/* Queues a KeyUpdate (asking for the peer's when request_peer) and moves
 * our write key on: -1 when the layer failed or the buffer has no room. */
int tls_rec_key_update(tls_rec_t *r, bool request_peer);
/* Seals a close_notify alert and tries once to send what is buffered. */
void tls_rec_close_notify(tls_rec_t *r);
/* Why the layer failed ("" if it did not). */
const char *tls_rec_error(const tls_rec_t *r);
/* Records sealed and opened under the current keys (tests). */
uint64_t tls_rec_write_seq(const tls_rec_t *r);
uint64_t tls_rec_read_seq(const tls_rec_t *r);
/* Key updates received from the peer (tests). */
unsigned tls_rec_key_updates(const tls_rec_t *r);
/* Wipes the secrets and frees. NULL is fine. */
void tls_rec_free(tls_rec_t *r);

#endif

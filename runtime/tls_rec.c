/* tls_rec.c - a TLS 1.3 record layer of our own (RFC 8446 §5, §7.1-7.3),
 * under a session whose handshake OpenSSL did.
 *
 * Why: in the TLS gossip flood, OpenSSL's record layer cost about a third
 * of a PING's CPU beyond the cipher itself: it copies every record's
 * plaintext out of its read buffer after decrypting in place, copies what
 * it is given into its write buffer before encrypting, the buffering BIO
 * in front of the socket copies each record once more, and each record
 * passes several layers of calls. Here the bytes read from the socket are
 * opened straight into the caller's buffer and the caller's bytes are
 * sealed straight into the buffer that goes to write(2): the cipher's
 * own pass is the only one over the bytes.
 *
 * What it carries: application data both ways; post-handshake messages
 * read (NewSessionTicket ignored, KeyUpdate followed, answering a request
 * with ours); alerts (close_notify is an orderly close, any other ends the
 * layer); a close_notify sent on close. What it refuses (EPROTO, the owner
 * closes the link, which reconnects): a record that does not open (bad
 * tag, wrong sequence), an unencrypted or oversized record, any other
 * post-handshake message. Suites: the three TLS 1.3 AEADs 7.0.15's OpenSSL
 * offers by default (AES-128/256-GCM, ChaCha20-Poly1305); tls.c keeps
 * OpenSSL's record layer for anything else. AES-GCM is our own
 * (runtime/aes_gcm.c, four blocks per instruction) where the CPU has
 * VAES, else EVP's, as ChaCha20-Poly1305 always is.
 *
 * Never: log, block, read or write past the buffers' lengths, let out a
 * byte of a record whose tag did not verify as application data.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "runtime/aes_gcm.h"
#include "runtime/tls_alloc.h"
#include "runtime/tls_rec.h"

#define HDR_LEN 5
#define TAG_LEN 16
#define IV_LEN 12
#define CIPHER_MAX (TLS_REC_PLAIN_MAX + 256)   /* TLSCiphertext.length's bound */
#define RECORD_MAX (HDR_LEN + CIPHER_MAX)
#define HS_MAX (64 * 1024)                      /* a post-handshake message's bound */

enum { CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23 };
enum { HS_NEW_SESSION_TICKET = 4, HS_KEY_UPDATE = 24 };

typedef struct {
    EVP_CIPHER_CTX *ctx;
    aes_gcm_key_t *vaes;        /* the AES-GCM suites on a CPU with VAES (aes_gcm.h), else NULL: EVP */
    uint8_t secret[EVP_MAX_MD_SIZE];
    uint8_t iv[IV_LEN];
    uint64_t seq;
} rec_dir_t;

struct tls_rec {
    int fd;
    const EVP_MD *md;
    size_t hash_len, key_len;
    bool vaes;                  /* seal and open with aes_gcm.c instead of EVP */
    rec_dir_t rd, wr;
    uint8_t *in;                /* bytes from the socket: records start at in_off, end at in_len */
    size_t in_cap, in_off, in_len;
    size_t plain_at, plain_len; /* a record's data opened in place in `in`, not taken yet */
    uint8_t *out;               /* sealed records: out_off sent so far, out_len filled */
    size_t out_cap, out_off, out_len;
    uint8_t *hs;                /* post-handshake message bytes being assembled */
    size_t hs_len;
    bool eof, failed;
    unsigned key_updates;
    char error[96];
};

bool tls_rec_suite_supported(unsigned suite_id)
{
    return suite_id == 0x1301 || suite_id == 0x1302 || suite_id == 0x1303;
}

/* HKDF-Expand-Label(secret, label, "", len) for len up to the hash's
 * length: a single HMAC block (RFC 8446 §7.1, RFC 5869 §2.3). */
static bool expand_label(const EVP_MD *md, const uint8_t *secret, size_t secret_len, const char *label,
                         uint8_t *out, size_t len)
{
    uint8_t info[2 + 1 + 6 + 32 + 1 + 1], t[EVP_MAX_MD_SIZE];
    size_t ll = strlen(label), n = 0;
    if (ll > 32 || len > (size_t)EVP_MD_get_size(md)) return false;
    info[n++] = (uint8_t)(len >> 8);
    info[n++] = (uint8_t)len;
    info[n++] = (uint8_t)(6 + ll);
    memcpy(info + n, "tls13 ", 6);
    n += 6;
    memcpy(info + n, label, ll);
    n += ll;
    info[n++] = 0;      /* the empty context */
    info[n++] = 1;      /* HKDF's block counter */
    unsigned int tl = 0;
    if (!HMAC(md, secret, (int)secret_len, info, n, t, &tl) || tl < len) return false;
    memcpy(out, t, len);
    OPENSSL_cleanse(t, sizeof t);
    return true;
}

/* Keys direction d from its secret (held in d->secret); sequence back to 0. */
static bool key_dir(tls_rec_t *r, rec_dir_t *d, int enc)
{
    uint8_t key[32];
    bool ok = expand_label(r->md, d->secret, r->hash_len, "key", key, r->key_len) &&
              expand_label(r->md, d->secret, r->hash_len, "iv", d->iv, IV_LEN) &&
              EVP_CipherInit_ex(d->ctx, NULL, NULL, key, NULL, enc) == 1 &&
              (!d->vaes || aes_gcm_init(d->vaes, key, r->key_len));
    OPENSSL_cleanse(key, sizeof key);
    d->seq = 0;
    return ok;
}

/* The next generation of d's secret (§7.2), keyed. */
static bool update_dir(tls_rec_t *r, rec_dir_t *d, int enc)
{
    uint8_t next[EVP_MAX_MD_SIZE];
    if (!expand_label(r->md, d->secret, r->hash_len, "traffic upd", next, r->hash_len)) return false;
    memcpy(d->secret, next, r->hash_len);
    OPENSSL_cleanse(next, sizeof next);
    return key_dir(r, d, enc);
}

static void nonce_for(const rec_dir_t *d, uint8_t nonce[IV_LEN])
{
    memcpy(nonce, d->iv, IV_LEN);
    for (int i = 0; i < 8; i++) nonce[IV_LEN - 1 - i] ^= (uint8_t)(d->seq >> (8 * i));
}

static int fail(tls_rec_t *r, const char *why)
{
    if (!r->failed) {
        size_t n = strlen(why);
        if (n >= sizeof r->error) n = sizeof r->error - 1;
        memcpy(r->error, why, n);
        r->error[n] = 0;
    }
    r->failed = true;
    errno = EPROTO;
    return -1;
}

tls_rec_t *tls_rec_new(int fd, unsigned suite_id, const uint8_t *read_secret, const uint8_t *write_secret,
                       size_t secret_len, size_t read_cap, size_t write_cap)
{
    const char *cname = suite_id == 0x1301 ? "AES-128-GCM" : suite_id == 0x1302 ? "AES-256-GCM"
                      : suite_id == 0x1303 ? "ChaCha20-Poly1305" : NULL;
    if (!cname) return NULL;
    tls_rec_t *r = calloc(1, sizeof *r);
    EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, cname, NULL);
    if (!r || !cipher) goto fail;
    r->fd = fd;
    r->md = suite_id == 0x1302 ? EVP_sha384() : EVP_sha256();
    r->hash_len = (size_t)EVP_MD_get_size(r->md);
    r->key_len = (size_t)EVP_CIPHER_get_key_length(cipher);
    if (secret_len != r->hash_len || r->key_len > 32) goto fail;
    /* SHOAL_TLS_AESGCM=evp keeps EVP's AES-GCM, for A/B runs of one binary */
    const char *impl = getenv("SHOAL_TLS_AESGCM");
    r->vaes = suite_id != 0x1303 && aes_gcm_available() && !(impl && !strcmp(impl, "evp"));
    r->in_cap = read_cap < RECORD_MAX ? RECORD_MAX : read_cap;
    r->out_cap = write_cap < RECORD_MAX ? RECORD_MAX : write_cap;
    rec_dir_t *dirs[2] = { &r->rd, &r->wr };
    const uint8_t *secrets[2] = { read_secret, write_secret };
    for (int i = 0; i < 2; i++) {
        rec_dir_t *d = dirs[i];
        memcpy(d->secret, secrets[i], secret_len);
        if (r->vaes && !(d->vaes = calloc(1, sizeof *d->vaes))) goto fail;
        if (!(d->ctx = EVP_CIPHER_CTX_new()) || EVP_CipherInit_ex(d->ctx, cipher, NULL, NULL, NULL, i) != 1 ||
            !key_dir(r, d, i))
            goto fail;
    }
    EVP_CIPHER_free(cipher);
    return r;
fail:
    EVP_CIPHER_free(cipher);
    tls_rec_free(r);
    return NULL;
}

void tls_rec_free(tls_rec_t *r)
{
    if (!r) return;
    EVP_CIPHER_CTX_free(r->rd.ctx);
    EVP_CIPHER_CTX_free(r->wr.ctx);
    rec_dir_t *dirs[2] = { &r->rd, &r->wr };
    for (int i = 0; i < 2; i++)
        if (dirs[i]->vaes) {
            OPENSSL_cleanse(dirs[i]->vaes, sizeof *dirs[i]->vaes);
            free(dirs[i]->vaes);
        }
    tls_alloc_free(r->in);
    tls_alloc_free(r->out);
    free(r->hs);
    OPENSSL_cleanse(r, sizeof *r);
    free(r);
}

/* Seals `type` || data (n bytes) as one record at dst (HDR_LEN + n + 1 +
 * TAG_LEN bytes), under the write key's next sequence number. */
static bool seal(tls_rec_t *r, uint8_t type, const uint8_t *data, size_t n, uint8_t *dst)
{
    size_t clen = n + 1 + TAG_LEN;
    uint8_t nonce[IV_LEN];
    int l;
    dst[0] = CT_APPDATA;
    dst[1] = 3;
    dst[2] = 3;
    dst[3] = (uint8_t)(clen >> 8);
    dst[4] = (uint8_t)clen;
    nonce_for(&r->wr, nonce);
    if (r->wr.vaes) {
        r->wr.seq++;
        return aes_gcm_seal(r->wr.vaes, nonce, dst, HDR_LEN, data, n, &type, 1, dst + HDR_LEN, dst + HDR_LEN + n + 1);
    }
    EVP_CIPHER_CTX *c = r->wr.ctx;
    bool ok = EVP_EncryptInit_ex(c, NULL, NULL, NULL, nonce) == 1 &&
              EVP_EncryptUpdate(c, NULL, &l, dst, HDR_LEN) == 1 &&
              (n == 0 || EVP_EncryptUpdate(c, dst + HDR_LEN, &l, data, (int)n) == 1) &&
              EVP_EncryptUpdate(c, dst + HDR_LEN + n, &l, &type, 1) == 1 &&
              EVP_EncryptFinal_ex(c, dst + HDR_LEN + n + 1, &l) == 1 &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, dst + HDR_LEN + n + 1) == 1;
    r->wr.seq++;
    return ok;
}

/* Opens the record at h (header and clen bytes) into dst (clen - TAG_LEN
 * bytes; may be h + HDR_LEN). False: the tag did not verify. */
static bool open_record(tls_rec_t *r, const uint8_t *h, size_t clen, uint8_t *dst)
{
    uint8_t nonce[IV_LEN], tag[TAG_LEN];
    size_t n = clen - TAG_LEN;
    int l;
    nonce_for(&r->rd, nonce);
    if (r->rd.vaes) {
        r->rd.seq++;
        return aes_gcm_open(r->rd.vaes, nonce, h, HDR_LEN, h + HDR_LEN, n, dst, h + HDR_LEN + n);
    }
    memcpy(tag, h + HDR_LEN + n, TAG_LEN);   /* an in-place open overwrites nothing past n, but be plain */
    EVP_CIPHER_CTX *c = r->rd.ctx;
    bool ok = EVP_DecryptInit_ex(c, NULL, NULL, NULL, nonce) == 1 &&
              EVP_DecryptUpdate(c, NULL, &l, h, HDR_LEN) == 1 &&
              EVP_DecryptUpdate(c, dst, &l, h + HDR_LEN, (int)n) == 1 &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, tag) == 1 &&
              EVP_DecryptFinal_ex(c, dst + n, &l) == 1;
    r->rd.seq++;
    return ok;
}

/* Room for `need` more bytes in the write buffer, sending what it holds if
 * there is none: 1 room, 0 the socket is full, -1 with errno. */
static int out_room(tls_rec_t *r, size_t need)
{
    if (!r->out && !(r->out = tls_alloc_malloc(r->out_cap))) {
        errno = ENOMEM;
        return -1;
    }
    if (r->out_cap - r->out_len >= need) return 1;
    int f = tls_rec_flush(r);
    if (f < 0) return -1;
    if (!r->out && !(r->out = tls_alloc_malloc(r->out_cap))) {   /* the flush let an empty buffer go */
        errno = ENOMEM;
        return -1;
    }
    if (r->out_off) {
        memmove(r->out, r->out + r->out_off, r->out_len - r->out_off);
        r->out_len -= r->out_off;
        r->out_off = 0;
    }
    return r->out_cap - r->out_len >= need ? 1 : 0;
}

/* Seals a record of our own (an alert, a KeyUpdate) into the write buffer. */
static int queue_control(tls_rec_t *r, uint8_t type, const uint8_t *body, size_t n)
{
    int room = out_room(r, HDR_LEN + n + 1 + TAG_LEN);
    if (room <= 0) return room < 0 ? -1 : fail(r, "no room for a control record");
    if (!seal(r, type, body, n, r->out + r->out_len)) return fail(r, "seal failed");
    r->out_len += HDR_LEN + n + 1 + TAG_LEN;
    return 0;
}

int tls_rec_key_update(tls_rec_t *r, bool request_peer)
{
    if (r->failed) return fail(r, r->error);
    uint8_t msg[5] = { HS_KEY_UPDATE, 0, 0, 1, request_peer ? 1 : 0 };
    if (queue_control(r, CT_HANDSHAKE, msg, sizeof msg) < 0) return -1;
    return update_dir(r, &r->wr, 1) ? 0 : fail(r, "key update failed");
}

/* The post-handshake messages in a handshake record's data (§4.6). */
static int handshake_data(tls_rec_t *r, const uint8_t *data, size_t n)
{
    if (!r->hs && !(r->hs = malloc(HS_MAX))) return fail(r, "out of memory");
    if (n > HS_MAX - r->hs_len) return fail(r, "post-handshake message too long");
    memcpy(r->hs + r->hs_len, data, n);
    r->hs_len += n;
    size_t at = 0;
    while (r->hs_len - at >= 4) {
        const uint8_t *m = r->hs + at;
        size_t len = (size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3];
        if (len > HS_MAX - 4) return fail(r, "post-handshake message too long");
        if (r->hs_len - at < 4 + len) break;
        at += 4 + len;
        if (m[0] == HS_NEW_SESSION_TICKET) continue;   /* bus links do not resume */
        if (m[0] != HS_KEY_UPDATE) return fail(r, "unexpected post-handshake message");
        /* A KeyUpdate ends its record (§5.1), and asks for ours with 1. */
        if (len != 1 || m[4] > 1 || at != r->hs_len) return fail(r, "bad KeyUpdate");
        bool requested = m[4] == 1;
        if (!update_dir(r, &r->rd, 0)) return fail(r, "key update failed");
        r->key_updates++;
        if (requested && tls_rec_key_update(r, false) < 0) return -1;
    }
    memmove(r->hs, r->hs + at, r->hs_len - at);
    r->hs_len -= at;
    return 0;
}

/* Gives back an empty read buffer (an idle link holds none). */
static void in_release(tls_rec_t *r)
{
    if (r->in && r->in_off == r->in_len && !r->plain_len) {
        tls_alloc_free(r->in);
        r->in = NULL;
        r->in_off = r->in_len = 0;
    }
}

/* Opens the whole record at the front of `in` into buf + *got when its data
 * fits there, else in place (kept as plain_at/plain_len). 1 a record was
 * taken, 0 none is whole yet, -1 failed (errno). */
static int open_next(tls_rec_t *r, uint8_t *buf, size_t len, size_t *got)
{
    size_t avail = r->in_len - r->in_off;
    if (avail < HDR_LEN) return 0;
    uint8_t *h = r->in + r->in_off;
    size_t clen = (size_t)h[3] << 8 | h[4];
    if (h[0] != CT_APPDATA || h[1] != 3 || h[2] != 3) return fail(r, "unexpected record type");
    if (clen > CIPHER_MAX || clen <= TAG_LEN) return fail(r, "bad record length");
    if (avail < HDR_LEN + clen) return 0;
    size_t n = clen - TAG_LEN;
    bool direct = n <= len - *got;
    uint8_t *dst = direct ? buf + *got : h + HDR_LEN;
    if (!open_record(r, h, clen, dst)) return fail(r, "bad record mac");
    r->in_off += HDR_LEN + clen;
    while (n > 0 && dst[n - 1] == 0) n--;   /* padding */
    if (n == 0) return fail(r, "record without a content type");
    uint8_t type = dst[--n];
    if (type == CT_APPDATA) {
        if (direct) *got += n;
        else r->plain_at = (size_t)(dst - r->in), r->plain_len = n;
        return 1;
    }
    if (type == CT_HANDSHAKE) return handshake_data(r, dst, n) < 0 ? -1 : 1;
    if (type == CT_ALERT) {
        if (n == 2 && dst[1] == 0) {    /* close_notify */
            r->eof = true;
            return 1;
        }
        return fail(r, "alert from the peer");
    }
    return fail(r, "unexpected content type");
}

/* One read(2) into the buffer's room: >0, 0 EOF, -1 errno. */
static ssize_t fill(tls_rec_t *r)
{
    if (!r->in && !(r->in = tls_alloc_malloc(r->in_cap))) {
        errno = ENOMEM;
        return -1;
    }
    if (r->in_off) {    /* the front record is partial: to the start, so a whole one fits */
        memmove(r->in, r->in + r->in_off, r->in_len - r->in_off);
        r->in_len -= r->in_off;
        r->in_off = 0;
    }
    for (;;) {
        ssize_t n = read(r->fd, r->in + r->in_len, r->in_cap - r->in_len);
        if (n > 0) r->in_len += (size_t)n;
        if (n >= 0 || errno != EINTR) return n;
    }
}

ssize_t tls_rec_read(tls_rec_t *r, void *buf, size_t len)
{
    size_t got = 0;
    if (r->failed) return fail(r, r->error);
    if (len == 0) return 0;
    for (;;) {
        if (r->plain_len) {
            size_t n = r->plain_len < len - got ? r->plain_len : len - got;
            memcpy((uint8_t *)buf + got, r->in + r->plain_at, n);
            got += n;
            r->plain_at += n;
            r->plain_len -= n;
            if (got == len) break;
        }
        if (r->eof) break;
        int o = open_next(r, buf, len, &got);
        if (o < 0) return -1;
        if (o > 0) {
            if (got == len) break;
            continue;
        }
        if (got) break;
        ssize_t n = fill(r);
        if (n > 0) continue;
        if (n == 0) r->eof = true;      /* the peer closed without close_notify: an ordinary close */
        if (n < 0 && errno == EWOULDBLOCK) errno = EAGAIN;
        in_release(r);
        return n;
    }
    in_release(r);
    return (ssize_t)got;
}

ssize_t tls_rec_write(tls_rec_t *r, const void *buf, size_t len)
{
    if (r->failed) return fail(r, r->error);
    if (len == 0) return 0;
    size_t n = len < TLS_REC_PLAIN_MAX ? len : TLS_REC_PLAIN_MAX;
    int room = out_room(r, HDR_LEN + n + 1 + TAG_LEN);
    if (room < 0) return -1;
    if (room == 0) {
        errno = EAGAIN;
        return -1;
    }
    if (!seal(r, CT_APPDATA, buf, n, r->out + r->out_len)) return fail(r, "seal failed");
    r->out_len += HDR_LEN + n + 1 + TAG_LEN;
    return (ssize_t)n;
}

int tls_rec_flush(tls_rec_t *r)
{
    while (r->out_off < r->out_len) {
        /* write(2), as OpenSSL's socket BIO: the node ignores SIGPIPE */
        ssize_t w = write(r->fd, r->out + r->out_off, r->out_len - r->out_off);
        if (w > 0) {
            r->out_off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        if (w == 0) errno = EPIPE;
        return -1;
    }
    tls_alloc_free(r->out);   /* an idle link holds no write buffer */
    r->out = NULL;
    r->out_off = r->out_len = 0;
    return 1;
}

bool tls_rec_pending(const tls_rec_t *r)
{
    if (r->failed) return false;
    if (r->plain_len || r->eof) return true;
    size_t avail = r->in_len - r->in_off;
    if (avail < HDR_LEN) return false;
    const uint8_t *h = r->in + r->in_off;
    return avail >= HDR_LEN + ((size_t)h[3] << 8 | h[4]);
}

bool tls_rec_wants_write(const tls_rec_t *r) { return r->out_off < r->out_len; }

void tls_rec_close_notify(tls_rec_t *r)
{
    static const uint8_t close_notify[2] = { 1, 0 };   /* warning, close_notify */
    if (r->failed || queue_control(r, CT_ALERT, close_notify, sizeof close_notify) < 0) return;
    (void)tls_rec_flush(r);
}

const char *tls_rec_error(const tls_rec_t *r) { return r->error; }
uint64_t tls_rec_write_seq(const tls_rec_t *r) { return r->wr.seq; }
uint64_t tls_rec_read_seq(const tls_rec_t *r) { return r->rd.seq; }
unsigned tls_rec_key_updates(const tls_rec_t *r) { return r->key_updates; }

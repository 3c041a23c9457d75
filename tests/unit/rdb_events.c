/* rdb_events.c - helpers of the RDB decoder's unit tests (see rdb_events.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/rdb_events.h"

uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n + 1);
    if (n) memcpy(d, p, n);
    d[n] = 0;
    return d;
}

void ev_push(ev_list_t *l, const rdb_event_t *ev)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
    }
    ev_copy_t *c = &l->v[l->n++];
    memset(c, 0, sizeof *c);
    c->type = ev->type;
    c->key = dup_bytes(ev->key, ev->key_len);
    c->key_len = ev->key_len;
    c->value = dup_bytes(ev->value, ev->value_len);
    c->value_len = ev->value_len;
    c->expire_ms = ev->expire_ms;
    c->lru_idle = ev->lru_idle;
    c->lfu_freq = ev->lfu_freq;
    c->db = ev->db;
    c->db_size = ev->db_size;
    c->expires_size = ev->expires_size;
    c->checksum = ev->checksum;
    c->checksum_verified = ev->checksum_verified;
    c->offset = ev->offset;
}

void ev_free(ev_list_t *l)
{
    for (size_t i = 0; i < l->n; i++) { free(l->v[i].key); free(l->v[i].value); }
    free(l->v);
    memset(l, 0, sizeof *l);
}

static uint64_t rng_state = 88172645463325252ull;
uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

void decode_chunked(const uint8_t *buf, size_t len, size_t chunk, uint64_t max, uint64_t total,
                    ev_list_t *out)
{
    memset(out, 0, sizeof *out);
    rdb_decoder_t d;
    rdb_decoder_init(&d, max, total);
    size_t pos = 0;
    int st = RDB_MORE;
    while (st == RDB_MORE && pos < len) {
        size_t n = chunk ? chunk : 1 + rng() % 40;
        if (n > len - pos) n = len - pos;
        uint8_t *c = malloc(n);
        memcpy(c, buf + pos, n);
        rdb_decoder_feed(&d, c, n);
        rdb_event_t ev;
        while ((st = rdb_decoder_next(&d, &ev)) == RDB_EVENT) ev_push(out, &ev);
        if (st == RDB_DONE) {
            size_t rl;
            const uint8_t *r = rdb_decoder_rest(&d, &rl);
            if (rl <= sizeof out->rest - out->rest_len) {
                memcpy(out->rest + out->rest_len, r, rl);
                out->rest_len += rl;
            }
            /* the bytes after the RDB in later chunks are the caller's too */
            size_t after = len - pos - n;
            if (after && after <= sizeof out->rest - out->rest_len) {
                memcpy(out->rest + out->rest_len, buf + pos + n, after);
                out->rest_len += after;
            }
        }
        free(c);
        pos += n;
    }
    out->result = rdb_decoder_finish(&d);
    snprintf(out->err, sizeof out->err, "%s", rdb_decoder_error(&d));
    rdb_decoder_free(&d);
}

static int collect_cb(void *ctx, const rdb_event_t *ev)
{
    ev_push(ctx, ev);
    return 0;
}

int decode_whole(const uint8_t *buf, size_t len, ev_list_t *out)
{
    memset(out, 0, sizeof *out);
    out->result = rdb_decode_buffer(buf, len, 0, collect_cb, out, NULL, out->err, sizeof out->err);
    return out->result;
}

int ev_equal(const ev_list_t *a, const ev_list_t *b)
{
    if (a->n != b->n || a->result != b->result) return 0;
    for (size_t i = 0; i < a->n; i++) {
        const ev_copy_t *x = &a->v[i], *y = &b->v[i];
        if (x->type != y->type || x->key_len != y->key_len || x->value_len != y->value_len ||
            memcmp(x->key, y->key, x->key_len) || memcmp(x->value, y->value, x->value_len) ||
            x->expire_ms != y->expire_ms || x->db != y->db || x->db_size != y->db_size ||
            x->expires_size != y->expires_size || x->checksum != y->checksum || x->offset != y->offset ||
            x->checksum_verified != y->checksum_verified || x->lru_idle != y->lru_idle ||
            x->lfu_freq != y->lfu_freq)
            return 0;
    }
    return 1;
}

const ev_copy_t *find_aux(const ev_list_t *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].type == RDB_EV_AUX && l->v[i].key_len == strlen(name) && !memcmp(l->v[i].key, name, strlen(name)))
            return &l->v[i];
    return NULL;
}

size_t hex_decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = hex; p[0] && p[1] && n < cap; ) {
        if (p[0] == ' ' || p[0] == '\n') { p++; continue; }
        unsigned v;
        if (sscanf(p, "%2x", &v) != 1) break;
        out[n++] = (uint8_t)v;
        p += 2;
    }
    return n;
}

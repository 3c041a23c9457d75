/* rdb_events.h - helpers of the RDB decoder's unit tests (test_rdb.c): the
 * events of a decode copied into a list, a decode of a buffer whole or in
 * chunks of a given or random size, and comparing two lists.
 * Must never depend on the current time or start processes. */
#ifndef SHOAL_TESTS_UNIT_RDB_EVENTS_H
#define SHOAL_TESTS_UNIT_RDB_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include "proto/rdb.h"

typedef struct ev_copy {
    int type;
    uint8_t *key, *value;
    size_t key_len, value_len;
    int64_t expire_ms, lru_idle;
    int lfu_freq;
    uint64_t db, db_size, expires_size, checksum, offset;
    int checksum_verified;
} ev_copy_t;

typedef struct ev_list {
    ev_copy_t *v;
    size_t n, cap;
    int result;          /* RDB_OK if EOF was reached, else the error */
    char err[200];
    size_t rest_len;     /* bytes after the RDB in the last chunk(s) */
    uint8_t rest[64];
} ev_list_t;

/* A NUL-terminated copy of p[0..n) (malloc). */
uint8_t *dup_bytes(const uint8_t *p, size_t n);
void ev_push(ev_list_t *l, const rdb_event_t *ev);
void ev_free(ev_list_t *l);
/* xorshift64: the same sequence in every run. */
uint64_t rng(void);
/* Streams buf through a decoder in chunks: chunk == 0 means random sizes.
 * Each chunk is a fresh allocation freed right after, so ASan catches views
 * that outlive their chunk. */
void decode_chunked(const uint8_t *buf, size_t len, size_t chunk, uint64_t max, uint64_t total, ev_list_t *out);
/* The events of rdb_decode_buffer over buf; returns its result. */
int decode_whole(const uint8_t *buf, size_t len, ev_list_t *out);
/* 1 when both lists hold the same events (every field) and result. */
int ev_equal(const ev_list_t *a, const ev_list_t *b);
/* The AUX event called name, or NULL. */
const ev_copy_t *find_aux(const ev_list_t *l, const char *name);
/* Hex digits (spaces and newlines skipped) into out; returns the bytes written. */
size_t hex_decode(const char *hex, uint8_t *out, size_t cap);

#endif

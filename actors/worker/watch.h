/* watch.h - the keys a client WATCHes, and the check EXEC makes of them.
 *
 * A watched key is remembered by its name, its database, the worker that
 * keeps it, the version of its hash bucket there (bumped by every write to a
 * key of the bucket), that worker's flush epoch and the time it was watched.
 * EXEC fails when any of them moved, and, as 7.0.15's isWatchedKeyExpired,
 * when a key that was alive when watched is logically expired now, deleted or
 * not. A key already expired when watched is not a change when its expiry (or
 * a flush) deletes it: such deletions do not bump the bucket's version but
 * raise the bucket's `expired_gone_ms` to the key's TTL, which fails only the
 * WATCHes made before that TTL passed.
 *
 * While nobody on the node reads the versions (no client WATCHes, no EXEC is
 * checking, no MIGRATE round waits to see whether its keys changed), writes
 * skip the bump, which costs a cache miss per write (the table is 512 KiB
 * per worker): every reader holds watch_hold from before it reads a version
 * until it no longer needs it. A WATCH made later reads whatever version
 * the bucket has then, so a skipped bump hides nothing from it.
 *
 * Must never: let a changed key through. A bucket shared by two keys may fail
 * an EXEC spuriously.
 */
#ifndef SHOAL_WORKER_WATCH_H
#define SHOAL_WORKER_WATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct worker;

/* How many readers of the versions the node has (watch lists that are not
 * empty, MIGRATE jobs). */
extern _Atomic long g_watch_holders;

/* Writers: whether to bump versions (and note expired deletions) at all.
 * Relaxed: a reader takes its hold (a locked add, a full barrier) before it
 * reads any version, and a write it must see comes after its WATCH's reply
 * through the client's socket and the writer's thread, which order it (a
 * write running at the same time is one that may have come first). */
static inline bool watch_anyone(void)
{
    return atomic_load_explicit(&g_watch_holders, memory_order_relaxed) > 0;
}
/* A reader starts (on) or stops needing versions bumped. Any thread. */
void watch_hold(bool on);

typedef struct watch_key {
    uint8_t *key;                 /* owned */
    size_t len;
    int db;
    uint8_t worker;               /* the worker keeping the key */
    uint32_t bucket;              /* wdb_watch_bucket(db, key) */
    uint64_t version;             /* the bucket's version when watched */
    uint64_t epoch;               /* the worker's flush epoch when watched */
    long long watched_ms;         /* unix ms of the WATCH */
} watch_key_t;

typedef struct watch_list {
    watch_key_t *keys;
    int n, cap;
} watch_list_t;

/* Adds key of database db, watched now (its versions read relaxed, from any
 * worker's thread). */
void watch_list_add(watch_list_t *l, int db, const uint8_t *key, size_t len, long long now_ms);
/* Frees the names and the array; l is empty after. */
void watch_list_clear(watch_list_t *l);
/* dst (empty) gets a copy of src. */
void watch_list_copy(watch_list_t *dst, const watch_list_t *src);

/* EXEC's check: true when no watched key changed or expired since it was
 * watched. `readable`: the workers whose keyspaces the calling thread may
 * read (bit i for worker i): its own, and those it holds parked (xcmd.c).
 * A key of another worker is checked by its versions only: its TTL cannot
 * be read from here (that worker may be changing its keyspace), so such a key
 * past its TTL and not yet deleted does not fail the EXEC (cluster mode,
 * WATCHes of slots of several workers; docs/design.md). */
bool watch_list_ok(const watch_list_t *l, long long now_ms, uint64_t readable);
/* From the client's worker, relaxed: whether a write already touched a key
 * (CLIENT LIST's flag d; a key that merely reached its TTL is not touched). */
bool watch_list_touched(const watch_list_t *l);

/* Owner thread: an expired key of database db, whose TTL was expire_ms, is
 * being deleted by its expiry or a flush. */
void watch_note_expired_gone(struct worker *w, int db, const uint8_t *key, size_t len, long long expire_ms);

#endif

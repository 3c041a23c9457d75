/* keyspace.h - one worker's share of the database: keys, values, expiry and a
 * per-hash-slot index.
 *
 * A keyspace belongs to exactly one worker thread; only that thread may call
 * any function here, so nothing is locked. Keys and string values are
 * binary-safe. The hash table grows and shrinks by incremental rehashing, so
 * no single call stalls for long even at millions of keys.
 *
 * Expiry follows Redis: a key whose absolute expiry (unix ms) is in the past
 * (now > expire) is deleted when it is looked up (lazy) and by the sampling
 * sweep of ks_active_expire (active). Functions that can expire keys take
 * `now_ms`; functions documented "no side effects" never delete.
 *
 * Pointers to entries (ks_entry_t *) stay valid until the entry is deleted,
 * renamed (ks_rename), or the keyspace is flushed; replacing a key's value
 * (ks_set_string, ks_set_object) keeps its entry. Callbacks
 * (ks_key_cb, ks_entry_cb) must not modify the keyspace.
 */
#ifndef SHOAL_ACTORS_KEYSPACE_H
#define SHOAL_ACTORS_KEYSPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proto/strnum.h"

struct keyspace;

#define KS_NO_EXPIRE (-1LL)     /* entry has no TTL */
#define KS_KEEP_TTL  (-2LL)     /* ks_set_*: keep the existing TTL (SET KEEPTTL) */

/* Value types, numbered as Redis's object types (RDB and TYPE use them). */
enum ks_type {
    KS_TYPE_STRING = 0,
    KS_TYPE_LIST   = 1,
    KS_TYPE_SET    = 2,
    KS_TYPE_ZSET   = 3,
    KS_TYPE_HASH   = 4,
    KS_TYPE_MODULE = 5,
    KS_TYPE_STREAM = 6,
};

#define KS_WRONGTYPE_ERR "WRONGTYPE Operation against a key holding the wrong kind of value"

/* Non-string values are owned by the module that implements their type. The
 * value struct starts with a ks_object_t, whose ops the keyspace uses to free
 * it and to account its memory. */
struct rdb_encoder;
typedef struct ks_object_ops {
    const char *type_name;                    /* TYPE reply, e.g. "list" */
    void (*free_value)(void *obj);
    size_t (*mem_usage)(const void *obj);     /* approximate bytes */
    /* OBJECT ENCODING reply for this value ("listpack", "hashtable", ...). */
    const char *(*encoding)(const void *obj);
    /* The RDB type byte this value is saved as (RDB_TYPE_*, proto/rdb.h),
     * and the value's RDB bytes (what follows the key) into enc; returns
     * RDB_OK or the encoder's error. NULL: the type is not saved. */
    unsigned (*rdb_type)(const void *obj);
    int (*rdb_save)(const void *obj, struct rdb_encoder *enc);
    /* A deep copy (COPY); NULL if the type cannot be copied. */
    void *(*dup)(const void *obj);
} ks_object_ops_t;

typedef struct ks_object {
    const ks_object_ops_t *ops;
} ks_object_t;

/* Embedded values. A type registered here has values of one pointer-sized
 * word (its own struct of exactly sizeof(void *), e.g. a tagged pointer to
 * a listpack), kept inside the entry itself: no separate header block per
 * key. Such a value has no ks_object_t; the keyspace finds its ops by type.
 * Outside the keyspace it lives in a malloc'ed "shell" of that one word:
 * ks_set_object copies the word into the entry and frees the shell, and the
 * caller must use ks_entry_obj(e) from then on. For these types
 * ops->free_value releases what the word refers to, never the word's own
 * storage, and ops->dup returns a new shell. Register before any keyspace
 * holds such a value (at startup, from one thread). */
void ks_register_embedded(int type, const ks_object_ops_t *ops);

/* A string held out of its entry: exactly `len` bytes, room for `cap`. */
typedef struct ks_str {
    size_t len, cap;
    uint8_t data[];
} ks_str_t;

/* One key: a single allocation holding this header, the key bytes and, for
 * a string that fits, the string bytes right after the key. A TTL lives in
 * the keyspace's TTL index (only keys with one pay for it): read it with
 * ks_entry_expire. Fields are read-only outside keyspace.c. */
typedef struct ks_entry {
    struct ks_entry *next;                    /* hash bucket chain */
    struct ks_entry *slot_prev, *slot_next;   /* per-slot list, newest first */
    void *value;                              /* non-string: the ks_object_t *; strings: see ks_entry_str */
    uint32_t keylen;
    uint32_t meta;                            /* access clock, type, flags: KS_META_* below */
    uint8_t key[];
} ks_entry_t;

/* The entry is 40 bytes and stays so (memory per key is what the types
 * benchmarks weigh): its slot is not stored but recomputed from the key
 * where needed (ks_entry_slot), and three small fields share one word,
 * packed with explicit masks so every access is one plain load or store:
 *   bits  0..23  the access clock (7.0.15's 24 lru bits: actors/worker/access.c)
 *   bits 24..26  the type (enum ks_type; 3 bits hold 0..7)
 *   bits 27..31  the flags (KS_EF_*; 5 bits) */
#define KS_META_ACCESS_MASK 0x00ffffffu
#define KS_META_TYPE_SHIFT  24
#define KS_META_TYPE_MASK   (0x7u << KS_META_TYPE_SHIFT)
#define KS_META_FLAGS_SHIFT 27
#define KS_META_FLAGS_MASK  (0x1fu << KS_META_FLAGS_SHIFT)

#define KS_EF_TTL      0x01   /* the key has a TTL in the keyspace's TTL index */
#define KS_EF_STR_HEAP 0x02   /* string: value is a ks_str_t *; otherwise the bytes
                               * follow the key and value holds their length */
#define KS_EF_EMBED    0x04   /* non-string: the value word itself is the object */
#define KS_EF_RAW      0x08   /* string: written in place (APPEND, SETRANGE, SETBIT, PFADD ...)
                               * or made so (BITOP, PFMERGE): OBJECT ENCODING says "raw",
                               * as for 7.0.15's unshared string; a new value clears it */

_Static_assert(KS_TYPE_STREAM <= (int)(KS_META_TYPE_MASK >> KS_META_TYPE_SHIFT), "types fit the type bits");
_Static_assert(((KS_EF_TTL | KS_EF_STR_HEAP | KS_EF_EMBED | KS_EF_RAW) & ~(KS_META_FLAGS_MASK >> KS_META_FLAGS_SHIFT)) == 0,
               "flags fit the flag bits");

static inline int ks_entry_type(const ks_entry_t *e)
{
    return (int)((e->meta & KS_META_TYPE_MASK) >> KS_META_TYPE_SHIFT);
}
static inline unsigned ks_entry_flags(const ks_entry_t *e)
{
    return (e->meta & KS_META_FLAGS_MASK) >> KS_META_FLAGS_SHIFT;
}
static inline uint32_t ks_entry_access(const ks_entry_t *e) { return e->meta & KS_META_ACCESS_MASK; }
/* Writers (keyspace.c and access.c only). */
static inline void ks_entry_set_type(ks_entry_t *e, int type)
{
    e->meta = (e->meta & ~KS_META_TYPE_MASK) | (((uint32_t)type << KS_META_TYPE_SHIFT) & KS_META_TYPE_MASK);
}
static inline void ks_entry_add_flags(ks_entry_t *e, unsigned f)
{
    e->meta |= ((uint32_t)f << KS_META_FLAGS_SHIFT) & KS_META_FLAGS_MASK;
}
static inline void ks_entry_clear_flags(ks_entry_t *e, unsigned f)
{
    e->meta &= ~(((uint32_t)f << KS_META_FLAGS_SHIFT) & KS_META_FLAGS_MASK);
}
/* Stores the low 24 bits of clock (the clock wraps as Redis's does). */
static inline void ks_entry_set_access(ks_entry_t *e, uint32_t clock)
{
    e->meta = (e->meta & ~KS_META_ACCESS_MASK) | (clock & KS_META_ACCESS_MASK);
}
/* e's hash slot, from its key (CRC16 with hash tags, proto/slot.h). */
unsigned ks_entry_slot(const ks_entry_t *e);

typedef void (*ks_key_cb)(const uint8_t *key, size_t len, void *arg);
/* expire_ms: e's absolute TTL, or KS_NO_EXPIRE. */
typedef void (*ks_entry_cb)(void *arg, ks_entry_t *e, long long expire_ms);

/* ---- access clock (actors/worker/access.c) ----
 * Each entry keeps what 7.0.15 keeps in an object's 24 lru bits: under an LRU
 * (or no) maxmemory-policy the LRU clock (unix seconds, 24 bits) of its last
 * access; under an LFU policy the minute of its last access (16 bits) and a
 * logarithmic access counter (8 bits). Lookups (ks_lookup, writes over a key)
 * touch it; ks_peek does not. */
/* The value for a new key. */
uint32_t ks_access_initial(void);
/* An access to e (a lookup): nothing while a fork child lives (access.c). */
void ks_access_touch(ks_entry_t *e);
/* A write over e that rewrites the entry anyway (ks_set_*): under LRU it is
 * stamped even while a child lives, as 7.0.15's new object is. */
void ks_access_touch_write(ks_entry_t *e);
/* A fork child starts / was reaped (rdb_save.c). While any lives the
 * keyspace keeps the parent's pages shared with it where 7.0.15 does, each
 * write to a shared page making the kernel copy it: lookups stamp no access
 * clock (access.c), a table grows only past 6 keys a bucket (7.0.15's
 * dict_force_resize_ratio; a grow rewrites every entry's chain pointer as
 * the rehash moves it), never shrinks, and active expiry does no rehash
 * work (7.0.15's databasesCron); the lookups' one bucket a call goes on. */
void ks_fork_child_begin(void);
void ks_fork_child_end(void);
bool ks_fork_child_live(void);
/* Advances the cached clocks (the workers' cron, every 100 ms, as Redis's). */
void ks_access_tick(long long now_ms);
/* OBJECT IDLETIME in seconds; OBJECT FREQ (the counter after its decay). */
long long ks_access_idle_s(const ks_entry_t *e);
int ks_access_freq(const ks_entry_t *e);
/* RESTORE ... IDLETIME s / FREQ f (negative: not given). */
void ks_access_restore(ks_entry_t *e, long long idle_s, long long freq);
/* What an RDB record of e carries besides its value, as 7.0.15 writes it:
 * the idle seconds under an LRU maxmemory-policy (else -1 in *idle_s) and
 * the decayed LFU counter under an LFU one (else -1 in *freq). */
void ks_access_rdb_fields(const ks_entry_t *e, long long *idle_s, int *freq);

/* ---- lifetime ---- */
/* Allocates an empty keyspace with a fresh random hash seed. Aborts on OOM. */
struct keyspace *ks_create(void);
/* Sizes an empty keyspace's table for n keys at once (an RDB's RESIZEDB
 * hint, as 7.0.15's dictExpand), so that a load neither rehashes nor walks
 * long chains. No-op unless the keyspace is empty. */
void ks_expand(struct keyspace *ks, size_t n);
/* Starts fetching the bucket where `key` would be, for a lookup or insert
 * a little later (a load walks its records ahead of the inserts: the bucket
 * array's cache misses were most of its time). */
void ks_prefetch(const struct keyspace *ks, const uint8_t *key, size_t len);
/* The second step, once the bucket is in cache: fetches the first entry of
 * its chain (the one a lookup compares first) and that entry's slot in the
 * TTL index (looked up by the entry's address). */
void ks_prefetch_chain(const struct keyspace *ks, const uint8_t *key, size_t len);
/* A key's table hash and slot, computed once for the calls below that take
 * it (a load uses them for its prefetches and its insert); slot -1: not
 * known, computed when needed. */
typedef struct ks_keyref {
    uint64_t hash;
    int slot;
} ks_keyref_t;
ks_keyref_t ks_keyref(const struct keyspace *ks, const uint8_t *key, size_t len, int slot);
void ks_prefetch_ref(const struct keyspace *ks, ks_keyref_t ref);
void ks_prefetch_chain_ref(const struct keyspace *ks, ks_keyref_t ref);
/* Frees the keyspace and every key and value in it. NULL is fine. */
void ks_free(struct keyspace *ks);
/* Deletes every key (FLUSHALL/FLUSHDB on this worker's share). */
void ks_flush(struct keyspace *ks);

/* ---- lookup ---- */
/* The live entry for key, or NULL. An expired entry is deleted (lazy expiry). */
ks_entry_t *ks_lookup(struct keyspace *ks, const uint8_t *key, size_t len, long long now_ms);
/* As ks_lookup, and counts a keyspace hit or miss (read commands). */
ks_entry_t *ks_lookup_read(struct keyspace *ks, const uint8_t *key, size_t len, long long now_ms);
/* The entry for key, expired or not. No side effects. */
ks_entry_t *ks_peek(struct keyspace *ks, const uint8_t *key, size_t len);
/* True if key exists and is not expired. No side effects (no deletion, no
 * stats, no rehash step): safe for routing decisions during migration. */
bool ks_exists_noexpire(const struct keyspace *ks, const uint8_t *key, size_t len, long long now_ms);

/* ---- writes ---- */
/* Sets key to a copy of the string bytes, replacing any value of any type.
 * expire_ms: absolute ms, KS_NO_EXPIRE (drop any TTL) or KS_KEEP_TTL (keep
 * the TTL of a live key; an expired old key counts as absent at now_ms).
 * Returns the (possibly reused) entry. */
ks_entry_t *ks_set_string(struct keyspace *ks, const uint8_t *key, size_t klen,
                          const void *val, size_t vlen, long long expire_ms, long long now_ms);
/* As ks_set_string, for a command whose own lookup found `looked` (or
 * NULL): its access clock stays as that lookup left it (7.0.15 counts an
 * access per lookup, and its write after a lookup does not look again). */
static inline ks_entry_t *ks_set_string_looked_up(struct keyspace *ks, ks_entry_t *looked, const uint8_t *key,
                                                  size_t klen, const void *val, size_t vlen, long long expire_ms,
                                                  long long now_ms)
{
    uint32_t clock = looked ? ks_entry_access(looked) : 0;
    ks_entry_t *e = ks_set_string(ks, key, klen, val, vlen, expire_ms, now_ms);
    if (looked) ks_entry_set_access(e, clock);   /* the same entry: a live key is updated in place */
    return e;
}
/* As ks_set_string for a non-string value; takes ownership of obj (a
 * ks_object_t *, or the shell of an embedded type, which is freed: use
 * ks_entry_obj of the returned entry afterwards). */
ks_entry_t *ks_set_object(struct keyspace *ks, const uint8_t *key, size_t klen,
                          int type, void *obj, long long expire_ms, long long now_ms);
/* ks_set_string and ks_set_object with the key's hash and slot known (ref
 * from ks_keyref on this keyspace; NULL: computed here). */
ks_entry_t *ks_set_string_ref(struct keyspace *ks, const uint8_t *key, size_t klen, const ks_keyref_t *ref,
                              const void *val, size_t vlen, long long expire_ms, long long now_ms);
ks_entry_t *ks_set_object_ref(struct keyspace *ks, const uint8_t *key, size_t klen, const ks_keyref_t *ref,
                              int type, void *obj, long long expire_ms, long long now_ms);
/* Deletes key if live; an expired key is removed too but reported as absent.
 * Returns true if a live key was deleted. */
bool ks_delete(struct keyspace *ks, const uint8_t *key, size_t len, long long now_ms);
void ks_delete_entry(struct keyspace *ks, ks_entry_t *e);
/* ks_delete, except that the entry's memory is not given back yet: the
 * entry, out of every index and of the byte count, is pushed on *later
 * (through its bucket link) for ks_free_detached. For a caller that has a
 * reply to send first (MIGRATE: a million frees of a reshard's source,
 * each coalescing with its free neighbours in glibc, kept a reply waiting). */
bool ks_delete_later(struct keyspace *ks, const uint8_t *key, size_t len, long long now_ms, ks_entry_t **later);
/* Frees the entries chained by ks_delete_later. */
void ks_free_detached(ks_entry_t *list);
/* Sets (when_ms >= 0) or removes (KS_NO_EXPIRE) the TTL. */
void ks_set_expire(struct keyspace *ks, ks_entry_t *e, long long when_ms);
/* Removes the TTL; true if there was one. */
bool ks_persist(struct keyspace *ks, ks_entry_t *e);
/* Moves e's value and TTL to newkey (replacing whatever newkey held) and
 * deletes e. Returns the new entry; e is invalid afterwards. Renaming a key
 * to itself returns e unchanged. */
ks_entry_t *ks_rename(struct keyspace *ks, ks_entry_t *e, const uint8_t *newkey, size_t newlen);

/* Moves e (value, TTL, expired or not) from keyspace `from` into `to`,
 * replacing whatever `to` held under that key, and deletes e. Both keyspaces
 * must be safe for the caller to touch (a cross-worker command: the owner of
 * `from` is parked). Returns the new entry. */
ks_entry_t *ks_move(struct keyspace *from, ks_entry_t *e, struct keyspace *to);

/* String in place: resizes e's string to newlen bytes (new bytes are zero),
 * keeping the content; returns its data. e must be a string. */
uint8_t *ks_str_resize(struct keyspace *ks, ks_entry_t *e, size_t newlen);
/* For modules whose objects grow or shrink in place: adjusts ks_used_bytes. */
void ks_mem_adjust(struct keyspace *ks, long long delta);

/* ---- entry access ---- */
static inline const uint8_t *ks_entry_key(const ks_entry_t *e, size_t *len)
{
    *len = e->keylen;
    return e->key;
}
/* String bytes of a KS_TYPE_STRING entry. */
static inline const uint8_t *ks_entry_str(const ks_entry_t *e, size_t *len)
{
    if (ks_entry_flags(e) & KS_EF_STR_HEAP) {
        const ks_str_t *s = (const ks_str_t *)e->value;
        *len = s->len;
        return s->data;
    }
    *len = (size_t)(uintptr_t)e->value;
    return e->key + e->keylen;
}
/* The object of a non-string entry (hash_t *, set_t *, list_t *, ...). An
 * embedded value's object is inside e: valid while e is. */
static inline void *ks_entry_obj(const ks_entry_t *e)
{
    return (ks_entry_flags(e) & KS_EF_EMBED) ? (void *)&((ks_entry_t *)e)->value : e->value;
}
/* The ops of a non-string entry's value. */
const ks_object_ops_t *ks_entry_ops(const ks_entry_t *e);
/* e's absolute expiry (unix ms), or KS_NO_EXPIRE. No side effects. */
long long ks_entry_expire(const struct keyspace *ks, const ks_entry_t *e);
/* "string", "list", ... as TYPE replies. */
static inline const char *ks_type_name(const ks_entry_t *e)
{
    if (ks_entry_type(e) == KS_TYPE_STRING) return "string";
    const ks_object_ops_t *ops = ks_entry_ops(e);
    return ops && ops->type_name ? ops->type_name : "none";
}

/* Redis's string-to-integer rule (string2ll): the project's one parser,
 * str_to_ll (proto/strnum.h), under the name the command code has always
 * used. */
static inline bool ks_str_to_ll(const uint8_t *s, size_t len, long long *out) { return str_to_ll(s, len, out); }

/* ---- expiry ---- */
/* Redis-like active expiry: samples keys with a TTL and deletes expired
 * ones, repeating while many of a sample were expired, until the budget
 * (microseconds of CPU wall time) is spent. Also advances incremental rehash
 * and shrinks an oversized table. Call every 100 ms. Returns keys deleted. */
size_t ks_active_expire(struct keyspace *ks, long long now_ms, long long budget_us);
/* The same at a chosen effort (7.0.15's active-expire-effort: the worker's
 * cron), reporting what it sampled, what expired, and whether the time ran
 * out before the expired share fell. rep may be NULL. */
typedef struct ks_expire_effort {
    size_t keys_per_loop;         /* keys sampled per round */
    size_t stale_percent;         /* another round while more than this % of a sample expired */
    long long budget_us;
} ks_expire_effort_t;
typedef struct ks_expire_report {
    size_t sampled, expired;
    bool time_cap;
    long long expire_us;          /* the rounds' time, without the rehash steps after them */
} ks_expire_report_t;
size_t ks_active_expire_effort(struct keyspace *ks, long long now_ms, const ks_expire_effort_t *eff,
                               ks_expire_report_t *rep);

/* Called with the keyspace and the key just before an expired key is deleted
 * (lazy, active or by an upsert over it): the master propagates a DEL from
 * here, and the worker's published counts drop the key. */
typedef void (*ks_expired_cb)(void *arg, struct keyspace *ks, const uint8_t *key, size_t len, long long expire_ms);
void ks_set_expired_hook(struct keyspace *ks, ks_expired_cb cb, void *arg);
/* While an AOF's commands are replayed at start (aof_load.c), on every
 * keyspace: no key expires, lazily or actively, as 7.0.15's keyIsExpired
 * answers no while loading. The file's later commands were run before the
 * key's deadline and must find it (an INCR must not recreate a key without
 * its TTL); the keys expire once the node serves. */
void ks_set_loading(bool on);
/* Replica mode: expired keys read as absent but are not deleted (the master's
 * DEL removes them); active expiry does nothing. */
void ks_set_replica_mode(struct keyspace *ks, bool on);
bool ks_replica_mode(const struct keyspace *ks);
/* Replica mode set for a pause on a master (wpause.h): the dataset stays
 * still as on a replica, but the writes a pause lets run (admitted before
 * it) are still a master's, propagated (repl_worker_propagates). */
void ks_set_pause_only(struct keyspace *ks, bool on);
bool ks_pause_only(const struct keyspace *ks);

/* ---- statistics ---- */
size_t ks_size(const struct keyspace *ks);                 /* keys, expired-not-yet-deleted included */
size_t ks_expires_count(const struct keyspace *ks);        /* keys with a TTL */
long long ks_avg_ttl(const struct keyspace *ks, long long now_ms);  /* ms, 0 if no TTLs */
size_t ks_used_bytes(const struct keyspace *ks);           /* approximate heap use */
/* e's heap bytes: its own allocation (header, key, inline string) and its value's. */
size_t ks_entry_mem(const ks_entry_t *e);
typedef struct ks_stats {
    uint64_t expired_keys;       /* deleted because their TTL passed (lazy + active) */
    uint64_t hits, misses;       /* ks_lookup_read outcomes */
    size_t buckets;              /* hash table size(s), both tables while rehashing */
    bool rehashing;              /* an incremental resize is under way */
    uint64_t rehash_visits;      /* old-table buckets passed by incremental rehash steps */
    uint64_t rehash_moved;       /* entries moved to the new table by those steps */
    uint64_t lookups;            /* hash-table walks for a key (ks_lookup, ks_peek, writes) */
} ks_stats_t;
ks_stats_t ks_stats(const struct keyspace *ks);

/* ---- whole-keyspace iteration (fanout commands) ---- */
/* KEYS: calls cb for every live key matching the glob pattern ("*" = all).
 * Returns the number of keys reported. */
size_t ks_keys(struct keyspace *ks, const uint8_t *pat, size_t patlen, long long now_ms,
               ks_key_cb cb, void *arg);
/* SCAN step from `cursor` (0 starts). Visits buckets until about `count`
 * keys were seen, reports live keys matching pattern (NULL = all) and type
 * (NULL = any; a type name such as "string", case-insensitive; an unknown name
 * matches nothing, as in 7.0). Returns the next cursor, 0 when done. A key
 * present during the whole scan is reported at least once, even if the table
 * is resized between calls. The cursor is always below the table size (< 2^58
 * in practice), so callers may keep a few high bits of their own. Expired
 * keys the pattern matches (whatever their type) go to expired_cb (NULL:
 * none) instead, for the caller to delete after the step, as 7.0.15's SCAN
 * expires the keys it meets. */
uint64_t ks_scan(struct keyspace *ks, uint64_t cursor, const uint8_t *pat, size_t patlen,
                 long long count, const uint8_t *type, size_t typelen, long long now_ms,
                 ks_key_cb cb, void *arg, ks_key_cb expired_cb, void *expired_arg);
/* Reports one random live key through cb (expired ones met on the way are
 * deleted). Returns false, without calling cb, if there is none. */
bool ks_random_key(struct keyspace *ks, long long now_ms, ks_key_cb cb, void *arg);
/* Up to n entries, expired or not, from a random place in the table (or,
 * with_ttl, in the TTL index): eviction's samples, drawn as 7.0.15's
 * dictGetSomeKeys draws them (neighbours, cheap to reach). Returns how
 * many. No side effects. */
size_t ks_sample(struct keyspace *ks, bool with_ttl, ks_entry_t **out, size_t n);
/* Every entry, expired or not, in table order (RDB, DEBUG). */
void ks_foreach(struct keyspace *ks, ks_entry_cb cb, void *arg);

/* ---- per-slot index ---- */
size_t ks_count_in_slot(const struct keyspace *ks, unsigned slot);
/* Up to count keys of slot, most recently added first. Returns how many. */
size_t ks_keys_in_slot(const struct keyspace *ks, unsigned slot, size_t count,
                       ks_key_cb cb, void *arg);
/* The same walk handing over the entries themselves (no lookup per key, as
 * a caller given only names would need): every entry of slot, expired ones
 * too (expire_ms says). Returns how many. */
size_t ks_entries_in_slot(struct keyspace *ks, unsigned slot, ks_entry_cb cb, void *arg);
/* Deletes up to max keys of slot (a slot lost to a newer claim; a piece at a
 * time for a background drop), calling cb, when not NULL, with each key just
 * before it goes. Returns how many. ks_delete_slot: every key. */
size_t ks_delete_slot_n(struct keyspace *ks, unsigned slot, size_t max, ks_key_cb cb, void *arg);
static inline size_t ks_delete_slot(struct keyspace *ks, unsigned slot, ks_key_cb cb, void *arg)
{
    return ks_delete_slot_n(ks, slot, SIZE_MAX, cb, arg);
}

#endif

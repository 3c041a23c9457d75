/* zset.h - the sorted set type: members with a double score, ordered by
 * score then by member bytes. A listpack (member, score alternating, in
 * order) while small; an ordered B+ tree counting ranks plus an sdict
 * (member -> score) once more than zset-max-listpack-entries members or a
 * member longer than zset-max-listpack-value bytes, the rules and the
 * thresholds of redis-server 7.0.15 so OBJECT ENCODING and RDB bytes agree.
 *
 * Commands address members by rank (0 = lowest); range lookups return
 * ranks, so each command is written once for both encodings. Called only on
 * the thread owning the keyspace that holds the set.
 */
#ifndef SHOAL_ACTORS_TYPES_ZSET_H
#define SHOAL_ACTORS_TYPES_ZSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "actors/types/sdict.h"
#include "actors/worker/keyspace.h"

enum { ZSET_LISTPACK = 0, ZSET_SKIPLIST = 1 };

/* The ordered index of a large set (zset_tree.c): a B+ tree of (score,
 * member) counting the members under each child. */
#define ZT_LEAF 32                /* members per leaf */
#define ZT_FAN 32                 /* children per inner node */
typedef struct zt_leaf zt_leaf_t;
typedef struct zt {
    void *root;                   /* a zt_leaf_t when height is 0 */
    int height;
    size_t len;
    zt_leaf_t *first, *last;
    size_t leaves, inners;        /* for memory accounting */
} zt_t;
/* A member's place: valid until the tree next changes. */
typedef struct zt_pos { zt_leaf_t *leaf; unsigned i; } zt_pos_t;

typedef struct zset {
    ks_object_t base;
    uint8_t enc;                  /* ZSET_LISTPACK or ZSET_SKIPLIST */
    uint8_t *lp;                  /* ZSET_LISTPACK */
    sdict_t *d;                   /* ZSET_SKIPLIST: member -> its score (zset_entry_score) */
    zt_t *zt;                     /* ZSET_SKIPLIST: the order */
} zset_t;

extern const ks_object_ops_t zset_ops;

/* ordered index (zset_tree.c). Member bytes are not copied: they must stay
 * alive while in the tree (they are the sdict entries' keys). */
zt_t *zt_new(void);
void zt_free(zt_t *t);
size_t zt_mem(const zt_t *t);
void zt_insert(zt_t *t, double score, const uint8_t *m, size_t ml);
/* false when (score, m) is not in the tree. */
bool zt_delete(zt_t *t, double score, const uint8_t *m, size_t ml);
/* Deletes the member at 1-based rank (if there is one). */
void zt_delete_rank(zt_t *t, size_t rank);
/* 1-based rank of (score, member), 0 when absent. */
size_t zt_rank(const zt_t *t, double score, const uint8_t *m, size_t ml);
/* The place of 1-based rank, or of the last member; false when none. */
bool zt_at(const zt_t *t, size_t rank, zt_pos_t *pos);
bool zt_last(const zt_t *t, zt_pos_t *pos);
void zt_get(const zt_pos_t *pos, double *score, const uint8_t **m, size_t *ml);
/* Steps to the next / previous member; false past the end. */
bool zt_next(zt_pos_t *pos);
bool zt_prev(zt_pos_t *pos);
/* How many members from the lowest satisfy below(arg, ...), which must
 * hold for a prefix of the order (it may be called on any key). */
size_t zt_count_prefix(const zt_t *t, bool (*below)(const void *arg, double s, const uint8_t *m, size_t ml),
                       const void *arg);
/* The tree's invariants hold (unit tests). */
bool zt_check(const zt_t *t);
int zset_member_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl);

/* A new empty set in the encoding ZADD would create for a first member of
 * length first_len (skip list when the limits allow no listpack). */
zset_t *zset_new(size_t first_len);
zset_t *zset_new_enc(int enc);
size_t zset_len(const zset_t *z);
bool zset_score(const zset_t *z, const uint8_t *m, size_t ml, double *score);

/* zset_add flags, as Redis's zsetAdd. */
enum { ZADD_IN_INCR = 1, ZADD_IN_NX = 2, ZADD_IN_XX = 4, ZADD_IN_GT = 8, ZADD_IN_LT = 16 };
enum { ZADD_OUT_NOP = 1, ZADD_OUT_NAN = 2, ZADD_OUT_ADDED = 4, ZADD_OUT_UPDATED = 8 };
/* Adds or updates; false (ZADD_OUT_NAN) when the score would be NaN. */
bool zset_add(zset_t *z, double score, const uint8_t *m, size_t ml, int in, int *out, double *newscore);
bool zset_del(zset_t *z, const uint8_t *m, size_t ml);
/* 0-based rank (from the lowest, or the highest with rev), -1 when absent. */
long long zset_rank(const zset_t *z, const uint8_t *m, size_t ml, bool rev);
/* Number of members, from the lowest, for which below() holds (a prefix). */
size_t zset_count_prefix(const zset_t *z, bool (*below)(const void *arg, double s, const uint8_t *m, size_t ml),
                         const void *arg);
/* Removes the members of 0-based ranks [start, end]. */
void zset_del_ranks(zset_t *z, size_t start, size_t end);
void zset_to_skiplist(zset_t *z);
/* Back to a listpack when the counts allow (after a STORE built z). */
void zset_maybe_listpack(zset_t *z, size_t maxelelen);

/* Walks members from 0-based rank `rank`, upwards or (rev) downwards. */
typedef struct zset_iter {
    const zset_t *z;
    size_t off;
    zt_pos_t pos;                 /* ZSET_SKIPLIST; pos.leaf NULL at the end */
    bool rev;
    uint8_t mbuf[21];
} zset_iter_t;
void zset_iter_init(zset_iter_t *it, const zset_t *z, size_t rank, bool rev);
bool zset_iter_next(zset_iter_t *it, const uint8_t **m, size_t *ml, double *score);

/* Redis's d2string: integers as integers, else %.17g; inf/-inf/nan. */
size_t zset_d2str(char *buf, size_t cap, double v);
/* Parses a score as Redis's getDoubleFromObject; false for an invalid one. */
bool zset_parse_score(const uint8_t *s, size_t len, double *out);

/* The score of a ZSET_SKIPLIST set's sdict entry (kept in its value word). */
static inline double zset_entry_score(const sd_entry_t *e)
{
    double s;
    memcpy(&s, &e->val, sizeof s);
    return s;
}

int zset_rdb_load(unsigned rdb_type, const uint8_t *val, size_t len, zset_t **out);

#endif

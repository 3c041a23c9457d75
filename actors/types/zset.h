/* zset.h - the sorted set type: members with a double score, ordered by
 * score then by member bytes. A listpack (member, score alternating, in
 * order) while small; a skip list with spans (for ranks) plus an sdict
 * (member -> node) once more than zset-max-listpack-entries members or a
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
#include "actors/types/sdict.h"
#include "actors/worker/keyspace.h"

enum { ZSET_LISTPACK = 0, ZSET_SKIPLIST = 1 };

#define ZSL_MAXLEVEL 32

/* Each level link also holds the score of the node it points to (fscore,
 * meaningless when fwd is NULL): a search compares against it without
 * loading the next node, so a step that stops (about one in four) costs
 * no cache miss; a large set's lookups are bound by those misses. */
typedef struct zsl_node {
    double score;
    const uint8_t *m;             /* the member: the key bytes of its sdict entry */
    uint32_t ml;
    int nlev;
    struct zsl_node *back;
    struct { struct zsl_node *fwd; size_t span; double fscore; } lev[];
} zsl_node_t;

typedef struct zsl {
    zsl_node_t *head, *tail;
    size_t len;
    int level;
} zsl_t;

typedef struct zset {
    ks_object_t base;
    uint8_t enc;                  /* ZSET_LISTPACK or ZSET_SKIPLIST */
    uint8_t *lp;                  /* ZSET_LISTPACK */
    sdict_t *d;                   /* ZSET_SKIPLIST: member -> zsl_node_t * */
    zsl_t *zsl;
} zset_t;

extern const ks_object_ops_t zset_ops;

/* skip list (zset_sl.c) */
zsl_t *zsl_new(void);
void zsl_free(zsl_t *l);
zsl_node_t *zsl_insert(zsl_t *l, double score, const uint8_t *m, size_t ml);
/* Unlinks and frees the node with this score and member; false if absent. */
bool zsl_delete(zsl_t *l, double score, const uint8_t *m, size_t ml);
/* Gives node n (in l) the score `score`, moving it where that sorts; n
 * stays the same node (pointers to it stay valid). */
void zsl_update_score(zsl_t *l, zsl_node_t *n, double score);
/* 1-based rank of (score, member), 0 when absent. */
size_t zsl_rank(const zsl_t *l, double score, const uint8_t *m, size_t ml);
/* The node at 1-based rank, or NULL. */
zsl_node_t *zsl_at(const zsl_t *l, size_t rank);
/* How many nodes from the head satisfy below(arg, node) (which must hold
 * for a prefix of the list). */
size_t zsl_count_prefix(const zsl_t *l, bool (*below)(const void *arg, double s, const uint8_t *m, size_t ml),
                        const void *arg);
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
    zsl_node_t *node;
    bool rev;
    uint8_t mbuf[21];
} zset_iter_t;
void zset_iter_init(zset_iter_t *it, const zset_t *z, size_t rank, bool rev);
bool zset_iter_next(zset_iter_t *it, const uint8_t **m, size_t *ml, double *score);

/* Redis's d2string: integers as integers, else %.17g; inf/-inf/nan. */
size_t zset_d2str(char *buf, size_t cap, double v);
/* Parses a score as Redis's getDoubleFromObject; false for an invalid one. */
bool zset_parse_score(const uint8_t *s, size_t len, double *out);

int zset_rdb_load(unsigned rdb_type, const uint8_t *val, size_t len, zset_t **out);

#endif

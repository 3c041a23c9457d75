/* stream.h - the stream type: entries keyed by 128-bit IDs (ms-seq), kept in
 * nodes that are listpacks laid out exactly as redis-server 7.0.15 lays out
 * its stream nodes (a master entry naming the first entry's fields, then
 * each entry as flags, ID deltas from the node's master ID, optional field
 * names, values and a back count), so the RDB bytes and DUMP payloads are
 * 7.0.15's. Nodes sit in an array sorted by master ID (appends and trims
 * happen at the ends; lookups are binary searches), not in a radix tree.
 * Consumer groups (stream_cg.c) keep pending entries and consumers in
 * sorted arrays.
 *
 * Owned by one worker's keyspace; no locking. Iterator positions are byte
 * offsets into a node and stay valid until the stream is next changed.
 * Must never: keep a node whose live count is 0, or an ID not above the
 * previous one.
 */
#ifndef SHOAL_ACTORS_TYPES_STREAM_H
#define SHOAL_ACTORS_TYPES_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/worker/keyspace.h"
#include "proto/listpack.h"

typedef struct stream_id {
    uint64_t ms, seq;
} stream_id_t;

#define STREAM_FLAG_DELETED 1     /* an entry's flags: a tombstone */
#define STREAM_FLAG_SAMEFIELDS 2  /* its fields are the master entry's */

typedef struct stream_node {
    stream_id_t master;
    uint8_t *lp;
} stream_node_t;

struct stream_cgs;

typedef struct stream {
    ks_object_t obj;              /* first: the keyspace frees and measures it through obj.ops */
    stream_node_t *nodes;         /* nodes[head .. head + nnodes), sorted by master ID */
    size_t head, nnodes, cap;
    uint64_t length;              /* live entries */
    stream_id_t last_id, first_id, max_deleted;
    uint64_t entries_added;
    size_t lp_total;              /* bytes of all node listpacks, for memory accounting */
    struct stream_cgs *cgs;       /* consumer groups, NULL when none (stream_cg.c) */
} stream_t;

extern const ks_object_ops_t stream_ops;

static inline int stream_id_cmp(const stream_id_t *a, const stream_id_t *b)
{
    if (a->ms != b->ms) return a->ms < b->ms ? -1 : 1;
    if (a->seq != b->seq) return a->seq < b->seq ? -1 : 1;
    return 0;
}
static inline bool stream_id_zero(const stream_id_t *a) { return !a->ms && !a->seq; }
/* The next / previous ID; false (and 0-0 / max) when it wraps. */
bool stream_id_incr(stream_id_t *id);
bool stream_id_decr(stream_id_t *id);
/* "ms-seq" into buf (>= 42 bytes); returns the length. */
size_t stream_id_fmt(const stream_id_t *id, char *buf);
/* Parses "ms[-seq]" (no "-"/"+" handling): seq_star gets whether the
 * sequence was "*" (allowed only when seq_star is non-NULL). */
bool stream_id_parse(const uint8_t *s, size_t n, uint64_t missing_seq, stream_id_t *id, bool *seq_star);

stream_t *stream_new(void);
void stream_free(stream_t *s);
size_t stream_mem(const stream_t *s);
static inline stream_node_t *stream_node_at(const stream_t *s, size_t i) { return &s->nodes[s->head + i]; }

/* Appends an entry of nf field/value pairs (fv: 2*nf strings) with the ID
 * use (or the next one after last_id from now_ms when use is NULL; with
 * seq_given false the sequence is chosen). Returns 0, or -1 when the ID is
 * not above the last (EDOM), -2 when the entry is too big (ERANGE). */
int stream_append(stream_t *s, const uint8_t *const *fv, const size_t *fvlen, size_t nf, const stream_id_t *use,
                  bool seq_given, long long now_ms, stream_id_t *added);

/* Trimming as 7.0.15 (MAXLEN / MINID, approx: whole nodes only, limit: at
 * most that many entries, 0 = none). Returns the entries removed. */
enum { STREAM_TRIM_NONE = 0, STREAM_TRIM_MAXLEN = 1, STREAM_TRIM_MINID = 2 };
typedef struct stream_trim {
    int strategy;
    bool approx;
    long long limit;
    long long maxlen;
    stream_id_t minid;
} stream_trim_t;
int64_t stream_trim(stream_t *s, const stream_trim_t *t);

/* Marks the live entry id deleted; false when there is none. */
bool stream_delete(stream_t *s, const stream_id_t *id);
/* The first / last entry (tombstones too unless skip_tombstones); false if none. */
bool stream_edge(const stream_t *s, bool first, bool skip_tombstones, stream_id_t *id);
/* Whether a live entry id exists. */
bool stream_has(const stream_t *s, const stream_id_t *id);

/* Iteration over [start, end], forward or reverse, live entries only. */
typedef struct stream_iter {
    const stream_t *s;
    stream_id_t start, end;
    bool rev;
    bool skip_tombstones;
    bool in_node;                 /* off points into node `node` */
    size_t node;                  /* index from 0 (head) */
    const uint8_t *lp;
    size_t pos;                   /* forward: the lp-count ending the last entry looked at;
                                   * reverse: the lp-count of the next entry to look at */
    size_t field_off;             /* the current entry's next field (or value) */
    stream_id_t master;
    int64_t mf_count;
    size_t mf_start, mf_ptr;      /* master fields; mf_ptr: the next one (SAMEFIELDS) */
    int flags;
    size_t flags_off;
} stream_iter_t;
void stream_iter_start(stream_iter_t *it, const stream_t *s, const stream_id_t *start, const stream_id_t *end,
                       bool rev);
bool stream_iter_next(stream_iter_t *it, stream_id_t *id, int64_t *numfields);
/* The next field and value of the entry stream_iter_next returned; the
 * bytes are in fb/vb when the listpack holds them as integers. */
void stream_iter_field(stream_iter_t *it, const uint8_t **f, size_t *fl, const uint8_t **v, size_t *vl, uint8_t fb[21],
                       uint8_t vb[21]);

/* Node building, for RDB loading: adds a node (a listpack that the caller
 * validated, now owned by the stream) with its master ID. */
void stream_add_node(stream_t *s, const stream_id_t *master, uint8_t *lp);
/* The node's element count fields: live and deleted entries. */
int64_t stream_node_live(const uint8_t *lp);

/* RDB (stream_rdb.c): the value as 7.0.15 saves it (STREAM_LISTPACKS_2),
 * and a stream from the bytes of a STREAM_LISTPACKS or _2 value: 0 with
 * *out the caller's, -1 when the bytes are not a valid stream. */
struct rdb_encoder;
#define STREAM_RDB_TYPE 19
int stream_rdb_save(const stream_t *s, struct rdb_encoder *enc);
int stream_rdb_load(unsigned t, const uint8_t *val, size_t len, stream_t **out);

/* COPY */
stream_t *stream_dup(const stream_t *s);

/* Limits from the configuration. */
long long stream_node_max_bytes(void);
long long stream_node_max_entries(void);

#endif

/* nodes_conf.h - the cluster config file (nodes.conf) and the CLUSTER NODES
 * line format: a parser (bytes -> nodes_conf_t or an error with its line) and
 * formatters (one node line, or the whole file).
 *
 * Pure: no I/O, no globals. The parser is total: any byte string gives either
 * a value or an error, never a crash or an over-read, and it allocates at most
 * a small constant factor of the input size. It records what the file says and
 * nothing more; the loading rules that need a clock or the node table (a
 * non-zero ping/pong time means "now", a replica's config epoch is forced to 0,
 * an unknown master gets an empty record, currentEpoch is raised to the largest
 * config epoch, the first claimant of a slot wins) belong to the state actor.
 *
 * Specs: docs/cluster-bus.md §5.19 (file, loading rules) and §5.20 (line format);
 * docs/clients.md §3.2 and §3.24. */
#ifndef SHOAL_PROTO_NODES_CONF_H
#define SHOAL_PROTO_NODES_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proto/bus.h"
#include "proto/slot.h"

#define NODES_CONF_NAME_LEN      40   /* a node name, without the NUL */
#define NODES_CONF_IP_SIZE       46   /* INET6_ADDRSTRLEN, with the NUL */
#define NODES_CONF_HOSTNAME_SIZE 256  /* with the NUL */
#define NODES_CONF_MAX_WARNINGS  16   /* warnings kept; more are only counted */

/* Node flags: the bus header's u16 flag bits, defined once in proto/bus.h
 * (docs/cluster-bus.md §3.8); nodes.conf names the same bits in words. */
enum {
    NODES_CONF_FLAG_MASTER     = BUS_NODE_MASTER,
    NODES_CONF_FLAG_SLAVE      = BUS_NODE_SLAVE,
    NODES_CONF_FLAG_PFAIL      = BUS_NODE_PFAIL,
    NODES_CONF_FLAG_FAIL       = BUS_NODE_FAIL,
    NODES_CONF_FLAG_MYSELF     = BUS_NODE_MYSELF,
    NODES_CONF_FLAG_HANDSHAKE  = BUS_NODE_HANDSHAKE,
    NODES_CONF_FLAG_NOADDR     = BUS_NODE_NOADDR,
    NODES_CONF_FLAG_MEET       = BUS_NODE_MEET,        /* never printed, never parsed */
    NODES_CONF_FLAG_MIGRATE_TO = BUS_NODE_MIGRATE_TO,  /* never printed, never parsed */
    NODES_CONF_FLAG_NOFAILOVER = BUS_NODE_NOFAILOVER,
};

/* An open slot of the node: MIGRATING to `peer`, or IMPORTING from it. */
typedef struct nodes_conf_open_slot {
    uint16_t slot;
    bool importing;                      /* false: migrating to peer */
    char peer[NODES_CONF_NAME_LEN + 1];
} nodes_conf_open_slot_t;

typedef struct nodes_conf_node {
    char name[NODES_CONF_NAME_LEN + 1];
    char ip[NODES_CONF_IP_SIZE];         /* "" when unknown */
    int port, cport;                     /* 0..65535 */
    char hostname[NODES_CONF_HOSTNAME_SIZE]; /* "" when none */
    uint16_t flags;                      /* NODES_CONF_FLAG_* */
    char master[NODES_CONF_NAME_LEN + 1]; /* "" when none ("-") */
    long long ping_sent, pong_received;  /* ms, as written; 0 = none */
    uint64_t config_epoch;               /* as written (format: caller passes the master's for a replica) */
    bool connected;                      /* link-state field == "connected" */
    /* Owned slots; slot s is bit (s % 8) of byte s / 8, LSB first, which is
     * the bus header's bitmap order (docs/cluster-bus.md §2.3), so it can be copied. */
    uint8_t slots[SLOT_COUNT / 8];
    /* Open slots, sorted by slot then migrating before importing, at most one
     * entry per (slot, direction). The parser produces this order; callers of
     * the formatters must respect it. Owned by the nodes_conf_t after a parse
     * (malloc'ed); for formatting the caller may point it anywhere. */
    nodes_conf_open_slot_t *open_slots;
    size_t open_slot_count;
} nodes_conf_node_t;

typedef struct nodes_conf_warning {
    int line;                            /* 1-based */
    char message[128];
} nodes_conf_warning_t;

typedef struct nodes_conf {
    nodes_conf_node_t *nodes;            /* malloc'ed, in file order */
    size_t node_count;
    size_t myself;                       /* index of the myself node (after a successful parse) */
    uint64_t current_epoch, last_vote_epoch; /* from the vars line; 0 when absent */
    /* Things Redis logs and skips (unknown vars keys, extra address fields). */
    nodes_conf_warning_t warnings[NODES_CONF_MAX_WARNINGS];
    size_t warning_count;                /* total; only the first NODES_CONF_MAX_WARNINGS are kept */
} nodes_conf_t;

typedef enum nodes_conf_result {
    NODES_CONF_OK = 0,
    NODES_CONF_EMPTY,          /* zero-length input: Redis treats it as "no config yet" */
    NODES_CONF_ERR_BINARY,     /* a NUL byte */
    NODES_CONF_ERR_QUOTING,    /* unbalanced quotes, or a closing quote not followed by a space */
    NODES_CONF_ERR_FIELDS,     /* a node line with fewer than 8 fields */
    NODES_CONF_ERR_NAME,       /* a node name that is not 40 chars of a-z0-9 */
    NODES_CONF_ERR_ADDRESS,    /* bad ip:port[@cport][,hostname] */
    NODES_CONF_ERR_FLAG,       /* unknown flag (Redis aborts) */
    NODES_CONF_ERR_MASTER,     /* master field neither "-" nor a valid other name */
    NODES_CONF_ERR_NUMBER,     /* bad ping/pong/epoch number */
    NODES_CONF_ERR_SLOT,       /* bad slot item or slot out of 0..16383 */
    NODES_CONF_ERR_MYSELF,     /* no myself line, or more than one */
    NODES_CONF_ERR_DUPLICATE,  /* the same node name on two lines */
    NODES_CONF_ERR_VARS,       /* vars line with an even argument count or a bad number */
    NODES_CONF_ERR_NOMEM,
} nodes_conf_result_t;

typedef struct nodes_conf_error {
    nodes_conf_result_t code;
    int line;                  /* 1-based line of the problem; 0 for the whole file */
    char message[256];         /* "Unrecoverable error: corrupted cluster config file, line N: ..." */
} nodes_conf_error_t;

/* Parses a whole nodes.conf. On NODES_CONF_OK, *out owns its memory (free it
 * with nodes_conf_free). On any other result *out is left empty (nothing to
 * free, though calling nodes_conf_free is harmless) and *err, when non-NULL,
 * says what and where. */
nodes_conf_result_t nodes_conf_parse(const uint8_t *buf, size_t len, nodes_conf_t *out,
                                     nodes_conf_error_t *err);

/* Frees what nodes_conf_parse allocated and empties *conf. */
void nodes_conf_free(nodes_conf_t *conf);

/* The largest of current_epoch and every node's config_epoch (the loader
 * raises currentEpoch to it). */
uint64_t nodes_conf_max_epoch(const nodes_conf_t *conf);

/* Writes one CLUSTER NODES line for n, without a trailing newline (so CLUSTER
 * REPLICAS can use it as is). Open-slot annotations are written only when
 * with_open_slots (the myself line). snprintf-like: writes at most cap-1 bytes
 * plus a NUL when cap > 0, and returns the full length the line needs, so
 * out may be NULL with cap 0 to measure. MEET and MIGRATE_TO are not printed. */
size_t nodes_conf_format_line(char *out, size_t cap, const nodes_conf_node_t *n,
                              bool with_open_slots);

/* Appends one line (as nodes_conf_format_line) plus "\n" to a malloc'ed
 * growable buffer *buf of *len bytes used and *cap allocated (all may start
 * as NULL/0). Returns false on out-of-memory, leaving the *len bytes used as they were. */
bool nodes_conf_append_line(char **buf, size_t *len, size_t *cap, const nodes_conf_node_t *n,
                            bool with_open_slots);

/* The whole file: one line per node except HANDSHAKE nodes (the myself node
 * with its open slots), each ending in "\n", then
 * "vars currentEpoch <n> lastVoteEpoch <n>\n". Returns a malloc'ed,
 * NUL-terminated buffer the caller frees, its length (without the NUL) in
 * *len_out; NULL on out-of-memory. */
char *nodes_conf_format(const nodes_conf_t *conf, size_t *len_out);

static inline bool nodes_conf_slot_test(const nodes_conf_node_t *n, unsigned slot)
{
    return (n->slots[slot >> 3] >> (slot & 7)) & 1;
}

static inline void nodes_conf_slot_set(nodes_conf_node_t *n, unsigned slot)
{
    n->slots[slot >> 3] |= (uint8_t)(1u << (slot & 7));
}

#endif

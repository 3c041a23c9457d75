/* migrate_internal.h - the MIGRATE job, shared by migrate.c (its
 * connections and rounds on a worker's loop) and migrate_job.c (what the
 * handler builds and settles). Only actors/worker/migrate*.c use it.
 */
#ifndef SHOAL_ACTORS_WORKER_MIGRATE_INTERNAL_H
#define SHOAL_ACTORS_WORKER_MIGRATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/worker/migrate.h"
#include "actors/worker/worker.h"
#include "proto/migrate.h"

struct keyspace;
struct mig_conn;

#define MIG_MAX_ROUNDS 9            /* the first round and 8 resends of keys changed in flight */

enum key_state { KEY_PENDING = 0, KEY_SENT, KEY_TAKEN, KEY_DONE };

typedef struct mig_key {
    uint8_t *key;
    size_t len;
    int state;
    bool resend;                    /* sent before and changed since: REPLACE, or DEL when gone */
    uint64_t version;               /* its WATCH bucket's version when sent */
} mig_key_t;

typedef struct mig_expect {
    uint8_t role;                   /* enum mig_role */
    int key;                        /* MIG_ROLE_KEY: index into keys */
} mig_expect_t;

enum outcome { OUT_NONE = 0, OUT_IOERR_CONNECT, OUT_IOERR_WRITE, OUT_IOERR_READ, OUT_UNSTABLE };

typedef struct mig_conn mig_conn_t;

struct migrate_job {
    char *name;                     /* "host:port" as given: the cache key */
    size_t namelen;
    char *host;
    int port;
    long long dbid, timeout_ms;
    int src_db;                     /* the caller's database: the keys are read there */
    bool copy, replace;
    uint8_t *user, *pass;
    size_t userlen, passlen;
    mig_key_t *keys;
    int nkeys, keycap;
    uint64_t flush_epoch;           /* the worker's when the round was built */
    bool holds_watch;               /* watch_hold taken: key versions are bumped while it runs */
    const struct keyspace *ks;      /* the keyspace the round was built from */
    /* the round in flight */
    mig_expect_t *expect;
    int nexpect, expcap, next_line;
    int key_lines_read;
    mig_verdict_t verdict;
    int rounds;
    bool retried;
    int outcome;
    /* the way back */
    worker_t *w;
    remote_cmd_t *rc;
    mig_conn_t *conn;
    migrate_job_t *next;
};

#endif

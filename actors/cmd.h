/* cmd.h - the command table and the context a command handler runs in.
 *
 * Every command we serve has one entry in the table (actors/cmdtable.c): its
 * name, arity, flags, key positions and key specs (as redis-server 7.0.15
 * reports them in COMMAND INFO, because redis-py routes by them), ACL
 * categories, documentation, and where it executes:
 *   CMD_EXEC_KEYED  - on the worker that owns the slot of its keys (needs ctx->ks);
 *                     a command with no key in this call runs on the client's worker
 *   CMD_EXEC_CLIENT - on the client's own worker (server/connection commands;
 *                     ctx->client is set)
 *   CMD_EXEC_FANOUT - once on every worker, results merged by the worker code
 *                     (DBSIZE, KEYS, SCAN, FLUSHALL, RANDOMKEY ...)
 */
#ifndef SHOAL_ACTORS_CMD_H
#define SHOAL_ACTORS_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proto/resp.h"

struct keyspace;
struct client;
struct worker;

typedef struct cmd_ctx {
    int argc;
    const uint8_t **argv;         /* argument bytes (not NUL-terminated) */
    const size_t *argvlen;
    resp_buf_t *reply;            /* append exactly one reply */
    struct keyspace *ks;          /* executing worker's keyspace (KEYED and FANOUT) */
    struct client *client;        /* CLIENT commands only; NULL elsewhere */
    struct worker *worker;        /* the executing worker */
    long long now_ms;             /* wall clock at dispatch, for expiry decisions */
    bool dirty;                   /* set by handlers that changed the keyspace */
    bool from_master;             /* applied from the replication stream (later issue) */
} cmd_ctx_t;

typedef void (*cmd_fn)(cmd_ctx_t *ctx);

/* Command flags (the subset that routing needs; COMMAND INFO text flags are kept separately). */
enum {
    CMD_WRITE    = 1u << 0,
    CMD_READONLY = 1u << 1,
    CMD_DENYOOM  = 1u << 2,
    CMD_ADMIN    = 1u << 3,
    CMD_NOSCRIPT = 1u << 4,
    CMD_LOADING  = 1u << 5,
    CMD_STALE    = 1u << 6,
    CMD_FAST     = 1u << 7,
    CMD_NO_AUTH  = 1u << 8,       /* allowed before AUTH (AUTH, HELLO, QUIT) */
    CMD_NO_MULTI = 1u << 9,       /* not allowed inside MULTI */
    CMD_MOVABLE_KEYS = 1u << 10,
    CMD_ALLOW_BUSY = 1u << 11,
    CMD_ASKING   = 1u << 12,
};

enum cmd_exec { CMD_EXEC_KEYED = 0, CMD_EXEC_CLIENT = 1, CMD_EXEC_FANOUT = 2 };

/* One key spec, in the 7.0 form COMMAND INFO prints. */
typedef struct cmd_keyspec {
    const char *flags;            /* space-separated, e.g. "RW ACCESS UPDATE" */
    int bs_type;                  /* 1 = index, 2 = keyword */
    int bs_index;                 /* index: pos; keyword: startfrom */
    const char *bs_keyword;
    int fk_type;                  /* 1 = range, 2 = keynum */
    int fk_a, fk_b, fk_c;         /* range: lastkey, step, limit; keynum: keynumidx, firstkey, step */
} cmd_keyspec_t;

typedef struct cmd_arg_doc cmd_arg_doc_t;   /* COMMAND DOCS argument tree (cmdtable.c) */

typedef struct cmd_def {
    const char *name;             /* lower case; subcommands as "cluster|nodes" via parent */
    int arity;
    uint32_t flags;               /* CMD_* */
    const char *flag_names;       /* COMMAND INFO flags, space-separated, e.g. "write denyoom" */
    int first_key, last_key, key_step;
    const char *acl_categories;   /* space-separated without '@', e.g. "write string slow" */
    const char *tips;             /* space-separated, may be NULL */
    const cmd_keyspec_t *keyspecs;
    int keyspec_count;
    enum cmd_exec exec;
    cmd_fn handler;               /* NULL for containers (the table dispatches to subcommands) */
    const struct cmd_def *subcommands;  /* terminated by an entry with name == NULL */
    /* docs */
    const char *summary, *since, *group, *complexity;
    const cmd_arg_doc_t *args;
    int arg_count;
    const struct cmd_def *parent; /* set at init for subcommands */
} cmd_def_t;

/* Builds lookup structures; call once at startup before any lookup. */
void cmd_table_init(void);
/* Case-insensitive lookup of a top-level command; NULL if unknown. */
const cmd_def_t *cmd_lookup(const uint8_t *name, size_t len);
/* Case-insensitive subcommand lookup of a container; NULL if unknown. */
const cmd_def_t *cmd_lookup_sub(const cmd_def_t *parent, const uint8_t *name, size_t len);
/* Number of top-level commands (COMMAND COUNT). */
int cmd_count(void);
/* Iteration over top-level commands. */
const cmd_def_t *cmd_at(int i);

/* Positions (argv indexes) of the keys of this call, from first/last/step, or
 * for movable-keys commands from their own rule. Returns the number found
 * (<= max). A negative last_key counts from the end as Redis does. */
int cmd_get_keys(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                 int *positions, int max);

/* COMMAND sub-replies (the table owns the metadata). */
void cmd_reply_info(resp_buf_t *r, const cmd_def_t *cmd);   /* one COMMAND INFO entry */
void cmd_reply_docs(resp_buf_t *r, const cmd_def_t *cmd);   /* name + docs map */

#endif

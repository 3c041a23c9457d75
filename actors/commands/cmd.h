/* cmd.h - the command table and the context a command handler runs in.
 *
 * Every command we serve has one entry in the table (actors/commands/cmdtable.c): its
 * name, arity, flags, key positions and key specs (as redis-server 7.0.15
 * reports them in COMMAND INFO, because redis-py routes by them), ACL
 * categories, documentation, and where it executes:
 *   CMD_EXEC_KEYED  - on the worker that owns the slot of its keys (needs ctx->ks);
 *                     a command with no key in this call runs on the client's worker
 *   CMD_EXEC_CLIENT - on the client's own worker (server/connection commands;
 *                     ctx->client is set)
 *   CMD_EXEC_FANOUT - once on every worker, results merged on the client's
 *                     worker (DBSIZE, KEYS, SCAN, FLUSHALL, RANDOMKEY ...), as
 *                     the entry's `fanout` callbacks say
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
    long long dirty;              /* changes made (true: one), as 7.0.15 counts server.dirty: a handler
                                   * that changes several keys or elements adds each */
    bool from_master;             /* applied from the replication stream (later issue) */
    uint64_t acl_uid;             /* the caller's ACL user (actors/acl), 0 when not known */
    uint64_t routed_id;           /* the caller's client id as routed (tracking.h: with its caching
                                   * decision), 0 when none: a script's calls run for it */
    /* Blocking commands (CMD_BLOCKING) only; see actors/worker/blocking.h. */
    int block_mode;               /* CMD_BLOCK_NEVER, CMD_BLOCK_MAY or CMD_BLOCK_SERVE */
    int serve_arg;                /* CMD_BLOCK_SERVE: argv index of the key that became ready */
    bool blocked;                 /* out: the handler replied nothing and waits */
    int block_first, block_nkeys; /* out, with blocked: the argv range of the keys it waits on */
    long long block_timeout_ms;   /* out, with blocked: relative timeout, 0 = forever */
    /* Suspending commands (CMD_SUSPENDS, MIGRATE) only, with block_mode
     * CMD_BLOCK_MAY: a handler that waits on I/O replies nothing and leaves
     * its state in `suspend`; it is called again with that state in `resume`
     * when the I/O is done (actors/worker/migrate.h). */
    void *suspend;                /* out */
    void *resume;                 /* in; for a blocking command served after a wait, its block_state */
    /* Blocking commands: what the call needs to remember while it waits
     * (XREAD's resolved IDs), one malloc'ed block that blocking.c frees
     * when the wait ends; it comes back in `resume` when the call is served. */
    void *block_state;            /* out, with blocked */
    /* A handler whose effect differs from its call (BLPOP served as LPOP)
     * names it here; propagation then sends this instead. */
    int prop_argc;
    const uint8_t *prop_argv[5];
    size_t prop_argvlen[5];
    char prop_num[24];
    /* A handler whose effect is several commands (SPOP with a count: one
     * SREM per member, as 7.0.15) writes them as RESP arrays into a buffer
     * it keeps until its next call, and counts them here; propagation sends
     * them in place of the call, in MULTI/EXEC when more than one. */
    const resp_buf_t *prop_cmds;
    int prop_ncmds;
    /* A write that propagates nothing but what it named in prop_cmds (an
     * XREADGROUP that created a consumer only: 7.0.15 sends nothing). */
    bool prop_none;
    /* A handler whose call ends later (DEBUG SLEEP answers when the node
     * wakes) sets this: the slow log then takes the call at its end, not
     * at the handler's return. */
    bool slowlog_later;
    /* A handler whose error reply repeats an error already counted where
     * it arose (a script returning or raising its call's error) sets this:
     * the call counts as failed, the error not twice (7.0.15's
     * ERR_REPLY_FLAG_NO_STATS_UPDATE). */
    bool error_counted;
    /* A handler that refused its call where 7.0.15's processCommand refuses
     * it, before any call (a script whose shebang flags forbid it here), sets
     * this: the call counts as rejected, not as a call, as in 7.0.15. */
    bool rejected;
} cmd_ctx_t;

enum { CMD_BLOCK_NEVER = 0, CMD_BLOCK_MAY = 1, CMD_BLOCK_SERVE = 2 };

typedef void (*cmd_fn)(cmd_ctx_t *ctx);

/* How a command runs once on every worker (actors/worker/fanout.c drives it).
 * CMD_EXEC_FANOUT entries have one; so have the CLIENT-class commands whose
 * handler fans out after checking its arguments (CLIENT LIST, CLIENT KILL,
 * DEBUG POPULATE/DIGEST) and SAVE, whose parts rdb_save.c sends itself.
 * Every callback runs on a worker thread: `part` on each worker with that
 * worker's state, the others on the worker of the client that asked. */
struct remote_cmd;
struct reply_slot;
typedef struct cmd_fanout {
    /* Optional, first, on the client's worker: true when the command was
     * answered (into ctx->reply) or sent elsewhere, and no part must go. */
    bool (*start)(cmd_ctx_t *ctx);
    /* On each worker: its share, into rc->reply and rc->keys_delta; the
     * command is rc->cmds[0]. */
    void (*part)(struct worker *w, struct remote_cmd *rc);
    /* On the client's worker, once per part as it comes back (may be NULL). */
    void (*merge)(struct reply_slot *s, const struct remote_cmd *rc);
    /* On the client's worker after the last part: the one reply, into s->buf. */
    void (*reply)(struct reply_slot *s);
    /* Instead of merge and reply, for a fan-out that is no client's command
     * and counts its parts itself (SAVE's): takes each part back, owns rc. */
    void (*gather)(struct worker *w, struct remote_cmd *rc);
    /* Optional, on the client's worker before any part leaves: what the part
     * of that same worker needs of the client as it is now, in the middle of
     * its command (a string it owns, or NULL); the part finds it in
     * rc->caller_line. CLIENT LIST's line of its own caller, as 7.0.15 shows it. */
    char *(*caller_line)(const struct client *c);
} cmd_fanout_t;

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
    CMD_BLOCKING = 1u << 13,      /* may wait for data (BLPOP ...); never waits inside MULTI */
    CMD_SUSPENDS = 1u << 14,      /* may wait on a socket of its own (MIGRATE): runs on its owner
                                     in a message of its own, like CMD_BLOCKING */
    CMD_MAY_REPLICATE = 1u << 15, /* not a write itself but may write or propagate (EVAL, EVALSHA,
                                     FCALL, PUBLISH, SPUBLISH, PFCOUNT, as 7.0.15's may-replicate
                                     flag): a pause of writes holds it, a read-only script may not
                                     call it; COMMAND INFO does not show it, as in 7.0.15 */
    CMD_SKIP_MONITOR = 1u << 16,  /* not shown to MONITOR; set by cmd_table_init from flag_names */
    CMD_SKIP_SLOWLOG = 1u << 17,  /* not put in the slow log; the same */
    CMD_NO_ASYNC_LOADING = 1u << 18, /* refused with -LOADING while a replica loads its master's
                                        RDB asynchronously (repl-diskless-load swapdb); the same */
    CMD_SCRIPT   = 1u << 19,      /* runs a Lua script (EVAL*, FCALL*): only on its keys' own worker,
                                     never borrowed, since a busy script serves that worker's clients */
};

enum cmd_exec { CMD_EXEC_KEYED = 0, CMD_EXEC_CLIENT = 1, CMD_EXEC_FANOUT = 2 };

/* Key spec search types (begin_search / find_keys), as COMMAND INFO names them. */
enum { CMD_KS_INDEX = 1, CMD_KS_KEYWORD = 2 };      /* bs_type */
enum { CMD_KS_RANGE = 1, CMD_KS_KEYNUM = 2 };       /* fk_type */
/* Both types "unknown" (0): keys no spec can locate (SORT's BY/GET and STORE);
 * such a command finds its keys with cmd_def_t.getkeys. */
enum { CMD_KS_UNKNOWN = 0 };

/* One key spec, in the 7.0 form COMMAND INFO prints. */
typedef struct cmd_keyspec {
    const char *flags;            /* space-separated as 7.0 prints them, e.g. "RW access update" */
    int bs_type;                  /* 1 = index, 2 = keyword */
    int bs_index;                 /* index: pos; keyword: startfrom */
    const char *bs_keyword;
    int fk_type;                  /* 1 = range, 2 = keynum */
    int fk_a, fk_b, fk_c;         /* range: lastkey, step, limit; keynum: keynumidx, firstkey, step */
    const char *notes;            /* optional free text, printed first when set */
} cmd_keyspec_t;

/* COMMAND DOCS argument tree. */
enum { CMD_ARG_OPTIONAL = 1u << 0, CMD_ARG_MULTIPLE = 1u << 1, CMD_ARG_MULTIPLE_TOKEN = 1u << 2 };

typedef struct cmd_arg_doc cmd_arg_doc_t;
struct cmd_arg_doc {
    const char *name;
    const char *type;             /* "key", "string", "integer", "double", "pattern", "unix-time",
                                     "pure-token", "oneof", "block" */
    int key_spec_index;           /* index into the command's keyspecs, -1 if not a key */
    const char *token, *since, *deprecated_since;   /* each may be NULL */
    unsigned flags;               /* CMD_ARG_* */
    const cmd_arg_doc_t *subargs; /* for "oneof" and "block" */
    int subarg_count;
};

/* One COMMAND DOCS history entry: the version and what changed then. */
typedef struct cmd_history { const char *since, *change; } cmd_history_t;

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
    cmd_fn handler;               /* NULL for containers (the table dispatches to subcommands);
                                     COMMAND has both: as in Redis, a container called with
                                     argc >= 2 goes to the subcommand, and with argc == 1 to its
                                     own handler if its arity allows (COMMAND -1; CLUSTER -2 fails) */
    const struct cmd_def *subcommands;  /* terminated by an entry with name == NULL */
    /* docs */
    const char *summary, *since, *group, *complexity;
    const cmd_arg_doc_t *args;
    int arg_count;
    const struct cmd_def *parent; /* set at init for subcommands */
    const char *doc_flags;        /* COMMAND DOCS doc_flags, space-separated ("deprecated", "syscmd"), may be NULL */
    const char *deprecated_since, *replaced_by;     /* may be NULL */
    const cmd_history_t *history;
    int history_count;
    cmd_fanout_t fanout;          /* see cmd_fanout_t; all NULL for other commands */
    /* Movable keys its specs cannot express (SORT's STORE anywhere in the
     * call): the key positions, as cmd_get_keys returns them. NULL: specs. */
    int (*getkeys)(int argc, const uint8_t **argv, const size_t *argvlen, int *positions, int max);
    /* Flags that depend on the call (FCALL: its function's flags make it a
     * write or a read, as 7.0.15's getCommandFlags): from `flags` (the
     * entry's) and the arguments. NULL: the entry's flags. */
    uint32_t (*call_flags)(uint32_t flags, int argc, const uint8_t **argv, const size_t *argvlen);
    int acl_id;                   /* set at init: this entry's bit in an ACL selector (actors/acl) */
} cmd_def_t;

/* The flags of this call of cmd (see call_flags): what routing and the
 * write checks look at. */
static inline uint32_t cmd_call_flags(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    return cmd->call_flags ? cmd->call_flags(cmd->flags, argc, argv, argvlen) : cmd->flags;
}

/* Whether a pause of writes (manual failover, slot hand-over) must hold cmd. */
static inline bool cmd_may_write(const cmd_def_t *cmd) { return cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE); }

/* A write without keys that changes node-wide state (FUNCTION LOAD, DELETE,
 * FLUSH, RESTORE): from a master's stream or an AOF it is applied once, on
 * any one worker. */
static inline bool cmd_keyless_write(const cmd_def_t *cmd)
{
    return cmd->exec == CMD_EXEC_CLIENT && (cmd->flags & CMD_WRITE) && cmd->handler;
}

/* Builds lookup structures; call once at startup before any lookup. */
void cmd_table_init(void);
/* Case-insensitive lookup of a top-level command; NULL if unknown. */
const cmd_def_t *cmd_lookup(const uint8_t *name, size_t len);
/* Case-insensitive subcommand lookup of a container; NULL if unknown. */
const cmd_def_t *cmd_lookup_sub(const cmd_def_t *parent, const uint8_t *name, size_t len);
/* Every entry, subcommands (and CLUSTER's unlisted ones, last) included,
 * by acl_id: 0 .. cmd_all_count() - 1. */
int cmd_all_count(void);
const cmd_def_t *cmd_all_at(int acl_id);
/* False for the entries 7.0.15 has not (CLUSTER's unlisted subcommands). */
bool cmd_all_listed(int acl_id);
/* Number of top-level commands (COMMAND COUNT). */
int cmd_count(void);
/* Iteration over top-level commands. */
const cmd_def_t *cmd_at(int i);
/* Lookup by full name as COMMAND INFO/DOCS accept it: "get" or "cluster|nodes"
 * (case-insensitive); NULL if unknown. */
const cmd_def_t *cmd_lookup_fullname(const uint8_t *name, size_t len);
/* Writes "get" or "cluster|nodes" (NUL-terminated, truncated to cap) into buf;
 * returns the full length. For errors like "wrong number of arguments for 'cluster|nodes'". */
size_t cmd_fullname(const cmd_def_t *cmd, char *buf, size_t cap);
/* True if the space-separated list `words` (flags, categories) contains `word`. */
bool cmd_words_have(const char *words, const char *word);
/* True if at least one key spec denotes a real key (not "not_key"): the test
 * Redis uses for "The command has no key arguments". SPUBLISH's channel is a
 * not_key spec, so SPUBLISH has none here although first_key is 1. */
bool cmd_has_keys(const cmd_def_t *cmd);

/* For a call made of key groups from argv[1] on (key_step arguments each, the
 * key first, argc - 1 a multiple of key_step: MSET k v k v, DEL k k), the
 * arguments of one part when the groups are dealt out: argv[0], then every
 * group k whose owner[k] is `part`, in order. sub and sublen have room for
 * argc entries. Returns how many were written, 1 when the part owns none. */
int cmd_group_args(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                   const uint8_t *owner, int part, const uint8_t **sub, size_t *sublen);

/* Positions (argv indexes) of the keys of this call, from first/last/step, or
 * for movable-keys commands from their key specs (a keynum spec reads the
 * key count at its argument). Returns the number found
 * (<= max). A negative last_key counts from the end as Redis does. Never
 * looks at argv[i] for i >= argc; argv/argvlen may be NULL (no command of ours
 * has movable keys, so the positions depend on argc alone). For a container,
 * pass the subcommand's entry. */
int cmd_get_keys(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                 int *positions, int max);

/* Positions of the keys of this call as its key specs find them, 7.0.15's
 * getKeysUsingKeySpecs (each spec's begin search, keyword or index, then its
 * range or key count), with the index of the spec naming each in specs[]
 * (may be NULL). Returns how many (<= max), or -1 when a spec is of an
 * unknown kind, incomplete, or does not fit the call: 7.0.15 then asks the
 * command's own key finder. */
int cmd_spec_keys(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen, int *positions,
                  int *specs, int max);

/* COMMAND sub-replies (the table owns the metadata). */
void cmd_reply_info(resp_buf_t *r, const cmd_def_t *cmd);   /* one COMMAND INFO entry */
void cmd_reply_docs(resp_buf_t *r, const cmd_def_t *cmd);   /* name + docs map: two elements, which
                                                               the caller counts in its map header */

#endif

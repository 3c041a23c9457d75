/* acl.h - users and permissions as Redis 7.0.15 has them (ACL SETUSER, AUTH,
 * NOPERM), checked on the workers without a lock.
 *
 * The users live in an immutable snapshot (acl_snap_t) published with
 * runtime/snapshot.h, like the cluster's slot table: a change (ACL SETUSER,
 * DELUSER, LOAD, CONFIG SET requirepass) builds a whole new snapshot under
 * one writer lock and publishes it with one pointer store; a worker reads the
 * current snapshot inside its read section, once per command, so a change is
 * in force for the next command of every connection. Nothing on the command
 * path takes a lock; only changes and the ACL log (denials) do.
 *
 * A connection names its user by uid, a number given to a user when it is
 * created and kept while it exists (SETUSER keeps it; DELUSER and ACL LOAD
 * end it, and 7.0.15 closes the connections of a user that ends). The
 * default user's uid is ACL_UID_DEFAULT and never ends.
 *
 * Must never: change a published snapshot or a user in it; block on the
 * command path.
 */
#ifndef SHOAL_ACTORS_ACL_H
#define SHOAL_ACTORS_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/commands/cmd.h"
#include "runtime/snapshot.h"

/* As 7.0.15's USER_COMMAND_BITS_COUNT; the last bit means "commands added
 * later too" (set only by +@all / allcommands). */
#define ACL_CMD_BITS 1024
#define ACL_UID_DEFAULT 1u

/* Check results, in 7.0.15's order (the larger wins when selectors differ). */
enum { ACL_OK = 0, ACL_DENIED_CMD = 1, ACL_DENIED_KEY = 2, ACL_DENIED_AUTH = 3, ACL_DENIED_CHANNEL = 4 };
/* Where a denial happened (ACL LOG "context"). */
enum { ACL_CTX_TOPLEVEL = 0, ACL_CTX_MULTI = 1, ACL_CTX_LUA = 2 };

/* User flags, in the order ACL LIST and GETUSER print them. */
enum {
    ACL_USER_ON = 1u << 0,
    ACL_USER_OFF = 1u << 1,
    ACL_USER_NOPASS = 1u << 2,
    ACL_USER_SKIP_SANITIZE = 1u << 3,
    ACL_USER_SANITIZE = 1u << 4,
};
/* Selector flags. */
enum {
    ACL_SEL_ROOT = 1u << 0,
    ACL_SEL_ALLKEYS = 1u << 1,
    ACL_SEL_ALLCHANNELS = 1u << 2,
    ACL_SEL_ALLCOMMANDS = 1u << 3,
};
/* Key pattern permissions (%R~, %W~; ~ is both). */
enum { ACL_PERM_READ = 1, ACL_PERM_WRITE = 2, ACL_PERM_ALL = 3 };

typedef struct acl_str { char *s; size_t len; } acl_str_t;
typedef struct acl_keypat { char *s; size_t len; int perm; } acl_keypat_t;
/* "+select|0": command id and the first argument allowed with it. */
typedef struct acl_firstarg { int id; char *arg; } acl_firstarg_t;

typedef struct acl_selector {
    uint32_t flags;                       /* ACL_SEL_* */
    uint64_t allowed[ACL_CMD_BITS / 64];  /* by command id (cmd_def_t.acl_id) */
    acl_firstarg_t *firstargs;            /* in the order they were added */
    int nfirstargs;
    acl_keypat_t *keys;
    int nkeys;
    acl_str_t *channels;
    int nchannels;
} acl_selector_t;

typedef struct acl_user {
    char *name;
    size_t namelen;
    uint64_t uid;
    uint32_t flags;                       /* ACL_USER_* */
    char (*passwords)[65];                /* SHA-256 hex, NUL-terminated */
    int npasswords;
    acl_selector_t *sel;                  /* sel[0] is the root selector */
    int nsel;
} acl_user_t;

typedef struct acl_snap {
    uint64_t version;                     /* grows with every publication */
    acl_user_t **users;                   /* sorted by name as bytes (ACL LIST order) */
    int nusers;
} acl_snap_t;

/* ---- setup (main, before the workers start) ---- */
/* Numbers the commands, creates the default user (as requirepass says) and
 * publishes the first snapshot. */
void acl_init(void);
/* A `user` directive of the config file, checked now and kept for
 * acl_load_at_startup (config_set_user_handler). false with 7.0.15's
 * message in err. */
bool acl_config_user(int argc, char **argv, char *err, size_t errcap);
/* Loads the `user` directives gathered from the config file, or the aclfile.
 * Returns 0, or -1 with a message (7.0.15's) in err. */
int acl_load_at_startup(char *err, size_t errcap);

/* ---- workers ---- */
void acl_reader_register(rt_snap_reader_t *r);
/* Inside the worker's read section (around the ACL cell): the current
 * snapshot, valid until the section ends. */
const acl_snap_t *acl_read(rt_snap_reader_t *r);
void acl_read_begin(rt_snap_reader_t *r);
void acl_read_end(rt_snap_reader_t *r);
/* The user of that uid in s, or NULL when it no longer exists. */
const acl_user_t *acl_user_by_uid(const acl_snap_t *s, uint64_t uid);
const acl_user_t *acl_user_by_name(const acl_snap_t *s, const uint8_t *name, size_t len);
/* Whether a new connection starts authenticated (default user nopass and
 * on), and whether the default user has nopass (protected mode); both read
 * without a snapshot, updated at each publication. */
bool acl_default_open(void);
bool acl_default_nopass(void);

/* Credentials: the uid of the user, or 0 when the pair is wrong or the user
 * is disabled (the caller replies WRONGPASS and logs it). */
uint64_t acl_authenticate(const acl_snap_t *s, const uint8_t *user, size_t ulen, const uint8_t *pass, size_t plen);

/* May user u run cmd with these arguments? ACL_OK or ACL_DENIED_*; *errpos
 * is the argv index of the key or channel refused. */
int acl_check(const acl_user_t *u, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
              int *errpos);

/* ---- changes (any thread; serialized by the writer lock) ---- */
/* ACL SETUSER name rules...: true, or false with 7.0.15's error text
 * (without "ERR ") in err. *revoked_uid: the user's uid when the change may
 * take channels away from its subscribers (they must be checked), else 0. */
bool acl_setuser(const uint8_t *name, size_t nlen, int argc, const uint8_t **argv, const size_t *argvlen, char *err,
                 size_t errcap, uint64_t *revoked_uid);
/* Whether any selector of u allows that channel (a pattern: listed as is). */
bool acl_channel_allowed_any(const acl_user_t *u, const uint8_t *ch, size_t len, bool is_pattern);
/* ACL DELUSER: how many existed; their uids go to ended[] (room for argc). */
int acl_deluser(int argc, const uint8_t **argv, const size_t *argvlen, uint64_t *ended);
/* requirepass: the default user's password (NULL or empty: nopass). */
void acl_set_requirepass(const char *pass, size_t len);
/* ACL LOAD from the aclfile: 0, or -1 with 7.0.15's text in err. The uids
 * of every user but default end: *ended is malloc'd, *nended long. */
int acl_load_file(const char *path, char *err, size_t errcap, uint64_t **ended, int *nended);
/* ACL SAVE: 0 or -1 (logged). */
int acl_save_file(const char *path);
/* The `user` lines of CONFIG REWRITE (no aclfile): malloc'd, NUL-separated
 * lines "user name rules", *n of them; NULL when none. */
char *acl_describe_all_users(int *n, size_t *len);

/* Runs fn with the current snapshot under the writer lock (ACL commands that
 * read: LIST, GETUSER, DRYRUN ...). */
void acl_with_snapshot(void (*fn)(const acl_snap_t *s, void *arg), void *arg);

/* ---- describing (acl_describe.c) ---- */
/* "on nopass sanitize-payload ~* &* +@all", malloc'd. */
char *acl_describe_user(const acl_user_t *u);
/* The command rules of a selector, "+@all -debug", malloc'd. */
char *acl_describe_commands(const acl_selector_t *s);
/* Key patterns "~a %R~b" and channels "&x &y" as GETUSER prints them. */
char *acl_describe_keys(const acl_selector_t *s);
char *acl_describe_channels(const acl_selector_t *s);

/* ---- categories (acl_cmds.c) ---- */
int acl_category_count(void);
const char *acl_category_name(int i);
/* Bit of a category name (case-insensitive), 0 when unknown. */
uint32_t acl_category_bit(const uint8_t *name, size_t len);
/* Commands (and subcommands) as 7.0.15 counts them for ACLs. */
int acl_cmd_count(void);
const cmd_def_t *acl_cmd_at(int id);
uint32_t acl_cmd_categories(int id);
bool acl_cmd_listed(int id);
/* 7.0.15's test for usernames and patterns: a blank or a NUL byte. */
bool acl_has_spaces_pub(const uint8_t *s, size_t len);

/* ---- the log (acl_log.c) ---- */
/* A denial: reason ACL_DENIED_*, context ACL_CTX_*, object the command's
 * full name, the key, channel or "AUTH"; cinfo the client's CLIENT LIST line. */
void acl_log_add(int reason, int context, const char *object, size_t olen, const char *user, size_t ulen,
                 const char *cinfo);
void acl_log_reset(void);
/* ACL LOG [count] into r. */
void acl_log_reply(resp_buf_t *r, long count);

/* ---- shared by the acl files ---- */
void acl_sha256_hex(const uint8_t *data, size_t len, char out[65]);

#endif

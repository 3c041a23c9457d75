/* config_internal.h - what the config_*.c files share and nobody else uses:
 * the directive table's shape, value parsing/formatting helpers, the line
 * splitter and the value store.
 *
 * Never include this outside actors/config*.c; other modules go through
 * actors/config/config.h.
 */
#ifndef SHOAL_ACTORS_CONFIG_INTERNAL_H
#define SHOAL_ACTORS_CONFIG_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include "actors/config/config.h"

enum cfg_kind {
    CK_BOOL,     /* yes/no */
    CK_NUM,      /* integer (see CF_UNSIGNED, CF_MEMORY, CF_PERCENT, CF_OCTAL) */
    CK_ENUM,     /* one name of a list; with CF_MULTI_ARG a set of flag names */
    CK_STR,      /* a string */
    CK_SPECIAL,  /* its own parser, see enum cfg_special */
};

enum cfg_flag {
    CF_IMMUTABLE   = 1u << 0,   /* CONFIG SET refuses it */
    CF_PROTECTED   = 1u << 1,   /* CONFIG SET only if enable-protected-configs allows */
    CF_MULTI_ARG   = 1u << 2,   /* takes several arguments */
    CF_UNSIGNED    = 1u << 3,   /* bounds are compared as unsigned, as Redis's unsigned types */
    CF_MEMORY      = 1u << 4,   /* accepts 1k/1kb/1m/1mb/1g/1gb units */
    CF_PERCENT     = 1u << 5,   /* accepts "n%" (stored as -n) */
    CF_OCTAL       = 1u << 6,   /* parsed and printed in octal */
    CF_EMPTY_NULL  = 1u << 7,   /* "" means unset: not written back by REWRITE */
    CF_SENSITIVE   = 1u << 8,   /* a secret (kept for redaction by callers) */
    CF_BASENAME    = 1u << 9,   /* must not contain a path separator */
    CF_NONEMPTY    = 1u << 10,  /* must not be empty */
    CF_HOSTNAME    = 1u << 11,  /* cluster-announce-hostname character rules */
    CF_DYN_DEFAULT = 1u << 12,  /* default computed at reset (worker-threads) */
    CF_HIDDEN      = 1u << 13,  /* CONFIG GET shows it only when asked by exact name */
};

enum cfg_special {
    SP_NONE = 0, SP_DIR, SP_SAVE, SP_OBUF, SP_OOM_VALUES, SP_NOTIFY, SP_BIND,
    SP_REPLICAOF, SP_LATENCY_PCT,
};

typedef struct cfg_enum_item { const char *name; int value; } cfg_enum_item_t;

typedef struct cfg_def {
    const char *name;
    const char *alias;            /* NULL if none */
    enum cfg_kind kind;
    unsigned flags;               /* CF_* */
    long long min, max;           /* CK_NUM bounds (as unsigned with CF_UNSIGNED) */
    long long def;                /* default for BOOL/NUM/ENUM */
    const char *def_str;          /* default for STR/SPECIAL, in CONFIG GET form; NULL = unset */
    const cfg_enum_item_t *items; /* CK_ENUM values, terminated by name == NULL */
    enum cfg_special special;
} cfg_def_t;

extern const cfg_def_t cfg_table[];
extern const int cfg_table_len;

/* Directives that redis.conf may still carry and Redis 7.0 ignores: name and
 * the accepted argument count (name included). */
typedef struct cfg_deprecated { const char *name; int argc_min, argc_max; } cfg_deprecated_t;
extern const cfg_deprecated_t cfg_deprecated[];

/* Index of a directive by primary name or alias (case-insensitive), or -1.
 * *is_alias tells which spelling matched (may be NULL). */
int cfg_lookup(const char *name, size_t len, bool *is_alias);

/* ---- text helpers (config_text.c) ---- */

/* A growing NUL-terminated string. Aborts on out-of-memory. */
typedef struct cfg_sb { char *s; size_t len, cap; } cfg_sb_t;

/* Splits a line with redis.conf quoting ("..." with \n \r \t \b \a \xHH and
 * \<c>; '...' with \'). Returns a malloc'ed NULL-terminated vector of
 * malloc'ed strings and sets *argc, or NULL on unbalanced quotes or a
 * closing quote followed by a non-space. Free with cfg_free_args. */
char **cfg_split_args(const char *line, int *argc);
void cfg_free_args(char **argv, int argc);

/* Appends `s` quoted so that cfg_split_args gives it back (Redis's repr). */
void cfg_repr(cfg_sb_t *sb, const char *s, size_t len);

void cfg_sb_add(cfg_sb_t *sb, const char *s, size_t n);
void cfg_sb_adds(cfg_sb_t *sb, const char *s);
void cfg_sb_addf(cfg_sb_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Memory value as Redis's memtoull: digits then b|k|kb|m|mb|g|gb (any case).
 * 1 on success. */
int cfg_memtoull(const char *s, unsigned long long *out);
/* Memory value the way CONFIG REWRITE writes it: 1gb, 64mb, 512kb or bytes. */
void cfg_format_memory(char *buf, size_t cap, long long bytes);

/* ---- values (config.c) ---- */

/* A parsed, validated value not yet stored. */
typedef struct cfg_staged { long long num; char *str; } cfg_staged_t;

/* Validates argv for directive i (the arguments after the name) and fills
 * *out (out->str malloc'ed or NULL). On error returns -1 and points *err at
 * a message (static or in errbuf). `in_file` selects file semantics (save
 * lines accumulate). */
int cfg_parse_value(int i, char **argv, int argc, bool in_file, cfg_staged_t *out,
                    const char **err, char *errbuf, size_t errcap);

/* Value of directive i as CONFIG GET prints it. */
void cfg_value_format(int i, cfg_sb_t *out);
/* Numeric value and string value (copied, may be NULL) of directive i. */
long long cfg_value_num(int i);
char *cfg_value_strdup(int i);
/* The default of directive i (numbers; worker-threads' computed default). */
long long cfg_default_num(int i);

/* CONFIG SET (config_tls.c): when the set names a tls-* directive and TLS
 * is in use with the new values, rebuilds and publishes the TLS contexts
 * from them (stored values for the rest). 1 rebuilt, 0 nothing to rebuild,
 * -1 when they do not load (logged) and nothing changed. Called under the
 * apply lock, before storing. */
int cfg_tls_apply(const int *idx, const cfg_staged_t *st, int n);
/* Rebuilds the contexts from the stored values (a CONFIG SET whose
 * cfg_tls_apply rebuilt them failed later, and stores nothing). */
void cfg_tls_restore(void);

/* The store's lock: guards string values and the subscriber table. */
extern pthread_mutex_t cfg_lock;
/* Stores a staged value (takes st->str); true if the value changed. Hold cfg_lock. */
bool cfg_store_locked(int i, cfg_staged_t *st);
/* Calls the change subscribers with a primary name; call without cfg_lock. */
void cfg_notify(const char *name);
/* Set once a `save` line of the config file was applied (later ones accumulate). */
extern bool cfg_save_seen_in_file;
/* Forgets the config file path (config_load.c). */
void cfg_forget_path(void);

#endif

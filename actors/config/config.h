/* config.h - the node's configuration: redis.conf-style file and command line,
 * typed getters, and the CONFIG GET / SET / REWRITE command bodies.
 *
 * One process is one node, so there is one configuration instance (a global
 * in config.c). It is loaded once by main() before any thread starts; after
 * that it changes only through config_cmd_set().
 *
 * Thread safety: numeric, boolean and enum values are C11 atomics read with
 * relaxed loads, so any thread may call the numeric getters at any time
 * without a lock (a value is a single word; nothing relies on two values
 * changing together). String values live behind a mutex: the string getters
 * copy them out under it, so the caller never holds a pointer that a
 * concurrent CONFIG SET could free.
 *
 * Never: exit() (errors go back to the caller in config_error_t), log, or
 * block anything but the short string mutex (CONFIG REWRITE does file I/O
 * and fsync on the calling thread, as Redis does on its main thread).
 */
#ifndef SHOAL_ACTORS_CONFIG_H
#define SHOAL_ACTORS_CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proto/resp.h"

/* Directive ids for the values other modules read hot. The table in
 * config_table.c lists these first, in this order; every other directive
 * (save, appendonly, tls-*, ...) is reachable by name only. */
enum config_id {
    CONFIG_PORT = 0,
    CONFIG_BIND,
    CONFIG_CLUSTER_ENABLED,
    CONFIG_CLUSTER_CONFIG_FILE,
    CONFIG_CLUSTER_NODE_TIMEOUT,
    CONFIG_CLUSTER_PORT,
    CONFIG_CLUSTER_ANNOUNCE_IP,
    CONFIG_CLUSTER_ANNOUNCE_PORT,
    CONFIG_CLUSTER_ANNOUNCE_BUS_PORT,
    CONFIG_CLUSTER_ANNOUNCE_TLS_PORT,
    CONFIG_CLUSTER_ANNOUNCE_HOSTNAME,
    CONFIG_CLUSTER_REQUIRE_FULL_COVERAGE,
    CONFIG_CLUSTER_ALLOW_READS_WHEN_DOWN,
    CONFIG_CLUSTER_ALLOW_PUBSUBSHARD_WHEN_DOWN,
    CONFIG_CLUSTER_PREFERRED_ENDPOINT_TYPE,
    CONFIG_CLUSTER_REPLICA_VALIDITY_FACTOR,
    CONFIG_CLUSTER_MIGRATION_BARRIER,
    CONFIG_CLUSTER_ALLOW_REPLICA_MIGRATION,
    CONFIG_CLUSTER_REPLICA_NO_FAILOVER,
    CONFIG_CLUSTER_LINK_SENDBUF_LIMIT,
    CONFIG_CLUSTER_FAILOVER_ON_SHUTDOWN,   /* ours */
    CONFIG_WORKER_THREADS,                 /* ours */
    CONFIG_CLUSTER_LIGHT_BUS,              /* ours: docs/cluster-bus.md §9 */
    CONFIG_REQUIREPASS,
    CONFIG_MASTERAUTH,
    CONFIG_MASTERUSER,
    CONFIG_PROTO_MAX_BULK_LEN,
    CONFIG_CLIENT_QUERY_BUFFER_LIMIT,
    CONFIG_LOGLEVEL,
    CONFIG_LOGFILE,
    CONFIG_PIDFILE,
    CONFIG_DAEMONIZE,
    CONFIG_DIR,
    CONFIG_MAXCLIENTS,
    CONFIG_HZ,
    CONFIG_TIMEOUT,
    CONFIG_TCP_BACKLOG,
    CONFIG_TCP_KEEPALIVE,
    CONFIG_PROTECTED_MODE,
    CONFIG_DATABASES,
    CONFIG_REPL_PING_REPLICA_PERIOD,
    CONFIG_REPL_TIMEOUT,
    CONFIG_REPL_BACKLOG_SIZE,
    CONFIG_REPL_BACKLOG_TTL,
    CONFIG_REPL_DISKLESS_SYNC,
    CONFIG_REPL_DISKLESS_SYNC_DELAY,
    CONFIG_REPLICA_ANNOUNCE_IP,
    CONFIG_REPLICA_ANNOUNCE_PORT,
    CONFIG_REPLICA_PRIORITY,
    CONFIG_REPLICA_READ_ONLY,
    CONFIG_REPLICA_SERVE_STALE_DATA,
    CONFIG_TLS_PORT,
    CONFIG_TLS_CLUSTER,
    CONFIG_TLS_REPLICATION,
    CONFIG_ENABLE_DEBUG_COMMAND,
    CONFIG_SLOWLOG_LOG_SLOWER_THAN,
    CONFIG_SLOWLOG_MAX_LEN,
    CONFIG_HOT_COUNT                       /* not a directive */
};

/* cluster-preferred-endpoint-type */
enum config_endpoint_type { CONFIG_ENDPOINT_IP = 0, CONFIG_ENDPOINT_HOSTNAME = 1, CONFIG_ENDPOINT_UNKNOWN = 2 };
/* enable-debug-command / enable-protected-configs / enable-module-command */
enum config_protected_action { CONFIG_ALLOW_NO = 0, CONFIG_ALLOW_YES = 1, CONFIG_ALLOW_LOCAL = 2 };

#define CONFIG_BIND_MAX 16          /* Redis's CONFIG_BINDADDR_MAX */
#define CONFIG_ADDR_MAX 256         /* one bind address, NUL included */

/* ---- loading ---- */

/* What went wrong while loading. `line` is 0 when the error is not tied to a
 * line (cannot open the file, log file not writable, cluster+replicaof).
 * Line numbers count over the config file followed by one empty line and
 * then the command-line options, one directive per line, exactly as
 * redis-server 7.0.15 numbers them. */
typedef struct config_error {
    int line;
    bool in_file;                   /* the line comes from `file` (else from the command line) */
    char file[512];                 /* config file path as given ("" if none) */
    char text[1024];                /* the offending line, trimmed */
    char msg[512];                  /* Redis's message, e.g. "Bad directive or wrong number of arguments" */
} config_error_t;

/* Puts every directive back to its default (worker-threads: online CPUs) and
 * forgets the config file path. Does not chdir. Called implicitly by the
 * loaders; tests call it between cases. */
void config_reset_defaults(void);

/* Loads the configuration the way redis-server's main() does with its argv:
 * argv[1], if present and not starting with '-', is the config file; every
 * following "--name value ..." group becomes one directive line appended
 * after the file (values re-quoted), `--save` alone means `save ""`.
 * A lone "-" (config from stdin) is refused. Resets to defaults first.
 * Returns 0, or -1 with *err filled. Never exits; main prints
 * config_format_error() to stderr and exits 1. `dir` chdirs when read. */
int config_load_argv(int argc, char **argv, config_error_t *err);

/* Same with the pieces given separately: `path` (NULL = no file) and an
 * already built options text ("port 7000\ncluster-enabled yes"; NULL = none). */
int config_load(const char *path, const char *options, config_error_t *err);

/* Parses a whole config text (no file), for tests and embedding. */
int config_load_string(const char *text, config_error_t *err);

/* Writes the report Redis prints for a fatal config error into buf (NUL
 * terminated, truncated to cap):
 *
 *   *** FATAL CONFIG FILE ERROR (shoal) ***
 *   Reading the configuration file, at line 2 ('node.conf')
 *   >>> 'foo bar'
 *   Bad directive or wrong number of arguments
 *
 * preceded by an empty line, as Redis does. */
void config_format_error(const config_error_t *err, char *buf, size_t cap);

/* Absolute path of the config file we were started with ("" if none); it
 * stays valid after `dir` changed the working directory. */
size_t config_file_path(char *buf, size_t cap);

/* ---- typed getters (any thread, no lock for numbers) ---- */

long long config_get_num(enum config_id id);       /* bool: 0/1, enum: its value */
/* Numeric directives without an enum config_id (the data types' encoding
 * thresholds, read on every write): find the index once by name (-1 if
 * unknown), then read the current value through it. Any thread. */
int config_find(const char *name);
long long config_get_num_at(int index);
/* config_get_num_at(config_find(name)) with the lookup done once: *idx
 * starts at CONFIG_IDX_UNSET and keeps the index (hot paths: an access, an
 * eviction). Any thread. */
#define CONFIG_IDX_UNSET (-2)
long long config_num_cached(_Atomic int *idx, const char *name);
/* Copies a string directive into buf (NUL terminated, truncated to cap) and
 * returns its full length. Unset strings read as "". */
size_t config_get_str(enum config_id id, char *buf, size_t cap);
/* malloc'ed copy of a string directive; the caller frees it. */
char *config_dup_str(enum config_id id);
/* A number that moves whenever a string directive changes: a copy of one
 * taken after reading this stays good while it returns the same. Any thread. */
unsigned long long config_str_generation(void);

int config_port(void);
int config_bind(char addrs[][CONFIG_ADDR_MAX], int max);   /* returns the number of addresses (may be 0) */
bool config_cluster_enabled(void);
size_t config_cluster_config_file(char *buf, size_t cap);
long long config_cluster_node_timeout(void);               /* ms */
int config_cluster_port(void);                             /* 0 = port + BUS_PORT_OFFSET */
int config_cluster_bus_port(void);                         /* the effective bus port */
size_t config_cluster_announce_ip(char *buf, size_t cap);  /* "" = not set */
int config_cluster_announce_port(void);
int config_cluster_announce_bus_port(void);
int config_cluster_announce_tls_port(void);
/* The ports we announce on the bus, by 7.0.15's rules: `port` is the TLS
 * port with tls-cluster (cluster-announce-tls-port if set), `pport` then
 * the plain one (cluster-announce-port if set; 0 without tls-cluster),
 * `cport` cluster-announce-bus-port or the bus port. */
void config_cluster_announced_ports(int *port, int *pport, int *cport);
size_t config_cluster_announce_hostname(char *buf, size_t cap);
bool config_cluster_require_full_coverage(void);
bool config_cluster_allow_reads_when_down(void);
int config_cluster_preferred_endpoint_type(void);          /* enum config_endpoint_type */
int config_worker_threads(void);
bool config_requirepass_set(void);
size_t config_requirepass(char *buf, size_t cap);
long long config_proto_max_bulk_len(void);
long long config_client_query_buffer_limit(void);
int config_loglevel(void);                                 /* 0 debug .. 3 warning, as RT_LOG_* */
size_t config_logfile(char *buf, size_t cap);              /* "" = stdout */
size_t config_pidfile(char *buf, size_t cap);              /* "" = none */
bool config_daemonize(void);
size_t config_dir(char *buf, size_t cap);                  /* absolute; where we started if never set */
/* An O_DIRECTORY fd of `dir` as it is now (taken under the config lock), for
 * writers that must create, rename and fsync in one directory even if
 * CONFIG SET dir runs meanwhile. The caller closes it. -1 with errno. */
int config_dir_open(void);
long long config_maxclients(void);
int config_hz(void);                                       /* already clamped to 1..500 */
long long config_timeout_seconds(void);                    /* client idle timeout, 0 = never */
int config_enable_debug_command(void);                     /* enum config_protected_action */
bool config_protected_mode(void);

/* Redis's hidden debug delays, read afresh on every call (harnesses lower
 * them to let a slowed save or load finish): called once per key while
 * loading an RDB (key-load-delay) or saving one (rdb-key-save-delay).
 * Microseconds; a negative -N sleeps 1 us once in N calls on average. */
void config_key_load_delay(void);
void config_key_save_delay(void);

/* hll-sparse-max-bytes: the size (header included) past which a sparse
 * HyperLogLog turns dense. Any thread, no lock. */
long long config_hll_sparse_max_bytes(void);

/* A memory value as 7.0.15's memtoull reads it ("100", "5gb", "1k"): 1 and
 * *out, or 0 when it is not one. */
int config_memtoull(const char *s, unsigned long long *out);

/* Any directive by name (aliases accepted, case-insensitive): writes the
 * value exactly as CONFIG GET shows it. Returns the length, or -1 if there
 * is no such directive. */
long config_get_by_name(const char *name, char *buf, size_t cap);

/* REPLICAOF / SLAVEOF: the replicaof directive's stored value becomes
 * "host port" (host NULL: empty, we are a master), so that CONFIG GET and
 * CONFIG REWRITE show the master we follow now, as 7.0.15 does. */
void config_record_replicaof(const char *host, int port);

/* client-output-buffer-limit of one class ("normal", "replica"/"slave",
 * "pubsub"): 0 on success, -1 for an unknown class. */
int config_obuf_limit(const char *cls, unsigned long long *hard, unsigned long long *soft, long long *soft_seconds);

/* ---- TLS (config_tls.c) ---- */

/* Startup: builds the TLS contexts when tls-port, tls-cluster or
 * tls-replication is set. 0, or -1 after logging why (main exits). */
int config_tls_startup(void);
/* tls-port, tls-cluster or tls-replication is set. Any thread. */
bool config_tls_enabled(void);

/* `user` directives (ACL users): the handler checks one line and keeps it,
 * or returns false with the message in err. Set by main before loading;
 * without one a `user` line is an error. */
typedef bool (*config_user_fn)(int argc, char **argv, char *err, size_t errcap);
void config_set_user_handler(config_user_fn fn);
/* CONFIG REWRITE's `user` lines: "user name rules" strings one after the
 * other, NUL-separated, *n of them (malloc'd; NULL when none). Set by main. */
typedef char *(*config_user_lines_fn)(int *n, size_t *len);
void config_set_user_lines(config_user_lines_fn fn);

/* ---- change notification ---- */

/* Called after a successful CONFIG SET, once per directive whose value
 * changed, with the directive's primary name (never an alias), on the thread
 * that ran CONFIG SET and with no config lock held. A callback should only
 * post a message to its actor. Returns 0, or -1 when the table is full (16). */
typedef void (*config_change_fn)(const char *name, void *arg);
int config_subscribe(config_change_fn fn, void *arg);
void config_unsubscribe_all(void);                          /* tests */

/* ---- acting on a change before it is stored ---- */

/* CONFIG SET bind calls this with the new addresses once every value of the
 * command is valid and before anything is stored: 0 means the node now
 * listens there, -1 that it could not and still listens where it did (the
 * command then fails with "Failed to bind to specified addresses." and
 * changes nothing). Set once by main() before the workers start; without
 * one (unit tests) bind is only stored. */
typedef int (*config_bind_fn)(char addrs[][CONFIG_ADDR_MAX], int n);
void config_set_bind_handler(config_bind_fn fn);

/* CONFIG SET port (tls false) and tls-port (tls true) call this with the
 * new port and the bind addresses (Redis's changeListenPort): 0 when the
 * node now listens there, -1 when it could not and still listens on the old
 * port (the command fails with "Unable to listen on this port. Check server
 * logs." and changes nothing). */
typedef int (*config_port_fn)(bool tls, int port, char addrs[][CONFIG_ADDR_MAX], int n);
void config_set_port_handler(config_port_fn fn);

/* CONFIG SET maxclients calls this the same way (Redis's updateMaxclients):
 * 0 when the descriptor limit fits `maxclients` (raised if need be), else -1
 * with *possible set to what it fits, and the command fails with "The
 * operating system is not able to handle the specified number of clients,
 * try with N", changing nothing. */
typedef int (*config_maxclients_fn)(long long maxclients, long long *possible);
void config_set_maxclients_handler(config_maxclients_fn fn);

/* ---- command bodies (the worker's CONFIG handlers call these) ---- */

/* CONFIG GET pattern [pattern ...]: `n` patterns. Writes one map reply
 * (RESP3 map, RESP2 flat array). Aliases are names of their own: a glob
 * matches both spellings; an exact name is echoed as the client spelled it.
 * cluster-failover-on-shutdown (ours) answers only to its exact name, so
 * glob answers list the same names as 7.0.15 (plus worker-threads). */
void config_cmd_get(resp_buf_t *r, int n, const uint8_t **pat, const size_t *patlen);

/* CONFIG SET name value [name value ...]: `n` is the number of arguments
 * after SET. All or nothing. `local_client` decides whether protected
 * configs (dir, dbfilename) may be set under enable-protected-configs local.
 * Writes +OK or Redis's exact error. */
void config_cmd_set(resp_buf_t *r, int n, const uint8_t **argv, const size_t *argvlen, bool local_client);

/* CONFIG REWRITE: rewrites the file we were started with, Redis style
 * (comments and order kept, changed lines replaced in place, new ones
 * appended after "# Generated by CONFIG REWRITE", defaults not in the file
 * left out), atomically via a temp file + fsync + rename + dir fsync.
 * Writes +OK, "-ERR The server is running without a config file" or
 * "-ERR Rewriting config file: <strerror>". */
void config_cmd_rewrite(resp_buf_t *r);

/* The rewrite itself, to any path: 0, or -1 with errno set. */
int config_rewrite_file(const char *path);

#endif

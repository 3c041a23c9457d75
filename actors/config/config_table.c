/* config_table.c - every directive shoal accepts: name, alias, type, bounds,
 * default and whether CONFIG SET may change it.
 *
 * The list is the one redis-server 7.0.15 answers to CONFIG GET * (names,
 * aliases, bounds and defaults observed on the real server and checked
 * against its documentation), plus shoal's own `worker-threads`,
 * `cluster-failover-on-shutdown` and `cluster-light-bus`. Directives we do not act on are still
 * accepted, kept, shown and rewritten, because Redis's tools and test
 * harnesses write them. Redis's hidden debug directives are here too,
 * hidden from glob patterns as in Redis.
 *
 * The first CONFIG_HOT_COUNT entries are in `enum config_id` order so that a
 * typed getter indexes the value store directly.
 *
 * Data only: never put behaviour here beyond the lookup function.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include "actors/config/config_internal.h"

#define BOOL(n, a, f, d)            { .name = n, .alias = a, .kind = CK_BOOL, .flags = (f), .def = (d) }
#define NUM(n, a, f, lo, hi, d)     { .name = n, .alias = a, .kind = CK_NUM, .flags = (f), .min = (lo), .max = (hi), .def = (d) }
#define ENUM(n, a, f, it, d)        { .name = n, .alias = a, .kind = CK_ENUM, .flags = (f), .items = (it), .def = (d) }
#define STR(n, a, f, d)             { .name = n, .alias = a, .kind = CK_STR, .flags = (f), .def_str = (d) }
#define SPECIAL(n, a, f, sp, d)     { .name = n, .alias = a, .kind = CK_SPECIAL, .flags = (f), .special = (sp), .def_str = (d) }

#define IMM  CF_IMMUTABLE
#define NUL  CF_EMPTY_NULL
#define MEM  CF_MEMORY
#define UNS  CF_UNSIGNED
/* Redis's unsigned long long directives (maxmemory, cluster-link-sendbuf-limit)
 * go up to ULLONG_MAX; we store signed 64-bit values, so they stop at
 * LLONG_MAX (8 EiB), which no real setting reaches. */
#define U64MAX LLONG_MAX

static const cfg_enum_item_t e_loglevel[] = {
    {"debug", 0}, {"verbose", 1}, {"notice", 2}, {"warning", 3}, {NULL, 0}};
static const cfg_enum_item_t e_endpoint[] = {
    {"ip", CONFIG_ENDPOINT_IP}, {"hostname", CONFIG_ENDPOINT_HOSTNAME},
    {"unknown-endpoint", CONFIG_ENDPOINT_UNKNOWN}, {NULL, 0}};
static const cfg_enum_item_t e_protected[] = {
    {"no", CONFIG_ALLOW_NO}, {"yes", CONFIG_ALLOW_YES}, {"local", CONFIG_ALLOW_LOCAL}, {NULL, 0}};
static const cfg_enum_item_t e_policy[] = {
    {"volatile-lru", 0}, {"volatile-lfu", 1}, {"volatile-random", 2}, {"volatile-ttl", 3},
    {"allkeys-lru", 4}, {"allkeys-lfu", 5}, {"allkeys-random", 6}, {"noeviction", 7}, {NULL, 0}};
static const cfg_enum_item_t e_supervised[] = {
    {"upstart", 1}, {"systemd", 2}, {"auto", 3}, {"no", 0}, {NULL, 0}};
static const cfg_enum_item_t e_facility[] = {
    {"user", 8}, {"local0", 128}, {"local1", 136}, {"local2", 144}, {"local3", 152},
    {"local4", 160}, {"local5", 168}, {"local6", 176}, {"local7", 184}, {NULL, 0}};
static const cfg_enum_item_t e_fsync[] = {
    {"everysec", 1}, {"always", 2}, {"no", 0}, {NULL, 0}};
/* Bit flags (a set of names); "default" is the empty set. */
static const cfg_enum_item_t e_shutdown[] = {
    {"default", 0}, {"save", 1}, {"nosave", 2}, {"now", 4}, {"force", 8}, {NULL, 0}};
static const cfg_enum_item_t e_diskless_load[] = {
    {"disabled", 0}, {"on-empty-db", 1}, {"swapdb", 2}, {NULL, 0}};
static const cfg_enum_item_t e_tls_auth[] = {
    {"no", 0}, {"yes", 1}, {"optional", 2}, {NULL, 0}};
/* "yes" and "relative" are the same setting; CONFIG GET shows "yes". */
static const cfg_enum_item_t e_oom[] = {
    {"no", 0}, {"yes", 1}, {"relative", 1}, {"absolute", 2}, {NULL, 0}};
static const cfg_enum_item_t e_pubsub_default[] = {
    {"allchannels", 1}, {"resetchannels", 0}, {NULL, 0}};
static const cfg_enum_item_t e_sanitize[] = {
    {"no", 0}, {"yes", 1}, {"clients", 2}, {NULL, 0}};
static const cfg_enum_item_t e_propagation[] = {
    {"ignore", 0}, {"panic", 1}, {"panic-on-replicas", 2}, {NULL, 0}};

const cfg_def_t cfg_table[] = {
    /* ---- hot directives, in enum config_id order ---- */
    [CONFIG_PORT] = NUM("port", NULL, 0, 0, 65535, 6379),
    [CONFIG_BIND] = SPECIAL("bind", NULL, CF_MULTI_ARG, SP_BIND, "* -::*"),
    [CONFIG_CLUSTER_ENABLED] = BOOL("cluster-enabled", NULL, IMM, 0),
    [CONFIG_CLUSTER_CONFIG_FILE] = STR("cluster-config-file", NULL, IMM, "nodes.conf"),
    [CONFIG_CLUSTER_NODE_TIMEOUT] = NUM("cluster-node-timeout", NULL, 0, 0, LLONG_MAX, 15000),
    [CONFIG_CLUSTER_PORT] = NUM("cluster-port", NULL, IMM, 0, 65535, 0),
    [CONFIG_CLUSTER_ANNOUNCE_IP] = STR("cluster-announce-ip", NULL, NUL, NULL),
    [CONFIG_CLUSTER_ANNOUNCE_PORT] = NUM("cluster-announce-port", NULL, 0, 0, 65535, 0),
    [CONFIG_CLUSTER_ANNOUNCE_BUS_PORT] = NUM("cluster-announce-bus-port", NULL, 0, 0, 65535, 0),
    [CONFIG_CLUSTER_ANNOUNCE_TLS_PORT] = NUM("cluster-announce-tls-port", NULL, 0, 0, 65535, 0),
    [CONFIG_CLUSTER_ANNOUNCE_HOSTNAME] = STR("cluster-announce-hostname", NULL, NUL | CF_HOSTNAME, NULL),
    [CONFIG_CLUSTER_REQUIRE_FULL_COVERAGE] = BOOL("cluster-require-full-coverage", NULL, 0, 1),
    [CONFIG_CLUSTER_ALLOW_READS_WHEN_DOWN] = BOOL("cluster-allow-reads-when-down", NULL, 0, 0),
    [CONFIG_CLUSTER_ALLOW_PUBSUBSHARD_WHEN_DOWN] = BOOL("cluster-allow-pubsubshard-when-down", NULL, 0, 1),
    [CONFIG_CLUSTER_PREFERRED_ENDPOINT_TYPE] = ENUM("cluster-preferred-endpoint-type", NULL, 0, e_endpoint, CONFIG_ENDPOINT_IP),
    [CONFIG_CLUSTER_REPLICA_VALIDITY_FACTOR] = NUM("cluster-replica-validity-factor", "cluster-slave-validity-factor", 0, 0, INT_MAX, 10),
    [CONFIG_CLUSTER_MIGRATION_BARRIER] = NUM("cluster-migration-barrier", NULL, 0, 0, INT_MAX, 1),
    [CONFIG_CLUSTER_ALLOW_REPLICA_MIGRATION] = BOOL("cluster-allow-replica-migration", NULL, 0, 1),
    [CONFIG_CLUSTER_REPLICA_NO_FAILOVER] = BOOL("cluster-replica-no-failover", "cluster-slave-no-failover", 0, 0),
    [CONFIG_CLUSTER_LINK_SENDBUF_LIMIT] = NUM("cluster-link-sendbuf-limit", NULL, UNS | MEM, 0, U64MAX, 0),
    /* Hidden from glob patterns so that `CONFIG GET cluster*` lists exactly
     * the 20 names 7.0.15 lists (tools and tests compare the two). */
    [CONFIG_CLUSTER_FAILOVER_ON_SHUTDOWN] = BOOL("cluster-failover-on-shutdown", NULL, CF_HIDDEN, 0),
    /* The light encoding between shoal peers (docs/cluster-bus.md §9); hidden
     * from globs for the same reason. */
    [CONFIG_CLUSTER_LIGHT_BUS] = BOOL("cluster-light-bus", NULL, CF_HIDDEN, 1),
    /* shoal's own, hidden from globs too: `CONFIG GET *` lists what 7.0.15
     * lists, and Redis's unit/introspection sets each of those to its value */
    [CONFIG_WORKER_THREADS] = NUM("worker-threads", NULL, IMM | CF_DYN_DEFAULT | CF_HIDDEN, 1, 64, 1),
    [CONFIG_REQUIREPASS] = STR("requirepass", NULL, NUL | CF_SENSITIVE, NULL),
    [CONFIG_MASTERAUTH] = STR("masterauth", NULL, NUL | CF_SENSITIVE, NULL),
    [CONFIG_MASTERUSER] = STR("masteruser", NULL, NUL | CF_SENSITIVE, NULL),
    [CONFIG_PROTO_MAX_BULK_LEN] = NUM("proto-max-bulk-len", NULL, MEM, 1024 * 1024, LONG_MAX, 512LL * 1024 * 1024),
    [CONFIG_CLIENT_QUERY_BUFFER_LIMIT] = NUM("client-query-buffer-limit", NULL, UNS | MEM, 1024 * 1024, LONG_MAX, 1024LL * 1024 * 1024),
    [CONFIG_LOGLEVEL] = ENUM("loglevel", NULL, 0, e_loglevel, 2),
    [CONFIG_LOGFILE] = STR("logfile", NULL, IMM, ""),
    [CONFIG_PIDFILE] = STR("pidfile", NULL, IMM | NUL, NULL),
    [CONFIG_DAEMONIZE] = BOOL("daemonize", NULL, IMM, 0),
    [CONFIG_DIR] = SPECIAL("dir", NULL, CF_PROTECTED, SP_DIR, NULL),
    [CONFIG_MAXCLIENTS] = NUM("maxclients", NULL, UNS, 1, UINT_MAX, 10000),
    [CONFIG_HZ] = NUM("hz", NULL, 0, 0, INT_MAX, 10),
    [CONFIG_TIMEOUT] = NUM("timeout", NULL, 0, 0, INT_MAX, 0),
    [CONFIG_TCP_BACKLOG] = NUM("tcp-backlog", NULL, IMM, 0, INT_MAX, 511),
    [CONFIG_TCP_KEEPALIVE] = NUM("tcp-keepalive", NULL, 0, 0, INT_MAX, 300),
    [CONFIG_PROTECTED_MODE] = BOOL("protected-mode", NULL, 0, 1),
    [CONFIG_DATABASES] = NUM("databases", NULL, IMM, 1, INT_MAX, 16),
    [CONFIG_REPL_PING_REPLICA_PERIOD] = NUM("repl-ping-replica-period", "repl-ping-slave-period", 0, 1, INT_MAX, 10),
    [CONFIG_REPL_TIMEOUT] = NUM("repl-timeout", NULL, 0, 1, INT_MAX, 60),
    [CONFIG_REPL_BACKLOG_SIZE] = NUM("repl-backlog-size", NULL, MEM, 1, LLONG_MAX, 1024 * 1024),
    [CONFIG_REPL_BACKLOG_TTL] = NUM("repl-backlog-ttl", NULL, 0, 0, LONG_MAX, 3600),
    [CONFIG_REPL_DISKLESS_SYNC] = BOOL("repl-diskless-sync", NULL, 0, 1),
    [CONFIG_REPL_DISKLESS_SYNC_DELAY] = NUM("repl-diskless-sync-delay", NULL, 0, 0, INT_MAX, 5),
    [CONFIG_REPLICA_ANNOUNCE_IP] = STR("replica-announce-ip", "slave-announce-ip", NUL, NULL),
    [CONFIG_REPLICA_ANNOUNCE_PORT] = NUM("replica-announce-port", "slave-announce-port", 0, 0, 65535, 0),
    [CONFIG_REPLICA_PRIORITY] = NUM("replica-priority", "slave-priority", 0, 0, INT_MAX, 100),
    [CONFIG_REPLICA_READ_ONLY] = BOOL("replica-read-only", "slave-read-only", 0, 1),
    [CONFIG_REPLICA_SERVE_STALE_DATA] = BOOL("replica-serve-stale-data", "slave-serve-stale-data", 0, 1),
    [CONFIG_TLS_PORT] = NUM("tls-port", NULL, 0, 0, 65535, 0),
    [CONFIG_TLS_CLUSTER] = BOOL("tls-cluster", NULL, 0, 0),
    [CONFIG_TLS_REPLICATION] = BOOL("tls-replication", NULL, 0, 0),
    [CONFIG_ENABLE_DEBUG_COMMAND] = ENUM("enable-debug-command", NULL, IMM, e_protected, CONFIG_ALLOW_NO),
    [CONFIG_SLOWLOG_LOG_SLOWER_THAN] = NUM("slowlog-log-slower-than", NULL, 0, -1, LLONG_MAX, 10000),
    [CONFIG_SLOWLOG_MAX_LEN] = NUM("slowlog-max-len", NULL, UNS, 0, LONG_MAX, 128),

    /* ---- everything else, by type ---- */
    BOOL("rdbchecksum", NULL, IMM, 1),
    BOOL("io-threads-do-reads", NULL, IMM, 0),
    BOOL("always-show-logo", NULL, IMM, 0),
    BOOL("rdbcompression", NULL, 0, 1),
    BOOL("rdb-del-sync-files", NULL, 0, 0),
    BOOL("activerehashing", NULL, 0, 1),
    BOOL("stop-writes-on-bgsave-error", NULL, 0, 1),
    BOOL("set-proc-title", NULL, IMM, 1),
    BOOL("dynamic-hz", NULL, 0, 1),
    BOOL("lazyfree-lazy-eviction", NULL, 0, 0),
    BOOL("lazyfree-lazy-expire", NULL, 0, 0),
    BOOL("lazyfree-lazy-server-del", NULL, 0, 0),
    BOOL("lazyfree-lazy-user-del", NULL, 0, 0),
    BOOL("lazyfree-lazy-user-flush", NULL, 0, 0),
    BOOL("repl-disable-tcp-nodelay", NULL, 0, 0),
    BOOL("aof-rewrite-incremental-fsync", NULL, 0, 1),
    BOOL("no-appendfsync-on-rewrite", NULL, 0, 0),
    BOOL("rdb-save-incremental-fsync", NULL, 0, 1),
    BOOL("aof-load-truncated", NULL, 0, 1),
    BOOL("aof-use-rdb-preamble", NULL, 0, 1),
    BOOL("aof-timestamp-enabled", NULL, 0, 0),
    BOOL("replica-lazy-flush", "slave-lazy-flush", 0, 0),
    BOOL("replica-ignore-maxmemory", "slave-ignore-maxmemory", 0, 1),
    BOOL("jemalloc-bg-thread", NULL, 0, 1),
    BOOL("activedefrag", NULL, 0, 0),
    BOOL("syslog-enabled", NULL, IMM, 0),
    BOOL("appendonly", NULL, 0, 0),
    BOOL("crash-log-enabled", NULL, 0, 1),
    BOOL("crash-memcheck-enabled", NULL, 0, 1),
    BOOL("disable-thp", NULL, IMM, 1),
    BOOL("replica-announced", NULL, 0, 1),
    BOOL("latency-tracking", NULL, 0, 1),
    BOOL("aof-disable-auto-gc", NULL, 0, 0),
    BOOL("replica-ignore-disk-write-errors", NULL, 0, 0),
    BOOL("tls-prefer-server-ciphers", NULL, 0, 0),
    BOOL("tls-session-caching", NULL, 0, 1),

    STR("aclfile", NULL, IMM, ""),
    STR("unixsocket", NULL, IMM | NUL, NULL),
    STR("syslog-ident", NULL, IMM, "redis"),
    STR("dbfilename", NULL, CF_PROTECTED | CF_BASENAME, "dump.rdb"),
    STR("appendfilename", NULL, IMM | CF_BASENAME | CF_NONEMPTY, "appendonly.aof"),
    STR("appenddirname", NULL, IMM | CF_BASENAME | CF_NONEMPTY, "appendonlydir"),
    STR("server_cpulist", NULL, IMM | NUL, NULL),
    STR("bio_cpulist", NULL, IMM | NUL, NULL),
    STR("aof_rewrite_cpulist", NULL, IMM | NUL, NULL),
    STR("bgsave_cpulist", NULL, IMM | NUL, NULL),
    STR("ignore-warnings", NULL, 0, ""),
    STR("proc-title-template", NULL, 0, "{title} {listen-addr} {server-mode}"),
    STR("bind-source-addr", NULL, NUL, NULL),
    STR("tls-cert-file", NULL, NUL, NULL),
    STR("tls-key-file", NULL, NUL, NULL),
    STR("tls-key-file-pass", NULL, NUL | CF_SENSITIVE, NULL),
    STR("tls-client-cert-file", NULL, NUL, NULL),
    STR("tls-client-key-file", NULL, NUL, NULL),
    STR("tls-client-key-file-pass", NULL, NUL | CF_SENSITIVE, NULL),
    STR("tls-dh-params-file", NULL, NUL, NULL),
    STR("tls-ca-cert-file", NULL, NUL, NULL),
    STR("tls-ca-cert-dir", NULL, NUL, NULL),
    STR("tls-protocols", NULL, NUL, NULL),
    STR("tls-ciphers", NULL, NUL, NULL),
    STR("tls-ciphersuites", NULL, NUL, NULL),

    ENUM("supervised", NULL, IMM, e_supervised, 0),
    ENUM("syslog-facility", NULL, IMM, e_facility, 128),
    ENUM("repl-diskless-load", NULL, 0, e_diskless_load, 0),
    ENUM("maxmemory-policy", NULL, 0, e_policy, 7),
    ENUM("appendfsync", NULL, 0, e_fsync, 1),
    ENUM("oom-score-adj", NULL, 0, e_oom, 0),
    ENUM("acl-pubsub-default", NULL, 0, e_pubsub_default, 0),
    ENUM("sanitize-dump-payload", NULL, 0, e_sanitize, 0),
    ENUM("enable-protected-configs", NULL, IMM, e_protected, CONFIG_ALLOW_NO),
    ENUM("enable-module-command", NULL, IMM, e_protected, CONFIG_ALLOW_NO),
    ENUM("propagation-error-behavior", NULL, 0, e_propagation, 0),
    ENUM("shutdown-on-sigint", NULL, CF_MULTI_ARG, e_shutdown, 0),
    ENUM("shutdown-on-sigterm", NULL, CF_MULTI_ARG, e_shutdown, 0),
    ENUM("tls-auth-clients", NULL, 0, e_tls_auth, 1),

    NUM("io-threads", NULL, IMM, 1, 128, 1),
    NUM("auto-aof-rewrite-percentage", NULL, 0, 0, INT_MAX, 100),
    NUM("list-max-listpack-size", "list-max-ziplist-size", 0, INT_MIN, INT_MAX, -2),
    NUM("active-defrag-cycle-min", NULL, 0, 1, 99, 1),
    NUM("active-defrag-cycle-max", NULL, 0, 1, 99, 25),
    NUM("active-defrag-threshold-lower", NULL, 0, 0, 1000, 10),
    NUM("active-defrag-threshold-upper", NULL, 0, 0, 1000, 100),
    NUM("lfu-log-factor", NULL, 0, 0, INT_MAX, 10),
    NUM("lfu-decay-time", NULL, 0, 0, INT_MAX, 1),
    NUM("maxmemory-samples", NULL, 0, 1, INT_MAX, 5),
    NUM("maxmemory-eviction-tenacity", NULL, 0, 0, 100, 10),
    NUM("list-compress-depth", NULL, 0, 0, INT_MAX, 0),
    NUM("active-expire-effort", NULL, 0, 1, 10, 1),
    NUM("min-replicas-to-write", "min-slaves-to-write", 0, 0, INT_MAX, 0),
    NUM("min-replicas-max-lag", "min-slaves-max-lag", 0, 0, INT_MAX, 10),
    NUM("shutdown-timeout", NULL, 0, 0, INT_MAX, 10),
    NUM("repl-diskless-sync-max-replicas", NULL, 0, 0, INT_MAX, 0),
    NUM("unixsocketperm", NULL, IMM | UNS | CF_OCTAL, 0, 0777, 0),
    NUM("socket-mark-id", NULL, IMM | UNS, 0, UINT_MAX, 0),
    NUM("active-defrag-max-scan-fields", NULL, UNS, 1, LONG_MAX, 1000),
    NUM("acllog-max-len", NULL, UNS, 0, LONG_MAX, 128),
    NUM("busy-reply-threshold", "lua-time-limit", 0, 0, LONG_MAX, 5000),
    NUM("latency-monitor-threshold", NULL, 0, 0, LLONG_MAX, 0),
    NUM("stream-node-max-entries", NULL, 0, 0, LLONG_MAX, 100),
    NUM("maxmemory", NULL, UNS | MEM, 0, U64MAX, 0),
    NUM("hash-max-listpack-entries", "hash-max-ziplist-entries", UNS, 0, LONG_MAX, 512),
    NUM("set-max-intset-entries", NULL, UNS, 0, LONG_MAX, 512),
    NUM("zset-max-listpack-entries", "zset-max-ziplist-entries", UNS, 0, LONG_MAX, 128),
    NUM("active-defrag-ignore-bytes", NULL, UNS | MEM, 1, LLONG_MAX, 100LL << 20),
    NUM("hash-max-listpack-value", "hash-max-ziplist-value", UNS | MEM, 0, LONG_MAX, 64),
    NUM("stream-node-max-bytes", NULL, UNS | MEM, 0, LONG_MAX, 4096),
    NUM("zset-max-listpack-value", "zset-max-ziplist-value", UNS | MEM, 0, LONG_MAX, 64),
    NUM("hll-sparse-max-bytes", NULL, UNS | MEM, 0, LONG_MAX, 3000),
    NUM("tracking-table-max-keys", NULL, UNS, 0, LONG_MAX, 1000000),
    NUM("maxmemory-clients", NULL, MEM | CF_PERCENT, -100, SSIZE_MAX, 0),
    NUM("auto-aof-rewrite-min-size", NULL, MEM, 0, LLONG_MAX, 64LL * 1024 * 1024),
    NUM("tls-session-cache-size", NULL, 0, 0, INT_MAX, 20 * 1024),
    NUM("tls-session-cache-timeout", NULL, 0, 0, INT_MAX, 300),

    /* Redis's hidden debug directives: CONFIG GET lists them only by exact
     * name, as 7.0.15 does. Its test harnesses set them; key-load-delay and
     * rdb-key-save-delay act (config_key_load_delay/config_key_save_delay),
     * the others are kept and shown. */
    NUM("rdb-key-save-delay", NULL, CF_HIDDEN, INT_MIN, INT_MAX, 0),
    NUM("key-load-delay", NULL, CF_HIDDEN, INT_MIN, INT_MAX, 0),
    NUM("watchdog-period", NULL, CF_HIDDEN, 0, INT_MAX, 0),
    NUM("loading-process-events-interval-bytes", NULL, CF_HIDDEN, 1024, INT_MAX, 2 * 1024 * 1024),
    BOOL("use-exit-on-panic", NULL, CF_HIDDEN, 0),

    SPECIAL("save", NULL, CF_MULTI_ARG, SP_SAVE, "3600 1 300 100 60 10000"),
    SPECIAL("client-output-buffer-limit", NULL, CF_MULTI_ARG, SP_OBUF,
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
    SPECIAL("oom-score-adj-values", NULL, CF_MULTI_ARG, SP_OOM_VALUES, "0 200 800"),
    SPECIAL("notify-keyspace-events", NULL, 0, SP_NOTIFY, ""),
    SPECIAL("replicaof", "slaveof", IMM | CF_MULTI_ARG, SP_REPLICAOF, ""),
    SPECIAL("latency-tracking-info-percentiles", NULL, CF_MULTI_ARG, SP_LATENCY_PCT, "50 99 99.9"),
};

const int cfg_table_len = (int)(sizeof cfg_table / sizeof cfg_table[0]);

const cfg_deprecated_t cfg_deprecated[] = {
    {"list-max-ziplist-entries", 2, 2},
    {"list-max-ziplist-value", 2, 2},
    {"lua-replicate-commands", 2, 2},
    {NULL, 0, 0},
};

/* A linear scan over ~180 names: lookups happen at load time and in CONFIG
 * commands, never on a hot path, so a hash table would buy nothing. */
int cfg_lookup(const char *name, size_t len, bool *is_alias)
{
    for (int i = 0; i < cfg_table_len; i++) {
        const cfg_def_t *d = &cfg_table[i];
        if (strlen(d->name) == len && !strncasecmp(d->name, name, len)) {
            if (is_alias) *is_alias = false;
            return i;
        }
        if (d->alias && strlen(d->alias) == len && !strncasecmp(d->alias, name, len)) {
            if (is_alias) *is_alias = true;
            return i;
        }
    }
    return -1;
}

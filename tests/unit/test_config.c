/* test_config.c - the configuration module: file and command-line parsing
 * with Redis's quoting, error reports with line numbers, CONFIG GET / SET
 * replies and validation (texts checked against redis-server 7.0.15),
 * memory units, change notifications and CONFIG REWRITE round trips.
 *
 * Tests write only under a fresh mkdtemp directory and restore the working
 * directory after any test that loads a `dir` directive.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/unit/unit.h"
#include "actors/config/config.h"
#include "actors/config/config_internal.h"
#include "proto/strnum.h"

/* Like CHECK_EQ_STR, without pasting the (long) expected text into the message. */
static void check_str(const char *file, int line, const char *got, const char *want)
{
    if (got && want && strcmp(got, want) == 0) return;
    char m[700];
    snprintf(m, sizeof m, "got \"%.300s\" want \"%.300s\"", got ? got : "(null)", want ? want : "(null)");
    unit_fail(file, line, m);
}
#define CHECK_STR(got, want) check_str(__FILE__, __LINE__, (got), (want))

static char tmpdir[256];

static const char *tdir(void)
{
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/shoal-config-XXXXXX");
        if (!mkdtemp(tmpdir)) abort();
    }
    return tmpdir;
}

static char *write_tmp(const char *name, const char *content)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tdir(), name);
    FILE *f = fopen(path, "w");
    if (!f) abort();
    fputs(content, f);
    fclose(f);
    return path;
}

static const char *get(const char *name)
{
    static char buf[8][1024];
    static int k;
    char *b = buf[k++ % 8];
    if (config_get_by_name(name, b, 1024) < 0) snprintf(b, 1024, "(missing)");
    return b;
}

/* Runs CONFIG SET with space-separated "name value" words (values with
 * spaces are given via the array form). Returns the reply text. */
static char reply_text[4096];
static const char *do_set(int n, const char **args)
{
    const uint8_t *argv[32];
    size_t lens[32];
    for (int i = 0; i < n; i++) { argv[i] = (const uint8_t *)args[i]; lens[i] = strlen(args[i]); }
    resp_buf_t r;
    resp_buf_init(&r, 2);
    config_cmd_set(&r, n, argv, lens, false);
    snprintf(reply_text, sizeof reply_text, "%.*s", (int)r.len, r.data);
    resp_buf_free(&r);
    return reply_text;
}
#define SET2(a, b) do_set(2, (const char *[]){a, b})

/* Runs CONFIG GET and returns the RESP2 reply bytes. */
static const char *do_get(int n, const char **pats, int proto)
{
    const uint8_t *argv[16];
    size_t lens[16];
    for (int i = 0; i < n; i++) { argv[i] = (const uint8_t *)pats[i]; lens[i] = strlen(pats[i]); }
    resp_buf_t r;
    resp_buf_init(&r, proto);
    config_cmd_get(&r, n, argv, lens);
    snprintf(reply_text, sizeof reply_text, "%.*s", (int)r.len, r.data);
    resp_buf_free(&r);
    return reply_text;
}

static int count_of(const char *reply)   /* "*N" -> N */
{
    return atoi(reply + 1);
}

TEST(config_defaults_match_redis)
{
    config_error_t e;
    REQUIRE(config_load_string("", &e) == 0);
    CHECK_EQ_INT(config_port(), 6379);
    CHECK_STR(get("bind"), "* -::*");
    CHECK_STR(get("save"), "3600 1 300 100 60 10000");
    CHECK_STR(get("client-output-buffer-limit"), "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
    CHECK_STR(get("cluster-config-file"), "nodes.conf");
    CHECK_STR(get("cluster-node-timeout"), "15000");
    CHECK_STR(get("repl-backlog-size"), "1048576");
    CHECK_STR(get("repl-diskless-load"), "disabled");
    CHECK_STR(get("proto-max-bulk-len"), "536870912");
    CHECK_STR(get("enable-debug-command"), "no");
    CHECK_STR(get("latency-tracking-info-percentiles"), "50 99 99.9");
    CHECK_STR(get("proc-title-template"), "{title} {listen-addr} {server-mode}");
    CHECK_STR(get("unixsocketperm"), "0");
    CHECK_STR(get("cluster-failover-on-shutdown"), "no");
    CHECK_STR(get("shutdown-on-sigterm"), "default");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK_EQ_INT(config_worker_threads(), cpus > 64 ? 64 : cpus);
    CHECK(!config_cluster_enabled());
    CHECK(!config_requirepass_set());
    CHECK_EQ_INT(config_cluster_bus_port(), 16379);
    CHECK_EQ_INT(config_hz(), 10);
    CHECK_EQ_INT(config_loglevel(), 2);
}

TEST(config_file_directives_and_quoting)
{
    const char *text =
        "# a comment\n"
        "\n"
        "  port 7001  \n"
        "Cluster-Enabled yes\n"
        "cluster-announce-hostname \"node-1.example\"\n"
        "requirepass 'pa ss\\'w'\n"
        "masterauth \"a\\x41\\n\\\\\"\n"
        "maxmemory 1gb\n"
        "save 900 1\n"
        "save 300 10\n"
        "bind 127.0.0.1 ::1\n"
        "client-output-buffer-limit replica 512mb 128mb 30\n"
        "SLAVE-READ-ONLY no\n"
        "notify-keyspace-events KEA\n"
        "list-max-ziplist-entries 512\n"
        "hz 1000\n"
        "maxmemory-clients 10%\n"
        "cluster-port 17001\n"
        "loglevel WARNING\n"
        "shutdown-on-sigint \"nosave now\"\n"
        "unixsocketperm 700\n";
    config_error_t e;
    int rc = config_load(write_tmp("a.conf", text), NULL, &e);
    if (rc) printf("  load error: %s\n", e.msg);
    REQUIRE(rc == 0);
    CHECK_EQ_INT(config_port(), 7001);
    CHECK(config_cluster_enabled());
    char buf[256];
    config_cluster_announce_hostname(buf, sizeof buf);
    CHECK_STR(buf, "node-1.example");
    config_requirepass(buf, sizeof buf);
    CHECK_STR(buf, "pa ss'w");
    CHECK(config_requirepass_set());
    CHECK_STR(get("masterauth"), "aA\n\\");
    CHECK_STR(get("maxmemory"), "1073741824");
    CHECK_STR(get("save"), "900 1 300 10");
    char addrs[4][CONFIG_ADDR_MAX];
    REQUIRE(config_bind(addrs, 4) == 2);
    CHECK_STR(addrs[0], "127.0.0.1");
    CHECK_STR(addrs[1], "::1");
    CHECK_STR(get("client-output-buffer-limit"), "normal 0 0 0 slave 536870912 134217728 30 pubsub 33554432 8388608 60");
    unsigned long long h, s;
    long long secs;
    CHECK(config_obuf_limit("replica", &h, &s, &secs) == 0);
    CHECK(h == 536870912ULL && s == 134217728ULL && secs == 30);
    CHECK_STR(get("replica-read-only"), "no");
    CHECK_STR(get("slave-read-only"), "no");
    CHECK_STR(get("notify-keyspace-events"), "AKE");
    CHECK_EQ_INT(config_hz(), 500);
    CHECK_STR(get("maxmemory-clients"), "10%");
    CHECK_EQ_INT(config_cluster_bus_port(), 17001);
    CHECK_EQ_INT(config_loglevel(), 3);
    CHECK_STR(get("shutdown-on-sigint"), "nosave now");
    CHECK_STR(get("unixsocketperm"), "700");
    char path[1024];
    CHECK(config_file_path(path, sizeof path) > 0 && path[0] == '/');
}

TEST(config_command_line_overrides)
{
    char *file = write_tmp("b.conf", "port 7001\nsave 100 1\ncluster-enabled yes\n");
    char *argv[] = {"shoal-node", file, "--port", "7005", "--save", "--cluster-node-timeout", "5000",
                    "--bind", "127.0.0.1", "10.0.0.1", "--requirepass", "with space", "--appendonly", NULL};
    int argc = (int)(sizeof argv / sizeof argv[0]) - 1;
    config_error_t e;
    /* "--appendonly" with no value is a wrong-number-of-arguments error on
     * the last line: file has 3 lines, then one empty separator line, then
     * port, save, cluster-node-timeout, bind, requirepass, appendonly. */
    REQUIRE(config_load_argv(argc, argv, &e) == -1);
    CHECK_EQ_INT(e.line, 10);
    CHECK(!e.in_file);
    CHECK_STR(e.text, "appendonly");
    CHECK_STR(e.msg, "wrong number of arguments");

    argv[argc - 1] = "--save";   /* trailing --save means save "" */
    REQUIRE(config_load_argv(argc, argv, &e) == 0);
    CHECK_EQ_INT(config_port(), 7005);
    CHECK_STR(get("save"), "");
    CHECK_EQ_INT(config_cluster_node_timeout(), 5000);
    CHECK_STR(get("bind"), "127.0.0.1 10.0.0.1");
    CHECK_STR(get("requirepass"), "with space");
    CHECK(config_cluster_enabled());

    char *argv2[] = {"shoal-node", "--save", "900 1 300 10", "--port", "7002", NULL};
    REQUIRE(config_load_argv(5, argv2, &e) == 0);
    CHECK_STR(get("save"), "900 1 300 10");
    CHECK_EQ_INT(config_port(), 7002);
    CHECK(config_file_path(NULL, 0) == 0);
}

TEST(config_errors_name_line_and_message)
{
    config_error_t e;
    char out[2048];
    REQUIRE(config_load(write_tmp("c.conf", "port 7000\nfoo bar\n"), NULL, &e) == -1);
    CHECK_EQ_INT(e.line, 2);
    CHECK(e.in_file);
    CHECK_STR(e.text, "foo bar");
    CHECK_STR(e.msg, "Bad directive or wrong number of arguments");
    config_format_error(&e, out, sizeof out);
    CHECK(strstr(out, "*** FATAL CONFIG FILE ERROR (shoal) ***\n") != NULL);
    CHECK(strstr(out, "Reading the configuration file, at line 2 (") != NULL);
    CHECK(strstr(out, "c.conf')\n>>> 'foo bar'\nBad directive or wrong number of arguments\n") != NULL);

    REQUIRE(config_load(write_tmp("d.conf", "# c\n\nport abc\n"), NULL, &e) == -1);
    CHECK_EQ_INT(e.line, 3);
    CHECK_STR(e.msg, "argument couldn't be parsed into an integer");

    char *argv[] = {"shoal-node", "--port", "99999999", NULL};
    REQUIRE(config_load_argv(3, argv, &e) == -1);
    CHECK_EQ_INT(e.line, 2);                     /* as redis-server: line 1 is the separator */
    CHECK_STR(e.text, "port \"99999999\"");
    CHECK_STR(e.msg, "argument must be between 0 and 65535 inclusive");

    REQUIRE(config_load_string("port \"7000\n", &e) == -1);
    CHECK_STR(e.msg, "Unbalanced quotes in configuration line");
    REQUIRE(config_load_string("port \"7000\"x\n", &e) == -1);
    CHECK_STR(e.msg, "Unbalanced quotes in configuration line");
    REQUIRE(config_load_string("appendonly maybe\n", &e) == -1);
    CHECK_STR(e.msg, "argument must be 'yes' or 'no'");
    REQUIRE(config_load_string("port 1 2\n", &e) == -1);
    CHECK_STR(e.msg, "wrong number of arguments");
    REQUIRE(config_load_string("maxmemory-policy lru\n", &e) == -1);
    CHECK_STR(e.msg, "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, "
                        "volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction");
    REQUIRE(config_load_string("include /etc/other.conf\n", &e) == -1);
    CHECK(strstr(e.msg, "include is not supported") != NULL);
    REQUIRE(config_load_string("cluster-enabled yes\nreplicaof 10.0.0.1 6379\n", &e) == -1);
    CHECK_EQ_INT(e.line, 0);
    CHECK_STR(e.msg, "replicaof directive not allowed in cluster mode");

    REQUIRE(config_load("/nonexistent/shoal.conf", NULL, &e) == -1);
    CHECK_STR(e.msg, "Fatal error, can't open config file '/nonexistent/shoal.conf': No such file or directory");

    char cwd[1024];
    REQUIRE(getcwd(cwd, sizeof cwd) != NULL);
    REQUIRE(config_load_string("dir /nonexistent/x\n", &e) == -1);
    CHECK_STR(e.msg, "No such file or directory");
    char d[600];
    snprintf(d, sizeof d, "dir %s\n", tdir());
    REQUIRE(config_load_string(d, &e) == 0);
    char now[1024];
    config_dir(now, sizeof now);
    CHECK(strstr(now, "shoal-config-") != NULL);
    CHECK(chdir(cwd) == 0);
}

TEST(config_memory_units)
{
    unsigned long long v;
    CHECK(cfg_memtoull("1k", &v) && v == 1000);
    CHECK(cfg_memtoull("1kb", &v) && v == 1024);
    CHECK(cfg_memtoull("1KB", &v) && v == 1024);
    CHECK(cfg_memtoull("100m", &v) && v == 100000000ULL);
    CHECK(cfg_memtoull("1mb", &v) && v == 1048576ULL);
    CHECK(cfg_memtoull("1g", &v) && v == 1000000000ULL);
    CHECK(cfg_memtoull("2gb", &v) && v == 2147483648ULL);
    CHECK(cfg_memtoull("10b", &v) && v == 10);
    CHECK(cfg_memtoull("", &v) && v == 0);       /* redis-server accepts it as 0 */
    CHECK(!cfg_memtoull("-5", &v));
    CHECK(!cfg_memtoull("1.5mb", &v));
    CHECK(!cfg_memtoull("1xb", &v));
    CHECK(!cfg_memtoull(" 10", &v));
    CHECK(!cfg_memtoull("99999999999999999999gb", &v));
    char b[32];
    cfg_format_memory(b, sizeof b, 1073741824LL);
    CHECK_STR(b, "1gb");
    cfg_format_memory(b, sizeof b, 3 * 1048576LL);
    CHECK_STR(b, "3mb");
    cfg_format_memory(b, sizeof b, 1000);
    CHECK_STR(b, "1000");
    long long ll;
    CHECK(str_to_ll("-12", 3, &ll) && ll == -12);
    CHECK(!str_to_ll("+1", 2, &ll));
    CHECK(!str_to_ll("01", 2, &ll));
    CHECK(!str_to_ll("-0", 2, &ll));
}

TEST(config_split_args_quoting)
{
    int argc;
    char **a = cfg_split_args("set \"a b\" 'c\\'d' \"\\x41\\t\" plain\"q\"", &argc);
    REQUIRE(a != NULL);
    REQUIRE(argc == 5);
    CHECK_STR(a[1], "a b");
    CHECK_STR(a[2], "c'd");
    CHECK_STR(a[3], "A\t");
    CHECK_STR(a[4], "plainq");
    cfg_free_args(a, argc);
    CHECK(cfg_split_args("\"foo\"bar", &argc) == NULL);
    CHECK(cfg_split_args("'foo", &argc) == NULL);
    a = cfg_split_args("   ", &argc);
    CHECK(a != NULL && argc == 0);
    cfg_free_args(a, argc);
    /* repr round-trips through split */
    cfg_sb_t sb = {0};
    cfg_repr(&sb, "x\"y\\z\n\x01", 7);
    CHECK_STR(sb.s, "\"x\\\"y\\\\z\\n\\x01\"");
    a = cfg_split_args(sb.s, &argc);
    REQUIRE(a && argc == 1);
    CHECK_STR(a[0], "x\"y\\z\n\x01");
    cfg_free_args(a, argc);
    free(sb.s);
}

/* The corners of the two quoting kinds, as redis-server splits them: in double
 * quotes an unknown escape is the letter and a short \x is not hex; in single
 * quotes only \' escapes; a quote closes only before a blank or the end. */
TEST(config_split_args_escape_corners)
{
    int argc;
    char **a = cfg_split_args("\"\\q\\x4\" 'a\\b' 'x\\'y' \"'\" '\"' ab'c d'", &argc);
    REQUIRE(a != NULL);
    REQUIRE(argc == 6);
    CHECK_STR(a[0], "qx4");
    CHECK_STR(a[1], "a\\b");
    CHECK_STR(a[2], "x'y");
    CHECK_STR(a[3], "'");
    CHECK_STR(a[4], "\"");
    CHECK_STR(a[5], "abc d");
    cfg_free_args(a, argc);
    CHECK(cfg_split_args("\"a\\", &argc) == NULL);     /* a backslash, then the end */
    CHECK(cfg_split_args("'a'b", &argc) == NULL);
    CHECK(cfg_split_args("\"a\"\"b\"", &argc) == NULL);
    a = cfg_split_args("\"\" ''", &argc);
    REQUIRE(a && argc == 2);
    CHECK_STR(a[0], "");
    CHECK_STR(a[1], "");
    cfg_free_args(a, argc);
}

TEST(config_get_patterns_and_aliases)
{
    config_error_t e;
    REQUIRE(config_load_string("", &e) == 0);
    /* 7.0.15 returns 20 names for cluster*; our cluster-failover-on-shutdown
     * is hidden from patterns and shown only by exact name. */
    CHECK_EQ_INT(count_of(do_get(1, (const char *[]){"cluster*"}, 2)), 2 * 20);
    CHECK(strstr(reply_text, "cluster-failover-on-shutdown") == NULL);
    CHECK(strstr(reply_text, "$29\r\ncluster-slave-validity-factor\r\n$2\r\n10\r\n") != NULL);
    CHECK(strstr(reply_text, "$31\r\ncluster-replica-validity-factor\r\n$2\r\n10\r\n") != NULL);
    /* 7.0.15's 192; worker-threads, shoal's own and immutable, is hidden
     * from patterns like cluster-failover-on-shutdown and shown by name. */
    CHECK_EQ_INT(count_of(do_get(1, (const char *[]){"*"}, 2)), 2 * 192);
    CHECK(strstr(reply_text, "worker-threads") == NULL);
    CHECK(strncmp(do_get(1, (const char *[]){"worker-threads"}, 2), "*2\r\n$14\r\nworker-threads\r\n", 25) == 0);
    CHECK_STR(do_get(1, (const char *[]){"cluster-failover-on-shutdown"}, 2),
              "*2\r\n$28\r\ncluster-failover-on-shutdown\r\n$2\r\nno\r\n");
    CHECK_STR(do_get(1, (const char *[]){"PORT"}, 2), "*2\r\n$4\r\nPORT\r\n$4\r\n6379\r\n");
    CHECK_STR(do_get(2, (const char *[]){"port", "p?rt"}, 2), "*2\r\n$4\r\nport\r\n$4\r\n6379\r\n");
    CHECK_STR(do_get(1, (const char *[]){"slave-read-only"}, 2), "*2\r\n$15\r\nslave-read-only\r\n$3\r\nyes\r\n");
    CHECK_STR(do_get(1, (const char *[]){"nonexistent"}, 2), "*0\r\n");
    CHECK_STR(do_get(1, (const char *[]){"save"}, 3), "%1\r\n$4\r\nsave\r\n$23\r\n3600 1 300 100 60 10000\r\n");
    CHECK_EQ_INT(count_of(do_get(1, (const char *[]){"slave*"}, 2)), 2 * 8);
    CHECK_EQ_INT(count_of(do_get(2, (const char *[]){"*max*-entries", "[a-b]ind"}, 2)), 2 * 7);
}

static int notified;
static char notified_name[64];
static void on_change(const char *name, void *arg)
{
    (void)arg;
    notified++;
    snprintf(notified_name, sizeof notified_name, "%s", name);
}

TEST(config_set_validation_and_errors)
{
    config_error_t e;
    REQUIRE(config_load_string("", &e) == 0);
    CHECK_STR(SET2("foo", "1"), "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n");
    CHECK_STR(SET2("cluster-enabled", "yes"),
                 "-ERR CONFIG SET failed (possibly related to argument 'cluster-enabled') - can't set immutable config\r\n");
    CHECK_STR(SET2("port", "abc"),
                 "-ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer\r\n");
    CHECK_STR(SET2("port", "99999999"),
                 "-ERR CONFIG SET failed (possibly related to argument 'port') - argument must be between 0 and 65535 inclusive\r\n");
    CHECK_STR(SET2("appendonly", "maybe"),
                 "-ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'\r\n");
    CHECK_STR(SET2("maxmemory", "1xb"),
                 "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value\r\n");
    CHECK_STR(SET2("cluster-announce-hostname", "a_b"),
                 "-ERR CONFIG SET failed (possibly related to argument 'cluster-announce-hostname') - Hostnames may only contain alphanumeric characters, hyphens or dots\r\n");
    CHECK_STR(SET2("cluster-preferred-endpoint-type", "x"),
                 "-ERR CONFIG SET failed (possibly related to argument 'cluster-preferred-endpoint-type') - argument(s) must be one of the following: ip, hostname, unknown-endpoint\r\n");
    CHECK_STR(SET2("cluster-node-timeout", "-1"),
                 "-ERR CONFIG SET failed (possibly related to argument 'cluster-node-timeout') - argument must be between 0 and 9223372036854775807 inclusive\r\n");
    CHECK_STR(SET2("maxclients", "-1"),
                 "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive\r\n");
    CHECK_STR(SET2("maxmemory-clients", "101%"),
                 "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100\r\n");
    CHECK_STR(SET2("save", "1 2 3"),
                 "-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters\r\n");
    CHECK_STR(SET2("client-output-buffer-limit", "foo 1 2 3"),
                 "-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Invalid client class specified in buffer limit configuration.\r\n");
    CHECK_STR(SET2("dir", "/tmp"),
                 "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n");
    CHECK_STR(do_set(4, (const char *[]){"port", "1", "PORT", "2"}),
                 "-ERR CONFIG SET failed (possibly related to argument 'PORT') - duplicate parameter\r\n");
    CHECK_STR(do_set(4, (const char *[]){"hz", "5", "cluster-enabled", "yes"}),
                 "-ERR CONFIG SET failed (possibly related to argument 'cluster-enabled') - can't set immutable config\r\n");
    CHECK_STR(do_set(4, (const char *[]){"port", "7000", "foo", "1"}),
                 "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n");
    CHECK_STR(do_set(1, (const char *[]){"port"}), "-ERR wrong number of arguments for 'config|set' command\r\n");
    CHECK_STR(do_set(3, (const char *[]){"port", "1", "hz"}), "-ERR syntax error\r\n");

    /* all or nothing: a bad second value leaves the first untouched */
    CHECK_STR(do_set(4, (const char *[]){"port", "7000", "maxmemory", "bad"}),
                 "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value\r\n");
    CHECK_EQ_INT(config_port(), 6379);

    notified = 0;
    config_unsubscribe_all();
    REQUIRE(config_subscribe(on_change, NULL) == 0);
    CHECK_STR(do_set(6, (const char *[]){"maxmemory", "100mb", "cluster-announce-hostname", "n1.example", "hz", "1000"}), "+OK\r\n");
    CHECK_STR(get("maxmemory"), "104857600");
    CHECK_STR(get("hz"), "500");
    CHECK_EQ_INT(notified, 3);
    notified = 0;
    CHECK_STR(SET2("slave-priority", "5"), "+OK\r\n");
    CHECK_EQ_INT(notified, 1);
    CHECK_STR(notified_name, "replica-priority");
    CHECK_STR(get("replica-priority"), "5");
    notified = 0;
    CHECK_STR(SET2("replica-priority", "5"), "+OK\r\n");
    CHECK_EQ_INT(notified, 0);                   /* unchanged: no notification */
    config_unsubscribe_all();

    CHECK_STR(SET2("save", ""), "+OK\r\n");
    CHECK_STR(get("save"), "");
    CHECK_STR(SET2("client-output-buffer-limit", "normal 1mb 2mb 3 replica 1 2 3"), "+OK\r\n");
    CHECK_STR(get("client-output-buffer-limit"), "normal 1048576 2097152 3 slave 1 2 3 pubsub 33554432 8388608 60");
    CHECK_STR(SET2("maxmemory-policy", "ALLKEYS-LRU"), "+OK\r\n");
    CHECK_STR(get("maxmemory-policy"), "allkeys-lru");
    CHECK_STR(SET2("repl-backlog-size", "1"), "+OK\r\n");
    CHECK_STR(get("repl-backlog-size"), "16384");
    CHECK_STR(SET2("requirepass", "secret"), "+OK\r\n");
    CHECK(config_requirepass_set());
    CHECK_STR(SET2("requirepass", ""), "+OK\r\n");
    CHECK(!config_requirepass_set());
    CHECK_STR(SET2("notify-keyspace-events", "Z"),
                 "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.\r\n");
}

TEST(config_rewrite_round_trip)
{
    resp_buf_t r;
    config_error_t e;
    REQUIRE(config_load_string("", &e) == 0);
    resp_buf_init(&r, 2);
    config_cmd_rewrite(&r);
    const char *want = "-ERR The server is running without a config file\r\n";
    CHECK(r.len == strlen(want) && memcmp(r.data, want, r.len) == 0);
    resp_buf_free(&r);

    char cwd[1024];
    REQUIRE(getcwd(cwd, sizeof cwd) != NULL);
    char text[2048];
    snprintf(text, sizeof text,
             "# my node\n"
             "port 7001\n"
             "\n"
             "# persistence\n"
             "save 900 1\n"
             "save 300 10\n"
             "slave-read-only yes\n"
             "maxmemory 2mb\n"
             "dir %s\n"
             "cluster-enabled yes\n", tdir());
    char path[600];
    snprintf(path, sizeof path, "%s", write_tmp("rw.conf", text));
    REQUIRE(config_load(path, NULL, &e) == 0);
    CHECK_STR(do_set(10, (const char *[]){"port", "7002", "save", "60 5", "maxmemory", "3gb",
                                            "cluster-announce-hostname", "a.b", "requirepass", "p w\"x"}), "+OK\r\n");
    resp_buf_init(&r, 2);
    config_cmd_rewrite(&r);
    CHECK(r.len == 5 && memcmp(r.data, "+OK\r\n", 5) == 0);
    resp_buf_free(&r);
    char *out = unit_read_text(path);
    REQUIRE(out != NULL);
    /* comments kept, changed lines in place, surplus save line blanked, alias
     * written under its primary name, new values after the signature. */
    CHECK(strncmp(out, "# my node\nport 7002\n\n# persistence\nsave 60 5\n\nreplica-read-only yes\nmaxmemory 3gb\ndir \"", 70) == 0);
    CHECK(strstr(out, "cluster-enabled yes\n") != NULL);
    CHECK(strstr(out, "# Generated by CONFIG REWRITE\n") != NULL);
    CHECK(strstr(out, "cluster-announce-hostname \"a.b\"\n") != NULL);
    CHECK(strstr(out, "requirepass \"p w\\\"x\"\n") != NULL);
    CHECK(strstr(out, "latency-tracking-info-percentiles 50 99 99.9\n") != NULL);
    CHECK(strstr(out, "appendonly") == NULL);    /* defaults not in the file stay out */

    /* every value survives a reload of the rewritten file */
    const char *names[] = {"port", "save", "maxmemory", "cluster-announce-hostname", "requirepass",
                           "replica-read-only", "cluster-enabled", "dir", "bind", "hz"};
    char before[10][256];
    for (int i = 0; i < 10; i++) snprintf(before[i], sizeof before[i], "%s", get(names[i]));
    REQUIRE(chdir(cwd) == 0);
    REQUIRE(config_load(path, NULL, &e) == 0);
    for (int i = 0; i < 10; i++) CHECK_STR(get(names[i]), before[i]);

    /* Rewriting again keeps the content; like redis-server 7.0.15 it gains
     * one trailing blank line once (the file's last newline reads as an
     * empty last line), after which the bytes are stable. */
    REQUIRE(config_rewrite_file(path) == 0);
    char *again = unit_read_text(path);
    REQUIRE(again != NULL);
    CHECK(strlen(again) == strlen(out) + 1 && strncmp(again, out, strlen(out)) == 0);
    REQUIRE(config_rewrite_file(path) == 0);
    char *third = unit_read_text(path);
    CHECK_STR(third, again);
    free(third);
    free(again);
    free(out);
    REQUIRE(chdir(cwd) == 0);
    config_reset_defaults();
}

/* Whatever bytes a value holds, its quoted form is one argument on
 * one line, and the line splitter gives the same bytes back. */
TEST(config_repr_round_trips_every_byte)
{
    char all[256];
    for (int b = 1; b < 256; b++) all[b - 1] = (char)b;
    all[255] = '\0';
    for (int b = 0; b < 256; b++) {
        char one[4] = {'a', (char)b, 'z', '\0'};
        const char *s = b ? one : all;
        cfg_sb_t sb = {0};
        cfg_sb_adds(&sb, "masterauth ");
        cfg_repr(&sb, s, strlen(s));
        CHECK(strchr(sb.s, '\n') == NULL && strchr(sb.s, '\r') == NULL);
        int argc = 0;
        char **argv = cfg_split_args(sb.s, &argc);
        CHECK(argv != NULL && argc == 2);
        if (argv && argc == 2) CHECK(strcmp(argv[1], s) == 0);
        cfg_free_args(argv, argc);
        free(sb.s);
    }
}

/* A value with a newline (bind, which splits on spaces, and a
 * plain string) is written back escaped: the file gains no directive, and
 * reading it again gives the same values. */
TEST(config_rewrite_cannot_inject_lines)
{
    char cwd[1024];
    REQUIRE(getcwd(cwd, sizeof cwd) != NULL);
    char text[512];
    snprintf(text, sizeof text, "port 7001\ndir %s\n", tdir());
    char path[600];
    snprintf(path, sizeof path, "%s", write_tmp("inject.conf", text));
    config_error_t e;
    REQUIRE(config_load(path, NULL, &e) == 0);
    /* no bind handler in unit tests: the value is only stored */
    CHECK_STR(SET2("bind", "127.0.0.1\nenable-protected-configs yes"), "+OK\r\n");
    CHECK_STR(SET2("masterauth", "x\nrequirepass y\r\n\"dir /\"\\"), "+OK\r\n");
    CHECK_STR(SET2("replica-announce-ip", "h\nsave 1 1"), "+OK\r\n");
    REQUIRE(config_rewrite_file(path) == 0);
    char *out = unit_read_text(path);
    REQUIRE(out != NULL);
    CHECK(strstr(out, "\nenable-protected-configs") == NULL);
    CHECK(strstr(out, "\nrequirepass") == NULL);
    CHECK(strstr(out, "\nsave 1 1") == NULL);
    CHECK(strstr(out, "bind \"127.0.0.1\\nenable-protected-configs\" yes\n") != NULL);
    char bind[256], auth[256], ann[256];
    snprintf(bind, sizeof bind, "%s", get("bind"));
    snprintf(auth, sizeof auth, "%s", get("masterauth"));
    snprintf(ann, sizeof ann, "%s", get("replica-announce-ip"));
    REQUIRE(chdir(cwd) == 0);
    REQUIRE(config_load(path, NULL, &e) == 0);
    CHECK_STR(get("bind"), bind);
    CHECK_STR(get("masterauth"), auth);
    CHECK_STR(get("replica-announce-ip"), ann);
    CHECK_STR(get("enable-protected-configs"), "no");
    CHECK_STR(get("requirepass"), "");
    free(out);
    REQUIRE(chdir(cwd) == 0);
    config_reset_defaults();
}

/* ll_to_str / ull_to_str write what printf's %lld / %llu write, at the
 * ends of the range, around powers of ten and for random values. */
TEST(strnum_to_str_as_printf)
{
    long long edge[] = { 0, 1, -1, 9, 10, -10, 99, 100, 999999, 1000000, LLONG_MAX, LLONG_MIN, LLONG_MIN + 1 };
    char got[24], want[32];
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        size_t n = ll_to_str(got, edge[i]);
        CHECK_EQ_INT((int)n, snprintf(want, sizeof want, "%lld", edge[i]));
        CHECK(memcmp(got, want, n) == 0);
    }
    CHECK_EQ_INT((int)ull_to_str(got, ULLONG_MAX), 20);
    CHECK(memcmp(got, "18446744073709551615", 20) == 0);
    unsigned long long x = 88172645463325252ULL;
    for (int i = 0; i < 10000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        long long v = (long long)(x >> (1 + i % 63));   /* 0 .. 2^63 - 1 */
        size_t n = ll_to_str(got, i & 1 ? -v : v);
        CHECK_EQ_INT((int)n, snprintf(want, sizeof want, "%lld", i & 1 ? -v : v));
        CHECK(memcmp(got, want, n) == 0);
    }
}

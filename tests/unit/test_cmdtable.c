/* test_cmdtable.c - unit tests of the command table (actors/commands/cmdtable*.c) and
 * of the COMMAND handlers (actors/commands/cmd_command.c).
 *
 * Expected bytes marked "captured" were read from a real redis-server 7.0.15
 * (COMMAND INFO / GETKEYS / LIST replies), so these tests fail if a table
 * entry or a reply encoder drifts from what clients see on the real server.
 * They need no handler other than the COMMAND ones; the rest of the table's
 * handlers are only referenced, never called.
 */
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "actors/commands/cmd.h"
#include "actors/commands/commands.h"

static const cmd_def_t *lookup(const char *name)
{
    cmd_table_init();
    return cmd_lookup((const uint8_t *)name, strlen(name));
}

static const cmd_def_t *lookup_full(const char *name)
{
    cmd_table_init();
    return cmd_lookup_fullname((const uint8_t *)name, strlen(name));
}

/* Runs a handler on a command line given as C strings; the reply is left in *out. */
static void run(cmd_fn fn, int proto, resp_buf_t *out, int argc, const char **args)
{
    const uint8_t *argv[32];
    size_t argvlen[32];
    for (int i = 0; i < argc && i < 32; i++) {
        argv[i] = (const uint8_t *)args[i];
        argvlen[i] = strlen(args[i]);
    }
    resp_buf_init(out, proto);
    cmd_ctx_t ctx = { .argc = argc, .argv = argv, .argvlen = argvlen, .reply = out };
    cmd_table_init();
    fn(&ctx);
}

#define RUN(fn, proto, out, ...) do { \
    const char *_a[] = { __VA_ARGS__ }; \
    run(fn, proto, out, (int)(sizeof _a / sizeof _a[0]), _a); } while (0)

static bool reply_is(const resp_buf_t *b, const char *expected)
{
    size_t n = strlen(expected);
    return b->len == n && memcmp(b->data, expected, n) == 0;
}

TEST(cmdtable_lookup_is_case_insensitive)
{
    const cmd_def_t *get = lookup("get");
    REQUIRE(get != NULL);
    CHECK_EQ_STR(get->name, "get");
    CHECK(lookup("GET") == get);
    CHECK(lookup("gEt") == get);
    CHECK(lookup("incrbyfloat") == lookup("INCRBYFLOAT"));
    CHECK(lookup("ge") == NULL);
    CHECK(lookup("gett") == NULL);
    CHECK(lookup("nosuchcommand") == NULL);
    CHECK(cmd_lookup((const uint8_t *)"get\0", 4) == NULL);        /* binary-safe length */
    CHECK(cmd_lookup((const uint8_t *)"", 0) == NULL);
    char longname[300];
    memset(longname, 'a', sizeof longname);
    CHECK(cmd_lookup((const uint8_t *)longname, sizeof longname) == NULL);
    /* subcommand names are not top-level commands */
    CHECK(lookup("nodes") == NULL);
    CHECK(lookup("set-config-epoch") == NULL);
}

TEST(cmdtable_subcommand_lookup)
{
    const cmd_def_t *cluster = lookup("CLUSTER");
    REQUIRE(cluster != NULL);
    CHECK(cluster->handler == NULL);
    const cmd_def_t *nodes = cmd_lookup_sub(cluster, (const uint8_t *)"NoDeS", 5);
    REQUIRE(nodes != NULL);
    CHECK_EQ_STR(nodes->name, "nodes");
    CHECK(nodes->parent == cluster);
    CHECK(nodes->handler == cmd_cluster_nodes);
    const cmd_def_t *sce = cmd_lookup_sub(cluster, (const uint8_t *)"SET-CONFIG-EPOCH", 16);
    REQUIRE(sce != NULL);
    CHECK(sce->handler == cmd_cluster_set_config_epoch);
    CHECK(cmd_lookup_sub(cluster, (const uint8_t *)"myshardid", 9) == NULL);   /* 7.2 only */
    CHECK(cmd_lookup_sub(cluster, (const uint8_t *)"get", 3) == NULL);
    CHECK(cmd_lookup_sub(lookup("get"), (const uint8_t *)"nodes", 5) == NULL);
    CHECK(cmd_lookup_sub(NULL, (const uint8_t *)"nodes", 5) == NULL);
    /* the same subcommand name under different containers */
    const cmd_def_t *client_info = cmd_lookup_sub(lookup("client"), (const uint8_t *)"info", 4);
    const cmd_def_t *cluster_info = cmd_lookup_sub(cluster, (const uint8_t *)"info", 4);
    REQUIRE(client_info && cluster_info);
    CHECK(client_info != cluster_info);
    CHECK(client_info->handler == cmd_client_info);
    CHECK(cluster_info->handler == cmd_cluster_info);

    CHECK(lookup_full("Cluster|NODES") == nodes);
    CHECK(lookup_full("get") == lookup("get"));
    CHECK(lookup_full("cluster|") == NULL);
    CHECK(lookup_full("|nodes") == NULL);
    CHECK(lookup_full("get|x") == NULL);
    CHECK(lookup_full("cluster|nodes|x") == NULL);

    char buf[64];
    CHECK_EQ_INT(cmd_fullname(nodes, buf, sizeof buf), 13);
    CHECK_EQ_STR(buf, "cluster|nodes");
    CHECK_EQ_INT(cmd_fullname(nodes, buf, 5), 13);                  /* truncated, still terminated */
    CHECK_EQ_STR(buf, "clus");
    CHECK_EQ_INT(cmd_fullname(lookup("get"), buf, sizeof buf), 3);
    CHECK_EQ_STR(buf, "get");
}

static void check_shape(const char *name, int arity, int first, int last, int step)
{
    const cmd_def_t *c = lookup(name);
    if (!c) { unit_fail(__FILE__, __LINE__, name); return; }
    CHECK_EQ_INT(c->arity, arity);
    CHECK_EQ_INT(c->first_key, first);
    CHECK_EQ_INT(c->last_key, last);
    CHECK_EQ_INT(c->key_step, step);
}

TEST(cmdtable_arity_and_key_positions_match_7_0_15)
{
    check_shape("get", 2, 1, 1, 1);
    check_shape("set", -3, 1, 1, 1);
    check_shape("mset", -3, 1, -1, 2);
    check_shape("msetnx", -3, 1, -1, 2);
    check_shape("mget", -2, 1, -1, 1);
    check_shape("del", -2, 1, -1, 1);
    check_shape("rename", 3, 1, 2, 1);
    check_shape("getex", -2, 1, 1, 1);
    check_shape("watch", -2, 1, -1, 1);
    check_shape("spublish", 3, 1, 1, 1);
    check_shape("ping", -1, 0, 0, 0);
    check_shape("debug", -2, 0, 0, 0);
    check_shape("command", -1, 0, 0, 0);
    check_shape("cluster", -2, 0, 0, 0);
    check_shape("scan", -2, 0, 0, 0);

    const cmd_def_t *get = lookup("get"), *set = lookup("set");
    CHECK_EQ_INT(get->flags, CMD_READONLY | CMD_FAST);
    CHECK_EQ_STR(get->flag_names, "readonly fast");
    CHECK_EQ_STR(get->acl_categories, "read string fast");
    CHECK_EQ_INT(set->flags, CMD_WRITE | CMD_DENYOOM);
    CHECK_EQ_INT(set->keyspec_count, 1);
    CHECK_EQ_STR(set->keyspecs[0].flags, "RW access update variable_flags");
    CHECK(lookup("quit")->flags & CMD_NO_AUTH);
    CHECK(lookup("hello")->flags & CMD_NO_AUTH);
    CHECK(lookup("auth")->flags & CMD_NO_AUTH);
    CHECK(lookup("shutdown")->flags & CMD_NO_MULTI);
    CHECK(!(lookup("get")->flags & CMD_MOVABLE_KEYS));
    CHECK_EQ_STR(lookup("keys")->tips, "request_policy:all_shards nondeterministic_output_order");

    /* where each kind of command runs */
    CHECK_EQ_INT(get->exec, CMD_EXEC_KEYED);
    CHECK_EQ_INT(lookup("del")->exec, CMD_EXEC_KEYED);
    CHECK_EQ_INT(lookup("expiretime")->exec, CMD_EXEC_KEYED);
    const char *fanout[] = { "dbsize", "keys", "scan", "randomkey", "flushall", "flushdb" };
    for (size_t i = 0; i < sizeof fanout / sizeof fanout[0]; i++)
        CHECK_EQ_INT(lookup(fanout[i])->exec, CMD_EXEC_FANOUT);
    CHECK_EQ_INT(lookup("ping")->exec, CMD_EXEC_CLIENT);
    CHECK_EQ_INT(lookup("watch")->exec, CMD_EXEC_CLIENT);
    CHECK_EQ_INT(lookup("spublish")->exec, CMD_EXEC_CLIENT);
    CHECK_EQ_INT(lookup_full("cluster|countkeysinslot")->exec, CMD_EXEC_CLIENT);
}

TEST(cmdtable_cluster_subcommand_arities_match_spec)
{
    /* docs/clients.md §3.0, verified on 7.0.15 */
    static const struct { const char *name; int arity; } want[] = {
        { "addslots", -3 }, { "addslotsrange", -4 }, { "bumpepoch", 2 }, { "count-failure-reports", 3 },
        { "countkeysinslot", 3 }, { "delslots", -3 }, { "delslotsrange", -4 }, { "failover", -2 },
        { "flushslots", 2 }, { "forget", 3 }, { "getkeysinslot", 4 }, { "help", 2 }, { "info", 2 },
        { "keyslot", 3 }, { "links", 2 }, { "meet", -4 }, { "myid", 2 }, { "nodes", 2 },
        { "replicas", 3 }, { "replicate", 3 }, { "reset", -2 }, { "saveconfig", 2 },
        { "set-config-epoch", 3 }, { "setslot", -4 }, { "shards", 2 }, { "slaves", 3 }, { "slots", 2 },
    };
    const cmd_def_t *cluster = lookup("cluster");
    REQUIRE(cluster != NULL);
    int n = 0;
    for (const cmd_def_t *s = cluster->subcommands; s->name; s++) n++;
    CHECK_EQ_INT(n, (int)(sizeof want / sizeof want[0]));
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const cmd_def_t *s = cmd_lookup_sub(cluster, (const uint8_t *)want[i].name, strlen(want[i].name));
        if (!s) { unit_fail(__FILE__, __LINE__, want[i].name); continue; }
        CHECK_EQ_INT(s->arity, want[i].arity);
        CHECK(s->flags & CMD_STALE);
    }
}

TEST(cmdtable_get_keys)
{
    int pos[16];
    const uint8_t *argv[8] = { 0 };
    const cmd_def_t *mset = lookup("mset"), *del = lookup("del"), *get = lookup("get"), *rename = lookup("rename");

    CHECK_EQ_INT(cmd_get_keys(mset, 5, argv, NULL, pos, 16), 2);       /* MSET k1 v1 k2 v2 */
    CHECK_EQ_INT(pos[0], 1);
    CHECK_EQ_INT(pos[1], 3);
    CHECK_EQ_INT(cmd_get_keys(mset, 4, argv, NULL, pos, 16), 2);       /* MSET a b c: a and c, as Redis */
    CHECK_EQ_INT(pos[1], 3);
    CHECK_EQ_INT(cmd_get_keys(mset, 7, argv, NULL, pos, 16), 3);
    CHECK_EQ_INT(pos[2], 5);

    CHECK_EQ_INT(cmd_get_keys(del, 4, argv, NULL, pos, 16), 3);        /* DEL a b c */
    CHECK_EQ_INT(pos[0], 1);
    CHECK_EQ_INT(pos[1], 2);
    CHECK_EQ_INT(pos[2], 3);
    CHECK_EQ_INT(cmd_get_keys(del, 4, argv, NULL, pos, 2), 2);         /* bounded by max */
    CHECK_EQ_INT(cmd_get_keys(del, 1, argv, NULL, pos, 16), 0);        /* no key present */

    CHECK_EQ_INT(cmd_get_keys(get, 2, argv, NULL, pos, 16), 1);
    CHECK_EQ_INT(pos[0], 1);
    CHECK_EQ_INT(cmd_get_keys(get, 1, argv, NULL, pos, 16), 0);        /* short call: nothing past argc */

    CHECK_EQ_INT(cmd_get_keys(rename, 3, argv, NULL, pos, 16), 2);
    CHECK_EQ_INT(pos[0], 1);
    CHECK_EQ_INT(pos[1], 2);
    CHECK_EQ_INT(cmd_get_keys(rename, 2, argv, NULL, pos, 16), 1);

    /* SORT: the key, then the last STORE's destination; LIMIT, BY and GET
     * arguments are skipped, the name after STORE is read as a word too */
    {
        const char *sa[] = { "sort", "k", "BY", "store", "LIMIT", "0", "1", "STORE", "d", "store", "e" };
        const uint8_t *sv[11];
        size_t sl[11];
        for (int i = 0; i < 11; i++) {
            sv[i] = (const uint8_t *)sa[i];
            sl[i] = strlen(sa[i]);
        }
        CHECK_EQ_INT(cmd_get_keys(lookup("sort"), 11, sv, sl, pos, 16), 2);
        CHECK_EQ_INT(pos[0], 1);
        CHECK_EQ_INT(pos[1], 10);
        CHECK_EQ_INT(cmd_get_keys(lookup("sort"), 9, sv, sl, pos, 16), 2);   /* up to "d" */
        CHECK_EQ_INT(pos[1], 8);
        CHECK_EQ_INT(cmd_get_keys(lookup("sort"), 4, sv, sl, pos, 16), 1);   /* BY's argument is no STORE */
        CHECK_EQ_INT(cmd_get_keys(lookup("sort_ro"), 9, sv, sl, pos, 16), 1);
        CHECK_EQ_INT(pos[0], 1);
    }

    CHECK_EQ_INT(cmd_get_keys(lookup("ping"), 2, argv, NULL, pos, 16), 0);
    CHECK_EQ_INT(cmd_get_keys(lookup("cluster"), 3, argv, NULL, pos, 16), 0);
    CHECK_EQ_INT(cmd_get_keys(NULL, 3, argv, NULL, pos, 16), 0);
    CHECK_EQ_INT(cmd_get_keys(get, 2, argv, NULL, pos, 0), 0);

    CHECK(cmd_has_keys(get));
    CHECK(cmd_has_keys(rename));
    CHECK(!cmd_has_keys(lookup("ping")));
    CHECK(!cmd_has_keys(lookup("spublish")));     /* channel spec is not_key */
    CHECK(!cmd_has_keys(lookup("publish")));
}

/* captured: COMMAND INFO get on redis-server 7.0.15, RESP2 */
static const char info_get_resp2[] =
    "*1\r\n" "*10\r\n" "$3\r\n" "get\r\n" ":2\r\n" "*2\r\n"
    "+readonly\r\n" "+fast\r\n" ":1\r\n" ":1\r\n" ":1\r\n" "*3\r\n"
    "+@read\r\n" "+@string\r\n" "+@fast\r\n" "*0\r\n" "*1\r\n" "*6\r\n"
    "$5\r\n" "flags\r\n" "*2\r\n" "+RO\r\n" "+access\r\n" "$12\r\n"
    "begin_search\r\n" "*4\r\n" "$4\r\n" "type\r\n" "$5\r\n" "index\r\n"
    "$4\r\n" "spec\r\n" "*2\r\n" "$5\r\n" "index\r\n" ":1\r\n"
    "$9\r\n" "find_keys\r\n" "*4\r\n" "$4\r\n" "type\r\n" "$5\r\n"
    "range\r\n" "$4\r\n" "spec\r\n" "*6\r\n" "$7\r\n" "lastkey\r\n"
    ":0\r\n" "$7\r\n" "keystep\r\n" ":1\r\n" "$5\r\n" "limit\r\n"
    ":0\r\n" "*0\r\n";

/* captured: the same after HELLO 3 */
static const char info_get_resp3[] =
    "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n"
    "~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n"
    "$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n"
    "$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n"
    "$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n";

TEST(cmdtable_command_info_get_bytes_equal_real_server)
{
    resp_buf_t b;
    RUN(cmd_command_info, 2, &b, "COMMAND", "INFO", "get");
    CHECK(reply_is(&b, info_get_resp2));
    if (!reply_is(&b, info_get_resp2)) printf("got: %.*s\n", (int)b.len, b.data);
    resp_buf_free(&b);

    RUN(cmd_command_info, 3, &b, "COMMAND", "INFO", "GET");
    CHECK(reply_is(&b, info_get_resp3));
    resp_buf_free(&b);
}

/* No command we serve has a key-count spec yet; the shape must still be
 * 7.0.15's. Captured: the second key spec of COMMAND INFO zunionstore. */
TEST(cmdtable_keynum_key_spec_shape)
{
    static const cmd_keyspec_t specs[] = {
        { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 2,
          .fk_type = CMD_KS_KEYNUM, .fk_a = 0, .fk_b = 1, .fk_c = 1 },
    };
    cmd_def_t def = { .name = "zunionstore", .arity = -4, .flag_names = "write denyoom",
                      .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write sortedset slow",
                      .keyspecs = specs, .keyspec_count = 1 };
    static const char want[] =
        "$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$6\r\nkeynum\r\n$4\r\nspec\r\n*6\r\n"
        "$9\r\nkeynumidx\r\n:0\r\n$8\r\nfirstkey\r\n:1\r\n$7\r\nkeystep\r\n:1\r\n";
    resp_buf_t b;
    resp_buf_init(&b, 2);
    cmd_reply_info(&b, &def);
    CHECK(memmem(b.data, b.len, want, sizeof want - 1) != NULL);
    resp_buf_free(&b);
}

TEST(cmdtable_command_info_edge_cases)
{
    resp_buf_t b;
    /* captured: unknown names give a null in place */
    RUN(cmd_command_info, 2, &b, "COMMAND", "INFO", "foo");
    CHECK(reply_is(&b, "*1\r\n$-1\r\n"));
    resp_buf_free(&b);
    RUN(cmd_command_info, 3, &b, "COMMAND", "INFO", "foo");
    CHECK(reply_is(&b, "*1\r\n_\r\n"));
    resp_buf_free(&b);

    /* captured: a subcommand by its full name */
    RUN(cmd_command_info, 2, &b, "COMMAND", "INFO", "CLUSTER|NODES", "cluster|foo");
    CHECK(reply_is(&b, "*2\r\n*10\r\n$13\r\ncluster|nodes\r\n:2\r\n*1\r\n+stale\r\n:0\r\n:0\r\n:0\r\n"
                       "*1\r\n+@slow\r\n*1\r\n$23\r\nnondeterministic_output\r\n*0\r\n*0\r\n$-1\r\n"));
    resp_buf_free(&b);

    /* no names, or bare COMMAND: every top-level command, same bytes */
    resp_buf_t all;
    RUN(cmd_command_info, 2, &b, "COMMAND", "INFO");
    RUN(cmd_command, 2, &all, "COMMAND");
    char head[32];
    int hl = snprintf(head, sizeof head, "*%d\r\n*10\r\n", cmd_count());
    CHECK(b.len > 10000 && memcmp(b.data, head, (size_t)hl) == 0);
    CHECK(b.len == all.len && memcmp(b.data, all.data, b.len) == 0);
    resp_buf_free(&b);
    resp_buf_free(&all);

    /* a container lists its subcommands as nested entries */
    RUN(cmd_command_info, 2, &b, "COMMAND", "INFO", "config");
    CHECK(b.len > 0 && memmem(b.data, b.len, "$10\r\nconfig|get\r\n:-3\r\n", 22) != NULL);
    resp_buf_free(&b);
}

TEST(cmdtable_command_docs)
{
    resp_buf_t b;
    /* captured structure of COMMAND DOCS get; only the summary text is ours */
    const cmd_def_t *get = lookup("get");
    char expected[1024];
    snprintf(expected, sizeof expected,
             "*2\r\n$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n$%zu\r\n%s\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n"
             "$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n*6\r\n"
             "$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n",
             strlen(get->summary), get->summary);
    RUN(cmd_command_docs, 2, &b, "COMMAND", "DOCS", "foo", "get");   /* unknown names are skipped */
    CHECK(reply_is(&b, expected));
    resp_buf_free(&b);

    RUN(cmd_command_docs, 2, &b, "COMMAND", "DOCS", "foo");
    CHECK(reply_is(&b, "*0\r\n"));
    resp_buf_free(&b);
    RUN(cmd_command_docs, 3, &b, "COMMAND", "DOCS", "foo");
    CHECK(reply_is(&b, "%0\r\n"));
    resp_buf_free(&b);

    /* the key is the lower-case full name whatever was typed */
    RUN(cmd_command_docs, 3, &b, "COMMAND", "DOCS", "CLUSTER|SLAVES");
    CHECK(b.len > 20 && memcmp(b.data, "%1\r\n$14\r\ncluster|slaves\r\n%", 26) == 0);
    CHECK(memmem(b.data, b.len, "$9\r\ndoc_flags\r\n~1\r\n+deprecated\r\n$16\r\ndeprecated_since\r\n$5\r\n5.0.0\r\n", 66) != NULL);
    resp_buf_free(&b);

    /* nested argument trees: SET's expiration oneof with tokens */
    RUN(cmd_command_docs, 3, &b, "COMMAND", "DOCS", "set");
    CHECK(memmem(b.data, b.len, "%4\r\n$4\r\nname\r\n$7\r\nseconds\r\n$4\r\ntype\r\n$7\r\ninteger\r\n"
                                "$5\r\ntoken\r\n$2\r\nEX\r\n$5\r\nsince\r\n$6\r\n2.6.12\r\n", 85) != NULL);
    resp_buf_free(&b);

    RUN(cmd_command_docs, 2, &b, "COMMAND", "DOCS");
    char head[32];
    int hl = snprintf(head, sizeof head, "*%d\r\n", 2 * cmd_count());
    CHECK(b.len > 10000 && memcmp(b.data, head, (size_t)hl) == 0);
    resp_buf_free(&b);
}

TEST(cmdtable_command_count_and_list)
{
    resp_buf_t b;
    char want[32];
    snprintf(want, sizeof want, ":%d\r\n", cmd_count());
    RUN(cmd_command_count, 2, &b, "COMMAND", "COUNT");
    CHECK(reply_is(&b, want));
    resp_buf_free(&b);

    int top = 0, subs = 0;
    for (int i = 0; cmd_at(i); i++) {
        top++;
        if (cmd_at(i)->subcommands)
            for (const cmd_def_t *s = cmd_at(i)->subcommands; s->name; s++) subs++;
    }
    CHECK_EQ_INT(top, cmd_count());
    /* 74 of the first table, plus SUBSTR, REPLICAOF and SLAVEOF; 22 list commands; 13
     * bitmap, HyperLogLog and LCS commands; 16 hash and 17 set commands; 35 sorted set
     * commands; OBJECT, DUMP, RESTORE and COPY; MOVE; SORT and SORT_RO; RESTORE-ASKING
     * and MIGRATE; BGREWRITEAOF; the six (P|S)(UN)SUBSCRIBE, PUBSUB and RESET; EVAL, EVALSHA,
     * EVAL_RO, EVALSHA_RO and SCRIPT; SLOWLOG, MONITOR, LATENCY, MODULE, LOLWUT and SWAPDB; FCALL, FCALL_RO
     * and FUNCTION; MEMORY; ACL; GEOADD, GEODIST, GEOHASH and GEOPOS; XADD, XLEN, XRANGE,
     * XREVRANGE, XDEL, XTRIM, XREAD, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XSETID, XGROUP and
     * XINFO; GEORADIUS[_RO], GEORADIUSBYMEMBER[_RO], GEOSEARCH and GEOSEARCHSTORE; FAILOVER */
    CHECK_EQ_INT(cmd_count(), 77 + 22 + 13 + 16 + 17 + 35 + 4 + 1 + 2 + 2 + 1 + 8 + 5 + 6 + 3 + 1 + 1 + 4 + 15 + 6 + 1);
    CHECK(cmd_at(-1) == NULL && cmd_at(cmd_count()) == NULL);

    RUN(cmd_command_list, 2, &b, "COMMAND", "LIST");
    snprintf(want, sizeof want, "*%d\r\n", top + subs);
    CHECK(b.len > 0 && memcmp(b.data, want, strlen(want)) == 0);
    CHECK(memmem(b.data, b.len, "$7\r\ncluster\r\n$", 14) != NULL);
    CHECK(memmem(b.data, b.len, "$12\r\ncluster|myid\r\n", 19) != NULL);
    resp_buf_free(&b);

    /* captured */
    RUN(cmd_command_list, 2, &b, "COMMAND", "LIST", "FILTERBY", "PATTERN", "CLUSTER|N*");
    CHECK(reply_is(&b, "*1\r\n$13\r\ncluster|nodes\r\n"));
    resp_buf_free(&b);
    RUN(cmd_command_list, 2, &b, "command", "list", "filterby", "aclcat", "TRANSACTION");
    CHECK(b.len > 4 && memcmp(b.data, "*5\r\n", 4) == 0);
    CHECK(memmem(b.data, b.len, "$5\r\nmulti\r\n", 11) && memmem(b.data, b.len, "$7\r\nunwatch\r\n", 13));
    resp_buf_free(&b);
    RUN(cmd_command_list, 2, &b, "COMMAND", "LIST", "FILTERBY", "ACLCAT", "@transaction");
    CHECK(reply_is(&b, "*0\r\n"));
    resp_buf_free(&b);
    RUN(cmd_command_list, 2, &b, "COMMAND", "LIST", "FILTERBY", "MODULE", "x");
    CHECK(reply_is(&b, "*0\r\n"));
    resp_buf_free(&b);
    RUN(cmd_command_list, 2, &b, "COMMAND", "LIST", "FILTERBY");
    CHECK(reply_is(&b, "-ERR syntax error\r\n"));
    resp_buf_free(&b);
    RUN(cmd_command_list, 2, &b, "COMMAND", "LIST", "FILTERBY", "foo", "x");
    CHECK(reply_is(&b, "-ERR syntax error\r\n"));
    resp_buf_free(&b);
    RUN(cmd_command_list, 2, &b, "COMMAND", "LIST", "FILTERBY", "PATTERN", "x", "y");
    CHECK(reply_is(&b, "-ERR syntax error\r\n"));
    resp_buf_free(&b);
}

TEST(cmdtable_command_getkeys)
{
    resp_buf_t b;
    /* all captured from 7.0.15 */
    RUN(cmd_command_getkeys, 2, &b, "COMMAND", "GETKEYS", "MSET", "a", "b", "c");
    CHECK(reply_is(&b, "*2\r\n$1\r\na\r\n$1\r\nc\r\n"));
    resp_buf_free(&b);
    RUN(cmd_command_getkeys, 2, &b, "COMMAND", "GETKEYS", "rename", "src", "dst");
    CHECK(reply_is(&b, "*2\r\n$3\r\nsrc\r\n$3\r\ndst\r\n"));
    resp_buf_free(&b);
    RUN(cmd_command_getkeys, 2, &b, "COMMAND", "GETKEYS", "foo", "x");
    CHECK(reply_is(&b, "-ERR Invalid command specified\r\n"));
    resp_buf_free(&b);
    RUN(cmd_command_getkeys, 2, &b, "COMMAND", "GETKEYS", "cluster", "foo");
    CHECK(reply_is(&b, "-ERR Invalid command specified\r\n"));
    resp_buf_free(&b);
    RUN(cmd_command_getkeys, 2, &b, "COMMAND", "GETKEYS", "cluster", "keyslot", "a");
    CHECK(reply_is(&b, "-ERR The command has no key arguments\r\n"));
    resp_buf_free(&b);
    RUN(cmd_command_getkeys, 2, &b, "COMMAND", "GETKEYS", "spublish", "ch", "msg");
    CHECK(reply_is(&b, "-ERR The command has no key arguments\r\n"));
    resp_buf_free(&b);
    RUN(cmd_command_getkeys, 2, &b, "COMMAND", "GETKEYS", "get", "a", "b");
    CHECK(reply_is(&b, "-ERR Invalid number of arguments specified for command\r\n"));
    resp_buf_free(&b);
    RUN(cmd_command_getkeys, 2, &b, "COMMAND", "GETKEYS", "mset", "a");
    CHECK(reply_is(&b, "-ERR Invalid number of arguments specified for command\r\n"));
    resp_buf_free(&b);
}

TEST(cmdtable_command_help)
{
    resp_buf_t b;
    RUN(cmd_command_help, 2, &b, "COMMAND", "HELP");
    CHECK(b.len > 0 && memcmp(b.data, "*19\r\n+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n", 72) == 0);
    CHECK(b.len > 0 && memmem(b.data, b.len, "+HELP\r\n+    Prints this help.\r\n", 31) != NULL);
    resp_buf_free(&b);
}

/* Every entry is runnable and complete; every subcommand knows its parent. */
TEST(cmdtable_entries_are_well_formed)
{
    cmd_table_init();
    cmd_table_init();                             /* idempotent */
    int subcommands_seen = 0;
    for (int i = 0; i < cmd_count(); i++) {
        const cmd_def_t *c = cmd_at(i);
        REQUIRE(c && c->name);
        CHECK(c->handler != NULL || c->subcommands != NULL);
        CHECK(c->parent == NULL);
        CHECK(cmd_lookup((const uint8_t *)c->name, strlen(c->name)) == c);
        CHECK(c->arity != 0);
        CHECK(c->flag_names && c->acl_categories && c->summary && c->since && c->group);
        for (const char *p = c->name; *p; p++) CHECK(!(*p >= 'A' && *p <= 'Z'));
        for (int k = 0; k < c->keyspec_count; k++) {
            const cmd_keyspec_t *ks = &c->keyspecs[k];
            /* an unknown spec is unknown on both sides, and its keys come from getkeys */
            if (ks->bs_type == CMD_KS_UNKNOWN || ks->fk_type == CMD_KS_UNKNOWN) {
                CHECK(ks->bs_type == CMD_KS_UNKNOWN && ks->fk_type == CMD_KS_UNKNOWN && c->getkeys != NULL);
                continue;
            }
            CHECK(ks->bs_type == CMD_KS_INDEX || ks->bs_type == CMD_KS_KEYWORD);
            CHECK(ks->fk_type == CMD_KS_RANGE || ks->fk_type == CMD_KS_KEYNUM);
        }
        /* keyed placement only for commands that have keys */
        /* (LMPOP's keys come from its numkeys argument: first_key 0, as in 7.0.15) */
        if (c->exec == CMD_EXEC_KEYED) CHECK(c->first_key > 0 || (c->flags & CMD_MOVABLE_KEYS));
        if (!c->subcommands) continue;
        for (const cmd_def_t *s = c->subcommands; s->name; s++) {
            subcommands_seen++;
            CHECK(s->parent == c);
            CHECK(s->handler != NULL);
            CHECK(s->subcommands == NULL);
            CHECK(cmd_lookup_sub(c, (const uint8_t *)s->name, strlen(s->name)) == s);
            CHECK(s->summary && s->since && s->group);
        }
    }
    /* CLUSTER 27 + CLIENT 13 (UNBLOCK, TRACKING, GETREDIR, TRACKINGINFO included) + COMMAND 7 (GETKEYSANDFLAGS
     * included, as 7.0.15) + CONFIG 5 + OBJECT 5 + PUBSUB 6 + SCRIPT 6 (DEBUG, LOAD, EXISTS,
     * FLUSH, KILL, HELP) + SLOWLOG 4 + FUNCTION 9 + MEMORY 6 + ACL 13
     * + CLIENT CACHING 1 + CLIENT REPLY and NO-EVICT + LATENCY 7 + MODULE 5 + XGROUP 6 + XINFO 4 */
    CHECK_EQ_INT(subcommands_seen, 73 + 9 + 6 + 13 + 1 + 2 + 7 + 5 + 6 + 4);
    /* COMMAND alone is valid (arity -1), so it has both a handler and subcommands */
    CHECK(lookup("command")->handler == cmd_command);
    CHECK(lookup("client")->handler == NULL);
    CHECK(lookup("config")->handler == NULL);
    CHECK(lookup("debug")->handler == cmd_debug && lookup("debug")->subcommands == NULL);
}

/* Fan-out and split behaviour lives in the table entries (fanout.c only
 * drives the callbacks): every command that runs on every worker names how,
 * and no other command carries callbacks by accident. */
static bool fanout_complete(const cmd_def_t *c)
{
    const cmd_fanout_t *f = &c->fanout;
    if (f->part) return (f->reply != NULL) != (f->gather != NULL) && !(f->gather && f->merge);
    return f->start != NULL && !f->merge && !f->reply && !f->gather;
}

static bool has_fanout(const cmd_def_t *c)
{
    const cmd_fanout_t *f = &c->fanout;
    return f->start || f->part || f->merge || f->reply || f->gather;
}

/* SAVE is not among them: it takes the replication actor's cut (rdb_save.c). */
static const char *const fanout_names[] = { "scan", "keys", "randomkey", "dbsize", "flushall", "flushdb", "debug",
                                           "client|list", "client|kill", "client|unblock",
                                           "pubsub|channels", "pubsub|numpat", "pubsub|numsub",
                                           "pubsub|shardchannels", "pubsub|shardnumsub",
                                           "slowlog|get", "slowlog|len", "slowlog|reset" };
#define NFANOUT (int)(sizeof fanout_names / sizeof fanout_names[0])

/* Checks one entry; returns 1 if it carries fan-out callbacks. */
static int check_fanout_entry(const cmd_def_t *c)
{
    char name[64];
    cmd_fullname(c, name, sizeof name);
    bool listed = false;
    for (int k = 0; k < NFANOUT; k++) listed |= !strcmp(name, fanout_names[k]);
    if (c->exec == CMD_EXEC_FANOUT) CHECK(listed);
    CHECK(has_fanout(c) == listed);
    if (has_fanout(c)) CHECK(fanout_complete(c));
    return has_fanout(c) ? 1 : 0;
}

TEST(cmdtable_fanout_callbacks_in_the_entries)
{
    int seen = 0;
    cmd_table_init();
    for (int i = 0; cmd_at(i); i++) {
        seen += check_fanout_entry(cmd_at(i));
        for (const cmd_def_t *s = cmd_at(i)->subcommands; s && s->name; s++) seen += check_fanout_entry(s);
    }
    CHECK_EQ_INT(seen, NFANOUT);
    CHECK(lookup("flushall")->fanout.start && lookup("flushall")->fanout.part);
    /* SCAN checks its arguments first, then runs one part per worker. */
    CHECK(lookup("scan")->fanout.start && lookup("scan")->fanout.part && lookup("scan")->fanout.reply);
    CHECK(!has_fanout(lookup("save")));
}

TEST(cmdtable_group_args_deal_out_key_groups)
{
    cmd_table_init();
    const char *args[] = { "MSET", "k1", "v1", "k2", "v2", "k3", "v3" };
    const uint8_t *argv[7];
    size_t argvlen[7];
    for (int i = 0; i < 7; i++) { argv[i] = (const uint8_t *)args[i]; argvlen[i] = strlen(args[i]); }
    const uint8_t owner[3] = { 0, 1, 0 };
    const uint8_t *sub[7];
    size_t sublen[7];
    int n = cmd_group_args(lookup("mset"), 7, argv, argvlen, owner, 0, sub, sublen);
    REQUIRE(n == 5);
    CHECK(sub[0] == argv[0] && sub[1] == argv[1] && sub[2] == argv[2] && sub[3] == argv[5] && sub[4] == argv[6]);
    CHECK(sublen[3] == 2 && sublen[4] == 2);
    n = cmd_group_args(lookup("mset"), 7, argv, argvlen, owner, 1, sub, sublen);
    REQUIRE(n == 3);
    CHECK(sub[1] == argv[3] && sub[2] == argv[4]);
    CHECK_EQ_INT(cmd_group_args(lookup("mset"), 7, argv, argvlen, owner, 2, sub, sublen), 1);
    /* one-argument groups (DEL k k k) */
    const uint8_t del_owner[6] = { 1, 1, 0, 1, 0, 0 };
    n = cmd_group_args(lookup("del"), 7, argv, argvlen, del_owner, 1, sub, sublen);
    REQUIRE(n == 4);
    CHECK(sub[1] == argv[1] && sub[2] == argv[2] && sub[3] == argv[4]);
}

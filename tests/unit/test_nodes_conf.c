/* test_nodes_conf.c - unit tests for proto/nodes_conf.c: the verified samples
 * of docs/cluster-bus.md §5.19 and docs/clients.md §3.2 parse into the
 * expected fields and format back byte for byte; every loading error is
 * reported with its code and line; the formatter's flag order, slot runs and
 * snprintf-like contract hold. Must never depend on anything but proto/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "proto/nodes_conf.h"

#define ID_7200 "047e1df3895b51fb6338466380f9edb883aea0ad"
#define ID_7201 "d47f125cabe4c1110e6becc8f4d3647dd32705f5"
#define ID_7202 "e8be23721e98e596d25a99637dc94f91117f755b"
#define ID_7203 "7becb95c5ac2ccd92bf4663c18e032383ff8a2c3"
#define ID_7204 "3f9da464af0f90e721832aa00fc443af43936b03"
#define ID_7205 "77e16925d768fdee06720baed44933091608c821"
#define ID_FRESH "b9916bc30d83bff667e7f36c42c253164570cf8d"

static nodes_conf_result_t parse_str(const char *s, nodes_conf_t *c, nodes_conf_error_t *e)
{
    return nodes_conf_parse((const uint8_t *)s, strlen(s), c, e);
}

/* Parses s, formats it and checks the bytes are identical. */
static void check_round_trip_exact(const char *s)
{
    nodes_conf_t c;
    nodes_conf_error_t e;
    nodes_conf_result_t r = parse_str(s, &c, &e);
    if (r != NODES_CONF_OK) unit_fail(__FILE__, __LINE__, e.message);
    REQUIRE(r == NODES_CONF_OK);
    size_t len = 0;
    char *out = nodes_conf_format(&c, &len);
    REQUIRE(out != NULL);
    CHECK_EQ_INT(len, strlen(s));
    CHECK_EQ_STR(out, s);
    free(out);
    nodes_conf_free(&c);
}

static int count_slots(const nodes_conf_node_t *n)
{
    int k = 0;
    for (unsigned s = 0; s < SLOT_COUNT; s++) k += nodes_conf_slot_test(n, s);
    return k;
}

static const char sample_5_19[] =
    "63e982754b560b53e17569813f12b749acdbd83a 127.0.0.1:7101@17101,node-b.test master - 0 1795593134214 2 connected 8-9\n"
    "b9916bc30d83bff667e7f36c42c253164570cf8d 127.0.0.1:7100@17100 myself,master - 0 0 1 connected 0-5 16383\n"
    "vars currentEpoch 2 lastVoteEpoch 0\n";

TEST(nodes_conf_parse_spec_sample)
{
    nodes_conf_t c;
    nodes_conf_error_t e;
    REQUIRE(parse_str(sample_5_19, &c, &e) == NODES_CONF_OK);
    REQUIRE(c.node_count == 2);
    const nodes_conf_node_t *b = &c.nodes[0], *a = &c.nodes[1];
    CHECK_EQ_STR(b->name, "63e982754b560b53e17569813f12b749acdbd83a");
    CHECK_EQ_STR(b->ip, "127.0.0.1");
    CHECK_EQ_INT(b->port, 7101);
    CHECK_EQ_INT(b->cport, 17101);
    CHECK_EQ_STR(b->hostname, "node-b.test");
    CHECK_EQ_INT(b->flags, NODES_CONF_FLAG_MASTER);
    CHECK_EQ_STR(b->master, "");
    CHECK_EQ_INT(b->ping_sent, 0);
    CHECK_EQ_INT(b->pong_received, 1795593134214LL);
    CHECK_EQ_INT(b->config_epoch, 2);
    CHECK(b->connected);
    CHECK_EQ_INT(count_slots(b), 2);
    CHECK(nodes_conf_slot_test(b, 8) && nodes_conf_slot_test(b, 9));
    CHECK_EQ_INT(b->slots[1], 0x03);   /* bus bitmap order: slots 8-9 = byte 1 0x03 (§2.3) */
    CHECK_EQ_INT(a->flags, NODES_CONF_FLAG_MYSELF | NODES_CONF_FLAG_MASTER);
    CHECK_EQ_STR(a->hostname, "");
    CHECK_EQ_INT(count_slots(a), 7);
    CHECK_EQ_INT(a->slots[0], 0x3f);
    CHECK_EQ_INT(a->slots[2047], 0x80);
    CHECK_EQ_INT(c.myself, 1);
    CHECK_EQ_INT(c.current_epoch, 2);
    CHECK_EQ_INT(c.last_vote_epoch, 0);
    CHECK_EQ_INT(c.warning_count, 0);
    CHECK_EQ_INT(nodes_conf_max_epoch(&c), 2);
    nodes_conf_free(&c);
    check_round_trip_exact(sample_5_19);
}

static const char appendix_c_7200[] =
    ID_7200 " 127.0.0.1:7200@17200 myself,master - 0 1795593191000 1 connected 0-5460\n"
    ID_7201 " 127.0.0.1:7201@17201 master - 0 1795593191447 2 connected 5461-10922\n"
    ID_7203 " 127.0.0.1:7203@17203 slave " ID_7202 " 0 1795593191949 3 connected\n"
    ID_7202 " 127.0.0.1:7202@17202 master - 0 1795593190000 3 connected 10923-16383\n"
    ID_7205 " 127.0.0.1:7205@17205 slave " ID_7201 " 0 1795593190944 2 connected\n"
    ID_7204 " 127.0.0.1:7204@17204 slave " ID_7200 " 0 1795593191000 1 connected\n"
    "vars currentEpoch 6 lastVoteEpoch 0\n";

static const char appendix_c_7203[] =
    ID_7203 " 127.0.0.1:7203@17203 myself,slave " ID_7202 " 0 1795593191000 3 connected\n"
    ID_7200 " 127.0.0.1:7200@17200 master - 0 1795593191600 1 connected 0-5460\n"
    ID_7202 " 127.0.0.1:7202@17202 master - 0 1795593190598 3 connected 10923-16383\n"
    ID_7204 " 127.0.0.1:7204@17204 slave " ID_7200 " 0 1795593191000 1 connected\n"
    ID_7201 " 127.0.0.1:7201@17201 master - 0 1795593191000 2 connected 5461-10922\n"
    ID_7205 " 127.0.0.1:7205@17205 slave " ID_7201 " 0 1795593192002 2 connected\n"
    "vars currentEpoch 6 lastVoteEpoch 3\n";

TEST(nodes_conf_parse_appendix_c)
{
    nodes_conf_t c;
    nodes_conf_error_t e;
    REQUIRE(parse_str(appendix_c_7200, &c, &e) == NODES_CONF_OK);
    REQUIRE(c.node_count == 6);
    CHECK_EQ_INT(c.myself, 0);
    CHECK_EQ_INT(count_slots(&c.nodes[0]), 5461);
    CHECK_EQ_INT(count_slots(&c.nodes[1]), 5462);
    CHECK_EQ_INT(count_slots(&c.nodes[3]), 5461);
    CHECK_EQ_STR(c.nodes[2].master, ID_7202);
    CHECK_EQ_INT(c.nodes[2].flags, NODES_CONF_FLAG_SLAVE);
    CHECK_EQ_INT(c.nodes[2].config_epoch, 3);
    CHECK_EQ_INT(count_slots(&c.nodes[2]), 0);
    CHECK_EQ_INT(c.current_epoch, 6);
    nodes_conf_free(&c);
    check_round_trip_exact(appendix_c_7200);

    REQUIRE(parse_str(appendix_c_7203, &c, &e) == NODES_CONF_OK);
    CHECK_EQ_INT(c.myself, 0);
    CHECK_EQ_INT(c.nodes[0].flags, NODES_CONF_FLAG_MYSELF | NODES_CONF_FLAG_SLAVE);
    CHECK_EQ_INT(c.last_vote_epoch, 3);
    nodes_conf_free(&c);
    check_round_trip_exact(appendix_c_7203);
}

/* Written by a real redis-server 7.0.15 (cluster-announce-hostname set, a
 * MIGRATING and two IMPORTING slots) while this module was written. */
static const char real_7_0_15[] =
    "b94b9a5c1266d98d47bd6aad381b9dd059ae5605 127.0.0.1:20743@30743,node-a.test myself,master - 0 0 2 connected 0-100 102-5000 16383"
    " [50->-92d0b2cbcf19571ccab118403072b044151a3c27] [8000-<-92d0b2cbcf19571ccab118403072b044151a3c27]"
    " [9000-<-92d0b2cbcf19571ccab118403072b044151a3c27]\n"
    "92d0b2cbcf19571ccab118403072b044151a3c27 127.0.0.1:20744@30744 master - 0 1795598648653 1 connected 101 6000-7000\n"
    "vars currentEpoch 2 lastVoteEpoch 0\n";

TEST(nodes_conf_real_server_file)
{
    nodes_conf_t c;
    nodes_conf_error_t e;
    REQUIRE(parse_str(real_7_0_15, &c, &e) == NODES_CONF_OK);
    REQUIRE(c.node_count == 2);
    CHECK_EQ_INT(c.nodes[0].cport, 30743);
    CHECK_EQ_STR(c.nodes[0].hostname, "node-a.test");
    CHECK_EQ_INT(c.nodes[0].open_slot_count, 3);
    CHECK_EQ_INT(count_slots(&c.nodes[0]), 101 + 4899 + 1);
    CHECK_EQ_INT(count_slots(&c.nodes[1]), 1 + 1001);
    nodes_conf_free(&c);
    check_round_trip_exact(real_7_0_15);
}

/* One CLUSTER NODES line in, the same line out (the myself line keeps its
 * open-slot annotations). */
static void check_line_round_trip(const char *line)
{
    char file[1024];
    snprintf(file, sizeof file, "%s\nvars currentEpoch 0 lastVoteEpoch 0\n", line);
    nodes_conf_t c;
    nodes_conf_error_t e;
    nodes_conf_result_t r = parse_str(file, &c, &e);
    if (r != NODES_CONF_OK) unit_fail(__FILE__, __LINE__, e.message);
    REQUIRE(r == NODES_CONF_OK);
    char out[1024];
    size_t n = nodes_conf_format_line(out, sizeof out, &c.nodes[0], true);
    CHECK_EQ_INT(n, strlen(line));
    CHECK_EQ_STR(out, line);
    nodes_conf_free(&c);
}

TEST(nodes_conf_other_line_shapes)
{
    check_line_round_trip(ID_7202 " 127.0.0.1:7202@17202 myself,master - 0 1795593291000 3 connected 10923-16383 [12182->-" ID_7200 "]");
    check_line_round_trip(ID_7200 " 127.0.0.1:7200@17200 myself,master - 0 1795593295000 7 connected 0-5460 [12182-<-" ID_7202 "]");
    check_line_round_trip(ID_7200 " 127.0.0.1:7200@17200 myself,master - 0 1795593381653 9 connected 0 2-5461 12182");
    check_line_round_trip("feefde58d768fdee06720baed44933091608c821 127.0.0.1:7206@17206 myself,master - 0 0 0 connected");
    check_line_round_trip("ac1abb9b5ac2ccd92bf4663c18e032383ff8a2c3 :7307@17307,node7.example myself,master - 0 0 0 connected 0-4 6-16383");
    check_line_round_trip(ID_7204 " 127.0.0.1:7204@17204 myself,slave,fail?,nofailover " ID_7200 " 5 6 1 disconnected");

    nodes_conf_t c;
    nodes_conf_error_t e;
    REQUIRE(parse_str("ac1abb9b5ac2ccd92bf4663c18e032383ff8a2c3 :7307@17307,node7.example myself,master - 0 0 0 connected 0-4 6-16383\n",
                      &c, &e) == NODES_CONF_OK);
    CHECK_EQ_STR(c.nodes[0].ip, "");
    CHECK_EQ_INT(c.nodes[0].port, 7307);
    CHECK_EQ_STR(c.nodes[0].hostname, "node7.example");
    CHECK_EQ_INT(count_slots(&c.nodes[0]), 16383);
    CHECK(!nodes_conf_slot_test(&c.nodes[0], 5));
    nodes_conf_free(&c);

    REQUIRE(parse_str(ID_7202 " 127.0.0.1:7202@17202 myself,master - 0 1 3 connected [12182->-" ID_7200 "] [7-<-" ID_7201 "]\n",
                      &c, &e) == NODES_CONF_OK);
    REQUIRE(c.nodes[0].open_slot_count == 2);
    CHECK_EQ_INT(c.nodes[0].open_slots[0].slot, 7);          /* sorted by slot */
    CHECK(c.nodes[0].open_slots[0].importing);
    CHECK_EQ_STR(c.nodes[0].open_slots[0].peer, ID_7201);
    CHECK_EQ_INT(c.nodes[0].open_slots[1].slot, 12182);
    CHECK(!c.nodes[0].open_slots[1].importing);
    CHECK_EQ_INT(count_slots(&c.nodes[0]), 0);
    nodes_conf_free(&c);
}

TEST(nodes_conf_fresh_node_file)
{
    const char *fresh = ID_FRESH " :0@0 myself,master - 0 0 0 connected\nvars currentEpoch 0 lastVoteEpoch 0\n";
    nodes_conf_t c;
    nodes_conf_error_t e;
    REQUIRE(parse_str(fresh, &c, &e) == NODES_CONF_OK);
    REQUIRE(c.node_count == 1);
    CHECK_EQ_STR(c.nodes[0].ip, "");
    CHECK_EQ_INT(c.nodes[0].port, 0);
    CHECK_EQ_INT(c.nodes[0].cport, 0);
    CHECK(c.nodes[0].connected);
    nodes_conf_free(&c);
    check_round_trip_exact(fresh);
}

TEST(nodes_conf_lenient_input)
{
    nodes_conf_t c;
    nodes_conf_error_t e;
    /* 7.0 in-place writer padding, blank and whitespace-only lines, CRLF,
     * a quoted field, upper-case flags and vars keys, no final newline,
     * missing @cport, IPv6 with the last ':' splitting the port. */
    const char *s =
        "\n"
        "   \t\n"
        ID_7200 " \"::1:7000\" MYSELF,Master - 0 0 4 connected 0\r\n"
        ID_7201 " 10.0.0.1:30001@40001 noflags - 0 0 0 disconnected\n"
        "VARS currentepoch 9 LastVoteEpoch 7\n"
        "\n\n\n\n";
    REQUIRE(parse_str(s, &c, &e) == NODES_CONF_OK);
    REQUIRE(c.node_count == 2);
    CHECK_EQ_STR(c.nodes[0].ip, "::1");
    CHECK_EQ_INT(c.nodes[0].port, 7000);
    CHECK_EQ_INT(c.nodes[0].cport, 17000);
    CHECK_EQ_INT(c.nodes[0].flags, NODES_CONF_FLAG_MYSELF | NODES_CONF_FLAG_MASTER);
    CHECK_EQ_INT(c.nodes[1].flags, 0);
    CHECK(!c.nodes[1].connected);
    CHECK_EQ_INT(c.current_epoch, 9);
    CHECK_EQ_INT(c.last_vote_epoch, 7);
    nodes_conf_free(&c);

    /* Unknown vars keys are skipped with a warning; a 7.2-style address keeps
     * the hostname and skips the aux fields with a warning. */
    s = ID_7200 " 127.0.0.1:30001@40001,,shard-id=abc,tcp-port=30001 myself,master - 0 0 0 connected\n"
        "vars currentEpoch 3 color blue lastVoteEpoch 1\n";
    REQUIRE(parse_str(s, &c, &e) == NODES_CONF_OK);
    CHECK_EQ_STR(c.nodes[0].hostname, "");
    CHECK_EQ_INT(c.nodes[0].cport, 40001);
    CHECK_EQ_INT(c.current_epoch, 3);
    CHECK_EQ_INT(c.last_vote_epoch, 1);
    REQUIRE(c.warning_count == 2);
    CHECK_EQ_INT(c.warnings[0].line, 1);
    CHECK_EQ_INT(c.warnings[1].line, 2);
    CHECK(strstr(c.warnings[1].message, "'color'") != NULL);
    nodes_conf_free(&c);

    /* Repeated open slot: the last one wins, as Redis's per-slot table. */
    s = ID_7200 " :1@2 myself,master - 0 0 0 connected [5->-" ID_7201 "] [5->-" ID_7202 "]\n";
    REQUIRE(parse_str(s, &c, &e) == NODES_CONF_OK);
    REQUIRE(c.nodes[0].open_slot_count == 1);
    CHECK_EQ_STR(c.nodes[0].open_slots[0].peer, ID_7202);
    nodes_conf_free(&c);
}

/* Expects parse(s) to fail with `code` on `line`, with a Redis-like message. */
static void check_error(const char *s, size_t len, nodes_conf_result_t code, int line, int at)
{
    nodes_conf_t c;
    nodes_conf_error_t e;
    nodes_conf_result_t r = nodes_conf_parse((const uint8_t *)s, len, &c, &e);
    if (r != code || e.line != line) {
        char m[400];
        snprintf(m, sizeof m, "case at line %d: got code %d line %d (%s), want code %d line %d",
                 at, (int)r, e.line, e.message, (int)code, line);
        unit_fail(__FILE__, at, m);
    }
    CHECK_EQ_INT(e.code, code);
    if (code != NODES_CONF_EMPTY)
        CHECK(strncmp(e.message, "Unrecoverable error: corrupted cluster config file", 50) == 0);
    CHECK(c.nodes == NULL && c.node_count == 0);   /* nothing left to free */
}
#define ERR(s, code, line) check_error((s), strlen(s), (code), (line), __LINE__)

#define GOOD_MYSELF ID_7200 " 127.0.0.1:7200@17200 myself,master - 0 0 1 connected 0-5460\n"
#define GOOD_OTHER  ID_7201 " 127.0.0.1:7201@17201 master - 0 0 2 connected 5461-10922\n"
#define VARS        "vars currentEpoch 2 lastVoteEpoch 0\n"

TEST(nodes_conf_errors_with_line_numbers)
{
    ERR("", NODES_CONF_EMPTY, 0);
    ERR(GOOD_MYSELF "047E1DF3895B51FB6338466380F9EDB883AEA0AD 127.0.0.1:1@2 master - 0 0 0 connected\n",
        NODES_CONF_ERR_NAME, 2);
    ERR(GOOD_MYSELF "047e1df3 127.0.0.1:1@2 master - 0 0 0 connected\n", NODES_CONF_ERR_NAME, 2);
    ERR(GOOD_MYSELF GOOD_OTHER ID_7202 " 127.0.0.1:1@2 master,bogus - 0 0 0 connected\n", NODES_CONF_ERR_FLAG, 3);
    ERR(GOOD_MYSELF ID_7202 " 127.0.0.1:1@2 master,,slave - 0 0 0 connected\n", NODES_CONF_ERR_FLAG, 2);
    ERR(GOOD_MYSELF ID_7202 " 127.0.0.1:1@2 master - 0 0 0\n", NODES_CONF_ERR_FIELDS, 2);
    ERR(GOOD_MYSELF "\n" ID_7202 " 127.0.0.1:1@2 master - 0 0 0 connected abc\n", NODES_CONF_ERR_SLOT, 3);
    ERR(GOOD_MYSELF ID_7202 " 127.0.0.1:1@2 master - 0 0 0 connected 16384\n", NODES_CONF_ERR_SLOT, 2);
    ERR(GOOD_MYSELF ID_7202 " 127.0.0.1:1@2 master - 0 0 0 connected 0-16384\n", NODES_CONF_ERR_SLOT, 2);
    ERR(GOOD_MYSELF ID_7202 " 127.0.0.1:1@2 master - 0 0 0 connected 10-5\n", NODES_CONF_ERR_SLOT, 2);
    ERR(GOOD_MYSELF ID_7202 " 127.0.0.1:1@2 master - 0 0 0 connected 5-\n", NODES_CONF_ERR_SLOT, 2);
    ERR(GOOD_MYSELF ID_7202 " 127.0.0.1:1@2 master - 0 0 0 connected [16384->-" ID_7200 "]\n", NODES_CONF_ERR_SLOT, 2);
    ERR(GOOD_MYSELF ID_7202 " 127.0.0.1:1@2 master - 0 0 0 connected [5-=-" ID_7200 "]\n", NODES_CONF_ERR_SLOT, 2);
    ERR(GOOD_MYSELF ID_7202 " 127.0.0.1:1@2 master - 0 0 0 connected [5->-" ID_7200 "\n", NODES_CONF_ERR_SLOT, 2);
    ERR(GOOD_MYSELF ID_7201 " 127.0.0.1:1@2 myself,slave " ID_7200 " 0 0 0 connected\n", NODES_CONF_ERR_MYSELF, 2);
    ERR(GOOD_OTHER VARS, NODES_CONF_ERR_MYSELF, 0);
    ERR("\n\n", NODES_CONF_ERR_MYSELF, 0);
    ERR(GOOD_MYSELF "vars currentEpoch 2 lastVoteEpoch\n", NODES_CONF_ERR_VARS, 2);
    ERR(GOOD_MYSELF "vars currentEpoch two\n", NODES_CONF_ERR_VARS, 2);
    ERR(GOOD_MYSELF "vars currentEpoch 18446744073709551616\n", NODES_CONF_ERR_VARS, 2);
    ERR(GOOD_MYSELF GOOD_OTHER GOOD_OTHER, NODES_CONF_ERR_DUPLICATE, 3);
    ERR(GOOD_MYSELF ID_7201 " 127.0.0.1:1@2 slave " ID_7201 " 0 0 0 connected\n", NODES_CONF_ERR_MASTER, 2);
    ERR(GOOD_MYSELF ID_7201 " 127.0.0.1:1@2 slave nobody 0 0 0 connected\n", NODES_CONF_ERR_MASTER, 2);
    ERR(GOOD_MYSELF ID_7201 " 127.0.0.1:1@2 master - x 0 0 connected\n", NODES_CONF_ERR_NUMBER, 2);
    ERR(GOOD_MYSELF ID_7201 " 127.0.0.1:1@2 master - 0 -1 0 connected\n", NODES_CONF_ERR_NUMBER, 2);
    ERR(GOOD_MYSELF ID_7201 " 127.0.0.1:70000@2 master - 0 0 0 connected\n", NODES_CONF_ERR_ADDRESS, 2);
    ERR(GOOD_MYSELF ID_7201 " 127.0.0.1:60000 master - 0 0 0 connected\n", NODES_CONF_ERR_ADDRESS, 2);
    ERR(GOOD_MYSELF ID_7201 " 127.0.0.1 master - 0 0 0 connected\n", NODES_CONF_ERR_ADDRESS, 2);
    ERR(GOOD_MYSELF ID_7201 " 127.0.0.1:1@ master - 0 0 0 connected\n", NODES_CONF_ERR_ADDRESS, 2);
    ERR(GOOD_MYSELF ID_7201 " \"127.0.0.1:1@2 master - 0 0 0 connected\n", NODES_CONF_ERR_QUOTING, 2);
    ERR(GOOD_MYSELF ID_7201 " \"127.0.0.1:1@2\"x master - 0 0 0 connected\n", NODES_CONF_ERR_QUOTING, 2);
    ERR(GOOD_MYSELF ID_7201 " '127.0.0.1:1@2 master - 0 0 0 connected\n", NODES_CONF_ERR_QUOTING, 2);
    /* garbage binary: a NUL byte, and high bytes with no NUL */
    static const char bin[] = GOOD_MYSELF "\x01\x00\xff\xfe\n";
    check_error(bin, sizeof bin - 1, NODES_CONF_ERR_BINARY, 2, __LINE__);
    ERR(GOOD_MYSELF "\xff\xfe\x80\x81\x01\x02 \x7f\n", NODES_CONF_ERR_FIELDS, 2);
    ERR("\x89PNG\r\n\x1a\n", NODES_CONF_ERR_FIELDS, 1);
}

TEST(nodes_conf_format_flags_and_fields)
{
    nodes_conf_node_t n;
    memset(&n, 0, sizeof n);
    strcpy(n.name, ID_7200);
    strcpy(n.ip, "10.1.2.3");
    n.port = 6379;
    n.cport = 16379;
    n.flags = 0xffff;   /* MEET, MIGRATE_TO and unknown bits must not show */
    strcpy(n.master, ID_7201);
    n.ping_sent = 11;
    n.pong_received = 22;
    n.config_epoch = UINT64_MAX;
    char out[512];
    size_t len = nodes_conf_format_line(out, sizeof out, &n, false);
    const char *want = ID_7200 " 10.1.2.3:6379@16379 myself,master,slave,fail?,fail,handshake,noaddr,nofailover "
                       ID_7201 " 11 22 18446744073709551615 disconnected";
    CHECK_EQ_STR(out, want);
    CHECK_EQ_INT(len, strlen(want));

    n.flags = NODES_CONF_FLAG_MEET | NODES_CONF_FLAG_MIGRATE_TO;
    n.master[0] = '\0';
    n.connected = true;
    n.config_epoch = 0;
    nodes_conf_format_line(out, sizeof out, &n, false);
    CHECK_EQ_STR(out, ID_7200 " 10.1.2.3:6379@16379 noflags - 11 22 0 connected");

    /* snprintf contract: measure with NULL/0, truncate with a NUL */
    size_t need = nodes_conf_format_line(NULL, 0, &n, false);
    CHECK_EQ_INT(need, strlen(out));
    char small[11];
    memset(small, 'Z', sizeof small);
    CHECK_EQ_INT(nodes_conf_format_line(small, sizeof small, &n, false), need);
    CHECK_EQ_STR(small, "047e1df389");

    /* open slots only when asked; migrating wins over importing on one slot */
    nodes_conf_open_slot_t open[3] = {
        {.slot = 5, .importing = false, .peer = ID_7201},
        {.slot = 5, .importing = true, .peer = ID_7202},
        {.slot = 9, .importing = true, .peer = ID_7202},
    };
    n.open_slots = open;
    n.open_slot_count = 3;
    nodes_conf_slot_set(&n, 1);
    nodes_conf_format_line(out, sizeof out, &n, false);
    CHECK_EQ_STR(out, ID_7200 " 10.1.2.3:6379@16379 noflags - 11 22 0 connected 1");
    nodes_conf_format_line(out, sizeof out, &n, true);
    CHECK_EQ_STR(out, ID_7200 " 10.1.2.3:6379@16379 noflags - 11 22 0 connected 1 [5->-" ID_7201 "] [9-<-" ID_7202 "]");
}

TEST(nodes_conf_format_slot_runs)
{
    static nodes_conf_node_t n;
    memset(&n, 0, sizeof n);
    strcpy(n.name, ID_7200);
    size_t base = nodes_conf_format_line(NULL, 0, &n, false);
    char *out = malloc(200000);
    REQUIRE(out != NULL);

    memset(n.slots, 0xff, sizeof n.slots);
    nodes_conf_format_line(out, 200000, &n, false);
    CHECK_EQ_STR(out + base, " 0-16383");

    /* runs crossing 64-slot word boundaries, single slots at both ends */
    memset(n.slots, 0, sizeof n.slots);
    nodes_conf_slot_set(&n, 0);
    for (unsigned s = 63; s <= 128; s++) nodes_conf_slot_set(&n, s);
    nodes_conf_slot_set(&n, 130);
    for (unsigned s = 8000; s <= 16382; s++) nodes_conf_slot_set(&n, s);
    nodes_conf_format_line(out, 200000, &n, false);
    CHECK_EQ_STR(out + base, " 0 63-128 130 8000-16382");
    nodes_conf_slot_set(&n, 16383);
    nodes_conf_format_line(out, 200000, &n, false);
    CHECK_EQ_STR(out + base, " 0 63-128 130 8000-16383");

    /* every other slot: 8192 single items; parse it back */
    memset(n.slots, 0x55, sizeof n.slots);
    size_t len = nodes_conf_format_line(out, 200000, &n, true);
    CHECK(strncmp(out + base, " 0 2 4 6 8 10", 13) == 0);
    CHECK(len > 8192 * 2);
    CHECK(strcmp(out + len - 12, " 16380 16382") == 0);
    free(out);

    /* a whole file with one big line parses back to the same bitmap */
    nodes_conf_t c = {0};
    memset(&n, 0, sizeof n);
    strcpy(n.name, ID_7200);
    n.flags = NODES_CONF_FLAG_MYSELF | NODES_CONF_FLAG_MASTER;
    memset(n.slots, 0x55, sizeof n.slots);
    c.nodes = &n;
    c.node_count = 1;
    size_t flen;
    char *file = nodes_conf_format(&c, &flen);
    REQUIRE(file != NULL);
    nodes_conf_t back;
    nodes_conf_error_t e;
    REQUIRE(nodes_conf_parse((const uint8_t *)file, flen, &back, &e) == NODES_CONF_OK);
    CHECK_MEM(back.nodes[0].slots, n.slots, sizeof n.slots);
    nodes_conf_free(&back);
    free(file);
}

TEST(nodes_conf_format_file)
{
    nodes_conf_node_t nodes[3];
    memset(nodes, 0, sizeof nodes);
    strcpy(nodes[0].name, ID_7200);
    nodes[0].flags = NODES_CONF_FLAG_MASTER;
    nodes[0].port = 1; nodes[0].cport = 2;
    strcpy(nodes[1].name, ID_7201);
    nodes[1].flags = NODES_CONF_FLAG_HANDSHAKE;         /* never written */
    strcpy(nodes[2].name, ID_7202);
    nodes[2].flags = NODES_CONF_FLAG_MYSELF | NODES_CONF_FLAG_MASTER;
    nodes[2].connected = true;
    nodes_conf_open_slot_t open = {.slot = 3, .importing = true, .peer = ID_7200};
    nodes[2].open_slots = &open;
    nodes[2].open_slot_count = 1;
    nodes[0].open_slots = &open;                          /* not myself: not printed */
    nodes[0].open_slot_count = 1;
    nodes_conf_t c = {.nodes = nodes, .node_count = 3, .current_epoch = 12, .last_vote_epoch = 11};
    size_t len;
    char *file = nodes_conf_format(&c, &len);
    REQUIRE(file != NULL);
    const char *want = ID_7200 " :1@2 master - 0 0 0 disconnected\n"
                       ID_7202 " :0@0 myself,master - 0 0 0 connected [3-<-" ID_7200 "]\n"
                       "vars currentEpoch 12 lastVoteEpoch 11\n";
    CHECK_EQ_STR(file, want);
    CHECK_EQ_INT(len, strlen(file));
    free(file);

    /* the growable-buffer variant appends line + "\n" each time */
    char *buf = NULL;
    size_t blen = 0, bcap = 0;
    for (int i = 0; i < 50; i++)
        REQUIRE(nodes_conf_append_line(&buf, &blen, &bcap, &nodes[0], false));
    CHECK_EQ_INT(blen, 50 * strlen(ID_7200 " :1@2 master - 0 0 0 disconnected\n"));
    CHECK(bcap >= blen);
    CHECK(memcmp(buf + blen - 34, " :1@2 master - 0 0 0 disconnected\n", 34) == 0);
    free(buf);
}

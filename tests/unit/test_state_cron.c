/* test_state_cron.c - the state actor's 100 ms cron (actors/state/state_cron.c,
 * docs/cluster-bus.md §5.10) run once on a fresh state_t: PFAIL after
 * node_timeout without an answer (and the PINGs that fetch other masters'
 * reports at once), reconnects, handshake timeouts, stale-link recycling and
 * keep-alive PINGs, asserted on the node table and the outbox.
 */
#include "actors/config/config.h"
#include "tests/unit/state_fixture.h"

/* B (2), C (3): linked masters that answered just now. */
static state_t *cluster(long long now)
{
    state_t *st = fx_fresh(1);
    for (unsigned n = 2; n <= 3; n++) {
        int k = fx_add(st, n, NODE_MASTER, true);
        st->nodes[k].pong_received_ms = now;
        st->nodes[k].data_received_ms = now;
        st->nodes[k].out_link_ctime_ms = now;
    }
    st->size = 3;                      /* three masters serving slots: FAIL needs 2 of us */
    return st;
}

/* A PING unanswered for longer than node_timeout (and no other data from the
 * node) makes it PFAIL; every other reachable master gets a PING at once. */
TEST(cron_marks_pfail_after_node_timeout)
{
    long long now = rt_now_ms();
    state_t *st = cluster(now);
    long long nt = config_cluster_node_timeout();   /* the default, as cluster() reset it */
    st->nodes[1].ping_sent_ms = now - nt - 1000;
    st->nodes[1].data_received_ms = now - nt - 1000;
    state_tick(st);
    CHECK(st->nodes[1].flags & NODE_PFAIL);
    CHECK(!(st->nodes[2].flags & NODE_PFAIL));
    CHECK_EQ_INT(fx_out_count(st, STATE_OUT_SEND, 1003), 1);     /* C: fetch its report now */
    CHECK_EQ_INT(fx_out_count(st, STATE_OUT_SEND, 1002), 0);     /* not the suspect */
    CHECK_EQ_INT(fx_out_type(st, BUS_PING), 1);

    /* C reported B already: the quorum (C and us) is checked at once, B is FAIL */
    st = cluster(now);
    st->nodes[1].ping_sent_ms = now - nt - 1000;
    st->nodes[1].data_received_ms = now - nt - 1000;
    bus_header_t h;
    bus_gossip_t g;
    bus_msg_t m;
    fx_header(st, 2, &h);
    fx_entry(st, 1, NODE_MASTER | NODE_PFAIL, &g);
    REQUIRE(fx_ping(BUS_PING, &h, &g, 1, &m));
    fx_apply(st, 2003, false, &m);
    REQUIRE(st->nodes[1].nreports == 1);
    CHECK(!(st->nodes[1].flags & (NODE_PFAIL | NODE_FAIL)));   /* not suspected here yet */
    state_tick(st);
    CHECK(st->nodes[1].flags & NODE_FAIL);
    CHECK_EQ_INT(fx_out_type(st, BUS_FAIL), 2);                 /* to B and C */

    /* data received lately keeps it out of PFAIL, however old the PING */
    st = cluster(now);
    st->nodes[1].ping_sent_ms = now - nt - 1000;
    state_tick(st);
    CHECK(!(st->nodes[1].flags & NODE_PFAIL));
}

/* A record with an address and no link gets one (a CONNECT under the id it
 * now holds); an address-less one does not. */
TEST(cron_connects_records_without_a_link)
{
    long long now = rt_now_ms();
    state_t *st = cluster(now);
    int d = fx_add(st, 4, NODE_MASTER, false);
    st->nodes[d].pong_received_ms = now;
    int e = fx_add(st, 5, NODE_MASTER | NODE_NOADDR, false);
    state_tick(st);
    REQUIRE(fx_out_count(st, STATE_OUT_CONNECT, 0) == 1);
    CHECK(st->nodes[d].out_link != 0);
    CHECK_EQ_INT(fx_out_count(st, STATE_OUT_CONNECT, st->nodes[d].out_link), 1);
    CHECK(st->nodes[e].out_link == 0);
    for (int i = 0; i < st->out.nops; i++)
        if (st->out.ops[i].kind == STATE_OUT_CONNECT) {
            CHECK_EQ_STR(st->out.ops[i].ip, st->nodes[d].ip);
            CHECK_EQ_INT(st->out.ops[i].port, st->nodes[d].cport);
        }
}

/* A handshake that did not complete within max(node_timeout, 1 s) is
 * forgotten, its link closed; a younger one stays. */
TEST(cron_forgets_timed_out_handshakes)
{
    long long now = rt_now_ms();
    state_t *st = cluster(now);
    long long nt = config_cluster_node_timeout();
    long long limit = nt > 1000 ? nt : 1000;
    char old[NODE_NAME_LEN + 1], young[NODE_NAME_LEN + 1];
    fx_name(old, 0x100);
    fx_name(young, 0x101);
    int k = state_add_node(st, old, NODE_HANDSHAKE | NODE_MEET);
    st->nodes[k].ctime_ms = now - limit - 100;
    st->nodes[k].out_link = 700;
    k = state_add_node(st, young, NODE_HANDSHAKE | NODE_MEET);
    st->nodes[k].ctime_ms = now;
    st->nodes[k].out_link = 701;
    state_tick(st);
    CHECK_EQ_INT(state_find(st, old, NODE_NAME_LEN), -1);
    CHECK(state_find(st, young, NODE_NAME_LEN) >= 0);
    CHECK_EQ_INT(fx_out_count(st, STATE_OUT_CLOSE, 700), 1);
    CHECK_EQ_INT(fx_out_count(st, STATE_OUT_CLOSE, 701), 0);
}

/* A link older than node_timeout whose PING waits for more than half of it,
 * with nothing else heard, is closed (to be reopened next tick) although the
 * node is not suspected yet. */
TEST(cron_recycles_a_silent_link)
{
    long long now = rt_now_ms();
    state_t *st = cluster(now);
    long long nt = config_cluster_node_timeout();   /* the default, as cluster() reset it */
    st->nodes[1].out_link_ctime_ms = now - nt - 100;
    st->nodes[1].ping_sent_ms = now - nt / 2 - 100;
    st->nodes[1].data_received_ms = now - nt / 2 - 100;
    state_tick(st);
    CHECK_EQ_INT(fx_out_count(st, STATE_OUT_CLOSE, 1002), 1);
    CHECK(st->nodes[1].out_link == 0);
    CHECK(!st->nodes[1].link_connected);
    CHECK(!(st->nodes[1].flags & NODE_PFAIL));
}

/* Nothing heard for half of node_timeout and no PING pending: a PING goes
 * out and is noted as pending. */
TEST(cron_pings_a_node_not_heard_for_half_the_timeout)
{
    long long now = rt_now_ms();
    state_t *st = cluster(now);
    long long nt = config_cluster_node_timeout();   /* the default, as cluster() reset it */
    st->nodes[2].pong_received_ms = now - nt / 2 - 100;
    state_tick(st);
    CHECK_EQ_INT(fx_out_count(st, STATE_OUT_SEND, 1003), 1);
    CHECK_EQ_INT(fx_out_count(st, STATE_OUT_SEND, 1002), 0);
    CHECK(st->nodes[2].ping_sent_ms >= now);
    uint64_t link;
    bus_msg_t m;
    REQUIRE(fx_out_frame(st, 0, &link, &m));
    CHECK_EQ_INT(m.hdr.type, BUS_PING);
}

/* About once a second (every tenth tick) one record from a random sample of
 * five gets a PING; never on the other ticks, never myself. */
TEST(cron_pings_one_sampled_record_every_tenth_tick)
{
    long long now = rt_now_ms();
    state_t *st = fx_fresh(1);
    for (unsigned n = 2; n <= 21; n++) {
        int k = fx_add(st, n, NODE_MASTER, true);
        st->nodes[k].pong_received_ms = now;       /* heard just now: no keep-alive PING */
        st->nodes[k].data_received_ms = now;
        st->nodes[k].out_link_ctime_ms = now;
    }
    st->tick = 10;                                 /* the next tick is the 11th */
    state_tick(st);
    CHECK_EQ_INT(st->out.nops, 0);
    st->tick = 19;                                 /* the next tick is the 20th */
    state_tick(st);
    REQUIRE(fx_out_count(st, STATE_OUT_SEND, 0) == 1);   /* five draws all on myself: (1/21)^5 */
    uint64_t link;
    bus_msg_t m;
    REQUIRE(fx_out_frame(st, 0, &link, &m));
    CHECK_EQ_INT(m.hdr.type, BUS_PING);
    int target = state_node_by_link(st, link);
    REQUIRE(target > 0);
    CHECK(target != st->myself);
    CHECK(st->nodes[target].ping_sent_ms >= now);
}

/* test_state_votes.c - the state actor's failover rules
 * (actors/state/state_failover.c, docs/cluster-bus.md §5.13-§5.14) driven with
 * decoded frames on a fresh state_t: when a master grants or refuses its
 * vote to a FAILOVER_AUTH_REQUEST, that the ACK leaves only once the vote is
 * durable, which ACKs are counted for our own election, and the order of
 * what an election sends.
 */
#include "actors/config/config.h"
#include "actors/failover/elector.h"
#include "tests/unit/state_fixture.h"

/* myself (1): a master with slots 0..999. B (2): a failed master with slots
 * 1000..1999 at configEpoch 2. R (3): B's replica. currentEpoch 5. */
enum { ME = 0, B = 1, R = 2, C = 3 };

static state_t *voter(void)
{
    state_t *st = fx_fresh(1);
    st->nodes[st->myself].config_epoch = 1;
    fx_own(st, st->myself, 0, 999);
    fx_add(st, 2, NODE_MASTER | NODE_FAIL, true);
    st->nodes[B].config_epoch = 2;
    fx_own(st, B, 1000, 1999);
    fx_add(st, 3, NODE_SLAVE, true);
    st->nodes[R].master = B;
    fx_add(st, 4, NODE_MASTER, true);
    st->nodes[C].config_epoch = 3;
    fx_own(st, C, 2000, 2999);
    st->current_epoch = 5;
    return st;
}

/* R's request for epoch `epoch`, claiming B's slots at B's configEpoch. */
static bool request(const state_t *st, uint64_t epoch, bool force, bus_msg_t *m)
{
    bus_header_t h;
    fx_header(st, R, &h);
    for (unsigned s = 1000; s <= 1999; s++) bus_slot_set(h.myslots, s);
    h.config_epoch = 2;
    h.current_epoch = epoch;
    if (force) h.mflags[0] |= BUS_MFLAG_FORCEACK;
    size_t len = bus_build_auth_request(fx_buf, sizeof fx_buf, &h);
    return fx_decode(fx_buf, len, m);
}

static int actions(const state_t *st)
{
    return state_fo_pending(st);
}

/* Granted: lastVoteEpoch and the master's vote time are set, the ACK waits
 * for the save that records the vote, then goes to the requester only. */
TEST(votes_granted_and_acked_once_durable)
{
    state_t *st = voter();
    bus_msg_t m;
    REQUIRE(request(st, 6, false, &m));
    fx_apply(st, 2003, false, &m);
    CHECK_EQ_INT(st->current_epoch, 6);        /* the request's epoch is taken first */
    CHECK_EQ_INT(st->last_vote_epoch, 6);
    CHECK(st->nodes[B].voted_time_ms > 0);
    CHECK(st->save_pending);
    CHECK_EQ_INT(actions(st), 1);
    CHECK_EQ_INT(fx_out_type(st, BUS_FAILOVER_AUTH_ACK), 0);    /* not before it is on disk */
    state_fo_durable(st, st->config_seq);                        /* an older save: still nothing */
    CHECK_EQ_INT(fx_out_type(st, BUS_FAILOVER_AUTH_ACK), 0);
    state_fo_durable(st, st->config_seq + 1);
    CHECK_EQ_INT(actions(st), 0);
    REQUIRE(fx_out_type(st, BUS_FAILOVER_AUTH_ACK) == 1);
    uint64_t link;
    bus_msg_t ack;
    REQUIRE(fx_out_frame(st, 0, &link, &ack));
    CHECK(link == 1003);
    CHECK_EQ_INT(ack.hdr.type, BUS_FAILOVER_AUTH_ACK);
    CHECK_EQ_INT(ack.hdr.current_epoch, 6);
}

/* One vote per epoch: a second request in the same epoch is refused. */
TEST(votes_refused_twice_in_one_epoch)
{
    state_t *st = voter();
    bus_msg_t m;
    REQUIRE(request(st, 6, false, &m));
    fx_apply(st, 2003, false, &m);
    REQUIRE(st->last_vote_epoch == 6);
    st->nodes[B].voted_time_ms = 0;            /* only the epoch rule stands in the way */
    REQUIRE(request(st, 6, false, &m));
    fx_apply(st, 2003, false, &m);
    CHECK_EQ_INT(actions(st), 1);
    CHECK_EQ_INT(st->nodes[B].voted_time_ms, 0);
}

/* A request from an older epoch than ours is refused. */
TEST(votes_refused_for_an_old_epoch)
{
    state_t *st = voter();
    st->current_epoch = 9;
    bus_msg_t m;
    REQUIRE(request(st, 6, false, &m));
    fx_apply(st, 2003, false, &m);
    CHECK_EQ_INT(st->last_vote_epoch, 0);
    CHECK_EQ_INT(actions(st), 0);
}

/* The master must be FAIL, unless the request carries FORCEACK (a manual failover). */
TEST(votes_need_a_failed_master_or_forceack)
{
    state_t *st = voter();
    st->nodes[B].flags &= (uint16_t)~NODE_FAIL;
    bus_msg_t m;
    REQUIRE(request(st, 6, false, &m));
    fx_apply(st, 2003, false, &m);
    CHECK_EQ_INT(st->last_vote_epoch, 0);
    CHECK_EQ_INT(actions(st), 0);
    REQUIRE(request(st, 6, true, &m));
    fx_apply(st, 2003, false, &m);
    CHECK_EQ_INT(st->last_vote_epoch, 6);
    CHECK_EQ_INT(actions(st), 1);
}

/* Within 2 x node_timeout of a vote for one of B's replicas, no other vote about B. */
TEST(votes_refused_soon_after_a_vote_about_the_same_master)
{
    state_t *st = voter();
    long long nt = config_cluster_node_timeout();
    st->nodes[B].voted_time_ms = rt_now_ms() - 2 * nt + 5000;
    bus_msg_t m;
    REQUIRE(request(st, 6, false, &m));
    fx_apply(st, 2003, false, &m);
    CHECK_EQ_INT(st->last_vote_epoch, 0);
    CHECK_EQ_INT(actions(st), 0);
    /* once 2 x node_timeout passed, the same request is granted */
    st->nodes[B].voted_time_ms = rt_now_ms() - 2 * nt - 1;
    REQUIRE(request(st, 6, false, &m));
    fx_apply(st, 2003, false, &m);
    CHECK_EQ_INT(st->last_vote_epoch, 6);
    CHECK_EQ_INT(actions(st), 1);
}

/* A claimed slot now served with a newer configEpoch than the request's: refused. */
TEST(votes_refused_when_a_claimed_slot_moved_on)
{
    state_t *st = voter();
    st->slot_owner[1500] = C;                  /* configEpoch 3 > the request's 2 */
    state_recount_slots(st);
    bus_msg_t m;
    REQUIRE(request(st, 6, false, &m));
    fx_apply(st, 2003, false, &m);
    CHECK_EQ_INT(st->last_vote_epoch, 0);
    CHECK_EQ_INT(actions(st), 0);
}

/* Only masters that serve slots vote; and never for a master. */
TEST(votes_only_from_masters_with_slots_for_replicas)
{
    state_t *st = voter();
    for (int s = 0; s <= 999; s++) st->slot_owner[s] = -1;
    state_recount_slots(st);
    bus_msg_t m;
    REQUIRE(request(st, 6, false, &m));
    fx_apply(st, 2003, false, &m);
    CHECK_EQ_INT(st->last_vote_epoch, 0);

    st = voter();
    bus_header_t h;
    fx_header(st, C, &h);
    h.current_epoch = 6;
    size_t len = bus_build_auth_request(fx_buf, sizeof fx_buf, &h);
    REQUIRE(fx_decode(fx_buf, len, &m));
    fx_apply(st, 2004, false, &m);
    CHECK_EQ_INT(st->last_vote_epoch, 0);
    CHECK_EQ_INT(actions(st), 0);
}

/* ACKs count for our running election only from masters with slots, at or
 * above its epoch: each one becomes an ELECTOR_MSG_ACK for the elector. */
TEST(votes_acks_counted_for_our_election)
{
    state_t *st = voter();
    st->fo_election_epoch = 6;
    bus_header_t h;
    bus_msg_t m;
    size_t len;
    fx_header(st, C, &h);
    h.current_epoch = 6;
    len = bus_build_auth_ack(fx_buf, sizeof fx_buf, &h);
    REQUIRE(fx_decode(fx_buf, len, &m));
    fx_apply(st, 2004, false, &m);
    REQUIRE(fx_out_count(st, STATE_OUT_ELECTOR, 0) == 1);
    const state_out_t *op = &st->out.ops[st->out.nops - 1];
    CHECK_EQ_INT(op->elector_type, ELECTOR_MSG_ACK);
    CHECK_EQ_INT(op->value, 6);
    state_outbox_clear(st);
    h.current_epoch = 5;                        /* an old ACK */
    len = bus_build_auth_ack(fx_buf, sizeof fx_buf, &h);
    REQUIRE(fx_decode(fx_buf, len, &m));
    fx_apply(st, 2004, false, &m);
    CHECK_EQ_INT(fx_out_count(st, STATE_OUT_ELECTOR, 0), 0);
    fx_header(st, R, &h);                       /* from a replica */
    h.current_epoch = 6;
    len = bus_build_auth_ack(fx_buf, sizeof fx_buf, &h);
    REQUIRE(fx_decode(fx_buf, len, &m));
    fx_apply(st, 2003, false, &m);
    CHECK_EQ_INT(fx_out_count(st, STATE_OUT_ELECTOR, 0), 0);
}

/* Our own election (asked by the elector): a new epoch, and once it is
 * durable the FAIL about our master, then the AUTH_REQUEST to everyone, then
 * the epoch for the elector, in that order. */
TEST(votes_election_sends_fail_then_request_then_tells_the_elector)
{
    state_t *st = voter();
    /* we are R's sibling: a replica of B */
    state_node_t *me = &st->nodes[st->myself];
    for (int s = 0; s <= 999; s++) st->slot_owner[s] = -1;
    state_recount_slots(st);
    me->flags = (uint16_t)((me->flags & ~NODE_MASTER) | NODE_SLAVE);
    me->master = B;
    st->dirty_snapshot = true;
    state_fo_req_t *r = calloc(1, sizeof *r);
    r->kind = STATE_FO_ELECTION;
    memcpy(r->master, st->nodes[B].name, sizeof r->master);
    state_fo_request(st, r);                   /* frees r */
    CHECK_EQ_INT(st->current_epoch, 6);
    CHECK_EQ_INT(st->fo_election_epoch, 6);
    CHECK_EQ_INT(st->out.nops, 0);
    state_fo_durable(st, st->config_seq + 1);
    int fails = fx_out_type(st, BUS_FAIL), requests = fx_out_type(st, BUS_FAILOVER_AUTH_REQUEST);
    CHECK_EQ_INT(fails, 3);                     /* B, R, C */
    CHECK_EQ_INT(requests, 3);
    bus_msg_t m;
    for (int k = 0; k < 6 && fx_out_frame(st, k, NULL, &m); k++)
        CHECK_EQ_INT(m.hdr.type, k < 3 ? BUS_FAIL : BUS_FAILOVER_AUTH_REQUEST);
    const state_out_t *last = &st->out.ops[st->out.nops - 1];
    CHECK_EQ_INT(last->kind, STATE_OUT_ELECTOR);
    CHECK_EQ_INT(last->elector_type, ELECTOR_MSG_EPOCH);
    CHECK_EQ_INT(last->value, 6);
}

/* test_state_bus.c - the state actor's bus rules (actors/state/state_bus.c),
 * driven with decoded frames on a fresh state_t: the captured 7.0.15 frames
 * and hand-built ones. Each test asserts what the rule did to the node
 * table, the epochs and the failure reports, and what it left in the outbox
 * (frames for which links, links to open or close). No actor, thread or
 * socket is involved (state_fixture.h).
 */
#include "tests/unit/bus_vectors.h"
#include "tests/unit/state_fixture.h"

/* ---------------- handshakes ---------------- */

/* A captured MEET from an unknown node on an inbound link: a handshake record
 * at the header's address (or the socket's), a link opened to its bus port
 * (a CONNECT under the id stored in the record), and our own address learned
 * from the socket. */
TEST(bus_rules_meet_from_unknown_makes_a_handshake_record_and_connects)
{
    state_t *st = fx_fresh(1);
    st->nodes[st->myself].ip[0] = '\0';
    size_t len;
    uint8_t *buf = load("bus-meet.bin", &len);
    REQUIRE(buf);
    bus_msg_t m;
    REQUIRE(fx_decode(buf, len, &m));
    REQUIRE(m.hdr.type == BUS_MEET && m.sender_valid);
    fx_apply(st, 77, false, &m);
    REQUIRE(st->node_count == 2);
    const state_node_t *n = &st->nodes[1];
    CHECK(n->flags & NODE_HANDSHAKE);
    CHECK(memcmp(n->name, m.hdr.sender, NODE_NAME_LEN) != 0);   /* a random name until the handshake ends */
    CHECK_EQ_STR(n->ip, m.hdr.myip[0] ? m.hdr.myip : "10.9.9.9");
    CHECK_EQ_INT(n->port, m.hdr.port);
    CHECK_EQ_INT(n->cport, m.hdr.cport);
    CHECK(n->out_link != 0);
    REQUIRE(fx_out_count(st, STATE_OUT_CONNECT, 0) == 1);
    const state_out_t *op = &st->out.ops[0];
    CHECK_EQ_INT(op->kind, STATE_OUT_CONNECT);
    CHECK(op->link == n->out_link);
    CHECK_EQ_STR(op->ip, n->ip);
    CHECK_EQ_INT(op->port, n->cport);
    CHECK_EQ_STR(st->nodes[st->myself].ip, "10.0.0.1");   /* learned from the MEET's socket */
    CHECK(st->save_pending);
    free(buf);
}

/* A MEET from a node we know by name adds nothing and connects nowhere. */
TEST(bus_rules_meet_from_known_node_adds_nothing)
{
    state_t *st = fx_fresh(1);
    int b = fx_add(st, 2, NODE_MASTER, true);
    bus_header_t h;
    fx_header(st, b, &h);
    bus_msg_t m;
    REQUIRE(fx_ping(BUS_MEET, &h, NULL, 0, &m));
    fx_apply(st, 99, false, &m);
    CHECK_EQ_INT(st->node_count, 2);
    CHECK_EQ_INT(fx_out_count(st, STATE_OUT_CONNECT, 0), 0);
    CHECK(st->nodes[b].in_link == 99);          /* the inbound link is bound to it */
    CHECK_EQ_INT(fx_out_count(st, STATE_OUT_CLOSE, 2002), 1);   /* its old inbound link closes */
}

/* The PONG on our link to a handshake record ends the handshake: the record
 * takes the sender's name and role, and the newcomer is announced soon. */
TEST(bus_rules_pong_completes_a_handshake)
{
    state_t *st = fx_fresh(1);
    char tmp[NODE_NAME_LEN + 1];
    fx_name(tmp, 0xabc);
    int k = state_add_node(st, tmp, NODE_HANDSHAKE | NODE_MEET);
    st->nodes[k].out_link = 555;
    bus_header_t h;
    memset(&h, 0, sizeof h);
    h.ver = BUS_PROTO_VER;
    fx_name(h.sender, 7);
    h.flags = NODE_MASTER;
    h.port = 7007;
    h.cport = 17007;
    bus_msg_t m;
    REQUIRE(fx_ping(BUS_PONG, &h, NULL, 0, &m));
    fx_apply(st, 555, true, &m);
    REQUIRE(st->node_count == 2);
    CHECK_EQ_STR(st->nodes[k].name, h.sender);
    CHECK_EQ_INT(state_find(st, h.sender, NODE_NAME_LEN), k);
    CHECK_EQ_INT(state_find(st, tmp, NODE_NAME_LEN), -1);
    CHECK(!(st->nodes[k].flags & (NODE_HANDSHAKE | NODE_MEET)));
    CHECK(st->nodes[k].flags & NODE_MASTER);
    CHECK(st->announce_pending);
    CHECK(st->nodes[k].pong_received_ms > 0);
}

/* A handshake record whose peer turns out to be a node we know by name is
 * dropped; the known record keeps its name and links. */
TEST(bus_rules_handshake_with_a_known_node_drops_the_record)
{
    state_t *st = fx_fresh(1);
    int b = fx_add(st, 2, NODE_MASTER, true);
    char tmp[NODE_NAME_LEN + 1];
    fx_name(tmp, 0xabc);
    int k = state_add_node(st, tmp, NODE_HANDSHAKE);
    state_set_ip(st->nodes[k].ip, st->nodes[b].ip);
    st->nodes[k].cport = st->nodes[b].cport;
    st->nodes[k].out_link = 555;
    bus_header_t h;
    fx_header(st, b, &h);
    bus_msg_t m;
    REQUIRE(fx_ping(BUS_PONG, &h, NULL, 0, &m));
    fx_apply(st, 555, true, &m);
    CHECK_EQ_INT(st->node_count, 2);
    CHECK_EQ_INT(state_find(st, tmp, NODE_NAME_LEN), -1);
    CHECK_EQ_INT(state_find(st, h.sender, NODE_NAME_LEN), b);
    CHECK(st->nodes[b].out_link == 1002);     /* same address: its link stays */
    CHECK_EQ_INT(fx_out_count(st, STATE_OUT_CLOSE, 555), 1);   /* the handshake link closes */
}

/* Our link to B answers with another name: B loses its address and link. */
TEST(bus_rules_pong_with_another_name_makes_the_record_noaddr)
{
    state_t *st = fx_fresh(1);
    int b = fx_add(st, 2, NODE_MASTER, true);
    int c = fx_add(st, 3, NODE_MASTER, true);
    bus_header_t h;
    fx_header(st, c, &h);
    bus_msg_t m;
    REQUIRE(fx_ping(BUS_PONG, &h, NULL, 0, &m));
    fx_apply(st, 1002, true, &m);
    CHECK(st->nodes[b].flags & NODE_NOADDR);
    CHECK_EQ_STR(st->nodes[b].ip, "");
    CHECK_EQ_INT(st->nodes[b].port, 0);
    CHECK(st->nodes[b].out_link == 0);
    CHECK_EQ_INT(fx_out_count(st, STATE_OUT_CLOSE, 1002), 1);
}

/* ---------------- epochs ---------------- */

/* A known sender's header raises currentEpoch and its configEpoch, never lowers them. */
TEST(bus_rules_epochs_follow_the_sender)
{
    state_t *st = fx_fresh(1);
    st->current_epoch = 3;
    int b = fx_add(st, 2, NODE_MASTER, true);
    st->nodes[b].config_epoch = 2;
    bus_header_t h;
    fx_header(st, b, &h);
    h.current_epoch = 7;
    h.config_epoch = 5;
    h.offset = 1234;
    bus_msg_t m;
    REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m));
    fx_apply(st, 2002, false, &m);
    CHECK_EQ_INT(st->current_epoch, 7);
    CHECK_EQ_INT(st->nodes[b].config_epoch, 5);
    CHECK_EQ_INT(st->nodes[b].repl_offset, 1234);
    CHECK(st->nodes[b].data_received_ms > 0);
    CHECK(st->save_pending);
    h.current_epoch = 4;
    h.config_epoch = 1;
    REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m));
    fx_apply(st, 2002, false, &m);
    CHECK_EQ_INT(st->current_epoch, 7);
    CHECK_EQ_INT(st->nodes[b].config_epoch, 5);
}

/* Two masters with one configEpoch: the one with the smaller name takes a
 * new epoch (5.9); the other keeps its own. */
TEST(bus_rules_config_epoch_collision_moves_the_smaller_name)
{
    state_t *st = fx_fresh(1);          /* our name is the smaller one */
    st->current_epoch = 4;
    st->nodes[st->myself].config_epoch = 3;
    int b = fx_add(st, 2, NODE_MASTER, true);
    st->nodes[b].config_epoch = 3;
    bus_header_t h;
    fx_header(st, b, &h);
    bus_msg_t m;
    REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m));
    fx_apply(st, 2002, false, &m);
    CHECK_EQ_INT(st->current_epoch, 5);
    CHECK_EQ_INT(st->nodes[st->myself].config_epoch, 5);
    CHECK(st->save_fsync);

    st = fx_fresh(9);                   /* now ours is the larger name */
    st->current_epoch = 4;
    st->nodes[st->myself].config_epoch = 3;
    b = fx_add(st, 2, NODE_MASTER, true);
    st->nodes[b].config_epoch = 3;
    fx_header(st, b, &h);
    REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m));
    fx_apply(st, 2002, false, &m);
    CHECK_EQ_INT(st->current_epoch, 4);
    CHECK_EQ_INT(st->nodes[st->myself].config_epoch, 3);
}

/* ---------------- slots and UPDATE ---------------- */

/* A master claiming slots with a newer configEpoch takes them; with an older
 * one it gets an UPDATE naming the owner we believe in. */
TEST(bus_rules_slot_claims_follow_config_epochs)
{
    state_t *st = fx_fresh(1);
    int b = fx_add(st, 2, NODE_MASTER, true);
    int c = fx_add(st, 3, NODE_MASTER, true);
    st->nodes[b].config_epoch = 5;
    st->nodes[c].config_epoch = 2;
    fx_own(st, c, 100, 199);
    bus_header_t h;
    fx_header(st, b, &h);
    for (unsigned s = 100; s <= 149; s++) bus_slot_set(h.myslots, s);
    bus_msg_t m;
    REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m));
    fx_apply(st, 2002, false, &m);
    CHECK_EQ_INT(st->slot_owner[100], b);
    CHECK_EQ_INT(st->slot_owner[149], b);
    CHECK_EQ_INT(st->slot_owner[150], c);
    CHECK_EQ_INT(st->nodes[b].slot_count, 50);
    CHECK_EQ_INT(st->nodes[c].slot_count, 50);
    CHECK_EQ_INT(fx_out_type(st, BUS_UPDATE), 0);

    /* C, still at epoch 2, claims 100..199 again: C gets an UPDATE about B */
    state_outbox_clear(st);
    fx_header(st, c, &h);
    for (unsigned s = 100; s <= 199; s++) bus_slot_set(h.myslots, s);
    REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m));
    fx_apply(st, 2003, false, &m);
    CHECK_EQ_INT(st->slot_owner[100], b);
    REQUIRE(fx_out_type(st, BUS_UPDATE) == 1);
    uint64_t link = 0;
    bus_msg_t u;
    REQUIRE(fx_out_frame(st, 0, &link, &u));
    CHECK(link == 1003);
    CHECK_EQ_INT(u.hdr.type, BUS_UPDATE);
    CHECK(!memcmp(u.u.update.name, st->nodes[b].name, NODE_NAME_LEN));
    CHECK_EQ_INT(u.u.update.config_epoch, 5);
    CHECK(bus_slot_test(u.u.update.slots, 100) && !bus_slot_test(u.u.update.slots, 150));
}

/* Claims that match the slot table (every steady master and replica) leave
 * no bitmap behind: at 1,000 peers a 2 KB copy each was 2 MB. Only a claim
 * that differs is remembered, so that repeating it costs a memcmp and gets
 * the same UPDATE again; a claim that names fewer slots than the table
 * gives (a count mismatch, every claimed slot its own) also differs. */
TEST(bus_rules_matching_claims_keep_no_bitmap)
{
    state_t *st = fx_fresh(1);
    int b = fx_add(st, 2, NODE_MASTER, true);
    int c = fx_add(st, 3, NODE_MASTER, true);
    int r = fx_add(st, 4, NODE_SLAVE, true);
    st->nodes[r].master = b;
    st->nodes[b].config_epoch = 5;
    st->nodes[c].config_epoch = 2;
    fx_own(st, b, 0, 99);
    fx_own(st, c, 100, 199);
    bus_header_t h;
    bus_msg_t m;
    int who[] = { b, c, r };
    for (int k = 0; k < 3; k++) {
        fx_header(st, who[k], &h);
        if (who[k] == r) {          /* a replica claims its master's slots, as 7.0.15 sends them */
            for (unsigned s = 0; s <= 99; s++) bus_slot_set(h.myslots, s);
            h.config_epoch = 5;
        }
        REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m));
        fx_apply(st, 2000 + 2 + (uint64_t)k, false, &m);
        CHECK(st->nodes[who[k]].last_claim == NULL);
    }
    CHECK_EQ_INT(fx_out_type(st, BUS_UPDATE), 0);

    /* C, at epoch 2, claims B's slot 50 too: an UPDATE each time, remembered */
    for (int round = 0; round < 3; round++) {
        state_outbox_clear(st);
        fx_header(st, c, &h);
        bus_slot_set(h.myslots, 50);
        REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m));
        fx_apply(st, 2003, false, &m);
        CHECK_EQ_INT(fx_out_type(st, BUS_UPDATE), 1);
        CHECK(st->nodes[c].last_claim != NULL);
        CHECK_EQ_INT(st->slot_owner[50], b);
    }
    /* back to its own slots: forgotten */
    state_outbox_clear(st);
    fx_header(st, c, &h);
    REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m));
    fx_apply(st, 2003, false, &m);
    CHECK(st->nodes[c].last_claim == NULL);
    CHECK_EQ_INT(fx_out_type(st, BUS_UPDATE), 0);

    /* fewer slots than the table gives it: differs (kept), nothing to act on */
    fx_header(st, c, &h);
    h.myslots[199 / 8] &= (uint8_t)~(1u << (199 % 8));
    REQUIRE(fx_ping(BUS_PING, &h, NULL, 0, &m));
    fx_apply(st, 2003, false, &m);
    CHECK(st->nodes[c].last_claim != NULL);
    CHECK_EQ_INT(st->slot_owner[199], c);
    CHECK_EQ_INT(fx_out_type(st, BUS_UPDATE), 0);
}

/* An UPDATE with a newer configEpoch moves the named node's slots to it; when
 * our own last slot goes, we become its replica and say so with a PONG to all. */
TEST(bus_rules_update_rebinds_slots_and_demotes_us)
{
    state_t *st = fx_fresh(1);
    st->nodes[st->myself].config_epoch = 1;
    fx_own(st, st->myself, 0, 99);
    int b = fx_add(st, 2, NODE_MASTER, true);
    int c = fx_add(st, 3, NODE_MASTER, true);
    st->nodes[b].config_epoch = 1;
    bus_header_t h;
    fx_header(st, c, &h);
    uint8_t slots[BUS_SLOT_BYTES] = {0};
    for (unsigned s = 0; s <= 99; s++) bus_slot_set(slots, s);
    size_t len = bus_build_update(fx_buf, sizeof fx_buf, &h, 6, st->nodes[b].name, slots);
    bus_msg_t m;
    REQUIRE(fx_decode(fx_buf, len, &m));
    fx_apply(st, 2003, false, &m);
    CHECK_EQ_INT(st->nodes[b].config_epoch, 6);
    CHECK_EQ_INT(st->slot_owner[0], b);
    CHECK_EQ_INT(st->slot_owner[99], b);
    CHECK_EQ_INT(st->nodes[st->myself].slot_count, 0);
    CHECK(st->nodes[st->myself].flags & NODE_SLAVE);
    CHECK(!(st->nodes[st->myself].flags & NODE_MASTER));
    CHECK_EQ_INT(st->nodes[st->myself].master, b);
    /* the PONG broadcast: one frame, to B and C */
    CHECK_EQ_INT(fx_out_type(st, BUS_PONG), 2);
    CHECK_EQ_INT(fx_out_count(st, STATE_OUT_SEND, 1002), 1);
    CHECK_EQ_INT(fx_out_count(st, STATE_OUT_SEND, 1003), 1);
    CHECK_EQ_INT(st->out.nframes, 1);

    /* an UPDATE that is not newer than what we know changes nothing */
    state_outbox_clear(st);
    uint8_t more[BUS_SLOT_BYTES] = {0};
    for (unsigned s = 200; s <= 299; s++) bus_slot_set(more, s);
    len = bus_build_update(fx_buf, sizeof fx_buf, &h, 6, st->nodes[b].name, more);
    REQUIRE(fx_decode(fx_buf, len, &m));
    fx_apply(st, 2003, false, &m);
    CHECK_EQ_INT(st->slot_owner[200], -1);
    CHECK_EQ_INT(st->nodes[b].config_epoch, 6);
    CHECK_EQ_INT(st->out.nops, 0);
}

/* The captured UPDATE, from a known sender about a known node with an older
 * configEpoch: the node takes the epoch and every slot of the bitmap. */
TEST(bus_rules_captured_update_is_applied)
{
    size_t len;
    uint8_t *buf = load("bus-update.bin", &len);
    REQUIRE(buf);
    bus_msg_t m;
    REQUIRE(fx_decode(buf, len, &m));
    REQUIRE(m.u.update.name_valid && m.sender_valid);
    state_t *st = fx_fresh(1);
    int sender = state_add_node(st, m.hdr.sender, NODE_MASTER);
    st->nodes[sender].in_link = 2100;
    int about = state_find(st, m.u.update.name, NODE_NAME_LEN);
    if (about < 0) about = state_add_node(st, m.u.update.name, NODE_MASTER);
    REQUIRE(m.u.update.config_epoch > 0);
    fx_apply(st, 2100, false, &m);
    CHECK_EQ_INT(st->nodes[about].config_epoch, m.u.update.config_epoch);
    int claimed = 0, bound = 0;
    for (int s = 0; s < SLOT_COUNT; s++) {
        if (!bus_slot_test(m.u.update.slots, (unsigned)s)) continue;
        claimed++;
        bound += st->slot_owner[s] == about;
    }
    CHECK(claimed > 0);
    CHECK_EQ_INT(bound, claimed);
    free(buf);
}

/* ---------------- failure reports and FAIL ---------------- */

/* PFAIL becomes FAIL once masters that together with us make a majority
 * report it; replicas' reports do not count; a healthy entry withdraws a
 * report. The FAIL goes to every linked record. */
TEST(bus_rules_pfail_becomes_fail_with_a_majority_of_masters)
{
    state_t *st = fx_fresh(1);
    fx_own(st, st->myself, 0, 999);
    int b = fx_add(st, 2, NODE_MASTER, true);
    int c = fx_add(st, 3, NODE_MASTER, true);
    int d = fx_add(st, 4, NODE_MASTER | NODE_PFAIL, true);
    int r = fx_add(st, 5, NODE_SLAVE, true);
    st->nodes[r].master = b;
    fx_own(st, b, 1000, 1999);
    fx_own(st, c, 2000, 2999);
    fx_own(st, d, 3000, 3999);
    for (int i = 0; i < st->node_count; i++) st->nodes[i].config_epoch = (uint64_t)i + 1;   /* no collisions */
    st->size = 4;                      /* masters with slots, as update_state counts them: quorum 3 */
    bus_gossip_t g;
    bus_header_t h;
    bus_msg_t m;

    /* a replica's report: not counted */
    fx_entry(st, d, NODE_MASTER | NODE_PFAIL, &g);
    fx_header(st, r, &h);
    REQUIRE(fx_ping(BUS_PING, &h, &g, 1, &m));
    fx_apply(st, 2005, false, &m);
    CHECK_EQ_INT(st->nodes[d].nreports, 0);

    /* B's report: us + B = 2 < 3 */
    fx_header(st, b, &h);
    REQUIRE(fx_ping(BUS_PING, &h, &g, 1, &m));
    fx_apply(st, 2002, false, &m);
    CHECK_EQ_INT(st->nodes[d].nreports, 1);
    CHECK_EQ_INT(state_count_reports(st, d), 1);
    CHECK(st->nodes[d].flags & NODE_PFAIL);
    CHECK(!(st->nodes[d].flags & NODE_FAIL));
    CHECK_EQ_INT(fx_out_type(st, BUS_FAIL), 0);

    /* C's report makes 3: FAIL, broadcast */
    fx_header(st, c, &h);
    REQUIRE(fx_ping(BUS_PING, &h, &g, 1, &m));
    fx_apply(st, 2003, false, &m);
    CHECK(st->nodes[d].flags & NODE_FAIL);
    CHECK(!(st->nodes[d].flags & NODE_PFAIL));
    CHECK(st->nodes[d].fail_time_ms > 0);
    CHECK(st->save_pending);
    CHECK_EQ_INT(fx_out_type(st, BUS_FAIL), 4);          /* B, C, D and R: every linked record */
    uint64_t link;
    bus_msg_t f;
    REQUIRE(fx_out_frame(st, 0, &link, &f));
    CHECK(!memcmp(f.u.fail.name, st->nodes[d].name, NODE_NAME_LEN));
}

TEST(bus_rules_healthy_gossip_withdraws_a_report)
{
    state_t *st = fx_fresh(1);
    int b = fx_add(st, 2, NODE_MASTER, true);
    int d = fx_add(st, 4, NODE_MASTER | NODE_PFAIL, true);
    st->size = 5;                      /* quorum 3: one report is not enough */
    bus_gossip_t g;
    bus_header_t h;
    bus_msg_t m;
    fx_entry(st, d, NODE_MASTER | NODE_PFAIL, &g);
    fx_header(st, b, &h);
    REQUIRE(fx_ping(BUS_PING, &h, &g, 1, &m));
    fx_apply(st, 2002, false, &m);
    REQUIRE(st->nodes[d].nreports == 1);
    CHECK(!memcmp(st->nodes[d].reports[0].reporter, st->nodes[b].name, NODE_NAME_LEN));
    fx_entry(st, d, NODE_MASTER, &g);
    REQUIRE(fx_ping(BUS_PING, &h, &g, 1, &m));
    fx_apply(st, 2002, false, &m);
    CHECK_EQ_INT(st->nodes[d].nreports, 0);
    CHECK(!(st->nodes[d].flags & NODE_FAIL));
}

/* The captured FAIL from a known sender marks the named node FAIL at once;
 * from an unknown sender it is ignored. */
TEST(bus_rules_captured_fail_marks_the_node)
{
    size_t len;
    uint8_t *buf = load("bus-fail.bin", &len);
    REQUIRE(buf);
    bus_msg_t m;
    REQUIRE(fx_decode(buf, len, &m));
    REQUIRE(m.u.fail.name_valid && m.sender_valid);
    state_t *st = fx_fresh(1);
    int about = state_add_node(st, m.u.fail.name, NODE_MASTER | NODE_PFAIL);
    fx_apply(st, 2100, false, &m);      /* sender unknown */
    CHECK(!(st->nodes[about].flags & NODE_FAIL));
    int sender = state_add_node(st, m.hdr.sender, NODE_MASTER);
    (void)sender;
    fx_apply(st, 2100, false, &m);
    CHECK(st->nodes[about].flags & NODE_FAIL);
    CHECK(!(st->nodes[about].flags & NODE_PFAIL));
    CHECK(st->save_pending);
    free(buf);
}

/* ---------------- gossip ---------------- */

/* Gossip from a known sender adds unknown nodes with an address (and
 * connects to them); never an address-less one, a blacklisted one, or any
 * from an unknown sender. */
TEST(bus_rules_gossip_adds_nodes_and_connects)
{
    state_t *st = fx_fresh(1);
    int b = fx_add(st, 2, NODE_MASTER, true);
    bus_gossip_t g[3];
    memset(g, 0, sizeof g);
    fx_name(g[0].name, 0x10);
    snprintf(g[0].ip, sizeof g[0].ip, "10.0.1.16");
    g[0].port = 7016;
    g[0].cport = 17016;
    g[0].flags = NODE_MASTER;
    fx_name(g[1].name, 0x11);
    g[1].flags = NODE_MASTER | NODE_NOADDR;
    fx_name(g[2].name, 0x12);
    snprintf(g[2].ip, sizeof g[2].ip, "10.0.1.18");
    g[2].port = 7018;
    g[2].cport = 17018;
    g[2].flags = NODE_SLAVE;
    state_blacklist_add(st, g[2].name);
    bus_header_t h;
    bus_msg_t m;

    /* the same gossip from an unknown sender: nothing */
    fx_header(st, b, &h);
    fx_name(h.sender, 0x99);
    REQUIRE(fx_ping(BUS_PING, &h, g, 3, &m));
    fx_apply(st, 3000, false, &m);
    CHECK_EQ_INT(st->node_count, 2);

    fx_header(st, b, &h);
    REQUIRE(fx_ping(BUS_PING, &h, g, 3, &m));
    fx_apply(st, 2002, false, &m);
    REQUIRE(st->node_count == 3);
    int e = state_find(st, g[0].name, NODE_NAME_LEN);
    REQUIRE(e >= 0);
    CHECK_EQ_STR(st->nodes[e].ip, "10.0.1.16");
    CHECK_EQ_INT(st->nodes[e].cport, 17016);
    CHECK(st->nodes[e].flags & NODE_MASTER);
    CHECK_EQ_INT(state_find(st, g[1].name, NODE_NAME_LEN), -1);
    CHECK_EQ_INT(state_find(st, g[2].name, NODE_NAME_LEN), -1);
    REQUIRE(fx_out_count(st, STATE_OUT_CONNECT, 0) == 1);
    CHECK(fx_out_count(st, STATE_OUT_CONNECT, st->nodes[e].out_link) == 1);
}

/* The captured PING with four gossip entries, one PFAIL, from a master we
 * know: every entry with an address becomes a record, and the PFAIL one
 * gets that master's report. */
TEST(bus_rules_captured_gossip_is_consumed)
{
    size_t len;
    uint8_t *buf = load("bus-ping-4gossip-pfail.bin", &len);
    REQUIRE(buf);
    bus_msg_t m;
    REQUIRE(fx_decode(buf, len, &m));
    REQUIRE(m.sender_valid && m.hdr.count == 4);
    state_t *st = fx_fresh(0xfffff);
    int sender = state_add_node(st, m.hdr.sender, NODE_MASTER);
    st->nodes[sender].in_link = 2100;
    st->size = 100;                      /* no quorum: the report stays a report */
    /* the PFAIL entry's node is known here already (reports are about known nodes) */
    int known = 0;
    for (unsigned i = 0; i < m.hdr.count; i++) {
        bus_gossip_t g;
        REQUIRE(bus_msg_gossip(&m, i, &g));
        if (!(g.flags & NODE_PFAIL)) continue;
        int k = state_add_node(st, g.name, NODE_MASTER);
        state_set_ip(st->nodes[k].ip, g.ip);
        known++;
    }
    REQUIRE(known == 1);
    fx_apply(st, 2100, false, &m);
    int pfail_reported = 0, found = 0, expected = 0;
    for (unsigned i = 0; i < m.hdr.count; i++) {
        bus_gossip_t g;
        REQUIRE(bus_msg_gossip(&m, i, &g));
        if (!memcmp(g.name, m.hdr.sender, NODE_NAME_LEN)) continue;
        if (g.flags & NODE_NOADDR) continue;
        expected++;
        int k = state_find(st, g.name, NODE_NAME_LEN);
        if (k < 0) continue;
        found++;
        if (g.flags & NODE_PFAIL) {
            pfail_reported += st->nodes[k].nreports == 1 &&
                              !memcmp(st->nodes[k].reports[0].reporter, m.hdr.sender, NODE_NAME_LEN);
        }
    }
    CHECK(expected > 1);
    CHECK_EQ_INT(found, expected);
    CHECK_EQ_INT(pfail_reported, 1);
    CHECK_EQ_INT(fx_out_count(st, STATE_OUT_CONNECT, 0), expected - known);   /* the new ones only */
    free(buf);
}

/* ---------------- link events ---------------- */

/* A connected link to a MEET record carries a MEET; to any other a PING. */
TEST(bus_rules_connected_link_sends_meet_or_ping)
{
    state_t *st = fx_fresh(1);
    int b = fx_add(st, 2, NODE_MASTER | NODE_HANDSHAKE | NODE_MEET, false);
    st->nodes[b].out_link = 600;
    int c = fx_add(st, 3, NODE_MASTER, false);
    st->nodes[c].out_link = 601;
    link_event_t e = { .id = 600, .kind = LINK_EV_CONNECTED, .outbound = true };
    state_bus_link_event(st, &e);
    e.id = 601;
    state_bus_link_event(st, &e);
    CHECK(!(st->nodes[b].flags & NODE_MEET));
    CHECK(st->nodes[b].link_connected && st->nodes[c].link_connected);
    uint64_t link;
    bus_msg_t m;
    REQUIRE(fx_out_frame(st, 0, &link, &m));
    CHECK(link == 600);
    CHECK_EQ_INT(m.hdr.type, BUS_MEET);
    REQUIRE(fx_out_frame(st, 1, &link, &m));
    CHECK(link == 601);
    CHECK_EQ_INT(m.hdr.type, BUS_PING);
    CHECK(st->nodes[c].ping_sent_ms > 0);
    /* a closed link starts the failure clock and unbinds */
    st->nodes[c].ping_sent_ms = 0;
    link_event_t cl = { .id = 601, .kind = LINK_EV_CLOSED, .outbound = true };
    state_bus_link_event(st, &cl);
    CHECK(st->nodes[c].out_link == 0);
    CHECK(!st->nodes[c].link_connected);
    CHECK(st->nodes[c].ping_sent_ms > 0);
}

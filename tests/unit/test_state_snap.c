/* test_state_snap.c - what a publish shares with the snapshots before it
 * (actors/state/state_snap.c): the hostnames' text is one block shared until
 * a hostname changes, and a snapshot keeps the block it was published with;
 * node arrays of freed snapshots are written again by later publishes, never
 * one a reader still holds; replicas' attachment order (note_attachments)
 * moves only when a master changes, as before the shortcut; view_gen (what
 * the light encoding's per-thread view is built from) moves only when an
 * address tuple or the set of records changes.
 */
#include "tests/unit/state_fixture.h"

static const cluster_snapshot_t *current(state_t *st)
{
    return rt_snap_writer_current(st->cell);
}

/* How many different pointers seen[0..n) holds: the structs a run of
 * publishes went through (reused ones come back). */
static int distinct_pointers(const void *const *seen, int n)
{
    int distinct = 0;
    for (int i = 0; i < n; i++) {
        bool again = false;
        for (int j = 0; j < i; j++) again = again || seen[j] == seen[i];
        if (!again) distinct++;
    }
    return distinct;
}

static void publish(state_t *st)
{
    st->dirty_snapshot = true;
    state_publish(st);
}

TEST(snapshot_hostnames_shared_until_one_changes)
{
    state_t *st = fx_fresh(1);
    int a = fx_add(st, 2, NODE_MASTER, true);
    int b = fx_add(st, 3, NODE_MASTER, true);
    snprintf(st->nodes[a].hostname, sizeof st->nodes[a].hostname, "node-a.example");
    publish(st);
    rt_snap_reader_t r;
    REQUIRE(rt_snap_reader_register(st->cell, &r) == 0);
    const cluster_snapshot_t *s1 = rt_snap_read_begin(&r);   /* held across the publishes below */
    CHECK_EQ_STR(s1->nodes[a].hostname, "node-a.example");
    CHECK_EQ_STR(s1->nodes[b].hostname, "");
    CHECK_EQ_STR(s1->nodes[st->myself].hostname, "");

    /* nothing about hostnames changed: the same text, not a copy */
    st->nodes[b].pong_received_ms = 12345;
    publish(st);
    const cluster_snapshot_t *s2 = current(st);
    CHECK(s2 != s1);
    CHECK(s2->hosts == s1->hosts);
    CHECK(s2->nodes[a].hostname == s1->nodes[a].hostname);
    CHECK_EQ_INT(s2->nodes[b].pong_received_ms, 12345);

    /* one changes: a new block; the held snapshot still reads its own */
    snprintf(st->nodes[b].hostname, sizeof st->nodes[b].hostname, "node-b.example");
    publish(st);
    const cluster_snapshot_t *s3 = current(st);
    CHECK(s3->hosts != s1->hosts);
    CHECK_EQ_STR(s3->nodes[a].hostname, "node-a.example");
    CHECK_EQ_STR(s3->nodes[b].hostname, "node-b.example");
    CHECK_EQ_STR(s1->nodes[b].hostname, "");
    CHECK_EQ_STR(s1->nodes[a].hostname, "node-a.example");

    /* a hostname cleared, and a record that moves into another's index
     * (a deletion moves the last record into the hole) keeps its own text */
    char bname[NODE_NAME_LEN + 1];
    memcpy(bname, st->nodes[b].name, sizeof bname);
    int c = fx_add(st, 4, NODE_MASTER, true);
    snprintf(st->nodes[c].hostname, sizeof st->nodes[c].hostname, "node-c.example");
    st->nodes[b].hostname[0] = '\0';
    state_del_node(st, a);                 /* c, the last, moves to a's index */
    publish(st);
    const cluster_snapshot_t *s4 = current(st);
    CHECK_EQ_INT(s4->node_count, 3);
    CHECK_EQ_STR(s4->nodes[a].hostname, "node-c.example");
    int nb = cluster_snapshot_find(s4, bname);
    REQUIRE(nb >= 0);
    CHECK_EQ_STR(s4->nodes[nb].hostname, "");
    CHECK_EQ_STR(s4->nodes[st->myself].hostname, "");
    rt_snap_read_end(&r);
    rt_snap_reader_unregister(&r);
}

TEST(snapshot_node_arrays_reused_only_once_no_reader_holds_them)
{
    state_t *st = fx_fresh(1);
    for (unsigned n = 2; n < 40; n++) fx_add(st, n, NODE_MASTER, true);
    publish(st);
    rt_snap_reader_t r;
    REQUIRE(rt_snap_reader_register(st->cell, &r) == 0);
    const cluster_snapshot_t *held = rt_snap_read_begin(&r);
    const node_view_t *held_nodes = held->nodes;
    for (int k = 0; k < 20; k++) {
        st->nodes[1].pong_received_ms = 1000 + k;
        publish(st);
        rt_snap_reclaim(st->cell);
        const cluster_snapshot_t *s = current(st);
        CHECK(s->nodes != held_nodes);          /* never the array a reader holds */
        CHECK_EQ_INT(s->nodes[1].pong_received_ms, 1000 + k);
        CHECK_EQ_INT(held->nodes[1].pong_received_ms, 0);
    }
    rt_snap_read_end(&r);
    rt_snap_reader_unregister(&r);
    /* no reader: arrays of freed snapshots come back, far fewer distinct
     * ones than publishes, each with every view rewritten */
    const void *seen[20];
    int nseen = 0;
    for (int k = 0; k < 20; k++) {
        st->nodes[1].pong_received_ms = 2000 + k;
        publish(st);
        rt_snap_reclaim(st->cell);
        const cluster_snapshot_t *s = current(st);
        CHECK_EQ_INT(s->nodes[1].pong_received_ms, 2000 + k);
        seen[nseen++] = s->nodes;
    }
    CHECK(distinct_pointers(seen, nseen) <= 4);
    const cluster_snapshot_t *s = current(st);
    CHECK_EQ_INT(s->node_count, st->node_count);
    for (int i = 0; i < s->node_count; i++) {
        CHECK(memcmp(s->nodes[i].name, st->nodes[i].name, NODE_NAME_LEN) == 0);
        CHECK_EQ_STR(s->nodes[i].hostname, "");
        CHECK_EQ_INT(s->nodes[i].master, st->nodes[i].master);
    }
}

/* Snapshot structs of freed snapshots are reused (state_snapshot_take),
 * their slot tables rewritten only where the state changed since: after
 * every publish of a random walk of owner changes, slots opened and closed
 * (closed by hand too, as the bus rules do) and records removed, the
 * published tables are the state's, a held snapshot keeps its own, and the
 * structs do come back. */
TEST(snapshot_tables_match_the_state_when_structs_are_reused)
{
    state_t *st = fx_fresh(1);
    int m[4];
    for (int k = 0; k < 4; k++) m[k] = fx_add(st, 10 + (unsigned)k, NODE_MASTER, true);
    fx_own(st, m[0], 0, 8191);
    fx_own(st, m[1], 8192, 16383);
    state_recount_slots(st);
    publish(st);
    rt_snap_reader_t r;
    REQUIRE(rt_snap_reader_register(st->cell, &r) == 0);
    const cluster_snapshot_t *held = rt_snap_read_begin(&r);
    int16_t held_owner = held->slot_owner[100];
    unsigned seed = 4242;
    const void *seen[300];
    int nseen = 0;
    for (int k = 0; k < 300; k++) {
        seed = seed * 1103515245u + 12345u;
        int slot = (int)((seed >> 8) % SLOT_COUNT);
        int peer = m[(seed >> 4) % 4];
        switch ((seed >> 20) % 5) {
        case 0: st->slot_owner[slot] = (int16_t)peer; state_recount_slots(st); break;
        case 1: state_set_migrating(st, slot, peer); break;
        case 2: state_set_importing(st, slot, peer); break;
        case 3: {   /* close a slot that is open, by hand */
            int o = state_next_open_slot(st, slot);
            if (o < SLOT_COUNT) st->migrating_to[o] = st->importing_from[o] = -1;
            break;
        }
        default: break;   /* nothing: the same tables again */
        }
        publish(st);
        if (k == 150) {
            CHECK_EQ_INT(held->slot_owner[100], held_owner);
            rt_snap_read_end(&r);
            rt_snap_reader_unregister(&r);
        }
        if (k > 150) rt_snap_reclaim(st->cell);
        const cluster_snapshot_t *s = current(st);
        CHECK(memcmp(s->slot_owner, st->slot_owner, sizeof s->slot_owner) == 0);
        CHECK(memcmp(s->migrating_to, st->migrating_to, sizeof s->migrating_to) == 0);
        CHECK(memcmp(s->importing_from, st->importing_from, sizeof s->importing_from) == 0);
        int open = 0;
        for (int i = 0; i < SLOT_COUNT; i++) open += st->migrating_to[i] >= 0 || st->importing_from[i] >= 0;
        CHECK_EQ_INT(s->open_slots, open);
        if (k > 150) seen[nseen++] = s;
    }
    CHECK(distinct_pointers(seen, nseen) <= 4);
}

TEST(snapshot_attachment_order_moves_only_when_a_master_changes)
{
    state_t *st = fx_fresh(1);
    int m1 = fx_add(st, 2, NODE_MASTER, true);
    int m2 = fx_add(st, 3, NODE_MASTER, true);
    int r1 = fx_add(st, 4, NODE_SLAVE, true);
    int r2 = fx_add(st, 5, NODE_SLAVE, true);
    st->nodes[r1].master = m1;
    st->nodes[r2].master = m1;
    publish(st);
    uint64_t a1 = current(st)->nodes[r1].attach_seq, a2 = current(st)->nodes[r2].attach_seq;
    CHECK(a1 != 0 && a2 != 0 && a1 != a2);
    publish(st);
    CHECK_EQ_INT(current(st)->nodes[r1].attach_seq, a1);
    CHECK_EQ_INT(current(st)->nodes[r2].attach_seq, a2);
    /* r1 moves to m2: a new place; r2 stays */
    st->nodes[r1].master = m2;
    publish(st);
    CHECK(current(st)->nodes[r1].attach_seq > a2);
    CHECK_EQ_INT(current(st)->nodes[r2].attach_seq, a2);
    uint64_t b1 = current(st)->nodes[r1].attach_seq;
    /* deleting m2 moves the last record (r2) into its index: r2's master is
     * the same node, so its place stays; r1 lost its master: a new one */
    char r2name[NODE_NAME_LEN + 1], r1name[NODE_NAME_LEN + 1];
    memcpy(r2name, st->nodes[r2].name, sizeof r2name);
    memcpy(r1name, st->nodes[r1].name, sizeof r1name);
    state_del_node(st, m2);
    publish(st);
    int nr2 = state_find(st, r2name, NODE_NAME_LEN), nr1 = state_find(st, r1name, NODE_NAME_LEN);
    REQUIRE(nr2 >= 0 && nr1 >= 0);
    CHECK(nr2 != r2);
    CHECK_EQ_INT(current(st)->nodes[nr2].attach_seq, a2);
    CHECK(current(st)->nodes[nr1].attach_seq > b1);
}

/* Publishes; whether view_gen moved past *g (then *g is the new one). */
static bool view_moved(state_t *st, uint64_t *g)
{
    publish(st);
    uint64_t now = current(st)->view_gen;
    bool moved = now > *g;
    *g = now;
    return moved;
}

/* view_gen stays across publishes that change times, epochs, failure flags
 * or slots, and moves for each thing a gossip entry's address tuple is made
 * of, for a record joining or leaving the view, and for a record added. */
TEST(snapshot_view_gen_moves_only_when_an_address_tuple_changes)
{
    state_t *st = fx_fresh(1);
    int a = fx_add(st, 2, NODE_MASTER, true);
    int b = fx_add(st, 3, NODE_SLAVE, true);
    st->nodes[b].master = a;
    publish(st);
    uint64_t g = current(st)->view_gen;
    CHECK(g >= 1);
    /* none of these is part of a tuple */
    st->nodes[a].pong_received_ms += 5000;
    st->nodes[b].ping_sent_ms += 7000;
    st->nodes[a].config_epoch = 9;
    st->nodes[a].flags |= NODE_PFAIL;
    fx_own(st, a, 0, 99);
    st->current_epoch = 9;
    publish(st);
    CHECK_EQ_INT(current(st)->view_gen, g);
    st->nodes[a].flags = (uint16_t)((st->nodes[a].flags & ~NODE_PFAIL) | NODE_FAIL);
    publish(st);
    CHECK_EQ_INT(current(st)->view_gen, g);
    /* each of these is */
    snprintf(st->nodes[a].ip, sizeof st->nodes[a].ip, "10.0.0.99");
    CHECK(view_moved(st, &g));
    st->nodes[a].port = 7001;
    CHECK(view_moved(st, &g));
    st->nodes[b].cport = 17001;
    CHECK(view_moved(st, &g));
    st->nodes[b].pport = 6001;
    CHECK(view_moved(st, &g));
    st->nodes[b].flags |= NODE_NOADDR;
    CHECK(view_moved(st, &g));
    st->nodes[b].flags &= (uint16_t)~NODE_NOADDR;
    CHECK(view_moved(st, &g));
    fx_add(st, 4, NODE_HANDSHAKE | NODE_MASTER, false);
    CHECK(view_moved(st, &g));
    /* a handshake record renamed to the name its first PONG gave */
    char name[NODE_NAME_LEN + 1];
    fx_name(name, 5);
    state_rename_node(st, st->node_count - 1, name);
    CHECK(view_moved(st, &g));
    st->nodes[st->node_count - 1].flags &= (uint16_t)~NODE_HANDSHAKE;
    CHECK(view_moved(st, &g));
    publish(st);
    CHECK_EQ_INT(current(st)->view_gen, g);
}

/* The state's nodes.conf text, built one record at a time from runs of the
 * slot table, is what the codec prints for the whole table converted at once
 * (the way it was built before): slots in runs and singles, a replica's
 * shown epoch, a handshake record left out, open slots on myself's line. */
TEST(state_conf_text_is_the_codecs_text)
{
    state_t *st = fx_fresh(1);
    int m[4], r[4];
    for (unsigned k = 0; k < 4; k++) {
        m[k] = fx_add(st, 10 + k, NODE_MASTER, true);
        r[k] = fx_add(st, 20 + k, NODE_SLAVE, k % 2 == 0);
        st->nodes[r[k]].master = m[k];
        st->nodes[m[k]].config_epoch = 5 + k;
        st->nodes[m[k]].pong_received_ms = 1700000000000LL + k;
    }
    int hs = fx_add(st, 30, NODE_HANDSHAKE | NODE_MEET, false);
    (void)hs;
    snprintf(st->nodes[m[1]].hostname, sizeof st->nodes[m[1]].hostname, "m1.example");
    st->nodes[m[2]].flags |= NODE_PFAIL;
    fx_own(st, st->myself, 0, 99);
    fx_own(st, m[0], 100, 5000);
    for (int s = 5001; s < 9000; s += 3) st->slot_owner[s] = (int16_t)m[1];
    for (int s = 5002; s < 9000; s += 3) st->slot_owner[s] = (int16_t)m[2];
    fx_own(st, m[3], 9000, 16382);            /* 16383 unassigned */
    state_set_migrating(st, 42, m[0]);
    state_set_importing(st, 7000, m[3]);
    state_set_importing(st, 42, m[1]);
    st->current_epoch = 9;
    st->last_vote_epoch = 4;
    state_recount_slots(st);
    publish(st);

    /* the old way: every record in the codec's form, then the codec */
    const cluster_snapshot_t *s = current(st);
    nodes_conf_node_t *nodes = calloc((size_t)s->node_count, sizeof *nodes);
    REQUIRE(nodes != NULL);
    for (int i = 0; i < s->node_count; i++) state_conf_node(&s->nodes[i], node_shown_epoch(s, i), &nodes[i]);
    for (int k = 0; k < SLOT_COUNT; k++)
        if (st->slot_owner[k] >= 0) nodes[st->slot_owner[k]].slots[k >> 3] |= (uint8_t)(1u << (k & 7));
    nodes_conf_open_slot_t os[3] = {
        { 42, false, "" }, { 42, true, "" }, { 7000, true, "" },
    };
    memcpy(os[0].peer, st->nodes[m[0]].name, NODE_NAME_LEN + 1);
    memcpy(os[1].peer, st->nodes[m[1]].name, NODE_NAME_LEN + 1);
    memcpy(os[2].peer, st->nodes[m[3]].name, NODE_NAME_LEN + 1);
    nodes[st->myself].open_slots = os;
    nodes[st->myself].open_slot_count = 3;
    nodes_conf_t conf = { .nodes = nodes, .node_count = (size_t)s->node_count, .myself = (size_t)st->myself,
                          .current_epoch = 9, .last_vote_epoch = 4 };
    size_t want_len, got_len;
    char *want = nodes_conf_format(&conf, &want_len);
    char *got = state_conf_text(st, &got_len);
    REQUIRE(want && got);
    CHECK_EQ_INT(got_len, want_len);
    CHECK_EQ_STR(got, want);
    CHECK(strstr(got, "m1.example") != NULL);
    CHECK(strstr(got, " 9000-16382") != NULL);
    CHECK(strstr(got, "[42->-") != NULL);
    CHECK(strstr(got, "vars currentEpoch 9 lastVoteEpoch 4\n") != NULL);
    free(want);
    free(got);
    free(nodes);
}

/* state_next_open_slot (only the slots open_hint names, stale bits of closed
 * slots included: the loop closes them by hand) finds exactly
 * the slots a slot-by-slot scan finds, at the table's ends and next to each
 * other too, and the published snapshot counts them. */
TEST(next_open_slot_matches_a_slot_by_slot_scan)
{
    state_t *st = fx_fresh(1);
    int m = fx_add(st, 10, NODE_MASTER, true);
    static const int cases[][6] = {
        { -1 }, { 0, -1 }, { 16383, -1 }, { 15, 16, -1 }, { 1, 2, 3, 4, 5, -1 },
        { 17, 31, 32, 8191, 16368, -1 },
    };
    unsigned seed = 12345;
    for (int c = 0; c < 6 + 40; c++) {
        for (int s = 0; s < SLOT_COUNT; s++) st->migrating_to[s] = st->importing_from[s] = -1;
        if (c < 6) {
            for (int k = 0; cases[c][k] >= 0; k++) {
                if (k % 2) state_set_importing(st, cases[c][k], m);
                else state_set_migrating(st, cases[c][k], m);
            }
        } else {
            int n = (int)(seed % 9);
            for (int k = 0; k < n; k++) {
                seed = seed * 1103515245u + 12345u;
                int s = (int)((seed >> 8) % SLOT_COUNT);
                if (seed & 1) state_set_importing(st, s, 0);
                else state_set_migrating(st, s, m);
            }
            seed = seed * 1103515245u + 12345u;
        }
        int want = -1, count = 0;
        int got = state_next_open_slot(st, 0);
        for (int s = 0; s < SLOT_COUNT; s++) {
            if (st->migrating_to[s] < 0 && st->importing_from[s] < 0) continue;
            count++;
            want = s;
            CHECK_EQ_INT(got, want);
            CHECK_EQ_INT(state_next_open_slot(st, s), s);
            got = state_next_open_slot(st, s + 1);
        }
        CHECK_EQ_INT(got, SLOT_COUNT);
        publish(st);
        CHECK_EQ_INT(current(st)->open_slots, count);
    }
}

/* state_slot_run_end (sixteen slots a step) ends each run where a
 * slot-by-slot scan does; the owners' counts and our header's claim bitmap
 * built from the runs are those of a slot-by-slot pass. */
TEST(slot_runs_match_a_slot_by_slot_scan)
{
    state_t *st = fx_fresh(1);
    int m[3];
    for (int k = 0; k < 3; k++) m[k] = fx_add(st, 10 + k, NODE_MASTER, true);
    unsigned seed = 777;
    for (int c = 0; c < 30; c++) {
        for (int s = 0; s < SLOT_COUNT;) {
            seed = seed * 1103515245u + 12345u;
            int len = 1 + (int)((seed >> 8) % (c % 3 == 0 ? 7 : 3000));
            int o = (int)((seed >> 20) % 5) - 1;                   /* -1 (none), myself, m[0..2] */
            int16_t owner = (int16_t)(o < 0 ? -1 : o == 0 ? st->myself : m[o - 1]);
            for (int e = s + len; s < e && s < SLOT_COUNT; s++) st->slot_owner[s] = owner;
        }
        if (c == 1) for (int s = 0; s < SLOT_COUNT; s++) st->slot_owner[s] = (int16_t)st->myself;
        int counts[8] = { 0 };
        uint8_t bits[SLOT_COUNT / 8] = { 0 };
        for (int s = 0; s < SLOT_COUNT; s++) {
            int e = s + 1;
            while (e < SLOT_COUNT && st->slot_owner[e] == st->slot_owner[s]) e++;
            CHECK_EQ_INT(state_slot_run_end(st, s), e);
            if (st->slot_owner[s] >= 0) counts[st->slot_owner[s]]++;
            if (st->slot_owner[s] == st->myself) bits[s >> 3] |= (uint8_t)(1u << (s & 7));
        }
        state_recount_slots(st);
        for (int i = 0; i < st->node_count; i++) CHECK_EQ_INT(st->nodes[i].slot_count, counts[i]);
        publish(st);
        CHECK(memcmp(current(st)->hdr.myslots, bits, sizeof bits) == 0);
    }
}

/* test_name_memo.c - the memo of names each thread keeps in front of the
 * snapshot's name index (cluster_snapshot_find, actors/state/state_names.c):
 * it answers as the keyed-hash probe would, or not at all, whatever the table
 * did since an entry was made.
 */
#include <string.h>

#include "tests/unit/state_fixture.h"

/* The name memo (each thread's, state_names.c) never hides a change: over
 * 3,000 rounds of adds, deletes (which move the last record) and renames,
 * each published, every lookup through the memo (in a snapshot just
 * published and in one a reader still holds, in turn, so that entries made
 * from one index are offered to the other) gives what a scan of that
 * snapshot's table gives, for present, removed and never-seen names. Random
 * names, and counter-like ones that differ only at the end. */
static void memo_name(char out[NODE_NAME_LEN + 1], uint64_t *seed, bool counter)
{
    *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
    if (counter) snprintf(out, NODE_NAME_LEN + 1, "%040llx", (unsigned long long)(*seed >> 52));
    else snprintf(out, NODE_NAME_LEN + 1, "%016llx%016llx%08x", (unsigned long long)*seed,
                  (unsigned long long)(*seed * 0x9e3779b97f4a7c15ull), (unsigned)(*seed >> 17));
}

static int scan_find(const cluster_snapshot_t *s, const char *name)
{
    for (int i = 0; i < s->node_count; i++)
        if (!memcmp(s->nodes[i].name, name, NODE_NAME_LEN)) return i;
    return -1;
}

TEST(digest_name_memo_never_hides_a_change)
{
    state_t *st = fx_fresh(1);
    uint64_t seed = 0x853c49e6748fea9bull;
    enum { KEEP = 64 };
    char seen[KEEP][NODE_NAME_LEN + 1];   /* names that were in the table at some point */
    int nseen = 0;
    for (int i = 0; i < 200; i++) {
        char name[NODE_NAME_LEN + 1];
        memo_name(name, &seed, i & 1);
        if (state_find(st, name, NODE_NAME_LEN) < 0) state_add_node(st, name, NODE_MASTER);
    }
    rt_snap_reader_t rd;
    REQUIRE(rt_snap_reader_register(st->cell, &rd) == 0);
    state_publish(st);
    const cluster_snapshot_t *old = rt_snap_read_begin(&rd);
    long checks = 0, bad = 0;
    for (int round = 0; round < 3000; round++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        int op = (int)((seed >> 33) % 4), k = 1 + (int)((seed >> 40) % (uint64_t)(st->node_count - 1));
        char name[NODE_NAME_LEN + 1];
        memcpy(seen[nseen++ % KEEP], st->nodes[k].name, NODE_NAME_LEN + 1);
        memo_name(name, &seed, (seed >> 7) & 1);
        if (op == 0 && k != st->myself) state_del_node(st, k);
        else if (op == 1 && state_find(st, name, NODE_NAME_LEN) < 0) state_rename_node(st, k, name);
        else if (op == 2 && state_find(st, name, NODE_NAME_LEN) < 0) state_add_node(st, name, NODE_MASTER);
        st->dirty_snapshot = true;
        state_publish(st);
        const cluster_snapshot_t *now = rt_snap_writer_current(st->cell);
        for (int q = 0; q < 40; q++) {
            const cluster_snapshot_t *s = (q & 1) ? old : now;
            const char *ask;
            char fresh[NODE_NAME_LEN + 1];
            int pick = (int)((seed >> (q % 50)) % 3);
            if (pick == 0) ask = s->nodes[(q * 7919 + round) % s->node_count].name;
            else if (pick == 1) ask = seen[(q * 31 + round) % (nseen < KEEP ? nseen : KEEP)];
            else { memo_name(fresh, &seed, q & 2); ask = fresh; }
            checks++;
            if (cluster_snapshot_find(s, ask) != scan_find(s, ask)) bad++;
        }
        if (round % 50 == 49) {   /* the reader moves on to the newest snapshot */
            rt_snap_read_end(&rd);
            old = rt_snap_read_begin(&rd);
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(checks == 3000L * 40);
    rt_snap_read_end(&rd);
    rt_snap_reader_unregister(&rd);
}

/* The memo of names not found (state_names.c, g_absent) answers only for its
 * own index: a name asked for twice while absent (the second answer from the
 * memo) is found once it is added and published, and stays absent in the
 * snapshot a reader still holds; a name that shares its memo entry is not
 * taken for it. */
TEST(digest_absent_name_memo_follows_the_index)
{
    state_t *st = fx_fresh(1);
    for (int i = 0; i < 20; i++) {
        char name[NODE_NAME_LEN + 1];
        snprintf(name, sizeof name, "%040x", 0x1000 + i);
        state_add_node(st, name, NODE_MASTER);
    }
    rt_snap_reader_t rd;
    REQUIRE(rt_snap_reader_register(st->cell, &rd) == 0);
    state_publish(st);
    const cluster_snapshot_t *old = rt_snap_read_begin(&rd);
    const char *absent = "abcdef0123456789abcdef0123456789abcdef01";
    CHECK_EQ_INT(cluster_snapshot_find(old, absent), -1);
    CHECK_EQ_INT(cluster_snapshot_find(old, absent), -1);
    char twin[NODE_NAME_LEN + 1];   /* differs in a byte the memo's slot does not read */
    memcpy(twin, absent, sizeof twin);
    twin[20] = twin[20] == 'f' ? 'e' : 'f';
    int at = state_add_node(st, twin, NODE_MASTER);
    st->dirty_snapshot = true;
    state_publish(st);
    const cluster_snapshot_t *now = rt_snap_writer_current(st->cell);
    CHECK_EQ_INT(cluster_snapshot_find(now, absent), -1);
    CHECK_EQ_INT(cluster_snapshot_find(now, twin), at);
    CHECK_EQ_INT(cluster_snapshot_find(now, absent), -1);
    int added = state_add_node(st, absent, NODE_MASTER);
    st->dirty_snapshot = true;
    state_publish(st);
    now = rt_snap_writer_current(st->cell);
    CHECK_EQ_INT(cluster_snapshot_find(now, absent), added);
    CHECK_EQ_INT(cluster_snapshot_find(old, absent), -1);
    CHECK_EQ_INT(cluster_snapshot_find(old, twin), -1);
    CHECK_EQ_INT(cluster_snapshot_find(now, twin), at);
    rt_snap_read_end(&rd);
    rt_snap_reader_unregister(&rd);
}

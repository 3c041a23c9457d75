/* test_node_index.c - the state actor's name index (actors/state/node_index.h) and
 * the node-table helpers that keep it in step (state_find, state_add_node,
 * state_del_node, state_rename_node, state_clear_nodes), including the cap
 * on the table's size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/state/node_index.h"
#include "actors/state/state_internal.h"
#include "tests/unit/unit.h"

/* Reference values of SipHash-2-4 from its authors' paper (key 00..0f). */
TEST(node_index_siphash_reference_vectors)
{
    uint8_t msg[64];
    for (int i = 0; i < 64; i++) msg[i] = (uint8_t)i;
    uint64_t k0 = 0x0706050403020100ull, k1 = 0x0f0e0d0c0b0a0908ull;
    CHECK(node_index_siphash(msg, 0, k0, k1) == 0x726fdb47dd0e0e31ull);
    CHECK(node_index_siphash(msg, 15, k0, k1) == 0xa129ca6149be45e5ull);
    CHECK(node_index_siphash(msg, 8, k0, k1) == 0x93f5f5799a932462ull);
}

static void random_name(char out[40], unsigned *seed)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 40; i++) out[i] = hex[rand_r(seed) & 15];
}

/* Random puts, deletes and finds against a plain array, with few distinct
 * names so that chains collide, wrap around the table's end and get holes
 * punched in them. */
TEST(node_index_matches_a_linear_table)
{
    enum { NAMES = 300, OPS = 200000 };
    static char names[NAMES][40];
    int want[NAMES];
    unsigned seed = 12345;
    for (int i = 0; i < NAMES; i++) {
        random_name(names[i], &seed);
        want[i] = -1;
    }
    node_index_t x;
    node_index_init(&x, 1, 2);
    int present = 0;
    for (int op = 0; op < OPS; op++) {
        int i = rand_r(&seed) % NAMES;
        int what = rand_r(&seed) % 3;
        if (what == 0) {
            int v = rand_r(&seed) % 100000;
            CHECK_EQ_INT(node_index_put(&x, names[i], v), 0);
            if (want[i] < 0) present++;
            want[i] = v;
        } else if (what == 1) {
            CHECK_EQ_INT(node_index_del(&x, names[i]), want[i] >= 0);
            if (want[i] >= 0) present--;
            want[i] = -1;
        }
        CHECK_EQ_INT(node_index_find(&x, names[i]), want[i]);
        CHECK_EQ_INT(x.count, present);
        CHECK(2 * x.count <= x.cap);
        if (op % 5000 == 0)
            for (int k = 0; k < NAMES; k++) CHECK_EQ_INT(node_index_find(&x, names[k]), want[k]);
    }
    for (int k = 0; k < NAMES; k++) CHECK_EQ_INT(node_index_find(&x, names[k]), want[k]);
    node_index_clear(&x);
    CHECK_EQ_INT(x.count, 0);
    for (int k = 0; k < NAMES; k++) CHECK_EQ_INT(node_index_find(&x, names[k]), -1);
    node_index_free(&x);
    /* an index never used finds nothing and frees cleanly */
    node_index_init(&x, 0, 0);
    CHECK_EQ_INT(node_index_find(&x, names[0]), -1);
    CHECK(!node_index_del(&x, names[0]));
    node_index_free(&x);
}

/* A state of the tests' own (the rules take a state_t *; no actor runs). */
static state_t test_state;
static rt_snap_cell_t test_cell;
static state_t *const st = &test_state;

static void state_fresh(void)
{
    static bool inited;
    if (inited) state_free(st);
    state_init(st, &test_cell);
    inited = true;
}

/* state_find follows every change of the node table: add, delete (the last
 * record moves into the hole), rename (handshake completion, hard reset) and
 * clear (reset). */
TEST(state_find_by_hash_follows_the_table)
{
    state_fresh();
    unsigned seed = 777;
    char names[64][NODE_NAME_LEN + 1];
    for (int i = 0; i < 64; i++) {
        random_name(names[i], &seed);
        names[i][NODE_NAME_LEN] = '\0';
        CHECK_EQ_INT(state_add_node(st, names[i], NODE_MASTER), i);
    }
    for (int i = 0; i < 64; i++) CHECK_EQ_INT(state_find(st, names[i], NODE_NAME_LEN), i);
    CHECK_EQ_INT(state_find(st, names[0], 39), -1);
    /* delete record 5: record 63 moves to index 5 */
    state_del_node(st, 5);
    CHECK_EQ_INT(st->node_count, 63);
    CHECK_EQ_INT(state_find(st, names[5], NODE_NAME_LEN), -1);
    CHECK_EQ_INT(state_find(st, names[63], NODE_NAME_LEN), 5);
    CHECK(!memcmp(st->nodes[5].name, names[63], NODE_NAME_LEN));
    /* delete the last record: nothing moves */
    state_del_node(st, st->node_count - 1);
    CHECK_EQ_INT(state_find(st, names[62], NODE_NAME_LEN), -1);
    for (int i = 0; i < 62; i++)
        if (i != 5) CHECK_EQ_INT(state_find(st, names[i], NODE_NAME_LEN), i);
    /* rename */
    char fresh[NODE_NAME_LEN + 1];
    random_name(fresh, &seed);
    fresh[NODE_NAME_LEN] = '\0';
    state_rename_node(st, 7, fresh);
    CHECK_EQ_INT(state_find(st, names[7], NODE_NAME_LEN), -1);
    CHECK_EQ_INT(state_find(st, fresh, NODE_NAME_LEN), 7);
    CHECK_EQ_STR(st->nodes[7].name, fresh);
    /* clear */
    state_clear_nodes(st);
    CHECK_EQ_INT(st->node_count, 0);
    CHECK_EQ_INT(state_find(st, fresh, NODE_NAME_LEN), -1);
    CHECK_EQ_INT(state_find(st, names[0], NODE_NAME_LEN), -1);
}

/* The table stops at STATE_MAX_NODES records (7.0.15 has no limit). */
TEST(state_node_table_is_capped)
{
    state_fresh();
    unsigned seed = 4242;
    static char names[STATE_MAX_NODES + 1][NODE_NAME_LEN + 1];
    for (int i = 0; i <= STATE_MAX_NODES; i++) {
        random_name(names[i], &seed);
        names[i][NODE_NAME_LEN] = '\0';
    }
    for (int i = 0; i < STATE_MAX_NODES; i++) {
        int k = state_add_node(st, names[i], NODE_MASTER);
        CHECK_EQ_INT(k, i);
        if (k != i) break;
    }
    CHECK_EQ_INT(state_add_node(st, names[STATE_MAX_NODES], NODE_MASTER), -1);
    CHECK_EQ_INT(st->node_count, STATE_MAX_NODES);
    CHECK_EQ_INT(state_find(st, names[STATE_MAX_NODES], NODE_NAME_LEN), -1);
    for (int i = 0; i < STATE_MAX_NODES; i++) CHECK_EQ_INT(state_find(st, names[i], NODE_NAME_LEN), i);
    /* freeing a record makes room again */
    state_del_node(st, 0);
    CHECK_EQ_INT(state_add_node(st, names[STATE_MAX_NODES], NODE_MASTER), STATE_MAX_NODES - 1);
    state_fresh();
}

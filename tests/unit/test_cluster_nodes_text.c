/* test_cluster_nodes_text.c - the CLUSTER NODES text of a large snapshot
 * (actors/commands/cmd_cluster.c): state_format_nodes, which reads the slot
 * table once for all lines, gives byte for byte the lines that
 * state_format_node_line gives one by one (each reading the table itself),
 * and at 1,000 nodes it costs a fraction of that line-by-line walk (the walk
 * took 14-38 ms a call at 1,000 nodes, which delayed every poll of CLUSTER
 * NODES, e.g. the time for a FAIL to show there).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/state/state.h"
#include "proto/resp.h"
#include "tests/unit/unit.h"

/* n nodes as `redis-cli --cluster create --cluster-replicas 1` lays them out:
 * 0..n/2-1 masters with an even slot split, the rest their replicas; the
 * last master also owns every 7th slot of the first master's range (short
 * runs), the last slot is unassigned, and myself (node 0) has open slots. */
static cluster_snapshot_t *snap_new(int n)
{
    cluster_snapshot_t *s = calloc(1, sizeof *s);
    s->nodes = calloc((size_t)n, sizeof *s->nodes);
    s->node_count = n;
    s->myself = 0;
    int masters = n / 2;
    for (int i = 0; i < n; i++) {
        node_view_t *v = &s->nodes[i];
        snprintf(v->name, sizeof v->name, "%040x", i + 1);
        snprintf(v->ip, sizeof v->ip, "10.0.%d.%d", i / 256, i % 256);
        v->hostname = i == n - 1 ? "host-five" : "";
        v->port = 7000 + i;
        v->cport = 17000 + i;
        v->pong_received_ms = 1700000000000LL + i;
        v->config_epoch = (uint64_t)i + 1;
        v->link_connected = true;
        if (i < masters) {
            v->flags = NODE_MASTER;
            v->master = -1;
        } else {
            v->flags = NODE_SLAVE;
            v->master = (i - masters + 1) % masters;
            memcpy(v->master_name, s->nodes[v->master].name, sizeof v->master_name);
        }
    }
    s->nodes[0].flags |= NODE_MYSELF;
    s->nodes[n - 1].flags |= NODE_PFAIL;
    for (int k = 0; k < SLOT_COUNT; k++) {
        s->slot_owner[k] = (int16_t)((long long)k * masters / SLOT_COUNT);
        s->migrating_to[k] = s->importing_from[k] = -1;
    }
    for (int k = 0; k < SLOT_COUNT / masters; k += 7) s->slot_owner[k] = (int16_t)(masters - 1);
    s->slot_owner[SLOT_COUNT - 1] = -1;
    s->migrating_to[1] = (int16_t)(n - 1);
    s->importing_from[100] = (int16_t)(n - 1);
    return s;
}

static void snap_free(cluster_snapshot_t *s)
{
    free(s->nodes);
    free(s);
}

static void line_by_line(const cluster_snapshot_t *s, resp_buf_t *out)
{
    for (int i = 0; i < s->node_count; i++) {
        state_format_node_line(s, i, out, true);
        resp_buf_append(out, "\n", 1);
    }
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

TEST(cluster_nodes_text_same_as_line_by_line)
{
    int sizes[] = { 2, 6, 100, 1000 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        cluster_snapshot_t *s = snap_new(sizes[k]);
        resp_buf_t all, each;
        resp_buf_init(&all, 2);
        resp_buf_init(&each, 2);
        state_format_nodes(s, &all, false);
        line_by_line(s, &each);
        CHECK_EQ_INT(all.len, each.len);
        CHECK(all.len == each.len && memcmp(all.data, each.data, all.len) == 0);
        resp_buf_free(&all);
        resp_buf_free(&each);
        snap_free(s);
    }
}

TEST(cluster_nodes_text_reads_the_slot_table_once)
{
    cluster_snapshot_t *s = snap_new(1000);
    double best_all = 1e9, best_each = 1e9;
    for (int round = 0; round < 3; round++) {
        resp_buf_t b;
        resp_buf_init(&b, 2);
        double t0 = cpu_ms();
        state_format_nodes(s, &b, false);
        double t1 = cpu_ms();
        resp_buf_reset(&b);
        line_by_line(s, &b);
        double t2 = cpu_ms();
        if (t1 - t0 < best_all) best_all = t1 - t0;
        if (t2 - t1 < best_each) best_each = t2 - t1;
        resp_buf_free(&b);
    }
    /* the walk reads 1,000 x 16,384 owners; the single pass 16,384 plus the lines */
    if (!(best_all * 3 < best_each))
        printf("  format_nodes %.2f ms, line by line %.2f ms\n", best_all, best_each);
    CHECK(best_all * 3 < best_each);
    snap_free(s);
}

/* cmd_cluster.c - the CLUSTER subcommands as a worker runs them. Readers
 * (INFO, NODES, SLOTS, SHARDS, MYID, KEYSLOT, REPLICAS, ...) answer from the
 * snapshot the worker holds; COUNTKEYSINSLOT and GETKEYSINSLOT run on the
 * worker that owns the slot's keys; everything that changes cluster state is
 * forwarded to the state actor (state_cmds.c), which replies when the change
 * is durable.
 *
 * Must never: change cluster state from a worker.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/bus/bus_dstats.h"
#include "actors/bus/link.h"
#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/state/asm.h"
#include "actors/state/state.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "proto/nodes_conf.h"
#include "proto/slot.h"
#include "proto/strnum.h"
#include "runtime/xmalloc.h"

/* Room for one CLUSTER NODES line, at worst: the fixed fields (name,
 * address, flags, master, times, epoch, link state), then every slot alone
 * ("16383 " with no neighbour to form a range), then each open-slot mark. */
#define NODE_LINE_FIXED_MAX     512
#define NODE_LINE_SLOT_MAX      6
#define NODE_LINE_OPEN_SLOT_MAX 64

static const cluster_snapshot_t *snap(cmd_ctx_t *ctx) { return worker_snapshot(ctx->worker); }

static void to_state(cmd_ctx_t *ctx) { dispatch_defer(ctx, state_actor(), STATE_MSG_CMD); }

void cmd_cluster_addslots(cmd_ctx_t *ctx) { to_state(ctx); }
void cmd_cluster_addslotsrange(cmd_ctx_t *ctx) { to_state(ctx); }
void cmd_cluster_delslots(cmd_ctx_t *ctx) { to_state(ctx); }
void cmd_cluster_delslotsrange(cmd_ctx_t *ctx) { to_state(ctx); }
void cmd_cluster_flushslots(cmd_ctx_t *ctx) { to_state(ctx); }
void cmd_cluster_set_config_epoch(cmd_ctx_t *ctx) { to_state(ctx); }
void cmd_cluster_bumpepoch(cmd_ctx_t *ctx) { to_state(ctx); }
void cmd_cluster_reset(cmd_ctx_t *ctx) { to_state(ctx); }
void cmd_cluster_saveconfig(cmd_ctx_t *ctx) { to_state(ctx); }

void cmd_cluster_meet(cmd_ctx_t *ctx) { to_state(ctx); }
void cmd_cluster_forget(cmd_ctx_t *ctx) { to_state(ctx); }
void cmd_cluster_replicate(cmd_ctx_t *ctx) { to_state(ctx); }
void cmd_cluster_failover(cmd_ctx_t *ctx) { to_state(ctx); }
/* SETSLOT NODE needs this node's key count in the slot (state_slots.c).
 * Taken here when it can be read without a message (the slot is ours, or
 * its worker sleeps: worker_count_slot_keys), it saves the state actor a
 * round trip to that worker; otherwise the state actor asks for it. */
void cmd_cluster_setslot(cmd_ctx_t *ctx)
{
    long long slot, count;
    bool counted = ctx->argc == 5 && arg_is_at(ctx, 3, "node") &&
                   arg_ll(ctx->argv[2], ctx->argvlen[2], &slot) && slot >= 0 && slot < SLOT_COUNT &&
                   worker_count_slot_keys(ctx->worker, (unsigned)slot, &count);
    remote_cmd_t *rc = dispatch_defer_nosend(ctx, STATE_MSG_CMD);
    if (counted) {
        rc->keys_delta = count;
        rc->slot_counted = true;
    }
    /* In a transaction the command goes by message, as every state command. */
    if (!rc->slot->txn_part) {
        worker_reply_here_begin(ctx->client, rc);
        bool ran = state_run_borrowed(rc);
        worker_reply_here_end(ctx->worker, rc);   /* its reply, when the round gave it */
        if (ran) return;
    }
    rt_send(state_actor(), &rc->hdr);
}

void cmd_cluster_migrateslots(cmd_ctx_t *ctx) { to_state(ctx); }
void cmd_cluster_getslotmigrations(cmd_ctx_t *ctx) { to_state(ctx); }
void cmd_cluster_cancelslotmigrations(cmd_ctx_t *ctx) { to_state(ctx); }

/* SYNCSLOTS comes from the source's lanes (actors/worker/asm_lane.c): the
 * connection that sends ESTABLISH becomes a lane, whose commands may reach
 * the hidden slots of its import (routing, dispatch.c) and whose close
 * fails the import (state_asm.c). The state actor learns which client it is. */
void cmd_cluster_syncslots(cmd_ctx_t *ctx)
{
    if (ctx->client && arg_is(ctx->argv[2], ctx->argvlen[2], "establish")) ctx->client->flags |= CLIENT_ASM_LANE;
    remote_cmd_t *rc = dispatch_defer_nosend(ctx, STATE_MSG_CMD);
    rc->client_id = ctx->client ? ctx->client->id : 0;
    rt_send(state_actor(), &rc->hdr);
}

void cmd_cluster_links(cmd_ctx_t *ctx)
{
    const cluster_snapshot_t *s = snap(ctx);
    link_peer_t *peers = s->node_count ? calloc((size_t)s->node_count, sizeof *peers) : NULL;
    size_t n = 0;
    for (int i = 0; i < s->node_count && peers; i++) {
        if (i == s->myself) continue;
        peers[n++] = (link_peer_t){ s->nodes[i].name, s->nodes[i].out_link, s->nodes[i].in_link };
    }
    links_reply(ctx->reply, peers, n);
    free(peers);
}

void cmd_cluster_myid(cmd_ctx_t *ctx)
{
    const cluster_snapshot_t *s = snap(ctx);
    resp_add_bulk(ctx->reply, s->nodes[s->myself].name, NODE_NAME_LEN);
}

void cmd_cluster_keyslot(cmd_ctx_t *ctx)
{
    resp_add_int(ctx->reply, slot_of_key(ctx->argv[2], ctx->argvlen[2]));
}

static int find_node(const cluster_snapshot_t *s, const uint8_t *name, size_t len)
{
    return len == NODE_NAME_LEN ? cluster_snapshot_find(s, (const char *)name) : -1;
}

void cmd_cluster_count_failure_reports(cmd_ctx_t *ctx)
{
    const cluster_snapshot_t *s = snap(ctx);
    int i = find_node(s, ctx->argv[2], ctx->argvlen[2]);
    if (i < 0) {
        resp_add_errorf(ctx->reply, "ERR Unknown node %.*s", (int)ctx->argvlen[2], (const char *)ctx->argv[2]);
        return;
    }
    resp_add_int(ctx->reply, s->nodes[i].fail_reports);
}

void cmd_cluster_countkeysinslot(cmd_ctx_t *ctx)
{
    long long slot;
    if (!arg_ll(ctx->argv[2], ctx->argvlen[2], &slot)) {
        resp_add_error(ctx->reply, "ERR value is not an integer or out of range");
        return;
    }
    if (slot < 0 || slot >= SLOT_COUNT) {
        resp_add_error(ctx->reply, "ERR Invalid slot");
        return;
    }
    if (ctx->client && worker_of_slot((unsigned)slot) != worker_index(ctx->worker)) {
        dispatch_keyed_at(ctx, (int)slot);
        return;
    }
    /* a slot still being imported (state/asm.h) shows none of its keys */
    bool hidden = asm_slot_hidden((unsigned)slot);
    resp_add_int(ctx->reply, hidden ? 0 : (long long)ks_count_in_slot(ctx->ks, (unsigned)slot));
}

void cmd_cluster_getkeysinslot(cmd_ctx_t *ctx)
{
    long long slot, count;
    if (!arg_ll(ctx->argv[2], ctx->argvlen[2], &slot) || !arg_ll(ctx->argv[3], ctx->argvlen[3], &count)) {
        resp_add_error(ctx->reply, "ERR value is not an integer or out of range");
        return;
    }
    if (slot < 0 || slot >= SLOT_COUNT || count < 0) {
        resp_add_error(ctx->reply, "ERR Invalid slot or number of keys");
        return;
    }
    if (ctx->client && worker_of_slot((unsigned)slot) != worker_index(ctx->worker)) {
        dispatch_keyed_at(ctx, (int)slot);
        return;
    }
    if (asm_slot_hidden((unsigned)slot)) count = 0;   /* still being imported: none shown */
    /* the slot's list holds exactly its count of keys: the array's length
     * is known before the walk, and the keys go straight into the reply */
    size_t n = ks_count_in_slot(ctx->ks, (unsigned)slot);
    if ((unsigned long long)count < n) n = (size_t)count;
    resp_add_array(ctx->reply, (long long)n);
    resp_bulk_list_t acc = { ctx->reply, 0 };
    ks_keys_in_slot(ctx->ks, (unsigned)slot, n, resp_bulk_collect, &acc);
}

void cmd_cluster_info(cmd_ctx_t *ctx)
{
    const cluster_snapshot_t *s = snap(ctx);
    int assigned = 0, ok = 0, pfail = 0, fail = 0;
    for (int i = 0; i < SLOT_COUNT; i++) {
        int o = s->slot_owner[i];
        if (o < 0) continue;
        assigned++;
        if (s->nodes[o].flags & NODE_FAIL) fail++;
        else if (s->nodes[o].flags & NODE_PFAIL) pfail++;
        else ok++;
    }
    char buf[4096];
    int n = snprintf(buf, sizeof buf,
                     "cluster_state:%s\r\ncluster_slots_assigned:%d\r\ncluster_slots_ok:%d\r\n"
                     "cluster_slots_pfail:%d\r\ncluster_slots_fail:%d\r\ncluster_known_nodes:%d\r\n"
                     "cluster_size:%d\r\ncluster_current_epoch:%llu\r\ncluster_my_epoch:%llu\r\n",
                     s->state_ok ? "ok" : "fail", assigned, ok, pfail, fail, s->node_count, s->size,
                     (unsigned long long)s->current_epoch, (unsigned long long)node_shown_epoch(s, s->myself));
    /* Per-type counters in type order, only those that are non-zero, then the totals. */
    static const char *names[BUS_TYPE_COUNT] = { "ping", "pong", "meet", "fail", "publish", "auth-req",
                                                 "auth-ack", "update", "mfstart", "module", "publishshard" };
    bus_dstats_sum_t st;
    bus_dstats_sum(&st);
    long long total = 0;
    for (int t = 0; t < BUS_TYPE_COUNT; t++) {
        long long v = st.sent[t];
        total += v;
        if (v) n += snprintf(buf + n, sizeof buf - (size_t)n, "cluster_stats_messages_%s_sent:%lld\r\n", names[t], v);
    }
    n += snprintf(buf + n, sizeof buf - (size_t)n, "cluster_stats_messages_sent:%lld\r\n", total);
    total = 0;
    for (int t = 0; t < BUS_TYPE_COUNT; t++) {
        long long v = st.received[t];
        total += v;
        if (v) n += snprintf(buf + n, sizeof buf - (size_t)n, "cluster_stats_messages_%s_received:%lld\r\n", names[t], v);
    }
    n += snprintf(buf + n, sizeof buf - (size_t)n,
                  "cluster_stats_messages_received:%lld\r\ntotal_cluster_links_buffer_limit_exceeded:%lld\r\n", total,
                  atomic_load_explicit(&g_links_buffer_limit_exceeded, memory_order_relaxed));
    resp_add_verbatim(ctx->reply, buf, (size_t)n);
}

/* ---- CLUSTER NODES text ---- */

static nodes_conf_open_slot_t *open_slots_of(const cluster_snapshot_t *s, size_t *count)
{
    size_t k = 0;
    nodes_conf_open_slot_t *os = NULL;
    for (int i = 0; i < SLOT_COUNT; i++) {
        if (s->migrating_to[i] < 0 && s->importing_from[i] < 0) continue;
        nodes_conf_open_slot_t *n = xrealloc(os, sizeof *os * (k + 2));
        os = n;
        if (s->migrating_to[i] >= 0) {
            os[k].slot = (uint16_t)i;
            os[k].importing = false;
            memcpy(os[k].peer, s->nodes[s->migrating_to[i]].name, NODE_NAME_LEN + 1);
            k++;
        }
        if (s->importing_from[i] >= 0) {
            os[k].slot = (uint16_t)i;
            os[k].importing = true;
            memcpy(os[k].peer, s->nodes[s->importing_from[i]].name, NODE_NAME_LEN + 1);
            k++;
        }
    }
    *count = k;
    return os;
}

/* The slot table as maximal runs of one owner, grouped by owner (each
 * owner's runs in slot order): one pass over the table serves every line of
 * CLUSTER NODES, where a pass per line costs N x 16384 reads (~10-20 ms at
 * 1,000 nodes, and CLUSTER NODES is what operators and tools poll). */
typedef struct slot_run {
    uint16_t start, end;          /* inclusive */
} slot_run_t;

typedef struct slot_runs {
    slot_run_t *runs;             /* grouped by owner */
    int *first;                   /* node_count + 1 offsets into runs */
} slot_runs_t;

static void slot_runs_build(const cluster_snapshot_t *s, slot_runs_t *r)
{
    r->first = xcalloc((size_t)s->node_count + 1, sizeof *r->first);
    int total = 0;
    for (int i = 0; i < SLOT_COUNT; i++) {
        int o = s->slot_owner[i];
        if (o < 0 || (i > 0 && s->slot_owner[i - 1] == o)) continue;
        r->first[o + 1]++;
        total++;
    }
    for (int k = 0; k < s->node_count; k++) r->first[k + 1] += r->first[k];
    r->runs = xmalloc((size_t)(total ? total : 1) * sizeof *r->runs);
    int *fill = xmalloc(((size_t)s->node_count + 1) * sizeof *fill);
    memcpy(fill, r->first, ((size_t)s->node_count + 1) * sizeof *fill);
    for (int i = 0; i < SLOT_COUNT;) {
        int o = s->slot_owner[i];
        int j = i;
        while (j + 1 < SLOT_COUNT && s->slot_owner[j + 1] == o) j++;
        if (o >= 0) r->runs[fill[o]++] = (slot_run_t){ (uint16_t)i, (uint16_t)j };
        i = j + 1;
    }
    free(fill);
}

static void slot_runs_free(slot_runs_t *r)
{
    free(r->runs);
    free(r->first);
}

/* One line; `runs` NULL: find node idx's slots in the table itself. `c` and
 * `line` (of `cap` bytes, room for any line without open slots) are scratch. */
/* CLUSTER NODES / REPLICAS for a plain-text client of a TLS cluster: lines
 * show the plain ports (dispatch_port). Set around one reply. */
static __thread bool tl_plain_client;

static void format_node_line(const cluster_snapshot_t *s, int idx, const slot_runs_t *runs,
                             nodes_conf_node_t *c, char **line, size_t *cap,
                             resp_buf_t *out, bool with_open_slots)
{
    state_conf_node(&s->nodes[idx], node_shown_epoch(s, idx), c);
    if (tl_plain_client && s->nodes[idx].pport) c->port = s->nodes[idx].pport;
    /* PONGs links noted since s was published (state.h, node_view_*) */
    c->ping_sent = node_view_ping_sent(s, idx);
    c->pong_received = node_view_pong_received(s, idx);
    if (runs) {
        for (int k = runs->first[idx]; k < runs->first[idx + 1]; k++)
            for (unsigned i = runs->runs[k].start; i <= runs->runs[k].end; i++)
                c->slots[i >> 3] |= (uint8_t)(1u << (i & 7));
    } else {
        for (int i = 0; i < SLOT_COUNT; i++)
            if (s->slot_owner[i] == idx) c->slots[i >> 3] |= (uint8_t)(1u << (i & 7));
    }
    if (with_open_slots && idx == s->myself) c->open_slots = open_slots_of(s, &c->open_slot_count);
    size_t need = NODE_LINE_FIXED_MAX + SLOT_COUNT * NODE_LINE_SLOT_MAX
                  + c->open_slot_count * NODE_LINE_OPEN_SLOT_MAX;
    if (need > *cap) {
        free(*line);
        *line = xmalloc(need);
        *cap = need;
    }
    size_t n = nodes_conf_format_line(*line, *cap, c, with_open_slots);
    resp_buf_append(out, *line, n);
    free(c->open_slots);
    c->open_slots = NULL;
    c->open_slot_count = 0;
}

void state_format_node_line(const cluster_snapshot_t *s, int idx, resp_buf_t *out, bool with_open_slots)
{
    nodes_conf_node_t *c = xmalloc(sizeof *c);
    char *line = NULL;
    size_t cap = 0;
    format_node_line(s, idx, NULL, c, &line, &cap, out, with_open_slots);
    free(line);
    free(c);
}

void state_format_nodes(const cluster_snapshot_t *s, resp_buf_t *out, bool for_nodes_conf)
{
    slot_runs_t runs;
    slot_runs_build(s, &runs);
    nodes_conf_node_t *c = xmalloc(sizeof *c);
    char *line = NULL;
    size_t cap = 0;
    for (int i = 0; i < s->node_count; i++) {
        if (for_nodes_conf && (s->nodes[i].flags & NODE_HANDSHAKE)) continue;
        format_node_line(s, i, &runs, c, &line, &cap, out, true);
        resp_buf_append(out, "\n", 1);
    }
    free(line);
    free(c);
    slot_runs_free(&runs);
}

void cmd_cluster_nodes(cmd_ctx_t *ctx)
{
    resp_buf_t text;
    resp_buf_init(&text, 2);
    tl_plain_client = ctx->client && !ctx->client->tls && config_get_num(CONFIG_TLS_CLUSTER);
    state_format_nodes(snap(ctx), &text, false);
    tl_plain_client = false;
    resp_add_verbatim(ctx->reply, text.data, text.len);
    resp_buf_free(&text);
}

/* The replicas of `master` in 7.0.15's order (when each attached, see
 * node_view_t.attach_seq): a malloc'ed array of indexes (the caller frees
 * it; NULL when there are none or memory ran out), their count in *n. */
static int *replicas_in_order(const cluster_snapshot_t *s, int master, int *n)
{
    int count = 0;
    for (int k = 0; k < s->node_count; k++)
        if (s->nodes[k].master == master && (s->nodes[k].flags & NODE_SLAVE)) count++;
    *n = 0;
    int *out = count ? malloc(sizeof *out * (size_t)count) : NULL;
    if (!out) return NULL;
    for (int k = 0; k < s->node_count; k++) {
        if (s->nodes[k].master != master || !(s->nodes[k].flags & NODE_SLAVE)) continue;
        /* insertion sort: a master has a handful of replicas */
        int j = (*n)++;
        while (j > 0 && s->nodes[out[j - 1]].attach_seq > s->nodes[k].attach_seq) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = k;
    }
    return out;
}

/* 7.0.15's isReplicaAvailable: not failed, and some replication offset
 * known; for ourselves, the one our header carries (0 while a full sync
 * loads), as 7.0.15 asks its own replication state. */
static bool replica_listed(const cluster_snapshot_t *s, int r)
{
    const node_view_t *n = &s->nodes[r];
    long long offset = r == s->myself ? (long long)s->hdr.offset : node_view_repl_offset(s, r);
    return !(n->flags & NODE_FAIL) && offset != 0;
}

static void add_slots_node(resp_buf_t *r, const cluster_snapshot_t *s, int i, const client_t *c)
{
    const node_view_t *n = &s->nodes[i];
    int type = config_cluster_preferred_endpoint_type();
    resp_add_array(r, 4);
    if (type == CONFIG_ENDPOINT_UNKNOWN) resp_add_null(r);
    else resp_add_bulk_str(r, dispatch_endpoint(n));
    resp_add_int(r, dispatch_port(c, n));
    resp_add_bulk(r, n->name, NODE_NAME_LEN);
    int fields = 0;
    bool want_ip = type != CONFIG_ENDPOINT_IP;
    bool want_host = type != CONFIG_ENDPOINT_HOSTNAME && n->hostname[0];
    fields = (want_ip ? 1 : 0) + (want_host ? 1 : 0);
    resp_add_map(r, fields);
    if (want_ip) { resp_add_bulk_str(r, "ip"); resp_add_bulk_str(r, n->ip); }
    if (want_host) { resp_add_bulk_str(r, "hostname"); resp_add_bulk_str(r, n->hostname); }
}

void cmd_cluster_slots(cmd_ctx_t *ctx)
{
    const cluster_snapshot_t *s = snap(ctx);
    resp_buf_t *r = ctx->reply;
    size_t h = resp_add_deferred_len(r);
    long long ranges = 0;
    int start = -1;
    for (int i = 0; i <= SLOT_COUNT; i++) {
        int o = i < SLOT_COUNT ? s->slot_owner[i] : -1;
        if (start >= 0 && (i == SLOT_COUNT || o != s->slot_owner[start])) {
            int owner = s->slot_owner[start];
            int nrep = 0, listed = 0;
            int *reps = replicas_in_order(s, owner, &nrep);
            for (int k = 0; k < nrep; k++) listed += replica_listed(s, reps[k]);
            resp_add_array(r, 3 + listed);
            resp_add_int(r, start);
            resp_add_int(r, i - 1);
            add_slots_node(r, s, owner, ctx->client);
            for (int k = 0; k < nrep; k++)
                if (replica_listed(s, reps[k])) add_slots_node(r, s, reps[k], ctx->client);
            free(reps);
            ranges++;
            start = -1;
        }
        if (i < SLOT_COUNT && o >= 0 && start < 0) start = i;
    }
    resp_set_deferred_array(r, h, ranges);
}

static void add_shard_node(resp_buf_t *r, const cluster_snapshot_t *s, int i)
{
    const node_view_t *n = &s->nodes[i];
    bool has_host = n->hostname[0] != '\0';
    /* As 7.0.15: tls-cluster says whether the announced port is the TLS one. */
    bool tls = config_get_num(CONFIG_TLS_CLUSTER) != 0;
    int plain_port = tls ? n->pport : n->port, tls_port = tls ? n->port : 0;
    resp_add_map(r, 6 + (plain_port ? 1 : 0) + (tls_port ? 1 : 0) + (has_host ? 1 : 0));
    resp_add_bulk_str(r, "id");
    resp_add_bulk(r, n->name, NODE_NAME_LEN);
    if (plain_port) {
        resp_add_bulk_str(r, "port");
        resp_add_int(r, plain_port);
    }
    if (tls_port) {
        resp_add_bulk_str(r, "tls-port");
        resp_add_int(r, tls_port);
    }
    resp_add_bulk_str(r, "ip");
    resp_add_bulk_str(r, n->ip);
    resp_add_bulk_str(r, "endpoint");
    resp_add_bulk_str(r, dispatch_endpoint(n));
    if (has_host) {
        resp_add_bulk_str(r, "hostname");
        resp_add_bulk_str(r, n->hostname);
    }
    resp_add_bulk_str(r, "role");
    resp_add_bulk_str(r, (n->flags & NODE_SLAVE) ? "replica" : "master");
    /* ours: the offset our header carries (7.0.15 asks its replication state) */
    long long offset = i == s->myself ? (long long)s->hdr.offset : node_view_repl_offset(s, i);
    resp_add_bulk_str(r, "replication-offset");
    resp_add_int(r, offset);
    resp_add_bulk_str(r, "health");
    const char *health = (n->flags & NODE_FAIL) ? "fail"
                       : ((n->flags & NODE_SLAVE) && offset == 0) ? "loading" : "online";
    resp_add_bulk_str(r, health);
}

void cmd_cluster_shards(cmd_ctx_t *ctx)
{
    const cluster_snapshot_t *s = snap(ctx);
    resp_buf_t *r = ctx->reply;
    int masters = 0;
    for (int i = 0; i < s->node_count; i++)
        if ((s->nodes[i].flags & NODE_MASTER) && !(s->nodes[i].flags & NODE_HANDSHAKE)) masters++;
    resp_add_array(r, masters);
    for (int i = 0; i < s->node_count; i++) {
        if (!(s->nodes[i].flags & NODE_MASTER) || (s->nodes[i].flags & NODE_HANDSHAKE)) continue;
        resp_add_map(r, 2);
        resp_add_bulk_str(r, "slots");
        size_t h = resp_add_deferred_len(r);
        long long items = 0;
        int start = -1;
        for (int k = 0; k <= SLOT_COUNT; k++) {
            bool mine = k < SLOT_COUNT && s->slot_owner[k] == i;
            if (mine && start < 0) start = k;
            if (!mine && start >= 0) {
                resp_add_int(r, start);
                resp_add_int(r, k - 1);
                items += 2;
                start = -1;
            }
        }
        resp_set_deferred_array(r, h, items);
        int nrep = 0;
        int *reps = replicas_in_order(s, i, &nrep);
        resp_add_bulk_str(r, "nodes");
        resp_add_array(r, 1 + nrep);
        add_shard_node(r, s, i);
        for (int k = 0; k < nrep; k++) add_shard_node(r, s, reps[k]);
        free(reps);
    }
}

static void replicas(cmd_ctx_t *ctx)
{
    const cluster_snapshot_t *s = snap(ctx);
    int i = find_node(s, ctx->argv[2], ctx->argvlen[2]);
    if (i < 0) {
        resp_add_errorf(ctx->reply, "ERR Unknown node %.*s", (int)ctx->argvlen[2], (const char *)ctx->argv[2]);
        return;
    }
    if (!(s->nodes[i].flags & NODE_MASTER)) {
        resp_add_error(ctx->reply, "ERR The specified node is not a master");
        return;
    }
    int n = 0;
    int *reps = replicas_in_order(s, i, &n);
    resp_add_array(ctx->reply, n);
    for (int k = 0; k < n; k++) {
        resp_buf_t line;
        resp_buf_init(&line, 2);
        tl_plain_client = ctx->client && !ctx->client->tls && config_get_num(CONFIG_TLS_CLUSTER);
        state_format_node_line(s, reps[k], &line, false);
        tl_plain_client = false;
        resp_add_bulk(ctx->reply, line.data, line.len);
        resp_buf_free(&line);
    }
    free(reps);
}
void cmd_cluster_replicas(cmd_ctx_t *ctx) { replicas(ctx); }
void cmd_cluster_slaves(cmd_ctx_t *ctx) { replicas(ctx); }

void cmd_cluster_help(cmd_ctx_t *ctx)
{
    static const char *lines[] = {
        "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ADDSLOTS <slot> [<slot> ...]", "    Assign slots to this node.",
        "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]", "    Assign slot ranges to this node.",
        "BUMPEPOCH", "    Advance the cluster config epoch.",
        "COUNT-FAILURE-REPORTS <node-id>", "    Number of failure reports known about a node.",
        "COUNTKEYSINSLOT <slot>", "    Number of keys this node holds in a slot.",
        "DELSLOTS <slot> [<slot> ...]", "    Unassign slots from this node's view.",
        "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]", "    Unassign slot ranges.",
        "FAILOVER [FORCE|TAKEOVER]", "    Promote this replica to master.",
        "FORGET <node-id>", "    Remove a node from this node's table for a minute.",
        "FLUSHSLOTS", "    Unassign every slot of this node (its keyspace must be empty).",
        "GETKEYSINSLOT <slot> <count>", "    Up to <count> key names of a slot.",
        "INFO", "    Cluster state and counters.",
        "KEYSLOT <key>", "    Hash slot of a key.",
        "LINKS", "    Cluster bus links of this node.",
        "MEET <ip> <port> [<bus-port>]", "    Start a handshake with another node.",
        "MYID", "    This node's ID.",
        "NODES", "    The node table in nodes.conf format.",
        "REPLICATE <node-id>", "    Become a replica of the given master.",
        "RESET [HARD|SOFT]", "    Forget every other node and every slot.",
        "SET-CONFIG-EPOCH <epoch>", "    Set this node's config epoch (fresh nodes only).",
        "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)", "    Change a slot's state.",
        "REPLICAS <node-id>", "    The replicas of a master.",
        "SAVECONFIG", "    Write nodes.conf now.",
        "SHARDS", "    Slot ranges and nodes of every shard.",
        "SLAVES <node-id>", "    Same as REPLICAS.",
        "SLOTS", "    Slot ranges and their nodes.",
        "HELP", "    Print this help.",
    };
    arg_reply_help(ctx, lines, sizeof lines / sizeof lines[0]);
}

/* state.c - the state actor (see state.h): node table, slot table, epochs;
 * loading and creating the node identity; publishing snapshots; asking the
 * persister to save. The CLUSTER subcommands that change state are applied
 * here (state_cmds.c), one at a time, in mailbox order.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actors/config/config.h"
#include "actors/bus/link.h"
#include "actors/persist/persister.h"
#include "actors/repl/repl.h"
#include "actors/repl/repl_replica.h"
#include "actors/state/state.h"
#include "actors/state/state_internal.h"
#include "actors/worker/worker.h"
#include "proto/nodes_conf.h"
#include "runtime/log.h"
#include "runtime/random.h"
#include "runtime/xmalloc.h"

rt_snap_cell_t g_cluster_snapshot;
/* The one state actor of the process: only its entry points (state_start,
 * state_actor, state_save_and_wait) name it; everything else gets a state_t *. */
static state_t g_state;

#define CLUSTER_WRITABLE_DELAY_MS 2000

static void snapshot_free(void *obj)
{
    cluster_snapshot_t *s = obj;
    state_names_unref(s->names);
    state_hosts_unref(s->hosts);
    state_views_give(s->pool, s->nodes);    /* no reader holds it any more: the next publish may */
    state_snapshot_give(s->pool, s);
}

uint64_t node_shown_epoch(const cluster_snapshot_t *s, int idx)
{
    const node_view_t *n = &s->nodes[idx];
    if ((n->flags & NODE_SLAVE) && n->master >= 0) return s->nodes[n->master].config_epoch;
    return n->config_epoch;
}

int state_find(state_t *st, const char *name, size_t len)
{
    if (len != NODE_NAME_LEN) return -1;
    return node_index_find(&st->names, name);
}

void state_busy(state_t *st)
{
    uint64_t g = atomic_load_explicit(&st->live->gen, memory_order_relaxed);   /* only we write it */
    /* seq_cst: a link that loads gen after this sees it odd, and one that
     * loaded it before linearizes its digest before what we apply now */
    if (!(g & 1)) atomic_store_explicit(&st->live->gen, g + 1, memory_order_seq_cst);
    /* after gen is odd: a PONG a link notes from here on is forwarded too
     * (bus_digest_take), so what is folded now is all a quiet link noted */
    state_live_fold(st);
}

void state_quiet(state_t *st)
{
    if (st->dirty_snapshot) return;    /* the published snapshot is behind the state */
    uint64_t g = atomic_load_explicit(&st->live->gen, memory_order_relaxed);
    /* seq_cst (a release at least): a link that sees the new even value sees
     * the snapshot published before it */
    if (g & 1) atomic_store_explicit(&st->live->gen, g + 1, memory_order_seq_cst);
}

int state_add_node(state_t *st, const char *name, uint16_t flags)
{
    if (st->node_count >= STATE_MAX_NODES) return -1;
    if (st->node_count == st->node_cap) {
        int nc = st->node_cap ? st->node_cap * 2 : 8;
        state_node_t *n = xrealloc(st->nodes, sizeof *n * (size_t)nc);
        st->nodes = n;
        st->node_cap = nc;
    }
    state_node_t *n = &st->nodes[st->node_count];
    memset(n, 0, sizeof *n);
    memcpy(n->name, name, NODE_NAME_LEN);
    n->flags = flags;
    n->master = -1;
    state_live_take(st, n);
    state_table_grew(st);
    if (node_index_put(&st->names, n->name, st->node_count) != 0) abort();   /* as the realloc above */
    st->names_changed = true;
    st->names_gen++;
    return st->node_count++;
}

void state_rename_node(state_t *st, int idx, const char *name)
{
    state_node_t *n = &st->nodes[idx];
    if (!memcmp(n->name, name, NODE_NAME_LEN)) return;
    node_index_del(&st->names, n->name);
    memcpy(n->name, name, NODE_NAME_LEN);
    n->name[NODE_NAME_LEN] = '\0';
    if (node_index_put(&st->names, n->name, idx) != 0) abort();
    st->names_changed = true;
    st->names_gen++;
}

void state_clear_nodes(state_t *st)
{
    for (int i = 0; i < st->node_count; i++) state_live_release(st, &st->nodes[i]);
    st->node_count = 0;
    node_index_clear(&st->names);
    st->names_changed = true;
    st->names_gen++;
}

void state_table_full(state_t *st, const char *what)
{
    st->table_full_ignored++;
    long long now = rt_mono_ms();
    if (st->table_full_logged_ms && now - st->table_full_logged_ms < 10000) return;
    LOG_WARNING("The node table is full (%d nodes): not adding %s (%llu refused since the last such message)",
                STATE_MAX_NODES, what, st->table_full_ignored);
    st->table_full_logged_ms = now;
    st->table_full_ignored = 0;
}

/* A random key for the name index, so peers cannot aim names at one chain. */
static void seed_name_index(state_t *st)
{
    uint64_t k[2];
    rt_random_bytes(k, sizeof k);
    node_index_init(&st->names, k[0], k[1]);
}

const char *state_announce_ip(state_t *st)
{
    unsigned long long gen = config_str_generation();
    if (gen != st->announce_ip_gen) {
        char ip[BUS_IP_LEN + 1];
        if (config_cluster_announce_ip(ip, sizeof ip) > 0) memcpy(st->announce_ip, ip, sizeof ip);
        else st->announce_ip[0] = '\0';
        st->announce_ip_gen = gen;
    }
    return st->announce_ip;
}

/* Fills in our own announced address from the configuration. */
static void refresh_myself_address(state_t *st)
{
    state_node_t *me = &st->nodes[st->myself];
    config_cluster_announced_ports(&me->port, &me->pport, &me->cport);
    char ip[NODES_CONF_IP_SIZE];
    if (config_cluster_announce_ip(ip, sizeof ip) > 0) snprintf(me->ip, sizeof me->ip, "%s", ip);
    config_cluster_announce_hostname(me->hostname, sizeof me->hostname);
}

/* ---------------- cluster health ---------------- */

void state_update_health(state_t *st) { st->dirty_snapshot = true; }

static void update_state(state_t *st)
{
    long long now = rt_mono_ms();
    if (!st->first_eval_ms) st->first_eval_ms = now;
    bool master = (st->nodes[st->myself].flags & NODE_MASTER) != 0;
    /* Right after start a master stays down for a moment, as Redis does, so
     * that it can learn the current configuration before serving. */
    if (master && !st->state_ok && now - st->first_eval_ms < CLUSTER_WRITABLE_DELAY_MS) return;
    /* Full coverage: every slot has an owner and no owner is FAIL. Each
     * record's slot_count is its slots in the table (state_recount_slots
     * runs after every change to it), so one pass over the records says it:
     * this runs on every tick and publish, and at 1,000 peers the pass over
     * 16384 slots was a fifth of the state thread's time. */
    int size = 0, reachable = 0, owned = 0;
    bool failed_owner = false;
    for (int i = 0; i < st->node_count; i++) {
        const state_node_t *n = &st->nodes[i];
        if (n->slot_count == 0) continue;
        owned += n->slot_count;
        if (n->flags & NODE_FAIL) failed_owner = true;
        if (!(n->flags & NODE_MASTER)) continue;
        size++;
        if (!(n->flags & (NODE_FAIL | NODE_PFAIL))) reachable++;
    }
    bool ok = !config_cluster_require_full_coverage() || (owned == SLOT_COUNT && !failed_owner);
    if (st->size != size) st->dirty_snapshot = true;
    st->size = size;
    if (reachable < size / 2 + 1) {
        ok = false;
        st->minority_since_ms = now;
    }
    if (ok == st->state_ok) return;
    long long rejoin = config_cluster_node_timeout();
    if (rejoin < 500) rejoin = 500;
    if (rejoin > 5000) rejoin = 5000;
    if (ok && master && st->minority_since_ms && now - st->minority_since_ms < rejoin) return;
    st->state_ok = ok;
    st->dirty_snapshot = true;
    LOG_NOTICE("Cluster state changed: %s", ok ? "ok" : "fail");
}

void state_recount_slots(state_t *st)
{
    st->slot_version++;
    for (int i = 0; i < st->node_count; i++) st->nodes[i].slot_count = 0;
    for (int s = 0, e; s < SLOT_COUNT; s = e) {
        e = state_slot_run_end(st, s);
        if (st->slot_owner[s] >= 0) st->nodes[st->slot_owner[s]].slot_count += e - s;
    }
}

/* ---------------- snapshots ---------------- */

/* Sets bits start..end (inclusive) of a slot bitmap, whole bytes at a time
 * in the middle. */
static void set_slot_bits(uint8_t *bits, unsigned start, unsigned end)
{
    while (start <= end && (start & 7)) { bits[start >> 3] |= (uint8_t)(1u << (start & 7)); start++; }
    if (start <= end && end - start + 1 >= 8) {
        unsigned bytes = (end - start + 1) >> 3;
        memset(bits + (start >> 3), 0xff, bytes);
        start += bytes << 3;
    }
    for (; start <= end; start++) bits[start >> 3] |= (uint8_t)(1u << (start & 7));
}

/* Our header as 7.0.15 fills it (docs/cluster-bus.md §2.5): a replica describes
 * its master's slots and configEpoch. */
static void build_header(state_t *st, cluster_snapshot_t *s)
{
    bus_header_t *h = &s->hdr;
    memset(h, 0, sizeof *h);
    const state_node_t *me = &st->nodes[st->myself];
    int record = st->myself;
    if ((me->flags & NODE_SLAVE) && me->master >= 0) record = me->master;
    h->ver = BUS_PROTO_VER;
    memcpy(h->sender, me->name, BUS_NAME_LEN);
    /* The claimed bitmap changes only with the slot table. */
    if (st->hdr_slots_version != st->slot_version || st->hdr_slots_record != record) {
        memset(st->hdr_slots, 0, sizeof st->hdr_slots);
        for (int i = 0, e; i < SLOT_COUNT; i = e) {
            e = state_slot_run_end(st, i);
            if (st->slot_owner[i] == record) set_slot_bits(st->hdr_slots, (unsigned)i, (unsigned)e - 1);
        }
        st->hdr_slots_version = st->slot_version;
        st->hdr_slots_record = record;
    }
    memcpy(h->myslots, st->hdr_slots, sizeof st->hdr_slots);
    h->config_epoch = st->nodes[record].config_epoch;
    if (me->master >= 0) {
        memcpy(h->slaveof, st->nodes[me->master].name, BUS_NAME_LEN);
        h->has_master = true;
    }
    const char *ip = state_announce_ip(st);
    if (ip[0]) snprintf(h->myip, sizeof h->myip, "%s", ip);
    h->port = (uint16_t)me->port;
    h->cport = (uint16_t)me->cport;
    h->pport = (uint16_t)me->pport;
    h->flags = me->flags & (uint16_t)~(NODE_MEET | NODE_HANDSHAKE);
    h->state = st->state_ok ? 0 : 1;
    h->current_epoch = st->current_epoch;
    /* The replication actor's offset (a replica's processed offset): elections rank by it. */
    h->offset = (uint64_t)atomic_load_explicit(&g_repl_offset, memory_order_relaxed);
    if (me->flags & NODE_SLAVE) {
        /* 7.0.15 gossips its master link's offset, and from a FULLRESYNC until
         * the RDB is loaded there is none (the cached master is dropped): 0,
         * which peers show as health "loading" in CLUSTER SHARDS. */
        repl_replica_status_t st;
        repl_replica_status_get(&st);
        if (st.state == RL_TRANSFER) h->offset = 0;
    }
    state_fo_header(st, h);
}

/* 7.0.15 keeps each master's replicas in a list, appending a node when it
 * becomes that master's replica (and removing it when it stops), and lists
 * them in that order in CLUSTER SLOTS, SHARDS and REPLICAS. We note the same
 * moment per node, by name so that table moves do not count as changes.
 * The names are compared only when the master's index or some name or index
 * moved since the last look (names_gen): at 1,000 nodes comparing them all
 * on every publish was a tenth of the state thread's time. */
static void note_attachments(state_t *st)
{
    for (int i = 0; i < st->node_count; i++) {
        state_node_t *n = &st->nodes[i];
        int mi = (n->flags & NODE_SLAVE) && n->master >= 0 ? n->master : -1;
        if (n->attached_gen == st->names_gen && n->attached_idx == mi) continue;
        n->attached_gen = st->names_gen;
        n->attached_idx = mi;
        const char *m = mi >= 0 ? st->nodes[mi].name : "";
        if (strcmp(n->attached_to, m) == 0) continue;
        snprintf(n->attached_to, sizeof n->attached_to, "%s", m);
        n->attach_seq = ++st->attach_counter;
    }
}

/* Record i as everyone but the state actor sees it (snapshots, nodes.conf),
 * with `hostname` (text that outlives the view) as its hostname. */
static void view_of(const state_t *st, int i, node_view_t *v, const char *hostname)
{
    const state_node_t *n = &st->nodes[i];
    /* every field is set below, over memory an earlier snapshot used (no
     * memset here: at 1,000 nodes a publish would clear what it overwrites) */
    memcpy(v->name, n->name, NODE_NAME_LEN + 1);
    memcpy(v->ip, n->ip, sizeof v->ip);
    v->hostname = hostname;
    v->port = n->port;
    v->cport = n->cport;
    v->pport = n->pport;
    v->flags = n->flags;
    v->master = n->master;
    if (n->master >= 0) memcpy(v->master_name, st->nodes[n->master].name, NODE_NAME_LEN + 1);
    else memset(v->master_name, 0, sizeof v->master_name);
    v->ping_sent_ms = n->ping_sent_ms;
    v->pong_received_ms = n->pong_received_ms;
    v->config_epoch = n->config_epoch;
    v->repl_offset = node_live_repl_offset(st->live, n->live_slot, n->live_tag, n->repl_offset);
    v->link_connected = (i == st->myself) || n->link_connected;
    v->slot_count = n->slot_count;
    v->fail_reports = n->nreports;
    v->out_link = n->out_link;
    v->in_link = n->in_link;
    v->data_received_ms = state_data_received((state_t *)st, i);
    v->attach_seq = n->attach_seq;
    v->live_slot = n->live_slot;
    v->live_tag = n->live_tag;
    v->pongs_seen = n->pongs_seen;
}

/* Whether two views give the same address tuple to the light encoding's
 * view (link_light.c): the bytes of a gossip entry it is made of (name,
 * the whole ip field, ports) and whether the record is in it at all. */
static bool same_tuple(const node_view_t *a, const node_view_t *b)
{
    return memcmp(a->name, b->name, NODE_NAME_LEN) == 0 && memcmp(a->ip, b->ip, sizeof a->ip) == 0 &&
           a->port == b->port && a->cport == b->cport && a->pport == b->pport &&
           (a->flags & (NODE_HANDSHAKE | NODE_NOADDR)) == (b->flags & (NODE_HANDSHAKE | NODE_NOADDR));
}

/* Whether what the replica link follows (check_master in repl_replica.c:
 * our role, our master's name and address) differs in s from the last
 * snapshot: then it is told (repl_replica_check) instead of finding out by
 * polling ten times a second. */
static bool note_follow(state_t *st, const cluster_snapshot_t *s)
{
    char key[sizeof st->follow_key] = "";
    const node_view_t *me = &s->nodes[s->myself];
    if ((me->flags & NODE_SLAVE) && me->master >= 0) {
        const node_view_t *m = &s->nodes[me->master];
        snprintf(key, sizeof key, "%s %s %d %d", m->name, m->ip, m->port, (m->flags & NODE_NOADDR) != 0);
    }
    if (strcmp(key, st->follow_key) == 0) return false;
    memcpy(st->follow_key, key, sizeof key);
    return true;
}

void state_publish(state_t *st)
{
    /* A promotion is announced only once durable (state_failover.c). */
    if (state_fo_publish_held(st)) return;
    update_state(st);
    /* Log lines carry S on a replica, M on a master (Redis's format): switch
     * as soon as the role changes, before anyone logs about the new role. */
    static int logged_slave = -1;
    int slave = (st->nodes[st->myself].flags & NODE_SLAVE) != 0;
    if (slave != logged_slave) {
        rt_log_set_role(slave ? 'S' : 'M');
        logged_slave = slave;
    }
    note_attachments(st);
    cluster_snapshot_t *s = state_snapshot_take(st);
    s->nodes = state_views_take(st, st->node_count);
    s->pool = st->pool;
    s->hosts = state_hosts_for_snapshot(st);
    s->version = ++st->snapshot_version;
    s->myself = st->myself;
    s->node_count = st->node_count;
    const cluster_snapshot_t *prev = rt_snap_writer_current(st->cell);
    bool same_view = prev && prev->node_count == s->node_count && prev->myself == s->myself;
    for (int i = 0; i < st->node_count; i++) {
        const state_node_t *n = &st->nodes[i];
        view_of(st, i, &s->nodes[i], state_host_text(s->hosts, n->host_off));
        if ((n->flags & NODE_PFAIL) && !(n->flags & (NODE_NOADDR | NODE_HANDSHAKE))) s->pfail_count++;
        if (same_view && !same_tuple(&prev->nodes[i], &s->nodes[i])) same_view = false;
    }
    s->view_gen = same_view ? prev->view_gen : (prev ? prev->view_gen : 0) + 1;
    s->open_slots = state_snapshot_fill_tables(st, s);
    s->state_ok = st->state_ok;
    s->size = st->size;
    s->current_epoch = st->current_epoch;
    s->last_vote_epoch = st->last_vote_epoch;
    s->created_ms = rt_now_ms();
    build_header(st, s);
    s->live = st->live;
    s->names = state_names_for_snapshot(st);
    bool follow_changed = note_follow(st, s);
    rt_snap_publish(st->cell, s);
    if (follow_changed) repl_replica_check();
    if (st->drop_pending) {
        /* Still a master: a replica gets the new owner's data by a full
         * sync instead, which replaces every key anyway. */
        if (!(st->nodes[st->myself].flags & NODE_SLAVE)) workers_drop_slots(st->drop_slots);
        memset(st->drop_slots, 0, sizeof st->drop_slots);
        st->drop_pending = false;
    }
    st->dirty_snapshot = false;
    st->dirty_soft = false;
    st->last_publish_mono = rt_mono_ms();
}

/* ---------------- nodes.conf ---------------- */

void state_conf_node(const node_view_t *v, uint64_t shown_epoch, nodes_conf_node_t *c)
{
    memset(c, 0, sizeof *c);
    memcpy(c->name, v->name, NODE_NAME_LEN + 1);
    snprintf(c->ip, sizeof c->ip, "%s", v->ip);
    snprintf(c->hostname, sizeof c->hostname, "%s", v->hostname);
    c->port = v->port;
    c->cport = v->cport;
    c->flags = v->flags & (uint16_t)~(NODE_MEET | NODE_MIGRATE_TO);   /* never saved nor shown */
    memcpy(c->master, v->master_name, NODE_NAME_LEN + 1);
    c->ping_sent = v->ping_sent_ms;
    c->pong_received = v->pong_received_ms;
    c->config_epoch = shown_epoch;
    c->connected = v->link_connected;
}

/* Our open slots in the codec's form (NULL, 0 when none; the caller frees it),
 * in one walk of the open-slot tables. */
static nodes_conf_open_slot_t *conf_open_slots(state_t *st, size_t *count)
{
    nodes_conf_open_slot_t *os = NULL;
    size_t k = 0, cap = 0;
    for (int s = state_next_open_slot(st, 0); s < SLOT_COUNT; s = state_next_open_slot(st, s + 1)) {
        if (k + 2 > cap) {
            cap = cap ? cap * 2 : 8;
            os = xrealloc(os, cap * sizeof *os);
        }
        if (st->migrating_to[s] >= 0) {
            os[k] = (nodes_conf_open_slot_t){ .slot = (uint16_t)s, .importing = false };
            memcpy(os[k].peer, st->nodes[st->migrating_to[s]].name, NODE_NAME_LEN + 1);
            k++;
        }
        if (st->importing_from[s] >= 0) {
            os[k] = (nodes_conf_open_slot_t){ .slot = (uint16_t)s, .importing = true };
            memcpy(os[k].peer, st->nodes[st->importing_from[s]].name, NODE_NAME_LEN + 1);
            k++;
        }
    }
    *count = k;
    return os;
}

typedef struct slot_run {
    uint16_t start, end;
} slot_run_t;

/* The slot table grouped by owner: the runs of record i are
 * runs[first[i] .. first[i + 1]). Kept between saves and rebuilt only when
 * the table changed (slot_version, which every change to slot_owner bumps,
 * and the record count): a reshard saves on every SETSLOT IMPORTING and
 * MIGRATING, which leave the table as it was. */
struct conf_runs {
    uint64_t slot_version;
    int nrec;
    int *first;
    int *fill;
    slot_run_t *runs;
};

static void conf_runs_free(struct conf_runs *r)
{
    if (!r) return;
    free(r->first);
    free(r->fill);
    free(r->runs);
    free(r);
}

static const struct conf_runs *conf_runs_of(state_t *st)
{
    struct conf_runs *r = st->conf_runs;
    if (r && r->slot_version == st->slot_version && r->nrec == st->node_count) return r;
    conf_runs_free(r);
    int nrec = st->node_count;
    r = xcalloc(1, sizeof *r);
    r->slot_version = st->slot_version;
    r->nrec = nrec;
    r->first = xcalloc((size_t)nrec + 1, sizeof(int));
    r->fill = xmalloc(sizeof(int) * ((size_t)nrec + 1));
    /* One walk of the table: its runs in slot order (with their owners in
     * `owner`), counted per owner; then placed by owner. */
    size_t cap = 64, n = 0;
    slot_run_t *all = xmalloc(sizeof *all * cap);
    int16_t *owner = xmalloc(sizeof *owner * cap);
    for (int s = 0, e; s < SLOT_COUNT; s = e) {
        e = state_slot_run_end(st, s);
        int o = st->slot_owner[s];
        if (o < 0) continue;
        if (n == cap) {
            cap *= 2;
            all = xrealloc(all, sizeof *all * cap);
            owner = xrealloc(owner, sizeof *owner * cap);
        }
        all[n] = (slot_run_t){ (uint16_t)s, (uint16_t)(e - 1) };
        owner[n++] = (int16_t)o;
        r->first[o + 1]++;
    }
    for (int i = 0; i < nrec; i++) r->first[i + 1] += r->first[i];
    memcpy(r->fill, r->first, sizeof(int) * ((size_t)nrec + 1));
    r->runs = xmalloc(sizeof *r->runs * (n + 1));
    for (size_t k = 0; k < n; k++) r->runs[r->fill[owner[k]]++] = all[k];
    free(all);
    free(owner);
    st->conf_runs = r;
    return r;
}

/* nodes.conf's text (malloc'ed), from the table, not the snapshot: a
 * promotion holds the snapshot back until the save that records it is
 * durable. The records are converted and formatted one at a time, with the
 * slot table grouped by owner first (conf_runs_of): at 1,000 records the
 * codec's form of the whole table (2.5 KB a record, most of it the slot
 * bitmap) and a bitmap scan per record made each save cost milliseconds.
 * The text is nodes_conf_format's. */
char *state_conf_text(state_t *st, size_t *len)
{
    int nrec = st->node_count;
    const struct conf_runs *r = conf_runs_of(st);

    if (!st->conf_scratch) st->conf_scratch = xmalloc(sizeof *st->conf_scratch);
    if (!st->view_scratch) st->view_scratch = xmalloc(sizeof *st->view_scratch);
    nodes_conf_node_t *c = st->conf_scratch;
    node_view_t *v = st->view_scratch;
    char *buf = NULL;
    size_t blen = 0, cap = 0;
    for (int i = 0; i < nrec; i++) {
        const state_node_t *n = &st->nodes[i];
        memset(v, 0, sizeof *v);   /* view_of sets every field; a field it may miss one day reads 0 */
        view_of(st, i, v, n->hostname);
        uint64_t shown = ((n->flags & NODE_SLAVE) && n->master >= 0) ? st->nodes[n->master].config_epoch : n->config_epoch;
        state_conf_node(v, shown, c);
        if (c->flags & NODES_CONF_FLAG_HANDSHAKE) continue;   /* never persisted */
        for (int k = r->first[i]; k < r->first[i + 1]; k++) set_slot_bits(c->slots, r->runs[k].start, r->runs[k].end);
        if (i == st->myself) c->open_slots = conf_open_slots(st, &c->open_slot_count);
        bool ok = nodes_conf_append_line(&buf, &blen, &cap, c, (c->flags & NODES_CONF_FLAG_MYSELF) != 0);
        free(c->open_slots);
        c->open_slots = NULL;
        if (!ok) abort();   /* out of memory, as xmalloc */
    }
    char vars[96];
    int vl = snprintf(vars, sizeof vars, "vars currentEpoch %llu lastVoteEpoch %llu\n",
                      (unsigned long long)st->current_epoch, (unsigned long long)st->last_vote_epoch);
    char *text = xrealloc(buf, blen + (size_t)vl + 1);
    memcpy(text + blen, vars, (size_t)vl + 1);
    *len = blen + (size_t)vl;
    return text;
}

/* Asks the persister to write `text` (the current state's, taken over) as
 * the next version; returns it. Its ack wakes us only when something waits
 * for that version (a reply, a PONG, a failover step): whatever starts
 * waiting later waits for a later version, whose own save answers it. */
static uint64_t request_save_text(state_t *st, rt_actor_t *reply_to, char *text, size_t len)
{
    persist_req_t *r = xcalloc(1, sizeof *r);
    r->lazy_ack = !st->waits && !st->pong_after_seq && !st->fo_actions && !state_fo_publish_held(st);
    r->hdr.type = PERSIST_SAVE;
    r->text = text;
    r->len = len;
    r->seq = ++st->config_seq;
    r->reply_to = reply_to;
    r->fsync = st->save_fsync;
    uint64_t seq = r->seq;
    st->sent_seq = seq;
    st->save_pending = false;
    st->save_fsync = false;
    rt_send(persister_actor(), &r->hdr);   /* r belongs to the persister from here on */
    return seq;
}

/* Asks the persister to write the current state; returns its version. */
uint64_t state_request_save(state_t *st, rt_actor_t *reply_to)
{
    size_t len;
    char *text = state_conf_text(st, &len);
    return request_save_text(st, reply_to, text, len);
}

static int load_conf(state_t *st, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 1;   /* create */
        fprintf(stderr, "Can't open the cluster config file %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat fst;
    if (fstat(fd, &fst) != 0) { close(fd); return -1; }
    size_t len = (size_t)fst.st_size;
    uint8_t *buf = xmalloc(len ? len : 1);
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    nodes_conf_t conf;
    nodes_conf_error_t err;
    nodes_conf_result_t r = nodes_conf_parse(buf, got, &conf, &err);
    free(buf);
    if (r == NODES_CONF_EMPTY) return 1;
    if (r != NODES_CONF_OK) {
        char msg[600];
        snprintf(msg, sizeof msg, "Unrecoverable error: corrupted cluster config file \"%s\" at line %d: %s",
                 path, err.line, err.message);
        fprintf(stderr, "%s\n", msg);
        LOG_WARNING("%s", msg);
        return -1;
    }
    for (size_t i = 0; i < conf.node_count; i++) {
        const nodes_conf_node_t *c = &conf.nodes[i];
        int idx = state_find(st, c->name, NODE_NAME_LEN);
        if (idx < 0) idx = state_add_node(st, c->name, c->flags);
        if (idx < 0) goto too_many;
        state_node_t *n = &st->nodes[idx];
        n->flags = c->flags;
        snprintf(n->ip, sizeof n->ip, "%s", c->ip);
        snprintf(n->hostname, sizeof n->hostname, "%s", c->hostname);
        n->port = c->port;
        n->cport = c->cport;
        n->config_epoch = c->config_epoch;
        if (c->master[0]) {
            int m = state_find(st, c->master, NODE_NAME_LEN);
            if (m < 0) m = state_add_node(st, c->master, 0);
            if (m < 0) goto too_many;
            n = &st->nodes[idx];
            n->master = m;
            if (n->flags & NODE_SLAVE) n->config_epoch = 0;
        }
        if (i == conf.myself) st->myself = idx;
        for (int s = 0; s < SLOT_COUNT; s++)
            if (nodes_conf_slot_test(c, (unsigned)s)) st->slot_owner[s] = (int16_t)idx;
    }
    /* Open slots refer to nodes by name; resolve after every node exists. */
    const nodes_conf_node_t *me = &conf.nodes[conf.myself];
    for (size_t k = 0; k < me->open_slot_count; k++) {
        int peer = state_find(st, me->open_slots[k].peer, NODE_NAME_LEN);
        if (peer < 0) continue;
        if (me->open_slots[k].importing) state_set_importing(st, me->open_slots[k].slot, peer);
        else state_set_migrating(st, me->open_slots[k].slot, peer);
    }
    st->current_epoch = conf.current_epoch;
    st->last_vote_epoch = conf.last_vote_epoch;
    uint64_t maxe = nodes_conf_max_epoch(&conf);
    if (maxe > st->current_epoch) st->current_epoch = maxe;
    st->nodes[st->myself].flags |= NODE_MYSELF;
    nodes_conf_free(&conf);
    return 0;
too_many: {
        char msg[600];
        snprintf(msg, sizeof msg, "Unrecoverable error: the cluster config file \"%s\" lists more than %d nodes",
                 path, STATE_MAX_NODES);
        fprintf(stderr, "%s\n", msg);
        LOG_WARNING("%s", msg);
        nodes_conf_free(&conf);
        return -1;
    }
}

void state_reset_tables(state_t *st)
{
    st->slot_version++;
    for (int s = 0; s < SLOT_COUNT; s++) {
        st->slot_owner[s] = -1;
        st->migrating_to[s] = -1;
        st->importing_from[s] = -1;
    }
}

/* ---------------- behaviour ---------------- */

_Atomic long long g_state_debug_delay_us, g_state_debug_cron_delay_us;

/* DEBUG STATE-ACTOR-DELAY and STATE-CRON-DELAY: sleeps the microseconds *us says. */
static void debug_delay(_Atomic long long *us)
{
    long long delay = atomic_load_explicit(us, memory_order_relaxed);
    if (delay <= 0) return;
    struct timespec ts = { .tv_sec = delay / 1000000, .tv_nsec = (delay % 1000000) * 1000 };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* The tick's frames (its PINGs) leave once links may digest again: sent while
 * we were busy, their PONGs could come back before we were quiet and go to us
 * whole (docs/cluster-bus.md §1.6). A failed connect makes us busy again. */
static void cron(rt_timer_t *t, void *arg)
{
    (void)t;
    state_t *st = arg;
    state_busy(st);
    state_tick(st);
    bool before = st->state_ok;
    update_state(st);
    if (st->state_ok != before || st->dirty_snapshot || st->dirty_soft) state_publish(st);
    debug_delay(&g_state_debug_cron_delay_us);
    state_quiet(st);
    state_outbox_flush(st);
    rt_snap_reclaim(st->cell);
}

void state_apply_frame(state_t *st, link_frame_t *f)
{
    bool counted = f->counted != NULL;
    state_bus_frame(st, f);
    free(f);
    /* seq_cst: ordered after the rules' changes to the state; gen is
     * still odd here, so no link digests against them before they are
     * published (state_quiet) */
    if (counted) atomic_fetch_sub_explicit(&st->live->pending, 1, memory_order_seq_cst);
}

static void dispatch(state_t *st, rt_msg_t *msg)
{
    switch (msg->type) {
    case STATE_MSG_CMD:
        state_apply_command(st, (remote_cmd_t *)msg);
        break;
    case STATE_MSG_DURABLE: {
        persist_ack_t *a = (persist_ack_t *)msg;
        state_durable(st, a->seq, a->err);
        free(a);
        break;
    }
    case STATE_MSG_FRAME:
        state_apply_frame(st, (link_frame_t *)msg);
        break;
    case STATE_MSG_LINK_EVENT:
        state_bus_link_event(st, (link_event_t *)msg);
        free(msg);
        break;
    case STATE_MSG_FAILOVER:
        state_fo_request(st, (state_fo_req_t *)msg);
        break;
    case STATE_MSG_ASM:
        state_asm_event(st, (struct asm_event *)msg);
        free(msg);
        break;
    case REPL_MSG_PARK:
        /* DEBUG SLEEP: this thread (the cron, the elector) waits with the workers */
        repl_cut_park(msg);
        break;
    case STATE_MSG_SAVE_SYNC:
        state_save_sync(st, ((state_sync_req_t *)msg)->wait);
        free(msg);
        break;
    case STATE_MSG_LOADED:
        state_loaded_apply(st, (state_loaded_req_t *)msg);
        break;
    case STATE_MSG_OWED_PONG:
        state_send_owed_pong_now(st);
        free(msg);
        break;
    default:
        free(msg);
    }
}

static void behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    state_t *st = self->state;
    state_busy(st);
    debug_delay(&g_state_debug_delay_us);
    dispatch(st, msg);
    state_outbox_flush(st);
    state_quiet(st);
}

/* A save that a command's reply waits for and that needs no fsync (an open
 * or closed slot, SETSLOT NODE without a new configEpoch: most of a
 * reshard's calls) is written here, on the state thread, and the replies
 * leave at once: two thread wake-ups fewer per call than a round trip
 * through the persister, and no wait behind a save of the persister's that
 * is fsyncing (the PONG that announces a slot's new owner makes the other
 * masters rebind it, a save with fsync, just before redis-cli's SETSLOT
 * NODE reaches them). It is written in place, a page-cache write 7.0.15 too
 * makes on its main thread, under the persister's lock so that an older
 * version still with the persister never lands over it
 * (persister_write_through). Only the replies waiting for this save's own
 * changes leave: those of an older version still with the persister wait
 * for it (it may fsync). Anything the in-place write cannot do (a file over
 * a page, no file yet) and every save with fsync or nobody waiting for it
 * stay with the persister. */
static bool save_here_ok(const state_t *st)
{
    return !st->save_fsync && st->waits;
}

/* A save that fsyncs for one change (a bus message's, a bumped epoch) while
 * a reply waits for another change of the same version that needs none:
 * true when such a reply waits. */
static bool written_ok_waiting(const state_t *st)
{
    for (const durable_wait_t *w = st->waits; w; w = w->next)
        if (w->written_ok && w->seq == st->config_seq + 1) return true;
    return false;
}

/* That save: written in place here as save_here writes it, and the replies
 * that need no fsync leave; then the persister fsyncs the same version
 * (it finds the text already in place: persister_write_through recorded
 * it) and answers for the rest, as 7.0.15 answers a command whose change
 * it does not fsync once nodes.conf is written. */
static void save_here_then_sync(state_t *st)
{
    size_t len;
    char *text = state_conf_text(st, &len);
    uint64_t seq = st->config_seq + 1;
    if (persister_write_through(seq, text, len) != 0) {
        request_save_text(st, &st->actor, text, len);   /* the persister writes and reports */
        return;
    }
    uint64_t older = st->sent_seq;
    request_save_text(st, &st->actor, text, len);      /* seq, with fsync */
    state_written_before_sync(st, older, seq);
}

static void save_here(state_t *st)
{
    size_t len;
    char *text = state_conf_text(st, &len);
    uint64_t seq = st->config_seq + 1;
    int err = persister_write_through(seq, text, len);
    free(text);
    if (err) {
        state_request_save(st, &st->actor);   /* it reports real errors */
        return;
    }
    st->config_seq = seq;
    st->save_pending = false;
    if (st->durable_seq >= st->sent_seq) state_durable(st, seq, 0);
    else state_written_after(st, st->sent_seq, seq);
}

/* Once per loop iteration, after a batch of messages: publish and save. */
static void before_sleep(rt_thread_t *t, void *arg)
{
    (void)t;
    state_end_round(arg);
    state_outbox_flush(arg);      /* what the save released (a PONG) leaves now */
}

void state_end_round(state_t *st)
{
    /* Ping/pong times alone change on every PONG: under a flood of them,
     * publishing once per 10 ms is plenty (the cron covers a quiet loop). */
    if (st->dirty_snapshot || (st->dirty_soft && rt_mono_ms() - st->last_publish_mono >= 10)) state_publish(st);
    state_quiet(st);
    if (st->save_pending) {
        if (save_here_ok(st)) save_here(st);
        else if (st->save_fsync && written_ok_waiting(st)) save_here_then_sync(st);
        else state_request_save(st, &st->actor);
    }
    /* A PONG held for replies (state_cmds.c, release_then_pong) that no
     * worker sent within a second: a reply that was never written (its
     * worker sends it in the loop pass that writes the reply). */
    if (st->pong_owed && rt_mono_ms() - st->pong_owed_ms >= 1000) state_send_owed_pong_now(st);
}

const cluster_snapshot_t *state_fresh_snapshot(state_t *st)
{
    if (st->dirty_snapshot) state_publish(st);
    return rt_snap_writer_current(st->cell);
}

void state_reply(state_t *st, remote_cmd_t *rc)
{
    /* What the command sent, opened or closed leaves before its reply, so
     * the client's next command finds it done (a link in CLUSTER LINKS, a
     * killed link gone). */
    state_outbox_flush(st);
    if (st->dirty_snapshot) state_publish(st);
    if (st->pong_marking) {
        rc->pong_after_reply = true;   /* its worker sends the PONG once this is written */
        st->pong_holders++;
    }
    worker_reply_async(rc);
}

/* One node per config file: an exclusive lock held for the life of the
 * process. The lock lives on a side file because nodes.conf itself is
 * replaced by a rename when a save does not fit in place. */
static int lock_conf(const char *conf_path)
{
    char lock_path[1100];
    snprintf(lock_path, sizeof lock_path, "%s.lock", conf_path);
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "Can't open %s in order to acquire a lock: %s\n", lock_path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            fprintf(stderr, "Sorry, the cluster configuration file %s is already used by a different Redis Cluster "
                            "node. Please make sure that different nodes use different cluster configuration files.\n",
                    conf_path);
            LOG_WARNING("Sorry, the cluster configuration file %s is already used by a different Redis Cluster node. "
                        "Please make sure that different nodes use different cluster configuration files.", conf_path);
        } else {
            fprintf(stderr, "Impossible to lock %s: %s\n", lock_path, strerror(errno));
        }
        close(fd);
        return -1;
    }
    return fd;   /* kept open (and locked) until exit */
}

void state_init(state_t *st, rt_snap_cell_t *cell)
{
    memset(st, 0, sizeof *st);
    st->cell = cell;
    st->hdr_slots_version = UINT64_MAX;
    st->hdr_slots_record = -2;
    st->names_gen = 1;                 /* a new record (attached_gen 0) is always looked at */
    st->live = xcalloc(1, sizeof *st->live);
    seed_name_index(st);
    st->started_mono = rt_mono_ms();
    state_reset_tables(st);
    rt_snap_init(cell, NULL, snapshot_free);
}

void state_free(state_t *st)
{
    for (int i = 0; i < st->node_count; i++) {
        free(st->nodes[i].reports);
        free(st->nodes[i].last_claim);
    }
    free(st->nodes);
    conf_runs_free(st->conf_runs);
    free(st->conf_scratch);
    free(st->view_scratch);
    node_index_free(&st->names);
    free(st->blacklist);
    state_outbox_clear(st);
    free(st->out.ops);
    free(st->out.frames);
    state_fo_free(st);
    rt_snap_destroy(st->cell);
    state_names_unref(st->names_shared);   /* after the snapshots that share it */
    st->names_shared = NULL;
    state_hosts_unref(st->hosts_shared);
    st->hosts_shared = NULL;
    state_pool_free(st);                   /* the snapshots gave their arrays back */
    free(st->live);    /* after the snapshots that point at it */
}

int state_start(rt_thread_t *thread, const char *conf_path)
{
    state_t *st = &g_state;
    state_init(st, &g_cluster_snapshot);
    if (lock_conf(conf_path) < 0) return -1;
    snprintf(st->conf_path, sizeof st->conf_path, "%s", conf_path);
    int r = load_conf(st, conf_path);
    if (r < 0) return -1;
    if (r == 1) {
        char name[NODE_NAME_LEN + 1];
        rt_random_hex(name, NODE_NAME_LEN);
        st->myself = state_add_node(st, name, NODE_MYSELF | NODE_MASTER);
        LOG_NOTICE("No cluster configuration found, I'm %s", name);
    } else {
        LOG_NOTICE("Node configuration loaded, I'm %.40s", st->nodes[st->myself].name);
    }
    refresh_myself_address(st);
    state_recount_slots(st);
    size_t len;
    char *text = state_conf_text(st, &len);
    int err = persister_write_file(conf_path, text, len);
    free(text);
    if (err) {
        fprintf(stderr, "Fatal: can't write the cluster config file %s: %s\n", conf_path, strerror(err));
        return -1;
    }
    rt_actor_init(&st->actor, thread, "state", behaviour, st);
    rt_thread_add_prepare_hook(thread, before_sleep, st);
    state_publish(st);
    /* Main published the first snapshot; every later one comes from the
     * state thread, whose start orders this hand-off before its first call. */
    rt_snap_writer_release(st->cell);
    rt_timer_start(&st->cron, thread, 100, 100, cron, st);
    return 0;
}

rt_actor_t *state_actor(void) { return &g_state.actor; }

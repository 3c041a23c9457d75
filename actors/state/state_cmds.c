/* state_cmds.c - the CLUSTER subcommands that change cluster state, applied
 * by the state actor: ADDSLOTS[RANGE], DELSLOTS[RANGE], FLUSHSLOTS,
 * SET-CONFIG-EPOCH, BUMPEPOCH, RESET, SAVECONFIG (SETSLOT: state_slots.c).
 *
 * A command that changes the configuration is answered only once the
 * persister reports the new nodes.conf written, as Redis saves before it
 * replies; fsynced too where 7.0.15 fsyncs (BUMPEPOCH that bumps, RESET,
 * SAVECONFIG; st->save_fsync).
 *
 * Must never: reply before the change it reports is in nodes.conf.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/state/state_internal.h"
#include "actors/commands/args.h"
#include "runtime/log.h"
#include "runtime/random.h"
#include "proto/strnum.h"
#include "runtime/xmalloc.h"

long long state_total_keys(void)
{
    return workers_sum(WSTAT_KEYS);
}

static int parse_slot(const uint8_t *s, size_t n)
{
    long long v;
    if (!arg_ll(s, n, &v) || v < 0 || v >= SLOT_COUNT) return -1;
    return (int)v;
}

/* Defers the reply until the next save is durable. */
void state_reply_after_save(state_t *st, remote_cmd_t *rc)
{
    durable_wait_t *w = xcalloc(1, sizeof *w);
    w->seq = st->config_seq + 1;    /* the save requested at the end of this message */
    w->rc = rc;
    w->next = st->waits;
    st->waits = w;
    st->save_pending = true;
    st->dirty_snapshot = true;
}

/* Replies to the commands waiting for a version in (after, seq] (only
 * those marked written_ok when `written_only`). */
static void release_some(state_t *st, uint64_t after, uint64_t seq, int err, bool written_only)
{
    durable_wait_t **pp = &st->waits;
    while (*pp) {
        durable_wait_t *w = *pp;
        if (w->seq > after && w->seq <= seq && (w->written_ok || !written_only)) {
            *pp = w->next;
            if (err) {
                resp_buf_reset(&w->rc->reply);
                resp_add_errorf(&w->rc->reply, "ERR error saving the cluster node config: %s", strerror(err));
            }
            state_reply(st, w->rc);
            free(w);
        } else {
            pp = &w->next;
        }
    }
}

static void release_waits(state_t *st, uint64_t after, uint64_t seq, int err)
{
    release_some(st, after, seq, err, false);
}

void state_written_before_sync(state_t *st, uint64_t after, uint64_t seq)
{
    /* Not while snapshots are held for our new configEpoch's fsync
     * (state_hold_publish_until_saved): the reply would leave before the
     * workers see what it reports. They leave once that save is durable,
     * as 7.0.15 writes no reply before its beforeSleep's fsync. */
    if (state_fo_publish_held(st)) return;
    release_some(st, after, seq, 0, true);
}

/* The PONG a SETSLOT NODE owes everyone (pong_after_seq) once its save is
 * written leaves after the replies that save releases, as in 7.0.15, whose
 * beforeSleep writes the reply while the PONG waits in the links' buffers
 * for the next loop pass. Here the replies are messages to the clients'
 * workers: the PONG is held (pong_owed) until one of them has written its
 * reply, and that worker sends it (state_send_owed_pong). Sent at once, it
 * reached a reshard's source just before redis-cli's SETSLOT NODE did, and
 * that SETSLOT found the slot rebound by the frame (a save with fsync, the
 * slot's drop) and competed with that work for the CPU: 215 against 97 us
 * (medians, 1,000 slots). With no reply to follow, it leaves at once. */
static void release_then_pong(state_t *st, uint64_t after, uint64_t seq, int err, bool pong)
{
    if (!pong) {
        release_waits(st, after, seq, err);
        return;
    }
    st->pong_after_seq = 0;
    st->pong_holders = 0;
    st->pong_marking = true;       /* state_reply marks the replies released now */
    release_waits(st, after, seq, err);
    st->pong_marking = false;
    if (!st->pong_holders) {
        state_broadcast_pong(st);
        return;
    }
    st->pong_owed = true;
    st->pong_owed_ms = rt_mono_ms();
}

void state_durable(state_t *st, uint64_t seq, int err)
{
    if (seq > st->durable_seq) st->durable_seq = seq;
    if (!err) state_fo_durable(st, seq);
    /* Versions written here while the hold lasted (save_here) are done too. */
    if (st->held_written_seq > seq && !state_fo_publish_held(st)) seq = st->held_written_seq;
    if (!state_fo_publish_held(st)) st->held_written_seq = 0;
    release_then_pong(st, 0, seq, err, !err && st->pong_after_seq && seq >= st->pong_after_seq);
}

void state_written_after(state_t *st, uint64_t after, uint64_t seq)
{
    if (state_fo_publish_held(st)) {         /* as state_written_before_sync; state_durable releases */
        if (seq > st->held_written_seq) st->held_written_seq = seq;
        return;
    }
    release_then_pong(st, after, seq, 0, st->pong_after_seq > after && seq >= st->pong_after_seq);
}

void state_send_owed_pong_now(state_t *st)
{
    if (!st->pong_owed) return;
    st->pong_owed = false;
    state_broadcast_pong(st);
}

static void addslots(state_t *st, remote_cmd_t *rc, bool range, bool del)
{
    queued_cmd_t *q = &rc->cmds[0];
    resp_buf_t *r = &rc->reply;
    if (range && (q->argc - 2) % 2 != 0) {
        resp_add_errorf(r, "ERR wrong number of arguments for 'cluster|%s' command", del ? "delslotsrange" : "addslotsrange");
        state_reply(st, rc);
        return;
    }
    static uint8_t mark[SLOT_COUNT];
    memset(mark, 0, sizeof mark);
    /* First parse everything; nothing changes if any argument is bad. */
    int nargs = q->argc - 2;
    int *lo = xmalloc(sizeof(int) * (size_t)(nargs + 1));
    int *hi = xmalloc(sizeof(int) * (size_t)(nargs + 1));
    int nr = 0;
    for (int i = 2; i < q->argc; i += range ? 2 : 1) {
        int a = parse_slot(q->argv[i], q->argvlen[i]);
        int b = range ? parse_slot(q->argv[i + 1], q->argvlen[i + 1]) : a;
        if (a < 0 || b < 0) {
            resp_add_error(r, "ERR Invalid or out of range slot");
            goto done;
        }
        if (range && a > b) {
            resp_add_errorf(r, "ERR start slot number %d is greater than end slot number %d", a, b);
            goto done;
        }
        lo[nr] = a;
        hi[nr] = b;
        nr++;
    }
    for (int k = 0; k < nr; k++) {
        for (int s = lo[k]; s <= hi[k]; s++) {
            if (!del && st->slot_owner[s] >= 0) {
                resp_add_errorf(r, "ERR Slot %d is already busy", s);
                goto done;
            }
            if (del && st->slot_owner[s] < 0) {
                resp_add_errorf(r, "ERR Slot %d is already unassigned", s);
                goto done;
            }
            if (mark[s]++) {
                resp_add_errorf(r, "ERR Slot %d specified multiple times", s);
                goto done;
            }
        }
    }
    for (int k = 0; k < nr; k++) {
        for (int s = lo[k]; s <= hi[k]; s++) {
            st->slot_owner[s] = del ? -1 : (int16_t)st->myself;
            st->importing_from[s] = -1;
            if (del) st->migrating_to[s] = -1;
        }
    }
    state_recount_slots(st);
    resp_add_simple(r, "OK");
    free(lo);
    free(hi);
    state_reply_after_save(st, rc);
    return;
done:
    free(lo);
    free(hi);
    state_reply(st, rc);
}

static void flushslots(state_t *st, remote_cmd_t *rc)
{
    if (state_total_keys() > 0) {
        resp_add_error(&rc->reply, "ERR DB must be empty to perform CLUSTER FLUSHSLOTS.");
        state_reply(st, rc);
        return;
    }
    for (int s = 0; s < SLOT_COUNT; s++)
        if (st->slot_owner[s] == st->myself) { st->slot_owner[s] = -1; st->importing_from[s] = -1; st->migrating_to[s] = -1; }
    state_recount_slots(st);
    resp_add_simple(&rc->reply, "OK");
    state_reply_after_save(st, rc);
}

static void set_config_epoch(state_t *st, remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    resp_buf_t *r = &rc->reply;
    long long e;
    if (!arg_ll(q->argv[2], q->argvlen[2], &e)) {
        resp_add_error(r, "ERR value is not an integer or out of range");
    } else if (e < 0) {
        resp_add_errorf(r, "ERR Invalid config epoch specified: %lld", e);
    } else if (st->node_count > 1) {
        resp_add_error(r, "ERR The user can assign a config epoch only when the node does not know any other node.");
    } else if (st->nodes[st->myself].config_epoch != 0) {
        resp_add_error(r, "ERR Node config epoch is already non-zero");
    } else {
        st->nodes[st->myself].config_epoch = (uint64_t)e;
        st->slot_version++;
        if (st->current_epoch < (uint64_t)e) st->current_epoch = (uint64_t)e;
        LOG_NOTICE("configEpoch set to %lld via CLUSTER SET-CONFIG-EPOCH", e);
        resp_add_simple(r, "OK");
        state_reply_after_save(st, rc);
        return;
    }
    state_reply(st, rc);
}

static void bumpepoch(state_t *st, remote_cmd_t *rc)
{
    state_node_t *me = &st->nodes[st->myself];
    uint64_t maxe = st->current_epoch;
    bool highest = me->config_epoch != 0;
    for (int i = 0; i < st->node_count; i++) {
        if (i == st->myself) continue;
        if (st->nodes[i].config_epoch >= me->config_epoch) highest = false;
        if (st->nodes[i].config_epoch > maxe) maxe = st->nodes[i].config_epoch;
    }
    if (me->config_epoch < maxe) highest = false;
    char buf[64];
    if (!highest) {
        st->current_epoch = maxe + 1;
        me->config_epoch = st->current_epoch;
        st->slot_version++;
        state_hold_publish_until_saved(st);
        snprintf(buf, sizeof buf, "BUMPED %llu", (unsigned long long)me->config_epoch);
        resp_add_simple(&rc->reply, buf);
        state_reply_after_save(st, rc);
        return;
    }
    snprintf(buf, sizeof buf, "STILL %llu", (unsigned long long)me->config_epoch);
    resp_add_simple(&rc->reply, buf);
    state_reply(st, rc);
}

static void reset(state_t *st, remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    bool hard = false;
    if (q->argc == 3) {
        if (arg_is(q->argv[2], q->argvlen[2], "hard")) hard = true;
        else if (!arg_is(q->argv[2], q->argvlen[2], "soft")) {
            resp_add_error(&rc->reply, "ERR syntax error");
            state_reply(st, rc);
            return;
        }
    } else if (q->argc > 3) {
        resp_add_errorf(&rc->reply, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try CLUSTER HELP.",
                        (int)q->argvlen[1], (const char *)q->argv[1]);
        state_reply(st, rc);
        return;
    }
    if ((st->nodes[st->myself].flags & NODE_MASTER) && state_total_keys() > 0) {
        resp_add_error(&rc->reply, "ERR CLUSTER RESET can't be called with master nodes containing keys");
        state_reply(st, rc);
        return;
    }
    for (int i = 0; i < st->node_count; i++) {
        if (i == st->myself) continue;
        if (st->nodes[i].out_link) state_out_close(st, st->nodes[i].out_link);
        if (st->nodes[i].in_link) state_out_close(st, st->nodes[i].in_link);
        free(st->nodes[i].reports);
        free(st->nodes[i].last_claim);
    }
    state_node_t me = st->nodes[st->myself];
    /* A replica's data was its master's: a reset leaves an empty master, as in Redis. */
    if (me.flags & NODE_SLAVE) workers_flush_all_async();
    me.flags = (uint16_t)((me.flags & ~NODE_SLAVE) | NODE_MASTER | NODE_MYSELF);
    me.master = -1;
    state_clear_nodes(st);
    state_reset_tables(st);
    st->myself = state_add_node(st, me.name, me.flags);
    st->nodes[st->myself] = me;
    st->nodes[st->myself].slot_count = 0;
    if (hard) {
        st->current_epoch = 0;
        st->last_vote_epoch = 0;
        st->nodes[st->myself].config_epoch = 0;
        char name[NODE_NAME_LEN + 1];
        rt_random_hex(name, NODE_NAME_LEN);
        state_rename_node(st, st->myself, name);
        LOG_NOTICE("Node hard reset, now I'm %s", name);
    }
    resp_add_simple(&rc->reply, "OK");
    state_reply_after_save(st, rc);
    st->save_fsync = true;   /* as 7.0.15's reset */
}

/* DEBUG CLUSTERLINK KILL TO|FROM|ALL <node-id> (the worker checked the
 * shape). As 7.0.15: the node is looked up first; the chosen link is closed
 * and forgotten, so the cron opens a new `to` link and the peer, seeing its
 * own link end, opens a new `from` one. An unknown direction answers the
 * error only: 7.0.15 follows it with +OK as well, two replies to one command
 * that leave the client a reply behind, which we do not copy. Our own
 * id closes nothing and answers +OK (redis-server crashes on it). */
static void debug_clusterlink_kill(state_t *st, remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    const char *name = (const char *)q->argv[4];
    int idx = state_find(st, name, q->argvlen[4]);
    if (idx < 0) {
        /* the name as C text: up to its first NUL byte */
        resp_add_errorf(&rc->reply, "ERR Unknown node %.*s", (int)strnlen(name, q->argvlen[4]), name);
        state_reply(st, rc);
        return;
    }
    state_node_t *n = &st->nodes[idx];
    const char *dir = (const char *)q->argv[3];
    bool to = arg_is(q->argv[3], q->argvlen[3], "to");
    bool from = arg_is(q->argv[3], q->argvlen[3], "from");
    bool all = arg_is(q->argv[3], q->argvlen[3], "all");
    if ((to || all) && n->out_link) {
        state_out_close(st, n->out_link);   /* no event comes back for this close */
        n->out_link = 0;
        n->link_connected = false;
        st->dirty_snapshot = true;
    }
    if ((from || all) && n->in_link) {
        state_out_close(st, n->in_link);
        n->in_link = 0;
        st->dirty_snapshot = true;
    }
    /* The commands after this one in its transaction run once this reply is
     * back, maybe after the cron opened a new link to the node: they must not
     * use it (7.0.15 runs MULTI in one go, with no link to the node in it). */
    rc->link_floor = link_id_floor();
    if (!to && !from && !all)
        resp_add_errorf(&rc->reply, "ERR Unknown direction %.*s", (int)strnlen(dir, q->argvlen[3]), dir);
    else
        resp_add_simple(&rc->reply, "OK");
    state_reply(st, rc);
}

static void apply_command(state_t *st, remote_cmd_t *rc);

/* A command's reply waits for the save of its change, fsynced or not as
 * 7.0.15 would for that change. Whether the command asked for an fsync is
 * told apart from a bus message of the same batch that did (a PONG that
 * rebinds a slot, while redis-cli's SETSLOT NODE for it arrives): the
 * waits the command added are marked written_ok when it did not. Waits are
 * added at the head of the list and none is released while a command runs
 * (only a save's outcome releases them), so the new ones are those before
 * the old head. */
void state_apply_command(state_t *st, remote_cmd_t *rc)
{
    durable_wait_t *old_head = st->waits;
    bool fsync_before = st->save_fsync;
    st->save_fsync = false;
    apply_command(st, rc);
    if (!st->save_fsync)
        for (durable_wait_t *w = st->waits; w && w != old_head; w = w->next) w->written_ok = true;
    st->save_fsync = st->save_fsync || fsync_before;
}

static void apply_command(state_t *st, remote_cmd_t *rc)
{
    if (rc->cmds[0].cmd->parent && !strcmp(rc->cmds[0].cmd->parent->name, "config")) {
        /* CONFIG SET of cluster-announce-*: already stored; refresh our record. */
        state_refresh_myself(st);
        resp_add_simple(&rc->reply, "OK");
        state_reply(st, rc);
        return;
    }
    if (state_bus_command(st, rc)) return;
    const cmd_def_t *cmd = rc->cmds[0].cmd;
    const char *n = cmd->name;
    if (!strcmp(n, "addslots")) addslots(st, rc, false, false);
    else if (!strcmp(n, "addslotsrange")) addslots(st, rc, true, false);
    else if (!strcmp(n, "delslots")) addslots(st, rc, false, true);
    else if (!strcmp(n, "delslotsrange")) addslots(st, rc, true, true);
    else if (!strcmp(n, "flushslots")) flushslots(st, rc);
    else if (!strcmp(n, "set-config-epoch")) set_config_epoch(st, rc);
    else if (!strcmp(n, "bumpepoch")) bumpepoch(st, rc);
    else if (!strcmp(n, "reset")) reset(st, rc);
    else if (!strcmp(n, "failover")) state_fo_command(st, rc);
    else if (!strcmp(n, "setslot")) state_setslot(st, rc);
    else if (!strcmp(n, "migrateslots") || !strcmp(n, "getslotmigrations") || !strcmp(n, "cancelslotmigrations") ||
             !strcmp(n, "syncslots"))
        state_asm_command(st, rc);
    else if (!strcmp(n, "debug")) debug_clusterlink_kill(st, rc);
    else if (!strcmp(n, "saveconfig")) {
        resp_add_simple(&rc->reply, "OK");
        state_reply_after_save(st, rc);
        st->save_fsync = true;   /* SAVECONFIG always fsyncs */
    } else {
        resp_add_errorf(&rc->reply, "ERR unsupported state command '%s'", n);
        state_reply(st, rc);
    }
}

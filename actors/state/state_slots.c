/* state_slots.c - CLUSTER SETSLOT <slot> MIGRATING|IMPORTING <id> | STABLE |
 * NODE <id>, applied by the state actor with 7.0.15's checks, in its order
 * and with its texts (docs/clients.md §3.17).
 *
 * SETSLOT NODE needs the number of keys this node holds in the slot, which
 * only the worker owning the slot knows. The client's worker reads it before
 * it forwards the command when it can do so without a message (cmd_cluster.c);
 * otherwise the state actor sends the command to that worker (a WMSG_RUN),
 * which counts and sends it back, and the state actor then runs every check
 * again on the state as it is by then, so nothing decided before the round
 * trip is trusted after it.
 *
 * Must never: give away a slot while a count says we hold keys in it; reply
 * before the change it reports is written to nodes.conf (fsynced only where
 * 7.0.15 fsyncs: a bumped configEpoch, turning replica).
 */
#include <string.h>

#include "actors/commands/args.h"
#include "actors/config/config.h"
#include "actors/state/state_internal.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/worker.h"
#include "runtime/log.h"

/* The slot argument as 7.0.15's getSlotOrReply reads it, or -1. */
static int setslot_slot(const queued_cmd_t *q)
{
    long long v;
    if (!arg_ll(q->argv[2], q->argvlen[2], &v) || v < 0 || v >= SLOT_COUNT) return -1;
    return (int)v;
}

/* Runs on the worker that owns the slot's keys: counts them, sends the
 * command back to the state actor. */
static void count_on_worker(worker_t *w, rt_msg_t *msg)
{
    remote_cmd_t *rc = (remote_cmd_t *)msg;
    int slot = setslot_slot(&rc->cmds[0]);
    rc->keys_delta = slot < 0 ? 0 : (long long)ks_count_in_slot(worker_keyspace(w), (unsigned)slot);
    rc->slot_counted = true;
    rc->hdr.type = STATE_MSG_CMD;
    rt_send(state_actor(), &rc->hdr);
}

/* Asks the slot's worker for its key count; the command comes back as a new
 * STATE_MSG_CMD with rc->slot_counted set. */
static void ask_count(int slot, remote_cmd_t *rc)
{
    rc->run.fn = count_on_worker;
    rc->hdr.type = WMSG_RUN;
    worker_post(worker_of_slot((unsigned)slot), &rc->hdr);
}

/* The node named by argv[4]: -1 after replying `unknown_fmt` (with the name
 * as C text), -2 after replying that it is a replica. */
static int setslot_target(state_t *st, remote_cmd_t *rc, const char *unknown_fmt)
{
    queued_cmd_t *q = &rc->cmds[0];
    const char *name = (const char *)q->argv[4];
    int idx = state_find(st, name, q->argvlen[4]);
    if (idx < 0) {
        resp_add_errorf(&rc->reply, unknown_fmt, (int)strnlen(name, q->argvlen[4]), name);
        return -1;
    }
    if (st->nodes[idx].flags & NODE_SLAVE) {
        resp_add_error(&rc->reply, "ERR Target node is not a master");
        return -2;
    }
    return idx;
}

/* SETSLOT NODE with the slot's key count known. Returns false when it replied
 * an error. */
static bool setslot_node(state_t *st, remote_cmd_t *rc, int slot, int n, long long keys)
{
    state_node_t *me = &st->nodes[st->myself];
    bool was_mine = st->slot_owner[slot] == st->myself;
    if (was_mine && n != st->myself && keys != 0) {
        resp_add_errorf(&rc->reply,
                        "ERR Can't assign hashslot %d to a different node while I still hold keys for this hash slot.",
                        slot);
        return false;
    }
    /* An emptied migrating slot closes as it changes hands. */
    if (keys == 0 && st->migrating_to[slot] >= 0) st->migrating_to[slot] = -1;
    /* Often the owner is n already: on the source and the other masters of a
     * reshard the target's PONG announcing the slot rebinds it just before
     * redis-cli's SETSLOT NODE. Then the table did not change, and the
     * owner-keyed work a new slot_version sets off (the counts, nodes.conf's
     * slot runs, the snapshot's owner table and header) would redo the same. */
    if (st->slot_owner[slot] != n) {
        /* One slot changes hands: the two counts move by one (the table
         * was counted after its last change, state_recount_slots). */
        int old = st->slot_owner[slot];
        if (old >= 0) st->nodes[old].slot_count--;
        st->nodes[n].slot_count++;
        st->slot_owner[slot] = (int16_t)n;
        st->slot_version++;
    }
    if (was_mine && n != st->myself && me->slot_count == 0 &&
        config_get_num(CONFIG_CLUSTER_ALLOW_REPLICA_MIGRATION)) {
        /* Our last slot went away: follow the node that took it, as 7.0.15
         * does (its open slots close, as when it turns replica). */
        LOG_NOTICE("Configuration change detected. Reconfiguring myself as a replica of %.40s", st->nodes[n].name);
        int old = me->master;
        state_fo_lost_mastership(st);
        me->flags = (uint16_t)((me->flags & ~(NODE_MASTER | NODE_MIGRATE_TO)) | NODE_SLAVE);
        me->master = n;
        state_fo_replica_changed(st, st->myself, old);
        for (int s = 0; s < SLOT_COUNT; s++) { st->migrating_to[s] = -1; st->importing_from[s] = -1; }
        st->save_fsync = true;
    }
    if (n == st->myself && st->importing_from[slot] >= 0) {
        /* A slot moved by hand: a configEpoch of our own, so our claim wins
         * everywhere; a collision is settled by the usual rule. */
        if (state_bump_epoch_without_consensus(st)) LOG_NOTICE("configEpoch updated after importing slot %d", slot);
        st->importing_from[slot] = -1;
        /* Everyone hears of it at once, when the new epoch is saved (fsynced
         * if it was bumped). */
        st->pong_after_seq = st->config_seq + 1;
    }
    return true;
}

void state_setslot(state_t *st, remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    resp_buf_t *r = &rc->reply;
    bool counted = rc->slot_counted;
    rc->slot_counted = false;
    resp_buf_reset(r);
    if (st->nodes[st->myself].flags & NODE_SLAVE) {
        resp_add_error(r, "ERR Please use SETSLOT only with masters.");
        goto reply;
    }
    int slot = setslot_slot(q);
    if (slot < 0) {
        resp_add_error(r, "ERR Invalid or out of range slot");
        goto reply;
    }
    const uint8_t *act = q->argv[3];
    size_t actlen = q->argvlen[3];
    if (arg_is(act, actlen, "migrating") && q->argc == 5) {
        if (st->slot_owner[slot] != st->myself) {
            resp_add_errorf(r, "ERR I'm not the owner of hash slot %u", (unsigned)slot);
            goto reply;
        }
        int n = setslot_target(st, rc, "ERR I don't know about node %.*s");
        if (n < 0) goto reply;
        state_set_migrating(st, slot, n);
    } else if (arg_is(act, actlen, "importing") && q->argc == 5) {
        if (st->slot_owner[slot] == st->myself) {
            resp_add_errorf(r, "ERR I'm already the owner of hash slot %u", (unsigned)slot);
            goto reply;
        }
        int n = setslot_target(st, rc, "ERR I don't know about node %.*s");
        if (n < 0) goto reply;
        state_set_importing(st, slot, n);
    } else if (arg_is(act, actlen, "stable") && q->argc == 4) {
        st->importing_from[slot] = -1;
        st->migrating_to[slot] = -1;
    } else if (arg_is(act, actlen, "node") && q->argc == 5) {
        int n = setslot_target(st, rc, "ERR Unknown node %.*s");
        if (n < 0) goto reply;
        bool need_count = (st->slot_owner[slot] == st->myself && n != st->myself) || st->migrating_to[slot] >= 0;
        if (need_count && !counted) {
            ask_count(slot, rc);
            return;
        }
        if (!setslot_node(st, rc, slot, n, need_count ? rc->keys_delta : 0)) goto reply;
    } else {
        resp_add_error(r, "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP");
        goto reply;
    }
    state_update_health(st);
    resp_add_simple(r, "OK");
    state_reply_after_save(st, rc);
    return;
reply:
    state_reply(st, rc);
}

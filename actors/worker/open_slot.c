/* open_slot.c - the rules of a slot move for the commands about to run on
 * the worker that keeps their slot's keys (docs/clients.md §2.2 steps 3, 5,
 * 7-9): -ASK for a migrating slot's missing keys, -TRYAGAIN for several
 * keys of which some are missing, on either side. Only that worker can know
 * whether a key is here.
 *
 * Must never: look a key up where the answer cannot change the outcome (a
 * reshard sends one RESTORE-ASKING per key, and a MIGRATE of ten keys, to
 * open slots), or let a command through that 7.0.15 refuses.
 */
#include <stdio.h>
#include <string.h>

#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/worker/client.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/worker_internal.h"
#include "proto/slot.h"
#include "runtime/actor.h"

/* The rules of a slot move (docs/clients.md §2.2 steps 3, 5, 7-9), for
 * commands about to run on this worker, which keeps the slot's keys: only
 * here can a key's presence be known. `cmds` are one command, or every queued
 * command of a transaction (EXEC checks them together). Routing has already
 * picked this node; while the snapshot has no open slot this costs one load.
 * Returns true to run; else `err` holds the -ASK/-TRYAGAIN text. */
/* How many of the commands' keys this worker holds (*existing) and does not
 * (*missing), unexpired at `now`. */
static void count_present(worker_t *w, const queued_cmd_t *cmds, int n, long long now, int *existing, int *missing)
{
    for (int i = 0; i < n; i++) {
        const queued_cmd_t *q = &cmds[i];
        int pos[512];
        int nkeys = cmd_get_keys(q->cmd, q->argc, q->argv, q->argvlen, pos, 512);
        for (int k = 0; k < nkeys; k++) {
            if (ks_exists_noexpire(w->ks, q->argv[pos[k]], q->argvlen[pos[k]], now)) (*existing)++;
            else (*missing)++;
        }
    }
}

bool dispatch_open_slot_check(worker_t *w, const queued_cmd_t *cmds, int n, char *err, size_t errcap)
{
    const cluster_snapshot_t *s = w->cur;
    if (s->open_slots == 0 || !config_cluster_enabled()) return true;
    /* A MIGRATE alone runs whatever its keys (it reports the missing ones
     * as NOKEY itself). */
    if (n == 1 && cmds[0].cmd->parent == NULL && !strcmp(cmds[0].cmd->name, "migrate")) return true;
    const uint8_t *first = NULL;
    size_t firstlen = 0;
    int slot = -1;
    bool migrating = false, importing = false, multiple = false;
    for (int i = 0; i < n && !multiple; i++) {
        const queued_cmd_t *q = &cmds[i];
        int pos[512];
        int nkeys = cmd_get_keys(q->cmd, q->argc, q->argv, q->argvlen, pos, 512);
        for (int k = 0; k < nkeys; k++) {
            const uint8_t *key = q->argv[pos[k]];
            size_t len = q->argvlen[pos[k]];
            if (!first) {
                first = key;
                firstlen = len;
                slot = (int)slot_of_key(key, len);
                if (s->slot_owner[slot] == s->myself && s->migrating_to[slot] >= 0) migrating = true;
                /* Importing and not ours: routing let it through for ASKING
                 * (or RESTORE-ASKING), the only way in. */
                else if (s->importing_from[slot] >= 0 && s->slot_owner[slot] != s->myself) importing = true;
                if (!migrating && !importing) return true;
            } else if (len != firstlen || memcmp(key, first, len) != 0) {
                multiple = true;
                break;
            }
        }
    }
    /* Which keys are here matters only on the migrating side, or for
     * several keys on the importing side: a reshard's RESTORE-ASKING (one
     * key, importing) looks none up. */
    if (!first || (importing && !multiple)) return true;
    int existing = 0, missing = 0;
    count_present(w, cmds, n, rt_now_ms(), &existing, &missing);
    if (migrating && missing) {
        if (existing) {
            snprintf(err, errcap, "TRYAGAIN Multiple keys request during rehashing of slot");
        } else {
            const node_view_t *t = &s->nodes[s->migrating_to[slot]];
            snprintf(err, errcap, "ASK %d %s:%d", slot, dispatch_endpoint(t), t->port);
        }
        return false;
    }
    if (importing && multiple && missing) {
        snprintf(err, errcap, "TRYAGAIN Multiple keys request during rehashing of slot");
        return false;
    }
    return true;
}


/* state_sync.c - what a thread outside the state actor asks of it and waits
 * for: nodes.conf saved before exit (state_save_and_wait), and at start the
 * loaded keys checked against the slot table (state_claim_loaded_slots).
 *
 * The start's check is 7.0.15's verifyClusterConfigWithData, run once the
 * data is loaded (AOF or dump.rdb) and before the first client is served: a
 * master that holds keys in a slot nobody owns takes the slot; in a slot
 * another node owns it marks the slot importing from that owner, unless it
 * imports it already. Each is logged with 7.0.15's text and nodes.conf is
 * saved (fsynced) before the caller goes on. A replica changes nothing: its
 * data follows its master's stream.
 *
 * Must never: change a slot this node owns or imports, or anything on a
 * replica; leave a waiter's rendezvous in its stack frame (a waiter that
 * gave up has returned while the persister may still answer).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actors/state/state_internal.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

void state_save_sync(state_t *st, persist_wait_t *wait)
{
    persist_req_t *p = xcalloc(1, sizeof *p);
    p->hdr.type = PERSIST_SAVE;
    p->text = state_conf_text(st, &p->len);
    p->seq = ++st->config_seq;
    st->sent_seq = p->seq;
    p->wait = wait;
    p->fsync = true;   /* made durable whatever asked for it */
    rt_send(persister_actor(), &p->hdr);
}

/* A rendezvous and a zeroed request of `size` bytes of type `type` holding
 * it, or NULL (nothing left behind). */
static void *sync_request(int type, size_t size, persist_wait_t **w)
{
    *w = persist_wait_new();
    if (!*w) return NULL;
    state_sync_req_t *r = calloc(1, size);
    if (!r) {
        persist_wait_finish(*w, ENOMEM);   /* the persister's reference, never handed on */
        persist_wait_timed(*w, 0);
        return NULL;
    }
    r->hdr.type = type;
    r->wait = *w;
    return r;
}

int state_save_and_wait(int timeout_ms)
{
    persist_wait_t *w;
    state_sync_req_t *r = sync_request(STATE_MSG_SAVE_SYNC, sizeof *r, &w);
    if (!r) return -1;
    rt_send(state_actor(), &r->hdr);
    return persist_wait_timed(w, timeout_ms);
}

void state_loaded_apply(state_t *st, state_loaded_req_t *r)
{
    int changed = 0;
    for (int s = 0; s < SLOT_COUNT && !(st->nodes[st->myself].flags & NODE_SLAVE); s++) {
        if (!(r->with_keys[s / 8] & (1u << (s % 8)))) continue;
        if (st->slot_owner[s] == st->myself || st->importing_from[s] >= 0) continue;
        changed++;
        if (st->slot_owner[s] < 0) {
            LOG_WARNING("I have keys for unassigned slot %d. Taking responsibility for it.", s);
            st->slot_owner[s] = (int16_t)st->myself;
        } else {
            LOG_WARNING("I have keys for slot %d, but the slot is assigned to another node. "
                        "Setting it to importing state.", s);
            state_set_importing(st, s, st->slot_owner[s]);
        }
    }
    if (changed) {
        state_recount_slots(st);
        state_publish(st);                  /* served as ours by the time the caller goes on */
        state_save_sync(st, r->wait);
    } else {
        persist_wait_finish(r->wait, 0);    /* nothing to save */
    }
    free(r);
}

int state_claim_loaded_slots(const uint8_t *with_keys, int timeout_ms)
{
    persist_wait_t *w;
    state_loaded_req_t *r = sync_request(STATE_MSG_LOADED, sizeof *r, &w);
    if (!r) return -1;
    memcpy(r->with_keys, with_keys, sizeof r->with_keys);
    rt_send(state_actor(), &r->hdr);
    return persist_wait_timed(w, timeout_ms);
}

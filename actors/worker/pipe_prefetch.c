/* pipe_prefetch.c - see pipe_prefetch.h. */
#include "actors/worker/pipe_prefetch.h"
#include "actors/worker/client.h"
#include "actors/worker/wdb.h"
#include "actors/worker/worker.h"
#include "actors/worker/worker_internal.h"
#include "proto/resp.h"
#include "proto/slot.h"
#include "runtime/actor.h"

/* The next unseen command of c, if it is complete: its bucket and WATCH
 * version start coming (in another worker's keyspace only with its token). */
static bool look_ahead(pipe_prefetch_t *pf, client_t *c, unsigned index)
{
    worker_t *w = c->worker;
    const uint8_t *key;
    size_t total, klen;
    if (pf->scan >= c->qlen || !resp_peek(c->qbuf + pf->scan, c->qlen - pf->scan, &total, &key, &klen)) return false;
    pf->scan += total;
    int k = pf->n++;
    pf->q[k].index = index;
    pf->q[k].ks = NULL;
    worker_t *o = g_workers[worker_of_slot(slot_of_key(key, klen))];
    if (o != w && !rt_thread_try_borrow(o->thread)) return true;
    if (c->db == o->cur_db) {
        pf->q[k].ks = o->ks;
        pf->q[k].owner = o;
        pf->q[k].ref = ks_keyref(o->ks, key, klen, -1);
        ks_prefetch_ref(o->ks, pf->q[k].ref);
        if (watch_anyone()) __builtin_prefetch(&o->key_versions[wdb_watch_bucket(o->cur_db, key, klen)], 1);
    }
    if (o != w) rt_thread_unborrow(o->thread);
    return true;
}

/* The chain's first entry of a bucket fetched a command ago. */
static void fetch_chain(client_t *c, const pipe_prefetch_t *pf)
{
    worker_t *o = pf->q[0].owner;
    if (o != c->worker && !rt_thread_try_borrow(o->thread)) return;
    if (pf->q[0].ks == o->ks) ks_prefetch_chain_ref(pf->q[0].ks, pf->q[0].ref);
    if (o != c->worker) rt_thread_unborrow(o->thread);
}

void pipe_prefetch_step(pipe_prefetch_t *pf, client_t *c, size_t next)
{
    unsigned now = pf->step++;
    if (!pf->scan) pf->scan = next;
    /* what was fetched for the command running now is as far as it gets */
    if (pf->n && pf->q[0].index <= now) {
        pf->q[0] = pf->q[1];
        pf->n--;
    }
    /* the next command's bucket came during the last one: its entry now */
    if (pf->n && pf->q[0].index == now + 1 && pf->q[0].ks) {
        fetch_chain(c, pf);
        pf->q[0].ks = NULL;
    }
    while (pf->n < PIPE_PREFETCH_AHEAD && look_ahead(pf, c, now + 1 + (unsigned)pf->n)) {}
}

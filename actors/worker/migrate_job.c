/* migrate_job.c - the MIGRATE job as the handler sees it (migrate.h):
 * made with the call's arguments and keys, then settled after each round
 * (the keys the target took are deleted unless they changed meanwhile) and
 * answered. The rounds themselves are migrate.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/worker/keyspace.h"
#include "actors/worker/migrate_internal.h"
#include "actors/worker/wdb.h"
#include "actors/worker/worker_internal.h"
#include "runtime/xmalloc.h"

/* ---------------- jobs: built by the handler ---------------- */

migrate_job_t *migrate_job_new(const uint8_t *host, size_t hostlen, const uint8_t *port, size_t portlen,
                               long long dbid, long long timeout_ms, bool copy, bool replace,
                               const uint8_t *user, size_t userlen, const uint8_t *pass, size_t passlen)
{
    migrate_job_t *j = xcalloc(1, sizeof *j);
    j->namelen = hostlen + 1 + portlen;
    j->name = xmalloc(j->namelen + 1);
    memcpy(j->name, host, hostlen);
    j->name[hostlen] = ':';
    memcpy(j->name + hostlen + 1, port, portlen);
    j->name[j->namelen] = '\0';
    j->host = xstrndup((const char *)host, hostlen);
    char portbuf[32];
    size_t n = portlen < sizeof portbuf - 1 ? portlen : sizeof portbuf - 1;
    memcpy(portbuf, port, n);
    portbuf[n] = '\0';
    j->port = atoi(portbuf);          /* as 7.0.15: a port that is no number connects to 0 and fails */
    j->dbid = dbid;
    j->src_db = wdb_current_here();   /* the handler runs with the client's database current */
    j->timeout_ms = timeout_ms;
    j->copy = copy;
    j->replace = replace;
    if (pass) {
        j->pass = xmalloc(passlen + 1);
        memcpy(j->pass, pass, passlen);
        j->passlen = passlen;
        if (user) {
            j->user = xmalloc(userlen + 1);
            memcpy(j->user, user, userlen);
            j->userlen = userlen;
        }
    }
    return j;
}

void migrate_job_add_key(migrate_job_t *j, const uint8_t *key, size_t len)
{
    if (j->nkeys == j->keycap) {
        j->keycap = j->keycap ? j->keycap * 2 : 4;
        j->keys = xrealloc(j->keys, (size_t)j->keycap * sizeof *j->keys);
    }
    mig_key_t *k = &j->keys[j->nkeys++];
    memset(k, 0, sizeof *k);
    k->key = xmalloc(len + 1);
    memcpy(k->key, key, len);
    k->len = len;
}

void migrate_job_free(migrate_job_t *j)
{
    if (j->holds_watch) watch_hold(false);
    for (int i = 0; i < j->nkeys; i++) free(j->keys[i].key);
    free(j->keys);
    free(j->expect);
    free(j->name);
    free(j->host);
    free(j->user);
    free(j->pass);
    free(j);
}

/* ---------------- jobs: settled by the handler ---------------- */

static bool key_changed(const migrate_job_t *j, worker_t *w, const mig_key_t *k)
{
    return w->flush_epoch != j->flush_epoch ||
           w->key_versions[wdb_watch_bucket(j->src_db, k->key, k->len)] != k->version;
}

int migrate_job_settle(migrate_job_t *j, worker_t *w, struct keyspace *ks, long long now_ms, resp_buf_t *prop)
{
    bool failed = j->outcome != OUT_NONE || j->verdict.error;
    /* A keyspace replaced meanwhile (we became a replica and loaded our
     * master's data): nothing of it is ours to delete or send. */
    bool foreign = ks != j->ks || (ks_replica_mode(ks) && !ks_pause_only(ks));
    int *gone = xmalloc((size_t)(j->nkeys ? j->nkeys : 1) * sizeof *gone);
    int deleted = 0, pending = 0;
    resp_buf_reset(prop);
    for (int i = 0; i < j->nkeys; i++) {
        mig_key_t *k = &j->keys[i];
        if (k->state == KEY_SENT) k->state = KEY_DONE;     /* its reply never came */
        if (k->state != KEY_TAKEN) continue;
        k->state = KEY_DONE;
        if (j->copy || foreign) continue;
        if (key_changed(j, w, k)) {
            /* The target holds the value as it was when sent: send it
             * again, unless the call failed anyway (the key stays here). */
            if (!failed) {
                k->state = KEY_PENDING;
                k->resend = true;
                pending++;
            }
            continue;
        }
        /* its memory goes after the reply (flush_pending_writes) */
        if (ks_delete_later(ks, k->key, k->len, now_ms, &w->free_later)) gone[deleted++] = i;
    }
    if (pending && j->rounds >= MIG_MAX_ROUNDS) {
        j->outcome = OUT_UNSTABLE;
        for (int i = 0; i < j->nkeys; i++)
            if (j->keys[i].state == KEY_PENDING) j->keys[i].state = KEY_DONE;
    }
    if (deleted) {
        resp_add_array(prop, deleted + 1);
        resp_add_bulk(prop, "DEL", 3);
        for (int d = 0; d < deleted; d++) resp_add_bulk(prop, j->keys[gone[d]].key, j->keys[gone[d]].len);
    }
    free(gone);
    return deleted;
}

bool migrate_job_more(const migrate_job_t *j)
{
    if (j->outcome != OUT_NONE || j->verdict.error) return false;
    for (int i = 0; i < j->nkeys; i++)
        if (j->keys[i].state == KEY_PENDING) return true;
    return false;
}

void migrate_job_reply(const migrate_job_t *j, resp_buf_t *reply)
{
    if (j->verdict.error) {
        resp_add_errorf(reply, "ERR Target instance replied with error: %s", j->verdict.error_text);
        return;
    }
    switch (j->outcome) {
    case OUT_IOERR_CONNECT: resp_add_error(reply, "IOERR error or timeout connecting to the client"); return;
    case OUT_IOERR_WRITE: resp_add_error(reply, "IOERR error or timeout writing to target instance"); return;
    case OUT_IOERR_READ: resp_add_error(reply, "IOERR error or timeout reading to target instance"); return;
    case OUT_UNSTABLE:
        resp_add_error(reply, "ERR MIGRATE gave up: keys kept changing while they were sent");
        return;
    default: resp_add_simple(reply, "OK"); return;
    }
}


/* repl_cut.c - the replication actor's stop-the-world cut (see repl.c for
 * why): every worker flushes its propagation buffer and parks at the barrier;
 * once all arrived the offset is fixed, and released workers encode their keys
 * into the parts of one RDB for the replicas waiting for a full sync. FLUSHALL
 * with replicas, DEBUG SLEEP and the saves to dump.rdb (SAVE, BGSAVE, save
 * points, shutdown) use the same barrier.
 *
 * Must never: block the replication actor (only the workers wait), or release
 * a worker before every worker has arrived.
 */
#include "actors/commands/function.h"
#include "actors/commands/args.h"
#include "actors/persist/rdb_load.h"
#include "actors/worker/wdb.h"
#include "actors/repl/repl_actor_internal.h"
#include "actors/worker/xscript.h"
#include "runtime/random.h"
#include "runtime/slice.h"
#include "runtime/xmalloc.h"

/* ---------------- cuts ---------------- */

static void cut_on_worker(worker_t *w, rt_msg_t *msg);

static void start_cut(repl_actor_state_t *ra, int kind, long long sleep_us, repl_save_cut_t *save)
{
    repl_cut_t *cut = xcalloc(1, sizeof *cut);
    cut->kind = kind;
    cut->flush_db = -1;
    remote_cmd_t *frc = ra->cut_flush_rc;
    if (kind == CUT_FLUSH && frc && frc->ncmds > 0 && arg_is(frc->cmds[0].argv[0], frc->cmds[0].argvlen[0], "flushdb"))
        cut->flush_db = frc->db;
    cut->sleep_us = sleep_us;
    cut->save = save;
    cut->parties = workers_count();
    pthread_mutex_init(&cut->mu, NULL);
    pthread_cond_init(&cut->cv, NULL);
    cut->now_ms = rt_now_ms();
    char buf[16];
    cut->compress = !(config_get_by_name("rdbcompression", buf, sizeof buf) >= 0 && !strcasecmp(buf, "no"));
    ra->cut = cut;
    /* Every party of a cut runs short slices from its arrival to the
     * release (runtime/slice.h): each is woken once the one before it is
     * done (the last arrival wakes this thread, the release every worker),
     * and on the loaded 2-core machine each such wake-up waited up to tens
     * of ms for a default slice to end, with every client of the node
     * stopped meanwhile (bench/aof_pause.py). */
    rt_slice_brief_begin(&ra->cut_slice);
    workers_barrier_lock();       /* one order for every barrier (worker.h) */
    for (int i = 0; i < workers_count(); i++) {
        repl_cut_msg_t *m = xcalloc(1, sizeof *m);
        m->hdr.type = WMSG_RUN;
        m->run.fn = cut_on_worker;
        m->cut = cut;
        m->worker = i;
        worker_post(i, &m->hdr);
    }
    workers_barrier_unlock();
    /* The replica link keeps its master's stream unread until the client of
     * DEBUG SLEEP has gone on: in redis-server, MULTI / DEBUG SLEEP / CLIENT
     * KILL <master> / EXEC cuts the master off before a byte sent during the
     * sleep is read (Redis's cluster test 05-slave-selection relies on it). */
    if (kind == CUT_SLEEP) ra->sleep_holds++;
    if (kind == CUT_SLEEP && config_cluster_enabled()) {
        /* The state actor and its cron stop too: a sleeping redis-server
         * neither pings nor marks anyone failing. */
        repl_cut_msg_t *m = xcalloc(1, sizeof *m);
        m->hdr.type = REPL_MSG_PARK;
        m->cut = cut;
        m->worker = -1;
        cut->parties++;
        rt_send(state_actor(), &m->hdr);
    }
}

/* Both sides of the barrier for a party that has no part of its own. */
static void cut_wait_released(repl_cut_t *cut)
{
    pthread_mutex_lock(&cut->mu);
    while (!cut->released) pthread_cond_wait(&cut->cv, &cut->mu);
    pthread_mutex_unlock(&cut->mu);
}

void repl_cut_park(rt_msg_t *msg)
{
    repl_cut_msg_t *m = (repl_cut_msg_t *)msg;
    repl_cut_t *cut = m->cut;
    repl_cut_msg_t *a = xcalloc(1, sizeof *a);
    a->hdr.type = RM_CUT_ARRIVED;
    a->cut = cut;
    a->worker = -1;
    rt_send(repl_actor(), &a->hdr);
    cut_wait_released(cut);
    m->hdr.type = RM_CUT_DONE;
    rt_send(repl_actor(), &m->hdr);
}

void repl_request_sleep(remote_cmd_t *rc)
{
    rc->hdr.type = RM_SLEEP;
    rt_send(repl_actor(), &rc->hdr);
}

/* On each worker's thread (WMSG_RUN): arrive, wait for the release, do
 * this worker's part of the cut. */
static void cut_on_worker(worker_t *w, rt_msg_t *msg)
{
    repl_cut_msg_t *m = (repl_cut_msg_t *)msg;
    repl_cut_t *cut = m->cut;
    rt_slice_brief_t slice;
    rt_slice_brief_begin(&slice);   /* its release wakes it (start_cut) */
    worker_repl_flush(w);
    repl_cut_msg_t *a = xcalloc(1, sizeof *a);
    a->hdr.type = RM_CUT_ARRIVED;
    a->cut = cut;
    a->worker = worker_index(w);
    rt_send(repl_actor(), &a->hdr);
    worker_wait_begin(w, cut, ~0ULL);   /* every worker's: a script's session may count on it (xscript.h) */
    cut_wait_released(cut);
    rt_slice_brief_end(&slice);
    worker_wait_end(w);
    if (cut->kind == CUT_SYNC || (cut->kind == CUT_REWRITE && !cut->rewrite_forked)) {
        rdb_save_encode_worker(w, cut->now_ms, cut->compress, &cut->parts[worker_index(w)]);
    } else if (cut->kind == CUT_SAVE && !cut->save->taken) {
        /* FLUSHALL's save: the emptied keyspace is what the file holds, so
         * no change is left unsaved (7.0.15: rdb_changes_since_last_save 0) */
        if (cut->save->flush_first) wdb_flush_all(w, false);
        /* only this worker writes its entry of the request's parts */
        rdb_save_encode_worker(w, cut->now_ms, cut->save->compress, &cut->save->parts[worker_index(w)]);
    } else if (cut->kind == CUT_FLUSH && cut->flush_db >= 0) {
        int prev = wdb_use(w, cut->flush_db);
        worker_flush_keyspace(w, true);
        wdb_use(w, prev);
    } else if (cut->kind == CUT_FLUSH) {
        wdb_flush_all(w, true);
    }
    m->hdr.type = RM_CUT_DONE;
    rt_send(repl_actor(), &m->hdr);
}


void ra_ensure_backlog(repl_actor_state_t *ra)
{
    if (ra->backlog) return;
    ra_backlog_create(ra);
    if (ra->offset == 0 || !ra->replid[0]) {
        rt_random_hex(ra->replid, REPL_ID_LEN);
        memcpy(ra->replid2, zero_id, sizeof ra->replid2);
        ra->second_offset = -1;
    }
    ra->need_select = true;
    /* seq_cst: ordered before the cut messages every worker must pass */
    atomic_store(&g_repl_propagate, 1);
}

void ra_cut_arrived(repl_actor_state_t *ra, repl_cut_msg_t *m)
{
    repl_cut_t *cut = m->cut;
    free(m);
    if (++cut->arrived < cut->parties) return;
    /* Every byte propagated before the cut is in the stream now. */
    if (cut->kind == CUT_SLEEP) {
        /* Everyone else waits at the barrier: this thread sleeps for the
         * node, as redis-server's one thread does in DEBUG SLEEP. */
        struct timespec ts = { (time_t)(cut->sleep_us / 1000000), (long)(cut->sleep_us % 1000000) * 1000 };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
    } else if (cut->kind == CUT_SYNC) {
        for (served_t *s = ra->served; s; s = s->next) {
            if (s->state != SND_WAIT_CUT) continue;
            s->state = SND_WAIT_RDB;
            char line[128];
            int n = snprintf(line, sizeof line, "+FULLRESYNC %s %lld\r\n", ra->replid, ra->offset);
            if (!(s->capa & REPL_CAPA_PRE_PSYNC)) repl_sender_send(s->sender, repl_chunk_copy(line, (size_t)n), false);
            s->ack_offset = 0;
        }
        cut->offset = ra->offset;
        /* the stream after a new sync point starts with a SELECT, as 7.0.15
         * forgets its replicas' database at each full sync */
        ra->need_select = true;
        /* the libraries as they are at this point of the stream (7.0.15's RDB has them first) */
        cut->functions = fn_rdb_records(cut->compress, &cut->functions_len);
    } else if (cut->kind == CUT_SAVE) {
        /* Every worker is parked, its writes in the stream: the offset and
         * the change counters describe exactly what the parts will hold.
         * A node with a backlog (a master that has served replicas, or a
         * replica) records its place in the stream, as 7.0.15's
         * rdbPopulateSaveInfo does. */
        repl_save_cut_t *req = cut->save;
        if (req->flush_first) {   /* the flush is this point of the stream, as CUT_FLUSH's */
            ra_maybe_select(ra, ra->stream_db >= 0 ? ra->stream_db : 0);
            static const char fl[] = "*1\r\n$8\r\nFLUSHALL\r\n";
            ra_stream_append(ra, fl, sizeof fl - 1);
            aof_append_stream(fl, sizeof fl - 1, ra->stream_db, ra->stream_db);
        }
        req->has_history = ra->backlog != NULL;
        memcpy(req->replid, ra->replid, sizeof req->replid);
        req->offset = ra->offset;
        req->dirty = workers_sum(WSTAT_DIRTY);
        req->functions = fn_rdb_records(req->compress, &req->functions_len);
        req->taken = req->at_cut && req->at_cut(req);
    } else if (cut->kind == CUT_REWRITE) {
        cut->functions = fn_rdb_records(cut->compress, &cut->functions_len);
        aof_cut_reached();   /* after every handover filed before the cut */
        /* released after this, the workers read it under cut->mu */
        cut->rewrite_forked = aof_rewrite_fork_at_cut(cut->functions, cut->functions_len, cut->compress);
    } else {
        /* FLUSHDB in its database; FLUSHALL in the client's, as 7.0.15 selects before it */
        int db = cut->flush_db >= 0 ? cut->flush_db : ra->cut_flush_rc ? ra->cut_flush_rc->db : 0;
        ra_maybe_select(ra, db);
        static const char fl[] = "*1\r\n$8\r\nFLUSHALL\r\n", fdb[] = "*1\r\n$7\r\nFLUSHDB\r\n";
        const char *cmd = cut->flush_db >= 0 ? fdb : fl;
        size_t n = cut->flush_db >= 0 ? sizeof fdb - 1 : sizeof fl - 1;
        ra_stream_append(ra, cmd, n);
        aof_append_stream(cmd, n, db, db);   /* the AOF has it at the same point of the order */
    }
    pthread_mutex_lock(&cut->mu);
    cut->released = true;
    pthread_cond_broadcast(&cut->cv);
    pthread_mutex_unlock(&cut->mu);
    rt_slice_brief_end(&ra->cut_slice);
    /* On a replica: the link held its master's stream while the offset was
     * being fixed; what it applies from now on follows the cut. */
    repl_replica_resume();
}

static long long used_memory(void)
{
    return workers_sum(WSTAT_USED_BYTES);
}

/* The RDB for offset `at` as a list of chunks sent one after the other: the
 * header with its aux fields, each worker's part as it was encoded (no join
 * copy: the parts' CRCs are combined), then EOF and the checksum. Returns the
 * number of chunks (in out[], at most MAX_WORKERS + 2) and their total length,
 * or 0 if a part failed. */
static int build_rdb(repl_actor_state_t *ra, repl_cut_t *cut, long long at, repl_chunk_t **out, size_t *total,
                     bool aof_base)
{
    uint64_t keys = 0, expires = 0;
    for (int i = 0; i < workers_count(); i++) {
        if (cut->parts[i].failed) return 0;
        keys += cut->parts[i].keys;
        expires += cut->parts[i].expires;
    }
    rdb_encoder_t e;
    rdb_encoder_init(&e, cut->compress);
    /* An AOF base carries no replication aux fields, and says it is one. */
    rdb_aux_info_t aux = { .ctime = rt_now_ms() / 1000, .used_mem = used_memory(), .has_repl = !aof_base,
                           .repl_stream_db = 0, .repl_id = ra->replid, .repl_offset = at, .aof_base = aof_base };
    rdb_encode_header(&e);
    rdb_encode_aux_fields(&e, &aux);
    if (cut->functions_len) rdb_encode_raw(&e, cut->functions, cut->functions_len);
    if (keys > 0) {
        rdb_encode_selectdb(&e, 0);
        rdb_encode_resizedb(&e, keys, expires);
    }
    if (e.failed) abort();
    int n = 0;
    *total = 0;
    out[n++] = repl_chunk_copy(rdb_encoder_data(&e), rdb_encoder_pending(&e));
    rdb_encoder_drain(&e, rdb_encoder_pending(&e));
    for (int i = 0; i < workers_count(); i++) {
        rdb_part_t *p = &cut->parts[i];
        rdb_encoder_splice(&e, p->len, p->crc);
        if (!p->len) continue;
        out[n++] = repl_chunk_new(p->data, p->len);   /* the chunk owns the part's bytes now */
        p->data = NULL;
    }
    rdb_encode_eof(&e);
    if (e.failed) abort();
    out[n++] = repl_chunk_copy(rdb_encoder_data(&e), rdb_encoder_pending(&e));
    rdb_encoder_free(&e);
    for (int i = 0; i < n; i++) *total += out[i]->len;
    return n;
}

/* rdb-key-save-delay (microseconds per key, > 0) over the sync's keys: how
 * long 7.0.15's child would take to write this RDB (0: no pace). */
static long long sync_pace_us(const repl_cut_t *cut)
{
    char buf[32];
    if (config_get_by_name("rdb-key-save-delay", buf, sizeof buf) < 0) return 0;
    long long per_key = strtoll(buf, NULL, 10);
    if (per_key <= 0) return 0;
    long long keys = 0;
    for (int i = 0; i < workers_count(); i++) keys += (long long)cut->parts[i].keys;
    return per_key * keys;
}

static void rewrite_chunk_release(void *owner) { repl_chunk_unref(owner); }

void ra_cut_done(repl_actor_state_t *ra, repl_cut_msg_t *m)
{
    repl_cut_t *cut = m->cut;
    free(m);
    if (++cut->done < cut->parties) return;
    if (cut->kind == CUT_SYNC) {
        repl_chunk_t *chunks[MAX_WORKERS + 2];
        size_t rdb_len = 0;
        int nchunks = build_rdb(ra, cut, cut->offset, chunks, &rdb_len, false);
        long long pace_us = sync_pace_us(cut);
        for (served_t *s = ra->served; s; s = s->next) {
            if (s->state != SND_WAIT_RDB) continue;
            if (!nchunks) {
                repl_sender_signal(s->sender, RS_CLOSE);
                continue;
            }
            char head[80];
            int n;
            char mark[REPL_ID_LEN + 1];
            bool eof = (s->capa & REPL_CAPA_EOF) && !(s->capa & REPL_CAPA_PRE_PSYNC) &&
                       config_get_num(CONFIG_REPL_DISKLESS_SYNC);
            if (eof) {
                rt_random_hex(mark, REPL_ID_LEN);
                n = snprintf(head, sizeof head, "$EOF:%s\r\n", mark);
            } else {
                n = snprintf(head, sizeof head, "$%zu\r\n", rdb_len);
            }
            if (pace_us > 0) repl_sender_pace(s->sender, rdb_len + (size_t)n, pace_us);
            repl_sender_send(s->sender, repl_chunk_copy(head, (size_t)n), false);
            for (int i = 0; i < nchunks; i++) repl_sender_send(s->sender, repl_chunk_ref(chunks[i]), false);
            ra->output_bytes += (long long)(rdb_len + (size_t)n);
            if (eof) {
                repl_sender_send(s->sender, repl_chunk_copy(mark, REPL_ID_LEN), false);
            } else {
                s->released = true;
                repl_sender_signal(s->sender, RS_RELEASE);
            }
            s->state = SND_ONLINE;
            s->ack_ms = rt_mono_ms();
            LOG_NOTICE("Synchronization with replica %s:%d succeeded", s->ip, s->port);
        }
        for (int i = 0; i < nchunks; i++) repl_chunk_unref(chunks[i]);
        if (!nchunks) LOG_WARNING("Full sync failed: out of memory while encoding the RDB");
    } else if (cut->kind == CUT_SAVE) {
        cut->save->done(cut->save);   /* the request and its parts belong to the saver again */
    } else if (cut->kind == CUT_REWRITE) {
        if (!cut->rewrite_forked) {   /* else the child writes the base */
            repl_chunk_t *chunks[MAX_WORKERS + 2];
            size_t rdb_len = 0;
            int nchunks = build_rdb(ra, cut, 0, chunks, &rdb_len, true);
            const uint8_t *data[MAX_WORKERS + 2];
            size_t lens[MAX_WORKERS + 2];
            void *owners[MAX_WORKERS + 2];
            for (int i = 0; i < nchunks; i++) {
                data[i] = chunks[i]->data;
                lens[i] = chunks[i]->len;
                owners[i] = chunks[i];
            }
            /* The AOF's writer thread owns the chunks now and drops them when written. */
            aof_rewrite_base_ready(nchunks, data, lens, owners, rewrite_chunk_release);
        }
    } else {   /* FLUSHALL and DEBUG SLEEP both answer +OK once every party is done */
        remote_cmd_t *rc = ra->cut_flush_rc;
        ra->cut_flush_rc = NULL;
        if (rc) {
            resp_add_simple(&rc->reply, "OK");
            worker_reply_async(rc);
        }
    }
    for (int i = 0; i < workers_count(); i++) free(cut->parts[i].data);
    free(cut->functions);
    pthread_mutex_destroy(&cut->mu);
    pthread_cond_destroy(&cut->cv);
    free(cut);
    ra->cut = NULL;
    ra_publish(ra);
    ra_begin_next_cut(ra);
}

/* 7.0.15's shouldStartChildReplication: a diskless full sync waits until
 * the replica that asked first has waited repl-diskless-sync-delay seconds,
 * or until repl-diskless-sync-max-replicas replicas wait, so that replicas
 * arriving together share one transfer; a disk-based one starts at once. */
static bool sync_may_start(repl_actor_state_t *ra)
{
    int waiting = 0;
    long long first = 0;
    for (served_t *s = ra->served; s; s = s->next) {
        if (s->state != SND_WAIT_CUT) continue;
        if (!waiting++ || s->sync_asked_ms < first) first = s->sync_asked_ms;
    }
    if (!waiting) {   /* every replica that asked has gone */
        ra->sync_queued = false;
        return false;
    }
    /* Clients refused -LOADING: the data is emptied or half loaded (DEBUG
     * LOADAOF/RELOAD), and a cut now would send the replica part of it; it
     * waits for the load's end (7.0.15, loading on its main thread, starts
     * no sync meanwhile). */
    if (rdb_load_refusing()) return false;
    if (!config_get_num(CONFIG_REPL_DISKLESS_SYNC)) return true;
    char buf[32];
    long long max_replicas = 0;
    if (config_get_by_name("repl-diskless-sync-max-replicas", buf, sizeof buf) >= 0) max_replicas = strtoll(buf, NULL, 10);
    if (max_replicas > 0 && waiting >= max_replicas) return true;
    return rt_mono_ms() - first >= config_get_num(CONFIG_REPL_DISKLESS_SYNC_DELAY) * 1000;
}

static void sync_delay_cb(rt_timer_t *t, void *arg)
{
    (void)t;
    ra_begin_next_cut(arg);
}

void ra_begin_next_cut(repl_actor_state_t *ra)
{
    if (ra->cut) return;
    /* a sync waiting for more replicas is looked at again every 100 ms */
    bool sync_waits = ra->sync_queued && !sync_may_start(ra);
    if (sync_waits != ra->sync_delay_timer_on) {
        if (sync_waits) rt_timer_start(&ra->sync_delay_timer, ra->thread, 100, 100, sync_delay_cb, ra);
        else rt_timer_stop(&ra->sync_delay_timer);
        ra->sync_delay_timer_on = sync_waits;
    }
    if (ra->nflush_queue > 0) {
        remote_cmd_t *rc = ra->flush_queue[0];
        ra->cut_flush_rc = rc;
        memmove(ra->flush_queue, ra->flush_queue + 1, sizeof ra->flush_queue[0] * (size_t)--ra->nflush_queue);
        if (rc->hdr.type == RM_SLEEP) start_cut(ra, CUT_SLEEP, rc->arg_us, NULL);
        else start_cut(ra, CUT_FLUSH, 0, NULL);
        return;
    }
    if (ra->sync_queued && !sync_waits) {
        ra->sync_queued = false;
        start_cut(ra, CUT_SYNC, 0, NULL);
        return;
    }
    if (ra->nsave_queue > 0) {
        repl_save_cut_t *req = ra->save_queue[0];
        memmove(ra->save_queue, ra->save_queue + 1, sizeof ra->save_queue[0] * (size_t)--ra->nsave_queue);
        start_cut(ra, CUT_SAVE, 0, req);
        return;
    }
    if (ra->rewrite_queued) {
        ra->rewrite_queued = false;
        start_cut(ra, CUT_REWRITE, 0, NULL);
    }
}

/* RM_SAVE: queued for a cut of its own. A full queue makes the save wait on
 * a retry list rather than fail: saves are few (one BGSAVE at a time, SAVE
 * blocks its client), so this is a bound that is never reached in practice. */
void ra_save_request(repl_actor_state_t *ra, repl_save_cut_t *req)
{
    if (ra->nsave_queue >= (int)(sizeof ra->save_queue / sizeof ra->save_queue[0])) {
        LOG_WARNING("Too many saves waiting for a cut; this one runs after the others");
        rt_send(repl_actor(), &req->hdr);   /* back of the mailbox */
        return;
    }
    ra->save_queue[ra->nsave_queue++] = req;
    ra_begin_next_cut(ra);
}

void repl_request_save(repl_save_cut_t *req)
{
    req->hdr.type = RM_SAVE;
    rt_send(repl_actor(), &req->hdr);
}


/* repl_replica_sync.c - the replica link's handshake (PING, AUTH, REPLCONF,
 * PSYNC, pipelined) and full sync: the RDB is decoded into staged keyspaces,
 * bounded per read, and handed to the workers only once it is whole (see
 * repl_replica.c for the state machine, repl_replica_internal.h for the state).
 *
 * Must never: block, touch a live worker keyspace, or apply a half-received RDB.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "actors/persist/aof.h"
#include "actors/persist/rdb_load.h"
#include "actors/repl/repl_replica_internal.h"
#include "actors/worker/wdb.h"
#include "actors/worker/worker.h"
#include "actors/repl/standalone.h"
#include "actors/types/types.h"
#include "runtime/xmalloc.h"

/* ---------------- handshake ---------------- */

/* Takes one line (without CR LF) off the input. Returns its length, or -1
 * when no complete line is buffered. */
static long take_line(repl_replica_link_t *rl, char *buf, size_t cap)
{
    uint8_t *nl = memchr(rl->in, '\n', rl->in_len);
    if (!nl) return -1;
    size_t n = (size_t)(nl - rl->in);
    size_t len = n;
    if (len > 0 && rl->in[len - 1] == '\r') len--;
    size_t c = len < cap - 1 ? len : cap - 1;
    memcpy(buf, rl->in, c);
    buf[c] = '\0';
    rr_in_consume(rl, n + 1);
    return (long)len;
}

static void hs_send_config(repl_replica_link_t *rl)
{
    char *auth = config_dup_str(CONFIG_MASTERAUTH);      /* whole values, any length */
    char *user = config_dup_str(CONFIG_MASTERUSER);
    rl->hs_n = rl->hs_i = 0;
    if (auth[0]) {
        if (user[0]) {
            const char *argv[] = { "AUTH", user, auth };
            rr_out_command(rl, 3, argv);
        } else {
            const char *argv[] = { "AUTH", auth };
            rr_out_command(rl, 2, argv);
        }
        rl->hs_expect[rl->hs_n++] = HS_AUTH;
    }
    free(auth);
    free(user);
    char port[24];
    long long ap = config_get_num(CONFIG_REPLICA_ANNOUNCE_PORT);
    snprintf(port, sizeof port, "%lld", ap > 0 ? ap : (long long)config_port());
    const char *pargv[] = { "REPLCONF", "listening-port", port };
    rr_out_command(rl, 3, pargv);
    rl->hs_expect[rl->hs_n++] = HS_PORT;
    char ip[256];
    config_get_str(CONFIG_REPLICA_ANNOUNCE_IP, ip, sizeof ip);
    if (ip[0]) {
        const char *iargv[] = { "REPLCONF", "ip-address", ip };
        rr_out_command(rl, 3, iargv);
        rl->hs_expect[rl->hs_n++] = HS_IP;
    }
    const char *cargv[] = { "REPLCONF", "capa", "eof", "capa", "psync2" };
    rr_out_command(rl, 5, cargv);
    rl->hs_expect[rl->hs_n++] = HS_CAPA;
    rr_out_flush(rl);
}

static void hs_send_psync(repl_replica_link_t *rl)
{
    rl->psync_offset = repl_psync_args(rl->psync_replid);
    char off[32];
    if (rl->psync_offset < 0) {
        snprintf(rl->psync_replid, sizeof rl->psync_replid, "?");
        snprintf(off, sizeof off, "-1");
        LOG_NOTICE("Partial resynchronization not possible (no cached master)");
    } else {
        snprintf(off, sizeof off, "%lld", rl->psync_offset);
        LOG_NOTICE("Trying a partial resynchronization (request %s:%lld).", rl->psync_replid, rl->psync_offset);
    }
    /* a master handing over (FAILOVER): the target becomes a master first */
    const char *argv[] = { "PSYNC", rl->psync_replid, off, "FAILOVER" };
    rr_out_command(rl, sa_failover_psync_flag() ? 4 : 3, argv);
    rl->hs_n = rl->hs_i = 0;
    rl->hs_expect[rl->hs_n++] = HS_PSYNC;
    rr_out_flush(rl);
}

/* 7.0.15 makes its master a client when the stream starts: a new id,
 * the local end of the link, cmd=NULL until the first command. */
static void link_as_client(repl_replica_link_t *rl)
{
    rl->link_id = atomic_fetch_add(&g_next_client_id, 1);
    rl->link_created_ms = rt_now_ms();
    snprintf(rl->last_cmd, sizeof rl->last_cmd, "NULL");
    struct sockaddr_storage ls;
    socklen_t ll = sizeof ls;
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (getsockname(rl->fd, (struct sockaddr *)&ls, &ll) != 0) {
        ls.ss_family = AF_UNSPEC;
    } else if (ls.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ls)->sin_addr, ip, sizeof ip);
        port = ntohs(((struct sockaddr_in *)&ls)->sin_port);
    } else if (ls.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ls)->sin6_addr, ip, sizeof ip);
        port = ntohs(((struct sockaddr_in6 *)&ls)->sin6_port);
    }
    snprintf(rl->link_laddr, sizeof rl->link_laddr, "%s:%d", ip, port);
}

static void stream_start(repl_replica_link_t *rl, long long offset)
{
    rr_stream_offset_reset(offset);
    rl->state = RL_CONNECTED;
    link_as_client(rl);
    rl->repl_offset = rl->read_repl_offset = offset;
    rl->has_offsets = true;
    rl->last_error[0] = '\0';
    if (!rl->parser_on) {
        resp_parser_init(&rl->parser, LLONG_MAX);   /* Redis skips the bulk limit for its master */
        rl->parser_on = true;
    } else {
        resp_parser_reset(&rl->parser);
    }
    rl->last_ack_mono = 0;
    rr_publish(rl);
}

/* Handles the PSYNC reply line. Returns false when the link was dropped. */
static bool on_psync_reply(repl_replica_link_t *rl, const char *line)
{
    if (!strncmp(line, "+FULLRESYNC", 11)) {
        char id[64] = "";
        long long off = -1;
        if (sscanf(line + 11, " %63s %lld", id, &off) != 2 || strlen(id) != REPL_ID_LEN || off < 0) {
            char why[300];
            snprintf(why, sizeof why, "Master replied to PSYNC with an invalid +FULLRESYNC line: '%.200s'", line);
            rr_link_drop(rl, why, true);
            return false;
        }
        memcpy(rl->sync_replid, id, REPL_ID_LEN + 1);
        rl->sync_offset = off;
        LOG_NOTICE("Full resync from master: %s:%lld", id, off);
        sa_failover_psync_result(true);
        rl->state = RL_TRANSFER;
        rr_transfer_reset(rl);
        rl->last_newline_mono = rt_mono_ms();
        rl->sync_last_io_ms = rt_now_ms();
        rr_publish(rl);
        return true;
    }
    if (!strncmp(line, "+CONTINUE", 9)) {
        if (rl->psync_offset < 0) {
            rr_link_drop(rl, "Master accepted a partial resynchronization we did not ask for", true);
            return false;
        }
        char id[64] = "";
        if (sscanf(line + 9, " %63s", id) == 1 && strlen(id) == REPL_ID_LEN && strcmp(id, rl->psync_replid) != 0) {
            LOG_NOTICE("Master replication ID changed to %s", id);
            repl_switch_replid(id);
        }
        sa_failover_psync_result(true);
        LOG_NOTICE("Successful partial resynchronization with master.");
        LOG_NOTICE("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
        stream_start(rl, rl->psync_offset - 1);
        rr_send_ack(rl);
        return rl->fd >= 0;
    }
    char why[300];
    sa_failover_psync_result(false);   /* a failover's target refused: we are a master again */
    if (!strncmp(line, "-NOMASTERLINK", 13) || !strncmp(line, "-LOADING", 8)) {
        snprintf(why, sizeof why, "Master is currently unable to PSYNC but should be in the future: %.200s", line);
        rr_link_drop(rl, why, false);
    } else {
        snprintf(why, sizeof why, "Unexpected reply to PSYNC from master: %.200s", line);
        rr_link_drop(rl, why, true);
    }
    return false;
}

/* Consumes handshake replies. Returns false when nothing more can be done now. */
bool rr_handshake_step(repl_replica_link_t *rl)
{
    char line[512];
    long n = take_line(rl, line, sizeof line);
    if (n < 0) {
        if (rl->in_len > 64 * 1024) rr_link_drop(rl, "Master sent an overlong handshake reply", true);
        return false;
    }
    int expect = rl->hs_expect[rl->hs_i];
    if (n == 0) return true;                  /* a bare \n keep-alive */
    char why[400];
    switch (expect) {
    case HS_PING:
        if (line[0] != '+' && strncmp(line, "-NOAUTH", 7) && strncmp(line, "-NOPERM", 7) &&
            strncmp(line, "-ERR operation not permitted", 28)) {
            snprintf(why, sizeof why, "Error reply to PING from master: '%.200s'", line);
            rr_link_drop(rl, why, true);
            return false;
        }
        LOG_NOTICE("Master replied to PING, replication can continue...");
        hs_send_config(rl);
        return rl->fd >= 0;
    case HS_AUTH:
        if (line[0] == '-') {
            snprintf(why, sizeof why, "Unable to AUTH to MASTER: %.200s", line);
            rr_link_drop(rl, why, true);
            return false;
        }
        break;
    case HS_PORT:
        if (line[0] == '-') LOG_NOTICE("(Non critical) Master does not understand REPLCONF listening-port: %.200s", line);
        break;
    case HS_IP:
        if (line[0] == '-') LOG_NOTICE("(Non critical) Master does not understand REPLCONF ip-address: %.200s", line);
        break;
    case HS_CAPA:
        if (line[0] == '-') LOG_NOTICE("(Non critical) Master does not understand REPLCONF capa: %.200s", line);
        break;
    case HS_PSYNC:
        return on_psync_reply(rl, line);
    }
    if (++rl->hs_i == rl->hs_n) hs_send_psync(rl);
    return rl->fd >= 0;
}

/* ---------------- full sync ---------------- */

void rr_transfer_fail(repl_replica_link_t *rl, const char *what)
{
    char why[400];
    snprintf(why, sizeof why, "Failed trying to load the MASTER synchronization DB from socket: %s", what);
    LOG_WARNING("%s", why);
    rr_set_error(rl, "%s", what);
    rr_link_drop(rl, NULL, false);
}

/* One decoder event. Returns 0, or -1 with an error set in *err. */
static int stage_event(repl_replica_link_t *rl, const rdb_event_t *ev, char *err, size_t cap)
{
    switch (ev->type) {
    case RDB_EV_SELECTDB:
        if (ev->db >= (uint64_t)wdb_count()) {
            snprintf(err, cap, "the RDB has keys in database %llu; this node has %d",
                     (unsigned long long)ev->db, wdb_count());
            return -1;
        }
        rl->staged_db = (int)ev->db;
        return 0;
    case RDB_EV_KEY: {
        config_key_load_delay();
        int wi = worker_of_slot(slot_of_key(ev->key, ev->key_len));
        struct keyspace **into = &rl->staged[wi];
        if (rl->staged_db > 0) {
            if (!rl->staged_rest[wi]) rl->staged_rest[wi] = xcalloc((size_t)wdb_count(), sizeof *rl->staged_rest[wi]);
            into = &rl->staged_rest[wi][rl->staged_db];
        }
        if (!*into) {
            *into = ks_create();
            ks_set_replica_mode(*into, true);
        }
        int rc = types_rdb_store(*into, ev->key, ev->key_len, ev->value_type, ev->value, ev->value_len,
                                 ev->expire_ms >= 0 ? ev->expire_ms : KS_NO_EXPIRE, rt_now_ms(), ev->lru_idle,
                                 ev->lfu_freq);
        if (rc == TYPES_LOAD_EMPTY) return 0;   /* Redis skips empty collections */
        if (rc != TYPES_LOAD_OK) {
            snprintf(err, cap, "%s value of RDB type %u for key '%.*s'",
                     rc == TYPES_LOAD_CORRUPT ? "corrupt" : "unsupported", ev->value_type,
                     (int)(ev->key_len > 64 ? 64 : ev->key_len), (const char *)ev->key);
            return -1;
        }
        rl->staged_keys++;
        return 0;
    }
    case RDB_EV_FUNCTION:
        if (!fn_stage_add(&rl->staged_fns, ev->value, ev->value_len, err, cap)) return -1;
        return 0;
    default:
        return 0;
    }
}

static void tail_note(repl_replica_link_t *rl, const uint8_t *p, size_t n)
{
    if (n >= EOF_MARK_LEN) {
        memcpy(rl->tail, p + n - EOF_MARK_LEN, EOF_MARK_LEN);
        rl->tail_len = EOF_MARK_LEN;
        return;
    }
    size_t keep = rl->tail_len + n > EOF_MARK_LEN ? EOF_MARK_LEN - n : rl->tail_len;
    memmove(rl->tail, rl->tail + (rl->tail_len - keep), keep);
    memcpy(rl->tail + keep, p, n);
    rl->tail_len = keep + n;
}

/* The whole RDB is staged: hand it over and go online. */
static void transfer_commit(repl_replica_link_t *rl)
{
    for (int i = 0; i < workers_count(); i++) {
        if (rl->staged[i]) continue;
        rl->staged[i] = ks_create();
        ks_set_replica_mode(rl->staged[i], true);
    }
    fn_stage_commit(&rl->staged_fns);   /* the master's libraries replace ours, as 7.0.15 */
    LOG_NOTICE("MASTER <-> REPLICA sync: Swapping active DB with loaded DB");
    workers_swap_keyspaces(rl->staged, rl->staged_rest);   /* the workers own them now; one moment for all */
    rl->staged_db = 0;
    LOG_NOTICE("MASTER <-> REPLICA sync: Discarding old DB");
    long long keys = rl->staged_keys;
    if (rl->dec_on) rdb_decoder_free(&rl->dec);
    rl->dec_on = false;
    rdb_loading_end_sync();
    rl->load_on = false;
    rl->bulk_started = rl->eof_mode = rl->rdb_done = false;
    rl->staged_keys = 0;
    repl_set_master_history(rl->sync_replid, rl->sync_offset);
    aof_restart_after_sync();   /* its rewrite's cut follows the swaps in every worker's mailbox */
    /* a replica keeps every key of its master's RDB: none counts as expired */
    rdb_last_load_keys_set(keys, 0);
    LOG_NOTICE("Done loading RDB, keys loaded: %lld, keys expired: 0.", keys);
    LOG_NOTICE("MASTER <-> REPLICA sync: Finished with success");
    stream_start(rl, rl->sync_offset);
    rr_send_ack(rl);
    /* A redis-server master starts the stream on the first ACK that arrives once its
     * RDB child has been reaped, which may be after this one: ACK every tick for a
     * second rather than leave writes waiting for the periodic ACK. */
    rl->fast_ack_until_mono = rt_mono_ms() + 1000;
}

/* How the load that starts now is seen by clients, by repl-diskless-load
 * as 7.0.15 decides it. The new data is always built aside and swapped in
 * whole at the end (a failed load leaves the old data as it was); what
 * differs is what clients get meanwhile:
 *   swapdb, and the master continues our own history (its replid is ours):
 *     an asynchronous load, the old data served (INFO async_loading:1);
 *   swapdb otherwise, or on-empty-db with no keys: 7.0.15 loads in place
 *     (or into a temporary db it will not serve): -LOADING (loading:1);
 *   disabled, or on-empty-db with keys: 7.0.15 reads the transfer into a
 *     file first, serving the old data, then loads it: we serve the old
 *     data while the transfer is decoded, and INFO says loading:1. */
static void load_begin(repl_replica_link_t *rl)
{
    char mode[32] = "";
    config_get_by_name("repl-diskless-load", mode, sizeof mode);
    bool async = false, refuse = false;
    if (!strcmp(mode, "swapdb")) {
        repl_status_t st;
        repl_status_get(&st);
        async = !strcmp(st.replid, rl->sync_replid);
        refuse = !async;
    } else if (!strcmp(mode, "on-empty-db")) {
        refuse = workers_sum(WSTAT_KEYS) == 0;
    }
    long long total = rl->eof_mode ? 0 : rl->bulk_left;
    rdb_loading_begin_sync(total, async, refuse);
    rl->load_on = true;
    LOG_NOTICE("MASTER <-> REPLICA sync: Loading DB in memory (%s)",
               async ? "asynchronously, the old data served meanwhile"
                     : refuse ? "clients get -LOADING until it is done" : "the old data served meanwhile");
}

/* The stages of a transfer below return what rr_transfer_step does: false
 * when nothing more can be done now. */

/* The bulk header: "$<len>" or "$EOF:<mark>" (newlines before it are the
 * master's keep-alives while it prepares the RDB). */
static bool transfer_header(repl_replica_link_t *rl)
{
    char line[256];
    long n = take_line(rl, line, sizeof line);
    if (n < 0) {
        if (rl->in_len > 1024) { rr_transfer_fail(rl, "bad protocol from MASTER: no bulk length line"); }
        return false;
    }
    if (n == 0) return true;           /* keep-alive while the master prepares the RDB */
    if (line[0] == '-') {
        char what[300];
        snprintf(what, sizeof what, "MASTER aborted replication with an error: %.200s", line + 1);
        rr_transfer_fail(rl, what);
        return false;
    }
    if (line[0] != '$') {
        char what[300];
        snprintf(what, sizeof what, "Bad protocol from MASTER, the first byte is not '$' (we received '%.200s')",
                 line);
        rr_transfer_fail(rl, what);
        return false;
    }
    if (n == 5 + EOF_MARK_LEN && !strncmp(line, "$EOF:", 5)) {
        rl->eof_mode = true;
        memcpy(rl->eof_mark, line + 5, EOF_MARK_LEN);
        rdb_decoder_init(&rl->dec, (uint64_t)config_proto_max_bulk_len(), 0);
        LOG_NOTICE("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to memory");
    } else {
        char *end;
        errno = 0;
        long long len = strtoll(line + 1, &end, 10);
        if (end == line + 1 || *end || len <= 0 || errno == ERANGE) {
            char what[300];
            snprintf(what, sizeof what, "bad bulk length from MASTER: '%.200s'", line);
            rr_transfer_fail(rl, what);
            return false;
        }
        rl->bulk_left = len;
        rdb_decoder_init(&rl->dec, (uint64_t)config_proto_max_bulk_len(), (uint64_t)len);
        LOG_NOTICE("MASTER <-> REPLICA sync: receiving %lld bytes from master to memory", len);
    }
    rl->dec_on = true;
    load_begin(rl);
    rdb_last_load_keys_set(0, 0);   /* INFO rdb_last_load_keys_*: 7.0.15 zeroes them as a load starts */
    rl->bulk_started = true;
    rr_publish(rl);
    return true;
}

/* After the RDB's own EOF: the end mark (EOF mode) or the rest of the bulk
 * ($<len> mode), then the commit. */
static bool transfer_trailer(repl_replica_link_t *rl)
{
    if (rl->eof_mode) {
        if (rl->in_len < EOF_MARK_LEN) return false;
        if (memcmp(rl->in, rl->eof_mark, EOF_MARK_LEN) != 0) {
            rr_transfer_fail(rl, "the RDB did not end with the EOF mark the master announced");
            return false;
        }
        rr_in_consume(rl, EOF_MARK_LEN);
        transfer_commit(rl);
        return rl->fd >= 0;
    }
    /* $<len> mode: bytes after the RDB's EOF but inside the bulk are ignored. */
    if (rl->bulk_left > 0) {
        size_t skip = (size_t)rl->bulk_left < rl->in_len ? (size_t)rl->bulk_left : rl->in_len;
        rr_in_consume(rl, skip);
        rl->bulk_left -= (long long)skip;
        if (rl->bulk_left > 0) return false;
    }
    transfer_commit(rl);
    return rl->fd >= 0;
}

/* The RDB bytes buffered: decoded and staged key by key. */
static bool transfer_body(repl_replica_link_t *rl)
{
    if (rl->in_len == 0) return false;
    size_t take = rl->in_len;
    if (!rl->eof_mode && (long long)take > rl->bulk_left) take = (size_t)rl->bulk_left;
    rdb_decoder_feed(&rl->dec, rl->in, take);
    rdb_event_t ev;
    int st;
    char err[256] = "";
    while ((st = rdb_decoder_next(&rl->dec, &ev)) == RDB_EVENT) {
        if (stage_event(rl, &ev, err, sizeof err) != 0) {
            rr_transfer_fail(rl, err);
            return false;
        }
    }
    if (st == RDB_ERROR) {
        const char *why = rdb_decoder_error(&rl->dec);
        rr_transfer_fail(rl, why[0] ? why : rdb_result_name(rdb_decoder_result(&rl->dec)));
        return false;
    }
    size_t used = take;
    if (st == RDB_DONE) {
        size_t rest = 0;
        rdb_decoder_rest(&rl->dec, &rest);
        used = take - rest;
        rl->rdb_done = true;
    }
    if (rl->eof_mode && st != RDB_DONE) tail_note(rl, rl->in, used);
    if (!rl->eof_mode) rl->bulk_left -= (long long)used;
    rl->transfer_read += (long long)used;
    rdb_loading_progress(rl->transfer_read);   /* INFO loading_loaded_bytes */
    rr_in_consume(rl, used);
    if (st == RDB_MORE) {
        if (rl->eof_mode && rl->tail_len == EOF_MARK_LEN && !memcmp(rl->tail, rl->eof_mark, EOF_MARK_LEN)) {
            /* The master's end mark arrived but the RDB is not complete. */
            rdb_decoder_finish(&rl->dec);
            rr_transfer_fail(rl, rdb_decoder_error(&rl->dec)[0] ? rdb_decoder_error(&rl->dec) : "truncated RDB");
            return false;
        }
        if (!rl->eof_mode && rl->bulk_left == 0) {
            rdb_decoder_finish(&rl->dec);
            rr_transfer_fail(rl, rdb_decoder_error(&rl->dec)[0] ? rdb_decoder_error(&rl->dec) : "truncated RDB");
            return false;
        }
    }
    return true;
}

/* Consumes transfer bytes. Returns false when nothing more can be done now. */
bool rr_transfer_step(repl_replica_link_t *rl)
{
    if (!rl->bulk_started) return transfer_header(rl);
    if (rl->rdb_done) return transfer_trailer(rl);
    return transfer_body(rl);
}

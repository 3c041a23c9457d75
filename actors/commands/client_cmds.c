/* client_cmds.c - CLIENT ID, SETNAME, GETNAME, INFO, LIST, KILL, HELP.
 * LIST and KILL see every connection of the node, which are spread over the
 * workers: they fan out (fanout.c) and each worker answers for its own.
 *
 * Must never: read or close another worker's client from this worker.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/commands/args.h"
#include "actors/acl/acl.h"
#include "actors/commands/commands.h"
#include "actors/commands/timeout.h"
#include "actors/failover/wpause.h"
#include "actors/repl/repl.h"
#include "actors/repl/repl_replica.h"
#include "actors/worker/blocking.h"
#include "actors/worker/client.h"
#include "actors/worker/client_limits.h"
#include "actors/worker/dispatch.h"
#include "actors/worker/pubsub.h"
#include "actors/worker/tracking.h"
#include "proto/strnum.h"
#include "runtime/xmalloc.h"

/* 7.0.15's CLIENT_BLOCKED (b): waiting on keys at their owner (blocking.c,
 * the command on its way or parked), on keys of several workers (xwait.c)
 * or in WAIT (both mark the reply slot), or held by a pause (hold.c). */
static bool client_is_blocked(const client_t *c)
{
    if ((c->flags & CLIENT_PAUSED) || c->block_rc) return true;
    /* such a slot blocks the client's input too: no walk of a long pipeline's slots otherwise */
    if (!(c->flags & CLIENT_BLOCKED)) return false;
    for (const reply_slot_t *s = c->pending_head; s; s = s->next)
        if (s->blocked && !s->done) return true;
    return false;
}

void client_info_line(const client_t *c, char *line, size_t cap)
{
    long long now = rt_now_ms();
    char flags[16];
    int k = 0;
    if (c->flags & CLIENT_MONITOR) flags[k++] = 'O';
    if (c->flags & CLIENT_PUBSUB) flags[k++] = 'P';
    txn_view_t txn;
    bool in_exec = txn_client_view(c, &txn);
    if ((c->flags & CLIENT_MULTI) || in_exec) flags[k++] = 'x';
    if (client_is_blocked(c)) flags[k++] = 'b';
    k += tracking_client_flags(c, flags + k);   /* t, R, B: where 7.0.15 puts them */
    if (multi_watch_touched(c)) flags[k++] = 'd';   /* the next EXEC fails */
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) flags[k++] = 'c';
    if (c->flags & CLIENT_UNIX_SOCKET) flags[k++] = 'U';
    if (c->flags & CLIENT_READONLY) flags[k++] = 'r';
    if (c->flags & CLIENT_NO_EVICT) flags[k++] = 'e';
    if (k == 0) flags[k++] = 'N';
    flags[k] = '\0';
    /* A held command is parsed in 7.0.15 (its arguments count in argv-mem,
     * the bytes after it in qbuf); here it waits unparsed at qpos. qbuf-free
     * stays what the buffer has free. */
    size_t held = (c->flags & CLIENT_PAUSED) ? c->held_len : 0;
    /* 7.0.15 keeps a command's arguments while it runs (CLIENT INFO's own)
     * or blocks, and counts each queued command's with its pointers */
    size_t argv_mem = held ? c->held_argv_mem : (c->in_input || client_is_blocked(c)) ? c->argv_mem : 0;
    size_t mmem = multi_mem(c), qbuf = c->qlen - c->qpos - held, obl = 0;
    int queued = (c->flags & CLIENT_MULTI) ? c->mq_len : -1, oll = c->pending_count;
    if (in_exec) {
        /* 7.0.15 shows the client as execCommand has it (txn_client_view);
         * the EXEC's own reply slot is its output buffer there, not a list entry */
        queued = txn.queued;
        mmem = txn.multi_mem;
        qbuf = txn.qbuf;
        argv_mem = txn.argv_mem;
        obl = txn.obl;
        if (oll > 0) oll--;
    }
    char cmdname[96] = "NULL";
    if (c->last_cmd_def) cmd_fullname(c->last_cmd_def, cmdname, sizeof cmdname);
    /* omem counts reply bytes the socket has not taken; tot-mem everything
     * the client holds (client_limits.c). */
    snprintf(line, cap,
             "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d sub=%d psub=%d ssub=%d "
             "multi=%d qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=%zu rbs=%zu rbp=0 obl=%zu oll=%d omem=%zu "
             "tot-mem=%zu events=%s%s cmd=%s user=%s redir=%lld resp=%d",
             (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name, (now - c->created_ms) / 1000,
             (now - c->last_interaction_ms) / 1000, flags, c->db, pubsub_client_count(c, PUBSUB_CHANNEL),
             pubsub_client_count(c, PUBSUB_PATTERN), pubsub_client_count(c, PUBSUB_SHARD), queued,
             qbuf, c->qcap - c->qlen, argv_mem, mmem, c->out.cap, obl, oll, client_obuf_bytes(c),
             client_total_mem(c), (c->flags & CLIENT_CLOSED) ? "" : "r", c->wio_active ? "w" : "", cmdname,
             c->acl_name ? c->acl_name : "default", tracking_client_redir(c), c->proto);
}

/* One CLIENT LIST / CLIENT INFO line, with "\n". */
static void format_client(const client_t *c, resp_buf_t *out)
{
    char line[1024];
    client_info_line(c, line, sizeof line);
    resp_buf_append(out, line, strlen(line));
    resp_buf_append(out, "\n", 1);
}

void client_reply_end(client_t *c, client_reply_mark_t m)
{
    if ((c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP)) && !(c->flags & CLIENT_PUSHED)) {
        /* what the command answered at once went to the output (nothing
         * was owed before it) or to slots after the old tail */
        if (!m.tail && c->out.len > m.out_len) c->out.len = m.out_len;
        for (reply_slot_t *s = m.tail ? m.tail->next : c->pending_head; s; s = s->next) s->muted = true;
    }
    c->flags &= ~(CLIENT_REPLY_SKIP | CLIENT_PUSHED);
    if (c->flags & CLIENT_REPLY_SKIP_NEXT) c->flags = (c->flags & ~CLIENT_REPLY_SKIP_NEXT) | CLIENT_REPLY_SKIP;
}

void cmd_client_reply(cmd_ctx_t *ctx)
{
    client_t *c = ctx->client;
    if (arg_is_at(ctx, 2, "on")) {
        c->flags &= ~(CLIENT_REPLY_SKIP | CLIENT_REPLY_OFF);
        resp_add_simple(ctx->reply, "OK");
    } else if (arg_is_at(ctx, 2, "off")) {
        c->flags |= CLIENT_REPLY_OFF;
    } else if (arg_is_at(ctx, 2, "skip")) {
        if (!(c->flags & CLIENT_REPLY_OFF)) c->flags |= CLIENT_REPLY_SKIP_NEXT;
    } else {
        resp_add_error(ctx->reply, "ERR syntax error");
    }
}

void cmd_client_no_evict(cmd_ctx_t *ctx)
{
    /* 'e' in CLIENT LIST; a client so marked is never evicted for memory */
    if (arg_is_at(ctx, 2, "on")) ctx->client->flags |= CLIENT_NO_EVICT;
    else if (arg_is_at(ctx, 2, "off")) ctx->client->flags &= ~CLIENT_NO_EVICT;
    else {
        resp_add_error(ctx->reply, "ERR syntax error");
        return;
    }
    resp_add_simple(ctx->reply, "OK");
}

void cmd_client_id(cmd_ctx_t *ctx) { resp_add_int(ctx->reply, (long long)ctx->client->id); }

void cmd_client_getname(cmd_ctx_t *ctx)
{
    if (ctx->client->name[0]) resp_add_bulk_str(ctx->reply, ctx->client->name);
    else resp_add_null(ctx->reply);
}

void cmd_client_setname(cmd_ctx_t *ctx)
{
    const uint8_t *n = ctx->argv[2];
    size_t len = ctx->argvlen[2];
    for (size_t i = 0; i < len; i++)
        if (n[i] < '!' || n[i] > '~') {
            resp_add_error(ctx->reply, "ERR Client names cannot contain spaces, newlines or special characters.");
            return;
        }
    if (len >= sizeof ctx->client->name) len = sizeof ctx->client->name - 1;
    memcpy(ctx->client->name, n, len);
    ctx->client->name[len] = '\0';
    resp_add_simple(ctx->reply, "OK");
}

void cmd_client_info(cmd_ctx_t *ctx)
{
    resp_buf_t line;
    resp_buf_init(&line, 2);
    format_client(ctx->client, &line);
    resp_add_verbatim(ctx->reply, line.data, line.len);
    resp_buf_free(&line);
}

void cmd_client_list(cmd_ctx_t *ctx)
{
    if (ctx->argc > 2) {
        if (ctx->argc == 4 && arg_is(ctx->argv[2], ctx->argvlen[2], "type")) {
            /* the parts filter: normal and pubsub on every worker, replica and master on worker 0 */
            const uint8_t *t = ctx->argv[3];
            size_t tl = ctx->argvlen[3];
            if (!arg_is(t, tl, "normal") && !arg_is(t, tl, "pubsub") && !arg_is(t, tl, "replica") &&
                !arg_is(t, tl, "slave") && !arg_is(t, tl, "master")) {
                resp_add_errorf(ctx->reply, "ERR Unknown client type '%.*s'", (int)(tl < 128 ? tl : 128),
                                (const char *)t);
                return;
            }
        } else if (ctx->argc >= 4 && arg_is(ctx->argv[2], ctx->argvlen[2], "id")) {
            for (int i = 3; i < ctx->argc; i++) {
                long long id;
                if (!str_to_ll(ctx->argv[i], ctx->argvlen[i], &id)) {
                    resp_add_error(ctx->reply, "ERR Invalid client ID");
                    return;
                }
            }
        } else {
            resp_add_error(ctx->reply, "ERR syntax error");
            return;
        }
    }
    dispatch_fanout(ctx->client, dispatch_current_cmd(ctx->client), ctx->argc, ctx->argv, ctx->argvlen);
}

/* CLIENT LIST [TYPE t | ID id ...]: whether a client of that type and id is listed. */
static bool list_wants(const queued_cmd_t *q, const char *type, uint64_t cid)
{
    if (q->argc == 4 && arg_is(q->argv[2], q->argvlen[2], "type")) {
        bool replica = !strcmp(type, "replica") && arg_is(q->argv[3], q->argvlen[3], "slave");
        return replica || arg_is(q->argv[3], q->argvlen[3], type);
    }
    if (q->argc >= 4 && arg_is(q->argv[2], q->argvlen[2], "id")) {
        for (int i = 3; i < q->argc; i++) {
            long long id;   /* validated by cmd_client_list before the fan-out */
            if (str_to_ll(q->argv[i], q->argvlen[i], &id) && id > 0 && (unsigned long long)id == cid) return true;
        }
        return false;
    }
    return true;
}

/* A replication link's line: fields of a connection no worker reads from
 * (buffers and memory are the replication actors', shown as 0). */
static void format_link(resp_buf_t *out, uint64_t id, const char *addr, const char *laddr, int fd, const char *name,
                        long long age_ms, long long idle_ms, const char *flags, int db, const char *cmd,
                        const char *user)
{
    char line[1024];
    int n = snprintf(line, sizeof line,
                     "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d sub=0 psub=0 ssub=0 "
                     "multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 "
                     "events=r cmd=%s user=%s redir=-1 resp=2\n",
                     (unsigned long long)id, addr, laddr, fd, name, age_ms > 0 ? age_ms / 1000 : 0,
                     idle_ms > 0 ? idle_ms / 1000 : 0, flags, db, cmd, user);
    if (n > 0) resp_buf_append(out, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* 7.0.15 lists its replicas' connections (flag S) and its master's (M)
 * among its clients; here the replication actor and the replica link own
 * them, and worker 0's part shows them from what those publish. */
static void format_repl_links(const queued_cmd_t *q, resp_buf_t *out)
{
    long long now = rt_now_ms(), mono = rt_mono_ms();
    repl_replica_status_t st;
    repl_replica_status_get(&st);
    if (st.replica && st.state == RL_CONNECTED && list_wants(q, "master", st.link_id)) {
        char addr[INET6_ADDRSTRLEN + 8];
        snprintf(addr, sizeof addr, "%s:%d", st.master_host, st.master_port);
        format_link(out, st.link_id, addr, st.link_laddr, st.fd, "", now - st.link_created_ms, now - st.last_io_ms,
                    "M", st.stream_db, st.last_cmd, "(superuser)");
    }
    repl_status_t *rs = xmalloc(sizeof *rs);
    repl_status_get(rs);
    for (int i = 0; i < rs->nreplicas; i++) {
        const repl_replica_view_t *v = &rs->replicas[i];
        if (!list_wants(q, "replica", v->conn.id)) continue;
        /* REPLCONF ACK once a second after its sync, PSYNC before */
        format_link(out, v->conn.id, v->conn.addr, v->conn.laddr, v->conn.fd, v->conn.name, now - v->conn.created_ms,
                    mono - v->ack_ms, "S", 0, strcmp(v->state, "online") ? "psync" : "replconf", v->conn.user);
    }
    free(rs);
}

/* The caller's line as its CLIENT LIST runs (7.0.15 shows the command's
 * bytes in qbuf and its arguments in argv-mem there); its part comes later. */
char *cmd_client_list_caller_line(const struct client *c)
{
    char *line = xmalloc(1024);
    client_info_line(c, line, 1024);
    return line;
}

void cmd_client_list_part(struct worker *w, struct remote_cmd *rc)
{
    const queued_cmd_t *q = &rc->cmds[0];
    for (client_t *c = worker_clients(w); c; c = c->next) {
        /* 7.0.15 getClientType: a subscriber is of the pubsub type, the rest normal here */
        if (!list_wants(q, (c->flags & CLIENT_PUBSUB) ? "pubsub" : "normal", c->id)) continue;
        if (rc->caller_line && c->id == rc->client_id) {
            resp_buf_append(&rc->reply, rc->caller_line, strlen(rc->caller_line));
            resp_buf_append(&rc->reply, "\n", 1);
        } else {
            format_client(c, &rc->reply);
        }
    }
    if (worker_index(w) == 0) format_repl_links(q, &rc->reply);
}

void cmd_client_list_merge(struct reply_slot *s, const struct remote_cmd *rc)
{
    resp_buf_append(&s->acc, rc->reply.data, rc->reply.len);
}

void cmd_client_list_reply(struct reply_slot *s) { resp_add_verbatim(&s->buf, s->acc.data, s->acc.len); }

typedef struct kill_filter {
    bool old_form;
    const uint8_t *addr, *laddr;
    size_t addrlen, laddrlen;
    bool has_id;
    unsigned long long id;
    int type;                      /* 0 any, 1 normal, 2 pubsub, 3 replica, 4 master */
    bool skipme;
    uint64_t uid;                  /* USER: that ACL user's uid, 0 any */
} kill_filter_t;

struct user_lookup { const uint8_t *name; size_t len; uint64_t uid; };

static void find_user(const acl_snap_t *s, void *arg)
{
    struct user_lookup *l = arg;
    const acl_user_t *u = acl_user_by_name(s, l->name, l->len);
    l->uid = u ? u->uid : 0;
}

static bool parse_kill(const queued_cmd_t *q, kill_filter_t *f, char *err, size_t errcap)
{
    memset(f, 0, sizeof *f);
    f->skipme = true;
    if (q->argc == 3) {
        f->old_form = true;
        f->addr = q->argv[2];
        f->addrlen = q->argvlen[2];
        f->skipme = false;
        return true;
    }
    if ((q->argc - 2) % 2 != 0) { snprintf(err, errcap, "ERR syntax error"); return false; }
    for (int i = 2; i < q->argc; i += 2) {
        const uint8_t *k = q->argv[i], *v = q->argv[i + 1];
        size_t kl = q->argvlen[i], vl = q->argvlen[i + 1];
        if (arg_is(k, kl, "id")) {
            long long id;
            if (!str_to_ll(v, vl, &id) || id <= 0) {
                snprintf(err, errcap, "ERR client-id should be greater than 0");
                return false;
            }
            f->id = (unsigned long long)id;
            f->has_id = true;
        } else if (arg_is(k, kl, "addr")) {
            f->addr = v; f->addrlen = vl;
        } else if (arg_is(k, kl, "laddr")) {
            f->laddr = v; f->laddrlen = vl;
        } else if (arg_is(k, kl, "type")) {
            if (arg_is(v, vl, "normal")) f->type = 1;
            else if (arg_is(v, vl, "replica") || arg_is(v, vl, "slave")) f->type = 3;
            else if (arg_is(v, vl, "master")) f->type = 4;
            else if (arg_is(v, vl, "pubsub")) f->type = 2;
            else { snprintf(err, errcap, "ERR Unknown client type '%.*s'", (int)vl, (const char *)v); return false; }
        } else if (arg_is(k, kl, "skipme")) {
            if (arg_is(v, vl, "yes")) f->skipme = true;
            else if (arg_is(v, vl, "no")) f->skipme = false;
            else { snprintf(err, errcap, "ERR syntax error"); return false; }
        } else if (arg_is(k, kl, "user")) {
            struct user_lookup l = { v, vl, 0 };
            acl_with_snapshot(find_user, &l);   /* an admin command: the writer lock is fine here */
            if (!l.uid) {
                snprintf(err, errcap, "ERR No such user '%.*s'", (int)vl, (const char *)v);
                return false;
            }
            f->uid = l.uid;
        } else {   /* MAXAGE too: 7.0.15 has no such filter */
            snprintf(err, errcap, "ERR syntax error");
            return false;
        }
    }
    return true;
}

/* Whether addr is "ip:port" of the master our replica link is connected to. */
static bool master_addr_is(const uint8_t *addr, size_t len)
{
    repl_replica_status_t st;
    repl_replica_status_get(&st);
    if (!st.replica || st.state != RL_CONNECTED) return false;
    char want[80];
    int n = snprintf(want, sizeof want, "%s:%d", st.master_host, st.master_port);
    return n > 0 && (size_t)n == len && memcmp(want, addr, len) == 0;
}

/* Whether an ID or an address in f is a replica connection's (no worker's
 * client has either: ids are unique, and so is a peer address): the
 * replication actor kills it. */
static bool names_a_replica(const kill_filter_t *f)
{
    if (!f->has_id && !f->addr) return false;
    if (f->type != 0) return false;
    repl_status_t *rs = xmalloc(sizeof *rs);
    repl_status_get(rs);
    bool found = false;
    for (int i = 0; i < rs->nreplicas && !found; i++) {
        const repl_conn_info_t *c = &rs->replicas[i].conn;
        found = f->has_id ? c->id == f->id
                          : strlen(c->addr) == f->addrlen && !memcmp(c->addr, f->addr, f->addrlen);
    }
    free(rs);
    return found;
}

/* Whether f's ID is our link to our master's, as CLIENT LIST shows it
 * (format_repl_links), and its ADDR and LADDR filters, if any, match that
 * link: 7.0.15 kills its master client by that id. No USER: the link has
 * none, as 7.0.15's master client. */
static bool master_link_has_id(const kill_filter_t *f)
{
    repl_replica_status_t st;
    repl_replica_status_get(&st);
    return !f->uid && st.replica && st.state == RL_CONNECTED && st.link_id == f->id &&
           (!f->addr || master_addr_is(f->addr, f->addrlen)) &&
           (!f->laddr || (strlen(st.link_laddr) == f->laddrlen && !memcmp(st.link_laddr, f->laddr, f->laddrlen)));
}

void cmd_client_kill(cmd_ctx_t *ctx)
{
    queued_cmd_t q = { .argc = ctx->argc, .argv = ctx->argv, .argvlen = (size_t *)ctx->argvlen };
    kill_filter_t f;
    char err[256];
    if (!parse_kill(&q, &f, err, sizeof err)) {
        resp_add_error(ctx->reply, err);
        return;
    }
    if (f.addr && !f.has_id && !f.laddr && (f.type == 0 || f.type == 4) && master_addr_is(f.addr, f.addrlen)) {
        /* 7.0.15 lists its link to its master among its clients, under the
         * master's address, so CLIENT KILL <addr> (Redis's cluster tests use
         * it to cut a replica off) reaches it; here the replica link actor
         * owns that link. */
        /* The actor answers once the link is closed: the reply must not come
         * before the link is seen down, or the client's next INFO or CLIENT
         * KILL would see a link that is about to go. */
        repl_replica_kill_master(dispatch_defer_nosend(ctx, 0));
        return;
    }
    if (f.has_id && (f.type == 0 || f.type == 4) && master_link_has_id(&f)) {
        repl_replica_kill_master(dispatch_defer_nosend(ctx, 0));
        return;
    }
    if (f.type == 4) {   /* our link to our master belongs to the replica link actor */
        repl_replica_status_t st;
        repl_replica_status_get(&st);
        if (!f.has_id && !f.addr && !f.laddr && !f.uid && st.state == RL_CONNECTED) repl_replica_kill_master(dispatch_defer_nosend(ctx, 0));
        else resp_add_int(ctx->reply, 0);
        return;
    }
    if (f.type == 3 || names_a_replica(&f)) {   /* replica connections belong to the replication actor */
        repl_request_kill_replicas(dispatch_defer_nosend(ctx, 0));
        return;
    }
    /* Filters of any type (LADDR, USER, SKIPME alone): 7.0.15 looks at its
     * replicas' and its master's connections too, which the replication
     * actors own here; each is asked as one more part of the fan-out. */
    bool replicas = false, master = false;
    if (f.type == 0 && !f.old_form) {
        repl_status_t *rs = xmalloc(sizeof *rs);
        repl_status_get(rs);
        replicas = rs->nreplicas > 0;
        free(rs);
        repl_replica_status_t st;
        repl_replica_status_get(&st);
        master = st.replica && st.state == RL_CONNECTED;
    }
    remote_cmd_t *extra[2];
    dispatch_fanout_extra(ctx->client, dispatch_current_cmd(ctx->client), ctx->argc, ctx->argv, ctx->argvlen,
                          (int)replicas + (int)master, extra);
    if (replicas) repl_request_kill_replicas_part(extra[0]);
    if (master) repl_replica_kill_master_part(extra[replicas ? 1 : 0]);
}

/* One worker's share: closes its matching clients, their count in keys_delta. */
void cmd_client_kill_part(struct worker *w, struct remote_cmd *rc)
{
    const queued_cmd_t *q = &rc->cmds[0];
    kill_filter_t f;
    char err[256];
    rc->keys_delta = 0;
    if (!parse_kill(q, &f, err, sizeof err)) return;
    long long killed = 0;
    for (client_t *c = worker_clients(w), *next; c; c = next) {
        next = c->next;
        if (f.has_id && c->id != f.id) continue;
        if (f.addr && !(strlen(c->addr) == f.addrlen && memcmp(c->addr, f.addr, f.addrlen) == 0)) continue;
        if (f.laddr && !(strlen(c->laddr) == f.laddrlen && memcmp(c->laddr, f.laddr, f.laddrlen) == 0)) continue;
        if (f.type == 1 && (c->flags & CLIENT_PUBSUB)) continue;
        if (f.type == 2 && !(c->flags & CLIENT_PUBSUB)) continue;
        if (f.type > 2) continue;
        if (f.skipme && c->id == rc->client_id) continue;
        if (f.uid && c->acl_uid != f.uid) continue;
        killed++;
        if (c->id == rc->client_id) c->flags |= CLIENT_CLOSE_AFTER_REPLY;   /* answer first, then close */
        else client_close(c);
    }
    rc->keys_delta = killed;
}

void cmd_client_kill_merge(struct reply_slot *s, const struct remote_cmd *rc)
{
    s->sum += rc->keys_delta;
    s->count = rc->cmds[0].argc;
}

void cmd_client_kill_reply(struct reply_slot *s)
{
    if (s->count == 3) {   /* old form: CLIENT KILL addr */
        if (s->sum == 0) resp_add_error(&s->buf, "ERR No such client");
        else resp_add_simple(&s->buf, "OK");
    } else {
        resp_add_int(&s->buf, s->sum);
    }
}

void cmd_client_help(cmd_ctx_t *ctx)
{
    /* 7.0.15's text, word for word (CACHING included: tracking.c) */
    static const char *lines[] = {
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "HELP",
        "    Prints this help.",
    };
    arg_reply_help(ctx, lines, sizeof lines / sizeof lines[0]);
}

/* CLIENT PAUSE timeout [WRITE|ALL]: every worker holds the paused commands
 * (wpause.h); the timeout follows Redis's rules (timeout.h). */
void cmd_client_pause(cmd_ctx_t *ctx)
{
    if (ctx->argc > 4) {
        resp_add_error(ctx->reply, "ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.");
        return;
    }
    int mode = WPAUSE_ALL;
    if (ctx->argc == 4) {
        if (arg_is(ctx->argv[3], ctx->argvlen[3], "write")) mode = WPAUSE_WRITE;
        else if (!arg_is(ctx->argv[3], ctx->argvlen[3], "all")) {
            resp_add_error(ctx->reply, "ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    }
    long long rel_ms;
    const char *err = timeout_parse(ctx->argv[2], ctx->argvlen[2], TIMEOUT_MILLISECONDS, rt_now_ms(), &rel_ms);
    if (err) {
        resp_add_error(ctx->reply, err);
        return;
    }
    long long now = rt_mono_ms();
    /* 0 ends at once, as Redis's end time 0 lies in the past. */
    long long until = rel_ms == 0 ? 0 : (rel_ms > LLONG_MAX - now ? LLONG_MAX : now + rel_ms);
    wpause_client_pause(until, mode);
    resp_add_simple(ctx->reply, "OK");
}

void cmd_client_unpause(cmd_ctx_t *ctx)
{
    wpause_client_unpause();
    resp_add_simple(ctx->reply, "OK");
}

/* CLIENT UNBLOCK id [TIMEOUT|ERROR]: the worker holding the client asks the
 * owner of its wait to end it (blocking.h); 7.0.15's checks come first:
 * the reason, then the id. */
void cmd_client_unblock(cmd_ctx_t *ctx)
{
    if (ctx->argc > 4) {
        char sub[130];
        size_t n = ctx->argvlen[1] < 128 ? ctx->argvlen[1] : 128;
        memcpy(sub, ctx->argv[1], n);
        sub[n] = '\0';
        resp_add_errorf(ctx->reply, "ERR unknown subcommand or wrong number of arguments for '%s'. Try CLIENT HELP.",
                        sub);
        return;
    }
    if (ctx->argc == 4 && !arg_is(ctx->argv[3], ctx->argvlen[3], "timeout") &&
        !arg_is(ctx->argv[3], ctx->argvlen[3], "error")) {
        resp_add_error(ctx->reply, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
        return;
    }
    long long id;
    if (!arg_ll_at(ctx, 2, &id)) return;
    dispatch_fanout(ctx->client, dispatch_current_cmd(ctx->client), ctx->argc, ctx->argv, ctx->argvlen);
}

/* One worker's share: its client with that id, if it waits on keys. */
void cmd_client_unblock_part(struct worker *w, struct remote_cmd *rc)
{
    const queued_cmd_t *q = &rc->cmds[0];
    long long id = 0;
    rc->keys_delta = 0;
    if (!arg_ll(q->argv[2], q->argvlen[2], &id)) return;
    bool error = q->argc == 4 && arg_is(q->argv[3], q->argvlen[3], "error");
    for (client_t *c = worker_clients(w); c; c = c->next)
        if ((long long)c->id == id && blocking_unblock_client(c, error)) rc->keys_delta = 1;
}

void cmd_client_unblock_merge(struct reply_slot *s, const struct remote_cmd *rc)
{
    s->sum += rc->keys_delta;
}

void cmd_client_unblock_reply(struct reply_slot *s)
{
    resp_add_int(&s->buf, s->sum);
}

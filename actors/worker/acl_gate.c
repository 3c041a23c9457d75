/* acl_gate.c - see acl_gate.h. The ACL snapshot is read once per command
 * (acl_read: one pointer load inside the section the worker is already in);
 * a connection keeps its user found for the snapshot version it last saw,
 * so a command of an unchanged ACL costs a compare. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "actors/worker/acl_gate.h"
#include "actors/acl/acl.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/worker/client.h"
#include "actors/worker/protect.h"
#include "actors/worker/pubsub.h"
#include "actors/worker/worker_internal.h"

const struct acl_user *acl_gate_user(client_t *c)
{
    const acl_snap_t *s = acl_read(&c->worker->acl_snap);
    if (c->acl_ver != s->version) {
        c->acl_user = acl_user_by_uid(s, c->acl_uid);
        c->acl_ver = s->version;
    }
    return c->acl_user;
}

bool acl_gate_auth_required(client_t *c) { return !acl_default_open() && !(c->flags & CLIENT_AUTHENTICATED); }

static void set_name(client_t *c, const char *name, size_t len)
{
    free(c->acl_name);
    c->acl_name = NULL;
    if (name && !(len == 7 && !memcmp(name, "default", 7))) {
        c->acl_name = malloc(len + 1);
        if (!c->acl_name) abort();
        memcpy(c->acl_name, name, len);
        c->acl_name[len] = '\0';
    }
}

void acl_gate_set_default(client_t *c)
{
    set_name(c, NULL, 0);
    c->acl_uid = ACL_UID_DEFAULT;
    c->acl_ver = 0;
    if (acl_default_open()) c->flags |= CLIENT_AUTHENTICATED;
    else c->flags &= ~(uint32_t)CLIENT_AUTHENTICATED;
    c->parser.authenticated = !acl_gate_auth_required(c);
}

void acl_gate_set_user(client_t *c, uint64_t uid)
{
    c->acl_uid = uid;
    c->acl_ver = 0;
    c->flags |= CLIENT_AUTHENTICATED;
    c->parser.authenticated = true;
}

static void log_denial(const acl_user_t *u, int reason, int context, const cmd_def_t *cmd, const uint8_t **argv,
                       const size_t *argvlen, int errpos, const char *cinfo)
{
    char name[160];
    const char *obj = name;
    size_t olen;
    if (reason == ACL_DENIED_CMD) {
        olen = cmd_fullname(cmd, name, sizeof name);
        if (olen >= sizeof name) olen = sizeof name - 1;
    } else {
        obj = (const char *)argv[errpos];
        olen = argvlen[errpos];
    }
    acl_log_add(reason, context, obj, olen, u->name, u->namelen, cinfo);
}

bool acl_gate_check(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                    int context, int *reason, int *errpos)
{
    const acl_user_t *u = acl_gate_user(c);
    if (!u) {   /* deleted: its connection is closing; run nothing more */
        c->flags |= CLIENT_CLOSE_AFTER_REPLY;
        if (!c->pending_head) client_schedule_write(c);
        *reason = ACL_DENIED_CMD;
        *errpos = 0;
        return false;
    }
    *errpos = 0;
    *reason = acl_check(u, cmd, argc, argv, argvlen, errpos);
    if (*reason == ACL_OK) return true;
    char cinfo[1024];
    client_info_line(c, cinfo, sizeof cinfo);
    log_denial(u, *reason, context, cmd, argv, argvlen, *errpos, cinfo);
    return false;
}

bool acl_gate_check_user(worker_t *w, uint64_t uid, const client_t *c, const cmd_def_t *cmd, int argc,
                         const uint8_t **argv, const size_t *argvlen, int context, int *reason)
{
    const acl_user_t *u = acl_user_by_uid(acl_read(&w->acl_snap), uid);
    if (!u) { *reason = ACL_DENIED_CMD; return false; }
    int errpos = 0;
    *reason = acl_check(u, cmd, argc, argv, argvlen, &errpos);
    if (*reason == ACL_OK) return true;
    char cinfo[1024] = "";
    if (c) client_info_line(c, cinfo, sizeof cinfo);
    log_denial(u, *reason, context, cmd, argv, argvlen, errpos, cinfo);
    return false;
}

static void refuse(client_t *c, const cmd_def_t *cmd, const char *err)
{
    resp_add_error(client_reply_target(c), err);
    stats_note_rejected(c->worker, cmd, err);
}

bool acl_gate_allowed(worker_t *w, uint64_t uid, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                      const size_t *argvlen)
{
    const acl_user_t *u = acl_user_by_uid(acl_read(&w->acl_snap), uid);
    int errpos = 0;
    return u && acl_check(u, cmd, argc, argv, argvlen, &errpos) == ACL_OK;
}

bool acl_gate_admit(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    int reason, errpos;
    bool multi = (c->flags & CLIENT_MULTI) != 0;
    if (acl_gate_check(c, cmd, argc, argv, argvlen, multi ? ACL_CTX_MULTI : ACL_CTX_TOPLEVEL, &reason, &errpos))
        return true;
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) return false;   /* its user was deleted */
    char err[256];
    acl_gate_error(reason, cmd, err, sizeof err);
    refuse(c, cmd, err);
    if (multi) c->flags |= CLIENT_DIRTY_EXEC;
    return false;
}

void acl_gate_error(int reason, const cmd_def_t *cmd, char *buf, size_t cap)
{
    char name[160];
    switch (reason) {
    case ACL_DENIED_CMD:
        cmd_fullname(cmd, name, sizeof name);
        snprintf(buf, cap, "NOPERM this user has no permissions to run the '%s' command", name);
        break;
    case ACL_DENIED_KEY:
        snprintf(buf, cap, "NOPERM this user has no permissions to access one of the keys used as arguments");
        break;
    case ACL_DENIED_CHANNEL:
        snprintf(buf, cap, "NOPERM this user has no permissions to access one of the channels used as arguments");
        break;
    default:
        snprintf(buf, cap, "ERR no permission");
        break;
    }
}

void acl_gate_log_auth(client_t *c, const uint8_t *user, size_t ulen)
{
    const acl_user_t *u = acl_gate_user(c);
    char cinfo[1024];
    client_info_line(c, cinfo, sizeof cinfo);
    (void)u;
    acl_log_add(ACL_DENIED_AUTH, (c->flags & CLIENT_MULTI) ? ACL_CTX_MULTI : ACL_CTX_TOPLEVEL, "AUTH", 4,
                (const char *)user, ulen, cinfo);
}

bool acl_gate_authenticate(client_t *c, const uint8_t *user, size_t ulen, const uint8_t *pass, size_t plen)
{
    uint64_t uid = acl_authenticate(acl_read(&c->worker->acl_snap), user, ulen, pass, plen);
    if (uid) {
        acl_gate_set_user(c, uid);
        set_name(c, (const char *)user, ulen);
        return true;
    }
    acl_gate_log_auth(c, user, ulen);
    return false;
}

void acl_gate_whoami(client_t *c, resp_buf_t *r)
{
    const acl_user_t *u = acl_gate_user(c);
    if (u) resp_add_bulk(r, u->name, u->namelen);
    else resp_add_null(r);
}

bool acl_gate_admit_command(client_t *c, const cmd_def_t *cmd, const cmd_def_t *top, int argc,
                            const uint8_t **argv, const size_t *argvlen)
{
    if (!config_cluster_enabled() && strcmp(top->name, "cluster") == 0) {
        refuse(c, cmd, "ERR This instance has cluster support disabled");
        return false;
    }
    /* Checked before AUTH, as 7.0.15 does: enable-debug-command gates DEBUG. */
    if (top->handler == cmd_debug && !protect_allows(config_enable_debug_command(), c->local)) {
        refuse(c, cmd, PROTECT_DEBUG_REFUSED);
        if (c->flags & CLIENT_MULTI) c->flags |= CLIENT_DIRTY_EXEC;
        return false;
    }
    if (acl_gate_auth_required(c) && !(cmd->flags & CMD_NO_AUTH) && !(top->flags & CMD_NO_AUTH)) {
        refuse(c, cmd, "NOAUTH Authentication required.");
        if (c->flags & CLIENT_MULTI) c->flags |= CLIENT_DIRTY_EXEC;
        return false;
    }
    /* 7.0.15 refuses a no-multi command inside MULTI before it asks the
     * ACLs (multi_command does). */
    if ((c->flags & CLIENT_MULTI) && ((cmd->flags & CMD_NO_MULTI) || (top->flags & CMD_NO_MULTI))) return true;
    return acl_gate_admit(c, cmd, argc, argv, argvlen);
}

/* ---- EXEC ---- */

static void exec_refused(cmd_ctx_t *ctx, const char *reason)
{
    resp_add_errorf(ctx->reply,
                    "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC "
                    "call. This command is no longer allowed for the following reason: %s", reason);
}
static void exec_refused_cmd(cmd_ctx_t *ctx) { exec_refused(ctx, "no permission to execute the command or subcommand"); }
static void exec_refused_key(cmd_ctx_t *ctx) { exec_refused(ctx, "no permission to touch the specified keys"); }
static void exec_refused_channel(cmd_ctx_t *ctx)
{
    exec_refused(ctx, "no permission to access one of the channels used as arguments");
}

/* What a refused command of a transaction becomes: its error, in its place. */
static const cmd_def_t refused_in_exec[3] = {
    { .name = "exec-refused", .arity = -1, .exec = CMD_EXEC_CLIENT, .handler = exec_refused_cmd, .acl_id = -1 },
    { .name = "exec-refused", .arity = -1, .exec = CMD_EXEC_CLIENT, .handler = exec_refused_key, .acl_id = -1 },
    { .name = "exec-refused", .arity = -1, .exec = CMD_EXEC_CLIENT, .handler = exec_refused_channel, .acl_id = -1 },
};

void acl_gate_recheck_exec(client_t *c, queued_cmd_t *cmds, int n)
{
    for (int i = 0; i < n; i++) {
        int reason, errpos;
        if (acl_gate_check(c, cmds[i].cmd, cmds[i].argc, cmds[i].argv, cmds[i].argvlen, ACL_CTX_MULTI, &reason,
                           &errpos))
            continue;
        if (c->flags & CLIENT_CLOSE_AFTER_REPLY) return;   /* its user was deleted */
        cmds[i].cmd = &refused_in_exec[reason == ACL_DENIED_KEY ? 1 : reason == ACL_DENIED_CHANNEL ? 2 : 0];
    }
}

/* ---- ended users ---- */

typedef struct end_msg {
    worker_run_t run;
    int n;
    uint64_t uids[];
} end_msg_t;

static bool ended(const end_msg_t *m, uint64_t uid)
{
    for (int i = 0; i < m->n; i++)
        if (m->uids[i] == uid) return true;
    return false;
}

/* On each worker: close the connections of the users that ended. */
static void end_users_here(worker_t *w, rt_msg_t *msg)
{
    end_msg_t *m = (end_msg_t *)msg;
    for (client_t *c = worker_clients(w), *next; c; c = next) {
        next = c->next;
        if (!ended(m, c->acl_uid) || (c->flags & (CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSED))) continue;
        acl_gate_set_default(c);
        c->flags &= ~(uint32_t)CLIENT_AUTHENTICATED;
        client_close(c);
    }
    free(m);
}

static bool channel_refused(void *arg, const uint8_t *name, size_t len)
{
    return !acl_channel_allowed_any(arg, name, len, false);
}

static bool pattern_refused(void *arg, const uint8_t *name, size_t len)
{
    return !acl_channel_allowed_any(arg, name, len, true);
}

/* On each worker: the user's subscribers that lost a subscription close. */
static void recheck_here(worker_t *w, rt_msg_t *msg)
{
    end_msg_t *m = (end_msg_t *)msg;
    worker_snap_enter(w);
    const acl_user_t *u = acl_user_by_uid(acl_read(&w->acl_snap), m->uids[0]);
    for (client_t *c = worker_clients(w), *next; u && c; c = next) {
        next = c->next;
        if (c->acl_uid != m->uids[0] || !(c->flags & CLIENT_PUBSUB) || (c->flags & CLIENT_CLOSED)) continue;
        void *arg = (void *)u;
        if (pubsub_client_any(c, PUBSUB_PATTERN, pattern_refused, arg) ||
            pubsub_client_any(c, PUBSUB_CHANNEL, channel_refused, arg) ||
            pubsub_client_any(c, PUBSUB_SHARD, channel_refused, arg))
            client_close(c);
    }
    worker_snap_leave(w);
    free(m);
}

struct end_args { const uint64_t *uids; int n; worker_run_fn *fn; };

static rt_msg_t *make_end(int i, void *arg)
{
    (void)i;
    struct end_args *a = arg;
    end_msg_t *m = calloc(1, sizeof *m + sizeof(uint64_t) * (size_t)a->n);
    if (!m) abort();
    m->run.hdr.type = WMSG_RUN;
    m->run.fn = a->fn;
    m->n = a->n;
    memcpy(m->uids, a->uids, sizeof(uint64_t) * (size_t)a->n);
    return &m->run.hdr;
}

void acl_gate_recheck_subscribers(uint64_t uid)
{
    struct end_args a = { &uid, 1, recheck_here };
    workers_send_each(make_end, &a);
}

void acl_gate_end_users(client_t *self, const uint64_t *uids, int n)
{
    if (n == 0) return;
    if (self) {
        for (int i = 0; i < n; i++)
            if (uids[i] == self->acl_uid) {
                /* As 7.0.15: back to the default user, unauthenticated, and
                 * closed once this command's reply is out. */
                acl_gate_set_default(self);
                self->flags &= ~(uint32_t)CLIENT_AUTHENTICATED;
                self->flags |= CLIENT_CLOSE_AFTER_REPLY;
            }
    }
    struct end_args a = { uids, n, end_users_here };
    workers_send_each(make_end, &a);
}

/* acl_snap.c - the published set of users and every change to it.
 *
 * Readers are the workers (acl_read inside their read section, one pointer
 * load per command); the writer is whichever thread changes the users (ACL
 * SETUSER on a worker, CONFIG SET requirepass, main at startup), one at a
 * time under g_write_lock, which also hands the cell's writer role over
 * (rt_snap_writer_release after each use: the lock orders one writer's last
 * call before the next writer's first). A change copies the current users,
 * changes the copy and publishes it; readers never wait.
 *
 * Must never: take g_write_lock on the command path, or change a snapshot
 * after rt_snap_publish.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "actors/acl/acl_internal.h"
#include "actors/config/config.h"
#include "proto/glob.h"
#include "runtime/xmalloc.h"

static rt_snap_cell_t g_acl_cell;
static pthread_mutex_t g_write_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t g_next_uid = ACL_UID_DEFAULT + 1;   /* under g_write_lock */
static uint64_t g_version;                          /* under g_write_lock */
/* Read by accept and protected mode without a snapshot; written under the
 * lock after each publication. Relaxed: each is one independent flag, and a
 * connection accepted during a change may see either side of it, as a
 * connection accepted just before or after would. */
static atomic_bool g_default_open = true, g_default_nopass = true;

uint32_t acl_pubsub_default(void)
{
    static int idx = -2;   /* the index is fixed; looked up once (main thread first) */
    if (idx == -2) idx = config_find("acl-pubsub-default");
    return idx >= 0 && config_get_num_at(idx) ? ACL_SEL_ALLCHANNELS : 0;
}

uint64_t acl_next_uid(void) { return g_next_uid++; }

void acl_snap_free(acl_snap_t *s)
{
    if (!s) return;
    for (int i = 0; i < s->nusers; i++) acl_user_free(s->users[i]);
    free(s->users);
    free(s);
}

static void snap_free_fn(void *obj) { acl_snap_free(obj); }

acl_snap_t *acl_snap_dup(const acl_snap_t *s)
{
    acl_snap_t *d = xcalloc(1, sizeof *d);
    d->users = xcalloc((size_t)s->nusers + 1, sizeof *d->users);
    for (int i = 0; i < s->nusers; i++) d->users[i] = acl_user_dup(s->users[i]);
    d->nusers = s->nusers;
    return d;
}

/* Name order as 7.0.15's radix tree walks it: bytes, a prefix first. */
static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c) return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

int acl_snap_find(const acl_snap_t *s, const char *name, size_t len)
{
    int lo = 0, hi = s->nusers - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = name_cmp(s->users[mid]->name, s->users[mid]->namelen, name, len);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

void acl_snap_insert(acl_snap_t *s, acl_user_t *u)
{
    s->users = realloc(s->users, sizeof *s->users * (size_t)(s->nusers + 1));
    if (!s->users) abort();
    int at = 0;
    while (at < s->nusers && name_cmp(s->users[at]->name, s->users[at]->namelen, u->name, u->namelen) < 0) at++;
    memmove(&s->users[at + 1], &s->users[at], sizeof *s->users * (size_t)(s->nusers - at));
    s->users[at] = u;
    s->nusers++;
}

/* ---- the writer side ---- */

static const acl_snap_t *current_locked(void)
{
    const acl_snap_t *s = rt_snap_writer_current(&g_acl_cell);
    rt_snap_writer_release(&g_acl_cell);
    return s;
}

static void publish_locked(acl_snap_t *s)
{
    s->version = ++g_version;
    int d = acl_snap_find(s, "default", 7);
    uint32_t f = d >= 0 ? s->users[d]->flags : ACL_USER_OFF;
    atomic_store_explicit(&g_default_nopass, (f & ACL_USER_NOPASS) != 0, memory_order_relaxed);
    atomic_store_explicit(&g_default_open, (f & ACL_USER_NOPASS) && !(f & ACL_USER_OFF), memory_order_relaxed);
    rt_snap_publish(&g_acl_cell, s);
    rt_snap_writer_release(&g_acl_cell);
}

static acl_user_t *default_user_new(void)
{
    acl_user_t *u = acl_user_new("default", 7, ACL_UID_DEFAULT);
    acl_user_apply(u, "+@all", 5);
    acl_user_apply(u, "~*", 2);
    acl_user_apply(u, "&*", 2);
    acl_user_apply(u, "on", 2);
    acl_user_apply(u, "nopass", 6);
    return u;
}

acl_user_t *acl_default_user_new(void) { return default_user_new(); }

static void set_password(acl_user_t *u, const char *pass, size_t len)
{
    acl_user_apply(u, "resetpass", 9);
    if (pass && len) {
        char *op = malloc(len + 1);
        if (!op) abort();
        op[0] = '>';
        memcpy(op + 1, pass, len);
        acl_user_apply(u, op, len + 1);
        free(op);
    } else {
        acl_user_apply(u, "nopass", 6);
    }
}

static void on_config_change(const char *name, void *arg)
{
    (void)arg;
    if (strcmp(name, "requirepass") != 0) return;
    char *pw = config_dup_str(CONFIG_REQUIREPASS);
    acl_set_requirepass(pw, pw ? strlen(pw) : 0);
    free(pw);
}

void acl_init(void)
{
    acl_cmds_init();
    acl_snap_t *s = xcalloc(1, sizeof *s);
    acl_user_t *d = default_user_new();
    char *pw = config_dup_str(CONFIG_REQUIREPASS);
    if (pw && pw[0]) set_password(d, pw, strlen(pw));
    free(pw);
    acl_snap_insert(s, d);
    rt_snap_init(&g_acl_cell, NULL, snap_free_fn);
    pthread_mutex_lock(&g_write_lock);
    publish_locked(s);
    pthread_mutex_unlock(&g_write_lock);
    config_subscribe(on_config_change, NULL);
}

void acl_set_requirepass(const char *pass, size_t len)
{
    pthread_mutex_lock(&g_write_lock);
    acl_snap_t *s = acl_snap_dup(current_locked());
    int d = acl_snap_find(s, "default", 7);
    if (d >= 0) set_password(s->users[d], pass, len);
    publish_locked(s);
    pthread_mutex_unlock(&g_write_lock);
}

void acl_with_snapshot(void (*fn)(const acl_snap_t *s, void *arg), void *arg)
{
    pthread_mutex_lock(&g_write_lock);
    fn(current_locked(), arg);
    pthread_mutex_unlock(&g_write_lock);
}

static bool channel_listed(const acl_user_t *u, const acl_str_t *ch)
{
    for (int i = 0; i < u->nsel; i++)
        for (int k = 0; k < u->sel[i].nchannels; k++)
            if (u->sel[i].channels[k].len == ch->len && !memcmp(u->sel[i].channels[k].s, ch->s, ch->len)) return true;
    return false;
}

/* As 7.0.15's ACLKillPubsubClientsIfNeeded: the new rules may take a
 * subscription away unless some selector allows every channel or every
 * channel pattern of the old rules is still listed. */
static bool channels_revoked(const acl_user_t *now, const acl_user_t *before)
{
    for (int i = 0; i < now->nsel; i++)
        if (now->sel[i].flags & ACL_SEL_ALLCHANNELS) return false;
    for (int i = 0; i < before->nsel; i++) {
        if (before->sel[i].flags & ACL_SEL_ALLCHANNELS) return true;
        for (int k = 0; k < before->sel[i].nchannels; k++)
            if (!channel_listed(now, &before->sel[i].channels[k])) return true;
    }
    return false;
}

bool acl_channel_allowed_any(const acl_user_t *u, const uint8_t *ch, size_t len, bool is_pattern)
{
    for (int i = 0; i < u->nsel; i++) {
        if (u->sel[i].flags & ACL_SEL_ALLCHANNELS) return true;
        for (int k = 0; k < u->sel[i].nchannels; k++) {
            const acl_str_t *p = &u->sel[i].channels[k];
            if (is_pattern ? (p->len == len && !memcmp(p->s, ch, len))
                           : glob_match(p->s, p->len, (const char *)ch, len, 0))
                return true;
        }
    }
    return false;
}

bool acl_setuser(const uint8_t *name, size_t nlen, int argc, const uint8_t **argv, const size_t *argvlen, char *err,
                 size_t errcap, uint64_t *revoked_uid)
{
    *revoked_uid = 0;
    int n = 0, bad = 0;
    acl_str_t *ops = acl_merge_selector_args(argc, argv, argvlen, &n, &bad);
    if (!ops) {
        snprintf(err, errcap, "Unmatched parenthesis in acl selector starting at '%.*s'.", (int)argvlen[bad],
                 (const char *)argv[bad]);
        return false;
    }
    pthread_mutex_lock(&g_write_lock);
    const acl_snap_t *cur = current_locked();
    int at = acl_snap_find(cur, (const char *)name, nlen);
    acl_user_t *u = at >= 0 ? acl_user_dup(cur->users[at]) : acl_user_new((const char *)name, nlen, 0);
    for (int j = 0; j < n; j++) {
        int rc = acl_user_apply(u, ops[j].s, ops[j].len);
        if (rc != ACL_RULE_OK) {
            snprintf(err, errcap, "Error in ACL SETUSER modifier '%s': %s", ops[j].s, acl_rule_error_text(rc));
            pthread_mutex_unlock(&g_write_lock);
            acl_user_free(u);
            acl_strs_free(ops, n);
            return false;
        }
    }
    acl_snap_t *s = acl_snap_dup(cur);
    if (at >= 0) {
        if (channels_revoked(u, cur->users[at])) *revoked_uid = u->uid;
        acl_user_free(s->users[at]);
        s->users[at] = u;
    } else {
        u->uid = acl_next_uid();
        acl_snap_insert(s, u);
    }
    publish_locked(s);
    pthread_mutex_unlock(&g_write_lock);
    acl_strs_free(ops, n);
    return true;
}

int acl_deluser(int argc, const uint8_t **argv, const size_t *argvlen, uint64_t *ended)
{
    pthread_mutex_lock(&g_write_lock);
    acl_snap_t *s = acl_snap_dup(current_locked());
    int deleted = 0;
    for (int j = 0; j < argc; j++) {
        int at = acl_snap_find(s, (const char *)argv[j], argvlen[j]);
        if (at < 0) continue;
        ended[deleted++] = s->users[at]->uid;
        acl_user_free(s->users[at]);
        memmove(&s->users[at], &s->users[at + 1], sizeof *s->users * (size_t)(s->nusers - at - 1));
        s->nusers--;
    }
    if (deleted) publish_locked(s);
    else acl_snap_free(s);
    pthread_mutex_unlock(&g_write_lock);
    return deleted;
}

/* Replaces every user at once (ACL LOAD, startup): the default user keeps
 * its uid, every other old user ends (their uids into *ended, malloc'd). */
void acl_replace_all(acl_snap_t *s, uint64_t **ended, int *nended)
{
    pthread_mutex_lock(&g_write_lock);
    const acl_snap_t *cur = current_locked();
    if (ended) {
        *ended = malloc(sizeof **ended * (size_t)(cur->nusers + 1));
        if (!*ended) abort();
        *nended = 0;
        for (int i = 0; i < cur->nusers; i++)
            if (cur->users[i]->uid != ACL_UID_DEFAULT) (*ended)[(*nended)++] = cur->users[i]->uid;
    }
    for (int i = 0; i < s->nusers; i++)
        s->users[i]->uid = s->users[i]->namelen == 7 && !memcmp(s->users[i]->name, "default", 7) ? ACL_UID_DEFAULT
                                                                                                : acl_next_uid();
    publish_locked(s);
    pthread_mutex_unlock(&g_write_lock);
}

/* ---- the reader side ---- */

void acl_reader_register(rt_snap_reader_t *r) { rt_snap_reader_register(&g_acl_cell, r); }
void acl_read_begin(rt_snap_reader_t *r) { (void)rt_snap_read_begin(r); }
void acl_read_end(rt_snap_reader_t *r) { rt_snap_read_end(r); }
const acl_snap_t *acl_read(rt_snap_reader_t *r) { return rt_snap_read_again(r); }

bool acl_default_open(void) { return atomic_load_explicit(&g_default_open, memory_order_relaxed); }
bool acl_default_nopass(void) { return atomic_load_explicit(&g_default_nopass, memory_order_relaxed); }

const acl_user_t *acl_user_by_uid(const acl_snap_t *s, uint64_t uid)
{
    for (int i = 0; i < s->nusers; i++)
        if (s->users[i]->uid == uid) return s->users[i];
    return NULL;
}

const acl_user_t *acl_user_by_name(const acl_snap_t *s, const uint8_t *name, size_t len)
{
    int at = acl_snap_find(s, (const char *)name, len);
    return at >= 0 ? s->users[at] : NULL;
}

uint64_t acl_authenticate(const acl_snap_t *s, const uint8_t *user, size_t ulen, const uint8_t *pass, size_t plen)
{
    const acl_user_t *u = acl_user_by_name(s, user, ulen);
    if (!u || (u->flags & ACL_USER_OFF)) return 0;
    if (u->flags & ACL_USER_NOPASS) return u->uid;
    char hash[65];
    acl_sha256_hex(pass, plen, hash);
    for (int i = 0; i < u->npasswords; i++) {
        unsigned diff = 0;   /* the whole hash, whatever matches: no timing hint */
        for (int k = 0; k < 64; k++) diff |= (unsigned)(hash[k] ^ u->passwords[i][k]);
        if (diff == 0) return u->uid;
    }
    return 0;
}

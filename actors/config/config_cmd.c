/* config_cmd.c - the bodies of CONFIG GET and CONFIG SET, with
 * redis-server 7.0.15's matching rules and exact error texts.
 *
 * Runs on whichever worker thread received the command. CONFIG SET is all or
 * nothing: every value is parsed and validated before any is stored, and the
 * stores happen under one lock hold so a reader of strings never sees half of
 * a multi-directive SET. Never writes more than one reply per call.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "actors/config/config_internal.h"
#include "proto/glob.h"
#include "runtime/xmalloc.h"

/* Written once by main() before any worker exists (see config.h). */
static config_bind_fn bind_handler;

void config_set_bind_handler(config_bind_fn fn) { bind_handler = fn; }
static config_port_fn port_handler;
void config_set_port_handler(config_port_fn fn) { port_handler = fn; }
static config_maxclients_fn maxclients_handler;
void config_set_maxclients_handler(config_maxclients_fn fn) { maxclients_handler = fn; }

/* Held from acting on a value (rebinding) to storing it, so that two
 * concurrent CONFIG SET bind leave the stored value equal to what the node
 * listens on. */
static pthread_mutex_t apply_lock = PTHREAD_MUTEX_INITIALIZER;

/* Splits a stored bind value (addresses separated by one space). */
static int bind_split(const char *v, char addrs[][CONFIG_ADDR_MAX])
{
    int n = 0;
    const char *p = v;
    while (p && *p && n < CONFIG_BIND_MAX) {
        const char *sp = strchr(p, ' ');
        size_t len = sp ? (size_t)(sp - p) : strlen(p);
        if (len >= CONFIG_ADDR_MAX) len = CONFIG_ADDR_MAX - 1;
        memcpy(addrs[n], p, len);
        addrs[n++][len] = '\0';
        p = sp ? sp + 1 : NULL;
    }
    return n;
}

void config_cmd_get(resp_buf_t *r, int n, const uint8_t **pat, const size_t *patlen)
{
    /* One flag per spelling (primary, alias): an alias is a name of its own,
     * so `CONFIG GET *` lists both, as 7.0.15 does. */
    unsigned char *seen = xcalloc((size_t)cfg_table_len * 2, 1);
    struct hit { int idx; const char *name; size_t len; } *hits = xcalloc((size_t)cfg_table_len * 2, sizeof *hits);
    int count = 0;
    for (int p = 0; p < n; p++) {
        const char *s = (const char *)pat[p];
        size_t len = patlen[p];
        bool glob = memchr(s, '*', len) || memchr(s, '?', len) || memchr(s, '[', len);
        if (!glob) {
            bool alias;
            int i = cfg_lookup(s, len, &alias);
            if (i < 0 || seen[i * 2 + alias]) continue;
            seen[i * 2 + alias] = 1;
            hits[count++] = (struct hit){i, s, len};      /* echoed as the client spelled it */
            continue;
        }
        for (int i = 0; i < cfg_table_len; i++) {
            if (cfg_table[i].flags & CF_HIDDEN) continue;   /* exact name only */
            const char *names[2] = {cfg_table[i].name, cfg_table[i].alias};
            for (int a = 0; a < 2; a++) {
                if (!names[a] || seen[i * 2 + a]) continue;
                if (glob_match(s, len, names[a], strlen(names[a]), 1)) {
                    seen[i * 2 + a] = 1;
                    hits[count++] = (struct hit){i, names[a], strlen(names[a])};
                }
            }
        }
    }
    resp_add_map(r, count);
    cfg_sb_t v = {0};
    for (int k = 0; k < count; k++) {
        resp_add_bulk(r, hits[k].name, hits[k].len);
        v.len = 0;
        cfg_sb_add(&v, "", 0);
        cfg_value_format(hits[k].idx, &v);
        resp_add_bulk(r, v.s, v.len);
    }
    free(v.s);
    free(hits);
    free(seen);
}

static char *dup_arg(const uint8_t *p, size_t len)
{
    char *s = xmalloc(len + 1);
    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

/* CONFIG SET splits a multi-argument value on single spaces (so "a  b"
 * has an empty middle argument and "" has none), unlike the file parser. */
static char **split_spaces(const char *v, int *argc)
{
    size_t len = strlen(v);
    int n = 0;
    char **out = xmalloc(sizeof(char *) * (len + 2));
    if (len) {
        const char *start = v;
        for (const char *p = v;; p++) {
            if (*p == ' ' || *p == '\0') {
                out[n++] = dup_arg((const uint8_t *)start, (size_t)(p - start));
                if (*p == '\0') break;
                start = p + 1;
            }
        }
    }
    out[n] = NULL;
    *argc = n;
    return out;
}

/* One CONFIG SET call's directives on their way through the three passes,
 * and the first problem met. */
typedef struct {
    int count;
    int *idx;               /* into cfg_table */
    bool *alias;            /* named by its alias */
    char **names;           /* as the client spelled them */
    cfg_staged_t *st;       /* parsed values, stored by pass 3 */
    bool *changed;          /* which stores changed a value */
    int parsed;             /* st[0..parsed) own their strings */
    const char *errstr;
    char *err_arg;
    char eb[512];
    char old_cwd[PATH_MAX]; /* valid when cwd_saved: `dir` moves before the store */
    bool cwd_saved;
} cfg_set_t;

static void set_restore_cwd(cfg_set_t *set)
{
    if (set->cwd_saved && chdir(set->old_cwd) != 0) { /* nothing better to do: the old dir vanished */ }
}

/* Pass 1: names. The first problem wins, as in Redis. Returns the first
 * unknown name, or NULL (with errstr set when a name may not be set). */
static char *set_check_names(cfg_set_t *set, const uint8_t **argv, const size_t *argvlen, bool local_client)
{
    char *unknown = NULL;
    for (int k = 0; k < set->count; k++) {
        set->names[k] = dup_arg(argv[2 * k], argvlen[2 * k]);
        set->idx[k] = cfg_lookup(set->names[k], strlen(set->names[k]), &set->alias[k]);
        if (unknown || set->errstr) continue;
        if (set->idx[k] < 0) { unknown = set->names[k]; continue; }
        const cfg_def_t *d = &cfg_table[set->idx[k]];
        long long prot = cfg_value_num(cfg_lookup("enable-protected-configs", 24, NULL));
        if (d->flags & CF_IMMUTABLE) { set->errstr = "can't set immutable config"; set->err_arg = set->names[k]; continue; }
        if ((d->flags & CF_PROTECTED) && !(prot == CONFIG_ALLOW_YES || (prot == CONFIG_ALLOW_LOCAL && local_client))) {
            set->errstr = "can't set protected config";
            set->err_arg = set->names[k];
            continue;
        }
        for (int j = 0; j < k; j++) {
            /* The two spellings of one directive count as different
             * parameters here: 7.0.15 accepts "slave-read-only no replica-read-only yes". */
            if (set->idx[j] == set->idx[k] && set->alias[j] == set->alias[k]) {
                set->errstr = "duplicate parameter";
                set->err_arg = set->names[k];
                break;
            }
        }
    }
    return unknown;
}

/* Pass 2: parse and validate every value; nothing is stored yet (a `dir`
 * changes the working directory here and is undone on failure). */
static int set_parse_values(cfg_set_t *set, const uint8_t **argv, const size_t *argvlen)
{
    for (int k = 0; k < set->count; k++) {
        const cfg_def_t *d = &cfg_table[set->idx[k]];
        char *value = dup_arg(argv[2 * k + 1], argvlen[2 * k + 1]);
        int ac, rc;
        char **av;
        if (d->flags & CF_MULTI_ARG) av = split_spaces(value, &ac);
        else { av = xmalloc(2 * sizeof *av); av[0] = value; av[1] = NULL; ac = 1; value = NULL; }
        if (d->special == SP_DIR && !set->cwd_saved)
            set->cwd_saved = getcwd(set->old_cwd, sizeof set->old_cwd) != NULL;
        rc = cfg_parse_value(set->idx[k], av, ac, false, &set->st[k], &set->errstr, set->eb, sizeof set->eb);
        cfg_free_args(av, ac);
        free(value);
        if (rc != 0) {
            set->err_arg = (char *)(set->alias[k] ? d->alias : d->name);
            set_restore_cwd(set);
            return -1;
        }
        set->parsed = k + 1;
    }
    return 0;
}

/* CONFIG SET port / tls-port (entry k): listen there, at the bind
 * addresses in force (a bind in this same CONFIG SET was applied before). */
static int set_apply_port(cfg_set_t *set, int k)
{
    int b = -1;
    for (int j = 0; j < set->count; j++) if (cfg_table[set->idx[j]].special == SP_BIND) b = j;
    char *cur = b >= 0 ? NULL : cfg_value_strdup(CONFIG_BIND);
    char addrs[CONFIG_BIND_MAX][CONFIG_ADDR_MAX];
    int na = bind_split(b >= 0 ? (set->st[b].str ? set->st[b].str : "") : (cur ? cur : ""), addrs);
    free(cur);
    return port_handler(set->idx[k] == CONFIG_TLS_PORT, (int)set->st[k].num, addrs, na);
}

/* Pass 3: act where a value must take effect to be true (maxclients, bind,
 * the TLS contexts), then store all. Acting comes after every value is known to be valid, so a
 * failure here is the only way left to fail and it leaves everything as it
 * was. */
static int set_apply(cfg_set_t *set)
{
    pthread_mutex_lock(&apply_lock);
    for (int k = 0; k < set->count; k++) {
        long long possible;
        if (set->idx[k] == CONFIG_MAXCLIENTS && maxclients_handler &&
            maxclients_handler(set->st[k].num, &possible) != 0) {
            pthread_mutex_unlock(&apply_lock);
            snprintf(set->eb, sizeof set->eb,
                     "The operating system is not able to handle the specified number of clients, try with %lld",
                     possible);
            set->errstr = set->eb;
            set->err_arg = (char *)cfg_table[set->idx[k]].name;
            set_restore_cwd(set);
            return -1;
        }
    }
    for (int k = 0; k < set->count; k++) {
        if (cfg_table[set->idx[k]].special != SP_BIND || !bind_handler) continue;
        char addrs[CONFIG_BIND_MAX][CONFIG_ADDR_MAX];
        int na = bind_split(set->st[k].str ? set->st[k].str : "", addrs);
        if (bind_handler(addrs, na) != 0) {
            pthread_mutex_unlock(&apply_lock);
            set->errstr = "Failed to bind to specified addresses.";
            set->err_arg = (char *)(set->alias[k] ? cfg_table[set->idx[k]].alias : cfg_table[set->idx[k]].name);
            set_restore_cwd(set);
            return -1;
        }
    }
    /* The contexts before the TLS listeners, so that a tls-port turned on
     * now never accepts without them (7.0.15's applyTLSPort configures
     * first too). */
    int tls_rc = cfg_tls_apply(set->idx, set->st, set->count);
    if (tls_rc < 0) {
        pthread_mutex_unlock(&apply_lock);
        set->errstr = "Unable to update TLS configuration. Check server logs.";
        for (int k = 0; k < set->count; k++) {
            if (strncmp(cfg_table[set->idx[k]].name, "tls-", 4) != 0) continue;
            set->err_arg = (char *)cfg_table[set->idx[k]].name;
            break;
        }
        set_restore_cwd(set);
        return -1;
    }
    for (int k = 0; k < set->count; k++) {
        if ((set->idx[k] != CONFIG_PORT && set->idx[k] != CONFIG_TLS_PORT) || !port_handler) continue;
        if (set_apply_port(set, k) != 0) {
            /* The contexts go back to the stored values, which stay. */
            if (tls_rc > 0) cfg_tls_restore();
            pthread_mutex_unlock(&apply_lock);
            set->errstr = "Unable to listen on this port. Check server logs.";
            set->err_arg = (char *)cfg_table[set->idx[k]].name;
            set_restore_cwd(set);
            return -1;
        }
    }
    set->changed = xcalloc((size_t)set->count, sizeof *set->changed);
    pthread_mutex_lock(&cfg_lock);
    for (int k = 0; k < set->count; k++) set->changed[k] = cfg_store_locked(set->idx[k], &set->st[k]);
    pthread_mutex_unlock(&cfg_lock);
    pthread_mutex_unlock(&apply_lock);
    return 0;
}

/* Tells the subscribers what changed, once per directive. */
static void set_notify(const cfg_set_t *set)
{
    for (int k = 0; k < set->count; k++) {
        bool dup = false;
        for (int j = 0; j < k; j++) if (set->idx[j] == set->idx[k] && set->changed[j]) dup = true;
        if (set->changed[k] && !dup) cfg_notify(cfg_table[set->idx[k]].name);
    }
}

void config_cmd_set(resp_buf_t *r, int n, const uint8_t **argv, const size_t *argvlen, bool local_client)
{
    if (n < 2) { resp_add_error(r, "ERR wrong number of arguments for 'config|set' command"); return; }
    if (n & 1) { resp_add_error(r, "ERR syntax error"); return; }
    cfg_set_t *set = xcalloc(1, sizeof *set);
    set->count = n / 2;
    set->idx = xcalloc((size_t)set->count, sizeof *set->idx);
    set->alias = xcalloc((size_t)set->count, sizeof *set->alias);
    set->st = xcalloc((size_t)set->count, sizeof *set->st);
    set->names = xcalloc((size_t)set->count, sizeof *set->names);

    char *unknown = set_check_names(set, argv, argvlen, local_client);
    if (unknown)
        resp_add_errorf(r, "ERR Unknown option or number of arguments for CONFIG SET - '%s'", unknown);
    else if (set->errstr || set_parse_values(set, argv, argvlen) != 0 || set_apply(set) != 0)
        resp_add_errorf(r, "ERR CONFIG SET failed (possibly related to argument '%s') - %s",
                        set->err_arg, set->errstr);
    else {
        resp_add_simple(r, "OK");
        set_notify(set);
    }
    for (int k = 0; k < set->parsed; k++) free(set->st[k].str);
    for (int k = 0; k < set->count; k++) free(set->names[k]);
    free(set->changed);
    free(set->names);
    free(set->st);
    free(set->alias);
    free(set->idx);
    free(set);
}

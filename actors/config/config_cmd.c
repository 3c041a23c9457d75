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

void config_cmd_set(resp_buf_t *r, int n, const uint8_t **argv, const size_t *argvlen, bool local_client)
{
    if (n < 2) { resp_add_error(r, "ERR wrong number of arguments for 'config|set' command"); return; }
    if (n & 1) { resp_add_error(r, "ERR syntax error"); return; }
    int count = n / 2;
    int *idx = xcalloc((size_t)count, sizeof *idx);
    bool *alias = xcalloc((size_t)count, sizeof *alias);
    cfg_staged_t *st = xcalloc((size_t)count, sizeof *st);
    char **names = xcalloc((size_t)count, sizeof *names);
    const char *errstr = NULL;
    char *unknown = NULL, *err_arg = NULL;
    char eb[512];
    char old_cwd[PATH_MAX];
    bool cwd_saved = false;
    int parsed = 0;

    /* Pass 1: names. The first problem wins, as in Redis. */
    for (int k = 0; k < count; k++) {
        names[k] = dup_arg(argv[2 * k], argvlen[2 * k]);
        idx[k] = cfg_lookup(names[k], strlen(names[k]), &alias[k]);
        if (unknown || errstr) continue;
        if (idx[k] < 0) { unknown = names[k]; continue; }
        const cfg_def_t *d = &cfg_table[idx[k]];
        long long prot = cfg_value_num(cfg_lookup("enable-protected-configs", 24, NULL));
        if (d->flags & CF_IMMUTABLE) { errstr = "can't set immutable config"; err_arg = names[k]; continue; }
        if ((d->flags & CF_PROTECTED) && !(prot == CONFIG_ALLOW_YES || (prot == CONFIG_ALLOW_LOCAL && local_client))) {
            errstr = "can't set protected config";
            err_arg = names[k];
            continue;
        }
        for (int j = 0; j < k; j++) {
            /* The two spellings of one directive count as different
             * parameters here: 7.0.15 accepts "slave-read-only no replica-read-only yes". */
            if (idx[j] == idx[k] && alias[j] == alias[k]) { errstr = "duplicate parameter"; err_arg = names[k]; break; }
        }
    }
    if (unknown) {
        resp_add_errorf(r, "ERR Unknown option or number of arguments for CONFIG SET - '%s'", unknown);
        goto done;
    }
    if (errstr) goto fail;

    /* Pass 2: parse and validate every value; nothing is stored yet (a
     * `dir` changes the working directory here and is undone on failure). */
    for (int k = 0; k < count; k++) {
        const cfg_def_t *d = &cfg_table[idx[k]];
        char *value = dup_arg(argv[2 * k + 1], argvlen[2 * k + 1]);
        int ac, rc;
        char **av;
        if (d->flags & CF_MULTI_ARG) av = split_spaces(value, &ac);
        else { av = xmalloc(2 * sizeof *av); av[0] = value; av[1] = NULL; ac = 1; value = NULL; }
        if (d->special == SP_DIR && !cwd_saved) cwd_saved = getcwd(old_cwd, sizeof old_cwd) != NULL;
        rc = cfg_parse_value(idx[k], av, ac, false, &st[k], &errstr, eb, sizeof eb);
        cfg_free_args(av, ac);
        free(value);
        if (rc != 0) {
            err_arg = (char *)(alias[k] ? d->alias : d->name);
            if (cwd_saved && chdir(old_cwd) != 0) { /* nothing better to do: the old dir vanished */ }
            goto fail;
        }
        parsed = k + 1;
    }

    /* Pass 3: act where a value must take effect to be true (bind), then
     * store all and tell the subscribers what changed. Acting comes after
     * every value is known to be valid, so a failure here is the only way
     * left to fail and it leaves everything as it was. */
    pthread_mutex_lock(&apply_lock);
    for (int k = 0; k < count; k++) {
        long long possible;
        if (idx[k] == CONFIG_MAXCLIENTS && maxclients_handler && maxclients_handler(st[k].num, &possible) != 0) {
            pthread_mutex_unlock(&apply_lock);
            snprintf(eb, sizeof eb, "The operating system is not able to handle the specified number of clients, try with %lld",
                     possible);
            errstr = eb;
            err_arg = (char *)cfg_table[idx[k]].name;
            if (cwd_saved && chdir(old_cwd) != 0) { /* nothing better to do: the old dir vanished */ }
            goto fail;
        }
    }
    for (int k = 0; k < count; k++) {
        if (cfg_table[idx[k]].special != SP_BIND || !bind_handler) continue;
        char addrs[CONFIG_BIND_MAX][CONFIG_ADDR_MAX];
        int na = bind_split(st[k].str ? st[k].str : "", addrs);
        if (bind_handler(addrs, na) != 0) {
            pthread_mutex_unlock(&apply_lock);
            errstr = "Failed to bind to specified addresses.";
            err_arg = (char *)(alias[k] ? cfg_table[idx[k]].alias : cfg_table[idx[k]].name);
            if (cwd_saved && chdir(old_cwd) != 0) { /* nothing better to do: the old dir vanished */ }
            goto fail;
        }
    }
    bool *changed = xcalloc((size_t)count, sizeof *changed);
    pthread_mutex_lock(&cfg_lock);
    for (int k = 0; k < count; k++) changed[k] = cfg_store_locked(idx[k], &st[k]);
    pthread_mutex_unlock(&cfg_lock);
    pthread_mutex_unlock(&apply_lock);
    resp_add_simple(r, "OK");
    for (int k = 0; k < count; k++) {
        bool dup = false;
        for (int j = 0; j < k; j++) if (idx[j] == idx[k] && changed[j]) dup = true;
        if (changed[k] && !dup) cfg_notify(cfg_table[idx[k]].name);
    }
    free(changed);
    goto done;

fail:
    resp_add_errorf(r, "ERR CONFIG SET failed (possibly related to argument '%s') - %s", err_arg, errstr);
done:
    for (int k = 0; k < parsed; k++) free(st[k].str);
    for (int k = 0; k < count; k++) free(names[k]);
    free(names);
    free(st);
    free(alias);
    free(idx);
}

/* acl_file.c - users from files: the `user` directives of the config file
 * (checked as the file is read, loaded at startup) and the aclfile (loaded
 * at startup and by ACL LOAD, written by ACL SAVE), with 7.0.15's rules and
 * messages. A file with any error changes nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "actors/acl/acl_internal.h"
#include "actors/config/config.h"
#include "runtime/actor.h"
#include "runtime/log.h"

typedef struct sbuf { char *p; size_t len, cap; } sbuf_t;

static void sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ---- `user` lines of the config file ---- */

typedef struct pending_user { acl_str_t *words; int n; } pending_user_t;   /* words[0]: the name */
static pending_user_t *g_pending;
static int g_npending;

bool acl_config_user(int argc, char **argv, char *err, size_t errcap)
{
    cmd_table_init();
    acl_cmds_init();
    for (int i = 0; i < g_npending; i++)
        if (!strcmp(g_pending[i].words[0].s, argv[1])) {
            snprintf(err, errcap, "Error in user declaration '%s': %s", argv[1],
                     acl_rule_error_text(ACL_RULE_EALREADY));
            return false;
        }
    size_t lens[argc];
    for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    int n = 0, bad = 0;
    acl_str_t *ops = acl_merge_selector_args(argc - 2, (const uint8_t **)argv + 2, lens + 2, &n, &bad);
    if (!ops) {
        /* 7.0.15 names argv[index] with an index counted from the rules. */
        snprintf(err, errcap, "Error in user declaration '%s': %s", argv[bad], acl_rule_error_text(-1));
        return false;
    }
    acl_user_t *fake = acl_user_new("fake", 4, 0);
    for (int j = 0; j < n; j++) {
        int rc = acl_user_apply(fake, ops[j].s, ops[j].len);
        if (rc != ACL_RULE_OK && rc != ACL_RULE_ENOENT) {
            snprintf(err, errcap, "Error in user declaration '%s': %s", argv[j], acl_rule_error_text(rc));
            acl_user_free(fake);
            acl_strs_free(ops, n);
            return false;
        }
    }
    acl_user_free(fake);
    g_pending = realloc(g_pending, sizeof *g_pending * (size_t)(g_npending + 1));
    if (!g_pending) abort();
    pending_user_t *p = &g_pending[g_npending++];
    p->words = malloc(sizeof *p->words * (size_t)(n + 1));
    if (!p->words) abort();
    p->words[0].s = strdup(argv[1]);
    p->words[0].len = lens[1];
    for (int j = 0; j < n; j++) p->words[j + 1] = ops[j];
    p->n = n + 1;
    free(ops);
    return true;
}

static int load_configured_users(acl_snap_t *s, char *err, size_t errcap)
{
    for (int i = 0; i < g_npending; i++) {
        pending_user_t *p = &g_pending[i];
        if (acl_has_spaces(p->words[0].s, p->words[0].len)) {
            snprintf(err, errcap, "Spaces not allowed in ACL usernames");
            return -1;
        }
        int at = acl_snap_find(s, p->words[0].s, p->words[0].len);
        acl_user_t *u;
        if (at >= 0) {
            u = s->users[at];
            acl_user_apply(u, "reset", 5);
        } else {
            u = acl_user_new(p->words[0].s, p->words[0].len, 0);
            acl_snap_insert(s, u);
        }
        for (int j = 1; j < p->n; j++) {
            int rc = acl_user_apply(u, p->words[j].s, p->words[j].len);
            if (rc != ACL_RULE_OK) {
                snprintf(err, errcap, "Error loading ACL rule '%s' for the user named '%s': %s", p->words[j].s,
                         p->words[0].s, acl_rule_error_text(rc));
                return -1;
            }
        }
        if (u->flags & ACL_USER_OFF)
            LOG_NOTICE("The user '%s' is disabled (there is no 'on' modifier in the user description). Make sure "
                       "this is not a configuration error.", p->words[0].s);
    }
    return 0;
}

/* ---- the aclfile ---- */

static void aclfile_name(char *buf, size_t cap)
{
    if (config_get_by_name("aclfile", buf, cap) < 0) buf[0] = '\0';
}

struct line_words { char **w; int n; };

/* Splits on single spaces as 7.0.15's sdssplitlen: two spaces make an empty word. */
static struct line_words split_spaces(char *line)
{
    struct line_words lw = { NULL, 0 };
    char *p = line;
    for (;;) {
        char *sp = strchr(p, ' ');
        lw.w = realloc(lw.w, sizeof *lw.w * (size_t)(lw.n + 1));
        if (!lw.w) abort();
        lw.w[lw.n++] = p;
        if (!sp) break;
        *sp = '\0';
        p = sp + 1;
    }
    return lw;
}

static char *trim_set(char *s, const char *set)
{
    while (*s && strchr(set, *s)) s++;
    size_t n = strlen(s);
    while (n && strchr(set, s[n - 1])) s[--n] = '\0';
    return s;
}

static void load_line(acl_snap_t *s, char *line, int linenum, const char *fname, sbuf_t *errors)
{
    struct line_words lw = split_spaces(line);
    if (strcmp(lw.w[0], "user") != 0 || lw.n < 2) {
        sb_printf(errors, "%s:%d should start with user keyword followed by the username. ", fname, linenum);
        free(lw.w);
        return;
    }
    const char *name = lw.w[1];
    if (acl_has_spaces(name, strlen(name))) {
        sb_printf(errors, "'%s:%d: username '%s' contains invalid characters. ", fname, linenum, name);
        free(lw.w);
        return;
    }
    if (acl_snap_find(s, name, strlen(name)) >= 0) {
        sb_printf(errors, "WARNING: Duplicate user '%s' found on line %d. ", name, linenum);
        free(lw.w);
        return;
    }
    acl_user_t *u = acl_user_new(name, strlen(name), 0);
    acl_snap_insert(s, u);
    int nrules = lw.n - 2;
    size_t lens[nrules > 0 ? nrules : 1];
    for (int i = 0; i < nrules; i++) lens[i] = strlen(lw.w[i + 2]);
    int n = 0;
    acl_str_t *ops = acl_merge_selector_args(nrules, (const uint8_t **)lw.w + 2, lens, &n, NULL);
    if (!ops) {
        sb_printf(errors, "%s:%d: Unmatched parenthesis in selector definition.", fname, linenum);
        free(lw.w);
        return;
    }
    bool syntax_error = false;
    for (int j = 0; j < n; j++) {
        char *op = trim_set(ops[j].s, "\t\r\n");
        int rc = acl_user_apply(u, op, strlen(op));
        if (rc == ACL_RULE_ENOENT) {
            sb_printf(errors, "%s:%d: Error in applying operation '%s': %s. ", fname, linenum, op,
                      acl_rule_error_text(rc));
        } else if (rc != ACL_RULE_OK && !syntax_error) {
            sb_printf(errors, "%s:%d: %s. ", fname, linenum, acl_rule_error_text(rc));
            syntax_error = true;
        }
    }
    acl_strs_free(ops, n);
    free(lw.w);
}

/* The users of the file, or NULL with the errors in err. */
static acl_snap_t *read_file(const char *path, char *err, size_t errcap)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, errcap, "Error loading ACLs, opening file '%s': %s", path, strerror(errno));
        return NULL;
    }
    sbuf_t text = { 0 };
    char buf[1024];
    while (fgets(buf, sizeof buf, fp)) sb_printf(&text, "%s", buf);
    fclose(fp);
    acl_snap_t *s = calloc(1, sizeof *s);
    if (!s) abort();
    sbuf_t errors = { 0 };
    char fname[1024];
    aclfile_name(fname, sizeof fname);
    int linenum = 0;
    for (char *line = text.p; line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        linenum++;
        char *t = trim_set(line, " \t\r\n");
        if (*t) load_line(s, t, linenum, fname, &errors);
        line = nl ? nl + 1 : NULL;
    }
    free(text.p);
    if (errors.len) {
        sb_printf(&errors, "WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
        snprintf(err, errcap, "%s", errors.p);
        free(errors.p);
        acl_snap_free(s);
        return NULL;
    }
    if (acl_snap_find(s, "default", 7) < 0) acl_snap_insert(s, acl_default_user_new());
    return s;
}

int acl_load_file(const char *path, char *err, size_t errcap, uint64_t **ended, int *nended)
{
    acl_snap_t *s = read_file(path, err, errcap);
    if (!s) return -1;
    acl_replace_all(s, ended, nended);
    return 0;
}

static void save_users(const acl_snap_t *s, void *arg)
{
    sbuf_t *b = arg;
    for (int i = 0; i < s->nusers; i++) {
        char *d = acl_describe_user(s->users[i]);
        sb_printf(b, "user %.*s %s\n", (int)s->users[i]->namelen, s->users[i]->name, d);
        free(d);
    }
}

int acl_save_file(const char *path)
{
    sbuf_t b = { 0 };
    acl_with_snapshot(save_users, &b);
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp-%d-%lld", path, (int)getpid(), rt_now_ms());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = -1;
    if (fd < 0) {
        LOG_WARNING("Opening temp ACL file for ACL SAVE: %s", strerror(errno));
    } else if (write(fd, b.p ? b.p : "", b.len) != (ssize_t)b.len) {
        LOG_WARNING("Writing ACL file for ACL SAVE: %s", strerror(errno));
    } else if (close(fd) != 0 || (fd = -1, rename(tmp, path) != 0)) {
        LOG_WARNING("Renaming ACL file for ACL SAVE: %s", strerror(errno));
    } else {
        rc = 0;
    }
    if (fd >= 0) close(fd);
    if (rc != 0) unlink(tmp);
    free(b.p);
    return rc;
}

char *acl_describe_all_users(int *n, size_t *len)
{
    sbuf_t b = { 0 };
    acl_with_snapshot(save_users, &b);
    *n = 0;
    for (size_t i = 0; i < b.len; i++)
        if (b.p[i] == '\n') { b.p[i] = '\0'; (*n)++; }
    *len = b.len;
    return b.p;
}

static void copy_current(const acl_snap_t *c, void *arg)
{
    acl_snap_t **out = arg;
    *out = acl_snap_dup(c);
}

int acl_load_at_startup(char *err, size_t errcap)
{
    char fname[1024];
    aclfile_name(fname, sizeof fname);
    if (fname[0] && g_npending) {
        snprintf(err, errcap, "Configuring Redis with users defined in redis.conf and at the same setting an ACL file "
                              "path is invalid. This setup is very likely to lead to configuration errors and "
                              "security holes, please define either an ACL file or declare users directly in your "
                              "redis.conf, but not both.");
        return -1;
    }
    if (g_npending) {
        /* Start from the default user as requirepass made it. */
        acl_snap_t *s = NULL;
        acl_with_snapshot(copy_current, &s);
        char e[1024];
        if (load_configured_users(s, e, sizeof e) != 0) {
            LOG_WARNING("%s", e);
            snprintf(err, errcap, "Critical error while loading ACLs. Exiting.");
            acl_snap_free(s);
            return -1;
        }
        acl_replace_all(s, NULL, NULL);
    }
    if (fname[0]) {
        char e[8192];
        acl_snap_t *s = read_file(fname, e, sizeof e);
        if (!s) {
            snprintf(err, errcap, "Aborting Redis startup because of ACL errors: %s", e);
            return -1;
        }
        acl_replace_all(s, NULL, NULL);
    }
    return 0;
}

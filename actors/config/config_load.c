/* config_load.c - reading the configuration at startup: the config file,
 * the command-line options appended after it the way redis-server builds
 * them, and the fatal-error report in Redis's words.
 *
 * Runs once, in main(), before any other thread exists. Never exit(): every
 * problem goes back in a config_error_t so that main decides.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "actors/config/config_internal.h"
#include "runtime/xmalloc.h"

static char config_path[PATH_MAX];    /* absolute; written at load, read under cfg_lock */
mode_t cfg_umask = 022;               /* process umask, read once at load (REWRITE's chmod) */

void cfg_forget_path(void)
{
    pthread_mutex_lock(&cfg_lock);
    config_path[0] = '\0';
    pthread_mutex_unlock(&cfg_lock);
}

size_t config_file_path(char *buf, size_t cap)
{
    pthread_mutex_lock(&cfg_lock);
    size_t n = strlen(config_path);
    if (cap) snprintf(buf, cap, "%s", config_path);
    pthread_mutex_unlock(&cfg_lock);
    return n;
}

static void set_error(config_error_t *err, int line, bool in_file, const char *text, const char *msg)
{
    if (!err) return;
    err->line = line;
    err->in_file = in_file;
    snprintf(err->text, sizeof err->text, "%s", text ? text : "");
    /* Truncation of an over-long message is fine; copy explicitly so the
     * compiler does not flag it. */
    size_t n = strlen(msg);
    if (n >= sizeof err->msg) n = sizeof err->msg - 1;
    memcpy(err->msg, msg, n);
    err->msg[n] = '\0';
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) s[--n] = '\0';
    return s;
}

static config_user_fn user_handler;
void config_set_user_handler(config_user_fn fn) { user_handler = fn; }

/* Applies one directive line already split into argv. Returns NULL or the
 * error message (static or in eb). */
static const char *apply_line(char **argv, int argc, char *eb, size_t ecap)
{
    for (char *p = argv[0]; *p; p++) *p = (char)tolower((unsigned char)*p);
    int i = cfg_lookup(argv[0], strlen(argv[0]), NULL);
    if (i >= 0) {
        const cfg_def_t *d = &cfg_table[i];
        const char *err = NULL;
        cfg_staged_t st;
        int rc;
        if (!(d->flags & CF_MULTI_ARG) && argc != 2) return "wrong number of arguments";
        if ((d->flags & CF_MULTI_ARG) && argc == 2 && argv[1][0]) {
            /* `--save "900 1 300 10"` on the command line arrives as one
             * argument: split it like a line, as Redis does. */
            int n;
            char **sub = cfg_split_args(argv[1], &n);
            if (!sub) return "Unbalanced quotes in configuration line";
            rc = cfg_parse_value(i, sub, n, true, &st, &err, eb, ecap);
            cfg_free_args(sub, n);
        } else {
            rc = cfg_parse_value(i, argv + 1, argc - 1, true, &st, &err, eb, ecap);
        }
        if (rc != 0) return err;
        pthread_mutex_lock(&cfg_lock);
        cfg_store_locked(i, &st);
        pthread_mutex_unlock(&cfg_lock);
        if (d->special == SP_SAVE) cfg_save_seen_in_file = true;
        return NULL;
    }
    for (const cfg_deprecated_t *dp = cfg_deprecated; dp->name; dp++)
        if (!strcasecmp(argv[0], dp->name) && argc >= dp->argc_min && argc <= dp->argc_max) return NULL;
    if (!strcmp(argv[0], "include") && argc == 2)
        return "include is not supported by shoal: put every directive in one file";
    if (!strcmp(argv[0], "rename-command") && argc == 3)
        return "rename-command is not supported by shoal";
    if (!strcmp(argv[0], "user") && argc >= 2) {
        if (!user_handler) return "user is not supported here (no ACL handler)";
        return user_handler(argc, argv, eb, ecap) ? NULL : eb;
    }
    if (!strcmp(argv[0], "loadmodule") && argc >= 2)
        return "loadmodule is not supported by shoal";
    return "Bad directive or wrong number of arguments";
}

/* Parses `text`; lines 1..file_lines come from the config file. */
static int load_text(const char *text, int file_lines, config_error_t *err)
{
    char *copy = xstrdup(text);
    char eb[512];
    int linenum = 0, rc = 0;
    char *next = copy;
    while (next) {
        char *line = next;
        char *nl = strchr(line, '\n');
        if (nl) { *nl = '\0'; next = nl + 1; } else next = NULL;
        linenum++;
        line = trim(line);
        if (line[0] == '#' || line[0] == '\0') continue;
        int argc;
        char **argv = cfg_split_args(line, &argc);
        const char *msg = NULL;
        if (!argv) msg = "Unbalanced quotes in configuration line";
        else if (argc > 0) msg = apply_line(argv, argc, eb, sizeof eb);
        cfg_free_args(argv, argc);
        if (msg) {
            set_error(err, linenum, linenum <= file_lines, line, msg);
            rc = -1;
            break;
        }
    }
    free(copy);
    if (rc) return rc;

    /* Checks Redis makes once everything is read. */
    char logfile[PATH_MAX];
    config_logfile(logfile, sizeof logfile);
    if (logfile[0]) {
        FILE *f = fopen(logfile, "a");
        if (!f) {
            char m[600];
            snprintf(m, sizeof m, "Can't open the log file: %s", strerror(errno));
            set_error(err, 0, false, NULL, m);
            return -1;
        }
        fclose(f);
    }
    char *replicaof = cfg_value_strdup(cfg_lookup("replicaof", 9, NULL));
    bool has_master = replicaof && replicaof[0];
    free(replicaof);
    if (config_cluster_enabled() && has_master) {
        set_error(err, 0, false, NULL, "replicaof directive not allowed in cluster mode");
        return -1;
    }
    return 0;
}

static void capture_umask(void)
{
    /* umask() can only be read by setting it; we are single-threaded here. */
    mode_t m = umask(0777);
    umask(m);
    cfg_umask = m;
}

int config_load_string(const char *text, config_error_t *err)
{
    if (err) memset(err, 0, sizeof *err);
    config_reset_defaults();
    capture_umask();
    return load_text(text ? text : "", 0, err);
}

int config_load(const char *path, const char *options, config_error_t *err)
{
    if (err) memset(err, 0, sizeof *err);
    config_reset_defaults();
    capture_umask();
    cfg_sb_t text = {0};
    cfg_sb_add(&text, "", 0);
    int file_lines = 0;
    if (path) {
        if (err) snprintf(err->file, sizeof err->file, "%s", path);
        FILE *f = fopen(path, "r");
        if (!f) {
            char m[700];
            snprintf(m, sizeof m, "Fatal error, can't open config file '%s': %s", path, strerror(errno));
            set_error(err, 0, false, NULL, m);
            free(text.s);
            return -1;
        }
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) cfg_sb_add(&text, buf, n);
        fclose(f);
        text.len = strlen(text.s);   /* a NUL byte ends the text, as with fgets in Redis */
        for (size_t k = 0; k < text.len; k++) if (text.s[k] == '\n') file_lines++;
        if (text.len && text.s[text.len - 1] != '\n') file_lines++;
        /* Remember the absolute path before a `dir` line moves us. */
        char abs[2 * PATH_MAX + 2];
        if (!realpath(path, abs)) {
            char cwd[PATH_MAX];
            snprintf(abs, sizeof abs, "%s/%s", getcwd(cwd, sizeof cwd) ? cwd : ".", path);
        }
        size_t alen = strlen(abs);
        if (alen >= sizeof config_path) alen = sizeof config_path - 1;
        pthread_mutex_lock(&cfg_lock);
        memcpy(config_path, abs, alen);
        config_path[alen] = '\0';
        pthread_mutex_unlock(&cfg_lock);
    }
    if (options) {
        cfg_sb_add(&text, "\n", 1);
        cfg_sb_adds(&text, options);
    }
    int rc = load_text(text.s, file_lines, err);
    free(text.s);
    return rc;
}

int config_load_argv(int argc, char **argv, config_error_t *err)
{
    const char *path = NULL;
    int j = 1;
    if (argc >= 2 && argv[1][0] != '-') { path = argv[1]; j = 2; }
    cfg_sb_t opt = {0};
    cfg_sb_add(&opt, "", 0);
    bool last_has_value = true;   /* false right after a bare "--name" */
    for (; j < argc; j++) {
        const char *a = argv[j];
        if (a[0] == '-' && a[1] == '\0' && (j == 1 || j == argc - 1)) {
            if (err) memset(err, 0, sizeof *err);
            set_error(err, 0, false, NULL, "reading the configuration from stdin is not supported by shoal");
            free(opt.s);
            return -1;
        }
        if (last_has_value && a[0] == '-' && a[1] == '-') {
            if (opt.len) cfg_sb_add(&opt, "\n", 1);
            cfg_sb_adds(&opt, a + 2);
            cfg_sb_add(&opt, " ", 1);
            int n = 0;
            char **tok = cfg_split_args(a, &n);
            cfg_free_args(tok, n);
            if (tok && n == 1) {
                last_has_value = false;
                /* `--save` followed by another option or by nothing means
                 * `save ""` (what generated command lines produce for an
                 * empty list; redis-server 7.0.15 accepts it). */
                bool is_save = !strcasecmp(a, "--save");
                if (is_save && j != argc - 1 && argv[j + 1][0] == '-' && argv[j + 1][1] == '-') {
                    cfg_sb_adds(&opt, "\"\"");
                    last_has_value = true;
                } else if (is_save && j == argc - 1) {
                    cfg_sb_adds(&opt, "\"\"");
                }
            } else {
                last_has_value = true;   /* "--port 6380" given as one argument */
            }
        } else {
            cfg_repr(&opt, a, strlen(a));
            cfg_sb_add(&opt, " ", 1);
            last_has_value = true;
        }
    }
    int rc = config_load(path, opt.s, err);
    free(opt.s);
    return rc;
}

void config_format_error(const config_error_t *e, char *buf, size_t cap)
{
    if (e->line > 0) {
        char where[600];
        if (e->in_file) snprintf(where, sizeof where, " ('%s')", e->file);
        else snprintf(where, sizeof where, " (command line)");
        snprintf(buf, cap,
                 "\n*** FATAL CONFIG FILE ERROR (shoal) ***\n"
                 "Reading the configuration file, at line %d%s\n"
                 ">>> '%s'\n"
                 "%s\n", e->line, where, e->text, e->msg);
    } else if (!strncmp(e->msg, "Fatal error", 11)) {
        snprintf(buf, cap, "%s\n", e->msg);
    } else {
        snprintf(buf, cap, "\n*** FATAL CONFIG FILE ERROR (shoal) ***\n%s\n", e->msg);
    }
}

/* cmd_command.c - the COMMAND command and its subcommands (COUNT, INFO, DOCS,
 * GETKEYS, LIST, HELP), answered from the command table alone.
 *
 * Replies follow redis-server 7.0.15 byte for byte (element order, RESP2/RESP3
 * types, error texts), because clients such as redis-py read COMMAND to learn
 * key positions. These handlers only read the table and write ctx->reply;
 * they must never touch a keyspace, a client or cluster state.
 */
#include <stdlib.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/cmd.h"
#include "actors/commands/commands.h"
#include "proto/glob.h"
#include "runtime/xmalloc.h"

static void reply_all_info(resp_buf_t *r)
{
    int n = cmd_count();
    resp_add_array(r, n);
    for (int i = 0; i < n; i++) cmd_reply_info(r, cmd_at(i));
}

/* Bare COMMAND: the INFO entry of every top-level command. */
void cmd_command(cmd_ctx_t *ctx)
{
    reply_all_info(ctx->reply);
}

void cmd_command_count(cmd_ctx_t *ctx)
{
    resp_add_int(ctx->reply, cmd_count());
}

/* COMMAND INFO [name ...]: no names means every command; an unknown name
 * gives a null in its place. Names may be "container|sub". */
void cmd_command_info(cmd_ctx_t *ctx)
{
    if (ctx->argc <= 2) {
        reply_all_info(ctx->reply);
        return;
    }
    resp_add_array(ctx->reply, ctx->argc - 2);
    for (int i = 2; i < ctx->argc; i++) {
        const cmd_def_t *cmd = cmd_lookup_fullname(ctx->argv[i], ctx->argvlen[i]);
        if (cmd) cmd_reply_info(ctx->reply, cmd);
        else resp_add_null(ctx->reply);
    }
}

/* COMMAND DOCS [name ...]: a map from full name to docs; unknown names are
 * left out (unlike INFO, which answers null for them). */
void cmd_command_docs(cmd_ctx_t *ctx)
{
    resp_buf_t *r = ctx->reply;
    if (ctx->argc <= 2) {
        int n = cmd_count();
        resp_add_map(r, n);
        for (int i = 0; i < n; i++) cmd_reply_docs(r, cmd_at(i));
        return;
    }
    int found = 0;
    for (int i = 2; i < ctx->argc; i++)
        if (cmd_lookup_fullname(ctx->argv[i], ctx->argvlen[i])) found++;
    resp_add_map(r, found);
    for (int i = 2; i < ctx->argc; i++) {
        const cmd_def_t *cmd = cmd_lookup_fullname(ctx->argv[i], ctx->argvlen[i]);
        if (cmd) cmd_reply_docs(r, cmd);
    }
}

/* The keys of the command line after COMMAND GETKEYS / GETKEYSANDFLAGS:
 * checks in Redis's order, each with its text. Returns the key count with
 * their argv positions (relative to the inner line) in a malloc'ed *pos and
 * the command in *out, or -1 after replying an error. */
static int inner_keys(cmd_ctx_t *ctx, const cmd_def_t **out, int **pos)
{
    int argc = ctx->argc - 2;                   /* the inner command line */
    const uint8_t **argv = ctx->argv + 2;
    const size_t *argvlen = ctx->argvlen + 2;
    resp_buf_t *r = ctx->reply;
    if (argc <= 0) {
        resp_add_error(r, "ERR Invalid command specified");
        return -1;
    }
    /* A container is resolved to its subcommand when one is given, as at dispatch. */
    const cmd_def_t *cmd = cmd_lookup(argv[0], argvlen[0]);
    if (cmd && cmd->subcommands && argc > 1) cmd = cmd_lookup_sub(cmd, argv[1], argvlen[1]);
    if (!cmd) {
        resp_add_error(r, "ERR Invalid command specified");
        return -1;
    }
    if (!cmd_has_keys(cmd)) {
        resp_add_error(r, "ERR The command has no key arguments");
        return -1;
    }
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        resp_add_error(r, "ERR Invalid number of arguments specified for command");
        return -1;
    }
    /* argc is bounded by the request parser; one int per argument is enough. */
    *pos = xmalloc(sizeof **pos * (size_t)argc);
    /* A command with a key finder of its own routes by it; its specs, when
     * they can say, answer here (GEORADIUS: every STORE and STOREDIST key). */
    int n = cmd->getkeys ? cmd_spec_keys(cmd, argc, argv, argvlen, *pos, NULL, argc) : -1;
    if (n < 0) n = cmd_get_keys(cmd, argc, argv, argvlen, *pos, argc);
    /* EVAL, FCALL and their kin may name no key (no_mandatory_keys): an
     * empty answer then, as 7.0.15's */
    if (n == 0 && cmd->flag_names && strstr(cmd->flag_names, "no_mandatory_keys")) {
        *out = cmd;
        return 0;
    }
    if (n == 0) {
        resp_add_error(r, "ERR Invalid arguments specified for command");
        free(*pos);
        return -1;
    }
    *out = cmd;
    return n;
}

void cmd_command_getkeys(cmd_ctx_t *ctx)
{
    const cmd_def_t *cmd;
    int *pos;
    int n = inner_keys(ctx, &cmd, &pos);
    if (n < 0) return;
    resp_add_array(ctx->reply, n);
    for (int i = 0; i < n; i++) resp_add_bulk(ctx->reply, ctx->argv[2 + pos[i]], ctx->argvlen[2 + pos[i]]);
    free(pos);
}

/* ---- COMMAND GETKEYSANDFLAGS ---- */

static bool word_is(const uint8_t *a, size_t al, const char *w)
{
    size_t wl = strlen(w);
    if (al != wl) return false;
    for (size_t i = 0; i < wl; i++)
        if ((a[i] | 0x20) != (w[i] | 0x20)) return false;
    return true;
}

/* Whether key spec ks, applied to the line argv[0..argc), names argument
 * p (7.0.15's begin_search then find_keys; an unknown kind names nothing). */
static bool spec_names(const cmd_keyspec_t *ks, int argc, const uint8_t **argv, const size_t *argvlen, int p)
{
    int start = -1;
    if (ks->bs_type == CMD_KS_INDEX) {
        start = ks->bs_index;
    } else if (ks->bs_type == CMD_KS_KEYWORD) {
        int from = ks->bs_index > 0 ? ks->bs_index : argc + ks->bs_index;
        int dir = ks->bs_index > 0 ? 1 : -1;
        for (int i = from; i >= 1 && i < argc; i += dir)
            if (word_is(argv[i], argvlen[i], ks->bs_keyword)) { start = i + 1; break; }
    }
    if (start < 1 || start >= argc) return false;
    int first = start, last, step;
    if (ks->fk_type == CMD_KS_RANGE) {
        step = ks->fk_b > 0 ? ks->fk_b : 1;
        if (ks->fk_a >= 0) last = start + ks->fk_a;
        else if (!ks->fk_c) last = argc + ks->fk_a;
        else last = start + ((argc - start) / ks->fk_c + ks->fk_a);
    } else if (ks->fk_type == CMD_KS_KEYNUM) {
        long long num;
        if (start + ks->fk_a >= argc || !arg_ll(argv[start + ks->fk_a], argvlen[start + ks->fk_a], &num) || num < 0)
            return false;
        step = ks->fk_c > 0 ? ks->fk_c : 1;
        first = start + ks->fk_b;
        last = first + (int)(num - 1) * step;
    } else {
        return false;
    }
    return p >= first && p <= last && (p - first) % step == 0;
}

/* The flags of the key at argument p, as 7.0.15 reports them: those of the
 * first key spec naming it (an unknown spec, such as SORT's STORE, takes
 * the keys no other names), without INCOMPLETE; SET and BITFIELD, whose
 * spec says VARIABLE_FLAGS, by what the line does with the key. */
static const char *key_flags(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen, int p)
{
    const char *name = cmd->name;
    if (!strcmp(name, "set")) {
        for (int i = 3; i < argc; i++)
            if (word_is(argv[i], argvlen[i], "get")) return "RW access update";
        return "OW update";
    }
    if (!strcmp(name, "bitfield")) {
        for (int i = 2; i < argc; i++) {
            int rest = argc - i - 1;
            if (word_is(argv[i], argvlen[i], "get") && rest >= 2) i += 2;
            else if (word_is(argv[i], argvlen[i], "overflow") && rest >= 1) i += 1;
            else return "RW access update";    /* SET, INCRBY, or a syntax error: not read-only */
        }
        return "RO access";
    }
    const cmd_keyspec_t *unknown = NULL;
    for (int s = 0; s < cmd->keyspec_count; s++) {
        const cmd_keyspec_t *ks = &cmd->keyspecs[s];
        if (ks->bs_type == CMD_KS_UNKNOWN) unknown = ks;
        else if (spec_names(ks, argc, argv, argvlen, p)) return ks->flags;
    }
    return unknown ? unknown->flags : "";
}

/* Emits the flag words of `flags` but INCOMPLETE and VARIABLE_FLAGS, as a set. */
static void add_key_flags(resp_buf_t *r, const char *flags)
{
    const char *w[16];
    size_t wl[16];
    int n = 0;
    for (const char *p = flags; *p && n < 16;) {
        while (*p == ' ') p++;
        const char *e = p;
        while (*e && *e != ' ') e++;
        size_t l = (size_t)(e - p);
        if (l && !(l == 10 && !memcmp(p, "incomplete", 10)) && !(l == 14 && !memcmp(p, "variable_flags", 14))) {
            w[n] = p;
            wl[n++] = l;
        }
        p = e;
    }
    resp_add_set(r, n);
    for (int i = 0; i < n; i++) resp_add_simple_len(r, w[i], wl[i]);
}

void cmd_command_getkeysandflags(cmd_ctx_t *ctx)
{
    const cmd_def_t *cmd;
    int *pos;
    int n = inner_keys(ctx, &cmd, &pos);
    if (n < 0) return;
    int argc = ctx->argc - 2;
    const uint8_t **argv = ctx->argv + 2;
    const size_t *argvlen = ctx->argvlen + 2;
    resp_add_array(ctx->reply, n);
    for (int i = 0; i < n; i++) {
        resp_add_array(ctx->reply, 2);
        resp_add_bulk(ctx->reply, argv[pos[i]], argvlen[pos[i]]);
        add_key_flags(ctx->reply, key_flags(cmd, argc, argv, argvlen, pos[i]));
    }
    free(pos);
}

/* ---- COMMAND LIST ---- */

static inline unsigned char fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

enum list_filter { LIST_ALL, LIST_ACLCAT, LIST_PATTERN, LIST_NONE };

/* Whether a space-separated category list holds `cat` (case-insensitive). */
static bool has_category(const char *cats, const uint8_t *cat, size_t len)
{
    for (const char *p = cats; p && *p;) {
        while (*p == ' ') p++;
        const char *e = p;
        while (*e && *e != ' ') e++;
        if ((size_t)(e - p) == len) {
            size_t k = 0;
            while (k < len && fold((unsigned char)p[k]) == fold(cat[k])) k++;
            if (k == len) return true;
        }
        p = e;
    }
    return false;
}

static bool list_accepts(const cmd_def_t *cmd, enum list_filter f, const uint8_t *arg, size_t len)
{
    if (f == LIST_ALL) return true;
    if (f == LIST_ACLCAT) return has_category(cmd->acl_categories, arg, len);
    if (f == LIST_PATTERN) {
        char name[160];
        size_t n = cmd_fullname(cmd, name, sizeof name);
        if (n >= sizeof name) n = sizeof name - 1;
        return glob_match((const char *)arg, len, name, n, 1) != 0;
    }
    return false;
}

/* Every command then its subcommands, each as its full name. Runs twice:
 * once to count (r == NULL), once to write. */
static int list_commands(resp_buf_t *r, enum list_filter f, const uint8_t *arg, size_t len)
{
    int n = 0;
    char name[160];
    for (int i = 0; i < cmd_count(); i++) {
        const cmd_def_t *top = cmd_at(i);
        for (const cmd_def_t *c = top; c && c->name; c = (c == top) ? top->subcommands : c + 1) {
            if (list_accepts(c, f, arg, len)) {
                n++;
                if (r) {
                    size_t l = cmd_fullname(c, name, sizeof name);
                    resp_add_bulk(r, name, l < sizeof name ? l : sizeof name - 1);
                }
            }
        }
    }
    return n;
}

/* COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN glob] */
void cmd_command_list(cmd_ctx_t *ctx)
{
    enum list_filter f;
    const uint8_t *arg = NULL;
    size_t len = 0;
    if (ctx->argc == 2) {
        f = LIST_ALL;
    } else if (ctx->argc == 5 && arg_is_at(ctx, 2, "filterby")) {
        arg = ctx->argv[4];
        len = ctx->argvlen[4];
        if (arg_is_at(ctx, 3, "module")) f = LIST_NONE;           /* we load no modules */
        else if (arg_is_at(ctx, 3, "aclcat")) f = LIST_ACLCAT;
        else if (arg_is_at(ctx, 3, "pattern")) f = LIST_PATTERN;
        else {
            resp_add_error(ctx->reply, "ERR syntax error");
            return;
        }
    } else {
        resp_add_error(ctx->reply, "ERR syntax error");
        return;
    }
    resp_add_array(ctx->reply, list_commands(NULL, f, arg, len));
    list_commands(ctx->reply, f, arg, len);
}

void cmd_command_help(cmd_ctx_t *ctx)
{
    static const char *const lines[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Describe every command (same as INFO without names).",
        "COUNT",
        "    Give the number of commands.",
        "LIST",
        "    Give the names of all commands and subcommands.",
        "INFO [<command-name> ...]",
        "    Describe the named commands (flags, key positions, key specs ...).",
        "    Without names, describe every command.",
        "DOCS [<command-name> ...]",
        "    Give the documentation of the named commands.",
        "    Without names, document every command.",
        "GETKEYS <full-command>",
        "    Tell which arguments of the given command line are keys.",
        "GETKEYSANDFLAGS <full-command>",
        "    Tell which arguments of the given command line are keys, with their access flags.",
        "HELP",
        "    Prints this help.",
    };
    arg_reply_help(ctx, lines, sizeof lines / sizeof lines[0]);
}

/* acl_check.c - may this user run this command with these arguments? As
 * 7.0.15's ACLCheckAllUserCommandPerm: each selector in turn, the first that
 * allows the whole call wins; when none does, the denial reported is the
 * "largest" (command < key < channel), and among equals the one at the
 * later argument. Runs on the worker for every command of a user without
 * +@all ~* &*; reads only the immutable user and the command table.
 */
#include <string.h>
#include <strings.h>
#include "actors/acl/acl_internal.h"
#include "proto/glob.h"

/* The key positions of a call with the access each needs (ACL_PERM_*). */
#define MAX_CHECKED_KEYS 256
typedef struct keyref { int pos; int perm; } keyref_t;

/* The permission a key spec asks for: read when it accesses the value,
 * write when it inserts, deletes or updates. */
static int spec_perm(const char *flags)
{
    int perm = 0;
    if (cmd_words_have(flags, "access")) perm |= ACL_PERM_READ;
    if (cmd_words_have(flags, "insert") || cmd_words_have(flags, "delete") || cmd_words_have(flags, "update")) perm |= ACL_PERM_WRITE;
    return perm;
}

/* Keys by the command's key specs (cmd_spec_keys), each with the access
 * its spec asks for; -1 when a spec cannot be followed. */
static int keys_from_specs(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen, keyref_t *out,
                           int max)
{
    int pos[MAX_CHECKED_KEYS], spec[MAX_CHECKED_KEYS];
    int n = cmd_spec_keys(cmd, argc, argv, argvlen, pos, spec, max < MAX_CHECKED_KEYS ? max : MAX_CHECKED_KEYS);
    for (int i = 0; i < n; i++) out[i] = (keyref_t){ pos[i], spec_perm(cmd->keyspecs[spec[i]].flags) };
    return n;
}

static bool arg_eq(const uint8_t *a, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp((const char *)a, w, n) == 0;
}

/* The two commands whose key access depends on their arguments, as
 * 7.0.15's setGetKeys and bitfieldGetKeys decide it. */
static int variable_perm(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen)
{
    if (!strcmp(cmd->name, "set")) {
        for (int i = 3; i < argc; i++)
            if (arg_eq(argv[i], argvlen[i], "get")) return ACL_PERM_ALL;
        return ACL_PERM_WRITE;
    }
    /* BITFIELD: read-only while only GET (and OVERFLOW) come */
    for (int i = 2; i < argc; i++) {
        int left = argc - i - 1;
        if (arg_eq(argv[i], argvlen[i], "get") && left >= 2) i += 2;
        else if (arg_eq(argv[i], argvlen[i], "overflow") && left >= 1) i += 1;
        else return ACL_PERM_ALL;
    }
    return ACL_PERM_READ;
}

static int call_keys(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen, keyref_t *out,
                     int max)
{
    bool varflags = false;
    for (int j = 0; j < cmd->keyspec_count; j++)
        if (cmd_words_have(cmd->keyspecs[j].flags, "variable_flags")) varflags = true;
    if (!varflags) {
        int n = keys_from_specs(cmd, argc, argv, argvlen, out, max);
        if (n >= 0) return n;
    } else if (max >= 1 && argc >= 2) {
        out[0] = (keyref_t){ 1, variable_perm(cmd, argc, argv, argvlen) };
        return 1;
    }
    /* The command's own finder (SORT's STORE, MIGRATE's KEYS): the first
     * spec's access for the key it names, the last spec's for the others. */
    int pos[MAX_CHECKED_KEYS];
    int n = cmd_get_keys(cmd, argc, argv, argvlen, pos, max < MAX_CHECKED_KEYS ? max : MAX_CHECKED_KEYS);
    int p0 = cmd->keyspec_count ? spec_perm(cmd->keyspecs[0].flags) : ACL_PERM_ALL;
    int pl = cmd->keyspec_count ? spec_perm(cmd->keyspecs[cmd->keyspec_count - 1].flags) : ACL_PERM_ALL;
    int first_index = cmd->keyspec_count && cmd->keyspecs[0].bs_type == CMD_KS_INDEX ? cmd->keyspecs[0].bs_index : -1;
    for (int i = 0; i < n; i++) out[i] = (keyref_t){ pos[i], pos[i] == first_index || n == 1 ? p0 : pl };
    return n;
}

static bool key_allowed(const acl_selector_t *s, const uint8_t *key, size_t len, int perm)
{
    for (int i = 0; i < s->nkeys; i++) {
        if ((s->keys[i].perm & perm) != perm) continue;
        if (glob_match(s->keys[i].s, s->keys[i].len, (const char *)key, len, 0)) return true;
    }
    return false;
}

static bool channel_allowed(const acl_selector_t *s, const uint8_t *ch, size_t len, bool is_pattern)
{
    for (int i = 0; i < s->nchannels; i++) {
        const acl_str_t *p = &s->channels[i];
        /* A pattern (PSUBSCRIBE) must be one of the user's patterns as
         * written; a channel is matched against them. */
        if (is_pattern ? (p->len == len && memcmp(p->s, ch, len) == 0)
                       : glob_match(p->s, p->len, (const char *)ch, len, 0))
            return true;
    }
    return false;
}

/* Which arguments of a top-level command are channels it subscribes or
 * publishes to (UNSUBSCRIBE's are not checked). */
static int channel_args(const cmd_def_t *cmd, int argc, int *first, int *last, bool *pattern)
{
    if (cmd->parent) return 0;
    const char *n = cmd->name;
    *pattern = false;
    *first = 1;
    if (!strcmp(n, "subscribe") || !strcmp(n, "ssubscribe")) {
        *last = argc - 1;
    } else if (!strcmp(n, "psubscribe")) {
        *last = argc - 1;
        *pattern = true;
    } else if (!strcmp(n, "publish") || !strcmp(n, "spublish")) {
        *last = 1;
    } else {
        return 0;
    }
    return *last >= *first;
}

static int check_selector(const acl_selector_t *s, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                          const size_t *argvlen, int *errpos)
{
    if (!(s->flags & ACL_SEL_ALLCOMMANDS) && !(cmd->flags & CMD_NO_AUTH) && !acl_selector_bit(s, cmd->acl_id)) {
        /* Allowed only with one of the first arguments it names ("+select|0"). */
        int idx = cmd->parent ? 2 : 1;
        bool ok = false;
        for (int i = 0; i < s->nfirstargs && argc > idx; i++)
            if (s->firstargs[i].id == cmd->acl_id && strlen(s->firstargs[i].arg) == argvlen[idx] &&
                strncasecmp(s->firstargs[i].arg, (const char *)argv[idx], argvlen[idx]) == 0)
                ok = true;
        if (!ok) return ACL_DENIED_CMD;
    }
    if (!(s->flags & ACL_SEL_ALLKEYS) && cmd_has_keys(cmd)) {
        keyref_t keys[MAX_CHECKED_KEYS];
        int n = call_keys(cmd, argc, argv, argvlen, keys, MAX_CHECKED_KEYS);
        for (int i = 0; i < n; i++)
            if (!key_allowed(s, argv[keys[i].pos], argvlen[keys[i].pos], keys[i].perm)) {
                *errpos = keys[i].pos;
                return ACL_DENIED_KEY;
            }
    }
    int first, last;
    bool pattern;
    if (!(s->flags & ACL_SEL_ALLCHANNELS) && channel_args(cmd, argc, &first, &last, &pattern)) {
        for (int i = first; i <= last; i++)
            if (!channel_allowed(s, argv[i], argvlen[i], pattern)) {
                *errpos = i;
                return ACL_DENIED_CHANNEL;
            }
    }
    return ACL_OK;
}

int acl_check(const acl_user_t *u, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
              int *errpos)
{
    int worst = ACL_DENIED_CMD, worst_pos = 0;
    for (int i = 0; i < u->nsel; i++) {
        int pos = 0;
        int rc = check_selector(&u->sel[i], cmd, argc, argv, argvlen, &pos);
        if (rc == ACL_OK) return ACL_OK;
        if (rc > worst || (rc == worst && pos > worst_pos)) {
            worst = rc;
            worst_pos = pos;
        }
    }
    *errpos = worst_pos;
    return worst;
}

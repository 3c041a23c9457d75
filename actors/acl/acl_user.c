/* acl_user.c - one user and its selectors, and the rules that change them
 * (the words of ACL SETUSER, of `user` lines and of the ACL file), with
 * 7.0.15's meaning and refusals.
 *
 * Everything here works on users that are not published yet: a change copies
 * the user, applies the rules to the copy and publishes a new snapshot
 * (acl_snap.c). Never touches a published user.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include "actors/acl/acl_internal.h"
#include "proto/splitargs.h"
#include "runtime/xmalloc.h"


const char *acl_rule_error_text(int code)
{
    switch (code) {
    case ACL_RULE_ENOENT: return "Unknown command or category name in ACL";
    case ACL_RULE_EINVAL: return "Syntax error";
    case ACL_RULE_EEXIST:
        return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any "
               "effect. Try 'resetkeys' to start with an empty list of patterns";
    case ACL_RULE_EISDIR:
        return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any "
               "effect. Try 'resetchannels' to start with an empty list of channels";
    case ACL_RULE_ENODEV: return "The password you are trying to remove from the user does not exist";
    case ACL_RULE_EBADMSG:
        return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";
    case ACL_RULE_EALREADY: return "Duplicate user found. A user can only be defined once in config files";
    case ACL_RULE_ECHILD: return "Allowing first-arg of a subcommand is not supported";
    default: return "Wrong format";
    }
}

void acl_sha256_hex(const uint8_t *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";
    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) abort();
    for (int i = 0; i < 32; i++) {
        out[i * 2] = hex[md[i] >> 4];
        out[i * 2 + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

bool acl_has_spaces(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (isspace((unsigned char)s[i]) || s[i] == 0) return true;
    return false;
}

/* ---- selectors ---- */

void acl_selector_init(acl_selector_t *s, uint32_t flags)
{
    memset(s, 0, sizeof *s);
    s->flags = flags | acl_pubsub_default();
}

static void reset_firstargs(acl_selector_t *s, int id)
{
    int k = 0;
    for (int i = 0; i < s->nfirstargs; i++) {
        if (id < 0 || s->firstargs[i].id == id) free(s->firstargs[i].arg);
        else s->firstargs[k++] = s->firstargs[i];
    }
    s->nfirstargs = k;
    if (k == 0) { free(s->firstargs); s->firstargs = NULL; }
}

static void clear_keys(acl_selector_t *s)
{
    for (int i = 0; i < s->nkeys; i++) free(s->keys[i].s);
    free(s->keys);
    s->keys = NULL;
    s->nkeys = 0;
}

static void clear_channels(acl_selector_t *s)
{
    for (int i = 0; i < s->nchannels; i++) free(s->channels[i].s);
    free(s->channels);
    s->channels = NULL;
    s->nchannels = 0;
}

void acl_selector_free(acl_selector_t *s)
{
    clear_keys(s);
    clear_channels(s);
    reset_firstargs(s, -1);
}

void acl_selector_copy(acl_selector_t *dst, const acl_selector_t *src)
{
    *dst = *src;
    dst->keys = src->nkeys ? xmalloc(sizeof *dst->keys * (size_t)src->nkeys) : NULL;
    for (int i = 0; i < src->nkeys; i++) {
        dst->keys[i] = src->keys[i];
        dst->keys[i].s = xmemdup(src->keys[i].s, src->keys[i].len);
    }
    dst->channels = src->nchannels ? xmalloc(sizeof *dst->channels * (size_t)src->nchannels) : NULL;
    for (int i = 0; i < src->nchannels; i++) {
        dst->channels[i].len = src->channels[i].len;
        dst->channels[i].s = xmemdup(src->channels[i].s, src->channels[i].len);
    }
    dst->firstargs = src->nfirstargs ? xmalloc(sizeof *dst->firstargs * (size_t)src->nfirstargs) : NULL;
    for (int i = 0; i < src->nfirstargs; i++) {
        dst->firstargs[i].id = src->firstargs[i].id;
        dst->firstargs[i].arg = xmemdup(src->firstargs[i].arg, strlen(src->firstargs[i].arg));
    }
}

bool acl_selector_bit(const acl_selector_t *s, int id)
{
    if (id < 0 || id >= ACL_CMD_BITS) return false;
    return (s->allowed[id / 64] >> (id % 64)) & 1;
}

static void set_bit(acl_selector_t *s, int id, bool on)
{
    if (id < 0 || id >= ACL_CMD_BITS) return;
    if (on) {
        s->allowed[id / 64] |= 1ull << (id % 64);
    } else {
        s->allowed[id / 64] &= ~(1ull << (id % 64));
        s->flags &= ~(uint32_t)ACL_SEL_ALLCOMMANDS;   /* no longer every command */
    }
}

/* A command and, for a container, all its subcommands. */
static void change_perm(acl_selector_t *s, const cmd_def_t *cmd, bool allow)
{
    set_bit(s, cmd->acl_id, allow);
    reset_firstargs(s, cmd->acl_id);
    if (!cmd->subcommands) return;
    for (int id = 0; id < acl_cmd_count(); id++)
        if (acl_cmd_at(id)->parent == cmd) set_bit(s, id, allow);
}

static void add_firstarg(acl_selector_t *s, int id, const char *arg, size_t len)
{
    for (int i = 0; i < s->nfirstargs; i++)
        if (s->firstargs[i].id == id && strlen(s->firstargs[i].arg) == len &&
            strncasecmp(s->firstargs[i].arg, arg, len) == 0)
            return;
    s->firstargs = xrealloc(s->firstargs, sizeof *s->firstargs * (size_t)(s->nfirstargs + 1));
    s->firstargs[s->nfirstargs].id = id;
    s->firstargs[s->nfirstargs].arg = xmemdup(arg, len);
    s->nfirstargs++;
}

/* "get" or "config|get" as 7.0.15's command lookup for ACL rules reads it:
 * one level of subcommand at most, and "get|x" names nothing. */
static const cmd_def_t *lookup_rule_cmd(const char *name, size_t len)
{
    const char *bar = memchr(name, '|', len);
    if (!bar) return cmd_lookup((const uint8_t *)name, len);
    const char *rest = bar + 1;
    size_t restlen = len - (size_t)(rest - name);
    if (memchr(rest, '|', restlen)) return NULL;
    const cmd_def_t *base = cmd_lookup((const uint8_t *)name, (size_t)(bar - name));
    if (!base || !base->subcommands) return NULL;
    return cmd_lookup_sub(base, (const uint8_t *)rest, restlen);
}

static int apply_category(acl_selector_t *s, const char *name, size_t len, bool allow)
{
    uint32_t bit = acl_category_bit((const uint8_t *)name, len);
    if (!bit) return ACL_RULE_ENOENT;
    for (int id = 0; id < acl_cmd_count(); id++)
        if (acl_cmd_categories(id) & bit) change_perm(s, acl_cmd_at(id), allow);
    return ACL_RULE_OK;
}

static int allow_command_rule(acl_selector_t *s, const char *op, size_t oplen)
{
    const char *name = op + 1;
    size_t len = oplen - 1;
    const char *bar = NULL;
    for (size_t i = len; i > 0; i--)
        if (name[i - 1] == '|') { bar = name + i - 1; break; }
    if (!bar) {
        const cmd_def_t *cmd = lookup_rule_cmd(name, len);
        if (!cmd) return ACL_RULE_ENOENT;
        change_perm(s, cmd, true);
        return ACL_RULE_OK;
    }
    const cmd_def_t *cmd = lookup_rule_cmd(name, (size_t)(bar - name));
    if (!cmd) return ACL_RULE_ENOENT;
    if (cmd->parent) return ACL_RULE_ECHILD;
    const char *sub = bar + 1;
    size_t sublen = len - (size_t)(sub - name);
    if (sublen == 0) return ACL_RULE_EINVAL;
    if (cmd->subcommands) {
        const cmd_def_t *sc = lookup_rule_cmd(name, len);
        if (!sc) return ACL_RULE_ENOENT;
        change_perm(s, sc, true);
    } else {
        add_firstarg(s, cmd->acl_id, sub, sublen);
    }
    return ACL_RULE_OK;
}

static int add_key_pattern(acl_selector_t *s, const char *op, size_t oplen)
{
    if (s->flags & ACL_SEL_ALLKEYS) return ACL_RULE_EEXIST;
    int perm = 0;
    size_t off = 1;
    if (op[0] == '%') {
        for (; off < oplen; off++) {
            char c = (char)toupper((unsigned char)op[off]);
            if (c == 'R' && !(perm & ACL_PERM_READ)) perm |= ACL_PERM_READ;
            else if (c == 'W' && !(perm & ACL_PERM_WRITE)) perm |= ACL_PERM_WRITE;
            else if (op[off] == '~') { off++; break; }
            else return ACL_RULE_EINVAL;
        }
        if (perm == 0) return ACL_RULE_EINVAL;   /* "%~x": 7.0.15 would accept it and later abort */
    } else {
        perm = ACL_PERM_ALL;
    }
    if (acl_has_spaces(op + off, oplen - off)) return ACL_RULE_EINVAL;
    for (int i = 0; i < s->nkeys; i++)
        if (s->keys[i].len == oplen - off && memcmp(s->keys[i].s, op + off, oplen - off) == 0) {
            s->keys[i].perm |= perm;
            return ACL_RULE_OK;
        }
    s->keys = xrealloc(s->keys, sizeof *s->keys * (size_t)(s->nkeys + 1));
    s->keys[s->nkeys].s = xmemdup(op + off, oplen - off);
    s->keys[s->nkeys].len = oplen - off;
    s->keys[s->nkeys].perm = perm;
    s->nkeys++;
    return ACL_RULE_OK;
}

static int add_channel_pattern(acl_selector_t *s, const char *op, size_t oplen)
{
    if (s->flags & ACL_SEL_ALLCHANNELS) return ACL_RULE_EISDIR;
    if (acl_has_spaces(op + 1, oplen - 1)) return ACL_RULE_EINVAL;
    for (int i = 0; i < s->nchannels; i++)
        if (s->channels[i].len == oplen - 1 && memcmp(s->channels[i].s, op + 1, oplen - 1) == 0)
            return ACL_RULE_OK;
    s->channels = xrealloc(s->channels, sizeof *s->channels * (size_t)(s->nchannels + 1));
    s->channels[s->nchannels].s = xmemdup(op + 1, oplen - 1);
    s->channels[s->nchannels].len = oplen - 1;
    s->nchannels++;
    return ACL_RULE_OK;
}

static bool word_is(const char *op, size_t oplen, const char *w)
{
    return strlen(w) == oplen && strncasecmp(op, w, oplen) == 0;
}

int acl_selector_apply(acl_selector_t *s, const char *op, size_t oplen)
{
    if (word_is(op, oplen, "allkeys") || word_is(op, oplen, "~*")) {
        s->flags |= ACL_SEL_ALLKEYS;
        clear_keys(s);
    } else if (word_is(op, oplen, "resetkeys")) {
        s->flags &= ~(uint32_t)ACL_SEL_ALLKEYS;
        clear_keys(s);
    } else if (word_is(op, oplen, "allchannels") || word_is(op, oplen, "&*")) {
        s->flags |= ACL_SEL_ALLCHANNELS;
        clear_channels(s);
    } else if (word_is(op, oplen, "resetchannels")) {
        s->flags &= ~(uint32_t)ACL_SEL_ALLCHANNELS;
        clear_channels(s);
    } else if (word_is(op, oplen, "allcommands") || word_is(op, oplen, "+@all")) {
        memset(s->allowed, 0xff, sizeof s->allowed);
        s->flags |= ACL_SEL_ALLCOMMANDS;
        reset_firstargs(s, -1);
    } else if (word_is(op, oplen, "nocommands") || word_is(op, oplen, "-@all")) {
        memset(s->allowed, 0, sizeof s->allowed);
        s->flags &= ~(uint32_t)ACL_SEL_ALLCOMMANDS;
        reset_firstargs(s, -1);
    } else if (op[0] == '~' || op[0] == '%') {
        return add_key_pattern(s, op, oplen);
    } else if (op[0] == '&') {
        return add_channel_pattern(s, op, oplen);
    } else if (op[0] == '+' && (oplen < 2 || op[1] != '@')) {
        return allow_command_rule(s, op, oplen);
    } else if (op[0] == '-' && (oplen < 2 || op[1] != '@')) {
        const cmd_def_t *cmd = lookup_rule_cmd(op + 1, oplen - 1);
        if (!cmd) return ACL_RULE_ENOENT;
        change_perm(s, cmd, false);
    } else if ((op[0] == '+' || op[0] == '-') && op[1] == '@') {
        return apply_category(s, op + 2, oplen - 2, op[0] == '+');
    } else {
        return ACL_RULE_EINVAL;
    }
    return ACL_RULE_OK;
}

/* ---- users ---- */

acl_user_t *acl_user_new(const char *name, size_t len, uint64_t uid)
{
    acl_user_t *u = xmalloc(sizeof *u);
    memset(u, 0, sizeof *u);
    u->name = xmemdup(name, len);
    u->namelen = len;
    u->uid = uid;
    u->flags = ACL_USER_OFF;
    u->sel = xmalloc(sizeof *u->sel);
    u->nsel = 1;
    acl_selector_init(&u->sel[0], ACL_SEL_ROOT);
    return u;
}

static void free_rules(acl_user_t *u)
{
    free(u->passwords);
    for (int i = 0; i < u->nsel; i++) acl_selector_free(&u->sel[i]);
    free(u->sel);
}

void acl_user_free(acl_user_t *u)
{
    if (!u) return;
    free_rules(u);
    free(u->name);
    free(u);
}

void acl_user_copy_rules(acl_user_t *dst, const acl_user_t *src)
{
    free_rules(dst);
    dst->flags = src->flags;
    dst->npasswords = src->npasswords;
    dst->passwords = xmalloc(sizeof *dst->passwords * (size_t)(src->npasswords ? src->npasswords : 1));
    if (src->npasswords)   /* a user without passwords has none to copy (and may have no array) */
        memcpy(dst->passwords, src->passwords, sizeof *dst->passwords * (size_t)src->npasswords);
    dst->nsel = src->nsel;
    dst->sel = xmalloc(sizeof *dst->sel * (size_t)src->nsel);
    for (int i = 0; i < src->nsel; i++) acl_selector_copy(&dst->sel[i], &src->sel[i]);
}

acl_user_t *acl_user_dup(const acl_user_t *u)
{
    acl_user_t *d = acl_user_new(u->name, u->namelen, u->uid);
    acl_user_copy_rules(d, u);
    return d;
}

static bool valid_hash(const char *h, size_t len)
{
    if (len != 64) return false;
    for (size_t i = 0; i < len; i++)
        if (!((h[i] >= 'a' && h[i] <= 'f') || (h[i] >= '0' && h[i] <= '9'))) return false;
    return true;
}

static int find_password(const acl_user_t *u, const char *hash)
{
    for (int i = 0; i < u->npasswords; i++)
        if (memcmp(u->passwords[i], hash, 64) == 0) return i;
    return -1;
}

static int password_rule(acl_user_t *u, const char *op, size_t oplen)
{
    char hash[65];
    if (op[0] == '>' || op[0] == '<') {
        acl_sha256_hex((const uint8_t *)op + 1, oplen - 1, hash);
    } else {
        if (!valid_hash(op + 1, oplen - 1)) return ACL_RULE_EBADMSG;
        memcpy(hash, op + 1, 64);
        hash[64] = '\0';
    }
    int at = find_password(u, hash);
    if (op[0] == '<' || op[0] == '!') {
        if (at < 0) return ACL_RULE_ENODEV;
        memmove(&u->passwords[at], &u->passwords[at + 1], sizeof *u->passwords * (size_t)(u->npasswords - at - 1));
        u->npasswords--;
        return ACL_RULE_OK;
    }
    if (at < 0) {
        u->passwords = xrealloc(u->passwords, sizeof *u->passwords * (size_t)(u->npasswords + 1));
        memcpy(u->passwords[u->npasswords++], hash, 65);
    }
    u->flags &= ~(uint32_t)ACL_USER_NOPASS;
    return ACL_RULE_OK;
}

struct sel_build { acl_selector_t *s; int err; };

static void selector_word(void *arg, const char *word, size_t len)
{
    struct sel_build *b = arg;
    if (b->err == ACL_RULE_OK) b->err = acl_selector_apply(b->s, word, len);
}

/* "(+get ~k)": a new selector from the words inside the parentheses, split
 * with Redis's quoting (unbalanced quotes leave it empty, as 7.0.15). */
static int add_selector(acl_user_t *u, const char *op, size_t oplen)
{
    acl_selector_t s;
    acl_selector_init(&s, 0);
    char *out = xmalloc(oplen);
    struct sel_build b = { &s, ACL_RULE_OK };
    bool ok = splitargs((const uint8_t *)op + 1, oplen - 2, out, selector_word, &b);
    free(out);
    if (!ok) {   /* the words already applied count for nothing */
        acl_selector_free(&s);
        acl_selector_init(&s, 0);
    } else if (b.err != ACL_RULE_OK) {
        acl_selector_free(&s);
        return b.err;
    }
    u->sel = xrealloc(u->sel, sizeof *u->sel * (size_t)(u->nsel + 1));
    u->sel[u->nsel++] = s;
    return ACL_RULE_OK;
}

static void clear_selectors(acl_user_t *u)
{
    for (int i = 1; i < u->nsel; i++) acl_selector_free(&u->sel[i]);
    u->nsel = 1;
}

int acl_user_apply(acl_user_t *u, const char *op, size_t oplen)
{
    if (oplen == 0) return ACL_RULE_OK;
    if (word_is(op, oplen, "on")) {
        u->flags = (u->flags | ACL_USER_ON) & ~(uint32_t)ACL_USER_OFF;
    } else if (word_is(op, oplen, "off")) {
        u->flags = (u->flags | ACL_USER_OFF) & ~(uint32_t)ACL_USER_ON;
    } else if (word_is(op, oplen, "skip-sanitize-payload")) {
        u->flags = (u->flags | ACL_USER_SKIP_SANITIZE) & ~(uint32_t)ACL_USER_SANITIZE;
    } else if (word_is(op, oplen, "sanitize-payload")) {
        u->flags = (u->flags | ACL_USER_SANITIZE) & ~(uint32_t)ACL_USER_SKIP_SANITIZE;
    } else if (word_is(op, oplen, "nopass")) {
        u->flags |= ACL_USER_NOPASS;
        u->npasswords = 0;
    } else if (word_is(op, oplen, "resetpass")) {
        u->flags &= ~(uint32_t)ACL_USER_NOPASS;
        u->npasswords = 0;
    } else if (op[0] == '>' || op[0] == '#' || op[0] == '<' || op[0] == '!') {
        return password_rule(u, op, oplen);
    } else if (op[0] == '(' && op[oplen - 1] == ')' && oplen >= 2) {
        return add_selector(u, op, oplen);
    } else if (word_is(op, oplen, "clearselectors")) {
        clear_selectors(u);
    } else if (word_is(op, oplen, "reset")) {
        u->flags &= ~(uint32_t)ACL_USER_NOPASS;
        u->npasswords = 0;
        acl_selector_apply(&u->sel[0], "resetkeys", 9);
        acl_selector_apply(&u->sel[0], "resetchannels", 13);
        if (acl_pubsub_default() & ACL_SEL_ALLCHANNELS) acl_selector_apply(&u->sel[0], "allchannels", 11);
        u->flags = (u->flags | ACL_USER_OFF) & ~(uint32_t)ACL_USER_ON;
        u->flags = (u->flags | ACL_USER_SANITIZE) & ~(uint32_t)ACL_USER_SKIP_SANITIZE;
        clear_selectors(u);
        acl_selector_apply(&u->sel[0], "-@all", 5);
    } else {
        return acl_selector_apply(&u->sel[0], op, oplen);
    }
    return ACL_RULE_OK;
}

void acl_strs_free(acl_str_t *v, int n)
{
    for (int i = 0; i < n; i++) free(v[i].s);
    free(v);
}

acl_str_t *acl_merge_selector_args(int argc, const uint8_t **argv, const size_t *argvlen, int *n, int *bad)
{
    acl_str_t *out = xmalloc(sizeof *out * (size_t)(argc ? argc : 1));
    *n = 0;
    int open_at = -1;
    char *sel = NULL;
    size_t sellen = 0;
    for (int j = 0; j < argc; j++) {
        const char *op = (const char *)argv[j];
        size_t len = argvlen[j];
        if (len > 0 && op[0] == '(' && op[len - 1] != ')') {
            free(sel);
            sel = xmemdup(op, len);
            sellen = len;
            open_at = j;
            continue;
        }
        if (open_at != -1) {
            sel = xrealloc(sel, sellen + 1 + len + 1);
            sel[sellen++] = ' ';
            memcpy(sel + sellen, op, len);
            sellen += len;
            sel[sellen] = '\0';
            if (len > 0 && op[len - 1] == ')') {
                open_at = -1;
                out[*n].s = sel;
                out[*n].len = sellen;
                (*n)++;
                sel = NULL;
            }
            continue;
        }
        out[*n].s = xmemdup(op, len);
        out[*n].len = len;
        (*n)++;
    }
    if (open_at != -1) {
        acl_strs_free(out, *n);
        free(sel);
        if (bad) *bad = open_at;
        return NULL;
    }
    return out;
}

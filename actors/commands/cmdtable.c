/* cmdtable.c - lookup, key positions and COMMAND INFO / COMMAND DOCS replies
 * over the command table.
 *
 * The entries themselves live in actors/cmdtable_<group>.c (data only). This
 * file indexes them once at startup (cmd_table_init) into a small
 * open-addressing hash keyed by (parent, lower-cased name), so that a lookup
 * on the hot path is one hash of the command name and usually one compare.
 * After init everything here is read-only and safe to call from any thread;
 * init itself must run once, before any worker starts, and is never repeated
 * concurrently. Nothing here executes a command or touches a keyspace.
 */
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/cmd.h"
#include "actors/commands/commands.h"
#include "proto/strnum.h"

/* Top-level groups in the order COMMAND, COMMAND LIST and cmd_at present them. */
static cmd_def_t *const table_groups[] = { cmdtable_server, cmdtable_string, cmdtable_bits, cmdtable_keyspace,
                                           cmdtable_cluster, cmdtable_list, cmdtable_hash,
                                           cmdtable_set, cmdtable_zset, cmdtable_geo, cmdtable_object, cmdtable_pubsub,
                                           cmdtable_script, cmdtable_ops, cmdtable_function, cmdtable_acl,
                                           cmdtable_stream };
#define GROUP_COUNT ((int)(sizeof table_groups / sizeof table_groups[0]))

/* More than twice the number of commands plus subcommands (about 130), so
 * probe chains stay short; a power of two so the hash is masked, not divided. */
#define INDEX_SLOTS 512
#define MAX_TOP_LEVEL 256
/* Longer than any command or subcommand name; longer inputs cannot match. */
#define MAX_NAME_LEN 64

static const cmd_def_t *index_slots[INDEX_SLOTS];
static const cmd_def_t *top_level[MAX_TOP_LEVEL];
static int top_level_count;
#define MAX_ALL 1000              /* below acl.h's ACL_CMD_BITS - 1 */
static const cmd_def_t *all_entries[MAX_ALL];
static int all_count;
static int listed_count;          /* the entries before CLUSTER's unlisted ones */

/* Gives c the next ACL id (written once, before any reader, as parent is). */
static void number_entry(cmd_def_t *c)
{
    if (all_count >= MAX_ALL) { c->acl_id = MAX_ALL; return; }
    c->acl_id = all_count;
    all_entries[all_count++] = c;
}

int cmd_all_count(void) { return all_count; }
bool cmd_all_listed(int acl_id) { return acl_id >= 0 && acl_id < listed_count; }
const cmd_def_t *cmd_all_at(int acl_id) { return acl_id >= 0 && acl_id < all_count ? all_entries[acl_id] : NULL; }
static bool initialized;

static inline unsigned char lower_ascii(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* FNV-1a over the lower-cased name, mixed with the parent's address so that
 * "info" and "cluster|info" land in different places. */
static uint32_t name_hash(const cmd_def_t *parent, const uint8_t *name, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= lower_ascii(name[i]);
        h *= 16777619u;
    }
    uintptr_t p = (uintptr_t)parent;
    h ^= (uint32_t)(p >> 4) ^ (uint32_t)((uint64_t)p >> 32);
    h *= 16777619u;
    return h;
}

/* Table names are stored lower case, so only the input needs folding. */
static bool name_equals(const char *table_name, const uint8_t *name, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (table_name[i] == '\0' || (unsigned char)table_name[i] != lower_ascii(name[i])) return false;
    return table_name[len] == '\0';
}

/* The flags only COMMAND INFO's words carry (skip_monitor, skip_slowlog,
 * no_async_loading) as bits, so the command path tests a bit, not a string. */
static void derive_flags(cmd_def_t *c)
{
    const char *f = c->flag_names ? c->flag_names : "";
    if (strstr(f, "skip_monitor")) c->flags |= CMD_SKIP_MONITOR;
    if (strstr(f, "skip_slowlog")) c->flags |= CMD_SKIP_SLOWLOG;
    if (strstr(f, "no_async_loading")) c->flags |= CMD_NO_ASYNC_LOADING;
}

static void index_insert(const cmd_def_t *cmd)
{
    size_t len = strlen(cmd->name);
    uint32_t h = name_hash(cmd->parent, (const uint8_t *)cmd->name, len);
    for (uint32_t i = 0; i < INDEX_SLOTS; i++) {
        uint32_t slot = (h + i) & (INDEX_SLOTS - 1);
        if (!index_slots[slot]) { index_slots[slot] = cmd; return; }
    }
}

static const cmd_def_t *index_find(const cmd_def_t *parent, const uint8_t *name, size_t len)
{
    if (!initialized || len == 0 || len > MAX_NAME_LEN) return NULL;
    uint32_t h = name_hash(parent, name, len);
    for (uint32_t i = 0; i < INDEX_SLOTS; i++) {
        const cmd_def_t *c = index_slots[(h + i) & (INDEX_SLOTS - 1)];
        if (!c) return NULL;
        if (c->parent == parent && name_equals(c->name, name, len)) return c;
    }
    return NULL;
}

void cmd_table_init(void)
{
    if (initialized) return;
    for (int g = 0; g < GROUP_COUNT; g++) {
        for (cmd_def_t *c = table_groups[g]; c->name; c++) {
            if (top_level_count < MAX_TOP_LEVEL) top_level[top_level_count++] = c;
            c->parent = NULL;
            derive_flags(c);
            index_insert(c);
            number_entry(c);
            if (!c->subcommands) continue;
            /* The subcommand arrays are defined without const (static
             * cmd_def_t[] in cmdtable_<group>.c), so writing the parent
             * pointer through this cast is well defined; it happens only here,
             * before any reader exists. */
            for (cmd_def_t *s = (cmd_def_t *)c->subcommands; s->name; s++) {
                s->parent = c;
                derive_flags(s);
                index_insert(s);
                number_entry(s);
            }
        }
    }
    initialized = true;
    listed_count = all_count;
    /* Subcommands 7.0.15 has not: found by name, listed nowhere. */
    const cmd_def_t *cluster = index_find(NULL, (const uint8_t *)"cluster", 7);
    for (cmd_def_t *s = cmdtable_cluster_unlisted; cluster && s->name; s++) {
        s->parent = cluster;
        derive_flags(s);
        index_insert(s);
        number_entry(s);
    }
}

const cmd_def_t *cmd_lookup(const uint8_t *name, size_t len)
{
    return index_find(NULL, name, len);
}

const cmd_def_t *cmd_lookup_sub(const cmd_def_t *parent, const uint8_t *name, size_t len)
{
    if (!parent || !parent->subcommands) return NULL;
    return index_find(parent, name, len);
}

const cmd_def_t *cmd_lookup_fullname(const uint8_t *name, size_t len)
{
    const uint8_t *bar = memchr(name, '|', len);
    if (!bar) return cmd_lookup(name, len);
    const cmd_def_t *parent = cmd_lookup(name, (size_t)(bar - name));
    size_t rest = len - (size_t)(bar - name) - 1;
    /* "a|b|c": only one level of subcommands exists, as in Redis 7.0. */
    if (memchr(bar + 1, '|', rest)) return NULL;
    return cmd_lookup_sub(parent, bar + 1, rest);
}

int cmd_count(void)
{
    return top_level_count;
}

const cmd_def_t *cmd_at(int i)
{
    return (i >= 0 && i < top_level_count) ? top_level[i] : NULL;
}

size_t cmd_fullname(const cmd_def_t *cmd, char *buf, size_t cap)
{
    size_t plen = cmd->parent ? strlen(cmd->parent->name) + 1 : 0;
    size_t nlen = strlen(cmd->name);
    size_t total = plen + nlen;
    if (cap == 0) return total;
    size_t w = 0;
    if (cmd->parent) {
        for (const char *p = cmd->parent->name; *p && w + 1 < cap; p++) buf[w++] = *p;
        if (w + 1 < cap) buf[w++] = '|';
    }
    for (const char *p = cmd->name; *p && w + 1 < cap; p++) buf[w++] = *p;
    buf[w] = '\0';
    return total;
}

bool cmd_words_have(const char *words, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = words; p && *p;) {
        while (*p == ' ') p++;
        const char *e = p;
        while (*e && *e != ' ') e++;
        if ((size_t)(e - p) == wl && memcmp(p, word, wl) == 0) return true;
        p = e;
    }
    return false;
}

bool cmd_has_keys(const cmd_def_t *cmd)
{
    if (!cmd) return false;
    for (int i = 0; i < cmd->keyspec_count; i++)
        if (!cmd_words_have(cmd->keyspecs[i].flags, "not_key")) return true;
    return false;
}

int cmd_group_args(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                   const uint8_t *owner, int part, const uint8_t **sub, size_t *sublen)
{
    int step = cmd->key_step;
    int n = 1;
    sub[0] = argv[0];
    sublen[0] = argvlen[0];
    for (int k = 0; 1 + k * step < argc; k++) {
        if (owner[k] != part) continue;
        for (int j = 0; j < step; j++) {
            sub[n] = argv[1 + k * step + j];
            sublen[n++] = argvlen[1 + k * step + j];
        }
    }
    return n;
}

/* Keys of a command whose key count is an argument (LMPOP numkeys key ...):
 * read from its keynum key spec. A count that is not a positive number or
 * runs past argc gives no keys (the handler then reports the error), as
 * Redis's key extraction does. */
static int movable_keys(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                        int *positions, int max)
{
    /* The specs in order: a single-key index spec (ZUNIONSTORE's
     * destination) before the keynum spec's keys, as 7.0.15 lists them. */
    int n = 0;
    for (int k = 0; k < cmd->keyspec_count; k++) {
        const cmd_keyspec_t *ks = &cmd->keyspecs[k];
        if (ks->bs_type == CMD_KS_INDEX && ks->fk_type == CMD_KS_RANGE && ks->fk_a == 0) {
            if (ks->bs_index < argc && n < max) positions[n++] = ks->bs_index;
            continue;
        }
        if (ks->bs_type != CMD_KS_INDEX || ks->fk_type != CMD_KS_KEYNUM) continue;
        int numi = ks->bs_index + ks->fk_a;
        if (numi >= argc || !argv) return 0;
        long long numkeys;
        if (!str_to_ll(argv[numi], argvlen[numi], &numkeys) || numkeys <= 0) return 0;
        int first = ks->bs_index + ks->fk_b, step = ks->fk_c > 0 ? ks->fk_c : 1;
        if (numkeys > (argc - first + step - 1) / step) return 0;
        for (long long i = 0; i < numkeys && n < max; i++) positions[n++] = first + (int)i * step;
        return n;
    }
    return 0;
}

int cmd_get_keys(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                 int *positions, int max)
{
    if (cmd && cmd->getkeys) return cmd->getkeys(argc, argv, argvlen, positions, max);
    if (cmd && (cmd->flags & CMD_MOVABLE_KEYS)) return movable_keys(cmd, argc, argv, argvlen, positions, max);
    if (!cmd || cmd->first_key <= 0 || argc <= 0) return 0;
    int last = cmd->last_key;
    if (last < 0) last += argc;          /* -1 is the last argument, -2 the one before ... */
    int step = cmd->key_step > 0 ? cmd->key_step : 1;
    int n = 0;
    /* i < argc: a short call (possible with negative arity, e.g. MSET a b c)
     * yields the keys that are present, as Redis does, and never more. */
    for (int i = cmd->first_key; i <= last && i < argc && n < max; i += step) positions[n++] = i;
    return n;
}

int cmd_spec_keys(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen, int *positions,
                  int *specs, int max)
{
    int n = 0;
    for (int j = 0; j < cmd->keyspec_count; j++) {
        const cmd_keyspec_t *ks = &cmd->keyspecs[j];
        if (cmd_words_have(ks->flags, "not_key")) continue;
        int first = 0, last, step;
        if (ks->bs_type == CMD_KS_INDEX) {
            first = ks->bs_index;
        } else if (ks->bs_type == CMD_KS_KEYWORD) {
            /* from its start towards the far end, which is not looked at */
            int start = ks->bs_index > 0 ? ks->bs_index : argc + ks->bs_index;
            int end = ks->bs_index > 0 ? argc - 1 : 1;
            for (int i = start; i != end && i >= 1 && i < argc; i = start <= end ? i + 1 : i - 1)
                if (arg_is(argv[i], argvlen[i], ks->bs_keyword)) {
                    first = i + 1;
                    break;
                }
            if (!first) continue;             /* no such keyword: no key of this spec */
        } else {
            return -1;
        }
        if (ks->fk_type == CMD_KS_RANGE) {
            step = ks->fk_b;
            if (ks->fk_a >= 0) last = first + ks->fk_a;
            else if (!ks->fk_c) last = argc + ks->fk_a;
            else last = first + ((argc - first) / ks->fk_c + ks->fk_a);
        } else if (ks->fk_type == CMD_KS_KEYNUM) {
            step = ks->fk_c;
            long long numkeys;
            if (ks->fk_a >= argc || first + ks->fk_a >= argc) return -1;
            if (!str_to_ll(argv[first + ks->fk_a], argvlen[first + ks->fk_a], &numkeys) || numkeys < 0) return -1;
            first += ks->fk_b;
            last = first + (int)numkeys - 1;
        } else {
            return -1;
        }
        if (last >= argc || last < first || first >= argc) {
            if (last < first && ks->fk_type == CMD_KS_KEYNUM) continue;   /* numkeys 0 */
            return -1;
        }
        if (step <= 0) step = 1;
        for (int i = first; i <= last && n < max; i += step) {
            positions[n] = i;
            if (specs) specs[n] = j;
            n++;
        }
        if (cmd_words_have(ks->flags, "incomplete")) return -1;
    }
    return n;
}

/* ---- COMMAND INFO ---- */

static int count_words(const char *words)
{
    int n = 0;
    for (const char *p = words; p && *p;) {
        while (*p == ' ') p++;
        if (!*p) break;
        n++;
        while (*p && *p != ' ') p++;
    }
    return n;
}

/* Emits each word of a space-separated list, as a simple string (status)
 * with an optional prefix, or as a bulk string. */
static void add_words(resp_buf_t *r, const char *words, const char *prefix, bool bulk)
{
    char tmp[96];
    size_t plen = prefix ? strlen(prefix) : 0;
    for (const char *p = words; p && *p;) {
        while (*p == ' ') p++;
        const char *e = p;
        while (*e && *e != ' ') e++;
        size_t wl = (size_t)(e - p);
        if (wl) {
            if (plen + wl > sizeof tmp) wl = sizeof tmp - plen;   /* table words are short; never hit */
            if (plen) memcpy(tmp, prefix, plen);
            memcpy(tmp + plen, p, wl);
            if (bulk) resp_add_bulk(r, tmp, plen + wl);
            else resp_add_simple_len(r, tmp, plen + wl);
        }
        p = e;
    }
}

static void add_word_set(resp_buf_t *r, const char *words, const char *prefix, bool bulk)
{
    resp_add_set(r, count_words(words));
    add_words(r, words, prefix, bulk);
}

static void add_keyspec(resp_buf_t *r, const cmd_keyspec_t *ks)
{
    resp_add_map(r, ks->notes ? 4 : 3);
    if (ks->notes) {
        resp_add_bulk_str(r, "notes");
        resp_add_bulk_str(r, ks->notes);
    }
    resp_add_bulk_str(r, "flags");
    add_word_set(r, ks->flags, NULL, false);

    resp_add_bulk_str(r, "begin_search");
    resp_add_map(r, 2);
    resp_add_bulk_str(r, "type");
    if (ks->bs_type == CMD_KS_INDEX) {
        resp_add_bulk_str(r, "index");
        resp_add_bulk_str(r, "spec");
        resp_add_map(r, 1);
        resp_add_bulk_str(r, "index");
        resp_add_int(r, ks->bs_index);
    } else if (ks->bs_type == CMD_KS_KEYWORD) {
        resp_add_bulk_str(r, "keyword");
        resp_add_bulk_str(r, "spec");
        resp_add_map(r, 2);
        resp_add_bulk_str(r, "keyword");
        resp_add_bulk_str(r, ks->bs_keyword ? ks->bs_keyword : "");
        resp_add_bulk_str(r, "startfrom");
        resp_add_int(r, ks->bs_index);
    } else {
        resp_add_bulk_str(r, "unknown");
        resp_add_bulk_str(r, "spec");
        resp_add_map(r, 0);
    }

    /* find_keys: a range or a key count, each a map of three numbers. */
    static const char *const range[3] = {"lastkey", "keystep", "limit"};
    static const char *const keynum[3] = {"keynumidx", "firstkey", "keystep"};
    bool is_range = ks->fk_type == CMD_KS_RANGE, is_keynum = ks->fk_type == CMD_KS_KEYNUM;
    const char *const *names = is_range ? range : is_keynum ? keynum : NULL;
    const int values[3] = {ks->fk_a, ks->fk_b, ks->fk_c};
    resp_add_bulk_str(r, "find_keys");
    resp_add_map(r, 2);
    resp_add_bulk_str(r, "type");
    resp_add_bulk_str(r, is_range ? "range" : is_keynum ? "keynum" : "unknown");
    resp_add_bulk_str(r, "spec");
    resp_add_map(r, names ? 3 : 0);
    for (int k = 0; names && k < 3; k++) {
        resp_add_bulk_str(r, names[k]);
        resp_add_int(r, values[k]);
    }
}

static int subcommand_count(const cmd_def_t *cmd)
{
    int n = 0;
    if (cmd->subcommands)
        for (const cmd_def_t *s = cmd->subcommands; s->name; s++) n++;
    return n;
}

static void add_fullname_bulk(resp_buf_t *r, const cmd_def_t *cmd)
{
    char name[MAX_NAME_LEN * 2 + 2];
    size_t n = cmd_fullname(cmd, name, sizeof name);
    if (n >= sizeof name) n = sizeof name - 1;
    resp_add_bulk(r, name, n);
}

/* The ten elements of a 7.0 entry. The aggregate types are Redis's: flags,
 * categories, tips and key specs are sets (arrays in RESP2), subcommands an
 * array, or an empty set when there are none. */
void cmd_reply_info(resp_buf_t *r, const cmd_def_t *cmd)
{
    resp_add_array(r, 10);
    add_fullname_bulk(r, cmd);
    resp_add_int(r, cmd->arity);
    add_word_set(r, cmd->flag_names, NULL, false);
    resp_add_int(r, cmd->first_key);
    resp_add_int(r, cmd->last_key);
    resp_add_int(r, cmd->key_step);
    add_word_set(r, cmd->acl_categories, "@", false);
    add_word_set(r, cmd->tips, NULL, true);
    resp_add_set(r, cmd->keyspec_count);
    for (int i = 0; i < cmd->keyspec_count; i++) add_keyspec(r, &cmd->keyspecs[i]);
    int subs = subcommand_count(cmd);
    if (subs == 0) {
        resp_add_set(r, 0);
        return;
    }
    resp_add_array(r, subs);
    for (const cmd_def_t *s = cmd->subcommands; s->name; s++) cmd_reply_info(r, s);
}

/* ---- COMMAND DOCS ---- */

static void add_arg_docs(resp_buf_t *r, const cmd_arg_doc_t *args, int count)
{
    resp_add_array(r, count);
    for (int i = 0; i < count; i++) {
        const cmd_arg_doc_t *a = &args[i];
        int fields = 2 + (a->key_spec_index >= 0) + (a->token != NULL) + (a->since != NULL) +
                     (a->deprecated_since != NULL) + (a->flags != 0) + (a->subarg_count > 0);
        resp_add_map(r, fields);
        resp_add_bulk_str(r, "name");
        resp_add_bulk_str(r, a->name);
        resp_add_bulk_str(r, "type");
        resp_add_bulk_str(r, a->type);
        if (a->key_spec_index >= 0) {
            resp_add_bulk_str(r, "key_spec_index");
            resp_add_int(r, a->key_spec_index);
        }
        if (a->token) {
            resp_add_bulk_str(r, "token");
            resp_add_bulk_str(r, a->token);
        }
        if (a->since) {
            resp_add_bulk_str(r, "since");
            resp_add_bulk_str(r, a->since);
        }
        if (a->deprecated_since) {
            resp_add_bulk_str(r, "deprecated_since");
            resp_add_bulk_str(r, a->deprecated_since);
        }
        if (a->flags) {
            int n = !!(a->flags & CMD_ARG_OPTIONAL) + !!(a->flags & CMD_ARG_MULTIPLE) +
                    !!(a->flags & CMD_ARG_MULTIPLE_TOKEN);
            resp_add_bulk_str(r, "flags");
            resp_add_set(r, n);
            if (a->flags & CMD_ARG_OPTIONAL) resp_add_simple(r, "optional");
            if (a->flags & CMD_ARG_MULTIPLE) resp_add_simple(r, "multiple");
            if (a->flags & CMD_ARG_MULTIPLE_TOKEN) resp_add_simple(r, "multiple_token");
        }
        if (a->subarg_count > 0) {
            resp_add_bulk_str(r, "arguments");
            add_arg_docs(r, a->subargs, a->subarg_count);
        }
    }
}

/* The docs map of one command, without its name. */
static void add_docs_map(resp_buf_t *r, const cmd_def_t *cmd)
{
    int subs = subcommand_count(cmd);
    int fields = 3 + (cmd->complexity != NULL) + (cmd->doc_flags != NULL) + (cmd->deprecated_since != NULL) +
                 (cmd->replaced_by != NULL) + (cmd->history_count > 0) + (cmd->arg_count > 0) + (subs > 0);
    resp_add_map(r, fields);
    resp_add_bulk_str(r, "summary");
    resp_add_bulk_str(r, cmd->summary ? cmd->summary : "");
    resp_add_bulk_str(r, "since");
    resp_add_bulk_str(r, cmd->since ? cmd->since : "");
    resp_add_bulk_str(r, "group");
    resp_add_bulk_str(r, cmd->group ? cmd->group : "");
    if (cmd->complexity) {
        resp_add_bulk_str(r, "complexity");
        resp_add_bulk_str(r, cmd->complexity);
    }
    if (cmd->doc_flags) {
        resp_add_bulk_str(r, "doc_flags");
        add_word_set(r, cmd->doc_flags, NULL, false);
    }
    if (cmd->deprecated_since) {
        resp_add_bulk_str(r, "deprecated_since");
        resp_add_bulk_str(r, cmd->deprecated_since);
    }
    if (cmd->replaced_by) {
        resp_add_bulk_str(r, "replaced_by");
        resp_add_bulk_str(r, cmd->replaced_by);
    }
    if (cmd->history_count > 0) {
        resp_add_bulk_str(r, "history");
        resp_add_set(r, cmd->history_count);
        for (int i = 0; i < cmd->history_count; i++) {
            resp_add_array(r, 2);
            resp_add_bulk_str(r, cmd->history[i].since);
            resp_add_bulk_str(r, cmd->history[i].change);
        }
    }
    if (cmd->arg_count > 0) {
        resp_add_bulk_str(r, "arguments");
        add_arg_docs(r, cmd->args, cmd->arg_count);
    }
    if (subs > 0) {
        resp_add_bulk_str(r, "subcommands");
        resp_add_map(r, subs);
        for (const cmd_def_t *s = cmd->subcommands; s->name; s++) {
            add_fullname_bulk(r, s);
            add_docs_map(r, s);
        }
    }
}

void cmd_reply_docs(resp_buf_t *r, const cmd_def_t *cmd)
{
    add_fullname_bulk(r, cmd);
    add_docs_map(r, cmd);
}

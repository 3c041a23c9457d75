/* acl_describe.c - users as text: ACL LIST, ACL GETUSER, ACL SAVE and
 * CONFIG REWRITE print what a user may do as rules that ACL SETUSER would
 * take back, in 7.0.15's form: flags, #hashes, key patterns, channels
 * (resetchannels first when not all), then the command rules.
 *
 * The command rules start from +@all (when the user may run commands added
 * later) or -@all, then add (or remove) the categories that fit the user's
 * command bits best, one at a time as 7.0.15 chooses them, and end with the
 * single commands still different. 7.0.15 lists those single commands in
 * its command dictionary's order, which changes from one process to the
 * next; ours come in command table order.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "actors/acl/acl_internal.h"

typedef struct sbuf { char *p; size_t len, cap; } sbuf_t;

static void sb_add(sbuf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 128;
        while (cap < b->len + n + 1) cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) abort();
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf_t *b, const char *s) { sb_add(b, s, strlen(s)); }

static char *sb_take(sbuf_t *b)
{
    if (!b->p) sb_add(b, "", 0);
    return b->p;
}

static void cmd_full_name(const cmd_def_t *c, sbuf_t *b)
{
    if (c->parent) {
        sb_str(b, c->parent->name);
        sb_str(b, "|");
    }
    sb_str(b, c->name);
}

/* How many commands of a category the selector allows (on) and not (off). */
static void count_category(const acl_selector_t *s, int cat, unsigned long *on, unsigned long *off)
{
    *on = *off = 0;
    for (int id = 0; id < acl_cmd_count(); id++)
        if (acl_cmd_categories(id) & (1u << cat)) {
            if (acl_selector_bit(s, id)) (*on)++;
            else (*off)++;
        }
}

static void single_commands(const acl_selector_t *s, acl_selector_t *fake, sbuf_t *b)
{
    for (int id = 0; id < acl_cmd_count(); id++) {
        const cmd_def_t *c = acl_cmd_at(id);
        bool userbit = acl_selector_bit(s, id), fakebit = acl_selector_bit(fake, id);
        if (userbit != fakebit) {
            sb_str(b, userbit ? "+" : "-");
            cmd_full_name(c, b);
            sb_str(b, " ");
            char op[160];
            int n = snprintf(op, sizeof op, "%s%s%s%s", userbit ? "+" : "-", c->parent ? c->parent->name : "",
                             c->parent ? "|" : "", c->name);
            acl_selector_apply(fake, op, (size_t)n);
        }
        if (userbit) continue;
        for (int i = 0; i < s->nfirstargs; i++)
            if (s->firstargs[i].id == id) {
                sb_str(b, "+");
                cmd_full_name(c, b);
                sb_str(b, "|");
                sb_str(b, s->firstargs[i].arg);
                sb_str(b, " ");
            }
    }
}

char *acl_describe_commands(const acl_selector_t *s)
{
    sbuf_t b = { 0 };
    acl_selector_t fake, temp;
    acl_selector_init(&fake, 0);
    acl_selector_init(&temp, 0);
    bool additive = !acl_selector_bit(s, ACL_CMD_BITS - 1);
    sb_str(&b, additive ? "-@all " : "+@all ");
    acl_selector_apply(&fake, additive ? "-@all" : "+@all", 5);
    memcpy(temp.allowed, s->allowed, sizeof temp.allowed);
    int ncat = acl_category_count();
    bool applied[64] = { false };
    for (;;) {
        int best = -1;
        unsigned long mindiff = INT_MAX, maxsame = 0;
        for (int j = 0; j < ncat; j++) {
            if (applied[j]) continue;
            unsigned long on, off;
            count_category(&temp, j, &on, &off);
            unsigned long diff = additive ? off : on, same = additive ? on : off;
            if (same > diff && (diff < mindiff || (diff == mindiff && same > maxsame))) {
                best = j;
                mindiff = diff;
                maxsame = same;
            }
        }
        if (best < 0) break;
        char op[64], inv[64];
        int n = snprintf(op, sizeof op, "%s%s", additive ? "+@" : "-@", acl_category_name(best));
        int m = snprintf(inv, sizeof inv, "%s%s", additive ? "-@" : "+@", acl_category_name(best));
        acl_selector_apply(&fake, op, (size_t)n);
        acl_selector_apply(&temp, inv, (size_t)m);
        sb_add(&b, op, (size_t)n);
        sb_str(&b, " ");
        applied[best] = true;
    }
    single_commands(s, &fake, &b);
    acl_selector_free(&fake);
    acl_selector_free(&temp);
    b.len--;   /* the last space */
    b.p[b.len] = '\0';
    return sb_take(&b);
}

static void add_keypat(sbuf_t *b, const acl_keypat_t *k)
{
    sb_str(b, k->perm == ACL_PERM_ALL ? "~" : k->perm == ACL_PERM_READ ? "%R~" : "%W~");
    sb_add(b, k->s, k->len);
}

char *acl_describe_keys(const acl_selector_t *s)
{
    sbuf_t b = { 0 };
    if (s->flags & ACL_SEL_ALLKEYS) {
        sb_str(&b, "~*");
        return sb_take(&b);
    }
    for (int i = 0; i < s->nkeys; i++) {
        if (i) sb_str(&b, " ");
        add_keypat(&b, &s->keys[i]);
    }
    return sb_take(&b);
}

char *acl_describe_channels(const acl_selector_t *s)
{
    sbuf_t b = { 0 };
    if (s->flags & ACL_SEL_ALLCHANNELS) {
        sb_str(&b, "&*");
        return sb_take(&b);
    }
    for (int i = 0; i < s->nchannels; i++) {
        if (i) sb_str(&b, " ");
        sb_str(&b, "&");
        sb_add(&b, s->channels[i].s, s->channels[i].len);
    }
    return sb_take(&b);
}

static void describe_selector(const acl_selector_t *s, sbuf_t *b)
{
    if (s->flags & ACL_SEL_ALLKEYS) {
        sb_str(b, "~* ");
    } else {
        for (int i = 0; i < s->nkeys; i++) {
            add_keypat(b, &s->keys[i]);
            sb_str(b, " ");
        }
    }
    if (s->flags & ACL_SEL_ALLCHANNELS) {
        sb_str(b, "&* ");
    } else {
        sb_str(b, "resetchannels ");
        for (int i = 0; i < s->nchannels; i++) {
            sb_str(b, "&");
            sb_add(b, s->channels[i].s, s->channels[i].len);
            sb_str(b, " ");
        }
    }
    char *rules = acl_describe_commands(s);
    sb_str(b, rules);
    free(rules);
}

char *acl_describe_user(const acl_user_t *u)
{
    static const struct { uint32_t flag; const char *name; } flags[] = {
        { ACL_USER_ON, "on" }, { ACL_USER_OFF, "off" }, { ACL_USER_NOPASS, "nopass" },
        { ACL_USER_SKIP_SANITIZE, "skip-sanitize-payload" }, { ACL_USER_SANITIZE, "sanitize-payload" },
    };
    sbuf_t b = { 0 };
    for (size_t j = 0; j < sizeof flags / sizeof flags[0]; j++)
        if (u->flags & flags[j].flag) {
            sb_str(&b, flags[j].name);
            sb_str(&b, " ");
        }
    for (int i = 0; i < u->npasswords; i++) {
        sb_str(&b, "#");
        sb_str(&b, u->passwords[i]);
        sb_str(&b, " ");
    }
    for (int i = 0; i < u->nsel; i++) {
        if (i) sb_str(&b, " (");
        describe_selector(&u->sel[i], &b);
        if (i) sb_str(&b, ")");
    }
    return sb_take(&b);
}

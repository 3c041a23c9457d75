/* nodes_conf.c - parser and formatters for nodes.conf / CLUSTER NODES lines
 * (docs/cluster-bus.md §5.19, §5.20).
 *
 * Pure: no I/O, no globals. The parser must never read outside [buf,
 * buf+len), never crash on any input, and never allocate more than a small
 * multiple of the input size (one node record per node line, one scratch
 * buffer as long as the longest line). Formatting must stay byte-for-byte what
 * redis-server 7.0.15 prints, because redis-cli compares these strings across
 * nodes. */
#include "proto/nodes_conf.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------ */

static bool is_space(uint8_t c)
{
    /* The same set as isspace() in the C locale, which Redis's splitter uses. */
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static uint8_t to_lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c; }

/* Case-insensitive comparison of a token with a NUL-terminated word. */
static bool token_is(const char *tok, size_t len, const char *word)
{
    size_t wl = strlen(word);
    if (len != wl) return false;
    for (size_t i = 0; i < len; i++)
        if (to_lower((uint8_t)tok[i]) != (uint8_t)word[i]) return false;
    return true;
}

/* A node name as a 7.0.15 node accepts it: exactly 40 of a-z, 0-9 (§2.4). */
static bool valid_name(const char *s, size_t len)
{
    if (len != NODES_CONF_NAME_LEN) return false;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)s[i];
        if (!((c >= 'a' && c <= 'z') || is_digit(c))) return false;
    }
    return true;
}

/* Bytes that survive being written unquoted and split again: printable ASCII
 * except space and the two quote characters. IPs and hostnames are limited to
 * these so that what we parse is what we would write. */
static bool plain_char(uint8_t c) { return c > 0x20 && c < 0x7f && c != '"' && c != '\''; }

/* Unsigned decimal with digits only; false on empty, non-digit or overflow. */
static bool parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    if (len == 0) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit((uint8_t)s[i])) return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Copies a token into a message, replacing unprintable bytes and cutting it short. */
static void describe(char *dst, size_t cap, const char *tok, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    if (n > 48) n = 48;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)tok[i];
        dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    dst[n] = '\0';
}

/* ------------------------------------------------------------------------
 * Line splitting with shell-like quoting, as Redis's sdssplitargs does it:
 * whitespace separates arguments; "..." understands \xHH, \n, \r, \t, \b, \a
 * and \<any>; '...' understands only \'; a closing quote must be followed by
 * whitespace or the end of the line; an unterminated quote is an error.
 * ------------------------------------------------------------------------ */

typedef struct args {
    char *store;       /* the unescaped bytes of every argument, each NUL-terminated */
    size_t store_cap;
    char **argv;
    size_t *arglen;
    size_t argv_cap;
    size_t argc;
} args_t;

static void args_free(args_t *a)
{
    free(a->store);
    free(a->argv);
    free(a->arglen);
    memset(a, 0, sizeof *a);
}

/* Makes room for a line of n bytes: the arguments take at most n bytes plus
 * one NUL each, and there are at most n/2 + 1 of them. */
static bool args_reserve(args_t *a, size_t n)
{
    if (a->store_cap < 2 * n + 2) {
        char *s = realloc(a->store, 2 * n + 2);
        if (!s) return false;
        a->store = s;
        a->store_cap = 2 * n + 2;
    }
    if (a->argv_cap < n / 2 + 2) {
        size_t cap = n / 2 + 2;
        char **v = realloc(a->argv, cap * sizeof *v);
        if (!v) return false;
        a->argv = v;
        size_t *l = realloc(a->arglen, cap * sizeof *l);
        if (!l) return false;
        a->arglen = l;
        a->argv_cap = cap;
    }
    return true;
}

static nodes_conf_result_t split_line(const uint8_t *p, size_t n, args_t *a)
{
    if (!args_reserve(a, n)) return NODES_CONF_ERR_NOMEM;
    size_t i = 0, out = 0;
    a->argc = 0;
    for (;;) {
        while (i < n && is_space(p[i])) i++;
        if (i == n) return NODES_CONF_OK;
        char *tok = a->store + out;
        size_t tlen = 0;
        enum { PLAIN, DOUBLE, SINGLE } mode = PLAIN;
        for (;;) {
            if (mode == PLAIN) {
                if (i == n || is_space(p[i])) break;
                if (p[i] == '"') mode = DOUBLE;
                else if (p[i] == '\'') mode = SINGLE;
                else tok[tlen++] = (char)p[i];
                i++;
            } else if (i == n) {
                return NODES_CONF_ERR_QUOTING;          /* unterminated quotes */
            } else if (mode == DOUBLE) {
                if (p[i] == '\\' && i + 3 < n && p[i + 1] == 'x' &&
                    hex_value(p[i + 2]) >= 0 && hex_value(p[i + 3]) >= 0) {
                    tok[tlen++] = (char)(hex_value(p[i + 2]) * 16 + hex_value(p[i + 3]));
                    i += 4;
                } else if (p[i] == '\\' && i + 1 < n) {
                    uint8_t c = p[i + 1];
                    tok[tlen++] = (char)(c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' :
                                         c == 'b' ? '\b' : c == 'a' ? '\a' : c);
                    i += 2;
                } else if (p[i] == '"') {
                    if (i + 1 < n && !is_space(p[i + 1])) return NODES_CONF_ERR_QUOTING;
                    i++;
                    break;
                } else {
                    tok[tlen++] = (char)p[i++];
                }
            } else { /* SINGLE */
                if (p[i] == '\\' && i + 1 < n && p[i + 1] == '\'') {
                    tok[tlen++] = '\'';
                    i += 2;
                } else if (p[i] == '\'') {
                    if (i + 1 < n && !is_space(p[i + 1])) return NODES_CONF_ERR_QUOTING;
                    i++;
                    break;
                } else {
                    tok[tlen++] = (char)p[i++];
                }
            }
        }
        tok[tlen] = '\0';
        a->argv[a->argc] = tok;
        a->arglen[a->argc] = tlen;
        a->argc++;
        out += tlen + 1;
    }
}

/* ------------------------------------------------------------------------
 * Parser
 * ------------------------------------------------------------------------ */

typedef struct parser {
    nodes_conf_t *conf;
    size_t node_cap;
    int *node_line;          /* line number of each node, for duplicate reports */
    nodes_conf_error_t *err;
    int line;
    bool have_myself;
} parser_t;

static nodes_conf_result_t fail(parser_t *ps, nodes_conf_result_t code, int line, const char *fmt,
                                const char *detail)
{
    if (ps->err) {
        char what[160];
        snprintf(what, sizeof what, fmt, detail ? detail : "");
        ps->err->code = code;
        ps->err->line = line;
        if (line > 0)
            snprintf(ps->err->message, sizeof ps->err->message,
                     "Unrecoverable error: corrupted cluster config file, line %d: %s", line, what);
        else
            snprintf(ps->err->message, sizeof ps->err->message,
                     "Unrecoverable error: corrupted cluster config file: %s", what);
    }
    return code;
}

static void warn(parser_t *ps, const char *fmt, const char *detail)
{
    nodes_conf_t *c = ps->conf;
    if (c->warning_count < NODES_CONF_MAX_WARNINGS) {
        nodes_conf_warning_t *w = &c->warnings[c->warning_count];
        w->line = ps->line;
        snprintf(w->message, sizeof w->message, fmt, detail);
    }
    c->warning_count++;
}

static nodes_conf_result_t parse_vars(parser_t *ps, const args_t *a)
{
    char d[64];
    if (a->argc % 2 == 0)
        return fail(ps, NODES_CONF_ERR_VARS, ps->line, "vars line needs key value pairs%s", NULL);
    for (size_t j = 1; j < a->argc; j += 2) {
        uint64_t *dst = NULL;
        if (token_is(a->argv[j], a->arglen[j], "currentepoch")) dst = &ps->conf->current_epoch;
        else if (token_is(a->argv[j], a->arglen[j], "lastvoteepoch")) dst = &ps->conf->last_vote_epoch;
        if (!dst) {
            describe(d, sizeof d, a->argv[j], a->arglen[j]);
            warn(ps, "Skipping unknown cluster config variable '%s'", d);
            continue;
        }
        if (!parse_u64(a->argv[j + 1], a->arglen[j + 1], UINT64_MAX, dst)) {
            describe(d, sizeof d, a->argv[j + 1], a->arglen[j + 1]);
            return fail(ps, NODES_CONF_ERR_VARS, ps->line, "bad epoch '%s' in vars line", d);
        }
    }
    return NODES_CONF_OK;
}

/* ip:port[@cport][,hostname[,more...]]. The hostname ends at the next comma:
 * 7.0 writes none there, 7.2 appends key=value fields, which we skip. */
static nodes_conf_result_t parse_address(parser_t *ps, nodes_conf_node_t *n, const char *s, size_t len)
{
    char d[64];
    describe(d, sizeof d, s, len);
    const char *comma = memchr(s, ',', len);
    size_t main_len = comma ? (size_t)(comma - s) : len;
    if (comma) {
        const char *host = comma + 1;
        size_t rest = len - main_len - 1;
        const char *end = memchr(host, ',', rest);
        size_t hlen = end ? (size_t)(end - host) : rest;
        if (hlen >= NODES_CONF_HOSTNAME_SIZE)
            return fail(ps, NODES_CONF_ERR_ADDRESS, ps->line, "hostname too long in '%s'", d);
        for (size_t i = 0; i < hlen; i++)
            if (!plain_char((uint8_t)host[i]))
                return fail(ps, NODES_CONF_ERR_ADDRESS, ps->line, "bad hostname in '%s'", d);
        memcpy(n->hostname, host, hlen);
        n->hostname[hlen] = '\0';
        if (end) warn(ps, "Ignoring extra address fields in '%s'", d);
    }
    const char *colon = NULL;
    for (size_t i = main_len; i > 0; i--)
        if (s[i - 1] == ':') { colon = s + i - 1; break; }
    if (!colon) return fail(ps, NODES_CONF_ERR_ADDRESS, ps->line, "no ':' in address '%s'", d);
    size_t ip_len = (size_t)(colon - s);
    if (ip_len >= NODES_CONF_IP_SIZE)
        return fail(ps, NODES_CONF_ERR_ADDRESS, ps->line, "IP too long in '%s'", d);
    for (size_t i = 0; i < ip_len; i++)
        if (!plain_char((uint8_t)s[i]))
            return fail(ps, NODES_CONF_ERR_ADDRESS, ps->line, "bad IP in '%s'", d);
    memcpy(n->ip, s, ip_len);
    n->ip[ip_len] = '\0';

    const char *port = colon + 1;
    size_t port_area = main_len - ip_len - 1;
    const char *at = memchr(port, '@', port_area);
    size_t port_len = at ? (size_t)(at - port) : port_area;
    uint64_t v;
    if (!parse_u64(port, port_len, 65535, &v))
        return fail(ps, NODES_CONF_ERR_ADDRESS, ps->line, "bad port in '%s'", d);
    n->port = (int)v;
    if (at) {
        if (!parse_u64(at + 1, port_area - port_len - 1, 65535, &v))
            return fail(ps, NODES_CONF_ERR_ADDRESS, ps->line, "bad cluster bus port in '%s'", d);
        n->cport = (int)v;
    } else {
        /* No @cport: the bus port is the client port + BUS_PORT_OFFSET, as Redis assumes. */
        if (n->port > 65535 - BUS_PORT_OFFSET)
            return fail(ps, NODES_CONF_ERR_ADDRESS, ps->line, "implied bus port out of range in '%s'", d);
        n->cport = n->port + BUS_PORT_OFFSET;
    }
    return NODES_CONF_OK;
}

static const struct { const char *text; uint16_t bit; } flag_names[] = {
    /* In the order Redis prints them (§3.8). */
    {"myself", NODES_CONF_FLAG_MYSELF},
    {"master", NODES_CONF_FLAG_MASTER},
    {"slave", NODES_CONF_FLAG_SLAVE},
    {"fail?", NODES_CONF_FLAG_PFAIL},
    {"fail", NODES_CONF_FLAG_FAIL},
    {"handshake", NODES_CONF_FLAG_HANDSHAKE},
    {"noaddr", NODES_CONF_FLAG_NOADDR},
    {"nofailover", NODES_CONF_FLAG_NOFAILOVER},
};
#define FLAG_NAME_COUNT (sizeof flag_names / sizeof flag_names[0])

static nodes_conf_result_t parse_flags(parser_t *ps, nodes_conf_node_t *n, const char *s, size_t len)
{
    size_t start = 0;
    for (;;) {
        const char *c = memchr(s + start, ',', len - start);
        size_t end = c ? (size_t)(c - s) : len;
        const char *item = s + start;
        size_t ilen = end - start;
        bool known = token_is(item, ilen, "noflags");
        for (size_t f = 0; f < FLAG_NAME_COUNT && !known; f++) {
            if (token_is(item, ilen, flag_names[f].text)) {
                n->flags |= flag_names[f].bit;
                known = true;
            }
        }
        if (!known) {
            char d[64];
            describe(d, sizeof d, item, ilen);
            return fail(ps, NODES_CONF_ERR_FLAG, ps->line, "unknown flag '%s'", d);
        }
        if (!c) return NODES_CONF_OK;
        start = end + 1;
    }
}

/* Sets slots lo..hi (inclusive) in the bitmap, whole bytes at a time. */
static void set_slot_range(uint8_t *bits, unsigned lo, unsigned hi)
{
    while (lo <= hi && (lo & 7)) { bits[lo >> 3] |= (uint8_t)(1u << (lo & 7)); lo++; }
    if (lo > hi) return;
    unsigned full_end = (hi + 1) & ~7u;       /* first slot after the whole bytes */
    if (full_end > lo) {
        memset(bits + (lo >> 3), 0xff, (full_end - lo) >> 3);
        lo = full_end;
    }
    while (lo <= hi) { bits[lo >> 3] |= (uint8_t)(1u << (lo & 7)); lo++; }
}

typedef struct open_entry { nodes_conf_open_slot_t e; size_t seq; } open_entry_t;

static int open_entry_cmp(const void *pa, const void *pb)
{
    const open_entry_t *a = pa, *b = pb;
    if (a->e.slot != b->e.slot) return a->e.slot < b->e.slot ? -1 : 1;
    if (a->e.importing != b->e.importing) return a->e.importing ? 1 : -1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Slot items of one node line: N, N-M, [N->-id], [N-<-id]. */
static nodes_conf_result_t parse_slots(parser_t *ps, nodes_conf_node_t *n, const args_t *a)
{
    open_entry_t *open = NULL;
    size_t open_count = 0;
    char d[64];
    for (size_t j = 8; j < a->argc; j++) {
        const char *s = a->argv[j];
        size_t len = a->arglen[j];
        uint64_t lo, hi;
        describe(d, sizeof d, s, len);
        if (len > 0 && s[0] == '[') {
            const char *dash = memchr(s, '-', len);
            size_t num_len = dash ? (size_t)(dash - s) - 1 : 0;
            /* '[' N '-' ('>'|'<') '-' name ']' */
            if (!dash || len != num_len + 4 + NODES_CONF_NAME_LEN + 1 ||
                (dash[1] != '>' && dash[1] != '<') || dash[2] != '-' || s[len - 1] != ']' ||
                !valid_name(dash + 3, NODES_CONF_NAME_LEN)) {
                free(open);
                return fail(ps, NODES_CONF_ERR_SLOT, ps->line, "bad open slot '%s'", d);
            }
            if (!parse_u64(s + 1, num_len, SLOT_COUNT - 1, &lo)) {
                free(open);
                return fail(ps, NODES_CONF_ERR_SLOT, ps->line, "bad slot number in '%s'", d);
            }
            if (!open) {
                /* Sized for every remaining item, so it never grows. */
                open = malloc((a->argc - j) * sizeof *open);
                if (!open) return fail(ps, NODES_CONF_ERR_NOMEM, ps->line, "out of memory%s", NULL);
            }
            open_entry_t *o = &open[open_count];
            o->e.slot = (uint16_t)lo;
            o->e.importing = dash[1] == '<';
            memcpy(o->e.peer, dash + 3, NODES_CONF_NAME_LEN);
            o->e.peer[NODES_CONF_NAME_LEN] = '\0';
            o->seq = open_count++;
            continue;
        }
        const char *dash = memchr(s, '-', len);
        size_t lo_len = dash ? (size_t)(dash - s) : len;
        bool ok = parse_u64(s, lo_len, SLOT_COUNT - 1, &lo);
        if (ok && dash) ok = parse_u64(dash + 1, len - lo_len - 1, SLOT_COUNT - 1, &hi) && lo <= hi;
        else hi = lo;
        if (!ok) {
            free(open);
            return fail(ps, NODES_CONF_ERR_SLOT, ps->line, "bad slot or slot range '%s'", d);
        }
        set_slot_range(n->slots, (unsigned)lo, (unsigned)hi);
    }
    if (open_count) {
        /* Sort, then keep the last entry of each (slot, direction): Redis
         * overwrites its per-slot table entry when one appears twice. */
        qsort(open, open_count, sizeof *open, open_entry_cmp);
        size_t kept = 0;
        for (size_t i = 0; i < open_count; i++) {
            bool last_of_key = i + 1 == open_count || open[i + 1].e.slot != open[i].e.slot ||
                               open[i + 1].e.importing != open[i].e.importing;
            if (last_of_key) open[kept++].e = open[i].e;
        }
        /* Copy into the public element type, which the caller will own. */
        nodes_conf_open_slot_t *list = malloc(kept * sizeof *list);
        if (!list) { free(open); return fail(ps, NODES_CONF_ERR_NOMEM, ps->line, "out of memory%s", NULL); }
        for (size_t i = 0; i < kept; i++) list[i] = open[i].e;
        n->open_slots = list;
        n->open_slot_count = kept;
    }
    free(open);
    return NODES_CONF_OK;
}

static nodes_conf_result_t parse_node(parser_t *ps, const args_t *a)
{
    nodes_conf_t *c = ps->conf;
    char d[64];
    if (a->argc < 8)
        return fail(ps, NODES_CONF_ERR_FIELDS, ps->line, "node line has fewer than 8 fields%s", NULL);
    if (!valid_name(a->argv[0], a->arglen[0])) {
        describe(d, sizeof d, a->argv[0], a->arglen[0]);
        return fail(ps, NODES_CONF_ERR_NAME, ps->line, "invalid node name '%s'", d);
    }
    if (c->node_count == ps->node_cap) {
        size_t cap = ps->node_cap ? ps->node_cap * 2 : 8;
        nodes_conf_node_t *nodes = realloc(c->nodes, cap * sizeof *nodes);
        if (!nodes) return fail(ps, NODES_CONF_ERR_NOMEM, ps->line, "out of memory%s", NULL);
        c->nodes = nodes;
        int *lines = realloc(ps->node_line, cap * sizeof *lines);
        if (!lines) return fail(ps, NODES_CONF_ERR_NOMEM, ps->line, "out of memory%s", NULL);
        ps->node_line = lines;
        ps->node_cap = cap;
    }
    /* Counted before it is filled in, so nodes_conf_free sees its open_slots. */
    nodes_conf_node_t *n = &c->nodes[c->node_count];
    memset(n, 0, sizeof *n);
    ps->node_line[c->node_count] = ps->line;
    c->node_count++;

    memcpy(n->name, a->argv[0], NODES_CONF_NAME_LEN);
    nodes_conf_result_t r = parse_address(ps, n, a->argv[1], a->arglen[1]);
    if (r != NODES_CONF_OK) return r;
    if ((r = parse_flags(ps, n, a->argv[2], a->arglen[2])) != NODES_CONF_OK) return r;
    if (n->flags & NODES_CONF_FLAG_MYSELF) {
        if (ps->have_myself)
            return fail(ps, NODES_CONF_ERR_MYSELF, ps->line, "a second myself node%s", NULL);
        ps->have_myself = true;
        c->myself = c->node_count - 1;
    }
    if (!(a->arglen[3] == 1 && a->argv[3][0] == '-')) {
        if (!valid_name(a->argv[3], a->arglen[3]) || memcmp(a->argv[3], n->name, NODES_CONF_NAME_LEN) == 0) {
            describe(d, sizeof d, a->argv[3], a->arglen[3]);
            return fail(ps, NODES_CONF_ERR_MASTER, ps->line, "invalid master '%s'", d);
        }
        memcpy(n->master, a->argv[3], NODES_CONF_NAME_LEN);
    }
    uint64_t v;
    for (int f = 4; f <= 6; f++) {
        uint64_t max = f == 6 ? UINT64_MAX : (uint64_t)INT64_MAX;
        if (!parse_u64(a->argv[f], a->arglen[f], max, &v)) {
            describe(d, sizeof d, a->argv[f], a->arglen[f]);
            return fail(ps, NODES_CONF_ERR_NUMBER, ps->line, "bad number '%s'", d);
        }
        if (f == 4) n->ping_sent = (long long)v;
        else if (f == 5) n->pong_received = (long long)v;
        else n->config_epoch = v;
    }
    /* The link state is ignored by Redis on load; we keep it for round trips. */
    n->connected = a->arglen[7] == 9 && memcmp(a->argv[7], "connected", 9) == 0;
    return parse_slots(ps, n, a);
}

/* Finds the earliest line that repeats a name already seen on an earlier
 * line; 0 if none, -1 on out-of-memory. A stable merge sort of the indices by
 * name keeps this O(n log n) even for a hostile file with very many lines
 * (C11 qsort has no context argument, hence our own sort). */
static int first_duplicate_line(const nodes_conf_t *c, const int *lines)
{
    size_t n = c->node_count;
    if (n < 2) return 0;
    size_t *idx = malloc(n * sizeof *idx);
    size_t *tmp = malloc(n * sizeof *tmp);
    if (!idx || !tmp) { free(idx); free(tmp); return -1; }
    for (size_t i = 0; i < n; i++) idx[i] = i;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                int cmp = memcmp(c->nodes[idx[i]].name, c->nodes[idx[j]].name, NODES_CONF_NAME_LEN);
                tmp[k++] = cmp <= 0 ? idx[i++] : idx[j++];   /* stable: earlier line first */
            }
            while (i < mid) tmp[k++] = idx[i++];
            while (j < hi) tmp[k++] = idx[j++];
        }
        size_t *swap = idx; idx = tmp; tmp = swap;
    }
    int first = 0;
    for (size_t i = 1; i < n; i++) {
        if (memcmp(c->nodes[idx[i]].name, c->nodes[idx[i - 1]].name, NODES_CONF_NAME_LEN) == 0) {
            int line = lines[idx[i]];
            if (first == 0 || line < first) first = line;
        }
    }
    free(idx);
    free(tmp);
    return first;
}

nodes_conf_result_t nodes_conf_parse(const uint8_t *buf, size_t len, nodes_conf_t *out,
                                     nodes_conf_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (err) memset(err, 0, sizeof *err);
    parser_t ps = {.conf = out, .err = err};
    if (len == 0) return fail(&ps, NODES_CONF_EMPTY, 0, "empty file%s", NULL);

    args_t a = {0};
    nodes_conf_result_t r = NODES_CONF_OK;
    size_t pos = 0;
    while (pos < len && r == NODES_CONF_OK) {
        if (ps.line == INT32_MAX) { r = fail(&ps, NODES_CONF_ERR_FIELDS, 0, "too many lines%s", NULL); break; }
        ps.line++;
        const uint8_t *nl = memchr(buf + pos, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - (buf + pos)) : len - pos;
        const uint8_t *p = buf + pos;
        pos += line_len + (nl ? 1 : 0);

        /* A NUL would end the line early for Redis's C-string parser; for us
         * it is simply not a text file. */
        if (memchr(p, '\0', line_len)) {
            r = fail(&ps, NODES_CONF_ERR_BINARY, ps.line, "NUL byte in line%s", NULL);
            break;
        }
        r = split_line(p, line_len, &a);
        if (r == NODES_CONF_ERR_QUOTING) { r = fail(&ps, r, ps.line, "unbalanced quotes%s", NULL); break; }
        if (r != NODES_CONF_OK) { r = fail(&ps, r, ps.line, "out of memory%s", NULL); break; }
        /* Blank lines: left by hand editing, or by the 7.0 in-place writer
         * (it pads with '\n' before truncating) when it stops half-way. */
        if (a.argc == 0) continue;
        if (token_is(a.argv[0], a.arglen[0], "vars")) r = parse_vars(&ps, &a);
        else r = parse_node(&ps, &a);
    }
    args_free(&a);

    if (r == NODES_CONF_OK && !ps.have_myself)
        r = fail(&ps, NODES_CONF_ERR_MYSELF, 0, "no myself node%s", NULL);
    if (r == NODES_CONF_OK) {
        int dup = first_duplicate_line(out, ps.node_line);
        if (dup < 0) r = fail(&ps, NODES_CONF_ERR_NOMEM, 0, "out of memory%s", NULL);
        else if (dup > 0) r = fail(&ps, NODES_CONF_ERR_DUPLICATE, dup, "node listed twice%s", NULL);
    }
    free(ps.node_line);
    if (r != NODES_CONF_OK) nodes_conf_free(out);
    return r;
}

void nodes_conf_free(nodes_conf_t *conf)
{
    for (size_t i = 0; i < conf->node_count; i++) free(conf->nodes[i].open_slots);
    free(conf->nodes);
    memset(conf, 0, sizeof *conf);
}

uint64_t nodes_conf_max_epoch(const nodes_conf_t *conf)
{
    uint64_t max = conf->current_epoch;
    for (size_t i = 0; i < conf->node_count; i++)
        if (conf->nodes[i].config_epoch > max) max = conf->nodes[i].config_epoch;
    return max;
}

/* ------------------------------------------------------------------------
 * Formatting
 * ------------------------------------------------------------------------ */

/* snprintf-style writer: counts everything, stores what fits (leaving room
 * for the final NUL). */
typedef struct writer { char *out; size_t cap; size_t len; } writer_t;

static void put(writer_t *w, const char *s, size_t n)
{
    if (w->len + 1 < w->cap) {
        size_t room = w->cap - 1 - w->len;
        memcpy(w->out + w->len, s, n < room ? n : room);
    }
    w->len += n;
}

static void put_str(writer_t *w, const char *s) { put(w, s, strlen(s)); }

static void put_u64(writer_t *w, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof tmp;
    do { tmp[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    put(w, tmp + i, sizeof tmp - i);
}

static void put_i64(writer_t *w, long long v)
{
    if (v < 0) { put(w, "-", 1); put_u64(w, (uint64_t)0 - (uint64_t)v); }
    else put_u64(w, (uint64_t)v);
}

/* 64 slots starting at 64*word, bit k = slot 64*word + k, whatever the host
 * byte order. */
static uint64_t slot_word(const uint8_t *bits, unsigned word)
{
    /* one load, not eight: nodes.conf at 1,000 nodes scans 1,000 bitmaps */
    uint64_t v;
    memcpy(&v, bits + word * 8, sizeof v);
    return le64toh(v);
}

/* First slot >= from whose bit equals `set`; SLOT_COUNT if none. Skips whole
 * 64-slot words, so a full or empty bitmap costs 256 word reads. */
static unsigned next_slot(const uint8_t *bits, unsigned from, bool set)
{
    while (from < SLOT_COUNT) {
        unsigned word = from / 64;
        uint64_t v = slot_word(bits, word);
        if (!set) v = ~v;
        v &= ~0ULL << (from % 64);
        if (v) return word * 64 + (unsigned)__builtin_ctzll(v);
        from = (word + 1) * 64;
    }
    return SLOT_COUNT;
}

size_t nodes_conf_format_line(char *out, size_t cap, const nodes_conf_node_t *n, bool with_open_slots)
{
    writer_t w = {out, cap, 0};
    put_str(&w, n->name);
    put(&w, " ", 1);
    put_str(&w, n->ip);
    put(&w, ":", 1);
    put_i64(&w, n->port);
    put(&w, "@", 1);
    put_i64(&w, n->cport);
    if (n->hostname[0]) { put(&w, ",", 1); put_str(&w, n->hostname); }
    put(&w, " ", 1);

    bool any_flag = false;
    for (size_t f = 0; f < FLAG_NAME_COUNT; f++) {
        if (!(n->flags & flag_names[f].bit)) continue;
        if (any_flag) put(&w, ",", 1);
        put_str(&w, flag_names[f].text);
        any_flag = true;
    }
    if (!any_flag) put_str(&w, "noflags");

    put(&w, " ", 1);
    if (n->master[0]) put_str(&w, n->master);
    else put(&w, "-", 1);
    put(&w, " ", 1);
    put_i64(&w, n->ping_sent);
    put(&w, " ", 1);
    put_i64(&w, n->pong_received);
    put(&w, " ", 1);
    put_u64(&w, n->config_epoch);
    put_str(&w, n->connected ? " connected" : " disconnected");

    /* Maximal runs, so every node prints the same string for the same owner
     * map (redis-cli compares them). */
    for (unsigned s = next_slot(n->slots, 0, true); s < SLOT_COUNT; s = next_slot(n->slots, s, true)) {
        unsigned end = next_slot(n->slots, s, false);     /* one past the run */
        put(&w, " ", 1);
        put_u64(&w, s);
        if (end - 1 != s) { put(&w, "-", 1); put_u64(&w, end - 1); }
        s = end;
    }

    if (with_open_slots) {
        /* Sorted with migrating first per slot: when a slot is both
         * migrating and importing, only the migrating entry shows (as Redis). */
        long last = -1;
        for (size_t i = 0; i < n->open_slot_count; i++) {
            const nodes_conf_open_slot_t *o = &n->open_slots[i];
            if ((long)o->slot == last) continue;
            last = o->slot;
            put(&w, " [", 2);
            put_u64(&w, o->slot);
            put_str(&w, o->importing ? "-<-" : "->-");
            put_str(&w, o->peer);
            put(&w, "]", 1);
        }
    }
    if (cap > 0) out[w.len < cap ? w.len : cap - 1] = '\0';
    return w.len;
}

bool nodes_conf_append_line(char **buf, size_t *len, size_t *cap, const nodes_conf_node_t *n,
                            bool with_open_slots)
{
    /* Formatted straight into the room left, and again only when it did not
     * fit: every save formats every line, and a sizing pass first was half
     * of that work. Room for a line with a few slot ranges is made first. */
    if (*buf == NULL || *cap - *len < 512) {
        size_t want = *cap ? *cap * 2 : 1024;
        while (want - *len < 512) want *= 2;
        char *grown = realloc(*buf, want);
        if (!grown) return false;
        *buf = grown;
        *cap = want;
    }
    size_t need = nodes_conf_format_line(*buf + *len, *cap - *len, n, with_open_slots);
    /* line + '\n' + the NUL the line formatter writes */
    if (*cap - *len < need + 2) {
        size_t want = *cap;
        while (want - *len < need + 2) want *= 2;
        char *grown = realloc(*buf, want);
        if (!grown) return false;
        *buf = grown;
        *cap = want;
        nodes_conf_format_line(*buf + *len, need + 1, n, with_open_slots);
    }
    (*buf)[*len + need] = '\n';
    *len += need + 1;
    return true;
}

char *nodes_conf_format(const nodes_conf_t *conf, size_t *len_out)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (size_t i = 0; i < conf->node_count; i++) {
        const nodes_conf_node_t *n = &conf->nodes[i];
        if (n->flags & NODES_CONF_FLAG_HANDSHAKE) continue;   /* never persisted */
        if (!nodes_conf_append_line(&buf, &len, &cap, n, (n->flags & NODES_CONF_FLAG_MYSELF) != 0)) {
            free(buf);
            return NULL;
        }
    }
    char vars[96];
    int vl = snprintf(vars, sizeof vars, "vars currentEpoch %llu lastVoteEpoch %llu\n",
                      (unsigned long long)conf->current_epoch, (unsigned long long)conf->last_vote_epoch);
    char *grown = realloc(buf, len + (size_t)vl + 1);
    if (!grown) { free(buf); return NULL; }
    memcpy(grown + len, vars, (size_t)vl + 1);
    *len_out = len + (size_t)vl;
    return grown;
}

/* config_text.c - the text rules of redis.conf: splitting a line into
 * arguments with Redis's quoting, quoting a value back, strict integers,
 * memory units, and a small string builder used by the config files.
 *
 * Pure helpers: no config state, no I/O. Must never read past the NUL of the
 * text it is given; every allocation is bounded by the input length.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "actors/config/config_internal.h"
#include "proto/splitargs.h"
#include "runtime/xmalloc.h"

void cfg_sb_add(cfg_sb_t *sb, const char *s, size_t n)
{
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 64;
        while (cap < sb->len + n + 1) cap *= 2;
        sb->s = xrealloc(sb->s, cap);
        sb->cap = cap;
    }
    if (n) memcpy(sb->s + sb->len, s, n);
    sb->len += n;
    sb->s[sb->len] = '\0';
}

void cfg_sb_adds(cfg_sb_t *sb, const char *s) { cfg_sb_add(sb, s, strlen(s)); }

void cfg_sb_addf(cfg_sb_t *sb, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) { cfg_sb_add(sb, small, (size_t)n); return; }
    char *big = xrealloc(NULL, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    cfg_sb_add(sb, big, (size_t)n);
    free(big);
}

void cfg_free_args(char **argv, int argc)
{
    if (!argv) return;
    for (int i = 0; i < argc; i++) free(argv[i]);
    free(argv);
}

/* The words of one line, as cfg_split_args returns them. */
typedef struct { char **vec; int n; } cfg_words_t;

static void cfg_add_word(void *arg, const char *word, size_t len)
{
    cfg_words_t *w = arg;
    char *copy = xmalloc(len + 1);
    memcpy(copy, word, len);
    copy[len] = '\0';
    w->vec = xrealloc(w->vec, sizeof(char *) * (size_t)(w->n + 2));
    w->vec[w->n++] = copy;
    w->vec[w->n] = NULL;
}

/* Redis's quoting (proto/splitargs.h): a quote may open in the middle of a
 * word (foo"bar" is one argument), but a closing quote must be followed by a
 * blank or the end. This is what redis-server accepts, so files that work
 * there work here. */
char **cfg_split_args(const char *line, int *argc)
{
    size_t len = strlen(line);
    char *scratch = xmalloc(len + 1);
    cfg_words_t w = {0};
    bool ok = splitargs((const uint8_t *)line, len, scratch, cfg_add_word, &w);
    free(scratch);
    if (!ok) {
        cfg_free_args(w.vec, w.n);
        *argc = 0;
        return NULL;
    }
    if (!w.vec) w.vec = xcalloc(1, sizeof(char *));
    *argc = w.n;
    return w.vec;
}

void cfg_repr(cfg_sb_t *sb, const char *s, size_t len)
{
    size_t need = splitargs_repr(s, len, NULL, 0);
    char *q = xmalloc(need + 1);
    splitargs_repr(s, len, q, need + 1);
    cfg_sb_add(sb, q, need);
    free(q);
}

int cfg_memtoull(const char *s, unsigned long long *out)
{
    const char *u = s;
    unsigned long long mul;
    if (*u == '-') return 0;
    while (*u && isdigit((unsigned char)*u)) u++;
    if (*u == '\0' || !strcasecmp(u, "b")) mul = 1;
    else if (!strcasecmp(u, "k")) mul = 1000ULL;
    else if (!strcasecmp(u, "kb")) mul = 1024ULL;
    else if (!strcasecmp(u, "m")) mul = 1000ULL * 1000;
    else if (!strcasecmp(u, "mb")) mul = 1024ULL * 1024;
    else if (!strcasecmp(u, "g")) mul = 1000ULL * 1000 * 1000;
    else if (!strcasecmp(u, "gb")) mul = 1024ULL * 1024 * 1024;
    else return 0;
    size_t digits = (size_t)(u - s);
    /* No digits at all ("" or "kb") reads as 0: redis-server 7.0.15 accepts
     * `CONFIG SET maxmemory ""`, and scripts may rely on it. */
    if (digits > 20) return 0;
    char buf[32];
    memcpy(buf, s, digits);
    buf[digits] = '\0';
    errno = 0;
    char *end;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno == ERANGE || *end != '\0') return 0;
    if (v > ULLONG_MAX / mul) return 0;
    *out = v * mul;
    return 1;
}

int config_memtoull(const char *s, unsigned long long *out) { return cfg_memtoull(s, out); }

void cfg_format_memory(char *buf, size_t cap, long long bytes)
{
    const long long gb = 1024LL * 1024 * 1024, mb = 1024LL * 1024, kb = 1024;
    if (bytes && bytes % gb == 0) snprintf(buf, cap, "%lldgb", bytes / gb);
    else if (bytes && bytes % mb == 0) snprintf(buf, cap, "%lldmb", bytes / mb);
    else if (bytes && bytes % kb == 0) snprintf(buf, cap, "%lldkb", bytes / kb);
    else snprintf(buf, cap, "%lld", bytes);
}

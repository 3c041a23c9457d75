/* script_shebang.c - the first line of an EVAL script, `#!lua flags=...`, as 7.0.15 reads it.
 *
 * Without a shebang a script runs in compatibility mode (SCRIPT_F_COMPAT);
 * with one, its flags (no-writes, allow-oom, allow-stale, no-cluster,
 * allow-cross-slot-keys) decide how it is routed and what it may call.
 * Error texts are 7.0.15's.
 *
 * Must never: read past the first line.
 */
#include <stdbool.h>
#include <string.h>

#include "actors/commands/script.h"

static const struct { const char *name; unsigned flag; } shebang_flags[] = {
    { "no-writes", SCRIPT_F_NO_WRITES }, { "allow-oom", SCRIPT_F_ALLOW_OOM }, { "allow-stale", SCRIPT_F_ALLOW_STALE },
    { "no-cluster", SCRIPT_F_NO_CLUSTER }, { "allow-cross-slot-keys", SCRIPT_F_CROSS_SLOT },
};

/* One flags=a,b,c list into *flags; false with the error in r. */
static bool parse_flag_list(const char *p, size_t n, unsigned *flags, resp_buf_t *r)
{
    while (n > 0) {
        const char *comma = memchr(p, ',', n);
        size_t k = comma ? (size_t)(comma - p) : n;
        size_t i = 0;
        while (i < sizeof shebang_flags / sizeof *shebang_flags &&
               !(strlen(shebang_flags[i].name) == k && !memcmp(shebang_flags[i].name, p, k)))
            i++;
        if (i == sizeof shebang_flags / sizeof *shebang_flags) {
            resp_add_errorf(r, "ERR Unexpected flag in script shebang: %.*s", (int)k, p);
            return false;
        }
        *flags |= shebang_flags[i].flag;
        p += k + (comma ? 1 : 0);
        n -= k + (comma ? 1 : 0);
    }
    return true;
}

bool script_shebang(const char *body, size_t len, unsigned *flags, size_t *skip, resp_buf_t *r)
{
    *flags = SCRIPT_F_COMPAT;
    *skip = 0;
    if (len < 2 || body[0] != '#' || body[1] != '!') return true;
    const char *nl = memchr(body, '\n', len);
    if (!nl) {
        if (r) resp_add_error(r, "ERR Invalid script shebang");
        return false;
    }
    *flags = 0;
    *skip = (size_t)(nl - body);
    /* words of the first line, split on blanks */
    const char *p = body, *end = nl;
    bool first = true;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
        if (p == end) break;
        const char *w = p;
        while (p < end && *p != ' ' && *p != '\t' && *p != '\r') p++;
        size_t wl = (size_t)(p - w);
        if (first) {
            first = false;
            if (!(wl == 5 && !memcmp(w, "#!lua", 5))) {
                if (r) resp_add_errorf(r, "ERR Unexpected engine in script shebang: %.*s", (int)wl, w);
                return false;
            }
        } else if (wl >= 6 && !memcmp(w, "flags=", 6)) {
            resp_buf_t scratch;
            resp_buf_init(&scratch, 2);
            bool ok = parse_flag_list(w + 6, wl - 6, flags, r ? r : &scratch);
            resp_buf_free(&scratch);
            if (!ok) return false;
        } else {
            if (r) resp_add_errorf(r, "ERR Unknown lua shebang option: %.*s", (int)wl, w);
            return false;
        }
    }
    return true;
}

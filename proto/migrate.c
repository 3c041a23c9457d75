/* migrate.c - see migrate.h. */
#include <string.h>
#include "proto/migrate.h"

bool mig_line_feed(mig_line_t *l, const uint8_t *buf, size_t len, size_t *used)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = buf[i++];
        if (c == '\n') {
            if (l->len && l->text[l->len - 1] == '\r') l->len--;
            l->text[l->len] = '\0';
            *used = i;
            return true;
        }
        l->text[l->len++] = (char)c;
        if (l->len == MIG_LINE_MAX) {
            l->text[l->len] = '\0';
            *used = i;
            return true;
        }
    }
    *used = i;
    return false;
}

void mig_verdict_init(mig_verdict_t *v)
{
    memset(v, 0, sizeof *v);
}

static void keep(char *dst, const char *line)
{
    size_t n = strlen(line);
    if (n > MIG_LINE_MAX) n = MIG_LINE_MAX;
    memcpy(dst, line, n);
    dst[n] = '\0';
}

bool mig_verdict_line(mig_verdict_t *v, enum mig_role role, const char *line)
{
    bool failed = line[0] == '-';
    switch (role) {
    case MIG_ROLE_AUTH:
        v->auth_failed = failed;
        if (failed) keep(v->auth_line, line);
        return false;
    case MIG_ROLE_SELECT:
        v->select_failed = failed;
        if (failed) keep(v->select_line, line);
        return false;
    case MIG_ROLE_AUX:
        v->aux_failed = failed;
        if (failed) keep(v->aux_line, line);
        return false;
    case MIG_ROLE_KEY:
        break;
    }
    bool aux = v->aux_failed;
    v->aux_failed = false;
    if (!v->auth_failed && !v->select_failed && !aux && !failed) return true;
    if (!v->error) {
        const char *why = v->auth_failed ? v->auth_line : v->select_failed ? v->select_line
                        : aux ? v->aux_line : line;
        keep(v->error_text, why + 1);
        v->error = true;
    }
    return false;
}

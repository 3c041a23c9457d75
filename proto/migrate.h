/* migrate.h - the bytes of MIGRATE's conversation with its target, as
 * redis-server 7.0.15 holds it: reply lines read the way its synchronous
 * line reader reads them, and the verdict over one round of replies (which
 * keys the target took, which error the client hears).
 *
 * Pure: no I/O, no globals, no allocation. The worker side that owns the
 * socket is actors/worker/migrate.c.
 */
#ifndef SHOAL_PROTO_MIGRATE_H
#define SHOAL_PROTO_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 7.0.15 reads each reply into a 1024-byte buffer: a longer line is cut
 * and its rest read as the next line. */
#define MIG_LINE_MAX 1023

typedef struct mig_line {
    char text[MIG_LINE_MAX + 1];  /* NUL-terminated, without CR LF */
    size_t len;
} mig_line_t;

/* Feeds bytes to the line in progress. Returns true when a line is complete
 * (in l->text; the caller resets l->len to 0 before the next one) and sets
 * *used to the bytes taken from buf; false when every byte was taken and the
 * line still needs more. A line ends at '\n', a '\r' before it is dropped;
 * MIG_LINE_MAX bytes without '\n' end it too. */
bool mig_line_feed(mig_line_t *l, const uint8_t *buf, size_t len, size_t *used);

/* What each reply line of a round answers. */
enum mig_role {
    MIG_ROLE_AUTH = 0,            /* AUTH [user] password */
    MIG_ROLE_SELECT,              /* SELECT db */
    MIG_ROLE_AUX,                 /* a prefix of the next key's command (ASKING) */
    MIG_ROLE_KEY,                 /* RESTORE(-ASKING) of a key, or DEL of one gone since */
};

/* The verdict over one round, built line by line. 7.0.15's rule: a key is
 * taken when its line is not an error and neither AUTH nor SELECT failed;
 * the client hears the first error, AUTH's before SELECT's before a key's,
 * as "Target instance replied with error: <line without '-'>". */
typedef struct mig_verdict {
    bool auth_failed, select_failed, aux_failed;
    bool error;                   /* some key's line (or AUTH/SELECT) failed */
    char error_text[MIG_LINE_MAX + 1];
    char auth_line[MIG_LINE_MAX + 1];
    char select_line[MIG_LINE_MAX + 1];
    char aux_line[MIG_LINE_MAX + 1];
} mig_verdict_t;

void mig_verdict_init(mig_verdict_t *v);
/* Takes the next line of the round; for MIG_ROLE_KEY returns whether that
 * key was taken (false for the other roles). */
bool mig_verdict_line(mig_verdict_t *v, enum mig_role role, const char *line);

#endif

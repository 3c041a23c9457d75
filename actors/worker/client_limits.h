/* client_limits.h - the per-client memory limits redis-server enforces:
 * client-query-buffer-limit and client-output-buffer-limit (hard and soft,
 * per class), judged as 7.0.15 judges them, plus what CLIENT LIST reports
 * about a client's buffers.
 *
 * The output-buffer limits are parsed once into atomics (at start and after
 * each CONFIG SET of the directive), so that the check that runs after every
 * command costs a few loads instead of a config lock and a sscanf.
 *
 * Must never: free a client (it closes it with client_close, which defers the
 * free), or be called for a client from a thread other than its worker's.
 */
#ifndef SHOAL_ACTORS_CLIENT_LIMITS_H
#define SHOAL_ACTORS_CLIENT_LIMITS_H

#include <stdbool.h>
#include <stddef.h>

struct client;

/* Redis's output-buffer classes, in its order. */
enum client_class { CLIENT_CLASS_NORMAL = 0, CLIENT_CLASS_REPLICA = 1, CLIENT_CLASS_PUBSUB = 2 };

/* Loads the limits from the configuration and follows CONFIG SET. Once, at
 * start, before any client exists. */
void climits_init(void);

/* Redis's checkClientOutputBufferLimits for `used` bytes of class `cls`:
 * true when the hard limit is reached, or the soft limit has been reached
 * continuously for more than its seconds. *soft_since_s is the caller's
 * per-client state (0 = under the soft limit), `now_s` the wall clock in
 * seconds, or -1 to read it only if the soft limit needs it (a check runs
 * after every command). `complete` says `used` is the whole buffer: only then may being
 * under the soft limit stop its clock (a partial count proves nothing). */
bool climits_obuf_over(int cls, size_t used, long long *soft_since_s, long long now_s, bool complete);

/* The fewest bytes at which climits_obuf_over can say yes for class cls
 * (the smaller of its non-zero hard and soft limits; SIZE_MAX with neither
 * set): a quick check of a client holding less is known to pass, with no
 * effect. Relaxed, as the limits it reads. */
size_t climits_obuf_floor(int cls);

/* Bytes of reply this client holds that the socket has not taken yet
 * (unsent output plus replies queued behind a pending one): CLIENT LIST's
 * omem, and what client-output-buffer-limit measures. */
size_t client_obuf_bytes(const struct client *c);
/* All the memory the client holds: CLIENT LIST's tot-mem. */
size_t client_total_mem(const struct client *c);

/* How much of the output client_check_obuf looks at. */
enum obuf_check {
    OBUF_CHECK_QUICK,   /* after a reply: the unsent output buffer only, O(1) per command */
    OBUF_CHECK_FULL,    /* after a write left bytes: also the replies queued behind a pending one */
    OBUF_CHECK_CRON,    /* as FULL, from the worker cron (Redis's "closed" wording) */
};

/* Closes the client if its output buffer is over the limit of its class,
 * logging as Redis does ("scheduled to be closed ASAP", or "closed" from the
 * cron). Returns true if the client was closed. */
bool client_check_obuf(struct client *c, enum obuf_check how);

/* After bytes were read: closes the client if its unparsed input exceeds
 * client-query-buffer-limit, logging Redis's line. Returns true if closed. */
bool client_check_qbuf(struct client *c);

#endif

/* client_ids.h - the ids of the node's open client connections.
 *
 * 7.0.15 answers "does client id N exist?" from its client dictionary
 * (lookupClientByID): CLIENT TRACKING ... REDIRECT refuses an id that is not
 * there, and an invalidation for a redirect whose target has gone turns into
 * `tracking-redir-broken`. shoal's clients live on their workers' lists,
 * which only the owner may walk; this set answers the question for any
 * thread.
 *
 * Must never: be on the path of an ordinary command (only accept, close and
 * the tracking code use it).
 */
#ifndef SHOAL_ACTORS_WORKER_CLIENT_IDS_H
#define SHOAL_ACTORS_WORKER_CLIENT_IDS_H

#include <stdbool.h>
#include <stdint.h>

/* Any thread. An id is added once, when its connection is accepted, and
 * removed once, when it closes. */
void client_ids_add(uint64_t id);
void client_ids_del(uint64_t id);
bool client_ids_exists(uint64_t id);

#endif

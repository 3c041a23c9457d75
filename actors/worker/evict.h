/* evict.h - maxmemory: when the node's memory is above the limit, each
 * worker deletes keys of its own partition, chosen by maxmemory-policy as
 * redis-server 7.0.15 chooses them, until it has given back its share.
 *
 * The node's memory is the sum of the threads' allocation counters
 * (runtime/memcount.h). What is above maxmemory is shared among the
 * workers in proportion to their datasets (each keyspace's bytes): a
 * worker that holds a third of the data frees a third of the excess. A
 * worker evicts before each command a client sends it (as Redis before
 * each command) and from its cron, so a worker without traffic comes down
 * too. Candidates come from a pool of the best keys seen so far, refilled
 * from maxmemory-samples random keys of each database per round (Redis's
 * eviction pool, whose candidates remember their database):
 * LRU by idle time, LFU by the decayed counter, volatile-ttl by the
 * nearest expiry; the random policies take one random key of the next
 * database that has one. Each eviction
 * goes to replicas and the AOF as a DEL, raises evicted_keys and sends
 * the "evicted" keyspace event.
 *
 * Must never: evict on a replica while replica-ignore-maxmemory is yes (the default)
 * or during a client pause (the keyspace is in replica mode then), run on
 * another thread than the one holding the keyspace, or spend more than
 * maxmemory-eviction-tenacity's time limit in one call.
 */
#ifndef SHOAL_ACTORS_EVICT_H
#define SHOAL_ACTORS_EVICT_H

#include <stdbool.h>

struct worker;

enum { EVICT_OK = 0, EVICT_RUNNING = 1, EVICT_FAIL = 2 };

/* The maxmemory-policy values, in the config table's order. */
enum {
    EVICT_VOLATILE_LRU = 0, EVICT_VOLATILE_LFU, EVICT_VOLATILE_RANDOM, EVICT_VOLATILE_TTL,
    EVICT_ALLKEYS_LRU, EVICT_ALLKEYS_LFU, EVICT_ALLKEYS_RANDOM, EVICT_NOEVICTION,
};

/* Any thread. maxmemory in bytes (0: no limit). */
long long evict_maxmemory(void);
int evict_policy(void);
/* The process's heap bytes (INFO's used_memory). */
long long evict_used_memory(void);
/* What 7.0.15 leaves out when it compares used memory with maxmemory: the
 * AOF buffer and the replicas' buffers beyond the backlog
 * (mem_not_counted_for_evict); and the batches of commands sent to another
 * worker that are not back yet (batch.h): counted, a worker that falls
 * behind (descheduled, or in a script) made the others evict every key of
 * theirs and then answer -OOM under allkeys-*, for memory that is a
 * pipeline's writes on their way to keys that may be evicted; and the
 * published messages on their way to the workers of their subscribers
 * (pubsub.h): counted, the "evicted" events of a pipeline's evictions made
 * more memory while the subscribers' worker was behind than the evictions
 * freed, until every key was gone and a SET was answered -OOM. */
long long evict_not_counted_memory(void);
/* Any thread, before a command runs (7.0.15's out_of_memory in
 * processCommand): true when maxmemory is set, the memory is above it and
 * evicting cannot help (noeviction, or no key the policy may take on any
 * worker). A replica's check is the caller's. */
bool evict_out_of_memory(void);
#define EVICT_OOM_ERROR "OOM command not allowed when used memory > 'maxmemory'."
/* At dispatch, under the snapshot `snap` (may be NULL), for a command with
 * the denyoom flag (else false): evict_out_of_memory, on a master only (a
 * replica ignores maxmemory: replica-ignore-maxmemory). */
struct cluster_snapshot;
bool evict_refuses(const struct cluster_snapshot *snap, bool denyoom);
/* While the node loads its AOF (main.c) nothing is evicted, as 7.0.15
 * evicts only before a client's command; a dump.rdb load likewise. */
void evict_set_loading(bool on);
/* The thread holding w's keyspace, inside a snapshot section: evicts keys of
 * w's partition toward its share of the excess. EVICT_OK (nothing to do or
 * done), EVICT_RUNNING (the time limit came first: the next command or the
 * cron goes on), EVICT_FAIL (over the limit with nothing to evict). */
int evict_perform(struct worker *w);
/* Once, before workers start: a CONFIG SET of maxmemory (or of its policy or
 * tenacity) that leaves the node above the limit sets every worker evicting
 * at once, call after call between its other work while it makes progress,
 * as 7.0.15's eviction time proc does, instead of waiting for traffic or
 * the cron. */
void evict_init(void);

#endif

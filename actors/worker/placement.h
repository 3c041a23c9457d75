/* placement.h - which worker serves a connection: packed on as few workers
 * as the load needs, spread over more when they get busy (docs/design.md
 * §3.4, "Packing connections").
 *
 * Must never: move a connection that has anything in flight (a reply
 * pending, output unsent, a lent socket, MULTI, WATCH, a block or a pause),
 * or touch another worker's clients: a move is a message to the new owner.
 */
#ifndef SHOAL_ACTORS_PLACEMENT_H
#define SHOAL_ACTORS_PLACEMENT_H

#include <stdbool.h>
#include "actors/worker/worker.h"

struct client;

/* The worker a new connection goes to (any thread): round-robin over the
 * workers that take connections now. */
int placement_pick(void);
/* The worker that does a new TLS connection's handshake (any thread):
 * round-robin over every worker, so that handshakes run in parallel; the
 * connection is packed like the others once its handshake is done. */
int placement_pick_tls(void);

/* Called by each worker's cron on its own thread: measures how busy the
 * worker was since the last call, lets worker 0 decide how many workers
 * take connections, and moves this worker's idle connections where that
 * decision (or a count out of balance) wants them. */
void placement_tick(worker_t *w);

/* DEBUG PLACEMENT: n > 0 makes the first n workers take connections from
 * now on whatever the load (connections move at the workers' next crons);
 * 0 gives the choice back to the load. Any thread. */
void placement_force(int n);

/* Before a connection's first (S|P)SUBSCRIBE runs (client_process_input):
 * the worker it should move to first, or NULL (the header comment of
 * placement.c says why). placement_move_before_command moves it, with the
 * command still unparsed in its query buffer, once the input pass is over
 * (also a debugger session's EVAL, to its keys' worker: ldb_conn.h);
 * placement_can_move_before_command says whether it may move so, to `to`
 * (never into a worker that reads no messages now: a busy script's). */
worker_t *placement_subscriber_move(const struct client *c, const uint8_t *name, size_t len);
bool placement_can_move_before_command(const struct client *c, const worker_t *to);
/* Before a MIGRATE runs (client_process_input): the worker that keeps its
 * keys when that is not the connection's, or NULL. A MIGRATE runs on its
 * keys' worker (it waits there for its target); sent from another worker it
 * cost that worker two wake-ups (the call, the answer) per call, where a
 * move costs one, once: `redis-cli --cluster reshard` sends a MIGRATE per 10
 * keys of a slot, all of one worker, then the next slot's are the other's. */
worker_t *placement_migrate_move(const struct client *c, int argc, const uint8_t **argv, const size_t *argvlen);
void placement_move_before_command(struct client *c, worker_t *to);

/* Workers that take connections now, and connections moved so far (INFO threads). */
int placement_active(void);
unsigned long long placement_moves(void);
/* Worker i's connections (moves in flight counted on the receiver) and its
 * busy share of a core over its last cron period, in thousandths. */
long long placement_clients(int i);
int placement_busy_permille(int i);
/* Whether worker i reads its messages now: not inside a busy script, and no
 * script holds every worker (what a connection handed to it needs). */
bool placement_takes_work(int i);
/* Worker i's cron period now in ms (wcron.c). */
int placement_cron_ms(int i);

/* The spread/pack rule that both placements follow (connections here, bus
 * links in link_place.c): `count` threads take work; spread to one more
 * when they are busy above spread_permille each on average for
 * spread_ticks crons in a row, pack to one fewer when their load would fit
 * on count - 1 threads below pack_permille each for pack_ticks crons. */
typedef struct placement_rule {
    int spread_permille, pack_permille;   /* thousandths of a core per thread */
    int spread_ticks, pack_ticks;         /* crons a condition must hold */
} placement_rule_t;
/* Crons each condition has held so far: the deciding thread's own. */
typedef struct placement_trend {
    int spread, pack;
} placement_trend_t;
/* One cron's decision: the new count (1..max) from `busy_sum`, the busy
 * permille summed over the `count` threads taking work now. */
int placement_step(const placement_rule_t *rule, placement_trend_t *trend, int count, int max, long long busy_sum);

#endif

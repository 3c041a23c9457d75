/* aof_gate.h - the reply gate of appendfsync always, on a worker.
 *
 * 7.0.15 sends no reply before the fsync of the writes before it. Before
 * its loop sleeps a worker takes the AOF's written mark (aof_reply_mark).
 * When no fsync runs and none should wait for more writers, it runs one
 * itself and then writes its round's replies (aof_reply_sync_inline, as
 * 7.0.15 in beforeSleep), unless the round wrote AOF_OVERLAP_MIN_BYTES or
 * more and other work waits for the loop (rt_thread_work_waiting: a
 * readable socket, a message): then the syncer's fsync overlaps the
 * worker's next round (-P 16 rounds: 1.63 -> 1.93x redis-server; the same
 * hand-off on -P 1 rounds of ~2 KB made the fsync twice as long beside the
 * next writes, 1.29 -> 0.80x, so small rounds keep the fsync). Otherwise it does not
 * wait for the fsync: it lets
 * each client with new output
 * write only what an fsync already covers; the rest waits, with that mark,
 * while the worker goes on reading and running commands. The AOF's syncer
 * thread runs the fsyncs one after another (aof_gcommit.c: when the next
 * starts), each covering whatever every worker wrote before it started,
 * and wakes the worker when its mark is reached;
 * the bytes covered then go out. So one fsync answers the clients of all
 * workers and the disk's time overlaps the workers' CPU time.
 *
 * Must never: let a byte of a client's output leave before an fsync that
 * started after the mark taken when the byte was already in the buffer;
 * keep a closed client on the gated list.
 */
#ifndef SHOAL_ACTORS_WORKER_AOF_GATE_H
#define SHOAL_ACTORS_WORKER_AOF_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/worker/worker_internal.h"

struct client;

/* A round's unsynced AOF bytes from which its fsync is left to the syncer
 * when more work waits (see above): -P 16 rounds of 50 clients write ~36 KB
 * of small SETs, -P 1 rounds ~2 KB. */
#define AOF_OVERLAP_MIN_BYTES (8u * 1024u)

/* Once per worker, before it runs: registers its wake-up with the syncer. */
void aof_gate_init(worker_t *w);
/* Before the writes of a loop iteration (owner thread): the gated clients
 * whose marks an fsync reached get their bytes released. Then, for each
 * client about to be written, aof_gate_note with the mark taken once for
 * the round (aof_reply_mark; 0: nothing to wait for). */
void aof_gate_release(worker_t *w);
void aof_gate_note(struct client *c, uint64_t mark);
/* After the round, when some client waits on `mark`: ask for the fsync. */
void aof_gate_wait(worker_t *w, uint64_t mark);
/* How many bytes of c->out may be written now. */
static inline size_t aof_gate_limit(const struct client *c);
/* c's output was all written (or c closes): it leaves the list. */
void aof_gate_drop(struct client *c);

#include "actors/worker/client.h"
static inline size_t aof_gate_limit(const struct client *c)
{
    return (c->flags & CLIENT_AOF_GATED) ? c->aof_rel : c->out.len;
}

/* appendfsync always, from the writable socket's handler: true while c
 * got output this loop pass (it waits for worker_write_scheduled, which
 * puts it behind the pass's fsync). A pass that reads a write and finds
 * the socket writable must not send that write's reply first: 7.0.15 runs
 * the writable handler before the readable one then (AE_BARRIER). */
bool aof_gate_defer_write(const client_t *c);

#endif

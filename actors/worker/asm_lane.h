/* asm_lane.h - the workers' part of an atomic slot migration
 * (docs/migrateslots.md).
 *
 * Source side: each worker that keeps keys of a migrating slot runs one lane
 * for the job: its own connection to the target's client port, on its own
 * loop. The lane sends a handshake (AUTH when masterauth is set, CLIENT
 * SETNAME, CLUSTER SYNCSLOTS ESTABLISH), then its slots' keys one slot at a
 * time as RESTORE ... ABSTTL REPLACE (DUMP payloads: RDB values), and from the
 * moment a slot's keys are queued, the effect of every write to that slot as
 * the replication stream carries it. Keys of one worker never meet another
 * worker's, so each lane is a consistent, independent stream: no cut across
 * workers is needed. It counts the target's replies (every command is
 * answered; any error fails the job), and tells the state actor when the
 * snapshot is applied, when a seal has drained, and how the takeover went.
 * A sealed slot refuses writes that reached its worker after the pause began
 * (routed before it) with -MOVED to the target, so none can be lost.
 *
 * Target side: the connections of lanes are ordinary clients flagged
 * CLIENT_ASM_LANE; this file drops a job's keys on every worker when an
 * import starts or fails.
 *
 * Must never: touch a keyspace from another thread; let a write to a slot
 * whose keys were queued go unforwarded while the lane lives; report a
 * drain while a command sent is unanswered.
 */
#ifndef SHOAL_ACTORS_WORKER_ASM_LANE_H
#define SHOAL_ACTORS_WORKER_ASM_LANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/state/asm.h"
#include "actors/worker/client.h"
#include "proto/slot.h"

/* What the state actor gives a new lane (the lane owns it, and `hello`). */
typedef struct asm_lane_spec {
    uint64_t job;
    int lane;
    char name[ASM_NAME_LEN + 1];
    char host[64];
    int port;
    uint8_t slots[SLOT_COUNT / 8];   /* bit s at byte s/8: this lane's slots */
    char *hello;                     /* handshake commands, RESP (malloc'd) */
    size_t hello_len;
    int hello_replies;               /* replies the handshake gets; the last is ESTABLISH's */
} asm_lane_spec_t;

/* ---- from the state actor (any thread): messages to worker `w` ---- */
void asm_lane_start(int w, asm_lane_spec_t *spec);
void asm_lane_seal(int w, uint64_t job);
void asm_lane_takeover(int w, uint64_t job);
void asm_lane_end(int w, uint64_t job);
/* Target: every worker deletes its keys of `slots` (DELs to our replicas)
 * and reports ASM_EV_DROP_DONE for job. Returns how many reports to expect. */
int asm_workers_drop(const uint8_t *slots, uint64_t job);
/* Source, after the handover: every worker deletes its keys of `slots` a
 * piece at a time (DELs to our replicas), skipping a slot that is ours again. */
void asm_workers_drop_background(const uint8_t *slots);

/* ---- hooks on a worker's own thread ---- */
/* True while a lane lives on w (one load: the hooks below cost nothing else). */
bool asm_lane_any(const worker_t *w);
/* Before a write runs: true (and `reply` holds -MOVED to the target) when
 * its slot is sealed here. */
bool asm_lane_refuse(worker_t *w, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                     const size_t *argvlen, resp_buf_t *reply);
/* After a write ran (dirty): its effect goes to the lane of its slot. */
struct cmd_ctx;
void asm_lane_note_write(worker_t *w, const cmd_def_t *cmd, struct cmd_ctx *ctx);
/* On the client's worker, before a command runs: a write (or an EXEC with
 * one) to a slot whose writes a migration pauses (state/asm.h) must wait. */
bool asm_write_paused(client_t *c, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen);
/* Target, before a lane's command runs (the client flagged CLIENT_ASM_LANE,
 * not yet CLIENT_ASM_PLACED): the worker the lane's connection should move
 * to, the one that keeps the command's first key, or NULL (it is there:
 * placed; or nothing may move now: asked again at its next command). A
 * source lane carries one source worker's slots (slot % its workers), so
 * with as many workers here every key it sends is that worker's: each
 * RESTORE then runs where it arrives, and the lanes' work spreads over our
 * workers instead of all landing on the worker that accepted them. */
worker_t *asm_lane_place(client_t *c, int argc, const uint8_t **argv, const size_t *argvlen);
/* w's keyspace was emptied or replaced: its lanes fail. */
void asm_lane_flushed(worker_t *w);
/* An expired key is deleted here: the lane of its slot sends DEL. */
void asm_lane_note_expired(worker_t *w, const uint8_t *key, size_t len);

#endif

/* asm.h - atomic slot migration (CLUSTER MIGRATESLOTS, GETSLOTMIGRATIONS,
 * CANCELSLOTMIGRATIONS, and the SYNCSLOTS conversation between two shoal
 * masters): what the workers read and what they tell the state actor.
 * docs/migrateslots.md describes the protocol and its invariants.
 *
 * Two slot sets are published here as atomic bitmaps, written only by the
 * state actor (state_asm.c) and read lock-free by every worker:
 *   - paused: on the source, slots whose writes wait (the client is held,
 *     as under CLIENT PAUSE WRITE) while the last bytes of a migration drain
 *     and the target takes the slots;
 *   - hidden: on the target, slots being imported: their keys exist here
 *     but no client sees them (not routable, not counted by DBSIZE, KEYS,
 *     SCAN, RANDOMKEY, COUNTKEYSINSLOT, GETKEYSINSLOT) until the takeover.
 *
 * Must never: be written by anyone but the state actor; make a worker wait.
 */
#ifndef SHOAL_ACTORS_STATE_ASM_H
#define SHOAL_ACTORS_STATE_ASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "runtime/actor.h"

struct keyspace;

#define ASM_NAME_LEN 40

/* ---- any thread ---- */
bool asm_any_paused(void);
bool asm_slot_paused(unsigned slot);
/* Moves whenever the paused set changes: a worker holding clients looks again. */
uint64_t asm_pause_gen(void);
bool asm_any_hidden(void);
bool asm_slot_hidden(unsigned slot);
bool asm_key_hidden(const uint8_t *key, size_t len);
/* On the keyspace's own thread: how many of its keys are in hidden slots
 * (DBSIZE subtracts them). */
size_t asm_hidden_keys(const struct keyspace *ks);

/* DEBUG SLOTMIGRATION HOLD <step>: tests stop a migration at a step so that
 * they can kill a side there (0 none, else enum asm_hold). Relaxed: a knob. */
enum asm_hold { ASM_HOLD_NONE = 0, ASM_HOLD_SNAPSHOT, ASM_HOLD_STREAM, ASM_HOLD_PAUSED };
void asm_set_hold(int step);
int asm_hold(void);

/* ---- what workers tell the state actor (type STATE_MSG_ASM) ---- */
enum asm_event_kind {
    ASM_EV_ESTABLISHED = 1,   /* source lane: the target accepted SYNCSLOTS ESTABLISH */
    ASM_EV_SNAPSHOT_DONE,     /* source lane: every key sent and (nearly) all applied */
    ASM_EV_DRAINED,           /* source lane: sealed, and every command sent was applied */
    ASM_EV_TAKEOVER_OK,       /* source lane: the target owns the slots; value = its configEpoch */
    ASM_EV_FAILED,            /* source lane: text says why */
    ASM_EV_CLIENT_CLOSED,     /* target: a lane's connection closed (client_id) */
    ASM_EV_DROP_DONE,         /* target: a worker dropped a job's slots' keys */
    ASM_EV_PROGRESS,          /* source lane: replies arrived (last_ack_time) */
};

typedef struct asm_event {
    rt_msg_t hdr;             /* STATE_MSG_ASM; the state actor frees it */
    int kind;
    uint64_t job;
    int lane;
    long long value;
    uint64_t client_id;
    char text[256];
} asm_event_t;

/* Any thread: sends a heap-allocated event to the state actor. */
void asm_event_post(int kind, uint64_t job, int lane, long long value, uint64_t client_id, const char *text);

#endif

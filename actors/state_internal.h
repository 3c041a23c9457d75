/* state_internal.h - the state actor's private data, shared by its files
 * (state.c: lifecycle, snapshots, saving; state_cmds.c: CLUSTER commands). */
#ifndef SHOAL_ACTORS_STATE_INTERNAL_H
#define SHOAL_ACTORS_STATE_INTERNAL_H

#include <semaphore.h>
#include "actors/state.h"
#include "actors/worker.h"

enum state_msg {
    STATE_MSG_CMD = 100,          /* remote_cmd_t: a CLUSTER subcommand to apply */
    STATE_MSG_DURABLE,            /* persist_ack_t from the persister */
    STATE_MSG_SAVE_SYNC,          /* state_sync_req_t: save now and post a semaphore */
};

typedef struct state_sync_req {
    rt_msg_t hdr;
    sem_t *done;
    int *result;
} state_sync_req_t;

typedef struct state_node {
    char name[NODE_NAME_LEN + 1];
    char ip[46];
    char hostname[256];
    int port, cport, pport;
    uint16_t flags;
    int master;
    char master_name[NODE_NAME_LEN + 1];
    long long ping_sent_ms, pong_received_ms;
    uint64_t config_epoch;
    long long repl_offset;
    bool link_connected;
    int slot_count;
    int fail_reports;
} state_node_t;

/* A reply held back until a given config version is durable. */
typedef struct durable_wait {
    struct durable_wait *next;
    uint64_t seq;
    remote_cmd_t *rc;
} durable_wait_t;

typedef struct state {
    rt_actor_t actor;
    rt_timer_t cron;
    char conf_path[1024];
    state_node_t *nodes;
    int node_count, node_cap;
    int myself;
    int16_t slot_owner[SLOT_COUNT];
    int16_t migrating_to[SLOT_COUNT];
    int16_t importing_from[SLOT_COUNT];
    uint64_t current_epoch, last_vote_epoch;
    bool state_ok;
    int size;
    long long started_mono;
    uint64_t snapshot_version;
    bool dirty_snapshot;          /* publish after this message */
    bool save_pending;            /* ask the persister after this message */
    uint64_t config_seq;          /* last version handed to the persister */
    uint64_t durable_seq;
    durable_wait_t *waits;
} state_t;

extern state_t S;

int state_find(const char *name, size_t len);
int state_add_node(const char *name, uint16_t flags);
void state_random_name(char out[NODE_NAME_LEN + 1]);
void state_recount_slots(void);
void state_reset_tables(void);
void state_publish(void);
uint64_t state_request_save(rt_actor_t *reply_to);
void state_apply_command(remote_cmd_t *rc);
void state_durable(uint64_t seq, int err);

#endif

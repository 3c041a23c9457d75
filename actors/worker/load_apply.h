/* load_apply.h - the commands of an AOF replayed at start, run on the
 * worker that keeps their keys (the loader is actors/persist/aof_load.c).
 *
 * A batch holds one worker's share of the file, in file order, without
 * copying a byte of it: each argument is a pointer into the file's mapping,
 * which the loader keeps until every worker ran what it was sent. The
 * worker runs each command's handler alone, as 7.0.15 runs a loaded
 * command on its fake client (cmd->proc, not call()).
 *
 * Must never: be used once clients are let in (nothing of what a client's
 * command adds is done: statistics, keyspace events, WATCH versions,
 * tracking, blocked clients).
 */
#ifndef SHOAL_ACTORS_WORKER_LOAD_APPLY_H
#define SHOAL_ACTORS_WORKER_LOAD_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "actors/worker/worker.h"

typedef struct load_cmd {
    const cmd_def_t *cmd;         /* NULL in a transaction held by the loader (not resolved yet) */
    int argc;
    int key;                      /* argv index of its first key, -1: none (fetched ahead of the insert) */
    size_t first;                 /* index of its first argument in argv / argvlen */
} load_cmd_t;

/* WMSG_RUN: a batch for one worker. Built and posted by the loader, owned
 * by the worker from load_batch_post on (it frees it). */
typedef struct load_batch {
    worker_run_t run;
    long long now_ms;             /* the clock the commands run at (expiry decisions) */
    int ncmds, capcmds;
    load_cmd_t *cmds;
    size_t nargs, capargs;
    const uint8_t **argv;         /* into the loader's mapping of the file */
    size_t *argvlen;
} load_batch_t;

/* A new empty batch (freed by load_batch_free or by the worker it is posted to). */
load_batch_t *load_batch_new(long long now_ms);
/* Appends a command whose first key is argv[key] (-1: none); argv's bytes
 * must stay valid until the worker ran it. */
void load_batch_add(load_batch_t *b, const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                    int key);
/* The command i as a queued_cmd_t whose arrays point into the batch. */
queued_cmd_t load_batch_cmd(const load_batch_t *b, int i);
/* Empties b, keeping its arrays. */
void load_batch_clear(load_batch_t *b);
void load_batch_free(load_batch_t *b);
/* Sends b to worker wi, which runs its commands in order and frees it. */
void load_batch_post(int wi, load_batch_t *b);
/* On w's thread, its keyspace entered: one loaded command whose keys
 * several workers keep, gathered on w (xcmd.h), run as a batch's are; the
 * caller publishes the figures. */
void load_apply_one(struct worker *w, const queued_cmd_t *q, long long now_ms);

#endif

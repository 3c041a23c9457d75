/* aof_reload.c - DEBUG LOADAOF (see aof.h): the running node drops its
 * dataset and loads it back from the AOF on disk, as redis-server 7.0.15's
 * does: what is appended is written first, every database and the
 * functions are emptied, the manifest is read again from the directory and
 * the files it names are loaded through the workers as at start (an RDB
 * base built by the workers, then the commands replayed on them).
 *
 * It runs on a thread of its own, the caller's reply deferred; clients
 * are answered -LOADING from the first step to the last (INFO loading:1),
 * where redis-server answers nobody until it is done.
 *
 * Must never: empty the dataset when there is no AOF to load it back from
 * (7.0.15 exits then; we answer an error and keep the data), or let a
 * client see the node half loaded.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "actors/commands/function.h"
#include "actors/persist/aof_internal.h"
#include "actors/persist/rdb_load.h"
#include "actors/persist/rdb_save.h"
#include "actors/worker/client.h"
#include "actors/worker/evict.h"
#include "actors/worker/worker.h"
#include "proto/resp.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

/* The manifest as it is on disk now and what it names to load: 1 with
 * something to load, 0 with files that are all empty, -1 (with the
 * reason in err) when there is no AOF or it cannot be loaded. */
static int plan(char *err, size_t cap)
{
    char filename[256], dirname[256];
    aof_conf_names(filename, sizeof filename, dirname, sizeof dirname);
    aof_manifest_t *m = xcalloc(1, sizeof *m);   /* ~140 KB: not on a thread's stack */
    int r = aof_manifest_read(dirname, filename, m);
    int planned = r > 0 ? aof_reload_plan(m, dirname) : -1;
    if (r == 0 || (r > 0 && !m->has_base && m->nincr == 0)) {
        snprintf(err, cap, "ERR There is no append only file to load (%s/%s.manifest)", dirname, filename);
        planned = -1;
    } else if (planned < 0) {
        snprintf(err, cap, "ERR Error loading the append only file, check the server log");
    }
    free(m);
    return planned;
}

/* Empties the dataset and loads what plan() found; 0 or -1 (logged). */
static int load(int planned)
{
    rdb_load_empty_all();
    fn_reg_flush();
    if (planned == 0) return 0;
    aof_replay_begin();           /* -LOADING and the loading figures go on until aof_replay_end */
    evict_set_loading(true);
    rdb_load_set_reloading(true);
    int rc = aof_replay();
    rdb_load_set_reloading(false);
    evict_set_loading(false);
    return rc;
}

static void *loadaof_thread(void *arg)
{
    remote_cmd_t *rc = arg;
    /* No rewrite meanwhile: its cut would encode a base from the emptied or
     * half-loaded workers, and its swap delete the files being read (a
     * reload right behind a BGREWRITEAOF answered +OK with a third of the
     * keys, and the next rewrite made that durable). One under way ends
     * first. */
    aof_rewrite_hold(true);
    /* From here clients get -LOADING: a write let in between the files'
     * read and the end of the load would be lost. */
    rdb_load_hold_refusal(true);
    rdb_loading_begin_sync(0, false, true);
    aof_write_pending();          /* every write acknowledged so far is in the files */
    char err[600];
    int planned = plan(err, sizeof err);
    if (planned >= 0 && load(planned) != 0) {
        snprintf(err, sizeof err, "ERR Error loading the append only file, check the server log");
        planned = -1;
    }
    /* 7.0.15 counts no change for what it loaded; forgotten before the
     * refusal ends, or a save point could see them in between */
    if (planned >= 0) rdb_save_forget_changes();
    aof_replay_end();
    aof_rewrite_hold(false);
    if (planned < 0) {
        resp_add_error(&rc->reply, err);
    } else {
        LOG_WARNING("Append Only File loaded by DEBUG LOADAOF");
        resp_add_simple(&rc->reply, "OK");
    }
    worker_reply_async(rc);
    return NULL;
}

void aof_debug_loadaof(remote_cmd_t *rc)
{
    if (rt_spawn_detached(loadaof_thread, rc) != 0) {
        resp_add_error(&rc->reply, "ERR could not start the load");
        worker_reply_async(rc);
    }
}

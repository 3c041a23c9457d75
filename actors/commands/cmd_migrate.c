/* cmd_migrate.c - MIGRATE host port key|"" db timeout [COPY] [REPLACE]
 * [AUTH pw | AUTH2 user pw] [KEYS k ...]: the checks and replies of
 * redis-server 7.0.15, on the worker that owns the keys. The conversation
 * with the target is actors/worker/migrate.c's: this handler suspends the
 * call with a job and is called again with it when a round of replies is in
 * (inside MULTI, where nothing may run in between, it waits right here).
 *
 * Must never: answer before the target did, or delete a key itself (the job
 * knows which ones the target took).
 */
#include <limits.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/migrate.h"
#include "proto/strnum.h"

/* The DEL that a settled round propagates, kept per thread until the next
 * call (propagation copies it right after the handler). */
static _Thread_local resp_buf_t migrate_prop;
static _Thread_local bool migrate_prop_ready;

static bool ieq(const uint8_t *a, size_t n, const char *b)
{
    size_t m = strlen(b);
    if (n != m) return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t x = a[i], y = (uint8_t)b[i];
        if (x >= 'A' && x <= 'Z') x = (uint8_t)(x + 32);
        if (y >= 'A' && y <= 'Z') y = (uint8_t)(y + 32);
        if (x != y) return false;
    }
    return true;
}

int cmd_migrate_getkeys(int argc, const uint8_t **argv, const size_t *argvlen, int *positions, int max)
{
    /* 7.0.15's migrateGetKeys: argv[3], or with KEYS everything after it
     * (none when argv[3] is not empty: the handler then answers the error). */
    int first = 3, num = 1;
    if (!argv) return max >= 1 && argc > 3 ? (positions[0] = 3, 1) : 0;
    for (int i = 6; i < argc; i++) {
        if (ieq(argv[i], argvlen[i], "keys")) {
            if (argvlen[3] > 0) {
                num = 0;
            } else {
                first = i + 1;
                num = argc - first;
            }
            break;
        }
        if (ieq(argv[i], argvlen[i], "auth")) i += 1;
        else if (ieq(argv[i], argvlen[i], "auth2")) i += 2;
    }
    int n = 0;
    for (int k = 0; k < num && n < max; k++) positions[n++] = first + k;
    return n;
}

static void resume(cmd_ctx_t *ctx, migrate_job_t *j, bool may_suspend)
{
    if (!migrate_prop_ready) {
        resp_buf_init(&migrate_prop, 2);
        migrate_prop_ready = true;
    }
    if (migrate_job_settle(j, ctx->worker, ctx->ks, ctx->now_ms, &migrate_prop)) {
        ctx->dirty = true;
        ctx->prop_cmds = &migrate_prop;
        ctx->prop_ncmds = 1;
    }
    if (may_suspend && migrate_job_more(j)) {
        ctx->suspend = j;
        return;
    }
    migrate_job_reply(j, ctx->reply);
}

void cmd_migrate(cmd_ctx_t *ctx)
{
    if (ctx->resume) {
        resume(ctx, ctx->resume, true);
        return;
    }
    bool copy = false, replace = false;
    int user = -1, pass = -1;
    int first_key = 3, num_keys = 1;
    for (int j = 6; j < ctx->argc; j++) {
        int more = ctx->argc - 1 - j;
        if (arg_is_at(ctx, j, "copy")) {
            copy = true;
        } else if (arg_is_at(ctx, j, "replace")) {
            replace = true;
        } else if (arg_is_at(ctx, j, "auth")) {
            if (!more) { resp_add_error(ctx->reply, "ERR syntax error"); return; }
            pass = ++j;
            user = -1;
        } else if (arg_is_at(ctx, j, "auth2")) {
            if (more < 2) { resp_add_error(ctx->reply, "ERR syntax error"); return; }
            user = ++j;
            pass = ++j;
        } else if (arg_is_at(ctx, j, "keys")) {
            if (ctx->argvlen[3] != 0) {
                resp_add_error(ctx->reply,
                               "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
                return;
            }
            first_key = j + 1;
            num_keys = ctx->argc - j - 1;
            break;
        } else {
            resp_add_error(ctx->reply, "ERR syntax error");
            return;
        }
    }
    /* timeout first, then the db, as 7.0.15 (both as a C long) */
    long long timeout, dbid;
    if (!arg_ll_at(ctx, 5, &timeout) || !arg_ll_at(ctx, 4, &dbid)) return;
    if (timeout <= 0) timeout = 1000;

    /* The keys' buckets, then their chains' first entries, fetched for all
     * of them before the lookups: at a reshard's ten keys a call, misses one
     * after another were most of the lookups' time, and a table of a million
     * keys is far larger than the cache. */
    for (int k = 0; k < num_keys; k++) ks_prefetch(ctx->ks, ctx->argv[first_key + k], ctx->argvlen[first_key + k]);
    for (int k = 0; k < num_keys; k++) ks_prefetch_chain(ctx->ks, ctx->argv[first_key + k], ctx->argvlen[first_key + k]);
    migrate_job_t *job = NULL;
    for (int k = 0; k < num_keys; k++) {
        int a = first_key + k;
        if (!ks_lookup_read(ctx->ks, ctx->argv[a], ctx->argvlen[a], ctx->now_ms)) continue;
        if (!job) {
            job = migrate_job_new(ctx->argv[1], ctx->argvlen[1], ctx->argv[2], ctx->argvlen[2], dbid, timeout,
                                  copy, replace, user >= 0 ? ctx->argv[user] : NULL, user >= 0 ? ctx->argvlen[user] : 0,
                                  pass >= 0 ? ctx->argv[pass] : NULL, pass >= 0 ? ctx->argvlen[pass] : 0);
        }
        migrate_job_add_key(job, ctx->argv[a], ctx->argvlen[a]);
    }
    if (!job) {
        resp_add_simple(ctx->reply, "NOKEY");
        return;
    }
    if (ctx->block_mode != CMD_BLOCK_MAY) {
        /* inside MULTI nothing may run between the call and the commands
         * after it: wait on the target here, as 7.0.15 always does */
        migrate_job_run_now(job, ctx->worker);
        resume(ctx, job, false);     /* nothing ran meanwhile: no key to send again */
        migrate_job_free(job);
        return;
    }
    ctx->suspend = job;
}

/* cmd_fixture.h - running a command handler without a worker, for the unit
 * tests of handlers (test_cmd_bits.c, test_cmd_strings.c): a handler is
 * called on a keyspace of the test's own with C-string arguments and a
 * simulated clock, and its reply is kept as a C string (the replies these
 * tests check contain no NUL) with its propagation decision (ctx->dirty).
 * A key of a type the tests do not exercise is a stand-in object that
 * plays a list.
 *
 * Never: start a worker or a thread; every call runs on the test's thread.
 */
#ifndef SHOAL_TESTS_UNIT_CMD_FIXTURE_H
#define SHOAL_TESTS_UNIT_CMD_FIXTURE_H

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/worker/keyspace.h"
#include "tests/unit/unit.h"

#define T0 1700000000000LL

#define WRONGTYPE "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"

static resp_buf_t fx_reply;
static char fx_last[4096];
static bool fx_last_dirty;

/* Runs handler fn with the NULL-terminated C-string arguments at time now;
 * returns the reply bytes as a C string. */
static inline const char *fx_run_at(struct keyspace *ks, long long now, cmd_fn fn, ...)
{
    const uint8_t *argv[32];
    size_t argvlen[32];
    int argc = 0;
    va_list ap;
    va_start(ap, fn);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && argc < 32) {
        argv[argc] = (const uint8_t *)a;
        argvlen[argc++] = strlen(a);
    }
    va_end(ap);
    if (!fx_reply.data) resp_buf_init(&fx_reply, 2);
    resp_buf_reset(&fx_reply);
    cmd_ctx_t ctx = { .argc = argc, .argv = argv, .argvlen = argvlen, .reply = &fx_reply, .ks = ks, .now_ms = now };
    fn(&ctx);
    fx_last_dirty = ctx.dirty;
    size_t n = fx_reply.len < sizeof fx_last - 1 ? fx_reply.len : sizeof fx_last - 1;
    memcpy(fx_last, fx_reply.data, n);
    fx_last[n] = 0;
    return fx_last;
}

#define R(ks, fn, ...) fx_run_at(ks, T0, fn, __VA_ARGS__, (const char *)NULL)
#define RT(ks, now, fn, ...) fx_run_at(ks, now, fn, __VA_ARGS__, (const char *)NULL)

static inline void fx_obj_free(void *o) { free(o); }
static inline size_t fx_obj_mem(const void *o) { (void)o; return 16; }
static const ks_object_ops_t fx_list_ops = { .type_name = "list", .free_value = fx_obj_free, .mem_usage = fx_obj_mem };

/* A stand-in object of type list at `key`. */
static inline void make_list(struct keyspace *ks, const char *key)
{
    ks_object_t *o = malloc(sizeof *o);
    o->ops = &fx_list_ops;
    ks_set_object(ks, (const uint8_t *)key, strlen(key), KS_TYPE_LIST, o, KS_NO_EXPIRE, T0);
}

#endif

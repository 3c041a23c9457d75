/* cmd_keys.c - the generic key commands: DEL, UNLINK, EXISTS, TOUCH, TYPE,
 * the EXPIRE family, TTL/PTTL/EXPIRETIME/PEXPIRETIME, PERSIST, RENAME(NX).
 *
 * Like the string commands these run on the worker owning the keys' slot and
 * reply exactly as redis-server 7.0.15 (errors and their order included).
 * They work on keys of every type. Must never touch another worker's
 * keyspace or block.
 */
#include <limits.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/wdb.h"

static ks_entry_t *lookup(cmd_ctx_t *ctx, int i)
{
    return ks_lookup(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms);
}

/* A read (a hit or a miss counted, a miss is a keymiss event) that is not
 * an access: EXISTS, TYPE and the TTL family leave the key's idle time and
 * LFU counter alone, as 7.0.15's lookupKeyReadWithFlags(LOOKUP_NOTOUCH). */
static ks_entry_t *lookup_notouch(cmd_ctx_t *ctx, int i)
{
    ks_entry_t *e = ks_peek(ctx->ks, ctx->argv[i], ctx->argvlen[i]);
    uint32_t access = e ? ks_entry_access(e) : 0;
    e = ks_lookup_read(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms);
    if (e) ks_entry_set_access(e, access);
    return e;
}

/* DEL and UNLINK: our values are freed on the spot either way (a big value
 * costs what freeing it costs; there is no lazy-free thread yet). */
static void del_generic(cmd_ctx_t *ctx)
{
    long long deleted = 0;
    for (int i = 1; i < ctx->argc; i++)
        if (ks_delete(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms)) deleted++;
    ctx->dirty = deleted;   /* 7.0.15 counts each key */
    resp_add_int(ctx->reply, deleted);
}

void cmd_del(cmd_ctx_t *ctx) { del_generic(ctx); }
void cmd_unlink(cmd_ctx_t *ctx) { del_generic(ctx); }

/* EXISTS and TOUCH count every argument that names a live key, repeats too. */
static void count_existing(cmd_ctx_t *ctx, bool touch)
{
    long long n = 0;
    for (int i = 1; i < ctx->argc; i++)
        if (touch ? ks_lookup_read(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms) : lookup_notouch(ctx, i)) n++;
    resp_add_int(ctx->reply, n);
}

void cmd_exists(cmd_ctx_t *ctx) { count_existing(ctx, false); }
void cmd_touch(cmd_ctx_t *ctx) { count_existing(ctx, true); }

void cmd_type(cmd_ctx_t *ctx)
{
    ks_entry_t *e = lookup_notouch(ctx, 1);
    resp_add_simple(ctx->reply, e ? ks_type_name(e) : "none");
}

/* ---- EXPIRE family ---- */

enum { EXP_NX = 1, EXP_XX = 2, EXP_GT = 4, EXP_LT = 8 };

static void expire_generic(cmd_ctx_t *ctx, long long basetime, bool seconds, const char *cmdname)
{
    unsigned flags = 0;
    for (int j = 3; j < ctx->argc; j++) {
        if (arg_is_at(ctx, j, "nx")) flags |= EXP_NX;
        else if (arg_is_at(ctx, j, "xx")) flags |= EXP_XX;
        else if (arg_is_at(ctx, j, "gt")) flags |= EXP_GT;
        else if (arg_is_at(ctx, j, "lt")) flags |= EXP_LT;
        else {
            /* Redis prints the option as a C string: it ends at a NUL byte. */
            resp_add_errorf(ctx->reply, "ERR Unsupported option %.*s",
                            (int)strnlen((const char *)ctx->argv[j], ctx->argvlen[j]),
                            (const char *)ctx->argv[j]);
            return;
        }
    }
    if ((flags & EXP_NX) && (flags & (EXP_XX | EXP_GT | EXP_LT))) {
        resp_add_error(ctx->reply, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return;
    }
    if ((flags & EXP_GT) && (flags & EXP_LT)) {
        resp_add_error(ctx->reply, "ERR GT and LT options at the same time are not compatible");
        return;
    }
    long long when;
    if (!arg_ll(ctx->argv[2], ctx->argvlen[2], &when)) {
        resp_add_error(ctx->reply, "ERR value is not an integer or out of range");
        return;
    }
    if (seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) goto invalid;
        when *= 1000;
    }
    if (when > LLONG_MAX - basetime) goto invalid;
    when += basetime;

    ks_entry_t *e = lookup(ctx, 1);
    if (!e) {
        resp_add_int(ctx->reply, 0);
        return;
    }
    long long cur = ks_entry_expire(ctx->ks, e);   /* KS_NO_EXPIRE (-1) when none, as Redis's getExpire */
    if (((flags & EXP_NX) && cur != KS_NO_EXPIRE) ||
        ((flags & EXP_XX) && cur == KS_NO_EXPIRE) ||
        ((flags & EXP_GT) && (cur == KS_NO_EXPIRE || when <= cur)) ||   /* no TTL counts as infinite */
        ((flags & EXP_LT) && cur != KS_NO_EXPIRE && when >= cur)) {
        resp_add_int(ctx->reply, 0);
        return;
    }
    if (when <= ctx->now_ms && !ctx->from_master) {
        /* Already in the past: the key goes now (a replica waits for its
         * master's DEL instead, as Redis does). */
        ks_delete_entry(ctx->ks, e);
    } else {
        ks_set_expire(ctx->ks, e, when < 0 ? 0 : when);
    }
    ctx->dirty = true;
    resp_add_int(ctx->reply, 1);
    return;
invalid:
    resp_add_errorf(ctx->reply, "ERR invalid expire time in '%s' command", cmdname);
}

void cmd_expire(cmd_ctx_t *ctx) { expire_generic(ctx, ctx->now_ms, true, "expire"); }
void cmd_pexpire(cmd_ctx_t *ctx) { expire_generic(ctx, ctx->now_ms, false, "pexpire"); }
void cmd_expireat(cmd_ctx_t *ctx) { expire_generic(ctx, 0, true, "expireat"); }
void cmd_pexpireat(cmd_ctx_t *ctx) { expire_generic(ctx, 0, false, "pexpireat"); }

/* TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 missing, -1 no TTL, else the time
 * left (or the absolute time), rounded to the nearest second for the
 * second-based forms. */
static void ttl_generic(cmd_ctx_t *ctx, bool ms, bool absolute)
{
    ks_entry_t *e = lookup_notouch(ctx, 1);
    if (!e) {
        resp_add_int(ctx->reply, -2);
        return;
    }
    long long when = ks_entry_expire(ctx->ks, e);
    if (when == KS_NO_EXPIRE) {
        resp_add_int(ctx->reply, -1);
        return;
    }
    long long ttl = absolute ? when : when - ctx->now_ms;
    if (ttl < 0) ttl = 0;
    /* Rounded in unsigned arithmetic: redis-server answers 9223372036854776 for
     * an expiry at LLONG_MAX ms, so ttl + 500 must not wrap negative. */
    resp_add_int(ctx->reply, ms ? ttl : (long long)(((unsigned long long)ttl + 500) / 1000));
}

void cmd_ttl(cmd_ctx_t *ctx) { ttl_generic(ctx, false, false); }
void cmd_pttl(cmd_ctx_t *ctx) { ttl_generic(ctx, true, false); }
void cmd_expiretime(cmd_ctx_t *ctx) { ttl_generic(ctx, false, true); }
void cmd_pexpiretime(cmd_ctx_t *ctx) { ttl_generic(ctx, true, true); }

void cmd_persist(cmd_ctx_t *ctx)
{
    ks_entry_t *e = lookup(ctx, 1);
    bool removed = e && ks_persist(ctx->ks, e);
    if (removed) ctx->dirty = true;
    resp_add_int(ctx->reply, removed ? 1 : 0);
}

/* ---- RENAME ---- */

static void rename_generic(cmd_ctx_t *ctx, bool nx)
{
    bool samekey = ctx->argvlen[1] == ctx->argvlen[2] &&
                   memcmp(ctx->argv[1], ctx->argv[2], ctx->argvlen[1]) == 0;
    ks_entry_t *src = lookup(ctx, 1);
    if (!src) {
        resp_add_error(ctx->reply, "ERR no such key");
        return;
    }
    if (samekey) {
        if (nx) resp_add_int(ctx->reply, 0);
        else resp_add_simple(ctx->reply, "OK");
        return;
    }
    /* Looking the destination up also drops it if it has expired. */
    if (nx && lookup(ctx, 2)) {
        resp_add_int(ctx->reply, 0);
        return;
    }
    ks_rename(ctx->ks, src, ctx->argv[2], ctx->argvlen[2]);
    ctx->dirty = true;
    if (nx) resp_add_int(ctx->reply, 1);
    else resp_add_simple(ctx->reply, "OK");
}

void cmd_rename(cmd_ctx_t *ctx) { rename_generic(ctx, false); }
void cmd_renamenx(cmd_ctx_t *ctx) { rename_generic(ctx, true); }

/* MOVE key db: a cluster node refuses it before anything else; without
 * cluster mode the key (and its TTL) goes to the same worker's share of the
 * other database (wdb.h), if it is not there already. */
void cmd_move(cmd_ctx_t *ctx)
{
    if (config_cluster_enabled()) {
        resp_add_error(ctx->reply, "ERR MOVE is not allowed in cluster mode");
        return;
    }
    long long db;
    if (!arg_int_at(ctx, 2, &db)) return;
    if (db < 0 || db >= wdb_count()) {
        resp_add_error(ctx->reply, "ERR DB index is out of range");
        return;
    }
    if (db == wdb_current(ctx->worker)) {
        resp_add_error(ctx->reply, "ERR source and destination objects are the same");
        return;
    }
    ks_entry_t *e = ks_lookup(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    struct keyspace *dst = wdb_get(ctx->worker, (int)db);
    if (!e || ks_lookup(dst, ctx->argv[1], ctx->argvlen[1], ctx->now_ms)) {
        resp_add_int(ctx->reply, 0);
        return;
    }
    ks_move(ctx->ks, e, dst);
    wdb_key_arrived(ctx->worker, (int)db, ctx->argv[1], ctx->argvlen[1], "move_from", "move_to");
    ctx->dirty = true;
    resp_add_int(ctx->reply, 1);
}

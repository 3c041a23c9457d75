/* cmd_object.c - OBJECT (ENCODING, REFCOUNT, IDLETIME, FREQ, HELP), DUMP
 * and RESTORE: what a key's value looks like inside, as redis-server 7.0.15
 * would report it for the same content, and its DUMP payload both ways (so
 * keys move between shoal and redis-server by DUMP/RESTORE and MIGRATE).
 *
 * IDLETIME and FREQ read the key's access clock (actors/worker/access.c),
 * each under its policy (the errors of the other policy are Redis's). Values are never shared, so REFCOUNT is 1, except the small
 * integers Redis keeps shared (0..9999 as int-encoded strings), for which it
 * answers INT_MAX as Redis does.
 */
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/types/types.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/wdb.h"
#include "proto/rdb.h"
#include "proto/strnum.h"

/* OBJECT does not count as an access (7.0.15's LOOKUP_NOTOUCH): the entry
 * is peeked at; an expired one goes through ks_lookup, which drops it. */
static ks_entry_t *lookup_or_nil(cmd_ctx_t *ctx, int i)
{
    ks_entry_t *e = NULL;
    if (ks_exists_noexpire(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms))
        e = ks_peek(ctx->ks, ctx->argv[i], ctx->argvlen[i]);
    else
        ks_lookup(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms);
    if (!e) resp_add_null(ctx->reply);
    return e;
}

void cmd_object_encoding(cmd_ctx_t *ctx)
{
    ks_entry_t *e = lookup_or_nil(ctx, 2);
    if (e) resp_add_bulk_str(ctx->reply, types_encoding(e));
}

long long cmd_object_refcount_of(const ks_entry_t *e)
{
    long long shared = 1;
    if (ks_entry_type(e) == KS_TYPE_STRING && !strcmp(types_encoding(e), "int")) {
        size_t n;
        long long v;
        const uint8_t *s = ks_entry_str(e, &n);
        if (str_to_ll(s, n, &v) && v >= 0 && v < 10000) shared = INT_MAX;
    }
    return shared;
}

void cmd_object_refcount(cmd_ctx_t *ctx)
{
    ks_entry_t *e = lookup_or_nil(ctx, 2);
    if (e) resp_add_int(ctx->reply, cmd_object_refcount_of(e));
}

/* maxmemory-policy is volatile-lfu or allkeys-lfu. */
static bool lfu_policy(void)
{
    static _Atomic int idx = -2;        /* the config index, looked up once; relaxed: same value from any thread */
    int i = atomic_load_explicit(&idx, memory_order_relaxed);
    if (i == -2) { i = config_find("maxmemory-policy"); atomic_store_explicit(&idx, i, memory_order_relaxed); }
    long long p = config_get_num_at(i);
    return p == 1 || p == 5;
}

void cmd_object_idletime(cmd_ctx_t *ctx)
{
    ks_entry_t *e = lookup_or_nil(ctx, 2);
    if (!e) return;
    if (lfu_policy()) {
        resp_add_error(ctx->reply, "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that "
                       "when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    resp_add_int(ctx->reply, ks_access_idle_s(e));
}

void cmd_object_freq(cmd_ctx_t *ctx)
{
    ks_entry_t *e = lookup_or_nil(ctx, 2);
    if (!e) return;
    if (!lfu_policy()) {
        resp_add_error(ctx->reply, "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please "
                       "note that when switching between policies at runtime LRU and LFU data will take some time "
                       "to adjust.");
        return;
    }
    resp_add_int(ctx->reply, ks_access_freq(e));
}

void cmd_object_help(cmd_ctx_t *ctx)
{
    static const char *const lines[] = {
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    };
    arg_reply_help(ctx, lines, sizeof lines / sizeof lines[0]);
}

int cmd_dump_payload(const ks_entry_t *e, rdb_encoder_t *enc)
{
    static _Atomic int idx = -2;        /* rdbcompression's config index; relaxed as above */
    int i = atomic_load_explicit(&idx, memory_order_relaxed);
    if (i == -2) { i = config_find("rdbcompression"); atomic_store_explicit(&idx, i, memory_order_relaxed); }
    return cmd_dump_payload_with(e, enc, (int)config_get_num_at(i));
}

int cmd_dump_payload_with(const ks_entry_t *e, rdb_encoder_t *enc, int compress)
{
    rdb_encoder_init(enc, compress);
    return cmd_dump_payload_into(e, enc);
}

int cmd_dump_payload_into(const ks_entry_t *e, rdb_encoder_t *enc)
{
    unsigned type = 0;
    uint8_t tb = 0;
    /* the type byte comes first but is known with the value: leave room for it */
    int rc = rdb_encode_raw(enc, &tb, 1);
    if (!rc) rc = types_rdb_save_value(enc, e, &type);
    if (!rc) {
        enc->buf[0] = (uint8_t)type;    /* before any CRC is folded: the footer's CRC covers it */
        rc = rdb_encode_dump_footer(enc);
    }
    return rc;
}

void cmd_dump(cmd_ctx_t *ctx)
{
    ks_entry_t *e = ks_lookup_read(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    if (!e) { resp_add_null(ctx->reply); return; }
    rdb_encoder_t enc;
    if (cmd_dump_payload(e, &enc)) resp_add_error(ctx->reply, "ERR DUMP of this value is not supported");
    else resp_add_bulk(ctx->reply, rdb_encoder_data(&enc), rdb_encoder_pending(&enc));
    rdb_encoder_free(&enc);
}

/* ---- RESTORE ---- */

/* RESTORE's effect when it differs from the call: kept per thread until the
 * next RESTORE (propagation copies it right after the handler). */
static _Thread_local resp_buf_t restore_prop;
static _Thread_local bool restore_prop_ready;

static void restore_propagate(cmd_ctx_t *ctx, long long abs_ttl, bool as_del)
{
    if (!restore_prop_ready) { resp_buf_init(&restore_prop, 2); restore_prop_ready = true; }
    resp_buf_reset(&restore_prop);
    if (as_del) {
        resp_add_array(&restore_prop, 2);
        resp_add_bulk(&restore_prop, "DEL", 3);
        resp_add_bulk(&restore_prop, ctx->argv[1], ctx->argvlen[1]);
    } else {
        /* the TTL made absolute, and ABSTTL appended, as 7.0.15 rewrites it */
        resp_add_array(&restore_prop, ctx->argc + 1);
        for (int i = 0; i < ctx->argc; i++) {
            if (i == 2) resp_add_bulk_ll(&restore_prop, abs_ttl);
            else resp_add_bulk(&restore_prop, ctx->argv[i], ctx->argvlen[i]);
        }
        resp_add_bulk(&restore_prop, "ABSTTL", 6);
    }
    ctx->prop_cmds = &restore_prop;
    ctx->prop_ncmds = 1;
}

/* RESTORE's options from argv[4]; false after replying the error. */
static bool restore_options(cmd_ctx_t *ctx, bool *replace, bool *absttl, long long *idle_out, long long *freq_out)
{
    long long idle = -1, freq = -1;
    for (int j = 4; j < ctx->argc; j++) {
        int more = ctx->argc - j - 1;
        if (arg_is_at(ctx, j, "replace")) {
            *replace = true;
        } else if (arg_is_at(ctx, j, "absttl")) {
            *absttl = true;
        } else if (arg_is_at(ctx, j, "idletime") && more >= 1 && freq == -1) {
            if (!arg_ll_at(ctx, ++j, &idle)) return false;
            if (idle < 0) { resp_add_error(ctx->reply, "ERR Invalid IDLETIME value, must be >= 0"); return false; }
        } else if (arg_is_at(ctx, j, "freq") && more >= 1 && idle == -1) {
            if (!arg_ll_at(ctx, ++j, &freq)) return false;
            if (freq < 0 || freq > 255) {
                resp_add_error(ctx->reply, "ERR Invalid FREQ value, must be >= 0 and <= 255");
                return false;
            }
        } else {
            resp_add_error(ctx->reply, "ERR syntax error");
            return false;
        }
    }
    *idle_out = idle;
    *freq_out = freq;
    return true;
}

void cmd_restore(cmd_ctx_t *ctx)
{
    bool replace = false, absttl = false;
    long long idle = -1, freq = -1;
    if (!restore_options(ctx, &replace, &absttl, &idle, &freq)) return;
    if (!replace && ks_lookup(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms)) {
        resp_add_error(ctx->reply, "BUSYKEY Target key name already exists.");
        return;
    }
    long long ttl;
    if (!arg_ll_at(ctx, 2, &ttl)) return;
    if (ttl < 0) { resp_add_error(ctx->reply, "ERR Invalid TTL value, must be >= 0"); return; }
    rdb_restore_t r;
    int rc = rdb_restore_parse(ctx->argv[3], ctx->argvlen[3], 0, &r);
    if (rc != RDB_OK) { resp_add_errorf(ctx->reply, "ERR %s", rdb_restore_error(rc)); return; }
    int kt = KS_TYPE_STRING;
    void *obj = NULL;
    if (r.type != RDB_TYPE_STRING && types_rdb_load(r.type, r.value, r.value_len, &kt, &obj) != TYPES_LOAD_OK) {
        rdb_restore_free(&r);
        resp_add_error(ctx->reply, "ERR Bad data format");
        return;
    }
    bool deleted = replace && ks_delete(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    if (ttl && !absttl) ttl += ctx->now_ms;
    /* A TTL already past: nothing is created (a replica applies it anyway, as Redis). */
    if (ttl && ttl <= ctx->now_ms && !ctx->from_master && !ks_replica_mode(ctx->ks)) {
        types_free_detached(kt, obj);
        rdb_restore_free(&r);
        if (deleted) {
            ctx->dirty = true;
            restore_propagate(ctx, 0, true);
        }
        resp_add_simple(ctx->reply, "OK");
        return;
    }
    long long when = ttl ? ttl : KS_NO_EXPIRE;
    ks_entry_t *e;
    if (obj) e = ks_set_object(ctx->ks, ctx->argv[1], ctx->argvlen[1], kt, obj, when, ctx->now_ms);
    else e = ks_set_string(ctx->ks, ctx->argv[1], ctx->argvlen[1], r.value, r.value_len, when, ctx->now_ms);
    ks_access_restore(e, idle, freq);
    rdb_restore_free(&r);
    ctx->dirty = true;
    if (ttl && !absttl) restore_propagate(ctx, ttl, false);
    resp_add_simple(ctx->reply, "OK");
}

/* ---- COPY ---- */

void cmd_copy(cmd_ctx_t *ctx)
{
    bool replace = false;
    long long src = ctx->worker ? wdb_current(ctx->worker) : 0, db = src;
    for (int j = 3; j < ctx->argc; j++) {
        int more = ctx->argc - j - 1;
        if (arg_is_at(ctx, j, "replace")) {
            replace = true;
        } else if (arg_is_at(ctx, j, "db") && more >= 1) {
            if (!arg_int_at(ctx, j + 1, &db)) return;
            if (db < 0 || db >= config_get_num(CONFIG_DATABASES)) {
                resp_add_error(ctx->reply, "ERR DB index is out of range");
                return;
            }
            j++;
        } else {
            resp_add_error(ctx->reply, "ERR syntax error");
            return;
        }
    }
    if (config_cluster_enabled() && db != 0) {   /* a cluster node holds database 0 only */
        resp_add_error(ctx->reply, "ERR Copying to another database is not allowed in cluster mode");
        return;
    }
    if (db == src && ctx->argvlen[1] == ctx->argvlen[2] && !memcmp(ctx->argv[1], ctx->argv[2], ctx->argvlen[1])) {
        resp_add_error(ctx->reply, "ERR source and destination objects are the same");
        return;
    }
    struct keyspace *dst = db == src ? ctx->ks : wdb_get(ctx->worker, (int)db);
    ks_entry_t *e = ks_lookup_read(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    if (!e) { resp_add_int(ctx->reply, 0); return; }
    ks_entry_t *old = ks_lookup(dst, ctx->argv[2], ctx->argvlen[2], ctx->now_ms);
    if (old && !replace) {
        resp_add_int(ctx->reply, 0);
        return;
    }
    /* The copy is a new value with a new access clock (7.0.15 deletes the
     * old destination and adds the copy), not the old one's clock. */
    if (old) ks_delete_entry(dst, old);
    long long ttl = ks_entry_expire(ctx->ks, e);
    if (ks_entry_type(e) == KS_TYPE_STRING) {
        size_t n;
        const uint8_t *v = ks_entry_str(e, &n);
        unsigned raw = ks_entry_flags(e) & KS_EF_RAW;   /* 7.0.15's copy keeps a raw string raw */
        ks_entry_t *d = ks_set_string(dst, ctx->argv[2], ctx->argvlen[2], v, n, ttl, ctx->now_ms);
        ks_entry_add_flags(d, raw);
    } else {
        const ks_object_ops_t *ops = ks_entry_ops(e);
        if (!ops->dup) { resp_add_error(ctx->reply, "ERR COPY of this value is not supported"); return; }
        ks_set_object(dst, ctx->argv[2], ctx->argvlen[2], ks_entry_type(e), ops->dup(ks_entry_obj(e)), ttl, ctx->now_ms);
    }
    if (dst != ctx->ks) wdb_key_arrived(ctx->worker, (int)db, ctx->argv[2], ctx->argvlen[2], NULL, "copy_to");
    ctx->dirty = true;
    resp_add_int(ctx->reply, 1);
}

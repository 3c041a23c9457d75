/* cmd_object.c - OBJECT (ENCODING, REFCOUNT, IDLETIME, FREQ, HELP) and
 * DUMP: what a key's value looks like inside, as redis-server 7.0.15 would
 * report it for the same content.
 *
 * shoal keeps no access clock or LFU counter per key: IDLETIME answers 0
 * and FREQ 0 under an LFU policy (the errors of the other policy are
 * Redis's). Values are never shared, so REFCOUNT is 1, except the small
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
#include "proto/rdb.h"
#include "proto/strnum.h"

static ks_entry_t *lookup_or_nil(cmd_ctx_t *ctx, int i)
{
    ks_entry_t *e = ks_lookup(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms);
    if (!e) resp_add_null(ctx->reply);
    return e;
}

void cmd_object_encoding(cmd_ctx_t *ctx)
{
    ks_entry_t *e = lookup_or_nil(ctx, 2);
    if (e) resp_add_bulk_str(ctx->reply, types_encoding(e));
}

void cmd_object_refcount(cmd_ctx_t *ctx)
{
    ks_entry_t *e = lookup_or_nil(ctx, 2);
    if (!e) return;
    long long shared = 1;
    if (e->type == KS_TYPE_STRING && !strcmp(types_encoding(e), "int")) {
        size_t n;
        long long v;
        const uint8_t *s = ks_entry_str(e, &n);
        if (str_to_ll(s, n, &v) && v >= 0 && v < 10000) shared = INT_MAX;
    }
    resp_add_int(ctx->reply, shared);
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
    resp_add_int(ctx->reply, 0);
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
    resp_add_int(ctx->reply, 0);
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

void cmd_dump(cmd_ctx_t *ctx)
{
    ks_entry_t *e = ks_lookup_read(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    if (!e) { resp_add_null(ctx->reply); return; }
    static _Atomic int idx = -2;        /* rdbcompression's config index; relaxed as above */
    int i = atomic_load_explicit(&idx, memory_order_relaxed);
    if (i == -2) { i = config_find("rdbcompression"); atomic_store_explicit(&idx, i, memory_order_relaxed); }
    rdb_encoder_t enc;
    rdb_encoder_init(&enc, (int)config_get_num_at(i));
    unsigned type = 0;
    uint8_t tb = 0;
    /* the type byte comes first but is known with the value: leave room for it */
    int rc = rdb_encode_raw(&enc, &tb, 1);
    if (!rc) rc = types_rdb_save_value(&enc, e, &type);
    if (!rc) {
        enc.buf[0] = (uint8_t)type;     /* before any CRC is folded: the footer's CRC covers it */
        rc = rdb_encode_dump_footer(&enc);
    }
    if (rc) resp_add_error(ctx->reply, "ERR DUMP of this value is not supported");
    else resp_add_bulk(ctx->reply, rdb_encoder_data(&enc), rdb_encoder_pending(&enc));
    rdb_encoder_free(&enc);
}

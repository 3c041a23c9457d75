/* notify.c - keyspace notifications (notify.h): the directive's classes, and
 * the events each command emits in 7.0.15 (its notifyKeyspaceEvent calls in
 * t_string.c, t_list.c, t_hash.c, t_set.c, t_zset.c, db.c, expire.c, sort.c,
 * bitops.c, hyperloglog.c), in the order it emits them.
 *
 * Must never: touch the keyspace other than to look at whether keys exist.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/worker/keyspace.h"
#include "actors/worker/notify.h"
#include "actors/worker/wdb.h"
#include "actors/worker/pubsub.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

/* Classes, as 7.0.15's NOTIFY_* bits. */
enum {
    N_KEYSPACE = 1 << 0, N_KEYEVENT = 1 << 1, N_GENERIC = 1 << 2, N_STRING = 1 << 3, N_LIST = 1 << 4,
    N_SET = 1 << 5, N_HASH = 1 << 6, N_ZSET = 1 << 7, N_EXPIRED = 1 << 8, N_EVICTED = 1 << 9,
    N_STREAM = 1 << 10, N_KEY_MISS = 1 << 11, N_MODULE = 1 << 12, N_NEW = 1 << 13,
    N_ALL = N_GENERIC | N_STRING | N_LIST | N_SET | N_HASH | N_ZSET | N_EXPIRED | N_EVICTED | N_STREAM | N_MODULE,
};

/* Relaxed: a CONFIG SET takes effect from some command on, as in Redis
 * between two commands; nothing else is ordered by it. */
static _Atomic int g_flags;

static int parse_classes(const char *s)
{
    int f = 0;
    for (; *s; s++) {
        switch (*s) {
        case 'A': f |= N_ALL; break;
        case 'g': f |= N_GENERIC; break;
        case '$': f |= N_STRING; break;
        case 'l': f |= N_LIST; break;
        case 's': f |= N_SET; break;
        case 'h': f |= N_HASH; break;
        case 'z': f |= N_ZSET; break;
        case 'x': f |= N_EXPIRED; break;
        case 'e': f |= N_EVICTED; break;
        case 'K': f |= N_KEYSPACE; break;
        case 'E': f |= N_KEYEVENT; break;
        case 't': f |= N_STREAM; break;
        case 'm': f |= N_KEY_MISS; break;
        case 'd': f |= N_MODULE; break;
        case 'n': f |= N_NEW; break;
        default: break;
        }
    }
    /* 7.0.15: without K or E nothing is published */
    return (f & (N_KEYSPACE | N_KEYEVENT)) ? f : 0;
}

static void load(void)
{
    char buf[64] = "";
    if (config_get_by_name("notify-keyspace-events", buf, sizeof buf) < 0) buf[0] = '\0';
    atomic_store_explicit(&g_flags, parse_classes(buf), memory_order_relaxed);
}

static void on_config_change(const char *name, void *arg)
{
    (void)arg;
    if (!strcmp(name, "notify-keyspace-events")) load();
}

void notify_init(void)
{
    load();
    if (config_subscribe(on_config_change, NULL) != 0)
        LOG_WARNING("notify-keyspace-events changes will apply only after a restart");
}

bool notify_enabled(void) { return atomic_load_explicit(&g_flags, memory_order_relaxed) != 0; }

/* 7.0.15 notifyKeyspaceEvent, in the database of the command running on
 * this thread (wdb.h). */
static void emit(int cls, const char *event, const uint8_t *key, size_t klen)
{
    int f = atomic_load_explicit(&g_flags, memory_order_relaxed);
    if (!(f & cls)) return;
    size_t elen = strlen(event);
    size_t cap = 32 + (klen > elen ? klen : elen);
    char stackbuf[256], *chan = cap <= sizeof stackbuf ? stackbuf : xmalloc(cap);
    int db = wdb_current_here();
    if (f & N_KEYSPACE) {
        int n = snprintf(chan, 32, "__keyspace@%d__:", db);
        memcpy(chan + n, key, klen);
        pubsub_publish_async(false, chan, (size_t)n + klen, event, elen);
    }
    if (f & N_KEYEVENT) {
        int n = snprintf(chan, 32, "__keyevent@%d__:", db);
        memcpy(chan + n, event, elen);
        pubsub_publish_async(false, chan, (size_t)n + elen, key, klen);
    }
    if (chan != stackbuf) free(chan);
}

_Static_assert((int)NOTIFY_CLASS_STREAM == (int)N_STREAM && (int)NOTIFY_CLASS_NEW == (int)N_NEW &&
                   (int)NOTIFY_CLASS_GENERIC == (int)N_GENERIC,
               "the public class numbers are 7.0.15's");
void notify_key_event(int cls, const char *event, const uint8_t *key, size_t len) { emit(cls, event, key, len); }

void notify_expired(const uint8_t *key, size_t len) { emit(N_EXPIRED, "expired", key, len); }
void notify_evicted(const uint8_t *key, size_t len) { emit(N_EVICTED, "evicted", key, len); }
void notify_generic(const char *event, const uint8_t *key, size_t len) { emit(N_GENERIC, event, key, len); }
void notify_new(const uint8_t *key, size_t len) { emit(N_NEW, "new", key, len); }

/* ---------------- what each command emits ---------------- */

enum { K_FIRST, K_ALL, K_PAIRS, K_ARG2, K_SPECIAL };
enum {
    F_THEN_DEL = 1,      /* the event, then "del" when the key went (a collection emptied) */
    F_DEL_ONLY = 2,      /* "del" instead of the event when the key went */
    F_EXPIRE_OPT = 4,    /* SET: "expire" after "set" when a TTL was given */
    F_EXPIRE = 8,        /* SETEX/PSETEX: "expire" after "set" */
    F_NEW_ALWAYS = 16,   /* the key is deleted and added again (7.0.15 dbAdd): "new" */
    F_IF_COUNT = 32,     /* only when the integer reply is above 0 (7.0.15 notifies what changed) */
};

typedef struct nspec {
    const char *cmd;
    int cls;
    const char *event;
    int keys;
    int flags;
} nspec_t;

static const nspec_t specs[] = {
    { "set", N_STRING, "set", K_FIRST, F_EXPIRE_OPT },
    { "setex", N_STRING, "set", K_FIRST, F_EXPIRE },
    { "psetex", N_STRING, "set", K_FIRST, F_EXPIRE },
    { "setnx", N_STRING, "set", K_FIRST, 0 },
    { "getset", N_STRING, "set", K_FIRST, 0 },
    { "mset", N_STRING, "set", K_PAIRS, 0 },
    { "msetnx", N_STRING, "set", K_PAIRS, 0 },
    { "append", N_STRING, "append", K_FIRST, 0 },
    { "setrange", N_STRING, "setrange", K_FIRST, 0 },
    { "incr", N_STRING, "incrby", K_FIRST, 0 },
    { "decr", N_STRING, "incrby", K_FIRST, 0 },
    { "incrby", N_STRING, "incrby", K_FIRST, 0 },
    { "decrby", N_STRING, "incrby", K_FIRST, 0 },
    { "incrbyfloat", N_STRING, "incrbyfloat", K_FIRST, 0 },
    { "getdel", N_GENERIC, "del", K_FIRST, F_DEL_ONLY },
    { "setbit", N_STRING, "setbit", K_FIRST, 0 },
    { "bitfield", N_STRING, "setbit", K_FIRST, 0 },
    { "bitop", N_STRING, "set", K_ARG2, F_DEL_ONLY },
    { "pfadd", N_STRING, "pfadd", K_FIRST, 0 },
    { "pfmerge", N_STRING, "pfadd", K_FIRST, 0 },
    { "del", N_GENERIC, "del", K_ALL, F_DEL_ONLY },
    { "unlink", N_GENERIC, "del", K_ALL, F_DEL_ONLY },
    { "expire", N_GENERIC, "expire", K_FIRST, F_DEL_ONLY | F_IF_COUNT },
    { "pexpire", N_GENERIC, "expire", K_FIRST, F_DEL_ONLY | F_IF_COUNT },
    { "expireat", N_GENERIC, "expire", K_FIRST, F_DEL_ONLY | F_IF_COUNT },
    { "pexpireat", N_GENERIC, "expire", K_FIRST, F_DEL_ONLY | F_IF_COUNT },
    { "persist", N_GENERIC, "persist", K_FIRST, F_IF_COUNT },
    { "restore", N_GENERIC, "restore", K_FIRST, F_NEW_ALWAYS },
    { "lpush", N_LIST, "lpush", K_FIRST, 0 },
    { "lpushx", N_LIST, "lpush", K_FIRST, 0 },
    { "rpush", N_LIST, "rpush", K_FIRST, 0 },
    { "rpushx", N_LIST, "rpush", K_FIRST, 0 },
    { "linsert", N_LIST, "linsert", K_FIRST, F_IF_COUNT },
    { "lset", N_LIST, "lset", K_FIRST, 0 },
    { "ltrim", N_LIST, "ltrim", K_FIRST, F_THEN_DEL },
    { "lrem", N_LIST, "lrem", K_FIRST, F_THEN_DEL | F_IF_COUNT },
    { "lpop", N_LIST, "lpop", K_FIRST, F_THEN_DEL },
    { "rpop", N_LIST, "rpop", K_FIRST, F_THEN_DEL },
    { "hset", N_HASH, "hset", K_FIRST, 0 },
    { "hmset", N_HASH, "hset", K_FIRST, 0 },
    { "hsetnx", N_HASH, "hset", K_FIRST, F_IF_COUNT },
    { "hdel", N_HASH, "hdel", K_FIRST, F_THEN_DEL | F_IF_COUNT },
    { "hincrby", N_HASH, "hincrby", K_FIRST, 0 },
    { "hincrbyfloat", N_HASH, "hincrbyfloat", K_FIRST, 0 },
    { "sadd", N_SET, "sadd", K_FIRST, F_IF_COUNT },
    { "srem", N_SET, "srem", K_FIRST, F_THEN_DEL | F_IF_COUNT },
    { "spop", N_SET, "spop", K_FIRST, F_THEN_DEL },
    { "sinterstore", N_SET, "sinterstore", K_FIRST, F_DEL_ONLY },
    { "sunionstore", N_SET, "sunionstore", K_FIRST, F_DEL_ONLY },
    { "sdiffstore", N_SET, "sdiffstore", K_FIRST, F_DEL_ONLY },
    { "zadd", N_ZSET, "zadd", K_FIRST, 0 },
    { "zincrby", N_ZSET, "zincr", K_FIRST, 0 },
    { "zrem", N_ZSET, "zrem", K_FIRST, F_THEN_DEL | F_IF_COUNT },
    { "zremrangebyscore", N_ZSET, "zremrangebyscore", K_FIRST, F_THEN_DEL | F_IF_COUNT },
    { "zremrangebyrank", N_ZSET, "zremrangebyrank", K_FIRST, F_THEN_DEL | F_IF_COUNT },
    { "zremrangebylex", N_ZSET, "zremrangebylex", K_FIRST, F_THEN_DEL | F_IF_COUNT },
    { "zpopmin", N_ZSET, "zpopmin", K_FIRST, F_THEN_DEL },
    { "zpopmax", N_ZSET, "zpopmax", K_FIRST, F_THEN_DEL },
    { "zunionstore", N_ZSET, "zunionstore", K_FIRST, F_DEL_ONLY },
    { "zinterstore", N_ZSET, "zinterstore", K_FIRST, F_DEL_ONLY },
    { "zdiffstore", N_ZSET, "zdiffstore", K_FIRST, F_DEL_ONLY },
    { "zrangestore", N_ZSET, "zrangestore", K_FIRST, F_DEL_ONLY },
    { "geoadd", N_ZSET, "zadd", K_FIRST, 0 },   /* 7.0.15 runs it as ZADD */
    { "geosearchstore", N_ZSET, "geosearchstore", K_FIRST, F_DEL_ONLY },
    /* their events depend on the arguments: see special() */
    { "getex", N_GENERIC, NULL, K_SPECIAL, 0 },
    { "rename", N_GENERIC, NULL, K_SPECIAL, 0 },
    { "renamenx", N_GENERIC, NULL, K_SPECIAL, 0 },
    { "copy", N_GENERIC, NULL, K_SPECIAL, 0 },
    { "sort", N_LIST, NULL, K_SPECIAL, 0 },
    { "lmove", N_LIST, NULL, K_SPECIAL, 0 },
    { "rpoplpush", N_LIST, NULL, K_SPECIAL, 0 },
    { "smove", N_SET, NULL, K_SPECIAL, 0 },
    { "georadius", N_ZSET, NULL, K_SPECIAL, 0 },
    { "georadiusbymember", N_ZSET, NULL, K_SPECIAL, 0 },
};

static const nspec_t *spec_of(const uint8_t *name, size_t len)
{
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (strlen(specs[i].cmd) == len && !strncasecmp(specs[i].cmd, (const char *)name, len)) return &specs[i];
    return NULL;
}

static bool arg_eq(const uint8_t *a, size_t n, const char *word)
{
    return strlen(word) == n && !strncasecmp((const char *)a, word, n);
}

/* A blocking pop served, or LMPOP/ZMPOP: the effect it propagates (LPOP
 * key, LMOVE ..., ZPOPMIN key) is what 7.0.15 notifies. */
static bool by_effect(const cmd_def_t *cmd)
{
    return (cmd->flags & CMD_BLOCKING) || !strcmp(cmd->name, "lmpop") || !strcmp(cmd->name, "zmpop");
}

void notify_before(struct keyspace *ks, const cmd_def_t *cmd, int argc, const uint8_t **argv,
                   const size_t *argvlen, long long now_ms, const resp_buf_t *reply, notify_pre_t *pre)
{
    pre->reply_start = reply->len;
    pre->on = notify_enabled() && cmd->parent == NULL &&
              (by_effect(cmd) || spec_of((const uint8_t *)cmd->name, strlen(cmd->name)));
    pre->nkeys = 0;
    if (!pre->on) return;
    pre->pos = pre->pos_small;
    pre->state = pre->state_small;
    int max = NOTIFY_MAX_KEYS;
    if (argc > NOTIFY_MAX_KEYS) {   /* no more keys than arguments */
        max = argc;
        pre->pos = xmalloc(sizeof *pre->pos * (size_t)argc);
        pre->state = xmalloc(sizeof *pre->state * (size_t)argc);
    }
    int n = cmd_get_keys(cmd, argc, argv, argvlen, pre->pos, max);
    pre->nkeys = n < 0 ? 0 : n > max ? max : n;
    for (int i = 0; i < pre->nkeys; i++)
        pre->state[i] = ks_exists_noexpire(ks, argv[pre->pos[i]], argvlen[pre->pos[i]], now_ms);
    pre->smove_kept = cmd->handler == cmd_smove && cmd_smove_dst_has(ks, argc, argv, argvlen, now_ms);
}

void notify_keymiss(const uint8_t *key, size_t len) { emit(N_KEY_MISS, "keymiss", key, len); }

/* Where `key` is among the keys looked at, -1 when it was not. Its state
 * there is the one before the command, or after the events already given for
 * an earlier mention of it (DEL k k deletes once: one "del"; MSET k 1 k 2
 * makes it once: one "new"). */
static int key_index(const notify_pre_t *pre, const cmd_ctx_t *ctx, const uint8_t *key, size_t len)
{
    for (int i = 0; i < pre->nkeys; i++) {
        int p = pre->pos[i];
        if (ctx->argvlen[p] == len && !memcmp(ctx->argv[p], key, len)) return i;
    }
    return -1;
}

/* One key's events: "new" when the command made it, its event, and "del"
 * when the command removed it, as flags say. */
static void key_events(struct keyspace *ks, const cmd_ctx_t *ctx, notify_pre_t *pre, int cls,
                       const char *event, int flags, const uint8_t *key, size_t len)
{
    int at = key_index(pre, ctx, key, len);
    bool before = at >= 0 && pre->state[at] == 1;
    bool after = ks_exists_noexpire(ks, key, len, ctx->now_ms);
    if (at >= 0) pre->state[at] = after;
    if (!after && (flags & F_DEL_ONLY)) {
        if (before) emit(N_GENERIC, "del", key, len);
        return;
    }
    if (after && (!before || (flags & F_NEW_ALWAYS))) emit(N_NEW, "new", key, len);
    if (!before && !after) return;
    emit(cls, event, key, len);
    if (flags & F_EXPIRE) emit(N_GENERIC, "expire", key, len);
    if (!after && (flags & F_THEN_DEL)) emit(N_GENERIC, "del", key, len);
}

/* The commands whose events depend on their arguments. */
static void special(struct keyspace *ks, const nspec_t *sp, int argc, const uint8_t **argv, const size_t *argvlen,
                    const cmd_ctx_t *ctx, notify_pre_t *pre)
{
    const char *c = sp->cmd;
    if (!strcmp(c, "getex")) {
        bool persist = false;
        for (int i = 2; i < argc; i++) persist |= arg_eq(argv[i], argvlen[i], "persist");
        key_events(ks, ctx, pre, N_GENERIC, persist ? "persist" : "expire", F_DEL_ONLY, argv[1], argvlen[1]);
    } else if (!strcmp(c, "rename") || !strcmp(c, "renamenx")) {
        emit(N_NEW, "new", argv[2], argvlen[2]);
        emit(N_GENERIC, "rename_from", argv[1], argvlen[1]);
        emit(N_GENERIC, "rename_to", argv[2], argvlen[2]);
    } else if (!strcmp(c, "copy")) {
        bool other_db = false;   /* COPY ... DB n emits its own events (cmd_db.c) */
        for (int i = 3; i + 1 < argc; i++) other_db |= arg_eq(argv[i], argvlen[i], "db");
        if (!other_db) key_events(ks, ctx, pre, N_GENERIC, "copy_to", F_NEW_ALWAYS, argv[2], argvlen[2]);
    } else if (!strcmp(c, "sort")) {
        for (int i = 2; i + 1 < argc; i++)
            if (arg_eq(argv[i], argvlen[i], "store"))
                key_events(ks, ctx, pre, N_LIST, "sortstore", F_DEL_ONLY, argv[i + 1], argvlen[i + 1]);
    } else if (!strcmp(c, "georadius") || !strcmp(c, "georadiusbymember")) {
        /* only a STORE or STOREDIST call writes: its destination is the
         * second key cmd_get_keys found */
        if (pre->nkeys > 1)
            key_events(ks, ctx, pre, N_ZSET, "georadiusstore", F_DEL_ONLY, argv[pre->pos[1]], argvlen[pre->pos[1]]);
    } else if (!strcmp(c, "smove")) {
        key_events(ks, ctx, pre, N_SET, "srem", F_THEN_DEL, argv[1], argvlen[1]);
        if (!pre->smove_kept) key_events(ks, ctx, pre, N_SET, "sadd", 0, argv[2], argvlen[2]);
    } else {   /* lmove, rpoplpush: the push on the destination first, then the pop */
        bool rpoplpush = !strcmp(c, "rpoplpush");
        bool from_left = !rpoplpush && arg_eq(argv[3], argvlen[3], "left");
        bool to_left = rpoplpush || arg_eq(argv[4], argvlen[4], "left");
        key_events(ks, ctx, pre, N_LIST, to_left ? "lpush" : "rpush", 0, argv[2], argvlen[2]);
        key_events(ks, ctx, pre, N_LIST, from_left ? "lpop" : "rpop", F_THEN_DEL, argv[1], argvlen[1]);
    }
}

static void events_of(struct keyspace *ks, const cmd_def_t *cmd, const cmd_ctx_t *ctx, notify_pre_t *pre);

void notify_after(struct keyspace *ks, const cmd_def_t *cmd, const cmd_ctx_t *ctx, notify_pre_t *pre)
{
    if (!pre->on) return;
    if (ctx->dirty) events_of(ks, cmd, ctx, pre);
    if (pre->pos != pre->pos_small) {
        free(pre->pos);
        free(pre->state);
    }
}

static void events_of(struct keyspace *ks, const cmd_def_t *cmd, const cmd_ctx_t *ctx, notify_pre_t *pre)
{
    int argc = ctx->argc;
    const uint8_t **argv = ctx->argv;
    const size_t *argvlen = ctx->argvlen;
    if (by_effect(cmd) && ctx->prop_argc > 0) {
        argc = ctx->prop_argc;
        argv = (const uint8_t **)ctx->prop_argv;
        argvlen = ctx->prop_argvlen;
    }
    const nspec_t *sp = spec_of(argv[0], argvlen[0]);
    if (!sp) return;
    if (sp->keys == K_SPECIAL) {
        special(ks, sp, argc, argv, argvlen, ctx, pre);
        return;
    }
    int flags = sp->flags;
    if (flags & F_IF_COUNT) {
        /* ":n\r\n", n > 0 */
        const char *r = ctx->reply->data + pre->reply_start;
        size_t n = ctx->reply->len - pre->reply_start;
        if (n < 4 || r[0] != ':' || r[1] == '0' || r[1] == '-') return;
    }
    if (flags & F_EXPIRE_OPT)
        for (int i = 3; i < argc; i++)
            if (arg_eq(argv[i], argvlen[i], "ex") || arg_eq(argv[i], argvlen[i], "px") ||
                arg_eq(argv[i], argvlen[i], "exat") || arg_eq(argv[i], argvlen[i], "pxat"))
                flags |= F_EXPIRE;
    const char *event = sp->event;
    if (!strcmp(sp->cmd, "zadd"))
        for (int i = 2; i < argc; i++)
            if (arg_eq(argv[i], argvlen[i], "incr")) event = "zincr";
    switch (sp->keys) {
    case K_FIRST:
        key_events(ks, ctx, pre, sp->cls, event, flags, argv[1], argvlen[1]);
        break;
    case K_ARG2:
        key_events(ks, ctx, pre, sp->cls, event, flags, argv[2], argvlen[2]);
        break;
    case K_PAIRS:
        for (int i = 1; i + 1 < argc; i += 2) key_events(ks, ctx, pre, sp->cls, event, flags, argv[i], argvlen[i]);
        break;
    default:
        for (int i = 0; i < pre->nkeys; i++)
            key_events(ks, ctx, pre, sp->cls, event, flags, argv[pre->pos[i]], argvlen[pre->pos[i]]);
    }
}

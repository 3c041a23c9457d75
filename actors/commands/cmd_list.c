/* cmd_list.c - the list commands: pushes, pops (with count, from several
 * keys, blocking), LINDEX/LSET/LRANGE/LTRIM/LREM/LINSERT/LPOS, LMOVE.
 *
 * Handlers run on the worker owning their keys' slot and answer with the
 * bytes redis-server 7.0.15 sends, in its order of checks (arguments, then
 * the key and its type). A blocking command (BLPOP ...) that finds nothing
 * either waits (ctx->block_mode CMD_BLOCK_MAY: it sets ctx->blocked and
 * replies nothing; actors/worker/blocking.c parks it), answers as on a
 * timeout (CMD_BLOCK_NEVER: inside MULTI), or, when blocking.c serves it
 * after a push (CMD_BLOCK_SERVE), looks at the ready key only. What a pop
 * propagates is its effect (LPOP, LMOVE ...), named in ctx->prop_*.
 * Must never: leave an empty list in the keyspace, or touch another
 * worker's keyspace.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/commands/timeout.h"
#include "actors/types/list.h"
#include "actors/worker/keyspace.h"

#define ERR_NOT_INT  "ERR value is not an integer or out of range"
#define ERR_SYNTAX   "ERR syntax error"
#define ERR_POSITIVE "ERR value is out of range, must be positive"

/* ---- helpers ---- */

/* The list at argv[i], or NULL (absent, or WRONGTYPE replied: *bad). */
static list_t *get_list(cmd_ctx_t *ctx, int i, bool read, bool *bad)
{
    ks_entry_t *e = read ? ks_lookup_read(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms)
                         : ks_lookup(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms);
    *bad = false;
    if (!e) return NULL;
    if (ks_entry_type(e) != KS_TYPE_LIST) {
        resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
        *bad = true;
        return NULL;
    }
    return ks_entry_obj(e);
}

/* After a change of l (measured at m0 before it): accounts the memory and
 * deletes the key when the list is empty, as Redis never keeps one. */
static void list_changed(cmd_ctx_t *ctx, int keyarg, list_t *l, size_t m0)
{
    cmd_coll_written(ctx, keyarg, (long long)list_mem(l) - (long long)m0, l->count == 0);
    ctx->dirty = true;
}

/* An empty list stored at argv[keyarg] (which must not hold a live key). */
static list_t *create_list(cmd_ctx_t *ctx, int keyarg)
{
    list_t *l = list_new();
    ks_set_object(ctx->ks, ctx->argv[keyarg], ctx->argvlen[keyarg], KS_TYPE_LIST, &l->obj, KS_NO_EXPIRE,
                  ctx->now_ms);
    return l;
}

static void reply_elem(cmd_ctx_t *ctx, const list_elem_t *e) { resp_add_bulk(ctx->reply, e->p, e->len); }

/* Parses a long as Redis's getLongFromObjectOrReply; replies on failure. */
static bool arg_long(cmd_ctx_t *ctx, int i, long long *v)
{
    if (arg_ll(ctx->argv[i], ctx->argvlen[i], v)) return true;
    resp_add_error(ctx->reply, ERR_NOT_INT);
    return false;
}

/* getRangeLongFromObjectOrReply(min..LONG_MAX) with a message used for both
 * a non-number and an out-of-range one. */
static bool arg_range(cmd_ctx_t *ctx, int i, long long min, const char *msg, long long *v)
{
    if (arg_ll(ctx->argv[i], ctx->argvlen[i], v) && *v >= min) return true;
    resp_add_error(ctx->reply, msg);
    return false;
}

/* LEFT / RIGHT (any case); replies a syntax error otherwise. */
static bool arg_where(cmd_ctx_t *ctx, int i, int *where)
{
    if (arg_is_at(ctx, i, "left")) *where = LIST_HEAD;
    else if (arg_is_at(ctx, i, "right")) *where = LIST_TAIL;
    else {
        resp_add_error(ctx->reply, ERR_SYNTAX);
        return false;
    }
    return true;
}

static void set_prop(cmd_ctx_t *ctx, int n, const char *const *words, const int *args)
{
    ctx->prop_argc = n;
    for (int k = 0; k < n; k++) {
        if (words[k]) {
            ctx->prop_argv[k] = (const uint8_t *)words[k];
            ctx->prop_argvlen[k] = strlen(words[k]);
        } else {
            ctx->prop_argv[k] = ctx->argv[args[k]];
            ctx->prop_argvlen[k] = ctx->argvlen[args[k]];
        }
    }
}

/* The effect of a pop with a count: [LR]POP key n. */
static void prop_pop_count(cmd_ctx_t *ctx, int where, int keyarg, long long n)
{
    snprintf(ctx->prop_num, sizeof ctx->prop_num, "%lld", n);
    const char *words[3] = { where == LIST_HEAD ? "LPOP" : "RPOP", NULL, ctx->prop_num };
    int args[3] = { 0, keyarg, 0 };
    set_prop(ctx, 3, words, args);
}

/* ---- pushes ---- */

static void push_generic(cmd_ctx_t *ctx, int where, bool xx)
{
    bool bad;
    list_t *l = get_list(ctx, 1, false, &bad);
    if (bad) return;
    if (!l) {
        if (xx) {
            resp_add_int(ctx->reply, 0);
            return;
        }
        l = create_list(ctx, 1);
    }
    size_t m0 = list_mem(l);
    for (int j = 2; j < ctx->argc; j++) list_push(l, where, ctx->argv[j], ctx->argvlen[j]);
    list_changed(ctx, 1, l, m0);
    ctx->dirty = ctx->argc - 2;   /* 7.0.15 counts each element pushed */
    resp_add_int(ctx->reply, (long long)l->count);
}

void cmd_lpush(cmd_ctx_t *ctx) { push_generic(ctx, LIST_HEAD, false); }
void cmd_rpush(cmd_ctx_t *ctx) { push_generic(ctx, LIST_TAIL, false); }
void cmd_lpushx(cmd_ctx_t *ctx) { push_generic(ctx, LIST_HEAD, true); }
void cmd_rpushx(cmd_ctx_t *ctx) { push_generic(ctx, LIST_TAIL, true); }

void cmd_linsert(cmd_ctx_t *ctx)
{
    bool after;
    if (arg_is_at(ctx, 2, "after")) after = true;
    else if (arg_is_at(ctx, 2, "before")) after = false;
    else {
        resp_add_error(ctx->reply, ERR_SYNTAX);
        return;
    }
    bool bad;
    list_t *l = get_list(ctx, 1, false, &bad);
    if (bad) return;
    if (!l) {
        resp_add_int(ctx->reply, 0);
        return;
    }
    list_iter_t it;
    list_elem_t e;
    list_iter_at(l, 0, true, &it);
    while (list_iter_next(&it, &e)) {
        if (e.len == ctx->argvlen[3] && memcmp(e.p, ctx->argv[3], e.len) == 0) {
            size_t m0 = list_mem(l);
            list_iter_insert_prev(&it, after, ctx->argv[4], ctx->argvlen[4]);
            list_changed(ctx, 1, l, m0);
            resp_add_int(ctx->reply, (long long)l->count);
            return;
        }
    }
    resp_add_int(ctx->reply, -1);
}

/* ---- reads ---- */

void cmd_llen(cmd_ctx_t *ctx)
{
    bool bad;
    list_t *l = get_list(ctx, 1, true, &bad);
    if (bad) return;
    resp_add_int(ctx->reply, l ? (long long)l->count : 0);
}

void cmd_lindex(cmd_ctx_t *ctx)
{
    bool bad;
    list_t *l = get_list(ctx, 1, true, &bad);
    if (bad) return;
    if (!l) {
        resp_add_null(ctx->reply);
        return;
    }
    long long index;
    if (!arg_long(ctx, 2, &index)) return;
    list_elem_t e;
    if (list_index(l, index, &e)) reply_elem(ctx, &e);
    else resp_add_null(ctx->reply);
}

/* Elements start..end (inclusive, Redis's negative-index and clamping
 * rules) as an array, in reverse when asked (from end down to start). */
static void reply_range(cmd_ctx_t *ctx, list_t *l, long long start, long long end, bool reverse)
{
    long long llen = (long long)l->count;
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        resp_add_array(ctx->reply, 0);
        return;
    }
    if (end >= llen) end = llen - 1;
    long long n = end - start + 1;
    resp_add_array(ctx->reply, n);
    list_iter_t it;
    list_elem_t e;
    list_iter_at(l, (size_t)(reverse ? end : start), !reverse, &it);
    while (n-- > 0 && list_iter_next(&it, &e)) reply_elem(ctx, &e);
}

void cmd_lrange(cmd_ctx_t *ctx)
{
    long long start, end;
    if (!arg_long(ctx, 2, &start) || !arg_long(ctx, 3, &end)) return;
    bool bad;
    list_t *l = get_list(ctx, 1, true, &bad);
    if (bad) return;
    if (!l) {
        resp_add_array(ctx->reply, 0);
        return;
    }
    reply_range(ctx, l, start, end, false);
}

/* LPOS key element [RANK r] [COUNT n] [MAXLEN m] */
void cmd_lpos(cmd_ctx_t *ctx)
{
    long long rank = 1, count = -1, maxlen = 0;
    for (int j = 3; j < ctx->argc; j++) {
        bool more = j + 1 < ctx->argc;
        if (more && arg_is_at(ctx, j, "rank")) {
            if (!arg_long(ctx, ++j, &rank)) return;
            if (rank == 0) {
                resp_add_error(ctx->reply, "ERR RANK can't be zero: use 1 to start from the first match, 2 from "
                                           "the second ... or use negative to start from the end of the list");
                return;
            }
            /* Redis negates it; LONG_MIN cannot be. */
            if (rank == -9223372036854775807LL - 1) rank++;
        } else if (more && arg_is_at(ctx, j, "count")) {
            if (!arg_range(ctx, ++j, 0, "ERR COUNT can't be negative", &count)) return;
        } else if (more && arg_is_at(ctx, j, "maxlen")) {
            if (!arg_range(ctx, ++j, 0, "ERR MAXLEN can't be negative", &maxlen)) return;
        } else {
            resp_add_error(ctx->reply, ERR_SYNTAX);
            return;
        }
    }
    bool forward = rank > 0;
    if (rank < 0) rank = -rank;
    bool bad;
    list_t *l = get_list(ctx, 1, true, &bad);
    if (bad) return;
    if (!l) {
        if (count != -1) resp_add_array(ctx->reply, 0);
        else resp_add_null(ctx->reply);
        return;
    }
    size_t handle = count != -1 ? resp_add_deferred_len(ctx->reply) : 0;
    long long llen = (long long)l->count, index = 0, matches = 0, found = -1, emitted = 0;
    list_iter_t it;
    list_elem_t e;
    list_iter_at(l, forward ? 0 : l->count - 1, forward, &it);
    while ((maxlen == 0 || index < maxlen) && list_iter_next(&it, &e)) {
        if (e.len == ctx->argvlen[2] && memcmp(e.p, ctx->argv[2], e.len) == 0) {
            matches++;
            if (matches >= rank) {
                long long pos = forward ? index : llen - index - 1;
                if (count == -1) {
                    found = pos;
                    break;
                }
                resp_add_int(ctx->reply, pos);
                emitted++;
                if (count && matches - rank + 1 >= count) break;
            }
        }
        index++;
    }
    if (count != -1) resp_set_deferred_array(ctx->reply, handle, emitted);
    else if (found >= 0) resp_add_int(ctx->reply, found);
    else resp_add_null(ctx->reply);
}

/* ---- in-place changes ---- */

void cmd_lset(cmd_ctx_t *ctx)
{
    bool bad;
    list_t *l = get_list(ctx, 1, false, &bad);
    if (bad) return;
    if (!l) {
        resp_add_error(ctx->reply, "ERR no such key");
        return;
    }
    long long index;
    if (!arg_long(ctx, 2, &index)) return;
    if (index < 0) index += (long long)l->count;
    if (index < 0 || index >= (long long)l->count) {
        resp_add_error(ctx->reply, "ERR index out of range");
        return;
    }
    size_t m0 = list_mem(l);
    list_set(l, (size_t)index, ctx->argv[3], ctx->argvlen[3]);
    list_changed(ctx, 1, l, m0);
    resp_add_simple(ctx->reply, "OK");
}

void cmd_ltrim(cmd_ctx_t *ctx)
{
    long long start, end;
    if (!arg_long(ctx, 2, &start) || !arg_long(ctx, 3, &end)) return;
    bool bad;
    list_t *l = get_list(ctx, 1, false, &bad);
    if (bad) return;
    if (!l) {
        resp_add_simple(ctx->reply, "OK");
        return;
    }
    long long llen = (long long)l->count, ltrim, rtrim;
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        ltrim = llen;
        rtrim = 0;
    } else {
        if (end >= llen) end = llen - 1;
        ltrim = start;
        rtrim = llen - end - 1;
    }
    size_t m0 = list_mem(l);
    list_delete_range(l, 0, (size_t)ltrim);
    list_delete_range(l, l->count - (size_t)rtrim, (size_t)rtrim);
    /* Redis counts LTRIM as a change (and propagates it) even when it
     * removed nothing. */
    list_changed(ctx, 1, l, m0);
    resp_add_simple(ctx->reply, "OK");
}

void cmd_lrem(cmd_ctx_t *ctx)
{
    long long toremove;
    if (!arg_long(ctx, 2, &toremove)) return;
    bool bad;
    list_t *l = get_list(ctx, 1, false, &bad);
    if (bad) return;
    if (!l) {
        resp_add_int(ctx->reply, 0);
        return;
    }
    bool forward = toremove >= 0;
    unsigned long long limit = forward ? (unsigned long long)toremove : 0ull - (unsigned long long)toremove;
    size_t m0 = list_mem(l);
    long long removed = 0;
    list_iter_t it;
    list_elem_t e;
    list_iter_at(l, forward ? 0 : l->count - 1, forward, &it);
    while (list_iter_next(&it, &e)) {
        if (e.len == ctx->argvlen[3] && memcmp(e.p, ctx->argv[3], e.len) == 0) {
            list_iter_delete_prev(&it);
            removed++;
            if (limit && (unsigned long long)removed == limit) break;
        }
    }
    if (removed) list_changed(ctx, 1, l, m0);
    resp_add_int(ctx->reply, removed);
}

/* ---- pops ---- */

/* Pops `count` elements from one end of l at argv[keyarg] as an array (or
 * one bulk with count < 0), then drops the key if it emptied. */
static void pop_reply(cmd_ctx_t *ctx, list_t *l, int keyarg, int where, long long count)
{
    size_t m0 = list_mem(l);
    if (count < 0) {
        list_elem_t e;
        list_peek(l, where, &e);
        reply_elem(ctx, &e);
        if (where == LIST_HEAD) list_delete_range(l, 0, 1);
        else list_delete_range(l, l->count - 1, 1);
    } else {
        long long llen = (long long)l->count, n = count > llen ? llen : count;
        if (where == LIST_HEAD) {
            reply_range(ctx, l, 0, n - 1, false);
            list_delete_range(l, 0, (size_t)n);
        } else {
            reply_range(ctx, l, -n, -1, true);
            list_delete_range(l, l->count - (size_t)n, (size_t)n);
        }
    }
    list_changed(ctx, keyarg, l, m0);
}

static void pop_generic(cmd_ctx_t *ctx, int where)
{
    bool hascount = ctx->argc == 3;
    long long count = -1;
    if (ctx->argc > 3) {
        resp_add_errorf(ctx->reply, "ERR wrong number of arguments for '%s' command",
                        where == LIST_HEAD ? "lpop" : "rpop");
        return;
    }
    if (hascount && !arg_range(ctx, 2, 0, ERR_POSITIVE, &count)) return;
    bool bad;
    list_t *l = get_list(ctx, 1, false, &bad);
    if (bad) return;
    if (!l) {
        if (hascount) resp_add_null_array(ctx->reply);
        else resp_add_null(ctx->reply);
        return;
    }
    if (hascount && count == 0) {
        resp_add_array(ctx->reply, 0);
        return;
    }
    pop_reply(ctx, l, 1, where, count);
}

void cmd_lpop(cmd_ctx_t *ctx) { pop_generic(ctx, LIST_HEAD); }
void cmd_rpop(cmd_ctx_t *ctx) { pop_generic(ctx, LIST_TAIL); }

/* The first non-empty list among argv[first .. first+n): pops from it and
 * replies [key, element] (count < 0) or [key, [elements]]. In
 * CMD_BLOCK_SERVE mode only the ready key is looked at. Returns true when it
 * replied (served, or WRONGTYPE). */
static bool mpop_try(cmd_ctx_t *ctx, int first, int n, int where, long long count)
{
    for (int j = first; j < first + n; j++) {
        if (ctx->block_mode == CMD_BLOCK_SERVE && j != ctx->serve_arg) continue;
        ks_entry_t *e = ks_lookup(ctx->ks, ctx->argv[j], ctx->argvlen[j], ctx->now_ms);
        if (!e) continue;
        if (ks_entry_type(e) != KS_TYPE_LIST) {
            if (ctx->block_mode == CMD_BLOCK_SERVE) return false;   /* 7.0.15 keeps such a waiter */
            resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
            return true;
        }
        list_t *l = ks_entry_obj(e);
        long long llen = (long long)l->count;
        resp_add_array(ctx->reply, 2);
        resp_add_bulk(ctx->reply, ctx->argv[j], ctx->argvlen[j]);
        pop_reply(ctx, l, j, where, count);
        if (count < 0) {
            const char *words[2] = { where == LIST_HEAD ? "LPOP" : "RPOP", NULL };
            int args[2] = { 0, j };
            set_prop(ctx, 2, words, args);
        } else {
            prop_pop_count(ctx, where, j, count > llen ? llen : count);
        }
        return true;
    }
    return false;
}

/* Nothing to pop: wait, or answer as a timeout would. */
static void wait_or_null(cmd_ctx_t *ctx, int first, int n, long long timeout_ms, bool array)
{
    if (timeout_block(ctx, first, n, timeout_ms)) return;
    if (array) resp_add_null_array(ctx->reply);
    else resp_add_null(ctx->reply);
}

static void bpop_generic(cmd_ctx_t *ctx, int where)
{
    long long timeout;
    if (!timeout_arg_seconds(ctx, ctx->argc - 1, &timeout)) return;
    if (mpop_try(ctx, 1, ctx->argc - 2, where, -1)) return;
    wait_or_null(ctx, 1, ctx->argc - 2, timeout, true);
}

void cmd_blpop(cmd_ctx_t *ctx) { bpop_generic(ctx, LIST_HEAD); }
void cmd_brpop(cmd_ctx_t *ctx) { bpop_generic(ctx, LIST_TAIL); }

/* LMPOP numkeys key... LEFT|RIGHT [COUNT n]; BLMPOP timeout numkeys ... */
static void mpop_generic(cmd_ctx_t *ctx, int numkeys_idx, bool blocking)
{
    long long numkeys, count = -1;
    int where;
    if (!arg_range(ctx, numkeys_idx, 1, "ERR numkeys should be greater than 0", &numkeys)) return;
    if (numkeys >= ctx->argc - numkeys_idx) {
        resp_add_error(ctx->reply, ERR_SYNTAX);
        return;
    }
    int where_idx = numkeys_idx + (int)numkeys + 1;
    if (!arg_where(ctx, where_idx, &where)) return;
    for (int j = where_idx + 1; j < ctx->argc; j++) {
        if (count == -1 && j + 1 < ctx->argc && arg_is_at(ctx, j, "count")) {
            if (!arg_range(ctx, ++j, 1, "ERR count should be greater than 0", &count)) return;
        } else {
            resp_add_error(ctx->reply, ERR_SYNTAX);
            return;
        }
    }
    if (count == -1) count = 1;
    long long timeout = 0;
    if (blocking && !timeout_arg_seconds(ctx, 1, &timeout)) return;
    if (mpop_try(ctx, numkeys_idx + 1, (int)numkeys, where, count)) return;
    if (blocking) wait_or_null(ctx, numkeys_idx + 1, (int)numkeys, timeout, true);
    else resp_add_null_array(ctx->reply);
}

void cmd_lmpop(cmd_ctx_t *ctx) { mpop_generic(ctx, 1, false); }
void cmd_blmpop(cmd_ctx_t *ctx) { mpop_generic(ctx, 2, true); }

/* ---- moves ---- */

/* Pops from argv[1] and pushes onto argv[2]; the caller checked that the
 * source is a non-empty list. Replies the element, or WRONGTYPE for a
 * destination of another type (then nothing moves). */
static bool move_one(cmd_ctx_t *ctx, list_t *src, int wherefrom, int whereto)
{
    bool bad;
    list_t *dst = get_list(ctx, 2, false, &bad);
    if (bad) return false;
    size_t ms0 = list_mem(src);
    uint8_t *v;
    size_t vlen;
    list_pop(src, wherefrom, &v, &vlen);
    bool same = dst == src;
    if (!dst) dst = create_list(ctx, 2);
    size_t md0 = same ? ms0 : list_mem(dst);
    list_push(dst, whereto, v, vlen);
    resp_add_bulk(ctx->reply, v, vlen);
    free(v);
    if (!same) {
        ks_mem_adjust(ctx->ks, (long long)list_mem(dst) - (long long)md0);
        list_changed(ctx, 1, src, ms0);
    } else {
        list_changed(ctx, 1, src, ms0);
    }
    return true;
}

/* LMOVE-like: the source's absence is nil; `timeout_ms` >= 0 makes it the
 * blocking form, which may wait instead. */
static void move_generic(cmd_ctx_t *ctx, int wherefrom, int whereto, bool blocking, long long timeout_ms)
{
    bool serve = ctx->block_mode == CMD_BLOCK_SERVE;
    ks_entry_t *e = ks_lookup(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    if (e && ks_entry_type(e) != KS_TYPE_LIST) {
        if (serve) {
            wait_or_null(ctx, 1, 1, timeout_ms, false);
            return;
        }
        resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
        return;
    }
    if (!e || ((list_t *)ks_entry_obj(e))->count == 0) {
        if (blocking) wait_or_null(ctx, 1, 1, timeout_ms, false);
        else resp_add_null(ctx->reply);
        return;
    }
    if (!move_one(ctx, ks_entry_obj(e), wherefrom, whereto)) return;
    if (!blocking) return;            /* LMOVE and RPOPLPUSH propagate as written */
    bool rpoplpush = ctx->argc == 4;
    if (rpoplpush) {
        static const char *const words[3] = { "RPOPLPUSH", NULL, NULL };
        static const int args[3] = { 0, 1, 2 };
        set_prop(ctx, 3, words, args);
    } else if (serve) {
        /* Served after a wait: 7.0.15 names the ends in lower case. */
        const char *words[5] = { "LMOVE", NULL, NULL, wherefrom == LIST_HEAD ? "left" : "right",
                                 whereto == LIST_HEAD ? "left" : "right" };
        int args[5] = { 0, 1, 2, 0, 0 };
        set_prop(ctx, 5, words, args);
    } else {
        static const char *const words[5] = { "LMOVE", NULL, NULL, NULL, NULL };
        static const int args[5] = { 0, 1, 2, 3, 4 };
        set_prop(ctx, 5, words, args);
    }
}

void cmd_lmove(cmd_ctx_t *ctx)
{
    int from, to;
    if (!arg_where(ctx, 3, &from) || !arg_where(ctx, 4, &to)) return;
    move_generic(ctx, from, to, false, 0);
}

void cmd_rpoplpush(cmd_ctx_t *ctx) { move_generic(ctx, LIST_TAIL, LIST_HEAD, false, 0); }

void cmd_blmove(cmd_ctx_t *ctx)
{
    int from, to;
    long long timeout;
    if (!arg_where(ctx, 3, &from) || !arg_where(ctx, 4, &to) || !timeout_arg_seconds(ctx, 5, &timeout)) return;
    move_generic(ctx, from, to, true, timeout);
}

void cmd_brpoplpush(cmd_ctx_t *ctx)
{
    long long timeout;
    if (!timeout_arg_seconds(ctx, 3, &timeout)) return;
    move_generic(ctx, LIST_TAIL, LIST_HEAD, true, timeout);
}

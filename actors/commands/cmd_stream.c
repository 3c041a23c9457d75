/* cmd_stream.c - XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XREAD and
 * XREADGROUP, answering as redis-server 7.0.15 (t_stream.c) in its order of
 * checks and with its texts.
 *
 * XADD with an ID the server chose, and any trim with `~` or LIMIT,
 * propagate the call with the concrete ID and the exact trim point, as
 * 7.0.15 rewrites them; XREADGROUP propagates its pending-list changes as
 * XCLAIM and XGROUP SETID/CREATECONSUMER. XREAD/XREADGROUP BLOCK wait in
 * actors/worker/blocking.c: the IDs a reader waits past are its
 * block_state, so `$` means the last ID when it started to wait.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/commands/args.h"
#include "actors/commands/cmd_stream.h"
#include "actors/commands/commands.h"
#include "actors/commands/timeout.h"

/* ---------------- XADD / XTRIM arguments ---------------- */

typedef struct add_args {
    stream_trim_t trim;
    int trim_arg;                 /* argv index of the MAXLEN/MINID threshold */
    bool id_given, seq_given, nomkstream;
    stream_id_t id;
} add_args_t;

static bool trim_operator(cmd_ctx_t *ctx, int *i, int more, add_args_t *a)
{
    if (a->trim.strategy != STREAM_TRIM_NONE) {
        resp_add_error(ctx->reply, "ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
        return false;
    }
    a->trim.approx = false;
    const uint8_t *nx = ctx->argv[*i + 1];
    if (more >= 2 && ctx->argvlen[*i + 1] == 1 && nx[0] == '~') {
        a->trim.approx = true;
        (*i)++;
    } else if (more >= 2 && ctx->argvlen[*i + 1] == 1 && nx[0] == '=') {
        (*i)++;
    }
    return true;
}

/* streamParseAddOrTrimArgsOrReply: the ID's position (XADD), or -1 after
 * replying an error. */
static int parse_add_trim(cmd_ctx_t *ctx, add_args_t *a, bool xadd)
{
    memset(a, 0, sizeof *a);
    bool limit_given = false;
    int i = 2;
    for (; i < ctx->argc; i++) {
        int more = ctx->argc - 1 - i;
        if (xadd && ctx->argvlen[i] == 1 && ctx->argv[i][0] == '*') break;
        if (arg_is_at(ctx, i, "maxlen") && more) {
            if (!trim_operator(ctx, &i, more, a)) return -1;
            if (!arg_ll_at(ctx, i + 1, &a->trim.maxlen)) return -1;
            if (a->trim.maxlen < 0) {
                resp_add_error(ctx->reply, "ERR The MAXLEN argument must be >= 0.");
                return -1;
            }
            i++;
            a->trim.strategy = STREAM_TRIM_MAXLEN;
            a->trim_arg = i;
        } else if (arg_is_at(ctx, i, "minid") && more) {
            if (!trim_operator(ctx, &i, more, a)) return -1;
            if (!xs_parse_id_at(ctx, i + 1, 0, true, &a->trim.minid)) return -1;
            i++;
            a->trim.strategy = STREAM_TRIM_MINID;
            a->trim_arg = i;
        } else if (arg_is_at(ctx, i, "limit") && more) {
            if (!arg_ll_at(ctx, i + 1, &a->trim.limit)) return -1;
            if (a->trim.limit < 0) {
                resp_add_error(ctx->reply, "ERR The LIMIT argument must be >= 0.");
                return -1;
            }
            limit_given = true;
            i++;
        } else if (xadd && arg_is_at(ctx, i, "nomkstream")) {
            a->nomkstream = true;
        } else if (xadd) {
            bool star;
            if (!xs_parse_id(ctx, ctx->argv[i], ctx->argvlen[i], 0, true, &a->id, &star)) return -1;
            a->seq_given = !star;
            a->id_given = true;
            break;
        } else {
            resp_add_error(ctx->reply, XERR_SYNTAX);
            return -1;
        }
    }
    if (a->trim.limit && a->trim.strategy == STREAM_TRIM_NONE) {
        resp_add_error(ctx->reply, "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return -1;
    }
    if (!xadd && a->trim.strategy == STREAM_TRIM_NONE) {
        resp_add_error(ctx->reply, "ERR syntax error, XTRIM must be called with a trimming strategy");
        return -1;
    }
    if (ctx->from_master) {
        a->trim.limit = 0;        /* the master wrote the exact trim point */
    } else if (limit_given) {
        if (!a->trim.approx) {
            resp_add_error(ctx->reply, "ERR syntax error, LIMIT cannot be used without the special ~ option");
            return -1;
        }
    } else if (a->trim.approx) {
        a->trim.limit = 100 * stream_node_max_entries();
        if (a->trim.limit <= 0) a->trim.limit = 10000;
        if (a->trim.limit > 1000000) a->trim.limit = 1000000;
    } else {
        a->trim.limit = 0;
    }
    return i;
}

/* The threshold an approximate trim propagates: the length, or the first
 * ID (tombstones included) now, as 7.0.15's streamRewriteTrimArgument. */
static void trim_point(const stream_t *s, int strategy, char *buf)
{
    if (strategy == STREAM_TRIM_MAXLEN) {
        snprintf(buf, 48, "%llu", (unsigned long long)s->length);
    } else {
        stream_id_t first;
        stream_edge(s, true, false, &first);
        stream_id_fmt(&first, buf);
    }
}

/* What XADD and XTRIM propagate, as 7.0.15 rewrites its call: an
 * approximate trim's `~` as `=` with the exact point reached, and (idpos
 * >= 0) the ID the server chose. Nothing to rewrite: the call itself. */
static void prop_rewritten(cmd_ctx_t *ctx, const stream_t *s, const add_args_t *a, int idpos, const char *id)
{
    char point[48];
    int rep_idx[3], nrep = 0;
    const char *rep[3];
    if (a->trim.strategy != STREAM_TRIM_NONE && a->trim.approx) {
        trim_point(s, a->trim.strategy, point);
        rep_idx[nrep] = a->trim_arg - 1, rep[nrep++] = "=";
        rep_idx[nrep] = a->trim_arg, rep[nrep++] = point;
    }
    if (idpos >= 0) rep_idx[nrep] = idpos, rep[nrep++] = id;
    if (!nrep) return;
    xs_prop_reset(ctx);
    xs_prop_call(ctx, nrep, rep_idx, rep);
}

void cmd_xadd(cmd_ctx_t *ctx)
{
    add_args_t a;
    int idpos = parse_add_trim(ctx, &a, true);
    if (idpos < 0) return;
    int fpos = idpos + 1;
    if (ctx->argc - fpos < 2 || (ctx->argc - fpos) % 2 == 1) {
        resp_add_error(ctx->reply, "ERR wrong number of arguments for 'xadd' command");
        return;
    }
    if (a.id_given && a.seq_given && stream_id_zero(&a.id)) {
        resp_add_error(ctx->reply, "ERR The ID specified in XADD must be greater than 0-0");
        return;
    }
    bool bad;
    stream_t *s = xs_get(ctx, 1, false, &bad);
    if (bad) return;
    if (!s) {
        if (a.nomkstream) {
            resp_add_null(ctx->reply);
            return;
        }
        s = xs_create(ctx, 1);
    }
    if (s->last_id.ms == UINT64_MAX && s->last_id.seq == UINT64_MAX) {
        resp_add_error(ctx->reply, "ERR The stream has exhausted the last possible ID, unable to add more items");
        return;
    }
    size_t m0 = stream_mem(s);
    stream_id_t id;
    int rc = stream_append(s, ctx->argv + fpos, ctx->argvlen + fpos, (size_t)(ctx->argc - fpos) / 2,
                           a.id_given ? &a.id : NULL, a.seq_given, ctx->now_ms, &id);
    if (rc < 0) {
        resp_add_error(ctx->reply, rc == -1 ? "ERR The ID specified in XADD is equal or smaller than the target "
                                              "stream top item"
                                            : "ERR Elements are too large to be stored");
        return;
    }
    char idbuf[48];
    stream_id_fmt(&id, idbuf);
    resp_add_bulk(ctx->reply, idbuf, strlen(idbuf));
    xs_notify(ctx, "xadd", 1);
    ctx->dirty = 1;
    if (a.trim.strategy != STREAM_TRIM_NONE && stream_trim(s, &a.trim)) xs_notify(ctx, "xtrim", 1);
    prop_rewritten(ctx, s, &a, a.id_given && a.seq_given ? -1 : idpos, idbuf);
    xs_mem(ctx, s, m0);
}

void cmd_xtrim(cmd_ctx_t *ctx)
{
    add_args_t a;
    if (parse_add_trim(ctx, &a, false) < 0) return;
    stream_t *s = xs_get_or_reply(ctx, 1, false, XS_ABSENT_ZERO);
    if (!s) return;
    size_t m0 = stream_mem(s);
    int64_t deleted = stream_trim(s, &a.trim);
    if (deleted) {
        xs_notify(ctx, "xtrim", 1);
        prop_rewritten(ctx, s, &a, -1, NULL);
        ctx->dirty = deleted;
        xs_mem(ctx, s, m0);
    }
    resp_add_int(ctx->reply, deleted);
}

void cmd_xlen(cmd_ctx_t *ctx)
{
    bool bad;
    stream_t *s = xs_get(ctx, 1, true, &bad);
    if (!bad) resp_add_int(ctx->reply, s ? (long long)s->length : 0);
}

/* ---------------- XRANGE / XREVRANGE ---------------- */

/* streamParseIntervalIDOrReply: "(" makes the bound exclusive (and strict). */
static bool parse_interval(cmd_ctx_t *ctx, int i, uint64_t missing_seq, stream_id_t *id, bool *excl)
{
    const uint8_t *p = ctx->argv[i];
    size_t n = ctx->argvlen[i];
    *excl = n > 1 && p[0] == '(';
    if (*excl) return xs_parse_id(ctx, p + 1, n - 1, missing_seq, true, id, NULL);
    return xs_parse_id(ctx, p, n, missing_seq, false, id, NULL);
}

static void range_generic(cmd_ctx_t *ctx, bool rev)
{
    int sa = rev ? 3 : 2, ea = rev ? 2 : 3;
    stream_id_t start, end;
    bool sx, ex;
    long long count = -1;
    if (!parse_interval(ctx, sa, 0, &start, &sx)) return;
    if (sx && !stream_id_incr(&start)) {
        resp_add_error(ctx->reply, "ERR invalid start ID for the interval");
        return;
    }
    if (!parse_interval(ctx, ea, UINT64_MAX, &end, &ex)) return;
    if (ex && !stream_id_decr(&end)) {
        resp_add_error(ctx->reply, "ERR invalid end ID for the interval");
        return;
    }
    for (int j = 4; j < ctx->argc; j++) {
        if (arg_is_at(ctx, j, "count") && ctx->argc - j - 1 >= 1) {
            if (!arg_ll_at(ctx, j + 1, &count)) return;
            if (count < 0) count = 0;
            j++;
        } else {
            resp_add_error(ctx->reply, XERR_SYNTAX);
            return;
        }
    }
    stream_t *s = xs_get_or_reply(ctx, 1, true, XS_ABSENT_EMPTY_ARRAY);
    if (!s) return;
    if (count == 0) {
        resp_add_null_array(ctx->reply);
        return;
    }
    xs_reply_range(ctx, s, &start, &end, count == -1 ? 0 : (size_t)count, rev, NULL, NULL, 0, 1, 0);
}

void cmd_xrange(cmd_ctx_t *ctx) { range_generic(ctx, false); }
void cmd_xrevrange(cmd_ctx_t *ctx) { range_generic(ctx, true); }

/* ---------------- XDEL ---------------- */

void cmd_xdel(cmd_ctx_t *ctx)
{
    stream_t *s = xs_get_or_reply(ctx, 1, false, XS_ABSENT_ZERO);
    if (!s) return;
    int n = ctx->argc - 2;
    stream_id_t small[16], *ids = n > 16 ? malloc(sizeof *ids * (size_t)n) : small;
    for (int j = 0; j < n; j++)
        if (!xs_parse_id_at(ctx, j + 2, 0, true, &ids[j])) goto done;
    size_t m0 = stream_mem(s);
    long long deleted = 0;
    bool first = false;
    for (int j = 0; j < n; j++) {
        if (!stream_delete(s, &ids[j])) continue;
        if (stream_id_cmp(&ids[j], &s->first_id) == 0) first = true;
        if (stream_id_cmp(&ids[j], &s->max_deleted) > 0) s->max_deleted = ids[j];
        deleted++;
    }
    if (deleted) {
        if (s->length == 0) s->first_id.ms = s->first_id.seq = 0;
        else if (first) stream_edge(s, true, true, &s->first_id);
        xs_notify(ctx, "xdel", 1);
        ctx->dirty = deleted;
        xs_mem(ctx, s, m0);
    }
    resp_add_int(ctx->reply, deleted);
done:
    if (ids != small) free(ids);
}

/* ---------------- XREAD / XREADGROUP ---------------- */

int cmd_xread_getkeys(int argc, const uint8_t **argv, const size_t *argvlen, int *positions, int max)
{
    int sp = -1;
    for (int i = 1; i < argc; i++) {
        if (arg_is(argv[i], argvlen[i], "block") || arg_is(argv[i], argvlen[i], "count")) i++;
        else if (arg_is(argv[i], argvlen[i], "group")) i += 2;
        else if (arg_is(argv[i], argvlen[i], "noack")) continue;
        else if (arg_is(argv[i], argvlen[i], "streams")) {
            sp = i;
            break;
        } else break;
    }
    int num = sp < 0 ? 0 : argc - sp - 1;
    if (sp < 0 || num == 0 || num % 2) return 0;
    num /= 2;
    int n = 0;
    for (int i = 0; i < num && n < max; i++) positions[n++] = sp + 1 + i;
    return n;
}

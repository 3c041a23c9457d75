/* cmd_stream.h - what the stream command files (cmd_stream.c, cmd_stream_cg.c,
 * cmd_stream_info.c) share: argument parsing of IDs, range replies, and the
 * effect a stream write propagates.
 *
 * Handlers run on the worker owning the stream's slot. Must never: answer
 * with another text than 7.0.15's for the same call.
 */
#ifndef SHOAL_ACTORS_COMMANDS_CMD_STREAM_H
#define SHOAL_ACTORS_COMMANDS_CMD_STREAM_H

#include <stdbool.h>
#include "actors/commands/cmd.h"
#include "actors/types/stream.h"
#include "actors/types/stream_cg.h"

#define XERR_INVALID_ID "ERR Invalid stream ID specified as stream command argument"
#define XERR_SYNTAX "ERR syntax error"
#define XERR_NOT_INT "ERR value is not an integer or out of range"

/* The stream at argv[i], or NULL (absent, or WRONGTYPE replied: *bad). */
stream_t *xs_get(cmd_ctx_t *ctx, int i, bool read, bool *bad);
/* As xs_get, replying for a missing key too (0, or an empty array): NULL
 * when it replied. */
enum { XS_ABSENT_ZERO = 0, XS_ABSENT_EMPTY_ARRAY = 1 };
stream_t *xs_get_or_reply(cmd_ctx_t *ctx, int i, bool read, int absent);
/* A new empty stream stored at argv[i] ("new" notified). */
stream_t *xs_create(cmd_ctx_t *ctx, int i);
/* Accounts the memory change of a stream write (m0: stream_mem before). */
void xs_mem(cmd_ctx_t *ctx, const stream_t *s, size_t m0);

/* streamGenericParseIDOrReply: strict refuses "-" and "+"; seq_star (may
 * be NULL) accepts "<ms>-*". Replies the error on failure. */
bool xs_parse_id(cmd_ctx_t *ctx, const uint8_t *a, size_t n, uint64_t missing_seq, bool strict, stream_id_t *id,
                 bool *seq_star);
static inline bool xs_parse_id_at(cmd_ctx_t *ctx, int i, uint64_t missing_seq, bool strict, stream_id_t *id)
{
    return xs_parse_id(ctx, ctx->argv[i], ctx->argvlen[i], missing_seq, strict, id, NULL);
}
void xs_reply_id(cmd_ctx_t *ctx, const stream_id_t *id);
/* The entry's fields and values as one flat array. */
void xs_reply_fields(cmd_ctx_t *ctx, stream_iter_t *it, int64_t nf);

/* streamReplyWithRange: entries of [start, end] (count 0: all), and for a
 * group read (g != NULL) the PEL updates (history: re-deliver from the
 * consumer's PEL; noack: deliver without pending) with what they
 * propagate. Returns how many entries it answered. */
enum { XS_RANGE_NOACK = 1, XS_RANGE_HISTORY = 2 };
size_t xs_reply_range(cmd_ctx_t *ctx, stream_t *s, const stream_id_t *start, const stream_id_t *end, size_t count,
                      bool rev, stream_cg_t *g, stream_consumer_t *c, int flags, int keyarg, int grouparg);

/* The commands a stream write propagates in place of its call, kept per
 * thread until the next stream command: xs_prop_reset, then one xs_prop_*
 * per command. */
void xs_prop_reset(cmd_ctx_t *ctx);
/* The call itself with arguments replaced: for each k < nrep, argument
 * rep_idx[k] becomes rep[k]. */
void xs_prop_call(cmd_ctx_t *ctx, int nrep, const int *rep_idx, const char *const *rep);
/* A command given word by word (NULL-terminated list of C strings; a
 * (const char *)-1 entry stands for the next (bytes, len) pair in raw). */
void xs_prop_cmd(cmd_ctx_t *ctx, int argc, const uint8_t *const *argv, const size_t *argvlen);

/* The XCLAIM that re-creates nk in group argv[grouparg] of key argv[keyarg]
 * on a replica, and the XGROUP SETID that moves its last ID (7.0.15's
 * streamPropagateXCLAIM / streamPropagateGroupID). */
void xs_prop_xclaim(cmd_ctx_t *ctx, int keyarg, const uint8_t *group, size_t glen, const stream_cg_t *g,
                    const stream_nack_t *nk);
/* The same with the ID as the caller wrote it (XCLAIM propagates its argument). */
void xs_prop_xclaim_id(cmd_ctx_t *ctx, int keyarg, const uint8_t *group, size_t glen, const stream_cg_t *g,
                       const stream_nack_t *nk, const uint8_t *id, size_t idlen);
void xs_prop_setid(cmd_ctx_t *ctx, int keyarg, const uint8_t *group, size_t glen, const stream_cg_t *g);
void xs_prop_createconsumer(cmd_ctx_t *ctx, int keyarg, const uint8_t *group, size_t glen, const uint8_t *cons,
                            size_t clen);

/* The consumer of g named name, refreshed (seen now) or created (counted
 * dirty, "xgroup-createconsumer" on argv[keyarg]); *created says which. */
stream_consumer_t *xs_consumer(cmd_ctx_t *ctx, stream_cg_t *g, const uint8_t *name, size_t n, int keyarg,
                               bool *created);
/* 7.0.15's addReplySubcommandSyntaxError for container `cmd` (XGROUP, XINFO). */
void xs_subcommand_error(cmd_ctx_t *ctx, const char *cmd);
/* The -NOGROUP errors: "No such key 'k' or consumer group 'g'[suffix]" and
 * "No such consumer group 'g' for key name 'k'". */
void xs_nogroup_key_or_group(cmd_ctx_t *ctx, int keyarg, int grouparg, const char *suffix);
void xs_nogroup_for_key(cmd_ctx_t *ctx, int keyarg, int grouparg);

/* Keyspace events of class t (stream) on argv[keyarg]. */
void xs_notify(cmd_ctx_t *ctx, const char *event, int keyarg);

#endif

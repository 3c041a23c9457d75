/* pubsub.h - publish/subscribe on the workers: classic channels, patterns
 * and shard channels (docs/design.md §3.8).
 *
 * Every worker keeps the subscriptions of its own clients in tables only it
 * touches. What other threads may read is a small published summary per
 * worker: a bitmap of channel-name hashes (4096 buckets) for channels and
 * for shard channels, and its number of distinct patterns. A PUBLISH looks
 * at the summaries and sends the message to the workers that may hold a
 * subscriber (a hash bucket hit, or any pattern), in one batch per worker
 * and loop round (pubsub_send.c); each of those writes it to its own clients
 * and, for a client's PUBLISH, sends back how many got it.
 * No lock, no thread walks another's connections, and a pattern is matched
 * once per message on each worker that holds it.
 *
 * Must never: touch another worker's clients or tables; deliver a message of
 * one publisher out of order (a worker's messages to another travel in one
 * mailbox, in order).
 */
#ifndef SHOAL_ACTORS_WORKER_PUBSUB_H
#define SHOAL_ACTORS_WORKER_PUBSUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/commands/cmd.h"

struct client;
struct worker;

enum pubsub_kind { PUBSUB_CHANNEL = 0, PUBSUB_PATTERN = 1, PUBSUB_SHARD = 2 };

/* Once, before the workers start: the seed of the channel-name hash. */
void pubsub_init(void);

/* ---- commands, on the client's own worker ---- */

/* (P|S)SUBSCRIBE argv[1..]: one confirmation per name into `out`. */
void pubsub_subscribe(struct client *c, int kind, int argc, const uint8_t **argv, const size_t *argvlen,
                      resp_buf_t *out);
/* (P|S)UNSUBSCRIBE argv[1..], or every subscription of that kind when argc
 * is 1 (a null name when there was none), as 7.0.15 answers. */
void pubsub_unsubscribe(struct client *c, int kind, int argc, const uint8_t **argv, const size_t *argvlen,
                        resp_buf_t *out);
/* RESET and a closing connection: every subscription dropped, no reply. */
void pubsub_client_reset(struct client *c);
/* Whether pred holds for one of c's subscriptions of that kind. */
bool pubsub_client_any(const struct client *c, int kind, bool (*pred)(void *arg, const uint8_t *name, size_t len),
                       void *arg);
/* The client's counts (CLIENT LIST sub=, psub=, ssub=). */
int pubsub_client_count(const struct client *c, int kind);
/* Clients of worker i in subscribed mode (any thread; a relaxed count). */
int pubsub_worker_subscribers(int i);

/* PUBLISH / SPUBLISH channel message from a client command: delivers here
 * and on every other worker that may hold a subscriber; answers the number
 * of receivers on this node (deferred when other workers take part). */
void pubsub_publish_cmd(cmd_ctx_t *ctx, bool shard);

/* Delivers a message to this node's subscribers without counting them (a
 * frame from a bus peer, a keyspace notification). Any thread; the calls of
 * one thread reach each subscriber in call order. */
void pubsub_publish_async(bool shard, const void *channel, size_t channel_len, const void *message,
                          size_t message_len);

/* Any thread: whether some client of this node holds a subscription of
 * that family (classic: channels or patterns; shard). Relaxed: a hint for
 * skipping work, as 7.0.15's serverPubsubSubscriptionCount() > 0. */
bool pubsub_node_has_subscribers(bool shard);

/* A message from a bus peer (actors/bus/link_pubsub.c), on the link's
 * thread: as pubsub_publish_async, but when that thread is a worker's, its
 * own subscribers get it at once. Only from a callback that runs no command
 * (a subscriber may be closed at its output limit meanwhile); a keyspace
 * notification, raised inside a command, stays with pubsub_publish_async. */
void pubsub_publish_from_bus(bool shard, const void *channel, size_t channel_len, const void *message,
                             size_t message_len);

/* Before a client's command runs, on its worker: true when it is a PUBLISH
 * or SPUBLISH that must wait, unparsed, until the commands the client sent
 * before it to other workers in batches are back (their keyspace events
 * are then on their way to every subscriber, ahead of it: pubsub_send.c).
 * Sets c->input_held, which keeps those batches' replies from being lent. */
bool pubsub_publish_must_wait(struct client *c, const uint8_t *name, size_t len);

/* On w's thread: the messages w's commands and links published this round
 * for worker `target` (-1: every worker) leave now, as one mailbox message
 * per target (pubsub_send.c). Before the loop sleeps and before any other
 * message to that target (batch.c). */
void pubsub_outbox_flush(struct worker *w, int target);
/* Any thread: bytes of the message batches posted to workers and not yet
 * delivered there (keyspace events among them). Memory that evicting keys
 * cannot shrink, left out as the command batches are (evict.h). */
long long pubsub_bytes_in_transit(void);

/* The worker's cron: shard channels whose slot left this node's shard lose
 * their subscribers, who get `sunsubscribe` (7.0.15 removeChannelsInSlot). */
void pubsub_cron(struct worker *w);
/* RESP2 subscribers may only run the commands that keep the connection a
 * stream of pushes (7.0.15 processCommand); RESP3 has no such limit. True,
 * with 7.0.15's error in err, when c may not run cmd now. */
bool pubsub_context_refusal(const struct client *c, const cmd_def_t *cmd, char *err, size_t cap);

/* PUBSUB CHANNELS / NUMSUB / NUMPAT / SHARDCHANNELS / SHARDNUMSUB: one part
 * per worker, merged on the client's worker (cmd_fanout_t callbacks). */
void pubsub_introspect_part(struct worker *w, struct remote_cmd *rc);
void pubsub_introspect_merge(struct reply_slot *s, const struct remote_cmd *rc);
void pubsub_introspect_reply(struct reply_slot *s);

/* ---- a script's calls (actors/commands/script_lua.c) ----
 * A script cannot wait for other workers' answers in the middle of its run,
 * so it reads their tables itself: only while every other worker stands
 * still for its cross-worker session (xscript.h), or when there is one
 * worker. */

/* Whether another worker than w may hold a subscriber of the channel: a
 * script's PUBLISH / SPUBLISH of it needs the session to count them. */
bool pubsub_others_may_hold(const struct worker *w, bool shard, const uint8_t *ch, size_t chlen);
/* PUBSUB CHANNELS / NUMSUB / NUMPAT / SHARDCHANNELS / SHARDNUMSUB over every
 * worker's tables at once, the reply into out (cmd: the subcommand). */
void pubsub_introspect_whole(const cmd_def_t *cmd, int argc, const uint8_t **argv, const size_t *argvlen,
                             resp_buf_t *out);

#endif

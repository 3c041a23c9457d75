/* commands.h - prototypes of every command handler the command table names.
 *
 * The table (actors/cmdtable_*.c) refers to handlers by these names; each is
 * implemented next to the data it works on (string commands with the
 * keyspace, CLUSTER subcommands with the cluster actors, COMMAND in
 * actors/commands/cmd_command.c, ...). Naming rule: command X is cmd_x, subcommand
 * S of container P is cmd_p_s, lower case with '-' turned into '_'.
 * This header declares functions only; it must never define data.
 */
#ifndef SHOAL_ACTORS_COMMANDS_H
#define SHOAL_ACTORS_COMMANDS_H

#include "actors/commands/cmd.h"

void cmd_ping(cmd_ctx_t *ctx);              /* PING */
void cmd_echo(cmd_ctx_t *ctx);              /* ECHO */
void cmd_quit(cmd_ctx_t *ctx);              /* QUIT */
void cmd_hello(cmd_ctx_t *ctx);             /* HELLO */
void cmd_select(cmd_ctx_t *ctx);            /* SELECT */
void cmd_auth(cmd_ctx_t *ctx);              /* AUTH */
void cmd_client_id(cmd_ctx_t *ctx);         /* CLIENT ID */
void cmd_client_help(cmd_ctx_t *ctx);       /* CLIENT HELP */
void cmd_client_info(cmd_ctx_t *ctx);       /* CLIENT INFO */
void cmd_client_setname(cmd_ctx_t *ctx);    /* CLIENT SETNAME */
void cmd_client_reply(cmd_ctx_t *ctx);      /* CLIENT REPLY */
void cmd_client_no_evict(cmd_ctx_t *ctx);   /* CLIENT NO-EVICT */
/* cmd_ops_misc.c */
void cmd_lolwut(cmd_ctx_t *ctx);
void cmd_module_list(cmd_ctx_t *ctx);
void cmd_module_help(cmd_ctx_t *ctx);
void cmd_module_load(cmd_ctx_t *ctx);       /* MODULE LOAD and LOADEX */
void cmd_module_unload(cmd_ctx_t *ctx);
void cmd_swapdb(cmd_ctx_t *ctx);
void cmd_client_kill(cmd_ctx_t *ctx);       /* CLIENT KILL */
void cmd_client_list(cmd_ctx_t *ctx);       /* CLIENT LIST */
void cmd_client_getname(cmd_ctx_t *ctx);    /* CLIENT GETNAME */
void cmd_client_pause(cmd_ctx_t *ctx);      /* CLIENT PAUSE */
void cmd_client_unpause(cmd_ctx_t *ctx);    /* CLIENT UNPAUSE */
void cmd_client_unblock(cmd_ctx_t *ctx);    /* CLIENT UNBLOCK */
void cmd_command_info(cmd_ctx_t *ctx);      /* COMMAND INFO */
void cmd_command_docs(cmd_ctx_t *ctx);      /* COMMAND DOCS */
void cmd_command_getkeys(cmd_ctx_t *ctx);   /* COMMAND GETKEYS */
void cmd_command_getkeysandflags(cmd_ctx_t *ctx);   /* COMMAND GETKEYSANDFLAGS */
void cmd_command_list(cmd_ctx_t *ctx);      /* COMMAND LIST */
void cmd_command_count(cmd_ctx_t *ctx);     /* COMMAND COUNT */
void cmd_command_help(cmd_ctx_t *ctx);      /* COMMAND HELP */
void cmd_command(cmd_ctx_t *ctx);           /* COMMAND */
void cmd_info(cmd_ctx_t *ctx);              /* INFO */
void cmd_config_rewrite(cmd_ctx_t *ctx);    /* CONFIG REWRITE */
void cmd_config_help(cmd_ctx_t *ctx);       /* CONFIG HELP */
void cmd_acl(cmd_ctx_t *ctx);                /* ACL <subcommand> (cmd_acl.c) */
void cmd_config_resetstat(cmd_ctx_t *ctx);  /* CONFIG RESETSTAT */
void cmd_config_get(cmd_ctx_t *ctx);        /* CONFIG GET */
void cmd_config_set(cmd_ctx_t *ctx);        /* CONFIG SET */
void cmd_dbsize(cmd_ctx_t *ctx);            /* DBSIZE */
void cmd_flushall(cmd_ctx_t *ctx);          /* FLUSHALL */
void cmd_flushdb(cmd_ctx_t *ctx);           /* FLUSHDB */
void cmd_multi(cmd_ctx_t *ctx);             /* MULTI */
void cmd_eval(cmd_ctx_t *ctx);              /* EVAL (cmd_script.c) */
void cmd_eval_ro(cmd_ctx_t *ctx);           /* EVAL_RO */
void cmd_evalsha(cmd_ctx_t *ctx);           /* EVALSHA */
void cmd_evalsha_ro(cmd_ctx_t *ctx);        /* EVALSHA_RO */
void cmd_script_load(cmd_ctx_t *ctx);       /* SCRIPT LOAD */
void cmd_script_exists(cmd_ctx_t *ctx);     /* SCRIPT EXISTS */
void cmd_script_flush(cmd_ctx_t *ctx);      /* SCRIPT FLUSH */
void cmd_fcall(cmd_ctx_t *ctx);             /* FCALL (cmd_function.c) */
void cmd_fcall_ro(cmd_ctx_t *ctx);          /* FCALL_RO */
uint32_t cmd_fcall_flags(uint32_t flags, int argc, const uint8_t **argv, const size_t *argvlen);
void cmd_function_load(cmd_ctx_t *ctx);     /* FUNCTION LOAD */
void cmd_function_delete(cmd_ctx_t *ctx);   /* FUNCTION DELETE */
void cmd_function_flush(cmd_ctx_t *ctx);    /* FUNCTION FLUSH */
void cmd_function_list(cmd_ctx_t *ctx);     /* FUNCTION LIST */
void cmd_function_dump(cmd_ctx_t *ctx);     /* FUNCTION DUMP */
void cmd_function_restore(cmd_ctx_t *ctx);  /* FUNCTION RESTORE */
void cmd_function_stats(cmd_ctx_t *ctx);    /* FUNCTION STATS */
void cmd_function_kill(cmd_ctx_t *ctx);     /* FUNCTION KILL */
void cmd_function_help(cmd_ctx_t *ctx);     /* FUNCTION HELP */
void cmd_script_kill(cmd_ctx_t *ctx);       /* SCRIPT KILL */
void cmd_script_help(cmd_ctx_t *ctx);       /* SCRIPT HELP */
void cmd_script_debug(cmd_ctx_t *ctx);      /* SCRIPT DEBUG (script_ldb.c) */
void cmd_exec(cmd_ctx_t *ctx);              /* EXEC */
void cmd_discard(cmd_ctx_t *ctx);           /* DISCARD */
void cmd_watch(cmd_ctx_t *ctx);             /* WATCH */
void cmd_unwatch(cmd_ctx_t *ctx);           /* UNWATCH */
void cmd_debug(cmd_ctx_t *ctx);             /* DEBUG */
void cmd_time(cmd_ctx_t *ctx);              /* TIME */
void cmd_lastsave(cmd_ctx_t *ctx);          /* LASTSAVE */
void cmd_shutdown(cmd_ctx_t *ctx);          /* SHUTDOWN */
void cmd_asking(cmd_ctx_t *ctx);            /* ASKING */
void cmd_readonly(cmd_ctx_t *ctx);          /* READONLY */
void cmd_readwrite(cmd_ctx_t *ctx);         /* READWRITE */
void cmd_get(cmd_ctx_t *ctx);               /* GET */
void cmd_set(cmd_ctx_t *ctx);               /* SET */
void cmd_setnx(cmd_ctx_t *ctx);             /* SETNX */
void cmd_setex(cmd_ctx_t *ctx);             /* SETEX */
void cmd_psetex(cmd_ctx_t *ctx);            /* PSETEX */
void cmd_getset(cmd_ctx_t *ctx);            /* GETSET */
void cmd_getdel(cmd_ctx_t *ctx);            /* GETDEL */
void cmd_getex(cmd_ctx_t *ctx);             /* GETEX */
void cmd_mget(cmd_ctx_t *ctx);              /* MGET */
void cmd_mset(cmd_ctx_t *ctx);              /* MSET */
void cmd_msetnx(cmd_ctx_t *ctx);            /* MSETNX */
void cmd_incr(cmd_ctx_t *ctx);              /* INCR */
void cmd_decr(cmd_ctx_t *ctx);              /* DECR */
void cmd_incrby(cmd_ctx_t *ctx);            /* INCRBY */
void cmd_decrby(cmd_ctx_t *ctx);            /* DECRBY */
void cmd_incrbyfloat(cmd_ctx_t *ctx);       /* INCRBYFLOAT */
void cmd_append(cmd_ctx_t *ctx);            /* APPEND */
void cmd_strlen(cmd_ctx_t *ctx);            /* STRLEN */
void cmd_getrange(cmd_ctx_t *ctx);          /* GETRANGE */
void cmd_setrange(cmd_ctx_t *ctx);          /* SETRANGE */
void cmd_setbit(cmd_ctx_t *ctx);            /* SETBIT (cmd_bits.c) */
void cmd_getbit(cmd_ctx_t *ctx);            /* GETBIT */
void cmd_bitcount(cmd_ctx_t *ctx);          /* BITCOUNT */
void cmd_bitpos(cmd_ctx_t *ctx);            /* BITPOS */
void cmd_bitop(cmd_ctx_t *ctx);             /* BITOP */
void cmd_bitfield(cmd_ctx_t *ctx);          /* BITFIELD */
void cmd_bitfield_ro(cmd_ctx_t *ctx);       /* BITFIELD_RO */
void cmd_pfadd(cmd_ctx_t *ctx);             /* PFADD (cmd_hll.c) */
void cmd_pfcount(cmd_ctx_t *ctx);           /* PFCOUNT */
void cmd_pfmerge(cmd_ctx_t *ctx);           /* PFMERGE */
void cmd_pfdebug(cmd_ctx_t *ctx);           /* PFDEBUG */
void cmd_pfselftest(cmd_ctx_t *ctx);        /* PFSELFTEST */
void cmd_lcs(cmd_ctx_t *ctx);               /* LCS (cmd_lcs.c) */
void cmd_del(cmd_ctx_t *ctx);               /* DEL */
void cmd_unlink(cmd_ctx_t *ctx);            /* UNLINK */
void cmd_exists(cmd_ctx_t *ctx);            /* EXISTS */
void cmd_touch(cmd_ctx_t *ctx);             /* TOUCH */
void cmd_type(cmd_ctx_t *ctx);              /* TYPE */
void cmd_expire(cmd_ctx_t *ctx);            /* EXPIRE */
void cmd_pexpire(cmd_ctx_t *ctx);           /* PEXPIRE */
void cmd_expireat(cmd_ctx_t *ctx);          /* EXPIREAT */
void cmd_pexpireat(cmd_ctx_t *ctx);         /* PEXPIREAT */
void cmd_expiretime(cmd_ctx_t *ctx);        /* EXPIRETIME */
void cmd_pexpiretime(cmd_ctx_t *ctx);       /* PEXPIRETIME */
void cmd_ttl(cmd_ctx_t *ctx);               /* TTL */
void cmd_pttl(cmd_ctx_t *ctx);              /* PTTL */
void cmd_persist(cmd_ctx_t *ctx);           /* PERSIST */
void cmd_rename(cmd_ctx_t *ctx);            /* RENAME */
void cmd_renamenx(cmd_ctx_t *ctx);          /* RENAMENX */
void cmd_move(cmd_ctx_t *ctx);              /* MOVE */
void cmd_scan(cmd_ctx_t *ctx);              /* SCAN */
void cmd_keys(cmd_ctx_t *ctx);              /* KEYS */
void cmd_randomkey(cmd_ctx_t *ctx);         /* RANDOMKEY */
void cmd_cluster_keyslot(cmd_ctx_t *ctx);   /* CLUSTER KEYSLOT */
void cmd_cluster_replicate(cmd_ctx_t *ctx); /* CLUSTER REPLICATE */
void cmd_cluster_help(cmd_ctx_t *ctx);      /* CLUSTER HELP */
void cmd_cluster_failover(cmd_ctx_t *ctx);  /* CLUSTER FAILOVER */
void cmd_cluster_reset(cmd_ctx_t *ctx);     /* CLUSTER RESET */
void cmd_cluster_addslots(cmd_ctx_t *ctx);  /* CLUSTER ADDSLOTS */
void cmd_cluster_info(cmd_ctx_t *ctx);      /* CLUSTER INFO */
void cmd_cluster_meet(cmd_ctx_t *ctx);      /* CLUSTER MEET */
void cmd_cluster_countkeysinslot(cmd_ctx_t *ctx); /* CLUSTER COUNTKEYSINSLOT */
void cmd_cluster_flushslots(cmd_ctx_t *ctx); /* CLUSTER FLUSHSLOTS */
void cmd_cluster_shards(cmd_ctx_t *ctx);    /* CLUSTER SHARDS */
void cmd_cluster_myid(cmd_ctx_t *ctx);      /* CLUSTER MYID */
void cmd_cluster_getkeysinslot(cmd_ctx_t *ctx); /* CLUSTER GETKEYSINSLOT */
void cmd_cluster_forget(cmd_ctx_t *ctx);    /* CLUSTER FORGET */
void cmd_cluster_nodes(cmd_ctx_t *ctx);     /* CLUSTER NODES */
void cmd_cluster_links(cmd_ctx_t *ctx);     /* CLUSTER LINKS */
void cmd_cluster_delslotsrange(cmd_ctx_t *ctx); /* CLUSTER DELSLOTSRANGE */
void cmd_cluster_set_config_epoch(cmd_ctx_t *ctx); /* CLUSTER SET-CONFIG-EPOCH */
void cmd_cluster_replicas(cmd_ctx_t *ctx);  /* CLUSTER REPLICAS */
void cmd_cluster_addslotsrange(cmd_ctx_t *ctx); /* CLUSTER ADDSLOTSRANGE */
void cmd_cluster_saveconfig(cmd_ctx_t *ctx); /* CLUSTER SAVECONFIG */
void cmd_cluster_delslots(cmd_ctx_t *ctx);  /* CLUSTER DELSLOTS */
void cmd_cluster_slots(cmd_ctx_t *ctx);     /* CLUSTER SLOTS */
void cmd_cluster_slaves(cmd_ctx_t *ctx);    /* CLUSTER SLAVES */
void cmd_cluster_count_failure_reports(cmd_ctx_t *ctx); /* CLUSTER COUNT-FAILURE-REPORTS */
void cmd_cluster_bumpepoch(cmd_ctx_t *ctx); /* CLUSTER BUMPEPOCH */
void cmd_cluster_setslot(cmd_ctx_t *ctx);   /* CLUSTER SETSLOT */
void cmd_cluster_migrateslots(cmd_ctx_t *ctx);          /* CLUSTER MIGRATESLOTS (docs/migrateslots.md) */
void cmd_cluster_getslotmigrations(cmd_ctx_t *ctx);     /* CLUSTER GETSLOTMIGRATIONS */
void cmd_cluster_cancelslotmigrations(cmd_ctx_t *ctx);  /* CLUSTER CANCELSLOTMIGRATIONS */
void cmd_cluster_syncslots(cmd_ctx_t *ctx);             /* CLUSTER SYNCSLOTS: between shoal masters */
void cmd_wait(cmd_ctx_t *ctx);              /* WAIT */
void cmd_role(cmd_ctx_t *ctx);              /* ROLE */
void cmd_save(cmd_ctx_t *ctx);              /* SAVE */
void cmd_bgsave(cmd_ctx_t *ctx);            /* BGSAVE */
void cmd_bgrewriteaof(cmd_ctx_t *ctx);      /* BGREWRITEAOF (aof_rewrite.c) */
void cmd_replconf(cmd_ctx_t *ctx);          /* REPLCONF */
void cmd_psync(cmd_ctx_t *ctx);             /* PSYNC */
void cmd_sync(cmd_ctx_t *ctx);              /* SYNC */
void cmd_replicaof(cmd_ctx_t *ctx);
void cmd_failover(cmd_ctx_t *ctx);         /* REPLICAOF, SLAVEOF (standalone.c) */
void cmd_publish(cmd_ctx_t *ctx);           /* PUBLISH */
void cmd_spublish(cmd_ctx_t *ctx);          /* SPUBLISH */
void cmd_subscribe(cmd_ctx_t *ctx);         /* SUBSCRIBE */
void cmd_unsubscribe(cmd_ctx_t *ctx);       /* UNSUBSCRIBE */
void cmd_psubscribe(cmd_ctx_t *ctx);        /* PSUBSCRIBE */
void cmd_punsubscribe(cmd_ctx_t *ctx);      /* PUNSUBSCRIBE */
void cmd_ssubscribe(cmd_ctx_t *ctx);        /* SSUBSCRIBE */
void cmd_sunsubscribe(cmd_ctx_t *ctx);      /* SUNSUBSCRIBE */
void cmd_pubsub_help(cmd_ctx_t *ctx);       /* PUBSUB HELP */
bool cmd_pubsub_start(cmd_ctx_t *ctx);      /* PUBSUB CHANNELS/SHARDCHANNELS: at most one pattern */
void cmd_pubsub_fanout(cmd_ctx_t *ctx);     /* PUBSUB's fan-out subcommands (parts in pubsub.c) */
/* PUBLISH, SPUBLISH and PUBSUB's subcommands, which scripts may call (7.0.15
 * gives them no noscript flag); whether such a call needs every other
 * worker standing still (xscript.h) to count or list their subscribers. */
struct worker;
bool script_pubsub_cmd(const cmd_def_t *cmd);
bool script_pubsub_needs_others(const struct worker *w, const cmd_def_t *cmd, const uint8_t **argv,
                                const size_t *argvlen);
void cmd_reset(cmd_ctx_t *ctx);             /* RESET */
void cmd_lpush(cmd_ctx_t *ctx); /* LPUSH */
void cmd_rpush(cmd_ctx_t *ctx); /* RPUSH */
void cmd_lpushx(cmd_ctx_t *ctx); /* LPUSHX */
void cmd_rpushx(cmd_ctx_t *ctx); /* RPUSHX */
void cmd_lpop(cmd_ctx_t *ctx); /* LPOP */
void cmd_rpop(cmd_ctx_t *ctx); /* RPOP */
void cmd_llen(cmd_ctx_t *ctx); /* LLEN */
void cmd_lindex(cmd_ctx_t *ctx); /* LINDEX */
void cmd_lset(cmd_ctx_t *ctx); /* LSET */
void cmd_lrange(cmd_ctx_t *ctx); /* LRANGE */
void cmd_ltrim(cmd_ctx_t *ctx); /* LTRIM */
void cmd_lrem(cmd_ctx_t *ctx); /* LREM */
void cmd_linsert(cmd_ctx_t *ctx); /* LINSERT */
void cmd_lpos(cmd_ctx_t *ctx); /* LPOS */
void cmd_lmove(cmd_ctx_t *ctx); /* LMOVE */
void cmd_rpoplpush(cmd_ctx_t *ctx); /* RPOPLPUSH */
void cmd_lmpop(cmd_ctx_t *ctx); /* LMPOP */
void cmd_blpop(cmd_ctx_t *ctx); /* BLPOP */
void cmd_brpop(cmd_ctx_t *ctx); /* BRPOP */
void cmd_blmove(cmd_ctx_t *ctx); /* BLMOVE */
void cmd_brpoplpush(cmd_ctx_t *ctx); /* BRPOPLPUSH */
void cmd_blmpop(cmd_ctx_t *ctx); /* BLMPOP */

void cmd_object_encoding(cmd_ctx_t *ctx);   /* OBJECT ENCODING (cmd_object.c) */
void cmd_object_refcount(cmd_ctx_t *ctx);   /* OBJECT REFCOUNT */
void cmd_object_idletime(cmd_ctx_t *ctx);   /* OBJECT IDLETIME */
void cmd_object_freq(cmd_ctx_t *ctx);       /* OBJECT FREQ */
void cmd_object_help(cmd_ctx_t *ctx);       /* OBJECT HELP */
/* MEMORY (memory.c) */
void cmd_memory_usage(cmd_ctx_t *ctx);
void cmd_memory_stats(cmd_ctx_t *ctx);
void cmd_memory_doctor(cmd_ctx_t *ctx);
void cmd_memory_malloc_stats(cmd_ctx_t *ctx);
void cmd_memory_purge(cmd_ctx_t *ctx);
void cmd_memory_help(cmd_ctx_t *ctx);
void cmd_dump(cmd_ctx_t *ctx);              /* DUMP */
void cmd_restore(cmd_ctx_t *ctx);           /* RESTORE and RESTORE-ASKING */
void cmd_migrate(cmd_ctx_t *ctx);           /* MIGRATE (cmd_migrate.c; suspends on its owner, migrate.h) */
int cmd_migrate_getkeys(int argc, const uint8_t **argv, const size_t *argvlen, int *positions, int max);
/* DUMP's payload of a value into a fresh encoder (the caller frees it, also
 * on failure); 0, or non-zero for a value DUMP cannot encode. */
struct ks_entry;
struct rdb_encoder;
int cmd_dump_payload(const struct ks_entry *e, struct rdb_encoder *enc);
/* The same with LZF on strings (compress 1, rdbcompression's `yes`) or not
 * (0: a slot migration's lane, docs/migrateslots.md §2). */
int cmd_dump_payload_with(const struct ks_entry *e, struct rdb_encoder *enc, int compress);
/* The same into an encoder the caller made (rdb_encoder_init) or started
 * over (rdb_encoder_reset), with its compress setting. */
int cmd_dump_payload_into(const struct ks_entry *e, struct rdb_encoder *enc);
/* OBJECT REFCOUNT's answer for e (7.0.15's shared small integers: INT_MAX). */
long long cmd_object_refcount_of(const struct ks_entry *e);
void cmd_copy(cmd_ctx_t *ctx);              /* COPY */
/* Geo, on sorted sets (cmd_geo.c). */
void cmd_geoadd(cmd_ctx_t *ctx);    /* GEOADD */
void cmd_geodist(cmd_ctx_t *ctx);   /* GEODIST */
void cmd_geohash(cmd_ctx_t *ctx);   /* GEOHASH */
void cmd_geopos(cmd_ctx_t *ctx);    /* GEOPOS */
/* The area searches (cmd_geo_search.c). */
void cmd_georadius(cmd_ctx_t *ctx);             /* GEORADIUS */
void cmd_georadius_ro(cmd_ctx_t *ctx);          /* GEORADIUS_RO */
void cmd_georadiusbymember(cmd_ctx_t *ctx);     /* GEORADIUSBYMEMBER */
void cmd_georadiusbymember_ro(cmd_ctx_t *ctx);  /* GEORADIUSBYMEMBER_RO */
void cmd_geosearch(cmd_ctx_t *ctx);             /* GEOSEARCH */
void cmd_geosearchstore(cmd_ctx_t *ctx);        /* GEOSEARCHSTORE */
/* GEORADIUS[BYMEMBER]'s keys for routing: the source and the STORE or
 * STOREDIST destination (cmd_def_t.getkeys). */
int cmd_georadius_getkeys(int argc, const uint8_t **argv, const size_t *argvlen, int *positions, int max);
/* Sorted sets (cmd_zset.c, cmd_zset_range.c, cmd_zset_pop.c, cmd_zset_scan.c, cmd_zset_ops.c). */
void cmd_zadd(cmd_ctx_t *ctx);      /* ZADD */
void cmd_zincrby(cmd_ctx_t *ctx);   /* ZINCRBY */
void cmd_zrem(cmd_ctx_t *ctx);      /* ZREM */
void cmd_zcard(cmd_ctx_t *ctx);     /* ZCARD */
void cmd_zscore(cmd_ctx_t *ctx);    /* ZSCORE */
void cmd_zmscore(cmd_ctx_t *ctx);   /* ZMSCORE */
void cmd_zrank(cmd_ctx_t *ctx);     /* ZRANK */
void cmd_zrevrank(cmd_ctx_t *ctx);  /* ZREVRANK */
void cmd_zcount(cmd_ctx_t *ctx);    /* ZCOUNT */
void cmd_zlexcount(cmd_ctx_t *ctx); /* ZLEXCOUNT */
void cmd_zrange(cmd_ctx_t *ctx);    /* ZRANGE */
void cmd_zrangestore(cmd_ctx_t *ctx); /* ZRANGESTORE */
void cmd_sort(cmd_ctx_t *ctx);    /* SORT */
void cmd_sort_ro(cmd_ctx_t *ctx); /* SORT_RO */
int cmd_sort_getkeys(int argc, const uint8_t **argv, const size_t *argvlen, int *positions, int max);
int cmd_sort_ro_getkeys(int argc, const uint8_t **argv, const size_t *argvlen, int *positions, int max);
/* Whether a SORT or SORT_RO call has a BY or GET pattern that names other keys (holds a '*'). */
bool cmd_sort_reads_patterns(int argc, const uint8_t **argv, const size_t *argvlen);
void cmd_zrevrange(cmd_ctx_t *ctx); /* ZREVRANGE */
void cmd_zrangebyscore(cmd_ctx_t *ctx); /* ZRANGEBYSCORE */
void cmd_zrevrangebyscore(cmd_ctx_t *ctx); /* ZREVRANGEBYSCORE */
void cmd_zrangebylex(cmd_ctx_t *ctx); /* ZRANGEBYLEX */
void cmd_zrevrangebylex(cmd_ctx_t *ctx); /* ZREVRANGEBYLEX */
void cmd_zremrangebyrank(cmd_ctx_t *ctx); /* ZREMRANGEBYRANK */
void cmd_zremrangebyscore(cmd_ctx_t *ctx); /* ZREMRANGEBYSCORE */
void cmd_zremrangebylex(cmd_ctx_t *ctx); /* ZREMRANGEBYLEX */
void cmd_zpopmin(cmd_ctx_t *ctx);   /* ZPOPMIN */
void cmd_zpopmax(cmd_ctx_t *ctx);   /* ZPOPMAX */
void cmd_zmpop(cmd_ctx_t *ctx);     /* ZMPOP */
void cmd_bzpopmin(cmd_ctx_t *ctx);  /* BZPOPMIN */
void cmd_bzpopmax(cmd_ctx_t *ctx);  /* BZPOPMAX */
void cmd_bzmpop(cmd_ctx_t *ctx);    /* BZMPOP */
void cmd_zrandmember(cmd_ctx_t *ctx); /* ZRANDMEMBER */
void cmd_zscan(cmd_ctx_t *ctx);     /* ZSCAN */
void cmd_zunion(cmd_ctx_t *ctx);    /* ZUNION */
void cmd_zinter(cmd_ctx_t *ctx);    /* ZINTER */
void cmd_zdiff(cmd_ctx_t *ctx);     /* ZDIFF */
void cmd_zunionstore(cmd_ctx_t *ctx); /* ZUNIONSTORE */
void cmd_zinterstore(cmd_ctx_t *ctx); /* ZINTERSTORE */
void cmd_zdiffstore(cmd_ctx_t *ctx); /* ZDIFFSTORE */
void cmd_zintercard(cmd_ctx_t *ctx); /* ZINTERCARD */
/* Hashes (cmd_hash.c) and sets (cmd_set.c, cmd_setops.c). */
void cmd_hset(cmd_ctx_t *ctx);    /* HSET */
void cmd_hsetnx(cmd_ctx_t *ctx);  /* HSETNX */
void cmd_hmset(cmd_ctx_t *ctx);   /* HMSET */
void cmd_hget(cmd_ctx_t *ctx);    /* HGET */
void cmd_hmget(cmd_ctx_t *ctx);   /* HMGET */
void cmd_hgetall(cmd_ctx_t *ctx); /* HGETALL */
void cmd_hdel(cmd_ctx_t *ctx);    /* HDEL */
void cmd_hexists(cmd_ctx_t *ctx); /* HEXISTS */
void cmd_hlen(cmd_ctx_t *ctx);    /* HLEN */
void cmd_hstrlen(cmd_ctx_t *ctx); /* HSTRLEN */
void cmd_hkeys(cmd_ctx_t *ctx);   /* HKEYS */
void cmd_hvals(cmd_ctx_t *ctx);   /* HVALS */
void cmd_hincrby(cmd_ctx_t *ctx); /* HINCRBY */
void cmd_hincrbyfloat(cmd_ctx_t *ctx); /* HINCRBYFLOAT */
void cmd_hrandfield(cmd_ctx_t *ctx); /* HRANDFIELD */
void cmd_hscan(cmd_ctx_t *ctx);   /* HSCAN */
void cmd_sadd(cmd_ctx_t *ctx);    /* SADD */
void cmd_srem(cmd_ctx_t *ctx);    /* SREM */
void cmd_sismember(cmd_ctx_t *ctx); /* SISMEMBER */
void cmd_smismember(cmd_ctx_t *ctx); /* SMISMEMBER */
void cmd_smembers(cmd_ctx_t *ctx); /* SMEMBERS */
void cmd_scard(cmd_ctx_t *ctx);   /* SCARD */
void cmd_spop(cmd_ctx_t *ctx);    /* SPOP */
void cmd_srandmember(cmd_ctx_t *ctx); /* SRANDMEMBER */
void cmd_smove(cmd_ctx_t *ctx);   /* SMOVE */
/* Before an SMOVE (its argv): whether its destination is a set that holds
 * the member already; 7.0.15 then signals the source only (client-side
 * caching) and gives no "sadd" event. Looks without expiring anything. */
bool cmd_smove_dst_has(struct keyspace *ks, int argc, const uint8_t **argv, const size_t *argvlen, long long now_ms);
void cmd_sinter(cmd_ctx_t *ctx);  /* SINTER */
void cmd_sintercard(cmd_ctx_t *ctx); /* SINTERCARD */
void cmd_sinterstore(cmd_ctx_t *ctx); /* SINTERSTORE */
void cmd_sunion(cmd_ctx_t *ctx);  /* SUNION */
void cmd_sunionstore(cmd_ctx_t *ctx); /* SUNIONSTORE */
void cmd_sdiff(cmd_ctx_t *ctx);   /* SDIFF */
void cmd_sdiffstore(cmd_ctx_t *ctx); /* SDIFFSTORE */
void cmd_sscan(cmd_ctx_t *ctx);   /* SSCAN */

/* Streams (cmd_stream.c, cmd_stream_read.c, cmd_stream_cg.c, cmd_stream_info.c). */
void cmd_xadd(cmd_ctx_t *ctx);      /* XADD */
void cmd_xlen(cmd_ctx_t *ctx);      /* XLEN */
void cmd_xrange(cmd_ctx_t *ctx);    /* XRANGE */
void cmd_xrevrange(cmd_ctx_t *ctx); /* XREVRANGE */
void cmd_xdel(cmd_ctx_t *ctx);      /* XDEL */
void cmd_xtrim(cmd_ctx_t *ctx);     /* XTRIM */
void cmd_xread(cmd_ctx_t *ctx);     /* XREAD */
void cmd_xreadgroup(cmd_ctx_t *ctx); /* XREADGROUP */
int cmd_xread_getkeys(int argc, const uint8_t **argv, const size_t *argvlen, int *positions, int max);
void cmd_xack(cmd_ctx_t *ctx);      /* XACK */
void cmd_xpending(cmd_ctx_t *ctx);  /* XPENDING */
void cmd_xclaim(cmd_ctx_t *ctx);    /* XCLAIM */
void cmd_xautoclaim(cmd_ctx_t *ctx); /* XAUTOCLAIM */
void cmd_xsetid(cmd_ctx_t *ctx);    /* XSETID */
void cmd_xgroup_create(cmd_ctx_t *ctx);         /* XGROUP CREATE */
void cmd_xgroup_setid(cmd_ctx_t *ctx);          /* XGROUP SETID */
void cmd_xgroup_destroy(cmd_ctx_t *ctx);        /* XGROUP DESTROY */
void cmd_xgroup_createconsumer(cmd_ctx_t *ctx); /* XGROUP CREATECONSUMER */
void cmd_xgroup_delconsumer(cmd_ctx_t *ctx);    /* XGROUP DELCONSUMER */
void cmd_xgroup_help(cmd_ctx_t *ctx);           /* XGROUP HELP */
void cmd_xinfo_stream(cmd_ctx_t *ctx);          /* XINFO STREAM */
void cmd_xinfo_groups(cmd_ctx_t *ctx);          /* XINFO GROUPS */
void cmd_xinfo_consumers(cmd_ctx_t *ctx);       /* XINFO CONSUMERS */
void cmd_xinfo_help(cmd_ctx_t *ctx);            /* XINFO HELP */

/* Fan-out callbacks the table names (cmd_fanout_t in cmd.h), next to their
 * command's handler: cmd_x_start, cmd_x_part, cmd_x_merge, cmd_x_reply. */
struct worker;
struct remote_cmd;
struct reply_slot;
bool cmd_scan_start(cmd_ctx_t *ctx);                                        /* SCAN: argument errors */
void cmd_scan_part(struct worker *w, struct remote_cmd *rc);
void cmd_scan_merge(struct reply_slot *s, const struct remote_cmd *rc);
void cmd_scan_reply(struct reply_slot *s);
void cmd_dbsize_part(struct worker *w, struct remote_cmd *rc);             /* DBSIZE */
void cmd_dbsize_merge(struct reply_slot *s, const struct remote_cmd *rc);
void cmd_dbsize_reply(struct reply_slot *s);
void cmd_keys_part(struct worker *w, struct remote_cmd *rc);               /* KEYS */
void cmd_keys_merge(struct reply_slot *s, const struct remote_cmd *rc);
void cmd_keys_reply(struct reply_slot *s);
void cmd_randomkey_part(struct worker *w, struct remote_cmd *rc);          /* RANDOMKEY */
void cmd_randomkey_merge(struct reply_slot *s, const struct remote_cmd *rc);
void cmd_randomkey_reply(struct reply_slot *s);
bool cmd_flush_start(cmd_ctx_t *ctx);                                       /* FLUSHALL, FLUSHDB */
void cmd_flush_part(struct worker *w, struct remote_cmd *rc);
void cmd_flush_reply(struct reply_slot *s);
void cmd_client_list_part(struct worker *w, struct remote_cmd *rc);        /* CLIENT LIST */
char *cmd_client_list_caller_line(const struct client *c);               /* CLIENT LIST: its caller's own line */
void cmd_client_list_merge(struct reply_slot *s, const struct remote_cmd *rc);
void cmd_client_list_reply(struct reply_slot *s);
void cmd_client_kill_part(struct worker *w, struct remote_cmd *rc);        /* CLIENT KILL */
void cmd_client_kill_merge(struct reply_slot *s, const struct remote_cmd *rc);
void cmd_client_kill_reply(struct reply_slot *s);
void cmd_client_unblock_part(struct worker *w, struct remote_cmd *rc);     /* CLIENT UNBLOCK */
void cmd_client_unblock_merge(struct reply_slot *s, const struct remote_cmd *rc);
void cmd_client_unblock_reply(struct reply_slot *s);
void cmd_debug_part(struct worker *w, struct remote_cmd *rc);              /* DEBUG POPULATE, DIGEST */
void cmd_debug_merge(struct reply_slot *s, const struct remote_cmd *rc);
void cmd_debug_reply(struct reply_slot *s);

/* The command groups, one array per actors/cmdtable_<group>.c, each ended by
 * an entry whose name is NULL. Only cmdtable.c reads them (through
 * cmd_table_init, cmd_lookup and cmd_at); they are not const because
 * cmd_table_init fills in the parent pointers of subcommands. */
extern cmd_def_t cmdtable_server[];
extern cmd_def_t cmdtable_string[];
extern cmd_def_t cmdtable_bits[];
extern cmd_def_t cmdtable_keyspace[];
extern cmd_def_t cmdtable_cluster[];
extern cmd_def_t cmdtable_cluster_unlisted[];   /* CLUSTER subcommands not in 7.0.15 */
extern cmd_def_t cmdtable_list[];
extern cmd_def_t cmdtable_hash[];
extern cmd_def_t cmdtable_set[];
extern cmd_def_t cmdtable_object[];
extern cmd_def_t cmdtable_zset[];
extern cmd_def_t cmdtable_geo[];
extern cmd_def_t cmdtable_pubsub[];
extern cmd_def_t cmdtable_script[];
extern cmd_def_t cmdtable_ops[];
extern cmd_def_t cmdtable_function[];
extern cmd_def_t cmdtable_acl[];
extern cmd_def_t cmdtable_stream[];

#endif

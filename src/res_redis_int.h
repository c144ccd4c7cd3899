/*
 * res_redis_int.h - what the three files of the Redis resource share:
 * res_redis.c (actions, monitoring, the ops table), res_redis_conn.c (the
 * hiredis connection, INFO parsing, the guard's blocking fence) and
 * res_redis_keep.c (keeping an old primary's data aside before a
 * resync).  Internal header: only these three include it.
 */
#ifndef HAPAIR_RES_REDIS_INT_H
#define HAPAIR_RES_REDIS_INT_H

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "res_int.h"

enum {
	PAUSE_MS = 86400000,	/* CLIENT PAUSE: a day; UNPAUSE ends it */
	SYNC_MAX_LAG_S = 1,	/* min-replicas-max-lag in sync mode */
	PING_PERIOD_S = 1,	/* repl-ping-replica-period on a primary */
	LINK_IO_MAX_S = 3,	/* replica: link down after this silence */
	BACKOFF_MIN_MS = 100,
	BACKOFF_MAX_MS = 5000,
	KEEP_POLL_MS = 100,	/* INFO persistence while BGSAVE runs */
	KEEP_SAVE_MAX_MS = 60000,
	KEEP_COPY_MAX_MS = 60000,
	REPAIR_MS = 1000,	/* at most one repair a second */
	PLAN_MAX = 10,
	DEFAULT_TIMEOUT_MS = 1000,
};

enum expect { EXP_ANY, EXP_MASTER, EXP_REPLICA };

/* OP_REPAIR: the demote plan again, started by monitoring when the store
 * is not the replica the last demote asked for (that demote failed, or
 * Redis restarted as a master). */
enum op { OP_NONE, OP_PROMOTE, OP_DEMOTE, OP_FENCE, OP_REPAIR, OP_QUIESCE,
	  OP_UNQUIESCE };

enum step {
	ST_END,
	ST_PING,	/* CONFIG SET repl-ping-replica-period 1 */
	ST_LAG,		/* CONFIG SET min-replicas-max-lag 1 */
	ST_MINREP,	/* CONFIG SET min-replicas-to-write 1|0 */
	ST_NO_ONE,	/* REPLICAOF NO ONE */
	ST_UNPAUSE,	/* CLIENT UNPAUSE */
	ST_PAUSE,	/* CLIENT PAUSE <a day> WRITE */
	ST_ROLE,	/* INFO replication: master? */
	ST_KEYSPACE,	/* INFO keyspace: anything to keep? */
	ST_KEEP,	/* keep the data aside (own sub-steps) */
	ST_READONLY,	/* CONFIG SET replica-read-only yes */
	ST_REPLICAOF,	/* REPLICAOF <primary> <port> */
	ST_MINREP0,	/* CONFIG SET min-replicas-to-write 0 */
};

enum keep_phase { K_DIR, K_DBFILE, K_BGSAVE, K_IDLE, K_SAVING };

/* The Redis resource (r->priv of its struct res). */
struct rds {
	struct res *r;
	const struct conf_redis *c;
	char where[160];	/* "redis cache at 127.0.0.1:6379" */

	/* the connection */
	redisAsyncContext *ac;
	unsigned pending;	/* replies outstanding on ac */
	char conn_err[HP_ERR_MAX]; /* why the last connection failed */
	uint64_t retry_at_ms;	/* monitoring reconnects after this */
	uint32_t backoff_ms;
	uv_timer_t cmd_timer;	/* no reply within the timeout: drop */

	/* monitoring */
	bool info_busy;
	unsigned info_gen;	/* gen and op when the INFO was sent */
	enum op info_op;
	enum expect expect;	/* what the last action asked for */
	uint8_t expect_id;	/* EXP_REPLICA: the node followed */
	uint64_t repair_at_ms;	/* no repair before this */
	char repair_err[HP_ERR_MAX]; /* last repair failure reported */
	bool paused;		/* we paused writes, not unpaused yet */
	bool require_sync;	/* sync mode: min-replicas-to-write 1 */

	/* the action in progress */
	enum op op;
	unsigned gen;		/* bumped per action; replies carry it */
	unsigned token;
	uint8_t primary_id;
	enum step plan[PLAN_MAX];
	int pi;
	uint64_t offset;	/* master_repl_offset seen by ST_ROLE */

	/* keeping the old primary's data aside */
	bool kept;		/* a copy exists and writes stayed paused */
	enum keep_phase keep;
	char dir[CONF_PATH_MAX];
	char dbfile[CONF_PATH_MAX];
	char src[2 * CONF_PATH_MAX + 2];
	char dst[CONF_PATH_MAX + 2 * CONF_NAME_MAX + 64];
	uint64_t keep_until_ms;	/* give up waiting for BGSAVE then */
	uv_timer_t keep_timer;
	uv_fs_t fs;
	bool fs_busy;
	unsigned fs_gen;
};

/* Replies carry the generation of the action that sent them. */
static inline void *redis_gen(unsigned gen)
{
	return (void *)(uintptr_t)gen;
}

/* ---- res_redis_conn.c ------------------------------------------------ */

/* Send a command, connecting (and authenticating) first if needed.
 * Returns 0, or -1 with d->conn_err saying why (fn is not called). */
int redis_send(struct rds *d, redisCallbackFn *fn, void *priv, int argc,
	       const char **argv);

/* First call of every reply callback: accounts for the reply and notes
 * a lost connection (rep NULL).  Returns the resource. */
struct rds *redis_got_reply(redisAsyncContext *ac, const redisReply *rep);

/* Did the command fail?  Then msg says why, with context. */
bool redis_failed(const struct rds *d, const redisReply *rep,
		  const char *what, char *msg, size_t size);

/* Drop the connection; pending callbacks get NULL and d->conn_err. */
void redis_drop(struct rds *d, const char *why);

/* "key:value" fields of an INFO reply ("" / 0 when absent). */
void redis_info_field(const char *info, const char *key, char *out,
		      size_t size);
uint64_t redis_info_u64(const char *info, const char *key, bool *found);
bool redis_info_is_master(const char *info);

/* The guard's fence: blocking connect, AUTH, CLIENT PAUSE WRITE. */
int redis_fence_sync(const struct conf *conf,
		     const struct conf_resource *cr, uint8_t self_id,
		     struct hp_err *err);

/* ---- res_redis_keep.c ------------------------------------------------ */

/* Step ST_KEEP: save and copy the data; then redis_plan_next(), whether
 * the copy was made or not (an event says which). */
void redis_keep_start(struct rds *d);

/* ---- res_redis.c ----------------------------------------------------- */

/* Continue the running plan with its next step. */
void redis_plan_next(struct rds *d);

/* Name of node id ("a"), or "none". */
const char *redis_node_name(const struct rds *d, uint8_t id);

#endif

/*
 * res_redis.c - a Redis server as a data resource (DESIGN.md, Resources
 * and Data protection): its actions, its monitoring, its ops table.
 * The connection is in res_redis_conn.c, keeping data aside in
 * res_redis_keep.c.
 *
 * Actions are plans, lists of steps run one command at a time, each
 * checked before the next is sent:
 *   promote        CONFIG SET repl-ping-replica-period 1 (replicas
 *                  judge their link by it), CONFIG SET
 *                  min-replicas-max-lag 1 (sync mode), CONFIG SET
 *                  min-replicas-to-write 1|0, REPLICAOF NO ONE, CLIENT
 *                  UNPAUSE.  The write guard goes first, so the store
 *                  never takes a write it would not guard.
 *   demote(P)      INFO replication; if master and holding keys, keep a
 *                  copy of its data (res_redis_keep.c); CONFIG SET
 *                  replica-read-only yes, REPLICAOF <P's node address>
 *                  <port>, CONFIG SET min-replicas-to-write 0, CLIENT
 *                  UNPAUSE.
 *   demote(none)   INFO replication; if master, CLIENT PAUSE <a day>
 *                  WRITE: no primary to follow, so just stop writes.
 *   fence          CLIENT PAUSE <a day> WRITE, nothing else.
 *   quiesce        CLIENT PAUSE <a day> WRITE for a planned switchover:
 *                  writes wait (clients block, nothing fails), while
 *                  replication goes on, so the replica reaches the
 *                  master's exact offset (Redis sends no replication
 *                  PINGs while paused, so the offset stays put).
 *   unquiesce      CLIENT UNPAUSE: the switchover was aborted.
 * A new action supersedes the running one: replies carry the action's
 * generation and a stale one ends that plan.
 *
 * Monitoring polls INFO replication: role, offsets, link status.  The
 * resource is healthy when Redis answers and its role is what the last
 * action asked for (a master we demoted is not healthy yet).  A store
 * that should follow a primary but does not (its demote failed, or Redis
 * restarted as an empty master) gets the demote plan again: a repair.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "res_redis_int.h"

static const char *const step_label[] = {
	[ST_END] = "",
	[ST_PING] = "CONFIG SET repl-ping-replica-period",
	[ST_LAG] = "CONFIG SET min-replicas-max-lag",
	[ST_MINREP] = "CONFIG SET min-replicas-to-write",
	[ST_NO_ONE] = "REPLICAOF NO ONE",
	[ST_UNPAUSE] = "CLIENT UNPAUSE",
	[ST_PAUSE] = "CLIENT PAUSE",
	[ST_ROLE] = "INFO replication",
	[ST_KEYSPACE] = "INFO keyspace",
	[ST_KEEP] = "",
	[ST_READONLY] = "CONFIG SET replica-read-only",
	[ST_REPLICAOF] = "REPLICAOF",
	[ST_MINREP0] = "CONFIG SET min-replicas-to-write",
};

/* demote(P), also run again by a repair */
static const enum step follow_plan[] = { ST_ROLE, ST_KEYSPACE, ST_KEEP,
					 ST_READONLY, ST_REPLICAOF,
					 ST_MINREP0, ST_UNPAUSE };
enum { FOLLOW_STEPS = sizeof(follow_plan) / sizeof(follow_plan[0]) };

static void run_step(struct rds *d);
static void op_start(struct rds *d, enum op op, unsigned token,
		     const enum step *plan, int n);

const char *redis_node_name(const struct rds *d, uint8_t id)
{
	return id >= 1 && id <= CONF_NODES ? d->r->conf->nodes[id - 1].name :
	       "none";
}

static const char *node_host(const struct rds *d, uint8_t id)
{
	return d->r->conf->nodes[id - 1].ep.host;
}

/* ---- monitoring ----------------------------------------------------- */

static void set_down(struct rds *d, const char *why)
{
	res_down(d->r, why);
}

/* Is the role what the last action asked for?  NULL if so, else what
 * was expected. */
static const char *role_mismatch(const struct rds *d, bool master,
				 const char *mhost, uint64_t mport,
				 char *buf, size_t size)
{
	switch (d->expect) {
	case EXP_MASTER:
		return master ? NULL : "expected master";
	case EXP_REPLICA:
		if (!master && strcmp(mhost, node_host(d, d->expect_id)) == 0 &&
		    mport == d->c->port)
			return NULL;
		snprintf(buf, size, "expected replica of %s (%s:%u)",
			 redis_node_name(d, d->expect_id),
			 node_host(d, d->expect_id), d->c->port);
		return buf;
	case EXP_ANY:
		break;
	}
	return NULL;
}

static void parse_replication(struct rds *d, const char *info)
{
	struct res_state *s = &d->r->state;
	bool master = redis_info_is_master(info), has_slave_off;
	char link[16], mhost[64], want[160], role[128];
	uint64_t moff = redis_info_u64(info, "master_repl_offset", NULL);
	uint64_t soff = redis_info_u64(info, "slave_repl_offset",
				       &has_slave_off);
	uint64_t mport = redis_info_u64(info, "master_port", NULL);
	uint64_t io_s = redis_info_u64(info, "master_last_io_seconds_ago",
				       NULL);
	const char *mismatch;

	redis_info_field(info, "master_link_status", link, sizeof(link));
	redis_info_field(info, "master_host", mhost, sizeof(mhost));
	/* Redis calls a link down only after repl-timeout (60 s): a link
	 * that carried nothing, not even the primary's pings (every
	 * PING_PERIOD_S, set at promote), for LINK_IO_MAX_S is down. */
	if (strcmp(link, "up") == 0 && io_s > LINK_IO_MAX_S)
		snprintf(link, sizeof(link), "stalled");
	s->link_up = !master && strcmp(link, "up") == 0;
	s->has_position = true;
	s->position = s->link_up && has_slave_off ? soff : moff;
	s->writable = master && !d->paused;
	if (master)
		snprintf(role, sizeof(role), "master%s",
			 d->paused ? " (writes paused)" : "");
	else
		snprintf(role, sizeof(role), "replica of %s:%" PRIu64
			 ", link %s", mhost, mport, link[0] ? link : "?");
	mismatch = role_mismatch(d, master, mhost, mport, want, sizeof(want));
	/* An answer from before or during a promote says nothing about its
	 * outcome: judging it would make a fresh primary step down. */
	if (d->expect == EXP_MASTER &&
	    (d->info_gen != d->gen || d->info_op == OP_PROMOTE))
		mismatch = NULL;
	s->healthy = !mismatch;
	res_detail(d->r, "redis %s: %s, offset %" PRIu64 "%s%s%s",
		   d->r->cr->name, role, s->position, mismatch ? ", " : "",
		   mismatch ? mismatch : "",
		   mismatch ? ": not healthy yet" : "");
}

/* A store that answered but is not the replica the last demote asked
 * for (that demote failed, or Redis restarted as an empty master) gets
 * the demote plan again, at most once a second.  Only on an answer sent
 * after the last action ended: one from before says nothing. */
static void maybe_repair(struct rds *d)
{
	uint64_t now = mono_ms();

	if (d->expect != EXP_REPLICA || d->r->state.healthy ||
	    !d->r->state.has_position || d->op != OP_NONE ||
	    d->info_gen != d->gen || now < d->repair_at_ms)
		return;
	d->repair_at_ms = now + REPAIR_MS;
	op_start(d, OP_REPAIR, 0, follow_plan, FOLLOW_STEPS);
}

static void info_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct rds *d = redis_got_reply(ac, reply);
	const redisReply *rep = reply;
	char msg[HP_ERR_MAX];

	d->info_busy = false;
	if (res_closing(d->r))
		return;
	if (redis_failed(d, rep, "INFO replication", msg, sizeof(msg)))
		set_down(d, msg);
	else if (rep->type != REDIS_REPLY_STRING)
		set_down(d, "INFO replication: unexpected reply type");
	else
		parse_replication(d, rep->str);
	maybe_repair(d);
	/* Last: the state callback may start a new action at once. */
	res_monitor_done(d->r);
}

static void redis_monitor(struct res *r)
{
	struct rds *d = r->priv;
	const char *argv[] = { "INFO", "replication" };

	if (d->info_busy)
		return; /* still waiting; cmd_timer bounds the wait */
	if ((!d->ac && mono_ms() < d->retry_at_ms) ||
	    redis_send(d, info_reply, NULL, 2, argv)) {
		set_down(d, d->conn_err);
		res_monitor_done(r);
		return;
	}
	d->info_busy = true;
	d->info_gen = d->gen;
	d->info_op = d->op;
}

/* ---- actions -------------------------------------------------------- */

static void op_start(struct rds *d, enum op op, unsigned token,
		     const enum step *plan, int n)
{
	d->gen++;
	d->op = op;
	d->token = token;
	d->pi = 0;
	memcpy(d->plan, plan, (size_t)n * sizeof(*plan));
	d->plan[n] = ST_END;
	uv_timer_stop(&d->keep_timer);
	run_step(d);
}

static void op_end(struct rds *d, int rc, const char *msg)
{
	enum op op = d->op;

	d->op = OP_NONE;
	d->gen++;
	if (op == OP_FENCE) {
		if (rc)
			res_event(d->r, "fence failed, the store may still "
				  "accept writes: %s", msg);
		return;
	}
	if (op == OP_UNQUIESCE) {
		if (rc)
			res_event(d->r, "switchover aborted but writes are "
				  "still paused: %s", msg);
		return;
	}
	if (op == OP_REPAIR) {
		/* Say each new failure once, and when it is fixed. */
		if (rc && strcmp(msg, d->repair_err) != 0)
			res_event(d->r, "not yet a replica of %s, retrying: "
				  "%s", redis_node_name(d, d->primary_id), msg);
		else if (!rc)
			res_event(d->r, "%s again: the store had stopped "
				  "following it", msg);
		snprintf(d->repair_err, sizeof(d->repair_err), "%s",
			 rc ? msg : "");
		return;
	}
	res_step_done(d->r, d->token, rc, msg);
}

/* The note a finished action leaves in the agent's log. */
static void end_note(struct rds *d)
{
	char note[HP_ERR_MAX];
	const char *name = d->r->cr->name;

	if (d->op == OP_PROMOTE)
		snprintf(note, sizeof(note), "redis %s: master, %s", name,
			 d->c->replication != REPL_SYNC ? "async replication" :
			 d->require_sync ? "writes need an in-sync replica" :
			 "writes allowed without a replica");
	else if ((d->op == OP_DEMOTE || d->op == OP_REPAIR) && d->primary_id)
		snprintf(note, sizeof(note), "redis %s: replica of %s "
			 "(%s:%u)", name, redis_node_name(d, d->primary_id),
			 node_host(d, d->primary_id), d->c->port);
	else if (d->op == OP_QUIESCE)
		snprintf(note, sizeof(note), "redis %s: writes paused for a "
			 "switchover", name);
	else if (d->op == OP_DEMOTE && d->paused)
		snprintf(note, sizeof(note), "redis %s: writes paused, no "
			 "primary to follow", name);
	else
		note[0] = '\0';
	op_end(d, 0, note[0] ? note : NULL);
}

/* Skip the next step if it is s. */
static void skip(struct rds *d, enum step s)
{
	if (d->plan[d->pi + 1] == s)
		d->pi++;
}

/* What a reply tells the plan (ST_ROLE, ST_KEYSPACE decide the rest). */
static void after_step(struct rds *d, const redisReply *rep)
{
	const char *info = rep->type == REDIS_REPLY_STRING ? rep->str : "";

	switch (d->plan[d->pi]) {
	case ST_ROLE:
		d->offset = redis_info_u64(info, "master_repl_offset", NULL);
		if (!redis_info_is_master(info)) {
			skip(d, ST_KEYSPACE);
			skip(d, ST_KEEP);
			skip(d, ST_PAUSE);
		} else if (d->kept) {
			/* Kept already, paused since: nothing new to keep. */
			skip(d, ST_KEYSPACE);
			skip(d, ST_KEEP);
		}
		break;
	case ST_KEYSPACE:
		if (!strstr(info, "keys="))
			skip(d, ST_KEEP); /* empty: nothing to lose */
		break;
	case ST_PAUSE:
		d->paused = true;
		break;
	case ST_UNPAUSE:
		d->paused = false;
		d->kept = false;
		break;
	default:
		break;
	}
}

static void step_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct rds *d = redis_got_reply(ac, reply);
	char msg[HP_ERR_MAX];

	if ((uintptr_t)priv != d->gen || res_closing(d->r))
		return;
	if (redis_failed(d, reply, step_label[d->plan[d->pi]], msg,
			 sizeof(msg))) {
		op_end(d, -1, msg);
		return;
	}
	after_step(d, reply);
	redis_plan_next(d);
}

static int fill(const char **argv, const char *a, const char *b,
		const char *c, const char *e)
{
	argv[0] = a;
	argv[1] = b;
	argv[2] = c;
	argv[3] = e;
	return e ? 4 : c ? 3 : b ? 2 : 1;
}

/* Build the command of step s into argv (4 slots); returns argc.  num
 * holds the number argument where there is one. */
static int step_argv(struct rds *d, enum step s, const char **argv,
		     char *num, size_t size)
{
	switch (s) {
	case ST_PING:
		snprintf(num, size, "%d", PING_PERIOD_S);
		return fill(argv, "CONFIG", "SET", "repl-ping-replica-period",
			    num);
	case ST_LAG:
		snprintf(num, size, "%d", SYNC_MAX_LAG_S);
		return fill(argv, "CONFIG", "SET", "min-replicas-max-lag", num);
	case ST_MINREP:
		snprintf(num, size, "%d", d->c->replication == REPL_SYNC &&
			 d->require_sync ? 1 : 0);
		return fill(argv, "CONFIG", "SET", "min-replicas-to-write",
			    num);
	case ST_NO_ONE:
		return fill(argv, "REPLICAOF", "NO", "ONE", NULL);
	case ST_UNPAUSE:
		return fill(argv, "CLIENT", "UNPAUSE", NULL, NULL);
	case ST_PAUSE:
		snprintf(num, size, "%d", PAUSE_MS);
		return fill(argv, "CLIENT", "PAUSE", num, "WRITE");
	case ST_ROLE:
		return fill(argv, "INFO", "replication", NULL, NULL);
	case ST_KEYSPACE:
		return fill(argv, "INFO", "keyspace", NULL, NULL);
	case ST_READONLY:
		return fill(argv, "CONFIG", "SET", "replica-read-only", "yes");
	case ST_REPLICAOF:
		snprintf(num, size, "%u", d->c->port);
		return fill(argv, "REPLICAOF", node_host(d, d->primary_id),
			    num, NULL);
	case ST_MINREP0:
		return fill(argv, "CONFIG", "SET", "min-replicas-to-write",
			    "0");
	case ST_END:
	case ST_KEEP:
		break;
	}
	return 0;
}

static void run_step(struct rds *d)
{
	enum step s = d->plan[d->pi];
	const char *argv[4];
	char num[24];
	int argc;

	if (s == ST_END) {
		end_note(d);
		return;
	}
	if (s == ST_KEEP) {
		redis_keep_start(d);
		return;
	}
	argc = step_argv(d, s, argv, num, sizeof(num));
	if (redis_send(d, step_reply, redis_gen(d->gen), argc, argv))
		op_end(d, -1, d->conn_err);
}

void redis_plan_next(struct rds *d)
{
	d->pi++;
	run_step(d);
}

static void redis_promote(struct res *r, unsigned token)
{
	struct rds *d = r->priv;
	static const enum step sync_plan[] = { ST_PING, ST_LAG, ST_MINREP,
					       ST_NO_ONE, ST_UNPAUSE };
	static const enum step async_plan[] = { ST_PING, ST_MINREP,
						ST_NO_ONE, ST_UNPAUSE };

	d->expect = EXP_MASTER;
	if (d->c->replication == REPL_SYNC)
		op_start(d, OP_PROMOTE, token, sync_plan, 5);
	else
		op_start(d, OP_PROMOTE, token, async_plan, 4);
}

static void redis_demote(struct res *r, uint8_t primary_id, unsigned token)
{
	struct rds *d = r->priv;
	static const enum step none[] = { ST_ROLE, ST_PAUSE };

	d->primary_id = primary_id;
	d->expect = primary_id ? EXP_REPLICA : EXP_ANY;
	d->expect_id = primary_id;
	d->repair_err[0] = '\0';
	if (primary_id)
		op_start(d, OP_DEMOTE, token, follow_plan, FOLLOW_STEPS);
	else
		op_start(d, OP_DEMOTE, token, none, 2);
}

static void redis_fence(struct res *r)
{
	struct rds *d = r->priv;
	static const enum step plan[] = { ST_PAUSE };

	d->expect = EXP_ANY;
	op_start(d, OP_FENCE, 0, plan, 1);
}

static void redis_quiesce(struct res *r, unsigned token)
{
	struct rds *d = r->priv;
	static const enum step plan[] = { ST_PAUSE };

	op_start(d, OP_QUIESCE, token, plan, 1);
}

static void redis_unquiesce(struct res *r)
{
	struct rds *d = r->priv;
	static const enum step plan[] = { ST_UNPAUSE };

	op_start(d, OP_UNQUIESCE, 0, plan, 1);
}

/* The replica confirmed our final offset before the hand-over: the
 * demote that follows has nothing to keep (see after_step, ST_ROLE). */
static void redis_handed_over(struct res *r)
{
	struct rds *d = r->priv;

	d->kept = true;
}

static void sync_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct rds *d = redis_got_reply(ac, reply);
	char msg[HP_ERR_MAX];

	if (!res_closing(d->r) &&
	    redis_failed(d, reply, "CONFIG SET min-replicas-to-write", msg,
			 sizeof(msg)))
		res_event(d->r, "sync-mode write guard not changed: %s", msg);
}

static void redis_set_sync(struct res *r, bool require)
{
	struct rds *d = r->priv;
	const char *argv[] = { "CONFIG", "SET", "min-replicas-to-write",
			       require ? "1" : "0" };

	if (d->c->replication != REPL_SYNC)
		return;
	d->require_sync = require;
	/* Not primary: the next promote applies it. */
	if (d->expect != EXP_MASTER)
		return;
	if (redis_send(d, sync_reply, NULL, 4, argv))
		res_event(r, "sync-mode write guard not changed: %s",
			  d->conn_err);
}

/* ---- open and close ------------------------------------------------ */

static int redis_open(struct res *r, struct hp_err *err)
{
	const struct conf_redis *c = &r->cr->redis;
	struct rds *d = calloc(1, sizeof(*d));

	if (!d)
		return hp_errf(err, "redis %s: out of memory", r->cr->name);
	d->r = r;
	d->c = c;
	snprintf(d->where, sizeof(d->where), "redis %s at %s:%u",
		 r->cr->name, c->host, c->port);
	d->backoff_ms = BACKOFF_MIN_MS;
	d->require_sync = true; /* until the witness recorded otherwise */
	snprintf(d->conn_err, sizeof(d->conn_err), "%s: not connected yet",
		 d->where);
	r->priv = d;
	r->timeout_ms = c->timeout_ms ? c->timeout_ms : DEFAULT_TIMEOUT_MS;
	r->monitor_ms = c->monitor_interval_ms;
	r->state.healthy = false;
	snprintf(r->state.detail, sizeof(r->state.detail),
		 "redis %s: not checked yet", r->cr->name);
	uv_timer_init(r->loop, &d->cmd_timer);
	d->cmd_timer.data = r;
	uv_timer_init(r->loop, &d->keep_timer);
	d->keep_timer.data = r;
	return 0;
}

static void redis_close(struct res *r)
{
	struct rds *d = r->priv;

	d->op = OP_NONE;
	redis_drop(d, "closed");
	res_close_handle(r, (uv_handle_t *)&d->cmd_timer);
	res_close_handle(r, (uv_handle_t *)&d->keep_timer);
}

const struct res_ops res_redis_ops = {
	.type = "redis",
	.data = true,
	.open = redis_open,
	.close = redis_close,
	.promote = redis_promote,
	.demote = redis_demote,
	.fence = redis_fence,
	.quiesce = redis_quiesce,
	.unquiesce = redis_unquiesce,
	.handed_over = redis_handed_over,
	.monitor = redis_monitor,
	.set_sync = redis_set_sync,
	.fence_sync = redis_fence_sync,
};

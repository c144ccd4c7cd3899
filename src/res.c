/*
 * res.c - the resource set of one node (see res.h for the contract).
 *
 * The set runs one action at a time over its resources: promote walks
 * them in config order (the data store before the VIP, so the VIP never
 * points at a read-only store), demote in reverse order.  Each step is
 * bounded by the resource's timeout on the set's own timer, so a type
 * that never answers still ends its step; a late answer carries a stale
 * token and is ignored.  A new action, a fence or close interrupts the
 * running one, whose done callback then gets -1: every action's done
 * callback runs exactly once.
 *
 * Monitoring runs beside the actions, one timer per resource that has
 * something to watch; after each round the set recomputes the aggregate
 * res_state and hands it to the state callback.  Types talk back only
 * through res_int.h; the set never prints, the agent decides.
 */
#include "res.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "res_int.h"

enum set_op { OP_NONE, OP_PROMOTE, OP_DEMOTE, OP_QUIESCE };

enum { VIP_STEP_MS = 1000 };

struct res_set {
	uv_loop_t *loop;
	const struct conf *conf;
	uint8_t self_id;
	res_state_cb on_state;
	res_event_cb on_event;
	void *data;
	int n;
	struct res res[CONF_MAX_RESOURCES];
	struct res_state state;

	/* the promote or demote in progress */
	enum set_op op;
	uint8_t primary_id;
	int cur;		/* resource index of the running step */
	unsigned token;		/* of the running step; bumped per step */
	int failures;
	char errors[HP_ERR_MAX];	/* failures, "; "-joined */
	char notes[HP_ERR_MAX];		/* what went well, for the log */
	res_done_cb done;
	void *done_data;
	uv_timer_t step_timer;
	uint64_t step_start_ms;

	struct res_action_stats stats[CONF_MAX_RESOURCES][RES_ACT_MAX];

	bool closing;
	int refs;		/* handles still closing, requests in flight */
};

const uint32_t res_stat_bounds_ms[RES_STAT_BUCKETS] = {
	1, 5, 10, 25, 50, 100, 250, 1000, 5000, UINT32_MAX,
};

static const char *op_name(enum set_op op)
{
	return op == OP_PROMOTE ? "promote" : op == OP_DEMOTE ? "demote" :
	       op == OP_QUIESCE ? "quiesce" : "none";
}

const char *res_action_name(enum res_action a)
{
	return a == RES_ACT_PROMOTE ? "promote" : a == RES_ACT_DEMOTE ?
	       "demote" : a == RES_ACT_QUIESCE ? "quiesce" : "unknown";
}

int res_set_count(const struct res_set *set)
{
	return set ? set->n : 0;
}

const char *res_set_name(const struct res_set *set, int i, bool *data)
{
	*data = set->res[i].ops->data;
	return set->res[i].cr->name;
}

const struct res_action_stats *res_set_stats(const struct res_set *set,
					     int i, enum res_action a)
{
	return &set->stats[i][a];
}

/* The step of resource i just ended after the time since step_start. */
static void record_step(struct res_set *set, int i, bool ok)
{
	enum res_action a = set->op == OP_PROMOTE ? RES_ACT_PROMOTE :
			    set->op == OP_DEMOTE ? RES_ACT_DEMOTE :
			    RES_ACT_QUIESCE;
	struct res_action_stats *st = &set->stats[i][a];
	uint64_t ms = mono_ms() - set->step_start_ms;
	int b = 0;

	while (b < RES_STAT_BUCKETS - 1 && ms > res_stat_bounds_ms[b])
		b++;
	st->count++;
	st->sum_us += ms * 1000;
	st->bucket[b]++;
	st->last_ms = (uint32_t)ms;
	st->last_ok = ok;
}

static const struct res_ops *ops_for(enum conf_res_type type)
{
	switch (type) {
	case RES_VIP:
		return &res_vip_ops;
	case RES_REDIS:
		return &res_redis_ops;
	case RES_POSTGRESQL:
		return &res_pg_ops;
	case RES_MARIADB:
		return &res_mariadb_ops;
	}
	return NULL;
}

/* ---- memory: freed once every handle has closed ------------------- */

static void free_set(struct res_set *set)
{
	for (int i = 0; i < set->n; i++)
		free(set->res[i].priv);
	free(set);
}

void res_hold(struct res *r)
{
	r->set->refs++;
}

void res_release(struct res *r)
{
	struct res_set *set = r->set;

	if (--set->refs == 0 && set->closing)
		free_set(set);
}

bool res_closing(const struct res *r)
{
	return r->set->closing;
}

static void handle_closed(uv_handle_t *h)
{
	res_release(h->data);
}

void res_close_handle(struct res *r, uv_handle_t *h)
{
	if (uv_is_closing(h))
		return;
	h->data = r;
	res_hold(r);
	uv_close(h, handle_closed);
}

static void step_timer_closed(uv_handle_t *h)
{
	struct res_set *set = h->data;

	if (--set->refs == 0)
		free_set(set);
}

/* ---- the running action ------------------------------------------- */

static void append(char *buf, size_t size, const char *msg)
{
	size_t len = strlen(buf);

	if (!msg || !*msg || len + 3 >= size)
		return;
	snprintf(buf + len, size - len, "%s%s", len ? "; " : "", msg);
}

/* End the action: reset first, then call done, which may start the
 * next action at once. */
static void finish(struct res_set *set, int rc, const char *why)
{
	res_done_cb done = set->done;
	void *data = set->done_data;
	char msg[HP_ERR_MAX];

	if (why)
		append(set->errors, sizeof(set->errors), why);
	snprintf(msg, sizeof(msg), "%s", rc ? set->errors : set->notes);
	set->op = OP_NONE;
	set->done = NULL;
	set->token++;
	uv_timer_stop(&set->step_timer);
	if (done)
		done(set, rc, msg, data);
}

static void step_timeout(uv_timer_t *t);

static void next_step(struct res_set *set)
{
	struct res *r;
	unsigned token;

	set->cur += set->op == OP_DEMOTE ? -1 : 1;
	if (set->cur < 0 || set->cur >= set->n) {
		finish(set, set->failures ? -1 : 0, NULL);
		return;
	}
	r = &set->res[set->cur];
	token = ++set->token;
	set->step_start_ms = mono_ms();
	uv_timer_start(&set->step_timer, step_timeout, r->timeout_ms, 0);
	/* The step may finish before this returns (the VIP is
	 * synchronous): nothing of set may be used after the call. */
	if (set->op == OP_PROMOTE)
		r->ops->promote(r, token);
	else if (set->op == OP_DEMOTE)
		r->ops->demote(r, set->primary_id, token);
	else if (r->ops->quiesce)
		r->ops->quiesce(r, token);
	else
		res_step_done(r, token, 0, NULL); /* nothing to quiesce */
}

void res_step_done(struct res *r, unsigned token, int rc, const char *msg)
{
	struct res_set *set = r->set;

	if (set->closing || set->op == OP_NONE || token != set->token ||
	    r != &set->res[set->cur])
		return;
	uv_timer_stop(&set->step_timer);
	set->token++;
	record_step(set, set->cur, rc == 0);
	if (rc) {
		set->failures++;
		append(set->errors, sizeof(set->errors), msg);
		/* A promote or quiesce stops at the first failure. */
		if (set->op == OP_PROMOTE || set->op == OP_QUIESCE) {
			finish(set, -1, NULL);
			return;
		}
	} else {
		append(set->notes, sizeof(set->notes), msg);
	}
	next_step(set);
}

void res_step_extend(struct res *r, unsigned token, uint32_t ms)
{
	struct res_set *set = r->set;

	if (set->op != OP_NONE && token == set->token &&
	    r == &set->res[set->cur])
		uv_timer_start(&set->step_timer, step_timeout, ms, 0);
}

static void step_timeout(uv_timer_t *t)
{
	struct res_set *set = t->data;
	struct res *r = &set->res[set->cur];
	char msg[HP_ERR_MAX];

	snprintf(msg, sizeof(msg), "%s %s: %s: not done within %u ms",
		 r->ops->type, r->cr->name, op_name(set->op), r->timeout_ms);
	res_step_done(r, set->token, -1, msg);
}

/* Start an action, interrupting the one still running (its done gets
 * -1).  Returns -1 if the set is closing (done has been called). */
static int begin(struct res_set *set, enum set_op op, uint8_t primary_id,
		 res_done_cb done, void *data)
{
	char why[80];

	if (set->closing) {
		if (done)
			done(set, -1, "resources are closing", data);
		return -1;
	}
	if (set->op != OP_NONE) {
		snprintf(why, sizeof(why), "%s interrupted by a %s",
			 op_name(set->op), op_name(op));
		finish(set, -1, why);
	}
	set->op = op;
	set->primary_id = primary_id;
	set->failures = 0;
	set->errors[0] = set->notes[0] = '\0';
	set->done = done;
	set->done_data = data;
	set->cur = op == OP_DEMOTE ? set->n : -1;
	return 0;
}

void res_set_promote(struct res_set *set, res_done_cb done, void *data)
{
	if (begin(set, OP_PROMOTE, 0, done, data) == 0)
		next_step(set);
}

void res_set_demote(struct res_set *set, uint8_t primary_id,
		    res_done_cb done, void *data)
{
	/* Following ourselves would make the store a replica of itself. */
	if (primary_id == set->self_id || primary_id > CONF_NODES)
		primary_id = 0;
	if (begin(set, OP_DEMOTE, primary_id, done, data) == 0)
		next_step(set);
}

static void poll_closed(uv_handle_t *h)
{
	struct res *r = h->data;

	free(h);
	res_release(r);
}

void res_close_poll(struct res *r, uv_poll_t **poll)
{
	if (!*poll)
		return;
	uv_poll_stop(*poll);
	(*poll)->data = r;
	res_hold(r);
	uv_close((uv_handle_t *)*poll, poll_closed);
	*poll = NULL;
}

void res_detail(struct res *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->state.detail, sizeof(r->state.detail), fmt, ap);
	va_end(ap);
}

void res_down(struct res *r, const char *why)
{
	struct res_state *s = &r->state;

	s->healthy = false;
	s->has_position = false;
	s->position = 0;
	s->writable = false;
	s->link_up = false;
	s->has_replica_threads = false;
	s->io_running = false;
	s->sql_running = false;
	s->seconds_behind = -1;
	s->repl_error[0] = '\0';
	res_detail(r, "%s", why);
}

static void monitor_tick(uv_timer_t *t);

void res_set_quiesce(struct res_set *set, res_done_cb done, void *data)
{
	if (begin(set, OP_QUIESCE, 0, done, data) == 0)
		next_step(set);
}

void res_set_unquiesce(struct res_set *set)
{
	if (set->closing)
		return;
	if (set->op == OP_QUIESCE)
		finish(set, -1, "quiesce interrupted: switchover aborted");
	for (int i = 0; i < set->n; i++)
		if (set->res[i].ops->unquiesce)
			set->res[i].ops->unquiesce(&set->res[i]);
}

void res_set_handed_over(struct res_set *set)
{
	for (int i = 0; i < set->n && !set->closing; i++)
		if (set->res[i].ops->handed_over)
			set->res[i].ops->handed_over(&set->res[i]);
}

void res_set_peer_position(struct res_set *set, bool has, uint64_t position)
{
	for (int i = 0; i < set->n && !set->closing; i++)
		if (set->res[i].ops->peer_position)
			set->res[i].ops->peer_position(&set->res[i], has,
						       position);
}

void res_monitor_soon(struct res *r)
{
	if (!r->set->closing && r->ops->monitor && r->monitor_ms)
		uv_timer_start(&r->monitor_timer, monitor_tick, 0,
			       r->monitor_ms);
}

void res_set_monitor_now(struct res_set *set)
{
	for (int i = 0; i < set->n && !set->closing; i++)
		res_monitor_soon(&set->res[i]);
}

void res_set_fence(struct res_set *set)
{
	if (set->closing)
		return;
	if (set->op != OP_NONE)
		finish(set, -1, "interrupted by a fence");
	for (int i = set->n - 1; i >= 0; i--)
		set->res[i].ops->fence(&set->res[i]);
}

void res_set_sync(struct res_set *set, bool require)
{
	for (int i = 0; i < set->n && !set->closing; i++)
		if (set->res[i].ops->set_sync)
			set->res[i].ops->set_sync(&set->res[i], require);
}

/* ---- monitoring and events ---------------------------------------- */

static void aggregate(struct res_set *set)
{
	struct res_state *s = &set->state;
	const struct res *bad = NULL, *data = NULL;

	for (int i = 0; i < set->n; i++) {
		const struct res *r = &set->res[i];

		if (!r->state.healthy && !bad)
			bad = r;
		if (r->ops->data && !data)
			data = r;
	}
	s->healthy = !bad;
	s->has_position = data && data->state.has_position;
	s->position = s->has_position ? data->state.position : 0;
	s->writable = data && data->state.writable;
	s->link_up = data && data->state.link_up;
	s->has_replica_threads = data && data->state.has_replica_threads;
	s->io_running = s->has_replica_threads && data->state.io_running;
	s->sql_running = s->has_replica_threads && data->state.sql_running;
	s->seconds_behind = s->has_replica_threads ?
			    data->state.seconds_behind : -1;
	snprintf(s->repl_error, sizeof(s->repl_error), "%s",
		 data ? data->state.repl_error : "");
	snprintf(s->gtid, sizeof(s->gtid), "%s", data ? data->state.gtid : "");
	snprintf(s->detail, sizeof(s->detail), "%s",
		 bad ? bad->state.detail : data ? data->state.detail :
		 set->n ? set->res[0].state.detail :
		 "no resources configured");
}

void res_monitor_done(struct res *r)
{
	struct res_set *set = r->set;

	if (set->closing)
		return;
	aggregate(set);
	if (set->on_state)
		set->on_state(set, &set->state, set->data);
}

void res_event(struct res *r, const char *fmt, ...)
{
	struct res_set *set = r->set;
	char msg[HP_ERR_MAX];
	va_list ap;

	if (set->closing || !set->on_event)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set->on_event(set, msg, set->data);
}

static void monitor_tick(uv_timer_t *t)
{
	struct res *r = t->data;

	r->ops->monitor(r);
}

void res_set_monitor_start(struct res_set *set)
{
	for (int i = 0; i < set->n; i++) {
		struct res *r = &set->res[i];

		/* First round on the next loop turn, never inside this
		 * call: the state callback may step the election. */
		if (r->ops->monitor && r->monitor_ms)
			uv_timer_start(&r->monitor_timer, monitor_tick, 0,
				       r->monitor_ms);
	}
	aggregate(set);
}

const struct res_state *res_set_state(const struct res_set *set)
{
	return &set->state;
}

/* ---- open and close ----------------------------------------------- */

static int open_one(struct res_set *set, int i, struct hp_err *err)
{
	struct res *r = &set->res[i];
	const struct conf_resource *cr = &set->conf->resources[i];

	r->set = set;
	r->conf = set->conf;
	r->cr = cr;
	r->self_id = set->self_id;
	r->loop = set->loop;
	r->ops = ops_for(cr->type);
	if (!r->ops)
		return hp_errf(err, "resource %s: unknown type %d", cr->name,
			       (int)cr->type);
	r->timeout_ms = VIP_STEP_MS;
	r->state.healthy = true;
	if (r->ops->open(r, err))
		return -1;
	uv_timer_init(set->loop, &r->monitor_timer);
	r->monitor_timer.data = r;
	return 0;
}

int res_set_open(uv_loop_t *loop, const struct conf *conf, uint8_t self_id,
		 res_state_cb on_state, res_event_cb on_event, void *data,
		 struct res_set **out, struct hp_err *err)
{
	struct res_set *set = calloc(1, sizeof(*set));

	if (!set)
		return hp_errf(err, "resources: out of memory");
	set->loop = loop;
	set->conf = conf;
	set->self_id = self_id;
	set->on_state = on_state;
	set->on_event = on_event;
	set->data = data;
	uv_timer_init(loop, &set->step_timer);
	set->step_timer.data = set;
	for (int i = 0; i < conf->n_resources; i++) {
		if (open_one(set, i, err)) {
			res_set_close(set);
			return -1;
		}
		set->n++;
	}
	aggregate(set);
	*out = set;
	return 0;
}

void res_set_close(struct res_set *set)
{
	if (!set || set->closing)
		return;
	if (set->op != OP_NONE)
		finish(set, -1, "the agent is shutting down");
	set->closing = true;
	set->refs++;
	uv_close((uv_handle_t *)&set->step_timer, step_timer_closed);
	for (int i = 0; i < set->n; i++) {
		struct res *r = &set->res[i];

		res_close_handle(r, (uv_handle_t *)&r->monitor_timer);
		r->ops->close(r);
	}
}

/* ---- the guard's fence -------------------------------------------- */

void res_fence_sync(const struct conf *conf, uint8_t self_id)
{
	for (int i = conf->n_resources - 1; i >= 0; i--) {
		const struct conf_resource *cr = &conf->resources[i];
		const struct res_ops *ops = ops_for(cr->type);
		struct hp_err err;

		if (ops && ops->fence_sync &&
		    ops->fence_sync(conf, cr, self_id, &err))
			fprintf(stderr, "hapair: fence: %s\n", err.msg);
	}
}

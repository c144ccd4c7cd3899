/*
 * ops.c - operator requests (see ops.h): the checks an operator expects
 * before a switchover or a pause, and the wait for a switchover's
 * outcome.
 *
 * A switchover runs in the state machine (elect.c: quiesce, wait for
 * the standby's exact position, STEP_DOWN, or abort at
 * switchover_timeout).  Here it is refused when it cannot work - this
 * node is not the primary, the target is unknown or is us, failover is
 * paused, the standby is unreachable, unfit or not in sync - and its
 * request waits until the target leads a newer term (200), the state
 * machine aborted it (409), or nothing happened within the timeout plus
 * two lease promises (504).
 */
#define _GNU_SOURCE
#include "ops.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guard.h"
#include "log.h"
#include "res.h"
#include "voter.h"

enum { SW_DONE, SW_ABORTED, SW_REFUSED };

struct ops_waiter {
	ops_reply_fn reply;
	void *ctx;
};

/* {"ok":true,"message":...} or {"error":...,"status":N}, plus extras. */
static char *answer(int status, const char *msg, cJSON *extra)
{
	cJSON *o = extra ? extra : cJSON_CreateObject();
	char *text, *out = NULL;

	if (!o)
		return NULL;
	if (status < 300) {
		cJSON_AddBoolToObject(o, "ok", 1);
		cJSON_AddStringToObject(o, "message", msg);
	} else {
		cJSON_AddStringToObject(o, "error", msg);
		cJSON_AddNumberToObject(o, "status", status);
	}
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text && asprintf(&out, "%s\n", text) < 0)
		out = NULL;
	cJSON_free(text);
	return out;
}

static void say(const struct ops_request *req, ops_reply_fn reply,
		void *ctx, int status, cJSON *extra, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void say(const struct ops_request *req, ops_reply_fn reply,
		void *ctx, int status, cJSON *extra, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (status >= 300)
		hp_log(LOG_WARN, "%s: refused (%d): %s", req->origin, status,
		       msg);
	reply(ctx, status, answer(status, msg, extra));
}

static uint8_t peer_of(const struct voter *v)
{
	return v->self == 1 ? 2 : 1;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- switchover ------------------------------------------------------ */

static void finish_waiters(struct voter *v, int status, cJSON *extra,
			   const char *msg)
{
	for (int i = 0; i < OPS_WAITERS; i++) {
		struct ops_waiter *w = v->waiters[i];

		if (!w)
			continue;
		v->waiters[i] = NULL;
		w->reply(w->ctx, status, answer(status, msg,
				extra ? cJSON_Duplicate(extra, 1) : NULL));
		free(w);
	}
	cJSON_Delete(extra);
}

static int add_waiter(struct voter *v, ops_reply_fn reply, void *ctx)
{
	for (int i = 0; i < OPS_WAITERS; i++) {
		if (v->waiters[i])
			continue;
		v->waiters[i] = malloc(sizeof(*v->waiters[i]));
		if (!v->waiters[i])
			return -1;
		*v->waiters[i] = (struct ops_waiter){ reply, ctx };
		return 0;
	}
	return -1;
}

/* Why the peer cannot take over by switchover now, or NULL. */
static const char *switchover_blocker(const struct voter *v, uint64_t now)
{
	const struct elect *st = &v->st;
	const char *b;

	if (st->paused)
		return "automatic failover is paused: `hapair resume` first "
		       "(a paused standby does not take over)";
	if (v->sw.running || st->switching)
		return "a switchover is already in progress";
	b = voter_failover_blocker(v, now);
	if (b)
		return b;
	if (res_set_state(v->res)->has_position && !st->peer_in_sync)
		return "the standby reports its replication link down: it "
		       "could not catch up";
	return NULL;
}

static void switchover(struct voter *v, const struct ops_request *req,
		       ops_reply_fn reply, void *ctx)
{
	uint64_t now = mono_ms();
	const struct elect *st = &v->st;
	const char *why;
	uint8_t to = peer_of(v);

	if (v->witness) {
		say(req, reply, ctx, 400, NULL, "the witness holds no data; "
		    "ask the primary's agent");
		return;
	}
	if (req->to[0] && !conf_node_by_name(&v->conf, req->to)) {
		say(req, reply, ctx, 400, NULL, "unknown node \"%s\": the "
		    "nodes are %s and %s", req->to, v->conf.nodes[0].name,
		    v->conf.nodes[1].name);
		return;
	}
	if (req->to[0] && !strcmp(req->to, v->name) &&
	    st->role == ROLE_PRIMARY) {
		say(req, reply, ctx, 409, NULL, "%s is already the primary",
		    v->name);
		return;
	}
	if (st->role != ROLE_PRIMARY) {
		say(req, reply, ctx, 409, NULL, "this node (%s) is not the "
		    "primary%s%s: ask the primary's agent", v->name,
		    st->leader ? "; the primary is " : "",
		    st->leader ? voter_node_name(v, st->leader) : "");
		return;
	}
	why = switchover_blocker(v, now);
	if (why) {
		v->switchovers[SW_REFUSED]++;
		say(req, reply, ctx, 409, NULL, "cannot switch over to %s now: "
		    "%s", voter_node_name(v, to), why);
		return;
	}
	if (add_waiter(v, reply, ctx)) {
		say(req, reply, ctx, 503, NULL, "too many requests waiting");
		return;
	}
	hp_log(LOG_INFO, "%s: switchover to %s requested", req->origin,
	       voter_node_name(v, to));
	v->sw = (struct switchover){ .running = true, .term = st->term,
				     .started_ms = now, .to = to };
	voter_event(v, EV_SWITCHOVER, true, 0);
	ops_after_step(v);
}

void ops_after_step(struct voter *v)
{
	struct switchover *sw = &v->sw;
	const struct elect *st = &v->st;
	uint64_t now = mono_ms(), limit;
	cJSON *x;

	if (!sw->running)
		return;
	if (!sw->handed_ms && st->role != ROLE_PRIMARY &&
	    st->last_why == WHY_SWITCHOVER)
		sw->handed_ms = now;
	if (st->term > sw->term && st->leader == sw->to) {
		sw->running = false;
		v->switchovers[SW_DONE]++;
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "primary",
					voter_node_name(v, sw->to));
		cJSON_AddNumberToObject(x, "term", (double)st->term);
		cJSON_AddNumberToObject(x, "elapsed_ms",
					(double)(now - sw->started_ms));
		snprintf(sw->result, sizeof(sw->result), "switchover to %s "
			 "done: primary in term %" PRIu64 ", %" PRIu64 " ms "
			 "after the request", voter_node_name(v, sw->to),
			 st->term, now - sw->started_ms);
		events_add(v->events, EVK_SWITCHOVER, SEV_INFO, st->term,
			   "%s", sw->result);
		finish_waiters(v, 200, x, sw->result);
		return;
	}
	if (st->role == ROLE_PRIMARY && !st->switching && !sw->handed_ms) {
		sw->running = false;
		v->switchovers[SW_ABORTED]++;
		char seen[48] = "no position";

		if (st->peer_has_position)
			snprintf(seen, sizeof(seen), "%" PRIu64,
				 st->peer_position);
		snprintf(sw->result, sizeof(sw->result), "switchover aborted: "
			 "%s did not reach position %" PRIu64 " within %u ms "
			 "(it reported %s); %s stays primary and takes writes "
			 "again", voter_node_name(v, sw->to), st->switch_pos,
			 v->conf.switchover_timeout_ms, seen, v->name);
		finish_waiters(v, 409, NULL, sw->result);
		return;
	}
	limit = v->conf.switchover_timeout_ms +
		2 * elect_promise_ms(&st->conf) + 1000;
	if (now >= sw->started_ms + limit) {
		sw->running = false;
		v->switchovers[SW_ABORTED]++;
		snprintf(sw->result, sizeof(sw->result), "switchover: no "
			 "outcome within %" PRIu64 " ms (role %s, term %"
			 PRIu64 ", primary %s); see `hapair status`", limit,
			 elect_role_name(st->role), st->term,
			 st->leader ? voter_node_name(v, st->leader) :
			 "unknown");
		finish_waiters(v, 504, NULL, sw->result);
	}
}

void ops_close(struct voter *v)
{
	v->sw.running = false;
	finish_waiters(v, 503, NULL, "the agent is shutting down");
}

/* ---- pause ------------------------------------------------------------ */

static void pause_resume(struct voter *v, const struct ops_request *req,
			 ops_reply_fn reply, void *ctx)
{
	bool pause = req->verb == OPS_PAUSE;
	uint64_t gen = wall_ms();
	cJSON *x;

	if (v->witness) {
		say(req, reply, ctx, 400, NULL, "pause and resume are agent "
		    "requests; the witness never fails anything over");
		return;
	}
	if (pause && (v->sw.running || v->st.switching)) {
		say(req, reply, ctx, 409, NULL, "a switchover is in progress; "
		    "pause after it ends");
		return;
	}
	if (gen <= v->st.pause_gen)
		gen = v->st.pause_gen + 1;
	voter_event(v, EV_PAUSE, pause, gen);
	if (v->st.pause_gen != gen) {
		say(req, reply, ctx, 500, NULL, "could not record the setting "
		    "in the state file; see the agent's log");
		return;
	}
	hp_log(LOG_INFO, "%s: automatic failover %s", req->origin,
	       pause ? "paused" : "resumed");
	x = cJSON_CreateObject();
	cJSON_AddBoolToObject(x, "paused", pause);
	say(req, reply, ctx, 200, x, "automatic failover %s on both nodes "
	    "(the peer adopts the setting from this node's next hello)",
	    pause ? "paused" : "resumed");
}

/* ---- dispatch ----------------------------------------------------------- */

void ops_handle(struct voter *v, const struct ops_request *req,
		ops_reply_fn reply, void *ctx)
{
	char *text;

	switch (req->verb) {
	case OPS_STATUS:
		text = status_json(v, mono_ms());
		reply(ctx, text ? 200 : 500, text);
		return;
	case OPS_EVENTS:
		text = v->events ? events_json(v->events, req->since,
					       req->limit) : NULL;
		if (!text)
			text = answer(404, "this voter keeps no events (the "
				      "witness)", NULL);
		reply(ctx, v->events ? 200 : 404, text);
		return;
	case OPS_SWITCHOVER:
		switchover(v, req, reply, ctx);
		return;
	case OPS_PAUSE:
	case OPS_RESUME:
		pause_resume(v, req, reply, ctx);
		return;
	}
	reply(ctx, 400, answer(400, "unknown request", NULL));
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-')
		return -1;
	*out = strtoull(s, &end, 10);
	return *end ? -1 : 0;
}

int ops_parse_line(const char *line, struct ops_request *req, char *err,
		   size_t size)
{
	char verb[32] = "", a[64] = "", b[64] = "", extra[8] = "";
	uint64_t n;
	int got = sscanf(line, "%31s %63s %63s %7s", verb, a, b, extra);

	memset(req, 0, sizeof(*req));
	snprintf(req->origin, sizeof(req->origin), "cli");
	if (got < 1 || got == 4)
		goto bad;
	if (!strcmp(verb, "status") && got == 1) {
		req->verb = OPS_STATUS;
	} else if (!strcmp(verb, "events") && got <= 3) {
		req->verb = OPS_EVENTS;
		if (got >= 2 && parse_u64(a, &req->since))
			goto bad;
		if (got == 3 && (parse_u64(b, &n) || n > 100000))
			goto bad;
		req->limit = got == 3 ? (int)n : 0;
	} else if (!strcmp(verb, "switchover") && got <= 2) {
		req->verb = OPS_SWITCHOVER;
		snprintf(req->to, sizeof(req->to), "%s", got == 2 ? a : "");
	} else if (!strcmp(verb, "pause") && got == 1) {
		req->verb = OPS_PAUSE;
	} else if (!strcmp(verb, "resume") && got == 1) {
		req->verb = OPS_RESUME;
	} else {
		goto bad;
	}
	return 0;
bad:
	snprintf(err, size, "unknown request \"%.60s\": expected status, "
		 "events [SINCE [LIMIT]], switchover [NODE], pause or resume",
		 line);
	return -1;
}

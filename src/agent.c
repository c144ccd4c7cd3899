/*
 * agent.c - the voter loop for `hapair agent` and `hapair witness`.
 *
 * Thin by design: every callback turns what happened (a datagram, a
 * timer, a signal) into an elect_event, calls elect_step() and carries
 * out the returned actions in order.  The new state is kept only if
 * every ACT_PERSIST succeeded.  Before acting on a state where this node
 * is primary, the lease deadline is published to the guard, so a crash
 * at any later point is fenced.
 */
#define _GNU_SOURCE
#include "agent.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "api.h"
#include "check.h"
#include "ctl.h"
#include "evfile.h"
#include "notify.h"
#include "guard.h"
#include "log.h"
#include "ops.h"
#include "reload.h"
#include "statefile.h"
#include "res.h"
#include "voter.h"

enum {
	AGENT_RT_PRIORITY = 10,
	HEALTH_RETRY_MS = 5000,	/* unfit after a failed promote, then retry */
	DROP_LOG_MS = 5000,	/* one line per drop reason per 5 s */
	MONITOR_KICK_MS = 5,	/* switchover: fresh positions this often */
	SEQ_EPOCH_SHIFT = 32,	/* seq = epoch << 32 | counter */
};

const char *voter_node_name(const struct voter *v, uint8_t id)
{
	if (id == ELECT_WITNESS_ID)
		return "witness";
	if (id == 1 || id == 2)
		return v->conf.nodes[id - 1].name;
	return "none";
}

static const struct conf_endpoint *endpoint(const struct voter *v,
					    uint8_t id)
{
	if (id == ELECT_WITNESS_ID)
		return v->conf.has_witness ? &v->conf.witness : NULL;
	if (id == 1 || id == 2)
		return &v->conf.nodes[id - 1].ep;
	return NULL;
}

/* ---- resources ------------------------------------------------------- */

static void step(struct voter *v, struct elect_event *ev);

/* Feed the election what changed in the resources: data position and
 * replication link (EV_POSITION), fitness (EV_HEALTH).  Never called
 * inside step(): a callback that may run there goes through res_kick. */
static void res_sync(struct voter *v)
{
	const struct res_state *s = res_set_state(v->res);
	bool healthy, store_down;

	if (v->stopping)
		return;
	if (s->has_position != v->st.has_position ||
	    s->position != v->st.position || s->link_up != v->st.in_sync) {
		struct elect_event ev = { .type = EV_POSITION,
					  .has_position = s->has_position,
					  .position = s->position,
					  .flag = s->link_up };

		step(v, &ev);
	}
	/* The first round after writes stopped gives the final position. */
	if (v->await_final_pos) {
		v->await_final_pos = false;
		voter_event(v, EV_QUIESCED, false, 0);
	}
	trace_res_state(v, s->writable);
	v->res_healthy = s->healthy;
	/* Fit to be primary: resources answer, no failed promote pending,
	 * every [check] passes (DESIGN.md, Checks). */
	healthy = v->res_healthy && !v->unfit &&
		  (!v->checks || check_set_healthy(v->checks));
	/* A data store with no position does not answer at all. */
	store_down = !s->healthy && !s->has_position &&
		     conf_data_resource(&v->conf);
	if (healthy != v->st.healthy ||
	    (!healthy && store_down != v->st.store_down)) {
		struct elect_event ev = { .type = EV_HEALTH, .flag = healthy,
					  .store_down = store_down };

		if (healthy)
			hp_log(LOG_INFO, "node healthy: resources answer and "
			       "every check passes");
		else
			hp_log(LOG_WARN, "node unfit: %s", v->unfit ?
			       "a promote failed; retrying later" :
			       !v->res_healthy ? s->detail : "a check fails");
		step(v, &ev);
	}
}

static void res_kick_cb(uv_timer_t *t)
{
	res_sync(t->data);
}

static void on_res_state(struct res_set *set, const struct res_state *s,
			 void *data)
{
	struct voter *v = data;

	if (v->stepping)
		uv_timer_start(&v->res_kick, res_kick_cb, 0, 0);
	else
		res_sync(v);
}

static void on_res_event(struct res_set *set, const char *msg, void *data)
{
	struct voter *v = data;

	events_add(v->events, EVK_RESOURCE, SEV_WARNING, v->st.term, "%s",
		   msg);
}

/* A check flipped: log it, keep it for status, re-judge fitness. */
static void on_check_flip(struct check_set *set, const char *name,
			  bool healthy, const char *reason, void *data)
{
	struct voter *v = data;

	events_add(v->events, EVK_CHECK, healthy ? SEV_INFO : SEV_WARNING,
		   v->st.term, "check %s %s: %s", name,
		   healthy ? "passes" : "FAILS", reason);
	/* A reloaded set takes over once each of its checks has a verdict:
	 * until then the old one judges (new checks start as failed). */
	if (v->checks_next && check_set_settled(v->checks_next)) {
		check_set_close(v->checks);
		v->checks = v->checks_next;
		v->checks_next = NULL;
	}
	if (v->stepping)
		uv_timer_start(&v->res_kick, res_kick_cb, 0, 0);
	else
		res_sync(v);
}

static void on_notify_fail(struct notify_set *set, const char *msg,
			   void *data)
{
	struct voter *v = data;

	events_add(v->events, EVK_AGENT, SEV_WARNING, v->st.term, "%s", msg);
}

/* Like corosync's "not scheduled for N ms": a loop turn that came a
 * lease late (a blocking call, CPU starvation, SIGSTOP) explains a
 * lease lost without any fault outside this process. */
enum { STALL_TICK_MS = 100 };

static void stall_tick(uv_timer_t *t)
{
	struct voter *v = t->data;
	uint64_t now = mono_ms(), gap = now - v->stall_last_ms;

	if (v->stall_last_ms && gap > STALL_TICK_MS + v->conf.lease_ms)
		hp_log(LOG_WARN, "the agent was not scheduled for %" PRIu64
		       " ms (more than the lease): a blocking call, CPU "
		       "starvation or a stop signal", gap - STALL_TICK_MS);
	v->stall_last_ms = now;
}

static void health_retry(uv_timer_t *t)
{
	struct voter *v = t->data;

	v->unfit = false;
	res_sync(v);
}

/* Before each res_set_promote/demote/fence: the set first ends the
 * action still running, whose done then reports -1 although nothing
 * failed; res_done() tells that one apart. */
static void res_starting(struct voter *v)
{
	v->res_interrupting = v->res_running;
	v->res_running = true;
}

/* In a done callback: false if this is an action a newer one took over
 * (log it, act on nothing). */
static bool res_done(struct voter *v)
{
	if (v->res_interrupting) {
		v->res_interrupting = false;
		return false;
	}
	v->res_running = false;
	return true;
}

/* A failed promote must leave the node not serving (res.h): fence, and
 * be unfit for a while so that the peer takes over. */
static void promote_done(struct res_set *set, int rc, const char *msg,
			 void *data)
{
	struct voter *v = data;

	if (!res_done(v)) {
		hp_log(LOG_INFO, "%s", msg);
		trace_promoted(v, -1);
		return;
	}
	trace_promoted(v, rc);
	if (rc == 0) {
		hp_log(LOG_INFO, "promoted: %s", *msg ? msg : "no resources");
		return;
	}
	v->resource_errors++;
	hp_log(LOG_ERR, "promote: %s", msg);
	if (v->stopping)
		return;
	res_starting(v);
	res_set_fence(set);
	v->res_running = false;
	v->unfit = true;
	/* This may run inside step(): feed EV_HEALTH from the loop. */
	uv_timer_start(&v->res_kick, res_kick_cb, 0, 0);
	uv_timer_start(&v->health_timer, health_retry, HEALTH_RETRY_MS, 0);
}

static void demote_done(struct res_set *set, int rc, const char *msg,
			void *data)
{
	struct voter *v = data;

	if (!res_done(v)) {
		hp_log(LOG_INFO, "%s", msg);
		return;
	}
	if (rc) {
		v->resource_errors++;
		hp_log(LOG_ERR, "demote: %s", msg);
	} else if (*msg) {
		hp_log(LOG_INFO, "demoted: %s", msg);
	}
}

/* Switchover: writes stopped.  The next monitoring round's position is
 * the final one (EV_QUIESCED follows it in res_sync); without a data
 * store there is no position to wait for. */
static void quiesce_done(struct res_set *set, int rc, const char *msg,
			 void *data)
{
	struct voter *v = data;

	if (!res_done(v)) {
		hp_log(LOG_INFO, "%s", msg);
		return;
	}
	if (rc) {
		v->resource_errors++;
		events_add(v->events, EVK_SWITCHOVER, SEV_WARNING, v->st.term,
			   "switchover: could not stop writes (%s); it will "
			   "abort at its timeout", msg);
		return;
	}
	if (*msg)
		hp_log(LOG_INFO, "%s", msg);
	v->await_final_pos = true;
	if (res_set_state(v->res)->has_position) {
		v->monitor_kick_ms = mono_ms();
		res_set_monitor_now(v->res);
	} else {
		uv_timer_start(&v->res_kick, res_kick_cb, 0, 0);
	}
}

/* ---- sending ---------------------------------------------------------- */

static void send_msg(struct voter *v, uint8_t to, struct proto_msg *m)
{
	const struct conf_endpoint *ep = endpoint(v, to);
	uint8_t buf[PROTO_MAX_LEN];
	uv_buf_t b;
	int len, rc;

	if (!ep)
		return;
	m->cluster = v->conf.cluster_id;
	m->seq = (v->epoch << SEQ_EPOCH_SHIFT) | ++v->seq;
	m->send_ms = mono_ms();
	len = proto_encode(m, v->key, buf, sizeof(buf));
	if (len < 0)
		return;
	b = uv_buf_init((char *)buf, (unsigned)len);
	rc = uv_udp_try_send(&v->udp, &b, 1, (const struct sockaddr *)&ep->sa);
	if (rc < 0) {
		v->tx_errors++;
		log_ratelimited(DROP_MAX + to, m->send_ms, DROP_LOG_MS,
				LOG_WARN, "send %s to %s (%s): %s",
				proto_type_name(m->type),
				voter_node_name(v, to), ep->host,
				uv_strerror(rc));
		return;
	}
	v->tx_ok++;
}

/* ---- the step --------------------------------------------------------- */

static void arm_timer(struct voter *v, uint64_t wake_at);

static int persist(struct voter *v, const struct elect *next)
{
	struct statefile sf = { .term = next->term,
				.voted_for = next->voted_for,
				.synced = next->synced,
				.epoch = v->epoch,
				.paused = next->paused,
				.pause_gen = next->pause_gen };
	struct hp_err err;

	if (statefile_save(v->state_path, &sf, &err)) {
		v->persist_errors++;
		hp_log(LOG_ERR, "%s; not acting on term %" PRIu64
		       " until it can be written", err.msg, next->term);
		return -1;
	}
	return 0;
}

static void log_role(struct voter *v, const struct elect *next,
		     enum elect_why why)
{
	hp_log(LOG_INFO, "role %s -> %s term %" PRIu64 " (%s)",
	       elect_role_name(v->st.role), elect_role_name(next->role),
	       next->term, elect_why_name(why));
	if (next->role == ROLE_PRIMARY)
		v->elections_won++;
	if (v->notify && next->role != ROLE_WITNESS) {
		uint8_t peer = v->self == 1 ? 2 : 1;
		/* keepalived's states: MASTER, BACKUP, FAULT (unfit). */
		const char *state = next->role == ROLE_PRIMARY ? "MASTER" :
				    next->healthy ? "BACKUP" : "FAULT";
		struct notify_event ev = {
			.node = v->name,
			.peer = voter_node_name(v, peer),
			.role = elect_role_name(next->role),
			.state = state,
			.term = next->term,
			.reason = elect_why_name(why),
		};

		notify_set_run(v->notify, &ev);
	}
}

/* Carry out one action.  Returns -1 to abandon the step (persist failed:
 * nothing after it may run, and the old state is kept). */
static int do_action(struct voter *v, const struct elect *next,
		     struct elect_action *a)
{
	/* Only agents have resources; a witness gets no such actions. */
	if (!v->res && (a->type == ACT_FENCE || a->type == ACT_DEMOTE ||
			a->type == ACT_FOLLOW || a->type == ACT_PROMOTE ||
			a->type == ACT_SYNC))
		return 0;
	switch (a->type) {
	case ACT_PERSIST:
		return persist(v, next);
	case ACT_SEND:
		send_msg(v, a->to, &a->msg);
		break;
	case ACT_FENCE:
		/* A planned switchover hands over only once the standby
		 * reported our exact final position: no copy to keep. */
		if (a->why == WHY_SWITCHOVER && v->st.switching)
			res_set_handed_over(v->res);
		v->fences++;
		hp_log(LOG_WARN, "fenced (%s): VIPs removed, writes stopped",
		       elect_why_name(a->why));
		res_starting(v);
		res_set_fence(v->res);
		v->res_running = false;
		break;
	case ACT_DEMOTE:
		res_starting(v);
		res_set_demote(v->res, next->leader, demote_done, v);
		break;
	case ACT_FOLLOW:
		res_starting(v);
		res_set_demote(v->res, a->to, demote_done, v);
		break;
	case ACT_PROMOTE:
		trace_promoting(v, next, mono_ms());
		res_starting(v);
		res_set_promote(v->res, promote_done, v);
		break;
	case ACT_QUIESCE:
		res_starting(v);
		res_set_quiesce(v->res, quiesce_done, v);
		break;
	case ACT_UNQUIESCE:
		v->await_final_pos = false;
		res_set_unquiesce(v->res);
		break;
	case ACT_SYNC:
		hp_log(LOG_INFO, "sync-mode write guard: %s", a->flag ?
		       "writes need an in-sync replica" :
		       "writes allowed without a replica (the witness "
		       "recorded the standby out of sync)");
		res_set_sync(v->res, a->flag);
		break;
	case ACT_ROLE:
		log_role(v, next, a->why);
		break;
	case ACT_NOTE:
		if (a->why == WHY_SWITCHOVER_ABORTED)
			break; /* trace.c tells, with the positions */
		if (a->why == WHY_HOLD_DOWN)
			events_add(v->events, EVK_CHECK, SEV_WARNING,
				   next->term, "checks fail but "
				   "failover_hold_down is active: staying "
				   "primary until the hold-down ends");
		else
			hp_log(LOG_WARN, "heartbeat from a second leader in "
			       "one term ignored");
		break;
	default:
		break;
	}
	return 0;
}

static void step(struct voter *v, struct elect_event *ev)
{
	struct elect next, old;
	struct elect_actions acts;
	uint64_t now = mono_ms();

	if (v->stopping)
		return;
	ev->rand = randombytes_random();
	elect_step(&v->st, ev, now, &next, &acts);
	if (v->guard && next.role == ROLE_PRIMARY)
		guard_publish(v->guard, true, next.lease_end_ms);
	v->stepping = true;
	for (int i = 0; i < acts.n; i++) {
		if (do_action(v, &next, &acts.a[i]) == 0)
			continue;
		v->stepping = false;
		if (v->guard)
			guard_publish(v->guard, elect_is_primary(&v->st, now),
				      v->st.lease_end_ms);
		arm_timer(v, now + v->conf.heartbeat_ms);
		return;
	}
	v->stepping = false;
	if (v->guard && next.role != ROLE_PRIMARY)
		guard_publish(v->guard, false, 0);
	old = v->st;
	v->st = next;
	arm_timer(v, acts.wake_at_ms);
	trace_step(v, &old, now);
	ops_after_step(v);
	if (v->api)
		api_refresh(v->api);
}

void voter_event(struct voter *v, enum elect_ev_type type, bool flag,
		 uint64_t gen)
{
	struct elect_event ev = { .type = type, .flag = flag, .gen = gen };

	step(v, &ev);
}

static void simple_event(struct voter *v, enum elect_ev_type type, bool flag)
{
	voter_event(v, type, flag, 0);
}

static void timer_cb(uv_timer_t *t)
{
	struct voter *v = t->data;

	/* The guard fenced while we were stopped or hung: the lease is
	 * gone whatever our state says. */
	if (v->guard && guard_fence_count(v->guard) != v->guard_fences_seen) {
		v->guard_fences_seen = guard_fence_count(v->guard);
		if (v->st.role == ROLE_PRIMARY)
			events_add(v->events, EVK_FENCE, SEV_CRITICAL,
				   v->st.term, "the guard fenced this node: "
				   "the agent did not renew its lease in time "
				   "(stopped or stalled)");
		else
			events_add(v->events, EVK_FENCE, SEV_INFO, v->st.term,
				   "the guard fenced too at the lease deadline "
				   "(the agent had already stepped down)");
		simple_event(v, EV_GUARD_FENCED, false);
		return;
	}
	simple_event(v, EV_TICK, false);
}

static void arm_timer(struct voter *v, uint64_t wake_at)
{
	uint64_t now = mono_ms();

	uv_timer_start(&v->timer, timer_cb, wake_at > now ? wake_at - now : 0,
		       0);
}

/* ---- receiving -------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char rxbuf[2048];

	*buf = uv_buf_init(rxbuf, sizeof(rxbuf));
}

static void drop(struct voter *v, enum proto_drop why,
		 const struct sockaddr *from, ssize_t len)
{
	char host[64] = "?";

	v->rx_dropped[why]++;
	if (from)
		uv_ip_name(from, host, sizeof(host));
	log_ratelimited(why, mono_ms(), DROP_LOG_MS, LOG_WARN,
			"dropped %zd-byte datagram from %s: %s", len, host,
			proto_drop_name(why));
}

/* What a message means beyond the state machine: heartbeat round
 * trips, and fresh positions while a switchover waits for them. */
static void after_recv(struct voter *v, const struct proto_msg *m)
{
	uint64_t now = mono_ms();

	if (m->type == MSG_ACK && v->st.role == ROLE_PRIMARY &&
	    m->hb_send_ms && m->hb_send_ms <= now)
		trace_rtt(v, (now - m->hb_send_ms) * 1000);
	if (!v->res || v->stopping)
		return;
	if (m->sender == (v->self == 1 ? 2 : 1) && (m->type == MSG_HELLO ||
	    m->type == MSG_PREVOTE_REQ || m->type == MSG_VOTE_REQ))
		res_set_peer_position(v->res, m->flags & PF_HAS_POSITION,
				      m->position);
	if ((m->type == MSG_HEARTBEAT && (m->flags & PF_SWITCHOVER)) ||
	    m->type == MSG_STEP_DOWN) {
		if (now >= v->monitor_kick_ms + MONITOR_KICK_MS) {
			v->monitor_kick_ms = now;
			res_set_monitor_now(v->res);
		}
	}
}

static void on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
		    const struct sockaddr *from, unsigned flags)
{
	struct voter *v = h->data;
	struct elect_event ev = { .type = EV_RECV };
	enum proto_drop why;

	if (n <= 0 || !from)
		return;
	if (flags & UV_UDP_PARTIAL) {
		drop(v, DROP_LONG, from, n);
		return;
	}
	if (proto_decode((const uint8_t *)buf->base, (size_t)n, v->key,
			 v->conf.cluster_id, v->self, &ev.msg, &why)) {
		drop(v, why, from, n);
		return;
	}
	if (!proto_replay_check(&v->replay, &ev.msg)) {
		drop(v, DROP_REPLAY, from, n);
		return;
	}
	v->rx_ok++;
	step(v, &ev);
	after_recv(v, &ev.msg);
}

/* ---- control socket ------------------------------------------------- */

static void ctl_done(void *ctx, int status, char *body)
{
	ctl_reply(ctx, body);
}

static void ctl_handle(void *data, const char *request, struct ctl_req *req)
{
	struct voter *v = data;
	struct ops_request op;
	char err[200], *body;

	if (ops_parse_line(request, &op, err, sizeof(err))) {
		if (asprintf(&body, "{\"error\":\"%s\",\"status\":400}\n",
			     err) < 0)
			body = NULL;
		ctl_reply(req, body);
		return;
	}
	ops_handle(v, &op, ctl_done, req);
}

/* ---- event sinks ------------------------------------------------------ */

/* The JSON-lines file ([events] file), syslog and the webhooks
 * ([alert]) of v->conf. */
static int open_sinks(struct voter *v, struct hp_err *err)
{
	events_set_syslog(v->events, v->conf.events.syslog);
	if (v->conf.events.file[0]) {
		if (evfile_open(v->loop, v->conf.events.file, &v->evfile, err))
			return -1;
		events_add_sink(v->events, evfile_sink, v->evfile);
	}
	if (v->conf.n_alerts) {
		if (alert_set_open(v->loop, &v->conf, &v->alerts, err))
			return -1;
		events_add_sink(v->events, alert_set_sink, v->alerts);
	}
	return 0;
}

static void close_sinks(struct voter *v)
{
	if (v->evfile) {
		events_remove_sink(v->events, v->evfile);
		evfile_close(v->evfile);
		v->evfile = NULL;
	}
	if (v->alerts) {
		events_remove_sink(v->events, v->alerts);
		alert_set_close(v->alerts);
		v->alerts = NULL;
	}
}

static void reopen_sinks(struct voter *v)
{
	struct hp_err err;

	close_sinks(v);
	if (open_sinks(v, &err))
		events_add(v->events, EVK_CONFIG, SEV_CRITICAL, v->st.term,
			   "events file or alerts not reopened: %s", err.msg);
}

/* ---- reload ---------------------------------------------------------- */

int voter_apply_conf(struct voter *v, const struct conf *next,
		     unsigned what, struct hp_err *err)
{
	struct check_set *checks = NULL;
	struct notify_set *notify = NULL;

	if ((what & RELOAD_CHECKS) &&
	    check_set_open(v->loop, next, on_check_flip, v, &checks, err))
		return -1;
	if ((what & RELOAD_NOTIFY) &&
	    notify_set_open(v->loop, next, on_notify_fail, v, &notify, err)) {
		check_set_close(checks);
		return -1;
	}
	v->conf = *next;
	if (what & RELOAD_CHECKS) {
		check_set_close(v->checks_next);
		v->checks_next = checks;
		if (check_set_count(checks) == 0) {
			check_set_close(v->checks);
			v->checks = checks;
			v->checks_next = NULL;
		}
		check_set_start(checks);
	}
	if (what & RELOAD_NOTIFY) {
		notify_set_close(v->notify);
		v->notify = notify;
	}
	if (what & RELOAD_TIMERS) {
		v->st.conf.hold_down_ms = next->hold_down_ms;
		v->st.conf.switchover_timeout_ms = next->switchover_timeout_ms;
		v->st.conf.priority = next->nodes[v->self - 1].priority;
	}
	if (what & RELOAD_ALERTS)
		reopen_sinks(v);
	if (v->api)
		api_refresh(v->api);
	res_sync(v);
	return 0;
}

/* ---- signals and shutdown ------------------------------------------- */

static void close_all(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void on_stop_signal(uv_signal_t *s, int signum)
{
	struct voter *v = s->data;
	bool was_primary;

	hp_log(LOG_INFO, "%s: shutting down", strsignal(signum));
	/* A primary hands over (fence, then STEP_DOWN) so the standby
	 * takes over at once instead of after the lease. */
	was_primary = v->st.role == ROLE_PRIMARY;
	events_add(v->events, EVK_AGENT, SEV_WARNING, v->st.term,
		   "agent stopping (%s)%s", strsignal(signum), was_primary ?
		   ": handing over to the standby" : "");
	if (was_primary)
		simple_event(v, EV_SWITCHOVER, false);
	ops_close(v);
	v->stopping = true;
	if (v->res) {
		/* The fence above is on its way to the store; closing the
		 * connection could cut it off, so fence once more in the
		 * guard's blocking way (bounded by each timeout). */
		if (was_primary)
			res_fence_sync(&v->conf, v->self);
		res_set_close(v->res);
		v->res = NULL;
	}
	if (v->checks) {
		check_set_close(v->checks);
		v->checks = NULL;
	}
	check_set_close(v->checks_next);
	v->checks_next = NULL;
	if (v->notify) {
		notify_set_close(v->notify);
		v->notify = NULL;
	}
	close_sinks(v);
	if (v->guard) {
		guard_publish(v->guard, false, 0);
		guard_stop(v->guard);
		v->guard = NULL;
	}
	api_close(v->api);
	v->api = NULL;
	ctl_close(v->ctl);
	v->ctl = NULL;
	uv_walk(v->loop, close_all, NULL);
}

static void on_hup(uv_signal_t *s, int signum)
{
	struct voter *v = s->data;

	/* logrotate moved the file: write to a new one from now on. */
	if (v->evfile)
		evfile_reopen(v->evfile);
	reload_config(v);
}

/* ---- start-up --------------------------------------------------------- */

static int load_conf(struct voter *v, const char *path, struct hp_err *err)
{
	struct conf_errors errs;

	if (conf_load(path, &v->conf, &errs)) {
		for (int i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		return hp_errf(err, "%s: %d error(s); not starting", path,
			       errs.n);
	}
	if (conf_load_key(&v->conf, v->key, err))
		return -1;
	return 0;
}

/* Redis passwords kept in files (agents only: the witness has no
 * Redis).  Read before the guard forks, which fences with them too. */
/* Term, vote and epoch from disk; the epoch is raised and written back
 * before anything is sent, so our sequence numbers only grow. */
static int load_state(struct voter *v, struct hp_err *err)
{
	const struct conf_resource *data = conf_data_resource(&v->conf);
	struct statefile sf;

	if (statefile_mkdir(v->conf.state_dir, err) ||
	    statefile_mkdir(v->conf.run_dir, err))
		return -1;
	snprintf(v->state_path, sizeof(v->state_path), "%s/%s.state",
		 v->conf.state_dir, v->name);
	snprintf(v->sock_path, sizeof(v->sock_path), "%s/%s.sock",
		 v->conf.run_dir, v->name);
	if (statefile_load(v->state_path, &sf, err))
		return -1;
	if (v->witness)
		sf.paused = false;
	sf.epoch++;
	v->epoch = sf.epoch;
	if (statefile_save(v->state_path, &sf, err))
		return -1;
	elect_init(&v->st,
		   &(struct elect_conf){
			   .self = v->self,
			   .witness = v->witness,
			   .quorum_none = v->conf.quorum == QUORUM_NONE,
			   .heartbeat_ms = v->conf.heartbeat_ms,
			   .lease_ms = v->conf.lease_ms,
			   .drift_ppm = v->conf.drift_ppm,
			   .hold_down_ms = v->conf.hold_down_ms,
			   .priority = v->witness ? 0 :
				       v->conf.nodes[v->self - 1].priority,
			   .sync_mode = data && conf_data_replication(data) ==
						       REPL_SYNC,
			   .lag_bound = data && conf_data_max_lag(data) !=
							CONF_LAG_NONE,
			   .max_lag = data ? conf_data_max_lag(data) : 0,
			   .max_lag_ms = data ? conf_data_max_lag_ms(data) : 0,
			   .switchover_timeout_ms =
				   v->conf.switchover_timeout_ms,
		   },
		   sf.term, sf.voted_for, sf.synced);
	v->st.paused = sf.paused;
	v->st.pause_gen = sf.pause_gen;
	if (sf.paused)
		hp_log(LOG_WARN, "automatic failover is PAUSED (maintenance; "
		       "`hapair resume` ends it)");
	hp_log(LOG_INFO, "starting: cluster %s, term %" PRIu64 ", state %s",
	       v->conf.name, sf.term, v->state_path);
	return 0;
}

static int open_udp(struct voter *v, struct hp_err *err)
{
	const struct conf_endpoint *ep = endpoint(v, v->self);
	int rc;

	uv_udp_init(v->loop, &v->udp);
	v->udp.data = v;
	rc = uv_udp_bind(&v->udp, (const struct sockaddr *)&ep->sa, 0);
	if (rc)
		return hp_errf(err, "bind UDP %s port %u: %s (is the address "
			       "configured on this host, and the port free?)",
			       ep->host, ep->port, uv_strerror(rc));
	uv_udp_recv_start(&v->udp, on_alloc, on_recv);
	return 0;
}

static void init_handles(struct voter *v)
{
	uv_timer_init(v->loop, &v->timer);
	v->timer.data = v;
	uv_timer_init(v->loop, &v->health_timer);
	v->health_timer.data = v;
	uv_timer_init(v->loop, &v->res_kick);
	v->res_kick.data = v;
	uv_timer_init(v->loop, &v->stall_watch);
	v->stall_watch.data = v;
	uv_timer_start(&v->stall_watch, stall_tick, STALL_TICK_MS,
		       STALL_TICK_MS);
	uv_signal_init(v->loop, &v->sig_term);
	uv_signal_init(v->loop, &v->sig_int);
	uv_signal_init(v->loop, &v->sig_hup);
	v->sig_term.data = v->sig_int.data = v->sig_hup.data = v;
	uv_signal_start(&v->sig_term, on_stop_signal, SIGTERM);
	uv_signal_start(&v->sig_int, on_stop_signal, SIGINT);
	uv_signal_start(&v->sig_hup, on_hup, SIGHUP);
}

static int open_resources(struct voter *v, struct hp_err *err)
{
	if (res_set_open(v->loop, &v->conf, v->self, on_res_state,
			 on_res_event, v, &v->res, err))
		return -1;
	v->res_healthy = true;
	res_set_monitor_start(v->res);
	if (check_set_open(v->loop, &v->conf, on_check_flip, v, &v->checks,
			   err) ||
	    notify_set_open(v->loop, &v->conf, on_notify_fail, v, &v->notify,
			    err))
		return -1;
	check_set_start(v->checks);
	return 0;
}

/* The HTTP API, if the config has an [api] section (agents only). */
static int open_api(struct voter *v, struct hp_err *err)
{
	const struct conf_endpoint *ep = conf_api_listen(&v->conf, v->self);

	if (!ep)
		return 0;
	if (api_open(v, ep, &v->api, err))
		return -1;
	hp_log(LOG_INFO, "api: serving on %s port %u", ep->host,
	       (unsigned)ep->port);
	return 0;
}

static int run(struct voter *v, const char *conf_path, const char *node)
{
	struct hp_err err;
	const struct conf_node *n;

	if (load_conf(v, conf_path, &err))
		goto fail;
	if (!v->witness) {
		n = conf_node_by_name(&v->conf, node);
		if (!n) {
			hp_errf(&err, "%s: no [node %s]; nodes are %s and %s",
				conf_path, node, v->conf.nodes[0].name,
				v->conf.nodes[1].name);
			goto fail;
		}
		v->self = n->id;
		v->name = n->name;
		if (conf_load_secrets(&v->conf, &err))
			goto fail;
	} else if (!v->conf.has_witness) {
		hp_errf(&err, "%s: no [witness] section (quorum = none)",
			conf_path);
		goto fail;
	}
	log_init(v->name, LOG_INFO);
	v->conf_path = conf_path;
	if (!v->witness) {
		v->events = events_new(v->conf.name, v->name);
		if (!v->events) {
			hp_errf(&err, "out of memory");
			goto fail;
		}
	}
	if (load_state(v, &err))
		goto fail;
	/* The guard is forked before the loop exists: no threads yet. */
	if (!v->witness && guard_start(&v->conf, v->self, &v->guard, &err))
		goto fail;
	if (guard_realtime(AGENT_RT_PRIORITY, &err))
		hp_log(LOG_WARN, "%s", err.msg);
	v->loop = uv_default_loop();
	init_handles(v);
	if (open_udp(v, &err) ||
	    ctl_listen(v->loop, v->sock_path, ctl_handle, v, &v->ctl, &err))
		goto fail;
	/* Before EV_START: its ACT_DEMOTE goes to the resources. */
	if (!v->witness && (open_sinks(v, &err) || open_resources(v, &err) ||
			    open_api(v, &err)))
		goto fail;
	if (v->conf.quorum == QUORUM_NONE)
		hp_log(LOG_WARN, "quorum = none: a network partition can make "
		       "both nodes primary (split brain); use a witness");
	v->started_ms = mono_ms();
	simple_event(v, EV_START, false);
	if (v->events)
		events_add(v->events, EVK_AGENT, SEV_INFO, v->st.term,
			   "agent started (term %" PRIu64 "%s)", v->st.term,
			   v->st.paused ? ", automatic failover PAUSED" : "");
	/* A data store counts as unfit until its first answer. */
	if (v->res)
		res_sync(v);
	uv_run(v->loop, UV_RUN_DEFAULT);
	uv_loop_close(v->loop);
	events_free(v->events);
	v->events = NULL;
	hp_log(LOG_INFO, "stopped");
	return 0;
fail:
	if (v->guard)
		guard_stop(v->guard);
	hp_log(LOG_ERR, "%s", err.msg);
	return 1;
}

static void usage(FILE *f, const char *cmd)
{
	fprintf(f, "usage: hapair %s -c CONFIG%s\n"
		"  -c, --config FILE   cluster config (default "
		"/etc/hapair/hapair.conf)\n%s",
		cmd, strcmp(cmd, "agent") ? "" : " -n NODE",
		strcmp(cmd, "agent") ? "" :
		"  -n, --node NAME     which [node NAME] this server is\n");
}

static int parse_args(int argc, char **argv, const char *cmd,
		      const char **conf, const char **node)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "node", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*conf = "/etc/hapair/hapair.conf";
	*node = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			*conf = optarg;
			break;
		case 'n':
			*node = optarg;
			break;
		case 'h':
			usage(stdout, cmd);
			exit(0);
		default:
			usage(stderr, cmd);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hapair %s: unexpected argument \"%s\"\n", cmd,
			argv[optind]);
		return -1;
	}
	if (!strcmp(cmd, "agent") && !*node) {
		fprintf(stderr, "hapair agent: --node NAME is required (which "
			"[node NAME] of the config this server is)\n");
		return -1;
	}
	return 0;
}

static struct voter the_voter;

int agent_main(int argc, char **argv)
{
	const char *conf, *node;

	if (parse_args(argc, argv, "agent", &conf, &node))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	the_voter.name = node;
	return run(&the_voter, conf, node);
}

int witness_main(int argc, char **argv)
{
	const char *conf, *node;

	if (parse_args(argc, argv, "witness", &conf, &node))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	the_voter.witness = true;
	the_voter.self = ELECT_WITNESS_ID;
	the_voter.name = "witness";
	return run(&the_voter, conf, NULL);
}

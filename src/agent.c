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

#include "api.h"
#include "check.h"
#include "ctl.h"
#include "notify.h"
#include "guard.h"
#include "log.h"
#include "statefile.h"
#include "res.h"
#include "voter.h"

enum {
	AGENT_RT_PRIORITY = 10,
	HEALTH_RETRY_MS = 5000,	/* unfit after a failed promote, then retry */
	DROP_LOG_MS = 5000,	/* one line per drop reason per 5 s */
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
	bool healthy;

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
	v->res_healthy = s->healthy;
	/* Fit to be primary: resources answer, no failed promote pending,
	 * every [check] passes (DESIGN.md, Checks). */
	healthy = v->res_healthy && !v->unfit &&
		  (!v->checks || check_set_healthy(v->checks));
	if (healthy != v->st.healthy) {
		struct elect_event ev = { .type = EV_HEALTH, .flag = healthy };

		hp_log(healthy ? LOG_INFO : LOG_WARN, "node %s: %s",
		       healthy ? "healthy" : "unfit", v->unfit ?
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

static void remember_event(struct voter *v, const char *msg)
{
	snprintf(v->events[v->n_events % VOTER_EVENTS],
		 sizeof(v->events[0]), "%s", msg);
	v->n_events++;
}

static void on_res_event(struct res_set *set, const char *msg, void *data)
{
	struct voter *v = data;

	hp_log(LOG_WARN, "%s", msg);
	remember_event(v, msg);
}

/* A check flipped: log it, keep it for status, re-judge fitness. */
static void on_check_flip(struct check_set *set, const char *name,
			  bool healthy, const char *reason, void *data)
{
	struct voter *v = data;
	char msg[VOTER_EVENT_LEN];

	snprintf(msg, sizeof(msg), "check %s %s: %s", name,
		 healthy ? "passes" : "FAILS", reason);
	hp_log(healthy ? LOG_INFO : LOG_WARN, "%s", msg);
	remember_event(v, msg);
	if (v->stepping)
		uv_timer_start(&v->res_kick, res_kick_cb, 0, 0);
	else
		res_sync(v);
}

static void on_notify_fail(struct notify_set *set, const char *msg,
			   void *data)
{
	hp_log(LOG_WARN, "%s", msg);
	remember_event(data, msg);
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
		return;
	}
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
				.epoch = v->epoch };
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
		res_starting(v);
		res_set_promote(v->res, promote_done, v);
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
		hp_log(LOG_WARN, "%s", a->why == WHY_HOLD_DOWN ?
		       "checks fail but failover_hold_down is active: staying "
		       "primary until the hold-down ends" :
		       "heartbeat from a second leader in one term ignored");
		break;
	default:
		break;
	}
	return 0;
}

static void step(struct voter *v, struct elect_event *ev)
{
	struct elect next;
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
	v->st = next;
	arm_timer(v, acts.wake_at_ms);
	if (v->api)
		api_refresh(v->api);
}

static void simple_event(struct voter *v, enum elect_ev_type type, bool flag)
{
	struct elect_event ev = { .type = type, .flag = flag };

	step(v, &ev);
}

static void timer_cb(uv_timer_t *t)
{
	struct voter *v = t->data;

	/* The guard fenced while we were stopped or hung: the lease is
	 * gone whatever our state says. */
	if (v->guard && guard_fence_count(v->guard) != v->guard_fences_seen) {
		v->guard_fences_seen = guard_fence_count(v->guard);
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
}

/* ---- control socket ------------------------------------------------- */

static char *ctl_handle(void *data, const char *request)
{
	struct voter *v = data;

	if (strcmp(request, "status") == 0)
		return status_json(v, mono_ms());
	return NULL;
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
	if (was_primary)
		simple_event(v, EV_SWITCHOVER, false);
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
	if (v->notify) {
		notify_set_close(v->notify);
		v->notify = NULL;
	}
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
	hp_log(LOG_WARN, "SIGHUP: configuration reload is not supported by "
	       "this version; restart the agent to apply a new config");
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
static int load_passwords(struct voter *v, struct hp_err *err)
{
	for (int i = 0; i < v->conf.n_resources; i++) {
		struct conf_resource *r = &v->conf.resources[i];

		if (r->type == RES_REDIS &&
		    conf_load_redis_password(&r->redis, err))
			return -1;
	}
	return 0;
}

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
			   .sync_mode = data &&
					data->redis.replication == REPL_SYNC,
			   .max_lag = data ?
				      data->redis.max_lag_on_failover : 0,
		   },
		   sf.term, sf.voted_for, sf.synced);
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
		if (load_passwords(v, &err))
			goto fail;
	} else if (!v->conf.has_witness) {
		hp_errf(&err, "%s: no [witness] section (quorum = none)",
			conf_path);
		goto fail;
	}
	log_init(v->name, LOG_INFO);
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
	if (!v->witness && (open_resources(v, &err) || open_api(v, &err)))
		goto fail;
	if (v->conf.quorum == QUORUM_NONE)
		hp_log(LOG_WARN, "quorum = none: a network partition can make "
		       "both nodes primary (split brain); use a witness");
	v->started_ms = mono_ms();
	simple_event(v, EV_START, false);
	/* A data store counts as unfit until its first answer. */
	if (v->res)
		res_sync(v);
	uv_run(v->loop, UV_RUN_DEFAULT);
	uv_loop_close(v->loop);
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

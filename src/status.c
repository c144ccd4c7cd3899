/*
 * status.c - the status document an agent or witness serves on its
 * control socket (`hapair status --json` prints it as is).
 *
 * Everything a person needs at a glance: who is primary, in which term,
 * how long the lease has left, whether peer and witness are reachable,
 * whether a failover could happen right now and if not why, the last
 * role change and why, the resources (health, data position, the last
 * events such as data kept aside), and the counters of rejected
 * datagrams.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "guard.h"
#include "res.h"
#include "voter.h"

static uint64_t left(uint64_t until, uint64_t now)
{
	return until > now ? until - now : 0;
}

bool voter_reachable(const struct voter *v, uint8_t id, uint64_t now)
{
	uint64_t heard = v->st.heard_ms[id];

	return heard && now < heard + elect_promise_ms(&v->st.conf);
}

static void add_node(cJSON *parent, const char *key, const struct voter *v,
		     uint8_t id, uint64_t now)
{
	cJSON *o = cJSON_AddObjectToObject(parent, key);
	const struct conf_endpoint *ep = id == ELECT_WITNESS_ID ?
		&v->conf.witness : &v->conf.nodes[id - 1].ep;

	cJSON_AddStringToObject(o, "name", voter_node_name(v, id));
	cJSON_AddStringToObject(o, "address", ep->host);
	cJSON_AddBoolToObject(o, "reachable", voter_reachable(v, id, now));
	if (v->st.heard_ms[id])
		cJSON_AddNumberToObject(o, "last_heard_ms_ago",
					(double)(now - v->st.heard_ms[id]));
	else
		cJSON_AddNullToObject(o, "last_heard_ms_ago");
	if (id != ELECT_WITNESS_ID && !v->witness && id != v->self) {
		cJSON_AddStringToObject(o, "role",
					v->st.peer_seen ?
					elect_role_name(v->st.peer_role) :
					"unknown");
		cJSON_AddBoolToObject(o, "healthy", v->st.peer_healthy);
	}
}

/* Could this pair fail over right now?  NULL if yes, else why not. */
const char *voter_failover_blocker(const struct voter *v, uint64_t now)
{
	const struct elect *st = &v->st;
	uint8_t peer = v->self == 1 ? 2 : 1;

	if (st->paused)
		return "automatic failover is paused";
	if (st->role == ROLE_PRIMARY) {
		if (!voter_reachable(v, peer, now))
			return "the standby is not reachable";
		if (!st->peer_healthy)
			return "the standby's checks fail";
		if (v->conf.quorum == QUORUM_WITNESS &&
		    !voter_reachable(v, ELECT_WITNESS_ID, now))
			return "the witness is not reachable: if this node "
			       "fails, the standby cannot tell it from a "
			       "partition";
		return NULL;
	}
	if (!st->healthy)
		return "this node's checks fail";
	if (now < st->grace_until_ms)
		return "restart grace: no votes until lease*(1+drift) after "
		       "start";
	if (v->conf.quorum == QUORUM_WITNESS &&
	    !voter_reachable(v, ELECT_WITNESS_ID, now) &&
	    !voter_reachable(v, peer, now))
		return "neither the witness nor the peer is reachable: no "
		       "majority";
	if (st->leader && st->hb_sync_set &&
	    !(st->hb_sync_set & (1u << v->self)))
		return "the primary has this node recorded as not in sync "
		       "(replication link down or behind): the witness will "
		       "not vote for it until it has caught up";
	if (elect_too_far_behind(st))
		return "further behind the primary than max_lag_on_failover";
	if (!st->followed && !st->peer_seen)
		return "cold start: waiting to see the other node, or for the "
		       "witness's record that this node was in sync";
	return NULL;
}

static void add_counters(cJSON *root, const struct voter *v)
{
	cJSON *d = cJSON_AddObjectToObject(root, "rx_dropped");
	cJSON *c = cJSON_AddObjectToObject(root, "counters");

	for (int i = DROP_NONE + 1; i < DROP_MAX; i++)
		cJSON_AddNumberToObject(d, proto_drop_name(i),
					(double)v->rx_dropped[i]);
	cJSON_AddNumberToObject(c, "rx_ok", (double)v->rx_ok);
	cJSON_AddNumberToObject(c, "tx_ok", (double)v->tx_ok);
	cJSON_AddNumberToObject(c, "tx_errors", (double)v->tx_errors);
	cJSON_AddNumberToObject(c, "elections_won", (double)v->elections_won);
	cJSON_AddNumberToObject(c, "fences", (double)v->fences);
	cJSON_AddNumberToObject(c, "persist_errors",
				(double)v->persist_errors);
	cJSON_AddNumberToObject(c, "resource_errors",
				(double)v->resource_errors);
}

static void add_u64_or_null(cJSON *o, const char *key, bool has,
			    uint64_t value)
{
	if (has)
		cJSON_AddNumberToObject(o, key, (double)value);
	else
		cJSON_AddNullToObject(o, key);
}

/* The data store's own view (MariaDB): its GTID position and, on a
 * replica, the replication threads, seconds behind and the last
 * replication error. */
static void add_replica_threads(cJSON *o, const struct res_state *s)
{
	if (s->gtid[0])
		cJSON_AddStringToObject(o, "gtid", s->gtid);
	if (!s->has_replica_threads)
		return;
	cJSON_AddBoolToObject(o, "io_running", s->io_running);
	cJSON_AddBoolToObject(o, "sql_running", s->sql_running);
	if (s->seconds_behind >= 0)
		cJSON_AddNumberToObject(o, "seconds_behind",
					(double)s->seconds_behind);
	else
		cJSON_AddNullToObject(o, "seconds_behind");
	if (s->repl_error[0])
		cJSON_AddStringToObject(o, "replication_error",
					s->repl_error);
	else
		cJSON_AddNullToObject(o, "replication_error");
}

/* Replication as the election sees it: own position, the other side's,
 * lag in the data's units (Redis: bytes of replication offset), sync. */
static void add_replication(cJSON *root, const struct voter *v)
{
	const struct elect *st = &v->st;
	cJSON *o = cJSON_AddObjectToObject(root, "replication");
	bool primary = st->role == ROLE_PRIMARY, has_other, has_lag;
	uint64_t other, lag = 0;

	cJSON_AddStringToObject(o, "mode", st->conf.sync_mode ? "sync" :
				"async");
	add_u64_or_null(o, "position", st->has_position, st->position);
	if (primary) {
		has_other = st->peer_has_position && st->peer_ack_ms;
		other = st->peer_position;
	} else {
		has_other = st->has_primary_pos || st->has_committed;
		other = st->has_primary_pos ? st->primary_pos :
			st->committed_pos;
	}
	add_u64_or_null(o, primary ? "standby_position" : "primary_position",
			has_other, other);
	has_lag = has_other && st->has_position;
	if (has_lag)
		lag = primary ? (st->position > other ? st->position - other :
				 0) : (other > st->position ?
				       other - st->position : 0);
	add_u64_or_null(o, "lag", has_lag, lag);
	if (!primary && !st->conf.sync_mode && st->conf.max_lag_ms)
		add_u64_or_null(o, "lag_ms", elect_lag_ms(st) != UINT64_MAX,
				elect_lag_ms(st));
	if (primary) {
		cJSON_AddBoolToObject(o, "standby_in_sync", st->peer_in_sync);
		cJSON_AddBoolToObject(o, "sync_required", st->sync_required);
	} else {
		cJSON_AddBoolToObject(o, "in_sync", st->in_sync);
		cJSON_AddBoolToObject(o, "recorded_in_sync",
				      !st->hb_sync_set ||
				      (st->hb_sync_set & (1u << v->self)));
	}
	if (v->res)
		add_replica_threads(o, res_set_state(v->res));
}

static void add_switchover(cJSON *root, const struct voter *v)
{
	const struct elect *st = &v->st;
	cJSON *o = cJSON_AddObjectToObject(root, "switchover");

	cJSON_AddStringToObject(o, "state", st->switching ?
				(st->quiesced ? "waiting_for_standby" :
				 "stopping_writes") : v->sw.running ?
				"handing_over" : "idle");
	if (v->sw.result[0])
		cJSON_AddStringToObject(o, "last_result", v->sw.result);
	else
		cJSON_AddNullToObject(o, "last_result");
}

/* The aggregate resource state. */
static void add_resources(cJSON *root, const struct voter *v)
{
	const struct res_state *s = res_set_state(v->res);
	cJSON *o = cJSON_AddObjectToObject(root, "resources");

	cJSON_AddBoolToObject(o, "healthy", s->healthy);
	if (s->has_position)
		cJSON_AddNumberToObject(o, "position", (double)s->position);
	else
		cJSON_AddNullToObject(o, "position");
	cJSON_AddBoolToObject(o, "writable", s->writable);
	cJSON_AddBoolToObject(o, "link_up", s->link_up);
	cJSON_AddStringToObject(o, "detail", s->detail);
}

/* Every [check]: name, passing or not, why (the last result). */
static void add_checks(cJSON *root, const struct voter *v)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "checks");

	for (int i = 0; v->checks && i < check_set_count(v->checks); i++) {
		const char *name, *reason;
		bool healthy;
		cJSON *o;

		if (!check_set_get(v->checks, i, &name, &healthy, &reason))
			break;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddBoolToObject(o, "healthy", healthy);
		cJSON_AddStringToObject(o, "reason", reason ? reason : "");
		cJSON_AddItemToArray(arr, o);
	}
}

/* The peer's HTTP API, so the dashboard can ask it too. */
static void add_peer_api(cJSON *root, const struct voter *v)
{
	const struct conf_endpoint *ep = conf_api_listen(&v->conf,
		v->self == 1 ? 2 : 1);
	char url[128];

	/* A wildcard or loopback address is no use to a browser elsewhere. */
	if (!ep || !strcmp(ep->host, "0.0.0.0") || !strcmp(ep->host, "::") ||
	    !strncmp(ep->host, "127.", 4) || !strcmp(ep->host, "::1")) {
		cJSON_AddNullToObject(root, "peer_api");
		return;
	}
	snprintf(url, sizeof(url), strchr(ep->host, ':') ?
		 "http://[%s]:%u" : "http://%s:%u", ep->host,
		 (unsigned)ep->port);
	cJSON_AddStringToObject(root, "peer_api", url);
}

static void add_self(cJSON *root, const struct voter *v, uint64_t now)
{
	const struct elect *st = &v->st;
	uint8_t leader = st->role == ROLE_PRIMARY ? v->self : st->leader;
	cJSON *lc;

	cJSON_AddStringToObject(root, "node", v->name);
	cJSON_AddNumberToObject(root, "id", v->self);
	cJSON_AddStringToObject(root, "cluster", v->conf.name);
	cJSON_AddStringToObject(root, "role", elect_role_name(st->role));
	cJSON_AddNumberToObject(root, "term", (double)st->term);
	if (leader)
		cJSON_AddStringToObject(root, "primary",
					voter_node_name(v, leader));
	else
		cJSON_AddNullToObject(root, "primary");
	cJSON_AddNumberToObject(root, "lease_left_ms",
				st->role == ROLE_PRIMARY ?
				(double)left(st->lease_end_ms, now) : 0);
	cJSON_AddNumberToObject(root, "promise_left_ms",
				(double)left(st->promise_until_ms, now));
	cJSON_AddBoolToObject(root, "healthy", st->healthy);
	cJSON_AddBoolToObject(root, "paused", st->paused);
	cJSON_AddStringToObject(root, "quorum",
				v->conf.quorum == QUORUM_NONE ? "none" :
				"witness");
	lc = cJSON_AddObjectToObject(root, "last_change");
	cJSON_AddStringToObject(lc, "why", elect_why_name(st->last_why));
	cJSON_AddNumberToObject(lc, "ago_ms",
				(double)(now - st->last_change_ms));
	cJSON_AddNumberToObject(root, "uptime_ms",
				(double)(now - v->started_ms));
}

char *status_json(const struct voter *v, uint64_t now)
{
	cJSON *root = cJSON_CreateObject();
	const char *blocker;
	char *text, *out;
	size_t len;

	if (!root)
		return NULL;
	add_self(root, v, now);
	if (v->witness) {
		add_node(root, "node_1", v, 1, now);
		add_node(root, "node_2", v, 2, now);
		cJSON_AddNumberToObject(root, "synced", v->st.synced);
	} else {
		add_node(root, "peer", v, v->self == 1 ? 2 : 1, now);
		if (v->conf.has_witness)
			add_node(root, "witness", v, ELECT_WITNESS_ID, now);
		blocker = voter_failover_blocker(v, now);
		cJSON_AddBoolToObject(root, "failover_possible", !blocker);
		if (blocker)
			cJSON_AddStringToObject(root, "failover_blocked_by",
						blocker);
		else
			cJSON_AddNullToObject(root, "failover_blocked_by");
		if (v->res)
			add_resources(root, v);
		if (conf_data_resource(&v->conf))
			add_replication(root, v);
		else
			cJSON_AddNullToObject(root, "replication");
		add_switchover(root, v);
		add_peer_api(root, v);
		add_checks(root, v);
		if (v->guard) {
			cJSON *g = cJSON_AddObjectToObject(root, "guard");

			cJSON_AddNumberToObject(g, "pid", guard_pid(v->guard));
			cJSON_AddNumberToObject(g, "fences",
				(double)guard_fence_count(v->guard));
		}
	}
	add_counters(root, v);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text)
		return NULL;
	len = strlen(text);
	out = malloc(len + 2);
	if (out) {
		memcpy(out, text, len);
		memcpy(out + len, "\n", 2);
	}
	cJSON_free(text);
	return out;
}

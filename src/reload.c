/*
 * reload.c - configuration reload on SIGHUP (see reload.h).
 */
#define _GNU_SOURCE
#include "reload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "voter.h"

#define SAME(a, b) (memcmp(&(a), &(b), sizeof(a)) == 0)

/* What only a restart can change; NULL if none of it changed. */
static const char *restart_only(const struct conf *a, const struct conf *b)
{
	if (strcmp(a->name, b->name) || strcmp(a->key_file, b->key_file))
		return "[cluster] name or key_file";
	if (a->heartbeat_ms != b->heartbeat_ms || a->lease_ms != b->lease_ms ||
	    a->drift_ppm != b->drift_ppm)
		return "[cluster] heartbeat_interval, lease or drift (restart "
		       "both agents and the witness with the same values)";
	if (a->quorum != b->quorum || a->has_witness != b->has_witness ||
	    !SAME(a->witness, b->witness))
		return "[cluster] quorum or [witness]";
	if (strcmp(a->state_dir, b->state_dir) ||
	    strcmp(a->run_dir, b->run_dir))
		return "[cluster] state_dir or run_dir";
	for (int i = 0; i < CONF_NODES; i++)
		if (strcmp(a->nodes[i].name, b->nodes[i].name) ||
		    !SAME(a->nodes[i].ep, b->nodes[i].ep))
			return "a [node] name, address or port";
	if (a->n_resources != b->n_resources ||
	    memcmp(a->resources, b->resources,
		   sizeof(a->resources[0]) * (size_t)a->n_resources))
		return "a [resource] section";
	if (a->api.enabled != b->api.enabled ||
	    !SAME(a->api.listen, b->api.listen) ||
	    !SAME(a->api.node_listen, b->api.node_listen))
		return "[api] listen";
	return NULL;
}

static void add(char *buf, size_t size, const char *what)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, "%s%s", len ? ", " : "", what);
}

/* What changed that the agent applies live (names into buf). */
static unsigned live_changes(const struct conf *a, const struct conf *b,
			     char *buf, size_t size)
{
	unsigned what = 0;

	buf[0] = '\0';
	if (a->n_checks != b->n_checks ||
	    memcmp(a->checks, b->checks, sizeof(a->checks))) {
		what |= RELOAD_CHECKS;
		add(buf, size, "checks");
	}
	if (a->n_notify != b->n_notify ||
	    memcmp(a->notify, b->notify, sizeof(a->notify))) {
		what |= RELOAD_NOTIFY;
		add(buf, size, "notify");
	}
	if (a->n_alerts != b->n_alerts ||
	    memcmp(a->alerts, b->alerts, sizeof(a->alerts)) ||
	    !SAME(a->events, b->events)) {
		what |= RELOAD_ALERTS;
		add(buf, size, "alerts and events");
	}
	if (strcmp(a->api.token, b->api.token) ||
	    strcmp(a->api.token_file, b->api.token_file)) {
		what |= RELOAD_TOKEN;
		add(buf, size, "api token");
	}
	if (a->hold_down_ms != b->hold_down_ms ||
	    a->switchover_timeout_ms != b->switchover_timeout_ms ||
	    a->nodes[0].priority != b->nodes[0].priority ||
	    a->nodes[1].priority != b->nodes[1].priority) {
		what |= RELOAD_TIMERS;
		add(buf, size, "priority, failover_hold_down or "
		    "switchover_timeout");
	}
	return what;
}

void reload_config(struct voter *v)
{
	struct conf *next = calloc(1, sizeof(*next));
	struct conf_errors *errs = calloc(1, sizeof(*errs));
	const char *why;
	struct hp_err err;
	char changed[256];
	unsigned what;

	if (!next || !errs) {
		hp_log(LOG_ERR, "SIGHUP: out of memory; configuration not "
		       "reloaded");
		goto out;
	}
	if (v->witness) {
		hp_log(LOG_INFO, "SIGHUP: the witness has nothing to reload "
		       "(its settings need a restart)");
		goto out;
	}
	if (conf_load(v->conf_path, next, errs)) {
		for (int i = 0; i < errs->n; i++)
			hp_log(LOG_ERR, "%s", errs->msg[i]);
		events_add(v->events, EVK_CONFIG, SEV_WARNING, v->st.term,
			   "reload refused: %d error(s) in %s (first: %s); "
			   "still running the previous configuration",
			   errs->n, v->conf_path, errs->msg[0]);
		goto out;
	}
	if (conf_load_secrets(next, &err)) {
		events_add(v->events, EVK_CONFIG, SEV_WARNING, v->st.term,
			   "reload refused: %s; still running the previous "
			   "configuration", err.msg);
		goto out;
	}
	why = restart_only(&v->conf, next);
	if (why) {
		events_add(v->events, EVK_CONFIG, SEV_WARNING, v->st.term,
			   "reload refused: %s changed, which needs a "
			   "restart; nothing applied, still running the "
			   "previous configuration", why);
		goto out;
	}
	what = live_changes(&v->conf, next, changed, sizeof(changed));
	if (!what) {
		events_add(v->events, EVK_CONFIG, SEV_INFO, v->st.term,
			   "configuration reloaded from %s: nothing changed",
			   v->conf_path);
		goto out;
	}
	if (voter_apply_conf(v, next, what, &err)) {
		events_add(v->events, EVK_CONFIG, SEV_WARNING, v->st.term,
			   "reload of %s failed while applying it: %s",
			   v->conf_path, err.msg);
		goto out;
	}
	events_add(v->events, EVK_CONFIG, SEV_INFO, v->st.term,
		   "configuration reloaded from %s: applied %s",
		   v->conf_path, changed);
out:
	free(next);
	free(errs);
}

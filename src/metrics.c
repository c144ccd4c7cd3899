/*
 * metrics.c - the agent's Prometheus metrics (text exposition format
 * 0.0.4), served by api.c at GET /metrics.
 *
 * Built from the same struct voter as the status document, on the loop:
 * role (one series per role, 1 for the current one), term, lease left,
 * whether peer and witness are heard, fitness, the datagram counters
 * (dropped ones by reason, as STYLE.md asks), elections, fences,
 * resource errors, the data position and replication link, and each
 * check; heartbeat round trips and resource action durations as
 * histograms, failovers, switchovers, the phases of the last failover,
 * replication lag and sync state, events by kind and alert deliveries.
 * The full list is docs/metrics.md.  Every family has its # HELP and
 * # TYPE lines; names and label values follow the Prometheus rules
 * (names [a-zA-Z_:][a-zA-Z0-9_:]*, label values escaped).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "check.h"
#include "guard.h"
#include "res.h"
#include "voter.h"

/* An open_memstream buffer; a failed write only makes the text short,
 * and metrics_text() then answers NULL. */
struct out {
	FILE *f;
};

static void family(struct out *o, const char *name, const char *type,
		   const char *help)
{
	fprintf(o->f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct out *o, const char *name, uint64_t value)
{
	fprintf(o->f, "%s %" PRIu64 "\n", name, value);
}

/* A label value with '\', '"' and newline escaped. */
static void label_value(struct out *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(o->f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", o->f);
		else
			fputc(*s, o->f);
	}
}

/* The same escaping into a buffer (truncated to fit). */
static void label_escape(char *dst, size_t size, const char *s)
{
	size_t n = 0;

	for (; *s && n + 3 < size; s++) {
		if (*s == '\\' || *s == '"')
			dst[n++] = '\\';
		if (*s == '\n') {
			dst[n++] = '\\';
			dst[n++] = 'n';
			continue;
		}
		dst[n++] = *s;
	}
	dst[n] = '\0';
}

static void labelled(struct out *o, const char *name, const char *label,
		     const char *value, uint64_t n)
{
	fprintf(o->f, "%s{%s=\"", name, label);
	label_value(o, value);
	fprintf(o->f, "\"} %" PRIu64 "\n", n);
}

static void add_state(struct out *o, const struct voter *v, uint64_t now)
{
	const struct elect *st = &v->st;
	uint8_t peer = v->self == 1 ? 2 : 1;
	uint64_t left = st->role == ROLE_PRIMARY && st->lease_end_ms > now ?
			st->lease_end_ms - now : 0;

	family(o, "hapair_role", "gauge",
	       "Role of this node: 1 for the current role, 0 for the others.");
	for (int r = 0; r < ROLE_MAX; r++)
		labelled(o, "hapair_role", "role", elect_role_name(r),
			 st->role == (enum elect_role)r);
	family(o, "hapair_term", "gauge", "Current election term.");
	sample(o, "hapair_term", st->term);
	family(o, "hapair_lease_remaining_seconds", "gauge",
	       "Time left on this node's primary lease (0 unless primary).");
	fprintf(o->f, "hapair_lease_remaining_seconds %" PRIu64 ".%03u\n",
		left / 1000, (unsigned)(left % 1000));
	family(o, "hapair_peer_reachable", "gauge",
	       "1 if the other node was heard within the lease promise.");
	sample(o, "hapair_peer_reachable", voter_reachable(v, peer, now));
	if (v->conf.has_witness) {
		family(o, "hapair_witness_reachable", "gauge",
		       "1 if the witness was heard within the lease promise.");
		sample(o, "hapair_witness_reachable",
		       voter_reachable(v, ELECT_WITNESS_ID, now));
	}
	family(o, "hapair_healthy", "gauge",
	       "1 if this node is fit to be primary (resources and checks).");
	sample(o, "hapair_healthy", st->healthy);
	family(o, "hapair_paused", "gauge",
	       "1 while automatic failover is paused (maintenance).");
	sample(o, "hapair_paused", st->paused);
	family(o, "hapair_failover_possible", "gauge",
	       "1 if the pair could fail over right now (see status).");
	sample(o, "hapair_failover_possible",
	       voter_failover_blocker(v, now) == NULL);
}

/* A histogram from non-cumulative buckets with bounds in `unit`s
 * (seconds = value / scale).  labels: "" or 'name="value",'. */
static void histogram(struct out *o, const char *name, const char *labels,
		      const uint64_t *bucket, const uint32_t *bounds, int n,
		      uint64_t count, uint64_t sum, double scale)
{
	uint64_t cum = 0;

	for (int i = 0; i < n; i++) {
		cum += bucket[i];
		if (bounds[i] == UINT32_MAX)
			fprintf(o->f, "%s_bucket{%sle=\"+Inf\"} %" PRIu64 "\n",
				name, labels, cum);
		else
			fprintf(o->f, "%s_bucket{%sle=\"%g\"} %" PRIu64 "\n",
				name, labels, bounds[i] / scale, cum);
	}
	if (labels[0]) {
		/* 'k="v",' -> '{k="v"}' */
		fprintf(o->f, "%s_sum{%.*s} %.6f\n", name,
			(int)strlen(labels) - 1, labels, sum / 1e6);
		fprintf(o->f, "%s_count{%.*s} %" PRIu64 "\n", name,
			(int)strlen(labels) - 1, labels, count);
	} else {
		fprintf(o->f, "%s_sum %.6f\n", name, sum / 1e6);
		fprintf(o->f, "%s_count %" PRIu64 "\n", name, count);
	}
}

static void add_timings(struct out *o, const struct voter *v)
{
	static const char *const sw_result[] = { "done", "aborted",
						 "refused" };
	char labels[200], esc[140];

	family(o, "hapair_heartbeat_rtt_seconds", "histogram",
	       "Heartbeat to acknowledgement round trip (primary).");
	histogram(o, "hapair_heartbeat_rtt_seconds", "", v->rtt_bucket,
		  voter_rtt_bounds_us, RTT_BUCKETS, v->rtt_count,
		  v->rtt_sum_us, 1e6);
	family(o, "hapair_failovers_total", "counter",
	       "Times this node became primary replacing a failed primary.");
	sample(o, "hapair_failovers_total", v->failovers);
	family(o, "hapair_switchovers_total", "counter",
	       "Planned switchovers requested on this node, by result.");
	for (int i = 0; i < 3; i++)
		labelled(o, "hapair_switchovers_total", "result", sw_result[i],
			 v->switchovers[i]);
	family(o, "hapair_last_failover_phase_seconds", "gauge",
	       "Phases of the last failover or switchover this node took "
	       "over in.");
	for (int p = 0; p < PHASE_MAX; p++)
		fprintf(o->f, "hapair_last_failover_phase_seconds{phase=\"%s\"}"
			" %.3f\n", events_phase_name(p),
			v->last_phase_ms[p] / 1e3);
	family(o, "hapair_last_failover_timestamp_seconds", "gauge",
	       "Wall-clock time of that failover (0: none yet).");
	fprintf(o->f, "hapair_last_failover_timestamp_seconds %.3f\n",
		v->last_failover_wall_ms / 1e3);
	if (!res_set_count(v->res))
		return;
	family(o, "hapair_resource_action_seconds", "histogram",
	       "Duration of resource actions (promote, demote, quiesce).");
	for (int i = 0; i < res_set_count(v->res); i++) {
		bool data;
		const char *name = res_set_name(v->res, i, &data);

		label_escape(esc, sizeof(esc), name);
		for (int a = 0; a < RES_ACT_MAX; a++) {
			const struct res_action_stats *s =
				res_set_stats(v->res, i, a);
			uint32_t bounds_us[RES_STAT_BUCKETS];

			for (int b = 0; b < RES_STAT_BUCKETS; b++)
				bounds_us[b] = res_stat_bounds_ms[b] ==
					UINT32_MAX ? UINT32_MAX :
					res_stat_bounds_ms[b] * 1000;
			snprintf(labels, sizeof(labels),
				 "resource=\"%s\",action=\"%s\",", esc,
				 res_action_name(a));
			histogram(o, "hapair_resource_action_seconds", labels,
				  s->bucket, bounds_us, RES_STAT_BUCKETS,
				  s->count, s->sum_us, 1e6);
		}
	}
}

static void add_events(struct out *o, const struct voter *v)
{
	struct alert_stats as;

	family(o, "hapair_events_total", "counter",
	       "Events recorded, by kind (see hapair events).");
	for (int k = 0; k < EVK_MAX; k++)
		labelled(o, "hapair_events_total", "kind", events_kind_name(k),
			 events_total(v->events, k));
	if (!v->alerts || !alert_set_count(v->alerts))
		return;
	family(o, "hapair_alerts_sent_total", "counter",
	       "Webhook deliveries that succeeded.");
	for (int i = 0; i < alert_set_count(v->alerts); i++) {
		alert_set_stats(v->alerts, i, &as);
		labelled(o, "hapair_alerts_sent_total", "alert", as.name,
			 as.sent);
	}
	family(o, "hapair_alerts_failed_total", "counter",
	       "Webhook deliveries given up after every retry.");
	for (int i = 0; i < alert_set_count(v->alerts); i++) {
		alert_set_stats(v->alerts, i, &as);
		labelled(o, "hapair_alerts_failed_total", "alert", as.name,
			 as.failed);
	}
	family(o, "hapair_alerts_dropped_total", "counter",
	       "Webhook deliveries dropped from a full queue.");
	for (int i = 0; i < alert_set_count(v->alerts); i++) {
		alert_set_stats(v->alerts, i, &as);
		labelled(o, "hapair_alerts_dropped_total", "alert", as.name,
			 as.dropped);
	}
}

static void add_counters(struct out *o, const struct voter *v)
{
	family(o, "hapair_rx_dropped_total", "counter",
	       "Datagrams dropped, by reason.");
	for (int i = DROP_NONE + 1; i < DROP_MAX; i++)
		labelled(o, "hapair_rx_dropped_total", "reason",
			 proto_drop_name(i), v->rx_dropped[i]);
	family(o, "hapair_rx_messages_total", "counter",
	       "Datagrams accepted (tag, cluster and sequence valid).");
	sample(o, "hapair_rx_messages_total", v->rx_ok);
	family(o, "hapair_tx_messages_total", "counter", "Datagrams sent.");
	sample(o, "hapair_tx_messages_total", v->tx_ok);
	family(o, "hapair_tx_errors_total", "counter",
	       "Datagrams that could not be sent.");
	sample(o, "hapair_tx_errors_total", v->tx_errors);
	family(o, "hapair_elections_won_total", "counter",
	       "Times this node became primary.");
	sample(o, "hapair_elections_won_total", v->elections_won);
	family(o, "hapair_fences_total", "counter",
	       "Times this node fenced itself (VIPs removed, writes stopped).");
	sample(o, "hapair_fences_total", v->fences);
	family(o, "hapair_guard_fences_total", "counter",
	       "Times the guard process fenced after a missed lease deadline.");
	sample(o, "hapair_guard_fences_total",
	       v->guard ? guard_fence_count(v->guard) : 0);
	family(o, "hapair_resource_errors_total", "counter",
	       "Failed promote or demote actions.");
	sample(o, "hapair_resource_errors_total", v->resource_errors);
}

/* Lag as status.c computes it: the primary's own position minus the
 * standby's acknowledged one, or the primary's last known position
 * minus this standby's. */
static void add_replication(struct out *o, const struct voter *v)
{
	const struct elect *st = &v->st;
	bool primary = st->role == ROLE_PRIMARY;
	uint64_t other = primary ? st->peer_position :
			 st->has_primary_pos ? st->primary_pos :
			 st->committed_pos;
	bool has = st->has_position &&
		   (primary ? st->peer_has_position && st->peer_ack_ms :
		    st->has_primary_pos || st->has_committed);
	uint64_t lag = !has ? 0 : primary ?
		(st->position > other ? st->position - other : 0) :
		(other > st->position ? other - st->position : 0);

	if (has) {
		family(o, "hapair_replication_lag_bytes", "gauge",
		       "Replication lag between the pair, in the data's "
		       "position units (Redis: bytes of offset).");
		sample(o, "hapair_replication_lag_bytes", lag);
	}
	family(o, "hapair_replica_in_sync", "gauge",
	       "Primary: the standby reports its replication link up.");
	sample(o, "hapair_replica_in_sync", primary && st->peer_in_sync);
	if (!st->conf.sync_mode)
		return;
	family(o, "hapair_sync_required", "gauge",
	       "Primary in sync mode: 1 while writes need the standby.");
	sample(o, "hapair_sync_required", primary && st->sync_required);
}

/* A replica's replication threads (MariaDB). */
static void add_replica_threads(struct out *o, const struct res_state *s)
{
	family(o, "hapair_replica_io_running", "gauge",
	       "1 if the replica's IO thread (receiving the primary's "
	       "binlog) runs.");
	sample(o, "hapair_replica_io_running", s->io_running);
	family(o, "hapair_replica_sql_running", "gauge",
	       "1 if the replica's SQL thread (applying it) runs.");
	sample(o, "hapair_replica_sql_running", s->sql_running);
	if (s->seconds_behind < 0)
		return;
	family(o, "hapair_replica_seconds_behind", "gauge",
	       "Seconds_Behind_Master of the replica (only when known).");
	sample(o, "hapair_replica_seconds_behind",
	       (uint64_t)s->seconds_behind);
}

static void add_resources(struct out *o, const struct voter *v)
{
	const struct res_state *s;
	const char *name, *reason;
	bool healthy;

	if (v->res) {
		s = res_set_state(v->res);
		if (s->has_position) {
			family(o, "hapair_replication_position", "gauge",
			       "Data position of the data resource (Redis: "
			       "replication offset).");
			sample(o, "hapair_replication_position", s->position);
		}
		family(o, "hapair_replication_link_up", "gauge",
		       "1 if this node's replication link to the primary is "
		       "up.");
		sample(o, "hapair_replication_link_up", s->link_up);
		if (s->has_replica_threads)
			add_replica_threads(o, s);
	}
	if (conf_data_resource(&v->conf))
		add_replication(o, v);
	if (!v->checks || !check_set_count(v->checks))
		return;
	family(o, "hapair_check_healthy", "gauge",
	       "1 if the health check passes.");
	for (int i = 0; i < check_set_count(v->checks); i++)
		if (check_set_get(v->checks, i, &name, &healthy, &reason))
			labelled(o, "hapair_check_healthy", "check", name,
				 healthy);
}

char *metrics_text(const struct voter *v, uint64_t now_ms)
{
	struct out o;
	char *buf = NULL;
	size_t len = 0;
	bool bad;

	o.f = open_memstream(&buf, &len);
	if (!o.f)
		return NULL;
	add_state(&o, v, now_ms);
	add_counters(&o, v);
	add_timings(&o, v);
	add_events(&o, v);
	add_resources(&o, v);
	bad = ferror(o.f);
	if (fclose(o.f) || bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

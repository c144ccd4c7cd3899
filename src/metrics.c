/*
 * metrics.c - the agent's Prometheus metrics (text exposition format
 * 0.0.4), served by api.c at GET /metrics.
 *
 * Built from the same struct voter as the status document, on the loop:
 * role (one series per role, 1 for the current one), term, lease left,
 * whether peer and witness are heard, fitness, the datagram counters
 * (dropped ones by reason, as STYLE.md asks), elections, fences,
 * resource errors, the data position and replication link, and each
 * check.  Every family has its # HELP and # TYPE lines; names and label
 * values follow the Prometheus rules (names [a-zA-Z_:][a-zA-Z0-9_:]*,
 * label values escaped).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	family(o, "hapair_witness_reachable", "gauge",
	       "1 if the witness was heard within the lease promise.");
	sample(o, "hapair_witness_reachable",
	       v->conf.has_witness && voter_reachable(v, ELECT_WITNESS_ID,
						      now));
	family(o, "hapair_healthy", "gauge",
	       "1 if this node is fit to be primary (resources and checks).");
	sample(o, "hapair_healthy", st->healthy);
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
	}
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
	add_resources(&o, v);
	bad = ferror(o.f);
	if (fclose(o.f) || bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * conf_cluster.c - the [cluster], [node NAME] and [witness] sections of
 * the config file: their key tables and setters, their defaults, and the
 * check pass over them once the whole file is read (required keys,
 * exactly two nodes, lease against heartbeat, the witness quorum =
 * witness needs, distinct endpoints).  PURE: libc and libsodium (the
 * cluster id) only.
 */
#define _POSIX_C_SOURCE 200809L

#include "conf_int.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include "proto.h"

enum {
	HEARTBEAT_MIN_MS = 5,
	DRIFT_MAX_PPM = 200000,		/* 20% */
	PRIORITY_MAX = 255,
};

/* An IPv4 or IPv6 literal into ep->host and ep->sa; the port is added
 * by the check pass, since a port key may follow the address. */
static const char *set_endpoint_host(struct conf_endpoint *ep, const char *v)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&ep->sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ep->sa;

	memset(&ep->sa, 0, sizeof(ep->sa));
	ep->sa_len = 0;
	if (strlen(v) >= sizeof(ep->host))
		return "IPv4 or IPv6";
	if (inet_pton(AF_INET, v, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		ep->sa_len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, v, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		ep->sa_len = sizeof(*sin6);
	} else {
		return "IPv4 or IPv6";
	}
	conf_set_str(ep->host, sizeof(ep->host), v);
	return NULL;
}

/* [cluster] */

static const char *cluster_name(struct parser *p, const char *v)
{
	if (!conf_valid_name(v))
		return "a name of 1 to 63 letters, digits, '_' or '-'";
	conf_set_str(p->c->name, sizeof(p->c->name), v);
	return NULL;
}

static const char *cluster_key_file(struct parser *p, const char *v)
{
	return conf_set_path(p->c->key_file, v);
}

static const char *cluster_heartbeat(struct parser *p, const char *v)
{
	uint32_t ms;

	if (conf_parse_duration_ms(v, &ms) || ms < HEARTBEAT_MIN_MS)
		return "a duration of at least 5ms, such as 100ms";
	p->c->heartbeat_ms = ms;
	conf_escape(p->heartbeat_text, sizeof(p->heartbeat_text), v);
	return NULL;
}

static const char *cluster_lease(struct parser *p, const char *v)
{
	if (conf_parse_duration_ms(v, &p->c->lease_ms))
		return "a duration with a unit, such as 700ms or 1s";
	conf_escape(p->lease_text, sizeof(p->lease_text), v);
	return NULL;
}

static const char *cluster_drift(struct parser *p, const char *v)
{
	uint32_t ppm;

	if (conf_parse_percent_ppm(v, &ppm) || ppm > DRIFT_MAX_PPM)
		return "a percentage from 0% to 20%, such as 1% or 0.5%";
	p->c->drift_ppm = ppm;
	return NULL;
}

static const char *cluster_quorum(struct parser *p, const char *v)
{
	if (!strcmp(v, "witness"))
		p->c->quorum = QUORUM_WITNESS;
	else if (!strcmp(v, "none"))
		p->c->quorum = QUORUM_NONE;
	else
		return "witness or none";
	return NULL;
}

static const char *cluster_hold_down(struct parser *p, const char *v)
{
	if (conf_parse_duration_ms(v, &p->c->hold_down_ms))
		return "a duration with a unit, such as 60s or 5m";
	return NULL;
}

static const char *cluster_switchover_timeout(struct parser *p,
					      const char *v)
{
	uint32_t ms;

	if (conf_parse_duration_ms(v, &ms) || ms < 100 || ms > 600000)
		return "a duration from 100ms to 10m, such as 10s";
	p->c->switchover_timeout_ms = ms;
	return NULL;
}

static const char *cluster_state_dir(struct parser *p, const char *v)
{
	return conf_set_path(p->c->state_dir, v);
}

static const char *cluster_run_dir(struct parser *p, const char *v)
{
	return conf_set_path(p->c->run_dir, v);
}

enum { CK_NAME, CK_KEY_FILE, CK_HEARTBEAT, CK_LEASE, CK_DRIFT, CK_QUORUM };

const struct key conf_cluster_keys[] = {
	[CK_NAME] = { "name", cluster_name, true },
	[CK_KEY_FILE] = { "key_file", cluster_key_file, true },
	[CK_HEARTBEAT] = { "heartbeat_interval", cluster_heartbeat, false },
	[CK_LEASE] = { "lease", cluster_lease, false },
	[CK_DRIFT] = { "drift", cluster_drift, false },
	[CK_QUORUM] = { "quorum", cluster_quorum, false },
	{ "failover_hold_down", cluster_hold_down, false },
	{ "switchover_timeout", cluster_switchover_timeout, false },
	{ "state_dir", cluster_state_dir, false },
	{ "run_dir", cluster_run_dir, false },
	{ NULL, NULL, false },
};

/* [node NAME] and [witness] */

static const char *node_address(struct parser *p, const char *v)
{
	return set_endpoint_host(&p->c->nodes[p->idx].ep, v);
}

static const char *node_port(struct parser *p, const char *v)
{
	return conf_set_port(&p->c->nodes[p->idx].ep.port, v);
}

static const char *node_priority(struct parser *p, const char *v)
{
	if (conf_parse_uint(v, PRIORITY_MAX, &p->c->nodes[p->idx].priority))
		return "an integer from 0 to 255";
	return NULL;
}

static const char *witness_address(struct parser *p, const char *v)
{
	return set_endpoint_host(&p->c->witness, v);
}

static const char *witness_port(struct parser *p, const char *v)
{
	return conf_set_port(&p->c->witness.port, v);
}

enum { NK_ADDRESS };

static const struct key node_keys[] = {
	[NK_ADDRESS] = { "address", node_address, true },
	{ "port", node_port, false },
	{ "priority", node_priority, false },
	{ NULL, NULL, false },
};

/* The address is required only with quorum = witness: see check_witness. */
const struct key conf_witness_keys[] = {
	[NK_ADDRESS] = { "address", witness_address, false },
	{ "port", witness_port, false },
	{ NULL, NULL, false },
};

/* Before the first key: zeroed by the caller, the rest set here. */
void conf_cluster_defaults(struct conf *c)
{
	int i;

	c->heartbeat_ms = 100;
	c->lease_ms = 700;
	c->drift_ppm = 10000;
	c->quorum = QUORUM_WITNESS;
	c->hold_down_ms = 60000;
	c->switchover_timeout_ms = 10000;
	conf_set_str(c->state_dir, sizeof(c->state_dir), "/var/lib/hapair");
	conf_set_str(c->run_dir, sizeof(c->run_dir), "/run/hapair");
	for (i = 0; i < CONF_NODES; i++) {
		c->nodes[i].id = (uint8_t)(i + 1);
		c->nodes[i].ep.port = PROTO_DEFAULT_PORT;
		c->nodes[i].priority = 100;
	}
	c->witness.port = PROTO_DEFAULT_PORT;
}

void conf_open_node(struct parser *p, const char *name, const char *label)
{
	struct conf_node *n;
	int i;

	for (i = 0; i < p->n_node_sections && i < CONF_NODES; i++) {
		if (!strcmp(p->c->nodes[i].name, name)) {
			conf_errf(p, p->line, "%s: duplicate node name (first "
				  "on line %d)", label, p->node[i].line);
			return;
		}
	}
	if (++p->n_node_sections > CONF_NODES) {
		conf_errf(p, p->line, "%s: expected exactly two [node NAME] "
			  "sections; this is node %d", label,
			  p->n_node_sections);
		return;
	}
	if (!conf_valid_name(name))
		conf_errf(p, p->line, "%s: expected a node name of 1 to 63 "
			  "letters, digits, '_' or '-'", label);
	p->idx = p->n_node_sections - 1;
	n = &p->c->nodes[p->idx];
	conf_set_str(n->name, sizeof(n->name), name);
	p->kind = K_NODE;
	p->keys = node_keys;
	p->sect = &p->node[p->idx];
}

/* Check pass. */

static void check_cluster(struct parser *p)
{
	struct conf *c = p->c;
	const struct sect *s = &p->cluster;

	if (!s->line) {
		conf_errf(p, 0, "missing [cluster] section; expected one with "
			  "at least name and key_file");
		return;
	}
	conf_check_required(p, s, conf_cluster_keys);
	if (c->name[0])
		c->cluster_id = proto_cluster_id(c->name);
	/* A lease shorter than two heartbeats expires on one lost datagram.
	 * A key that failed to parse has been reported already. */
	if (c->lease_ms > 2 * (uint64_t)c->heartbeat_ms ||
	    (s->key_line[CK_LEASE] && !p->lease_text[0]) ||
	    (s->key_line[CK_HEARTBEAT] && !p->heartbeat_text[0]))
		return;
	if (s->key_line[CK_LEASE])
		conf_errf(p, s->key_line[CK_LEASE], "%s lease: expected more "
			  "than 2 * heartbeat_interval (%" PRIu32 "ms), got "
			  "\"%s\"", s->label, 2 * c->heartbeat_ms,
			  p->lease_text);
	else if (s->key_line[CK_HEARTBEAT])
		conf_errf(p, s->key_line[CK_HEARTBEAT],
			  "%s heartbeat_interval: expected less than half the "
			  "lease (%" PRIu32 "ms), got \"%s\"", s->label,
			  c->lease_ms, p->heartbeat_text);
}

static void fill_sockaddr(struct conf_endpoint *ep)
{
	if (ep->sa.ss_family == AF_INET)
		((struct sockaddr_in *)&ep->sa)->sin_port = htons(ep->port);
	else if (ep->sa.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ep->sa)->sin6_port = htons(ep->port);
}

static bool same_endpoint(const struct conf_endpoint *a,
			  const struct conf_endpoint *b)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&a->sa;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)&b->sa;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&a->sa;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)&b->sa;

	if (!a->sa_len || a->sa.ss_family != b->sa.ss_family ||
	    a->port != b->port)
		return false;
	if (a->sa.ss_family == AF_INET)
		return !memcmp(&a4->sin_addr, &b4->sin_addr,
			       sizeof(a4->sin_addr));
	return !memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr));
}

static void check_nodes(struct parser *p)
{
	struct conf_node *n = p->c->nodes;
	int i, have = p->n_node_sections;

	if (have < CONF_NODES)
		conf_errf(p, 0, "expected exactly two [node NAME] sections, "
			  "found %d", have);
	for (i = 0; i < have && i < CONF_NODES; i++) {
		conf_check_required(p, &p->node[i], node_keys);
		fill_sockaddr(&n[i].ep);
	}
	if (have >= CONF_NODES && same_endpoint(&n[0].ep, &n[1].ep))
		conf_errf(p, p->node[1].key_line[NK_ADDRESS], "%s address: "
			  "expected an address and port other than node %s's, "
			  "got \"%s\" port %u", p->node[1].label, n[0].name,
			  n[1].ep.host, (unsigned)n[1].ep.port);
}

/* With quorum = none the witness is not used, so a [witness] section
 * is read (and must be well-formed) but has_witness stays false. */
static void check_witness(struct parser *p)
{
	struct conf *c = p->c;
	int i;

	fill_sockaddr(&c->witness);
	if (c->quorum == QUORUM_NONE)
		return;
	if (!p->witness.line) {
		conf_errf(p, p->cluster.key_line[CK_QUORUM], "quorum = witness "
			  "needs a [witness] section with an address; add one, "
			  "or set quorum = none (unsafe against network "
			  "partitions)");
		return;
	}
	if (!p->witness.key_line[NK_ADDRESS]) {
		conf_errf(p, p->witness.line, "%s: missing required key "
			  "\"address\" (needed with quorum = witness)",
			  p->witness.label);
		return;
	}
	c->has_witness = true;
	for (i = 0; i < p->n_node_sections && i < CONF_NODES; i++)
		if (same_endpoint(&c->witness, &c->nodes[i].ep))
			conf_errf(p, p->witness.key_line[NK_ADDRESS],
				  "%s address: expected an address and port "
				  "other than node %s's, got \"%s\" port %u",
				  p->witness.label, c->nodes[i].name,
				  c->witness.host, (unsigned)c->witness.port);
}

void conf_cluster_check(struct parser *p)
{
	check_cluster(p);
	check_nodes(p);
	check_witness(p);
}

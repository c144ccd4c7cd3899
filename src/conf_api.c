/*
 * conf_api.c - the [api] section of the config file: where each agent
 * serves its HTTP API (status, /primary and /replica for load balancers,
 * Prometheus metrics).  One file is shared by both servers, so besides
 * the common "listen = ADDRESS:PORT" a node may have its own
 * "listen@NODE = ADDRESS:PORT", matched to a [node] section once the
 * whole file is read (like interface@NODE in conf_res.c).  Without an
 * [api] section no API is served.  PURE: libc only.
 */
#define _POSIX_C_SOURCE 200809L

#include "conf_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const char listen_want[] =
	"ADDRESS:PORT with an IPv4 address (127.0.0.1:9405) or an IPv6 "
	"address in brackets ([::1]:9405)";

/* "192.0.2.1:9405" or "[2001:db8::1]:9405" into *ep, sockaddr and
 * port included.  Returns NULL or what was expected. */
static const char *parse_listen(struct conf_endpoint *ep, const char *v)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&ep->sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ep->sa;
	char host[sizeof(ep->host)];
	const char *colon, *start = v;
	size_t n;
	uint16_t port;

	if (v[0] == '[') {
		start = v + 1;
		colon = strchr(start, ']');
		if (!colon || colon[1] != ':')
			return listen_want;
		n = (size_t)(colon - start);
		colon++;
	} else {
		colon = strrchr(v, ':');
		if (!colon)
			return listen_want;
		n = (size_t)(colon - v);
	}
	if (n == 0 || n >= sizeof(host) || conf_set_port(&port, colon + 1))
		return listen_want;
	memcpy(host, start, n);
	host[n] = '\0';
	memset(&ep->sa, 0, sizeof(ep->sa));
	if (v[0] != '[' && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		ep->sa_len = sizeof(*sin);
	} else if (v[0] == '[' &&
		   inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		ep->sa_len = sizeof(*sin6);
	} else {
		return listen_want;
	}
	conf_set_str(ep->host, sizeof(ep->host), host);
	ep->port = port;
	return NULL;
}

static const char *api_listen(struct parser *p, const char *v)
{
	return parse_listen(&p->c->api.listen, v);
}

static const char *api_token_file(struct parser *p, const char *v)
{
	return conf_set_path(p->c->api.token_file, v);
}

enum { AK_LISTEN };

const struct key conf_api_keys[] = {
	[AK_LISTEN] = { "listen", api_listen, false },
	{ "token_file", api_token_file, false },
	{ NULL, NULL, false },
};

/* listen@NODE: parsed now, matched to a node in conf_api_check. */
void conf_set_listen_ref(struct parser *p, const char *key, const char *v)
{
	const char *node = key + strlen("listen@");
	char shown[2 * SHOW_MAX], val[2 * SHOW_MAX];
	struct listen_ref *r;
	const char *want;
	int i;

	conf_escape(shown, sizeof(shown), key);
	conf_escape(val, sizeof(val), v);
	if (!conf_valid_name(node)) {
		conf_errf(p, p->line, "%s %s: expected listen@NODE where NODE "
			  "is the name of a [node] section", p->sect->label,
			  shown);
		return;
	}
	for (i = 0; i < p->n_listen; i++) {
		if (!strcmp(p->listen[i].node, node)) {
			conf_errf(p, p->line, "%s %s: duplicate key (first set "
				  "on line %d)", p->sect->label, shown,
				  p->listen[i].line);
			return;
		}
	}
	if (p->n_listen == LISTEN_REFS_MAX) {
		conf_errf(p, p->line, "%s %s: too many listen@NODE keys (at "
			  "most %d)", p->sect->label, shown, LISTEN_REFS_MAX);
		return;
	}
	r = &p->listen[p->n_listen];
	want = parse_listen(&r->ep, v);
	if (want) {
		conf_errf(p, p->line, "%s %s: expected %s, got \"%s\"",
			  p->sect->label, shown, want, val);
		return;
	}
	p->n_listen++;
	r->line = p->line;
	conf_set_str(r->node, sizeof(r->node), node);
}

/* Required keys, and every listen@NODE matched to a node. */
void conf_api_check(struct parser *p)
{
	struct conf *c = p->c;
	const struct listen_ref *r;
	const struct conf_node *n;
	int i, nodes = p->n_node_sections;
	char names[2 * CONF_NAME_MAX + 8];

	c->api.enabled = p->api.line > 0;
	conf_check_required(p, &p->api, conf_api_keys);
	if (nodes > CONF_NODES)
		nodes = CONF_NODES;
	snprintf(names, sizeof(names), "%s%s%s", nodes > 0 ? c->nodes[0].name
		 : "none defined", nodes > 1 ? ", " : "",
		 nodes > 1 ? c->nodes[1].name : "");
	for (i = 0; i < p->n_listen; i++) {
		r = &p->listen[i];
		n = conf_node_by_name(c, r->node);
		if (n && n->id <= nodes) {
			c->api.node_listen[n->id - 1] = r->ep;
			continue;
		}
		conf_errf(p, r->line, "%s listen@%s: expected the name of a "
			  "[node] section (%s), got \"%s\"", p->api.label,
			  r->node, names, r->node);
	}
	/* listen is needed unless every node has its listen@NODE. */
	if (!c->api.enabled || p->api.key_line[AK_LISTEN])
		return;
	for (i = 0; i < nodes; i++)
		if (!c->api.node_listen[i].port) {
			conf_errf(p, p->api.line, "%s: missing required key "
				  "\"listen\" (or listen@NODE for every node; "
				  "none for %s)", p->api.label,
				  c->nodes[i].name);
			return;
		}
}

const struct conf_endpoint *conf_api_listen(const struct conf *conf,
					    uint8_t node_id)
{
	if (!conf->api.enabled)
		return NULL;
	if (node_id >= 1 && node_id <= CONF_NODES &&
	    conf->api.node_listen[node_id - 1].port)
		return &conf->api.node_listen[node_id - 1];
	return &conf->api.listen;
}

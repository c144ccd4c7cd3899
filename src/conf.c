/*
 * conf.c - the cluster configuration file: INI text -> struct conf.
 * PURE: libc and libsodium only; no logging, no globals.
 *
 * Parsing runs in two passes.  The line pass reads one line at a time,
 * strips comments and whitespace, opens sections and hands each
 * "key = value" to the setter named in that section's key table; a setter
 * answers NULL or what it expected, and the caller turns that into
 * "FILE:LINE: [section] key: expected X, got "Y"".  The check pass runs
 * once the whole file is read, because a rule may involve keys that come
 * later in the file: required keys, exactly two nodes, lease against
 * heartbeat, the witness that quorum = witness needs, interface@NODE
 * naming a node defined further down, distinct node endpoints.
 *
 * Errors never stop the parse: every one is collected (up to
 * CONF_MAX_ERRORS) so an operator fixes a file in one round.  The input
 * is untrusted (it is fuzzed): lines are bounded, NUL bytes rejected,
 * and every value shown in a message is escaped and truncated.
 */
#define _POSIX_C_SOURCE 200809L

#include "conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "proto.h"

enum {
	LINE_LIMIT = 1024,		/* longest line accepted, in bytes */
	FILE_LIMIT = 1024 * 1024,	/* conf_load refuses larger files */
	KEYS_MAX = 12,			/* keys in the largest section */
	IFACE_REFS_MAX = 4 * CONF_MAX_RESOURCES,
	SHOW_MAX = 64,			/* bytes of a bad value shown */
	LABEL_MAX = CONF_NAME_MAX + 40,
	HEARTBEAT_MIN_MS = 5,
	DRIFT_MAX_PPM = 200000,		/* 20% */
	PRIORITY_MAX = 255,
	GARP_COUNT_MAX = 100,
	IFNAME_MAX = 15,		/* IFNAMSIZ - 1 */
	KEY_HEX_LEN = 64,
};

enum kind { K_NONE, K_CLUSTER, K_NODE, K_WITNESS, K_RESOURCE, K_SKIP };

/* One section as written: where it starts and where each key was set. */
struct sect {
	int line;			/* header line; 0 = absent */
	int key_line[KEYS_MAX];		/* 0 = key not set */
	char label[LABEL_MAX];		/* "[node a]", for messages */
};

/* An interface@NODE key, resolved once every [node] has been read. */
struct iface_ref {
	int res;
	int line;
	char node[CONF_NAME_MAX];
	char ifname[IFNAME_MAX + 1];
};

struct parser {
	const char *path;
	struct conf *c;
	struct conf_errors *errs;
	int dropped;			/* errors past CONF_MAX_ERRORS */
	int line;

	enum kind kind;			/* section being read */
	int idx;			/* its node or resource index */
	struct sect *sect;
	const struct key *keys;

	struct sect cluster, witness;
	struct sect node[CONF_NODES];
	struct sect res[CONF_MAX_RESOURCES];
	int n_node_sections;		/* including any beyond two */

	struct iface_ref iface[IFACE_REFS_MAX];
	int n_iface;

	char heartbeat_text[SHOW_MAX + 8];
	char lease_text[SHOW_MAX + 8];
	char expect[160];		/* expectation built by a setter */
};

/* A setter stores v and returns NULL, or returns what it expected. */
struct key {
	const char *name;
	const char *(*set)(struct parser *p, const char *v);
	bool required;
};

static void errf(struct parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void errf(struct parser *p, int line, const char *fmt, ...)
{
	char *msg;
	size_t cap = HP_ERR_MAX;
	int n;
	va_list ap;

	if (p->errs->n >= CONF_MAX_ERRORS) {
		p->dropped++;
		return;
	}
	msg = p->errs->msg[p->errs->n++];
	if (line > 0)
		n = snprintf(msg, cap, "%s:%d: ", p->path, line);
	else
		n = snprintf(msg, cap, "%s: ", p->path);
	if (n < 0 || (size_t)n >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(msg + n, cap - (size_t)n, fmt, ap);
	va_end(ap);
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' ||
	       ch == '\f';
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Copy src for a message: printable ASCII as is, '"' and '\' escaped,
 * other bytes as \xNN, cut with "..." after SHOW_MAX bytes. */
static void escape(char *dst, size_t cap, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;
	unsigned char ch;

	for (i = 0; src[i] && o + 8 < cap; i++) {
		if (i == SHOW_MAX) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		ch = (unsigned char)src[i];
		if (ch == '"' || ch == '\\') {
			dst[o++] = '\\';
			dst[o++] = (char)ch;
		} else if (ch < 0x20 || ch > 0x7e) {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 15];
		} else {
			dst[o++] = (char)ch;
		}
	}
	dst[o] = '\0';
}

static char *trim(char *s)
{
	char *end;

	while (is_space(*s))
		s++;
	end = s + strlen(s);
	while (end > s && is_space(end[-1]))
		*--end = '\0';
	return s;
}

/* Node, resource and cluster names: [a-zA-Z0-9_-]{1,63}. */
static bool valid_name(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		char ch = s[i];

		if (i >= CONF_NAME_MAX - 1)
			return false;
		if (!(is_digit(ch) || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '-'))
			return false;
	}
	return i > 0;
}

/* Linux dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or
 * whitespace. */
static bool valid_ifname(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '/' || ch == ':' || ch <= 0x20 || ch >= 0x7f)
			return false;
	}
	return true;
}

/* Strict decimal: digits only, no sign, at most max. */
static int parse_uint(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!is_digit(s[0]))
		return -1;
	for (i = 0; is_digit(s[i]); i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return -1;
	}
	if (s[i])
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int conf_parse_duration_ms(const char *s, uint32_t *out_ms)
{
	uint64_t v = 0, mult;
	size_t i;

	if (!s || !is_digit(s[0]))
		return -1;
	for (i = 0; is_digit(s[i]); i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	if (!strcmp(s + i, "ms"))
		mult = 1;
	else if (!strcmp(s + i, "s"))
		mult = 1000;
	else if (!strcmp(s + i, "m"))
		mult = 60000;
	else
		return -1;
	if (v * mult > UINT32_MAX)
		return -1;
	*out_ms = (uint32_t)(v * mult);
	return 0;
}

/* "1%" = 10000 ppm; up to four decimals ("0.0001%" = 1 ppm). */
int conf_parse_percent_ppm(const char *s, uint32_t *out_ppm)
{
	uint64_t whole = 0, frac = 0;
	int nfrac = 0;
	size_t i;

	if (!s || !is_digit(s[0]))
		return -1;
	for (i = 0; is_digit(s[i]); i++) {
		whole = whole * 10 + (uint64_t)(s[i] - '0');
		if (whole > UINT32_MAX / 10000)
			return -1;
	}
	if (s[i] == '.') {
		if (!is_digit(s[++i]))
			return -1;
		for (; is_digit(s[i]); i++) {
			if (++nfrac > 4)
				return -1;
			frac = frac * 10 + (uint64_t)(s[i] - '0');
		}
	}
	if (strcmp(s + i, "%"))
		return -1;
	for (; nfrac < 4; nfrac++)
		frac *= 10;
	if (whole * 10000 + frac > UINT32_MAX)
		return -1;
	*out_ppm = (uint32_t)(whole * 10000 + frac);
	return 0;
}

static bool set_str(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (n >= cap)
		return false;
	memcpy(dst, v, n + 1);
	return true;
}

static const char *set_path(char dst[CONF_PATH_MAX], const char *v)
{
	size_t i;

	for (i = 0; v[i]; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			break;
	if (v[0] != '/' || v[i] || !set_str(dst, CONF_PATH_MAX, v))
		return "an absolute path shorter than 256 bytes";
	return NULL;
}

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
	set_str(ep->host, sizeof(ep->host), v);
	return NULL;
}

static const char *set_port(uint16_t *port, const char *v)
{
	uint32_t n;

	if (parse_uint(v, 65535, &n) || n == 0)
		return "a port number from 1 to 65535";
	*port = (uint16_t)n;
	return NULL;
}

/* [cluster] */

static const char *cluster_name(struct parser *p, const char *v)
{
	if (!valid_name(v))
		return "a name of 1 to 63 letters, digits, '_' or '-'";
	set_str(p->c->name, sizeof(p->c->name), v);
	return NULL;
}

static const char *cluster_key_file(struct parser *p, const char *v)
{
	return set_path(p->c->key_file, v);
}

static const char *cluster_heartbeat(struct parser *p, const char *v)
{
	uint32_t ms;

	if (conf_parse_duration_ms(v, &ms) || ms < HEARTBEAT_MIN_MS)
		return "a duration of at least 5ms, such as 100ms";
	p->c->heartbeat_ms = ms;
	escape(p->heartbeat_text, sizeof(p->heartbeat_text), v);
	return NULL;
}

static const char *cluster_lease(struct parser *p, const char *v)
{
	if (conf_parse_duration_ms(v, &p->c->lease_ms))
		return "a duration with a unit, such as 700ms or 1s";
	escape(p->lease_text, sizeof(p->lease_text), v);
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

static const char *cluster_state_dir(struct parser *p, const char *v)
{
	return set_path(p->c->state_dir, v);
}

static const char *cluster_run_dir(struct parser *p, const char *v)
{
	return set_path(p->c->run_dir, v);
}

enum { CK_NAME, CK_KEY_FILE, CK_HEARTBEAT, CK_LEASE, CK_DRIFT, CK_QUORUM };

static const struct key cluster_keys[] = {
	[CK_NAME] = { "name", cluster_name, true },
	[CK_KEY_FILE] = { "key_file", cluster_key_file, true },
	[CK_HEARTBEAT] = { "heartbeat_interval", cluster_heartbeat, false },
	[CK_LEASE] = { "lease", cluster_lease, false },
	[CK_DRIFT] = { "drift", cluster_drift, false },
	[CK_QUORUM] = { "quorum", cluster_quorum, false },
	{ "failover_hold_down", cluster_hold_down, false },
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
	return set_port(&p->c->nodes[p->idx].ep.port, v);
}

static const char *node_priority(struct parser *p, const char *v)
{
	if (parse_uint(v, PRIORITY_MAX, &p->c->nodes[p->idx].priority))
		return "an integer from 0 to 255";
	return NULL;
}

static const char *witness_address(struct parser *p, const char *v)
{
	return set_endpoint_host(&p->c->witness, v);
}

static const char *witness_port(struct parser *p, const char *v)
{
	return set_port(&p->c->witness.port, v);
}

enum { NK_ADDRESS };

static const struct key node_keys[] = {
	[NK_ADDRESS] = { "address", node_address, true },
	{ "port", node_port, false },
	{ "priority", node_priority, false },
	{ NULL, NULL, false },
};

/* The address is required only with quorum = witness: see check_witness. */
static const struct key witness_keys[] = {
	[NK_ADDRESS] = { "address", witness_address, false },
	{ "port", witness_port, false },
	{ NULL, NULL, false },
};

/* [resource NAME], type = vip */

static struct conf_vip *cur_vip(struct parser *p)
{
	return &p->c->resources[p->idx].vip;
}

static const char *res_type(struct parser *p, const char *v)
{
	if (strcmp(v, "vip"))
		return "a known resource type (vip)";
	p->c->resources[p->idx].type = RES_VIP;
	return NULL;
}

static const char *vip_address(struct parser *p, const char *v)
{
	static const char want[] = "an IPv4 address with /1..32 or an IPv6 "
				   "address with /1..128, such as "
				   "192.0.2.100/24";
	struct conf_vip *vip = cur_vip(p);
	char host[64];
	const char *slash = strchr(v, '/');
	uint32_t prefix;
	size_t n;

	if (!slash || strlen(v) >= sizeof(vip->text) ||
	    (size_t)(slash - v) >= sizeof(host))
		return want;
	n = (size_t)(slash - v);
	memcpy(host, v, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, vip->addr) == 1) {
		vip->family = AF_INET;
		if (parse_uint(slash + 1, 32, &prefix) || prefix == 0)
			return want;
	} else if (inet_pton(AF_INET6, host, vip->addr) == 1) {
		vip->family = AF_INET6;
		if (parse_uint(slash + 1, 128, &prefix) || prefix == 0)
			return want;
	} else {
		return want;
	}
	vip->prefix_len = (uint8_t)prefix;
	set_str(vip->text, sizeof(vip->text), v);
	return NULL;
}

static const char *vip_interface(struct parser *p, const char *v)
{
	if (!valid_ifname(v))
		return "an interface name of 1 to 15 characters without "
		       "'/', ':' or spaces";
	set_str(cur_vip(p)->interface, sizeof(cur_vip(p)->interface), v);
	return NULL;
}

static const char *vip_garp_count(struct parser *p, const char *v)
{
	if (parse_uint(v, GARP_COUNT_MAX, &cur_vip(p)->garp_count))
		return "an integer from 0 to 100";
	return NULL;
}

static const char *vip_garp_interval(struct parser *p, const char *v)
{
	uint32_t ms;

	if (conf_parse_duration_ms(v, &ms) || ms == 0)
		return "a duration of at least 1ms, such as 100ms";
	cur_vip(p)->garp_interval_ms = ms;
	return NULL;
}

/* "0" alone is the documented way to say "off", so it is the one bare
 * number accepted anywhere. */
static const char *vip_garp_refresh(struct parser *p, const char *v)
{
	if (!strcmp(v, "0")) {
		cur_vip(p)->garp_refresh_ms = 0;
		return NULL;
	}
	if (conf_parse_duration_ms(v, &cur_vip(p)->garp_refresh_ms))
		return "0 (off) or a duration such as 30s";
	return NULL;
}

enum { RK_TYPE, RK_ADDRESS, RK_INTERFACE };

static const struct key vip_keys[] = {
	[RK_TYPE] = { "type", res_type, true },
	[RK_ADDRESS] = { "address", vip_address, true },
	[RK_INTERFACE] = { "interface", vip_interface, false },
	{ "garp_count", vip_garp_count, false },
	{ "garp_interval", vip_garp_interval, false },
	{ "garp_refresh", vip_garp_refresh, false },
	{ NULL, NULL, false },
};

static void key_list(char *dst, size_t cap, const struct key *keys)
{
	size_t o = 0;
	int i;

	dst[0] = '\0';
	for (i = 0; keys[i].name && o < cap; i++)
		o += (size_t)snprintf(dst + o, cap - o, "%s%s", i ? ", " : "",
				      keys[i].name);
	if (keys == vip_keys && o < cap)
		snprintf(dst + o, cap - o, ", interface@NODE");
}

/* interface@NODE: remembered now, matched to a node in check_ifaces. */
static void set_iface_ref(struct parser *p, const char *key, const char *v)
{
	const char *node = key + strlen("interface@");
	char shown[2 * SHOW_MAX], val[2 * SHOW_MAX];
	struct iface_ref *r;
	int i;

	escape(shown, sizeof(shown), key);
	escape(val, sizeof(val), v);
	if (!valid_name(node)) {
		errf(p, p->line, "%s %s: expected interface@NODE where NODE "
		     "is the name of a [node] section", p->sect->label, shown);
		return;
	}
	if (!valid_ifname(v)) {
		errf(p, p->line, "%s %s: expected an interface name of 1 to 15 "
		     "characters without '/', ':' or spaces, got \"%s\"",
		     p->sect->label, shown, val);
		return;
	}
	for (i = 0; i < p->n_iface; i++) {
		r = &p->iface[i];
		if (r->res == p->idx && !strcmp(r->node, node)) {
			errf(p, p->line, "%s %s: duplicate key (first set on "
			     "line %d)", p->sect->label, shown, r->line);
			return;
		}
	}
	if (p->n_iface == IFACE_REFS_MAX) {
		errf(p, p->line, "%s %s: too many interface@NODE keys in the "
		     "file (at most %d)", p->sect->label, shown,
		     IFACE_REFS_MAX);
		return;
	}
	r = &p->iface[p->n_iface++];
	r->res = p->idx;
	r->line = p->line;
	set_str(r->node, sizeof(r->node), node);
	set_str(r->ifname, sizeof(r->ifname), v);
}

static void set_key(struct parser *p, const char *key, const char *v)
{
	char shown[2 * SHOW_MAX], val[2 * SHOW_MAX], valid[200];
	const char *want;
	int i;

	if (p->kind == K_SKIP)
		return;
	escape(shown, sizeof(shown), key);
	if (p->kind == K_NONE) {
		errf(p, p->line, "%s: key outside any section; expected a "
		     "[cluster], [node NAME], [witness] or [resource NAME] "
		     "header before it", shown);
		return;
	}
	if (p->keys == vip_keys && !strncmp(key, "interface@", 10)) {
		set_iface_ref(p, key, v);
		return;
	}
	for (i = 0; p->keys[i].name && strcmp(p->keys[i].name, key); i++)
		;
	if (!p->keys[i].name) {
		key_list(valid, sizeof(valid), p->keys);
		errf(p, p->line, "%s %s: unknown key; valid keys are %s",
		     p->sect->label, shown, valid);
		return;
	}
	if (p->sect->key_line[i]) {
		errf(p, p->line, "%s %s: duplicate key (first set on line %d)",
		     p->sect->label, shown, p->sect->key_line[i]);
		return;
	}
	p->sect->key_line[i] = p->line;
	want = p->keys[i].set(p, v);
	if (want) {
		escape(val, sizeof(val), v);
		errf(p, p->line, "%s %s: expected %s, got \"%s\"",
		     p->sect->label, shown, want, val);
	}
}

static void open_node(struct parser *p, const char *name, const char *label)
{
	struct conf_node *n;
	int i;

	for (i = 0; i < p->n_node_sections && i < CONF_NODES; i++) {
		if (!strcmp(p->c->nodes[i].name, name)) {
			errf(p, p->line, "%s: duplicate node name (first on "
			     "line %d)", label, p->node[i].line);
			return;
		}
	}
	if (++p->n_node_sections > CONF_NODES) {
		errf(p, p->line, "%s: expected exactly two [node NAME] "
		     "sections; this is node %d", label, p->n_node_sections);
		return;
	}
	if (!valid_name(name))
		errf(p, p->line, "%s: expected a node name of 1 to 63 "
		     "letters, digits, '_' or '-'", label);
	p->idx = p->n_node_sections - 1;
	n = &p->c->nodes[p->idx];
	set_str(n->name, sizeof(n->name), name);
	p->kind = K_NODE;
	p->keys = node_keys;
	p->sect = &p->node[p->idx];
}

static void open_resource(struct parser *p, const char *name,
			  const char *label)
{
	struct conf_resource *r;
	int i;

	if (!valid_name(name)) {
		errf(p, p->line, "%s: expected a resource name of 1 to 63 "
		     "letters, digits, '_' or '-'", label);
		return;
	}
	for (i = 0; i < p->c->n_resources; i++) {
		if (!strcmp(p->c->resources[i].name, name)) {
			errf(p, p->line, "%s: duplicate resource name (first "
			     "on line %d)", label, p->res[i].line);
			return;
		}
	}
	if (p->c->n_resources == CONF_MAX_RESOURCES) {
		errf(p, p->line, "%s: too many resources; at most %d are "
		     "supported", label, CONF_MAX_RESOURCES);
		return;
	}
	p->idx = p->c->n_resources++;
	r = &p->c->resources[p->idx];
	set_str(r->name, sizeof(r->name), name);
	r->type = RES_VIP;
	r->vip.garp_count = 5;
	r->vip.garp_interval_ms = 100;
	p->kind = K_RESOURCE;
	p->keys = vip_keys;
	p->sect = &p->res[p->idx];
}

/* A single-instance section ([cluster], [witness]). */
static void open_single(struct parser *p, struct sect *s, enum kind kind,
			const struct key *keys, const char *label)
{
	if (s->line) {
		errf(p, p->line, "%s: duplicate section (first on line %d)",
		     label, s->line);
		return;
	}
	p->kind = kind;
	p->keys = keys;
	p->sect = s;
}

/* "[word]" or "[word NAME]"; inner has the brackets stripped. */
static void open_section(struct parser *p, char *inner)
{
	char label[LABEL_MAX], word[LABEL_MAX], shown[LABEL_MAX], *name;
	size_t n;

	inner = trim(inner);
	for (n = 0; inner[n] && !is_space(inner[n]); n++)
		;
	name = inner + n;
	if (*name)
		*name++ = '\0';
	name = trim(name);
	escape(word, sizeof(word), inner);
	escape(shown, sizeof(shown), name);
	snprintf(label, sizeof(label), "[%.20s%s%.*s]", word,
		 *name ? " " : "", CONF_NAME_MAX + 8, shown);

	p->kind = K_SKIP;
	p->sect = NULL;
	if (!strcmp(inner, "node") || !strcmp(inner, "resource")) {
		if (!*name) {
			errf(p, p->line, "%s: expected a name, as in [%s "
			     "NAME]", label, inner);
			return;
		}
		if (inner[0] == 'n')
			open_node(p, name, label);
		else
			open_resource(p, name, label);
	} else if (!strcmp(inner, "cluster") || !strcmp(inner, "witness")) {
		if (*name) {
			errf(p, p->line, "%s: expected [%s] without a name",
			     label, inner);
			return;
		}
		if (inner[0] == 'c')
			open_single(p, &p->cluster, K_CLUSTER, cluster_keys,
				    label);
		else
			open_single(p, &p->witness, K_WITNESS, witness_keys,
				    label);
	} else {
		errf(p, p->line, "%s: unknown section; valid sections are "
		     "[cluster], [node NAME], [witness] and [resource NAME]",
		     label);
		return;
	}
	if (p->sect && !p->sect->line) {
		p->sect->line = p->line;
		set_str(p->sect->label, sizeof(p->sect->label), label);
	}
}

/* Cut a comment: '#' or ';' at the start or after whitespace. */
static void strip_comment(char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if ((s[i] == '#' || s[i] == ';') &&
		    (i == 0 || is_space(s[i - 1]))) {
			s[i] = '\0';
			return;
		}
	}
}

static void parse_line(struct parser *p, const char *text, size_t len)
{
	char buf[LINE_LIMIT + 1], shown[2 * SHOW_MAX], *s, *eq;
	size_t n;

	if (len > LINE_LIMIT) {
		errf(p, p->line, "line is %zu bytes long; the limit is %d",
		     len, LINE_LIMIT);
		return;
	}
	if (memchr(text, '\0', len)) {
		errf(p, p->line, "line contains a NUL byte; expected text");
		return;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	strip_comment(buf);
	s = trim(buf);
	if (!*s)
		return;
	n = strlen(s);
	if (s[0] == '[' && s[n - 1] == ']') {
		s[n - 1] = '\0';
		open_section(p, s + 1);
		return;
	}
	eq = strchr(s, '=');
	if (s[0] == '[' || !eq || eq == s) {
		escape(shown, sizeof(shown), s);
		errf(p, p->line, "expected \"key = value\" or a [section] "
		     "header, got \"%s\"", shown);
		return;
	}
	*eq = '\0';
	set_key(p, trim(s), trim(eq + 1));
}

static void set_defaults(struct conf *c, const char *path)
{
	int i;

	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->heartbeat_ms = 100;
	c->lease_ms = 700;
	c->drift_ppm = 10000;
	c->quorum = QUORUM_WITNESS;
	c->hold_down_ms = 60000;
	set_str(c->state_dir, sizeof(c->state_dir), "/var/lib/hapair");
	set_str(c->run_dir, sizeof(c->run_dir), "/run/hapair");
	for (i = 0; i < CONF_NODES; i++) {
		c->nodes[i].id = (uint8_t)(i + 1);
		c->nodes[i].ep.port = PROTO_DEFAULT_PORT;
		c->nodes[i].priority = 100;
	}
	c->witness.port = PROTO_DEFAULT_PORT;
}

/* Check pass. */

static void check_required(struct parser *p, const struct sect *s,
			   const struct key *keys)
{
	int i;

	if (!s->line)
		return;
	for (i = 0; keys[i].name; i++)
		if (keys[i].required && !s->key_line[i])
			errf(p, s->line, "%s: missing required key \"%s\"",
			     s->label, keys[i].name);
}

static void check_cluster(struct parser *p)
{
	struct conf *c = p->c;
	const struct sect *s = &p->cluster;

	if (!s->line) {
		errf(p, 0, "missing [cluster] section; expected one with at "
		     "least name and key_file");
		return;
	}
	check_required(p, s, cluster_keys);
	if (c->name[0])
		c->cluster_id = proto_cluster_id(c->name);
	/* A lease shorter than two heartbeats expires on one lost datagram.
	 * A key that failed to parse has been reported already. */
	if (c->lease_ms > 2 * (uint64_t)c->heartbeat_ms ||
	    (s->key_line[CK_LEASE] && !p->lease_text[0]) ||
	    (s->key_line[CK_HEARTBEAT] && !p->heartbeat_text[0]))
		return;
	if (s->key_line[CK_LEASE])
		errf(p, s->key_line[CK_LEASE], "%s lease: expected more than "
		     "2 * heartbeat_interval (%" PRIu32 "ms), got \"%s\"",
		     s->label, 2 * c->heartbeat_ms, p->lease_text);
	else if (s->key_line[CK_HEARTBEAT])
		errf(p, s->key_line[CK_HEARTBEAT], "%s heartbeat_interval: "
		     "expected less than half the lease (%" PRIu32 "ms), got "
		     "\"%s\"", s->label, c->lease_ms, p->heartbeat_text);
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
		errf(p, 0, "expected exactly two [node NAME] sections, found "
		     "%d", have);
	for (i = 0; i < have && i < CONF_NODES; i++) {
		check_required(p, &p->node[i], node_keys);
		fill_sockaddr(&n[i].ep);
	}
	if (have >= CONF_NODES && same_endpoint(&n[0].ep, &n[1].ep))
		errf(p, p->node[1].key_line[NK_ADDRESS], "%s address: "
		     "expected an address and port other than node %s's, got "
		     "\"%s\" port %u", p->node[1].label, n[0].name,
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
		errf(p, p->cluster.key_line[CK_QUORUM], "quorum = witness "
		     "needs a [witness] section with an address; add one, or "
		     "set quorum = none (unsafe against network partitions)");
		return;
	}
	if (!p->witness.key_line[NK_ADDRESS]) {
		errf(p, p->witness.line, "%s: missing required key "
		     "\"address\" (needed with quorum = witness)",
		     p->witness.label);
		return;
	}
	c->has_witness = true;
	for (i = 0; i < p->n_node_sections && i < CONF_NODES; i++)
		if (same_endpoint(&c->witness, &c->nodes[i].ep))
			errf(p, p->witness.key_line[NK_ADDRESS], "%s address: "
			     "expected an address and port other than node "
			     "%s's, got \"%s\" port %u", p->witness.label,
			     c->nodes[i].name, c->witness.host,
			     (unsigned)c->witness.port);
}

/* Match every interface@NODE to a node, now that all nodes are known. */
static void check_ifaces(struct parser *p)
{
	struct conf *c = p->c;
	const struct iface_ref *r;
	const struct conf_node *n;
	int i, nodes = p->n_node_sections;
	char names[2 * CONF_NAME_MAX + 8];

	if (nodes > CONF_NODES)
		nodes = CONF_NODES;
	snprintf(names, sizeof(names), "%s%s%s", nodes > 0 ? c->nodes[0].name
		 : "none defined", nodes > 1 ? ", " : "",
		 nodes > 1 ? c->nodes[1].name : "");
	for (i = 0; i < p->n_iface; i++) {
		r = &p->iface[i];
		n = conf_node_by_name(c, r->node);
		if (n && n->id <= nodes) {
			set_str(c->resources[r->res].vip.node_interface
					[n->id - 1],
				IFNAME_MAX + 1, r->ifname);
			continue;
		}
		errf(p, r->line, "%s interface@%s: expected the name of a "
		     "[node] section (%s), got \"%s\"", p->res[r->res].label,
		     r->node, names, r->node);
	}
}

static void check_resources(struct parser *p)
{
	const struct conf_vip *vip;
	int i, j, nodes = p->n_node_sections;

	if (nodes > CONF_NODES)
		nodes = CONF_NODES;
	check_ifaces(p);
	for (i = 0; i < p->c->n_resources; i++) {
		check_required(p, &p->res[i], vip_keys);
		vip = &p->c->resources[i].vip;
		if (vip->interface[0])
			continue;
		for (j = 0; j < nodes; j++) {
			if (vip->node_interface[j][0])
				continue;
			errf(p, p->res[i].line, "%s: missing required key "
			     "\"interface\" (or interface@NODE for every "
			     "node; none for node %s)", p->res[i].label,
			     p->c->nodes[j].name);
			break;
		}
	}
}

int conf_parse(const char *text, size_t len, const char *path,
	       struct conf *out, struct conf_errors *errs)
{
	struct parser parser, *p = &parser;
	struct conf_errors local;
	size_t pos = 0, end;

	if (!errs)
		errs = &local;
	errs->n = 0;
	if (!path)
		path = "<config>";
	set_defaults(out, path);
	memset(p, 0, sizeof(*p));
	p->path = path;
	p->c = out;
	p->errs = errs;
	if (!text)
		len = 0;
	/* A UTF-8 byte order mark, as some editors write, is not text. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		pos = 3;
	for (p->line = 1; pos < len; p->line++) {
		const char *nl = memchr(text + pos, '\n', len - pos);

		end = nl ? (size_t)(nl - text) : len;
		parse_line(p, text + pos, end - pos);
		pos = end + 1;
	}
	check_cluster(p);
	check_nodes(p);
	check_witness(p);
	check_resources(p);
	if (p->dropped)
		snprintf(errs->msg[CONF_MAX_ERRORS - 1], HP_ERR_MAX,
			 "%s: %d more errors not shown", path, p->dropped + 1);
	return errs->n ? -1 : 0;
}

static int load_fail(struct conf *out, struct conf_errors *errs,
		     const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* conf_load() failing before it can parse: one error, no line. */
static int load_fail(struct conf *out, struct conf_errors *errs,
		     const char *path, const char *fmt, ...)
{
	char *msg = errs->msg[0];
	size_t n;
	va_list ap;

	set_defaults(out, path);
	errs->n = 1;
	snprintf(msg, HP_ERR_MAX, "%s: ", path);
	n = strlen(msg);
	va_start(ap, fmt);
	vsnprintf(msg + n, HP_ERR_MAX - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Read all of fd (st_size bytes expected) and parse it. */
static int load_fd(int fd, const struct stat *st, const char *path,
		   struct conf *out, struct conf_errors *errs)
{
	size_t cap = (size_t)st->st_size + 1, got = 0;
	char *buf;
	ssize_t n;
	int rc;

	buf = malloc(cap);
	if (!buf)
		return load_fail(out, errs, path, "out of memory");
	/* One byte more than stat promised means the file grew. */
	while (got < cap && (n = read(fd, buf + got, cap - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = load_fail(out, errs, path, "cannot read: %s",
				       strerror(errno));
			goto out;
		}
		got += (size_t)n;
	}
	if (got == cap)
		rc = load_fail(out, errs, path, "file changed while being "
			       "read; try again");
	else
		rc = conf_parse(buf, got, path, out, errs);
out:
	free(buf);
	return rc;
}

int conf_load(const char *path, struct conf *out, struct conf_errors *errs)
{
	struct conf_errors local;
	struct stat st;
	int fd, rc;

	if (!errs)
		errs = &local;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return load_fail(out, errs, path, "cannot open: %s",
				 strerror(errno));
	if (fstat(fd, &st) < 0)
		rc = load_fail(out, errs, path, "cannot stat: %s",
			       strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = load_fail(out, errs, path, "expected a regular file, got "
			       "a directory or device");
	else if (st.st_size > FILE_LIMIT)
		rc = load_fail(out, errs, path, "file is %lld bytes; expected "
			       "a config file of at most 1 MiB (%d bytes)",
			       (long long)st.st_size, FILE_LIMIT);
	else
		rc = load_fd(fd, &st, path, out, errs);
	close(fd);
	return rc;
}

static bool is_hex(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'f') ||
	       (ch >= 'A' && ch <= 'F');
}

/* Body of conf_load_key once the file is open: check mode, read, decode. */
static int read_key(int fd, const char *path, uint8_t key[32],
		    struct hp_err *err)
{
	char buf[KEY_HEX_LEN + 4];
	struct stat st;
	ssize_t n;
	size_t len = 0, hex_len, i;
	int rc = -1;

	if (fstat(fd, &st) < 0)
		return hp_errf(err, "key file %s: cannot stat: %s", path,
			       strerror(errno));
	if (!S_ISREG(st.st_mode))
		return hp_errf(err, "key file %s: expected a regular file",
			       path);
	if (st.st_mode & 077)
		return hp_errf(err, "key file %s: mode %04o lets others %s the "
			       "cluster key; chmod 600 it", path,
			       (unsigned)(st.st_mode & 07777),
			       st.st_mode & 044 ? "read" : "change");
	while (len < sizeof(buf) &&
	       (n = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hp_errf(err, "key file %s: cannot read: %s", path,
				strerror(errno));
			goto out;
		}
		len += (size_t)n;
	}
	hex_len = len;
	if (hex_len > 0 && buf[hex_len - 1] == '\n')
		hex_len--;
	if (hex_len > 0 && buf[hex_len - 1] == '\r')
		hex_len--;
	if (hex_len != KEY_HEX_LEN) {
		hp_errf(err, "key file %s: expected 64 hex digits (as written "
			"by hapair keygen), got %s%zu bytes", path,
			len == sizeof(buf) ? "more than " : "",
			len == sizeof(buf) ? len - 1 : hex_len);
		goto out;
	}
	for (i = 0; i < hex_len && is_hex(buf[i]); i++)
		;
	if (i < hex_len || sodium_hex2bin(key, 32, buf, hex_len, NULL, &len,
					  NULL) || len != 32) {
		hp_errf(err, "key file %s: expected 64 hex digits, got a "
			"non-hex character at byte %zu", path, i + 1);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(buf, sizeof(buf));
	if (rc)
		sodium_memzero(key, 32);
	return rc;
}

int conf_load_key(const struct conf *conf, uint8_t key[32],
		  struct hp_err *err)
{
	const char *path = conf->key_file;
	int fd, rc;

	if (!path[0])
		return hp_errf(err, "key file: not set; expected key_file in "
			       "[cluster]");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hp_errf(err, "key file %s: cannot open: %s", path,
			       strerror(errno));
	rc = read_key(fd, path, key, err);
	close(fd);
	return rc;
}

const struct conf_node *conf_node_by_name(const struct conf *conf,
					  const char *name)
{
	int i;

	for (i = 0; i < CONF_NODES; i++)
		if (conf->nodes[i].name[0] &&
		    !strcmp(conf->nodes[i].name, name))
			return &conf->nodes[i];
	return NULL;
}

const char *conf_vip_interface(const struct conf_vip *vip, uint8_t node_id)
{
	if (node_id >= 1 && node_id <= CONF_NODES &&
	    vip->node_interface[node_id - 1][0])
		return vip->node_interface[node_id - 1];
	return vip->interface;
}

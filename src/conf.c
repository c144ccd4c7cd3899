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
 * naming a node defined further down, distinct node endpoints, keys a
 * check type does not use, a check timeout against its interval.
 *
 * A [resource] section's key table depends on its type (vip, redis), and
 * "type" need not be its first key: when the header is read, a look-ahead
 * over the section's own lines finds the type, so every key is checked
 * against the right table and a vip key in a redis section is an unknown
 * key that lists the redis keys.
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
	TYPE_PEEK_MAX = 32,		/* bytes of a looked-ahead type */
	REDIS_TIMEOUT_MS = 1000,
	REDIS_MONITOR_MS = 100,
	REDIS_MAX_LAG = 1024 * 1024,
	CHECK_INTERVAL_MS = 1000,
	CHECK_TIMEOUT_MS = 1000,
	CHECK_COUNT_MAX = 100,		/* rise, fall */
	STATUS_MIN = 200,
	STATUS_MAX = 599,
	NOTIFY_TIMEOUT_MS = 10000,
};

enum kind {
	K_NONE, K_CLUSTER, K_NODE, K_WITNESS, K_RESOURCE, K_CHECK, K_NOTIFY,
	K_SKIP
};

/* One section as written: where it starts and where each key was set. */
struct sect {
	int line;			/* header line; 0 = absent */
	int key_line[KEYS_MAX];		/* 0 = key not set */
	unsigned bad_keys;		/* bit i: key i set but not valid */
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
	int idx;			/* its index (node, resource, ...) */
	struct sect *sect;
	const struct key *keys;

	struct sect cluster, witness;
	struct sect node[CONF_NODES];
	struct sect res[CONF_MAX_RESOURCES];
	const struct key *res_keys[CONF_MAX_RESOURCES];	/* by type */
	int data_res;			/* data resource, -1 = none yet */
	struct sect chk[CONF_MAX_CHECKS];
	bool chk_typed[CONF_MAX_CHECKS];	/* type set and valid */
	struct sect ntf[CONF_MAX_NOTIFY];
	int n_node_sections;		/* including any beyond two */

	const char *text;		/* the whole file, for look-ahead */
	size_t len;
	size_t next;			/* offset of the line after this */

	struct iface_ref iface[IFACE_REFS_MAX];
	int n_iface;

	char heartbeat_text[SHOW_MAX + 8];
	char lease_text[SHOW_MAX + 8];
	char expect[256];		/* expectation built by a setter */
	bool secret;			/* setter: show v's length, not v */
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

/* "1MB" = 1048576: a whole number and B, kB, KB, MB or GB (powers of
 * 1024, as Redis counts); "0" alone is accepted too. */
int conf_parse_size(const char *s, uint64_t *out_bytes)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {
		{ "B", 1 }, { "kB", 1024 }, { "KB", 1024 },
		{ "MB", 1024 * 1024 }, { "GB", 1024 * 1024 * 1024 },
	};
	uint64_t v = 0;
	size_t i, u;

	if (!s || !is_digit(s[0]))
		return -1;
	for (i = 0; is_digit(s[i]); i++) {
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (!strcmp(s, "0")) {
		*out_bytes = 0;
		return 0;
	}
	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		if (strcmp(s + i, units[u].unit))
			continue;
		if (v > UINT64_MAX / units[u].mult)
			return -1;
		*out_bytes = v * units[u].mult;
		return 0;
	}
	return -1;
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

/* An IPv4 or IPv6 literal that fits in cap bytes, copied to dst. */
static bool set_ip(char *dst, size_t cap, const char *v)
{
	uint8_t addr[16];

	if (strlen(v) >= cap || (inet_pton(AF_INET, v, addr) != 1 &&
				 inet_pton(AF_INET6, v, addr) != 1))
		return false;
	set_str(dst, cap, v);
	return true;
}

/* 1 to cap-1 bytes of printable ASCII; spaces only if allowed. */
static bool set_printable(char *dst, size_t cap, const char *v,
			  bool spaces)
{
	size_t i;

	for (i = 0; v[i]; i++)
		if (v[i] < (spaces ? ' ' : '!') || v[i] > '~')
			return false;
	return i > 0 && set_str(dst, cap, v);
}

/* A command for /bin/sh -c: 1 to CONF_CMD_MAX-1 bytes, tabs allowed but
 * no other control bytes (a newline could not be written anyway). */
static const char *set_command(char dst[CONF_CMD_MAX], const char *v)
{
	size_t i;

	for (i = 0; v[i]; i++)
		if (((unsigned char)v[i] < 0x20 && v[i] != '\t') ||
		    v[i] == 0x7f)
			break;
	if (!v[0] || v[i] || !set_str(dst, CONF_CMD_MAX, v))
		return "a command of 1 to 511 bytes";
	return NULL;
}

/* A duration of at least 1ms, for timers that must not spin. */
static const char *set_duration(uint32_t *dst, const char *v,
				const char *want)
{
	uint32_t ms;

	if (conf_parse_duration_ms(v, &ms) || ms == 0)
		return want;
	*dst = ms;
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

/* [resource NAME]: every type's table has "type" first (RK_TYPE). */

static struct conf_vip *cur_vip(struct parser *p)
{
	return &p->c->resources[p->idx].vip;
}

/* A data resource holds the data an election compares positions of;
 * with two, whose position would count? */
static const char *res_type_data(struct parser *p, enum conf_res_type type)
{
	const struct sect *first;

	p->c->resources[p->idx].type = type;
	if (p->data_res >= 0 && p->data_res != p->idx) {
		first = &p->res[p->data_res];
		snprintf(p->expect, sizeof(p->expect), "at most one data "
			 "resource (redis) per cluster, but %s on line %d is "
			 "one already", first->label, first->line);
		return p->expect;
	}
	p->data_res = p->idx;
	return NULL;
}

static const char *res_type(struct parser *p, const char *v)
{
	if (!strcmp(v, "vip"))
		p->c->resources[p->idx].type = RES_VIP;
	else if (!strcmp(v, "redis"))
		return res_type_data(p, RES_REDIS);
	else
		return "a known resource type (vip, redis)";
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

/* [resource NAME], type = redis */

static struct conf_redis *cur_redis(struct parser *p)
{
	return &p->c->resources[p->idx].redis;
}

static void redis_defaults(struct conf_redis *r)
{
	set_str(r->host, sizeof(r->host), "127.0.0.1");
	r->port = 6379;
	r->replication = REPL_SYNC;
	r->max_lag_on_failover = REDIS_MAX_LAG;
	r->timeout_ms = REDIS_TIMEOUT_MS;
	r->monitor_interval_ms = REDIS_MONITOR_MS;
}

static const char *redis_port(struct parser *p, const char *v)
{
	return set_port(&cur_redis(p)->port, v);
}

static const char *redis_host(struct parser *p, const char *v)
{
	if (!set_ip(cur_redis(p)->host, sizeof(cur_redis(p)->host), v))
		return "an IPv4 or IPv6 address, such as 127.0.0.1";
	return NULL;
}

static const char *redis_user(struct parser *p, const char *v)
{
	if (!set_printable(cur_redis(p)->user, sizeof(cur_redis(p)->user), v,
			   false))
		return "a user name of 1 to 63 printable characters without "
		       "spaces";
	return NULL;
}

static const char *redis_password(struct parser *p, const char *v)
{
	struct conf_redis *r = cur_redis(p);

	p->secret = true;
	if (!set_printable(r->password, sizeof(r->password), v, true))
		return "a password of 1 to 127 printable characters (or "
		       "password_file)";
	return NULL;
}

static const char *redis_password_file(struct parser *p, const char *v)
{
	return set_path(cur_redis(p)->password_file, v);
}

static const char *redis_replication(struct parser *p, const char *v)
{
	if (!strcmp(v, "sync"))
		cur_redis(p)->replication = REPL_SYNC;
	else if (!strcmp(v, "async"))
		cur_redis(p)->replication = REPL_ASYNC;
	else
		return "sync or async";
	return NULL;
}

static const char *redis_max_lag(struct parser *p, const char *v)
{
	if (conf_parse_size(v, &cur_redis(p)->max_lag_on_failover))
		return "a size with a unit (B, kB, MB, GB), such as 1MB, or 0";
	return NULL;
}

static const char *redis_timeout(struct parser *p, const char *v)
{
	return set_duration(&cur_redis(p)->timeout_ms, v,
			    "a duration of at least 1ms, such as 1s");
}

static const char *redis_monitor_interval(struct parser *p, const char *v)
{
	return set_duration(&cur_redis(p)->monitor_interval_ms, v,
			    "a duration of at least 1ms, such as 100ms");
}

static const char *redis_keep_dir(struct parser *p, const char *v)
{
	return set_path(cur_redis(p)->keep_dir, v);
}

enum {
	RDK_TYPE, RDK_PORT, RDK_HOST, RDK_USER, RDK_PASSWORD,
	RDK_PASSWORD_FILE, RDK_REPLICATION, RDK_MAX_LAG, RDK_TIMEOUT,
	RDK_MONITOR, RDK_KEEP_DIR
};

static const struct key redis_keys[] = {
	[RDK_TYPE] = { "type", res_type, true },
	[RDK_PORT] = { "port", redis_port, false },
	[RDK_HOST] = { "host", redis_host, false },
	[RDK_USER] = { "user", redis_user, false },
	[RDK_PASSWORD] = { "password", redis_password, false },
	[RDK_PASSWORD_FILE] = { "password_file", redis_password_file, false },
	[RDK_REPLICATION] = { "replication", redis_replication, false },
	[RDK_MAX_LAG] = { "max_lag_on_failover", redis_max_lag, false },
	[RDK_TIMEOUT] = { "timeout", redis_timeout, false },
	[RDK_MONITOR] = { "monitor_interval", redis_monitor_interval, false },
	[RDK_KEEP_DIR] = { "keep_dir", redis_keep_dir, false },
	{ NULL, NULL, false },
};

/* A resource whose type is not known: only "type" is checked (its error
 * says what is wrong); other keys are ignored, as their meaning depends
 * on the type. */
static const struct key untyped_keys[] = {
	[RK_TYPE] = { "type", res_type, true },
	{ NULL, NULL, false },
};

/* [check NAME] */

enum check_use { USE_TCP = 1, USE_HTTP = 2, USE_SCRIPT = 4 };

static struct conf_check *cur_check(struct parser *p)
{
	return &p->c->checks[p->idx];
}

static const char *check_type(struct parser *p, const char *v)
{
	struct conf_check *ck = cur_check(p);

	if (!strcmp(v, "tcp"))
		ck->type = CHECK_TCP;
	else if (!strcmp(v, "http"))
		ck->type = CHECK_HTTP;
	else if (!strcmp(v, "script"))
		ck->type = CHECK_SCRIPT;
	else
		return "tcp, http or script";
	p->chk_typed[p->idx] = true;
	return NULL;
}

static const char *check_address(struct parser *p, const char *v)
{
	if (!set_ip(cur_check(p)->address, sizeof(cur_check(p)->address), v))
		return "an IPv4 or IPv6 address, such as 127.0.0.1";
	return NULL;
}

static const char *check_port(struct parser *p, const char *v)
{
	return set_port(&cur_check(p)->port, v);
}

/* The path goes into the request line as is: no spaces or controls. */
static const char *check_path(struct parser *p, const char *v)
{
	if (v[0] != '/' || !set_printable(cur_check(p)->path,
					  sizeof(cur_check(p)->path), v, false))
		return "a path starting with '/', without spaces, shorter "
		       "than 256 bytes";
	return NULL;
}

/* 1xx answers are never final (and never sent to an HTTP/1.0 client),
 * so a check expecting one could never pass. */
static const char *check_expect_status(struct parser *p, const char *v)
{
	uint32_t n;

	if (parse_uint(v, STATUS_MAX, &n) || n < STATUS_MIN)
		return "an HTTP status from 200 to 599";
	cur_check(p)->expect_status = n;
	return NULL;
}

static const char *check_command(struct parser *p, const char *v)
{
	return set_command(cur_check(p)->command, v);
}

static const char *check_interval(struct parser *p, const char *v)
{
	return set_duration(&cur_check(p)->interval_ms, v,
			    "a duration of at least 1ms, such as 1s");
}

static const char *check_timeout(struct parser *p, const char *v)
{
	return set_duration(&cur_check(p)->timeout_ms, v,
			    "a duration of at least 1ms, such as 1s");
}

static const char *check_rise(struct parser *p, const char *v)
{
	if (parse_uint(v, CHECK_COUNT_MAX, &cur_check(p)->rise) ||
	    !cur_check(p)->rise)
		return "an integer from 1 to 100";
	return NULL;
}

static const char *check_fall(struct parser *p, const char *v)
{
	if (parse_uint(v, CHECK_COUNT_MAX, &cur_check(p)->fall) ||
	    !cur_check(p)->fall)
		return "an integer from 1 to 100";
	return NULL;
}

enum {
	CHK_TYPE, CHK_ADDRESS, CHK_PORT, CHK_PATH, CHK_EXPECT, CHK_COMMAND,
	CHK_INTERVAL, CHK_TIMEOUT, CHK_RISE, CHK_FALL, CHK_KEYS
};

static const struct key check_keys[] = {
	[CHK_TYPE] = { "type", check_type, true },
	[CHK_ADDRESS] = { "address", check_address, false },
	[CHK_PORT] = { "port", check_port, false },
	[CHK_PATH] = { "path", check_path, false },
	[CHK_EXPECT] = { "expect_status", check_expect_status, false },
	[CHK_COMMAND] = { "command", check_command, false },
	[CHK_INTERVAL] = { "interval", check_interval, false },
	[CHK_TIMEOUT] = { "timeout", check_timeout, false },
	[CHK_RISE] = { "rise", check_rise, false },
	[CHK_FALL] = { "fall", check_fall, false },
	{ NULL, NULL, false },
};

/* Which check types use a key (0 = all), checked once the type is known. */
static const unsigned check_key_use[CHK_KEYS] = {
	[CHK_ADDRESS] = USE_TCP | USE_HTTP,
	[CHK_PORT] = USE_TCP | USE_HTTP,
	[CHK_PATH] = USE_HTTP,
	[CHK_EXPECT] = USE_HTTP,
	[CHK_COMMAND] = USE_SCRIPT,
};

static void check_defaults(struct conf_check *ck)
{
	set_str(ck->address, sizeof(ck->address), "127.0.0.1");
	set_str(ck->path, sizeof(ck->path), "/");
	ck->expect_status = STATUS_MIN;
	ck->interval_ms = CHECK_INTERVAL_MS;
	ck->timeout_ms = CHECK_TIMEOUT_MS;
	ck->rise = 2;
	ck->fall = 2;
}

/* [notify NAME] */

static const char *notify_command(struct parser *p, const char *v)
{
	return set_command(p->c->notify[p->idx].command, v);
}

static const char *notify_timeout(struct parser *p, const char *v)
{
	return set_duration(&p->c->notify[p->idx].timeout_ms, v,
			    "a duration of at least 1ms, such as 10s");
}

static const struct key notify_keys[] = {
	{ "command", notify_command, true },
	{ "timeout", notify_timeout, false },
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
		     "[cluster], [node NAME], [witness], [resource NAME], "
		     "[check NAME] or [notify NAME] header before it", shown);
		return;
	}
	if (p->keys == vip_keys && !strncmp(key, "interface@", 10)) {
		set_iface_ref(p, key, v);
		return;
	}
	for (i = 0; p->keys[i].name && strcmp(p->keys[i].name, key); i++)
		;
	if (!p->keys[i].name && p->keys == untyped_keys)
		return;
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
	p->secret = false;
	want = p->keys[i].set(p, v);
	if (!want)
		return;
	p->sect->bad_keys |= 1u << i;
	if (p->secret)
		snprintf(val, sizeof(val), "%zu bytes (not shown)", strlen(v));
	else
		escape(val, sizeof(val), v);
	errf(p, p->line, "%s %s: expected %s, got %s%s%s", p->sect->label,
	     shown, want, p->secret ? "" : "\"", val, p->secret ? "" : "\"");
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

/* What differs between [resource], [check] and [notify]: all repeat,
 * each has a name unique among its kind and a maximum count. */
struct listed {
	const char *what;		/* "resource", for messages */
	const char *plural;
	int max;
	int *n;
	struct sect *sects;
};

static struct listed listed_of(struct parser *p, enum kind kind)
{
	struct conf *c = p->c;

	if (kind == K_RESOURCE)
		return (struct listed){ "resource", "resources",
					CONF_MAX_RESOURCES, &c->n_resources,
					p->res };
	if (kind == K_CHECK)
		return (struct listed){ "check", "checks", CONF_MAX_CHECKS,
					&c->n_checks, p->chk };
	return (struct listed){ "notify", "notify sections", CONF_MAX_NOTIFY,
				&c->n_notify, p->ntf };
}

static const char *listed_name(const struct parser *p, enum kind kind,
			       int i)
{
	if (kind == K_RESOURCE)
		return p->c->resources[i].name;
	if (kind == K_CHECK)
		return p->c->checks[i].name;
	return p->c->notify[i].name;
}

/* Check the name of a new [resource|check|notify NAME] and claim the
 * next slot for it: sets p->kind, p->idx and p->sect and returns true,
 * or reports why not and returns false (the section is then skipped). */
static bool open_listed(struct parser *p, enum kind kind, const char *name,
			const char *label)
{
	struct listed l = listed_of(p, kind);
	int i;

	if (!valid_name(name)) {
		errf(p, p->line, "%s: expected a %s name of 1 to 63 letters, "
		     "digits, '_' or '-'", label, l.what);
		return false;
	}
	for (i = 0; i < *l.n; i++) {
		if (!strcmp(listed_name(p, kind, i), name)) {
			errf(p, p->line, "%s: duplicate %s name (first on "
			     "line %d)", label, l.what, l.sects[i].line);
			return false;
		}
	}
	if (*l.n == l.max) {
		errf(p, p->line, "%s: too many %s; at most %d are supported",
		     label, l.plural, l.max);
		return false;
	}
	p->idx = (*l.n)++;
	p->kind = kind;
	p->sect = &l.sects[p->idx];
	return true;
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

enum line_kind { L_BLANK, L_HEADER, L_KEY, L_BAD, L_LONG, L_NUL };

/* Split one raw line (len bytes, no '\n') in buf: a header gives the
 * text between the brackets in *a; "key = value" the trimmed key in *a
 * and value in *b; L_BAD leaves the trimmed line in *a. */
static enum line_kind split_line(const char *text, size_t len,
				 char buf[LINE_LIMIT + 1], char **a, char **b)
{
	char *s, *eq;
	size_t n;

	if (len > LINE_LIMIT)
		return L_LONG;
	if (memchr(text, '\0', len))
		return L_NUL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	strip_comment(buf);
	s = *a = trim(buf);
	if (!*s)
		return L_BLANK;
	n = strlen(s);
	if (s[0] == '[' && s[n - 1] == ']') {
		s[n - 1] = '\0';
		*a = s + 1;
		return L_HEADER;
	}
	eq = strchr(s, '=');
	if (s[0] == '[' || !eq || eq == s)
		return L_BAD;
	*eq = '\0';
	*a = trim(s);
	*b = trim(eq + 1);
	return L_KEY;
}

/* Offset of the '\n' ending the line that starts at pos, or len. */
static size_t line_end(const char *text, size_t len, size_t pos)
{
	const char *nl = memchr(text + pos, '\n', len - pos);

	return nl ? (size_t)(nl - text) : len;
}

/* The value of the first "type" key of the section whose header is the
 * current line ("" if it has none), read ahead of the line pass. */
static void peek_type(const struct parser *p, char *out, size_t cap)
{
	char buf[LINE_LIMIT + 1], *key, *v;
	size_t pos, end;
	enum line_kind k;

	out[0] = '\0';
	for (pos = p->next; pos < p->len; pos = end + 1) {
		end = line_end(p->text, p->len, pos);
		k = split_line(p->text + pos, end - pos, buf, &key, &v);
		if (k == L_HEADER)
			return;
		if (k == L_KEY && !strcmp(key, "type")) {
			snprintf(out, cap, "%s", v);
			return;
		}
	}
}

static void open_resource(struct parser *p, const char *name,
			  const char *label)
{
	struct conf_resource *r;
	char type[TYPE_PEEK_MAX];

	if (!open_listed(p, K_RESOURCE, name, label))
		return;
	r = &p->c->resources[p->idx];
	set_str(r->name, sizeof(r->name), name);
	/* No type at all is reported by the check pass; the keys are then
	 * read as vip keys, the one type there was before types. */
	peek_type(p, type, sizeof(type));
	if (!strcmp(type, "redis")) {
		r->type = RES_REDIS;
		redis_defaults(&r->redis);
		p->keys = redis_keys;
	} else if (!type[0] || !strcmp(type, "vip")) {
		r->type = RES_VIP;
		r->vip.garp_count = 5;
		r->vip.garp_interval_ms = 100;
		p->keys = vip_keys;
	} else {
		p->keys = untyped_keys;
	}
	p->res_keys[p->idx] = p->keys;
}

static void open_check(struct parser *p, const char *name,
		       const char *label)
{
	struct conf_check *ck;

	if (!open_listed(p, K_CHECK, name, label))
		return;
	ck = &p->c->checks[p->idx];
	set_str(ck->name, sizeof(ck->name), name);
	check_defaults(ck);
	p->keys = check_keys;
}

static void open_notify(struct parser *p, const char *name,
			const char *label)
{
	struct conf_notify *n;

	if (!open_listed(p, K_NOTIFY, name, label))
		return;
	n = &p->c->notify[p->idx];
	set_str(n->name, sizeof(n->name), name);
	n->timeout_ms = NOTIFY_TIMEOUT_MS;
	p->keys = notify_keys;
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

/* [word NAME]: node, resource, check or notify. */
static void open_named(struct parser *p, const char *word, const char *name,
		       const char *label)
{
	if (!*name) {
		errf(p, p->line, "%s: expected a name, as in [%s NAME]", label,
		     word);
		return;
	}
	if (!strcmp(word, "node"))
		open_node(p, name, label);
	else if (!strcmp(word, "resource"))
		open_resource(p, name, label);
	else if (!strcmp(word, "check"))
		open_check(p, name, label);
	else
		open_notify(p, name, label);
}

static bool is_named_section(const char *word)
{
	return !strcmp(word, "node") || !strcmp(word, "resource") ||
	       !strcmp(word, "check") || !strcmp(word, "notify");
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
	if (is_named_section(inner)) {
		open_named(p, inner, name, label);
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
		     "[cluster], [node NAME], [witness], [resource NAME], "
		     "[check NAME] and [notify NAME]", label);
		return;
	}
	if (p->sect && !p->sect->line) {
		p->sect->line = p->line;
		set_str(p->sect->label, sizeof(p->sect->label), label);
	}
}

static void parse_line(struct parser *p, const char *text, size_t len)
{
	char buf[LINE_LIMIT + 1], shown[2 * SHOW_MAX], *a, *b;

	switch (split_line(text, len, buf, &a, &b)) {
	case L_LONG:
		errf(p, p->line, "line is %zu bytes long; the limit is %d",
		     len, LINE_LIMIT);
		break;
	case L_NUL:
		errf(p, p->line, "line contains a NUL byte; expected text");
		break;
	case L_HEADER:
		open_section(p, a);
		break;
	case L_KEY:
		set_key(p, a, b);
		break;
	case L_BAD:
		escape(shown, sizeof(shown), a);
		errf(p, p->line, "expected \"key = value\" or a [section] "
		     "header, got \"%s\"", shown);
		break;
	case L_BLANK:
		break;
	}
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

/* password or password_file, not both; keep_dir from state_dir, which
 * may be set anywhere in the file. */
static void check_redis(struct parser *p, int i)
{
	struct conf_redis *r = &p->c->resources[i].redis;
	const struct sect *s = &p->res[i];
	const char *dir = p->c->state_dir;
	int pw = s->key_line[RDK_PASSWORD], pf = s->key_line[RDK_PASSWORD_FILE];
	size_t n = strlen(dir);
	int len;

	if (pw && pf)
		errf(p, pw > pf ? pw : pf, "%s %s: expected either password "
		     "or password_file, not both (%s is set on line %d)",
		     s->label, pw > pf ? "password" : "password_file",
		     pw > pf ? "password_file" : "password", pw > pf ? pf : pw);
	if (s->key_line[RDK_KEEP_DIR])
		return;
	len = snprintf(r->keep_dir, sizeof(r->keep_dir), "%s%skept", dir,
		       n && dir[n - 1] == '/' ? "" : "/");
	if (len < 0 || (size_t)len >= sizeof(r->keep_dir))
		errf(p, s->line, "%s: keep_dir defaults to <state_dir>/kept, "
		     "which is longer than 255 bytes; set keep_dir", s->label);
}

static void check_resources(struct parser *p)
{
	const struct conf_vip *vip;
	int i, j, nodes = p->n_node_sections;

	if (nodes > CONF_NODES)
		nodes = CONF_NODES;
	check_ifaces(p);
	for (i = 0; i < p->c->n_resources; i++) {
		check_required(p, &p->res[i], p->res_keys[i]);
		if (p->res_keys[i] == redis_keys)
			check_redis(p, i);
		vip = &p->c->resources[i].vip;
		if (p->res_keys[i] != vip_keys || vip->interface[0])
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

/* Keys the check's type does not use, and the one it needs. */
static void check_check_keys(struct parser *p, int i)
{
	static const char *const type_name[] = {
		[CHECK_TCP] = "tcp", [CHECK_HTTP] = "http",
		[CHECK_SCRIPT] = "script",
	};
	const struct sect *s = &p->chk[i];
	enum conf_check_type type = p->c->checks[i].type;
	unsigned use, mine = 1u << type;
	int k, need = type == CHECK_SCRIPT ? CHK_COMMAND : CHK_PORT;

	for (k = 0; k < CHK_KEYS; k++) {
		use = check_key_use[k];
		if (!s->key_line[k] || !use || (use & mine))
			continue;
		errf(p, s->key_line[k], "%s %s: not used by type %s (only by "
		     "%s); remove it", s->label, check_keys[k].name,
		     type_name[type], use == USE_HTTP ? "type http" : use ==
		     USE_SCRIPT ? "type script" : "types tcp and http");
	}
	if (!s->key_line[need])
		errf(p, s->line, "%s: missing required key \"%s\" (type %s "
		     "needs it)", s->label, check_keys[need].name,
		     type_name[type]);
}

/* A run must end before the next is due: timeout <= interval.  Without
 * a timeout key the default (1s) shrinks to a shorter interval. */
static void check_check_timeout(struct parser *p, int i)
{
	struct conf_check *ck = &p->c->checks[i];
	const struct sect *s = &p->chk[i];

	if (s->bad_keys & (1u << CHK_INTERVAL | 1u << CHK_TIMEOUT))
		return;
	if (!s->key_line[CHK_TIMEOUT]) {
		if (ck->timeout_ms > ck->interval_ms)
			ck->timeout_ms = ck->interval_ms;
		return;
	}
	if (ck->timeout_ms > ck->interval_ms)
		errf(p, s->key_line[CHK_TIMEOUT], "%s timeout: expected at "
		     "most the interval (%" PRIu32 "ms), got %" PRIu32 "ms",
		     s->label, ck->interval_ms, ck->timeout_ms);
}

static void check_checks(struct parser *p)
{
	int i;

	for (i = 0; i < p->c->n_checks; i++) {
		check_required(p, &p->chk[i], check_keys);
		if (p->chk_typed[i])
			check_check_keys(p, i);
		check_check_timeout(p, i);
	}
}

static void check_notify(struct parser *p)
{
	int i;

	for (i = 0; i < p->c->n_notify; i++)
		check_required(p, &p->ntf[i], notify_keys);
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
	p->data_res = -1;
	if (!text)
		len = 0;
	p->text = text;
	p->len = len;
	/* A UTF-8 byte order mark, as some editors write, is not text. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		pos = 3;
	for (p->line = 1; pos < len; p->line++) {
		end = line_end(text, len, pos);
		p->next = end + 1;
		parse_line(p, text + pos, end - pos);
		pos = end + 1;
	}
	check_cluster(p);
	check_nodes(p);
	check_witness(p);
	check_resources(p);
	check_checks(p);
	check_notify(p);
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

/* Read a small secret file (fd open on path) into buf: a regular file
 * that group and others can neither read nor change, at most cap bytes
 * read (*len == cap means the file is longer).  what ("key file") and
 * secret ("cluster key") name them in messages. */
static int read_secret(int fd, const char *path, const char *what,
		       const char *secret, char *buf, size_t cap, size_t *len,
		       struct hp_err *err)
{
	struct stat st;
	ssize_t n;

	*len = 0;
	if (fstat(fd, &st) < 0)
		return hp_errf(err, "%s %s: cannot stat: %s", what, path,
			       strerror(errno));
	if (!S_ISREG(st.st_mode))
		return hp_errf(err, "%s %s: expected a regular file", what,
			       path);
	if (st.st_mode & 077)
		return hp_errf(err, "%s %s: mode %04o lets others %s the %s; "
			       "chmod 600 it", what, path,
			       (unsigned)(st.st_mode & 07777),
			       st.st_mode & 044 ? "read" : "change", secret);
	while (*len < cap && (n = read(fd, buf + *len, cap - *len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hp_errf(err, "%s %s: cannot read: %s", what,
				       path, strerror(errno));
		*len += (size_t)n;
	}
	return 0;
}

/* One trailing "\n" (or "\r\n") is not part of a secret. */
static size_t strip_newline(const char *buf, size_t len)
{
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	return len;
}

/* Body of conf_load_key once the file is open: check mode, read, decode. */
static int read_key(int fd, const char *path, uint8_t key[32],
		    struct hp_err *err)
{
	char buf[KEY_HEX_LEN + 4];
	size_t len, hex_len, i;
	int rc = -1;

	if (read_secret(fd, path, "key file", "cluster key", buf, sizeof(buf),
			&len, err))
		goto out;
	hex_len = strip_newline(buf, len);
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

/* Body of conf_load_redis_password once the file is open. */
static int read_password(int fd, struct conf_redis *r, struct hp_err *err)
{
	const char *path = r->password_file;
	char buf[sizeof(r->password) + 2];
	size_t len, i;
	int rc = -1;

	if (read_secret(fd, path, "redis password file", "Redis password",
			buf, sizeof(buf), &len, err))
		goto out;
	if (len == sizeof(buf)) {
		hp_errf(err, "redis password file %s: expected a password of "
			"at most %zu bytes, got more", path,
			sizeof(r->password) - 1);
		goto out;
	}
	len = strip_newline(buf, len);
	for (i = 0; i < len && buf[i] && buf[i] != '\n' && buf[i] != '\r'; i++)
		;
	if (len == 0 || i < len || len >= sizeof(r->password)) {
		hp_errf(err, "redis password file %s: expected a password of "
			"1 to %zu bytes on one line, got %s", path,
			sizeof(r->password) - 1, len == 0 ? "an empty file" :
			i < len ? "a NUL or line break inside" : "more");
		goto out;
	}
	memcpy(r->password, buf, len);
	r->password[len] = '\0';
	rc = 0;
out:
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

int conf_load_redis_password(struct conf_redis *r, struct hp_err *err)
{
	int fd, rc;

	if (!r->password_file[0])
		return 0;
	fd = open(r->password_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hp_errf(err, "redis password file %s: cannot open: %s",
			       r->password_file, strerror(errno));
	rc = read_password(fd, r, err);
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

const struct conf_resource *conf_data_resource(const struct conf *conf)
{
	int i;

	for (i = 0; i < conf->n_resources; i++)
		if (conf->resources[i].type == RES_REDIS)
			return &conf->resources[i];
	return NULL;
}

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
 *
 * This file is the reader and the public entry points; the key tables,
 * their setters and their check pass live with their sections in
 * conf_cluster.c, conf_res.c and conf_api.c, value syntax in
 * conf_value.c, and the key and password files in conf_secret.c (see
 * conf_int.h).  [alert NAME] and [events] live in conf_alert.c.
 */
#define _POSIX_C_SOURCE 200809L

#include "conf_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	LINE_LIMIT = 1024,		/* longest line accepted, in bytes */
	FILE_LIMIT = 1024 * 1024,	/* conf_load refuses larger files */
};

void conf_errf(struct parser *p, int line, const char *fmt, ...)
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

/* Copy src for a message: printable ASCII as is, '"' and '\' escaped,
 * other bytes as \xNN, cut with "..." after SHOW_MAX bytes. */
void conf_escape(char *dst, size_t cap, const char *src)
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

static void key_list(char *dst, size_t cap, const struct key *keys)
{
	size_t o = 0;
	int i;

	dst[0] = '\0';
	for (i = 0; keys[i].name && o < cap; i++)
		o += (size_t)snprintf(dst + o, cap - o, "%s%s", i ? ", " : "",
				      keys[i].name);
	if (keys == conf_vip_keys && o < cap)
		snprintf(dst + o, cap - o, ", interface@NODE");
	if (keys == conf_api_keys && o < cap)
		snprintf(dst + o, cap - o, ", listen@NODE");
}

static void set_key(struct parser *p, const char *key, const char *v)
{
	char shown[2 * SHOW_MAX], val[2 * SHOW_MAX], valid[200];
	const char *want;
	int i;

	if (p->kind == K_SKIP)
		return;
	conf_escape(shown, sizeof(shown), key);
	if (p->kind == K_NONE) {
		conf_errf(p, p->line, "%s: key outside any section; expected a "
			  "[cluster], [node NAME], [witness], [resource NAME], "
			  "[check NAME], [notify NAME], [api], [alert NAME] or "
			  "[events] header before it",
			  shown);
		return;
	}
	if (p->keys == conf_vip_keys && !strncmp(key, "interface@", 10)) {
		conf_set_iface_ref(p, key, v);
		return;
	}
	if (p->keys == conf_api_keys && !strncmp(key, "listen@", 7)) {
		conf_set_listen_ref(p, key, v);
		return;
	}
	for (i = 0; p->keys[i].name && strcmp(p->keys[i].name, key); i++)
		;
	if (!p->keys[i].name && p->keys == conf_untyped_keys)
		return;
	if (!p->keys[i].name) {
		key_list(valid, sizeof(valid), p->keys);
		conf_errf(p, p->line, "%s %s: unknown key; valid keys are %s",
			  p->sect->label, shown, valid);
		return;
	}
	if (p->sect->key_line[i]) {
		conf_errf(p, p->line, "%s %s: duplicate key (first set on "
			  "line %d)", p->sect->label, shown,
			  p->sect->key_line[i]);
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
		conf_escape(val, sizeof(val), v);
	conf_errf(p, p->line, "%s %s: expected %s, got %s%s%s",
		  p->sect->label, shown, want, p->secret ? "" : "\"", val,
		  p->secret ? "" : "\"");
}

/* What differs between [resource], [check], [notify] and [alert]: all
 * repeat, each has a name unique among its kind and a maximum count. */
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
	if (kind == K_ALERT)
		return (struct listed){ "alert", "alerts", CONF_MAX_ALERTS,
					&c->n_alerts, p->alr };
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
	if (kind == K_ALERT)
		return p->c->alerts[i].name;
	return p->c->notify[i].name;
}

/* Check the name of a new [resource|check|notify|alert NAME] and claim
 * the next slot for it: sets p->kind, p->idx and p->sect and returns true,
 * or reports why not and returns false (the section is then skipped). */
bool conf_open_listed(struct parser *p, enum kind kind, const char *name,
		      const char *label)
{
	struct listed l = listed_of(p, kind);
	int i;

	if (!conf_valid_name(name)) {
		conf_errf(p, p->line, "%s: expected a%s %s name of 1 to 63 "
			  "letters, digits, '_' or '-'", label,
			  l.what[0] == 'a' ? "n" : "", l.what);
		return false;
	}
	for (i = 0; i < *l.n; i++) {
		if (!strcmp(listed_name(p, kind, i), name)) {
			conf_errf(p, p->line, "%s: duplicate %s name (first on "
				  "line %d)", label, l.what, l.sects[i].line);
			return false;
		}
	}
	if (*l.n == l.max) {
		conf_errf(p, p->line, "%s: too many %s; at most %d are "
			  "supported", label, l.plural, l.max);
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
void conf_peek_type(const struct parser *p, char *out, size_t cap)
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

/* A single-instance section ([cluster], [witness]). */
static void open_single(struct parser *p, struct sect *s, enum kind kind,
			const struct key *keys, const char *label)
{
	if (s->line) {
		conf_errf(p, p->line, "%s: duplicate section (first on "
			  "line %d)", label, s->line);
		return;
	}
	p->kind = kind;
	p->keys = keys;
	p->sect = s;
}

/* [word NAME]: node, resource, check, notify or alert. */
static void open_named(struct parser *p, const char *word, const char *name,
		       const char *label)
{
	if (!*name) {
		conf_errf(p, p->line, "%s: expected a name, as in [%s NAME]",
			  label, word);
		return;
	}
	if (!strcmp(word, "node"))
		conf_open_node(p, name, label);
	else if (!strcmp(word, "resource"))
		conf_open_resource(p, name, label);
	else if (!strcmp(word, "check"))
		conf_open_check(p, name, label);
	else if (!strcmp(word, "alert"))
		conf_open_alert(p, name, label);
	else
		conf_open_notify(p, name, label);
}

static bool is_named_section(const char *word)
{
	return !strcmp(word, "node") || !strcmp(word, "resource") ||
	       !strcmp(word, "check") || !strcmp(word, "notify") ||
	       !strcmp(word, "alert");
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
	conf_escape(word, sizeof(word), inner);
	conf_escape(shown, sizeof(shown), name);
	snprintf(label, sizeof(label), "[%.20s%s%.*s]", word,
		 *name ? " " : "", CONF_NAME_MAX + 8, shown);

	p->kind = K_SKIP;
	p->sect = NULL;
	if (is_named_section(inner)) {
		open_named(p, inner, name, label);
	} else if (!strcmp(inner, "cluster") || !strcmp(inner, "witness") ||
		   !strcmp(inner, "api") || !strcmp(inner, "events")) {
		if (*name) {
			conf_errf(p, p->line,
				  "%s: expected [%s] without a name", label,
				  inner);
			return;
		}
		if (inner[0] == 'c')
			open_single(p, &p->cluster, K_CLUSTER,
				    conf_cluster_keys, label);
		else if (inner[0] == 'a')
			open_single(p, &p->api, K_API, conf_api_keys, label);
		else if (inner[0] == 'e')
			open_single(p, &p->events, K_EVENTS,
				    conf_events_keys, label);
		else
			open_single(p, &p->witness, K_WITNESS,
				    conf_witness_keys, label);
	} else {
		conf_errf(p, p->line, "%s: unknown section; valid sections are "
			  "[cluster], [node NAME], [witness], [resource NAME], "
			  "[check NAME], [notify NAME], [api], [alert NAME] "
			  "and [events]", label);
		return;
	}
	if (p->sect && !p->sect->line) {
		p->sect->line = p->line;
		conf_set_str(p->sect->label, sizeof(p->sect->label), label);
	}
}

static void parse_line(struct parser *p, const char *text, size_t len)
{
	char buf[LINE_LIMIT + 1], shown[2 * SHOW_MAX], *a, *b;

	switch (split_line(text, len, buf, &a, &b)) {
	case L_LONG:
		conf_errf(p, p->line, "line is %zu bytes long; the limit is %d",
			  len, LINE_LIMIT);
		break;
	case L_NUL:
		conf_errf(p, p->line,
			  "line contains a NUL byte; expected text");
		break;
	case L_HEADER:
		open_section(p, a);
		break;
	case L_KEY:
		set_key(p, a, b);
		break;
	case L_BAD:
		conf_escape(shown, sizeof(shown), a);
		conf_errf(p, p->line, "expected \"key = value\" or a [section] "
			  "header, got \"%s\"", shown);
		break;
	case L_BLANK:
		break;
	}
}

static void set_defaults(struct conf *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	conf_cluster_defaults(c);
}

/* Check pass. */

void conf_check_required(struct parser *p, const struct sect *s,
			 const struct key *keys)
{
	int i;

	if (!s->line)
		return;
	for (i = 0; keys[i].name; i++)
		if (keys[i].required && !s->key_line[i])
			conf_errf(p, s->line, "%s: missing required key \"%s\"",
				  s->label, keys[i].name);
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
	conf_cluster_check(p);
	conf_res_check(p);
	conf_api_check(p);
	conf_alert_check(p);
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
		if (conf->resources[i].type == RES_REDIS ||
		    conf->resources[i].type == RES_POSTGRESQL ||
		    conf->resources[i].type == RES_MARIADB)
			return &conf->resources[i];
	return NULL;
}

enum conf_replication conf_data_replication(const struct conf_resource *r)
{
	return r->type == RES_POSTGRESQL ? r->pg.replication :
	       r->type == RES_MARIADB ? r->mdb.replication :
	       r->redis.replication;
}

uint64_t conf_data_max_lag(const struct conf_resource *r)
{
	return r->type == RES_POSTGRESQL ? r->pg.max_lag_on_failover :
	       r->type == RES_MARIADB ? r->mdb.max_lag_on_failover :
	       r->redis.max_lag_on_failover;
}

uint32_t conf_data_max_lag_ms(const struct conf_resource *r)
{
	return r->type == RES_POSTGRESQL ? r->pg.max_lag_ms :
	       r->type == RES_MARIADB ? r->mdb.max_lag_ms :
	       r->redis.max_lag_ms;
}

/*
 * conf_alert.c - the [alert NAME] and [events] sections of the config
 * file.  An [alert] is a webhook: events at or above min_severity whose
 * kind is in "kinds" are POSTed as JSON to its url (alert.c), with a
 * bearer token read from bearer_token_file by conf_load_alert_tokens()
 * (agents only, like the Redis password).  [events] names the JSON-lines
 * file every event is appended to (evfile.c) and whether events also go
 * to syslog.  The URL is checked here so a typo fails at start-up, not
 * at the first failover: http:// or https://, a host, an optional port,
 * no user:password@ (a secret in the URL would be logged; use a token
 * file) and nothing that cannot go in a request line.  PURE: libc only
 * (event names come from event_names.c, which is PURE too).
 */
#define _POSIX_C_SOURCE 200809L

#include "conf_int.h"
#include "events.h"

#include <stdio.h>
#include <string.h>

enum {
	ALERT_TIMEOUT_MS = 5000,
	ALERT_RETRIES = 5,
	ALERT_RETRIES_MAX = 100,
	ALERT_BACKOFF_MS = 1000,
	ALERT_BACKOFF_MAX_MS = 60000,	/* alert.c caps the doubling here */
	KIND_WORD_MAX = 32,
};

static struct conf_alert *cur_alert(struct parser *p)
{
	return &p->c->alerts[p->idx];
}

static bool is_host_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
	       ch == '_';
}

/* ":PORT" at s, up to end: 1..65535.  An empty ":" is refused too. */
static bool valid_port(const char *s, const char *end)
{
	char buf[8];
	uint16_t port;
	size_t n = (size_t)(end - s);

	if (n < 2 || n > 6 || s[0] != ':')
		return false;
	memcpy(buf, s + 1, n - 1);
	buf[n - 1] = '\0';
	return conf_set_port(&port, buf) == NULL;
}

/* The authority of a URL, from a to end: HOST[:PORT] or [IPV6][:PORT]. */
static bool valid_authority(const char *a, const char *end)
{
	const char *s = a;

	if (s < end && *s == '[') {
		for (s++; s < end && *s != ']'; s++)
			if (!((*s >= '0' && *s <= '9') ||
			      (*s >= 'a' && *s <= 'f') ||
			      (*s >= 'A' && *s <= 'F') || *s == ':' ||
			      *s == '.'))
				return false;
		if (s == end || s == a + 1)
			return false;
		s++;
	} else {
		for (; s < end && is_host_char(*s); s++)
			;
		if (s == a)
			return false;
	}
	return s == end || valid_port(s, end);
}

static const char *alert_url(struct parser *p, const char *v)
{
	static const char want[] =
		"an http:// or https:// URL with a host and no "
		"user:password@ (use bearer_token_file), printable, "
		"without spaces, shorter than 512 bytes";
	struct conf_alert *a = cur_alert(p);
	const char *host, *end;

	if (!strncmp(v, "http://", 7))
		host = v + 7;
	else if (!strncmp(v, "https://", 8))
		host = v + 8;
	else
		return want;
	end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(end - host)) ||
	    !valid_authority(host, end))
		return want;
	if (!conf_set_printable(a->url, sizeof(a->url), v, false))
		return want;
	return NULL;
}

static const char *alert_token_file(struct parser *p, const char *v)
{
	return conf_set_path(cur_alert(p)->bearer_token_file, v);
}

static const char *alert_min_severity(struct parser *p, const char *v)
{
	int sev = events_severity_parse(v);

	if (sev < 0)
		return "info, warning or critical";
	cur_alert(p)->min_severity = (uint32_t)sev;
	return NULL;
}

/* "a, b, c" into a bit set; on a bad word, the expectation names it. */
static const char *alert_kinds(struct parser *p, const char *v)
{
	char word[KIND_WORD_MAX], shown[4 * KIND_WORD_MAX], names[128];
	const char *s = v, *end;
	uint32_t bits = 0;
	size_t n, o = 0;
	int k;

	for (k = 0; k < EVK_MAX && o < sizeof(names); k++)
		o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s",
				      k ? ", " : "", events_kind_name(k));
	for (;;) {
		s += strspn(s, " \t");
		end = s + strcspn(s, ",");
		n = (size_t)(end - s);
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n == 0 || n >= sizeof(word)) {
			snprintf(p->expect, sizeof(p->expect), "a comma list "
				 "of event kinds (%s)%s", names,
				 n ? "" : " without empty items");
			return p->expect;
		}
		memcpy(word, s, n);
		word[n] = '\0';
		k = events_kind_parse(word);
		if (k < 0) {
			conf_escape(shown, sizeof(shown), word);
			snprintf(p->expect, sizeof(p->expect), "a comma list "
				 "of event kinds (%s), but \"%.40s\" is not "
				 "one",
				 names, shown);
			return p->expect;
		}
		bits |= 1u << k;
		if (!*end)
			break;
		s = end + 1;
	}
	cur_alert(p)->kinds = bits;
	return NULL;
}

static const char *alert_timeout(struct parser *p, const char *v)
{
	return conf_set_duration(&cur_alert(p)->timeout_ms, v,
				 "a duration of at least 1ms, such as 5s");
}

static const char *alert_retries(struct parser *p, const char *v)
{
	if (conf_parse_uint(v, ALERT_RETRIES_MAX, &cur_alert(p)->retries))
		return "an integer from 0 to 100";
	return NULL;
}

static const char *alert_backoff(struct parser *p, const char *v)
{
	uint32_t ms;

	if (conf_parse_duration_ms(v, &ms) || ms == 0 ||
	    ms > ALERT_BACKOFF_MAX_MS)
		return "a duration from 1ms to 60s, such as 1s";
	cur_alert(p)->backoff_ms = ms;
	return NULL;
}

static const struct key alert_keys[] = {
	{ "url", alert_url, true },
	{ "bearer_token_file", alert_token_file, false },
	{ "min_severity", alert_min_severity, false },
	{ "kinds", alert_kinds, false },
	{ "timeout", alert_timeout, false },
	{ "retries", alert_retries, false },
	{ "retry_backoff", alert_backoff, false },
	{ NULL, NULL, false },
};

void conf_open_alert(struct parser *p, const char *name, const char *label)
{
	struct conf_alert *a;

	if (!conf_open_listed(p, K_ALERT, name, label))
		return;
	a = cur_alert(p);
	conf_set_str(a->name, sizeof(a->name), name);
	a->min_severity = SEV_INFO;
	a->kinds = (1u << EVK_MAX) - 1;
	a->timeout_ms = ALERT_TIMEOUT_MS;
	a->retries = ALERT_RETRIES;
	a->backoff_ms = ALERT_BACKOFF_MS;
	p->keys = alert_keys;
}

void conf_alert_check(struct parser *p)
{
	int i;

	for (i = 0; i < p->c->n_alerts; i++)
		conf_check_required(p, &p->alr[i], alert_keys);
}

/* [events] */

static const char *events_file(struct parser *p, const char *v)
{
	return conf_set_path(p->c->events.file, v);
}

static const char *events_syslog(struct parser *p, const char *v)
{
	if (!strcmp(v, "yes"))
		p->c->events.syslog = true;
	else if (!strcmp(v, "no"))
		p->c->events.syslog = false;
	else
		return "yes or no";
	return NULL;
}

const struct key conf_events_keys[] = {
	{ "file", events_file, false },
	{ "syslog", events_syslog, false },
	{ NULL, NULL, false },
};

/* Tokens go into an HTTP header: printable, no spaces (RFC 6750's
 * b64token is narrower still, but some services use other characters). */
static int load_token(struct conf_alert *a, struct hp_err *err)
{
	char what[CONF_NAME_MAX + 32];
	size_t i;

	snprintf(what, sizeof(what), "alert %s bearer_token_file", a->name);
	if (conf_read_secret_line(a->bearer_token_file, what, "bearer token",
				  "token", a->bearer_token,
				  sizeof(a->bearer_token), err))
		return -1;
	for (i = 0; a->bearer_token[i]; i++)
		if (a->bearer_token[i] <= ' ' || a->bearer_token[i] > '~')
			break;
	if (!a->bearer_token[i])
		return 0;
	memset(a->bearer_token, 0, sizeof(a->bearer_token));
	return hp_errf(err, "%s %s: expected a token of printable characters "
		       "without spaces, got a space or control byte at byte "
		       "%zu", what, a->bearer_token_file, i + 1);
}

int conf_load_alert_tokens(struct conf *conf, struct hp_err *err)
{
	int i;

	for (i = 0; i < conf->n_alerts; i++)
		if (conf->alerts[i].bearer_token_file[0] &&
		    load_token(&conf->alerts[i], err))
			return -1;
	return 0;
}

/*
 * conf_res.c - the [resource NAME], [check NAME] and [notify NAME]
 * sections of the config file: a key table and setters per resource type
 * (vip, redis, postgresql, mariadb) and for checks and notify programs, their
 * defaults, the interface@NODE keys of a vip, and the check pass over
 * them once the whole file is read (interface@NODE naming a node,
 * password or password_file, keys a check type does not use, a check
 * timeout against its interval).  PURE: libc only.
 */
#define _POSIX_C_SOURCE 200809L

#include "conf_int.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum {
	GARP_COUNT_MAX = 100,
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
			 "resource (redis, postgresql, mariadb) per cluster, but %s on line %d is "
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
	else if (!strcmp(v, "postgresql"))
		return res_type_data(p, RES_POSTGRESQL);
	else if (!strcmp(v, "mariadb"))
		return res_type_data(p, RES_MARIADB);
	else
		return "a known resource type (vip, redis, postgresql, "
		       "mariadb)";
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
		if (conf_parse_uint(slash + 1, 32, &prefix) || prefix == 0)
			return want;
	} else if (inet_pton(AF_INET6, host, vip->addr) == 1) {
		vip->family = AF_INET6;
		if (conf_parse_uint(slash + 1, 128, &prefix) || prefix == 0)
			return want;
	} else {
		return want;
	}
	vip->prefix_len = (uint8_t)prefix;
	conf_set_str(vip->text, sizeof(vip->text), v);
	return NULL;
}

static const char *vip_interface(struct parser *p, const char *v)
{
	if (!conf_valid_ifname(v))
		return "an interface name of 1 to 15 characters without "
		       "'/', ':' or spaces";
	conf_set_str(cur_vip(p)->interface, sizeof(cur_vip(p)->interface), v);
	return NULL;
}

static const char *vip_garp_count(struct parser *p, const char *v)
{
	if (conf_parse_uint(v, GARP_COUNT_MAX, &cur_vip(p)->garp_count))
		return "an integer from 0 to 100";
	return NULL;
}

static const char *vip_garp_interval(struct parser *p, const char *v)
{
	return conf_set_duration(&cur_vip(p)->garp_interval_ms, v,
				 "a duration of at least 1ms, such as 100ms");
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

const struct key conf_vip_keys[] = {
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
	conf_set_str(r->host, sizeof(r->host), "127.0.0.1");
	r->port = 6379;
	r->replication = REPL_SYNC;
	r->max_lag_on_failover = REDIS_MAX_LAG;
	r->timeout_ms = REDIS_TIMEOUT_MS;
	r->monitor_interval_ms = REDIS_MONITOR_MS;
}

static const char *redis_port(struct parser *p, const char *v)
{
	return conf_set_port(&cur_redis(p)->port, v);
}

static const char *redis_host(struct parser *p, const char *v)
{
	return conf_set_ip(cur_redis(p)->host, sizeof(cur_redis(p)->host), v);
}

static const char *redis_user(struct parser *p, const char *v)
{
	struct conf_redis *r = cur_redis(p);

	if (!conf_set_printable(r->user, sizeof(r->user), v, false))
		return "a user name of 1 to 63 printable characters without "
		       "spaces";
	return NULL;
}

static const char *redis_password(struct parser *p, const char *v)
{
	struct conf_redis *r = cur_redis(p);

	p->secret = true;
	if (!conf_set_printable(r->password, sizeof(r->password), v, true))
		return "a password of 1 to 127 printable characters (or "
		       "password_file)";
	return NULL;
}

static const char *redis_password_file(struct parser *p, const char *v)
{
	return conf_set_path(cur_redis(p)->password_file, v);
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

/* max_lag_on_failover, whatever the data: a time (5s: the standby may
 * lack at most what the primary wrote in the last 5 s before it was
 * lost), "none", or else an amount in the data's units, parsed by the
 * caller.  Returns 1 when v was a time or none, 0 to parse the amount. */
static int max_lag_time(const char *v, uint64_t *amount, uint32_t *ms)
{
	uint32_t t;

	if (!strcmp(v, "none")) {
		*amount = CONF_LAG_NONE;
		*ms = 0;
		return 1;
	}
	if (conf_parse_duration_ms(v, &t))
		return 0;
	*amount = t ? CONF_LAG_NONE : 0; /* 0s: fully caught up */
	*ms = t;
	return 1;
}

static const char *redis_max_lag(struct parser *p, const char *v)
{
	struct conf_redis *r = cur_redis(p);

	if (max_lag_time(v, &r->max_lag_on_failover, &r->max_lag_ms))
		return NULL;
	if (conf_parse_size(v, &r->max_lag_on_failover))
		return "a size with a unit (B, kB, MB, GB), such as 1MB, or 0; "
		       "a time such as 5s; or none";
	return NULL;
}

static const char *redis_timeout(struct parser *p, const char *v)
{
	return conf_set_duration(&cur_redis(p)->timeout_ms, v,
				 "a duration of at least 1ms, such as 1s");
}

static const char *redis_monitor_interval(struct parser *p, const char *v)
{
	return conf_set_duration(&cur_redis(p)->monitor_interval_ms, v,
				 "a duration of at least 1ms, such as 100ms");
}

static const char *redis_keep_dir(struct parser *p, const char *v)
{
	return conf_set_path(cur_redis(p)->keep_dir, v);
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

/* [resource NAME], type = postgresql */

enum {
	PG_TIMEOUT_MS = 2000,
	PG_ACTION_TIMEOUT_MS = 60000,
	PG_MONITOR_MS = 200,
};

static struct conf_pg *cur_pg(struct parser *p)
{
	return &p->c->resources[p->idx].pg;
}

static void pg_defaults(struct conf_pg *g)
{
	conf_set_str(g->bin_dir, sizeof(g->bin_dir),
		     "/usr/lib/postgresql/15/bin");
	conf_set_str(g->host, sizeof(g->host), "/var/run/postgresql");
	g->port = 5432;
	conf_set_str(g->os_user, sizeof(g->os_user), "postgres");
	conf_set_str(g->user, sizeof(g->user), "postgres");
	conf_set_str(g->database, sizeof(g->database), "postgres");
	conf_set_str(g->repl_user, sizeof(g->repl_user), "replicator");
	g->replication = REPL_SYNC;
	g->max_lag_on_failover = REDIS_MAX_LAG;
	g->timeout_ms = PG_TIMEOUT_MS;
	g->action_timeout_ms = PG_ACTION_TIMEOUT_MS;
	g->monitor_interval_ms = PG_MONITOR_MS;
}

/* Names that go into conninfo strings and SQL identifiers unquoted:
 * letters, digits, '_', '-', '.'. */
static const char *pg_name(char *dst, size_t cap, const char *v)
{
	size_t i;

	for (i = 0; v[i]; i++)
		if (!(v[i] >= 'a' && v[i] <= 'z') &&
		    !(v[i] >= 'A' && v[i] <= 'Z') &&
		    !(v[i] >= '0' && v[i] <= '9') && !strchr("_-.", v[i]))
			break;
	if (!v[0] || v[i] || !conf_set_str(dst, cap, v))
		return "a name of 1 to 63 letters, digits, '_', '-' or '.'";
	return NULL;
}

static const char *pg_data_dir(struct parser *p, const char *v)
{
	return conf_set_path(cur_pg(p)->data_dir, v);
}

static const char *pg_bin_dir(struct parser *p, const char *v)
{
	return conf_set_path(cur_pg(p)->bin_dir, v);
}

/* A socket directory (absolute path) or an IP literal. */
static const char *pg_host(struct parser *p, const char *v)
{
	struct conf_pg *g = cur_pg(p);

	if (v[0] == '/') {
		if (strchr(v, ' ') || strchr(v, '\'') || strchr(v, '\\') ||
		    conf_set_path(g->host, v))
			return "a socket directory (absolute path without "
			       "spaces, quotes or backslashes) or an IP address";
		return NULL;
	}
	if (conf_set_ip(g->host, sizeof(g->host), v))
		return "a socket directory (absolute path) or an IP address";
	return NULL;
}

static const char *pg_port(struct parser *p, const char *v)
{
	return conf_set_port(&cur_pg(p)->port, v);
}

static const char *pg_os_user(struct parser *p, const char *v)
{
	return pg_name(cur_pg(p)->os_user, sizeof(cur_pg(p)->os_user), v);
}

static const char *pg_user(struct parser *p, const char *v)
{
	return pg_name(cur_pg(p)->user, sizeof(cur_pg(p)->user), v);
}

static const char *pg_database(struct parser *p, const char *v)
{
	return pg_name(cur_pg(p)->database, sizeof(cur_pg(p)->database), v);
}

static const char *pg_repl_user(struct parser *p, const char *v)
{
	return pg_name(cur_pg(p)->repl_user, sizeof(cur_pg(p)->repl_user), v);
}

/* Passwords go into conninfo strings quoted; no control characters. */
static const char *pg_secret(struct parser *p, char *dst, size_t cap,
			     const char *v)
{
	p->secret = true;
	if (!conf_set_printable(dst, cap, v, true))
		return "a password of 1 to 127 printable characters (or "
		       "a password file)";
	return NULL;
}

static const char *pg_password(struct parser *p, const char *v)
{
	return pg_secret(p, cur_pg(p)->password,
			 sizeof(cur_pg(p)->password), v);
}

static const char *pg_password_file(struct parser *p, const char *v)
{
	return conf_set_path(cur_pg(p)->password_file, v);
}

static const char *pg_repl_password(struct parser *p, const char *v)
{
	return pg_secret(p, cur_pg(p)->repl_password,
			 sizeof(cur_pg(p)->repl_password), v);
}

static const char *pg_repl_password_file(struct parser *p, const char *v)
{
	return conf_set_path(cur_pg(p)->repl_password_file, v);
}

static const char *pg_replication(struct parser *p, const char *v)
{
	if (!strcmp(v, "sync"))
		cur_pg(p)->replication = REPL_SYNC;
	else if (!strcmp(v, "async"))
		cur_pg(p)->replication = REPL_ASYNC;
	else
		return "sync or async";
	return NULL;
}

static const char *pg_max_lag(struct parser *p, const char *v)
{
	struct conf_pg *g = cur_pg(p);

	if (max_lag_time(v, &g->max_lag_on_failover, &g->max_lag_ms))
		return NULL;
	if (conf_parse_size(v, &g->max_lag_on_failover))
		return "a size of WAL with a unit (B, kB, MB, GB), such as "
		       "16MB, or 0; a time such as 5s; or none";
	return NULL;
}

static const char *pg_timeout(struct parser *p, const char *v)
{
	return conf_set_duration(&cur_pg(p)->timeout_ms, v,
				 "a duration of at least 1ms, such as 2s");
}

static const char *pg_action_timeout(struct parser *p, const char *v)
{
	const char *want = conf_set_duration(&cur_pg(p)->action_timeout_ms, v,
					     "a duration of at least 1s, such "
					     "as 60s");

	if (!want && cur_pg(p)->action_timeout_ms < 1000)
		return "a duration of at least 1s, such as 60s";
	return want;
}

static const char *pg_monitor_interval(struct parser *p, const char *v)
{
	return conf_set_duration(&cur_pg(p)->monitor_interval_ms, v,
				 "a duration of at least 1ms, such as 200ms");
}

static const char *pg_keep_dir(struct parser *p, const char *v)
{
	return conf_set_path(cur_pg(p)->keep_dir, v);
}

static const char *pg_log_file(struct parser *p, const char *v)
{
	return conf_set_path(cur_pg(p)->log_file, v);
}

enum {
	PGK_TYPE, PGK_DATA_DIR, PGK_BIN_DIR, PGK_HOST, PGK_PORT, PGK_OS_USER,
	PGK_USER, PGK_PASSWORD, PGK_PASSWORD_FILE, PGK_DATABASE,
	PGK_REPL_USER, PGK_REPL_PASSWORD, PGK_REPL_PASSWORD_FILE,
	PGK_REPLICATION, PGK_MAX_LAG, PGK_TIMEOUT, PGK_ACTION_TIMEOUT,
	PGK_MONITOR, PGK_KEEP_DIR, PGK_LOG_FILE
};

static const struct key pg_keys[] = {
	[PGK_TYPE] = { "type", res_type, true },
	[PGK_DATA_DIR] = { "data_dir", pg_data_dir, true },
	[PGK_BIN_DIR] = { "bin_dir", pg_bin_dir, false },
	[PGK_HOST] = { "host", pg_host, false },
	[PGK_PORT] = { "port", pg_port, false },
	[PGK_OS_USER] = { "os_user", pg_os_user, false },
	[PGK_USER] = { "user", pg_user, false },
	[PGK_PASSWORD] = { "password", pg_password, false },
	[PGK_PASSWORD_FILE] = { "password_file", pg_password_file, false },
	[PGK_DATABASE] = { "database", pg_database, false },
	[PGK_REPL_USER] = { "replication_user", pg_repl_user, false },
	[PGK_REPL_PASSWORD] = { "replication_password", pg_repl_password,
				false },
	[PGK_REPL_PASSWORD_FILE] = { "replication_password_file",
				     pg_repl_password_file, false },
	[PGK_REPLICATION] = { "replication", pg_replication, false },
	[PGK_MAX_LAG] = { "max_lag_on_failover", pg_max_lag, false },
	[PGK_TIMEOUT] = { "timeout", pg_timeout, false },
	[PGK_ACTION_TIMEOUT] = { "action_timeout", pg_action_timeout, false },
	[PGK_MONITOR] = { "monitor_interval", pg_monitor_interval, false },
	[PGK_KEEP_DIR] = { "keep_dir", pg_keep_dir, false },
	[PGK_LOG_FILE] = { "log_file", pg_log_file, false },
	{ NULL, NULL, false },
};

/* [resource NAME], type = mariadb */

enum {
	MDB_TIMEOUT_MS = 2000,
	MDB_ACTION_TIMEOUT_MS = 60000,
	MDB_MONITOR_MS = 200,
	MDB_MAX_LAG = 1000,		/* transactions */
};

static struct conf_mariadb *cur_mdb(struct parser *p)
{
	return &p->c->resources[p->idx].mdb;
}

static void mdb_defaults(struct conf_mariadb *m)
{
	conf_set_str(m->socket, sizeof(m->socket), "/run/mysqld/mysqld.sock");
	m->port = 3306;
	conf_set_str(m->mariadbd, sizeof(m->mariadbd), "/usr/sbin/mariadbd");
	conf_set_str(m->os_user, sizeof(m->os_user), "mysql");
	conf_set_str(m->user, sizeof(m->user), "root");
	conf_set_str(m->repl_user, sizeof(m->repl_user), "replicator");
	m->replication = REPL_SYNC;
	m->max_lag_on_failover = MDB_MAX_LAG;
	m->gtid_domain = 0;
	m->timeout_ms = MDB_TIMEOUT_MS;
	m->action_timeout_ms = MDB_ACTION_TIMEOUT_MS;
	m->monitor_interval_ms = MDB_MONITOR_MS;
}

static const char *mdb_datadir(struct parser *p, const char *v)
{
	return conf_set_path(cur_mdb(p)->datadir, v);
}

/* Paths that go on mariadbd's command line and into SQL unquoted by the
 * server: no spaces, quotes or backslashes. */
static const char *mdb_path(char dst[CONF_PATH_MAX], const char *v)
{
	if (strpbrk(v, " '\"\\") || conf_set_path(dst, v))
		return "an absolute path without spaces, quotes or "
		       "backslashes";
	return NULL;
}

static const char *mdb_socket(struct parser *p, const char *v)
{
	return mdb_path(cur_mdb(p)->socket, v);
}

static const char *mdb_port(struct parser *p, const char *v)
{
	return conf_set_port(&cur_mdb(p)->port, v);
}

static const char *mdb_mariadbd(struct parser *p, const char *v)
{
	return mdb_path(cur_mdb(p)->mariadbd, v);
}

static const char *mdb_defaults_file(struct parser *p, const char *v)
{
	return mdb_path(cur_mdb(p)->defaults_file, v);
}

static const char *mdb_os_user(struct parser *p, const char *v)
{
	return pg_name(cur_mdb(p)->os_user, sizeof(cur_mdb(p)->os_user), v);
}

static const char *mdb_user(struct parser *p, const char *v)
{
	return pg_name(cur_mdb(p)->user, sizeof(cur_mdb(p)->user), v);
}

static const char *mdb_repl_user(struct parser *p, const char *v)
{
	return pg_name(cur_mdb(p)->repl_user, sizeof(cur_mdb(p)->repl_user),
		       v);
}

static const char *mdb_password(struct parser *p, const char *v)
{
	return pg_secret(p, cur_mdb(p)->password,
			 sizeof(cur_mdb(p)->password), v);
}

static const char *mdb_password_file(struct parser *p, const char *v)
{
	return conf_set_path(cur_mdb(p)->password_file, v);
}

static const char *mdb_repl_password(struct parser *p, const char *v)
{
	return pg_secret(p, cur_mdb(p)->repl_password,
			 sizeof(cur_mdb(p)->repl_password), v);
}

static const char *mdb_repl_password_file(struct parser *p, const char *v)
{
	return conf_set_path(cur_mdb(p)->repl_password_file, v);
}

static const char *mdb_replication(struct parser *p, const char *v)
{
	if (!strcmp(v, "sync"))
		cur_mdb(p)->replication = REPL_SYNC;
	else if (!strcmp(v, "async"))
		cur_mdb(p)->replication = REPL_ASYNC;
	else
		return "sync (semi-synchronous) or async";
	return NULL;
}

/* DESIGN departure: the position is a GTID sequence number, so the
 * amount is a number of transactions, not bytes (or a time). */
static const char *mdb_max_lag(struct parser *p, const char *v)
{
	struct conf_mariadb *m = cur_mdb(p);
	uint32_t n;

	if (max_lag_time(v, &m->max_lag_on_failover, &m->max_lag_ms))
		return NULL;
	if (conf_parse_uint(v, UINT32_MAX, &n))
		return "a number of transactions (GTID sequence numbers) "
		       "from 0 to 4294967295, such as 1000; a time such as "
		       "5s; or none";
	m->max_lag_on_failover = n;
	return NULL;
}

static const char *mdb_gtid_domain(struct parser *p, const char *v)
{
	if (conf_parse_uint(v, UINT32_MAX, &cur_mdb(p)->gtid_domain))
		return "a GTID domain id from 0 to 4294967295";
	return NULL;
}

static const char *mdb_timeout(struct parser *p, const char *v)
{
	return conf_set_duration(&cur_mdb(p)->timeout_ms, v,
				 "a duration of at least 1ms, such as 2s");
}

static const char *mdb_action_timeout(struct parser *p, const char *v)
{
	const char *want = conf_set_duration(&cur_mdb(p)->action_timeout_ms,
					     v, "a duration of at least 1s, "
					     "such as 60s");

	if (!want && cur_mdb(p)->action_timeout_ms < 1000)
		return "a duration of at least 1s, such as 60s";
	return want;
}

static const char *mdb_monitor_interval(struct parser *p, const char *v)
{
	return conf_set_duration(&cur_mdb(p)->monitor_interval_ms, v,
				 "a duration of at least 1ms, such as 200ms");
}

static const char *mdb_keep_dir(struct parser *p, const char *v)
{
	return mdb_path(cur_mdb(p)->keep_dir, v);
}

static const char *mdb_log_file(struct parser *p, const char *v)
{
	return mdb_path(cur_mdb(p)->log_file, v);
}

enum {
	MDK_TYPE, MDK_DATADIR, MDK_SOCKET, MDK_PORT, MDK_MARIADBD,
	MDK_DEFAULTS_FILE, MDK_OS_USER, MDK_USER, MDK_PASSWORD,
	MDK_PASSWORD_FILE, MDK_REPL_USER, MDK_REPL_PASSWORD,
	MDK_REPL_PASSWORD_FILE, MDK_REPLICATION, MDK_MAX_LAG, MDK_GTID_DOMAIN,
	MDK_TIMEOUT, MDK_ACTION_TIMEOUT, MDK_MONITOR, MDK_KEEP_DIR,
	MDK_LOG_FILE
};

static const struct key mdb_keys[] = {
	[MDK_TYPE] = { "type", res_type, true },
	[MDK_DATADIR] = { "datadir", mdb_datadir, true },
	[MDK_SOCKET] = { "socket", mdb_socket, false },
	[MDK_PORT] = { "port", mdb_port, false },
	[MDK_MARIADBD] = { "mariadbd", mdb_mariadbd, false },
	[MDK_DEFAULTS_FILE] = { "defaults_file", mdb_defaults_file, false },
	[MDK_OS_USER] = { "os_user", mdb_os_user, false },
	[MDK_USER] = { "user", mdb_user, false },
	[MDK_PASSWORD] = { "password", mdb_password, false },
	[MDK_PASSWORD_FILE] = { "password_file", mdb_password_file, false },
	[MDK_REPL_USER] = { "replication_user", mdb_repl_user, false },
	[MDK_REPL_PASSWORD] = { "replication_password", mdb_repl_password,
				false },
	[MDK_REPL_PASSWORD_FILE] = { "replication_password_file",
				     mdb_repl_password_file, false },
	[MDK_REPLICATION] = { "replication", mdb_replication, false },
	[MDK_MAX_LAG] = { "max_lag_on_failover", mdb_max_lag, false },
	[MDK_GTID_DOMAIN] = { "gtid_domain", mdb_gtid_domain, false },
	[MDK_TIMEOUT] = { "timeout", mdb_timeout, false },
	[MDK_ACTION_TIMEOUT] = { "action_timeout", mdb_action_timeout,
				 false },
	[MDK_MONITOR] = { "monitor_interval", mdb_monitor_interval, false },
	[MDK_KEEP_DIR] = { "keep_dir", mdb_keep_dir, false },
	[MDK_LOG_FILE] = { "log_file", mdb_log_file, false },
	{ NULL, NULL, false },
};

/* A resource whose type is not known: only "type" is checked (its error
 * says what is wrong); other keys are ignored, as their meaning depends
 * on the type. */
const struct key conf_untyped_keys[] = {
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
	return conf_set_ip(cur_check(p)->address,
			   sizeof(cur_check(p)->address), v);
}

static const char *check_port(struct parser *p, const char *v)
{
	return conf_set_port(&cur_check(p)->port, v);
}

/* The path goes into the request line as is: no spaces or controls. */
static const char *check_path(struct parser *p, const char *v)
{
	struct conf_check *ck = cur_check(p);

	if (v[0] != '/' ||
	    !conf_set_printable(ck->path, sizeof(ck->path), v, false))
		return "a path starting with '/', without spaces, shorter "
		       "than 256 bytes";
	return NULL;
}

/* 1xx answers are never final (and never sent to an HTTP/1.0 client),
 * so a check expecting one could never pass. */
static const char *check_expect_status(struct parser *p, const char *v)
{
	uint32_t n;

	if (conf_parse_uint(v, STATUS_MAX, &n) || n < STATUS_MIN)
		return "an HTTP status from 200 to 599";
	cur_check(p)->expect_status = n;
	return NULL;
}

static const char *check_command(struct parser *p, const char *v)
{
	return conf_set_command(cur_check(p)->command, v);
}

static const char *check_interval(struct parser *p, const char *v)
{
	return conf_set_duration(&cur_check(p)->interval_ms, v,
				 "a duration of at least 1ms, such as 1s");
}

static const char *check_timeout(struct parser *p, const char *v)
{
	return conf_set_duration(&cur_check(p)->timeout_ms, v,
				 "a duration of at least 1ms, such as 1s");
}

/* rise and fall: how many results in a row turn a check. */
static const char *set_count(uint32_t *dst, const char *v)
{
	if (conf_parse_uint(v, CHECK_COUNT_MAX, dst) || !*dst)
		return "an integer from 1 to 100";
	return NULL;
}

static const char *check_rise(struct parser *p, const char *v)
{
	return set_count(&cur_check(p)->rise, v);
}

static const char *check_fall(struct parser *p, const char *v)
{
	return set_count(&cur_check(p)->fall, v);
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
	conf_set_str(ck->address, sizeof(ck->address), "127.0.0.1");
	conf_set_str(ck->path, sizeof(ck->path), "/");
	ck->expect_status = STATUS_MIN;
	ck->interval_ms = CHECK_INTERVAL_MS;
	ck->timeout_ms = CHECK_TIMEOUT_MS;
	ck->rise = 2;
	ck->fall = 2;
}

/* [notify NAME] */

static const char *notify_command(struct parser *p, const char *v)
{
	return conf_set_command(p->c->notify[p->idx].command, v);
}

static const char *notify_timeout(struct parser *p, const char *v)
{
	return conf_set_duration(&p->c->notify[p->idx].timeout_ms, v,
				 "a duration of at least 1ms, such as 10s");
}

static const struct key notify_keys[] = {
	{ "command", notify_command, true },
	{ "timeout", notify_timeout, false },
	{ NULL, NULL, false },
};

/* interface@NODE: remembered now, matched to a node in check_ifaces. */
void conf_set_iface_ref(struct parser *p, const char *key, const char *v)
{
	const char *node = key + strlen("interface@");
	char shown[2 * SHOW_MAX], val[2 * SHOW_MAX];
	struct iface_ref *r;
	int i;

	conf_escape(shown, sizeof(shown), key);
	conf_escape(val, sizeof(val), v);
	if (!conf_valid_name(node)) {
		conf_errf(p, p->line, "%s %s: expected interface@NODE where "
			  "NODE is the name of a [node] section",
			  p->sect->label, shown);
		return;
	}
	if (!conf_valid_ifname(v)) {
		conf_errf(p, p->line, "%s %s: expected an interface name of 1 "
			  "to 15 characters without '/', ':' or spaces, got "
			  "\"%s\"", p->sect->label, shown, val);
		return;
	}
	for (i = 0; i < p->n_iface; i++) {
		r = &p->iface[i];
		if (r->res == p->idx && !strcmp(r->node, node)) {
			conf_errf(p, p->line, "%s %s: duplicate key (first set "
				  "on line %d)", p->sect->label, shown,
				  r->line);
			return;
		}
	}
	if (p->n_iface == IFACE_REFS_MAX) {
		conf_errf(p, p->line, "%s %s: too many interface@NODE keys in "
			  "the file (at most %d)", p->sect->label, shown,
			  IFACE_REFS_MAX);
		return;
	}
	r = &p->iface[p->n_iface++];
	r->res = p->idx;
	r->line = p->line;
	conf_set_str(r->node, sizeof(r->node), node);
	conf_set_str(r->ifname, sizeof(r->ifname), v);
}

void conf_open_resource(struct parser *p, const char *name, const char *label)
{
	struct conf_resource *r;
	char type[TYPE_PEEK_MAX];

	if (!conf_open_listed(p, K_RESOURCE, name, label))
		return;
	r = &p->c->resources[p->idx];
	conf_set_str(r->name, sizeof(r->name), name);
	/* No type at all is reported by the check pass; the keys are then
	 * read as vip keys, the one type there was before types. */
	conf_peek_type(p, type, sizeof(type));
	if (!strcmp(type, "redis")) {
		r->type = RES_REDIS;
		redis_defaults(&r->redis);
		p->keys = redis_keys;
	} else if (!strcmp(type, "postgresql")) {
		r->type = RES_POSTGRESQL;
		pg_defaults(&r->pg);
		p->keys = pg_keys;
	} else if (!strcmp(type, "mariadb")) {
		r->type = RES_MARIADB;
		mdb_defaults(&r->mdb);
		p->keys = mdb_keys;
	} else if (!type[0] || !strcmp(type, "vip")) {
		r->type = RES_VIP;
		r->vip.garp_count = 5;
		r->vip.garp_interval_ms = 100;
		p->keys = conf_vip_keys;
	} else {
		p->keys = conf_untyped_keys;
	}
	p->res_keys[p->idx] = p->keys;
}

void conf_open_check(struct parser *p, const char *name, const char *label)
{
	struct conf_check *ck;

	if (!conf_open_listed(p, K_CHECK, name, label))
		return;
	ck = &p->c->checks[p->idx];
	conf_set_str(ck->name, sizeof(ck->name), name);
	check_defaults(ck);
	p->keys = check_keys;
}

void conf_open_notify(struct parser *p, const char *name, const char *label)
{
	struct conf_notify *n;

	if (!conf_open_listed(p, K_NOTIFY, name, label))
		return;
	n = &p->c->notify[p->idx];
	conf_set_str(n->name, sizeof(n->name), name);
	n->timeout_ms = NOTIFY_TIMEOUT_MS;
	p->keys = notify_keys;
}

/* Check pass. */

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
			conf_set_str(c->resources[r->res].vip.node_interface
					[n->id - 1],
				     IFNAME_MAX + 1, r->ifname);
			continue;
		}
		conf_errf(p, r->line, "%s interface@%s: expected the name of a "
			  "[node] section (%s), got \"%s\"",
			  p->res[r->res].label, r->node, names, r->node);
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
		conf_errf(p, pw > pf ? pw : pf, "%s %s: expected either "
			  "password or password_file, not both (%s is set on "
			  "line %d)", s->label,
			  pw > pf ? "password" : "password_file",
			  pw > pf ? "password_file" : "password",
			  pw > pf ? pf : pw);
	if (s->key_line[RDK_KEEP_DIR])
		return;
	len = snprintf(r->keep_dir, sizeof(r->keep_dir), "%s%skept", dir,
		       n && dir[n - 1] == '/' ? "" : "/");
	if (len < 0 || (size_t)len >= sizeof(r->keep_dir))
		conf_errf(p, s->line, "%s: keep_dir defaults to "
			  "<state_dir>/kept, which is longer than 255 bytes; "
			  "set keep_dir", s->label);
}

/* Either a secret or its file, not both (pw, pf: their key lines). */
static void check_either(struct parser *p, const struct sect *s, int pw,
			 int pf, const char *kpw, const char *kpf)
{
	if (pw && pf)
		conf_errf(p, pw > pf ? pw : pf, "%s %s: expected either %s "
			  "or %s, not both (%s is set on line %d)", s->label,
			  pw > pf ? kpw : kpf, kpw, kpf, pw > pf ? kpf : kpw,
			  pw > pf ? pf : pw);
}

/* Passwords, keep_dir and log_file defaults; replication and
 * max_lag_on_failover mirrored where agent.c reads them. */
static void check_pg(struct parser *p, int i)
{
	struct conf_resource *cr = &p->c->resources[i];
	struct conf_pg *g = &cr->pg;
	const struct sect *s = &p->res[i];
	const char *dir = p->c->state_dir;
	size_t n = strlen(dir);
	int len;

	check_either(p, s, s->key_line[PGK_PASSWORD],
		     s->key_line[PGK_PASSWORD_FILE], "password",
		     "password_file");
	check_either(p, s, s->key_line[PGK_REPL_PASSWORD],
		     s->key_line[PGK_REPL_PASSWORD_FILE],
		     "replication_password", "replication_password_file");
	if (!s->key_line[PGK_LOG_FILE]) {
		char name[CONF_NAME_MAX];

		conf_set_str(name, sizeof(name), cr->name);
		len = snprintf(g->log_file, sizeof(g->log_file),
			       "/var/log/postgresql/hapair-%s.log", name);
		if (len < 0 || (size_t)len >= sizeof(g->log_file))
			conf_errf(p, s->line, "%s: log_file defaults to "
				  "/var/log/postgresql/hapair-NAME.log, which "
				  "is longer than 255 bytes; set log_file",
				  s->label);
	}
	if (s->key_line[PGK_KEEP_DIR])
		return;
	len = snprintf(g->keep_dir, sizeof(g->keep_dir), "%s%skept", dir,
		       n && dir[n - 1] == '/' ? "" : "/");
	if (len < 0 || (size_t)len >= sizeof(g->keep_dir))
		conf_errf(p, s->line, "%s: keep_dir defaults to "
			  "<state_dir>/kept, which is longer than 255 bytes; "
			  "set keep_dir", s->label);
}

int conf_load_pg_passwords(struct conf_pg *g, struct hp_err *err)
{
	if (g->password_file[0] &&
	    conf_read_secret_line(g->password_file, "postgresql password file",
				  "PostgreSQL password", "password",
				  g->password, sizeof(g->password), err))
		return -1;
	if (g->repl_password_file[0] &&
	    conf_read_secret_line(g->repl_password_file,
				  "postgresql replication password file",
				  "PostgreSQL replication password", "password",
				  g->repl_password, sizeof(g->repl_password),
				  err))
		return -1;
	return 0;
}

/* Passwords, keep_dir and log_file defaults, as for postgresql. */
static void check_mdb(struct parser *p, int i)
{
	struct conf_resource *cr = &p->c->resources[i];
	struct conf_mariadb *m = &cr->mdb;
	const struct sect *s = &p->res[i];
	const char *dir = p->c->state_dir;
	size_t n = strlen(dir);
	int len;

	check_either(p, s, s->key_line[MDK_PASSWORD],
		     s->key_line[MDK_PASSWORD_FILE], "password",
		     "password_file");
	check_either(p, s, s->key_line[MDK_REPL_PASSWORD],
		     s->key_line[MDK_REPL_PASSWORD_FILE],
		     "replication_password", "replication_password_file");
	if (!s->key_line[MDK_LOG_FILE]) {
		char name[CONF_NAME_MAX];

		conf_set_str(name, sizeof(name), cr->name);
		len = snprintf(m->log_file, sizeof(m->log_file),
			       "/var/log/mysql/hapair-%s.log", name);
		if (len < 0 || (size_t)len >= sizeof(m->log_file))
			conf_errf(p, s->line, "%s: log_file defaults to "
				  "/var/log/mysql/hapair-NAME.log, which is "
				  "longer than 255 bytes; set log_file",
				  s->label);
	}
	if (s->key_line[MDK_KEEP_DIR])
		return;
	len = snprintf(m->keep_dir, sizeof(m->keep_dir), "%s%skept", dir,
		       n && dir[n - 1] == '/' ? "" : "/");
	if (len < 0 || (size_t)len >= sizeof(m->keep_dir))
		conf_errf(p, s->line, "%s: keep_dir defaults to "
			  "<state_dir>/kept, which is longer than 255 bytes; "
			  "set keep_dir", s->label);
}

int conf_load_mdb_passwords(struct conf_mariadb *m, struct hp_err *err)
{
	if (m->password_file[0] &&
	    conf_read_secret_line(m->password_file, "mariadb password file",
				  "MariaDB password", "password",
				  m->password, sizeof(m->password), err))
		return -1;
	if (m->repl_password_file[0] &&
	    conf_read_secret_line(m->repl_password_file,
				  "mariadb replication password file",
				  "MariaDB replication password", "password",
				  m->repl_password, sizeof(m->repl_password),
				  err))
		return -1;
	return 0;
}

static void check_resources(struct parser *p)
{
	const struct conf_vip *vip;
	int i, j, nodes = p->n_node_sections;

	if (nodes > CONF_NODES)
		nodes = CONF_NODES;
	check_ifaces(p);
	for (i = 0; i < p->c->n_resources; i++) {
		conf_check_required(p, &p->res[i], p->res_keys[i]);
		if (p->res_keys[i] == redis_keys)
			check_redis(p, i);
		if (p->res_keys[i] == pg_keys)
			check_pg(p, i);
		if (p->res_keys[i] == mdb_keys)
			check_mdb(p, i);
		vip = &p->c->resources[i].vip;
		if (p->res_keys[i] != conf_vip_keys || vip->interface[0])
			continue;
		for (j = 0; j < nodes; j++) {
			if (vip->node_interface[j][0])
				continue;
			conf_errf(p, p->res[i].line, "%s: missing required key "
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
		conf_errf(p, s->key_line[k], "%s %s: not used by type %s (only "
			  "by %s); remove it", s->label, check_keys[k].name,
			  type_name[type], use == USE_HTTP ? "type http" :
			  use == USE_SCRIPT ? "type script" :
			  "types tcp and http");
	}
	if (!s->key_line[need])
		conf_errf(p, s->line, "%s: missing required key \"%s\" (type "
			  "%s needs it)", s->label, check_keys[need].name,
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
		conf_errf(p, s->key_line[CHK_TIMEOUT], "%s timeout: expected "
			  "at most the interval (%" PRIu32 "ms), got %" PRIu32
			  "ms", s->label, ck->interval_ms, ck->timeout_ms);
}

static void check_checks(struct parser *p)
{
	int i;

	for (i = 0; i < p->c->n_checks; i++) {
		conf_check_required(p, &p->chk[i], check_keys);
		if (p->chk_typed[i])
			check_check_keys(p, i);
		check_check_timeout(p, i);
	}
}

static void check_notify(struct parser *p)
{
	int i;

	for (i = 0; i < p->c->n_notify; i++)
		conf_check_required(p, &p->ntf[i], notify_keys);
}

void conf_res_check(struct parser *p)
{
	check_resources(p);
	check_checks(p);
	check_notify(p);
}

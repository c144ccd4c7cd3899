/*
 * conf.h - the cluster configuration file.  PURE (libc + libsodium only).
 *
 * One INI-style file, the same on both servers:
 *
 *   # comment            ; comment too
 *   [cluster]
 *   name = shop-db                  # required; hashed into the cluster id
 *   key_file = /etc/hapair/key      # required; 32-byte key, hex (keygen)
 *   heartbeat_interval = 100ms      # default 100ms
 *   lease = 700ms                   # default 700ms; > 2 * heartbeat
 *   drift = 1%                      # clock-rate drift allowance, 0..20%
 *   quorum = witness                # witness | none
 *   failover_hold_down = 60s
 *   switchover_timeout = 10s        # planned switchover: the standby must
 *                                   # reach the exact position by then
 *   state_dir = /var/lib/hapair     # term/vote files: <dir>/<node>.state
 *   run_dir = /run/hapair           # control sockets: <dir>/<node>.sock
 *
 *   [node a]                        # exactly two [node] sections
 *   address = 192.0.2.1             # IPv4 or IPv6 literal
 *   port = 5405
 *   priority = 100                  # 0..255, higher wins a tie
 *
 *   [witness]                       # required unless quorum = none
 *   address = 192.0.2.3
 *   port = 5405
 *
 *   [resource vip]                  # zero or more, promoted in file order
 *   type = vip
 *   address = 192.0.2.100/24        # IPv4 or IPv6 with prefix length
 *   interface = eth0                # or per node: interface@a = eth1
 *   garp_count = 5                  # gratuitous ARPs/NAs after promote
 *   garp_interval = 100ms
 *   garp_refresh = 0                # periodic re-announce while primary; 0 off
 *
 *   [resource cache]                # a Redis data resource (at most one
 *   type = redis                    # data resource: redis, ...)
 *   port = 6379                     # local redis-server port; replicas
 *                                   # reach the primary at its [node]
 *                                   # address and this port
 *   host = 127.0.0.1                # how the agent reaches its local Redis
 *   user = hapair                   # ACL user; optional
 *   password_file = /etc/hapair/redis.pass  # or password = ...; optional
 *   replication = sync              # sync | async
 *   max_lag_on_failover = 1MB       # async: replication-offset bytes
 *   timeout = 1s                    # per command
 *   monitor_interval = 100ms        # INFO replication poll
 *   keep_dir = /var/lib/hapair/kept # copies of data set aside before resync
 *
 *   [resource db]                   # a PostgreSQL data resource
 *   type = postgresql               # (docs/config.md lists every key)
 *   data_dir = /var/lib/postgresql/15/main   # required
 *   port = 5432  host = /var/run/postgresql  # local connection
 *   user = postgres  password_file = ...     # the agent's superuser
 *   replication_user = replicator  replication_password_file = ...
 *   replication = sync              # sync | async (max_lag_on_failover)
 *
 *   [check web]                     # zero or more; all must pass
 *   type = tcp                      # tcp | http | script
 *   address = 127.0.0.1             # tcp, http
 *   port = 80                       # tcp, http
 *   path = /health                  # http: GET path (default /)
 *   expect_status = 200             # http: 200..599 (default 200)
 *   command = /usr/local/bin/chk    # script: run by /bin/sh -c; 0 = pass
 *   interval = 1s  timeout = 1s  rise = 2  fall = 2
 *
 *   [notify pager]                  # zero or more programs on role change
 *   command = /usr/local/bin/notify # gets TYPE NAME STATE, HAPAIR_* env
 *   timeout = 10s
 *
 *   [api]                           # optional: HTTP API on each agent
 *   listen = 127.0.0.1:9405         # required; IPv6 as [::1]:9405
 *   listen@a = 192.0.2.1:9405       # per node, overrides listen
 *   token_file = /etc/hapair/api.token  # bearer token for POST calls
 *                                   # (switchover, pause, resume); mode
 *                                   # 0600; without it they answer 403
 *
 *   [alert pager]                   # zero to 8 webhooks: events POSTed
 *   url = https://alerts.example.net/hook  # required; http(s)://HOST...
 *   bearer_token_file = /etc/hapair/pager.token  # optional; mode 0600
 *   min_severity = warning          # info | warning | critical (def info)
 *   kinds = failover, switchover, sync, fence  # event kinds; default all
 *   timeout = 5s                    # per attempt (default 5s)
 *   retries = 5                     # attempts after the first, 0..100
 *   retry_backoff = 1s              # first retry delay, doubles, <= 60s
 *
 *   [events]                        # optional: where events also go
 *   file = /var/log/hapair/events.jsonl  # JSON lines; "" or absent: none
 *   syslog = yes                    # yes | no (default no)
 *
 * Sizes: integer with unit B, kB, KB, MB, GB (1024-based); "0" allowed.
 * Durations: integer with unit ms, s, m (e.g. 100ms, 1s, 2m); a bare
 * number is an error.  Percentages: "1%" or "0.5%".  Every error names
 * file:line, the section and key, what was expected and what was found:
 *
 *   hapair.conf:14: [node b] address: expected IPv4 or IPv6, got "10.0.0.300"
 *
 * Unknown sections and keys are errors.  Duplicate keys are errors.
 */
#ifndef HAPAIR_CONF_H
#define HAPAIR_CONF_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"

enum {
	CONF_NAME_MAX = 64,
	CONF_PATH_MAX = 256,
	CONF_MAX_RESOURCES = 16,
	CONF_MAX_CHECKS = 16,
	CONF_MAX_NOTIFY = 8,
	CONF_MAX_ALERTS = 8,
	CONF_URL_MAX = 512,
	CONF_TOKEN_MAX = 256,
	CONF_CMD_MAX = 512,
	CONF_MAX_ERRORS = 32,
	CONF_NODES = 2,
};

/* max_lag_on_failover = none (or a time bound): no amount bound. */
#define CONF_LAG_NONE UINT64_MAX

enum conf_quorum { QUORUM_WITNESS, QUORUM_NONE };
enum conf_res_type { RES_VIP, RES_REDIS, RES_POSTGRESQL, RES_MARIADB };
enum conf_replication { REPL_SYNC, REPL_ASYNC };
enum conf_check_type { CHECK_TCP, CHECK_HTTP, CHECK_SCRIPT };

/* A UDP endpoint: address literal as written plus the parsed sockaddr. */
struct conf_endpoint {
	char host[64];
	uint16_t port;
	struct sockaddr_storage sa;
	socklen_t sa_len;
};

struct conf_node {
	char name[CONF_NAME_MAX];
	uint8_t id;		/* 1 or 2, in file order */
	struct conf_endpoint ep;
	uint32_t priority;
};

struct conf_vip {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network order; 4 bytes used for IPv4 */
	uint8_t prefix_len;
	char text[80];		/* as written, e.g. "192.0.2.100/24" */
	char interface[16];	/* default interface */
	char node_interface[CONF_NODES][16]; /* interface@NODE, "" = default */
	uint32_t garp_count;
	uint32_t garp_interval_ms;
	uint32_t garp_refresh_ms; /* 0 = off */
};

struct conf_redis {
	char host[64];		/* local connection, default 127.0.0.1 */
	uint16_t port;		/* default 6379 */
	char user[64];		/* ACL user, "" = default user */
	char password[128];	/* from password or password_file, "" = none */
	char password_file[CONF_PATH_MAX];
	enum conf_replication replication;	/* default sync */
	uint64_t max_lag_on_failover;	/* bytes, default 1MB */
	uint32_t max_lag_ms;		/* time bound instead (5s), 0 = none;
					 * then max_lag_on_failover is
					 * CONF_LAG_NONE */
	uint32_t timeout_ms;		/* default 1s */
	uint32_t monitor_interval_ms;	/* default 100ms */
	char keep_dir[CONF_PATH_MAX];	/* default <state_dir>/kept */
};

/* [resource NAME] type = postgresql (docs/config.md, PostgreSQL). */
struct conf_pg {
	char data_dir[CONF_PATH_MAX];	/* required */
	char bin_dir[CONF_PATH_MAX];	/* default /usr/lib/postgresql/15/bin */
	char host[CONF_PATH_MAX];	/* local connection: socket directory
					 * or IP, default /var/run/postgresql */
	uint16_t port;			/* default 5432 */
	char os_user[64];		/* runs the server, default postgres */
	char user[64];			/* superuser of the agent, def. postgres */
	char password[128];		/* password or password_file, "" = none */
	char password_file[CONF_PATH_MAX];
	char database[64];		/* default postgres */
	char repl_user[64];		/* replication_user, default replicator */
	char repl_password[128];	/* "" = none */
	char repl_password_file[CONF_PATH_MAX];
	enum conf_replication replication;	/* default sync */
	uint64_t max_lag_on_failover;	/* bytes of WAL, default 1MB */
	uint32_t max_lag_ms;		/* time bound instead (5s), 0 = none;
					 * then max_lag_on_failover is
					 * CONF_LAG_NONE */
	uint32_t timeout_ms;		/* per query, default 2s */
	uint32_t action_timeout_ms;	/* pg_ctl, pg_rewind, ...: def. 60s */
	uint32_t monitor_interval_ms;	/* default 200ms */
	char keep_dir[CONF_PATH_MAX];	/* default <state_dir>/kept */
	char log_file[CONF_PATH_MAX];	/* pg_ctl -l, default
					 * /var/log/postgresql/hapair-NAME.log */
};

/* [resource NAME] type = mariadb (docs/config.md, MariaDB). */
struct conf_mariadb {
	char datadir[CONF_PATH_MAX];	/* required */
	char socket[CONF_PATH_MAX];	/* the agent's connection, default
					 * /run/mysqld/mysqld.sock */
	uint16_t port;			/* TCP, default 3306 */
	char mariadbd[CONF_PATH_MAX];	/* default /usr/sbin/mariadbd */
	char defaults_file[CONF_PATH_MAX]; /* "" = built-in options only */
	char os_user[64];		/* runs the server, default mysql */
	char user[64];			/* the agent's account, default root */
	char password[128];		/* password or password_file, "" = none */
	char password_file[CONF_PATH_MAX];
	char repl_user[64];		/* replication_user, default replicator */
	char repl_password[128];	/* "" = none */
	char repl_password_file[CONF_PATH_MAX];
	enum conf_replication replication;	/* default sync (semi-sync) */
	uint64_t max_lag_on_failover;	/* transactions (GTID sequence
					 * numbers), default 1000 */
	uint32_t max_lag_ms;		/* time bound instead (5s), 0 = none;
					 * then max_lag_on_failover is
					 * CONF_LAG_NONE */
	uint32_t gtid_domain;		/* default 0 */
	uint32_t timeout_ms;		/* per query, default 2s */
	uint32_t action_timeout_ms;	/* start, relay-log apply, clone: 60s */
	uint32_t monitor_interval_ms;	/* default 200ms */
	char keep_dir[CONF_PATH_MAX];	/* default <state_dir>/kept */
	char log_file[CONF_PATH_MAX];	/* --log-error, default
					 * /var/log/mysql/hapair-NAME.log */
};

struct conf_resource {
	char name[CONF_NAME_MAX];
	enum conf_res_type type;
	struct conf_vip vip;	/* type == RES_VIP */
	struct conf_redis redis; /* type == RES_REDIS */
	struct conf_pg pg;	/* type == RES_POSTGRESQL */
	struct conf_mariadb mdb; /* type == RES_MARIADB */
};

struct conf_check {
	char name[CONF_NAME_MAX];
	enum conf_check_type type;
	char address[64];	/* tcp, http: IPv4/IPv6 literal, default
				 * 127.0.0.1 */
	uint16_t port;		/* tcp, http: required */
	char path[256];		/* http, default "/" */
	uint32_t expect_status;	/* http, default 200 */
	char command[CONF_CMD_MAX]; /* script: required */
	uint32_t interval_ms;	/* default 1s */
	uint32_t timeout_ms;	/* default 1s (interval if shorter), must
				 * be <= interval */
	uint32_t rise;		/* passes in a row to turn healthy, def 2 */
	uint32_t fall;		/* failures in a row to turn failed, def 2 */
};

struct conf_notify {
	char name[CONF_NAME_MAX];
	char command[CONF_CMD_MAX]; /* run by /bin/sh -c with arguments */
	uint32_t timeout_ms;	/* default 10s */
};

/* The HTTP API ([api]); agents only, the witness serves none. */
struct conf_api {
	bool enabled;			/* an [api] section is present */
	char token_file[CONF_PATH_MAX];	/* bearer token for POST calls;
					 * "" = mutating calls disabled */
	char token[CONF_TOKEN_MAX];	/* NOT filled by conf_load: see
					 * conf_load_api_token */
	struct conf_endpoint listen;	/* listen: both nodes by default */
	struct conf_endpoint node_listen[CONF_NODES]; /* listen@NODE; port
						       * 0 = not set */
};

/* A webhook ([alert NAME]): events matching the filters are POSTed as
 * JSON (alert.h). */
struct conf_alert {
	char name[CONF_NAME_MAX];
	char url[CONF_URL_MAX];		/* http:// or https:// with a host */
	char bearer_token_file[CONF_PATH_MAX];	/* "" = no token */
	char bearer_token[CONF_TOKEN_MAX]; /* NOT filled by conf_load: see
					    * conf_load_alert_tokens */
	uint32_t min_severity;		/* enum event_severity, def SEV_INFO */
	uint32_t kinds;			/* bit (1u << enum event_kind); def
					 * all */
	uint32_t timeout_ms;		/* per attempt, default 5s */
	uint32_t retries;		/* attempts after the first, def 5,
					 * max 100 */
	uint32_t backoff_ms;		/* first retry delay, default 1s;
					 * doubles, capped at 60s */
};

/* [events]: where events go besides the log and the ring. */
struct conf_events {
	char file[CONF_PATH_MAX];	/* JSON-lines file, "" = none */
	bool syslog;			/* also to syslog(3), default no */
};

struct conf {
	char path[CONF_PATH_MAX];	/* file it was loaded from */
	char name[CONF_NAME_MAX];	/* cluster name */
	uint64_t cluster_id;		/* proto_cluster_id(name) */
	char key_file[CONF_PATH_MAX];
	uint32_t heartbeat_ms;
	uint32_t lease_ms;
	uint32_t drift_ppm;		/* 1% = 10000 */
	enum conf_quorum quorum;
	uint32_t hold_down_ms;
	uint32_t switchover_timeout_ms;	/* standby must catch up within */
	char state_dir[CONF_PATH_MAX];
	char run_dir[CONF_PATH_MAX];

	struct conf_node nodes[CONF_NODES];
	bool has_witness;
	struct conf_endpoint witness;	/* node id 3 */

	int n_resources;
	struct conf_resource resources[CONF_MAX_RESOURCES];
	int n_checks;
	struct conf_check checks[CONF_MAX_CHECKS];
	int n_notify;
	struct conf_notify notify[CONF_MAX_NOTIFY];
	struct conf_api api;
	int n_alerts;
	struct conf_alert alerts[CONF_MAX_ALERTS];
	struct conf_events events;
};

/* Every error found in one file, each a full sentence with file:line. */
struct conf_errors {
	int n;
	char msg[CONF_MAX_ERRORS][HP_ERR_MAX];
};

/* Parse the file at path into *out.  Collects every error (up to
 * CONF_MAX_ERRORS) instead of stopping at the first.  Returns 0 if the
 * file is valid, -1 otherwise; errs->n > 0 then.  Does not read the key
 * file (see conf_load_key). */
int conf_load(const char *path, struct conf *out, struct conf_errors *errs);

/* Same as conf_load() on text in memory; path is used in messages only. */
int conf_parse(const char *text, size_t len, const char *path,
	       struct conf *out, struct conf_errors *errs);

/* Read the 32-byte key (64 hex digits, optional trailing newline) from
 * conf->key_file.  Refuses a file readable or writable by group/other:
 * "key file /etc/hapair/key: mode 0644 lets others read the cluster key;
 * chmod 600 it".  Returns 0 or -1 with *err set. */
int conf_load_key(const struct conf *conf, uint8_t key[32],
		  struct hp_err *err);

/* Read the Redis password from r->password_file into r->password: one
 * line of at most 127 bytes, one trailing newline stripped.  Refuses a
 * file readable or writable by group/other, as conf_load_key does.  Not
 * done by conf_load(), which also runs on the witness (no Redis there).
 * Returns 0 (also when no password_file is set) or -1 with *err set. */
int conf_load_redis_password(struct conf_redis *r, struct hp_err *err);

/* The same for a postgresql resource: password_file and
 * replication_password_file into password and repl_password. */
int conf_load_pg_passwords(struct conf_pg *pg, struct hp_err *err);

/* The same for a mariadb resource. */
int conf_load_mdb_passwords(struct conf_mariadb *m, struct hp_err *err);

/* Read the API bearer token from conf->api.token_file into
 * conf->api.token (one line, at least 16 bytes), refusing a file others
 * may read.  Returns 0 (also without a token_file) or -1 with *err. */
int conf_load_api_token(struct conf *conf, struct hp_err *err);

/* Read each alert's bearer_token_file into its bearer_token: one line
 * of 1 to 255 printable characters without spaces, one trailing newline
 * stripped; refuses a file group/other may read or change, as
 * conf_load_key does.  Agents only (the witness sends no alerts).
 * Returns 0 (also without any token file) or -1 with *err set. */
int conf_load_alert_tokens(struct conf *conf, struct hp_err *err);

/* Everything an agent reads besides the config file: each resource's
 * password files, the alerts' tokens, the API token (the functions
 * above).  At start and on SIGHUP (reload.c), never on the witness.
 * Returns 0 or -1 with *err set by the first that failed. */
int conf_load_secrets(struct conf *conf, struct hp_err *err);

/* The node with this name, or NULL. */
const struct conf_node *conf_node_by_name(const struct conf *conf,
					  const char *name);

/* Interface for a vip on node id (1 or 2): interface@NODE or default. */
const char *conf_vip_interface(const struct conf_vip *vip, uint8_t node_id);

/* Where node id (1 or 2) serves its HTTP API: listen@NODE or listen;
 * NULL without an [api] section. */
const struct conf_endpoint *conf_api_listen(const struct conf *conf,
					    uint8_t node_id);

/* Parse helpers, exposed for tests: return 0 or -1. */
int conf_parse_duration_ms(const char *s, uint32_t *out_ms);
int conf_parse_percent_ppm(const char *s, uint32_t *out_ppm);
int conf_parse_size(const char *s, uint64_t *out_bytes);

/* Replication mode and max_lag_on_failover of a data resource, whatever
 * its type: the amount in the data's units (CONF_LAG_NONE: no amount
 * bound) and the time bound in ms (0: none). */
enum conf_replication conf_data_replication(const struct conf_resource *r);
uint64_t conf_data_max_lag(const struct conf_resource *r);
uint32_t conf_data_max_lag_ms(const struct conf_resource *r);

/* The data resource (redis, ...) or NULL: at most one per cluster. */
const struct conf_resource *conf_data_resource(const struct conf *conf);

#endif

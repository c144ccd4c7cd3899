/*
 * res_mariadb_int.h - what the files of the MariaDB resource share:
 * res_mariadb.c (actions as plans of steps, monitoring, the ops table)
 * and res_mariadb_conn.c (libmariadb connections on the libuv loop,
 * child processes with timeouts, finding and killing the server, the
 * guard's blocking fence).  Internal header: only these and
 * cli_clone.c include it.
 */
#ifndef HAPAIR_RES_MARIADB_INT_H
#define HAPAIR_RES_MARIADB_INT_H

#include <mysql.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "res_child.h"
#include "res_int.h"

enum {
	MD_ARGV_MAX = 32,
	MD_SQL_MAX = 1536,
	MD_PLAN_MAX = 24,
	MD_GTID_MAX = 512,	/* a gtid_binlog_state we compare */
	MD_KICK_MAX = 64,	/* client connections killed per step */
	MD_PIDS_MAX = 8,	/* servers found on one datadir */
	MD_NET_TIMEOUT_S = 3,	/* slave_net_timeout set on standbys */
	MD_UP_POLL_MS = 100,	/* a starting server is tried this often */
	MD_REPAIR_MS = 2000,	/* at most one repair every 2 s */
	MD_BACKOFF_MIN_MS = 100,
	MD_BACKOFF_MAX_MS = 2000,
};

struct mdd;
struct mdc;

/* A query's end: res is its result set (NULL for a statement without
 * one, or if err is set); err says what failed, with context.  Not
 * called for a dropped query. */
typedef void (*mdc_cb)(struct mdc *c, MYSQL_RES *res, const char *err);

enum mdc_phase { MDC_IDLE, MDC_CONNECT, MDC_QUERY, MDC_STORE };

/* One libmariadb connection (non-blocking API) to the local server
 * over its socket, or (remote) over TCP to the primary, driven by a
 * uv_poll_t on its socket. */
struct mdc {
	struct mdd *d;
	const char *label;	/* "monitor", "action", ... */
	MYSQL *m;
	bool connected;
	bool remote;		/* TCP to d->primary_id as replication user */
	uv_poll_t *poll;	/* malloc'd: closed and freed with the socket */
	int poll_fd;
	uv_timer_t timer;	/* connect or query not done in time */
	uint32_t timeout_ms;
	uint64_t retry_at_ms;	/* no reconnect before this */
	uint32_t backoff_ms;
	char sql[MD_SQL_MAX];	/* query to send once connected ("" =
				 * connect only) */
	enum mdc_phase phase;
	bool busy;
	mdc_cb cb;
	unsigned long thread_id; /* the server's id of this connection */
	/* The server closed the connection while no query ran (the
	 * server died, KILL): called after the drop, may be NULL. */
	void (*idle_lost)(struct mdc *c);
};

enum md_expect { MDE_ANY, MDE_PRIMARY, MDE_STANDBY };

enum md_op {
	MDO_NONE, MDO_PROMOTE, MDO_DEMOTE, MDO_FENCE, MDO_REPAIR,
	MDO_QUIESCE, MDO_UNQUIESCE
};

enum md_step {
	MS_END,
	MS_ALIVE,	/* is a mariadbd running on datadir? (/proc) */
	MS_KILL,	/* SIGKILL it (fence) */
	MS_DEAD,	/* wait until it is gone */
	MS_START,	/* start it (read-only, as a replica) */
	MS_UP,		/* wait until the socket answers */
	MS_CLONE,	/* empty datadir: install, start, dump | import */
	MS_PROBE,	/* SELECT @@read_only, ... */
	MS_SLAVE,	/* SHOW SLAVE STATUS */
	MS_KILL_TIMEOUT, /* rpl_semi_sync_slave_kill_conn_timeout = 1 */
	MS_STOP_IO,	/* STOP SLAVE IO_THREAD */
	MS_IO_POS,	/* SHOW SLAVE STATUS: Gtid_IO_Pos, SQL thread */
	MS_START_SQL,	/* START SLAVE SQL_THREAD */
	MS_STOP_SQL,	/* STOP SLAVE SQL_THREAD */
	MS_IO_CHECK,	/* SHOW SLAVE STATUS: Gtid_IO_Pos unchanged? */
	MS_APPLY,	/* SELECT MASTER_GTID_WAIT(io_pos, 1) */
	MS_APPLIED,	/* SHOW SLAVE STATUS: after a MS_APPLY timeout,
			 * has the SQL thread read all the relay log? */
	MS_STOP_SLAVE,	/* STOP SLAVE */
	MS_RESET_SLAVE,	/* RESET SLAVE ALL */
	MS_GUARD,	/* semi-sync master settings (sync guard) */
	MS_READWRITE,	/* SET GLOBAL read_only = 0 */
	MS_READONLY,	/* SET GLOBAL read_only = 1 */
	MS_PROMOTED,	/* writable: report the promotion done */
	MS_KICK_LIST,	/* the client connections to end */
	MS_KICK,	/* KILL CONNECTION, one per step */
	MS_PEER,	/* the primary's @@gtid_binlog_state (TCP) */
	MS_COMPARE,	/* errant transactions? */
	MS_KEEP,	/* dump them (mariadb-binlog) into keep_dir */
	MS_NET_TIMEOUT,	/* SET GLOBAL slave_net_timeout */
	MS_SEMI_SLAVE,	/* SET GLOBAL rpl_semi_sync_slave_enabled */
	MS_CHANGE,	/* CHANGE MASTER TO ... */
	MS_START_SLAVE,	/* START SLAVE */
};

/* The MariaDB resource (r->priv of its struct res). */
struct mdd {
	struct res *r;
	const struct conf_mariadb *c;
	char where[CONF_PATH_MAX + 64];	/* "mariadb db (/srv/mysql)" */
	char password[128];		/* loaded from password_file */
	char repl_password[128];

	struct mdc mon;		/* monitoring */
	struct mdc act;		/* actions */
	struct mdc sync;	/* set_sync */
	struct mdc peer;	/* the primary, over TCP */
	uv_timer_t wait;	/* MS_UP, MS_DEAD: try again */

	struct res_child x;	/* the child process of the running step */

	/* monitoring */
	enum md_expect expect;
	uint8_t expect_id;	/* MDE_STANDBY: the node followed */
	unsigned mon_gen;	/* d->gen when the monitor round began */
	bool mon_slave;		/* the round's first query (SHOW SLAVE
				 * STATUS) is done */
	bool io_yes, sql_yes, io_connecting;
	char master_host[64];
	char io_pos[MD_GTID_MAX];
	char io_err[160], sql_err[160];
	int64_t behind;
	uint64_t repair_at_ms;
	char repair_err[HP_ERR_MAX];
	char errant_err[HP_ERR_MAX]; /* errant transactions found: no
				      * rejoin until repaired */
	char conf_err[HP_ERR_MAX];   /* misconfiguration last reported */
	char repl_err_said[160];     /* replication error last reported */
	bool read_only;		/* we made the primary refuse writes */
	bool require_sync;	/* sync mode: semi-sync master required */
	char rolled_back[64];	/* MS_START: recovery removed binlog
				 * transactions from this GTID on */
	uint64_t held_seq;	/* the first rolled-back sequence number in
				 * gtid_domain (0: unknown, as after an
				 * agent restart) */
	bool held;		/* own transactions rolled back: not
				 * eligible until it followed a primary */
	bool truncating;	/* MS_START: crash recovery may roll back
				 * (see alone_mark in res_mariadb.c) */
	bool handed_over;	/* switchover: nothing to keep */
	bool in_place;		/* this demote: read-only in place, the
				 * standby has everything (handed over) */

	/* the action in progress */
	enum md_op op;
	unsigned gen;		/* bumped per action; replies carry it */
	unsigned token;
	uint8_t primary_id;
	enum md_step plan[MD_PLAN_MAX];
	int pi;
	bool waiting_child;	/* the step waits for an old child to end */
	uint64_t deadline_ms;	/* MS_UP, MS_DEAD */
	bool started;		/* this action started the server */
	char local_state[MD_GTID_MAX];	/* @@gtid_binlog_state here */
	char peer_state[MD_GTID_MAX];	/* ... and on the primary */
	unsigned long peer_server_id, server_id;
	bool log_bin;
	bool semi_slave_on;
	bool slave_ok;		/* MS_SLAVE: replicates from P as wanted */
	bool slave_any;		/* MS_SLAVE: a replica configuration */
	bool use_slave_pos;	/* after a clone: MASTER_USE_GTID=slave_pos */
	char errant[128];	/* first errant GTID, "0-2-17" */
	char errant_list[HP_ERR_MAX / 2]; /* all of them, for the dump */
	char kept[CONF_PATH_MAX + 256];
	char bin_index[CONF_PATH_MAX];	/* @@log_bin_index */
	bool changed;		/* the action changed the replication */
	bool reported;		/* the promote said it is done; what runs
				 * now is its tail (STOP SLAVE, ...) */
	unsigned long kick[MD_KICK_MAX];
	int n_kick;
};

/* ---- res_mariadb_conn.c ------------------------------------------------ */

void mdc_init(struct mdd *d, struct mdc *c, const char *label,
	      uint32_t timeout_ms);

/* Run sql ("" = only connect) on c, connecting first if needed; cb
 * gets the outcome.  Returns 0, or -1 if c is busy or is waiting out a
 * back-off after a failed connection (retry=false; actions pass true);
 * then err says why and cb is not called. */
int mdc_query(struct mdc *c, const char *sql, mdc_cb cb, bool retry,
	      char *err, size_t size);

/* Drop c's connection (a query in flight is forgotten). */
void mdc_drop(struct mdc *c);

/* Forget c's back-off: its next query connects at once (an action has
 * just started or changed the server). */
void mdc_retry_now(struct mdc *c);

/* Close c's handles through res_close_handle(). */
void mdc_close(struct mdc *c);

/* The mariadbd processes serving datadir: comm "mariadbd" (or
 * "mysqld") and working directory datadir (the server changes into
 * it).  Returns how many were found (at most max). */
int md_find_server(const char *datadir, pid_t *pids, int max);

/* SIGKILL every server of datadir; returns how many were signalled. */
int md_kill_server(const char *datadir);

/* The guard's fence: SIGKILL, then wait (bounded) until gone. */
int md_fence_sync(const struct conf *conf, const struct conf_resource *cr,
		  uint8_t self_id, struct hp_err *err);

/* Escape s into an SQL string literal body (quotes, backslashes). */
void md_sql_escape(char *dst, size_t size, const char *s);

/* The sequence number of domain in a GTID list "0-1-5,1-2-9";
 * false if the domain is not in it. */
bool md_gtid_seq(const char *list, uint32_t domain, uint64_t *seq);

/* The shell script that starts a server or clones one (cli_clone.c
 * runs it too): see res_mariadb_conn.c. */
extern const char md_script[];

/* argv for md_script: mode "start" or "clone"; host is the primary's
 * address (clone only).  bufs hold the numbers. */
void md_script_argv(const struct conf_mariadb *c, const char *mode,
		    const char *host, char *argv[], char bufs[][32]);

#endif

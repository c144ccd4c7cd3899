/*
 * res_pg_int.h - what the files of the PostgreSQL resource share:
 * res_pg.c (actions as plans of steps, monitoring, the ops table) and
 * res_pg_conn.c (libpq connections on the libuv loop, child processes
 * with timeouts, the guard's blocking fence).  Internal header: only
 * these include it.
 */
#ifndef HAPAIR_RES_PG_INT_H
#define HAPAIR_RES_PG_INT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "res_child.h"
#include "res_int.h"

enum {
	PG_ARGV_MAX = 24,
	PG_SQL_MAX = 1536,
	PG_PLAN_MAX = 24,
	PG_LINK_IO_MAX_MS = 3000, /* standby: link down after this silence */
	PG_RCV_TIMEOUT_S = 2,	/* wal_receiver_timeout set on standbys */
	PG_RETRY_MS = 100,	/* wal_retrieve_retry_interval on standbys:
				 * also how long pg_promote() may wait for
				 * the startup process to notice */
	PG_REPAIR_MS = 2000,	/* at most one repair every 2 s */
	PG_PROBE_MS = 3000,	/* replication-connection probe period */
	PG_BACKOFF_MIN_MS = 100,
	PG_BACKOFF_MAX_MS = 2000,
};

struct pgd;
struct pgc;

/* A query's end: res is the last result (NULL if err is set); err says
 * what failed, with context.  Not called for a dropped query. */
typedef void (*pgc_cb)(struct pgc *c, const PGresult *res, const char *err);

/* One libpq connection to the local server (or, for the replication
 * probe, to the primary), driven by a uv_poll_t on its socket. */
struct pgc {
	struct pgd *d;
	const char *label;	/* "monitor", "action", ... */
	PGconn *conn;
	bool connected;
	bool repl;		/* a replication-mode probe to the primary */
	uv_poll_t *poll;	/* malloc'd: closed and freed with the socket */
	int poll_fd;
	uv_timer_t timer;	/* connect or query not done in time */
	uint32_t timeout_ms;
	uint64_t retry_at_ms;	/* no reconnect before this */
	uint32_t backoff_ms;
	char sql[PG_SQL_MAX];	/* query to send once connected ("" =
				 * connect only) */
	bool busy;
	pgc_cb cb;
	PGresult *res;		/* last result of the query in flight */
	char err[HP_ERR_MAX];	/* first error of the query in flight */
	/* The server closed the connection while no query ran (e.g. the
	 * postmaster died): called after the drop, may be NULL. */
	void (*idle_lost)(struct pgc *c);
	bool server_ended;	/* a FATAL notice came: it is closing */
};

enum pg_expect { PGE_ANY, PGE_PRIMARY, PGE_STANDBY };

enum pg_op {
	PGO_NONE, PGO_PROMOTE, PGO_DEMOTE, PGO_FENCE, PGO_REPAIR,
	PGO_QUIESCE, PGO_UNQUIESCE
};

enum pg_step {
	PS_END,
	PS_STATUS,	/* pg_ctl status: is a postmaster running? */
	PS_PROBE,	/* SQL: pg_is_in_recovery(), primary_conninfo */
	PS_CONTROL,	/* pg_controldata: state of a stopped cluster */
	PS_START,	/* pg_ctl start -w */
	PS_STOP,	/* pg_ctl stop -m fast -w */
	PS_STOP_NOW,	/* pg_ctl stop -m immediate -w */
	PS_NOSIGNAL,	/* remove standby.signal (crash recovery, rewind) */
	PS_RECOVER,	/* postgres --single: finish a crashed primary's
			 * crash recovery, so pg_rewind can read it */
	PS_SRC_CHECKPOINT, /* psql on the primary: CHECKPOINT (its control
			    * file then names its new timeline) */
	PS_DRYRUN,	/* pg_rewind --dry-run: diverged?  where? */
	PS_KEEP,	/* copy the WAL past the divergence aside */
	PS_REWIND,	/* pg_rewind */
	PS_BASEBACKUP,	/* empty data_dir: pg_basebackup from the primary */
	PS_SIGNAL,	/* create standby.signal */
	PS_ROCONF,	/* default_transaction_read_only = on in
			 * postgresql.auto.conf (a stopped primary started
			 * with no primary known) */
	PS_FOLLOW,	/* ALTER SYSTEM SET primary_conninfo */
	PS_SLOTNAME,	/* ALTER SYSTEM SET primary_slot_name */
	PS_RCVTIMEOUT,	/* ALTER SYSTEM SET wal_receiver_timeout */
	PS_RETRY,	/* ALTER SYSTEM SET wal_retrieve_retry_interval */
	PS_SYNCNAMES,	/* ALTER SYSTEM SET synchronous_standby_names */
	PS_READONLY,	/* ALTER SYSTEM SET default_transaction_read_only */
	PS_READWRITE,	/* ALTER SYSTEM RESET default_transaction_read_only */
	PS_RELOAD,	/* SELECT pg_reload_conf() */
	PS_KICK,	/* end the client sessions (after PS_READONLY) */
	PS_PROMOTE,	/* pg_promote(false), wait until out of recovery */
	PS_SLOT,	/* the peer's replication slot, if missing */
};

/* The PostgreSQL resource (r->priv of its struct res). */
struct pgd {
	struct res *r;
	const struct conf_pg *c;
	char where[CONF_PATH_MAX + CONF_NAME_MAX + 16]; /* "postgresql db (/srv/pg)" */
	char password[128];		/* loaded from password_file */
	char repl_password[128];
	bool as_user;			/* switch to uid/gid for children */
	bool as_agent;			/* the next child runs as the agent */
	uid_t uid;
	gid_t gid;

	struct pgc mon;		/* monitoring */
	struct pgc act;		/* actions */
	struct pgc sync;	/* set_sync */
	struct pgc probe;	/* replication connection to the primary */

	struct res_child x;	/* the child process of the running step */

	/* monitoring */
	enum pg_expect expect;
	uint8_t expect_id;	/* PGE_STANDBY: the node followed */
	unsigned mon_gen;	/* d->gen when the monitor query was sent */
	bool caught_up;		/* standby: reached the sender's end once
				 * since the link came up */
	uint64_t link_down_ms;	/* when the link was last seen down */
	uint64_t probe_at_ms;
	char probe_err[HP_ERR_MAX]; /* last replication-probe failure */
	uint64_t repair_at_ms;
	char repair_err[HP_ERR_MAX];
	char rewind_err[HP_ERR_MAX]; /* a failed pg_rewind: no more
				      * automatic tries (not a loop) */
	char conf_err[HP_ERR_MAX];   /* misconfiguration last reported */
	bool read_only;		/* we made the primary refuse writes */
	bool was_standby;	/* pg_controldata: stopped in recovery */
	bool require_sync;	/* sync mode: synchronous_standby_names set */

	/* the action in progress */
	enum pg_op op;
	unsigned gen;		/* bumped per action; replies carry it */
	unsigned token;
	uint8_t primary_id;
	enum pg_step plan[PG_PLAN_MAX];
	int pi;
	bool waiting_child;	/* the step waits for an old child to end */
	bool stopped;		/* PS_STATUS: no postmaster running */
	bool fenced;		/* a fence stopped the server */
	char diverged[32];	/* "0/3000060" from pg_rewind --dry-run */
	char kept[CONF_PATH_MAX + 256]; /* where PS_KEEP put the WAL */
	char standby_conf[PG_SQL_MAX + 256]; /* env of PS_SIGNAL's child */
};

/* ---- res_pg_conn.c ---------------------------------------------------- */

/* Set up c (handles on the loop); nothing is connected yet. */
void pgc_init(struct pgd *d, struct pgc *c, const char *label,
	      uint32_t timeout_ms);

/* Run sql ("" = only connect) on c, connecting first if needed; cb
 * gets the outcome.  Returns 0, or -1 if c is busy or is waiting out a
 * back-off after a failed connection (retry=false; actions pass true to
 * skip the wait); then err says why and cb is not called. */
int pgc_query(struct pgc *c, const char *sql, pgc_cb cb, bool retry,
	      char *err, size_t size);

/* Drop c's connection (a query in flight is forgotten). */
void pgc_drop(struct pgc *c);

/* Forget c's back-off: its next query connects at once (an action has
 * just started or changed the server). */
void pgc_retry_now(struct pgc *c);

/* Close c's handles through res_close_handle(). */
void pgc_close(struct pgc *c);

/* Run argv[0] (a path) as the configured os_user (as the agent while
 * d->as_agent), stderr joined to stdout, with env (NULL-ended, may be
 * NULL), bounded by timeout_ms: res_child_run() on d->x. */
int pgx_run(struct pgd *d, const char *name, char *const argv[],
	    char *const env[], uint32_t timeout_ms, res_child_cb cb,
	    char *out, size_t size);

/* The guard's fence: pg_ctl stop -m fast, bounded, then immediate. */
int pg_fence_sync(const struct conf *conf, const struct conf_resource *cr,
		  uint8_t self_id, struct hp_err *err);

/* Look up os_user when running as root: 0, or -1 with err. */
int pg_os_user(const struct conf_pg *c, bool *as_user, uid_t *uid,
	       gid_t *gid, struct hp_err *err);

/* Escape s into a single-quoted conninfo value (without the quotes). */
void pg_conninfo_escape(char *dst, size_t size, const char *s);

/* Escape s into an SQL string literal body ('' for '). */
void pg_sql_escape(char *dst, size_t size, const char *s);

/* ---- res_pg.c ------------------------------------------------------- */

const char *pg_node_name(const struct pgd *d, uint8_t id);

#endif

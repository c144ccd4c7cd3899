/*
 * res_pg.c - a PostgreSQL server as a data resource (DESIGN.md,
 * Resources and Data protection): its actions, its monitoring, its ops
 * table.  Connections and child processes are in res_pg_conn.c.
 *
 * Actions are plans of steps, one SQL statement (on the "action"
 * connection) or one child process (pg_ctl, pg_rewind, ...) at a time;
 * a step's outcome may replace the rest of the plan:
 *   promote      pg_ctl status (start the server if it is down), then
 *                SELECT pg_is_in_recovery(); a standby gets the write
 *                guard first (ALTER SYSTEM SET synchronous_standby_names,
 *                reload), then pg_promote(true, N); then the peer's
 *                replication slot, ALTER SYSTEM RESET
 *                default_transaction_read_only, reload.
 *   demote(P)    a running standby: primary_conninfo (host of P,
 *                application_name = this node), primary_slot_name,
 *                wal_receiver_timeout, reload.  A running primary: pg_ctl
 *                stop -m fast (then immediate), and on as for a stopped
 *                one: pg_controldata says what it was.  A stopped
 *                standby: standby.signal, pg_ctl start, the settings
 *                above.  A stopped primary: crash recovery if it crashed
 *                (postgres --single), CHECKPOINT on P (so P's control
 *                file names its new timeline), pg_rewind --dry-run; if
 *                the histories diverged, the WAL past the divergence
 *                point is copied to keep_dir (an event names it) before
 *                pg_rewind; then as a stopped standby.  An empty
 *                data_dir is cloned from P with pg_basebackup.  A failed
 *                pg_rewind is an event and a status, and is not retried
 *                until the agent restarts or P changes (not a loop).
 *   demote(none) a running primary stops taking writes (as quiesce).  A
 *                stopped server is started, so that its position is
 *                known again (a restarted old primary may hold the only
 *                copy of writes acked alone, and must be able to win):
 *                a standby as it was, a primary (crashed or shut down)
 *                with default_transaction_read_only = on written into
 *                postgresql.auto.conf first.  An empty data_dir waits
 *                for a primary to clone from.
 *   fence        pg_ctl stop -m fast, then -m immediate.
 *   quiesce      ALTER SYSTEM SET default_transaction_read_only = on,
 *                reload, pg_terminate_backend() of every client
 *                session; WAL keeps flowing to the standby.  unquiesce:
 *                RESET, reload.
 * A new action supersedes the running one: the action connection is
 * dropped, a running child is killed unless it rewrites the data
 * directory (pg_rewind, pg_basebackup, postgres --single run to their
 * end: killed, they would leave it unusable).
 *
 * Monitoring runs one query on its own connection: recovery or not,
 * position (primary: flushed WAL; standby: the larger of received and
 * replayed LSN, as bytes), the WAL receiver (status, sender, last
 * message), settings that matter.  A standby's link is up when its WAL
 * receiver streams from the expected primary, has heard from it within
 * PG_LINK_IO_MAX_MS (wal_receiver_timeout is set low so that an idle
 * link is pinged) and has once reached the sender's end of WAL since it
 * came up: until then it is not in sync and cannot be promoted.  While
 * the link is down, a replication connection to the primary probes why
 * (no pg_hba.conf entry, wrong password): status and an event say so.
 */
#define _GNU_SOURCE

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "res_pg_int.h"

static const char *const step_name[] = {
	[PS_END] = "",
	[PS_STATUS] = "pg_ctl status",
	[PS_PROBE] = "SELECT pg_is_in_recovery()",
	[PS_CONTROL] = "pg_controldata",
	[PS_START] = "pg_ctl start",
	[PS_STOP] = "pg_ctl stop -m fast",
	[PS_STOP_NOW] = "pg_ctl stop -m immediate",
	[PS_NOSIGNAL] = "rm standby.signal",
	[PS_RECOVER] = "postgres --single (crash recovery)",
	[PS_SRC_CHECKPOINT] = "CHECKPOINT on the primary",
	[PS_DRYRUN] = "pg_rewind --dry-run",
	[PS_KEEP] = "keep the diverged WAL",
	[PS_REWIND] = "pg_rewind",
	[PS_BASEBACKUP] = "pg_basebackup",
	[PS_SIGNAL] = "touch standby.signal",
	[PS_ROCONF] = "default_transaction_read_only = on (auto.conf)",
	[PS_FOLLOW] = "ALTER SYSTEM SET primary_conninfo",
	[PS_SLOTNAME] = "ALTER SYSTEM SET primary_slot_name",
	[PS_RCVTIMEOUT] = "ALTER SYSTEM SET wal_receiver_timeout",
	[PS_RETRY] = "ALTER SYSTEM SET wal_retrieve_retry_interval",
	[PS_SYNCNAMES] = "ALTER SYSTEM SET synchronous_standby_names",
	[PS_READONLY] = "ALTER SYSTEM SET default_transaction_read_only",
	[PS_READWRITE] = "ALTER SYSTEM RESET default_transaction_read_only",
	[PS_RELOAD] = "SELECT pg_reload_conf()",
	[PS_KICK] = "pg_terminate_backend()",
	[PS_PROMOTE] = "SELECT pg_promote()",
	[PS_SLOT] = "pg_create_physical_replication_slot()",
};

/* The end of every demote(P) that leaves a stopped server following P. */
static const enum pg_step start_standby[] = {
	PS_SIGNAL, PS_START, PS_FOLLOW, PS_SLOTNAME, PS_RCVTIMEOUT, PS_RETRY,
	PS_RELOAD
};
static const enum pg_step set_follow[] = {
	PS_FOLLOW, PS_SLOTNAME, PS_RCVTIMEOUT, PS_RETRY, PS_RELOAD
};
static const enum pg_step read_only[] = { PS_READONLY, PS_RELOAD, PS_KICK };

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void run_step(struct pgd *d);
static void op_start(struct pgd *d, enum pg_op op, unsigned token,
		     const enum pg_step *plan, int n);

const char *pg_node_name(const struct pgd *d, uint8_t id)
{
	return id >= 1 && id <= CONF_NODES ? d->r->conf->nodes[id - 1].name :
	       "none";
}

static const char *node_host(const struct pgd *d, uint8_t id)
{
	return d->r->conf->nodes[id - 1].ep.host;
}

static uint8_t peer_id(const struct pgd *d)
{
	return d->r->self_id == 1 ? 2 : 1;
}

/* Slot of node id: hapair_<name>, lower case, [a-z0-9_] only. */
static void slot_name(const struct pgd *d, uint8_t id, char *buf,
		      size_t size)
{
	const char *n = pg_node_name(d, id);
	size_t j = snprintf(buf, size, "hapair_");

	for (; *n && j + 1 < size; n++)
		buf[j++] = (*n >= 'A' && *n <= 'Z') ? (char)(*n - 'A' + 'a') :
			   ((*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9'))
			   ? *n : '_';
	buf[j] = '\0';
}

/* ---- the plan ------------------------------------------------------- */

/* Replace what follows the current step. */
static void set_rest(struct pgd *d, const enum pg_step *steps, int n)
{
	if (d->pi + 1 + n >= PG_PLAN_MAX)
		n = PG_PLAN_MAX - d->pi - 2;
	memcpy(d->plan + d->pi + 1, steps, (size_t)n * sizeof(*steps));
	d->plan[d->pi + 1 + n] = PS_END;
}

/* Insert one step right after the current one. */
static void insert_next(struct pgd *d, enum pg_step s)
{
	int last = d->pi + 1;

	while (d->plan[last] != PS_END && last < PG_PLAN_MAX - 2)
		last++;
	memmove(d->plan + d->pi + 2, d->plan + d->pi + 1,
		(size_t)(last - d->pi) * sizeof(d->plan[0]));
	d->plan[d->pi + 1] = s;
}

static void op_end(struct pgd *d, int rc, const char *msg)
{
	enum pg_op op = d->op;

	d->op = PGO_NONE;
	d->gen++;
	/* The action may have started the server: look now, not after
	 * the monitor's back-off from when it was down. */
	pgc_retry_now(&d->mon);
	res_monitor_soon(d->r);
	switch (op) {
	case PGO_FENCE:
		if (rc)
			res_event(d->r, "fence failed, the server may still "
				  "accept writes: %s", msg);
		return;
	case PGO_UNQUIESCE:
		if (rc)
			res_event(d->r, "unquiesce failed, the server still "
				  "refuses writes: %s", msg);
		return;
	case PGO_REPAIR:
		if (rc && d->rewind_err[0])
			; /* rewind_failed() said it: not retried */
		else if (!d->primary_id && rc &&
			 strcmp(msg, d->repair_err) != 0)
			res_event(d->r, "server down with no primary to "
				  "follow; starting it failed, retrying: %s",
				  msg);
		else if (!d->primary_id && !rc)
			res_event(d->r, "%s", msg ? msg : "server started");
		else if (rc && strcmp(msg, d->repair_err) != 0)
			res_event(d->r, "not yet a standby of %s, retrying: %s",
				  pg_node_name(d, d->primary_id), msg);
		else if (!rc)
			res_event(d->r, "%s again: the server had stopped "
				  "following it", msg ? msg : "standby");
		snprintf(d->repair_err, sizeof(d->repair_err), "%s",
			 rc ? msg : "");
		return;
	default:
		res_step_done(d->r, d->token, rc, msg);
	}
}

static void end_note(struct pgd *d)
{
	char note[HP_ERR_MAX];
	const char *name = d->r->cr->name;

	if (d->op == PGO_PROMOTE)
		snprintf(note, sizeof(note), "postgresql %s: primary, %s",
			 name, d->c->replication != REPL_SYNC ?
			 "async replication" : d->require_sync ?
			 "commits wait for the standby" :
			 "commits do not wait for a standby");
	else if ((d->op == PGO_DEMOTE || d->op == PGO_REPAIR) &&
		 d->primary_id)
		snprintf(note, sizeof(note), "postgresql %s: standby of %s "
			 "(%s:%u)", name, pg_node_name(d, d->primary_id),
			 node_host(d, d->primary_id), d->c->port);
	else if ((d->op == PGO_DEMOTE || d->op == PGO_REPAIR) &&
		 d->stopped)
		snprintf(note, sizeof(note), "postgresql %s: the server was "
			 "down with no primary to follow: started again (%s)",
			 name, d->was_standby ? "a standby" :
			 "writes refused");
	else if (d->op == PGO_DEMOTE && d->read_only)
		snprintf(note, sizeof(note), "postgresql %s: writes refused, "
			 "no primary to follow", name);
	else if (d->op == PGO_QUIESCE)
		snprintf(note, sizeof(note), "postgresql %s: quiesced "
			 "(read-only, sessions ended)", name);
	else
		note[0] = '\0';
	op_end(d, 0, note[0] ? note : NULL);
}

static void next_step(struct pgd *d)
{
	d->pi++;
	run_step(d);
}

/* ---- SQL steps -------------------------------------------------------- */

static void conninfo(const struct pgd *d, uint8_t id, char *buf, size_t size)
{
	const struct conf_pg *c = d->c;
	char pw[2 * sizeof(d->repl_password)];
	char app[CONF_NAME_MAX];
	int n;

	/* application_name must match synchronous_standby_names. */
	snprintf(app, sizeof(app), "%s", pg_node_name(d, d->r->self_id));
	n = snprintf(buf, size, "host=%s port=%u user=%s application_name=%s "
		     "connect_timeout=2 keepalives_idle=1 "
		     "keepalives_interval=1 keepalives_count=3",
		     node_host(d, id), c->port, c->repl_user, app);
	if (d->repl_password[0] && n > 0 && (size_t)n < size) {
		pg_conninfo_escape(pw, sizeof(pw), d->repl_password);
		snprintf(buf + n, size - (size_t)n, " password='%s'", pw);
	}
}

static void sync_names(const struct pgd *d, char *buf, size_t size)
{
	if (d->c->replication == REPL_SYNC && d->require_sync)
		snprintf(buf, size, "\"%s\"", pg_node_name(d, peer_id(d)));
	else
		buf[0] = '\0';
}

static void step_sql(struct pgd *d, enum pg_step s, char *sql, size_t size)
{
	char v[PG_SQL_MAX / 2], e[PG_SQL_MAX / 2 + 64];

	switch (s) {
	case PS_PROBE:
		snprintf(sql, size, "SELECT pg_is_in_recovery(), "
			 "current_setting('primary_conninfo'), "
			 "current_setting('primary_slot_name')");
		return;
	case PS_FOLLOW:
		conninfo(d, d->primary_id, v, sizeof(v));
		pg_sql_escape(e, sizeof(e), v);
		snprintf(sql, size, "ALTER SYSTEM SET primary_conninfo = '%s'",
			 e);
		return;
	case PS_SLOTNAME:
		slot_name(d, d->r->self_id, v, sizeof(v));
		snprintf(sql, size, "ALTER SYSTEM SET primary_slot_name = '%s'",
			 v);
		return;
	case PS_RCVTIMEOUT:
		snprintf(sql, size, "ALTER SYSTEM SET wal_receiver_timeout = "
			 "'%ds'", PG_RCV_TIMEOUT_S);
		return;
	case PS_RETRY:
		snprintf(sql, size, "ALTER SYSTEM SET "
			 "wal_retrieve_retry_interval = '%dms'", PG_RETRY_MS);
		return;
	case PS_SYNCNAMES:
		sync_names(d, v, sizeof(v));
		snprintf(sql, size, "ALTER SYSTEM SET "
			 "synchronous_standby_names = '%s'", v);
		return;
	case PS_READONLY:
		snprintf(sql, size, "ALTER SYSTEM SET "
			 "default_transaction_read_only = on");
		return;
	case PS_READWRITE:
		snprintf(sql, size, "ALTER SYSTEM RESET "
			 "default_transaction_read_only");
		return;
	case PS_RELOAD:
		snprintf(sql, size, "SELECT pg_reload_conf()");
		return;
	case PS_KICK:
		snprintf(sql, size, "SELECT count(pg_terminate_backend(pid)) "
			 "FROM pg_stat_activity WHERE backend_type = 'client "
			 "backend' AND pid <> pg_backend_pid() AND "
			 "application_name NOT LIKE 'hapair-%%'");
		return;
	case PS_PROMOTE:
		/* pg_promote(true) looks every 100 ms whether it is done:
		 * look every 5 ms instead, within the action's timeout. */
		snprintf(sql, size, "DO $$BEGIN IF pg_is_in_recovery() THEN "
			 "PERFORM pg_promote(false); END IF; FOR i IN 1..%u "
			 "LOOP EXIT WHEN NOT pg_is_in_recovery(); PERFORM "
			 "pg_sleep(0.005); END LOOP; END$$; "
			 "SELECT NOT pg_is_in_recovery()",
			 d->c->action_timeout_ms / 5);
		return;
	case PS_SLOT:
		slot_name(d, peer_id(d), v, 80);
		snprintf(sql, size, "SELECT pg_create_physical_replication_slot"
			 "('%.79s') WHERE NOT EXISTS (SELECT 1 FROM "
			 "pg_replication_slots WHERE slot_name = '%.79s')", v, v);
		return;
	default:
		sql[0] = '\0';
	}
}

/* What SELECT pg_is_in_recovery() tells the plan. */
static void after_probe(struct pgd *d, const PGresult *res)
{
	bool recovery = PQntuples(res) > 0 && PQgetvalue(res, 0, 0)[0] == 't';
	/* Everything that can be set while in recovery is set before
	 * the promotion, so writes are accepted the moment it ends. */
	static const enum pg_step promote_standby[] = {
		PS_SYNCNAMES, PS_READWRITE, PS_RELOAD, PS_PROMOTE, PS_SLOT
	};
	static const enum pg_step promote_primary[] = {
		PS_SYNCNAMES, PS_SLOT, PS_READWRITE, PS_RELOAD
	};
	static const enum pg_step stop_primary[] = { PS_STOP, PS_CONTROL };
	char want[PG_SQL_MAX / 2], slot[80];

	switch (d->op) {
	case PGO_PROMOTE:
		if (recovery)
			set_rest(d, promote_standby, N(promote_standby));
		else
			set_rest(d, promote_primary, N(promote_primary));
		return;
	case PGO_DEMOTE:
	case PGO_REPAIR:
		if (!d->primary_id) {
			if (!recovery)
				set_rest(d, read_only, N(read_only));
			return;
		}
		if (!recovery) {
			set_rest(d, stop_primary, N(stop_primary));
			return;
		}
		conninfo(d, d->primary_id, want, sizeof(want));
		slot_name(d, d->r->self_id, slot, sizeof(slot));
		if (PQntuples(res) > 0 &&
		    !strcmp(PQgetvalue(res, 0, 1), want) &&
		    !strcmp(PQgetvalue(res, 0, 2), slot))
			return; /* follows P already */
		set_rest(d, set_follow, N(set_follow));
		return;
	default:
		return;
	}
}

static void step_reply(struct pgc *c, const PGresult *res, const char *err)
{
	struct pgd *d = c->d;
	enum pg_step s = d->plan[d->pi];

	if (err && s == PS_PROBE && d->pi == 0 && d->op == PGO_PROMOTE) {
		/* Not answering: is it running at all? (PS_STATUS) */
		static const enum pg_step status[] = { PS_STATUS };

		op_start(d, d->op, d->token, status, N(status));
		return;
	}
	if (err) {
		op_end(d, -1, err);
		return;
	}
	switch (s) {
	case PS_PROBE:
		after_probe(d, res);
		break;
	case PS_PROMOTE:
		if (PQntuples(res) < 1 || PQgetvalue(res, 0, 0)[0] != 't') {
			char msg[HP_ERR_MAX];

			snprintf(msg, sizeof(msg), "%s: pg_promote(): still "
				 "in recovery after %u s", d->where,
				 d->c->action_timeout_ms / 1000);
			op_end(d, -1, msg);
			return;
		}
		break;
	case PS_READONLY:
		d->read_only = true;
		break;
	case PS_READWRITE:
		d->read_only = false;
		break;
	default:
		break;
	}
	next_step(d);
}

/* ---- child steps ------------------------------------------------------ */

/* Environment of a child: C messages (parsed below), the password of
 * the connection it makes, if any. */
static char **child_env(struct pgd *d, const char *password,
			char pwbuf[], size_t size, char *env[7])
{
	int n = 0;

	if (d->standby_conf[0])
		env[n++] = d->standby_conf;

	env[n++] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	env[n++] = "LC_ALL=C";
	env[n++] = "PGCONNECT_TIMEOUT=5";
	env[n++] = "HOME=/";
	if (password && password[0]) {
		snprintf(pwbuf, size, "PGPASSWORD=%s", password);
		env[n++] = pwbuf;
	}
	env[n] = NULL;
	(void)d;
	return env;
}

/* The last non-empty line of a child's output, for messages. */
static void last_line(const char *out, char *buf, size_t size)
{
	const char *end = out + strlen(out), *p;

	while (end > out && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	for (p = end; p > out && p[-1] != '\n'; p--)
		;
	snprintf(buf, size, "%.*s", (int)(end - p), p);
}

/* A PostgreSQL tool's error: its last "error:" line with the tab-indented
 * lines that continue it, joined; the last line if none says error. */
static void error_line(const char *out, char *buf, size_t size)
{
	const char *e = NULL, *p;
	size_t n = 0;

	for (p = strstr(out, "error: "); p; p = strstr(p + 1, "error: "))
		e = p;
	if (!e) {
		last_line(out, buf, size);
		return;
	}
	while (e > out && e[-1] != '\n')
		e--;
	buf[0] = '\0';
	for (p = e; *p && n + 1 < size; p++) {
		if (*p == '\n' && p[1] != '\t')
			break;
		if (*p == '\n' || *p == '\t') {
			if (n && buf[n - 1] != ' ')
				buf[n++] = ' ';
			continue;
		}
		buf[n++] = *p;
	}
	buf[n] = '\0';
}

static bool stop_not_running(const char *out)
{
	return strstr(out, "Is server running?") ||
	       strstr(out, "does not exist");
}

static bool has_data(const struct pgd *d)
{
	char path[CONF_PATH_MAX + 16];
	struct stat st;

	snprintf(path, sizeof(path), "%s/PG_VERSION", d->c->data_dir);
	return stat(path, &st) == 0;
}

/* Parse pg_controldata: what a stopped cluster was. */
static void after_control(struct pgd *d, const char *out)
{
	static const enum pg_step crashed[] = {
		PS_NOSIGNAL, PS_RECOVER, PS_SRC_CHECKPOINT, PS_DRYRUN
	};
	static const enum pg_step clean[] = { PS_SRC_CHECKPOINT, PS_DRYRUN };
	/* No primary known: started where it stands (see demote(none)). */
	static const enum pg_step start_alone[] = { PS_START };
	static const enum pg_step start_ro[] = { PS_ROCONF, PS_START };
	const char *st = strstr(out, "Database cluster state:");
	char state[64] = "";
	bool was_standby;

	if (st) {
		st += strlen("Database cluster state:");
		st += strspn(st, " ");
		snprintf(state, sizeof(state), "%.*s", (int)strcspn(st, "\n"),
			 st);
	}
	was_standby = !strcmp(state, "shut down in recovery") ||
		      !strcmp(state, "in archive recovery");
	d->was_standby = was_standby;
	if (!d->primary_id && was_standby)
		set_rest(d, start_alone, N(start_alone));
	else if (!d->primary_id)
		set_rest(d, start_ro, N(start_ro));
	else if (was_standby)
		set_rest(d, start_standby, N(start_standby));
	else if (!strcmp(state, "shut down"))
		set_rest(d, clean, N(clean));
	else
		set_rest(d, crashed, N(crashed));
}

/* Parse pg_rewind --dry-run. */
static int after_dryrun(struct pgd *d, const char *out)
{
	static const enum pg_step rewind[] = {
		PS_KEEP, PS_REWIND, PS_SIGNAL, PS_START, PS_FOLLOW,
		PS_SLOTNAME, PS_RCVTIMEOUT, PS_RETRY, PS_RELOAD
	};
	const char *p = strstr(out, "servers diverged at WAL location ");

	if (p) {
		p += strlen("servers diverged at WAL location ");
		snprintf(d->diverged, sizeof(d->diverged), "%.*s",
			 (int)strcspn(p, " \n"), p);
		set_rest(d, rewind, N(rewind));
		return 0;
	}
	if (strstr(out, "no rewind required")) {
		set_rest(d, start_standby, N(start_standby));
		return 0;
	}
	return -1;
}

/* Did pg_rewind fail only because it could not talk to the source (it
 * stopped, restarted, was fenced)?  A dry run never writes, so any lost
 * connection may be retried; the real run only if it failed to connect
 * at all, or lost the source before its point of no return: with
 * --progress it says "need to copy" just before it first writes to the
 * target (pg_rewind.c, perform_rewind), then "... kB (N%) copied" at
 * least once (so a kept tail that lost the first still shows one). */
static bool rewind_unreachable(const char *out, bool dry_run)
{
	static const char *const wrote[] = {
		"need to copy ", " copied", "syncing target", "Done!",
	};
	static const char *const lost[] = {
		"server closed the connection unexpectedly",
		"terminating connection due to administrator command",
		"the database system is shutting down",
		"the database system is starting up",
		"no connection to the server",
	};

	for (size_t i = 0; i < sizeof(wrote) / sizeof(wrote[0]); i++)
		if (!dry_run && strstr(out, wrote[i]))
			return false;
	if (strstr(out, "pg_rewind: error: connection to server"))
		return true;
	for (size_t i = 0; i < sizeof(lost) / sizeof(lost[0]); i++)
		if (strstr(out, lost[i]))
			return true;
	return false;
}

/* A rewind that could not reach the primary: an event, and the demote
 * fails without rewind_err, so maybe_repair() tries again. */
static void rewind_retry(struct pgd *d, const char *what, const char *line)
{
	char msg[HP_ERR_MAX];

	snprintf(msg, sizeof(msg), "%.160s: %s could not reach %s (%.200s); "
		 "nothing rewritten, tried again", d->where, what,
		 pg_node_name(d, d->primary_id), line);
	op_end(d, -1, msg);
}

static void rewind_failed(struct pgd *d, const char *what, const char *line)
{
	snprintf(d->rewind_err, sizeof(d->rewind_err), "%s: %s failed "
		 "against %s: %s; not retried: fix it, then restart the "
		 "agent (or clone this node again with hapair clone)",
		 d->where, what, pg_node_name(d, d->primary_id), line);
	res_event(d->r, "%s", d->rewind_err);
	op_end(d, -1, d->rewind_err);
}

static void child_done(struct res *r, int status, const char *out)
{
	struct pgd *d = r->priv;
	enum pg_step s = d->plan[d->pi];
	char line[512], msg[HP_ERR_MAX];

	if (d->waiting_child) {
		/* A superseded action's child ended: run the current one. */
		d->waiting_child = false;
		if (d->op != PGO_NONE)
			run_step(d);
		return;
	}
	if (d->op == PGO_NONE)
		return;
	if (s == PS_DRYRUN || s == PS_REWIND)
		error_line(out, line, sizeof(line));
	else
		last_line(out, line, sizeof(line));
	if (status < 0)
		snprintf(line, sizeof(line), "killed (not done within its "
			 "timeout)");
	switch (s) {
	case PS_STATUS:
		d->stopped = status != 0;
		if (!d->stopped)
			insert_next(d, PS_PROBE);
		else if (d->op == PGO_PROMOTE)
			insert_next(d, PS_STATUS), insert_next(d, PS_START);
		else if (d->op == PGO_DEMOTE || d->op == PGO_REPAIR)
			insert_next(d, PS_CONTROL);
		next_step(d);
		return;
	case PS_CONTROL:
		if (status != 0 && !has_data(d) && !d->primary_id) {
			op_end(d, 0, "postgresql: data_dir has no cluster "
			       "yet; cloned from the primary once there is "
			       "one");
			return;
		}
		if (status != 0 && !has_data(d)) {
			static const enum pg_step clone[] = {
				PS_BASEBACKUP, PS_SIGNAL, PS_START, PS_FOLLOW,
				PS_SLOTNAME, PS_RCVTIMEOUT, PS_RETRY, PS_RELOAD
			};

			res_event(d->r, "%s: data_dir has no cluster; cloning "
				  "it from %s with pg_basebackup", d->where,
				  pg_node_name(d, d->primary_id));
			set_rest(d, clone, N(clone));
			next_step(d);
			return;
		}
		if (status != 0)
			break;
		after_control(d, out);
		next_step(d);
		return;
	case PS_STOP:
		if (status != 0 && !stop_not_running(out))
			insert_next(d, PS_STOP_NOW);
		if (d->op == PGO_FENCE)
			d->fenced = true;
		next_step(d);
		return;
	case PS_STOP_NOW:
		if (status != 0 && !stop_not_running(out))
			break;
		next_step(d);
		return;
	case PS_DRYRUN:
		if (status != 0 && rewind_unreachable(out, true)) {
			rewind_retry(d, "pg_rewind --dry-run", line);
			return;
		}
		if (status != 0 || after_dryrun(d, out)) {
			rewind_failed(d, "pg_rewind --dry-run", line);
			return;
		}
		next_step(d);
		return;
	case PS_REWIND:
		if (status != 0 && rewind_unreachable(out, false)) {
			rewind_retry(d, "pg_rewind", line);
			return;
		}
		if (status != 0) {
			rewind_failed(d, "pg_rewind", line);
			return;
		}
		res_event(d->r, "%s: rewound to %s's history with pg_rewind "
			  "(diverged at %s)", d->where,
			  pg_node_name(d, d->primary_id), d->diverged);
		next_step(d);
		return;
	case PS_KEEP:
		if (status == 0)
			res_event(d->r, "%s: kept the old primary's WAL past "
				  "the divergence point %s in %s before "
				  "pg_rewind from %s", d->where, d->diverged,
				  d->kept, pg_node_name(d, d->primary_id));
		else
			res_event(d->r, "%s: could not keep the old primary's "
				  "WAL past %s (%s) before pg_rewind from %s; "
				  "rewinding anyway (two primaries would be "
				  "worse)", d->where, d->diverged, line,
				  pg_node_name(d, d->primary_id));
		next_step(d);
		return;
	case PS_NOSIGNAL:
		next_step(d);
		return;
	default:
		if (status != 0)
			break;
		next_step(d);
		return;
	}
	snprintf(msg, sizeof(msg), "%.160s: %s: %.200s", d->where, step_name[s],
		 line[0] ? line : "failed");
	op_end(d, -1, msg);
}

/* The 16 hex digits (log, segment) of the WAL file holding lsn "X/Y". */
static int lsn_segment(const char *lsn, char *buf, size_t size)
{
	unsigned hi, lo;

	if (sscanf(lsn, "%X/%X", &hi, &lo) != 2)
		return -1;
	/* 16 MB segments (initdb's default; pg_rewind needs equal ones). */
	snprintf(buf, size, "%08X%08X", hi, lo / (16u * 1024 * 1024));
	return 0;
}

/* HP_STANDBY_CONF for PS_SIGNAL: the standby's settings as
 * postgresql.auto.conf lines (quotes doubled). */
static void standby_conf(struct pgd *d)
{
	char ci[PG_SQL_MAX / 2], e[PG_SQL_MAX / 2 + 64], slot[80];

	conninfo(d, d->primary_id, ci, sizeof(ci));
	pg_sql_escape(e, sizeof(e), ci);
	slot_name(d, d->r->self_id, slot, sizeof(slot));
	snprintf(d->standby_conf, sizeof(d->standby_conf),
		 "HP_STANDBY_CONF=primary_conninfo = '%s'\n"
		 "primary_slot_name = '%s'\n"
		 "wal_receiver_timeout = '%ds'\n"
		 "wal_retrieve_retry_interval = '%dms'", e, slot,
		 PG_RCV_TIMEOUT_S, PG_RETRY_MS);
}

/* Build the argv of child step s. */
static int step_argv(struct pgd *d, enum pg_step s, char *argv[],
		     char bufs[][CONF_PATH_MAX + 160], const char **pw,
		     uint32_t *ms, const char **name)
{
	const struct conf_pg *c = d->c;
	uint32_t t = c->action_timeout_ms;
	char secs[16], slot[80];
	int n = 0;

	snprintf(secs, sizeof(secs), "%u", t / 1000);
	*pw = NULL;
	*ms = t + 5000;
	*name = step_name[s];
#define BIN(i, tool) snprintf(bufs[i], sizeof(bufs[i]), "%s/" tool, c->bin_dir)
	switch (s) {
	case PS_STATUS:
		BIN(0, "pg_ctl");
		argv[n++] = bufs[0], argv[n++] = "status";
		argv[n++] = "-D", argv[n++] = (char *)c->data_dir;
		*ms = c->timeout_ms + 1000;
		break;
	case PS_CONTROL:
		BIN(0, "pg_controldata");
		argv[n++] = bufs[0], argv[n++] = "-D";
		argv[n++] = (char *)c->data_dir;
		*ms = c->timeout_ms + 1000;
		break;
	case PS_START:
		BIN(0, "pg_ctl");
		/* -k: the socket where the agent connects (the config file
		 * may come from the other node, by pg_rewind). */
		if (c->host[0] == '/')
			snprintf(bufs[1], sizeof(bufs[1]), "-p %u -k %s",
				 c->port, c->host);
		else
			snprintf(bufs[1], sizeof(bufs[1]), "-p %u", c->port);
		snprintf(bufs[2], sizeof(bufs[2]), "%s", secs);
		argv[n++] = bufs[0], argv[n++] = "start";
		argv[n++] = "-D", argv[n++] = (char *)c->data_dir;
		argv[n++] = "-l", argv[n++] = (char *)c->log_file;
		argv[n++] = "-o", argv[n++] = bufs[1];
		argv[n++] = "-w", argv[n++] = "-t", argv[n++] = bufs[2];
		break;
	case PS_STOP:
	case PS_STOP_NOW:
		BIN(0, "pg_ctl");
		snprintf(bufs[2], sizeof(bufs[2]), "%u",
			 (c->timeout_ms + 999) / 1000);
		argv[n++] = bufs[0], argv[n++] = "stop";
		argv[n++] = "-D", argv[n++] = (char *)c->data_dir;
		argv[n++] = "-m";
		argv[n++] = s == PS_STOP ? "fast" : "immediate";
		argv[n++] = "-w", argv[n++] = "-t", argv[n++] = bufs[2];
		*ms = c->timeout_ms + 3000;
		break;
	case PS_NOSIGNAL:
		snprintf(bufs[1], sizeof(bufs[1]), "%s/standby.signal",
			 c->data_dir);
		argv[n++] = "/bin/rm", argv[n++] = "-f", argv[n++] = bufs[1];
		*ms = c->timeout_ms + 1000;
		break;
	case PS_SIGNAL:
		/* The settings go in before the start: the file may come
		 * from the primary (pg_rewind, pg_basebackup) and name
		 * another primary, or this node itself, and a standby that
		 * cannot reach consistency never lets pg_ctl start -w end.
		 * Later lines win; ALTER SYSTEM rewrites the file. */
		standby_conf(d);
		argv[n++] = "/bin/sh", argv[n++] = "-c";
		argv[n++] = "touch \"$1/standby.signal\" && printf '%s\\n' "
			    "\"$HP_STANDBY_CONF\" >>\"$1/postgresql.auto.conf\"";
		argv[n++] = "signal", argv[n++] = (char *)c->data_dir;
		*ms = c->timeout_ms + 1000;
		break;
	case PS_ROCONF:
		argv[n++] = "/bin/sh", argv[n++] = "-c";
		argv[n++] = "printf 'default_transaction_read_only = on\\n' "
			    ">>\"$1/postgresql.auto.conf\"";
		argv[n++] = "roconf", argv[n++] = (char *)c->data_dir;
		*ms = c->timeout_ms + 1000;
		break;
	case PS_RECOVER:
		BIN(0, "postgres");
		argv[n++] = bufs[0], argv[n++] = "--single", argv[n++] = "-F";
		argv[n++] = "-D", argv[n++] = (char *)c->data_dir;
		argv[n++] = "template1";
		break;
	case PS_SRC_CHECKPOINT:
		BIN(0, "psql");
		snprintf(bufs[1], sizeof(bufs[1]), "host=%s port=%u user=%s "
			 "dbname=%s", node_host(d, d->primary_id), c->port,
			 c->user, c->database);
		argv[n++] = bufs[0], argv[n++] = "-X", argv[n++] = "-q";
		argv[n++] = "-v", argv[n++] = "ON_ERROR_STOP=1";
		argv[n++] = "-d", argv[n++] = bufs[1];
		/* Only a finished primary: a rewind (or its dry run) against
		 * a server still promoting would miss the new timeline. */
		argv[n++] = "-c", argv[n++] = "DO $$BEGIN IF "
			"pg_is_in_recovery() THEN RAISE EXCEPTION 'the source "
			"is still in recovery (not promoted yet)'; END IF; "
			"END$$";
		argv[n++] = "-c", argv[n++] = "CHECKPOINT";
		*pw = d->password;
		break;
	case PS_DRYRUN:
	case PS_REWIND:
		BIN(0, "pg_rewind");
		snprintf(bufs[1], sizeof(bufs[1]), "--source-server=host=%s "
			 "port=%u user=%s dbname=%s", node_host(d, d->primary_id),
			 c->port, c->user, c->database);
		snprintf(bufs[2], sizeof(bufs[2]), "--target-pgdata=%s",
			 c->data_dir);
		argv[n++] = bufs[0], argv[n++] = bufs[2], argv[n++] = bufs[1];
		argv[n++] = "--no-ensure-shutdown";
		argv[n++] = "--progress"; /* see rewind_unreachable() */
		if (s == PS_DRYRUN)
			argv[n++] = "--dry-run";
		*pw = d->password;
		break;
	case PS_BASEBACKUP:
		BIN(0, "pg_basebackup");
		slot_name(d, d->r->self_id, slot, sizeof(slot));
		snprintf(bufs[1], sizeof(bufs[1]), "%s", slot);
		snprintf(bufs[2], sizeof(bufs[2]), "%u", c->port);
		argv[n++] = bufs[0], argv[n++] = "-D";
		argv[n++] = (char *)c->data_dir;
		argv[n++] = "-h", argv[n++] = (char *)node_host(d, d->primary_id);
		argv[n++] = "-p", argv[n++] = bufs[2];
		argv[n++] = "-U", argv[n++] = (char *)c->repl_user;
		argv[n++] = "-X", argv[n++] = "stream", argv[n++] = "-c";
		argv[n++] = "fast", argv[n++] = "-S", argv[n++] = bufs[1];
		argv[n++] = "-w";
		*pw = d->repl_password;
		break;
	default:
		return -1;
	}
#undef BIN
	argv[n] = NULL;
	return 0;
}

/* Step PS_KEEP: copy the WAL segments from the divergence point on,
 * the timeline history files and pg_control to keep_dir, as the agent's
 * own user (keep_dir may be root's). */
static int keep_argv(struct pgd *d, char *argv[],
		     char bufs[][CONF_PATH_MAX + 160])
{
	static const char script[] =
		"set -e; src=$1; dst=$2; first=$3; "
		"mkdir -p -m 0700 \"$dst\"; "
		"for f in \"$src\"/pg_wal/*; do "
		"  [ -f \"$f\" ] || continue; b=${f##*/}; "
		"  if [ ${#b} -eq 24 ]; then "
		"    s=${b#????????}; "
		"    [ \"$(expr \"x$s\" \\>= \"x$first\")\" = 1 ] || continue; "
		"  fi; "
		"  cp -p \"$f\" \"$dst/\"; "
		"done; "
		"cp -p \"$src/global/pg_control\" \"$dst/pg_control\"";
	char seg[20], lsn[32], stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	if (lsn_segment(d->diverged, seg, sizeof(seg)))
		return -1;
	snprintf(lsn, sizeof(lsn), "%s", d->diverged);
	for (char *p = lsn; *p; p++)
		if (*p == '/')
			*p = '_';
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(d->kept, sizeof(d->kept), "%s/%s-%s-%s-lsn%s",
		 d->c->keep_dir, pg_node_name(d, d->r->self_id),
		 d->r->cr->name, stamp, lsn);
	snprintf(bufs[0], sizeof(bufs[0]), "%s", seg);
	argv[0] = "/bin/sh", argv[1] = "-c", argv[2] = (char *)script;
	argv[3] = "keep", argv[4] = (char *)d->c->data_dir;
	argv[5] = d->kept, argv[6] = bufs[0], argv[7] = NULL;
	return 0;
}

static void run_child(struct pgd *d, enum pg_step s)
{
	char *argv[PG_ARGV_MAX], *env[7];
	char bufs[3][CONF_PATH_MAX + 160], pwbuf[160], err[HP_ERR_MAX];
	const char *pw, *name;
	uint32_t ms;
	int rc;

	if (s == PS_KEEP) {
		rc = keep_argv(d, argv, bufs);
		pw = NULL;
		ms = d->c->action_timeout_ms;
		name = "keep";
		d->as_agent = true;
	} else {
		rc = step_argv(d, s, argv, bufs, &pw, &ms, &name);
	}
	if (rc) {
		snprintf(err, sizeof(err), "%s: %s: cannot build the command "
			 "(divergence point \"%s\")", d->where, step_name[s],
			 d->diverged);
		op_end(d, -1, err);
		return;
	}
	rc = pgx_run(d, name, argv, child_env(d, pw, pwbuf, sizeof(pwbuf),
					      env), ms, child_done, err,
		     sizeof(err));
	d->as_agent = false;
	memset(pwbuf, 0, sizeof(pwbuf));
	memset(d->standby_conf, 0, sizeof(d->standby_conf));
	if (rc)
		op_end(d, -1, err);
}

static bool is_child_step(enum pg_step s)
{
	switch (s) {
	case PS_STATUS: case PS_CONTROL: case PS_START: case PS_STOP:
	case PS_STOP_NOW: case PS_NOSIGNAL: case PS_RECOVER:
	case PS_SRC_CHECKPOINT: case PS_DRYRUN: case PS_KEEP: case PS_REWIND:
	case PS_BASEBACKUP: case PS_SIGNAL: case PS_ROCONF:
		return true;
	default:
		return false;
	}
}

static void run_step(struct pgd *d)
{
	enum pg_step s = d->plan[d->pi];
	char sql[PG_SQL_MAX], err[HP_ERR_MAX];

	if (s == PS_END) {
		end_note(d);
		return;
	}
	if (is_child_step(s)) {
		if (d->x.running) {
			d->waiting_child = true;
			return;
		}
		run_child(d, s);
		return;
	}
	step_sql(d, s, sql, sizeof(sql));
	if (pgc_query(&d->act, sql, step_reply, true, err, sizeof(err)))
		op_end(d, -1, err);
}

/* Children that rewrite the data directory run to their end. */
static bool child_killable(const struct pgd *d)
{
	return strcmp(d->x.name, step_name[PS_REWIND]) &&
	       strcmp(d->x.name, step_name[PS_BASEBACKUP]) &&
	       strcmp(d->x.name, step_name[PS_RECOVER]);
}

static void op_start(struct pgd *d, enum pg_op op, unsigned token,
		     const enum pg_step *plan, int n)
{
	d->gen++;
	d->op = op;
	d->token = token;
	d->pi = 0;
	memcpy(d->plan, plan, (size_t)n * sizeof(*plan));
	d->plan[n] = PS_END;
	if (d->act.busy)
		pgc_drop(&d->act); /* the superseded op's query */
	if (d->x.running) {
		d->waiting_child = true;
		if (child_killable(d))
			res_child_kill(&d->x);
		return;
	}
	d->waiting_child = false;
	run_step(d);
}

/* ---- the ops ---------------------------------------------------------- */

static void pg_promote(struct res *r, unsigned token)
{
	struct pgd *d = r->priv;
	/* A running server answers at once; only one that does not is
	 * looked at with pg_ctl status (step_reply()). */
	static const enum pg_step plan[] = { PS_PROBE };

	d->expect = PGE_PRIMARY;
	d->primary_id = 0; /* followed no more */
	d->rewind_err[0] = '\0';
	op_start(d, PGO_PROMOTE, token, plan, N(plan));
}

static void pg_demote(struct res *r, uint8_t primary_id, unsigned token)
{
	struct pgd *d = r->priv;
	static const enum pg_step plan[] = { PS_STATUS };

	if (primary_id != d->primary_id)
		d->rewind_err[0] = '\0'; /* a new primary: try again */
	d->primary_id = primary_id;
	d->expect = primary_id ? PGE_STANDBY : PGE_ANY;
	d->expect_id = primary_id;
	d->repair_err[0] = '\0';
	d->caught_up = false;
	if (d->rewind_err[0]) {
		res_step_done(r, token, -1, d->rewind_err);
		return;
	}
	op_start(d, PGO_DEMOTE, token, plan, N(plan));
}

static void pg_fence(struct res *r)
{
	struct pgd *d = r->priv;
	static const enum pg_step plan[] = { PS_STOP };

	d->expect = PGE_ANY;
	d->primary_id = 0; /* whoever is primary now, it is not known */
	/* Started again (maybe_repair) only if no primary shows up to
	 * follow by then. */
	d->repair_at_ms = mono_ms() + PG_REPAIR_MS;
	op_start(d, PGO_FENCE, 0, plan, N(plan));
}

static void pg_quiesce(struct res *r, unsigned token)
{
	struct pgd *d = r->priv;

	op_start(d, PGO_QUIESCE, token, read_only, N(read_only));
}

static void pg_unquiesce(struct res *r)
{
	struct pgd *d = r->priv;
	static const enum pg_step plan[] = { PS_READWRITE, PS_RELOAD };

	if (d->expect != PGE_PRIMARY)
		return;
	op_start(d, PGO_UNQUIESCE, 0, plan, N(plan));
}

/* ---- sync-mode write guard ------------------------------------------ */

static void sync_send(struct pgd *d);

static void sync_reply(struct pgc *c, const PGresult *res, const char *err)
{
	struct pgd *d = c->d;

	(void)res;
	if (err) {
		res_event(d->r, "sync-mode write guard not changed: %s", err);
		return;
	}
	if (!strncmp(c->sql, "ALTER", 5)) {
		char e[HP_ERR_MAX];

		if (pgc_query(&d->sync, "SELECT pg_reload_conf()", sync_reply,
			      true, e, sizeof(e)))
			res_event(d->r, "sync-mode write guard not changed: "
				  "%s", e);
	}
}

static void sync_send(struct pgd *d)
{
	char v[CONF_NAME_MAX + 8], sql[256], err[HP_ERR_MAX];

	sync_names(d, v, sizeof(v));
	snprintf(sql, sizeof(sql), "ALTER SYSTEM SET synchronous_standby_names "
		 "= '%s'", v);
	if (d->sync.busy)
		pgc_drop(&d->sync); /* the newer setting wins */
	if (pgc_query(&d->sync, sql, sync_reply, true, err, sizeof(err)))
		res_event(d->r, "sync-mode write guard not changed: %s", err);
}

static void pg_set_sync(struct res *r, bool require)
{
	struct pgd *d = r->priv;

	if (d->c->replication != REPL_SYNC)
		return;
	d->require_sync = require;
	/* Not primary: the next promote applies it.  During a promote it
	 * is sent too (ALTER SYSTEM works on a standby): the promote's own
	 * step may have run already with the old value. */
	if (d->expect != PGE_PRIMARY)
		return;
	sync_send(d);
}

/* ---- monitoring ------------------------------------------------------- */

static const char monitor_sql[] =
	"SELECT pg_is_in_recovery(), "
	"(CASE WHEN pg_is_in_recovery() THEN GREATEST("
	"pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) "
	"ELSE pg_current_wal_flush_lsn() END - '0/0')::text, "
	"(SELECT status FROM pg_stat_wal_receiver), "
	"(SELECT sender_host FROM pg_stat_wal_receiver), "
	"(SELECT (flushed_lsn >= latest_end_lsn)::text "
	"FROM pg_stat_wal_receiver), "
	"(SELECT (extract(epoch FROM clock_timestamp() - "
	"last_msg_receipt_time) * 1000)::bigint FROM pg_stat_wal_receiver), "
	"current_setting('wal_level'), "
	"current_setting('default_transaction_read_only'), "
	"(SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' "
	"AND sync_state = 'sync'), "
	"current_setting('wal_log_hints'), current_setting('data_checksums'), "
	"(SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming')";

static void set_down(struct pgd *d, const char *why)
{
	res_down(d->r, why);
	d->caught_up = false;
}

/* Say a misconfiguration once (and again when it changes). */
static void conf_problem(struct pgd *d, const char *msg)
{
	if (strcmp(msg, d->conf_err) != 0)
		res_event(d->r, "%s", msg);
	snprintf(d->conf_err, sizeof(d->conf_err), "%s", msg);
}

static void lsn_text(uint64_t pos, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRIX64 "/%" PRIX64, pos >> 32,
		 pos & 0xffffffffu);
}

static void probe_reply(struct pgc *c, const PGresult *res, const char *err)
{
	struct pgd *d = c->d;

	const char *why;

	(void)res;
	pgc_drop(c); /* a probe: connect, then hang up */
	if (!err) {
		d->probe_err[0] = '\0';
		return;
	}
	/* The status detail is short: libpq's words, without context. */
	why = strstr(err, "connect: ");
	why = why ? why + strlen("connect: ") : err;
	while (!strncmp(why, "FATAL:", 6) || *why == ' ')
		why += *why == ' ' ? 1 : 6;
	if (strcmp(why, d->probe_err) != 0)
		res_event(d->r, "replication connection to %s (user %s) "
			  "fails: %s", pg_node_name(d, d->expect_id),
			  d->c->repl_user, err);
	snprintf(d->probe_err, sizeof(d->probe_err), "%s", why);
}

/* The link to the primary has been down a while: ask why, as the WAL
 * receiver would (pg_hba.conf, password), with a replication
 * connection. */
static void maybe_probe(struct pgd *d)
{
	uint64_t now = mono_ms();
	char err[HP_ERR_MAX];

	if (d->expect != PGE_STANDBY || d->r->state.link_up) {
		d->link_down_ms = 0;
		d->probe_err[0] = '\0';
		return;
	}
	if (!d->link_down_ms)
		d->link_down_ms = now;
	if (now < d->link_down_ms + PG_PROBE_MS || now < d->probe_at_ms ||
	    d->probe.busy)
		return;
	d->probe_at_ms = now + PG_PROBE_MS;
	if (pgc_query(&d->probe, "", probe_reply, true, err, sizeof(err)))
		probe_reply(&d->probe, NULL, err);
}

/* A standby that does not follow its primary is demoted again; a
 * server that is down with no primary known (fenced, crashed) is started
 * again as demote(none) starts it, so that its position is known. */
static void maybe_repair(struct pgd *d)
{
	uint64_t now = mono_ms();
	static const enum pg_step plan[] = { PS_STATUS };
	const struct res_state *s = &d->r->state;
	bool down_alone = d->expect == PGE_ANY && !s->has_position;

	if ((d->expect != PGE_STANDBY && !down_alone) || s->healthy ||
	    d->op != PGO_NONE || d->mon_gen != d->gen ||
	    now < d->repair_at_ms || d->rewind_err[0])
		return;
	d->repair_at_ms = now + PG_REPAIR_MS;
	op_start(d, PGO_REPAIR, 0, plan, N(plan));
}

static void parse_monitor(struct pgd *d, const PGresult *res)
{
	struct res_state *s = &d->r->state;
	const char *status, *sender, *caught, *age_s, *wal_level, *ro;
	bool recovery, streaming;
	uint64_t age;
	char lsn[40], why[160] = "";
	const char *mismatch = NULL;

	if (PQntuples(res) < 1 || PQnfields(res) < 12) {
		set_down(d, "postgresql: monitoring query: unexpected answer");
		return;
	}
	recovery = PQgetvalue(res, 0, 0)[0] == 't';
	s->position = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
	s->has_position = !PQgetisnull(res, 0, 1);
	status = PQgetvalue(res, 0, 2);
	sender = PQgetvalue(res, 0, 3);
	caught = PQgetvalue(res, 0, 4);
	age_s = PQgetvalue(res, 0, 5);
	wal_level = PQgetvalue(res, 0, 6);
	ro = PQgetvalue(res, 0, 7);
	age = PQgetisnull(res, 0, 5) ? UINT64_MAX : strtoull(age_s, NULL, 10);

	streaming = recovery && !strcmp(status, "streaming") &&
		    d->expect == PGE_STANDBY && d->expect_id &&
		    !strcmp(sender, node_host(d, d->expect_id)) &&
		    age <= PG_LINK_IO_MAX_MS;
	if (!streaming)
		d->caught_up = false;
	else if (!strcmp(caught, "true"))
		d->caught_up = true;
	s->link_up = streaming && d->caught_up;
	s->writable = !recovery && strcmp(ro, "on") != 0;
	lsn_text(s->position, lsn, sizeof(lsn));

	switch (d->expect) {
	case PGE_PRIMARY:
		/* An answer during a promote says nothing of its outcome. */
		if (recovery && d->mon_gen == d->gen &&
		    d->op != PGO_PROMOTE)
			mismatch = "expected a primary";
		break;
	case PGE_STANDBY:
		if (!recovery)
			snprintf(why, sizeof(why), "expected a standby of %s",
				 pg_node_name(d, d->expect_id)), mismatch = why;
		break;
	case PGE_ANY:
		break;
	}
	if (!strcmp(wal_level, "minimal")) {
		char msg[HP_ERR_MAX];

		snprintf(msg, sizeof(msg), "%s: wal_level is minimal; "
			 "replication needs wal_level = replica (set it in "
			 "postgresql.conf and restart)", d->where);
		conf_problem(d, msg);
		set_down(d, msg);
		return;
	}
	if (!strcmp(PQgetvalue(res, 0, 9), "off") &&
	    !strcmp(PQgetvalue(res, 0, 10), "off"))
		conf_problem(d, "postgresql: neither wal_log_hints nor data "
			     "checksums are on: pg_rewind cannot bring this "
			     "node back as a standby after a failover (set "
			     "wal_log_hints = on and restart)");
	s->healthy = !mismatch && !d->rewind_err[0];
	if (d->rewind_err[0]) {
		res_detail(d->r, "%s", d->rewind_err);
	} else if (!recovery) {
		res_detail(d->r, "postgresql %s: primary%s, lsn %s, %s standby "
			   "streaming (%s sync)%s%s", d->r->cr->name,
			   d->read_only ? " (read-only)" : "", lsn,
			   PQgetvalue(res, 0, 11), PQgetvalue(res, 0, 8),
			   mismatch ? ", " : "", mismatch ? mismatch : "");
	} else if (d->probe_err[0] && !s->link_up) {
		res_detail(d->r, "postgresql %s: standby, link to %s down: %s",
			   d->r->cr->name, pg_node_name(d, d->expect_id),
			   d->probe_err);
	} else {
		res_detail(d->r, "postgresql %s: standby of %s, wal receiver %s%s, "
			   "link %s, lsn %s%s%s%s%s", d->r->cr->name,
			   sender[0] ? sender : "none",
			   status[0] ? status : "stopped",
			   streaming && !d->caught_up ? " (catching up)" : "",
			   s->link_up ? "up" : "down", lsn,
			   mismatch ? ", " : "", mismatch ? mismatch : "",
			   d->probe_err[0] && !s->link_up ? "; " : "",
			   d->probe_err[0] && !s->link_up ? d->probe_err : "");
	}
}

static void monitor_reply(struct pgc *c, const PGresult *res,
			  const char *err)
{
	struct pgd *d = c->d;

	if (err) {
		/* A failed pg_rewind left the server down: say that. */
		set_down(d, d->rewind_err[0] ? d->rewind_err : err);
		if (strstr(err, "password authentication failed") ||
		    strstr(err, "no pg_hba.conf entry"))
			conf_problem(d, err);
	} else {
		parse_monitor(d, res);
	}
	maybe_probe(d);
	maybe_repair(d);
	/* Last: the state callback may start a new action at once. */
	res_monitor_done(d->r);
}

static void pg_monitor(struct res *r)
{
	struct pgd *d = r->priv;
	char err[HP_ERR_MAX];

	if (d->mon.busy)
		return; /* still waiting; its timer bounds the wait */
	d->mon_gen = d->gen;
	if (pgc_query(&d->mon, monitor_sql, monitor_reply, false, err,
		      sizeof(err))) {
		if (!d->mon.conn && d->mon.retry_at_ms > mono_ms() &&
		    strstr(err, "waiting before")) {
			/* Keep the last state, which says why; a repair
			 * due does not wait for the back-off. */
			maybe_repair(d);
			return;
		}
		set_down(d, d->rewind_err[0] ? d->rewind_err : err);
		maybe_repair(d);
		res_monitor_done(r);
	}
}

/* The server closed the idle monitoring connection: a crashed or
 * stopped postmaster takes its backends with it at once, so look now
 * rather than up to one monitor_interval later. */
static void mon_lost(struct pgc *c)
{
	res_monitor_soon(c->d->r);
}

/* ---- open and close ------------------------------------------------ */

static int pg_open(struct res *r, struct hp_err *err)
{
	const struct conf_pg *c = &r->cr->pg;
	struct conf_pg secrets = *c;
	struct pgd *d = calloc(1, sizeof(*d));

	if (!d)
		return hp_errf(err, "postgresql %s: out of memory",
			       r->cr->name);
	d->r = r;
	d->c = c;
	snprintf(d->where, sizeof(d->where), "postgresql %s (%s)",
		 r->cr->name, c->data_dir);
	if (conf_load_pg_passwords(&secrets, err) ||
	    pg_os_user(c, &d->as_user, &d->uid, &d->gid, err)) {
		free(d);
		return -1;
	}
	memcpy(d->password, secrets.password, sizeof(d->password));
	memcpy(d->repl_password, secrets.repl_password,
	       sizeof(d->repl_password));
	memset(&secrets, 0, sizeof(secrets));
	d->require_sync = true; /* until the witness recorded otherwise */
	r->priv = d;
	r->timeout_ms = c->action_timeout_ms + c->timeout_ms;
	r->monitor_ms = c->monitor_interval_ms;
	r->state.healthy = false;
	snprintf(r->state.detail, sizeof(r->state.detail),
		 "postgresql %s: not checked yet", r->cr->name);
	pgc_init(d, &d->mon, "monitor", c->timeout_ms);
	d->mon.idle_lost = mon_lost;
	pgc_init(d, &d->act, "action", c->action_timeout_ms);
	pgc_init(d, &d->sync, "sync", c->timeout_ms);
	pgc_init(d, &d->probe, "probe", c->timeout_ms);
	d->probe.repl = true;
	return 0;
}

static void pg_close(struct res *r)
{
	struct pgd *d = r->priv;

	d->op = PGO_NONE;
	pgc_close(&d->mon);
	pgc_close(&d->act);
	pgc_close(&d->sync);
	pgc_close(&d->probe);
	/* pg_rewind and friends run to their end (see child_killable). */
	if (d->x.running && child_killable(d))
		res_child_kill(&d->x);
}

const struct res_ops res_pg_ops = {
	.type = "postgresql",
	.data = true,
	.open = pg_open,
	.close = pg_close,
	.promote = pg_promote,
	.demote = pg_demote,
	.fence = pg_fence,
	.quiesce = pg_quiesce,
	.unquiesce = pg_unquiesce,
	.monitor = pg_monitor,
	.set_sync = pg_set_sync,
	.fence_sync = pg_fence_sync,
};

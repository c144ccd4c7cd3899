/*
 * res_mariadb.c - a MariaDB server as a data resource (DESIGN.md,
 * Resources and Data protection), binlog replication by GTID with
 * semi-synchronous commits: its actions, its monitoring, its ops table.
 * Connections, child processes and the server process are in
 * res_mariadb_conn.c.
 *
 * Actions are plans of steps, one SQL statement (on the "action"
 * connection, or on the "peer" connection to the primary) or one child
 * process at a time; a step's outcome may replace the rest of the plan:
 *   promote      start the server if it is not running; a replica:
 *                wait until the SQL thread applied everything received
 *                (MASTER_GTID_WAIT(Gtid_IO_Pos)), STOP SLAVE SQL_THREAD,
 *                Gtid_IO_Pos again (if it moved: STOP SLAVE IO_THREAD
 *                and apply the rest); then the write guard (semi-sync
 *                master settings) and read_only = 0, and the promotion
 *                is reported done; STOP SLAVE and RESET SLAVE ALL follow
 *                (see promote_replica for why in that order).
 *   demote(P)    an empty datadir is cloned from P (install, start,
 *                mariadb-dump | mariadb).  A stopped server is started
 *                read-only as a replica.  A running writable server is
 *                killed and started again (unless the switchover handed
 *                over): crash recovery as a replica truncates the binlog
 *                transactions no standby acknowledged.  Then read_only
 *                = 1, P's @@gtid_binlog_state against ours: a GTID we
 *                have and P has not is an errant transaction; they are
 *                dumped to keep_dir (mariadb-binlog), an event and the
 *                status say so, and the demote fails without retrying
 *                (the operator inspects the dump, then hapair clone).
 *                Otherwise CHANGE MASTER TO P by GTID, semi-sync slave
 *                on (sync mode), START SLAVE; a replica already
 *                replicating from P as wanted is left alone.
 *   demote(none) read_only = 1, clients ended, replication stopped.
 *   fence        SIGKILL of mariadbd.  Not a shutdown, not read_only:
 *                both let commits waiting for a semi-sync
 *                acknowledgement return success to their clients
 *                (acknowledged, yet never on the standby); a killed
 *                server rolls them back in crash recovery when it is
 *                started again as a replica (MDEV-21117) -- unless it
 *                acknowledged commits without a standby (sync relaxed,
 *                or async): then recovery commits them (alone_mark).
 *                With no primary to follow, a killed server is started
 *                again read-only after MD_REPAIR_MS (maybe_repair), so
 *                that its position is known and it can win again.
 *   quiesce      read_only = 1 (waits for the commits in flight, which
 *                the standby acknowledges in sync mode), then the
 *                client connections are killed.  unquiesce: read_only
 *                = 0.
 * A new action supersedes the running one: the action connection is
 * dropped, a running child is killed unless it is the clone.
 *
 * Monitoring: SHOW SLAVE STATUS, then one SELECT of the variables that
 * matter.  The position is a GTID sequence number in gtid_domain (the
 * largest of binlog, current and received positions): the primary's
 * binlog, the standby's relay log (what semi-sync acknowledged).  A
 * standby's link is up when both replication threads run against the
 * expected primary and, in sync mode, semi-sync is on for it.
 */
#define _GNU_SOURCE

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "res_mariadb_int.h"
#include "statefile.h"

static const char *const step_name[] = {
	[MS_END] = "",
	[MS_ALIVE] = "look for mariadbd",
	[MS_KILL] = "kill mariadbd",
	[MS_DEAD] = "wait for mariadbd to end",
	[MS_START] = "start mariadbd",
	[MS_UP] = "connect to the started server",
	[MS_CLONE] = "clone",
	[MS_PROBE] = "SELECT @@read_only",
	[MS_SLAVE] = "SHOW SLAVE STATUS",
	[MS_KILL_TIMEOUT] = "SET GLOBAL rpl_semi_sync_slave_kill_conn_timeout",
	[MS_STOP_IO] = "STOP SLAVE IO_THREAD",
	[MS_IO_POS] = "SHOW SLAVE STATUS",
	[MS_START_SQL] = "START SLAVE SQL_THREAD",
	[MS_STOP_SQL] = "STOP SLAVE SQL_THREAD",
	[MS_IO_CHECK] = "SHOW SLAVE STATUS",
	[MS_APPLY] = "MASTER_GTID_WAIT()",
	[MS_APPLIED] = "SHOW SLAVE STATUS (relay log applied?)",
	[MS_STOP_SLAVE] = "STOP SLAVE",
	[MS_RESET_SLAVE] = "RESET SLAVE ALL",
	[MS_GUARD] = "semi-sync settings",
	[MS_READWRITE] = "SET GLOBAL read_only = 0",
	[MS_READONLY] = "SET GLOBAL read_only = 1",
	[MS_PROMOTED] = "",
	[MS_KICK_LIST] = "list client connections",
	[MS_KICK] = "KILL CONNECTION",
	[MS_PEER] = "the primary's @@gtid_binlog_state",
	[MS_COMPARE] = "compare GTID states",
	[MS_KEEP] = "keep the errant transactions",
	[MS_NET_TIMEOUT] = "SET GLOBAL slave_net_timeout",
	[MS_SEMI_SLAVE] = "SET GLOBAL rpl_semi_sync_slave_enabled",
	[MS_CHANGE] = "CHANGE MASTER TO",
	[MS_START_SLAVE] = "START SLAVE",
};

/* Point a read-only server at P. */
static const enum md_step follow[] = {
	MS_STOP_SLAVE, MS_NET_TIMEOUT, MS_SEMI_SLAVE, MS_CHANGE,
	MS_START_SLAVE
};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void run_step(struct mdd *d);
static void wait_tick(uv_timer_t *t);

static void hold_back(struct mdd *d, bool on);

static const char *node_name(const struct mdd *d, uint8_t id)
{
	return id >= 1 && id <= CONF_NODES ? d->r->conf->nodes[id - 1].name :
	       "none";
}

static const char *node_host(const struct mdd *d, uint8_t id)
{
	return d->r->conf->nodes[id - 1].ep.host;
}

/* The node whose address host is, or NULL. */
static const char *host_node(const struct mdd *d, const char *host)
{
	for (int i = 0; i < CONF_NODES; i++)
		if (!strcmp(d->r->conf->nodes[i].ep.host, host))
			return d->r->conf->nodes[i].name;
	return NULL;
}

static bool has_database(const struct mdd *d)
{
	char path[CONF_PATH_MAX + 16];
	struct stat st;

	snprintf(path, sizeof(path), "%s/mysql", d->c->datadir);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- the plan ------------------------------------------------------- */

static void set_rest(struct mdd *d, const enum md_step *steps, int n)
{
	if (d->pi + 1 + n >= MD_PLAN_MAX)
		n = MD_PLAN_MAX - d->pi - 2;
	memcpy(d->plan + d->pi + 1, steps, (size_t)n * sizeof(*steps));
	d->plan[d->pi + 1 + n] = MS_END;
}

static void insert_next(struct mdd *d, enum md_step s)
{
	int last = d->pi + 1;

	while (d->plan[last] != MS_END && last < MD_PLAN_MAX - 2)
		last++;
	memmove(d->plan + d->pi + 2, d->plan + d->pi + 1,
		(size_t)(last - d->pi) * sizeof(d->plan[0]));
	d->plan[d->pi + 1] = s;
}

static void op_end(struct mdd *d, int rc, const char *msg)
{
	enum md_op op = d->op;

	d->op = MDO_NONE;
	d->gen++;
	uv_timer_stop(&d->wait);
	/* The action may have started the server: look now, not after
	 * the monitor's back-off from when it was down. */
	mdc_retry_now(&d->mon);
	res_monitor_soon(d->r);
	/* Following a primary brings back what recovery rolled back. */
	if (!rc && (op == MDO_DEMOTE || op == MDO_REPAIR) && d->primary_id)
		hold_back(d, false);
	if (op == MDO_PROMOTE && d->reported) {
		/* The core was told already; the tail's failure is news. */
		if (rc)
			res_event(d->r, "promoted, but replication from the old "
				  "primary is not cleared: %s", msg);
		return;
	}
	switch (op) {
	case MDO_FENCE:
		if (rc)
			res_event(d->r, "fence failed, the server may still "
				  "accept writes: %s", msg);
		return;
	case MDO_UNQUIESCE:
		if (rc)
			res_event(d->r, "unquiesce failed, the server still "
				  "refuses writes: %s", msg);
		return;
	case MDO_REPAIR:
		if (rc && d->errant_err[0])
			; /* errant_found() said it: not retried */
		else if (!d->primary_id && rc &&
			 strcmp(msg, d->repair_err) != 0)
			res_event(d->r, "server down with no primary to "
				  "follow; starting it failed, retrying: %s",
				  msg);
		else if (!d->primary_id && !rc)
			res_event(d->r, "mariadb %s: the server was down with "
				  "no primary to follow: started again "
				  "read-only", d->r->cr->name);
		else if (rc && strcmp(msg, d->repair_err) != 0)
			res_event(d->r, "not yet a standby of %s, retrying: %s",
				  node_name(d, d->primary_id), msg);
		else if (!rc && (d->started || d->changed))
			res_event(d->r, "%s again: the server had stopped "
				  "replicating from it", msg ? msg : "standby");
		snprintf(d->repair_err, sizeof(d->repair_err), "%s",
			 rc ? msg : "");
		return;
	default:
		res_step_done(d->r, d->token, rc, msg);
	}
}

/* What the action achieved, for its step_done; "" if nothing to say. */
static void op_note(const struct mdd *d, char *note, size_t size)
{
	const char *name = d->r->cr->name;

	if (d->op == MDO_PROMOTE)
		snprintf(note, size, "mariadb %s: primary, %s", name,
			 d->c->replication != REPL_SYNC ? "async replication" :
			 d->require_sync ? "commits wait for the standby "
			 "(semi-sync)" : "commits do not wait for a standby");
	else if ((d->op == MDO_DEMOTE || d->op == MDO_REPAIR) &&
		 d->primary_id)
		snprintf(note, size, "mariadb %s: replica of %s "
			 "(%s:%u)", name, node_name(d, d->primary_id),
			 node_host(d, d->primary_id), d->c->port);
	else if (d->op == MDO_DEMOTE)
		snprintf(note, size, "mariadb %s: read-only, no "
			 "primary to follow", name);
	else if (d->op == MDO_QUIESCE)
		snprintf(note, size, "mariadb %s: quiesced (read-only, "
			 "client connections ended)", name);
	else
		note[0] = '\0';
}

static void end_note(struct mdd *d)
{
	char note[HP_ERR_MAX];

	op_note(d, note, sizeof(note));
	op_end(d, 0, note[0] ? note : NULL);
}

/* MS_PROMOTED: the server takes writes; the core may go on (VIP) while
 * the rest of the plan clears the replication. */
static void promoted(struct mdd *d)
{
	char note[HP_ERR_MAX];

	op_note(d, note, sizeof(note));
	d->reported = true;
	res_step_done(d->r, d->token, 0, note);
}

static void next_step(struct mdd *d)
{
	d->pi++;
	run_step(d);
}

static void step_fail(struct mdd *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void step_fail(struct mdd *d, const char *fmt, ...)
{
	char msg[HP_ERR_MAX], why[HP_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%.160s: %.340s", d->where, why);
	op_end(d, -1, msg);
}

/* ---- results ---------------------------------------------------------- */

/* Column name of the first row of res, "" if absent or NULL. */
static const char *col(MYSQL_RES *res, MYSQL_ROW row, const char *name)
{
	unsigned n = mysql_num_fields(res);
	MYSQL_FIELD *f = mysql_fetch_fields(res);

	for (unsigned i = 0; row && i < n; i++)
		if (!strcmp(f[i].name, name))
			return row[i] ? row[i] : "";
	return "";
}

static const char *at(MYSQL_ROW row, unsigned n, unsigned i)
{
	return row && i < n && row[i] ? row[i] : "";
}

/* ---- commits acknowledged without a standby ------------------------- */

/*
 * A marker file in state_dir says that this server may hold commits
 * acknowledged to clients while semi-sync was off (sync relaxed after the
 * witness recorded the standby out of sync).  Such a commit may still be
 * only prepared in InnoDB after a crash (its commit record not flushed
 * yet, the binlog being the coordinator): crash recovery as a semi-sync
 * replica would roll it back and truncate the binlog (MDEV-21117), losing
 * an acknowledged write.  So a start with the marker (or in async mode)
 * recovers normally, committing what the binlog holds, and the marker is
 * removed once that start answered.  It is created, durably, before
 * semi-sync is turned off, and removed after semi-sync is on again and
 * FLUSH ENGINE LOGS made every earlier commit durable as committed; a
 * server that cannot create it keeps semi-sync on.
 */
static const char ACKED_ALONE[] = "acked-alone";
static const char ROLLED_BACK[] = "rolled-back";

static void marker_path(const struct mdd *d, const char *what, char *buf,
			size_t size)
{
	snprintf(buf, size, "%s/%s.%s.%s", d->r->conf->state_dir,
		 node_name(d, d->r->self_id), d->r->cr->name, what);
}

static bool marked(const struct mdd *d, const char *what)
{
	char path[CONF_PATH_MAX + 2 * CONF_NAME_MAX + 32];
	struct stat st;

	marker_path(d, what, path, sizeof(path));
	return stat(path, &st) == 0;
}

static int mark(struct mdd *d, const char *what, bool present)
{
	char path[CONF_PATH_MAX + 2 * CONF_NAME_MAX + 32];
	struct hp_err err;

	marker_path(d, what, path, sizeof(path));
	if (statefile_marker(path, present, &err) == 0)
		return 0;
	res_event(d->r, "%s: %s", d->where, err.msg);
	return -1;
}

static bool alone_marked(const struct mdd *d)
{
	return marked(d, ACKED_ALONE);
}

static int alone_mark(struct mdd *d, bool present)
{
	return mark(d, ACKED_ALONE, present);
}

/*
 * The other side of that rollback: a primary's commit waits for the
 * standby's acknowledgement, but the client may get its answer before
 * InnoDB's commit record is on disk.  A truncating recovery of this
 * server's own transactions may thus remove one that a client saw
 * committed and that only the standby holds.  Such a server is held
 * back (unhealthy: it cannot be elected) until it has followed a
 * primary, which brings those transactions back; the hold is a marker
 * file too, so an agent restart keeps it.  hapair promote --force
 * overrides it.  So does the peer reporting, after the rollback, a
 * position before the first rolled-back sequence number (gtid_strict_mode
 * numbers a domain's transactions in order): it cannot hold any of them,
 * and waiting for it to become primary would leave the pair without one
 * if it is waiting for this node (chaos seed 20261209 trial 7).
 */
static void hold_back(struct mdd *d, bool on)
{
	if (!on)
		d->held_seq = 0;
	if (d->held == on)
		return;
	if (mark(d, ROLLED_BACK, on) && on)
		res_event(d->r, "%s: the hold is kept in memory only", d->where);
	d->held = on;
}

static void md_peer_position(struct res *r, bool has, uint64_t position)
{
	struct mdd *d = r->priv;

	if (!d->held || !d->held_seq || !has || position >= d->held_seq)
		return;
	res_event(r, "%s: the peer's position (%" PRIu64 ") is before the "
		  "transactions crash recovery rolled back (from sequence "
		  "%" PRIu64 "): it cannot hold them; eligible again",
		  d->where, position, d->held_seq);
	hold_back(d, false);
	res_monitor_soon(r);
}

/* After MS_PROBE: did the start's crash recovery remove transactions
 * this server wrote itself (its server_id in the GTID)? */
static void check_rollback(struct mdd *d)
{
	unsigned long dom, sid, seq;

	if (!d->rolled_back[0])
		return;
	if (sscanf(d->rolled_back, "%lu-%lu-%lu", &dom, &sid, &seq) == 3 &&
	    sid == d->server_id) {
		d->held_seq = dom == d->c->gtid_domain ? seq : 0;
		res_event(d->r, "%s: crash recovery rolled back this server's "
			  "own transactions from GTID %s on (the standby may "
			  "hold them, acknowledged to clients): not eligible "
			  "as primary until it has followed one (hapair "
			  "promote --force overrides)", d->where,
			  d->rolled_back);
		hold_back(d, true);
	}
	d->rolled_back[0] = '\0';
}

/* md_script start's last line: the GTID recovery removed from on. */
static void rolled_back(struct mdd *d, const char *out)
{
	static const char key[] = "remove transactions starting from GTID ";
	const char *p = strstr(out, key);

	d->rolled_back[0] = '\0';
	if (p)
		snprintf(d->rolled_back, sizeof(d->rolled_back), "%.*s",
			 (int)strspn(p + strlen(key), "0123456789-"),
			 p + strlen(key));
}

/* Crash recovery may roll back prepared transactions (none was
 * acknowledged): sync mode without the marker. */
static bool may_truncate(const struct mdd *d)
{
	return d->c->replication == REPL_SYNC && !alone_marked(d);
}

/* ---- SQL steps -------------------------------------------------------- */

static const char probe_sql[] =
	"SELECT @@read_only, @@log_bin, @@server_id, @@gtid_binlog_state, "
	"@@rpl_semi_sync_slave_enabled, @@log_bin_index";

static void guard_sql(struct mdd *d, char *sql, size_t size)
{
	bool on = d->c->replication == REPL_SYNC && d->require_sync;

	if (d->c->replication == REPL_SYNC && !on && alone_mark(d, true)) {
		res_event(d->r, "%s: semi-sync stays on (commits wait for a "
			  "standby): the record of commits acknowledged "
			  "without one could not be written", d->where);
		on = true;
	}
	if (on)
		snprintf(sql, size, "SET GLOBAL "
			 "rpl_semi_sync_master_wait_point = AFTER_SYNC, GLOBAL "
			 "rpl_semi_sync_master_wait_no_slave = ON, GLOBAL "
			 "rpl_semi_sync_master_timeout = 18446744073709551615, "
			 "GLOBAL rpl_semi_sync_master_enabled = ON");
	else
		snprintf(sql, size, "SET GLOBAL "
			 "rpl_semi_sync_master_enabled = OFF");
}

static void change_sql(const struct mdd *d, char *sql, size_t size)
{
	char pw[2 * sizeof(d->repl_password) + 1];

	md_sql_escape(pw, sizeof(pw), d->repl_password);
	snprintf(sql, size, "CHANGE MASTER TO MASTER_HOST = '%s', "
		 "MASTER_PORT = %u, MASTER_USER = '%s', MASTER_PASSWORD = '%s', "
		 "MASTER_USE_GTID = %s, MASTER_CONNECT_RETRY = 1, "
		 "MASTER_HEARTBEAT_PERIOD = 1", node_host(d, d->primary_id),
		 d->c->port, d->c->repl_user, pw,
		 d->use_slave_pos ? "slave_pos" : "current_pos");
	memset(pw, 0, sizeof(pw));
}

static void step_sql(struct mdd *d, enum md_step s, char *sql, size_t size)
{
	switch (s) {
	case MS_UP:
		snprintf(sql, size, "SELECT 1");
		return;
	case MS_PROBE:
		snprintf(sql, size, "%s", probe_sql);
		return;
	case MS_SLAVE:
	case MS_IO_POS:
	case MS_IO_CHECK:
	case MS_APPLIED:
		snprintf(sql, size, "SHOW SLAVE STATUS");
		return;
	case MS_KILL_TIMEOUT:
		snprintf(sql, size, "SET GLOBAL "
			 "rpl_semi_sync_slave_kill_conn_timeout = 1");
		return;
	case MS_STOP_IO:
		snprintf(sql, size, "STOP SLAVE IO_THREAD");
		return;
	case MS_START_SQL:
		snprintf(sql, size, "START SLAVE SQL_THREAD");
		return;
	case MS_STOP_SQL:
		snprintf(sql, size, "STOP SLAVE SQL_THREAD");
		return;
	case MS_APPLY:
		if (!d->io_pos[0])
			snprintf(sql, size, "SELECT 0");
		else
			snprintf(sql, size, "SELECT MASTER_GTID_WAIT('%.400s', "
				 "1)", d->io_pos);
		return;
	case MS_STOP_SLAVE:
		snprintf(sql, size, "STOP SLAVE");
		return;
	case MS_RESET_SLAVE:
		snprintf(sql, size, "RESET SLAVE ALL");
		return;
	case MS_GUARD:
		guard_sql(d, sql, size);
		return;
	case MS_READWRITE:
		snprintf(sql, size, "SET GLOBAL read_only = 0");
		return;
	case MS_READONLY:
		snprintf(sql, size, "SET GLOBAL read_only = 1");
		return;
	case MS_KICK_LIST:
		snprintf(sql, size, "SELECT id FROM information_schema.PROCESSLIST "
			 "WHERE id <> CONNECTION_ID() AND command NOT IN "
			 "('Binlog Dump', 'Daemon', 'Slave_IO', 'Slave_SQL', "
			 "'Slave_worker') AND user <> 'system user' AND user <> "
			 "'event_scheduler'");
		return;
	case MS_KICK:
		snprintf(sql, size, "KILL CONNECTION %lu",
			 d->kick[d->n_kick - 1]);
		return;
	case MS_PEER:
		snprintf(sql, size, "SELECT @@gtid_binlog_state, @@server_id, "
			 "@@read_only");
		return;
	case MS_NET_TIMEOUT:
		snprintf(sql, size, "SET GLOBAL slave_net_timeout = %d",
			 MD_NET_TIMEOUT_S);
		return;
	case MS_SEMI_SLAVE:
		snprintf(sql, size, "SET GLOBAL rpl_semi_sync_slave_enabled = "
			 "%s", d->c->replication == REPL_SYNC ? "ON" : "OFF");
		return;
	case MS_CHANGE:
		change_sql(d, sql, size);
		return;
	case MS_START_SLAVE:
		snprintf(sql, size, "START SLAVE");
		return;
	default:
		sql[0] = '\0';
	}
}

/* Our own connections are not ended by MS_KICK. */
static bool ours(const struct mdd *d, unsigned long id)
{
	return id == d->mon.thread_id || id == d->sync.thread_id ||
	       id == d->act.thread_id;
}

/* SHOW SLAVE STATUS during a promote or demote. */
static void after_slave(struct mdd *d, MYSQL_RES *res)
{
	/* A semi-sync IO thread that stops connects to the old primary
	 * to kill its dump connection there, and STOP SLAVE waits for
	 * that connect up to rpl_semi_sync_slave_kill_conn_timeout
	 * seconds (default 5, shortest 1) when the old primary is
	 * unreachable, as it is after a link loss: a second of outage.
	 * So the IO thread is stopped after the server turned writable.
	 * The SQL thread is stopped first, so nothing from the old
	 * primary is applied once clients write.  What it must apply is
	 * every commit the old primary may have acknowledged: AFTER_SYNC
	 * acknowledges only commits in our relay log, and the old
	 * primary was fenced before the election, so Gtid_IO_Pos read
	 * now covers them.  MS_IO_CHECK looks again after the SQL thread
	 * stopped and takes the slow way (IO thread stopped first) if
	 * anything arrived in between.  Events that arrive later were
	 * acknowledged to no client; RESET SLAVE ALL drops them with the
	 * relay log, and the old primary's copy is truncated by its
	 * crash recovery or kept as errant when it rejoins. */
	static const enum md_step promote_replica[] = {
		MS_KILL_TIMEOUT, MS_IO_POS, MS_APPLY, MS_STOP_SQL, MS_IO_CHECK,
		MS_GUARD, MS_READWRITE, MS_PROMOTED, MS_STOP_SLAVE,
		MS_RESET_SLAVE
	};
	static const enum md_step promote_primary[] = {
		MS_GUARD, MS_READWRITE, MS_PROMOTED
	};
	MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
	const char *io, *sql;

	d->slave_any = row && col(res, row, "Master_Host")[0];
	if (d->op == MDO_PROMOTE) {
		if (d->slave_any)
			set_rest(d, promote_replica, N(promote_replica));
		else
			set_rest(d, promote_primary, N(promote_primary));
		return;
	}
	if (!d->primary_id) {
		static const enum md_step stop[] = { MS_STOP_SLAVE };

		if (d->slave_any)
			set_rest(d, stop, N(stop));
		return;
	}
	io = col(res, row, "Slave_IO_Running");
	sql = col(res, row, "Slave_SQL_Running");
	d->slave_ok = d->slave_any && !d->use_slave_pos &&
		      !strcmp(col(res, row, "Master_Host"),
			      node_host(d, d->primary_id)) &&
		      strtoul(col(res, row, "Master_Port"), NULL, 10) ==
		      d->c->port &&
		      !strcmp(col(res, row, "Master_User"), d->c->repl_user) &&
		      strcmp(col(res, row, "Using_Gtid"), "No") != 0 &&
		      (!strcmp(io, "Yes") || !strcmp(io, "Connecting")) &&
		      !strcmp(sql, "Yes") &&
		      (d->c->replication != REPL_SYNC || d->semi_slave_on);
	if (d->slave_ok)
		return; /* replicates from P already */
	set_rest(d, follow, N(follow));
}

/* SHOW SLAVE STATUS after STOP SLAVE IO_THREAD: what to apply. */
static int after_io_pos(struct mdd *d, MYSQL_RES *res)
{
	MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
	const char *err = col(res, row, "Last_SQL_Error");

	snprintf(d->io_pos, sizeof(d->io_pos), "%s",
		 col(res, row, "Gtid_IO_Pos"));
	if (!strcmp(col(res, row, "Slave_SQL_Running"), "Yes"))
		return 0;
	if (err[0]) {
		step_fail(d, "the relay log cannot be applied before the "
			  "promotion (SQL thread stopped: %s); fix it, then "
			  "START SLAVE SQL_THREAD", err);
		return -1;
	}
	insert_next(d, MS_START_SQL);
	return 0;
}

/* MS_APPLIED, after MASTER_GTID_WAIT timed out (1 s): Gtid_IO_Pos
 * names what the IO thread received, but a server restarted since (a
 * crashed primary whose replication settings outlived its promotion)
 * may no longer hold those events in a relay log.  What counts is that
 * the SQL thread applied every event there is: then go on.  Otherwise
 * wait again, up to action_timeout from the start of the promote. */
static int after_applied(struct mdd *d, MYSQL_RES *res)
{
	MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
	const char *state = col(res, row, "Slave_SQL_Running_State");
	const char *err = col(res, row, "Last_SQL_Error");

	if (strcmp(col(res, row, "Slave_IO_Running"), "Yes") != 0 &&
	    strstr(state, "read all relay log")) {
		res_event(d->r, "%s: the relay log is applied (Gtid_IO_Pos %s "
			  "was not reached: those events are not in it any "
			  "more)", d->where, d->io_pos);
		return 0;
	}
	if (err[0] || strcmp(col(res, row, "Slave_SQL_Running"), "Yes")) {
		step_fail(d, "the relay log cannot be applied before the "
			  "promotion (SQL thread stopped%s%s); fix it, then "
			  "START SLAVE SQL_THREAD", err[0] ? ": " : "", err);
		return -1;
	}
	if (mono_ms() >= d->deadline_ms) {
		step_fail(d, "the relay log was not applied up to %s within "
			  "%u s (MASTER_GTID_WAIT)", d->io_pos,
			  d->c->action_timeout_ms / 1000);
		return -1;
	}
	d->pi -= 2; /* next: the MS_APPLY before this step, again */
	return 0;
}

/* SHOW SLAVE STATUS after STOP SLAVE SQL_THREAD: did anything arrive
 * since MS_IO_POS? */
static void after_io_check(struct mdd *d, MYSQL_RES *res)
{
	MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;

	if (!strcmp(col(res, row, "Gtid_IO_Pos"), d->io_pos))
		return;
	/* In plan order: STOP SLAVE IO_THREAD, Gtid_IO_Pos (restarts the
	 * SQL thread), MASTER_GTID_WAIT. */
	insert_next(d, MS_APPLY);
	insert_next(d, MS_IO_POS);
	insert_next(d, MS_STOP_IO);
}

/* SELECT @@read_only, ... before a demote. */
static int after_probe(struct mdd *d, MYSQL_RES *res)
{
	static const enum md_step restart[] = {
		MS_KILL, MS_DEAD, MS_START, MS_UP, MS_PROBE
	};
	static const enum md_step to_p[] = {
		MS_READONLY, MS_KICK_LIST, MS_PEER, MS_COMPARE, MS_SLAVE
	};
	static const enum md_step to_p_ro[] = {
		MS_PEER, MS_COMPARE, MS_SLAVE
	};
	static const enum md_step to_none[] = {
		MS_READONLY, MS_KICK_LIST, MS_SLAVE
	};
	unsigned n = res ? mysql_num_fields(res) : 0;
	MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
	bool writable;

	if (!row || n < 6) {
		step_fail(d, "%s: unexpected answer", probe_sql);
		return -1;
	}
	writable = !strcmp(at(row, n, 0), "0");
	d->log_bin = !strcmp(at(row, n, 1), "1");
	d->server_id = strtoul(at(row, n, 2), NULL, 10);
	check_rollback(d);
	snprintf(d->local_state, sizeof(d->local_state), "%s", at(row, n, 3));
	d->semi_slave_on = !strcmp(at(row, n, 4), "1");
	snprintf(d->bin_index, sizeof(d->bin_index), "%s", at(row, n, 5));
	if (!d->log_bin) {
		step_fail(d, "binary logging is off: set log_bin in the "
			  "server's configuration (replication needs it)");
		return -1;
	}
	if (!d->primary_id) {
		set_rest(d, to_none, N(to_none));
		return 0;
	}
	if (writable && !d->in_place && !d->started) {
		/* A primary until now: commits may wait for an
		 * acknowledgement that will never come.  Killed, they are
		 * rolled back by crash recovery as a replica. */
		res_event(d->r, "%s: the server is still writable; killing "
			  "it and starting it again as a replica of %s (crash "
			  "recovery drops the transactions no standby "
			  "acknowledged)", d->where, node_name(d, d->primary_id));
		set_rest(d, restart, N(restart));
		return 0;
	}
	if (writable)
		set_rest(d, to_p, N(to_p));
	else
		set_rest(d, to_p_ro, N(to_p_ro));
	return 0;
}

static void after_kick_list(struct mdd *d, MYSQL_RES *res)
{
	MYSQL_ROW row;

	d->n_kick = 0;
	while (res && (row = mysql_fetch_row(res)) && d->n_kick < MD_KICK_MAX) {
		unsigned long id = strtoul(row[0] ? row[0] : "0", NULL, 10);

		if (id && !ours(d, id))
			d->kick[d->n_kick++] = id;
	}
	if (d->n_kick)
		insert_next(d, MS_KICK);
}

/* The errant GTIDs: triples of ours that P does not have (same domain
 * and server id with a sequence number at least as large).  Returns
 * how many; the first goes to d->errant. */
static int find_errant(struct mdd *d, char *list, size_t size)
{
	const char *p = d->local_state;
	size_t len = 0;
	int n = 0;

	list[0] = '\0';
	d->errant[0] = '\0';
	while (*p) {
		unsigned long dom, srv, pdom, psrv;
		unsigned long long seq, pseq;
		const char *q = d->peer_state;
		bool have = false;
		int used = 0;

		p += strspn(p, ", \n");
		if (sscanf(p, "%lu-%lu-%llu%n", &dom, &srv, &seq, &used) != 3)
			break;
		p += used;
		while (*q) {
			int u = 0;

			q += strspn(q, ", \n");
			if (sscanf(q, "%lu-%lu-%llu%n", &pdom, &psrv, &pseq,
				   &u) != 3)
				break;
			q += u;
			if (pdom == dom && psrv == srv) {
				have = pseq >= seq;
				break;
			}
		}
		if (have)
			continue;
		if (!n)
			snprintf(d->errant, sizeof(d->errant), "%lu-%lu-%llu",
				 dom, srv, seq);
		if (len + 40 < size)
			len += (size_t)snprintf(list + len, size - len,
						"%s%lu-%lu-%llu", n ? "," : "",
						dom, srv, seq);
		n++;
	}
	return n;
}

static int after_peer(struct mdd *d, MYSQL_RES *res)
{
	unsigned n = res ? mysql_num_fields(res) : 0;
	MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;

	if (!row || n < 3) {
		step_fail(d, "the primary %s answered no GTID state",
			  node_name(d, d->primary_id));
		return -1;
	}
	snprintf(d->peer_state, sizeof(d->peer_state), "%s", at(row, n, 0));
	d->peer_server_id = strtoul(at(row, n, 1), NULL, 10);
	if (d->peer_server_id == d->server_id) {
		step_fail(d, "server_id %lu is the same here and on %s; give "
			  "each node its own server_id in the server's "
			  "configuration", d->server_id,
			  node_name(d, d->primary_id));
		return -1;
	}
	if (strcmp(at(row, n, 2), "0") != 0) {
		step_fail(d, "%s is still read-only (not promoted yet); "
			  "not following it yet", node_name(d, d->primary_id));
		return -1;
	}
	return 0;
}

/* Errant transactions: dump them, then fail (MS_KEEP's end). */
static int compare(struct mdd *d)
{
	/* Not rejoined: replication stays stopped (strict mode would stop
	 * it anyway at the first out-of-order GTID). */
	static const enum md_step keep[] = { MS_STOP_SLAVE, MS_KEEP };
	char list[HP_ERR_MAX / 2];
	int n = find_errant(d, list, sizeof(list));

	if (!n)
		return 0;
	snprintf(d->errant_list, sizeof(d->errant_list), "%s", list);
	snprintf(d->errant_err, sizeof(d->errant_err), "%.100s: %d errant "
		 "transaction(s) the primary %.32s does not have (%.120s), "
		 "not rejoined", d->where, n, node_name(d, d->primary_id),
		 list);
	set_rest(d, keep, N(keep));
	return 0;
}

static void errant_found(struct mdd *d, bool kept, const char *line)
{
	char msg[HP_ERR_MAX];

	if (kept)
		snprintf(msg, sizeof(msg), "%.260s; dumped to %.160s; inspect "
			 "it, then repair with hapair clone --force",
			 d->errant_err, d->kept);
	else
		snprintf(msg, sizeof(msg), "%.260s; could not dump them to "
			 "%.100s (%.60s); repair with hapair clone --force",
			 d->errant_err, d->kept, line);
	snprintf(d->errant_err, sizeof(d->errant_err), "%s", msg);
	res_event(d->r, "%s", d->errant_err);
	op_end(d, -1, d->errant_err);
}

static void step_reply(struct mdc *c, MYSQL_RES *res, const char *err)
{
	struct mdd *d = c->d;
	enum md_step s = d->plan[d->pi];

	if (err && s == MS_UP && mono_ms() < d->deadline_ms) {
		uv_timer_start(&d->wait, wait_tick, MD_UP_POLL_MS, 0);
		return;
	}
	if (err && s == MS_KICK) {
		d->n_kick--; /* gone already */
		if (d->n_kick)
			insert_next(d, MS_KICK);
		next_step(d);
		return;
	}
	if (err) {
		op_end(d, -1, err);
		return;
	}
	switch (s) {
	case MS_PROBE:
		if (after_probe(d, res))
			return;
		break;
	case MS_SLAVE:
		after_slave(d, res);
		break;
	case MS_IO_POS:
		if (after_io_pos(d, res))
			return;
		break;
	case MS_IO_CHECK:
		after_io_check(d, res);
		break;
	case MS_APPLY: {
		MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
		bool done = row && row[0] && !strcmp(row[0], "0");

		/* Not yet: look (MS_APPLIED, once in the plan, comes back
		 * here to wait again). */
		if (!done && d->plan[d->pi + 1] != MS_APPLIED)
			insert_next(d, MS_APPLIED);
		else if (done && d->plan[d->pi + 1] == MS_APPLIED)
			d->pi++;
		break;
	}
	case MS_APPLIED:
		if (after_applied(d, res))
			return;
		break;
	case MS_KICK_LIST:
		after_kick_list(d, res);
		break;
	case MS_KICK:
		d->n_kick--;
		if (d->n_kick)
			insert_next(d, MS_KICK);
		break;
	case MS_PEER:
		if (after_peer(d, res))
			return;
		break;
	case MS_READONLY:
		d->read_only = true;
		break;
	case MS_READWRITE:
		d->read_only = false;
		break;
	case MS_CHANGE:
		d->use_slave_pos = false;
		d->changed = true;
		break;
	default:
		break;
	}
	next_step(d);
}

/* ---- child and local steps ------------------------------------------- */

static void last_line(const char *out, char *buf, size_t size)
{
	const char *end = out + strlen(out), *p;

	while (end > out && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	for (p = end; p > out && p[-1] != '\n'; p--)
		;
	snprintf(buf, size, "%.*s", (int)(end - p), p);
}

static void child_done(struct res *r, int status, const char *out)
{
	struct mdd *d = r->priv;
	enum md_step s = d->plan[d->pi];
	char line[512];

	if (d->waiting_child) {
		/* A superseded action's child ended: run the current one. */
		d->waiting_child = false;
		if (d->op != MDO_NONE)
			run_step(d);
		return;
	}
	if (d->op == MDO_NONE)
		return;
	last_line(out, line, sizeof(line));
	if (status < 0)
		snprintf(line, sizeof(line), "killed (not done within its "
			 "timeout)");
	switch (s) {
	case MS_KEEP:
		errant_found(d, status == 0, line);
		return;
	case MS_CLONE:
		if (status != 0) {
			step_fail(d, "clone from %s failed: %s",
				  node_name(d, d->primary_id), line);
			return;
		}
		res_event(d->r, "%s: cloned from %s (mariadb-dump); "
			  "replicating from its GTID position",
			  d->where, node_name(d, d->primary_id));
		d->use_slave_pos = true;
		d->started = true;
		next_step(d);
		return;
	case MS_START:
		if (status != 0) {
			step_fail(d, "start mariadbd: %s", line[0] ? line :
				  "failed");
			return;
		}
		/* Recovered without rollback: what it acknowledged alone is
		 * committed now. */
		if (!d->truncating && d->c->replication == REPL_SYNC)
			alone_mark(d, false);
		rolled_back(d, out);
		d->started = true;
		d->deadline_ms = mono_ms() + d->c->action_timeout_ms;
		next_step(d);
		return;
	default:
		step_fail(d, "%s: %s", step_name[s], line);
		return;
	}
}

static char **child_env(const char *pw, bool keep, char pwbuf[],
			size_t size, char *env[6])
{
	int n = 0;

	env[n++] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	env[n++] = "LC_ALL=C";
	env[n++] = "HOME=/";
	if (keep)
		env[n++] = "HP_RECOVER=keep";
	if (pw && pw[0]) {
		snprintf(pwbuf, size, "HP_PW=%s", pw);
		env[n++] = pwbuf;
	}
	env[n] = NULL;
	return env;
}

/* MS_KEEP: copy the binlogs as they are and decode them whole (a GTID
 * start position is refused when the primary's GTIDs are not in these
 * binlogs); the README names the errant GTIDs to look for. */
static const char keep_script[] =
	"exec 2>&1; set -u\n"
	"dd=$1 dst=$2 gtids=$3 idx=$4\n"
	"mkdir -p -m 0700 \"$dst\" || exit 1\n"
	"cd \"$dd\" || exit 1\n"
	"files=()\n"
	"while IFS= read -r f; do\n"
	"  [ -f \"$f\" ] || continue\n"
	"  cp -p \"$f\" \"$dst/\" || exit 1; files+=(\"$f\")\n"
	"done < \"$idx\"\n"
	"[ ${#files[@]} -gt 0 ] || { echo \"no binlog file listed in $idx\"; "
	"exit 1; }\n"
	"{ echo \"Errant transactions of $dd (GTIDs the new primary lacks):\"\n"
	"  echo \"  $gtids\"\n"
	"  echo \"The binlogs are copied as they were; binlogs.sql decodes them:\"\n"
	"  echo \"look for the lines 'GTID <gtid>' of the GTIDs above.\"\n"
	"} >\"$dst/README\"\n"
	"mariadb-binlog --no-defaults -vv --base64-output=decode-rows "
	"\"${files[@]}\" >\"$dst/binlogs.sql\" 2>&1 || "
	"echo \"mariadb-binlog could not decode them all\" >>\"$dst/README\"\n"
	"exit 0\n";

static void run_child(struct mdd *d, enum md_step s)
{
	char *argv[MD_ARGV_MAX], *env[6];
	char bufs[4][32], pwbuf[160], err[HP_ERR_MAX], stamp[32];
	const char *pw = NULL;
	uint32_t ms = d->c->action_timeout_ms + 5000;
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	switch (s) {
	case MS_START:
		md_script_argv(d->c, "start", NULL, argv, bufs);
		d->truncating = may_truncate(d);
		break;
	case MS_CLONE:
		md_script_argv(d->c, "clone", node_host(d, d->primary_id),
			       argv, bufs);
		pw = d->password;
		ms = 3 * d->c->action_timeout_ms;
		res_step_extend(d->r, d->token, ms + 5000);
		break;
	case MS_KEEP:
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(d->kept, sizeof(d->kept), "%s/%s-%s-%s-gtid%s",
			 d->c->keep_dir, node_name(d, d->r->self_id),
			 d->r->cr->name, stamp, d->errant);
		argv[0] = "/bin/bash", argv[1] = "-c";
		argv[2] = (char *)keep_script, argv[3] = "keep";
		argv[4] = (char *)d->c->datadir, argv[5] = d->kept;
		argv[6] = d->errant_list, argv[7] = d->bin_index;
		argv[8] = NULL;
		break;
	default:
		step_fail(d, "%s: not a child step", step_name[s]);
		return;
	}
	/* The agent's own user: the scripts switch to os_user themselves
	 * where the server needs it. */
	rc = res_child_run(d->r, &d->x, d->where, step_name[s], argv,
			   child_env(pw, s == MS_START && !d->truncating,
				     pwbuf, sizeof(pwbuf), env), false, 0,
			   0, ms, child_done, err, sizeof(err));
	memset(pwbuf, 0, sizeof(pwbuf));
	if (rc)
		op_end(d, -1, err);
}

static bool is_child_step(enum md_step s)
{
	return s == MS_START || s == MS_CLONE || s == MS_KEEP;
}

static void wait_tick(uv_timer_t *t)
{
	run_step(t->data);
}

/* Steps that need neither SQL nor a child. */
static void local_step(struct mdd *d, enum md_step s)
{
	static const enum md_step start[] = { MS_START, MS_UP, MS_PROBE };
	static const enum md_step start_promote[] = {
		MS_START, MS_UP, MS_SLAVE
	};
	static const enum md_step clone[] = {
		MS_CLONE, MS_UP, MS_PROBE
	};
	pid_t pids[MD_PIDS_MAX];

	switch (s) {
	case MS_ALIVE:
		if (md_find_server(d->c->datadir, pids, MD_PIDS_MAX)) {
			insert_next(d, d->op == MDO_PROMOTE ? MS_SLAVE :
				    MS_PROBE);
			break;
		}
		if (!has_database(d)) {
			if (d->op != MDO_PROMOTE && !d->primary_id) {
				/* Nothing runs, nothing to make read-only:
				 * cloned once a primary is known. */
				op_end(d, 0, "mariadb: datadir holds no "
				       "database yet; cloned from the primary "
				       "once there is one");
				return;
			}
			if (d->op == MDO_PROMOTE) {
				step_fail(d, "datadir holds no database (no "
					  "mysql/ directory), so it cannot be "
					  "the primary; run hapair clone or "
					  "mariadb-install-db");
				return;
			}
			res_event(d->r, "%s: datadir holds no database; "
				  "cloning it from %s (mariadb-dump)", d->where,
				  node_name(d, d->primary_id));
			d->deadline_ms = mono_ms() + d->c->action_timeout_ms;
			set_rest(d, clone, N(clone));
			break;
		}
		if (d->op == MDO_PROMOTE)
			set_rest(d, start_promote, N(start_promote));
		else
			set_rest(d, start, N(start));
		break;
	case MS_KILL:
		md_kill_server(d->c->datadir);
		d->deadline_ms = mono_ms() + d->c->timeout_ms + 1000;
		break;
	case MS_DEAD:
		if (md_find_server(d->c->datadir, pids, MD_PIDS_MAX)) {
			if (mono_ms() >= d->deadline_ms) {
				step_fail(d, "mariadbd (pid %d) still runs "
					  "after SIGKILL", (int)pids[0]);
				return;
			}
			md_kill_server(d->c->datadir);
			uv_timer_start(&d->wait, wait_tick, 20, 0);
			return;
		}
		break;
	case MS_COMPARE:
		mdc_drop(&d->peer); /* asked once per demote */
		compare(d);
		break;
	case MS_PROMOTED:
		promoted(d);
		break;
	default:
		break;
	}
	next_step(d);
}

static bool is_local_step(enum md_step s)
{
	return s == MS_ALIVE || s == MS_KILL || s == MS_DEAD ||
	       s == MS_COMPARE || s == MS_PROMOTED;
}

static void run_step(struct mdd *d)
{
	enum md_step s = d->plan[d->pi];
	char sql[MD_SQL_MAX], err[HP_ERR_MAX];
	struct mdc *c = s == MS_PEER ? &d->peer : &d->act;

	if (d->op == MDO_NONE)
		return;
	if (s == MS_END) {
		end_note(d);
		return;
	}
	if (is_local_step(s)) {
		local_step(d, s);
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
	/* A fresh connection: to the new server, to the current P. */
	if (s == MS_UP || s == MS_PEER)
		mdc_drop(c);
	if (mdc_query(c, sql, step_reply, true, err, sizeof(err)))
		op_end(d, -1, err);
	memset(sql, 0, sizeof(sql));
}

/* The clone rewrites the datadir: it runs to its end. */
static bool child_killable(const struct mdd *d)
{
	return strcmp(d->x.name, step_name[MS_CLONE]) != 0;
}

static void op_start(struct mdd *d, enum md_op op, unsigned token,
		     const enum md_step *plan, int n)
{
	/* A promote's tail cut short leaves replication from the old
	 * primary set up; a demote replaces it, a fence kills the
	 * server, the others clear it first. */
	static const enum md_step clear[] = { MS_STOP_SLAVE, MS_RESET_SLAVE };
	int k = d->op == MDO_PROMOTE && d->reported &&
		(op == MDO_QUIESCE || op == MDO_UNQUIESCE) ? N(clear) : 0;

	d->gen++;
	d->op = op;
	d->token = token;
	d->pi = 0;
	d->started = false;
	d->changed = false;
	d->reported = false;
	memcpy(d->plan, clear, (size_t)k * sizeof(*plan));
	memcpy(d->plan + k, plan, (size_t)n * sizeof(*plan));
	d->plan[k + n] = MS_END;
	uv_timer_stop(&d->wait);
	if (d->act.busy)
		mdc_drop(&d->act); /* the superseded op's query */
	if (d->peer.busy)
		mdc_drop(&d->peer);
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

static void md_promote(struct res *r, unsigned token)
{
	struct mdd *d = r->priv;
	static const enum md_step plan[] = { MS_ALIVE };

	d->expect = MDE_PRIMARY;
	d->primary_id = 0; /* followed no more */
	hold_back(d, false); /* elected anyway: forced, or nothing to lose */
	d->deadline_ms = mono_ms() + d->c->action_timeout_ms; /* MS_APPLY */
	d->errant_err[0] = '\0';
	d->handed_over = false;
	op_start(d, MDO_PROMOTE, token, plan, N(plan));
}

static void md_demote(struct res *r, uint8_t primary_id, unsigned token)
{
	struct mdd *d = r->priv;
	static const enum md_step plan[] = { MS_ALIVE };

	if (primary_id != d->primary_id)
		d->errant_err[0] = '\0'; /* a new primary: look again */
	d->primary_id = primary_id;
	d->expect = primary_id ? MDE_STANDBY : MDE_ANY;
	d->expect_id = primary_id;
	d->repair_err[0] = '\0';
	if (d->errant_err[0]) {
		res_step_done(r, token, -1, d->errant_err);
		return;
	}
	d->in_place = d->handed_over;
	d->handed_over = false;
	op_start(d, MDO_DEMOTE, token, plan, N(plan));
}

static void md_fence(struct res *r)
{
	struct mdd *d = r->priv;
	static const enum md_step plan[] = { MS_KILL, MS_DEAD };

	d->expect = MDE_ANY;
	d->primary_id = 0; /* whoever is primary now, it is not known */
	/* Started again read-only (maybe_repair) only if no primary shows
	 * up to follow by then. */
	d->repair_at_ms = mono_ms() + MD_REPAIR_MS;
	op_start(d, MDO_FENCE, 0, plan, N(plan));
}

static void md_quiesce(struct res *r, unsigned token)
{
	struct mdd *d = r->priv;
	static const enum md_step plan[] = { MS_READONLY, MS_KICK_LIST };

	op_start(d, MDO_QUIESCE, token, plan, N(plan));
}

static void md_unquiesce(struct res *r)
{
	struct mdd *d = r->priv;
	static const enum md_step plan[] = { MS_READWRITE };

	if (d->expect != MDE_PRIMARY)
		return;
	op_start(d, MDO_UNQUIESCE, 0, plan, N(plan));
}

/* The standby has every transaction: the coming demote may make this
 * server read-only in place instead of killing it. */
static void md_handed_over(struct res *r)
{
	struct mdd *d = r->priv;

	d->handed_over = true;
}

/* ---- sync-mode write guard ------------------------------------------ */

static void flush_reply(struct mdc *c, MYSQL_RES *res, const char *err)
{
	struct mdd *d = c->d;

	(void)res;
	if (err) {
		res_event(d->r, "%s: FLUSH ENGINE LOGS failed (%s): the "
			  "record of commits acknowledged without a standby "
			  "stays", d->where, err);
		return;
	}
	if (d->require_sync && d->expect == MDE_PRIMARY)
		alone_mark(d, false);
}

static void sync_reply(struct mdc *c, MYSQL_RES *res, const char *err)
{
	struct mdd *d = c->d;
	char e[HP_ERR_MAX];

	(void)res;
	if (err) {
		res_event(d->r, "sync-mode write guard not changed: %s", err);
		return;
	}
	/* Semi-sync is on again: once the commits acknowledged alone are
	 * durable as committed, crash recovery may roll back what is only
	 * prepared (no client saw it). */
	if (d->require_sync && alone_marked(d) &&
	    mdc_query(&d->sync, "FLUSH ENGINE LOGS", flush_reply, true, e,
		      sizeof(e)))
		res_event(d->r, "%s: FLUSH ENGINE LOGS: %s", d->where, e);
}

static void md_set_sync(struct res *r, bool require)
{
	struct mdd *d = r->priv;
	char sql[512], err[HP_ERR_MAX];

	if (d->c->replication != REPL_SYNC)
		return;
	d->require_sync = require;
	/* Not primary: the next promote applies it.  During a promote it
	 * is sent too: the promote's own step may have run already. */
	if (d->expect != MDE_PRIMARY)
		return;
	guard_sql(d, sql, sizeof(sql));
	if (d->sync.busy)
		mdc_drop(&d->sync); /* the newer setting wins */
	if (mdc_query(&d->sync, sql, sync_reply, true, err, sizeof(err)))
		res_event(r, "sync-mode write guard not changed: %s", err);
}

/* ---- monitoring ------------------------------------------------------- */

static const char monitor_sql[] =
	"SELECT @@read_only, @@gtid_binlog_pos, @@gtid_current_pos, "
	"@@log_bin, @@server_id, @@gtid_strict_mode, "
	"@@rpl_semi_sync_master_enabled, @@rpl_semi_sync_slave_enabled, "
	"(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE "
	"VARIABLE_NAME = 'RPL_SEMI_SYNC_SLAVE_STATUS'), "
	"(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE "
	"VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_CLIENTS')";

static void set_down(struct mdd *d, const char *why)
{
	res_down(d->r, why);
}

/* Say a misconfiguration once (and again when it changes). */
static void conf_problem(struct mdd *d, const char *msg)
{
	if (strcmp(msg, d->conf_err) != 0)
		res_event(d->r, "%s", msg);
	snprintf(d->conf_err, sizeof(d->conf_err), "%s", msg);
}

/* A replication error appearing or changing is an event. */
static void repl_error(struct mdd *d, const char *err)
{
	if (err[0] && strcmp(err, d->repl_err_said) != 0)
		res_event(d->r, "replication error on %s: %s",
			  node_name(d, d->r->self_id), err);
	snprintf(d->repl_err_said, sizeof(d->repl_err_said), "%s", err);
}

/* A replica that does not follow its primary is demoted again; a
 * server that is down with no primary known (fenced, crashed) is started
 * read-only as demote(none) starts it, so that its position is known. */
static void maybe_repair(struct mdd *d)
{
	static const enum md_step plan[] = { MS_ALIVE };
	const struct res_state *s = &d->r->state;
	uint64_t now = mono_ms();
	bool stopped = s->has_replica_threads &&
		       ((!d->io_yes && !d->io_connecting) || !d->sql_yes) &&
		       !d->sql_err[0];
	bool down_alone = d->expect == MDE_ANY && !s->healthy &&
			  !s->has_position;

	if (d->errant_err[0] && !has_database(d))
		d->errant_err[0] = '\0'; /* moved aside: clone it */
	if ((d->expect != MDE_STANDBY && !down_alone) ||
	    (s->healthy && !stopped) ||
	    d->op != MDO_NONE || d->mon_gen != d->gen ||
	    now < d->repair_at_ms || d->errant_err[0])
		return;
	d->repair_at_ms = now + MD_REPAIR_MS;
	d->in_place = false;
	op_start(d, MDO_REPAIR, 0, plan, N(plan));
}

/* "error reconnecting to master 'r@h:3306' - retry-time: 1  maximum-
 * retries: 100000  message: Access denied for user ..." -> what follows
 * "message: " (the server's words), so it fits status lines. */
static void short_error(char *dst, size_t size, const char *err)
{
	const char *m = strstr(err, "message: ");

	snprintf(dst, size, "%s", m ? m + strlen("message: ") : err);
}

/* SHOW SLAVE STATUS: the replication threads. */
static void parse_slave(struct mdd *d, MYSQL_RES *res)
{
	struct res_state *s = &d->r->state;
	MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
	const char *io = col(res, row, "Slave_IO_Running");
	const char *behind = col(res, row, "Seconds_Behind_Master");

	s->has_replica_threads = row && col(res, row, "Master_Host")[0];
	d->io_yes = !strcmp(io, "Yes");
	d->io_connecting = !strcmp(io, "Connecting");
	d->sql_yes = !strcmp(col(res, row, "Slave_SQL_Running"), "Yes");
	d->behind = behind[0] ? strtoll(behind, NULL, 10) : -1;
	snprintf(d->master_host, sizeof(d->master_host), "%s",
		 col(res, row, "Master_Host"));
	snprintf(d->io_pos, sizeof(d->io_pos), "%s",
		 col(res, row, "Gtid_IO_Pos"));
	short_error(d->io_err, sizeof(d->io_err),
		    col(res, row, "Last_IO_Error"));
	short_error(d->sql_err, sizeof(d->sql_err),
		    col(res, row, "Last_SQL_Error"));
}

static void parse_monitor(struct mdd *d, MYSQL_RES *res)
{
	struct res_state *s = &d->r->state;
	unsigned n = res ? mysql_num_fields(res) : 0;
	MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
	const char *binlog_pos, *current_pos, *mismatch = NULL, *of;
	uint64_t seq = 0, v;
	bool ro, found = false, replica, semi_slave;
	char why[160] = "", behind[32];

	if (!row || n < 10) {
		set_down(d, "mariadb: monitoring query: unexpected answer");
		return;
	}
	ro = strcmp(at(row, n, 0), "0") != 0;
	binlog_pos = at(row, n, 1);
	current_pos = at(row, n, 2);
	if (strcmp(at(row, n, 3), "1") != 0) {
		char msg[HP_ERR_MAX];

		snprintf(msg, sizeof(msg), "%s: binary logging is off: set "
			 "log_bin in the server's configuration (replication "
			 "needs it) and restart it", d->where);
		conf_problem(d, msg);
		set_down(d, msg);
		return;
	}
	if (strcmp(at(row, n, 5), "1") != 0)
		conf_problem(d, "mariadb: gtid_strict_mode is off: set "
			     "gtid_strict_mode = ON in the server's "
			     "configuration (positions and errant-transaction "
			     "checks rely on ordered GTIDs)");
	semi_slave = !strcmp(at(row, n, 8), "ON");
	if (md_gtid_seq(binlog_pos, d->c->gtid_domain, &v))
		seq = v, found = true;
	if (md_gtid_seq(current_pos, d->c->gtid_domain, &v) && v > seq)
		seq = v, found = true;
	if (md_gtid_seq(d->io_pos, d->c->gtid_domain, &v) && v > seq)
		seq = v, found = true;
	s->position = found ? seq : 0;
	s->has_position = found;
	replica = s->has_replica_threads;
	s->io_running = replica && d->io_yes;
	s->sql_running = replica && d->sql_yes;
	s->seconds_behind = replica ? d->behind : -1;
	snprintf(s->repl_error, sizeof(s->repl_error), "%s",
		 !replica ? "" : d->io_err[0] ? d->io_err : d->sql_err);
	snprintf(s->gtid, sizeof(s->gtid), "%s", replica ? current_pos :
		 binlog_pos);
	/* read_only = 0 takes client writes, replication threads or not
	 * (a promote's tail still has them). */
	s->writable = !ro;
	s->link_up = replica && d->io_yes && d->sql_yes &&
		     d->expect == MDE_STANDBY && d->expect_id &&
		     !strcmp(d->master_host, node_host(d, d->expect_id)) &&
		     (d->c->replication != REPL_SYNC || semi_slave);
	repl_error(d, s->repl_error);

	switch (d->expect) {
	case MDE_PRIMARY:
		/* An answer during a promote says nothing of its outcome. */
		if ((replica || (ro && !d->read_only)) &&
		    d->mon_gen == d->gen && d->op != MDO_PROMOTE)
			mismatch = "expected a writable primary";
		break;
	case MDE_STANDBY:
		if (!ro || !replica || strcmp(d->master_host,
					      node_host(d, d->expect_id)))
			snprintf(why, sizeof(why), "expected a read-only "
				 "replica of %s", node_name(d, d->expect_id)),
				 mismatch = why;
		else if (d->errant_err[0] && d->io_yes && d->sql_yes)
			d->errant_err[0] = '\0'; /* repaired (hapair clone) */
		break;
	case MDE_ANY:
		break;
	}
	s->healthy = !mismatch && !d->errant_err[0] && !d->held;
	of = host_node(d, d->master_host);
	if (d->behind >= 0)
		snprintf(behind, sizeof(behind), "%" PRId64 " s", d->behind);
	else
		snprintf(behind, sizeof(behind), "unknown");
	if (d->errant_err[0]) {
		res_detail(d->r, "%s", d->errant_err);
	} else if (d->held) {
		res_detail(d->r, "mariadb %s: crash recovery rolled back this "
			   "server's own transactions: not eligible as primary "
			   "until it has followed one (hapair promote --force "
			   "overrides)", d->r->cr->name);
	} else if (!replica) {
		res_detail(d->r, "mariadb %s: primary, %s, gtid %s, semi-sync %s "
			   "(%s replica(s))%s%s", d->r->cr->name,
			   ro ? "read-only" : "writable", binlog_pos[0] ?
			   binlog_pos : "none",
			   !strcmp(at(row, n, 6), "1") ? "on" : "off",
			   at(row, n, 9), mismatch ? ", " : "",
			   mismatch ? mismatch : "");
	} else {
		res_detail(d->r, "mariadb %s: replica of %s, io %s, sql %s%s%s%s, "
			   "%s behind, gtid %s%s%s", d->r->cr->name,
			   of ? of : d->master_host, d->io_yes ? "yes" :
			   d->io_connecting ? "connecting" : "no",
			   d->sql_yes ? "yes" : "no",
			   s->repl_error[0] ? " (" : "", s->repl_error,
			   s->repl_error[0] ? ")" : "", behind,
			   current_pos[0] ? current_pos : "none",
			   mismatch ? ", " : "", mismatch ? mismatch : "");
	}
}

static void monitor_reply(struct mdc *c, MYSQL_RES *res, const char *err);

static void monitor_fail(struct mdd *d, const char *err)
{
	pid_t pid;

	if (d->errant_err[0]) {
		set_down(d, d->errant_err);
	} else if (!md_find_server(d->c->datadir, &pid, 1)) {
		char msg[HP_ERR_MAX];

		snprintf(msg, sizeof(msg), "%.160s: mariadbd is not running "
			 "(%.200s)", d->where, err);
		set_down(d, msg);
	} else {
		set_down(d, err);
	}
	/* A server being started or cloned may not know the agent yet. */
	if (strstr(err, "Access denied") && d->op == MDO_NONE)
		conf_problem(d, err);
	maybe_repair(d);
	/* Last: the state callback may start a new action at once. */
	res_monitor_done(d->r);
}

static void monitor_reply(struct mdc *c, MYSQL_RES *res, const char *err)
{
	struct mdd *d = c->d;
	char e[HP_ERR_MAX];

	if (err) {
		monitor_fail(d, err);
		return;
	}
	if (!d->mon_slave) {
		d->mon_slave = true;
		parse_slave(d, res);
		if (mdc_query(&d->mon, monitor_sql, monitor_reply, false, e,
			      sizeof(e)))
			monitor_fail(d, e);
		return;
	}
	parse_monitor(d, res);
	maybe_repair(d);
	res_monitor_done(d->r);
}

static void md_monitor(struct res *r)
{
	struct mdd *d = r->priv;
	char err[HP_ERR_MAX];

	if (d->mon.busy)
		return; /* still waiting; its timer bounds the wait */
	d->mon_gen = d->gen;
	d->mon_slave = false;
	if (mdc_query(&d->mon, "SHOW SLAVE STATUS", monitor_reply, false, err,
		      sizeof(err))) {
		if (!d->mon.m && d->mon.retry_at_ms > mono_ms() &&
		    strstr(err, "waiting before")) {
			/* Keep the last state, which says why; a repair
			 * due does not wait for the back-off. */
			maybe_repair(d);
			return;
		}
		monitor_fail(d, err);
	}
}

/* The server closed the idle monitoring connection (killed, crashed,
 * shut down): look now rather than up to one monitor_interval later. */
static void mon_lost(struct mdc *c)
{
	res_monitor_soon(c->d->r);
}

/* ---- open and close ------------------------------------------------ */

static int md_open(struct res *r, struct hp_err *err)
{
	const struct conf_mariadb *c = &r->cr->mdb;
	struct conf_mariadb secrets = *c;
	struct mdd *d = calloc(1, sizeof(*d));

	if (!d)
		return hp_errf(err, "mariadb %s: out of memory", r->cr->name);
	d->r = r;
	d->c = c;
	snprintf(d->where, sizeof(d->where), "mariadb %s (%.240s)", r->cr->name,
		 c->datadir);
	if (conf_load_mdb_passwords(&secrets, err)) {
		free(d);
		return -1;
	}
	memcpy(d->password, secrets.password, sizeof(d->password));
	memcpy(d->repl_password, secrets.repl_password,
	       sizeof(d->repl_password));
	memset(&secrets, 0, sizeof(secrets));
	d->require_sync = true; /* until the witness recorded otherwise */
	d->behind = -1;
	r->priv = d;
	d->held = marked(d, ROLLED_BACK);
	r->timeout_ms = c->action_timeout_ms + c->timeout_ms;
	r->monitor_ms = c->monitor_interval_ms;
	r->state.healthy = false;
	r->state.seconds_behind = -1;
	snprintf(r->state.detail, sizeof(r->state.detail),
		 "mariadb %s: not checked yet", r->cr->name);
	mdc_init(d, &d->mon, "monitor", c->timeout_ms);
	d->mon.idle_lost = mon_lost;
	mdc_init(d, &d->act, "action", c->action_timeout_ms + c->timeout_ms);
	mdc_init(d, &d->sync, "sync", c->timeout_ms);
	mdc_init(d, &d->peer, "peer", c->timeout_ms);
	d->peer.remote = true;
	uv_timer_init(r->loop, &d->wait);
	d->wait.data = d;
	return 0;
}

static void md_close(struct res *r)
{
	struct mdd *d = r->priv;

	d->op = MDO_NONE;
	mdc_close(&d->mon);
	mdc_close(&d->act);
	mdc_close(&d->sync);
	mdc_close(&d->peer);
	uv_timer_stop(&d->wait);
	res_close_handle(r, (uv_handle_t *)&d->wait);
	/* The clone runs to its end (see child_killable). */
	if (d->x.running && child_killable(d))
		res_child_kill(&d->x);
	memset(d->password, 0, sizeof(d->password));
	memset(d->repl_password, 0, sizeof(d->repl_password));
}

const struct res_ops res_mariadb_ops = {
	.type = "mariadb",
	.data = true,
	.open = md_open,
	.close = md_close,
	.promote = md_promote,
	.demote = md_demote,
	.fence = md_fence,
	.quiesce = md_quiesce,
	.unquiesce = md_unquiesce,
	.handed_over = md_handed_over,
	.peer_position = md_peer_position,
	.monitor = md_monitor,
	.set_sync = md_set_sync,
	.fence_sync = md_fence_sync,
};

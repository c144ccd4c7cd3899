/*
 * cli_clone.c - hapair clone: build this node's PostgreSQL standby
 * (issue 4) or MariaDB replica (issue 5) from the primary.  The agent does the same by itself when it is
 * told to follow a primary and finds data_dir without a cluster; this
 * command is for the operator who wants it done (and checked) before
 * the agent starts.
 *
 *   hapair clone [-c CONFIG] --node NAME [--from NODE]
 *
 * It checks, in order, and stops at the first problem with a sentence
 * saying what to fix: the config has a postgresql resource; data_dir is
 * empty or absent; the primary (--from, default the other node) answers
 * the superuser connection, has wal_level replica or logical, and has
 * wal_log_hints or data checksums on (pg_rewind needs one of them to
 * bring this node back after a failover; if neither is, it sets
 * wal_log_hints = on with ALTER SYSTEM and says that the primary must be
 * restarted); the replication slot hapair_<node> exists on the primary
 * (made if missing).  Then, as os_user: pg_basebackup -X stream -c fast
 * -S hapair_<node>; standby.signal; primary_conninfo (application_name
 * = this node, for synchronous_standby_names), primary_slot_name,
 * wal_receiver_timeout and wal_retrieve_retry_interval appended to
 * postgresql.auto.conf.  Blocking is fine here: this is a command, not
 * the agent's loop.  Exit status 0 when the clone is ready to start.
 *
 * For a mariadb resource (hapair clone [-c CONFIG] --node NAME [--from
 * NODE] [--force]): datadir must hold nothing, or --force moves it
 * aside into keep_dir (never deletes it; the server must be stopped
 * first).  Then md_script (res_mariadb_conn.c), as the agent does for
 * an empty datadir: mariadb-install-db, mariadbd started read-only as a
 * replica, mariadb-dump from the primary (the agent's account over TCP)
 * into it without binary logging; then CHANGE MASTER TO the primary
 * with MASTER_USE_GTID = slave_pos and START SLAVE.  The server is left
 * running: the agent finds it replicating.
 */
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "res_mariadb_int.h"
#include "res_pg_int.h"

struct clone {
	struct conf conf;
	const struct conf_resource *res;
	const struct conf_pg *pg;
	const struct conf_mariadb *mdb;
	struct conf_mariadb mdb_secrets;
	const struct conf_node *self, *from;
	struct conf_pg secrets;
	bool as_user;
	uid_t uid;
	gid_t gid;
	char slot[80];
};

static void slot_of(const char *node, char *buf, size_t size)
{
	size_t j = (size_t)snprintf(buf, size, "hapair_");

	for (; *node && j + 1 < size; node++)
		buf[j++] = (*node >= 'A' && *node <= 'Z') ?
			   (char)(*node - 'A' + 'a') :
			   ((*node >= 'a' && *node <= 'z') ||
			    (*node >= '0' && *node <= '9')) ? *node : '_';
	buf[j] = '\0';
}

/* data_dir absent or empty? */
static int check_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "hapair clone: data_dir %s: cannot open: %s\n",
			dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	if (n) {
		fprintf(stderr, "hapair clone: data_dir %s is not empty (%d "
			"entries); refusing to overwrite it: move it aside "
			"first (it may hold data no other node has)\n", dir, n);
		return -1;
	}
	return 0;
}

static PGresult *q(PGconn *c, const char *sql, const char *what)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		fprintf(stderr, "hapair clone: %s: %s", what,
			PQresultErrorMessage(r));
		PQclear(r);
		return NULL;
	}
	return r;
}

/* The primary's settings and the slot. */
static int prepare_source(struct clone *cl)
{
	char port[8], sql[512];
	const char *kw[] = { "host", "port", "user", "password", "dbname",
			     "connect_timeout", "application_name", NULL };
	const char *val[] = { cl->from->ep.host, port, cl->pg->user,
			      cl->secrets.password[0] ? cl->secrets.password :
			      NULL, cl->pg->database, "5", "hapair-clone",
			      NULL };
	PGconn *c;
	PGresult *r;
	int rc = -1;

	snprintf(port, sizeof(port), "%u", cl->pg->port);
	c = PQconnectdbParams(kw, val, 0);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "hapair clone: connect to the primary %s (%s:%s) "
			"as %s: %s", cl->from->name, cl->from->ep.host, port,
			cl->pg->user, PQerrorMessage(c));
		goto out;
	}
	r = q(c, "SELECT current_setting('wal_level'), "
	      "current_setting('wal_log_hints'), "
	      "current_setting('data_checksums'), pg_is_in_recovery()",
	      "read the primary's settings");
	if (!r)
		goto out;
	if (!strcmp(PQgetvalue(r, 0, 0), "minimal")) {
		fprintf(stderr, "hapair clone: the primary %s has wal_level = "
			"minimal; set wal_level = replica there and restart "
			"it\n", cl->from->name);
		PQclear(r);
		goto out;
	}
	if (PQgetvalue(r, 0, 3)[0] == 't') {
		fprintf(stderr, "hapair clone: %s is a standby, not the "
			"primary; use --from to name the primary\n",
			cl->from->name);
		PQclear(r);
		goto out;
	}
	if (!strcmp(PQgetvalue(r, 0, 1), "off") &&
	    !strcmp(PQgetvalue(r, 0, 2), "off")) {
		PQclear(r);
		r = q(c, "ALTER SYSTEM SET wal_log_hints = on",
		      "set wal_log_hints on the primary");
		if (!r)
			goto out;
		fprintf(stderr, "hapair clone: the primary %s had neither "
			"wal_log_hints nor data checksums, so pg_rewind could "
			"not bring a node back after a failover; wal_log_hints "
			"= on is now set there but needs a restart of the "
			"primary; restart it, then run hapair clone again\n",
			cl->from->name);
		PQclear(r);
		goto out;
	}
	PQclear(r);
	snprintf(sql, sizeof(sql), "SELECT pg_create_physical_replication_slot"
		 "('%s') WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots "
		 "WHERE slot_name = '%s')", cl->slot, cl->slot);
	r = q(c, sql, "create the replication slot on the primary");
	if (!r)
		goto out;
	PQclear(r);
	rc = 0;
out:
	PQfinish(c);
	return rc;
}

/* Run argv as os_user with PGPASSWORD (and HP_STANDBY_CONF); wait. */
static int run(struct clone *cl, char *const argv[], const char *password,
	       const char *extra)
{
	char pw[200];
	char *env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
			"HOME=/", pw, (char *)extra, NULL };
	pid_t pid;
	int status;

	snprintf(pw, sizeof(pw), "PGPASSWORD=%s", password);
	if (!extra)
		env[4] = NULL;
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "hapair clone: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if (cl->as_user && (setgid(cl->gid) || setuid(cl->uid)))
			_exit(126);
		execve(argv[0], argv, env);
		fprintf(stderr, "hapair clone: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	memset(pw, 0, sizeof(pw));
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "hapair clone: %s failed (see above)\n",
			argv[0]);
		return -1;
	}
	return 0;
}

static int basebackup(struct clone *cl)
{
	char bin[CONF_PATH_MAX + 32], port[8];
	char *argv[] = { bin, "-D", (char *)cl->pg->data_dir, "-h",
			 (char *)cl->from->ep.host, "-p", port, "-U",
			 (char *)cl->pg->repl_user, "-X", "stream", "-c", "fast",
			 "-S", cl->slot, "-w", "-P", NULL };

	snprintf(bin, sizeof(bin), "%s/pg_basebackup", cl->pg->bin_dir);
	snprintf(port, sizeof(port), "%u", cl->pg->port);
	printf("hapair clone: pg_basebackup from %s (%s:%s) into %s\n",
	       cl->from->name, cl->from->ep.host, port, cl->pg->data_dir);
	fflush(stdout);
	return run(cl, argv, cl->secrets.repl_password, NULL);
}

static int standby_files(struct clone *cl)
{
	char ci[PG_SQL_MAX / 2], pw[300], e[PG_SQL_MAX / 2 + 64];
	char conf[PG_SQL_MAX + 256];
	char *argv[] = { "/bin/sh", "-c", "touch \"$1/standby.signal\" && "
			 "printf '%s\\n' \"$HP_STANDBY_CONF\" >>"
			 "\"$1/postgresql.auto.conf\"", "clone",
			 (char *)cl->pg->data_dir, NULL };
	int n;

	n = snprintf(ci, sizeof(ci), "host=%s port=%u user=%s "
		     "application_name=%s connect_timeout=2 keepalives_idle=1 "
		     "keepalives_interval=1 keepalives_count=3",
		     cl->from->ep.host, cl->pg->port, cl->pg->repl_user,
		     cl->self->name);
	if (cl->secrets.repl_password[0] && n > 0 && (size_t)n < sizeof(ci)) {
		pg_conninfo_escape(pw, sizeof(pw), cl->secrets.repl_password);
		snprintf(ci + n, sizeof(ci) - (size_t)n, " password='%s'", pw);
	}
	pg_sql_escape(e, sizeof(e), ci);
	snprintf(conf, sizeof(conf), "HP_STANDBY_CONF=primary_conninfo = '%s'\n"
		 "primary_slot_name = '%s'\nwal_receiver_timeout = '%ds'\n"
		 "wal_retrieve_retry_interval = '%dms'", e, cl->slot,
		 PG_RCV_TIMEOUT_S, PG_RETRY_MS);
	n = run(cl, argv, "", conf);
	memset(conf, 0, sizeof(conf));
	memset(ci, 0, sizeof(ci));
	return n;
}

static int load(struct clone *cl, const char *path, const char *node,
		const char *from)
{
	struct conf_errors errs;
	const struct conf_resource *r;
	struct hp_err err;

	if (conf_load(path, &cl->conf, &errs)) {
		for (int i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		return -1;
	}
	r = conf_data_resource(&cl->conf);
	if (!r || (r->type != RES_POSTGRESQL && r->type != RES_MARIADB)) {
		fprintf(stderr, "hapair clone: %s has no postgresql or mariadb "
			"resource; nothing to clone\n", path);
		return -1;
	}
	cl->res = r;
	cl->pg = &r->pg;
	cl->mdb = &r->mdb;
	cl->self = conf_node_by_name(&cl->conf, node);
	if (!cl->self) {
		fprintf(stderr, "hapair clone: --node %s: no [node %s] in %s\n",
			node, node, path);
		return -1;
	}
	cl->from = from ? conf_node_by_name(&cl->conf, from) :
		   &cl->conf.nodes[cl->self->id == 1 ? 1 : 0];
	if (!cl->from || cl->from == cl->self) {
		fprintf(stderr, "hapair clone: --from %s: expected the other "
			"node's name\n", from ? from : "");
		return -1;
	}
	if (r->type == RES_MARIADB) {
		cl->mdb_secrets = *cl->mdb;
		if (conf_load_mdb_passwords(&cl->mdb_secrets, &err)) {
			fprintf(stderr, "hapair clone: %s\n", err.msg);
			return -1;
		}
		return 0;
	}
	cl->secrets = *cl->pg;
	if (conf_load_pg_passwords(&cl->secrets, &err) ||
	    pg_os_user(cl->pg, &cl->as_user, &cl->uid, &cl->gid, &err)) {
		fprintf(stderr, "hapair clone: %s\n", err.msg);
		return -1;
	}
	slot_of(cl->self->name, cl->slot, sizeof(cl->slot));
	return 0;
}

/* ---- mariadb ---------------------------------------------------------- */

/* --force: datadir (not empty) into keep_dir/<node>-<res>-<time>-datadir;
 * never deleted.  A running server is not moved from under. */
static int mdb_move_aside(struct clone *cl)
{
	const struct conf_mariadb *m = cl->mdb;
	char dst[CONF_PATH_MAX + 256], stamp[32];
	char *argv[] = { "/bin/mv", "-T", (char *)m->datadir, dst, NULL };
	time_t now = time(NULL);
	struct tm tm;
	pid_t pid;

	if (md_find_server(m->datadir, &pid, 1)) {
		fprintf(stderr, "hapair clone: mariadbd (pid %d) still runs on "
			"%s; stop the agent and shut the server down first\n",
			(int)pid, m->datadir);
		return -1;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(dst, sizeof(dst), "%s/%s-%s-%s-datadir", m->keep_dir,
		 cl->self->name, cl->res->name, stamp);
	if (mkdir(m->keep_dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "hapair clone: keep_dir %s: cannot create: %s\n",
			m->keep_dir, strerror(errno));
		return -1;
	}
	printf("hapair clone: moving the old datadir %s to %s\n", m->datadir,
	       dst);
	fflush(stdout);
	if (rename(m->datadir, dst) == 0)
		return 0;
	if (errno != EXDEV) {
		fprintf(stderr, "hapair clone: cannot move %s to %s: %s\n",
			m->datadir, dst, strerror(errno));
		return -1;
	}
	cl->as_user = false; /* mv as the caller */
	return run(cl, argv, "", NULL);
}

static int mdb_check_empty(struct clone *cl, bool force)
{
	if (check_empty(cl->mdb->datadir) == 0)
		return 0;
	if (!force) {
		fprintf(stderr, "hapair clone: use --force to move datadir %s "
			"into keep_dir (%s) and clone anyway\n",
			cl->mdb->datadir, cl->mdb->keep_dir);
		return -1;
	}
	return mdb_move_aside(cl);
}

/* md_script clone: install, start, dump | import. */
static int mdb_copy(struct clone *cl)
{
	char *argv[MD_ARGV_MAX], bufs[4][32], pw[200];
	char *env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
			"HOME=/", pw, NULL };
	pid_t pid;
	int status;

	md_script_argv(cl->mdb, "clone", cl->from->ep.host, argv, bufs);
	snprintf(pw, sizeof(pw), "HP_PW=%s", cl->mdb_secrets.password);
	printf("hapair clone: mariadb-install-db, mariadbd, then mariadb-dump "
	       "from %s (%s:%u) into %s\n", cl->from->name, cl->from->ep.host,
	       cl->mdb->port, cl->mdb->datadir);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "hapair clone: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execve(argv[0], argv, env);
		fprintf(stderr, "hapair clone: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	memset(pw, 0, sizeof(pw));
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "hapair clone: the clone of %s from %s failed "
			"(see above)\n", cl->mdb->datadir, cl->from->name);
		return -1;
	}
	return 0;
}

/* CHANGE MASTER TO the primary by GTID (slave_pos: set by the dump). */
static int mdb_follow(struct clone *cl)
{
	const struct conf_mariadb *m = cl->mdb;
	char sql[MD_SQL_MAX], pw[300], net[64], semi[64];
	const char *steps[] = { "STOP SLAVE", net, semi, sql, "START SLAVE" };
	MYSQL *c = mysql_init(NULL);
	int rc = -1;

	if (!c)
		return -1;
	md_sql_escape(pw, sizeof(pw), cl->mdb_secrets.repl_password);
	snprintf(net, sizeof(net), "SET GLOBAL slave_net_timeout = %d",
		 MD_NET_TIMEOUT_S);
	snprintf(semi, sizeof(semi), "SET GLOBAL rpl_semi_sync_slave_enabled = "
		 "%s", m->replication == REPL_SYNC ? "ON" : "OFF");
	snprintf(sql, sizeof(sql), "CHANGE MASTER TO MASTER_HOST = '%s', "
		 "MASTER_PORT = %u, MASTER_USER = '%s', MASTER_PASSWORD = '%s', "
		 "MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1, "
		 "MASTER_HEARTBEAT_PERIOD = 1", cl->from->ep.host, m->port,
		 m->repl_user, pw);
	if (!mysql_real_connect(c, "localhost", m->user,
				cl->mdb_secrets.password[0] ?
				cl->mdb_secrets.password : NULL, NULL, 0,
				m->socket, 0)) {
		fprintf(stderr, "hapair clone: connect to the new server (%s) "
			"as %s: %s\n", m->socket, m->user, mysql_error(c));
		goto out;
	}
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (mysql_query(c, steps[i])) {
			fprintf(stderr, "hapair clone: %.40s on the new server: "
				"%s\n", steps[i], mysql_error(c));
			goto out;
		}
	rc = 0;
out:
	memset(sql, 0, sizeof(sql));
	memset(pw, 0, sizeof(pw));
	mysql_close(c);
	return rc;
}

static int mdb_clone(struct clone *cl, bool force)
{
	if (mdb_check_empty(cl, force) || mdb_copy(cl) || mdb_follow(cl))
		return -1;
	printf("hapair clone: %s is a replica of %s (MASTER_USE_GTID = "
	       "slave_pos), its server running read-only; start the agent\n",
	       cl->mdb->datadir, cl->from->name);
	return 0;
}

int clone_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "node", required_argument, NULL, 'N' },
		{ "from", required_argument, NULL, 'f' },
		{ "force", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = "/etc/hapair/hapair.conf", *node = NULL;
	const char *from = NULL;
	bool force = false;
	struct clone *cl;
	int c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:n:", opts, NULL)) != -1) {
		if (c == 'c')
			path = optarg;
		else if (c == 'N' || c == 'n')
			node = optarg;
		else if (c == 'f')
			from = optarg;
		else if (c == 'F')
			force = true;
		else
			goto usage;
	}
	if (!node || optind < argc)
		goto usage;
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return 1;
	if (load(cl, path, node, from))
		goto out;
	if (cl->res->type == RES_MARIADB) {
		rc = mdb_clone(cl, force) ? 1 : 0;
		goto out;
	}
	if (force) {
		fprintf(stderr, "hapair clone: --force is for a mariadb "
			"resource; move data_dir aside yourself\n");
		goto out;
	}
	if (check_empty(cl->pg->data_dir) ||
	    prepare_source(cl) || basebackup(cl) || standby_files(cl))
		goto out;
	printf("hapair clone: %s is a standby of %s, ready to start; start "
	       "the agent (it starts PostgreSQL)\n", cl->pg->data_dir,
	       cl->from->name);
	rc = 0;
out:
	memset(&cl->secrets, 0, sizeof(cl->secrets));
	memset(&cl->mdb_secrets, 0, sizeof(cl->mdb_secrets));
	free(cl);
	return rc;
usage:
	fprintf(stderr, "usage: hapair clone [-c CONFIG] --node NAME "
		"[--from NODE] [--force]\n");
	return 2;
}

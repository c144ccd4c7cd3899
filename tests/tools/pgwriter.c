/*
 * pgwriter - a PostgreSQL writer that records every acknowledged commit,
 * and the checker that reads them back.  The PostgreSQL system tests and
 * the PostgreSQL failover bench use it to see what a client of the pair
 * sees: how long commits were not acknowledged, and whether any commit
 * that was acknowledged is missing afterwards.
 *
 *   pgwriter --host A [--port 5432] --duration-ms N --out FILE
 *            [--interval-ms 10] [--prefix w] [--ids FILE] [--max N]
 *            [--user postgres] [--dbname postgres] [--log FILE]
 *   pgwriter check --host A [--port 5432] --ids FILE [--prefix w]
 *
 * The password, if any, comes from PGPASSWORD (libpq reads it).
 *
 * The writer sends row i (0, 1, 2, ...) at start + k * interval
 * (CLOCK_MONOTONIC slots; slots missed while a commit blocked are
 * skipped): INSERT INTO hp_writes (prefix, id) VALUES (prefix, i), one
 * autocommit statement.  Row i is acknowledged when the server answered
 * INSERT 0 1 without the warning PostgreSQL gives when a commit's wait
 * for the synchronous standby was cancelled ("the transaction has
 * already committed locally, but might not have been replicated"): such
 * a commit is counted in "unsafe", not acknowledged.  Each statement is
 * bounded (COMMAND_MS); connecting too (CONNECT_MS, TCP keepalives and
 * tcp_user_timeout), and any error drops the connection, so the next
 * slot reconnects: the writer measures an outage, it does not sit in
 * one.  It stops after --duration-ms, after --max rows, or on
 * SIGTERM/SIGINT.  SIGUSR1 marks the fault (benches): fault_ms, and
 * outage_after_fault_ms, the longest stretch without an acknowledged
 * commit that ends after the mark.
 *
 * Output: the ids of the acknowledged rows, one per line, to --ids FILE
 * (default FILE.ids), flushed as they come; and one JSON object to --out
 * FILE (written atomically through a rename):
 *
 *   {"mode":"insert","sent":N,"acked":N,"errors":N,"unsafe":N,
 *    "skipped":N,"connects":N,"outage_ms":X,"fault_ms":X|null,
 *    "outage_after_fault_ms":X|null,"acked_ids_file":"...",
 *    "last_error":"..."}
 *
 * outage_ms is the longest time between two consecutive acknowledged
 * commits (the start and the last send count at the edges).
 *
 * --log FILE (the chaos runner's history, in rwriter --log's format)
 * gets one line per commit the server answered OK, as it happens:
 * <id> <server> <send_ns> <ok_ns> <ack_ns>, server the answering
 * server's data directory (asked on connect), ack_ns -1 for an unsafe
 * commit, else ok_ns (CLOCK_MONOTONIC ns).
 *
 * check reads every id of --ids back from one server and prints
 * {"checked":N,"missing":N,"missing_ids":[first 20]}.  Exit status 0
 * when the check ran, 1 when the server could not be read, 2 on bad
 * usage.
 */
#define _GNU_SOURCE
#define TOOL_NAME "pgwriter"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>

#include "sql_writer.h"

enum {
	CONNECT_MS = 2000,
	COMMAND_MS = 5000,
};

struct writer {
	const char *host, *port, *user, *dbname, *prefix;
	long duration_ms, interval_ms, max;
	PGconn *conn;
	bool warned;		/* the notice of a cancelled sync wait */
	struct wlog log;
};

static void note_error(struct writer *w, const char *msg)
{
	char *e = w->log.last_error;
	size_t n;

	snprintf(e, WLOG_ERR_MAX, "%s", msg);
	n = strlen(e);
	while (n && (e[n - 1] == '\n' || e[n - 1] == ' '))
		e[--n] = '\0';
}

static void on_notice(void *arg, const PGresult *res)
{
	struct writer *w = arg;
	const char *msg = PQresultErrorMessage(res);

	if (strstr(msg, "synchronous replication") ||
	    strstr(msg, "might not have been replicated"))
		w->warned = true;
}

static PGconn *open_conn(const char *host, const char *port,
			 const char *user, const char *dbname)
{
	const char *kw[] = { "host", "port", "user", "dbname",
			     "connect_timeout", "keepalives_idle",
			     "keepalives_interval", "keepalives_count",
			     "tcp_user_timeout", "application_name", NULL };
	const char *val[] = { host, port, user, dbname, "2", "1", "1", "2",
			      "3000", "pgwriter", NULL };

	return PQconnectdbParams(kw, val, 0);
}

static void drop(struct writer *w)
{
	if (w->conn)
		PQfinish(w->conn);
	w->conn = NULL;
}

/* Run sql with a deadline; returns the last result (caller clears) or
 * NULL with last_error set. */
static PGresult *exec_bounded(struct writer *w, const char *sql,
			      int64_t deadline)
{
	PGresult *res, *last = NULL;

	if (!PQsendQuery(w->conn, sql)) {
		note_error(w, PQerrorMessage(w->conn));
		return NULL;
	}
	for (;;) {
		struct pollfd p = { .fd = PQsocket(w->conn), .events = POLLIN };
		int64_t left = (deadline - now_ns()) / 1000000;

		if (!PQconsumeInput(w->conn)) {
			note_error(w, PQerrorMessage(w->conn));
			break;
		}
		while (!PQisBusy(w->conn)) {
			res = PQgetResult(w->conn);
			if (!res)
				return last;
			if (last)
				PQclear(last);
			last = res;
		}
		if (left <= 0 || stop) {
			note_error(w, "no answer in time");
			break;
		}
		if (poll(&p, 1, left > 100 ? 100 : (int)left) < 0 &&
		    errno != EINTR) {
			note_error(w, strerror(errno));
			break;
		}
	}
	if (last)
		PQclear(last);
	return NULL;
}

/* For --log: the server this connection reached, by its data directory
 * (the address would be the VIP's), bounded like a write; "-" when it
 * does not say. */
static void name_server(struct writer *w)
{
	PGresult *res = exec_bounded(w, "SELECT current_setting("
				     "'data_directory')",
				     now_ns() + (int64_t)COMMAND_MS * 1000000);

	wlog_server(&w->log, res && PQresultStatus(res) == PGRES_TUPLES_OK &&
			     PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : NULL);
	if (res)
		PQclear(res);
}

static bool ensure_conn(struct writer *w)
{
	if (w->conn)
		return true;
	w->conn = open_conn(w->host, w->port, w->user, w->dbname);
	if (PQstatus(w->conn) != CONNECTION_OK) {
		note_error(w, PQerrorMessage(w->conn));
		drop(w);
		return false;
	}
	PQsetNoticeReceiver(w->conn, on_notice, w);
	w->log.connects++;
	if (w->log.history)
		name_server(w);
	return true;
}

static void write_one(void *ctx, long i)
{
	struct writer *w = ctx;
	char sql[256];
	PGresult *res;
	int64_t send;

	w->log.sent++;
	if (!ensure_conn(w)) {
		w->log.errors++;
		return;
	}
	snprintf(sql, sizeof(sql), "INSERT INTO hp_writes (prefix, id) "
		 "VALUES ('%s', %ld)", w->prefix, i);
	w->warned = false;
	send = now_ns();
	res = exec_bounded(w, sql, send + (int64_t)COMMAND_MS * 1000000);
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		if (res)
			note_error(w, PQresultErrorMessage(res));
		w->log.errors++;
		if (res)
			PQclear(res);
		drop(w);
		return;
	}
	PQclear(res);
	wlog_history(&w->log, i, send, now_ns(), !w->warned);
	if (w->warned) {
		w->log.unsafe++;
		note_error(w, "commit returned after its synchronous "
			   "replication wait was cancelled");
		drop(w);
		return;
	}
	wlog_acked(&w->log, i);
}

static int run_writer(struct writer *w)
{
	wlog_run(&w->log, w->interval_ms, w->duration_ms, w->max, write_one,
		 w);
	drop(w);
	wlog_write_json(&w->log);
	return 0;
}

static int run_check(struct writer *w)
{
	PGconn *c = open_conn(w->host, w->port, w->user, w->dbname);
	const char *params[1] = { w->prefix };
	char *have = NULL;
	long max_id = -1, id;
	PGresult *res;
	int rc = 1;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "pgwriter: check: %s", PQerrorMessage(c));
		goto out;
	}
	res = PQexecParams(c, "SELECT id FROM hp_writes WHERE prefix = $1", 1,
			   NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "pgwriter: check: %s",
			PQresultErrorMessage(res));
		PQclear(res);
		goto out;
	}
	for (int r = 0; r < PQntuples(res); r++) {
		id = atol(PQgetvalue(res, r, 0));
		if (id > max_id)
			max_id = id;
	}
	have = calloc((size_t)max_id + 2, 1);
	if (!have)
		die("out of memory", NULL);
	for (int r = 0; r < PQntuples(res); r++)
		have[atol(PQgetvalue(res, r, 0))] = 1;
	PQclear(res);
	wlog_check_ids(w->log.ids, have, max_id);
	rc = 0;
out:
	free(have);
	PQfinish(c);
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: pgwriter --host A [--port P] --duration-ms N "
		"--out FILE [--interval-ms 10] [--prefix w] [--ids FILE] "
		"[--max N] [--user U] [--dbname D] [--log FILE]\n"
		"       pgwriter check --host A [--port P] --ids FILE "
		"[--prefix w]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct writer w = { .port = "5432", .user = "postgres",
			    .dbname = "postgres", .prefix = "w",
			    .interval_ms = 10 };
	bool check = argc > 1 && !strcmp(argv[1], "check");
	char ids[PATH_MAX];

	for (int i = check ? 2 : 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		i++;
		if (!strcmp(o, "--host"))
			w.host = v;
		else if (!strcmp(o, "--port"))
			w.port = v;
		else if (!strcmp(o, "--user"))
			w.user = v;
		else if (!strcmp(o, "--dbname"))
			w.dbname = v;
		else if (!strcmp(o, "--prefix"))
			w.prefix = v;
		else if (!strcmp(o, "--out"))
			w.log.out = v;
		else if (!strcmp(o, "--ids"))
			w.log.ids = v;
		else if (!strcmp(o, "--log"))
			w.log.history = v;
		else if (!strcmp(o, "--duration-ms"))
			w.duration_ms = parse_num(o, v, 86400000);
		else if (!strcmp(o, "--interval-ms"))
			w.interval_ms = parse_num(o, v, 60000);
		else if (!strcmp(o, "--max"))
			w.max = parse_num(o, v, 100000000);
		else
			usage();
	}
	wlog_check_prefix(w.prefix);
	if (!w.host)
		usage();
	if (check) {
		if (!w.log.ids)
			usage();
		return run_check(&w);
	}
	if (!w.log.out || !w.duration_ms)
		usage();
	if (!w.log.ids) {
		snprintf(ids, sizeof(ids), "%s.ids", w.log.out);
		w.log.ids = ids;
	}
	wlog_signals();
	return run_writer(&w);
}

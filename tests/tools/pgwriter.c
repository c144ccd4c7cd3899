/*
 * pgwriter - a PostgreSQL writer that records every acknowledged commit,
 * and the checker that reads them back.  The PostgreSQL system tests and
 * the PostgreSQL failover bench use it to see what a client of the pair
 * sees: how long commits were not acknowledged, and whether any commit
 * that was acknowledged is missing afterwards.
 *
 *   pgwriter --host A [--port 5432] --duration-ms N --out FILE
 *            [--interval-ms 10] [--prefix w] [--ids FILE] [--max N]
 *            [--user postgres] [--dbname postgres]
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
#include <signal.h>

#include "tool_util.h"

enum {
	CONNECT_MS = 2000,
	COMMAND_MS = 5000,
	MISSING_SHOWN = 20,
	ERR_MAX = 300,
};

struct writer {
	const char *host, *port, *user, *dbname, *prefix, *out, *ids;
	long duration_ms, interval_ms, max;
	PGconn *conn;
	FILE *idf;
	long sent, acked, errors, unsafe, skipped, connects;
	int64_t start, last_ack, outage;
	int64_t fault, outage_after_fault; /* SIGUSR1 marks the fault */
	bool warned;		/* the notice of a cancelled sync wait */
	char last_error[ERR_MAX];
};

static volatile sig_atomic_t stop, marked;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		marked = 1;
	else
		stop = 1;
}

/* A stretch without acknowledged commits ends at t. */
static void gap_ends(struct writer *w, int64_t t)
{
	int64_t gap = t - w->last_ack;

	if (marked && !w->fault)
		w->fault = now_ns();
	if (gap > w->outage)
		w->outage = gap;
	if (w->fault && t > w->fault && gap > w->outage_after_fault)
		w->outage_after_fault = gap;
}

static void note_error(struct writer *w, const char *msg)
{
	size_t n;

	snprintf(w->last_error, sizeof(w->last_error), "%s", msg);
	n = strlen(w->last_error);
	while (n && (w->last_error[n - 1] == '\n' || w->last_error[n - 1] == ' '))
		w->last_error[--n] = '\0';
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
	w->connects++;
	return true;
}

static void write_one(struct writer *w, long i)
{
	char sql[256];
	PGresult *res;
	int64_t t;

	w->sent++;
	if (!ensure_conn(w)) {
		w->errors++;
		return;
	}
	snprintf(sql, sizeof(sql), "INSERT INTO hp_writes (prefix, id) "
		 "VALUES ('%s', %ld)", w->prefix, i);
	w->warned = false;
	res = exec_bounded(w, sql, now_ns() + (int64_t)COMMAND_MS * 1000000);
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		if (res)
			note_error(w, PQresultErrorMessage(res));
		w->errors++;
		if (res)
			PQclear(res);
		drop(w);
		return;
	}
	PQclear(res);
	if (w->warned) {
		w->unsafe++;
		note_error(w, "commit returned after its synchronous "
			   "replication wait was cancelled");
		drop(w);
		return;
	}
	t = now_ns();
	gap_ends(w, t);
	w->last_ack = t;
	w->acked++;
	fprintf(w->idf, "%ld\n", i);
	fflush(w->idf);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void write_json(struct writer *w)
{
	char tmp[PATH_MAX];
	FILE *f = atomic_open(w->out, tmp);
	gap_ends(w, now_ns());
	fprintf(f, "{\"mode\":\"insert\",\"sent\":%ld,\"acked\":%ld,"
		"\"errors\":%ld,\"unsafe\":%ld,\"skipped\":%ld,"
		"\"connects\":%ld,\"outage_ms\":%.3f,",
		w->sent, w->acked, w->errors, w->unsafe, w->skipped,
		w->connects, ms(w->outage));
	json_ms_or_null(f, "fault_ms", w->fault, w->fault - w->start);
	json_ms_or_null(f, "outage_after_fault_ms", w->fault,
			w->outage_after_fault);
	fprintf(f, "\"acked_ids_file\":");
	json_str(f, w->ids);
	fprintf(f, ",\"last_error\":");
	json_str(f, w->last_error);
	fprintf(f, "}\n");
	atomic_close(f, tmp, w->out);
}

static int run_writer(struct writer *w)
{
	int64_t slot_ns = w->interval_ms * 1000000, end;
	long i = 0, k = 0;

	w->idf = fopen(w->ids, "w");
	if (!w->idf)
		die("cannot write", w->ids);
	w->start = w->last_ack = now_ns();
	end = w->start + w->duration_ms * 1000000;
	while (!stop && now_ns() < end && (!w->max || i < w->max)) {
		int64_t due = w->start + k * slot_ns, now = now_ns();

		if (due > now) {
			struct timespec ts = until(due);

			nanosleep(&ts, NULL);
			continue;
		}
		write_one(w, i++);
		k++;
		/* Slots missed while a commit blocked are skipped. */
		while (w->start + k * slot_ns < now_ns() - slot_ns) {
			k++;
			w->skipped++;
		}
	}
	fclose(w->idf);
	drop(w);
	write_json(w);
	return 0;
}

static int run_check(struct writer *w)
{
	PGconn *c = open_conn(w->host, w->port, w->user, w->dbname);
	const char *params[1] = { w->prefix };
	char *have = NULL;
	long max_id = -1, checked = 0, missing = 0, id, shown = 0;
	PGresult *res;
	FILE *f;
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
	f = fopen(w->ids, "r");
	if (!f)
		die("cannot read", w->ids);
	printf("{\"missing_ids\":[");
	while (fscanf(f, "%ld", &id) == 1) {
		checked++;
		if (id >= 0 && id <= max_id && have[id])
			continue;
		missing++;
		if (shown++ < MISSING_SHOWN)
			printf("%s%ld", shown > 1 ? "," : "", id);
	}
	fclose(f);
	printf("],\"checked\":%ld,\"missing\":%ld}\n", checked, missing);
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
		"[--max N] [--user U] [--dbname D]\n"
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
	struct sigaction sa = { .sa_handler = on_signal };

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
			w.out = v;
		else if (!strcmp(o, "--ids"))
			w.ids = v;
		else if (!strcmp(o, "--duration-ms"))
			w.duration_ms = parse_num(o, v, 86400000);
		else if (!strcmp(o, "--interval-ms"))
			w.interval_ms = parse_num(o, v, 60000);
		else if (!strcmp(o, "--max"))
			w.max = parse_num(o, v, 100000000);
		else
			usage();
	}
	for (const char *p = w.prefix; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '_'))
			die("--prefix: expected [a-z0-9_]", w.prefix);
	if (!w.host)
		usage();
	if (check) {
		if (!w.ids)
			usage();
		return run_check(&w);
	}
	if (!w.out || !w.duration_ms)
		usage();
	if (!w.ids) {
		snprintf(ids, sizeof(ids), "%s.ids", w.out);
		w.ids = ids;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	return run_writer(&w);
}

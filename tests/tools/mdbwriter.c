/*
 * mdbwriter - a MariaDB writer that records every acknowledged commit,
 * and the checker that reads them back.  The MariaDB system tests and
 * the MariaDB failover bench use it to see what a client of the pair
 * sees: how long commits were not acknowledged, and whether any commit
 * that was acknowledged is missing afterwards.
 *
 *   mdbwriter --host A [--port 3306] --duration-ms N --out FILE
 *             [--interval-ms 10] [--prefix w] [--ids FILE] [--max N]
 *             [--user writer] [--password P] [--database test]
 *             [--log FILE]
 *   mdbwriter check --host A [--port 3306] --ids FILE [--prefix w]
 *             [--user writer] [--password P] [--database test]
 *
 * The writer sends row i (0, 1, 2, ...) at start + k * interval
 * (CLOCK_MONOTONIC slots; slots missed while a commit blocked are
 * skipped): INSERT INTO hp_writes (prefix, id) VALUES (prefix, i), one
 * autocommit statement.  Row i is acknowledged when the server answered
 * OK with one affected row.  In sync mode (semi-synchronous
 * replication, AFTER_SYNC, no timeout) that OK only comes after the
 * standby has the event; a primary killed while a commit waits never
 * answers it, and the row is not acknowledged.
 *
 * Everything runs on libmariadb's non-blocking API on one poll(): each
 * connect and each statement is bounded in milliseconds (CONNECT_MS,
 * COMMAND_MS), also against a peer that went silent (link down,
 * SIGSTOP), and SIGTERM ends a wait at once.  Any error drops the
 * connection, so the next slot reconnects: the writer measures an
 * outage, it does not sit in one.  It stops after --duration-ms, after
 * --max rows, or on SIGTERM/SIGINT.  SIGUSR1 marks the fault (benches):
 * fault_ms, and outage_after_fault_ms, the longest stretch without an
 * acknowledged commit that ends after the mark.
 *
 * Output: the ids of the acknowledged rows, one per line, to --ids FILE
 * (default FILE.ids), flushed as they come; and one JSON object to --out
 * FILE (written atomically through a rename):
 *
 *   {"mode":"insert","sent":N,"acked":N,"errors":N,"unsafe":0,
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
 * server's server_id (asked on connect), ack_ns = ok_ns
 * (CLOCK_MONOTONIC ns).
 *
 * check reads every id of --ids back from one server and prints
 * {"checked":N,"missing":N,"missing_ids":[first 20]}.  Exit status 0
 * when the check ran, 1 when the server could not be read, 2 on bad
 * usage.
 */
#define _GNU_SOURCE
#define TOOL_NAME "mdbwriter"

#include <errno.h>
#include <mysql.h>
#include <poll.h>
#include <sys/socket.h>

#include "sql_writer.h"

enum {
	CONNECT_MS = 2000,
	COMMAND_MS = 5000,
	CHECK_MS = 15000,
	ERR_MAX = WLOG_ERR_MAX,
};

struct writer {
	const char *host, *user, *password, *database, *prefix;
	long port, duration_ms, interval_ms, max;
	MYSQL *conn;
	struct wlog log;
};

static void note_error(char *buf, const char *what, const char *msg)
{
	snprintf(buf, ERR_MAX, "%s: %s", what, msg);
}

static void note_mysql_error(char *buf, const char *what, MYSQL *m)
{
	snprintf(buf, ERR_MAX, "%s: %s (error %u)", what, mysql_error(m),
		 mysql_errno(m));
}

/*
 * Wait for what the non-blocking call asked for (status: MYSQL_WAIT_*
 * bits), at most until deadline or until a stop signal.  Returns the
 * status to hand to the _cont call, or 0 on the deadline (or a stop).
 */
static int wait_io(MYSQL *m, int status, int64_t deadline, char *err)
{
	struct pollfd p = { .fd = mysql_get_socket(m) };
	int64_t left;
	int timeout, n;

	if (status & MYSQL_WAIT_READ)
		p.events |= POLLIN;
	if (status & MYSQL_WAIT_WRITE)
		p.events |= POLLOUT;
	if (status & MYSQL_WAIT_EXCEPT)
		p.events |= POLLPRI;
	for (;;) {
		left = (deadline - now_ns()) / 1000000;
		if (stop) {
			note_error(err, "stopped", "a signal ended the wait");
			return 0;
		}
		if (left <= 0) {
			note_error(err, "timeout", "no answer in time");
			return 0;
		}
		timeout = left > 100 ? 100 : (int)left;
		if (status & MYSQL_WAIT_TIMEOUT &&
		    mysql_get_timeout_value_ms(m) < (unsigned)timeout)
			timeout = (int)mysql_get_timeout_value_ms(m);
		n = poll(&p, 1, timeout);
		if (n < 0 && errno != EINTR) {
			note_error(err, "poll", strerror(errno));
			return 0;
		}
		if (n > 0) {
			status = 0;
			if (p.revents & (POLLIN | POLLHUP | POLLERR))
				status |= MYSQL_WAIT_READ;
			if (p.revents & (POLLOUT | POLLHUP | POLLERR))
				status |= MYSQL_WAIT_WRITE;
			if (p.revents & POLLPRI)
				status |= MYSQL_WAIT_EXCEPT;
			return status;
		}
		if (n == 0 && status & MYSQL_WAIT_TIMEOUT &&
		    timeout == (int)mysql_get_timeout_value_ms(m))
			return MYSQL_WAIT_TIMEOUT;
	}
}

/*
 * Close a connection.  One abandoned in the middle of a call (broken:
 * an error or no answer in time) has its socket shut down first, so the
 * goodbye mysql_close() sends fails at once instead of waiting on a peer
 * that went silent.
 */
static void close_conn(MYSQL *m, bool broken)
{
	if (!m)
		return;
	if (broken && mysql_get_socket(m) >= 0)
		shutdown(mysql_get_socket(m), SHUT_RDWR);
	mysql_close(m);
}

/* A connection to host:port within ms, or NULL with err set. */
static MYSQL *open_conn(const struct writer *w, long bound_ms, char *err)
{
	MYSQL *m = mysql_init(NULL), *ret = NULL;
	int64_t deadline = now_ns() + bound_ms * 1000000;
	unsigned int secs = (unsigned)(bound_ms + 999) / 1000;
	int status;

	if (!m)
		die("out of memory", NULL);
	mysql_options(m, MYSQL_OPT_NONBLOCK, 0);
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
	mysql_optionsv(m, MYSQL_OPT_CONNECT_ATTR_ADD, "program_name",
		       "mdbwriter");
	status = mysql_real_connect_start(&ret, m, w->host, w->user,
					  w->password, w->database,
					  (unsigned)w->port, NULL, 0);
	while (status) {
		status = wait_io(m, status, deadline, err);
		if (!status) {
			close_conn(m, true);
			return NULL;
		}
		status = mysql_real_connect_cont(&ret, m, status);
	}
	if (!ret) {
		note_mysql_error(err, "connect", m);
		mysql_close(m);
		return NULL;
	}
	return m;
}

/* Run sql, bounded; 0 when the server answered OK, -1 with err set. */
static int query_bounded(MYSQL *m, const char *sql, int64_t deadline,
			 char *err)
{
	int ret = 1, status;

	status = mysql_real_query_start(&ret, m, sql, strlen(sql));
	while (status) {
		status = wait_io(m, status, deadline, err);
		if (!status)
			return -1;
		status = mysql_real_query_cont(&ret, m, status);
	}
	if (ret) {
		note_mysql_error(err, "query", m);
		return -1;
	}
	return 0;
}

static void drop(struct writer *w, bool broken)
{
	close_conn(w->conn, broken);
	w->conn = NULL;
}

/* For --log: the server this connection reached, by its server_id (the
 * address would be the VIP's), bounded like a write.  False (error
 * noted) when the connection failed the query. */
static bool name_server(struct writer *w)
{
	MYSQL_RES *res;
	MYSQL_ROW row;

	if (query_bounded(w->conn, "SELECT @@server_id",
			  now_ns() + (int64_t)COMMAND_MS * 1000000,
			  w->log.last_error) < 0)
		return false;
	/* One small row the server has sent already. */
	res = mysql_store_result(w->conn);
	row = res ? mysql_fetch_row(res) : NULL;
	wlog_server(&w->log, row ? row[0] : NULL);
	if (res)
		mysql_free_result(res);
	return true;
}

static bool ensure_conn(struct writer *w)
{
	if (w->conn)
		return true;
	w->conn = open_conn(w, CONNECT_MS, w->log.last_error);
	if (!w->conn)
		return false;
	w->log.connects++;
	if (w->log.history && !name_server(w)) {
		w->log.errors++;
		drop(w, true);
		return false;
	}
	return true;
}

static void write_one(void *ctx, long i)
{
	struct writer *w = ctx;
	char sql[256];
	int64_t send;

	w->log.sent++;
	if (!ensure_conn(w)) {
		w->log.errors++;
		return;
	}
	snprintf(sql, sizeof(sql), "INSERT INTO hp_writes (prefix, id) "
		 "VALUES ('%s', %ld)", w->prefix, i);
	send = now_ns();
	if (query_bounded(w->conn, sql, send + (int64_t)COMMAND_MS * 1000000,
			  w->log.last_error) < 0) {
		w->log.errors++;
		drop(w, true);
		return;
	}
	if (mysql_affected_rows(w->conn) != 1) {
		snprintf(w->log.last_error, sizeof(w->log.last_error),
			 "INSERT of row %ld affected %llu rows, expected 1",
			 i, (unsigned long long)mysql_affected_rows(w->conn));
		w->log.errors++;
		drop(w, true);
		return;
	}
	wlog_history(&w->log, i, send, now_ns(), true);
	wlog_acked(&w->log, i);
}

static int run_writer(struct writer *w)
{
	wlog_run(&w->log, w->interval_ms, w->duration_ms, w->max, write_one,
		 w);
	drop(w, false);
	wlog_write_json(&w->log);
	return 0;
}

/* The ids of prefix on the server, as a bitmap (have[id] = 1); NULL with
 * err set when the server could not be read. */
static char *read_ids(struct writer *w, MYSQL *m, long *max_id, char *err)
{
	char sql[256];
	MYSQL_RES *res;
	MYSQL_ROW row;
	char *have;
	long id;

	snprintf(sql, sizeof(sql), "SELECT id FROM hp_writes WHERE "
		 "prefix = '%s'", w->prefix);
	if (query_bounded(m, sql, now_ns() + (int64_t)CHECK_MS * 1000000,
			  err) < 0)
		return NULL;
	/* The result is read in one blocking call: the server has
	 * answered already; a few thousand small rows follow at once. */
	res = mysql_store_result(m);
	if (!res) {
		note_mysql_error(err, "reading the rows", m);
		return NULL;
	}
	*max_id = -1;
	while ((row = mysql_fetch_row(res)))
		if (row[0] && (id = atol(row[0])) > *max_id)
			*max_id = id;
	have = calloc((size_t)*max_id + 2, 1);
	if (!have)
		die("out of memory", NULL);
	mysql_data_seek(res, 0);
	while ((row = mysql_fetch_row(res)))
		if (row[0] && (id = atol(row[0])) >= 0)
			have[id] = 1;
	mysql_free_result(res);
	return have;
}

static int run_check(struct writer *w)
{
	char err[ERR_MAX] = "";
	MYSQL *m = open_conn(w, CONNECT_MS, err);
	long max_id = -1;
	char *have = NULL;

	if (!m) {
		fprintf(stderr, "mdbwriter: check: %s:%ld: %s\n", w->host,
			w->port, err);
		return 1;
	}
	have = read_ids(w, m, &max_id, err);
	close_conn(m, !have);
	if (!have) {
		fprintf(stderr, "mdbwriter: check: %s:%ld: %s\n", w->host,
			w->port, err);
		return 1;
	}
	wlog_check_ids(w->log.ids, have, max_id);
	free(have);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: mdbwriter --host A [--port P] --duration-ms N "
		"--out FILE [--interval-ms 10] [--prefix w] [--ids FILE] "
		"[--max N] [--user U] [--password P] [--database D] "
		"[--log FILE]\n"
		"       mdbwriter check --host A [--port P] --ids FILE "
		"[--prefix w] [--user U] [--password P] [--database D]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct writer w = { .port = 3306, .user = "writer", .password = "",
			    .database = "test", .prefix = "w",
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
			w.port = parse_num(o, v, 65535);
		else if (!strcmp(o, "--user"))
			w.user = v;
		else if (!strcmp(o, "--password"))
			w.password = v;
		else if (!strcmp(o, "--database"))
			w.database = v;
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
	if (mysql_library_init(0, NULL, NULL))
		die("cannot initialise libmariadb", NULL);
	wlog_signals();
	signal(SIGPIPE, SIG_IGN);
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
	return run_writer(&w);
}

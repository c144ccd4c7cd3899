/*
 * res_pg_conn.c - how the PostgreSQL resource talks to PostgreSQL
 * without blocking the agent's loop (see res_pg.c for what it says).
 *
 * Connections: libpq's non-blocking API (PQconnectStartParams and
 * PQconnectPoll, PQsendQuery, PQconsumeInput/PQisBusy/PQgetResult) with
 * a uv_poll_t on the connection's socket; libpq may change the socket
 * while connecting, so the poll handle is made per socket and closed
 * (then freed) before libpq closes the socket.  A timer bounds the
 * connect and each query; a connection that failed is retried after a
 * back-off by monitoring, at once by actions.
 *
 * Child processes: pg_ctl, pg_controldata, pg_rewind, pg_basebackup,
 * psql and postgres --single run through uv_spawn as the configured
 * os_user (PostgreSQL refuses root), in their own session, with a
 * timeout (SIGKILL) and the tail of their output kept for the message.
 * The callback runs once every handle of the run has closed, so it may
 * start the next child at once.
 *
 * Also here: the guard's fence, which may block (bounded): fork, exec
 * pg_ctl stop -m fast -t N, wait, and pg_ctl stop -m immediate if that
 * did not do.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "res_pg_int.h"

/* ---- small helpers ---------------------------------------------------- */

/* libpq messages end in a newline and may span lines: one line. */
static void one_line(char *dst, size_t size, const char *src)
{
	size_t j = 0;

	for (size_t i = 0; src && src[i] && j + 3 < size; i++) {
		if (src[i] == '\n' || src[i] == '\r') {
			if (src[i + 1] && src[i + 1] != '\n' && j)
				dst[j++] = ';', dst[j++] = ' ';
			continue;
		}
		if (src[i] == '\t')
			dst[j++] = ' ';
		else
			dst[j++] = src[i];
	}
	while (j && dst[j - 1] == ' ')
		j--;
	dst[j] = '\0';
}

void pg_conninfo_escape(char *dst, size_t size, const char *s)
{
	size_t j = 0;

	for (; *s && j + 3 < size; s++) {
		if (*s == '\'' || *s == '\\')
			dst[j++] = '\\';
		dst[j++] = *s;
	}
	dst[j] = '\0';
}

void pg_sql_escape(char *dst, size_t size, const char *s)
{
	size_t j = 0;

	for (; *s && j + 3 < size; s++) {
		if (*s == '\'')
			dst[j++] = '\'';
		dst[j++] = *s;
	}
	dst[j] = '\0';
}

int pg_os_user(const struct conf_pg *c, bool *as_user, uid_t *uid,
	       gid_t *gid, struct hp_err *err)
{
	struct passwd *pw;

	*as_user = false;
	if (geteuid() != 0)
		return 0; /* not root: children run as we do */
	pw = getpwnam(c->os_user);
	if (!pw)
		return hp_errf(err, "postgresql: os_user %s: no such user "
			       "(PostgreSQL refuses to run as root; create "
			       "the user or set os_user)", c->os_user);
	if (pw->pw_uid == 0)
		return hp_errf(err, "postgresql: os_user %s is root; "
			       "PostgreSQL refuses to run as root",
			       c->os_user);
	*as_user = true;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* ---- connections ------------------------------------------------------ */

static void close_poll(struct pgc *c)
{
	res_close_poll(c->d->r, &c->poll);
	c->poll_fd = -1;
}

void pgc_drop(struct pgc *c)
{
	uv_timer_stop(&c->timer);
	close_poll(c); /* before libpq closes the socket */
	if (c->conn)
		PQfinish(c->conn);
	c->conn = NULL;
	c->connected = false;
	c->busy = false;
	if (c->res)
		PQclear(c->res);
	c->res = NULL;
}

void pgc_retry_now(struct pgc *c)
{
	c->retry_at_ms = 0;
	c->backoff_ms = PG_BACKOFF_MIN_MS;
}

/* The query (or connect) in flight failed: drop, back off, tell. */
static void fail(struct pgc *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct pgc *c, const char *fmt, ...)
{
	char msg[HP_ERR_MAX], why[HP_ERR_MAX];
	bool busy = c->busy;
	pgc_cb cb = c->cb;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%.160s: %.300s", c->d->where, why);
	pgc_drop(c);
	c->retry_at_ms = mono_ms() + c->backoff_ms;
	c->backoff_ms = c->backoff_ms * 2 > PG_BACKOFF_MAX_MS ?
			PG_BACKOFF_MAX_MS : c->backoff_ms * 2;
	if (busy && cb)
		cb(c, NULL, msg);
}

static void finish(struct pgc *c)
{
	PGresult *res = c->res;
	pgc_cb cb = c->cb;
	char err[HP_ERR_MAX];

	uv_timer_stop(&c->timer);
	c->res = NULL;
	c->busy = false;
	snprintf(err, sizeof(err), "%s", c->err);
	if (cb)
		cb(c, err[0] ? NULL : res, err[0] ? err : NULL);
	if (res)
		PQclear(res);
}

static void on_poll(uv_poll_t *h, int status, int events);

/* Watch libpq's current socket for events. */
static int watch(struct pgc *c, int events)
{
	int fd = PQsocket(c->conn);

	if (fd < 0)
		return -1;
	if (fd != c->poll_fd)
		close_poll(c);
	if (!c->poll) {
		c->poll = malloc(sizeof(*c->poll));
		if (!c->poll)
			return -1;
		if (uv_poll_init_socket(c->d->r->loop, c->poll, fd)) {
			free(c->poll);
			c->poll = NULL;
			return -1;
		}
		c->poll->data = c;
		c->poll_fd = fd;
	}
	return uv_poll_start(c->poll, events, on_poll) ? -1 : 0;
}

static void send_now(struct pgc *c)
{
	int rc;

	if (!PQsendQuery(c->conn, c->sql)) {
		char why[HP_ERR_MAX];

		one_line(why, sizeof(why), PQerrorMessage(c->conn));
		fail(c, "%s: send: %s", c->label, why);
		return;
	}
	rc = PQflush(c->conn);
	if (rc < 0 || watch(c, UV_READABLE | (rc ? UV_WRITABLE : 0)))
		fail(c, "%s: send: connection lost", c->label);
}

static void connect_step(struct pgc *c)
{
	char why[HP_ERR_MAX];

	switch (PQconnectPoll(c->conn)) {
	case PGRES_POLLING_READING:
		if (watch(c, UV_READABLE))
			fail(c, "%s: connect: cannot watch the socket",
			     c->label);
		return;
	case PGRES_POLLING_WRITING:
		if (watch(c, UV_WRITABLE))
			fail(c, "%s: connect: cannot watch the socket",
			     c->label);
		return;
	case PGRES_POLLING_OK:
		c->connected = true;
		c->backoff_ms = PG_BACKOFF_MIN_MS;
		if (c->sql[0])
			send_now(c);
		else
			finish(c);
		return;
	default:
		one_line(why, sizeof(why), PQerrorMessage(c->conn));
		fail(c, "%s: connect: %s", c->label, why);
		return;
	}
}

static void io_step(struct pgc *c, int events)
{
	char why[HP_ERR_MAX];

	if (events & UV_WRITABLE) {
		int rc = PQflush(c->conn);

		if (rc < 0) {
			fail(c, "%s: connection lost", c->label);
			return;
		}
		if (rc == 0 && watch(c, UV_READABLE)) {
			fail(c, "%s: cannot watch the socket", c->label);
			return;
		}
	}
	if (!(events & UV_READABLE))
		return;
	if (!PQconsumeInput(c->conn)) {
		one_line(why, sizeof(why), PQerrorMessage(c->conn));
		fail(c, "%s: connection lost: %s", c->label, why);
		return;
	}
	while (c->busy && !PQisBusy(c->conn)) {
		PGresult *res = PQgetResult(c->conn);
		ExecStatusType st;

		if (!res) {
			finish(c);
			return;
		}
		st = PQresultStatus(res);
		if ((st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE ||
		     st == PGRES_NONFATAL_ERROR) && !c->err[0]) {
			one_line(why, sizeof(why), PQresultErrorMessage(res));
			snprintf(c->err, sizeof(c->err), "%.160s: %.*s: %.280s",
				 c->d->where, 60, c->sql, why);
		}
		if (c->res)
			PQclear(c->res);
		c->res = res;
	}
	if (!c->busy && c->conn) /* notices, or leftovers of a query */
		while (!PQisBusy(c->conn) && PQgetResult(c->conn))
			;
}

/* Something came on a connection with no query in flight: has the
 * server ended it? */
static bool idle_conn_ended(struct pgc *c)
{
	if (!PQconsumeInput(c->conn))
		return true;
	(void)PQisBusy(c->conn); /* parses it: notices reach on_notice() */
	return c->server_ended || PQstatus(c->conn) == CONNECTION_BAD;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct pgc *c = h->data;

	if (res_closing(c->d->r))
		return;
	/* An error is readiness: libpq finds the socket error itself. */
	if (status < 0)
		events = UV_READABLE | UV_WRITABLE;
	if (!c->connected)
		connect_step(c);
	else if (c->busy)
		io_step(c, events);
	else if (c->conn && idle_conn_ended(c)) {
		pgc_drop(c); /* idle connection closed by the server */
		if (c->idle_lost)
			c->idle_lost(c);
	}
}

static void on_timeout(uv_timer_t *t)
{
	struct pgc *c = t->data;

	fail(c, "%s: no answer within %u ms; connection dropped", c->label,
	     c->timeout_ms);
}

/* libpq hands an ErrorResponse that arrives while no query runs to the
 * notice receiver.  A FATAL one is the server ending this connection
 * (postmaster gone, pg_terminate_backend, shutdown): the socket itself
 * closes only once the backend has exited, 100 ms or more later. */
static void on_notice(void *arg, const PGresult *res)
{
	struct pgc *c = arg;
	const char *sev = PQresultErrorField(res,
					     PG_DIAG_SEVERITY_NONLOCALIZED);

	if (sev && (!strcmp(sev, "FATAL") || !strcmp(sev, "PANIC")))
		c->server_ended = true;
}

static int connect_now(struct pgc *c, char *err, size_t size)
{
	const struct pgd *d = c->d;
	const struct conf_pg *g = d->c;
	char port[8], app[CONF_NAME_MAX + 16], timeout[16];
	const char *kw[10], *val[10];
	int n = 0;

	snprintf(port, sizeof(port), "%u", g->port);
	snprintf(app, sizeof(app), "hapair-%s", c->label);
	snprintf(timeout, sizeof(timeout), "%u",
		 (c->timeout_ms + 999) / 1000 < 2 ? 2 :
		 (c->timeout_ms + 999) / 1000);
	kw[n] = "host", val[n++] = c->repl ?
		d->r->conf->nodes[d->expect_id - 1].ep.host : g->host;
	kw[n] = "port", val[n++] = port;
	kw[n] = "user", val[n++] = c->repl ? g->repl_user : g->user;
	if (c->repl ? d->repl_password[0] : d->password[0])
		kw[n] = "password", val[n++] = c->repl ? d->repl_password :
					       d->password;
	kw[n] = "dbname", val[n++] = g->database;
	kw[n] = "application_name", val[n++] = app;
	kw[n] = "connect_timeout", val[n++] = timeout;
	if (c->repl)
		kw[n] = "replication", val[n++] = "true";
	kw[n] = NULL, val[n] = NULL;
	c->conn = PQconnectStartParams(kw, val, 0);
	if (!c->conn || PQstatus(c->conn) == CONNECTION_BAD) {
		char why[HP_ERR_MAX];

		one_line(why, sizeof(why), c->conn ? PQerrorMessage(c->conn) :
			 "out of memory");
		snprintf(err, size, "%s: %s: connect: %s", d->where, c->label,
			 why);
		if (c->conn)
			PQfinish(c->conn);
		c->conn = NULL;
		return -1;
	}
	PQsetnonblocking(c->conn, 1);
	PQsetNoticeReceiver(c->conn, on_notice, c);
	c->connected = false;
	c->server_ended = false;
	return 0;
}

int pgc_query(struct pgc *c, const char *sql, pgc_cb cb, bool retry,
	      char *err, size_t size)
{
	if (c->busy) {
		snprintf(err, size, "%s: %s: a query is still running",
			 c->d->where, c->label);
		return -1;
	}
	if (!c->conn && !retry && mono_ms() < c->retry_at_ms) {
		snprintf(err, size, "%s: %s: waiting before reconnecting",
			 c->d->where, c->label);
		return -1;
	}
	snprintf(c->sql, sizeof(c->sql), "%s", sql);
	c->err[0] = '\0';
	c->cb = cb;
	c->busy = true;
	uv_timer_start(&c->timer, on_timeout, c->timeout_ms, 0);
	if (!c->conn) {
		if (connect_now(c, err, size)) {
			c->busy = false;
			uv_timer_stop(&c->timer);
			c->retry_at_ms = mono_ms() + c->backoff_ms;
			return -1;
		}
		/* libpq: behave as if PQconnectPoll said WRITING. */
		if (watch(c, UV_WRITABLE)) {
			snprintf(err, size, "%s: %s: connect: cannot watch "
				 "the socket", c->d->where, c->label);
			pgc_drop(c);
			return -1;
		}
		return 0;
	}
	send_now(c);
	return 0;
}

void pgc_init(struct pgd *d, struct pgc *c, const char *label,
	      uint32_t timeout_ms)
{
	c->d = d;
	c->label = label;
	c->poll_fd = -1;
	c->timeout_ms = timeout_ms;
	c->backoff_ms = PG_BACKOFF_MIN_MS;
	uv_timer_init(d->r->loop, &c->timer);
	c->timer.data = c;
}

void pgc_close(struct pgc *c)
{
	c->cb = NULL;
	pgc_drop(c);
	res_close_handle(c->d->r, (uv_handle_t *)&c->timer);
}

/* ---- child processes -------------------------------------------------- */

int pgx_run(struct pgd *d, const char *name, char *const argv[],
	    char *const env[], uint32_t timeout_ms, res_child_cb cb,
	    char *out, size_t size)
{
	/* stderr joins stdout in the one pipe: through sh's 2>&1. */
	char *args[PG_ARGV_MAX + 4] = { "/bin/sh", "-c",
					"exec \"$0\" \"$@\" 2>&1" };
	int n = 3;

	for (int i = 0; argv[i] && n < PG_ARGV_MAX + 3; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	return res_child_run(d->r, &d->x, d->where, name, args, env,
			     d->as_user && !d->as_agent, d->uid, d->gid,
			     timeout_ms, cb, out, size);
}

/* ---- the guard's fence ---------------------------------------------- */

/* Run argv as uid/gid, stdout+stderr into out, at most ms.  Returns the
 * exit status, or -1 (with out saying why). */
static int run_wait(char *const argv[], bool as_user, uid_t uid, gid_t gid,
		    uint32_t ms, char *out, size_t size)
{
	uint64_t deadline = mono_ms() + ms;
	size_t len = 0;
	int fds[2], status = -1;
	bool eof = false;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(out, size, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(out, size, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		setsid();
		if (as_user && (setgid(gid) < 0 || setuid(uid) < 0))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		int64_t left = (int64_t)(deadline - mono_ms());
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (left <= 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(out, size, "not done within %u ms; killed", ms);
			close(fds[0]);
			return -1;
		}
		if (eof) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };

			nanosleep(&ts, NULL);
			continue;
		}
		if (poll(&pfd, 1, left > 10 ? 10 : (int)left) > 0) {
			ssize_t n = read(fds[0], out + len, size - 1 - len);

			if (n <= 0)
				eof = true;
			else
				len += (size_t)n;
			out[len] = '\0';
			if (len + 1 >= size)
				eof = true;
		}
	}
	close(fds[0]);
	if (!WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* pg_ctl stop output when nothing runs: nothing to fence. */
static bool not_running(const char *out)
{
	return strstr(out, "Is server running?") ||
	       strstr(out, "does not exist");
}

int pg_fence_sync(const struct conf *conf, const struct conf_resource *cr,
		  uint8_t self_id, struct hp_err *err)
{
	const struct conf_pg *c = &cr->pg;
	char ctl[CONF_PATH_MAX + 16], secs[16], out[1024], line[512];
	char *argv[] = { ctl, "stop", "-D", (char *)c->data_dir, "-m", "fast",
			 "-w", "-t", secs, NULL };
	uint32_t ms = c->timeout_ms ? c->timeout_ms : 2000;
	bool as_user;
	uid_t uid = 0;
	gid_t gid = 0;
	int rc;

	(void)conf;
	(void)self_id;
	if (pg_os_user(c, &as_user, &uid, &gid, err))
		return -1;
	snprintf(ctl, sizeof(ctl), "%s/pg_ctl", c->bin_dir);
	snprintf(secs, sizeof(secs), "%u", (ms + 999) / 1000);
	rc = run_wait(argv, as_user, uid, gid, ms + 1000, out, sizeof(out));
	if (rc == 0 || (rc > 0 && not_running(out)))
		return 0;
	argv[5] = "immediate";
	rc = run_wait(argv, as_user, uid, gid, ms + 1000, out, sizeof(out));
	if (rc == 0 || (rc > 0 && not_running(out)))
		return 0;
	one_line(line, sizeof(line), out);
	return hp_errf(err, "postgresql %s (%s): pg_ctl stop -m fast and -m "
		       "immediate both failed, the server may still accept "
		       "writes: %s", cr->name, c->data_dir, line);
}

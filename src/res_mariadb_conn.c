/*
 * res_mariadb_conn.c - how the MariaDB resource talks to MariaDB
 * without blocking the agent's loop (see res_mariadb.c for what it
 * says).
 *
 * Connections: libmariadb's non-blocking API (MYSQL_OPT_NONBLOCK,
 * mysql_real_connect_start/_cont, mysql_real_query_start/_cont,
 * mysql_store_result_start/_cont) with a uv_poll_t on the socket
 * mysql_get_socket() names; the poll handle is closed (then freed)
 * before libmariadb closes the socket.  A timer bounds the connect and
 * each query.  A server error ends the query but keeps the connection;
 * a client error (lost, timed out) drops it, and monitoring reconnects
 * after a back-off.  An idle connection that becomes readable was
 * closed by the server (MariaDB sends nothing unasked): it is dropped
 * and idle_lost says so.  Every connection announces itself with the
 * connection attribute program_name = hapair-LABEL.
 *
 * Child processes (the start and clone script, mariadb-binlog) run
 * through uv_spawn in their own session with a timeout (SIGKILL), the
 * tail of their output kept for the message.  mariadbd itself is
 * started by md_script in the background: it outlives the script, and
 * the agent.
 *
 * The server is found by a /proc scan (comm mariadbd, working
 * directory = datadir: mariadbd changes into it), whatever pid file a
 * server started by someone else uses; the fence is SIGKILL to it
 * (res_mariadb.c says why not a shutdown).  The guard's fence_sync
 * kills and waits, bounded.
 */
#define _GNU_SOURCE

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <errmsg.h>

#include "res_mariadb_int.h"

enum { FENCE_POLL_MS = 10 };

/* ---- small helpers ---------------------------------------------------- */

void md_sql_escape(char *dst, size_t size, const char *s)
{
	size_t j = 0;

	for (; *s && j + 3 < size; s++) {
		if (*s == '\'' || *s == '\\')
			dst[j++] = '\\';
		dst[j++] = *s;
	}
	dst[j] = '\0';
}

bool md_gtid_seq(const char *list, uint32_t domain, uint64_t *seq)
{
	const char *p = list;

	while (p && *p) {
		unsigned long dom, srv;
		unsigned long long n;
		int used = 0;

		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (sscanf(p, "%lu-%lu-%llu%n", &dom, &srv, &n, &used) == 3 &&
		    dom == domain) {
			*seq = n;
			return true;
		}
		p = strchr(p, ',');
	}
	return false;
}

/* ---- connections ------------------------------------------------------ */

static void close_poll(struct mdc *c)
{
	res_close_poll(c->d->r, &c->poll);
	c->poll_fd = -1;
}

void mdc_drop(struct mdc *c)
{
	uv_timer_stop(&c->timer);
	close_poll(c); /* before libmariadb closes the socket */
	if (c->m)
		mysql_close(c->m);
	c->m = NULL;
	c->connected = false;
	c->busy = false;
	c->phase = MDC_IDLE;
	c->thread_id = 0;
}

void mdc_retry_now(struct mdc *c)
{
	c->retry_at_ms = 0;
	c->backoff_ms = MD_BACKOFF_MIN_MS;
}

/* The connect (or the connection) failed: drop, back off, tell. */
static void fail(struct mdc *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct mdc *c, const char *fmt, ...)
{
	char msg[HP_ERR_MAX], why[HP_ERR_MAX];
	bool busy = c->busy;
	mdc_cb cb = c->cb;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%.160s: %.300s", c->d->where, why);
	mdc_drop(c);
	c->retry_at_ms = mono_ms() + c->backoff_ms;
	c->backoff_ms = c->backoff_ms * 2 > MD_BACKOFF_MAX_MS ?
			MD_BACKOFF_MAX_MS : c->backoff_ms * 2;
	if (busy && cb)
		cb(c, NULL, msg);
}

static void on_poll(uv_poll_t *h, int status, int events);

/* Watch the connection's socket for events (UV_*). */
static int watch(struct mdc *c, int events)
{
	int fd = (int)mysql_get_socket(c->m);

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

/* libmariadb wants to wait (status: MYSQL_WAIT_*). */
static void wait_for(struct mdc *c, int status)
{
	int ev = 0;

	if (status & (MYSQL_WAIT_READ | MYSQL_WAIT_EXCEPT))
		ev |= UV_READABLE;
	if (status & MYSQL_WAIT_WRITE)
		ev |= UV_WRITABLE;
	if (!ev)
		ev = UV_READABLE; /* only a timeout: ours bounds it */
	if (watch(c, ev))
		fail(c, "%s: cannot watch the socket", c->label);
}

/* Server errors end the query; client errors (2000-2999) the
 * connection. */
static bool client_error(MYSQL *m)
{
	unsigned e = mysql_errno(m);

	return e >= CR_MIN_ERROR && e <= CR_MAX_ERROR;
}

static void finish(struct mdc *c, MYSQL_RES *res, const char *err)
{
	mdc_cb cb = c->cb;

	uv_timer_stop(&c->timer);
	c->busy = false;
	c->phase = MDC_IDLE;
	if (cb)
		cb(c, res, err);
	/* Freed before any drop: a result may point at its handle. */
	if (res)
		mysql_free_result(res);
	/* Idle: readable means the server closed the connection.  (The
	 * callback may have sent the next query, or dropped c.) */
	if (c->m && !c->busy && watch(c, UV_READABLE))
		mdc_drop(c);
}

static void query_error(struct mdc *c)
{
	char msg[HP_ERR_MAX];

	if (client_error(c->m)) {
		fail(c, "%s: %.60s: %s", c->label, c->sql, mysql_error(c->m));
		return;
	}
	snprintf(msg, sizeof(msg), "%.160s: %.60s: %.280s", c->d->where,
		 c->sql, mysql_error(c->m));
	finish(c, NULL, msg);
}

static void store_step(struct mdc *c, int ready)
{
	MYSQL_RES *res = NULL;
	int st;

	st = ready ? mysql_store_result_cont(&res, c->m, ready) :
	     mysql_store_result_start(&res, c->m);
	if (st) {
		wait_for(c, st);
		return;
	}
	if (!res && mysql_field_count(c->m) != 0) {
		query_error(c);
		return;
	}
	finish(c, res, NULL);
}

static void query_step(struct mdc *c, int ready)
{
	int rc = 0, st;

	st = ready ? mysql_real_query_cont(&rc, c->m, ready) :
	     mysql_real_query_start(&rc, c->m, c->sql, strlen(c->sql));
	if (st) {
		wait_for(c, st);
		return;
	}
	if (rc) {
		query_error(c);
		return;
	}
	c->phase = MDC_STORE;
	store_step(c, 0);
}

static void connect_step(struct mdc *c, int ready)
{
	const struct mdd *d = c->d;
	const struct conf_mariadb *g = d->c;
	MYSQL *ret = NULL;
	int st;

	if (ready)
		st = mysql_real_connect_cont(&ret, c->m, ready);
	else if (c->remote)
		st = mysql_real_connect_start(&ret, c->m,
			d->r->conf->nodes[d->primary_id - 1].ep.host,
			g->repl_user, d->repl_password[0] ? d->repl_password :
			NULL, NULL, g->port, NULL, 0);
	else
		st = mysql_real_connect_start(&ret, c->m, "localhost", g->user,
			d->password[0] ? d->password : NULL, NULL, 0,
			g->socket, 0);
	if (st) {
		wait_for(c, st);
		return;
	}
	if (!ret) {
		fail(c, "%s: connect to %s as %s: %s", c->label, c->remote ?
		     d->r->conf->nodes[d->primary_id - 1].ep.host : g->socket,
		     c->remote ? g->repl_user : g->user, mysql_error(c->m));
		return;
	}
	c->connected = true;
	c->backoff_ms = MD_BACKOFF_MIN_MS;
	c->thread_id = mysql_thread_id(c->m);
	if (!c->sql[0]) {
		finish(c, NULL, NULL);
		return;
	}
	c->phase = MDC_QUERY;
	query_step(c, 0);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct mdc *c = h->data;
	int ready = 0;

	if (res_closing(c->d->r))
		return;
	/* An error is readiness: libmariadb finds the socket error. */
	if (status < 0)
		events = UV_READABLE | UV_WRITABLE;
	if (events & UV_READABLE)
		ready |= MYSQL_WAIT_READ;
	if (events & UV_WRITABLE)
		ready |= MYSQL_WAIT_WRITE;
	switch (c->phase) {
	case MDC_CONNECT:
		connect_step(c, ready);
		return;
	case MDC_QUERY:
		query_step(c, ready);
		return;
	case MDC_STORE:
		store_step(c, ready);
		return;
	case MDC_IDLE:
		mdc_drop(c); /* idle connection closed by the server */
		if (c->idle_lost)
			c->idle_lost(c);
		return;
	}
}

static void on_timeout(uv_timer_t *t)
{
	struct mdc *c = t->data;

	fail(c, "%s: no answer within %u ms; connection dropped", c->label,
	     c->timeout_ms);
}

static int connect_now(struct mdc *c, char *err, size_t size)
{
	char prog[CONF_NAME_MAX + 16];
	unsigned secs = (c->timeout_ms + 999) / 1000 < 2 ? 2 :
			(c->timeout_ms + 999) / 1000;
	unsigned proto = c->remote ? MYSQL_PROTOCOL_TCP :
			 MYSQL_PROTOCOL_SOCKET;

	c->m = mysql_init(NULL);
	if (!c->m) {
		snprintf(err, size, "%s: %s: connect: out of memory",
			 c->d->where, c->label);
		return -1;
	}
	snprintf(prog, sizeof(prog), "hapair-%s", c->label);
	mysql_options(c->m, MYSQL_OPT_NONBLOCK, 0);
	mysql_options(c->m, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
	mysql_options(c->m, MYSQL_OPT_PROTOCOL, &proto);
	mysql_optionsv(c->m, MYSQL_OPT_CONNECT_ATTR_ADD, "program_name", prog);
	c->connected = false;
	c->phase = MDC_CONNECT;
	return 0;
}

int mdc_query(struct mdc *c, const char *sql, mdc_cb cb, bool retry,
	      char *err, size_t size)
{
	if (c->busy) {
		snprintf(err, size, "%s: %s: a query is still running",
			 c->d->where, c->label);
		return -1;
	}
	if (!c->m && !retry && mono_ms() < c->retry_at_ms) {
		snprintf(err, size, "%s: %s: waiting before reconnecting",
			 c->d->where, c->label);
		return -1;
	}
	snprintf(c->sql, sizeof(c->sql), "%s", sql);
	c->cb = cb;
	c->busy = true;
	uv_timer_start(&c->timer, on_timeout, c->timeout_ms, 0);
	if (!c->m) {
		if (connect_now(c, err, size)) {
			c->busy = false;
			uv_timer_stop(&c->timer);
			c->retry_at_ms = mono_ms() + c->backoff_ms;
			return -1;
		}
		connect_step(c, 0);
		return 0;
	}
	if (!sql[0]) {
		finish(c, NULL, NULL);
		return 0;
	}
	c->phase = MDC_QUERY;
	query_step(c, 0);
	return 0;
}

void mdc_init(struct mdd *d, struct mdc *c, const char *label,
	      uint32_t timeout_ms)
{
	c->d = d;
	c->label = label;
	c->poll_fd = -1;
	c->timeout_ms = timeout_ms;
	c->backoff_ms = MD_BACKOFF_MIN_MS;
	uv_timer_init(d->r->loop, &c->timer);
	c->timer.data = c;
}

void mdc_close(struct mdc *c)
{
	c->cb = NULL;
	c->idle_lost = NULL;
	mdc_drop(c);
	res_close_handle(c->d->r, (uv_handle_t *)&c->timer);
}

/* ---- the server process ----------------------------------------------- */

static bool is_server(const char *pid, const char *datadir)
{
	char path[300], buf[PATH_MAX], comm[32] = "";
	FILE *f;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	if (strcmp(comm, "mariadbd") && strcmp(comm, "mysqld"))
		return false;
	snprintf(path, sizeof(path), "/proc/%s/cwd", pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false; /* a zombie: holds nothing any more */
	buf[n] = '\0';
	return !strcmp(buf, datadir);
}

int md_find_server(const char *datadir, pid_t *pids, int max)
{
	char real[PATH_MAX];
	struct dirent *e;
	DIR *dir;
	int n = 0;

	if (!realpath(datadir, real))
		return 0; /* no datadir: no server on it */
	dir = opendir("/proc");
	if (!dir)
		return 0;
	while ((e = readdir(dir)) && n < max) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (is_server(e->d_name, real))
			pids[n++] = (pid_t)strtol(e->d_name, NULL, 10);
	}
	closedir(dir);
	return n;
}

int md_kill_server(const char *datadir)
{
	pid_t pids[MD_PIDS_MAX];
	int n = md_find_server(datadir, pids, MD_PIDS_MAX);

	for (int i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	return n;
}

int md_fence_sync(const struct conf *conf, const struct conf_resource *cr,
		  uint8_t self_id, struct hp_err *err)
{
	const struct conf_mariadb *c = &cr->mdb;
	uint32_t ms = c->timeout_ms ? c->timeout_ms : 2000;
	uint64_t deadline = mono_ms() + ms;
	pid_t pids[MD_PIDS_MAX];
	int n;

	(void)conf;
	(void)self_id;
	for (;;) {
		n = md_find_server(c->datadir, pids, MD_PIDS_MAX);
		if (!n)
			return 0;
		for (int i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		if (mono_ms() >= deadline)
			break;
		struct timespec ts = { 0, FENCE_POLL_MS * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	return hp_errf(err, "mariadb %s (%s): mariadbd (pid %d) still runs "
		       "%u ms after SIGKILL; it may still accept writes",
		       cr->name, c->datadir, (int)pids[0], ms);
}

/* ---- the start and clone script --------------------------------------- */

/*
 * md_script MODE MARIADBD DEFAULTS_FILE DATADIR SOCKET PORT LOG_FILE
 *           OS_USER SECONDS PRIMARY_HOST USER
 * (run as "bash -c md_script hapair-mariadb MODE ...", password of USER
 * in HP_PW).
 *   start: start mariadbd in the background, read-only and as a
 *          replica (--init-rpl-role=SLAVE with semi-sync slave on:
 *          crash recovery then truncates binlog transactions no
 *          standby acknowledged, MDEV-21117; not with HP_RECOVER=keep
 *          in the environment: then it commits them, see alone_mark
 *          in res_mariadb.c), and wait until it answers ping on its
 *          socket; then print the error log's line on the binlog
 *          transactions that recovery removed, if any.  If it exits,
 *          say why from the tail of its error log.
 *   clone: datadir must hold no database (no mysql/): mariadb-install-db,
 *          start as above, then mariadb-dump from the primary
 *          (--master-data=1 --gtid: it sets gtid_slave_pos) into the
 *          local server without binary logging (the imported rows are
 *          the primary's transactions, not new ones of this node).
 */
const char md_script[] =
	"exec 2>&1; set -u -o pipefail\n"
	"mode=$1 bin=$2 df=$3 dd=$4 sock=$5 port=$6 log=$7 osu=$8 secs=$9\n"
	"host=${10} user=${11}\n"
	"root=0; [ \"$(id -u)\" = 0 ] && root=1\n"
	"defaults() { if [ -n \"$df\" ]; then printf -- '--defaults-file=%s' "
	"\"$df\"; else printf -- '--no-defaults'; fi; }\n"
	"start() {\n"
	"  set -- \"$(defaults)\" --datadir=\"$dd\" --socket=\"$sock\" "
	"--port=\"$port\" --pid-file=\"$dd/hapair-mariadbd.pid\" "
	"--log-error=\"$log\" --read-only=ON --skip-slave-start\n"
	"  [ \"${HP_RECOVER:-}\" = keep ] || set -- \"$@\" "
	"--init-rpl-role=SLAVE --rpl-semi-sync-slave-enabled=ON\n"
	"  [ $root = 1 ] && set -- \"$@\" --user=\"$osu\"\n"
	"  for dir in \"${log%/*}\" \"${sock%/*}\"; do\n"
	"    if [ ! -d \"$dir\" ]; then mkdir -p \"$dir\" && "
	"{ [ $root = 0 ] || chown \"$osu\" \"$dir\"; }; fi\n"
	"  done\n"
	"  sz=$(stat -c %s \"$log\" 2>/dev/null || echo 0)\n"
	"  \"$bin\" \"$@\" </dev/null >/dev/null 2>&1 &\n"
	"  pid=$!; n=0\n"
	"  while [ $n -lt $((secs * 10)) ]; do\n"
	"    if ! kill -0 $pid 2>/dev/null; then\n"
	"      echo \"mariadbd exited during its start; the end of $log:\"\n"
	"      tail -n 5 \"$log\" 2>/dev/null; return 1\n"
	"    fi\n"
	"    mariadb-admin --no-defaults --protocol=socket -S \"$sock\" "
	"--connect-timeout=1 ping >/dev/null 2>&1 && {\n"
	"      tail -c +$((sz + 1)) \"$log\" 2>/dev/null | grep -o "
	"'remove transactions starting from GTID [0-9]*-[0-9]*-[0-9]*' "
	"| tail -n 1; return 0; }\n"
	"    sleep 0.1; n=$((n + 1))\n"
	"  done\n"
	"  echo \"mariadbd did not answer on $sock within $secs s (see $log)\"\n"
	"  return 1\n"
	"}\n"
	"clone() {\n"
	"  if [ -d \"$dd/mysql\" ]; then\n"
	"    echo \"datadir $dd already holds a database; not cloning over "
	"it\"; return 1\n"
	"  fi\n"
	"  mkdir -p \"$dd\" || return 1\n"
	"  [ $root = 0 ] || chown \"$osu\": \"$dd\" || return 1\n"
	"  mariadb-install-db \"$(defaults)\" --datadir=\"$dd\" "
	"--user=\"$osu\" --auth-root-authentication-method=socket "
	"--skip-test-db >/dev/null 2>&1 || { echo \"mariadb-install-db "
	"--datadir=$dd failed\"; return 1; }\n"
	"  start || return 1\n"
	"  MYSQL_PWD=${HP_PW:-} mariadb-dump --no-defaults -h \"$host\" "
	"-P \"$port\" -u \"$user\" --all-databases --master-data=1 --gtid "
	"--single-transaction --routines --events --triggers "
	"--flush-privileges --ignore-table=mysql.gtid_slave_pos | "
	"mariadb --no-defaults --protocol=socket -S \"$sock\" -u root "
	"--init-command='SET sql_log_bin = 0' || { echo \"mariadb-dump "
	"from $host:$port as $user into $sock failed\"; return 1; }\n"
	"}\n"
	"case $mode in start) start;; clone) clone;; *) exit 2;; esac\n";

void md_script_argv(const struct conf_mariadb *c, const char *mode,
		    const char *host, char *argv[], char bufs[][32])
{
	int n = 0;

	snprintf(bufs[0], 32, "%u", c->port);
	snprintf(bufs[1], 32, "%u", (c->action_timeout_ms + 999) / 1000);
	argv[n++] = "/bin/bash";
	argv[n++] = "-c";
	argv[n++] = (char *)md_script;
	argv[n++] = "hapair-mariadb";
	argv[n++] = (char *)mode;
	argv[n++] = (char *)c->mariadbd;
	argv[n++] = (char *)c->defaults_file;
	argv[n++] = (char *)c->datadir;
	argv[n++] = (char *)c->socket;
	argv[n++] = bufs[0];
	argv[n++] = (char *)c->log_file;
	argv[n++] = (char *)c->os_user;
	argv[n++] = bufs[1];
	argv[n++] = (char *)(host ? host : "");
	argv[n++] = (char *)c->user;
	argv[n] = NULL;
}
